#!/usr/bin/env bash
# cxkpi alerting benchmark and load test (docs/alerts.md, docs/performance.md#alerting; a
# benchmark, not a test: figures are reported; an error, a failed transaction or an inconsistent
# outbox fails the run).
#
#   make bench / make bench-alerts   in a throwaway cluster
#   test/bench/alerts.sh             against the cluster named by the PG* variables
#
# What a writer pays for alerting, in three modes:
#   bare  the fact tables without any cxkpi trigger (what 1.0 paid with alerting off);
#   off   setting alerting false: the change capture of the incremental dashboard (stage 1) only,
#         with CALL cxkpi.refresh_dashboard() every BENCH_REFRESH_EVERY (5) s beside the load;
#   on    the same with alerting on: each refresh also evaluates the alert levels.
# 1. COPY of BENCH_ALERT_ROWS (1,000,000) survey responses, BENCH_RUNS (3) times per mode,
#    alternately: median times and the ratios.
# 2. BENCH_CLIENTS (8) pgbench clients for BENCH_SECONDS (30) s per mode: (a) one-row NPS
#    inserts, one per transaction; (b) mixed transactions of 3 NPS answers, 1 CSAT answer and
#    1 support ticket, in both table orders (NPS near its red threshold, so that it crosses back
#    and forth).  Any failed transaction (a deadlock) fails the run.
# 3. After the mixed load with alerting on: the states equal those of a full rebuild, the outbox
#    is a consistent chain of level changes per state, and each state agrees with its last alert.
# Output goes to stdout and to test/bench/out/alerts.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
rows=${BENCH_ALERT_ROWS:-1000000}
runs=${BENCH_RUNS:-3}
clients=${BENCH_CLIENTS:-8}
seconds=${BENCH_SECONDS:-30}
every=${BENCH_REFRESH_EVERY:-5}
db=${BENCH_DB:-cxkpi_bench_alerts}
bench_int BENCH_ALERT_ROWS "$rows" 1000
bench_int BENCH_RUNS "$runs" 1
bench_int BENCH_CLIENTS "$clients" 1
bench_int BENCH_SECONDS "$seconds" 1
bench_int BENCH_REFRESH_EVERY "$every" 1
bench_dbname BENCH_DB "$db"
mkdir -p test/bench/out
data=$(mktemp /tmp/cxkpi_alert_bench.XXXXXX); chmod 644 "$data"
script=$(mktemp /tmp/cxkpi_alert_pgbench.XXXXXX)
refresher=
trap 'rm -f "$data" "$script" "$script".*; [ -n "$refresher" ] && kill "$refresher" 2>/dev/null || true' EXIT
q() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# mode bare|off|on: the triggers and the setting of that mode
mode() {
  local t
  for t in survey_responses support_tickets; do
    q -c "ALTER TABLE cxkpi.$t $([ "$1" = bare ] && echo DISABLE || echo ENABLE) TRIGGER USER"
  done
  q -c "SELECT cxkpi.set_alerting($([ "$1" = on ] && echo true || echo false))" >/dev/null
}
# the refresh every $every s, as pg_cron would run it (modes off and on)
start_refresher() {
  ( while true; do q -c "CALL cxkpi.refresh_dashboard()" >/dev/null 2>&1 || true; sleep "$every"; done ) &
  refresher=$!
}
stop_refresher() { [ -n "$refresher" ] && { kill "$refresher" 2>/dev/null || true; wait "$refresher" 2>/dev/null || true; }; refresher=; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ratio() { q -c "SELECT round($1::numeric / $2, 2)"; }

bench() {
  local start=$SECONDS
  bench_header "cxkpi alerting benchmark (alerts evaluated by the refresh)"
  bench_fresh_db "$db"
  q -c "CREATE EXTENSION cxkpi" -c "UPDATE cxkpi.settings SET value = '2026-11-30' WHERE key = 'as_of'" \
    -c "UPDATE cxkpi.settings SET value = '5' WHERE key = 'ces_scale'"
  # 1M answers over November 2026: NPS, CSAT and CES, four channels (what a survey export holds).
  q -c "\\copy (SELECT g, timestamptz '2026-11-01 00:00+00' + (g % 2592000) * interval '1 s',
                     (ARRAY['nps', 'csat', 'ces'])[1 + g % 3],
                     CASE g % 3 WHEN 0 THEN (hashint4(g) & 65535) % 11 ELSE 1 + (hashint4(g) & 65535) % 5 END,
                     CASE g % 3 WHEN 0 THEN 10 WHEN 1 THEN 5 ELSE 5 END,
                     (ARRAY['store', 'web', 'app', 'email'])[1 + (g / 3) % 4]
              FROM generate_series(1, $rows) g) TO '$data'"
  echo
  echo "== COPY of $rows survey responses, modes bare / off / on ($runs runs each, alternating; ms)"
  local bare=() off=() on=() m
  for ((r = 1; r <= runs; r++)); do
    for m in bare off on; do
      mode $m
      q -c "TRUNCATE cxkpi.survey_responses" -c "CHECKPOINT"
      local t0 t1; t0=$(date +%s%N)
      q -c "\\copy cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) FROM '$data'"
      t1=$(date +%s%N)
      local ms=$(( (t1 - t0) / 1000000 ))
      echo "run $r $m: $ms ms"
      case $m in bare) bare+=("$ms") ;; off) off+=("$ms") ;; on) on+=("$ms") ;; esac
    done
  done
  local mb mo mn
  mb=$(median "${bare[@]}"); mo=$(median "${off[@]}"); mn=$(median "${on[@]}")
  echo "median: bare $mb ms, off $mo ms, on $mn ms; on/off $(ratio "$mn" "$mo"), on/bare $(ratio "$mn" "$mb") (time ratios: > 1 is slower)"
  local t0 t1; t0=$(date +%s%N)
  q -c "CALL cxkpi.refresh_dashboard()"
  t1=$(date +%s%N)
  q -c "SELECT format('then one refresh (a rebuild after the TRUNCATE) in %s ms: states %s, alerts %s; NPS of November %s (%s)',
                      $(( (t1 - t0) / 1000000 )), (SELECT count(*) FROM cxkpi.alert_state), (SELECT count(*) FROM cxkpi.alerts),
                      (SELECT round(value::numeric, 2) FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total' AND period_start = '2026-11-01'),
                      (SELECT level FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total' AND period_start = '2026-11-01'))"

  q -c "TRUNCATE cxkpi.survey_responses, cxkpi.support_tickets" -c "CREATE SEQUENCE IF NOT EXISTS bench_ids START 10000000" \
    -c "CALL cxkpi.refresh_dashboard()"
  cat > "$script.one" <<'PGB'
\set p random(0, 99)
\set ch random(1, 3)
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
VALUES (nextval('bench_ids'), '2026-11-15 12:00+00', 'nps',
        CASE WHEN :p < 50 THEN 10 WHEN :p < 85 THEN 7 ELSE 2 END, 10, (ARRAY['store', 'web', 'app'])[:ch]);
PGB
  cat > "$script.ab" <<'PGB'
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
    pgbench -n -c "$clients" -j 2 -T "$seconds" "$@" "$db" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    local failed; failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
    if [ "${failed:-0}" != "0" ]; then cat "$log" >&2; echo "FAILED: $failed failed transactions" >&2; rm -f "$log"; exit 1; fi
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log" | head -1
    rm -f "$log"
  }
  local w
  for w in one mixed; do
    echo
    if [ $w = one ]; then
      echo "== load: $clients pgbench clients, one-row NPS inserts (one per transaction), $seconds s per mode"
    else
      echo "== load: $clients pgbench clients, mixed transactions (3 NPS + 1 CSAT + 1 ticket, both table orders), $seconds s per mode"
    fi
    declare -A tps=()
    for m in bare off on; do
      mode $m
      [ $m != bare ] && start_refresher
      if [ $w = one ]; then tps[$m]=$(load -f "$script.one"); else tps[$m]=$(load -f "$script.ab" -f "$script.ba"); fi
      stop_refresher
      echo "$m: ${tps[$m]} tps"
    done
    echo "throughput on/off $(ratio "${tps[on]}" "${tps[off]}"), on/bare $(ratio "${tps[on]}" "${tps[bare]}") (throughput ratios: < 1 is slower)"
  done

  # The last load ran with alerting on: bring everything up to date, then check the outbox.
  q -c "CALL cxkpi.refresh_dashboard()"
  q -c "SELECT format('alerting on, after the loads: %s answers, %s tickets, %s alerts, %s states', (SELECT count(*) FROM cxkpi.survey_responses),
                      (SELECT count(*) FROM cxkpi.support_tickets), (SELECT count(*) FROM cxkpi.alerts), (SELECT count(*) FROM cxkpi.alert_state))"
  q -c "CREATE TEMP TABLE s AS SELECT kpi, breakdown, dimension, period_start, level, sample_size,
                   round(value::numeric, 6) AS value FROM cxkpi.alert_state" \
    -c "CREATE TEMP TABLE n AS SELECT count(*) AS n FROM cxkpi.alerts" \
    -c "CALL cxkpi.rebuild_dashboard()" \
    -c "SELECT format('a full rebuild raised %s alerts (0 expected)', (SELECT count(*) FROM cxkpi.alerts) - (SELECT n FROM n))" \
    -c "SELECT format('states that differ from the rebuild''s: %s (0 expected)', count(*)) FROM (
          (SELECT kpi, breakdown, dimension, period_start, level, sample_size, round(value::numeric, 6)
           FROM cxkpi.alert_state) EXCEPT ALL (SELECT * FROM s)) d" \
    -c "SELECT format('outbox breaks in the chain of levels: %s (0 expected)', count(*)) FROM (
          SELECT previous_level, lag(level) OVER w AS last_level, level FROM cxkpi.alerts
          WINDOW w AS (PARTITION BY kpi, breakdown, dimension, grain, period_start ORDER BY alert_id)) c
        WHERE (last_level IN ('red', 'yellow') OR previous_level IN ('red', 'yellow')) AND last_level IS NOT NULL
          AND previous_level <> last_level" \
    -c "SELECT format('states whose level disagrees with their last alert: %s (0 expected)', count(*))
        FROM cxkpi.alert_state st JOIN LATERAL (SELECT level FROM cxkpi.alerts a WHERE (a.kpi, a.breakdown, a.dimension, a.period_start)
             = (st.kpi, st.breakdown, st.dimension, st.period_start) ORDER BY alert_id DESC LIMIT 1) la ON true
        WHERE (la.level IN ('red', 'yellow') OR st.level IN ('red', 'yellow')) AND la.level <> st.level"
  mode on
  bench_footer "$start"
}

bench 2>&1 | tee test/bench/out/alerts.txt
