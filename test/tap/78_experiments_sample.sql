-- A/B tests on the sample data (docs/experiments.md#the-sample-experiments): the two sample
-- experiments, and cxkpi.experiment_results against plain SQL over the fact tables (the counts,
-- means and shares computed here without the view, then fed to the test functions, whose values
-- test/tap/78_experiments.sql checks against R).
BEGIN;
SET client_min_messages = warning;
SELECT plan(12);

SELECT is((SELECT string_agg(format('%s %s %s', experiment, variant, n), ', ' ORDER BY experiment, variant)
           FROM (SELECT experiment, variant, count(*) AS n FROM cxkpi.experiment_assignments GROUP BY 1, 2) AS q),
          'checkout_redesign control 23982, checkout_redesign one_page_checkout 23657, loyalty_offer control 2451, '
          'loyalty_offer double_points 2400, loyalty_offer welcome_offer 2585',
          'the sample experiments: web sessions of 1 October - 14 November 2025, customers active in the summer');
SELECT is((SELECT string_agg(format('%s %s %s %s', experiment, unit, ends_at IS NULL, primary_metric), ', ' ORDER BY experiment)
           FROM cxkpi.experiments),
          'checkout_redesign session f conversion, loyalty_offer customer t conversion',
          'a session experiment that ended and a customer experiment that runs');

-- Plain SQL: per experiment and variant, the units, the converted units (a session's flag, a
-- customer's order in the window), the orders in the window (count, mean and sample variance of
-- the net value, in numeric), NPS counts and the 5-point CSAT answers.
CREATE TEMP TABLE asg AS
SELECT ea.*, coalesce(e.ends_at, 'infinity') AS until
FROM cxkpi.experiment_assignments AS ea JOIN cxkpi.experiments AS e USING (experiment);
CREATE TEMP TABLE asg_orders AS
SELECT b.experiment, b.variant, b.customer_id, o.gross_value - o.discount AS net
FROM asg AS b JOIN cxkpi.orders AS o ON o.customer_id = b.customer_id AND o.ordered_at >= b.assigned_at AND o.ordered_at < b.until;
CREATE TEMP TABLE asg_answers AS
SELECT b.experiment, b.variant, r.survey, r.score, r.scale
FROM asg AS b JOIN cxkpi.survey_responses AS r ON r.customer_id = b.customer_id AND r.responded_at >= b.assigned_at AND r.responded_at < b.until;
CREATE TEMP TABLE plain AS
SELECT u.experiment, u.variant, u.units, coalesce(cs.converted, 0) + coalesce(cc.converted, 0) AS converted,
       coalesce(o.orders, 0) AS orders, o.aov, o.aov_var, n.nps_net, n.nps_n, c.csat_sat, c.csat_n, c.csat_mean
FROM (SELECT experiment, variant, count(*) AS units FROM asg GROUP BY 1, 2) AS u
LEFT JOIN (SELECT b.experiment, b.variant, count(*) AS converted FROM asg AS b
           JOIN cxkpi.web_sessions AS s USING (session_id) WHERE s.converted GROUP BY 1, 2) AS cs USING (experiment, variant)
LEFT JOIN (SELECT experiment, variant, count(*) AS converted
           FROM (SELECT DISTINCT experiment, variant, customer_id FROM asg_orders) AS d GROUP BY 1, 2) AS cc USING (experiment, variant)
LEFT JOIN (SELECT experiment, variant, count(*) AS orders, avg(net) AS aov, var_samp(net) AS aov_var
           FROM asg_orders GROUP BY 1, 2) AS o USING (experiment, variant)
LEFT JOIN (SELECT experiment, variant, count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6) AS nps_net,
                  count(*) AS nps_n
           FROM asg_answers WHERE survey = 'nps' GROUP BY 1, 2) AS n USING (experiment, variant)
LEFT JOIN (SELECT experiment, variant, count(*) FILTER (WHERE score >= 4) AS csat_sat, count(*) AS csat_n, avg(score) AS csat_mean
           FROM asg_answers WHERE survey = 'csat' AND scale = 5 GROUP BY 1, 2) AS c USING (experiment, variant);
CREATE TEMP VIEW pair AS
SELECT t.experiment, t.variant, t AS v, c AS k
FROM plain AS t JOIN cxkpi.experiments AS e ON e.experiment = t.experiment AND t.variant <> e.control_variant
JOIN plain AS c ON c.experiment = t.experiment AND c.variant = e.control_variant;

SELECT is((SELECT string_agg(format('%s %s %s', experiment, variant, metric), ', ' ORDER BY experiment, variant, metric)
           FROM cxkpi.experiment_results),
          'checkout_redesign one_page_checkout conversion, '
          'loyalty_offer double_points aov, loyalty_offer double_points conversion, loyalty_offer double_points csat_mean, '
          'loyalty_offer double_points csat_share, loyalty_offer double_points nps, '
          'loyalty_offer welcome_offer aov, loyalty_offer welcome_offer conversion, loyalty_offer welcome_offer csat_mean, '
          'loyalty_offer welcome_offer csat_share, loyalty_offer welcome_offer nps',
          'one row per treatment and metric; the session experiment has conversion only');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results AS r JOIN pair AS p USING (experiment, variant)
           WHERE r.metric = 'conversion'
             AND (r.n_variant, r.n_control) = ((p.v).units, (p.k).units)
             AND abs(r.value_variant - 100.0 * (p.v).converted / (p.v).units) < 1e-9
             AND abs(r.value_control - 100.0 * (p.k).converted / (p.k).units) < 1e-9),
          3::bigint, 'conversion: units and converted units as plain SQL counts them');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results AS r JOIN pair AS p USING (experiment, variant)
           CROSS JOIN LATERAL proportion_test((p.v).converted, (p.v).units, (p.k).converted, (p.k).units) AS t
           WHERE r.metric = 'conversion' AND r.difference = t.difference AND r.ci_lower = t.ci_lower
             AND r.ci_upper = t.ci_upper AND r.p_value = t.p_value),
          3::bigint, 'conversion: the difference, interval and p-value of those counts');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results AS r JOIN pair AS p USING (experiment, variant)
           CROSS JOIN LATERAL welch_test((p.v).orders, (p.v).aov::double precision, (p.v).aov_var::double precision,
                                         (p.k).orders, (p.k).aov::double precision, (p.k).aov_var::double precision) AS t
           WHERE r.metric = 'aov' AND (r.n_variant, r.n_control) = ((p.v).orders, (p.k).orders)
             AND abs(r.value_variant - (p.v).aov::double precision) < 1e-9 AND abs(r.value_control - (p.k).aov::double precision) < 1e-9
             AND abs(r.ci_lower - t.ci_lower) < 1e-9 AND abs(r.ci_upper - t.ci_upper) < 1e-9 AND abs(r.p_value - t.p_value) < 1e-12),
          2::bigint, 'aov: orders in the window, mean net value and Welch test as plain SQL (numeric avg, var_samp)');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results AS r JOIN pair AS p USING (experiment, variant)
           WHERE r.metric = 'nps' AND (r.n_variant, r.n_control) = ((p.v).nps_n, (p.k).nps_n)
             AND abs(r.value_variant - 100.0 * (p.v).nps_net / (p.v).nps_n) < 1e-9
             AND abs(r.value_control - 100.0 * (p.k).nps_net / (p.k).nps_n) < 1e-9),
          2::bigint, 'nps: the answers in the window, % promoters - % detractors as plain SQL');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results AS r JOIN pair AS p USING (experiment, variant)
           CROSS JOIN LATERAL proportion_test((p.v).csat_sat, (p.v).csat_n, (p.k).csat_sat, (p.k).csat_n) AS t
           WHERE r.metric = 'csat_share' AND (r.n_variant, r.n_control) = ((p.v).csat_n, (p.k).csat_n)
             AND r.value_variant = t.estimate_a AND r.value_control = t.estimate_b AND r.p_value = t.p_value),
          2::bigint, 'csat_share: 5-point answers in the window, satisfied = 4-5, as plain SQL');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results AS r JOIN pair AS p USING (experiment, variant)
           WHERE r.metric = 'csat_mean' AND abs(r.value_variant - (p.v).csat_mean::double precision) < 1e-9
             AND abs(r.value_control - (p.k).csat_mean::double precision) < 1e-9),
          2::bigint, 'csat_mean: the mean score as plain SQL');
-- What the sample data is made to show (docs/experiments.md#the-sample-experiments).
SELECT is((SELECT string_agg(format('%s %s %s %s', experiment, variant, round(difference::numeric, 2), significant), ', '
                             ORDER BY experiment, variant)
           FROM cxkpi.experiment_results WHERE is_primary),
          'checkout_redesign one_page_checkout 0.60 t, loyalty_offer double_points 1.83 f, loyalty_offer welcome_offer 4.74 t',
          'the one-page checkout and the welcome offer win, double points does not');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results WHERE NOT is_primary AND significant), 0::bigint,
          'no secondary metric differs significantly (the generator made no such effect)');
SELECT is((SELECT count(*) FROM cxkpi.experiment_results) , (SELECT count(*) FROM cxkpi_bi.experiment_results),
          'cxkpi_bi.experiment_results has the rows of cxkpi.experiment_results');

SELECT * FROM finish();
ROLLBACK;
