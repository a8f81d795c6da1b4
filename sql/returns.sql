-- Returns: hand-worked values, exactness against plain SQL, money to the cent, rollups, windows.

-- Hand-worked: four orders
--   A: 2 items, none returned,   value 10.50, returned 0
--   B: 3 items, all 3 returned,  value 30,    returned 30.00
--   C: 1 item,  returned,        value 5.25,  returned 5.25
--   D: 4 items, 1 returned,      values unknown (NULL): counted, but not in the money sums
-- orders 4, with a return 3 (B, C, D) -> 75 %; fully returned 2 (B, C) -> 50 % of orders,
--   66.6667 % of orders with a return;
-- items 10, returned 5 -> 50 %; valued orders 3 (A, B, C), 2 of them with a return (B, C);
--   order value 45.75, returned 35.25
--   -> value return rate 35.25/45.75 = 77.0492 %; AOV 45.75/3 = 15.25; avg return 35.25/2 = 17.625
-- Wilson 95 % for 3 of 4: p = 0.75, z^2/n = 0.960365, centre = (0.75 + 0.480182)/1.960365 = 0.627527,
--   half = 1.959964 * sqrt(0.046875 + 0.060023)/1.960365 = 0.326885 -> [30.0642, 95.4413] %
CREATE TABLE returns_hand AS
SELECT return_agg(o, r, v, rv) AS s
FROM (VALUES (2, 0, 10.50, 0), (3, 3, 30, 30.00), (1, 1, 5.25, 5.25), (4, 1, NULL, 2)) t(o, r, v, rv);
SELECT s FROM returns_hand;
SELECT orders(s), orders_with_return(s), orders_fully_returned(s), items_ordered(s),
       items_returned(s), valued_orders(s), valued_orders_with_return(s), return_rate(s),
       full_return_rate(s), round(full_return_share(s)::numeric, 4) AS full_share, item_return_rate(s)
FROM returns_hand;
SELECT round(value_return_rate(s)::numeric, 4) AS value_rate, order_value(s), returned_value(s),
       avg_order_value(s), avg_return_value(s),
       round(return_rate_ci_lower(s)::numeric, 4) AS lower, round(return_rate_ci_upper(s)::numeric, 4) AS upper
FROM returns_hand;
-- the 2-argument form has no money: the money accessors are NULL
SELECT s, return_rate(s), order_value(s), avg_order_value(s), value_return_rate(s)
FROM (SELECT return_agg(o, r) AS s FROM (VALUES (2, 0), (3, 1), (NULL, 1), (1, NULL)) t(o, r)) q;
SELECT return_rate(o, r) AS one_step FROM (VALUES (2, 0), (3, 1), (5, 5)) t(o, r);
SELECT return_agg(o, r) IS NULL AS no_rows FROM (VALUES (1, 1)) t(o, r) WHERE false;

-- 50,000 generated orders with NULLs in every column and values with 0 to 3 decimal places.
CREATE TABLE orders AS
SELECT i AS id,
       1 + rnd(i, 11, 1000) AS customer_id,
       (ARRAY['store', 'web', 'app'])[1 + rnd(i, 12, 3)] AS channel,
       date '2025-01-01' + rnd(i, 13, 365) AS ordered_on,
       CASE WHEN rnd(i, 14, 100) = 0 THEN NULL ELSE 1 + rnd(i, 15, 6) END AS items,
       rnd(i, 16, 1000) AS r1,
       round((rnd(i, 17, 50000) + 1)::numeric / (10 ^ rnd(i, 18, 4))::numeric, rnd(i, 18, 4)) AS value,
       rnd(i, 19, 40) AS nulls
FROM generate_series(1, 50000) AS i;
ALTER TABLE orders ADD COLUMN items_returned integer, ADD COLUMN returned_value numeric;
UPDATE orders SET
    items_returned = CASE WHEN nulls = 1 THEN NULL
                          WHEN items IS NULL THEN 0
                          WHEN r1 < 750 THEN 0
                          WHEN r1 < 850 THEN items
                          ELSE 1 + r1 % items END,
    value = CASE WHEN nulls = 2 THEN NULL ELSE value END;
UPDATE orders SET returned_value =
    CASE WHEN nulls = 3 THEN NULL
         WHEN items_returned IS NULL OR items_returned = 0 OR value IS NULL THEN 0
         WHEN items_returned = items THEN value
         ELSE trunc(value * items_returned / items, 2) END;
ANALYZE orders;
-- the window checks recompute every frame (by id, by day): indexes keep them fast, also under valgrind
CREATE INDEX ON orders (id);
CREATE INDEX ON orders (ordered_on);

-- every accessor equals plain SQL, per channel
WITH s AS (
    SELECT channel, return_agg(items, items_returned, value, returned_value) AS s
    FROM orders GROUP BY channel),
p AS (
    SELECT channel,
           count(*) FILTER (WHERE items IS NOT NULL AND items_returned IS NOT NULL) AS n,
           count(*) FILTER (WHERE items_returned > 0 AND items IS NOT NULL) AS with_ret,
           count(*) FILTER (WHERE items_returned = items) AS full_ret,
           sum(items) FILTER (WHERE items_returned IS NOT NULL) AS items,
           sum(items_returned) FILTER (WHERE items IS NOT NULL) AS items_ret,
           count(*) FILTER (WHERE v) AS valued,
           count(*) FILTER (WHERE v AND items_returned > 0) AS valued_ret,
           sum(value) FILTER (WHERE v) AS ov,
           sum(returned_value) FILTER (WHERE v) AS rv,
           avg(value) FILTER (WHERE v) AS aov,
           sum(returned_value) FILTER (WHERE v AND items_returned > 0)
             / count(*) FILTER (WHERE v AND items_returned > 0) AS arv
    FROM (SELECT *, items IS NOT NULL AND items_returned IS NOT NULL AND value IS NOT NULL
                    AND returned_value IS NOT NULL AS v FROM orders) o
    GROUP BY channel)
SELECT channel, orders(s), orders_with_return(s), valued_orders(s), order_value(s),
       orders(s) = n AND orders_with_return(s) = with_ret AND orders_fully_returned(s) = full_ret
         AND items_ordered(s) = items AND items_returned(s) = items_ret
         AND valued_orders(s) = valued AS counts_match,
       order_value(s) = ov AND returned_value(s) = rv AS money_exact,
       avg_order_value(s) = aov AND avg_return_value(s) = arv AS averages_exact,
       return_rate(s) = 100.0 * with_ret / n AND full_return_rate(s) = 100.0 * full_ret / n
         AND item_return_rate(s) = 100.0 * items_ret / items AS rates_match,
       abs(value_return_rate(s) - (100 * rv / ov)::float8) < 1e-12 AS value_rate_matches
FROM s JOIN p USING (channel) ORDER BY channel;

-- a year of daily summaries rolled up equals the direct aggregate, to the cent
CREATE TABLE returns_daily AS
SELECT ordered_on, channel, return_agg(items, items_returned, value, returned_value) AS s
FROM orders GROUP BY 1, 2;
SELECT count(*) AS channels_differing
FROM (SELECT channel, rollup(s) AS s FROM returns_daily GROUP BY channel) r
JOIN (SELECT channel, return_agg(items, items_returned, value, returned_value) AS s
      FROM orders GROUP BY channel) d USING (channel)
WHERE r.s <> d.s OR order_value(r.s) <> order_value(d.s);
SELECT order_value(rollup(s)) = (SELECT sum(value) FROM orders WHERE items IS NOT NULL
                                 AND items_returned IS NOT NULL AND returned_value IS NOT NULL)
       AS year_to_the_cent
FROM returns_daily;

-- window frames: moving aggregate and moving rollup equal recomputation
SELECT count(*) AS frames_differing
FROM (SELECT id, return_agg(items, items_returned, value, returned_value) OVER w AS s,
             return_rate(items, items_returned) OVER w AS rr
      FROM orders WHERE id <= 2000 WINDOW w AS (ORDER BY id ROWS 49 PRECEDING)) r
WHERE s IS DISTINCT FROM (SELECT return_agg(items, items_returned, value, returned_value)
                          FROM orders x WHERE x.id BETWEEN r.id - 49 AND r.id)
   OR rr IS DISTINCT FROM (SELECT return_rate(items, items_returned) FROM orders x
                           WHERE x.id BETWEEN r.id - 49 AND r.id);
SELECT count(*) AS rolling_weeks_differing
FROM (SELECT ordered_on, rollup(s) OVER (ORDER BY ordered_on ROWS 6 PRECEDING) AS s
      FROM (SELECT ordered_on, rollup(s) AS s FROM returns_daily GROUP BY 1) d) w
WHERE s <> (SELECT return_agg(items, items_returned, value, returned_value) FROM orders
            WHERE ordered_on BETWEEN w.ordered_on - 6 AND w.ordered_on);

-- invalid orders: 22003 naming the values
SELECT return_agg(0, 0);
SELECT return_agg(2, 3);
SELECT return_agg(2, -1);
SELECT return_agg(2, 1, 10, 11);
SELECT return_agg(2, 1, -5, 0);
SELECT return_agg(2, 0, 10, 1);
SELECT return_agg(2, 1, 'Infinity', 1);
SELECT return_rate(x, 1) FROM (VALUES (1), (0)) v(x);

-- frames that start with NULL rows
SELECT i, return_rate(o, r) OVER w AS rate, return_agg(o, r) OVER w IS NULL AS empty
FROM (VALUES (1, NULL::int, NULL::int), (2, 2, NULL), (3, 2, 1), (4, 1, 0)) v(i, o, r)
WINDOW w AS (ORDER BY i ROWS 1 PRECEDING);
