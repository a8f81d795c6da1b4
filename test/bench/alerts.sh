#!/usr/bin/env bash
# cxkpi alerting benchmark and load test (docs/alerts.md; a benchmark, not a test: a missed target
# is reported, not failed; an error, a deadlock or an inconsistent outbox fails the run).
#
#   make bench                 runs it after the other benchmarks, in a throwaway cluster
#   test/bench/alerts.sh       against the cluster named by the PG* variables
#
# 1. COPY of BENCH_ALERT_ROWS (1,000,000) survey responses with alerting off and on, alternately,
#    BENCH_RUNS (3) times each: median times and their ratio (target: on / off <= 1.6).
# 2. BENCH_CLIENTS (8) pgbench clients on loopback running transactions that write survey
#    responses and support tickets, in both table orders, for BENCH_SECONDS (60) s with alerting
#    on, then as long with it off: throughput of both; any failed transaction (deadlock) fails
#    the run, and the outbox must be consistent with a recomputation.
# Output goes to stdout and to test/bench/out/alerts.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
rows=${BENCH_ALERT_ROWS:-1000000}
runs=${BENCH_RUNS:-3}
clients=${BENCH_CLIENTS:-8}
seconds=${BENCH_SECONDS:-60}
db=${BENCH_DB:-cxkpi_bench_alerts}
bench_int BENCH_ALERT_ROWS "$rows" 1000
bench_int BENCH_RUNS "$runs" 1
bench_int BENCH_CLIENTS "$clients" 1
bench_int BENCH_SECONDS "$seconds" 1
bench_dbname BENCH_DB "$db"
mkdir -p test/bench/out
data=$(mktemp /tmp/cxkpi_alert_bench.XXXXXX); chmod 644 "$data"
script=$(mktemp /tmp/cxkpi_alert_pgbench.XXXXXX)
trap 'rm -f "$data" "$script" "$script.ba"' EXIT
q() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

bench() {
  local start=$SECONDS
  bench_header "cxkpi alerting benchmark"
  bench_fresh_db "$db"
  q -c "CREATE EXTENSION cxkpi" -c "UPDATE cxkpi.settings SET value = '2026-11-30' WHERE key = 'as_of'"
  # 1M answers over November 2026: NPS, CSAT and CES, four channels (what a survey export holds).
  q -c "\\copy (SELECT g, timestamptz '2026-11-01 00:00+00' + (g % 2592000) * interval '1 s',
                     (ARRAY['nps', 'csat', 'ces'])[1 + g % 3],
                     CASE g % 3 WHEN 0 THEN (hashint4(g) & 65535) % 11 ELSE 1 + (hashint4(g) & 65535) % 5 END,
                     CASE g % 3 WHEN 0 THEN 10 WHEN 1 THEN 5 ELSE 5 END,
                     (ARRAY['store', 'web', 'app', 'email'])[1 + (g / 3) % 4]
              FROM generate_series(1, $rows) g) TO '$data'"
  q -c "UPDATE cxkpi.settings SET value = '5' WHERE key = 'ces_scale'"
  echo
  echo "== COPY of $rows survey responses, alerting off vs on ($runs runs each, alternating; ms)"
  local off=() on=()
  for ((r = 1; r <= runs; r++)); do
    for mode in off on; do
      q -c "SELECT cxkpi.set_alerting($([ $mode = on ] && echo true || echo false))" >/dev/null
      q -c "TRUNCATE cxkpi.survey_responses" -c "CHECKPOINT"
      local t0 t1; t0=$(date +%s%N)
      q -c "\\copy cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) FROM '$data'"
      t1=$(date +%s%N)
      local ms=$(( (t1 - t0) / 1000000 ))
      echo "run $r alerting $mode: $ms ms"
      if [ $mode = on ]; then on+=("$ms"); else off+=("$ms"); fi
    done
  done
  local moff mon
  moff=$(printf '%s\n' "${off[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  mon=$(printf '%s\n' "${on[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  q -c "SELECT format('median: off %s ms, on %s ms, ratio on/off %s (target <= 1.6: %s)', $moff, $mon,
                      round($mon::numeric / $moff, 2), CASE WHEN $mon <= 1.6 * $moff THEN 'PASS' ELSE 'MISS' END)"
  q -c "SELECT format('states: %s, alerts: %s; NPS of November %s', (SELECT count(*) FROM cxkpi.alert_state),
                      (SELECT count(*) FROM cxkpi.alerts),
                      (SELECT round(value::numeric, 2) FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total'))"

  echo
  echo "== load: $clients pgbench clients for $seconds s, survey responses and tickets (loopback)"
  q -c "TRUNCATE cxkpi.survey_responses, cxkpi.support_tickets" -c "CREATE SEQUENCE IF NOT EXISTS bench_ids START 10000000"
  q -c "GRANT USAGE ON SEQUENCE bench_ids TO PUBLIC"
  # Two kinds of transaction, run in random mix: (a) 3 NPS answers whose mix puts NPS near the
  # red threshold of 35 (so that it crosses back and forth) and 1 CSAT answer, then 1 support
  # ticket; (b) the same writes in the opposite table order.
  cat > "$script" <<'PGB'
\set p random(0, 99)
\set ch random(1, 3)
BEGIN;
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
SELECT nextval('bench_ids'), timestamptz '2026-11-15 12:00+00', 'nps',
       CASE WHEN (:p + g * 37) % 100 < 50 THEN 10 WHEN (:p + g * 37) % 100 < 85 THEN 7 ELSE 2 END, 10,
       (ARRAY['store', 'web', 'app'])[:ch]
FROM generate_series(1, 3) g;
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
VALUES (nextval('bench_ids'), '2026-11-15 12:00+00', 'csat', 1 + :p % 5, 5, 'web');
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at)
VALUES (nextval('bench_ids'), (ARRAY['email', 'chat', 'phone'])[:ch], '2026-11-15 08:00+00',
        timestamptz '2026-11-15 08:00+00' + (:p % 9) * interval '1 hour');
COMMIT;
PGB
  cat > "$script.ba" <<'PGB'
\set p random(0, 99)
\set ch random(1, 3)
BEGIN;
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at)
VALUES (nextval('bench_ids'), (ARRAY['email', 'chat', 'phone'])[:ch], '2026-11-15 08:00+00',
        timestamptz '2026-11-15 08:00+00' + (:p % 9) * interval '1 hour');
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
VALUES (nextval('bench_ids'), '2026-11-15 12:00+00', 'csat', 1 + :p % 5, 5, 'web');
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
SELECT nextval('bench_ids'), timestamptz '2026-11-15 12:00+00', 'nps',
       CASE WHEN (:p + g * 37) % 100 < 50 THEN 10 WHEN (:p + g * 37) % 100 < 85 THEN 7 ELSE 2 END, 10,
       (ARRAY['store', 'web', 'app'])[:ch]
FROM generate_series(1, 3) g;
COMMIT;
PGB
  # pgbench counts deadlocks and serialisation failures as failed transactions and still exits
  # 0: the run fails if there is any.
  load() {
    local log; log=$(mktemp)
    pgbench -n -c "$clients" -j 2 -T "$seconds" -f "$script" -f "$script.ba" "$db" >"$log" 2>&1 || { cat "$log"; exit 1; }
    cat "$log" >&2
    local failed; failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
    if [ "${failed:-0}" != "0" ]; then echo "FAILED: $failed failed transactions" >&2; rm -f "$log"; exit 1; fi
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log"
    rm -f "$log"
  }
  local tps_on tps_off
  q -c "SELECT cxkpi.set_alerting(true)" >/dev/null
  tps_on=$(load)
  q -c "SELECT format('alerting on: %s transactions, %s alerts, %s states', (SELECT count(*) FROM cxkpi.support_tickets),
                      (SELECT count(*) FROM cxkpi.alerts), (SELECT count(*) FROM cxkpi.alert_state))"
  # Consistency: the running states equal a recomputation from the tables, and the outbox is a
  # consistent chain of level changes per state (none lost, none twice).
  q -c "CREATE TEMP TABLE s AS SELECT kpi, breakdown, dimension, period_start, level, sample_size,
                   round(value::numeric, 6) AS value FROM cxkpi.alert_state WHERE source = 'trigger'" \
    -c "SELECT format('recomputation raised %s alerts (0 expected)', cxkpi.check_thresholds())" \
    -c "SELECT format('states that differ from the recomputation: %s (0 expected)', count(*)) FROM (
          (SELECT kpi, breakdown, dimension, period_start, level, sample_size, round(value::numeric, 6)
           FROM cxkpi.alert_state WHERE source = 'trigger') EXCEPT ALL (SELECT * FROM s)) d" \
    -c "SELECT format('outbox breaks in the chain of levels: %s (0 expected)', count(*)) FROM (
          SELECT previous_level, lag(level) OVER w AS last_level, level FROM cxkpi.alerts
          WINDOW w AS (PARTITION BY kpi, breakdown, dimension, grain, period_start ORDER BY alert_id)) c
        WHERE (last_level IN ('red', 'yellow') OR previous_level IN ('red', 'yellow')) AND last_level IS NOT NULL
          AND previous_level <> last_level" \
    -c "SELECT format('states whose level disagrees with their last alert: %s (0 expected)', count(*))
        FROM cxkpi.alert_state st JOIN LATERAL (SELECT level FROM cxkpi.alerts a WHERE (a.kpi, a.breakdown, a.dimension, a.period_start)
             = (st.kpi, st.breakdown, st.dimension, st.period_start) ORDER BY alert_id DESC LIMIT 1) la ON true
        WHERE (la.level IN ('red', 'yellow') OR st.level IN ('red', 'yellow')) AND la.level <> st.level"
  q -c "SELECT cxkpi.set_alerting(false)" >/dev/null
  tps_off=$(load)
  q -c "SELECT format('throughput: %s tps with alerting on, %s tps off (on/off %s)', $tps_on, $tps_off,
                      round($tps_on::numeric / $tps_off, 2))"
  bench_footer "$start"
}

bench 2>&1 | tee test/bench/out/alerts.txt
