-- Deterministic two-year CX dataset for the dashboard benchmark (test/bench/dashboard.sh): every
-- table of the cxkpi data model, 2024-01-01 to 2025-12-31, sized by the psql variable
-- `customers` (default 100000; orders ~6x, survey answers ~3x, sessions ~10x customers).
-- Pseudo-random values come from hashint8, so a run is reproducible.  Issue 8 brings the
-- realistic demo generator; this one only has to be plausible and large.
\if :{?customers}
\else
\set customers 100000
\endif
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.rnd(i bigint, salt bigint, m integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ((hashint8(i * 7919 + salt) & 2147483647) % m)::integer $$;

INSERT INTO cxkpi.customers
SELECT c, date '2024-01-01' + pg_temp.rnd(c, 1, 731),
       (ARRAY['organic_search', 'paid_search', 'social', 'email', 'referral', 'direct', 'store', 'app'])[1 + pg_temp.rnd(c, 2, 8)],
       round(pg_temp.rnd(c, 3, 6000) / 100.0, 2)
FROM generate_series(1, :customers) AS c;

INSERT INTO cxkpi.loyalty_members
SELECT c.customer_id, least(c.acquired_on + pg_temp.rnd(c.customer_id, 4, 120), date '2025-12-31'),
       CASE WHEN pg_temp.rnd(c.customer_id, 5, 4) > 0
            THEN least(c.acquired_on + 120 + pg_temp.rnd(c.customer_id, 6, 400), date '2025-12-31') END,
       (ARRAY['standard', 'silver', 'gold'])[1 + pg_temp.rnd(c.customer_id, 7, 3)]
FROM cxkpi.customers AS c WHERE pg_temp.rnd(c.customer_id, 8, 10) < 3;

-- Orders: six per customer on average, on or after the acquisition day, within the two years.
INSERT INTO cxkpi.orders
SELECT o, c.customer_id,
       (c.acquired_on + pg_temp.rnd(o, 11, date '2026-01-01' - c.acquired_on))::timestamp AT TIME ZONE 'UTC'
           + make_interval(secs => pg_temp.rnd(o, 12, 86400)),
       (ARRAY['store', 'web_desktop', 'web_mobile', 'app'])[1 + pg_temp.rnd(o, 13, 4)],
       1 + pg_temp.rnd(o, 14, 5),
       round(20 + pg_temp.rnd(o, 15, 25000) / 100.0, 2),
       CASE WHEN pg_temp.rnd(o, 16, 4) = 0 THEN round(pg_temp.rnd(o, 17, 1500) / 100.0, 2) ELSE 0 END
FROM generate_series(1, 6 * :customers) AS o
JOIN cxkpi.customers AS c ON c.customer_id = 1 + pg_temp.rnd(o, 10, :customers);

-- One return for about 12 % of the orders, a second one for some of them.
INSERT INTO cxkpi.order_returns
SELECT o.order_id * 2 + k, o.order_id,
       o.ordered_at + make_interval(days => 1 + pg_temp.rnd(o.order_id, 20 + k, 30)),
       o.ordered_at + make_interval(days => 35 + pg_temp.rnd(o.order_id, 22 + k, 10)),
       1, round((o.gross_value - o.discount) / o.items / 2, 2),
       CASE WHEN pg_temp.rnd(o.order_id, 24 + k, 10) = 0 THEN 'merchant' ELSE 'customer' END, NULL
FROM cxkpi.orders AS o, generate_series(0, 1) AS k
WHERE pg_temp.rnd(o.order_id, 19, 100) < 12 AND (k = 0 OR (o.items >= 2 AND pg_temp.rnd(o.order_id, 26, 4) = 0));

INSERT INTO cxkpi.survey_responses
SELECT r, timestamp '2024-01-01' AT TIME ZONE 'UTC' + make_interval(secs => pg_temp.rnd(r, 30, 731 * 86400)),
       s.survey, s.score, s.scale,
       (ARRAY['store', 'web', 'app', 'email', 'chat', 'phone', 'returns'])[1 + pg_temp.rnd(r, 31, 7)],
       1 + pg_temp.rnd(r, 32, :customers), NULL, NULL
FROM generate_series(1, 3 * :customers) AS r,
     LATERAL (SELECT CASE r % 3 WHEN 0 THEN 'nps' WHEN 1 THEN 'csat' ELSE 'ces' END AS survey,
                     CASE r % 3 WHEN 0 THEN least(10, 3 + pg_temp.rnd(r, 33, 9))
                                WHEN 1 THEN least(5, 2 + pg_temp.rnd(r, 33, 4))
                                ELSE least(7, 2 + pg_temp.rnd(r, 33, 6)) END AS score,
                     CASE r % 3 WHEN 0 THEN 10 WHEN 1 THEN 5 ELSE 7 END AS scale) AS s;

INSERT INTO cxkpi.web_sessions
SELECT s, timestamp '2024-01-01' AT TIME ZONE 'UTC' + make_interval(secs => pg_temp.rnd(s, 40, 731 * 86400)),
       (ARRAY['desktop', 'mobile', 'mobile', 'tablet', 'app'])[1 + pg_temp.rnd(s, 41, 5)],
       CASE WHEN pg_temp.rnd(s, 42, 3) = 0 THEN 1 + pg_temp.rnd(s, 43, :customers) END,
       f >= 1, f >= 2, f >= 3
FROM generate_series(1, 10 * :customers) AS s,
     LATERAL (SELECT CASE WHEN pg_temp.rnd(s, 44, 1000) < 35 THEN 3 WHEN pg_temp.rnd(s, 44, 1000) < 60 THEN 2
                          WHEN pg_temp.rnd(s, 44, 1000) < 120 THEN 1 ELSE 0 END AS f) AS q;

INSERT INTO cxkpi.store_traffic
SELECT 'store_' || st, d::date, (150 + pg_temp.rnd(st * 1000 + (d::date - date '2024-01-01'), 50, 300)) * :customers / 100000
FROM generate_series(1, 20) AS st, generate_series(date '2024-01-01', date '2025-12-31', interval '1 day') AS d;

INSERT INTO cxkpi.carts
SELECT k, t, (ARRAY['desktop', 'mobile', 'tablet', 'app'])[1 + pg_temp.rnd(k, 61, 4)], NULL,
       CASE WHEN pg_temp.rnd(k, 62, 100) < 32 THEN t + interval '20 minutes' END,
       CASE WHEN pg_temp.rnd(k, 62, 100) >= 32 THEN t + interval '2 hours' END,
       CASE WHEN pg_temp.rnd(k, 62, 100) >= 32 AND pg_temp.rnd(k, 63, 100) < 12 THEN t + interval '2 days' END
FROM generate_series(1, 2 * :customers) AS k,
     LATERAL (SELECT timestamp '2024-01-01' AT TIME ZONE 'UTC' + make_interval(secs => pg_temp.rnd(k, 60, 731 * 86400)) AS t) AS q;

INSERT INTO cxkpi.support_tickets
SELECT t, 1 + pg_temp.rnd(t, 70, :customers), ch, c,
       CASE WHEN pg_temp.rnd(t, 71, 50) > 0 THEN c + make_interval(mins => CASE ch WHEN 'chat' THEN 2 + pg_temp.rnd(t, 72, 30)
                                                                          WHEN 'email' THEN 10 + pg_temp.rnd(t, 72, 200)
                                                                          ELSE 30 + pg_temp.rnd(t, 72, 480) END) END,
       CASE WHEN pg_temp.rnd(t, 73, 100) < 88 THEN c + make_interval(hours => 1 + pg_temp.rnd(t, 74, 72)) END,
       CASE WHEN pg_temp.rnd(t, 73, 100) < 88 THEN 1 + pg_temp.rnd(t, 75, 3) / 2 END,
       pg_temp.rnd(t, 76, 20) = 0
FROM generate_series(1, :customers) AS t,
     LATERAL (SELECT (ARRAY['email', 'chat', 'phone'])[1 + pg_temp.rnd(t, 77, 3)] AS ch,
                     timestamp '2024-01-01' AT TIME ZONE 'UTC' + make_interval(secs => pg_temp.rnd(t, 78, 731 * 86400)) AS c) AS q;

INSERT INTO cxkpi.app_ratings
SELECT a, timestamp '2024-01-01' AT TIME ZONE 'UTC' + make_interval(secs => pg_temp.rnd(a, 80, 731 * 86400)),
       (ARRAY['app_store', 'google_play'])[1 + pg_temp.rnd(a, 81, 2)], least(5, 2 + pg_temp.rnd(a, 82, 5)), '3.' || pg_temp.rnd(a, 83, 9), NULL
FROM generate_series(1, :customers / 5) AS a;

-- One observation per day of each observed KPI (uptime weighted by the 1440 minutes of a day).
INSERT INTO cxkpi.metric_observations (kpi, observed_at, dimension, value, weight)
SELECT k.kpi, d, '', k.base + pg_temp.rnd(d::date - date '2024-01-01', k.salt, 1000) * k.spread / 1000.0, k.w
FROM generate_series(timestamp '2024-01-01 12:00' AT TIME ZONE 'UTC', timestamp '2025-12-31 12:00' AT TIME ZONE 'UTC', interval '1 day') AS d,
     (VALUES ('website_load_time_seconds', 1.6, 1.0, 1, 90), ('uptime_pct', 99.5, 0.5, 1440, 91),
             ('mobile_optimization_score', 85, 12, 1, 92), ('staff_training_hours', 35, 20, 1, 93),
             ('certification_share_pct', 90, 9, 1, 94), ('mystery_shopper_score_pct', 80, 15, 1, 95),
             ('protocol_adherence_pct', 85, 12, 1, 96)) AS k(kpi, base, spread, w, salt);
ANALYZE;
