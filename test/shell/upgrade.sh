#!/usr/bin/env bash
# The upgrade path 1.0 -> 1.1 (ALTER EXTENSION cxkpi UPDATE), as a DBA meets it.  Emits TAP.
#  1. Install 1.0 (the frozen cxkpi--1.0.sql), load the sample data, edit targets and settings,
#     add a user KPI, raise and acknowledge alerts, store summaries of every type in a user table.
#  2. ALTER EXTENSION cxkpi UPDATE: every user row (data tables, targets, settings, the alert
#     outbox, the open alert states, the user table) is still there, unchanged.
#  3. The schema equals a fresh 1.1 install: pg_dump --schema-only of both (with the
#     extension's member objects detached, so that pg_dump prints them), normalised, are equal.
#  4. A fresh 1.1 install loaded with the same data (pg_dump | pg_restore) gives the same
#     scorecard after a refresh, and the same stored summaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=cxkpi_up_old; new=cxkpi_up_new; fresh=cxkpi_up_fresh
work=$(mktemp -d /tmp/cxkpi_upgrade.XXXXXX)
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
dropall() { for db in $old $new $fresh ${old}_x ${fresh}_x; do q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"; done; }
dropall
for db in $old $fresh; do q -d postgres -c "CREATE DATABASE $db"; done
n=0; failed=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
notok() { n=$((n+1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

echo "1..9"

# --- 1. cxkpi 1.0 with data, edited configuration, alerts and stored summaries -------------------
q -d $old -c "CREATE EXTENSION cxkpi VERSION '1.0'"
check "cxkpi 1.0 installs from the frozen script" \
  test "$(q -d $old -c "SELECT extversion FROM pg_extension WHERE extname = 'cxkpi'")" = 1.0
q -d $old >/dev/null <<'SQL'
SELECT count(*) FROM cxkpi.generate_sample_data(scale => 0.05, seed => 7);
UPDATE cxkpi.kpi_targets SET target = 55, red_threshold = 30 WHERE kpi = 'nps' AND dimension = '';
UPDATE cxkpi.kpi_targets SET enabled = false WHERE kpi = 'app_rating';
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target, red_threshold, yellow_threshold, min_sample_size)
VALUES ('csat', 'store', 4.6, 3.5, 4.0, 10);
UPDATE cxkpi.settings SET value = '60' WHERE key = 'loyalty_active_days';
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max)
VALUES ('nps_staff', 'Employee NPS', 'operational_efficiency', 'points', 'higher_is_better', 'eNPS survey', 'metric_observations', -100, 100);
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target, red_threshold, yellow_threshold, min_sample_size)
VALUES ('nps_staff', '', 40, 10, 25, 1);
INSERT INTO cxkpi.metric_observations VALUES ('nps_staff', '2025-11-10', '', 5, 1), ('nps_staff', '2025-11-20', 'store_a', 45, 2);
CALL cxkpi.refresh_dashboard(false);
SELECT cxkpi.check_thresholds();
-- A breach raised by the triggers as facts arrive: a burst of detractors on the web.
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
SELECT 900000000 + i, timestamptz '2025-12-30 12:00 UTC', 'nps', 0, 10, 'web' FROM generate_series(1, 400) AS i;
SELECT cxkpi.acknowledge_alert(min(alert_id)) FROM cxkpi.current_alerts;
-- Stored summaries of every type, in a table of the user's own.
CREATE TABLE public.my_summaries AS
SELECT (SELECT nps_agg(score) FROM cxkpi.survey_responses WHERE survey = 'nps') AS nps,
       (SELECT csat_agg(score, 5) FROM cxkpi.survey_responses WHERE survey = 'csat' AND scale = 5) AS csat,
       (SELECT ces_agg(score, 7) FROM cxkpi.survey_responses WHERE survey = 'ces' AND scale = 7) AS ces,
       (SELECT return_agg(items, 0, gross_value - discount, 0) FROM cxkpi.orders) AS returns,
       (SELECT retention_agg(customer_id, ordered_at::date) FROM cxkpi.orders) AS retention;
CREATE TABLE public.my_models AS
SELECT bgnbd_fit(frequency, recency, t) AS bgnbd, mbgnbd_fit(frequency, recency, t) AS mbgnbd,
       gamma_gamma_fit(frequency, monetary_value) AS gg
FROM (SELECT (rfm_agg(ordered_at::date, gross_value - discount, date '2025-12-31')).* FROM cxkpi.orders GROUP BY customer_id) r;
SQL
alerts_before=$(q -d $old -c "SELECT count(*) FROM cxkpi.alerts")
check "alerts were raised and one acknowledged before the upgrade ($alerts_before alerts)" \
  test "$(q -d $old -c "SELECT count(*) > 0 AND count(acknowledged_at) = 1 FROM cxkpi.alerts")" = t

# Every table that holds user rows: the extension's configuration tables (pg_dump dumps them),
# the alert states, and the user's own tables.  Fingerprinted with the columns they had in 1.0.
q -d $old -c "SELECT c.oid::regclass || ' ' || string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum)
              FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE c.relkind = 'r' AND (c.oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'cxkpi')::oid[])
                                          OR c.oid IN ('cxkpi.alert_state'::regclass, 'public.my_summaries'::regclass, 'public.my_models'::regclass))
              GROUP BY c.oid ORDER BY 1" > "$work/tables"
fingerprint() {
  local db=$1 rel cols
  while read -r rel cols; do
    echo "$rel $(q -d "$db" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '-')
                                FROM (SELECT $cols FROM $rel) t")"
  done < "$work/tables"
}
fingerprint $old > "$work/rows_before"
scorecard="SELECT kpi, breakdown, dimension, value, value_year_ago, target, red_threshold, yellow_threshold, status, sample_size
           FROM cxkpi.kpi_scorecard ORDER BY kpi, breakdown, dimension"
summaries="SELECT nps::text, csat::text, ces::text, returns::text, md5(retention::text), bgnbd::text, mbgnbd::text, gg::text
           FROM public.my_summaries, public.my_models"
q -d $old -c "$summaries" > "$work/summaries_before"

# --- 2. ALTER EXTENSION cxkpi UPDATE -------------------------------------------------------------
if q -d $old -c "ALTER EXTENSION cxkpi UPDATE" && \
   test "$(q -d $old -c "SELECT extversion FROM pg_extension WHERE extname = 'cxkpi'")" = 1.1; then
  ok "ALTER EXTENSION cxkpi UPDATE goes from 1.0 to 1.1"
else
  notok "ALTER EXTENSION cxkpi UPDATE goes from 1.0 to 1.1"
fi
fingerprint $old > "$work/rows_after"
if diff "$work/rows_before" "$work/rows_after" > "$work/rows.diff"; then
  ok "every user row survives the update ($(wc -l < "$work/tables") tables: data, targets, settings, alert outbox and states, user tables)"
else
  notok "user rows changed in the update" "$(cat "$work/rows.diff")"
fi
check "stored summaries of every type read back the same after the update" \
  diff -q "$work/summaries_before" <(q -d $old -c "$summaries")

# --- 3. The schema equals a fresh 1.1 install ----------------------------------------------------
q -d $fresh -c "CREATE EXTENSION cxkpi"
# pg_dump prints no member object of an extension; detach every member in a throwaway copy.
detached_schema() {
  local db=$1 copy=$2
  q -d postgres -c "CREATE DATABASE $copy TEMPLATE $db"
  q -d $copy -c "SELECT format('ALTER EXTENSION cxkpi DROP %s %s;',
                               CASE o.type WHEN 'composite type' THEN 'type' ELSE o.type END, o.identity)
                 FROM pg_depend d, LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o
                 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
                   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cxkpi')" > "$work/detach_$copy.sql"
  q -d $copy -f "$work/detach_$copy.sql" >/dev/null
  # Only the extension's schemas and objects: user objects differ by design (the user table).
  pg_dump --schema-only --no-owner -d $copy --exclude-table='public.my_*' \
    | grep -v -e '^--' -e '^$' -e '^SET ' -e '^SELECT pg_catalog.set_config' -e '^\\restrict' -e '^\\unrestrict' > "$work/schema_$copy.sql"
  q -d postgres -c "DROP DATABASE $copy"
}
detached_schema $old ${old}_x
detached_schema $fresh ${fresh}_x
members_old=$(grep -c . "$work/detach_${old}_x.sql"); members_fresh=$(grep -c . "$work/detach_${fresh}_x.sql")
diff -u "$work/schema_${fresh}_x.sql" "$work/schema_${old}_x.sql" > "$work/schema.diff" || true
if [ "$members_old" = "$members_fresh" ] && [ ! -s "$work/schema.diff" ]; then
  ok "1.0 + update has exactly the schema of a fresh 1.1 install ($members_fresh member objects, $(wc -l < "$work/schema_${fresh}_x.sql") lines of pg_dump --schema-only)"
else
  notok "the updated schema differs from a fresh 1.1 install (members: $members_old updated, $members_fresh fresh)" \
    "$(head -60 "$work/schema.diff")" "(fresh install: -, 1.0 + update: +)"
fi

# --- 4. A fresh 1.1 install loaded with the same data ---------------------------------------------
q -d postgres -c "CREATE DATABASE $new"
pg_dump -Fc -d $old -f "$work/old.dump"
check "pg_dump of the updated database restores into a fresh 1.1 install" \
  pg_restore -d $new --exit-on-error "$work/old.dump"
q -d $old -c "CALL cxkpi.refresh_dashboard(false)"
q -d $new -c "CALL cxkpi.refresh_dashboard(false)"
if diff <(q -d $old -c "$scorecard") <(q -d $new -c "$scorecard") > "$work/scorecard.diff" \
   && [ "$(q -d $new -c "SELECT count(*) FROM cxkpi.kpi_scorecard")" -gt 20 ]; then
  ok "the updated database and a fresh 1.1 install with the same data give the same scorecard"
else
  notok "the scorecards differ" "$(head -20 "$work/scorecard.diff")"
fi
check "and the same stored summaries" diff -q <(q -d $old -c "$summaries") <(q -d $new -c "$summaries")

dropall
exit $failed
