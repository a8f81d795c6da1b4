-- Errors with their SQLSTATEs, overflow checks, and the function labels every object must carry.
BEGIN;
SET client_min_messages = warning;
SELECT plan(39);

-- out-of-range scores: 22003
SELECT throws_ok('SELECT nps_agg(x) FROM (VALUES (11)) v(x)', '22003', 'NPS score 11 is out of range', 'NPS 11');
SELECT throws_ok('SELECT nps(x) FROM (VALUES (-1)) v(x)', '22003', 'NPS score -1 is out of range', 'NPS -1');
SELECT throws_ok('SELECT csat_agg(x) FROM (VALUES (6)) v(x)', '22003', NULL, 'CSAT 6 on 5');
SELECT throws_ok('SELECT csat(x, 7) FROM (VALUES (0)) v(x)', '22003', NULL, 'CSAT 0 on 7');
SELECT throws_ok('SELECT ces_agg(x, 5) FROM (VALUES (6)) v(x)', '22003', NULL, 'CES 6 on 5');
SELECT throws_ok('SELECT nps_agg(x) FROM (VALUES (2147483647)) v(x)', '22003', NULL, 'NPS int max');

-- unsupported scales, scale changes, bad confidence levels: 22023
SELECT throws_ok('SELECT csat_agg(1, 4)', '22023', 'CSAT scale 4 is not supported', 'CSAT scale 4');
SELECT throws_ok('SELECT ces_agg(1, 3)', '22023', 'CES scale 3 is not supported', 'CES scale 3');
SELECT throws_ok('SELECT csat_agg(x, s) FROM (VALUES (1, 5), (1, 10)) v(x, s)', '22023', NULL,
                 'scale changing within a group');
SELECT throws_ok($$SELECT nps_ci_lower('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})', 1.5)$$, '22023', NULL, 'confidence 1.5');
SELECT throws_ok($$SELECT nps_margin_of_error('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})', -0.1)$$, '22023', NULL, 'confidence -0.1');
SELECT throws_ok($$SELECT csat_ci_lower('(v1,scale=5,n=0,counts={0,0,0,0,0})', 0)$$, '22023', NULL,
                 'confidence checked even for an empty summary');
SELECT throws_ok($$SELECT ces_ci_upper('(v1,scale=7,n=1,counts={0,0,0,0,0,0,1})', 'Infinity')$$, '22023', NULL, 'confidence infinity');

-- merging different scales: 22000
SELECT throws_ok($$SELECT merge('(v1,scale=5,n=0,counts={0,0,0,0,0})'::csat_summary, '(v1,scale=7,n=0,counts={0,0,0,0,0,0,0})')$$,
                 '22000', 'cannot merge csat_summary values on different scales', 'merge 5 with 7');
SELECT throws_ok($$SELECT rollup(s) FROM (VALUES ('(v1,scale=5,n=0,counts={0,0,0,0,0})'::ces_summary),
                                                ('(v1,scale=7,n=0,counts={0,0,0,0,0,0,0})')) v(s)$$,
                 '22000', NULL, 'rollup over two scales');

-- counter overflow on merge: 22003
SELECT throws_ok($$SELECT merge('(v1,n=9223372036854775807,counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807})'::nps_summary,
                                '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})')$$, '22003', NULL, 'bin overflow on merge');
SELECT throws_ok($$SELECT rollup(s) FROM (VALUES
                    ('(v1,n=9223372036854775807,counts={9223372036854775807,0,0,0,0,0,0,0,0,0,0})'::nps_summary),
                    ('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})')) v(s)$$, '22003', NULL, 'total overflow on rollup');
SELECT throws_ok($$SELECT rollup(s) FROM (VALUES
                    ('(v1,scale=5,n=9223372036854775807,counts={0,0,0,0,9223372036854775807})'::csat_summary),
                    ('(v1,scale=5,n=1,counts={0,0,0,0,1})')) v(s)$$, '22003', NULL, 'CSAT overflow on rollup');
SELECT is(nps(s), 100::float8, 'the largest representable summary still answers')
FROM (SELECT '(v1,n=9223372036854775807,counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807})'::nps_summary AS s) q;
SELECT is(nps_diff_pvalue(s, s), 1::float8,
          'nps_diff_pvalue of the largest summary with itself is 1, not NaN (the variance no longer cancels to 0)')
FROM (SELECT '(v1,n=9223372036854775807,counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807})'::nps_summary AS s) q;

-- merge() outside an aggregate never modifies its arguments
CREATE TEMP TABLE m (s nps_summary);
INSERT INTO m VALUES ('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})');
SELECT is((SELECT merge(s, s)::text FROM m), '(v1,n=2,counts={0,0,0,0,0,0,0,0,0,0,2})', 'merge adds');
SELECT throws_ok('SELECT nps_agg_trans(s, 5) FROM m', 'XX000', NULL,
                 'a transition function called directly refuses to touch a table value');
SELECT throws_ok($$SELECT return_agg_trans('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)'::return_summary, 1, 0)$$,
                 'XX000', NULL, 'so does the returns transition');
SELECT is((SELECT s::text FROM m), '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})', 'the stored value is unchanged');

-- every error names the function the user called (issue 15, item 10)
SELECT throws_ok('SELECT nps_agg_trans(s, 5) FROM m', 'XX000', 'nps_agg_trans called in non-aggregate context',
                 'an aggregate support function called directly is named');
SELECT throws_ok($$SELECT csat_rollup_untrans('(v1,scale=5,n=0,counts={0,0,0,0,0})', NULL)$$, 'XX000',
                 'csat_rollup_untrans called in non-aggregate context', 'an inverse transition is named as itself');
SELECT throws_ok($$SELECT return_agg_untrans('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)'::return_summary, 1, 0)$$,
                 'XX000', 'return_agg_untrans called in non-aggregate context',
                 'return_agg_untrans is named, not the transition function that shares its code');
SELECT throws_ok($$SELECT retention_agg_trans(NULL::retention_summary, 1, '2024-01-01')$$, 'XX000',
                 'retention_agg_trans called in non-aggregate context', 'the retention transition is named');
CREATE TEMP TABLE wide AS
SELECT retention_agg(c, d, 'day') AS s FROM (VALUES (1, date '2000-01-01'), (2, date '5000-01-01'), (1, '5000-01-01')) v(c, d);
SELECT is((SELECT repeat_customer_rate(s) FROM wide), 50::float8,
          'repeat_customer_rate reads only the stored periods: no span limit (it raised 54000 naming retention_by_period)');
SELECT throws_ok('SELECT count(*) FROM retention_by_period((SELECT s FROM wide))', '54000',
                 'retention_by_period would report 1095729 periods, more than the limit of 1000000',
                 'the span limit of retention_by_period names retention_by_period');
SELECT throws_ok('SELECT count(*) FROM cohort_retention((SELECT s FROM wide))', '54000',
                 'cohort_retention would report 1095729 periods, more than the limit of 1000000',
                 'the span limit of cohort_retention names cohort_retention');
SELECT throws_ok($$SELECT cohort_retention((SELECT s FROM wide), 'sideways')$$, '22023',
                 'unknown cohort mode "sideways"', 'an unknown cohort mode');
SELECT throws_ok($$SELECT p_alive(bgnbd_model(1, 1, 1, 1), 1, 2, 1)$$, '22023',
                 'invalid RFM row: recency 2 exceeds t 1', 'p_alive checks the row');
SELECT throws_ok($$SELECT churn_risk(bgnbd_model(1, 1, 1, 1), 1, 1, 2, -1)$$, '22023',
                 'invalid horizon -1', 'churn_risk checks the horizon');

-- the refresh schedule (docs/dashboard.md#scheduling-the-refresh-with-pg_cron): a period pg_cron
-- can run, and pg_cron in this database (this one has none)
SELECT throws_ok($$SELECT cxkpi.schedule_refresh(interval '90 seconds')$$, '22023',
                 'cannot schedule the refresh every 00:01:30', 'schedule_refresh: 1-59 seconds or whole minutes 1-59');
SELECT throws_ok($$SELECT cxkpi.schedule_refresh()$$, '55000', NULL,
                 'schedule_refresh without pg_cron in the database: 55000, the hint gives the alternatives');

-- labels: every function of the extension is PARALLEL SAFE and IMMUTABLE, except the ones that
-- write (trigger functions, the refresh procedure, the alerting functions: VOLATILE and
-- PARALLEL UNSAFE, as writing functions must be) and the ones that read tables or the session's
-- time zone (STABLE: forecast() gives a date series' times as timestamptz; the dashboard page's
-- functions read views);
-- every accessor (a function of one summary returning a scalar) is STRICT.
CREATE TEMP TABLE writers (f regprocedure);
INSERT INTO writers VALUES ('cxkpi.alert_evaluate(text[], date[], boolean)'), ('cxkpi.check_thresholds()'),
    ('cxkpi.set_alerting(boolean)'), ('cxkpi.acknowledge_alert(bigint)'),
    ('cxkpi.feedback_raise(date[], boolean)'), ('cxkpi.acknowledge_feedback(bigint)'), ('cxkpi.resolve_feedback(bigint, text)'),
    ('cxkpi.dashboard_maintain(boolean, boolean)'), ('cxkpi.customer_models_refresh(boolean, timestamptz)'),
    ('cxkpi.forecasts_maintain(boolean, timestamptz)'),
    ('cxkpi.schedule_refresh(interval)'), ('cxkpi.unschedule_refresh()'),
    ('cxkpi.fit_clv_models()'),   -- reads only, but its exception blocks (subtransactions) are parallel unsafe
    ('cxkpi.generate_sample_data(double precision, integer, boolean)');
SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cxkpi'
           WHERE p.proparallel <> 's' AND p.prokind <> 'p' AND p.prorettype <> 'trigger'::regtype
             AND p.oid NOT IN (SELECT f FROM writers)), 0::bigint,
          'every function and aggregate is PARALLEL SAFE, but for those that write (trigger functions, the refresh procedure, the alerting writers)');
SELECT is((SELECT string_agg(p.oid::regprocedure::text || ' ' || p.provolatile::text || p.proparallel::text, ', '
                             ORDER BY p.oid::regprocedure::text)
           FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cxkpi'
           WHERE p.prokind = 'f' AND p.provolatile <> 'i' AND p.prorettype <> 'trigger'::regtype),
          'cxkpi.acknowledge_alert(bigint) vu, cxkpi.acknowledge_feedback(bigint) vu, '
          'cxkpi.alert_evaluate(text[],date[],boolean) vu, cxkpi.alerting_enabled() ss, '
          'cxkpi.as_of() ss, cxkpi.check_thresholds() vu, '
          'cxkpi.customer_models_refresh(boolean,timestamp with time zone) vu, cxkpi.customer_models_settings() ss, '
          'cxkpi.dashboard_argument_error(text,text,text) ss, '
          'cxkpi.dashboard_days() ss, cxkpi.dashboard_horizons() ss, cxkpi.dashboard_maintain(boolean,boolean) vu, cxkpi.dashboard_settings() ss, '
          'cxkpi.effective_target(text,text,date) ss, cxkpi.feedback_raise(date[],boolean) vu, cxkpi.fit_clv_models() su, '
          'cxkpi.forecast_input(text,text,date,date) ss, cxkpi.forecast_window(text,text,date) ss, '
          'cxkpi.forecasts_maintain(boolean,timestamp with time zone) vu, cxkpi.generate_sample_data(double precision,integer,boolean) vu, '
          'cxkpi.kpi_engine(text[],date[]) ss, '
          'cxkpi.progress_notice(text,bigint,timestamp with time zone) vs, cxkpi.realtime_now() ss, cxkpi.resolve_feedback(bigint,text) vu, '
          'cxkpi.rollup_daily_acquisition(text,date,date) ss, cxkpi.rollup_daily_app_ratings(text,date,date) ss, '
          'cxkpi.rollup_daily_carts(text,date,date) ss, cxkpi.rollup_daily_conversion(text,date,date) ss, '
          'cxkpi.rollup_daily_customer_activity(text,date,date) ss, cxkpi.rollup_daily_deliveries(text,date,date) ss, '
          'cxkpi.rollup_daily_engagement(text,date,date) ss, cxkpi.rollup_daily_loyalty(text,date,date) ss, '
          'cxkpi.rollup_daily_observations(text,date,date) ss, cxkpi.rollup_daily_orders(text,date,date) ss, '
          'cxkpi.rollup_daily_return_events(text,date,date) ss, cxkpi.rollup_daily_sentiment(text,date,date) ss, '
          'cxkpi.rollup_daily_surveys(text,date,date) ss, cxkpi.rollup_daily_ticket_resolutions(text,date,date) ss, '
          'cxkpi.rollup_daily_tickets(text,date,date) ss, '
          'cxkpi.rollup_hourly_carts(text,date,date) ss, cxkpi.rollup_hourly_conversion(text,date,date) ss, '
          'cxkpi.rollup_hourly_orders(text,date,date) ss, cxkpi.rollup_hourly_tickets(text,date,date) ss, '
          'cxkpi.schedule_refresh(interval) vu, cxkpi.sentiment_polarity(text) ss, '
          'cxkpi.set_alerting(boolean) vu, cxkpi.setting(text) ss, cxkpi.target_spans() ss, '
          'cxkpi.unschedule_refresh() vu, '
          'cxkpi_bi.dashboard_data(text[],integer) ss, cxkpi_bi.dashboard_forecast(integer) ss, cxkpi_bi.dashboard_page(text,text,text[],integer) ss, '
          'forecast(ets_model,integer) ss',
          'every other function is IMMUTABLE: the table readers and forecast() (it reads the session time zone) are STABLE, the writers VOLATILE and PARALLEL UNSAFE, the progress notice VOLATILE (it reads the clock), the error of the page functions STABLE (so that the planner never raises it while it folds constants)');
SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cxkpi'
           WHERE p.prokind = 'f' AND NOT p.proisstrict
             AND p.proargtypes[0] IN ('nps_summary'::regtype, 'csat_summary'::regtype, 'ces_summary'::regtype)
             AND p.prorettype NOT IN ('nps_summary'::regtype, 'csat_summary'::regtype, 'ces_summary'::regtype)),
          0::bigint, 'every accessor is STRICT');

SELECT * FROM finish();
ROLLBACK;
