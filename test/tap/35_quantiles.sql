-- exact_percentiles(values float8[], fractions float8[]) (src/quantiles.c): percentile_cont's
-- values, bit for bit, over every element of every array of a group; hand-worked cases, the
-- built-in over unnest() on random data, NULLs, NaN, errors, and parallel plans.
BEGIN;
SET client_min_messages = warning;
SELECT plan(14);

-- Hand-worked: four values 1..4 in two arrays; median at rank 1.5 -> 2.5, p90 at 2.7 -> 3.7.
SELECT is((SELECT exact_percentiles(a, '{0.5,0.9}') FROM (VALUES ('{4,1}'::float8[]), ('{3,2}')) AS t(a)),
          '{2.5,3.7}'::float8[], 'median and p90 of 1, 2, 3, 4 in two arrays (hand-worked)');
SELECT is((SELECT exact_percentiles(a, '{0,1,0.25}') FROM (VALUES ('{10}'::float8[])) AS t(a)),
          '{10,10,10}'::float8[], 'one value is every percentile');

-- Equal to percentile_cont over unnest(), as text, on random arrays in 7 groups (with empty and
-- NULL arrays and NULL elements).
CREATE TEMP TABLE r AS
SELECT g % 7 AS grp,
       CASE WHEN g % 50 = 0 THEN NULL
            ELSE ARRAY(SELECT CASE WHEN (hashint4(g * 1000 + i) & 255) = 7 THEN NULL
                                   ELSE round(((hashint4(g * 1000 + i) & 1048575) / 1048575.0 * 48)::numeric, 3)::float8 END
                       FROM generate_series(1, (hashint4(g) & 63)) AS i) END AS a
FROM generate_series(1, 700) AS g;
SELECT is((SELECT string_agg(format('%s:%s', grp, q), ' ' ORDER BY grp)
           FROM (SELECT grp, exact_percentiles(a, '{0.5,0.9,0,1,0.333}') AS q FROM r GROUP BY grp) AS x),
          (SELECT string_agg(format('%s:%s', grp, q), ' ' ORDER BY grp)
           FROM (SELECT grp, percentile_cont('{0.5,0.9,0,1,0.333}'::float8[]) WITHIN GROUP (ORDER BY v) AS q
                 FROM r CROSS JOIN LATERAL unnest(r.a) AS u(v) GROUP BY grp) AS x),
          'equal to percentile_cont over unnest(), to the text, in every group');
SELECT is((SELECT exact_percentiles(a, '{0.5,0.9}') FROM r),
          (SELECT percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY v) FROM r CROSS JOIN LATERAL unnest(r.a) AS u(v)),
          'equal to percentile_cont over all rows');

-- NULLs: elements and arrays skipped, an empty group and a group of empty arrays give NULL, a
-- NULL fraction gives a NULL element, no fraction an empty array.
SELECT is((SELECT exact_percentiles(a, '{0.5}') FROM (VALUES ('{1,NULL,3}'::float8[]), (NULL)) AS t(a)),
          '{2}'::float8[], 'NULL elements and NULL arrays are skipped');
SELECT is((SELECT exact_percentiles(a, '{0.5}') FROM (VALUES ('{}'::float8[]), (NULL)) AS t(a)),
          NULL::float8[], 'no value: NULL');
SELECT is((SELECT exact_percentiles(a, '{0.5}') FROM r WHERE false), NULL::float8[], 'no row: NULL');
SELECT is((SELECT exact_percentiles(a, '{0.5,NULL}') FROM (VALUES ('{1,2}'::float8[])) AS t(a)),
          '{1.5,NULL}'::float8[], 'a NULL fraction gives a NULL element');
-- NaN sorts above every number, as in float8's ordering and percentile_cont
SELECT is((SELECT exact_percentiles(a, '{0,0.5,1}') FROM (VALUES ('{NaN,2,1}'::float8[])) AS t(a)),
          (SELECT percentile_cont('{0,0.5,1}'::float8[]) WITHIN GROUP (ORDER BY v) FROM unnest('{NaN,2,1}'::float8[]) AS u(v)),
          'NaN as percentile_cont orders it');

-- Errors
SELECT throws_ok($$SELECT exact_percentiles('{1,2}'::float8[], '{1.5}')$$, '22003',
                 'percentile value 1.5 is not between 0 and 1', 'a fraction outside [0, 1]: 22003');
SELECT throws_ok($$SELECT exact_percentiles(a, f) FROM (VALUES ('{1}'::float8[], '{0.5}'::float8[]), ('{2}', '{0.9}')) AS t(a, f)$$,
                 '22023', 'the fractions of exact_percentiles change within one group', 'fractions changing within a group: 22023');
SELECT throws_ok($$SELECT exact_percentiles('{1,2}'::float8[], '{{0.5},{0.9}}')$$, '2202E', NULL,
                 'a two-dimensional array of fractions: 2202E');

-- Parallel plans (partial states serialised between workers) give the serial result.
CREATE TABLE par AS
SELECT g % 5 AS grp, ARRAY[(hashint4(g) & 65535) / 100.0, (hashint4(g + 1) & 65535) / 100.0]::float8[] AS a
FROM generate_series(1, 200000) AS g;
ANALYZE par;
CREATE TEMP TABLE serial AS SELECT grp, exact_percentiles(a, '{0.5,0.9,0.99}') AS q FROM par GROUP BY grp;
SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2; SET LOCAL parallel_leader_participation = off;
SELECT ok(tap.plan_of($$SELECT grp, exact_percentiles(a, '{0.5,0.9,0.99}') FROM par GROUP BY grp$$)
          LIKE '%Partial%Aggregate%', 'the parallel plan splits the aggregate (partial + finalize)');
SELECT is((SELECT string_agg(format('%s:%s', p.grp, p.q), ' ' ORDER BY p.grp)
           FROM (SELECT grp, exact_percentiles(a, '{0.5,0.9,0.99}') AS q FROM par GROUP BY grp) AS p),
          (SELECT string_agg(format('%s:%s', grp, q), ' ' ORDER BY grp) FROM serial),
          'a parallel plan (partial aggregates, serialised states) gives the serial result');

SELECT * FROM finish();
ROLLBACK;
