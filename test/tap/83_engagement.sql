-- Engagement across channels and social-media sentiment (issue 17, seeds 002 and 003) on a
-- small hand-built dataset: the tables refuse bad rows, the lexicon scores as documented, every
-- KPI equals plain SQL over the raw rows (and the hand-worked values in the comments), the
-- section views show them, an incremental refresh (facts changed, lexicon edited) equals a
-- rebuild, and the lexicon is a configuration table.
BEGIN;
SET client_min_messages = warning;
SELECT plan(49);

UPDATE cxkpi.settings SET value = '2025-04-15' WHERE key = 'as_of';
UPDATE cxkpi.settings SET value = 'month' WHERE key = 'scorecard_grain';
INSERT INTO cxkpi.customers (customer_id, acquired_on) SELECT g, '2024-01-01' FROM generate_series(1, 6) AS g;

-- Constraints
SELECT throws_ok($$INSERT INTO cxkpi.engagement_events VALUES (90, 1, '2025-03-01Z', 'fax', 'site_visit')$$, '23514', NULL,
                 'an unknown channel is refused');
SELECT throws_ok($$INSERT INTO cxkpi.engagement_events VALUES (90, 1, '2025-03-01Z', 'web', 'like')$$, '23514', NULL,
                 'an unknown kind is refused');
SELECT throws_ok($$INSERT INTO cxkpi.engagement_events VALUES (90, 1, '2025-03-01Z', 'web', 'email_open')$$, '23514',
                 'new row for relation "engagement_events" violates check constraint "engagement_events_kind_channel"',
                 'an email open on the web channel is refused, naming the rule');
SELECT throws_ok($$INSERT INTO cxkpi.engagement_events VALUES (90, 99, '2025-03-01Z', 'web', 'site_visit')$$, '23503', NULL,
                 'an event of an unknown customer is refused');
SELECT throws_ok($$INSERT INTO cxkpi.engagement_events VALUES (90, 1, 'infinity', 'web', 'site_visit')$$, '23514', NULL,
                 'an infinite time is refused');
SELECT throws_ok($$INSERT INTO cxkpi.social_mentions VALUES (90, 'x', '2025-03-01Z', 'great', 2)$$, '23514', NULL,
                 'a polarity other than -1, 0, 1 is refused');
SELECT throws_ok($$INSERT INTO cxkpi.social_mentions VALUES (90, 'x', '2025-03-01Z', '', NULL)$$, '23514',
                 'new row for relation "social_mentions" violates check constraint "social_mentions_scorable"',
                 'a mention with neither a text nor a polarity is refused');
SELECT throws_ok($$INSERT INTO cxkpi.social_mentions VALUES (90, 'Insta Gram', '2025-03-01Z', 'ok', 0)$$, '23514', NULL,
                 'a source that is not a lower-case key is refused');
SELECT throws_ok($$INSERT INTO cxkpi.sentiment_lexicon (word, weight) VALUES ('meh', 0)$$, '23514', NULL,
                 'a lexicon word of valence 0 is refused');
SELECT throws_ok($$INSERT INTO cxkpi.sentiment_lexicon (word, weight) VALUES ('Meh', -1)$$, '23514', NULL,
                 'an upper-case lexicon word is refused (texts are lower-cased)');

-- The lexicon (AFINN method): the sign of the summed valences, a negation flips the next word
SELECT is(cxkpi.sentiment_polarity('Love the new store, GREAT staff'), 1::smallint, 'love 3 + great 3: positive');
SELECT is(cxkpi.sentiment_polarity('delivery was not good'), -1::smallint, 'not good: -3, negative');
SELECT is(cxkpi.sentiment_polarity('not bad at all'), 1::smallint, 'not bad: +3, positive');
SELECT is(cxkpi.sentiment_polarity('fast but rude'), 0::smallint, 'fast 2 + rude -2 = 0: neutral');
SELECT is(cxkpi.sentiment_polarity('Store opening hours?'), 0::smallint, 'no lexicon word: neutral');
SELECT is(cxkpi.sentiment_polarity('can''t recommend it'), -1::smallint, 'can''t recommend: negative');

-- March 2025.  Customers 1-4 are emailed; 1 opens and clicks, 2 opens (on the 5th).  Customer 1
-- visits the site twice, 5 once; 6 likes a post.  Reached: 1-6 (6); engaged: 1, 2, 5, 6 (4):
-- 66.67 %; email 2 / 6, web 2 / 6, social 1 / 6.  Opens 2 / 4 sent = 50 %, clicks 1 / 4 = 25 %.
-- Interactions 7 (2 opens, 1 click, 3 visits, 1 like) / 4 engaged = 1.75; web 3 / 2 = 1.5.
INSERT INTO cxkpi.engagement_events VALUES
    (1, 1, '2025-03-04 09:00Z', 'email', 'email_sent'), (2, 2, '2025-03-04 09:00Z', 'email', 'email_sent'),
    (3, 3, '2025-03-04 09:00Z', 'email', 'email_sent'), (4, 4, '2025-03-04 09:00Z', 'email', 'email_sent'),
    (5, 1, '2025-03-04 11:00Z', 'email', 'email_open'), (6, 2, '2025-03-05 11:00Z', 'email', 'email_open'),
    (7, 1, '2025-03-04 11:05Z', 'email', 'email_click'),
    (8, 1, '2025-03-10 09:00Z', 'web', 'site_visit'), (9, 1, '2025-03-11 09:00Z', 'web', 'site_visit'),
    (10, 5, '2025-03-12 09:00Z', 'web', 'site_visit'), (11, 6, '2025-03-20 09:00Z', 'social', 'social_interaction'),
    -- February: customer 1 is emailed and does not open
    (12, 1, '2025-02-04 09:00Z', 'email', 'email_sent');
-- Mentions of March: 1 and 5 scored by the lexicon (positive, negative), 2 negative (not good),
-- 3 neutral and 4 positive from the classifier: 2 positive, 1 neutral, 2 negative of 5: net 0.
INSERT INTO cxkpi.social_mentions VALUES
    (1, 'instagram', '2025-03-03 10:00Z', 'Love the new store, great staff', NULL),
    (2, 'instagram', '2025-03-04 10:00Z', 'delivery was not good', NULL),
    (3, 'x', '2025-03-05 10:00Z', 'ok', 0), (4, 'x', '2025-03-06 10:00Z', 'meh', 1),
    (5, 'reviews', '2025-03-07 10:00Z', 'terrible, worst service', NULL);
CALL cxkpi.refresh_dashboard();

CREATE FUNCTION pg_temp.kv(k text, b text DEFAULT 'total', d text DEFAULT 'all', g text DEFAULT 'month', p date DEFAULT '2025-03-01')
    RETURNS text LANGUAGE sql AS $$
    SELECT (round(value::numeric, 6), numerator, denominator, sample_size)::text FROM cxkpi.kpi_values
    WHERE grain = g AND period_start = p AND kpi = k AND breakdown = b AND dimension = d $$;

SELECT is(pg_temp.kv('engagement_rate'), (round(100 * 4 / 6.0, 6), 4, 6, 6)::text, 'engagement rate: 4 engaged of 6 reached');
SELECT is(pg_temp.kv('engagement_rate'),
          (SELECT (round(100.0 * count(DISTINCT customer_id) FILTER (WHERE kind <> 'email_sent') / count(DISTINCT customer_id), 6),
                   count(DISTINCT customer_id) FILTER (WHERE kind <> 'email_sent'), count(DISTINCT customer_id),
                   count(DISTINCT customer_id))::text
           FROM cxkpi.engagement_events WHERE occurred_at >= '2025-03-01Z' AND occurred_at < '2025-04-01Z'),
          'engagement rate = plain SQL over the raw March events');
SELECT is(pg_temp.kv('engagement_rate', 'channel', 'email'), (round(100 * 2 / 6.0, 6), 2, 6, 6)::text, 'engagement by email: 2 of 6 reached');
SELECT is(pg_temp.kv('engagement_rate', 'channel', 'web'), (round(100 * 2 / 6.0, 6), 2, 6, 6)::text, 'engagement on the web: 2 of 6');
SELECT is(pg_temp.kv('engagement_rate', 'channel', 'social'), (round(100 * 1 / 6.0, 6), 1, 6, 6)::text, 'engagement on social: 1 of 6');
SELECT is((SELECT (round(ci_lower::numeric, 9), round(ci_upper::numeric, 9))::text FROM cxkpi.kpi_values
           WHERE grain = 'month' AND period_start = '2025-03-01' AND kpi = 'engagement_rate' AND breakdown = 'total'),
          (SELECT (round(cxkpi.wilson_ci_lower(4, 6)::numeric, 9), round(cxkpi.wilson_ci_upper(4, 6)::numeric, 9))::text),
          'engagement rate interval: Wilson of 4 / 6');
SELECT is(pg_temp.kv('engagement_rate', g => 'quarter', p => '2025-01-01'), (round(100 * 4 / 6.0, 6), 4, 6, 6)::text,
          'the quarter counts customer 1 (February and March) once: still 4 of 6');
SELECT is(pg_temp.kv('engagement_rate', g => 'month', p => '2025-02-01'), (0.000000, 0, 1, 1)::text,
          'February: customer 1 emailed, not engaged');
SELECT is(pg_temp.kv('email_open_rate'), (50.000000, 2, 4, 4)::text, 'email open rate 2 / 4');
SELECT is(pg_temp.kv('email_click_rate'), (25.000000, 1, 4, 4)::text, 'email click rate 1 / 4');
SELECT is(pg_temp.kv('interactions_per_customer'), (1.750000, 7, 4, 4)::text, 'interactions per engaged customer 7 / 4');
SELECT is(pg_temp.kv('interactions_per_customer', 'channel', 'web'), (1.500000, 3, 2, 2)::text, 'site visits per visiting customer 3 / 2');
SELECT is(pg_temp.kv('net_sentiment'), (0.000000, 0, 5, 5)::text, 'net sentiment (2 - 2) / 5');
SELECT is((SELECT (round(ci_lower::numeric, 9), round(ci_upper::numeric, 9))::text FROM cxkpi.kpi_values
           WHERE grain = 'month' AND period_start = '2025-03-01' AND kpi = 'net_sentiment' AND breakdown = 'total'),
          (SELECT (round(nps_ci_lower(s)::numeric, 9), round(nps_ci_upper(s)::numeric, 9))::text
           FROM (SELECT nps_agg(CASE p WHEN 1 THEN 10 WHEN 0 THEN 8 ELSE 0 END) AS s
                 FROM (VALUES (1), (-1), (0), (1), (-1)) AS v(p)) AS q),
          'net sentiment interval = the NPS adjusted-Wald interval of the three categories');
SELECT is(pg_temp.kv('positive_mention_share'), (40.000000, 2, 5, 5)::text, 'positive 2 / 5');
SELECT is(pg_temp.kv('neutral_mention_share'), (20.000000, 1, 5, 5)::text, 'neutral 1 / 5');
SELECT is(pg_temp.kv('negative_mention_share'), (40.000000, 2, 5, 5)::text, 'negative 2 / 5');
SELECT is(pg_temp.kv('net_sentiment', 'source', 'x'), (50.000000, 1, 2, 2)::text, 'x: 1 positive, 1 neutral');
SELECT is(pg_temp.kv('net_sentiment', 'source', 'reviews'), (-100.000000, -1, 1, 1)::text, 'reviews: 1 negative (lexicon)');

-- Views
SELECT is((SELECT (round(engagement_rate_pct::numeric, 2), engaged_customers, reached_customers, emails_sent, emails_opened,
                   emails_clicked, round(net_sentiment_points::numeric, 2), mentions, positive_mentions, negative_mentions)::text
           FROM cxkpi.kpi_engagement WHERE grain = 'month' AND period_start = '2025-03-01' AND breakdown = 'total'),
          '(66.67,4,6,4,2,1,0.00,5,2,2)', 'kpi_engagement: the March total row');
SELECT is((SELECT count(*) FROM cxkpi.kpi_scorecard
           WHERE kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'interactions_per_customer', 'net_sentiment',
                         'positive_mention_share', 'neutral_mention_share', 'negative_mention_share') AND breakdown = 'total'
             AND value IS NOT NULL), 8::bigint, 'the scorecard (March) has the eight KPIs');
SELECT is((SELECT count(DISTINCT kpi) FROM cxkpi.kpi_timeseries WHERE grain = 'week'
           AND kpi IN ('engagement_rate', 'email_open_rate', 'email_click_rate', 'interactions_per_customer', 'net_sentiment',
                       'positive_mention_share', 'neutral_mention_share', 'negative_mention_share')), 8::bigint,
          'kpi_timeseries has them at the week grain');
SET LOCAL ROLE cxkpi_reader;
SELECT is((SELECT mentions FROM cxkpi_bi.kpi_engagement WHERE grain = 'year' AND period_start = '2025-01-01' AND breakdown = 'total'),
          5::bigint, 'a BI reader reads cxkpi_bi.kpi_engagement');
RESET ROLE;

-- Incremental = rebuild: facts changed, then the lexicon edited
CREATE TEMP TABLE snap AS SELECT * FROM cxkpi.kpi_values WHERE false;
CREATE FUNCTION pg_temp.same_as_rebuild() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    CALL cxkpi.refresh_dashboard();
    DELETE FROM snap;
    INSERT INTO snap SELECT * FROM cxkpi.kpi_values;
    CREATE TEMP TABLE r_eng AS SELECT * FROM cxkpi.daily_engagement;
    CREATE TEMP TABLE r_sen AS SELECT * FROM cxkpi.daily_sentiment;
    CALL cxkpi.rebuild_dashboard();
    SELECT count(*) INTO n FROM (
        (SELECT s::text FROM snap AS s EXCEPT ALL SELECT v::text FROM cxkpi.kpi_values AS v)
        UNION ALL (SELECT v::text FROM cxkpi.kpi_values AS v EXCEPT ALL SELECT s::text FROM snap AS s)
        UNION ALL (SELECT r::text FROM r_eng AS r EXCEPT ALL SELECT d::text FROM cxkpi.daily_engagement AS d)
        UNION ALL (SELECT d::text FROM cxkpi.daily_engagement AS d EXCEPT ALL SELECT r::text FROM r_eng AS r)
        UNION ALL (SELECT r::text FROM r_sen AS r EXCEPT ALL SELECT d::text FROM cxkpi.daily_sentiment AS d)
        UNION ALL (SELECT d::text FROM cxkpi.daily_sentiment AS d EXCEPT ALL SELECT r::text FROM r_sen AS r)) AS x;
    DROP TABLE r_eng, r_sen;
    RETURN n = 0;
END $$;
INSERT INTO cxkpi.engagement_events VALUES (20, 3, '2025-03-15 09:00Z', 'app', 'app_session'),
                                           (21, 4, '2025-04-02 09:00Z', 'store', 'store_visit');
DELETE FROM cxkpi.engagement_events WHERE event_id = 6;
UPDATE cxkpi.engagement_events SET occurred_at = '2025-01-20 09:00Z' WHERE event_id = 11;
UPDATE cxkpi.social_mentions SET mentioned_at = '2025-02-27 10:00Z' WHERE mention_id = 4;
DELETE FROM cxkpi.social_mentions WHERE mention_id = 3;
SELECT ok(pg_temp.same_as_rebuild(), 'after inserts, deletes and moved events and mentions, the refresh equals a rebuild');
-- Reached 1-5 (6's like moved to January), engaged 1, 3 (app), 5: 3 of 5
SELECT is(pg_temp.kv('engagement_rate'), (60.000000, 3, 5, 5)::text, 'March after the changes: 3 engaged of 5');
INSERT INTO cxkpi.sentiment_lexicon (word, weight) VALUES ('delivery', 4);
SELECT is((SELECT count(DISTINCT bucket) FROM cxkpi.change_log WHERE fact = 'social_mentions'), 3::bigint,
          'a lexicon edit logs the days of the mentions without a polarity (3 days)');
SELECT ok(pg_temp.same_as_rebuild(), 'after a lexicon edit, the refresh equals a rebuild');
SELECT is(pg_temp.kv('positive_mention_share'), (round(100 * 2 / 3.0, 6), 2, 3, 3)::text,
          '"delivery was not good" is now +4 - 3 = positive: 2 positive of 3');

-- The lexicon is a configuration table: built-in rows stay out of the dump, yours are dumped
SELECT is((SELECT c.condition FROM pg_extension AS e,
                  unnest(e.extconfig::regclass[], e.extcondition) AS c(rel, condition)
           WHERE e.extname = 'cxkpi' AND c.rel = 'cxkpi.sentiment_lexicon'::regclass), 'WHERE NOT is_default',
          'sentiment_lexicon is dumped WHERE NOT is_default');
UPDATE cxkpi.sentiment_lexicon SET weight = 1 WHERE word = 'good';
SELECT is((SELECT is_default FROM cxkpi.sentiment_lexicon WHERE word = 'good'), false, 'an edited built-in word becomes yours');
INSERT INTO cxkpi.sentiment_lexicon (word, weight) VALUES ('great', 5);
SELECT is((SELECT (weight, is_default)::text FROM cxkpi.sentiment_lexicon WHERE word = 'great'), '(5,f)',
          'inserting a built-in word (as a restore does) replaces the built-in row');
SELECT throws_ok($$DELETE FROM cxkpi.sentiment_lexicon WHERE word = 'love'$$, '55006', NULL, 'a built-in word cannot be deleted');
SELECT is((SELECT count(*) FROM pg_extension AS e, unnest(e.extconfig::regclass[]) AS c(rel)
           WHERE e.extname = 'cxkpi' AND c.rel IN ('cxkpi.engagement_events'::regclass, 'cxkpi.social_mentions'::regclass)),
          2::bigint, 'engagement_events and social_mentions are dumped (user data)');

SELECT * FROM finish();
ROLLBACK;
