-- The hour grain (issue 14) and peak-period tracking (issue 17), docs/dashboard.md#the-hour-grain:
-- the real-time KPIs per local hour, "today so far" against the usual level of the same weekday,
-- and the hour-of-day x weekday heat map.  All three read the hourly rollups
-- (src/dashboard_rollups.sql, maintained by the refresh) through cxkpi.hourly_kpi_state and take
-- every value from cxkpi.kpi_arithmetic, the function cxkpi.kpi_engine uses for these KPIs: no
-- formula is written here.  Views cxkpi.kpi_hourly, kpi_today, kpi_heatmap, and their names in
-- schema cxkpi_bi for BI logins (src/bi.sql).

-- The additive state of every real-time KPI per local day, hour and breakdown (total, device
-- or channel), in long format: num and den are the sums the KPI's value is computed from (den
-- NULL for a volume: sessions, orders, net_revenue, tickets).
CREATE VIEW cxkpi.hourly_kpi_state AS
-- (each breakdown by a plain GROUP BY, not GROUPING SETS, so that a filter on the day reaches
-- the index of each rollup)
WITH cv AS (
    SELECT h.day, h.hour::bigint AS hour, 'device' AS breakdown, h.device AS dimension, h.visits::numeric AS visits,
           h.conversions::numeric AS conversions
    FROM cxkpi.hourly_conversion AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.visits), sum(h.conversions) FROM cxkpi.hourly_conversion AS h GROUP BY 1, 2),
od AS (
    SELECT h.day, h.hour::bigint AS hour, 'channel' AS breakdown, h.channel AS dimension, h.orders::numeric AS orders, h.net_value
    FROM cxkpi.hourly_orders AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.orders), sum(h.net_value) FROM cxkpi.hourly_orders AS h GROUP BY 1, 2),
ct AS (
    SELECT h.day, h.hour::bigint AS hour, 'device' AS breakdown, h.device AS dimension, h.carts::numeric AS carts,
           h.abandoned::numeric AS abandoned
    FROM cxkpi.hourly_carts AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.carts), sum(h.abandoned) FROM cxkpi.hourly_carts AS h GROUP BY 1, 2),
tk AS (
    SELECT h.day, h.hour::bigint AS hour, 'channel' AS breakdown, h.channel AS dimension, h.tickets::numeric AS tickets,
           h.responded::numeric AS responded, h.response_hours_sum::numeric AS response_hours_sum
    FROM cxkpi.hourly_tickets AS h
    UNION ALL
    SELECT h.day, h.hour::bigint AS hour, 'total', 'all', sum(h.tickets), sum(h.responded), sum(h.response_hours_sum::numeric)
    FROM cxkpi.hourly_tickets AS h GROUP BY 1, 2)
SELECT cv.day, cv.hour, x.kpi, cv.breakdown, cv.dimension, x.num, x.den
FROM cv CROSS JOIN LATERAL (VALUES ('sessions', cv.visits, NULL::numeric), ('conversion_rate', cv.conversions, cv.visits))
    AS x(kpi, num, den)
UNION ALL
SELECT od.day, od.hour, x.kpi, od.breakdown, od.dimension, x.num, x.den
FROM od CROSS JOIN LATERAL (VALUES ('orders', od.orders, NULL::numeric), ('net_revenue', od.net_value, NULL),
                                   ('aov', od.net_value, od.orders)) AS x(kpi, num, den)
UNION ALL
SELECT ct.day, ct.hour, 'cart_abandonment_rate', ct.breakdown, ct.dimension, ct.abandoned, ct.carts FROM ct
UNION ALL
SELECT tk.day, tk.hour, x.kpi, tk.breakdown, tk.dimension, x.num, x.den
FROM tk CROSS JOIN LATERAL (VALUES ('tickets', tk.tickets, NULL::numeric), ('response_time_hours', tk.response_hours_sum, tk.responded))
    AS x(kpi, num, den);
COMMENT ON COLUMN cxkpi.hourly_kpi_state.day IS 'Local day (setting time_zone).';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.hour IS 'Local hour of the day, 0-23 (wall-clock).';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.breakdown IS 'total, device or channel.';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.dimension IS 'The device or channel; all for the total.';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.num IS 'Sum the value is computed from: its numerator (the volume itself for a volume).';
COMMENT ON COLUMN cxkpi.hourly_kpi_state.den IS 'Sum of the denominator; NULL for a volume.';
COMMENT ON VIEW cxkpi.hourly_kpi_state IS
    'Internal: the additive state (num, den; den NULL for a volume) of the real-time KPIs per local day, hour and breakdown, from the hourly rollups; values come from cxkpi.kpi_arithmetic.';

-- "Today" and the hours of it that have begun: the reference instant is now(), or, when the
-- setting as_of is set, the start of that day if it is earlier (the scorecard shows the periods
-- before as_of; the sample data sets it to the day after its last).  Today is the local day
-- in progress at that instant, and its hours 0 to last_hour have begun (the last one may be in
-- progress).  The usual level and the heat map read the setting peak_weeks.
CREATE FUNCTION cxkpi.realtime_now(OUT ref timestamptz, OUT today date, OUT last_hour integer, OUT weeks integer)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT r.ref, (r.loc - interval '1 microsecond')::date,
           least(ceil(extract(epoch FROM r.loc - (r.loc - interval '1 microsecond')::date::timestamp) / 3600)::integer - 1, 23),
           cxkpi.setting('peak_weeks')::integer
    FROM (SELECT q.ref, q.ref AT TIME ZONE cxkpi.setting('time_zone') AS loc
          FROM (SELECT least(now(), CASE WHEN cxkpi.setting('as_of') <> ''
                                         THEN cxkpi.as_of()::timestamp AT TIME ZONE cxkpi.setting('time_zone') END) AS ref) AS q) AS r;
END;
COMMENT ON FUNCTION cxkpi.realtime_now() IS
    'Internal: the reference instant of the hourly views (now(), or the start of the as_of day when that setting is set and earlier), the local day in progress at it (today), the last hour of today that has begun, and the setting peak_weeks.';

-- The real-time KPIs with their display name, order and unit: the catalogue's for the KPIs of the
-- engine, and for the four volumes, which are not KPIs of the scorecard (no kpi_definitions row,
-- no daily value), a name and unit here and no order.
CREATE VIEW cxkpi.hourly_kpis AS
SELECT k.kpi, coalesce(c.kpi_name, k.name) AS kpi_name, c.kpi_order, coalesce(c.unit, k.unit) AS unit
FROM (VALUES ('sessions', 'Sessions', 'count'), ('conversion_rate', NULL, NULL), ('cart_abandonment_rate', NULL, NULL),
             ('orders', 'Orders', 'count'), ('net_revenue', 'Net revenue', 'currency'), ('aov', NULL, NULL),
             ('tickets', 'Support tickets', 'count'), ('response_time_hours', NULL, NULL)) AS k(kpi, name, unit)
LEFT JOIN cxkpi_bi.kpi_catalog AS c ON c.kpi = k.kpi;
COMMENT ON COLUMN cxkpi.hourly_kpis.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.hourly_kpis.kpi_name IS 'Display name.';
COMMENT ON COLUMN cxkpi.hourly_kpis.kpi_order IS 'Display order (cxkpi_bi.kpi_catalog); NULL for the volumes.';
COMMENT ON COLUMN cxkpi.hourly_kpis.unit IS 'Unit of the value.';
COMMENT ON VIEW cxkpi.hourly_kpis IS
    'Internal: the KPIs of the hourly views with their display name, order (the catalogue''s; NULL for the volumes sessions, orders, net_revenue, tickets, which have no kpi_definitions row) and unit.';

-- Real-time KPIs per local hour.
CREATE VIEW cxkpi.kpi_hourly AS
SELECT (s.day + make_interval(hours => s.hour::integer))::timestamp AT TIME ZONE c.tz AS "time", s.day, s.hour,
       extract(isodow FROM s.day)::bigint AS weekday, s.kpi, n.kpi_name, n.kpi_order, n.unit, s.breakdown, s.dimension,
       k.value, k.numerator, k.denominator, k.sample_size, k.ci_lower, k.ci_upper
FROM cxkpi.hourly_kpi_state AS s
CROSS JOIN (SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf) AS c
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(s.kpi, s.num, s.den, c.conf) AS k
LEFT JOIN cxkpi.hourly_kpis AS n ON n.kpi = s.kpi;

-- Today so far against the usual level: each real-time KPI over hours 0 to last_hour of today,
-- and over the same hours of the peak_weeks same weekdays before (pooled: a rate is the rate of
-- their summed numerators and denominators, a volume the mean per day), from the first day of
-- the hourly rollups on.
CREATE VIEW cxkpi.kpi_today AS
WITH c AS (
    SELECT n.ref, n.today, n.last_hour, n.weeks, cxkpi.setting('confidence')::double precision AS conf,
           (SELECT min(m.day) FROM (SELECT min(day) FROM cxkpi.hourly_conversion UNION ALL SELECT min(day) FROM cxkpi.hourly_orders
                                    UNION ALL SELECT min(day) FROM cxkpi.hourly_carts
                                    UNION ALL SELECT min(day) FROM cxkpi.hourly_tickets) AS m(day)) AS first_day
    FROM cxkpi.realtime_now() AS n),
bd AS (   -- the same weekdays before today
    SELECT (c.today - 7 * k) AS day FROM c, generate_series(1, c.weeks) AS k WHERE c.today - 7 * k >= c.first_day),
cur AS (
    SELECT s.kpi, s.breakdown, s.dimension, sum(s.num) AS num, sum(s.den) AS den, bool_and(s.den IS NULL) AS volume
    FROM cxkpi.hourly_kpi_state AS s, c
    WHERE s.day = (SELECT n.today FROM cxkpi.realtime_now() AS n) AND s.hour <= c.last_hour GROUP BY 1, 2, 3),
base AS (
    SELECT s.kpi, s.breakdown, s.dimension, sum(s.num) AS num, sum(s.den) AS den, bool_and(s.den IS NULL) AS volume
    FROM cxkpi.hourly_kpi_state AS s, c
    WHERE s.day BETWEEN (SELECT min(bd.day) FROM bd) AND (SELECT max(bd.day) FROM bd)   -- (a range scan)
      AND s.day IN (SELECT bd.day FROM bd) AND s.hour <= c.last_hour GROUP BY 1, 2, 3),
keys AS (
    SELECT kpi, breakdown, dimension, volume FROM cur UNION SELECT kpi, breakdown, dimension, volume FROM base)
SELECT c.today AS day, c.ref AS "time", c.last_hour::bigint AS last_hour, y.kpi, n.kpi_name, n.kpi_order, n.unit, y.breakdown, y.dimension,
       t.value, t.numerator, t.denominator, t.sample_size, t.ci_lower, t.ci_upper,
       u.value AS usual_value, (SELECT count(*) FROM bd) AS usual_days,
       t.value - u.value AS difference, 100 * (t.value - u.value) / nullif(u.value, 0) AS difference_pct
FROM keys AS y CROSS JOIN c
LEFT JOIN cur ON (cur.kpi, cur.breakdown, cur.dimension) = (y.kpi, y.breakdown, y.dimension)
LEFT JOIN base ON (base.kpi, base.breakdown, base.dimension) = (y.kpi, y.breakdown, y.dimension)
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(y.kpi, CASE WHEN y.volume THEN coalesce(cur.num, 0) ELSE cur.num END, cur.den, c.conf) AS t
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(y.kpi, CASE WHEN y.volume THEN coalesce(base.num, 0) / nullif((SELECT count(*) FROM bd), 0)
                                                    ELSE base.num END,
                                        base.den, c.conf) AS u
LEFT JOIN cxkpi.hourly_kpis AS n ON n.kpi = y.kpi;

-- The heat map: each real-time KPI per ISO weekday and local hour of the day over the
-- peak_weeks weeks before today (the days today - 7 * peak_weeks to today - 1, from the first
-- day of the hourly rollups on), pooled as in kpi_today; every weekday and hour of a KPI and
-- breakdown seen in the window has a row (a volume without facts is 0).
CREATE VIEW cxkpi.kpi_heatmap AS
WITH c AS (
    SELECT n.today, n.weeks, cxkpi.setting('confidence')::double precision AS conf,
           greatest(n.today - 7 * n.weeks,
                    (SELECT min(m.day) FROM (SELECT min(day) FROM cxkpi.hourly_conversion UNION ALL SELECT min(day) FROM cxkpi.hourly_orders
                                             UNION ALL SELECT min(day) FROM cxkpi.hourly_carts
                                             UNION ALL SELECT min(day) FROM cxkpi.hourly_tickets) AS m(day))) AS first_day,
           n.today - 1 AS last_day
    FROM cxkpi.realtime_now() AS n),
wd AS (   -- the days of each weekday in the window
    SELECT extract(isodow FROM d)::integer AS weekday, count(*) AS days
    FROM c, generate_series(c.first_day, c.last_day, interval '1 day') AS d GROUP BY 1),
agg AS (
    SELECT extract(isodow FROM s.day)::integer AS weekday, s.hour, s.kpi, s.breakdown, s.dimension,
           sum(s.num) AS num, sum(s.den) AS den
    FROM cxkpi.hourly_kpi_state AS s
    WHERE s.day BETWEEN (SELECT c.first_day FROM c) AND (SELECT c.last_day FROM c)   -- (a range scan)
    GROUP BY 1, 2, 3, 4, 5),
keys AS (
    SELECT s.kpi, s.breakdown, s.dimension, bool_and(s.den IS NULL) AS volume FROM agg AS s GROUP BY 1, 2, 3)
SELECT c.first_day AS window_start, c.last_day AS window_end, wd.weekday::bigint AS weekday,
       (ARRAY['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'])[wd.weekday] AS weekday_name,
       h.hour::bigint AS hour, y.kpi, n.kpi_name, n.kpi_order, n.unit, y.breakdown, y.dimension, k.value, k.numerator, k.denominator, k.sample_size, k.ci_lower, k.ci_upper,
       wd.days
FROM keys AS y CROSS JOIN c CROSS JOIN wd CROSS JOIN generate_series(0, 23) AS h(hour)
LEFT JOIN agg AS a ON (a.weekday, a.hour, a.kpi, a.breakdown, a.dimension) = (wd.weekday, h.hour, y.kpi, y.breakdown, y.dimension)
CROSS JOIN LATERAL cxkpi.kpi_arithmetic(y.kpi, CASE WHEN y.volume THEN coalesce(a.num, 0) / wd.days ELSE a.num END, a.den, c.conf) AS k
LEFT JOIN cxkpi.hourly_kpis AS n ON n.kpi = y.kpi;

COMMENT ON VIEW cxkpi.kpi_hourly IS
    'The real-time KPIs per local hour (setting time_zone): sessions, conversion_rate (web and app sessions; store footfall is daily), cart_abandonment_rate, orders, net_revenue, aov, tickets, response_time_hours (mean first response of the tickets created in the hour), total and by device or channel. Filter on day (indexed) rather than on time where you can; re-aggregate rates from numerator and denominator.';
COMMENT ON VIEW cxkpi.kpi_today IS
    'Today so far: each real-time KPI over the hours of today that have begun (today: the local day in progress at now(), or the day before as_of when that setting is set), against the usual level: the same hours of the peak_weeks same weekdays before (rates pooled over them, volumes as the mean per day), with the difference.';
COMMENT ON VIEW cxkpi.kpi_heatmap IS
    'Peak periods: each real-time KPI per ISO weekday and local hour of the day over the peak_weeks weeks before today (rates pooled over the days of the cell, volumes as the mean per day), total and by device or channel: a heat map for BI.';
DO $$
DECLARE
    r record;
    doc jsonb := jsonb_build_object(
        'time', 'Start of the hour (kpi_hourly) or the reference instant (kpi_today) as a timestamp with time zone: the time column for Grafana.',
        'day', 'The local day (setting time_zone): of the hour (kpi_hourly), today (kpi_today).',
        'hour', 'Hour of the day, 0-23, local wall-clock time (a day on which the clocks go back has one hour 1 holding two real hours; a day on which they go forward has no row for the hour skipped).',
        'weekday', 'ISO day of the week: 1 = Monday ... 7 = Sunday.',
        'weekday_name', 'Name of the ISO weekday (Monday ... Sunday).',
        'kpi', 'KPI key: sessions, conversion_rate, cart_abandonment_rate, orders, net_revenue, aov, tickets or response_time_hours.',
        'breakdown', 'What the row is broken down by: total, device (sessions, conversion, carts) or channel (orders, tickets). Filter it together with dimension.',
        'dimension', 'Value of the breakdown (a device or channel); all for the total row.',
        'value', 'The KPI in its unit: percent for rates, hours for response_time_hours, currency for net_revenue and aov, a count for volumes (kpi_today''s usual and kpi_heatmap: the mean per day).',
        'numerator', 'Numerator of the value (converted sessions, abandoned carts, net value, response hours; the volume itself).',
        'denominator', 'Denominator of the value (sessions, carts, orders, responded tickets); NULL for volumes.',
        'sample_size', 'Number of observations the value rests on (sessions, carts, orders, responded tickets, or the volume).',
        'ci_lower', 'Lower end of the Wilson interval (rates), at the confidence setting.',
        'ci_upper', 'Upper end of the Wilson interval (rates), at the confidence setting.',
        'last_hour', 'The last hour of today counted (0-23): hours 0 to last_hour have begun; the last one may be in progress.',
        'usual_value', 'The usual level: the same KPI over hours 0 to last_hour of the same weekday in the peak_weeks weeks before (rates pooled, volumes as the mean per day); NULL without such days.',
        'usual_days', 'Number of same weekdays the usual level is taken over (peak_weeks, fewer at the start of the data).',
        'difference', 'value - usual_value, in the KPI''s unit.',
        'difference_pct', '100 * (value - usual_value) / usual_value.',
        'window_start', 'First day of the heat map''s window.',
        'window_end', 'Last day of the heat map''s window (the day before today).',
        'days', 'Number of days of this weekday in the window (a volume is divided by it).',
        'kpi_name', 'Display name of the KPI (the catalogue''s; a name of its own for the volumes sessions, orders, net_revenue and tickets).',
        'kpi_order', 'Display order of the KPI (cxkpi_bi.kpi_catalog); NULL for the volumes, which are not in the catalogue.',
        'unit', 'Unit of the value: percent, currency, hours or count.');
BEGIN
    FOR r IN SELECT c.relname, a.attname FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0
             WHERE c.oid IN ('cxkpi.kpi_hourly'::regclass, 'cxkpi.kpi_today'::regclass, 'cxkpi.kpi_heatmap'::regclass)
    LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi.%I.%I IS %L', r.relname, r.attname, doc ->> r.attname::text);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_hourly, cxkpi.kpi_today, cxkpi.kpi_heatmap TO cxkpi_reader;

-- Their names for BI logins (docs/bi.md), with the same comments.
CREATE VIEW cxkpi_bi.kpi_hourly AS SELECT * FROM cxkpi.kpi_hourly;
CREATE VIEW cxkpi_bi.kpi_today AS SELECT * FROM cxkpi.kpi_today;
CREATE VIEW cxkpi_bi.kpi_heatmap AS SELECT * FROM cxkpi.kpi_heatmap;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS d
             FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.oid IN ('cxkpi.kpi_hourly'::regclass, 'cxkpi.kpi_today'::regclass, 'cxkpi.kpi_heatmap'::regclass) LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', r.relname, r.attname, r.d);
    END LOOP;
    FOR r IN SELECT c.relname, obj_description(c.oid, 'pg_class') AS d FROM pg_class AS c
             WHERE c.oid IN ('cxkpi.kpi_hourly'::regclass, 'cxkpi.kpi_today'::regclass, 'cxkpi.kpi_heatmap'::regclass) LOOP
        EXECUTE format('COMMENT ON VIEW cxkpi_bi.%I IS %L', r.relname, r.d);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi_bi.kpi_hourly, cxkpi_bi.kpi_today, cxkpi_bi.kpi_heatmap TO cxkpi_reader;
