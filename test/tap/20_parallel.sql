-- Parallel plans (partial aggregation through the combine function) give the serial results.
BEGIN;
SET client_min_messages = warning;
SELECT plan(6);

CREATE TABLE par AS
SELECT g AS id, (ARRAY['store', 'web', 'app'])[1 + g % 3] AS channel,
       CASE WHEN g % 17 = 0 THEN NULL ELSE (hashint4(g) & 65535) % 11 END AS nps_score,
       1 + (hashint4(g + 1) & 65535) % 5 AS csat_score,
       1 + (hashint4(g + 2) & 65535) % 7 AS ces_score
FROM generate_series(1, 300000) g;
ANALYZE par;

SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT channel, nps_agg(nps_score)::text AS n, nps(nps_score) AS n1, csat_agg(csat_score)::text AS c,
       csat(csat_score) AS c1, ces_agg(ces_score)::text AS e, ces(ces_score) AS e1
FROM par GROUP BY channel;
CREATE TEMP TABLE serial_total AS
SELECT nps_agg(nps_score)::text AS n, csat_agg(csat_score)::text AS c, ces_agg(ces_score)::text AS e FROM par;

SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;

SELECT ok(tap.plan_of('SELECT channel, nps_agg(nps_score) FROM par GROUP BY channel')
          LIKE '%Partial%Aggregate%',
          'the parallel plan splits the aggregate (partial + finalize)');
SELECT ok(tap.plan_of('SELECT rollup(s) FROM (SELECT nps_agg(nps_score) AS s FROM par) q')
          LIKE '%Partial Aggregate%', 'the direct aggregate runs partially in workers');

SELECT set_eq(
    $$SELECT channel, nps_agg(nps_score)::text, nps(nps_score), csat_agg(csat_score)::text,
             csat(csat_score), ces_agg(ces_score)::text, ces(ces_score) FROM par GROUP BY channel$$,
    'SELECT * FROM serial',
    'grouped parallel results equal serial results, every family');
SELECT set_eq(
    'SELECT nps_agg(nps_score)::text, csat_agg(csat_score)::text, ces_agg(ces_score)::text FROM par',
    'SELECT * FROM serial_total',
    'ungrouped parallel results equal serial results');

CREATE TEMP TABLE daily AS
SELECT id % 365 AS day, channel, nps_agg(nps_score) AS s FROM par GROUP BY 1, 2;
SELECT set_eq('SELECT channel, rollup(s)::text FROM daily GROUP BY channel',
              'SELECT channel, n FROM serial',
              'parallel rollup of daily summaries equals the serial direct aggregate');
SELECT is((SELECT rollup(s)::text FROM daily), (SELECT n FROM serial_total),
          'parallel rollup of everything equals the direct aggregate');

SELECT * FROM finish();
ROLLBACK;
