-- The loyalty KPIs of the sample data (scale 1, seed 42; test/prove.sh runs this file on the
-- database of test/sample_db.sh), period by period: for every week, month, quarter and year the
-- rollup (cxkpi.kpi_values) counts exactly the members and the active members that plain SQL
-- counts from the data tables (tap.loyalty_active_plain in test/tap_setup.sql: orders and
-- programme activities on or after enrolling, and last_active_on, in the loyalty_active_days
-- days up to the end of the period), and the BI view shows the same numbers.
BEGIN;
SET client_min_messages = warning;
SELECT plan(13);

SELECT ok((SELECT count(*) > 50000 FROM cxkpi.loyalty_activity), 'the sample data has programme activity (over 50,000 rows)');
SELECT is(cxkpi.setting('loyalty_active_days'), '90', 'the active window is 90 days');

CREATE TEMP TABLE plain AS SELECT * FROM tap.loyalty_active_plain(cxkpi.setting('loyalty_active_days')::integer);
CREATE TEMP TABLE rolled AS
SELECT grain, period_start, kpi, value, numerator, denominator FROM cxkpi.kpi_values
WHERE kpi IN ('loyalty_active_share', 'loyalty_members') AND breakdown = 'total';

-- Every period of every grain: the same periods, active members and members.
SELECT results_eq(format($$SELECT period_start, numerator::bigint, denominator::bigint FROM rolled
                           WHERE kpi = 'loyalty_active_share' AND grain = %L ORDER BY 1$$, g),
                  format($$SELECT period_start, active, members FROM plain WHERE grain = %L ORDER BY 1$$, g),
                  format('%s: active members and members of all %s periods (%s to %s) equal plain SQL', g,
                         (SELECT count(*) FROM plain AS p WHERE p.grain = g),
                         (SELECT min(period_start) FROM plain AS p WHERE p.grain = g),
                         (SELECT max(period_start) FROM plain AS p WHERE p.grain = g)))
FROM unnest(ARRAY['week', 'month', 'quarter', 'year']) AS g;
SELECT results_eq(format($$SELECT period_start, value::bigint FROM rolled WHERE kpi = 'loyalty_members' AND grain = %L ORDER BY 1$$, g),
                  format($$SELECT period_start, members FROM plain WHERE grain = %L ORDER BY 1$$, g),
                  format('%s: loyalty members of all %s periods equal plain SQL', g, (SELECT count(*) FROM plain AS p WHERE p.grain = g)))
FROM unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS g;
SELECT is((SELECT max(abs(value - 100.0 * numerator / denominator)) < 1e-9 FROM rolled WHERE kpi = 'loyalty_active_share'), true,
          'the active share is 100 * active members / members in every period');
-- The BI view: kpi_loyalty_retention shows the same members and active members.
SELECT is((SELECT count(*) FROM plain AS p
           JOIN cxkpi.kpi_loyalty_retention AS v ON v.grain = p.grain AND v.period_start = p.period_start
           WHERE (v.loyalty_members, v.active_loyalty_members) = (p.members, p.active)),
          (SELECT count(*) FROM plain WHERE grain <> 'day'),
          'kpi_loyalty_retention: the members and active members of every week, month, quarter and year equal plain SQL');

SELECT * FROM finish();
ROLLBACK;
