-- Retention: hand-worked cases (W > 1, new vs reactivated, week, quarter, day, year periods),
-- cohorts, text I/O, NULLs and errors.

SET datestyle = ISO;

-- Seven customers over four months of 2024 (ids at both ends of bigint):
--   1: Jan Feb Mar Apr      2: Jan Mar      3: Feb      4: Jan Apr      5: Mar Apr
--   max (9223372036854775807): Jan Feb      min (-9223372036854775808): Apr
-- Active by month: Jan {1,2,4,max} 4, Feb {1,3,max} 3, Mar {1,2,5} 3, Apr {1,4,5,min} 4.
-- W = 1: Feb S=4 E=3 retained {1,max} 2, new {3}, reactivated 0 -> 50 %, CRR (3-1)/4 = 50
--        Mar S=3 E=3 retained {1} 1, new {5}, reactivated {2} 1 -> 33.33 %, CRR 66.67
--        Apr S=3 E=4 retained {1,5} 2, new {min}, reactivated {4} 1 -> 66.67 %, CRR 100
--        May (no data) S=4 E=0 -> retention 0, churn 100; Jan S=0 -> rates NULL
-- W = 2 (active in the month or the one before): A(Jan) 4, A(Feb) 5, A(Mar) 5, A(Apr) 5 {1,2,4,5,min}
--        Mar retained {1,2,3,max} 4 -> 80 %; Apr retained {1,2,5} 3, new {min}, reactivated {4} -> 60 %
-- W = 3: A(Mar) = {1,2,3,4,5,max}, A(Apr) 7: customer 4 is retained in April, not reactivated.
CREATE TABLE ret_activity (customer_id bigint, active_on date);
INSERT INTO ret_activity VALUES
    (1, '2024-01-03'), (1, '2024-01-28'), (1, '2024-02-10'), (1, '2024-03-01'), (1, '2024-04-30'),
    (2, '2024-01-15'), (2, '2024-03-31'),
    (3, '2024-02-29'),
    (4, '2024-01-01'), (4, '2024-04-02'),
    (5, '2024-03-12'), (5, '2024-04-13'),
    (9223372036854775807, '2024-01-31'), (9223372036854775807, '2024-02-01'),
    (-9223372036854775808, '2024-04-15'),
    (NULL, '2024-01-10'), (6, NULL);
CREATE TABLE ret_hand AS SELECT retention_agg(customer_id, active_on) AS s FROM ret_activity;

SELECT s, customers(s), retention_period(s), round(repeat_customer_rate(s)::numeric, 2) AS repeat_pct
FROM ret_hand;
SELECT periods(s) FROM ret_hand;
SELECT s = (SELECT retention_agg(customer_id, active_on, 'month') FROM ret_activity) AS default_is_month
FROM ret_hand;

SELECT w, p, active_customers(s, p, w) AS active, new_customers(s, p) AS new,
       retained_customers(s, p, w) AS retained, reactivated_customers(s, p, w) AS reactivated,
       round(retention_rate(s, p, w)::numeric, 2) AS retention,
       round(churn_rate(s, p, w)::numeric, 2) AS churn, round(crr(s, p, w)::numeric, 2) AS crr
FROM ret_hand, generate_series(1, 3) AS w,
     generate_series(date '2023-12-01', date '2024-05-01', interval '1 month') AS g,
     LATERAL (SELECT g::date AS p) AS x
ORDER BY w, p;

-- E - N = retained + reactivated, and CRR = retention_rate(S, E, N)
SELECT p, active_customers(s, p) - new_customers(s, p)
          = retained_customers(s, p) + reactivated_customers(s, p) AS identity,
       crr(s, p) = retention_rate(active_customers(s, (p - interval '1 month')::date),
                                  active_customers(s, p), new_customers(s, p)) AS crr_formula
FROM ret_hand, (VALUES (date '2024-02-01'), ('2024-03-01'), ('2024-04-01')) AS v(p);

SELECT * FROM cohort_retention((SELECT s FROM ret_hand));
SELECT * FROM cohort_retention((SELECT s FROM ret_hand), 'on_or_after');

-- ISO weeks start on Monday: Sunday 2023-12-31 is in the week of 2023-12-25,
-- Monday 2024-01-01 and Sunday 2024-01-07 in the same week.
SELECT s, array(SELECT periods(s)) AS weeks,
       active_customers(s, '2024-01-01') AS wk1, new_customers(s, '2024-01-01') AS new_wk1,
       retained_customers(s, '2024-01-08') AS kept_wk2, reactivated_customers(s, '2024-01-22') AS back_wk4,
       active_customers(s, '2024-01-22', 4) AS active_4wk
FROM (SELECT retention_agg(c, d, 'week') AS s
      FROM (VALUES (10, date '2024-01-01'), (10, '2024-01-07'), (10, '2024-01-08'),
                   (11, '2023-12-31'), (11, '2024-01-10'), (12, '2024-01-02'), (12, '2024-01-24')) AS v(c, d)) AS q;

-- Quarters: 2024-02-29 and 2024-03-31 are in Q1, 2024-04-01 starts Q2.
SELECT array(SELECT periods(s)) AS quarters, active_customers(s, '2024-01-01') AS q1,
       retention_rate(s, '2024-04-01') AS q2_retention, new_customers(s, '2024-10-01') AS q4_new,
       reactivated_customers(s, '2024-10-01') AS q4_back
FROM (SELECT retention_agg(c, d, 'quarter') AS s
      FROM (VALUES (20, date '2023-11-15'), (20, '2024-02-29'), (21, '2024-03-31'), (21, '2024-04-01'),
                   (22, '2024-04-30'), (20, '2024-12-31'), (23, '2024-12-01')) AS v(c, d)) AS q;

-- Days and years.
SELECT array(SELECT periods(s)) AS days, retained_customers(s, '2024-02-29') AS kept,
       active_customers(s, '2024-03-01', 2) AS two_days
FROM (SELECT retention_agg(c, d, 'day') AS s
      FROM (VALUES (1, date '2024-02-28'), (2, '2024-02-28'), (1, '2024-02-29'), (3, '2024-03-01')) AS v(c, d)) AS q;
SELECT s, array(SELECT periods(s)) AS years, crr(s, '2024-01-01')
FROM (SELECT retention_agg(c, d, 'year') AS s
      FROM (VALUES (1, date '2023-06-01'), (2, '2023-12-31'), (1, '2024-01-01'), (3, '2024-07-04')) AS v(c, d)) AS q;

-- merge and rollup: union per period; NULLs are skipped.
SELECT merge(a, b) = (SELECT s FROM ret_hand) AS merged, merge(a, NULL) = a AS with_null,
       rollup(x) = (SELECT s FROM ret_hand) AS rolled
FROM (SELECT retention_agg(customer_id, active_on) FILTER (WHERE customer_id < 3) AS a,
             retention_agg(customer_id, active_on) FILTER (WHERE customer_id >= 3) AS b
      FROM ret_activity) AS q,
     LATERAL (VALUES (a), (NULL), (b)) AS v(x)
GROUP BY a, b;

-- NULLs and empty input: skipped rows, NULL aggregates, an empty literal.
SELECT retention_agg(c, d) IS NULL AS all_null, rollup(NULL::retention_summary) IS NULL AS rollup_null
FROM (VALUES (NULL::bigint, date '2024-01-01'), (1, NULL)) AS v(c, d);
SELECT retention_agg(c, d, p) AS skipped_null_period
FROM (VALUES (1, date '2024-01-01', NULL), (2, '2024-01-02', 'day')) AS v(c, d, p);
SELECT customers(s), active_customers(s, '2024-01-01'), retention_rate(s, '2024-01-01'),
       repeat_customer_rate(s), (SELECT count(*) FROM cohort_retention(s)) AS cohort_rows
FROM (SELECT '(v1,period=month,periods={})'::retention_summary AS s) AS q;

-- Text form: lossless, and equality compares sets.
SELECT s::text::retention_summary = s AS round_trip, s::text::retention_summary::text = s::text AS same_text,
       s <> merge(s, '(v1,period=month,periods={2024-06-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})') AS june_differs
FROM ret_hand;
SELECT '(v1,period=month,periods={2024-06-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})'::retention_summary AS one_customer,
       customers('(v1,period=month,periods={2024-06-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})'::retention_summary);

-- Malformed literals (22P02).
SELECT ''::retention_summary;
SELECT '(v9,period=month,periods={})'::retention_summary;
SELECT '(v1,period=fortnight,periods={})'::retention_summary;
SELECT '(v1,period=month,periods={2024-01-15:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})'::retention_summary;
SELECT '(v1,period=month,periods={2024-02-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA;2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})'::retention_summary;
SELECT '(v1,period=month,periods={2024-02-30:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})'::retention_summary;
SELECT '(v1,period=month,periods={2024-01-01:AAAAAAAAAAA=})'::retention_summary;
SELECT '(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAA})'::retention_summary;
SELECT '(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAAAAAA})'::retention_summary;
SELECT '(v1,period=month,periods={2024-01-01:@@@})'::retention_summary;
SELECT '(v1,period=month,periods={}) x'::retention_summary;

-- Errors.
SELECT retention_agg(1, date '2024-01-01', 'fortnight');
SELECT retention_agg(c, date '2024-01-01', p) FROM (VALUES (1, 'month'), (2, 'week')) AS v(c, p);
SELECT retention_agg(1, 'infinity'::date);
SELECT merge((SELECT s FROM ret_hand), retention_agg(1, date '2024-01-01', 'week'));
SELECT active_customers(s, '2024-01-15') FROM ret_hand;
SELECT active_customers(retention_agg(1, date '2024-01-03', 'week'), '2024-01-03');
SELECT retention_rate(s, '2024-02-01', 0) FROM ret_hand;
SELECT * FROM cohort_retention((SELECT s FROM ret_hand), 'after');
SELECT retention_rate(0, 5, 1);
SELECT retention_rate(10, 5, 6);
SELECT retention_rate(10, -1, 0);
SELECT retention_rate(100, 80, 12) AS seed_crr;
