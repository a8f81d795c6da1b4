-- Schema cxkpi_bi as a BI login sees it (docs/bi.md): only views, every one readable by a member
-- of cxkpi_reader that has no USAGE on schema cxkpi, each equal to the cxkpi view it renames; one
-- naming of the key columns; comments and standard types; the KPI catalogue in seed order; the
-- login procedures, their settings and their errors; the per-survey views of the data model.
BEGIN;
SET client_min_messages = warning;
SELECT plan(77);

\i test/fixtures/dashboard_data.sql

-- Runs a statement as role r: the first column of its first row, 'ok' for none, or the SQLSTATE.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    res text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    BEGIN
        IF q ~* '^\s*CALL ' THEN
            EXECUTE q;
        ELSE
            EXECUTE q INTO res;
        END IF;
        res := coalesce(res, 'ok');
    EXCEPTION WHEN OTHERS THEN
        res := SQLSTATE || ' ' || SQLERRM;
    END;
    RESET ROLE;
    RETURN res;
END $$;
CREATE VIEW pg_temp.bi_views AS
SELECT c.oid, c.relname FROM pg_class AS c WHERE c.relnamespace = 'cxkpi_bi'::regnamespace AND c.relkind = 'v';
CREATE VIEW pg_temp.bi_columns AS
SELECT v.relname, a.attname, a.attnum, a.atttypid, col_description(v.oid, a.attnum) AS comment
FROM pg_temp.bi_views AS v JOIN pg_attribute AS a ON a.attrelid = v.oid AND a.attnum > 0 AND NOT a.attisdropped;

-------------------------------------------------------------------------------------------------
-- The documented step makes a login; the reader sees cxkpi_bi and nothing else
-------------------------------------------------------------------------------------------------
CALL cxkpi.create_bi_login('tap_bi', 'tap-secret');
SELECT ok((SELECT rolcanlogin AND NOT rolsuper FROM pg_roles WHERE rolname = 'tap_bi'), 'create_bi_login makes a login role');
SELECT ok(pg_has_role('tap_bi', 'cxkpi_reader', 'USAGE'), 'that uses the privileges of cxkpi_reader without SET ROLE');
SELECT is((SELECT s.setconfig FROM pg_db_role_setting AS s JOIN pg_database AS d ON d.oid = s.setdatabase
           WHERE s.setrole = 'tap_bi'::regrole AND d.datname = current_database()),
          ARRAY['search_path=cxkpi_bi', 'statement_timeout=60s'],
          'with search_path cxkpi_bi and statement_timeout 60s on the login, in this database');
SELECT ok((SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'tap_bi'), 'and a password');
SELECT is(pg_temp.as_role('tap_bi', $$SELECT has_schema_privilege('cxkpi', 'USAGE')$$), 'false',
          'the reader has no USAGE on schema cxkpi');
SELECT is(pg_temp.as_role('tap_bi', $$SELECT has_schema_privilege('cxkpi_bi', 'USAGE')$$), 'true', 'and USAGE on cxkpi_bi');
SELECT is((SELECT string_agg(DISTINCT c.relkind::text, ',') FROM pg_class AS c WHERE c.relnamespace = 'cxkpi_bi'::regnamespace), 'v',
          'schema cxkpi_bi holds views only (no table, matview, index, sequence)');
SELECT is((SELECT count(*) FROM pg_type AS t WHERE t.typnamespace = 'cxkpi_bi'::regnamespace AND t.typrelid = 0 AND t.typelem = 0),
          0::bigint, 'no type of its own in cxkpi_bi');
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.proname) FROM pg_proc AS p
           WHERE p.pronamespace = 'cxkpi_bi'::regnamespace),
          'cxkpi_bi.dashboard_data(text[],integer), cxkpi_bi.dashboard_forecast(integer), cxkpi_bi.dashboard_page(text,text,text[],integer)',
          'and no function but the three of the dashboard page (docs/dashboard.md#the-dashboard-page)');
SELECT is((SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_temp.bi_views
           WHERE NOT has_table_privilege('tap_bi', oid, 'SELECT')), NULL, 'the reader may SELECT every view of cxkpi_bi');
SELECT is((SELECT array_agg(relname::text ORDER BY relname) FROM pg_temp.bi_views WHERE relname <> 'kpi_catalog'),
          (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class AS c
           WHERE c.relnamespace = 'cxkpi'::regnamespace AND has_table_privilege('cxkpi_reader', c.oid, 'SELECT')),
          'one cxkpi_bi view per cxkpi view granted to cxkpi_reader (and the catalogue)');

-- Every view opens for the reader (the functions the views call run with its rights) ...
SELECT is((SELECT string_agg(relname || ': ' || r, '; ') FROM (
               SELECT relname, pg_temp.as_role('tap_bi', format('SELECT count(*) FROM (SELECT * FROM cxkpi_bi.%I) AS q', relname)) AS r
               FROM pg_temp.bi_views) AS x
           WHERE r !~ '^\d+$'), NULL, 'every cxkpi_bi view reads, in full, as a reader without USAGE on cxkpi');
-- ... and has the rows of the cxkpi view it renames.
SELECT is((SELECT string_agg(relname, ', ') FROM (
               SELECT v.relname,
                      pg_temp.as_role('tap_bi', format('SELECT count(*) FROM cxkpi_bi.%I', v.relname)) AS n_bi,
                      (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM cxkpi.%I', v.relname), false, false, '')))[1]::text AS n_cxkpi
               FROM pg_temp.bi_views AS v WHERE v.relname <> 'kpi_catalog') AS x
           WHERE n_bi <> n_cxkpi), NULL, 'each cxkpi_bi view has as many rows as its cxkpi view');
SELECT is(pg_temp.as_role('tap_bi', 'SELECT count(*) FROM cxkpi.kpi_scorecard'), '42501 permission denied for schema cxkpi',
          'the 1.0 names are out of its reach (no USAGE on cxkpi)');
SELECT is(pg_temp.as_role('tap_bi', 'SELECT count(*) FROM cxkpi.orders'), '42501 permission denied for schema cxkpi', 'and so are the data tables');
SELECT is(pg_temp.as_role('tap_bi', 'SELECT cxkpi.as_of()'), '42501 permission denied for schema cxkpi', 'and the functions by name');
-- The configuration readers (SECURITY DEFINER) are for the dashboard's roles only: a role given
-- USAGE on schema cxkpi for something else does not read the settings or targets through them.
CREATE ROLE tap_outsider NOLOGIN;
GRANT USAGE ON SCHEMA cxkpi TO tap_outsider;
SELECT is(pg_temp.as_role('tap_outsider', $$SELECT cxkpi.setting('time_zone')$$), '42501 permission denied for function setting',
          'a role outside the dashboard''s roles cannot read a setting through cxkpi.setting()');
SELECT is(pg_temp.as_role('tap_outsider', $$SELECT count(*) FROM cxkpi.target_spans()$$), '42501 permission denied for function target_spans',
          'nor the targets through cxkpi.target_spans()');
SELECT is(pg_temp.as_role('tap_bi', $$SELECT count(*) > 0 FROM cxkpi_bi.kpi_scorecard WHERE target IS NOT NULL$$), 'true',
          'while a BI login (cxkpi_reader) sees the targets in the scorecard');
SELECT is(pg_temp.as_role('tap_bi', $$SELECT count(*) FROM cxkpi_bi.kpi_scorecard WHERE kpi = 'aov' AND value IS NOT NULL$$), '8',
          'the reader reads the scorecard with its data');

-- Values: the cxkpi_bi views are the cxkpi views, renamed
SELECT is((SELECT count(*) FROM (
               SELECT kpi, breakdown, dimension, grain, period_start, period_end, as_of, value, numerator, denominator, sample_size,
                      target, status, meets_target, value_year_ago, yoy_change FROM cxkpi.kpi_scorecard
               EXCEPT
               SELECT kpi, breakdown, dimension, grain, period_start, period_end, as_of, value, numerator, denominator, sample_size,
                      target, status, meets_target, value_year_ago, yoy_change FROM cxkpi_bi.kpi_scorecard) AS d),
          0::bigint, 'cxkpi_bi.kpi_scorecard = cxkpi.kpi_scorecard');
SELECT is((SELECT count(*) FROM (
               SELECT grain, period_start, breakdown, channel, nps_points, csat_mean_score, ces_responses FROM cxkpi.kpi_satisfaction
               EXCEPT
               SELECT grain, period_start, breakdown, dimension, nps_points, csat_mean_score, ces_responses FROM cxkpi_bi.kpi_satisfaction) AS d),
          0::bigint, 'kpi_satisfaction: dimension is the channel of cxkpi.kpi_satisfaction');
SELECT is((SELECT count(*) FROM (
               SELECT grain, period_start, breakdown, channel, response_time_mean_hours, tickets FROM cxkpi.kpi_service_quality
               EXCEPT
               SELECT grain, period_start, breakdown, dimension, response_time_mean_hours, tickets FROM cxkpi_bi.kpi_service_quality) AS d),
          0::bigint, 'kpi_service_quality: dimension is the channel of cxkpi.kpi_service_quality');
SELECT is((SELECT count(*) FROM (
               SELECT week_start, week_end, kpi, breakdown, dimension, value, previous_week_value, status FROM cxkpi.kpi_weekly_summary
               EXCEPT
               SELECT period_start, period_end, kpi, breakdown, dimension, value, previous_week_value, status FROM cxkpi_bi.kpi_weekly_summary) AS d),
          0::bigint, 'kpi_weekly_summary: period_start and period_end are the ISO week');
SELECT is((SELECT string_agg(DISTINCT grain, ',') FROM cxkpi_bi.kpi_monthly_report) || '/'
          || (SELECT string_agg(DISTINCT grain, ',') FROM cxkpi_bi.kpi_quarterly_review) || '/'
          || (SELECT string_agg(DISTINCT grain, ',') FROM cxkpi_bi.kpi_weekly_summary), 'month/quarter/week',
          'the trend views say their grain');
SELECT is((SELECT string_agg(DISTINCT breakdown || ':' || dimension, ',') FROM cxkpi_bi.kpi_loyalty_retention), 'total:all',
          'kpi_loyalty_retention (total only) has breakdown total and dimension all');
SELECT is((SELECT string_agg(DISTINCT grain, ',') FROM cxkpi_bi.kpi_gap), 'month', 'kpi_gap has the scorecard grain');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_scorecard WHERE "time" <> period_start::timestamp AT TIME ZONE 'UTC'), 0::bigint,
          'the scorecard''s time is period_start at midnight in the dashboard time zone');
SET LOCAL TimeZone = 'America/New_York';
SELECT is((SELECT ("time"::date, period_start)::text FROM cxkpi_bi.kpi_scorecard WHERE kpi = 'nps' AND breakdown = 'total'),
          '(2025-02-28,2025-03-01)', 'in New York time is the evening before the period; period_start stays the first day');
RESET TimeZone;

-------------------------------------------------------------------------------------------------
-- One naming: the key columns of every view
-------------------------------------------------------------------------------------------------
SELECT is((SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_temp.bi_views AS v
           WHERE relname NOT IN ('kpi_catalog', 'customer_value', 'churn_watch_list', 'win_back_list', 'customer_interventions', 'intervention_summary', 'experiment_results', 'feedback_stream', 'returns_feedback',
                                 'kpi_hourly', 'kpi_today', 'kpi_heatmap')   -- (the hour grain: keyed on day and hour)
             AND (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_temp.bi_columns AS c WHERE c.relname = v.relname AND attnum <= 4)
                 IS DISTINCT FROM ARRAY['grain', 'period_start', 'period_end', 'time']),
          NULL, 'every period view starts with grain, period_start, period_end, time');
SELECT is((SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_temp.bi_views AS v
           WHERE relname NOT IN ('kpi_catalog', 'customer_value', 'churn_watch_list', 'win_back_list', 'customer_interventions', 'intervention_summary', 'experiment_results', 'feedback_stream', 'returns_feedback')
             AND (SELECT count(*) FROM pg_temp.bi_columns AS c WHERE c.relname = v.relname AND attname IN ('breakdown', 'dimension')) <> 2),
          NULL, 'every period view has breakdown and dimension');
SELECT is((SELECT string_agg(DISTINCT attname || ' ' || format_type(atttypid, NULL), ', ' ORDER BY attname || ' ' || format_type(atttypid, NULL))
           FROM pg_temp.bi_columns WHERE attname IN ('grain', 'period_start', 'period_end', 'time', 'breakdown', 'dimension')),
          'breakdown text, dimension text, grain text, period_end date, period_start date, time timestamp with time zone',
          'with one type each: period_start and period_end are dates');
SELECT is((SELECT string_agg(relname || '.' || attname, ', ') FROM pg_temp.bi_columns WHERE attname IN ('channel', 'week_start', 'month_start', 'quarter_start')),
          NULL, 'no other name for them (channel, week_start ...)');
SELECT is((SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_temp.bi_views AS v
           WHERE EXISTS (SELECT 1 FROM pg_temp.bi_columns AS c WHERE c.relname = v.relname AND c.attname = 'kpi')
             AND (SELECT count(*) FROM pg_temp.bi_columns AS c WHERE c.relname = v.relname AND attname IN ('kpi_name', 'kpi_order')) <> 2),
          NULL, 'every view with a kpi column has its display name and order');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_trend AS t JOIN cxkpi_bi.kpi_catalog AS c USING (kpi)
           WHERE (t.kpi_order, t.section_name, t.section_order) IS DISTINCT FROM (c.kpi_order, c.section_name, c.section_order)),
          0::bigint, 'the display columns are the catalogue''s');

-- Comments and types (what Metabase, Superset and Power BI show and map)
SELECT is((SELECT string_agg(relname, ', ') FROM pg_temp.bi_views WHERE obj_description(oid, 'pg_class') IS NULL), NULL,
          'every cxkpi_bi view has a COMMENT');
SELECT is((SELECT string_agg(relname || '.' || attname, ', ') FROM pg_temp.bi_columns WHERE comment IS NULL), NULL,
          'every cxkpi_bi column has a COMMENT');
SELECT is((SELECT string_agg(DISTINCT format_type(atttypid, NULL), ', ') FROM pg_temp.bi_columns
           WHERE atttypid NOT IN ('double precision'::regtype, 'numeric'::regtype, 'bigint'::regtype, 'integer'::regtype,
                                  'date'::regtype, 'timestamp with time zone'::regtype, 'text'::regtype, 'boolean'::regtype)),
          NULL, 'columns are double precision, numeric, bigint, integer, date, timestamptz, text or boolean');
SELECT is((SELECT count(*) FROM pg_temp.bi_columns WHERE attname !~ '^[a-z][a-z0-9_]*$'), 0::bigint, 'snake_case column names');
SELECT alike(col_description('cxkpi_bi.kpi_timeseries'::regclass, 4), '%use period_start as the key%',
            'the comment of time says to key on period_start');
SELECT is(col_description('cxkpi_bi.kpi_returns'::regclass,
                          (SELECT attnum FROM pg_attribute WHERE attrelid = 'cxkpi_bi.kpi_returns'::regclass AND attname = 'return_rate_pct')),
          col_description('cxkpi.kpi_returns'::regclass,
                          (SELECT attnum FROM pg_attribute WHERE attrelid = 'cxkpi.kpi_returns'::regclass AND attname = 'return_rate_pct')),
          'a measure column has the comment of the cxkpi view');

-------------------------------------------------------------------------------------------------
-- The catalogue
-------------------------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_catalog), (SELECT count(*) FROM cxkpi.kpi_definitions), 'one catalogue row per KPI');
SELECT is((SELECT array_agg(kpi ORDER BY kpi_order) FROM cxkpi_bi.kpi_catalog WHERE kpi_order <= 8),
          ARRAY['nps', 'csat', 'csat_satisfied_pct', 'ces', 'conversion_rate', 'aov', 'cart_abandonment_rate', 'cart_recovery_rate'],
          'KPIs in seed 000''s order');
SELECT is((SELECT array_agg(DISTINCT (section_order, section_name)::text ORDER BY (section_order, section_name)::text) FROM cxkpi_bi.kpi_catalog),
          ARRAY['(1,"Customer Satisfaction")', '(2,"Purchase Experience")', '(3,"Service Quality")', '(4,"Loyalty & Retention")',
                '(5,"Digital Experience")', '(6,"Operational Efficiency")', '(7,Returns)', '(8,"Customer Value")'],
          'sections in seed 000''s order, then returns and customer value');
SELECT is((SELECT array_agg(kpi_order ORDER BY kpi_order) = array_agg(g ORDER BY g) FROM cxkpi_bi.kpi_catalog,
                  generate_series(1, (SELECT count(*) FROM cxkpi.kpi_definitions)) AS g WHERE g = kpi_order), true,
          'kpi_order is 1, 2, 3 ... without gaps');
SELECT is((SELECT count(*) FROM cxkpi_bi.kpi_catalog AS a JOIN cxkpi_bi.kpi_catalog AS b ON a.kpi_order < b.kpi_order
           WHERE a.section_order > b.section_order), 0::bigint, 'sections never interleave');
SELECT is((SELECT (decimals, value_suffix, value_format)::text FROM cxkpi_bi.kpi_catalog WHERE kpi = 'cart_abandonment_rate'),
          '(1," %","#,##0.0"" %""")', 'a percentage: one decimal, suffix %, format #,##0.0" %"');
SELECT is((SELECT string_agg(kpi || ' ' || decimals, ', ' ORDER BY kpi) FROM cxkpi_bi.kpi_catalog
           WHERE kpi IN ('uptime_pct', 'mobile_optimization_score', 'loyalty_members', 'aov', 'nps')),
          'aov 2, loyalty_members 0, mobile_optimization_score 0, nps 1, uptime_pct 2', 'decimals by unit, or set per KPI');
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source)
VALUES ('nps_staff', 'Employee NPS', 'satisfaction', 'points', 'higher_is_better', 'eNPS survey', 'metric_observations');
SELECT is((SELECT (kpi_order, decimals)::text FROM cxkpi_bi.kpi_catalog WHERE kpi = 'nps_staff'), '(5,1)',
          'a user KPI comes after the built-in KPIs of its section, with the decimals of its unit');
UPDATE cxkpi.kpi_definitions SET sort_order = 5, decimals = 0 WHERE kpi = 'nps_staff';
SELECT is((SELECT (kpi_order, decimals)::text FROM cxkpi_bi.kpi_catalog WHERE kpi = 'nps_staff'), '(1,0)',
          'and takes the place and decimals it is given');
UPDATE cxkpi.kpi_definitions SET sort_order = 15 WHERE kpi = 'csat';
SELECT ok((SELECT NOT is_default FROM cxkpi.kpi_definitions WHERE kpi = 'csat'),
          'moving a built-in KPI makes its row a user row (pg_dump keeps the order)');
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source)
VALUES ('ces', 'Customer Effort Score', 'satisfaction', 'score', 'higher_is_better', 'mean CES', 'builtin');
SELECT is((SELECT (name, sort_order)::text FROM cxkpi.kpi_definitions WHERE kpi = 'ces'), '("Customer Effort Score",40)',
          'a restored row without display values (a 1.0 dump) keeps the built-in order');
SELECT throws_ok($$UPDATE cxkpi.kpi_definitions SET decimals = 7 WHERE kpi = 'nps'$$, '23514', NULL, 'decimals are 0 to 6');

-------------------------------------------------------------------------------------------------
-- The login procedures: settings, idempotence, errors
-------------------------------------------------------------------------------------------------
CREATE ROLE tap_existing LOGIN;
CALL cxkpi.prepare_bi_login('tap_existing', '5min');
SELECT is((SELECT s.setconfig FROM pg_db_role_setting AS s WHERE s.setrole = 'tap_existing'::regrole
           AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
          ARRAY['search_path=cxkpi_bi', 'statement_timeout=5min'], 'prepare_bi_login prepares an existing login, with its own timeout');
SELECT lives_ok($$CALL cxkpi.prepare_bi_login('tap_existing')$$, 'and can run again');
SELECT is((SELECT count(*) FROM pg_auth_members WHERE member = 'tap_existing'::regrole AND roleid = 'cxkpi_reader'::regrole), 1::bigint,
          'without a second membership');
SELECT throws_ok($$CALL cxkpi.create_bi_login('tap_bi', 'x')$$, '42710', 'role "tap_bi" already exists', 'create_bi_login: an existing role');
SELECT throws_ok($$CALL cxkpi.create_bi_login(NULL, 'x')$$, '22004', NULL, 'a NULL name');
SELECT throws_ok($$CALL cxkpi.create_bi_login('', 'x')$$, '42602', NULL, 'an empty name');
SELECT throws_ok(format('CALL cxkpi.create_bi_login(%L, %L)', repeat('x', 64), 'x'), '42622', NULL, 'a name of 64 bytes');
SELECT throws_ok($$CALL cxkpi.create_bi_login('pg_tap', 'x')$$, '42939', NULL, 'a reserved name');
SELECT throws_ok($$CALL cxkpi.create_bi_login('tap_empty', '')$$, '22023', NULL, 'an empty password');
SELECT throws_ok($$CALL cxkpi.create_bi_login('tap_t', 'x', 'soon')$$, '22023', NULL, 'a timeout that is not one');
SELECT throws_ok($$CALL cxkpi.prepare_bi_login('tap_nobody')$$, '42704', 'role "tap_nobody" does not exist', 'prepare_bi_login: a missing role');
SELECT throws_ok(format('CALL cxkpi.prepare_bi_login(%L)', current_user), '22023', format('role "%s" is a superuser', current_user),
                 'a superuser');
SELECT throws_ok($$CALL cxkpi.prepare_bi_login('cxkpi_reader')$$, '22023', 'role "cxkpi_reader" cannot log in',
                 'a group role: its settings would not reach its members');
CREATE ROLE tap_plain;
GRANT USAGE ON SCHEMA cxkpi TO tap_plain;
SELECT is(pg_temp.as_role('tap_plain', $$CALL cxkpi.create_bi_login('tap_x', 'x')$$), '42501 permission denied to create role "tap_x"',
          'a role without CREATEROLE gets 42501');
CREATE ROLE tap_admin CREATEROLE;
GRANT USAGE ON SCHEMA cxkpi TO tap_admin;
SELECT is(pg_temp.as_role('tap_admin', $$CALL cxkpi.create_bi_login('tap_y', 'x')$$),
          CASE WHEN current_setting('server_version_num')::integer >= 160000
               THEN '42501 permission denied to grant cxkpi_reader to "tap_y"' ELSE 'ok' END,
          'CREATEROLE alone: 42501 on PostgreSQL 16 and later, which need ADMIN OPTION on cxkpi_reader');
GRANT cxkpi_reader TO tap_admin WITH ADMIN OPTION;
SELECT is(pg_temp.as_role('tap_admin', $$CALL cxkpi.create_bi_login('tap_z', 'x')$$), 'ok',
          'CREATEROLE with ADMIN OPTION on cxkpi_reader makes BI logins');
SELECT ok(pg_has_role('tap_z', 'cxkpi_reader', 'USAGE'), 'that are members of cxkpi_reader');

-------------------------------------------------------------------------------------------------
-- The per-survey views of the data model
-------------------------------------------------------------------------------------------------
SELECT is((SELECT nps(score) FROM cxkpi.nps_responses), (SELECT nps(score) FROM cxkpi.survey_responses WHERE survey = 'nps'),
          'nps(score) over cxkpi.nps_responses = over the nps answers');
SELECT isnt((SELECT nps(score) FROM cxkpi.survey_responses), (SELECT nps(score) FROM cxkpi.nps_responses),
            'and not over the whole table, where CSAT and CES answers count as NPS answers');
SELECT is((SELECT csat_mean(csat_agg(score, scale)) FROM cxkpi.csat_responses WHERE scale = 5), 27 / 7.0::float8,
          'csat_responses keeps the scale: the mean of the 5-point answers is 27 / 7');
SELECT is((SELECT string_agg(DISTINCT scale::text, ',') FROM cxkpi.ces_responses), '5,7', 'ces_responses keeps the scale too');
SELECT is((SELECT count(*) FROM cxkpi.nps_responses) + (SELECT count(*) FROM cxkpi.csat_responses) + (SELECT count(*) FROM cxkpi.ces_responses),
          (SELECT count(*) FROM cxkpi.survey_responses), 'every answer is in exactly one view');
SELECT alike(obj_description('cxkpi.survey_responses'::regclass, 'pg_class'), '%Never aggregate score over the whole table%',
            'the table''s comment warns');
SELECT is(pg_temp.as_role('tap_bi', 'SELECT count(*) FROM cxkpi.nps_responses'), '42501 permission denied for schema cxkpi',
          'single answers stay out of the reader''s reach');

SELECT * FROM finish();
ROLLBACK;
