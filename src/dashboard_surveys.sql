-- The data model, part 2 (1.1): one view per survey of cxkpi.survey_responses, which holds the
-- answers of three surveys on different scales (docs/data-model.md#survey_responses).
-- (After src/dashboard_views.sql, whose column dictionary is for the BI views.)

-- Each view has the answers of one survey with the columns its aggregates take, so that
-- nps(score), csat(score, scale) and ces(score, scale) are right without a filter.  Like the
-- table, they are not readable by cxkpi_reader (single answers, customers, comments).
CREATE VIEW cxkpi.nps_responses AS
SELECT r.response_id, r.responded_at, r.score, r.channel, r.customer_id, r.order_id, r.comment
FROM cxkpi.survey_responses AS r
WHERE r.survey = 'nps';
CREATE VIEW cxkpi.csat_responses AS
SELECT r.response_id, r.responded_at, r.score, r.scale, r.channel, r.customer_id, r.order_id, r.comment
FROM cxkpi.survey_responses AS r
WHERE r.survey = 'csat';
CREATE VIEW cxkpi.ces_responses AS
SELECT r.response_id, r.responded_at, r.score, r.scale, r.channel, r.customer_id, r.order_id, r.comment
FROM cxkpi.survey_responses AS r
WHERE r.survey = 'ces';
COMMENT ON VIEW cxkpi.nps_responses IS
    'NPS answers of cxkpi.survey_responses (0-10): nps(score), nps_agg(score).';
COMMENT ON VIEW cxkpi.csat_responses IS
    'CSAT answers of cxkpi.survey_responses (1-scale; scale 2 = no/yes): csat(score, scale), csat_agg(score, scale); answers on different scales do not mix.';
COMMENT ON VIEW cxkpi.ces_responses IS
    'CES 2.0 answers of cxkpi.survey_responses (1-scale, higher is easier): ces(score, scale), ces_agg(score, scale); answers on different scales do not mix.';
COMMENT ON COLUMN cxkpi.nps_responses.score IS 'Likelihood to recommend, 0-10 (promoters 9-10, detractors 0-6).';
COMMENT ON COLUMN cxkpi.csat_responses.score IS 'Satisfaction, 1 to scale (scale 2: 1 = no, 2 = yes).';
COMMENT ON COLUMN cxkpi.csat_responses.scale IS 'Highest point of the answer scale: 2 (no/yes), 3, 5, 7 or 10.';
COMMENT ON COLUMN cxkpi.ces_responses.score IS 'Agreement that the task was easy, 1 to scale (higher is easier).';
COMMENT ON COLUMN cxkpi.ces_responses.scale IS 'Highest point of the agreement scale: 5 or 7.';
COMMENT ON COLUMN cxkpi.nps_responses.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.csat_responses.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.ces_responses.response_id IS 'Answer (cxkpi.survey_responses.response_id).';
COMMENT ON COLUMN cxkpi.nps_responses.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.csat_responses.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.ces_responses.responded_at IS 'When the answer was given.';
COMMENT ON COLUMN cxkpi.nps_responses.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.csat_responses.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.ces_responses.channel IS 'Touchpoint channel of the survey.';
COMMENT ON COLUMN cxkpi.nps_responses.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.csat_responses.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.ces_responses.customer_id IS 'Customer who answered, if known.';
COMMENT ON COLUMN cxkpi.nps_responses.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.csat_responses.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.ces_responses.order_id IS 'Order the survey was about, if any.';
COMMENT ON COLUMN cxkpi.nps_responses.comment IS 'Free-text comment of the answer.';
COMMENT ON COLUMN cxkpi.csat_responses.comment IS 'Free-text comment of the answer.';
COMMENT ON COLUMN cxkpi.ces_responses.comment IS 'Free-text comment of the answer.';
