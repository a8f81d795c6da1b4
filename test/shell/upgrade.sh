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
dropall() { for db in $old $new $fresh ${old}_x ${fresh}_x ${old}_dep; do q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"; done; }
dropall
for db in $old $fresh; do q -d postgres -c "CREATE DATABASE $db"; done
n=0; failed=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
notok() { n=$((n+1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

echo "1..13"

# --- 1. cxkpi 1.0 with data, edited configuration, alerts and stored summaries -------------------
q -d $old -c "CREATE EXTENSION cxkpi VERSION '1.0'"
check "cxkpi 1.0 installs from the frozen script" \
  test "$(q -d $old -c "SELECT extversion FROM pg_extension WHERE extname = 'cxkpi'")" = 1.0
q -d $old -f test/fixtures/user_database.sql >/dev/null
alerts_before=$(q -d $old -c "SELECT count(*) FROM cxkpi.alerts")
check "alerts were raised and one acknowledged before the upgrade ($alerts_before alerts)" \
  test "$(q -d $old -c "SELECT count(*) > 0 AND count(acknowledged_at) = 1 FROM cxkpi.alerts")" = t

# Every table that holds user rows: the extension's configuration tables (pg_dump dumps them),
# the alert states, and the user's own tables.  Fingerprinted with the columns they had in 1.0;
# the levels of the alert states (level, level_since, evaluated_at) are derived, and the update
# re-evaluates them (1.1's level 'off target'): checked below instead; the running summaries and
# the source of 1.0's per-statement alerting engine (nps, csat, ces, source) are dropped by 1.1,
# whose states take their values from cxkpi.kpi_values (docs/alerts.md#changes-in-11).
q -d $old -c "SELECT c.oid::regclass || ' ' || string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum)
              FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE c.relkind = 'r' AND (c.oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'cxkpi')::oid[])
                                          OR c.oid IN ('cxkpi.alert_state'::regclass, 'public.my_summaries'::regclass, 'public.my_models'::regclass))
                AND NOT (c.oid = 'cxkpi.alert_state'::regclass AND a.attname IN ('level', 'level_since', 'evaluated_at', 'nps', 'csat', 'ces', 'source'))
              GROUP BY c.oid ORDER BY 1" > "$work/tables"
# The rows of every such table, one file per table, as sorted text.
rows() {
  local db=$1 dir=$2 rel cols
  mkdir -p "$dir"
  while read -r rel cols; do
    q -d "$db" -c "SELECT t::text FROM (SELECT $cols FROM $rel) t" | LC_ALL=C sort > "$dir/$rel"
  done < "$work/tables"
}
rows $old "$work/rows_before"
. test/fixtures/user_database.sh
q -d $old -c "$summaries" > "$work/summaries_before"
# The user's view reads the scorecard: its rows as 1.0 computes them from the facts as they are
# (1.0's matviews hold the figures of their last refresh, and the fixture wrote facts after it;
# the update computes the rollups from the facts).
q -d $old -c "SET client_min_messages = warning" -c "CALL cxkpi.refresh_dashboard(false)"
q -d $old -c "$user_view" > "$work/user_view_before"

# --- 2. ALTER EXTENSION cxkpi UPDATE -------------------------------------------------------------
if q -d $old -c "ALTER EXTENSION cxkpi UPDATE" && \
   test "$(q -d $old -c "SELECT extversion FROM pg_extension WHERE extname = 'cxkpi'")" = 1.1; then
  ok "ALTER EXTENSION cxkpi UPDATE goes from 1.0 to 1.1"
else
  notok "ALTER EXTENSION cxkpi UPDATE goes from 1.0 to 1.1"
fi
rows $old "$work/rows_after"
# Every row is still there, unchanged; the update may only add built-in configuration rows (a new
# setting, KPI or target: is_default).
: > "$work/rows.diff"
while read -r rel cols; do
  LC_ALL=C comm -23 "$work/rows_before/$rel" "$work/rows_after/$rel" | sed "s/^/$rel lost: /" >> "$work/rows.diff"
  # (is_default is the last column of the configuration tables: a built-in row ends in ",t)")
  case $rel in
    cxkpi.settings|cxkpi.kpi_definitions|cxkpi.kpi_targets) builtin=',t)$' ;;
    *) builtin='^$' ;;
  esac
  LC_ALL=C comm -13 "$work/rows_before/$rel" "$work/rows_after/$rel" | { grep -v "$builtin" || true; } \
    | sed "s/^/$rel added: /" >> "$work/rows.diff"
done < "$work/tables"
if [ ! -s "$work/rows.diff" ]; then
  ok "every user row survives the update ($(wc -l < "$work/tables") tables: data, targets, settings, alert outbox and states, user tables)"
else
  notok "user rows changed in the update" "$(head -20 "$work/rows.diff")"
fi
check "stored summaries of every type read back the same after the update" \
  diff -q "$work/summaries_before" <(q -d $old -c "$summaries")
check "the update re-evaluates the alert states: every level is the scorecard's status of its value (no green off target)" \
  test "$(q -d $old -c "SELECT count(*) FROM cxkpi.alert_state AS s JOIN cxkpi.kpi_definitions AS d USING (kpi)
                        LEFT JOIN LATERAL cxkpi.effective_target(s.kpi, s.dimension, s.period_start) AS t ON true
                        WHERE s.level NOT IN ('red', 'yellow')
                          AND s.level <> cxkpi.kpi_status(d.direction, s.value, s.sample_size, t.target, t.red_threshold,
                                                          t.yellow_threshold, t.min_sample_size)")" = 0
check "a user's view on a dashboard view is kept as it was (definition, comments, grant, rows), though the rollups under it are rebuilt" \
  diff "$work/user_view_before" <(q -d $old -c "$user_view")

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
                   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cxkpi')
                   -- (PostgreSQL 17+ records array types as members, and recent minor releases the row
                   -- types of tables, views and matviews; they leave with their element type or relation)
                   AND NOT (d.classid = 'pg_type'::regclass
                            AND EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = d.objid
                                        AND (t.typcategory = 'A'
                                             OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c'))))
                 ORDER BY 1" > "$work/detach_$copy.sql"
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

# The hour grain (new in 1.1) is filled by the update from the facts: an hourly table left empty
# would only fill day by day as facts arrive, and kpi_today / kpi_heatmap would show nothing.
hourly_diff="SELECT (SELECT count(*) FROM cxkpi.hourly_orders) > 0 AND NOT EXISTS (
  SELECT 1 FROM ((SELECT h::text FROM cxkpi.hourly_conversion AS h EXCEPT ALL SELECT r::text FROM cxkpi.rollup_hourly_conversion(t.tz, '-infinity', 'infinity') AS r)
                 UNION ALL (SELECT r::text FROM cxkpi.rollup_hourly_conversion(t.tz, '-infinity', 'infinity') AS r EXCEPT ALL SELECT h::text FROM cxkpi.hourly_conversion AS h)) AS x
  UNION ALL
  SELECT 1 FROM ((SELECT h::text FROM cxkpi.hourly_orders AS h EXCEPT ALL SELECT r::text FROM cxkpi.rollup_hourly_orders(t.tz, '-infinity', 'infinity') AS r)
                 UNION ALL (SELECT r::text FROM cxkpi.rollup_hourly_orders(t.tz, '-infinity', 'infinity') AS r EXCEPT ALL SELECT h::text FROM cxkpi.hourly_orders AS h)) AS x
  UNION ALL
  SELECT 1 FROM ((SELECT h::text FROM cxkpi.hourly_carts AS h EXCEPT ALL SELECT r::text FROM cxkpi.rollup_hourly_carts(t.tz, '-infinity', 'infinity') AS r)
                 UNION ALL (SELECT r::text FROM cxkpi.rollup_hourly_carts(t.tz, '-infinity', 'infinity') AS r EXCEPT ALL SELECT h::text FROM cxkpi.hourly_carts AS h)) AS x
  UNION ALL
  SELECT 1 FROM ((SELECT h::text FROM cxkpi.hourly_tickets AS h EXCEPT ALL SELECT r::text FROM cxkpi.rollup_hourly_tickets(t.tz, '-infinity', 'infinity') AS r)
                 UNION ALL (SELECT r::text FROM cxkpi.rollup_hourly_tickets(t.tz, '-infinity', 'infinity') AS r EXCEPT ALL SELECT h::text FROM cxkpi.hourly_tickets AS h)) AS x)
FROM (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS t"   # OFFSET 0: one setting() call, not one per fact row
check "the update fills the hourly rollups (the hour grain) from the facts, equal to their rebuild" \
  test "$(q -d $old -c "$hourly_diff")" = t

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

# --- 5. What a rebuild would drop and cannot create again stops the update ------------------------
q -d postgres -c "CREATE DATABASE ${old}_dep"
q -d ${old}_dep -c "CREATE EXTENSION cxkpi VERSION '1.0'" \
  -c "CREATE FUNCTION public.red_kpis() RETURNS SETOF cxkpi.kpi_scorecard LANGUAGE sql AS 'SELECT * FROM cxkpi.kpi_scorecard'"
err=$(q -d ${old}_dep -v VERBOSITY=verbose -c "ALTER EXTENSION cxkpi UPDATE" 2>&1) || true
if [[ "$err" == *"ERROR:  2BP01: cannot rebuild"*"red_kpis()"*"depends on type cxkpi.kpi_scorecard"* ]] \
   && [ "$(q -d ${old}_dep -c "SELECT extversion FROM pg_extension WHERE extname = 'cxkpi'")" = 1.0 ]; then
  ok "a function of the user's on a dashboard view's row type stops the update (2BP01, naming it); 1.0 stays"
else
  notok "the update with a dependent function" "$err"
fi

dropall
exit $failed
