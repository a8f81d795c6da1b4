-- Top churn-risk, high-value customers (the demo's watch list), from cxkpi.customer_value:
-- BG/NBD and Gamma-Gamma fitted over all customers at the last refresh (docs/clv.md,
-- docs/dashboard.md).  Customers whose probability of no order in the next 13 weeks is high
-- (churn_risk_13w = 'high', over 2/3), ranked by the spend at stake: historic value times that
-- probability.  The models' parameters and any fit problem are in cxkpi.clv_models.
SELECT v.customer_id AS customer, v.purchases AS orders,
       to_char(v.historic_value_currency, 'FM$999,990') AS "spend to date",
       v.last_purchase AS "last order", round(v.age_weeks - v.recency_weeks) AS "weeks since",
       round(v.p_alive::numeric, 2) AS "P(alive)",
       to_char(100 * v.churn_probability_13w, 'FM990') || ' %' AS "no order in 13 weeks",
       to_char(v.clv_52w_currency, 'FM$999,990') AS "CLV 52 weeks",
       coalesce(m.tier, '-') AS loyalty
FROM cxkpi.customer_value AS v LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)
WHERE v.churn_risk_13w = 'high' AND v.purchases >= 3
ORDER BY v.historic_value_currency * v.churn_probability_13w DESC, v.customer_id
LIMIT 10;
