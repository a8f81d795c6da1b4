-- The incremental refresh (docs/architecture.md): after every kind of change to the facts, CALL
-- cxkpi.refresh_dashboard() leaves exactly the rows a full rebuild (CALL cxkpi.rebuild_dashboard())
-- computes, in every daily and hourly rollup and in cxkpi.kpi_values (compared as text rows, EXCEPT ALL both
-- ways), and it recomputes only the days that changed.  Runs on the sample data (scale 1, seed 42;
-- test/sample_db.sh), in one transaction that is rolled back.
BEGIN;
SET client_min_messages = warning;
SELECT plan(22);

-- The rollups and kpi_values as the incremental refresh left them, against what a rebuild
-- writes (each rollup's function over all days, cxkpi.kpi_engine over every period of them: what
-- cxkpi.rebuild_dashboard() inserts, computed here without writing, so that each step goes on
-- from the incremental state): the tables (with their row counts) that differ, '' when none does.
-- Serial plans (max_parallel_workers_per_gather 0), as the rebuild's INSERT ... SELECT runs.
CREATE FUNCTION pg_temp.incremental_vs_rebuild() RETURNS text LANGUAGE plpgsql
    SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    t text;
    d bigint;
    n bigint;
    gs text[];
    ps date[];
    out text := '';
    tz text;
    same boolean;
BEGIN
    CALL cxkpi.refresh_dashboard();
    tz := cxkpi.setting('time_zone');
    FOREACH t IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion', 'daily_carts',
                             'daily_tickets', 'daily_ticket_resolutions', 'daily_loyalty', 'daily_app_ratings', 'daily_observations',
                             'daily_return_events', 'daily_acquisition', 'hourly_conversion', 'hourly_orders',
                             'hourly_carts', 'hourly_tickets', 'daily_deliveries', 'daily_engagement', 'daily_sentiment', 'daily_inventory',
                             'daily_journeys'] LOOP
        -- The time zone as a parameter, as the refresh passes it (an inlined cxkpi.setting() call
        -- would be evaluated once per fact row).
        EXECUTE format('CREATE TEMP TABLE full_%1$s AS SELECT x::text AS r FROM cxkpi.%2$I($1, ''-infinity'', ''infinity'') AS x',
                       t, 'rollup_' || t) USING tz;
    END LOOP;
    SELECT array_agg(p.grain), array_agg(p.period_start) INTO gs, ps
    FROM cxkpi.dashboard_days() AS b CROSS JOIN LATERAL cxkpi.periods_between(b.first_day, b.last_day) AS p;
    CREATE TEMP TABLE full_kpi_values AS SELECT x::text AS r FROM cxkpi.kpi_engine(gs, ps) AS x;
    FOREACH t IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion', 'daily_carts',
                             'daily_tickets', 'daily_ticket_resolutions', 'daily_loyalty', 'daily_app_ratings', 'daily_observations',
                             'daily_return_events', 'daily_acquisition', 'hourly_conversion', 'hourly_orders',
                             'hourly_carts', 'hourly_tickets', 'daily_deliveries', 'daily_engagement', 'daily_sentiment', 'daily_inventory',
                             'daily_journeys', 'kpi_values'] LOOP
        -- equal multisets of rows have equal row counts and sums of 64-bit row hashes; only when
        -- these differ are the rows themselves compared (EXCEPT ALL both ways, 4 s for kpi_values)
        EXECUTE format('SELECT (SELECT count(*) FROM cxkpi.%1$I), (SELECT (count(*), sum(hashtextextended(x::text, 0)))::text
                                                                  FROM cxkpi.%1$I AS x)
                              IS NOT DISTINCT FROM (SELECT (count(*), sum(hashtextextended(r, 0)))::text FROM full_%1$s)', t)
            INTO n, same;
        d := 0;
        IF NOT same THEN
            EXECUTE format('SELECT count(*) FROM ((SELECT r FROM full_%1$s EXCEPT ALL SELECT x::text FROM cxkpi.%1$I AS x)
                                                  UNION ALL (SELECT x::text FROM cxkpi.%1$I AS x EXCEPT ALL SELECT r FROM full_%1$s)) AS q', t)
                INTO d;
            d := greatest(d, 1);
        END IF;
        IF d > 0 OR n = 0 THEN
            out := out || format('%s: %s rows differ of %s; ', t, d, n);
        END IF;
        IF d > 0 AND t = 'kpi_values' THEN     -- which KPIs, grains and periods (the first 20)
            out := out || (SELECT string_agg(k, ' ' ORDER BY k)
                           FROM (SELECT DISTINCT format('%s/%s/%s', (q.r::cxkpi.kpi_values).kpi, (q.r::cxkpi.kpi_values).grain,
                                                        (q.r::cxkpi.kpi_values).period_start) AS k
                                 FROM ((SELECT f.r FROM full_kpi_values AS f EXCEPT ALL SELECT x::text FROM cxkpi.kpi_values AS x)
                                       UNION ALL
                                       (SELECT x::text FROM cxkpi.kpi_values AS x EXCEPT ALL SELECT f.r FROM full_kpi_values AS f)) AS q
                                 ORDER BY 1 LIMIT 20) AS z);
        END IF;
        EXECUTE format('DROP TABLE full_%s', t);
    END LOOP;
    RETURN out;
END $$;

-- A table's rows now, as a row count and a sum of 64-bit hashes of their text (equal for equal
-- multisets of rows); of every rollup and kpi_values.
CREATE FUNCTION pg_temp.table_hash(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE format('SELECT (count(*), sum(hashtextextended(x::text, 0)))::text FROM cxkpi.%I AS x', t) INTO h;
    RETURN h;
END $$;
CREATE FUNCTION pg_temp.dashboard_hash() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(t || ' ' || pg_temp.table_hash(t), '; ' ORDER BY t)
    FROM (SELECT r.rollup FROM cxkpi.dashboard_rollups() AS r UNION ALL SELECT 'kpi_values') AS x(t) $$;

-- The days the refresh has to recompute, as logged.
CREATE FUNCTION pg_temp.logged(f text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(DISTINCT bucket::text, ',' ORDER BY bucket::text), '')
    FROM cxkpi.change_log WHERE fact = f $$;

CALL cxkpi.rebuild_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.change_log), 0::bigint, 'a rebuild consumes the change log');
-- (that the rebuild equals the rollup functions and the engine over every period is compared
-- after the first change below, whose refresh recomputes only the new day)
CREATE TEMP TABLE rebuilt AS SELECT pg_temp.dashboard_hash() AS h;
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.dashboard_hash(), (SELECT h FROM rebuilt), 'nothing changed: the refresh changes no row of a rollup or kpi_values');

CREATE TEMP TABLE h AS SELECT max((ordered_at AT TIME ZONE (SELECT cxkpi.setting('time_zone')))::date) AS last_day FROM cxkpi.orders;

-- 1. New facts of a new day (the day after the last), of new and known customers.
INSERT INTO cxkpi.customers (customer_id, acquired_on, acquisition_channel, acquisition_cost)
SELECT 900000 + i, h.last_day + 1, 'social', 12.50 FROM h, generate_series(1, 5) AS i;
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
SELECT 9000000 + i, CASE WHEN i <= 5 THEN 900000 + i ELSE i * 37 END,
       (h.last_day + 1)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '13 minutes',
       (ARRAY['store', 'web_desktop', 'web_mobile', 'app'])[1 + i % 4], 1 + i % 3, 20 + i, i % 2
FROM h, generate_series(1, 40) AS i;
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
SELECT 9000000 + i, (h.last_day + 1)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '7 minutes',
       (ARRAY['nps', 'csat', 'ces'])[1 + i % 3], CASE i % 3 WHEN 0 THEN i % 11 ELSE 1 + i % 5 END,
       CASE i % 3 WHEN 0 THEN 10 WHEN 1 THEN 5 ELSE 7 END, (ARRAY['web', 'store', 'app'])[1 + i % 3]
FROM h, generate_series(1, 60) AS i;
INSERT INTO cxkpi.web_sessions (session_id, started_at, device, added_to_cart, reached_checkout, converted)
SELECT 90000000 + i, (h.last_day + 1)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '1 minute',
       (ARRAY['desktop', 'mobile', 'tablet', 'app'])[1 + i % 4], i % 3 = 0, i % 6 = 0, i % 12 = 0
FROM h, generate_series(1, 300) AS i;
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at)
SELECT 9000000 + i, (ARRAY['email', 'chat', 'phone'])[1 + i % 3],
       (h.last_day + 1)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '20 minutes',
       (h.last_day + 1)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '20 minutes' + i * interval '9 minutes'
FROM h, generate_series(1, 30) AS i;
SELECT is(pg_temp.logged('orders') LIKE '%' || (SELECT last_day + 1 FROM h) || '%', true, 'the new day is logged for orders');
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'new facts of a new day: the refresh equals a rebuild');
SELECT ok((SELECT count(*) FROM cxkpi.kpi_values WHERE grain = 'day' AND period_start = (SELECT last_day + 1 FROM h) AND kpi = 'nps') > 0,
          'the new day has its NPS');

-- 2. Late facts of a day long past (400 days before the last).
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
SELECT 9100000 + i, i * 53, (h.last_day - 400)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '11 minutes',
       (ARRAY['store', 'web_desktop', 'web_mobile', 'app'])[1 + i % 4], 2, 35 + i, 0
FROM h, generate_series(1, 50) AS i;
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
SELECT 9100000 + i, (h.last_day - 400)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + i * interval '9 minutes', 'nps', i % 11, 10, 'email'
FROM h, generate_series(1, 40) AS i;
INSERT INTO cxkpi.loyalty_activity (customer_id, active_at, kind)
SELECT m.customer_id, (h.last_day - 400)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) + interval '12 hours', 'visit'
FROM h, cxkpi.loyalty_members AS m WHERE m.enrolled_on < h.last_day - 401 ORDER BY m.customer_id LIMIT 25
ON CONFLICT DO NOTHING;
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'late facts 400 days back: the refresh equals a rebuild');

-- 3. UPDATE moving rows to other days (orders without returns, survey answers, tickets).
CREATE TEMP TABLE moved AS
SELECT o.order_id FROM cxkpi.orders AS o, h
WHERE o.ordered_at < (h.last_day - 200)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone'))
  AND NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id)
ORDER BY o.order_id LIMIT 300;
-- (their deliveries move with them, first: an order is never placed after its delivery shipped)
UPDATE cxkpi.order_deliveries SET shipped_at = shipped_at + interval '37 days', delivered_at = delivered_at + interval '37 days',
                                  promised_by = promised_by + interval '37 days'
WHERE order_id IN (SELECT order_id FROM moved);
UPDATE cxkpi.orders SET ordered_at = ordered_at + interval '37 days' WHERE order_id IN (SELECT order_id FROM moved);
UPDATE cxkpi.survey_responses SET responded_at = responded_at - interval '3 days 5 hours' WHERE response_id % 97 = 0;
UPDATE cxkpi.support_tickets SET created_at = created_at - interval '2 days', first_response_at = first_response_at - interval '2 days',
                                  resolved_at = resolved_at - interval '2 days'
WHERE ticket_id % 89 = 0;
-- resolutions that change without moving the ticket: resolved later, or reopened (resolved_at
-- cleared), on the tickets' creation days (resolution times, cxkpi.daily_ticket_resolutions)
UPDATE cxkpi.support_tickets SET resolved_at = coalesce(resolved_at, created_at) + interval '5 hours 7 minutes'
WHERE ticket_id % 83 = 0;
UPDATE cxkpi.support_tickets SET resolved_at = NULL, contacts_to_resolve = NULL WHERE ticket_id % 79 = 0;
-- deliveries that change on their orders' days (cxkpi.daily_deliveries): delivered later, still on
-- the way, a promise dropped, deleted, and new deliveries of old orders
UPDATE cxkpi.order_deliveries SET delivered_at = delivered_at + interval '1 day 3 hours' WHERE order_id % 97 = 0;
UPDATE cxkpi.order_deliveries SET delivered_at = NULL WHERE order_id % 101 = 0;
UPDATE cxkpi.order_deliveries SET promised_by = NULL WHERE order_id % 109 = 0;
DELETE FROM cxkpi.order_deliveries WHERE order_id % 103 = 0;
INSERT INTO cxkpi.order_deliveries (order_id, shipped_at, delivered_at, promised_by)
SELECT o.order_id, o.ordered_at + interval '1 day', o.ordered_at + interval '3 days', o.ordered_at + interval '2 days'
FROM cxkpi.orders AS o WHERE o.channel = 'store' AND o.order_id % 107 = 0;
SELECT ok(pg_temp.logged('orders') <> '', 'moved orders are logged (old and new days)');

-- Returns: a new return of an old order, and a changed request day.
INSERT INTO cxkpi.order_returns (return_id, order_id, requested_at, items_returned, value_returned, initiated_by)
SELECT 9000000 + row_number() OVER (ORDER BY o.order_id), o.order_id, o.ordered_at + interval '5 days', 1, 0, 'merchant'
FROM cxkpi.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id) AND o.order_id % 211 = 0;
UPDATE cxkpi.order_returns SET requested_at = requested_at + interval '1 day' WHERE return_id % 173 = 0;
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'rows moved to other days, new and changed returns: the refresh equals a rebuild');

-- 4. DELETE of old rows: orders (with their returns and answers), answers, sessions.
CREATE TEMP TABLE gone AS
SELECT o.order_id FROM cxkpi.orders AS o, h
WHERE o.ordered_at < (h.last_day - 300)::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone')) AND o.order_id % 29 = 0
  AND NOT EXISTS (SELECT 1 FROM cxkpi.survey_responses AS s WHERE s.order_id = o.order_id);
DELETE FROM cxkpi.order_returns WHERE order_id IN (SELECT order_id FROM gone);
DELETE FROM cxkpi.order_deliveries WHERE order_id IN (SELECT order_id FROM gone);
UPDATE cxkpi.survey_responses SET order_id = NULL WHERE order_id IN (SELECT order_id FROM gone);
DELETE FROM cxkpi.orders WHERE order_id IN (SELECT order_id FROM gone);
DELETE FROM cxkpi.survey_responses WHERE response_id % 31 = 0;
DELETE FROM cxkpi.web_sessions WHERE session_id % 43 = 0;
SELECT ok((SELECT count(*) FROM gone) > 1000, 'over 1,000 old orders deleted');

-- The first order of customers: deleting it makes the next one first (another day).
CREATE TEMP TABLE firsts AS
SELECT DISTINCT ON (o.customer_id) o.order_id, o.customer_id FROM cxkpi.orders AS o
WHERE o.customer_id IN (SELECT customer_id FROM cxkpi.orders GROUP BY customer_id HAVING count(*) >= 3)
  AND NOT EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id)
ORDER BY o.customer_id, o.ordered_at, o.order_id LIMIT 200;
UPDATE cxkpi.survey_responses SET order_id = NULL WHERE order_id IN (SELECT order_id FROM firsts);
DELETE FROM cxkpi.order_deliveries WHERE order_id IN (SELECT order_id FROM firsts);
DELETE FROM cxkpi.orders WHERE order_id IN (SELECT order_id FROM firsts) AND order_id % 2 = 0;
UPDATE cxkpi.orders SET ordered_at = ordered_at + interval '400 days' WHERE order_id IN (SELECT order_id FROM firsts) AND order_id % 2 = 1;
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'old rows deleted, first orders deleted or moved later: the refresh equals a rebuild');

-- 5. TRUNCATE of a fact table: logged as the whole table, the refresh rebuilds.
TRUNCATE cxkpi.app_ratings;
SELECT is((SELECT count(*) FROM cxkpi.change_log WHERE fact = 'app_ratings' AND bucket IS NULL), 1::bigint,
          'TRUNCATE logs the whole table');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.daily_app_ratings), 0::bigint, 'after TRUNCATE the rollup is empty');
SELECT is((SELECT count(*) FROM cxkpi.kpi_values WHERE kpi = 'app_rating'), 0::bigint, '... and so are its KPI values');
INSERT INTO cxkpi.app_ratings (rating_id, rated_at, app_store, rating)
SELECT i, (h.last_day - i % 50)::timestamp AT TIME ZONE 'UTC', 'google_play', 1 + i % 5 FROM h, generate_series(1, 200) AS i;
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'ratings again after TRUNCATE: the refresh equals a rebuild');

-- 6. Loyalty enrolments: earlier enrolment days (segments of the members' orders, their active
-- days, the members of every later period), a new member, a changed last activity.
UPDATE cxkpi.loyalty_members SET enrolled_on = enrolled_on - 120 WHERE customer_id % 17 = 0;
INSERT INTO cxkpi.loyalty_members (customer_id, enrolled_on)
SELECT c.customer_id, h.last_day - 500 FROM h, cxkpi.customers AS c
WHERE NOT EXISTS (SELECT 1 FROM cxkpi.loyalty_members AS m WHERE m.customer_id = c.customer_id)
ORDER BY c.customer_id LIMIT 20;
UPDATE cxkpi.loyalty_members SET last_active_on = greatest(enrolled_on, (SELECT last_day - 10 FROM h)) WHERE customer_id % 23 = 0;
SELECT ok(pg_temp.logged('loyalty_members') <> '', 'enrolment changes are logged');

-- Customers: a changed acquisition day and channel.
UPDATE cxkpi.customers SET acquired_on = acquired_on - 30, acquisition_channel = 'email' WHERE customer_id % 101 = 0;
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'changed enrolments and acquisitions: the refresh equals a rebuild');

-- Engagement events and social mentions (issue 17): new, deleted and moved rows, then a lexicon
-- edit, which rescores the mentions without a polarity.
INSERT INTO cxkpi.engagement_events (event_id, customer_id, occurred_at, channel, kind)
SELECT 9200000 + i, 1 + i * 37, (h.last_day - i % 40)::timestamp AT TIME ZONE cxkpi.setting('time_zone') + interval '10 hours',
       (ARRAY['email', 'social', 'web'])[1 + i % 3], (ARRAY['email_open', 'social_interaction', 'site_visit'])[1 + i % 3]
FROM h, generate_series(1, 300) AS i;
DELETE FROM cxkpi.engagement_events WHERE event_id % 97 = 0;
UPDATE cxkpi.engagement_events SET occurred_at = occurred_at - interval '200 days' WHERE event_id % 89 = 0;
INSERT INTO cxkpi.social_mentions (mention_id, source, mentioned_at, text, polarity)
SELECT 9200000 + i, 'tiktok', (h.last_day - i % 60)::timestamp AT TIME ZONE 'UTC', 'so slow, not great', NULL
FROM h, generate_series(1, 50) AS i;
DELETE FROM cxkpi.social_mentions WHERE mention_id % 53 = 0;
UPDATE cxkpi.social_mentions SET source = 'facebook' WHERE mention_id % 59 = 0;
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'engagement events and mentions changed: the refresh equals a rebuild');
UPDATE cxkpi.sentiment_lexicon SET weight = -3 WHERE word = 'thanks';
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'a lexicon edit: the refresh equals a rebuild');

-- Inventory snapshots (issue 17): a new day, deleted and recategorised snapshots, a moved day.
INSERT INTO cxkpi.inventory_snapshots (snapshot_date, location, sku, category, on_hand_units, on_hand_value, cogs)
SELECT s.snapshot_date + 1, s.location, s.sku, s.category, s.on_hand_units, s.on_hand_value, s.cogs
FROM cxkpi.inventory_snapshots AS s WHERE s.snapshot_date = (SELECT max(snapshot_date) FROM cxkpi.inventory_snapshots);
DELETE FROM cxkpi.inventory_snapshots WHERE snapshot_date = '2025-06-10' AND location = 'web_fc';
UPDATE cxkpi.inventory_snapshots SET category = 'outlet' WHERE sku LIKE 'APP-0001' AND snapshot_date BETWEEN '2025-02-25' AND '2025-03-03';
UPDATE cxkpi.inventory_snapshots SET snapshot_date = '2023-12-31' WHERE snapshot_date = '2024-01-01' AND location = 'store_01';
SELECT is(pg_temp.incremental_vs_rebuild(), '', 'inventory snapshots changed: the refresh equals a rebuild');

-- 7. Settings the rollups depend on: a change of time_zone rebuilds (days move).
-- (the refresh is then a rebuild: the same code as the rebuild above, so only that it rebuilt,
-- and one rollup in the new time zone, are checked)
UPDATE cxkpi.settings SET value = 'America/New_York' WHERE key = 'time_zone';
UPDATE cxkpi.dashboard_state SET rebuilt_at = '-infinity';
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT rebuilt_at = now() FROM cxkpi.dashboard_state), true, 'after a change of time_zone the refresh rebuilds');
SELECT is(pg_temp.table_hash('daily_orders'),
          (SELECT (count(*), sum(hashtextextended(x::text, 0)))::text
           FROM cxkpi.rollup_daily_orders('America/New_York', '-infinity', 'infinity') AS x),
          '... with the days of the new time zone');
SELECT is((SELECT count(*) FROM cxkpi.change_log), 0::bigint, 'every refresh consumed the change log');

SELECT * FROM finish();
ROLLBACK;
