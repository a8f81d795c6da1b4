-- The hour grain and peak periods (src/dashboard_hourly.sql, docs/dashboard.md#the-hour-grain) on
-- the sample data (scale 1, seed 42, as_of 2026-01-01, time zone UTC; test/sample_db.sh): every
-- hourly value, today so far and the heat map against plain SQL on the fact tables; the
-- reference instant with and without as_of; wall-clock hours on the DST days of Europe/Paris; the
-- setting peak_weeks.  (That the refresh keeps the hourly rollups equal to a rebuild after every
-- kind of change is in 76_incremental_sample.sql.)  In one transaction that is rolled back.
BEGIN;
SET client_min_messages = warning;
SELECT plan(16);

-- Plain SQL on the facts: every real-time KPI per day, hour and breakdown (total, device or
-- channel), in the dashboard's time zone, in the unit of the views.
CREATE TEMP TABLE plain_hour AS
WITH z AS (SELECT cxkpi.setting('time_zone') AS tz),
s AS (SELECT (w.started_at AT TIME ZONE z.tz)::date AS day, extract(hour FROM w.started_at AT TIME ZONE z.tz)::integer AS hour,
             w.device AS dim, w.converted FROM cxkpi.web_sessions AS w, z),
o AS (SELECT (x.ordered_at AT TIME ZONE z.tz)::date AS day, extract(hour FROM x.ordered_at AT TIME ZONE z.tz)::integer AS hour,
             x.channel AS dim, x.gross_value - x.discount AS net FROM cxkpi.orders AS x, z),
k AS (SELECT (x.created_at AT TIME ZONE z.tz)::date AS day, extract(hour FROM x.created_at AT TIME ZONE z.tz)::integer AS hour,
             x.device AS dim, x.converted_at IS NULL AS abandoned FROM cxkpi.carts AS x, z),
t AS (SELECT (x.created_at AT TIME ZONE z.tz)::date AS day, extract(hour FROM x.created_at AT TIME ZONE z.tz)::integer AS hour,
             x.channel AS dim, extract(epoch FROM x.first_response_at - x.created_at) / 3600 AS h FROM cxkpi.support_tickets AS x, z)
SELECT day, hour, 'sessions' AS kpi, CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END AS breakdown,
       coalesce(dim, 'all') AS dimension, count(*)::double precision AS value
FROM s GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'conversion_rate', CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END, coalesce(dim, 'all'),
       100.0 * count(*) FILTER (WHERE converted) / count(*)
FROM s GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'orders', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), count(*)
FROM o GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'net_revenue', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), sum(net)
FROM o GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'aov', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), avg(net)
FROM o GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'cart_abandonment_rate', CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END, coalesce(dim, 'all'),
       100.0 * count(*) FILTER (WHERE abandoned) / count(*)
FROM k GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'tickets', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), count(*)
FROM t GROUP BY day, hour, GROUPING SETS ((dim), ())
UNION ALL
SELECT day, hour, 'response_time_hours', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), avg(h)
FROM t GROUP BY day, hour, GROUPING SETS ((dim), ());

-- Rows of a and b (joined on the key columns given) whose values differ by
-- more than 1e-9 relative (or where one is missing).
CREATE FUNCTION pg_temp.differ(a text, b text, keys text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT %1$s, value FROM %2$s) AS a
                    FULL JOIN (SELECT %1$s, value FROM %3$s) AS b USING (%1$s)
                    WHERE a.value IS DISTINCT FROM b.value
                      AND NOT abs(a.value - b.value) <= 1e-9 * greatest(1, abs(b.value))', keys, a, b) INTO n;
    RETURN n;
END $$;

SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_hourly), (SELECT count(*) FROM plain_hour),
          'kpi_hourly: one row per hour, KPI and breakdown with facts, as many as plain SQL finds');
SELECT is(pg_temp.differ('cxkpi_bi.kpi_hourly', 'plain_hour', 'day, hour, kpi, breakdown, dimension'), 0::bigint,
          'kpi_hourly: every value equals plain SQL on the facts (sessions, conversion, orders, net revenue, AOV, cart abandonment, tickets, mean first response)');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_hourly
           WHERE "time" <> (day + hour * interval '1 hour') AT TIME ZONE 'UTC' OR weekday <> extract(isodow FROM day)),
          0::bigint, 'time is the start of the local hour, weekday the ISO weekday of the day');
SELECT is((SELECT format('%s %s %s %s %s', value, numerator, denominator, sample_size,
                         round(ci_lower::numeric, 2) || '-' || round(ci_upper::numeric, 2))
           FROM cxkpi_bi.kpi_hourly WHERE day = '2025-12-31' AND hour = 6 AND kpi = 'conversion_rate' AND breakdown = 'total'),
          '12.820512820512821 5 39 39 5.60-26.71',
          'hand-checked: 5 of the 39 sessions of 2025-12-31 06:00-07:00 converted, 12.8 % (Wilson 5.6-26.7)');

-- Today so far: on the sample data as_of is 2026-01-01, so the reference instant is its start
-- and today is 2025-12-31, all 24 hours; the usual level is that of the 8 Wednesdays before.
SELECT is((SELECT format('%s %s %s %s', ref, today, last_hour, weeks) FROM cxkpi.realtime_now()),
          '2026-01-01 00:00:00+00 2025-12-31 23 8', 'as_of 2026-01-01: today is 2025-12-31, hours 0-23, 8 weeks');
-- plain SQL per side: w = 0 today, w = 1 the 8 Wednesdays before
CREATE TEMP TABLE plain_side AS
WITH z AS (SELECT cxkpi.setting('time_zone') AS tz),
d AS (SELECT date '2025-12-31' AS day, 0 AS w UNION ALL SELECT date '2025-12-31' - 7 * k, 1 FROM generate_series(1, 8) AS k),
s AS (SELECT d.w, x.device AS dim, x.converted FROM cxkpi.web_sessions AS x, z, d WHERE (x.started_at AT TIME ZONE z.tz)::date = d.day),
o AS (SELECT d.w, x.channel AS dim, x.gross_value - x.discount AS net FROM cxkpi.orders AS x, z, d WHERE (x.ordered_at AT TIME ZONE z.tz)::date = d.day),
k AS (SELECT d.w, x.device AS dim, x.converted_at IS NULL AS abandoned FROM cxkpi.carts AS x, z, d WHERE (x.created_at AT TIME ZONE z.tz)::date = d.day),
t AS (SELECT d.w, x.channel AS dim, extract(epoch FROM x.first_response_at - x.created_at) / 3600 AS h
      FROM cxkpi.support_tickets AS x, z, d WHERE (x.created_at AT TIME ZONE z.tz)::date = d.day)
SELECT w, 'sessions' AS kpi, CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END AS breakdown, coalesce(dim, 'all') AS dimension,
       count(*)::double precision / CASE w WHEN 0 THEN 1 ELSE 8 END AS value
FROM s GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'conversion_rate', CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END, coalesce(dim, 'all'),
       100.0 * count(*) FILTER (WHERE converted) / count(*) FROM s GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'orders', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'),
       count(*)::double precision / CASE w WHEN 0 THEN 1 ELSE 8 END FROM o GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'net_revenue', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'),
       sum(net) / CASE w WHEN 0 THEN 1 ELSE 8 END FROM o GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'aov', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), avg(net)
FROM o GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'cart_abandonment_rate', CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END, coalesce(dim, 'all'),
       100.0 * count(*) FILTER (WHERE abandoned) / count(*) FROM k GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'tickets', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'),
       count(*)::double precision / CASE w WHEN 0 THEN 1 ELSE 8 END FROM t GROUP BY w, GROUPING SETS ((dim), ())
UNION ALL
SELECT w, 'response_time_hours', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), avg(h)
FROM t GROUP BY w, GROUPING SETS ((dim), ());
CREATE TEMP TABLE plain_cur AS SELECT kpi, breakdown, dimension, value FROM plain_side WHERE w = 0;
CREATE TEMP TABLE plain_usual AS SELECT kpi, breakdown, dimension, value FROM plain_side WHERE w = 1;
CREATE TEMP TABLE view_usual AS SELECT kpi, breakdown, dimension, usual_value AS value FROM cxkpi_bi.kpi_today;

SELECT is(pg_temp.differ('cxkpi_bi.kpi_today', 'plain_cur', 'kpi, breakdown, dimension'), 0::bigint,
          'kpi_today: each KPI of 2025-12-31 so far equals plain SQL on the facts of that day');
SELECT is(pg_temp.differ('view_usual', 'plain_usual', 'kpi, breakdown, dimension'), 0::bigint,
          'kpi_today: the usual level equals plain SQL over the 8 Wednesdays before (rates pooled, volumes per day)');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_today
           WHERE usual_days <> 8 OR last_hour <> 23 OR day <> '2025-12-31'
              OR difference IS DISTINCT FROM value - usual_value
              OR difference_pct IS DISTINCT FROM 100 * (value - usual_value) / nullif(usual_value, 0)), 0::bigint,
          'kpi_today: 8 usual days, hours 0-23 of 2025-12-31, difference and difference_pct from value and usual_value');

-- The heat map: the 56 days 2025-11-05 to 2025-12-30, per ISO weekday and hour.
CREATE TEMP TABLE plain_heat AS
SELECT extract(isodow FROM day)::integer AS weekday, hour, kpi, breakdown, dimension,
       CASE WHEN kpi IN ('sessions', 'orders', 'tickets', 'net_revenue') THEN sum(n) / 8 END AS value
FROM (SELECT day, hour, kpi, breakdown, dimension,
             value AS n FROM plain_hour WHERE day BETWEEN '2025-11-05' AND '2025-12-30') AS x
GROUP BY 1, 2, 3, 4, 5;
-- rates pooled over the cell's days, from the facts
WITH z AS (SELECT cxkpi.setting('time_zone') AS tz),
s AS (SELECT extract(isodow FROM x.started_at AT TIME ZONE z.tz)::integer AS weekday, extract(hour FROM x.started_at AT TIME ZONE z.tz)::integer AS hour,
             x.device AS dim, x.converted FROM cxkpi.web_sessions AS x, z
      WHERE x.started_at >= '2025-11-05 00:00+00' AND x.started_at < '2025-12-31 00:00+00'),
t AS (SELECT extract(isodow FROM x.created_at AT TIME ZONE z.tz)::integer AS weekday, extract(hour FROM x.created_at AT TIME ZONE z.tz)::integer AS hour,
             x.channel AS dim, extract(epoch FROM x.first_response_at - x.created_at) / 3600 AS h FROM cxkpi.support_tickets AS x, z
      WHERE x.created_at >= '2025-11-05 00:00+00' AND x.created_at < '2025-12-31 00:00+00'),
r AS (SELECT weekday, hour, 'conversion_rate' AS kpi, CASE WHEN grouping(dim) = 0 THEN 'device' ELSE 'total' END AS breakdown,
             coalesce(dim, 'all') AS dimension, 100.0 * count(*) FILTER (WHERE converted) / count(*) AS value
      FROM s GROUP BY weekday, hour, GROUPING SETS ((dim), ())
      UNION ALL
      SELECT weekday, hour, 'response_time_hours', CASE WHEN grouping(dim) = 0 THEN 'channel' ELSE 'total' END, coalesce(dim, 'all'), avg(h)
      FROM t GROUP BY weekday, hour, GROUPING SETS ((dim), ()))
UPDATE plain_heat AS p SET value = r.value FROM r
WHERE (p.weekday, p.hour, p.kpi, p.breakdown, p.dimension) = (r.weekday, r.hour, r.kpi, r.breakdown, r.dimension);
SELECT is(pg_temp.differ('(SELECT * FROM cxkpi_bi.kpi_heatmap WHERE kpi IN (''sessions'', ''orders'', ''tickets'', ''net_revenue'', ''conversion_rate'', ''response_time_hours'') AND (value <> 0 OR kpi NOT IN (''sessions'', ''orders'', ''tickets'', ''net_revenue''))) AS v',
                         '(SELECT * FROM plain_heat WHERE kpi IN (''sessions'', ''orders'', ''tickets'', ''net_revenue'', ''conversion_rate'', ''response_time_hours'')) AS p',
                         'weekday, hour, kpi, breakdown, dimension'), 0::bigint,
          'kpi_heatmap: volumes (mean per day) and rates (pooled) per weekday and hour equal plain SQL over 2025-11-05..2025-12-30');
SELECT is((SELECT format('%s %s %s %s', min(window_start), max(window_end), count(*) / count(DISTINCT (kpi, breakdown, dimension)),
                         count(*) FILTER (WHERE days <> 8))
           FROM cxkpi_bi.kpi_heatmap),
          '2025-11-05 2025-12-30 168 0', 'kpi_heatmap: 56 days before today, 7 x 24 cells per KPI and breakdown, 8 days each');

-- peak_weeks: 4 weeks
UPDATE cxkpi.settings SET value = '4' WHERE key = 'peak_weeks';
SELECT is((SELECT format('%s %s', min(usual_days), max(usual_days)) FROM cxkpi_bi.kpi_today) || ' '
          || (SELECT format('%s %s', min(window_start), max(days)) FROM cxkpi_bi.kpi_heatmap),
          '4 4 2025-12-03 4', 'peak_weeks 4: the usual level of 4 Wednesdays, a heat map of 28 days');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = '53' WHERE key = 'peak_weeks'$$, '22023',
                 'invalid value "53" for cxkpi setting "peak_weeks"', 'peak_weeks is 1 to 52');

-- Live: as_of empty, today is the current local day; facts of now and of a week ago.
UPDATE cxkpi.settings SET value = '' WHERE key = 'as_of';
UPDATE cxkpi.settings SET value = '8' WHERE key = 'peak_weeks';
SELECT is((SELECT format('%s %s %s', ref = now(), today = (now() AT TIME ZONE 'UTC')::date,
                         last_hour = extract(hour FROM now() AT TIME ZONE 'UTC')) FROM cxkpi.realtime_now()),
          't t t', 'as_of empty: the reference is now(), today the current local day, up to the hour in progress');
INSERT INTO cxkpi.web_sessions (session_id, started_at, device, added_to_cart, reached_checkout, converted)
VALUES (990000001, now() - interval '1 second', 'app', true, true, true),
       (990000002, now() - interval '7 days 1 second', 'app', false, false, false),
       (990000003, now() - interval '7 days 1 second', 'app', true, true, true),
       (990000004, now() - interval '14 days' + interval '2 hours', 'app', false, false, false);
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT format('%s %s %s %s', value, usual_value, usual_days, difference)
           FROM cxkpi_bi.kpi_today WHERE kpi = 'sessions' AND breakdown = 'total')
          || ' / ' || (SELECT format('%s %s', value, usual_value) FROM cxkpi_bi.kpi_today WHERE kpi = 'conversion_rate' AND breakdown = 'total'),
          '1 0.25 8 0.75 / 100 50',
          'live: 1 session so far today against 2 in the same hours of the 8 weekdays before (the later one is not counted): 0.25 a day; conversion 100 % against 50 %');

-- DST (Europe/Paris): wall-clock hours.  Sessions at 00:30 and 01:30 UTC on 2025-10-26 (02:30
-- CEST and 02:30 CET: the clocks go back at 03:00 CEST) and at 00:30 and 01:30 UTC on 2025-03-30
-- (01:30 CET and 03:30 CEST: there is no 02:00-03:00 that day).
INSERT INTO cxkpi.web_sessions (session_id, started_at, device)
VALUES (990000011, '2025-10-26 00:30+00', 'tablet'), (990000012, '2025-10-26 01:30+00', 'tablet'),
       (990000013, '2025-03-30 00:30+00', 'tablet'), (990000014, '2025-03-30 01:30+00', 'tablet');
SELECT is((SELECT string_agg(format('%s %s:%s', day, hour, visits), ', ' ORDER BY day, hour)
           FROM cxkpi.rollup_hourly_conversion('Europe/Paris', '2025-03-30', '2025-10-26')
           WHERE day IN ('2025-03-30', '2025-10-26') AND hour BETWEEN 1 AND 3 AND device = 'tablet'),   -- (no other tablet session then)
          '2025-03-30 1:1, 2025-03-30 3:1, 2025-10-26 2:2',
          'Europe/Paris: on 2025-10-26 the wall-clock hour 2 holds both real hours 02:00-03:00; 2025-03-30 has no hour 2');
SELECT is((SELECT (day + hour * interval '1 hour') AT TIME ZONE 'Europe/Paris'
           FROM cxkpi.rollup_hourly_conversion('Europe/Paris', '2025-10-26', '2025-10-26') WHERE hour = 2 AND device = 'tablet'),
          '2025-10-26 01:00+00'::timestamptz,
          'the time of that doubled hour (as kpi_hourly computes it) is its second occurrence, 02:00 CET');

SELECT * FROM finish();
ROLLBACK;
