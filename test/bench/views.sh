#!/usr/bin/env bash
# cxkpi reader-view benchmark (issue 13 part 6; a benchmark, not a test: a missed target is
# reported, not failed).  On the sample data at BENCH_VIEWS_SCALE (default 10: ~260k customers,
# ~1.4M orders, ~7M sessions; test/sample_db.sh's recipe: seed 42, dashboard refreshed, alerts
# evaluated), it times
#   - every view of schema cxkpi_bi read in full (SELECT *): target under 1 s server-side;
#   - the filtered queries BI tools send (a KPI over a time range, one dimension value, one
#     grain and period): target under 50 ms each.
# Server-side time: planning + execution as EXPLAIN (ANALYZE, TIMING OFF) reports it, every
# output column computed; the median of BENCH_VIEWS_RUNS runs (default 5) after one warm-up.
# The database BENCH_VIEWS_DB (default cxkpi_bench_views_<scale>) is made once and kept
# (BENCH_VIEWS_RECREATE=1 makes it again): generating scale 10 takes 3-4 minutes on 2 cores.
#   make bench-views            in a throwaway cluster (pg_virtualenv)
#   test/bench/views.sh         against the cluster named by the PG* variables
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
scale=${BENCH_VIEWS_SCALE:-10}
runs=${BENCH_VIEWS_RUNS:-5}
db=${BENCH_VIEWS_DB:-cxkpi_bench_views_${scale//./_}}
[[ $scale =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "BENCH_VIEWS_SCALE must be a number" >&2; exit 2; }
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "BENCH_VIEWS_RUNS must be a positive integer" >&2; exit 2; }
mkdir -p test/bench/out
q() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

row() {  # what, rows, ms, target ms
  local met=met; awk -v m="$3" -v t="$4" 'BEGIN {exit !(m + 0 < t + 0)}' || met="MISSED"
  printf '| %s | %s | %s ms | < %s ms: %s |\n' "$1" "$2" "$3" "$4" "$met"
}

{
echo "== cxkpi reader-view benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cxkpi:   work tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?'); PostgreSQL $(q -d postgres -c 'SHOW server_version' 2>/dev/null || psql -X -At -d postgres -c 'SHOW server_version')"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM; load $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
bench_sample_db "$db" "$scale" "${BENCH_VIEWS_RECREATE:-0}"
echo "data:    $(q -c "SELECT format('scale %s: %s customers, %s orders, %s sessions, %s survey answers; %s rows in kpi_values (%s), %s customers scored',
                $scale, (SELECT count(*) FROM cxkpi.customers), (SELECT count(*) FROM cxkpi.orders),
                (SELECT count(*) FROM cxkpi.web_sessions), (SELECT count(*) FROM cxkpi.survey_responses),
                (SELECT count(*) FROM cxkpi.kpi_values), pg_size_pretty(pg_total_relation_size('cxkpi.kpi_values')),
                (SELECT count(*) FROM cxkpi.customer_scores))")"
echo "runs:    median of $runs after a warm-up; planning + execution, server-side"
echo
echo "Every view of cxkpi_bi read in full (SELECT *):"
echo
echo "| View | Rows | Median | Target |"
echo "|---|---|---|---|"
for v in $(q -c "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'cxkpi_bi' AND c.relkind = 'v' ORDER BY 1"); do
  row "\`$v\`" "$(q -c "SELECT count(*) FROM cxkpi_bi.$v")" "$(bench_server_ms "SELECT * FROM cxkpi_bi.$v" "$runs")" 1000
done
echo
echo "Filtered queries as BI tools send them:"
echo
echo "| Query | Rows | Median | Target |"
echo "|---|---|---|---|"
while IFS='|' read -r what sql; do
  [ -n "$what" ] || continue
  row "$what" "$(q -c "SELECT count(*) FROM ($sql) AS s")" "$(bench_server_ms "$sql" "$runs")" 50
done <<'QUERIES'
the scorecard|SELECT * FROM cxkpi_bi.kpi_scorecard
the scorecard, red and yellow first|SELECT * FROM cxkpi_bi.kpi_scorecard WHERE flag IS NOT NULL ORDER BY status_rank
one KPI by week, a year (trend)|SELECT * FROM cxkpi_bi.kpi_trend WHERE kpi = 'nps' AND grain = 'week' AND period_start >= '2025-01-01'
one KPI and dimension by month (trend)|SELECT * FROM cxkpi_bi.kpi_trend WHERE kpi = 'csat' AND dimension = 'app' AND grain = 'month'
one dimension value, every KPI (trend)|SELECT * FROM cxkpi_bi.kpi_trend WHERE dimension = 'web'
one metric, six months of days (Grafana)|SELECT "time", value FROM cxkpi_bi.kpi_timeseries WHERE metric = 'nps' AND grain = 'day' AND "time" >= '2025-07-01' AND "time" < '2026-01-01'
one metric over a period_start range|SELECT * FROM cxkpi_bi.kpi_timeseries WHERE metric = 'conversion_rate' AND period_start BETWEEN '2025-01-01' AND '2025-06-30'
a month of days, every KPI|SELECT * FROM cxkpi_bi.kpi_timeseries WHERE grain = 'day' AND period_start >= '2025-12-01'
the monthly report of one month|SELECT * FROM cxkpi_bi.kpi_monthly_report WHERE period_start = '2025-12-01'
one section by month, one channel|SELECT * FROM cxkpi_bi.kpi_satisfaction WHERE grain = 'month' AND dimension = 'web'
returns by month, 2025|SELECT * FROM cxkpi_bi.kpi_returns WHERE grain = 'month' AND period_start >= '2025-01-01'
the churn watch list, top 50|SELECT * FROM cxkpi_bi.churn_watch_list ORDER BY watch_rank LIMIT 50
customer value of one acquisition channel|SELECT * FROM cxkpi_bi.customer_value WHERE acquisition_channel = 'email' ORDER BY value_at_stake_52w_currency DESC NULLS LAST LIMIT 100
QUERIES
} 2>&1 | tee "test/bench/out/views_${scale//./_}.txt"
