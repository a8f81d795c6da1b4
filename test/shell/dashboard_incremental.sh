#!/usr/bin/env bash
# The incremental refresh under concurrent writers (docs/architecture.md#1-change-capture-writers-append-never-update):
# four pgbench clients commit small transactions (new orders of random customers, also the same
# customers from several clients; orders moved to other days; orders deleted; survey answers)
# while CALL cxkpi.refresh_dashboard() runs again and again; then a last refresh leaves exactly
# the rows of a rebuild (every daily rollup and cxkpi.kpi_values, as text rows, EXCEPT ALL both
# ways).  On a copy of the sample database (DOCTEST_DB, default cxkpi_sample).  Emits TAP.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${DOCTEST_DB:-cxkpi_sample}
db=cxkpi_incremental
work=$(mktemp -d /tmp/cxkpi_incremental.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
test/sample_db.sh "$src"
q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $src"
echo "1..4"

q -d $db -c "CALL cxkpi.refresh_dashboard()"
cat > "$work/writer.sql" <<'SQL'
\set c random(1, 26000)
\set id random(1, 100000000)
\set d random(0, 700)
\set old random(1, 139000)
BEGIN;
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
VALUES (2000000000 + :id, :c, timestamptz '2025-12-01 12:00+00' - :d * interval '1 day', 'web_mobile', 1 + :id % 3, 10 + :id % 50, 0)
ON CONFLICT DO NOTHING;
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
VALUES (2000000000 + :id, timestamptz '2025-12-01 12:00+00' - :d * interval '1 day', 'nps', :id % 11, 10, 'web')
ON CONFLICT DO NOTHING;
COMMIT;
UPDATE cxkpi.orders SET ordered_at = ordered_at + (:d % 9 - 4) * interval '1 day'
WHERE order_id = :old AND NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = :old)
  AND NOT EXISTS (SELECT 1 FROM cxkpi.order_deliveries AS v WHERE v.order_id = :old);
DELETE FROM cxkpi.orders WHERE order_id = 2000000000 + (:id + 7) % 100000000
  AND NOT EXISTS (SELECT 1 FROM cxkpi.survey_responses AS s WHERE s.order_id = 2000000000 + (:id + 7) % 100000000);
SQL
pgbench -n -c 4 -j 2 -T 20 -f "$work/writer.sql" $db > "$work/pgbench.out" 2>&1 &
bench=$!
refreshes=0
while kill -0 $bench 2>/dev/null; do
  q -d $db -c "CALL cxkpi.refresh_dashboard()" && refreshes=$((refreshes + 1))
done
if wait $bench && grep -q "number of failed transactions: 0" "$work/pgbench.out"; then
  echo "ok 1 - four writers committed $(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out") transactions, none failed"
else
  echo "not ok 1 - the writers failed"; sed 's/^/# /' "$work/pgbench.out"
fi
if [ $refreshes -ge 2 ]; then echo "ok 2 - $refreshes refreshes ran while they wrote"; else echo "not ok 2 - only $refreshes refreshes ran"; fi

q -d $db -c "CALL cxkpi.refresh_dashboard()"
tables="daily_surveys daily_orders daily_customer_activity daily_conversion daily_carts daily_tickets daily_ticket_resolutions daily_loyalty daily_app_ratings daily_observations daily_return_events daily_acquisition hourly_conversion hourly_orders hourly_carts hourly_tickets daily_deliveries kpi_values daily_engagement daily_sentiment"
for t in $tables; do q -d $db -c "SELECT x::text FROM cxkpi.$t AS x" | LC_ALL=C sort > "$work/inc_$t"; done
test "$(q -d $db -c "SELECT count(*) FROM cxkpi.change_log")" = 0 && echo "ok 3 - the last refresh consumed the change log" \
  || echo "not ok 3 - change-log rows left after the last refresh"
q -d $db -c "CALL cxkpi.rebuild_dashboard()"
diffs=""
for t in $tables; do
  q -d $db -c "SELECT x::text FROM cxkpi.$t AS x" | LC_ALL=C sort > "$work/full_$t"
  cmp -s "$work/inc_$t" "$work/full_$t" || diffs="$diffs $t($(diff "$work/inc_$t" "$work/full_$t" | grep -c '^[<>]'))"
done
if [ -z "$diffs" ]; then
  echo "ok 4 - after concurrent writers, the incremental refresh equals a rebuild ($(wc -l < "$work/full_kpi_values") KPI rows)"
else
  echo "not ok 4 - the incremental refresh differs from a rebuild in:$diffs"
fi
q -d postgres -c "DROP DATABASE $db"
