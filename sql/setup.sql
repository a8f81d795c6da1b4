-- Shared fixtures for the pg_regress suite (runs first).
CREATE EXTENSION cxkpi;

-- A deterministic helper: a pseudo-random integer in [0, m) from (i, salt), stable across
-- PostgreSQL versions and platforms (hashint8 is the hash used by hash partitioning).
CREATE FUNCTION rnd(i bigint, salt bigint, m integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ((hashint8(i * 7919 + salt) & 2147483647) % m)::integer $$;

-- 20,000 survey responses over a year, four channels, with NULL scores sprinkled in.
CREATE TABLE survey AS
SELECT i AS id,
       (ARRAY['store', 'web', 'app', 'phone'])[1 + rnd(i, 1, 4)] AS channel,
       date '2025-01-01' + rnd(i, 2, 365) AS answered_on,
       CASE WHEN rnd(i, 3, 20) = 0 THEN NULL ELSE rnd(i, 4, 11) END AS nps_score,
       CASE WHEN rnd(i, 5, 25) = 0 THEN NULL ELSE 1 + rnd(i, 6, 5) END AS csat_score,
       CASE WHEN rnd(i, 7, 30) = 0 THEN NULL ELSE 1 + rnd(i, 8, 7) END AS ces_score
FROM generate_series(1, 20000) AS i;
ANALYZE survey;
-- the window checks recompute every frame (by id, by day): indexes keep them fast, also under valgrind
CREATE INDEX ON survey (id);
CREATE INDEX ON survey (answered_on);

SELECT count(*) AS rows, count(nps_score) AS nps_scores, count(DISTINCT channel) AS channels
FROM survey;
