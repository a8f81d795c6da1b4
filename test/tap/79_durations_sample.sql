-- Issue 17 (seeds 002, 003) on the sample data (scale 1, seed 42; test/sample_db.sh): resolution
-- time of support tickets (mean, median, p90) and each acquisition channel's share of the new
-- customers, at every grain, period and breakdown, against plain SQL on the fact tables; the
-- section views, the scorecard and the time series show them.  (That the refresh keeps the
-- rollup equal to a rebuild after every kind of change is in 76_incremental_sample.sql.)
-- In one transaction that is rolled back.
BEGIN;
SET client_min_messages = warning;
SELECT plan(12);

-- Plain SQL: every ticket resolved, with its creation day (the cohort, as the first response
-- time) in the dashboard's time zone and its resolution time in hours; every period of every
-- grain that contains a creation day.
CREATE TEMP TABLE plain_res AS
WITH z AS (SELECT cxkpi.setting('time_zone') AS tz),
t AS (SELECT (x.created_at AT TIME ZONE z.tz)::date AS day, x.channel,
             extract(epoch FROM x.resolved_at - x.created_at) / 3600 AS h
      FROM cxkpi.support_tickets AS x, z WHERE x.resolved_at IS NOT NULL),
g AS (SELECT unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS grain),
tp AS (SELECT g.grain, date_trunc(g.grain, t.day)::date AS period_start, t.channel, t.h FROM t, g)
SELECT grain, period_start, CASE WHEN grouping(channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
       coalesce(channel, 'all') AS dimension, count(*) AS resolved, avg(h)::double precision AS mean_h,
       sum(h)::double precision AS sum_h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY h::double precision) AS median_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY h::double precision) AS p90_h
FROM tp GROUP BY grain, period_start, GROUPING SETS ((channel), ());

CREATE FUNCTION pg_temp.close(a double precision, b double precision) RETURNS boolean
    LANGUAGE sql IMMUTABLE RETURN abs(a - b) <= 1e-9 * greatest(1, abs(b));

SELECT cmp_ok((SELECT count(*) FROM plain_res WHERE grain = 'month' AND breakdown = 'total'), '>=', 12::bigint,
              'the sample has resolved tickets in at least twelve months');

SELECT is((SELECT count(*) FROM plain_res AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'resolution_time_hours') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, p.mean_h)
              OR v.sample_size <> p.resolved OR v.denominator <> p.resolved OR NOT pg_temp.close(v.numerator, p.sum_h)),
          0::bigint, 'resolution_time_hours: every grain, period and channel = mean of resolved - created (hours), plain SQL');

SELECT is((SELECT count(*) FROM plain_res AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'resolution_time_median_hours') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, p.median_h) OR v.sample_size <> p.resolved),
          0::bigint, 'resolution_time_median_hours: exact median at every grain (not a mean of daily medians)');

SELECT is((SELECT count(*) FROM plain_res AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'resolution_time_p90_hours') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, p.p90_h) OR v.sample_size <> p.resolved),
          0::bigint, 'resolution_time_p90_hours: exact 90th percentile (continuous) at every grain');

SELECT ok((SELECT bool_and(median_h < p90_h AND median_h > 0 AND mean_h < 72) FROM plain_res
           WHERE grain = 'month' AND breakdown = 'total'),
          'plausible sample: median below p90, mean resolution under three days in every month');

-- Each acquisition channel's share of the new customers, per period.
CREATE TEMP TABLE plain_share AS
WITH g AS (SELECT unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS grain),
c AS (SELECT g.grain, date_trunc(g.grain, x.acquired_on)::date AS period_start, x.acquisition_channel
      FROM cxkpi.customers AS x, g WHERE x.acquired_on IS NOT NULL)
SELECT grain, period_start, acquisition_channel AS dimension, count(*) AS n,
       sum(count(*)) OVER (PARTITION BY grain, period_start) AS total,
       100.0 * count(*) / sum(count(*)) OVER (PARTITION BY grain, period_start) AS share
FROM c GROUP BY 1, 2, 3;

SELECT is((SELECT count(*) FROM plain_share AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'new_customer_share' AND breakdown = 'acquisition_channel') AS v
             USING (grain, period_start, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL
              OR NOT pg_temp.close(v.value, p.share::double precision) OR v.numerator <> p.n OR v.denominator <> p.total),
          0::bigint, 'new_customer_share: 100 * acquired through the channel / acquired, every grain and period, plain SQL');

SELECT is((SELECT count(*) FROM (SELECT grain, period_start, sum(value) AS s FROM cxkpi.kpi_values
                                 WHERE kpi = 'new_customer_share' AND breakdown = 'acquisition_channel' GROUP BY 1, 2) AS x
           WHERE abs(s - 100) > 1e-9), 0::bigint, 'the shares of a period add up to 100');

SELECT is((SELECT count(*) FROM cxkpi.kpi_values AS v
           FULL JOIN (SELECT DISTINCT grain, period_start, total FROM plain_share) AS p USING (grain, period_start)
           WHERE v.kpi = 'new_customer_share' AND v.breakdown = 'total'
             AND (p.grain IS NULL OR v.value <> 100 OR v.numerator <> p.total OR v.sample_size <> p.total)),
          0::bigint, 'new_customer_share: its total row is 100 (all the new customers of the period)');

-- Reader views
SELECT is((SELECT count(*) FROM cxkpi.kpi_service_quality AS s
           JOIN plain_res AS p ON p.grain = s.grain AND p.period_start = s.period_start AND p.breakdown = s.breakdown
                              AND p.dimension = s.channel
           WHERE NOT (pg_temp.close(s.resolution_time_mean_hours, p.mean_h)
                      AND pg_temp.close(s.resolution_time_median_hours, p.median_h)
                      AND pg_temp.close(s.resolution_time_p90_hours, p.p90_h)
                      AND pg_temp.close(s.resolution_time_total_hours, p.sum_h))),
          0::bigint, 'kpi_service_quality: resolution_time_{mean,median,p90,total}_hours');

SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_customer_value AS s
           JOIN plain_share AS p ON p.grain = s.grain AND p.period_start = s.period_start AND p.dimension = s.dimension
           WHERE s.breakdown = 'acquisition_channel' AND NOT pg_temp.close(s.new_customer_share_pct, p.share::double precision)),
          0::bigint, 'cxkpi_bi.kpi_customer_value: new_customer_share_pct per acquisition channel');

SELECT set_eq($$SELECT DISTINCT kpi FROM cxkpi.kpi_scorecard
                WHERE kpi IN ('resolution_time_hours', 'resolution_time_median_hours', 'resolution_time_p90_hours',
                              'new_customer_share') AND value IS NOT NULL$$,
              ARRAY['resolution_time_hours', 'resolution_time_median_hours', 'resolution_time_p90_hours', 'new_customer_share'],
              'the scorecard shows the four KPIs with a value');

SELECT set_eq($$SELECT DISTINCT kpi FROM cxkpi.kpi_timeseries
                WHERE kpi IN ('resolution_time_hours', 'resolution_time_median_hours', 'resolution_time_p90_hours',
                              'new_customer_share') AND grain = 'week'$$,
              ARRAY['resolution_time_hours', 'resolution_time_median_hours', 'resolution_time_p90_hours', 'new_customer_share'],
              'the time series has the four KPIs');

SELECT * FROM finish();
ROLLBACK;
