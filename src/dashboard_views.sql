-- The CX dashboard, part 3: BI-facing views over cxkpi.kpi_values (docs/dashboard.md).
-- Standard scalar types only, snake_case names, numerator and denominator next to each ratio,
-- COMMENT ON every view and column, and the read-only role cxkpi_reader.

-- Every KPI value with its previous period, the same period a year earlier (both joined at
-- refresh, in cxkpi.kpi_values), its effective target (cxkpi.target_spans, joined once per query:
-- the same as cxkpi.effective_target row by row) and its status, flag and status rank
-- (cxkpi.kpi_status; the trend views and the scorecard read it).
CREATE VIEW cxkpi.kpi_trend AS
SELECT v.grain, v.period_start, v.period_end, v."time", d.section, v.kpi, d.name AS kpi_name, d.unit,
       d.direction, v.breakdown, v.dimension, v.value, v.numerator, v.denominator, v.sample_size,
       v.ci_lower, v.ci_upper,
       v.previous_value, v.value - v.previous_value AS change_vs_previous,
       cxkpi.year_ago_period_start(v.grain, v.period_start) AS year_ago_period_start,
       (cxkpi.year_ago_period_start(v.grain, v.period_start) + cxkpi.grain_interval(v.grain))::date - 1
           AS year_ago_period_end,
       v.value_year_ago, v.sample_size_year_ago, v.value - v.value_year_ago AS yoy_change,
       100 * (v.value - v.value_year_ago) / nullif(abs(v.value_year_ago), 0) AS yoy_change_pct,
       t.target, t.red_threshold, t.yellow_threshold, t.min_sample_size,
       cxkpi.kpi_status(d.direction, v.value, v.sample_size, t.target, t.red_threshold, t.yellow_threshold,
                        t.min_sample_size) AS status,
       cxkpi.meets_target(d.direction, v.value, t.target) AS meets_target,
       v.period_end < (SELECT cxkpi.as_of()) AS period_complete,
       cxkpi.kpi_flag(cxkpi.kpi_status(d.direction, v.value, v.sample_size, t.target, t.red_threshold,
                                       t.yellow_threshold, t.min_sample_size)) AS flag,
       cxkpi.status_rank(cxkpi.kpi_status(d.direction, v.value, v.sample_size, t.target, t.red_threshold,
                                          t.yellow_threshold, t.min_sample_size)) AS status_rank
FROM cxkpi.kpi_values AS v
JOIN cxkpi.kpi_definitions AS d USING (kpi)
LEFT JOIN cxkpi.target_spans() AS td
       ON td.kpi = v.kpi AND td.dimension = v.dimension AND td.dimension <> '' AND td.valid_from <= v.period_start
      AND (v.period_start < td.valid_until OR td.valid_until IS NULL)
LEFT JOIN cxkpi.target_spans() AS t0
       ON t0.kpi = v.kpi AND t0.dimension = '' AND t0.valid_from <= v.period_start
      AND (v.period_start < t0.valid_until OR t0.valid_until IS NULL)
CROSS JOIN LATERAL (SELECT coalesce(td.target, t0.target) AS target, coalesce(td.red_threshold, t0.red_threshold) AS red_threshold,
                           coalesce(td.yellow_threshold, t0.yellow_threshold) AS yellow_threshold,
                           coalesce(td.min_sample_size, t0.min_sample_size) AS min_sample_size) AS t;

-- The scorecard: one row per KPI and breakdown for the last complete period of the scorecard
-- grain before the reference date cxkpi.as_of().  KPIs without data in that period still get a
-- total row, with status 'insufficient data' (or 'no target').  Status, flag and rank as in
-- cxkpi.kpi_trend.
CREATE VIEW cxkpi.kpi_scorecard AS
WITH ref AS (
    SELECT cxkpi.setting('scorecard_grain') AS grain, cxkpi.as_of() AS as_of),
per AS MATERIALIZED (
    SELECT ref.grain, ref.as_of, b.period_start, b.period_end,
           cxkpi.year_ago_period_start(ref.grain, b.period_start) AS ya_start,
           (cxkpi.year_ago_period_start(ref.grain, b.period_start) + cxkpi.grain_interval(ref.grain))::date - 1 AS ya_end
    FROM ref, cxkpi.period_bounds(ref.grain, (cxkpi.period_bounds(ref.grain, ref.as_of)).period_start - 1) AS b)
SELECT d.section, d.kpi, d.name AS kpi_name, d.unit, d.direction,
       coalesce(tr.breakdown, 'total') AS breakdown, coalesce(tr.dimension, 'all') AS dimension,
       per.grain, per.period_start, per.period_end, per.as_of,
       tr.value, tr.numerator, tr.denominator, coalesce(tr.sample_size, 0) AS sample_size,
       tr.ci_lower, tr.ci_upper,
       t.target, t.red_threshold, t.yellow_threshold, t.min_sample_size,
       cxkpi.kpi_status(d.direction, tr.value, coalesce(tr.sample_size, 0), t.target, t.red_threshold,
                        t.yellow_threshold, t.min_sample_size) AS status,
       cxkpi.meets_target(d.direction, tr.value, t.target) AS meets_target,
       tr.value - t.target AS gap_to_target,
       per.ya_start AS year_ago_period_start, per.ya_end AS year_ago_period_end,
       tr.value_year_ago, tr.sample_size_year_ago, tr.yoy_change, tr.yoy_change_pct,
       cxkpi.kpi_flag(cxkpi.kpi_status(d.direction, tr.value, coalesce(tr.sample_size, 0), t.target, t.red_threshold,
                                       t.yellow_threshold, t.min_sample_size)) AS flag,
       cxkpi.status_rank(cxkpi.kpi_status(d.direction, tr.value, coalesce(tr.sample_size, 0), t.target,
                                          t.red_threshold, t.yellow_threshold, t.min_sample_size)) AS status_rank
FROM per
CROSS JOIN cxkpi.kpi_definitions AS d
LEFT JOIN cxkpi.kpi_trend AS tr ON tr.grain = per.grain AND tr.period_start = per.period_start AND tr.kpi = d.kpi
LEFT JOIN LATERAL cxkpi.effective_target(d.kpi, coalesce(tr.dimension, 'all'), per.period_start) AS t ON true;

-- Long format for Grafana and other time-series tools: one row per time bucket, grain, KPI
-- and breakdown.  Filter on grain and "time" (indexed).
CREATE VIEW cxkpi.kpi_timeseries AS
SELECT v."time", v.grain, v.kpi, v.breakdown, v.dimension,
       v.kpi || CASE WHEN v.breakdown = 'total' THEN '' ELSE ' ' || v.dimension END AS metric,
       v.value, v.numerator, v.denominator, v.sample_size, v.ci_lower, v.ci_upper,
       v.period_start, v.period_end, v.period_end < (SELECT cxkpi.as_of()) AS period_complete
FROM cxkpi.kpi_values AS v;

-- One view per section of seed 000 (wide format, every grain).

CREATE VIEW cxkpi.kpi_satisfaction AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension AS channel,
       max(value) FILTER (WHERE kpi = 'nps') AS nps_points,
       max(ci_lower) FILTER (WHERE kpi = 'nps') AS nps_ci_lower_points,
       max(ci_upper) FILTER (WHERE kpi = 'nps') AS nps_ci_upper_points,
       max(numerator) FILTER (WHERE kpi = 'nps')::bigint AS nps_promoters_minus_detractors,
       max(sample_size) FILTER (WHERE kpi = 'nps') AS nps_responses,
       max(value) FILTER (WHERE kpi = 'csat') AS csat_mean_score,
       max(ci_lower) FILTER (WHERE kpi = 'csat') AS csat_mean_ci_lower_score,
       max(ci_upper) FILTER (WHERE kpi = 'csat') AS csat_mean_ci_upper_score,
       max(numerator) FILTER (WHERE kpi = 'csat')::bigint AS csat_score_total,
       max(sample_size) FILTER (WHERE kpi = 'csat') AS csat_responses,
       max(value) FILTER (WHERE kpi = 'csat_satisfied_pct') AS csat_satisfied_pct,
       max(numerator) FILTER (WHERE kpi = 'csat_satisfied_pct')::bigint AS csat_satisfied_responses,
       max(value) FILTER (WHERE kpi = 'ces') AS ces_mean_score,
       max(ci_lower) FILTER (WHERE kpi = 'ces') AS ces_mean_ci_lower_score,
       max(ci_upper) FILTER (WHERE kpi = 'ces') AS ces_mean_ci_upper_score,
       max(sample_size) FILTER (WHERE kpi = 'ces') AS ces_responses
FROM cxkpi.kpi_values
WHERE kpi IN ('nps', 'csat', 'csat_satisfied_pct', 'ces')
GROUP BY grain, period_start, breakdown, dimension;

CREATE VIEW cxkpi.kpi_purchase_experience AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'conversion_rate') AS conversion_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'conversion_rate')::bigint AS conversions,
       max(denominator) FILTER (WHERE kpi = 'conversion_rate')::bigint AS visits,
       max(ci_lower) FILTER (WHERE kpi = 'conversion_rate') AS conversion_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'conversion_rate') AS conversion_rate_ci_upper_pct,
       max(value) FILTER (WHERE kpi = 'aov') AS aov_currency,
       max(numerator) FILTER (WHERE kpi = 'aov') AS net_sales_currency,
       max(denominator) FILTER (WHERE kpi = 'aov')::bigint AS orders,
       max(value) FILTER (WHERE kpi = 'cart_abandonment_rate') AS cart_abandonment_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'cart_abandonment_rate')::bigint AS abandoned_carts,
       max(denominator) FILTER (WHERE kpi = 'cart_abandonment_rate')::bigint AS carts,
       max(value) FILTER (WHERE kpi = 'cart_recovery_rate') AS cart_recovery_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'cart_recovery_rate')::bigint AS recovered_carts,
       max(value) FILTER (WHERE kpi = 'delivery_time_days') AS delivery_time_mean_days,
       max(value) FILTER (WHERE kpi = 'delivery_time_median_days') AS delivery_time_median_days,
       max(value) FILTER (WHERE kpi = 'delivery_time_p90_days') AS delivery_time_p90_days,
       max(numerator) FILTER (WHERE kpi = 'delivery_time_days') AS delivery_time_total_days,
       max(denominator) FILTER (WHERE kpi = 'delivery_time_days')::bigint AS delivered_orders,
       max(value) FILTER (WHERE kpi = 'on_time_delivery_rate') AS on_time_delivery_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'on_time_delivery_rate')::bigint AS on_time_deliveries,
       max(denominator) FILTER (WHERE kpi = 'on_time_delivery_rate')::bigint AS promised_deliveries
FROM cxkpi.kpi_values
WHERE kpi IN ('conversion_rate', 'aov', 'cart_abandonment_rate', 'cart_recovery_rate',
              'delivery_time_days', 'delivery_time_median_days', 'delivery_time_p90_days', 'on_time_delivery_rate')
GROUP BY grain, period_start, breakdown, dimension;

CREATE VIEW cxkpi.kpi_service_quality AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension AS channel,
       max(value) FILTER (WHERE kpi = 'response_time_hours') AS response_time_mean_hours,
       max(value) FILTER (WHERE kpi = 'response_time_median_hours') AS response_time_median_hours,
       max(value) FILTER (WHERE kpi = 'response_time_p90_hours') AS response_time_p90_hours,
       max(numerator) FILTER (WHERE kpi = 'response_time_hours') AS response_time_total_hours,
       max(denominator) FILTER (WHERE kpi = 'response_time_hours')::bigint AS responded_tickets,
       max(value) FILTER (WHERE kpi = 'resolution_rate') AS resolution_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'resolution_rate')::bigint AS resolved_tickets,
       max(denominator) FILTER (WHERE kpi = 'resolution_rate')::bigint AS tickets,
       max(value) FILTER (WHERE kpi = 'first_contact_resolution_rate') AS first_contact_resolution_pct,
       max(numerator) FILTER (WHERE kpi = 'first_contact_resolution_rate')::bigint AS first_contact_resolved_tickets,
       max(value) FILTER (WHERE kpi = 'resolution_time_hours') AS resolution_time_mean_hours,
       max(value) FILTER (WHERE kpi = 'resolution_time_median_hours') AS resolution_time_median_hours,
       max(value) FILTER (WHERE kpi = 'resolution_time_p90_hours') AS resolution_time_p90_hours,
       max(numerator) FILTER (WHERE kpi = 'resolution_time_hours') AS resolution_time_total_hours
FROM cxkpi.kpi_values
WHERE kpi IN ('response_time_hours', 'response_time_median_hours', 'response_time_p90_hours',
              'resolution_rate', 'first_contact_resolution_rate',
              'resolution_time_hours', 'resolution_time_median_hours', 'resolution_time_p90_hours')
GROUP BY grain, period_start, breakdown, dimension;

CREATE VIEW cxkpi.kpi_loyalty_retention AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time",
       max(value) FILTER (WHERE kpi = 'retention_rate') AS retention_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'retention_rate')::bigint AS retained_customers,
       max(denominator) FILTER (WHERE kpi = 'retention_rate')::bigint AS customers_at_start,
       max(value) FILTER (WHERE kpi = 'churn_rate') AS churn_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'churn_rate')::bigint AS churned_customers,
       max(value) FILTER (WHERE kpi = 'loyalty_members')::bigint AS loyalty_members,
       max(numerator) FILTER (WHERE kpi = 'loyalty_active_share')::bigint AS active_loyalty_members,
       max(value) FILTER (WHERE kpi = 'loyalty_active_share') AS loyalty_active_share_pct
FROM cxkpi.kpi_values
WHERE kpi IN ('retention_rate', 'churn_rate', 'loyalty_members', 'loyalty_active_share') AND breakdown = 'total'
GROUP BY grain, period_start;

-- Digital experience and operational efficiency: the app rating and every observed metric
-- (long format, since users add their own observed KPIs).
CREATE VIEW cxkpi.kpi_digital_operations AS
SELECT v.grain, v.period_start, v.period_end, v."time", d.section, v.kpi, d.name AS kpi_name, d.unit,
       v.breakdown, v.dimension, v.value, v.numerator AS weighted_value_total, v.denominator AS weight_total,
       v.sample_size AS observations, v.ci_lower, v.ci_upper
FROM cxkpi.kpi_values AS v JOIN cxkpi.kpi_definitions AS d USING (kpi)
WHERE d.section IN ('digital_experience', 'operational_efficiency') OR d.source = 'metric_observations';

CREATE VIEW cxkpi.kpi_returns AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'return_rate') AS return_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'return_rate') AS return_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'return_rate') AS return_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'return_rate')::bigint AS orders_with_return,
       max(denominator) FILTER (WHERE kpi = 'return_rate')::bigint AS orders,
       max(value) FILTER (WHERE kpi = 'full_return_rate') AS full_return_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'full_return_rate')::bigint AS orders_fully_returned,
       max(value) FILTER (WHERE kpi = 'item_return_rate') AS item_return_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'item_return_rate')::bigint AS items_returned,
       max(denominator) FILTER (WHERE kpi = 'item_return_rate')::bigint AS items_ordered,
       max(value) FILTER (WHERE kpi = 'value_return_rate') AS value_return_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'value_return_rate') AS returned_value_currency,
       max(denominator) FILTER (WHERE kpi = 'value_return_rate') AS order_value_currency,
       max(value) FILTER (WHERE kpi = 'aov') AS aov_currency,
       max(value) FILTER (WHERE kpi = 'avg_return_value') AS avg_return_value_currency,
       max(value) FILTER (WHERE kpi = 'first_order_return_rate') AS first_order_return_rate_pct,
       max(denominator) FILTER (WHERE kpi = 'first_order_return_rate')::bigint AS first_orders,
       max(value) FILTER (WHERE kpi = 'repeat_order_return_rate') AS repeat_order_return_rate_pct,
       max(denominator) FILTER (WHERE kpi = 'repeat_order_return_rate')::bigint AS repeat_orders,
       max(denominator) FILTER (WHERE kpi = 'purchase_frequency')::bigint AS customers,
       max(value) FILTER (WHERE kpi = 'purchase_frequency') AS orders_per_customer,
       max(denominator) FILTER (WHERE kpi = 'merchant_initiated_share')::bigint AS returns,
       max(denominator) FILTER (WHERE kpi = 'merchant_initiated_share')
           / max(denominator) FILTER (WHERE kpi = 'purchase_frequency') AS returns_per_customer,
       max(value) FILTER (WHERE kpi = 'merchant_initiated_share') AS merchant_initiated_share_pct,
       max(numerator) FILTER (WHERE kpi = 'merchant_initiated_share')::bigint AS merchant_initiated_returns,
       max(value) FILTER (WHERE kpi = 'avg_days_to_return') AS avg_days_to_return,
       max(value) FILTER (WHERE kpi = 'returns_csat') AS returns_csat_mean_score,
       max(sample_size) FILTER (WHERE kpi = 'returns_csat') AS returns_csat_responses
FROM cxkpi.kpi_values
WHERE kpi IN ('return_rate', 'full_return_rate', 'item_return_rate', 'value_return_rate', 'aov', 'avg_return_value',
              'first_order_return_rate', 'repeat_order_return_rate', 'purchase_frequency',
              'merchant_initiated_share', 'avg_days_to_return', 'returns_csat')
GROUP BY grain, period_start, breakdown, dimension;

-- Customer value.  clv_simple is the seed's AOV x frequency x lifespan; the model-based CLV of
-- issue 5 (clv(), bgnbd_fit, p_alive) gets its own columns here when that family lands.
CREATE VIEW cxkpi.kpi_customer_value AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'repeat_customer_rate') AS repeat_customer_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'repeat_customer_rate')::bigint AS repeat_customers,
       max(denominator) FILTER (WHERE kpi = 'purchase_frequency')::bigint AS customers,
       max(value) FILTER (WHERE kpi = 'purchase_frequency') AS purchase_frequency_orders_per_customer,
       max(numerator) FILTER (WHERE kpi = 'purchase_frequency')::bigint AS orders,
       max(value) FILTER (WHERE kpi = 'aov') AS aov_currency,
       max(value) FILTER (WHERE kpi = 'new_customers')::bigint AS new_customers,
       max(numerator) FILTER (WHERE kpi = 'cac') AS acquisition_cost_currency,
       max(value) FILTER (WHERE kpi = 'cac') AS cac_currency,
       max(value) FILTER (WHERE kpi = 'clv_simple') AS clv_simple_currency,
       max(value) FILTER (WHERE kpi = 'new_customer_share') AS new_customer_share_pct
FROM cxkpi.kpi_values
WHERE kpi IN ('repeat_customer_rate', 'purchase_frequency', 'aov', 'new_customers', 'cac', 'clv_simple',
              'new_customer_share')
  AND breakdown IN ('total', 'acquisition_channel')
GROUP BY grain, period_start, breakdown, dimension;

-- Trend views of seed 000's "Trend Analysis".
CREATE VIEW cxkpi.kpi_weekly_summary AS
SELECT period_start AS week_start, period_end AS week_end, "time", section, kpi, kpi_name, unit, breakdown, dimension,
       value, numerator, denominator, sample_size, previous_value AS previous_week_value,
       change_vs_previous AS change_vs_previous_week, value_year_ago, yoy_change, target, status, period_complete,
       flag, status_rank
FROM cxkpi.kpi_trend WHERE grain = 'week';

CREATE VIEW cxkpi.kpi_monthly_report AS
SELECT period_start AS month_start, period_end AS month_end, "time", section, kpi, kpi_name, unit, breakdown, dimension,
       value, numerator, denominator, sample_size, ci_lower, ci_upper, previous_value AS previous_month_value,
       change_vs_previous AS change_vs_previous_month, value_year_ago, yoy_change, yoy_change_pct, target,
       status, meets_target, period_complete, flag, status_rank
FROM cxkpi.kpi_trend WHERE grain = 'month';

CREATE VIEW cxkpi.kpi_quarterly_review AS
SELECT period_start AS quarter_start, period_end AS quarter_end, "time", section, kpi, kpi_name, unit, breakdown,
       dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper,
       previous_value AS previous_quarter_value, change_vs_previous AS change_vs_previous_quarter, value_year_ago,
       yoy_change, yoy_change_pct, target, status, meets_target, period_complete, flag, status_rank
FROM cxkpi.kpi_trend WHERE grain = 'quarter';

-- Gap analysis (seed 002): actual vs target for the scorecard period.
CREATE VIEW cxkpi.kpi_gap AS
SELECT section, kpi, kpi_name, unit, direction, breakdown, dimension, period_start, period_end, value, target,
       value - target AS gap,
       100 * (value - target) / nullif(abs(target), 0) AS gap_pct,
       CASE direction WHEN 'higher_is_better' THEN target - value ELSE value - target END AS shortfall,
       meets_target, status, sample_size, flag, status_rank
FROM cxkpi.kpi_scorecard
WHERE target IS NOT NULL;

-------------------------------------------------------------------------------------------------
-- Comments: every BI-facing view, every column.  Columns with the same name mean the same in
-- every view, so one dictionary documents them all; the pgTAP suite checks that none is missing.
-------------------------------------------------------------------------------------------------
COMMENT ON VIEW cxkpi.kpi_trend IS
    'Every KPI value at every grain with the previous period, the same period a year earlier, the target, the status (red / yellow / off target / green / insufficient data / no target), the flag and the status rank.';
COMMENT ON VIEW cxkpi.kpi_scorecard IS
    'One row per KPI and breakdown for the last complete period (setting scorecard_grain) before cxkpi.as_of(): value, target, status (red / yellow / off target / green / insufficient data / no target; never green off target), flag (seed 000''s red / yellow action trigger), status rank, sample size, confidence interval, the same period a year earlier and the change.';
COMMENT ON VIEW cxkpi.kpi_timeseries IS
    'Long format for Grafana: time, grain (day, week, month, quarter, year), kpi, breakdown, dimension, value, numerator, denominator. Filter on grain and time.';
COMMENT ON VIEW cxkpi.kpi_satisfaction IS
    'Customer satisfaction (seed 000): NPS, CSAT (mean and % satisfied) and CES per period and touchpoint channel, with intervals and response counts.';
COMMENT ON VIEW cxkpi.kpi_purchase_experience IS
    'Purchase experience (seed 000): conversion by device (desktop, mobile, tablet, app, store), AOV by order channel and customer segment (new, returning, loyalty), cart abandonment and recovery.';
COMMENT ON VIEW cxkpi.kpi_service_quality IS
    'Service quality (seed 000): first response time by channel (mean, median, p90 in hours), resolution rate and first contact resolution.';
COMMENT ON VIEW cxkpi.kpi_loyalty_retention IS
    'Loyalty and retention (seed 000): retention and churn of ordering customers (period over period, active window setting retention_active_window), loyalty members and active share.';
COMMENT ON VIEW cxkpi.kpi_digital_operations IS
    'Digital experience and operational efficiency (seed 000): app rating and the metrics recorded in cxkpi.metric_observations (load time, uptime, mobile score, training hours, certification, mystery shopper, protocol adherence).';
COMMENT ON VIEW cxkpi.kpi_returns IS
    'Returns (seed 001): return rates (order-date basis), full returns, item and value return rates, first and repeat order return rates, AOV and return value, orders and returns per customer, merchant-initiated share and days to return (return-date basis), returns CSAT.';
COMMENT ON VIEW cxkpi.kpi_customer_value IS
    'Customer value (seeds 002-004): repeat customer rate, purchase frequency, AOV, new customers and CAC by acquisition channel, simple CLV. Model-based CLV joins when the CLV family lands.';
COMMENT ON VIEW cxkpi.kpi_weekly_summary IS 'Weekly performance summary (seed 000): every KPI per ISO week with the previous week, the year-ago week (52 weeks earlier), target and status.';
COMMENT ON VIEW cxkpi.kpi_monthly_report IS 'Monthly executive report (seed 000): every KPI per month with the previous month, the same month a year earlier, target and status.';
COMMENT ON VIEW cxkpi.kpi_quarterly_review IS 'Quarterly strategic review (seed 000): every KPI per quarter with the previous quarter, the same quarter a year earlier, target and status.';
COMMENT ON VIEW cxkpi.kpi_gap IS 'Gap analysis (seed 002): actual vs target for the scorecard period; shortfall > 0 means worse than target.';

DO $$
DECLARE
    r record;
    doc jsonb := jsonb_object(ARRAY[
        'grain', 'Period length: day, week (ISO, Monday), month, quarter or year.',
        'period_start', 'First day of the period.',
        'period_end', 'Last day of the period (inclusive).',
        'time', 'Start of the period as a timestamp in the reporting time zone (Grafana time column).',
        'week_start', 'Monday of the ISO week.', 'week_end', 'Sunday of the ISO week.',
        'month_start', 'First day of the month.', 'month_end', 'Last day of the month.',
        'quarter_start', 'First day of the quarter.', 'quarter_end', 'Last day of the quarter.',
        'as_of', 'Reference date (cxkpi.as_of()): the scorecard shows the last complete period before it.',
        'section', 'Dashboard section of the KPI (seed 000).',
        'kpi', 'KPI key (cxkpi.kpi_definitions).', 'kpi_name', 'KPI display name.',
        'unit', 'Unit of value: points, percent, score, currency, hours, seconds, days, count or ratio.',
        'direction', 'higher_is_better or lower_is_better.',
        'breakdown', 'Dimension the row is broken down by (channel, device, segment, app_store, acquisition_channel, dimension) or total.',
        'dimension', 'Value of the breakdown dimension; all for the total row.',
        'channel', 'Touchpoint or support channel; all for the total row.',
        'metric', 'Series name for Grafana: kpi, followed by the dimension for breakdown rows.',
        'value', 'KPI value in its unit (NULL when there is no data).',
        'numerator', 'Numerator of the value (e.g. promoters - detractors, conversions, retained customers).',
        'denominator', 'Denominator of the value (e.g. responses, visits, customers at start).',
        'sample_size', 'Number of observations behind the value (responses, orders, visits, tickets, customers).',
        'ci_lower', 'Lower end of the confidence interval (setting confidence; NPS adjusted Wald, proportions Wilson, means t).',
        'ci_upper', 'Upper end of the confidence interval.',
        'previous_value', 'Value in the previous period.', 'change_vs_previous', 'value - previous_value.',
        'previous_week_value', 'Value in the previous week.', 'change_vs_previous_week', 'value - previous_week_value.',
        'previous_month_value', 'Value in the previous month.', 'change_vs_previous_month', 'value - previous_month_value.',
        'previous_quarter_value', 'Value in the previous quarter.', 'change_vs_previous_quarter', 'value - previous_quarter_value.',
        'year_ago_period_start', 'First day of the same period a year earlier (52 weeks for days and weeks).',
        'year_ago_period_end', 'Last day of the same period a year earlier.',
        'value_year_ago', 'Value in the same period a year earlier.',
        'sample_size_year_ago', 'Sample size in the same period a year earlier.',
        'yoy_change', 'value - value_year_ago, in the unit of the KPI (points for percentages).',
        'yoy_change_pct', 'Relative year-over-year change: 100 * yoy_change / |value_year_ago|.',
        'target', 'Target (cxkpi.effective_target: the dimension''s row of cxkpi.kpi_targets, else the overall row; latest valid_from on or before the period start).',
        'red_threshold', 'Red flag threshold: red when the value is beyond it (below for higher-is-better KPIs, above otherwise); from the dimension''s row, else the overall row.',
        'yellow_threshold', 'Yellow flag threshold, same rule as red.',
        'min_sample_size', 'Minimum sample size for a status other than insufficient data (from the dimension''s row, else the overall row, else 30).',
        'status', 'Worst first: red (beyond the red threshold), yellow (beyond the yellow threshold), off target (no flag, target missed), green (no flag; target met or none), insufficient data (no value or too few observations), no target (no target, no threshold). Never green off target.',
        'flag', 'Seed 000''s action trigger that fired: red, yellow, or NULL (none, or too few observations).',
        'status_rank', 'Status as a number for colouring and sorting, worst first: red 1, yellow 2, off target 3, green 4; NULL for insufficient data and no target.',
        'meets_target', 'value >= target (higher is better) or value < target (lower is better); NULL without a value or target.',
        'gap_to_target', 'value - target.', 'gap', 'value - target.',
        'gap_pct', '100 * (value - target) / |target|.',
        'shortfall', 'How far the value is worse than the target (negative when better), in the unit of the KPI.',
        'period_complete', 'True when the period ended before cxkpi.as_of().',
        'nps_points', 'Net Promoter Score, -100 to 100.',
        'nps_ci_lower_points', 'Lower end of the adjusted-Wald NPS interval.', 'nps_ci_upper_points', 'Upper end of the adjusted-Wald NPS interval.',
        'nps_promoters_minus_detractors', 'Promoters - detractors (numerator of NPS / 100).',
        'nps_responses', 'NPS responses.',
        'csat_mean_score', 'Mean CSAT score on the csat_scale (default 1-5).',
        'csat_mean_ci_lower_score', 'Lower end of the t interval of the CSAT mean.', 'csat_mean_ci_upper_score', 'Upper end of the t interval of the CSAT mean.',
        'csat_score_total', 'Sum of CSAT scores (numerator of the mean).', 'csat_responses', 'CSAT responses.',
        'csat_satisfied_pct', 'Percent of CSAT responses in the top two boxes.', 'csat_satisfied_responses', 'CSAT responses in the top two boxes.',
        'ces_mean_score', 'Mean CES 2.0 score (higher is easier).',
        'ces_mean_ci_lower_score', 'Lower end of the t interval of the CES mean.', 'ces_mean_ci_upper_score', 'Upper end of the t interval of the CES mean.',
        'ces_responses', 'CES responses.',
        'conversion_rate_pct', '100 * conversions / visits.', 'conversions', 'Converted sessions (store: store orders).',
        'visits', 'Sessions (store: visitors counted).',
        'conversion_rate_ci_lower_pct', 'Lower end of the Wilson interval of the conversion rate.', 'conversion_rate_ci_upper_pct', 'Upper end of the Wilson interval of the conversion rate.',
        'aov_currency', 'Average order value: (gross - discounts) / orders.', 'net_sales_currency', 'Gross value - discounts.',
        'orders', 'Orders.', 'cart_abandonment_rate_pct', '100 * carts not converted in their session / carts.',
        'abandoned_carts', 'Carts not converted in their session.', 'carts', 'Carts created.',
        'cart_recovery_rate_pct', '100 * recovered carts / abandoned carts.', 'recovered_carts', 'Abandoned carts bought later.',
        'response_time_mean_hours', 'Mean first response time, hours.', 'response_time_median_hours', 'Median first response time, hours.',
        'response_time_p90_hours', '90th percentile of first response time, hours.',
        'response_time_total_hours', 'Sum of first response times, hours (numerator of the mean).',
        'responded_tickets', 'Tickets with a first response.', 'resolution_rate_pct', '100 * resolved tickets / tickets (tickets created in the period).',
        'resolved_tickets', 'Tickets created in the period and resolved.', 'tickets', 'Tickets created in the period.',
        'first_contact_resolution_pct', '100 * tickets resolved in one contact without reopening / resolved tickets.',
        'first_contact_resolved_tickets', 'Tickets resolved in one contact without reopening.',
        'retention_rate_pct', '100 * retained customers / customers active at the end of the previous period.',
        'retained_customers', 'Customers active at the end of the previous period and of this one.',
        'customers_at_start', 'Customers active at the end of the previous period.',
        'churn_rate_pct', '100 - retention_rate_pct.', 'churned_customers', 'customers_at_start - retained_customers.',
        'loyalty_members', 'Members enrolled by the end of the period.',
        'active_loyalty_members', 'Members with an order or activity in the last loyalty_active_days days at the end of the period.',
        'loyalty_active_share_pct', '100 * active_loyalty_members / loyalty_members.',
        'weighted_value_total', 'Sum of value * weight of the observations.', 'weight_total', 'Sum of the weights.',
        'observations', 'Number of observations.',
        'return_rate_pct', '100 * orders with a return / orders (order-date basis).',
        'return_rate_ci_lower_pct', 'Lower end of the Wilson interval of the return rate.', 'return_rate_ci_upper_pct', 'Upper end of the Wilson interval of the return rate.',
        'orders_with_return', 'Orders with at least one returned item.',
        'full_return_rate_pct', '100 * orders with every item returned / orders.', 'orders_fully_returned', 'Orders with every item returned.',
        'item_return_rate_pct', '100 * items returned / items ordered.', 'items_returned', 'Items returned.', 'items_ordered', 'Items ordered.',
        'value_return_rate_pct', '100 * returned value / net order value.', 'returned_value_currency', 'Returned value.',
        'order_value_currency', 'Net order value (gross - discounts).',
        'avg_return_value_currency', 'Returned value / orders with a return.',
        'first_order_return_rate_pct', 'Return rate of customers'' first orders.', 'first_orders', 'First orders of customers.',
        'repeat_order_return_rate_pct', 'Return rate of customers'' later orders.', 'repeat_orders', 'Later orders of customers.',
        'customers', 'Distinct customers who ordered in the period.', 'orders_per_customer', 'orders / customers.',
        'returns', 'Returns requested in the period (return-date basis).', 'returns_per_customer', 'returns / customers.',
        'merchant_initiated_share_pct', '100 * returns created by staff / returns.', 'merchant_initiated_returns', 'Returns created by staff.',
        'avg_days_to_return', 'Mean days from order day to return request day.',
        'returns_csat_mean_score', 'Mean CSAT of the returns touchpoint.', 'returns_csat_responses', 'CSAT responses of the returns touchpoint.',
        'repeat_customer_rate_pct', '100 * customers who ordered on two or more days / customers.', 'repeat_customers', 'Customers who ordered on two or more days of the period.',
        'purchase_frequency_orders_per_customer', 'orders / customers.',
        'new_customers', 'Customers acquired in the period.', 'acquisition_cost_currency', 'Acquisition cost of the customers acquired.',
        'cac_currency', 'Customer acquisition cost: acquisition cost / new customers.',
        'clv_simple_currency', 'Simple CLV: AOV * purchase frequency * (100 / churn rate), per period of the grain.',
        'resolution_time_mean_hours', 'Mean resolution time (resolved - created), hours, of the tickets created in the period and resolved.',
        'resolution_time_median_hours', 'Median resolution time, hours.',
        'resolution_time_p90_hours', '90th percentile of resolution time, hours.',
        'resolution_time_total_hours', 'Sum of resolution times, hours (numerator of the mean; its denominator is resolved_tickets).',
        'new_customer_share_pct', '100 * customers acquired through this acquisition channel / customers acquired (acquisition_channel rows; 100 on the total row).',
        'delivery_time_mean_days', 'Mean delivery time (delivered - ordered), days, of the orders placed in the period and delivered.',
        'delivery_time_median_days', 'Median delivery time, days.', 'delivery_time_p90_days', '90th percentile of delivery time, days.',
        'delivery_time_total_days', 'Sum of delivery times, days (numerator of the mean).',
        'delivered_orders', 'Orders placed in the period and delivered (web and app; store orders have no delivery).',
        'on_time_delivery_rate_pct', '100 * deliveries by the promised time / delivered orders with a promise.',
        'on_time_deliveries', 'Delivered orders delivered by the promised time.',
        'promised_deliveries', 'Delivered orders with a promised delivery time.']);
BEGIN
    FOR r IN SELECT c.relname, a.attname
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = 'cxkpi' AND c.relkind = 'v' LOOP
        IF doc ? r.attname THEN
            EXECUTE format('COMMENT ON COLUMN cxkpi.%I.%I IS %L', r.relname, r.attname, doc ->> r.attname);
        END IF;
    END LOOP;
END $$;

-------------------------------------------------------------------------------------------------
-- The read-only role for BI tools: the BI views and nothing else (no raw table, no rollup
-- matview, no config table, no write).  The views show names, units, targets and thresholds.
-- Since 1.1 BI logins read schema cxkpi_bi (src/bi.sql, docs/bi.md): the role has no USAGE on
-- schema cxkpi, so a BI tool's schema browser does not list what it cannot open.  The grants on
-- the cxkpi views are kept: GRANT USAGE ON SCHEMA cxkpi to a login gives it the 1.0 names back.
-- Role settings are not inherited by members, so the role has none (cxkpi.prepare_bi_login sets
-- them on each login).
-------------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cxkpi_reader') THEN
        CREATE ROLE cxkpi_reader NOLOGIN;
        COMMENT ON ROLE cxkpi_reader IS
            'Read-only access to the cxkpi_bi views. Make BI logins with CALL cxkpi.create_bi_login(name, password) or cxkpi.prepare_bi_login(name): role settings are not inherited from this role.';
    END IF;
END $$;
GRANT SELECT ON cxkpi.kpi_scorecard, cxkpi.kpi_timeseries, cxkpi.kpi_trend, cxkpi.kpi_satisfaction,
    cxkpi.kpi_purchase_experience, cxkpi.kpi_service_quality, cxkpi.kpi_loyalty_retention,
    cxkpi.kpi_digital_operations, cxkpi.kpi_returns, cxkpi.kpi_customer_value, cxkpi.kpi_weekly_summary,
    cxkpi.kpi_monthly_report, cxkpi.kpi_quarterly_review, cxkpi.kpi_gap TO cxkpi_reader;
