-- Top churn-risk, high-value customers (the demo's watch list), in plain SQL.
--
-- Risk is a recency / frequency heuristic until the CLV models of issue 5 land: for a repeat
-- buyer with n orders over an observed span, the mean gap between orders is span / (n - 1); if
-- purchases were Poisson at that rate, the chance of no purchase during the days since the last
-- order is exp(-recency / gap), and the heuristic risk is 1 minus it.  Value is net spend over
-- the last two years.  With the CLV family installed, replace `risk` by 1 - p_alive from the
-- fitted BG/NBD model (one line below) and `value` by the model's expected CLV.
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
