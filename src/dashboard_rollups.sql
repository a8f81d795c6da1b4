-- The CX dashboard, part 2: daily rollups (tables holding summary types and additive counts per
-- day and dimension), the long-format KPI table built from them for every grain, and their
-- incremental maintenance (docs/architecture.md): the fact tables' statement triggers append the
-- day buckets they touch to cxkpi.change_log; CALL cxkpi.refresh_dashboard() recomputes exactly
-- the rollup rows of those days and the KPI values of the periods they fall into.  Week / month /
-- quarter / year figures are rollup() of daily summaries or sums of daily counts: ratios are
-- never averaged.
--
-- Days are calendar days in the time zone of setting time_zone.  Each rollup is defined once, as
-- a function of a range of days (cxkpi.rollup_<table>(tz, first_day, last_day)), which both the
-- full rebuild (all days) and the incremental refresh (the dirty days) insert from.

-------------------------------------------------------------------------------------------------
-- Change capture (docs/architecture.md#1-change-capture-writers-append-never-update)
-------------------------------------------------------------------------------------------------

-- Writers only append (no unique index, no row ever updated): concurrent writers never wait on
-- each other or on the refresh.  The refresh deletes the rows it consumed.
CREATE TABLE cxkpi.change_log (
    fact      text NOT NULL,
    bucket    date,
    logged_at timestamptz NOT NULL DEFAULT statement_timestamp()
);
COMMENT ON TABLE cxkpi.change_log IS
    'Internal: the day buckets (in setting time_zone) of the facts changed since the last refresh, one row per fact table and day a statement touched (bucket NULL: the whole table, after TRUNCATE; fact orders_first: a day whose first-order flags may have changed); appended by the fact tables'' triggers, consumed by CALL cxkpi.refresh_dashboard().';
COMMENT ON COLUMN cxkpi.change_log.fact IS 'The fact table whose rollup rows of that day are to be recomputed.';
COMMENT ON COLUMN cxkpi.change_log.bucket IS 'The day (in setting time_zone); NULL for every day (TRUNCATE).';
COMMENT ON COLUMN cxkpi.change_log.logged_at IS 'When the statement that changed the facts started.';

-- What the refresh knows of the rollups: the settings they were built with (a change of them
-- forces a full rebuild) and when they were rebuilt and refreshed.  One row, written by the
-- refresh only; not dumped, so that the first refresh after a restore rebuilds everything.
CREATE TABLE cxkpi.dashboard_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    settings     jsonb NOT NULL,
    rebuilt_at   timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL,
    models_refreshed_at timestamptz,
    models_stale boolean NOT NULL DEFAULT false,
    models_settings jsonb
);
COMMENT ON TABLE cxkpi.dashboard_state IS
    'Internal: the settings the rollups were built with (time_zone, confidence, csat_scale, ces_scale, retention_active_window, loyalty_active_days) and when they were last rebuilt and refreshed; a change of those settings makes the next refresh a full rebuild. models_refreshed_at: when the customer models were last refitted; models_stale: facts changed since (setting customer_models_interval); models_settings: the settings and rules they were fitted with (a change refits them at the next refresh).';

-- The settings the rollups and cxkpi.kpi_values depend on.
CREATE FUNCTION cxkpi.dashboard_settings() RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_object_agg(s.key, s.value) FROM cxkpi.settings AS s
    WHERE s.key IN ('time_zone', 'confidence', 'csat_scale', 'ces_scale', 'retention_active_window', 'loyalty_active_days') $$;
COMMENT ON FUNCTION cxkpi.dashboard_settings() IS
    'Internal: the settings the dashboard rollups are built with, as a jsonb object.';

-- The statement trigger of every fact table (INSERT, UPDATE, DELETE with transition tables, and
-- TRUNCATE): one change_log row per distinct (fact, day) the statement touched, the old rows' days
-- and the new rows' days.  Dependencies between facts are logged as buckets too:
--   orders: an UPDATE logs the request days of the orders' returns (days to return).  The
--     first-order flag and segment depend on the customer's other orders: the refresh finds the
--     flags that moved by comparing each touched customer's first order with the one it recorded
--     (cxkpi.customer_first_orders; dashboard_maintain, step 2), so writers log nothing for them;
--   order_returns: the day of the returned order (the order-date return summary);
--   order_deliveries: the day of the delivered order (delivery times count on the order day);
--   loyalty_members: the days of the member's orders and programme activities (segment and
--     activity count from the enrolment day on).
-- SECURITY DEFINER: a writer needs no privilege on cxkpi.change_log.  The log carries bucket keys
-- only, never values: the refresh recomputes every dirty day from the facts.  EXECUTE is revoked
-- from PUBLIC (no one attaches it to a table of their own) and it refuses to run as anything but
-- the AFTER statement trigger of a cxkpi fact table (docs/security.md).
CREATE FUNCTION cxkpi.change_capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- read here rather than through cxkpi.setting(): a static query keeps its plan, and this
    -- runs for every statement of every writer
    tz text := (SELECT s.value FROM cxkpi.settings AS s WHERE s.key = 'time_zone');
    src text := CASE TG_OP WHEN 'INSERT' THEN 'new_rows' WHEN 'DELETE' THEN 'old_rows'
                           ELSE '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)' END;
    day_sql text;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.change_capture_tables())
       OR TG_RELID <> format('cxkpi.%I', TG_TABLE_NAME)::regclass THEN
        RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO cxkpi.change_log (fact, bucket) VALUES (TG_TABLE_NAME, NULL);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- Writers' hot path: one static statement per table (planned once per session, where
        -- the dynamic statement below is parsed and planned at every call: twice the cost of a
        -- one-row insert).  The day of each row as in the UPDATE and DELETE case below.
        IF TG_TABLE_NAME = 'survey_responses' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'survey_responses', x.d FROM (SELECT (r.responded_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'orders' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'orders', x.d FROM (SELECT (r.ordered_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_returns' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_returns', x.d FROM (SELECT (r.requested_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'web_sessions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'web_sessions', x.d FROM (SELECT (r.started_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'store_traffic' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'store_traffic', x.d FROM (SELECT r.visit_date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'carts' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'carts', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'support_tickets' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'support_tickets', x.d FROM (SELECT (r.created_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'app_ratings' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'app_ratings', x.d FROM (SELECT (r.rated_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'metric_observations' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'metric_observations', x.d FROM (SELECT (r.observed_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_activity' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_activity', x.d FROM (SELECT (r.active_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'customers' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'customers', r.acquired_on FROM new_rows AS r WHERE r.acquired_on IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'loyalty_members', d.d FROM new_rows AS r, unnest(ARRAY[r.enrolled_on, r.last_active_on]) AS d(d)
            WHERE d.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'order_deliveries' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'order_deliveries', (o.ordered_at AT TIME ZONE tz)::date
            FROM new_rows AS r JOIN cxkpi.orders AS o ON o.order_id = r.order_id;
        ELSIF TG_TABLE_NAME = 'engagement_events' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'engagement_events', x.d FROM (SELECT (r.occurred_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        ELSIF TG_TABLE_NAME = 'social_mentions' THEN
            INSERT INTO cxkpi.change_log (fact, bucket)
            SELECT DISTINCT 'social_mentions', x.d FROM (SELECT (r.mentioned_at AT TIME ZONE tz)::date AS d FROM new_rows AS r) AS x WHERE x.d IS NOT NULL;
        END IF;
    ELSE
        day_sql := CASE TG_TABLE_NAME
            WHEN 'survey_responses' THEN '(r.responded_at AT TIME ZONE $1)::date'
            WHEN 'orders' THEN '(r.ordered_at AT TIME ZONE $1)::date'
            WHEN 'order_returns' THEN '(r.requested_at AT TIME ZONE $1)::date'
            WHEN 'web_sessions' THEN '(r.started_at AT TIME ZONE $1)::date'
            WHEN 'store_traffic' THEN 'r.visit_date'
            WHEN 'carts' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'support_tickets' THEN '(r.created_at AT TIME ZONE $1)::date'
            WHEN 'app_ratings' THEN '(r.rated_at AT TIME ZONE $1)::date'
            WHEN 'metric_observations' THEN '(r.observed_at AT TIME ZONE $1)::date'
            WHEN 'loyalty_activity' THEN '(r.active_at AT TIME ZONE $1)::date'
            WHEN 'customers' THEN 'r.acquired_on'
            WHEN 'loyalty_members' THEN 'unnest(ARRAY[r.enrolled_on, r.last_active_on])'
            WHEN 'order_deliveries' THEN '(SELECT (o.ordered_at AT TIME ZONE $1)::date FROM cxkpi.orders AS o WHERE o.order_id = r.order_id)'
            WHEN 'engagement_events' THEN '(r.occurred_at AT TIME ZONE $1)::date'
            WHEN 'social_mentions' THEN '(r.mentioned_at AT TIME ZONE $1)::date'
        END;
        IF day_sql IS NULL THEN
            RAISE EXCEPTION 'cxkpi.change_capture() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket) SELECT DISTINCT %L, d FROM (SELECT %s AS d FROM %s AS r) AS x '
                       'WHERE d IS NOT NULL', TG_TABLE_NAME, day_sql, src) USING tz;
    END IF;
    IF TG_TABLE_NAME = 'orders' AND TG_OP = 'UPDATE' THEN
        -- UPDATE: the request days of the orders' returns (days to return)
        INSERT INTO cxkpi.change_log (fact, bucket)
        SELECT DISTINCT 'order_returns', (r.requested_at AT TIME ZONE tz)::date
        FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT n.order_id FROM new_rows AS n);
    ELSIF TG_TABLE_NAME = 'order_returns' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.order_id IN (SELECT r.order_id FROM %s AS r)', src) USING tz;
    ELSIF TG_TABLE_NAME = 'loyalty_members' THEN
        EXECUTE format('INSERT INTO cxkpi.change_log (fact, bucket)
                        SELECT DISTINCT ''orders'', (o.ordered_at AT TIME ZONE $1)::date
                        FROM cxkpi.orders AS o WHERE o.customer_id IN (SELECT r.customer_id FROM %1$s AS r)
                        UNION
                        SELECT DISTINCT ''loyalty_activity'', (a.active_at AT TIME ZONE $1)::date
                        FROM cxkpi.loyalty_activity AS a WHERE a.customer_id IN (SELECT r.customer_id FROM %1$s AS r)', src)
        USING tz;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.change_capture() IS
    'Internal: statement trigger of the fact tables; appends the day buckets a statement touched (and those that depend on them) to cxkpi.change_log.';
REVOKE ALL ON FUNCTION cxkpi.change_capture() FROM PUBLIC;

-- The fact tables the daily rollups read.
CREATE FUNCTION cxkpi.change_capture_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['survey_responses', 'orders', 'order_returns', 'web_sessions', 'store_traffic', 'carts',
                 'support_tickets', 'app_ratings', 'metric_observations', 'loyalty_members', 'loyalty_activity',
                 'customers', 'order_deliveries', 'engagement_events', 'social_mentions'];
COMMENT ON FUNCTION cxkpi.change_capture_tables() IS 'Internal: the fact tables whose changes cxkpi.change_log records.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY cxkpi.change_capture_tables() LOOP
        EXECUTE format('CREATE TRIGGER change_capture_insert AFTER INSERT ON cxkpi.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_update AFTER UPDATE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_delete AFTER DELETE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
        EXECUTE format('CREATE TRIGGER change_capture_truncate AFTER TRUNCATE ON cxkpi.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()', t);
    END LOOP;
END $$;

-- The day of each fact, for the refresh's range scans of one or a few days.
CREATE INDEX survey_responses_responded_at_idx ON cxkpi.survey_responses (responded_at);
CREATE INDEX orders_ordered_at_idx ON cxkpi.orders (ordered_at);
CREATE INDEX order_returns_requested_at_idx ON cxkpi.order_returns (requested_at);
CREATE INDEX web_sessions_started_at_idx ON cxkpi.web_sessions (started_at);
CREATE INDEX store_traffic_visit_date_idx ON cxkpi.store_traffic (visit_date);
CREATE INDEX carts_created_at_idx ON cxkpi.carts (created_at);
CREATE INDEX support_tickets_created_at_idx ON cxkpi.support_tickets (created_at);
CREATE INDEX app_ratings_rated_at_idx ON cxkpi.app_ratings (rated_at);
CREATE INDEX metric_observations_observed_at_idx ON cxkpi.metric_observations (observed_at);
CREATE INDEX loyalty_activity_active_at_idx ON cxkpi.loyalty_activity (active_at);
CREATE INDEX loyalty_members_enrolled_on_idx ON cxkpi.loyalty_members (enrolled_on);
CREATE INDEX loyalty_members_last_active_on_idx ON cxkpi.loyalty_members (last_active_on);
CREATE INDEX customers_acquired_on_idx ON cxkpi.customers (acquired_on);

-- The referencing columns of the foreign keys that had no index: deleting an order or a customer
-- (a cancelled order, an erasure request) checks each referencing table by index instead of
-- scanning it once per deleted row (1,000 deleted orders took 2.4 s at sample scale 1, and grow
-- with the table).  Partial: anonymous rows (no customer, no order) are never looked up.
CREATE INDEX survey_responses_order_idx ON cxkpi.survey_responses (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX survey_responses_customer_idx ON cxkpi.survey_responses (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX web_sessions_customer_idx ON cxkpi.web_sessions (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX carts_customer_idx ON cxkpi.carts (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX support_tickets_customer_idx ON cxkpi.support_tickets (customer_id) WHERE customer_id IS NOT NULL;

-------------------------------------------------------------------------------------------------
-- Daily rollups: a table each, and the function that computes its rows of a range of days
-------------------------------------------------------------------------------------------------

-- Survey answers per day, survey, touchpoint channel and scale.
CREATE TABLE cxkpi.daily_surveys (day date, survey text, channel text, scale integer, responses bigint,
    nps @extschema@.nps_summary, csat @extschema@.csat_summary, ces @extschema@.ces_summary);
CREATE UNIQUE INDEX daily_surveys_key ON cxkpi.daily_surveys (day, survey, channel, scale);
CREATE FUNCTION cxkpi.rollup_daily_surveys(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_surveys
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (r.responded_at AT TIME ZONE tz)::date AS day, r.survey, r.channel, r.scale,
       count(*) AS responses,
       @extschema@.nps_agg(r.score) FILTER (WHERE r.survey = 'nps') AS nps,
       @extschema@.csat_agg(r.score, r.scale) FILTER (WHERE r.survey = 'csat') AS csat,
       @extschema@.ces_agg(r.score, r.scale) FILTER (WHERE r.survey = 'ces') AS ces
FROM cxkpi.survey_responses AS r
WHERE r.responded_at >= (first_day::timestamp AT TIME ZONE tz) AND r.responded_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3, 4 $$;

-- Orders per day, channel, segment and first/later order, with a return_summary (order-date
-- basis: a return counts in its order's day).  Segment: loyalty when the customer was enrolled
-- by the order day, else new for the customer's first order, else returning.
-- Each customer's first order, as the last refresh saw it: step 2 of the incremental refresh
-- compares the first order of every customer a change touched with it, and recomputes the days
-- whose first-order flags moved (docs/architecture.md).  Rebuilt with the rollups; not dumped.
CREATE TABLE cxkpi.customer_first_orders (customer_id bigint PRIMARY KEY, order_id bigint NOT NULL,
    ordered_at timestamptz NOT NULL);
CREATE INDEX customer_first_orders_ordered_at ON cxkpi.customer_first_orders (ordered_at);
COMMENT ON TABLE cxkpi.customer_first_orders IS
    'Internal: each customer''s first order as the last refresh saw it (the refresh finds the first-order flags that moved).';

CREATE TABLE cxkpi.daily_orders (day date, channel text, segment text, first_order boolean, orders bigint,
    items bigint, gross_value numeric, discount numeric, net_value numeric, returns @extschema@.return_summary);
CREATE UNIQUE INDEX daily_orders_key ON cxkpi.daily_orders (day, channel, segment, first_order);
CREATE FUNCTION cxkpi.rollup_daily_orders(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_orders
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH o AS (
    SELECT o.order_id, o.customer_id, o.channel, o.items, o.gross_value, o.discount,
           (o.ordered_at AT TIME ZONE tz)::date AS day,
           NOT EXISTS (SELECT 1 FROM cxkpi.orders AS p
                       WHERE p.customer_id = o.customer_id AND p.ordered_at <= o.ordered_at
                         AND (p.ordered_at < o.ordered_at OR p.order_id < o.order_id)) AS first_order
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)),
ret AS (
    SELECT r.order_id, sum(r.items_returned)::integer AS items_returned, sum(r.value_returned) AS value_returned
    FROM cxkpi.order_returns AS r WHERE r.order_id IN (SELECT o.order_id FROM o) GROUP BY r.order_id)
SELECT o.day, o.channel,
       CASE WHEN m.enrolled_on <= o.day THEN 'loyalty' WHEN o.first_order THEN 'new' ELSE 'returning' END AS segment,
       o.first_order,
       count(*) AS orders, sum(o.items) AS items, sum(o.gross_value) AS gross_value,
       sum(o.discount) AS discount, sum(o.gross_value - o.discount) AS net_value,
       @extschema@.return_agg(o.items, coalesce(r.items_returned, 0), o.gross_value - o.discount,
                              coalesce(r.value_returned, 0)) AS returns
FROM o LEFT JOIN ret AS r USING (order_id) LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)
GROUP BY 1, 2, 3, 4 $$;

-- Ordering customers per day, as retention summaries: by day (distinct and repeat customers of
-- any period) and by week, month, quarter and year (retention of each grain).
CREATE TABLE cxkpi.daily_customer_activity (day date, orders bigint, by_day @extschema@.retention_summary,
    by_week @extschema@.retention_summary, by_month @extschema@.retention_summary,
    by_quarter @extschema@.retention_summary, by_year @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_customer_activity_key ON cxkpi.daily_customer_activity (day);
CREATE FUNCTION cxkpi.rollup_daily_customer_activity(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_customer_activity LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (o.ordered_at AT TIME ZONE tz)::date AS day, count(*) AS orders,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'day') AS by_day,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'week') AS by_week,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'month') AS by_month,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'quarter') AS by_quarter,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE tz)::date, 'year') AS by_year
FROM cxkpi.orders AS o
WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1 $$;

-- Visits and conversions per day and device: web and app sessions, and stores (visitors from
-- the footfall counters, conversions = store orders).
CREATE TABLE cxkpi.daily_conversion (day date, device text, visits bigint, added_to_cart bigint,
    reached_checkout bigint, conversions bigint);
CREATE UNIQUE INDEX daily_conversion_key ON cxkpi.daily_conversion (day, device);
CREATE FUNCTION cxkpi.rollup_daily_conversion(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_conversion
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT day, device, sum(visits)::bigint AS visits, sum(added_to_cart)::bigint AS added_to_cart,
       sum(reached_checkout)::bigint AS reached_checkout, sum(conversions)::bigint AS conversions
FROM (SELECT (s.started_at AT TIME ZONE tz)::date AS day, s.device, count(*) AS visits,
             count(*) FILTER (WHERE s.added_to_cart) AS added_to_cart,
             count(*) FILTER (WHERE s.reached_checkout) AS reached_checkout,
             count(*) FILTER (WHERE s.converted) AS conversions
      FROM cxkpi.web_sessions AS s
      WHERE s.started_at >= (first_day::timestamp AT TIME ZONE tz) AND s.started_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      GROUP BY 1, 2
      UNION ALL
      SELECT t.visit_date, 'store', sum(t.visitors), 0, 0, 0 FROM cxkpi.store_traffic AS t
      WHERE t.visit_date BETWEEN first_day AND last_day GROUP BY 1
      UNION ALL
      SELECT (o.ordered_at AT TIME ZONE tz)::date, 'store', 0, 0, 0, count(*)
      FROM cxkpi.orders AS o
      WHERE o.channel = 'store'
        AND o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      GROUP BY 1) AS u
GROUP BY 1, 2 $$;

-- Carts per creation day and device (cohort of the creation day).
CREATE TABLE cxkpi.daily_carts (day date, device text, carts bigint, converted bigint, abandoned bigint, recovered bigint);
CREATE UNIQUE INDEX daily_carts_key ON cxkpi.daily_carts (day, device);
CREATE FUNCTION cxkpi.rollup_daily_carts(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_carts
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (k.created_at AT TIME ZONE tz)::date AS day, k.device, count(*) AS carts,
       count(*) FILTER (WHERE k.converted_at IS NOT NULL) AS converted,
       count(*) FILTER (WHERE k.converted_at IS NULL) AS abandoned,
       count(*) FILTER (WHERE k.recovered_at IS NOT NULL) AS recovered
FROM cxkpi.carts AS k
WHERE k.created_at >= (first_day::timestamp AT TIME ZONE tz) AND k.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;

-- Tickets per creation day and channel (cohort of the creation day).  First response times
-- are kept exactly, as a sorted array of hours, because medians and percentiles do not merge.
CREATE TABLE cxkpi.daily_tickets (day date, channel text, tickets bigint, responded bigint,
    response_hours_sum double precision, response_hours double precision[], resolved bigint,
    first_contact_resolved bigint);
CREATE UNIQUE INDEX daily_tickets_key ON cxkpi.daily_tickets (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_tickets(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_tickets
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.created_at AT TIME ZONE tz)::date AS day, t.channel, count(*) AS tickets,
       count(t.first_response_at) AS responded,
       coalesce(sum(extract(epoch FROM t.first_response_at - t.created_at) / 3600), 0)::double precision
           AS response_hours_sum,
       coalesce(array_agg(extract(epoch FROM t.first_response_at - t.created_at)::double precision / 3600
                          ORDER BY t.first_response_at - t.created_at)
                    FILTER (WHERE t.first_response_at IS NOT NULL), '{}') AS response_hours,
       count(t.resolved_at) AS resolved,
       count(*) FILTER (WHERE t.resolved_at IS NOT NULL AND t.contacts_to_resolve = 1 AND NOT t.reopened)
           AS first_contact_resolved
FROM cxkpi.support_tickets AS t
WHERE t.created_at >= (first_day::timestamp AT TIME ZONE tz) AND t.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;

-- Resolution times of the tickets per creation day and channel (issue 17): the cohort of the
-- creation day, as the first response time, so that a period's resolution time describes the
-- tickets opened in it (a ticket still open counts in neither; its day is recomputed when it is
-- resolved).  Kept exactly as cxkpi.daily_tickets keeps first response times: the sum and the
-- sorted hours, from which every grain's mean, median and 90th percentile are exact.
CREATE TABLE cxkpi.daily_ticket_resolutions (day date, channel text, resolved bigint,
    resolution_hours_sum double precision, resolution_hours double precision[]);
CREATE UNIQUE INDEX daily_ticket_resolutions_key ON cxkpi.daily_ticket_resolutions (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_ticket_resolutions(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_ticket_resolutions LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.created_at AT TIME ZONE tz)::date AS day, t.channel, count(*) AS resolved,
       sum(extract(epoch FROM t.resolved_at - t.created_at) / 3600)::double precision AS resolution_hours_sum,
       array_agg(extract(epoch FROM t.resolved_at - t.created_at)::double precision / 3600
                 ORDER BY t.resolved_at - t.created_at) AS resolution_hours
FROM cxkpi.support_tickets AS t
WHERE t.created_at >= (first_day::timestamp AT TIME ZONE tz) AND t.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
  AND t.resolved_at IS NOT NULL
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_ticket_resolutions IS
    'Internal rollup: resolved tickets and their exact resolution times (resolved - created, hours, sorted) per creation day and channel.';
COMMENT ON FUNCTION cxkpi.rollup_daily_ticket_resolutions(text, date, date) IS
    'Internal: the rows of cxkpi.daily_ticket_resolutions of the days first_day to last_day (in time zone tz).';

-- Deliveries per order day and order channel (issue 17, seed 002): the cohort of the order day,
-- so that a period's delivery time describes the orders placed in it (an order on its way counts
-- in none; its day is recomputed when it is delivered).  Delivery times (delivered - ordered, in
-- days) kept exactly, the sum and the sorted days; on time: delivered by promised_by, among the
-- delivered orders with a promise.
CREATE TABLE cxkpi.daily_deliveries (day date, channel text, delivered bigint, delivery_days_sum double precision,
    delivery_days double precision[], promised bigint, on_time bigint);
CREATE UNIQUE INDEX daily_deliveries_key ON cxkpi.daily_deliveries (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_deliveries(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_deliveries LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (o.ordered_at AT TIME ZONE tz)::date AS day, o.channel, count(*) AS delivered,
       sum(extract(epoch FROM d.delivered_at - o.ordered_at) / 86400)::double precision AS delivery_days_sum,
       array_agg(extract(epoch FROM d.delivered_at - o.ordered_at)::double precision / 86400
                 ORDER BY d.delivered_at - o.ordered_at) AS delivery_days,
       count(d.promised_by) AS promised,
       count(*) FILTER (WHERE d.delivered_at <= d.promised_by) AS on_time
FROM cxkpi.orders AS o JOIN cxkpi.order_deliveries AS d ON d.order_id = o.order_id
WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
  AND d.delivered_at IS NOT NULL
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_deliveries IS
    'Internal rollup: delivered orders, their exact delivery times (delivered - ordered, days, sorted) and on-time deliveries per order day and channel.';
COMMENT ON FUNCTION cxkpi.rollup_daily_deliveries(text, date, date) IS
    'Internal: the rows of cxkpi.daily_deliveries of the days first_day to last_day (in time zone tz).';

-- Loyalty: enrolments per day, and member activity per day as a daily retention summary: the
-- orders and the programme activities (cxkpi.loyalty_activity) on or after the enrolment day,
-- and the last known activity date (which counts on its own day only, like any activity).  The
-- active share of a period is computed from the activity of the days up to its end, so every
-- period counts what happened in its own window.
CREATE TABLE cxkpi.daily_loyalty (day date, enrolled bigint, active @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_loyalty_key ON cxkpi.daily_loyalty (day);
CREATE FUNCTION cxkpi.rollup_daily_loyalty(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_loyalty
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH activity AS (
    SELECT o.customer_id, (o.ordered_at AT TIME ZONE tz)::date AS day
    FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m USING (customer_id)
    WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      AND (o.ordered_at AT TIME ZONE tz)::date >= m.enrolled_on
    UNION ALL
    SELECT a.customer_id, (a.active_at AT TIME ZONE tz)::date
    FROM cxkpi.loyalty_activity AS a JOIN cxkpi.loyalty_members AS m USING (customer_id)
    WHERE a.active_at >= (first_day::timestamp AT TIME ZONE tz) AND a.active_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
      AND (a.active_at AT TIME ZONE tz)::date >= m.enrolled_on
    UNION ALL
    SELECT m.customer_id, m.last_active_on FROM cxkpi.loyalty_members AS m
    WHERE m.last_active_on BETWEEN first_day AND last_day),
days AS (
    SELECT day, customer_id, 0 AS enrolled FROM activity
    UNION ALL
    SELECT m.enrolled_on, m.customer_id, 1 FROM cxkpi.loyalty_members AS m WHERE m.enrolled_on BETWEEN first_day AND last_day)
SELECT day, sum(enrolled)::bigint AS enrolled,
       @extschema@.retention_agg(customer_id, day, 'day') FILTER (WHERE enrolled = 0) AS active
FROM days GROUP BY day $$;

-- App ratings per day and store, as 5-point CSAT summaries (mean rating and its t interval).
CREATE TABLE cxkpi.daily_app_ratings (day date, app_store text, ratings @extschema@.csat_summary);
CREATE UNIQUE INDEX daily_app_ratings_key ON cxkpi.daily_app_ratings (day, app_store);
CREATE FUNCTION cxkpi.rollup_daily_app_ratings(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_app_ratings
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (a.rated_at AT TIME ZONE tz)::date AS day, a.app_store, @extschema@.csat_agg(a.rating, 5) AS ratings
FROM cxkpi.app_ratings AS a
WHERE a.rated_at >= (first_day::timestamp AT TIME ZONE tz) AND a.rated_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;

-- Observed secondary metrics: weighted sums per day, KPI and dimension.  Floating-point sums are
-- taken as numeric (exact, so independent of the order rows are read in: an incremental refresh
-- gives the bits of a rebuild), here and where the KPI engine adds days up.
CREATE TABLE cxkpi.daily_observations (day date, kpi text, dimension text, observations bigint,
    weighted_sum double precision, weight_sum double precision);
CREATE UNIQUE INDEX daily_observations_key ON cxkpi.daily_observations (day, kpi, dimension);
CREATE FUNCTION cxkpi.rollup_daily_observations(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_observations
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (m.observed_at AT TIME ZONE tz)::date AS day, m.kpi, m.dimension,
       count(*) AS observations, sum((m.value * m.weight)::numeric)::double precision AS weighted_sum,
       sum(m.weight::numeric)::double precision AS weight_sum
FROM cxkpi.metric_observations AS m
WHERE m.observed_at >= (first_day::timestamp AT TIME ZONE tz) AND m.observed_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Return events per request day (return-date basis): merchant-initiated returns and the days
-- from order to return request.
CREATE TABLE cxkpi.daily_return_events (day date, returns bigint, merchant_returns bigint, days_to_return_sum bigint);
CREATE UNIQUE INDEX daily_return_events_key ON cxkpi.daily_return_events (day);
CREATE FUNCTION cxkpi.rollup_daily_return_events(tz text, first_day date, last_day date)
    RETURNS SETOF cxkpi.daily_return_events LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (r.requested_at AT TIME ZONE tz)::date AS day, count(*) AS returns,
       count(*) FILTER (WHERE r.initiated_by = 'merchant') AS merchant_returns,
       sum((r.requested_at AT TIME ZONE tz)::date - (o.ordered_at AT TIME ZONE tz)::date)::bigint AS days_to_return_sum
FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id)
WHERE r.requested_at >= (first_day::timestamp AT TIME ZONE tz) AND r.requested_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1 $$;

-- Customers acquired per day and acquisition channel, with the acquisition cost.
CREATE TABLE cxkpi.daily_acquisition (day date, acquisition_channel text, new_customers bigint, acquisition_cost numeric);
CREATE UNIQUE INDEX daily_acquisition_key ON cxkpi.daily_acquisition (day, acquisition_channel);
CREATE FUNCTION cxkpi.rollup_daily_acquisition(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_acquisition
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT c.acquired_on AS day, c.acquisition_channel, count(*) AS new_customers, sum(c.acquisition_cost) AS acquisition_cost
FROM cxkpi.customers AS c WHERE c.acquired_on BETWEEN first_day AND last_day GROUP BY 1, 2 $$;

-------------------------------------------------------------------------------------------------
-- Hourly rollups of what seed 000 tracks in real time (docs/architecture.md#the-hour-grain):
-- sessions and conversions, orders, carts, support tickets per local hour.  Maintained by the
-- same refresh as the daily ones (a dirty day recomputes its hours; cxkpi.dashboard_rollups()),
-- keyed by the local day and the hour of the day (0-23) in setting time_zone: the wall-clock
-- hour, so that a day on which the clocks go back has one hour holding two real hours, and a day
-- on which they go forward has no row for the hour skipped.  Store footfall
-- (cxkpi.store_traffic) is counted per day, so hourly conversion covers web and app sessions.
-------------------------------------------------------------------------------------------------

-- Web and app sessions per local day, hour and device: visits, funnel steps, conversions.
CREATE TABLE cxkpi.hourly_conversion (day date, hour integer, device text, visits bigint, added_to_cart bigint,
    reached_checkout bigint, conversions bigint);
CREATE UNIQUE INDEX hourly_conversion_key ON cxkpi.hourly_conversion (day, hour, device);
CREATE FUNCTION cxkpi.rollup_hourly_conversion(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_conversion
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (s.started_at AT TIME ZONE tz)::date AS day, extract(hour FROM s.started_at AT TIME ZONE tz)::integer AS hour,
       s.device, count(*) AS visits, count(*) FILTER (WHERE s.added_to_cart) AS added_to_cart,
       count(*) FILTER (WHERE s.reached_checkout) AS reached_checkout, count(*) FILTER (WHERE s.converted) AS conversions
FROM cxkpi.web_sessions AS s
WHERE s.started_at >= (first_day::timestamp AT TIME ZONE tz) AND s.started_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Orders per local day, hour and channel: count, items and net value (gross - discount).
CREATE TABLE cxkpi.hourly_orders (day date, hour integer, channel text, orders bigint, items bigint, net_value numeric);
CREATE UNIQUE INDEX hourly_orders_key ON cxkpi.hourly_orders (day, hour, channel);
CREATE FUNCTION cxkpi.rollup_hourly_orders(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_orders
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (o.ordered_at AT TIME ZONE tz)::date AS day, extract(hour FROM o.ordered_at AT TIME ZONE tz)::integer AS hour,
       o.channel, count(*) AS orders, sum(o.items) AS items, sum(o.gross_value - o.discount) AS net_value
FROM cxkpi.orders AS o
WHERE o.ordered_at >= (first_day::timestamp AT TIME ZONE tz) AND o.ordered_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Carts per local creation day, hour and device (cohort of the creation hour).
CREATE TABLE cxkpi.hourly_carts (day date, hour integer, device text, carts bigint, converted bigint, abandoned bigint,
    recovered bigint);
CREATE UNIQUE INDEX hourly_carts_key ON cxkpi.hourly_carts (day, hour, device);
CREATE FUNCTION cxkpi.rollup_hourly_carts(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_carts
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (k.created_at AT TIME ZONE tz)::date AS day, extract(hour FROM k.created_at AT TIME ZONE tz)::integer AS hour,
       k.device, count(*) AS carts, count(*) FILTER (WHERE k.converted_at IS NOT NULL) AS converted,
       count(*) FILTER (WHERE k.converted_at IS NULL) AS abandoned,
       count(*) FILTER (WHERE k.recovered_at IS NOT NULL) AS recovered
FROM cxkpi.carts AS k
WHERE k.created_at >= (first_day::timestamp AT TIME ZONE tz) AND k.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

-- Tickets per local creation day, hour and channel (cohort of the creation hour), with the first
-- response times kept as cxkpi.daily_tickets keeps them (their sum, and the sorted hours).
CREATE TABLE cxkpi.hourly_tickets (day date, hour integer, channel text, tickets bigint, responded bigint,
    response_hours_sum double precision, response_hours double precision[], resolved bigint);
CREATE UNIQUE INDEX hourly_tickets_key ON cxkpi.hourly_tickets (day, hour, channel);
CREATE FUNCTION cxkpi.rollup_hourly_tickets(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.hourly_tickets
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t.created_at AT TIME ZONE tz)::date AS day, extract(hour FROM t.created_at AT TIME ZONE tz)::integer AS hour,
       t.channel, count(*) AS tickets, count(t.first_response_at) AS responded,
       coalesce(sum(extract(epoch FROM t.first_response_at - t.created_at) / 3600), 0)::double precision
           AS response_hours_sum,
       coalesce(array_agg(extract(epoch FROM t.first_response_at - t.created_at)::double precision / 3600
                          ORDER BY t.first_response_at - t.created_at)
                    FILTER (WHERE t.first_response_at IS NOT NULL), '{}') AS response_hours,
       count(t.resolved_at) AS resolved
FROM cxkpi.support_tickets AS t
WHERE t.created_at >= (first_day::timestamp AT TIME ZONE tz) AND t.created_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2, 3 $$;

COMMENT ON TABLE cxkpi.hourly_conversion IS 'Internal rollup: web and app sessions, funnel steps and conversions per local day, hour of the day (0-23, setting time_zone) and device.';
COMMENT ON TABLE cxkpi.hourly_orders IS 'Internal rollup: orders, items and net value (gross - discount) per local day, hour of the day (0-23, setting time_zone) and channel.';
COMMENT ON TABLE cxkpi.hourly_carts IS 'Internal rollup: carts created, converted, abandoned and recovered per local creation day, hour of the day (0-23, setting time_zone) and device.';
COMMENT ON TABLE cxkpi.hourly_tickets IS 'Internal rollup: tickets, exact first response times (hours) and resolutions per local creation day, hour of the day (0-23, setting time_zone) and channel.';
COMMENT ON FUNCTION cxkpi.rollup_hourly_conversion(text, date, date) IS 'Internal: the rows of cxkpi.hourly_conversion of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_hourly_orders(text, date, date) IS 'Internal: the rows of cxkpi.hourly_orders of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_hourly_carts(text, date, date) IS 'Internal: the rows of cxkpi.hourly_carts of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_hourly_tickets(text, date, date) IS 'Internal: the rows of cxkpi.hourly_tickets of the days first_day to last_day (in time zone tz).';

-- Which rollup reads which facts' days (cxkpi.change_log.fact), in the order of the refresh.
CREATE FUNCTION cxkpi.dashboard_rollups(OUT rollup text, OUT facts text[]) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('daily_surveys', ARRAY['survey_responses']),
           ('daily_orders', ARRAY['orders', 'orders_first']),
           ('daily_customer_activity', ARRAY['orders']),
           ('daily_conversion', ARRAY['web_sessions', 'store_traffic', 'orders']),
           ('daily_carts', ARRAY['carts']),
           ('daily_tickets', ARRAY['support_tickets']),
           ('daily_ticket_resolutions', ARRAY['support_tickets']),
           ('daily_deliveries', ARRAY['orders', 'order_deliveries']),
           ('daily_loyalty', ARRAY['orders', 'loyalty_members', 'loyalty_activity']),
           ('daily_app_ratings', ARRAY['app_ratings']),
           ('daily_observations', ARRAY['metric_observations']),
           ('daily_return_events', ARRAY['order_returns']),
           ('daily_acquisition', ARRAY['customers']),
           ('hourly_conversion', ARRAY['web_sessions']),
           ('hourly_orders', ARRAY['orders']),
           ('hourly_carts', ARRAY['carts']),
           ('hourly_tickets', ARRAY['support_tickets']),
           ('daily_engagement', ARRAY['engagement_events']),
           ('daily_sentiment', ARRAY['social_mentions']) $$;
COMMENT ON FUNCTION cxkpi.dashboard_rollups() IS
    'Internal: the daily and hourly rollups in refresh order, with the fact tables (cxkpi.change_log.fact) whose days they read.';

-------------------------------------------------------------------------------------------------
-- The KPI engine (docs/architecture.md#3-one-kpi-engine)
-------------------------------------------------------------------------------------------------

-- Every KPI at every grain (day, ISO week, month, quarter, year) and breakdown, in long format:
-- one row per (grain, period, kpi, breakdown, dimension) with the value, its numerator and
-- denominator (so that BI tools re-aggregate instead of averaging ratios), the sample size and
-- the confidence interval where the KPI has one.  Breakdown 'total' has dimension 'all'.
-- Retention, churn, simple CLV and the active loyalty share are defined for week, month, quarter and
-- year only.  Maintained by cxkpi.refresh_dashboard() from cxkpi.kpi_engine.
CREATE TABLE cxkpi.kpi_values (grain text, period_start date, period_end date, "time" timestamptz, kpi text,
    breakdown text, dimension text, value double precision, numerator double precision, denominator double precision,
    sample_size bigint, ci_lower double precision, ci_upper double precision, previous_value double precision,
    value_year_ago double precision, sample_size_year_ago bigint);
CREATE UNIQUE INDEX kpi_values_key ON cxkpi.kpi_values (grain, period_start, kpi, breakdown, dimension);
CREATE INDEX kpi_values_time ON cxkpi.kpi_values (grain, "time");
CREATE INDEX kpi_values_kpi ON cxkpi.kpi_values (kpi, grain, period_start);
-- For BI filters: one metric (cxkpi.kpi_timeseries.metric, the same expression) over a time range,
-- and one dimension value.
CREATE INDEX kpi_values_metric ON cxkpi.kpi_values
    ((kpi || CASE WHEN breakdown = 'total' THEN '' ELSE ' ' || dimension END), grain, period_start);
CREATE INDEX kpi_values_dimension ON cxkpi.kpi_values (dimension, grain, period_start);

-- The arithmetic of the KPIs that have an hour grain, written once from their additive state:
-- value, numerator, denominator, sample size and interval of kpi from the sums num (numerator)
-- and den (denominator; NULL for a volume).  cxkpi.kpi_engine calls it for every period of the
-- daily rollups, the hourly views (src/dashboard_hourly.sql) for hours, today so far and the
-- heat map, so a KPI's formula is in one place (docs/architecture.md#the-hour-grain).  Shares
-- are in percent with a Wilson interval; means (aov, response_time_hours, and the daily-only
-- resolution_time_hours and delivery_time_days) are sums over counts;
-- volumes (sessions, orders, tickets, net_revenue) are the sum itself.  Unknown KPIs give NULL.
-- A SQL-standard body: inlined where it is called, and readers of cxkpi_bi (no USAGE on schema
-- cxkpi) can run it.
CREATE FUNCTION cxkpi.kpi_arithmetic(kpi text, num numeric, den numeric, conf double precision)
    RETURNS TABLE (value double precision, numerator double precision, denominator double precision,
                   sample_size bigint, ci_lower double precision, ci_upper double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'aov' THEN (num / nullif(den, 0))::double precision
                WHEN kpi IN ('response_time_hours', 'resolution_time_hours', 'delivery_time_days') THEN num::double precision / nullif(den, 0)::double precision
                WHEN kpi IN ('sessions', 'orders', 'tickets', 'net_revenue') THEN num::double precision
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share') THEN (100.0 * num / nullif(den, 0))::double precision
                WHEN kpi = 'interactions_per_customer' THEN (num / nullif(den, 0))::double precision END,
           num::double precision, den::double precision,
           CASE WHEN kpi IN ('sessions', 'orders', 'tickets') THEN num::bigint ELSE den::bigint END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf)
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share')
                THEN cxkpi.wilson_ci_lower(num::bigint, den::bigint, conf) END,
           CASE WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf)
                WHEN kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'positive_mention_share',
                             'neutral_mention_share', 'negative_mention_share')
                THEN cxkpi.wilson_ci_upper(num::bigint, den::bigint, conf) END;
END;
COMMENT ON FUNCTION cxkpi.kpi_arithmetic(text, numeric, numeric, double precision) IS
    'Internal: the arithmetic of the KPIs with an hour grain (conversion_rate, cart_abandonment_rate, aov, response_time_hours, sessions, orders, tickets, net_revenue), of the mean resolution and delivery times (resolution_time_hours, delivery_time_days) and of the engagement and mention shares (engagement_rate, email_open_rate, email_click_rate, positive_, neutral_ and negative_mention_share; interactions_per_customer) from the sums of their numerator and denominator: value, numerator, denominator, sample size and Wilson interval (shares). Used by cxkpi.kpi_engine and the hourly views alike.';

-- The arithmetic of every KPI, written once: the rows of cxkpi.kpi_values of the periods given
-- (grains[i], period_starts[i]: the first day of a period of that grain), computed from the rollup
-- rows of those periods.  The full rebuild passes every period, the incremental refresh the
-- periods its dirty days fall into.  Each value comes with the value of the previous period and
-- of the same period a year earlier (cxkpi.previous_period_start, cxkpi.year_ago_period_start),
-- computed here for those periods too.  What a period reads besides its own days: retention the
-- retention_active_window periods before it, the active loyalty share the loyalty_active_days
-- days up to its end, the loyalty members every enrolment up to its end.
-- enable_mergejoin off: the planner, which has no statistics on the CTEs, would keep the asked
-- periods with a merge semi join that rereads them for every row (30 of 44 s of a rebuild at
-- scale 1); the hash join it takes instead is linear.
CREATE FUNCTION cxkpi.kpi_engine(grains text[], period_starts date[]) RETURNS SETOF cxkpi.kpi_values
    LANGUAGE sql STABLE PARALLEL SAFE SET enable_mergejoin = off AS $$
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
-- the periods asked for, and the previous and year-ago periods of each
req AS MATERIALIZED (
    SELECT DISTINCT r.grain, r.period_start FROM unnest(grains, period_starts) AS r(grain, period_start)),
per AS MATERIALIZED (
    SELECT DISTINCT q.grain, x.period_start, (x.period_start + cxkpi.grain_interval(q.grain))::date - 1 AS period_end
    FROM req AS q
    CROSS JOIN LATERAL (VALUES (q.period_start), (cxkpi.previous_period_start(q.grain, q.period_start)),
                               (cxkpi.year_ago_period_start(q.grain, q.period_start))) AS x(period_start)),
sv AS (
    SELECT p.grain, p.period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM per AS p JOIN cxkpi.daily_surveys AS d ON d.day BETWEEN p.period_start AND p.period_end CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY p.grain, p.period_start, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT p.grain, p.period_start, d.first_order, @extschema@.rollup(d.returns) AS r
    FROM per AS p JOIN cxkpi.daily_orders AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2, 3),
-- the accessors once per period: each reads the whole summary of the period (a year's is large)
act AS (
    SELECT a.grain, a.period_start, a.orders, @extschema@.customers(a.s) AS customers,
           @extschema@.repeat_customer_rate(a.s) AS repeat_rate
    FROM (SELECT p.grain, p.period_start, sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
          FROM per AS p JOIN cxkpi.daily_customer_activity AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY 1, 2) AS a),
-- Retention of each period compares its active window with the previous period's: the days read
-- start retention_active_window periods before the first period asked for, and reach back to the
-- last activity before that and on to the next activity after the last period asked for, so that
-- retention_by_period reports the periods in between (also those without orders) as a rebuild
-- over all days does.
rg AS (
    SELECT p.grain, min(p.period_start) AS first_period, max(p.period_end) AS last_day
    FROM per AS p WHERE p.grain <> 'day' GROUP BY p.grain),
rd AS (
    SELECT rg.grain,
           coalesce((SELECT max(d.day) FROM cxkpi.daily_customer_activity AS d
                     WHERE d.day < (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date),
                    (rg.first_period - cfg.ret_w * cxkpi.grain_interval(rg.grain))::date) AS first_day,
           coalesce((SELECT min(d.day) FROM cxkpi.daily_customer_activity AS d WHERE d.day > rg.last_day), rg.last_day) AS last_day
    FROM rg, cfg),
ret0 AS (
    SELECT rd.grain, r.*
    FROM rd CROSS JOIN cfg
    CROSS JOIN LATERAL (SELECT @extschema@.rollup(CASE rd.grain WHEN 'week' THEN d.by_week WHEN 'month' THEN d.by_month
                                                                WHEN 'quarter' THEN d.by_quarter ELSE d.by_year END) AS s
                        FROM cxkpi.daily_customer_activity AS d WHERE d.day BETWEEN rd.first_day AND rd.last_day) AS q
    CROSS JOIN LATERAL @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT w.* FROM (
        SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
               lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
        FROM ret0) AS w
    WHERE (w.grain, w.period_start) IN (SELECT p.grain, p.period_start FROM per AS p)),
cv AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM per AS p JOIN cxkpi.daily_conversion AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM per AS p JOIN cxkpi.daily_carts AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum::numeric) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
-- exact median and p90 of the days' arrays of response hours (percentile_cont's values, one sort
-- per group: src/quantiles.c)
tp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.responded, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.response_hours)) AS responded,
                 @extschema@.exact_percentiles(d.response_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_tickets AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.responded > 0),
-- resolution times: the mean from the sums, the median and 90th percentile from the sorted hours
rs AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.resolved)::bigint AS resolved, sum(d.resolution_hours_sum::numeric) AS hours_sum
    FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
rp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.resolved, t.q[1] AS median_h, t.q[2] AS p90_h
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.resolution_hours)) AS resolved,
                 @extschema@.exact_percentiles(d.resolution_hours, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_ticket_resolutions AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.resolved > 0),
-- delivery times and on-time deliveries, as the resolution times
dl AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.delivered)::bigint AS delivered, sum(d.delivery_days_sum::numeric) AS days_sum,
           sum(d.promised)::bigint AS promised, sum(d.on_time)::bigint AS on_time
    FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
dp AS (
    SELECT t.grain, t.period_start, t.breakdown, t.dimension, t.delivered, t.q[1] AS median_d, t.q[2] AS p90_d
    FROM (SELECT p.grain, p.period_start,
                 CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
                 coalesce(d.channel, 'all') AS dimension, sum(cardinality(d.delivery_days)) AS delivered,
                 @extschema@.exact_percentiles(d.delivery_days, '{0.5,0.9}') AS q
          FROM per AS p JOIN cxkpi.daily_deliveries AS d ON d.day BETWEEN p.period_start AND p.period_end
          GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())) AS t
    WHERE t.delivered > 0),
-- The first enrolment, and the data horizon (the last day with an order or a member activity):
-- the active window of the current, unfinished period ends there.
lh AS MATERIALIZED (
    SELECT min(day) AS first_day, greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day,
           bool_or(active IS NOT NULL) AS any_activity
    FROM cxkpi.daily_loyalty),
-- Members enrolled by the end of every period from the first enrolment to the data horizon,
-- also of periods in which no member enrolled or was active (their active share is then 0).
ly AS MATERIALIZED (
    SELECT p.grain, p.period_start, least(p.period_end, lh.last_day) AS active_end,
           coalesce((SELECT sum(l.enrolled) FROM cxkpi.daily_loyalty AS l WHERE l.day <= least(p.period_end, lh.last_day)), 0)::bigint
               AS members
    FROM per AS p, lh WHERE p.period_end >= lh.first_day AND p.period_start <= lh.last_day),
-- Member activity of the days the active windows of those periods cover.
lys AS (
    SELECT @extschema@.rollup(l.active) AS s
    FROM cxkpi.daily_loyalty AS l,
         (SELECT min(ly.active_end) - cfg.loy_w + 1 AS first_day, max(ly.active_end) AS last_day
          FROM ly, cfg WHERE ly.grain <> 'day' GROUP BY cfg.loy_w) AS b
    WHERE l.day BETWEEN b.first_day AND b.last_day),
ar AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM per AS p JOIN cxkpi.daily_app_ratings AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT p.grain, p.period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum::numeric)::double precision AS weighted_sum,
           sum(d.weight_sum::numeric)::double precision AS weight_sum
    FROM per AS p JOIN cxkpi.daily_observations AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT p.grain, p.period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM per AS p JOIN cxkpi.daily_return_events AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY 1, 2),
aq AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM per AS p JOIN cxkpi.daily_acquisition AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.acquisition_channel), ())),
-- Engagement per channel and in total: distinct customers reached and engaged (retention
-- summaries merged over the period's days); a channel's engagement rate divides by the
-- customers reached in any channel.
eg AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.sent)::bigint AS sent, sum(d.opens)::bigint AS opens, sum(d.clicks)::bigint AS clicks,
           sum(d.interactions)::bigint AS interactions,
           coalesce(@extschema@.customers(@extschema@.rollup(d.reached)), 0) AS reached,
           coalesce(@extschema@.customers(@extschema@.rollup(d.engaged)), 0) AS engaged
    FROM per AS p JOIN cxkpi.daily_engagement AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.channel), ())),
egr AS (
    SELECT c.*, t.reached AS reached_any
    FROM eg AS c JOIN eg AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total'),
sm AS (
    SELECT p.grain, p.period_start,
           CASE WHEN grouping(d.source) = 0 THEN 'source' ELSE 'total' END AS breakdown,
           coalesce(d.source, 'all') AS dimension, @extschema@.rollup(d.mentions) AS s
    FROM per AS p JOIN cxkpi.daily_sentiment AS d ON d.day BETWEEN p.period_start AND p.period_end
    GROUP BY p.grain, p.period_start, GROUPING SETS ((d.source), ())),
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
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, k.*
    FROM cv, cfg, LATERAL cxkpi.kpi_arithmetic('conversion_rate', conversions, visits, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, k.*
    FROM od, cfg, LATERAL cxkpi.kpi_arithmetic('aov', net_value, orders, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, k.*
    FROM ct, cfg, LATERAL cxkpi.kpi_arithmetic('cart_abandonment_rate', abandoned, carts, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'delivery_time_days', breakdown, dimension, k.*
    FROM dl, cfg, LATERAL cxkpi.kpi_arithmetic('delivery_time_days', days_sum, delivered, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'delivery_time_median_days', breakdown, dimension, median_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'delivery_time_p90_days', breakdown, dimension, p90_d, NULL, NULL, delivered, NULL, NULL
    FROM dp
    UNION ALL
    SELECT grain, period_start, 'on_time_delivery_rate', breakdown, dimension, 100.0 * on_time / promised,
           on_time, promised, promised, cxkpi.wilson_ci_lower(on_time, promised, conf), cxkpi.wilson_ci_upper(on_time, promised, conf)
    FROM dl, cfg WHERE promised > 0
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, k.*
    FROM tk, cfg, LATERAL cxkpi.kpi_arithmetic('response_time_hours', response_hours_sum, responded, conf) AS k
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
    UNION ALL
    SELECT grain, period_start, 'resolution_time_hours', breakdown, dimension, k.*
    FROM rs, cfg, LATERAL cxkpi.kpi_arithmetic('resolution_time_hours', hours_sum, resolved, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'resolution_time_median_hours', breakdown, dimension, median_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
    UNION ALL
    SELECT grain, period_start, 'resolution_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, resolved, NULL, NULL
    FROM rp
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
    FROM ly, lys, lh, cfg,
         LATERAL (SELECT coalesce(@extschema@.active_customers(lys.s, ly.active_end, cfg.loy_w), 0) AS active) AS a
    WHERE lh.any_activity AND ly.grain <> 'day'   -- a rolling share: weeks and longer
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
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', repeat_rate,
           round(repeat_rate * customers / 100), customers, customers,
           cxkpi.wilson_ci_lower(round(repeat_rate * customers / 100)::bigint, customers, conf),
           cxkpi.wilson_ci_upper(round(repeat_rate * customers / 100)::bigint, customers, conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / customers,
           orders, customers, customers, NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    UNION ALL
    -- each acquisition channel's share of the customers acquired in the period (the total row:
    -- 100, all of them, so that the KPI has a total row like every other)
    SELECT c.grain, c.period_start, 'new_customer_share', c.breakdown, c.dimension,
           100.0 * c.new_customers / t.new_customers, c.new_customers, t.new_customers, t.new_customers,
           cxkpi.wilson_ci_lower(c.new_customers, t.new_customers, cfg.conf),
           cxkpi.wilson_ci_upper(c.new_customers, t.new_customers, cfg.conf)
    FROM aq AS c JOIN aq AS t ON t.grain = c.grain AND t.period_start = c.period_start AND t.breakdown = 'total', cfg
    WHERE t.new_customers > 0
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / a.customers)
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, a.customers, NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL
    -- engagement (issue 17, seed 002)
    UNION ALL
    SELECT grain, period_start, 'engagement_rate', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('engagement_rate', engaged, reached_any, conf) AS k
    UNION ALL
    SELECT grain, period_start, 'interactions_per_customer', breakdown, dimension, k.*
    FROM egr, cfg, LATERAL cxkpi.kpi_arithmetic('interactions_per_customer', interactions, engaged, conf) AS k
    WHERE engaged > 0
    UNION ALL
    SELECT grain, period_start, x.kpi, 'total', 'all', k.*
    FROM egr, cfg, LATERAL (VALUES ('email_open_rate', opens), ('email_click_rate', clicks)) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, sent, conf) AS k
    WHERE breakdown = 'channel' AND dimension = 'email' AND sent > 0
    -- social-media sentiment (seed 003): net sentiment is the NPS of the three categories
    UNION ALL
    SELECT grain, period_start, 'net_sentiment', breakdown, dimension, @extschema@.nps(s),
           (@extschema@.promoters(s) - @extschema@.detractors(s))::double precision,
           @extschema@.responses(s)::double precision, @extschema@.responses(s),
           @extschema@.nps_ci_lower(s, conf), @extschema@.nps_ci_upper(s, conf)
    FROM sm, cfg
    UNION ALL
    SELECT grain, period_start, x.kpi, breakdown, dimension, k.*
    FROM sm, cfg, LATERAL (VALUES ('positive_mention_share', @extschema@.promoters(s)),
                                  ('neutral_mention_share', @extschema@.passives(s)),
                                  ('negative_mention_share', @extschema@.detractors(s))) AS x(kpi, num),
         LATERAL cxkpi.kpi_arithmetic(x.kpi, x.num, @extschema@.responses(s), conf) AS k),
-- Each value with the value of the previous period and of the same period a year earlier, with
-- windows, not self-joins (which the planner, with no statistics on a CTE, would merge on the
-- series alone: quadratic in its length): the row before in the series is the previous period
-- when its start is previous_period_start; the row before among the periods of the series a
-- whole number of years (364 days for days and weeks, the same calendar month for months,
-- quarters and years) apart is the year-ago period when its start is year_ago_period_start.
-- Both are among the periods computed (per), so the windows see them.
cur AS (
    SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
           kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
           kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
           kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
           kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
           kv.ci_upper::double precision AS ci_upper,
           CASE WHEN kv.grain IN ('day', 'week') THEN (kv.period_start - date '2000-01-03') % 364
                ELSE extract(month FROM kv.period_start)::integer END AS year_phase
    FROM kv, cfg),
ann AS (
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
           years AS (PARTITION BY c.grain, c.kpi, c.breakdown, c.dimension, c.year_phase ORDER BY c.period_start))
SELECT a.* FROM ann AS a WHERE (a.grain, a.period_start) IN (SELECT q.grain, q.period_start FROM req AS q) $$;
COMMENT ON FUNCTION cxkpi.kpi_engine(text[], date[]) IS
    'Internal: the KPI engine, every KPI''s arithmetic written once: the cxkpi.kpi_values rows of the periods given (grains[i], period_starts[i]), from the daily rollups. The full rebuild and the incremental refresh both call it.';

-- Every period of every grain (day, week, month, quarter, year) that contains a day from
-- first_day to last_day.
CREATE FUNCTION cxkpi.periods_between(first_day date, last_day date, OUT grain text, OUT period_start date)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT g.grain, p::date
    FROM (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')) AS g(grain)
    CROSS JOIN LATERAL generate_series(date_trunc(g.grain, first_day::timestamp), last_day::timestamp,
                                       cxkpi.grain_interval(g.grain)) AS p $$;
COMMENT ON FUNCTION cxkpi.periods_between(date, date) IS
    'Internal: every (grain, period_start) of the periods that contain a day from first_day to last_day.';

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


-- The first and the last day of the rollups.
CREATE FUNCTION cxkpi.dashboard_days(OUT first_day date, OUT last_day date)
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT min(d.first_day), max(d.last_day)
    FROM (SELECT min(day), max(day) FROM cxkpi.daily_surveys UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_orders
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_customer_activity
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_conversion
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_carts UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_tickets
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_loyalty UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_app_ratings
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_observations
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_return_events
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_acquisition
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_engagement
          UNION ALL SELECT min(day), max(day) FROM cxkpi.daily_sentiment) AS d(first_day, last_day) $$;
COMMENT ON FUNCTION cxkpi.dashboard_days() IS 'Internal: the first and the last day of the daily rollups.';

-- The horizons that periods other than their own depend on: the first and the last day with an
-- order (retention reports every period in between), the first day of the loyalty rollup and the
-- data horizon (the loyalty periods run from the one to the other).
CREATE FUNCTION cxkpi.dashboard_horizons() RETURNS date[]
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY[(SELECT min(day) FROM cxkpi.daily_customer_activity), (SELECT max(day) FROM cxkpi.daily_customer_activity),
                 (SELECT min(day) FROM cxkpi.daily_loyalty),
                 greatest((SELECT max(day) FROM cxkpi.daily_loyalty), (SELECT max(day) FROM cxkpi.daily_customer_activity))] $$;
COMMENT ON FUNCTION cxkpi.dashboard_horizons() IS
    'Internal: first and last day of cxkpi.daily_customer_activity, first day of cxkpi.daily_loyalty, and the data horizon.';

-- The work of cxkpi.refresh_dashboard and cxkpi.rebuild_dashboard, in the caller's transaction
-- (readers see all of the old or all of the new figures).  One at a time (an advisory lock; a
-- second call meanwhile returns at once).
--  1. The change-log rows visible now; a full rebuild instead when asked, when the settings the
--     rollups were built with changed, after a TRUNCATE, or when the rollups were never built.
--  2. Dirty days: those logged, and for cxkpi.daily_orders, for each customer with an order on a
--     dirty day, the day of its earliest order on a clean day when a dirty day comes before it.
--     Orders on clean days were not written since the last refresh, so only that one can have
--     gained or lost the first-order flag (a new or moved earlier order, or a deleted or moved
--     first one, before it); this also covers writers of one customer that overlap (a trigger
--     does not see the other's uncommitted order).  Appending a day of orders of known
--     customers dirties no other day.
--  3. Each rollup: its rows of the dirty days deleted and computed again, run by run of days;
--     the days whose rows did change are noted (a first-order flag that stayed, a day of a
--     customer's orders that gave the same rows, dirty no KPI period).
--  4. cxkpi.kpi_values: the rows of the periods the changed days fall into (docs/architecture.md,
--     the table of section 3), of the periods after them and a year after them (their previous
--     and year-ago values), computed again by cxkpi.kpi_engine.
--  5. The alert levels of the recomputed rows of the alert grain and of the open periods
--     (cxkpi.alert_evaluate): the outbox cxkpi.alerts and its notifications.
--  6. The forecast series whose fitted window moved or whose rollup days changed
--     (cxkpi.forecasts_maintain, src/dashboard_forecast.sql).
--  7. The customer scores (RFM, CLV models), when orders or customers changed or as_of moved.
--  8. The consumed change-log rows are deleted.
--  jit off: the planner cannot estimate the periods and days of a refresh (a set-returning call
--  counts as 1,000 rows), so their costs reach billions and JIT compiled 71 functions for 2.6 s
--  in a refresh that had nothing to do.
CREATE FUNCTION cxkpi.dashboard_maintain(rebuild_all boolean, concurrently boolean) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' SET jit = off AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    tz text := cxkpi.setting('time_zone');
    fp jsonb := cxkpi.dashboard_settings();
    conc boolean := $2;     -- "concurrently" is a keyword in PL/pgSQL expressions
    st record;
    r record;
    rng record;
    n bigint;
    total bigint;
    h0 date[];
    h1 date[];
    gs text[];
    ps date[];
    customers_changed boolean;
    models_stale boolean;
    mv text;
BEGIN
    IF NOT pg_try_advisory_xact_lock('cxkpi.change_log'::regclass::oid::bigint) THEN
        RAISE NOTICE 'cxkpi: another refresh of the dashboard is running; this call does nothing';
        RETURN;
    END IF;
    IF to_regclass('pg_temp.cxkpi_log') IS NOT NULL THEN
        DROP TABLE pg_temp.cxkpi_log;
    END IF;
    IF to_regclass('pg_temp.cxkpi_dirty') IS NOT NULL THEN
        DROP TABLE IF EXISTS pg_temp.cxkpi_dirty, pg_temp.cxkpi_changed, pg_temp.cxkpi_old, pg_temp.cxkpi_first;
    END IF;
    CREATE TEMP TABLE cxkpi_log ON COMMIT DROP AS SELECT l.ctid AS tid, l.fact, l.bucket FROM cxkpi.change_log AS l;
    SELECT * INTO st FROM cxkpi.dashboard_state;
    IF NOT FOUND OR st.settings IS DISTINCT FROM fp OR EXISTS (SELECT 1 FROM cxkpi_log WHERE bucket IS NULL) THEN
        rebuild_all := true;
    END IF;
    -- The customer models (RFM, CLV fit, scores, interventions) are global: every customer's
    -- scores move when the models are refitted, so they cannot be maintained day by day.  They
    -- are refitted by a rebuild, when never fitted or fitted for another reference date, and
    -- otherwise when facts changed since the last fit and customer_models_interval has passed
    -- (docs/architecture.md#customer-models).
    models_stale := coalesce(st.models_stale, false) OR EXISTS (SELECT 1 FROM cxkpi_log);
    customers_changed := rebuild_all OR st.models_refreshed_at IS NULL
                         OR st.models_settings IS DISTINCT FROM cxkpi.customer_models_settings()
                         OR NOT EXISTS (SELECT 1 FROM cxkpi.clv_models WHERE as_of = cxkpi.as_of())
                         OR (models_stale AND clock_timestamp() >= st.models_refreshed_at
                                                                  + cxkpi.setting('customer_models_interval')::interval);

    IF rebuild_all THEN
        FOR r IN SELECT * FROM cxkpi.dashboard_rollups() LOOP
            EXECUTE format(CASE WHEN conc THEN 'DELETE FROM cxkpi.%I' ELSE 'TRUNCATE cxkpi.%I' END, r.rollup);
            EXECUTE format('INSERT INTO cxkpi.%I SELECT * FROM cxkpi.%I($1, $2, $3)', r.rollup, 'rollup_' || r.rollup)
                USING tz, '-infinity'::date, 'infinity'::date;
            GET DIAGNOSTICS n = ROW_COUNT;
            EXECUTE format('ANALYZE cxkpi.%I', r.rollup);
            PERFORM cxkpi.progress_notice('refresh ' || r.rollup, n, t0);
        END LOOP;
        -- each customer's first order (step 2 of the incremental refresh compares with it)
        IF conc THEN
            DELETE FROM cxkpi.customer_first_orders;
        ELSE
            TRUNCATE cxkpi.customer_first_orders;
        END IF;
        INSERT INTO cxkpi.customer_first_orders (customer_id, order_id, ordered_at)
        SELECT DISTINCT ON (o.customer_id) o.customer_id, o.order_id, o.ordered_at
        FROM cxkpi.orders AS o ORDER BY o.customer_id, o.ordered_at, o.order_id;
        ANALYZE cxkpi.customer_first_orders;
        SELECT array_agg(p.grain), array_agg(p.period_start) INTO gs, ps
        FROM cxkpi.dashboard_days() AS b CROSS JOIN LATERAL cxkpi.periods_between(b.first_day, b.last_day) AS p;
        IF conc THEN
            DELETE FROM cxkpi.kpi_values;
        ELSE
            TRUNCATE cxkpi.kpi_values;
        END IF;
    ELSE
        CREATE TEMP TABLE cxkpi_dirty ON COMMIT DROP AS SELECT DISTINCT l.fact, l.bucket AS day FROM cxkpi_log AS l;
        -- First-order flags (step 2): the customers with an order on a dirty day of orders, or
        -- whose recorded first order was on one (deleted or moved); where a customer's first
        -- order is not the one recorded, the days of the old and the new first order are dirty
        -- for daily_orders (fact 'orders_first'), and the record is brought up to date.  Only
        -- flags that moved cost a day; writers log nothing for them.
        CREATE TEMP TABLE cxkpi_first ON COMMIT DROP AS
        WITH dd AS (SELECT (d.day::timestamp AT TIME ZONE tz) AS t0, ((d.day + 1)::timestamp AT TIME ZONE tz) AS t1
                    FROM cxkpi_dirty AS d WHERE d.fact = 'orders'),
        c AS (SELECT o.customer_id FROM dd JOIN cxkpi.orders AS o ON o.ordered_at >= dd.t0 AND o.ordered_at < dd.t1
              UNION
              SELECT f.customer_id FROM dd JOIN cxkpi.customer_first_orders AS f ON f.ordered_at >= dd.t0 AND f.ordered_at < dd.t1)
        SELECT c.customer_id, f.ordered_at AS old_at, n.order_id AS new_order, n.ordered_at AS new_at
        FROM c LEFT JOIN cxkpi.customer_first_orders AS f ON f.customer_id = c.customer_id
        LEFT JOIN LATERAL (SELECT o.order_id, o.ordered_at FROM cxkpi.orders AS o WHERE o.customer_id = c.customer_id
                           ORDER BY o.ordered_at, o.order_id LIMIT 1) AS n ON true
        WHERE (f.order_id, f.ordered_at) IS DISTINCT FROM (n.order_id, n.ordered_at);
        INSERT INTO cxkpi_dirty
        SELECT DISTINCT 'orders_first', (x.t AT TIME ZONE tz)::date
        FROM cxkpi_first AS f CROSS JOIN LATERAL (VALUES (f.old_at), (f.new_at)) AS x(t) WHERE x.t IS NOT NULL
        EXCEPT SELECT d.fact, d.day FROM cxkpi_dirty AS d;
        DELETE FROM cxkpi.customer_first_orders AS f USING cxkpi_first AS x WHERE f.customer_id = x.customer_id;
        INSERT INTO cxkpi.customer_first_orders (customer_id, order_id, ordered_at)
        SELECT x.customer_id, x.new_order, x.new_at FROM cxkpi_first AS x WHERE x.new_order IS NOT NULL;
        h0 := cxkpi.dashboard_horizons();
        -- the rollup days whose rows did change (only they make KPI periods dirty)
        CREATE TEMP TABLE cxkpi_changed (rollup text, day date) ON COMMIT DROP;
        CREATE TEMP TABLE cxkpi_old (day date, r text) ON COMMIT DROP;
        FOR r IN SELECT * FROM cxkpi.dashboard_rollups() LOOP
            total := 0;
            FOR rng IN
                SELECT min(y.day) AS first_day, max(y.day) AS last_day
                FROM (SELECT x.day, x.day - (row_number() OVER (ORDER BY x.day))::integer AS island
                      FROM (SELECT DISTINCT d.day FROM cxkpi_dirty AS d WHERE d.fact = ANY (r.facts)) AS x) AS y
                GROUP BY y.island
            LOOP
                EXECUTE format('INSERT INTO cxkpi_old SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2',
                               r.rollup) USING rng.first_day, rng.last_day;
                EXECUTE format('DELETE FROM cxkpi.%I WHERE day BETWEEN $1 AND $2', r.rollup) USING rng.first_day, rng.last_day;
                EXECUTE format('INSERT INTO cxkpi.%I SELECT * FROM cxkpi.%I($1, $2, $3)', r.rollup, 'rollup_' || r.rollup)
                    USING tz, rng.first_day, rng.last_day;
                GET DIAGNOSTICS n = ROW_COUNT;
                total := total + n;
                EXECUTE format('INSERT INTO cxkpi_changed
                                SELECT DISTINCT %L, q.day
                                FROM ((SELECT o.day, o.r FROM cxkpi_old AS o
                                       EXCEPT ALL SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2)
                                      UNION ALL
                                      (SELECT x.day, x::text FROM cxkpi.%I AS x WHERE x.day BETWEEN $1 AND $2
                                       EXCEPT ALL SELECT o.day, o.r FROM cxkpi_old AS o)) AS q', r.rollup, r.rollup, r.rollup)
                    USING rng.first_day, rng.last_day;
                TRUNCATE cxkpi_old;
            END LOOP;
            PERFORM cxkpi.progress_notice('refresh ' || r.rollup, total, t0);
        END LOOP;
        h1 := cxkpi.dashboard_horizons();
        -- the periods to recompute (docs/architecture.md, section 3); none when no rollup row
        -- changed and no horizon moved
        WITH cfg AS (
            SELECT cxkpi.setting('retention_active_window')::integer AS ret_w,
                   cxkpi.setting('loyalty_active_days')::integer AS loy_w),
        days (day, activity, loyalty, members) AS (
            SELECT DISTINCT c.day, c.rollup = 'daily_customer_activity', c.rollup = 'daily_loyalty',
                   c.rollup = 'daily_loyalty' AND c.day IN (SELECT d.day FROM cxkpi_dirty AS d WHERE d.fact = 'loyalty_members')
            FROM cxkpi_changed AS c
            -- horizons that moved: every day between the old and the new one
            UNION ALL
            SELECT x::date, true, false, false
            FROM generate_series(least(h0[1], h1[1]), greatest(h0[1], h1[1]), interval '1 day') AS x
            WHERE h0[1] IS DISTINCT FROM h1[1]
            UNION ALL
            SELECT x::date, true, false, false
            FROM generate_series(least(h0[2], h1[2]), greatest(h0[2], h1[2]), interval '1 day') AS x
            WHERE h0[2] IS DISTINCT FROM h1[2]
            UNION ALL
            SELECT x::date, false, false, false
            FROM generate_series(least(h0[3], h1[3]), greatest(h0[3], h1[3]), interval '1 day') AS x
            WHERE h0[3] IS DISTINCT FROM h1[3]
            UNION ALL
            SELECT x::date, false, false, false
            FROM generate_series(least(h0[4], h1[4]), greatest(h0[4], h1[4]), interval '1 day') AS x
            WHERE h0[4] IS DISTINCT FROM h1[4]),
        aff AS (
            -- the period of the day at every grain
            SELECT p.grain, p.period_start FROM days AS d CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day) AS p
            -- retention: the retention_active_window periods after it
            UNION
            SELECT p.grain, (p.period_start + k * cxkpi.grain_interval(p.grain))::date
            FROM days AS d CROSS JOIN cfg CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day) AS p
            CROSS JOIN LATERAL generate_series(1, cfg.ret_w) AS k
            WHERE d.activity AND p.grain <> 'day'
            -- loyalty activity: the periods whose active window (loyalty_active_days up to the end) has the day
            UNION
            SELECT p.grain, p.period_start
            FROM days AS d CROSS JOIN cfg CROSS JOIN LATERAL cxkpi.periods_between(d.day, d.day + cfg.loy_w - 1) AS p
            WHERE d.loyalty AND p.grain <> 'day'
            -- enrolments: the members of every period up to the data horizon
            UNION
            SELECT p.grain, p.period_start
            FROM cxkpi.periods_between((SELECT min(d.day) FROM days AS d WHERE d.members), greatest(h0[4], h1[4])) AS p)
        SELECT array_agg(t.grain), array_agg(t.period_start) INTO gs, ps
        FROM (SELECT a.grain, a.period_start FROM aff AS a
              UNION SELECT a.grain, (a.period_start + cxkpi.grain_interval(a.grain))::date FROM aff AS a
              UNION SELECT a.grain, CASE WHEN a.grain IN ('day', 'week') THEN a.period_start + 364
                                         ELSE (a.period_start + interval '1 year')::date END
                    FROM aff AS a) AS t
        WHERE EXISTS (SELECT 1 FROM cxkpi_changed) OR h0 IS DISTINCT FROM h1;
        DELETE FROM cxkpi.kpi_values AS v USING unnest(gs, ps) AS t(grain, period_start)
        WHERE v.grain = t.grain AND v.period_start = t.period_start;
    END IF;
    INSERT INTO cxkpi.kpi_values SELECT * FROM cxkpi.kpi_engine(gs, ps);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF rebuild_all THEN
        ANALYZE cxkpi.kpi_values;
    END IF;
    PERFORM cxkpi.progress_notice('refresh kpi_values', n, t0);
    -- the alert levels of the recomputed rows and of the open periods (docs/alerts.md)
    n := cxkpi.alert_evaluate(gs, ps, rebuild_all);
    PERFORM cxkpi.progress_notice('refresh alerts', n, t0);   -- rows appended to the outbox
    -- the follow-ups of new detractor and dissatisfied answers (docs/feedback.md)
    n := cxkpi.feedback_raise(ARRAY(SELECT l.bucket FROM cxkpi_log AS l WHERE l.fact = 'survey_responses' AND l.bucket IS NOT NULL),
                              rebuild_all);
    PERFORM cxkpi.progress_notice('refresh feedback follow-ups', n, t0);

    -- the forecast series whose input changed (src/dashboard_forecast.sql)
    PERFORM cxkpi.forecasts_maintain(rebuild_all, t0);

    IF customers_changed THEN
        PERFORM cxkpi.customer_models_refresh(conc, t0);
    END IF;

    DELETE FROM cxkpi.change_log WHERE ctid = ANY (ARRAY(SELECT l.tid FROM cxkpi_log AS l));
    INSERT INTO cxkpi.dashboard_state AS s (id, settings, rebuilt_at, refreshed_at, models_refreshed_at, models_stale,
                                            models_settings)
    VALUES (true, fp, now(), now(), CASE WHEN customers_changed THEN clock_timestamp() END, NOT customers_changed AND models_stale,
            CASE WHEN customers_changed THEN cxkpi.customer_models_settings() END)
    ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, refreshed_at = EXCLUDED.refreshed_at,
                                   rebuilt_at = CASE WHEN rebuild_all THEN EXCLUDED.rebuilt_at ELSE s.rebuilt_at END,
                                   models_refreshed_at = coalesce(EXCLUDED.models_refreshed_at, s.models_refreshed_at),
                                   models_stale = EXCLUDED.models_stale,
                                   models_settings = coalesce(EXCLUDED.models_settings, s.models_settings);
    DROP TABLE pg_temp.cxkpi_log;
    IF NOT rebuild_all THEN
        DROP TABLE pg_temp.cxkpi_dirty, pg_temp.cxkpi_changed, pg_temp.cxkpi_old, pg_temp.cxkpi_first;
    END IF;
END $$;
COMMENT ON FUNCTION cxkpi.dashboard_maintain(boolean, boolean) IS
    'Internal: the work of cxkpi.refresh_dashboard (incremental) and cxkpi.rebuild_dashboard (rebuild_all).';
REVOKE ALL ON FUNCTION cxkpi.dashboard_maintain(boolean, boolean) FROM PUBLIC;

-- Refits the customer models: every customer's RFM, the CLV models, the customer scores and
-- the recommended interventions (matviews, CONCURRENTLY unless conc is false), each analyzed and
-- reported.  Called by the refresh when they are due, by a rebuild and by
-- cxkpi.refresh_customer_models().
CREATE FUNCTION cxkpi.customer_models_refresh(conc boolean, started_at timestamptz) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    n bigint;
BEGIN
    FOREACH mv IN ARRAY ARRAY['customer_rfm', 'clv_models', 'customer_scores', 'customer_intervention_picks'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
        EXECUTE format('ANALYZE cxkpi.%I', mv);
        EXECUTE format('SELECT count(*) FROM cxkpi.%I', mv) INTO n;
        PERFORM cxkpi.progress_notice('refresh ' || mv, n, started_at);
    END LOOP;
END $$;
COMMENT ON FUNCTION cxkpi.customer_models_refresh(boolean, timestamptz) IS
    'Internal: refits the customer models (customer_rfm, clv_models, customer_scores, customer_intervention_picks).';
REVOKE ALL ON FUNCTION cxkpi.customer_models_refresh(boolean, timestamptz) FROM PUBLIC;

-- Refits the customer models now (so that the scores see the last orders before
-- customer_models_interval has passed); the rollups and KPI values are left to refresh_dashboard.
CREATE PROCEDURE cxkpi.refresh_customer_models(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM cxkpi.customer_models_refresh(conc, clock_timestamp());
    UPDATE cxkpi.dashboard_state
       SET models_refreshed_at = clock_timestamp(), models_stale = false, models_settings = cxkpi.customer_models_settings();
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_customer_models(boolean) IS
    'Refits the customer models now: every customer''s RFM, the CLV models, the churn scores and the recommended interventions (CALL cxkpi.refresh_dashboard() refits them at most every customer_models_interval, and whenever the reference date moves).';
REVOKE ALL ON PROCEDURE cxkpi.refresh_customer_models(boolean) FROM PUBLIC;

-- Brings the dashboard up to date with the committed facts, in the caller's transaction:
-- incrementally, at a cost in proportion to what changed since the last refresh (the days logged
-- in cxkpi.change_log and the periods they fall into), with results identical to a full rebuild.
-- The first refresh, and the first after a change of a setting the rollups depend on or a
-- TRUNCATE of a fact table, rebuilds everything.  CONCURRENTLY (the default) never blocks
-- readers; false lets a rebuild TRUNCATE the tables and refresh the customer matviews without
-- CONCURRENTLY (faster when everything changes, readers wait).
CREATE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM cxkpi.dashboard_maintain(false, conc);
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Brings every dashboard rollup, cxkpi.kpi_values and the customer scores up to date with the committed facts, incrementally (the days in cxkpi.change_log and the periods they fall into; identical to a full rebuild); rebuilds everything the first time and after a change of the rollups'' settings. Readers are never blocked. Reports each stage as a NOTICE (SET client_min_messages = warning to silence).';
REVOKE ALL ON PROCEDURE cxkpi.refresh_dashboard(boolean) FROM PUBLIC;

-- Rebuilds every rollup and every KPI value from all of history (what refresh_dashboard does
-- incrementally): after a bulk reload, or to check the incremental refresh.
CREATE PROCEDURE cxkpi.rebuild_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conc boolean := $1;
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM cxkpi.dashboard_maintain(true, conc);
END $$;
COMMENT ON PROCEDURE cxkpi.rebuild_dashboard(boolean) IS
    'Rebuilds every dashboard rollup, cxkpi.kpi_values and the customer scores from all of history (the full form of cxkpi.refresh_dashboard); CONCURRENTLY by default (readers never blocked), false truncates instead (faster, readers wait).';
REVOKE ALL ON PROCEDURE cxkpi.rebuild_dashboard(boolean) FROM PUBLIC;

-- Freshness without anyone calling anything (docs/operations.md#scheduling-the-refresh): a pg_cron
-- job "cxkpi-refresh" in this database that runs CALL cxkpi.refresh_dashboard() every `every`
-- (1 to 59 seconds with pg_cron 1.5 or later, or whole minutes 1 to 59), as the role that calls
-- this (the owner of the extension: only it may refresh).  Scheduling again replaces the job.
-- Without pg_cron in this database, raises 55000 with the statement to run where pg_cron is.
CREATE FUNCTION cxkpi.schedule_refresh(every interval DEFAULT interval '1 minute') RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    secs double precision := extract(epoch FROM every);
    spec text;
    job bigint;
BEGIN
    IF every IS NULL OR secs < 1 OR secs <> trunc(secs) OR secs > 59 * 60 OR (secs >= 60 AND secs::bigint % 60 <> 0) THEN
        RAISE EXCEPTION 'cannot schedule the refresh every %', every USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use 1 to 59 seconds (pg_cron 1.5 or later) or whole minutes from 1 to 59, such as interval ''1 minute''.';
    END IF;
    spec := CASE WHEN secs < 60 THEN format('%s seconds', secs::bigint)
                 WHEN secs = 60 THEN '* * * * *'
                 ELSE format('*/%s * * * *', secs::bigint / 60) END;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Nothing refreshes the dashboard by itself without a scheduler.',
                  HINT = format('Add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron; if pg_cron lives in another database, run there: SELECT cron.schedule_in_database(%L, %L, %L, %L); or use a system cron entry: psql -d %s -c %L (docs/operations.md).',
                                'cxkpi-refresh', spec, 'SET client_min_messages = warning; CALL cxkpi.refresh_dashboard()', current_database(),
                                current_database(), 'CALL cxkpi.refresh_dashboard()');
    END IF;
    -- (the progress notices would go to the server log: the job sets client_min_messages)
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
        USING 'cxkpi-refresh', spec, 'SET client_min_messages = warning; CALL cxkpi.refresh_dashboard()';
    RETURN job;
END $$;
COMMENT ON FUNCTION cxkpi.schedule_refresh(interval) IS
    'Schedules CALL cxkpi.refresh_dashboard() with pg_cron (job cxkpi-refresh, in this database, as the calling role) every 1-59 seconds (pg_cron 1.5+) or 1-59 minutes; default every minute. Returns the job id; raises 55000 with a hint when pg_cron is not installed here.';
REVOKE ALL ON FUNCTION cxkpi.schedule_refresh(interval) FROM PUBLIC;

-- Removes the pg_cron job of cxkpi.schedule_refresh; false when there was none.
CREATE FUNCTION cxkpi.unschedule_refresh() RETURNS boolean
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user)' INTO found USING 'cxkpi-refresh';
    IF found THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING 'cxkpi-refresh';
    END IF;
    RETURN found;
END $$;
COMMENT ON FUNCTION cxkpi.unschedule_refresh() IS
    'Removes the pg_cron job cxkpi-refresh of cxkpi.schedule_refresh (true), or returns false when there is none.';
REVOKE ALL ON FUNCTION cxkpi.unschedule_refresh() FROM PUBLIC;

COMMENT ON TABLE cxkpi.daily_surveys IS 'Internal rollup: NPS, CSAT and CES summaries per day, survey, touchpoint channel and scale.';
COMMENT ON TABLE cxkpi.daily_orders IS 'Internal rollup: orders, values and a return_summary per day, channel, segment and first/later order (order-date basis).';
COMMENT ON TABLE cxkpi.daily_customer_activity IS 'Internal rollup: orders and retention summaries (by day, week, month, quarter, year) of the ordering customers per day.';
COMMENT ON TABLE cxkpi.daily_conversion IS 'Internal rollup: visits, funnel steps and conversions per day and device (store: visitors and store orders).';
COMMENT ON TABLE cxkpi.daily_carts IS 'Internal rollup: carts created, converted, abandoned and recovered per creation day and device.';
COMMENT ON TABLE cxkpi.daily_tickets IS 'Internal rollup: tickets, exact first response times (hours), resolutions per creation day and channel.';
COMMENT ON TABLE cxkpi.daily_loyalty IS 'Internal rollup: loyalty enrolments and member activity per day (orders and programme activities on or after enrolling, last_active_on) as a retention summary.';
COMMENT ON TABLE cxkpi.daily_app_ratings IS 'Internal rollup: app rating summaries per day and store.';
COMMENT ON TABLE cxkpi.daily_observations IS 'Internal rollup: weighted sums of observed metrics per day, KPI and dimension.';
COMMENT ON TABLE cxkpi.daily_return_events IS 'Internal rollup: returns, merchant-initiated returns and days to return per request day.';
COMMENT ON TABLE cxkpi.daily_acquisition IS 'Internal rollup: customers acquired and acquisition cost per day and channel.';
COMMENT ON TABLE cxkpi.kpi_values IS 'Every KPI at every grain, period and breakdown, with numerator, denominator, sample size and interval, and the values of the previous period and of the same period a year earlier; read it through the views.';
COMMENT ON FUNCTION cxkpi.rollup_daily_surveys(text, date, date) IS 'Internal: the rows of cxkpi.daily_surveys of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_orders(text, date, date) IS 'Internal: the rows of cxkpi.daily_orders of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_customer_activity(text, date, date) IS 'Internal: the rows of cxkpi.daily_customer_activity of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_conversion(text, date, date) IS 'Internal: the rows of cxkpi.daily_conversion of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_carts(text, date, date) IS 'Internal: the rows of cxkpi.daily_carts of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_tickets(text, date, date) IS 'Internal: the rows of cxkpi.daily_tickets of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_loyalty(text, date, date) IS 'Internal: the rows of cxkpi.daily_loyalty of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_app_ratings(text, date, date) IS 'Internal: the rows of cxkpi.daily_app_ratings of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_observations(text, date, date) IS 'Internal: the rows of cxkpi.daily_observations of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_return_events(text, date, date) IS 'Internal: the rows of cxkpi.daily_return_events of the days first_day to last_day (in time zone tz).';
COMMENT ON FUNCTION cxkpi.rollup_daily_acquisition(text, date, date) IS 'Internal: the rows of cxkpi.daily_acquisition of the days first_day to last_day (in time zone tz).';
