-- Retention by id shape (run by test/bench/retention_shapes.sh; psql variables :rows, :customers,
-- :runs).  Issue 20: the same activity under three kinds of customer ids, timed in one run so that
-- the ratios to dense ids compare like with like.
--
-- activity: the rows of retention_setup.sql (customer c of 1 .. :customers, 24 months), each with
-- three ids for c: dense (c, as a serial key gives them), h32 (hashint8(c): spread over 32 bits;
-- a few customers collide) and h64 (hashint8extended(c, 0): spread over the whole bigint range).
SET client_min_messages = warning;
CREATE EXTENSION cxkpi;
CREATE EXTENSION pg_prewarm;
\echo -n 'loading' :rows 'activity rows for' :customers 'customers ... '
\timing on
CREATE TABLE activity AS
SELECT c AS dense, hashint8(c)::bigint AS h32, hashint8extended(c, 0) AS h64,
       (date '2023-01-01' + make_interval(months => m))::date + (hashint8(3 * i + 2) & 2147483647) % 28 AS active_on
FROM (SELECT i, 1 + (hashint8(3 * i) & 2147483647) % :customers AS c FROM generate_series(1, :rows::bigint) AS i) r,
     LATERAL (SELECT (hashint8(c + 1000000007) & 2147483647) % 24 AS s) st,
     LATERAL (SELECT s + floor((24 - s) * power((hashint8(3 * i + 1) & 2147483647) / 2147483648.0, 2))::int AS m) mm;
\timing off
VACUUM (FREEZE, ANALYZE) activity;
SELECT pg_prewarm('activity') AS blocks \gset

CREATE TABLE shape (name text PRIMARY KEY, ord int NOT NULL, s retention_summary);
INSERT INTO shape VALUES ('dense', 1, NULL), ('h32', 2, NULL), ('h64', 3, NULL);
UPDATE shape SET s = q.s FROM (SELECT retention_agg(dense, active_on) AS s FROM activity) q WHERE name = 'dense';
UPDATE shape SET s = q.s FROM (SELECT retention_agg(h32, active_on) AS s FROM activity) q WHERE name = 'h32';
UPDATE shape SET s = q.s FROM (SELECT retention_agg(h64, active_on) AS s FROM activity) q WHERE name = 'h64';

-- dense and h64 name the same customers (hashint8extended is one-to-one on these ids, checked),
-- so every figure must agree.
SELECT (SELECT count(DISTINCT h64) FROM activity) = (SELECT count(DISTINCT dense) FROM activity) AS one_to_one \gset
\if :one_to_one
\else
  \echo 'hashint8extended collides on these ids: pick other BENCH_ROWS / BENCH_CUSTOMERS'
  SELECT 1/0;
\endif
SELECT NOT EXISTS (SELECT * FROM retention_by_period((SELECT s FROM shape WHERE name = 'dense'))
                   EXCEPT ALL SELECT * FROM retention_by_period((SELECT s FROM shape WHERE name = 'h64')))
   AND NOT EXISTS (SELECT * FROM cohort_retention((SELECT s FROM shape WHERE name = 'dense'))
                   EXCEPT ALL SELECT * FROM cohort_retention((SELECT s FROM shape WHERE name = 'h64')))
       AS same_figures \gset
\if :same_figures
\echo 'check: dense and h64 summaries give the same retention_by_period and cohort_retention rows'
\else
  \echo 'FAILED: dense and h64 summaries disagree'
  SELECT 1/0;
\endif

CREATE TABLE timing (shape text, task text, run int, ms float8);
CREATE FUNCTION time_ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); BEGIN EXECUTE q; RETURN 1000 * extract(epoch FROM clock_timestamp() - t0); END $$;
SET max_parallel_workers_per_gather = 0;
-- Round-robin over the shapes and tasks; run 0 is a warm-up.
DO $$
DECLARE r int; sh text; task text; q text;
BEGIN
  FOR r IN 0 .. current_setting('bench.runs')::int LOOP
    FOREACH sh IN ARRAY ARRAY['dense', 'h32', 'h64'] LOOP
      FOREACH task IN ARRAY ARRAY['build', 'retention_by_period', 'cohort_retention', 'text out + in'] LOOP
        q := CASE task
          WHEN 'build' THEN format('SELECT pg_column_size(retention_agg(%I, active_on)) FROM activity', sh)
          WHEN 'retention_by_period' THEN format('SELECT count(*) FROM retention_by_period((SELECT s FROM shape WHERE name = %L))', sh)
          WHEN 'cohort_retention' THEN format('SELECT count(*) FROM cohort_retention((SELECT s FROM shape WHERE name = %L))', sh)
          ELSE format('SELECT pg_column_size(s::text::retention_summary) FROM shape WHERE name = %L', sh) END;
        INSERT INTO timing VALUES (sh, task, r, time_ms(q));
      END LOOP;
    END LOOP;
  END LOOP;
END $$;

\pset footer off
\echo
\echo 'Medians of' :runs 'runs (after a warm-up), serial, server time in ms;' :rows 'rows,' :customers 'customers, 24 months.'
\echo 'x dense: the median / the median with dense ids, same run.  Target of issue 20: h64 within 2x of dense.'
WITH med AS (SELECT shape, task, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
             FROM timing WHERE run > 0 GROUP BY 1, 2),
     sz AS (SELECT name AS shape, ord, pg_column_size(s)::float8 AS bytes, length(s::text) AS text_bytes FROM shape),
     m AS (SELECT sz.shape, sz.ord, sz.bytes, sz.text_bytes,
                  max(ms) FILTER (WHERE task = 'build') AS build,
                  max(ms) FILTER (WHERE task = 'retention_by_period') AS rbp,
                  max(ms) FILTER (WHERE task = 'cohort_retention') AS cohort,
                  max(ms) FILTER (WHERE task = 'text out + in') AS text_io
           FROM sz JOIN med USING (shape) GROUP BY 1, 2, 3, 4),
     d AS (SELECT * FROM m WHERE shape = 'dense')
SELECT m.shape AS ids, to_char(m.bytes, 'FM999,999,999,990') AS bytes, to_char(m.bytes / d.bytes, 'FM990.00') AS "x dense",
       to_char(m.build, 'FM999,990') AS "build ms", to_char(m.build / d.build, 'FM990.00') AS "x dense",
       to_char(m.rbp, 'FM999,990.0') AS "retention_by_period ms", to_char(m.rbp / d.rbp, 'FM9990.00') AS "x dense",
       to_char(m.cohort, 'FM999,990.0') AS "cohort_retention ms", to_char(m.cohort / d.cohort, 'FM9990.00') AS "x dense",
       to_char(m.text_io, 'FM999,990') AS "text out + in ms", to_char(m.text_bytes, 'FM999,999,999,990') AS "text bytes"
FROM m CROSS JOIN d ORDER BY m.ord;
