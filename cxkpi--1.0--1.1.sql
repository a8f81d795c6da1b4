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
CREATE FUNCTION cxkpi.enabled_targets() RETURNS SETOF cxkpi.kpi_targets
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 20
    AS $$ SELECT * FROM cxkpi.kpi_targets AS kt WHERE kt.enabled $$;
COMMENT ON FUNCTION cxkpi.enabled_targets() IS 'Internal: the enabled rows of cxkpi.kpi_targets.';
CREATE FUNCTION cxkpi.effective_target(kpi text, dimension text, period_start date)
    RETURNS TABLE (target double precision, red_threshold double precision, yellow_threshold double precision,
                   min_sample_size bigint, recovery_margin double precision)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(d.target, o.target), coalesce(d.red_threshold, o.red_threshold),
           coalesce(d.yellow_threshold, o.yellow_threshold), coalesce(d.min_sample_size, o.min_sample_size, 30),
           coalesce(d.recovery_margin, o.recovery_margin, 0)
    FROM (SELECT) AS one
    LEFT JOIN LATERAL (
        SELECT kt.* FROM cxkpi.enabled_targets() AS kt
        WHERE kt.kpi = $1 AND kt.dimension = $2 AND kt.dimension <> '' AND kt.valid_from <= $3
        ORDER BY kt.valid_from DESC LIMIT 1) AS d ON true
    LEFT JOIN LATERAL (
        SELECT kt.* FROM cxkpi.enabled_targets() AS kt
        WHERE kt.kpi = $1 AND kt.dimension = '' AND kt.valid_from <= $3
        ORDER BY kt.valid_from DESC LIMIT 1) AS o ON true
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
        'loyalty_active_days', 'csat_scale', 'ces_scale', 'alert_grain', 'gone_p_alive'));
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
    ('gone_p_alive', '0.1', 'Customers whose P(alive) is below this are considered gone: cxkpi.win_back_list instead of cxkpi.churn_watch_list.', true);

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
SELECT r.customer_id, c.acquisition_channel, m.as_of, r.first_purchase, r.last_purchase, r.purchases,
       r.total_amount AS historic_value_currency, r.frequency::bigint AS repeat_purchase_days,
       r.recency AS recency_weeks, r.t AS age_weeks, r.monetary_value AS avg_repeat_value_currency,
       s.p_alive, s.expected_purchases_52w, s.churn_probability_13w, s.churn_risk_13w, s.clv_52w_currency,
       s.clv_if_alive_52w_currency, s.clv_if_alive_52w_currency * (1 - s.p_alive) AS value_at_stake_52w_currency,
       r.t - r.recency AS weeks_since_last_purchase,
       r.total_amount::double precision * 0.5 ^ ((r.t - r.recency) / 52) AS win_back_score_currency
FROM cxkpi.customer_rfm AS r
JOIN cxkpi.customers AS c USING (customer_id)
CROSS JOIN cxkpi.clv_models AS m
CROSS JOIN LATERAL cxkpi.customer_score(m.bgnbd, m.gamma_gamma, r.frequency, r.recency, r.t,
                                        r.monetary_value::double precision) AS s
WITH NO DATA;
CREATE UNIQUE INDEX customer_scores_key ON cxkpi.customer_scores (customer_id);
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
       s.p_alive < (SELECT cxkpi.setting('gone_p_alive')::double precision) AS gone
FROM cxkpi.customer_scores AS s;
COMMENT ON VIEW cxkpi.customer_value IS
    'Per customer, as scored at the last refresh: RFM in weeks, historic value, P(alive), expected purchases, discounted CLV, CLV if still alive and value at stake over 52 weeks, probability and risk band of no purchase in 13 weeks, and whether the model considers the customer gone (BG/NBD + Gamma-Gamma fitted over all customers).';
COMMENT ON COLUMN cxkpi.customer_value.clv_if_alive_52w_currency IS 'What the customer is expected to spend over the next 52 weeks if still active (clv_52w_currency / p_alive, computed directly), discounted 1 % per month.';
COMMENT ON COLUMN cxkpi.customer_value.value_at_stake_52w_currency IS 'Value still at stake: clv_if_alive_52w_currency - clv_52w_currency = clv_if_alive_52w_currency * (1 - p_alive).';
COMMENT ON COLUMN cxkpi.customer_value.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.gone IS 'True when p_alive is below the setting gone_p_alive (default 0.1): the model considers the customer gone (win-back list).';
CREATE VIEW cxkpi.churn_watch_list AS
SELECT row_number() OVER (ORDER BY s.value_at_stake_52w_currency DESC, s.customer_id) AS watch_rank,
       s.customer_id, s.acquisition_channel, lm.tier AS loyalty_tier, s.as_of, s.purchases, s.historic_value_currency,
       s.first_purchase, s.last_purchase, s.weeks_since_last_purchase, s.p_alive, s.churn_probability_13w,
       s.churn_risk_13w, s.clv_52w_currency, s.clv_if_alive_52w_currency, s.value_at_stake_52w_currency
FROM cxkpi.customer_scores AS s
LEFT JOIN cxkpi.loyalty_members AS lm USING (customer_id)
WHERE s.p_alive >= (SELECT cxkpi.setting('gone_p_alive')::double precision)
  AND s.value_at_stake_52w_currency > 0
ORDER BY watch_rank;
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
SELECT row_number() OVER (ORDER BY s.win_back_score_currency DESC, s.customer_id) AS win_back_rank,
       s.customer_id, s.acquisition_channel, lm.tier AS loyalty_tier, s.as_of, s.purchases, s.historic_value_currency,
       s.first_purchase, s.last_purchase, s.weeks_since_last_purchase, s.p_alive, s.win_back_score_currency
FROM cxkpi.customer_scores AS s
LEFT JOIN cxkpi.loyalty_members AS lm USING (customer_id)
WHERE s.p_alive < (SELECT cxkpi.setting('gone_p_alive')::double precision)
ORDER BY win_back_rank;
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
