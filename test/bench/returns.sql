-- Returns benchmark (run by test/bench/run.sh after the survey benchmark, in the same
-- database; needs bench_explain() from setup.sql).  psql variables: :rows orders, :runs.
--
-- orders_bench: :rows deterministic orders, 1..6 items; 75 % without a return, 10 % fully
-- returned, the rest partly; order values 5.00..500.00 with cents, returned value the whole
-- value for a full return, the items' share (rounded to the cent) for a partial one.
SET client_min_messages = warning;

\echo '== returns: loading' :rows 'orders ...'
\timing on
CREATE TABLE orders_bench AS
SELECT i AS id, items,
       (CASE WHEN r < 75 THEN 0 WHEN r < 85 THEN items ELSE 1 + (i % items) END)::int AS items_returned,
       v AS order_value,
       CASE WHEN r < 75 THEN 0 WHEN r < 85 THEN v
            ELSE round(v * (1 + (i % items)) / items, 2) END AS returned_value
FROM (SELECT i, 1 + ((hashint8(5 * i) & 2147483647) % 6)::int AS items,
             (hashint8(5 * i + 1) & 2147483647) % 100 AS r,
             (500 + (hashint8(5 * i + 2) & 2147483647) % 49501) / 100.0 AS v
      FROM generate_series(1, :rows::bigint) AS i) g;
\timing off
-- fully returned orders: a partial return of a one-item order is a full one
UPDATE orders_bench SET items_returned = items WHERE items_returned > items;
VACUUM (FREEZE, ANALYZE) orders_bench;
SELECT pg_prewarm('orders_bench') AS blocks, pg_size_pretty(pg_relation_size('orders_bench')) AS size \gset
\echo 'orders_bench:' :size 'in' :blocks 'blocks, prewarmed'

-- The hand-written SQL that gives the same numbers as return_agg and its accessors.
CREATE VIEW returns_by_hand AS
SELECT n AS orders, with_ret AS orders_with_return, full_ret AS orders_fully_returned,
       items AS items_ordered, items_ret AS items_returned,
       100.0 * with_ret / n AS return_rate, 100.0 * full_ret / n AS full_return_rate,
       100.0 * items_ret / items AS item_return_rate, 100 * rv / ov AS value_return_rate,
       ov AS order_value, rv AS returned_value, ov / n AS avg_order_value,
       rv_ret / with_ret AS avg_return_value,
       100 * (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n))) / (1 + z * z / n)
           AS return_rate_ci_lower,
       100 * (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n))) / (1 + z * z / n)
           AS return_rate_ci_upper
FROM (SELECT count(*) AS n,
             count(*) FILTER (WHERE items_returned > 0) AS with_ret,
             count(*) FILTER (WHERE items_returned = items) AS full_ret,
             sum(items) AS items, sum(items_returned) AS items_ret,
             sum(order_value) AS ov, sum(returned_value) AS rv,
             sum(returned_value) FILTER (WHERE items_returned > 0) AS rv_ret,
             (count(*) FILTER (WHERE items_returned > 0))::float8 / count(*) AS p,
             1.959963984540054::float8 AS z
      FROM orders_bench) t;

-- Same numbers first (a benchmark of different answers would mean nothing).
SELECT CASE WHEN (SELECT orders(s) = h.orders AND orders_with_return(s) = h.orders_with_return
                         AND orders_fully_returned(s) = h.orders_fully_returned
                         AND items_returned(s) = h.items_returned
                         AND order_value(s) = h.order_value AND returned_value(s) = h.returned_value
                         AND avg_order_value(s) = h.avg_order_value
                         AND avg_return_value(s) = h.avg_return_value
                         AND abs(return_rate_ci_lower(s) - h.return_rate_ci_lower) < 1e-9
                  FROM (SELECT return_agg(items, items_returned, order_value, returned_value) AS s
                        FROM orders_bench) q, returns_by_hand h)
            THEN 'checks: return_agg and its accessors agree with the hand-written SQL'
            ELSE 'checks: MISMATCH between return_agg and the hand-written SQL' END AS checks \gset
\echo :checks
SELECT :'checks' LIKE '%MISMATCH%' AS mismatch \gset
\if :mismatch
  \quit
\endif

CREATE TABLE returns_query (id int PRIMARY KEY, label text, sql text);
INSERT INTO returns_query VALUES
 (1, 'return_rate(return_agg(items, items_returned))',
     'SELECT return_rate(return_agg(items, items_returned)) FROM orders_bench'),
 (2, 'return_rate(items, items_returned)  [one-step]',
     'SELECT return_rate(items, items_returned) FROM orders_bench'),
 (3, 'sum(items_returned)',
     'SELECT sum(items_returned) FROM orders_bench'),
 (4, 'SQL: 100.0 * count(*) FILTER / count(*)',
     'SELECT 100.0 * count(*) FILTER (WHERE items_returned > 0) / count(*) FROM orders_bench'),
 (5, 'return_agg(4 args) + all 15 accessors',
     'SELECT orders(s), orders_with_return(s), orders_fully_returned(s), items_ordered(s), items_returned(s),
             return_rate(s), full_return_rate(s), item_return_rate(s), value_return_rate(s),
             order_value(s), returned_value(s), avg_order_value(s), avg_return_value(s),
             return_rate_ci_lower(s), return_rate_ci_upper(s)
      FROM (SELECT return_agg(items, items_returned, order_value, returned_value) AS s FROM orders_bench) q'),
 (6, 'SQL: the same 15 numbers by hand',
     'SELECT * FROM returns_by_hand');

CREATE TABLE returns_run (query_id int, mode text, run int, ms float8, workers int);
SELECT set_config('cxkpi_bench.runs', :'runs', false) \gset
DO $$
DECLARE
    runs int := current_setting('cxkpi_bench.runs')::int;
    mode text;
    q record;
    r record;
BEGIN
    FOR rnd IN 0 .. runs LOOP
        FOREACH mode IN ARRAY ARRAY['serial', 'parallel'] LOOP
            IF mode = 'serial' THEN
                PERFORM set_config('max_parallel_workers_per_gather', '0', true);
            ELSE
                PERFORM set_config('max_parallel_workers_per_gather', '2', true);
                PERFORM set_config('parallel_setup_cost', '0', true);
                PERFORM set_config('parallel_tuple_cost', '0', true);
            END IF;
            FOR q IN SELECT * FROM returns_query ORDER BY id LOOP
                SELECT * INTO r FROM bench_explain(q.sql);
                INSERT INTO returns_run VALUES (q.id, mode, rnd, r.ms, r.workers);
            END LOOP;
        END LOOP;
    END LOOP;
END $$;

\echo
\echo 'Medians of' :runs 'runs (ms of server execution time, EXPLAIN ANALYZE TIMING OFF), over' :rows 'orders.'
CREATE TEMP VIEW returns_median AS
SELECT query_id, mode, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, max(workers) AS w
FROM returns_run WHERE run > 0 GROUP BY 1, 2;
SELECT q.label AS query,
       round(s.ms::numeric, 1) AS "serial ms", round(p.ms::numeric, 1) AS "2 workers ms",
       round((s.ms / p.ms)::numeric, 2) || 'x' AS "speed-up", p.w AS w,
       round((s.ms / (SELECT ms FROM returns_median WHERE query_id = 3 AND mode = 'serial'))::numeric, 2)
           AS "/sum serial",
       round((s.ms / (SELECT ms FROM returns_median
                      WHERE query_id = CASE WHEN q.id <= 4 THEN 4 ELSE 6 END AND mode = 'serial'))::numeric, 2)
           AS "/SQL serial",
       round((p.ms / (SELECT ms FROM returns_median
                      WHERE query_id = CASE WHEN q.id <= 4 THEN 4 ELSE 6 END AND mode = 'parallel'))::numeric, 2)
           AS "/SQL 2w"
FROM returns_query q
JOIN returns_median s ON s.query_id = q.id AND s.mode = 'serial'
JOIN returns_median p ON p.query_id = q.id AND p.mode = 'parallel'
ORDER BY q.id;

\echo 'Targets: R1 return_agg (2 args) serial <= 1.15x sum(items_returned);'
\echo '         R2 return_agg with all accessors serial <= 0.85x the hand-written SQL.'
SELECT 'R1 return_agg / sum(items_returned)' AS target,
       round((a.ms / b.ms)::numeric, 2) AS ratio,
       CASE WHEN a.ms / b.ms <= 1.15 THEN 'PASS' ELSE 'MISS' END AS verdict
FROM returns_median a, returns_median b
WHERE a.query_id = 1 AND a.mode = 'serial' AND b.query_id = 3 AND b.mode = 'serial'
UNION ALL
SELECT 'R2 return_agg + accessors / SQL',
       round((a.ms / b.ms)::numeric, 2),
       CASE WHEN a.ms / b.ms <= 0.85 THEN 'PASS' ELSE 'MISS' END
FROM returns_median a, returns_median b
WHERE a.query_id = 5 AND a.mode = 'serial' AND b.query_id = 6 AND b.mode = 'serial';
