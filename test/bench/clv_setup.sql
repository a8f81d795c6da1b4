-- CLV benchmark data and queries (run by test/bench/clv.sh; psql variables :rows, :customers).
--
-- tx:      :rows transactions of :customers customers over 2023-2024 (amounts 0.00-199.99), for
--          rfm_agg against the plain SQL that computes the same columns.
-- customers: :customers customers simulated from BG/NBD (r, alpha, a, b) = (0.25, 4, 0.8, 2.5) and
--          Gamma-Gamma (p, q, v) = (6, 4, 15) (test/sim/clv_sim.sql), ages 1-52 weeks, times at
--          day resolution as rfm_agg produces them.
-- customers_continuous: the same process in continuous time: every (x, t_x, T) distinct, the worst
--          case for the fits' histogram and for the prediction cache.
-- customers_2y: the same process at day resolution with ages of 1 day to two years, the shape of a
--          retailer with two years of history (a third of the rows distinct, ~730 distinct times).
SET client_min_messages = warning;
CREATE EXTENSION cxkpi;
CREATE EXTENSION pg_prewarm;
\ir ../sim/clv_sim.sql

\echo -n 'loading' :rows 'transactions of' :customers 'customers ... '
\timing on
CREATE TABLE tx AS
SELECT 1 + (hashint8(3 * i) & 2147483647) % :customers AS customer_id,
       date '2023-01-01' + (hashint8(3 * i + 1) & 2147483647) % 730 AS purchased_on,
       ((hashint8(3 * i + 2) & 2147483647) % 20000)::numeric(10, 2) / 100 AS amount
FROM generate_series(1, :rows::bigint) AS i;
\timing off
\echo -n 'simulating' :customers 'customers (BG/NBD + Gamma-Gamma, day resolution) ... '
\timing on
CREATE TABLE customers AS
SELECT * FROM clv_sim.customers(:customers, 0.25, 4.0, 0.8, 2.5, 6, 4, 15, 1, 52, false, 0.25, 1 / 7.0);
\timing off
\echo -n 'simulating' :customers 'customers in continuous time ... '
\timing on
CREATE TABLE customers_continuous AS
SELECT * FROM clv_sim.customers(:customers, 0.25, 4.0, 0.8, 2.5, 6, 4, 15, 1, 52, false, 0.75);
\timing off
\echo -n 'simulating' :customers 'customers at day resolution over two years ... '
\timing on
CREATE TABLE customers_2y AS
SELECT * FROM clv_sim.customers(:customers, 0.25, 4.0, 0.8, 2.5, 6, 4, 15, 1 / 7.0, 104, false, 0.5, 1 / 7.0);
\timing off
VACUUM (FREEZE, ANALYZE) tx, customers, customers_continuous, customers_2y;
SELECT pg_prewarm('tx') + pg_prewarm('customers') + pg_prewarm('customers_continuous') + pg_prewarm('customers_2y') AS blocks,
       pg_size_pretty(pg_relation_size('tx')) AS tx_size,
       (SELECT count(DISTINCT (x, t_x, t)) FROM customers) AS distinct_rows,
       (SELECT count(DISTINCT (x, t)) FROM customers) AS distinct_xt,
       (SELECT count(DISTINCT (x, t_x, t)) FROM customers_continuous) AS distinct_cont,
       (SELECT count(DISTINCT (x, t_x, t)) FROM customers_2y) AS distinct_2y,
       (SELECT count(DISTINCT t) FROM customers_2y) AS distinct_t_2y
\gset
\echo 'tx:' :tx_size '; customers:' :distinct_rows 'distinct (x, t_x, T) rows,' :distinct_xt 'distinct (x, T); all prewarmed'
\echo 'customers_continuous:' :distinct_cont 'distinct rows; customers_2y:' :distinct_2y 'distinct rows,' :distinct_t_2y 'distinct T'

-- The models the prediction queries use (fitted once, as a nightly job would).
CREATE TABLE models AS
SELECT bgnbd_fit(x, t_x, t) AS m, gamma_gamma_fit(x, m) AS g FROM customers;

-- ------------------------------------------------------------------------------------------
-- The queries.  task: fit (bgnbd_fit over the RFM table, scan included), clv (12-month CLV of
-- every customer: 12 monthly steps of 365.25/12/7 weeks, 1 % per month), rfm (RFM columns per
-- customer from the transactions).  kind: summary (cxkpi), sql (plain SQL, same rows), info.
-- ------------------------------------------------------------------------------------------
-- model and shape (fit queries): the worst shapes are reported as ratios to the friendly one.
CREATE TABLE bench_query (
    id    serial PRIMARY KEY,
    task  text NOT NULL,
    kind  text NOT NULL,
    label text NOT NULL,
    sql   text NOT NULL,
    model text,
    shape text
);

INSERT INTO bench_query (task, kind, label, sql) VALUES
('fit', 'summary', 'bgnbd_fit(x, t_x, t) over the customer table',
 'SELECT bgnbd_fit(x, t_x, t) FROM customers'),
('fit', 'info', 'mbgnbd_fit(x, t_x, t), same table',
 'SELECT mbgnbd_fit(x, t_x, t) FROM customers'),
('fit', 'info', 'gamma_gamma_fit(x, m), same table',
 'SELECT gamma_gamma_fit(x, m) FROM customers'),
('fit', 'info', 'bgnbd_fit over continuous-time customers (all rows distinct)',
 'SELECT bgnbd_fit(x, t_x, t) FROM customers_continuous'),
('fit', 'info', 'mbgnbd_fit over continuous-time customers (all rows distinct)',
 'SELECT mbgnbd_fit(x, t_x, t) FROM customers_continuous'),
('fit', 'info', 'gamma_gamma_fit over continuous-time customers (all rows distinct)',
 'SELECT gamma_gamma_fit(x, m) FROM customers_continuous'),
('fit', 'info', 'bgnbd_fit over two years at day resolution',
 'SELECT bgnbd_fit(x, t_x, t) FROM customers_2y'),
('fit', 'info', 'mbgnbd_fit over two years at day resolution',
 'SELECT mbgnbd_fit(x, t_x, t) FROM customers_2y'),
('fit', 'info', 'gamma_gamma_fit over two years at day resolution',
 'SELECT gamma_gamma_fit(x, m) FROM customers_2y'),
('fit', 'scan', 'count(*) over the customer table: the scan floor',
 'SELECT count(*) FROM customers'),
('fit', 'scan', 'count(*) over the continuous-time table',
 'SELECT count(*) FROM customers_continuous'),
('clv', 'summary', '12-month discounted clv() of every customer',
 $q$SELECT id, clv(q.m, q.g, x, t_x, t, r.m, 12 * 365.25 / 12 / 7, 0.01, 365.25 / 12 / 7)
    FROM customers r, models q$q$),
('clv', 'info', 'the same, continuous-time customers (no shared (x, T))',
 $q$SELECT id, clv(q.m, q.g, x, t_x, t, r.m, 12 * 365.25 / 12 / 7, 0.01, 365.25 / 12 / 7)
    FROM customers_continuous r, models q$q$),
('clv', 'info', 'p_alive, expected_purchases(52 weeks), churn_risk of every customer',
 $q$SELECT id, p_alive(q.m, x, t_x, t), expected_purchases(q.m, 52, x, t_x, t), churn_risk(q.m, x, t_x, t, 13)
    FROM customers r, models q$q$),
('rfm', 'summary', 'rfm_agg(purchased_on, amount, end) GROUP BY customer',
 $q$SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value, (r).first_purchase,
           (r).last_purchase, (r).purchases, (r).total_amount
    FROM (SELECT customer_id, rfm_agg(purchased_on, amount, '2024-12-31') AS r FROM tx GROUP BY customer_id) q$q$),
('rfm', 'sql', 'SQL: per-day sums, row_number() window, GROUP BY customer',
 $q$WITH per AS (SELECT customer_id, purchased_on AS d, sum(amount) AS v, count(*) AS n
                 FROM tx WHERE purchased_on <= '2024-12-31' GROUP BY customer_id, purchased_on),
         ranked AS (SELECT per.*, row_number() OVER (PARTITION BY customer_id ORDER BY d) AS k FROM per)
    SELECT customer_id, (count(*) - 1)::int, ((max(d) - min(d)) / 7.0)::float8, (('2024-12-31' - min(d)) / 7.0)::float8,
           coalesce(avg(v) FILTER (WHERE k > 1), 0)::float8, min(d), max(d), sum(n), sum(v)
    FROM ranked GROUP BY customer_id$q$);

UPDATE bench_query
SET model = substring(sql FROM 'SELECT (\w+)_fit'),
    shape = CASE substring(sql FROM 'FROM (\w+)$') WHEN 'customers' THEN 'friendly'
                 WHEN 'customers_continuous' THEN 'all distinct' WHEN 'customers_2y' THEN 'two years' END
WHERE task = 'fit' AND kind <> 'scan';

\ir common.sql

