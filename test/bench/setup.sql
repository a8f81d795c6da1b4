-- Benchmark data and helpers (run by test/bench/run.sh; psql variable :rows).
--
-- survey: :rows deterministic responses spread evenly over the 365 days from 2024-01-01
-- (UTC), each with an NPS (0..10), a CSAT (1..5) and a CES (1..7) score and one of four
-- channels.  Every value comes from hashint8(row number), so each run loads exactly the
-- same table.
SET timezone = 'UTC';
SET client_min_messages = warning;

CREATE EXTENSION cxkpi;
CREATE EXTENSION pg_prewarm;

CREATE TYPE channel AS ENUM ('web', 'email', 'app', 'phone');
CREATE TABLE survey (
    answered_at timestamptz NOT NULL,
    nps_score   integer     NOT NULL,
    csat_score  integer     NOT NULL,
    ces_score   integer     NOT NULL,
    channel     channel     NOT NULL
);

-- Score distributions: a score repeated as many times as its share in percent, picked
-- by a hash modulo 100.  NPS = 54% promoters - 18% detractors = +36; CSAT = 75%;
-- CES mean = 5.29.
\echo -n 'loading' :rows 'rows ... '
\timing on
INSERT INTO survey
SELECT timestamptz '2024-01-01 00:00:00+00'
         + ((i - 1) * (31536000.0 / :rows)) * interval '1 second',     -- 365 days
       w.nps [1 + (hashint8(4 * i)     & 2147483647) % 100],
       w.csat[1 + (hashint8(4 * i + 1) & 2147483647) % 100],
       w.ces [1 + (hashint8(4 * i + 2) & 2147483647) % 100],
       w.channels[1 + (hashint8(4 * i + 3) & 2147483647) % 4]
FROM (SELECT (SELECT array_agg(s ORDER BY s) FROM unnest(ARRAY[2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30])
                  WITH ORDINALITY AS c(n, k), generate_series(1, n), LATERAL (SELECT k::int - 1 AS s) x)
             AS nps,
             (SELECT array_agg(s ORDER BY s) FROM unnest(ARRAY[5, 7, 13, 35, 40])
                  WITH ORDINALITY AS c(n, k), generate_series(1, n), LATERAL (SELECT k::int AS s) x)
             AS csat,
             (SELECT array_agg(s ORDER BY s) FROM unnest(ARRAY[3, 5, 7, 10, 20, 30, 25])
                  WITH ORDINALITY AS c(n, k), generate_series(1, n), LATERAL (SELECT k::int AS s) x)
             AS ces,
             enum_range(NULL::channel) AS channels) w,
     generate_series(1, :rows::bigint) AS i;

-- A year of daily NPS summaries, as a dashboard would store them: 365 rows.
\echo -n 'building 365 daily nps_summary rows ... '
CREATE TABLE nps_daily AS
SELECT (answered_at AT TIME ZONE 'UTC')::date AS day, nps_agg(nps_score) AS summary
FROM survey GROUP BY 1 ORDER BY 1;
\timing off

\echo 'VACUUM (FREEZE, ANALYZE) and pg_prewarm ...'
VACUUM (FREEZE, ANALYZE) survey, nps_daily;
SELECT pg_prewarm('survey') AS survey_blocks, pg_prewarm('nps_daily') AS daily_blocks,
       pg_size_pretty(pg_relation_size('survey')) AS survey_size,
       (SELECT count(*) FROM nps_daily) AS daily_rows
\gset
\echo 'survey:' :survey_size 'in' :survey_blocks 'blocks, prewarmed; nps_daily:' :daily_rows 'rows'

-- ------------------------------------------------------------------------------------
-- The queries.  kind: agg = summary aggregate and accessor, onestep = one-step KPI
-- aggregate, sum = sum(score) (the cheapest aggregate over the column), sql = the
-- hand-written SQL a user would write without cxkpi.
-- ------------------------------------------------------------------------------------
CREATE TABLE bench_query (
    id      serial PRIMARY KEY,
    family  text    NOT NULL,       -- NPS, CSAT, CES, rollup
    grouped boolean NOT NULL,       -- GROUP BY channel
    kind    text    NOT NULL,
    label   text    NOT NULL,
    sql     text    NOT NULL
);

INSERT INTO bench_query (family, grouped, kind, label, sql)
SELECT f.family, g.grouped, q.kind,
       CASE q.kind WHEN 'sql' THEN q.short ELSE replace(q.expr, 'score', f.col) END,
       format('SELECT %s%s FROM survey%s', CASE WHEN g.grouped THEN 'channel, ' ELSE '' END,
              replace(q.expr, 'score', f.col), CASE WHEN g.grouped THEN ' GROUP BY channel' ELSE '' END)
FROM (VALUES (1, 'NPS', 'nps_score'), (2, 'CSAT', 'csat_score'), (3, 'CES', 'ces_score'))
         AS f(fo, family, col),
     (VALUES (false), (true)) AS g(grouped),
     LATERAL (VALUES
        (1, 'agg', lower(f.family) || '(' || lower(f.family) || '_agg(score))', NULL),
        (2, 'onestep', lower(f.family) || '(score)', NULL),
        (3, 'sum', 'sum(score)', NULL),
        (4, 'sql', CASE f.family
            WHEN 'NPS' THEN '100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(score)'
            WHEN 'CSAT' THEN '100.0 * count(*) FILTER (WHERE score >= 4) / count(score)'
            ELSE 'avg(score)' END,
         CASE f.family WHEN 'CES' THEN 'SQL: avg(ces_score)' ELSE 'SQL: count(*) FILTER / count' END)
     ) AS q(qo, kind, expr, short)
ORDER BY f.fo, g.grouped, q.qo;

INSERT INTO bench_query (family, grouped, kind, label, sql) VALUES
    ('rollup', false, 'rollup', 'nps(rollup(summary)) of 365 days',
     'SELECT nps(rollup(summary)) FROM nps_daily'),
    ('rollup', true, 'rollup', 'nps(rollup(summary)) of 365 days by month',
     'SELECT date_trunc(''month'', day), nps(rollup(summary)) FROM nps_daily GROUP BY 1');

\ir common.sql

-- One block of queries that are compared with each other (one family, with or without
-- GROUP BY), back to back, serially and then with 2 workers, so that noise from other
-- work on the machine hits them alike.
CREATE FUNCTION bench_block(blk_family text, blk_grouped boolean, round int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    mode text;
    q record;
    r record;
BEGIN
    FOREACH mode IN ARRAY ARRAY['serial', 'parallel'] LOOP
        PERFORM set_config('max_parallel_workers_per_gather',
                           CASE mode WHEN 'serial' THEN '0' ELSE '2' END, false);
        PERFORM set_config('parallel_setup_cost', '0', false);
        PERFORM set_config('parallel_tuple_cost', '0', false);
        FOR q IN SELECT * FROM bench_query
                 WHERE family = blk_family AND grouped = blk_grouped ORDER BY id LOOP
            r := bench_explain(q.sql);
            INSERT INTO bench_run VALUES (q.id, mode, round, r.ms, r.workers);
        END LOOP;
    END LOOP;
END $$;

-- All blocks round-robin, the order of the blocks reversed every other round: one
-- warm-up round, then `runs` timed rounds, stopping early (after `min_runs`) once
-- `budget` is spent on a busy machine.  Then, within the same budget, more rounds of
-- the block the targets are judged on (NPS over all rows), up to `target_runs` in all.
CREATE FUNCTION bench_all(runs int, min_runs int, target_runs int, budget interval)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    done int := runs;
    blk record;
BEGIN
    FOR round IN 0 .. runs LOOP
        FOR blk IN SELECT family, grouped FROM bench_query GROUP BY 1, 2
                   ORDER BY CASE WHEN round % 2 = 0 THEN min(id) ELSE -min(id) END LOOP
            PERFORM bench_block(blk.family, blk.grouped, round);
        END LOOP;
        RAISE NOTICE 'round %/% (%) done at % s', round, runs,
            CASE WHEN round = 0 THEN 'warm-up' ELSE 'all queries' END,
            round(extract(epoch FROM clock_timestamp() - started));
        IF round >= min_runs AND round < runs AND clock_timestamp() - started > budget THEN
            RAISE NOTICE 'time budget of % spent: stopping after % rounds', budget, round;
            done := round;
            EXIT;
        END IF;
    END LOOP;
    FOR round IN done + 1 .. target_runs LOOP
        EXIT WHEN clock_timestamp() - started > budget;
        PERFORM bench_block('NPS', false, round);
        done := round;
    END LOOP;
    RAISE NOTICE 'NPS over all rows: % rounds in all, done at % s', done,
        round(extract(epoch FROM clock_timestamp() - started));
END $$;
