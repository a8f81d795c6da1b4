-- Omnichannel conversion and journeys (issue 17, seed 002) on a small hand-built dataset: the
-- touchpoints map to the journey channels as documented, both KPIs equal plain SQL over the raw
-- rows at every grain and breakdown (and the hand-worked values in the comments), the paths of
-- cxkpi.journey_paths, the section views, and an incremental refresh equals a rebuild.
BEGIN;
SET client_min_messages = warning;
SELECT plan(29);

UPDATE cxkpi.settings SET value = '2025-04-15' WHERE key = 'as_of';
UPDATE cxkpi.settings SET value = 'month' WHERE key = 'scorecard_grain';
INSERT INTO cxkpi.customers (customer_id, acquired_on) SELECT g, '2024-01-01' FROM generate_series(1, 7) AS g;

-- March 2025 (times in UTC, the default time zone):
--  1: social like (2nd), site visit (5th), store order (10th): path social > web > store, bought
--  2: app session (3rd), app order (4th), email open (20th, after the purchase): path app, bought;
--     channels app and email
--  3: emailed (1st, not a touchpoint), site visit (6th), phone ticket (8th): web > phone, dropped at phone
--  4: desktop cart (7th): web, dropped at web
--  5: mobile web order (15th): web, bought
--  6: chat ticket (9th: web), store visit (12th): web > store, dropped at store
--  an anonymous session (no customer): not a touchpoint
--  1 also ordered on the web in February.
-- Active 1-6 (6), purchasers 1, 2, 5 (3): 50 %; in 2+ channels 1, 2, 3, 6 (4): 66.67 %.
-- By channel: web 1, 3, 4, 5, 6 (5; bought 1, 5; multi 1, 3, 6), store 1, 6 (2; 1; 2), social 1,
-- app 2, email 2 (1; 1; 1), phone 3 (1; 0; 1).
INSERT INTO cxkpi.engagement_events VALUES
    (1, 1, '2025-03-02 10:00Z', 'social', 'social_interaction'), (2, 1, '2025-03-05 10:00Z', 'web', 'site_visit'),
    (3, 2, '2025-03-20 10:00Z', 'email', 'email_open'), (4, 3, '2025-03-01 10:00Z', 'email', 'email_sent'),
    (5, 3, '2025-03-06 10:00Z', 'web', 'site_visit'), (6, 6, '2025-03-12 10:00Z', 'store', 'store_visit');
INSERT INTO cxkpi.web_sessions (session_id, started_at, device, customer_id) VALUES
    (1, '2025-03-03 10:00Z', 'app', 2), (2, '2025-03-03 11:00Z', 'desktop', NULL);
INSERT INTO cxkpi.carts (cart_id, created_at, device, customer_id, abandoned_at) VALUES
    (1, '2025-03-07 10:00Z', 'desktop', 4, '2025-03-07 12:00Z');
INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at) VALUES
    (1, 3, 'phone', '2025-03-08 10:00Z'), (2, 6, 'chat', '2025-03-09 10:00Z');
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value) VALUES
    (1, 1, '2025-03-10 10:00Z', 'store', 1, 10), (2, 2, '2025-03-04 10:00Z', 'app', 1, 10),
    (3, 5, '2025-03-15 10:00Z', 'web_mobile', 1, 10), (4, 1, '2025-02-20 10:00Z', 'web_desktop', 1, 10);
CALL cxkpi.refresh_dashboard();

SELECT is((SELECT string_agg(source || ':' || source_id || ':' || journey_channel || CASE WHEN purchase THEN '*' ELSE '' END, ' '
                             ORDER BY source, source_id) FROM cxkpi.journey_touchpoints),
          'carts:1:web engagement_events:1:social engagement_events:2:web engagement_events:3:email engagement_events:5:web engagement_events:6:store orders:1:store* orders:2:app* orders:3:web* orders:4:web* support_tickets:1:phone support_tickets:2:web web_sessions:1:app',
          'journey_touchpoints: the channel of each touchpoint; no email_sent, no anonymous session');

CREATE FUNCTION pg_temp.kv(k text, b text DEFAULT 'total', d text DEFAULT 'all', g text DEFAULT 'month', p date DEFAULT '2025-03-01')
    RETURNS text LANGUAGE sql AS $$
    SELECT (round(value::numeric, 6), numerator, denominator, sample_size)::text FROM cxkpi.kpi_values
    WHERE grain = g AND period_start = p AND kpi = k AND breakdown = b AND dimension = d $$;

SELECT is(pg_temp.kv('omnichannel_conversion_rate'), (50.000000, 3, 6, 6)::text, 'omnichannel conversion: 3 purchasers of 6 active');
SELECT is(pg_temp.kv('multichannel_customer_share'), (round(100 * 4 / 6.0, 6), 4, 6, 6)::text, 'multichannel: 4 of 6 in 2+ channels');
SELECT is(pg_temp.kv('omnichannel_conversion_rate', 'channel', 'web'), (40.000000, 2, 5, 5)::text, 'web: 2 of 5 bought');
SELECT is(pg_temp.kv('multichannel_customer_share', 'channel', 'web'), (60.000000, 3, 5, 5)::text, 'web: 3 of 5 in 2+ channels');
SELECT is(pg_temp.kv('omnichannel_conversion_rate', 'channel', 'store'), (50.000000, 1, 2, 2)::text, 'store: 1 of 2 bought');
SELECT is(pg_temp.kv('multichannel_customer_share', 'channel', 'store'), (100.000000, 2, 2, 2)::text, 'store: 2 of 2 multichannel');
SELECT is(pg_temp.kv('omnichannel_conversion_rate', 'channel', 'email'), (100.000000, 1, 1, 1)::text,
          'email: customer 2 (an open; 3''s email_sent is no touchpoint) bought');
SELECT is(pg_temp.kv('omnichannel_conversion_rate', 'channel', 'phone'), (0.000000, 0, 1, 1)::text, 'phone: customer 3, no purchase');
SELECT is(pg_temp.kv('multichannel_customer_share', 'channel', 'app'), (100.000000, 1, 1, 1)::text, 'app: customer 2 also used email');
SELECT is((SELECT (round(ci_lower::numeric, 9), round(ci_upper::numeric, 9))::text FROM cxkpi.kpi_values
           WHERE grain = 'month' AND period_start = '2025-03-01' AND kpi = 'omnichannel_conversion_rate' AND breakdown = 'total'),
          (SELECT (round(cxkpi.wilson_ci_lower(3, 6)::numeric, 9), round(cxkpi.wilson_ci_upper(3, 6)::numeric, 9))::text),
          'omnichannel conversion interval: Wilson of 3 / 6');
SELECT is(pg_temp.kv('omnichannel_conversion_rate', g => 'month', p => '2025-02-01'), (100.000000, 1, 1, 1)::text,
          'February: customer 1 ordered on the web');
SELECT is(pg_temp.kv('multichannel_customer_share', g => 'quarter', p => '2025-01-01'), (round(100 * 4 / 6.0, 6), 4, 6, 6)::text,
          'the first quarter counts customer 1 (February and March) once');

-- Every value of both KPIs, every grain and breakdown = plain SQL over the raw rows
CREATE FUNCTION pg_temp.plain_sql_differences() RETURNS bigint LANGUAGE sql AS $$
    WITH tp (customer_id, day, channel, purchase) AS (
        SELECT customer_id, (occurred_at AT TIME ZONE 'UTC')::date, channel, false FROM cxkpi.engagement_events
        WHERE kind <> 'email_sent'
        UNION ALL
        SELECT customer_id, (started_at AT TIME ZONE 'UTC')::date, CASE WHEN device = 'app' THEN 'app' ELSE 'web' END, false
        FROM cxkpi.web_sessions WHERE customer_id IS NOT NULL
        UNION ALL
        SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date, CASE WHEN device = 'app' THEN 'app' ELSE 'web' END, false
        FROM cxkpi.carts WHERE customer_id IS NOT NULL
        UNION ALL
        SELECT customer_id, (created_at AT TIME ZONE 'UTC')::date,
               CASE channel WHEN 'email' THEN 'email' WHEN 'chat' THEN 'web' ELSE 'phone' END, false
        FROM cxkpi.support_tickets WHERE customer_id IS NOT NULL
        UNION ALL
        SELECT customer_id, (ordered_at AT TIME ZONE 'UTC')::date,
               CASE WHEN channel LIKE 'web%' THEN 'web' ELSE channel END, true FROM cxkpi.orders),
    per AS (SELECT DISTINCT grain, period_start, period_end FROM cxkpi.kpi_values
            WHERE kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share')),
    cust AS (
        SELECT p.grain, p.period_start, t.customer_id, bool_or(t.purchase) AS bought, count(DISTINCT t.channel) AS channels,
               array_agg(DISTINCT t.channel) AS chs
        FROM per AS p JOIN tp AS t ON t.day BETWEEN p.period_start AND p.period_end
        GROUP BY 1, 2, 3),
    expected AS (
        SELECT c.grain, c.period_start, x.kpi, b.breakdown, b.dimension, count(*) FILTER (WHERE x.flag) AS num, count(*) AS den
        FROM cust AS c
        CROSS JOIN LATERAL (SELECT 'total', 'all' UNION ALL SELECT 'channel', ch FROM unnest(c.chs) AS ch) AS b(breakdown, dimension)
        CROSS JOIN LATERAL (VALUES ('omnichannel_conversion_rate', c.bought),
                                   ('multichannel_customer_share', c.channels >= 2)) AS x(kpi, flag)
        GROUP BY 1, 2, 3, 4, 5),
    e AS (SELECT grain, period_start, kpi, breakdown, dimension, num, den, round(100.0 * num / den, 9) AS value FROM expected),
    a AS (SELECT grain, period_start, kpi, breakdown, dimension, numerator::bigint, denominator::bigint,
                 round(value::numeric, 9)
          FROM cxkpi.kpi_values WHERE kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share'))
    SELECT count(*) FROM ((TABLE e EXCEPT ALL TABLE a) UNION ALL (TABLE a EXCEPT ALL TABLE e)) AS d $$;
SELECT is((SELECT count(*) FROM cxkpi.kpi_values WHERE kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share')
           AND grain = 'month' AND period_start = '2025-03-01'), 14::bigint, 'March: total and six channels, two KPIs');
SELECT is(pg_temp.plain_sql_differences(), 0::bigint,
          'every value, numerator and denominator of both KPIs, every grain, period and breakdown = plain SQL');

-- Paths of March
SELECT results_eq($$SELECT path, path_channels, customers, purchasers, round(conversion_rate_pct::numeric, 2), dropped,
                           dropped_at_email, dropped_at_social, dropped_at_web, dropped_at_app, dropped_at_store, dropped_at_phone
                    FROM cxkpi.journey_paths('2025-03-01', '2025-03-31')$$,
                  $$VALUES ('web', 1::bigint, 2::bigint, 1::bigint, 50.00, 1::bigint, 0::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint, 0::bigint),
                           ('app', 1, 1, 1, 100.00, 0, 0, 0, 0, 0, 0, 0),
                           ('social > web > store', 3, 1, 1, 100.00, 0, 0, 0, 0, 0, 0, 0),
                           ('web > phone', 2, 1, 0, 0.00, 1, 0, 0, 0, 0, 0, 1),
                           ('web > store', 2, 1, 0, 0.00, 1, 0, 0, 0, 0, 1, 0)$$,
                  'journey_paths of March: most frequent first; the touches after a purchase are not in its path');
-- A window that ends before customer 1's store order: 1 has not bought yet
SELECT is((SELECT (customers, purchasers, dropped_at_web)::text FROM cxkpi.journey_paths('2025-03-01', '2025-03-09')
           WHERE path = 'social > web'), '(1,0,1)', 'the window decides: social > web, dropped at web, before the order');
-- Customer 7 in April: email open, like, site visit, app session, store visit, store order: the first four
INSERT INTO cxkpi.engagement_events VALUES
    (10, 7, '2025-04-01 10:00Z', 'email', 'email_open'), (11, 7, '2025-04-02 10:00Z', 'social', 'social_interaction'),
    (12, 7, '2025-04-03 10:00Z', 'web', 'site_visit'), (13, 7, '2025-04-04 10:00Z', 'app', 'app_session'),
    (14, 7, '2025-04-05 10:00Z', 'store', 'store_visit');
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value) VALUES
    (5, 7, '2025-04-05 11:00Z', 'store', 1, 10);
SELECT is((SELECT (path, path_channels, customers, purchasers)::text FROM cxkpi.journey_paths('2025-04-01', '2025-04-30')),
          '("email > social > web > app",4,1,1)', 'a path keeps the first four channels');
SELECT is((SELECT sum(customers) FROM cxkpi.journey_paths('2025-01-01', '2025-04-30')),
          (SELECT count(DISTINCT customer_id) FROM cxkpi.journey_touchpoints)::numeric, 'every active customer has one path');

-- Views
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (round(omnichannel_conversion_rate_pct::numeric, 2), purchasing_customers, active_customers,
                   round(multichannel_customer_pct::numeric, 2), multichannel_customers)::text
           FROM cxkpi.kpi_journeys WHERE grain = 'month' AND period_start = '2025-03-01' AND breakdown = 'total'),
          '(50.00,3,6,66.67,4)', 'kpi_journeys: the March total row');
SELECT is((SELECT count(*) FROM cxkpi.kpi_scorecard
           WHERE kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share') AND breakdown = 'total'
             AND value IS NOT NULL), 2::bigint, 'the scorecard (March) has both KPIs');
SELECT is((SELECT count(DISTINCT kpi) FROM cxkpi.kpi_timeseries WHERE grain = 'week'
           AND kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share')), 2::bigint,
          'kpi_timeseries has them at the week grain');
SELECT is((SELECT (from_day, to_day, sum(customers))::text FROM cxkpi.journey_path_conversion GROUP BY from_day, to_day),
          '(2025-01-16,2025-04-15,7)', 'journey_path_conversion: the 90 days up to as_of, customers 1-7');
SET LOCAL ROLE cxkpi_reader;
SELECT is((SELECT active_customers FROM cxkpi_bi.kpi_journeys WHERE grain = 'year' AND period_start = '2025-01-01'
           AND breakdown = 'total'), 7::bigint, 'a BI reader reads cxkpi_bi.kpi_journeys');
SELECT is((SELECT sum(purchasers) FROM cxkpi_bi.journey_path_conversion), 4::numeric, 'a BI reader reads cxkpi_bi.journey_path_conversion');
RESET ROLE;

-- Incremental = rebuild
CREATE TEMP TABLE snap AS SELECT * FROM cxkpi.kpi_values WHERE false;
CREATE FUNCTION pg_temp.same_as_rebuild() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    CALL cxkpi.refresh_dashboard();
    DELETE FROM snap;
    INSERT INTO snap SELECT * FROM cxkpi.kpi_values;
    CREATE TEMP TABLE r_j AS SELECT * FROM cxkpi.daily_journeys;
    CALL cxkpi.rebuild_dashboard();
    SELECT count(*) INTO n FROM (
        (SELECT s::text FROM snap AS s EXCEPT ALL SELECT v::text FROM cxkpi.kpi_values AS v)
        UNION ALL (SELECT v::text FROM cxkpi.kpi_values AS v EXCEPT ALL SELECT s::text FROM snap AS s)
        UNION ALL (SELECT r::text FROM r_j AS r EXCEPT ALL SELECT d::text FROM cxkpi.daily_journeys AS d)
        UNION ALL (SELECT d::text FROM cxkpi.daily_journeys AS d EXCEPT ALL SELECT r::text FROM r_j AS r)) AS x;
    DROP TABLE r_j;
    RETURN n = 0;
END $$;
-- 4 buys in the app on the 25th; 6's chat ticket is deleted; 3's phone ticket moves to February;
-- 2's app session becomes anonymous
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value) VALUES
    (6, 4, '2025-03-25 10:00Z', 'app', 1, 10);
DELETE FROM cxkpi.support_tickets WHERE ticket_id = 2;
UPDATE cxkpi.support_tickets SET created_at = '2025-02-08 10:00Z' WHERE ticket_id = 1;
UPDATE cxkpi.web_sessions SET customer_id = NULL WHERE session_id = 1;
SELECT ok(pg_temp.same_as_rebuild(), 'after inserts, deletes, moves and an anonymised session, the refresh equals a rebuild');
-- March: active 1-6; bought 1, 2, 4, 5 (4); 2+ channels: 1 (social, web, store), 2 (app order, email), 4 (web, app) (3)
SELECT is(pg_temp.kv('omnichannel_conversion_rate'), (round(100 * 4 / 6.0, 6), 4, 6, 6)::text, 'March after the changes: 4 of 6 bought');
SELECT is(pg_temp.kv('multichannel_customer_share'), (50.000000, 3, 6, 6)::text, 'March after the changes: 3 of 6 in 2+ channels');
SELECT is(pg_temp.plain_sql_differences(), 0::bigint, 'after the changes, every value = plain SQL');

SELECT * FROM finish();
ROLLBACK;
