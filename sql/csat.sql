-- CSAT: hand-worked values, every scale, yes/no surveys, exactness, rollups, windows.

-- Hand-worked: scores 5,4,3,2,1,5,5 on 1..5; satisfied = 4-5 = 4 of 7 -> 57.142857 %
-- Wilson 95 % (z = 1.959964, z^2 = 3.841459): p = 0.571429, denominator 1 + z^2/n = 1.548780
--   centre = (p + z^2/2n) / 1.548780 = 0.546119
--   half   = z * sqrt(p(1-p)/n + z^2/4n^2) / 1.548780 = 0.295661
--   -> [25.0458, 84.1780] %
-- Mean = 25/7 = 3.571429; sample variance = 15.714286/6 = 2.619048; SE = 0.611678;
--   t(6, 0.975) = 2.446912 -> 3.571429 -/+ 1.496725 = [2.0747, 5.0682] -> upper clamped to 5
CREATE TABLE csat_hand AS SELECT csat_agg(x) AS s FROM unnest(ARRAY[5,4,3,2,1,5,5]) AS x;
SELECT s, csat(s), round(csat_mean(s)::numeric, 6) AS mean, responses(s), satisfied(s),
       scale(s), score_counts(s)
FROM csat_hand;
SELECT round(csat_ci_lower(s)::numeric, 4) AS lower, round(csat_ci_upper(s)::numeric, 4) AS upper,
       round(csat_mean_ci_lower(s)::numeric, 4) AS mean_lower, csat_mean_ci_upper(s) AS mean_upper
FROM csat_hand;

-- Wilson at the edges: 0 of 10 and 10 of 10 satisfied; ends exactly 0 and 100,
-- the other end z^2/(n + z^2) = 3.841459/13.841459 = 27.7533 %.
SELECT csat_ci_lower(s) AS lower, round(csat_ci_upper(s)::numeric, 4) AS upper
FROM (SELECT csat_agg(1) AS s FROM generate_series(1, 10)) q;
SELECT round(csat_ci_lower(s)::numeric, 4) AS lower, csat_ci_upper(s) AS upper
FROM (SELECT csat_agg(5) AS s FROM generate_series(1, 10)) q;

-- "Satisfied" per scale: top box on 3, top two boxes on 5, 7 and 10; yes on yes/no.
SELECT sc AS scale, satisfied(s), responses(s), csat(s), csat_mean(s)
FROM (SELECT sc, csat_agg(x, sc) AS s
      FROM (VALUES (3), (5), (7), (10)) v(sc), LATERAL generate_series(1, sc) AS x
      GROUP BY sc) q
ORDER BY sc;
SELECT csat_agg(x), csat(x), csat_mean(csat_agg(x)) AS mean, csat_mean_ci_lower(csat_agg(x)) AS mean_lower,
       round(csat_ci_lower(csat_agg(x))::numeric, 4) AS lower
FROM unnest(ARRAY[true, true, false, NULL, true]) AS x;
SELECT csat(x, 10) AS csat_10, csat(x) AS csat_default_5
FROM unnest(ARRAY[1, 2, 4, 5]) AS x;

-- Exactness against plain SQL, per channel.
WITH direct AS (
    SELECT channel, csat_agg(csat_score) AS s, csat(csat_score) AS one_step
    FROM survey GROUP BY channel),
plain AS (
    SELECT channel, count(csat_score) AS n,
           count(*) FILTER (WHERE csat_score >= 4) AS sat,
           avg(csat_score) AS mean
    FROM survey GROUP BY channel)
SELECT channel, responses(s), satisfied(s),
       responses(s) = p.n AND satisfied(s) = p.sat AS counts_match,
       csat(s) = 100.0 * p.sat / p.n AS csat_matches,
       one_step = csat(s) AS one_step_matches,
       abs(csat_mean(s) - p.mean) < 1e-12 AS mean_matches
FROM direct JOIN plain p USING (channel) ORDER BY channel;

-- The t interval against the textbook formula: half-width / (stddev_samp / sqrt(n)) is the
-- Student-t quantile t(n - 1, 0.975), about 1.9604 for n near 4,800 (tables: 1.96045 at 4,700).
SELECT channel,
       abs(csat_mean_ci_upper(s) - csat_mean(s)
           - (csat_mean(s) - csat_mean_ci_lower(s))) < 1e-9 AS symmetric,
       abs((csat_mean_ci_upper(s) - csat_mean(s)) / (sd / sqrt(n)) - 1.9604) < 0.0005 AS t_quantile_ok
FROM (SELECT channel, csat_agg(csat_score) AS s, stddev_samp(csat_score) AS sd, count(csat_score) AS n
      FROM survey GROUP BY channel) q ORDER BY channel;

-- Rollup of daily summaries = direct; merge; window frames = recomputation.
CREATE TABLE csat_daily AS
SELECT answered_on, channel, csat_agg(csat_score) AS s FROM survey GROUP BY 1, 2;
SELECT count(*) AS channels_differing
FROM (SELECT channel, rollup(s) AS s FROM csat_daily GROUP BY channel) r
JOIN (SELECT channel, csat_agg(csat_score) AS s FROM survey GROUP BY channel) d USING (channel)
WHERE r.s <> d.s;
SELECT count(*) AS frames_differing
FROM (SELECT id, csat_agg(csat_score) OVER w AS s, csat(csat_score) OVER w AS c
      FROM survey WHERE id <= 2000 WINDOW w AS (ORDER BY id ROWS 49 PRECEDING)) r
WHERE s IS DISTINCT FROM (SELECT csat_agg(csat_score) FROM survey x WHERE x.id BETWEEN r.id - 49 AND r.id)
   OR c IS DISTINCT FROM csat(s);
SELECT i, x, csat_agg(x) OVER w, csat(x) OVER w
FROM unnest(ARRAY[true, NULL, false, false]) WITH ORDINALITY AS t(x, i)
WINDOW w AS (ORDER BY i ROWS 1 PRECEDING);

-- Errors: scores outside the scale (22003), unsupported scales and a scale that changes within
-- a group (22023), merging different scales (22000), bad confidence levels (22023).
SELECT csat_agg(x) FROM unnest(ARRAY[0]) AS x;
SELECT csat_agg(x, 3) FROM unnest(ARRAY[4]) AS x;
SELECT csat_agg(x, 4) FROM unnest(ARRAY[1]) AS x;
SELECT csat_agg(x, sc) FROM (VALUES (1, 5), (1, 7)) v(x, sc);
SELECT rollup(s) FROM (SELECT csat_agg(5, 5) UNION ALL SELECT csat_agg(5, 7)) q(s);
SELECT csat_ci_lower(s, 1.0) FROM csat_hand;
SELECT csat_mean_ci_lower(s, 0) FROM csat_hand;
SELECT csat_ci_upper(s, 'NaN') FROM csat_hand;

-- Frames that start with NULL rows, with the scale given per row and as yes/no answers.
SELECT i, csat(x, 7) OVER w AS csat7, csat_agg(x, 7) OVER w AS s7, csat(y) OVER w AS yes_no
FROM (VALUES (1, NULL::int, NULL::boolean), (2, NULL, true), (3, 7, NULL), (4, 1, false)) v(i, x, y)
WINDOW w AS (ORDER BY i ROWS 1 PRECEDING);
SELECT i, csat(rollup(s) OVER (ORDER BY i ROWS 1 PRECEDING))
FROM (VALUES (1, NULL::csat_summary), (2, '(v1,scale=3,n=2,counts={1,0,1})'), (3, NULL), (4, NULL)) v(i, s);

-- A sliding frame that empties and then holds another scale: each frame is its own group.
SELECT id, csat_agg(s, sc) OVER w AS moving,
       csat_agg(s, sc) OVER (ORDER BY id ROWS 1 PRECEDING EXCLUDE TIES) AS restarted
FROM (VALUES (1, 3, 3), (2, NULL, NULL), (3, 5, 5), (4, 4, 5)) v(id, s, sc)
WINDOW w AS (ORDER BY id ROWS 1 PRECEDING);
SELECT i, rollup(s) OVER (ORDER BY i ROWS 1 PRECEDING)
FROM (VALUES (1, '(v1,scale=3,n=1,counts={0,0,1})'::csat_summary), (2, NULL),
             (3, '(v1,scale=5,n=1,counts={0,0,0,0,1})')) v(i, s);

-- Student-t quantiles stay right for any number of responses: at n = 9e18 the t interval of
-- the mean is the normal one, 5.5 -/+ 1.959964 * 1.5 / 3e9 = 5.5 -/+ 9.8e-10.
SELECT round(ces_ci_lower(s)::numeric, 11) AS lower, round(ces_ci_upper(s)::numeric, 11) AS upper
FROM (VALUES ('(v1,scale=7,n=9000000000000000000,counts={0,0,0,4500000000000000000,0,0,4500000000000000000})'::ces_summary)) t(s);
-- and continuous where the quantile switches from GSL to the Cornish-Fisher expansion
-- (10^6 degrees of freedom): the implied t = half-width / (s / sqrt(n)) just below and just
-- above it agree to 1e-9 (t(10^6, 0.975) = 1.959964 + (z^3 + z) / (4 x 10^6) = 1.9599664).
SELECT round(t1::numeric, 7) AS t_below, round(t2::numeric, 7) AS t_above, abs(t1 - t2) < 1e-9 AS continuous
FROM (SELECT (csat_mean_ci_upper(a) - 3) / (sqrt(4.0 * 1000000 / 999999) / sqrt(1000000)) AS t1,
             (csat_mean_ci_upper(b) - 3) / (sqrt(4.0 * 1000002 / 1000001) / sqrt(1000002)) AS t2
      FROM (VALUES ('(v1,scale=5,n=1000000,counts={500000,0,0,0,500000})'::csat_summary,
                    '(v1,scale=5,n=1000002,counts={500001,0,0,0,500001})'::csat_summary)) t(a, b)) q;

-- Summaries can key hash partitions (extended hash support).
CREATE TABLE csat_parts (s csat_summary) PARTITION BY HASH (s);
CREATE TABLE csat_parts_0 PARTITION OF csat_parts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE csat_parts_1 PARTITION OF csat_parts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO csat_parts SELECT s FROM csat_daily;
SELECT count(*) AS rows, (SELECT count(*) FROM csat_daily) AS expected FROM csat_parts;
DROP TABLE csat_parts;
