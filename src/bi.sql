-- What BI tools read (1.1, docs/bi.md): schema cxkpi_bi, which holds the views a BI login can
-- open and nothing else, with one naming of the key columns, display names and order from a KPI
-- catalogue, and a COMMENT on every view and column; and the one step that makes a BI login.
--
-- The cxkpi views stay as they are (users read them); each cxkpi_bi view reads one of them and
-- lists its columns, so that a column added to a cxkpi view is one more line here (and in the
-- upgrade script), whose comment the block at the end copies from the cxkpi view.
--
-- cxkpi_reader has USAGE on cxkpi_bi and none on cxkpi (src/dashboard_views.sql): the views run
-- with their owner's rights on tables, but the functions they call run with the reader's, so
-- those must not look names up in schema cxkpi when they run (SQL-standard bodies, or no cxkpi
-- names); test/tap/72_bi.sql reads every view as such a reader.

CREATE SCHEMA cxkpi_bi;
COMMENT ON SCHEMA cxkpi_bi IS
    'cxkpi for BI tools: the dashboard views a BI login (cxkpi_reader) can read, and nothing else. Key columns: grain, period_start (date: the key to join and filter on), period_end, time, breakdown, dimension. Display names and order: kpi_catalog.';

-------------------------------------------------------------------------------------------------
-- Display order and decimals of the built-in KPIs (columns sort_order and decimals of
-- cxkpi.kpi_definitions, 1.1): seed 000's order, then returns (seed 001) and customer value
-- (seeds 002-004).  Written with the upsert trigger off, so that the rows stay built-in rows.
-- User KPIs keep NULL: they come after the built-in ones of their section, by name, with the
-- decimals of their unit.
-------------------------------------------------------------------------------------------------
ALTER TABLE cxkpi.kpi_definitions DISABLE TRIGGER kpi_definitions_upsert;
UPDATE cxkpi.kpi_definitions AS d SET sort_order = v.sort_order, decimals = v.decimals
FROM (VALUES ('nps', 10, NULL::smallint), ('csat', 20, NULL), ('csat_satisfied_pct', 30, NULL), ('ces', 40, NULL),
             ('conversion_rate', 110, NULL), ('aov', 120, NULL), ('cart_abandonment_rate', 130, NULL),
             ('cart_recovery_rate', 140, NULL),
             ('response_time_hours', 210, NULL), ('response_time_median_hours', 220, NULL),
             ('response_time_p90_hours', 230, NULL), ('resolution_rate', 240, NULL),
             ('first_contact_resolution_rate', 250, NULL),
             ('retention_rate', 310, NULL), ('churn_rate', 320, NULL), ('loyalty_members', 330, NULL),
             ('loyalty_active_share', 340, NULL),
             ('app_rating', 410, NULL), ('app_active_users', 420, NULL), ('website_load_time_seconds', 430, NULL),
             ('uptime_pct', 440, 2), ('mobile_optimization_score', 450, 0),
             ('staff_training_hours', 510, 1), ('certification_share_pct', 520, NULL),
             ('mystery_shopper_score_pct', 530, NULL), ('protocol_adherence_pct', 540, NULL),
             ('return_rate', 610, NULL), ('item_return_rate', 620, NULL), ('value_return_rate', 630, NULL),
             ('full_return_rate', 640, NULL), ('first_order_return_rate', 650, NULL),
             ('repeat_order_return_rate', 660, NULL), ('avg_return_value', 670, NULL),
             ('merchant_initiated_share', 680, NULL), ('avg_days_to_return', 690, NULL), ('returns_csat', 700, NULL),
             ('repeat_customer_rate', 710, NULL), ('purchase_frequency', 720, NULL), ('new_customers', 730, NULL),
             ('cac', 740, NULL), ('clv_simple', 750, NULL),
             ('resolution_time_hours', 260, NULL), ('resolution_time_median_hours', 270, NULL),
             ('resolution_time_p90_hours', 280, NULL), ('new_customer_share', 735, NULL),
             ('delivery_time_days', 150, NULL), ('delivery_time_median_days', 160, NULL),
             ('delivery_time_p90_days', 170, NULL), ('on_time_delivery_rate', 180, NULL)) AS v(kpi, sort_order, decimals)
WHERE d.kpi = v.kpi;
ALTER TABLE cxkpi.kpi_definitions ENABLE TRIGGER kpi_definitions_upsert;
COMMENT ON COLUMN cxkpi.kpi_definitions.sort_order IS
    'Display order of the KPI within its section (cxkpi_bi.kpi_catalog); NULL: after the others, by name.';
COMMENT ON COLUMN cxkpi.kpi_definitions.decimals IS
    'Decimals to display (0-6); NULL: the default of the unit (cxkpi_bi.kpi_catalog).';

-------------------------------------------------------------------------------------------------
-- The catalogue: sections and KPIs with display names, order, unit, direction and format.
-------------------------------------------------------------------------------------------------
CREATE VIEW cxkpi_bi.kpi_catalog AS
SELECT d.section, s.section_name, s.section_order, d.kpi, d.name AS kpi_name,
       row_number() OVER (ORDER BY s.section_order, d.sort_order NULLS LAST, d.name, d.kpi) AS kpi_order,
       d.unit, d.direction, coalesce(d.decimals, u.decimals)::integer AS decimals, u.suffix AS value_suffix,
       '#,##0' || CASE WHEN coalesce(d.decimals, u.decimals) > 0 THEN '.' || repeat('0', coalesce(d.decimals, u.decimals))
                       ELSE '' END
               || CASE WHEN u.suffix <> '' THEN '"' || u.suffix || '"' ELSE '' END AS value_format,
       d.formula, d.source
FROM cxkpi.kpi_definitions AS d
JOIN (VALUES ('satisfaction', 'Customer Satisfaction', 1), ('purchase_experience', 'Purchase Experience', 2),
             ('service_quality', 'Service Quality', 3), ('loyalty_retention', 'Loyalty & Retention', 4),
             ('digital_experience', 'Digital Experience', 5), ('operational_efficiency', 'Operational Efficiency', 6),
             ('returns', 'Returns', 7), ('customer_value', 'Customer Value', 8), ('other', 'Other', 9))
     AS s(section, section_name, section_order) ON s.section = d.section
JOIN (VALUES ('points', 1, ''), ('percent', 1, ' %'), ('score', 2, ''), ('currency', 2, ''), ('hours', 2, ' h'),
             ('seconds', 2, ' s'), ('days', 1, ' d'), ('count', 0, ''), ('ratio', 2, ''))
     AS u(unit, decimals, suffix) ON u.unit = d.unit;

-------------------------------------------------------------------------------------------------
-- The scorecard, the time series and the trend views (long format: one row per KPI).  Every
-- period view starts with grain, period_start, period_end, time; every view with a KPI column
-- has the catalogue's section_name, section_order and kpi_order; breakdown and dimension are
-- the filter columns of every view.  (LEFT JOIN to the catalogue, which has every KPI: the
-- planner then joins it last, on top of the plan of the cxkpi view, whose filters it still
-- pushes down; an inner join let it drive the whole plan from the catalogue's 41 rows.)
-------------------------------------------------------------------------------------------------
CREATE VIEW cxkpi_bi.kpi_scorecard AS
SELECT s.grain, s.period_start, s.period_end,
       s.period_start::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) AS "time", s.as_of,
       s.section, c.section_name, c.section_order, s.kpi, s.kpi_name, c.kpi_order, s.unit, s.direction,
       s.breakdown, s.dimension, s.value, s.numerator, s.denominator, s.sample_size, s.ci_lower, s.ci_upper,
       s.target, s.red_threshold, s.yellow_threshold, s.min_sample_size,
       s.status, s.flag, s.status_rank,
       s.meets_target, s.gap_to_target, s.year_ago_period_start, s.year_ago_period_end, s.value_year_ago,
       s.sample_size_year_ago, s.yoy_change, s.yoy_change_pct
FROM cxkpi.kpi_scorecard AS s
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = s.kpi;

CREATE VIEW cxkpi_bi.kpi_timeseries AS
SELECT t.grain, t.period_start, t.period_end, t."time", t.kpi, c.kpi_name, c.kpi_order, c.unit, t.breakdown, t.dimension, t.metric,
       t.value, t.numerator, t.denominator, t.sample_size, t.ci_lower, t.ci_upper, t.period_complete
FROM cxkpi.kpi_timeseries AS t
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = t.kpi;

CREATE VIEW cxkpi_bi.kpi_trend AS
SELECT t.grain, t.period_start, t.period_end, t."time", t.section, c.section_name, c.section_order, t.kpi, t.kpi_name,
       c.kpi_order, t.unit, t.direction, t.breakdown, t.dimension, t.value, t.numerator, t.denominator,
       t.sample_size, t.ci_lower, t.ci_upper, t.previous_value, t.change_vs_previous, t.year_ago_period_start,
       t.year_ago_period_end, t.value_year_ago, t.sample_size_year_ago, t.yoy_change, t.yoy_change_pct,
       t.target, t.red_threshold, t.yellow_threshold, t.min_sample_size,
       t.status, t.flag, t.status_rank,
       t.meets_target, t.period_complete
FROM cxkpi.kpi_trend AS t
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = t.kpi;

CREATE VIEW cxkpi_bi.kpi_weekly_summary AS
SELECT 'week'::text AS grain, w.week_start AS period_start, w.week_end AS period_end, w."time", w.section,
       c.section_name, c.section_order, w.kpi, w.kpi_name, c.kpi_order, w.unit, w.breakdown, w.dimension, w.value,
       w.numerator, w.denominator, w.sample_size, w.previous_week_value, w.change_vs_previous_week,
       w.value_year_ago, w.yoy_change, w.target,
       w.status, w.flag, w.status_rank,
       w.period_complete
FROM cxkpi.kpi_weekly_summary AS w
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = w.kpi;

CREATE VIEW cxkpi_bi.kpi_monthly_report AS
SELECT 'month'::text AS grain, m.month_start AS period_start, m.month_end AS period_end, m."time", m.section,
       c.section_name, c.section_order, m.kpi, m.kpi_name, c.kpi_order, m.unit, m.breakdown, m.dimension, m.value,
       m.numerator, m.denominator, m.sample_size, m.ci_lower, m.ci_upper, m.previous_month_value,
       m.change_vs_previous_month, m.value_year_ago, m.yoy_change, m.yoy_change_pct, m.target,
       m.status, m.flag, m.status_rank,
       m.meets_target, m.period_complete
FROM cxkpi.kpi_monthly_report AS m
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = m.kpi;

CREATE VIEW cxkpi_bi.kpi_quarterly_review AS
SELECT 'quarter'::text AS grain, q.quarter_start AS period_start, q.quarter_end AS period_end, q."time", q.section,
       c.section_name, c.section_order, q.kpi, q.kpi_name, c.kpi_order, q.unit, q.breakdown, q.dimension, q.value,
       q.numerator, q.denominator, q.sample_size, q.ci_lower, q.ci_upper, q.previous_quarter_value,
       q.change_vs_previous_quarter, q.value_year_ago, q.yoy_change, q.yoy_change_pct, q.target,
       q.status, q.flag, q.status_rank,
       q.meets_target, q.period_complete
FROM cxkpi.kpi_quarterly_review AS q
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = q.kpi;

CREATE VIEW cxkpi_bi.kpi_gap AS
SELECT (SELECT cxkpi.setting('scorecard_grain')) AS grain, g.period_start, g.period_end,
       g.period_start::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) AS "time",
       g.section, c.section_name, c.section_order, g.kpi, g.kpi_name, c.kpi_order, g.unit, g.direction,
       g.breakdown, g.dimension, g.value, g.target, g.gap, g.gap_pct, g.shortfall, g.meets_target,
       g.status, g.flag, g.status_rank,
       g.sample_size
FROM cxkpi.kpi_gap AS g
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = g.kpi;

-------------------------------------------------------------------------------------------------
-- One view per dashboard section (wide format): the key columns, then the section's measures.
-------------------------------------------------------------------------------------------------
CREATE VIEW cxkpi_bi.kpi_satisfaction AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.channel AS dimension,
       v.nps_points, v.nps_ci_lower_points, v.nps_ci_upper_points, v.nps_promoters_minus_detractors, v.nps_responses,
       v.csat_mean_score, v.csat_mean_ci_lower_score, v.csat_mean_ci_upper_score, v.csat_score_total, v.csat_responses,
       v.csat_satisfied_pct, v.csat_satisfied_responses,
       v.ces_mean_score, v.ces_mean_ci_lower_score, v.ces_mean_ci_upper_score, v.ces_responses
FROM cxkpi.kpi_satisfaction AS v;

CREATE VIEW cxkpi_bi.kpi_purchase_experience AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.conversion_rate_pct, v.conversions, v.visits, v.conversion_rate_ci_lower_pct, v.conversion_rate_ci_upper_pct,
       v.aov_currency, v.net_sales_currency, v.orders, v.cart_abandonment_rate_pct, v.abandoned_carts, v.carts,
       v.cart_recovery_rate_pct, v.recovered_carts,
       v.delivery_time_mean_days, v.delivery_time_median_days, v.delivery_time_p90_days, v.delivery_time_total_days,
       v.delivered_orders, v.on_time_delivery_rate_pct, v.on_time_deliveries, v.promised_deliveries
FROM cxkpi.kpi_purchase_experience AS v;

CREATE VIEW cxkpi_bi.kpi_service_quality AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.channel AS dimension,
       v.response_time_mean_hours, v.response_time_median_hours, v.response_time_p90_hours,
       v.response_time_total_hours, v.responded_tickets, v.resolution_rate_pct, v.resolved_tickets, v.tickets,
       v.first_contact_resolution_pct, v.first_contact_resolved_tickets,
       v.resolution_time_mean_hours, v.resolution_time_median_hours, v.resolution_time_p90_hours,
       v.resolution_time_total_hours
FROM cxkpi.kpi_service_quality AS v;

CREATE VIEW cxkpi_bi.kpi_loyalty_retention AS
SELECT v.grain, v.period_start, v.period_end, v."time", 'total'::text AS breakdown, 'all'::text AS dimension,
       v.retention_rate_pct, v.retained_customers, v.customers_at_start, v.churn_rate_pct, v.churned_customers,
       v.loyalty_members, v.active_loyalty_members, v.loyalty_active_share_pct
FROM cxkpi.kpi_loyalty_retention AS v;

CREATE VIEW cxkpi_bi.kpi_digital_operations AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.section, c.section_name, c.section_order, v.kpi,
       v.kpi_name, c.kpi_order, v.unit, v.breakdown, v.dimension, v.value, v.weighted_value_total, v.weight_total,
       v.observations, v.ci_lower, v.ci_upper
FROM cxkpi.kpi_digital_operations AS v
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = v.kpi;

CREATE VIEW cxkpi_bi.kpi_returns AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.return_rate_pct, v.return_rate_ci_lower_pct, v.return_rate_ci_upper_pct, v.orders_with_return, v.orders,
       v.full_return_rate_pct, v.orders_fully_returned, v.item_return_rate_pct, v.items_returned, v.items_ordered,
       v.value_return_rate_pct, v.returned_value_currency, v.order_value_currency, v.aov_currency,
       v.avg_return_value_currency, v.first_order_return_rate_pct, v.first_orders, v.repeat_order_return_rate_pct,
       v.repeat_orders, v.customers, v.orders_per_customer, v.returns, v.returns_per_customer,
       v.merchant_initiated_share_pct, v.merchant_initiated_returns, v.avg_days_to_return,
       v.returns_csat_mean_score, v.returns_csat_responses
FROM cxkpi.kpi_returns AS v;

CREATE VIEW cxkpi_bi.kpi_customer_value AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.repeat_customer_rate_pct, v.repeat_customers, v.customers, v.purchase_frequency_orders_per_customer, v.orders,
       v.aov_currency, v.new_customers, v.acquisition_cost_currency, v.cac_currency, v.clv_simple_currency,
       v.new_customer_share_pct
FROM cxkpi.kpi_customer_value AS v;

-------------------------------------------------------------------------------------------------
-- Alerts, and the customer lists (one row per customer as of the last refresh: as_of instead of
-- the period columns, acquisition_channel as their filter).
-------------------------------------------------------------------------------------------------
CREATE VIEW cxkpi_bi.current_alerts AS
SELECT a.grain, a.period_start, a.period_end,
       a.period_start::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) AS "time",
       c.section, c.section_name, c.section_order, a.kpi, a.kpi_name, c.kpi_order, a.unit, a.breakdown, a.dimension,
       a.level, a.previous_level, a.value, a.threshold, a.target, a.sample_size, a.current_value,
       a.current_sample_size, a.alert_id, a.raised_at, a.acknowledged_at, a.acknowledged
FROM cxkpi.current_alerts AS a
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = a.kpi;

CREATE VIEW cxkpi_bi.customer_value AS
SELECT v.as_of, v.customer_id, v.acquisition_channel, v.first_purchase, v.last_purchase, v.purchases,
       v.historic_value_currency, v.repeat_purchase_days, v.recency_weeks, v.age_weeks, v.avg_repeat_value_currency,
       v.p_alive, v.expected_purchases_52w, v.churn_probability_13w, v.churn_risk_13w, v.clv_52w_currency,
       v.clv_if_alive_52w_currency, v.value_at_stake_52w_currency, v.weeks_since_last_purchase, v.gone
FROM cxkpi.customer_value AS v;

CREATE VIEW cxkpi_bi.churn_watch_list AS
SELECT w.as_of, w.watch_rank, w.customer_id, w.acquisition_channel, w.loyalty_tier, w.purchases,
       w.historic_value_currency, w.first_purchase, w.last_purchase, w.weeks_since_last_purchase, w.p_alive,
       w.churn_probability_13w, w.churn_risk_13w, w.clv_52w_currency, w.clv_if_alive_52w_currency,
       w.value_at_stake_52w_currency
FROM cxkpi.churn_watch_list AS w;

CREATE VIEW cxkpi_bi.win_back_list AS
SELECT w.as_of, w.win_back_rank, w.customer_id, w.acquisition_channel, w.loyalty_tier, w.purchases,
       w.historic_value_currency, w.first_purchase, w.last_purchase, w.weeks_since_last_purchase, w.p_alive,
       w.win_back_score_currency
FROM cxkpi.win_back_list AS w;

-------------------------------------------------------------------------------------------------
-- Comments.  Every view has its own; a column gets, in this order, the text below (key and
-- display columns, whose meaning is the same in every cxkpi_bi view), the comment of the
-- same column of the cxkpi view of the same name, or of any cxkpi view (columns of the same
-- name mean the same in every view).  test/tap/72_bi.sql checks that none is missing.
-------------------------------------------------------------------------------------------------
COMMENT ON VIEW cxkpi_bi.kpi_catalog IS
    'The KPI catalogue for display: section and KPI names, their order (section_order, kpi_order), unit, direction (higher or lower is better), decimals and a number format. Built from cxkpi.kpi_definitions; one row per KPI.';
COMMENT ON VIEW cxkpi_bi.kpi_scorecard IS
    'One row per KPI and breakdown for the last complete period (setting scorecard_grain) before as_of: value, target, thresholds, status, sample size, interval, the same period a year earlier and the change.';
COMMENT ON VIEW cxkpi_bi.kpi_timeseries IS
    'Every KPI at every grain, long format (Grafana): filter on grain and time (or period_start), group by metric. Re-aggregate ratios from numerator and denominator.';
COMMENT ON VIEW cxkpi_bi.kpi_trend IS
    'Every KPI value at every grain with the previous period, the same period a year earlier, the target and the status.';
COMMENT ON VIEW cxkpi_bi.kpi_weekly_summary IS
    'Weekly performance summary (seed 000): every KPI per ISO week (grain week) with the previous week, the week 52 weeks earlier, target and status.';
COMMENT ON VIEW cxkpi_bi.kpi_monthly_report IS
    'Monthly executive report (seed 000): every KPI per month (grain month) with the previous month, the same month a year earlier, target and status.';
COMMENT ON VIEW cxkpi_bi.kpi_quarterly_review IS
    'Quarterly strategic review (seed 000): every KPI per quarter (grain quarter) with the previous quarter, the same quarter a year earlier, target and status.';
COMMENT ON VIEW cxkpi_bi.kpi_gap IS
    'Gap analysis (seed 002): actual against target for the scorecard period; shortfall > 0 means worse than the target.';
COMMENT ON VIEW cxkpi_bi.kpi_satisfaction IS
    'Customer satisfaction (seed 000): NPS, CSAT (mean and % satisfied) and CES per period, total and by touchpoint channel (breakdown channel), with intervals and response counts.';
COMMENT ON VIEW cxkpi_bi.kpi_purchase_experience IS
    'Purchase experience (seed 000): conversion by device, AOV by order channel and customer segment (new, returning, loyalty), cart abandonment and recovery.';
COMMENT ON VIEW cxkpi_bi.kpi_service_quality IS
    'Service quality (seed 000): first response time by support channel (mean, median, p90 in hours), resolution rate and first contact resolution.';
COMMENT ON VIEW cxkpi_bi.kpi_loyalty_retention IS
    'Loyalty and retention (seed 000): retention and churn of ordering customers, loyalty members and active share; total only (breakdown total, dimension all).';
COMMENT ON VIEW cxkpi_bi.kpi_digital_operations IS
    'Digital experience and operational efficiency (seed 000): app rating and the observed metrics (load time, uptime, mobile score, training hours, certification, mystery shopper, protocol adherence), one row per KPI.';
COMMENT ON VIEW cxkpi_bi.kpi_returns IS
    'Returns (seed 001): return rates (order-date basis), full returns, item and value return rates, first and repeat order return rates, AOV and return value, orders and returns per customer, merchant-initiated share and days to return (return-date basis), returns CSAT.';
COMMENT ON VIEW cxkpi_bi.kpi_customer_value IS
    'Customer value (seeds 002-004): repeat customer rate, purchase frequency, AOV, new customers and CAC by acquisition channel, simple CLV.';
COMMENT ON VIEW cxkpi_bi.current_alerts IS
    'Open red and yellow alerts of the current alert period and the one before it, with the current value.';
COMMENT ON VIEW cxkpi_bi.customer_value IS
    'Per customer, as of the last refresh: RFM in weeks, historic value, P(alive), expected purchases, discounted CLV, CLV if still alive and value at stake over 52 weeks, probability and risk band of no purchase in 13 weeks, and whether the model considers the customer gone (BG/NBD + Gamma-Gamma).';
COMMENT ON VIEW cxkpi_bi.churn_watch_list IS
    'Customers still worth saving, ranked by the value at stake over 52 weeks (CLV if kept minus the CLV the model expects now); customers the model considers gone are on cxkpi_bi.win_back_list instead. As of the last refresh.';
COMMENT ON VIEW cxkpi_bi.win_back_list IS
    'Customers the model considers gone (P(alive) below the setting gone_p_alive), for win-back campaigns, ranked by historic value halved for every 52 weeks since the last order. As of the last refresh.';

DO $$
DECLARE
    r record;
    doc jsonb := jsonb_build_object(
        'grain', 'Period length: day, week (ISO, Monday to Sunday), month, quarter or year.',
        'period_start', 'First day of the period (date). The key to filter, join and sort periods on: a date does not move with the client''s time zone.',
        'period_end', 'Last day of the period (date, inclusive).',
        'time', 'Start of the period as a timestamp with time zone (midnight in the dashboard''s time zone): the time column for Grafana. A client in another time zone shows it as the day before; use period_start as the key.',
        'breakdown', 'What the row is broken down by: total, channel, device, segment, app_store, acquisition_channel or dimension. Filter it together with dimension.',
        'dimension', 'Value of the breakdown (a channel, device, segment ...); all for the total row.',
        'section_name', 'Display name of the dashboard section.',
        'section_order', 'Display order of the section (1 = first).',
        'kpi_order', 'Display order of the KPI (1 = first): sections in order, then the KPIs of each section.',
        'decimals', 'Decimals to display the value with.',
        'value_suffix', 'Suffix to display after the value: '' %'', '' h'', '' s'', '' d'' or nothing.',
        'value_format', 'Number format for Excel and Power BI (the value in its unit; percentages are 0-100).',
        'formula', 'How the KPI is computed.',
        'source', 'builtin (computed from the data model) or metric_observations (measured elsewhere).');
BEGIN
    FOR r IN SELECT c.oid, c.relname, a.attname, a.attnum
             FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.relnamespace = 'cxkpi_bi'::regnamespace AND c.relkind = 'v' AND col_description(c.oid, a.attnum) IS NULL
    LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', r.relname, r.attname,
                       coalesce(doc ->> r.attname::text,
                                (SELECT col_description(a2.attrelid, a2.attnum) FROM pg_attribute AS a2
                                 WHERE a2.attrelid = to_regclass(format('cxkpi.%I', r.relname)) AND a2.attname = r.attname),
                                (SELECT col_description(a2.attrelid, a2.attnum)
                                 FROM pg_class AS c2 JOIN pg_attribute AS a2 ON a2.attrelid = c2.oid
                                 WHERE c2.relnamespace = 'cxkpi'::regnamespace AND c2.relkind = 'v' AND a2.attname = r.attname
                                   AND col_description(a2.attrelid, a2.attnum) IS NOT NULL
                                 ORDER BY c2.relname LIMIT 1)));
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_class AS c
             WHERE c.relnamespace = 'cxkpi_bi'::regnamespace AND c.relkind = 'v' AND obj_description(c.oid, 'pg_class') IS NULL
    LOOP
        EXECUTE format('COMMENT ON VIEW cxkpi_bi.%I IS %L', r.relname,
                       obj_description(to_regclass(format('cxkpi.%I', r.relname)), 'pg_class'));
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA cxkpi_bi TO cxkpi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA cxkpi_bi TO cxkpi_reader;

-------------------------------------------------------------------------------------------------
-- The one step that makes a BI login (docs/bi.md#a-bi-login).  PostgreSQL applies role settings
-- (ALTER ROLE ... SET) to the role that logs in only, never to the members of a group role, so
-- cxkpi_reader cannot carry them: each login gets them here, for this database.  Run by an
-- administrator with that administrator's rights (not SECURITY DEFINER).
-------------------------------------------------------------------------------------------------
CREATE PROCEDURE cxkpi.prepare_bi_login(login text, statement_timeout text DEFAULT '60s')
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    db text := current_database();
    grant_sql text;
BEGIN
    IF login IS NULL OR statement_timeout IS NULL THEN
        RAISE EXCEPTION 'the login and the statement timeout of a BI login cannot be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'statement_timeout ''0'' means no timeout.';
    END IF;
    SELECT * INTO r FROM pg_catalog.pg_roles WHERE rolname = login;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'role "%" does not exist', login
            USING ERRCODE = 'undefined_object',
                  HINT = 'CALL cxkpi.create_bi_login(login, password) creates a login and prepares it.';
    END IF;
    IF r.rolsuper THEN
        RAISE EXCEPTION 'role "%" is a superuser', login
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A superuser bypasses every privilege check: it would read and write everything.',
                  HINT = 'Give the BI tool a login of its own, without SUPERUSER.';
    END IF;
    IF NOT r.rolcanlogin THEN
        RAISE EXCEPTION 'role "%" cannot log in', login
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'PostgreSQL applies role settings (search_path, statement_timeout) to the role that logs in, not to the members of a group role.',
                  HINT = 'Prepare each login role itself, or give this one LOGIN first.';
    END IF;
    -- Membership with inheritance: the login uses cxkpi_reader's privileges without SET ROLE.
    IF NOT pg_catalog.pg_has_role(login, 'cxkpi_reader', 'USAGE') THEN
        grant_sql := format('GRANT cxkpi_reader TO %I', login)
                     || CASE WHEN current_setting('server_version_num')::integer >= 160000 THEN ' WITH INHERIT TRUE' ELSE '' END;
        BEGIN
            EXECUTE grant_sql;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'permission denied to grant cxkpi_reader to "%"', login
                USING ERRCODE = 'insufficient_privilege', DETAIL = SQLERRM,
                      HINT = 'Run it as a superuser, or as a role with CREATEROLE and ADMIN OPTION on cxkpi_reader.';
        END;
        IF NOT pg_catalog.pg_has_role(login, 'cxkpi_reader', 'USAGE') THEN
            RAISE EXCEPTION 'role "%" does not inherit the privileges of its roles (NOINHERIT)', login
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = format('ALTER ROLE %I INHERIT, then call cxkpi.prepare_bi_login again.', login);
        END IF;
    END IF;
    BEGIN
        EXECUTE format('ALTER ROLE %I IN DATABASE %I SET search_path = cxkpi_bi', login, db);
        EXECUTE format('ALTER ROLE %I IN DATABASE %I SET statement_timeout = %L', login, db, statement_timeout);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'permission denied to change the settings of role "%"', login
            USING ERRCODE = 'insufficient_privilege', DETAIL = SQLERRM,
                  HINT = 'Run it as a superuser, or as a role with CREATEROLE (and, from PostgreSQL 16, ADMIN OPTION on the login).';
    END;
    RAISE NOTICE 'BI login "%" is ready in database "%": member of cxkpi_reader, search_path cxkpi_bi, statement_timeout %',
                 login, db, statement_timeout;
END $$;
COMMENT ON PROCEDURE cxkpi.prepare_bi_login(text, text) IS
    'Makes an existing login a BI login in this database: grants it cxkpi_reader and sets its search_path (cxkpi_bi) and statement_timeout for this database. Runs with the caller''s rights.';

CREATE PROCEDURE cxkpi.create_bi_login(login text, password text, statement_timeout text DEFAULT '60s')
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF login IS NULL OR statement_timeout IS NULL THEN
        RAISE EXCEPTION 'the login and the statement timeout of a BI login cannot be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'statement_timeout ''0'' means no timeout.';
    END IF;
    IF login = '' OR octet_length(login) > 63 THEN
        RAISE EXCEPTION 'invalid login name "%"', login
            USING ERRCODE = CASE WHEN login = '' THEN 'invalid_name' ELSE 'name_too_long' END,
                  DETAIL = 'A role name has 1 to 63 bytes.';
    END IF;
    IF password = '' THEN
        RAISE EXCEPTION 'the password of a BI login cannot be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass NULL for a login without a password (certificate, GSSAPI or peer authentication).';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = login) THEN
        RAISE EXCEPTION 'role "%" already exists', login
            USING ERRCODE = 'duplicate_object',
                  HINT = 'CALL cxkpi.prepare_bi_login(login) makes an existing login a BI login.';
    END IF;
    BEGIN
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', login, password);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'permission denied to create role "%"', login
            USING ERRCODE = 'insufficient_privilege', DETAIL = SQLERRM,
                  HINT = 'Run it as a superuser, or as a role with CREATEROLE and ADMIN OPTION on cxkpi_reader.';
    END;
    CALL cxkpi.prepare_bi_login(login, statement_timeout);
END $$;
COMMENT ON PROCEDURE cxkpi.create_bi_login(text, text, text) IS
    'Creates a login role for a BI tool and prepares it (cxkpi.prepare_bi_login): member of cxkpi_reader, search_path cxkpi_bi and statement_timeout in this database. Runs with the caller''s rights.';

-- Who may read the settings and the targets (issue 15, item 2): cxkpi.setting() and
-- cxkpi.target_spans() are SECURITY DEFINER, so that the views show the reference date and the
-- targets to readers who cannot read the tables; they are executable by the dashboard's roles
-- only (cxkpi_reader, cxkpi_writer, cxkpi_operator and the owner), not by PUBLIC: a role given
-- USAGE on schema cxkpi for another purpose does not read the configuration through them
-- (docs/security.md#roles).
REVOKE EXECUTE ON FUNCTION cxkpi.setting(text), cxkpi.target_spans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cxkpi.setting(text), cxkpi.target_spans() TO cxkpi_reader, cxkpi_writer, cxkpi_operator;
