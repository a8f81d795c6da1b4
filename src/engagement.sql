-------------------------------------------------------------------------------------------------
-- Engagement across channels (issue 17, seed 002) and social-media sentiment (seed 003): the
-- facts (docs/data-model.md#engagement_events, #social_mentions), the editable lexicon that
-- scores a mention that comes without a polarity, and their daily rollups, maintained by the
-- refresh like the others (cxkpi.dashboard_rollups(); docs/dashboard.md#engagement-and-social-sentiment).
-------------------------------------------------------------------------------------------------

-- One row per customer touchpoint event.  The kind fixes the channel (email_* on email,
-- social_interaction on social, site_visit on web, app_session on app, store_visit in store);
-- an email_open or email_click is recorded once per email (the first open, the first click).
CREATE TABLE cxkpi.engagement_events (
    event_id    bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES cxkpi.customers,
    occurred_at timestamptz NOT NULL CONSTRAINT engagement_events_occurred_at_finite CHECK (isfinite(occurred_at)),
    channel     text NOT NULL CONSTRAINT engagement_events_channel
                    CHECK (channel IN ('email', 'social', 'web', 'app', 'store')),
    kind        text NOT NULL CONSTRAINT engagement_events_kind
                    CHECK (kind IN ('email_sent', 'email_open', 'email_click', 'social_interaction', 'site_visit',
                                    'app_session', 'store_visit')),
    CONSTRAINT engagement_events_kind_channel CHECK (channel = CASE WHEN kind LIKE 'email%' THEN 'email'
                                                                   WHEN kind = 'social_interaction' THEN 'social'
                                                                   WHEN kind = 'site_visit' THEN 'web'
                                                                   WHEN kind = 'app_session' THEN 'app'
                                                                   ELSE 'store' END)
);
CREATE INDEX engagement_events_customer_idx ON cxkpi.engagement_events (customer_id, occurred_at);
CREATE INDEX engagement_events_occurred_at_idx ON cxkpi.engagement_events (occurred_at);
COMMENT ON TABLE cxkpi.engagement_events IS
    'One row per customer engagement event: email_sent, email_open and email_click (channel email; an open or click once per email), social_interaction (social: a like, share, comment or review), site_visit (web), app_session (app), store_visit (store). Every kind but email_sent is an interaction; a customer with an interaction in a period is engaged in it.';
COMMENT ON COLUMN cxkpi.engagement_events.channel IS 'email, social, web, app or store; must be the channel of the kind.';
COMMENT ON COLUMN cxkpi.engagement_events.kind IS
    'email_sent, email_open, email_click, social_interaction, site_visit, app_session or store_visit.';

-- One row per mention of the brand on social media or a review site.  polarity comes from the
-- user's classifier (-1 negative, 0 neutral, 1 positive) or, when NULL, from the lexicon.
CREATE TABLE cxkpi.social_mentions (
    mention_id   bigint PRIMARY KEY,
    source       text NOT NULL CONSTRAINT social_mentions_source CHECK (source ~ '^[a-z][a-z0-9_]*$'),
    mentioned_at timestamptz NOT NULL CONSTRAINT social_mentions_mentioned_at_finite CHECK (isfinite(mentioned_at)),
    text         text NOT NULL DEFAULT '',
    polarity     smallint CONSTRAINT social_mentions_polarity CHECK (polarity IN (-1, 0, 1)),
    CONSTRAINT social_mentions_scorable CHECK (polarity IS NOT NULL OR text <> '')
);
CREATE INDEX social_mentions_mentioned_at_idx ON cxkpi.social_mentions (mentioned_at);
COMMENT ON TABLE cxkpi.social_mentions IS
    'One row per brand mention on social media or a review site: source (lower-case key, e.g. instagram, x, facebook, reviews), time, text, and the polarity from your classifier (-1 negative, 0 neutral, 1 positive); NULL polarity: scored by cxkpi.sentiment_polarity(text) with cxkpi.sentiment_lexicon.';
COMMENT ON COLUMN cxkpi.social_mentions.polarity IS
    '-1 negative, 0 neutral, 1 positive, as your classifier says; NULL: the lexicon scores the text (cxkpi.sentiment_polarity).';

-- The lexicon: word valences from -5 (very negative) to 5 (very positive), the AFINN method
-- (Nielsen 2011: a mention's score is the sum of the valences of its words; its polarity the
-- sign).  A small built-in English list; edit it (a built-in row you change is dumped as yours).
CREATE TABLE cxkpi.sentiment_lexicon (
    word       text PRIMARY KEY CONSTRAINT sentiment_lexicon_word CHECK (word ~ '^[a-z]+(''[a-z]+)?$'),
    weight     integer NOT NULL CONSTRAINT sentiment_lexicon_weight CHECK (weight BETWEEN -5 AND 5 AND weight <> 0),
    is_default boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE cxkpi.sentiment_lexicon IS
    'Word valences (-5 to 5, not 0) that score social mentions without a polarity (cxkpi.sentiment_polarity, AFINN method). Lower-case words; edit freely: a change rescores the mentions without a polarity at the next refresh.';
INSERT INTO cxkpi.sentiment_lexicon (word, weight, is_default) VALUES
    ('love', 3, true), ('loved', 3, true), ('great', 3, true), ('excellent', 3, true), ('amazing', 4, true),
    ('awesome', 4, true), ('perfect', 3, true), ('fantastic', 4, true), ('good', 3, true), ('nice', 3, true),
    ('happy', 3, true), ('fast', 2, true), ('easy', 1, true), ('friendly', 2, true), ('helpful', 2, true),
    ('recommend', 2, true), ('thanks', 2, true), ('thank', 2, true), ('best', 3, true), ('beautiful', 3, true),
    ('quick', 2, true), ('satisfied', 2, true), ('glad', 3, true), ('like', 2, true), ('enjoy', 2, true),
    ('bad', -3, true), ('terrible', -3, true), ('awful', -3, true), ('horrible', -3, true), ('worst', -3, true),
    ('hate', -3, true), ('poor', -2, true), ('slow', -2, true), ('late', -2, true), ('broken', -1, true),
    ('rude', -2, true), ('disappointed', -2, true), ('disappointing', -2, true), ('refund', -1, true),
    ('problem', -2, true), ('fail', -2, true), ('failed', -2, true), ('never', -1, true), ('wrong', -2, true),
    ('missing', -2, true), ('damaged', -2, true), ('annoying', -2, true), ('useless', -2, true),
    ('scam', -4, true), ('complaint', -2, true);

-- A mention's polarity by the lexicon: the sign of the sum of the valences of its words (lower
-- case, split at anything but letters and apostrophes), a word right after a negation (not, no,
-- never, don't, ...) counted with the opposite sign; 0 when no word is in the lexicon.
CREATE FUNCTION cxkpi.sentiment_polarity(mention text) RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT sign(coalesce(sum(CASE WHEN w.prev IN ('not', 'no', 'never', 'don''t', 'doesn''t', 'didn''t', 'isn''t',
                                                  'wasn''t', 'won''t', 'cannot', 'can''t')
                                  THEN -l.weight ELSE l.weight END), 0))::smallint
    FROM (SELECT t.word, lag(t.word) OVER (ORDER BY t.n) AS prev
          FROM regexp_split_to_table(lower(mention), '[^a-z'']+') WITH ORDINALITY AS t(word, n)) AS w
    JOIN cxkpi.sentiment_lexicon AS l ON l.word = w.word;
END;
COMMENT ON FUNCTION cxkpi.sentiment_polarity(text) IS
    'Polarity of a text by cxkpi.sentiment_lexicon (AFINN method): sign of the sum of its words'' valences, a word right after not, no, never, don''t, ... with the opposite sign; -1, 0 or 1.';

-- A lexicon edit rescores the mentions without a polarity: their days are logged for the refresh.
CREATE FUNCTION cxkpi.sentiment_lexicon_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_RELID <> 'cxkpi.sentiment_lexicon'::regclass THEN
        RAISE EXCEPTION 'cxkpi.sentiment_lexicon_changed() belongs to cxkpi.sentiment_lexicon' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO cxkpi.change_log (fact, bucket)
    SELECT DISTINCT 'social_mentions', (m.mentioned_at AT TIME ZONE s.value)::date
    FROM cxkpi.social_mentions AS m, cxkpi.settings AS s
    WHERE s.key = 'time_zone' AND m.polarity IS NULL;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.sentiment_lexicon_changed() IS
    'Internal: statement trigger of cxkpi.sentiment_lexicon; logs the days of the mentions without a polarity for the next refresh.';
REVOKE ALL ON FUNCTION cxkpi.sentiment_lexicon_changed() FROM PUBLIC;
CREATE TRIGGER sentiment_lexicon_upsert BEFORE INSERT OR UPDATE OR DELETE ON cxkpi.sentiment_lexicon
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();
CREATE TRIGGER sentiment_lexicon_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cxkpi.sentiment_lexicon
    FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.sentiment_lexicon_changed();

SELECT pg_catalog.pg_extension_config_dump('cxkpi.engagement_events', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.social_mentions', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.sentiment_lexicon', 'WHERE NOT is_default');

-- Engagement per day and channel: emails sent, unique opens and clicks, interactions (every
-- event but email_sent), and the customers reached (any event) and engaged (an interaction) as
-- retention summaries, so that a period counts distinct customers exactly across its days.
CREATE TABLE cxkpi.daily_engagement (day date, channel text, sent bigint, opens bigint, clicks bigint,
    interactions bigint, reached @extschema@.retention_summary, engaged @extschema@.retention_summary);
CREATE UNIQUE INDEX daily_engagement_key ON cxkpi.daily_engagement (day, channel);
CREATE FUNCTION cxkpi.rollup_daily_engagement(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_engagement
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (e.occurred_at AT TIME ZONE tz)::date AS day, e.channel,
       count(*) FILTER (WHERE e.kind = 'email_sent') AS sent, count(*) FILTER (WHERE e.kind = 'email_open') AS opens,
       count(*) FILTER (WHERE e.kind = 'email_click') AS clicks,
       count(*) FILTER (WHERE e.kind <> 'email_sent') AS interactions,
       @extschema@.retention_agg(e.customer_id, (e.occurred_at AT TIME ZONE tz)::date, 'day') AS reached,
       @extschema@.retention_agg(e.customer_id, (e.occurred_at AT TIME ZONE tz)::date, 'day')
           FILTER (WHERE e.kind <> 'email_sent') AS engaged
FROM cxkpi.engagement_events AS e
WHERE e.occurred_at >= (first_day::timestamp AT TIME ZONE tz) AND e.occurred_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_engagement IS
    'Internal rollup: engagement events per local day and channel: emails sent, opens, clicks, interactions, and the customers reached and engaged (retention summaries: distinct customers of any period).';
COMMENT ON FUNCTION cxkpi.rollup_daily_engagement(text, date, date) IS
    'Internal: the rows of cxkpi.daily_engagement of the days first_day to last_day (in time zone tz).';

-- Mentions per day and source as NPS summaries over three categories (positive = 10, neutral =
-- 8, negative = 0): net sentiment is then the NPS of the summary, with its adjusted-Wald
-- interval (src/nps.c), and the shares are its promoters, passives and detractors.
CREATE TABLE cxkpi.daily_sentiment (day date, source text, mentions @extschema@.nps_summary, lexicon_scored bigint);
CREATE UNIQUE INDEX daily_sentiment_key ON cxkpi.daily_sentiment (day, source);
CREATE FUNCTION cxkpi.rollup_daily_sentiment(tz text, first_day date, last_day date) RETURNS SETOF cxkpi.daily_sentiment
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (m.mentioned_at AT TIME ZONE tz)::date AS day, m.source,
       @extschema@.nps_agg(CASE coalesce(m.polarity, cxkpi.sentiment_polarity(m.text)) WHEN 1 THEN 10 WHEN 0 THEN 8 ELSE 0 END)
           AS mentions,
       count(*) FILTER (WHERE m.polarity IS NULL) AS lexicon_scored
FROM cxkpi.social_mentions AS m
WHERE m.mentioned_at >= (first_day::timestamp AT TIME ZONE tz) AND m.mentioned_at < ((last_day + 1)::timestamp AT TIME ZONE tz)
GROUP BY 1, 2 $$;
COMMENT ON TABLE cxkpi.daily_sentiment IS
    'Internal rollup: social mentions per local day and source as an nps_summary (positive = 10, neutral = 8, negative = 0), and how many the lexicon scored.';
COMMENT ON FUNCTION cxkpi.rollup_daily_sentiment(text, date, date) IS
    'Internal: the rows of cxkpi.daily_sentiment of the days first_day to last_day (in time zone tz).';
