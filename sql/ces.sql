-- CES: hand-worked values, both scales, exactness, rollups, windows.

-- Hand-worked: 7,6,5,4,1 on 1..7.  Mean 23/5 = 4.6; agree (5-7) = 3 of 5 = 60 %.
-- Sample variance 21.2/4 = 5.3; SE = sqrt(5.3/5) = 1.029563; t(4, 0.975) = 2.776445
--   -> 4.6 -/+ 2.858525 = [1.7415, 7.4585] -> upper clamped to 7.
-- Wilson for 3 of 5: [23.0724, 88.2379] %.
CREATE TABLE ces_hand AS SELECT ces_agg(x) AS s FROM unnest(ARRAY[7,6,5,4,1]) AS x;
SELECT s, ces(s), ces_agree_pct(s), ces_agree(s), responses(s), scale(s), score_counts(s)
FROM ces_hand;
SELECT round(ces_ci_lower(s)::numeric, 4) AS lower, ces_ci_upper(s) AS upper,
       round(ces_agree_ci_lower(s)::numeric, 4) AS agree_lower,
       round(ces_agree_ci_upper(s)::numeric, 4) AS agree_upper
FROM ces_hand;

-- 5-point scale: agree = 4-5.
SELECT ces_agg(x, 5), ces(x, 5), ces_agree_pct(ces_agg(x, 5))
FROM unnest(ARRAY[1, 2, 3, 4, 5, 5]) AS x;
SELECT ces(x) AS one_response, ces_ci_lower(ces_agg(x)) AS no_interval_below_two
FROM unnest(ARRAY[6]) AS x;

-- Exactness against plain SQL, per channel.
SELECT channel, responses(s), ces_agree(s),
       responses(s) = count(ces_score) AS n_matches,
       ces_agree(s) = count(*) FILTER (WHERE ces_score >= 5) AS agree_matches,
       abs(ces(s) - avg(ces_score)) < 1e-12 AS mean_matches,
       one_step = ces(s) AS one_step_matches
FROM (SELECT channel, ces_agg(ces_score) OVER (PARTITION BY channel) AS s,
             ces(ces_score) OVER (PARTITION BY channel) AS one_step, ces_score
      FROM survey) q
GROUP BY channel, s, one_step ORDER BY channel;

-- Rollup of daily summaries = direct; window frames = recomputation.
CREATE TABLE ces_daily AS
SELECT answered_on, channel, ces_agg(ces_score) AS s FROM survey GROUP BY 1, 2;
SELECT count(*) AS channels_differing
FROM (SELECT channel, rollup(s) AS s FROM ces_daily GROUP BY channel) r
JOIN (SELECT channel, ces_agg(ces_score) AS s FROM survey GROUP BY channel) d USING (channel)
WHERE r.s <> d.s;
SELECT count(*) AS frames_differing
FROM (SELECT id, ces_agg(ces_score) OVER w AS s, ces(ces_score) OVER w AS c
      FROM survey WHERE id <= 2000 WINDOW w AS (ORDER BY id ROWS 29 PRECEDING)) r
WHERE s IS DISTINCT FROM (SELECT ces_agg(ces_score) FROM survey x WHERE x.id BETWEEN r.id - 29 AND r.id)
   OR c IS DISTINCT FROM ces(s);

-- Errors.
SELECT ces_agg(x) FROM unnest(ARRAY[8]) AS x;
SELECT ces_agg(x, 5) FROM unnest(ARRAY[6]) AS x;
SELECT ces_agg(x, 10) FROM unnest(ARRAY[1]) AS x;
SELECT merge(a, b) FROM (SELECT ces_agg(1, 5) AS a, ces_agg(1, 7) AS b) q;

-- Frames that start with NULL rows.
SELECT i, ces(x, 5) OVER w AS ces5, ces_agg(x) OVER w AS s7
FROM (VALUES (1, NULL::int), (2, NULL), (3, 5), (4, 4)) v(i, x)
WINDOW w AS (ORDER BY i ROWS 1 PRECEDING);
