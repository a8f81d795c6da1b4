-- The dashboard layer on a small hand-built dataset: every KPI of every view against values
-- worked out by hand (in the comments) or computed in plain SQL from the raw rows; statuses at
-- the threshold edges; year over year; config edits; constraints; the reader role; comments and
-- column types; forced parallel refresh = serial refresh.
BEGIN;
SET client_min_messages = warning;
SELECT plan(276);
SELECT throws_ok($$UPDATE cxkpi.kpi_targets SET dimension = 'web' WHERE kpi = 'staff_training_hours' AND is_default$$, '55006', NULL,
                 'the key of a built-in target cannot change (a restore would seed it again)');

\i test/fixtures/dashboard_data.sql

CREATE FUNCTION pg_temp.sc(k text, b text DEFAULT 'total', d text DEFAULT 'all') RETURNS numeric
    LANGUAGE sql AS $$ SELECT round(value::numeric, 6) FROM cxkpi.kpi_scorecard WHERE kpi = k AND breakdown = b AND dimension = d $$;
CREATE FUNCTION pg_temp.st(k text, b text DEFAULT 'total', d text DEFAULT 'all') RETURNS text
    LANGUAGE sql AS $$ SELECT status FROM cxkpi.kpi_scorecard WHERE kpi = k AND breakdown = b AND dimension = d $$;
-- Runs a statement as cxkpi_reader: the first column of its first row, or the SQLSTATE.
CREATE FUNCTION pg_temp.as_reader(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    SET LOCAL ROLE cxkpi_reader;
    BEGIN
        EXECUTE q INTO r;
        r := coalesce(r, 'ok');
    EXCEPTION WHEN OTHERS THEN
        r := SQLSTATE;
    END;
    RESET ROLE;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.ts(g text, p date, k text, b text DEFAULT 'total', d text DEFAULT 'all') RETURNS numeric
    LANGUAGE sql AS $$ SELECT round(value::numeric, 6) FROM cxkpi.kpi_timeseries
                       WHERE grain = g AND period_start = p AND kpi = k AND breakdown = b AND dimension = d $$;

-- Period bounds
SELECT results_eq($$SELECT DISTINCT period_start, period_end, year_ago_period_start, year_ago_period_end, grain FROM cxkpi.kpi_scorecard$$,
                  $$VALUES (date '2025-03-01', date '2025-03-31', date '2024-03-01', date '2024-03-31', 'month')$$,
                  'scorecard: the last complete month before as_of, and the same month a year earlier');
SELECT is((SELECT count(*) FROM cxkpi.kpi_scorecard WHERE breakdown = 'total'),
          (SELECT count(*) FROM cxkpi.kpi_definitions), 'one total row per KPI of the catalogue');

-- Satisfaction
SELECT is(pg_temp.sc('nps'), 20.000000, 'NPS: (5 promoters - 3 detractors) / 10');
SELECT is((SELECT value_year_ago FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'), 50::float8, 'NPS a year earlier: (3 - 1) / 4');
SELECT is((SELECT yoy_change FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'), -30::float8, 'NPS year-over-year change');
SELECT is((SELECT yoy_change_pct FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'), -60::float8, 'NPS relative YoY change');
SELECT is((SELECT (numerator, denominator, sample_size)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'),
          '(2,10,10)', 'NPS numerator (P - D), denominator and sample');
SELECT is((SELECT (round(ci_lower::numeric, 9), round(ci_upper::numeric, 9))::text FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'),
          (SELECT (round(nps_ci_lower(s)::numeric, 9), round(nps_ci_upper(s)::numeric, 9))::text
           FROM (SELECT nps_agg(score) s FROM cxkpi.survey_responses WHERE survey = 'nps' AND responded_at >= '2025-03-01' AND responded_at < '2025-04-01') q),
          'NPS interval = nps_ci of the raw March answers');
SELECT is(pg_temp.sc('nps', 'channel', 'store'), round(100.0 * (2 - 1) / 4, 6), 'NPS store: 10, 9, 8, 6');
SELECT is(pg_temp.sc('nps', 'channel', 'app'), round(100.0 * (1 - 1) / 3, 6), 'NPS app: 9, 7, 0');
SELECT is(pg_temp.sc('nps', 'channel', 'web'), round(100.0 * (2 - 1) / 3, 6), 'NPS web: 10, 9, 3');
SELECT is(pg_temp.st('nps'), 'insufficient data', 'NPS: 10 answers < min sample 100');
SELECT is(pg_temp.sc('csat'), round(27 / 7.0, 6), 'CSAT mean: 27 / 7 (the 10-point answer is left out)');
SELECT is(pg_temp.sc('csat', 'channel', 'store'), round(13 / 3.0, 6), 'CSAT in-store');
SELECT is(pg_temp.sc('csat', 'channel', 'web'), 3.5, 'CSAT online');
SELECT is(pg_temp.sc('csat', 'channel', 'app'), 2.0, 'CSAT app');
SELECT is(pg_temp.st('csat'), 'insufficient data', 'CSAT: 7 answers < 30');
SELECT is(pg_temp.sc('csat_satisfied_pct'), round(500 / 7.0, 6), 'CSAT % satisfied: 5 of 7 in 4-5');
SELECT is(pg_temp.sc('ces'), 5.0, 'CES mean 7, 5, 3 (the 5-point answer is left out)');
SELECT is(pg_temp.sc('returns_csat'), 5.0, 'returns CSAT');
SELECT is((SELECT (round(csat_mean_score::numeric, 9), csat_responses, nps_points, nps_responses)::text FROM cxkpi.kpi_satisfaction
           WHERE grain = 'month' AND period_start = '2025-03-01' AND channel = 'store'),
          (SELECT (round(13 / 3.0, 9), 3, 25::float8, 4)::text), 'satisfaction view, in-store row');

-- Purchase experience
SELECT is(pg_temp.sc('conversion_rate'), 10.0, 'conversion: 4 of 40 visits');
SELECT is(pg_temp.sc('conversion_rate', 'device', 'desktop'), 25.0, 'conversion desktop 1 / 4');
SELECT is(pg_temp.sc('conversion_rate', 'device', 'mobile'), 0.0, 'conversion mobile 0 / 5');
SELECT is(pg_temp.sc('conversion_rate', 'device', 'store'), round(200 / 30.0, 6), 'conversion in-store 2 orders / 30 visitors');
SELECT is((SELECT (round(ci_lower::numeric, 9), round(ci_upper::numeric, 9))::text FROM cxkpi.kpi_scorecard WHERE kpi = 'conversion_rate' AND breakdown = 'total'),
          (SELECT (round(csat_ci_lower(s)::numeric, 9), round(csat_ci_upper(s)::numeric, 9))::text
           FROM (SELECT csat_agg(x) AS s FROM (SELECT g <= 4 AS x FROM generate_series(1, 40) g) q) q),
          'conversion interval: Wilson of 4 / 40');
SELECT is(pg_temp.st('conversion_rate'), 'insufficient data', 'conversion: 40 visits < 100');
SELECT is(pg_temp.sc('aov'), round(505 / 6.0, 6), 'AOV March 2025: 505 / 6');
SELECT is((SELECT round(value_year_ago::numeric, 6) FROM cxkpi.kpi_scorecard WHERE kpi = 'aov' AND breakdown = 'total'), round(230 / 3.0, 6), 'AOV March 2024: 230 / 3');
SELECT is((SELECT round(yoy_change::numeric, 6) FROM cxkpi.kpi_scorecard WHERE kpi = 'aov' AND breakdown = 'total'), 7.5, 'AOV YoY +7.50');
SELECT is(pg_temp.sc('aov', 'segment', 'new'), 55.0, 'AOV new customers (107, 109)');
SELECT is(pg_temp.sc('aov', 'segment', 'returning'), 112.5, 'AOV returning (108, 111)');
SELECT is(pg_temp.sc('aov', 'segment', 'loyalty'), 85.0, 'AOV loyalty (106, 110)');
SELECT is(pg_temp.sc('aov', 'channel', 'store'), 47.5, 'AOV store');
SELECT is(pg_temp.sc('aov', 'channel', 'app'), 115.0, 'AOV app');
SELECT is((SELECT (value, numerator, denominator)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'aov' AND breakdown = 'segment' AND dimension = 'loyalty'),
          '(85,170,2)', 'AOV numerator and denominator');
SELECT is(pg_temp.sc('cart_abandonment_rate'), 80.0, 'cart abandonment 4 / 5');
SELECT is(pg_temp.sc('cart_recovery_rate'), 25.0, 'cart recovery 1 / 4');
SELECT is(pg_temp.sc('cart_abandonment_rate', 'device', 'mobile'), 100.0, 'cart abandonment mobile 2 / 2');
SELECT is((SELECT (conversion_rate_pct, conversions, visits)::text FROM cxkpi.kpi_purchase_experience
           WHERE grain = 'month' AND period_start = '2025-03-01' AND breakdown = 'device' AND dimension = 'desktop'),
          '(25,1,4)', 'purchase experience view, desktop row');

-- Service quality
SELECT is(pg_temp.sc('response_time_hours'), 3.125, 'response time mean (2 + 0.5 + 6 + 4) / 4');
SELECT is(pg_temp.sc('response_time_median_hours'), 3.0, 'response time median');
SELECT is(pg_temp.sc('response_time_p90_hours'), 5.4, 'response time p90: 4 + 0.7 * (6 - 4)');
SELECT is(pg_temp.sc('response_time_hours', 'channel', 'email'), 3.0, 'response time email (2, 4)');
SELECT is(pg_temp.sc('response_time_hours', 'channel', 'phone'), 6.0, 'response time phone');
SELECT is(pg_temp.sc('resolution_rate'), 60.0, 'resolution 3 / 5');
SELECT is(pg_temp.sc('first_contact_resolution_rate'), round(100 / 3.0, 6), 'first contact resolution 1 / 3');
SELECT is((SELECT (response_time_median_hours, response_time_p90_hours, responded_tickets, resolved_tickets, tickets)::text
           FROM cxkpi.kpi_service_quality WHERE grain = 'month' AND period_start = '2025-03-01' AND channel = 'all'),
          (SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY h), percentile_cont(0.9) WITHIN GROUP (ORDER BY h), count(h), 3, 5)::text
           FROM (SELECT extract(epoch FROM first_response_at - created_at)::float8 / 3600 AS h FROM cxkpi.support_tickets) q),
          'service quality view against percentile_cont over the raw tickets');

-- Loyalty and retention
SELECT is(pg_temp.sc('retention_rate'), round(200 / 3.0, 6), 'retention March 2025: 2 of the 3 February customers (1, 5, 6) ordered again');
SELECT is(pg_temp.sc('churn_rate'), round(100 / 3.0, 6), 'churn 1 / 3');
SELECT is((SELECT (numerator, denominator)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'retention_rate' AND breakdown = 'total'), '(2,3)', 'retention numerator and denominator');
SELECT is((SELECT value_year_ago FROM cxkpi.kpi_scorecard WHERE kpi = 'retention_rate'), NULL, 'no retention in March 2024 (no customer in February 2024)');
SELECT is(pg_temp.sc('loyalty_members'), 3.0, 'loyalty members enrolled by 2025-03-31');
SELECT is(pg_temp.sc('loyalty_active_share'), 100.0, 'active members (90 days): 1, 2 and 6');
SELECT is((SELECT value_year_ago FROM cxkpi.kpi_scorecard WHERE kpi = 'loyalty_members'), 1::float8, 'members at the end of March 2024');
SELECT is((SELECT (round(retention_rate_pct::numeric, 9), retained_customers, customers_at_start, loyalty_members, active_loyalty_members)::text
           FROM cxkpi.kpi_loyalty_retention WHERE grain = 'month' AND period_start = '2025-03-01'),
          (SELECT (round(200 / 3.0, 9), 2, 3, 3, 3)::text), 'loyalty and retention view');
-- Period-correct activity: an order or a programme activity (cxkpi.loyalty_activity) on or after
-- enrolling counts in every period whose 90-day window up to its end holds it, and so does
-- last_active_on, never in earlier periods.  Member 6: enrolled 2024-02-01, orders 2024-03-20 and
-- 2025-02-14, last_active_on 2024-05-01, and now a programme visit on 2024-09-15; member 1:
-- enrolled 2024-06-01, orders 2025-02-10 and 2025-03-03 (2024-03-05 is before enrolling),
-- last_active_on 2025-03-20, and now a reward redeemed on 2024-12-20; member 2: enrolled
-- 2025-03-10, order 2025-03-12.  The data ends on 2025-03-20 (the window of March ends there).
INSERT INTO cxkpi.loyalty_activity VALUES (6, '2024-09-15 18:00+00', 'visit'), (1, '2024-12-20 12:00+00', 'redeem');
CALL cxkpi.refresh_dashboard();
SELECT results_eq($$SELECT period_start, numerator::integer, denominator::integer FROM cxkpi.kpi_timeseries
                    WHERE grain = 'month' AND kpi = 'loyalty_active_share' ORDER BY period_start$$,
                  $$VALUES (date '2024-02-01', 0, 1),   -- 6 enrolled, nothing yet
                           ('2024-03-01', 1, 1), ('2024-04-01', 1, 1),  -- 6's order of 20 March
                           ('2024-05-01', 1, 1),          -- the order, and last_active_on 1 May
                           ('2024-06-01', 1, 2),          -- last_active_on 1 May (window from 2 April); 1 enrolled
                           ('2024-07-01', 0, 2), ('2024-08-01', 0, 2),  -- nothing in the window: 0, not a missing month
                           ('2024-09-01', 1, 2), ('2024-10-01', 1, 2), ('2024-11-01', 1, 2),  -- 6's visit of 15 September
                           ('2024-12-01', 1, 2), ('2025-01-01', 1, 2),  -- 1's reward of 20 December (6's visit is out)
                           ('2025-02-01', 2, 2),          -- 1's order of 10 February, 6's of 14 February
                           ('2025-03-01', 3, 3)$$,        -- 1, 2 and 6 in the window up to 20 March
                  'monthly active members: each month counts the activity of its own window; a later last_active_on (1: 2025-03-20) does not count in 2024');
SELECT is((SELECT (value, numerator, denominator)::text FROM cxkpi.kpi_timeseries
           WHERE grain = 'year' AND period_start = '2024-01-01' AND kpi = 'loyalty_active_share'), '(50,1,2)',
          'year 2024: 1 of its 2 members active in the 90 days up to 31 December (1, by the reward)');
SELECT is((SELECT string_agg(format('%s %s/%s', period_start, numerator, denominator), ', ' ORDER BY period_start)
           FROM cxkpi.kpi_timeseries WHERE grain = 'week' AND kpi = 'loyalty_active_share'
             AND period_start IN ('2024-07-22', '2024-07-29', '2024-09-02', '2024-09-09')),
          '2024-07-22 1/2, 2024-07-29 0/2, 2024-09-02 0/2, 2024-09-09 1/2',
          'weeks: last_active_on 1 May counts up to the week ending 28 July (89 days later); the visit of Sunday 15 September from its own week on');
SELECT results_eq($$SELECT grain, period_start, numerator::bigint, denominator::bigint FROM cxkpi.kpi_values
                    WHERE kpi = 'loyalty_active_share' ORDER BY grain, period_start$$,
                  $$SELECT grain, period_start, active, members FROM tap.loyalty_active_plain(90)
                    WHERE grain <> 'day' ORDER BY grain, period_start$$,
                  'active and all members of every week, month, quarter and year equal plain SQL over the data tables');
SELECT results_eq($$SELECT grain, period_start, value::bigint FROM cxkpi.kpi_values
                    WHERE kpi = 'loyalty_members' ORDER BY grain, period_start$$,
                  $$SELECT grain, period_start, members FROM tap.loyalty_active_plain(90) ORDER BY grain, period_start$$,
                  'loyalty members of every period of every grain (days too) equal plain SQL');
SELECT is(pg_temp.ts('quarter', '2025-01-01', 'retention_rate'), NULL, 'no quarterly retention for Q1 2025: nobody ordered in Q4 2024');
SELECT is(pg_temp.ts('year', '2025-01-01', 'retention_rate'), round(100 * 3 / 3.0, 6), 'yearly retention 2025: 1, 2 and 6 of 2024 all came back');

-- Digital experience and operational efficiency
SELECT is(pg_temp.sc('app_rating'), 4.0, 'app rating (5 + 4 + 3) / 3');
SELECT is(pg_temp.sc('app_rating', 'app_store', 'google_play'), 3.0, 'app rating Google Play');
SELECT is(pg_temp.sc('website_load_time_seconds'), 2.3, 'load time mean');
SELECT is(pg_temp.sc('uptime_pct'), round((100 * 1000 + 99 * 440) / 1440.0, 6), 'uptime weighted by minutes');
SELECT is(pg_temp.sc('staff_training_hours'), 45.0, 'training hours over both stores');
SELECT is(pg_temp.sc('staff_training_hours', 'dimension', 'store_b'), 50.0, 'training hours store_b');
SELECT is((SELECT count(*) FROM cxkpi.kpi_scorecard WHERE kpi = 'website_load_time_seconds'), 1::bigint, 'no dimension row for observations without a dimension');
SELECT is((SELECT count(*) FROM cxkpi.kpi_digital_operations WHERE grain = 'month' AND period_start = '2025-03-01'),
          (SELECT count(*) FROM cxkpi.kpi_values WHERE grain = 'month' AND period_start = '2025-03-01'
              AND kpi IN ('app_rating', 'website_load_time_seconds', 'uptime_pct', 'staff_training_hours')),
          'digital and operations view holds the rating and the observed KPIs');

-- Returns (order-date basis for the rates, return-date basis for the return events)
SELECT is(pg_temp.sc('return_rate'), round(200 / 6.0, 6), 'return rate: orders 106, 108 of 6');
SELECT is(pg_temp.sc('full_return_rate'), round(100 / 6.0, 6), 'orders returned completely: 108');
SELECT is(pg_temp.sc('item_return_rate'), round(500 / 11.0, 6), 'items 5 of 11');
SELECT is(pg_temp.sc('value_return_rate'), round(25000 / 505.0, 6), 'value 250 of 505');
SELECT is(pg_temp.sc('avg_return_value'), 125.0, 'average return value 250 / 2');
SELECT is(pg_temp.sc('first_order_return_rate'), 0.0, 'first orders 107, 109: no return');
SELECT is(pg_temp.sc('repeat_order_return_rate'), 50.0, 'repeat orders 106, 108, 110, 111: two returned');
SELECT is(pg_temp.sc('merchant_initiated_share'), round(100 / 3.0, 6), 'merchant-initiated 1 of the 3 March returns');
SELECT is(pg_temp.sc('avg_days_to_return'), round(31 / 3.0, 6), 'days to return 7, 5, 19');
SELECT is((SELECT round(value_year_ago::numeric, 9) FROM cxkpi.kpi_scorecard WHERE kpi = 'return_rate' AND breakdown = 'total'), round(100 / 3.0, 9), 'return rate March 2024: 101 of 3');
SELECT is((SELECT (round(return_rate_pct::numeric, 9), orders_with_return, orders, customers, orders_per_customer, returns, returns_per_customer)::text
           FROM cxkpi.kpi_returns WHERE grain = 'month' AND period_start = '2025-03-01' AND breakdown = 'total'),
          (SELECT (round(200 / 6.0, 9), 2, 6, 5, 1.2::float8, 3, 0.6::float8)::text), 'returns view, total row');
SELECT is((SELECT return_rate_pct FROM cxkpi.kpi_returns WHERE grain = 'month' AND period_start = '2025-03-01' AND dimension = 'store'),
          0::float8, 'returns view, store row');

-- Customer value
SELECT is(pg_temp.sc('purchase_frequency'), 1.2, 'purchase frequency 6 orders / 5 customers');
SELECT is(pg_temp.sc('repeat_customer_rate'), 20.0, 'repeat customers: 3 ordered on two days');
SELECT is(pg_temp.sc('new_customers'), 2.0, 'new customers March 2025: 3, 4');
SELECT is(pg_temp.sc('cac'), 40.0, 'CAC (30 + 50) / 2');
SELECT is(pg_temp.sc('cac', 'acquisition_channel', 'paid_search'), 50.0, 'CAC paid search');
SELECT is((SELECT value_year_ago FROM cxkpi.kpi_scorecard WHERE kpi = 'cac' AND breakdown = 'total'), 15::float8, 'CAC March 2024');
SELECT is(pg_temp.sc('clv_simple'), round(505 / 6.0 * 1.2 * 3, 6), 'simple CLV: AOV x frequency x 1 / churn');
SELECT is((SELECT (customers, repeat_customers, new_customers, round(cac_currency::numeric, 2))::text FROM cxkpi.kpi_customer_value
           WHERE grain = 'month' AND period_start = '2025-03-01' AND breakdown = 'total'), '(5,1,2,40.00)', 'customer value view');

-- Rollups = direct: every grain equals plain SQL over the raw orders, never an average of ratios.
SELECT is((SELECT count(*) FROM (
    SELECT g, date_trunc(g, ordered_at AT TIME ZONE 'UTC')::date AS p, round(avg(gross_value - discount), 6) AS aov
    FROM cxkpi.orders, unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS g GROUP BY 1, 2
    EXCEPT
    SELECT grain, period_start, round(value::numeric, 6) FROM cxkpi.kpi_values WHERE kpi = 'aov' AND breakdown = 'total') q),
    0::bigint, 'AOV of every day, week, month, quarter and year = plain SQL over the orders');
SELECT is(pg_temp.ts('quarter', '2025-01-01', 'aov'), round(625 / 9.0, 6), 'Q1 2025 AOV = (120 + 505) / 9, not the mean of monthly AOVs');
SELECT isnt(pg_temp.ts('quarter', '2025-01-01', 'aov'), round((40.0 + 505 / 6.0) / 2, 6), 'and not the mean of the two monthly AOVs');
SELECT is((SELECT count(*) FROM (
    SELECT g, date_trunc(g, responded_at AT TIME ZONE 'UTC')::date AS p, round(nps(score)::numeric, 6)
    FROM cxkpi.survey_responses, unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS g WHERE survey = 'nps' GROUP BY 1, 2
    EXCEPT
    SELECT grain, period_start, round(value::numeric, 6) FROM cxkpi.kpi_values WHERE kpi = 'nps' AND breakdown = 'total') q),
    0::bigint, 'NPS of every grain = nps() over the raw answers');

-- Year over year at week grain: 52 weeks earlier
SELECT is((SELECT DISTINCT year_ago_period_start FROM cxkpi.kpi_trend WHERE grain = 'week' AND period_start = '2025-03-03'),
          date '2024-03-04', 'the year-ago week of the week of 3 March 2025 starts on Monday 4 March 2024');
SELECT is((SELECT round(value_year_ago::numeric, 6) FROM cxkpi.kpi_weekly_summary WHERE week_start = '2025-03-03' AND kpi = 'aov' AND breakdown = 'total'),
          70.0, 'weekly summary: AOV of that week a year earlier (orders 101 and 102, 4 to 10 March 2024)');
SELECT is((SELECT round(previous_month_value::numeric, 6) FROM cxkpi.kpi_monthly_report WHERE month_start = '2025-03-01' AND kpi = 'aov' AND breakdown = 'total'),
          40.0, 'monthly report: previous month AOV (120 / 3)');
SELECT is((SELECT round(value_year_ago::numeric, 6) FROM cxkpi.kpi_quarterly_review WHERE quarter_start = '2025-01-01' AND kpi = 'aov' AND breakdown = 'total'),
          round(230 / 3.0, 6), 'quarterly review: Q1 2024 AOV');
SELECT is((SELECT count(*) FROM cxkpi.kpi_timeseries WHERE grain = 'month' AND "time" >= '2025-03-01' AND "time" < '2025-04-01'),
          (SELECT count(*) FROM cxkpi.kpi_values WHERE grain = 'month' AND period_start = '2025-03-01'), 'timeseries: a month by its time column');
SELECT is((SELECT DISTINCT period_complete FROM cxkpi.kpi_timeseries WHERE grain = 'month' AND period_start = '2025-03-01'), true, 'March is complete on 1 April');
SELECT is((SELECT metric FROM cxkpi.kpi_timeseries WHERE grain = 'month' AND period_start = '2025-03-01' AND kpi = 'aov' AND dimension = 'app'),
          'aov app', 'Grafana metric name');

-- Statuses at the threshold and target edges (the function shared with alerting), worst first:
-- red / yellow (seed 000's action triggers, strict), off target (no trigger, target missed),
-- green (no trigger, target met or none).
SELECT is(cxkpi.kpi_status('higher_is_better', 35, 100, 50, 35, NULL, 100), 'off target', 'NPS exactly 35 is not below 35: no flag, but off the 50 target');
SELECT is(cxkpi.kpi_status('higher_is_better', 34.999, 100, 50, 35, NULL, 100), 'red', 'NPS 34.999 is red');
SELECT is(cxkpi.kpi_status('higher_is_better', 49.999, 100, 50, 35, NULL, 100), 'off target', 'NPS 49.999 misses the target 50');
SELECT is(cxkpi.kpi_status('higher_is_better', 50, 100, 50, 35, NULL, 100), 'green', 'NPS exactly 50 meets "50+": green');
SELECT is(cxkpi.kpi_status('higher_is_better', 4.0, 30, 4.5, 4.0, NULL, 30), 'off target', 'CSAT exactly 4.0 is not red, but off target');
SELECT is(cxkpi.kpi_status('higher_is_better', 3.99, 30, 4.5, 4.0, NULL, 30), 'red', 'CSAT 3.99 is red');
SELECT is(cxkpi.kpi_status('higher_is_better', 4.5, 30, 4.5, 4.0, NULL, 30), 'green', 'CSAT exactly 4.5 meets its target');
SELECT is(cxkpi.kpi_status('lower_is_better', 4, 30, 1, 4, NULL, 30), 'off target', 'response time exactly 4 h does not exceed 4 h, but misses "<1 hour"');
SELECT is(cxkpi.kpi_status('lower_is_better', 4.01, 30, 1, 4, NULL, 30), 'red', 'response time 4.01 h is red');
SELECT is(cxkpi.kpi_status('lower_is_better', 1, 30, 1, 4, NULL, 30), 'off target', 'response time exactly 1 h misses "<1 hour"');
SELECT is(cxkpi.kpi_status('lower_is_better', 0.99, 30, 1, 4, NULL, 30), 'green', 'response time 0.99 h meets "<1 hour"');
SELECT is(cxkpi.kpi_status('lower_is_better', 75, 30, 60, 75, NULL, 30), 'off target', 'cart abandonment exactly 75 % is not above 75 %: off target');
SELECT is(cxkpi.kpi_status('lower_is_better', 75.01, 30, 60, 75, NULL, 30), 'red', 'cart abandonment 75.01 % is red');
SELECT is(cxkpi.kpi_status('lower_is_better', 60, 30, 60, 75, NULL, 30), 'off target', 'cart abandonment exactly 60 % misses "<60 %"');
SELECT is(cxkpi.kpi_status('lower_is_better', 59.99, 30, 60, 75, NULL, 30), 'green', 'cart abandonment 59.99 % meets "<60 %"');
SELECT is(cxkpi.kpi_status('higher_is_better', 2.8, 100, 4, NULL, 2.8, 100), 'off target', 'conversion exactly 2.8 % is not yellow, but off target');
SELECT is(cxkpi.kpi_status('higher_is_better', 2.79, 100, 4, NULL, 2.8, 100), 'yellow', 'conversion 2.79 % is yellow');
SELECT is(cxkpi.kpi_status('higher_is_better', 65, 30, 75, NULL, 65, 30), 'off target', 'retention exactly 65 % is not yellow, but off target');
SELECT is(cxkpi.kpi_status('higher_is_better', 64.9, 30, 75, NULL, 65, 30), 'yellow', 'retention 64.9 % is yellow');
SELECT is(cxkpi.kpi_status('higher_is_better', 84.9, 30, 95, NULL, 85, 30), 'yellow', 'resolution 84.9 % is yellow');
SELECT is(cxkpi.kpi_status('higher_is_better', 10, 30, 95, 20, 85, 30), 'red', 'red wins over yellow');
SELECT is(cxkpi.kpi_status('higher_is_better', 90, 29, 95, NULL, 85, 30), 'insufficient data', 'one observation short of the minimum sample');
SELECT is(cxkpi.kpi_status('higher_is_better', 10, 29, 95, 20, 85, 30), 'insufficient data', 'no flag without the minimum sample, however bad the value');
SELECT is(cxkpi.kpi_status('higher_is_better', 90, 30, 95, NULL, 85, 30), 'off target', 'exactly the minimum sample');
SELECT is(cxkpi.kpi_status('higher_is_better', NULL, 30, 95, NULL, 85, 30), 'insufficient data', 'no value');
SELECT is(cxkpi.kpi_status('higher_is_better', 'NaN', 30, 95, NULL, 85, 30), 'insufficient data', 'NaN is no value');
SELECT is(cxkpi.kpi_status('higher_is_better', 90, 0, 95, NULL, 85, 0), 'insufficient data', 'no observation, even with minimum sample 0');
SELECT is(cxkpi.kpi_status('higher_is_better', 90, 30, NULL, NULL, NULL, 30), 'no target', 'no target and no thresholds');
SELECT is(cxkpi.kpi_status('higher_is_better', 90, 30, NULL, NULL, 85, 30), 'green', 'thresholds without a target: green when no flag fires');
SELECT is(cxkpi.kpi_status('higher_is_better', 84, 30, NULL, NULL, 85, 30), 'yellow', 'thresholds without a target: yellow');
SELECT is(cxkpi.kpi_status('higher_is_better', 127, 30, 145, NULL, NULL, 30), 'off target', 'a target without thresholds: AOV $127 against $145');
SELECT is(cxkpi.kpi_status('higher_is_better', 145, 30, 145, NULL, NULL, 30), 'green', 'AOV exactly $145');
SELECT is(cxkpi.kpi_status('lower_is_better', 2.1, 30, 2.0, NULL, NULL, 1), 'off target', 'load time 2.1 s against "<2.0 seconds"');
SELECT throws_ok($$SELECT cxkpi.kpi_status('up', 1, 1, 1, 1, 1, 1)$$, '22023', NULL, 'an unknown direction is refused');
SELECT throws_ok($$SELECT cxkpi.kpi_status(d, 1, 1, 1, 1, 1, 1) FROM (VALUES (NULL::text)) v(d)$$, '22023', NULL, 'so is a NULL direction (at run time)');
SELECT is(cxkpi.meets_target('lower_is_better', 60, 60), false, 'target "<60 %": 60 does not meet it');
SELECT is(cxkpi.meets_target('higher_is_better', 50, 50), true, 'target "50+": 50 meets it');
-- Flag and rank derive from the status.
SELECT is((SELECT string_agg(coalesce(cxkpi.kpi_flag(s), '-') || ':' || coalesce(cxkpi.status_rank(s)::text, '-'), ' ' ORDER BY o)
           FROM unnest(ARRAY['red', 'yellow', 'off target', 'green', 'insufficient data', 'no target', NULL]) WITH ORDINALITY AS u(s, o)),
          'red:1 yellow:2 -:3 -:4 -:- -:- -:-', 'flag and rank of every status: red 1, yellow 2, off target 3, green 4, none otherwise');
-- Seed 000's figures against its targets and triggers (the worked example of docs/dashboard.md).
SELECT results_eq($$
    SELECT kpi, s, cxkpi.kpi_flag(s), cxkpi.status_rank(s)
    FROM (VALUES ('nps', 'higher_is_better', 42, 50, 35, NULL, 100),
                 ('csat', 'higher_is_better', 4.2, 4.5, 4.0, NULL, 30),
                 ('csat app', 'higher_is_better', 3.9, 4.5, 4.0, NULL, 30),
                 ('conversion', 'higher_is_better', 3.2, 4.0, NULL, 2.8, 100),
                 ('conversion in-store', 'higher_is_better', 4.1, 4.0, NULL, 2.8, 100),
                 ('aov', 'higher_is_better', 127, 145, NULL, NULL, 30),
                 ('aov loyalty', 'higher_is_better', 189, 145, NULL, NULL, 30),
                 ('cart abandonment', 'lower_is_better', 68, 60, 75, NULL, 30),
                 ('response time', 'lower_is_better', 2.3, 1, 4, NULL, 30),
                 ('response time phone', 'lower_is_better', 4.2, 1, 4, NULL, 30),
                 ('response time chat', 'lower_is_better', 0.3, 1, 4, NULL, 30),
                 ('resolution', 'higher_is_better', 87, 95, NULL, 85, 30),
                 ('retention', 'higher_is_better', 68, 75, NULL, 65, 30)) AS v(kpi, dir, value, target, red, yellow, min_n),
         LATERAL (SELECT cxkpi.kpi_status(dir, value, 1000, target, red, yellow, min_n) AS s) AS st$$,
    $$VALUES ('nps', 'off target', NULL, 3::bigint), ('csat', 'off target', NULL, 3), ('csat app', 'red', 'red', 1),
             ('conversion', 'off target', NULL, 3), ('conversion in-store', 'green', NULL, 4), ('aov', 'off target', NULL, 3),
             ('aov loyalty', 'green', NULL, 4), ('cart abandonment', 'off target', NULL, 3), ('response time', 'off target', NULL, 3),
             ('response time phone', 'red', 'red', 1), ('response time chat', 'green', NULL, 4), ('resolution', 'off target', NULL, 3),
             ('retention', 'off target', NULL, 3)$$,
    'seed 000''s current figures: off target where they miss the target without a flag, red for CSAT app and phone response time');

-- Statuses on the scorecard follow edited thresholds at their edges (user edits of targets).
UPDATE cxkpi.kpi_targets SET min_sample_size = 4 WHERE kpi IN ('cart_abandonment_rate', 'csat', 'response_time_hours', 'nps');
SELECT is((SELECT is_default FROM cxkpi.kpi_targets WHERE kpi = 'nps'), false, 'an edited built-in target becomes a user row');
SELECT is(pg_temp.st('cart_abandonment_rate'), 'red', 'cart abandonment 80 % > 75 %: red');
SELECT is(pg_temp.st('csat'), 'red', 'CSAT 3.86 < 4.0: red');
SELECT is(pg_temp.st('nps'), 'red', 'NPS 20 < 35: red');
SELECT is((SELECT (status, flag, status_rank, meets_target)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'response_time_hours' AND breakdown = 'total'),
          '("off target",,3,f)', 'response time 3.125 h: no flag, but it misses the 1 h target: off target, rank 3');
SELECT is((SELECT (status, flag, status_rank)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'),
          '(red,red,1)', 'NPS 20: red, flag red, rank 1');
SELECT is((SELECT count(*) FROM cxkpi.kpi_trend WHERE status = 'green' AND NOT meets_target), 0::bigint,
          'no value of any KPI, grain and period is green while it misses its target');
SELECT is((SELECT count(*) FROM cxkpi.kpi_scorecard
           WHERE flag IS DISTINCT FROM cxkpi.kpi_flag(status) OR status_rank IS DISTINCT FROM cxkpi.status_rank(status)
              OR (status IN ('red', 'yellow')) IS DISTINCT FROM (flag IS NOT NULL)), 0::bigint,
          'every scorecard row: the flag is the red or yellow status, the rank follows the status');
SELECT is((SELECT string_agg(DISTINCT status, ', ' ORDER BY status) FROM cxkpi.kpi_scorecard WHERE status_rank IS NULL),
          'insufficient data, no target', 'only insufficient data and no target have no rank');
SELECT is(pg_temp.st('response_time_hours', 'channel', 'chat'), 'insufficient data', 'chat: 1 response < 4');
UPDATE cxkpi.kpi_targets SET red_threshold = 80 WHERE kpi = 'cart_abandonment_rate';
SELECT is(pg_temp.st('cart_abandonment_rate'), 'off target', 'red threshold moved to exactly 80 %: not red, off the 60 % target');
UPDATE cxkpi.kpi_targets SET red_threshold = 20 WHERE kpi = 'nps';
SELECT is(pg_temp.st('nps'), 'off target', 'NPS exactly at the red threshold 20: not red, off target');
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target, red_threshold, min_sample_size) VALUES ('nps', 'web', 60, 40, 3);
SELECT is(pg_temp.st('nps', 'channel', 'web'), 'red', 'a per-dimension target overrides the overall one (web 33.3 < 40)');
SELECT is(pg_temp.st('nps', 'channel', 'store'), 'off target', 'other channels keep the overall target (store 25 > 20, < 50)');
INSERT INTO cxkpi.kpi_targets (kpi, valid_from, target, red_threshold, min_sample_size) VALUES ('nps', '2025-03-01', 10, 15, 1);
SELECT is((SELECT (target, status)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'), '(10,green)', 'a target valid from March applies to March');
SELECT is((SELECT target FROM cxkpi.kpi_trend WHERE grain = 'month' AND period_start = '2025-02-01' AND kpi = 'aov' AND breakdown = 'total'), 145::float8, 'February keeps the seeded AOV target');
SELECT is((SELECT (round(gap::numeric, 6), round(shortfall::numeric, 6), meets_target)::text FROM cxkpi.kpi_gap WHERE kpi = 'aov' AND breakdown = 'total'),
          (SELECT (round(505 / 6.0 - 145, 6), round(145 - 505 / 6.0, 6), false)::text), 'gap view: AOV vs $145');
SELECT is((SELECT round(shortfall::numeric, 6) FROM cxkpi.kpi_gap WHERE kpi = 'response_time_hours' AND breakdown = 'total'), 2.125, 'gap view: lower-is-better shortfall');
SELECT is((SELECT (status, flag, status_rank)::text FROM cxkpi.kpi_gap WHERE kpi = 'response_time_hours' AND breakdown = 'total'),
          '("off target",,3)', 'gap view: status, flag and rank');

-- Effective targets: a dimension row takes what it leaves empty (thresholds, minimum sample,
-- recovery margin) from the overall row valid in the period.
UPDATE cxkpi.kpi_targets SET min_sample_size = 1 WHERE kpi = 'csat' AND dimension = '';
SELECT is((SELECT (target, red_threshold, status)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'csat' AND breakdown = 'channel' AND dimension = 'app'),
          '(4.5,4,red)', 'CSAT app 2.0 against the overall row: red');
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target) VALUES ('csat', 'app', 4.2);
SELECT is((SELECT (target, red_threshold, yellow_threshold, min_sample_size, status, flag, status_rank)::text
           FROM cxkpi.kpi_scorecard WHERE kpi = 'csat' AND breakdown = 'channel' AND dimension = 'app'),
          '(4.2,4,,1,red,red,1)', 'the documented per-channel target (csat, app, 4.2) keeps the seed''s red trigger and the minimum sample');
SELECT is((SELECT (target, red_threshold, yellow_threshold, min_sample_size, recovery_margin)::text
           FROM cxkpi.effective_target('csat', 'app', '2025-03-01')),
          '(4.2,4,,1,0.05)', 'effective_target: the dimension row''s target, the rest from the overall row');
SELECT is((SELECT (target, min_sample_size, recovery_margin)::text FROM cxkpi.kpi_targets WHERE kpi = 'csat' AND dimension = 'app'),
          '(4.2,,)', 'the dimension row itself leaves them empty');
SELECT is((SELECT (target, status)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'csat' AND breakdown = 'channel' AND dimension = 'store'),
          '(4.5,"off target")', 'other channels keep the overall row (store 4.33)');
INSERT INTO cxkpi.kpi_targets (kpi, valid_from, target, red_threshold, min_sample_size) VALUES ('csat', '2025-03-01', 4.6, 3.0, 1);
SELECT is((SELECT string_agg(format('%s %s/%s', d, t.target, t.red_threshold), ', ' ORDER BY d)
           FROM unnest(ARRAY[date '2025-02-01', date '2025-03-01']) AS d, cxkpi.effective_target('csat', 'app', d) AS t),
          '2025-02-01 4.2/4, 2025-03-01 4.2/3', 'what the dimension row leaves empty comes from the overall row valid in the period');
SELECT is((SELECT (target, red_threshold, status)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'csat' AND breakdown = 'channel' AND dimension = 'app'),
          '(4.2,3,red)', 'CSAT app 2.0 < 3.0: red against the March overall row');
INSERT INTO cxkpi.kpi_targets (kpi, dimension, valid_from, target) VALUES ('csat', 'store', '2025-04-01', 4.0);
SELECT is((SELECT target FROM cxkpi.kpi_scorecard WHERE kpi = 'csat' AND breakdown = 'channel' AND dimension = 'store'), 4.6::float8,
          'a dimension row valid from April does not apply to March');
UPDATE cxkpi.kpi_targets SET enabled = false WHERE kpi = 'csat' AND dimension = 'app';
SELECT is((SELECT (target, red_threshold)::text FROM cxkpi.kpi_scorecard WHERE kpi = 'csat' AND breakdown = 'channel' AND dimension = 'app'),
          '(4.6,3)', 'a switched-off dimension row leaves the overall row');
SELECT is((SELECT count(*) FROM cxkpi.effective_target('ces', 'app', '2025-03-01')), 0::bigint, 'no row for a KPI without targets');
-- The views join the effective targets as spans of days (cxkpi.target_spans) instead of calling
-- cxkpi.effective_target row by row: the same target for every value, and the spans hand-worked
-- for CSAT (overall rows from -infinity and from March, a store row from April, the app row off).
SELECT is((SELECT count(*) FROM cxkpi.kpi_trend AS t
           LEFT JOIN LATERAL cxkpi.effective_target(t.kpi, t.dimension, t.period_start) AS e ON true
           WHERE (t.target, t.red_threshold, t.yellow_threshold, t.min_sample_size)
                 IS DISTINCT FROM (e.target, e.red_threshold, e.yellow_threshold, e.min_sample_size)), 0::bigint,
          'kpi_trend: the target of every value is effective_target''s');
SELECT is((SELECT string_agg(format('%s %s..%s %s/%s/%s', quote_literal(dimension), valid_from, coalesce(valid_until::text, ''),
                                    target, red_threshold, min_sample_size), ', ' ORDER BY dimension, valid_from)
           FROM cxkpi.target_spans() WHERE kpi = 'csat'),
          $$'' -infinity..2025-03-01 4.5/4/1, '' 2025-03-01.. 4.6/3/1, 'store' -infinity..2025-03-01 4.5/4/1, 'store' 2025-03-01..2025-04-01 4.6/3/1, 'store' 2025-04-01.. 4/3/1$$,
          'target_spans: CSAT''s spans, each overall row splitting the store''s');
-- The previous period and the year-ago period are joined at refresh: the same as a plain join.
SELECT is((SELECT count(*) FROM cxkpi.kpi_values AS v
           LEFT JOIN cxkpi.kpi_values AS p
                  ON (p.grain, p.kpi, p.breakdown, p.dimension) = (v.grain, v.kpi, v.breakdown, v.dimension)
                 AND p.period_start = CASE v.grain WHEN 'day' THEN v.period_start - 1 WHEN 'week' THEN v.period_start - 7
                                                   WHEN 'month' THEN (v.period_start - interval '1 month')::date
                                                   WHEN 'quarter' THEN (v.period_start - interval '3 months')::date
                                                   ELSE (v.period_start - interval '1 year')::date END
           LEFT JOIN cxkpi.kpi_values AS y
                  ON (y.grain, y.kpi, y.breakdown, y.dimension) = (v.grain, v.kpi, v.breakdown, v.dimension)
                 AND y.period_start = CASE WHEN v.grain IN ('day', 'week') THEN v.period_start - 364
                                           ELSE (v.period_start - interval '1 year')::date END
           WHERE (v.previous_value, v.value_year_ago, v.sample_size_year_ago) IS DISTINCT FROM (p.value, y.value, y.sample_size)),
          0::bigint, 'kpi_values: previous and year-ago values as a plain join of the periods');
SELECT throws_ok($$SELECT cxkpi.grain_interval('fortnight')$$, '22023', 'unknown grain "fortnight"', 'grain_interval: an unknown grain is refused');
SELECT is(cxkpi.grain_interval(NULL), NULL::interval, 'grain_interval: NULL for NULL');
SELECT is(cxkpi.previous_period_start('quarter', '2025-01-01'), date '2024-10-01', 'the quarter before Q1 2025');
SELECT is(cxkpi.year_ago_period_start('week', '2025-03-03'), date '2024-03-04', 'a year before a week: 52 weeks, a Monday');

-- Config tables: seeds, edits, refusals
SELECT is((SELECT count(*) FROM cxkpi.kpi_targets WHERE is_default), 8::bigint, 'seed 000: 12 targets, 4 of them edited above');
SELECT is((SELECT (target, red_threshold, yellow_threshold)::text FROM cxkpi.kpi_targets WHERE kpi = 'conversion_rate' AND dimension = ''),
          '(4,,2.8)', 'seed 000: conversion target 4.0 %, yellow below 2.8 %');
INSERT INTO cxkpi.kpi_targets (kpi, target, red_threshold, yellow_threshold, min_sample_size) VALUES ('retention_rate', 80, NULL, 70, 10);
SELECT is((SELECT (target, yellow_threshold, is_default)::text FROM cxkpi.kpi_targets WHERE kpi = 'retention_rate'), '(80,70,f)',
          'inserting over a built-in row replaces it (what pg_restore does), no duplicate');
SELECT throws_ok($$DELETE FROM cxkpi.kpi_targets WHERE kpi = 'aov'$$, '55006', NULL, 'built-in targets cannot be deleted');
SELECT lives_ok($$UPDATE cxkpi.kpi_targets SET enabled = false WHERE kpi = 'aov'$$, 'but can be switched off');
SELECT is((SELECT status FROM cxkpi.kpi_scorecard WHERE kpi = 'aov' AND breakdown = 'total'), 'no target', 'a switched-off target gives no status');
SELECT throws_ok($$INSERT INTO cxkpi.kpi_targets (kpi, red_threshold, yellow_threshold) VALUES ('ces', 6, 5)$$, '23514', NULL,
                 'red above yellow for a higher-is-better KPI is refused');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = 'fortnight' WHERE key = 'scorecard_grain'$$, '22023', NULL, 'an unknown grain is refused');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = 'Mars/Olympus' WHERE key = 'time_zone'$$, '22023', NULL, 'an unknown time zone is refused');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = '2025-02-30' WHERE key = 'as_of'$$, '22008', NULL, 'an impossible date is refused');
SELECT throws_ok($$INSERT INTO cxkpi.settings VALUES ('colour', 'red')$$, '23514', NULL, 'an unknown setting is refused');
UPDATE cxkpi.settings SET value = 'quarter' WHERE key = 'scorecard_grain';
SELECT is((SELECT DISTINCT (period_start, period_end)::text FROM cxkpi.kpi_scorecard), '(2025-01-01,2025-03-31)', 'quarter grain: Q1 2025');
UPDATE cxkpi.settings SET value = '2025-03-31' WHERE key = 'as_of';
SELECT is((SELECT DISTINCT (period_start, year_ago_period_start)::text FROM cxkpi.kpi_scorecard), '(2024-10-01,2023-10-01)', 'as_of 31 March: Q1 is not over yet, Q4 2024 is shown');
UPDATE cxkpi.settings SET value = 'month' WHERE key = 'scorecard_grain';
UPDATE cxkpi.settings SET value = '2025-04-01' WHERE key = 'as_of';
UPDATE cxkpi.settings SET value = '30' WHERE key = 'loyalty_active_days';
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.sc('loyalty_active_share'), round(200 / 3.0, 6), 'active members with a 30-day window: 1 and 2 (6 last ordered on 14 February)');

-- Bad rows are refused at insert with a clear error
SELECT throws_ok($$INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES (99, now(), 'nps', 11, 10, 'web')$$,
                 '23514', NULL, 'NPS 11 is refused');
SELECT throws_ok($$INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES (99, now(), 'csat', 0, 5, 'web')$$,
                 '23514', NULL, 'CSAT 0 is refused');
SELECT throws_ok($$INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES (99, now(), 'ces', 3, 6, 'web')$$,
                 '23514', NULL, 'a 6-point CES scale is refused');
SELECT throws_ok($$INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES (99, now(), 'nps', 5, 10, 'fax')$$,
                 '23514', NULL, 'an unknown touchpoint is refused');
SELECT throws_ok($$INSERT INTO cxkpi.orders VALUES (900, 1, now(), 'web', 1, 10, 0)$$, '23514', NULL, 'an unknown order channel is refused');
SELECT throws_ok($$INSERT INTO cxkpi.orders VALUES (900, 1, now(), 'app', 1, 10, 11)$$, '23514', NULL, 'a discount above the gross value is refused');
SELECT throws_ok($$INSERT INTO cxkpi.orders VALUES (900, 1, now(), 'app', 0, 10, 0)$$, '23514', NULL, 'an order without items is refused');
SELECT throws_ok($$INSERT INTO cxkpi.orders VALUES (900, 77, now(), 'app', 1, 10, 0)$$, '23503', NULL, 'an order of an unknown customer is refused');
SELECT throws_ok($$INSERT INTO cxkpi.order_returns VALUES (90, 109, '2025-03-20', NULL, 2, 10, 'customer', NULL)$$, '23514', NULL,
                 'returning 2 items of a 1-item order is refused');
SELECT throws_ok($$INSERT INTO cxkpi.order_returns VALUES (90, 107, '2025-03-20', NULL, 1, 30.01, 'customer', NULL)$$, '23514', NULL,
                 'returning more than the net order value is refused');
SELECT throws_ok($$INSERT INTO cxkpi.order_returns VALUES (90, 107, '2025-03-01', NULL, 1, 10, 'customer', NULL)$$, '23514', NULL,
                 'a return requested before its order is refused');
SELECT throws_ok($$INSERT INTO cxkpi.order_returns VALUES (90, 107, '2025-03-20', '2025-03-19', 1, 10, 'customer', NULL)$$, '23514', NULL,
                 'a return received before it was requested is refused');
SELECT throws_ok($$INSERT INTO cxkpi.web_sessions VALUES (99, now(), 'desktop', NULL, false, false, true)$$, '23514', NULL,
                 'a conversion without checkout is refused');
SELECT throws_ok($$INSERT INTO cxkpi.carts VALUES (99, '2025-03-01', 'app', NULL, '2025-03-01 01:00', '2025-03-01 02:00', NULL)$$, '23514', NULL,
                 'a cart both converted and abandoned is refused');
SELECT throws_ok($$INSERT INTO cxkpi.carts VALUES (99, '2025-03-01', 'app', NULL, '2025-02-28', NULL, NULL)$$, '23514', NULL,
                 'a cart converted before it was created is refused');
SELECT throws_ok($$INSERT INTO cxkpi.support_tickets VALUES (99, NULL, 'email', '2025-03-01', '2025-02-28', NULL, NULL, false)$$, '23514', NULL,
                 'a response before the ticket is refused');
SELECT throws_ok($$INSERT INTO cxkpi.support_tickets VALUES (99, NULL, 'sms', '2025-03-01', NULL, NULL, NULL, false)$$, '23514', NULL,
                 'an unknown support channel is refused');
SELECT throws_ok($$INSERT INTO cxkpi.app_ratings VALUES (99, now(), 'app_store', 6, NULL, NULL)$$, '23514', NULL, 'a 6-star rating is refused');
SELECT throws_ok($$INSERT INTO cxkpi.metric_observations VALUES ('uptime_pct', now(), '', 100.5, 1)$$, '23514', NULL, 'uptime above 100 % is refused');
SELECT throws_ok($$INSERT INTO cxkpi.metric_observations VALUES ('nps', now(), '', 50, 1)$$, '23514', NULL, 'an observation of a computed KPI is refused');
SELECT throws_ok($$INSERT INTO cxkpi.metric_observations VALUES ('uptime_pct', now(), '', 'NaN', 1)$$, '23514', NULL, 'NaN is refused');
SELECT throws_ok($$INSERT INTO cxkpi.loyalty_members VALUES (3, '2025-03-10', '2025-03-01', 'gold')$$, '23514', NULL, 'activity before enrolment is refused');
SELECT throws_ok($$INSERT INTO cxkpi.loyalty_activity VALUES (1, '2024-05-31 09:59+00', 'visit')$$, '23514',
                 'loyalty activity of member 1 is before the enrolment',
                 'a programme activity before the enrolment day in every time zone is refused (member 1 enrolled on 1 June; 1 June starts at 10:00 UTC on 31 May at UTC+14)');
SELECT lives_ok($$INSERT INTO cxkpi.loyalty_activity VALUES (1, '2024-05-31 10:00+00', 'visit')$$,
                'one on the enrolment day somewhere (UTC+14) is accepted, whatever the time_zone setting (it may change, a restore loads rows before settings)');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (numerator, denominator)::text FROM cxkpi.kpi_values
           WHERE grain = 'week' AND period_start = '2024-05-27' AND kpi = 'loyalty_active_share'),
          '(0,2)', 'the dashboard counts days in its time zone (UTC): on 31 May, before enrolling, it does not make member 1 active in the week to 2 June (30-day window)');
SELECT throws_ok($$UPDATE cxkpi.loyalty_members SET enrolled_on = '2025-01-01' WHERE customer_id = 1$$, '23514', NULL,
                 'an enrolment moved after an activity of the member is refused (the reward of 20 December)');
SELECT throws_ok($$INSERT INTO cxkpi.loyalty_activity VALUES (3, '2025-03-15', 'visit')$$, '23503', NULL,
                 'an activity of a customer who is not a member is refused');
SELECT throws_ok($$INSERT INTO cxkpi.loyalty_activity VALUES (1, '2025-03-15', 'points')$$, '23514', NULL, 'an unknown activity kind is refused');
SELECT throws_ok($$INSERT INTO cxkpi.loyalty_activity VALUES (1, 'infinity', 'visit')$$, '23514', NULL, 'an infinite activity time is refused');
SELECT lives_ok($$INSERT INTO cxkpi.loyalty_activity (customer_id, active_at) VALUES (1, '2024-06-01 00:00+00')$$,
                'an activity on the enrolment day is accepted (kind other by default)');
SELECT throws_ok($$INSERT INTO cxkpi.customers VALUES (99, 'infinity', 'social', 0)$$, '23514', NULL, 'an infinite date is refused');
-- A user KPI observed elsewhere
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max)
VALUES ('nps_staff', 'Employee NPS', 'operational_efficiency', 'points', 'higher_is_better', 'eNPS survey', 'metric_observations', -100, 100);
INSERT INTO cxkpi.metric_observations VALUES ('nps_staff', '2025-03-10', '', 30, 1);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.sc('nps_staff'), 30.0, 'a user KPI from metric_observations shows on the scorecard');

-- BI contract: comments on every view and column; standard scalar types only
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'cxkpi' AND c.relkind = 'v' AND obj_description(c.oid, 'pg_class') IS NULL), 0::bigint, 'every view has a COMMENT');
SELECT is((SELECT string_agg(c.relname || '.' || a.attname, ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
           WHERE n.nspname = 'cxkpi' AND c.relkind = 'v' AND col_description(c.oid, a.attnum) IS NULL), NULL, 'every view column has a COMMENT');
SELECT is((SELECT string_agg(DISTINCT format_type(a.atttypid, NULL), ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
           WHERE n.nspname = 'cxkpi' AND c.relkind = 'v'
             -- (the per-survey views and the feedback stream keep the table's integer scores, which the aggregates take)
             AND c.relname NOT IN ('nps_responses', 'csat_responses', 'ces_responses', 'feedback_stream', 'returns_feedback')
             AND a.atttypid NOT IN ('double precision'::regtype, 'numeric'::regtype, 'bigint'::regtype, 'date'::regtype,
                                    'timestamp with time zone'::regtype, 'text'::regtype, 'boolean'::regtype)), NULL,
          'view columns are double precision, numeric, bigint, date, timestamptz, text or boolean');
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
           WHERE n.nspname = 'cxkpi' AND c.relkind = 'v' AND a.attname !~ '^[a-z][a-z0-9_]*$'), 0::bigint, 'snake_case column names');
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indrelid = c.oid
           WHERE n.nspname = 'cxkpi' AND c.relkind = 'm' AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL),
          (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'cxkpi' AND c.relkind = 'm'),
          'every rollup matview has a plain unique index (REFRESH CONCURRENTLY)');

-- The reader role: reads the views (in schema cxkpi_bi since 1.1, test/tap/72_bi.sql), nothing else
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi_bi.kpi_scorecard WHERE kpi = ''aov'' AND value IS NOT NULL'), '8',
          'reader reads the scorecard, with its data');
SELECT is(pg_temp.as_reader('SELECT count(*) > 0 FROM cxkpi_bi.kpi_timeseries'), 'true', 'reader reads the timeseries');
SELECT is(pg_temp.as_reader('SELECT count(*) > 0 FROM cxkpi_bi.kpi_returns'), 'true', 'reader reads a section view');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.kpi_targets'), '42501', 'reader cannot read the config tables (the views show the targets)');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.settings'), '42501', 'nor the settings');
SELECT is(pg_temp.as_reader('SELECT count(*) > 0 FROM cxkpi_bi.kpi_gap'), 'true', 'reader reads the gap view');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.orders'), '42501', 'reader cannot read orders');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.survey_responses'), '42501', 'reader cannot read survey answers');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.kpi_values'), '42501', 'reader cannot read the rollups directly');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.loyalty_activity'), '42501', 'reader cannot read the loyalty activity');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.daily_surveys'), '42501', 'reader cannot read the daily summaries');
SELECT is(pg_temp.as_reader('UPDATE cxkpi.kpi_targets SET target = 1'), '42501', 'reader cannot edit targets');
SELECT is(pg_temp.as_reader('INSERT INTO cxkpi.orders VALUES (999, 1, now(), ''app'', 1, 1, 0)'), '42501', 'reader cannot write data');
SELECT is(pg_temp.as_reader('CALL cxkpi.refresh_dashboard()'), '42501', 'reader cannot refresh');

-- Orders keep room for their returns
SELECT throws_ok($$UPDATE cxkpi.orders SET items = 3 WHERE order_id = 108$$, '23514', NULL,
                 'an order cannot shrink below its returned items');
SELECT throws_ok($$UPDATE cxkpi.orders SET ordered_at = '2025-03-26 00:00+00' WHERE order_id = 108$$, '23514', NULL,
                 'nor be moved after its return request');
SELECT lives_ok($$UPDATE cxkpi.orders SET items = 5 WHERE order_id = 108$$, 'growing it is fine');
UPDATE cxkpi.orders SET items = 4 WHERE order_id = 108;
SELECT throws_ok($$UPDATE cxkpi.kpi_definitions SET kpi = 'net_promoter' WHERE kpi = 'nps'$$, '55006', NULL,
                 'a built-in KPI key cannot be renamed');
SELECT throws_ok($$INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source)
                   VALUES ('magic', 'Magic', 'other', 'count', 'higher_is_better', '?', 'builtin')$$, '23514', NULL,
                 'a user KPI cannot claim to be built in');

-- Days are calendar days of the time_zone setting: an order at 03:00 UTC on 1 April is on
-- 31 March in Los Angeles.
INSERT INTO cxkpi.orders VALUES (113, 4, '2025-04-01 03:00+00', 'app', 1, 75.00, 0);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.ts('month', '2025-03-01', 'aov'), round(505 / 6.0, 6), 'UTC: the order is in April');
UPDATE cxkpi.settings SET value = 'America/Los_Angeles' WHERE key = 'time_zone';
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.ts('month', '2025-03-01', 'aov'), round(580 / 7.0, 6), 'Los Angeles: the order is on 31 March');
SELECT is((SELECT "time" FROM cxkpi.kpi_timeseries WHERE grain = 'month' AND period_start = '2025-03-01' AND kpi = 'aov' AND breakdown = 'total'),
          timestamptz '2025-03-01 00:00 America/Los_Angeles', 'time is local midnight of the period start');

-- Forced parallel refresh gives the same rollups as the serial one
CREATE TEMP TABLE serial_values AS SELECT * FROM cxkpi.kpi_values;
-- (force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16)
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'regress', true) IS NOT NULL AS forced \gset
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT count(*) FROM (
    (SELECT grain, period_start, kpi, breakdown, dimension, round(value::numeric, 9), round(numerator::numeric, 6), round(denominator::numeric, 6), sample_size,
            round(ci_lower::numeric, 9), round(ci_upper::numeric, 9) FROM serial_values
     EXCEPT
     SELECT grain, period_start, kpi, breakdown, dimension, round(value::numeric, 9), round(numerator::numeric, 6), round(denominator::numeric, 6), sample_size,
            round(ci_lower::numeric, 9), round(ci_upper::numeric, 9) FROM cxkpi.kpi_values)
    UNION ALL
    (SELECT grain, period_start, kpi, breakdown, dimension, round(value::numeric, 9), round(numerator::numeric, 6), round(denominator::numeric, 6), sample_size,
            round(ci_lower::numeric, 9), round(ci_upper::numeric, 9) FROM cxkpi.kpi_values
     EXCEPT
     SELECT grain, period_start, kpi, breakdown, dimension, round(value::numeric, 9), round(numerator::numeric, 6), round(denominator::numeric, 6), sample_size,
            round(ci_lower::numeric, 9), round(ci_upper::numeric, 9) FROM serial_values)) d), 0::bigint,
    'forced parallel refresh = serial refresh');
SELECT cmp_ok((SELECT count(*) FROM serial_values), '>', 1000::bigint, 'on more than a thousand KPI rows');

-- The customer models are refitted at every refresh with changes from here on (by default at
-- most every hour: docs/architecture.md#customer-models; 92_interventions tests that).
UPDATE cxkpi.settings SET value = '0' WHERE key = 'customer_models_interval';
-- The churn watch list and the win-back list.  400 more customers (the model-based customer value
-- example of docs/dashboard.md): customer 1000 + k orders every 7 + k % 50 days from day k % 60
-- of April 2024 until day 100 + 37 k % 300 (once only when k % 3 = 0); as_of is 1 April 2025.
INSERT INTO cxkpi.customers (customer_id, acquired_on) SELECT 1000 + k, '2024-03-01' FROM generate_series(1, 400) AS k;
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value)
SELECT 100000 + row_number() OVER (), 1000 + k, timestamptz '2024-04-01 12:00+00' + d * interval '1 day', 'web_desktop', 1,
       round((5 + (k % 23) * 6) * (0.6 + ((k * 7 + d * 3) % 10) / 12.0), 2)
FROM generate_series(1, 400) AS k, generate_series(k % 60, 100 + (k * 37) % 300, 7 + k % 50) AS d
WHERE k % 3 <> 0 OR d = k % 60;
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT fit_error IS NULL AND converged(bgnbd) AND converged(gamma_gamma) FROM cxkpi.clv_models), true,
          'the CLV models fit the 406 customers');
SELECT is((SELECT count(*) FROM cxkpi.customer_value),
          (SELECT count(DISTINCT customer_id) FROM cxkpi.orders WHERE (ordered_at AT TIME ZONE 'America/Los_Angeles')::date <= '2025-04-01'),
          'the refresh scored every customer with orders up to as_of');
-- RFM and the CLV if alive by hand: a surviving customer is a new customer of the posterior model
-- (r + x, alpha + T, a, b + x) with P(alive) 1, at the customer's expected spend.
CREATE TEMP TABLE by_hand AS
WITH days AS (
    SELECT customer_id, (ordered_at AT TIME ZONE 'America/Los_Angeles')::date AS d, sum(gross_value - discount) AS v
    FROM cxkpi.orders WHERE (ordered_at AT TIME ZONE 'America/Los_Angeles')::date <= '2025-04-01' GROUP BY 1, 2),
r AS (
    SELECT customer_id, (count(*) - 1)::int AS x, (max(d) - min(d)) / 7.0 AS tx, (date '2025-04-01' - min(d)) / 7.0 AS t,
           coalesce(avg(v) FILTER (WHERE k > 1), 0) AS mbar, sum(v) AS total, max(d) AS last_day
    FROM (SELECT days.*, row_number() OVER (PARTITION BY customer_id ORDER BY d) AS k FROM days) q GROUP BY customer_id)
SELECT r.customer_id, r.total, r.last_day, p_alive(m.bgnbd, r.x, r.tx, r.t) AS p_alive,
       clv(m.bgnbd, m.gamma_gamma, r.x, r.tx, r.t, r.mbar, 52, 0.01, 365.25 / 12 / 7) AS clv,
       expected_spend(m.gamma_gamma, r.x, r.mbar) / expected_spend(m.gamma_gamma, 0, 0)
       * clv(bgnbd_model(p.r + r.x, p.alpha + r.t, p.a, p.b + r.x), m.gamma_gamma, 0, 0, 0, 0, 52, 0.01, 365.25 / 12 / 7)
           AS clv_if_alive
FROM r, cxkpi.clv_models AS m, bgnbd_params(m.bgnbd) AS p;
SELECT is((SELECT count(*) FROM cxkpi.customer_value AS v JOIN by_hand AS h USING (customer_id)
           WHERE v.historic_value_currency <> h.total OR abs(v.p_alive - h.p_alive) > 1e-12
              OR abs(v.clv_52w_currency - h.clv) > 1e-9 * h.clv
              OR abs(v.clv_if_alive_52w_currency - h.clv_if_alive) > 1e-9 * h.clv_if_alive
              OR abs(v.value_at_stake_52w_currency - h.clv_if_alive * (1 - h.p_alive)) > 1e-9 * h.clv_if_alive), 0::bigint,
          'every customer: historic value, P(alive), CLV, CLV if alive and value at stake = the computation by hand');
SELECT cmp_ok((SELECT count(*) FROM cxkpi.churn_watch_list), '>=', 100::bigint, 'the watch list has customers');
SELECT cmp_ok((SELECT count(*) FROM cxkpi.win_back_list), '>=', 50::bigint, 'so has the win-back list');
SELECT is((SELECT count(*) FROM cxkpi.churn_watch_list WHERE NOT p_alive >= 0.1), 0::bigint,
          'no customer on the watch list is gone: P(alive) at least gone_p_alive 0.1');
SELECT is((SELECT count(*) FROM cxkpi.churn_watch_list AS w JOIN by_hand AS h USING (customer_id)
           WHERE abs(w.value_at_stake_52w_currency - (h.clv / h.p_alive - h.clv)) > 1e-9 * w.value_at_stake_52w_currency), 0::bigint,
          'on the watch list (P(alive) >= 0.1) the value at stake equals clv / P(alive) - clv');
SELECT is((SELECT count(*) FROM (SELECT watch_rank, row_number() OVER (ORDER BY watch_rank) AS n,
                                        lag(value_at_stake_52w_currency) OVER (ORDER BY watch_rank) AS before, value_at_stake_52w_currency AS stake
                                 FROM cxkpi.churn_watch_list) q
           WHERE watch_rank <> n OR before < stake), 0::bigint, 'the watch list is ranked 1, 2, 3, ... by value at stake, highest first');
SELECT is((SELECT array_agg(customer_id ORDER BY watch_rank) FROM (SELECT * FROM cxkpi.churn_watch_list LIMIT 5) q),
          (SELECT array_agg(customer_id ORDER BY stake DESC, customer_id)
           FROM (SELECT customer_id, clv_if_alive * (1 - p_alive) AS stake FROM by_hand WHERE p_alive >= 0.1
                 ORDER BY 2 DESC, 1 LIMIT 5) q),
          'its top five by hand');
SELECT is((SELECT count(*) FROM cxkpi.win_back_list WHERE NOT p_alive < 0.1), 0::bigint, 'every customer on the win-back list is gone');
SELECT is((SELECT count(*) FROM cxkpi.win_back_list), (SELECT count(*) FROM by_hand WHERE p_alive < 0.1),
          'and every gone customer is on it');
SELECT is((SELECT count(*) FROM cxkpi.win_back_list AS w JOIN by_hand AS h USING (customer_id)
           WHERE abs(w.win_back_score_currency - h.total::float8 * 0.5 ^ ((date '2025-04-01' - h.last_day) / 7.0 / 52))
                 > 1e-9 * w.win_back_score_currency), 0::bigint,
          'win-back score = historic value halved for every 52 weeks since the last order');
SELECT is((SELECT count(*) FROM (SELECT win_back_rank, row_number() OVER (ORDER BY win_back_rank) AS n,
                                        lag(win_back_score_currency) OVER (ORDER BY win_back_rank) AS before, win_back_score_currency AS score
                                 FROM cxkpi.win_back_list) q
           WHERE win_back_rank <> n OR before < score), 0::bigint, 'the win-back list is ranked by that score');
SELECT is((SELECT count(*) FROM cxkpi.customer_value WHERE gone IS DISTINCT FROM (p_alive < 0.1)), 0::bigint,
          'customer_value.gone is P(alive) < gone_p_alive');
-- The ranking the demo used to have (high 13-week churn risk, 3 orders or more, by historic value
-- x churn probability) put gone customers first: 9 of its top ten; the watch list has none.
SELECT is((SELECT count(*) FILTER (WHERE gone)::text || ' gone, ' || count(*) FILTER (WHERE customer_id IN (SELECT customer_id FROM cxkpi.churn_watch_list))
                  || ' on the watch list, ' || count(*) FILTER (WHERE customer_id IN (SELECT customer_id FROM cxkpi.win_back_list)) || ' on the win-back list'
           FROM (SELECT customer_id, gone FROM cxkpi.customer_value WHERE churn_risk_13w = 'high' AND purchases >= 3
                 ORDER BY historic_value_currency * churn_probability_13w DESC LIMIT 10) q),
          '9 gone, 1 on the watch list, 9 on the win-back list', 'the old ranking''s top ten: 9 gone customers, which the watch list leaves out');
UPDATE cxkpi.settings SET value = '0.5' WHERE key = 'gone_p_alive';
SELECT is((SELECT (min(p_alive) >= 0.5)::text FROM cxkpi.churn_watch_list), 'false',
          'gone_p_alive 0.5: the lists are those of the last refresh (scored, split and ranked then)');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (min(p_alive) >= 0.5)::text || ' ' || (count(*) = (SELECT count(*) FROM by_hand WHERE p_alive >= 0.5 AND clv_if_alive * (1 - p_alive) > 0))::text
           || ' ' || (max(watch_rank) = count(*))::text
           FROM cxkpi.churn_watch_list), 'true true true', 'and follow it at the next refresh, ranked 1..n again');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = '1' WHERE key = 'gone_p_alive'$$, '22023', NULL, 'gone_p_alive 1 is refused');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = '-0.1' WHERE key = 'gone_p_alive'$$, '22023', NULL, 'so is a negative one');
SELECT is(pg_temp.as_reader('SELECT count(*) > 0 FROM cxkpi_bi.churn_watch_list'), 'true', 'reader reads the watch list');
SELECT is(pg_temp.as_reader('SELECT count(*) > 0 FROM cxkpi_bi.win_back_list'), 'true', 'and the win-back list');
SELECT is(pg_temp.as_reader('SELECT count(*) FROM cxkpi.customer_scores'), '42501', 'but not the scores matview');

-- Every foreign key of the extension's tables has an index that starts with its referencing
-- columns: deleting an order or a customer must not scan each referencing table per row.
SELECT is_empty($$
    SELECT c.conrelid::regclass::text || ' ' || c.conname
    FROM pg_constraint AS c JOIN pg_namespace AS n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND n.nspname IN ('cxkpi', 'cxkpi_bi')
      AND NOT EXISTS (SELECT 1 FROM pg_index AS i
                      WHERE i.indrelid = c.conrelid
                        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)$$,
    'every foreign key has an index on its referencing columns');

SELECT * FROM finish();
ROLLBACK;
