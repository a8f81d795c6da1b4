-- The dashboard on the hand-built dataset of test/tap/70_dashboard.sql (where every value is
-- checked against an independent computation): the scorecard and a month of the timeseries,
-- here so that installcheck-parallel runs the refresh and the views under forced parallel plans.
-- Scorecard period: as_of 2025-04-01, grain month -> March 2025; a year earlier March 2024.
UPDATE cxkpi.settings SET value = '2025-04-01' WHERE key = 'as_of';

INSERT INTO cxkpi.customers VALUES
    (1, '2024-03-05', 'social', 10.00), (2, '2024-03-10', 'email', 20.00),
    (3, '2025-03-02', 'social', 30.00), (4, '2025-03-15', 'paid_search', 50.00),
    (5, '2025-02-20', 'store', 0), (6, '2024-02-01', 'referral', 5.00);
INSERT INTO cxkpi.loyalty_members VALUES
    (1, '2024-06-01', '2025-03-20', 'gold'), (2, '2025-03-10', NULL, 'standard'), (6, '2024-02-01', '2024-05-01', 'standard');
-- Orders (net = gross - discount).  Segment: loyalty if enrolled by the order day, else new for
-- a first order, else returning.
INSERT INTO cxkpi.orders VALUES
    (101, 1, '2024-03-05 10:00+00', 'web_desktop', 2, 100.00, 0),     -- new
    (102, 2, '2024-03-10 10:00+00', 'web_mobile', 1, 50.00, 10.00),   -- new, net 40
    (103, 6, '2024-03-20 10:00+00', 'store', 3, 90.00, 0),            -- loyalty (enrolled 2024-02-01)
    (104, 1, '2025-02-10 10:00+00', 'app', 1, 40.00, 0),              -- loyalty
    (105, 5, '2025-02-25 10:00+00', 'store', 2, 60.00, 0),            -- new
    (112, 6, '2025-02-14 10:00+00', 'web_desktop', 1, 20.00, 0),      -- loyalty
    (106, 1, '2025-03-03 10:00+00', 'web_desktop', 2, 120.00, 20.00), -- loyalty, net 100
    (107, 3, '2025-03-02 10:00+00', 'app', 1, 30.00, 0),              -- new
    (108, 3, '2025-03-20 10:00+00', 'app', 4, 200.00, 0),             -- returning
    (109, 4, '2025-03-15 10:00+00', 'web_mobile', 1, 80.00, 0),       -- new
    (110, 2, '2025-03-12 10:00+00', 'store', 2, 70.00, 0),            -- loyalty (enrolled 2025-03-10)
    (111, 5, '2025-03-05 10:00+00', 'store', 1, 25.00, 0);            -- returning
INSERT INTO cxkpi.order_returns VALUES
    (1, 106, '2025-03-10 10:00+00', '2025-03-15 10:00+00', 1, 50.00, 'customer', 'size'),
    (2, 108, '2025-03-25 10:00+00', NULL, 4, 200.00, 'merchant', 'recall'),
    (3, 104, '2025-03-01 10:00+00', NULL, 1, 40.00, 'customer', NULL),
    (4, 101, '2024-03-15 10:00+00', NULL, 1, 30.00, 'customer', NULL);
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel) VALUES
    -- NPS March 2025: 5 promoters, 2 passives, 3 detractors -> 20
    (1, '2025-03-01 12:00+00', 'nps', 10, 10, 'store'), (2, '2025-03-02 12:00+00', 'nps', 10, 10, 'web'),
    (3, '2025-03-03 12:00+00', 'nps', 9, 10, 'web'), (4, '2025-03-04 12:00+00', 'nps', 9, 10, 'app'),
    (5, '2025-03-05 12:00+00', 'nps', 9, 10, 'store'), (6, '2025-03-06 12:00+00', 'nps', 8, 10, 'store'),
    (7, '2025-03-07 12:00+00', 'nps', 7, 10, 'app'), (8, '2025-03-08 12:00+00', 'nps', 6, 10, 'store'),
    (9, '2025-03-09 12:00+00', 'nps', 3, 10, 'web'), (10, '2025-03-10 12:00+00', 'nps', 0, 10, 'app'),
    -- NPS March 2024: 3 promoters, 1 detractor -> 50
    (11, '2024-03-01 12:00+00', 'nps', 10, 10, 'store'), (12, '2024-03-02 12:00+00', 'nps', 10, 10, 'web'),
    (13, '2024-03-03 12:00+00', 'nps', 6, 10, 'web'), (14, '2024-03-04 12:00+00', 'nps', 9, 10, 'app'),
    -- CSAT March 2025 on 1-5: store 5 4 4, web 3 4, app 2, returns 5; one 10-point answer (not shown)
    (20, '2025-03-01 12:00+00', 'csat', 5, 5, 'store'), (21, '2025-03-02 12:00+00', 'csat', 4, 5, 'store'),
    (22, '2025-03-03 12:00+00', 'csat', 4, 5, 'store'), (23, '2025-03-04 12:00+00', 'csat', 3, 5, 'web'),
    (24, '2025-03-05 12:00+00', 'csat', 4, 5, 'web'), (25, '2025-03-06 12:00+00', 'csat', 2, 5, 'app'),
    (26, '2025-03-07 12:00+00', 'csat', 5, 5, 'returns'), (27, '2025-03-08 12:00+00', 'csat', 9, 10, 'web'),
    -- CES March 2025 on 1-7: 7 5 3 (mean 5); one 5-point answer (not shown)
    (30, '2025-03-01 12:00+00', 'ces', 7, 7, 'chat'), (31, '2025-03-02 12:00+00', 'ces', 5, 7, 'chat'),
    (32, '2025-03-03 12:00+00', 'ces', 3, 7, 'phone'), (33, '2025-03-04 12:00+00', 'ces', 1, 5, 'phone');
-- Sessions March 2025: desktop 4 (1 converted), mobile 5 (none), app 1 (converted); stores: 30
-- visitors, 2 store orders (110, 111) -> 4 / 40 overall.
INSERT INTO cxkpi.web_sessions VALUES
    (1, '2025-03-01 09:00+00', 'desktop', NULL, true, true, true), (2, '2025-03-01 09:00+00', 'desktop', NULL, true, true, false),
    (3, '2025-03-02 09:00+00', 'desktop', NULL, true, false, false), (4, '2025-03-02 09:00+00', 'desktop', NULL, false, false, false),
    (5, '2025-03-03 09:00+00', 'mobile', NULL, false, false, false), (6, '2025-03-03 09:00+00', 'mobile', NULL, true, false, false),
    (7, '2025-03-04 09:00+00', 'mobile', NULL, false, false, false), (8, '2025-03-04 09:00+00', 'mobile', NULL, false, false, false),
    (9, '2025-03-05 09:00+00', 'mobile', NULL, false, false, false), (10, '2025-03-05 09:00+00', 'app', 3, true, true, true);
INSERT INTO cxkpi.store_traffic VALUES ('store_a', '2025-03-05', 10), ('store_a', '2025-03-12', 20);
-- Carts March 2025: 5 created, 1 converted, 4 abandoned, 1 of them recovered.
INSERT INTO cxkpi.carts VALUES
    (1, '2025-03-01 09:00+00', 'desktop', NULL, '2025-03-01 09:20+00', NULL, NULL),
    (2, '2025-03-02 09:00+00', 'desktop', NULL, NULL, '2025-03-02 11:00+00', '2025-03-04 09:00+00'),
    (3, '2025-03-03 09:00+00', 'mobile', NULL, NULL, '2025-03-03 11:00+00', NULL),
    (4, '2025-03-04 09:00+00', 'mobile', NULL, NULL, NULL, NULL),
    (5, '2025-03-05 09:00+00', 'app', NULL, NULL, '2025-03-05 11:00+00', NULL);
-- Tickets March 2025: responses 2, 0.5, 6 and 4 hours; T5 unanswered; 3 of 5 resolved, one of
-- them in one contact without reopening.
INSERT INTO cxkpi.support_tickets VALUES
    (1, NULL, 'email', '2025-03-01 08:00+00', '2025-03-01 10:00+00', '2025-03-01 12:00+00', 1, false),
    (2, NULL, 'chat', '2025-03-02 09:00+00', '2025-03-02 09:30+00', '2025-03-02 10:00+00', 2, false),
    (3, NULL, 'phone', '2025-03-03 10:00+00', '2025-03-03 16:00+00', '2025-03-05 10:00+00', 1, true),
    (4, NULL, 'email', '2025-03-04 00:00+00', '2025-03-04 04:00+00', NULL, NULL, false),
    (5, NULL, 'phone', '2025-03-05 00:00+00', NULL, NULL, NULL, false);
INSERT INTO cxkpi.app_ratings VALUES
    (1, '2025-03-01 12:00+00', 'app_store', 5, '3.1', NULL), (2, '2025-03-02 12:00+00', 'app_store', 4, '3.1', NULL),
    (3, '2025-03-03 12:00+00', 'google_play', 3, '3.1', NULL);
INSERT INTO cxkpi.metric_observations VALUES
    ('website_load_time_seconds', '2025-03-01 12:00+00', '', 2.0, 1), ('website_load_time_seconds', '2025-03-15 12:00+00', '', 2.6, 1),
    ('uptime_pct', '2025-03-01 12:00+00', '', 100, 1000), ('uptime_pct', '2025-03-02 12:00+00', '', 99, 440),
    ('staff_training_hours', '2025-03-31 12:00+00', 'store_a', 40, 1), ('staff_training_hours', '2025-03-31 12:00+00', 'store_b', 50, 1);

CALL cxkpi.refresh_dashboard(false);
CALL cxkpi.refresh_dashboard();

SELECT section, kpi, breakdown, dimension, round(value::numeric, 4) AS value, sample_size,
       round(ci_lower::numeric, 3) AS ci_lower, round(ci_upper::numeric, 3) AS ci_upper, target, status,
       round(value_year_ago::numeric, 4) AS year_ago, round(yoy_change::numeric, 4) AS yoy
FROM cxkpi.kpi_scorecard
ORDER BY section, kpi, breakdown, dimension;

SELECT grain, period_start, kpi, round(value::numeric, 4) AS value, numerator, denominator
FROM cxkpi.kpi_timeseries
WHERE breakdown = 'total' AND kpi IN ('aov', 'nps', 'return_rate', 'retention_rate')
  AND period_start >= '2025-01-01' AND period_start < '2025-04-01' AND grain IN ('month', 'quarter')
ORDER BY grain, period_start, kpi;
