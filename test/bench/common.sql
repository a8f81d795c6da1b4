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
