#!/usr/bin/env bash
# Alerting under concurrency (docs/alerts.md): writers that write the fact tables in opposite
# orders inside transactions do not deadlock (they only append to the change log), nor does
# check_thresholds() (a refresh and an evaluation) running beside them; a writer never waits for
# a refresh that is running; after a refresh the states count every committed answer and equal
# a full rebuild's; check_thresholds() beside an uncommitted refresh waits for it and records
# nothing twice.  Emits TAP.
set -euo pipefail
db=cxkpi_alerts_conc
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION cxkpi" -c "UPDATE cxkpi.settings SET value = '2026-11-20' WHERE key = 'as_of'"
survey="INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
        SELECT \$1 + g, '2026-11-05 12:00+00', 'nps', g % 11, 10, 'web' FROM generate_series(1, 50) g"
tickets="INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at)
         SELECT \$1 + g, 'email', '2026-11-03 08:00+00', '2026-11-03 13:00+00' FROM generate_series(1, 50) g"
run() {  # run ID FIRST SECOND: a transaction writing FIRST, sleeping, then SECOND
  local id=$1
  psql -X -q -At -v ON_ERROR_STOP=1 -d $db \
    -c "BEGIN" -c "PREPARE a(int) AS ${2}" -c "PREPARE b(int) AS ${3}" \
    -c "EXECUTE a($id)" -c "SELECT pg_sleep(1)" -c "EXECUTE b($id + 1000)" -c "COMMIT" >/dev/null 2>"/tmp/cxkpi_conc_$id.err"
}
echo "1..6"
run 10000 "$survey" "$tickets" & p1=$!
run 20000 "$tickets" "$survey" & p2=$!
s1=0; s2=0; wait $p1 || s1=$?; wait $p2 || s2=$?
if [ $s1 -eq 0 ] && [ $s2 -eq 0 ]; then echo "ok 1 - two writers in opposite table orders both commit (no deadlock)"
else echo "not ok 1 - exit $s1 / $s2"; sed 's/^/# /' /tmp/cxkpi_conc_10000.err /tmp/cxkpi_conc_20000.err; fi
# check_thresholds() while two more writers run
run 30000 "$survey" "$tickets" & p1=$!
sleep 0.3
c=0; q -c "SELECT cxkpi.check_thresholds()" >/dev/null 2>/tmp/cxkpi_conc_check.err || c=$?
run 40000 "$tickets" "$survey" & p2=$!
s1=0; s2=0; wait $p1 || s1=$?; wait $p2 || s2=$?
if [ $c -eq 0 ] && [ $s1 -eq 0 ] && [ $s2 -eq 0 ]; then echo "ok 2 - check_thresholds() beside running writers: no deadlock, no error"
else echo "not ok 2 - check $c, writers $s1 / $s2"; sed 's/^/# /' /tmp/cxkpi_conc_check.err /tmp/cxkpi_conc_30000.err /tmp/cxkpi_conc_40000.err; fi
# a refresh that holds its transaction open (2 s) does not make a writer wait
psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SET client_min_messages = warning" -c "BEGIN" -c "CALL cxkpi.refresh_dashboard()" \
  -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null 2>/tmp/cxkpi_conc_refresh.err & pr=$!
sleep 0.5
t0=$(date +%s%N)
w=0; q -c "PREPARE a(int) AS $survey" -c "EXECUTE a(50000)" >/dev/null 2>/tmp/cxkpi_conc_50000.err || w=$?
t1=$(date +%s%N)
r=0; wait $pr || r=$?
ms=$(( (t1 - t0) / 1000000 ))
if [ $w -eq 0 ] && [ $r -eq 0 ] && [ $ms -lt 1500 ]; then echo "ok 3 - a writer commits in $ms ms while a refresh holds its transaction open (no wait on the refresh)"
else echo "not ok 3 - writer $w after $ms ms, refresh $r"; sed 's/^/# /' /tmp/cxkpi_conc_refresh.err /tmp/cxkpi_conc_50000.err; fi
q -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()"
n=$(q -c "SELECT sample_size FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total'")
[ "$n" = "250" ] && echo "ok 4 - after a refresh the NPS state counts the 250 answers of the five transactions" || echo "not ok 4 - $n"
diff=$(q -c "CREATE TEMP TABLE s AS SELECT kpi, breakdown, dimension, period_start, sample_size, round(value::numeric, 9) v, level FROM cxkpi.alert_state" \
         -c "SET client_min_messages = warning" -c "CALL cxkpi.rebuild_dashboard()" -c "SELECT cxkpi.check_thresholds()" \
         -c "SELECT count(*) FROM ((SELECT kpi, breakdown, dimension, period_start, sample_size, round(value::numeric, 9), level FROM cxkpi.alert_state)
                                   EXCEPT ALL (TABLE s)) d" | tail -1)
[ "$diff" = "0" ] && echo "ok 5 - the states equal those of a full rebuild from the tables" || echo "not ok 5 - $diff states differ"
# check_thresholds() while a refresh that raised alerts has not committed yet: it waits for that
# refresh (the refresh's lock) and records nothing twice.  The carts' values are already in
# kpi_values (refreshed with alerting off), so both would find the same changes of level.
q -c "SET client_min_messages = warning" -c "SELECT cxkpi.set_alerting(false)" \
  -c "INSERT INTO cxkpi.carts (cart_id, created_at, device) SELECT 60000 + g, '2026-11-07 11:00+00', 'app' FROM generate_series(1, 200) g" \
  -c "CALL cxkpi.refresh_dashboard()" -c "UPDATE cxkpi.settings SET value = 'true' WHERE key = 'alerting'" >/dev/null
before=$(q -c "SELECT count(*) FROM cxkpi.alerts")
psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SET client_min_messages = warning" -c "BEGIN" -c "CALL cxkpi.refresh_dashboard()" \
  -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null 2>/tmp/cxkpi_conc_refresh.err & pr=$!
sleep 0.5
raised=$(q -c "SELECT cxkpi.check_thresholds()" 2>/tmp/cxkpi_conc_check.err || echo error)
r=0; wait $pr || r=$?
after=$(q -c "SELECT count(*) FROM cxkpi.alerts WHERE kpi = 'cart_abandonment_rate'")
dups=$(q -c "SELECT count(*) FROM (SELECT 1 FROM cxkpi.alerts GROUP BY kpi, breakdown, dimension, period_start, level, previous_level
                                   HAVING count(*) > 1) d")
if [ $r -eq 0 ] && [ "$raised" = 0 ] && [ "$after" = 2 ] && [ "$dups" = 0 ]; then
  echo "ok 6 - check_thresholds() beside an uncommitted refresh waits for it: the refresh's 2 cart alerts are recorded once ($before alerts before)"
else echo "not ok 6 - refresh $r, check_thresholds raised '$raised', $after cart alerts, $dups duplicated"; sed 's/^/# /' /tmp/cxkpi_conc_refresh.err /tmp/cxkpi_conc_check.err; fi
rm -f /tmp/cxkpi_conc_*.err
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE $db"
