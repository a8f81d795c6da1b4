-- cxkpi demo: the sample dataset, the dashboard scorecard, open alerts, the churn watch list, the
-- win-back list, the interventions, the ticket forecasts by channel, the KPIs projected to the end
-- of the week (on course / off course) and how to connect.  psql variable scale: the data scale.  (test/demo.sh colours
-- the statuses.)
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION cxkpi;
-- A KPI value in its unit, for display.
CREATE FUNCTION pg_temp.fmt(v double precision, unit text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE unit WHEN 'percent' THEN to_char(v, 'FM990.0') || ' %'
                     WHEN 'currency' THEN to_char(v, 'FM$999,999,990.00')
                     WHEN 'hours' THEN to_char(v, 'FM9,990.00') || ' h'
                     WHEN 'seconds' THEN to_char(v, 'FM9,990.00') || ' s'
                     WHEN 'days' THEN to_char(v, 'FM9,990.0') || ' d'
                     WHEN 'count' THEN to_char(v, 'FM999,999,999,990')
                     WHEN 'points' THEN to_char(v, 'FM990.0')
                     ELSE to_char(v, 'FM999,990.00') END $$;

\echo
\echo 'Generating the sample retail dataset (two years of CX data, five of orders and loyalty activity, 2021-2025; scale' :scale ')'
\echo 'in stages, each reported as it ends (NOTICE: what, rows, seconds so far) ...'
SELECT cxkpi.set_alerting(false) AS alerting_off \gset
SET client_min_messages = notice;   -- the progress of the generator and of the refresh
SELECT table_name AS "table", to_char(row_count, 'FM999,999,999') AS rows
FROM cxkpi.generate_sample_data(:scale) ORDER BY row_count DESC;
\echo 'Refreshing the dashboard (daily rollups, every KPI at every grain, the CLV models) ...'
CALL cxkpi.refresh_dashboard(false);
SET client_min_messages = warning;
ANALYZE;
\echo 'Switching alerting on (the load ran with it off): every alert state is evaluated ...'
SELECT cxkpi.set_alerting(true) AS alerts_raised \gset

\echo
\echo 'Scorecard 2025 (cxkpi.kpi_scorecard: the last complete year before as_of 2026-01-01)'
\echo 'against seed 000 targets and action triggers, with 2024 for comparison.  flag: the action'
\echo 'trigger that fired (red: act now, yellow: monitor); status: red, yellow, off target (no'
\echo 'trigger, but the target is missed) or green (target met):'
SELECT CASE WHEN s.breakdown = 'total' THEN s.kpi_name ELSE '    ' || s.dimension END AS "KPI",
       pg_temp.fmt(s.value, s.unit) AS "2025",
       pg_temp.fmt(s.value_year_ago, s.unit) AS "2024",
       CASE s.direction WHEN 'higher_is_better' THEN '>= ' ELSE '< ' END || pg_temp.fmt(s.target, s.unit) AS target,
       coalesce(s.flag, '') AS flag,
       s.status
FROM cxkpi.kpi_scorecard AS s
JOIN cxkpi.kpi_definitions AS d USING (kpi)
WHERE s.value IS NOT NULL
  AND (s.breakdown = 'total'
       OR (s.kpi = 'csat' AND s.dimension IN ('store', 'web', 'app'))
       OR (s.kpi = 'conversion_rate' AND s.dimension IN ('desktop', 'mobile', 'store'))
       OR (s.kpi = 'aov' AND s.breakdown = 'segment')
       OR (s.kpi = 'response_time_hours' AND s.breakdown = 'channel'))
  AND s.section IN ('satisfaction', 'purchase_experience', 'service_quality', 'loyalty_retention',
                    'digital_experience', 'operational_efficiency')
  AND s.kpi NOT IN ('csat_satisfied_pct', 'response_time_median_hours', 'response_time_p90_hours',
                    'resolution_time_median_hours', 'resolution_time_p90_hours', 'delivery_time_p90_days')
ORDER BY array_position(ARRAY['satisfaction', 'purchase_experience', 'service_quality', 'loyalty_retention',
                              'digital_experience', 'operational_efficiency'], s.section),
         array_position(ARRAY['nps', 'csat', 'ces', 'conversion_rate', 'aov', 'cart_abandonment_rate', 'cart_recovery_rate',
                              'delivery_time_days', 'delivery_time_median_days', 'on_time_delivery_rate',
                              'response_time_hours', 'resolution_time_hours', 'resolution_rate', 'first_contact_resolution_rate',
                              'retention_rate', 'churn_rate', 'loyalty_members', 'loyalty_active_share'], s.kpi),
         s.kpi, s.breakdown <> 'total',
         array_position(ARRAY['store', 'web', 'app', 'desktop', 'mobile', 'new', 'returning', 'loyalty', 'email', 'chat', 'phone'],
                        s.dimension);
\echo 'Returns (seed 001) and customer value in 2025: SELECT * FROM cxkpi.kpi_returns / cxkpi.kpi_customer_value'
\echo 'WHERE grain = ''year''; every KPI by week, month and quarter: cxkpi.kpi_timeseries.'
\echo
\echo 'New customers by acquisition source in the last complete year (cxkpi.kpi_customer_value):'
SELECT dimension AS acquisition_channel, new_customers, round(new_customer_share_pct::numeric, 1) AS share_pct,
       round(cac_currency::numeric, 2) AS cac
FROM cxkpi.kpi_customer_value
WHERE grain = 'year' AND period_start = date_trunc('year', cxkpi.as_of() - 1)::date
  AND breakdown = 'acquisition_channel'
ORDER BY new_customers DESC, dimension;

SELECT to_regclass('cxkpi.current_alerts') IS NOT NULL AS has_alerts \gset
\if :has_alerts
\echo
\echo 'Open alerts (cxkpi.current_alerts):'
SELECT level,
       kpi_name || CASE WHEN breakdown = 'total' THEN '' ELSE ' (' || dimension || ')' END AS "KPI",
       grain, period_start AS "period", pg_temp.fmt(current_value, unit) AS value,
       pg_temp.fmt(threshold, unit) AS threshold
FROM cxkpi.current_alerts
ORDER BY level = 'yellow', kpi_name, breakdown, dimension, grain
LIMIT 15;
\endif

\echo
\echo 'CLV models fitted over every customer at the refresh (cxkpi.clv_models; weeks, net order values):'
SELECT 'BG/NBD purchases' AS model,
       format('r %s, alpha %s weeks, a %s, b %s', round(p.r::numeric, 3), round(p.alpha::numeric, 2),
              round(p.a::numeric, 3), round(p.b::numeric, 2)) AS parameters,
       converged(m.bgnbd) AS converged, customers(m.bgnbd) AS customers
FROM cxkpi.clv_models AS m, bgnbd_params(m.bgnbd) AS p
UNION ALL
SELECT 'Gamma-Gamma spend', format('p %s, q %s, v %s', round(p.p::numeric, 2), round(p.q::numeric, 2), round(p.v::numeric, 2)),
       converged(m.gamma_gamma), customers(m.gamma_gamma)
FROM cxkpi.clv_models AS m, gamma_gamma_params(m.gamma_gamma) AS p;

\echo
\i test/demo/churn_watchlist.sql

\echo
\echo 'Recommended interventions (cxkpi_bi.intervention_summary; rules in cxkpi.intervention_rules, first match'
\echo 'by priority; per customer with reasons: cxkpi_bi.customer_interventions; docs/interventions.md):'
SELECT priority, intervention, to_char(customers, 'FM999,999') AS customers,
       to_char(value_at_stake_52w_currency, 'FM$999,999,990') AS "value at stake",
       to_char(historic_value_currency, 'FM$999,999,990') AS "spend to date"
FROM cxkpi_bi.intervention_summary ORDER BY priority, rule;

\echo
\echo 'Support tickets forecast by channel, next 4 weeks (cxkpi_bi.kpi_forecast, refitted at each refresh;'
\echo 'point forecast and 80 % interval: staff each channel for the upper bound; 13 weeks and 90 days ahead in the view):'
SELECT period_start AS "week of",
       max(round(point) || ' (' || round(lo80) || '-' || round(hi80) || ')') FILTER (WHERE dimension = 'chat') AS chat,
       max(round(point) || ' (' || round(lo80) || '-' || round(hi80) || ')') FILTER (WHERE dimension = 'email') AS email,
       max(round(point) || ' (' || round(lo80) || '-' || round(hi80) || ')') FILTER (WHERE dimension = 'phone') AS phone,
       max(round(point) || ' (' || round(lo80) || '-' || round(hi80) || ')') FILTER (WHERE dimension = 'all') AS "all channels"
FROM cxkpi_bi.kpi_forecast
WHERE measure = 'support_tickets' AND grain = 'week' AND point IS NOT NULL
GROUP BY period_start
ORDER BY period_start
LIMIT 4;

SELECT format('(%s to %s, %s of 7 days complete; cxkpi_bi.kpi_projection): AOV from the daily forecasts,',
              min(period_start), max(period_end), max(days_complete)) AS week_line
FROM cxkpi_bi.kpi_projection WHERE grain = 'week' \gset
\echo
\echo 'On course? Each KPI with a target projected to the end of this week'
\echo :week_line
\echo 'in total and by channel, every other KPI at its value to date (month and quarter in the view):'
SELECT CASE WHEN p.breakdown = 'total' THEN p.kpi_name ELSE '    ' || p.dimension END AS "KPI",
       coalesce(pg_temp.fmt(p.value_to_date, p.unit), '-') AS "to date",
       coalesce(pg_temp.fmt(p.projected_value, p.unit), '-') AS projected,
       CASE p.direction WHEN 'higher_is_better' THEN '>= ' ELSE '< ' END || pg_temp.fmt(p.target, p.unit) AS target,
       coalesce(p.course, 'no data yet') AS course
FROM cxkpi_bi.kpi_projection AS p
WHERE p.grain = 'week'
ORDER BY p.kpi_order, p.breakdown <> 'total', p.dimension;
