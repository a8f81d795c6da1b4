-- Medians, ratios and targets from bench_run (run by test/bench/run.sh).
\pset footer off
\pset null ''

CREATE TEMP VIEW med AS
WITH m AS (
    SELECT query_id, mode,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY ms) AS p25,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY ms) AS p75,
           min(ms) AS best, min(workers) AS workers, count(*) AS runs
    FROM bench_run WHERE run > 0 GROUP BY 1, 2
)
SELECT q.*, s.ms AS ser, p.ms AS par, p.workers AS par_workers, s.workers AS ser_workers,
       (s.p75 - s.p25) / s.ms AS ser_spread, (p.p75 - p.p25) / p.ms AS par_spread,
       s.runs, s.best AS ser_best, p.best AS par_best,
       max(s.best) FILTER (WHERE q.kind = 'sum') OVER w AS sum_ser_best,
       max(p.best) FILTER (WHERE q.kind = 'sum') OVER w AS sum_par_best,
       max(s.best) FILTER (WHERE q.kind = 'sql') OVER w AS sql_ser_best,
       max(s.ms) FILTER (WHERE q.kind = 'sum') OVER w AS sum_ser,
       max(p.ms) FILTER (WHERE q.kind = 'sum') OVER w AS sum_par,
       max(s.ms) FILTER (WHERE q.kind = 'sql') OVER w AS sql_ser,
       max(p.ms) FILTER (WHERE q.kind = 'sql') OVER w AS sql_par
FROM bench_query q
JOIN m s ON s.query_id = q.id AND s.mode = 'serial'
JOIN m p ON p.query_id = q.id AND p.mode = 'parallel'
WINDOW w AS (PARTITION BY q.family, q.grouped);

SELECT min(runs) AS runs, max(runs) FILTER (WHERE family = 'NPS' AND NOT grouped) AS target_runs
FROM med \gset
\echo
\echo 'Medians of' :runs 'runs of each query in each mode (of' :target_runs 'for the NPS queries over all rows, which the'
\echo 'targets use), in ms of server execution time (EXPLAIN ANALYZE, TIMING OFF), over' :rows 'rows.'
\echo 'serial: max_parallel_workers_per_gather = 0; 2 workers: = 2, parallel_setup_cost = parallel_tuple_cost = 0.'
\echo 'IQR: interquartile range of the runs / median (noise).  w: parallel workers launched (fewest of the runs).'
\echo 'ratios: median time of the query / median time of sum(score) or of the hand-written SQL, same mode.'
\echo
SELECT CASE WHEN grouped THEN 'channel' ELSE 'total' END AS "group",
       label AS query,
       to_char(ser, 'FM99990.0') AS "serial ms",
       to_char(100 * ser_spread, 'FM990"%"') AS "IQR",
       to_char(par, 'FM99990.0') AS "2 workers ms",
       to_char(100 * par_spread, 'FM990"%"') AS "IQR",
       to_char(ser / par, 'FM90.00x') AS "speed-up",
       par_workers AS "w",
       to_char(ser / sum_ser, 'FM90.00') AS "/sum serial",
       to_char(par / sum_par, 'FM90.00') AS "/sum 2w",
       to_char(ser / sql_ser, 'FM90.00') AS "/SQL serial",
       to_char(par / sql_par, 'FM90.00') AS "/SQL 2w"
FROM med WHERE family <> 'rollup' ORDER BY id;

\echo
\echo 'Daily summaries: a year of nps_summary rows (one per day) merged with rollup(), vs nps_agg over the raw rows.'
SELECT r.label AS query,
       to_char(r.ser, 'FM99990.000') AS "serial ms",
       to_char(r.par, 'FM99990.000') AS "parallel-mode ms",
       to_char(raw.ser, 'FM99990.0') AS "raw rows serial ms",
       to_char(raw.par, 'FM99990.0') AS "raw rows 2w ms",
       to_char(raw.ser / r.ser, 'FM9999990"x"') AS "faster than raw serial"
FROM med r, med raw
WHERE r.family = 'rollup' AND raw.family = 'NPS' AND raw.kind = 'agg' AND raw.grouped = r.grouped
ORDER BY r.id;

\echo
\echo 'Targets of the issue, on nps(nps_agg(nps_score)) over all rows (first line):'
\echo '  T1 serial time / that of sum(score) <= 1.10     T2 serial time / that of the hand-written SQL <= 0.85'
\echo '  T3 speed-up with 2 workers >= that of sum(score)   T4 rollup of 365 daily summaries < 5 ms'
\echo 'The other lines hold nps_agg by channel, csat_agg and ces_agg to the same bars, for information.'
\echo 'Verdicts use the medians; "best" is the same ratio of the fastest runs (noise only adds time).'
CREATE TEMP VIEW targets AS
SELECT id, family, grouped, family = 'NPS' AND NOT grouped AS official,
       label || CASE WHEN grouped THEN ' by channel' ELSE '' END AS what,
       ser / sum_ser AS t1, ser / sum_ser <= 1.10 AS t1_ok,
       ser / sql_ser AS t2, ser / sql_ser <= 0.85 AS t2_ok,
       ser / par AS t3, sum_ser / sum_par AS t3_sum, ser / par >= sum_ser / sum_par AS t3_ok,
       ser_best / sum_ser_best AS t1_best, ser_best / sql_ser_best AS t2_best,
       ser_best / par_best AS t3_best, sum_ser_best / sum_par_best AS t3_sum_best
FROM med WHERE kind = 'agg';
SELECT what || CASE WHEN official THEN '' ELSE ' (info)' END AS query,
       to_char(t1, 'FM90.000') || CASE WHEN t1_ok THEN ' PASS' ELSE ' MISS' END
           || ' (best ' || to_char(t1_best, 'FM90.000') || ')' AS "T1 /sum <= 1.10",
       to_char(t2, 'FM90.000') || CASE WHEN t2_ok THEN ' PASS' ELSE ' MISS' END
           || ' (best ' || to_char(t2_best, 'FM90.000') || ')' AS "T2 /SQL <= 0.85",
       to_char(t3, 'FM90.000') || ' vs ' || to_char(t3_sum, 'FM90.000')
           || CASE WHEN t3_ok THEN ' PASS' ELSE ' MISS' END
           || ' (best ' || to_char(t3_best, 'FM90.000') || ' vs ' || to_char(t3_sum_best, 'FM90.000')
           || ')' AS "T3 speed-up >= sum's"
FROM targets ORDER BY id;
SELECT label AS query,
       to_char(ser, 'FM90.000') || ' ms' || CASE WHEN ser < 5 THEN ' PASS' ELSE ' MISS' END
           AS "T4 < 5 ms (serial median)"
FROM med WHERE family = 'rollup' AND NOT grouped;

SELECT format('Targets of the issue: %s PASS, %s MISS%s', count(*) FILTER (WHERE ok),
              count(*) FILTER (WHERE NOT ok),
              ' (' || string_agg(what, ', ' ORDER BY what) FILTER (WHERE NOT ok) || ' missed)')
       AS summary
FROM (
    SELECT t1_ok AS ok, 'T1' AS what FROM targets WHERE official
    UNION ALL SELECT t2_ok, 'T2' FROM targets WHERE official
    UNION ALL SELECT t3_ok, 'T3' FROM targets WHERE official
    UNION ALL SELECT ser < 5, 'T4' FROM med WHERE family = 'rollup' AND NOT grouped
) t \gset
\echo
\echo :summary

SELECT round(100 * max(greatest(ser_spread, par_spread))) AS noise,
       max(greatest(ser_spread, par_spread)) > 0.15 AS noisy
FROM med WHERE family = 'NPS' AND NOT grouped \gset
\if :noisy
\echo 'WARNING: a noisy run: the runs of the target queries spread up to' :noise '% (IQR / median); other work'
\echo '         on the machine slowed runs at random, and verdicts near a bar may flip.  Re-run when it is quieter.'
\endif

SELECT count(*) AS bad FROM med WHERE family <> 'rollup' AND par_workers < 2 \gset
SELECT :bad > 0 AS warn \gset
\if :warn
\echo 'WARNING:' :bad 'queries launched fewer than 2 workers in parallel mode (column w): too few background workers free?'
\endif
