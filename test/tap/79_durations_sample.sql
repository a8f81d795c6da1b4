-- Issue 17 (seeds 002, 003) on the sample data (scale 1, seed 42; test/sample_db.sh): resolution
-- time of support tickets (mean, median, p90), each acquisition channel's share of the new
-- customers, delivery times (mean, median, p90) and on-time delivery; the checks of
-- cxkpi.order_deliveries, at every grain, period and breakdown, against plain SQL on the fact tables; the
-- section views, the scorecard and the time series show them.  (That the refresh keeps the
-- rollup equal to a rebuild after every kind of change is in 76_incremental_sample.sql.)
-- In one transaction that is rolled back.
BEGIN;
SET client_min_messages = warning;
SELECT plan(22);

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

-- Deliveries: by order day and order channel, delivered orders only.
CREATE TEMP TABLE plain_del AS
WITH z AS (SELECT cxkpi.setting('time_zone') AS tz),
t AS (SELECT (o.ordered_at AT TIME ZONE z.tz)::date AS day, o.channel,
             extract(epoch FROM d.delivered_at - o.ordered_at) / 86400 AS v, d.promised_by IS NOT NULL AS promised,
             d.delivered_at <= d.promised_by AS on_time
      FROM cxkpi.orders AS o JOIN cxkpi.order_deliveries AS d USING (order_id), z WHERE d.delivered_at IS NOT NULL),
g AS (SELECT unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS grain),
tp AS (SELECT g.grain, date_trunc(g.grain, t.day)::date AS period_start, t.* FROM t, g)
SELECT grain, period_start, CASE WHEN grouping(channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
       coalesce(channel, 'all') AS dimension, count(*) AS delivered, avg(v)::double precision AS mean_d,
       sum(v)::double precision AS sum_d,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY v::double precision) AS median_d,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY v::double precision) AS p90_d,
       count(*) FILTER (WHERE promised) AS promised, count(*) FILTER (WHERE on_time) AS on_time
FROM tp GROUP BY grain, period_start, GROUPING SETS ((channel), ());

SELECT is((SELECT count(*) FROM plain_del AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'delivery_time_days') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, p.mean_d)
              OR v.sample_size <> p.delivered OR NOT pg_temp.close(v.numerator, p.sum_d)),
          0::bigint, 'delivery_time_days: every grain, period and channel = mean of delivered - ordered (days), plain SQL');
SELECT is((SELECT count(*) FROM plain_del AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'delivery_time_median_days') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, p.median_d) OR v.sample_size <> p.delivered),
          0::bigint, 'delivery_time_median_days: exact median at every grain');
SELECT is((SELECT count(*) FROM plain_del AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'delivery_time_p90_days') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, p.p90_d) OR v.sample_size <> p.delivered),
          0::bigint, 'delivery_time_p90_days: exact 90th percentile (continuous) at every grain');
SELECT is((SELECT count(*) FROM (SELECT * FROM plain_del WHERE promised > 0) AS p
           FULL JOIN (SELECT * FROM cxkpi.kpi_values WHERE kpi = 'on_time_delivery_rate') AS v
             USING (grain, period_start, breakdown, dimension)
           WHERE p.grain IS NULL OR v.kpi IS NULL OR NOT pg_temp.close(v.value, 100.0 * p.on_time / p.promised)
              OR v.numerator <> p.on_time OR v.denominator <> p.promised),
          0::bigint, 'on_time_delivery_rate: 100 * delivered by the promise / delivered with a promise, plain SQL');
SELECT ok((SELECT bool_and(mean_d BETWEEN 2 AND 6 AND 100.0 * on_time / promised BETWEEN 80 AND 97) FROM plain_del
           WHERE grain = 'month' AND breakdown = 'total'),
          'plausible sample: delivery in 2-6 days on average, 80-97 % on time, every month');
SELECT is((SELECT count(*) FROM cxkpi.order_deliveries AS d JOIN cxkpi.orders AS o USING (order_id) WHERE o.channel = 'store'),
          0::bigint, 'store orders have no delivery');
SELECT is((SELECT count(*) FROM cxkpi.kpi_purchase_experience AS s
           JOIN plain_del AS p ON p.grain = s.grain AND p.period_start = s.period_start AND p.breakdown = s.breakdown
                              AND p.dimension = s.dimension
           WHERE NOT (pg_temp.close(s.delivery_time_mean_days, p.mean_d) AND pg_temp.close(s.delivery_time_median_days, p.median_d)
                      AND pg_temp.close(s.delivery_time_p90_days, p.p90_d) AND s.delivered_orders = p.delivered
                      AND s.on_time_deliveries = p.on_time AND s.promised_deliveries = p.promised)),
          0::bigint, 'kpi_purchase_experience: delivery columns');

-- The checks of cxkpi.order_deliveries refuse bad rows with a clear error.
SELECT throws_ok($$INSERT INTO cxkpi.order_deliveries (order_id, shipped_at)
                   SELECT order_id, ordered_at - interval '1 hour' FROM cxkpi.orders WHERE channel = 'store' ORDER BY order_id LIMIT 1$$,
                 '23514', NULL, 'a delivery shipped before its order was placed is refused');
SELECT throws_ok($$INSERT INTO cxkpi.order_deliveries (order_id, shipped_at, delivered_at)
                   SELECT order_id, ordered_at + interval '2 days', ordered_at + interval '1 day'
                   FROM cxkpi.orders WHERE channel = 'store' ORDER BY order_id LIMIT 1$$,
                 '23514', NULL, 'a delivery delivered before it was shipped is refused');
SELECT throws_ok($$UPDATE cxkpi.orders SET ordered_at = ordered_at + interval '30 days'
                   WHERE order_id = (SELECT min(order_id) FROM cxkpi.order_deliveries)$$,
                 '23514', NULL, 'an order cannot be moved after its delivery was shipped');

SELECT * FROM finish();
ROLLBACK;
