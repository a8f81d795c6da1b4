-- Timing helpers shared by the benchmark scripts (included with \ir; needs a table
-- bench_query(id) created before it).

-- One timed execution, measured by the server: EXPLAIN (ANALYZE, TIMING OFF) runs the
-- query to completion and discards the result; "Execution Time" excludes parsing,
-- planning and the client.  Also returns the number of parallel workers launched.
CREATE FUNCTION bench_explain(q text, OUT ms float8, OUT workers int)
LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, COSTS OFF, FORMAT JSON) ' || q INTO plan;
    ms := (plan -> 0 ->> 'Execution Time')::float8;
    SELECT coalesce(sum(w::int), 0) INTO workers
    FROM jsonb_path_query(plan, 'strict $.**."Workers Launched"') AS w;
END $$;

CREATE TABLE bench_run (
    query_id int    NOT NULL REFERENCES bench_query,
    mode     text   NOT NULL,             -- serial, parallel
    run      int    NOT NULL,             -- 0 = warm-up, not counted
    ms       float8 NOT NULL,
    workers  int    NOT NULL
);

-- For benchmarks whose bench_query has a task column (retention, CLV): every query of a task
-- back to back, serially and then with 2 workers, so that noise from other work on the
-- machine hits the compared queries alike.
CREATE FUNCTION bench_round(round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    mode text;
    q record;
    r record;
BEGIN
    FOREACH mode IN ARRAY ARRAY['serial', 'parallel'] LOOP
        PERFORM set_config('max_parallel_workers_per_gather', CASE mode WHEN 'serial' THEN '0' ELSE '2' END, false);
        PERFORM set_config('parallel_setup_cost', '0', false);
        PERFORM set_config('parallel_tuple_cost', '0', false);
        FOR q IN SELECT * FROM bench_query
                 ORDER BY task, CASE WHEN round % 2 = 0 THEN id ELSE -id END LOOP
            r := bench_explain(q.sql);
            INSERT INTO bench_run VALUES (q.id, mode, round, r.ms, r.workers);
        END LOOP;
    END LOOP;
END $$;
