-- Alerting (docs/alerts.md): the refresh evaluates the alert levels from cxkpi.kpi_values.  Every
-- seed-000 action trigger fires exactly once when its threshold is crossed, at the edge value;
-- recovery with the margin; minimum samples; rolled-back statements; multi-row INSERT, COPY,
-- UPDATE and DELETE; exactly once across refreshes; alerting off raises nothing; the states are
-- the dashboard's values and their levels the scorecard's statuses; backfills of closed periods
-- raise nothing; edited targets and settings; privileges and the forging attack of issue 15.
BEGIN;
SET client_min_messages = warning;
SELECT plan(94);

UPDATE cxkpi.settings SET value = '2026-11-20' WHERE key = 'as_of';
-- Facts reach the alerts at the next refresh: each step below writes facts, then refreshes
-- (CALL cxkpi.refresh_dashboard(), as pg_cron does every minute), then checks.

-- Helpers: n NPS answers of one score; tickets; carts; sessions (ids from a sequence).
CREATE TEMP SEQUENCE ids;
CREATE FUNCTION pg_temp.nps(n integer, score integer, ch text DEFAULT 'web', at timestamptz DEFAULT '2026-11-05 12:00+00')
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
    SELECT nextval('ids'), at, 'nps', score, 10, ch FROM generate_series(1, n) $$;
CREATE FUNCTION pg_temp.csat(n integer, score integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
    SELECT nextval('ids'), '2026-11-06 09:00+00', 'csat', score, 5, 'store' FROM generate_series(1, n) $$;
CREATE FUNCTION pg_temp.tickets(n integer, hours numeric, resolved boolean, ch text DEFAULT 'email')
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at, resolved_at, contacts_to_resolve)
    SELECT nextval('ids'), ch, '2026-11-03 08:00+00', timestamptz '2026-11-03 08:00+00' + hours * interval '1 hour',
           CASE WHEN resolved THEN timestamptz '2026-11-04 08:00+00' END, CASE WHEN resolved THEN 1 END
    FROM generate_series(1, n) $$;
CREATE FUNCTION pg_temp.carts(n integer, converted boolean) RETURNS void LANGUAGE sql AS $$
    INSERT INTO cxkpi.carts (cart_id, created_at, device, converted_at, abandoned_at)
    SELECT nextval('ids'), '2026-11-07 10:00+00', 'mobile',
           CASE WHEN converted THEN timestamptz '2026-11-07 10:05+00' END,
           CASE WHEN NOT converted THEN timestamptz '2026-11-07 11:00+00' END
    FROM generate_series(1, n) $$;
CREATE FUNCTION pg_temp.sessions(n integer, converted boolean) RETURNS void LANGUAGE sql AS $$
    INSERT INTO cxkpi.web_sessions (session_id, started_at, device, added_to_cart, reached_checkout, converted)
    SELECT nextval('ids'), '2026-11-08 10:00+00', 'desktop', converted, converted, converted FROM generate_series(1, n) $$;
CREATE FUNCTION pg_temp.alerts(k text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(previous_level || '>' || level, ', ' ORDER BY alert_id), '')
    FROM cxkpi.alerts WHERE kpi = k AND breakdown = 'total' $$;
CREATE FUNCTION pg_temp.level(k text, b text DEFAULT 'total', d text DEFAULT 'all') RETURNS text LANGUAGE sql AS $$
    SELECT level FROM cxkpi.alert_state WHERE kpi = k AND breakdown = b AND dimension = d AND period_start = '2026-11-01' $$;

-- NPS: red below 35, minimum 100 answers, recovery margin 2 points.
SELECT pg_temp.nps(49, 10); SELECT pg_temp.nps(35, 8); SELECT pg_temp.nps(15, 0);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('nps'), 'insufficient data', 'NPS: 99 answers are below the minimum sample of 100');
SELECT pg_temp.nps(1, 10);
SELECT is(pg_temp.level('nps'), 'insufficient data', 'a fact reaches the alert states at the next refresh, not before');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT round(value::numeric, 6) FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total'),
          35.000000, 'NPS at the edge: (50 - 15) / 100 = 35');
SELECT is(pg_temp.level('nps'), 'off target', 'NPS 35 is not below 35: no flag, but below the target 50: off target');
SELECT is(pg_temp.alerts('nps'), '', 'no alert from insufficient data to off target');
SELECT pg_temp.nps(1, 0);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('nps'), 'off target>red', 'NPS (50 - 16) / 101 = 33.7 < 35: red, one alert');
SELECT is((SELECT (threshold, target, sample_size, round(value::numeric, 2))::text FROM cxkpi.alerts WHERE kpi = 'nps' AND breakdown = 'total'),
          '(35,50,101,33.66)', 'the alert carries threshold, target, sample size and value');
-- Exactly once: refreshes that find nothing new raise nothing again.
CREATE TEMP TABLE outbox_before AS SELECT * FROM cxkpi.alerts;
CALL cxkpi.refresh_dashboard();
CALL cxkpi.refresh_dashboard();
SELECT set_eq('SELECT * FROM cxkpi.alerts', 'SELECT * FROM outbox_before', 'two more refreshes raise nothing again (exactly once)');
-- 55 promoters, 35 passives, 17 detractors: 100 * 38 / 107 = 35.5, above 35 but inside the
-- 2-point recovery margin: still red, and no alert.
SELECT pg_temp.nps(1, 0); SELECT pg_temp.nps(5, 10);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('nps'), 'off target>red', 'NPS 35.5 is inside the recovery margin (35 + 2): no alert');
SELECT pg_temp.nps(2, 10);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('nps'), 'red', 'NPS 100 * 40 / 109 = 36.7: still red');
SELECT pg_temp.nps(2, 10);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('nps'), 'off target>red, red>off target', 'NPS 100 * 42 / 111 = 37.8 >= 37: recovery recorded, to off target (below 50)');
SELECT is((SELECT (level, previous_level, threshold, resolved_at IS NOT NULL)::text FROM cxkpi.alerts WHERE kpi = 'nps' AND breakdown = 'total' ORDER BY alert_id DESC LIMIT 1),
          '("off target",red,35,t)', 'the recovery records level off target, the red threshold it crossed, and is closed at once');
SELECT is((SELECT count(*) FROM cxkpi.alerts WHERE kpi = 'nps' AND resolved_at IS NULL), 0::bigint,
          'the red alert is resolved by the recovery, and the recovery notice is not open');
SELECT is((SELECT count(*) FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'channel' AND level <> 'insufficient data'),
          1::bigint, 'the web channel has 111 answers (a state of its own); no other channel');

-- CSAT: red below 4.0, minimum 30.
SELECT pg_temp.csat(29, 4);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('csat'), 'insufficient data', 'CSAT: 29 answers are below the minimum of 30');
SELECT pg_temp.csat(1, 4);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('csat'), 'off target', 'CSAT mean 4.0 is not below 4.0 (off the 4.5 target)');
SELECT pg_temp.csat(1, 3);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('csat'), 'off target>red', 'CSAT 123 / 31 = 3.97 < 4.0: red');

-- Response time: red above 4 hours (tickets, cohort of the creation day).
SELECT pg_temp.tickets(30, 4, true);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('response_time_hours'), 'off target', 'response time 4 h exactly is not above 4 h (off the 1 h target)');
SELECT pg_temp.tickets(1, 5, true);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('response_time_hours'), 'off target>red', 'response time 125 / 31 = 4.03 h > 4 h: red');
SELECT is(pg_temp.level('response_time_hours', 'channel', 'email'), 'red', 'the email channel breaks the threshold too');

-- Resolution rate: yellow below 85 %.  31 resolved tickets so far; 6 unresolved: 31 / 37 = 83.8 %.
SELECT is(pg_temp.level('resolution_rate'), 'green', 'resolution 31 / 31 = 100 %');
SELECT pg_temp.tickets(6, 4, false);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('resolution_rate'), 'green>yellow', 'resolution 31 / 37 = 83.8 % < 85 %: yellow');
-- UPDATE counts: resolving one ticket gives 32 / 37 = 86.5 %, above 85 + 1 (margin): recovery.
UPDATE cxkpi.support_tickets SET resolved_at = '2026-11-05 08:00+00', contacts_to_resolve = 2
 WHERE ticket_id = (SELECT min(ticket_id) FROM cxkpi.support_tickets WHERE resolved_at IS NULL);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('resolution_rate'), 'green>yellow, yellow>off target',
          'an UPDATE that resolves a ticket is counted: 32 / 37 = 86.5 %, recovery to off target (below 95 %)');
SELECT is((SELECT (numerator, denominator)::text FROM cxkpi.alert_state WHERE kpi = 'first_contact_resolution_rate' AND breakdown = 'total'),
          '(31,32)', 'first contact resolution counts the update (2 contacts): 31 / 32');

-- Cart abandonment: red above 75 %.
SELECT pg_temp.carts(25, true); SELECT pg_temp.carts(75, false);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('cart_abandonment_rate'), 'off target', 'cart abandonment 75 / 100 = 75 % is not above 75 % (off the 60 % target)');
SELECT pg_temp.carts(1, false);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('cart_abandonment_rate'), 'off target>red', 'cart abandonment 76 / 101 = 75.2 %: red');

-- Conversion: yellow below 2.8 %, minimum 100 visits.  COPY counts.
SELECT pg_temp.sessions(28, true); SELECT pg_temp.sessions(972, false);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('conversion_rate'), 'off target', 'conversion 28 / 1000 = 2.8 % is not below 2.8 % (off the 4 % target)');
COPY cxkpi.web_sessions (session_id, started_at, device) FROM STDIN;
900001	2026-11-09 10:00+00	mobile
\.
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('conversion_rate'), 'off target>yellow', 'a COPYed session: 28 / 1001 = 2.797 %: yellow');
SELECT is(pg_temp.level('conversion_rate', 'device', 'mobile'), 'insufficient data', 'one mobile session is below the minimum');

-- Rolled-back work leaves no alert and no state change.
SAVEPOINT before_burst;
SELECT pg_temp.carts(500, true);
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('cart_abandonment_rate'), 'off target>red, red>green', 'inside the transaction the recovery is recorded (76 / 601 = 12.6 % meets "<60 %": green)');
ROLLBACK TO SAVEPOINT before_burst;
SELECT is(pg_temp.alerts('cart_abandonment_rate'), 'off target>red', 'after ROLLBACK the recovery alert is gone');
SELECT is(pg_temp.level('cart_abandonment_rate'), 'red', 'and the state is red again');
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.alerts('cart_abandonment_rate'), 'off target>red', 'and the next refresh finds nothing of the rolled-back carts');

-- A failing statement (constraint violation) leaves nothing either.
SELECT throws_ok($$INSERT INTO cxkpi.survey_responses VALUES (999999, '2026-11-05', 'nps', 11, 10, 'web')$$,
                 '23514', NULL, 'an out-of-range score is refused by the CHECK constraint');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT sample_size FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total'), 111::bigint,
          'the refused statement left the NPS state alone');

-- DELETE counts.
DELETE FROM cxkpi.survey_responses WHERE survey = 'nps' AND score = 10 AND response_id IN (
    SELECT response_id FROM cxkpi.survey_responses WHERE survey = 'nps' AND score = 10 ORDER BY response_id LIMIT 10);
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (sample_size, round(value::numeric, 2))::text FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total'),
          '(101,31.68)', 'after deleting 10 promoters: 101 answers, NPS 100 * (49 - 17) / 101 = 31.7');
SELECT is(pg_temp.alerts('nps'), 'off target>red, red>off target, off target>red', 'and NPS is red again');

-- More facts for the comparison with the dashboard below: store traffic and a store order
-- (conversion 29 / 1201 = 2.4 %: still yellow), app ratings, an observed metric, a resolved
-- ticket without a contact count, survey answers moved to another channel, one CSAT answer
-- moved to another scale, and a deleted ticket.
INSERT INTO cxkpi.customers (customer_id, acquired_on) VALUES (999, '2026-11-01');
INSERT INTO cxkpi.store_traffic VALUES ('s1', '2026-11-09', 200);
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
VALUES (nextval('ids'), 999, '2026-11-09 15:00+00', 'store', 2, 80, 5);
INSERT INTO cxkpi.app_ratings (rating_id, rated_at, app_store, rating)
SELECT g, '2026-11-10 10:00+00', CASE WHEN g % 2 = 0 THEN 'app_store' ELSE 'google_play' END, 1 + g % 5
FROM generate_series(1, 40) g;
INSERT INTO cxkpi.metric_observations (kpi, observed_at, dimension, value, weight)
VALUES ('website_load_time_seconds', '2026-11-10 10:00+00', 'home', 2.5, 3),
       ('website_load_time_seconds', '2026-11-11 10:00+00', '', 1.5, 1);
SELECT lives_ok($$INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, resolved_at)
                  VALUES (777777, 'chat', '2026-11-03 08:00+00', '2026-11-04 08:00+00')$$,
                'a resolved ticket without a contact count is accepted');
UPDATE cxkpi.survey_responses SET channel = 'app'
 WHERE response_id IN (SELECT response_id FROM cxkpi.survey_responses WHERE survey = 'nps' ORDER BY response_id LIMIT 5);
UPDATE cxkpi.survey_responses SET scale = 10
 WHERE response_id = (SELECT min(response_id) FROM cxkpi.survey_responses WHERE survey = 'csat' AND score = 4);
DELETE FROM cxkpi.support_tickets WHERE ticket_id = 777777;
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (sample_size, level)::text FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'channel' AND dimension = 'app'),
          '(5,"insufficient data")', 'five NPS answers moved to the app channel');
SELECT is((SELECT sample_size FROM cxkpi.alert_state WHERE kpi = 'csat' AND breakdown = 'total'), 30::bigint,
          'a CSAT answer moved to the 10-point scale left the 5-point CSAT state');

-- The second engine of 1.0 is gone: no alerting trigger on any table, no queue, no contributions.
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'alert%'), 0::bigint,
          'no alerting trigger on the fact tables, settings or targets: writers only append to the change log');
SELECT hasnt_table('cxkpi', 'alert_pending', 'no commit-time queue (cxkpi.alert_pending)');
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc AS p
           WHERE p.pronamespace = 'cxkpi'::regnamespace
             AND p.proname IN ('alert_enqueue', 'alert_apply', 'alert_merge', 'alert_rebuild', 'alert_trigger',
                               'alert_contributions_sql', 'alert_table_contributions', 'alert_value', 'summary_minus')),
          NULL, 'and none of the functions of the per-statement engine');

-- Retention (a rollup KPI): yellow below 65 %, evaluated by the refresh like every KPI.
INSERT INTO cxkpi.customers (customer_id, acquired_on) SELECT c, '2026-09-01' FROM generate_series(1, 100) c;
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value)
SELECT nextval('ids'), c, timestamptz '2026-10-10 10:00+00', 'web_desktop', 1, 50 FROM generate_series(1, 100) c
UNION ALL
SELECT nextval('ids'), c, '2026-11-10 10:00+00', 'web_desktop', 1, 50 FROM generate_series(1, 65) c;
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT (round(value::numeric, 2), level)::text FROM cxkpi.alert_state WHERE kpi = 'retention_rate' AND period_start = '2026-11-01'),
          '(65.00,"off target")', 'retention 65 / 100 = 65 % is not below 65 % (off the 75 % target)');
SELECT is(cxkpi.check_thresholds(), 0, 'check_thresholds() after a refresh raises nothing more');
DELETE FROM cxkpi.orders WHERE customer_id = 65 AND ordered_at = '2026-11-10 10:00+00';
SELECT is(cxkpi.check_thresholds(), 1, 'check_thresholds() refreshes and raises one alert');
SELECT is(pg_temp.alerts('retention_rate'), 'off target>yellow', 'retention 64 / 100 = 64 %: yellow');
SELECT is(cxkpi.check_thresholds(), 0, 'a second check raises nothing');

-- The states are the dashboard's own values: the kpi_values row of the same period, every one.
SELECT is((SELECT count(*) FROM cxkpi.kpi_values AS v FULL JOIN cxkpi.alert_state AS s
             ON v.period_start = s.period_start AND v.kpi = s.kpi AND v.breakdown = s.breakdown AND v.dimension = s.dimension
           WHERE v.grain = 'month' AND (s.kpi IS NULL OR v.value IS DISTINCT FROM s.value OR v.sample_size <> s.sample_size)),
          0::bigint, 'every alert state is the cxkpi.kpi_values row of its month (value and sample size), and every row has a state');
SELECT cmp_ok((SELECT count(*) FROM cxkpi.alert_state WHERE sample_size > 0), '>=', 20::bigint,
              'and there are states to compare');
-- The alert level of each KPI is the scorecard's status of the same period (both read the same
-- kpi_values row, with cxkpi.kpi_status against the effective target of cxkpi.target_spans()).
-- With the seed's recovery margins the two can differ only inside a margin: none does here.
SELECT is((SELECT string_agg(format('%s %s %s: %s / %s', kpi, breakdown, dimension, s.level, t.status), ', ')
           FROM cxkpi.alert_state AS s JOIN cxkpi.kpi_trend AS t USING (kpi, breakdown, dimension, period_start)
           WHERE t.grain = 'month' AND s.level IS DISTINCT FROM t.status), NULL,
          'every alert level of November is the status cxkpi.kpi_trend shows for the same kpi_values row');
-- Without hysteresis (recovery margins 0) and with November as the scorecard's period, every
-- state of November has the level that the scorecard of November shows as its status.
SAVEPOINT same_levels;
UPDATE cxkpi.kpi_targets SET recovery_margin = 0;
UPDATE cxkpi.kpi_targets SET target = 86 WHERE kpi = 'resolution_rate';   -- 32 / 37 = 86.5 %: green
UPDATE cxkpi.settings SET value = '2026-12-01' WHERE key = 'as_of';
SELECT cmp_ok(cxkpi.check_thresholds(), '>=', 0, 'check_thresholds() with the margins at 0 and November complete');
SELECT is((SELECT string_agg(format('%s %s %s: %s / %s', kpi, breakdown, dimension, s.level, c.status), ', ')
           FROM cxkpi.alert_state AS s JOIN cxkpi.kpi_scorecard AS c USING (kpi, breakdown, dimension, period_start)
           WHERE s.level IS DISTINCT FROM c.status), NULL,
          'every alert state of November has the level the scorecard shows as the status of November');
SELECT is((SELECT string_agg(DISTINCT s.level, ', ' ORDER BY s.level)
           FROM cxkpi.alert_state AS s JOIN cxkpi.kpi_scorecard AS c USING (kpi, breakdown, dimension, period_start)),
          'green, insufficient data, no target, off target, red, yellow', 'compared at every level');
ROLLBACK TO SAVEPOINT same_levels;

-- The open alerts.
SELECT is((SELECT string_agg(kpi || ':' || level, ', ' ORDER BY kpi) FROM cxkpi.current_alerts WHERE breakdown = 'total'),
          'cart_abandonment_rate:red, conversion_rate:yellow, csat:red, nps:red, response_time_hours:red, retention_rate:yellow',
          'current_alerts lists the open red and yellow alerts');
SELECT ok(cxkpi.acknowledge_alert((SELECT max(alert_id) FROM cxkpi.alerts WHERE kpi = 'nps' AND breakdown = 'total')), 'acknowledge an alert');
SELECT ok(NOT cxkpi.acknowledge_alert((SELECT max(alert_id) FROM cxkpi.alerts WHERE kpi = 'nps' AND breakdown = 'total')), 'a second acknowledgement returns false');
SELECT throws_ok('SELECT cxkpi.acknowledge_alert(-1)', 'P0002', NULL, 'an unknown alert id');

-- Alerting off: the refresh keeps the dashboard up to date, and leaves the states and the outbox
-- alone; switching it on evaluates everything.
CREATE TEMP TABLE states_on AS
SELECT kpi, breakdown, dimension, period_start, level, round(value::numeric, 9) AS value, sample_size
FROM cxkpi.alert_state WHERE sample_size <> 0;
CREATE TEMP TABLE facts AS SELECT * FROM cxkpi.survey_responses;
CREATE TEMP TABLE tfacts AS SELECT * FROM cxkpi.support_tickets;
CREATE TEMP TABLE alerts_on AS SELECT count(*) AS n FROM cxkpi.alerts;
SELECT is(cxkpi.set_alerting(false), 0, 'set_alerting(false)');
SELECT ok(NOT cxkpi.alerting_enabled(), 'alerting is off');
SELECT is((SELECT value FROM cxkpi.settings WHERE key = 'alerting'), 'false', 'it is the setting alerting');
DELETE FROM cxkpi.survey_responses; DELETE FROM cxkpi.support_tickets;
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.kpi_values WHERE kpi = 'nps' AND grain = 'month'), 0::bigint,
          'with alerting off, the refresh still brings the dashboard up to date');
SELECT set_eq($$SELECT kpi, breakdown, dimension, period_start, level, round(value::numeric, 9), sample_size
                FROM cxkpi.alert_state WHERE sample_size <> 0$$,
              'SELECT * FROM states_on', 'but leaves the states alone');
SELECT is((SELECT count(*) FROM cxkpi.alerts), (SELECT n FROM alerts_on), 'and raises nothing (NPS, CSAT and response time lost their data)');
INSERT INTO cxkpi.survey_responses SELECT * FROM facts;
INSERT INTO cxkpi.support_tickets SELECT * FROM tfacts;
SELECT is(cxkpi.set_alerting(true), 0, 'set_alerting(true) refreshes and evaluates: the facts are back, nothing to raise');
SELECT ok(cxkpi.alerting_enabled(), 'alerting is on');
SELECT set_eq($$SELECT kpi, breakdown, dimension, period_start, level, round(value::numeric, 9), sample_size
                FROM cxkpi.alert_state WHERE sample_size <> 0$$,
              'SELECT * FROM states_on', 'the states after a load with alerting off + set_alerting(true) equal those with alerting on');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = 'maybe' WHERE key = 'alerting'$$, '22023', NULL,
                 'the setting alerting takes true or false');
SAVEPOINT no_row;
DELETE FROM cxkpi.settings WHERE key = 'alerting';
SELECT ok(cxkpi.alerting_enabled(), 'without its settings row, alerting is on (the default)');
SELECT cxkpi.set_alerting(false);
SELECT ok(NOT cxkpi.alerting_enabled(), 'and set_alerting(false) writes the row again');
ROLLBACK TO SAVEPOINT no_row;

-- TRUNCATE: the refresh rebuilds, and the cart states lose their data.
TRUNCATE cxkpi.carts;
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (sample_size, level)::text FROM cxkpi.alert_state WHERE kpi = 'cart_abandonment_rate' AND breakdown = 'total'),
          '(0,"insufficient data")', 'TRUNCATE empties the cart states');
SELECT is(pg_temp.alerts('cart_abandonment_rate'), 'off target>red, red>insufficient data',
          'and records the end of the red level');

-- Privileges: a fact writer loads facts (alerts follow at the next refresh) but cannot write
-- alerts or states, run the evaluation or the refresh.
CREATE ROLE tap_loader LOGIN IN ROLE cxkpi_writer;
SET ROLE tap_loader;
SELECT lives_ok($$INSERT INTO cxkpi.carts (cart_id, created_at, device, converted_at)
                  SELECT 5000000 + g, '2026-11-07 10:00+00', 'app', '2026-11-07 10:05+00' FROM generate_series(1, 400) g$$,
                'a cxkpi_writer member inserts carts');
SELECT throws_ok($$INSERT INTO cxkpi.alerts (kpi, breakdown, dimension, grain, period_start, period_end, level, previous_level, sample_size)
                   VALUES ('nps', 'total', 'all', 'month', '2026-11-01', '2026-11-30', 'red', 'green', 1)$$,
                 '42501', NULL, 'a writer cannot insert alerts');
SELECT throws_ok($$UPDATE cxkpi.alert_state SET level = 'green'$$, '42501', NULL, 'a writer cannot update states');
SELECT throws_ok($$SELECT cxkpi.alert_evaluate(NULL, NULL, true)$$, '42501', NULL, 'a writer cannot run the alert evaluation');
SELECT throws_ok($$CALL cxkpi.refresh_dashboard()$$, '42501', NULL, 'nor the refresh');
SELECT throws_ok($$UPDATE cxkpi.settings SET value = 'false' WHERE key = 'alerting'$$, '42501', NULL, 'nor switch alerting off by the setting');
-- The security review's attack (issue 15), against the new design: a writer's own statement
-- trigger on a TEMP table tries every way to write an alert state (a forged NPS of a million
-- detractors): the evaluation function, the state table, the outbox.
CREATE TEMP TABLE nps_before AS
SELECT (sample_size, level)::text AS s, (SELECT count(*) FROM cxkpi.alerts) AS n
FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total';
SELECT lives_ok($$CREATE TEMP TABLE forge (x int);
                  CREATE FUNCTION pg_temp.forge() RETURNS trigger LANGUAGE plpgsql AS $f$
                  BEGIN
                      BEGIN
                          PERFORM cxkpi.alert_evaluate(ARRAY['month'], ARRAY[date_trunc('month', now())::date], true);
                      EXCEPTION WHEN insufficient_privilege THEN NULL;
                      END;
                      BEGIN
                          INSERT INTO cxkpi.alert_state (kpi, breakdown, dimension, grain, period_start, sample_size, value, level)
                          VALUES ('nps', 'total', 'all', 'month', '2026-11-01', 1000000, -100, 'green')
                          ON CONFLICT (kpi, breakdown, dimension, grain, period_start)
                          DO UPDATE SET sample_size = 1000000, value = -100, level = 'green';
                      EXCEPTION WHEN insufficient_privilege THEN NULL;
                      END;
                      UPDATE cxkpi.alert_state SET sample_size = 1000000, value = -100, level = 'green'
                       WHERE kpi = 'nps' AND breakdown = 'total';
                      RETURN NULL;
                  END $f$;
                  CREATE TRIGGER forge AFTER INSERT ON pg_temp.forge FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.forge()$$,
                'a writer creates a TEMP table with a trigger of its own that tries to write the alert states');
SELECT throws_ok($$INSERT INTO pg_temp.forge VALUES (1)$$, '42501', NULL,
                 'its insert fails: permission denied (no entry point writes a state for a writer)');
RESET ROLE;
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT (sample_size, level)::text FROM cxkpi.alert_state WHERE kpi = 'nps' AND breakdown = 'total')
          || ' ' || (SELECT count(*) FROM cxkpi.alerts), (SELECT s || ' ' || n FROM nps_before),
          'the NPS state and the alerts are as before the attack, after the next refresh too');
SELECT is(pg_temp.level('cart_abandonment_rate'), 'green', 'while the writer''s real carts reached the state at the refresh (0 / 400 abandoned)');
SET ROLE tap_loader;
SELECT throws_ok($$SELECT cxkpi.set_alerting(false)$$, '42501', NULL, 'a writer cannot switch alerting off');
SELECT throws_ok($$SELECT cxkpi.check_thresholds()$$, '42501', NULL, 'a writer cannot run check_thresholds');
RESET ROLE;

-- Edited targets re-evaluate the open periods at the next refresh, without any new fact.
UPDATE cxkpi.kpi_targets SET red_threshold = 10 WHERE kpi = 'response_time_hours';
CALL cxkpi.refresh_dashboard();
SELECT is(pg_temp.level('response_time_hours'), 'off target', 'a higher red threshold for response time ends its red level (off the 1 h target)');
SELECT is((SELECT level || ' ' || previous_level FROM cxkpi.alerts WHERE kpi = 'response_time_hours' AND breakdown = 'total'
           ORDER BY alert_id DESC LIMIT 1), 'off target red', 'and records the recovery');

-- A backfill of a closed period updates its values and state but raises nothing (as_of is
-- 2026-11-20: November is current, October the last complete month, both open; September closed).
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at, first_response_at)
SELECT nextval('ids'), 'phone', '2026-09-03 08:00+00', '2026-09-03 20:00+00' FROM generate_series(1, 40);
UPDATE cxkpi.kpi_targets SET red_threshold = 4 WHERE kpi = 'response_time_hours';
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT value FROM cxkpi.kpi_values WHERE grain = 'month' AND kpi = 'response_time_hours' AND breakdown = 'total' AND period_start = '2026-09-01'),
          12::double precision, 'the backfilled September tickets are in September''s value (12 h)');
SELECT is((SELECT level FROM cxkpi.alert_state WHERE kpi = 'response_time_hours' AND breakdown = 'total' AND period_start = '2026-09-01'),
          'red', 'September''s slow tickets make September''s state red');
SELECT is((SELECT count(*) FROM cxkpi.alerts WHERE period_start = '2026-09-01'), 0::bigint, 'but raise no alert for a closed period');

-- Settings that change what the values hold: the refresh rebuilds, the states follow.
UPDATE cxkpi.settings SET value = '10' WHERE key = 'csat_scale';
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT sample_size FROM cxkpi.alert_state WHERE kpi = 'csat' AND breakdown = 'total' AND period_start = '2026-11-01'),
          1::bigint, 'csat_scale 10: the CSAT state holds the one 10-point answer');
INSERT INTO cxkpi.survey_responses VALUES (888888, '2026-11-12', 'csat', 9, 10, 'web');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT sample_size FROM cxkpi.alert_state WHERE kpi = 'csat' AND breakdown = 'total' AND period_start = '2026-11-01'),
          2::bigint, 'and 10-point answers are counted in it');
UPDATE cxkpi.settings SET value = 'week' WHERE key = 'alert_grain';
UPDATE cxkpi.settings SET value = 'America/New_York' WHERE key = 'time_zone';
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT count(*) FROM cxkpi.alert_state WHERE grain <> 'week'), 0::bigint, 'alert_grain week: only weekly states');
SELECT is((SELECT count(*) FROM cxkpi.kpi_values AS v FULL JOIN cxkpi.alert_state AS s
             ON v.period_start = s.period_start AND v.kpi = s.kpi AND v.breakdown = s.breakdown AND v.dimension = s.dimension
           WHERE v.grain = 'week' AND (s.kpi IS NULL OR v.value IS DISTINCT FROM s.value OR v.sample_size <> s.sample_size)),
          0::bigint, 'weekly states in New York time are the dashboard''s weekly values');
SELECT is((SELECT count(*) FROM cxkpi.alerts WHERE grain = 'month' AND resolved_at IS NULL), 0::bigint,
          'open alerts of the old grain are closed');

SELECT * FROM finish();
ROLLBACK;
