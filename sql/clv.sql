-- Customer lifetime value: the simple formula, rfm_agg against plain SQL and the published CDNOW
-- summary, BG/NBD, MBG/NBD and Gamma-Gamma fits against published results, predictions against
-- published and hand-worked values, and the model types' text form.

-- Simple CLV: 25.50 per purchase x 4 purchases a year x 3 years = 306
SELECT clv(25.50, 4, 3) AS simple_clv, clv(0, 4, 3) AS zero;
SELECT clv(-1, 4, 3);
SELECT clv(25, 'NaN', 3);

-- rfm_agg, hand-worked (weeks): customer 1 buys on 01-01 (10 + 5, one day), 01-15 (20),
-- 01-29 (30 + 1.25) and 03-01 (after the observation end, ignored); observation end 02-12.
--   frequency 2 (01-15, 01-29), recency 28 days = 4 weeks, t 42 days = 6 weeks,
--   monetary_value = (20 + 31.25) / 2 = 25.625, total 66.25 over 5 transactions.
-- Customer 2 buys once (t = 1 week); customer 3 only after the end (no row: NULL); rows arrive
-- out of order, and a NULL amount is skipped.
CREATE TABLE tx (customer_id int, purchased_on date, amount numeric);
INSERT INTO tx VALUES
    (1, '2024-01-29', 30), (1, '2024-01-01', 10), (1, '2024-01-15', 20), (1, '2024-01-01', 5),
    (1, '2024-03-01', 99), (1, '2024-01-29', 1.25), (1, '2024-01-20', NULL),
    (2, '2024-02-05', 12.5), (3, '2024-02-13', 7);
SELECT customer_id, (r).* FROM (
    SELECT customer_id, rfm_agg(purchased_on, amount, '2024-02-12') AS r
    FROM tx GROUP BY customer_id) q ORDER BY customer_id;
-- unit_days 1: days
SELECT (rfm_agg(purchased_on, amount, '2024-02-12', 1)).* FROM tx WHERE customer_id = 1;
SELECT rfm_agg(purchased_on, amount, '2024-02-12', 0) FROM tx;
SELECT rfm_agg(purchased_on, amount, d) FROM tx, (VALUES (date '2024-02-12'), ('2024-02-13')) v(d);

-- 30,000 generated transactions of 2,000 customers (several per day, 0-2 decimals) against the
-- reference SQL of clv-models.md section 1 (day periods, weeks): identical rows.
CREATE TABLE gen_tx AS
SELECT 1 + rnd(i, 21, 2000) AS customer_id,
       date '2024-01-01' + rnd(i, 22, 400) AS purchased_on,
       round((1 + rnd(i, 23, 50000))::numeric / 100, rnd(i, 24, 3)) AS amount
FROM generate_series(1, 30000) i;
CREATE TABLE gen_rfm AS
SELECT customer_id, (rfm_agg(purchased_on, amount, '2024-12-31')).* FROM gen_tx GROUP BY customer_id;
CREATE TABLE gen_sql AS
WITH per AS (
  SELECT customer_id, purchased_on AS d, sum(amount) AS v, count(*) AS n
  FROM gen_tx WHERE purchased_on <= '2024-12-31' GROUP BY customer_id, purchased_on),
ranked AS (
  SELECT per.*, row_number() OVER (PARTITION BY customer_id ORDER BY d) AS k FROM per)
SELECT customer_id, (count(*) - 1)::int AS frequency, (max(d) - min(d)) / 7.0 AS recency,
       ('2024-12-31' - min(d)) / 7.0 AS t, coalesce(avg(v) FILTER (WHERE k > 1), 0) AS monetary_value,
       min(d) AS first_purchase, max(d) AS last_purchase, sum(n) AS purchases, sum(v) AS total_amount
FROM ranked GROUP BY customer_id;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE r.frequency = s.frequency AND r.recency = s.recency::float8
                        AND r.t = s.t::float8 AND abs(r.monetary_value - s.monetary_value::float8) < 1e-9
                        AND r.first_purchase = s.first_purchase AND r.last_purchase = s.last_purchase
                        AND r.purchases = s.purchases AND r.total_amount = s.total_amount) AS equal
FROM gen_rfm r FULL JOIN gen_sql s USING (customer_id);

-- CDNOW (Fader, Hardie & Lee 2005; 1/10 sample, 2,357 customers; test/data/cdnow/README.md)
CREATE TABLE cdnow_sample (master_id int, customer_id int, ordered_on date, cds int, dollars numeric(10,2));
\copy cdnow_sample FROM PROGRAM 'tr -d ''\r'' < test/data/cdnow/CDNOW_sample.txt | awk ''{print $1 "," $2 "," $3 "," $4 "," $5}''' CSV
CREATE TABLE cdnow_published (customer_id int, x int, t_x float8, "T" float8, zbar float8);
\copy cdnow_published FROM 'test/data/cdnow/cdnow_customers_summary_with_transactions.csv' CSV HEADER
CREATE TABLE cdnow_published_rfm (customer_id int, frequency int, recency float8, "T" float8);
\copy cdnow_published_rfm FROM 'test/data/cdnow/cdnow_customers_summary.csv' CSV HEADER
SELECT count(*) AS transactions, count(DISTINCT customer_id) AS customers, sum(dollars) FROM cdnow_sample;

-- rfm_agg over the 39-week calibration period equals both published files row for row
CREATE TABLE cdnow AS
SELECT customer_id, (rfm_agg(ordered_on, dollars, '1997-09-30', 7)).* FROM cdnow_sample GROUP BY customer_id;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE c.frequency = p.x AND c.frequency = q.frequency
                        AND round(c.recency::numeric, 2) = round(p.t_x::numeric, 2)
                        AND round(c.recency::numeric, 2) = round(q.recency::numeric, 2)
                        AND round(c.t::numeric, 2) = round(p."T"::numeric, 2)
                        AND round(c.t::numeric, 2) = round(q."T"::numeric, 2)
                        AND round(c.monetary_value::numeric, 2) = round(p.zbar::numeric, 2)) AS equal
FROM cdnow c FULL JOIN cdnow_published p USING (customer_id) FULL JOIN cdnow_published_rfm q USING (customer_id);

-- BG/NBD: published r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.43 (weeks)
CREATE TABLE cdnow_models AS
SELECT bgnbd_fit(frequency, recency, t) AS bg, mbgnbd_fit(frequency, recency, t) AS mbg,
       gamma_gamma_fit(frequency, monetary_value) AS gg
FROM cdnow;
SELECT round(r::numeric, 3) AS r, round(alpha::numeric, 3) AS alpha, round(a::numeric, 3) AS a,
       round(b::numeric, 3) AS b, round(log_likelihood(bg)::numeric, 2) AS ll,
       customers(bg), repeat_customers(bg), converged(bg)
FROM cdnow_models, bgnbd_params(bg);
SELECT round(r::numeric, 4) AS se_r, round(alpha::numeric, 3) AS se_alpha, round(a::numeric, 3) AS se_a,
       round(b::numeric, 3) AS se_b
FROM cdnow_models, bgnbd_stderr(bg);
-- the same fit from the published (rounded) summary, pre-grouped with weights
SELECT round(r::numeric, 3) AS r, round(alpha::numeric, 3) AS alpha, round(a::numeric, 3) AS a,
       round(b::numeric, 3) AS b, round(log_likelihood(m)::numeric, 2) AS ll, customers(m)
FROM (SELECT bgnbd_fit(x, t_x, "T", n) AS m
      FROM (SELECT x, t_x, "T", count(*) AS n FROM cdnow_published GROUP BY 1, 2, 3) g) q, bgnbd_params(m);
-- MBG/NBD: lifetimes' published CDNOW fit r = 0.525, alpha = 6.183, a = 0.891, b = 1.614
SELECT round(r::numeric, 3) AS r, round(alpha::numeric, 3) AS alpha, round(a::numeric, 3) AS a,
       round(b::numeric, 3) AS b, round(log_likelihood(mbg)::numeric, 2) AS ll, converged(mbg)
FROM cdnow_models, bgnbd_params(mbg);
-- Gamma-Gamma: published p = 6.25, q = 3.74, v = 15.44 (946 repeat customers)
SELECT round(p::numeric, 2) AS p, round(q::numeric, 2) AS q, round(v::numeric, 2) AS v,
       round(log_likelihood(gg)::numeric, 2) AS ll, customers(gg), converged(gg)
FROM cdnow_models, gamma_gamma_params(gg);

-- Predictions at the published parameters.  Paper: customer (2, 30.43, 38.86) expects 1.226
-- purchases in the next 39 weeks.  Hardie's spreadsheet: E[X(t)] = 0.0078, 0.0532, 0.1506,
-- 1.0405, 1.0437, 1.8576 at t = 1/7, 1, 3, 31.86, 32, 78 (our values from the 3-digit parameters).
-- BTYD: P(X(2) = 10) = 1.07869e-07 and P(X(30) = 11) = 0.0019995214.
CREATE TABLE pub AS SELECT bgnbd_model(0.243, 4.414, 0.793, 2.426) AS m,
                           gamma_gamma_model(6.25, 3.74, 15.44) AS g;
SELECT round(expected_purchases(m, 39, 2, 30.43, 38.86)::numeric, 3) AS e39,
       round(p_alive(m, 2, 30.43, 38.86)::numeric, 4) AS p_alive,
       round(prob_no_purchase(m, 39, 2, 30.43, 38.86)::numeric, 4) AS p_none,
       churn_risk(m, 2, 30.43, 38.86, 39)
FROM pub;
SELECT t, round(expected_purchases(m, t)::numeric, 4) AS e
FROM pub, unnest(ARRAY[0.1429, 1, 3, 31.8571, 32, 78]::float8[]) AS t;
SELECT round((purchase_probability(m, 10, 2) * 1e7)::numeric, 5) AS p10_2_e7,
       round(purchase_probability(m, 11, 30)::numeric, 10) AS p11_30,
       round(sum_pmf::numeric, 12) AS pmf_sum
FROM pub, (SELECT sum(purchase_probability(m, n, 30)) AS sum_pmf FROM pub, generate_series(0, 3000) n) s;
-- hand-worked: P(no purchase) for a one-time buyer is ((alpha+T)/(alpha+T+t))^r
SELECT round(prob_no_purchase(m, 10, 0, 0, 20)::numeric, 12) AS p0,
       round(power((4.414 + 20) / (4.414 + 30), 0.243)::numeric, 12) AS by_hand,
       p_alive(m, 0, 0, 20) AS bg_one_timer_alive
FROM pub;
-- Gamma-Gamma: E[M | x, m] = p (v + x m) / (p x + q - 1); population mean p v / (q - 1)
SELECT round(expected_spend(g, 2, 50)::numeric, 6) AS spend,
       round((6.25 * (15.44 + 2 * 50) / (6.25 * 2 + 3.74 - 1))::numeric, 6) AS by_hand,
       round(expected_spend(g, 0, 0)::numeric, 6) AS population,
       round((6.25 * 15.44 / 2.74)::numeric, 6) AS population_by_hand
FROM pub;
-- clv without discounting telescopes to spend x expected purchases
SELECT round(clv(m, g, 2, 30.43, 38.86, 50, 52)::numeric, 6) AS clv,
       round((expected_spend(g, 2, 50) * expected_purchases(m, 52, 2, 30.43, 38.86))::numeric, 6) AS product,
       round(clv(m, g, 2, 30.43, 38.86, 50, 52, 0.01, 4.345)::numeric, 4) AS discounted
FROM pub;

-- Numerics: no NaN or infinity at a = 1, a + b < 1, large frequency, long horizons
SELECT round(expected_purchases(bgnbd_model(0.243, 4.414, 1, 2.426), 39)::numeric, 9) AS a_one,
       round(expected_purchases(bgnbd_model(0.243, 4.414, 1 + 1e-13, 2.426), 39)::numeric, 9) AS a_near_one,
       round(expected_purchases(bgnbd_model(0.243, 4.414, 0.3, 0.5), 39)::numeric, 6) AS ab_below_one,
       round(expected_purchases(bgnbd_model(0.243, 4.414, 0.3, 0.5), 39, 3, 20, 30)::numeric, 6) AS cond_ab_below_one;
SELECT round(expected_purchases(m, 39, 10000, 38.8, 38.86)::numeric, 2) AS heavy,
       round(p_alive(m, 10000, 38.8, 38.86)::numeric, 6) AS heavy_alive,
       round(prob_no_purchase(m, 39, 10000, 38.8, 38.86)::numeric, 6) AS heavy_none,
       round(expected_purchases(m, 1e5, 2, 30.43, 38.86)::numeric, 4) AS long_horizon
FROM pub;

-- Text form: constructed and fitted models round-trip exactly
SELECT m, g FROM pub;
SELECT bg::text::bgnbd_model = bg AS bg_round_trip, mbg::text::mbgnbd_model = mbg AS mbg_round_trip,
       gg::text::gamma_gamma_model = gg AS gg_round_trip
FROM cdnow_models;
SELECT '(v1,r=1,alpha=2,a=3,b=4)'::mbgnbd_model, '(v1,p=1,q=2,v=3)'::gamma_gamma_model;
SELECT '(v2,r=1,alpha=2,a=3,b=4)'::bgnbd_model;
SELECT '(v1,r=0,alpha=2,a=3,b=4)'::bgnbd_model;
SELECT '(v1,r=1,alpha=2,a=3)'::bgnbd_model;
SELECT bgnbd_model(1, 'Infinity', 1, 1);
SELECT gamma_gamma_model(1, -2, 1);

-- Errors naming the values
SELECT bgnbd_fit(x, tx, t) FROM (VALUES (1, 5.0, 4.0)) v(x, tx, t);
SELECT bgnbd_fit(x, tx, t) FROM (VALUES (0, 1.0, 4.0)) v(x, tx, t);
SELECT bgnbd_fit(x, tx, t) FROM (VALUES (-1, 0.0, 4.0)) v(x, tx, t);
SELECT bgnbd_fit(x, tx, t) FROM (VALUES (0, 0.0, 4.0), (0, 0.0, 3.0)) v(x, tx, t);
SELECT gamma_gamma_fit(x, m) FROM (VALUES (2, 0.0)) v(x, m);
SELECT expected_spend(gamma_gamma_model(1, 0.9, 10), 2, 10);
SELECT bgnbd_fit(x, tx, t) IS NULL AS no_rows FROM (VALUES (1, 1.0, 2.0)) v(x, tx, t) WHERE false;
