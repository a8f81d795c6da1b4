#!/usr/bin/env bash
# pgTAP suites (test/tap/*.sql, by pg_prove) and shell checks (test/shell/*.sh, by prove),
# each against a fresh database of the cluster named by the PG* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
db=cxkpi_tap
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION cxkpi" \
     -f test/tap_setup.sql
status=0
pg_prove -d $db test/tap/*.sql || status=1
if compgen -G "test/shell/*.sh" >/dev/null; then
  prove --exec bash test/shell/*.sh || status=1
fi
exit $status
