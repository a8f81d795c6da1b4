#!/usr/bin/env bash
# pgTAP suites (test/tap/*.sql, by pg_prove) and shell checks (test/shell/*.sh, by prove),
# against fresh databases of the cluster named by the PG* variables: cxkpi_tap, empty, for most
# suites; cxkpi_sample, with the sample data of the README's tour (test/sample_db.sh, made once),
# for the suites named *_sample* and for the documentation examples (test/shell/doctest.sh).
# Progress notices (cxkpi.generate_sample_data, cxkpi.refresh_dashboard) are silenced: the
# client_min_messages = warning of PGOPTIONS (tests that check them set their own).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
db=cxkpi_tap
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION cxkpi" \
     -f test/tap_setup.sql
test/sample_db.sh --recreate cxkpi_sample
psql -X -q -v ON_ERROR_STOP=1 -d cxkpi_sample -c "CREATE EXTENSION pgtap" -f test/tap_setup.sql
status=0
empty=(); sample=()
for f in test/tap/*.sql; do
  case "$f" in *_sample*) sample+=("$f") ;; *) empty+=("$f") ;; esac
done
pg_prove --timer -d $db "${empty[@]}" || status=1
pg_prove --timer -d cxkpi_sample "${sample[@]}" || status=1
if compgen -G "test/shell/*.sh" >/dev/null; then
  DOCTEST_DB=cxkpi_sample prove --timer --exec bash test/shell/*.sh || status=1
fi
exit $status
