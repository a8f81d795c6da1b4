-- Sanity checks before timing: every query of a task returns the same rows (a benchmark of
-- queries that disagree would be meaningless).  Fails the run on a mismatch.
SET max_parallel_workers_per_gather = 0;
DO $$
DECLARE
    t record;
    ref record;
    q record;
    bad bigint;
BEGIN
    FOR t IN SELECT task, min(id) AS ref_id FROM bench_query WHERE task <> 'reference' GROUP BY task LOOP
        SELECT * INTO ref FROM bench_query WHERE id = t.ref_id;
        FOR q IN SELECT * FROM bench_query WHERE task = t.task AND id <> t.ref_id LOOP
            EXECUTE format('SELECT count(*) FROM (((SELECT * FROM (%s) a) EXCEPT ALL (SELECT * FROM (%s) b))
                            UNION ALL ((SELECT * FROM (%s) c) EXCEPT ALL (SELECT * FROM (%s) d))) e',
                           ref.sql, q.sql, q.sql, ref.sql) INTO bad;
            IF bad <> 0 THEN
                RAISE EXCEPTION '% queries disagree: "%" and "%" differ in % rows', t.task, ref.label, q.label, bad;
            END IF;
        END LOOP;
    END LOOP;
END $$;
SELECT count(*) AS months FROM retention_by_period((SELECT s FROM monthly_summary)) \gset
SELECT count(*) AS cells FROM cohort_retention((SELECT s FROM monthly_summary)) \gset
\echo 'checks: the' :months 'monthly rows and the' :cells 'cohort cells of every formulation agree exactly'
RESET max_parallel_workers_per_gather;
