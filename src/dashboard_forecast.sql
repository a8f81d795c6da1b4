
-------------------------------------------------------------------------------------------------
-- Forecasts on the dashboard (issue 16, part 2; docs/forecasting.md#on-the-dashboard): orders,
-- net revenue, sessions, support tickets and survey responses by channel (and in total), daily
-- 90 days ahead and weekly 13 weeks ahead with 80 % and 95 % intervals, one ETS model per series
-- (ets_fit, chosen by AICc) refitted by the dashboard refresh when the series' input changed; and
-- for each KPI with a target the value projected for the end of the current period.
--
-- Inputs are the daily rollups (never the fact tables), complete periods only (the days before
-- the reference date cxkpi.as_of(); ISO weeks that end before it), a day without facts counting
-- 0 (ETS needs one value per step).  A fit that fails (too short a series, no data) is kept as a
-- row with a NULL model and the error as its reason; it never fails the refresh.
-------------------------------------------------------------------------------------------------

-- The forecast measures: where their daily values come from, and the window each grain is
-- fitted on (day: the last 728 complete days, 104 weeks; week: the last 156 complete weeks).
CREATE FUNCTION cxkpi.forecast_measures(OUT measure text, OUT measure_name text, OUT unit text, OUT rollup text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('orders', 'Orders', 'count', 'daily_orders'),
           ('net_revenue', 'Net revenue (gross value less discounts)', 'currency', 'daily_orders'),
           ('sessions', 'Sessions and store visitors (by device)', 'count', 'daily_conversion'),
           ('support_tickets', 'Support tickets (by creation day)', 'count', 'daily_tickets'),
           ('survey_responses', 'Survey responses (NPS, CSAT and CES)', 'count', 'daily_surveys') $$;
COMMENT ON FUNCTION cxkpi.forecast_measures() IS
    'Internal: the measures cxkpi.kpi_forecasts forecasts, their names, units and the daily rollup they are read from.';

-- The input series of a measure at a grain, from first (a day, or a Monday for weeks) to last
-- (the last day, or the last Monday): one row per channel (the rollup's channel; the device for
-- sessions) and 'total', and per period, days without facts counting 0.
CREATE FUNCTION cxkpi.forecast_input(measure text, grain text, first_period date, last_period date)
    RETURNS TABLE (channel text, period_start date, value double precision)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH raw AS (
    SELECT d.day, d.channel, d.orders::numeric AS v FROM cxkpi.daily_orders AS d
    WHERE measure = 'orders' AND d.day BETWEEN first_period AND last_period + 6
    UNION ALL
    SELECT d.day, d.channel, d.net_value FROM cxkpi.daily_orders AS d
    WHERE measure = 'net_revenue' AND d.day BETWEEN first_period AND last_period + 6
    UNION ALL
    SELECT d.day, d.device, d.visits FROM cxkpi.daily_conversion AS d
    WHERE measure = 'sessions' AND d.day BETWEEN first_period AND last_period + 6
    UNION ALL
    SELECT d.day, d.channel, d.tickets FROM cxkpi.daily_tickets AS d
    WHERE measure = 'support_tickets' AND d.day BETWEEN first_period AND last_period + 6
    UNION ALL
    SELECT d.day, d.channel, d.responses FROM cxkpi.daily_surveys AS d
    WHERE measure = 'survey_responses' AND d.day BETWEEN first_period AND last_period + 6),
per AS (
    SELECT CASE grain WHEN 'week' THEN date_trunc('week', r.day)::date ELSE r.day END AS period_start, r.channel, r.v
    FROM raw AS r),
agg AS (
    SELECT coalesce(p.channel, 'total') AS channel, p.period_start, sum(p.v) AS v
    FROM per AS p WHERE p.period_start BETWEEN first_period AND last_period
    GROUP BY GROUPING SETS ((p.channel, p.period_start), (p.period_start))),
ch AS (SELECT 'total' AS channel UNION SELECT a.channel FROM agg AS a)
SELECT c.channel, g::date, coalesce(a.v, 0)::double precision
FROM ch AS c
CROSS JOIN generate_series(first_period, last_period, CASE grain WHEN 'week' THEN interval '7 days' ELSE interval '1 day' END) AS g
LEFT JOIN agg AS a ON a.channel = c.channel AND a.period_start = g::date
ORDER BY 1, 2 $$;
COMMENT ON FUNCTION cxkpi.forecast_input(text, text, date, date) IS
    'Internal: the series cxkpi.kpi_forecasts fits for a measure and grain (day or week), per channel and total, from the daily rollups; days without facts count 0.';

-- The fitted window of a measure at a grain for the reference date as_of: the first and the last
-- complete period (NULL, NULL without data).  Days: the day before as_of and the 727 before it;
-- weeks: the last ISO week ending before as_of and the 155 before it; never before the first
-- day (the first whole week) of the measure's rollup.
CREATE FUNCTION cxkpi.forecast_window(measure text, grain text, as_of date, OUT first_period date, OUT last_period date)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH f AS (
    SELECT CASE WHEN measure IN ('orders', 'net_revenue') THEN (SELECT min(d.day) FROM cxkpi.daily_orders AS d)
                WHEN measure = 'sessions' THEN (SELECT min(d.day) FROM cxkpi.daily_conversion AS d)
                WHEN measure = 'support_tickets' THEN (SELECT min(d.day) FROM cxkpi.daily_tickets AS d)
                ELSE (SELECT min(d.day) FROM cxkpi.daily_surveys AS d) END AS first_day),
w AS (
    SELECT CASE grain WHEN 'week' THEN date_trunc('week', f.first_day + 6)::date ELSE f.first_day END AS first_data,
           CASE grain WHEN 'week' THEN date_trunc('week', as_of)::date - 7 ELSE as_of - 1 END AS last_period
    FROM f)
SELECT greatest(w.first_data, w.last_period - CASE grain WHEN 'week' THEN 155 * 7 ELSE 727 END), w.last_period
FROM w WHERE w.first_data IS NOT NULL $$;
COMMENT ON FUNCTION cxkpi.forecast_window(text, text, date) IS
    'Internal: the first and last complete period (day, or ISO week''s Monday) cxkpi.kpi_forecasts fits a measure on for a reference date: 728 days or 156 weeks at most.';

-- One row per series: its fitted window, model (NULL when the fit failed) and why it failed.
CREATE TABLE cxkpi.kpi_forecast_models (
    measure text NOT NULL,
    channel text NOT NULL,
    grain text NOT NULL CHECK (grain IN ('day', 'week')),
    history_start date,
    fitted_through date,
    observations integer,
    model @extschema@.ets_model,
    method text,
    reason text,
    fitted_at timestamptz NOT NULL,
    PRIMARY KEY (measure, grain, channel)
);
COMMENT ON TABLE cxkpi.kpi_forecast_models IS
    'Internal: one ETS model per forecast series (measure, channel incl. total, grain day or week), refitted by CALL cxkpi.refresh_dashboard() when the series'' input changed; model NULL and reason set when the fit failed.';
COMMENT ON COLUMN cxkpi.kpi_forecast_models.history_start IS 'First period of the fitted window (a day, or a week''s Monday).';
COMMENT ON COLUMN cxkpi.kpi_forecast_models.fitted_through IS 'Last complete period fitted (a day, or a week''s Monday); the forecast starts one period later.';
COMMENT ON COLUMN cxkpi.kpi_forecast_models.model IS 'The fitted model (ets_fit); NULL when the fit failed.';
COMMENT ON COLUMN cxkpi.kpi_forecast_models.reason IS 'Why there is no model: the error of ets_fit (SQLSTATE and message), or no data.';
COMMENT ON COLUMN cxkpi.kpi_forecast_models.fitted_at IS 'When the series was last fitted.';

-- The actuals of the fitted window and the forecast periods of each series.
CREATE TABLE cxkpi.kpi_forecasts (
    measure text NOT NULL,
    channel text NOT NULL,
    grain text NOT NULL,
    period_start date NOT NULL,
    actual double precision,
    point double precision,
    lo80 double precision,
    hi80 double precision,
    lo95 double precision,
    hi95 double precision,
    PRIMARY KEY (measure, grain, channel, period_start)
);
COMMENT ON TABLE cxkpi.kpi_forecasts IS
    'Internal: per forecast series the actuals of its fitted window (actual) and the periods ahead (point, 80 % and 95 % intervals): 90 days, 13 weeks. Read through cxkpi_bi.kpi_forecast.';

-- Refits the forecast series whose input changed, for cxkpi.dashboard_maintain (after the rollups
-- are up to date, in its transaction).  A measure and grain is refitted, every channel of it,
-- when: rebuild_all; its fitted window moved (a new complete day or week, a change of as_of,
-- earlier data); or a rollup day that changed in this refresh (pg_temp.cxkpi_changed) lies in
-- its window.  Nothing else: a refresh that changed nothing fits nothing.  Returns the number
-- of series fitted.
CREATE FUNCTION cxkpi.forecasts_maintain(rebuild_all boolean, started_at timestamptz) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ref date := cxkpi.as_of();
    m record;
    g text;
    w record;
    c record;
    due boolean;
    mdl @extschema@.ets_model;
    why text;
    fitted integer := 0;
BEGIN
    FOR m IN SELECT * FROM cxkpi.forecast_measures() LOOP
        FOREACH g IN ARRAY ARRAY['day', 'week'] LOOP
            SELECT * INTO w FROM cxkpi.forecast_window(m.measure, g, ref);
            due := rebuild_all OR NOT EXISTS (
                SELECT 1 FROM cxkpi.kpi_forecast_models AS f
                WHERE f.measure = m.measure AND f.grain = g AND f.channel = 'total'
                  AND f.history_start IS NOT DISTINCT FROM w.first_period
                  AND f.fitted_through IS NOT DISTINCT FROM w.last_period);
            IF NOT due AND w.last_period IS NOT NULL AND to_regclass('pg_temp.cxkpi_changed') IS NOT NULL THEN
                EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_temp.cxkpi_changed AS c WHERE c.rollup = $1 AND c.day BETWEEN $2 AND $3)'
                    INTO due USING m.rollup, w.first_period, w.last_period + CASE g WHEN 'week' THEN 6 ELSE 0 END;
            END IF;
            CONTINUE WHEN NOT due;
            DELETE FROM cxkpi.kpi_forecasts AS f WHERE f.measure = m.measure AND f.grain = g;
            DELETE FROM cxkpi.kpi_forecast_models AS f WHERE f.measure = m.measure AND f.grain = g;
            IF w.last_period IS NULL OR w.first_period > w.last_period THEN
                INSERT INTO cxkpi.kpi_forecast_models (measure, channel, grain, history_start, fitted_through, observations,
                                                       reason, fitted_at)
                VALUES (m.measure, 'total', g, w.first_period, w.last_period, 0,
                        'no data: no complete ' || g || ' with facts before ' || ref, clock_timestamp());
                fitted := fitted + 1;
                CONTINUE;
            END IF;
            INSERT INTO cxkpi.kpi_forecasts (measure, channel, grain, period_start, actual)
            SELECT m.measure, i.channel, g, i.period_start, i.value
            FROM cxkpi.forecast_input(m.measure, g, w.first_period, w.last_period) AS i;
            FOR c IN SELECT f.channel, count(*) AS n FROM cxkpi.kpi_forecasts AS f
                     WHERE f.measure = m.measure AND f.grain = g GROUP BY 1 ORDER BY 1 LOOP
                BEGIN
                    SELECT @extschema@.ets_fit(f.period_start, f.actual ORDER BY f.period_start) INTO mdl
                    FROM cxkpi.kpi_forecasts AS f WHERE f.measure = m.measure AND f.grain = g AND f.channel = c.channel;
                    why := NULL;
                EXCEPTION WHEN OTHERS THEN
                    mdl := NULL;
                    why := SQLSTATE || ': ' || SQLERRM;
                END;
                INSERT INTO cxkpi.kpi_forecast_models (measure, channel, grain, history_start, fitted_through, observations,
                                                       model, method, reason, fitted_at)
                VALUES (m.measure, c.channel, g, w.first_period, w.last_period, c.n, mdl, @extschema@.method(mdl), why,
                        clock_timestamp());
                IF mdl IS NOT NULL THEN
                    INSERT INTO cxkpi.kpi_forecasts (measure, channel, grain, period_start, point, lo80, hi80, lo95, hi95)
                    SELECT m.measure, c.channel, g, fc."time"::date, fc.point, fc.lo80, fc.hi80, fc.lo95, fc.hi95
                    FROM @extschema@.forecast(mdl, CASE g WHEN 'week' THEN 13 ELSE 90 END) AS fc;
                END IF;
                fitted := fitted + 1;
            END LOOP;
        END LOOP;
    END LOOP;
    IF fitted > 0 THEN
        PERFORM cxkpi.progress_notice('refit kpi_forecasts', fitted, started_at);
    END IF;
    RETURN fitted;
END $$;
COMMENT ON FUNCTION cxkpi.forecasts_maintain(boolean, timestamptz) IS
    'Internal: refits the forecast series (cxkpi.kpi_forecast_models, cxkpi.kpi_forecasts) whose fitted window moved or whose rollup days changed in this refresh (all of them when rebuild_all); returns how many were fitted.';
REVOKE ALL ON FUNCTION cxkpi.forecasts_maintain(boolean, timestamptz) FROM PUBLIC;

-------------------------------------------------------------------------------------------------
-- Reader views
-------------------------------------------------------------------------------------------------

CREATE VIEW cxkpi.kpi_forecast AS
WITH s AS (
    SELECT f.measure, f.channel, f.grain, f.period_start, f.actual, f.point, f.lo80, f.hi80, f.lo95, f.hi95
    FROM cxkpi.kpi_forecasts AS f
    UNION ALL
    -- series without any row (no data): their reason
    SELECT m.measure, m.channel, m.grain, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM cxkpi.kpi_forecast_models AS m
    WHERE NOT EXISTS (SELECT 1 FROM cxkpi.kpi_forecasts AS f WHERE f.measure = m.measure AND f.grain = m.grain AND f.channel = m.channel))
SELECT s.grain, s.period_start, (s.period_start + CASE s.grain WHEN 'week' THEN 6 ELSE 0 END) AS period_end,
       (s.period_start::timestamp AT TIME ZONE cxkpi.setting('time_zone')) AS "time",
       s.measure, x.measure_name, x.unit,
       CASE WHEN s.channel = 'total' THEN 'total' WHEN s.measure = 'sessions' THEN 'device' ELSE 'channel' END AS breakdown,
       CASE WHEN s.channel = 'total' THEN 'all' ELSE s.channel END AS dimension,
       s.actual, s.point, s.lo80, s.hi80, s.lo95, s.hi95,
       m.method, m.history_start, m.fitted_through, m.reason, m.fitted_at
FROM s
JOIN cxkpi.forecast_measures() AS x ON x.measure = s.measure
JOIN cxkpi.kpi_forecast_models AS m ON m.measure = s.measure AND m.grain = s.grain AND m.channel = s.channel;
COMMENT ON VIEW cxkpi.kpi_forecast IS
    'Forecasts of orders, net revenue, sessions, support tickets and survey responses by channel (and total): per series the actuals of the complete periods it was fitted on (actual) and the periods ahead (point, 80 % and 95 % intervals), daily 90 days and weekly 13 weeks ahead; refitted by the dashboard refresh when the series changed. A series whose fit failed has method NULL and its reason.';
COMMENT ON COLUMN cxkpi.kpi_forecast.measure IS 'orders, net_revenue, sessions, support_tickets or survey_responses.';
COMMENT ON COLUMN cxkpi.kpi_forecast.measure_name IS 'Display name of the measure.';
COMMENT ON COLUMN cxkpi.kpi_forecast.unit IS 'count or currency.';
COMMENT ON COLUMN cxkpi.kpi_forecast.breakdown IS 'channel (device for sessions), or total.';
COMMENT ON COLUMN cxkpi.kpi_forecast.dimension IS 'The channel (the device for sessions), or all for the total.';
COMMENT ON COLUMN cxkpi.kpi_forecast.grain IS 'day (90 days ahead) or week (ISO weeks, 13 ahead).';
COMMENT ON COLUMN cxkpi.kpi_forecast.period_start IS 'The day, or the Monday of the week.';
COMMENT ON COLUMN cxkpi.kpi_forecast.period_end IS 'The day, or the Sunday of the week.';
COMMENT ON COLUMN cxkpi.kpi_forecast."time" IS 'Start of the period in the dashboard''s time zone (for Grafana).';
COMMENT ON COLUMN cxkpi.kpi_forecast.actual IS 'The value of a complete period (days without facts count 0); NULL for forecast periods.';
COMMENT ON COLUMN cxkpi.kpi_forecast.point IS 'Point forecast; NULL for actual periods.';
COMMENT ON COLUMN cxkpi.kpi_forecast.lo80 IS 'Lower bound of the 80 % prediction interval.';
COMMENT ON COLUMN cxkpi.kpi_forecast.hi80 IS 'Upper bound of the 80 % prediction interval.';
COMMENT ON COLUMN cxkpi.kpi_forecast.lo95 IS 'Lower bound of the 95 % prediction interval.';
COMMENT ON COLUMN cxkpi.kpi_forecast.hi95 IS 'Upper bound of the 95 % prediction interval.';
COMMENT ON COLUMN cxkpi.kpi_forecast.method IS 'The model chosen by AICc, e.g. ETS(A,N,A); NULL when the fit failed.';
COMMENT ON COLUMN cxkpi.kpi_forecast.history_start IS 'First period the model was fitted on.';
COMMENT ON COLUMN cxkpi.kpi_forecast.fitted_through IS 'Last complete period the model was fitted on.';
COMMENT ON COLUMN cxkpi.kpi_forecast.reason IS 'Why the series has no model (the fit''s error), else NULL.';
COMMENT ON COLUMN cxkpi.kpi_forecast.fitted_at IS 'When the series was last refitted.';

-- KPIs projected from the forecasts: kpi -> the measures of its numerator and denominator
-- (denominator NULL: a flow KPI, the sum of its measure), in total and by each channel (device)
-- the forecasts and cxkpi.kpi_values both have.  Every other KPI with a target is projected in
-- total at its value to date.
CREATE FUNCTION cxkpi.forecast_kpis(OUT kpi text, OUT numerator_measure text, OUT denominator_measure text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('aov', 'net_revenue', 'orders') $$;
COMMENT ON FUNCTION cxkpi.forecast_kpis() IS
    'Internal: the KPIs cxkpi.kpi_projection projects from the daily forecasts, with the measures of their numerator and denominator (NULL: a flow KPI).';

CREATE VIEW cxkpi.kpi_projection AS
WITH ref AS (SELECT cxkpi.as_of() AS as_of),
per AS (
    SELECT g.grain, ref.as_of, b.period_start, b.period_end
    FROM ref CROSS JOIN (VALUES ('week'), ('month'), ('quarter')) AS g(grain)
    CROSS JOIN LATERAL cxkpi.period_bounds(g.grain, ref.as_of) AS b),
-- each daily series (total and every channel): actuals up to the day before as_of, forecasts from as_of
daily AS (
    SELECT p.grain, f.measure, f.channel,
           sum(f.actual) FILTER (WHERE f.period_start < p.as_of) AS to_date,
           sum(f.point) FILTER (WHERE f.period_start >= p.as_of) AS ahead,
           count(f.point) FILTER (WHERE f.period_start >= p.as_of) AS days_ahead
    FROM per AS p JOIN cxkpi.kpi_forecasts AS f
      ON f.grain = 'day' AND f.period_start BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- what is projected: every KPI in total; and a KPI projected from the forecasts by each channel
-- (device for sessions) with a daily series of its numerator and denominator measures, when
-- cxkpi.kpi_values has the KPI by that breakdown and dimension (the scorecard shows it)
br AS (
    SELECT d.kpi, 'total'::text AS breakdown, 'all'::text AS dimension, 'total'::text AS series
    FROM cxkpi.kpi_definitions AS d
    UNION ALL
    SELECT fk.kpi, b.breakdown, m.channel, m.channel
    FROM cxkpi.forecast_kpis() AS fk
    JOIN cxkpi.kpi_forecast_models AS m ON m.measure = fk.numerator_measure AND m.grain = 'day' AND m.channel <> 'total'
    CROSS JOIN LATERAL (SELECT CASE fk.numerator_measure WHEN 'sessions' THEN 'device' ELSE 'channel' END AS breakdown) AS b
    WHERE (fk.denominator_measure IS NULL
           OR (b.breakdown = CASE fk.denominator_measure WHEN 'sessions' THEN 'device' ELSE 'channel' END
               AND EXISTS (SELECT 1 FROM cxkpi.kpi_forecast_models AS m2
                           WHERE m2.measure = fk.denominator_measure AND m2.grain = 'day' AND m2.channel = m.channel)))
      AND EXISTS (SELECT 1 FROM cxkpi.kpi_values AS v
                  WHERE v.kpi = fk.kpi AND v.breakdown = b.breakdown AND v.dimension = m.channel)),
k AS (
    SELECT d.kpi, d.name, d.unit, d.direction, br.breakdown, br.dimension, br.series, p.grain, p.as_of, p.period_start,
           p.period_end, (p.as_of - p.period_start)::bigint AS days_complete, (p.period_end - p.as_of + 1)::bigint AS days_remaining,
           v.value AS value_to_date, fk.numerator_measure, fk.denominator_measure, t.target
    FROM per AS p
    CROSS JOIN cxkpi.kpi_definitions AS d
    JOIN br ON br.kpi = d.kpi
    JOIN LATERAL cxkpi.effective_target(d.kpi, br.dimension, p.period_start) AS t ON t.target IS NOT NULL
    LEFT JOIN cxkpi.kpi_values AS v
           ON v.grain = p.grain AND v.period_start = p.period_start AND v.kpi = d.kpi AND v.breakdown = br.breakdown
          AND v.dimension = br.dimension
    LEFT JOIN cxkpi.forecast_kpis() AS fk ON fk.kpi = d.kpi),
pr AS (
    SELECT k.*,
           CASE WHEN k.numerator_measure IS NULL THEN k.value_to_date
                WHEN n.days_ahead < k.days_remaining OR n.days_ahead IS NULL THEN NULL
                WHEN k.denominator_measure IS NULL THEN coalesce(n.to_date, 0) + n.ahead
                WHEN dn.days_ahead < k.days_remaining OR dn.days_ahead IS NULL THEN NULL
                ELSE (coalesce(n.to_date, 0) + n.ahead) / nullif(coalesce(dn.to_date, 0) + dn.ahead, 0) END AS projected_value,
           CASE WHEN k.numerator_measure IS NULL THEN 'value to date'
                WHEN k.denominator_measure IS NULL THEN 'actual to date + daily forecast'
                ELSE 'projected numerator / projected denominator' END AS projection_method
    FROM k
    LEFT JOIN daily AS n ON n.grain = k.grain AND n.measure = k.numerator_measure AND n.channel = k.series
    LEFT JOIN daily AS dn ON dn.grain = k.grain AND dn.measure = k.denominator_measure AND dn.channel = k.series)
SELECT pr.grain, pr.period_start, pr.period_end,
       (pr.period_start::timestamp AT TIME ZONE cxkpi.setting('time_zone')) AS "time",
       pr.kpi, pr.name AS kpi_name, pr.unit, pr.direction, pr.breakdown, pr.dimension,
       pr.as_of, pr.days_complete, pr.days_remaining, pr.value_to_date, pr.projected_value, pr.projection_method,
       pr.target,
       CASE cxkpi.meets_target(pr.direction, pr.projected_value, pr.target)
            WHEN true THEN 'on course' WHEN false THEN 'off course' END AS course
FROM pr;
COMMENT ON VIEW cxkpi.kpi_projection IS
    'For each KPI with a target: the value projected for the end of the current week, month and quarter (the periods containing the reference date) against the target, "on course" or "off course". AOV is projected from the daily forecasts (net revenue to date + forecast of the remaining days, over orders likewise), in total and by order channel (one row per channel with forecasts that the KPI has in cxkpi.kpi_values); every other KPI in total at its value to date. course NULL when there is no projection.';
COMMENT ON COLUMN cxkpi.kpi_projection.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.kpi_projection.kpi_name IS 'KPI display name.';
COMMENT ON COLUMN cxkpi.kpi_projection.unit IS 'Unit of the KPI.';
COMMENT ON COLUMN cxkpi.kpi_projection.direction IS 'higher_is_better or lower_is_better.';
COMMENT ON COLUMN cxkpi.kpi_projection.breakdown IS 'total (the overall KPI), or channel (device for sessions-based KPIs) for a KPI projected from the forecasts of that channel.';
COMMENT ON COLUMN cxkpi.kpi_projection.dimension IS 'all for the total, else the channel (device).';
COMMENT ON COLUMN cxkpi.kpi_projection.grain IS 'week, month or quarter.';
COMMENT ON COLUMN cxkpi.kpi_projection.period_start IS 'First day of the current period (the one containing as_of).';
COMMENT ON COLUMN cxkpi.kpi_projection.period_end IS 'Last day of the current period.';
COMMENT ON COLUMN cxkpi.kpi_projection."time" IS 'Start of the period in the dashboard''s time zone (for Grafana).';
COMMENT ON COLUMN cxkpi.kpi_projection.as_of IS 'The reference date: days before it are complete, the forecast covers it and the days after.';
COMMENT ON COLUMN cxkpi.kpi_projection.days_complete IS 'Days of the period before as_of.';
COMMENT ON COLUMN cxkpi.kpi_projection.days_remaining IS 'Days of the period from as_of to its end.';
COMMENT ON COLUMN cxkpi.kpi_projection.value_to_date IS 'The KPI over the period so far (cxkpi.kpi_values, of the breakdown and dimension), NULL without data.';
COMMENT ON COLUMN cxkpi.kpi_projection.projected_value IS 'The value projected for the end of the period; NULL when the forecast does not reach the end or the KPI has no value.';
COMMENT ON COLUMN cxkpi.kpi_projection.projection_method IS 'How projected_value is made: projected numerator / projected denominator, actual to date + daily forecast, or value to date.';
COMMENT ON COLUMN cxkpi.kpi_projection.target IS 'The effective target of the period (cxkpi.effective_target: the dimension''s own target, else the overall one).';
COMMENT ON COLUMN cxkpi.kpi_projection.course IS 'on course when the projected value meets the target, off course when not, NULL without projection.';

GRANT SELECT ON cxkpi.kpi_forecast, cxkpi.kpi_projection TO cxkpi_reader;

-- Their names for BI logins (docs/bi.md), with the same comments.
CREATE VIEW cxkpi_bi.kpi_forecast AS SELECT * FROM cxkpi.kpi_forecast;
CREATE VIEW cxkpi_bi.kpi_projection AS
SELECT p.grain, p.period_start, p.period_end, p."time", p.kpi, p.kpi_name, c.kpi_order, p.unit, p.direction, p.breakdown,
       p.dimension, p.as_of, p.days_complete, p.days_remaining, p.value_to_date, p.projected_value, p.projection_method,
       p.target, p.course
FROM cxkpi.kpi_projection AS p
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = p.kpi;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS d
             FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.oid IN ('cxkpi.kpi_forecast'::regclass, 'cxkpi.kpi_projection'::regclass) LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', r.relname, r.attname, r.d);
    END LOOP;
    FOR r IN SELECT c.relname, obj_description(c.oid, 'pg_class') AS d FROM pg_class AS c
             WHERE c.oid IN ('cxkpi.kpi_forecast'::regclass, 'cxkpi.kpi_projection'::regclass) LOOP
        EXECUTE format('COMMENT ON VIEW cxkpi_bi.%I IS %L', r.relname, r.d);
    END LOOP;
END $$;
COMMENT ON COLUMN cxkpi_bi.kpi_projection.kpi_order IS 'Display order of the KPI (cxkpi_bi.kpi_catalog).';
GRANT SELECT ON cxkpi_bi.kpi_forecast, cxkpi_bi.kpi_projection TO cxkpi_reader;
