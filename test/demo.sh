#!/usr/bin/env bash
# The demo (make demo runs it inside a throwaway pg_virtualenv cluster, DEMO_TEMPORARY=1; DEMO_KEEP=1
# test/run.sh demo runs it in a cluster that stays, see test/demo_keep.sh): a fresh database with
# the sample retail dataset (cxkpi.generate_sample_data, scale DEMO_SCALE, default 1) and the
# progress of each stage, the dashboard refreshed, the 2025 scorecard with flags and red / yellow /
# off target / green status (coloured when stdout is a terminal), the open alerts when the
# alerting views exist, the churn watch list and the win-back list, the interventions, the ticket
# forecasts by channel for the next weeks, each KPI with a target projected to the end of the week
# (on course / off course, coloured likewise), and how to connect with psql
# or a BI tool (for a cluster that stays; a temporary one is gone when the demo ends).  Uses the
# PG* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${DEMO_DB:-cxkpi_demo}
scale=${DEMO_SCALE:-1}
color=off
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then color=on; fi
start=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
     -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Statuses in colour on a terminal: the last column of the scorecard and of the projection, the first of the alerts
# (psql prints control characters escaped, so the colours are added afterwards).
colorize() {
  if [ "$color" = on ]; then
    local r=$'\033[1;31m' y=$'\033[1;33m' g=$'\033[1;32m' o=$'\033[1;35m' d=$'\033[2m' n=$'\033[0m'
    sed -u -E -e "s/\| red( *)$/| ${r}red${n}\1/; s/\| yellow( *)$/| ${y}yellow${n}\1/; s/\| green( *)$/| ${g}green${n}\1/" \
           -e "s/\| off target( *)$/| ${o}off target${n}\1/" \
           -e "s/\| (no target|insufficient data)( *)$/| ${d}\1${n}\2/" \
           -e "s/^ red( +)\|/ ${r}red${n}\1|/; s/^ yellow( +)\|/ ${y}yellow${n}\1|/" \
           -e "s/\| on course( *)$/| ${g}on course${n}\1/; s/\| off course( *)$/| ${o}off course${n}\1/"
  else
    cat
  fi
}
# The progress notices (stderr) in order with the output: one stream, psql's stdout line-buffered;
# "psql:test/demo.sql:27: NOTICE:  cxkpi: orders: 139,625 rows (9.8 s)" shown as
# "  cxkpi: orders: 139,625 rows (9.8 s)".
progress() { sed -u -E 's/^(psql:[^ ]*: )?NOTICE:  (cxkpi: )/  \2/'; }
linebuf=(); if command -v stdbuf >/dev/null; then linebuf=(stdbuf -oL); fi
"${linebuf[@]}" psql -X -v ON_ERROR_STOP=1 -P pager=off -v scale="$scale" -d "$db" -f test/demo.sql 2>&1 | progress | colorize

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

# The dashboard page (docs/dashboard.md#the-dashboard-page): the one-liner that works on any
# database with cxkpi, here as the administrator; a BI login writes the same.
page=${DEMO_PAGE:-tmp_check/demo/dashboard.html}
mkdir -p "$(dirname "$page")"
psql -X -At -d "$db" -c 'SELECT cxkpi_bi.dashboard_page()' > "$page"
page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
cat <<INFO

The dashboard as a page: $page ($(( $(wc -c < "$page") / 1024 )) kB, self-contained: open it in a browser).
On any database with cxkpi:  psql -X -At -c 'SELECT cxkpi_bi.dashboard_page()' > dashboard.html
INFO

port=$(psql -X -At -d "$db" -c "SHOW port")
major=$(psql -X -At -d "$db" -c "SELECT current_setting('server_version_num')::integer / 10000")
if [ -n "${DEMO_TEMPORARY:-}" ]; then
  # pg_virtualenv removes the cluster as soon as this script ends: nothing to connect to.
  cat <<INFO

Demo done in $(( $(date +%s) - start )) s, scale $scale.  Its cluster was temporary (pg_virtualenv) and is removed now.
To explore the data with psql or a BI tool, run  DEMO_KEEP=1 test/run.sh demo : the same demo in a
Debian cluster "cxkpi_demo" (port 5499) that stays, with a read-only BI login; remove it with
pg_dropcluster --stop $major cxkpi_demo.
INFO
else
  cat <<INFO

Demo ready in $(( $(date +%s) - start )) s, scale $scale.  Connect with psql:
    psql -h ${PGHOST:-localhost} -p $port -U ${PGUSER:-postgres} $db
    SELECT * FROM cxkpi.kpi_scorecard;        -- then kpi_timeseries, kpi_monthly_report, kpi_returns ...
or with a BI tool (Metabase, Grafana, Superset, Power BI): PostgreSQL, host localhost, port $port,
database $db, user cxkpi_bi, password $bi_password (read-only: role cxkpi_reader, schema cxkpi_bi;
docs/bi.md for each tool).  A ready Grafana dashboard: contrib/grafana/cxkpi.json
(docs/dashboard.md#grafana-dashboard).
INFO
fi
