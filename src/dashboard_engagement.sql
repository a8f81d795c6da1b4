-------------------------------------------------------------------------------------------------
-- Engagement and social sentiment on the dashboard (issue 17, seeds 002 and 003): the section
-- view, its cxkpi_bi name, display order, and privileges (docs/dashboard.md#engagement-and-social-sentiment).
-------------------------------------------------------------------------------------------------

-- One row per grain, period, breakdown and dimension: breakdown channel (email, social, web,
-- app, store) for engagement, source for the mentions, total for both.
CREATE VIEW cxkpi.kpi_engagement AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'engagement_rate') AS engagement_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'engagement_rate') AS engagement_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'engagement_rate') AS engagement_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'engagement_rate')::bigint AS engaged_customers,
       max(denominator) FILTER (WHERE kpi = 'engagement_rate')::bigint AS reached_customers,
       max(value) FILTER (WHERE kpi = 'interactions_per_customer') AS interactions_per_customer,
       max(numerator) FILTER (WHERE kpi = 'interactions_per_customer')::bigint AS interactions,
       max(value) FILTER (WHERE kpi = 'email_open_rate') AS email_open_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'email_open_rate')::bigint AS emails_opened,
       max(value) FILTER (WHERE kpi = 'email_click_rate') AS email_click_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'email_click_rate')::bigint AS emails_clicked,
       max(denominator) FILTER (WHERE kpi = 'email_open_rate')::bigint AS emails_sent,
       max(value) FILTER (WHERE kpi = 'net_sentiment') AS net_sentiment_points,
       max(ci_lower) FILTER (WHERE kpi = 'net_sentiment') AS net_sentiment_ci_lower_points,
       max(ci_upper) FILTER (WHERE kpi = 'net_sentiment') AS net_sentiment_ci_upper_points,
       max(value) FILTER (WHERE kpi = 'positive_mention_share') AS positive_mention_pct,
       max(value) FILTER (WHERE kpi = 'neutral_mention_share') AS neutral_mention_pct,
       max(value) FILTER (WHERE kpi = 'negative_mention_share') AS negative_mention_pct,
       max(numerator) FILTER (WHERE kpi = 'positive_mention_share')::bigint AS positive_mentions,
       max(numerator) FILTER (WHERE kpi = 'neutral_mention_share')::bigint AS neutral_mentions,
       max(numerator) FILTER (WHERE kpi = 'negative_mention_share')::bigint AS negative_mentions,
       max(sample_size) FILTER (WHERE kpi = 'net_sentiment') AS mentions
FROM cxkpi.kpi_values
WHERE kpi IN ('engagement_rate', 'interactions_per_customer', 'email_open_rate', 'email_click_rate', 'net_sentiment',
              'positive_mention_share', 'neutral_mention_share', 'negative_mention_share')
GROUP BY grain, period_start, breakdown, dimension;
COMMENT ON VIEW cxkpi.kpi_engagement IS
    'Engagement across channels (seed 002) and social-media sentiment (seed 003) per period: engagement rate (distinct customers with an interaction / customers reached), interactions per engaged customer, email open and click rates, net sentiment with its adjusted-Wald interval and the shares of positive, neutral and negative mentions; total, by channel (engagement) and by source (mentions).';
COMMENT ON COLUMN cxkpi.kpi_engagement.grain IS 'Period length: day, week, month, quarter or year.';
COMMENT ON COLUMN cxkpi.kpi_engagement.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.kpi_engagement.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN cxkpi.kpi_engagement."time" IS 'Start of the period as a timestamp (midnight in setting time_zone).';
COMMENT ON COLUMN cxkpi.kpi_engagement.breakdown IS 'total, channel (engagement: email, social, web, app, store) or source (mentions).';
COMMENT ON COLUMN cxkpi.kpi_engagement.dimension IS 'The channel or source; all for the total row.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engagement_rate_pct IS
    '100 * engaged customers / customers reached (any engagement event, any channel) in the period; by channel: engaged in that channel.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engagement_rate_ci_lower_pct IS 'Lower end of the Wilson interval of the engagement rate.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engagement_rate_ci_upper_pct IS 'Upper end of the Wilson interval of the engagement rate.';
COMMENT ON COLUMN cxkpi.kpi_engagement.engaged_customers IS 'Distinct customers with an interaction (every event but email_sent) in the period (and channel).';
COMMENT ON COLUMN cxkpi.kpi_engagement.reached_customers IS 'Distinct customers with any engagement event in the period, any channel.';
COMMENT ON COLUMN cxkpi.kpi_engagement.interactions_per_customer IS 'interactions / engaged customers.';
COMMENT ON COLUMN cxkpi.kpi_engagement.interactions IS 'Interactions: email opens and clicks, social interactions, site visits, app sessions, store visits.';
COMMENT ON COLUMN cxkpi.kpi_engagement.email_open_rate_pct IS '100 * emails opened / emails sent (total row only).';
COMMENT ON COLUMN cxkpi.kpi_engagement.emails_opened IS 'Emails opened (email_open events).';
COMMENT ON COLUMN cxkpi.kpi_engagement.email_click_rate_pct IS '100 * emails clicked / emails sent (total row only).';
COMMENT ON COLUMN cxkpi.kpi_engagement.emails_clicked IS 'Emails clicked (email_click events).';
COMMENT ON COLUMN cxkpi.kpi_engagement.emails_sent IS 'Emails sent (email_sent events).';
COMMENT ON COLUMN cxkpi.kpi_engagement.net_sentiment_points IS '100 * (positive - negative mentions) / mentions, -100 to 100.';
COMMENT ON COLUMN cxkpi.kpi_engagement.net_sentiment_ci_lower_points IS 'Lower end of the adjusted-Wald interval of net sentiment (as for NPS).';
COMMENT ON COLUMN cxkpi.kpi_engagement.net_sentiment_ci_upper_points IS 'Upper end of the adjusted-Wald interval of net sentiment (as for NPS).';
COMMENT ON COLUMN cxkpi.kpi_engagement.positive_mention_pct IS '100 * positive mentions / mentions.';
COMMENT ON COLUMN cxkpi.kpi_engagement.neutral_mention_pct IS '100 * neutral mentions / mentions.';
COMMENT ON COLUMN cxkpi.kpi_engagement.negative_mention_pct IS '100 * negative mentions / mentions.';
COMMENT ON COLUMN cxkpi.kpi_engagement.positive_mentions IS 'Mentions of polarity 1 (classifier or lexicon).';
COMMENT ON COLUMN cxkpi.kpi_engagement.neutral_mentions IS 'Mentions of polarity 0 (classifier or lexicon).';
COMMENT ON COLUMN cxkpi.kpi_engagement.negative_mentions IS 'Mentions of polarity -1 (classifier or lexicon).';
COMMENT ON COLUMN cxkpi.kpi_engagement.mentions IS 'Social mentions in the period.';

CREATE VIEW cxkpi_bi.kpi_engagement AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension,
       v.engagement_rate_pct, v.engagement_rate_ci_lower_pct, v.engagement_rate_ci_upper_pct, v.engaged_customers,
       v.reached_customers, v.interactions_per_customer, v.interactions, v.email_open_rate_pct, v.emails_opened,
       v.email_click_rate_pct, v.emails_clicked, v.emails_sent, v.net_sentiment_points, v.net_sentiment_ci_lower_points,
       v.net_sentiment_ci_upper_points, v.positive_mention_pct, v.neutral_mention_pct, v.negative_mention_pct,
       v.positive_mentions, v.neutral_mentions, v.negative_mentions, v.mentions
FROM cxkpi.kpi_engagement AS v;
COMMENT ON VIEW cxkpi_bi.kpi_engagement IS
    'Engagement across channels (seed 002) and social-media sentiment (seed 003) per period: engagement rate, interactions per engaged customer, email open and click rates, net sentiment with its interval and the shares of positive, neutral and negative mentions; total, by channel and by source.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS doc FROM pg_attribute AS a
             WHERE a.attrelid = 'cxkpi.kpi_engagement'::regclass AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.kpi_engagement.%I IS %L', r.attname, r.doc);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_engagement, cxkpi_bi.kpi_engagement TO cxkpi_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.engagement_events, cxkpi.social_mentions TO cxkpi_writer;
GRANT SELECT ON cxkpi.sentiment_lexicon TO cxkpi_writer, cxkpi_operator;

-- Display order and decimals (cxkpi_bi.kpi_catalog), as src/bi.sql does for the others.
ALTER TABLE cxkpi.kpi_definitions DISABLE TRIGGER kpi_definitions_upsert;
UPDATE cxkpi.kpi_definitions AS d SET sort_order = v.sort_order, decimals = v.decimals
FROM (VALUES ('engagement_rate', 460, NULL::smallint), ('interactions_per_customer', 470, 2), ('email_open_rate', 480, NULL),
             ('email_click_rate', 490, NULL), ('net_sentiment', 492, NULL), ('positive_mention_share', 494, NULL),
             ('neutral_mention_share', 496, NULL), ('negative_mention_share', 498, NULL)) AS v(kpi, sort_order, decimals)
WHERE d.kpi = v.kpi;
ALTER TABLE cxkpi.kpi_definitions ENABLE TRIGGER kpi_definitions_upsert;

-------------------------------------------------------------------------------------------------
-- Omnichannel conversion and journeys (issue 17, seed 002): the two KPIs, their section view,
-- and the conversion by path (docs/dashboard.md#omnichannel-conversion-and-journeys).
-------------------------------------------------------------------------------------------------
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default,
                                   sort_order, decimals) VALUES
    ('omnichannel_conversion_rate', 'Omnichannel conversion rate', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * customers with a purchase (an order in any channel) / customers with a touchpoint in any channel (cxkpi.journey_touchpoints), distinct customers of the period; by channel: those who touched the channel', 'builtin', 0, 100, true,
     190, NULL),
    ('multichannel_customer_share', 'Customers active in 2+ channels', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * customers with touchpoints in two channels or more / customers with a touchpoint, distinct customers of the period; by channel: of those who touched the channel', 'builtin', 0, 100, true,
     195, NULL);

-- One row per grain, period, breakdown (total, channel) and dimension.
CREATE VIEW cxkpi.kpi_journeys AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'omnichannel_conversion_rate') AS omnichannel_conversion_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'omnichannel_conversion_rate') AS omnichannel_conversion_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'omnichannel_conversion_rate') AS omnichannel_conversion_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'omnichannel_conversion_rate')::bigint AS purchasing_customers,
       max(denominator) FILTER (WHERE kpi = 'omnichannel_conversion_rate')::bigint AS active_customers,
       max(value) FILTER (WHERE kpi = 'multichannel_customer_share') AS multichannel_customer_pct,
       max(ci_lower) FILTER (WHERE kpi = 'multichannel_customer_share') AS multichannel_customer_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'multichannel_customer_share') AS multichannel_customer_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'multichannel_customer_share')::bigint AS multichannel_customers
FROM cxkpi.kpi_values
WHERE kpi IN ('omnichannel_conversion_rate', 'multichannel_customer_share')
GROUP BY grain, period_start, breakdown, dimension;
COMMENT ON VIEW cxkpi.kpi_journeys IS
    'Omnichannel conversion and journeys (seed 002) per period: the share of the customers with a touchpoint in any channel who purchased in any channel, and the share active in two channels or more; total and by journey channel (email, social, web, app, store, phone: the customers who touched it).';
COMMENT ON COLUMN cxkpi.kpi_journeys.grain IS 'Period length: day, week, month, quarter or year.';
COMMENT ON COLUMN cxkpi.kpi_journeys.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.kpi_journeys.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN cxkpi.kpi_journeys."time" IS 'Start of the period as a timestamp (midnight in setting time_zone).';
COMMENT ON COLUMN cxkpi.kpi_journeys.breakdown IS 'total, or channel (the customers who touched that journey channel).';
COMMENT ON COLUMN cxkpi.kpi_journeys.dimension IS 'The journey channel (email, social, web, app, store, phone); all for the total row.';
COMMENT ON COLUMN cxkpi.kpi_journeys.omnichannel_conversion_rate_pct IS
    '100 * purchasing customers / active customers: the customers with a touchpoint (by channel: in that channel) in the period who placed an order in any channel in it.';
COMMENT ON COLUMN cxkpi.kpi_journeys.omnichannel_conversion_rate_ci_lower_pct IS 'Lower end of the Wilson interval of the omnichannel conversion rate.';
COMMENT ON COLUMN cxkpi.kpi_journeys.omnichannel_conversion_rate_ci_upper_pct IS 'Upper end of the Wilson interval of the omnichannel conversion rate.';
COMMENT ON COLUMN cxkpi.kpi_journeys.purchasing_customers IS 'Distinct active customers (by channel: of that channel) with an order in the period, any channel.';
COMMENT ON COLUMN cxkpi.kpi_journeys.active_customers IS 'Distinct customers with a touchpoint (cxkpi.journey_touchpoints; an order is one) in the period; by channel: in that channel.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customer_pct IS '100 * multichannel customers / active customers.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customer_ci_lower_pct IS 'Lower end of the Wilson interval of the multichannel share.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customer_ci_upper_pct IS 'Upper end of the Wilson interval of the multichannel share.';
COMMENT ON COLUMN cxkpi.kpi_journeys.multichannel_customers IS 'Distinct active customers (by channel: of that channel) with touchpoints in two journey channels or more in the period.';

CREATE VIEW cxkpi_bi.kpi_journeys AS
SELECT v.grain, v.period_start, v.period_end, v."time", v.breakdown, v.dimension, v.omnichannel_conversion_rate_pct,
       v.omnichannel_conversion_rate_ci_lower_pct, v.omnichannel_conversion_rate_ci_upper_pct, v.purchasing_customers,
       v.active_customers, v.multichannel_customer_pct, v.multichannel_customer_ci_lower_pct,
       v.multichannel_customer_ci_upper_pct, v.multichannel_customers
FROM cxkpi.kpi_journeys AS v;
COMMENT ON VIEW cxkpi_bi.kpi_journeys IS
    'Omnichannel conversion and journeys (seed 002) per period: share of the active customers (a touchpoint in any channel) who purchased, and share active in two channels or more; total and by journey channel.';

-- Conversion by path over the days from_day to to_day (setting time_zone): for each customer
-- with a touchpoint in them, the journey channels in the order of their first touch, up to and
-- including the customer's first purchase in the window (all touchpoints without one), the
-- first four only; per path the customers, purchasers and conversion, and, of those who did not
-- purchase, the channel of their last touchpoint (where they dropped).  Plain SQL over the
-- facts; a SQL-standard body, so that cxkpi_bi.journey_paths runs for readers.
CREATE FUNCTION cxkpi.journey_paths(from_day date, to_day date)
    RETURNS TABLE (path text, path_channels bigint, customers bigint, purchasers bigint, conversion_rate_pct double precision,
                   dropped bigint, dropped_at_email bigint, dropped_at_social bigint, dropped_at_web bigint,
                   dropped_at_app bigint, dropped_at_store bigint, dropped_at_phone bigint)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH tp AS (
        SELECT t.customer_id, t.touched_at, t.journey_channel AS channel, t.purchase
        FROM cxkpi.journey_touchpoints AS t
        WHERE t.touched_at >= (from_day::timestamp AT TIME ZONE cxkpi.setting('time_zone'))
          AND t.touched_at < ((to_day + 1)::timestamp AT TIME ZONE cxkpi.setting('time_zone'))),
    fp AS (
        SELECT tp.customer_id, min(tp.touched_at) AS first_purchase FROM tp WHERE tp.purchase GROUP BY tp.customer_id),
    ch AS (
        SELECT tp.customer_id, tp.channel, min(tp.touched_at) AS first_touch, fp.first_purchase IS NOT NULL AS purchased
        FROM tp LEFT JOIN fp ON fp.customer_id = tp.customer_id
        WHERE fp.first_purchase IS NULL OR tp.touched_at <= fp.first_purchase
        GROUP BY tp.customer_id, tp.channel, fp.first_purchase),
    cp AS (
        SELECT r.customer_id, string_agg(r.channel, ' > ' ORDER BY r.n) AS path, count(*) AS path_channels,
               bool_or(r.purchased) AS purchased
        FROM (SELECT ch.customer_id, ch.channel, ch.purchased,
                     row_number() OVER (PARTITION BY ch.customer_id ORDER BY ch.first_touch, ch.channel) AS n
              FROM ch) AS r
        WHERE r.n <= 4
        GROUP BY r.customer_id),
    lc AS (
        SELECT DISTINCT ON (tp.customer_id) tp.customer_id, tp.channel
        FROM tp WHERE tp.customer_id NOT IN (SELECT fp.customer_id FROM fp)
        ORDER BY tp.customer_id, tp.touched_at DESC, tp.channel)
    SELECT cp.path, min(cp.path_channels), count(*), count(*) FILTER (WHERE cp.purchased),
           (100.0 * count(*) FILTER (WHERE cp.purchased) / count(*))::double precision,
           count(*) FILTER (WHERE NOT cp.purchased),
           count(*) FILTER (WHERE lc.channel = 'email'), count(*) FILTER (WHERE lc.channel = 'social'),
           count(*) FILTER (WHERE lc.channel = 'web'), count(*) FILTER (WHERE lc.channel = 'app'),
           count(*) FILTER (WHERE lc.channel = 'store'), count(*) FILTER (WHERE lc.channel = 'phone')
    FROM cp LEFT JOIN lc ON lc.customer_id = cp.customer_id
    GROUP BY cp.path
    ORDER BY count(*) DESC, cp.path;
END;
COMMENT ON FUNCTION cxkpi.journey_paths(date, date) IS
    'Conversion by journey path over the local days from_day to to_day: per path (the journey channels of a customer in the order of their first touch, up to and including the first purchase in the window; the first four) the customers, purchasers, conversion rate, and the non-purchasers by the channel of their last touchpoint (where they dropped).';

-- The paths of the last 90 days up to the reference date (cxkpi.as_of()).
CREATE VIEW cxkpi.journey_path_conversion AS
SELECT (SELECT cxkpi.as_of()) - 89 AS from_day, (SELECT cxkpi.as_of()) AS to_day, p.*
FROM cxkpi.journey_paths((SELECT cxkpi.as_of()) - 89, (SELECT cxkpi.as_of())) AS p;
COMMENT ON VIEW cxkpi.journey_path_conversion IS
    'Conversion by journey path over the 90 days up to the reference date (cxkpi.as_of()): cxkpi.journey_paths of that window, most frequent paths first.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.from_day IS 'First day of the window: the reference date - 89.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.to_day IS 'Last day of the window: the reference date (setting as_of, or today).';
COMMENT ON COLUMN cxkpi.journey_path_conversion.path IS
    'Journey channels (email, social, web, app, store, phone) in the order of their first touch up to and including the first purchase, the first four, joined by " > ".';
COMMENT ON COLUMN cxkpi.journey_path_conversion.path_channels IS 'Channels in the path (1 to 4).';
COMMENT ON COLUMN cxkpi.journey_path_conversion.customers IS 'Customers with a touchpoint in the window whose journey is this path.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.purchasers IS 'Of those, the customers with a purchase (an order) in the window.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.conversion_rate_pct IS '100 * purchasers / customers.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped IS 'Customers of the path without a purchase in the window: customers - purchasers.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_email IS 'Of the dropped customers, those whose last touchpoint in the window was by email.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_social IS 'Of the dropped customers, those whose last touchpoint was on social media.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_web IS 'Of the dropped customers, those whose last touchpoint was on the web (site visit, web session or cart, chat).';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_app IS 'Of the dropped customers, those whose last touchpoint was in the app.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_store IS 'Of the dropped customers, those whose last touchpoint was a store visit.';
COMMENT ON COLUMN cxkpi.journey_path_conversion.dropped_at_phone IS 'Of the dropped customers, those whose last touchpoint was a phone support ticket.';

CREATE VIEW cxkpi_bi.journey_path_conversion AS
SELECT v.from_day, v.to_day, v.path, v.path_channels, v.customers, v.purchasers, v.conversion_rate_pct, v.dropped,
       v.dropped_at_email, v.dropped_at_social, v.dropped_at_web, v.dropped_at_app, v.dropped_at_store, v.dropped_at_phone
FROM cxkpi.journey_path_conversion AS v;
COMMENT ON VIEW cxkpi_bi.journey_path_conversion IS
    'Conversion by journey path over the 90 days up to the reference date: customers, purchasers and conversion per path of channels, and where the customers who did not purchase dropped.';
CREATE VIEW cxkpi_bi.journey_touchpoints AS
SELECT v.customer_id, v.touched_at, v.journey_channel, v.purchase, v.source, v.source_id
FROM cxkpi.journey_touchpoints AS v;
COMMENT ON VIEW cxkpi_bi.journey_touchpoints IS
    'Every touchpoint of an identified customer in the journey channels (email, social, web, app, store, phone), orders (the purchases) included: one row per engagement interaction, session or cart of a known customer, support ticket of a known customer, and order.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, a.attname, col_description(a.attrelid, a.attnum) AS doc
             FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
             WHERE a.attrelid IN ('cxkpi.kpi_journeys'::regclass, 'cxkpi.journey_path_conversion'::regclass,
                                  'cxkpi.journey_touchpoints'::regclass) AND a.attnum > 0 LOOP
        EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', r.relname, r.attname, r.doc);
    END LOOP;
END $$;
GRANT SELECT ON cxkpi.kpi_journeys, cxkpi_bi.kpi_journeys, cxkpi.journey_path_conversion, cxkpi_bi.journey_path_conversion,
    cxkpi.journey_touchpoints, cxkpi_bi.journey_touchpoints TO cxkpi_reader;
