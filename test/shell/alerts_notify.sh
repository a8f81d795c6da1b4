#!/usr/bin/env bash
# Alert notifications (docs/alerts.md): a LISTENing session receives one 'cxkpi_alerts'
# notification per alert, only after the commit of the refresh that raised it; a rolled-back
# refresh sends nothing; the outbox can be drained with FOR UPDATE SKIP LOCKED; pg_dump /
# pg_restore bring back the history and the states, and the first refresh after the restore
# raises nothing again.  Emits TAP.
set -euo pipefail
db=cxkpi_alerts_notify
out=$(mktemp /tmp/cxkpi_listen.XXXXXX)
committed=$(mktemp -u /tmp/cxkpi_committed.XXXXXX)
trap 'rm -f "$out" "$committed"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION cxkpi" -c "UPDATE cxkpi.settings SET value = '2026-11-20' WHERE key = 'as_of'"
# 30 carts, all converted: abandonment 0 %, green.
q -c "INSERT INTO cxkpi.carts (cart_id, created_at, device, converted_at)
      SELECT g, '2026-11-07 10:00+00', 'app', '2026-11-07 10:05+00' FROM generate_series(1, 30) g" \
  -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()"

# The listener: LISTEN, wait while the other session works, then a query so that psql prints the
# notifications that arrived: 'mid' while the refresh's transaction is open, 'done' once it has
# committed (a flag file, not a fixed sleep: on a loaded machine the writer may take longer).
{ echo "LISTEN cxkpi_alerts;"; echo "SELECT 'listening';"; sleep 3.5; echo "SELECT 'mid';"
  for _ in $(seq 1 600); do [ -e "$committed" ] && break; sleep 0.1; done; sleep 0.5; echo "SELECT 'done';"; } \
  | psql -X -At -d $db > "$out" 2>&1 &
listener=$!
sleep 1.5
# Facts that raise an alert and a refresh, rolled back; then the facts committed, and a refresh
# that commits 4 s after it raised the alerts.
q -c "SET client_min_messages = warning" -c "BEGIN" -c "INSERT INTO cxkpi.carts (cart_id, created_at, device) SELECT 100 + g, '2026-11-07 11:00+00', 'app' FROM generate_series(1, 200) g" \
  -c "CALL cxkpi.refresh_dashboard()" -c "ROLLBACK"
rolled_back=$(q -c "SELECT count(*) FROM cxkpi.alerts")
q -c "INSERT INTO cxkpi.carts (cart_id, created_at, device) SELECT 100 + g, '2026-11-07 11:00+00', 'app' FROM generate_series(1, 200) g"
q -c "SET client_min_messages = warning" -c "BEGIN" -c "CALL cxkpi.refresh_dashboard()" -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null
touch "$committed"
wait $listener

echo "1..9"
[ "$rolled_back" = "0" ] && echo "ok 1 - a rolled-back refresh leaves no alert" || echo "not ok 1 - $rolled_back alerts after rollback"
n=$(grep -c 'Asynchronous notification "cxkpi_alerts" with payload' "$out" || true)
# 200 abandoned of 230: red for the total and for the app device: two alerts, two notifications.
[ "$n" = "2" ] && echo "ok 2 - the listener received one notification per alert (2)" || { echo "not ok 2 - $n notifications"; sed 's/^/# /' "$out"; }
grep -q '"level" : "red"' "$out" && echo "ok 3 - the payload is JSON with the level" || echo "not ok 3 - payload: $(grep -m1 payload "$out")"
ids=$(q -c "SELECT string_agg(alert_id::text, ',' ORDER BY alert_id) FROM cxkpi.alerts")
all_listed=true
for id in ${ids//,/ }; do grep -q "\"alert_id\" : $id," "$out" || all_listed=false; done
$all_listed && echo "ok 4 - every alert id in the outbox was notified" || echo "not ok 4 - ids $ids vs $(grep -o 'alert_id" : [0-9]*' "$out" | tr '\n' ' ')"
# An outbox consumer: take undelivered alerts with SKIP LOCKED, mark them delivered.
taken=$(q -c "WITH c AS (SELECT alert_id FROM cxkpi.alerts WHERE delivered_at IS NULL ORDER BY alert_id
              FOR UPDATE SKIP LOCKED) UPDATE cxkpi.alerts a SET delivered_at = now() FROM c
              WHERE a.alert_id = c.alert_id RETURNING a.alert_id" | wc -l)
left=$(q -c "SELECT count(*) FROM cxkpi.alerts WHERE delivered_at IS NULL")
[ "$taken" = "2" ] && [ "$left" = "0" ] && echo "ok 5 - the consumer drained the outbox (2 alerts)" || echo "not ok 5 - taken $taken, left $left"
# Delivered at commit, not when the alert row was written: the refresh ran at about 1.5 s and
# its COMMIT came 4 s later; the listener's 'mid' query at 3.5 s saw nothing yet.
before_mid=$(sed -n '1,/^mid$/p' "$out" | grep -c 'Asynchronous notification' || true)
[ "$before_mid" = "0" ] && echo "ok 6 - nothing was delivered before the commit" || { echo "not ok 6 - $before_mid notifications before the commit"; sed 's/^/# /' "$out"; }
# pg_dump / pg_restore: the alert history and the states come back (both are dumped), the
# first refresh after the restore (a full rebuild) raises nothing again, and the sequence stays
# past the restored ids.
dump=$(mktemp /tmp/cxkpi_alerts_dump.XXXXXX)
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${db}_r" -c "CREATE DATABASE ${db}_r"
pg_dump -Fc -d $db -f "$dump" && pg_restore -d ${db}_r "$dump" 2>&1 | sed 's/^/# /'
rm -f "$dump"
# (ordered by the text itself: ORDER BY 1 in an aggregate orders by the constant 1, i.e. not at all)
states="SELECT string_agg(s, ';' ORDER BY s COLLATE \"C\") FROM (SELECT format('%s %s %s %s %s %s %s', kpi, breakdown, dimension, grain, period_start, level, sample_size) AS s FROM cxkpi.alert_state) AS t"
hist="SELECT string_agg(format('%s %s %s %s', alert_id, kpi, dimension, level), ';' ORDER BY alert_id) FROM cxkpi.alerts WHERE alert_id <= 2"
a1=$(q -c "$states"); a2=$(psql -X -q -At -d ${db}_r -c "$states")
h1=$(q -c "$hist"); h2=$(psql -X -q -At -d ${db}_r -c "$hist")
[ "$a1" = "$a2" ] && [ "$h1" = "$h2" ] && [ -n "$a1" ] && echo "ok 7 - pg_restore brings back the alert history and the same states" \
  || { echo "not ok 7 - after restore"; echo "# $a1"; echo "# $a2"; echo "# $h1"; echo "# $h2"; }
again=$(psql -X -q -At -v ON_ERROR_STOP=1 -d ${db}_r -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()" \
        -c "SELECT count(*) FROM cxkpi.alerts" 2>&1)
[ "$again" = "2" ] && echo "ok 8 - the first refresh after the restore raises nothing again" || echo "not ok 8 - $again alerts"
# a new alert after the restore gets a fresh id
next=$(psql -X -q -At -v ON_ERROR_STOP=1 -d ${db}_r -c "INSERT INTO cxkpi.carts (cart_id, created_at, device, converted_at)
         SELECT 1000 + g, '2026-11-07 12:00+00', 'app', '2026-11-07 12:05+00' FROM generate_series(1, 2000) g" \
       -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()" \
       -c "SELECT count(*) || ' ' || count(DISTINCT alert_id) FROM cxkpi.alerts WHERE level = 'green'" 2>&1)
[ "$next" = "2 2" ] && echo "ok 9 - alerts raised after the restore get fresh ids" || echo "not ok 9 - $next"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE ${db}_r"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE $db"
