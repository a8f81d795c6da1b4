-- cxkpi 1.0 -> 1.1 upgrade script (ALTER EXTENSION cxkpi UPDATE).
\echo Use "ALTER EXTENSION cxkpi UPDATE TO '1.1'" to load this file. \quit

-- Rules (docs/operations.md#upgrading):
--  * every change of the 1.1 SQL surface (src/*.sql) is repeated here, so that 1.0 + this
--    script gives exactly the schema of a fresh 1.1 install (test/shell/upgrade.sh compares
--    pg_dump --schema-only of both, and the scorecard of both on the same data);
--  * nothing a user may depend on is dropped; user rows (data tables, targets, settings, the
--    alert outbox and the open alert states) are kept;
--  * new columns of existing tables are added at the end (ALTER TABLE ... ADD COLUMN), and the
--    fresh install script declares them in the same place.

-------------------------------------------------------------------------------------------------
-- Issue 13, parts 1 and 7: statuses that never contradict the target, and targets by dimension
-- that keep the seed's triggers.  The status levels red / yellow / off target / green (never
-- green off target), the flag and the status rank in every status view and in the alerting;
-- effective targets that take what a dimension row leaves empty from the overall row.
-------------------------------------------------------------------------------------------------

-- Targets: a dimension row takes the minimum sample and the recovery margin it leaves NULL from
-- the overall row (cxkpi.effective_target); existing rows keep their values.
ALTER TABLE cxkpi.kpi_targets ALTER COLUMN min_sample_size DROP NOT NULL, ALTER COLUMN min_sample_size DROP DEFAULT,
    ALTER COLUMN recovery_margin DROP NOT NULL, ALTER COLUMN recovery_margin DROP DEFAULT;
COMMENT ON TABLE cxkpi.kpi_targets IS
    'Targets and red/yellow action thresholds per KPI, optionally per dimension value (dimension '''' = every breakdown), valid from a date. A dimension row takes every value it leaves NULL (target, thresholds, min_sample_size, recovery_margin) from the overall row: cxkpi.effective_target(). Status (cxkpi.kpi_status): red when the value is beyond red_threshold (below it for higher-is-better KPIs, above it for lower-is-better), yellow when beyond yellow_threshold, off target when no trigger fired but the target is missed, green otherwise; insufficient data below min_sample_size (default 30).';

-- Status, flag, rank and the effective target.
CREATE FUNCTION cxkpi.invalid_direction(direction text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'invalid KPI direction "%"', direction USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Use higher_is_better or lower_is_better.';
END $$;
COMMENT ON FUNCTION cxkpi.invalid_direction(text) IS 'Internal: raises 22023 for an unknown KPI direction.';
CREATE OR REPLACE FUNCTION cxkpi.kpi_status(direction text, value double precision, sample_size bigint,
                                 target double precision, red_threshold double precision,
                                 yellow_threshold double precision, min_sample_size bigint DEFAULT 1)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN direction IS DISTINCT FROM 'higher_is_better' AND direction IS DISTINCT FROM 'lower_is_better'
            THEN cxkpi.invalid_direction(direction)
        WHEN red_threshold IS NULL AND yellow_threshold IS NULL AND target IS NULL THEN 'no target'
        WHEN value IS NULL OR value = 'NaN' OR coalesce(sample_size, 0) < greatest(coalesce(min_sample_size, 1), 1)
            THEN 'insufficient data'
        WHEN direction = 'higher_is_better' AND value < red_threshold THEN 'red'
        WHEN direction = 'lower_is_better' AND value > red_threshold THEN 'red'
        WHEN direction = 'higher_is_better' AND value < yellow_threshold THEN 'yellow'
        WHEN direction = 'lower_is_better' AND value > yellow_threshold THEN 'yellow'
        WHEN NOT cxkpi.meets_target(direction, value, target) THEN 'off target'
        ELSE 'green'
    END;
COMMENT ON FUNCTION cxkpi.kpi_status(text, double precision, bigint, double precision, double precision, double precision, bigint) IS
    'Status of a KPI value: red / yellow (seed 000''s action triggers, strict: NPS 35 is not below 35), off target (no trigger, target missed), green (no trigger, target met or none), insufficient data or no target.';
CREATE FUNCTION cxkpi.kpi_flag(status text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'red' THEN 'red' WHEN 'yellow' THEN 'yellow' END;
COMMENT ON FUNCTION cxkpi.kpi_flag(text) IS
    'The action flag of a status (cxkpi.kpi_status): red or yellow, NULL otherwise.';
CREATE FUNCTION cxkpi.status_rank(status text) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'red' THEN 1::bigint WHEN 'yellow' THEN 2::bigint WHEN 'off target' THEN 3::bigint
                             WHEN 'green' THEN 4::bigint END;
COMMENT ON FUNCTION cxkpi.status_rank(text) IS
    'Rank of a status, worst first: red 1, yellow 2, off target 3, green 4; NULL for insufficient data, no target or anything else.';
-- The effective targets of every KPI, as spans of days: for each KPI and each dimension value
-- that has rows of its own ('' for the overall rows), from each day on which a row of its own or
-- an overall row of the KPI takes effect (valid_from) until the next such day (valid_until,
-- exclusive; NULL: open-ended), the target and thresholds then in effect.  Of the enabled rows of
-- the KPI valid on that day (latest valid_from on or before it), the one of the dimension value
-- and the overall one; each of target, red_threshold, yellow_threshold, min_sample_size and
-- recovery_margin comes from the dimension row when it sets it, else from the overall row
-- (min_sample_size defaults to 30, recovery_margin to 0).  The one definition of the effective
-- target: cxkpi.effective_target() looks a value up in it, and the views join it once per query
-- (a few dozen rows, hashed) instead of looking targets up row by row.  SECURITY DEFINER:
-- cxkpi_reader cannot read cxkpi.kpi_targets, and the views show the targets anyway.
CREATE FUNCTION cxkpi.target_spans()
    RETURNS TABLE (kpi text, dimension text, valid_from date, valid_until date, target double precision,
                   red_threshold double precision, yellow_threshold double precision, min_sample_size bigint,
                   recovery_margin double precision)
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 50
AS $$
    WITH kt AS (SELECT * FROM cxkpi.kpi_targets AS t WHERE t.enabled),
    -- the days from which the effective target of (kpi, dimension) can change
    b AS (SELECT k.kpi, k.dimension, t.valid_from
          FROM (SELECT DISTINCT kt.kpi, kt.dimension FROM kt) AS k
          JOIN kt AS t ON t.kpi = k.kpi AND t.dimension IN (k.dimension, '')
          GROUP BY 1, 2, 3)
    SELECT b.kpi, b.dimension, b.valid_from,
           lead(b.valid_from) OVER (PARTITION BY b.kpi, b.dimension ORDER BY b.valid_from),
           coalesce(d.target, o.target), coalesce(d.red_threshold, o.red_threshold),
           coalesce(d.yellow_threshold, o.yellow_threshold), coalesce(d.min_sample_size, o.min_sample_size, 30),
           coalesce(d.recovery_margin, o.recovery_margin, 0)
    FROM b
    LEFT JOIN LATERAL (SELECT * FROM kt WHERE kt.kpi = b.kpi AND kt.dimension = b.dimension AND b.dimension <> ''
                                          AND kt.valid_from <= b.valid_from
                       ORDER BY kt.valid_from DESC LIMIT 1) AS d ON true
    LEFT JOIN LATERAL (SELECT * FROM kt WHERE kt.kpi = b.kpi AND kt.dimension = '' AND kt.valid_from <= b.valid_from
                       ORDER BY kt.valid_from DESC LIMIT 1) AS o ON true
$$;
COMMENT ON FUNCTION cxkpi.target_spans() IS
    'Effective targets as spans of days: per KPI and dimension value with rows of its own ('''' = overall), from valid_from to valid_until (exclusive, NULL = open), the target, thresholds, minimum sample and recovery margin in effect (each from the dimension''s row when it sets it, else from the overall row).';

-- The target and thresholds that apply to a KPI value of a dimension value in the period
-- starting on period_start: the span of the dimension value when it has rows of its own, else
-- the overall span (cxkpi.target_spans).  No row when the KPI has no enabled row for the day.
-- For one value at a time (the alerting, the scorecard's rows without data); the views join
-- cxkpi.target_spans() the same way.
CREATE FUNCTION cxkpi.effective_target(kpi text, dimension text, period_start date)
    RETURNS TABLE (target double precision, red_threshold double precision, yellow_threshold double precision,
                   min_sample_size bigint, recovery_margin double precision)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(d.target, o.target), coalesce(d.red_threshold, o.red_threshold),
           coalesce(d.yellow_threshold, o.yellow_threshold), coalesce(d.min_sample_size, o.min_sample_size),
           coalesce(d.recovery_margin, o.recovery_margin)
    FROM (SELECT) AS one
    LEFT JOIN cxkpi.target_spans() AS d
           ON d.kpi = $1 AND d.dimension = $2 AND d.dimension <> '' AND d.valid_from <= $3
          AND ($3 < d.valid_until OR d.valid_until IS NULL)
    LEFT JOIN cxkpi.target_spans() AS o
           ON o.kpi = $1 AND o.dimension = '' AND o.valid_from <= $3 AND ($3 < o.valid_until OR o.valid_until IS NULL)
    WHERE d.kpi IS NOT NULL OR o.kpi IS NOT NULL;
END;
COMMENT ON FUNCTION cxkpi.effective_target(text, text, date) IS
    'Target, thresholds, minimum sample and recovery margin of a KPI for a dimension value and period start: each from the dimension''s row of cxkpi.kpi_targets when it sets it, else from the overall row (latest enabled valid_from on or before the day).';

-- The status views: effective targets; flag and status_rank appended.
CREATE OR REPLACE VIEW cxkpi.kpi_trend AS
SELECT v.grain, v.period_start, v.period_end, v."time", d.section, v.kpi, d.name AS kpi_name, d.unit,
       d.direction, v.breakdown, v.dimension, v.value, v.numerator, v.denominator, v.sample_size,
       v.ci_lower, v.ci_upper,
       p.value AS previous_value, v.value - p.value AS change_vs_previous,
       cxkpi.year_ago_period_start(v.grain, v.period_start) AS year_ago_period_start,
       (cxkpi.year_ago_period_start(v.grain, v.period_start) + cxkpi.grain_interval(v.grain))::date - 1
           AS year_ago_period_end,
       y.value AS value_year_ago, y.sample_size AS sample_size_year_ago, v.value - y.value AS yoy_change,
       100 * (v.value - y.value) / nullif(abs(y.value), 0) AS yoy_change_pct,
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
LEFT JOIN cxkpi.kpi_values AS p
       ON p.grain = v.grain AND p.kpi = v.kpi AND p.breakdown = v.breakdown AND p.dimension = v.dimension
      AND p.period_start = cxkpi.previous_period_start(v.grain, v.period_start)
LEFT JOIN cxkpi.kpi_values AS y
       ON y.grain = v.grain AND y.kpi = v.kpi AND y.breakdown = v.breakdown AND y.dimension = v.dimension
      AND y.period_start = cxkpi.year_ago_period_start(v.grain, v.period_start)
LEFT JOIN LATERAL cxkpi.effective_target(v.kpi, v.dimension, v.period_start) AS t ON true;
CREATE OR REPLACE VIEW cxkpi.kpi_scorecard AS
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
CREATE OR REPLACE VIEW cxkpi.kpi_weekly_summary AS
SELECT period_start AS week_start, period_end AS week_end, "time", section, kpi, kpi_name, unit, breakdown, dimension,
       value, numerator, denominator, sample_size, previous_value AS previous_week_value,
       change_vs_previous AS change_vs_previous_week, value_year_ago, yoy_change, target, status, period_complete,
       flag, status_rank
FROM cxkpi.kpi_trend WHERE grain = 'week';
CREATE OR REPLACE VIEW cxkpi.kpi_monthly_report AS
SELECT period_start AS month_start, period_end AS month_end, "time", section, kpi, kpi_name, unit, breakdown, dimension,
       value, numerator, denominator, sample_size, ci_lower, ci_upper, previous_value AS previous_month_value,
       change_vs_previous AS change_vs_previous_month, value_year_ago, yoy_change, yoy_change_pct, target,
       status, meets_target, period_complete, flag, status_rank
FROM cxkpi.kpi_trend WHERE grain = 'month';
CREATE OR REPLACE VIEW cxkpi.kpi_quarterly_review AS
SELECT period_start AS quarter_start, period_end AS quarter_end, "time", section, kpi, kpi_name, unit, breakdown,
       dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper,
       previous_value AS previous_quarter_value, change_vs_previous AS change_vs_previous_quarter, value_year_ago,
       yoy_change, yoy_change_pct, target, status, meets_target, period_complete, flag, status_rank
FROM cxkpi.kpi_trend WHERE grain = 'quarter';
CREATE OR REPLACE VIEW cxkpi.kpi_gap AS
SELECT section, kpi, kpi_name, unit, direction, breakdown, dimension, period_start, period_end, value, target,
       value - target AS gap,
       100 * (value - target) / nullif(abs(target), 0) AS gap_pct,
       CASE direction WHEN 'higher_is_better' THEN target - value ELSE value - target END AS shortfall,
       meets_target, status, sample_size, flag, status_rank
FROM cxkpi.kpi_scorecard
WHERE target IS NOT NULL;
COMMENT ON VIEW cxkpi.kpi_trend IS
    'Every KPI value at every grain with the previous period, the same period a year earlier, the target, the status (red / yellow / off target / green / insufficient data / no target), the flag and the status rank.';
COMMENT ON VIEW cxkpi.kpi_scorecard IS
    'One row per KPI and breakdown for the last complete period (setting scorecard_grain) before cxkpi.as_of(): value, target, status (red / yellow / off target / green / insufficient data / no target; never green off target), flag (seed 000''s red / yellow action trigger), status rank, sample size, confidence interval, the same period a year earlier and the change.';
DO $$
DECLARE
    r record;
    doc jsonb := jsonb_object(ARRAY[
        'target', 'Target (cxkpi.effective_target: the dimension''s row of cxkpi.kpi_targets, else the overall row; latest valid_from on or before the period start).',
        'red_threshold', 'Red flag threshold: red when the value is beyond it (below for higher-is-better KPIs, above otherwise); from the dimension''s row, else the overall row.',
        'min_sample_size', 'Minimum sample size for a status other than insufficient data (from the dimension''s row, else the overall row, else 30).',
        'status', 'Worst first: red (beyond the red threshold), yellow (beyond the yellow threshold), off target (no flag, target missed), green (no flag; target met or none), insufficient data (no value or too few observations), no target (no target, no threshold). Never green off target.',
        'flag', 'Seed 000''s action trigger that fired: red, yellow, or NULL (none, or too few observations).',
        'status_rank', 'Status as a number for colouring and sorting, worst first: red 1, yellow 2, off target 3, green 4; NULL for insufficient data and no target.',
        'meets_target', 'value >= target (higher is better) or value < target (lower is better); NULL without a value or target.']);
BEGIN
    FOR r IN SELECT c.relname, a.attname
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = 'cxkpi' AND c.relkind = 'v'
               AND c.relname IN ('kpi_trend', 'kpi_scorecard', 'kpi_weekly_summary', 'kpi_monthly_report',
                                 'kpi_quarterly_review', 'kpi_gap') LOOP
        IF doc ? r.attname THEN
            EXECUTE format('COMMENT ON COLUMN cxkpi.%I.%I IS %L', r.relname, r.attname, doc ->> r.attname);
        END IF;
    END LOOP;
END $$;

-- Alerting: the level 'off target', the effective targets, the states re-evaluated.
ALTER TABLE cxkpi.alert_state DROP CONSTRAINT alert_state_level_check;
ALTER TABLE cxkpi.alert_state ADD CONSTRAINT alert_state_level_check
    CHECK (level IN ('green', 'yellow', 'red', 'insufficient data', 'no target', 'off target'));
ALTER TABLE cxkpi.alerts DROP CONSTRAINT alerts_level_check;
ALTER TABLE cxkpi.alerts ADD CONSTRAINT alerts_level_check
    CHECK (level IN ('green', 'yellow', 'red', 'insufficient data', 'no target', 'off target'));
COMMENT ON COLUMN cxkpi.alerts.level IS 'New level: red, yellow, off target, green, insufficient data or no target (cxkpi.kpi_status, with hysteresis).';
CREATE OR REPLACE FUNCTION cxkpi.alert_level(direction text, value double precision, sample_size bigint,
                                  target double precision, red_threshold double precision,
                                  yellow_threshold double precision, min_sample_size bigint,
                                  recovery_margin double precision, previous_level text)
    RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    raw text := cxkpi.kpi_status(direction, value, sample_size, target, red_threshold, yellow_threshold,
                                 min_sample_size);
    sgn double precision := CASE direction WHEN 'higher_is_better' THEN 1 ELSE -1 END;
BEGIN
    IF raw IN ('insufficient data', 'no target', 'red') OR coalesce(recovery_margin, 0) = 0
       OR previous_level IS NULL OR previous_level NOT IN ('red', 'yellow') THEN
        RETURN raw;
    END IF;
    -- "not yet better than threshold t by the margin"
    IF previous_level = 'red' AND red_threshold IS NOT NULL
       AND sgn * value < sgn * red_threshold + recovery_margin THEN
        RETURN 'red';
    END IF;
    IF raw IN ('green', 'off target') AND yellow_threshold IS NOT NULL
       AND sgn * value < sgn * yellow_threshold + recovery_margin THEN
        RETURN 'yellow';
    END IF;
    RETURN raw;
END $$;
COMMENT ON FUNCTION cxkpi.alert_level(text, double precision, bigint, double precision, double precision, double precision, bigint, double precision, text) IS
    'Alert level of a KPI value: cxkpi.kpi_status (red, yellow, off target, green, insufficient data, no target) with hysteresis (a red or yellow level recovers only when the value is better than its threshold by recovery_margin).';
CREATE OR REPLACE FUNCTION cxkpi.alert_evaluate(keys cxkpi.alert_delta[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    today date := cxkpi.as_of();
    c record;
    a cxkpi.alerts;
    raised integer := 0;
BEGIN
    FOR c IN
        WITH k AS (
            SELECT DISTINCT d.kpi, d.breakdown, d.dimension, d.period_start FROM unnest(keys) AS d),
        s AS (
            SELECT st.kpi, st.breakdown, st.dimension, st.period_start, st.level, st.sample_size,
                   CASE WHEN st.source = 'trigger'
                        THEN cxkpi.alert_value(st.kpi, st.nps, st.csat, st.ces, st.numerator, st.denominator)
                        ELSE st.value END AS new_value
            FROM cxkpi.alert_state AS st
            WHERE st.grain = g
              AND (keys IS NULL OR (st.kpi, st.breakdown, st.dimension, st.period_start) IN (SELECT * FROM k))),
        e AS (
            SELECT s.kpi, s.breakdown, s.dimension, s.period_start, s.level AS previous_level, s.new_value,
                   s.sample_size, t.target, t.red_threshold, t.yellow_threshold,
                   cxkpi.alert_level(d.direction, s.new_value, s.sample_size, t.target, t.red_threshold,
                                     t.yellow_threshold, t.min_sample_size, t.recovery_margin, s.level) AS new_level
            FROM s JOIN cxkpi.kpi_definitions AS d USING (kpi)
            LEFT JOIN LATERAL cxkpi.effective_target(s.kpi, s.dimension, s.period_start) AS t ON true),
        u AS (
            UPDATE cxkpi.alert_state AS st
               SET value = e.new_value, level = e.new_level, evaluated_at = clock_timestamp(),
                   level_since = CASE WHEN e.new_level <> st.level THEN clock_timestamp() ELSE st.level_since END
              FROM e
             WHERE st.kpi = e.kpi AND st.breakdown = e.breakdown AND st.dimension = e.dimension
               AND st.grain = g AND st.period_start = e.period_start
               AND (st.value IS DISTINCT FROM e.new_value OR st.level <> e.new_level)
            RETURNING e.*)
        SELECT * FROM u
        WHERE u.new_level <> u.previous_level
          AND (u.new_level IN ('red', 'yellow') OR u.previous_level IN ('red', 'yellow'))
          AND (cxkpi.period_bounds(g, u.period_start)).period_end >= (cxkpi.period_bounds(g, today)).period_start - 1
        ORDER BY u.kpi, u.breakdown, u.dimension, u.period_start
    LOOP
        UPDATE cxkpi.alerts SET resolved_at = clock_timestamp()
         WHERE kpi = c.kpi AND breakdown = c.breakdown AND dimension = c.dimension AND grain = g
           AND period_start = c.period_start AND resolved_at IS NULL;
        LOOP
            BEGIN
                INSERT INTO cxkpi.alerts (kpi, breakdown, dimension, grain, period_start, period_end, level,
                                          previous_level, value, threshold, target, sample_size, resolved_at)
                VALUES (c.kpi, c.breakdown, c.dimension, g, c.period_start,
                        (cxkpi.period_bounds(g, c.period_start)).period_end, c.new_level, c.previous_level,
                        c.new_value,
                        CASE WHEN c.new_level = 'red' OR (c.new_level <> 'yellow' AND c.previous_level = 'red')
                             THEN c.red_threshold ELSE c.yellow_threshold END,
                        c.target, c.sample_size,
                        CASE WHEN c.new_level NOT IN ('red', 'yellow') THEN clock_timestamp() END)
                RETURNING * INTO a;
                EXIT;
            EXCEPTION WHEN unique_violation THEN
                -- the sequence is behind the stored ids (a restore loads its value after the
                -- history): move it past them and try again
                PERFORM setval('cxkpi.alerts_alert_id_seq', (SELECT max(alert_id) FROM cxkpi.alerts));
            END;
        END LOOP;
        PERFORM pg_notify('cxkpi_alerts', json_build_object(
                    'alert_id', a.alert_id, 'kpi', a.kpi, 'breakdown', a.breakdown,
                    'dimension', left(a.dimension, 200), 'period_start', a.period_start, 'level', a.level,
                    'previous_level', a.previous_level, 'value', a.value)::text);
        raised := raised + 1;
    END LOOP;
    RETURN raised;
END $$;
CREATE OR REPLACE FUNCTION cxkpi.check_thresholds() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
BEGIN
    PERFORM cxkpi.alert_rebuild();
    -- rollup-driven KPIs that have a red or yellow threshold (effective for the row's dimension
    -- and period), from the dashboard's rollups; states whose rollup row is gone are dropped
    DELETE FROM cxkpi.alert_state AS s
     WHERE s.source = 'rollup'
       AND NOT EXISTS (SELECT 1 FROM cxkpi.kpi_values AS v
                       WHERE (v.grain, v.period_start, v.kpi, v.breakdown, v.dimension)
                             = (g, s.period_start, s.kpi, s.breakdown, s.dimension));
    INSERT INTO cxkpi.alert_state AS s (kpi, breakdown, dimension, grain, period_start, source,
                                        numerator, denominator, sample_size, value)
    SELECT v.kpi, v.breakdown, v.dimension, g, v.period_start, 'rollup',
           coalesce(v.numerator, 0)::numeric, coalesce(v.denominator, 0)::numeric, coalesce(v.sample_size, 0),
           v.value
    FROM cxkpi.kpi_values AS v
    WHERE v.grain = g
      AND v.kpi <> ALL (cxkpi.alert_trigger_kpis())
      AND v.kpi NOT IN (SELECT kpi FROM cxkpi.kpi_definitions WHERE source = 'metric_observations')
      AND EXISTS (SELECT 1 FROM cxkpi.effective_target(v.kpi, v.dimension, v.period_start) AS t
                  WHERE t.red_threshold IS NOT NULL OR t.yellow_threshold IS NOT NULL)
    ORDER BY 1, 2, 3, 5
    ON CONFLICT (kpi, breakdown, dimension, grain, period_start) DO UPDATE
        SET numerator = excluded.numerator, denominator = excluded.denominator,
            sample_size = excluded.sample_size, value = excluded.value, source = 'rollup';
    RETURN cxkpi.alert_evaluate(NULL);
END $$;
-- Levels follow the new statuses at once (green -> off target where the target is missed; no
-- alert, as neither is red or yellow), as after an edit of the targets.
SELECT pg_advisory_xact_lock(cxkpi.alert_lock_key());
SELECT cxkpi.alert_evaluate(NULL);

-------------------------------------------------------------------------------------------------
-- Issue 13, part 2: a churn watch list of customers still worth saving.  The CLV if alive and the
-- value at stake, the customer scores computed at refresh (cxkpi.customer_scores), the churn
-- watch list and the win-back list, and the setting gone_p_alive.
-------------------------------------------------------------------------------------------------

-- The CLV if alive (clv / P(alive) without the division).
CREATE FUNCTION @extschema@.clv_if_alive(m @extschema@.bgnbd_model, g @extschema@.gamma_gamma_model, frequency integer, recency double precision,
                             t double precision, monetary_value double precision, horizon double precision,
                             discount_rate double precision DEFAULT 0, step double precision DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_clv_if_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.clv_if_alive(m @extschema@.mbgnbd_model, g @extschema@.gamma_gamma_model, frequency integer, recency double precision,
                             t double precision, monetary_value double precision, horizon double precision,
                             discount_rate double precision DEFAULT 0, step double precision DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_clv_if_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv_if_alive(@extschema@.bgnbd_model, @extschema@.gamma_gamma_model, integer, double precision, double precision,
                                 double precision, double precision, double precision, double precision) IS
    'Expected spend over the next horizon time units of the customer if still alive (clv / P(alive), computed without dividing), discounted like clv().';
COMMENT ON FUNCTION @extschema@.clv_if_alive(@extschema@.mbgnbd_model, @extschema@.gamma_gamma_model, integer, double precision, double precision,
                                 double precision, double precision, double precision, double precision) IS
    'Expected spend over the next horizon time units of the customer if still alive (clv / P(alive), computed without dividing), discounted like clv().';

-- Settings: gone_p_alive (P(alive) below which a customer is considered gone).
ALTER TABLE cxkpi.settings DROP CONSTRAINT settings_key_known;
ALTER TABLE cxkpi.settings ADD CONSTRAINT settings_key_known CHECK (key IN (
        'as_of', 'scorecard_grain', 'time_zone', 'confidence', 'retention_active_window',
        'loyalty_active_days', 'csat_scale', 'ces_scale', 'alert_grain', 'gone_p_alive',
        'customer_models_interval'));
CREATE OR REPLACE FUNCTION cxkpi.settings_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ok boolean;
    hint text;
BEGIN
    CASE NEW.key
    WHEN 'as_of' THEN
        ok := NEW.value = '' OR NEW.value ~ '^\d{4}-\d{2}-\d{2}$';
        IF ok AND NEW.value <> '' THEN PERFORM NEW.value::date; END IF;
        hint := 'Use a date such as 2026-10-31, or '''' for the current date.';
    WHEN 'scorecard_grain' THEN
        ok := NEW.value IN ('week', 'month', 'quarter', 'year');
        hint := 'Use week, month, quarter or year.';
    WHEN 'alert_grain' THEN
        ok := NEW.value IN ('day', 'week', 'month', 'quarter', 'year');
        hint := 'Use day, week, month, quarter or year, then CALL cxkpi.check_thresholds() to rebuild the alert states.';
    WHEN 'time_zone' THEN
        ok := EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.value)
              OR EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = NEW.value);
        hint := 'Use a time zone name from pg_timezone_names, such as UTC or Europe/Paris.';
    WHEN 'confidence' THEN
        ok := NEW.value ~ '^0\.\d+$' AND NEW.value::float8 > 0 AND NEW.value::float8 < 1;
        hint := 'Use a confidence level strictly between 0 and 1, such as 0.95.';
    WHEN 'retention_active_window', 'loyalty_active_days' THEN
        ok := NEW.value ~ '^[1-9]\d{0,4}$';
        hint := 'Use a positive integer.';
    WHEN 'gone_p_alive' THEN
        ok := NEW.value ~ '^0(\.\d+)?$';
        hint := 'Use a probability from 0 to below 1, such as 0.1 (0: nobody is considered gone).';
    WHEN 'customer_models_interval' THEN
        BEGIN
            ok := NEW.value::interval BETWEEN interval '0' AND interval '7 days';
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
            ok := false;
        END;
        hint := 'Use an interval from 0 to 7 days, such as 1 hour (0: at every refresh that has changes).';
    WHEN 'csat_scale' THEN
        ok := NEW.value IN ('2', '3', '5', '7', '10');
        hint := 'Use 2, 3, 5, 7 or 10.';
    WHEN 'ces_scale' THEN
        ok := NEW.value IN ('5', '7');
        hint := 'Use 5 or 7.';
    ELSE
        ok := true;     -- an unknown key: the CHECK constraint names it
    END CASE;
    IF NOT ok THEN
        RAISE EXCEPTION 'invalid value "%" for cxkpi setting "%"', NEW.value, NEW.key
            USING ERRCODE = 'invalid_parameter_value', HINT = hint;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.is_default AND NEW.is_default THEN
        NEW.is_default := NEW.value = OLD.value AND NEW.description = OLD.description;
    END IF;
    RETURN NEW;
END $$;
INSERT INTO cxkpi.settings (key, value, description, is_default) VALUES
    ('gone_p_alive', '0.1', 'Customers whose P(alive) is below this are considered gone: cxkpi.win_back_list instead of cxkpi.churn_watch_list.', true),
    ('customer_models_interval', '1 hour', 'How often at most a refresh refits the customer models (RFM, CLV, churn scores, recommended interventions) after changed facts; they are always refitted when the reference date moves, by a rebuild, and by CALL cxkpi.refresh_customer_models(). 0: at every refresh that has changes.', true);

-- The scores at refresh, the watch and win-back lists.
CREATE FUNCTION cxkpi.customer_score(m @extschema@.bgnbd_model, g @extschema@.gamma_gamma_model,
                                     frequency integer, recency double precision, t double precision,
                                     monetary_value double precision)
    RETURNS TABLE (p_alive double precision, expected_purchases_52w double precision,
                   churn_probability_13w double precision, churn_risk_13w text, clv_52w_currency double precision,
                   clv_if_alive_52w_currency double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT @extschema@.p_alive(m, frequency, recency, t),
           @extschema@.expected_purchases(m, 52, frequency, recency, t),
           @extschema@.prob_no_purchase(m, 13, frequency, recency, t),
           @extschema@.churn_risk(m, frequency, recency, t, 13),
           CASE WHEN (@extschema@.gamma_gamma_params(g)).q > 1 THEN
               @extschema@.clv(m, g, frequency, recency, t, monetary_value, 52, 0.01, 365.25 / 12 / 7) END,
           CASE WHEN (@extschema@.gamma_gamma_params(g)).q > 1 THEN
               @extschema@.clv_if_alive(m, g, frequency, recency, t, monetary_value, 52, 0.01, 365.25 / 12 / 7) END
    OFFSET 0 $$;
COMMENT ON FUNCTION cxkpi.customer_score(@extschema@.bgnbd_model, @extschema@.gamma_gamma_model, integer, double precision, double precision, double precision) IS
    'Internal: the scores of one customer (P(alive), expected purchases 52 weeks, no purchase in 13 weeks, CLV and CLV if alive over 52 weeks discounted 1 % a month) with the dashboard''s models.';
CREATE OR REPLACE FUNCTION cxkpi.fit_clv_models(OUT bgnbd @extschema@.bgnbd_model,
                                     OUT gamma_gamma @extschema@.gamma_gamma_model,
                                     OUT customers bigint, OUT repeat_customers bigint, OUT fit_error text)
    -- PARALLEL UNSAFE: its exception blocks are subtransactions, which parallel mode forbids
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET client_min_messages = error AS $$
DECLARE
    failure text;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE r.frequency > 0) INTO customers, repeat_customers
    FROM cxkpi.customer_rfm AS r;
    BEGIN
        SELECT @extschema@.bgnbd_fit(r.frequency, r.recency, r.t) INTO bgnbd FROM cxkpi.customer_rfm AS r;
        IF NOT @extschema@.converged(bgnbd) THEN
            bgnbd := NULL;
            fit_error := 'bgnbd_fit did not converge';
        END IF;
    EXCEPTION WHEN data_exception THEN
        fit_error := 'bgnbd_fit: ' || SQLERRM;
    END;
    BEGIN
        SELECT @extschema@.gamma_gamma_fit(r.frequency, r.monetary_value::double precision) INTO gamma_gamma
        FROM cxkpi.customer_rfm AS r;
        IF NOT @extschema@.converged(gamma_gamma) THEN
            gamma_gamma := NULL;
            fit_error := concat_ws('; ', fit_error, 'gamma_gamma_fit did not converge');
        END IF;
    EXCEPTION WHEN data_exception THEN
        fit_error := concat_ws('; ', fit_error, 'gamma_gamma_fit: ' || SQLERRM);
    END;
    -- every customer's scores, as cxkpi.customer_scores will compute them (each column used, so
    -- that none is left out of the plan)
    IF bgnbd IS NOT NULL THEN
        BEGIN
            PERFORM max(s.p_alive), max(s.expected_purchases_52w), max(s.churn_probability_13w),
                    max(s.churn_risk_13w), max(s.clv_52w_currency), max(s.clv_if_alive_52w_currency)
            FROM cxkpi.customer_rfm AS r,
                 cxkpi.customer_score(bgnbd, gamma_gamma, r.frequency, r.recency, r.t, r.monetary_value::double precision) AS s;
        EXCEPTION WHEN data_exception THEN
            failure := SQLERRM;
            BEGIN
                PERFORM max(s.p_alive), max(s.expected_purchases_52w), max(s.churn_probability_13w),
                        max(s.churn_risk_13w)
                FROM cxkpi.customer_rfm AS r,
                     cxkpi.customer_score(bgnbd, NULL, r.frequency, r.recency, r.t, r.monetary_value::double precision) AS s;
                gamma_gamma := NULL;
                fit_error := concat_ws('; ', fit_error, 'CLV predictions: ' || failure);
            EXCEPTION WHEN data_exception THEN
                bgnbd := NULL;
                fit_error := concat_ws('; ', fit_error, 'bgnbd predictions: ' || SQLERRM);
            END;
        END;
    END IF;
END $$;
COMMENT ON FUNCTION cxkpi.fit_clv_models() IS
    'Fits BG/NBD and Gamma-Gamma over cxkpi.customer_rfm; a model that cannot be fitted, or whose predictions cannot be computed for every customer, is NULL, with the reason in fit_error.';
CREATE MATERIALIZED VIEW cxkpi.customer_scores AS
WITH s AS (
    SELECT r.customer_id, c.acquisition_channel, m.as_of, r.first_purchase, r.last_purchase, r.purchases,
           r.total_amount AS historic_value_currency, r.frequency::bigint AS repeat_purchase_days,
           r.recency AS recency_weeks, r.t AS age_weeks, r.monetary_value AS avg_repeat_value_currency,
           s.p_alive, s.expected_purchases_52w, s.churn_probability_13w, s.churn_risk_13w, s.clv_52w_currency,
           s.clv_if_alive_52w_currency, s.clv_if_alive_52w_currency * (1 - s.p_alive) AS value_at_stake_52w_currency,
           r.t - r.recency AS weeks_since_last_purchase,
           r.total_amount::double precision * 0.5 ^ ((r.t - r.recency) / 52) AS win_back_score_currency,
           s.p_alive < (SELECT cxkpi.setting('gone_p_alive')::double precision) AS gone
    FROM cxkpi.customer_rfm AS r
    JOIN cxkpi.customers AS c USING (customer_id)
    CROSS JOIN cxkpi.clv_models AS m
    CROSS JOIN LATERAL cxkpi.customer_score(m.bgnbd, m.gamma_gamma, r.frequency, r.recency, r.t,
                                            r.monetary_value::double precision) AS s)
SELECT s.*,
       CASE WHEN NOT s.gone AND s.value_at_stake_52w_currency > 0
            THEN row_number() OVER (PARTITION BY NOT s.gone AND s.value_at_stake_52w_currency > 0
                                    ORDER BY s.value_at_stake_52w_currency DESC, s.customer_id) END AS watch_rank,
       CASE WHEN s.gone
            THEN row_number() OVER (PARTITION BY s.gone ORDER BY s.win_back_score_currency DESC, s.customer_id) END
           AS win_back_rank
FROM s;
CREATE UNIQUE INDEX customer_scores_key ON cxkpi.customer_scores (customer_id);
CREATE INDEX customer_scores_watch_rank ON cxkpi.customer_scores (watch_rank) WHERE watch_rank IS NOT NULL;
CREATE INDEX customer_scores_win_back_rank ON cxkpi.customer_scores (win_back_rank) WHERE win_back_rank IS NOT NULL;
COMMENT ON MATERIALIZED VIEW cxkpi.customer_scores IS
    'Internal: the per-customer scores of the last refresh (RFM, P(alive), churn, CLV, CLV if alive, value at stake, win-back score); read them through cxkpi.customer_value, cxkpi.churn_watch_list and cxkpi.win_back_list.';
-- The customer part of a refresh (cxkpi.refresh_dashboard does the same at the end): the RFM,
-- the models (1.0 may have kept models whose predictions fail), then the scores.
REFRESH MATERIALIZED VIEW cxkpi.customer_rfm;
REFRESH MATERIALIZED VIEW cxkpi.clv_models;
REFRESH MATERIALIZED VIEW cxkpi.customer_scores;
CREATE OR REPLACE VIEW cxkpi.customer_value AS
SELECT s.customer_id, s.acquisition_channel, s.as_of, s.first_purchase, s.last_purchase, s.purchases,
       s.historic_value_currency, s.repeat_purchase_days, s.recency_weeks, s.age_weeks, s.avg_repeat_value_currency,
       s.p_alive, s.expected_purchases_52w, s.churn_probability_13w, s.churn_risk_13w, s.clv_52w_currency,
       s.clv_if_alive_52w_currency, s.value_at_stake_52w_currency, s.weeks_since_last_purchase,
       s.gone
FROM cxkpi.customer_scores AS s;
COMMENT ON VIEW cxkpi.customer_value IS
    'Per customer, as scored at the last refresh: RFM in weeks, historic value, P(alive), expected purchases, discounted CLV, CLV if still alive and value at stake over 52 weeks, probability and risk band of no purchase in 13 weeks, and whether the model considers the customer gone (BG/NBD + Gamma-Gamma fitted over all customers).';
COMMENT ON COLUMN cxkpi.customer_value.clv_if_alive_52w_currency IS 'What the customer is expected to spend over the next 52 weeks if still active (clv_52w_currency / p_alive, computed directly), discounted 1 % per month.';
COMMENT ON COLUMN cxkpi.customer_value.value_at_stake_52w_currency IS 'Value still at stake: clv_if_alive_52w_currency - clv_52w_currency = clv_if_alive_52w_currency * (1 - p_alive).';
COMMENT ON COLUMN cxkpi.customer_value.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.gone IS 'True when p_alive is below the setting gone_p_alive (default 0.1) at the last refresh: the model considers the customer gone (win-back list).';
CREATE VIEW cxkpi.churn_watch_list AS
SELECT s.watch_rank,
       s.customer_id, s.acquisition_channel,
       (SELECT lm.tier FROM cxkpi.loyalty_members AS lm WHERE lm.customer_id = s.customer_id) AS loyalty_tier, s.as_of, s.purchases, s.historic_value_currency,
       s.first_purchase, s.last_purchase, s.weeks_since_last_purchase, s.p_alive, s.churn_probability_13w,
       s.churn_risk_13w, s.clv_52w_currency, s.clv_if_alive_52w_currency, s.value_at_stake_52w_currency
FROM cxkpi.customer_scores AS s
WHERE s.watch_rank IS NOT NULL
ORDER BY s.watch_rank;
COMMENT ON VIEW cxkpi.churn_watch_list IS
    'Customers still worth saving: P(alive) at least gone_p_alive (setting, default 0.1), ranked by the value at stake over 52 weeks, clv_if_alive_52w_currency * (1 - p_alive): what the customer would be worth if kept, against what the model expects now. Scored at the last refresh.';
COMMENT ON COLUMN cxkpi.churn_watch_list.watch_rank IS 'Rank by value at stake, 1 = most at stake (ties by customer_id).';
COMMENT ON COLUMN cxkpi.churn_watch_list.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.churn_watch_list.acquisition_channel IS 'Acquisition channel of the customer.';
COMMENT ON COLUMN cxkpi.churn_watch_list.loyalty_tier IS 'Loyalty tier (NULL when not a member).';
COMMENT ON COLUMN cxkpi.churn_watch_list.as_of IS 'Reference date: orders up to this day; the models were fitted on them.';
COMMENT ON COLUMN cxkpi.churn_watch_list.purchases IS 'Orders up to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.first_purchase IS 'Day of the first order.';
COMMENT ON COLUMN cxkpi.churn_watch_list.last_purchase IS 'Day of the last order up to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD); at least gone_p_alive here.';
COMMENT ON COLUMN cxkpi.churn_watch_list.churn_probability_13w IS 'Probability (0-1) of no order in the next 13 weeks.';
COMMENT ON COLUMN cxkpi.churn_watch_list.churn_risk_13w IS 'low (< 1/3), medium or high (> 2/3) probability of no order in the next 13 weeks.';
COMMENT ON COLUMN cxkpi.churn_watch_list.clv_52w_currency IS 'Expected net spend over the next 52 weeks, discounted 1 % per month: what the model expects now.';
COMMENT ON COLUMN cxkpi.churn_watch_list.clv_if_alive_52w_currency IS 'Expected net spend over the next 52 weeks if the customer is kept (still active), discounted 1 % per month.';
COMMENT ON COLUMN cxkpi.churn_watch_list.value_at_stake_52w_currency IS 'Value at stake: clv_if_alive_52w_currency - clv_52w_currency (the ranking).';
GRANT SELECT ON cxkpi.churn_watch_list TO cxkpi_reader;
CREATE VIEW cxkpi.win_back_list AS
SELECT s.win_back_rank,
       s.customer_id, s.acquisition_channel,
       (SELECT lm.tier FROM cxkpi.loyalty_members AS lm WHERE lm.customer_id = s.customer_id) AS loyalty_tier, s.as_of, s.purchases, s.historic_value_currency,
       s.first_purchase, s.last_purchase, s.weeks_since_last_purchase, s.p_alive, s.win_back_score_currency
FROM cxkpi.customer_scores AS s
WHERE s.win_back_rank IS NOT NULL
ORDER BY s.win_back_rank;
COMMENT ON VIEW cxkpi.win_back_list IS
    'Customers the model considers gone (P(alive) below the setting gone_p_alive, default 0.1), for win-back campaigns, ranked by historic value halved for every 52 weeks since the last order. Scored at the last refresh.';
COMMENT ON COLUMN cxkpi.win_back_list.win_back_rank IS 'Rank by win-back score, 1 = first to contact (ties by customer_id).';
COMMENT ON COLUMN cxkpi.win_back_list.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.win_back_list.acquisition_channel IS 'Acquisition channel of the customer.';
COMMENT ON COLUMN cxkpi.win_back_list.loyalty_tier IS 'Loyalty tier (NULL when not a member).';
COMMENT ON COLUMN cxkpi.win_back_list.as_of IS 'Reference date: orders up to this day; the models were fitted on them.';
COMMENT ON COLUMN cxkpi.win_back_list.purchases IS 'Orders up to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.first_purchase IS 'Day of the first order.';
COMMENT ON COLUMN cxkpi.win_back_list.last_purchase IS 'Day of the last order up to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD); below gone_p_alive here.';
COMMENT ON COLUMN cxkpi.win_back_list.win_back_score_currency IS 'historic_value_currency * 0.5 ^ (weeks_since_last_purchase / 52): the historic value, halved for every year since the last order (the ranking).';
GRANT SELECT ON cxkpi.win_back_list TO cxkpi_reader;
CREATE OR REPLACE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH mv IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion',
                              'daily_carts', 'daily_tickets', 'daily_loyalty', 'daily_app_ratings',
                              'daily_observations', 'daily_return_events', 'daily_acquisition', 'kpi_values',
                              'customer_rfm', 'clv_models', 'customer_scores'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
    END LOOP;
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Refreshes every dashboard rollup in dependency order (daily matviews, cxkpi.kpi_values, then the customer RFM, the CLV models and the customer scores); CONCURRENTLY by default, so readers are never blocked.';

-- Issue 13, parts 4 and 5: a tour that runs (per-survey views, comments on the survey table) and
-- BI logins that just work (schema cxkpi_bi, the KPI catalogue, cxkpi.create_bi_login and
-- cxkpi.prepare_bi_login; cxkpi_reader loses USAGE on schema cxkpi).  docs/bi.md.
-------------------------------------------------------------------------------------------------

-- Display columns of the KPI catalogue (src/dashboard_model.sql), and the config-row trigger that
-- copies them when a dumped row replaces a built-in one.
ALTER TABLE cxkpi.kpi_definitions
    ADD COLUMN sort_order integer,
    ADD COLUMN decimals smallint CONSTRAINT kpi_definitions_decimals CHECK (decimals BETWEEN 0 AND 6);
CREATE OR REPLACE FUNCTION cxkpi.config_row_upsert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_default bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.is_default THEN
            RETURN NEW;
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN
            UPDATE cxkpi.kpi_definitions SET name = NEW.name, section = NEW.section, unit = NEW.unit,
                   direction = NEW.direction, formula = NEW.formula, source = NEW.source,
                   value_min = NEW.value_min, value_max = NEW.value_max,
                   -- (1.1 columns: a row dumped by 1.0 has none, and keeps the built-in display)
                   sort_order = coalesce(NEW.sort_order, kpi_definitions.sort_order),
                   decimals = coalesce(NEW.decimals, kpi_definitions.decimals), is_default = false
             WHERE kpi = NEW.kpi AND is_default;
        ELSIF TG_TABLE_NAME = 'kpi_targets' THEN
            UPDATE cxkpi.kpi_targets SET target = NEW.target, red_threshold = NEW.red_threshold,
                   yellow_threshold = NEW.yellow_threshold, min_sample_size = NEW.min_sample_size,
                   recovery_margin = NEW.recovery_margin, enabled = NEW.enabled, is_default = false
             WHERE kpi = NEW.kpi AND dimension = NEW.dimension AND valid_from = NEW.valid_from AND is_default;
        ELSE
            UPDATE cxkpi.settings SET value = NEW.value, description = NEW.description, is_default = false
             WHERE key = NEW.key AND is_default;
        END IF;
        GET DIAGNOSTICS found_default = ROW_COUNT;
        IF found_default > 0 THEN
            RETURN NULL;        -- the built-in row now holds the user's values
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: NEW.source exists only there
            IF NEW.source = 'builtin' THEN
                RAISE EXCEPTION 'KPI "%" cannot have source builtin', NEW.kpi
                    USING ERRCODE = 'check_violation',
                          HINT = 'Built-in KPIs are the ones cxkpi computes; add your own with source metric_observations.';
            END IF;
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: OLD.source exists only there
            IF OLD.source = 'builtin' AND (NEW.kpi <> OLD.kpi OR NEW.source <> OLD.source) THEN
                RAISE EXCEPTION 'cannot change the key or the source of built-in KPI "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'The rollups compute built-in KPIs by their key; edit the name, unit, direction or formula text instead.';
            END IF;
        END IF;
        -- nor the key of a built-in target: a restore would seed the original key again
        IF TG_TABLE_NAME = 'kpi_targets' THEN
            IF OLD.is_default AND (NEW.kpi, NEW.dimension, NEW.valid_from) IS DISTINCT FROM (OLD.kpi, OLD.dimension, OLD.valid_from) THEN
                RAISE EXCEPTION 'cannot change the key (kpi, dimension, valid_from) of a built-in target of "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a new target row with its dimension or valid_from, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF OLD.is_default AND NEW.is_default AND TG_TABLE_NAME <> 'settings' THEN
            NEW.is_default := false;
        END IF;
        RETURN NEW;
    ELSE
        IF OLD.is_default THEN
            RAISE EXCEPTION 'cannot delete a built-in row of cxkpi.%', TG_TABLE_NAME
                USING ERRCODE = 'object_in_use',
                      HINT = CASE TG_TABLE_NAME WHEN 'kpi_targets'
                                  THEN 'Set enabled = false to switch a built-in target off.'
                                  ELSE 'Edit it with UPDATE instead.' END;
        END IF;
        RETURN OLD;
    END IF;
END $$;

-- Functions the reader views call: no name lookup in schema cxkpi when they run (docs/bi.md#privileges).
CREATE OR REPLACE FUNCTION cxkpi.as_of() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(nullif(cxkpi.setting('as_of'), '')::date,
                    (now() AT TIME ZONE cxkpi.setting('time_zone'))::date);

CREATE OR REPLACE FUNCTION cxkpi.period_bounds(grain text, d date, OUT period_start date, OUT period_end date)
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF grain NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown grain "%"', grain USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF NOT isfinite(d) THEN
        RAISE EXCEPTION 'date % is not finite', d USING ERRCODE = 'datetime_field_overflow';
    END IF;
    period_start := date_trunc(grain, d::timestamp)::date;
    -- not cxkpi.grain_interval(): the reader views call this function, and a plpgsql body looks
    -- names up with the caller's rights (docs/bi.md#privileges)
    period_end := (period_start + CASE grain WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
                                             WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'
                                             ELSE interval '1 year' END)::date - 1;
END $$;

CREATE OR REPLACE FUNCTION cxkpi.previous_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE grain WHEN 'day' THEN period_start - 1 WHEN 'week' THEN period_start - 7
                ELSE (period_start - cxkpi.grain_interval(grain))::date END;

-- The survey table says what it mixes (src/dashboard_model.sql), and one view per survey
-- (src/dashboard_surveys.sql).
COMMENT ON TABLE cxkpi.survey_responses IS
    'One row per answer of three different surveys: nps (0-10), csat (1-scale; scale 2 = no/yes) and ces (CES 2.0, 1-5 or 1-7, higher is easier), with touchpoint channel and comment. Never aggregate score over the whole table: read cxkpi.nps_responses, cxkpi.csat_responses or cxkpi.ces_responses (or filter on survey).';
COMMENT ON COLUMN cxkpi.survey_responses.survey IS 'Which survey the answer belongs to: nps, csat or ces. Scores of different surveys do not mix.';
COMMENT ON COLUMN cxkpi.survey_responses.score IS
    'Answer on the scale of its survey (nps 0-10, csat and ces 1-scale). Filter on survey before aggregating, or read cxkpi.nps_responses, cxkpi.csat_responses, cxkpi.ces_responses: nps(score) over every row mixes CSAT and CES answers into the NPS.';
COMMENT ON COLUMN cxkpi.survey_responses.scale IS 'Highest point of the answer scale: 10 for nps; 2 (no/yes), 3, 5, 7 or 10 for csat; 5 or 7 for ces.';

-- Each view has the answers of one survey with the columns its aggregates take, so that
-- nps(score), csat(score, scale) and ces(score, scale) are right without a filter.  Like the
-- table, they are not readable by cxkpi_reader (single answers, customers, comments).
CREATE VIEW cxkpi.nps_responses AS
SELECT r.response_id, r.responded_at, r.score, r.channel, r.customer_id, r.order_id, r.comment
FROM cxkpi.survey_responses AS r
WHERE r.survey = 'nps';
CREATE VIEW cxkpi.csat_responses AS
SELECT r.response_id, r.responded_at, r.score, r.scale, r.channel, r.customer_id, r.order_id, r.comment
FROM cxkpi.survey_responses AS r
WHERE r.survey = 'csat';
CREATE VIEW cxkpi.ces_responses AS
SELECT r.response_id, r.responded_at, r.score, r.scale, r.channel, r.customer_id, r.order_id, r.comment
FROM cxkpi.survey_responses AS r
WHERE r.survey = 'ces';
COMMENT ON VIEW cxkpi.nps_responses IS
    'NPS answers of cxkpi.survey_responses (0-10): nps(score), nps_agg(score).';
COMMENT ON VIEW cxkpi.csat_responses IS
    'CSAT answers of cxkpi.survey_responses (1-scale; scale 2 = no/yes): csat(score, scale), csat_agg(score, scale); answers on different scales do not mix.';
COMMENT ON VIEW cxkpi.ces_responses IS
    'CES 2.0 answers of cxkpi.survey_responses (1-scale, higher is easier): ces(score, scale), ces_agg(score, scale); answers on different scales do not mix.';
COMMENT ON COLUMN cxkpi.nps_responses.score IS 'Likelihood to recommend, 0-10 (promoters 9-10, detractors 0-6).';
COMMENT ON COLUMN cxkpi.csat_responses.score IS 'Satisfaction, 1 to scale (scale 2: 1 = no, 2 = yes).';
COMMENT ON COLUMN cxkpi.csat_responses.scale IS 'Highest point of the answer scale: 2 (no/yes), 3, 5, 7 or 10.';
COMMENT ON COLUMN cxkpi.ces_responses.score IS 'Agreement that the task was easy, 1 to scale (higher is easier).';
COMMENT ON COLUMN cxkpi.ces_responses.scale IS 'Highest point of the agreement scale: 5 or 7.';
COMMENT ON COLUMN cxkpi.nps_responses.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.csat_responses.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.ces_responses.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.nps_responses.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.csat_responses.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.ces_responses.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.nps_responses.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.csat_responses.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.ces_responses.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.nps_responses.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.csat_responses.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.ces_responses.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.nps_responses.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.csat_responses.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.ces_responses.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.nps_responses.comment IS 'Free-text comment of the answer.';
COMMENT ON COLUMN cxkpi.csat_responses.comment IS 'Free-text comment of the answer.';
COMMENT ON COLUMN cxkpi.ces_responses.comment IS 'Free-text comment of the answer.';

-- cxkpi_reader reads schema cxkpi_bi, not cxkpi (src/dashboard_views.sql).  Its SELECT grants on
-- the cxkpi views stay: GRANT USAGE ON SCHEMA cxkpi TO a login gives it the 1.0 names back.
REVOKE USAGE ON SCHEMA cxkpi FROM cxkpi_reader;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS m JOIN pg_catalog.pg_roles AS r ON r.oid = m.roleid
               WHERE r.rolname = 'cxkpi_reader') THEN
        RAISE WARNING 'cxkpi 1.1: members of cxkpi_reader now read schema cxkpi_bi; they no longer have USAGE on schema cxkpi'
            USING DETAIL = 'BI tools list only what they can open. Saved questions on cxkpi.kpi_* views stop working for BI logins.',
                  HINT = 'Point BI tools at schema cxkpi_bi and run CALL cxkpi.prepare_bi_login(''<login>'') for each BI login (docs/bi.md), or GRANT USAGE ON SCHEMA cxkpi TO <login> to keep the 1.0 names.';
    END IF;
END $$;

-- Schema cxkpi_bi, the catalogue's display order, the BI views and the login procedures (src/bi.sql).
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
             ('cac', 740, NULL), ('clv_simple', 750, NULL)) AS v(kpi, sort_order, decimals)
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
       v.cart_recovery_rate_pct, v.recovered_carts
FROM cxkpi.kpi_purchase_experience AS v;

CREATE VIEW cxkpi_bi.kpi_service_quality AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.channel AS dimension,
       v.response_time_mean_hours, v.response_time_median_hours, v.response_time_p90_hours,
       v.response_time_total_hours, v.responded_tickets, v.resolution_rate_pct, v.resolved_tickets, v.tickets,
       v.first_contact_resolution_pct, v.first_contact_resolved_tickets
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
       v.aov_currency, v.new_customers, v.acquisition_cost_currency, v.cac_currency, v.clv_simple_currency
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

-------------------------------------------------------------------------------------------------
-- BI logins read the views without USAGE on schema cxkpi: the SQL functions the views inline
-- have SQL-standard bodies (RETURN / BEGIN ATOMIC), bound when they are created, so that no name
-- is looked up in cxkpi as the reader.
-------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION cxkpi.meets_target(direction text, value double precision, target double precision)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE direction WHEN 'higher_is_better' THEN value >= target
                                WHEN 'lower_is_better' THEN value < target END;


-------------------------------------------------------------------------------------------------
-- Issue 13, part 3: period-correct loyalty activity; part 7: progress notices of long work.
-- The programme activity table cxkpi.loyalty_activity, the daily_loyalty rollup that reads it
-- (rebuilt with every view and matview on it, as they are: kpi_values, the BI views, user views),
-- the sample data generator that fills it, and NOTICEs per stage of the generator and the refresh.
-------------------------------------------------------------------------------------------------

COMMENT ON TABLE cxkpi.loyalty_members IS
    'Loyalty programme members: enrolment date, tier, and optionally the date of the last known activity (it counts as an activity on that day only; record every activity in cxkpi.loyalty_activity).';

-- Programme activity of the members besides their orders: what makes a member active in a
-- period (with their orders on or after enrolling), see docs/data-model.md#loyalty_activity.
CREATE TABLE cxkpi.loyalty_activity (
    customer_id bigint NOT NULL REFERENCES cxkpi.loyalty_members,
    active_at   timestamptz NOT NULL CHECK (isfinite(active_at)),
    kind        text NOT NULL DEFAULT 'other' CHECK (kind IN ('earn', 'redeem', 'visit', 'other')),
    PRIMARY KEY (customer_id, active_at, kind)
);
COMMENT ON TABLE cxkpi.loyalty_activity IS
    'One row per loyalty programme activity of a member besides orders: points earned outside an order (earn), a reward redeemed (redeem), a visit of the programme in the app or on the web (visit), other. A member is active at the end of a period with an activity or an order, on or after enrolling, in the loyalty_active_days days up to it.';

-- An activity cannot precede the member's enrolment day: refused when it is before that day in
-- every time zone (before its midnight at UTC+14), also when an enrolment date is changed later.
-- Not in the time zone of the setting time_zone: the check must hold whatever the setting (a
-- later change of it, a restore that loads the rows before the settings); the dashboard counts
-- days in time_zone and ignores activity before the enrolment day there.  Statement-level, with
-- the transition table: one join per statement, whatever the size of the load.
CREATE FUNCTION cxkpi.loyalty_activity_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad record;
BEGIN
    IF TG_TABLE_NAME = 'loyalty_activity' THEN
        SELECT n.customer_id, n.active_at, m.enrolled_on INTO bad
        FROM new_rows AS n JOIN cxkpi.loyalty_members AS m USING (customer_id)
        WHERE n.active_at < (m.enrolled_on::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
        LIMIT 1;
    ELSE
        SELECT a.customer_id, a.active_at, n.enrolled_on INTO bad
        FROM new_rows AS n JOIN cxkpi.loyalty_activity AS a USING (customer_id)
        WHERE a.active_at < (n.enrolled_on::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'loyalty activity of member % is before the enrolment', bad.customer_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('active_at %s is before %s in every time zone (enrolled_on %s).',
                                  bad.active_at AT TIME ZONE 'UTC', bad.enrolled_on, bad.enrolled_on),
                  HINT = 'Activity counts from the enrolment day on; correct active_at or enrolled_on.';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER loyalty_activity_insert_check AFTER INSERT ON cxkpi.loyalty_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.loyalty_activity_check();
CREATE TRIGGER loyalty_activity_update_check AFTER UPDATE ON cxkpi.loyalty_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.loyalty_activity_check();
CREATE TRIGGER loyalty_members_activity_check AFTER UPDATE ON cxkpi.loyalty_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.loyalty_activity_check();

SELECT pg_catalog.pg_extension_config_dump('cxkpi.loyalty_activity', '');
-- Loyalty programme activity: like loyalty_members, it feeds rollup-driven KPIs only (the
-- active share, evaluated by cxkpi.check_thresholds()), so it has no alerting triggers.
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.loyalty_activity TO cxkpi_writer;

-- Progress of long work (cxkpi.generate_sample_data, cxkpi.refresh_dashboard): one NOTICE per
-- stage, "cxkpi: orders: 140,210 rows (12.4 s)", with the time since the work started.  psql
-- shows notices by default; SET client_min_messages = warning silences them.
CREATE FUNCTION cxkpi.progress_notice(stage text, row_count bigint, started_at timestamptz) RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE NOTICE 'cxkpi: %: % rows (% s)', stage, to_char(row_count, 'FM999,999,999,990'),
                 to_char(extract(epoch FROM clock_timestamp() - started_at), 'FM999,990.0');
END $$;
COMMENT ON FUNCTION cxkpi.progress_notice(text, bigint, timestamptz) IS
    'Internal: reports a stage of long work as a NOTICE "cxkpi: <stage>: <rows> rows (<seconds since started_at> s)"; silenced by client_min_messages = warning.';

CREATE OR REPLACE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH mv IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion',
                              'daily_carts', 'daily_tickets', 'daily_loyalty', 'daily_app_ratings',
                              'daily_observations', 'daily_return_events', 'daily_acquisition', 'kpi_values',
                              'customer_rfm', 'clv_models', 'customer_scores'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
        EXECUTE format('SELECT count(*) FROM cxkpi.%I', mv) INTO n;
        PERFORM cxkpi.progress_notice('refresh ' || mv, n, t0);
    END LOOP;
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Refreshes every dashboard rollup in dependency order (daily matviews, cxkpi.kpi_values, then the customer RFM, the CLV models and the customer scores); CONCURRENTLY by default, so readers are never blocked. Reports each matview as a NOTICE (SET client_min_messages = warning to silence).';

-- (cxkpi.generate_sample_data: its final version is created near the end of this script)

-- Rebuilding materialized views that other relations read: PostgreSQL cannot change the query
-- of a materialized view, and dropping one drops every view and matview built on it (here the
-- BI views on kpi_values, and any view of the user's on those).  These helpers save the
-- relations to rebuild (their owner and privileges) and every relation that depends on them
-- (definition, options, owner, privileges, comments, indexes, extension membership) before the
-- DROP ... CASCADE, and afterwards, once the script has created the rebuilt ones from their 1.1
-- definitions, create the dependents again in dependency order, exactly as they were.  Anything
-- else that would be dropped with them (a trigger, a rule, a function using a row type, ...)
-- stops the update with an error instead.  The helpers exist only while this script runs (dropped
-- at its end).
CREATE FUNCTION cxkpi.upgrade_dependent_relations(rels regclass[]) RETURNS TABLE (relid oid, depth integer)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE d(relid, depth) AS (
        SELECT r.ev_class, 1
        FROM pg_depend AS dep JOIN pg_rewrite AS r ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
        WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = ANY (rels::oid[]) AND r.ev_class <> dep.refobjid
        UNION
        SELECT r.ev_class, d.depth + 1
        FROM d JOIN pg_depend AS dep ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = d.relid
        JOIN pg_rewrite AS r ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
        WHERE r.ev_class <> d.relid)
    SELECT relid, max(depth)::integer FROM d WHERE relid <> ALL (rels::oid[]) GROUP BY relid $$;

CREATE FUNCTION cxkpi.upgrade_save_relations(rels regclass[]) RETURNS jsonb
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    blocker text;
    saved jsonb;
BEGIN
    -- Everything that depends on the relations or on their dependents must be one of them (their
    -- _RETURN rules), their row and array types, their indexes or toast tables.
    WITH s AS (SELECT unnest(rels::oid[]) AS relid UNION SELECT relid FROM cxkpi.upgrade_dependent_relations(rels))
    SELECT format('%s depends on %s', pg_describe_object(dep.classid, dep.objid, dep.objsubid),
                  pg_describe_object(dep.refclassid, dep.refobjid, dep.refobjsubid))
    INTO blocker
    FROM pg_depend AS dep
    WHERE ((dep.refclassid = 'pg_class'::regclass AND dep.refobjid IN (SELECT relid FROM s))
           OR (dep.refclassid = 'pg_type'::regclass
               AND dep.refobjid IN (SELECT c.reltype FROM pg_class AS c WHERE c.oid IN (SELECT relid FROM s))))
      AND NOT (dep.classid = 'pg_rewrite'::regclass
               AND EXISTS (SELECT 1 FROM pg_rewrite AS r
                           WHERE r.oid = dep.objid AND r.rulename = '_RETURN' AND r.ev_class IN (SELECT relid FROM s)))
      AND NOT (dep.classid = 'pg_type'::regclass AND dep.deptype = 'i')
      AND NOT (dep.classid = 'pg_class'::regclass
               AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = dep.objid AND c.relkind IN ('i', 't')))
    LIMIT 1;
    IF blocker IS NOT NULL THEN
        RAISE EXCEPTION 'cannot rebuild %: %', array_to_string(rels, ', '), blocker
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Drop that object, run ALTER EXTENSION cxkpi UPDATE, then create it again.';
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'name', format('%I.%I', n.nspname, c.relname), 'kind', c.relkind, 'depth', d.depth,
               'recreate', d.depth > 0,
               'definition', regexp_replace(pg_get_viewdef(c.oid), ';\s*$', ''),
               'options', c.reloptions, 'owner', c.relowner::regrole::text, 'acl', c.relacl::text[],
               'populated', c.relispopulated, 'comment', obj_description(c.oid, 'pg_class'),
               'member', EXISTS (SELECT 1 FROM pg_depend AS e
                                 WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                                   AND e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'),
               'columns', coalesce((SELECT jsonb_agg(jsonb_build_object('name', a.attname, 'comment', col_description(c.oid, a.attnum),
                                                                        'acl', a.attacl::text[]) ORDER BY a.attnum)
                                    FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'),
               'indexes', coalesce((SELECT jsonb_agg(jsonb_build_object('definition', pg_get_indexdef(i.indexrelid),
                                                                        'name', format('%I.%I', n.nspname, ic.relname),
                                                                        'comment', obj_description(i.indexrelid, 'pg_class'))
                                                     ORDER BY ic.relname)
                                    FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), '[]'))
               ORDER BY d.depth, c.oid), '[]')
    INTO saved
    FROM (SELECT unnest(rels::oid[]) AS relid, 0 AS depth UNION ALL SELECT * FROM cxkpi.upgrade_dependent_relations(rels)) AS d
    JOIN pg_class AS c ON c.oid = d.relid JOIN pg_namespace AS n ON n.oid = c.relnamespace;
    RETURN saved;
END $$;

CREATE FUNCTION cxkpi.upgrade_restore_relations(saved jsonb) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r jsonb;
    x jsonb;
    kind text;
    opts text;
    g record;
BEGIN
    FOR r IN SELECT value FROM jsonb_array_elements(saved) ORDER BY (value ->> 'depth')::integer LOOP
        kind := CASE r ->> 'kind' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END;
        IF (r ->> 'recreate')::boolean THEN
            SELECT ' WITH (' || string_agg(o, ', ') || ')' INTO opts
            FROM jsonb_array_elements_text(CASE jsonb_typeof(r -> 'options') WHEN 'array' THEN r -> 'options' ELSE '[]' END) AS o;
            EXECUTE format('CREATE %s %s%s AS %s%s', kind, r ->> 'name', coalesce(opts, ''), r ->> 'definition',
                           CASE WHEN kind = 'VIEW' THEN '' WHEN (r ->> 'populated')::boolean THEN ' WITH DATA' ELSE ' WITH NO DATA' END);
            IF NOT (r ->> 'member')::boolean THEN
                EXECUTE format('ALTER EXTENSION cxkpi DROP %s %s', kind, r ->> 'name');
            END IF;
            FOR x IN SELECT value FROM jsonb_array_elements(r -> 'indexes') LOOP
                EXECUTE x ->> 'definition';
                IF x ->> 'comment' IS NOT NULL THEN
                    EXECUTE format('COMMENT ON INDEX %s IS %L', x ->> 'name', x ->> 'comment');
                END IF;
            END LOOP;
            IF r ->> 'comment' IS NOT NULL THEN
                EXECUTE format('COMMENT ON %s %s IS %L', kind, r ->> 'name', r ->> 'comment');
            END IF;
            FOR x IN SELECT value FROM jsonb_array_elements(r -> 'columns') LOOP
                IF x ->> 'comment' IS NOT NULL THEN
                    EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', r ->> 'name', x ->> 'name', x ->> 'comment');
                END IF;
            END LOOP;
        END IF;
        IF r ->> 'owner' <> current_user THEN
            -- (a rebuilt relation may be of another kind now: a table instead of a matview)
            EXECUTE format('ALTER %s %s OWNER TO %s',
                           CASE (SELECT c.relkind FROM pg_class AS c WHERE c.oid = (r ->> 'name')::regclass)
                               WHEN 'r' THEN 'TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                           r ->> 'name', r ->> 'owner');
        END IF;
        -- privileges: exactly the saved list (the owner's included), in its order
        IF r -> 'acl' <> 'null' THEN
            EXECUTE format('REVOKE ALL ON TABLE %s FROM PUBLIC, %s', r ->> 'name', r ->> 'owner');
            FOR g IN SELECT a.privilege_type, a.is_grantable,
                            CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
                     FROM aclexplode((SELECT array_agg(e::aclitem ORDER BY i)
                                      FROM jsonb_array_elements_text(r -> 'acl') WITH ORDINALITY AS t(e, i))) AS a LOOP
                EXECUTE format('GRANT %s ON TABLE %s TO %s%s', g.privilege_type, r ->> 'name', g.grantee,
                               CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
            END LOOP;
        END IF;
        FOR x IN SELECT value FROM jsonb_array_elements(r -> 'columns') LOOP
            IF x -> 'acl' <> 'null' THEN
                FOR g IN SELECT a.privilege_type, a.is_grantable,
                                CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
                         FROM aclexplode((SELECT array_agg(e::aclitem ORDER BY i)
                                          FROM jsonb_array_elements_text(x -> 'acl') WITH ORDINALITY AS t(e, i))) AS a LOOP
                    EXECUTE format('GRANT %s (%I) ON TABLE %s TO %s%s', g.privilege_type, x ->> 'name', r ->> 'name', g.grantee,
                                   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
                END LOOP;
            END IF;
        END LOOP;
    END LOOP;
END $$;

-- daily_loyalty now reads cxkpi.loyalty_activity; kpi_values, which reads it, reports the members
-- and the active share of every period up to the data horizon, also of periods without any
-- member activity.  Both are created from their 1.1 definitions, the views on them as they were.
SELECT pg_catalog.set_config('cxkpi.upgrade_saved', cxkpi.upgrade_save_relations('{cxkpi.daily_loyalty, cxkpi.kpi_values}')::text, true);
DROP MATERIALIZED VIEW cxkpi.kpi_values CASCADE;
DROP MATERIALIZED VIEW cxkpi.daily_loyalty;
-- Loyalty: enrolments per day, and member activity per day as a daily retention summary: the
-- orders and the programme activities (cxkpi.loyalty_activity) on or after the enrolment day,
-- and the last known activity date (which counts on its own day only, like any activity).  The
-- active share of a period is computed from the activity of the days up to its end, so every
-- period counts what happened in its own window.
CREATE MATERIALIZED VIEW cxkpi.daily_loyalty AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz),
activity AS (
    SELECT o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date AS day
    FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m USING (customer_id), c
    WHERE (o.ordered_at AT TIME ZONE c.tz)::date >= m.enrolled_on
    UNION ALL
    SELECT a.customer_id, (a.active_at AT TIME ZONE c.tz)::date
    FROM cxkpi.loyalty_activity AS a JOIN cxkpi.loyalty_members AS m USING (customer_id), c
    WHERE (a.active_at AT TIME ZONE c.tz)::date >= m.enrolled_on
    UNION ALL
    SELECT customer_id, last_active_on FROM cxkpi.loyalty_members WHERE last_active_on IS NOT NULL),
days AS (
    SELECT day, customer_id, 0 AS enrolled FROM activity
    UNION ALL
    SELECT enrolled_on, customer_id, 1 FROM cxkpi.loyalty_members)
SELECT day, sum(enrolled)::bigint AS enrolled,
       @extschema@.retention_agg(customer_id, day, 'day') FILTER (WHERE enrolled = 0) AS active
FROM days GROUP BY day;
CREATE UNIQUE INDEX daily_loyalty_key ON cxkpi.daily_loyalty (day);
COMMENT ON MATERIALIZED VIEW cxkpi.daily_loyalty IS 'Internal rollup: loyalty enrolments and member activity per day (orders and programme activities on or after enrolling, last_active_on) as a retention summary.';

-- Every KPI at every grain (day, ISO week, month, quarter, year) and breakdown, in long format:
-- one row per (grain, period, kpi, breakdown, dimension) with the value, its numerator and
-- denominator (so that BI tools re-aggregate instead of averaging ratios), the sample size and
-- the confidence interval where the KPI has one.  Breakdown 'total' has dimension 'all'.
-- Retention, churn, simple CLV and the active loyalty share are defined for week, month, quarter and
-- year only.
CREATE MATERIALIZED VIEW cxkpi.kpi_values AS
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
g(grain) AS (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')),
sv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM cxkpi.daily_surveys AS d CROSS JOIN g CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY g.grain, 2, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM cxkpi.daily_orders AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.first_order,
           @extschema@.rollup(d.returns) AS r
    FROM cxkpi.daily_orders AS d CROSS JOIN g
    GROUP BY 1, 2, 3),
act AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
    FROM cxkpi.daily_customer_activity AS d CROSS JOIN g
    GROUP BY 1, 2),
ret0 AS (
    SELECT 'week' AS grain, r.* FROM (SELECT @extschema@.rollup(by_week) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'month', r.* FROM (SELECT @extschema@.rollup(by_month) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'quarter', r.* FROM (SELECT @extschema@.rollup(by_quarter) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'year', r.* FROM (SELECT @extschema@.rollup(by_year) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
           lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
    FROM ret0),
cv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM cxkpi.daily_conversion AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM cxkpi.daily_carts AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM cxkpi.daily_tickets AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), ())),
tp AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension, count(*) AS responded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.h) AS median_h,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY x.h) AS p90_h
    FROM cxkpi.daily_tickets AS d CROSS JOIN LATERAL unnest(d.response_hours) AS x(h) CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), ())),
-- Member activity of every day, and the data horizon (the last day with an order or a member
-- activity): the active window of the current, unfinished period ends there.
lys AS (
    SELECT @extschema@.rollup(active) AS s, min(day) AS first_day,
           greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS (
    SELECT g.grain, date_trunc(g.grain, c.day::timestamp)::date AS period_start, max(c.members)::bigint AS members
    FROM (SELECT d.day::date AS day, sum(coalesce(l.enrolled, 0)) OVER (ORDER BY d.day) AS members
          FROM lys CROSS JOIN generate_series(lys.first_day, lys.last_day, interval '1 day') AS d(day)
          LEFT JOIN cxkpi.daily_loyalty AS l ON l.day = d.day::date) AS c CROSS JOIN g
    GROUP BY 1, 2),
ar AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM cxkpi.daily_app_ratings AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum) AS weighted_sum, sum(d.weight_sum) AS weight_sum
    FROM cxkpi.daily_observations AS d CROSS JOIN g
    GROUP BY g.grain, 2, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM cxkpi.daily_return_events AS d CROSS JOIN g
    GROUP BY 1, 2),
aq AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM cxkpi.daily_acquisition AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.acquisition_channel), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, 100.0 * conversions / nullif(visits, 0),
           conversions, visits, visits, cxkpi.wilson_ci_lower(conversions, visits, conf),
           cxkpi.wilson_ci_upper(conversions, visits, conf)
    FROM cv, cfg
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, (net_value / nullif(orders, 0))::double precision,
           net_value::double precision, orders, orders, NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, 100.0 * abandoned / nullif(carts, 0),
           abandoned, carts, carts, cxkpi.wilson_ci_lower(abandoned, carts, conf), cxkpi.wilson_ci_upper(abandoned, carts, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, response_hours_sum / nullif(responded, 0),
           response_hours_sum, responded, responded, NULL, NULL
    FROM tk
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, cfg,
         LATERAL (SELECT @extschema@.active_customers(lys.s,
                      least((ly.period_start + cxkpi.grain_interval(ly.grain))::date - 1, lys.last_day), cfg.loy_w) AS active) AS a
    WHERE lys.s IS NOT NULL AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', @extschema@.repeat_customer_rate(s),
           round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100),
           @extschema@.customers(s), @extschema@.customers(s),
           cxkpi.wilson_ci_lower(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf),
           cxkpi.wilson_ci_upper(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / @extschema@.customers(s),
           orders, @extschema@.customers(s), @extschema@.customers(s), NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / @extschema@.customers(a.s))
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, @extschema@.customers(a.s), NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL),
-- Each value with the value of the previous period and of the same period a year earlier
-- (cxkpi.previous_period_start, cxkpi.year_ago_period_start), found here once per refresh rather
-- than at every read of the trend views.  With windows, not self-joins (which the planner, with
-- no statistics on a CTE, would merge on the series alone: quadratic in its length): the row
-- before in the series is the previous period when its start is previous_period_start; the row
-- before among the periods of the series a whole number of years (364 days for days and weeks,
-- the same calendar month for months, quarters and years) apart is the year-ago period when its
-- start is year_ago_period_start.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg)
SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
       c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
       CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
            THEN lag(c.value) OVER series END AS previous_value,
       CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
            THEN lag(c.value) OVER years END AS value_year_ago,
       CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
            THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
FROM cur AS c
WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
       years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start);
CREATE UNIQUE INDEX kpi_values_key ON cxkpi.kpi_values (grain, period_start, kpi, breakdown, dimension);
CREATE INDEX kpi_values_time ON cxkpi.kpi_values (grain, "time");
CREATE INDEX kpi_values_kpi ON cxkpi.kpi_values (kpi, grain, period_start);
-- For BI filters: one metric (cxkpi.kpi_timeseries.metric, the same expression) over a time range,
-- and one dimension value.
CREATE INDEX kpi_values_metric ON cxkpi.kpi_values
    ((kpi || CASE WHEN breakdown = 'total' THEN '' ELSE ' ' || dimension END), grain, period_start);
CREATE INDEX kpi_values_dimension ON cxkpi.kpi_values (dimension, grain, period_start);
COMMENT ON MATERIALIZED VIEW cxkpi.kpi_values IS 'Every KPI at every grain, period and breakdown, with numerator, denominator, sample size and interval, and the values of the previous period and of the same period a year earlier; read it through the views.';

SELECT cxkpi.upgrade_restore_relations(pg_catalog.current_setting('cxkpi.upgrade_saved')::jsonb);
SELECT pg_catalog.set_config('cxkpi.upgrade_saved', '', true);
-- (the helpers are dropped at the end of the script: issue 14 rebuilds relations again)

-------------------------------------------------------------------------------------------------
-- Issue 13, part 6: fast views.  The period arithmetic is plain SQL the planner inlines
-- (cxkpi.grain_interval was PL/pgSQL, the period starts STRICT, which keeps a CASE from being
-- inlined); cxkpi.kpi_values joins each value to its previous period and to the same period a
-- year earlier at refresh (its rebuild above has the three columns and the two BI indexes), so
-- that cxkpi.kpi_trend reads them instead of joining kpi_values to itself twice at every read;
-- the effective targets are spans of days (cxkpi.target_spans), joined once per query instead
-- of looked up row by row; the refresh analyzes each matview it rebuilds.
-------------------------------------------------------------------------------------------------

-- Raises 22023 for a grain that is not day, week, month, quarter or year (cxkpi.grain_interval
-- calls it, so that it stays a plain SQL expression the planner inlines).
CREATE FUNCTION cxkpi.invalid_grain(grain text) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'unknown grain "%"', grain USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Use day, week, month, quarter or year.';
END $$;
COMMENT ON FUNCTION cxkpi.invalid_grain(text) IS 'Internal: raises 22023 for an unknown grain.';

-- The length of one period of a grain, as an interval (NULL for NULL).  Plain SQL, inlined into
-- the views' period arithmetic.
CREATE OR REPLACE FUNCTION cxkpi.grain_interval(grain text) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN grain IS NULL THEN NULL::interval
                WHEN grain = 'day' THEN interval '1 day' WHEN grain = 'week' THEN interval '7 days'
                WHEN grain = 'month' THEN interval '1 month' WHEN grain = 'quarter' THEN interval '3 months'
                WHEN grain = 'year' THEN interval '1 year' ELSE cxkpi.invalid_grain(grain) END;
COMMENT ON FUNCTION cxkpi.grain_interval(text) IS 'Length of one period of a grain (day, week, month, quarter, year).';

-- The first day of the previous period and of the same period a year earlier (52 weeks earlier
-- for days and weeks, so that weekdays line up); NULL for NULL.  Plain SQL (SQL-standard bodies,
-- parsed here: the reader views call them with the rights of a BI login, which has no USAGE on
-- schema cxkpi; docs/bi.md#privileges), inlined by the planner; cxkpi.kpi_values joins each
-- period to these at refresh.
CREATE OR REPLACE FUNCTION cxkpi.previous_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE grain WHEN 'day' THEN period_start - 1 WHEN 'week' THEN period_start - 7
                ELSE (period_start - cxkpi.grain_interval(grain))::date END;
COMMENT ON FUNCTION cxkpi.previous_period_start(text, date) IS
    'First day of the period before the one starting on period_start, at the same grain.';
CREATE OR REPLACE FUNCTION cxkpi.year_ago_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN grain IN ('day', 'week') THEN period_start - 364
                ELSE (period_start - interval '1 year')::date END;
COMMENT ON FUNCTION cxkpi.year_ago_period_start(text, date) IS
    'First day of the same period a year earlier: same calendar month / quarter / year, or 52 weeks earlier for days and weeks.';

CREATE OR REPLACE VIEW cxkpi.kpi_trend AS
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

CREATE OR REPLACE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH mv IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion',
                              'daily_carts', 'daily_tickets', 'daily_loyalty', 'daily_app_ratings',
                              'daily_observations', 'daily_return_events', 'daily_acquisition', 'kpi_values',
                              'customer_rfm', 'clv_models', 'customer_scores'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
        EXECUTE format('ANALYZE cxkpi.%I', mv);
        EXECUTE format('SELECT count(*) FROM cxkpi.%I', mv) INTO n;
        PERFORM cxkpi.progress_notice('refresh ' || mv, n, t0);
    END LOOP;
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Refreshes every dashboard rollup in dependency order (daily matviews, cxkpi.kpi_values, then the customer RFM, the CLV models and the customer scores) and analyzes it; CONCURRENTLY by default, so readers are never blocked. Reports each matview as a NOTICE (SET client_min_messages = warning to silence).';

-- Issue 16, part 1: demand forecasting (ETS models: ets_model, ets_fit, forecast); new objects
-- only, the same SQL as src/forecast.sql.
-------------------------------------------------------------------------------------------------

CREATE TYPE ets_model;
CREATE FUNCTION ets_model_in(cstring) RETURNS ets_model
    AS 'MODULE_PATHNAME', 'ets_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_out(ets_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'ets_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_recv(internal) RETURNS ets_model
    AS 'MODULE_PATHNAME', 'ets_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_send(ets_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ets_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE ets_model (
    INPUT = ets_model_in, OUTPUT = ets_model_out,
    RECEIVE = ets_model_recv, SEND = ets_model_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE ets_model IS
    'Exponential smoothing state space model ETS(error, trend, season) fitted to one series: parameters, states, fit criteria and the time axis to forecast on.';

-- equality and hashing (DISTINCT, GROUP BY, hash joins on model columns); bytewise, like the text form
CREATE FUNCTION ets_model_eq(ets_model, ets_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ets_model_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_ne(ets_model, ets_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ets_model_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_hash(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_hash_extended(ets_model, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ets_model_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = ets_model, RIGHTARG = ets_model, PROCEDURE = ets_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = ets_model, RIGHTARG = ets_model, PROCEDURE = ets_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS ets_model_hash_ops DEFAULT FOR TYPE ets_model USING hash AS
    OPERATOR 1 =, FUNCTION 1 ets_model_hash(ets_model), FUNCTION 2 ets_model_hash_extended(ets_model, bigint);

-- Fit aggregate ------------------------------------------------------------------------

CREATE FUNCTION ets_fit_trans(internal, date, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, date, double precision, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, date, double precision, text, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, date, double precision, text, integer, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision, text, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision, text, integer, boolean)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ets_fit_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_fit_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_fit_final(internal) RETURNS ets_model
    AS 'MODULE_PATHNAME', 'ets_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE ets_fit("time" date, value double precision) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision) IS
    'ETS model of a series (GROUP BY series), chosen by AICc among the models forecast::ets tries; seasonal period from the time step (daily 7, weekly 52, monthly 12, quarterly 4).';
CREATE AGGREGATE ets_fit("time" date, value double precision, model text) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision, text) IS
    'ETS model of a series with the given form, as forecast::ets''s model argument: ''ZZZ'' (default, all chosen), ''MAM'', ''AAdN'', ''ZZN''...';
CREATE AGGREGATE ets_fit("time" date, value double precision, model text, period integer) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision, text, integer) IS
    'ETS model of a series with the given form and seasonal period (NULL: inferred from the time step).';
CREATE AGGREGATE ets_fit("time" date, value double precision, model text, period integer, damped boolean) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision, text, integer, boolean) IS
    'ETS model of a series with the given form, period and damping (NULL: both tried), as forecast::ets''s damped argument.';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision) IS
    'ETS model of a series with timestamptz times (hourly 24, daily 7, weekly 52; calendar months in UTC), chosen by AICc.';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision, model text) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision, text) IS
    'ETS model of a timestamptz series with the given form (''ZZZ'', ''MAM'', ''AAdN''...).';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision, model text, period integer) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision, text, integer) IS
    'ETS model of a timestamptz series with the given form and seasonal period (NULL: inferred).';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision, model text, period integer,
                         damped boolean) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision, text, integer, boolean) IS
    'ETS model of a timestamptz series with the given form, period and damping (NULL: both tried).';

-- Accessors ----------------------------------------------------------------------------

CREATE FUNCTION method(ets_model) RETURNS text
    AS 'MODULE_PATHNAME', 'ets_model_method_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION method(ets_model) IS 'The model''s form in forecast''s notation, e.g. ETS(M,Ad,M).';
CREATE FUNCTION ets_params(ets_model, OUT alpha double precision, OUT beta double precision,
                           OUT gamma double precision, OUT phi double precision)
    AS 'MODULE_PATHNAME', 'ets_model_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ets_params(ets_model) IS
    'Smoothing parameters alpha (level), beta (trend), gamma (season) and damping phi; NULL for a component the model does not have.';
CREATE FUNCTION initial_states(ets_model, OUT level double precision, OUT slope double precision,
                               OUT season double precision[])
    AS 'MODULE_PATHNAME', 'ets_model_initial_states' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION initial_states(ets_model) IS
    'Estimated states before the first observation: level, slope (NULL without trend), seasonal states newest first (NULL without season).';
CREATE FUNCTION last_states(ets_model, OUT level double precision, OUT slope double precision,
                            OUT season double precision[])
    AS 'MODULE_PATHNAME', 'ets_model_last_states' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION last_states(ets_model) IS
    'States after the last observation, where the forecasts start: level, slope, seasonal states newest first.';
CREATE FUNCTION aicc(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_aicc' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aicc(ets_model) IS
    'Corrected Akaike information criterion of the fit, the criterion the model was chosen by (NULL for a constant series).';
CREATE FUNCTION aic(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_aic' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aic(ets_model) IS 'Akaike information criterion of the fit (NULL for a constant series).';
CREATE FUNCTION bic(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_bic' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bic(ets_model) IS 'Bayesian information criterion of the fit (NULL for a constant series).';
CREATE FUNCTION log_likelihood(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION log_likelihood(ets_model) IS
    'Log-likelihood as forecast::ets reports it, -0.5 (n log(SSE) + 2 sum log|forecast|), constants left out (NULL for a constant series).';
CREATE FUNCTION sigma(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_sigma' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sigma(ets_model) IS
    'Residual standard deviation (relative errors for a multiplicative-error model), degrees of freedom n minus estimated values.';
CREATE FUNCTION mse(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_mse' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mse(ets_model) IS 'Mean squared one-step forecast error over the series, in the data''s units squared.';
CREATE FUNCTION observations(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_n' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION observations(ets_model) IS 'Number of observations the model was fitted on.';
CREATE FUNCTION period(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION period(ets_model) IS
    'Seasonal period of the series (given or inferred from the time step); the model has a season only if method says so.';
CREATE FUNCTION converged(ets_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ets_model_converged' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION converged(ets_model) IS
    'Whether the Nelder-Mead minimiser met its tolerance within its 2000 evaluations (as forecast::ets''s fit$convergence = 0).';
CREATE FUNCTION iterations(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_evaluations' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION iterations(ets_model) IS 'Likelihood evaluations of the minimiser for the chosen model.';

-- Forecasts ----------------------------------------------------------------------------

CREATE FUNCTION forecast(model ets_model, horizon integer)
    RETURNS TABLE ("time" timestamptz, point double precision, lo80 double precision,
                   hi80 double precision, lo95 double precision, hi95 double precision)
    AS 'MODULE_PATHNAME', 'ets_forecast_sql' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION forecast(ets_model, integer) IS
    'Forecasts 1 to horizon steps after the last observation: mean and 80 % / 95 % prediction intervals (a date series'' times at midnight in the session time zone).';

-------------------------------------------------------------------------------------------------
-- Issue 16, part 3: personalised intervention recommendations (docs/interventions.md): the rule
-- table cxkpi.intervention_rules (a configuration table like the targets: built-in rows seeded,
-- the user's dumped), the picks computed at refresh (cxkpi.customer_intervention_picks), the
-- views cxkpi.customer_interventions and cxkpi.intervention_summary and their cxkpi_bi names.
-------------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION cxkpi.config_row_upsert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_default bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.is_default THEN
            RETURN NEW;
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN
            UPDATE cxkpi.kpi_definitions SET name = NEW.name, section = NEW.section, unit = NEW.unit,
                   direction = NEW.direction, formula = NEW.formula, source = NEW.source,
                   value_min = NEW.value_min, value_max = NEW.value_max,
                   -- (1.1 columns: a row dumped by 1.0 has none, and keeps the built-in display)
                   sort_order = coalesce(NEW.sort_order, kpi_definitions.sort_order),
                   decimals = coalesce(NEW.decimals, kpi_definitions.decimals), is_default = false
             WHERE kpi = NEW.kpi AND is_default;
        ELSIF TG_TABLE_NAME = 'kpi_targets' THEN
            UPDATE cxkpi.kpi_targets SET target = NEW.target, red_threshold = NEW.red_threshold,
                   yellow_threshold = NEW.yellow_threshold, min_sample_size = NEW.min_sample_size,
                   recovery_margin = NEW.recovery_margin, enabled = NEW.enabled, is_default = false
             WHERE kpi = NEW.kpi AND dimension = NEW.dimension AND valid_from = NEW.valid_from AND is_default;
        ELSIF TG_TABLE_NAME = 'intervention_rules' THEN
            UPDATE cxkpi.intervention_rules SET priority = NEW.priority, intervention = NEW.intervention,
                   description = NEW.description, churn_risk = NEW.churn_risk, gone = NEW.gone,
                   min_value_at_stake = NEW.min_value_at_stake, min_historic_value = NEW.min_historic_value,
                   nps_group = NEW.nps_group, nps_within_days = NEW.nps_within_days, open_ticket = NEW.open_ticket,
                   abandoned_cart_within_days = NEW.abandoned_cart_within_days, min_return_rate = NEW.min_return_rate,
                   lapsed_loyalty = NEW.lapsed_loyalty, enabled = NEW.enabled, is_default = false
             WHERE rule = NEW.rule AND is_default;
        ELSE
            UPDATE cxkpi.settings SET value = NEW.value, description = NEW.description, is_default = false
             WHERE key = NEW.key AND is_default;
        END IF;
        GET DIAGNOSTICS found_default = ROW_COUNT;
        IF found_default > 0 THEN
            RETURN NULL;        -- the built-in row now holds the user's values
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: NEW.source exists only there
            IF NEW.source = 'builtin' THEN
                RAISE EXCEPTION 'KPI "%" cannot have source builtin', NEW.kpi
                    USING ERRCODE = 'check_violation',
                          HINT = 'Built-in KPIs are the ones cxkpi computes; add your own with source metric_observations.';
            END IF;
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: OLD.source exists only there
            IF OLD.source = 'builtin' AND (NEW.kpi <> OLD.kpi OR NEW.source <> OLD.source) THEN
                RAISE EXCEPTION 'cannot change the key or the source of built-in KPI "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'The rollups compute built-in KPIs by their key; edit the name, unit, direction or formula text instead.';
            END IF;
        END IF;
        -- nor the key of a built-in target: a restore would seed the original key again
        IF TG_TABLE_NAME = 'kpi_targets' THEN
            IF OLD.is_default AND (NEW.kpi, NEW.dimension, NEW.valid_from) IS DISTINCT FROM (OLD.kpi, OLD.dimension, OLD.valid_from) THEN
                RAISE EXCEPTION 'cannot change the key (kpi, dimension, valid_from) of a built-in target of "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a new target row with its dimension or valid_from, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF TG_TABLE_NAME = 'intervention_rules' THEN
            IF OLD.is_default AND NEW.rule IS DISTINCT FROM OLD.rule THEN
                RAISE EXCEPTION 'cannot rename the built-in intervention rule "%"', OLD.rule
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a rule of your own, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF OLD.is_default AND NEW.is_default AND TG_TABLE_NAME <> 'settings' THEN
            NEW.is_default := false;
        END IF;
        RETURN NEW;
    ELSE
        IF OLD.is_default THEN
            RAISE EXCEPTION 'cannot delete a built-in row of cxkpi.%', TG_TABLE_NAME
                USING ERRCODE = 'object_in_use',
                      HINT = CASE TG_TABLE_NAME WHEN 'kpi_targets'
                                  THEN 'Set enabled = false to switch a built-in target off.'
                                  WHEN 'intervention_rules'
                                  THEN 'Set enabled = false to switch a built-in rule off.'
                                  ELSE 'Edit it with UPDATE instead.' END;
        END IF;
        RETURN OLD;
    END IF;
END $$;

-- The rules.  A NULL condition is "any"; a rule with no condition at all matches everyone and is
-- refused.  Built-in rows (is_default) are seeded below; edit them with UPDATE (they are then
-- dumped), switch them off with enabled = false, add your own with INSERT.
CREATE TABLE cxkpi.intervention_rules (
    rule                       text PRIMARY KEY CHECK (rule ~ '^[a-z][a-z0-9_]*$'),
    priority                   integer NOT NULL CHECK (priority > 0),
    intervention               text NOT NULL CHECK (intervention <> ''),
    description                text,
    churn_risk                 text[] CHECK (churn_risk <@ ARRAY['low', 'medium', 'high'] AND cardinality(churn_risk) > 0),
    gone                       boolean,
    min_value_at_stake         double precision CHECK (min_value_at_stake >= 0),
    min_historic_value         double precision CHECK (min_historic_value >= 0),
    nps_group                  text CHECK (nps_group IN ('detractor', 'passive', 'promoter')),
    nps_within_days            integer CHECK (nps_within_days > 0),
    open_ticket                boolean,
    abandoned_cart_within_days integer CHECK (abandoned_cart_within_days > 0),
    min_return_rate            double precision CHECK (min_return_rate > 0 AND min_return_rate <= 100),
    lapsed_loyalty             boolean,
    enabled                    boolean NOT NULL DEFAULT true,
    is_default                 boolean NOT NULL DEFAULT false,
    CONSTRAINT intervention_rules_condition CHECK (
        num_nonnulls(churn_risk, gone, min_value_at_stake, min_historic_value, nps_group, open_ticket,
                     abandoned_cart_within_days, min_return_rate, lapsed_loyalty) > 0),
    CONSTRAINT intervention_rules_nps_within CHECK (nps_within_days IS NULL OR nps_group IS NOT NULL)
);
COMMENT ON TABLE cxkpi.intervention_rules IS
    'Intervention rules: a customer gets the enabled rule of lowest priority (then rule name) whose conditions all hold (NULL = any), computed at each refresh into cxkpi.customer_interventions.';
COMMENT ON COLUMN cxkpi.intervention_rules.rule IS 'Key of the rule (lower-case identifier).';
COMMENT ON COLUMN cxkpi.intervention_rules.priority IS 'Order in which rules are tried, 1 first; ties by rule.';
COMMENT ON COLUMN cxkpi.intervention_rules.intervention IS 'What to do, as the CX team reads it.';
COMMENT ON COLUMN cxkpi.intervention_rules.description IS 'Why and how, for the people who act on it.';
COMMENT ON COLUMN cxkpi.intervention_rules.churn_risk IS 'The customer''s churn risk over 13 weeks is one of these (low, medium, high).';
COMMENT ON COLUMN cxkpi.intervention_rules.gone IS 'The model considers the customer gone (true) or not (false): P(alive) below the setting gone_p_alive.';
COMMENT ON COLUMN cxkpi.intervention_rules.min_value_at_stake IS 'Value at stake over 52 weeks (CLV if kept - CLV expected now) at least this.';
COMMENT ON COLUMN cxkpi.intervention_rules.min_historic_value IS 'Net value of all orders up to as_of at least this.';
COMMENT ON COLUMN cxkpi.intervention_rules.nps_group IS 'The customer''s last NPS answer is of this group (detractor 0-6, passive 7-8, promoter 9-10).';
COMMENT ON COLUMN cxkpi.intervention_rules.nps_within_days IS 'and was given at most this many days before as_of.';
COMMENT ON COLUMN cxkpi.intervention_rules.open_ticket IS 'The customer has an open ticket (not resolved by as_of) or one reopened in the last 30 days (true), or neither (false).';
COMMENT ON COLUMN cxkpi.intervention_rules.abandoned_cart_within_days IS 'An abandoned cart, neither converted nor recovered, in the last this many days.';
COMMENT ON COLUMN cxkpi.intervention_rules.min_return_rate IS 'At least this percentage of the customer''s orders had a return (customers with 3 orders or more).';
COMMENT ON COLUMN cxkpi.intervention_rules.lapsed_loyalty IS 'A loyalty member without an order or programme activity in the last loyalty_active_days days (true), or an active one (false).';
COMMENT ON COLUMN cxkpi.intervention_rules.enabled IS 'false switches the rule off.';
COMMENT ON COLUMN cxkpi.intervention_rules.is_default IS 'A built-in rule of cxkpi (not dumped unless edited).';

-- Built-in rules may be edited or switched off but not renamed or deleted (a restore would seed
-- them again); the generic handling of built-in configuration rows is cxkpi.config_row_upsert.
CREATE TRIGGER intervention_rules_upsert BEFORE INSERT OR UPDATE OR DELETE ON cxkpi.intervention_rules
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();

INSERT INTO cxkpi.intervention_rules (rule, priority, intervention, description, churn_risk, gone, min_value_at_stake,
                                      nps_group, nps_within_days, open_ticket, abandoned_cart_within_days,
                                      min_return_rate, lapsed_loyalty, is_default) VALUES
    ('service_recovery_call', 10, 'Service-recovery call',
     'A valuable customer who said they would not recommend us and has a ticket open: a senior agent calls, resolves the ticket and follows up.',
     NULL, false, 100, 'detractor', 180, true, NULL, NULL, NULL, true),
    ('win_back_offer', 20, 'Win-back offer',
     'A valuable customer slipping away (high churn risk, much value still at stake): a personal offer before they are gone.',
     '{high}', false, 200, NULL, NULL, NULL, NULL, NULL, NULL, true),
    ('detractor_follow_up', 30, 'Detractor follow-up',
     'A recent detractor: ask what went wrong and close the loop.',
     NULL, false, NULL, 'detractor', 90, NULL, NULL, NULL, NULL, true),
    ('cart_reminder', 40, 'Cart reminder',
     'A cart abandoned in the last week, neither converted nor recovered: a reminder with the items.',
     NULL, NULL, NULL, NULL, NULL, NULL, 7, NULL, NULL, true),
    ('returns_advice', 50, 'Size and fit advice',
     'Half or more of the customer''s orders had a return: product advice before the next order.',
     NULL, false, NULL, NULL, NULL, NULL, NULL, 50, NULL, true),
    ('loyalty_reactivation', 60, 'Loyalty re-activation',
     'A loyalty member without an order or programme activity in the active window: points reminder or bonus.',
     NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, true, true),
    ('referral_request', 70, 'Referral or review request',
     'A recent promoter: ask for a referral or a review while the experience is fresh.',
     NULL, false, NULL, 'promoter', 90, NULL, NULL, NULL, NULL, true);
SELECT pg_catalog.pg_extension_config_dump('cxkpi.intervention_rules', 'WHERE NOT is_default');
GRANT SELECT ON cxkpi.intervention_rules TO cxkpi_writer, cxkpi_operator;

-- Every customer's signals as of cxkpi.as_of() and the first matching rule, computed at each
-- refresh (after the customer scores).  Days are counted in the setting time_zone.  The
-- predicted next order date is as_of plus the expected time to the next order of a customer who
-- is still active, E[1/lambda] = (alpha + T) / (r + x - 1) weeks under the BG/NBD posterior of
-- the purchase rate (NULL when r + x <= 1, or for a customer the model considers gone).
CREATE MATERIALIZED VIEW cxkpi.customer_intervention_picks AS
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.as_of() AS as_of, cxkpi.setting('time_zone') AS tz,
           cxkpi.setting('loyalty_active_days')::integer AS loyalty_days),
nps AS (
    SELECT DISTINCT ON (r.customer_id) r.customer_id, r.score, (r.responded_at AT TIME ZONE cfg.tz)::date AS answered_on
    FROM cxkpi.survey_responses AS r, cfg
    WHERE r.survey = 'nps' AND r.customer_id IS NOT NULL AND (r.responded_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
    ORDER BY r.customer_id, r.responded_at DESC, r.response_id DESC),
tickets AS (
    SELECT t.customer_id, count(*) AS open_tickets
    FROM cxkpi.support_tickets AS t, cfg
    WHERE t.customer_id IS NOT NULL AND (t.created_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
      AND (t.resolved_at IS NULL OR (t.resolved_at AT TIME ZONE cfg.tz)::date > cfg.as_of
           OR (t.reopened AND (t.created_at AT TIME ZONE cfg.tz)::date > cfg.as_of - 30))
    GROUP BY t.customer_id),
carts AS (
    SELECT c.customer_id, max((c.abandoned_at AT TIME ZONE cfg.tz)::date) AS last_abandoned_on
    FROM cxkpi.carts AS c, cfg
    WHERE c.customer_id IS NOT NULL AND c.abandoned_at IS NOT NULL AND c.converted_at IS NULL
      AND c.recovered_at IS NULL AND (c.abandoned_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
    GROUP BY c.customer_id),
returns AS (
    SELECT o.customer_id, count(*) AS orders,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cxkpi.order_returns AS x WHERE x.order_id = o.order_id)) AS orders_returned
    FROM cxkpi.orders AS o, cfg
    WHERE (o.ordered_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
    GROUP BY o.customer_id),
loyalty AS (
    SELECT m.customer_id,
           NOT (coalesce(m.last_active_on > cfg.as_of - cfg.loyalty_days AND m.last_active_on <= cfg.as_of, false)
                OR EXISTS (SELECT 1 FROM cxkpi.loyalty_activity AS a
                           WHERE a.customer_id = m.customer_id
                             AND (a.active_at AT TIME ZONE cfg.tz)::date BETWEEN cfg.as_of - cfg.loyalty_days + 1 AND cfg.as_of)
                OR EXISTS (SELECT 1 FROM cxkpi.orders AS o
                           WHERE o.customer_id = m.customer_id
                             AND (o.ordered_at AT TIME ZONE cfg.tz)::date BETWEEN greatest(cfg.as_of - cfg.loyalty_days + 1, m.enrolled_on)
                                                                               AND cfg.as_of)) AS lapsed
    FROM cxkpi.loyalty_members AS m, cfg
    WHERE m.enrolled_on <= cfg.as_of),
sig AS (
    SELECT c.customer_id, cfg.as_of, s.churn_risk_13w, s.p_alive, s.gone, s.value_at_stake_52w_currency,
           s.historic_value_currency,
           n.score AS last_nps_score, n.answered_on AS last_nps_on,
           CASE WHEN n.score <= 6 THEN 'detractor' WHEN n.score <= 8 THEN 'passive' WHEN n.score IS NOT NULL THEN 'promoter' END
               AS nps_group,
           coalesce(t.open_tickets, 0) AS open_tickets, k.last_abandoned_on,
           CASE WHEN r.orders >= 3 THEN 100.0 * r.orders_returned / r.orders END AS return_rate_pct,
           l.lapsed AS lapsed_loyalty,
           CASE WHEN NOT s.gone AND p.r + s.repeat_purchase_days > 1
                THEN cfg.as_of + round(7 * (p.alpha + s.age_weeks) / (p.r + s.repeat_purchase_days - 1))::integer END
               AS predicted_next_order
    FROM cxkpi.customers AS c
    CROSS JOIN cfg
    LEFT JOIN cxkpi.customer_scores AS s USING (customer_id)
    LEFT JOIN cxkpi.clv_models AS m ON true
    LEFT JOIN LATERAL @extschema@.bgnbd_params(m.bgnbd) AS p ON true
    LEFT JOIN nps AS n USING (customer_id)
    LEFT JOIN tickets AS t USING (customer_id)
    LEFT JOIN carts AS k USING (customer_id)
    LEFT JOIN returns AS r USING (customer_id)
    LEFT JOIN loyalty AS l USING (customer_id))
SELECT sig.customer_id, sig.as_of, ir.rule, ir.intervention, ir.priority,
       array_remove(ARRAY[
           CASE WHEN ir.churn_risk IS NOT NULL THEN 'churn risk ' || sig.churn_risk_13w END,
           CASE WHEN ir.gone IS NOT NULL THEN CASE WHEN sig.gone THEN 'gone' ELSE 'not gone' END END,
           CASE WHEN ir.min_value_at_stake IS NOT NULL THEN 'value at stake ' || round(sig.value_at_stake_52w_currency::numeric, 2) END,
           CASE WHEN ir.min_historic_value IS NOT NULL THEN 'spend to date ' || round(sig.historic_value_currency, 2) END,
           CASE WHEN ir.nps_group IS NOT NULL THEN 'NPS ' || sig.last_nps_score || ' on ' || sig.last_nps_on END,
           CASE WHEN ir.open_ticket THEN sig.open_tickets || ' open ticket' || CASE WHEN sig.open_tickets > 1 THEN 's' ELSE '' END
                WHEN ir.open_ticket = false THEN 'no open ticket' END,
           CASE WHEN ir.abandoned_cart_within_days IS NOT NULL THEN 'cart abandoned on ' || sig.last_abandoned_on END,
           CASE WHEN ir.min_return_rate IS NOT NULL THEN 'returns on ' || round(sig.return_rate_pct, 1) || ' % of orders' END,
           CASE WHEN ir.lapsed_loyalty THEN 'lapsed loyalty member' WHEN ir.lapsed_loyalty = false THEN 'active loyalty member' END],
           NULL) AS reasons,
       sig.churn_risk_13w, sig.p_alive, sig.value_at_stake_52w_currency, sig.historic_value_currency,
       sig.predicted_next_order, sig.last_nps_score, sig.last_nps_on, sig.open_tickets, sig.last_abandoned_on,
       sig.return_rate_pct, sig.lapsed_loyalty
FROM sig
JOIN LATERAL (
    SELECT r.* FROM cxkpi.intervention_rules AS r
    WHERE r.enabled
      AND (r.churn_risk IS NULL OR sig.churn_risk_13w = ANY (r.churn_risk))
      AND (r.gone IS NULL OR sig.gone = r.gone)
      AND (r.min_value_at_stake IS NULL OR sig.value_at_stake_52w_currency >= r.min_value_at_stake)
      AND (r.min_historic_value IS NULL OR sig.historic_value_currency >= r.min_historic_value)
      AND (r.nps_group IS NULL OR (sig.nps_group = r.nps_group
                                   AND (r.nps_within_days IS NULL OR sig.last_nps_on > sig.as_of - r.nps_within_days)))
      AND (r.open_ticket IS NULL OR (sig.open_tickets > 0) = r.open_ticket)
      AND (r.abandoned_cart_within_days IS NULL OR sig.last_abandoned_on > sig.as_of - r.abandoned_cart_within_days)
      AND (r.min_return_rate IS NULL OR sig.return_rate_pct >= r.min_return_rate)
      AND (r.lapsed_loyalty IS NULL OR sig.lapsed_loyalty = r.lapsed_loyalty)
    ORDER BY r.priority, r.rule
    LIMIT 1) AS ir ON true;
CREATE UNIQUE INDEX customer_intervention_picks_key ON cxkpi.customer_intervention_picks (customer_id);
CREATE INDEX customer_intervention_picks_rule ON cxkpi.customer_intervention_picks (rule, value_at_stake_52w_currency DESC);
COMMENT ON MATERIALIZED VIEW cxkpi.customer_intervention_picks IS
    'Internal: the recommended intervention of each customer at the last refresh; read it through cxkpi.customer_interventions (cxkpi_bi.customer_interventions).';

-- The recommendations, for reading: one row per customer with a matching rule.
CREATE VIEW cxkpi.customer_interventions AS
SELECT i.customer_id, i.as_of, i.intervention, i.rule, i.priority::bigint AS priority, array_to_string(i.reasons, '; ') AS reasons,
       i.churn_risk_13w, i.p_alive, i.value_at_stake_52w_currency, i.historic_value_currency, i.predicted_next_order,
       i.last_nps_score::bigint AS last_nps_score, i.last_nps_on, i.open_tickets, i.last_abandoned_on, i.return_rate_pct,
       i.lapsed_loyalty
FROM cxkpi.customer_intervention_picks AS i;
COMMENT ON VIEW cxkpi.customer_interventions IS
    'Per customer, the recommended intervention (the first enabled rule of cxkpi.intervention_rules, by priority, whose conditions all hold) and why, with the value at stake and the predicted next order date. As of the last refresh.';
COMMENT ON COLUMN cxkpi.customer_interventions.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.customer_interventions.as_of IS 'Reference date of the signals and scores.';
COMMENT ON COLUMN cxkpi.customer_interventions.intervention IS 'What to do.';
COMMENT ON COLUMN cxkpi.customer_interventions.rule IS 'The rule that chose it.';
COMMENT ON COLUMN cxkpi.customer_interventions.priority IS 'Its priority (1 first).';
COMMENT ON COLUMN cxkpi.customer_interventions.reasons IS 'The signals the rule tested, as the customer has them (reason codes, separated by "; ").';
COMMENT ON COLUMN cxkpi.customer_interventions.churn_risk_13w IS 'low, medium or high probability of no order in the next 13 weeks (NULL without orders).';
COMMENT ON COLUMN cxkpi.customer_interventions.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD).';
COMMENT ON COLUMN cxkpi.customer_interventions.value_at_stake_52w_currency IS 'Value at stake over 52 weeks: CLV if kept - CLV expected now.';
COMMENT ON COLUMN cxkpi.customer_interventions.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.customer_interventions.predicted_next_order IS 'Expected date of the next order if the customer is still active: as_of + (alpha + T) / (r + x - 1) weeks (BG/NBD); NULL for a customer the model considers gone.';
COMMENT ON COLUMN cxkpi.customer_interventions.last_nps_score IS 'Score of the last NPS answer up to as_of.';
COMMENT ON COLUMN cxkpi.customer_interventions.last_nps_on IS 'Day of that answer.';
COMMENT ON COLUMN cxkpi.customer_interventions.open_tickets IS 'Tickets open at as_of, or reopened in the last 30 days.';
COMMENT ON COLUMN cxkpi.customer_interventions.last_abandoned_on IS 'Day of the last abandoned cart neither converted nor recovered.';
COMMENT ON COLUMN cxkpi.customer_interventions.return_rate_pct IS 'Percentage of the customer''s orders with a return (3 orders or more).';
COMMENT ON COLUMN cxkpi.customer_interventions.lapsed_loyalty IS 'A loyalty member without activity in the active window (NULL: not a member).';
GRANT SELECT ON cxkpi.customer_interventions TO cxkpi_reader;

-- For the manager: customers and value per intervention.
CREATE VIEW cxkpi.intervention_summary AS
SELECT r.priority::bigint AS priority, r.rule, r.intervention, count(i.customer_id) AS customers,
       coalesce(sum(i.value_at_stake_52w_currency), 0) AS value_at_stake_52w_currency,
       coalesce(sum(i.historic_value_currency), 0) AS historic_value_currency, max(i.as_of) AS as_of
FROM cxkpi.intervention_rules AS r
LEFT JOIN cxkpi.customer_intervention_picks AS i ON i.rule = r.rule
WHERE r.enabled
GROUP BY r.priority, r.rule, r.intervention;
COMMENT ON VIEW cxkpi.intervention_summary IS
    'Per enabled intervention rule: the customers it is recommended for at the last refresh and their value at stake and spend to date.';
COMMENT ON COLUMN cxkpi.intervention_summary.priority IS 'Priority of the rule (1 first).';
COMMENT ON COLUMN cxkpi.intervention_summary.rule IS 'The rule.';
COMMENT ON COLUMN cxkpi.intervention_summary.intervention IS 'What to do.';
COMMENT ON COLUMN cxkpi.intervention_summary.customers IS 'Customers for whom it is the recommendation.';
COMMENT ON COLUMN cxkpi.intervention_summary.value_at_stake_52w_currency IS 'Their value at stake over 52 weeks, summed.';
COMMENT ON COLUMN cxkpi.intervention_summary.historic_value_currency IS 'Their spend to date, summed.';
COMMENT ON COLUMN cxkpi.intervention_summary.as_of IS 'Reference date of the last refresh (NULL when no customer has it).';
GRANT SELECT ON cxkpi.intervention_summary TO cxkpi_reader;

-- The same for BI logins (schema cxkpi_bi, docs/bi.md), with the comments of the cxkpi views.
CREATE VIEW cxkpi_bi.customer_interventions AS
SELECT i.customer_id, i.as_of, i.intervention, i.rule, i.priority, i.reasons, i.churn_risk_13w, i.p_alive,
       i.value_at_stake_52w_currency, i.historic_value_currency, i.predicted_next_order, i.last_nps_score, i.last_nps_on,
       i.open_tickets, i.last_abandoned_on, i.return_rate_pct, i.lapsed_loyalty
FROM cxkpi.customer_interventions AS i;
CREATE VIEW cxkpi_bi.intervention_summary AS
SELECT s.priority, s.rule, s.intervention, s.customers, s.value_at_stake_52w_currency, s.historic_value_currency, s.as_of
FROM cxkpi.intervention_summary AS s;
DO $$
DECLARE
    v text;
    r record;
BEGIN
    FOREACH v IN ARRAY ARRAY['customer_interventions', 'intervention_summary'] LOOP
        EXECUTE format('COMMENT ON VIEW cxkpi_bi.%I IS %L', v, obj_description(format('cxkpi.%I', v)::regclass, 'pg_class'));
        FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS d FROM pg_attribute AS a
                 WHERE a.attrelid = format('cxkpi.%I', v)::regclass AND a.attnum > 0 LOOP
            EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', v, r.attname, r.d);
        END LOOP;
    END LOOP;
END $$;
GRANT SELECT ON cxkpi_bi.customer_interventions, cxkpi_bi.intervention_summary TO cxkpi_reader;




-------------------------------------------------------------------------------------------------
-- Issue 14, stage 1: incremental dashboard (docs/architecture.md): change capture into
-- cxkpi.change_log, the daily rollups and cxkpi.kpi_values become tables (same names, columns,
-- keys and comments) maintained day by day by cxkpi.refresh_dashboard() from one KPI engine
-- (cxkpi.kpi_engine); cxkpi.rebuild_dashboard() rebuilds everything.  The matviews are dropped
-- with the views on them, which are created again as they were (owner, privileges, comments);
-- the new tables are filled by a rebuild at the end of the update.
-------------------------------------------------------------------------------------------------
SELECT pg_catalog.set_config('cxkpi.upgrade_saved', cxkpi.upgrade_save_relations(
    '{cxkpi.daily_surveys, cxkpi.daily_orders, cxkpi.daily_customer_activity, cxkpi.daily_conversion, cxkpi.daily_carts,
      cxkpi.daily_tickets, cxkpi.daily_loyalty, cxkpi.daily_app_ratings, cxkpi.daily_observations,
      cxkpi.daily_return_events, cxkpi.daily_acquisition, cxkpi.kpi_values}')::text, true);
DROP MATERIALIZED VIEW cxkpi.kpi_values CASCADE;
DROP MATERIALIZED VIEW cxkpi.daily_surveys, cxkpi.daily_orders, cxkpi.daily_customer_activity, cxkpi.daily_conversion,
    cxkpi.daily_carts, cxkpi.daily_tickets, cxkpi.daily_loyalty, cxkpi.daily_app_ratings, cxkpi.daily_observations,
    cxkpi.daily_return_events, cxkpi.daily_acquisition;

-------------------------------------------------------------------------------------------------
-- Change capture (docs/architecture.md#1-change-capture-writers-append-never-update)
-------------------------------------------------------------------------------------------------

-- Writers only append (no unique index, no row ever updated): concurrent writers never wait on
-- each other or on the refresh.  The refresh deletes the rows it consumed.
CREATE TABLE cxkpi.change_log (
    fact      text NOT NULL,
    bucket    date,
    logged_at timestamptz NOT NULL DEFAULT statement_timestamp()
);
COMMENT ON TABLE cxkpi.change_log IS
    'Internal: the day buckets (in setting time_zone) of the facts changed since the last refresh, one row per fact table and day a statement touched (bucket NULL: the whole table, after TRUNCATE; fact orders_first: a day whose first-order flags may have changed); appended by the fact tables'' triggers, consumed by CALL cxkpi.refresh_dashboard().';
COMMENT ON COLUMN cxkpi.change_log.fact IS 'The fact table whose rollup rows of that day are to be recomputed.';
COMMENT ON COLUMN cxkpi.change_log.bucket IS 'The day (in setting time_zone); NULL for every day (TRUNCATE).';
COMMENT ON COLUMN cxkpi.change_log.logged_at IS 'When the statement that changed the facts started.';

-- What the refresh knows of the rollups: the settings they were built with (a change of them
-- forces a full rebuild) and when they were rebuilt and refreshed.  One row, written by the
-- refresh only; not dumped, so that the first refresh after a restore rebuilds everything.
CREATE TABLE cxkpi.dashboard_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    settings     jsonb NOT NULL,
    rebuilt_at   timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL,
    models_refreshed_at timestamptz,
    models_stale boolean NOT NULL DEFAULT false,
    models_settings jsonb
);
COMMENT ON TABLE cxkpi.dashboard_state IS
    'Internal: the settings the rollups were built with (time_zone, confidence, csat_scale, ces_scale, retention_active_window, loyalty_active_days) and when they were last rebuilt and refreshed; a change of those settings makes the next refresh a full rebuild. models_refreshed_at: when the customer models were last refitted; models_stale: facts changed since (setting customer_models_interval); models_settings: the settings and rules they were fitted with (a change refits them at the next refresh).';

-- The settings the rollups and cxkpi.kpi_values depend on.
CREATE FUNCTION cxkpi.dashboard_settings() RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_object_agg(s.key, s.value) FROM cxkpi.settings AS s
    WHERE s.key IN ('time_zone', 'confidence', 'csat_scale', 'ces_scale', 'retention_active_window', 'loyalty_active_days') $$;
COMMENT ON FUNCTION cxkpi.dashboard_settings() IS
    'Internal: the settings the dashboard rollups are built with, as a jsonb object.';

-- The statement trigger of every fact table (INSERT, UPDATE, DELETE with transition tables, and
-- TRUNCATE): one change_log row per distinct (fact, day) the statement touched, the old rows' days
-- and the new rows' days.  Dependencies between facts are logged as buckets too:
--   orders: an UPDATE logs the request days of the orders' returns (days to return).  The
--     first-order flag and segment depend on the customer's other orders: the refresh finds the
--     flags that moved by comparing each touched customer's first order with the one it recorded
--     (cxkpi.customer_first_orders; dashboard_maintain, step 2), so writers log nothing for them;
--   order_returns: the day of the returned order (the order-date return summary);
--   loyalty_members: the days of the member's orders and programme activities (segment and
--     activity count from the enrolment day on).
-- SECURITY DEFINER: a writer needs no privilege on cxkpi.change_log.  The log carries bucket keys
-- only, never values: the refresh recomputes every dirty day from the facts.  EXECUTE is revoked
-- from PUBLIC (no one attaches it to a table of their own) and it refuses to run as anything but
-- the AFTER statement trigger of a cxkpi fact table (docs/security.md).
CREATE FUNCTION cxkpi.change_capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- read here rather than through cxkpi.setting(): a static query keeps its plan, and this
    -- runs for every statement of every writer
    tz text := (SELECT s.value FROM cxkpi.settings AS s WHERE s.key = 'time_zone');
    src text := CASE TG_OP WHEN 'INSERT' THEN 'new_rows' WHEN 'DELETE' THEN 'old_rows'
                           ELSE '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)' END;
    day_sql text;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.change_capture_tables())
       OR TG_RELID <> format('cxkpi.%I', TG_TABLE_NAME)::regclass THEN
        RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO cxkpi.change_log (fact, bucket) VALUES (TG_TABLE_NAME, NULL);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- Writers' hot path: one static statement per table (planned once per session, where
        -- the dynamic statement below is parsed and planned at every call: twice the cost of a
        -- one-row insert).  The day of each row as in the UPDATE and DELETE case below.
        IF TG_TABLE_NAME = 'survey_responses' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'survey_responses', x.d FROM (SELECT (r.responded_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'orders' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'orders', x.d FROM (SELECT (r.ordered_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_returns' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_returns', x.d FROM (SELECT (r.requested_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'web_sessions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'web_sessions', x.d FROM (SELECT (r.started_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'store_traffic' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'store_traffic', x.d FROM (SELECT r.visit_date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'carts' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'carts', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'support_tickets' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'support_tickets', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'app_ratings' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'app_ratings', x.d FROM (SELECT (r.rated_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'metric_observations' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'metric_observations', x.d FROM (SELECT (r.observed_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_activity' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_activity', x.d FROM (SELECT (r.active_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'customers' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'customers', r.acquired_on FROM new_rows AS r WHERE r.acquired_on IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_members', d.d FROM new_rows AS r, unnest(ARRAY[r.enrolled_on, r.last_active_on]) AS d(d)
            WHERE d.d IS NOT NULL;
        END IF;
    ELSE
        day_sql := CASE TG_TABLE_NAME
            WHEN 'survey_responses' THEN '(r.responded_at AT TIME ZONE $1)::date'
            WHEN 'orders' THEN '(r.ordered_at AT TIME ZONE $1)::date'
            WHEN 'order_returns' THEN '(r.requested_at AT TIME ZONE $1)::date'
            WHEN 'web_sessions' THEN '(r.started_at AT TIME ZONE $1)::date'
            WHEN 'store_traffic' THEN 'r.visit_date'
            WHEN 'carts' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'support_tickets' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'app_ratings' THEN '(r.rated_at AT TIME ZONE $1)::date'
            WHEN 'metric_observations' THEN '(r.observed_at AT TIME ZONE $1)::date'
            WHEN 'loyalty_activity' THEN '(r.active_at AT TIME ZONE $1)::date'
            WHEN 'customers' THEN 'r.acquired_on'
            WHEN 'loyalty_members' THEN 'unnest(ARRAY[r.enrolled_on, r.last_active_on])'
        END;
        IF day_sql IS NULL THEN
            RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket) SELECT DISTINCT %L, d FROM (SELECT %s AS d FROM %s AS r) AS x '
                       'WHERE d IS NOT NULL', TG_TABLE_NAME, day_sql, src) USING tz;
    END IF;
    IF TG_TABLE_NAME = 'orders' AND TG_OP = 'UPDATE' THEN
        -- UPDATE: the request days of the orders' returns (days to return)
        INSERT INTO cxkpi.change_log (fact, bucket)
        SELECT DISTINCT 'order_returns', (r.requested_at AT TIME ZONE tz)::date
        FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT n.order_id FROM new_rows AS n);
    ELSIF TG_TABLE_NAME = 'order_returns' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.order_id IN (SELECT r.order_id FROM %s AS r)', src) USING tz;
    ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.customer_id IN (SELECT r.customer_id FROM %1$s AS r)
                        UNION
                        SELECT DISTINCT ''loyalty_activity'', (a.active_at AT TIME ZONE $1)::date
                        FROM cxkpi.loyalty_activity AS a WHERE a.customer_id IN (SELECT r.customer_id FROM %1$s AS r)', src)
        USING tz;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.change_capture() IS
    'Internal: statement trigger of the fact tables; appends the day buckets a statement touched (and those that depend on them) to cxkpi.change_log.';
REVOKE ALL ON FUNCTION cxkpi.change_capture() FROM PUBLIC;

-- The fact tables the daily rollups read.
CREATE FUNCTION cxkpi.change_capture_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['survey_responses', 'orders', 'order_returns', 'web_sessions', 'store_traffic', 'carts',
                 'support_tickets', 'app_ratings', 'metric_observations', 'loyalty_members', 'loyalty_activity',
                 'customers'];
COMMENT ON FUNCTION cxkpi.change_capture_tables() IS 'Internal: the fact tables whose changes cxkpi.change_log records.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY cxkpi.change_capture_tables() LOOP
        EXECUTE format('CREATE TRIGGER change_capture_insert AFTER INSERT ON cxkpi.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_update AFTER UPDATE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_delete AFTER DELETE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_truncate AFTER TRUNCATE ON cxkpi.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
    END LOOP;
END $$;

-- The day of each fact, for the refresh's range scans of one or a few days.
CREATE INDEX survey_responses_responded_at_idx ON cxkpi.survey_responses (responded_at);
CREATE INDEX orders_ordered_at_idx ON cxkpi.orders (ordered_at);
CREATE INDEX order_returns_requested_at_idx ON cxkpi.order_returns (requested_at);
CREATE INDEX web_sessions_started_at_idx ON cxkpi.web_sessions (started_at);
CREATE INDEX store_traffic_visit_date_idx ON cxkpi.store_traffic (visit_date);
CREATE INDEX carts_created_at_idx ON cxkpi.carts (created_at);
CREATE INDEX support_tickets_created_at_idx ON cxkpi.support_tickets (created_at);
CREATE INDEX app_ratings_rated_at_idx ON cxkpi.app_ratings (rated_at);
CREATE INDEX metric_observations_observed_at_idx ON cxkpi.metric_observations (observed_at);
CREATE INDEX loyalty_activity_active_at_idx ON cxkpi.loyalty_activity (active_at);
CREATE INDEX loyalty_members_enrolled_on_idx ON cxkpi.loyalty_members (enrolled_on);
CREATE INDEX loyalty_members_last_active_on_idx ON cxkpi.loyalty_members (last_active_on);
CREATE INDEX customers_acquired_on_idx ON cxkpi.customers (acquired_on);

-- The referencing columns of the foreign keys that had no index: deleting an order or a customer
-- (a cancelled order, an erasure request) checks each referencing table by index instead of
-- scanning it once per deleted row (1,000 deleted orders took 2.4 s at sample scale 1, and grow
-- with the table).  Partial: anonymous rows (no customer, no order) are never looked up.
CREATE INDEX survey_responses_order_idx ON cxkpi.survey_responses (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX survey_responses_customer_idx ON cxkpi.survey_responses (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX web_sessions_customer_idx ON cxkpi.web_sessions (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX carts_customer_idx ON cxkpi.carts (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX support_tickets_customer_idx ON cxkpi.support_tickets (customer_id) WHERE customer_id IS NOT NULL;

-------------------------------------------------------------------------------------------------
-- Daily rollups: a table each, and the function that computes its rows of a range of days
-------------------------------------------------------------------------------------------------

-- Survey answers per day, survey, touchpoint channel and scale.
CREATE TABLE cxkpi.daily_surveys (day date, survey text, channel text, scale integer, responses bigint,
    nps @extschema@.nps_summary, csat @extschema@.csat_summary, ces @extschema@.ces_summary);
CREATE UNIQUE INDEX daily_surveys_key ON cxkpi.daily_surveys (day, survey, channel, scale);
CREATE FUNCTION cxkpi.rollup_daily_surveys(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_surveys
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (r.responded_at AT TIME ZONE tz)::date AS day, r.survey, r.channel, r.scale,
       count(*) AS responses,
       @extschema@.nps_agg(r.score) FILTER (WHERE r.survey = 'nps') AS nps,
       @extschema@.csat_agg(r.score, r.scale) FILTER (WHERE r.survey = 'csat') AS csat,
       @extschema@.ces_agg(r.score, r.scale) FILTER (WHERE r.survey = 'ces') AS ces
FROM cxkpi.survey_responses AS r
WHERE r.responded_at >= (first_day::timestamp AT TIME ZONE tz) AND r.responded_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3, 4 $$;

-- Orders per day, channel, segment and first/later order, with a return_summary (order-date
-- basis: a return counts in its order's day).  Segment: loyalty when the customer was enrolled
-- by the order day, else new for the customer's first order, else returning.
CREATE TABLE cxkpi.daily_orders (day date, channel text, segment text, first_order boolean, orders bigint,
    items bigint, gross_value numeric, discount numeric, net_value numeric, returns @extschema@.return_summary);
CREATE UNIQUE INDEX daily_orders_key ON cxkpi.daily_orders (day, channel, segment, first_order);
CREATE FUNCTION cxkpi.rollup_daily_orders(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_orders
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH o AS (
    SELECT o.order_id, o.customer_id, o.channel, o.items, o.gross_value, o.discount,
           (o.ordered_at AT TIME ZONE tz)::date AS day,
           NOT EXISTS (SELECT 1 FROM cxkpi.orders AS p
                       WHERE p.customer_id = o.customer_id AND p.ordered_at <= o.ordered_at
                         AND (p.ordered_at < o.ordered_at OR p.order_id < o.order_id)) AS first_order
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)),
ret AS (
    SELECT r.order_id, sum(r.items_returned)::integer AS items_returned, sum(r.value_returned) AS value_returned
    FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT o.order_id FROM o) GROUP BY r.order_id)
SELECT o.day, o.channel,
       CASE WHEN m.enrolled_on <= o.day THEN 'loyalty' WHEN o.first_order THEN 'new' ELSE 'returning' END AS segment,
       o.first_order,
       count(*) AS orders, sum(o.items) AS items, sum(o.gross_value) AS gross_value,
       sum(o.discount) AS discount, sum(o.gross_value - o.discount) AS net_value,
       @extschema@.return_agg(o.items, coalesce(r.items_returned, 0), o.gross_value - o.discount,
                              coalesce(r.value_returned, 0)) AS returns
FROM o LEFT JOIN ret AS r USING (order_id) LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)
GROUP BY 1, 2, 3, 4 $$;

-- Ordering customers per day, as retention summaries: by day (distinct and repeat customers of
-- any period) and by week, month, quarter and year (retention of each grain).
CREATE TABLE cxkpi.daily_customer_activity (day date, orders bigint, by_day @extschema@.retention_summary,
    by_week @extschema@.retention_summary, by_month @extschema@.retention_summary,
    by_quarter @extschema@.retention_summary, by_year @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_customer_activity_key ON cxkpi.daily_customer_activity (day);
CREATE FUNCTION cxkpi.rollup_daily_customer_activity(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_customer_activity LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (o.ordered_at AT TIME ZONE tz)::date AS day, count(*) AS orders,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'day') AS by_day,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'week') AS by_week,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'month') AS by_month,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'quarter') AS by_quarter,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'year') AS by_year
FROM cxkpi.orders AS o
WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1 $$;

-- Visits and conversions per day and device: web and app sessions, and stores (visitors from
-- the footfall counters, conversions = store orders).
CREATE TABLE cxkpi.daily_conversion (day date, device text, visits bigint, added_to_cart bigint,
    reached_checkout bigint, conversions bigint);
CREATE UNIQUE INDEX daily_conversion_key ON cxkpi.daily_conversion (day, device);
CREATE FUNCTION cxkpi.rollup_daily_conversion(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_conversion
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT day, device, sum(visits)::bigint AS visits, sum(added_to_cart)::bigint AS added_to_cart,
       sum(reached_checkout)::bigint AS reached_checkout, sum(conversions)::bigint AS conversions
FROM (SELECT (s.started_at AT TIME ZONE tz)::date AS day, s.device, count(*) AS visits,
             count(*) FILTER (WHERE s.added_to_cart) AS added_to_cart,
             count(*) FILTER (WHERE s.reached_checkout) AS reached_checkout,
             count(*) FILTER (WHERE s.converted) AS conversions
      FROM cxkpi.web_sessions AS s
      WHERE s.started_at >= (first_day::timestamp AT TIME ZONE tz) AND s.started_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      GROUP BY 1, 2
      UNION ALL
      SELECT t.visit_date, 'store', sum(t.visitors), 0, 0, 0 FROM cxkpi.store_traffic AS t
      WHERE t.visit_date BETWEEN first_day AND last_day GROUP BY 1
      UNION ALL
      SELECT (o.ordered_at AT TIME ZONE tz)::date, 'store', 0, 0, 0, count(*)
      FROM cxkpi.orders AS o
      WHERE o.channel = 'store'
        AND o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      GROUP BY 1) AS u
GROUP BY 1, 2 $$;

-- Carts per creation day and device (cohort of the creation day).
CREATE TABLE cxkpi.daily_carts (day date, device text, carts bigint, converted bigint, abandoned bigint, recovered bigint);
CREATE UNIQUE INDEX daily_carts_key ON cxkpi.daily_carts (day, device);
CREATE FUNCTION cxkpi.rollup_daily_carts(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_carts
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (k.created_at AT TIME ZONE tz)::date AS day, k.device, count(*) AS carts,
       count(*) FILTER (WHERE k.converted_at IS NOT NULL) AS converted,
       count(*) FILTER (WHERE k.converted_at IS NULL) AS abandoned,
       count(*) FILTER (WHERE k.recovered_at IS NOT NULL) AS recovered
FROM cxkpi.carts AS k
WHERE k.created_at >= (first_day::timestamp AT TIME ZONE tz) AND k.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;

-- Tickets per creation day and channel (cohort of the creation day).  First response times
-- are kept exactly, as a sorted array of hours, because medians and percentiles do not merge.
CREATE TABLE cxkpi.daily_tickets (day date, channel text, tickets bigint, responded bigint,
    response_hours_sum double precision, response_hours double precision[], resolved bigint,
    first_contact_resolved bigint);
CREATE UNIQUE INDEX daily_tickets_key ON cxkpi.daily_tickets (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_tickets(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_tickets
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.created_at AT TIME ZONE tz)::date AS day, t.channel, count(*) AS tickets,
       count(t.first_response_at) AS responded,
       coalesce(sum(extract(epoch FROM t.first_response_at - t.created_at) / 3600), 0)::double precision
           AS response_hours_sum,
       coalesce(array_agg(extract(epoch FROM t.first_response_at - t.created_at)::double precision / 3600
                          ORDER BY t.first_response_at - t.created_at)
                    FILTER (WHERE t.first_response_at IS NOT NULL), '{}') AS response_hours,
       count(t.resolved_at) AS resolved,
       count(*) FILTER (WHERE t.resolved_at IS NOT NULL AND t.contacts_to_resolve = 1 AND NOT t.reopened)
           AS first_contact_resolved
FROM cxkpi.support_tickets AS t
WHERE t.created_at >= (first_day::timestamp AT TIME ZONE tz) AND t.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;

-- Loyalty: enrolments per day, and member activity per day as a daily retention summary: the
-- orders and the programme activities (cxkpi.loyalty_activity) on or after the enrolment day,
-- and the last known activity date (which counts on its own day only, like any activity).  The
-- active share of a period is computed from the activity of the days up to its end, so every
-- period counts what happened in its own window.
CREATE TABLE cxkpi.daily_loyalty (day date, enrolled bigint, active @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_loyalty_key ON cxkpi.daily_loyalty (day);
CREATE FUNCTION cxkpi.rollup_daily_loyalty(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_loyalty
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH activity AS (
    SELECT o.customer_id, (o.ordered_at AT TIME ZONE tz)::date AS day
    FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m USING (customer_id)
    WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      AND (o.ordered_at AT TIME ZONE tz)::date >= m.enrolled_on
    UNION ALL
    SELECT a.customer_id, (a.active_at AT TIME ZONE tz)::date
    FROM cxkpi.loyalty_activity AS a JOIN cxkpi.loyalty_members AS m USING (customer_id)
    WHERE a.active_at >= (first_day::timestamp AT TIME ZONE tz) AND a.active_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      AND (a.active_at AT TIME ZONE tz)::date >= m.enrolled_on
    UNION ALL
    SELECT m.customer_id, m.last_active_on FROM cxkpi.loyalty_members AS m
    WHERE m.last_active_on BETWEEN first_day AND last_day),
days AS (
    SELECT day, customer_id, 0 AS enrolled FROM activity
    UNION ALL
    SELECT m.enrolled_on, m.customer_id, 1 FROM cxkpi.loyalty_members AS m WHERE m.enrolled_on BETWEEN first_day AND last_day)
SELECT day, sum(enrolled)::bigint AS enrolled,
       @extschema@.retention_agg(customer_id, day, 'day') FILTER (WHERE enrolled = 0) AS active
FROM days GROUP BY day $$;

-- App ratings per day and store, as 5-point CSAT summaries (mean rating and its t interval).
CREATE TABLE cxkpi.daily_app_ratings (day date, app_store text, ratings @extschema@.csat_summary);
CREATE UNIQUE INDEX daily_app_ratings_key ON cxkpi.daily_app_ratings (day, app_store);
CREATE FUNCTION cxkpi.rollup_daily_app_ratings(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_app_ratings
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (a.rated_at AT TIME ZONE tz)::date AS day, a.app_store, @extschema@.csat_agg(a.rating, 5) AS ratings
FROM cxkpi.app_ratings AS a
WHERE a.rated_at >= (first_day::timestamp AT TIME ZONE tz) AND a.rated_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;

-- Observed secondary metrics: weighted sums per day, KPI and dimension.  Floating-point sums are
-- taken as numeric (exact, so independent of the order rows are read in: an incremental refresh
-- gives the bits of a rebuild), here and where the KPI engine adds days up.
CREATE TABLE cxkpi.daily_observations (day date, kpi text, dimension text, observations bigint,
    weighted_sum double precision, weight_sum double precision);
CREATE UNIQUE INDEX daily_observations_key ON cxkpi.daily_observations (day, kpi, dimension);
CREATE FUNCTION cxkpi.rollup_daily_observations(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_observations
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (m.observed_at AT TIME ZONE tz)::date AS day, m.kpi, m.dimension,
       count(*) AS observations, sum((m.value * m.weight)::numeric)::double precision AS weighted_sum,
       sum(m.weight::numeric)::double precision AS weight_sum
FROM cxkpi.metric_observations AS m
WHERE m.observed_at >= (first_day::timestamp AT TIME ZONE tz) AND m.observed_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Return events per request day (return-date basis): merchant-initiated returns and the days
-- from order to return request.
CREATE TABLE cxkpi.daily_return_events (day date, returns bigint, merchant_returns bigint, days_to_return_sum bigint);
CREATE UNIQUE INDEX daily_return_events_key ON cxkpi.daily_return_events (day);
CREATE FUNCTION cxkpi.rollup_daily_return_events(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_return_events LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (r.requested_at AT TIME ZONE tz)::date AS day, count(*) AS returns,
       count(*) FILTER (WHERE r.initiated_by = 'merchant') AS merchant_returns,
       sum((r.requested_at AT TIME ZONE tz)::date - (o.ordered_at AT TIME ZONE tz)::date)::bigint AS days_to_return_sum
FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id)
WHERE r.requested_at >= (first_day::timestamp AT TIME ZONE tz) AND r.requested_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1 $$;

-- Customers acquired per day and acquisition channel, with the acquisition cost.
CREATE TABLE cxkpi.daily_acquisition (day date, acquisition_channel text, new_customers bigint, acquisition_cost numeric);
CREATE UNIQUE INDEX daily_acquisition_key ON cxkpi.daily_acquisition (day, acquisition_channel);
CREATE FUNCTION cxkpi.rollup_daily_acquisition(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_acquisition
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT c.acquired_on AS day, c.acquisition_channel, count(*) AS new_customers, sum(c.acquisition_cost) AS acquisition_cost
FROM cxkpi.customers AS c WHERE c.acquired_on BETWEEN first_day AND last_day GROUP BY 1, 2 $$;

-- Which rollup reads which facts' days (cxkpi.change_log.fact), in the order of the refresh.
CREATE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']) $$;
COMMENT ON FUNCTION cxkpi.dashboard_rollups() IS
    'Internal: the daily rollups in refresh order, with the fact tables (cxkpi.change_log.fact) whose days they read.';

-------------------------------------------------------------------------------------------------
-- The KPI engine (docs/architecture.md#3-one-kpi-engine)
-------------------------------------------------------------------------------------------------

-- Every KPI at every grain (day, ISO week, month, quarter, year) and breakdown, in long format:
-- one row per (grain, period, kpi, breakdown, dimension) with the value, its numerator and
-- denominator (so that BI tools re-aggregate instead of averaging ratios), the sample size and
-- the confidence interval where the KPI has one.  Breakdown 'total' has dimension 'all'.
-- Retention, churn, simple CLV and the active loyalty share are defined for week, month, quarter and
-- year only.  Maintained by cxkpi.refresh_dashboard() from cxkpi.kpi_engine.
CREATE TABLE cxkpi.kpi_values (grain text, period_start date, period_end date, "time" timestamptz, kpi text,
    breakdown text, dimension text, value double precision, numerator double precision, denominator double precision,
    sample_size bigint, ci_lower double precision, ci_upper double precision, previous_value double precision,
    value_year_ago double precision, sample_size_year_ago bigint);
CREATE UNIQUE INDEX kpi_values_key ON cxkpi.kpi_values (grain, period_start, kpi, breakdown, dimension);
CREATE INDEX kpi_values_time ON cxkpi.kpi_values (grain, "time");
CREATE INDEX kpi_values_kpi ON cxkpi.kpi_values (kpi, grain, period_start);
-- For BI filters: one metric (cxkpi.kpi_timeseries.metric, the same expression) over a time range,
-- and one dimension value.
CREATE INDEX kpi_values_metric ON cxkpi.kpi_values
    ((kpi || CASE WHEN breakdown = 'total' THEN '' ELSE ' ' || dimension END), grain, period_start);
CREATE INDEX kpi_values_dimension ON cxkpi.kpi_values (dimension, grain, period_start);

-- The arithmetic of every KPI, written once: the rows of cxkpi.kpi_values of the periods given
-- (grains[i], period_starts[i]: the first day of a period of that grain), computed from the rollup
-- rows of those periods.  The full rebuild passes every period, the incremental refresh the
-- periods its dirty days fall into.  Each value comes with the value of the previous period and
-- of the same period a year earlier (cxkpi.previous_period_start, cxkpi.year_ago_period_start),
-- computed here for those periods too.  What a period reads besides its own days: retention the
-- retention_active_window periods before it, the active loyalty share the loyalty_active_days
-- days up to its end, the loyalty members every enrolment up to its end.
-- enable_mergejoin off: the planner, which has no statistics on the CTEs, would keep the asked
-- periods with a merge semi join that rereads them for every row (30 of 44 s of a rebuild at
-- scale 1); the hash join it takes instead is linear.
CREATE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for, and the previous and year-ago periods of each
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
per AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start, (x.period_start + cxkpi.grain_interval(q.grain))::date - 1 AS period_end
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (q.period_start), (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
act AS (
    SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
    FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric)::double precision AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
tp AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension, count(*) AS responded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.h) AS median_h,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY x.h) AS p90_h
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    CROSS JOIN LATERAL unnest(d.response_hours) AS x(h)
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, 100.0 * conversions / nullif(visits, 0),
           conversions, visits, visits, cxkpi.wilson_ci_lower(conversions, visits, conf),
           cxkpi.wilson_ci_upper(conversions, visits, conf)
    FROM cv, cfg
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, (net_value / nullif(orders, 0))::double precision,
           net_value::double precision, orders, orders, NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, 100.0 * abandoned / nullif(carts, 0),
           abandoned, carts, carts, cxkpi.wilson_ci_lower(abandoned, carts, conf), cxkpi.wilson_ci_upper(abandoned, carts, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, response_hours_sum / nullif(responded, 0),
           response_hours_sum, responded, responded, NULL, NULL
    FROM tk
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', @extschema@.repeat_customer_rate(s),
           round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100),
           @extschema@.customers(s), @extschema@.customers(s),
           cxkpi.wilson_ci_lower(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf),
           cxkpi.wilson_ci_upper(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / @extschema@.customers(s),
           orders, @extschema@.customers(s), @extschema@.customers(s), NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / @extschema@.customers(a.s))
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, @extschema@.customers(a.s), NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per), so the windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg),
ann AS (
    SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
           c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
           CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER series END AS previous_value,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER years END AS value_year_ago,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
    FROM cur AS c
    WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;
COMMENT ON FUNCTION cxkpi.kpi_engine(text[], date[]) IS
    'Internal: the KPI engine, every KPI''s arithmetic written once: the cxkpi.kpi_values rows of the periods given (grains[i], period_starts[i]), from the daily rollups. The full rebuild and the incremental refresh both call it.';

-- Every period of every grain (day, week, month, quarter, year) that contains a day from
-- first_day to last_day.
CREATE FUNCTION cxkpi.periods_between(first_day date, last_day date, OUT grain text, OUT period_start date)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT g.grain, p::date
    FROM (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')) AS g(grain)
    CROSS JOIN LATERAL generate_series(date_trunc(g.grain, first_day::timestamp), last_day::timestamp,
                                       cxkpi.grain_interval(g.grain)) AS p $$;
COMMENT ON FUNCTION cxkpi.periods_between(date, date) IS
    'Internal: every (grain, period_start) of the periods that contain a day from first_day to last_day.';



-- The first and the last day of the rollups.
CREATE FUNCTION cxkpi.dashboard_days(OUT first_day date, OUT last_day date)
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT min(d.first_day), max(d.last_day)
    FROM (SELECT min(day), max(day) FROM cxkpi.daily_surveys UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_orders
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_customer_activity
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_conversion
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_carts UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_tickets
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_loyalty UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_app_ratings
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_observations
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_return_events
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_acquisition) AS d(first_day, last_day) $$;
COMMENT ON FUNCTION cxkpi.dashboard_days() IS 'Internal: the first and the last day of the daily rollups.';

-- The horizons that periods other than their own depend on: the first and the last day with an
-- order (retention reports every period in between), the first day of the loyalty rollup and the
-- data horizon (the loyalty periods run from the one to the other).
CREATE FUNCTION cxkpi.dashboard_horizons() RETURNS date[]
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY[(SELECT min(day) FROM cxkpi.daily_customer_activity), (SELECT max(day) FROM cxkpi.daily_customer_activity),
                 (SELECT min(day) FROM cxkpi.daily_loyalty),
                 greatest((SELECT max(day) FROM cxkpi.daily_loyalty), (SELECT max(day) FROM cxkpi.daily_customer_activity))] $$;
COMMENT ON FUNCTION cxkpi.dashboard_horizons() IS
    'Internal: first and last day of cxkpi.daily_customer_activity, first day of cxkpi.daily_loyalty, and the data horizon.';

-- The work of cxkpi.refresh_dashboard and cxkpi.rebuild_dashboard, in the caller's transaction
-- (readers see all of the old or all of the new figures).  One at a time (an advisory lock; a
-- second call meanwhile returns at once).
--  1. The change-log rows visible now; a full rebuild instead when asked, when the settings the
--     rollups were built with changed, after a TRUNCATE, or when the rollups were never built.
--  2. Dirty days: those logged, and for cxkpi.daily_orders, for each customer with an order on a
--     dirty day, the day of its earliest order on a clean day when a dirty day comes before it.
--     Orders on clean days were not written since the last refresh, so only that one can have
--     gained or lost the first-order flag (a new or moved earlier order, or a deleted or moved
--     first one, before it); this also covers writers of one customer that overlap (a trigger
--     does not see the other's uncommitted order).  Appending a day of orders of known
--     customers dirties no other day.
--  3. Each rollup: its rows of the dirty days deleted and computed again, run by run of days;
--     the days whose rows did change are noted (a first-order flag that stayed, a day of a
--     customer's orders that gave the same rows, dirty no KPI period).
--  4. cxkpi.kpi_values: the rows of the periods the changed days fall into (docs/architecture.md,
--     the table of section 3), of the periods after them and a year after them (their previous
--     and year-ago values), computed again by cxkpi.kpi_engine.
--  5. The customer scores (RFM, CLV models), when orders or customers changed or as_of moved.
--  6. The consumed change-log rows are deleted.
--  jit off: the planner cannot estimate the periods and days of a refresh (a set-returning call
--  counts as 1,000 rows), so their costs reach billions and JIT compiled 71 functions for 2.6 s
--  in a refresh that had nothing to do.
CREATE FUNCTION cxkpi.dashboard_maintain(rebuild_all boolean, concurrently boolean) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' SET jit = off AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    tz text := cxkpi.setting('time_zone');
    fp jsonb := cxkpi.dashboard_settings();
    conc boolean := $2;     -- "concurrently" is a keyword in PL/pgSQL expressions
    st record;
    r record;
    rng record;
    n bigint;
    total bigint;
    h0 date[];
    h1 date[];
    gs text[];
    ps date[];
    customers_changed boolean;
    models_stale boolean;
    mv text;
BEGIN
    IF NOT pg_try_advisory_xact_lock('cxkpi.change_log'::regclass::oid::bigint) THEN
        RAISE NOTICE 'cxkpi: another refresh of the dashboard is running; this call does nothing';
        RETURN;
    END IF;
    IF to_regclass('pg_temp.cxkpi_log') IS NOT NULL THEN
        DROP TABLE pg_temp.cxkpi_log;
    END IF;
    IF to_regclass('pg_temp.cxkpi_dirty') IS NOT NULL THEN
        DROP TABLE pg_temp.cxkpi_dirty, pg_temp.cxkpi_changed, pg_temp.cxkpi_old;
    END IF;
    CREATE TEMP TABLE cxkpi_log ON COMMIT DROP AS SELECT l.ctid AS tid, l.fact, l.bucket FROM cxkpi.change_log AS l;
    SELECT * INTO st FROM cxkpi.dashboard_state;
    IF NOT FOUND OR st.settings IS DISTINCT FROM fp OR EXISTS (SELECT 1 FROM cxkpi_log WHERE bucket IS NULL) THEN
        rebuild_all := true;
    END IF;
    -- The customer models (RFM, CLV fit, scores, interventions) are global: every customer's
    -- scores move when the models are refitted, so they cannot be maintained day by day.  They
    -- are refitted by a rebuild, when never fitted or fitted for another reference date, and
    -- otherwise when facts changed since the last fit and customer_models_interval has passed
    -- (docs/architecture.md#customer-models).
    models_stale := coalesce(st.models_stale, false) OR EXISTS (SELECT 1 FROM cxkpi_log);
    customers_changed := rebuild_all OR st.models_refreshed_at IS NULL
                         OR st.models_settings IS DISTINCT FROM cxkpi.customer_models_settings()
                         OR NOT EXISTS (SELECT 1 FROM cxkpi.clv_models WHERE as_of = cxkpi.as_of())
                         OR (models_stale AND clock_timestamp() >= st.models_refreshed_at
                                                                  + cxkpi.setting('customer_models_interval')::interval);

    IF rebuild_all THEN
        FOR r IN SELECT * FROM cxkpi.dashboard_rollups() LOOP
            EXECUTE format(CASE WHEN conc THEN 'DELETE FROM cxkpi.%I' ELSE 'TRUNCATE cxkpi.%I' END, r.rollup);
            EXECUTE format('INSERT INTO cxkpi.%I SELECT * FROM cxkpi.%I($1, $2, $3)', r.rollup, 'rollup_' || r.rollup)
                USING tz, '-infinity'::date, 'infinity'::date;
            GET DIAGNOSTICS n = ROW_COUNT;
            EXECUTE format('ANALYZE cxkpi.%I', r.rollup);
            PERFORM cxkpi.progress_notice('refresh ' || r.rollup, n, t0);
        END LOOP;
        SELECT array_agg(p.grain), array_agg(p.period_start) INTO gs, ps
        FROM cxkpi.dashboard_days() AS b CROSS JOIN LATERAL cxkpi.periods_between(b.first_day, b.last_day) AS p;
        IF conc THEN
            DELETE FROM cxkpi.kpi_values;
        ELSE
            TRUNCATE cxkpi.kpi_values;
        END IF;
    ELSE
        CREATE TEMP TABLE cxkpi_dirty ON COMMIT DROP AS SELECT DISTINCT l.fact, l.bucket AS day FROM cxkpi_log AS l;
        -- First-order flags (step 2): for each customer with an order on a dirty day, the
        -- earliest of its orders on a clean day, when a dirty day comes before it.
        INSERT INTO cxkpi_dirty
        SELECT DISTINCT 'orders_first', f.day
        FROM (SELECT DISTINCT o.customer_id
              FROM cxkpi_dirty AS d JOIN cxkpi.orders AS o
                ON o.ordered_at >= (d.day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((d.day + 1)::timestamp AT TIME ZONE tz)
              WHERE d.fact = 'orders' AND o.customer_id IS NOT NULL) AS c
        CROSS JOIN LATERAL (SELECT (p.ordered_at AT TIME ZONE tz)::date AS day FROM cxkpi.orders AS p
                            WHERE p.customer_id = c.customer_id
                              AND (p.ordered_at AT TIME ZONE tz)::date NOT IN (SELECT d.day FROM cxkpi_dirty AS d WHERE d.fact = 'orders')
                            ORDER BY p.ordered_at, p.order_id LIMIT 1) AS f
        WHERE f.day > (SELECT min(d.day) FROM cxkpi_dirty AS d WHERE d.fact = 'orders')
        EXCEPT SELECT d.fact, d.day FROM cxkpi_dirty AS d;
        h0 := cxkpi.dashboard_horizons();
        -- the rollup days whose rows did change (only they make KPI periods dirty)
        CREATE TEMP TABLE cxkpi_changed (rollup text, day date) ON COMMIT DROP;
        CREATE TEMP TABLE cxkpi_old (day date, r text) ON COMMIT DROP;
        FOR r IN SELECT * FROM cxkpi.dashboard_rollups() LOOP
            total := 0;
            FOR rng IN
                SELECT min(y.day) AS first_day, max(y.day) AS last_day
                FROM (SELECT x.day, x.day - (row_number() OVER (ORDER BY x.day))::integer AS island
                      FROM (SELECT DISTINCT d.day FROM cxkpi_dirty AS d WHERE d.fact = ANY (r.facts)) AS x) AS y
                GROUP BY y.island
            LOOP
                EXECUTE format('INSERT INTO cxkpi_old SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2',
                               r.rollup) USING rng.first_day, rng.last_day;
                EXECUTE format('DELETE FROM cxkpi.%I WHERE day BETWEEN $1 AND $2', r.rollup) USING rng.first_day, rng.last_day;
                EXECUTE format('INSERT INTO cxkpi.%I SELECT * FROM cxkpi.%I($1, $2, $3)', r.rollup, 'rollup_' || r.rollup)
                    USING tz, rng.first_day, rng.last_day;
                GET DIAGNOSTICS n = ROW_COUNT;
                total := total + n;
                EXECUTE format('INSERT INTO cxkpi_changed
                                SELECT DISTINCT %L, q.day
                                FROM ((SELECT o.day, o.r FROM cxkpi_old AS o
                                       EXCEPT ALL SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2)
                                      UNION ALL
                                      (SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2
                                       EXCEPT ALL SELECT o.day, o.r FROM cxkpi_old AS o)) AS q', r.rollup, r.rollup, r.rollup)
                    USING rng.first_day, rng.last_day;
                TRUNCATE cxkpi_old;
            END LOOP;
            PERFORM cxkpi.progress_notice('refresh ' || r.rollup, total, t0);
        END LOOP;
        h1 := cxkpi.dashboard_horizons();
        -- the periods to recompute (docs/architecture.md, section 3); none when no rollup row
        -- changed and no horizon moved
        WITH cfg AS (
            SELECT cxkpi.setting('retention_active_window')::integer AS ret_w,
                   cxkpi.setting('loyalty_active_days')::integer AS loy_w),
        days (day, activity, loyalty, members) AS (
            SELECT DISTINCT c.day, c.rollup = 'daily_customer_activity', c.rollup = 'daily_loyalty',
                   c.rollup = 'daily_loyalty' AND c.day IN (SELECT d.day FROM cxkpi_dirty AS d WHERE d.fact = 'loyalty_members')
            FROM cxkpi_changed AS c
            -- horizons that moved: every day between the old and the new one
            UNION ALL
            SELECT x::date, true, false, false
            FROM generate_series(least(h0[1], h1[1]), greatest(h0[1], h1[1]), interval '1 day') AS x
            WHERE h0[1] IS DISTINCT FROM h1[1]
            UNION ALL
            SELECT x::date, true, false, false
            FROM generate_series(least(h0[2], h1[2]), greatest(h0[2], h1[2]), interval '1 day') AS x
            WHERE h0[2] IS DISTINCT FROM h1[2]
            UNION ALL
            SELECT x::date, false, false, false
            FROM generate_series(least(h0[3], h1[3]), greatest(h0[3], h1[3]), interval '1 day') AS x
            WHERE h0[3] IS DISTINCT FROM h1[3]
            UNION ALL
            SELECT x::date, false, false, false
            FROM generate_series(least(h0[4], h1[4]), greatest(h0[4], h1[4]), interval '1 day') AS x
            WHERE h0[4] IS DISTINCT FROM h1[4]),
        aff AS (
            -- the period of the day at every grain
            SELECT p.grain, p.period_start FROM days AS d CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day) AS p
            -- retention: the retention_active_window periods after it
            UNION
            SELECT p.grain, (p.period_start + k * cxkpi.grain_interval(p.grain))::date
            FROM days AS d CROSS JOIN cfg CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day) AS p
            CROSS JOIN LATERAL generate_series(1, cfg.ret_w) AS k
            WHERE d.activity AND p.grain <> 'day'
            -- loyalty activity: the periods whose active window (loyalty_active_days up to the end) has the day
            UNION
            SELECT p.grain, p.period_start
            FROM days AS d CROSS JOIN cfg CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day + cfg.loy_w - 1) AS p
            WHERE d.loyalty AND p.grain <> 'day'
            -- enrolments: the members of every period up to the data horizon
            UNION
            SELECT p.grain, p.period_start
            FROM cxkpi.periods_between((SELECT min(d.day) FROM days AS d WHERE d.members), greatest(h0[4], h1[4])) AS p)
        SELECT array_agg(t.grain), array_agg(t.period_start) INTO gs, ps
        FROM (SELECT a.grain, a.period_start FROM aff AS a
              UNION SELECT a.grain, (a.period_start + cxkpi.grain_interval(a.grain))::date FROM aff AS a
              UNION SELECT a.grain, CASE WHEN a.grain IN ('day', 'week') THEN a.period_start + 364
                                         ELSE (a.period_start + interval '1 year')::date END
                    FROM aff AS a) AS t
        WHERE EXISTS (SELECT 1 FROM cxkpi_changed) OR h0 IS DISTINCT FROM h1;
        DELETE FROM cxkpi.kpi_values AS v USING unnest(gs, ps) AS t(grain, period_start)
        WHERE v.grain = t.grain AND v.period_start = t.period_start;
    END IF;
    INSERT INTO cxkpi.kpi_values SELECT * FROM cxkpi.kpi_engine(gs, ps);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF rebuild_all THEN
        ANALYZE cxkpi.kpi_values;
    END IF;
    PERFORM cxkpi.progress_notice('refresh kpi_values', n, t0);

    IF customers_changed THEN
        PERFORM cxkpi.customer_models_refresh(conc, t0);
    END IF;

    DELETE FROM cxkpi.change_log WHERE ctid = ANY (ARRAY(SELECT l.tid FROM cxkpi_log AS l));
    INSERT INTO cxkpi.dashboard_state AS s (id, settings, rebuilt_at, refreshed_at, models_refreshed_at, models_stale,
                                            models_settings)
    VALUES (true, fp, now(), now(), CASE WHEN customers_changed THEN clock_timestamp() END, NOT customers_changed AND models_stale,
            CASE WHEN customers_changed THEN cxkpi.customer_models_settings() END)
    ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, refreshed_at = EXCLUDED.refreshed_at,
                                   rebuilt_at = CASE WHEN rebuild_all THEN EXCLUDED.rebuilt_at ELSE s.rebuilt_at END,
                                   models_refreshed_at = coalesce(EXCLUDED.models_refreshed_at, s.models_refreshed_at),
                                   models_stale = EXCLUDED.models_stale,
                                   models_settings = coalesce(EXCLUDED.models_settings, s.models_settings);
    DROP TABLE pg_temp.cxkpi_log;
    IF NOT rebuild_all THEN
        DROP TABLE pg_temp.cxkpi_dirty, pg_temp.cxkpi_changed, pg_temp.cxkpi_old;
    END IF;
END $$;
COMMENT ON FUNCTION cxkpi.dashboard_maintain(boolean, boolean) IS
    'Internal: the work of cxkpi.refresh_dashboard (incremental) and cxkpi.rebuild_dashboard (rebuild_all).';
REVOKE ALL ON FUNCTION cxkpi.dashboard_maintain(boolean, boolean) FROM PUBLIC;

-- What the customer models depend on besides the facts: the setting gone_p_alive and the
-- intervention rules (a digest of their rows).  A change refits the models at the next refresh.
CREATE FUNCTION cxkpi.customer_models_settings() RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('gone_p_alive', cxkpi.setting('gone_p_alive'),
                              'intervention_rules', (SELECT md5(string_agg(r::text, ',' ORDER BY r.rule))
                                                     FROM cxkpi.intervention_rules AS r)) $$;
COMMENT ON FUNCTION cxkpi.customer_models_settings() IS
    'Internal: the setting gone_p_alive and a digest of cxkpi.intervention_rules, whose change refits the customer models at the next refresh.';

-- Refits the customer models: every customer's RFM, the CLV models, the customer scores and
-- the recommended interventions (matviews, CONCURRENTLY unless conc is false), each analyzed and
-- reported.  Called by the refresh when they are due, by a rebuild and by
-- cxkpi.refresh_customer_models().
CREATE FUNCTION cxkpi.customer_models_refresh(conc boolean, started_at timestamptz) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    n bigint;
BEGIN
    FOREACH mv IN ARRAY ARRAY['customer_rfm', 'clv_models', 'customer_scores', 'customer_intervention_picks'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
        EXECUTE format('ANALYZE cxkpi.%I', mv);
        EXECUTE format('SELECT count(*) FROM cxkpi.%I', mv) INTO n;
        PERFORM cxkpi.progress_notice('refresh ' || mv, n, started_at);
    END LOOP;
END $$;
COMMENT ON FUNCTION cxkpi.customer_models_refresh(boolean, timestamptz) IS
    'Internal: refits the customer models (customer_rfm, clv_models, customer_scores, customer_intervention_picks).';
REVOKE ALL ON FUNCTION cxkpi.customer_models_refresh(boolean, timestamptz) FROM PUBLIC;

-- Refits the customer models now (so that the scores see the last orders before
-- customer_models_interval has passed); the rollups and KPI values are left to refresh_dashboard.
CREATE PROCEDURE cxkpi.refresh_customer_models(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM cxkpi.customer_models_refresh(conc, clock_timestamp());
    UPDATE cxkpi.dashboard_state
       SET models_refreshed_at = clock_timestamp(), models_stale = false, models_settings = cxkpi.customer_models_settings();
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_customer_models(boolean) IS
    'Refits the customer models now: every customer''s RFM, the CLV models, the churn scores and the recommended interventions (CALL cxkpi.refresh_dashboard() refits them at most every customer_models_interval, and whenever the reference date moves).';
REVOKE ALL ON PROCEDURE cxkpi.refresh_customer_models(boolean) FROM PUBLIC;

-- Brings the dashboard up to date with the committed facts, in the caller's transaction:
-- incrementally, at a cost in proportion to what changed since the last refresh (the days logged
-- in cxkpi.change_log and the periods they fall into), with results identical to a full rebuild.
-- The first refresh, and the first after a change of a setting the rollups depend on or a
-- TRUNCATE of a fact table, rebuilds everything.  CONCURRENTLY (the default) never blocks
-- readers; false lets a rebuild TRUNCATE the tables and refresh the customer matviews without
-- CONCURRENTLY (faster when everything changes, readers wait).
CREATE OR REPLACE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM cxkpi.dashboard_maintain(false, conc);
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Brings every dashboard rollup, cxkpi.kpi_values and the customer scores up to date with the committed facts, incrementally (the days in cxkpi.change_log and the periods they fall into; identical to a full rebuild); rebuilds everything the first time and after a change of the rollups'' settings. Readers are never blocked. Reports each stage as a NOTICE (SET client_min_messages = warning to silence).';
REVOKE ALL ON PROCEDURE cxkpi.refresh_dashboard(boolean) FROM PUBLIC;

-- Rebuilds every rollup and every KPI value from all of history (what refresh_dashboard does
-- incrementally): after a bulk reload, or to check the incremental refresh.
CREATE PROCEDURE cxkpi.rebuild_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conc boolean := $1;
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM cxkpi.dashboard_maintain(true, conc);
END $$;
COMMENT ON PROCEDURE cxkpi.rebuild_dashboard(boolean) IS
    'Rebuilds every dashboard rollup, cxkpi.kpi_values and the customer scores from all of history (the full form of cxkpi.refresh_dashboard); CONCURRENTLY by default (readers never blocked), false truncates instead (faster, readers wait).';
REVOKE ALL ON PROCEDURE cxkpi.rebuild_dashboard(boolean) FROM PUBLIC;

-- Freshness without anyone calling anything (docs/operations.md#scheduling-the-refresh): a pg_cron
-- job "cxkpi-refresh" in this database that runs CALL cxkpi.refresh_dashboard() every `every`
-- (1 to 59 seconds with pg_cron 1.5 or later, or whole minutes 1 to 59), as the role that calls
-- this (the owner of the extension: only it may refresh).  Scheduling again replaces the job.
-- Without pg_cron in this database, raises 55000 with the statement to run where pg_cron is.
CREATE FUNCTION cxkpi.schedule_refresh(every interval DEFAULT interval '1 minute') RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    secs double precision := extract(epoch FROM every);
    spec text;
    job bigint;
BEGIN
    IF every IS NULL OR secs < 1 OR secs <> trunc(secs) OR secs > 59 * 60 OR (secs >= 60 AND secs::bigint % 60 <> 0) THEN
        RAISE EXCEPTION 'cannot schedule the refresh every %', every USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use 1 to 59 seconds (pg_cron 1.5 or later) or whole minutes from 1 to 59, such as interval ''1 minute''.';
    END IF;
    spec := CASE WHEN secs < 60 THEN format('%s seconds', secs::bigint)
                 WHEN secs = 60 THEN '* * * * *'
                 ELSE format('*/%s * * * *', secs::bigint / 60) END;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Nothing refreshes the dashboard by itself without a scheduler.',
                  HINT = format('Add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron; if pg_cron lives in another database, run there: SELECT cron.schedule_in_database(%L, %L, %L, %L); or use a system cron entry: psql -d %s -c %L (docs/operations.md).',
                                'cxkpi-refresh', spec, 'SET client_min_messages = warning; CALL cxkpi.refresh_dashboard()', current_database(),
                                current_database(), 'CALL cxkpi.refresh_dashboard()');
    END IF;
    -- (the progress notices would go to the server log: the job sets client_min_messages)
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
        USING 'cxkpi-refresh', spec, 'SET client_min_messages = warning; CALL cxkpi.refresh_dashboard()';
    RETURN job;
END $$;
COMMENT ON FUNCTION cxkpi.schedule_refresh(interval) IS
    'Schedules CALL cxkpi.refresh_dashboard() with pg_cron (job cxkpi-refresh, in this database, as the calling role) every 1-59 seconds (pg_cron 1.5+) or 1-59 minutes; default every minute. Returns the job id; raises 55000 with a hint when pg_cron is not installed here.';
REVOKE ALL ON FUNCTION cxkpi.schedule_refresh(interval) FROM PUBLIC;

-- Removes the pg_cron job of cxkpi.schedule_refresh; false when there was none.
CREATE FUNCTION cxkpi.unschedule_refresh() RETURNS boolean
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user)' INTO found USING 'cxkpi-refresh';
    IF found THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING 'cxkpi-refresh';
    END IF;
    RETURN found;
END $$;
COMMENT ON FUNCTION cxkpi.unschedule_refresh() IS
    'Removes the pg_cron job cxkpi-refresh of cxkpi.schedule_refresh (true), or returns false when there is none.';
REVOKE ALL ON FUNCTION cxkpi.unschedule_refresh() FROM PUBLIC;

COMMENT ON TABLE cxkpi.daily_surveys IS 'Internal rollup: NPS, CSAT and CES summaries per day, survey, touchpoint channel and scale.';
COMMENT ON TABLE cxkpi.daily_orders IS 'Internal rollup: orders, values and a return_summary per day, channel, segment and first/later order (order-date basis).';
COMMENT ON TABLE cxkpi.daily_customer_activity IS 'Internal rollup: orders and retention summaries (by day, week, month, quarter, year) of the ordering customers per day.';
COMMENT ON TABLE cxkpi.daily_conversion IS 'Internal rollup: visits, funnel steps and conversions per day and device (store: visitors and store orders).';
COMMENT ON TABLE cxkpi.daily_carts IS 'Internal rollup: carts created, converted, abandoned and recovered per creation day and device.';
COMMENT ON TABLE cxkpi.daily_tickets IS 'Internal rollup: tickets, exact first response times (hours), resolutions per creation day and channel.';
COMMENT ON TABLE cxkpi.daily_loyalty IS 'Internal rollup: loyalty enrolments and member activity per day (orders and programme activities on or after enrolling, last_active_on) as a retention summary.';
COMMENT ON TABLE cxkpi.daily_app_ratings IS 'Internal rollup: app rating summaries per day and store.';
COMMENT ON TABLE cxkpi.daily_observations IS 'Internal rollup: weighted sums of observed metrics per day, KPI and dimension.';
COMMENT ON TABLE cxkpi.daily_return_events IS 'Internal rollup: returns, merchant-initiated returns and days to return per request day.';
COMMENT ON TABLE cxkpi.daily_acquisition IS 'Internal rollup: customers acquired and acquisition cost per day and channel.';
COMMENT ON TABLE cxkpi.kpi_values IS 'Every KPI at every grain, period and breakdown, with numerator, denominator, sample size and interval, and the values of the previous period and of the same period a year earlier; read it through the views.';
COMMENT ON FUNCTION cxkpi.rollup_daily_surveys(text, date, date) IS 'Internal: the rows of cxkpi.daily_surveys of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_orders(text, date, date) IS 'Internal: the rows of cxkpi.daily_orders of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_customer_activity(text, date, date) IS 'Internal: the rows of cxkpi.daily_customer_activity of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_conversion(text, date, date) IS 'Internal: the rows of cxkpi.daily_conversion of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_carts(text, date, date) IS 'Internal: the rows of cxkpi.daily_carts of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_tickets(text, date, date) IS 'Internal: the rows of cxkpi.daily_tickets of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_loyalty(text, date, date) IS 'Internal: the rows of cxkpi.daily_loyalty of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_app_ratings(text, date, date) IS 'Internal: the rows of cxkpi.daily_app_ratings of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_observations(text, date, date) IS 'Internal: the rows of cxkpi.daily_observations of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_return_events(text, date, date) IS 'Internal: the rows of cxkpi.daily_return_events of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_acquisition(text, date, date) IS 'Internal: the rows of cxkpi.daily_acquisition of the days first_day to last_day (in time zone tz).';

SELECT cxkpi.upgrade_restore_relations(pg_catalog.current_setting('cxkpi.upgrade_saved')::jsonb);
SELECT pg_catalog.set_config('cxkpi.upgrade_saved', '', true);
DROP FUNCTION cxkpi.upgrade_save_relations(regclass[]), cxkpi.upgrade_restore_relations(jsonb),
              cxkpi.upgrade_dependent_relations(regclass[]);

-- The rollups, the KPI values and the customer scores from the facts as they are (1.0's matviews
-- held the figures of their last refresh).
SELECT cxkpi.dashboard_maintain(true, false);

-- Who may read the settings and the targets (issue 15, item 2): cxkpi.setting() and
-- cxkpi.target_spans() are SECURITY DEFINER, so that the views show the reference date and the
-- targets to readers who cannot read the tables; they are executable by the dashboard's roles
-- only (cxkpi_reader, cxkpi_writer, cxkpi_operator and the owner), not by PUBLIC: a role given
-- USAGE on schema cxkpi for another purpose does not read the configuration through them
-- (docs/security.md#roles).
REVOKE EXECUTE ON FUNCTION cxkpi.setting(text), cxkpi.target_spans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cxkpi.setting(text), cxkpi.target_spans() TO cxkpi_reader, cxkpi_writer, cxkpi_operator;

-------------------------------------------------------------------------------------------------
-- Issue 18: see the dashboard.  The monthly cohort retention views, demand forecasts on the
-- dashboard's monthly series, the page's data as JSON and the page itself, in schema cxkpi_bi
-- (new objects; the same text as src/dashboard_page.sql).
-------------------------------------------------------------------------------------------------
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
-- intervals).  When cxkpi_bi gets a forecast view refitted at refresh (issue 16, part 2), the
-- page reads that instead: this function is the one place the page takes its forecasts from.
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

-------------------------------------------------------------------------------------------------
-- Issue 15, item 1: a writer could forge alert states.  1.0 let cxkpi_writer execute
-- cxkpi.alert_enqueue, which trusted pg_trigger_depth() and a fact table's name: a writer's own
-- trigger on a TEMP table could queue any summary.  The alerting trigger now runs as the
-- extension's owner and is the only caller of alert_enqueue; writers keep exactly the right to
-- write the fact tables (docs/security.md).
-------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION cxkpi.alert_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    src text;
    deltas cxkpi.alert_delta[];
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.alert_fact_tables())
       OR TG_RELID <> format('cxkpi.%I', TG_TABLE_NAME)::regclass THEN
        RAISE EXCEPTION 'cxkpi.alert_trigger() is the alerting trigger of the cxkpi fact tables only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    src := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows AS o'
        ELSE 'SELECT 1 AS sign, d.* FROM (TABLE new_rows EXCEPT ALL TABLE old_rows) AS d
              UNION ALL SELECT -1, d.* FROM (TABLE old_rows EXCEPT ALL TABLE new_rows) AS d' END;
    EXECUTE format('SELECT array_agg(c) FROM (%s) AS q(c)', cxkpi.alert_contributions_sql(TG_TABLE_NAME, src))
       INTO deltas;
    IF deltas IS NOT NULL THEN
        PERFORM cxkpi.alert_enqueue(TG_RELID::regclass, deltas);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_trigger() IS
    'Statement-level trigger of the fact tables: queues the statement''s contributions to the alert states.';
REVOKE EXECUTE ON FUNCTION cxkpi.alert_enqueue(regclass, cxkpi.alert_delta[]) FROM cxkpi_writer;

-------------------------------------------------------------------------------------------------
-- Issue 16 part 2: forecasts on the dashboard (src/dashboard_forecast.sql, as in a fresh
-- install), and the refresh refitting them (cxkpi.dashboard_maintain calls
-- cxkpi.forecasts_maintain after the KPI values).
-------------------------------------------------------------------------------------------------
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
-- Issue 14, stage 2: alerts from the same numbers (docs/architecture.md#4-alerts-from-the-same-numbers).
-- The refresh evaluates the alert levels from the cxkpi.kpi_values rows it has just recomputed
-- (cxkpi.alert_evaluate, called by cxkpi.dashboard_maintain); 1.0's second engine goes: the
-- alerting statement triggers of the fact tables, the commit-time merge (cxkpi.alert_pending and
-- its constraint trigger, alert_enqueue, alert_apply, alert_merge), the per-statement
-- contributions (alert_contributions_sql, alert_table_contributions, alert_delta, alert_value,
-- summary_minus), the triggers on settings and targets (the refresh evaluates the open periods
-- at each run).  cxkpi.set_alerting flips the new setting alerting, seeded with what the 1.0
-- triggers were (on unless they were disabled).  The states keep their rows (the running
-- summaries and the source column of the old engine are dropped) and are dumped from now on;
-- the alert history is untouched.
-------------------------------------------------------------------------------------------------
ALTER TABLE cxkpi.settings DROP CONSTRAINT settings_key_known;
ALTER TABLE cxkpi.settings ADD CONSTRAINT settings_key_known CHECK (key IN (
        'as_of', 'scorecard_grain', 'time_zone', 'confidence', 'retention_active_window',
        'loyalty_active_days', 'csat_scale', 'ces_scale', 'alert_grain', 'gone_p_alive',
        'customer_models_interval', 'alerting'));
CREATE OR REPLACE FUNCTION cxkpi.settings_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ok boolean;
    hint text;
BEGIN
    CASE NEW.key
    WHEN 'as_of' THEN
        ok := NEW.value = '' OR NEW.value ~ '^\d{4}-\d{2}-\d{2}$';
        IF ok AND NEW.value <> '' THEN PERFORM NEW.value::date; END IF;
        hint := 'Use a date such as 2026-10-31, or '''' for the current date.';
    WHEN 'scorecard_grain' THEN
        ok := NEW.value IN ('week', 'month', 'quarter', 'year');
        hint := 'Use week, month, quarter or year.';
    WHEN 'alert_grain' THEN
        ok := NEW.value IN ('day', 'week', 'month', 'quarter', 'year');
        hint := 'Use day, week, month, quarter or year; the next refresh evaluates the alerts at the new grain.';
    WHEN 'alerting' THEN
        ok := NEW.value IN ('true', 'false');
        hint := 'Use true or false, or SELECT cxkpi.set_alerting(true) / cxkpi.set_alerting(false).';
    WHEN 'time_zone' THEN
        ok := EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.value)
              OR EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = NEW.value);
        hint := 'Use a time zone name from pg_timezone_names, such as UTC or Europe/Paris.';
    WHEN 'confidence' THEN
        ok := NEW.value ~ '^0\.\d+$' AND NEW.value::float8 > 0 AND NEW.value::float8 < 1;
        hint := 'Use a confidence level strictly between 0 and 1, such as 0.95.';
    WHEN 'retention_active_window', 'loyalty_active_days' THEN
        ok := NEW.value ~ '^[1-9]\d{0,4}$';
        hint := 'Use a positive integer.';
    WHEN 'gone_p_alive' THEN
        ok := NEW.value ~ '^0(\.\d+)?$';
        hint := 'Use a probability from 0 to below 1, such as 0.1 (0: nobody is considered gone).';
    WHEN 'customer_models_interval' THEN
        BEGIN
            ok := NEW.value::interval BETWEEN interval '0' AND interval '7 days';
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
            ok := false;
        END;
        hint := 'Use an interval from 0 to 7 days, such as 1 hour (0: at every refresh that has changes).';
    WHEN 'csat_scale' THEN
        ok := NEW.value IN ('2', '3', '5', '7', '10');
        hint := 'Use 2, 3, 5, 7 or 10.';
    WHEN 'ces_scale' THEN
        ok := NEW.value IN ('5', '7');
        hint := 'Use 5 or 7.';
    ELSE
        ok := true;     -- an unknown key: the CHECK constraint names it
    END CASE;
    IF NOT ok THEN
        RAISE EXCEPTION 'invalid value "%" for cxkpi setting "%"', NEW.value, NEW.key
            USING ERRCODE = 'invalid_parameter_value', HINT = hint;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.is_default AND NEW.is_default THEN
        NEW.is_default := NEW.value = OLD.value AND NEW.description = OLD.description;
    END IF;
    RETURN NEW;
END $$;
INSERT INTO cxkpi.settings (key, value, description, is_default) VALUES
    ('alerting', 'true', 'Whether the refresh evaluates alerts (cxkpi.set_alerting, docs/alerts.md); false: the dashboard is kept up to date, the alert states and the outbox are left alone.', true);
-- alerting switched off in 1.0 (its triggers disabled) stays off
UPDATE cxkpi.settings SET value = 'false'
 WHERE key = 'alerting'
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS tg
               WHERE tg.tgrelid = 'cxkpi.survey_responses'::regclass AND tg.tgname = 'alert_insert' AND tg.tgenabled = 'D');

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['survey_responses', 'app_ratings', 'web_sessions', 'store_traffic', 'orders', 'carts',
                             'support_tickets', 'metric_observations'] LOOP
        EXECUTE format('DROP TRIGGER alert_insert ON cxkpi.%1$I; DROP TRIGGER alert_update ON cxkpi.%1$I; '
                       'DROP TRIGGER alert_delete ON cxkpi.%1$I; DROP TRIGGER alert_truncate ON cxkpi.%1$I', t);
    END LOOP;
END $$;
DROP TRIGGER alert_settings ON cxkpi.settings;
DROP TRIGGER alert_targets ON cxkpi.kpi_targets;
DROP TABLE cxkpi.alert_pending;
DROP FUNCTION cxkpi.alert_trigger(), cxkpi.alert_commit_trigger(), cxkpi.alert_truncate_trigger(),
    cxkpi.alert_settings_trigger(), cxkpi.alert_targets_trigger(), cxkpi.alert_enqueue(regclass, cxkpi.alert_delta[]),
    cxkpi.alert_apply(), cxkpi.alert_merge(cxkpi.alert_delta[]), cxkpi.alert_evaluate(cxkpi.alert_delta[]),
    cxkpi.alert_rebuild(), cxkpi.alert_table_contributions(text), cxkpi.alert_contributions_sql(text, text),
    cxkpi.alert_value(text, @extschema@.nps_summary, @extschema@.csat_summary, @extschema@.ces_summary, numeric, numeric),
    cxkpi.alert_fact_tables(), cxkpi.alert_trigger_kpis(), cxkpi.alert_lock_key(),
    cxkpi.summary_minus(@extschema@.nps_summary, @extschema@.nps_summary),
    cxkpi.summary_minus(@extschema@.csat_summary, @extschema@.csat_summary),
    cxkpi.summary_minus(@extschema@.ces_summary, @extschema@.ces_summary);
DROP TYPE cxkpi.alert_delta;

ALTER TABLE cxkpi.alert_state DROP COLUMN source, DROP COLUMN nps, DROP COLUMN csat, DROP COLUMN ces;
COMMENT ON TABLE cxkpi.alert_state IS
    'Alerting: the last evaluated value and level of every KPI, breakdown and period of the alert grain, from the cxkpi.kpi_values row of the same period (numerator, denominator, sample size, value, level with hysteresis). Written by the refresh only (CALL cxkpi.refresh_dashboard(), cxkpi.check_thresholds()); dumped with the data, so that a restore raises nothing again.';
COMMENT ON COLUMN cxkpi.alerts.raised_at IS 'When the level change was recorded (clock time of the refresh that evaluated it).';
SELECT pg_catalog.pg_extension_config_dump('cxkpi.alert_state', '');

CREATE FUNCTION cxkpi.alert_evaluate(grains text[], period_starts date[], everything boolean) RETURNS integer
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    open_from date := (cxkpi.period_bounds(g, (cxkpi.period_bounds(g, cxkpi.as_of())).period_start - 1)).period_start;
    c record;
    a cxkpi.alerts;
    m bigint;
    raised integer := 0;
BEGIN
    IF NOT cxkpi.alerting_enabled() THEN
        RETURN 0;
    END IF;
    IF to_regclass('pg_temp.cxkpi_alert_eval') IS NOT NULL THEN
        DROP TABLE pg_temp.cxkpi_alert_eval, pg_temp.cxkpi_alert_changes;
    END IF;
    IF EXISTS (SELECT 1 FROM cxkpi.alert_state WHERE grain <> g) THEN
        UPDATE cxkpi.alerts SET resolved_at = clock_timestamp() WHERE resolved_at IS NULL AND grain <> g;
        DELETE FROM cxkpi.alert_state WHERE grain <> g;
        everything := true;
    END IF;
    CREATE TEMP TABLE cxkpi_alert_eval ON COMMIT DROP AS
    WITH scope AS (
        SELECT DISTINCT p.period_start FROM unnest(grains, period_starts) AS p(grain, period_start) WHERE p.grain = g),
    v AS (
        SELECT v.kpi, v.breakdown, v.dimension, v.period_start, v.value, v.numerator, v.denominator, v.sample_size
        FROM cxkpi.kpi_values AS v
        WHERE v.grain = g AND (everything OR v.period_start >= open_from OR v.period_start IN (SELECT * FROM scope))),
    s AS (
        SELECT st.kpi, st.breakdown, st.dimension, st.period_start, st.level
        FROM cxkpi.alert_state AS st
        WHERE st.grain = g AND (everything OR st.period_start >= open_from OR st.period_start IN (SELECT * FROM scope))),
    j AS (
        SELECT coalesce(v.kpi, s.kpi) AS kpi, coalesce(v.breakdown, s.breakdown) AS breakdown,
               coalesce(v.dimension, s.dimension) AS dimension, coalesce(v.period_start, s.period_start) AS period_start,
               v.value, coalesce(v.numerator, 0)::numeric AS numerator, coalesce(v.denominator, 0)::numeric AS denominator,
               coalesce(v.sample_size, 0)::bigint AS sample_size, s.level AS stored_level
        FROM v FULL JOIN s ON (s.kpi, s.breakdown, s.dimension, s.period_start) = (v.kpi, v.breakdown, v.dimension, v.period_start)),
    e AS (
        -- a new state starts at the level of its open alert, if it has one, else 'insufficient data'
        SELECT j.*, d.direction,
               coalesce(j.stored_level,
                        (SELECT al.level FROM cxkpi.alerts AS al
                         WHERE (al.kpi, al.breakdown, al.dimension, al.grain, al.period_start)
                               = (j.kpi, j.breakdown, j.dimension, g, j.period_start)
                           AND al.resolved_at IS NULL ORDER BY al.alert_id DESC LIMIT 1),
                        'insufficient data') AS previous_level,
               coalesce(td.target, t0.target) AS target, coalesce(td.red_threshold, t0.red_threshold) AS red_threshold,
               coalesce(td.yellow_threshold, t0.yellow_threshold) AS yellow_threshold,
               coalesce(td.min_sample_size, t0.min_sample_size) AS min_sample_size,
               coalesce(td.recovery_margin, t0.recovery_margin) AS recovery_margin
        FROM j
        JOIN cxkpi.kpi_definitions AS d ON d.kpi = j.kpi
        LEFT JOIN cxkpi.target_spans() AS td
               ON td.kpi = j.kpi AND td.dimension = j.dimension AND td.dimension <> '' AND td.valid_from <= j.period_start
              AND (j.period_start < td.valid_until OR td.valid_until IS NULL)
        LEFT JOIN cxkpi.target_spans() AS t0
               ON t0.kpi = j.kpi AND t0.dimension = '' AND t0.valid_from <= j.period_start
              AND (j.period_start < t0.valid_until OR t0.valid_until IS NULL))
    SELECT e.*, cxkpi.alert_level(e.direction, e.value, e.sample_size, e.target, e.red_threshold, e.yellow_threshold,
                                  e.min_sample_size, e.recovery_margin, e.previous_level) AS new_level
    FROM e;
    -- the states: written where the value or the level changed
    INSERT INTO cxkpi.alert_state AS st (kpi, breakdown, dimension, grain, period_start, numerator, denominator,
                                         sample_size, value, level, level_since, evaluated_at)
    SELECT n.kpi, n.breakdown, n.dimension, g, n.period_start, n.numerator, n.denominator, n.sample_size, n.value,
           n.new_level, clock_timestamp(), clock_timestamp()
    FROM cxkpi_alert_eval AS n
    ORDER BY 1, 2, 3, 5
    ON CONFLICT (kpi, breakdown, dimension, grain, period_start) DO UPDATE
        SET numerator = excluded.numerator, denominator = excluded.denominator, sample_size = excluded.sample_size,
            value = excluded.value, level = excluded.level, evaluated_at = excluded.evaluated_at,
            level_since = CASE WHEN excluded.level <> st.level THEN excluded.level_since ELSE st.level_since END
        WHERE (st.numerator, st.denominator, st.sample_size, st.value, st.level)
              IS DISTINCT FROM (excluded.numerator, excluded.denominator, excluded.sample_size, excluded.value, excluded.level);
    -- the level changes to or from red or yellow of the open periods
    CREATE TEMP TABLE cxkpi_alert_changes ON COMMIT DROP AS
    SELECT n.kpi, n.breakdown, n.dimension, n.period_start, n.previous_level, n.new_level, n.value, n.sample_size,
           n.target, n.red_threshold, n.yellow_threshold
    FROM cxkpi_alert_eval AS n
    WHERE n.new_level <> n.previous_level
      AND (n.new_level IN ('red', 'yellow') OR n.previous_level IN ('red', 'yellow'))
      AND n.period_start >= open_from;
    -- the outbox, in key order; the sequence is moved past the stored ids if a restore left it
    -- behind them
    IF EXISTS (SELECT 1 FROM cxkpi_alert_changes) THEN
        SELECT max(alert_id) INTO m FROM cxkpi.alerts;
        IF m >= (SELECT CASE WHEN q.is_called THEN q.last_value ELSE q.last_value - 1 END FROM cxkpi.alerts_alert_id_seq AS q) THEN
            PERFORM setval('cxkpi.alerts_alert_id_seq', m);
        END IF;
    END IF;
    FOR c IN SELECT * FROM cxkpi_alert_changes ORDER BY kpi, breakdown, dimension, period_start LOOP
        UPDATE cxkpi.alerts SET resolved_at = clock_timestamp()
         WHERE kpi = c.kpi AND breakdown = c.breakdown AND dimension = c.dimension AND grain = g
           AND period_start = c.period_start AND resolved_at IS NULL;
        INSERT INTO cxkpi.alerts (kpi, breakdown, dimension, grain, period_start, period_end, level,
                                  previous_level, value, threshold, target, sample_size, resolved_at)
        VALUES (c.kpi, c.breakdown, c.dimension, g, c.period_start,
                (cxkpi.period_bounds(g, c.period_start)).period_end, c.new_level, c.previous_level, c.value,
                CASE WHEN c.new_level = 'red' OR (c.new_level <> 'yellow' AND c.previous_level = 'red')
                     THEN c.red_threshold ELSE c.yellow_threshold END,
                c.target, c.sample_size,
                CASE WHEN c.new_level NOT IN ('red', 'yellow') THEN clock_timestamp() END)
        RETURNING * INTO a;
        PERFORM pg_notify('cxkpi_alerts', json_build_object(
                    'alert_id', a.alert_id, 'kpi', a.kpi, 'breakdown', a.breakdown,
                    'dimension', left(a.dimension, 200), 'period_start', a.period_start, 'level', a.level,
                    'previous_level', a.previous_level, 'value', a.value)::text);
        raised := raised + 1;
    END LOOP;
    DROP TABLE pg_temp.cxkpi_alert_eval, pg_temp.cxkpi_alert_changes;
    RETURN raised;
END $$;
COMMENT ON FUNCTION cxkpi.alert_evaluate(text[], date[], boolean) IS
    'Internal: evaluates the alert levels of the cxkpi.kpi_values rows of the given periods, of the open periods (or of all, everything) at the alert grain, and records the level changes of open periods in cxkpi.alerts with a pg_notify; called by the refresh. Returns the number of alerts raised.';

CREATE OR REPLACE FUNCTION cxkpi.check_thresholds() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    before bigint;
BEGIN
    -- the refresh's lock, held to the end of the transaction: a refresh running elsewhere is
    -- waited for (its evaluation and this one never record the same change twice)
    PERFORM pg_advisory_xact_lock('cxkpi.change_log'::regclass::oid::bigint);
    before := (SELECT coalesce(max(alert_id), 0) FROM cxkpi.alerts);
    PERFORM cxkpi.dashboard_maintain(false, true);
    PERFORM cxkpi.alert_evaluate(NULL, NULL, true);
    RETURN (SELECT count(*) FROM cxkpi.alerts WHERE alert_id > before);
END $$;
COMMENT ON FUNCTION cxkpi.check_thresholds() IS
    'Refreshes the dashboard (as CALL cxkpi.refresh_dashboard() does, which also evaluates the alerts), evaluates every alert state of the alert grain (closed periods too, without alerts for them) and returns the number of alerts raised.';

-- Switches the alerting off (bulk loads, maintenance) or on: setting alerting.  Off, the
-- refresh keeps the dashboard up to date and leaves the states and the outbox alone; on again,
-- it runs cxkpi.check_thresholds() and returns the alerts it raised.
CREATE OR REPLACE FUNCTION cxkpi.set_alerting(enabled boolean) RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO cxkpi.settings AS s (key, value) VALUES ('alerting', enabled::text)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    IF enabled THEN
        RETURN cxkpi.check_thresholds();
    END IF;
    RETURN 0;
END $$;
COMMENT ON FUNCTION cxkpi.set_alerting(boolean) IS
    'Switches the alerting off (for bulk loads) or on (setting alerting); switching on runs cxkpi.check_thresholds() and returns the alerts it raised.';

-- Whether the refresh evaluates alerts (setting alerting).
CREATE OR REPLACE FUNCTION cxkpi.alerting_enabled() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT s.value::boolean FROM cxkpi.settings AS s WHERE s.key = 'alerting'), true) $$;
COMMENT ON FUNCTION cxkpi.alerting_enabled() IS 'True when the refresh evaluates alerts (setting alerting).';
REVOKE ALL ON FUNCTION cxkpi.alert_evaluate(text[], date[], boolean) FROM PUBLIC;

-------------------------------------------------------------------------------------------------
-- Issue 17, A/B tests (src/experiments.sql, as in a fresh install; docs/experiments.md): the
-- two-sample comparisons, the sample sizes, cxkpi.experiments, cxkpi.experiment_assignments and
-- the view cxkpi.experiment_results (and cxkpi_bi's).  cxkpi.generate_sample_data above fills
-- them with two sample experiments.
-------------------------------------------------------------------------------------------------
-- ======================================================================================
-- A/B tests (issue 17, seed 002; docs/experiments.md): two-sample comparisons usable on any
-- two groups, sample sizes for a minimum detectable effect, the experiments and their
-- assignments, and a view that reads a running test.
-- ======================================================================================

-- One comparison of two samples a and b: the difference a - b in the metric's unit.
CREATE TYPE two_sample_test AS (
    n_a        bigint,
    n_b        bigint,
    estimate_a double precision,
    estimate_b double precision,
    difference double precision,
    ci_lower   double precision,
    ci_upper   double precision,
    statistic  double precision,
    df         double precision,
    p_value    double precision);
COMMENT ON TYPE two_sample_test IS
    'Result of a two-sample comparison (proportion_test, welch_test, csat_share_test, csat_mean_test, nps_test): sample sizes, the two estimates, the difference a - b with its confidence interval, the test statistic (z, or t with df) and the two-sided p-value.';

CREATE FUNCTION proportion_test(successes_a bigint, n_a bigint, successes_b bigint, n_b bigint,
                                confidence double precision DEFAULT 0.95)
    RETURNS two_sample_test
    AS 'MODULE_PATHNAME', 'cx_proportion_test_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION proportion_test(bigint, bigint, bigint, bigint, double precision) IS
    'Two proportions (conversion, any share): estimates in percent, difference a - b in percentage points with Newcombe''s hybrid score interval (from the Wilson intervals), pooled two-proportion z test; NULL when a sample is empty.';

CREATE FUNCTION welch_test(n_a bigint, mean_a double precision, variance_a double precision,
                           n_b bigint, mean_b double precision, variance_b double precision,
                           confidence double precision DEFAULT 0.95)
    RETURNS two_sample_test
    AS 'MODULE_PATHNAME', 'cx_welch_test_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION welch_test(bigint, double precision, double precision, bigint, double precision, double precision, double precision) IS
    'Two means (AOV, any mean) from count, avg and var_samp of each sample: Welch''s unequal-variance t test with Welch-Satterthwaite df and the t interval of mean_a - mean_b; NULL when a sample has fewer than 2 values.';

CREATE FUNCTION csat_share_test(a csat_summary, b csat_summary, confidence double precision DEFAULT 0.95)
    RETURNS two_sample_test
    AS 'MODULE_PATHNAME', 'csat_share_test' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION csat_share_test(csat_summary, csat_summary, double precision) IS
    'CSAT percent satisfied (top boxes) of two samples on one scale: proportion_test of satisfied(a), responses(a) against satisfied(b), responses(b).';

CREATE FUNCTION csat_mean_test(a csat_summary, b csat_summary, confidence double precision DEFAULT 0.95)
    RETURNS two_sample_test
    AS 'MODULE_PATHNAME', 'csat_mean_test' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION csat_mean_test(csat_summary, csat_summary, double precision) IS
    'CSAT mean score of two samples on one scale: Welch''s t test on the scores; NULL on a yes/no scale or below 2 answers a side.';

CREATE FUNCTION nps_test(a nps_summary, b nps_summary, confidence double precision DEFAULT 0.95)
    RETURNS two_sample_test
    AS 'MODULE_PATHNAME', 'nps_test' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps_test(nps_summary, nps_summary, double precision) IS
    'NPS of two samples in points: difference nps(a) - nps(b), adjusted-Wald interval of the difference (Rocks 2016, centred on the adjusted difference) and the z test of nps_diff_pvalue.';

CREATE FUNCTION sample_size_proportions(baseline_pct double precision, mde_points double precision,
                                        alpha double precision DEFAULT 0.05, power double precision DEFAULT 0.8)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'sample_size_proportions' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sample_size_proportions(double precision, double precision, double precision, double precision) IS
    'Units per group to detect a change of mde_points percentage points from a baseline rate of baseline_pct percent with a two-sided two-proportion z test at level alpha and the given power (as R''s power.prop.test), rounded up.';

CREATE FUNCTION sample_size_means(sd double precision, mde double precision,
                                  alpha double precision DEFAULT 0.05, power double precision DEFAULT 0.8)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'sample_size_means' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sample_size_means(double precision, double precision, double precision, double precision) IS
    'Units per group to detect a difference of means mde with standard deviation sd, two-sided two-sample t test at level alpha and the given power (exact noncentral t power, as R''s power.t.test), rounded up.';

-------------------------------------------------------------------------------------------------
-- The experiments and who is in which variant.
-------------------------------------------------------------------------------------------------
CREATE TABLE cxkpi.experiments (
    experiment      text PRIMARY KEY CONSTRAINT experiments_key_format CHECK (experiment ~ '^[a-z][a-z0-9_]*$'),
    description     text NOT NULL DEFAULT '',
    unit            text NOT NULL CONSTRAINT experiments_unit CHECK (unit IN ('customer', 'session')),
    control_variant text NOT NULL DEFAULT 'control' CONSTRAINT experiments_control_variant CHECK (control_variant <> ''),
    primary_metric  text NOT NULL DEFAULT 'conversion'
        CONSTRAINT experiments_primary_metric CHECK (primary_metric IN ('conversion', 'aov', 'csat_share', 'csat_mean', 'nps')),
    starts_at       timestamptz NOT NULL CONSTRAINT experiments_starts_at_finite CHECK (isfinite(starts_at)),
    ends_at         timestamptz CONSTRAINT experiments_ends_after_start CHECK (ends_at > starts_at AND isfinite(ends_at)),
    CONSTRAINT experiments_session_metric CHECK (unit = 'customer' OR primary_metric = 'conversion')
);
COMMENT ON TABLE cxkpi.experiments IS
    'One row per A/B test: its randomisation unit (customer or session), control variant, primary metric and period (ends_at NULL: running). Assignments in cxkpi.experiment_assignments; results in cxkpi.experiment_results.';
COMMENT ON COLUMN cxkpi.experiments.experiment IS 'Key of the experiment (lower case letters, digits and _).';
COMMENT ON COLUMN cxkpi.experiments.description IS 'What is tested.';
COMMENT ON COLUMN cxkpi.experiments.unit IS 'What is randomised: customer (conversion, AOV, CSAT and NPS are measured) or session (conversion of the session only).';
COMMENT ON COLUMN cxkpi.experiments.control_variant IS 'The variant every other variant is compared with.';
COMMENT ON COLUMN cxkpi.experiments.primary_metric IS 'The metric decided on before the test: conversion, aov, csat_share, csat_mean or nps (session experiments: conversion).';
COMMENT ON COLUMN cxkpi.experiments.starts_at IS 'Start: no assignment before it.';
COMMENT ON COLUMN cxkpi.experiments.ends_at IS 'End (exclusive): no assignment at or after it, and outcomes after it are not counted; NULL while the test runs.';

CREATE TABLE cxkpi.experiment_assignments (
    experiment  text NOT NULL REFERENCES cxkpi.experiments ON UPDATE CASCADE ON DELETE CASCADE,
    variant     text NOT NULL CONSTRAINT experiment_assignments_variant CHECK (variant <> ''),
    customer_id bigint,
    session_id  bigint,
    assigned_at timestamptz NOT NULL CONSTRAINT experiment_assignments_assigned_at_finite CHECK (isfinite(assigned_at)),
    CONSTRAINT experiment_assignments_one_unit CHECK (num_nonnulls(customer_id, session_id) = 1),
    CONSTRAINT experiment_assignments_customer_once UNIQUE (experiment, customer_id),
    CONSTRAINT experiment_assignments_session_once UNIQUE (experiment, session_id)
);
COMMENT ON TABLE cxkpi.experiment_assignments IS
    'One row per unit assigned to a variant of an experiment: a customer_id (customer experiments) or a session_id (session experiments), never both; a unit is in one variant of an experiment. The ids are not foreign keys: an assignment service may log a visitor before the customer or session row arrives.';
COMMENT ON COLUMN cxkpi.experiment_assignments.experiment IS 'The experiment (cxkpi.experiments).';
COMMENT ON COLUMN cxkpi.experiment_assignments.variant IS 'The variant the unit sees (the experiment''s control_variant or a treatment).';
COMMENT ON COLUMN cxkpi.experiment_assignments.customer_id IS 'The customer assigned (customer experiments; cxkpi.customers.customer_id).';
COMMENT ON COLUMN cxkpi.experiment_assignments.session_id IS 'The session assigned (session experiments; cxkpi.web_sessions.session_id).';
COMMENT ON COLUMN cxkpi.experiment_assignments.assigned_at IS 'When the unit was assigned: only orders and answers from then on count.';

-- Cross-table rules: the unit of an assignment is the experiment's, and it is assigned within
-- the experiment's period.  Statement-level, one join per statement.
CREATE FUNCTION cxkpi.experiment_assignments_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad record;
BEGIN
    IF TG_TABLE_NAME = 'experiment_assignments' THEN
        SELECT n.experiment, n.variant, n.customer_id, n.session_id, n.assigned_at, e.unit, e.starts_at, e.ends_at INTO bad
        FROM new_rows AS n JOIN cxkpi.experiments AS e USING (experiment)
        WHERE (e.unit = 'customer') <> (n.customer_id IS NOT NULL)
           OR n.assigned_at < e.starts_at OR n.assigned_at >= e.ends_at
        LIMIT 1;
    ELSE
        SELECT a.experiment, a.variant, a.customer_id, a.session_id, a.assigned_at, e.unit, e.starts_at, e.ends_at INTO bad
        FROM new_rows AS e JOIN cxkpi.experiment_assignments AS a USING (experiment)
        WHERE (e.unit = 'customer') <> (a.customer_id IS NOT NULL)
           OR a.assigned_at < e.starts_at OR a.assigned_at >= e.ends_at
        LIMIT 1;
    END IF;
    IF FOUND THEN
        IF (bad.unit = 'customer') <> (bad.customer_id IS NOT NULL) THEN
            RAISE EXCEPTION 'experiment "%" randomises by %, but an assignment names a %', bad.experiment, bad.unit,
                            CASE WHEN bad.customer_id IS NOT NULL THEN 'customer' ELSE 'session' END
                USING ERRCODE = 'check_violation',
                      HINT = 'Customer experiments take customer_id, session experiments session_id.';
        END IF;
        RAISE EXCEPTION 'assignment at % is outside the period of experiment "%" (% to %)', bad.assigned_at,
                        bad.experiment, bad.starts_at, coalesce(bad.ends_at::text, 'now')
            USING ERRCODE = 'check_violation',
                  HINT = 'Assign units between starts_at (inclusive) and ends_at (exclusive), or change the experiment''s period.';
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.experiment_assignments_check() IS
    'Trigger: an assignment names the unit of its experiment and lies within the experiment''s period (also when the experiment is changed).';
CREATE TRIGGER experiment_assignments_check_ins AFTER INSERT ON cxkpi.experiment_assignments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.experiment_assignments_check();
CREATE TRIGGER experiment_assignments_check_upd AFTER UPDATE ON cxkpi.experiment_assignments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.experiment_assignments_check();
CREATE TRIGGER experiments_check_upd AFTER UPDATE ON cxkpi.experiments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.experiment_assignments_check();

GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.experiments, cxkpi.experiment_assignments TO cxkpi_writer;
SELECT pg_catalog.pg_extension_config_dump('cxkpi.experiments', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.experiment_assignments', '');

-------------------------------------------------------------------------------------------------
-- The results: every variant against the control, per metric, with what is measured so far.
-- Outcomes count from the unit's assignment to the experiment's end (now while it runs):
-- conversion = a customer with an order in that window (a session: its own converted flag);
-- AOV over those orders (net value); CSAT (scale of the setting csat_scale) and NPS over the
-- customers' answers in the window.  Confidence: the setting confidence.
-------------------------------------------------------------------------------------------------
CREATE VIEW cxkpi.experiment_results AS
WITH e AS (
    SELECT x.experiment, x.unit, x.control_variant, x.primary_metric, x.starts_at, x.ends_at,
           coalesce(x.ends_at, 'infinity') AS until
    FROM cxkpi.experiments AS x),
a AS (
    SELECT ea.experiment, ea.variant, ea.customer_id, ea.session_id, ea.assigned_at, e.until
    FROM cxkpi.experiment_assignments AS ea JOIN e USING (experiment)),
-- the orders of customer units in their window, once
wo AS (
    SELECT a.experiment, a.variant, a.customer_id, (o.gross_value - o.discount)::double precision AS net_value
    FROM a JOIN cxkpi.orders AS o ON o.customer_id = a.customer_id AND o.ordered_at >= a.assigned_at AND o.ordered_at < a.until),
units AS (
    SELECT a.experiment, a.variant, count(*) AS units FROM a GROUP BY a.experiment, a.variant),
ord AS (
    SELECT wo.experiment, wo.variant, count(DISTINCT wo.customer_id) AS converted, count(*) AS orders,
           avg(wo.net_value) AS aov, var_samp(wo.net_value) AS aov_var
    FROM wo GROUP BY wo.experiment, wo.variant),
sess AS (
    SELECT a.experiment, a.variant, count(*) AS converted
    FROM a JOIN cxkpi.web_sessions AS s ON s.session_id = a.session_id AND s.converted
    GROUP BY a.experiment, a.variant),
srv AS (
    SELECT a.experiment, a.variant,
           nps_agg(r.score) FILTER (WHERE r.survey = 'nps') AS nps,
           csat_agg(r.score, r.scale) FILTER (WHERE r.survey = 'csat' AND r.scale = cxkpi.setting('csat_scale')::integer) AS csat
    FROM a JOIN cxkpi.survey_responses AS r
         ON r.customer_id = a.customer_id AND r.responded_at >= a.assigned_at AND r.responded_at < a.until
    GROUP BY a.experiment, a.variant),
v AS (
    SELECT u.experiment, u.variant, u.units, coalesce(o.converted, 0) + coalesce(x.converted, 0) AS converted,
           o.orders, o.aov, o.aov_var, s.nps, s.csat
    FROM units AS u
    LEFT JOIN ord AS o USING (experiment, variant)
    LEFT JOIN sess AS x USING (experiment, variant)
    LEFT JOIN srv AS s USING (experiment, variant)),
conf AS (SELECT cxkpi.setting('confidence')::double precision AS confidence)
SELECT e.experiment, CASE WHEN e.ends_at IS NULL THEN 'running' ELSE 'ended' END AS status,
       e.unit, e.starts_at, e.ends_at, t.variant, e.control_variant, m.metric, m.metric = e.primary_metric AS is_primary,
       (m.r).n_a AS n_variant, (m.r).n_b AS n_control,
       (m.r).estimate_a AS value_variant, (m.r).estimate_b AS value_control, (m.r).difference,
       (m.r).ci_lower, (m.r).ci_upper, (m.r).p_value,
       (m.r).p_value < 1 - conf.confidence AS significant, conf.confidence
FROM e
JOIN v AS t ON t.experiment = e.experiment AND t.variant <> e.control_variant
JOIN v AS c ON c.experiment = e.experiment AND c.variant = e.control_variant
CROSS JOIN conf
CROSS JOIN LATERAL (VALUES
    ('conversion', proportion_test(t.converted, t.units, c.converted, c.units, conf.confidence)),
    ('aov', welch_test(t.orders, t.aov, t.aov_var, c.orders, c.aov, c.aov_var, conf.confidence)),
    ('csat_share', csat_share_test(t.csat, c.csat, conf.confidence)),
    ('csat_mean', csat_mean_test(t.csat, c.csat, conf.confidence)),
    ('nps', nps_test(t.nps, c.nps, conf.confidence))) AS m(metric, r)
WHERE e.unit = 'customer' OR m.metric = 'conversion';
COMMENT ON VIEW cxkpi.experiment_results IS
    'A/B tests as they stand: one row per experiment, variant (other than the control) and metric (conversion, aov, csat_share, csat_mean, nps; session experiments: conversion), with both values, the difference variant - control, its confidence interval and two-sided p-value (docs/experiments.md). Outcomes count from each unit''s assignment to the experiment''s end, or now while it runs.';
COMMENT ON COLUMN cxkpi.experiment_results.experiment IS 'The experiment.';
COMMENT ON COLUMN cxkpi.experiment_results.status IS 'running (no end yet) or ended.';
COMMENT ON COLUMN cxkpi.experiment_results.unit IS 'What is randomised: customer or session.';
COMMENT ON COLUMN cxkpi.experiment_results.starts_at IS 'Start of the experiment.';
COMMENT ON COLUMN cxkpi.experiment_results.ends_at IS 'End of the experiment (NULL while it runs).';
COMMENT ON COLUMN cxkpi.experiment_results.variant IS 'The variant compared with the control.';
COMMENT ON COLUMN cxkpi.experiment_results.control_variant IS 'The control.';
COMMENT ON COLUMN cxkpi.experiment_results.metric IS 'conversion (percent of units with an order; sessions: converted), aov (net order value, currency), csat_share (percent satisfied), csat_mean (mean score), nps (points).';
COMMENT ON COLUMN cxkpi.experiment_results.is_primary IS 'True for the experiment''s primary metric.';
COMMENT ON COLUMN cxkpi.experiment_results.n_variant IS 'Sample size of the variant: units (conversion), orders (aov) or answers (csat, nps).';
COMMENT ON COLUMN cxkpi.experiment_results.n_control IS 'The same for the control.';
COMMENT ON COLUMN cxkpi.experiment_results.value_variant IS 'The metric in the variant (percent, currency, score or points).';
COMMENT ON COLUMN cxkpi.experiment_results.value_control IS 'The metric in the control.';
COMMENT ON COLUMN cxkpi.experiment_results.difference IS 'value_variant - value_control (percentage points for conversion and csat_share).';
COMMENT ON COLUMN cxkpi.experiment_results.ci_lower IS 'Lower end of the confidence interval of the difference (Newcombe for shares, Welch for means, adjusted Wald for NPS).';
COMMENT ON COLUMN cxkpi.experiment_results.ci_upper IS 'Upper end of the confidence interval of the difference.';
COMMENT ON COLUMN cxkpi.experiment_results.p_value IS 'Two-sided p-value of no difference (z test for shares and NPS, Welch t test for means); NULL when undefined.';
COMMENT ON COLUMN cxkpi.experiment_results.significant IS 'p_value < 1 - confidence. Judge the primary metric at the planned sample size: looking every day and stopping at the first significant result inflates false positives.';
COMMENT ON COLUMN cxkpi.experiment_results.confidence IS 'Confidence level of the interval (setting confidence).';
GRANT SELECT ON cxkpi.experiment_results TO cxkpi_reader;

-- The same for BI logins (schema cxkpi_bi, docs/bi.md), with the comments of the cxkpi view.
CREATE VIEW cxkpi_bi.experiment_results AS
SELECT r.experiment, r.status, r.unit, r.starts_at, r.ends_at, r.variant, r.control_variant, r.metric, r.is_primary,
       r.n_variant, r.n_control, r.value_variant, r.value_control, r.difference, r.ci_lower, r.ci_upper, r.p_value,
       r.significant, r.confidence
FROM cxkpi.experiment_results AS r;
DO $$
DECLARE
    r record;
BEGIN
    EXECUTE format('COMMENT ON VIEW cxkpi_bi.experiment_results IS %L', obj_description('cxkpi.experiment_results'::regclass, 'pg_class'));
    FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS d FROM pg_attribute AS a
             WHERE a.attrelid = 'cxkpi.experiment_results'::regclass AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.experiment_results.%I IS %L', r.attname, r.d);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi_bi.experiment_results TO cxkpi_reader;

-------------------------------------------------------------------------------------------------
-- cxkpi.dashboard_maintain as 1.1 ships it (src/dashboard_rollups.sql): the refresh of stage 1,
-- with the alert evaluation (issue 14 stage 2), the forecast refits (issue 16 part 2) and the
-- first-order flags found by the refresh.
-------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION cxkpi.dashboard_maintain(rebuild_all boolean, concurrently boolean) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' SET jit = off AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    tz text := cxkpi.setting('time_zone');
    fp jsonb := cxkpi.dashboard_settings();
    conc boolean := $2;     -- "concurrently" is a keyword in PL/pgSQL expressions
    st record;
    r record;
    rng record;
    n bigint;
    total bigint;
    h0 date[];
    h1 date[];
    gs text[];
    ps date[];
    ga text[];
    pa date[];
    customers_changed boolean;
    models_stale boolean;
    mv text;
BEGIN
    IF NOT pg_try_advisory_xact_lock('cxkpi.change_log'::regclass::oid::bigint) THEN
        RAISE NOTICE 'cxkpi: another refresh of the dashboard is running; this call does nothing';
        RETURN;
    END IF;
    IF to_regclass('pg_temp.cxkpi_log') IS NOT NULL THEN
        DROP TABLE pg_temp.cxkpi_log;
    END IF;
    IF to_regclass('pg_temp.cxkpi_dirty') IS NOT NULL THEN
        DROP TABLE IF EXISTS pg_temp.cxkpi_dirty, pg_temp.cxkpi_changed, pg_temp.cxkpi_old, pg_temp.cxkpi_first;
    END IF;
    CREATE TEMP TABLE cxkpi_log ON COMMIT DROP AS SELECT l.ctid AS tid, l.fact, l.bucket FROM cxkpi.change_log AS l;
    SELECT * INTO st FROM cxkpi.dashboard_state;
    IF NOT FOUND OR st.settings IS DISTINCT FROM fp OR EXISTS (SELECT 1 FROM cxkpi_log WHERE bucket IS NULL) THEN
        rebuild_all := true;
    END IF;
    -- The customer models (RFM, CLV fit, scores, interventions) are global: every customer's
    -- scores move when the models are refitted, so they cannot be maintained day by day.  They
    -- are refitted by a rebuild, when never fitted or fitted for another reference date, and
    -- otherwise when facts changed since the last fit and customer_models_interval has passed
    -- (docs/architecture.md#customer-models).
    models_stale := coalesce(st.models_stale, false) OR EXISTS (SELECT 1 FROM cxkpi_log);
    customers_changed := rebuild_all OR st.models_refreshed_at IS NULL
                         OR st.models_settings IS DISTINCT FROM cxkpi.customer_models_settings()
                         OR NOT EXISTS (SELECT 1 FROM cxkpi.clv_models WHERE as_of = cxkpi.as_of())
                         OR (models_stale AND clock_timestamp() >= st.models_refreshed_at
                                                                  + cxkpi.setting('customer_models_interval')::interval);

    IF rebuild_all THEN
        FOR r IN SELECT * FROM cxkpi.dashboard_rollups() LOOP
            EXECUTE format(CASE WHEN conc THEN 'DELETE FROM cxkpi.%I' ELSE 'TRUNCATE cxkpi.%I' END, r.rollup);
            EXECUTE format('INSERT INTO cxkpi.%I SELECT * FROM cxkpi.%I($1, $2, $3)', r.rollup, 'rollup_' || r.rollup)
                USING tz, '-infinity'::date, 'infinity'::date;
            GET DIAGNOSTICS n = ROW_COUNT;
            EXECUTE format('ANALYZE cxkpi.%I', r.rollup);
            PERFORM cxkpi.progress_notice('refresh ' || r.rollup, n, t0);
        END LOOP;
        -- each customer's first order (step 2 of the incremental refresh compares with it)
        IF conc THEN
            DELETE FROM cxkpi.customer_first_orders;
        ELSE
            TRUNCATE cxkpi.customer_first_orders;
        END IF;
        INSERT INTO cxkpi.customer_first_orders (customer_id, order_id, ordered_at)
        SELECT DISTINCT ON (o.customer_id) o.customer_id, o.order_id, o.ordered_at
        FROM cxkpi.orders AS o ORDER BY o.customer_id, o.ordered_at, o.order_id;
        ANALYZE cxkpi.customer_first_orders;
        SELECT array_agg(p.grain), array_agg(p.period_start) INTO gs, ps
        FROM cxkpi.dashboard_days() AS b CROSS JOIN LATERAL cxkpi.periods_between(b.first_day, b.last_day) AS p;
        IF conc THEN
            DELETE FROM cxkpi.kpi_values;
        ELSE
            TRUNCATE cxkpi.kpi_values;
        END IF;
    ELSE
        CREATE TEMP TABLE cxkpi_dirty ON COMMIT DROP AS SELECT DISTINCT l.fact, l.bucket AS day FROM cxkpi_log AS l;
        -- First-order flags (step 2): the customers with an order on a dirty day of orders, or
        -- whose recorded first order was on one (deleted or moved); where a customer's first
        -- order is not the one recorded, the days of the old and the new first order are dirty
        -- for daily_orders (fact 'orders_first'), and the record is brought up to date.  Only
        -- flags that moved cost a day; writers log nothing for them.
        CREATE TEMP TABLE cxkpi_first ON COMMIT DROP AS
        WITH dd AS (SELECT (d.day::timestamp AT TIME ZONE tz) AS t0, ((d.day + 1)::timestamp AT TIME ZONE tz) AS t1
                    FROM cxkpi_dirty AS d WHERE d.fact = 'orders'),
        c AS (SELECT o.customer_id FROM dd JOIN cxkpi.orders AS o ON o.ordered_at >= dd.t0 AND o.ordered_at < dd.t1
              UNION
              SELECT f.customer_id FROM dd JOIN cxkpi.customer_first_orders AS f ON f.ordered_at >= dd.t0 AND f.ordered_at < dd.t1)
        SELECT c.customer_id, f.ordered_at AS old_at, n.order_id AS new_order, n.ordered_at AS new_at
        FROM c LEFT JOIN cxkpi.customer_first_orders AS f ON f.customer_id = c.customer_id
        LEFT JOIN LATERAL (SELECT o.order_id, o.ordered_at FROM cxkpi.orders AS o WHERE o.customer_id = c.customer_id
                           ORDER BY o.ordered_at, o.order_id LIMIT 1) AS n ON true
        WHERE (f.order_id, f.ordered_at) IS DISTINCT FROM (n.order_id, n.ordered_at);
        INSERT INTO cxkpi_dirty
        SELECT DISTINCT 'orders_first', (x.t AT TIME ZONE tz)::date
        FROM cxkpi_first AS f CROSS JOIN LATERAL (VALUES (f.old_at), (f.new_at)) AS x(t) WHERE x.t IS NOT NULL
        EXCEPT SELECT d.fact, d.day FROM cxkpi_dirty AS d;
        DELETE FROM cxkpi.customer_first_orders AS f USING cxkpi_first AS x WHERE f.customer_id = x.customer_id;
        INSERT INTO cxkpi.customer_first_orders (customer_id, order_id, ordered_at)
        SELECT x.customer_id, x.new_order, x.new_at FROM cxkpi_first AS x WHERE x.new_order IS NOT NULL;
        h0 := cxkpi.dashboard_horizons();
        -- the rollup days whose rows did change (only they make KPI periods dirty)
        CREATE TEMP TABLE cxkpi_changed (rollup text, day date) ON COMMIT DROP;
        CREATE TEMP TABLE cxkpi_old (day date, r text) ON COMMIT DROP;
        FOR r IN SELECT * FROM cxkpi.dashboard_rollups() LOOP
            total := 0;
            FOR rng IN
                SELECT min(y.day) AS first_day, max(y.day) AS last_day
                FROM (SELECT x.day, x.day - (row_number() OVER (ORDER BY x.day))::integer AS island
                      FROM (SELECT DISTINCT d.day FROM cxkpi_dirty AS d WHERE d.fact = ANY (r.facts)) AS x) AS y
                GROUP BY y.island
            LOOP
                EXECUTE format('INSERT INTO cxkpi_old SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2',
                               r.rollup) USING rng.first_day, rng.last_day;
                EXECUTE format('DELETE FROM cxkpi.%I WHERE day BETWEEN $1 AND $2', r.rollup) USING rng.first_day, rng.last_day;
                EXECUTE format('INSERT INTO cxkpi.%I SELECT * FROM cxkpi.%I($1, $2, $3)', r.rollup, 'rollup_' || r.rollup)
                    USING tz, rng.first_day, rng.last_day;
                GET DIAGNOSTICS n = ROW_COUNT;
                total := total + n;
                EXECUTE format('INSERT INTO cxkpi_changed
                                SELECT DISTINCT %L, q.day
                                FROM ((SELECT o.day, o.r FROM cxkpi_old AS o
                                       EXCEPT ALL SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2)
                                      UNION ALL
                                      (SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2
                                       EXCEPT ALL SELECT o.day, o.r FROM cxkpi_old AS o)) AS q', r.rollup, r.rollup, r.rollup)
                    USING rng.first_day, rng.last_day;
                TRUNCATE cxkpi_old;
            END LOOP;
            PERFORM cxkpi.progress_notice('refresh ' || r.rollup, total, t0);
        END LOOP;
        h1 := cxkpi.dashboard_horizons();
        -- the periods to recompute (docs/architecture.md, section 3); none when no rollup row
        -- changed and no horizon moved
        WITH cfg AS (
            SELECT cxkpi.setting('retention_active_window')::integer AS ret_w,
                   cxkpi.setting('loyalty_active_days')::integer AS loy_w),
        days (day, activity, loyalty, members) AS (
            SELECT DISTINCT c.day, c.rollup = 'daily_customer_activity', c.rollup = 'daily_loyalty',
                   c.rollup = 'daily_loyalty' AND c.day IN (SELECT d.day FROM cxkpi_dirty AS d WHERE d.fact = 'loyalty_members')
            FROM cxkpi_changed AS c
            -- horizons that moved: every day between the old and the new one
            UNION ALL
            SELECT x::date, true, false, false
            FROM generate_series(least(h0[1], h1[1]), greatest(h0[1], h1[1]), interval '1 day') AS x
            WHERE h0[1] IS DISTINCT FROM h1[1]
            UNION ALL
            SELECT x::date, true, false, false
            FROM generate_series(least(h0[2], h1[2]), greatest(h0[2], h1[2]), interval '1 day') AS x
            WHERE h0[2] IS DISTINCT FROM h1[2]
            UNION ALL
            SELECT x::date, false, false, false
            FROM generate_series(least(h0[3], h1[3]), greatest(h0[3], h1[3]), interval '1 day') AS x
            WHERE h0[3] IS DISTINCT FROM h1[3]
            UNION ALL
            SELECT x::date, false, false, false
            FROM generate_series(least(h0[4], h1[4]), greatest(h0[4], h1[4]), interval '1 day') AS x
            WHERE h0[4] IS DISTINCT FROM h1[4]),
        aff AS (
            -- the period of the day at every grain
            SELECT p.grain, p.period_start FROM days AS d CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day) AS p
            -- retention: the retention_active_window periods after it
            UNION
            SELECT p.grain, (p.period_start + k * cxkpi.grain_interval(p.grain))::date
            FROM days AS d CROSS JOIN cfg CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day) AS p
            CROSS JOIN LATERAL generate_series(1, cfg.ret_w) AS k
            WHERE d.activity AND p.grain <> 'day'
            -- loyalty activity: the periods whose active window (loyalty_active_days up to the end) has the day
            UNION
            SELECT p.grain, p.period_start
            FROM days AS d CROSS JOIN cfg CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day + cfg.loy_w - 1) AS p
            WHERE d.loyalty AND p.grain <> 'day'
            -- enrolments: the members of every period up to the data horizon
            UNION
            SELECT p.grain, p.period_start
            FROM cxkpi.periods_between((SELECT min(d.day) FROM days AS d WHERE d.members), greatest(h0[4], h1[4])) AS p)
        -- ga, pa: those periods (their own values change); gs, ps: with the periods after them and
        -- a year after them (only their previous and year-ago values change)
        SELECT array_agg(t.grain), array_agg(t.period_start),
               array_agg(t.grain) FILTER (WHERE t.own), array_agg(t.period_start) FILTER (WHERE t.own)
        INTO gs, ps, ga, pa
        FROM (SELECT u.grain, u.period_start, bool_or(u.own) AS own
              FROM (SELECT a.grain, a.period_start, true AS own FROM aff AS a
                    UNION ALL SELECT a.grain, (a.period_start + cxkpi.grain_interval(a.grain))::date, false FROM aff AS a
                    UNION ALL SELECT a.grain, CASE WHEN a.grain IN ('day', 'week') THEN a.period_start + 364
                                                   ELSE (a.period_start + interval '1 year')::date END, false
                              FROM aff AS a) AS u
              GROUP BY 1, 2) AS t
        WHERE EXISTS (SELECT 1 FROM cxkpi_changed) OR h0 IS DISTINCT FROM h1;
        DELETE FROM cxkpi.kpi_values AS v USING unnest(ga, pa) AS t(grain, period_start)
        WHERE v.grain = t.grain AND v.period_start = t.period_start;
    END IF;
    IF rebuild_all THEN
        ga := gs;
        pa := ps;
    END IF;
    -- the periods' rows, with the previous and year-ago values of the periods not recomputed read
    -- from kpi_values (cxkpi.kpi_engine)
    INSERT INTO cxkpi.kpi_values SELECT * FROM cxkpi.kpi_engine(ga, pa);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF NOT rebuild_all THEN
        -- the periods after and a year after them: their previous or year-ago value, where that
        -- period was recomputed (as the engine's windows give it: the value of the same KPI,
        -- breakdown and dimension in that period, NULL when it has no such row)
        UPDATE cxkpi.kpi_values AS v
        SET previous_value = CASE WHEN f.prev_own THEN (SELECT p.value FROM cxkpi.kpi_values AS p
                                                       WHERE p.grain = v.grain AND p.period_start = f.prev_start
                                                         AND p.kpi = v.kpi AND p.breakdown = v.breakdown
                                                         AND p.dimension = v.dimension)
                                  ELSE v.previous_value END,
            (value_year_ago, sample_size_year_ago) =
                (SELECT CASE WHEN f.ya_own THEN y.value ELSE v.value_year_ago END,
                        CASE WHEN f.ya_own THEN y.sample_size ELSE v.sample_size_year_ago END
                 FROM (SELECT) AS one
                 LEFT JOIN cxkpi.kpi_values AS y
                        ON y.grain = v.grain AND y.period_start = f.ya_start AND y.kpi = v.kpi
                       AND y.breakdown = v.breakdown AND y.dimension = v.dimension)
        FROM (SELECT x.grain, x.period_start, x.prev_start, x.ya_start,
                     (x.grain, x.prev_start) IN (SELECT o.grain, o.period_start FROM unnest(ga, pa) AS o(grain, period_start)) AS prev_own,
                     (x.grain, x.ya_start) IN (SELECT o.grain, o.period_start FROM unnest(ga, pa) AS o(grain, period_start)) AS ya_own
              FROM (SELECT t.grain, t.period_start, cxkpi.previous_period_start(t.grain, t.period_start) AS prev_start,
                           cxkpi.year_ago_period_start(t.grain, t.period_start) AS ya_start
                    FROM (SELECT * FROM unnest(gs, ps) EXCEPT SELECT * FROM unnest(ga, pa)) AS t(grain, period_start)) AS x) AS f
        WHERE v.grain = f.grain AND v.period_start = f.period_start AND (f.prev_own OR f.ya_own);
    END IF;
    IF rebuild_all THEN
        ANALYZE cxkpi.kpi_values;
    END IF;
    PERFORM cxkpi.progress_notice('refresh kpi_values', n, t0);
    -- the alert levels of the recomputed rows and of the open periods (docs/alerts.md)
    n := cxkpi.alert_evaluate(gs, ps, rebuild_all);
    PERFORM cxkpi.progress_notice('refresh alerts', n, t0);   -- rows appended to the outbox
    -- the follow-ups of new detractor and dissatisfied answers (docs/feedback.md)
    n := cxkpi.feedback_raise(ARRAY(SELECT l.bucket FROM cxkpi_log AS l WHERE l.fact = 'survey_responses' AND l.bucket IS NOT NULL),
                              rebuild_all);
    PERFORM cxkpi.progress_notice('refresh feedback follow-ups', n, t0);

    -- the forecast series whose input changed (src/dashboard_forecast.sql)
    PERFORM cxkpi.forecasts_maintain(rebuild_all, t0);

    IF customers_changed THEN
        PERFORM cxkpi.customer_models_refresh(conc, t0);
    END IF;

    DELETE FROM cxkpi.change_log WHERE ctid = ANY (ARRAY(SELECT l.tid FROM cxkpi_log AS l));
    INSERT INTO cxkpi.dashboard_state AS s (id, settings, rebuilt_at, refreshed_at, models_refreshed_at, models_stale,
                                            models_settings)
    VALUES (true, fp, now(), now(), CASE WHEN customers_changed THEN clock_timestamp() END, NOT customers_changed AND models_stale,
            CASE WHEN customers_changed THEN cxkpi.customer_models_settings() END)
    ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, refreshed_at = EXCLUDED.refreshed_at,
                                   rebuilt_at = CASE WHEN rebuild_all THEN EXCLUDED.rebuilt_at ELSE s.rebuilt_at END,
                                   models_refreshed_at = coalesce(EXCLUDED.models_refreshed_at, s.models_refreshed_at),
                                   models_stale = EXCLUDED.models_stale,
                                   models_settings = coalesce(EXCLUDED.models_settings, s.models_settings);
    DROP TABLE pg_temp.cxkpi_log;
    IF NOT rebuild_all THEN
        DROP TABLE pg_temp.cxkpi_dirty, pg_temp.cxkpi_changed, pg_temp.cxkpi_old, pg_temp.cxkpi_first;
    END IF;
END $$;
COMMENT ON FUNCTION cxkpi.dashboard_maintain(boolean, boolean) IS
    'Internal: the work of cxkpi.refresh_dashboard (incremental) and cxkpi.rebuild_dashboard (rebuild_all).';
REVOKE ALL ON FUNCTION cxkpi.dashboard_maintain(boolean, boolean) FROM PUBLIC;

-------------------------------------------------------------------------------------------------
-- Issue 14, stage 3 (the hour grain) and issue 17 (peak periods), docs/architecture.md#the-hour-grain:
-- the hourly rollups of sessions, orders, carts and tickets (maintained by the refresh like the
-- daily ones: cxkpi.dashboard_rollups lists them, so the first refresh after the update, a
-- rebuild, fills them), cxkpi.kpi_arithmetic (the arithmetic the engine and the hourly views
-- share; cxkpi.kpi_engine as 1.1 ships it, calling it), the setting peak_weeks and the views
-- cxkpi.kpi_hourly, kpi_today, kpi_heatmap with their cxkpi_bi names (src/dashboard_hourly.sql,
-- verbatim).
-------------------------------------------------------------------------------------------------
ALTER TABLE cxkpi.settings DROP CONSTRAINT settings_key_known;
ALTER TABLE cxkpi.settings ADD CONSTRAINT settings_key_known CHECK (key IN (
        'as_of', 'scorecard_grain', 'time_zone', 'confidence', 'retention_active_window',
        'loyalty_active_days', 'csat_scale', 'ces_scale', 'alert_grain', 'gone_p_alive',
        'customer_models_interval', 'alerting', 'peak_weeks'));
CREATE OR REPLACE FUNCTION cxkpi.settings_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ok boolean;
    hint text;
BEGIN
    CASE NEW.key
    WHEN 'as_of' THEN
        ok := NEW.value = '' OR NEW.value ~ '^\d{4}-\d{2}-\d{2}$';
        IF ok AND NEW.value <> '' THEN PERFORM NEW.value::date; END IF;
        hint := 'Use a date such as 2026-10-31, or '''' for the current date.';
    WHEN 'scorecard_grain' THEN
        ok := NEW.value IN ('week', 'month', 'quarter', 'year');
        hint := 'Use week, month, quarter or year.';
    WHEN 'alert_grain' THEN
        ok := NEW.value IN ('day', 'week', 'month', 'quarter', 'year');
        hint := 'Use day, week, month, quarter or year; the next refresh evaluates the alerts at the new grain.';
    WHEN 'alerting' THEN
        ok := NEW.value IN ('true', 'false');
        hint := 'Use true or false, or SELECT cxkpi.set_alerting(true) / cxkpi.set_alerting(false).';
    WHEN 'time_zone' THEN
        ok := EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.value)
              OR EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = NEW.value);
        hint := 'Use a time zone name from pg_timezone_names, such as UTC or Europe/Paris.';
    WHEN 'confidence' THEN
        ok := NEW.value ~ '^0\.\d+$' AND NEW.value::float8 > 0 AND NEW.value::float8 < 1;
        hint := 'Use a confidence level strictly between 0 and 1, such as 0.95.';
    WHEN 'retention_active_window', 'loyalty_active_days' THEN
        ok := NEW.value ~ '^[1-9]\d{0,4}$';
        hint := 'Use a positive integer.';
    WHEN 'gone_p_alive' THEN
        ok := NEW.value ~ '^0(\.\d+)?$';
        hint := 'Use a probability from 0 to below 1, such as 0.1 (0: nobody is considered gone).';
    WHEN 'customer_models_interval' THEN
        BEGIN
            ok := NEW.value::interval BETWEEN interval '0' AND interval '7 days';
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
            ok := false;
        END;
        hint := 'Use an interval from 0 to 7 days, such as 1 hour (0: at every refresh that has changes).';
    WHEN 'csat_scale' THEN
        ok := NEW.value IN ('2', '3', '5', '7', '10');
        hint := 'Use 2, 3, 5, 7 or 10.';
    WHEN 'ces_scale' THEN
        ok := NEW.value IN ('5', '7');
        hint := 'Use 5 or 7.';
    WHEN 'peak_weeks' THEN
        ok := NEW.value ~ '^[1-9]\d?$' AND NEW.value::integer <= 52;
        hint := 'Use a number of weeks from 1 to 52.';
    ELSE
        ok := true;     -- an unknown key: the CHECK constraint names it
    END CASE;
    IF NOT ok THEN
        RAISE EXCEPTION 'invalid value "%" for cxkpi setting "%"', NEW.value, NEW.key
            USING ERRCODE = 'invalid_parameter_value', HINT = hint;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.is_default AND NEW.is_default THEN
        NEW.is_default := NEW.value = OLD.value AND NEW.description = OLD.description;
    END IF;
    RETURN NEW;
END $$;
INSERT INTO cxkpi.settings (key, value, description, is_default) VALUES
    ('peak_weeks', '8', 'Weeks of the usual level of today so far (the same weekday in the N weeks before, cxkpi_bi.kpi_today) and of the peak-period heat map (cxkpi_bi.kpi_heatmap), 1 to 52.', true);

-------------------------------------------------------------------------------------------------
-- Hourly rollups of what seed 000 tracks in real time (docs/architecture.md#the-hour-grain):
-- sessions and conversions, orders, carts, support tickets per local hour.  Maintained by the
-- same refresh as the daily ones (a dirty day recomputes its hours; cxkpi.dashboard_rollups()),
-- keyed by the local day and the hour of the day (0-23) in setting time_zone: the wall-clock
-- hour, so that a day on which the clocks go back has one hour holding two real hours, and a day
-- on which they go forward has no row for the hour skipped.  Store footfall
-- (cxkpi.store_traffic) is counted per day, so hourly conversion covers web and app sessions.
-------------------------------------------------------------------------------------------------

-- Web and app sessions per local day, hour and device: visits, funnel steps, conversions.
CREATE TABLE cxkpi.hourly_conversion (day date, hour integer, device text, visits bigint, added_to_cart bigint,
    reached_checkout bigint, conversions bigint);
CREATE UNIQUE INDEX hourly_conversion_key ON cxkpi.hourly_conversion (day, hour, device);
CREATE FUNCTION cxkpi.rollup_hourly_conversion(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_conversion
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (s.started_at AT TIME ZONE tz)::date AS day, extract(hour FROM s.started_at AT TIME ZONE tz)::integer AS hour,
       s.device, count(*) AS visits, count(*) FILTER (WHERE s.added_to_cart) AS added_to_cart,
       count(*) FILTER (WHERE s.reached_checkout) AS reached_checkout, count(*) FILTER (WHERE s.converted) AS conversions
FROM cxkpi.web_sessions AS s
WHERE s.started_at >= (first_day::timestamp AT TIME ZONE tz) AND s.started_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Orders per local day, hour and channel: count, items and net value (gross - discount).
CREATE TABLE cxkpi.hourly_orders (day date, hour integer, channel text, orders bigint, items bigint, net_value numeric);
CREATE UNIQUE INDEX hourly_orders_key ON cxkpi.hourly_orders (day, hour, channel);
CREATE FUNCTION cxkpi.rollup_hourly_orders(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_orders
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (o.ordered_at AT TIME ZONE tz)::date AS day, extract(hour FROM o.ordered_at AT TIME ZONE tz)::integer AS hour,
       o.channel, count(*) AS orders, sum(o.items) AS items, sum(o.gross_value - o.discount) AS net_value
FROM cxkpi.orders AS o
WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Carts per local creation day, hour and device (cohort of the creation hour).
CREATE TABLE cxkpi.hourly_carts (day date, hour integer, device text, carts bigint, converted bigint, abandoned bigint,
    recovered bigint);
CREATE UNIQUE INDEX hourly_carts_key ON cxkpi.hourly_carts (day, hour, device);
CREATE FUNCTION cxkpi.rollup_hourly_carts(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_carts
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (k.created_at AT TIME ZONE tz)::date AS day, extract(hour FROM k.created_at AT TIME ZONE tz)::integer AS hour,
       k.device, count(*) AS carts, count(*) FILTER (WHERE k.converted_at IS NOT NULL) AS converted,
       count(*) FILTER (WHERE k.converted_at IS NULL) AS abandoned,
       count(*) FILTER (WHERE k.recovered_at IS NOT NULL) AS recovered
FROM cxkpi.carts AS k
WHERE k.created_at >= (first_day::timestamp AT TIME ZONE tz) AND k.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Tickets per local creation day, hour and channel (cohort of the creation hour), with the first
-- response times kept as cxkpi.daily_tickets keeps them (their sum, and the sorted hours).
CREATE TABLE cxkpi.hourly_tickets (day date, hour integer, channel text, tickets bigint, responded bigint,
    response_hours_sum double precision, response_hours double precision[], resolved bigint);
CREATE UNIQUE INDEX hourly_tickets_key ON cxkpi.hourly_tickets (day, hour, channel);
CREATE FUNCTION cxkpi.rollup_hourly_tickets(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_tickets
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.created_at AT TIME ZONE tz)::date AS day, extract(hour FROM t.created_at AT TIME ZONE tz)::integer AS hour,
       t.channel, count(*) AS tickets, count(t.first_response_at) AS responded,
       coalesce(sum(extract(epoch FROM t.first_response_at - t.created_at) / 3600), 0)::double precision
           AS response_hours_sum,
       coalesce(array_agg(extract(epoch FROM t.first_response_at - t.created_at)::double precision / 3600
                          ORDER BY t.first_response_at - t.created_at)
                    FILTER (WHERE t.first_response_at IS NOT NULL), '{}') AS response_hours,
       count(t.resolved_at) AS resolved
FROM cxkpi.support_tickets AS t
WHERE t.created_at >= (first_day::timestamp AT TIME ZONE tz) AND t.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

COMMENT ON TABLE cxkpi.hourly_conversion IS 'Internal rollup: web and app sessions, funnel steps and conversions per local day, hour of the day (0-23, setting time_zone) and device.';
COMMENT ON TABLE cxkpi.hourly_orders IS 'Internal rollup: orders, items and net value (gross - discount) per local day, hour of the day (0-23, setting time_zone) and channel.';
COMMENT ON TABLE cxkpi.hourly_carts IS 'Internal rollup: carts created, converted, abandoned and recovered per local creation day, hour of the day (0-23, setting time_zone) and device.';
COMMENT ON TABLE cxkpi.hourly_tickets IS 'Internal rollup: tickets, exact first response times (hours) and resolutions per local creation day, hour of the day (0-23, setting time_zone) and channel.';
COMMENT ON FUNCTION cxkpi.rollup_hourly_conversion(text, date, date) IS 'Internal: the rows of cxkpi.hourly_conversion of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_hourly_orders(text, date, date) IS 'Internal: the rows of cxkpi.hourly_orders of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_hourly_carts(text, date, date) IS 'Internal: the rows of cxkpi.hourly_carts of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_hourly_tickets(text, date, date) IS 'Internal: the rows of cxkpi.hourly_tickets of the days first_day to last_day (in time zone tz).';

CREATE OR REPLACE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']),
           ('hourly_conversion', ARRAY['web_sessions']),
           ('hourly_orders', ARRAY['orders']),
           ('hourly_carts', ARRAY['carts']),
           ('hourly_tickets', ARRAY['support_tickets']) $$;
COMMENT ON FUNCTION cxkpi.dashboard_rollups() IS
    'Internal: the daily and hourly rollups in refresh order, with the fact tables (cxkpi.change_log.fact) whose days they read.';

-- The arithmetic of the KPIs that have an hour grain, written once from their additive state:
-- value, numerator, denominator, sample size and interval of kpi from the sums num (numerator)
-- and den (denominator; NULL for a volume).  cxkpi.kpi_engine calls it for every period of the
-- daily rollups, the hourly views (src/dashboard_hourly.sql) for hours, today so far and the
-- heat map, so a KPI's formula is in one place (docs/architecture.md#the-hour-grain).  Shares
-- are in percent with a Wilson interval; means (aov, response_time_hours) are sums over counts;
-- volumes (sessions, orders, tickets, net_revenue) are the sum itself.  Unknown KPIs give NULL.
-- A SQL-standard body: inlined where it is called, and readers of cxkpi_bi (no USAGE on schema
-- cxkpi) can run it.
CREATE FUNCTION cxkpi.kpi_arithmetic(kpi text, num numeric, den numeric, conf double precision)
    RETURNS TABLE (value double precision, numerator double precision, denominator double precision,
                   sample_size bigint, ci_lower double precision, ci_upper double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'aov' THEN (num / nullif(den, 0))::double precision
                WHEN kpi = 'response_time_hours' THEN num::double precision / nullif(den, 0)::double precision
                WHEN kpi IN ('sessions', 'orders', 'tickets', 'net_revenue') THEN num::double precision END,
           num::double precision, den::double precision,
           CASE WHEN kpi IN ('sessions', 'orders', 'tickets') THEN num::bigint ELSE den::bigint END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf) END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf) END;
END;
COMMENT ON FUNCTION cxkpi.kpi_arithmetic(text, numeric, numeric, double precision) IS
    'Internal: the arithmetic of the KPIs with an hour grain (conversion_rate, cart_abandonment_rate, aov, response_time_hours, sessions, orders, tickets, net_revenue) from the sums of their numerator and denominator: value, numerator, denominator, sample size and Wilson interval (shares). Used by cxkpi.kpi_engine and the hourly views alike.';

-- ======================================================================================
-- Exact percentiles over arrays of values (src/quantiles.c; docs/dashboard.md#exact-percentiles):
-- the dashboard's medians and p90s of durations kept as one array of exact values per day.
-- ======================================================================================

CREATE FUNCTION exact_percentiles_trans(internal, double precision[], double precision[]) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_final(internal, double precision[], double precision[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE exact_percentiles("values" double precision[], fractions double precision[]) (
    SFUNC = exact_percentiles_trans, STYPE = internal,
    COMBINEFUNC = exact_percentiles_combine,
    SERIALFUNC = exact_percentiles_serialize, DESERIALFUNC = exact_percentiles_deserialize,
    FINALFUNC = exact_percentiles_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE exact_percentiles(double precision[], double precision[]) IS
    'Exact percentiles (percentile_cont''s definition, bit for bit) of every element of every array of the group, one per fraction: exact_percentiles(response_hours, ''{0.5,0.9}''). NULL elements are skipped; NULL when the group has no value.';
COMMENT ON FUNCTION exact_percentiles_trans(internal, double precision[], double precision[]) IS 'Internal: transition function of exact_percentiles.';
COMMENT ON FUNCTION exact_percentiles_combine(internal, internal) IS 'Internal: combine function of exact_percentiles (parallel query).';
COMMENT ON FUNCTION exact_percentiles_serialize(internal) IS 'Internal: serialisation of a partial exact_percentiles state.';
COMMENT ON FUNCTION exact_percentiles_deserialize(bytea, internal) IS 'Internal: deserialisation of a partial exact_percentiles state.';
COMMENT ON FUNCTION exact_percentiles_final(internal, double precision[], double precision[]) IS 'Internal: final function of exact_percentiles.';

CREATE OR REPLACE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for, and the previous and year-ago periods of each
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
per AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start, (x.period_start + cxkpi.grain_interval(q.grain))::date - 1 AS period_end
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (q.period_start), (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- the accessors once per period: each reads the whole summary of the period (a year's is large)
act AS (
    SELECT a.grain, a.period_start, a.orders, @extschema@.customers(a.s) AS customers,
           @extschema@.repeat_customer_rate(a.s) AS repeat_rate
    FROM (SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
          FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY 1, 2) AS a),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- exact median and p90 of the days' arrays of response hours (percentile_cont's values, one sort
-- per group: src/quantiles.c)
tp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.responded, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.response_hours)) AS responded,
                 @extschema@.exact_percentiles(d.response_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.responded > 0),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, k.*
    FROM cv, cfg, LATERAL cxkpi.kpi_arithmetic('conversion_rate', conversions, visits, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, k.*
    FROM od, cfg, LATERAL cxkpi.kpi_arithmetic('aov', net_value, orders, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, k.*
    FROM ct, cfg, LATERAL cxkpi.kpi_arithmetic('cart_abandonment_rate', abandoned, carts, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, k.*
    FROM tk, cfg, LATERAL cxkpi.kpi_arithmetic('response_time_hours', response_hours_sum, responded, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', repeat_rate,
           round(repeat_rate * customers / 100), customers, customers,
           cxkpi.wilson_ci_lower(round(repeat_rate * customers / 100)::bigint, customers, conf),
           cxkpi.wilson_ci_upper(round(repeat_rate * customers / 100)::bigint, customers, conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / customers,
           orders, customers, customers, NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / a.customers)
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, a.customers, NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per), so the windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg),
ann AS (
    SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
           c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
           CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER series END AS previous_value,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER years END AS value_year_ago,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
    FROM cur AS c
    WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;
COMMENT ON FUNCTION cxkpi.kpi_engine(text[], date[]) IS
    'Internal: the KPI engine, every KPI''s arithmetic written once: the cxkpi.kpi_values rows of the periods given (grains[i], period_starts[i]), from the daily rollups. The full rebuild and the incremental refresh both call it.';

-- The hour grain (issue 14) and peak-period tracking (issue 17), docs/dashboard.md#the-hour-grain:
-- the real-time KPIs per local hour, "today so far" against the usual level of the same weekday,
-- and the hour-of-day x weekday heat map.  All three read the hourly rollups
-- (src/dashboard_rollups.sql, maintained by the refresh) through cxkpi.hourly_kpi_state and take
-- every value from cxkpi.kpi_arithmetic, the function cxkpi.kpi_engine uses for these KPIs: no
-- formula is written here.  Views cxkpi.kpi_hourly, kpi_today, kpi_heatmap, and their names in
-- schema cxkpi_bi for BI logins (src/bi.sql).

-- The additive state of every real-time KPI per local day, hour and breakdown (total, device
-- or channel), in long format: num and den are the sums the KPI's value is computed from (den
-- NULL for a volume: sessions, orders, net_revenue, tickets).
CREATE VIEW cxkpi.hourly_kpi_state AS
-- (each breakdown by a plain GROUP BY, not GROUPING SETS, so that a filter on the day reaches
-- the index of each rollup)
WITH cv AS (
    SELECT h.day, h.hour::bigint AS hour, 'device' AS breakdown, h.device AS dimension, h.visits::numeric AS visits,
           h.conversions::numeric AS conversions
    FROM cxkpi.hourly_conversion AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.visits), sum(h.conversions) FROM cxkpi.hourly_conversion AS h GROUP BY 1, 2),
od AS (
    SELECT h.day, h.hour::bigint AS hour, 'channel' AS breakdown, h.channel AS dimension, h.orders::numeric AS orders, h.net_value
    FROM cxkpi.hourly_orders AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.orders), sum(h.net_value) FROM cxkpi.hourly_orders AS h GROUP BY 1, 2),
ct AS (
    SELECT h.day, h.hour::bigint AS hour, 'device' AS breakdown, h.device AS dimension, h.carts::numeric AS carts,
           h.abandoned::numeric AS abandoned
    FROM cxkpi.hourly_carts AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.carts), sum(h.abandoned) FROM cxkpi.hourly_carts AS h GROUP BY 1, 2),
tk AS (
    SELECT h.day, h.hour::bigint AS hour, 'channel' AS breakdown, h.channel AS dimension, h.tickets::numeric AS tickets,
           h.responded::numeric AS responded, h.response_hours_sum::numeric AS response_hours_sum
    FROM cxkpi.hourly_tickets AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.tickets), sum(h.responded), sum(h.response_hours_sum::numeric)
    FROM cxkpi.hourly_tickets AS h GROUP BY 1, 2)
SELECT cv.day, cv.hour, x.kpi, cv.breakdown, cv.dimension, x.num, x.den
FROM cv CROSS JOIN LATERAL (VALUES ('sessions', cv.visits, NULL::numeric), ('conversion_rate', cv.conversions, cv.visits))
    AS x(kpi, num, den)
UNION ALL
SELECT od.day, od.hour, x.kpi, od.breakdown, od.dimension, x.num, x.den
FROM od CROSS JOIN LATERAL (VALUES ('orders', od.orders, NULL::numeric), ('net_revenue', od.net_value, NULL),
                                   ('aov', od.net_value, od.orders)) AS x(kpi, num, den)
UNION ALL
SELECT ct.day, ct.hour, 'cart_abandonment_rate', ct.breakdown, ct.dimension, ct.abandoned, ct.carts FROM ct
UNION ALL
SELECT tk.day, tk.hour, x.kpi, tk.breakdown, tk.dimension, x.num, x.den
FROM tk CROSS JOIN LATERAL (VALUES ('tickets', tk.tickets, NULL::numeric), ('response_time_hours', tk.response_hours_sum, tk.responded))
    AS x(kpi, num, den);
COMMENT ON COLUMN cxkpi.hourly_kpi_state.day IS 'Local day (setting time_zone).';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.hour IS 'Local hour of the day, 0-23 (wall-clock).';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.breakdown IS 'total, device or channel.';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.dimension IS 'The device or channel; all for the total.';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.num IS 'Sum the value is computed from: its numerator (the volume itself for a volume).';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.den IS 'Sum of the denominator; NULL for a volume.';
COMMENT ON VIEW cxkpi.hourly_kpi_state IS
    'Internal: the additive state (num, den; den NULL for a volume) of the real-time KPIs per local day, hour and breakdown, from the hourly rollups; values come from cxkpi.kpi_arithmetic.';

-- "Today" and the hours of it that have begun: the reference instant is now(), or, when the
-- setting as_of is set, the start of that day if it is earlier (the scorecard shows the periods
-- before as_of; the sample data sets it to the day after its last).  Today is the local day
-- in progress at that instant, and its hours 0 to last_hour have begun (the last one may be in
-- progress).  The usual level and the heat map read the setting peak_weeks.
CREATE FUNCTION cxkpi.realtime_now(OUT ref timestamptz, OUT today date, OUT last_hour integer, OUT weeks integer)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT r.ref, (r.loc - interval '1 microsecond')::date,
           least(ceil(extract(epoch FROM r.loc - (r.loc - interval '1 microsecond')::date::timestamp) / 3600)::integer - 1, 23),
           cxkpi.setting('peak_weeks')::integer
    FROM (SELECT q.ref, q.ref AT TIME ZONE cxkpi.setting('time_zone') AS loc
          FROM (SELECT least(now(), CASE WHEN cxkpi.setting('as_of') <> ''
                                         THEN cxkpi.as_of()::timestamp AT TIME ZONE cxkpi.setting('time_zone') END) AS ref) AS q) AS r;
END;
COMMENT ON FUNCTION cxkpi.realtime_now() IS
    'Internal: the reference instant of the hourly views (now(), or the start of the as_of day when that setting is set and earlier), the local day in progress at it (today), the last hour of today that has begun, and the setting peak_weeks.';

-- The real-time KPIs with their display name, order and unit: the catalogue's for the KPIs of the
-- engine, and for the four volumes, which are not KPIs of the scorecard (no kpi_definitions row,
-- no daily value), a name and unit here and no order.
CREATE VIEW cxkpi.hourly_kpis AS
SELECT k.kpi, coalesce(c.kpi_name, k.name) AS kpi_name, c.kpi_order, coalesce(c.unit, k.unit) AS unit
FROM (VALUES ('sessions', 'Sessions', 'count'), ('conversion_rate', NULL, NULL), ('cart_abandonment_rate', NULL, NULL),
             ('orders', 'Orders', 'count'), ('net_revenue', 'Net revenue', 'currency'), ('aov', NULL, NULL),
             ('tickets', 'Support tickets', 'count'), ('response_time_hours', NULL, NULL)) AS k(kpi, name, unit)
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = k.kpi;
COMMENT ON COLUMN cxkpi.hourly_kpis.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.hourly_kpis.kpi_name IS 'Display name.';
COMMENT ON COLUMN cxkpi.hourly_kpis.kpi_order IS 'Display order (cxkpi_bi.kpi_catalog); NULL for the volumes.';
COMMENT ON COLUMN cxkpi.hourly_kpis.unit IS 'Unit of the value.';
COMMENT ON VIEW cxkpi.hourly_kpis IS
    'Internal: the KPIs of the hourly views with their display name, order (the catalogue''s; NULL for the volumes sessions, orders, net_revenue, tickets, which have no kpi_definitions row) and unit.';

-- Real-time KPIs per local hour.
CREATE VIEW cxkpi.kpi_hourly AS
SELECT (s.day + make_interval(hours => s.hour::integer))::timestamp AT TIME ZONE c.tz AS "time", s.day, s.hour,
       extract(isodow FROM s.day)::bigint AS weekday, s.kpi, n.kpi_name, n.kpi_order, n.unit, s.breakdown, s.dimension,
       k.value, k.numerator, k.denominator, k.sample_size, k.ci_lower, k.ci_upper
FROM cxkpi.hourly_kpi_state AS s
CROSS JOIN (SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf) AS c
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(s.kpi, s.num, s.den, c.conf) AS k
LEFT JOIN cxkpi.hourly_kpis AS n ON n.kpi = s.kpi;

-- Today so far against the usual level: each real-time KPI over hours 0 to last_hour of today,
-- and over the same hours of the peak_weeks same weekdays before (pooled: a rate is the rate of
-- their summed numerators and denominators, a volume the mean per day), from the first day of
-- the hourly rollups on.
CREATE VIEW cxkpi.kpi_today AS
WITH c AS (
    SELECT n.ref, n.today, n.last_hour, n.weeks, cxkpi.setting('confidence')::double precision AS conf,
           (SELECT min(m.day) FROM (SELECT min(day) FROM cxkpi.hourly_conversion UNION ALL SELECT min(day) FROM cxkpi.hourly_orders
                                    UNION ALL SELECT min(day) FROM cxkpi.hourly_carts
                                    UNION ALL SELECT min(day) FROM cxkpi.hourly_tickets) AS m(day)) AS first_day
    FROM cxkpi.realtime_now() AS n),
bd AS (   -- the same weekdays before today
    SELECT (c.today - 7 * k) AS day FROM c, generate_series(1, c.weeks) AS k WHERE c.today - 7 * k >= c.first_day),
cur AS (
    SELECT s.kpi, s.breakdown, s.dimension, sum(s.num) AS num, sum(s.den) AS den, bool_and(s.den IS NULL) AS volume
    FROM cxkpi.hourly_kpi_state AS s, c
    WHERE s.day = (SELECT n.today FROM cxkpi.realtime_now() AS n) AND s.hour <= c.last_hour GROUP BY 1, 2, 3),
base AS (
    SELECT s.kpi, s.breakdown, s.dimension, sum(s.num) AS num, sum(s.den) AS den, bool_and(s.den IS NULL) AS volume
    FROM cxkpi.hourly_kpi_state AS s, c
    WHERE s.day BETWEEN (SELECT min(bd.day) FROM bd) AND (SELECT max(bd.day) FROM bd)   -- (a range scan)
      AND s.day IN (SELECT bd.day FROM bd) AND s.hour <= c.last_hour GROUP BY 1, 2, 3),
keys AS (
    SELECT kpi, breakdown, dimension, volume FROM cur UNION SELECT kpi, breakdown, dimension, volume FROM base)
SELECT c.today AS day, c.ref AS "time", c.last_hour::bigint AS last_hour, y.kpi, n.kpi_name, n.kpi_order, n.unit, y.breakdown, y.dimension,
       t.value, t.numerator, t.denominator, t.sample_size, t.ci_lower, t.ci_upper,
       u.value AS usual_value, (SELECT count(*) FROM bd) AS usual_days,
       t.value - u.value AS difference, 100 * (t.value - u.value) / nullif(u.value, 0) AS difference_pct
FROM keys AS y CROSS JOIN c
LEFT JOIN cur ON (cur.kpi, cur.breakdown, cur.dimension) = (y.kpi, y.breakdown, y.dimension)
LEFT JOIN base ON (base.kpi, base.breakdown, base.dimension) = (y.kpi, y.breakdown, y.dimension)
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(y.kpi, CASE WHEN y.volume THEN coalesce(cur.num, 0) ELSE cur.num END, cur.den, c.conf) AS t
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(y.kpi, CASE WHEN y.volume THEN coalesce(base.num, 0) / nullif((SELECT count(*) FROM bd), 0)
                                                    ELSE base.num END,
                                        base.den, c.conf) AS u
LEFT JOIN cxkpi.hourly_kpis AS n ON n.kpi = y.kpi;

-- The heat map: each real-time KPI per ISO weekday and local hour of the day over the
-- peak_weeks weeks before today (the days today - 7 * peak_weeks to today - 1, from the first
-- day of the hourly rollups on), pooled as in kpi_today; every weekday and hour of a KPI and
-- breakdown seen in the window has a row (a volume without facts is 0).
CREATE VIEW cxkpi.kpi_heatmap AS
WITH c AS (
    SELECT n.today, n.weeks, cxkpi.setting('confidence')::double precision AS conf,
           greatest(n.today - 7 * n.weeks,
                    (SELECT min(m.day) FROM (SELECT min(day) FROM cxkpi.hourly_conversion UNION ALL SELECT min(day) FROM cxkpi.hourly_orders
                                             UNION ALL SELECT min(day) FROM cxkpi.hourly_carts
                                             UNION ALL SELECT min(day) FROM cxkpi.hourly_tickets) AS m(day))) AS first_day,
           n.today - 1 AS last_day
    FROM cxkpi.realtime_now() AS n),
wd AS (   -- the days of each weekday in the window
    SELECT extract(isodow FROM d)::integer AS weekday, count(*) AS days
    FROM c, generate_series(c.first_day, c.last_day, interval '1 day') AS d GROUP BY 1),
agg AS (
    SELECT extract(isodow FROM s.day)::integer AS weekday, s.hour, s.kpi, s.breakdown, s.dimension,
           sum(s.num) AS num, sum(s.den) AS den
    FROM cxkpi.hourly_kpi_state AS s
    WHERE s.day BETWEEN (SELECT c.first_day FROM c) AND (SELECT c.last_day FROM c)   -- (a range scan)
    GROUP BY 1, 2, 3, 4, 5),
keys AS (
    SELECT s.kpi, s.breakdown, s.dimension, bool_and(s.den IS NULL) AS volume FROM agg AS s GROUP BY 1, 2, 3)
SELECT c.first_day AS window_start, c.last_day AS window_end, wd.weekday::bigint AS weekday,
       (ARRAY['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'])[wd.weekday] AS weekday_name,
       h.hour::bigint AS hour, y.kpi, n.kpi_name, n.kpi_order, n.unit, y.breakdown, y.dimension, k.value, k.numerator, k.denominator, k.sample_size, k.ci_lower, k.ci_upper,
       wd.days
FROM keys AS y CROSS JOIN c CROSS JOIN wd CROSS JOIN generate_series(0, 23) AS h(hour)
LEFT JOIN agg AS a ON (a.weekday, a.hour, a.kpi, a.breakdown, a.dimension) = (wd.weekday, h.hour, y.kpi, y.breakdown, y.dimension)
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(y.kpi, CASE WHEN y.volume THEN coalesce(a.num, 0) / wd.days ELSE a.num END, a.den, c.conf) AS k
LEFT JOIN cxkpi.hourly_kpis AS n ON n.kpi = y.kpi;

COMMENT ON VIEW cxkpi.kpi_hourly IS
    'The real-time KPIs per local hour (setting time_zone): sessions, conversion_rate (web and app sessions; store footfall is daily), cart_abandonment_rate, orders, net_revenue, aov, tickets, response_time_hours (mean first response of the tickets created in the hour), total and by device or channel. Filter on day (indexed) rather than on time where you can; re-aggregate rates from numerator and denominator.';
COMMENT ON VIEW cxkpi.kpi_today IS
    'Today so far: each real-time KPI over the hours of today that have begun (today: the local day in progress at now(), or the day before as_of when that setting is set), against the usual level: the same hours of the peak_weeks same weekdays before (rates pooled over them, volumes as the mean per day), with the difference.';
COMMENT ON VIEW cxkpi.kpi_heatmap IS
    'Peak periods: each real-time KPI per ISO weekday and local hour of the day over the peak_weeks weeks before today (rates pooled over the days of the cell, volumes as the mean per day), total and by device or channel: a heat map for BI.';
DO $$
DECLARE
    r record;
    doc jsonb := jsonb_build_object(
        'time', 'Start of the hour (kpi_hourly) or the reference instant (kpi_today) as a timestamp with time zone: the time column for Grafana.',
        'day', 'The local day (setting time_zone): of the hour (kpi_hourly), today (kpi_today).',
        'hour', 'Hour of the day, 0-23, local wall-clock time (a day on which the clocks go back has one hour 1 holding two real hours; a day on which they go forward has no row for the hour skipped).',
        'weekday', 'ISO day of the week: 1 = Monday ... 7 = Sunday.',
        'weekday_name', 'Name of the ISO weekday (Monday ... Sunday).',
        'kpi', 'KPI key: sessions, conversion_rate, cart_abandonment_rate, orders, net_revenue, aov, tickets or response_time_hours.',
        'breakdown', 'What the row is broken down by: total, device (sessions, conversion, carts) or channel (orders, tickets). Filter it together with dimension.',
        'dimension', 'Value of the breakdown (a device or channel); all for the total row.',
        'value', 'The KPI in its unit: percent for rates, hours for response_time_hours, currency for net_revenue and aov, a count for volumes (kpi_today''s usual and kpi_heatmap: the mean per day).',
        'numerator', 'Numerator of the value (converted sessions, abandoned carts, net value, response hours; the volume itself).',
        'denominator', 'Denominator of the value (sessions, carts, orders, responded tickets); NULL for volumes.',
        'sample_size', 'Number of observations the value rests on (sessions, carts, orders, responded tickets, or the volume).',
        'ci_lower', 'Lower end of the Wilson interval (rates), at the confidence setting.',
        'ci_upper', 'Upper end of the Wilson interval (rates), at the confidence setting.',
        'last_hour', 'The last hour of today counted (0-23): hours 0 to last_hour have begun; the last one may be in progress.',
        'usual_value', 'The usual level: the same KPI over hours 0 to last_hour of the same weekday in the peak_weeks weeks before (rates pooled, volumes as the mean per day); NULL without such days.',
        'usual_days', 'Number of same weekdays the usual level is taken over (peak_weeks, fewer at the start of the data).',
        'difference', 'value - usual_value, in the KPI''s unit.',
        'difference_pct', '100 * (value - usual_value) / usual_value.',
        'window_start', 'First day of the heat map''s window.',
        'window_end', 'Last day of the heat map''s window (the day before today).',
        'days', 'Number of days of this weekday in the window (a volume is divided by it).',
        'kpi_name', 'Display name of the KPI (the catalogue''s; a name of its own for the volumes sessions, orders, net_revenue and tickets).',
        'kpi_order', 'Display order of the KPI (cxkpi_bi.kpi_catalog); NULL for the volumes, which are not in the catalogue.',
        'unit', 'Unit of the value: percent, currency, hours or count.');
BEGIN
    FOR r IN SELECT c.relname, a.attname FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0
             WHERE c.oid IN ('cxkpi.kpi_hourly'::regclass, 'cxkpi.kpi_today'::regclass, 'cxkpi.kpi_heatmap'::regclass)
    LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi.%I.%I IS %L', r.relname, r.attname, doc ->> r.attname::text);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_hourly, cxkpi.kpi_today, cxkpi.kpi_heatmap TO cxkpi_reader;

-- Their names for BI logins (docs/bi.md), with the same comments.
CREATE VIEW cxkpi_bi.kpi_hourly AS SELECT * FROM cxkpi.kpi_hourly;
CREATE VIEW cxkpi_bi.kpi_today AS SELECT * FROM cxkpi.kpi_today;
CREATE VIEW cxkpi_bi.kpi_heatmap AS SELECT * FROM cxkpi.kpi_heatmap;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS d
             FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.oid IN ('cxkpi.kpi_hourly'::regclass, 'cxkpi.kpi_today'::regclass, 'cxkpi.kpi_heatmap'::regclass) LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', r.relname, r.attname, r.d);
    END LOOP;
    FOR r IN SELECT c.relname, obj_description(c.oid, 'pg_class') AS d FROM pg_class AS c
             WHERE c.oid IN ('cxkpi.kpi_hourly'::regclass, 'cxkpi.kpi_today'::regclass, 'cxkpi.kpi_heatmap'::regclass) LOOP
        EXECUTE format('COMMENT ON VIEW cxkpi_bi.%I IS %L', r.relname, r.d);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi_bi.kpi_hourly, cxkpi_bi.kpi_today, cxkpi_bi.kpi_heatmap TO cxkpi_reader;

-- The hour grain of a database updated from 1.0: its hourly rollups are filled from the facts
-- here, as a rebuild would (the refresh only recomputes the days that change from now on).
DO $$
DECLARE
    tz text := cxkpi.setting('time_zone');
BEGIN
    INSERT INTO cxkpi.hourly_conversion SELECT * FROM cxkpi.rollup_hourly_conversion(tz, '-infinity', 'infinity');
    INSERT INTO cxkpi.hourly_orders SELECT * FROM cxkpi.rollup_hourly_orders(tz, '-infinity', 'infinity');
    INSERT INTO cxkpi.hourly_carts SELECT * FROM cxkpi.rollup_hourly_carts(tz, '-infinity', 'infinity');
    INSERT INTO cxkpi.hourly_tickets SELECT * FROM cxkpi.rollup_hourly_tickets(tz, '-infinity', 'infinity');
END $$;
ANALYZE cxkpi.hourly_conversion, cxkpi.hourly_orders, cxkpi.hourly_carts, cxkpi.hourly_tickets;

-- Each customer's first order (new with the first-order comparison of the refresh), filled here
-- as a rebuild would.

-- Each customer's first order, as the last refresh saw it: step 2 of the incremental refresh
-- compares the first order of every customer a change touched with it, and recomputes the days
-- whose first-order flags moved (docs/architecture.md).  Rebuilt with the rollups; not dumped.
CREATE TABLE cxkpi.customer_first_orders (customer_id bigint PRIMARY KEY, order_id bigint NOT NULL,
    ordered_at timestamptz NOT NULL);
CREATE INDEX customer_first_orders_ordered_at ON cxkpi.customer_first_orders (ordered_at);
COMMENT ON TABLE cxkpi.customer_first_orders IS
    'Internal: each customer''s first order as the last refresh saw it (the refresh finds the first-order flags that moved).';
INSERT INTO cxkpi.customer_first_orders (customer_id, order_id, ordered_at)
SELECT DISTINCT ON (o.customer_id) o.customer_id, o.order_id, o.ordered_at
FROM cxkpi.orders AS o ORDER BY o.customer_id, o.ordered_at, o.order_id;
ANALYZE cxkpi.customer_first_orders;

-- The live customer feedback stream and the closed-loop follow-up (issue 17; docs/feedback.md):
-- src/feedback.sql, verbatim.
-- The live customer feedback stream and the closed-loop follow-up (issue 17, seeds 000 and 001;
-- docs/feedback.md).
--
-- cxkpi.feedback_stream: every survey answer with its category (the classification of the
-- summary types: promoter / passive / detractor, satisfied / neutral / dissatisfied, easy /
-- neutral / difficult), newest first, cheap to poll (survey_responses_responded_at_idx).
-- cxkpi.returns_feedback: the same stream filtered to the returns touchpoint (seed 001's
-- "Customer Feedback"; the returns_csat KPI's definition).
-- cxkpi.feedback_followups: the follow-up queue, filled by the refresh (like the alert outbox):
-- one row per NPS detractor or CSAT dissatisfied answer of the open periods of the alert grain,
-- raised exactly once, with pg_notify('cxkpi_feedback', ...) at commit.  Writers pay nothing:
-- they only append to cxkpi.change_log, as for every other fact.

-------------------------------------------------------------------------------------------------
-- Classification of one answer
-------------------------------------------------------------------------------------------------

-- The category of one answer, from the summary types' own boxes (no threshold is written here):
-- NPS: detractors(nps_agg(score)) / promoters(...), else passive.  CSAT: satisfied (the top boxes
-- of csat_summary), dissatisfied when the answer mirrored on its scale (scale + 1 - score) is in
-- the top boxes (the bottom boxes: 1-2 on 1-5, 1 on 1-3, no on yes/no), else neutral.  CES: easy
-- (ces_agree: 5-7 on 1-7, 4-5 on 1-5), difficult for the mirrored boxes, else neutral.
CREATE FUNCTION cxkpi.feedback_category(survey text, score integer, scale integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE $1
        WHEN 'nps' THEN
            (SELECT CASE WHEN @extschema@.detractors(s) > 0 THEN 'detractor'
                         WHEN @extschema@.promoters(s) > 0 THEN 'promoter' ELSE 'passive' END
             FROM (SELECT @extschema@.nps_agg($2) AS s) AS q)
        WHEN 'csat' THEN
            (SELECT CASE WHEN @extschema@.satisfied(s) > 0 THEN 'satisfied'
                         WHEN @extschema@.satisfied(m) > 0 THEN 'dissatisfied' ELSE 'neutral' END
             FROM (SELECT @extschema@.csat_agg($2, $3) AS s, @extschema@.csat_agg($3 + 1 - $2, $3) AS m) AS q)
        WHEN 'ces' THEN
            (SELECT CASE WHEN @extschema@.ces_agree(s) > 0 THEN 'easy'
                         WHEN @extschema@.ces_agree(m) > 0 THEN 'difficult' ELSE 'neutral' END
             FROM (SELECT @extschema@.ces_agg($2, $3) AS s, @extschema@.ces_agg($3 + 1 - $2, $3) AS m) AS q)
    END $$;
COMMENT ON FUNCTION cxkpi.feedback_category(text, integer, integer) IS
    'Category of one survey answer, from the boxes of the summary types: nps detractor, passive or promoter; csat dissatisfied (bottom boxes), neutral or satisfied (top boxes); ces difficult, neutral or easy (agreeing). NULL for an unknown survey or a NULL argument.';

-------------------------------------------------------------------------------------------------
-- The follow-up queue
-------------------------------------------------------------------------------------------------

-- One row per NPS detractor or CSAT dissatisfied answer, raised once by the refresh.  The
-- answer's fields are copied (the queue is a history: it keeps its rows if the answer is edited
-- or deleted); the comment is read from the answer.
CREATE TABLE cxkpi.feedback_followups (
    followup_id     bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    response_id     bigint NOT NULL,
    raised_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    responded_at    timestamptz NOT NULL,
    survey          text NOT NULL,
    score           integer NOT NULL,
    scale           integer NOT NULL,
    category        text NOT NULL,
    channel         text NOT NULL,
    customer_id     bigint,
    order_id        bigint,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    resolution      text,
    delivered_at    timestamptz,
    CONSTRAINT feedback_followups_response_once UNIQUE (response_id),
    CONSTRAINT feedback_followups_category CHECK ((survey, category) IN (('nps', 'detractor'), ('csat', 'dissatisfied'))),
    CONSTRAINT feedback_followups_resolved_acknowledged CHECK (resolved_at IS NULL OR acknowledged_at IS NOT NULL),
    CONSTRAINT feedback_followups_resolution CHECK (resolution IS NULL OR resolved_at IS NOT NULL)
);
CREATE INDEX feedback_followups_undelivered ON cxkpi.feedback_followups (followup_id) WHERE delivered_at IS NULL;
CREATE INDEX feedback_followups_open ON cxkpi.feedback_followups (followup_id) WHERE resolved_at IS NULL;
COMMENT ON TABLE cxkpi.feedback_followups IS
    'Closed-loop follow-up queue: one row per NPS detractor or CSAT dissatisfied answer of the open periods (the current and the previous period of setting alert_grain), raised exactly once by the refresh with pg_notify(''cxkpi_feedback'', ...). Operators acknowledge and resolve (cxkpi.acknowledge_feedback, cxkpi.resolve_feedback); consumers take undelivered rows with SELECT ... FOR UPDATE SKIP LOCKED and set delivered_at.';
COMMENT ON COLUMN cxkpi.feedback_followups.followup_id IS 'Identity; also in the pg_notify payload.';
COMMENT ON COLUMN cxkpi.feedback_followups.response_id IS 'The answer (cxkpi.survey_responses.response_id); one follow-up per answer.';
COMMENT ON COLUMN cxkpi.feedback_followups.raised_at IS 'When the refresh raised the follow-up.';
COMMENT ON COLUMN cxkpi.feedback_followups.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.feedback_followups.survey IS 'nps or csat.';
COMMENT ON COLUMN cxkpi.feedback_followups.score IS 'The answer''s score when it was raised.';
COMMENT ON COLUMN cxkpi.feedback_followups.scale IS 'Highest point of the answer''s scale.';
COMMENT ON COLUMN cxkpi.feedback_followups.category IS 'detractor (nps) or dissatisfied (csat), cxkpi.feedback_category.';
COMMENT ON COLUMN cxkpi.feedback_followups.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.feedback_followups.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.feedback_followups.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.feedback_followups.acknowledged_at IS 'Set by cxkpi.acknowledge_feedback (or by cxkpi.resolve_feedback if not yet set).';
COMMENT ON COLUMN cxkpi.feedback_followups.resolved_at IS 'Set by cxkpi.resolve_feedback: the loop is closed.';
COMMENT ON COLUMN cxkpi.feedback_followups.resolution IS 'What was done (free text given to cxkpi.resolve_feedback).';
COMMENT ON COLUMN cxkpi.feedback_followups.delivered_at IS 'Set by the consumer that delivered the follow-up (outbox pattern).';

-- pg_dump: the queue is user data (acknowledgements, resolutions), dumped with its sequence;
-- the first refresh after a restore finds every answer already raised and raises nothing again.
SELECT pg_catalog.pg_extension_config_dump('cxkpi.feedback_followups', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.feedback_followups_followup_id_seq', '');

-- Raises the follow-ups of the answers of the given days (those the refresh found in
-- cxkpi.change_log for survey_responses) that fall into the open periods of the alert grain (the
-- one holding cxkpi.as_of() and the one before it, as for alerts): every answer of the open
-- periods when everything is true (a rebuild, cxkpi.check_thresholds()).  An answer already
-- raised is skipped (one follow-up per answer, ever).  Sends pg_notify('cxkpi_feedback', ...) per
-- follow-up (delivered at commit).  Returns the number raised.  Owner only: the refresh calls it.
CREATE FUNCTION cxkpi.feedback_raise(days date[], everything boolean) RETURNS integer
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    tz text := cxkpi.setting('time_zone');
    open_from date := (cxkpi.period_bounds(g, (cxkpi.period_bounds(g, cxkpi.as_of())).period_start - 1)).period_start;
    f record;
    m bigint;
    raised integer := 0;
BEGIN
    IF NOT everything AND NOT EXISTS (SELECT 1 FROM unnest(days) AS d WHERE d >= open_from) THEN
        RETURN 0;
    END IF;
    -- the sequence is moved past the stored ids if a restore left it behind them
    SELECT max(followup_id) INTO m FROM cxkpi.feedback_followups;
    IF m >= (SELECT CASE WHEN q.is_called THEN q.last_value ELSE q.last_value - 1 END
             FROM cxkpi.feedback_followups_followup_id_seq AS q) THEN
        PERFORM setval('cxkpi.feedback_followups_followup_id_seq', m);
    END IF;
    FOR f IN
        INSERT INTO cxkpi.feedback_followups AS x (response_id, responded_at, survey, score, scale, category, channel,
                                                   customer_id, order_id)
        SELECT r.response_id, r.responded_at, r.survey, r.score, r.scale, c.category, r.channel, r.customer_id, r.order_id
        FROM (SELECT d::timestamp AT TIME ZONE tz AS t0, (d + 1)::timestamp AT TIME ZONE tz AS t1
              FROM (SELECT DISTINCT d FROM unnest(days) AS d WHERE d >= open_from AND NOT everything) AS dd
              UNION ALL
              SELECT open_from::timestamp AT TIME ZONE tz, 'infinity' WHERE everything) AS w
        JOIN cxkpi.survey_responses AS r ON r.responded_at >= w.t0 AND r.responded_at < w.t1
        CROSS JOIN LATERAL (SELECT cxkpi.feedback_category(r.survey, r.score, r.scale) AS category) AS c
        WHERE r.survey IN ('nps', 'csat') AND c.category IN ('detractor', 'dissatisfied')
          AND NOT EXISTS (SELECT 1 FROM cxkpi.feedback_followups AS o WHERE o.response_id = r.response_id)
        ORDER BY r.responded_at, r.response_id
        ON CONFLICT (response_id) DO NOTHING
        RETURNING x.followup_id, x.response_id, x.responded_at, x.survey, x.score, x.scale, x.category, x.channel,
                  x.customer_id, x.order_id
    LOOP
        PERFORM pg_notify('cxkpi_feedback', json_build_object(
                    'followup_id', f.followup_id, 'response_id', f.response_id, 'responded_at', f.responded_at,
                    'survey', f.survey, 'score', f.score, 'scale', f.scale, 'category', f.category,
                    'channel', f.channel, 'customer_id', f.customer_id, 'order_id', f.order_id)::text);
        raised := raised + 1;
    END LOOP;
    RETURN raised;
END $$;
COMMENT ON FUNCTION cxkpi.feedback_raise(date[], boolean) IS
    'Internal: raises the follow-ups (cxkpi.feedback_followups, pg_notify cxkpi_feedback) of the NPS detractor and CSAT dissatisfied answers of the given days (or of all, everything) within the open periods of the alert grain; called by the refresh. Returns the number raised.';

-- Marks a follow-up as acknowledged (someone took it); false if it already was.
CREATE FUNCTION cxkpi.acknowledge_feedback(followup_id bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    done boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cxkpi.feedback_followups AS f WHERE f.followup_id = acknowledge_feedback.followup_id) THEN
        RAISE EXCEPTION 'feedback follow-up % does not exist', acknowledge_feedback.followup_id USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE cxkpi.feedback_followups AS f SET acknowledged_at = clock_timestamp()
     WHERE f.followup_id = acknowledge_feedback.followup_id AND f.acknowledged_at IS NULL;
    GET DIAGNOSTICS done = ROW_COUNT;
    RETURN done;
END $$;
COMMENT ON FUNCTION cxkpi.acknowledge_feedback(bigint) IS
    'Acknowledges a feedback follow-up: sets acknowledged_at (true), or returns false if it was already acknowledged.';

-- Closes the loop: sets resolved_at and the resolution (and acknowledged_at if not yet set);
-- false if it was already resolved (the first resolution is kept).
CREATE FUNCTION cxkpi.resolve_feedback(followup_id bigint, resolution text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    done boolean;
BEGIN
    IF resolve_feedback.followup_id IS NULL THEN
        RAISE EXCEPTION 'followup_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM cxkpi.feedback_followups AS f WHERE f.followup_id = resolve_feedback.followup_id) THEN
        RAISE EXCEPTION 'feedback follow-up % does not exist', resolve_feedback.followup_id USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE cxkpi.feedback_followups AS f
       SET resolved_at = clock_timestamp(), acknowledged_at = coalesce(f.acknowledged_at, clock_timestamp()),
           resolution = resolve_feedback.resolution
     WHERE f.followup_id = resolve_feedback.followup_id AND f.resolved_at IS NULL;
    GET DIAGNOSTICS done = ROW_COUNT;
    RETURN done;
END $$;
COMMENT ON FUNCTION cxkpi.resolve_feedback(bigint, text) IS
    'Resolves a feedback follow-up (the loop is closed): sets resolved_at, the resolution text and acknowledged_at if not yet set (true), or returns false if it was already resolved.';

-------------------------------------------------------------------------------------------------
-- The stream
-------------------------------------------------------------------------------------------------

-- Every answer, newest first, with its category and follow-up.  A poll (ORDER BY responded_at
-- DESC LIMIT n, or WHERE responded_at > the last one seen) reads the index
-- survey_responses_responded_at_idx backwards: its cost is the rows it returns.  The follow-up
-- columns are subqueries (one index probe per row returned), not a join: a join lets the planner
-- hash the whole queue for a short poll.
CREATE VIEW cxkpi.feedback_stream AS
SELECT r.response_id, r.responded_at, r.survey, r.score, r.scale,
       cxkpi.feedback_category(r.survey, r.score, r.scale) AS category,
       r.channel, r.comment, r.customer_id, r.order_id, r.channel = 'returns' AS returns_feedback,
       (SELECT f.followup_id FROM cxkpi.feedback_followups AS f WHERE f.response_id = r.response_id) AS followup_id,
       (SELECT CASE WHEN f.resolved_at IS NOT NULL THEN 'resolved' WHEN f.acknowledged_at IS NOT NULL THEN 'acknowledged'
                    ELSE 'open' END
        FROM cxkpi.feedback_followups AS f WHERE f.response_id = r.response_id) AS followup_status
FROM cxkpi.survey_responses AS r
ORDER BY r.responded_at DESC, r.response_id DESC;
COMMENT ON VIEW cxkpi.feedback_stream IS
    'Live customer feedback stream (seed 000): every survey answer, newest first, with score, category (detractor, passive, promoter; dissatisfied, neutral, satisfied; difficult, neutral, easy), channel, comment, customer and order, whether it is about a return, and its follow-up. Poll with ORDER BY responded_at DESC LIMIT n or WHERE responded_at > the last one seen.';
-- The returns touchpoint's answers, with the return each is about: the last return of the
-- answer's order requested before the answer (none if the answer names no order).
CREATE VIEW cxkpi.returns_feedback AS
SELECT s.response_id, s.responded_at, s.survey, s.score, s.scale, s.category, s.channel, s.comment, s.customer_id,
       s.order_id, rt.return_id, rt.requested_at AS return_requested_at, rt.reason AS return_reason,
       rt.items_returned, rt.value_returned AS value_returned_currency, s.returns_feedback, s.followup_id,
       s.followup_status
FROM cxkpi.feedback_stream AS s
LEFT JOIN LATERAL (SELECT x.return_id, x.requested_at, x.reason, x.items_returned, x.value_returned
                   FROM cxkpi.order_returns AS x
                   WHERE x.order_id = s.order_id AND x.requested_at <= s.responded_at
                   ORDER BY x.requested_at DESC, x.return_id DESC
                   LIMIT 1) AS rt ON true
WHERE s.channel = 'returns'
ORDER BY s.responded_at DESC, s.response_id DESC;
COMMENT ON VIEW cxkpi.returns_feedback IS
    'Customer feedback on returns (seed 001): the answers of the returns touchpoint (channel returns, as the returns_csat KPI counts them) with score, category, comment and customer, and the return they are about (the last return of the order requested before the answer), newest first.';
COMMENT ON COLUMN cxkpi.feedback_stream.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.feedback_stream.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.feedback_stream.survey IS 'Survey: nps (0-10), csat (1-scale) or ces (1-scale, higher is easier).';
COMMENT ON COLUMN cxkpi.feedback_stream.score IS 'Answer on the scale of its survey.';
COMMENT ON COLUMN cxkpi.feedback_stream.scale IS 'Highest point of the answer scale.';
COMMENT ON COLUMN cxkpi.feedback_stream.category IS 'nps: detractor, passive or promoter; csat: dissatisfied, neutral or satisfied; ces: difficult, neutral or easy.';
COMMENT ON COLUMN cxkpi.feedback_stream.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.feedback_stream.comment IS 'Free-text comment of the answer.';
COMMENT ON COLUMN cxkpi.feedback_stream.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.feedback_stream.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.feedback_stream.returns_feedback IS 'Whether the answer is about a return (channel returns).';
COMMENT ON COLUMN cxkpi.feedback_stream.followup_id IS 'Follow-up of a detractor or dissatisfied answer (cxkpi.feedback_followups), once the refresh raised it.';
COMMENT ON COLUMN cxkpi.feedback_stream.followup_status IS 'open, acknowledged or resolved; NULL without a follow-up.';
COMMENT ON COLUMN cxkpi.returns_feedback.return_id IS 'The return the answer is about: the last return of its order requested before the answer (NULL if none).';
COMMENT ON COLUMN cxkpi.returns_feedback.return_requested_at IS 'When that return was requested.';
COMMENT ON COLUMN cxkpi.returns_feedback.return_reason IS 'Reason given for that return.';
COMMENT ON COLUMN cxkpi.returns_feedback.items_returned IS 'Items in that return.';
COMMENT ON COLUMN cxkpi.returns_feedback.value_returned_currency IS 'Value of that return, in the store''s currency.';

-- BI: the channel is survey_channel (channel is a dimension value in the cxkpi_bi period views).
CREATE VIEW cxkpi_bi.feedback_stream AS
SELECT s.response_id, s.responded_at, s.survey, s.score, s.scale, s.category, s.channel AS survey_channel, s.comment,
       s.customer_id, s.order_id, s.returns_feedback, s.followup_id, s.followup_status
FROM cxkpi.feedback_stream AS s;
CREATE VIEW cxkpi_bi.returns_feedback AS
SELECT s.response_id, s.responded_at, s.survey, s.score, s.scale, s.category, s.channel AS survey_channel, s.comment,
       s.customer_id, s.order_id, s.return_id, s.return_requested_at, s.return_reason, s.items_returned,
       s.value_returned_currency, s.returns_feedback, s.followup_id, s.followup_status
FROM cxkpi.returns_feedback AS s;
-- The columns of the other three views mean what those of cxkpi.feedback_stream mean.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS v, a.attname FROM pg_class AS c
             JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.oid IN ('cxkpi.returns_feedback'::regclass, 'cxkpi_bi.feedback_stream'::regclass,
                             'cxkpi_bi.returns_feedback'::regclass)
               AND col_description(c.oid, a.attnum) IS NULL
    LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', r.v, r.attname,
                       coalesce((SELECT col_description(a2.attrelid, a2.attnum) FROM pg_attribute AS a2
                                 WHERE a2.attrelid = 'cxkpi.feedback_stream'::regclass
                                   AND a2.attname = CASE r.attname WHEN 'survey_channel' THEN 'channel' ELSE r.attname END),
                                (SELECT col_description(a2.attrelid, a2.attnum) FROM pg_attribute AS a2
                                 WHERE a2.attrelid = 'cxkpi.returns_feedback'::regclass AND a2.attname = r.attname)));
    END LOOP;
END $$;
COMMENT ON VIEW cxkpi_bi.feedback_stream IS
    'Live customer feedback stream (seed 000): every survey answer, newest first, with score, category (detractor, passive, promoter; dissatisfied, neutral, satisfied; difficult, neutral, easy), survey channel, comment, customer and order, whether it is about a return, and its follow-up status. Poll with ORDER BY responded_at DESC LIMIT n or WHERE responded_at > the last one seen.';
COMMENT ON VIEW cxkpi_bi.returns_feedback IS
    'Customer feedback on returns (seed 001): the answers of the returns touchpoint (as the returns_csat KPI counts them) with score, category, comment and customer, newest first.';

-------------------------------------------------------------------------------------------------
-- Privileges.  Readers (BI) see the stream; the refresh raises follow-ups; cxkpi_operator
-- acknowledges, resolves and delivers them; writers read them.
-------------------------------------------------------------------------------------------------
GRANT SELECT ON cxkpi.feedback_stream, cxkpi.returns_feedback TO cxkpi_reader, cxkpi_writer, cxkpi_operator;
GRANT SELECT ON cxkpi_bi.feedback_stream, cxkpi_bi.returns_feedback TO cxkpi_reader;
GRANT SELECT ON cxkpi.feedback_followups TO cxkpi_writer, cxkpi_operator;
GRANT UPDATE (delivered_at) ON cxkpi.feedback_followups TO cxkpi_operator;
REVOKE ALL ON FUNCTION cxkpi.feedback_raise(date[], boolean), cxkpi.acknowledge_feedback(bigint),
    cxkpi.resolve_feedback(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cxkpi.acknowledge_feedback(bigint), cxkpi.resolve_feedback(bigint, text) TO cxkpi_operator;

-------------------------------------------------------------------------------------------------
-- Issue 17 (seeds 002, 003): resolution time of support tickets (mean, median, p90) beside the
-- first response time, each acquisition channel's share of the new customers, and delivery times
-- (mean, median, p90) with the on-time share (docs/dashboard.md#resolution-time-issue-17-seed-003,
-- #delivery-times-issue-17-seed-002, #customer-value).  The fact table cxkpi.order_deliveries
-- with its checks and change capture, the rollups cxkpi.daily_ticket_resolutions and
-- cxkpi.daily_deliveries, and cxkpi.change_capture, change_capture_tables, dashboard_rollups,
-- kpi_arithmetic, kpi_engine and generate_sample_data as 1.1 ships them (src/, verbatim), the
-- KPI definitions, their display order, and the columns appended to the section views.
-------------------------------------------------------------------------------------------------
-- Deliveries (issue 17, seed 002): one row per order sent to the customer (web and app orders;
-- store and click-and-collect orders have none).  shipped_at is when the order left, delivered_at
-- when it reached the customer (NULL: on its way), promised_by the delivery promised at checkout
-- (NULL: none).  The rows of an order's delivery are the order's own facts: the order must exist
-- (foreign key, which is also its index) and be placed before it is shipped and promised
-- (cxkpi.order_deliveries_check, and cxkpi.orders_deliveries_check when the order changes).
CREATE TABLE cxkpi.order_deliveries (
    order_id     bigint PRIMARY KEY REFERENCES cxkpi.orders,
    shipped_at   timestamptz NOT NULL CHECK (isfinite(shipped_at)),
    delivered_at timestamptz CHECK (isfinite(delivered_at)),
    promised_by  timestamptz CHECK (isfinite(promised_by)),
    carrier      text CHECK (carrier <> ''),
    CONSTRAINT order_deliveries_delivered_after_shipping CHECK (delivered_at >= shipped_at)
);
COMMENT ON TABLE cxkpi.order_deliveries IS
    'One row per delivered or shipped order (web and app; store orders have none): shipped, delivered (NULL: on its way), promised delivery time (NULL: none) and carrier.';
COMMENT ON COLUMN cxkpi.order_deliveries.shipped_at IS 'When the order left the warehouse (at or after ordered_at).';
COMMENT ON COLUMN cxkpi.order_deliveries.delivered_at IS 'When it reached the customer (at or after shipped_at); NULL while on its way.';
COMMENT ON COLUMN cxkpi.order_deliveries.promised_by IS 'Delivery promised to the customer by this time (at or after ordered_at); NULL: no promise. On time: delivered_at <= promised_by.';
COMMENT ON COLUMN cxkpi.order_deliveries.carrier IS 'Carrier (free text), or NULL.';

-- A delivery is shipped and promised after its order is placed.
CREATE FUNCTION cxkpi.order_deliveries_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    placed timestamptz;
BEGIN
    SELECT o.ordered_at INTO placed FROM cxkpi.orders AS o WHERE o.order_id = NEW.order_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;    -- the foreign key reports it
    END IF;
    IF NEW.shipped_at < placed OR NEW.promised_by < placed THEN
        RAISE EXCEPTION 'delivery of order % is % before the order was placed', NEW.order_id,
                        CASE WHEN NEW.shipped_at < placed THEN 'shipped' ELSE 'promised' END
            USING ERRCODE = 'check_violation',
                  DETAIL = format('ordered_at %s, shipped_at %s, promised_by %s.', placed, NEW.shipped_at, NEW.promised_by);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER order_deliveries_check AFTER INSERT OR UPDATE ON cxkpi.order_deliveries
    FOR EACH ROW EXECUTE FUNCTION cxkpi.order_deliveries_check();

-- The same rule when a delivered order is moved: it stays placed before its delivery.
CREATE FUNCTION cxkpi.orders_deliveries_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d record;
BEGIN
    SELECT * INTO d FROM cxkpi.order_deliveries WHERE order_id = NEW.order_id;
    IF FOUND AND (d.shipped_at < NEW.ordered_at OR d.promised_by < NEW.ordered_at) THEN
        RAISE EXCEPTION 'order % would be placed after its delivery was shipped or promised', NEW.order_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('ordered_at %s, shipped_at %s, promised_by %s.', NEW.ordered_at, d.shipped_at, d.promised_by);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER orders_deliveries_check AFTER UPDATE OF ordered_at ON cxkpi.orders
    FOR EACH ROW EXECUTE FUNCTION cxkpi.orders_deliveries_check();
SELECT pg_catalog.pg_extension_config_dump('cxkpi.order_deliveries', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.order_deliveries TO cxkpi_writer;

CREATE OR REPLACE FUNCTION cxkpi.change_capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- read here rather than through cxkpi.setting(): a static query keeps its plan, and this
    -- runs for every statement of every writer
    tz text := (SELECT s.value FROM cxkpi.settings AS s WHERE s.key = 'time_zone');
    src text := CASE TG_OP WHEN 'INSERT' THEN 'new_rows' WHEN 'DELETE' THEN 'old_rows'
                           ELSE '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)' END;
    day_sql text;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.change_capture_tables())
       OR TG_RELID <> format('cxkpi.%I', TG_TABLE_NAME)::regclass THEN
        RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO cxkpi.change_log (fact, bucket) VALUES (TG_TABLE_NAME, NULL);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- Writers' hot path: one static statement per table (planned once per session, where
        -- the dynamic statement below is parsed and planned at every call: twice the cost of a
        -- one-row insert).  The day of each row as in the UPDATE and DELETE case below.
        IF TG_TABLE_NAME = 'survey_responses' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'survey_responses', x.d FROM (SELECT (r.responded_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'orders' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'orders', x.d FROM (SELECT (r.ordered_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_returns' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_returns', x.d FROM (SELECT (r.requested_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'web_sessions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'web_sessions', x.d FROM (SELECT (r.started_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'store_traffic' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'store_traffic', x.d FROM (SELECT r.visit_date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'carts' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'carts', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'support_tickets' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'support_tickets', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'app_ratings' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'app_ratings', x.d FROM (SELECT (r.rated_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'metric_observations' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'metric_observations', x.d FROM (SELECT (r.observed_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_activity' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_activity', x.d FROM (SELECT (r.active_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'customers' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'customers', r.acquired_on FROM new_rows AS r WHERE r.acquired_on IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_members', d.d FROM new_rows AS r, unnest(ARRAY[r.enrolled_on, r.last_active_on]) AS d(d)
            WHERE d.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_deliveries' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_deliveries', (o.ordered_at AT TIME ZONE tz)::date
            FROM new_rows AS r JOIN cxkpi.orders AS o ON o.order_id = r.order_id;
        END IF;
    ELSE
        day_sql := CASE TG_TABLE_NAME
            WHEN 'survey_responses' THEN '(r.responded_at AT TIME ZONE $1)::date'
            WHEN 'orders' THEN '(r.ordered_at AT TIME ZONE $1)::date'
            WHEN 'order_returns' THEN '(r.requested_at AT TIME ZONE $1)::date'
            WHEN 'web_sessions' THEN '(r.started_at AT TIME ZONE $1)::date'
            WHEN 'store_traffic' THEN 'r.visit_date'
            WHEN 'carts' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'support_tickets' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'app_ratings' THEN '(r.rated_at AT TIME ZONE $1)::date'
            WHEN 'metric_observations' THEN '(r.observed_at AT TIME ZONE $1)::date'
            WHEN 'loyalty_activity' THEN '(r.active_at AT TIME ZONE $1)::date'
            WHEN 'customers' THEN 'r.acquired_on'
            WHEN 'loyalty_members' THEN 'unnest(ARRAY[r.enrolled_on, r.last_active_on])'
            WHEN 'order_deliveries' THEN '(SELECT (o.ordered_at AT TIME ZONE $1)::date FROM cxkpi.orders AS o WHERE o.order_id = r.order_id)'
        END;
        IF day_sql IS NULL THEN
            RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket) SELECT DISTINCT %L, d FROM (SELECT %s AS d FROM %s AS r) AS x '
                       'WHERE d IS NOT NULL', TG_TABLE_NAME, day_sql, src) USING tz;
    END IF;
    IF TG_TABLE_NAME = 'orders' AND TG_OP = 'UPDATE' THEN
        -- UPDATE: the request days of the orders' returns (days to return)
        INSERT INTO cxkpi.change_log (fact, bucket)
        SELECT DISTINCT 'order_returns', (r.requested_at AT TIME ZONE tz)::date
        FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT n.order_id FROM new_rows AS n);
    ELSIF TG_TABLE_NAME = 'order_returns' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.order_id IN (SELECT r.order_id FROM %s AS r)', src) USING tz;
    ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.customer_id IN (SELECT r.customer_id FROM %1$s AS r)
                        UNION
                        SELECT DISTINCT ''loyalty_activity'', (a.active_at AT TIME ZONE $1)::date
                        FROM cxkpi.loyalty_activity AS a WHERE a.customer_id IN (SELECT r.customer_id FROM %1$s AS r)', src)
        USING tz;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cxkpi.change_capture_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['survey_responses', 'orders', 'order_returns', 'web_sessions', 'store_traffic', 'carts',
                 'support_tickets', 'app_ratings', 'metric_observations', 'loyalty_members', 'loyalty_activity',
                 'customers', 'order_deliveries'];

CREATE TRIGGER change_capture_insert AFTER INSERT ON cxkpi.order_deliveries REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture();
CREATE TRIGGER change_capture_update AFTER UPDATE ON cxkpi.order_deliveries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture();
CREATE TRIGGER change_capture_delete AFTER DELETE ON cxkpi.order_deliveries REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture();
CREATE TRIGGER change_capture_truncate AFTER TRUNCATE ON cxkpi.order_deliveries FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture();

-- Resolution times of the tickets per creation day and channel (issue 17): the cohort of the
-- creation day, as the first response time, so that a period's resolution time describes the
-- tickets opened in it (a ticket still open counts in neither; its day is recomputed when it is
-- resolved).  Kept exactly as cxkpi.daily_tickets keeps first response times: the sum and the
-- sorted hours, from which every grain's mean, median and 90th percentile are exact.
CREATE TABLE cxkpi.daily_ticket_resolutions (day date, channel text, resolved bigint,
    resolution_hours_sum double precision, resolution_hours double precision[]);
CREATE UNIQUE INDEX daily_ticket_resolutions_key ON cxkpi.daily_ticket_resolutions (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_ticket_resolutions(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_ticket_resolutions LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.created_at AT TIME ZONE tz)::date AS day, t.channel, count(*) AS resolved,
       sum(extract(epoch FROM t.resolved_at - t.created_at) / 3600)::double precision AS resolution_hours_sum,
       array_agg(extract(epoch FROM t.resolved_at - t.created_at)::double precision / 3600
                 ORDER BY t.resolved_at - t.created_at) AS resolution_hours
FROM cxkpi.support_tickets AS t
WHERE t.created_at >= (first_day::timestamp AT TIME ZONE tz) AND t.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
  AND t.resolved_at IS NOT NULL
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_ticket_resolutions IS
    'Internal rollup: resolved tickets and their exact resolution times (resolved - created, hours, sorted) per creation day and channel.';
COMMENT ON FUNCTION cxkpi.rollup_daily_ticket_resolutions(text, date, date) IS
    'Internal: the rows of cxkpi.daily_ticket_resolutions of the days first_day to last_day (in time zone tz).';

-- Deliveries per order day and order channel (issue 17, seed 002): the cohort of the order day,
-- so that a period's delivery time describes the orders placed in it (an order on its way counts
-- in none; its day is recomputed when it is delivered).  Delivery times (delivered - ordered, in
-- days) kept exactly, the sum and the sorted days; on time: delivered by promised_by, among the
-- delivered orders with a promise.
CREATE TABLE cxkpi.daily_deliveries (day date, channel text, delivered bigint, delivery_days_sum double precision,
    delivery_days double precision[], promised bigint, on_time bigint);
CREATE UNIQUE INDEX daily_deliveries_key ON cxkpi.daily_deliveries (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_deliveries(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_deliveries LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (o.ordered_at AT TIME ZONE tz)::date AS day, o.channel, count(*) AS delivered,
       sum(extract(epoch FROM d.delivered_at - o.ordered_at) / 86400)::double precision AS delivery_days_sum,
       array_agg(extract(epoch FROM d.delivered_at - o.ordered_at)::double precision / 86400
                 ORDER BY d.delivered_at - o.ordered_at) AS delivery_days,
       count(d.promised_by) AS promised,
       count(*) FILTER (WHERE d.delivered_at <= d.promised_by) AS on_time
FROM cxkpi.orders AS o JOIN cxkpi.order_deliveries AS d ON d.order_id = o.order_id
WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
  AND d.delivered_at IS NOT NULL
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_deliveries IS
    'Internal rollup: delivered orders, their exact delivery times (delivered - ordered, days, sorted) and on-time deliveries per order day and channel.';
COMMENT ON FUNCTION cxkpi.rollup_daily_deliveries(text, date, date) IS
    'Internal: the rows of cxkpi.daily_deliveries of the days first_day to last_day (in time zone tz).';

CREATE OR REPLACE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_ticket_resolutions', ARRAY['support_tickets']),
           ('daily_deliveries', ARRAY['orders', 'order_deliveries']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']),
           ('hourly_conversion', ARRAY['web_sessions']),
           ('hourly_orders', ARRAY['orders']),
           ('hourly_carts', ARRAY['carts']),
           ('hourly_tickets', ARRAY['support_tickets']) $$;
COMMENT ON FUNCTION cxkpi.dashboard_rollups() IS
    'Internal: the daily and hourly rollups in refresh order, with the fact tables (cxkpi.change_log.fact) whose days they read.';

CREATE OR REPLACE FUNCTION cxkpi.kpi_arithmetic(kpi text, num numeric, den numeric, conf double precision)
    RETURNS TABLE (value double precision, numerator double precision, denominator double precision,
                   sample_size bigint, ci_lower double precision, ci_upper double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'aov' THEN (num / nullif(den, 0))::double precision
                WHEN kpi IN ('response_time_hours', 'resolution_time_hours', 'delivery_time_days') THEN num::double precision / nullif(den, 0)::double precision
                WHEN kpi IN ('sessions', 'orders', 'tickets', 'net_revenue') THEN num::double precision END,
           num::double precision, den::double precision,
           CASE WHEN kpi IN ('sessions', 'orders', 'tickets') THEN num::bigint ELSE den::bigint END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf) END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf) END;
END;

CREATE OR REPLACE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for, and the previous and year-ago periods of each
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
per AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start, (x.period_start + cxkpi.grain_interval(q.grain))::date - 1 AS period_end
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (q.period_start), (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- the accessors once per period: each reads the whole summary of the period (a year's is large)
act AS (
    SELECT a.grain, a.period_start, a.orders, @extschema@.customers(a.s) AS customers,
           @extschema@.repeat_customer_rate(a.s) AS repeat_rate
    FROM (SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
          FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY 1, 2) AS a),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- exact median and p90 of the days' arrays of response hours (percentile_cont's values, one sort
-- per group: src/quantiles.c)
tp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.responded, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.response_hours)) AS responded,
                 @extschema@.exact_percentiles(d.response_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.responded > 0),
-- resolution times: the mean from the sums, the median and 90th percentile from the sorted hours
rs AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.resolved)::bigint AS resolved, sum(d.resolution_hours_sum::numeric) AS hours_sum
    FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
rp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.resolved, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.resolution_hours)) AS resolved,
                 @extschema@.exact_percentiles(d.resolution_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.resolved > 0),
-- delivery times and on-time deliveries, as the resolution times
dl AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.delivered)::bigint AS delivered, sum(d.delivery_days_sum::numeric) AS days_sum,
           sum(d.promised)::bigint AS promised, sum(d.on_time)::bigint AS on_time
    FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
dp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.delivered, t.q[1] AS median_d, t.q[2] AS p90_d
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.delivery_days)) AS delivered,
                 @extschema@.exact_percentiles(d.delivery_days, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.delivered > 0),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, k.*
    FROM cv, cfg, LATERAL cxkpi.kpi_arithmetic('conversion_rate', conversions, visits, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, k.*
    FROM od, cfg, LATERAL cxkpi.kpi_arithmetic('aov', net_value, orders, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, k.*
    FROM ct, cfg, LATERAL cxkpi.kpi_arithmetic('cart_abandonment_rate', abandoned, carts, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'delivery_time_days', breakdown, dimension, k.*
    FROM dl, cfg, LATERAL cxkpi.kpi_arithmetic('delivery_time_days', days_sum, delivered, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'delivery_time_median_days', breakdown, dimension, median_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'delivery_time_p90_days', breakdown, dimension, p90_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'on_time_delivery_rate', breakdown, dimension, 100.0 * on_time / promised,
           on_time, promised, promised, cxkpi.wilson_ci_lower(on_time, promised, conf), cxkpi.wilson_ci_upper(on_time, promised, conf)
    FROM dl, cfg WHERE promised > 0
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, k.*
    FROM tk, cfg, LATERAL cxkpi.kpi_arithmetic('response_time_hours', response_hours_sum, responded, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'resolution_time_hours', breakdown, dimension, k.*
    FROM rs, cfg, LATERAL cxkpi.kpi_arithmetic('resolution_time_hours', hours_sum, resolved, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'resolution_time_median_hours', breakdown, dimension, median_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    UNION ALL
    SELECT grain, period_start, 'resolution_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', repeat_rate,
           round(repeat_rate * customers / 100), customers, customers,
           cxkpi.wilson_ci_lower(round(repeat_rate * customers / 100)::bigint, customers, conf),
           cxkpi.wilson_ci_upper(round(repeat_rate * customers / 100)::bigint, customers, conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / customers,
           orders, customers, customers, NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    UNION ALL
    -- each acquisition channel's share of the customers acquired in the period (the total row:
    -- 100, all of them, so that the KPI has a total row like every other)
    SELECT c.grain, c.period_start, 'new_customer_share', c.breakdown, c.dimension,
           100.0 * c.new_customers / t.new_customers, c.new_customers, t.new_customers, t.new_customers,
           cxkpi.wilson_ci_lower(c.new_customers, t.new_customers, cfg.conf),
           cxkpi.wilson_ci_upper(c.new_customers, t.new_customers, cfg.conf)
    FROM aq AS c JOIN aq AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total', cfg
    WHERE t.new_customers > 0
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / a.customers)
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, a.customers, NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per), so the windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg),
ann AS (
    SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
           c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
           CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER series END AS previous_value,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER years END AS value_year_ago,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
    FROM cur AS c
    WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;

-- Issue 17 (seeds 002, 003): resolution time beside the first response time, each acquisition
-- channel's share of the new customers, delivery times and on-time delivery.
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default) VALUES
    ('resolution_time_hours', 'Resolution time (mean)', 'service_quality', 'hours', 'lower_is_better',
     'mean of resolved - created, in hours, over the tickets created in the period and resolved', 'builtin', 0, NULL, true),
    ('resolution_time_median_hours', 'Resolution time (median)', 'service_quality', 'hours', 'lower_is_better',
     'median of resolved - created, in hours', 'builtin', 0, NULL, true),
    ('resolution_time_p90_hours', 'Resolution time (90th percentile)', 'service_quality', 'hours', 'lower_is_better',
     '90th percentile (continuous) of resolved - created, in hours', 'builtin', 0, NULL, true),
    ('new_customer_share', 'New customers by acquisition channel (share)', 'customer_value', 'percent', 'higher_is_better',
     '100 * customers acquired through the channel / customers acquired, in the period (one row per acquisition channel)', 'builtin', 0, 100, true),
    ('delivery_time_days', 'Delivery time (mean)', 'purchase_experience', 'days', 'lower_is_better',
     'mean of delivered - ordered, in days, over the orders placed in the period and delivered', 'builtin', 0, NULL, true),
    ('delivery_time_median_days', 'Delivery time (median)', 'purchase_experience', 'days', 'lower_is_better',
     'median of delivered - ordered, in days', 'builtin', 0, NULL, true),
    ('delivery_time_p90_days', 'Delivery time (90th percentile)', 'purchase_experience', 'days', 'lower_is_better',
     '90th percentile (continuous) of delivered - ordered, in days', 'builtin', 0, NULL, true),
    ('on_time_delivery_rate', 'On-time delivery', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * orders delivered by the promised time / delivered orders with a promise (orders placed in the period)', 'builtin', 0, 100, true);
ALTER TABLE cxkpi.kpi_definitions DISABLE TRIGGER kpi_definitions_upsert;
UPDATE cxkpi.kpi_definitions AS d SET sort_order = v.sort_order
FROM (VALUES ('resolution_time_hours', 260), ('resolution_time_median_hours', 270),
             ('resolution_time_p90_hours', 280), ('new_customer_share', 735),
             ('delivery_time_days', 150), ('delivery_time_median_days', 160),
             ('delivery_time_p90_days', 170), ('on_time_delivery_rate', 180)) AS v(kpi, sort_order)
WHERE d.kpi = v.kpi;
ALTER TABLE cxkpi.kpi_definitions ENABLE TRIGGER kpi_definitions_upsert;

CREATE OR REPLACE VIEW cxkpi.kpi_purchase_experience AS
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
CREATE OR REPLACE VIEW cxkpi.kpi_service_quality AS
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
CREATE OR REPLACE VIEW cxkpi.kpi_customer_value AS
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
CREATE OR REPLACE VIEW cxkpi_bi.kpi_purchase_experience AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.conversion_rate_pct, v.conversions, v.visits, v.conversion_rate_ci_lower_pct, v.conversion_rate_ci_upper_pct,
       v.aov_currency, v.net_sales_currency, v.orders, v.cart_abandonment_rate_pct, v.abandoned_carts, v.carts,
       v.cart_recovery_rate_pct, v.recovered_carts,
       v.delivery_time_mean_days, v.delivery_time_median_days, v.delivery_time_p90_days, v.delivery_time_total_days,
       v.delivered_orders, v.on_time_delivery_rate_pct, v.on_time_deliveries, v.promised_deliveries
FROM cxkpi.kpi_purchase_experience AS v;
CREATE OR REPLACE VIEW cxkpi_bi.kpi_service_quality AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.channel AS dimension,
       v.response_time_mean_hours, v.response_time_median_hours, v.response_time_p90_hours,
       v.response_time_total_hours, v.responded_tickets, v.resolution_rate_pct, v.resolved_tickets, v.tickets,
       v.first_contact_resolution_pct, v.first_contact_resolved_tickets,
       v.resolution_time_mean_hours, v.resolution_time_median_hours, v.resolution_time_p90_hours,
       v.resolution_time_total_hours
FROM cxkpi.kpi_service_quality AS v;
CREATE OR REPLACE VIEW cxkpi_bi.kpi_customer_value AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.repeat_customer_rate_pct, v.repeat_customers, v.customers, v.purchase_frequency_orders_per_customer, v.orders,
       v.aov_currency, v.new_customers, v.acquisition_cost_currency, v.cac_currency, v.clv_simple_currency,
       v.new_customer_share_pct
FROM cxkpi.kpi_customer_value AS v;
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.delivery_time_mean_days IS 'Mean delivery time (delivered - ordered), days, of the orders placed in the period and delivered.';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.delivery_time_median_days IS 'Median delivery time, days.';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.delivery_time_p90_days IS '90th percentile of delivery time, days.';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.delivery_time_total_days IS 'Sum of delivery times, days (numerator of the mean).';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.delivered_orders IS 'Orders placed in the period and delivered (web and app; store orders have no delivery).';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.on_time_delivery_rate_pct IS '100 * deliveries by the promised time / delivered orders with a promise.';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.on_time_deliveries IS 'Delivered orders delivered by the promised time.';
COMMENT ON COLUMN cxkpi.kpi_purchase_experience.promised_deliveries IS 'Delivered orders with a promised delivery time.';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.delivery_time_mean_days IS 'Mean delivery time (delivered - ordered), days, of the orders placed in the period and delivered.';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.delivery_time_median_days IS 'Median delivery time, days.';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.delivery_time_p90_days IS '90th percentile of delivery time, days.';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.delivery_time_total_days IS 'Sum of delivery times, days (numerator of the mean).';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.delivered_orders IS 'Orders placed in the period and delivered (web and app; store orders have no delivery).';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.on_time_delivery_rate_pct IS '100 * deliveries by the promised time / delivered orders with a promise.';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.on_time_deliveries IS 'Delivered orders delivered by the promised time.';
COMMENT ON COLUMN cxkpi_bi.kpi_purchase_experience.promised_deliveries IS 'Delivered orders with a promised delivery time.';
COMMENT ON COLUMN cxkpi.kpi_service_quality.resolution_time_mean_hours IS 'Mean resolution time (resolved - created), hours, of the tickets created in the period and resolved.';
COMMENT ON COLUMN cxkpi.kpi_service_quality.resolution_time_median_hours IS 'Median resolution time, hours.';
COMMENT ON COLUMN cxkpi.kpi_service_quality.resolution_time_p90_hours IS '90th percentile of resolution time, hours.';
COMMENT ON COLUMN cxkpi.kpi_service_quality.resolution_time_total_hours IS 'Sum of resolution times, hours (numerator of the mean; its denominator is resolved_tickets).';
COMMENT ON COLUMN cxkpi_bi.kpi_service_quality.resolution_time_mean_hours IS 'Mean resolution time (resolved - created), hours, of the tickets created in the period and resolved.';
COMMENT ON COLUMN cxkpi_bi.kpi_service_quality.resolution_time_median_hours IS 'Median resolution time, hours.';
COMMENT ON COLUMN cxkpi_bi.kpi_service_quality.resolution_time_p90_hours IS '90th percentile of resolution time, hours.';
COMMENT ON COLUMN cxkpi_bi.kpi_service_quality.resolution_time_total_hours IS 'Sum of resolution times, hours (numerator of the mean; its denominator is resolved_tickets).';
COMMENT ON COLUMN cxkpi.kpi_customer_value.new_customer_share_pct IS '100 * customers acquired through this acquisition channel / customers acquired (acquisition_channel rows; 100 on the total row).';
COMMENT ON COLUMN cxkpi_bi.kpi_customer_value.new_customer_share_pct IS '100 * customers acquired through this acquisition channel / customers acquired (acquisition_channel rows; 100 on the total row).';

-- The new rollups of a database updated from 1.0, filled from the facts as a rebuild would, and
-- the values of the new KPIs (the refresh only recomputes the periods that change from now on).
INSERT INTO cxkpi.daily_ticket_resolutions
SELECT * FROM cxkpi.rollup_daily_ticket_resolutions((SELECT cxkpi.setting('time_zone')), '-infinity', 'infinity');
ANALYZE cxkpi.daily_ticket_resolutions, cxkpi.daily_deliveries;
INSERT INTO cxkpi.kpi_values
SELECT v.* FROM (SELECT array_agg(p.grain) AS gs, array_agg(p.period_start) AS ps
                 FROM cxkpi.dashboard_days() AS b CROSS JOIN LATERAL cxkpi.periods_between(b.first_day, b.last_day) AS p) AS x
CROSS JOIN LATERAL cxkpi.kpi_engine(x.gs, x.ps) AS v
WHERE v.kpi IN ('resolution_time_hours', 'resolution_time_median_hours', 'resolution_time_p90_hours', 'new_customer_share')
  AND EXISTS (SELECT 1 FROM cxkpi.kpi_values);

-------------------------------------------------------------------------------------------------
-- Issue 17: engagement across channels (seed 002) and social-media sentiment (seed 003).
-- New facts, lexicon, rollups and section view (src/engagement.sql, src/dashboard_engagement.sql,
-- as there), the eight KPIs' catalogue rows, and the final copies of the functions they change
-- (config_row_upsert, change_capture, change_capture_tables, dashboard_rollups, dashboard_days,
-- kpi_arithmetic, kpi_engine; generate_sample_data is replaced in place, above).
-- docs/dashboard.md#engagement-and-social-sentiment.
-------------------------------------------------------------------------------------------------

-- Config rows: an edited built-in row becomes a user row (dumped); inserting a row whose key
-- matches a built-in row replaces the built-in row (this is what pg_restore does); built-in
-- rows cannot be deleted (a deletion would be undone by the next restore).
CREATE OR REPLACE FUNCTION cxkpi.config_row_upsert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_default bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.is_default THEN
            RETURN NEW;
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN
            UPDATE cxkpi.kpi_definitions SET name = NEW.name, section = NEW.section, unit = NEW.unit,
                   direction = NEW.direction, formula = NEW.formula, source = NEW.source,
                   value_min = NEW.value_min, value_max = NEW.value_max,
                   -- (1.1 columns: a row dumped by 1.0 has none, and keeps the built-in display)
                   sort_order = coalesce(NEW.sort_order, kpi_definitions.sort_order),
                   decimals = coalesce(NEW.decimals, kpi_definitions.decimals), is_default = false
             WHERE kpi = NEW.kpi AND is_default;
        ELSIF TG_TABLE_NAME = 'kpi_targets' THEN
            UPDATE cxkpi.kpi_targets SET target = NEW.target, red_threshold = NEW.red_threshold,
                   yellow_threshold = NEW.yellow_threshold, min_sample_size = NEW.min_sample_size,
                   recovery_margin = NEW.recovery_margin, enabled = NEW.enabled, is_default = false
             WHERE kpi = NEW.kpi AND dimension = NEW.dimension AND valid_from = NEW.valid_from AND is_default;
        ELSIF TG_TABLE_NAME = 'intervention_rules' THEN
            UPDATE cxkpi.intervention_rules SET priority = NEW.priority, intervention = NEW.intervention,
                   description = NEW.description, churn_risk = NEW.churn_risk, gone = NEW.gone,
                   min_value_at_stake = NEW.min_value_at_stake, min_historic_value = NEW.min_historic_value,
                   nps_group = NEW.nps_group, nps_within_days = NEW.nps_within_days, open_ticket = NEW.open_ticket,
                   abandoned_cart_within_days = NEW.abandoned_cart_within_days, min_return_rate = NEW.min_return_rate,
                   lapsed_loyalty = NEW.lapsed_loyalty, enabled = NEW.enabled, is_default = false
             WHERE rule = NEW.rule AND is_default;
        ELSIF TG_TABLE_NAME = 'sentiment_lexicon' THEN
            UPDATE cxkpi.sentiment_lexicon SET weight = NEW.weight, is_default = false
             WHERE word = NEW.word AND is_default;
        ELSE
            UPDATE cxkpi.settings SET value = NEW.value, description = NEW.description, is_default = false
             WHERE key = NEW.key AND is_default;
        END IF;
        GET DIAGNOSTICS found_default = ROW_COUNT;
        IF found_default > 0 THEN
            RETURN NULL;        -- the built-in row now holds the user's values
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: NEW.source exists only there
            IF NEW.source = 'builtin' THEN
                RAISE EXCEPTION 'KPI "%" cannot have source builtin', NEW.kpi
                    USING ERRCODE = 'check_violation',
                          HINT = 'Built-in KPIs are the ones cxkpi computes; add your own with source metric_observations.';
            END IF;
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: OLD.source exists only there
            IF OLD.source = 'builtin' AND (NEW.kpi <> OLD.kpi OR NEW.source <> OLD.source) THEN
                RAISE EXCEPTION 'cannot change the key or the source of built-in KPI "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'The rollups compute built-in KPIs by their key; edit the name, unit, direction or formula text instead.';
            END IF;
        END IF;
        -- nor the key of a built-in target: a restore would seed the original key again
        IF TG_TABLE_NAME = 'kpi_targets' THEN
            IF OLD.is_default AND (NEW.kpi, NEW.dimension, NEW.valid_from) IS DISTINCT FROM (OLD.kpi, OLD.dimension, OLD.valid_from) THEN
                RAISE EXCEPTION 'cannot change the key (kpi, dimension, valid_from) of a built-in target of "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a new target row with its dimension or valid_from, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF TG_TABLE_NAME = 'intervention_rules' THEN
            IF OLD.is_default AND NEW.rule IS DISTINCT FROM OLD.rule THEN
                RAISE EXCEPTION 'cannot rename the built-in intervention rule "%"', OLD.rule
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a rule of your own, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF OLD.is_default AND NEW.is_default AND TG_TABLE_NAME <> 'settings' THEN
            NEW.is_default := false;
        END IF;
        RETURN NEW;
    ELSE
        IF OLD.is_default THEN
            RAISE EXCEPTION 'cannot delete a built-in row of cxkpi.%', TG_TABLE_NAME
                USING ERRCODE = 'object_in_use',
                      HINT = CASE TG_TABLE_NAME WHEN 'kpi_targets'
                                  THEN 'Set enabled = false to switch a built-in target off.'
                                  WHEN 'intervention_rules'
                                  THEN 'Set enabled = false to switch a built-in rule off.'
                                  ELSE 'Edit it with UPDATE instead.' END;
        END IF;
        RETURN OLD;
    END IF;
END $$;

INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default) VALUES
    ('engagement_rate', 'Engagement rate', 'digital_experience', 'percent', 'higher_is_better',
     '100 * customers with an interaction (email open or click, social interaction, site visit, app session, store visit) / customers reached (any engagement event), distinct customers of the period; by channel: engaged in that channel / reached', 'builtin', 0, 100, true),
    ('email_open_rate', 'Email open rate', 'digital_experience', 'percent', 'higher_is_better',
     '100 * emails opened / emails sent', 'builtin', 0, 100, true),
    ('email_click_rate', 'Email click rate', 'digital_experience', 'percent', 'higher_is_better',
     '100 * emails clicked / emails sent', 'builtin', 0, 100, true),
    ('interactions_per_customer', 'Interactions per engaged customer', 'digital_experience', 'ratio', 'higher_is_better',
     'interactions / customers with an interaction, in the period; by channel: that channel''s', 'builtin', 0, NULL, true),
    ('net_sentiment', 'Net social sentiment', 'digital_experience', 'points', 'higher_is_better',
     '100 * (positive mentions - negative mentions) / mentions', 'builtin', -100, 100, true),
    ('positive_mention_share', 'Positive mentions', 'digital_experience', 'percent', 'higher_is_better',
     '100 * positive mentions / mentions', 'builtin', 0, 100, true),
    ('neutral_mention_share', 'Neutral mentions', 'digital_experience', 'percent', 'higher_is_better',
     '100 * neutral mentions / mentions', 'builtin', 0, 100, true),
    ('negative_mention_share', 'Negative mentions', 'digital_experience', 'percent', 'lower_is_better',
     '100 * negative mentions / mentions', 'builtin', 0, 100, true);

-------------------------------------------------------------------------------------------------
-- Engagement across channels (issue 17, seed 002) and social-media sentiment (seed 003): the
-- facts (docs/data-model.md#engagement_events, #social_mentions), the editable lexicon that
-- scores a mention that comes without a polarity, and their daily rollups, maintained by the
-- refresh like the others (cxkpi.dashboard_rollups(); docs/dashboard.md#engagement-and-social-sentiment).
-------------------------------------------------------------------------------------------------

-- One row per customer touchpoint event.  The kind fixes the channel (email_* on email,
-- social_interaction on social, site_visit on web, app_session on app, store_visit in store);
-- an email_open or email_click is recorded once per email (the first open, the first click).
CREATE TABLE cxkpi.engagement_events (
    event_id    bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES cxkpi.customers,
    occurred_at timestamptz NOT NULL CONSTRAINT engagement_events_occurred_at_finite CHECK (isfinite(occurred_at)),
    channel     text NOT NULL CONSTRAINT engagement_events_channel
                    CHECK (channel IN ('email', 'social', 'web', 'app', 'store')),
    kind        text NOT NULL CONSTRAINT engagement_events_kind
                    CHECK (kind IN ('email_sent', 'email_open', 'email_click', 'social_interaction', 'site_visit',
                                    'app_session', 'store_visit')),
    CONSTRAINT engagement_events_kind_channel CHECK (channel = CASE WHEN kind LIKE 'email%' THEN 'email'
                                                                   WHEN kind = 'social_interaction' THEN 'social'
                                                                   WHEN kind = 'site_visit' THEN 'web'
                                                                   WHEN kind = 'app_session' THEN 'app'
                                                                   ELSE 'store' END)
);
CREATE INDEX engagement_events_customer_idx ON cxkpi.engagement_events (customer_id, occurred_at);
CREATE INDEX engagement_events_occurred_at_idx ON cxkpi.engagement_events (occurred_at);
COMMENT ON TABLE cxkpi.engagement_events IS
    'One row per customer engagement event: email_sent, email_open and email_click (channel email; an open or click once per email), social_interaction (social: a like, share, comment or review), site_visit (web), app_session (app), store_visit (store). Every kind but email_sent is an interaction; a customer with an interaction in a period is engaged in it.';
COMMENT ON COLUMN cxkpi.engagement_events.channel IS 'email, social, web, app or store; must be the channel of the kind.';
COMMENT ON COLUMN cxkpi.engagement_events.kind IS
    'email_sent, email_open, email_click, social_interaction, site_visit, app_session or store_visit.';

-- One row per mention of the brand on social media or a review site.  polarity comes from the
-- user's classifier (-1 negative, 0 neutral, 1 positive) or, when NULL, from the lexicon.
CREATE TABLE cxkpi.social_mentions (
    mention_id   bigint PRIMARY KEY,
    source       text NOT NULL CONSTRAINT social_mentions_source CHECK (source ~ '^[a-z][a-z0-9_]*$'),
    mentioned_at timestamptz NOT NULL CONSTRAINT social_mentions_mentioned_at_finite CHECK (isfinite(mentioned_at)),
    text         text NOT NULL DEFAULT '',
    polarity     smallint CONSTRAINT social_mentions_polarity CHECK (polarity IN (-1, 0, 1)),
    CONSTRAINT social_mentions_scorable CHECK (polarity IS NOT NULL OR text <> '')
);
CREATE INDEX social_mentions_mentioned_at_idx ON cxkpi.social_mentions (mentioned_at);
COMMENT ON TABLE cxkpi.social_mentions IS
    'One row per brand mention on social media or a review site: source (lower-case key, e.g. instagram, x, facebook, reviews), time, text, and the polarity from your classifier (-1 negative, 0 neutral, 1 positive); NULL polarity: scored by cxkpi.sentiment_polarity(text) with cxkpi.sentiment_lexicon.';
COMMENT ON COLUMN cxkpi.social_mentions.polarity IS
    '-1 negative, 0 neutral, 1 positive, as your classifier says; NULL: the lexicon scores the text (cxkpi.sentiment_polarity).';

-- The lexicon: word valences from -5 (very negative) to 5 (very positive), the AFINN method
-- (Nielsen 2011: a mention's score is the sum of the valences of its words; its polarity the
-- sign).  A small built-in English list; edit it (a built-in row you change is dumped as yours).
CREATE TABLE cxkpi.sentiment_lexicon (
    word       text PRIMARY KEY CONSTRAINT sentiment_lexicon_word CHECK (word ~ '^[a-z]+(''[a-z]+)?$'),
    weight     integer NOT NULL CONSTRAINT sentiment_lexicon_weight CHECK (weight BETWEEN -5 AND 5 AND weight <> 0),
    is_default boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE cxkpi.sentiment_lexicon IS
    'Word valences (-5 to 5, not 0) that score social mentions without a polarity (cxkpi.sentiment_polarity, AFINN method). Lower-case words; edit freely: a change rescores the mentions without a polarity at the next refresh.';
INSERT INTO cxkpi.sentiment_lexicon (word, weight, is_default) VALUES
    ('love', 3, true), ('loved', 3, true), ('great', 3, true), ('excellent', 3, true), ('amazing', 4, true),
    ('awesome', 4, true), ('perfect', 3, true), ('fantastic', 4, true), ('good', 3, true), ('nice', 3, true),
    ('happy', 3, true), ('fast', 2, true), ('easy', 1, true), ('friendly', 2, true), ('helpful', 2, true),
    ('recommend', 2, true), ('thanks', 2, true), ('thank', 2, true), ('best', 3, true), ('beautiful', 3, true),
    ('quick', 2, true), ('satisfied', 2, true), ('glad', 3, true), ('like', 2, true), ('enjoy', 2, true),
    ('bad', -3, true), ('terrible', -3, true), ('awful', -3, true), ('horrible', -3, true), ('worst', -3, true),
    ('hate', -3, true), ('poor', -2, true), ('slow', -2, true), ('late', -2, true), ('broken', -1, true),
    ('rude', -2, true), ('disappointed', -2, true), ('disappointing', -2, true), ('refund', -1, true),
    ('problem', -2, true), ('fail', -2, true), ('failed', -2, true), ('never', -1, true), ('wrong', -2, true),
    ('missing', -2, true), ('damaged', -2, true), ('annoying', -2, true), ('useless', -2, true),
    ('scam', -4, true), ('complaint', -2, true);

-- A mention's polarity by the lexicon: the sign of the sum of the valences of its words (lower
-- case, split at anything but letters and apostrophes), a word right after a negation (not, no,
-- never, don't, ...) counted with the opposite sign; 0 when no word is in the lexicon.
CREATE FUNCTION cxkpi.sentiment_polarity(mention text) RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT sign(coalesce(sum(CASE WHEN w.prev IN ('not', 'no', 'never', 'don''t', 'doesn''t', 'didn''t', 'isn''t',
                                                  'wasn''t', 'won''t', 'cannot', 'can''t')
                                  THEN -l.weight ELSE l.weight END), 0))::smallint
    FROM (SELECT t.word, lag(t.word) OVER (ORDER BY t.n) AS prev
          FROM regexp_split_to_table(lower(mention), '[^a-z'']+') WITH ORDINALITY AS t(word, n)) AS w
    JOIN cxkpi.sentiment_lexicon AS l ON l.word = w.word;
END;
COMMENT ON FUNCTION cxkpi.sentiment_polarity(text) IS
    'Polarity of a text by cxkpi.sentiment_lexicon (AFINN method): sign of the sum of its words'' valences, a word right after not, no, never, don''t, ... with the opposite sign; -1, 0 or 1.';

-- A lexicon edit rescores the mentions without a polarity: their days are logged for the refresh.
CREATE FUNCTION cxkpi.sentiment_lexicon_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_RELID <> 'cxkpi.sentiment_lexicon'::regclass THEN
        RAISE EXCEPTION 'cxkpi.sentiment_lexicon_changed() belongs to cxkpi.sentiment_lexicon' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO cxkpi.change_log (fact, bucket)
    SELECT DISTINCT 'social_mentions', (m.mentioned_at AT TIME ZONE s.value)::date
    FROM cxkpi.social_mentions AS m, cxkpi.settings AS s
    WHERE s.key = 'time_zone' AND m.polarity IS NULL;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.sentiment_lexicon_changed() IS
    'Internal: statement trigger of cxkpi.sentiment_lexicon; logs the days of the mentions without a polarity for the next refresh.';
REVOKE ALL ON FUNCTION cxkpi.sentiment_lexicon_changed() FROM PUBLIC;
CREATE TRIGGER sentiment_lexicon_upsert BEFORE INSERT OR UPDATE OR DELETE ON cxkpi.sentiment_lexicon
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();
CREATE TRIGGER sentiment_lexicon_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cxkpi.sentiment_lexicon
    FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.sentiment_lexicon_changed();

SELECT pg_catalog.pg_extension_config_dump('cxkpi.engagement_events', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.social_mentions', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.sentiment_lexicon', 'WHERE NOT is_default');

-- Engagement per day and channel: emails sent, unique opens and clicks, interactions (every
-- event but email_sent), and the customers reached (any event) and engaged (an interaction) as
-- retention summaries, so that a period counts distinct customers exactly across its days.
CREATE TABLE cxkpi.daily_engagement (day date, channel text, sent bigint, opens bigint, clicks bigint,
    interactions bigint, reached @extschema@.retention_summary, engaged @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_engagement_key ON cxkpi.daily_engagement (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_engagement(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_engagement
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (e.occurred_at AT TIME ZONE tz)::date AS day, e.channel,
       count(*) FILTER (WHERE e.kind = 'email_sent') AS sent, count(*) FILTER (WHERE e.kind = 'email_open') AS opens,
       count(*) FILTER (WHERE e.kind = 'email_click') AS clicks,
       count(*) FILTER (WHERE e.kind <> 'email_sent') AS interactions,
       @extschema@.retention_agg(e.customer_id, (e.occurred_at AT TIME ZONE tz)::date, 'day') AS reached,
       @extschema@.retention_agg(e.customer_id, (e.occurred_at AT TIME ZONE tz)::date, 'day')
           FILTER (WHERE e.kind <> 'email_sent') AS engaged
FROM cxkpi.engagement_events AS e
WHERE e.occurred_at >= (first_day::timestamp AT TIME ZONE tz) AND e.occurred_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_engagement IS
    'Internal rollup: engagement events per local day and channel: emails sent, opens, clicks, interactions, and the customers reached and engaged (retention summaries: distinct customers of any period).';
COMMENT ON FUNCTION cxkpi.rollup_daily_engagement(text, date, date) IS
    'Internal: the rows of cxkpi.daily_engagement of the days first_day to last_day (in time zone tz).';

-- Mentions per day and source as NPS summaries over three categories (positive = 10, neutral =
-- 8, negative = 0): net sentiment is then the NPS of the summary, with its adjusted-Wald
-- interval (src/nps.c), and the shares are its promoters, passives and detractors.
CREATE TABLE cxkpi.daily_sentiment (day date, source text, mentions @extschema@.nps_summary, lexicon_scored bigint);
CREATE UNIQUE INDEX daily_sentiment_key ON cxkpi.daily_sentiment (day, source);
CREATE FUNCTION cxkpi.rollup_daily_sentiment(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_sentiment
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (m.mentioned_at AT TIME ZONE tz)::date AS day, m.source,
       @extschema@.nps_agg(CASE coalesce(m.polarity, cxkpi.sentiment_polarity(m.text)) WHEN 1 THEN 10 WHEN 0 THEN 8 ELSE 0 END)
           AS mentions,
       count(*) FILTER (WHERE m.polarity IS NULL) AS lexicon_scored
FROM cxkpi.social_mentions AS m
WHERE m.mentioned_at >= (first_day::timestamp AT TIME ZONE tz) AND m.mentioned_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_sentiment IS
    'Internal rollup: social mentions per local day and source as an nps_summary (positive = 10, neutral = 8, negative = 0), and how many the lexicon scored.';
COMMENT ON FUNCTION cxkpi.rollup_daily_sentiment(text, date, date) IS
    'Internal: the rows of cxkpi.daily_sentiment of the days first_day to last_day (in time zone tz).';

-- The statement trigger of every fact table (INSERT, UPDATE, DELETE with transition tables, and
-- TRUNCATE): one change_log row per distinct (fact, day) the statement touched, the old rows' days
-- and the new rows' days.  Dependencies between facts are logged as buckets too:
--   orders: an UPDATE logs the request days of the orders' returns (days to return).  The
--     first-order flag and segment depend on the customer's other orders: the refresh finds the
--     flags that moved by comparing each touched customer's first order with the one it recorded
--     (cxkpi.customer_first_orders; dashboard_maintain, step 2), so writers log nothing for them;
--   order_returns: the day of the returned order (the order-date return summary);
--   loyalty_members: the days of the member's orders and programme activities (segment and
--     activity count from the enrolment day on).
-- SECURITY DEFINER: a writer needs no privilege on cxkpi.change_log.  The log carries bucket keys
-- only, never values: the refresh recomputes every dirty day from the facts.  EXECUTE is revoked
-- from PUBLIC (no one attaches it to a table of their own) and it refuses to run as anything but
-- the AFTER statement trigger of a cxkpi fact table (docs/security.md).
CREATE OR REPLACE FUNCTION cxkpi.change_capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- read here rather than through cxkpi.setting(): a static query keeps its plan, and this
    -- runs for every statement of every writer
    tz text := (SELECT s.value FROM cxkpi.settings AS s WHERE s.key = 'time_zone');
    src text := CASE TG_OP WHEN 'INSERT' THEN 'new_rows' WHEN 'DELETE' THEN 'old_rows'
                           ELSE '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)' END;
    day_sql text;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.change_capture_tables())
       OR TG_RELID <> format('cxkpi.%I', TG_TABLE_NAME)::regclass THEN
        RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO cxkpi.change_log (fact, bucket) VALUES (TG_TABLE_NAME, NULL);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- Writers' hot path: one static statement per table (planned once per session, where
        -- the dynamic statement below is parsed and planned at every call: twice the cost of a
        -- one-row insert).  The day of each row as in the UPDATE and DELETE case below.
        IF TG_TABLE_NAME = 'survey_responses' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'survey_responses', x.d FROM (SELECT (r.responded_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'orders' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'orders', x.d FROM (SELECT (r.ordered_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_returns' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_returns', x.d FROM (SELECT (r.requested_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'web_sessions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'web_sessions', x.d FROM (SELECT (r.started_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'store_traffic' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'store_traffic', x.d FROM (SELECT r.visit_date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'carts' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'carts', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'support_tickets' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'support_tickets', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'app_ratings' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'app_ratings', x.d FROM (SELECT (r.rated_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'metric_observations' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'metric_observations', x.d FROM (SELECT (r.observed_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_activity' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_activity', x.d FROM (SELECT (r.active_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'customers' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'customers', r.acquired_on FROM new_rows AS r WHERE r.acquired_on IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_members', d.d FROM new_rows AS r, unnest(ARRAY[r.enrolled_on, r.last_active_on]) AS d(d)
            WHERE d.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_deliveries' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_deliveries', (o.ordered_at AT TIME ZONE tz)::date
            FROM new_rows AS r JOIN cxkpi.orders AS o ON o.order_id = r.order_id;
        ELSIF TG_TABLE_NAME = 'engagement_events' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'engagement_events', x.d FROM (SELECT (r.occurred_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'social_mentions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'social_mentions', x.d FROM (SELECT (r.mentioned_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        END IF;
    ELSE
        day_sql := CASE TG_TABLE_NAME
            WHEN 'survey_responses' THEN '(r.responded_at AT TIME ZONE $1)::date'
            WHEN 'orders' THEN '(r.ordered_at AT TIME ZONE $1)::date'
            WHEN 'order_returns' THEN '(r.requested_at AT TIME ZONE $1)::date'
            WHEN 'web_sessions' THEN '(r.started_at AT TIME ZONE $1)::date'
            WHEN 'store_traffic' THEN 'r.visit_date'
            WHEN 'carts' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'support_tickets' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'app_ratings' THEN '(r.rated_at AT TIME ZONE $1)::date'
            WHEN 'metric_observations' THEN '(r.observed_at AT TIME ZONE $1)::date'
            WHEN 'loyalty_activity' THEN '(r.active_at AT TIME ZONE $1)::date'
            WHEN 'customers' THEN 'r.acquired_on'
            WHEN 'loyalty_members' THEN 'unnest(ARRAY[r.enrolled_on, r.last_active_on])'
            WHEN 'order_deliveries' THEN '(SELECT (o.ordered_at AT TIME ZONE $1)::date FROM cxkpi.orders AS o WHERE o.order_id = r.order_id)'
            WHEN 'engagement_events' THEN '(r.occurred_at AT TIME ZONE $1)::date'
            WHEN 'social_mentions' THEN '(r.mentioned_at AT TIME ZONE $1)::date'
        END;
        IF day_sql IS NULL THEN
            RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket) SELECT DISTINCT %L, d FROM (SELECT %s AS d FROM %s AS r) AS x '
                       'WHERE d IS NOT NULL', TG_TABLE_NAME, day_sql, src) USING tz;
    END IF;
    IF TG_TABLE_NAME = 'orders' AND TG_OP = 'UPDATE' THEN
        -- UPDATE: the request days of the orders' returns (days to return)
        INSERT INTO cxkpi.change_log (fact, bucket)
        SELECT DISTINCT 'order_returns', (r.requested_at AT TIME ZONE tz)::date
        FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT n.order_id FROM new_rows AS n);
    ELSIF TG_TABLE_NAME = 'order_returns' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.order_id IN (SELECT r.order_id FROM %s AS r)', src) USING tz;
    ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.customer_id IN (SELECT r.customer_id FROM %1$s AS r)
                        UNION
                        SELECT DISTINCT ''loyalty_activity'', (a.active_at AT TIME ZONE $1)::date
                        FROM cxkpi.loyalty_activity AS a WHERE a.customer_id IN (SELECT r.customer_id FROM %1$s AS r)', src)
        USING tz;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.change_capture() IS
    'Internal: statement trigger of the fact tables; appends the day buckets a statement touched (and those that depend on them) to cxkpi.change_log.';
REVOKE ALL ON FUNCTION cxkpi.change_capture() FROM PUBLIC;
-- The fact tables the daily rollups read.
CREATE OR REPLACE FUNCTION cxkpi.change_capture_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['survey_responses', 'orders', 'order_returns', 'web_sessions', 'store_traffic', 'carts',
                 'support_tickets', 'app_ratings', 'metric_observations', 'loyalty_members', 'loyalty_activity',
                 'customers', 'order_deliveries', 'engagement_events', 'social_mentions'];
COMMENT ON FUNCTION cxkpi.change_capture_tables() IS 'Internal: the fact tables whose changes cxkpi.change_log records.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['engagement_events', 'social_mentions'] LOOP
        EXECUTE format('CREATE TRIGGER change_capture_insert AFTER INSERT ON cxkpi.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_update AFTER UPDATE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_delete AFTER DELETE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_truncate AFTER TRUNCATE ON cxkpi.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
    END LOOP;
END $$;

-- Which rollup reads which facts' days (cxkpi.change_log.fact), in the order of the refresh.
CREATE OR REPLACE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_ticket_resolutions', ARRAY['support_tickets']),
           ('daily_deliveries', ARRAY['orders', 'order_deliveries']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']),
           ('hourly_conversion', ARRAY['web_sessions']),
           ('hourly_orders', ARRAY['orders']),
           ('hourly_carts', ARRAY['carts']),
           ('hourly_tickets', ARRAY['support_tickets']),
           ('daily_engagement', ARRAY['engagement_events']),
           ('daily_sentiment', ARRAY['social_mentions']) $$;
COMMENT ON FUNCTION cxkpi.dashboard_rollups() IS
    'Internal: the daily and hourly rollups in refresh order, with the fact tables (cxkpi.change_log.fact) whose days they read.';
-- The first and the last day of the rollups.
CREATE OR REPLACE FUNCTION cxkpi.dashboard_days(OUT first_day date, OUT last_day date)
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT min(d.first_day), max(d.last_day)
    FROM (SELECT min(day), max(day) FROM cxkpi.daily_surveys UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_orders
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_customer_activity
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_conversion
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_carts UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_tickets
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_loyalty UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_app_ratings
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_observations
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_return_events
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_acquisition
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_engagement
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_sentiment) AS d(first_day, last_day) $$;
COMMENT ON FUNCTION cxkpi.dashboard_days() IS 'Internal: the first and the last day of the daily rollups.';
-- The arithmetic of the KPIs that have an hour grain, written once from their additive state:
-- value, numerator, denominator, sample size and interval of kpi from the sums num (numerator)
-- and den (denominator; NULL for a volume).  cxkpi.kpi_engine calls it for every period of the
-- daily rollups, the hourly views (src/dashboard_hourly.sql) for hours, today so far and the
-- heat map, so a KPI's formula is in one place (docs/architecture.md#the-hour-grain).  Shares
-- are in percent with a Wilson interval; means (aov, response_time_hours) are sums over counts;
-- volumes (sessions, orders, tickets, net_revenue) are the sum itself.  Unknown KPIs give NULL.
-- A SQL-standard body: inlined where it is called, and readers of cxkpi_bi (no USAGE on schema
-- cxkpi) can run it.
CREATE OR REPLACE FUNCTION cxkpi.kpi_arithmetic(kpi text, num numeric, den numeric, conf double precision)
    RETURNS TABLE (value double precision, numerator double precision, denominator double precision,
                   sample_size bigint, ci_lower double precision, ci_upper double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'aov' THEN (num / nullif(den, 0))::double precision
                WHEN kpi IN ('response_time_hours', 'resolution_time_hours', 'delivery_time_days') THEN num::double precision / nullif(den, 0)::double precision
                WHEN kpi IN ('sessions', 'orders', 'tickets', 'net_revenue') THEN num::double precision
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'interactions_per_customer' THEN (num / nullif(den, 0))::double precision END,
           num::double precision, den::double precision,
           CASE WHEN kpi IN ('sessions', 'orders', 'tickets') THEN num::bigint ELSE den::bigint END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf)
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf) END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf)
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf) END;
END;
COMMENT ON FUNCTION cxkpi.kpi_arithmetic(text, numeric, numeric, double precision) IS
    'Internal: the arithmetic of the KPIs with an hour grain (conversion_rate, cart_abandonment_rate, aov, response_time_hours, sessions, orders, tickets, net_revenue), of the mean resolution and delivery times (resolution_time_hours, delivery_time_days) and of the engagement and mention shares (engagement_rate, email_open_rate, email_click_rate, positive_, neutral_ and negative_mention_share; interactions_per_customer) from the sums of their numerator and denominator: value, numerator, denominator, sample size and Wilson interval (shares). Used by cxkpi.kpi_engine and the hourly views alike.';
-- The arithmetic of every KPI, written once: the rows of cxkpi.kpi_values of the periods given
-- (grains[i], period_starts[i]: the first day of a period of that grain), computed from the rollup
-- rows of those periods.  The full rebuild passes every period, the incremental refresh the
-- periods its dirty days fall into.  Each value comes with the value of the previous period and
-- of the same period a year earlier (cxkpi.previous_period_start, cxkpi.year_ago_period_start),
-- computed here for those periods too.  What a period reads besides its own days: retention the
-- retention_active_window periods before it, the active loyalty share the loyalty_active_days
-- days up to its end, the loyalty members every enrolment up to its end.
-- enable_mergejoin off: the planner, which has no statistics on the CTEs, would keep the asked
-- periods with a merge semi join that rereads them for every row (30 of 44 s of a rebuild at
-- scale 1); the hash join it takes instead is linear.
CREATE OR REPLACE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
-- the previous and year-ago periods of each that are not asked for: those cxkpi.kpi_values holds
-- are read from it (stored), the others computed here too
nb AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)
    WHERE NOT EXISTS (SELECT 1 FROM req AS r WHERE r.grain = q.grain AND r.period_start = x.period_start)),
stored AS MATERIALIZED (
    SELECT n.grain, n.period_start FROM nb AS n
    WHERE EXISTS (SELECT 1 FROM cxkpi.kpi_values AS v WHERE v.grain = n.grain AND v.period_start = n.period_start)),
per AS MATERIALIZED (
    SELECT x.grain, x.period_start, (x.period_start + cxkpi.grain_interval(x.grain))::date - 1 AS period_end
    FROM (SELECT q.grain, q.period_start FROM req AS q
          UNION
          SELECT n.grain, n.period_start FROM nb AS n
          WHERE NOT EXISTS (SELECT 1 FROM stored AS t WHERE t.grain = n.grain AND t.period_start = n.period_start)) AS x),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- the accessors once per period: each reads the whole summary of the period (a year's is large)
act AS (
    SELECT a.grain, a.period_start, a.orders, @extschema@.customers(a.s) AS customers,
           @extschema@.repeat_customer_rate(a.s) AS repeat_rate
    FROM (SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
          FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY 1, 2) AS a),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- exact median and p90 of the days' arrays of response hours (percentile_cont's values, one sort
-- per group: src/quantiles.c)
tp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.responded, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.response_hours)) AS responded,
                 @extschema@.exact_percentiles(d.response_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.responded > 0),
-- resolution times: the mean from the sums, the median and 90th percentile from the sorted hours
rs AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.resolved)::bigint AS resolved, sum(d.resolution_hours_sum::numeric) AS hours_sum
    FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
rp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.resolved, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.resolution_hours)) AS resolved,
                 @extschema@.exact_percentiles(d.resolution_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.resolved > 0),
-- delivery times and on-time deliveries, as the resolution times
dl AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.delivered)::bigint AS delivered, sum(d.delivery_days_sum::numeric) AS days_sum,
           sum(d.promised)::bigint AS promised, sum(d.on_time)::bigint AS on_time
    FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
dp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.delivered, t.q[1] AS median_d, t.q[2] AS p90_d
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.delivery_days)) AS delivered,
                 @extschema@.exact_percentiles(d.delivery_days, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.delivered > 0),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
-- Engagement per channel and in total: distinct customers reached and engaged (retention
-- summaries merged over the period's days); a channel's engagement rate divides by the
-- customers reached in any channel.
eg AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.sent)::bigint AS sent, sum(d.opens)::bigint AS opens, sum(d.clicks)::bigint AS clicks,
           sum(d.interactions)::bigint AS interactions,
           coalesce(@extschema@.customers(@extschema@.rollup(d.reached)), 0) AS reached,
           coalesce(@extschema@.customers(@extschema@.rollup(d.engaged)), 0) AS engaged
    FROM per AS p JOIN cxkpi.daily_engagement AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
egr AS (
    SELECT c.*, t.reached AS reached_any
    FROM eg AS c JOIN eg AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total'),
sm AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.source) = 0 THEN 'source' ELSE 'total' END AS breakdown,
           coalesce(d.source, 'all') AS dimension, @extschema@.rollup(d.mentions) AS s
    FROM per AS p JOIN cxkpi.daily_sentiment AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.source), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, k.*
    FROM cv, cfg, LATERAL cxkpi.kpi_arithmetic('conversion_rate', conversions, visits, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, k.*
    FROM od, cfg, LATERAL cxkpi.kpi_arithmetic('aov', net_value, orders, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, k.*
    FROM ct, cfg, LATERAL cxkpi.kpi_arithmetic('cart_abandonment_rate', abandoned, carts, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'delivery_time_days', breakdown, dimension, k.*
    FROM dl, cfg, LATERAL cxkpi.kpi_arithmetic('delivery_time_days', days_sum, delivered, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'delivery_time_median_days', breakdown, dimension, median_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'delivery_time_p90_days', breakdown, dimension, p90_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'on_time_delivery_rate', breakdown, dimension, 100.0 * on_time / promised,
           on_time, promised, promised, cxkpi.wilson_ci_lower(on_time, promised, conf), cxkpi.wilson_ci_upper(on_time, promised, conf)
    FROM dl, cfg WHERE promised > 0
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, k.*
    FROM tk, cfg, LATERAL cxkpi.kpi_arithmetic('response_time_hours', response_hours_sum, responded, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'resolution_time_hours', breakdown, dimension, k.*
    FROM rs, cfg, LATERAL cxkpi.kpi_arithmetic('resolution_time_hours', hours_sum, resolved, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'resolution_time_median_hours', breakdown, dimension, median_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    UNION ALL
    SELECT grain, period_start, 'resolution_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', repeat_rate,
           round(repeat_rate * customers / 100), customers, customers,
           cxkpi.wilson_ci_lower(round(repeat_rate * customers / 100)::bigint, customers, conf),
           cxkpi.wilson_ci_upper(round(repeat_rate * customers / 100)::bigint, customers, conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / customers,
           orders, customers, customers, NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    UNION ALL
    -- each acquisition channel's share of the customers acquired in the period (the total row:
    -- 100, all of them, so that the KPI has a total row like every other)
    SELECT c.grain, c.period_start, 'new_customer_share', c.breakdown, c.dimension,
           100.0 * c.new_customers / t.new_customers, c.new_customers, t.new_customers, t.new_customers,
           cxkpi.wilson_ci_lower(c.new_customers, t.new_customers, cfg.conf),
           cxkpi.wilson_ci_upper(c.new_customers, t.new_customers, cfg.conf)
    FROM aq AS c JOIN aq AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total', cfg
    WHERE t.new_customers > 0
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / a.customers)
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, a.customers, NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL
    -- engagement (issue 17, seed 002)
    UNION ALL
    SELECT grain, period_start, 'engagement_rate', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('engagement_rate', engaged, reached_any, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'interactions_per_customer', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('interactions_per_customer', interactions, engaged, conf) AS k
    WHERE engaged > 0
    UNION ALL
    SELECT grain, period_start, x.kpi, 'total', 'all', k.*
    FROM egr, cfg, LATERAL (VALUES ('email_open_rate', opens), ('email_click_rate', clicks)) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, sent, conf) AS k
    WHERE breakdown = 'channel' AND dimension = 'email' AND sent > 0
    -- social-media sentiment (seed 003): net sentiment is the NPS of the three categories
    UNION ALL
    SELECT grain, period_start, 'net_sentiment', breakdown, dimension, @extschema@.nps(s),
           (@extschema@.promoters(s) - @extschema@.detractors(s))::double precision,
           @extschema@.responses(s)::double precision, @extschema@.responses(s),
           @extschema@.nps_ci_lower(s, conf), @extschema@.nps_ci_upper(s, conf)
    FROM sm, cfg
    UNION ALL
    SELECT grain, period_start, x.kpi, breakdown, dimension, k.*
    FROM sm, cfg, LATERAL (VALUES ('positive_mention_share', @extschema@.promoters(s)),
                                  ('neutral_mention_share', @extschema@.passives(s)),
                                  ('negative_mention_share', @extschema@.detractors(s))) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, @extschema@.responses(s), conf) AS k),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per) or read from cxkpi.kpi_values (stored), so the
-- windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg
    UNION ALL
    SELECT v.grain, v.period_start, v.period_end, v."time", v.kpi, v.breakdown, v.dimension, v.value, v.numerator,
           v.denominator, v.sample_size, v.ci_lower, v.ci_upper,
           CASE WHEN v.grain IN ('day', 'week') THEN (v.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM v.period_start)::integer END
    FROM stored AS t JOIN cxkpi.kpi_values AS v ON v.grain = t.grain AND v.period_start = t.period_start),
ann AS (
    SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
           c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
           CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER series END AS previous_value,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER years END AS value_year_ago,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
    FROM cur AS c
    WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;
COMMENT ON FUNCTION cxkpi.kpi_engine(text[], date[]) IS
    'Internal: the KPI engine, every KPI''s arithmetic written once: the cxkpi.kpi_values rows of the periods given (grains[i], period_starts[i]), from the daily rollups. The full rebuild and the incremental refresh both call it.';

-------------------------------------------------------------------------------------------------
-- Engagement and social sentiment on the dashboard (issue 17, seeds 002 and 003): the section
-- view, its cxkpi_bi name, display order, and privileges (docs/dashboard.md#engagement-and-social-sentiment).
-------------------------------------------------------------------------------------------------

-- One row per grain, period, breakdown and dimension: breakdown channel (email, social, web,
-- app, store) for engagement, source for the mentions, total for both.
CREATE VIEW cxkpi.kpi_engagement AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'engagement_rate') AS engagement_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'engagement_rate') AS engagement_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'engagement_rate') AS engagement_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'engagement_rate')::bigint AS engaged_customers,
       max(denominator) FILTER (WHERE kpi = 'engagement_rate')::bigint AS reached_customers,
       max(value) FILTER (WHERE kpi = 'interactions_per_customer') AS interactions_per_customer,
       max(numerator) FILTER (WHERE kpi = 'interactions_per_customer')::bigint AS interactions,
       max(value) FILTER (WHERE kpi = 'email_open_rate') AS email_open_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'email_open_rate')::bigint AS emails_opened,
       max(value) FILTER (WHERE kpi = 'email_click_rate') AS email_click_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'email_click_rate')::bigint AS emails_clicked,
       max(denominator) FILTER (WHERE kpi = 'email_open_rate')::bigint AS emails_sent,
       max(value) FILTER (WHERE kpi = 'net_sentiment') AS net_sentiment_points,
       max(ci_lower) FILTER (WHERE kpi = 'net_sentiment') AS net_sentiment_ci_lower_points,
       max(ci_upper) FILTER (WHERE kpi = 'net_sentiment') AS net_sentiment_ci_upper_points,
       max(value) FILTER (WHERE kpi = 'positive_mention_share') AS positive_mention_pct,
       max(value) FILTER (WHERE kpi = 'neutral_mention_share') AS neutral_mention_pct,
       max(value) FILTER (WHERE kpi = 'negative_mention_share') AS negative_mention_pct,
       max(numerator) FILTER (WHERE kpi = 'positive_mention_share')::bigint AS positive_mentions,
       max(numerator) FILTER (WHERE kpi = 'neutral_mention_share')::bigint AS neutral_mentions,
       max(numerator) FILTER (WHERE kpi = 'negative_mention_share')::bigint AS negative_mentions,
       max(sample_size) FILTER (WHERE kpi = 'net_sentiment') AS mentions
FROM cxkpi.kpi_values
WHERE kpi IN ('engagement_rate', 'interactions_per_customer', 'email_open_rate', 'email_click_rate', 'net_sentiment',
              'positive_mention_share', 'neutral_mention_share', 'negative_mention_share')
GROUP BY grain, period_start, breakdown, dimension;
COMMENT ON VIEW cxkpi.kpi_engagement IS
    'Engagement across channels (seed 002) and social-media sentiment (seed 003) per period: engagement rate (distinct customers with an interaction / customers reached), interactions per engaged customer, email open and click rates, net sentiment with its adjusted-Wald interval and the shares of positive, neutral and negative mentions; total, by channel (engagement) and by source (mentions).';
COMMENT ON COLUMN cxkpi.kpi_engagement.grain IS 'Period length: day, week, month, quarter or year.';
COMMENT ON COLUMN cxkpi.kpi_engagement.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.kpi_engagement.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN cxkpi.kpi_engagement."time" IS 'Start of the period as a timestamp (midnight in setting time_zone).';
COMMENT ON COLUMN cxkpi.kpi_engagement.breakdown IS 'total, channel (engagement: email, social, web, app, store) or source (mentions).';
COMMENT ON COLUMN cxkpi.kpi_engagement.dimension IS 'The channel or source; all for the total row.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engagement_rate_pct IS
    '100 * engaged customers / customers reached (any engagement event, any channel) in the period; by channel: engaged in that channel.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engagement_rate_ci_lower_pct IS 'Lower end of the Wilson interval of the engagement rate.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engagement_rate_ci_upper_pct IS 'Upper end of the Wilson interval of the engagement rate.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engaged_customers IS 'Distinct customers with an interaction (every event but email_sent) in the period (and channel).';
COMMENT ON COLUMN cxkpi.kpi_engagement.reached_customers IS 'Distinct customers with any engagement event in the period, any channel.';
COMMENT ON COLUMN cxkpi.kpi_engagement.interactions_per_customer IS 'interactions / engaged customers.';
COMMENT ON COLUMN cxkpi.kpi_engagement.interactions IS 'Interactions: email opens and clicks, social interactions, site visits, app sessions, store visits.';
COMMENT ON COLUMN cxkpi.kpi_engagement.email_open_rate_pct IS '100 * emails opened / emails sent (total row only).';
COMMENT ON COLUMN cxkpi.kpi_engagement.emails_opened IS 'Emails opened (email_open events).';
COMMENT ON COLUMN cxkpi.kpi_engagement.email_click_rate_pct IS '100 * emails clicked / emails sent (total row only).';
COMMENT ON COLUMN cxkpi.kpi_engagement.emails_clicked IS 'Emails clicked (email_click events).';
COMMENT ON COLUMN cxkpi.kpi_engagement.emails_sent IS 'Emails sent (email_sent events).';
COMMENT ON COLUMN cxkpi.kpi_engagement.net_sentiment_points IS '100 * (positive - negative mentions) / mentions, -100 to 100.';
COMMENT ON COLUMN cxkpi.kpi_engagement.net_sentiment_ci_lower_points IS 'Lower end of the adjusted-Wald interval of net sentiment (as for NPS).';
COMMENT ON COLUMN cxkpi.kpi_engagement.net_sentiment_ci_upper_points IS 'Upper end of the adjusted-Wald interval of net sentiment (as for NPS).';
COMMENT ON COLUMN cxkpi.kpi_engagement.positive_mention_pct IS '100 * positive mentions / mentions.';
COMMENT ON COLUMN cxkpi.kpi_engagement.neutral_mention_pct IS '100 * neutral mentions / mentions.';
COMMENT ON COLUMN cxkpi.kpi_engagement.negative_mention_pct IS '100 * negative mentions / mentions.';
COMMENT ON COLUMN cxkpi.kpi_engagement.positive_mentions IS 'Mentions of polarity 1 (classifier or lexicon).';
COMMENT ON COLUMN cxkpi.kpi_engagement.neutral_mentions IS 'Mentions of polarity 0 (classifier or lexicon).';
COMMENT ON COLUMN cxkpi.kpi_engagement.negative_mentions IS 'Mentions of polarity -1 (classifier or lexicon).';
COMMENT ON COLUMN cxkpi.kpi_engagement.mentions IS 'Social mentions in the period.';

CREATE VIEW cxkpi_bi.kpi_engagement AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.engagement_rate_pct, v.engagement_rate_ci_lower_pct, v.engagement_rate_ci_upper_pct, v.engaged_customers,
       v.reached_customers, v.interactions_per_customer, v.interactions, v.email_open_rate_pct, v.emails_opened,
       v.email_click_rate_pct, v.emails_clicked, v.emails_sent, v.net_sentiment_points, v.net_sentiment_ci_lower_points,
       v.net_sentiment_ci_upper_points, v.positive_mention_pct, v.neutral_mention_pct, v.negative_mention_pct,
       v.positive_mentions, v.neutral_mentions, v.negative_mentions, v.mentions
FROM cxkpi.kpi_engagement AS v;
COMMENT ON VIEW cxkpi_bi.kpi_engagement IS
    'Engagement across channels (seed 002) and social-media sentiment (seed 003) per period: engagement rate, interactions per engaged customer, email open and click rates, net sentiment with its interval and the shares of positive, neutral and negative mentions; total, by channel and by source.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS doc FROM pg_attribute AS a
             WHERE a.attrelid = 'cxkpi.kpi_engagement'::regclass AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.kpi_engagement.%I IS %L', r.attname, r.doc);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_engagement, cxkpi_bi.kpi_engagement TO cxkpi_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.engagement_events, cxkpi.social_mentions TO cxkpi_writer;
GRANT SELECT ON cxkpi.sentiment_lexicon TO cxkpi_writer, cxkpi_operator;

-- Display order and decimals (cxkpi_bi.kpi_catalog), as src/bi.sql does for the others.
ALTER TABLE cxkpi.kpi_definitions DISABLE TRIGGER kpi_definitions_upsert;
UPDATE cxkpi.kpi_definitions AS d SET sort_order = v.sort_order, decimals = v.decimals
FROM (VALUES ('engagement_rate', 460, NULL::smallint), ('interactions_per_customer', 470, 2), ('email_open_rate', 480, NULL),
             ('email_click_rate', 490, NULL), ('net_sentiment', 492, NULL), ('positive_mention_share', 494, NULL),
             ('neutral_mention_share', 496, NULL), ('negative_mention_share', 498, NULL)) AS v(kpi, sort_order, decimals)
WHERE d.kpi = v.kpi;
ALTER TABLE cxkpi.kpi_definitions ENABLE TRIGGER kpi_definitions_upsert;

-------------------------------------------------------------------------------------------------
-- Issue 17, seed 002: inventory (stock turnover, days of inventory, stock-outs per category).
-- src/inventory.sql verbatim, the change-capture triggers of cxkpi.inventory_snapshots, the
-- functions that list the facts and rollups and the KPI engine as in src/dashboard_rollups.sql,
-- src/dashboard_inventory.sql verbatim, and the sample data generator as in src/sample_data.sql.
-------------------------------------------------------------------------------------------------
-------------------------------------------------------------------------------------------------
-- Inventory (issue 17, seed 002: "Stock turnover rate: measures the efficiency of inventory
-- management"): the daily stock snapshots an ERP exports, their daily rollup per category,
-- maintained by the refresh like the others (cxkpi.dashboard_rollups()), and the KPI
-- definitions of stock turnover, days of inventory and the stock-out rate
-- (docs/data-model.md#inventory_snapshots, docs/dashboard.md#inventory).
-------------------------------------------------------------------------------------------------

-- One row per local day, location and SKU: the stock on hand at the end of the day (units and
-- value at cost) and the cost of the goods sold from that stock during that day.  snapshot_date
-- is a local calendar day already (no time zone conversion).  A SKU belongs to one category a
-- day (a SKU moved to another category counts in the new one from that day on).
CREATE TABLE cxkpi.inventory_snapshots (
    snapshot_date date NOT NULL CONSTRAINT inventory_snapshots_date_finite CHECK (isfinite(snapshot_date)),
    location      text NOT NULL CONSTRAINT inventory_snapshots_location_not_empty CHECK (btrim(location) <> ''),
    sku           text NOT NULL CONSTRAINT inventory_snapshots_sku_not_empty CHECK (btrim(sku) <> ''),
    category      text NOT NULL CONSTRAINT inventory_snapshots_category_not_empty CHECK (btrim(category) <> ''),
    on_hand_units numeric(14, 3) NOT NULL CONSTRAINT inventory_snapshots_units_non_negative CHECK (on_hand_units >= 0 AND on_hand_units <> 'NaN'),
    on_hand_value numeric(16, 2) NOT NULL CONSTRAINT inventory_snapshots_value_non_negative CHECK (on_hand_value >= 0 AND on_hand_value <> 'NaN'),
    cogs          numeric(16, 2) NOT NULL DEFAULT 0 CONSTRAINT inventory_snapshots_cogs_non_negative CHECK (cogs >= 0 AND cogs <> 'NaN'),
    CONSTRAINT inventory_snapshots_value_of_units CHECK (on_hand_units > 0 OR on_hand_value = 0),
    PRIMARY KEY (snapshot_date, location, sku)
);
COMMENT ON TABLE cxkpi.inventory_snapshots IS
    'One row per local day, location and SKU (an ERP''s daily stock export): category, units and value at cost on hand at the end of the day, and the cost of goods sold from that stock during the day. Stock turnover, days of inventory and the stock-out rate per category are computed from it.';
COMMENT ON COLUMN cxkpi.inventory_snapshots.snapshot_date IS 'The local calendar day the snapshot closes (no time zone conversion).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.location IS 'Store, warehouse or fulfilment centre holding the stock (free key, not empty).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.sku IS 'Stock-keeping unit (not empty).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.category IS 'Product category of the SKU on that day (the KPIs'' dimension; not empty).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.on_hand_units IS 'Units on hand at the end of the day (>= 0; 0 is a stock-out).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.on_hand_value IS 'Value of the units on hand at cost (>= 0; 0 when no unit is on hand).';
COMMENT ON COLUMN cxkpi.inventory_snapshots.cogs IS 'Cost of goods sold from this location and SKU during the day (>= 0).';
CREATE INDEX inventory_snapshots_category_idx ON cxkpi.inventory_snapshots (category, snapshot_date);

SELECT pg_catalog.pg_extension_config_dump('cxkpi.inventory_snapshots', '');

-- Inventory per day and category: the SKU-location rows tracked and those out of stock, the
-- stock value at cost and the cost of goods sold.  All additive: a period's average inventory is
-- the sum of the daily values over the days with a snapshot, so every grain is exact.
CREATE TABLE cxkpi.daily_inventory (day date, category text, tracked bigint, stock_outs bigint,
    inventory_value numeric, cogs numeric);
CREATE UNIQUE INDEX daily_inventory_key ON cxkpi.daily_inventory (day, category);
CREATE FUNCTION cxkpi.rollup_daily_inventory(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_inventory
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT s.snapshot_date AS day, s.category, count(*) AS tracked, count(*) FILTER (WHERE s.on_hand_units = 0) AS stock_outs,
       sum(s.on_hand_value) AS inventory_value, sum(s.cogs) AS cogs
FROM cxkpi.inventory_snapshots AS s
WHERE s.snapshot_date BETWEEN first_day AND last_day
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_inventory IS
    'Internal rollup: inventory snapshots per day and category: SKU-location rows tracked and out of stock (0 units), stock value at cost, cost of goods sold.';
COMMENT ON FUNCTION cxkpi.rollup_daily_inventory(text, date, date) IS
    'Internal: the rows of cxkpi.daily_inventory of the days first_day to last_day (snapshot dates are local days already: tz is not used).';

-- The KPIs (computed by cxkpi.kpi_engine from cxkpi.daily_inventory), total and per category.
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default) VALUES
    ('stock_turnover', 'Stock turnover', 'operational_efficiency', 'ratio', 'higher_is_better',
     'cost of goods sold in the period / average inventory value at cost (mean of the daily snapshot totals over the days of the period with a snapshot); per period, not annualised', 'builtin', 0, NULL, true),
    ('days_of_inventory', 'Days of inventory', 'operational_efficiency', 'days', 'lower_is_better',
     'days with a snapshot / stock turnover = sum of the daily inventory values at cost / cost of goods sold, in the period', 'builtin', 0, NULL, true),
    ('stock_out_rate', 'Stock-out rate', 'operational_efficiency', 'percent', 'lower_is_better',
     '100 * SKU-location-days with 0 units on hand / SKU-location-days tracked (snapshots), in the period', 'builtin', 0, 100, true);

DO $$
BEGIN
    EXECUTE 'CREATE TRIGGER change_capture_insert AFTER INSERT ON cxkpi.inventory_snapshots REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()';
    EXECUTE 'CREATE TRIGGER change_capture_update AFTER UPDATE ON cxkpi.inventory_snapshots REFERENCING OLD TABLE AS old_rows '
            'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()';
    EXECUTE 'CREATE TRIGGER change_capture_delete AFTER DELETE ON cxkpi.inventory_snapshots REFERENCING OLD TABLE AS old_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()';
    EXECUTE 'CREATE TRIGGER change_capture_truncate AFTER TRUNCATE ON cxkpi.inventory_snapshots '
            'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()';
END $$;

CREATE OR REPLACE FUNCTION cxkpi.change_capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- read here rather than through cxkpi.setting(): a static query keeps its plan, and this
    -- runs for every statement of every writer
    tz text := (SELECT s.value FROM cxkpi.settings AS s WHERE s.key = 'time_zone');
    src text := CASE TG_OP WHEN 'INSERT' THEN 'new_rows' WHEN 'DELETE' THEN 'old_rows'
                           ELSE '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)' END;
    day_sql text;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.change_capture_tables())
       OR TG_RELID <> format('cxkpi.%I', TG_TABLE_NAME)::regclass THEN
        RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO cxkpi.change_log (fact, bucket) VALUES (TG_TABLE_NAME, NULL);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- Writers' hot path: one static statement per table (planned once per session, where
        -- the dynamic statement below is parsed and planned at every call: twice the cost of a
        -- one-row insert).  The day of each row as in the UPDATE and DELETE case below.
        IF TG_TABLE_NAME = 'survey_responses' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'survey_responses', x.d FROM (SELECT (r.responded_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'orders' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'orders', x.d FROM (SELECT (r.ordered_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_returns' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_returns', x.d FROM (SELECT (r.requested_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'web_sessions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'web_sessions', x.d FROM (SELECT (r.started_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'store_traffic' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'store_traffic', x.d FROM (SELECT r.visit_date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'carts' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'carts', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'support_tickets' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'support_tickets', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'app_ratings' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'app_ratings', x.d FROM (SELECT (r.rated_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'metric_observations' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'metric_observations', x.d FROM (SELECT (r.observed_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_activity' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_activity', x.d FROM (SELECT (r.active_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'customers' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'customers', r.acquired_on FROM new_rows AS r WHERE r.acquired_on IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_members', d.d FROM new_rows AS r, unnest(ARRAY[r.enrolled_on, r.last_active_on]) AS d(d)
            WHERE d.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_deliveries' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_deliveries', (o.ordered_at AT TIME ZONE tz)::date
            FROM new_rows AS r JOIN cxkpi.orders AS o ON o.order_id = r.order_id;
        ELSIF TG_TABLE_NAME = 'engagement_events' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'engagement_events', x.d FROM (SELECT (r.occurred_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'social_mentions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'social_mentions', x.d FROM (SELECT (r.mentioned_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'inventory_snapshots' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'inventory_snapshots', r.snapshot_date FROM new_rows AS r;
        END IF;
    ELSE
        day_sql := CASE TG_TABLE_NAME
            WHEN 'survey_responses' THEN '(r.responded_at AT TIME ZONE $1)::date'
            WHEN 'orders' THEN '(r.ordered_at AT TIME ZONE $1)::date'
            WHEN 'order_returns' THEN '(r.requested_at AT TIME ZONE $1)::date'
            WHEN 'web_sessions' THEN '(r.started_at AT TIME ZONE $1)::date'
            WHEN 'store_traffic' THEN 'r.visit_date'
            WHEN 'carts' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'support_tickets' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'app_ratings' THEN '(r.rated_at AT TIME ZONE $1)::date'
            WHEN 'metric_observations' THEN '(r.observed_at AT TIME ZONE $1)::date'
            WHEN 'loyalty_activity' THEN '(r.active_at AT TIME ZONE $1)::date'
            WHEN 'customers' THEN 'r.acquired_on'
            WHEN 'loyalty_members' THEN 'unnest(ARRAY[r.enrolled_on, r.last_active_on])'
            WHEN 'order_deliveries' THEN '(SELECT (o.ordered_at AT TIME ZONE $1)::date FROM cxkpi.orders AS o WHERE o.order_id = r.order_id)'
            WHEN 'engagement_events' THEN '(r.occurred_at AT TIME ZONE $1)::date'
            WHEN 'social_mentions' THEN '(r.mentioned_at AT TIME ZONE $1)::date'
            WHEN 'inventory_snapshots' THEN 'r.snapshot_date'
        END;
        IF day_sql IS NULL THEN
            RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket) SELECT DISTINCT %L, d FROM (SELECT %s AS d FROM %s AS r) AS x '
                       'WHERE d IS NOT NULL', TG_TABLE_NAME, day_sql, src) USING tz;
    END IF;
    IF TG_TABLE_NAME = 'orders' AND TG_OP = 'UPDATE' THEN
        -- UPDATE: the request days of the orders' returns (days to return)
        INSERT INTO cxkpi.change_log (fact, bucket)
        SELECT DISTINCT 'order_returns', (r.requested_at AT TIME ZONE tz)::date
        FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT n.order_id FROM new_rows AS n);
    ELSIF TG_TABLE_NAME = 'order_returns' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.order_id IN (SELECT r.order_id FROM %s AS r)', src) USING tz;
    ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.customer_id IN (SELECT r.customer_id FROM %1$s AS r)
                        UNION
                        SELECT DISTINCT ''loyalty_activity'', (a.active_at AT TIME ZONE $1)::date
                        FROM cxkpi.loyalty_activity AS a WHERE a.customer_id IN (SELECT r.customer_id FROM %1$s AS r)', src)
        USING tz;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cxkpi.change_capture_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['survey_responses', 'orders', 'order_returns', 'web_sessions', 'store_traffic', 'carts',
                 'support_tickets', 'app_ratings', 'metric_observations', 'loyalty_members', 'loyalty_activity',
                 'customers', 'order_deliveries', 'engagement_events', 'social_mentions', 'inventory_snapshots'];

CREATE OR REPLACE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_ticket_resolutions', ARRAY['support_tickets']),
           ('daily_deliveries', ARRAY['orders', 'order_deliveries']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']),
           ('hourly_conversion', ARRAY['web_sessions']),
           ('hourly_orders', ARRAY['orders']),
           ('hourly_carts', ARRAY['carts']),
           ('hourly_tickets', ARRAY['support_tickets']),
           ('daily_engagement', ARRAY['engagement_events']),
           ('daily_sentiment', ARRAY['social_mentions']),
           ('daily_inventory', ARRAY['inventory_snapshots']) $$;

CREATE OR REPLACE FUNCTION cxkpi.dashboard_days(OUT first_day date, OUT last_day date)
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT min(d.first_day), max(d.last_day)
    FROM (SELECT min(day), max(day) FROM cxkpi.daily_surveys UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_orders
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_customer_activity
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_conversion
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_carts UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_tickets
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_loyalty UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_app_ratings
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_observations
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_return_events
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_acquisition
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_engagement
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_sentiment
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_inventory) AS d(first_day, last_day) $$;

CREATE OR REPLACE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
-- the previous and year-ago periods of each that are not asked for: those cxkpi.kpi_values holds
-- are read from it (stored), the others computed here too
nb AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)
    WHERE NOT EXISTS (SELECT 1 FROM req AS r WHERE r.grain = q.grain AND r.period_start = x.period_start)),
stored AS MATERIALIZED (
    SELECT n.grain, n.period_start FROM nb AS n
    WHERE EXISTS (SELECT 1 FROM cxkpi.kpi_values AS v WHERE v.grain = n.grain AND v.period_start = n.period_start)),
per AS MATERIALIZED (
    SELECT x.grain, x.period_start, (x.period_start + cxkpi.grain_interval(x.grain))::date - 1 AS period_end
    FROM (SELECT q.grain, q.period_start FROM req AS q
          UNION
          SELECT n.grain, n.period_start FROM nb AS n
          WHERE NOT EXISTS (SELECT 1 FROM stored AS t WHERE t.grain = n.grain AND t.period_start = n.period_start)) AS x),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- the accessors once per period: each reads the whole summary of the period (a year's is large)
act AS (
    SELECT a.grain, a.period_start, a.orders, @extschema@.customers(a.s) AS customers,
           @extschema@.repeat_customer_rate(a.s) AS repeat_rate
    FROM (SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
          FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY 1, 2) AS a),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- exact median and p90 of the days' arrays of response hours (percentile_cont's values, one sort
-- per group: src/quantiles.c)
tp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.responded, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.response_hours)) AS responded,
                 @extschema@.exact_percentiles(d.response_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.responded > 0),
-- resolution times: the mean from the sums, the median and 90th percentile from the sorted hours
rs AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.resolved)::bigint AS resolved, sum(d.resolution_hours_sum::numeric) AS hours_sum
    FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
rp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.resolved, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.resolution_hours)) AS resolved,
                 @extschema@.exact_percentiles(d.resolution_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.resolved > 0),
-- delivery times and on-time deliveries, as the resolution times
dl AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.delivered)::bigint AS delivered, sum(d.delivery_days_sum::numeric) AS days_sum,
           sum(d.promised)::bigint AS promised, sum(d.on_time)::bigint AS on_time
    FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
dp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.delivered, t.q[1] AS median_d, t.q[2] AS p90_d
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.delivery_days)) AS delivered,
                 @extschema@.exact_percentiles(d.delivery_days, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.delivered > 0),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
-- Engagement per channel and in total: distinct customers reached and engaged (retention
-- summaries merged over the period's days); a channel's engagement rate divides by the
-- customers reached in any channel.
eg AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.sent)::bigint AS sent, sum(d.opens)::bigint AS opens, sum(d.clicks)::bigint AS clicks,
           sum(d.interactions)::bigint AS interactions,
           coalesce(@extschema@.customers(@extschema@.rollup(d.reached)), 0) AS reached,
           coalesce(@extschema@.customers(@extschema@.rollup(d.engaged)), 0) AS engaged
    FROM per AS p JOIN cxkpi.daily_engagement AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
egr AS (
    SELECT c.*, t.reached AS reached_any
    FROM eg AS c JOIN eg AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total'),
sm AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.source) = 0 THEN 'source' ELSE 'total' END AS breakdown,
           coalesce(d.source, 'all') AS dimension, @extschema@.rollup(d.mentions) AS s
    FROM per AS p JOIN cxkpi.daily_sentiment AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.source), ())),
-- Inventory per category and in total (issue 17, seed 002): the days with a snapshot, the sum of
-- the daily stock values at cost (average inventory = value_days / days), the cost of goods sold,
-- and the SKU-location-days tracked and out of stock.
inv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.category) = 0 THEN 'category' ELSE 'total' END AS breakdown,
           coalesce(d.category, 'all') AS dimension,
           count(DISTINCT d.day) AS days, sum(d.inventory_value) AS value_days, sum(d.cogs) AS cogs,
           sum(d.tracked)::bigint AS tracked, sum(d.stock_outs)::bigint AS stock_outs
    FROM per AS p JOIN cxkpi.daily_inventory AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.category), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, k.*
    FROM cv, cfg, LATERAL cxkpi.kpi_arithmetic('conversion_rate', conversions, visits, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, k.*
    FROM od, cfg, LATERAL cxkpi.kpi_arithmetic('aov', net_value, orders, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, k.*
    FROM ct, cfg, LATERAL cxkpi.kpi_arithmetic('cart_abandonment_rate', abandoned, carts, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'delivery_time_days', breakdown, dimension, k.*
    FROM dl, cfg, LATERAL cxkpi.kpi_arithmetic('delivery_time_days', days_sum, delivered, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'delivery_time_median_days', breakdown, dimension, median_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'delivery_time_p90_days', breakdown, dimension, p90_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'on_time_delivery_rate', breakdown, dimension, 100.0 * on_time / promised,
           on_time, promised, promised, cxkpi.wilson_ci_lower(on_time, promised, conf), cxkpi.wilson_ci_upper(on_time, promised, conf)
    FROM dl, cfg WHERE promised > 0
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, k.*
    FROM tk, cfg, LATERAL cxkpi.kpi_arithmetic('response_time_hours', response_hours_sum, responded, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'resolution_time_hours', breakdown, dimension, k.*
    FROM rs, cfg, LATERAL cxkpi.kpi_arithmetic('resolution_time_hours', hours_sum, resolved, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'resolution_time_median_hours', breakdown, dimension, median_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    UNION ALL
    SELECT grain, period_start, 'resolution_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', repeat_rate,
           round(repeat_rate * customers / 100), customers, customers,
           cxkpi.wilson_ci_lower(round(repeat_rate * customers / 100)::bigint, customers, conf),
           cxkpi.wilson_ci_upper(round(repeat_rate * customers / 100)::bigint, customers, conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / customers,
           orders, customers, customers, NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    UNION ALL
    -- each acquisition channel's share of the customers acquired in the period (the total row:
    -- 100, all of them, so that the KPI has a total row like every other)
    SELECT c.grain, c.period_start, 'new_customer_share', c.breakdown, c.dimension,
           100.0 * c.new_customers / t.new_customers, c.new_customers, t.new_customers, t.new_customers,
           cxkpi.wilson_ci_lower(c.new_customers, t.new_customers, cfg.conf),
           cxkpi.wilson_ci_upper(c.new_customers, t.new_customers, cfg.conf)
    FROM aq AS c JOIN aq AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total', cfg
    WHERE t.new_customers > 0
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / a.customers)
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, a.customers, NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL
    -- engagement (issue 17, seed 002)
    UNION ALL
    SELECT grain, period_start, 'engagement_rate', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('engagement_rate', engaged, reached_any, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'interactions_per_customer', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('interactions_per_customer', interactions, engaged, conf) AS k
    WHERE engaged > 0
    UNION ALL
    SELECT grain, period_start, x.kpi, 'total', 'all', k.*
    FROM egr, cfg, LATERAL (VALUES ('email_open_rate', opens), ('email_click_rate', clicks)) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, sent, conf) AS k
    WHERE breakdown = 'channel' AND dimension = 'email' AND sent > 0
    -- social-media sentiment (seed 003): net sentiment is the NPS of the three categories
    UNION ALL
    SELECT grain, period_start, 'net_sentiment', breakdown, dimension, @extschema@.nps(s),
           (@extschema@.promoters(s) - @extschema@.detractors(s))::double precision,
           @extschema@.responses(s)::double precision, @extschema@.responses(s),
           @extschema@.nps_ci_lower(s, conf), @extschema@.nps_ci_upper(s, conf)
    FROM sm, cfg
    UNION ALL
    SELECT grain, period_start, x.kpi, breakdown, dimension, k.*
    FROM sm, cfg, LATERAL (VALUES ('positive_mention_share', @extschema@.promoters(s)),
                                  ('neutral_mention_share', @extschema@.passives(s)),
                                  ('negative_mention_share', @extschema@.detractors(s))) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, @extschema@.responses(s), conf) AS k
    -- inventory (issue 17, seed 002): turnover per period (not annualised), days of inventory,
    -- stock-out rate with its Wilson interval
    UNION ALL
    SELECT grain, period_start, 'stock_turnover', breakdown, dimension, (cogs * days / value_days)::double precision,
           cogs::double precision, (value_days / days)::double precision, days, NULL, NULL
    FROM inv
    WHERE value_days > 0
    UNION ALL
    SELECT grain, period_start, 'days_of_inventory', breakdown, dimension, (value_days / cogs)::double precision,
           value_days::double precision, cogs::double precision, days, NULL, NULL
    FROM inv
    WHERE cogs > 0
    UNION ALL
    SELECT grain, period_start, 'stock_out_rate', breakdown, dimension, 100.0 * stock_outs / tracked, stock_outs, tracked,
           tracked, cxkpi.wilson_ci_lower(stock_outs, tracked, cfg.conf), cxkpi.wilson_ci_upper(stock_outs, tracked, cfg.conf)
    FROM inv, cfg
    WHERE tracked > 0),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per) or read from cxkpi.kpi_values (stored), so the
-- windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg
    UNION ALL
    SELECT v.grain, v.period_start, v.period_end, v."time", v.kpi, v.breakdown, v.dimension, v.value, v.numerator,
           v.denominator, v.sample_size, v.ci_lower, v.ci_upper,
           CASE WHEN v.grain IN ('day', 'week') THEN (v.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM v.period_start)::integer END
    FROM stored AS t JOIN cxkpi.kpi_values AS v ON v.grain = t.grain AND v.period_start = t.period_start),
ann AS (
    SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
           c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
           CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER series END AS previous_value,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER years END AS value_year_ago,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
    FROM cur AS c
    WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;

-------------------------------------------------------------------------------------------------
-- Inventory on the dashboard (issue 17, seed 002): the section view, its cxkpi_bi name, display
-- order, and privileges (docs/dashboard.md#inventory).
-------------------------------------------------------------------------------------------------

-- One row per grain, period, breakdown (total or category) and dimension (all or the category).
CREATE VIEW cxkpi.kpi_inventory AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'stock_turnover') AS stock_turnover,
       max(numerator) FILTER (WHERE kpi = 'stock_turnover')::numeric(16, 2) AS cogs,
       max(denominator) FILTER (WHERE kpi = 'stock_turnover')::numeric(16, 2) AS average_inventory_value,
       max(value) FILTER (WHERE kpi = 'days_of_inventory') AS days_of_inventory,
       max(sample_size) FILTER (WHERE kpi = 'stock_turnover') AS snapshot_days,
       max(value) FILTER (WHERE kpi = 'stock_out_rate') AS stock_out_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'stock_out_rate') AS stock_out_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'stock_out_rate') AS stock_out_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'stock_out_rate')::bigint AS stock_out_sku_days,
       max(denominator) FILTER (WHERE kpi = 'stock_out_rate')::bigint AS tracked_sku_days
FROM cxkpi.kpi_values
WHERE kpi IN ('stock_turnover', 'days_of_inventory', 'stock_out_rate')
GROUP BY grain, period_start, breakdown, dimension;
COMMENT ON VIEW cxkpi.kpi_inventory IS
    'Inventory per period (seed 002): stock turnover (cost of goods sold / average inventory value at cost, per period), days of inventory and the stock-out rate (share of SKU-location-days with no unit on hand) with its Wilson interval; total and by category.';
COMMENT ON COLUMN cxkpi.kpi_inventory.grain IS 'Period length: day, week, month, quarter or year.';
COMMENT ON COLUMN cxkpi.kpi_inventory.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.kpi_inventory.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN cxkpi.kpi_inventory."time" IS 'Start of the period as a timestamp (midnight in setting time_zone).';
COMMENT ON COLUMN cxkpi.kpi_inventory.breakdown IS 'total or category.';
COMMENT ON COLUMN cxkpi.kpi_inventory.dimension IS 'The product category; all for the total row.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_turnover IS
    'Cost of goods sold in the period / average inventory value at cost (mean of the daily totals over the days with a snapshot); per period, not annualised.';
COMMENT ON COLUMN cxkpi.kpi_inventory.cogs IS 'Cost of goods sold in the period (currency).';
COMMENT ON COLUMN cxkpi.kpi_inventory.average_inventory_value IS
    'Mean over the days with a snapshot of the day''s total stock value at cost (currency).';
COMMENT ON COLUMN cxkpi.kpi_inventory.days_of_inventory IS
    'Days of stock at the period''s rate of sales: snapshot days / stock turnover = sum of the daily stock values / cost of goods sold.';
COMMENT ON COLUMN cxkpi.kpi_inventory.snapshot_days IS 'Days of the period with a snapshot (in the category).';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_rate_pct IS '100 * SKU-location-days with 0 units on hand / SKU-location-days tracked.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_rate_ci_lower_pct IS 'Lower end of the Wilson interval of the stock-out rate.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_rate_ci_upper_pct IS 'Upper end of the Wilson interval of the stock-out rate.';
COMMENT ON COLUMN cxkpi.kpi_inventory.stock_out_sku_days IS 'Snapshots (SKU, location, day) with 0 units on hand.';
COMMENT ON COLUMN cxkpi.kpi_inventory.tracked_sku_days IS 'Snapshots (SKU, location, day) in the period.';

CREATE VIEW cxkpi_bi.kpi_inventory AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension, v.stock_turnover, v.cogs,
       v.average_inventory_value, v.days_of_inventory, v.snapshot_days, v.stock_out_rate_pct,
       v.stock_out_rate_ci_lower_pct, v.stock_out_rate_ci_upper_pct, v.stock_out_sku_days, v.tracked_sku_days
FROM cxkpi.kpi_inventory AS v;
COMMENT ON VIEW cxkpi_bi.kpi_inventory IS
    'Inventory per period (seed 002): stock turnover, days of inventory and the stock-out rate with its interval; total and by category.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS doc FROM pg_attribute AS a
             WHERE a.attrelid = 'cxkpi.kpi_inventory'::regclass AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.kpi_inventory.%I IS %L', r.attname, r.doc);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_inventory, cxkpi_bi.kpi_inventory TO cxkpi_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.inventory_snapshots TO cxkpi_writer;

-- Display order and decimals (cxkpi_bi.kpi_catalog), as src/bi.sql does for the others.
ALTER TABLE cxkpi.kpi_definitions DISABLE TRIGGER kpi_definitions_upsert;
UPDATE cxkpi.kpi_definitions AS d SET sort_order = v.sort_order, decimals = v.decimals
FROM (VALUES ('stock_turnover', 550, 2::smallint), ('days_of_inventory', 552, 1), ('stock_out_rate', 554, NULL)) AS v(kpi, sort_order, decimals)
WHERE d.kpi = v.kpi;
ALTER TABLE cxkpi.kpi_definitions ENABLE TRIGGER kpi_definitions_upsert;

CREATE OR REPLACE FUNCTION cxkpi.generate_sample_data(scale double precision DEFAULT 1, seed integer DEFAULT 42,
                                           replace boolean DEFAULT false)
    RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    -- Calendar: the current year, the year before, and the order history before them.
    cur_year  constant integer := 2025;
    d_hist    constant date := make_date(cur_year - 4, 1, 1);   -- customers and orders start here
    d_cx      constant date := make_date(cur_year - 1, 1, 1);   -- every other table starts here
    d_end     constant date := make_date(cur_year, 12, 31);
    tz        text := cxkpi.setting('time_zone');
    ts_end    timestamptz;
    ndays     integer;
    s_cx      double precision;     -- business time at d_cx
    s_cur     double precision;     -- business time at the start of the current year
    n_cust    integer;
    -- Yearly targets, [year before, current] (seed 000).
    aov_total   double precision[] := ARRAY[99, 104, 109, 115, 127];   -- 2021 .. 2025
    conv_total  double precision[] := ARRAY[2.7, 3.2];
    conv_desk   double precision[] := ARRAY[3.3, 3.8];
    conv_mob    double precision[] := ARRAY[2.4, 2.9];
    conv_tab    double precision[] := ARRAY[2.9, 3.4];
    conv_store  double precision[] := ARRAY[3.6, 4.1];
    abandon     double precision[] := ARRAY[0.71, 0.68];
    recover     double precision[] := ARRAY[0.10, 0.12];
    resolve     double precision[] := ARRAY[0.79, 0.87];
    fcr         double precision[] := ARRAY[0.66, 0.72];
    consent     constant double precision := 0.25;  -- share of web/app visits tracked by analytics
    -- Customer behaviour (BG/NBD): purchase rate ~ Gamma(r, alpha) per year while alive,
    -- dropout after each purchase with probability p ~ Beta(a, b), scaled per year.
    bg_r      constant double precision := 1.5;
    bg_alpha  constant double precision := 0.41;   -- years: mean rate r / alpha = 3.66 a year
    bg_a      constant double precision := 1.0;
    bg_b      constant double precision := 9.0;
    drop_old  constant double precision := 1.18;   -- dropout multiplier for purchases before the year before
    drop_prev constant double precision := 0.88;   -- ... in the year before
    drop_cur  constant double precision := 0.80;   -- ... in the current year
    -- Loyalty programme engagement: engaged and dormant spells (mean days), programme events
    -- per year while engaged (mean of a Gamma(2) rate).
    loy_engaged constant double precision := 120;
    loy_dormant constant double precision := 125;
    loy_rate    constant double precision := 12;
    n_rows    bigint;
    n_total   bigint := 0;
    k_csat    double precision;
    tmp       text;
    app_users double precision;
    t0        timestamptz := clock_timestamp();
BEGIN
    IF scale IS NULL OR NOT (scale > 0 AND scale <= 100) THEN
        RAISE EXCEPTION 'scale % is out of range', scale USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use a scale greater than 0 and at most 100 (1 = 26,000 customers and about 140,000 orders).';
    END IF;
    IF seed IS NULL OR replace IS NULL THEN
        RAISE EXCEPTION 'seed and replace must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM cxkpi.customers) OR EXISTS (SELECT 1 FROM cxkpi.orders)
       OR EXISTS (SELECT 1 FROM cxkpi.survey_responses) OR EXISTS (SELECT 1 FROM cxkpi.web_sessions)
       OR EXISTS (SELECT 1 FROM cxkpi.store_traffic) OR EXISTS (SELECT 1 FROM cxkpi.carts)
       OR EXISTS (SELECT 1 FROM cxkpi.support_tickets) OR EXISTS (SELECT 1 FROM cxkpi.app_ratings)
       OR EXISTS (SELECT 1 FROM cxkpi.metric_observations) OR EXISTS (SELECT 1 FROM cxkpi.experiments)
       OR EXISTS (SELECT 1 FROM cxkpi.engagement_events) OR EXISTS (SELECT 1 FROM cxkpi.social_mentions)
       OR EXISTS (SELECT 1 FROM cxkpi.inventory_snapshots) THEN
        IF NOT replace THEN
            RAISE EXCEPTION 'the cxkpi data tables already hold rows'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Call cxkpi.generate_sample_data(..., replace => true) to delete every row of the data tables first.';
        END IF;
        TRUNCATE cxkpi.order_returns, cxkpi.order_deliveries, cxkpi.loyalty_activity, cxkpi.loyalty_members, cxkpi.survey_responses, cxkpi.carts,
                 cxkpi.web_sessions, cxkpi.support_tickets, cxkpi.orders, cxkpi.customers,
                 cxkpi.store_traffic, cxkpi.app_ratings, cxkpi.metric_observations,
                 cxkpi.experiment_assignments, cxkpi.experiments, cxkpi.engagement_events, cxkpi.social_mentions,
                 cxkpi.inventory_snapshots;
    END IF;

    ts_end := (d_end + 1)::timestamp AT TIME ZONE tz;
    n_cust := greatest(100, round(26000 * scale))::integer;
    -- Work tables of an earlier call in this session (if it failed half-way in a subtransaction).
    FOR tmp IN SELECT unnest(ARRAY['cxs_day', 'cxs_bucket', 'cxs_cust', 'cxs_ev', 'cxs_ord', 'cxs_cum', 'cxs_sess',
                                   'cxs_need', 'cxs_tk', 'cxs_ret', 'cxs_srv', 'cxs_spell']) LOOP
        IF to_regclass('pg_temp.' || tmp) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I', tmp);
        END IF;
    END LOOP;

    ---------------------------------------------------------------------------------------------
    -- Business time: one unit per day on average, denser in busy seasons and on busy weekdays.
    -- Purchases follow a Poisson process in business time, so they follow the season in
    -- calendar time; s0 is the business time at the start of each day.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_day AS
    WITH x AS (
        SELECT g::date AS day,
               (ARRAY[0.80, 0.78, 0.92, 0.95, 1.00, 0.98, 0.97, 1.00, 0.95, 1.00, 1.25, 1.40])[extract(month FROM g)::int]
               * (ARRAY[0.99, 0.92, 0.90, 0.93, 0.98, 1.08, 1.20])[extract(dow FROM g)::int + 1]
               * CASE WHEN to_char(g, 'MM-DD') = '12-25' THEN 0.3
                      -- Black Friday (the Friday of Nov 23-29), its weekend, Cyber Monday
                      WHEN extract(month FROM g) = 11 AND extract(dow FROM g) = 5 AND extract(day FROM g) BETWEEN 23 AND 29 THEN 2.0
                      WHEN extract(month FROM g) = 11 AND extract(dow FROM g) IN (6, 0) AND extract(day FROM g) BETWEEN 24 AND 30 THEN 1.4
                      WHEN extract(dow FROM g) = 1 AND g::date BETWEEN make_date(extract(year FROM g)::int, 11, 26)
                                                                  AND make_date(extract(year FROM g)::int, 12, 2) THEN 1.6
                      ELSE 1 END AS w
        FROM generate_series(d_hist, d_end, '1 day') AS g),
    n AS (SELECT day, (day - d_hist) AS di, w / avg(w) OVER () AS w FROM x)
    SELECT day, di, w, sum(w) OVER (ORDER BY di) - w AS s0 FROM n;
    SELECT count(*) INTO ndays FROM cxs_day;
    SELECT s0 INTO s_cx FROM cxs_day WHERE day = d_cx;
    SELECT s0 INTO s_cur FROM cxs_day WHERE day = make_date(cur_year, 1, 1);
    -- Buckets of 0.1 business day -> the day holding the bucket start (a day is longer than
    -- 0.1, so a bucket crosses at most one day boundary).
    CREATE TEMP TABLE cxs_bucket AS
    SELECT b AS bk, d.di, d.day, d.s0, d.w, d.s0 + d.w AS s_next, lead(d.w) OVER (ORDER BY d.di) AS w_next
    FROM cxs_day AS d, generate_series(ceil(d.s0 * 10)::integer, ceil((d.s0 + d.w) * 10)::integer - 1) AS b;
    CREATE UNIQUE INDEX ON cxs_bucket (bk);
    ANALYZE cxs_bucket;

    ---------------------------------------------------------------------------------------------
    -- Customers: acquisition time (growing 10 % a year), purchase rate, dropout probability,
    -- home channel, loyalty enrolment at their first, second or third purchase.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_cust AS
    WITH c AS (
        SELECT i,
               ln(1 + cxkpi.sample_uniform(seed, 1, i) * (exp(0.1 * ndays / 365.25) - 1)) / (0.1 / 365.25) AS tau0,
               cxkpi.sample_gamma(bg_r, seed, 10, i) / bg_alpha / 365.25 AS lam,
               cxkpi.sample_gamma(bg_a, seed, 20, i) AS ga, cxkpi.sample_gamma(bg_b, seed, 30, i) AS gb,
               cxkpi.sample_uniform(seed, 40, i) AS u_home, cxkpi.sample_uniform(seed, 41, i) AS u_member,
               cxkpi.sample_uniform(seed, 42, i) AS u_enrol
        FROM generate_series(1, n_cust) AS i)
    SELECT row_number() OVER (ORDER BY tau0, i) AS customer_id, i, tau0, lam, ga / (ga + gb) AS p,
           CASE WHEN u_home < 0.15 THEN 'store' WHEN u_home < 0.48 THEN 'web_desktop'
                WHEN u_home < 0.80 THEN 'web_mobile' ELSE 'app' END AS home,
           -- enrolment is likelier for frequent buyers, and was likelier in the programme's early years
           u_member < least(0.9, 0.42 * sqrt(lam * 365.25 * bg_alpha / bg_r) * exp(-0.35 * tau0 / 365.25)) AS member,
           CASE WHEN u_enrol < 0.35 THEN 0 WHEN u_enrol < 0.7 THEN 1 ELSE 2 END AS enrol_k
    FROM c;

    -- Purchases: the first at acquisition, then Poisson(lam) gaps in business time; after each
    -- purchase the customer drops out with probability p (times the multiplier of its year).
    CREATE TEMP TABLE cxs_ev AS
    WITH g AS (
        SELECT c.customer_id, k,
               c.tau0 + sum(CASE WHEN k = 0 THEN 0 ELSE -ln(cxkpi.sample_uniform(seed, 50, (c.i << 10) | k)) / c.lam END)
                            OVER (PARTITION BY c.customer_id ORDER BY k) AS tau,
               cxkpi.sample_uniform(seed, 51, (c.i << 10) | k) AS u_drop, c.p
        FROM cxs_cust AS c,
             generate_series(0, least(1000, ceil(c.lam * (ndays - c.tau0) * 1.5 + 6 * sqrt(c.lam * (ndays - c.tau0)) + 8))::integer) AS k),
    h AS (
        SELECT customer_id, k, tau,
               coalesce(bool_or(u_drop < p * CASE WHEN tau < s_cx THEN drop_old WHEN tau < s_cur THEN drop_prev ELSE drop_cur END)
                        OVER (PARTITION BY customer_id ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS dead
        FROM g)
    SELECT h.customer_id, h.k, h.tau,
           CASE WHEN h.tau >= b.s_next THEN b.day + 1 ELSE b.day END AS day,
           least(0.999999, CASE WHEN h.tau >= b.s_next THEN (h.tau - b.s_next) / b.w_next ELSE (h.tau - b.s0) / b.w END) AS frac
    FROM h JOIN cxs_bucket AS b ON b.bk = floor(h.tau * 10)::integer
    WHERE NOT h.dead AND h.tau < ndays;

    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM cxkpi.progress_notice('purchases simulated', n_rows, t0);
    CREATE INDEX ON cxs_ev (customer_id, k);
    ANALYZE cxs_ev;

    ---------------------------------------------------------------------------------------------
    -- Customers and loyalty members.  Acquisition channel follows the home channel; members
    -- enrol on the day of their first, second or third purchase.
    ---------------------------------------------------------------------------------------------
    INSERT INTO cxkpi.customers (customer_id, acquired_on, acquisition_channel, acquisition_cost)
    SELECT c.customer_id, e.day, ch.channel,
           round((ch.cost * (0.5 + cxkpi.sample_uniform(seed, 61, c.i)))::numeric, 2)
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = 0
    CROSS JOIN LATERAL (
        SELECT x.channel, x.cost FROM (VALUES
            -- channel, cost, cumulative share for store / online home channels
            ('store', 4.0, 0.55, 0.00), ('direct', 0.0, 0.62, 0.14), ('organic_search', 0.0, 0.72, 0.36),
            ('paid_search', 38.0, 0.80, 0.56), ('social', 27.0, 0.87, 0.70), ('email', 6.0, 0.91, 0.78),
            ('referral', 15.0, 0.96, 0.86), ('affiliate', 22.0, 0.98, 0.91), ('display', 41.0, 0.99, 0.95),
            ('app', 12.0, 1.00, 1.00)) AS x(channel, cost, cum_store, cum_online)
        WHERE cxkpi.sample_uniform(seed, 60, c.i) < CASE WHEN c.home = 'store' THEN x.cum_store ELSE x.cum_online END
        ORDER BY CASE WHEN c.home = 'store' THEN x.cum_store ELSE x.cum_online END
        LIMIT 1) AS ch;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'customers'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    INSERT INTO cxkpi.loyalty_members (customer_id, enrolled_on, tier)
    SELECT c.customer_id, e.day,
           CASE WHEN n.orders >= 12 THEN 'gold' WHEN n.orders >= 5 THEN 'silver' ELSE 'standard' END
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = c.enrol_k
    JOIN (SELECT customer_id, count(*) AS orders FROM cxs_ev GROUP BY 1) AS n ON n.customer_id = c.customer_id
    WHERE c.member;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'loyalty_members'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    ---------------------------------------------------------------------------------------------
    -- Orders.  Channel: the home channel 70 % of the time.  Value: a segment base (seed 000's
    -- new 98 / returning 152 / loyalty 189) times a channel factor times log-normal noise,
    -- scaled per year so that the yearly AOV is seed 000's (see docs: the seed's segment
    -- figures and its total cannot all hold at once).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_ord AS
    WITH e AS (
        SELECT e.customer_id, e.k, e.day, e.frac, c.i,
               CASE WHEN cxkpi.sample_uniform(seed, 70, (c.i << 10) | e.k) < 0.7 THEN c.home
                    ELSE (ARRAY['store', 'web_desktop', 'web_mobile', 'app'])[
                         1 + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.15)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.48)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.80)::int] END AS channel,
               CASE WHEN m.enrolled_on <= e.day THEN 'loyalty' WHEN e.k = 0 THEN 'new' ELSE 'returning' END AS segment
        FROM cxs_ev AS e JOIN cxs_cust AS c USING (customer_id)
        LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)),
    f AS (
        SELECT e.*,
               CASE e.segment WHEN 'new' THEN 98.0 WHEN 'returning' THEN 152.0 ELSE 189.0 END
               * CASE e.channel WHEN 'store' THEN 1.0 WHEN 'web_desktop' THEN 1.12 WHEN 'web_mobile' THEN 0.88 ELSE 0.95 END AS base
        FROM e)
    SELECT f.*, extract(year FROM f.day)::integer AS year,
           (f.day + make_interval(secs => CASE WHEN f.channel = 'store' THEN 9 * 3600 + f.frac * 12 * 3600
                                               ELSE (6 + 17 * power(f.frac, 0.8)) * 3600 END))::timestamp AT TIME ZONE tz AS ordered_at,
           1 + least(14, floor(-ln(cxkpi.sample_uniform(seed, 72, (f.i << 10) | f.k)) * 1.4))::integer AS items,
           f.base * exp(0.6 * cxkpi.sample_normal(seed, 73, (f.i << 10) | f.k) - 0.18) AS raw_value,
           CASE WHEN cxkpi.sample_uniform(seed, 75, (f.i << 10) | f.k) < 0.3
                THEN 0.05 + 0.2 * cxkpi.sample_uniform(seed, 76, (f.i << 10) | f.k) ELSE 0 END AS discount_rate
    FROM f;

    INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
    SELECT row_number() OVER (ORDER BY o.ordered_at, o.customer_id, o.k), o.customer_id, o.ordered_at, o.channel, o.items,
           round((v.net / (1 - o.discount_rate))::numeric, 2),
           round((v.net / (1 - o.discount_rate))::numeric, 2) - round(v.net::numeric, 2)
    FROM cxs_ord AS o
    JOIN (SELECT year, aov_total[year - cur_year + 5] / avg(base) AS factor FROM cxs_ord GROUP BY year) AS y USING (year)
    CROSS JOIN LATERAL (SELECT greatest(3.0, o.raw_value * y.factor) AS net) AS v;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'orders'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    ANALYZE cxkpi.orders;
    DROP TABLE cxs_ord;

    -- Deliveries (issue 17): web and app orders are shipped 0-2 days after the order, delivered
    -- 1-5 days after shipping and promised 5 days 18 hours after the order (about 90 % on time);
    -- store orders are not delivered.  Orders still on their way at the end of the data have no
    -- delivered_at, orders not yet shipped no row.
    INSERT INTO cxkpi.order_deliveries (order_id, shipped_at, delivered_at, promised_by, carrier)
    SELECT d.order_id, d.shipped_at, CASE WHEN d.delivered_at < ts_end THEN d.delivered_at END, d.promised_by, d.carrier
    FROM (SELECT o.order_id,
                 o.ordered_at + make_interval(secs => cxkpi.sample_uniform(seed, 310, o.order_id) * 2 * 86400) AS shipped_at,
                 o.ordered_at + make_interval(secs => (cxkpi.sample_uniform(seed, 310, o.order_id) * 2
                                                       + 1 + cxkpi.sample_uniform(seed, 311, o.order_id) * 4) * 86400) AS delivered_at,
                 o.ordered_at + interval '5 days 18 hours' AS promised_by,
                 (ARRAY['DHL', 'UPS', 'DPD', 'postal'])[1 + floor(cxkpi.sample_uniform(seed, 312, o.order_id) * 4)::integer] AS carrier
          FROM cxkpi.orders AS o WHERE o.channel <> 'store') AS d
    WHERE d.shipped_at < ts_end;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'order_deliveries'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Returns: online orders come back more often than store orders, first orders more often
    -- than repeat orders; single-item orders are returned whole, others often in part.
    CREATE TEMP TABLE cxs_ret AS
    SELECT o.order_id, o.items, o.gross_value - o.discount AS net, o.ordered_at,
           CASE WHEN o.items = 1 OR cxkpi.sample_uniform(seed, 81, o.order_id) < 0.35 THEN o.items
                ELSE 1 + floor(cxkpi.sample_uniform(seed, 82, o.order_id) * (o.items - 1))::integer END AS items_returned,
           o.ordered_at + make_interval(days => 1 + floor(-ln(cxkpi.sample_uniform(seed, 83, o.order_id)) * 11)::integer,
                                        secs => cxkpi.sample_uniform(seed, 84, o.order_id) * 43200) AS requested_at
    FROM (SELECT o.*, row_number() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at, o.order_id) = 1 AS first_order
          FROM cxkpi.orders AS o) AS o
    WHERE cxkpi.sample_uniform(seed, 80, o.order_id)
          < CASE o.channel WHEN 'store' THEN 0.07 WHEN 'web_desktop' THEN 0.17 WHEN 'web_mobile' THEN 0.15 ELSE 0.13 END
            * CASE WHEN o.first_order THEN 1.35 ELSE 0.9 END;
    DELETE FROM cxs_ret WHERE requested_at >= ts_end;
    INSERT INTO cxkpi.order_returns (return_id, order_id, requested_at, received_at, items_returned, value_returned,
                                     initiated_by, reason)
    SELECT row_number() OVER (ORDER BY r.requested_at, r.order_id), r.order_id, r.requested_at,
           nullif(least(r.requested_at + make_interval(days => 2 + floor(cxkpi.sample_uniform(seed, 85, r.order_id) * 8)::integer),
                        ts_end), ts_end),
           r.items_returned,
           CASE WHEN r.items_returned = r.items THEN r.net ELSE round(r.net * r.items_returned / r.items, 2) END,
           CASE WHEN cxkpi.sample_uniform(seed, 86, r.order_id) < 0.06 THEN 'merchant' ELSE 'customer' END,
           (ARRAY['wrong size', 'wrong size', 'not as described', 'changed mind', 'defective', 'arrived damaged',
                  'arrived late', 'better price elsewhere'])[1 + floor(cxkpi.sample_uniform(seed, 87, r.order_id) * 8)::integer]
    FROM cxs_ret AS r;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'order_returns'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_ret;

    ---------------------------------------------------------------------------------------------
    -- Loyalty programme activity (2021-2025, like the orders).  Members alternate between engaged
    -- spells (mean loy_engaged days), in which they use the programme (visits in the app or on
    -- the web, points earned outside an order, rewards redeemed) as a Poisson process with a
    -- rate of their own (Gamma, shape 2, mean loy_rate a year), and dormant spells (mean
    -- loy_dormant days) without programme activity; spell lengths are exponential.  A member
    -- starts engaged or dormant as in the long run (engaged / (engaged + dormant)); the
    -- enrolment order opens a first engaged spell, an activity each later one.  With the orders
    -- this makes the 90-day active share about seed 000's 75 % in every period once the
    -- programme has matured (docs/sample-data.md#loyalty-activity).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_spell AS
    WITH m AS (
        SELECT customer_id, enrolled_on,
               cxkpi.sample_gamma(2, seed, 300, customer_id) / 2 * loy_rate / 365.25 AS rate,   -- per day
               (cxkpi.sample_uniform(seed, 305, customer_id) >= loy_engaged / (loy_engaged + loy_dormant))::integer AS dormant_first
        FROM cxkpi.loyalty_members),
    s AS (
        SELECT m.customer_id, m.enrolled_on, m.rate, k + m.dormant_first AS k,
               sum(-ln(cxkpi.sample_uniform(seed, 303, (m.customer_id << 8) | k))
                   * CASE WHEN (k + m.dormant_first) % 2 = 0 THEN loy_engaged ELSE loy_dormant END)
                   OVER (PARTITION BY m.customer_id ORDER BY k) AS s_end
        FROM m, generate_series(0, least(250, 4 * ceil((d_end - m.enrolled_on + 1) / (loy_engaged + loy_dormant)) + 10)::integer) AS k)
    -- spells in days since the enrolment day; even k: engaged
    SELECT customer_id, enrolled_on, rate, k, coalesce(lag(s_end) OVER (PARTITION BY customer_id ORDER BY k), 0) AS s_start, s_end
    FROM s;
    DELETE FROM cxs_spell WHERE k % 2 = 1 OR s_start >= d_end - enrolled_on + 1;
    INSERT INTO cxkpi.loyalty_activity (customer_id, active_at, kind)
    SELECT e.customer_id,
           (e.enrolled_on + floor(e.t)::integer
            + make_interval(secs => (6 + 17 * power(e.t - floor(e.t), 0.8)) * 3600))::timestamp AT TIME ZONE tz,
           CASE WHEN e.u < 0.55 THEN 'visit' WHEN e.u < 0.85 THEN 'earn' ELSE 'redeem' END
    FROM (SELECT sp.customer_id, sp.enrolled_on, sp.k, x.j, sp.s_end,
                 sp.s_start + sum(CASE WHEN x.j = 0 THEN 0 ELSE -ln(cxkpi.sample_uniform(seed, 304, x.key)) / sp.rate END)
                                  OVER (PARTITION BY sp.customer_id, sp.k ORDER BY x.j) AS t,
                 cxkpi.sample_uniform(seed, 306, x.key) AS u
          FROM cxs_spell AS sp
          CROSS JOIN LATERAL (
              SELECT j, (sp.customer_id << 20) | (sp.k << 12) | j AS key
              -- enough draws for the Poisson count of the spell: mean + 4 sd + 6
              FROM generate_series(0, least(4000, ceil(sp.rate * (sp.s_end - sp.s_start)
                                                       + 4 * sqrt(sp.rate * (sp.s_end - sp.s_start)) + 6))::integer) AS j) AS x) AS e
    WHERE e.t < e.s_end AND e.t < d_end - e.enrolled_on + 1
      AND NOT (e.k = 0 AND e.j = 0)             -- the enrolment order opens the first spell
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'loyalty_activity'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_spell;
    -- The last known activity of each member: the last programme activity or order after enrolling.
    UPDATE cxkpi.loyalty_members AS m
    SET last_active_on = x.last_day
    FROM (SELECT customer_id, max(day) AS last_day
          FROM (SELECT a.customer_id, (a.active_at AT TIME ZONE tz)::date AS day FROM cxkpi.loyalty_activity AS a
                UNION ALL
                SELECT o.customer_id, (o.ordered_at AT TIME ZONE tz)::date
                FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m2 USING (customer_id)
                WHERE (o.ordered_at AT TIME ZONE tz)::date >= m2.enrolled_on) AS u
          GROUP BY customer_id) AS x
    WHERE x.customer_id = m.customer_id;

    ---------------------------------------------------------------------------------------------
    -- Customers acquired by each day (to pick a known customer for sessions, surveys, tickets).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_cum AS
    SELECT d.day, coalesce(max(c.last_id) OVER (ORDER BY d.day), 0) AS customers
    FROM cxs_day AS d
    LEFT JOIN (SELECT acquired_on, max(customer_id) AS last_id FROM cxkpi.customers GROUP BY 1) AS c ON c.acquired_on = d.day;
    -- (customer ids are numbered in acquisition order, so ids 1 .. customers were known on day)

    ---------------------------------------------------------------------------------------------
    -- Web and app sessions (visits tracked with analytics consent, 25 % of visits): one converted
    -- session per tracked online order, and non-converted sessions so that each device reaches
    -- seed 000's conversion rate; the app rate is what makes the total (stores included) 3.2 %.
    -- Cart funnel: abandoned carts so that abandonment is seed 000's 68 %.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_sess AS
    SELECT o.order_id AS key, 0 AS kind, o.customer_id,
           CASE o.channel WHEN 'web_desktop' THEN CASE WHEN cxkpi.sample_uniform(seed, 101, o.order_id) < 0.9 THEN 'desktop' ELSE 'tablet' END
                          WHEN 'web_mobile' THEN 'mobile' ELSE 'app' END AS device,
           o.ordered_at - make_interval(secs => 120 + cxkpi.sample_uniform(seed, 102, o.order_id) * 2400) AS started_at,
           true AS added_to_cart, true AS reached_checkout, true AS converted
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz AND o.channel <> 'store'
      AND cxkpi.sample_uniform(seed, 100, o.order_id) < consent;
    -- Sessions needed per device and year.
    CREATE TEMP TABLE cxs_need AS
    WITH conv AS (
        SELECT extract(year FROM started_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi, device, count(*) AS conv
        FROM cxs_sess GROUP BY 1, 2),
    store AS (
        SELECT extract(year FROM ordered_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi, count(*) AS conv
        FROM cxkpi.orders WHERE channel = 'store' AND ordered_at >= d_cx::timestamp AT TIME ZONE tz GROUP BY 1),
    fixed AS (
        SELECT c.yi, c.device, c.conv,
               c.conv / (CASE c.device WHEN 'desktop' THEN conv_desk[c.yi] WHEN 'mobile' THEN conv_mob[c.yi]
                                       WHEN 'tablet' THEN conv_tab[c.yi] END / 100) AS visits
        FROM conv AS c WHERE c.device <> 'app'),
    app AS (
        SELECT c.yi, 'app' AS device, c.conv,
               greatest(c.conv / 0.08,
                        (c.conv + s.conv + (SELECT sum(f.conv) FROM fixed AS f WHERE f.yi = c.yi)) / (conv_total[c.yi] / 100)
                        - s.conv / (conv_store[c.yi] / 100) - (SELECT sum(f.visits) FROM fixed AS f WHERE f.yi = c.yi)) AS visits
        FROM conv AS c JOIN store AS s USING (yi) WHERE c.device = 'app')
    SELECT yi, device, conv, round(visits)::bigint - conv AS nonconv,
           round(conv * abandon[yi] / (1 - abandon[yi]))::bigint AS abandoned
    FROM (SELECT * FROM fixed UNION ALL SELECT * FROM app) AS x;
    -- Non-converted sessions, spread over each year in business time.
    INSERT INTO cxs_sess
    SELECT b.key, 1, CASE WHEN cxkpi.sample_uniform(seed, 112, b.key) < 0.3
                          THEN 1 + floor(cxkpi.sample_uniform(seed, 113, b.key) * cu.customers)::bigint END,
           b.device, (b.day + make_interval(secs => (6 + 17 * power(b.frac, 0.8)) * 3600))::timestamp AT TIME ZONE tz,
           b.cart, b.cart AND cxkpi.sample_uniform(seed, 111, b.key) < 0.35, false
    FROM (SELECT k.key, k.device, k.cart,
                 CASE WHEN k.tau >= bb.s_next THEN bb.day + 1 ELSE bb.day END AS day,
                 least(0.999999, CASE WHEN k.tau >= bb.s_next THEN (k.tau - bb.s_next) / bb.w_next
                                      ELSE (k.tau - bb.s0) / bb.w END) AS frac
          FROM (SELECT k0.key, k0.device,
                       cxkpi.sample_uniform(seed, 110, k0.key) < k0.abandoned::double precision / k0.nonconv AS cart,
                       CASE k0.yi WHEN 1 THEN s_cx ELSE s_cur END
                       + (k0.j - cxkpi.sample_uniform(seed, 114, k0.key)) / k0.nonconv
                         * CASE k0.yi WHEN 1 THEN s_cur - s_cx ELSE ndays - s_cur END AS tau
                FROM (SELECT (n.yi::bigint << 40) | (array_position(ARRAY['desktop', 'mobile', 'tablet', 'app'], n.device)::bigint << 32) | j AS key,
                             n.device, n.nonconv, n.abandoned, n.yi, j
                      FROM cxs_need AS n, generate_series(1, n.nonconv) AS j) AS k0) AS k
          JOIN cxs_bucket AS bb ON bb.bk = floor(k.tau * 10)::integer) AS b
    JOIN cxs_cum AS cu ON cu.day = b.day;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM cxkpi.progress_notice('web sessions drawn (not converted)', n_rows, t0);
    INSERT INTO cxkpi.web_sessions (session_id, started_at, device, customer_id, added_to_cart, reached_checkout, converted)
    SELECT row_number() OVER (ORDER BY started_at, kind, key), started_at, device, customer_id, added_to_cart,
           reached_checkout, converted
    FROM cxs_sess;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'web_sessions'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Carts: one per session that added to cart; abandoned carts are recovered (bought later,
    -- after a reminder) as seed 000's 12 % (10 % the year before).
    INSERT INTO cxkpi.carts (cart_id, created_at, device, customer_id, converted_at, abandoned_at, recovered_at)
    SELECT row_number() OVER (ORDER BY c.created_at, c.kind, c.key), c.created_at, c.device, c.customer_id,
           CASE WHEN c.converted THEN least(c.created_at + make_interval(secs => 180 + cxkpi.sample_uniform(seed, 121, c.key) * 1500),
                                            ts_end - interval '1 second') END,
           CASE WHEN NOT c.converted THEN least(c.abandoned_at, ts_end - interval '1 second') END,
           CASE WHEN NOT c.converted AND cxkpi.sample_uniform(seed, 122, c.key) < recover[c.yi]
                     AND c.abandoned_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 123, c.key)) * 86400) < ts_end
                THEN c.abandoned_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 123, c.key)) * 86400) END
    FROM (SELECT s.*, s.started_at + make_interval(secs => 30 + cxkpi.sample_uniform(seed, 120, s.key) * 900) AS created_at,
                 s.started_at + make_interval(secs => 1800 + cxkpi.sample_uniform(seed, 124, s.key) * 5400) AS abandoned_at,
                 extract(year FROM s.started_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi
          FROM cxs_sess AS s WHERE s.added_to_cart) AS c;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'carts'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_sess;

    -- Store footfall: visitors per store and day from the day's store orders and seed 000's
    -- in-store conversion (4.1 %, 3.6 % the year before), with day-to-day noise; stores differ
    -- in size.
    INSERT INTO cxkpi.store_traffic (store_id, visit_date, visitors)
    SELECT format('store-%s', lpad(st::text, 2, '0')), d.day,
           round(d.orders / (conv_store[extract(year FROM d.day)::integer - cur_year + 2] / 100)
                 * exp(0.12 * cxkpi.sample_normal(seed, 130, (d.day - d_hist)::bigint) - 0.0072)
                 * w.weight / sum(w.weight) OVER (PARTITION BY d.day))::bigint
    FROM (SELECT dd.day, count(o.order_id) AS orders
          FROM cxs_day AS dd LEFT JOIN cxkpi.orders AS o
               ON o.channel = 'store' AND (o.ordered_at AT TIME ZONE tz)::date = dd.day
          WHERE dd.day >= d_cx GROUP BY dd.day) AS d
    CROSS JOIN (SELECT st, 0.5 + cxkpi.sample_uniform(seed, 131, st) AS weight
                FROM generate_series(1, greatest(3, round(12 * sqrt(scale)))::integer) AS st) AS w;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'store_traffic'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    ---------------------------------------------------------------------------------------------
    -- Support tickets: about 10 % of orders lead to one (20 % if returned), plus tickets from
    -- people who are not (yet) customers.  First response times are log-normal with seed 000's
    -- channel means (email 1.8 h, chat 0.3 h, phone 4.2 h; 2.1 / 0.5 / 4.9 the year before, a
    -- linear trend in between); the channel mix gives the 2.3 h (2.7 h) overall mean.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_tk AS
    SELECT t.*, extract(epoch FROM t.created_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) AS t_years
    FROM (SELECT o.order_id AS key, o.customer_id,
                 o.ordered_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 141, o.order_id)) * 4 * 86400) AS created_at
          FROM cxkpi.orders AS o
          WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz
            AND cxkpi.sample_uniform(seed, 140, o.order_id)
                < CASE WHEN EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id) THEN 0.2 ELSE 0.1 END
          UNION ALL
          SELECT (1::bigint << 40) | j, NULL,
                 (d_cx + floor(cxkpi.sample_uniform(seed, 142, (1::bigint << 40) | j) * (d_end - d_cx + 1))::integer)::timestamp AT TIME ZONE tz
                 + make_interval(secs => 7 * 3600 + cxkpi.sample_uniform(seed, 143, (1::bigint << 40) | j) * 14 * 3600)
          FROM generate_series(1, round(900 * scale)::integer) AS j) AS t
    WHERE t.created_at < ts_end;
    INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at, first_response_at, resolved_at,
                                       contacts_to_resolve, reopened)
    SELECT row_number() OVER (ORDER BY x.created_at, x.key), x.customer_id, x.channel, x.created_at,
           CASE WHEN x.responded THEN x.created_at + make_interval(secs => x.response_h * 3600) END,
           CASE WHEN x.resolved THEN x.created_at + make_interval(secs => (x.response_h + x.resolve_h) * 3600) END,
           CASE WHEN x.resolved THEN CASE WHEN cxkpi.sample_uniform(seed, 150, x.key) < cxkpi.sample_trend(fcr[1], fcr[2], x.t_years) / 0.96
                                          THEN 1 ELSE 2 + floor(cxkpi.sample_uniform(seed, 151, x.key) * 3)::integer END END,
           x.resolved AND cxkpi.sample_uniform(seed, 152, x.key) < 0.04
    FROM (SELECT y.*, y.responded AND cxkpi.sample_uniform(seed, 147, y.key) < cxkpi.sample_trend(resolve[1], resolve[2], y.t_years) / 0.98
                      AND y.created_at + make_interval(secs => (y.response_h + y.resolve_h) * 3600) < ts_end AS resolved
          FROM (SELECT t.*, ch.channel,
                       cxkpi.sample_uniform(seed, 145, t.key) < 0.98
                       AND t.created_at + make_interval(secs => ch.mean_h * exp(0.8 * cxkpi.sample_normal(seed, 146, t.key) - 0.32) * 3600) < ts_end
                           AS responded,
                       ch.mean_h * exp(0.8 * cxkpi.sample_normal(seed, 146, t.key) - 0.32) AS response_h,
                       1 - ln(cxkpi.sample_uniform(seed, 148, t.key)) * 16 AS resolve_h
                FROM cxs_tk AS t
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN u < chat THEN 'chat' WHEN u < chat + email THEN 'email' ELSE 'phone' END AS channel,
                           CASE WHEN u < chat THEN cxkpi.sample_trend(0.5, 0.3, t.t_years)
                                WHEN u < chat + email THEN cxkpi.sample_trend(2.1, 1.8, t.t_years)
                                ELSE cxkpi.sample_trend(4.9, 4.2, t.t_years) END AS mean_h
                    FROM (SELECT cxkpi.sample_uniform(seed, 144, t.key) AS u,
                                 cxkpi.sample_trend(0.18, 0.22, t.t_years) AS chat,
                                 cxkpi.sample_trend(0.503, 0.434, t.t_years) AS email) AS m) AS ch) AS y) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'support_tickets'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_tk;

    ---------------------------------------------------------------------------------------------
    -- Surveys.  NPS: a monthly relationship survey of known customers (seed 000: 42, 37 the
    -- year before, linear trend).  CSAT (1-5) after interactions: orders by channel (store 4.4,
    -- web 4.1, app 3.9; 0.3 lower the year before), support tickets, returns and deliveries.
    -- CES (1-7) after tickets and returns.  Some answers carry a comment (about the return, on
    -- the returns touchpoint: seed 001's customer feedback on returns).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_srv (key bigint, survey text, channel text, responded_at timestamptz, customer_id bigint,
                               order_id bigint, mean double precision);
    -- NPS: mean is unused; promoter and detractor shares come from the trend below.
    INSERT INTO cxs_srv
    SELECT (2::bigint << 40) | (m.mi << 20) | j, 'nps',
           CASE WHEN cxkpi.sample_uniform(seed, 160, (2::bigint << 40) | (m.mi << 20) | j) < 0.6 THEN 'email'
                WHEN cxkpi.sample_uniform(seed, 160, (2::bigint << 40) | (m.mi << 20) | j) < 0.85 THEN 'app' ELSE 'web' END,
           (m.d0 + floor(cxkpi.sample_uniform(seed, 161, (2::bigint << 40) | (m.mi << 20) | j) * m.ndays)::integer)::timestamp
               AT TIME ZONE tz + make_interval(secs => 7 * 3600 + cxkpi.sample_uniform(seed, 162, (2::bigint << 40) | (m.mi << 20) | j) * 15 * 3600),
           NULL, NULL, NULL
    FROM (SELECT mi, (d_cx + make_interval(months => mi::integer))::date AS d0,
                 (d_cx + make_interval(months => mi::integer + 1))::date - (d_cx + make_interval(months => mi::integer))::date AS ndays
          FROM generate_series(0::bigint, 23) AS mi) AS m,
         generate_series(1::bigint, round(800 * scale)::bigint) AS j;
    UPDATE cxs_srv AS s SET customer_id = 1 + floor(cxkpi.sample_uniform(seed, 163, s.key) * cu.customers)::bigint
    FROM cxs_cum AS cu WHERE cu.day = (s.responded_at AT TIME ZONE tz)::date AND cu.customers > 0;
    -- CSAT after orders: sampled so that store, web and app answers are 45 %, 40 % and 15 %.
    SELECT 0.10 * count(*) INTO k_csat FROM cxkpi.orders WHERE ordered_at >= d_cx::timestamp AT TIME ZONE tz;
    INSERT INTO cxs_srv
    SELECT o.order_id, 'csat', c.channel,
           o.ordered_at + make_interval(secs => CASE WHEN o.channel = 'store' THEN 600 + cxkpi.sample_uniform(seed, 171, o.order_id) * 36000
                                                     ELSE 86400 + cxkpi.sample_uniform(seed, 171, o.order_id) * 5 * 86400 END),
           o.customer_id, o.order_id, c.prior + 0.3 * c.t_years
    FROM cxkpi.orders AS o
    CROSS JOIN LATERAL (
        SELECT CASE o.channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END AS channel,
               CASE o.channel WHEN 'store' THEN 4.1 WHEN 'app' THEN 3.6 ELSE 3.8 END AS prior,
               CASE o.channel WHEN 'store' THEN 0.45 WHEN 'app' THEN 0.15 ELSE 0.40 END AS share,
               extract(epoch FROM o.ordered_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 0.5 AS t_years) AS c
    JOIN (SELECT CASE channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END AS channel, count(*) AS n
          FROM cxkpi.orders WHERE ordered_at >= d_cx::timestamp AT TIME ZONE tz GROUP BY 1) AS n ON n.channel = c.channel
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz
      AND cxkpi.sample_uniform(seed, 170, o.order_id) < c.share * k_csat / n.n;
    -- Deliveries of online orders (CSAT 4.3, 4.0 the year before).
    INSERT INTO cxs_srv
    SELECT (3::bigint << 40) | o.order_id, 'csat', 'delivery',
           o.ordered_at + make_interval(secs => 2 * 86400 + cxkpi.sample_uniform(seed, 176, o.order_id) * 4 * 86400),
           o.customer_id, o.order_id,
           cxkpi.sample_trend(4.0, 4.3, extract(epoch FROM o.ordered_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400))
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz AND o.channel <> 'store'
      AND cxkpi.sample_uniform(seed, 175, o.order_id) < 0.02;
    -- Resolved tickets: CSAT (email 4.2, chat 4.4, phone 4.0; 0.3 lower the year before) and CES.
    INSERT INTO cxs_srv
    SELECT (4::bigint << 40) | (v.n << 32) | t.ticket_id, v.survey, t.channel,
           t.resolved_at + make_interval(secs => 600 + cxkpi.sample_uniform(seed, 181, t.ticket_id) * 86400),
           t.customer_id, NULL,
           CASE v.survey WHEN 'csat' THEN CASE t.channel WHEN 'email' THEN 4.2 WHEN 'chat' THEN 4.4 ELSE 4.0 END
                         ELSE CASE t.channel WHEN 'email' THEN 5.2 WHEN 'chat' THEN 5.6 ELSE 4.9 END END
           + 0.3 * (extract(epoch FROM t.created_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 1.5)
    FROM cxkpi.support_tickets AS t, (VALUES (0::bigint, 'csat', 0.25), (1::bigint, 'ces', 0.30)) AS v(n, survey, rate)
    WHERE t.resolved_at IS NOT NULL AND cxkpi.sample_uniform(seed, 180 + v.n::integer * 10, t.ticket_id) < v.rate;
    -- Received returns: CSAT of the returns experience (4.1, 3.8 the year before) and CES (5.5, 5.2).
    INSERT INTO cxs_srv
    SELECT (5::bigint << 40) | (v.n << 32) | r.return_id, v.survey, 'returns',
           r.received_at + make_interval(secs => 3600 + cxkpi.sample_uniform(seed, 201, r.return_id) * 2 * 86400),
           o.customer_id, r.order_id,
           CASE v.survey WHEN 'csat' THEN 4.1 ELSE 5.5 END
           + 0.3 * (extract(epoch FROM r.requested_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 1.5)
    FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id),
         (VALUES (0::bigint, 'csat', 0.15), (1::bigint, 'ces', 0.20)) AS v(n, survey, rate)
    WHERE r.received_at IS NOT NULL AND r.requested_at >= d_cx::timestamp AT TIME ZONE tz
      AND cxkpi.sample_uniform(seed, 200 + v.n::integer * 10, r.return_id) < v.rate;
    DELETE FROM cxs_srv WHERE responded_at >= ts_end;

    INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id, order_id, comment)
    SELECT row_number() OVER (ORDER BY x.responded_at, x.survey, x.key), x.responded_at, x.survey, x.score,
           CASE x.survey WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 ELSE 7 END, x.channel, x.customer_id, x.order_id,
           CASE WHEN x.survey <> 'ces' AND cxkpi.sample_uniform(seed, 222, x.key) < 0.18 THEN
                CASE WHEN (x.survey = 'nps' AND x.score >= 9) OR (x.survey = 'csat' AND x.score >= 4)
                     THEN (CASE WHEN x.channel = 'returns'
                                THEN ARRAY['Easy return, refund within days.', 'Free return label, very convenient.', 'Exchange was quick and simple.',
                                           'Returned in store, no questions asked.', 'Refund arrived the next day.', 'Clear instructions for the return.']
                                ELSE ARRAY['Great service, will come back.', 'Fast delivery and easy checkout.', 'Staff were really helpful.',
                                           'Love the loyalty rewards.', 'Good prices and quality.', 'Exactly what I ordered.'] END)[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 6)::integer]
                     WHEN (x.survey = 'nps' AND x.score <= 6) OR (x.survey = 'csat' AND x.score <= 2)
                     THEN (CASE WHEN x.channel = 'returns'
                                THEN ARRAY['Returns took too long to refund.', 'Had to pay for the return shipping.', 'The return label never arrived.',
                                           'Refund was less than I paid.', 'Nobody confirmed my return was received.', 'The store would not take the return.']
                                ELSE ARRAY['Delivery was late.', 'The app keeps crashing at checkout.', 'Long wait on the phone.',
                                           'Item did not match the description.', 'Returns took too long to refund.', 'Nobody answered my email.'] END)[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 6)::integer]
                     ELSE (CASE WHEN x.channel = 'returns'
                                THEN ARRAY['Return was OK.', 'Fine, the refund took a while.', 'Could be faster.', 'Printing the label was a hassle.']
                                ELSE ARRAY['OK overall.', 'Fine, nothing special.', 'Could be faster.', 'Prices went up.'] END)[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 4)::integer] END END
    FROM (SELECT s.*,
                 CASE s.survey
                 WHEN 'nps' THEN (SELECT CASE WHEN u < det THEN (ARRAY[0, 1, 2, 3, 4, 5, 6])[1 + (u2 >= 0.04)::int + (u2 >= 0.07)::int + (u2 >= 0.12)::int
                                                                                   + (u2 >= 0.20)::int + (u2 >= 0.32)::int + (u2 >= 0.57)::int]
                                              WHEN u < 1 - pro THEN 7 + (u2 >= 0.45)::int
                                              ELSE 9 + (u2 >= 0.45)::int END
                                  FROM (SELECT cxkpi.sample_uniform(seed, 220, s.key) AS u, cxkpi.sample_uniform(seed, 221, s.key) AS u2,
                                               cxkpi.sample_trend(0.15, 0.13, t) AS det, cxkpi.sample_trend(0.52, 0.55, t) AS pro
                                        FROM (SELECT extract(epoch FROM s.responded_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) AS t) AS tt) AS q)
                 WHEN 'csat' THEN cxkpi.sample_score(least(4.7, s.mean), cxkpi.sample_uniform(seed, 220, s.key), cxkpi.sample_uniform(seed, 221, s.key),
                                                     ARRAY[0, 0, 0.03, 0.25, 1], ARRAY[0.25, 0.55, 0.85, 1, 1], 1)
                 ELSE cxkpi.sample_score(least(6.15, s.mean), cxkpi.sample_uniform(seed, 220, s.key), cxkpi.sample_uniform(seed, 221, s.key),
                                         ARRAY[0, 0, 0, 0.05, 0.20, 0.55, 1], ARRAY[0.15, 0.40, 0.65, 0.85, 0.95, 1, 1], 1) END AS score
          FROM cxs_srv AS s) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'survey_responses'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;
    DROP TABLE cxs_srv;

    -- App store ratings (seed 000: 4.1, 3.9 the year before).
    INSERT INTO cxkpi.app_ratings (rating_id, rated_at, app_store, rating, app_version, comment)
    SELECT row_number() OVER (ORDER BY a.rated_at, a.j), a.rated_at,
           CASE WHEN cxkpi.sample_uniform(seed, 231, a.j) < 0.48 THEN 'app_store'
                WHEN cxkpi.sample_uniform(seed, 231, a.j) < 0.98 THEN 'google_play' ELSE 'other' END,
           a.rating, format('%s.%s', 5 + (a.day - d_cx) / 365, ((a.day - d_cx) % 365) / 30), 
           CASE WHEN cxkpi.sample_uniform(seed, 234, a.j) < 0.25 THEN
                CASE WHEN a.rating >= 4 THEN (ARRAY['Easy to use.', 'Love the new design.', 'Quick checkout.', 'Handy order tracking.'])[1 + floor(cxkpi.sample_uniform(seed, 235, a.j) * 4)::integer]
                     ELSE (ARRAY['Crashes on login.', 'Too slow.', 'Checkout keeps failing.', 'Too many notifications.'])[1 + floor(cxkpi.sample_uniform(seed, 235, a.j) * 4)::integer] END END
    FROM (SELECT j, d.day,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => cxkpi.sample_uniform(seed, 232, j) * 86400) AS rated_at,
                 cxkpi.sample_score(cxkpi.sample_trend(3.9, 4.1, (d.day - d_cx) / 365.25), cxkpi.sample_uniform(seed, 233, j),
                                    cxkpi.sample_uniform(seed, 236, j), ARRAY[0, 0, 0.05, 0.30, 1], ARRAY[0.55, 0.80, 0.95, 1, 1], 1) AS rating
          FROM generate_series(1::bigint, round(6000 * scale)::bigint) AS j
          JOIN cxs_day AS d ON d.day = d_cx + floor(cxkpi.sample_uniform(seed, 230, j) * (d_end - d_cx + 1))::integer) AS a;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'app_ratings'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Secondary metrics measured elsewhere (seed 000; the year before: plausible values with
    -- the improvements the seed mentions): daily load time, uptime and app active users, monthly mobile score,
    -- mystery shopper and protocol adherence, quarterly training hours and certification.
    -- App active users (seed 000: 850K for 2.4M loyalty members), scaled like the members; +20 %
    -- on the year before (an assumption).
    SELECT count(*) * 850.0 / 2400 INTO app_users FROM cxkpi.loyalty_members;
    INSERT INTO cxkpi.metric_observations (kpi, observed_at, dimension, value, weight)
    SELECT m.kpi, (d.day::timestamp + interval '12 hours') AT TIME ZONE tz, '',
           least(m.hi, greatest(m.lo, round((cxkpi.sample_trend(m.prior, m.current, (d.day - d_cx) / 365.25)
                                             + m.noise * cxkpi.sample_normal(seed, 240 + m.n, (d.day - d_hist)::bigint))::numeric, m.digits)::double precision)),
           m.weight
    FROM (VALUES (0, 'website_load_time_seconds', 2.4, 2.1, 0.15, 0.5, 10.0, 2, 'day', 1.0),
                 (1, 'uptime_pct', 99.8, 99.9, 0.08, 98.0, 100.0, 3, 'day', 1440.0),
                 (2, 'mobile_optimization_score', 88, 92, 1.0, 0.0, 100.0, 0, 'month', 1.0),
                 (3, 'staff_training_hours', 36, 42, 1.5, 0.0, 200.0, 1, 'quarter', 1.0),
                 (4, 'certification_share_pct', 91, 95, 0.8, 0.0, 100.0, 1, 'quarter', 1.0),
                 (5, 'mystery_shopper_score_pct', 85, 88, 2.0, 0.0, 100.0, 1, 'month', 1.0),
                 (6, 'protocol_adherence_pct', 90, 92, 1.2, 0.0, 100.0, 1, 'month', 1.0),
                 (7, 'app_active_users', app_users / 1.2, app_users, 0.03 * app_users, 0.0, 1e12, 0, 'day', 1.0))
         AS m(n, kpi, prior, current, noise, lo, hi, digits, every, weight)
    JOIN cxs_day AS d ON d.day >= d_cx AND d.day = date_trunc(m.every, d.day::timestamp)::date;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'metric_observations'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Engagement events (issue 17, seed 002; no figures in the seed, plausible ones): a quarter
    -- of the customers subscribe to the newsletter, sent on the first Tuesday of every month from
    -- the later of d_cx and their acquisition; about 21 % of the emails opened (23 % the current
    -- year), 2.6 % clicked (3.0 %), a click always after an open, by a propensity of each
    -- subscriber (3 v^2 times the mean, v uniform: many never open).  Social interactions,
    -- tracked site visits, app sessions and store visits (loyalty card scans) of the 35 % of
    -- customers who follow the brand, on a random day from their acquisition on, a little more
    -- often as time goes on.
    INSERT INTO cxkpi.engagement_events (event_id, customer_id, occurred_at, channel, kind)
    SELECT row_number() OVER (ORDER BY e.occurred_at, e.kind, e.customer_id), e.customer_id, e.occurred_at, e.channel, e.kind
    FROM (SELECT m.customer_id, m.sent_at + k.delay AS occurred_at, 'email' AS channel, k.kind
          FROM (SELECT c.customer_id, (d.day::timestamp + interval '9 hours') AT TIME ZONE tz AS sent_at,
                       cxkpi.sample_uniform(seed, 401, c.customer_id * 100 + (d.day - d_cx) / 28)
                           / (3 * cxkpi.sample_uniform(seed, 406, c.customer_id) ^ 2) AS u,
                       (d.day - d_cx) / 365.25 AS t
                FROM cxkpi.customers AS c
                JOIN cxs_day AS d ON d.day >= greatest(d_cx, c.acquired_on) AND extract(dow FROM d.day) = 2
                                 AND extract(day FROM d.day) <= 7
                WHERE cxkpi.sample_uniform(seed, 400, c.customer_id) < 0.25) AS m
          CROSS JOIN LATERAL (VALUES ('email_sent', interval '0'),
                                     ('email_open', make_interval(secs => 600 + 86400 * least(m.u, 1) * 40)),
                                     ('email_click', make_interval(secs => 900 + 86400 * least(m.u, 1) * 40))) AS k(kind, delay)
          WHERE k.kind = 'email_sent' OR (k.kind = 'email_open' AND m.u < cxkpi.sample_trend(0.21, 0.23, m.t))
             OR (k.kind = 'email_click' AND m.u < cxkpi.sample_trend(0.026, 0.030, m.t))
          UNION ALL
          SELECT c.customer_id,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => 8 * 3600 + cxkpi.sample_uniform(seed, 405, x.j) * 14 * 3600),
                 x.channel, x.kind
          FROM (SELECT j, v.channel, v.kind,
                       1 + floor(cxkpi.sample_uniform(seed, 402, j) * n_cust)::bigint AS customer_id,
                       cxkpi.sample_uniform(seed, 403, j) AS u
                FROM (VALUES (0, 'social', 'social_interaction', 30000), (1, 'web', 'site_visit', 45000),
                             (2, 'app', 'app_session', 35000), (3, 'store', 'store_visit', 15000)) AS v(n, channel, kind, per_scale)
                CROSS JOIN LATERAL generate_series(v.n * 10000000 + 1, v.n * 10000000 + round(v.per_scale * scale)::bigint) AS j) AS x
          JOIN cxkpi.customers AS c ON c.customer_id = x.customer_id AND cxkpi.sample_uniform(seed, 404, c.customer_id) < 0.35
          -- a little busier as time goes on: density 0.9 + 0.2 f over the customer's span (f from 0 to 1)
          JOIN cxs_day AS d ON d.day = greatest(d_cx, c.acquired_on)
                                       + floor((d_end - greatest(d_cx, c.acquired_on) + 1)
                                               * least(0.999999, (sqrt(0.81 + 0.4 * x.u) - 0.9) / 0.2))::integer) AS e;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'engagement_events'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Social mentions (seed 003): instagram 40 %, x 25 %, facebook 20 %, review sites 15 %;
    -- positive 45 % the year before and 50 % the current year, negative 20 % and 17 %; the
    -- classifier's polarity on 60 % of them, the others left to the lexicon (their texts score
    -- as their class).
    INSERT INTO cxkpi.social_mentions (mention_id, source, mentioned_at, text, polarity)
    SELECT row_number() OVER (ORDER BY m.mentioned_at, m.j), m.source, m.mentioned_at,
           (CASE m.class WHEN 1 THEN ARRAY['Love the new collection!', 'Great service in store today', 'Fast delivery, thanks',
                                           'Excellent quality, would recommend']
                         WHEN 0 THEN ARRAY['Anyone tried the new app?', 'Store opening hours on Sunday?',
                                           'Just ordered the winter jacket', 'Saw the ad on TV']
                         ELSE ARRAY['Terrible customer service', 'Delivery was late again', 'Item arrived damaged, want a refund',
                                    'Not happy with the quality'] END)[1 + floor(cxkpi.sample_uniform(seed, 413, m.j) * 4)::integer],
           CASE WHEN cxkpi.sample_uniform(seed, 414, m.j) < 0.6 THEN m.class END
    FROM (SELECT j,
                 CASE WHEN cxkpi.sample_uniform(seed, 411, j) < 0.40 THEN 'instagram' WHEN cxkpi.sample_uniform(seed, 411, j) < 0.65 THEN 'x'
                      WHEN cxkpi.sample_uniform(seed, 411, j) < 0.85 THEN 'facebook' ELSE 'reviews' END AS source,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => cxkpi.sample_uniform(seed, 412, j) * 86400) AS mentioned_at,
                 CASE WHEN cxkpi.sample_uniform(seed, 415, j) < cxkpi.sample_trend(0.45, 0.50, (d.day - d_cx) / 365.25) THEN 1
                      WHEN cxkpi.sample_uniform(seed, 415, j) > 1 - cxkpi.sample_trend(0.20, 0.17, (d.day - d_cx) / 365.25) THEN -1
                      ELSE 0 END::smallint AS class
          FROM generate_series(1::bigint, round(4000 * scale)::bigint) AS j
          JOIN cxs_day AS d ON d.day = d_cx + floor(cxkpi.sample_uniform(seed, 410, j) * (d_end - d_cx + 1))::integer) AS m;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'social_mentions'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Inventory snapshots (issue 17, seed 002; no figures in the seed, plausible ones): five
    -- categories of 6 SKUs times the square root of the scale (at least 2), each in a store and
    -- the web fulfilment centre, one snapshot a day from d_cx on.  A SKU-location is replenished every R days (the category's
    -- cycle) up to a base stock of B + R days of its mean daily demand (0.5 to 4 units at a cost
    -- in the category's range); between deliveries the stock runs down by a day's demand a day.
    -- Annual turnover about 365 / (B + R / 2): apparel 4.9, footwear 4.2, home 3.6, beauty 9.9,
    -- electronics 7.2.  A cycle runs short with probability q (the year before 30 %, the current
    -- year 22 %): its last 1 to 5 days have no unit on hand and no sale (stock-out rates of 2-6 %).
    INSERT INTO cxkpi.inventory_snapshots (snapshot_date, location, sku, category, on_hand_units, on_hand_value, cogs)
    SELECT y.day, y.location, y.sku, y.category, y.units, y.units * y.cost, y.sold * y.cost
    FROM (SELECT x.day, x.location, x.sku, x.category, x.cost,
                 CASE WHEN x.out THEN 0
                      ELSE round(x.rate * (x.b + x.r - x.k - 1) * (0.9 + 0.2 * cxkpi.sample_uniform(seed, 425, x.kd)))::numeric END AS units,
                 CASE WHEN x.out THEN 0 ELSE round(x.rate * 2 * cxkpi.sample_uniform(seed, 426, x.kd))::numeric END AS sold
          FROM (SELECT d.day, p.location, p.sku, p.category, p.rate, p.cost, p.b, p.r, (d.day - d_cx + p.off) % p.r AS k,
                       p.key * 10000 + (d.day - d_cx) AS kd,
                       cxkpi.sample_uniform(seed, 423, p.key * 1000 + (d.day - d_cx + p.off) / p.r)
                           < cxkpi.sample_trend(0.30, 0.22, (d.day - d_cx) / 365.25)
                       AND (d.day - d_cx + p.off) % p.r
                           >= p.r - 1 - floor(5 * cxkpi.sample_uniform(seed, 424, p.key * 1000 + (d.day - d_cx + p.off) / p.r)) AS out
                FROM (SELECT c.category, format('%s-%s', upper(left(c.category, 3)), lpad(i::text, 4, '0')) AS sku, l.location,
                             c.b, c.r, c.n * 1000000 + i * 10 + l.n AS key,
                             0.5 + 3.5 * cxkpi.sample_uniform(seed, 420, c.n * 1000000 + i * 10 + l.n) AS rate,
                             round((c.lo + (c.hi - c.lo) * cxkpi.sample_uniform(seed, 421, c.n * 1000000 + i * 10))::numeric, 2) AS cost,
                             floor(c.r * cxkpi.sample_uniform(seed, 422, c.n * 1000000 + i * 10 + l.n))::integer AS off
                      FROM (VALUES (1::bigint, 'apparel', 60, 28, 12, 40), (2, 'footwear', 70, 35, 25, 60), (3, 'home', 80, 42, 8, 50),
                                   (4, 'beauty', 30, 14, 4, 15), (5, 'electronics', 40, 21, 30, 150)) AS c(n, category, b, r, lo, hi)
                      CROSS JOIN generate_series(1, greatest(2, round(6 * sqrt(scale)))::integer) AS i
                      CROSS JOIN (VALUES (1, 'store_01'), (2, 'web_fc')) AS l(n, location)) AS p
                JOIN cxs_day AS d ON d.day >= d_cx) AS x) AS y;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'inventory_snapshots'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- Two A/B tests (docs/experiments.md#the-sample-experiments).  The facts above are generated
    -- without them and stay as they are, so the effects are made by the assignment: a unit whose
    -- outcome is a success is a little more likely to be in the winning variant, which is what a
    -- true effect on that outcome looks like in the data.
    -- checkout_redesign (ended): web sessions of 1 October - 14 November 2025, half to a one-page
    -- checkout, which converts about 10 % more.  loyalty_offer (running): the customers with an
    -- order in June - August 2025, assigned in September, a third each to the control, a welcome
    -- offer (about 12 % more buy again) and double points (no effect).
    INSERT INTO cxkpi.experiments (experiment, description, unit, control_variant, primary_metric, starts_at, ends_at)
    VALUES ('checkout_redesign', 'One-page checkout against the three-step checkout, web and app sessions.', 'session',
            'control', 'conversion', make_date(cur_year, 10, 1)::timestamp AT TIME ZONE tz,
            make_date(cur_year, 11, 15)::timestamp AT TIME ZONE tz),
           ('loyalty_offer', 'A welcome-back offer or double points for customers active in the summer.', 'customer',
            'control', 'conversion', make_date(cur_year, 9, 1)::timestamp AT TIME ZONE tz, NULL);
    INSERT INTO cxkpi.experiment_assignments (experiment, variant, session_id, assigned_at)
    SELECT 'checkout_redesign',
           CASE WHEN cxkpi.sample_uniform(seed, 300, s.session_id) < CASE WHEN s.converted THEN 0.525 ELSE 0.5 END
                THEN 'one_page_checkout' ELSE 'control' END,
           s.session_id, s.started_at
    FROM cxkpi.web_sessions AS s
    WHERE s.started_at >= make_date(cur_year, 10, 1)::timestamp AT TIME ZONE tz
      AND s.started_at < make_date(cur_year, 11, 15)::timestamp AT TIME ZONE tz;
    INSERT INTO cxkpi.experiment_assignments (experiment, variant, customer_id, assigned_at)
    SELECT 'loyalty_offer',
           CASE WHEN x.u < 1 / (2 + x.odds) THEN 'control'
                WHEN x.u < (1 + x.odds) / (2 + x.odds) THEN 'welcome_offer' ELSE 'double_points' END,
           x.customer_id, x.assigned_at
    FROM (SELECT c.customer_id, c.assigned_at, cxkpi.sample_uniform(seed, 302, c.customer_id) AS u,
                 CASE WHEN EXISTS (SELECT 1 FROM cxkpi.orders AS o
                                   WHERE o.customer_id = c.customer_id AND o.ordered_at >= c.assigned_at) THEN 1.12 ELSE 1 END AS odds
          FROM (SELECT o.customer_id,
                       (make_date(cur_year, 9, 1)::timestamp AT TIME ZONE tz)
                       + make_interval(secs => cxkpi.sample_uniform(seed, 301, o.customer_id) * 30 * 86400) AS assigned_at
                FROM cxkpi.orders AS o
                WHERE o.ordered_at >= make_date(cur_year, 6, 1)::timestamp AT TIME ZONE tz
                  AND o.ordered_at < make_date(cur_year, 9, 1)::timestamp AT TIME ZONE tz
                GROUP BY o.customer_id) AS c) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    n_rows := n_rows + (SELECT count(*) FROM cxkpi.experiment_assignments WHERE experiment = 'checkout_redesign');
    table_name := 'experiment_assignments'; row_count := n_rows; RETURN NEXT;
    PERFORM cxkpi.progress_notice(table_name, n_rows, t0);
    n_total := n_total + n_rows;

    -- The loyalty target scaled like the member count: seed 000 aims at 3.0M members for 2.4M.
    UPDATE cxkpi.kpi_targets
    SET target = (SELECT round(count(*) * 3.0 / 2.4) FROM cxkpi.loyalty_members WHERE enrolled_on <= d_end)
    WHERE kpi = 'loyalty_members' AND dimension = '' AND target IS NOT NULL;

    -- The scorecard shows the current year against the year before.
    UPDATE cxkpi.settings SET value = (d_end + 1)::text WHERE key = 'as_of';
    UPDATE cxkpi.settings SET value = 'year' WHERE key = 'scorecard_grain';
    -- Alerts at the same grain: seed 000's thresholds are for yearly figures (retention 65 %).
    UPDATE cxkpi.settings SET value = 'year' WHERE key = 'alert_grain';

    DROP TABLE cxs_day, cxs_bucket, cxs_cust, cxs_ev, cxs_cum, cxs_need;
    PERFORM cxkpi.progress_notice(format('sample data done (scale %s, seed %s)', scale, seed), n_total, t0);
END $$;

-------------------------------------------------------------------------------------------------
-- Issue 17: omnichannel conversion and journeys (seed 002).  The touchpoint view and the rollup
-- (src/engagement.sql), the final copies of the functions they change (dashboard_rollups,
-- kpi_arithmetic, kpi_engine), the KPIs' catalogue rows, section view and paths
-- (src/dashboard_engagement.sql), all as there; then the rollup and the two KPIs' values of a
-- database updated from 1.0, filled from the facts as a rebuild would.
-- docs/dashboard.md#omnichannel-conversion-and-journeys.
-------------------------------------------------------------------------------------------------

-------------------------------------------------------------------------------------------------
-- Omnichannel journeys (issue 17, seed 002): every customer touchpoint of the facts in one
-- channel vocabulary (email, social, web, app, store, phone), and its daily rollup of the
-- customers per channel and of the purchasers, as retention summaries, so that every period
-- counts distinct customers exactly (docs/dashboard.md#omnichannel-conversion-and-journeys).
-------------------------------------------------------------------------------------------------

-- The touchpoints of identified customers (cxkpi.customers is the cross-channel identity):
-- engagement interactions (every kind but email_sent) in their channel; web and app sessions
-- and carts of a known customer (device app: app, desktop, mobile, tablet: web); support tickets
-- of a known customer (email: email, chat: web, phone: phone); orders (store: store, app: app,
-- web_desktop and web_mobile: web), the purchases.
CREATE VIEW cxkpi.journey_touchpoints AS
SELECT e.customer_id, e.occurred_at AS touched_at, e.channel AS journey_channel, false AS purchase, 'engagement_events'::text AS source,
       e.event_id AS source_id
FROM cxkpi.engagement_events AS e WHERE e.kind <> 'email_sent'
UNION ALL
SELECT s.customer_id, s.started_at, CASE s.device WHEN 'app' THEN 'app' ELSE 'web' END, false, 'web_sessions', s.session_id
FROM cxkpi.web_sessions AS s WHERE s.customer_id IS NOT NULL
UNION ALL
SELECT c.customer_id, c.created_at, CASE c.device WHEN 'app' THEN 'app' ELSE 'web' END, false, 'carts', c.cart_id
FROM cxkpi.carts AS c WHERE c.customer_id IS NOT NULL
UNION ALL
SELECT t.customer_id, t.created_at, CASE t.channel WHEN 'chat' THEN 'web' ELSE t.channel END, false, 'support_tickets',
       t.ticket_id
FROM cxkpi.support_tickets AS t WHERE t.customer_id IS NOT NULL
UNION ALL
SELECT o.customer_id, o.ordered_at, CASE o.channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END, true,
       'orders', o.order_id
FROM cxkpi.orders AS o;
COMMENT ON VIEW cxkpi.journey_touchpoints IS
    'Every touchpoint of an identified customer in the journey channels (email, social, web, app, store, phone): engagement interactions (not email_sent), sessions and carts of a known customer (device app: app, else web), support tickets of a known customer (email: email, chat: web, phone: phone) and orders (the purchases: store, app, web_desktop and web_mobile: web).';
COMMENT ON COLUMN cxkpi.journey_touchpoints.customer_id IS 'The customer (cxkpi.customers: the identity across channels).';
COMMENT ON COLUMN cxkpi.journey_touchpoints.touched_at IS 'When: the event, session start, cart creation, ticket creation or order time.';
COMMENT ON COLUMN cxkpi.journey_touchpoints.journey_channel IS 'Journey channel: email, social, web, app, store or phone.';
COMMENT ON COLUMN cxkpi.journey_touchpoints.purchase IS 'true for an order (a purchase), false for the other touchpoints.';
COMMENT ON COLUMN cxkpi.journey_touchpoints.source IS 'The fact table: engagement_events, web_sessions, carts, support_tickets or orders.';
COMMENT ON COLUMN cxkpi.journey_touchpoints.source_id IS 'The key of the row in that table (event_id, session_id, cart_id, ticket_id, order_id).';

-- Journeys per day and channel: the customers with a touchpoint (touched; a purchase is one) and
-- those with a purchase (purchased; NULL when none), as retention summaries.
CREATE TABLE cxkpi.daily_journeys (day date, channel text, touched @extschema@.retention_summary,
    purchased @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_journeys_key ON cxkpi.daily_journeys (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_journeys(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_journeys
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.touched_at AT TIME ZONE tz)::date AS day, t.journey_channel AS channel,
       @extschema@.retention_agg(t.customer_id, (t.touched_at AT TIME ZONE tz)::date, 'day') AS touched,
       @extschema@.retention_agg(t.customer_id, (t.touched_at AT TIME ZONE tz)::date, 'day') FILTER (WHERE t.purchase)
           AS purchased
FROM cxkpi.journey_touchpoints AS t
WHERE t.touched_at >= (first_day::timestamp AT TIME ZONE tz) AND t.touched_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_journeys IS
    'Internal rollup: per local day and journey channel, the customers with a touchpoint and those with a purchase (retention summaries: distinct customers of any period).';
COMMENT ON FUNCTION cxkpi.rollup_daily_journeys(text, date, date) IS
    'Internal: the rows of cxkpi.daily_journeys of the days first_day to last_day (in time zone tz).';

-- Which rollup reads which facts' days (cxkpi.change_log.fact), in the order of the refresh.
CREATE OR REPLACE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_ticket_resolutions', ARRAY['support_tickets']),
           ('daily_deliveries', ARRAY['orders', 'order_deliveries']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']),
           ('hourly_conversion', ARRAY['web_sessions']),
           ('hourly_orders', ARRAY['orders']),
           ('hourly_carts', ARRAY['carts']),
           ('hourly_tickets', ARRAY['support_tickets']),
           ('daily_engagement', ARRAY['engagement_events']),
           ('daily_sentiment', ARRAY['social_mentions']),
           ('daily_inventory', ARRAY['inventory_snapshots']),
           ('daily_journeys', ARRAY['engagement_events', 'web_sessions', 'carts', 'support_tickets', 'orders']) $$;
COMMENT ON FUNCTION cxkpi.dashboard_rollups() IS
    'Internal: the daily and hourly rollups in refresh order, with the fact tables (cxkpi.change_log.fact) whose days they read.';


-- The arithmetic of the KPIs that have an hour grain, written once from their additive state:
-- value, numerator, denominator, sample size and interval of kpi from the sums num (numerator)
-- and den (denominator; NULL for a volume).  cxkpi.kpi_engine calls it for every period of the
-- daily rollups, the hourly views (src/dashboard_hourly.sql) for hours, today so far and the
-- heat map, so a KPI's formula is in one place (docs/architecture.md#the-hour-grain).  Shares
-- are in percent with a Wilson interval; means (aov, response_time_hours, and the daily-only
-- resolution_time_hours and delivery_time_days) are sums over counts;
-- volumes (sessions, orders, tickets, net_revenue) are the sum itself.  Unknown KPIs give NULL.
-- A SQL-standard body: inlined where it is called, and readers of cxkpi_bi (no USAGE on schema
-- cxkpi) can run it.
CREATE OR REPLACE FUNCTION cxkpi.kpi_arithmetic(kpi text, num numeric, den numeric, conf double precision)
    RETURNS TABLE (value double precision, numerator double precision, denominator double precision,
                   sample_size bigint, ci_lower double precision, ci_upper double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'aov' THEN (num / nullif(den, 0))::double precision
                WHEN kpi IN ('response_time_hours', 'resolution_time_hours', 'delivery_time_days') THEN num::double precision / nullif(den, 0)::double precision
                WHEN kpi IN ('sessions', 'orders', 'tickets', 'net_revenue') THEN num::double precision
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share', 'omnichannel_conversion_rate',
                             'multichannel_customer_share') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'interactions_per_customer' THEN (num / nullif(den, 0))::double precision END,
           num::double precision, den::double precision,
           CASE WHEN kpi IN ('sessions', 'orders', 'tickets') THEN num::bigint ELSE den::bigint END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf)
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share', 'omnichannel_conversion_rate',
                             'multichannel_customer_share')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf) END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf)
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share', 'omnichannel_conversion_rate',
                             'multichannel_customer_share')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf) END;
END;
COMMENT ON FUNCTION cxkpi.kpi_arithmetic(text, numeric, numeric, double precision) IS
    'Internal: the arithmetic of the KPIs with an hour grain (conversion_rate, cart_abandonment_rate, aov, response_time_hours, sessions, orders, tickets, net_revenue), of the mean resolution and delivery times (resolution_time_hours, delivery_time_days), of the engagement and mention shares (engagement_rate, email_open_rate, email_click_rate, positive_, neutral_ and negative_mention_share; interactions_per_customer) and of the journey shares (omnichannel_conversion_rate, multichannel_customer_share) from the sums of their numerator and denominator: value, numerator, denominator, sample size and Wilson interval (shares). Used by cxkpi.kpi_engine and the hourly views alike.';


-- The arithmetic of every KPI, written once: the rows of cxkpi.kpi_values of the periods given
-- (grains[i], period_starts[i]: the first day of a period of that grain), computed from the rollup
-- rows of those periods.  The full rebuild passes every period, the incremental refresh the
-- periods its dirty days fall into.  Each value comes with the value of the previous period and
-- of the same period a year earlier (cxkpi.previous_period_start, cxkpi.year_ago_period_start),
-- computed here for those periods too.  What a period reads besides its own days: retention the
-- retention_active_window periods before it, the active loyalty share the loyalty_active_days
-- days up to its end, the loyalty members every enrolment up to its end.
-- enable_mergejoin off: the planner, which has no statistics on the CTEs, would keep the asked
-- periods with a merge semi join that rereads them for every row (30 of 44 s of a rebuild at
-- scale 1); the hash join it takes instead is linear.
CREATE OR REPLACE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
-- the previous and year-ago periods of each that are not asked for: those cxkpi.kpi_values holds
-- are read from it (stored), the others computed here too
nb AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)
    WHERE NOT EXISTS (SELECT 1 FROM req AS r WHERE r.grain = q.grain AND r.period_start = x.period_start)),
stored AS MATERIALIZED (
    SELECT n.grain, n.period_start FROM nb AS n
    WHERE EXISTS (SELECT 1 FROM cxkpi.kpi_values AS v WHERE v.grain = n.grain AND v.period_start = n.period_start)),
per AS MATERIALIZED (
    SELECT x.grain, x.period_start, (x.period_start + cxkpi.grain_interval(x.grain))::date - 1 AS period_end
    FROM (SELECT q.grain, q.period_start FROM req AS q
          UNION
          SELECT n.grain, n.period_start FROM nb AS n
          WHERE NOT EXISTS (SELECT 1 FROM stored AS t WHERE t.grain = n.grain AND t.period_start = n.period_start)) AS x),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- the accessors once per period: each reads the whole summary of the period (a year's is large)
act AS (
    SELECT a.grain, a.period_start, a.orders, @extschema@.customers(a.s) AS customers,
           @extschema@.repeat_customer_rate(a.s) AS repeat_rate
    FROM (SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
          FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY 1, 2) AS a),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- exact median and p90 of the days' arrays of response hours (percentile_cont's values, one sort
-- per group: src/quantiles.c)
tp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.responded, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.response_hours)) AS responded,
                 @extschema@.exact_percentiles(d.response_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.responded > 0),
-- resolution times: the mean from the sums, the median and 90th percentile from the sorted hours
rs AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.resolved)::bigint AS resolved, sum(d.resolution_hours_sum::numeric) AS hours_sum
    FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
rp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.resolved, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.resolution_hours)) AS resolved,
                 @extschema@.exact_percentiles(d.resolution_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.resolved > 0),
-- delivery times and on-time deliveries, as the resolution times
dl AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.delivered)::bigint AS delivered, sum(d.delivery_days_sum::numeric) AS days_sum,
           sum(d.promised)::bigint AS promised, sum(d.on_time)::bigint AS on_time
    FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
dp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.delivered, t.q[1] AS median_d, t.q[2] AS p90_d
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.delivery_days)) AS delivered,
                 @extschema@.exact_percentiles(d.delivery_days, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.delivered > 0),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
-- Engagement per channel and in total: distinct customers reached and engaged (retention
-- summaries merged over the period's days); a channel's engagement rate divides by the
-- customers reached in any channel.
eg AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.sent)::bigint AS sent, sum(d.opens)::bigint AS opens, sum(d.clicks)::bigint AS clicks,
           sum(d.interactions)::bigint AS interactions,
           coalesce(@extschema@.customers(@extschema@.rollup(d.reached)), 0) AS reached,
           coalesce(@extschema@.customers(@extschema@.rollup(d.engaged)), 0) AS engaged
    FROM per AS p JOIN cxkpi.daily_engagement AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
egr AS (
    SELECT c.*, t.reached AS reached_any
    FROM eg AS c JOIN eg AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total'),
sm AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.source) = 0 THEN 'source' ELSE 'total' END AS breakdown,
           coalesce(d.source, 'all') AS dimension, @extschema@.rollup(d.mentions) AS s
    FROM per AS p JOIN cxkpi.daily_sentiment AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.source), ())),
-- Inventory per category and in total (issue 17, seed 002): the days with a snapshot, the sum of
-- the daily stock values at cost (average inventory = value_days / days), the cost of goods sold,
-- and the SKU-location-days tracked and out of stock.
inv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.category) = 0 THEN 'category' ELSE 'total' END AS breakdown,
           coalesce(d.category, 'all') AS dimension,
           count(DISTINCT d.day) AS days, sum(d.inventory_value) AS value_days, sum(d.cogs) AS cogs,
           sum(d.tracked)::bigint AS tracked, sum(d.stock_outs)::bigint AS stock_outs
    FROM per AS p JOIN cxkpi.daily_inventory AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.category), ())),
-- Omnichannel journeys: the customers of each channel and of the purchases over the period's
-- days (retention summaries merged).  Only unions are needed, so every count is exact: the
-- purchasers among a channel's customers = |channel| + |purchasers| - |channel or purchasers|;
-- the customers of that channel only = |all channels| - |every other channel|; the customers
-- in two channels or more = |all channels| - the sum over the channels of those of it only.
jc AS MATERIALIZED (
    SELECT p.grain, p.period_start, d.channel, @extschema@.rollup(d.touched) AS t, @extschema@.rollup(d.purchased) AS b
    FROM per AS p JOIN cxkpi.daily_journeys AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
ja AS MATERIALIZED (
    SELECT grain, period_start, @extschema@.customers(@extschema@.rollup(t)) AS active,
           coalesce(@extschema@.customers(@extschema@.rollup(b)), 0) AS buyers, @extschema@.rollup(b) AS b
    FROM jc GROUP BY 1, 2),
jo AS (
    SELECT c.grain, c.period_start, c.channel, coalesce(@extschema@.customers(@extschema@.rollup(o.t)), 0) AS others
    FROM jc AS c LEFT JOIN jc AS o ON o.grain = c.grain AND o.period_start = c.period_start AND o.channel <> c.channel
    GROUP BY 1, 2, 3),
jn AS MATERIALIZED (
    SELECT c.grain, c.period_start, c.channel, @extschema@.customers(c.t) AS touched,
           @extschema@.customers(c.t) + a.buyers - @extschema@.customers(@extschema@.merge(c.t, a.b)) AS converted,
           a.active - o.others AS only_here
    FROM jc AS c JOIN ja AS a USING (grain, period_start) JOIN jo AS o USING (grain, period_start, channel)),
jr (grain, period_start, breakdown, dimension, customers, converted, multi) AS (
    SELECT a.grain, a.period_start, 'total', 'all', a.active, a.buyers, a.active - sum(n.only_here)
    FROM ja AS a JOIN jn AS n USING (grain, period_start)
    GROUP BY a.grain, a.period_start, a.active, a.buyers
    UNION ALL
    SELECT grain, period_start, 'channel', channel, touched, converted, touched - only_here FROM jn),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, k.*
    FROM cv, cfg, LATERAL cxkpi.kpi_arithmetic('conversion_rate', conversions, visits, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, k.*
    FROM od, cfg, LATERAL cxkpi.kpi_arithmetic('aov', net_value, orders, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, k.*
    FROM ct, cfg, LATERAL cxkpi.kpi_arithmetic('cart_abandonment_rate', abandoned, carts, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'delivery_time_days', breakdown, dimension, k.*
    FROM dl, cfg, LATERAL cxkpi.kpi_arithmetic('delivery_time_days', days_sum, delivered, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'delivery_time_median_days', breakdown, dimension, median_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'delivery_time_p90_days', breakdown, dimension, p90_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'on_time_delivery_rate', breakdown, dimension, 100.0 * on_time / promised,
           on_time, promised, promised, cxkpi.wilson_ci_lower(on_time, promised, conf), cxkpi.wilson_ci_upper(on_time, promised, conf)
    FROM dl, cfg WHERE promised > 0
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, k.*
    FROM tk, cfg, LATERAL cxkpi.kpi_arithmetic('response_time_hours', response_hours_sum, responded, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'resolution_time_hours', breakdown, dimension, k.*
    FROM rs, cfg, LATERAL cxkpi.kpi_arithmetic('resolution_time_hours', hours_sum, resolved, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'resolution_time_median_hours', breakdown, dimension, median_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    UNION ALL
    SELECT grain, period_start, 'resolution_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', repeat_rate,
           round(repeat_rate * customers / 100), customers, customers,
           cxkpi.wilson_ci_lower(round(repeat_rate * customers / 100)::bigint, customers, conf),
           cxkpi.wilson_ci_upper(round(repeat_rate * customers / 100)::bigint, customers, conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / customers,
           orders, customers, customers, NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    UNION ALL
    -- each acquisition channel's share of the customers acquired in the period (the total row:
    -- 100, all of them, so that the KPI has a total row like every other)
    SELECT c.grain, c.period_start, 'new_customer_share', c.breakdown, c.dimension,
           100.0 * c.new_customers / t.new_customers, c.new_customers, t.new_customers, t.new_customers,
           cxkpi.wilson_ci_lower(c.new_customers, t.new_customers, cfg.conf),
           cxkpi.wilson_ci_upper(c.new_customers, t.new_customers, cfg.conf)
    FROM aq AS c JOIN aq AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total', cfg
    WHERE t.new_customers > 0
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / a.customers)
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, a.customers, NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL
    -- engagement (issue 17, seed 002)
    UNION ALL
    SELECT grain, period_start, 'engagement_rate', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('engagement_rate', engaged, reached_any, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'interactions_per_customer', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('interactions_per_customer', interactions, engaged, conf) AS k
    WHERE engaged > 0
    UNION ALL
    SELECT grain, period_start, x.kpi, 'total', 'all', k.*
    FROM egr, cfg, LATERAL (VALUES ('email_open_rate', opens), ('email_click_rate', clicks)) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, sent, conf) AS k
    WHERE breakdown = 'channel' AND dimension = 'email' AND sent > 0
    -- social-media sentiment (seed 003): net sentiment is the NPS of the three categories
    UNION ALL
    SELECT grain, period_start, 'net_sentiment', breakdown, dimension, @extschema@.nps(s),
           (@extschema@.promoters(s) - @extschema@.detractors(s))::double precision,
           @extschema@.responses(s)::double precision, @extschema@.responses(s),
           @extschema@.nps_ci_lower(s, conf), @extschema@.nps_ci_upper(s, conf)
    FROM sm, cfg
    UNION ALL
    SELECT grain, period_start, x.kpi, breakdown, dimension, k.*
    FROM sm, cfg, LATERAL (VALUES ('positive_mention_share', @extschema@.promoters(s)),
                                  ('neutral_mention_share', @extschema@.passives(s)),
                                  ('negative_mention_share', @extschema@.detractors(s))) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, @extschema@.responses(s), conf) AS k
    -- inventory (issue 17, seed 002): turnover per period (not annualised), days of inventory,
    -- stock-out rate with its Wilson interval
    UNION ALL
    SELECT grain, period_start, 'stock_turnover', breakdown, dimension, (cogs * days / value_days)::double precision,
           cogs::double precision, (value_days / days)::double precision, days, NULL, NULL
    FROM inv
    WHERE value_days > 0
    UNION ALL
    SELECT grain, period_start, 'days_of_inventory', breakdown, dimension, (value_days / cogs)::double precision,
           value_days::double precision, cogs::double precision, days, NULL, NULL
    FROM inv
    WHERE cogs > 0
    UNION ALL
    SELECT grain, period_start, 'stock_out_rate', breakdown, dimension, 100.0 * stock_outs / tracked, stock_outs, tracked,
           tracked, cxkpi.wilson_ci_lower(stock_outs, tracked, cfg.conf), cxkpi.wilson_ci_upper(stock_outs, tracked, cfg.conf)
    FROM inv, cfg
    WHERE tracked > 0
    -- omnichannel journeys (issue 17, seed 002)
    UNION ALL
    SELECT grain, period_start, x.kpi, breakdown, dimension, k.*
    FROM jr, cfg, LATERAL (VALUES ('omnichannel_conversion_rate', converted), ('multichannel_customer_share', multi)) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, customers, conf) AS k),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per) or read from cxkpi.kpi_values (stored), so the
-- windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg
    UNION ALL
    SELECT v.grain, v.period_start, v.period_end, v."time", v.kpi, v.breakdown, v.dimension, v.value, v.numerator,
           v.denominator, v.sample_size, v.ci_lower, v.ci_upper,
           CASE WHEN v.grain IN ('day', 'week') THEN (v.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM v.period_start)::integer END
    FROM stored AS t JOIN cxkpi.kpi_values AS v ON v.grain = t.grain AND v.period_start = t.period_start),
ann AS (
    SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
           c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
           CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER series END AS previous_value,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.value) OVER years END AS value_year_ago,
           CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
                THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
    FROM cur AS c
    WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;
COMMENT ON FUNCTION cxkpi.kpi_engine(text[], date[]) IS
    'Internal: the KPI engine, every KPI''s arithmetic written once: the cxkpi.kpi_values rows of the periods given (grains[i], period_starts[i]), from the daily rollups. The full rebuild and the incremental refresh both call it.';


-------------------------------------------------------------------------------------------------
-- Omnichannel conversion and journeys (issue 17, seed 002): the two KPIs, their section view,
-- and the conversion by path (docs/dashboard.md#omnichannel-conversion-and-journeys).
-------------------------------------------------------------------------------------------------
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default,
                                   sort_order, decimals) VALUES
    ('omnichannel_conversion_rate', 'Omnichannel conversion rate', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * customers with a purchase (an order in any channel) / customers with a touchpoint in any channel (cxkpi.journey_touchpoints), distinct customers of the period; by channel: those who touched the channel', 'builtin', 0, 100, true,
     190, NULL),
    ('multichannel_customer_share', 'Customers active in 2+ channels', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * customers with touchpoints in two channels or more / customers with a touchpoint, distinct customers of the period; by channel: of those who touched the channel', 'builtin', 0, 100, true,
     195, NULL);

-- One row per grain, period, breakdown (total, channel) and dimension.
CREATE VIEW cxkpi.kpi_journeys AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'omnichannel_conversion_rate') AS omnichannel_conversion_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'omnichannel_conversion_rate') AS omnichannel_conversion_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'omnichannel_conversion_rate') AS omnichannel_conversion_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'omnichannel_conversion_rate')::bigint AS purchasing_customers,
       max(denominator) FILTER (WHERE kpi = 'omnichannel_conversion_rate')::bigint AS active_customers,
       max(value) FILTER (WHERE kpi = 'multichannel_customer_share') AS multichannel_customer_pct,
       max(ci_lower) FILTER (WHERE kpi = 'multichannel_customer_share') AS multichannel_customer_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'multichannel_customer_share') AS multichannel_customer_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'multichannel_customer_share')::bigint AS multichannel_customers
FROM cxkpi.kpi_values
WHERE kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share')
GROUP BY grain, period_start, breakdown, dimension;
COMMENT ON VIEW cxkpi.kpi_journeys IS
    'Omnichannel conversion and journeys (seed 002) per period: the share of the customers with a touchpoint in any channel who purchased in any channel, and the share active in two channels or more; total and by journey channel (email, social, web, app, store, phone: the customers who touched it).';
COMMENT ON COLUMN cxkpi.kpi_journeys.grain IS 'Period length: day, week, month, quarter or year.';
COMMENT ON COLUMN cxkpi.kpi_journeys.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.kpi_journeys.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN cxkpi.kpi_journeys."time" IS 'Start of the period as a timestamp (midnight in setting time_zone).';
COMMENT ON COLUMN cxkpi.kpi_journeys.breakdown IS 'total, or channel (the customers who touched that journey channel).';
COMMENT ON COLUMN cxkpi.kpi_journeys.dimension IS 'The journey channel (email, social, web, app, store, phone); all for the total row.';
COMMENT ON COLUMN cxkpi.kpi_journeys.omnichannel_conversion_rate_pct IS
    '100 * purchasing customers / active customers: the customers with a touchpoint (by channel: in that channel) in the period who placed an order in any channel in it.';
COMMENT ON COLUMN cxkpi.kpi_journeys.omnichannel_conversion_rate_ci_lower_pct IS 'Lower end of the Wilson interval of the omnichannel conversion rate.';
COMMENT ON COLUMN cxkpi.kpi_journeys.omnichannel_conversion_rate_ci_upper_pct IS 'Upper end of the Wilson interval of the omnichannel conversion rate.';
COMMENT ON COLUMN cxkpi.kpi_journeys.purchasing_customers IS 'Distinct active customers (by channel: of that channel) with an order in the period, any channel.';
COMMENT ON COLUMN cxkpi.kpi_journeys.active_customers IS 'Distinct customers with a touchpoint (cxkpi.journey_touchpoints; an order is one) in the period; by channel: in that channel.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customer_pct IS '100 * multichannel customers / active customers.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customer_ci_lower_pct IS 'Lower end of the Wilson interval of the multichannel share.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customer_ci_upper_pct IS 'Upper end of the Wilson interval of the multichannel share.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customers IS 'Distinct active customers (by channel: of that channel) with touchpoints in two journey channels or more in the period.';

CREATE VIEW cxkpi_bi.kpi_journeys AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension, v.omnichannel_conversion_rate_pct,
       v.omnichannel_conversion_rate_ci_lower_pct, v.omnichannel_conversion_rate_ci_upper_pct, v.purchasing_customers,
       v.active_customers, v.multichannel_customer_pct, v.multichannel_customer_ci_lower_pct,
       v.multichannel_customer_ci_upper_pct, v.multichannel_customers
FROM cxkpi.kpi_journeys AS v;
COMMENT ON VIEW cxkpi_bi.kpi_journeys IS
    'Omnichannel conversion and journeys (seed 002) per period: share of the active customers (a touchpoint in any channel) who purchased, and share active in two channels or more; total and by journey channel.';

-- Conversion by path over the days from_day to to_day (setting time_zone): for each customer
-- with a touchpoint in them, the journey channels in the order of their first touch, up to and
-- including the customer's first purchase in the window (all touchpoints without one), the
-- first four only; per path the customers, purchasers and conversion, and, of those who did not
-- purchase, the channel of their last touchpoint (where they dropped).  Plain SQL over the
-- facts; a SQL-standard body, so that cxkpi_bi.journey_paths runs for readers.
CREATE FUNCTION cxkpi.journey_paths(from_day date, to_day date)
    RETURNS TABLE (path text, path_channels bigint, customers bigint, purchasers bigint, conversion_rate_pct double precision,
                   dropped bigint, dropped_at_email bigint, dropped_at_social bigint, dropped_at_web bigint,
                   dropped_at_app bigint, dropped_at_store bigint, dropped_at_phone bigint)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH tp AS (
        SELECT t.customer_id, t.touched_at, t.journey_channel AS channel, t.purchase
        FROM cxkpi.journey_touchpoints AS t
        WHERE t.touched_at >= (from_day::timestamp AT TIME ZONE cxkpi.setting('time_zone'))
          AND t.touched_at < ((to_day + 1)::timestamp AT TIME ZONE cxkpi.setting('time_zone'))),
    fp AS (
        SELECT tp.customer_id, min(tp.touched_at) AS first_purchase FROM tp WHERE tp.purchase GROUP BY tp.customer_id),
    ch AS (
        SELECT tp.customer_id, tp.channel, min(tp.touched_at) AS first_touch, fp.first_purchase IS NOT NULL AS purchased
        FROM tp LEFT JOIN fp ON fp.customer_id = tp.customer_id
        WHERE fp.first_purchase IS NULL OR tp.touched_at <= fp.first_purchase
        GROUP BY tp.customer_id, tp.channel, fp.first_purchase),
    cp AS (
        SELECT r.customer_id, string_agg(r.channel, ' > ' ORDER BY r.n) AS path, count(*) AS path_channels,
               bool_or(r.purchased) AS purchased
        FROM (SELECT ch.customer_id, ch.channel, ch.purchased,
                     row_number() OVER (PARTITION BY ch.customer_id ORDER BY ch.first_touch, ch.channel) AS n
              FROM ch) AS r
        WHERE r.n <= 4
        GROUP BY r.customer_id),
    lc AS (
        SELECT DISTINCT ON (tp.customer_id) tp.customer_id, tp.channel
        FROM tp WHERE tp.customer_id NOT IN (SELECT fp.customer_id FROM fp)
        ORDER BY tp.customer_id, tp.touched_at DESC, tp.channel)
    SELECT cp.path, min(cp.path_channels), count(*), count(*) FILTER (WHERE cp.purchased),
           (100.0 * count(*) FILTER (WHERE cp.purchased) / count(*))::double precision,
           count(*) FILTER (WHERE NOT cp.purchased),
           count(*) FILTER (WHERE lc.channel = 'email'), count(*) FILTER (WHERE lc.channel = 'social'),
           count(*) FILTER (WHERE lc.channel = 'web'), count(*) FILTER (WHERE lc.channel = 'app'),
           count(*) FILTER (WHERE lc.channel = 'store'), count(*) FILTER (WHERE lc.channel = 'phone')
    FROM cp LEFT JOIN lc ON lc.customer_id = cp.customer_id
    GROUP BY cp.path
    ORDER BY count(*) DESC, cp.path;
END;
COMMENT ON FUNCTION cxkpi.journey_paths(date, date) IS
    'Conversion by journey path over the local days from_day to to_day: per path (the journey channels of a customer in the order of their first touch, up to and including the first purchase in the window; the first four) the customers, purchasers, conversion rate, and the non-purchasers by the channel of their last touchpoint (where they dropped).';

-- The paths of the last 90 days up to the reference date (cxkpi.as_of()).
CREATE VIEW cxkpi.journey_path_conversion AS
SELECT (SELECT cxkpi.as_of()) - 89 AS from_day, (SELECT cxkpi.as_of()) AS to_day, p.*
FROM cxkpi.journey_paths((SELECT cxkpi.as_of()) - 89, (SELECT cxkpi.as_of())) AS p;
COMMENT ON VIEW cxkpi.journey_path_conversion IS
    'Conversion by journey path over the 90 days up to the reference date (cxkpi.as_of()): cxkpi.journey_paths of that window, most frequent paths first.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.from_day IS 'First day of the window: the reference date - 89.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.to_day IS 'Last day of the window: the reference date (setting as_of, or today).';
COMMENT ON COLUMN cxkpi.journey_path_conversion.path IS
    'Journey channels (email, social, web, app, store, phone) in the order of their first touch up to and including the first purchase, the first four, joined by " > ".';
COMMENT ON COLUMN cxkpi.journey_path_conversion.path_channels IS 'Channels in the path (1 to 4).';
COMMENT ON COLUMN cxkpi.journey_path_conversion.customers IS 'Customers with a touchpoint in the window whose journey is this path.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.purchasers IS 'Of those, the customers with a purchase (an order) in the window.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.conversion_rate_pct IS '100 * purchasers / customers.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped IS 'Customers of the path without a purchase in the window: customers - purchasers.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_email IS 'Of the dropped customers, those whose last touchpoint in the window was by email.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_social IS 'Of the dropped customers, those whose last touchpoint was on social media.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_web IS 'Of the dropped customers, those whose last touchpoint was on the web (site visit, web session or cart, chat).';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_app IS 'Of the dropped customers, those whose last touchpoint was in the app.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_store IS 'Of the dropped customers, those whose last touchpoint was a store visit.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_phone IS 'Of the dropped customers, those whose last touchpoint was a phone support ticket.';

CREATE VIEW cxkpi_bi.journey_path_conversion AS
SELECT v.from_day, v.to_day, v.path, v.path_channels, v.customers, v.purchasers, v.conversion_rate_pct, v.dropped,
       v.dropped_at_email, v.dropped_at_social, v.dropped_at_web, v.dropped_at_app, v.dropped_at_store, v.dropped_at_phone
FROM cxkpi.journey_path_conversion AS v;
COMMENT ON VIEW cxkpi_bi.journey_path_conversion IS
    'Conversion by journey path over the 90 days up to the reference date: customers, purchasers and conversion per path of channels, and where the customers who did not purchase dropped.';
CREATE VIEW cxkpi_bi.journey_touchpoints AS
SELECT v.customer_id, v.touched_at, v.journey_channel, v.purchase, v.source, v.source_id
FROM cxkpi.journey_touchpoints AS v;
COMMENT ON VIEW cxkpi_bi.journey_touchpoints IS
    'Every touchpoint of an identified customer in the journey channels (email, social, web, app, store, phone), orders (the purchases) included: one row per engagement interaction, session or cart of a known customer, support ticket of a known customer, and order.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, a.attname, col_description(a.attrelid, a.attnum) AS doc
             FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
             WHERE a.attrelid IN ('cxkpi.kpi_journeys'::regclass, 'cxkpi.journey_path_conversion'::regclass,
                                  'cxkpi.journey_touchpoints'::regclass) AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', r.relname, r.attname, r.doc);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_journeys, cxkpi_bi.kpi_journeys, cxkpi.journey_path_conversion, cxkpi_bi.journey_path_conversion,
    cxkpi.journey_touchpoints, cxkpi_bi.journey_touchpoints TO cxkpi_reader;

-- The journeys of a database updated from 1.0, filled from the facts as a rebuild would, and the
-- values of the two KPIs (the refresh only recomputes the periods that change from now on).
INSERT INTO cxkpi.daily_journeys
SELECT * FROM cxkpi.rollup_daily_journeys((SELECT cxkpi.setting('time_zone')), '-infinity', 'infinity');
ANALYZE cxkpi.daily_journeys;
INSERT INTO cxkpi.kpi_values
SELECT v.* FROM (SELECT array_agg(p.grain) AS gs, array_agg(p.period_start) AS ps
                 FROM cxkpi.dashboard_days() AS b CROSS JOIN LATERAL cxkpi.periods_between(b.first_day, b.last_day) AS p) AS x
CROSS JOIN LATERAL cxkpi.kpi_engine(x.gs, x.ps) AS v
WHERE v.kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share')
  AND EXISTS (SELECT 1 FROM cxkpi.kpi_values);
