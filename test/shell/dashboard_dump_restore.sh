#!/usr/bin/env bash
# pg_dump of a database with dashboard data, edited targets, a user KPI and edited settings
# restores (pg_restore into a fresh database, then CALL cxkpi.refresh_dashboard()) with the same
# data, the same config rows (no duplicate of a built-in row) and the same scorecard.  Emits TAP.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=cxkpi_dash_src; dst=cxkpi_dash_dst; dump=$(mktemp /tmp/cxkpi_dash_dump.XXXXXX)
trap 'rm -f "$dump"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
for db in $src $dst; do
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
q -d $src -c "CREATE EXTENSION cxkpi" >/dev/null
q -d $src -v customers=1500 -f test/bench/dashboard_data.sql >/dev/null
q -d $src <<'SQL' >/dev/null
UPDATE cxkpi.settings SET value = '2025-12-01' WHERE key = 'as_of';
UPDATE cxkpi.settings SET value = '60' WHERE key = 'loyalty_active_days';
UPDATE cxkpi.kpi_targets SET target = 55, red_threshold = 30, min_sample_size = 20 WHERE kpi = 'nps';
UPDATE cxkpi.kpi_targets SET enabled = false WHERE kpi = 'app_rating';
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target, red_threshold, yellow_threshold, min_sample_size)
VALUES ('csat', 'store', 4.6, 3.5, 4.0, 10), ('return_rate', '', 10, 20, 15, 50);
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max)
VALUES ('nps_staff', 'Employee NPS', 'operational_efficiency', 'points', 'higher_is_better', 'eNPS survey', 'metric_observations', -100, 100);
INSERT INTO cxkpi.metric_observations VALUES ('nps_staff', '2025-11-10', '', 30, 1), ('nps_staff', '2025-11-20', 'store_a', 45, 2);
CALL cxkpi.refresh_dashboard();
SQL
scorecard="SELECT md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', kpi, breakdown, dimension, value, target, status,
                                           value_year_ago, sample_size), ';' ORDER BY kpi, breakdown, dimension)) || ' ' || count(*)
           FROM cxkpi.kpi_scorecard"
config="SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) || ' ' || count(*) FROM (
          SELECT 'target', kpi, dimension, valid_from, target, red_threshold, yellow_threshold, min_sample_size, enabled FROM cxkpi.kpi_targets
          UNION ALL SELECT 'kpi', kpi, name, NULL, value_min, value_max, NULL, NULL, NULL FROM cxkpi.kpi_definitions
          UNION ALL SELECT 'setting', key, value, NULL, NULL, NULL, NULL, NULL, NULL FROM cxkpi.settings) t"
data="SELECT (SELECT count(*) FROM cxkpi.orders) || ' ' || (SELECT count(*) FROM cxkpi.order_returns) || ' ' ||
             (SELECT count(*) FROM cxkpi.survey_responses) || ' ' || (SELECT count(*) FROM cxkpi.web_sessions) || ' ' ||
             (SELECT count(*) FROM cxkpi.support_tickets) || ' ' || (SELECT count(*) FROM cxkpi.metric_observations) || ' ' ||
             (SELECT md5(string_agg(o::text, ';' ORDER BY order_id)) FROM cxkpi.orders o)"
s_before=$(q -d $src -c "$scorecard"); c_before=$(q -d $src -c "$config"); d_before=$(q -d $src -c "$data")

echo "1..6"
if pg_dump -Fc -d $src -f "$dump"; then echo "ok 1 - pg_dump"; else echo "not ok 1 - pg_dump"; fi
if pg_restore -d $dst --exit-on-error "$dump"; then echo "ok 2 - pg_restore into a fresh database (no duplicate key on built-in rows)"
else echo "not ok 2 - pg_restore"; fi
q -d $dst -c "CALL cxkpi.refresh_dashboard(false)"
d_after=$(q -d $dst -c "$data"); c_after=$(q -d $dst -c "$config"); s_after=$(q -d $dst -c "$scorecard")
if [ "$d_before" = "$d_after" ]; then echo "ok 3 - the data tables restore"; else echo "not ok 3 - data differs: $d_before / $d_after"; fi
if [ "$c_before" = "$c_after" ]; then echo "ok 4 - edited targets, the user KPI and edited settings restore"; else echo "not ok 4 - config differs"; fi
if [ "$s_before" = "$s_after" ]; then echo "ok 5 - the same scorecard after restore and refresh"; else echo "not ok 5 - scorecard differs"; fi
n=$(q -d $dst -c "SELECT count(*) FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total' AND target = 55 AND red_threshold = 30")
if [ "$n" = 1 ]; then echo "ok 6 - the edited NPS target is in force"; else echo "not ok 6 - edited target lost"; fi
for db in $src $dst; do q -d postgres -c "DROP DATABASE $db"; done
