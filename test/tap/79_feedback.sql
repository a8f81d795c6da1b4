-- The live customer feedback stream and the closed-loop follow-up (docs/feedback.md): the
-- category of every score on every scale (against the summary types' counts), newest-first
-- order, the returns filter, the follow-up queue raised once by the refresh (open periods only,
-- not for backfills, not again after edits or a rebuild), the acknowledgement flow and its
-- errors, the NOTIFY payload (the notification queue of this session), privileges.
BEGIN;
SET client_min_messages = warning;
SELECT plan(40);

UPDATE cxkpi.settings SET value = '2026-11-20' WHERE key = 'as_of';   -- alert grain month: open periods October and November
CALL cxkpi.refresh_dashboard(false);

-------------------------------------------------------------------------------------------------
-- Categories: the boxes of the summary types, every score of every scale
-------------------------------------------------------------------------------------------------
CREATE TEMP TABLE answers AS
SELECT v.survey, v.scale, s AS score, cxkpi.feedback_category(v.survey, s, v.scale) AS category
FROM (VALUES ('nps', 10), ('csat', 2), ('csat', 3), ('csat', 5), ('csat', 7), ('csat', 10), ('ces', 5), ('ces', 7)) AS v(survey, scale),
     generate_series(0, 10) AS s
WHERE s <= v.scale AND (s >= 1 OR v.survey = 'nps');
SELECT is((SELECT string_agg(score::text, ',' ORDER BY score) FROM answers WHERE survey = 'nps' AND category = 'detractor'),
          '0,1,2,3,4,5,6', 'NPS detractors are 0-6');
SELECT is((SELECT string_agg(score::text, ',' ORDER BY score) FROM answers WHERE survey = 'nps' AND category = 'passive'),
          '7,8', 'passives 7-8');
SELECT is((SELECT string_agg(score::text, ',' ORDER BY score) FROM answers WHERE survey = 'nps' AND category = 'promoter'),
          '9,10', 'promoters 9-10');
-- each category agrees with the summary's own counts of the same answer
SELECT is((SELECT count(*) FROM answers AS a WHERE a.survey = 'nps'
           AND (a.category = 'detractor') <> (SELECT detractors(nps_agg(x)) = 1 FROM (VALUES (a.score)) AS v(x))), 0::bigint,
          'an NPS answer is a detractor exactly when detractors(nps_agg(score)) counts it');
SELECT is((SELECT count(*) FROM answers AS a WHERE a.survey = 'csat'
           AND (a.category = 'satisfied') <> (SELECT satisfied(csat_agg(x, a.scale)) = 1 FROM (VALUES (a.score)) AS v(x))), 0::bigint,
          'a CSAT answer is satisfied exactly when satisfied(csat_agg(score, scale)) counts it');
SELECT is((SELECT string_agg(scale || ':' || score, ' ' ORDER BY scale, score) FROM answers WHERE survey = 'csat' AND category = 'dissatisfied'),
          '2:1 3:1 5:1 5:2 7:1 7:2 10:1 10:2', 'CSAT dissatisfied: the bottom boxes, the mirror of the top boxes (no on yes/no, 1 on 1-3, 1-2 otherwise)');
SELECT is((SELECT string_agg(scale || ':' || score, ' ' ORDER BY scale, score) FROM answers WHERE survey = 'csat' AND category = 'neutral'),
          '3:2 5:3 7:3 7:4 7:5 10:3 10:4 10:5 10:6 10:7 10:8', 'and neutral in between');
SELECT is((SELECT string_agg(scale || ':' || score || ':' || category, ' ' ORDER BY scale, score) FROM answers WHERE survey = 'ces'),
          '5:1:difficult 5:2:difficult 5:3:neutral 5:4:easy 5:5:easy 7:1:difficult 7:2:difficult 7:3:difficult 7:4:neutral 7:5:easy 7:6:easy 7:7:easy',
          'CES: easy are the agreeing boxes (ces_agree), difficult their mirror');
SELECT is(cxkpi.feedback_category('other', 3, 5), NULL, 'an unknown survey has no category');
SELECT is(cxkpi.feedback_category('nps', NULL, 10), NULL, 'nor a NULL score (STRICT)');
SELECT throws_ok($$SELECT cxkpi.feedback_category('csat', 7, 5)$$, '22003', NULL, 'a score outside its scale: the summary type''s error');

-------------------------------------------------------------------------------------------------
-- The stream
-------------------------------------------------------------------------------------------------
INSERT INTO cxkpi.customers (customer_id, acquired_on) VALUES (71, '2026-01-01'), (72, '2026-01-01');
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id, comment) VALUES
    (101, '2026-11-05 10:00+00', 'nps', 3, 10, 'email', 71, 'Delivery was late.'),
    (102, '2026-11-05 10:00+00', 'nps', 9, 10, 'app', 72, NULL),          -- same time: the higher id first
    (103, '2026-11-06 09:00+00', 'csat', 2, 5, 'returns', 71, 'Refund took too long.'),
    (104, '2026-11-06 10:00+00', 'csat', 3, 5, 'returns', NULL, NULL),
    (105, '2026-11-06 11:00+00', 'ces', 2, 7, 'returns', 72, 'Hard to print the label.'),
    (106, '2026-10-02 08:00+00', 'csat', 1, 2, 'chat', NULL, NULL),       -- October: open (the period before November)
    (107, '2026-08-06 10:00+00', 'nps', 0, 10, 'email', 72, 'old');       -- August: closed, a backfill
SELECT is((SELECT string_agg(response_id::text, ',') FROM cxkpi.feedback_stream), '105,104,103,102,101,106,107',
          'the stream is newest first (ties: higher id first)');
SELECT is((SELECT string_agg(response_id || ':' || category, ',') FROM (SELECT * FROM cxkpi_bi.feedback_stream LIMIT 4) AS s),
          '105:difficult,104:neutral,103:dissatisfied,102:promoter', 'cxkpi_bi.feedback_stream: the same, with categories');
SELECT is((SELECT (survey_channel, comment, customer_id, returns_feedback)::text FROM cxkpi_bi.feedback_stream WHERE response_id = 103),
          '(returns,"Refund took too long.",71,t)', 'with channel, comment, customer and the returns flag');
SELECT is((SELECT string_agg(response_id::text, ',') FROM cxkpi_bi.returns_feedback), '105,104,103',
          'returns_feedback: the answers of the returns touchpoint, newest first');
-- the return an answer is about: the last return of its order requested before the answer
INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value) VALUES
    (501, 71, '2026-10-20 10:00+00', 'web_desktop', 3, 120);
INSERT INTO cxkpi.order_returns (return_id, order_id, requested_at, received_at, items_returned, value_returned, reason) VALUES
    (601, 501, '2026-10-25 10:00+00', '2026-10-28 10:00+00', 1, 40, 'too small'),
    (602, 501, '2026-11-02 10:00+00', '2026-11-04 10:00+00', 1, 40, 'damaged'),
    (603, 501, '2026-11-10 10:00+00', NULL, 1, 40, 'changed mind');     -- after the answers
UPDATE cxkpi.survey_responses SET order_id = 501 WHERE response_id IN (103, 104);
SELECT is((SELECT string_agg(response_id || ':' || coalesce(return_id::text, '-') || ':' || coalesce(return_reason, '-') || ':'
                             || coalesce(value_returned_currency::text, '-'), ',') FROM cxkpi_bi.returns_feedback),
          '105:-:-:-,104:602:damaged:40.00,103:602:damaged:40.00',
          'returns_feedback names the last return of the answer''s order requested before the answer');
SELECT is((SELECT count(*) FROM cxkpi_bi.feedback_stream WHERE order_id = 501), 2::bigint, 'one row per answer, whatever the returns of its order');
SELECT is((SELECT count(*) FROM cxkpi.feedback_stream AS s JOIN cxkpi.survey_responses AS r USING (response_id)
           WHERE s.returns_feedback <> (r.channel = 'returns')), 0::bigint, 'returns_feedback is channel = returns, as returns_csat counts');
SELECT is((SELECT count(*) FROM cxkpi.feedback_stream WHERE followup_id IS NOT NULL), 0::bigint,
          'no follow-up before the refresh: writers only log the day');

-------------------------------------------------------------------------------------------------
-- The follow-up queue: raised once by the refresh
-------------------------------------------------------------------------------------------------
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT string_agg(response_id || ':' || category, ',' ORDER BY followup_id) FROM cxkpi.feedback_followups),
          '106:dissatisfied,101:detractor,103:dissatisfied',
          'the refresh raises the detractor and dissatisfied answers of the open periods, oldest first (not CES, not August)');
SELECT is((SELECT string_agg(response_id || ':' || followup_status, ',') FROM cxkpi.feedback_stream WHERE followup_id IS NOT NULL),
          '103:open,101:open,106:open', 'the stream shows them open');
-- the notifications of this transaction (pg_notify queues them for commit; this session sees
-- nothing before then, so the payloads are checked from what the refresh raised, below and in
-- test/shell/feedback_notify.sh)
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.feedback_followups), 3::bigint, 'a second refresh raises nothing again');
UPDATE cxkpi.survey_responses SET score = 1 WHERE response_id = 101;
UPDATE cxkpi.survey_responses SET score = 6 WHERE response_id = 102;   -- a promoter becomes a detractor
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT string_agg(response_id || ':' || score, ',' ORDER BY followup_id) FROM cxkpi.feedback_followups),
          '106:1,101:3,103:2,102:6', 'an edited answer is raised once: 102 now, 101 not again (its follow-up keeps the score it was raised with)');
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES
    (108, '2026-09-30 23:00+00', 'nps', 2, 10, 'web'),      -- September: a backfill
    (109, '2026-11-19 23:00+00', 'nps', 2, 10, 'web');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT string_agg(response_id::text, ',' ORDER BY followup_id) FROM cxkpi.feedback_followups WHERE response_id IN (108, 109)),
          '109', 'a late answer of an open period is raised; a backfill of a closed one is not');
SELECT is(cxkpi.check_thresholds(), 0, 'check_thresholds (a refresh and a full evaluation) raises no alert here');
CALL cxkpi.rebuild_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.feedback_followups), 5::bigint, 'a rebuild raises nothing again');
WITH hand AS (SELECT r.response_id FROM cxkpi.survey_responses AS r
              WHERE r.responded_at >= '2026-10-01'
                AND ((r.survey = 'nps' AND r.score <= 6) OR (r.survey = 'csat' AND r.scale = 5 AND r.score <= 2)
                     OR (r.survey = 'csat' AND r.scale = 2 AND r.score = 1)))
SELECT is((SELECT count(*) FROM ((SELECT response_id FROM cxkpi.feedback_followups EXCEPT SELECT response_id FROM hand)
                                 UNION ALL (SELECT response_id FROM hand EXCEPT SELECT response_id FROM cxkpi.feedback_followups)) AS d),
          0::bigint,
          'the queue is the hand-worked list: NPS 0-6 and CSAT 1-2 of 1-5 (1 of yes/no) since October 1');

-------------------------------------------------------------------------------------------------
-- Acknowledgement flow
-------------------------------------------------------------------------------------------------
CREATE ROLE tap_fb_operator LOGIN IN ROLE cxkpi_operator;
CREATE ROLE tap_fb_writer LOGIN IN ROLE cxkpi_writer;
CREATE TEMP TABLE ids AS SELECT followup_id, response_id FROM cxkpi.feedback_followups;
GRANT SELECT ON ids TO PUBLIC;
SET ROLE tap_fb_operator;
SELECT is(cxkpi.acknowledge_feedback((SELECT followup_id FROM ids WHERE response_id = 101)), true, 'an operator acknowledges a follow-up');
SELECT is(cxkpi.acknowledge_feedback((SELECT followup_id FROM ids WHERE response_id = 101)), false, 'once');
SELECT is(cxkpi.resolve_feedback((SELECT followup_id FROM ids WHERE response_id = 103), 'Refunded, called back.'), true,
          'and resolves another (not acknowledged before)');
SELECT is(cxkpi.resolve_feedback((SELECT followup_id FROM ids WHERE response_id = 103), 'again'), false, 'once');
SELECT throws_ok('SELECT cxkpi.acknowledge_feedback(-1)', 'P0002', 'feedback follow-up -1 does not exist', 'an unknown id: P0002');
SELECT throws_ok('SELECT cxkpi.resolve_feedback(NULL)', '22004', 'followup_id must not be NULL', 'NULL: 22004');
SELECT lives_ok($$UPDATE cxkpi.feedback_followups SET delivered_at = now() WHERE followup_id IN (SELECT followup_id FROM ids)$$,
                'the operator marks follow-ups delivered');
SELECT throws_ok($$UPDATE cxkpi.feedback_followups SET resolved_at = now()$$, '42501', NULL, 'and writes nothing else of them');
RESET ROLE;
SELECT is((SELECT string_agg(response_id || ':' || followup_status, ',') FROM cxkpi.feedback_stream WHERE followup_id IS NOT NULL),
          '109:open,103:resolved,102:open,101:acknowledged,106:open', 'the stream shows the follow-up status');
SELECT is((SELECT (resolution, acknowledged_at IS NOT NULL, delivered_at IS NOT NULL)::text FROM cxkpi.feedback_followups WHERE response_id = 103),
          '("Refunded, called back.",t,t)', 'with the first resolution; resolving acknowledges');
SET ROLE tap_fb_writer;
SELECT throws_ok('SELECT cxkpi.acknowledge_feedback(1)', '42501', NULL, 'a writer cannot acknowledge');
SELECT throws_ok('SELECT cxkpi.feedback_raise(NULL, true)', '42501', NULL, 'nor raise follow-ups (owner only)');
SELECT throws_ok($$INSERT INTO cxkpi.feedback_followups (response_id, responded_at, survey, score, scale, category, channel)
                   VALUES (1, now(), 'nps', 0, 10, 'detractor', 'web')$$, '42501', NULL, 'nor write the queue');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
