-- A/B tests (docs/experiments.md): the two-sample comparisons and sample sizes against values
-- computed independently with base R (test/data/experiments_reference.R: prop.test, t.test,
-- power.prop.test, power.t.test, and Newcombe's method 10 from R's Wilson intervals), a published
-- value (Newcombe 1998), the degenerate cases, the errors, and the data model's rules (keys,
-- CHECKs, the assignment trigger) with the view on a small hand-made experiment.
BEGIN;
SET client_min_messages = warning;
SELECT plan(66);

-- within 1e-9 relative (or absolute for values near 0)
CREATE FUNCTION pg_temp.near(a double precision, b double precision) RETURNS boolean LANGUAGE sql
    AS $$ SELECT abs(a - b) <= 1e-9 * greatest(1, abs(b)) $$;

-- ---- two proportions ----------------------------------------------------------------------
-- R: newcombe(30, 100, 20, 100): diff 10, [-2.024936215301337, 21.673435401778587],
-- z 1.632993161855452, p 0.102470434859749 (prop.test(correct = FALSE)$p.value)
SELECT ok(pg_temp.near(difference, 10) AND pg_temp.near(ci_lower, -2.024936215301337)
          AND pg_temp.near(ci_upper, 21.673435401778587) AND pg_temp.near(statistic, 1.632993161855452)
          AND pg_temp.near(p_value, 0.102470434859749) AND estimate_a = 30 AND estimate_b = 20
          AND n_a = 100 AND n_b = 100 AND df IS NULL,
          'proportion_test(30, 100, 20, 100) as R (Newcombe interval, pooled z test)')
FROM proportion_test(30, 100, 20, 100);
-- Newcombe (1998), example (a), method 10: 56/70 - 48/80 = 0.2000, interval 0.0524 to 0.3339
SELECT is(format('%s %s %s', round(difference::numeric, 2), round(ci_lower::numeric, 2), round(ci_upper::numeric, 2)),
          '20.00 5.24 33.39', 'Newcombe''s published example (a): 56/70 vs 48/80, 0.0524 to 0.3339')
FROM proportion_test(56, 70, 48, 80);
SELECT ok(pg_temp.near(ci_lower, 5.24314724023649248) AND pg_temp.near(ci_upper, 33.38726540369058426)
          AND pg_temp.near(p_value, 0.00804508136819656), 'and to 1e-9 as R computes it')
FROM proportion_test(56, 70, 48, 80);
-- R: newcombe(9, 10, 3, 10, 0.90): [24.21124008849449183, 78.96235073721285858], p 0.00616989932054415
SELECT ok(pg_temp.near(ci_lower, 24.21124008849449183) AND pg_temp.near(ci_upper, 78.96235073721285858)
          AND pg_temp.near(p_value, 0.00616989932054415), 'a 90 % interval as R')
FROM proportion_test(9, 10, 3, 10, 0.90);
-- R: newcombe(0, 10, 0, 20): [-16.1125158052819, 27.7532799862889]; z is 0/0: reported 0, p 1
SELECT ok(pg_temp.near(ci_lower, -16.1125158052819) AND pg_temp.near(ci_upper, 27.7532799862889)
          AND difference = 0 AND statistic = 0 AND p_value = 1,
          'no success in either sample: the interval is still defined, z 0 and p-value 1')
FROM proportion_test(0, 10, 0, 20);
SELECT ok(difference = 100 AND ci_upper = 100 AND ci_lower < 100 AND ci_lower > 0,
          'all against none: the interval ends at 100 points') FROM proportion_test(50, 50, 0, 50);
SELECT is((SELECT proportion_test(0, 0, 3, 10)), NULL, 'an empty sample gives NULL');
SELECT is((SELECT proportion_test(NULL, 10, 3, 10)), NULL, 'STRICT: NULL in, NULL out');
SELECT throws_ok($$SELECT proportion_test(11, 10, 3, 10)$$, '22003',
                 'successes 11 out of 10 trials is out of range', 'more successes than trials: 22003');
SELECT throws_ok($$SELECT proportion_test(1, 10, -3, 10)$$, '22003',
                 'successes_b -3 is out of range', 'a negative count: 22003');
SELECT throws_ok($$SELECT proportion_test(1, 10, 3, 10, 1)$$, '22023',
                 'confidence level 1 is out of range', 'confidence 1: 22023');
SELECT throws_ok($$SELECT proportion_test(0, 0, 0, 0, 'NaN')$$, '22023', NULL,
                 'a bad confidence level is refused even when the samples are empty');

-- ---- Welch --------------------------------------------------------------------------------
-- R: welch(20, 10, 4, 25, 9, 9): [-0.510425372697403, 2.510425372697403], t 1.336306209562122,
-- df 41.784011220196355, p 0.188681210907515
SELECT ok(difference = 1 AND pg_temp.near(ci_lower, -0.510425372697403) AND pg_temp.near(ci_upper, 2.510425372697403)
          AND pg_temp.near(statistic, 1.336306209562122) AND pg_temp.near(df, 41.784011220196355)
          AND pg_temp.near(p_value, 0.188681210907515), 'welch_test from (n, mean, variance) as R')
FROM welch_test(20, 10, 4, 25, 9, 9);
-- From aggregates, against R's t.test(a, b) on the same values: diff 15.620238095238093,
-- [-24.469215515805935, 55.709691706282129], t 0.878869556308763, df 9.174235771460941, p 0.401904226178001
SELECT ok(pg_temp.near((r).difference, 15.620238095238093) AND pg_temp.near((r).ci_lower, -24.469215515805935)
          AND pg_temp.near((r).ci_upper, 55.709691706282129) AND pg_temp.near((r).statistic, 0.878869556308763)
          AND pg_temp.near((r).df, 9.174235771460941) AND pg_temp.near((r).p_value, 0.401904226178001),
          'welch_test(count, avg, var_samp) of raw order values as R''s t.test(a, b)')
FROM (SELECT welch_test(count(*) FILTER (WHERE g = 'a'), avg(v) FILTER (WHERE g = 'a'), var_samp(v) FILTER (WHERE g = 'a'),
                        count(*) FILTER (WHERE g = 'b'), avg(v) FILTER (WHERE g = 'b'), var_samp(v) FILTER (WHERE g = 'b')) AS r
      FROM (VALUES ('a', 120.5), ('a', 80), ('a', 99.9), ('a', 150), ('a', 45.25), ('a', 110),
                   ('b', 70), ('b', 95.5), ('b', 60), ('b', 130), ('b', 88), ('b', 52.75), ('b', 101))
           AS x(g, v)) AS q;
-- Hand-worked: equal variances and sizes, n = 2 each: se = sqrt(2/2 + 2/2) = sqrt(2), df = 2,
-- t = 2 / sqrt(2) = sqrt(2); p = 2 * (1 - F_t2(sqrt 2)) = 1 - sqrt(2) / sqrt(2 + 2) = 1 - 1/sqrt(2)
SELECT ok(pg_temp.near(statistic, sqrt(2)) AND pg_temp.near(df, 2) AND pg_temp.near(p_value, 1 - 1 / sqrt(2)),
          'hand-worked: n 2 + 2, variances 2: t = sqrt 2, df 2, p = 1 - 1/sqrt 2 (closed form of t with 2 df)')
FROM welch_test(2, 5, 2, 2, 3, 2);
SELECT ok(difference = 2 AND ci_lower = 2 AND ci_upper = 2 AND statistic IS NULL AND df IS NULL AND p_value IS NULL,
          'both variances 0: the interval is [d, d], no statistic') FROM welch_test(5, 7, 0, 9, 5, 0);
SELECT is((SELECT welch_test(1, 7, 0, 9, 5, 1)), NULL, 'fewer than 2 values in a sample: NULL');
SELECT throws_ok($$SELECT welch_test(5, 7, -1, 9, 5, 1)$$, '22003', 'variance -1 is out of range', 'negative variance: 22003');
SELECT throws_ok($$SELECT welch_test(5, 'Infinity', 1, 9, 5, 1)$$, '22003', 'mean_a Infinity is out of range', 'infinite mean: 22003');
SELECT throws_ok($$SELECT welch_test(-5, 7, 1, 9, 5, 1)$$, '22003', 'n_a -5 is out of range', 'negative n: 22003');
SELECT throws_ok($$SELECT welch_test(5, 7, 1, 9, 5, 1, 0)$$, '22023', 'confidence level 0 is out of range', 'confidence 0: 22023');

-- ---- CSAT share and mean ------------------------------------------------------------------
-- (v1,scale=5,n=10,counts={0,1,2,3,4}) vs (v1,scale=5,n=10,counts={1,2,3,2,2}): satisfied (4-5)
-- 7/10 vs 4/10, R: newcombe(7, 10, 4, 10): [-11.773179727686722, 60.113876605376703], p 0.177529852412153;
-- means 4 vs 3.2, R: t.test(sa, sb): [-0.324347404003743, 1.924347404003742], t 1.5,
-- df 17.178005591798694, p 0.151769410095603
SELECT ok(estimate_a = 70 AND estimate_b = 40 AND pg_temp.near(ci_lower, -11.773179727686722)
          AND pg_temp.near(ci_upper, 60.113876605376703) AND pg_temp.near(p_value, 0.177529852412153),
          'csat_share_test: the top two boxes, as R')
FROM csat_share_test('(v1,scale=5,n=10,counts={0,1,2,3,4})'::csat_summary, '(v1,scale=5,n=10,counts={1,2,3,2,2})');
SELECT ok(pg_temp.near(estimate_a, 4) AND pg_temp.near(estimate_b, 3.2) AND pg_temp.near(ci_lower, -0.324347404003743)
          AND pg_temp.near(ci_upper, 1.924347404003742) AND pg_temp.near(statistic, 1.5)
          AND pg_temp.near(df, 17.178005591798694) AND pg_temp.near(p_value, 0.151769410095603),
          'csat_mean_test: Welch on the scores, as R''s t.test')
FROM csat_mean_test('(v1,scale=5,n=10,counts={0,1,2,3,4})'::csat_summary, '(v1,scale=5,n=10,counts={1,2,3,2,2})');
SELECT is((SELECT row(q.*)::text FROM csat_share_test(csat_agg(s) FILTER (WHERE g = 1), csat_agg(s) FILTER (WHERE g = 2)) AS q),
          (SELECT row(q.*)::text FROM proportion_test(3, 4, 1, 3) AS q),
          'csat_share_test = proportion_test of satisfied and responses')
FROM (VALUES (1, 5), (1, 4), (1, 4), (1, 2), (2, 5), (2, 3), (2, 1)) AS x(g, s);
SELECT ok((SELECT csat_mean_test(csat_agg(true), csat_agg(false)) IS NULL)
          AND (SELECT estimate_a = 100 AND estimate_b = 50
               FROM csat_share_test('(v1,scale=2,n=2,counts={0,2})'::csat_summary, '(v1,scale=2,n=2,counts={1,1})')),
          'yes/no CSAT: the share is compared, the mean is NULL');
SELECT throws_ok($$SELECT csat_share_test(csat_agg(4, 5), csat_agg(4, 7))$$, '22023',
                 'cannot compare csat_summary values on different scales', 'different scales: 22023');

-- ---- NPS ----------------------------------------------------------------------------------
-- a = 5 promoters, 2 passives, 3 detractors (NPS 20), b = 2, 3, 5 (NPS -30); R (adjusted Wald,
-- Rocks 2016): [-23.701065620500785, 100.624142543577705], z 1.212678125181665, p 0.225252906360653
SELECT ok(difference = 50 AND estimate_a = 20 AND estimate_b = -30
          AND pg_temp.near(ci_lower, -23.701065620500785) AND pg_temp.near(ci_upper, 100.624142543577705)
          AND pg_temp.near(statistic, 1.212678125181665) AND pg_temp.near(p_value, 0.225252906360653),
          'nps_test: the adjusted-Wald interval of the difference as R')
FROM nps_test('(v1,n=10,counts={1,1,1,0,0,0,0,1,1,2,3})'::nps_summary, '(v1,n=10,counts={2,2,1,0,0,0,0,2,1,1,1})');
SELECT ok(p_value = nps_diff_pvalue('(v1,n=10,counts={1,1,1,0,0,0,0,1,1,2,3})'::nps_summary,
                                    '(v1,n=10,counts={2,2,1,0,0,0,0,2,1,1,1})'::nps_summary),
          'nps_test''s p-value is nps_diff_pvalue''s')
FROM nps_test('(v1,n=10,counts={1,1,1,0,0,0,0,1,1,2,3})'::nps_summary, '(v1,n=10,counts={2,2,1,0,0,0,0,2,1,1,1})');
SELECT is((SELECT nps_test('(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'::nps_summary, nps_agg(9))), NULL,
          'an empty NPS summary gives NULL');
SELECT throws_ok($$SELECT nps_test(nps_agg(9), nps_agg(3), 1.5)$$, '22023', 'confidence level 1.5 is out of range',
                 'nps_test checks the confidence');

-- ---- sample sizes -------------------------------------------------------------------------
-- R: power.prop.test(p1 = .50, p2 = .75, power = .90)$n = 76.7069301141077 -> 77 (R's own example)
SELECT is(sample_size_proportions(50, 25, 0.05, 0.9), 77::bigint, 'power.prop.test(p1 = .5, p2 = .75, power = .9): 77');
-- R: power.prop.test(p1 = .032, p2 = .037, power = .80)$n = 20914.3587630029 -> 20915
SELECT is(sample_size_proportions(3.2, 0.5), 20915::bigint, 'conversion 3.2 % -> 3.7 %, alpha 0.05, power 0.8: 20915 a group');
-- R: power.prop.test(p1 = .20, p2 = .15, sig.level = .01, power = .95)$n = 2054.06248771472 -> 2055
SELECT is(sample_size_proportions(20, -5, 0.01, 0.95), 2055::bigint, 'a decrease, alpha 0.01, power 0.95: 2055');
-- R: power.t.test(delta = 1, sd = 1, power = .90)$n = 22.0210977038512 -> 23; power = .80: 16.7147681423283 -> 17
SELECT is(sample_size_means(1, 1, 0.05, 0.9), 23::bigint, 'power.t.test(delta = 1, sd = 1, power = .9): 23');
SELECT is(sample_size_means(1, 1), 17::bigint, 'power.t.test(delta = 1, sd = 1, power = .8): 17');
-- R: power.t.test(delta = 5, sd = 60, power = .80)$n = 2261.43812919862 -> 2262 (AOV: detect 5 with sd 60)
SELECT is(sample_size_means(60, 5), 2262::bigint, 'AOV: detect 5 with a standard deviation of 60: 2262');
-- R: power.t.test(delta = 2, sd = 1, sig.level = .01, power = .9)$n = 9.25152808271468 -> 10
SELECT is(sample_size_means(1, -2, 0.01, 0.9), 10::bigint, 'a large effect at alpha 0.01: 10 (the sign of mde does not matter)');
-- Hand-worked normal formula for a huge sample (t = normal): 2 (1.959964 + 0.841621)^2 / 0.001^2
SELECT ok(abs(sample_size_means(1, 0.001) - 2 * (1.959963984540054 + 0.8416212335729143) ^ 2 / 1e-6) < 2,
          'a tiny effect: the normal formula 2 (z_0.975 + z_0.8)^2 / es^2');
SELECT throws_ok($$SELECT sample_size_proportions(0, 1)$$, '22003', 'baseline 0 % is out of range', 'baseline 0: 22003');
SELECT throws_ok($$SELECT sample_size_proportions(99.5, 1)$$, '22003', NULL, 'baseline + effect above 100: 22003');
SELECT throws_ok($$SELECT sample_size_proportions(5, 0)$$, '22003', NULL, 'no effect: 22003');
SELECT throws_ok($$SELECT sample_size_proportions(5, 1, 1.2)$$, '22023', 'significance level 1.2 is out of range', 'alpha 1.2: 22023');
SELECT throws_ok($$SELECT sample_size_means(1, 1, 0.05, 1)$$, '22023', 'power 1 is out of range', 'power 1: 22023');
SELECT throws_ok($$SELECT sample_size_means(0, 1)$$, '22003', 'standard deviation 0 is out of range', 'sd 0: 22003');
SELECT throws_ok($$SELECT sample_size_means(1, 1e-300)$$, '22003', 'the per-group sample size is beyond bigint',
                 'an undetectable effect: 22003');

-- ---- the data model -----------------------------------------------------------------------
SELECT lives_ok($$INSERT INTO cxkpi.experiments (experiment, unit, starts_at, ends_at)
                  VALUES ('banner', 'customer', '2025-03-01 00:00+00', '2025-04-01 00:00+00'),
                         ('search', 'session', '2025-03-01 00:00+00', NULL)$$, 'experiments: a customer and a session experiment');
SELECT throws_ok($$INSERT INTO cxkpi.experiments (experiment, unit, starts_at) VALUES ('Bad Name', 'customer', now())$$,
                 '23514', NULL, 'the key is lower case: 23514');
SELECT throws_ok($$INSERT INTO cxkpi.experiments (experiment, unit, starts_at) VALUES ('x', 'visitor', now())$$,
                 '23514', NULL, 'unit customer or session');
SELECT throws_ok($$INSERT INTO cxkpi.experiments (experiment, unit, starts_at, ends_at) VALUES ('x', 'customer', now(), now() - interval '1 day')$$,
                 '23514', NULL, 'the end after the start');
SELECT throws_ok($$INSERT INTO cxkpi.experiments (experiment, unit, primary_metric, starts_at) VALUES ('x', 'session', 'aov', now())$$,
                 '23514', NULL, 'a session experiment measures conversion only');
INSERT INTO cxkpi.customers (customer_id, acquired_on) SELECT g, '2024-01-01' FROM generate_series(1, 8) AS g;
-- banner: customers 1-4 control, 5-8 new_banner, assigned on 2025-03-02; orders (net value) of
-- 1: 100 on 03-10 and 50 on 03-20, 2: 80 before its assignment (not counted), 3: none,
-- 4: 30 after the end (not counted); 5: 60, 6: 90, 7: 120, 8: none.
INSERT INTO cxkpi.experiment_assignments (experiment, variant, customer_id, assigned_at)
SELECT 'banner', CASE WHEN g <= 4 THEN 'control' ELSE 'new_banner' END, g, '2025-03-02 12:00+00' FROM generate_series(1, 8) AS g;
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
VALUES (1, 1, '2025-03-10 10:00+00', 'web_desktop', 1, 110, 10), (2, 1, '2025-03-20 10:00+00', 'store', 1, 50, 0),
       (3, 2, '2025-03-02 11:00+00', 'app', 1, 80, 0), (4, 4, '2025-04-01 00:00+00', 'app', 1, 30, 0),
       (5, 5, '2025-03-05 10:00+00', 'web_mobile', 1, 60, 0), (6, 6, '2025-03-06 10:00+00', 'web_mobile', 2, 90, 0),
       (7, 7, '2025-03-07 10:00+00', 'store', 3, 130, 10);
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id)
VALUES (1, '2025-03-11', 'nps', 10, 10, 'email', 1), (2, '2025-03-11', 'nps', 6, 10, 'email', 2),
       (3, '2025-03-12', 'nps', 9, 10, 'email', 5), (4, '2025-03-12', 'nps', 9, 10, 'email', 6),
       (5, '2025-03-01', 'nps', 0, 10, 'email', 7),     -- before the assignment: not counted
       (6, '2025-03-11', 'csat', 5, 5, 'web', 1), (7, '2025-03-11', 'csat', 2, 5, 'web', 3),
       (8, '2025-03-12', 'csat', 4, 5, 'web', 6), (9, '2025-03-12', 'csat', 5, 5, 'web', 7),
       (10, '2025-03-12', 'csat', 3, 7, 'web', 8);     -- another scale: not counted
SELECT throws_ok($$INSERT INTO cxkpi.experiment_assignments (experiment, variant, customer_id, assigned_at)
                   VALUES ('banner', 'new_banner', 1, '2025-03-03')$$, '23505', NULL, 'a customer is in one variant of an experiment');
SELECT throws_ok($$INSERT INTO cxkpi.experiment_assignments (experiment, variant, session_id, assigned_at)
                   VALUES ('banner', 'control', 1, '2025-03-03')$$, '23514',
                 'experiment "banner" randomises by customer, but an assignment names a session', 'the unit of the experiment');
SELECT throws_ok($$INSERT INTO cxkpi.experiment_assignments (experiment, variant, customer_id, session_id, assigned_at)
                   VALUES ('search', 'control', 1, 1, '2025-03-03')$$, '23514', NULL, 'a customer or a session, not both');
SELECT throws_ok($$INSERT INTO cxkpi.experiment_assignments (experiment, variant, customer_id, assigned_at)
                   VALUES ('banner', 'control', 9, '2025-04-01 00:00+00')$$, '23514', NULL, 'no assignment at or after the end');
SELECT throws_ok($$INSERT INTO cxkpi.experiment_assignments (experiment, variant, session_id, assigned_at)
                   VALUES ('nope', 'control', 1, '2025-03-03')$$, '23503', NULL, 'an unknown experiment');
SELECT throws_ok($$UPDATE cxkpi.experiments SET starts_at = '2025-03-05' WHERE experiment = 'banner'$$, '23514', NULL,
                 'moving the start after assignments is refused');

-- The view: conversion 1/4 (customer 1) vs 3/4 (5, 6, 7); AOV over orders 1, 2 (100, 50) vs
-- 60, 90, 120; NPS {10, 6} vs {9, 9}; CSAT 5-point {5, 2} vs {4, 5}.
SELECT is((SELECT string_agg(format('%s %s/%s', metric, n_variant, n_control), ', ' ORDER BY metric)
           FROM cxkpi.experiment_results WHERE experiment = 'banner'),
          'aov 3/2, conversion 4/4, csat_mean 2/2, csat_share 2/2, nps 2/2', 'the view: one row per metric, the sample sizes of the window');
SELECT is((SELECT row(r.n_variant, r.n_control, r.value_variant, r.value_control, r.difference, r.ci_lower, r.ci_upper, r.p_value)::text
           FROM cxkpi.experiment_results AS r WHERE experiment = 'banner' AND metric = 'conversion'),
          (SELECT row(n_a, n_b, estimate_a, estimate_b, difference, ci_lower, ci_upper, p_value)::text FROM proportion_test(3, 4, 1, 4)),
          'conversion: customers with an order between assignment and end, 3/4 vs 1/4');
SELECT is((SELECT row(r.value_variant, r.value_control, r.difference, r.ci_lower, r.ci_upper, r.p_value)::text
           FROM cxkpi.experiment_results AS r WHERE experiment = 'banner' AND metric = 'aov'),
          (SELECT row(estimate_a, estimate_b, difference, ci_lower, ci_upper, p_value)::text
           FROM welch_test(3, 90, 900, 2, 75, 1250)),
          'aov: net values 60, 90, 120 (mean 90, variance 900) vs 100, 50 (mean 75, variance 1250)');
SELECT is((SELECT row(r.value_variant, r.value_control, r.difference, r.p_value)::text
           FROM cxkpi.experiment_results AS r WHERE experiment = 'banner' AND metric = 'nps'),
          (SELECT row(estimate_a, estimate_b, difference, p_value)::text
           FROM nps_test('(v1,n=2,counts={0,0,0,0,0,0,0,0,0,2,0})', '(v1,n=2,counts={0,0,0,0,0,0,1,0,0,0,1})')),
          'nps: the answers after the assignment, 100 vs 0');
SELECT is((SELECT row(r.value_variant, r.value_control, r.p_value)::text
           FROM cxkpi.experiment_results AS r WHERE experiment = 'banner' AND metric = 'csat_share'),
          (SELECT row(estimate_a, estimate_b, p_value)::text FROM proportion_test(2, 2, 1, 2)),
          'csat_share: the 5-point answers (setting csat_scale), 2/2 vs 1/2 satisfied');
SELECT ok((SELECT bool_and(status = 'ended' AND control_variant = 'control' AND variant = 'new_banner' AND confidence = 0.95
                           AND is_primary = (metric = 'conversion') AND significant = (p_value < 0.05))
           FROM cxkpi.experiment_results WHERE experiment = 'banner'),
          'status, variant, control, primary metric, confidence (setting), significant = p < 1 - confidence');
-- A session experiment: sessions' own converted flag; a running test counts up to now.
INSERT INTO cxkpi.web_sessions (session_id, started_at, device, added_to_cart, reached_checkout, converted)
SELECT g, '2025-03-02 10:00+00', 'desktop', g % 2 = 0, g % 2 = 0, g % 4 = 0 FROM generate_series(1, 12) AS g;
INSERT INTO cxkpi.experiment_assignments (experiment, variant, session_id, assigned_at)
SELECT 'search', CASE WHEN g <= 6 THEN 'control' ELSE 'fuzzy' END, g, '2025-03-02 10:00+00' FROM generate_series(1, 13) AS g;
SELECT is((SELECT format('%s %s %s/%s %s %s', status, string_agg(metric, ','), n_variant, n_control,
                         round(value_variant::numeric, 4), round(value_control::numeric, 4))
           FROM cxkpi.experiment_results WHERE experiment = 'search' GROUP BY status, n_variant, n_control, value_variant, value_control),
          'running conversion 7/6 28.5714 16.6667',
          'a session experiment: conversion only, from the sessions'' flag (8 and 12 of 7-13; session 13 is unknown: not converted)');
-- Readers read the BI view, writers write the tables.
SELECT ok(has_table_privilege('cxkpi_reader', 'cxkpi_bi.experiment_results', 'SELECT')
          AND has_table_privilege('cxkpi_writer', 'cxkpi.experiment_assignments', 'INSERT')
          AND NOT has_table_privilege('cxkpi_reader', 'cxkpi.experiment_assignments', 'SELECT'),
          'grants: cxkpi_reader reads cxkpi_bi.experiment_results, cxkpi_writer writes the assignments');
CREATE FUNCTION pg_temp.as_reader(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    res text;
BEGIN
    SET LOCAL ROLE cxkpi_reader;
    SET LOCAL search_path = cxkpi_bi;
    BEGIN
        EXECUTE q INTO res;
    EXCEPTION WHEN OTHERS THEN
        res := SQLSTATE || ' ' || SQLERRM;
    END;
    RESET ROLE;
    RESET search_path;
    RETURN res;
END $$;
SELECT is(pg_temp.as_reader('SELECT count(*) FROM experiment_results'), '6',
          'a reader (search_path cxkpi_bi, no USAGE on cxkpi) reads the BI view: 5 metrics + 1');
DELETE FROM cxkpi.experiments WHERE experiment = 'banner';
SELECT is((SELECT count(*) FROM cxkpi.experiment_assignments WHERE experiment = 'banner'), 0::bigint,
          'deleting an experiment deletes its assignments');

SELECT * FROM finish();
ROLLBACK;
