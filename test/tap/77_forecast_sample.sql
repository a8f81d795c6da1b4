-- Forecasts on the dashboard (src/dashboard_forecast.sql) on the sample data (scale 1, seed 42,
-- as_of 2026-01-01; test/prove.sh runs this file on the database of test/sample_db.sh): the
-- stored series equal plain SQL on the fact tables, the stored forecasts equal ets_fit/forecast
-- on those plain series, the refresh refits exactly the series whose input changed, the
-- projection equals a hand computation, and a series too short to fit gets a NULL model and its
-- reason without failing the refresh.
BEGIN;
SET client_min_messages = warning;
SELECT plan(26);

SELECT is((SELECT string_agg(grain || ' ' || n || '/' || m, ', ' ORDER BY grain)
           FROM (SELECT grain, count(*) AS n, count(model) AS m FROM cxkpi.kpi_forecast_models GROUP BY grain) AS x),
          'day 29/29, week 29/29',
          '29 series per grain (5 measures, each channel and total), every one with a model');
SELECT is((SELECT string_agg(DISTINCT history_start || '..' || fitted_through, ', ') FROM cxkpi.kpi_forecast_models WHERE grain = 'day')
          || ' / ' || (SELECT string_agg(DISTINCT history_start || '..' || fitted_through, ', ') FROM cxkpi.kpi_forecast_models
                       WHERE grain = 'week' AND measure = 'orders')
          || ' / ' || (SELECT string_agg(DISTINCT history_start || '..' || fitted_through, ', ') FROM cxkpi.kpi_forecast_models
                       WHERE grain = 'week' AND measure = 'support_tickets'),
          '2024-01-04..2025-12-31 / 2023-01-02..2025-12-22 / 2024-01-08..2025-12-22',
          'complete periods only: 728 days up to the day before as_of, 156 ISO weeks up to the last one ending before it, from the first whole week with data (tickets start on Tuesday 2024-01-02)');

-- Plain SQL on the facts: tickets per day and channel (and total) in the dashboard's time zone.
CREATE TEMP TABLE plain_tickets AS
WITH t AS (SELECT (created_at AT TIME ZONE (SELECT cxkpi.setting('time_zone')))::date AS day, channel FROM cxkpi.support_tickets),
n AS (SELECT coalesce(channel, 'total') AS channel, day, count(*) AS n FROM t GROUP BY GROUPING SETS ((channel, day), (day)))
SELECT ch.c AS channel, d::date AS day, coalesce(n.n, 0)::double precision AS n
FROM generate_series(date '2023-01-02', date '2025-12-31', interval '1 day') AS d
CROSS JOIN (VALUES ('chat'), ('email'), ('phone'), ('total')) AS ch(c)
LEFT JOIN n ON n.channel = ch.c AND n.day = d::date;

SELECT is((SELECT count(*) FROM cxkpi.kpi_forecasts AS f JOIN plain_tickets AS p ON p.channel = f.channel AND p.day = f.period_start
           WHERE f.measure = 'support_tickets' AND f.grain = 'day' AND f.actual = p.n), 4 * 728::bigint,
          'daily ticket actuals = plain counts of cxkpi.support_tickets, per channel and total, every day of the window');
SELECT is((SELECT count(*) FROM cxkpi.kpi_forecasts AS f
           JOIN (SELECT channel, date_trunc('week', day)::date AS w, sum(n) AS n FROM plain_tickets GROUP BY 1, 2) AS p
             ON p.channel = f.channel AND p.w = f.period_start
           WHERE f.measure = 'support_tickets' AND f.grain = 'week' AND f.actual = p.n), 4 * 103::bigint,
          'weekly ticket actuals = plain counts per ISO week, every one of the 103 weeks of the window');
SELECT is((SELECT count(*) FROM cxkpi.kpi_forecasts WHERE measure = 'support_tickets' AND channel = 'chat' AND point IS NOT NULL)::text
          || ' ' || (SELECT min(period_start) || '..' || max(period_start) FROM cxkpi.kpi_forecasts
                     WHERE measure = 'support_tickets' AND channel = 'chat' AND grain = 'day' AND point IS NOT NULL),
          '103 2026-01-01..2026-03-31', '90 days (from as_of) and 13 weeks ahead');

-- The stored forecast = forecast(ets_fit()) of the plain series.
CREATE TEMP TABLE plain_fc AS
SELECT fc."time"::date AS day, fc.point, fc.lo95, fc.hi95, m.m
FROM (SELECT ets_fit(day, n) AS m FROM plain_tickets WHERE channel = 'chat' AND day >= '2024-01-04') AS m,
     forecast(m.m, 90) AS fc;
SELECT is((SELECT method(m) FROM plain_fc LIMIT 1),
          (SELECT method FROM cxkpi.kpi_forecast_models WHERE measure = 'support_tickets' AND channel = 'chat' AND grain = 'day'),
          'the chat tickets model is the one ets_fit chooses on the plain series');
SELECT is((SELECT count(*) FROM plain_fc AS p JOIN cxkpi.kpi_forecasts AS f
             ON f.measure = 'support_tickets' AND f.channel = 'chat' AND f.grain = 'day' AND f.period_start = p.day
           WHERE f.point = p.point AND f.lo95 = p.lo95 AND f.hi95 = p.hi95), 90::bigint,
          'and its 90 daily forecasts and intervals are forecast(ets_fit(plain series), 90), bit for bit');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_forecast WHERE measure = 'support_tickets' AND dimension = 'chat' AND grain = 'day'
             AND "time" = period_start::timestamp AT TIME ZONE 'UTC' AND breakdown = 'channel'), 728 + 90::bigint,
          'cxkpi_bi.kpi_forecast: the actuals and forecasts of the series, time at midnight in the dashboard time zone');

-- The projection of AOV for the week of as_of (Monday 2025-12-29 .. Sunday 2026-01-04): net
-- revenue and orders of 29-31 December from the facts, plus the daily forecasts of 1-4 January.
CREATE TEMP TABLE hand AS
SELECT (SELECT sum(gross_value - discount) FROM cxkpi.orders WHERE ordered_at >= '2025-12-29' AND ordered_at < '2026-01-01')::double precision AS net_to_date,
       (SELECT count(*) FROM cxkpi.orders WHERE ordered_at >= '2025-12-29' AND ordered_at < '2026-01-01')::double precision AS orders_to_date,
       (SELECT sum(point) FROM cxkpi.kpi_forecasts WHERE measure = 'net_revenue' AND channel = 'total' AND grain = 'day'
          AND period_start BETWEEN '2026-01-01' AND '2026-01-04') AS net_ahead,
       (SELECT sum(point) FROM cxkpi.kpi_forecasts WHERE measure = 'orders' AND channel = 'total' AND grain = 'day'
          AND period_start BETWEEN '2026-01-01' AND '2026-01-04') AS orders_ahead;
SELECT is((SELECT round(projected_value::numeric, 9) || ' ' || course FROM cxkpi_bi.kpi_projection WHERE kpi = 'aov' AND grain = 'week' AND breakdown = 'total'),
          (SELECT round(((net_to_date + net_ahead) / (orders_to_date + orders_ahead))::numeric, 9) || ' off course' FROM hand),
          'AOV projected for the week = (net revenue to date + forecast) / (orders to date + forecast), below the target 145');
SELECT is((SELECT projected_value || ' ' || course FROM cxkpi_bi.kpi_projection WHERE kpi = 'csat' AND grain = 'week' AND breakdown = 'total'),
          (SELECT value || ' on course' FROM cxkpi.kpi_values WHERE kpi = 'csat' AND grain = 'week' AND period_start = '2025-12-29' AND breakdown = 'total'),
          'a KPI without forecast is projected at its value to date (CSAT 4.55 >= 4.5: on course)');

-- The projection by channel: AOV (net revenue / orders, both forecast by order channel) for each
-- order channel, from that channel's facts to date and its own daily forecasts; the total rows
-- are those of before (one per KPI with a target and grain).
SELECT is((SELECT string_agg(breakdown || ' ' || n, ', ' ORDER BY breakdown)
           FROM (SELECT breakdown, count(*) AS n FROM cxkpi_bi.kpi_projection GROUP BY 1) AS x)
          || ' / ' || (SELECT string_agg(DISTINCT kpi || ' ' || dimension, ', ') FROM cxkpi_bi.kpi_projection WHERE breakdown = 'channel'),
          'channel 12, total 36 / aov app, aov store, aov web_desktop, aov web_mobile',
          'a total row per KPI with a target (12) and grain; by channel AOV only (its measures are forecast by order channel), one row per channel and grain');
CREATE TEMP TABLE hand_ch AS
WITH ch AS (SELECT unnest(ARRAY['app', 'store', 'web_desktop', 'web_mobile']) AS channel)
SELECT ch.channel,
       (SELECT sum(gross_value - discount) FROM cxkpi.orders AS o WHERE o.channel = ch.channel
          AND ordered_at >= '2025-12-29' AND ordered_at < '2026-01-01')::double precision AS net_to_date,
       (SELECT count(*) FROM cxkpi.orders AS o WHERE o.channel = ch.channel
          AND ordered_at >= '2025-12-29' AND ordered_at < '2026-01-01')::double precision AS orders_to_date,
       (SELECT sum(point) FROM cxkpi.kpi_forecasts AS f WHERE measure = 'net_revenue' AND f.channel = ch.channel AND grain = 'day'
          AND period_start BETWEEN '2026-01-01' AND '2026-01-04') AS net_ahead,
       (SELECT sum(point) FROM cxkpi.kpi_forecasts AS f WHERE measure = 'orders' AND f.channel = ch.channel AND grain = 'day'
          AND period_start BETWEEN '2026-01-01' AND '2026-01-04') AS orders_ahead,
       (SELECT sum(point) FROM cxkpi.kpi_forecasts AS f WHERE measure = 'net_revenue' AND f.channel = ch.channel AND grain = 'day'
          AND period_start BETWEEN '2026-01-01' AND '2026-01-31') AS net_month,
       (SELECT sum(point) FROM cxkpi.kpi_forecasts AS f WHERE measure = 'orders' AND f.channel = ch.channel AND grain = 'day'
          AND period_start BETWEEN '2026-01-01' AND '2026-01-31') AS orders_month
FROM ch;
SELECT is((SELECT string_agg(dimension || ' ' || round(projected_value::numeric, 9) || ' ' || course, ', ' ORDER BY dimension)
           FROM cxkpi_bi.kpi_projection WHERE kpi = 'aov' AND grain = 'week' AND breakdown = 'channel'),
          (SELECT string_agg(channel || ' ' || round(((net_to_date + net_ahead) / (orders_to_date + orders_ahead))::numeric, 9)
                             || ' off course', ', ' ORDER BY channel) FROM hand_ch),
          'AOV by channel for the week = (the channel''s net revenue to date + its forecast) / (its orders to date + forecast), each below 145');
SELECT is((SELECT string_agg(dimension || ' ' || round(projected_value::numeric, 9) || ' ' || days_complete || ' ' || days_remaining, ', ' ORDER BY dimension)
           FROM cxkpi_bi.kpi_projection WHERE kpi = 'aov' AND grain = 'month' AND breakdown = 'channel'),
          (SELECT string_agg(channel || ' ' || round((net_month / orders_month)::numeric, 9) || ' 0 31', ', ' ORDER BY channel) FROM hand_ch),
          'AOV by channel for January (no complete day yet) = the sum of its 31 daily net revenue forecasts / those of its orders');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_projection AS p
           JOIN cxkpi.kpi_values AS v ON v.grain = 'week' AND v.period_start = '2025-12-29' AND v.kpi = 'aov'
            AND v.breakdown = 'channel' AND v.dimension = p.dimension
           JOIN hand_ch AS h ON h.channel = p.dimension
           WHERE p.kpi = 'aov' AND p.grain = 'week' AND p.breakdown = 'channel'
             AND p.value_to_date = v.value AND round(v.value::numeric, 6) = round((h.net_to_date / h.orders_to_date)::numeric, 6)),
          4::bigint, 'value_to_date by channel: the channel''s AOV of 29-31 December (cxkpi.kpi_values = plain SQL on cxkpi.orders)');
INSERT INTO cxkpi.kpi_targets (kpi, dimension, target) VALUES ('aov', 'web_desktop', 130);
SELECT is((SELECT string_agg(dimension || ' ' || target || ' ' || course, ', ' ORDER BY dimension)
           FROM cxkpi_bi.kpi_projection WHERE kpi = 'aov' AND grain = 'week'),
          'all 145 off course, app 145 off course, store 145 off course, web_desktop 130 on course, web_mobile 145 off course',
          'a channel''s own target (cxkpi.effective_target) applies to its row: web_desktop 138.84 >= 130, on course; the others keep the overall 145');
DELETE FROM cxkpi.kpi_targets WHERE kpi = 'aov' AND dimension = 'web_desktop';
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_projection WHERE kpi = 'aov' AND breakdown = 'channel' AND course IS NOT NULL
             AND time = period_start::timestamp AT TIME ZONE 'UTC' AND kpi_order IS NOT NULL), 12::bigint,
          'every channel row has a projection, a course, its time and the KPI''s display order');

-- Refits: none when nothing changed; a new complete day refits the daily series only.
CREATE TEMP TABLE fits0 AS SELECT measure, grain, channel, fitted_at, fitted_through FROM cxkpi.kpi_forecast_models;
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.kpi_forecast_models AS m JOIN fits0 USING (measure, grain, channel)
           WHERE m.fitted_at <> fits0.fitted_at), 0::bigint, 'a refresh that changed nothing refits nothing');
INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at)
VALUES ((SELECT max(ticket_id) + 1 FROM cxkpi.support_tickets), NULL, 'chat', '2026-01-01 10:00+00');
UPDATE cxkpi.settings SET value = '2026-01-02' WHERE key = 'as_of';
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT string_agg(DISTINCT grain || ' ' || m.fitted_through || ' ' || (m.fitted_at <> fits0.fitted_at), ', ')
           FROM cxkpi.kpi_forecast_models AS m JOIN fits0 USING (measure, grain, channel)),
          'day 2026-01-01 true, week 2025-12-22 false',
          'a new complete day (as_of 2026-01-02) refits every daily series through it; the weekly ones (no new complete week) stay');
SELECT is((SELECT actual FROM cxkpi.kpi_forecasts WHERE measure = 'support_tickets' AND channel = 'chat' AND grain = 'day' AND period_start = '2026-01-01'),
          1::double precision, 'the new day''s actual: the one chat ticket');
DELETE FROM fits0;
INSERT INTO fits0 SELECT measure, grain, channel, fitted_at, fitted_through FROM cxkpi.kpi_forecast_models;
INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at)
VALUES ((SELECT max(ticket_id) + 1 FROM cxkpi.support_tickets), NULL, 'phone', '2026-01-02 09:00+00');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT count(*) FROM cxkpi.kpi_forecast_models AS m JOIN fits0 USING (measure, grain, channel)
           WHERE m.fitted_at <> fits0.fitted_at), 0::bigint,
          'a ticket of the day in progress (as_of) refits nothing: it is no complete day yet');
INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at)
VALUES ((SELECT max(ticket_id) + 1 FROM cxkpi.support_tickets), NULL, 'email', '2025-12-10 10:00+00');
CALL cxkpi.refresh_dashboard();
SELECT is((SELECT string_agg(DISTINCT measure || ' ' || grain, ', ' ORDER BY measure || ' ' || grain)
           FROM cxkpi.kpi_forecast_models AS m JOIN fits0 USING (measure, grain, channel) WHERE m.fitted_at <> fits0.fitted_at),
          'support_tickets day, support_tickets week',
          'a late ticket inside both windows refits the ticket series of both grains, and nothing else');

-- What the refits left equals fitting every series again now.
CREATE TEMP TABLE kept AS SELECT * FROM cxkpi.kpi_forecasts;
CREATE TEMP TABLE kept_models AS SELECT measure, grain, channel, history_start, fitted_through, observations, model::text FROM cxkpi.kpi_forecast_models;
SELECT is(cxkpi.forecasts_maintain(true, now()), 58, 'a full refit fits the 58 series');
SELECT is((SELECT count(*) FROM ((TABLE kept EXCEPT ALL TABLE cxkpi.kpi_forecasts) UNION ALL (TABLE cxkpi.kpi_forecasts EXCEPT ALL TABLE kept)) AS d)
          + (SELECT count(*) FROM ((TABLE kept_models EXCEPT ALL SELECT measure, grain, channel, history_start, fitted_through, observations, model::text FROM cxkpi.kpi_forecast_models)
                                   UNION ALL (SELECT measure, grain, channel, history_start, fitted_through, observations, model::text FROM cxkpi.kpi_forecast_models
                                              EXCEPT ALL TABLE kept_models)) AS d),
          0::bigint, 'the series the refreshes refitted, and those they kept, equal a full refit (models and rows)');

-- A series too short to fit: a NULL model and the reason; the refresh goes on.
UPDATE cxkpi.settings SET value = '2021-01-05' WHERE key = 'as_of';
SELECT lives_ok($$CALL cxkpi.refresh_dashboard()$$, 'the refresh succeeds when no series can be fitted');
SELECT is((SELECT string_agg(DISTINCT grain || ' ' || (model IS NULL) || ' ' || coalesce(left(reason, 30), '-'), ', ')
           FROM cxkpi.kpi_forecast_models WHERE measure = 'orders'),
          'day true 22023: the series is too short, week true no data: no complete week with',
          'orders (from 2021-01-01), as of 2021-01-05: 4 days, no model and ets_fit''s error as the reason; no complete week: "no data"');
SELECT is((SELECT count(*) FROM cxkpi.kpi_forecasts AS f JOIN cxkpi.kpi_forecast_models AS m USING (measure, grain, channel)
           WHERE f.point IS NOT NULL AND m.model IS NULL), 0::bigint, 'and a series without a model has no forecast rows');

SELECT * FROM finish();
ROLLBACK;
