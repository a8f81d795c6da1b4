-- The CX dashboard, part 2: daily rollups (materialized views holding summary types and additive
-- counts per day and dimension), the long-format KPI table built from them for every grain, and
-- the refresh procedure.  Week / month / quarter / year figures are rollup() of daily summaries
-- or sums of daily counts: ratios are never averaged.
--
-- Days are calendar days in the time zone of setting time_zone.  Every matview has a unique
-- index on its key columns (all NOT NULL), as REFRESH MATERIALIZED VIEW CONCURRENTLY needs.
-- The settings are read once per refresh (a MATERIALIZED CTE or an OFFSET 0 subquery), not once
-- per row.

-- Survey answers per day, survey, touchpoint channel and scale.
CREATE MATERIALIZED VIEW cxkpi.daily_surveys AS
SELECT (r.responded_at AT TIME ZONE c.tz)::date AS day, r.survey, r.channel, r.scale,
       count(*) AS responses,
       @extschema@.nps_agg(r.score) FILTER (WHERE r.survey = 'nps') AS nps,
       @extschema@.csat_agg(r.score, r.scale) FILTER (WHERE r.survey = 'csat') AS csat,
       @extschema@.ces_agg(r.score, r.scale) FILTER (WHERE r.survey = 'ces') AS ces
FROM cxkpi.survey_responses AS r, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2, 3, 4;
CREATE UNIQUE INDEX daily_surveys_key ON cxkpi.daily_surveys (day, survey, channel, scale);

-- Orders per day, channel, segment and first/later order, with a return_summary (order-date
-- basis: a return counts in its order's day).  Segment: loyalty when the customer was enrolled
-- by the order day, else new for the customer's first order, else returning.
CREATE MATERIALIZED VIEW cxkpi.daily_orders AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz),
ret AS (
    SELECT order_id, sum(items_returned)::integer AS items_returned, sum(value_returned) AS value_returned
    FROM cxkpi.order_returns GROUP BY order_id),
o AS (
    SELECT o.order_id, o.customer_id, o.channel, o.items, o.gross_value, o.discount,
           (o.ordered_at AT TIME ZONE c.tz)::date AS day,
           row_number() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at, o.order_id) = 1 AS first_order
    FROM cxkpi.orders AS o, c)
SELECT o.day, o.channel,
       CASE WHEN m.enrolled_on <= o.day THEN 'loyalty' WHEN o.first_order THEN 'new' ELSE 'returning' END AS segment,
       o.first_order,
       count(*) AS orders, sum(o.items) AS items, sum(o.gross_value) AS gross_value,
       sum(o.discount) AS discount, sum(o.gross_value - o.discount) AS net_value,
       @extschema@.return_agg(o.items, coalesce(r.items_returned, 0), o.gross_value - o.discount,
                              coalesce(r.value_returned, 0)) AS returns
FROM o LEFT JOIN ret AS r USING (order_id) LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)
GROUP BY 1, 2, 3, 4;
CREATE UNIQUE INDEX daily_orders_key ON cxkpi.daily_orders (day, channel, segment, first_order);

-- Ordering customers per day, as retention summaries: by day (distinct and repeat customers of
-- any period) and by week, month, quarter and year (retention of each grain).
CREATE MATERIALIZED VIEW cxkpi.daily_customer_activity AS
SELECT (o.ordered_at AT TIME ZONE c.tz)::date AS day, count(*) AS orders,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'day') AS by_day,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'week') AS by_week,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'month') AS by_month,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'quarter') AS by_quarter,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'year') AS by_year
FROM cxkpi.orders AS o, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1;
CREATE UNIQUE INDEX daily_customer_activity_key ON cxkpi.daily_customer_activity (day);

-- Visits and conversions per day and device: web and app sessions, and stores (visitors from
-- the footfall counters, conversions = store orders).
CREATE MATERIALIZED VIEW cxkpi.daily_conversion AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz)
SELECT day, device, sum(visits)::bigint AS visits, sum(added_to_cart)::bigint AS added_to_cart,
       sum(reached_checkout)::bigint AS reached_checkout, sum(conversions)::bigint AS conversions
FROM (SELECT (s.started_at AT TIME ZONE c.tz)::date AS day, s.device, count(*) AS visits,
             count(*) FILTER (WHERE s.added_to_cart) AS added_to_cart,
             count(*) FILTER (WHERE s.reached_checkout) AS reached_checkout,
             count(*) FILTER (WHERE s.converted) AS conversions
      FROM cxkpi.web_sessions AS s, c GROUP BY 1, 2
      UNION ALL
      SELECT visit_date, 'store', sum(visitors), 0, 0, 0 FROM cxkpi.store_traffic GROUP BY 1
      UNION ALL
      SELECT (o.ordered_at AT TIME ZONE c.tz)::date, 'store', 0, 0, 0, count(*)
      FROM cxkpi.orders AS o, c WHERE o.channel = 'store' GROUP BY 1) AS u
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_conversion_key ON cxkpi.daily_conversion (day, device);

-- Carts per creation day and device (cohort of the creation day).
CREATE MATERIALIZED VIEW cxkpi.daily_carts AS
SELECT (k.created_at AT TIME ZONE c.tz)::date AS day, k.device, count(*) AS carts,
       count(*) FILTER (WHERE k.converted_at IS NOT NULL) AS converted,
       count(*) FILTER (WHERE k.converted_at IS NULL) AS abandoned,
       count(*) FILTER (WHERE k.recovered_at IS NOT NULL) AS recovered
FROM cxkpi.carts AS k, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_carts_key ON cxkpi.daily_carts (day, device);

-- Tickets per creation day and channel (cohort of the creation day).  First response times
-- are kept exactly, as a sorted array of hours, because medians and percentiles do not merge.
CREATE MATERIALIZED VIEW cxkpi.daily_tickets AS
SELECT (t.created_at AT TIME ZONE c.tz)::date AS day, t.channel, count(*) AS tickets,
       count(t.first_response_at) AS responded,
       coalesce(sum(extract(epoch FROM t.first_response_at - t.created_at) / 3600), 0)::double precision
           AS response_hours_sum,
       coalesce(array_agg(extract(epoch FROM t.first_response_at - t.created_at)::double precision / 3600
                          ORDER BY t.first_response_at - t.created_at)
                    FILTER (WHERE t.first_response_at IS NOT NULL), '{}') AS response_hours,
       count(t.resolved_at) AS resolved,
       count(*) FILTER (WHERE t.resolved_at IS NOT NULL AND t.contacts_to_resolve = 1 AND NOT t.reopened)
           AS first_contact_resolved
FROM cxkpi.support_tickets AS t, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_tickets_key ON cxkpi.daily_tickets (day, channel);

-- Loyalty: enrolments per day, and member activity per day as a daily retention summary: the
-- orders and the programme activities (cxkpi.loyalty_activity) on or after the enrolment day,
-- and the last known activity date (which counts on its own day only, like any activity).  The
-- active share of a period is computed from the activity of the days up to its end, so every
-- period counts what happened in its own window.
CREATE MATERIALIZED VIEW cxkpi.daily_loyalty AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz),
activity AS (
    SELECT o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date AS day
    FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m USING (customer_id), c
    WHERE (o.ordered_at AT TIME ZONE c.tz)::date >= m.enrolled_on
    UNION ALL
    SELECT a.customer_id, (a.active_at AT TIME ZONE c.tz)::date
    FROM cxkpi.loyalty_activity AS a JOIN cxkpi.loyalty_members AS m USING (customer_id), c
    WHERE (a.active_at AT TIME ZONE c.tz)::date >= m.enrolled_on
    UNION ALL
    SELECT customer_id, last_active_on FROM cxkpi.loyalty_members WHERE last_active_on IS NOT NULL),
days AS (
    SELECT day, customer_id, 0 AS enrolled FROM activity
    UNION ALL
    SELECT enrolled_on, customer_id, 1 FROM cxkpi.loyalty_members)
SELECT day, sum(enrolled)::bigint AS enrolled,
       @extschema@.retention_agg(customer_id, day, 'day') FILTER (WHERE enrolled = 0) AS active
FROM days GROUP BY day;
CREATE UNIQUE INDEX daily_loyalty_key ON cxkpi.daily_loyalty (day);

-- App ratings per day and store, as 5-point CSAT summaries (mean rating and its t interval).
CREATE MATERIALIZED VIEW cxkpi.daily_app_ratings AS
SELECT (a.rated_at AT TIME ZONE c.tz)::date AS day, a.app_store,
       @extschema@.csat_agg(a.rating, 5) AS ratings
FROM cxkpi.app_ratings AS a, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_app_ratings_key ON cxkpi.daily_app_ratings (day, app_store);

-- Observed secondary metrics: weighted sums per day, KPI and dimension.
CREATE MATERIALIZED VIEW cxkpi.daily_observations AS
SELECT (m.observed_at AT TIME ZONE c.tz)::date AS day, m.kpi, m.dimension,
       count(*) AS observations, sum(m.value * m.weight) AS weighted_sum, sum(m.weight) AS weight_sum
FROM cxkpi.metric_observations AS m, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX daily_observations_key ON cxkpi.daily_observations (day, kpi, dimension);

-- Return events per request day (return-date basis): merchant-initiated returns and the days
-- from order to return request.
CREATE MATERIALIZED VIEW cxkpi.daily_return_events AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz)
SELECT (r.requested_at AT TIME ZONE c.tz)::date AS day, count(*) AS returns,
       count(*) FILTER (WHERE r.initiated_by = 'merchant') AS merchant_returns,
       sum((r.requested_at AT TIME ZONE c.tz)::date - (o.ordered_at AT TIME ZONE c.tz)::date)::bigint AS days_to_return_sum
FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id), c
GROUP BY 1;
CREATE UNIQUE INDEX daily_return_events_key ON cxkpi.daily_return_events (day);

-- Customers acquired per day and acquisition channel, with the acquisition cost.
CREATE MATERIALIZED VIEW cxkpi.daily_acquisition AS
SELECT acquired_on AS day, acquisition_channel, count(*) AS new_customers,
       sum(acquisition_cost) AS acquisition_cost
FROM cxkpi.customers GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_acquisition_key ON cxkpi.daily_acquisition (day, acquisition_channel);

-- Every KPI at every grain (day, ISO week, month, quarter, year) and breakdown, in long format:
-- one row per (grain, period, kpi, breakdown, dimension) with the value, its numerator and
-- denominator (so that BI tools re-aggregate instead of averaging ratios), the sample size and
-- the confidence interval where the KPI has one.  Breakdown 'total' has dimension 'all'.
-- Retention, churn, simple CLV and the active loyalty share are defined for week, month, quarter and
-- year only.
CREATE MATERIALIZED VIEW cxkpi.kpi_values AS
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
g(grain) AS (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')),
sv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM cxkpi.daily_surveys AS d CROSS JOIN g CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY g.grain, 2, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM cxkpi.daily_orders AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.first_order,
           @extschema@.rollup(d.returns) AS r
    FROM cxkpi.daily_orders AS d CROSS JOIN g
    GROUP BY 1, 2, 3),
act AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
    FROM cxkpi.daily_customer_activity AS d CROSS JOIN g
    GROUP BY 1, 2),
ret0 AS (
    SELECT 'week' AS grain, r.* FROM (SELECT @extschema@.rollup(by_week) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'month', r.* FROM (SELECT @extschema@.rollup(by_month) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'quarter', r.* FROM (SELECT @extschema@.rollup(by_quarter) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'year', r.* FROM (SELECT @extschema@.rollup(by_year) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
           lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
    FROM ret0),
cv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM cxkpi.daily_conversion AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM cxkpi.daily_carts AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM cxkpi.daily_tickets AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), ())),
tp AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension, count(*) AS responded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.h) AS median_h,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY x.h) AS p90_h
    FROM cxkpi.daily_tickets AS d CROSS JOIN LATERAL unnest(d.response_hours) AS x(h) CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), ())),
-- Member activity of every day, and the data horizon (the last day with an order or a member
-- activity): the active window of the current, unfinished period ends there.
lys AS (
    SELECT @extschema@.rollup(active) AS s, min(day) AS first_day,
           greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS (
    SELECT g.grain, date_trunc(g.grain, c.day::timestamp)::date AS period_start, max(c.members)::bigint AS members
    FROM (SELECT d.day::date AS day, sum(coalesce(l.enrolled, 0)) OVER (ORDER BY d.day) AS members
          FROM lys CROSS JOIN generate_series(lys.first_day, lys.last_day, interval '1 day') AS d(day)
          LEFT JOIN cxkpi.daily_loyalty AS l ON l.day = d.day::date) AS c CROSS JOIN g
    GROUP BY 1, 2),
ar AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM cxkpi.daily_app_ratings AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum) AS weighted_sum, sum(d.weight_sum) AS weight_sum
    FROM cxkpi.daily_observations AS d CROSS JOIN g
    GROUP BY g.grain, 2, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM cxkpi.daily_return_events AS d CROSS JOIN g
    GROUP BY 1, 2),
aq AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM cxkpi.daily_acquisition AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.acquisition_channel), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, 100.0 * conversions / nullif(visits, 0),
           conversions, visits, visits, cxkpi.wilson_ci_lower(conversions, visits, conf),
           cxkpi.wilson_ci_upper(conversions, visits, conf)
    FROM cv, cfg
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, (net_value / nullif(orders, 0))::double precision,
           net_value::double precision, orders, orders, NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, 100.0 * abandoned / nullif(carts, 0),
           abandoned, carts, carts, cxkpi.wilson_ci_lower(abandoned, carts, conf), cxkpi.wilson_ci_upper(abandoned, carts, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, response_hours_sum / nullif(responded, 0),
           response_hours_sum, responded, responded, NULL, NULL
    FROM tk
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, cfg,
         LATERAL (SELECT @extschema@.active_customers(lys.s,
                      least((ly.period_start + cxkpi.grain_interval(ly.grain))::date - 1, lys.last_day), cfg.loy_w) AS active) AS a
    WHERE lys.s IS NOT NULL AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', @extschema@.repeat_customer_rate(s),
           round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100),
           @extschema@.customers(s), @extschema@.customers(s),
           cxkpi.wilson_ci_lower(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf),
           cxkpi.wilson_ci_upper(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / @extschema@.customers(s),
           orders, @extschema@.customers(s), @extschema@.customers(s), NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / @extschema@.customers(a.s))
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, @extschema@.customers(a.s), NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL),
-- Each value with the value of the previous period and of the same period a year earlier
-- (cxkpi.previous_period_start, cxkpi.year_ago_period_start), found here once per refresh rather
-- than at every read of the trend views.  With windows, not self-joins (which the planner, with
-- no statistics on a CTE, would merge on the series alone: quadratic in its length): the row
-- before in the series is the previous period when its start is previous_period_start; the row
-- before among the periods of the series a whole number of years (364 days for days and weeks,
-- the same calendar month for months, quarters and years) apart is the year-ago period when its
-- start is year_ago_period_start.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg)
SELECT c.grain, c.period_start, c.period_end, c."time", c.kpi, c.breakdown, c.dimension, c.value, c.numerator,
       c.denominator, c.sample_size, c.ci_lower, c.ci_upper,
       CASE WHEN lag(c.period_start) OVER series = cxkpi.previous_period_start(c.grain, c.period_start)
            THEN lag(c.value) OVER series END AS previous_value,
       CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
            THEN lag(c.value) OVER years END AS value_year_ago,
       CASE WHEN lag(c.period_start) OVER years = cxkpi.year_ago_period_start(c.grain, c.period_start)
            THEN lag(c.sample_size) OVER years END AS sample_size_year_ago
FROM cur AS c
WINDOW series AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension ORDER BY c.period_start),
       years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start);
CREATE UNIQUE INDEX kpi_values_key ON cxkpi.kpi_values (grain, period_start, kpi, breakdown, dimension);
CREATE INDEX kpi_values_time ON cxkpi.kpi_values (grain, "time");
CREATE INDEX kpi_values_kpi ON cxkpi.kpi_values (kpi, grain, period_start);
-- For BI filters: one metric (cxkpi.kpi_timeseries.metric, the same expression) over a time range,
-- and one dimension value.
CREATE INDEX kpi_values_metric ON cxkpi.kpi_values
    ((kpi || CASE WHEN breakdown = 'total' THEN '' ELSE ' ' || dimension END), grain, period_start);
CREATE INDEX kpi_values_dimension ON cxkpi.kpi_values (dimension, grain, period_start);

-- Progress of long work (cxkpi.generate_sample_data, cxkpi.refresh_dashboard): one NOTICE per
-- stage, "cxkpi: orders: 140,210 rows (12.4 s)", with the time since the work started.  psql
-- shows notices by default; SET client_min_messages = warning silences them.
CREATE FUNCTION cxkpi.progress_notice(stage text, row_count bigint, started_at timestamptz) RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE NOTICE 'cxkpi: %: % rows (% s)', stage, to_char(row_count, 'FM999,999,999,990'),
                 to_char(extract(epoch FROM clock_timestamp() - started_at), 'FM999,990.0');
END $$;
COMMENT ON FUNCTION cxkpi.progress_notice(text, bigint, timestamptz) IS
    'Internal: reports a stage of long work as a NOTICE "cxkpi: <stage>: <rows> rows (<seconds since started_at> s)"; silenced by client_min_messages = warning.';

-- Refreshes every rollup in dependency order (the daily matviews, then kpi_values, then the
-- customer RFM, the CLV models, the customer scores and the recommended interventions), in the caller's transaction.  CONCURRENTLY (the default) lets readers continue: each view is rebuilt
-- aside and the differences applied.  work_mem is raised for the refresh (a batch job whose
-- aggregates keep 100-byte summaries per group) so that they stay in memory.  Only the owner of the matviews (the role that created
-- the extension) can refresh them.  Each matview is analyzed once refreshed, so that the next
-- ones and the readers' queries are planned on its new statistics (autovacuum's ANALYZE comes
-- later, if at all, for a matview rebuilt in one go).  Each matview done is reported with its
-- row count and the time so far (cxkpi.progress_notice).
CREATE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH mv IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion',
                              'daily_carts', 'daily_tickets', 'daily_loyalty', 'daily_app_ratings',
                              'daily_observations', 'daily_return_events', 'daily_acquisition', 'kpi_values',
                              'customer_rfm', 'clv_models', 'customer_scores', 'customer_intervention_picks'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
        EXECUTE format('ANALYZE cxkpi.%I', mv);
        EXECUTE format('SELECT count(*) FROM cxkpi.%I', mv) INTO n;
        PERFORM cxkpi.progress_notice('refresh ' || mv, n, t0);
    END LOOP;
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Refreshes every dashboard rollup in dependency order (daily matviews, cxkpi.kpi_values, then the customer RFM, the CLV models, the customer scores and the recommended interventions) and analyzes it; CONCURRENTLY by default, so readers are never blocked. Reports each matview as a NOTICE (SET client_min_messages = warning to silence).';
REVOKE ALL ON PROCEDURE cxkpi.refresh_dashboard(boolean) FROM PUBLIC;

COMMENT ON MATERIALIZED VIEW cxkpi.daily_surveys IS 'Internal rollup: NPS, CSAT and CES summaries per day, survey, touchpoint channel and scale.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_orders IS 'Internal rollup: orders, values and a return_summary per day, channel, segment and first/later order (order-date basis).';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_customer_activity IS 'Internal rollup: orders and retention summaries (by day, week, month, quarter, year) of the ordering customers per day.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_conversion IS 'Internal rollup: visits, funnel steps and conversions per day and device (store: visitors and store orders).';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_carts IS 'Internal rollup: carts created, converted, abandoned and recovered per creation day and device.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_tickets IS 'Internal rollup: tickets, exact first response times (hours), resolutions per creation day and channel.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_loyalty IS 'Internal rollup: loyalty enrolments and member activity per day (orders and programme activities on or after enrolling, last_active_on) as a retention summary.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_app_ratings IS 'Internal rollup: app rating summaries per day and store.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_observations IS 'Internal rollup: weighted sums of observed metrics per day, KPI and dimension.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_return_events IS 'Internal rollup: returns, merchant-initiated returns and days to return per request day.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_acquisition IS 'Internal rollup: customers acquired and acquisition cost per day and channel.';
COMMENT ON MATERIALIZED VIEW cxkpi.kpi_values IS 'Every KPI at every grain, period and breakdown, with numerator, denominator, sample size and interval, and the values of the previous period and of the same period a year earlier; read it through the views.';
