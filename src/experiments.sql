
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
