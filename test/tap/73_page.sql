-- The dashboard page's SQL on an empty data model and on tiny ones built here: the page and its
-- data need no data (every tile says it has none), a forecast series with a gap is fitted on its
-- last run of 12 or more consecutive months (or not at all), cohorts are counted in the time_zone
-- setting.  (test/tap/76_page_sample.sql checks the values on the sample data.)
BEGIN;
SET client_min_messages = warning;
SELECT plan(10);

CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT count(*) FROM cxkpi.orders) + (SELECT count(*) FROM cxkpi.support_tickets), 0::bigint, 'an empty data model');
CREATE TEMP TABLE d AS SELECT cxkpi_bi.dashboard_data() AS j;
SELECT is((SELECT string_agg(DISTINCT coalesce(t ->> 'value', 'null') || ' ' || (t ->> 'status'), ', ')
           FROM d, jsonb_array_elements(j -> 'tiles') AS t), 'null insufficient data',
          'dashboard_data(): nine tiles without a value, each with status insufficient data');
SELECT is((SELECT jsonb_array_length(j -> 'cohorts') || ' ' || jsonb_array_length(j -> 'forecasts') || ' '
                  || jsonb_array_length(j -> 'alerts') || ' ' || (j -> 'churn_watch' ->> 'customers') || ' '
                  || (j -> 'interventions' ->> 'customers') || ' ' || jsonb_array_length(j -> 'interventions' -> 'rules') FROM d),
          '0 0 0 0 0 7', 'no cohort, forecast, alert, customer to watch or recommendation (the seven built-in rules, none recommended)');
SELECT ok((SELECT length(cxkpi_bi.dashboard_page()) > 30000), 'and the page is written');

-- Tickets every month of 2023 and 2024 but May 2023: the model sees the 19 months from June 2023.
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at)
SELECT row_number() OVER (), 'email', m + make_interval(days => k % 27, hours => 10)
FROM generate_series(timestamptz '2023-01-01 00:00+00', '2024-12-01 00:00+00', interval '1 month') AS m,
     generate_series(1, 40 + (extract(month FROM m)::integer * 7) % 13) AS k
WHERE m <> '2023-05-01 00:00+00';
UPDATE cxkpi.settings SET value = '2025-01-01' WHERE key = 'as_of';
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT count(actual) || ' actual, ' || count(point) || ' forecast' FROM cxkpi_bi.dashboard_forecast() WHERE series = 'tickets'),
          '23 actual, 6 forecast', 'a gap in May 2023: the 23 months are shown, and 6 months forecast');
SELECT is((SELECT (SELECT observations(ets_fit(period_start, actual)) FROM cxkpi_bi.dashboard_forecast()
                   WHERE series = 'tickets' AND period_start >= '2023-06-01')
                  || ' ' || (SELECT count(*) FROM cxkpi_bi.dashboard_forecast() AS f
                             JOIN (SELECT (x."time" AT TIME ZONE current_setting('TimeZone'))::date AS month, x.point
                                   FROM (SELECT ets_fit(period_start, actual) AS m FROM cxkpi_bi.dashboard_forecast()
                                         WHERE series = 'tickets' AND period_start >= '2023-06-01') AS q,
                                        forecast(q.m, 6) AS x) AS p ON p.month = f.period_start AND p.point = f.point
                             WHERE f.series = 'tickets')),
          '19 6', 'fitted on the last run of consecutive months (19, from June 2023): its forecasts');
DELETE FROM cxkpi.support_tickets WHERE created_at >= '2024-03-01' AND created_at < '2024-04-01';
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT count(actual) || ' actual, ' || count(point) || ' forecast, ' || coalesce(min(method), 'no model')
           FROM cxkpi_bi.dashboard_forecast() WHERE series = 'tickets'), '22 actual, 0 forecast, no model',
          'a second gap in March 2024 leaves 9 months in the last run: the months, but no model');

-- Cohorts count days in the time_zone setting: an order at 23:30 UTC on 31 January is February in Berlin.
INSERT INTO cxkpi.customers VALUES (1, '2024-01-01', 'email', 0), (2, '2024-01-01', 'email', 0);
INSERT INTO cxkpi.orders VALUES (1, 1, '2024-01-31 23:30+00', 'app', 1, 10, 0), (2, 1, '2024-02-10 12:00+00', 'app', 1, 10, 0),
                                (3, 2, '2024-01-15 12:00+00', 'app', 1, 10, 0), (4, 2, '2024-02-20 12:00+00', 'app', 1, 10, 0);
SELECT is((SELECT string_agg(cohort_start || ' +' || period_offset || ': ' || active_customers || '/' || cohort_size, ', ' ORDER BY 1)
           FROM cxkpi.kpi_cohort_retention), '2024-01-01 +0: 2/2, 2024-01-01 +1: 2/2', 'UTC: one January cohort of two, both back in February');
UPDATE cxkpi.settings SET value = 'Europe/Berlin' WHERE key = 'time_zone';
SELECT is((SELECT string_agg(cohort_start || ' +' || period_offset || ': ' || active_customers || '/' || cohort_size, ', ' ORDER BY 1)
           FROM cxkpi.kpi_cohort_retention), '2024-01-01 +0: 1/1, 2024-01-01 +1: 1/1, 2024-02-01 +0: 1/1',
          'Europe/Berlin: customer 1 first ordered in February');
SELECT is((SELECT string_agg(to_char("time" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ', ' ORDER BY 1) FROM cxkpi_bi.kpi_cohort_retention WHERE period_offset = 0),
          '2023-12-31 23:00, 2024-01-31 23:00', 'and "time" is the cohort''s first midnight in Berlin');

SELECT * FROM finish();
ROLLBACK;
