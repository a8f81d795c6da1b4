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
