-- Personalised intervention recommendations (docs/interventions.md): every built-in rule on a
-- customer built for it (sample data at scale 0.05 for the CLV models; the customers are
-- "quiet" ones of it, given exactly the signals of the rule), priorities and ties, switched-off
-- and edited rules, the configuration-row rules, the summary and the predicted next order.
BEGIN;
SET client_min_messages = warning;
SELECT plan(32);
DO $$ BEGIN PERFORM cxkpi.set_alerting(false); PERFORM cxkpi.generate_sample_data(scale => 0.05, seed => 42); END $$;
CALL cxkpi.refresh_dashboard(false);
SELECT is(cxkpi.as_of(), date '2026-01-01', 'the sample data''s reference date');

-- Customers with orders and not gone, without an NPS answer or a ticket; "quiet" ones also
-- without a cart, a returned order or a loyalty membership.  Slipping away: high churn risk and
-- 200 or more at stake (the win-back offer's conditions).
CREATE TEMP TABLE quiet AS
SELECT s.customer_id, s.churn_risk_13w, s.value_at_stake_52w_currency AS stake, s.purchases, s.last_purchase,
       s.churn_risk_13w = 'high' AND s.value_at_stake_52w_currency >= 200 AS slipping,
       NOT EXISTS (SELECT 1 FROM cxkpi.carts AS c WHERE c.customer_id = s.customer_id)
       AND NOT EXISTS (SELECT 1 FROM cxkpi.loyalty_members AS m WHERE m.customer_id = s.customer_id)
       AND NOT EXISTS (SELECT 1 FROM cxkpi.orders AS o JOIN cxkpi.order_returns AS x USING (order_id) WHERE o.customer_id = s.customer_id)
           AS quiet
FROM cxkpi.customer_scores AS s
WHERE NOT s.gone
  AND NOT EXISTS (SELECT 1 FROM cxkpi.survey_responses AS r WHERE r.customer_id = s.customer_id AND r.survey = 'nps')
  AND NOT EXISTS (SELECT 1 FROM cxkpi.support_tickets AS t WHERE t.customer_id = s.customer_id);
SELECT ok((SELECT count(*) FILTER (WHERE slipping) >= 2 AND count(*) FILTER (WHERE quiet AND NOT slipping AND purchases >= 4) >= 5 FROM quiet),
          'the sample has customers of both kinds');
SELECT is((SELECT count(*) FROM cxkpi.customer_intervention_picks WHERE customer_id IN (SELECT customer_id FROM quiet WHERE quiet AND NOT slipping)),
          0::bigint, 'a customer without signals who is not slipping away gets no recommendation');

-- The cast: A and B slipping away (high churn risk, 200 or more at stake), the others not.
CREATE TEMP TABLE cast_ (role text PRIMARY KEY, customer_id bigint);
INSERT INTO cast_ SELECT 'a', customer_id FROM quiet WHERE slipping ORDER BY stake DESC, customer_id LIMIT 1;
INSERT INTO cast_ SELECT 'b', customer_id FROM quiet WHERE slipping ORDER BY stake DESC, customer_id OFFSET 1 LIMIT 1;
INSERT INTO cast_ SELECT role, customer_id FROM (
    SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS n FROM quiet
    WHERE quiet AND NOT slipping AND purchases >= 4 AND last_purchase < date '2026-01-01' - 90) AS q
JOIN (VALUES (1, 'c'), (2, 'e'), (3, 'f'), (4, 'g'), (5, 'h')) AS v(n, role) USING (n);
INSERT INTO cxkpi.customers (customer_id, acquired_on, acquisition_channel, acquisition_cost)
VALUES (900000001, '2025-12-20', 'email', 0);
INSERT INTO cast_ VALUES ('d', 900000001);
SELECT is((SELECT count(*) FROM cast_), 8::bigint, 'eight customers cast');

-- A: a detractor 10 days ago with an open ticket: service-recovery call (before the win-back offer).
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id)
SELECT 900000001, '2025-12-22 10:00+00', 'nps', 3, 10, 'email', customer_id FROM cast_ WHERE role = 'a';
INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at)
SELECT 900000001, customer_id, 'phone', '2025-12-20 09:00+00' FROM cast_ WHERE role = 'a';
-- C: a promoter 200 days ago, then a detractor 30 days ago: the last answer counts.
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id)
SELECT 900000002, timestamptz '2025-06-15 10:00+00', 'nps', 10, 10, 'web', customer_id FROM cast_ WHERE role = 'c'
UNION ALL SELECT 900000003, '2025-12-02 10:00+00', 'nps', 2, 10, 'web', customer_id FROM cast_ WHERE role = 'c';
-- D: a new customer without orders, a cart abandoned 3 days ago.
INSERT INTO cxkpi.carts (cart_id, created_at, device, customer_id, abandoned_at)
VALUES (900000001, '2025-12-29 18:00+00', 'mobile', 900000001, '2025-12-29 19:00+00');
-- E: a return on half of the orders (rounded up).
INSERT INTO cxkpi.order_returns (return_id, order_id, requested_at, received_at, items_returned, value_returned, initiated_by, reason)
SELECT 900000000 + n, order_id, ordered_at + interval '3 days', ordered_at + interval '6 days', 1, 10, 'customer', 'size'
FROM (SELECT o.order_id, o.ordered_at, row_number() OVER (ORDER BY o.order_id) AS n, count(*) OVER () AS orders
      FROM cxkpi.orders AS o JOIN cast_ USING (customer_id) WHERE cast_.role = 'e') AS q
WHERE n <= ceil(orders / 2.0);
-- F: a loyalty member since 2024 without an order or activity in the last 90 days.
INSERT INTO cxkpi.loyalty_members (customer_id, enrolled_on, tier) SELECT customer_id, '2024-03-01', 'silver' FROM cast_ WHERE role = 'f';
-- G: a promoter 5 days ago.  H: a promoter 200 days ago (too long ago for a referral request).
INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id)
SELECT 900000004, timestamptz '2025-12-27 10:00+00', 'nps', 10, 10, 'app', customer_id FROM cast_ WHERE role = 'g'
UNION ALL SELECT 900000005, '2025-06-15 10:00+00', 'nps', 9, 10, 'app', customer_id FROM cast_ WHERE role = 'h';
CALL cxkpi.refresh_dashboard(false);
-- The customer models are refitted at most every customer_models_interval (default 1 hour) after
-- changed facts (docs/architecture.md#customer-models), or at once on request; from here on, at
-- every refresh with changes.
SELECT is((SELECT models_stale FROM cxkpi.dashboard_state), true,
          'customer_models_interval 1 hour: a refresh right after the last fit leaves the customer models as they were, marked stale');
CALL cxkpi.refresh_customer_models(false);
SELECT is((SELECT models_stale FROM cxkpi.dashboard_state), false, 'CALL cxkpi.refresh_customer_models() refits them at once');
UPDATE cxkpi.settings SET value = '0' WHERE key = 'customer_models_interval';
SELECT throws_ok($$UPDATE cxkpi.settings SET value = '8 days' WHERE key = 'customer_models_interval'$$, '22023', NULL,
                 'customer_models_interval: at most 7 days');

CREATE TEMP VIEW picks AS
SELECT c.role, i.rule, i.reasons FROM cast_ AS c LEFT JOIN cxkpi.customer_interventions AS i USING (customer_id);
SELECT is((SELECT rule FROM picks WHERE role = 'a'), 'service_recovery_call', 'A: high-value detractor with an open ticket: service-recovery call');
SELECT is((SELECT reasons FROM picks WHERE role = 'a'),
          (SELECT format('not gone; value at stake %s; NPS 3 on 2025-12-22; 1 open ticket', round(stake::numeric, 2))
           FROM quiet JOIN cast_ USING (customer_id) WHERE role = 'a'),
          'with the reasons the rule tested');
SELECT is((SELECT rule FROM picks WHERE role = 'b'), 'win_back_offer', 'B: slipping away: win-back offer');
SELECT is((SELECT reasons FROM picks WHERE role = 'b'),
          (SELECT format('churn risk high; not gone; value at stake %s', round(stake::numeric, 2))
           FROM quiet JOIN cast_ USING (customer_id) WHERE role = 'b'), 'churn risk, not gone, value at stake');
SELECT is((SELECT rule FROM picks WHERE role = 'c'), 'detractor_follow_up', 'C: the last answer (a detractor 30 days ago) counts, not the promoter before');
SELECT is((SELECT rule FROM picks WHERE role = 'd'), 'cart_reminder', 'D: a customer without orders and a cart abandoned 3 days ago: cart reminder');
SELECT is((SELECT (i.churn_risk_13w, i.p_alive, i.predicted_next_order)::text FROM cxkpi.customer_interventions AS i WHERE customer_id = 900000001),
          '(,,)', 'and no model scores (no orders)');
SELECT is((SELECT rule FROM picks WHERE role = 'e'), 'returns_advice', 'E: returns on half the orders: size and fit advice');
SELECT is((SELECT rule FROM picks WHERE role = 'f'), 'loyalty_reactivation', 'F: a lapsed loyalty member: re-activation');
SELECT is((SELECT rule FROM picks WHERE role = 'g'), 'referral_request', 'G: a promoter 5 days ago: referral request');
SELECT is((SELECT rule FROM picks WHERE role = 'h'), NULL, 'H: a promoter 200 days ago: nothing');

-- The predicted next order of B by hand: as_of + 7 (alpha + T) / (r + x - 1) days.
SELECT is((SELECT predicted_next_order FROM cxkpi.customer_interventions JOIN cast_ USING (customer_id) WHERE role = 'b'),
          (SELECT date '2026-01-01' + round(7 * (p.alpha + s.age_weeks) / (p.r + s.repeat_purchase_days - 1))::integer
           FROM cxkpi.customer_scores AS s JOIN cast_ USING (customer_id), cxkpi.clv_models AS m, bgnbd_params(m.bgnbd) AS p
           WHERE role = 'b'), 'predicted next order: as_of + E[1/lambda | alive] of the BG/NBD posterior');

-- Priorities and ties: a rule of the user's at priority 10 for every valuable customer comes
-- before the service-recovery call (same priority, "a..." < "s..."); switched off, it does not.
INSERT INTO cxkpi.intervention_rules (rule, priority, intervention, gone, min_historic_value) VALUES ('a_vip_call', 10, 'VIP call', false, 0);
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT rule FROM picks WHERE role = 'a'), 'a_vip_call', 'equal priorities: the rule first by name');
UPDATE cxkpi.intervention_rules SET enabled = false WHERE rule = 'a_vip_call';
UPDATE cxkpi.intervention_rules SET priority = 25 WHERE rule = 'service_recovery_call';
CALL cxkpi.refresh_dashboard(false);
SELECT is((SELECT rule FROM picks WHERE role = 'a'), 'win_back_offer', 'a switched-off rule is skipped; the edited priority 25 comes after the win-back offer (20)');
SELECT is((SELECT is_default FROM cxkpi.intervention_rules WHERE rule = 'service_recovery_call'), false, 'an edited built-in rule is the user''s (dumped)');

-- The summary: one row per enabled rule, with the customers of the picks.
SELECT is((SELECT string_agg(format('%s %s', rule, customers), ', ' ORDER BY priority, rule) FROM cxkpi.intervention_summary WHERE rule <> 'a_vip_call'),
          (SELECT string_agg(format('%s %s', r.rule, (SELECT count(*) FROM cxkpi.customer_intervention_picks AS p WHERE p.rule = r.rule)), ', '
                             ORDER BY r.priority, r.rule)
           FROM cxkpi.intervention_rules AS r WHERE r.enabled), 'the summary counts the picks of each enabled rule');
SELECT is((SELECT count(*) FROM cxkpi.intervention_summary WHERE rule = 'a_vip_call'), 0::bigint, 'and leaves switched-off rules out');
SELECT is((SELECT sum(customers) FROM cxkpi_bi.intervention_summary), (SELECT count(*) FROM cxkpi_bi.customer_interventions)::numeric,
          'cxkpi_bi: every recommendation counted once');

-- Configuration rows, as for the targets: built-in rules are not deleted or renamed; a rule
-- needs a condition; a restored built-in rule replaces the seeded one.
SELECT throws_ok($$DELETE FROM cxkpi.intervention_rules WHERE rule = 'cart_reminder'$$, '55006', NULL, 'a built-in rule cannot be deleted');
SELECT throws_ok($$UPDATE cxkpi.intervention_rules SET rule = 'cart_nudge' WHERE rule = 'cart_reminder'$$, '55006', NULL, 'nor renamed');
SELECT throws_ok($$INSERT INTO cxkpi.intervention_rules (rule, priority, intervention) VALUES ('everyone', 1, 'Say hello')$$, '23514', NULL,
                 'a rule without a condition is refused');
SELECT throws_ok($$INSERT INTO cxkpi.intervention_rules (rule, priority, intervention, churn_risk) VALUES ('odd', 1, 'x', '{severe}')$$, '23514', NULL,
                 'an unknown churn risk band is refused');
INSERT INTO cxkpi.intervention_rules (rule, priority, intervention, abandoned_cart_within_days) VALUES ('cart_reminder', 45, 'Cart reminder', 3);
SELECT is((SELECT (count(*), min(priority), min(abandoned_cart_within_days), bool_or(is_default))::text FROM cxkpi.intervention_rules WHERE rule = 'cart_reminder'),
          '(1,45,3,f)', 'inserting a built-in rule''s key (what pg_restore does) replaces it, no duplicate');
SELECT lives_ok($$DELETE FROM cxkpi.intervention_rules WHERE rule = 'a_vip_call'$$, 'a rule of the user''s can be deleted');
SELECT is((SELECT count(*) FROM cxkpi.intervention_rules WHERE is_default), 5::bigint, 'seven built-in rules, two edited above');

SELECT * FROM finish();
ROLLBACK;
