-- The dashboard to look at (1.1, docs/dashboard.md#the-dashboard-page): seed 000's dashboard as a
-- self-contained HTML page that a BI login writes with one statement,
--     psql -X -At -c 'SELECT cxkpi_bi.dashboard_page()' > dashboard.html
-- and the pieces it is made of, each usable on its own: the monthly cohort retention matrix
-- (cxkpi.kpi_cohort_retention, cxkpi_bi.kpi_cohort_retention), demand forecasts on the
-- dashboard's monthly series (cxkpi_bi.dashboard_forecast) and every number of the page as one
-- JSON document (cxkpi_bi.dashboard_data).
--
-- Everything a BI login calls is in schema cxkpi_bi, reads the cxkpi_bi views (so the page shows
-- what the login may read, no more) and has a SQL-standard body: parsed here, it looks nothing
-- up in schema cxkpi when a reader runs it (docs/bi.md#privileges).  The page draws its charts
-- with inline SVG from the JSON it embeds: no network, no script or style from elsewhere.

-------------------------------------------------------------------------------------------------
-- Cohort retention (seed 000: "Monthly cohort analysis"): a customer's cohort is the month of
-- their first order; for each cohort and each month k after it, the share of the cohort that
-- ordered in month k (Amplitude's "Return On"; docs/retention.md#cohort_retention).  From the
-- orders of the data model, days in the dashboard's time zone, as the retention KPI counts them.
-------------------------------------------------------------------------------------------------
CREATE VIEW cxkpi.kpi_cohort_retention AS
WITH s AS (
    SELECT @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'month') AS s
    FROM cxkpi.orders AS o, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c)
SELECT 'month'::text AS grain, r.cohort AS cohort_start, (r.cohort + interval '1 month')::date - 1 AS cohort_end,
       r.cohort::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) AS "time",
       r.period_offset::bigint AS period_offset,
       (r.cohort + make_interval(months => r.period_offset))::date AS active_period_start,
       (r.cohort + make_interval(months => r.period_offset + 1))::date - 1 AS active_period_end,
       r.cohort_size, r.active AS active_customers, r.retention_pct,
       (r.cohort + make_interval(months => r.period_offset + 1))::date - 1 < (SELECT cxkpi.as_of()) AS period_complete
FROM s, @extschema@.cohort_retention(s.s) AS r;
COMMENT ON VIEW cxkpi.kpi_cohort_retention IS
    'Monthly cohort retention (seed 000): a customer''s cohort is the month of their first order; one row per cohort and month offset k (0 = the first month) with the share of the cohort that ordered in month k. From cxkpi.orders, days in the time_zone setting; computed when read.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.grain IS 'Period length of cohorts and offsets: month.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.cohort_start IS 'First day of the cohort''s month: the month of the customers'' first order.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.cohort_end IS 'Last day of the cohort''s month.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention."time" IS 'cohort_start at midnight in the dashboard''s time zone (Grafana''s time column).';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.period_offset IS 'Months after the cohort''s month (0: the month of the first order).';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.active_period_start IS 'First day of the month period_offset months after the cohort''s month.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.active_period_end IS 'Last day of that month.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.cohort_size IS 'Customers in the cohort (first order in the cohort''s month).';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.active_customers IS 'Customers of the cohort with an order in the month period_offset months later.';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.retention_pct IS '100 * active_customers / cohort_size (percent).';
COMMENT ON COLUMN cxkpi.kpi_cohort_retention.period_complete IS 'Whether the month of active_period_start is over (its last day is before the reference date cxkpi.as_of()).';

CREATE VIEW cxkpi_bi.kpi_cohort_retention AS
SELECT v.grain, v.cohort_start AS period_start, v.cohort_end AS period_end, v."time",
       'total'::text AS breakdown, 'all'::text AS dimension,
       v.period_offset, v.active_period_start, v.active_period_end, v.cohort_size, v.active_customers,
       v.retention_pct, v.period_complete
FROM cxkpi.kpi_cohort_retention AS v;
COMMENT ON VIEW cxkpi_bi.kpi_cohort_retention IS
    'Monthly cohort retention (seed 000): one row per cohort (period_start: the month of the customers'' first order) and month offset, with the share of the cohort that ordered in that month. Total only (breakdown total, dimension all).';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.grain IS 'Period length of cohorts and offsets: month.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.period_start IS
    'First day of the cohort''s month (date): the month of the customers'' first order. The key to filter, join and sort cohorts on.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.period_end IS 'Last day of the cohort''s month (date, inclusive).';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention."time" IS
    'Start of the cohort''s month as a timestamp with time zone (midnight in the dashboard''s time zone): the time column for Grafana.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.breakdown IS 'What the row is broken down by: total (cohorts are not broken down).';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.dimension IS 'Value of the breakdown: all.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.period_offset IS 'Months after the cohort''s month (0: the month of the first order).';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.active_period_start IS 'First day of the month period_offset months after the cohort''s month.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.active_period_end IS 'Last day of that month.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.cohort_size IS 'Customers in the cohort (first order in the cohort''s month).';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.active_customers IS 'Customers of the cohort with an order in the month period_offset months later.';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.retention_pct IS '100 * active_customers / cohort_size (percent).';
COMMENT ON COLUMN cxkpi_bi.kpi_cohort_retention.period_complete IS
    'Whether the month of active_period_start is over (its last day is before the reference date).';
GRANT SELECT ON cxkpi.kpi_cohort_retention, cxkpi_bi.kpi_cohort_retention TO cxkpi_reader;

-------------------------------------------------------------------------------------------------
-- Errors of the page functions.  They have SQL-standard bodies, which cannot RAISE: they call
-- this, which names nothing in schema cxkpi (a reader runs it with its own rights).  STABLE, not
-- IMMUTABLE: the planner would evaluate an immutable call with constant arguments while it
-- simplifies the CASE around it, and raise for every call.
-------------------------------------------------------------------------------------------------
CREATE FUNCTION cxkpi.dashboard_argument_error(errcode text, message text, hint text) RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = errcode, MESSAGE = message, HINT = hint;
END $$;
COMMENT ON FUNCTION cxkpi.dashboard_argument_error(text, text, text) IS
    'Internal: raises the error of a bad argument of cxkpi_bi.dashboard_data, dashboard_forecast or dashboard_page.';

-------------------------------------------------------------------------------------------------
-- Demand forecasts on the dashboard's monthly series: orders, net sales, visits and support
-- tickets per month (numerators and denominators of cxkpi_bi.kpi_timeseries), one ETS model per
-- series chosen by AICc (ets_fit, docs/forecasting.md), fitted when called on the last run of
-- consecutive complete months (at least 12), and `horizon` months ahead with 80 % and 95 %
-- prediction intervals.  Rows: every complete month (actual) and the forecast months (point and
-- intervals).  The forecasts refitted at refresh (cxkpi_bi.kpi_forecast, issue 16 part 2) are
-- daily and weekly: months cannot be summed from them with their intervals, nor reach 60 months,
-- so the page keeps fitting its monthly series here (docs/dashboard.md).
-------------------------------------------------------------------------------------------------
CREATE FUNCTION cxkpi_bi.dashboard_forecast(horizon integer DEFAULT 6)
    RETURNS TABLE (series text, series_name text, unit text, grain text, period_start date, "time" timestamptz,
                   actual double precision, point double precision, lo80 double precision, hi80 double precision,
                   lo95 double precision, hi95 double precision, method text)
    LANGUAGE sql STABLE PARALLEL SAFE ROWS 300
BEGIN ATOMIC
    SELECT CASE WHEN horizon IS NULL
                THEN cxkpi.dashboard_argument_error('22004', 'the forecast horizon cannot be NULL', 'Give a number of months, 1 to 60.')
                WHEN horizon < 1 OR horizon > 60
                THEN cxkpi.dashboard_argument_error('22023', format('forecast horizon %s is out of range', horizon),
                                                    'Give a number of months, 1 to 60.')
           END;
    WITH spec(series, series_name, unit, kpi, part) AS (
        VALUES ('orders', 'Orders', 'count', 'aov', 'denominator'),
               ('net_sales', 'Net sales', 'currency', 'aov', 'numerator'),
               ('visits', 'Visits (sessions and store visitors)', 'count', 'conversion_rate', 'denominator'),
               ('tickets', 'Support tickets', 'count', 'resolution_rate', 'denominator')),
    actuals AS (
        SELECT s.series, s.series_name, s.unit, t.period_start,
               CASE s.part WHEN 'numerator' THEN t.numerator ELSE t.denominator END AS v
        FROM spec AS s
        JOIN cxkpi_bi.kpi_timeseries AS t ON t.kpi = s.kpi AND t.grain = 'month' AND t.breakdown = 'total'
        WHERE t.period_complete),
    runs AS (
        -- a month that does not follow the previous one (or a month without a value) starts a run
        SELECT a.series, a.period_start, a.v,
               (a.period_start - interval '1 month')::date IS DISTINCT FROM
               lag(a.period_start) OVER (PARTITION BY a.series ORDER BY a.period_start) AS starts_run
        FROM actuals AS a WHERE a.v IS NOT NULL AND a.v <> 'NaN'),
    models AS (
        SELECT r.series, @extschema@.ets_fit(r.period_start, r.v) AS model
        FROM runs AS r
        WHERE r.period_start >= (SELECT max(r2.period_start) FROM runs AS r2 WHERE r2.series = r.series AND r2.starts_run)
        GROUP BY r.series HAVING count(*) >= 12)
    SELECT a.series, a.series_name, a.unit, 'month'::text, a.period_start,
           a.period_start::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')),
           a.v, NULL::double precision, NULL::double precision, NULL::double precision, NULL::double precision,
           NULL::double precision, @extschema@.method(m.model)
    FROM actuals AS a LEFT JOIN models AS m USING (series)
    UNION ALL
    SELECT s.series, s.series_name, s.unit, 'month'::text, f.month,
           f.month::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')),
           NULL::double precision, f.point, f.lo80, f.hi80, f.lo95, f.hi95, @extschema@.method(m.model)
    FROM spec AS s JOIN models AS m USING (series),
         -- a date series' forecast times are midnights in the session's time zone: ::date is the month
         LATERAL (SELECT fc."time"::date AS month, fc.point, fc.lo80, fc.hi80, fc.lo95, fc.hi95
                  FROM @extschema@.forecast(m.model, horizon) AS fc) AS f
    ORDER BY 1, 5;
END;
COMMENT ON FUNCTION cxkpi_bi.dashboard_forecast(integer) IS
    'Demand forecasts of the dashboard page: orders, net sales, visits and support tickets per month (from kpi_timeseries), an ETS model per series chosen by AICc over the last run of consecutive complete months (12 or more), and horizon months ahead (1-60) with 80 % and 95 % prediction intervals. Rows: every complete month (actual) and the forecast months (point, lo80 ... hi95); method names the model.';

-------------------------------------------------------------------------------------------------
-- Every number of the page, as one JSON document (docs/dashboard.md#the-dashboard-page has its
-- keys): the scorecard period and settings, the KPI catalogue, one tile per KPI of `tiles`
-- (seed 000's primary metrics by default), their weekly summary (26 weeks) and monthly report
-- (24 months) up to the reference date, seed 000's four breakdowns for the scorecard period,
-- the last 12 monthly cohorts, the open alerts, the top of the churn watch and win-back lists,
-- the recommended interventions per rule, the forecasts and the whole scorecard.  Dates are ISO dates (days of the time_zone setting),
-- instants are written in the time_zone setting, values are in their unit (percentages 0-100).
-------------------------------------------------------------------------------------------------
CREATE FUNCTION cxkpi_bi.dashboard_data(
        tiles text[] DEFAULT ARRAY['nps', 'csat', 'conversion_rate', 'aov', 'cart_abandonment_rate',
                                   'response_time_hours', 'resolution_rate', 'retention_rate', 'loyalty_members'],
        horizon integer DEFAULT 6)
    RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN tiles IS NULL
    THEN cxkpi.dashboard_argument_error('22004', 'the tiles of the dashboard cannot be NULL',
                                        'Give an array of KPI keys of cxkpi_bi.kpi_catalog, or ARRAY[]::text[] for none.')
    WHEN EXISTS (SELECT FROM unnest(tiles) AS t(kpi) WHERE t.kpi IS NULL OR t.kpi NOT IN (SELECT c.kpi FROM cxkpi_bi.kpi_catalog AS c))
    THEN cxkpi.dashboard_argument_error('22023',
             format('unknown KPI in the tiles of the dashboard: %s',
                    (SELECT string_agg(coalesce(quote_literal(t.kpi), 'NULL'), ', ') FROM unnest(tiles) AS t(kpi)
                     WHERE t.kpi IS NULL OR t.kpi NOT IN (SELECT c.kpi FROM cxkpi_bi.kpi_catalog AS c))),
             'The tiles are KPI keys of cxkpi_bi.kpi_catalog (column kpi).')
    WHEN horizon IS NULL
    THEN cxkpi.dashboard_argument_error('22004', 'the forecast horizon cannot be NULL', 'Give a number of months, 1 to 60.')
    WHEN horizon < 1 OR horizon > 60
    THEN cxkpi.dashboard_argument_error('22023', format('forecast horizon %s is out of range', horizon),
                                        'Give a number of months, 1 to 60.')
    ELSE (
    WITH ctx AS (
        SELECT a.as_of, a.tz, a.grain,
               -- the last 26 weeks and 24 months that start before the reference date
               date_trunc('week', (a.as_of - 1)::timestamp)::date - 7 * 25 AS first_week,
               (date_trunc('month', (a.as_of - 1)::timestamp) - interval '23 months')::date AS first_month,
               (date_trunc('month', (a.as_of - 1)::timestamp) - interval '11 months')::date AS first_cohort
        FROM (SELECT cxkpi.as_of() AS as_of, cxkpi.setting('time_zone') AS tz, cxkpi.setting('scorecard_grain') AS grain) AS a),
    card AS (
        SELECT s.kpi, s.breakdown, s.dimension, s.value, s.target, s.red_threshold, s.yellow_threshold, s.status, s.flag,
               s.status_rank, s.meets_target, s.value_year_ago, s.yoy_change, s.yoy_change_pct, s.sample_size,
               s.ci_lower, s.ci_upper, s.period_start, s.period_end, s.year_ago_period_start, s.year_ago_period_end
        FROM cxkpi_bi.kpi_scorecard AS s),
    card_json AS (
        SELECT c.kpi, c.breakdown, c.dimension,
               jsonb_build_object('kpi', c.kpi, 'dimension', c.dimension, 'value', c.value, 'target', c.target,
                                  'red_threshold', c.red_threshold, 'yellow_threshold', c.yellow_threshold,
                                  'status', c.status, 'flag', c.flag, 'status_rank', c.status_rank,
                                  'meets_target', c.meets_target, 'value_year_ago', c.value_year_ago,
                                  'yoy_change', c.yoy_change, 'yoy_change_pct', c.yoy_change_pct,
                                  'sample_size', c.sample_size, 'ci_lower', c.ci_lower, 'ci_upper', c.ci_upper) AS j
        FROM card AS c),
    breakdowns(ord, kpi, breakdown) AS (
        VALUES (1, 'csat', 'channel'), (2, 'conversion_rate', 'device'), (3, 'aov', 'segment'),
               (4, 'response_time_hours', 'channel')),
    weekly AS (
        SELECT w.kpi, jsonb_agg(jsonb_build_object('period_start', w.period_start, 'value', w.value, 'target', w.target,
                                                   'status', w.status, 'status_rank', w.status_rank,
                                                   'period_complete', w.period_complete) ORDER BY w.period_start) AS points
        FROM cxkpi_bi.kpi_weekly_summary AS w, ctx
        WHERE w.breakdown = 'total' AND w.kpi = ANY (tiles) AND w.period_start >= ctx.first_week AND w.period_start < ctx.as_of
        GROUP BY w.kpi),
    monthly AS (
        SELECT m.kpi, jsonb_agg(jsonb_build_object('period_start', m.period_start, 'value', m.value, 'target', m.target,
                                                   'status', m.status, 'status_rank', m.status_rank,
                                                   'value_year_ago', m.value_year_ago,
                                                   'period_complete', m.period_complete) ORDER BY m.period_start) AS points
        FROM cxkpi_bi.kpi_monthly_report AS m, ctx
        WHERE m.breakdown = 'total' AND m.kpi = ANY (tiles) AND m.period_start >= ctx.first_month AND m.period_start < ctx.as_of
        GROUP BY m.kpi),
    cohorts AS (
        SELECT k.period_start AS cohort, max(k.cohort_size) AS cohort_size,
               jsonb_agg(k.retention_pct ORDER BY k.period_offset) AS retention_pct,
               jsonb_agg(k.active_customers ORDER BY k.period_offset) AS active_customers
        FROM cxkpi_bi.kpi_cohort_retention AS k, ctx
        WHERE k.period_start >= ctx.first_cohort AND k.period_start < ctx.as_of
          AND k.period_offset <= 12 AND k.active_period_start < ctx.as_of
        GROUP BY k.period_start),
    forecasts AS (
        SELECT f.series, min(f.series_name) AS series_name, min(f.unit) AS unit, min(f.method) AS method,
               coalesce(jsonb_agg(jsonb_build_object('period_start', f.period_start, 'value', f.actual) ORDER BY f.period_start)
                            FILTER (WHERE f.actual IS NOT NULL AND f.period_start >= ctx.first_month), '[]') AS history,
               coalesce(jsonb_agg(jsonb_build_object('period_start', f.period_start, 'point', f.point, 'lo80', f.lo80,
                                                     'hi80', f.hi80, 'lo95', f.lo95, 'hi95', f.hi95) ORDER BY f.period_start)
                            FILTER (WHERE f.point IS NOT NULL), '[]') AS forecast
        FROM cxkpi_bi.dashboard_forecast(horizon) AS f, ctx
        GROUP BY f.series)
    SELECT jsonb_build_object(
        'generated_at', to_char(now() AT TIME ZONE ctx.tz, 'YYYY-MM-DD HH24:MI'),
        'time_zone', ctx.tz,
        'as_of', ctx.as_of,
        'scorecard', (SELECT jsonb_build_object('grain', ctx.grain, 'period_start', min(c.period_start),
                                                'period_end', min(c.period_end),
                                                'year_ago_period_start', min(c.year_ago_period_start),
                                                'year_ago_period_end', min(c.year_ago_period_end))
                      FROM card AS c WHERE c.breakdown = 'total'),
        'settings', jsonb_build_object('csat_scale', cxkpi.setting('csat_scale')::integer,
                                       'ces_scale', cxkpi.setting('ces_scale')::integer,
                                       'gone_p_alive', cxkpi.setting('gone_p_alive')::double precision),
        'kpis', (SELECT jsonb_object_agg(k.kpi, jsonb_build_object(
                            'name', k.kpi_name, 'section', k.section, 'section_name', k.section_name,
                            'section_order', k.section_order, 'kpi_order', k.kpi_order, 'unit', k.unit,
                            'direction', k.direction, 'decimals', k.decimals, 'suffix', k.value_suffix))
                 FROM cxkpi_bi.kpi_catalog AS k),
        'tiles', (SELECT coalesce(jsonb_agg(cj.j ORDER BY t.ord), '[]')
                  FROM unnest(tiles) WITH ORDINALITY AS t(kpi, ord)
                  JOIN card_json AS cj ON cj.kpi = t.kpi AND cj.breakdown = 'total'),
        'weekly', (SELECT coalesce(jsonb_object_agg(w.kpi, w.points), '{}') FROM weekly AS w),
        'monthly', (SELECT coalesce(jsonb_object_agg(m.kpi, m.points), '{}') FROM monthly AS m),
        'breakdowns', (SELECT jsonb_agg(jsonb_build_object(
                                  'kpi', b.kpi, 'breakdown', b.breakdown,
                                  'rows', (SELECT coalesce(jsonb_agg(cj.j ORDER BY cj.dimension), '[]') FROM card_json AS cj
                                           WHERE cj.kpi = b.kpi AND cj.breakdown = b.breakdown))
                              ORDER BY b.ord)
                       FROM breakdowns AS b),
        'cohorts', (SELECT coalesce(jsonb_agg(jsonb_build_object('cohort', c.cohort, 'cohort_size', c.cohort_size,
                                                                 'retention_pct', c.retention_pct,
                                                                 'active_customers', c.active_customers)
                                              ORDER BY c.cohort), '[]')
                    FROM cohorts AS c),
        'alerts', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                              'level', a.level, 'kpi', a.kpi, 'breakdown', a.breakdown, 'dimension', a.dimension,
                              'grain', a.grain, 'period_start', a.period_start, 'period_end', a.period_end,
                              'value', coalesce(a.current_value, a.value), 'threshold', a.threshold, 'target', a.target,
                              'raised_at', to_char(a.raised_at AT TIME ZONE ctx.tz, 'YYYY-MM-DD HH24:MI'),
                              'acknowledged', a.acknowledged)
                          ORDER BY a.level = 'yellow', a.kpi_order, a.breakdown <> 'total', a.dimension, a.period_start DESC), '[]')
                   FROM cxkpi_bi.current_alerts AS a),
        'churn_watch', (SELECT jsonb_build_object(
                                   'customers', count(*), 'value_at_stake_52w', sum(w.value_at_stake_52w_currency),
                                   'top', coalesce(jsonb_agg(jsonb_build_object(
                                              'rank', w.watch_rank, 'customer_id', w.customer_id,
                                              'acquisition_channel', w.acquisition_channel, 'loyalty_tier', w.loyalty_tier,
                                              'purchases', w.purchases, 'historic_value', w.historic_value_currency,
                                              'last_purchase', w.last_purchase,
                                              'weeks_since_last_purchase', w.weeks_since_last_purchase,
                                              'p_alive', w.p_alive, 'churn_probability_13w', w.churn_probability_13w,
                                              'clv_52w', w.clv_52w_currency, 'value_at_stake_52w', w.value_at_stake_52w_currency)
                                          ORDER BY w.watch_rank) FILTER (WHERE w.watch_rank <= 10), '[]'))
                        FROM cxkpi_bi.churn_watch_list AS w),
        'win_back', (SELECT jsonb_build_object(
                                'customers', count(*), 'historic_value', sum(w.historic_value_currency),
                                'top', coalesce(jsonb_agg(jsonb_build_object(
                                           'rank', w.win_back_rank, 'customer_id', w.customer_id,
                                           'acquisition_channel', w.acquisition_channel, 'loyalty_tier', w.loyalty_tier,
                                           'purchases', w.purchases, 'historic_value', w.historic_value_currency,
                                           'last_purchase', w.last_purchase,
                                           'weeks_since_last_purchase', w.weeks_since_last_purchase,
                                           'p_alive', w.p_alive, 'win_back_score', w.win_back_score_currency)
                                       ORDER BY w.win_back_rank) FILTER (WHERE w.win_back_rank <= 10), '[]'))
                     FROM cxkpi_bi.win_back_list AS w),
        'interventions', (SELECT jsonb_build_object(
                                     'customers', coalesce(sum(i.customers), 0),
                                     'value_at_stake_52w', coalesce(sum(i.value_at_stake_52w_currency), 0),
                                     'rules', coalesce(jsonb_agg(jsonb_build_object(
                                                  'priority', i.priority, 'rule', i.rule, 'intervention', i.intervention,
                                                  'customers', i.customers, 'value_at_stake_52w', i.value_at_stake_52w_currency,
                                                  'historic_value', i.historic_value_currency)
                                              ORDER BY i.priority, i.rule), '[]'))
                          FROM cxkpi_bi.intervention_summary AS i),
        'forecasts', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'series', f.series, 'name', f.series_name, 'unit', f.unit, 'method', f.method,
                                 'history', f.history, 'forecast', f.forecast)
                             ORDER BY array_position(ARRAY['orders', 'net_sales', 'visits', 'tickets'], f.series)), '[]')
                      FROM forecasts AS f),
        'scorecard_rows', (SELECT coalesce(jsonb_agg(cj.j ORDER BY k.kpi_order), '[]')
                           FROM card_json AS cj JOIN cxkpi_bi.kpi_catalog AS k USING (kpi)
                           WHERE cj.breakdown = 'total'))
    FROM ctx)
END;
COMMENT ON FUNCTION cxkpi_bi.dashboard_data(text[], integer) IS
    'Every number of the dashboard page (cxkpi_bi.dashboard_page) as one JSON document: scorecard period and settings, the KPI catalogue, one tile per KPI of tiles (default: seed 000''s primary metrics) with the weekly summary (26 weeks) and monthly report (24 months) of each, seed 000''s breakdowns, the last 12 monthly cohorts, open alerts, the top of the churn watch and win-back lists, the recommended interventions per rule, forecasts (horizon months) and the whole scorecard. Reads schema cxkpi_bi only.';

-------------------------------------------------------------------------------------------------
-- The page: an HTML template with inline CSS and JavaScript, in which the data of
-- cxkpi_bi.dashboard_data go as a JSON script element (every "<" written \u003c, so that no
-- text of the data can close the element) and the title as HTML-escaped text.  The script draws
-- the tiles, charts, heat map and tables with inline SVG and DOM text nodes (names from the
-- database are never parsed as HTML); dates are the ISO days of the data, shown as they are,
-- never converted to the browser's time zone.
-------------------------------------------------------------------------------------------------
CREATE FUNCTION cxkpi_bi.dashboard_page(
        title text DEFAULT 'Retail Customer Experience',
        currency text DEFAULT '$',
        tiles text[] DEFAULT ARRAY['nps', 'csat', 'conversion_rate', 'aov', 'cart_abandonment_rate',
                                   'response_time_hours', 'resolution_rate', 'retention_rate', 'loyalty_members'],
        horizon integer DEFAULT 6)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN title IS NULL
    THEN cxkpi.dashboard_argument_error('22004', 'the title of the dashboard page cannot be NULL',
                                        'Leave the argument out for the default title.')::text
    WHEN currency IS NULL
    THEN cxkpi.dashboard_argument_error('22004', 'the currency symbol of the dashboard page cannot be NULL',
                                        'Pass '''' for amounts without a symbol.')::text
    ELSE (
    SELECT split_part(t.html, '@@TITLE@@', 1)
           || replace(replace(replace(replace(title, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')
           || split_part(split_part(t.html, '@@TITLE@@', 2), '@@DATA@@', 1)
           || replace((cxkpi_bi.dashboard_data(tiles, horizon)
                       || jsonb_build_object('title', title, 'currency', currency))::text, '<', '\u003c')
           || split_part(split_part(t.html, '@@TITLE@@', 2), '@@DATA@@', 2)
    FROM (SELECT $html$<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cxkpi_bi.dashboard_page (cxkpi 1.1)">
<title>@@TITLE@@</title>
<style>
:root {
  --ink: #1d2733; --muted: #66727f; --faint: #97a1ac; --line: #e3e7ec; --bg: #eef1f5; --card: #ffffff;
  --red: #d33f3f; --yellow: #e3a600; --orange: #ee8434; --green: #2c9a63; --grey: #a3acb6;
  --blue: #2f6fd6; --violet: #7a55cf; --navy: #16223a;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { background: var(--bg); color: var(--ink); font: 14px/1.35 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif;
       -webkit-font-smoothing: antialiased; }
header { background: var(--navy); color: #fff; padding: 22px 32px 20px; }
header .row { display: flex; align-items: flex-end; justify-content: space-between; gap: 24px; max-width: 1720px; margin: 0 auto; }
header h1 { margin: 0; font-size: 28px; font-weight: 700; letter-spacing: 0.2px; }
header .sub { margin-top: 6px; color: #b9c4d6; font-size: 14px; }
header .sub b { color: #fff; font-weight: 600; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12.5px; color: #d5dceb; }
.legend span { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
.legend i { width: 12px; height: 12px; border-radius: 3px; display: inline-block; }
main { max-width: 1720px; margin: 0 auto; padding: 22px 32px 8px; }
h2 { font-size: 15px; text-transform: uppercase; letter-spacing: 1.1px; color: var(--muted); margin: 26px 0 12px; font-weight: 700; }
h2:first-child { margin-top: 0; }
.card { background: var(--card); border-radius: 10px; box-shadow: 0 1px 2px rgba(20,30,50,.08), 0 2px 10px rgba(20,30,50,.05); padding: 16px 18px; min-width: 0; }
.card h3 { margin: 0 0 2px; font-size: 16px; font-weight: 700; }
.card .note { color: var(--muted); font-size: 12.5px; margin-bottom: 10px; }
.grid { display: grid; gap: 16px; }
.tiles { grid-template-columns: repeat(5, minmax(0, 1fr)); }
.cols2 { grid-template-columns: repeat(2, minmax(0, 1fr)); }
.cols3 { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.cols4 { grid-template-columns: repeat(4, minmax(0, 1fr)); }
.wide-left { grid-template-columns: minmax(0, 7fr) minmax(0, 5fr); }
@media (max-width: 1300px) { .tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); } .cols4 { grid-template-columns: repeat(2, minmax(0, 1fr)); }
                              .cols3, .wide-left { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 800px) { .tiles, .cols2, .cols4 { grid-template-columns: minmax(0, 1fr); } }
.tile { position: relative; border-left: 6px solid var(--grey); padding: 14px 16px 10px 16px; display: flex; flex-direction: column; }
.tile .section { font-size: 11px; text-transform: uppercase; letter-spacing: 0.8px; color: var(--faint); font-weight: 700; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .name { font-size: 15px; font-weight: 600; margin-top: 4px; line-height: 1.3; height: 2.6em; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.tile .name .q { color: var(--muted); font-weight: 400; font-size: 13px; }
.tile .value { font-size: 36px; font-weight: 700; margin-top: 0; letter-spacing: -0.5px; display: flex; align-items: baseline; gap: 8px; white-space: nowrap; }
.tile .value .scale { font-size: 18px; color: var(--muted); font-weight: 600; letter-spacing: 0; }
.tile .value .pill { margin-left: auto; align-self: center; letter-spacing: 0; }
.tile .meta { font-size: 12.5px; color: var(--muted); margin-top: 1px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .meta b { color: var(--ink); font-weight: 600; }
.tile .spark { margin-top: 8px; height: 46px; }
.pill { display: inline-flex; align-items: center; gap: 4px; padding: 2px 9px; border-radius: 999px; font-size: 11.5px; font-weight: 700; color: #fff; background: var(--grey); white-space: nowrap; }
.s1 { border-color: var(--red); } .s2 { border-color: var(--yellow); } .s3 { border-color: var(--orange); } .s4 { border-color: var(--green); }
.pill.s1 { background: var(--red); } .pill.s2 { background: var(--yellow); color: #2b2100; } .pill.s3 { background: var(--orange); } .pill.s4 { background: var(--green); }
.good { color: var(--green); font-weight: 700; } .bad { color: var(--red); font-weight: 700; } .flat { color: var(--muted); font-weight: 700; }
.summary .big { font-size: 34px; font-weight: 700; line-height: 1.1; }
.summary .bar { display: flex; height: 14px; border-radius: 7px; overflow: hidden; margin: 10px 0 8px; background: var(--line); }
.summary .bar div { height: 100%; }
.summary ul { list-style: none; margin: 0; padding: 0; font-size: 12.5px; color: var(--muted); columns: 2; }
.summary li { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.summary li i { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
.multiples { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px 18px; }
.mini .t { display: flex; justify-content: space-between; font-size: 12.5px; gap: 8px; }
.mini .t span:first-child { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.mini .t span:last-child { color: var(--muted); white-space: nowrap; }
.chart { width: 100%; }
svg text { font-family: inherit; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.5px; padding: 4px 8px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 5px 8px; border-bottom: 1px solid #f0f2f5; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.fill { width: 100%; }
tr:last-child td { border-bottom: 0; }
.heat { table-layout: fixed; }
.heat td { text-align: center; padding: 0; height: 27px; font-size: 12px; border: 2px solid #fff; font-variant-numeric: tabular-nums; }
.heat td.lbl { text-align: left; padding: 0 10px 0 0; white-space: nowrap; }
.heat td.lbl small { color: var(--muted); }
.heat th { text-align: center; padding: 2px 0 6px; }
.heat th:first-child { text-align: left; width: 128px; }
.empty { color: var(--faint); font-style: italic; padding: 12px 0; }
.scorecard { columns: 3; column-gap: 28px; }
.scorecard .sec { break-inside: avoid; margin-bottom: 12px; }
.scorecard .sec h4 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.8px; color: var(--muted); }
.scorecard .row { display: grid; grid-template-columns: 14px minmax(0, 1fr) auto auto; gap: 8px; align-items: center; font-size: 13px; padding: 3px 0; border-bottom: 1px solid #f0f2f5; }
.scorecard .row .dot { width: 10px; height: 10px; border-radius: 50%; background: var(--grey); }
.scorecard .row .dot.s1 { background: var(--red); } .scorecard .row .dot.s2 { background: var(--yellow); }
.scorecard .row .dot.s3 { background: var(--orange); } .scorecard .row .dot.s4 { background: var(--green); }
.scorecard .row .n { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.scorecard .row .v { font-weight: 600; text-align: right; font-variant-numeric: tabular-nums; }
.scorecard .row .g { color: var(--muted); font-size: 12px; text-align: right; min-width: 86px; font-variant-numeric: tabular-nums; }
.fc-head { display: flex; justify-content: space-between; gap: 8px; font-size: 13px; }
.fc-head b { font-weight: 600; }
.fc-head span { color: var(--muted); font-size: 12px; }
.fc-next { font-size: 12.5px; color: var(--muted); margin: 2px 0 2px; }
.fc-next b { color: var(--ink); }
footer { max-width: 1720px; margin: 0 auto; padding: 16px 32px 28px; color: var(--muted); font-size: 12px; }
.alert { display: grid; grid-template-columns: 62px minmax(0, 1fr); gap: 4px 10px; padding: 8px 0; border-bottom: 1px solid #f0f2f5; align-items: start; }
.alert:last-child { border-bottom: 0; }
.alert .pill { justify-content: center; margin-top: 1px; }
.alert .k { font-weight: 600; }
.alert .m { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
.alert .m b { color: var(--ink); }
#errors { display: none; background: #fbe7e7; color: #8c1d1d; border: 1px solid #e9b1b1; border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; white-space: pre-wrap; }
</style>
</head>
<body data-rendered="no">
<header><div class="row"><div><h1 id="title"></h1><div class="sub" id="subtitle"></div></div><div class="legend" id="legend"></div></div></header>
<main>
<div id="errors"></div>
<h2>Primary metrics</h2>
<section class="grid tiles" id="tiles"></section>
<h2>Trend analysis</h2>
<section class="grid cols2">
  <div class="card"><h3>Weekly performance summary</h3><div class="note" id="weekly-note"></div><div class="multiples" id="weekly"></div></div>
  <div class="card"><h3>Monthly executive report</h3><div class="note" id="monthly-note"></div><div class="multiples" id="monthly"></div></div>
</section>
<h2>Breakdowns</h2>
<section class="grid cols4" id="breakdowns"></section>
<h2>Loyalty and predictive analytics</h2>
<section class="grid wide-left">
  <div class="card"><h3>Cohort retention</h3><div class="note" id="cohorts-note"></div><div id="cohorts"></div></div>
  <div class="card"><h3>Demand forecast</h3><div class="note" id="forecast-note"></div><div class="grid cols2" id="forecasts" style="gap:14px 20px"></div></div>
</section>
<h2>Action</h2>
<section class="grid cols3">
  <div class="card"><h3>Open alerts</h3><div class="note" id="alerts-note"></div><div id="alerts"></div></div>
  <div class="card"><h3>Churn watch list</h3><div class="note" id="watch-note"></div><div id="watch"></div></div>
  <div class="card"><h3>Win-back list</h3><div class="note" id="winback-note"></div><div id="winback"></div></div>
</section>
<section class="grid" style="margin-top:16px">
  <div class="card"><h3>Recommended interventions</h3><div class="note" id="interventions-note"></div><div id="interventions"></div></div>
</section>
<h2>Scorecard: every KPI</h2>
<section class="card"><div class="note" id="scorecard-note"></div><div class="scorecard" id="scorecard"></div></section>
</main>
<footer id="footer"></footer>
<script type="application/json" id="cxkpi-data">@@DATA@@</script>
<script>
"use strict";
(function () {
  var errors = [];
  function report(msg) {
    errors.push(msg);
    var box = document.getElementById('errors');
    box.style.display = 'block';
    box.textContent = 'The page could not draw everything:\n' + errors.join('\n');
    document.body.setAttribute('data-errors', String(errors.length));
  }
  window.addEventListener('error', function (e) { report(String(e.message || e)); });
  document.body.setAttribute('data-errors', '0');

  var D = JSON.parse(document.getElementById('cxkpi-data').textContent);
  var CUR = D.currency == null ? '' : String(D.currency);
  var SVGNS = 'http://www.w3.org/2000/svg';
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var STATUS = {1: 'Red flag', 2: 'Yellow flag', 3: 'Off target', 4: 'On target'};
  var COLORS = {1: '#d33f3f', 2: '#e3a600', 3: '#ee8434', 4: '#2c9a63'};
  var GREY = '#a3acb6';

  // ---- DOM helpers (text goes in as text: names come from the database) ----
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k]; else if (k === 'cls') e.className = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function tip(node, text) { node.appendChild(sv('title', null, text)); return node; }
  function $(id) { return document.getElementById(id); }

  // ---- numbers ----
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function group(s) {
    var neg = s.charAt(0) === '-'; if (neg) s = s.slice(1);
    var parts = s.split('.');
    var g = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var out = g + (parts.length > 1 ? '.' + parts[1] : '');
    return (neg && /[1-9]/.test(out) ? '\u2212' : '') + out;
  }
  function fixed(v, d) { return group(v.toFixed(d)); }
  function meta(k) { return D.kpis[k] || {name: k, unit: 'ratio', decimals: 2, suffix: '', direction: 'higher_is_better'}; }
  function scale(k) {
    var s = D.settings || {};
    if (k === 'csat' || k === 'returns_csat') return s.csat_scale;
    if (k === 'ces') return s.ces_scale;
    if (k === 'app_rating') return 5;
    if (k === 'mobile_optimization_score') return 100;
    return null;
  }
  function money(v, d) {
    var s = Math.abs(v).toFixed(d);
    return (v < 0 && /[1-9]/.test(s) ? '\u2212' : '') + CUR + group(s);
  }
  function compactCount(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return fixed(v / 1e9, 2) + 'B';
    if (a >= 1e6) return fixed(v / 1e6, 2) + 'M';
    return fixed(v, 0);
  }
  // A value in its unit: "41.4", "4.20 / 5" (withScale), "3.2 %", "$127.16", "2.25 h", "3,884".
  function fmt(k, v, opt) {
    opt = opt || {};
    if (!isNum(v)) return '\u2013';
    var m = meta(k), d = opt.decimals != null ? opt.decimals : m.decimals;
    if (m.unit === 'currency') return money(v, d);
    if (m.unit === 'count') return opt.compact ? compactCount(v) : fixed(v, d);
    if (m.unit === 'score') return fixed(v, d) + (opt.withScale && scale(k) ? ' / ' + scale(k) : '');
    return fixed(v, d) + (m.suffix || '');
  }
  // A difference in the KPI's unit: percentage points for rates, points for NPS.
  function fmtDelta(k, v) {
    if (!isNum(v)) return '\u2013';
    var m = meta(k), d = m.decimals, sign = v > 0 ? '+' : (v < 0 ? '\u2212' : '\u00b1');
    var a = Math.abs(v), body;
    if (Number(a.toFixed(d)) === 0) sign = '\u00b1';
    if (m.unit === 'currency') body = CUR + fixed(a, d);
    else if (m.unit === 'percent') body = fixed(a, d) + ' pp';
    else if (m.unit === 'points') body = fixed(a, d) + ' pts';
    else if (m.unit === 'count') body = compactCount(a);
    else body = fixed(a, d) + (m.suffix || '');
    return sign + body;
  }
  function trendClass(k, v) {
    var m = meta(k), d = m.decimals;
    if (!isNum(v) || Number(Math.abs(v).toFixed(d)) === 0) return 'flat';
    return (v > 0) === (m.direction === 'higher_is_better') ? 'good' : 'bad';
  }
  function axisFmt(k, v, span) {
    var m = meta(k);
    var d = span >= 100 ? 0 : span >= 10 ? Math.min(1, m.decimals) : span >= 1 ? Math.min(2, Math.max(1, m.decimals)) : Math.max(2, m.decimals);
    if (m.unit === 'count' || (m.unit === 'currency' && Math.abs(v) >= 10000)) {
      var a = Math.abs(v);
      var s = a >= 1e6 ? fixed(v / 1e6, 1) + 'M' : a >= 1e4 ? fixed(v / 1e3, 0) + 'k' : fixed(v, 0);
      return m.unit === 'currency' ? CUR + s : s;
    }
    if (m.unit === 'currency') return CUR + fixed(v, Math.min(d, 0));
    return fixed(v, d) + (m.unit === 'percent' ? '%' : '');
  }

  // ---- dates: ISO days of the dashboard's time zone, read as text (never shifted by the browser) ----
  function ymd(s) { var p = String(s).split('-'); return {y: +p[0], m: +p[1], d: +p[2]}; }
  function dayLabel(s) { var t = ymd(s); return t.d + ' ' + MONTHS[t.m - 1] + ' ' + t.y; }
  function monthLabel(s) { var t = ymd(s); return MONTHS[t.m - 1] + ' ' + t.y; }
  function shortMonth(s) { var t = ymd(s); return MONTHS[t.m - 1] + ' ' + String(t.y).slice(2); }
  function shortDay(s) { var t = ymd(s); return t.d + ' ' + MONTHS[t.m - 1]; }
  function periodLabel(grain, s) {
    if (!s) return '\u2013';
    var t = ymd(s);
    if (grain === 'year') return String(t.y);
    if (grain === 'quarter') return 'Q' + (Math.floor((t.m - 1) / 3) + 1) + ' ' + t.y;
    if (grain === 'month') return monthLabel(s);
    if (grain === 'week') return 'week of ' + dayLabel(s);
    return dayLabel(s);
  }
  function stamp(s) { // "YYYY-MM-DD HH24:MI" in the dashboard's time zone
    if (!s) return '\u2013';
    var p = String(s).split(' ');
    return dayLabel(p[0]) + ', ' + p[1];
  }
  function pretty(s) { return String(s == null ? '' : s).replace(/_/g, ' '); }

  // ---- charts ----
  // A line chart on a regular axis (one x per period): series of values (null = no value),
  // optional target path, optional bands (lo/hi per x), markers per point.
  function lineChart(opt) {
    var w = opt.width, h = opt.height, pad = opt.pad || {l: 40, r: 8, t: 8, b: 18};
    var n = opt.n, iw = w - pad.l - pad.r, ih = h - pad.t - pad.b;
    var vals = [];
    (opt.series || []).forEach(function (s) { s.values.forEach(function (v) { if (isNum(v)) vals.push(v); }); });
    (opt.bands || []).forEach(function (b) { b.lo.forEach(function (v) { if (isNum(v)) vals.push(v); }); b.hi.forEach(function (v) { if (isNum(v)) vals.push(v); }); });
    if (opt.target) opt.target.forEach(function (v) { if (isNum(v)) vals.push(v); });
    var svg = sv('svg', {width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, 'class': 'chart'});
    if (!vals.length || n < 1) {
      svg.appendChild(sv('text', {x: w / 2, y: h / 2, 'text-anchor': 'middle', fill: '#97a1ac', 'font-size': 12}, 'no data'));
      return svg;
    }
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    if (opt.zero && lo > 0) lo = 0;
    if (hi === lo) { hi += Math.abs(hi) * 0.05 || 1; lo -= Math.abs(lo) * 0.05 || 1; }
    var m = (hi - lo) * 0.1; hi += m; if (!(opt.zero && lo === 0)) lo -= m;
    function X(i) { return pad.l + (n === 1 ? iw / 2 : i * iw / (n - 1)); }
    function Y(v) { return pad.t + ih - (v - lo) / (hi - lo) * ih; }
    if (opt.grid !== false) {
      [lo + (hi - lo) * 0.1, (lo + hi) / 2, hi - (hi - lo) * 0.1].forEach(function (v) {
        svg.appendChild(sv('line', {x1: pad.l, x2: w - pad.r, y1: Y(v), y2: Y(v), stroke: '#edf0f3', 'stroke-width': 1}));
        if (opt.yLabel) svg.appendChild(sv('text', {x: pad.l - 5, y: Y(v) + 4, 'text-anchor': 'end', fill: '#8a95a1', 'font-size': 10.5}, opt.yLabel(v, hi - lo)));
      });
    }
    (opt.bands || []).forEach(function (b) {
      var up = [], dn = [];
      for (var i = 0; i < n; i++) if (isNum(b.lo[i]) && isNum(b.hi[i])) { up.push(X(i) + ',' + Y(b.hi[i])); dn.unshift(X(i) + ',' + Y(b.lo[i])); }
      if (up.length) svg.appendChild(sv('polygon', {points: up.concat(dn).join(' '), fill: b.color, opacity: b.opacity}));
    });
    if (opt.split != null) svg.appendChild(sv('line', {x1: X(opt.split), x2: X(opt.split), y1: pad.t, y2: pad.t + ih, stroke: '#c9ced6', 'stroke-dasharray': '2,3'}));
    function path(values) {
      var d = '', pen = false;
      for (var i = 0; i < n; i++) {
        if (isNum(values[i])) { d += (pen ? 'L' : 'M') + X(i).toFixed(1) + ',' + Y(values[i]).toFixed(1); pen = true; } else pen = false;
      }
      return d;
    }
    if (opt.target) {
      var td = path(opt.target);
      if (td) svg.appendChild(tip(sv('path', {d: td, fill: 'none', stroke: '#7d8896', 'stroke-width': 1.2, 'stroke-dasharray': '5,4'}), 'target'));
    }
    (opt.series || []).forEach(function (s) {
      var d = path(s.values);
      if (d) svg.appendChild(sv('path', {d: d, fill: 'none', stroke: s.color, 'stroke-width': s.width || 2, 'stroke-dasharray': s.dash || 'none',
                                         'stroke-linejoin': 'round', 'stroke-linecap': 'round', opacity: s.opacity || 1}));
      // a lone point (no neighbour to draw a line to) still shows
      s.values.forEach(function (v, i) {
        if (isNum(v) && !isNum(s.values[i - 1]) && !isNum(s.values[i + 1])) svg.appendChild(sv('circle', {cx: X(i), cy: Y(v), r: 2, fill: s.color}));
      });
    });
    (opt.markers || []).forEach(function (mk) {
      if (!isNum(mk.value)) return;
      var c = sv('circle', {cx: X(mk.i), cy: Y(mk.value), r: mk.r || 3.5, fill: mk.hollow ? '#fff' : mk.color, stroke: mk.color, 'stroke-width': 2});
      svg.appendChild(mk.title ? tip(c, mk.title) : c);
    });
    if (opt.xLabels) opt.xLabels.forEach(function (xl) {
      svg.appendChild(sv('text', {x: X(xl.i), y: h - 4, 'text-anchor': xl.anchor || 'middle', fill: '#8a95a1', 'font-size': 10.5}, xl.text));
    });
    return svg;
  }
  function widthOf(node, fallback) { var w = Math.floor(node.getBoundingClientRect().width); return w > 40 ? w : fallback; }

  // ---- sections ----
  function section(name, f) { try { f(); } catch (e) { report(name + ': ' + (e && e.message ? e.message : e)); } }

  section('header', function () {
    var sc = D.scorecard || {};
    var title = D.title || 'Customer experience dashboard';
    document.title = title;
    $('title').textContent = title;
    var sub = $('subtitle');
    sub.appendChild(el('span', {text: 'Scorecard '})); sub.appendChild(el('b', {text: periodLabel(sc.grain, sc.period_start)}));
    if (sc.year_ago_period_start) sub.appendChild(el('span', {text: ' compared with ' + periodLabel(sc.grain, sc.year_ago_period_start)}));
    sub.appendChild(el('span', {text: '  \u00b7  reference date ' + dayLabel(D.as_of) + '  \u00b7  time zone ' + D.time_zone + '  \u00b7  generated ' + stamp(D.generated_at)}));
    var lg = $('legend');
    [[1, 'Red flag: act now'], [2, 'Yellow flag: monitor'], [3, 'Off target'], [4, 'On target'], [0, 'No data / no target']].forEach(function (x) {
      var i = el('i'); i.style.background = COLORS[x[0]] || GREY;
      lg.appendChild(el('span', null, [i, x[1]]));
    });
  });

  // The status as a coloured pill; seed 000's action flags (red, yellow) carry a flag.
  function statusPill(t) {
    var r = t.status_rank;
    var p = el('span', {cls: 'pill' + (r ? ' s' + r : ''), 'data-flag': t.flag || ''});
    if (t.flag) {
      var s = sv('svg', {width: 10, height: 11, viewBox: '0 0 10 11'});
      s.appendChild(sv('path', {d: 'M1.2 0.5v10M1.2 1h7.6l-1.8 2.6 1.8 2.6h-7.6', fill: 'currentColor', stroke: 'currentColor', 'stroke-width': 1.2, 'stroke-linejoin': 'round'}));
      p.appendChild(s);
    }
    p.appendChild(document.createTextNode(r ? STATUS[r] : (t.status || 'no data')));
    return p;
  }
  // "Customer satisfaction (mean score)": the qualifier in brackets in a lighter type
  function kpiName(name) {
    var m = /^(.*\S)\s+(\([^()]*\))$/.exec(name || '');
    return m ? [m[1] + ' ', el('span', {cls: 'q', text: m[2]})] : [name || ''];
  }

  section('tiles', function () {
    var box = $('tiles'), sc = D.scorecard || {};
    var sparkWeekly = sc.grain === 'week';
    (D.tiles || []).forEach(function (t) {
      var m = meta(t.kpi);
      var tile = el('div', {cls: 'card tile' + (t.status_rank ? ' s' + t.status_rank : ''), 'data-kpi': t.kpi, 'data-status': t.status || ''});
      tile.appendChild(el('div', {cls: 'section', text: m.section_name || ''}));
      tile.appendChild(el('div', {cls: 'name', title: m.name}, kpiName(m.name)));
      var v = el('div', {cls: 'value'});
      v.appendChild(el('span', {cls: 'v', 'data-value': isNum(t.value) ? String(t.value) : '', text: fmt(t.kpi, t.value, {compact: true})}));
      if (m.unit === 'score' && scale(t.kpi) && isNum(t.value)) v.appendChild(el('span', {cls: 'scale', text: '/ ' + scale(t.kpi)}));
      v.appendChild(statusPill(t));
      tile.appendChild(v);
      var tgt = isNum(t.target) ? (m.direction === 'lower_is_better' ? '< ' : '\u2265 ') + fmt(t.kpi, t.target, {compact: true}) : 'none';
      var thr = [];
      if (isNum(t.red_threshold)) thr.push('red ' + (m.direction === 'lower_is_better' ? '> ' : '< ') + fmt(t.kpi, t.red_threshold, {compact: true}));
      if (isNum(t.yellow_threshold)) thr.push('yellow ' + (m.direction === 'lower_is_better' ? '> ' : '< ') + fmt(t.kpi, t.yellow_threshold, {compact: true}));
      tile.appendChild(el('div', {cls: 'meta', 'data-target': isNum(t.target) ? String(t.target) : ''},
                          ['Target ', el('b', {text: tgt}), thr.length ? '  \u00b7  flag: ' + thr.join(', ') : '']));
      var yoy = el('div', {cls: 'meta yoy'});
      if (isNum(t.yoy_change)) {
        var arrow = t.yoy_change > 0 ? '\u25b2 ' : t.yoy_change < 0 ? '\u25bc ' : '';
        yoy.appendChild(el('span', {cls: trendClass(t.kpi, t.yoy_change), text: arrow + fmtDelta(t.kpi, t.yoy_change)}));
        yoy.appendChild(document.createTextNode(' vs ' + periodLabel(sc.grain, sc.year_ago_period_start) + ' (' + fmt(t.kpi, t.value_year_ago, {compact: true}) + ')'));
      } else {
        yoy.appendChild(document.createTextNode('no value a year earlier'));
      }
      tile.appendChild(yoy);
      var spark = el('div', {cls: 'spark'});
      tile.appendChild(spark);
      box.appendChild(tile);
      var pts = ((sparkWeekly ? D.weekly : D.monthly) || {})[t.kpi] || [];
      var w = widthOf(spark, 240);
      var last = -1; pts.forEach(function (p, i) { if (isNum(p.value) && p.period_complete) last = i; });
      spark.appendChild(lineChart({
        width: w, height: 46, n: pts.length, pad: {l: 2, r: 5, t: 5, b: 3}, grid: false,
        series: [{values: pts.map(function (p) { return p.value; }), color: '#2f6fd6', width: 1.8}],
        target: pts.map(function (p) { return p.target; }),
        markers: last >= 0 ? [{i: last, value: pts[last].value, color: COLORS[pts[last].status_rank] || GREY, r: 3.2,
                               title: periodLabel(sparkWeekly ? 'week' : 'month', pts[last].period_start) + ': ' + fmt(t.kpi, pts[last].value)}] : []
      }));
      spark.setAttribute('title', (sparkWeekly ? 'Weekly' : 'Monthly') + ' values, last ' + pts.length + (sparkWeekly ? ' weeks' : ' months') + '; dashed: target');
    });
    // The status of every KPI of the scorecard, in one tile
    var rows = D.scorecard_rows || [];
    var counts = {1: 0, 2: 0, 3: 0, 4: 0, 0: 0};
    rows.forEach(function (r) { counts[r.status_rank || 0]++; });
    var onTarget = counts[4], withTarget = counts[1] + counts[2] + counts[3] + counts[4];
    var s = el('div', {cls: 'card tile summary', 'data-summary': 'status'});
    var na = (D.alerts || []).length;
    s.appendChild(el('div', {cls: 'section', text: 'Scorecard: all ' + rows.length + ' KPIs'}));
    s.appendChild(el('div', {cls: 'name', text: 'KPIs on target, of those with a target'}));
    s.appendChild(el('div', {cls: 'value'}, [el('span', {cls: 'v', text: onTarget + ' of ' + withTarget}),
                                             el('span', {cls: 'pill' + (na ? ' s1' : ' s4'), text: na + (na === 1 ? ' open alert' : ' open alerts')})]));
    var bar = el('div', {cls: 'bar'});
    [1, 2, 3, 4, 0].forEach(function (k) {
      if (!counts[k]) return;
      var seg = el('div', {title: (STATUS[k] || 'no data / no target') + ': ' + counts[k]}); seg.style.width = (100 * counts[k] / rows.length) + '%';
      seg.style.background = COLORS[k] || GREY; bar.appendChild(seg);
    });
    s.appendChild(bar);
    var ul = el('ul');
    [[1, 'red flag'], [2, 'yellow flag'], [3, 'off target'], [4, 'on target'], [0, 'no target or data']].forEach(function (x) {
      var i = el('i'); i.style.background = COLORS[x[0]] || GREY;
      ul.appendChild(el('li', null, [i, counts[x[0]] + ' ' + x[1]]));
    });
    s.appendChild(ul);
    box.appendChild(s);
  });

  function multiples(boxId, noteId, data, grain, count) {
    var box = $(boxId);
    var any = false;
    (D.tiles || []).forEach(function (t) {
      var pts = (data || {})[t.kpi] || [];
      var m = meta(t.kpi);
      var lastI = -1; pts.forEach(function (p, i) { if (isNum(p.value) && p.period_complete) lastI = i; });
      var lastP = lastI >= 0 ? pts[lastI] : null;
      var cell = el('div', {cls: 'mini', 'data-kpi': t.kpi});
      cell.appendChild(el('div', {cls: 't'}, [el('span', {text: m.name, title: m.name}),
        el('span', {text: lastP ? fmt(t.kpi, lastP.value, {compact: true}) : '\u2013',
                    title: lastP ? periodLabel(grain, lastP.period_start) : 'no complete period'})]));
      box.appendChild(cell);
      if (pts.length) any = true;
      var w = widthOf(cell, 220);
      var n = pts.length;
      var xl = n ? [{i: 0, text: grain === 'week' ? shortDay(pts[0].period_start) : shortMonth(pts[0].period_start), anchor: 'start'},
                    {i: n - 1, text: grain === 'week' ? shortDay(pts[n - 1].period_start) : shortMonth(pts[n - 1].period_start), anchor: 'end'}] : [];
      var markers = pts.map(function (p, i) {
        return {i: i, value: p.value, color: COLORS[p.status_rank] || GREY, r: 2.4, hollow: !p.period_complete,
                title: periodLabel(grain, p.period_start) + ': ' + fmt(t.kpi, p.value) + (isNum(p.target) ? ' (target ' + fmt(t.kpi, p.target) + ')' : '') +
                       (p.period_complete ? '' : ', period in progress')};
      });
      cell.appendChild(lineChart({
        width: w, height: 96, n: n, pad: {l: 44, r: 6, t: 6, b: 16},
        // the line joins complete periods; the period in progress is a hollow dot on its own
        series: [{values: pts.map(function (p) { return p.period_complete ? p.value : null; }), color: '#2f6fd6', width: 1.6}],
        target: pts.map(function (p) { return p.target; }), markers: markers, xLabels: xl,
        yLabel: function (v, span) { return axisFmt(t.kpi, v, span); }
      }));
    });
    $(noteId).textContent = 'Last ' + count + (grain === 'week' ? ' ISO weeks' : ' months') + ' up to ' + dayLabel(D.as_of) +
      '. Dots: status of each period (hollow: in progress, not joined); dashed: target; top right: the last complete ' + grain + '.';
    if (!any) box.appendChild(el('div', {cls: 'empty', text: 'No data in these periods.'}));
  }
  section('weekly', function () { multiples('weekly', 'weekly-note', D.weekly, 'week', 26); });
  section('monthly', function () { multiples('monthly', 'monthly-note', D.monthly, 'month', 24); });

  section('breakdowns', function () {
    var box = $('breakdowns'), sc = D.scorecard || {};
    var titles = {channel: 'by channel', device: 'by device', segment: 'by customer segment'};
    (D.breakdowns || []).forEach(function (b) {
      var m = meta(b.kpi);
      var card = el('div', {cls: 'card', 'data-kpi': b.kpi, 'data-breakdown': b.breakdown});
      card.appendChild(el('h3', {text: m.name + ' ' + (titles[b.breakdown] || 'by ' + pretty(b.breakdown))}));
      var rows = (b.rows || []).filter(function (r) { return isNum(r.value); });
      var lower = m.direction === 'lower_is_better';
      rows.sort(function (a, c) { return lower ? a.value - c.value : c.value - a.value; });
      // one target for every dimension: one dashed line; targets by dimension: a dashed mark on each bar
      var targets = rows.map(function (r) { return r.target; }).filter(isNum);
      var same = targets.every(function (t) { return t === targets[0]; });
      var target = targets.length && same ? targets[0] : null;
      card.appendChild(el('div', {cls: 'note', text: periodLabel(sc.grain, sc.period_start) +
        (isNum(target) ? ' \u00b7 target ' + (lower ? '< ' : '\u2265 ') + fmt(b.kpi, target) : targets.length ? ' \u00b7 targets by ' + pretty(b.breakdown) + ' (dashed)' : '') +
        ' \u00b7 tick: ' + periodLabel(sc.grain, sc.year_ago_period_start)}));
      box.appendChild(card);
      if (!rows.length) { card.appendChild(el('div', {cls: 'empty', text: 'No data for this period.'})); return; }
      var w = widthOf(card, 300) - 36, rowH = 26, labelW = 92, valueW = 74, h = rows.length * rowH + 16;
      var max = 0; rows.forEach(function (r) { max = Math.max(max, r.value, isNum(r.value_year_ago) ? r.value_year_ago : 0, isNum(r.target) ? r.target : 0); });
      max *= 1.05;
      var bw = w - labelW - valueW;
      function BX(v) { return labelW + Math.max(0, v) / max * bw; }
      var svg = sv('svg', {width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, 'class': 'chart'});
      rows.forEach(function (r, i) {
        var y = i * rowH + 4;
        svg.appendChild(sv('text', {x: labelW - 8, y: y + 15, 'text-anchor': 'end', 'font-size': 12.5, fill: '#1d2733'}, pretty(r.dimension)));
        svg.appendChild(sv('rect', {x: labelW, y: y + 3, width: bw, height: 16, fill: '#f1f3f6', rx: 3}));
        svg.appendChild(tip(sv('rect', {'class': 'bar', x: labelW, y: y + 3, width: Math.max(1, BX(r.value) - labelW), height: 16, rx: 3,
                                        fill: COLORS[r.status_rank] || GREY, 'data-dimension': r.dimension}),
                            pretty(r.dimension) + ': ' + fmt(b.kpi, r.value) + ' (' + (r.status || 'no status') + ', n = ' + fixed(r.sample_size || 0, 0) + ')'));
        if (isNum(r.value_year_ago)) svg.appendChild(tip(sv('line', {x1: BX(r.value_year_ago), x2: BX(r.value_year_ago), y1: y + 1, y2: y + 21, stroke: '#1d2733', 'stroke-width': 2}),
                                                         periodLabel(sc.grain, sc.year_ago_period_start) + ': ' + fmt(b.kpi, r.value_year_ago)));
        svg.appendChild(sv('text', {x: w - 2, y: y + 15, 'text-anchor': 'end', 'font-size': 12.5, 'font-weight': 700, fill: '#1d2733'}, fmt(b.kpi, r.value)));
        if (!isNum(target) && isNum(r.target)) svg.appendChild(tip(sv('line', {x1: BX(r.target), x2: BX(r.target), y1: y - 1, y2: y + 23, stroke: '#1d2733', 'stroke-width': 1.2, 'stroke-dasharray': '3,2'}),
                                                                   'target ' + (lower ? '< ' : '\u2265 ') + fmt(b.kpi, r.target)));
      });
      if (isNum(target)) {
        svg.appendChild(tip(sv('line', {x1: BX(target), x2: BX(target), y1: 0, y2: h - 6, stroke: '#1d2733', 'stroke-width': 1.2, 'stroke-dasharray': '4,3'}), 'target ' + fmt(b.kpi, target)));
      }
      card.appendChild(svg);
    });
  });

  section('cohorts', function () {
    var box = $('cohorts'), rows = D.cohorts || [];
    if (!rows.length) { box.appendChild(el('div', {cls: 'empty', text: 'No orders before the reference date.'})); return; }
    var maxK = 0, maxPct = 0;
    rows.forEach(function (r) { maxK = Math.max(maxK, r.retention_pct.length - 1); r.retention_pct.forEach(function (v, k) { if (k > 0 && isNum(v)) maxPct = Math.max(maxPct, v); }); });
    var tbl = el('table', {cls: 'heat'});
    var hr = el('tr', null, [el('th', {text: 'First order'})]);
    for (var k = 0; k <= maxK; k++) hr.appendChild(el('th', {text: k === 0 ? 'M0' : '+' + k}));
    tbl.appendChild(el('thead', null, [hr]));
    var tb = el('tbody');
    rows.forEach(function (r) {
      var tr = el('tr', null, [el('td', {cls: 'lbl'}, [monthLabel(r.cohort) + ' ', el('small', {text: '\u00b7 ' + fixed(r.cohort_size, 0)})])]);
      for (var k = 0; k <= maxK; k++) {
        var v = r.retention_pct[k];
        var td = el('td');
        if (isNum(v)) {
          var x = k === 0 ? 1 : Math.min(1, v / (maxPct || 1));
          var light = Math.round(97 - 55 * x);
          td.style.background = k === 0 ? '#dfe5ee' : 'hsl(214, 70%, ' + light + '%)';
          td.style.color = (k > 0 && light < 62) ? '#fff' : '#1d2733';
          td.textContent = (v >= 99.95 ? '100' : v.toFixed(v < 10 ? 1 : 0)) + '%';
          td.title = monthLabel(r.cohort) + ' cohort, month +' + k + ': ' + fixed(r.active_customers[k], 0) + ' of ' + fixed(r.cohort_size, 0) + ' customers ordered (' + v.toFixed(1) + ' %)';
        }
        tr.appendChild(td);
      }
      tb.appendChild(tr);
    });
    tbl.appendChild(tb);
    box.appendChild(tbl);
    $('cohorts-note').textContent = 'Share of each month\u2019s new customers (cohort: month of the first order \u00b7 size) who ordered again k months later. Colour scale up to ' +
      maxPct.toFixed(0) + ' %.';
  });

  section('forecasts', function () {
    var box = $('forecasts'), fs = D.forecasts || [];
    var units = {orders: 'aov', net_sales: 'aov'};
    if (!fs.length) { box.appendChild(el('div', {cls: 'empty', text: 'No monthly series to forecast.'})); }
    var horizon = 0;
    fs.forEach(function (f) {
      horizon = Math.max(horizon, (f.forecast || []).length);
      var cell = el('div', {'data-series': f.series});
      cell.appendChild(el('div', {cls: 'fc-head'}, [el('b', {text: f.name}), el('span', {text: f.method || 'too little history'})]));
      var fmtU = function (v) {
        if (!isNum(v)) return '\u2013';
        return f.unit === 'currency' ? money(v, 0) : fixed(v, 0);
      };
      var next = (f.forecast || [])[0];
      cell.appendChild(el('div', {cls: 'fc-next'}, next ? [monthLabel(next.period_start) + ': ', el('b', {text: fmtU(next.point)}),
                                                           ' (95 %: ' + fmtU(next.lo95) + ' \u2013 ' + fmtU(next.hi95) + ')']
                                                         : ['Needs 12 consecutive complete months.']));
      box.appendChild(cell);
      var hist = f.history || [], fc = f.forecast || [];
      var n = hist.length + fc.length, h0 = hist.length;
      var actual = [], point = [], lo80 = [], hi80 = [], lo95 = [], hi95 = [];
      for (var i = 0; i < n; i++) {
        var a = i < h0 ? hist[i] : null, p = i >= h0 ? fc[i - h0] : null;
        actual.push(a ? a.value : null);
        point.push(p ? p.point : (i === h0 - 1 && fc.length ? a.value : null));
        lo80.push(p ? p.lo80 : null); hi80.push(p ? p.hi80 : null); lo95.push(p ? p.lo95 : null); hi95.push(p ? p.hi95 : null);
      }
      var all = hist.map(function (x) { return x.period_start; }).concat(fc.map(function (x) { return x.period_start; }));
      var w = widthOf(cell, 300);
      cell.appendChild(lineChart({
        width: w, height: 118, n: n, pad: {l: 42, r: 6, t: 6, b: 16}, zero: false,
        series: [{values: actual, color: '#2f6fd6', width: 1.7}, {values: point, color: '#7a55cf', width: 1.9, dash: '5,3'}],
        bands: [{lo: lo95, hi: hi95, color: '#7a55cf', opacity: 0.13}, {lo: lo80, hi: hi80, color: '#7a55cf', opacity: 0.2}],
        split: fc.length && h0 ? h0 - 1 : null,
        xLabels: n ? [{i: 0, text: shortMonth(all[0]), anchor: 'start'}, {i: n - 1, text: shortMonth(all[n - 1]), anchor: 'end'}] : [],
        yLabel: function (v) {
          var a = Math.abs(v), s = a >= 1e6 ? fixed(v / 1e6, 1) + 'M' : a >= 1e4 ? fixed(v / 1e3, 0) + 'k' : fixed(v, 0);
          return (f.unit === 'currency' ? CUR : '') + s;
        }
      }));
    });
    $('forecast-note').textContent = 'Monthly totals, last 24 complete months, and ' + horizon + ' months ahead: ETS models chosen by AICc ' +
      '(dashed; bands: 80 % and 95 % prediction intervals).';
  });

  function table(cols, rows, empty) {
    if (!rows.length) return el('div', {cls: 'empty', text: empty});
    var t = el('table');
    t.appendChild(el('thead', null, [el('tr', null, cols.map(function (c) { return el('th', {cls: c.num ? 'num' : '', text: c.name}); }))]));
    var tb = el('tbody');
    rows.forEach(function (r) {
      tb.appendChild(el('tr', null, cols.map(function (c) {
        var v = c.get(r);
        return el('td', {cls: c.cls || (c.num ? 'num' : '')}, [typeof v === 'string' ? v : v]);
      })));
    });
    t.appendChild(tb);
    return t;
  }

  section('alerts', function () {
    var a = D.alerts || [];
    var reds = a.filter(function (x) { return x.level === 'red'; }).length;
    $('alerts-note').textContent = a.length ? a.length + ' open (' + reds + ' red, ' + (a.length - reds) + ' yellow), raised by the dashboard refresh' : 'Nothing to act on.';
    var box = $('alerts');
    if (!a.length) box.appendChild(el('div', {cls: 'empty', text: 'No open alerts.'}));
    a.slice(0, 12).forEach(function (x) {
      var m = meta(x.kpi), lower = m.direction === 'lower_is_better';
      box.appendChild(el('div', {cls: 'alert', 'data-kpi': x.kpi, 'data-level': x.level}, [
        el('span', {cls: 'pill ' + (x.level === 'red' ? 's1' : 's2'), text: x.level}),
        el('div', null, [
          el('div', {cls: 'k'}, kpiName(m.name).concat(x.breakdown === 'total' ? [] : [' \u00b7 ' + pretty(x.dimension)])),
          el('div', {cls: 'm'}, [el('b', {text: fmt(x.kpi, x.value)}),
                                 ' ' + (lower ? 'above ' : 'below ') + fmt(x.kpi, x.threshold) + ' (' + x.level + ' trigger)' +
                                 (isNum(x.target) ? ' \u00b7 target ' + (lower ? '< ' : '\u2265 ') + fmt(x.kpi, x.target) : '') +
                                 ' \u00b7 ' + periodLabel(x.grain, x.period_start) + ' \u00b7 raised ' + stamp(x.raised_at) +
                                 (x.acknowledged ? ' \u00b7 acknowledged' : '')])])]));
    });
    if (a.length > 12) $('alerts').appendChild(el('div', {cls: 'note', text: '\u2026 and ' + (a.length - 12) + ' more (cxkpi_bi.current_alerts).'}));
  });

  function pct(v) { return isNum(v) ? (100 * v).toFixed(0) + ' %' : '\u2013'; }
  section('watch', function () {
    var w = D.churn_watch || {top: []};
    $('watch-note').textContent = fixed(w.customers || 0, 0) + ' customers worth saving, ' + money(w.value_at_stake_52w || 0, 0) +
      ' at stake over 52 weeks; ranked by value at stake (CLV if kept \u2212 CLV expected now).';
    $('watch').appendChild(table([
      {name: '#', num: true, get: function (x) { return String(x.rank); }},
      {name: 'Customer', get: function (x) { return String(x.customer_id) + (x.loyalty_tier ? ' \u00b7 ' + x.loyalty_tier : ''); }},
      {name: 'Orders', num: true, get: function (x) { return fixed(x.purchases, 0); }},
      {name: 'Last order', get: function (x) { return dayLabel(x.last_purchase); }},
      {name: 'P(alive)', num: true, get: function (x) { return pct(x.p_alive); }},
      {name: 'At stake', num: true, get: function (x) { return el('b', {text: money(x.value_at_stake_52w, 0)}); }}
    ], w.top || [], 'No customer on the watch list (no CLV model yet?).'));
  });
  section('winback', function () {
    var w = D.win_back || {top: []};
    $('winback-note').textContent = fixed(w.customers || 0, 0) + ' customers the model considers gone (P(alive) < ' +
      ((D.settings || {}).gone_p_alive != null ? (100 * D.settings.gone_p_alive).toFixed(0) + ' %' : 'the threshold') +
      '), ' + money(w.historic_value || 0, 0) + ' spent; ranked by spend halved each year away.';
    $('winback').appendChild(table([
      {name: '#', num: true, get: function (x) { return String(x.rank); }},
      {name: 'Customer', get: function (x) { return String(x.customer_id) + (x.loyalty_tier ? ' \u00b7 ' + x.loyalty_tier : ''); }},
      {name: 'Orders', num: true, get: function (x) { return fixed(x.purchases, 0); }},
      {name: 'Spend', num: true, get: function (x) { return money(x.historic_value, 0); }},
      {name: 'Last order', get: function (x) { return dayLabel(x.last_purchase); }},
      {name: 'Score', num: true, get: function (x) { return el('b', {text: money(x.win_back_score, 0)}); }}
    ], w.top || [], 'Nobody on the win-back list.'));
  });
  section('interventions', function () {
    var v = D.interventions || {rules: []}, rules = v.rules || [];
    var most = Math.max.apply(null, [1].concat(rules.map(function (r) { return r.customers || 0; })));
    $('interventions-note').textContent = fixed(v.customers || 0, 0) + ' customers with a recommendation, ' + money(v.value_at_stake_52w || 0, 0) +
      ' at stake over 52 weeks; each customer gets the first enabled rule that matches, by priority (cxkpi.intervention_rules).';
    $('interventions').appendChild(table([
      {name: 'Priority', num: true, get: function (x) { return String(x.priority); }},
      {name: 'Intervention', get: function (x) { return el('span', {title: x.rule, text: x.intervention}); }},
      {name: 'Customers', num: true, get: function (x) { return el('b', {text: fixed(x.customers, 0)}); }},
      {name: '', cls: 'fill', get: function (x) {
        var s = sv('svg', {width: '100%', height: 10, viewBox: '0 0 100 10', preserveAspectRatio: 'none'});
        s.appendChild(sv('rect', {'class': 'share', x: 0, y: 1, width: Math.max(0, 100 * (x.customers || 0) / most), height: 8, fill: '#2f6fd6'}));
        return s;
      }},
      {name: 'At stake (52 w)', num: true, get: function (x) { return money(x.value_at_stake_52w, 0); }},
      {name: 'Spend to date', num: true, get: function (x) { return money(x.historic_value, 0); }}
    ], rules, 'No intervention rule is enabled.'));
  });

  section('scorecard', function () {
    var sc = D.scorecard || {}, box = $('scorecard'), bySec = [], cur = null;
    (D.scorecard_rows || []).forEach(function (r) {
      var m = meta(r.kpi);
      if (!cur || cur.name !== m.section_name) { cur = {name: m.section_name, rows: []}; bySec.push(cur); }
      cur.rows.push(r);
    });
    bySec.forEach(function (s) {
      var sec = el('div', {cls: 'sec'}, [el('h4', {text: s.name})]);
      s.rows.forEach(function (r) {
        var m = meta(r.kpi);
        var dot = el('span', {cls: 'dot' + (r.status_rank ? ' s' + r.status_rank : ''), title: r.status || ''});
        var gap = isNum(r.target) ? (m.direction === 'lower_is_better' ? '< ' : '\u2265 ') + fmt(r.kpi, r.target, {compact: true}) : '';
        sec.appendChild(el('div', {cls: 'row', 'data-kpi': r.kpi}, [dot, el('span', {cls: 'n', text: m.name, title: m.name + ': ' + (r.status || '')}),
                                                                    el('span', {cls: 'v', text: fmt(r.kpi, r.value, {compact: true, withScale: false})}),
                                                                    el('span', {cls: 'g', text: gap})]));
      });
      box.appendChild(sec);
    });
    $('scorecard-note').textContent = periodLabel(sc.grain, sc.period_start) + ', every KPI of the catalogue (total): value, then target; dot: status.';
  });

  section('footer', function () {
    $('footer').textContent = 'cxkpi \u00b7 written by cxkpi_bi.dashboard_page() from the views of schema cxkpi_bi \u00b7 days in time zone ' +
      D.time_zone + ' \u00b7 reference date ' + dayLabel(D.as_of) + ' \u00b7 generated ' + stamp(D.generated_at) + ' (' + D.time_zone + ')';
  });

  document.body.setAttribute('data-rendered', errors.length ? 'with-errors' : 'ok');
  document.body.setAttribute('data-height', String(Math.ceil(document.documentElement.scrollHeight)));
})();
</script>
</body>
</html>
$html$::text AS html) AS t)
END;
COMMENT ON FUNCTION cxkpi_bi.dashboard_page(text, text, text[], integer) IS
    'Seed 000''s dashboard as one self-contained HTML page (inline CSS, JavaScript and SVG; no network): KPI tiles with value, target, status, flag, year-over-year change and sparkline, weekly and monthly trends, breakdowns, cohort retention, forecasts, open alerts, churn watch and win-back lists, recommended interventions, the whole scorecard. psql -X -At -c ''SELECT cxkpi_bi.dashboard_page()'' > dashboard.html';
