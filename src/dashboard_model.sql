-- The CX dashboard, part 1: the data model, settings, the KPI catalogue and targets, and the
-- status logic (docs/data-model.md, docs/dashboard.md).  Everything lives in schema cxkpi,
-- which the extension owns; the summary types and accessors stay in @extschema@.
--
-- Data tables and config tables are extension members, so each is registered with
-- pg_extension_config_dump: pg_dump then dumps their rows (user data), and CREATE EXTENSION
-- recreates the tables.  Config tables hold built-in rows (is_default) that the script seeds;
-- only user rows are dumped, and a restored row whose key matches a built-in row replaces it
-- (trigger cxkpi.config_row_upsert), so restore never fails on a duplicate key.

CREATE SCHEMA cxkpi;
COMMENT ON SCHEMA cxkpi IS
    'cxkpi dashboard layer: CX data model, KPI catalogue and targets, daily rollups and BI-facing views.';

-------------------------------------------------------------------------------------------------
-- Config tables: settings, KPI definitions, KPI targets
-------------------------------------------------------------------------------------------------

CREATE TABLE cxkpi.settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text NOT NULL DEFAULT '',
    is_default  boolean NOT NULL DEFAULT false,
    CONSTRAINT settings_key_known CHECK (key IN (
        'as_of', 'scorecard_grain', 'time_zone', 'confidence', 'retention_active_window',
        'loyalty_active_days', 'csat_scale', 'ces_scale', 'alert_grain', 'gone_p_alive',
        'customer_models_interval', 'alerting', 'peak_weeks'))
);
COMMENT ON TABLE cxkpi.settings IS
    'Dashboard settings (one row per key). Edit with UPDATE; values are validated. Changes that affect rollups (time_zone, retention_active_window, loyalty_active_days, csat_scale, ces_scale, confidence) apply at the next CALL cxkpi.refresh_dashboard().';

-- Validates a setting value; raises 22023 with a hint.  Also marks an edited built-in row as a
-- user row, so that it is dumped.
CREATE FUNCTION cxkpi.settings_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ok boolean;
    hint text;
BEGIN
    CASE NEW.key
    WHEN 'as_of' THEN
        ok := NEW.value = '' OR NEW.value ~ '^\d{4}-\d{2}-\d{2}$';
        IF ok AND NEW.value <> '' THEN PERFORM NEW.value::date; END IF;
        hint := 'Use a date such as 2026-10-31, or '''' for the current date.';
    WHEN 'scorecard_grain' THEN
        ok := NEW.value IN ('week', 'month', 'quarter', 'year');
        hint := 'Use week, month, quarter or year.';
    WHEN 'alert_grain' THEN
        ok := NEW.value IN ('day', 'week', 'month', 'quarter', 'year');
        hint := 'Use day, week, month, quarter or year; the next refresh evaluates the alerts at the new grain.';
    WHEN 'alerting' THEN
        ok := NEW.value IN ('true', 'false');
        hint := 'Use true or false, or SELECT cxkpi.set_alerting(true) / cxkpi.set_alerting(false).';
    WHEN 'time_zone' THEN
        ok := EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.value)
              OR EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = NEW.value);
        hint := 'Use a time zone name from pg_timezone_names, such as UTC or Europe/Paris.';
    WHEN 'confidence' THEN
        ok := NEW.value ~ '^0\.\d+$' AND NEW.value::float8 > 0 AND NEW.value::float8 < 1;
        hint := 'Use a confidence level strictly between 0 and 1, such as 0.95.';
    WHEN 'retention_active_window', 'loyalty_active_days' THEN
        ok := NEW.value ~ '^[1-9]\d{0,4}$';
        hint := 'Use a positive integer.';
    WHEN 'gone_p_alive' THEN
        ok := NEW.value ~ '^0(\.\d+)?$';
        hint := 'Use a probability from 0 to below 1, such as 0.1 (0: nobody is considered gone).';
    WHEN 'customer_models_interval' THEN
        BEGIN
            ok := NEW.value::interval BETWEEN interval '0' AND interval '7 days';
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
            ok := false;
        END;
        hint := 'Use an interval from 0 to 7 days, such as 1 hour (0: at every refresh that has changes).';
    WHEN 'csat_scale' THEN
        ok := NEW.value IN ('2', '3', '5', '7', '10');
        hint := 'Use 2, 3, 5, 7 or 10.';
    WHEN 'ces_scale' THEN
        ok := NEW.value IN ('5', '7');
        hint := 'Use 5 or 7.';
    WHEN 'peak_weeks' THEN
        ok := NEW.value ~ '^[1-9]\d?$' AND NEW.value::integer <= 52;
        hint := 'Use a number of weeks from 1 to 52.';
    ELSE
        ok := true;     -- an unknown key: the CHECK constraint names it
    END CASE;
    IF NOT ok THEN
        RAISE EXCEPTION 'invalid value "%" for cxkpi setting "%"', NEW.value, NEW.key
            USING ERRCODE = 'invalid_parameter_value', HINT = hint;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.is_default AND NEW.is_default THEN
        NEW.is_default := NEW.value = OLD.value AND NEW.description = OLD.description;
    END IF;
    RETURN NEW;
END $$;

CREATE TABLE cxkpi.kpi_definitions (
    kpi         text PRIMARY KEY CONSTRAINT kpi_definitions_key_format CHECK (kpi ~ '^[a-z][a-z0-9_]*$'),
    name        text NOT NULL CHECK (name <> ''),
    section     text NOT NULL CHECK (section IN ('satisfaction', 'purchase_experience', 'service_quality',
                    'loyalty_retention', 'digital_experience', 'operational_efficiency', 'returns',
                    'customer_value', 'other')),
    unit        text NOT NULL CHECK (unit IN ('points', 'percent', 'score', 'currency', 'hours',
                    'seconds', 'days', 'count', 'ratio')),
    direction   text NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    formula     text NOT NULL,
    source      text NOT NULL CHECK (source IN ('builtin', 'metric_observations')),
    value_min   double precision,
    value_max   double precision,
    is_default  boolean NOT NULL DEFAULT false,
    CONSTRAINT kpi_definitions_range CHECK (value_min IS NULL OR value_max IS NULL OR value_min < value_max),
    -- 1.1, display for BI tools (cxkpi_bi.kpi_catalog; the built-in KPIs' values are set in src/bi.sql)
    sort_order  integer,
    decimals    smallint CONSTRAINT kpi_definitions_decimals CHECK (decimals BETWEEN 0 AND 6)
);
COMMENT ON TABLE cxkpi.kpi_definitions IS
    'KPI catalogue: one row per KPI key. Built-in KPIs are computed by the rollups; KPIs with source metric_observations are read from cxkpi.metric_observations (add your own with INSERT).';

CREATE TABLE cxkpi.kpi_targets (
    kpi              text NOT NULL REFERENCES cxkpi.kpi_definitions ON UPDATE CASCADE,
    dimension        text NOT NULL DEFAULT '',
    valid_from       date NOT NULL DEFAULT '-infinity',
    target           double precision,
    red_threshold    double precision,
    yellow_threshold double precision,
    min_sample_size  bigint CHECK (min_sample_size >= 0),
    recovery_margin  double precision CHECK (recovery_margin BETWEEN 0 AND 1e300),
    enabled          boolean NOT NULL DEFAULT true,
    is_default       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kpi, dimension, valid_from),
    CONSTRAINT kpi_targets_finite CHECK (
        (target IS NULL OR target BETWEEN -1e300 AND 1e300)
        AND (red_threshold IS NULL OR red_threshold BETWEEN -1e300 AND 1e300)
        AND (yellow_threshold IS NULL OR yellow_threshold BETWEEN -1e300 AND 1e300))
);
COMMENT ON TABLE cxkpi.kpi_targets IS
    'Targets and red/yellow action thresholds per KPI, optionally per dimension value (dimension '''' = every breakdown), valid from a date. A dimension row takes every value it leaves NULL (target, thresholds, min_sample_size, recovery_margin) from the overall row: cxkpi.effective_target(). Status (cxkpi.kpi_status): red when the value is beyond red_threshold (below it for higher-is-better KPIs, above it for lower-is-better), yellow when beyond yellow_threshold, off target when no trigger fired but the target is missed, green otherwise; insufficient data below min_sample_size (default 30).';

-- Direction-aware threshold order: for a higher-is-better KPI red <= yellow, for a lower-is-better
-- KPI red >= yellow.
CREATE FUNCTION cxkpi.kpi_targets_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dir text;
BEGIN
    SELECT direction INTO dir FROM cxkpi.kpi_definitions WHERE kpi = NEW.kpi;
    IF NEW.red_threshold IS NOT NULL AND NEW.yellow_threshold IS NOT NULL
       AND ((dir = 'higher_is_better' AND NEW.red_threshold > NEW.yellow_threshold)
            OR (dir = 'lower_is_better' AND NEW.red_threshold < NEW.yellow_threshold)) THEN
        RAISE EXCEPTION 'red threshold % and yellow threshold % are in the wrong order for KPI "%" (%)',
                        NEW.red_threshold, NEW.yellow_threshold, NEW.kpi, dir
            USING ERRCODE = 'check_violation',
                  HINT = 'For a higher-is-better KPI red_threshold <= yellow_threshold; for a lower-is-better KPI red_threshold >= yellow_threshold.';
    END IF;
    RETURN NEW;
END $$;

-- Config rows: an edited built-in row becomes a user row (dumped); inserting a row whose key
-- matches a built-in row replaces the built-in row (this is what pg_restore does); built-in
-- rows cannot be deleted (a deletion would be undone by the next restore).
CREATE FUNCTION cxkpi.config_row_upsert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_default bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.is_default THEN
            RETURN NEW;
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN
            UPDATE cxkpi.kpi_definitions SET name = NEW.name, section = NEW.section, unit = NEW.unit,
                   direction = NEW.direction, formula = NEW.formula, source = NEW.source,
                   value_min = NEW.value_min, value_max = NEW.value_max,
                   -- (1.1 columns: a row dumped by 1.0 has none, and keeps the built-in display)
                   sort_order = coalesce(NEW.sort_order, kpi_definitions.sort_order),
                   decimals = coalesce(NEW.decimals, kpi_definitions.decimals), is_default = false
             WHERE kpi = NEW.kpi AND is_default;
        ELSIF TG_TABLE_NAME = 'kpi_targets' THEN
            UPDATE cxkpi.kpi_targets SET target = NEW.target, red_threshold = NEW.red_threshold,
                   yellow_threshold = NEW.yellow_threshold, min_sample_size = NEW.min_sample_size,
                   recovery_margin = NEW.recovery_margin, enabled = NEW.enabled, is_default = false
             WHERE kpi = NEW.kpi AND dimension = NEW.dimension AND valid_from = NEW.valid_from AND is_default;
        ELSIF TG_TABLE_NAME = 'intervention_rules' THEN
            UPDATE cxkpi.intervention_rules SET priority = NEW.priority, intervention = NEW.intervention,
                   description = NEW.description, churn_risk = NEW.churn_risk, gone = NEW.gone,
                   min_value_at_stake = NEW.min_value_at_stake, min_historic_value = NEW.min_historic_value,
                   nps_group = NEW.nps_group, nps_within_days = NEW.nps_within_days, open_ticket = NEW.open_ticket,
                   abandoned_cart_within_days = NEW.abandoned_cart_within_days, min_return_rate = NEW.min_return_rate,
                   lapsed_loyalty = NEW.lapsed_loyalty, enabled = NEW.enabled, is_default = false
             WHERE rule = NEW.rule AND is_default;
        ELSIF TG_TABLE_NAME = 'sentiment_lexicon' THEN
            UPDATE cxkpi.sentiment_lexicon SET weight = NEW.weight, is_default = false
             WHERE word = NEW.word AND is_default;
        ELSE
            UPDATE cxkpi.settings SET value = NEW.value, description = NEW.description, is_default = false
             WHERE key = NEW.key AND is_default;
        END IF;
        GET DIAGNOSTICS found_default = ROW_COUNT;
        IF found_default > 0 THEN
            RETURN NULL;        -- the built-in row now holds the user's values
        END IF;
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: NEW.source exists only there
            IF NEW.source = 'builtin' THEN
                RAISE EXCEPTION 'KPI "%" cannot have source builtin', NEW.kpi
                    USING ERRCODE = 'check_violation',
                          HINT = 'Built-in KPIs are the ones cxkpi computes; add your own with source metric_observations.';
            END IF;
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = 'kpi_definitions' THEN     -- nested: OLD.source exists only there
            IF OLD.source = 'builtin' AND (NEW.kpi <> OLD.kpi OR NEW.source <> OLD.source) THEN
                RAISE EXCEPTION 'cannot change the key or the source of built-in KPI "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'The rollups compute built-in KPIs by their key; edit the name, unit, direction or formula text instead.';
            END IF;
        END IF;
        -- nor the key of a built-in target: a restore would seed the original key again
        IF TG_TABLE_NAME = 'kpi_targets' THEN
            IF OLD.is_default AND (NEW.kpi, NEW.dimension, NEW.valid_from) IS DISTINCT FROM (OLD.kpi, OLD.dimension, OLD.valid_from) THEN
                RAISE EXCEPTION 'cannot change the key (kpi, dimension, valid_from) of a built-in target of "%"', OLD.kpi
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a new target row with its dimension or valid_from, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF TG_TABLE_NAME = 'intervention_rules' THEN
            IF OLD.is_default AND NEW.rule IS DISTINCT FROM OLD.rule THEN
                RAISE EXCEPTION 'cannot rename the built-in intervention rule "%"', OLD.rule
                    USING ERRCODE = 'object_in_use',
                          HINT = 'Insert a rule of your own, and set enabled = false on the built-in one if it should no longer apply.';
            END IF;
        END IF;
        IF OLD.is_default AND NEW.is_default AND TG_TABLE_NAME <> 'settings' THEN
            NEW.is_default := false;
        END IF;
        RETURN NEW;
    ELSE
        IF OLD.is_default THEN
            RAISE EXCEPTION 'cannot delete a built-in row of cxkpi.%', TG_TABLE_NAME
                USING ERRCODE = 'object_in_use',
                      HINT = CASE TG_TABLE_NAME WHEN 'kpi_targets'
                                  THEN 'Set enabled = false to switch a built-in target off.'
                                  WHEN 'intervention_rules'
                                  THEN 'Set enabled = false to switch a built-in rule off.'
                                  ELSE 'Edit it with UPDATE instead.' END;
        END IF;
        RETURN OLD;
    END IF;
END $$;

CREATE TRIGGER settings_check BEFORE INSERT OR UPDATE ON cxkpi.settings
    FOR EACH ROW EXECUTE FUNCTION cxkpi.settings_check();
CREATE TRIGGER settings_upsert BEFORE INSERT OR DELETE ON cxkpi.settings
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();
CREATE TRIGGER kpi_definitions_upsert BEFORE INSERT OR UPDATE OR DELETE ON cxkpi.kpi_definitions
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();
CREATE TRIGGER kpi_targets_upsert BEFORE INSERT OR UPDATE OR DELETE ON cxkpi.kpi_targets
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();
CREATE TRIGGER kpi_targets_check BEFORE INSERT OR UPDATE ON cxkpi.kpi_targets
    FOR EACH ROW EXECUTE FUNCTION cxkpi.kpi_targets_check();

INSERT INTO cxkpi.settings (key, value, description, is_default) VALUES
    ('as_of', '', 'Reference date of the scorecard (YYYY-MM-DD); empty = current_date.', true),
    ('scorecard_grain', 'month', 'Period of the scorecard: week, month, quarter or year.', true),
    ('time_zone', 'UTC', 'Time zone that turns timestamps into calendar days.', true),
    ('confidence', '0.95', 'Confidence level of the intervals.', true),
    ('retention_active_window', '1', 'Active window of retention, in periods of the grain (1 = period over period).', true),
    ('loyalty_active_days', '90', 'A loyalty member is active with an order or activity in the last N days.', true),
    ('csat_scale', '5', 'Scale of the CSAT surveys shown on the dashboard.', true),
    ('ces_scale', '7', 'Scale of the CES surveys shown on the dashboard.', true),
    ('alert_grain', 'month', 'Period of the alert states (day, week, month, quarter or year); see docs/alerts.md.', true),
    ('gone_p_alive', '0.1', 'Customers whose P(alive) is below this are considered gone: cxkpi.win_back_list instead of cxkpi.churn_watch_list.', true),
    ('customer_models_interval', '1 hour', 'How often at most a refresh refits the customer models (RFM, CLV, churn scores, recommended interventions) after changed facts; they are always refitted when the reference date moves, by a rebuild, and by CALL cxkpi.refresh_customer_models(). 0: at every refresh that has changes.', true),
    ('alerting', 'true', 'Whether the refresh evaluates alerts (cxkpi.set_alerting, docs/alerts.md); false: the dashboard is kept up to date, the alert states and the outbox are left alone.', true),
    ('peak_weeks', '8', 'Weeks of the usual level of today so far (the same weekday in the N weeks before, cxkpi_bi.kpi_today) and of the peak-period heat map (cxkpi_bi.kpi_heatmap), 1 to 52.', true);

-- Seed 000 (targets and action triggers), 001 (returns), 002-004 (CLV, CES, repeat, acquisition).
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default) VALUES
    ('nps', 'Net Promoter Score', 'satisfaction', 'points', 'higher_is_better',
     '100 * (promoters - detractors) / responses, 0-10 scale', 'builtin', -100, 100, true),
    ('csat', 'Customer satisfaction (mean score)', 'satisfaction', 'score', 'higher_is_better',
     'mean CSAT score on the csat_scale (default 1-5)', 'builtin', NULL, NULL, true),
    ('csat_satisfied_pct', 'Customer satisfaction (% satisfied)', 'satisfaction', 'percent', 'higher_is_better',
     '100 * top-2-box responses / responses', 'builtin', 0, 100, true),
    ('ces', 'Customer Effort Score (mean)', 'satisfaction', 'score', 'higher_is_better',
     'mean CES 2.0 agreement score (1-7, higher is easier)', 'builtin', NULL, NULL, true),
    ('conversion_rate', 'Conversion rate', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * converted visits / visits (web and app sessions; store transactions / store visitors)', 'builtin', 0, 100, true),
    ('aov', 'Average order value', 'purchase_experience', 'currency', 'higher_is_better',
     '(gross value - discounts) / orders', 'builtin', 0, NULL, true),
    ('cart_abandonment_rate', 'Cart abandonment rate', 'purchase_experience', 'percent', 'lower_is_better',
     '100 * (carts created - carts converted in session) / carts created', 'builtin', 0, 100, true),
    ('cart_recovery_rate', 'Cart recovery rate', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * abandoned carts later recovered / abandoned carts', 'builtin', 0, 100, true),
    ('response_time_hours', 'First response time (mean)', 'service_quality', 'hours', 'lower_is_better',
     'mean of first response - created, in hours, over tickets with a response', 'builtin', 0, NULL, true),
    ('response_time_median_hours', 'First response time (median)', 'service_quality', 'hours', 'lower_is_better',
     'median of first response - created, in hours', 'builtin', 0, NULL, true),
    ('response_time_p90_hours', 'First response time (90th percentile)', 'service_quality', 'hours', 'lower_is_better',
     '90th percentile (continuous) of first response - created, in hours', 'builtin', 0, NULL, true),
    ('resolution_rate', 'Resolution rate', 'service_quality', 'percent', 'higher_is_better',
     '100 * tickets created in the period and resolved / tickets created in the period', 'builtin', 0, 100, true),
    ('first_contact_resolution_rate', 'First contact resolution', 'service_quality', 'percent', 'higher_is_better',
     '100 * resolved tickets with one contact and no reopen / resolved tickets', 'builtin', 0, 100, true),
    ('retention_rate', 'Customer retention rate', 'loyalty_retention', 'percent', 'higher_is_better',
     '100 * customers active at the end of the previous period and of this one / customers active at the end of the previous period', 'builtin', 0, 100, true),
    ('churn_rate', 'Churn rate', 'loyalty_retention', 'percent', 'lower_is_better',
     '100 - retention_rate', 'builtin', 0, 100, true),
    ('loyalty_members', 'Loyalty programme members', 'loyalty_retention', 'count', 'higher_is_better',
     'members enrolled by the end of the period', 'builtin', 0, NULL, true),
    ('loyalty_active_share', 'Active loyalty members', 'loyalty_retention', 'percent', 'higher_is_better',
     '100 * members with an order or activity in the last loyalty_active_days days / members, at the end of the period', 'builtin', 0, 100, true),
    ('app_rating', 'Mobile app rating', 'digital_experience', 'score', 'higher_is_better',
     'mean app store rating (1-5 stars)', 'builtin', 1, 5, true),
    ('app_active_users', 'Mobile app active users', 'digital_experience', 'count', 'higher_is_better',
     'weighted mean of observed active user counts (e.g. one observation per day from the app analytics)', 'metric_observations', 0, NULL, true),
    ('website_load_time_seconds', 'Website load time', 'digital_experience', 'seconds', 'lower_is_better',
     'weighted mean of observed load times', 'metric_observations', 0, NULL, true),
    ('uptime_pct', 'Website uptime', 'digital_experience', 'percent', 'higher_is_better',
     'weighted mean of observed uptime (weight = minutes covered)', 'metric_observations', 0, 100, true),
    ('mobile_optimization_score', 'Mobile optimisation score', 'digital_experience', 'score', 'higher_is_better',
     'weighted mean of observed scores (0-100)', 'metric_observations', 0, 100, true),
    ('staff_training_hours', 'Staff training hours per year', 'operational_efficiency', 'hours', 'higher_is_better',
     'weighted mean of observed training hours per employee and year', 'metric_observations', 0, 8784, true),
    ('certification_share_pct', 'Customer service certification', 'operational_efficiency', 'percent', 'higher_is_better',
     'weighted mean of the observed share of certified staff', 'metric_observations', 0, 100, true),
    ('mystery_shopper_score_pct', 'Mystery shopper score', 'operational_efficiency', 'percent', 'higher_is_better',
     'weighted mean of mystery shopper scores', 'metric_observations', 0, 100, true),
    ('protocol_adherence_pct', 'Service protocol adherence', 'operational_efficiency', 'percent', 'higher_is_better',
     'weighted mean of observed protocol adherence', 'metric_observations', 0, 100, true),
    ('return_rate', 'Return rate', 'returns', 'percent', 'lower_is_better',
     '100 * orders with at least one return / orders (order-date basis)', 'builtin', 0, 100, true),
    ('item_return_rate', 'Item return rate', 'returns', 'percent', 'lower_is_better',
     '100 * items returned / items ordered', 'builtin', 0, 100, true),
    ('value_return_rate', 'Value return rate', 'returns', 'percent', 'lower_is_better',
     '100 * returned value / net order value', 'builtin', 0, 100, true),
    ('full_return_rate', 'Orders returned completely', 'returns', 'percent', 'lower_is_better',
     '100 * orders with every item returned / orders', 'builtin', 0, 100, true),
    ('first_order_return_rate', 'Return rate, first orders', 'returns', 'percent', 'lower_is_better',
     '100 * first orders of a customer with a return / first orders', 'builtin', 0, 100, true),
    ('repeat_order_return_rate', 'Return rate, repeat orders', 'returns', 'percent', 'lower_is_better',
     '100 * later orders of a customer with a return / later orders', 'builtin', 0, 100, true),
    ('avg_return_value', 'Average return value', 'returns', 'currency', 'lower_is_better',
     'returned value / orders with a return', 'builtin', 0, NULL, true),
    ('merchant_initiated_share', 'Merchant-initiated returns', 'returns', 'percent', 'lower_is_better',
     '100 * returns created by staff / returns (return-request date basis)', 'builtin', 0, 100, true),
    ('avg_days_to_return', 'Average days from order to return', 'returns', 'days', 'lower_is_better',
     'mean of return request day - order day (return-request date basis)', 'builtin', 0, NULL, true),
    ('returns_csat', 'Returns CSAT (mean score)', 'returns', 'score', 'higher_is_better',
     'mean CSAT score of surveys on the returns touchpoint', 'builtin', NULL, NULL, true),
    ('repeat_customer_rate', 'Repeat customer rate', 'customer_value', 'percent', 'higher_is_better',
     '100 * customers who ordered on two or more days of the period / customers who ordered in it', 'builtin', 0, 100, true),
    ('purchase_frequency', 'Purchase frequency', 'customer_value', 'ratio', 'higher_is_better',
     'orders / customers who ordered, in the period', 'builtin', 0, NULL, true),
    ('new_customers', 'New customers', 'customer_value', 'count', 'higher_is_better',
     'customers acquired in the period (customers.acquired_on)', 'builtin', 0, NULL, true),
    ('cac', 'Customer acquisition cost', 'customer_value', 'currency', 'lower_is_better',
     'acquisition cost / customers acquired in the period', 'builtin', 0, NULL, true),
    ('clv_simple', 'Customer lifetime value (simple)', 'customer_value', 'currency', 'higher_is_better',
     'AOV * purchase frequency * expected lifespan in periods (100 / churn_rate), all at the same grain', 'builtin', 0, NULL, true),
    -- issue 17: engagement across channels (seed 002) and social-media sentiment (seed 003)
    ('engagement_rate', 'Engagement rate', 'digital_experience', 'percent', 'higher_is_better',
     '100 * customers with an interaction (email open or click, social interaction, site visit, app session, store visit) / customers reached (any engagement event), distinct customers of the period; by channel: engaged in that channel / reached', 'builtin', 0, 100, true),
    ('email_open_rate', 'Email open rate', 'digital_experience', 'percent', 'higher_is_better',
     '100 * emails opened / emails sent', 'builtin', 0, 100, true),
    ('email_click_rate', 'Email click rate', 'digital_experience', 'percent', 'higher_is_better',
     '100 * emails clicked / emails sent', 'builtin', 0, 100, true),
    ('interactions_per_customer', 'Interactions per engaged customer', 'digital_experience', 'ratio', 'higher_is_better',
     'interactions / customers with an interaction, in the period; by channel: that channel''s', 'builtin', 0, NULL, true),
    ('net_sentiment', 'Net social sentiment', 'digital_experience', 'points', 'higher_is_better',
     '100 * (positive mentions - negative mentions) / mentions', 'builtin', -100, 100, true),
    ('positive_mention_share', 'Positive mentions', 'digital_experience', 'percent', 'higher_is_better',
     '100 * positive mentions / mentions', 'builtin', 0, 100, true),
    ('neutral_mention_share', 'Neutral mentions', 'digital_experience', 'percent', 'higher_is_better',
     '100 * neutral mentions / mentions', 'builtin', 0, 100, true),
    ('negative_mention_share', 'Negative mentions', 'digital_experience', 'percent', 'lower_is_better',
     '100 * negative mentions / mentions', 'builtin', 0, 100, true);

-- Issue 17 (seeds 002, 003): resolution time beside the first response time, each acquisition
-- channel's share of the new customers, delivery times and on-time delivery.
INSERT INTO cxkpi.kpi_definitions (kpi, name, section, unit, direction, formula, source, value_min, value_max, is_default) VALUES
    ('resolution_time_hours', 'Resolution time (mean)', 'service_quality', 'hours', 'lower_is_better',
     'mean of resolved - created, in hours, over the tickets created in the period and resolved', 'builtin', 0, NULL, true),
    ('resolution_time_median_hours', 'Resolution time (median)', 'service_quality', 'hours', 'lower_is_better',
     'median of resolved - created, in hours', 'builtin', 0, NULL, true),
    ('resolution_time_p90_hours', 'Resolution time (90th percentile)', 'service_quality', 'hours', 'lower_is_better',
     '90th percentile (continuous) of resolved - created, in hours', 'builtin', 0, NULL, true),
    ('new_customer_share', 'New customers by acquisition channel (share)', 'customer_value', 'percent', 'higher_is_better',
     '100 * customers acquired through the channel / customers acquired, in the period (one row per acquisition channel)', 'builtin', 0, 100, true),
    ('delivery_time_days', 'Delivery time (mean)', 'purchase_experience', 'days', 'lower_is_better',
     'mean of delivered - ordered, in days, over the orders placed in the period and delivered', 'builtin', 0, NULL, true),
    ('delivery_time_median_days', 'Delivery time (median)', 'purchase_experience', 'days', 'lower_is_better',
     'median of delivered - ordered, in days', 'builtin', 0, NULL, true),
    ('delivery_time_p90_days', 'Delivery time (90th percentile)', 'purchase_experience', 'days', 'lower_is_better',
     '90th percentile (continuous) of delivered - ordered, in days', 'builtin', 0, NULL, true),
    ('on_time_delivery_rate', 'On-time delivery', 'purchase_experience', 'percent', 'higher_is_better',
     '100 * orders delivered by the promised time / delivered orders with a promise (orders placed in the period)', 'builtin', 0, 100, true);

-- Seed 000's targets and action triggers.  Red and yellow are the "Action Triggers"; minimum
-- sample sizes are cxkpi's defaults (a status needs that many observations).
INSERT INTO cxkpi.kpi_targets (kpi, target, red_threshold, yellow_threshold, min_sample_size, recovery_margin, is_default) VALUES
    ('nps',                       50,      35,   NULL, 100, 2,   true),
    ('csat',                      4.5,     4.0,  NULL, 30, 0.05, true),
    ('conversion_rate',           4.0,     NULL, 2.8,  100, 0.1, true),
    ('aov',                       145,     NULL, NULL, 30, 0,   true),
    ('cart_abandonment_rate',     60,      75,   NULL, 30, 1,   true),
    ('response_time_hours',       1,       4,    NULL, 30, 0.25, true),
    ('resolution_rate',           95,      NULL, 85,   30, 1,   true),
    ('retention_rate',            75,      NULL, 65,   30, 1,   true),
    ('loyalty_members',           3000000, NULL, NULL, 0, 0,   true),
    ('app_rating',                4.4,     NULL, NULL, 30, 0,   true),
    ('website_load_time_seconds', 2.0,     NULL, NULL, 1, 0,   true),
    ('staff_training_hours',      50,      NULL, NULL, 1, 0,   true);

-------------------------------------------------------------------------------------------------
-- Settings accessors and the status logic (reused by alerting)
-------------------------------------------------------------------------------------------------

-- SECURITY DEFINER: the views call it, and the reader role, which reads the views and nothing
-- else, has no privilege on cxkpi.settings.
CREATE FUNCTION cxkpi.setting(key text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT s.value FROM cxkpi.settings AS s WHERE s.key = setting.key $$;
COMMENT ON FUNCTION cxkpi.setting(text) IS 'The value of a cxkpi.settings key (NULL if unknown).';

-- Functions that the reader views call run with the reader's rights, and a BI login has no USAGE
-- on schema cxkpi (docs/bi.md#privileges): their bodies must not look names up in cxkpi when they
-- run.  A SQL-standard body (RETURN ...) is parsed once, here, and still inlined.
CREATE FUNCTION cxkpi.as_of() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(nullif(cxkpi.setting('as_of'), '')::date,
                    (now() AT TIME ZONE cxkpi.setting('time_zone'))::date);
COMMENT ON FUNCTION cxkpi.as_of() IS
    'Reference date of the scorecard: setting as_of, or current_date when it is empty.';

-- Raises 22023 for a grain that is not day, week, month, quarter or year (cxkpi.grain_interval
-- calls it, so that it stays a plain SQL expression the planner inlines).
CREATE FUNCTION cxkpi.invalid_grain(grain text) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'unknown grain "%"', grain USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Use day, week, month, quarter or year.';
END $$;
COMMENT ON FUNCTION cxkpi.invalid_grain(text) IS 'Internal: raises 22023 for an unknown grain.';

-- The length of one period of a grain, as an interval (NULL for NULL).  Plain SQL, inlined into
-- the views' period arithmetic.
CREATE FUNCTION cxkpi.grain_interval(grain text) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN grain IS NULL THEN NULL::interval
                WHEN grain = 'day' THEN interval '1 day' WHEN grain = 'week' THEN interval '7 days'
                WHEN grain = 'month' THEN interval '1 month' WHEN grain = 'quarter' THEN interval '3 months'
                WHEN grain = 'year' THEN interval '1 year' ELSE cxkpi.invalid_grain(grain) END;
COMMENT ON FUNCTION cxkpi.grain_interval(text) IS 'Length of one period of a grain (day, week, month, quarter, year).';

-- The first day of the previous period and of the same period a year earlier (52 weeks earlier
-- for days and weeks, so that weekdays line up); NULL for NULL.  Plain SQL (SQL-standard bodies,
-- parsed here: the reader views call them with the rights of a BI login, which has no USAGE on
-- schema cxkpi; docs/bi.md#privileges), inlined by the planner; cxkpi.kpi_values joins each
-- period to these at refresh.
CREATE FUNCTION cxkpi.previous_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE grain WHEN 'day' THEN period_start - 1 WHEN 'week' THEN period_start - 7
                ELSE (period_start - cxkpi.grain_interval(grain))::date END;
COMMENT ON FUNCTION cxkpi.previous_period_start(text, date) IS
    'First day of the period before the one starting on period_start, at the same grain.';
CREATE FUNCTION cxkpi.year_ago_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN grain IN ('day', 'week') THEN period_start - 364
                ELSE (period_start - interval '1 year')::date END;
COMMENT ON FUNCTION cxkpi.year_ago_period_start(text, date) IS
    'First day of the same period a year earlier: same calendar month / quarter / year, or 52 weeks earlier for days and weeks.';

-- The period of grain g that contains day d: [start, end], end inclusive.
CREATE FUNCTION cxkpi.period_bounds(grain text, d date, OUT period_start date, OUT period_end date)
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF grain NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown grain "%"', grain USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF NOT isfinite(d) THEN
        RAISE EXCEPTION 'date % is not finite', d USING ERRCODE = 'datetime_field_overflow';
    END IF;
    period_start := date_trunc(grain, d::timestamp)::date;
    -- not cxkpi.grain_interval(): the reader views call this function, and a plpgsql body looks
    -- names up with the caller's rights (docs/bi.md#privileges)
    period_end := (period_start + CASE grain WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
                                             WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'
                                             ELSE interval '1 year' END)::date - 1;
END $$;
COMMENT ON FUNCTION cxkpi.period_bounds(text, date) IS
    'First and last day of the day / ISO week / month / quarter / year containing a date.';

-- Whether a value meets its target: at least the target when higher is better, below it when
-- lower is better (seed 000 writes lower-is-better targets as "<60%", "<1 hour").
CREATE FUNCTION cxkpi.meets_target(direction text, value double precision, target double precision)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE direction WHEN 'higher_is_better' THEN value >= target
                                WHEN 'lower_is_better' THEN value < target END;
COMMENT ON FUNCTION cxkpi.meets_target(text, double precision, double precision) IS
    'True when a value meets its target (>= target if higher is better, < target if lower is better).';

-- Raises 22023 for a KPI direction that is neither higher_is_better nor lower_is_better (the
-- status functions call it, so that they stay plain SQL expressions the planner inlines).
CREATE FUNCTION cxkpi.invalid_direction(direction text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'invalid KPI direction "%"', direction USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Use higher_is_better or lower_is_better.';
END $$;
COMMENT ON FUNCTION cxkpi.invalid_direction(text) IS 'Internal: raises 22023 for an unknown KPI direction.';

-- The status of one KPI value, worst first (docs/dashboard.md#status):
--   'no target'          neither a target nor a threshold is set;
--   'insufficient data'  no value, or fewer observations than min_sample_size (or none);
--   'red'                beyond the red threshold (strictly: below it when higher is better,
--                        above it when lower is better): seed 000's red flag;
--   'yellow'             likewise for the yellow threshold: the yellow flag;
--   'off target'         no flag, but the target is missed (cxkpi.meets_target);
--   'green'              no flag, and the target is met or there is none.
-- The one definition of the status: the views, the scorecard and the alert levels
-- (cxkpi.alert_level) call it; cxkpi.kpi_flag and cxkpi.status_rank derive from its result.  A
-- plain SQL expression, so that the planner inlines it into the views.
CREATE FUNCTION cxkpi.kpi_status(direction text, value double precision, sample_size bigint,
                                 target double precision, red_threshold double precision,
                                 yellow_threshold double precision, min_sample_size bigint DEFAULT 1)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN direction IS DISTINCT FROM 'higher_is_better' AND direction IS DISTINCT FROM 'lower_is_better'
            THEN cxkpi.invalid_direction(direction)
        WHEN red_threshold IS NULL AND yellow_threshold IS NULL AND target IS NULL THEN 'no target'
        WHEN value IS NULL OR value = 'NaN' OR coalesce(sample_size, 0) < greatest(coalesce(min_sample_size, 1), 1)
            THEN 'insufficient data'
        WHEN direction = 'higher_is_better' AND value < red_threshold THEN 'red'
        WHEN direction = 'lower_is_better' AND value > red_threshold THEN 'red'
        WHEN direction = 'higher_is_better' AND value < yellow_threshold THEN 'yellow'
        WHEN direction = 'lower_is_better' AND value > yellow_threshold THEN 'yellow'
        WHEN NOT cxkpi.meets_target(direction, value, target) THEN 'off target'
        ELSE 'green'
    END;
COMMENT ON FUNCTION cxkpi.kpi_status(text, double precision, bigint, double precision, double precision, double precision, bigint) IS
    'Status of a KPI value: red / yellow (seed 000''s action triggers, strict: NPS 35 is not below 35), off target (no trigger, target missed), green (no trigger, target met or none), insufficient data or no target.';

-- Seed 000's action flag of a status: 'red' or 'yellow', NULL for every other status.
CREATE FUNCTION cxkpi.kpi_flag(status text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'red' THEN 'red' WHEN 'yellow' THEN 'yellow' END;
COMMENT ON FUNCTION cxkpi.kpi_flag(text) IS
    'The action flag of a status (cxkpi.kpi_status): red or yellow, NULL otherwise.';

-- A numeric rank of a status for BI tools (colour scales, sorting worst first): red 1, yellow 2,
-- off target 3, green 4; NULL for insufficient data and no target (nothing to rank).
CREATE FUNCTION cxkpi.status_rank(status text) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'red' THEN 1::bigint WHEN 'yellow' THEN 2::bigint WHEN 'off target' THEN 3::bigint
                             WHEN 'green' THEN 4::bigint END;
COMMENT ON FUNCTION cxkpi.status_rank(text) IS
    'Rank of a status, worst first: red 1, yellow 2, off target 3, green 4; NULL for insufficient data, no target or anything else.';

-- The effective targets of every KPI, as spans of days: for each KPI and each dimension value
-- that has rows of its own ('' for the overall rows), from each day on which a row of its own or
-- an overall row of the KPI takes effect (valid_from) until the next such day (valid_until,
-- exclusive; NULL: open-ended), the target and thresholds then in effect.  Of the enabled rows of
-- the KPI valid on that day (latest valid_from on or before it), the one of the dimension value
-- and the overall one; each of target, red_threshold, yellow_threshold, min_sample_size and
-- recovery_margin comes from the dimension row when it sets it, else from the overall row
-- (min_sample_size defaults to 30, recovery_margin to 0).  The one definition of the effective
-- target: cxkpi.effective_target() looks a value up in it, and the views join it once per query
-- (a few dozen rows, hashed) instead of looking targets up row by row.  SECURITY DEFINER:
-- cxkpi_reader cannot read cxkpi.kpi_targets, and the views show the targets anyway.
CREATE FUNCTION cxkpi.target_spans()
    RETURNS TABLE (kpi text, dimension text, valid_from date, valid_until date, target double precision,
                   red_threshold double precision, yellow_threshold double precision, min_sample_size bigint,
                   recovery_margin double precision)
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 50
AS $$
    WITH kt AS (SELECT * FROM cxkpi.kpi_targets AS t WHERE t.enabled),
    -- the days from which the effective target of (kpi, dimension) can change
    b AS (SELECT k.kpi, k.dimension, t.valid_from
          FROM (SELECT DISTINCT kt.kpi, kt.dimension FROM kt) AS k
          JOIN kt AS t ON t.kpi = k.kpi AND t.dimension IN (k.dimension, '')
          GROUP BY 1, 2, 3)
    SELECT b.kpi, b.dimension, b.valid_from,
           lead(b.valid_from) OVER (PARTITION BY b.kpi, b.dimension ORDER BY b.valid_from),
           coalesce(d.target, o.target), coalesce(d.red_threshold, o.red_threshold),
           coalesce(d.yellow_threshold, o.yellow_threshold), coalesce(d.min_sample_size, o.min_sample_size, 30),
           coalesce(d.recovery_margin, o.recovery_margin, 0)
    FROM b
    LEFT JOIN LATERAL (SELECT * FROM kt WHERE kt.kpi = b.kpi AND kt.dimension = b.dimension AND b.dimension <> ''
                                          AND kt.valid_from <= b.valid_from
                       ORDER BY kt.valid_from DESC LIMIT 1) AS d ON true
    LEFT JOIN LATERAL (SELECT * FROM kt WHERE kt.kpi = b.kpi AND kt.dimension = '' AND kt.valid_from <= b.valid_from
                       ORDER BY kt.valid_from DESC LIMIT 1) AS o ON true
$$;
COMMENT ON FUNCTION cxkpi.target_spans() IS
    'Effective targets as spans of days: per KPI and dimension value with rows of its own ('''' = overall), from valid_from to valid_until (exclusive, NULL = open), the target, thresholds, minimum sample and recovery margin in effect (each from the dimension''s row when it sets it, else from the overall row).';

-- The target and thresholds that apply to a KPI value of a dimension value in the period
-- starting on period_start: the span of the dimension value when it has rows of its own, else
-- the overall span (cxkpi.target_spans).  No row when the KPI has no enabled row for the day.
-- For one value at a time (the alerting, the scorecard's rows without data); the views join
-- cxkpi.target_spans() the same way.
CREATE FUNCTION cxkpi.effective_target(kpi text, dimension text, period_start date)
    RETURNS TABLE (target double precision, red_threshold double precision, yellow_threshold double precision,
                   min_sample_size bigint, recovery_margin double precision)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(d.target, o.target), coalesce(d.red_threshold, o.red_threshold),
           coalesce(d.yellow_threshold, o.yellow_threshold), coalesce(d.min_sample_size, o.min_sample_size),
           coalesce(d.recovery_margin, o.recovery_margin)
    FROM (SELECT) AS one
    LEFT JOIN cxkpi.target_spans() AS d
           ON d.kpi = $1 AND d.dimension = $2 AND d.dimension <> '' AND d.valid_from <= $3
          AND ($3 < d.valid_until OR d.valid_until IS NULL)
    LEFT JOIN cxkpi.target_spans() AS o
           ON o.kpi = $1 AND o.dimension = '' AND o.valid_from <= $3 AND ($3 < o.valid_until OR o.valid_until IS NULL)
    WHERE d.kpi IS NOT NULL OR o.kpi IS NOT NULL;
END;
COMMENT ON FUNCTION cxkpi.effective_target(text, text, date) IS
    'Target, thresholds, minimum sample and recovery margin of a KPI for a dimension value and period start: each from the dimension''s row of cxkpi.kpi_targets when it sets it, else from the overall row (latest enabled valid_from on or before the day).';

-- Wilson interval of a proportion x/n, in percent, from the CSAT yes/no summary (the same C
-- code as every other Wilson interval of cxkpi).
CREATE FUNCTION cxkpi.wilson_ci_lower(successes bigint, trials bigint, confidence double precision DEFAULT 0.95)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN trials > 0 AND successes BETWEEN 0 AND trials THEN
                 @extschema@.csat_ci_lower(format('(v1,scale=2,n=%s,counts={%s,%s})', trials, trials - successes,
                                                  successes)::@extschema@.csat_summary, confidence) END $$;
CREATE FUNCTION cxkpi.wilson_ci_upper(successes bigint, trials bigint, confidence double precision DEFAULT 0.95)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN trials > 0 AND successes BETWEEN 0 AND trials THEN
                 @extschema@.csat_ci_upper(format('(v1,scale=2,n=%s,counts={%s,%s})', trials, trials - successes,
                                                  successes)::@extschema@.csat_summary, confidence) END $$;
COMMENT ON FUNCTION cxkpi.wilson_ci_lower(bigint, bigint, double precision) IS
    'Lower end of the Wilson interval of successes/trials, in percent (NULL when trials = 0).';
COMMENT ON FUNCTION cxkpi.wilson_ci_upper(bigint, bigint, double precision) IS
    'Upper end of the Wilson interval of successes/trials, in percent (NULL when trials = 0).';

-------------------------------------------------------------------------------------------------
-- Data tables (docs/data-model.md)
-------------------------------------------------------------------------------------------------

CREATE TABLE cxkpi.customers (
    customer_id         bigint PRIMARY KEY,
    acquired_on         date NOT NULL CHECK (isfinite(acquired_on)),
    acquisition_channel text NOT NULL DEFAULT 'unknown'
        CHECK (acquisition_channel IN ('organic_search', 'paid_search', 'social', 'email', 'referral',
               'affiliate', 'display', 'direct', 'store', 'app', 'other', 'unknown')),
    acquisition_cost    numeric(14, 2) NOT NULL DEFAULT 0 CHECK (acquisition_cost >= 0)
);
COMMENT ON TABLE cxkpi.customers IS
    'One row per customer: acquisition date, channel and cost (CAC = cost / customers acquired). The segment new / returning / loyalty is derived per order.';

CREATE TABLE cxkpi.loyalty_members (
    customer_id    bigint PRIMARY KEY REFERENCES cxkpi.customers,
    enrolled_on    date NOT NULL CHECK (isfinite(enrolled_on)),
    last_active_on date CHECK (last_active_on >= enrolled_on AND isfinite(last_active_on)),
    tier           text NOT NULL DEFAULT 'standard' CHECK (tier <> '')
);
COMMENT ON TABLE cxkpi.loyalty_members IS
    'Loyalty programme members: enrolment date, tier, and optionally the date of the last known activity (it counts as an activity on that day only; record every activity in cxkpi.loyalty_activity).';

-- Programme activity of the members besides their orders: what makes a member active in a
-- period (with their orders on or after enrolling), see docs/data-model.md#loyalty_activity.
CREATE TABLE cxkpi.loyalty_activity (
    customer_id bigint NOT NULL REFERENCES cxkpi.loyalty_members,
    active_at   timestamptz NOT NULL CHECK (isfinite(active_at)),
    kind        text NOT NULL DEFAULT 'other' CHECK (kind IN ('earn', 'redeem', 'visit', 'other')),
    PRIMARY KEY (customer_id, active_at, kind)
);
COMMENT ON TABLE cxkpi.loyalty_activity IS
    'One row per loyalty programme activity of a member besides orders: points earned outside an order (earn), a reward redeemed (redeem), a visit of the programme in the app or on the web (visit), other. A member is active at the end of a period with an activity or an order, on or after enrolling, in the loyalty_active_days days up to it.';

-- An activity cannot precede the member's enrolment day: refused when it is before that day in
-- every time zone (before its midnight at UTC+14), also when an enrolment date is changed later.
-- Not in the time zone of the setting time_zone: the check must hold whatever the setting (a
-- later change of it, a restore that loads the rows before the settings); the dashboard counts
-- days in time_zone and ignores activity before the enrolment day there.  Statement-level, with
-- the transition table: one join per statement, whatever the size of the load.
CREATE FUNCTION cxkpi.loyalty_activity_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad record;
BEGIN
    IF TG_TABLE_NAME = 'loyalty_activity' THEN
        SELECT n.customer_id, n.active_at, m.enrolled_on INTO bad
        FROM new_rows AS n JOIN cxkpi.loyalty_members AS m USING (customer_id)
        WHERE n.active_at < (m.enrolled_on::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
        LIMIT 1;
    ELSE
        SELECT a.customer_id, a.active_at, n.enrolled_on INTO bad
        FROM new_rows AS n JOIN cxkpi.loyalty_activity AS a USING (customer_id)
        WHERE a.active_at < (n.enrolled_on::timestamp AT TIME ZONE 'UTC') - interval '14 hours'
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'loyalty activity of member % is before the enrolment', bad.customer_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('active_at %s is before %s in every time zone (enrolled_on %s).',
                                  bad.active_at AT TIME ZONE 'UTC', bad.enrolled_on, bad.enrolled_on),
                  HINT = 'Activity counts from the enrolment day on; correct active_at or enrolled_on.';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER loyalty_activity_insert_check AFTER INSERT ON cxkpi.loyalty_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.loyalty_activity_check();
CREATE TRIGGER loyalty_activity_update_check AFTER UPDATE ON cxkpi.loyalty_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.loyalty_activity_check();
CREATE TRIGGER loyalty_members_activity_check AFTER UPDATE ON cxkpi.loyalty_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.loyalty_activity_check();

CREATE TABLE cxkpi.orders (
    order_id    bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES cxkpi.customers,
    ordered_at  timestamptz NOT NULL CHECK (isfinite(ordered_at)),
    channel     text NOT NULL CHECK (channel IN ('store', 'web_desktop', 'web_mobile', 'app')),
    items       integer NOT NULL CHECK (items > 0),
    gross_value numeric(14, 2) NOT NULL CHECK (gross_value >= 0),
    discount    numeric(14, 2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    CONSTRAINT orders_discount_le_gross CHECK (discount <= gross_value)
);
CREATE INDEX orders_customer_idx ON cxkpi.orders (customer_id, ordered_at);
COMMENT ON TABLE cxkpi.orders IS
    'One row per order: channel (store, web_desktop, web_mobile, app), items, gross value and discount; net value = gross_value - discount.';

CREATE TABLE cxkpi.order_returns (
    return_id      bigint PRIMARY KEY,
    order_id       bigint NOT NULL REFERENCES cxkpi.orders,
    requested_at   timestamptz NOT NULL CHECK (isfinite(requested_at)),
    received_at    timestamptz CHECK (isfinite(received_at)),
    items_returned integer NOT NULL CHECK (items_returned > 0),
    value_returned numeric(14, 2) NOT NULL CHECK (value_returned >= 0),
    initiated_by   text NOT NULL DEFAULT 'customer' CHECK (initiated_by IN ('customer', 'merchant')),
    reason         text,
    CONSTRAINT order_returns_received_after_request CHECK (received_at >= requested_at)
);
CREATE INDEX order_returns_order_idx ON cxkpi.order_returns (order_id);
COMMENT ON TABLE cxkpi.order_returns IS
    'One row per return (an order can have several): items and value returned, request and receipt times, and who created it.';

-- Cross-row rules of returns: a return is requested after its order, and the returns of an order
-- never exceed its items or its net value.
CREATE FUNCTION cxkpi.order_returns_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o record;
    tot_items bigint;
    tot_value numeric;
BEGIN
    -- lock the order: concurrent returns of one order are checked one after the other
    SELECT * INTO o FROM cxkpi.orders WHERE order_id = NEW.order_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;    -- the foreign key reports it
    END IF;
    IF NEW.requested_at < o.ordered_at THEN
        RAISE EXCEPTION 'return % is requested before its order % was placed', NEW.return_id, NEW.order_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('requested_at %s, ordered_at %s.', NEW.requested_at, o.ordered_at);
    END IF;
    SELECT sum(items_returned), sum(value_returned) INTO tot_items, tot_value
      FROM cxkpi.order_returns WHERE order_id = NEW.order_id;
    IF tot_items > o.items OR tot_value > o.gross_value - o.discount THEN
        RAISE EXCEPTION 'returns of order % exceed the order', NEW.order_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('%s items worth %s returned of %s items worth %s.', tot_items, tot_value,
                                  o.items, o.gross_value - o.discount);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER order_returns_check AFTER INSERT OR UPDATE ON cxkpi.order_returns
    FOR EACH ROW EXECUTE FUNCTION cxkpi.order_returns_check();

-- The same rules when an order with returns is changed: it keeps room for its returns.
CREATE FUNCTION cxkpi.orders_returns_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tot_items bigint;
    tot_value numeric;
    first_request timestamptz;
BEGIN
    SELECT sum(items_returned), sum(value_returned), min(requested_at) INTO tot_items, tot_value, first_request
      FROM cxkpi.order_returns WHERE order_id = NEW.order_id;
    IF tot_items > NEW.items OR tot_value > NEW.gross_value - NEW.discount THEN
        RAISE EXCEPTION 'order % would be smaller than its returns', NEW.order_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('%s items worth %s returned of %s items worth %s.', tot_items, tot_value,
                                  NEW.items, NEW.gross_value - NEW.discount);
    END IF;
    IF first_request < NEW.ordered_at THEN
        RAISE EXCEPTION 'order % would be placed after its return was requested', NEW.order_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('ordered_at %s, first return requested at %s.', NEW.ordered_at, first_request);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER orders_returns_check AFTER UPDATE OF items, gross_value, discount, ordered_at ON cxkpi.orders
    FOR EACH ROW EXECUTE FUNCTION cxkpi.orders_returns_check();

CREATE TABLE cxkpi.survey_responses (
    response_id  bigint PRIMARY KEY,
    responded_at timestamptz NOT NULL CHECK (isfinite(responded_at)),
    survey       text NOT NULL CHECK (survey IN ('nps', 'csat', 'ces')),
    score        integer NOT NULL,
    scale        integer NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('store', 'web', 'app', 'email', 'chat', 'phone',
                                                  'returns', 'delivery', 'other')),
    customer_id  bigint REFERENCES cxkpi.customers,
    order_id     bigint REFERENCES cxkpi.orders,
    comment      text,
    CONSTRAINT survey_responses_scale CHECK (
        (survey = 'nps' AND scale = 10) OR (survey = 'csat' AND scale IN (2, 3, 5, 7, 10))
        OR (survey = 'ces' AND scale IN (5, 7))),
    CONSTRAINT survey_responses_score_in_scale CHECK (
        score BETWEEN CASE survey WHEN 'nps' THEN 0 ELSE 1 END AND scale)
);
COMMENT ON TABLE cxkpi.survey_responses IS
    'One row per answer of three different surveys: nps (0-10), csat (1-scale; scale 2 = no/yes) and ces (CES 2.0, 1-5 or 1-7, higher is easier), with touchpoint channel and comment. Never aggregate score over the whole table: read cxkpi.nps_responses, cxkpi.csat_responses or cxkpi.ces_responses (or filter on survey).';
COMMENT ON COLUMN cxkpi.survey_responses.survey IS 'Which survey the answer belongs to: nps, csat or ces. Scores of different surveys do not mix.';
COMMENT ON COLUMN cxkpi.survey_responses.score IS
    'Answer on the scale of its survey (nps 0-10, csat and ces 1-scale). Filter on survey before aggregating, or read cxkpi.nps_responses, cxkpi.csat_responses, cxkpi.ces_responses: nps(score) over every row mixes CSAT and CES answers into the NPS.';
COMMENT ON COLUMN cxkpi.survey_responses.scale IS 'Highest point of the answer scale: 10 for nps; 2 (no/yes), 3, 5, 7 or 10 for csat; 5 or 7 for ces.';

CREATE TABLE cxkpi.web_sessions (
    session_id       bigint PRIMARY KEY,
    started_at       timestamptz NOT NULL CHECK (isfinite(started_at)),
    device           text NOT NULL CHECK (device IN ('desktop', 'mobile', 'tablet', 'app')),
    customer_id      bigint REFERENCES cxkpi.customers,
    added_to_cart    boolean NOT NULL DEFAULT false,
    reached_checkout boolean NOT NULL DEFAULT false,
    converted        boolean NOT NULL DEFAULT false,
    CONSTRAINT web_sessions_funnel CHECK ((NOT converted OR reached_checkout) AND (NOT reached_checkout OR added_to_cart))
);
COMMENT ON TABLE cxkpi.web_sessions IS
    'One row per web or app session (visit) with its funnel steps: added to cart, reached checkout, converted (ordered).';

CREATE TABLE cxkpi.store_traffic (
    store_id   text NOT NULL CHECK (store_id <> ''),
    visit_date date NOT NULL CHECK (isfinite(visit_date)),
    visitors   bigint NOT NULL CHECK (visitors >= 0),
    PRIMARY KEY (store_id, visit_date)
);
COMMENT ON TABLE cxkpi.store_traffic IS
    'Footfall counter per store and day: in-store conversion = store orders / store visitors.';

CREATE TABLE cxkpi.carts (
    cart_id      bigint PRIMARY KEY,
    created_at   timestamptz NOT NULL CHECK (isfinite(created_at)),
    device       text NOT NULL CHECK (device IN ('desktop', 'mobile', 'tablet', 'app')),
    customer_id  bigint REFERENCES cxkpi.customers,
    converted_at timestamptz CHECK (converted_at >= created_at AND isfinite(converted_at)),
    abandoned_at timestamptz CHECK (abandoned_at >= created_at AND isfinite(abandoned_at)),
    recovered_at timestamptz CHECK (recovered_at >= created_at AND isfinite(recovered_at)),
    CONSTRAINT carts_converted_or_abandoned CHECK (converted_at IS NULL OR abandoned_at IS NULL),
    CONSTRAINT carts_recovered_after_abandonment CHECK (
        recovered_at IS NULL OR (converted_at IS NULL AND (abandoned_at IS NULL OR recovered_at >= abandoned_at)))
);
COMMENT ON TABLE cxkpi.carts IS
    'One row per cart: created, converted in its session, abandoned (not converted), recovered (bought later, e.g. after a reminder).';

CREATE TABLE cxkpi.support_tickets (
    ticket_id           bigint PRIMARY KEY,
    customer_id         bigint REFERENCES cxkpi.customers,
    channel             text NOT NULL CHECK (channel IN ('email', 'chat', 'phone')),
    created_at          timestamptz NOT NULL CHECK (isfinite(created_at)),
    first_response_at   timestamptz CHECK (first_response_at >= created_at AND isfinite(first_response_at)),
    resolved_at         timestamptz CHECK (resolved_at >= created_at AND isfinite(resolved_at)),
    contacts_to_resolve integer CHECK (contacts_to_resolve >= 1),
    reopened            boolean NOT NULL DEFAULT false,
    CONSTRAINT support_tickets_contacts_need_resolution CHECK (contacts_to_resolve IS NULL OR resolved_at IS NOT NULL)
);
COMMENT ON TABLE cxkpi.support_tickets IS
    'One row per support ticket: channel (email, chat, phone), created, first public staff response, resolved, contacts needed, reopened.';

CREATE TABLE cxkpi.app_ratings (
    rating_id   bigint PRIMARY KEY,
    rated_at    timestamptz NOT NULL CHECK (isfinite(rated_at)),
    app_store   text NOT NULL CHECK (app_store IN ('app_store', 'google_play', 'other')),
    rating      integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    app_version text,
    comment     text
);
COMMENT ON TABLE cxkpi.app_ratings IS 'One row per app store rating (1-5 stars).';

CREATE TABLE cxkpi.metric_observations (
    kpi         text NOT NULL REFERENCES cxkpi.kpi_definitions ON UPDATE CASCADE,
    observed_at timestamptz NOT NULL CHECK (isfinite(observed_at)),
    dimension   text NOT NULL DEFAULT '' CHECK (dimension <> 'all'),
    value       double precision NOT NULL CHECK (value BETWEEN -1e300 AND 1e300),
    weight      double precision NOT NULL DEFAULT 1 CHECK (weight > 0 AND weight <= 1e300),
    PRIMARY KEY (kpi, dimension, observed_at)
);
COMMENT ON TABLE cxkpi.metric_observations IS
    'Secondary metrics measured elsewhere (load time, uptime, mobile score, training hours, certification, mystery shopper, protocol adherence): one value per KPI, dimension ('''' = overall) and time; periods report the weighted mean.';

-- An observation must name a metric_observations KPI and lie in its declared range.
CREATE FUNCTION cxkpi.metric_observations_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d record;
BEGIN
    SELECT * INTO d FROM cxkpi.kpi_definitions WHERE kpi = NEW.kpi;
    IF NOT FOUND THEN
        RETURN NEW;     -- the foreign key reports it
    END IF;
    IF d.source <> 'metric_observations' THEN
        RAISE EXCEPTION 'KPI "%" is computed from the data model, not observed', NEW.kpi
            USING ERRCODE = 'check_violation',
                  HINT = 'Observations are for KPIs whose source is metric_observations in cxkpi.kpi_definitions.';
    END IF;
    IF NEW.value < d.value_min OR NEW.value > d.value_max THEN
        RAISE EXCEPTION 'value % of KPI "%" is out of range', NEW.value, NEW.kpi
            USING ERRCODE = 'check_violation',
                  DETAIL = format('The range is %s to %s.', coalesce(d.value_min::text, '-inf'), coalesce(d.value_max::text, 'inf'));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER metric_observations_check BEFORE INSERT OR UPDATE ON cxkpi.metric_observations
    FOR EACH ROW EXECUTE FUNCTION cxkpi.metric_observations_check();

-- pg_dump: user data of every data table, and only the user rows of the config tables.
SELECT pg_catalog.pg_extension_config_dump('cxkpi.settings', 'WHERE NOT is_default');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.kpi_definitions', 'WHERE NOT is_default');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.kpi_targets', 'WHERE NOT is_default');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.customers', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.loyalty_members', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.orders', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.order_returns', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.survey_responses', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.web_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.store_traffic', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.carts', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.support_tickets', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.app_ratings', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.metric_observations', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.loyalty_activity', '');

-- Deliveries (issue 17, seed 002): one row per order sent to the customer (web and app orders;
-- store and click-and-collect orders have none).  shipped_at is when the order left, delivered_at
-- when it reached the customer (NULL: on its way), promised_by the delivery promised at checkout
-- (NULL: none).  The rows of an order's delivery are the order's own facts: the order must exist
-- (foreign key, which is also its index) and be placed before it is shipped and promised
-- (cxkpi.order_deliveries_check, and cxkpi.orders_deliveries_check when the order changes).
CREATE TABLE cxkpi.order_deliveries (
    order_id     bigint PRIMARY KEY REFERENCES cxkpi.orders,
    shipped_at   timestamptz NOT NULL CHECK (isfinite(shipped_at)),
    delivered_at timestamptz CHECK (isfinite(delivered_at)),
    promised_by  timestamptz CHECK (isfinite(promised_by)),
    carrier      text CHECK (carrier <> ''),
    CONSTRAINT order_deliveries_delivered_after_shipping CHECK (delivered_at >= shipped_at)
);
COMMENT ON TABLE cxkpi.order_deliveries IS
    'One row per delivered or shipped order (web and app; store orders have none): shipped, delivered (NULL: on its way), promised delivery time (NULL: none) and carrier.';
COMMENT ON COLUMN cxkpi.order_deliveries.shipped_at IS 'When the order left the warehouse (at or after ordered_at).';
COMMENT ON COLUMN cxkpi.order_deliveries.delivered_at IS 'When it reached the customer (at or after shipped_at); NULL while on its way.';
COMMENT ON COLUMN cxkpi.order_deliveries.promised_by IS 'Delivery promised to the customer by this time (at or after ordered_at); NULL: no promise. On time: delivered_at <= promised_by.';
COMMENT ON COLUMN cxkpi.order_deliveries.carrier IS 'Carrier (free text), or NULL.';

-- A delivery is shipped and promised after its order is placed.
CREATE FUNCTION cxkpi.order_deliveries_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    placed timestamptz;
BEGIN
    SELECT o.ordered_at INTO placed FROM cxkpi.orders AS o WHERE o.order_id = NEW.order_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;    -- the foreign key reports it
    END IF;
    IF NEW.shipped_at < placed OR NEW.promised_by < placed THEN
        RAISE EXCEPTION 'delivery of order % is % before the order was placed', NEW.order_id,
                        CASE WHEN NEW.shipped_at < placed THEN 'shipped' ELSE 'promised' END
            USING ERRCODE = 'check_violation',
                  DETAIL = format('ordered_at %s, shipped_at %s, promised_by %s.', placed, NEW.shipped_at, NEW.promised_by);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER order_deliveries_check AFTER INSERT OR UPDATE ON cxkpi.order_deliveries
    FOR EACH ROW EXECUTE FUNCTION cxkpi.order_deliveries_check();

-- The same rule when a delivered order is moved: it stays placed before its delivery.
CREATE FUNCTION cxkpi.orders_deliveries_check() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d record;
BEGIN
    SELECT * INTO d FROM cxkpi.order_deliveries WHERE order_id = NEW.order_id;
    IF FOUND AND (d.shipped_at < NEW.ordered_at OR d.promised_by < NEW.ordered_at) THEN
        RAISE EXCEPTION 'order % would be placed after its delivery was shipped or promised', NEW.order_id
            USING ERRCODE = 'check_violation',
                  DETAIL = format('ordered_at %s, shipped_at %s, promised_by %s.', NEW.ordered_at, d.shipped_at, d.promised_by);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER orders_deliveries_check AFTER UPDATE OF ordered_at ON cxkpi.orders
    FOR EACH ROW EXECUTE FUNCTION cxkpi.orders_deliveries_check();
SELECT pg_catalog.pg_extension_config_dump('cxkpi.order_deliveries', '');
