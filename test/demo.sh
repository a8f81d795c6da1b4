#!/usr/bin/env bash
# The demo (make demo runs it inside a throwaway pg_virtualenv cluster; DEMO_KEEP=1 test/run.sh
# demo runs it in a cluster that stays, see test/demo_keep.sh): a fresh database with the sample
# retail dataset (cxkpi.generate_sample_data, scale DEMO_SCALE, default 1), the dashboard
# refreshed, the 2025 scorecard with flags and red / yellow / off target / green status (coloured
# when stdout is a terminal), the open alerts when the alerting views exist, the churn watch list
# and the win-back list, and how to connect with psql or a BI tool.  Uses the PG* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${DEMO_DB:-cxkpi_demo}
scale=${DEMO_SCALE:-1}
color=off
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then color=on; fi
start=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
     -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Statuses in colour on a terminal: the last column of the scorecard, the first of the alerts
# (psql prints control characters escaped, so the colours are added afterwards).
colorize() {
  if [ "$color" = on ]; then
    local r=$'\033[1;31m' y=$'\033[1;33m' g=$'\033[1;32m' o=$'\033[1;35m' d=$'\033[2m' n=$'\033[0m'
    sed -E -e "s/\| red( *)$/| ${r}red${n}\1/; s/\| yellow( *)$/| ${y}yellow${n}\1/; s/\| green( *)$/| ${g}green${n}\1/" \
           -e "s/\| off target( *)$/| ${o}off target${n}\1/" \
           -e "s/\| (no target|insufficient data)( *)$/| ${d}\1${n}\2/" \
           -e "s/^ red( +)\|/ ${r}red${n}\1|/; s/^ yellow( +)\|/ ${y}yellow${n}\1|/"
  else
    cat
  fi
}
psql -X -v ON_ERROR_STOP=1 -P pager=off -v scale="$scale" -d "$db" -f test/demo.sql | colorize

# A login role for BI tools, made the documented way (docs/bi.md#a-bi-login): member of the
# read-only cxkpi_reader role, with search_path cxkpi_bi and a statement timeout on the login.
bi_password=${DEMO_BI_PASSWORD:-cxkpi-demo}
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v pw="$bi_password" <<'SQL'
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cxkpi_bi') AS create_bi \gset
\if :create_bi
CALL cxkpi.create_bi_login('cxkpi_bi', :'pw');
\else
ALTER ROLE cxkpi_bi PASSWORD :'pw';
CALL cxkpi.prepare_bi_login('cxkpi_bi');
\endif
SQL

port=$(psql -X -At -d "$db" -c "SHOW port")
cat <<INFO

Demo ready in $(( $(date +%s) - start )) s.  Connect with psql:
    psql -h ${PGHOST:-localhost} -p $port -U ${PGUSER:-postgres} $db
    SELECT * FROM cxkpi.kpi_scorecard;        -- then kpi_timeseries, kpi_monthly_report, kpi_returns ...
or with a BI tool (Metabase, Grafana, Superset, Power BI): PostgreSQL, host localhost, port $port,
database $db, user cxkpi_bi, password $bi_password (read-only: role cxkpi_reader, schema cxkpi_bi;
docs/bi.md for each tool).
INFO
if [ -n "${DEMO_TEMPORARY:-}" ]; then
  cat <<INFO
This cluster is temporary (pg_virtualenv) and is removed when the demo ends.  To keep one to
explore, run  DEMO_KEEP=1 test/run.sh demo  (a Debian cluster "cxkpi_demo" that stays; remove it
with  pg_dropcluster --stop NN cxkpi_demo, NN the PostgreSQL version).
INFO
fi
