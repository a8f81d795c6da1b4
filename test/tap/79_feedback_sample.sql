-- The feedback stream and the follow-up queue on the sample data (docs/feedback.md), against
-- plain SQL on cxkpi.survey_responses: every answer once, categories as hand-written boxes,
-- returns feedback = the returns_csat KPI's answers, the queue = the detractor and dissatisfied
-- answers of the open periods, the latest answers read through the index.
BEGIN;
SET client_min_messages = warning;
SELECT plan(8);

SELECT is((SELECT count(*) FROM cxkpi_bi.feedback_stream), (SELECT count(*) FROM cxkpi.survey_responses),
          'the stream has every answer once');
SELECT is((SELECT count(*) FROM cxkpi.feedback_stream AS s JOIN cxkpi.survey_responses AS r USING (response_id)
           WHERE s.category IS DISTINCT FROM
                 CASE r.survey WHEN 'nps' THEN CASE WHEN r.score <= 6 THEN 'detractor' WHEN r.score <= 8 THEN 'passive' ELSE 'promoter' END
                               WHEN 'csat' THEN CASE WHEN r.score >= 4 THEN 'satisfied' WHEN r.score <= 2 THEN 'dissatisfied' ELSE 'neutral' END
                               ELSE CASE WHEN r.score >= 5 THEN 'easy' WHEN r.score <= 3 THEN 'difficult' ELSE 'neutral' END END),
          0::bigint, 'categories: NPS 0-6 / 7-8 / 9-10, CSAT (1-5) 1-2 / 3 / 4-5, CES (1-7) 1-3 / 4 / 5-7');
SELECT is((SELECT string_agg(response_id::text, ',') FROM (SELECT response_id FROM cxkpi_bi.feedback_stream LIMIT 20) AS s),
          (SELECT string_agg(response_id::text, ',') FROM (SELECT response_id FROM cxkpi.survey_responses
                                                            ORDER BY responded_at DESC, response_id DESC LIMIT 20) AS s),
          'the latest 20, newest first');
SELECT is((SELECT count(*) FROM cxkpi_bi.feedback_stream WHERE comment IS NOT NULL AND category IN ('detractor', 'dissatisfied')),
          (SELECT count(*) FROM cxkpi.survey_responses WHERE comment IS NOT NULL
             AND ((survey = 'nps' AND score <= 6) OR (survey = 'csat' AND score <= 2))),
          'comments of detractors and dissatisfied customers');
-- seed 001: the returns feedback is what returns_csat counts, year by year
SELECT is((SELECT string_agg(y || ':' || n || ':' || m, ',' ORDER BY y) FROM (
               SELECT date_trunc('year', responded_at AT TIME ZONE 'UTC')::date AS y, count(*) AS n, round(avg(score), 6) AS m
               FROM cxkpi_bi.returns_feedback WHERE survey = 'csat' GROUP BY 1) AS f),
          (SELECT string_agg(period_start || ':' || sample_size || ':' || round(value::numeric, 6), ',' ORDER BY period_start)
           FROM cxkpi.kpi_values WHERE kpi = 'returns_csat' AND grain = 'year' AND breakdown = 'total'),
          'returns feedback: its CSAT answers and mean per year are the returns_csat KPI');
SELECT is((SELECT count(*) FROM cxkpi_bi.returns_feedback), (SELECT count(*) FROM cxkpi.survey_responses WHERE channel = 'returns'),
          'and it has every answer of the returns touchpoint');
-- the queue, after the sample's refresh (alert grain year, as of 2026-01-01: open periods 2025 and 2026)
SELECT is((SELECT count(*) FROM ((SELECT response_id FROM cxkpi.feedback_followups
                                  EXCEPT SELECT response_id FROM cxkpi.survey_responses
                                         WHERE responded_at >= '2025-01-01 00:00+00'
                                           AND ((survey = 'nps' AND score <= 6) OR (survey = 'csat' AND score <= 2)))
                                 UNION ALL
                                 (SELECT response_id FROM cxkpi.survey_responses
                                  WHERE responded_at >= '2025-01-01 00:00+00'
                                    AND ((survey = 'nps' AND score <= 6) OR (survey = 'csat' AND score <= 2))
                                  EXCEPT SELECT response_id FROM cxkpi.feedback_followups)) AS d),
          0::bigint, 'the follow-up queue holds the NPS 0-6 and CSAT 1-2 answers of 2025 and after, and nothing else');
SELECT is((SELECT count(*) FROM cxkpi.feedback_followups AS f JOIN cxkpi.survey_responses AS r USING (response_id)
           WHERE (f.responded_at, f.survey, f.score, f.scale, f.channel, f.customer_id, f.order_id)
                 IS DISTINCT FROM (r.responded_at, r.survey, r.score, r.scale, r.channel, r.customer_id, r.order_id)),
          0::bigint, 'each follow-up carries its answer''s fields');

SELECT * FROM finish();
ROLLBACK;
