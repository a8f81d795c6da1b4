-- Medians, ratios and targets from bench_run (run by test/bench/retention.sh).
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

CREATE TEMP VIEW best_sql AS
SELECT task, mode, min(ms) AS ms FROM med WHERE kind LIKE 'sql%' GROUP BY 1, 2;

SELECT min(runs) AS runs FROM med \gset
\echo
\echo 'Medians of' :runs 'runs of each query in each mode, in ms of server execution time (EXPLAIN ANALYZE,'
\echo 'TIMING OFF), over' :rows 'activity rows of' :customers 'customers in 24 months.  serial: max_parallel_workers_per_gather'
\echo '= 0; 2 workers: = 2, parallel_setup_cost = parallel_tuple_cost = 0.  IQR: interquartile range / median.'
\echo 'w: workers launched (fewest of the runs).  /best SQL: median / median of the faster SQL formulation, same mode.'
\echo
SELECT s.task, s.label AS query,
       to_char(s.ms, 'FM999990.0') AS "serial ms", to_char(100 * s.iqr, 'FM990"%"') AS "IQR",
       to_char(p.ms, 'FM999990.0') AS "2 workers ms", to_char(100 * p.iqr, 'FM990"%"') AS "IQR",
       p.workers AS w,
       to_char(s.ms / bs.ms, 'FM90.000') AS "/best SQL serial", to_char(p.ms / bp.ms, 'FM90.000') AS "/best SQL 2w"
FROM med s JOIN med p ON p.id = s.id AND p.mode = 'parallel'
JOIN best_sql bs ON bs.task = s.task AND bs.mode = 'serial'
JOIN best_sql bp ON bp.task = s.task AND bp.mode = 'parallel'
WHERE s.mode = 'serial' ORDER BY s.task DESC, s.id;

\echo
\echo 'Building the summary alone, against the cheapest aggregate over the same rows:'
SELECT s.label AS query, to_char(s.ms, 'FM999990.0') AS "serial ms", to_char(p.ms, 'FM999990.0') AS "2 workers ms",
       to_char(s.ms / fs.ms, 'FM90.00') AS "/sum serial", to_char(p.ms / fp.ms, 'FM90.00') AS "/sum 2w"
FROM med s JOIN med p ON p.id = s.id AND p.mode = 'parallel'
JOIN med fs ON fs.kind = 'scan' AND fs.mode = 'serial' JOIN med fp ON fp.kind = 'scan' AND fp.mode = 'parallel'
WHERE s.mode = 'serial' AND s.task = 'reference' ORDER BY s.id;

\echo
\echo 'Summary size (the stored monthly summary of all' :customers 'customers):'
SELECT pg_column_size(s) AS "bytes (pg_column_size)", pg_size_pretty(pg_column_size(s)::bigint) AS size,
       length(s::text) AS "text form, characters",
       round(8.0 * pg_column_size(s) / (SELECT sum(active_customers) FROM retention_by_period(s)), 2)
           AS "bits per customer-month",
       pg_column_size(s) < 32 * 1024 * 1024 AS "< 32 MB"
FROM monthly_summary;

\echo
\echo 'Targets of the issue: the summary path (retention_agg over the raw rows, then the accessors) at most'
\echo '0.5x the time of the best plain SQL, serial and with 2 workers; the summary under 32 MB.'
CREATE TEMP VIEW targets AS
SELECT m.task, m.mode, m.ms / b.ms AS ratio, m.ms / b.ms <= 0.5 AS ok
FROM med m JOIN best_sql b USING (task, mode) WHERE m.kind = 'summary'
UNION ALL
SELECT 'size', '', pg_column_size(s) / (32.0 * 1024 * 1024), pg_column_size(s) < 32 * 1024 * 1024 FROM monthly_summary;
SELECT task, mode, to_char(ratio, 'FM90.000') || CASE WHEN ok THEN ' PASS' ELSE ' MISS' END AS "ratio (size: of 32 MB)"
FROM targets ORDER BY task DESC, mode DESC;
SELECT format('Retention targets: %s PASS, %s MISS', count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok))
       AS summary FROM targets \gset
\echo
\echo :summary
SELECT count(*) AS bad FROM med WHERE mode = 'parallel' AND kind LIKE 'sql%' AND workers < 1 \gset
SELECT :bad > 0 AS warn \gset
\if :warn
\echo 'WARNING:' :bad 'SQL queries launched no parallel worker in parallel mode (column w).'
\endif
