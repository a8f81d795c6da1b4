-- NPS: hand-worked values, exactness against plain SQL, rollups, window frames.

-- A hand-worked sample: scores 10,10,9,8,7,6,3,0,10,9
-- promoters (9-10) = 5, passives (7-8) = 2, detractors (0-6) = 3, n = 10
-- NPS = (5 - 3) / 10 = 0.2 = 20 points
-- Wald: var = p + d - (p - d)^2 = 0.5 + 0.3 - 0.04 = 0.76; SE = sqrt(0.76 / 10) = 0.275681
--       -> nps_stderr = 27.5681 points
-- Adjusted Wald (95 %, z = 1.959964): n' = 13, p' = 5.75/13 = 0.442308, d' = 3.75/13 = 0.288462
--       NPS' = 0.153846; var' = 0.730769 - 0.023669 = 0.707101; SE' = sqrt(0.707101/13) = 0.233222
--       z * SE' = 0.457106; CI = [-0.303260, 0.610952] -> [-30.3260, 61.0952] points
--       margin of error = 45.7106 points
--       at 90 % (z = 1.644854): 0.153846 -/+ 0.383616 -> [-22.9769, 53.7462]
CREATE TABLE hand AS SELECT nps_agg(x) AS s FROM unnest(ARRAY[10,10,9,8,7,6,3,0,10,9]) AS x;
SELECT s, nps(s), responses(s), promoters(s), passives(s), detractors(s),
       promoter_pct(s), passive_pct(s), detractor_pct(s)
FROM hand;
SELECT round(nps_stderr(s)::numeric, 4) AS stderr,
       round(nps_ci_lower(s)::numeric, 4) AS lower95,
       round(nps_ci_upper(s)::numeric, 4) AS upper95,
       round(nps_margin_of_error(s)::numeric, 4) AS moe95,
       round(nps_ci_lower(s, 0.90)::numeric, 4) AS lower90,
       round(nps_ci_upper(s, 0.90)::numeric, 4) AS upper90
FROM hand;
SELECT score_counts(s), (score_counts(s))[9] AS nines, array_lower(score_counts(s), 1) AS lb
FROM hand;

-- Clamping: 5 promoters, n' = 8, p' = 5.75/8 = 0.71875, d' = 0.75/8 = 0.09375
-- NPS' = 0.625, var' = 0.8125 - 0.390625 = 0.421875, SE' = 0.229640, z*SE' = 0.450085
-- upper 1.075085 -> clamped to 100; lower 0.174915 -> 17.4915;
-- margin of error = z * SE' = 45.0085 points (the half-width before clamping)
SELECT round(nps_ci_lower(s)::numeric, 4), nps_ci_upper(s), round(nps_margin_of_error(s)::numeric, 4)
FROM (SELECT nps_agg(10) AS s FROM generate_series(1, 5)) q;

-- Two-sample test, adjusted Wald.  A: 60 promoters, 20 passives, 20 detractors (NPS 40);
-- B: 45 / 25 / 30 (NPS 15).
-- A': n'=103, p'=60.75/103=0.589806, d'=20.75/103=0.201456, NPS'=0.388350,
--     var'=0.791262-0.150816=0.640446
-- B': p'=45.75/103=0.444175, d'=30.75/103=0.298544, NPS'=0.145631,
--     var'=0.742718-0.021209=0.721510
-- SE = sqrt((0.640447 + 0.721510)/103) = 0.114991; z = 0.242718/0.114991 = 2.110764
-- p = 2 * (1 - Phi(2.110764)) = 0.034793
SELECT round(nps_diff_pvalue(a, b)::numeric, 5) AS p,
       round(nps_diff_pvalue(b, a)::numeric, 5) AS p_symmetric,
       nps_diff_pvalue(a, a) AS p_same
FROM (SELECT (SELECT nps_agg(x) FROM (SELECT 10 FROM generate_series(1, 60)
                                      UNION ALL SELECT 8 FROM generate_series(1, 20)
                                      UNION ALL SELECT 2 FROM generate_series(1, 20)) t(x)) AS a,
             (SELECT nps_agg(x) FROM (SELECT 9 FROM generate_series(1, 45)
                                      UNION ALL SELECT 7 FROM generate_series(1, 25)
                                      UNION ALL SELECT 0 FROM generate_series(1, 30)) t(x)) AS b) q;

-- NULLs are skipped; no rows (or only NULLs) gives NULL; empty summaries give NULL ratios.
SELECT nps_agg(x), nps(x) FROM unnest(ARRAY[NULL, 10, NULL]::int[]) AS x;
SELECT nps_agg(x) IS NULL AS agg_null, nps(x) IS NULL AS nps_null
FROM unnest(ARRAY[NULL, NULL]::int[]) AS x;
SELECT nps_agg(x) IS NULL AS agg_null FROM survey AS x(x) WHERE false;
SELECT nps(s), promoter_pct(s), nps_stderr(s), nps_ci_lower(s), responses(s), promoters(s)
FROM (SELECT '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'::nps_summary AS s) q;

-- Exactness against plain SQL, per channel: every accessor, zero mismatches.
WITH direct AS (
    SELECT channel, nps_agg(nps_score) AS s, nps(nps_score) AS one_step FROM survey GROUP BY channel),
plain AS (
    SELECT channel, count(nps_score) AS n,
           count(*) FILTER (WHERE nps_score >= 9) AS pro,
           count(*) FILTER (WHERE nps_score BETWEEN 7 AND 8) AS pas,
           count(*) FILTER (WHERE nps_score <= 6) AS det
    FROM survey GROUP BY channel)
SELECT d.channel, responses(s), promoters(s), passives(s), detractors(s),
       responses(s) = p.n AND promoters(s) = p.pro AND passives(s) = p.pas
           AND detractors(s) = p.det AS counts_match,
       nps(s) = 100.0 * (p.pro - p.det) / p.n AS nps_matches,
       one_step = nps(s) AS one_step_matches,
       promoter_pct(s) = 100.0 * p.pro / p.n AS pct_matches
FROM direct d JOIN plain p USING (channel) ORDER BY channel;

-- score_counts against a GROUP BY on the raw score.
SELECT (SELECT array_lower(c, 1) = 0 AND ARRAY(SELECT unnest(c)) = (
            SELECT array_agg(n ORDER BY v) FROM (
                SELECT v, count(*) FILTER (WHERE nps_score = v) AS n
                FROM generate_series(0, 10) v CROSS JOIN survey GROUP BY v) q)
        FROM (SELECT score_counts(nps_agg(nps_score)) AS c FROM survey) s) AS counts_match;

-- Rollup of per-day summaries (stored in a table) equals the direct aggregate, per channel.
CREATE TABLE nps_daily AS
SELECT answered_on, channel, nps_agg(nps_score) AS s FROM survey GROUP BY 1, 2;
SELECT count(*) AS channels_differing
FROM (SELECT channel, rollup(s) AS s FROM nps_daily GROUP BY channel) r
JOIN (SELECT channel, nps_agg(nps_score) AS s FROM survey GROUP BY channel) d USING (channel)
WHERE r.s <> d.s;
-- ... and per month, maintained incrementally with merge() in an upsert, one day at a time
-- as a daily load would.
CREATE TABLE nps_monthly (month date PRIMARY KEY, s nps_summary NOT NULL);
DO $$
DECLARE d date;
BEGIN
    FOR d IN SELECT DISTINCT answered_on FROM survey ORDER BY 1 LOOP
        INSERT INTO nps_monthly
        SELECT date_trunc('month', d)::date, nps_agg(nps_score) FROM survey WHERE answered_on = d
        ON CONFLICT (month) DO UPDATE SET s = merge(nps_monthly.s, EXCLUDED.s);
    END LOOP;
END $$;
SELECT count(*) AS months, sum(responses(s)) AS responses,
       bool_and(s = (SELECT nps_agg(nps_score) FROM survey
                     WHERE date_trunc('month', answered_on) = month)) AS all_match
FROM nps_monthly;
SELECT merge(NULL::nps_summary, s) = s AS left_null, merge(s, NULL) = s AS right_null,
       merge(NULL::nps_summary, NULL) IS NULL AS both_null
FROM hand;

-- Window frames: the moving aggregate equals recomputation over the same frame.
WITH daily AS (
    SELECT answered_on, nps_agg(nps_score) AS s FROM survey GROUP BY answered_on),
moving AS (
    SELECT answered_on,
           nps(s) AS day_nps,
           rollup(s) OVER w AS week_rollup
    FROM daily WINDOW w AS (ORDER BY answered_on ROWS 6 PRECEDING)),
raw AS (
    SELECT id, answered_on, nps_score,
           nps_agg(nps_score) OVER w AS s7, nps(nps_score) OVER w AS nps7
    FROM survey WHERE id <= 2000 WINDOW w AS (ORDER BY id ROWS 99 PRECEDING))
SELECT (SELECT count(*) FROM moving m
        WHERE week_rollup IS DISTINCT FROM
              (SELECT rollup(s) FROM daily d
               WHERE d.answered_on IN (SELECT answered_on FROM daily d2
                                       WHERE d2.answered_on <= m.answered_on
                                       ORDER BY answered_on DESC LIMIT 7))) AS rollup_frames_differing,
       (SELECT count(*) FROM raw r
        WHERE s7 IS DISTINCT FROM (SELECT nps_agg(nps_score) FROM survey x
                                   WHERE x.id BETWEEN r.id - 99 AND r.id)
           OR nps7 IS DISTINCT FROM nps(s7)) AS score_frames_differing;

-- A frame that holds only NULL scores gives NULL, as sum() would.
SELECT i, x, nps_agg(x) OVER w, nps(x) OVER w
FROM unnest(ARRAY[10, NULL, NULL, 0]) WITH ORDINALITY AS t(x, i)
WINDOW w AS (ORDER BY i ROWS 1 PRECEDING);

-- Out-of-range scores: 22003, naming the value.
SELECT nps_agg(x) FROM unnest(ARRAY[5, 11]) AS x;
SELECT nps(x) FROM unnest(ARRAY[-1]) AS x;

-- Frames that start with NULL rows (moving mode needs a state from the first row on):
-- leading NULL scores, and a calendar of days whose first days have no summary.
SELECT i, nps(x) OVER w AS nps, nps_agg(x) OVER w AS s
FROM (VALUES (1, NULL::int), (2, NULL), (3, 9), (4, NULL), (5, NULL), (6, 0)) v(i, x)
WINDOW w AS (ORDER BY i ROWS 1 PRECEDING);
SELECT day, nps(rollup(s) OVER w) AS nps_3d, responses(rollup(s) OVER w) AS n_3d
FROM (SELECT d::date AS day, n.s
      FROM generate_series(date '2025-01-01', date '2025-01-07', '1 day') d
      LEFT JOIN (SELECT answered_on, nps_agg(nps_score) AS s FROM survey
                 WHERE answered_on IN ('2025-01-03', '2025-01-04', '2025-01-07')
                 GROUP BY answered_on) n ON n.answered_on = d) cal
WINDOW w AS (ORDER BY day ROWS 2 PRECEDING)
ORDER BY day;
-- RANGE frames that empty after a gap
SELECT i, nps(x) OVER (ORDER BY i RANGE BETWEEN 1 PRECEDING AND CURRENT ROW)
FROM (VALUES (1, 10), (2, NULL::int), (5, NULL), (6, 3)) v(i, x);
-- an aggregate or rollup of nothing but empty summaries is NULL, in every mode
SELECT rollup(s) IS NULL AS rollup_of_empty
FROM (VALUES ('(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'::nps_summary)) v(s);
