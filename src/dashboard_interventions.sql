-- The CX dashboard, part 6: personalised intervention recommendations (seed 000's predictive
-- analytics; docs/interventions.md).  An editable rule table maps customer signals (the churn
-- risk and value at stake of the CLV models, the last NPS answer, open tickets, abandoned carts,
-- the personal return rate, lapsed loyalty membership) to an intervention with a priority; at
-- each refresh every customer gets the first rule, by priority, whose conditions all hold.

-- The rules.  A NULL condition is "any"; a rule with no condition at all matches everyone and is
-- refused.  Built-in rows (is_default) are seeded below; edit them with UPDATE (they are then
-- dumped), switch them off with enabled = false, add your own with INSERT.
CREATE TABLE cxkpi.intervention_rules (
    rule                       text PRIMARY KEY CHECK (rule ~ '^[a-z][a-z0-9_]*$'),
    priority                   integer NOT NULL CHECK (priority > 0),
    intervention               text NOT NULL CHECK (intervention <> ''),
    description                text,
    churn_risk                 text[] CHECK (churn_risk <@ ARRAY['low', 'medium', 'high'] AND cardinality(churn_risk) > 0),
    gone                       boolean,
    min_value_at_stake         double precision CHECK (min_value_at_stake >= 0),
    min_historic_value         double precision CHECK (min_historic_value >= 0),
    nps_group                  text CHECK (nps_group IN ('detractor', 'passive', 'promoter')),
    nps_within_days            integer CHECK (nps_within_days > 0),
    open_ticket                boolean,
    abandoned_cart_within_days integer CHECK (abandoned_cart_within_days > 0),
    min_return_rate            double precision CHECK (min_return_rate > 0 AND min_return_rate <= 100),
    lapsed_loyalty             boolean,
    enabled                    boolean NOT NULL DEFAULT true,
    is_default                 boolean NOT NULL DEFAULT false,
    CONSTRAINT intervention_rules_condition CHECK (
        num_nonnulls(churn_risk, gone, min_value_at_stake, min_historic_value, nps_group, open_ticket,
                     abandoned_cart_within_days, min_return_rate, lapsed_loyalty) > 0),
    CONSTRAINT intervention_rules_nps_within CHECK (nps_within_days IS NULL OR nps_group IS NOT NULL)
);
COMMENT ON TABLE cxkpi.intervention_rules IS
    'Intervention rules: a customer gets the enabled rule of lowest priority (then rule name) whose conditions all hold (NULL = any), computed at each refresh into cxkpi.customer_interventions.';
COMMENT ON COLUMN cxkpi.intervention_rules.rule IS 'Key of the rule (lower-case identifier).';
COMMENT ON COLUMN cxkpi.intervention_rules.priority IS 'Order in which rules are tried, 1 first; ties by rule.';
COMMENT ON COLUMN cxkpi.intervention_rules.intervention IS 'What to do, as the CX team reads it.';
COMMENT ON COLUMN cxkpi.intervention_rules.description IS 'Why and how, for the people who act on it.';
COMMENT ON COLUMN cxkpi.intervention_rules.churn_risk IS 'The customer''s churn risk over 13 weeks is one of these (low, medium, high).';
COMMENT ON COLUMN cxkpi.intervention_rules.gone IS 'The model considers the customer gone (true) or not (false): P(alive) below the setting gone_p_alive.';
COMMENT ON COLUMN cxkpi.intervention_rules.min_value_at_stake IS 'Value at stake over 52 weeks (CLV if kept - CLV expected now) at least this.';
COMMENT ON COLUMN cxkpi.intervention_rules.min_historic_value IS 'Net value of all orders up to as_of at least this.';
COMMENT ON COLUMN cxkpi.intervention_rules.nps_group IS 'The customer''s last NPS answer is of this group (detractor 0-6, passive 7-8, promoter 9-10).';
COMMENT ON COLUMN cxkpi.intervention_rules.nps_within_days IS 'and was given at most this many days before as_of.';
COMMENT ON COLUMN cxkpi.intervention_rules.open_ticket IS 'The customer has an open ticket (not resolved by as_of) or one reopened in the last 30 days (true), or neither (false).';
COMMENT ON COLUMN cxkpi.intervention_rules.abandoned_cart_within_days IS 'An abandoned cart, neither converted nor recovered, in the last this many days.';
COMMENT ON COLUMN cxkpi.intervention_rules.min_return_rate IS 'At least this percentage of the customer''s orders had a return (customers with 3 orders or more).';
COMMENT ON COLUMN cxkpi.intervention_rules.lapsed_loyalty IS 'A loyalty member without an order or programme activity in the last loyalty_active_days days (true), or an active one (false).';
COMMENT ON COLUMN cxkpi.intervention_rules.enabled IS 'false switches the rule off.';
COMMENT ON COLUMN cxkpi.intervention_rules.is_default IS 'A built-in rule of cxkpi (not dumped unless edited).';

-- Built-in rules may be edited or switched off but not renamed or deleted (a restore would seed
-- them again); the generic handling of built-in configuration rows is cxkpi.config_row_upsert.
CREATE TRIGGER intervention_rules_upsert BEFORE INSERT OR UPDATE OR DELETE ON cxkpi.intervention_rules
    FOR EACH ROW EXECUTE FUNCTION cxkpi.config_row_upsert();

INSERT INTO cxkpi.intervention_rules (rule, priority, intervention, description, churn_risk, gone, min_value_at_stake,
                                      nps_group, nps_within_days, open_ticket, abandoned_cart_within_days,
                                      min_return_rate, lapsed_loyalty, is_default) VALUES
    ('service_recovery_call', 10, 'Service-recovery call',
     'A valuable customer who said they would not recommend us and has a ticket open: a senior agent calls, resolves the ticket and follows up.',
     NULL, false, 100, 'detractor', 180, true, NULL, NULL, NULL, true),
    ('win_back_offer', 20, 'Win-back offer',
     'A valuable customer slipping away (high churn risk, much value still at stake): a personal offer before they are gone.',
     '{high}', false, 200, NULL, NULL, NULL, NULL, NULL, NULL, true),
    ('detractor_follow_up', 30, 'Detractor follow-up',
     'A recent detractor: ask what went wrong and close the loop.',
     NULL, false, NULL, 'detractor', 90, NULL, NULL, NULL, NULL, true),
    ('cart_reminder', 40, 'Cart reminder',
     'A cart abandoned in the last week, neither converted nor recovered: a reminder with the items.',
     NULL, NULL, NULL, NULL, NULL, NULL, 7, NULL, NULL, true),
    ('returns_advice', 50, 'Size and fit advice',
     'Half or more of the customer''s orders had a return: product advice before the next order.',
     NULL, false, NULL, NULL, NULL, NULL, NULL, 50, NULL, true),
    ('loyalty_reactivation', 60, 'Loyalty re-activation',
     'A loyalty member without an order or programme activity in the active window: points reminder or bonus.',
     NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, true, true),
    ('referral_request', 70, 'Referral or review request',
     'A recent promoter: ask for a referral or a review while the experience is fresh.',
     NULL, false, NULL, 'promoter', 90, NULL, NULL, NULL, NULL, true);
SELECT pg_catalog.pg_extension_config_dump('cxkpi.intervention_rules', 'WHERE NOT is_default');
GRANT SELECT ON cxkpi.intervention_rules TO cxkpi_writer, cxkpi_operator;

-- Every customer's signals as of cxkpi.as_of() and the first matching rule, computed at each
-- refresh (after the customer scores).  Days are counted in the setting time_zone.  The
-- predicted next order date is as_of plus the expected time to the next order of a customer who
-- is still active, E[1/lambda] = (alpha + T) / (r + x - 1) weeks under the BG/NBD posterior of
-- the purchase rate (NULL when r + x <= 1, or for a customer the model considers gone).
CREATE MATERIALIZED VIEW cxkpi.customer_intervention_picks AS
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.as_of() AS as_of, cxkpi.setting('time_zone') AS tz,
           cxkpi.setting('loyalty_active_days')::integer AS loyalty_days),
nps AS (
    SELECT DISTINCT ON (r.customer_id) r.customer_id, r.score, (r.responded_at AT TIME ZONE cfg.tz)::date AS answered_on
    FROM cxkpi.survey_responses AS r, cfg
    WHERE r.survey = 'nps' AND r.customer_id IS NOT NULL AND (r.responded_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
    ORDER BY r.customer_id, r.responded_at DESC, r.response_id DESC),
tickets AS (
    SELECT t.customer_id, count(*) AS open_tickets
    FROM cxkpi.support_tickets AS t, cfg
    WHERE t.customer_id IS NOT NULL AND (t.created_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
      AND (t.resolved_at IS NULL OR (t.resolved_at AT TIME ZONE cfg.tz)::date > cfg.as_of
           OR (t.reopened AND (t.created_at AT TIME ZONE cfg.tz)::date > cfg.as_of - 30))
    GROUP BY t.customer_id),
carts AS (
    SELECT c.customer_id, max((c.abandoned_at AT TIME ZONE cfg.tz)::date) AS last_abandoned_on
    FROM cxkpi.carts AS c, cfg
    WHERE c.customer_id IS NOT NULL AND c.abandoned_at IS NOT NULL AND c.converted_at IS NULL
      AND c.recovered_at IS NULL AND (c.abandoned_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
    GROUP BY c.customer_id),
returns AS (
    SELECT o.customer_id, count(*) AS orders,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cxkpi.order_returns AS x WHERE x.order_id = o.order_id)) AS orders_returned
    FROM cxkpi.orders AS o, cfg
    WHERE (o.ordered_at AT TIME ZONE cfg.tz)::date <= cfg.as_of
    GROUP BY o.customer_id),
loyalty AS (
    SELECT m.customer_id,
           NOT (coalesce(m.last_active_on > cfg.as_of - cfg.loyalty_days AND m.last_active_on <= cfg.as_of, false)
                OR EXISTS (SELECT 1 FROM cxkpi.loyalty_activity AS a
                           WHERE a.customer_id = m.customer_id
                             AND (a.active_at AT TIME ZONE cfg.tz)::date BETWEEN cfg.as_of - cfg.loyalty_days + 1 AND cfg.as_of)
                OR EXISTS (SELECT 1 FROM cxkpi.orders AS o
                           WHERE o.customer_id = m.customer_id
                             AND (o.ordered_at AT TIME ZONE cfg.tz)::date BETWEEN greatest(cfg.as_of - cfg.loyalty_days + 1, m.enrolled_on)
                                                                               AND cfg.as_of)) AS lapsed
    FROM cxkpi.loyalty_members AS m, cfg
    WHERE m.enrolled_on <= cfg.as_of),
sig AS (
    SELECT c.customer_id, cfg.as_of, s.churn_risk_13w, s.p_alive, s.gone, s.value_at_stake_52w_currency,
           s.historic_value_currency,
           n.score AS last_nps_score, n.answered_on AS last_nps_on,
           CASE WHEN n.score <= 6 THEN 'detractor' WHEN n.score <= 8 THEN 'passive' WHEN n.score IS NOT NULL THEN 'promoter' END
               AS nps_group,
           coalesce(t.open_tickets, 0) AS open_tickets, k.last_abandoned_on,
           CASE WHEN r.orders >= 3 THEN 100.0 * r.orders_returned / r.orders END AS return_rate_pct,
           l.lapsed AS lapsed_loyalty,
           CASE WHEN NOT s.gone AND p.r + s.repeat_purchase_days > 1
                THEN cfg.as_of + round(7 * (p.alpha + s.age_weeks) / (p.r + s.repeat_purchase_days - 1))::integer END
               AS predicted_next_order
    FROM cxkpi.customers AS c
    CROSS JOIN cfg
    LEFT JOIN cxkpi.customer_scores AS s USING (customer_id)
    LEFT JOIN cxkpi.clv_models AS m ON true
    LEFT JOIN LATERAL @extschema@.bgnbd_params(m.bgnbd) AS p ON true
    LEFT JOIN nps AS n USING (customer_id)
    LEFT JOIN tickets AS t USING (customer_id)
    LEFT JOIN carts AS k USING (customer_id)
    LEFT JOIN returns AS r USING (customer_id)
    LEFT JOIN loyalty AS l USING (customer_id))
SELECT sig.customer_id, sig.as_of, ir.rule, ir.intervention, ir.priority,
       array_remove(ARRAY[
           CASE WHEN ir.churn_risk IS NOT NULL THEN 'churn risk ' || sig.churn_risk_13w END,
           CASE WHEN ir.gone IS NOT NULL THEN CASE WHEN sig.gone THEN 'gone' ELSE 'not gone' END END,
           CASE WHEN ir.min_value_at_stake IS NOT NULL THEN 'value at stake ' || round(sig.value_at_stake_52w_currency::numeric, 2) END,
           CASE WHEN ir.min_historic_value IS NOT NULL THEN 'spend to date ' || round(sig.historic_value_currency, 2) END,
           CASE WHEN ir.nps_group IS NOT NULL THEN 'NPS ' || sig.last_nps_score || ' on ' || sig.last_nps_on END,
           CASE WHEN ir.open_ticket THEN sig.open_tickets || ' open ticket' || CASE WHEN sig.open_tickets > 1 THEN 's' ELSE '' END
                WHEN ir.open_ticket = false THEN 'no open ticket' END,
           CASE WHEN ir.abandoned_cart_within_days IS NOT NULL THEN 'cart abandoned on ' || sig.last_abandoned_on END,
           CASE WHEN ir.min_return_rate IS NOT NULL THEN 'returns on ' || round(sig.return_rate_pct, 1) || ' % of orders' END,
           CASE WHEN ir.lapsed_loyalty THEN 'lapsed loyalty member' WHEN ir.lapsed_loyalty = false THEN 'active loyalty member' END],
           NULL) AS reasons,
       sig.churn_risk_13w, sig.p_alive, sig.value_at_stake_52w_currency, sig.historic_value_currency,
       sig.predicted_next_order, sig.last_nps_score, sig.last_nps_on, sig.open_tickets, sig.last_abandoned_on,
       sig.return_rate_pct, sig.lapsed_loyalty
FROM sig
JOIN LATERAL (
    SELECT r.* FROM cxkpi.intervention_rules AS r
    WHERE r.enabled
      AND (r.churn_risk IS NULL OR sig.churn_risk_13w = ANY (r.churn_risk))
      AND (r.gone IS NULL OR sig.gone = r.gone)
      AND (r.min_value_at_stake IS NULL OR sig.value_at_stake_52w_currency >= r.min_value_at_stake)
      AND (r.min_historic_value IS NULL OR sig.historic_value_currency >= r.min_historic_value)
      AND (r.nps_group IS NULL OR (sig.nps_group = r.nps_group
                                   AND (r.nps_within_days IS NULL OR sig.last_nps_on > sig.as_of - r.nps_within_days)))
      AND (r.open_ticket IS NULL OR (sig.open_tickets > 0) = r.open_ticket)
      AND (r.abandoned_cart_within_days IS NULL OR sig.last_abandoned_on > sig.as_of - r.abandoned_cart_within_days)
      AND (r.min_return_rate IS NULL OR sig.return_rate_pct >= r.min_return_rate)
      AND (r.lapsed_loyalty IS NULL OR sig.lapsed_loyalty = r.lapsed_loyalty)
    ORDER BY r.priority, r.rule
    LIMIT 1) AS ir ON true;
CREATE UNIQUE INDEX customer_intervention_picks_key ON cxkpi.customer_intervention_picks (customer_id);
CREATE INDEX customer_intervention_picks_rule ON cxkpi.customer_intervention_picks (rule, value_at_stake_52w_currency DESC);
COMMENT ON MATERIALIZED VIEW cxkpi.customer_intervention_picks IS
    'Internal: the recommended intervention of each customer at the last refresh; read it through cxkpi.customer_interventions (cxkpi_bi.customer_interventions).';

-- The recommendations, for reading: one row per customer with a matching rule.
CREATE VIEW cxkpi.customer_interventions AS
SELECT i.customer_id, i.as_of, i.intervention, i.rule, i.priority::bigint AS priority, array_to_string(i.reasons, '; ') AS reasons,
       i.churn_risk_13w, i.p_alive, i.value_at_stake_52w_currency, i.historic_value_currency, i.predicted_next_order,
       i.last_nps_score::bigint AS last_nps_score, i.last_nps_on, i.open_tickets, i.last_abandoned_on, i.return_rate_pct,
       i.lapsed_loyalty
FROM cxkpi.customer_intervention_picks AS i;
COMMENT ON VIEW cxkpi.customer_interventions IS
    'Per customer, the recommended intervention (the first enabled rule of cxkpi.intervention_rules, by priority, whose conditions all hold) and why, with the value at stake and the predicted next order date. As of the last refresh.';
COMMENT ON COLUMN cxkpi.customer_interventions.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.customer_interventions.as_of IS 'Reference date of the signals and scores.';
COMMENT ON COLUMN cxkpi.customer_interventions.intervention IS 'What to do.';
COMMENT ON COLUMN cxkpi.customer_interventions.rule IS 'The rule that chose it.';
COMMENT ON COLUMN cxkpi.customer_interventions.priority IS 'Its priority (1 first).';
COMMENT ON COLUMN cxkpi.customer_interventions.reasons IS 'The signals the rule tested, as the customer has them (reason codes, separated by "; ").';
COMMENT ON COLUMN cxkpi.customer_interventions.churn_risk_13w IS 'low, medium or high probability of no order in the next 13 weeks (NULL without orders).';
COMMENT ON COLUMN cxkpi.customer_interventions.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD).';
COMMENT ON COLUMN cxkpi.customer_interventions.value_at_stake_52w_currency IS 'Value at stake over 52 weeks: CLV if kept - CLV expected now.';
COMMENT ON COLUMN cxkpi.customer_interventions.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.customer_interventions.predicted_next_order IS 'Expected date of the next order if the customer is still active: as_of + (alpha + T) / (r + x - 1) weeks (BG/NBD); NULL for a customer the model considers gone.';
COMMENT ON COLUMN cxkpi.customer_interventions.last_nps_score IS 'Score of the last NPS answer up to as_of.';
COMMENT ON COLUMN cxkpi.customer_interventions.last_nps_on IS 'Day of that answer.';
COMMENT ON COLUMN cxkpi.customer_interventions.open_tickets IS 'Tickets open at as_of, or reopened in the last 30 days.';
COMMENT ON COLUMN cxkpi.customer_interventions.last_abandoned_on IS 'Day of the last abandoned cart neither converted nor recovered.';
COMMENT ON COLUMN cxkpi.customer_interventions.return_rate_pct IS 'Percentage of the customer''s orders with a return (3 orders or more).';
COMMENT ON COLUMN cxkpi.customer_interventions.lapsed_loyalty IS 'A loyalty member without activity in the active window (NULL: not a member).';
GRANT SELECT ON cxkpi.customer_interventions TO cxkpi_reader;

-- For the manager: customers and value per intervention.
CREATE VIEW cxkpi.intervention_summary AS
SELECT r.priority::bigint AS priority, r.rule, r.intervention, count(i.customer_id) AS customers,
       coalesce(sum(i.value_at_stake_52w_currency), 0) AS value_at_stake_52w_currency,
       coalesce(sum(i.historic_value_currency), 0) AS historic_value_currency, max(i.as_of) AS as_of
FROM cxkpi.intervention_rules AS r
LEFT JOIN cxkpi.customer_intervention_picks AS i ON i.rule = r.rule
WHERE r.enabled
GROUP BY r.priority, r.rule, r.intervention;
COMMENT ON VIEW cxkpi.intervention_summary IS
    'Per enabled intervention rule: the customers it is recommended for at the last refresh and their value at stake and spend to date.';
COMMENT ON COLUMN cxkpi.intervention_summary.priority IS 'Priority of the rule (1 first).';
COMMENT ON COLUMN cxkpi.intervention_summary.rule IS 'The rule.';
COMMENT ON COLUMN cxkpi.intervention_summary.intervention IS 'What to do.';
COMMENT ON COLUMN cxkpi.intervention_summary.customers IS 'Customers for whom it is the recommendation.';
COMMENT ON COLUMN cxkpi.intervention_summary.value_at_stake_52w_currency IS 'Their value at stake over 52 weeks, summed.';
COMMENT ON COLUMN cxkpi.intervention_summary.historic_value_currency IS 'Their spend to date, summed.';
COMMENT ON COLUMN cxkpi.intervention_summary.as_of IS 'Reference date of the last refresh (NULL when no customer has it).';
GRANT SELECT ON cxkpi.intervention_summary TO cxkpi_reader;

-- The same for BI logins (schema cxkpi_bi, docs/bi.md), with the comments of the cxkpi views.
CREATE VIEW cxkpi_bi.customer_interventions AS
SELECT i.customer_id, i.as_of, i.intervention, i.rule, i.priority, i.reasons, i.churn_risk_13w, i.p_alive,
       i.value_at_stake_52w_currency, i.historic_value_currency, i.predicted_next_order, i.last_nps_score, i.last_nps_on,
       i.open_tickets, i.last_abandoned_on, i.return_rate_pct, i.lapsed_loyalty
FROM cxkpi.customer_interventions AS i;
CREATE VIEW cxkpi_bi.intervention_summary AS
SELECT s.priority, s.rule, s.intervention, s.customers, s.value_at_stake_52w_currency, s.historic_value_currency, s.as_of
FROM cxkpi.intervention_summary AS s;
DO $$
DECLARE
    v text;
    r record;
BEGIN
    FOREACH v IN ARRAY ARRAY['customer_interventions', 'intervention_summary'] LOOP
        EXECUTE format('COMMENT ON VIEW cxkpi_bi.%I IS %L', v, obj_description(format('cxkpi.%I', v)::regclass, 'pg_class'));
        FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS d FROM pg_attribute AS a
                 WHERE a.attrelid = format('cxkpi.%I', v)::regclass AND a.attnum > 0 LOOP
            EXECUTE format('COMMENT ON COLUMN cxkpi_bi.%I.%I IS %L', v, r.attname, r.d);
        END LOOP;
    END LOOP;
END $$;
GRANT SELECT ON cxkpi_bi.customer_interventions, cxkpi_bi.intervention_summary TO cxkpi_reader;

-- What the customer models depend on besides the facts: the setting gone_p_alive and the
-- intervention rules (a digest of their rows).  A change refits the models at the next refresh.
CREATE FUNCTION cxkpi.customer_models_settings() RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('gone_p_alive', cxkpi.setting('gone_p_alive'),
                              'intervention_rules', (SELECT md5(string_agg(r::text, ',' ORDER BY r.rule))
                                                     FROM cxkpi.intervention_rules AS r)) $$;
COMMENT ON FUNCTION cxkpi.customer_models_settings() IS
    'Internal: the setting gone_p_alive and a digest of cxkpi.intervention_rules, whose change refits the customer models at the next refresh.';
