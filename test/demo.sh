#!/usr/bin/env bash
# The demo: a small generated survey dataset in a fresh database of the cluster named by the
# PG* variables (make demo runs it inside pg_virtualenv), and NPS, CSAT and CES by channel
# with their 95 % confidence intervals; then CLV models fitted on simulated customers.
set -euo pipefail
cd "$(dirname "$0")/.."
db=cxkpi_demo
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
     -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d $db -f test/demo.sql
