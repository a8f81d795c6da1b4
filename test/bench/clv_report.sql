-- Medians, ratios and targets from bench_run (run by test/bench/clv.sh).
\pset footer off
\pset null ''

CREATE TEMP VIEW med AS
SELECT q.id, q.task, q.kind, q.label, r.mode,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) AS ms,
       (percentile_cont(0.75) WITHIN GROUP (ORDER BY r.ms)
        - percentile_cont(0.25) WITHIN GROUP (ORDER BY r.ms)) / percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) AS iqr,
       min(r.workers) AS workers, count(*) AS runs
FROM bench_query q JOIN bench_run r ON r.query_id = q.id
WHERE r.run > 0 GROUP BY 1, 2, 3, 4, 5;

SELECT min(runs) AS runs FROM med \gset
\echo
\echo 'Medians of' :runs 'runs of each query in each mode, in ms of server execution time (EXPLAIN ANALYZE,'
\echo 'TIMING OFF), over' :rows 'transactions and' :customers 'customers.  serial: max_parallel_workers_per_gather = 0;'
\echo '2 workers: = 2, parallel_setup_cost = parallel_tuple_cost = 0.  IQR: interquartile range / median.'
\echo 'w: workers launched (fewest of the runs).  /SQL: median / median of the plain SQL, same mode.'
\echo
SELECT s.task, s.label AS query,
       to_char(s.ms, 'FM999990.0') AS "serial ms", to_char(100 * s.iqr, 'FM990"%"') AS "IQR",
       to_char(p.ms, 'FM999990.0') AS "2 workers ms", to_char(100 * p.iqr, 'FM990"%"') AS "IQR",
       p.workers AS w,
       to_char(s.ms / bs.ms, 'FM90.000') AS "/SQL serial", to_char(p.ms / bp.ms, 'FM90.000') AS "/SQL 2w"
FROM med s JOIN med p ON p.id = s.id AND p.mode = 'parallel'
LEFT JOIN med bs ON bs.task = s.task AND bs.kind = 'sql' AND bs.mode = 'serial'
LEFT JOIN med bp ON bp.task = s.task AND bp.kind = 'sql' AND bp.mode = 'parallel'
WHERE s.mode = 'serial' ORDER BY s.task, s.id;

\echo
\echo 'Targets of the issue: bgnbd_fit over the (1M-row) customer table under 1 s serially (scan included); the'
\echo '12-month discounted CLV of all customers under 3 s (serial); rfm_agg no slower than the plain SQL'
\echo '(ratio <= 1, serial and with 2 workers).'
CREATE TEMP VIEW targets AS
SELECT 'bgnbd_fit < 1 s' AS target, 'serial' AS mode, to_char(ms, 'FM99990" ms"') AS value, ms < 1000 AS ok
FROM med WHERE task = 'fit' AND kind = 'summary' AND mode = 'serial'
UNION ALL
SELECT 'clv() of all customers < 3 s', 'serial', to_char(ms, 'FM99990" ms"'), ms < 3000
FROM med WHERE task = 'clv' AND kind = 'summary' AND mode = 'serial'
UNION ALL
SELECT 'rfm_agg / plain SQL <= 1', m.mode, to_char(m.ms / s.ms, 'FM90.000'), m.ms <= s.ms
FROM med m JOIN med s ON s.task = m.task AND s.kind = 'sql' AND s.mode = m.mode
WHERE m.task = 'rfm' AND m.kind = 'summary';
SELECT target, mode, value || CASE WHEN ok THEN ' PASS' ELSE ' MISS' END AS result FROM targets ORDER BY target, mode DESC;
SELECT format('CLV targets: %s PASS, %s MISS', count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok))
       AS summary FROM targets \gset
\echo
\echo :summary
