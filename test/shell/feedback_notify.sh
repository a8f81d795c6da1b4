#!/usr/bin/env bash
# Feedback follow-up notifications (docs/feedback.md): a writer's commit sends nothing (writers
# only log the day); the refresh raises one follow-up per detractor or dissatisfied answer and a
# LISTENing session receives one 'cxkpi_feedback' notification per follow-up after its commit; a
# rolled-back refresh sends nothing; the queue drains with FOR UPDATE SKIP LOCKED; pg_dump /
# pg_restore bring the queue back and the first refresh after it raises nothing again.  Emits TAP.
set -euo pipefail
db=cxkpi_feedback_notify
out=$(mktemp /tmp/cxkpi_fb_listen.XXXXXX)
written=$(mktemp -u /tmp/cxkpi_fb_written.XXXXXX)
committed=$(mktemp -u /tmp/cxkpi_fb_committed.XXXXXX)
dump=$(mktemp /tmp/cxkpi_fb_dump.XXXXXX)
trap 'rm -f "$out" "$written" "$committed" "$dump"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" -c "DROP DATABASE IF EXISTS ${db}_r" -c "CREATE DATABASE ${db}_r"
q -c "CREATE EXTENSION cxkpi" -c "UPDATE cxkpi.settings SET value = '2026-11-20' WHERE key = 'as_of'" \
  -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()"

# The listener: LISTEN; a query once the writer has committed ('written'), one once the refresh
# has committed ('done'), so that psql prints the notifications that arrived by then.
{ echo "LISTEN cxkpi_feedback;"; echo "SELECT 'listening';"
  for _ in $(seq 1 600); do [ -e "$written" ] && break; sleep 0.1; done; sleep 0.5; echo "SELECT 'written';"
  for _ in $(seq 1 600); do [ -e "$committed" ] && break; sleep 0.1; done; sleep 0.5; echo "SELECT 'done';"; } \
  | psql -X -At -d $db > "$out" 2>&1 &
listener=$!
sleep 1
q -c "INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id, comment) VALUES
        (1, '2026-11-05 10:00+00', 'nps', 3, 10, 'email', NULL, 'Delivery was late.'),
        (2, '2026-11-05 11:00+00', 'nps', 10, 10, 'app', NULL, NULL),
        (3, '2026-11-06 09:00+00', 'csat', 1, 5, 'returns', NULL, 'Refund took too long.')"
touch "$written"
sleep 1
q -c "SET client_min_messages = warning" -c "BEGIN" -c "CALL cxkpi.refresh_dashboard()" -c "ROLLBACK"
rolled_back=$(q -c "SELECT count(*) FROM cxkpi.feedback_followups")
q -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()"
touch "$committed"
wait $listener

echo "1..8"
[ "$rolled_back" = "0" ] && echo "ok 1 - a rolled-back refresh leaves no follow-up" || echo "not ok 1 - $rolled_back after rollback"
before=$(sed -n '1,/^written$/p' "$out" | grep -c 'Asynchronous notification' || true)
[ "$before" = "0" ] && echo "ok 2 - the writer's commit sent nothing (the refresh raises follow-ups)" || { echo "not ok 2 - $before"; sed 's/^/# /' "$out"; }
n=$(grep -c 'Asynchronous notification "cxkpi_feedback" with payload' "$out" || true)
[ "$n" = "2" ] && echo "ok 3 - one notification per follow-up (the detractor and the dissatisfied answer)" || { echo "not ok 3 - $n notifications"; sed 's/^/# /' "$out"; }
grep -q '"response_id" : 1, .*"survey" : "nps", "score" : 3, "scale" : 10, "category" : "detractor", "channel" : "email"' "$out" \
  && grep -q '"response_id" : 3, .*"category" : "dissatisfied", "channel" : "returns"' "$out" \
  && echo "ok 4 - the payload is JSON with the answer's id, survey, score, category and channel" \
  || { echo "not ok 4 - payloads"; grep payload "$out" | sed 's/^/# /'; }
ids=$(q -c "SELECT string_agg(followup_id::text, ' ' ORDER BY followup_id) FROM cxkpi.feedback_followups")
ok=true; for id in $ids; do grep -q "\"followup_id\" : $id," "$out" || ok=false; done
$ok && echo "ok 5 - every follow-up id was notified" || echo "not ok 5 - ids $ids"
taken=$(q -c "WITH c AS (SELECT followup_id FROM cxkpi.feedback_followups WHERE delivered_at IS NULL ORDER BY followup_id
              FOR UPDATE SKIP LOCKED) UPDATE cxkpi.feedback_followups f SET delivered_at = now() FROM c
              WHERE f.followup_id = c.followup_id RETURNING f.followup_id" | wc -l)
[ "$taken" = "2" ] && echo "ok 6 - a consumer drains the queue with SKIP LOCKED (2)" || echo "not ok 6 - taken $taken"
pg_dump -Fc -d $db -f "$dump" && pg_restore -d ${db}_r "$dump" 2>&1 | sed 's/^/# /'
list="SELECT string_agg(format('%s %s %s %s', followup_id, response_id, category, delivered_at IS NOT NULL), ';' ORDER BY followup_id) FROM cxkpi.feedback_followups"
a1=$(q -c "$list"); a2=$(psql -X -q -At -d ${db}_r -c "$list")
[ -n "$a1" ] && [ "$a1" = "$a2" ] && echo "ok 7 - pg_restore brings the queue back" || { echo "not ok 7"; echo "# $a1"; echo "# $a2"; }
again=$(psql -X -q -At -v ON_ERROR_STOP=1 -d ${db}_r -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard()" \
  -c "INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES (4, '2026-11-07 10:00+00', 'nps', 0, 10, 'web')" \
  -c "CALL cxkpi.refresh_dashboard()" \
  -c "SELECT count(*) || ' ' || count(DISTINCT followup_id) || ' ' || string_agg(response_id::text, ',' ORDER BY followup_id) FROM cxkpi.feedback_followups" 2>&1)
[ "$again" = "3 3 1,3,4" ] && echo "ok 8 - the first refresh after the restore raises nothing again; a new answer gets a fresh id" \
  || echo "not ok 8 - $again"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE $db" -c "DROP DATABASE ${db}_r"
