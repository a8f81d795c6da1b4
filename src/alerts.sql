-- Threshold-breach alerting driven by triggers (docs/alerts.md).
--
-- Statement-level AFTER triggers with transition tables on the fact tables turn each statement's
-- rows into per-KPI contributions for the periods of the alert grain (setting alert_grain):
-- summaries (nps_summary, csat_summary, ces_summary) and exact numeric numerators and
-- denominators.  cxkpi.alert_apply merges them into the running state of each (kpi, breakdown,
-- dimension, period) in cxkpi.alert_state, recomputes the touched values, compares them with
-- cxkpi.kpi_targets (cxkpi.kpi_status plus a recovery margin) and records every change of level
-- to or from red or yellow in the outbox cxkpi.alerts, with a pg_notify wake-up at commit.
--
-- KPIs that come from periodic rollups (retention, churn, loyalty, returns, percentiles, ...)
-- are evaluated by cxkpi.check_thresholds(), which also rebuilds the trigger-driven states from
-- the fact tables.

-------------------------------------------------------------------------------------------------
-- State and outbox
-------------------------------------------------------------------------------------------------

-- One row per (KPI, breakdown, dimension, period of the alert grain): the running state.
CREATE TABLE cxkpi.alert_state (
    kpi           text NOT NULL REFERENCES cxkpi.kpi_definitions ON UPDATE CASCADE,
    breakdown     text NOT NULL,
    dimension     text NOT NULL,
    grain         text NOT NULL CHECK (grain IN ('day', 'week', 'month', 'quarter', 'year')),
    period_start  date NOT NULL,
    source        text NOT NULL CHECK (source IN ('trigger', 'rollup')),
    nps           @extschema@.nps_summary,
    csat          @extschema@.csat_summary,
    ces           @extschema@.ces_summary,
    numerator     numeric NOT NULL DEFAULT 0,
    denominator   numeric NOT NULL DEFAULT 0,
    sample_size   bigint NOT NULL DEFAULT 0,
    value         double precision,
    level         text NOT NULL DEFAULT 'insufficient data'
        CHECK (level IN ('green', 'yellow', 'red', 'insufficient data', 'no target')),
    level_since   timestamptz NOT NULL DEFAULT now(),
    evaluated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kpi, breakdown, dimension, grain, period_start)
);
COMMENT ON TABLE cxkpi.alert_state IS
    'Alerting: the running state of every KPI, breakdown and period of the alert grain (summaries, numerator, denominator, value, level). Maintained by the fact-table triggers and cxkpi.check_thresholds(); not for direct writes.';

-- The outbox: one row per change of level to or from red or yellow.
CREATE TABLE cxkpi.alerts (
    alert_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raised_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    kpi             text NOT NULL,
    breakdown       text NOT NULL,
    dimension       text NOT NULL,
    grain           text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    level           text NOT NULL CHECK (level IN ('green', 'yellow', 'red', 'insufficient data', 'no target')),
    previous_level  text NOT NULL,
    value           double precision,
    threshold       double precision,
    target          double precision,
    sample_size     bigint NOT NULL,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    delivered_at    timestamptz
);
CREATE INDEX alerts_open ON cxkpi.alerts (kpi, breakdown, dimension, grain, period_start) WHERE resolved_at IS NULL;
CREATE INDEX alerts_undelivered ON cxkpi.alerts (alert_id) WHERE delivered_at IS NULL;
COMMENT ON TABLE cxkpi.alerts IS
    'Alert outbox: one row per change of a KPI''s level to or from red or yellow (a breach, an escalation, a recovery), never one per insert. Consumers take undelivered rows with SELECT ... FOR UPDATE SKIP LOCKED and set delivered_at.';
COMMENT ON COLUMN cxkpi.alerts.alert_id IS 'Identity; also in the pg_notify payload.';
COMMENT ON COLUMN cxkpi.alerts.raised_at IS 'When the level changed (clock time of the statement that changed it).';
COMMENT ON COLUMN cxkpi.alerts.kpi IS 'KPI key (cxkpi.kpi_definitions).';
COMMENT ON COLUMN cxkpi.alerts.breakdown IS 'Breakdown: total, channel, device, app_store or dimension.';
COMMENT ON COLUMN cxkpi.alerts.dimension IS 'Value of the breakdown (all for the total).';
COMMENT ON COLUMN cxkpi.alerts.grain IS 'Alert grain of the period (setting alert_grain).';
COMMENT ON COLUMN cxkpi.alerts.period_start IS 'First day of the period evaluated.';
COMMENT ON COLUMN cxkpi.alerts.period_end IS 'Last day of the period evaluated.';
COMMENT ON COLUMN cxkpi.alerts.level IS 'New level: red, yellow, green, insufficient data or no target.';
COMMENT ON COLUMN cxkpi.alerts.previous_level IS 'Level before the change.';
COMMENT ON COLUMN cxkpi.alerts.value IS 'KPI value that caused the change, in the KPI''s unit.';
COMMENT ON COLUMN cxkpi.alerts.threshold IS 'Threshold crossed: of the new level for a breach, of the previous level for a recovery.';
COMMENT ON COLUMN cxkpi.alerts.target IS 'KPI target at the time.';
COMMENT ON COLUMN cxkpi.alerts.sample_size IS 'Observations behind the value.';
COMMENT ON COLUMN cxkpi.alerts.acknowledged_at IS 'Set by cxkpi.acknowledge_alert(alert_id).';
COMMENT ON COLUMN cxkpi.alerts.resolved_at IS 'Set when the level of the same KPI, breakdown and period changes again.';
COMMENT ON COLUMN cxkpi.alerts.delivered_at IS 'Set by the consumer that delivered the alert (outbox pattern).';

SELECT pg_catalog.pg_extension_config_dump('cxkpi.alert_state', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.alerts_alert_id_seq', '');

-------------------------------------------------------------------------------------------------
-- Levels
-------------------------------------------------------------------------------------------------

-- The level of a value with hysteresis: cxkpi.kpi_status, except that a red level stays red
-- until the value is better than the red threshold by recovery_margin, and a red or yellow level
-- stays (at least) yellow until it is better than the yellow threshold by the margin.
CREATE FUNCTION cxkpi.alert_level(direction text, value double precision, sample_size bigint,
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
    IF raw = 'green' AND yellow_threshold IS NOT NULL
       AND sgn * value < sgn * yellow_threshold + recovery_margin THEN
        RETURN 'yellow';
    END IF;
    RETURN raw;
END $$;
COMMENT ON FUNCTION cxkpi.alert_level(text, double precision, bigint, double precision, double precision, double precision, bigint, double precision, text) IS
    'Alert level of a KPI value: cxkpi.kpi_status with hysteresis (a red or yellow level recovers only when the value is better than its threshold by recovery_margin).';

-- The value of a trigger-driven KPI from its running state (the same formulas as cxkpi.kpi_values).
CREATE FUNCTION cxkpi.alert_value(kpi text, nps @extschema@.nps_summary, csat @extschema@.csat_summary,
                                  ces @extschema@.ces_summary, numerator numeric, denominator numeric)
    RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN kpi = 'nps' THEN @extschema@.nps(nps)
        WHEN kpi IN ('csat', 'app_rating') THEN @extschema@.csat_mean(csat)
        WHEN kpi = 'csat_satisfied_pct' THEN @extschema@.csat(csat)
        WHEN kpi = 'ces' THEN @extschema@.ces(ces)
        WHEN denominator = 0 THEN NULL
        WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate', 'cart_recovery_rate', 'resolution_rate',
                     'first_contact_resolution_rate') THEN (100 * numerator / denominator)::double precision
        ELSE (numerator / denominator)::double precision
    END $$;
COMMENT ON FUNCTION cxkpi.alert_value(text, @extschema@.nps_summary, @extschema@.csat_summary, @extschema@.ces_summary, numeric, numeric) IS
    'Value of a trigger-driven KPI from its running alert state.';

-------------------------------------------------------------------------------------------------
-- Contributions of fact rows
-------------------------------------------------------------------------------------------------

-- One contribution of a statement to one alert state.
CREATE TYPE cxkpi.alert_delta AS (
    kpi          text,
    breakdown    text,
    dimension    text,
    period_start date,
    nps          @extschema@.nps_summary,
    csat         @extschema@.csat_summary,
    ces          @extschema@.ces_summary,
    numerator    numeric,
    denominator  numeric,
    sample_size  bigint,
    recompute    boolean
);
COMMENT ON TYPE cxkpi.alert_delta IS 'Internal: one statement''s contribution to one alert state.';

-- The SQL that turns rows of fact table `fact`, given as the query `src` with the table's
-- columns plus `sign` (1 for added rows, -1 for removed rows), into cxkpi.alert_delta rows
-- aggregated per state.  The same SQL serves the triggers (src reads the transition tables)
-- and cxkpi.check_thresholds() (src reads the whole table), so both compute the same states.
-- Removed survey and rating rows cannot be subtracted from a summary: they mark their states
-- for recomputation from the table instead.
CREATE FUNCTION cxkpi.alert_contributions_sql(fact text, src text) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
    grain CONSTANT text := quote_literal(cxkpi.setting('alert_grain'));
    -- period of a timestamptz column in the configured time zone and alert grain (settings are
    -- written into the SQL as constants: nothing is looked up per row)
    per CONSTANT text := format('date_trunc(%s, (%%s AT TIME ZONE %s)::date::timestamp)::date',
                                grain, quote_literal(cxkpi.setting('time_zone')));
    -- Additive KPIs.  Rows are first summed per (dimension, period) in one pass (query a, with
    -- columns dimension, period_start and the sums named in the unpivot list); the totals are
    -- then summed from those few groups, and each group is unpivoted into one row per KPI.
    additive CONSTANT text := $$
WITH a AS (%1$s),
t AS (SELECT %2$L AS breakdown, a.* FROM a
      UNION ALL
      SELECT 'total', 'all', period_start, %3$s FROM a GROUP BY period_start)
SELECT (k.kpi, t.breakdown, t.dimension, t.period_start, NULL, NULL, NULL, k.num, k.den, k.n, false)::cxkpi.alert_delta
FROM t CROSS JOIN LATERAL (VALUES %4$s) AS k(kpi, num, den, n)$$;
    csat_scale CONSTANT integer := cxkpi.setting('csat_scale')::integer;
    ces_scale CONSTANT integer := cxkpi.setting('ces_scale')::integer;
BEGIN
    CASE fact
    WHEN 'survey_responses' THEN
        -- one summary per (survey, channel, period); totals by rollup(); one row per KPI
        RETURN format($$
WITH a AS (
    SELECT s.survey, s.channel, %1$s AS period_start,
           @extschema@.nps_agg(s.score) FILTER (WHERE s.survey = 'nps' AND s.sign > 0) AS nps,
           @extschema@.csat_agg(s.score, s.scale) FILTER (WHERE s.survey = 'csat' AND s.sign > 0) AS csat,
           @extschema@.ces_agg(s.score, s.scale) FILTER (WHERE s.survey = 'ces' AND s.sign > 0) AS ces,
           sum(s.sign) AS n, bool_or(s.sign < 0) AS recompute
    FROM (%2$s) AS s
    WHERE s.survey = 'nps' OR (s.survey = 'csat' AND s.scale = %3$s) OR (s.survey = 'ces' AND s.scale = %4$s)
    GROUP BY 1, 2, 3),
t AS (
    SELECT survey, 'channel' AS breakdown, channel AS dimension, period_start, nps, csat, ces, n, recompute FROM a
    UNION ALL
    SELECT survey, 'total', 'all', period_start, @extschema@.rollup(nps), @extschema@.rollup(csat),
           @extschema@.rollup(ces), sum(n), bool_or(recompute)
    FROM a GROUP BY survey, period_start)
SELECT (k.kpi, t.breakdown, t.dimension, t.period_start, t.nps, t.csat, t.ces, 0, 0, t.n::bigint, t.recompute)::cxkpi.alert_delta
FROM t JOIN (VALUES ('nps', 'nps'), ('csat', 'csat'), ('csat', 'csat_satisfied_pct'), ('ces', 'ces')) AS k(survey, kpi)
  ON k.survey = t.survey$$, format(per, 's.responded_at'), src, csat_scale, ces_scale);
    WHEN 'app_ratings' THEN
        RETURN format($$
WITH a AS (
    SELECT s.app_store, %1$s AS period_start,
           @extschema@.csat_agg(s.rating, 5) FILTER (WHERE s.sign > 0) AS csat,
           sum(s.sign) AS n, bool_or(s.sign < 0) AS recompute
    FROM (%2$s) AS s GROUP BY 1, 2),
t AS (
    SELECT 'app_store' AS breakdown, app_store AS dimension, period_start, csat, n, recompute FROM a
    UNION ALL
    SELECT 'total', 'all', period_start, @extschema@.rollup(csat), sum(n), bool_or(recompute) FROM a GROUP BY period_start)
SELECT ('app_rating', t.breakdown, t.dimension, t.period_start, NULL, t.csat, NULL, 0, 0, t.n::bigint, t.recompute)::cxkpi.alert_delta
FROM t$$, format(per, 's.rated_at'), src);
    WHEN 'web_sessions' THEN
        RETURN format(additive, format($$
SELECT s.device AS dimension, %s AS period_start, sum(s.sign * s.converted::int) AS conv, sum(s.sign) AS visits
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.started_at'), src),
            'device', 'sum(conv), sum(visits)', $$('conversion_rate', conv, visits, visits)$$);
    WHEN 'store_traffic' THEN
        RETURN format(additive, format($$
SELECT 'store'::text AS dimension, date_trunc(%s, s.visit_date::timestamp)::date AS period_start,
       0::numeric AS conv, sum(s.sign * s.visitors) AS visits
FROM (%s) AS s GROUP BY 1, 2$$, grain, src),
            'device', 'sum(conv), sum(visits)', $$('conversion_rate', conv, visits, visits)$$);
    WHEN 'orders' THEN
        -- AOV per channel; store orders are also the conversions of the 'store' device
        RETURN '(' || format(additive, format($$
SELECT s.channel AS dimension, %s AS period_start, sum(s.sign * (s.gross_value - s.discount)) AS net_value,
       sum(s.sign) AS orders
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.ordered_at'), src),
            'channel', 'sum(net_value), sum(orders)', $$('aov', net_value, orders, orders)$$)
            || ') UNION ALL (' || format(additive, format($$
SELECT 'store'::text AS dimension, %s AS period_start, sum(s.sign) AS conv, 0::numeric AS visits
FROM (%s) AS s WHERE s.channel = 'store' GROUP BY 1, 2$$, format(per, 's.ordered_at'), src),
            'device', 'sum(conv), sum(visits)', $$('conversion_rate', conv, visits, visits)$$) || ')';
    WHEN 'carts' THEN
        RETURN format(additive, format($$
SELECT s.device AS dimension, %s AS period_start, sum(s.sign) AS carts,
       sum(s.sign * (s.converted_at IS NULL)::int) AS abandoned, sum(s.sign * (s.recovered_at IS NOT NULL)::int) AS recovered
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.created_at'), src),
            'device', 'sum(carts), sum(abandoned), sum(recovered)',
            $$('cart_abandonment_rate', abandoned, carts, carts), ('cart_recovery_rate', recovered, abandoned, abandoned)$$);
    WHEN 'support_tickets' THEN
        RETURN format(additive, format($$
SELECT s.channel AS dimension, %s AS period_start, sum(s.sign) AS tickets,
       sum(s.sign * coalesce(extract(epoch FROM s.first_response_at - s.created_at) / 3600, 0)) AS hours,
       sum(s.sign * (s.first_response_at IS NOT NULL)::int) AS responded,
       sum(s.sign * (s.resolved_at IS NOT NULL)::int) AS resolved,
       sum(s.sign * (s.resolved_at IS NOT NULL AND s.contacts_to_resolve = 1 AND NOT s.reopened)::int) AS fcr
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.created_at'), src),
            'channel', 'sum(tickets), sum(hours), sum(responded), sum(resolved), sum(fcr)',
            $$('response_time_hours', hours, responded, responded), ('resolution_rate', resolved, tickets, tickets),
              ('first_contact_resolution_rate', fcr, resolved, resolved)$$);
    WHEN 'metric_observations' THEN
        -- per KPI: the unpivot list has one entry and the KPI is a grouping column
        RETURN format($$
WITH a AS (
    SELECT s.kpi, s.dimension, %s AS period_start, sum(s.sign * s.value::numeric * s.weight::numeric) AS num,
           sum(s.sign * s.weight::numeric) AS den, sum(s.sign) AS n
    FROM (%s) AS s GROUP BY 1, 2, 3),
t AS (
    SELECT kpi, 'dimension' AS breakdown, dimension, period_start, num, den, n FROM a WHERE dimension <> ''
    UNION ALL
    SELECT kpi, 'total', 'all', period_start, sum(num), sum(den), sum(n) FROM a GROUP BY kpi, period_start)
SELECT (t.kpi, t.breakdown, t.dimension, t.period_start, NULL, NULL, NULL, t.num, t.den, t.n::bigint, false)::cxkpi.alert_delta
FROM t$$, format(per, 's.observed_at'), src);
    ELSE
        RAISE EXCEPTION 'no alert contributions for table "%"', fact USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END $f$;
COMMENT ON FUNCTION cxkpi.alert_contributions_sql(text, text) IS
    'Internal: the SQL that turns fact rows (with a sign column) into alert state contributions, shared by the triggers and cxkpi.check_thresholds().';

-- The fact tables whose triggers feed the alert states, and the KPIs they feed (besides the
-- KPIs whose source is metric_observations).
CREATE FUNCTION cxkpi.alert_fact_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['survey_responses', 'app_ratings', 'web_sessions', 'store_traffic', 'orders', 'carts',
                       'support_tickets', 'metric_observations'] $$;
COMMENT ON FUNCTION cxkpi.alert_fact_tables() IS 'The fact tables whose triggers feed the alert states.';
CREATE FUNCTION cxkpi.alert_trigger_kpis() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['nps', 'csat', 'csat_satisfied_pct', 'ces', 'app_rating', 'conversion_rate', 'aov',
                       'cart_abandonment_rate', 'cart_recovery_rate', 'response_time_hours', 'resolution_rate',
                       'first_contact_resolution_rate'] $$;
COMMENT ON FUNCTION cxkpi.alert_trigger_kpis() IS
    'The KPIs evaluated as data arrives (with the metric_observations KPIs); the others are evaluated by cxkpi.check_thresholds().';

-------------------------------------------------------------------------------------------------
-- Merging contributions and evaluating states
-------------------------------------------------------------------------------------------------

-- Adds contributions to the running states, in key order (so that concurrent statements lock
-- shared states in the same order), and returns the keys touched with their recompute flag.
-- Like alert_evaluate it runs once per statement: a generic plan saves the re-planning that
-- the plan cache would otherwise do for every call (half of the per-statement cost).
CREATE FUNCTION cxkpi.alert_merge(deltas cxkpi.alert_delta[]) RETURNS cxkpi.alert_delta[]
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    touched cxkpi.alert_delta[];
BEGIN
    WITH d AS (
        SELECT kpi, breakdown, dimension, period_start, @extschema@.rollup(nps) AS nps,
               @extschema@.rollup(csat) AS csat, @extschema@.rollup(ces) AS ces, sum(numerator) AS numerator,
               sum(denominator) AS denominator, sum(sample_size)::bigint AS sample_size,
               coalesce(bool_or(recompute), false) AS recompute
        FROM unnest(deltas) GROUP BY 1, 2, 3, 4),
    up AS (
        INSERT INTO cxkpi.alert_state AS s (kpi, breakdown, dimension, grain, period_start, source, nps, csat, ces,
                                            numerator, denominator, sample_size)
        SELECT kpi, breakdown, dimension, g, period_start, 'trigger', nps, csat, ces, numerator, denominator,
               sample_size
        FROM d
        WHERE numerator <> 0 OR denominator <> 0 OR sample_size <> 0 OR nps IS NOT NULL OR csat IS NOT NULL
           OR ces IS NOT NULL OR recompute
        ORDER BY kpi, breakdown, dimension, period_start
        ON CONFLICT (kpi, breakdown, dimension, grain, period_start) DO UPDATE
            SET nps = @extschema@.merge(s.nps, excluded.nps), csat = @extschema@.merge(s.csat, excluded.csat),
                ces = @extschema@.merge(s.ces, excluded.ces), numerator = s.numerator + excluded.numerator,
                denominator = s.denominator + excluded.denominator,
                sample_size = s.sample_size + excluded.sample_size, source = 'trigger'
        RETURNING s.kpi, s.breakdown, s.dimension, s.period_start)
    SELECT array_agg((up.kpi, up.breakdown, up.dimension, up.period_start, NULL, NULL, NULL, NULL, NULL, NULL,
                      d.recompute)::cxkpi.alert_delta)
      INTO touched
      FROM up JOIN d USING (kpi, breakdown, dimension, period_start);
    RETURN touched;
END $$;
COMMENT ON FUNCTION cxkpi.alert_merge(cxkpi.alert_delta[]) IS
    'Internal: adds contributions to cxkpi.alert_state and returns the keys touched.';

-- The contributions of a whole fact table (restricted to the given keys when keys is not NULL).
CREATE FUNCTION cxkpi.alert_table_contributions(fact text, keys cxkpi.alert_delta[] DEFAULT NULL)
    RETURNS cxkpi.alert_delta[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fresh cxkpi.alert_delta[];
BEGIN
    EXECUTE format('SELECT array_agg(c) FROM (%s) AS q(c)',
                   cxkpi.alert_contributions_sql(fact, format('SELECT 1 AS sign, f.* FROM cxkpi.%I AS f', fact)))
       INTO fresh;
    IF keys IS NOT NULL THEN
        SELECT array_agg(f) INTO fresh FROM unnest(fresh) AS f
        WHERE (f.kpi, f.breakdown, f.dimension, f.period_start) IN (
            SELECT k.kpi, k.breakdown, k.dimension, k.period_start FROM unnest(keys) AS k);
    END IF;
    RETURN fresh;
END $$;
COMMENT ON FUNCTION cxkpi.alert_table_contributions(text, cxkpi.alert_delta[]) IS
    'Internal: the alert contributions of a whole fact table.';

-- Evaluates the given states (every state of the alert grain when keys is NULL): value, level
-- against the target row valid for the period (cxkpi.alert_level), and, for every change of
-- level to or from red or yellow, one row in cxkpi.alerts, the resolution of the previous open
-- alert of that state, and a notification.  The callers hold the state rows' locks (they have
-- just written them), so concurrent statements evaluate one state one after the other.
CREATE FUNCTION cxkpi.alert_evaluate(keys cxkpi.alert_delta[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
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
            LEFT JOIN LATERAL (
                SELECT kt.target, kt.red_threshold, kt.yellow_threshold, kt.min_sample_size, kt.recovery_margin
                FROM cxkpi.kpi_targets AS kt
                WHERE kt.kpi = s.kpi AND kt.enabled AND kt.dimension IN (s.dimension, '')
                  AND kt.valid_from <= s.period_start
                ORDER BY kt.dimension = '', kt.valid_from DESC
                LIMIT 1) AS t ON true),
        u AS (
            UPDATE cxkpi.alert_state AS st
               SET value = e.new_value, level = e.new_level, evaluated_at = clock_timestamp(),
                   level_since = CASE WHEN e.new_level <> st.level THEN clock_timestamp() ELSE st.level_since END
              FROM e
             WHERE st.kpi = e.kpi AND st.breakdown = e.breakdown AND st.dimension = e.dimension
               AND st.grain = g AND st.period_start = e.period_start
            RETURNING e.*)
        SELECT * FROM u
        WHERE u.new_level <> u.previous_level
          AND (u.new_level IN ('red', 'yellow') OR u.previous_level IN ('red', 'yellow'))
        ORDER BY u.kpi, u.breakdown, u.dimension, u.period_start
    LOOP
        UPDATE cxkpi.alerts SET resolved_at = clock_timestamp()
         WHERE kpi = c.kpi AND breakdown = c.breakdown AND dimension = c.dimension AND grain = g
           AND period_start = c.period_start AND resolved_at IS NULL;
        INSERT INTO cxkpi.alerts (kpi, breakdown, dimension, grain, period_start, period_end, level,
                                  previous_level, value, threshold, target, sample_size, resolved_at)
        VALUES (c.kpi, c.breakdown, c.dimension, g, c.period_start,
                (cxkpi.period_bounds(g, c.period_start)).period_end, c.new_level, c.previous_level, c.new_value,
                CASE WHEN c.new_level = 'red' OR (c.new_level <> 'yellow' AND c.previous_level = 'red')
                     THEN c.red_threshold ELSE c.yellow_threshold END,
                c.target, c.sample_size,
                CASE WHEN c.new_level NOT IN ('red', 'yellow') THEN clock_timestamp() END)
        RETURNING * INTO a;
        PERFORM pg_notify('cxkpi_alerts', json_build_object(
                    'alert_id', a.alert_id, 'kpi', a.kpi, 'breakdown', a.breakdown, 'dimension', a.dimension,
                    'period_start', a.period_start, 'level', a.level, 'previous_level', a.previous_level,
                    'value', a.value)::text);
        raised := raised + 1;
    END LOOP;
    RETURN raised;
END $$;
COMMENT ON FUNCTION cxkpi.alert_evaluate(cxkpi.alert_delta[]) IS
    'Internal: evaluates alert states (all when NULL) and records level changes in cxkpi.alerts.';

-- Merges one statement's contributions into the running states and evaluates them.  Runs as
-- the extension owner (fact writers cannot write states or alerts) and only inside a trigger.
-- Removed survey or rating rows cannot be subtracted from a summary: their states are rebuilt
-- from the table.
CREATE FUNCTION cxkpi.alert_apply(deltas cxkpi.alert_delta[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    touched cxkpi.alert_delta[];
    redo cxkpi.alert_delta[];
BEGIN
    IF pg_trigger_depth() < 1 THEN
        RAISE EXCEPTION 'cxkpi.alert_apply can only be called by the alerting triggers'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Call cxkpi.check_thresholds() to evaluate the alert states on demand.';
    END IF;
    touched := cxkpi.alert_merge(deltas);
    SELECT array_agg(x) INTO redo FROM unnest(touched) AS x WHERE x.recompute;
    IF redo IS NOT NULL THEN
        UPDATE cxkpi.alert_state AS s SET nps = NULL, csat = NULL, ces = NULL, sample_size = 0
         WHERE s.grain = g AND (s.kpi, s.breakdown, s.dimension, s.period_start) IN (
                   SELECT r.kpi, r.breakdown, r.dimension, r.period_start FROM unnest(redo) AS r);
        PERFORM cxkpi.alert_merge(cxkpi.alert_table_contributions('survey_responses', redo));
        PERFORM cxkpi.alert_merge(cxkpi.alert_table_contributions('app_ratings', redo));
    END IF;
    RETURN cxkpi.alert_evaluate(touched);
END $$;
COMMENT ON FUNCTION cxkpi.alert_apply(cxkpi.alert_delta[]) IS
    'Internal: merges one statement''s contributions into cxkpi.alert_state and evaluates the touched states (alerting triggers only).';

-- Recomputes every trigger-driven state from the fact tables (the levels are kept, for the
-- recovery margin).
CREATE FUNCTION cxkpi.alert_rebuild() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text;
BEGIN
    UPDATE cxkpi.alert_state
       SET nps = NULL, csat = NULL, ces = NULL, numerator = 0, denominator = 0, sample_size = 0
     WHERE source = 'trigger';
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        PERFORM cxkpi.alert_merge(cxkpi.alert_table_contributions(t));
    END LOOP;
END $$;
COMMENT ON FUNCTION cxkpi.alert_rebuild() IS
    'Internal: recomputes every trigger-driven alert state from the fact tables.';

-------------------------------------------------------------------------------------------------
-- The triggers
-------------------------------------------------------------------------------------------------

-- TRUNCATE has no transition table: the states are rebuilt from the tables and evaluated.
CREATE FUNCTION cxkpi.alert_truncate_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM cxkpi.alert_rebuild();
    PERFORM cxkpi.alert_evaluate(NULL);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_truncate_trigger() IS
    'TRUNCATE trigger of the fact tables: rebuilds and evaluates the alert states.';

-- Statement-level AFTER trigger of every fact table: the statement's rows (transition tables:
-- new_rows, old_rows), signed, become contributions that cxkpi.alert_apply merges.  Runs as the
-- invoker with a pinned search_path.
CREATE FUNCTION cxkpi.alert_trigger() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    src text;
    deltas cxkpi.alert_delta[];
BEGIN
    src := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows AS o'
        ELSE 'SELECT 1 AS sign, n.* FROM new_rows AS n UNION ALL SELECT -1, o.* FROM old_rows AS o' END;
    EXECUTE format('SELECT array_agg(c) FROM (%s) AS q(c)', cxkpi.alert_contributions_sql(TG_TABLE_NAME, src))
       INTO deltas;
    IF deltas IS NOT NULL THEN
        PERFORM cxkpi.alert_apply(deltas);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_trigger() IS
    'Statement-level trigger of the fact tables: merges the statement''s rows into the alert states.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        EXECUTE format('CREATE TRIGGER alert_insert AFTER INSERT ON cxkpi.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_trigger()', t);
        EXECUTE format('CREATE TRIGGER alert_update AFTER UPDATE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_trigger()', t);
        EXECUTE format('CREATE TRIGGER alert_delete AFTER DELETE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_trigger()', t);
        EXECUTE format('CREATE TRIGGER alert_truncate AFTER TRUNCATE ON cxkpi.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_truncate_trigger()', t);
    END LOOP;
END $$;

-------------------------------------------------------------------------------------------------
-- User-facing functions and view
-------------------------------------------------------------------------------------------------

-- Rebuilds every trigger-driven state from the fact tables, loads the rollup-driven KPIs of the
-- alert grain from cxkpi.kpi_values (refresh the dashboard first for fresh values), and
-- evaluates everything.  Returns the number of alerts raised.
CREATE FUNCTION cxkpi.check_thresholds() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    t text;
BEGIN
    -- No fact write may run meanwhile: a concurrent statement's contribution would be counted
    -- twice or not at all.  SHARE mode waits for running writers and blocks new ones until commit.
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        EXECUTE format('LOCK TABLE cxkpi.%I IN SHARE MODE', t);
    END LOOP;
    -- states of another grain (after a change of alert_grain) are dropped
    DELETE FROM cxkpi.alert_state WHERE grain <> g;
    PERFORM cxkpi.alert_rebuild();
    -- rollup-driven KPIs that have a red or yellow threshold, from the dashboard's rollups
    INSERT INTO cxkpi.alert_state AS s (kpi, breakdown, dimension, grain, period_start, source,
                                        numerator, denominator, sample_size, value)
    SELECT v.kpi, v.breakdown, v.dimension, g, v.period_start, 'rollup',
           coalesce(v.numerator, 0)::numeric, coalesce(v.denominator, 0)::numeric, coalesce(v.sample_size, 0),
           v.value
    FROM cxkpi.kpi_values AS v
    WHERE v.grain = g
      AND v.kpi <> ALL (cxkpi.alert_trigger_kpis())
      AND v.kpi NOT IN (SELECT kpi FROM cxkpi.kpi_definitions WHERE source = 'metric_observations')
      AND EXISTS (SELECT 1 FROM cxkpi.kpi_targets AS kt WHERE kt.kpi = v.kpi AND kt.enabled
                  AND (kt.red_threshold IS NOT NULL OR kt.yellow_threshold IS NOT NULL))
    ORDER BY 1, 2, 3, 5
    ON CONFLICT (kpi, breakdown, dimension, grain, period_start) DO UPDATE
        SET numerator = excluded.numerator, denominator = excluded.denominator,
            sample_size = excluded.sample_size, value = excluded.value, source = 'rollup';
    RETURN cxkpi.alert_evaluate(NULL);
END $$;
COMMENT ON FUNCTION cxkpi.check_thresholds() IS
    'Rebuilds every alert state from the fact tables and cxkpi.kpi_values (retention and other rollup KPIs: refresh the dashboard first), evaluates all of them and returns the number of alerts raised.';

-- Switches the alerting triggers off (bulk loads) or on.  Switching on rebuilds the states
-- with cxkpi.check_thresholds(), since rows loaded meanwhile are not in them.
CREATE FUNCTION cxkpi.set_alerting(enabled boolean) RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        EXECUTE format('ALTER TABLE cxkpi.%I %s TRIGGER alert_insert, %2$s TRIGGER alert_update, '
                       '%2$s TRIGGER alert_delete, %2$s TRIGGER alert_truncate',
                       t, CASE WHEN enabled THEN 'ENABLE' ELSE 'DISABLE' END);
    END LOOP;
    IF enabled THEN
        RETURN cxkpi.check_thresholds();
    END IF;
    RETURN 0;
END $$;
COMMENT ON FUNCTION cxkpi.set_alerting(boolean) IS
    'Switches the alerting triggers off (for bulk loads) or on; switching on runs cxkpi.check_thresholds() and returns the alerts it raised.';

-- Whether the alerting triggers are on (all of them).
CREATE FUNCTION cxkpi.alerting_enabled() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT bool_and(tg.tgenabled <> 'D')
    FROM pg_catalog.pg_trigger AS tg
    WHERE tg.tgrelid IN (SELECT format('cxkpi.%I', t)::regclass FROM unnest(cxkpi.alert_fact_tables()) AS t)
      AND tg.tgname IN ('alert_insert', 'alert_update', 'alert_delete', 'alert_truncate') $$;
COMMENT ON FUNCTION cxkpi.alerting_enabled() IS 'True when the alerting triggers are on.';

-- Marks an alert as acknowledged (once; returns false if it was already acknowledged).
CREATE FUNCTION cxkpi.acknowledge_alert(alert_id bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    done boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cxkpi.alerts AS a WHERE a.alert_id = acknowledge_alert.alert_id) THEN
        RAISE EXCEPTION 'alert % does not exist', acknowledge_alert.alert_id USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE cxkpi.alerts AS a SET acknowledged_at = clock_timestamp()
     WHERE a.alert_id = acknowledge_alert.alert_id AND a.acknowledged_at IS NULL;
    GET DIAGNOSTICS done = ROW_COUNT;
    RETURN done;
END $$;
COMMENT ON FUNCTION cxkpi.acknowledge_alert(bigint) IS
    'Acknowledges an alert: sets acknowledged_at (true), or returns false if it was already acknowledged.';

CREATE VIEW cxkpi.current_alerts AS
SELECT a.alert_id, a.raised_at, a.kpi, d.name AS kpi_name, d.unit, a.breakdown, a.dimension, a.grain,
       a.period_start, a.period_end, a.level, a.previous_level, a.value, a.threshold, a.target, a.sample_size,
       a.acknowledged_at, a.acknowledged_at IS NOT NULL AS acknowledged,
       s.value AS current_value, s.sample_size AS current_sample_size
FROM cxkpi.alerts AS a
JOIN cxkpi.kpi_definitions AS d USING (kpi)
LEFT JOIN cxkpi.alert_state AS s USING (kpi, breakdown, dimension, grain, period_start)
WHERE a.resolved_at IS NULL AND a.level IN ('red', 'yellow') AND a.period_end >= cxkpi.as_of();
COMMENT ON VIEW cxkpi.current_alerts IS
    'Open red and yellow alerts of periods that are not over (period_end on or after cxkpi.as_of()), with the current value.';
COMMENT ON COLUMN cxkpi.current_alerts.alert_id IS 'Alert identity (cxkpi.alerts).';
COMMENT ON COLUMN cxkpi.current_alerts.raised_at IS 'When the level changed.';
COMMENT ON COLUMN cxkpi.current_alerts.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.current_alerts.kpi_name IS 'KPI name.';
COMMENT ON COLUMN cxkpi.current_alerts.unit IS 'Unit of value, threshold and target.';
COMMENT ON COLUMN cxkpi.current_alerts.breakdown IS 'Breakdown: total, channel, device, app_store or dimension.';
COMMENT ON COLUMN cxkpi.current_alerts.dimension IS 'Value of the breakdown (all for the total).';
COMMENT ON COLUMN cxkpi.current_alerts.grain IS 'Alert grain.';
COMMENT ON COLUMN cxkpi.current_alerts.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.current_alerts.period_end IS 'Last day of the period.';
COMMENT ON COLUMN cxkpi.current_alerts.level IS 'red or yellow.';
COMMENT ON COLUMN cxkpi.current_alerts.previous_level IS 'Level before the alert.';
COMMENT ON COLUMN cxkpi.current_alerts.value IS 'Value when the alert was raised.';
COMMENT ON COLUMN cxkpi.current_alerts.threshold IS 'Threshold crossed.';
COMMENT ON COLUMN cxkpi.current_alerts.target IS 'Target of the KPI.';
COMMENT ON COLUMN cxkpi.current_alerts.sample_size IS 'Observations behind value.';
COMMENT ON COLUMN cxkpi.current_alerts.acknowledged_at IS 'When it was acknowledged (NULL if not).';
COMMENT ON COLUMN cxkpi.current_alerts.acknowledged IS 'Whether it was acknowledged.';
COMMENT ON COLUMN cxkpi.current_alerts.current_value IS 'Value now (the state may have moved within the margin).';
COMMENT ON COLUMN cxkpi.current_alerts.current_sample_size IS 'Observations now.';

-------------------------------------------------------------------------------------------------
-- Privileges: writers load facts through the triggers; they cannot write states or alerts.
-------------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cxkpi_writer') THEN
        CREATE ROLE cxkpi_writer NOLOGIN;
        COMMENT ON ROLE cxkpi_writer IS 'Loads cxkpi fact tables (alerting triggers run for it); cannot write alert states or alerts directly.';
    END IF;
END $$;
GRANT USAGE ON SCHEMA cxkpi TO cxkpi_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.customers, cxkpi.loyalty_members, cxkpi.orders, cxkpi.order_returns,
    cxkpi.survey_responses, cxkpi.web_sessions, cxkpi.store_traffic, cxkpi.carts, cxkpi.support_tickets,
    cxkpi.app_ratings, cxkpi.metric_observations TO cxkpi_writer;
GRANT SELECT ON cxkpi.alerts, cxkpi.alert_state, cxkpi.current_alerts, cxkpi.settings, cxkpi.kpi_definitions,
    cxkpi.kpi_targets TO cxkpi_writer;
REVOKE ALL ON FUNCTION cxkpi.alert_apply(cxkpi.alert_delta[]), cxkpi.alert_evaluate(cxkpi.alert_delta[]),
    cxkpi.alert_merge(cxkpi.alert_delta[]), cxkpi.alert_table_contributions(text, cxkpi.alert_delta[]),
    cxkpi.alert_rebuild(),
    cxkpi.check_thresholds(), cxkpi.set_alerting(boolean),
    cxkpi.acknowledge_alert(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cxkpi.alert_apply(cxkpi.alert_delta[]), cxkpi.check_thresholds(),
    cxkpi.set_alerting(boolean), cxkpi.acknowledge_alert(bigint) TO cxkpi_writer;
GRANT SELECT ON cxkpi.current_alerts TO cxkpi_reader;
