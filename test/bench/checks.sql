-- Sanity checks before timing: every pair of compared queries computes the same KPI
-- (a benchmark of queries that disagree would be meaningless).  Fails the run on a
-- mismatch.  Serial plans; about three scans of the table.
SET max_parallel_workers_per_gather = 0;
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s %s: %s / %s / %s', kpi, coalesce(channel::text, 'total'), a, b, c), '; ')
    INTO bad
    FROM (
        SELECT 'NPS' AS kpi, channel, nps(nps_agg(nps_score)) AS a, nps(nps_score) AS b,
               100.0 * (count(*) FILTER (WHERE nps_score >= 9)
                        - count(*) FILTER (WHERE nps_score <= 6)) / count(nps_score) AS c
        FROM survey GROUP BY GROUPING SETS ((channel), ())
        UNION ALL
        SELECT 'CSAT', channel, csat(csat_agg(csat_score)), csat(csat_score),
               100.0 * count(*) FILTER (WHERE csat_score >= 4) / count(csat_score)
        FROM survey GROUP BY GROUPING SETS ((channel), ())
        UNION ALL
        SELECT 'CES', channel, ces(ces_agg(ces_score)), ces(ces_score), avg(ces_score)
        FROM survey GROUP BY GROUPING SETS ((channel), ())
    ) r
    WHERE a IS DISTINCT FROM b OR abs(a - c) > 1e-9 OR a IS NULL;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cxkpi results differ from the SQL they are compared with: %', bad;
    END IF;

    IF (SELECT rollup(summary) FROM nps_daily) IS DISTINCT FROM
       (SELECT nps_agg(nps_score) FROM survey) THEN
        RAISE EXCEPTION 'rollup of the daily summaries differs from nps_agg over the rows';
    END IF;
END $$;
\echo 'checks: nps_agg/nps, csat_agg/csat, ces_agg/ces agree with the SQL; rollup of days = nps_agg of rows'
RESET max_parallel_workers_per_gather;
