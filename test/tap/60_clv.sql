-- CLV: rfm_agg and the BG/NBD, MBG/NBD and Gamma-Gamma fits against published CDNOW results and
-- simulated data with known parameters; predictions; text and binary I/O; parallel = serial;
-- weights = repeated rows; errors with their SQLSTATEs; no NaN in hard corners.
BEGIN;
SET client_min_messages = error;
SELECT plan(195);

-- ----------------------------------------------------------------------- CDNOW (published)
CREATE TEMP TABLE cdnow_sample (master_id int, customer_id int, ordered_on date, cds int, dollars numeric(10,2));
\copy cdnow_sample FROM PROGRAM 'tr -d ''\r'' < test/data/cdnow/CDNOW_sample.txt | awk ''{print $1 "," $2 "," $3 "," $4 "," $5}''' CSV
CREATE TEMP TABLE cdnow_published (customer_id int, x int, t_x float8, "T" float8, zbar float8);
\copy cdnow_published FROM 'test/data/cdnow/cdnow_customers_summary_with_transactions.csv' CSV HEADER
CREATE TEMP TABLE cdnow AS
SELECT customer_id, (rfm_agg(ordered_on, dollars, '1997-09-30')).* FROM cdnow_sample GROUP BY customer_id;

SELECT is((SELECT count(*) FROM cdnow c JOIN cdnow_published p USING (customer_id)
           WHERE c.frequency = p.x AND round(c.recency::numeric, 2) = round(p.t_x::numeric, 2)
             AND round(c.t::numeric, 2) = round(p."T"::numeric, 2)
             AND round(c.monetary_value::numeric, 2) = round(p.zbar::numeric, 2)),
          2357::bigint, 'rfm_agg on CDNOW equals the published summary and zbar, all 2,357 rows');
SELECT is((SELECT sum(total_amount) FROM cdnow),
          (SELECT sum(dollars) FROM cdnow_sample WHERE ordered_on <= '1997-09-30'),
          'total_amount is the exact historic value');
SELECT is((SELECT sum(purchases)::bigint FROM cdnow),
          (SELECT count(*) FROM cdnow_sample WHERE ordered_on <= '1997-09-30'),
          'purchases counts the transactions up to the observation end');

CREATE TEMP TABLE cd AS
SELECT bgnbd_fit(frequency, recency, t) AS bg, mbgnbd_fit(frequency, recency, t) AS mbg,
       gamma_gamma_fit(frequency, monetary_value) AS gg FROM cdnow;
CREATE TEMP VIEW bgp AS SELECT (bgnbd_params(bg)).*, log_likelihood(bg) AS ll, converged(bg) FROM cd;
SELECT ok(abs(r - 0.243) < 0.0005 AND abs(alpha - 4.414) < 0.0005 AND abs(a - 0.793) < 0.0005
          AND abs(b - 2.426) < 0.0005, 'CDNOW BG/NBD: r, alpha, a, b = 0.243, 4.414, 0.793, 2.426') FROM bgp;
SELECT ok(abs(ll - (-9582.43)) < 0.005, 'CDNOW BG/NBD log-likelihood -9582.43 (weeks)') FROM bgp;
SELECT ok(converged, 'CDNOW BG/NBD converges from the default start') FROM bgp;
SELECT is(customers(bg), 2357::bigint, 'customers') FROM cd;
SELECT is(repeat_customers(bg), 946::bigint, 'repeat customers') FROM cd;
SELECT ok(abs(r - 0.525) < 0.0005 AND abs(alpha - 6.183) < 0.0005 AND abs(a - 0.891) < 0.0005
          AND abs(b - 1.614) < 0.0005, 'CDNOW MBG/NBD: 0.525, 6.183, 0.891, 1.614 (lifetimes'' published fit)')
FROM (SELECT (bgnbd_params(mbg)).* FROM cd) q;
SELECT ok(converged(mbg), 'CDNOW MBG/NBD converges') FROM cd;
SELECT ok(abs(p - 6.25) < 0.005 AND abs(q - 3.74) < 0.005 AND abs(v - 15.44) < 0.01,
          'CDNOW Gamma-Gamma: p, q, v = 6.25, 3.74, 15.44')
FROM (SELECT (gamma_gamma_params(gg)).* FROM cd) q;
SELECT is(customers(gg), 946::bigint, 'Gamma-Gamma uses the 946 repeat customers') FROM cd;
-- standard errors: positive, finite, and of the size the information matrix gives
SELECT ok(r > 0 AND alpha > 0 AND a > 0 AND b > 0 AND r < 0.05 AND alpha < 1 AND a < 1 AND b < 2,
          'BG/NBD standard errors are available and plausible')
FROM (SELECT (bgnbd_stderr(bg)).* FROM cd) q;
-- the analytic Hessian's standard errors against lifetimes' BetaGeoFitter summary on CDNOW (its
-- Hessian is numerical): 0.012557, 0.378221, 0.185719, 0.705345, within 0.1 %
SELECT ok(abs(r / 0.012557 - 1) < 1e-3 AND abs(alpha / 0.378221 - 1) < 1e-3 AND abs(a / 0.185719 - 1) < 1e-3
          AND abs(b / 0.705345 - 1) < 1e-3, format('BG/NBD standard errors as lifetimes publishes them: %s', q))
FROM (SELECT (bgnbd_stderr(bg)).* FROM cd) q;
-- the log-likelihood accessor equals the formula evaluated in plain SQL at the fitted parameters
-- (the integer sums written out term by term)
SELECT ok(abs(ll - (SELECT sum(
        coalesce((SELECT sum(ln(r + k) + ln((b + k) / (a + b + k))) FROM generate_series(0, frequency - 1) k), 0)
        + r * ln(alpha)
        + ln(power(alpha + t, -(r + frequency))
             + CASE WHEN frequency > 0 THEN a / (b + frequency - 1) * power(alpha + recency, -(r + frequency)) ELSE 0 END))
      FROM cdnow)) < 1e-6, 'log_likelihood equals the BG/NBD likelihood written in plain SQL')
FROM bgp;

-- ----------------------------------------------------------------------- predictions
CREATE TEMP TABLE pub AS SELECT bgnbd_model(0.243, 4.414, 0.793, 2.426) AS m,
    mbgnbd_model(0.525, 6.183, 0.891, 1.614) AS mm, gamma_gamma_model(6.25, 3.74, 15.44) AS g;
SELECT ok(abs(expected_purchases(m, 39, 2, 30.43, 38.86) - 1.226) < 0.0005,
          'paper: customer (2, 30.43, 38.86) expects 1.226 purchases in 39 weeks') FROM pub;
SELECT ok(abs(expected_purchases(bg, 39, 2, 30.43, 38.86) - 1.226) < 0.001,
          'the same from the fitted model') FROM cd;
SELECT ok(abs(expected_purchases(mm, 39, 2, 30.43, 38.86) - 1.226) < 0.05,
          'MBG/NBD agrees with the BG/NBD prediction (lifetimes'' check)') FROM pub;
SELECT ok(bool_and(abs(expected_purchases(m, t) - e) / e < 0.005),
          'E[X(t)] matches Hardie''s spreadsheet within 0.5 %')
FROM pub, unnest(ARRAY[0.1429, 1, 3, 31.8571, 32, 78]::float8[], ARRAY[0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]::float8[]) AS u(t, e);
SELECT ok(abs(purchase_probability(m, 10, 2) - 1.07869e-07) < 1e-11, 'BTYD: P(X(2) = 10) = 1.07869e-07') FROM pub;
SELECT ok(bool_and(abs(purchase_probability(m, n, 30) - e) < 1e-9), 'BTYD: P(X(30) = n), n = 11..20')
FROM pub, unnest(ARRAY[11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
                 ARRAY[0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                       0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260]::float8[]) AS u(n, e);
SELECT ok(abs(s - 1) < 1e-10, 'BG/NBD purchase probabilities sum to 1')
FROM (SELECT sum(purchase_probability(m, n, 30)) AS s FROM pub, generate_series(0, 3000) n) q;
SELECT ok(abs(s - 1) < 1e-10, 'MBG/NBD purchase probabilities sum to 1')
FROM (SELECT sum(purchase_probability(mm, n, 30)) AS s FROM pub, generate_series(0, 3000) n) q;
SELECT ok(abs(s - expected_purchases(m, 30)) < 1e-8, 'the mean of the BG/NBD distribution is E[X(t)]')
FROM pub, (SELECT sum(n * purchase_probability(m, n, 30)) AS s FROM pub, generate_series(0, 3000) n) q;
SELECT ok(abs(s - expected_purchases(mm, 30)) < 1e-8, 'the mean of the MBG/NBD distribution is E[X(t)]')
FROM pub, (SELECT sum(n * purchase_probability(mm, n, 30)) AS s FROM pub, generate_series(0, 3000) n) q;
SELECT is(p_alive(m, 0, 0, 38), 1::float8, 'BG/NBD: one-time buyers are alive') FROM pub;
SELECT ok(p_alive(mm, 0, 0, 38) < 1 AND p_alive(mm, 0, 0, 38) > 0, 'MBG/NBD: one-time buyers may be dead') FROM pub;
-- P(no purchase) is the likelihood ratio L(x, t_x, T + t) / L(x, t_x, T), and for a one-timer
-- ((alpha + T) / (alpha + T + t))^r
SELECT ok(abs(prob_no_purchase(m, 10, 0, 0, 20) - power(24.414 / 34.414, 0.243)) < 1e-14,
          'P(no purchase) of a one-time buyer') FROM pub;
SELECT ok(abs(prob_no_purchase(m, 13, 3, 10, 30)
              - ((exp(-(0.243 + 3) * ln(4.414 + 43)) + 0.793 / (2.426 + 2) * exp(-(0.243 + 3) * ln(4.414 + 10)))
                 / (exp(-(0.243 + 3) * ln(4.414 + 30)) + 0.793 / (2.426 + 2) * exp(-(0.243 + 3) * ln(4.414 + 10))))) < 1e-12,
          'P(no purchase) of a repeat customer, by hand') FROM pub;
SELECT ok(abs(1 - prob_no_purchase(m, 1e-6, 3, 10, 30) - 1e-6 * p_alive(m, 3, 10, 30) * (0.243 + 3) / (4.414 + 30)) < 1e-10,
          'for a short horizon, 1 - P(no purchase) = t x P(alive) x posterior purchase rate') FROM pub;
SELECT ok(abs(1 - prob_no_purchase(mm, 1e-6, 3, 10, 30) - 1e-6 * p_alive(mm, 3, 10, 30) * (0.525 + 3) / (6.183 + 30)) < 1e-10,
          'MBG/NBD: the same short-horizon identity') FROM pub;
SELECT ok(abs(p_alive(mm, 3, 10, 30) - 1 / (1 + 0.891 / (1.614 + 3) * power((6.183 + 30) / (6.183 + 10), 0.525 + 3))) < 1e-14
          AND abs(p_alive(mm, 0, 0, 30) - 1 / (1 + 0.891 / 1.614 * power((6.183 + 30) / 6.183, 0.525))) < 1e-14,
          'MBG/NBD P(alive) by hand, repeat and one-time buyers') FROM pub;
SELECT ok(abs(expected_purchases(m, 39, 2, 30.43, 38.86)
              - p_alive(m, 2, 30.43, 38.86) * expected_purchases(bgnbd_model(0.243 + 2, 4.414 + 38.86, 0.793, 2.426 + 2), 39)) < 1e-12,
          'E[Y(t) | x, t_x, T] = P(alive) E(t; r + x, alpha + T, a, b + x)') FROM pub;
SELECT is(churn_risk(m, 2, 30.43, 38.86, 39), 'medium', 'churn risk band (P(none) = 0.445)') FROM pub;
SELECT is(churn_risk(m, 0, 0, 38, 4), 'high', 'a one-time buyer is at high risk of no purchase in 4 weeks') FROM pub;
SELECT is(churn_risk(m, 20, 38, 38.5, 39), 'low', 'a frequent recent buyer is at low risk') FROM pub;
SELECT ok(abs(clv(m, g, 2, 30.43, 38.86, 50, 52) - expected_spend(g, 2, 50) * expected_purchases(m, 52, 2, 30.43, 38.86)) < 1e-9,
          'undiscounted CLV = expected spend x expected purchases') FROM pub;
SELECT ok(abs(clv(m, g, 2, 30.43, 38.86, 50, 8, 0.1, 4)
              - expected_spend(g, 2, 50) * (expected_purchases(m, 4, 2, 30.43, 38.86) / 1.1
                + (expected_purchases(m, 8, 2, 30.43, 38.86) - expected_purchases(m, 4, 2, 30.43, 38.86)) / 1.21)) < 1e-9,
          'discounted CLV over two steps, by hand') FROM pub;
SELECT ok(abs(clv(m, g, 2, 30.43, 38.86, 50, 6, 0.1, 4)
              - expected_spend(g, 2, 50) * (expected_purchases(m, 4, 2, 30.43, 38.86) / 1.1
                + (expected_purchases(m, 6, 2, 30.43, 38.86) - expected_purchases(m, 4, 2, 30.43, 38.86)) / 1.21)) < 1e-9,
          'a horizon that is not a multiple of the step ends with a partial step') FROM pub;
SELECT ok(max(abs(v - by_sql) / by_sql) < 1e-12, format('discounted CLV over 104 half-week steps equals the step-by-step sum (max rel. diff %s)', max(abs(v - by_sql) / by_sql)))
FROM (SELECT x, tx, t, min(clv(m, g, x, tx, t, 40, 52, 0.002, 0.5)) AS v,
             sum((expected_purchases(m, least(k * 0.5, 52), x, tx, t) - expected_purchases(m, least((k - 1) * 0.5, 52), x, tx, t))
                 / power(1.002, k)) * min(expected_spend(g, x, 40)) AS by_sql
      FROM pub, (VALUES (1, 2.0, 30.0), (2, 30.43, 38.86), (7, 20.0, 21.0), (40, 35.0, 38.0)) AS c(x, tx, t),
           generate_series(1, 104) AS k
      GROUP BY x, tx, t) q;
SELECT ok(abs(expected_spend(g, 0, 0) - 6.25 * 15.44 / 2.74) < 1e-12, 'frequency 0 gets the population mean spend') FROM pub;
-- The CLV if alive: clv / P(alive), computed without the division.  Independently: a surviving
-- customer is a new customer of the posterior model (r + x, alpha + T, a, b + x), whose CLV with
-- frequency 0 has P(alive) 1 and the population mean spend; rescaled to the customer's spend.
SELECT ok(max(abs(clv_if_alive(m, g, x, tx, t, 40, 52, 0.01, 4.348) * p_alive(m, x, tx, t)
                  - clv(m, g, x, tx, t, 40, 52, 0.01, 4.348)) / clv(m, g, x, tx, t, 40, 52, 0.01, 4.348)) < 1e-13
          AND max(abs(clv_if_alive(mm, g, x, tx, t, 40, 52, 0.01, 4.348) * p_alive(mm, x, tx, t)
                      - clv(mm, g, x, tx, t, 40, 52, 0.01, 4.348)) / clv(mm, g, x, tx, t, 40, 52, 0.01, 4.348)) < 1e-13,
          'clv_if_alive x P(alive) = clv, BG/NBD and MBG/NBD')
FROM pub, (VALUES (0, 0.0, 30.0), (1, 2.0, 30.0), (2, 30.43, 38.86), (7, 20.0, 21.0), (40, 35.0, 38.0)) AS c(x, tx, t);
SELECT ok(max(abs(clv_if_alive(m, g, x, tx, t, 40, 52, 0.01, 4.348)
                  - expected_spend(g, x, 40) / expected_spend(g, 0, 0)
                    * clv(bgnbd_model(0.243 + x, 4.414 + t, 0.793, 2.426 + x), g, 0, 0, 0, 0, 52, 0.01, 4.348))
              / clv_if_alive(m, g, x, tx, t, 40, 52, 0.01, 4.348)) < 1e-12,
          'clv_if_alive = the CLV of a new customer of the posterior model, at the customer''s expected spend')
FROM pub, (VALUES (1, 2.0, 30.0), (2, 30.43, 38.86), (7, 20.0, 21.0), (40, 35.0, 38.0)) AS c(x, tx, t);
-- 200 repeat purchases in the first week, then 499 weeks of silence: P(alive) underflows to 0, the CLV
-- is 0, and clv / P(alive) is NaN; clv_if_alive is still the posterior model's value.
SELECT ok(p_alive(m, 200, 1, 500) < 1e-300 AND clv(m, g, 200, 1, 500, 40, 52, 0.01, 4.348) < 1e-300
          AND abs(clv_if_alive(m, g, 200, 1, 500, 40, 52, 0.01, 4.348)
                  - expected_spend(g, 200, 40) / expected_spend(g, 0, 0)
                    * clv(bgnbd_model(0.243 + 200, 4.414 + 500, 0.793, 2.426 + 200), g, 0, 0, 0, 0, 52, 0.01, 4.348))
              < 1e-12 * clv_if_alive(m, g, 200, 1, 500, 40, 52, 0.01, 4.348),
          'clv_if_alive stays exact where P(alive) underflows (where clv / P(alive) is 0 / 0)') FROM pub;
SELECT throws_ok('SELECT clv_if_alive(bgnbd_model(1, 1, 1, 1), gamma_gamma_model(1, 2, 1), 1, 1, 2, 10, 12, 0, 0)', '22023', NULL,
                 'clv_if_alive: step 0, as clv');


-- ----------------------------------------------------------------------- numerics
SELECT is((SELECT count(*) FROM pub, generate_series(0, 10000, 250) x, unnest(ARRAY[0.5, 10, 38.8]::float8[]) tx
           WHERE NOT (expected_purchases(m, 39, x, CASE WHEN x = 0 THEN 0 ELSE tx END, 38.86) BETWEEN 0 AND 1e6
                      AND p_alive(m, x, CASE WHEN x = 0 THEN 0 ELSE tx END, 38.86) BETWEEN 0 AND 1
                      AND prob_no_purchase(m, 39, x, CASE WHEN x = 0 THEN 0 ELSE tx END, 38.86) BETWEEN 0 AND 1
                      AND expected_purchases(mm, 39, x, CASE WHEN x = 0 THEN 0 ELSE tx END, 38.86) BETWEEN 0 AND 1e6)),
          0::bigint, 'finite predictions in [0, 1] for frequency up to 10,000');
SELECT is((SELECT count(*) FROM unnest(ARRAY[1 - 1e-9, 1, 1 + 1e-15, 1 + 1e-9, 0.999]::float8[]) a,
                               unnest(ARRAY[0.05, 0.3, 2.5]::float8[]) b, unnest(ARRAY[0.1, 39, 1000, 1e5]::float8[]) t
           WHERE NOT (expected_purchases(bgnbd_model(0.5, 4, a, b), t) >= 0
                      AND expected_purchases(bgnbd_model(0.5, 4, a, b), t, 3, 5, 30) >= 0
                      AND expected_purchases(mbgnbd_model(0.5, 4, a, b), t, 3, 5, 30) >= 0)),
          0::bigint, 'finite predictions for a near 1 and a + b < 1');
SELECT ok(abs(expected_purchases(bgnbd_model(0.243, 4.414, 1, 2.426), 39)
              - expected_purchases(bgnbd_model(0.243, 4.414, 1 + 1e-7, 2.426), 39)) < 1e-6,
          'a = 1 is continuous (removable singularity)');
-- a < 1 against the mixture integral E[X(t)] = int (1/p)(1 - (alpha/(alpha + p t))^r) Beta(p; a, b) dp,
-- by the midpoint rule after p = u^(1/a), which turns p^(a-1) dp into du/a; B(0.4, 1.5) = 2.0439411002254895
SELECT ok(abs(expected_purchases(bgnbd_model(0.8, 2, 0.4, 1.5), 10) - s) < 1e-5,
          format('a < 1: E[X(t)] equals the mixture integral (%s)', round(s::numeric, 6)))
FROM (SELECT sum((1 - power(2 / (2 + p * 10), 0.8)) / p * power(1 - p, 0.5)) / 200000 / 0.4 / 2.0439411002254895 AS s
      FROM (SELECT power((g - 0.5) / 200000, 1 / 0.4) AS p FROM generate_series(1, 200000) g) q) q2;
SELECT ok(expected_purchases(m, 1e7, 2, 30.43, 38.86) > expected_purchases(m, 1e5, 2, 30.43, 38.86),
          'very long horizons fall back to quadrature and keep growing') FROM pub;

-- ----------------------------------------------------------------------- simulation
-- 20,000 customers from known parameters: each estimate within 3 standard errors of the truth.
CREATE TEMP TABLE sim AS SELECT * FROM clv_sim.customers(20000, 0.25, 4.0, 0.8, 2.5, p => 6, q => 4, v => 15, seed => 0.42);
CREATE TEMP TABLE simm AS SELECT * FROM clv_sim.customers(20000, 0.5, 6.0, 0.9, 1.6, modified => true, seed => 0.17);
CREATE TEMP TABLE simfit AS
SELECT (SELECT bgnbd_fit(x, t_x, t) FROM sim) AS bg, (SELECT gamma_gamma_fit(x, m) FROM sim) AS gg,
       (SELECT mbgnbd_fit(x, t_x, t) FROM simm) AS mbg;
SELECT ok(abs(e.r - 0.25) < 3 * s.r AND abs(e.alpha - 4) < 3 * s.alpha AND abs(e.a - 0.8) < 3 * s.a
          AND abs(e.b - 2.5) < 3 * s.b, format('BG/NBD recovers (0.25, 4, 0.8, 2.5): %s', bgnbd_params(bg)))
FROM simfit, bgnbd_params(bg) e, bgnbd_stderr(bg) s;
SELECT ok(abs(e.r - 0.5) < 3 * s.r AND abs(e.alpha - 6) < 3 * s.alpha AND abs(e.a - 0.9) < 3 * s.a
          AND abs(e.b - 1.6) < 3 * s.b, format('MBG/NBD recovers (0.5, 6, 0.9, 1.6): %s', bgnbd_params(mbg)))
FROM simfit, bgnbd_params(mbg) e, bgnbd_stderr(mbg) s;
SELECT ok(abs(e.p - 6) < 3 * s.p AND abs(e.q - 4) < 3 * s.q AND abs(e.v - 15) < 3 * s.v,
          format('Gamma-Gamma recovers (6, 4, 15): %s', gamma_gamma_params(gg)))
FROM simfit, gamma_gamma_params(gg) e, gamma_gamma_stderr(gg) s;
SELECT ok(converged(bg) AND converged(mbg) AND converged(gg), 'all simulated fits converge') FROM simfit;
-- the fit is a maximum: the likelihood of the true parameters is lower
SELECT ok(log_likelihood(bg) >= (SELECT log_likelihood(bgnbd_fit(x, t_x, t, 1, 0)) FROM sim),
          'the unpenalized 5-argument form gives the same optimum') FROM simfit;
SELECT ok(r + alpha + a + b < (SELECT r + alpha + a + b FROM bgnbd_params((SELECT bg FROM simfit))),
          'a penalizer shrinks the parameters')
FROM (SELECT (bgnbd_params(bgnbd_fit(x, t_x, t, 1, 0.1))).* FROM sim) q;

-- ----------------------------------------------------------------------- weights, NULLs, empty
SELECT is((SELECT bgnbd_fit(frequency, recency, t, n)::text
           FROM (SELECT frequency, recency, t, count(*) AS n FROM cdnow GROUP BY 1, 2, 3) g),
          (SELECT bg::text FROM cd), 'weighted pre-grouped rows fit exactly the same model as the raw rows');
SELECT is((SELECT gamma_gamma_fit(frequency, monetary_value, n)::text
           FROM (SELECT frequency, monetary_value, count(*) AS n FROM cdnow GROUP BY 1, 2) g),
          (SELECT gg::text FROM cd), 'weighted Gamma-Gamma equals the raw fit');
SELECT is((SELECT bgnbd_fit(x, tx, t)::text FROM (SELECT frequency, recency, t FROM cdnow UNION ALL VALUES (NULL, 1, 1), (1, NULL, 1), (1, 1, NULL)) c(x, tx, t)),
          (SELECT bg::text FROM cd), 'rows with a NULL are skipped');
SELECT ok((SELECT bgnbd_fit(x, tx, t) IS NULL AND mbgnbd_fit(x, tx, t) IS NULL
           FROM (VALUES (1, NULL::float8, 2.0::float8)) v(x, tx, t)), 'only NULL rows: NULL model');
SELECT ok((SELECT gamma_gamma_fit(x, m) IS NULL FROM (VALUES (1, 2.0)) v(x, m) WHERE false), 'no rows: NULL');
SELECT ok((SELECT rfm_agg(d, a, '2024-01-01') IS NULL FROM (VALUES ('2024-02-01'::date, 1.0)) v(d, a)),
          'rfm_agg over only rows after observation_end is NULL');

-- ----------------------------------------------------------------------- parallel = serial
-- regular tables (rolled back): parallel workers cannot read temporary tables
CREATE TABLE ptx AS
SELECT 1 + (hashint4(g) & 65535) % 2000 AS customer_id,
       date '2024-01-01' + (hashint4(g + 1) & 65535) % 366 AS purchased_on,
       ((hashint4(g + 2) & 65535) % 10000)::numeric / 100 AS amount
FROM generate_series(1, 200000) g;
-- 50,000 distinct rows: above 40,000 the fits warm-start on a subsample (see docs/clv.md)
CREATE TABLE psim AS SELECT * FROM clv_sim.customers(50000, 0.25, 4.0, 0.8, 2.5, seed => 0.9);
-- 117,342 distinct rows in continuous time, then 30,000 of them again: beyond 65,536 mostly new
-- rows the histogram appends instead of hashing (see docs/clv.md), and merges the repeats when it sorts
CREATE TABLE pdist AS
SELECT x, CASE WHEN x = 0 THEN 0 ELSE t * (1 + (hashint4(3 * g) & 1023)) / 1025.0 END AS t_x, t,
       CASE WHEN x = 0 THEN 0 ELSE 5 + (hashint4(5 * g) & 4095) / 64.0 END AS m
FROM (SELECT g, CASE WHEN hashint4(g) & 7 < 5 THEN 0 ELSE 1 + (hashint4(7 * g) & 15) END AS x,
             1 + (hashint4(g + 1) & 1048575) / 16384.0 AS t
      FROM generate_series(1, 120000) g) s;
INSERT INTO pdist SELECT * FROM pdist LIMIT 30000;
ANALYZE ptx;
ANALYZE psim;
ANALYZE pdist;
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_rfm AS
SELECT customer_id, rfm_agg(purchased_on, amount, '2024-12-31')::text AS r FROM ptx GROUP BY customer_id;
CREATE TEMP TABLE serial_rfm_1 AS SELECT rfm_agg(purchased_on, amount, '2024-12-31')::text AS r FROM ptx;
CREATE TEMP TABLE serial_fit AS
SELECT bgnbd_fit(x, t_x, t)::text AS bg, mbgnbd_fit(x, t_x, t)::text AS mbg, gamma_gamma_fit(x, m)::text AS gg FROM psim;
CREATE TEMP TABLE serial_dist AS SELECT bgnbd_fit(x, t_x, t)::text AS bg, gamma_gamma_fit(x, m)::text AS gg FROM pdist;
SELECT is((SELECT bgnbd_fit(x, t_x, t, n)::text FROM (SELECT x, t_x, t, count(*) AS n FROM pdist GROUP BY 1, 2, 3) g),
          (SELECT bg FROM serial_dist), 'appended histogram: pre-grouped rows fit exactly the same model as the raw rows');
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
SELECT ok(tap.plan_of('SELECT bgnbd_fit(x, t_x, t) FROM psim') LIKE '%Partial Aggregate%',
          'bgnbd_fit runs partially in workers');
SELECT ok(tap.plan_of($$SELECT customer_id, rfm_agg(purchased_on, amount, '2024-12-31') FROM ptx GROUP BY customer_id$$)
          LIKE '%Partial%Aggregate%', 'grouped rfm_agg runs partially in workers');
SELECT set_eq($$SELECT customer_id, rfm_agg(purchased_on, amount, '2024-12-31')::text FROM ptx GROUP BY customer_id$$,
              'SELECT * FROM serial_rfm', 'parallel grouped rfm_agg equals serial');
SELECT is((SELECT rfm_agg(purchased_on, amount, '2024-12-31')::text FROM ptx), (SELECT r FROM serial_rfm_1),
          'parallel rfm_agg over all rows (days merged from every worker) equals serial');
SELECT is((SELECT bgnbd_fit(x, t_x, t)::text FROM psim), (SELECT bg FROM serial_fit),
          'parallel BG/NBD fit is bit-identical to serial');
SELECT ok(converged(m) AND abs(e.r - 0.25) < 3 * s.r AND abs(e.alpha - 4) < 3 * s.alpha AND abs(e.a - 0.8) < 3 * s.a
          AND abs(e.b - 2.5) < 3 * s.b, format('warm-started fit on 50,000 distinct rows recovers the parameters: %s', e))
FROM (SELECT bg::bgnbd_model AS m FROM serial_fit) q, bgnbd_params(m) e, bgnbd_stderr(m) s;
SELECT is((SELECT mbgnbd_fit(x, t_x, t)::text FROM psim), (SELECT mbg FROM serial_fit),
          'parallel MBG/NBD fit is bit-identical to serial');
SELECT is((SELECT gamma_gamma_fit(x, m)::text FROM psim), (SELECT gg FROM serial_fit),
          'parallel Gamma-Gamma fit is bit-identical to serial');
SELECT is((SELECT bgnbd_fit(x, t_x, t)::text FROM pdist), (SELECT bg FROM serial_dist),
          'parallel BG/NBD fit over mostly distinct rows (appended, merged across workers) is bit-identical to serial');
SELECT is((SELECT gamma_gamma_fit(x, m)::text FROM pdist), (SELECT gg FROM serial_dist),
          'parallel Gamma-Gamma fit over mostly distinct rows is bit-identical to serial');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
-- rfm_agg against plain SQL on the same 200,000 rows
SELECT set_eq($$SELECT customer_id, (r).frequency, (r).recency, (r).t, round((r).monetary_value::numeric, 9),
                       (r).first_purchase, (r).last_purchase, (r).purchases, (r).total_amount
                FROM (SELECT customer_id, rfm_agg(purchased_on, amount, '2024-12-31') AS r FROM ptx GROUP BY 1) q$$,
              $$WITH per AS (SELECT customer_id, purchased_on AS d, sum(amount) AS v, count(*) AS n FROM ptx GROUP BY 1, 2),
                     ranked AS (SELECT per.*, row_number() OVER (PARTITION BY customer_id ORDER BY d) AS k FROM per)
                SELECT customer_id, (count(*) - 1)::int AS f, ((max(d) - min(d)) / 7.0)::float8 AS r, (('2024-12-31' - min(d)) / 7.0)::float8 AS t,
                       round(coalesce(avg(v) FILTER (WHERE k > 1), 0), 9) AS m, min(d), max(d), sum(n) AS n, sum(v) AS v
                FROM ranked GROUP BY customer_id$$,
              'rfm_agg equals the plain-SQL RFM on 200,000 transactions');

-- ----------------------------------------------------------------------- text and binary I/O
CREATE TEMP TABLE models AS
SELECT bg, mbg, gg, bgnbd_model(0.243, 4.414, 0.793, 2.426) AS bg0, mbgnbd_model(1, 2, 3, 4) AS mbg0,
       gamma_gamma_model(6.25, 3.74, 15.44) AS gg0 FROM cd;
SELECT ok(bg::text::bgnbd_model = bg AND mbg::text::mbgnbd_model = mbg AND gg::text::gamma_gamma_model = gg
          AND bg0::text::bgnbd_model = bg0 AND gg0::text::gamma_gamma_model = gg0, 'text round trips are exact')
FROM models;
SELECT is(bgnbd_params(bg::text::bgnbd_model)::text, bgnbd_params(bg)::text, 'parameters survive the text form to the last bit')
FROM models;
SELECT lives_ok(format('COPY models TO %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_models.bin'), 'COPY TO binary');
CREATE TEMP TABLE models2 (LIKE models);
SELECT lives_ok(format('COPY models2 FROM %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_models.bin'), 'COPY FROM binary');
SELECT ok((SELECT bool_and(a.bg = b.bg AND a.mbg = b.mbg AND a.gg = b.gg AND a.bg0 = b.bg0 AND a.mbg0 = b.mbg0 AND a.gg0 = b.gg0)
           FROM models a, models2 b), 'binary round trips give equal models');
SELECT is((SELECT count(*)::int FROM (SELECT DISTINCT m FROM (SELECT bg AS m FROM models UNION ALL SELECT bg FROM models
            UNION ALL SELECT bg0 FROM models) q) d), 2, 'models hash: DISTINCT over model values');
SELECT ok(bg <> bg0 AND NOT (bg <> bg) AND gg <> gg0 AND mbg <> mbg0, '<> on models') FROM models;
SELECT is(length(bgnbd_model_send(bg0)), 34, 'a constructed BG/NBD model is 34 bytes on the wire') FROM models;
SELECT is(length(bgnbd_model_send(bg)), 111, 'a fitted one 111 bytes') FROM models;

SELECT throws_ok(format('SELECT %L::bgnbd_model', lit), '22P02', NULL, 'text: ' || why)
FROM (VALUES
    ('', 'empty'),
    ('(v1,r=1,alpha=2,a=3,b=4', 'unterminated'),
    ('(v1,r=1,alpha=2,a=3,b=4)x', 'trailing characters'),
    ('(v1,r=1,alpha=2,a=3,b=4,c=5)', 'unknown field'),
    ('(v1,r=1,alpha=x,a=3,b=4)', 'not a number'),
    ('(v1,r=1,alpha=2,a=3,b=NaN)', 'NaN parameter'),
    ('(v1,r=1,alpha=2,a=-3,b=4)', 'negative parameter'),
    ('(v1,r=1,alpha=Infinity,a=3,b=4)', 'infinite parameter'),
    ('(v1,r=1,alpha=2,a=3,b=4,customers=0,repeaters=0,ll=-1,se_r=1,se_alpha=1,se_a=1,se_b=1,converged=true,iterations=1,grad_norm=0,penalizer=0)', 'no customers'),
    ('(v1,r=1,alpha=2,a=3,b=4,customers=1,repeaters=2,ll=-1,se_r=1,se_alpha=1,se_a=1,se_b=1,converged=true,iterations=1,grad_norm=0,penalizer=0)', 'repeaters > customers'),
    ('(v1,r=1,alpha=2,a=3,b=4,customers=2,repeaters=1,ll=NaN,se_r=1,se_alpha=1,se_a=1,se_b=1,converged=true,iterations=1,grad_norm=0,penalizer=0)', 'NaN log-likelihood'),
    ('(v1,r=1,alpha=2,a=3,b=4,customers=2,repeaters=1,ll=-1,se_r=-1,se_alpha=1,se_a=1,se_b=1,converged=true,iterations=1,grad_norm=0,penalizer=0)', 'negative SE'),
    ('(v1,r=1,alpha=2,a=3,b=4,customers=2,repeaters=1,ll=-1,se_r=1,se_alpha=1,se_a=1,se_b=1,converged=yes,iterations=1,grad_norm=0,penalizer=0)', 'converged not a boolean'),
    ('(v1,r=1,alpha=2,a=3,b=4,customers=2,repeaters=1,ll=-1,se_r=1,se_alpha=1,se_a=1,se_b=1,converged=true,iterations=1,grad_norm=0,penalizer=-1)', 'negative penalizer'),
    ('(v1,p=1,q=2,v=3)', 'Gamma-Gamma literal as BG/NBD')
) AS bad(lit, why);
SELECT ok('(v1,r=1,alpha=2,a=3,b=4,customers=2,repeaters=1,ll=-1,se_r=NaN,se_alpha=1,se_a=1,se_b=1,converged=false,iterations=1,grad_norm=0,penalizer=0)'::bgnbd_model IS NOT NULL,
          'a fitted literal with an unavailable (NaN) standard error is valid');

CREATE TEMP TABLE bin_m (m bgnbd_model);
CREATE TEMP VIEW good AS SELECT bgnbd_model_send(bg) AS b, bgnbd_model_send(bg0) AS b0 FROM models;
SELECT lives_ok(format('COPY bin_m FROM %L (FORMAT binary)', tap.binary_copy_file(b)), 'a crafted fitted binary value loads') FROM good;
SELECT lives_ok(format('COPY bin_m FROM %L (FORMAT binary)', tap.binary_copy_file(b0)), 'a crafted constructed binary value loads') FROM good;
SELECT throws_ok(format('COPY bin_m FROM %L (FORMAT binary)', tap.binary_copy_file(payload)), '22P03', NULL, 'binary: ' || why)
FROM good, LATERAL (VALUES
    ('\x'::bytea, 'empty'),
    (set_byte(b, 0, 2), 'version 2'),
    (set_byte(b, 1, 2), 'fitted flag 2'),
    (set_byte(b0, 1, 1), 'constructed body with the fitted flag'),
    (substr(b, 1, length(b) - 1), 'truncated'),
    (b0 || '\x00'::bytea, 'one byte too many'),
    (set_byte(b, 2, 7), 'converged flag 7'),
    (overlay(b placing int8send(0) from 8 for 8), 'no customers'),
    (overlay(b placing int8send(5000) from 16 for 8), 'repeaters > customers'),
    (overlay(b0 placing float8send(-1) from 3 for 8), 'negative parameter'),
    (overlay(b0 placing float8send('NaN') from 11 for 8), 'NaN parameter'),
    (overlay(b placing float8send('Infinity') from 88 for 8), 'infinite log-likelihood'),
    (overlay(b placing float8send(-0.5) from 56 for 8), 'negative standard error')
) AS bad(payload, why);
SELECT is((SELECT count(*) FROM bin_m), 2::bigint, 'only the valid binary values were stored');

-- ----------------------------------------------------------------------- errors
SELECT throws_ok('SELECT clv(-1, 2, 3)', '22003', NULL, 'simple clv: negative input');
SELECT throws_ok($$SELECT clv(1, 'Infinity', 3)$$, '22003', NULL, 'simple clv: infinite input');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t) FROM (VALUES (1, 5.0, 4.0)) v(x, tx, t)', '22023',
                 'invalid RFM row: recency 5 exceeds t 4', 'recency > t');
SELECT throws_ok('SELECT mbgnbd_fit(x, tx, t) FROM (VALUES (0, 1.0, 4.0)) v(x, tx, t)', '22023',
                 'invalid RFM row: frequency = 0 with recency = 1', 'recency != 0 with frequency 0');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t) FROM (VALUES (2, 0.0, 4.0)) v(x, tx, t)', '22023', NULL,
                 'recency 0 with repeat purchases');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t) FROM (VALUES (-1, 0.0, 4.0)) v(x, tx, t)', '22003', NULL, 'negative frequency');
SELECT throws_ok($$SELECT bgnbd_fit(x, tx, t) FROM (VALUES (1, 1.0, 'Infinity'::float8)) v(x, tx, t)$$, '22003', NULL, 'infinite t');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t, 0) FROM (VALUES (1, 1.0, 4.0)) v(x, tx, t)', '22023', NULL, 'weight 0');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t, 1, -0.1) FROM (VALUES (1, 1.0, 4.0)) v(x, tx, t)', '22023', NULL, 'negative penalizer');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t, 1, p) FROM (VALUES (1, 1.0, 4.0, 0.1), (0, 0.0, 3.0, 0.2)) v(x, tx, t, p)', '22023', NULL,
                 'penalizer changing within a group');
SELECT throws_ok('SELECT bgnbd_fit(x, tx, t) FROM (VALUES (0, 0.0, 4.0)) v(x, tx, t)', '22023', NULL, 'no repeat customers');
SELECT throws_ok('SELECT gamma_gamma_fit(x, m) FROM (VALUES (0, 0.0)) v(x, m)', '22023', NULL, 'Gamma-Gamma without repeat customers');
SELECT throws_ok('SELECT gamma_gamma_fit(x, m) FROM (VALUES (3, 0.0)) v(x, m)', '22023',
                 'invalid spend row: monetary_value = 0 with frequency = 3', 'monetary_value 0 with repeats');
SELECT throws_ok('SELECT gamma_gamma_fit(x, m) FROM (VALUES (3, -2.0)) v(x, m)', '22003', NULL, 'negative monetary_value');
SELECT throws_ok('SELECT expected_spend(gamma_gamma_model(2, 1, 10), 3, 10)', '22023',
                 'gamma_gamma_model with q = 1 has no finite mean spend', 'q <= 1: clear error from expected_spend');
SELECT throws_ok('SELECT bgnbd_model(0, 1, 1, 1)', '22023', NULL, 'constructor: zero parameter');
SELECT throws_ok($$SELECT mbgnbd_model(1, 1, 'NaN', 1)$$, '22023', NULL, 'constructor: NaN parameter');
SELECT throws_ok('SELECT gamma_gamma_model(1, 1, -1)', '22023', NULL, 'constructor: negative parameter');
SELECT throws_ok('SELECT p_alive(bgnbd_model(1, 1, 1, 1), 2, 5, 4)', '22023', NULL, 'prediction: recency > t');
SELECT throws_ok('SELECT expected_purchases(bgnbd_model(1, 1, 1, 1), -1)', '22023', NULL, 'negative horizon');
SELECT throws_ok('SELECT purchase_probability(bgnbd_model(1, 1, 1, 1), -1, 2)', '22023', NULL, 'negative purchase count');
SELECT throws_ok('SELECT clv(bgnbd_model(1, 1, 1, 1), gamma_gamma_model(1, 2, 1), 1, 1, 2, 10, 12, 0, 0)', '22023', NULL, 'clv: step 0');
SELECT throws_ok('SELECT clv(bgnbd_model(1, 1, 1, 1), gamma_gamma_model(1, 2, 1), 1, 1, 2, 10, 12, -1)', '22023', NULL, 'clv: discount rate -1');
SELECT throws_ok('SELECT clv(bgnbd_model(1, 1, 1, 1), gamma_gamma_model(1, 2, 1), 1, 1, 2, 10, 1e9, 0, 1)', '22023', NULL, 'clv: too many steps');
SELECT throws_ok($$SELECT rfm_agg(d, 1, '2024-01-01', -7) FROM (VALUES ('2023-01-01'::date)) v(d)$$, '22023', NULL, 'rfm_agg: negative unit_days');
SELECT throws_ok($$SELECT rfm_agg(d, 'NaN', '2024-01-01') FROM (VALUES ('2023-01-01'::date)) v(d)$$, '22003', NULL, 'rfm_agg: NaN amount');
SELECT throws_ok($$SELECT rfm_agg(d, 1, 'infinity') FROM (VALUES ('2023-01-01'::date)) v(d)$$, '22023', NULL, 'rfm_agg: infinite observation_end');
SELECT throws_ok($$SELECT rfm_agg('2023-01-01'::date, 1, e) FROM (VALUES ('2024-01-01'::date), ('2024-01-02')) v(e)$$, '22023', NULL,
                 'rfm_agg: observation_end changing within a group');

-- ----------------------------------------------------------------------- review 5: hard regimes
-- True values from mpmath (80 digits: the hypergeometric formula and the mixture integral).
CREATE TEMP TABLE near (label text, got float8, want float8, rtol float8);
INSERT INTO near VALUES
 ('a = 1e4, b = 0.6255a', expected_purchases(bgnbd_model(0.632, 2.0, 1e4, 6255), 52), 1.3542580430, 1e-8),
 ('a = 1e6 (fixed-p limit regime)', expected_purchases(bgnbd_model(0.632, 2.0, 1e6, 625500), 52), 1.3542173, 1e-6),
 ('a = 1e7', expected_purchases(bgnbd_model(0.632, 2.0, 1e7, 6.255e6), 52), 1.3542170, 1e-6),
 ('a = 1e7, conditional', expected_purchases(bgnbd_model(0.632, 2.0, 1e7, 6.255e6), 52, 2, 10, 20), 0.16578497, 1e-6),
 ('r = 100 >> a + b - 1', expected_purchases(bgnbd_model(100, 10, 0.5, 2), 52), 57.61002847116, 1e-9),
 ('r = 300, conditional, tiny P(alive)', expected_purchases(bgnbd_model(300, 30, 0.5, 2), 52, 3, 20, 30), 5.068870011e-22, 1e-7),
 ('large a, b, long horizon', expected_purchases(bgnbd_model(0.0749, 0.4948, 98.89, 219.15), 694.44), 1.1831997341359, 1e-9),
 ('t / alpha = 1e8 (quadrature)', expected_purchases(bgnbd_model(0.243, 0.01, 0.793, 2.426), 1e6), 214.7051752424591, 1e-9),
 ('clv with r = 100', clv(bgnbd_model(100, 10, 0.5, 2), gamma_gamma_model(6.25, 3.74, 15.44), 0, 0, 30, 0, 52), 964.746, 1e-5),
 ('MBG/NBD, a = 1e6', expected_purchases(mbgnbd_model(0.632, 2.0, 1e6, 625500), 52) / expected_purchases(bgnbd_model(0.632, 2.0, 1e6, 625501), 52),
   625500.0 / 1625500, 1e-9);
SELECT ok(got >= 0 AND abs(got - want) <= rtol * want, 'expected purchases, hard regime: ' || label || ' (got ' || got || ', want ' || want || ')')
FROM near ORDER BY label;

-- clv()'s multi-horizon series (and its fallbacks) equals the discounted sum of single predictions
SELECT ok(abs(c - s) <= 1e-9 * s, 'clv with discounting, hard regime (' || label || '): steps agree with single predictions')
FROM (SELECT label, clv(m, g, x, tx, tt, 20, 52, 0.01, 4) c,
             expected_spend(g, x, 20) * (SELECT sum((expected_purchases(m, k * 4.0, x, tx, tt) - expected_purchases(m, (k - 1) * 4.0, x, tx, tt)) / 1.01 ^ k)
                                         FROM generate_series(1, 13) k) s
      FROM (VALUES ('r = 100', bgnbd_model(100, 10, 0.5, 2), 1, 3.0, 30.0),
                   ('a, b ~ 1e7', bgnbd_model(0.632, 2.0, 1e7, 6.255e6), 2, 10.0, 20.0),
                   ('t / alpha up to 5e3', bgnbd_model(0.243, 0.01, 0.793, 2.426), 0, 0.0, 0.0)) v(label, m, x, tx, tt),
           (SELECT gamma_gamma_model(6.25, 3.74, 15.44) g) gg) q;
SELECT is((SELECT rfm_agg(d, i::numeric, '2200-01-01', 1) FROM (SELECT i, date '2000-01-01' + (i * 7919) % 5000 AS d FROM generate_series(1, 20000) i ORDER BY d DESC) s),
          (SELECT rfm_agg(d, i::numeric, '2200-01-01', 1) FROM (SELECT i, date '2000-01-01' + (i * 7919) % 5000 AS d FROM generate_series(1, 20000) i ORDER BY d) s),
          'rfm_agg: descending and scattered day orders give the ascending result');
SELECT ok(purchase_probability(bgnbd_model(0.243, 4.414, 0.793, 2.426), 85, 0.001) BETWEEN 0 AND 1e-300,
          'purchase_probability: an underflowing tail is ~0, not an error');
SET LOCAL statement_timeout = '30s';
SELECT ok(clv(bgnbd_model(0.243, 0.05, 0.793, 2.426), gamma_gamma_model(6.25, 3.74, 15.44), 0, 0, 0, 0, 99999, 0.001, 1) > 0,
          'clv over 99,999 steps with t/alpha up to 2e6 finishes (truncated once the discounted rest is negligible)');
SELECT is(clv(bgnbd_model(0.243, 0.05, 0.793, 2.426), gamma_gamma_model(6.25, 3.74, 15.44), 0, 0, 0, 0, 99999, 0, 1),
          expected_spend(gamma_gamma_model(6.25, 3.74, 15.44), 0, 0) * expected_purchases(bgnbd_model(0.243, 0.05, 0.793, 2.426), 99999, 0, 0, 0),
          'clv without discounting telescopes to spend x expected purchases');
RESET statement_timeout;
SELECT throws_ok('SELECT clv(bgnbd_model(0.243, 4.414, 0.793, 2.426), gamma_gamma_model(6.25, 3.74, 15.44), 2, 30.43, 38.86, 50, 5000, -0.9, 1)',
                 '22003', NULL, 'clv: a negative discount rate that overflows raises 22003, not Infinity');
SELECT ok(clv(bgnbd_model(0.243, 4.414, 0.793, 2.426), gamma_gamma_model(6.25, 3.74, 15.44), 2, 30.43, 38.86, 50, 52, -0.001, 1)
          > clv(bgnbd_model(0.243, 4.414, 0.793, 2.426), gamma_gamma_model(6.25, 3.74, 15.44), 2, 30.43, 38.86, 50, 52, 0, 1),
          'clv: a small negative discount rate is allowed and weights the future up');
SELECT ok(abs(expected_spend(gamma_gamma_model(6, 3, 15), 2147483647, 1e308) / 1e308 - 1) < 1e-9,
          'expected_spend: no overflow in intermediate steps (frequency 2^31-1, monetary value 1e308)');
SELECT throws_ok('SELECT expected_spend(gamma_gamma_model(6, 3, 15), 1, -5)', '22003', NULL,
                 'expected_spend: negative monetary value is 22003, as in gamma_gamma_fit');
SELECT throws_ok('SELECT expected_spend(gamma_gamma_model(6, 3, 15), 1, 0)', '22023', NULL,
                 'expected_spend: monetary value 0 with frequency > 0 is 22023, as in gamma_gamma_fit');
SELECT throws_ok($$SELECT rfm_agg(d, 10, '2020-12-31', 1e-320) FROM (VALUES ('2020-01-01'::date), ('2020-02-01')) v(d)$$,
                 '22003', NULL, 'rfm_agg: a unit_days that makes times infinite raises 22003');
SELECT lives_ok($$SELECT gamma_gamma_fit(x, m)::text::gamma_gamma_model
                  FROM (SELECT (i % 5) + 1 x, (1e300 * (1 + i % 7))::float8 m FROM generate_series(1, 100) i) s$$,
                'a Gamma-Gamma fit on values near 1e300 reads back from text (non-finite SE as NaN)');
SELECT throws_ok($$SELECT gamma_gamma_fit(x, m)
                  FROM (SELECT (i % 5) + 1 x, (1e307 * (1 + i % 7))::float8 m FROM generate_series(1, 100) i) s$$,
                 '22003', NULL, 'a Gamma-Gamma fit whose v overflows raises 22003');
SELECT lives_ok($$SELECT bgnbd_fit(x, CASE WHEN x = 0 THEN 0 ELSE tx * 1e300 END, tt * 1e300)::text::bgnbd_model
                  FROM (SELECT i % 3 x, 1 + i % 5 tx, 10 + i % 4 tt FROM generate_series(1, 100) i) s$$,
                'a BG/NBD fit on times near 1e300 reads back from text');
SELECT ok(expected_purchases(m, 52e300) BETWEEN 1.3 AND 1.4, 'the weakly identified fit (a, b ~ 1e7) predicts the fixed-p value, not 0')
FROM (SELECT bgnbd_fit(x, CASE WHEN x = 0 THEN 0 ELSE tx * 1e300 END, tt * 1e300) m
      FROM (SELECT i % 3 x, 1 + i % 5 tx, 10 + i % 4 tt FROM generate_series(1, 100) i) s) q;
SELECT is(bgnbd_model(1, 1e-310, 3, 4)::text::bgnbd_model, bgnbd_model(1, 1e-310, 3, 4), 'subnormal parameters read back from text');
SELECT throws_ok($$SELECT '(v1,r=0x10,alpha=1,a=1,b=1)'::bgnbd_model$$, '22P02', NULL, 'text input rejects hexadecimal floats');
SELECT is('(v1,r=1,alpha=1,a=1,b=1,customers=1,repeaters=1,ll=-1,se_r=NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=0,penalizer=-0)'::bgnbd_model,
          '(v1,r=1,alpha=1,a=1,b=1,customers=1,repeaters=1,ll=-1,se_r=NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=0,penalizer=0)'::bgnbd_model,
          'penalizer -0 reads as 0 (equal and same hash)');
SELECT throws_ok($$SELECT '(v1,r=1e309,alpha=1,a=1,b=1)'::bgnbd_model$$, '22P02', NULL, 'text input: overflow is still out of range');
-- no negative, NaN or infinite expectation over a grid of extreme parameters
SELECT is((SELECT count(*) FROM
            (SELECT expected_purchases(bgnbd_model(r, al, a, a * 0.7), h, x, CASE WHEN x = 0 THEN 0 ELSE 5 END, 10) v
             FROM unnest(ARRAY[0.01, 1, 50, 300]) r, unnest(ARRAY[0.01, 1, 100]) al,
                  unnest(ARRAY[0.01, 0.5, 1, 1e3, 1e6]) a, unnest(ARRAY[0.1, 52, 1e5]) h, unnest(ARRAY[0, 3, 1000]) x) q
           WHERE NOT (v >= 0 AND v < 'Infinity')), 0::bigint,
          'expected purchases are finite and non-negative over a grid of extreme parameters');

-- ----------------------------------------------------------------------- hostile input (issue 15)
-- item 6: predictions that were NaN.  Hand-worked: P(alive) = 1 / (1 + a / (b + x - 1)
-- ((alpha + T) / (alpha + t_x))^(r + x)), P(no purchase in t) = 1 - P(alive) (1 - ((alpha + T) /
-- (alpha + T + t))^(r + x)).
SELECT is(round(prob_no_purchase(bgnbd_model(1, 1, 1e-300, 1e-300), 10, 1, 10, 20)::numeric, 12),
          round(1 - (1 / (1 + (21.0 / 11) ^ 2)) * (1 - (21.0 / 31) ^ 2), 12),
          'prob_no_purchase with a = b = 1e-300: b + x - 1 is b, not 0 (was NaN)');
SELECT is(churn_risk(bgnbd_model(1, 1, 1e-300, 1e-300), 1, 10, 20, 10), 'high',
          'churn_risk of that customer: high from the probability 0.88, not from NaN');
SELECT is(p_alive(bgnbd_model(5e-324, 1e308, 5e-324, 1e308), 2147483647, 1e308, 1e308), 1::float8,
          'p_alive where alpha + t_x overflows: ln((alpha + T) / (alpha + t_x)) = 0, not inf - inf (was NaN)');
SELECT is(p_alive(mbgnbd_model(5e-324, 1e308, 5e-324, 1e308), 2147483647, 1e308, 1e308), 1::float8,
          'the same for MBG/NBD');
SELECT is(round(p_alive(bgnbd_model(1, 1e308, 1, 1), 1, 1e308, 1.5e308)::numeric, 12), round(1 / (1 + 1.25 ^ 2), 12),
          'p_alive where alpha + T and alpha + t_x overflow: the ratio 1.25 still counts');
SELECT is(round(prob_no_purchase(bgnbd_model(1, 1e308, 1, 1), 1e308, 1, 1e308, 1.5e308)::numeric, 12),
          round(1 - (1 / (1 + 1.25 ^ 2)) * (1 - (2.5 / 3.5) ^ 2), 12),
          'prob_no_purchase where every sum overflows');
SELECT is(round(expected_spend(gamma_gamma_model(1e308, 2, 1), 10, 5)::numeric, 9), 5.1,
          'expected_spend where p x overflows: the shrinkage weight is 1 (was inf / inf)');
SELECT is(round(purchase_probability(bgnbd_model(1, 1e308, 1, 1), 1, 1e308)::numeric, 12), 0.375,
          'purchase_probability where alpha + t overflows: z = 1/2, not 0 (B(1,2)/B(1,1) 1/4 + B(2,1)/B(1,1) 1/2)');
SELECT throws_ok('SELECT expected_purchases(bgnbd_model(1, 1e308, 1, 1), 10, 1, 1e308, 1e308)', '22003', NULL,
                 'expected purchases with alpha + T beyond double precision: 22003, not NaN');

-- every prediction of both purchase models (and spend, and CLV) over extreme parameters and
-- customers: a finite value in its range, or 22003 / 22023, never NaN or another error
CREATE TEMP TABLE sweep_bad (call text, outcome text);
DO $$
DECLARE
    vals float8[] := ARRAY[5e-324, 1e-300, 1e-8, 0.5, 1, 3, 1e8, 1e300, 1.7976931348623157e308];
    xs integer[] := ARRAY[0, 1, 2, 1000, 2147483647];
    fr float8[] := ARRAY[1e-10, 0.5, 1];
    m text; g text; x integer; tx float8; T float8; h float8; call text; res float8; hi float8;
BEGIN
    PERFORM setseed(0.15);
    FOR i IN 1 .. 400 LOOP
        m := format('%s(%s, %s, %s, %s)', (ARRAY['bgnbd_model', 'mbgnbd_model'])[1 + i % 2],
                    vals[1 + floor(random() * 9)::int], vals[1 + floor(random() * 9)::int],
                    vals[1 + floor(random() * 9)::int], vals[1 + floor(random() * 9)::int]);
        g := format('gamma_gamma_model(%s, %s, %s)', vals[1 + floor(random() * 9)::int],
                    vals[1 + floor(random() * 9)::int], vals[1 + floor(random() * 9)::int]);
        x := xs[1 + floor(random() * 5)::int];
        T := (ARRAY[0] || vals)[1 + floor(random() * 10)::int];
        tx := CASE WHEN x = 0 THEN 0 WHEN T < 1e-290 THEN T ELSE T * fr[1 + floor(random() * 3)::int] END;
        IF x > 0 AND tx = 0 THEN tx := T; END IF;
        IF x > 0 AND tx = 0 THEN x := 0; END IF;
        h := (ARRAY[0] || vals)[1 + floor(random() * 10)::int];
        FOREACH call IN ARRAY ARRAY[
            format('p_alive(%s, %s, %s, %s)|1', m, x, tx, T),
            format('prob_no_purchase(%s, %s, %s, %s, %s)|1', m, h, x, tx, T),
            format('expected_purchases(%s, %s, %s, %s, %s)|inf', m, h, x, tx, T),
            format('expected_purchases(%s, %s)|inf', m, h),
            format('purchase_probability(%s, %s, %s)|1', m, least(x, 5000), h),
            format('expected_spend(%s, %s, %s)|inf', g, x, h),
            format('clv(%s, %s, %s, %s, %s, %s, %s, 0.01, %s)|inf', m, g, x, tx, T, h, least(h, 1000), greatest(h, 1000) / 1000),
            format('CASE churn_risk(%s, %s, %s, %s, %s) WHEN ''low'' THEN 0 WHEN ''medium'' THEN 0.5 WHEN ''high'' THEN 1 END|1', m, x, tx, T, h)]
        LOOP
            hi := CASE WHEN split_part(call, '|', 2) = '1' THEN 1 ELSE 'Infinity'::float8 END;
            BEGIN
                EXECUTE 'SELECT ' || split_part(call, '|', 1) INTO res;
                IF NOT (res >= 0 AND res <= hi AND res < 'Infinity') THEN
                    INSERT INTO sweep_bad VALUES (split_part(call, '|', 1), 'returned ' || res);
                END IF;
            EXCEPTION WHEN OTHERS THEN
                IF SQLSTATE NOT IN ('22003', '22023') THEN
                    INSERT INTO sweep_bad VALUES (split_part(call, '|', 1), SQLSTATE || ' ' || SQLERRM);
                END IF;
            END;
        END LOOP;
    END LOOP;
END $$;
SELECT is((SELECT count(*) FROM sweep_bad), 0::bigint,
          'every prediction over 400 extreme models and customers is a number in range or 22003/22023');
SELECT diag(call || ': ' || outcome) FROM sweep_bad LIMIT 10;

-- item 7: -NaN and NaN payloads in text are the one NaN (equal, same text and hash)
SELECT ok(a = b AND a::text = b::text AND bgnbd_model_hash(a) = bgnbd_model_hash(b)
          AND bgnbd_model_send(a) = bgnbd_model_send(b), 'bgnbd_model: se = ' || n || ' is the one NaN')
FROM (SELECT format('(v1,r=1,alpha=1,a=1,b=1,customers=1,repeaters=0,ll=-1,se_r=%s,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=%s,penalizer=0)', n, n)::bgnbd_model AS a,
             '(v1,r=1,alpha=1,a=1,b=1,customers=1,repeaters=0,ll=-1,se_r=NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=NaN,penalizer=0)'::bgnbd_model AS b, n
      FROM unnest(ARRAY['-NaN', 'nan', 'NAN(123)']) AS n) q;
SELECT ok(a = a::text::mbgnbd_model AND mbgnbd_model_hash(a) = mbgnbd_model_hash(a::text::mbgnbd_model), 'mbgnbd_model: -NaN reads as NaN')
FROM (SELECT '(v1,r=1,alpha=1,a=1,b=1,customers=1,repeaters=0,ll=-1,se_r=-NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=-NaN,penalizer=0)'::mbgnbd_model AS a) q;
SELECT ok(a = a::text::gamma_gamma_model AND gamma_gamma_model_hash(a) = gamma_gamma_model_hash(a::text::gamma_gamma_model),
          'gamma_gamma_model: -NaN reads as NaN')
FROM (SELECT '(v1,p=1,q=2,v=3,customers=1,repeaters=1,ll=-1,se_p=-NaN,se_q=NaN,se_v=-NaN,converged=false,iterations=0,grad_norm=NaN,penalizer=0)'::gamma_gamma_model AS a) q;
-- item 9: integers of the text form have one spelling
SELECT throws_ok(format('SELECT %L::bgnbd_model', lit), '22P02', NULL, 'text: ' || why)
FROM (VALUES
    ('(v1,r=1,alpha=1,a=1,b=1,customers=007,repeaters=0,ll=-1,se_r=NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=NaN,penalizer=0)', 'customers with leading zeros'),
    ('(v1,r=1,alpha=1,a=1,b=1,customers=1,repeaters=-0,ll=-1,se_r=NaN,se_alpha=NaN,se_a=NaN,se_b=NaN,converged=true,iterations=1,grad_norm=NaN,penalizer=0)', 'repeaters -0'),
    ('(v01,r=1,alpha=1,a=1,b=1)', 'version 01')
) AS bad(lit, why);
SELECT is('(v1,r=0.50,alpha=2e0,a=3.000,b=0.4e1)'::bgnbd_model::text, '(v1,r=0.5,alpha=2,a=3,b=4)',
          'doubles in any decimal spelling are normalised to the shortest one');

-- ----------------------------------------------------------------------- non-convergence
SELECT ok(NOT converged(m), 'a degenerate input (one customer) reports converged = false, not a silent model')
FROM (SELECT bgnbd_fit(x, tx, t) AS m FROM (VALUES (1, 1.0, 1.0)) v(x, tx, t)) q;

SELECT * FROM finish();
ROLLBACK;
