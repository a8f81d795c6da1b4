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
\echo 'Fits by shape of the customer table, same run: friendly (day resolution, ages 1-52 weeks, few'
\echo 'distinct rows), all distinct (continuous time), two years (day resolution, ages up to 104 weeks).'
\echo '/friendly: median / median of the same fit over the friendly table, same mode; 2w/serial: median'
\echo 'with 2 workers / serial median.'
SELECT s.model, s.shape, to_char(s.ms, 'FM999990.0') AS "serial ms", to_char(s.ms / fs.ms, 'FM990.00') AS "/friendly",
       to_char(p.ms, 'FM999990.0') AS "2 workers ms", to_char(p.ms / fp.ms, 'FM990.00') AS "/friendly",
       to_char(p.ms / s.ms, 'FM90.00') AS "2w/serial"
FROM (SELECT m.*, q.model, q.shape FROM med m JOIN bench_query q USING (id)) s
JOIN med p ON p.id = s.id AND p.mode = 'parallel'
JOIN bench_query fq ON fq.model = s.model AND fq.shape = 'friendly'
JOIN med fs ON fs.id = fq.id AND fs.mode = 'serial'
JOIN med fp ON fp.id = fq.id AND fp.mode = 'parallel'
WHERE s.mode = 'serial' AND s.model IS NOT NULL
ORDER BY s.model, s.id;

\echo
\echo 'Targets of the issue: bgnbd_fit over the (1M-row) customer table under 1 s serially (scan included); the'
\echo '12-month discounted CLV of all customers under 3 s (serial); rfm_agg no slower than the plain SQL'
\echo '(ratio <= 1, serial and with 2 workers); bgnbd_fit, mbgnbd_fit and gamma_gamma_fit over the all-distinct'
\echo '(continuous-time) customers under 1 s serially (issue 20).'
CREATE TEMP VIEW targets AS
SELECT 'bgnbd_fit < 1 s' AS target, 'serial' AS mode, to_char(ms, 'FM99990" ms"') AS value, ms < 1000 AS ok
FROM med WHERE task = 'fit' AND kind = 'summary' AND mode = 'serial'
UNION ALL
SELECT q.model || '_fit, all distinct < 1 s', 'serial', to_char(m.ms, 'FM99990" ms"'), m.ms < 1000
FROM med m JOIN bench_query q USING (id) WHERE q.shape = 'all distinct' AND m.mode = 'serial'
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
