#!/usr/bin/env bash
# cxkpi incremental-refresh benchmark (issue 14; a benchmark, not a test: a missed target is
# reported, not failed).  On the sample data at BENCH_INC_SCALE (default 30: ~780k customers, two
# years of sessions, orders, tickets and surveys; seed 42), side by side in one run:
#   - the full rebuild, CALL cxkpi.rebuild_dashboard(false) (and the concurrent one);
#   - CALL cxkpi.refresh_dashboard() after each kind of change, each in a transaction rolled back
#     afterwards (the database stays as made):
#       one new day appended (a copy of the last day's orders, answers, sessions, carts, tickets);
#       one day 400 days old backfilled (a copy of that day's facts again);
#       1,000 old orders updated (moved a week) and 1,000 deleted;
#     target: each at most 2 % of the full rebuild and under 3 s;
#   - the customer models refitted on their own (CALL cxkpi.refresh_customer_models(), what a
#     refresh does at most every customer_models_interval);
#   - the scorecard and a month of time series as BI tools read them: target under 50 ms.
# Each refresh runs in a fresh session: its peak memory (VmHWM of the backend) and the temporary
# files it wrote (pg_stat_database.temp_bytes) are reported beside the time.  Every reader view
# in full: make bench-views.
# The database BENCH_INC_DB (default cxkpi_bench_inc_<scale>) is made once and kept
# (BENCH_INC_RECREATE=1 makes it again; scale 10 takes about 6 minutes on 2 cores).
#   make bench-incremental      in a throwaway cluster (pg_virtualenv)
#   test/bench/incremental.sh   against the cluster named by the PG* variables (on this machine:
#                               the memory figures read /proc of the server's backends)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
scale=${BENCH_INC_SCALE:-30}
runs=${BENCH_INC_RUNS:-5}
db=${BENCH_INC_DB:-cxkpi_bench_inc_${scale//./_}}
[[ $scale =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "BENCH_INC_SCALE must be a number" >&2; exit 2; }
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "BENCH_INC_RUNS must be a positive integer" >&2; exit 2; }
mkdir -p test/bench/out
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
start=$SECONDS

# One session: the SQL of $1, then the timed statement $2, in a transaction rolled back; prints
# "seconds|peak MB|temp MB": the backend's peak resident memory (VmHWM, read by the backend from
# /proc/self/status) and the temporary files of the database meanwhile (pg_stat_database, read
# after the session ended, when its statistics are flushed).
measure() {
  local setup=$1 timed=$2 t0 out
  t0=$(q -c "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
  out=$(q <<SQL
BEGIN;
$setup
SELECT extract(epoch FROM clock_timestamp()) AS s0 \gset
$timed;
SELECT format('%s|%s', round((extract(epoch FROM clock_timestamp()) - :s0)::numeric, 3),
              (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::bigint / 1024);
ROLLBACK;
SQL
)
  sleep 1
  echo "$(echo "$out" | tail -1)|$(q -c "SELECT round((temp_bytes - $t0) / 1048576.0, 1) FROM pg_stat_database WHERE datname = current_database()")"
}

{
echo "== cxkpi incremental-refresh benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cxkpi:   work tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?'); PostgreSQL $(psql -X -At -d postgres -c 'SHOW server_version')"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM; load $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
bench_sample_db "$db" "$scale" "${BENCH_INC_RECREATE:-0}"
# The customer models fitted now, so that the refreshes below are the per-minute ones (the models
# are refitted at most every customer_models_interval: timed on their own below).
q -c "CALL cxkpi.refresh_dashboard()" -c "CALL cxkpi.refresh_customer_models()" -c "VACUUM ANALYZE cxkpi.change_log"
echo "data:    $(q -c "SELECT format('scale %s: %s customers, %s orders, %s sessions, %s survey answers, %s tickets; %s rows in kpi_values; database %s',
                $scale, (SELECT count(*) FROM cxkpi.customers), (SELECT count(*) FROM cxkpi.orders),
                (SELECT count(*) FROM cxkpi.web_sessions), (SELECT count(*) FROM cxkpi.survey_responses),
                (SELECT count(*) FROM cxkpi.support_tickets), (SELECT count(*) FROM cxkpi.kpi_values),
                pg_size_pretty(pg_database_size(current_database())))")"
last=$(q -c "SELECT max((ordered_at AT TIME ZONE cxkpi.setting('time_zone'))::date) FROM cxkpi.orders")
echo "days:    last day with orders $last; backfilled day $(q -c "SELECT date '$last' - 400")"
echo

# The changes (run inside the measured session's transaction, before the timed refresh).
newday="
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
SELECT o.order_id + 4000000000, o.customer_id, o.ordered_at + interval '1 day', o.channel, o.items, o.gross_value, o.discount
FROM cxkpi.orders AS o WHERE o.ordered_at >= date '$last' AND o.ordered_at < date '$last' + 1;
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id)
SELECT s.response_id + 4000000000, s.responded_at + interval '1 day', s.survey, s.score, s.scale, s.channel, s.customer_id
FROM cxkpi.survey_responses AS s WHERE s.responded_at >= date '$last' AND s.responded_at < date '$last' + 1;
INSERT INTO cxkpi.web_sessions (session_id, started_at, device, added_to_cart, reached_checkout, converted)
SELECT w.session_id + 4000000000, w.started_at + interval '1 day', w.device, w.added_to_cart, w.reached_checkout, w.converted
FROM cxkpi.web_sessions AS w WHERE w.started_at >= date '$last' AND w.started_at < date '$last' + 1;
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at, resolved_at, contacts_to_resolve, reopened)
SELECT t.ticket_id + 4000000000, t.channel, t.created_at + interval '1 day', t.first_response_at + interval '1 day',
       t.resolved_at + interval '1 day', t.contacts_to_resolve, t.reopened
FROM cxkpi.support_tickets AS t WHERE t.created_at >= date '$last' AND t.created_at < date '$last' + 1;"
backfill="${newday//interval \'1 day\'/interval \'0 days\'}"
backfill="${backfill//date \'$last\'/(date \'$last\' - 400)}"
backfill="${backfill//4000000000/5000000000}"
oldorders="
UPDATE cxkpi.orders SET ordered_at = ordered_at + interval '7 days'
WHERE order_id IN (SELECT o.order_id FROM cxkpi.orders AS o
                   WHERE o.ordered_at < date '$last' - 300
                     AND NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id)
                   ORDER BY o.order_id LIMIT 1000);
UPDATE cxkpi.survey_responses SET order_id = NULL
WHERE order_id IN (SELECT o.order_id FROM cxkpi.orders AS o WHERE o.ordered_at < date '$last' - 300 AND o.order_id % 7 = 3
                     AND NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id)
                   ORDER BY o.order_id LIMIT 1000);
DELETE FROM cxkpi.orders
WHERE order_id IN (SELECT o.order_id FROM cxkpi.orders AS o WHERE o.ordered_at < date '$last' - 300 AND o.order_id % 7 = 3
                     AND NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id)
                   ORDER BY o.order_id LIMIT 1000);"

echo "| Work | Time | Share of the rebuild | Target | Peak resident memory (VmHWM, shared buffers included) | Temporary files |"
echo "|---|---|---|---|---|---|"
IFS='|' read -r full mem tmp <<<"$(measure "" "CALL cxkpi.rebuild_dashboard(false)")"
echo "| full rebuild, \`rebuild_dashboard(false)\` | $full s | 100 % | | $mem MB | $tmp MB |"
IFS='|' read -r t mem tmp <<<"$(measure "" "CALL cxkpi.rebuild_dashboard()")"
echo "| full rebuild, concurrent readers, \`rebuild_dashboard()\` | $t s | $(awk -v a="$t" -v b="$full" 'BEGIN {printf "%.0f", 100 * a / b}') % | | $mem MB | $tmp MB |"
whats=("nothing changed, \`refresh_dashboard()\`" "one new day appended, then \`refresh_dashboard()\`"
       "one day 400 days old backfilled, then \`refresh_dashboard()\`"
       "1,000 old orders updated and 1,000 deleted, then \`refresh_dashboard()\`")
sqls=("" "$newday" "$backfill" "$oldorders")
for i in "${!whats[@]}"; do
  IFS='|' read -r t mem tmp <<<"$(measure "${sqls[$i]}" "CALL cxkpi.refresh_dashboard()")"
  share=$(awk -v a="$t" -v b="$full" 'BEGIN {printf "%.2f", 100 * a / b}')
  met=met; awk -v a="$t" -v b="$full" 'BEGIN {exit !(a <= 0.02 * b && a < 3)}' || met=MISSED
  echo "| ${whats[$i]} | $t s | $share % | ≤ 2 % and < 3 s: $met | $mem MB | $tmp MB |"
done
IFS='|' read -r t mem tmp <<<"$(measure "" "CALL cxkpi.refresh_customer_models()")"
echo "| the customer models refitted, \`refresh_customer_models()\` (at most every customer_models_interval) | $t s | $(awk -v a="$t" -v b="$full" 'BEGIN {printf "%.1f", 100 * a / b}') % | | $mem MB | $tmp MB |"
echo
echo "| Reader query (median of $runs, server-side) | Rows | Time | Target |"
echo "|---|---|---|---|"
while IFS='#' read -r what sql; do
  [ -n "$what" ] || continue
  ms=$(bench_server_ms "$sql" "$runs")
  met=met; awk -v m="$ms" 'BEGIN {exit !(m < 50)}' || met=MISSED
  echo "| $what | $(q -c "SELECT count(*) FROM ($sql) AS s") | $ms ms | < 50 ms: $met |"
done <<'EOF'
the scorecard#SELECT * FROM cxkpi_bi.kpi_scorecard
a month of days, every KPI (time series)#SELECT * FROM cxkpi_bi.kpi_timeseries WHERE grain = 'day' AND period_start >= '2025-12-01'
EOF
echo
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end; total $((SECONDS - start)) s"
} 2>&1 | tee "test/bench/out/incremental_${scale//./_}.txt"
