-- cxkpi demo: survey KPIs by channel from a generated dataset, then CLV on simulated customers.
CREATE EXTENSION cxkpi;

\echo
\echo 'Generating 60,000 survey responses over 2026 (store, web, app, phone) ...'
-- Each channel has its own score distribution; hashint8 makes the data deterministic.
CREATE TABLE survey_response AS
WITH r AS (
    SELECT g, (ARRAY['store', 'web', 'app', 'phone'])[1 + (hashint8(g) & 3)] AS channel,
           (hashint8(g * 31 + 1) & 1048575) / 1048576.0 AS u1,
           (hashint8(g * 31 + 2) & 1048575) / 1048576.0 AS u2,
           (hashint8(g * 31 + 3) & 1048575) / 1048576.0 AS u3
    FROM generate_series(1, 60000) g)
SELECT g AS id, channel,
       timestamptz '2026-01-01' + (g % 365) * interval '1 day' + (g % 1440) * interval '1 minute' AS answered_at,
       -- NPS 0..10: a channel-specific lean towards the top of the scale
       least(10, greatest(0, round(10 * power(u1, CASE channel WHEN 'store' THEN 0.17 WHEN 'web' THEN 0.22
                                                          WHEN 'app' THEN 0.28 ELSE 0.24 END))))::int AS nps_score,
       -- CSAT 1..5, CES 1..7, with some unanswered (NULL) questions
       CASE WHEN u3 < 0.05 THEN NULL
            ELSE least(5, 1 + floor(5 * power(u2, CASE channel WHEN 'store' THEN 0.3 WHEN 'web' THEN 0.37
                                                             WHEN 'app' THEN 0.45 ELSE 0.38 END)))::int END AS csat_score,
       CASE WHEN u3 > 0.9 THEN NULL
            ELSE least(7, 1 + floor(7 * power(u3 / 0.9, CASE channel WHEN 'phone' THEN 0.9 ELSE 0.6 END)))::int END AS ces_score
FROM r;

\echo
\echo 'Net Promoter Score by channel (adjusted-Wald 95 % interval, in points):'
SELECT channel,
       responses(s) AS responses,
       round(promoter_pct(s)::numeric, 1) AS "promoters %",
       round(detractor_pct(s)::numeric, 1) AS "detractors %",
       round(nps(s)::numeric, 1) AS nps,
       format('[%s, %s]', round(nps_ci_lower(s)::numeric, 1), round(nps_ci_upper(s)::numeric, 1)) AS "95 % CI",
       round(nps_margin_of_error(s)::numeric, 1) AS "+/-"
FROM (SELECT channel, nps_agg(nps_score) AS s FROM survey_response GROUP BY ROLLUP (channel)) q
ORDER BY channel NULLS LAST;

\echo 'Is web''s NPS really higher than phone''s? (adjusted-Wald two-sample test)'
SELECT round(nps(w)::numeric, 1) AS web_nps, round(nps(p)::numeric, 1) AS phone_nps,
       to_char(nps_diff_pvalue(w, p), '0.0EEEE') AS p_value
FROM (SELECT nps_agg(nps_score) FILTER (WHERE channel = 'web') AS w,
             nps_agg(nps_score) FILTER (WHERE channel = 'phone') AS p FROM survey_response) q;

\echo 'CSAT by channel (mean score on 1-5 with t interval; % satisfied with Wilson interval):'
SELECT channel, responses(s) AS responses,
       round(csat_mean(s)::numeric, 2) AS "mean /5",
       format('[%s, %s]', round(csat_mean_ci_lower(s)::numeric, 2), round(csat_mean_ci_upper(s)::numeric, 2)) AS "95 % CI",
       round(csat(s)::numeric, 1) AS "satisfied %",
       format('[%s, %s]', round(csat_ci_lower(s)::numeric, 1), round(csat_ci_upper(s)::numeric, 1)) AS "95 % CI "
FROM (SELECT channel, csat_agg(csat_score, 5) AS s FROM survey_response GROUP BY ROLLUP (channel)) q
ORDER BY channel NULLS LAST;

\echo 'CES by channel (mean on 1-7, higher = easier; % agree = 5-7):'
SELECT channel, responses(s) AS responses,
       round(ces(s)::numeric, 2) AS "mean /7",
       format('[%s, %s]', round(ces_ci_lower(s)::numeric, 2), round(ces_ci_upper(s)::numeric, 2)) AS "95 % CI",
       round(ces_agree_pct(s)::numeric, 1) AS "agree %"
FROM (SELECT channel, ces_agg(ces_score, 7) AS s FROM survey_response GROUP BY ROLLUP (channel)) q
ORDER BY channel NULLS LAST;

\echo 'Monthly NPS from stored daily summaries (rollup), with a rolling 3-month value:'
CREATE TABLE nps_daily AS
SELECT answered_at::date AS day, channel, nps_agg(nps_score) AS s FROM survey_response GROUP BY 1, 2;
SELECT to_char(month, 'YYYY-MM') AS month, responses(s) AS responses, round(nps(s)::numeric, 1) AS nps,
       round(nps(rollup(s) OVER (ORDER BY month ROWS 2 PRECEDING))::numeric, 1) AS "nps 3 months"
FROM (SELECT date_trunc('month', day) AS month, rollup(s) AS s FROM nps_daily GROUP BY 1) m
ORDER BY month;
\echo '(The row with an empty channel is the total; a stored summary is one small value per day and'
\echo ' channel: rollup() merges them exactly, so monthly figures never average ratios.)'

\echo
\echo 'Customer lifetime value: 20,000 customers simulated from known BG/NBD (0.25, 4, 0.8, 2.5)'
\echo 'and Gamma-Gamma (6, 4, 15) parameters over 39 weeks (test/sim/clv_sim.sql), models fitted in C:'
\ir sim/clv_sim.sql
CREATE TABLE customer_rfm AS
SELECT id AS customer_id, x AS frequency, t_x AS recency, t, m AS monetary_value
FROM clv_sim.customers(20000, 0.25, 4.0, 0.8, 2.5, 6, 4, 15, 27, 39);
SET client_min_messages = warning;
CREATE TABLE clv_model AS
SELECT bgnbd_fit(frequency, recency, t) AS m, gamma_gamma_fit(frequency, monetary_value) AS g
FROM customer_rfm;
SELECT 'BG/NBD' AS model, format('r %s, alpha %s, a %s, b %s', round(p.r::numeric, 3), round(p.alpha::numeric, 2),
              round(p.a::numeric, 3), round(p.b::numeric, 2)) AS "parameters (weeks)",
       format('%s, %s, %s, %s', round(s.r::numeric, 3), round(s.alpha::numeric, 2), round(s.a::numeric, 3),
              round(s.b::numeric, 2)) AS "standard errors", converged(m) AS converged
FROM clv_model, bgnbd_params(m) p, bgnbd_stderr(m) s
UNION ALL
SELECT 'Gamma-Gamma', format('p %s, q %s, v %s', round(p.p::numeric, 2), round(p.q::numeric, 2), round(p.v::numeric, 2)),
       format('%s, %s, %s', round(s.p::numeric, 2), round(s.q::numeric, 2), round(s.v::numeric, 2)), converged(g)
FROM clv_model, gamma_gamma_params(g) p, gamma_gamma_stderr(g) s;

\echo 'Churn risk over the next 13 weeks, P(alive) and 52-week CLV (1 % a month) by band:'
SELECT churn_risk(m, frequency, recency, t, 13) AS "churn risk 13w", count(*) AS customers,
       round(avg(p_alive(m, frequency, recency, t))::numeric, 3) AS "avg P(alive)",
       round(avg(expected_purchases(m, 52, frequency, recency, t))::numeric, 2) AS "purchases 52w",
       round(sum(clv(m, g, frequency, recency, t, monetary_value, 52, 0.01, 365.25 / 12 / 7))::numeric, 0) AS "CLV 52w"
FROM customer_rfm, clv_model
GROUP BY 1 ORDER BY min(prob_no_purchase(m, 13, frequency, recency, t));
