-- Sanity checks before timing (run by test/bench/clv.sh): rfm_agg and the plain SQL return the
-- same rows (monetary_value to 1e-9), and the fits recover the simulation's parameters.
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS nbad, count(*) > 0 AS bad FROM (
    (SELECT customer_id, (r).frequency, (r).recency, (r).t, round((r).monetary_value::numeric, 9), (r).first_purchase,
            (r).last_purchase, (r).purchases, (r).total_amount
     FROM (SELECT customer_id, rfm_agg(purchased_on, amount, '2024-12-31') AS r FROM tx GROUP BY customer_id) q
     EXCEPT ALL
     SELECT customer_id, f, rec, t, round(m::numeric, 9), a, b, n, v FROM (
        WITH per AS (SELECT customer_id, purchased_on AS d, sum(amount) AS v, count(*) AS n
                     FROM tx WHERE purchased_on <= '2024-12-31' GROUP BY customer_id, purchased_on),
             ranked AS (SELECT per.*, row_number() OVER (PARTITION BY customer_id ORDER BY d) AS k FROM per)
        SELECT customer_id, (count(*) - 1)::int AS f, ((max(d) - min(d)) / 7.0)::float8 AS rec,
               (('2024-12-31' - min(d)) / 7.0)::float8 AS t, coalesce(avg(v) FILTER (WHERE k > 1), 0)::float8 AS m,
               min(d) AS a, max(d) AS b, sum(n) AS n, sum(v) AS v
        FROM ranked GROUP BY customer_id) s)) d \gset
\if :bad
\echo 'checks FAILED: rfm_agg and the plain SQL differ in' :nbad 'rows'
SELECT 1 / 0;
\endif
\echo 'checks: rfm_agg equals the plain SQL on every customer'
\pset footer off
SELECT 'BG/NBD (0.25, 4, 0.8, 2.5; day rounding biases it)' AS model, round(r::numeric, 4) AS "r / p", round(alpha::numeric, 4) AS "alpha / q",
       round(a::numeric, 4) AS "a / v", round(b::numeric, 4) AS b, converged(m)
FROM models, bgnbd_params(m)
UNION ALL
SELECT 'Gamma-Gamma (6, 4, 15)', round(p::numeric, 4), round(q::numeric, 4), round(v::numeric, 4), NULL, converged(g)
FROM models, gamma_gamma_params(g);
RESET max_parallel_workers_per_gather;
