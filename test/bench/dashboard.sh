#!/usr/bin/env bash
# cxkpi dashboard benchmark (a benchmark, not a test: a missed target is reported, not failed).
# Loads two years of data into the cxkpi data model (test/bench/dashboard_data.sql,
# BENCH_DASH_CUSTOMERS customers, default 100000: ~600k orders, ~300k survey answers, 1M
# sessions, 200k carts, 100k tickets), then times:
#   - the full rebuild, CALL cxkpi.rebuild_dashboard(false), and the concurrent one (the
#     incremental refresh: test/bench/incremental.sh);
#   - the scorecard, a month of daily timeseries (every KPI), a Grafana panel (one KPI, a year
#     of days), the monthly report of one month and the gap view: target < 50 ms each;
#   - for comparison, five scorecard KPIs of one month and its year-ago month computed from the
#     raw tables in plain SQL (the ratio says what the rollups save).
# Every query: BENCH_DASH_RUNS timed runs (default 15) after one warm-up; the median of the
# planning + execution time that EXPLAIN ANALYZE reports.  BENCH_DASH_REFRESH_RUNS (3) refreshes.
#   make bench-dashboard       in a throwaway cluster (pg_virtualenv)
#   test/bench/dashboard.sh    against the cluster named by the PG* variables
set -euo pipefail
cd "$(dirname "$0")/../.."
customers=${BENCH_DASH_CUSTOMERS:-100000}
runs=${BENCH_DASH_RUNS:-15}
refresh_runs=${BENCH_DASH_REFRESH_RUNS:-3}
db=${BENCH_DASH_DB:-cxkpi_bench_dashboard}
[[ $customers =~ ^[0-9]+$ && $customers -ge 100 ]] || { echo "BENCH_DASH_CUSTOMERS must be an integer >= 100" >&2; exit 2; }
mkdir -p test/bench/out
q() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

{
echo "== cxkpi dashboard benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cxkpi:   work tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION cxkpi"
t0=$(date +%s.%N)
q -v customers="$customers" -f test/bench/dashboard_data.sql
t1=$(date +%s.%N)
q -At -c "SELECT format('data:    %s customers, %s orders, %s returns, %s survey answers, %s sessions, %s carts, %s tickets, %s ratings, %s observations, 2024-01-01 to 2025-12-31 (loaded in %s s)',
             (SELECT count(*) FROM cxkpi.customers), (SELECT count(*) FROM cxkpi.orders), (SELECT count(*) FROM cxkpi.order_returns),
             (SELECT count(*) FROM cxkpi.survey_responses), (SELECT count(*) FROM cxkpi.web_sessions), (SELECT count(*) FROM cxkpi.carts),
             (SELECT count(*) FROM cxkpi.support_tickets), (SELECT count(*) FROM cxkpi.app_ratings), (SELECT count(*) FROM cxkpi.metric_observations),
             round(($t1 - $t0)::numeric, 1))"
q -c "UPDATE cxkpi.settings SET value = '2025-12-01' WHERE key = 'as_of'" -c "CALL cxkpi.refresh_dashboard(false)" -c "VACUUM ANALYZE"

echo
echo "== refresh ($refresh_runs runs each, median)"
for mode in false true; do
  times=()
  for _ in $(seq 1 "$refresh_runs"); do
    s=$(date +%s.%N); q -c "CALL cxkpi.rebuild_dashboard($mode)"; e=$(date +%s.%N)
    times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')")
  done
  med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  printf 'CALL cxkpi.rebuild_dashboard(%-6s median %6.2f s   runs: %s\n' "$mode)" "$med" "${times[*]}"
done
q -At -c "SELECT format('rollups: %s KPI rows in cxkpi.kpi_values (%s), daily matviews %s',
             (SELECT count(*) FROM cxkpi.kpi_values), pg_size_pretty(pg_total_relation_size('cxkpi.kpi_values')),
             (SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'cxkpi' AND c.relkind = 'm' AND c.relname LIKE 'daily%'))"

echo
echo "== queries ($runs runs + 1 warm-up each; median of planning + execution, EXPLAIN ANALYZE)"
q -At -F ' ' <<SQL
CREATE FUNCTION pg_temp.ms(q text) RETURNS double precision LANGUAGE plpgsql AS \$\$
DECLARE p jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) ' || q INTO p;
    RETURN (p -> 0 ->> 'Planning Time')::float8 + (p -> 0 ->> 'Execution Time')::float8;
END \$\$;
CREATE TEMP TABLE bq (id int, label text, target_ms float8, sql text);
INSERT INTO bq VALUES
 (1, 'scorecard (all KPIs and breakdowns)', 50, 'SELECT * FROM cxkpi.kpi_scorecard'),
 (2, 'timeseries: a month of days, every KPI', 50, \$q\$SELECT * FROM cxkpi.kpi_timeseries WHERE grain = 'day' AND "time" >= '2025-06-01' AND "time" < '2025-07-01'\$q\$),
 (3, 'timeseries: one KPI, a year of days (Grafana panel)', 50, \$q\$SELECT "time", metric, value FROM cxkpi.kpi_timeseries WHERE grain = 'day' AND kpi = 'nps' AND "time" >= '2025-01-01' AND "time" < '2026-01-01' ORDER BY "time"\$q\$),
 (4, 'monthly report of one month', 50, \$q\$SELECT * FROM cxkpi.kpi_monthly_report WHERE month_start = '2025-06-01'\$q\$),
 (5, 'gap view', 50, 'SELECT * FROM cxkpi.kpi_gap'),
 (6, 'satisfaction section, all months', 50, \$q\$SELECT * FROM cxkpi.kpi_satisfaction WHERE grain = 'month'\$q\$),
 (7, 'plain SQL on raw tables: NPS, CSAT, AOV, return rate, conversion of a month and its year-ago month', NULL, \$q\$
    SELECT m, (SELECT 100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*) FROM cxkpi.survey_responses
               WHERE survey = 'nps' AND responded_at >= m AND responded_at < m + interval '1 month') AS nps,
              (SELECT avg(score) FROM cxkpi.survey_responses WHERE survey = 'csat' AND scale = 5 AND responded_at >= m AND responded_at < m + interval '1 month') AS csat,
              (SELECT avg(gross_value - discount) FROM cxkpi.orders WHERE ordered_at >= m AND ordered_at < m + interval '1 month') AS aov,
              (SELECT 100.0 * count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cxkpi.order_returns r WHERE r.order_id = o.order_id)) / count(*)
               FROM cxkpi.orders o WHERE ordered_at >= m AND ordered_at < m + interval '1 month') AS return_rate,
              (SELECT 100.0 * count(*) FILTER (WHERE converted) / count(*) FROM cxkpi.web_sessions WHERE started_at >= m AND started_at < m + interval '1 month') AS conversion
    FROM unnest(ARRAY[timestamptz '2025-11-01 00:00+00', timestamptz '2024-11-01 00:00+00']) AS m\$q\$);
CREATE TEMP TABLE br AS SELECT id, r, pg_temp.ms(sql) AS ms FROM bq, generate_series(0, $runs) AS r ORDER BY r, id;
SELECT format('%-95s %8s ms  %s', label, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
              CASE WHEN target_ms IS NULL THEN '' WHEN percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) < target_ms
                   THEN 'target < ' || target_ms || ' ms: met' ELSE 'target < ' || target_ms || ' ms: MISSED' END)
FROM bq JOIN br USING (id) WHERE r > 0 GROUP BY id, label, target_ms ORDER BY id;
SELECT format('ratio: the scorecard (%s KPI rows, this month and last year) takes %s x the time of 5 of its KPIs in plain SQL on the raw tables',
              (SELECT count(*) FROM cxkpi.kpi_scorecard),
              round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM br WHERE id = 1 AND r > 0)::numeric
                    / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM br WHERE id = 7 AND r > 0)::numeric, 3));
SQL
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the end"
} 2>&1 | tee test/bench/out/dashboard.txt
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"
