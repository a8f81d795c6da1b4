-- The audit of docs/security.md#security-definer-functions-and-trigger-entry-points, kept true:
-- every SECURITY DEFINER function of cxkpi, who may execute it and its pinned search_path; the
-- trigger entry point refuses to run on a table a role made itself; a writer's statements still
-- reach the change log through it (and the alert states only through the refresh).
BEGIN;
SET client_min_messages = warning;
SELECT plan(8);

-- Every SECURITY DEFINER function of the extension with the roles that may execute it (other
-- than its owner): the audited list.  A new one fails here until it is audited and listed.
SELECT results_eq(
    $$SELECT p.oid::regprocedure::text,
             coalesce((SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, ','
                                         ORDER BY CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END)
                       FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                       WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner), 'owner only')
      FROM pg_proc AS p
      JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'cxkpi'
      WHERE p.prosecdef ORDER BY 1$$,
    $$VALUES ('cxkpi.acknowledge_alert(bigint)', 'cxkpi_operator'),
             ('cxkpi.acknowledge_feedback(bigint)', 'cxkpi_operator'),
             ('cxkpi.change_capture()', 'owner only'),
             ('cxkpi.check_thresholds()', 'cxkpi_operator'),
             ('cxkpi.resolve_feedback(bigint,text)', 'cxkpi_operator'),
             ('cxkpi.sentiment_lexicon_changed()', 'owner only'),
             ('cxkpi.set_alerting(boolean)', 'cxkpi_operator'),
             ('cxkpi.setting(text)', 'cxkpi_operator,cxkpi_reader,cxkpi_writer'),
             ('cxkpi.target_spans()', 'cxkpi_operator,cxkpi_reader,cxkpi_writer')$$,
    'the SECURITY DEFINER functions and who may execute them are the audited ones');

SELECT is((SELECT count(*) FROM pg_proc AS p
           JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
           JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'cxkpi'
           WHERE p.prosecdef AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)),
          0::bigint, 'every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp');

-- As a member of cxkpi_writer.
CREATE ROLE tap_sec_writer LOGIN IN ROLE cxkpi_writer;
SET ROLE tap_sec_writer;
SELECT throws_ok($$CREATE TEMP TABLE orders (LIKE cxkpi.orders);
                   CREATE TRIGGER t AFTER INSERT ON pg_temp.orders REFERENCING NEW TABLE AS new_rows
                   FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.change_capture()$$,
                 '42501', NULL, 'a writer cannot attach the change-capture trigger to a table of its own');
SELECT throws_ok($$SELECT cxkpi.alert_evaluate(NULL, NULL, true)$$,
                 '42501', NULL, 'nor run the alert evaluation (the refresh''s, owner only)');
SELECT throws_ok($$INSERT INTO cxkpi.change_log (fact, bucket) VALUES ('orders', '2026-01-01')$$,
                 '42501', NULL, 'nor write the change log');
SELECT throws_ok($$INSERT INTO cxkpi.alert_state (kpi, breakdown, dimension, grain, period_start) VALUES ('nps', 'total', 'all', 'month', '2026-03-01')$$,
                 '42501', NULL, 'nor write an alert state');
SELECT lives_ok($$INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel)
                  VALUES (990001, '2026-03-04 12:00+00', 'nps', 9, 10, 'web')$$,
                'a writer inserts a survey answer');
RESET ROLE;
SELECT ok(EXISTS (SELECT 1 FROM cxkpi.change_log WHERE fact = 'survey_responses' AND bucket = '2026-03-04'),
          'and the change-capture trigger, running as the owner, logged its day');

SELECT * FROM finish();
ROLLBACK;
