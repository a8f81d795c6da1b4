-- The dashboard page's SQL on the sample data (scale 1, seed 42; test/prove.sh runs this file on
-- the database of test/sample_db.sh): the cohort retention matrix and the forecasts' actuals equal
-- plain SQL on the data tables, the forecasts equal ets_fit / forecast on those plain series, the
-- page's JSON equals the views it reads, the page embeds exactly that JSON safely, a BI reader can
-- write it, and bad arguments give their SQLSTATEs.  (test/tap/73_page.sql: the same functions on
-- an empty and a tiny data model; test/shell/dashboard_page.sh renders the page in a browser.)
BEGIN;
SET client_min_messages = warning;
SELECT plan(48);

-------------------------------------------------------------------------------------------------
-- Cohort retention: plain SQL on cxkpi.orders (months in the time_zone setting)
-------------------------------------------------------------------------------------------------
CREATE TEMP TABLE plain_cohorts AS
WITH o AS (SELECT customer_id, date_trunc('month', ordered_at AT TIME ZONE (SELECT cxkpi.setting('time_zone')))::date AS month
           FROM cxkpi.orders),
firsts AS (SELECT customer_id, min(month) AS cohort FROM o GROUP BY customer_id),
sizes AS (SELECT cohort, count(*) AS cohort_size FROM firsts GROUP BY cohort),
active AS (SELECT f.cohort, o.month, count(DISTINCT o.customer_id) AS active
           FROM o JOIN firsts AS f USING (customer_id) GROUP BY f.cohort, o.month),
cells AS (SELECT s.cohort, s.cohort_size, m::date AS month
          FROM sizes AS s, generate_series(s.cohort, (SELECT max(month) FROM o), interval '1 month') AS m)
SELECT c.cohort, ((extract(year FROM c.month) - extract(year FROM c.cohort)) * 12
                  + extract(month FROM c.month) - extract(month FROM c.cohort))::integer AS period_offset,
       c.month, c.cohort_size, coalesce(a.active, 0) AS active
FROM cells AS c LEFT JOIN active AS a ON a.cohort = c.cohort AND a.month = c.month;

SELECT is((SELECT count(*) FROM plain_cohorts), 1830::bigint, 'plain SQL: 60 monthly cohorts of orders, 1,830 cells (cohort x month up to December 2025)');
SELECT is((SELECT count(*) FROM (
               SELECT cohort_start, period_offset, active_period_start, cohort_size, active_customers FROM cxkpi.kpi_cohort_retention
               EXCEPT SELECT cohort, period_offset, month, cohort_size, active FROM plain_cohorts) AS x)
          + (SELECT count(*) FROM (
               SELECT cohort, period_offset, month, cohort_size, active FROM plain_cohorts
               EXCEPT SELECT cohort_start, period_offset, active_period_start, cohort_size, active_customers FROM cxkpi.kpi_cohort_retention) AS x),
          0::bigint, 'cxkpi.kpi_cohort_retention has exactly the cells of plain SQL: cohort, offset, month, size, active customers');
SELECT is((SELECT max(abs(retention_pct - 100.0 * active_customers / cohort_size)) < 1e-12 FROM cxkpi.kpi_cohort_retention), true,
          'retention_pct = 100 * active customers / cohort size');
SELECT is((SELECT active_customers || ' of ' || cohort_size FROM cxkpi.kpi_cohort_retention
           WHERE cohort_start = '2025-01-01' AND period_offset = 1), '59 of 413',
          'the January 2025 cohort: 413 customers, 59 of them ordered again in February');
SELECT is((SELECT count(*) FILTER (WHERE period_complete) || '/' || count(*) FROM cxkpi.kpi_cohort_retention), '1830/1830',
          'every cell is complete on the sample data (as_of 2026-01-01)');
SELECT is((SELECT count(*) FROM (
               SELECT grain, cohort_start, cohort_end, "time", period_offset, active_period_start, active_period_end, cohort_size,
                      active_customers, retention_pct, period_complete FROM cxkpi.kpi_cohort_retention
               EXCEPT SELECT grain, period_start, period_end, "time", period_offset, active_period_start, active_period_end, cohort_size,
                      active_customers, retention_pct, period_complete FROM cxkpi_bi.kpi_cohort_retention WHERE breakdown = 'total' AND dimension = 'all') AS x),
          0::bigint, 'cxkpi_bi.kpi_cohort_retention: the same rows, the cohort as period_start');

-------------------------------------------------------------------------------------------------
-- Forecasts: actuals from plain SQL, models and forecasts from ets_fit / forecast on them
-------------------------------------------------------------------------------------------------
CREATE TEMP TABLE plain_months AS
SELECT month, count(*)::double precision AS orders, sum(gross_value - discount)::double precision AS net_sales
FROM (SELECT date_trunc('month', ordered_at AT TIME ZONE (SELECT cxkpi.setting('time_zone')))::date AS month, gross_value, discount
      FROM cxkpi.orders) AS o
WHERE (month + interval '1 month')::date - 1 < cxkpi.as_of()     -- complete months
GROUP BY month;
CREATE TEMP TABLE plain_tickets AS
SELECT date_trunc('month', created_at AT TIME ZONE (SELECT cxkpi.setting('time_zone')))::date AS month, count(*)::double precision AS tickets
FROM cxkpi.support_tickets GROUP BY 1;
CREATE TEMP TABLE fc AS SELECT * FROM cxkpi_bi.dashboard_forecast();

SELECT is((SELECT string_agg(series || ' ' || n_actual || '+' || n_forecast || ' ' || method, ', ' ORDER BY series) FROM (
               SELECT series, count(actual) AS n_actual, count(point) AS n_forecast, min(method) AS method FROM fc GROUP BY series) AS x),
          'net_sales 60+6 ETS(M,A,M), orders 60+6 ETS(M,A,M), tickets 24+6 ETS(M,N,N), visits 60+6 ETS(A,N,N)',
          'dashboard_forecast(): four monthly series, every complete month and 6 months ahead, each with its model');
SELECT is((SELECT count(*) FROM fc JOIN plain_months AS p ON p.month = fc.period_start
           WHERE fc.series = 'orders' AND fc.actual = p.orders), 60::bigint, 'the orders of every month equal plain SQL (count of cxkpi.orders)');
SELECT is((SELECT count(*) FROM fc JOIN plain_months AS p ON p.month = fc.period_start
           WHERE fc.series = 'net_sales' AND abs(fc.actual - p.net_sales) < 1e-6), 60::bigint,
          'the net sales of every month equal plain SQL (gross value - discount)');
SELECT is((SELECT count(*) FROM fc JOIN plain_tickets AS p ON p.month = fc.period_start
           WHERE fc.series = 'tickets' AND fc.actual = p.tickets), 24::bigint, 'the support tickets of every month equal plain SQL');
SELECT is((SELECT count(*) FROM fc
           JOIN (SELECT (f."time" AT TIME ZONE current_setting('TimeZone'))::date AS month, f.*
                 FROM (SELECT ets_fit(month, orders) AS m FROM plain_months) AS x, forecast(x.m, 6) AS f) AS p
             ON p.month = fc.period_start
           WHERE fc.series = 'orders' AND fc.point = p.point AND fc.lo80 = p.lo80 AND fc.hi80 = p.hi80
             AND fc.lo95 = p.lo95 AND fc.hi95 = p.hi95), 6::bigint,
          'the orders forecast equals forecast(ets_fit(month, orders), 6) on the plain series: points and both intervals');
SELECT is((SELECT min(period_start) || ' to ' || max(period_start) FROM fc WHERE point IS NOT NULL), '2026-01-01 to 2026-06-01',
          'forecasts run from January to June 2026, after the last complete month');
SELECT is((SELECT bool_and(lo95 <= lo80 AND lo80 <= point AND point <= hi80 AND hi80 <= hi95) FROM fc WHERE point IS NOT NULL), true,
          'every forecast lies inside its 80 % interval, inside the 95 % interval');
SELECT is((SELECT count(*) FROM fc WHERE "time" <> period_start::timestamp AT TIME ZONE (SELECT cxkpi.setting('time_zone'))), 0::bigint,
          '"time" is period_start at midnight in the time_zone setting');
SELECT is((SELECT count(*) FROM cxkpi_bi.dashboard_forecast(1) WHERE point IS NOT NULL), 4::bigint, 'horizon 1: one month ahead per series');


-------------------------------------------------------------------------------------------------
-- The page's data: what the views say
-------------------------------------------------------------------------------------------------
CREATE TEMP TABLE d AS SELECT cxkpi_bi.dashboard_data() AS j;
SELECT is((SELECT string_agg(t ->> 'kpi', ',' ORDER BY o) FROM d, jsonb_array_elements(j -> 'tiles') WITH ORDINALITY AS x(t, o)),
          'nps,csat,conversion_rate,aov,cart_abandonment_rate,response_time_hours,resolution_rate,retention_rate,loyalty_members',
          'nine tiles by default: seed 000''s primary metrics, in its order');
SELECT is((SELECT count(*) FROM d, jsonb_array_elements(j -> 'tiles') AS t
           JOIN cxkpi_bi.kpi_scorecard AS s ON s.kpi = t ->> 'kpi' AND s.breakdown = 'total'
           WHERE (t ->> 'value')::double precision = s.value AND (t ->> 'target')::double precision = s.target
             AND t ->> 'status' = s.status AND (t ->> 'status_rank')::bigint = s.status_rank
             AND (t ->> 'yoy_change')::double precision = s.yoy_change
             AND (t ->> 'value_year_ago')::double precision = s.value_year_ago), 9::bigint,
          'each tile has the scorecard''s value, target, status, rank, year-ago value and change');
SELECT is((SELECT j -> 'scorecard' FROM d),
          '{"grain": "year", "period_start": "2025-01-01", "period_end": "2025-12-31", "year_ago_period_start": "2024-01-01", "year_ago_period_end": "2024-12-31"}'::jsonb,
          'the scorecard period: 2025, against 2024');
SELECT is((SELECT string_agg(DISTINCT jsonb_array_length(v)::text || ' from ' || (v -> 0 ->> 'period_start') || ' to ' || (v -> -1 ->> 'period_start'), '; ')
           FROM d, jsonb_each(j -> 'weekly') AS w(k, v)),
          '26 from 2025-07-07 to 2025-12-29', 'weekly: the last 26 ISO weeks that start before the reference date, for every tile');
SELECT is((SELECT string_agg(DISTINCT jsonb_array_length(v)::text || ' from ' || (v -> 0 ->> 'period_start') || ' to ' || (v -> -1 ->> 'period_start'), '; ')
           FROM d, jsonb_each(j -> 'monthly') AS w(k, v)),
          '24 from 2024-01-01 to 2025-12-01', 'monthly: the last 24 months, for every tile');
SELECT is((SELECT count(*) FROM d, jsonb_each(j -> 'monthly') AS w(k, v), jsonb_array_elements(v) AS p, cxkpi_bi.kpi_monthly_report AS m
           WHERE m.kpi = w.k AND m.breakdown = 'total' AND m.period_start = (p ->> 'period_start')::date
             AND (p ->> 'value')::double precision IS NOT DISTINCT FROM m.value
             AND (p ->> 'target')::double precision IS NOT DISTINCT FROM m.target
             AND (p ->> 'status_rank')::bigint IS NOT DISTINCT FROM m.status_rank), 216::bigint,
          'and each monthly point is the monthly report''s value, target and status rank (9 x 24)');
SELECT is((SELECT (j -> 'weekly' -> 'nps' -> -1 ->> 'period_complete') || ', ' || (j -> 'weekly' -> 'nps' -> -2 ->> 'period_complete') FROM d),
          'false, true', 'the week of 29 December is in progress on the reference date, the one before is complete');
SELECT is((SELECT string_agg((b ->> 'kpi') || ' by ' || (b ->> 'breakdown') || ': ' || jsonb_array_length(b -> 'rows'), '; ' ORDER BY o)
           FROM d, jsonb_array_elements(j -> 'breakdowns') WITH ORDINALITY AS x(b, o)),
          'csat by channel: 8; conversion_rate by device: 5; aov by segment: 3; response_time_hours by channel: 3',
          'breakdowns: seed 000''s CSAT by channel, conversion by device, AOV by segment, response time by channel');
SELECT is((SELECT count(*) FROM d, jsonb_array_elements(j -> 'breakdowns') AS b, jsonb_array_elements(b -> 'rows') AS r, cxkpi_bi.kpi_scorecard AS s
           WHERE s.kpi = b ->> 'kpi' AND s.breakdown = b ->> 'breakdown' AND s.dimension = r ->> 'dimension'
             AND (r ->> 'value')::double precision = s.value AND r ->> 'status' = s.status), 19::bigint,
          'each breakdown row is the scorecard''s value and status of that dimension');
SELECT is((SELECT string_agg(jsonb_array_length(c -> 'retention_pct')::text, ',' ORDER BY c ->> 'cohort')
           FROM d, jsonb_array_elements(j -> 'cohorts') AS c),
          '12,11,10,9,8,7,6,5,4,3,2,1', 'cohorts: January to December 2025, each with the months up to December');
SELECT is((SELECT count(*) FROM d, jsonb_array_elements(j -> 'cohorts') AS c,
                               jsonb_array_elements(c -> 'retention_pct') WITH ORDINALITY AS r(v, k), plain_cohorts AS p
           WHERE p.cohort = (c ->> 'cohort')::date AND p.period_offset = r.k - 1
             AND abs(r.v::text::double precision - 100.0 * p.active / p.cohort_size) < 1e-9), 78::bigint,
          'and every cell is plain SQL''s share (78 cells)');
SELECT is((SELECT jsonb_array_length(j -> 'alerts') FROM d), (SELECT count(*)::integer FROM cxkpi_bi.current_alerts),
          'alerts: every open alert');
SELECT is((SELECT (j -> 'churn_watch' ->> 'customers') || ' / ' || jsonb_array_length(j -> 'churn_watch' -> 'top') || ' / '
                  || (j -> 'win_back' ->> 'customers') || ' / ' || jsonb_array_length(j -> 'win_back' -> 'top') FROM d),
          (SELECT (SELECT count(*) FROM cxkpi_bi.churn_watch_list) || ' / 10 / ' || (SELECT count(*) FROM cxkpi_bi.win_back_list) || ' / 10'),
          'churn watch and win-back lists: their sizes and their first ten customers');
SELECT is((SELECT string_agg((t ->> 'customer_id'), ',' ORDER BY (t ->> 'rank')::integer) FROM d, jsonb_array_elements(j -> 'churn_watch' -> 'top') AS t),
          (SELECT string_agg(customer_id::text, ',' ORDER BY watch_rank) FROM cxkpi_bi.churn_watch_list WHERE watch_rank <= 10),
          'the watch list''s first ten in rank order');
SELECT is((SELECT string_agg((r ->> 'priority') || ' ' || (r ->> 'rule') || ' ' || (r ->> 'customers'), ', ' ORDER BY o)
           FROM d, jsonb_array_elements(j -> 'interventions' -> 'rules') WITH ORDINALITY AS x(r, o)
           JOIN cxkpi_bi.intervention_summary AS s ON s.rule = r ->> 'rule'
           WHERE r ->> 'intervention' = s.intervention
             AND (r ->> 'value_at_stake_52w')::double precision = s.value_at_stake_52w_currency
             AND (r ->> 'historic_value')::numeric = s.historic_value_currency),
          (SELECT string_agg(priority || ' ' || rule || ' ' || customers, ', ' ORDER BY priority, rule) FROM cxkpi_bi.intervention_summary),
          'interventions: every enabled rule of the summary in priority order, with its customers, value at stake and spend to date');
SELECT is((SELECT (j -> 'interventions' ->> 'customers') || ' / ' || round((j -> 'interventions' ->> 'value_at_stake_52w')::numeric, 6) FROM d),
          (SELECT count(*) || ' / ' || round(sum(value_at_stake_52w_currency)::numeric, 6) FROM cxkpi_bi.customer_interventions),
          'and their totals: the customers with a recommendation and their value at stake');
SELECT is((SELECT string_agg(f ->> 'series', ',') || ': ' || string_agg(jsonb_array_length(f -> 'history') || '+' || jsonb_array_length(f -> 'forecast'), ',')
           FROM d, jsonb_array_elements(j -> 'forecasts') AS f),
          'orders,net_sales,visits,tickets: 24+6,24+6,24+6,24+6', 'forecasts: the last 24 months and 6 ahead of each series');
SELECT is((SELECT jsonb_array_length(j -> 'scorecard_rows') FROM d), (SELECT count(*)::integer FROM cxkpi_bi.kpi_catalog),
          'scorecard_rows: every KPI of the catalogue');
SAVEPOINT tz;
UPDATE cxkpi.settings SET value = 'America/New_York' WHERE key = 'time_zone';
SELECT is((SELECT (j ->> 'time_zone') || ' | ' || (j ->> 'generated_at') || ' | ' || (j -> 'alerts' -> 0 ->> 'raised_at')
           FROM (SELECT cxkpi_bi.dashboard_data() AS j) AS x),
          'America/New_York | ' || to_char(now() AT TIME ZONE 'America/New_York', 'YYYY-MM-DD HH24:MI') || ' | '
          || (SELECT to_char(raised_at AT TIME ZONE 'America/New_York', 'YYYY-MM-DD HH24:MI') FROM cxkpi_bi.current_alerts
              ORDER BY level = 'yellow', kpi_order, breakdown <> 'total', dimension, period_start DESC LIMIT 1),
          'instants are written in the time_zone setting (America/New_York here): when the data were read, when an alert was raised');
ROLLBACK TO SAVEPOINT tz;
SELECT is((SELECT jsonb_array_length(cxkpi_bi.dashboard_data(ARRAY['return_rate', 'nps']) -> 'tiles')
                  || ' ' || (cxkpi_bi.dashboard_data(ARRAY['return_rate', 'nps']) -> 'tiles' -> 0 ->> 'kpi')
                  || ' ' || jsonb_array_length(cxkpi_bi.dashboard_data(ARRAY[]::text[]) -> 'tiles')
                  || ' ' || (cxkpi_bi.dashboard_data(ARRAY[]::text[]) -> 'weekly')::text), '2 return_rate 0 {}',
          'tiles of one''s own choice, in their order; none at all');

-------------------------------------------------------------------------------------------------
-- The page
-------------------------------------------------------------------------------------------------
CREATE TEMP TABLE page AS SELECT cxkpi_bi.dashboard_page() AS html;
SELECT ok((SELECT html LIKE '<!DOCTYPE html>%</html>' || chr(10) AND html LIKE '%<title>Retail Customer Experience</title>%' FROM page),
          'dashboard_page(): an HTML document with the default title');
SELECT is((SELECT (regexp_match(html, '<script type="application/json" id="cxkpi-data">(.*?)</script>'))[1]::jsonb FROM page),
          (SELECT cxkpi_bi.dashboard_data() || '{"title": "Retail Customer Experience", "currency": "$"}'::jsonb),
          'it embeds dashboard_data() with the title and the currency symbol, as JSON');
SELECT is((SELECT array_to_string(ARRAY(SELECT m[1] FROM regexp_matches(html, '(https?://[^"'' )]*|<link|\ssrc=|url\(|@import)', 'g') AS m), ' ') FROM page),
          'http://www.w3.org/2000/svg',
          'self-contained: no link, src, url() or @import, no address but the SVG namespace');
SAVEPOINT names;
UPDATE cxkpi.kpi_definitions SET name = 'NPS </script><script>alert(1)</script>' WHERE kpi = 'nps';
SELECT is((SELECT (length(p) - length(replace(p, '</script>', ''))) / 9 || ' ' || (strpos(p, '\u003c/script>\u003cscript>alert(1)\u003c/script>') > 0)
           FROM cxkpi_bi.dashboard_page('<b>"Q&A"</b>') AS p), '2 true',
          'names cannot close the data''s script element: every < of the JSON is written \u003c');
SELECT ok((SELECT strpos(p, '<title>&lt;b&gt;&quot;Q&amp;A&quot;&lt;/b&gt;</title>') > 0 FROM cxkpi_bi.dashboard_page('<b>"Q&A"</b>') AS p),
          'and the title is HTML-escaped');
ROLLBACK TO SAVEPOINT names;
SELECT ok((SELECT p LIKE '%"currency": "EUR "%' FROM cxkpi_bi.dashboard_page('Shop', 'EUR ', ARRAY['nps'], 3) AS p),
          'another currency symbol, tiles and horizon');

-- A BI login writes the page: it reads cxkpi_bi only (no USAGE on schema cxkpi)
CREATE ROLE tap_page_reader LOGIN IN ROLE cxkpi_reader;
SET LOCAL ROLE tap_page_reader;
SELECT ok(NOT has_schema_privilege('cxkpi', 'USAGE') AND length(cxkpi_bi.dashboard_page()) > 50000,
          'a member of cxkpi_reader without USAGE on schema cxkpi writes the page');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_cohort_retention), 1830::bigint, 'and reads the cohorts');
RESET ROLE;

-------------------------------------------------------------------------------------------------
-- Errors
-------------------------------------------------------------------------------------------------
SELECT throws_ok($$SELECT cxkpi_bi.dashboard_data(NULL)$$, '22004', 'the tiles of the dashboard cannot be NULL', 'tiles NULL: 22004');
SELECT throws_ok($$SELECT cxkpi_bi.dashboard_data(ARRAY['nps', 'bogus', NULL])$$, '22023',
                 'unknown KPI in the tiles of the dashboard: ''bogus'', NULL', 'an unknown KPI: 22023, naming it');
SELECT throws_ok($$SELECT cxkpi_bi.dashboard_page(horizon => 0)$$, '22023', 'forecast horizon 0 is out of range', 'horizon 0: 22023');
SELECT throws_ok($$SELECT * FROM cxkpi_bi.dashboard_forecast(NULL)$$, '22004', 'the forecast horizon cannot be NULL', 'horizon NULL: 22004');
SELECT throws_ok($$SELECT cxkpi_bi.dashboard_page(NULL)$$, '22004', 'the title of the dashboard page cannot be NULL', 'title NULL: 22004');

SELECT * FROM finish();
ROLLBACK;
