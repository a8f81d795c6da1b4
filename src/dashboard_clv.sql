-- The CX dashboard, part 4: model-based customer value (docs/dashboard.md#model-based-customer-value).
-- At each refresh: every customer's RFM as of cxkpi.as_of() (weeks, net order values), BG/NBD and
-- Gamma-Gamma fitted over all customers, and per customer P(alive), churn risk, a 52-week
-- discounted CLV, the CLV if still alive and the value at stake (docs/clv.md for the models and
-- their units); the churn watch list and the win-back list read those scores.

-- RFM per customer from the orders up to the reference date (lifetimes conventions, weeks).
CREATE MATERIALIZED VIEW cxkpi.customer_rfm AS
WITH c AS (SELECT cxkpi.setting('time_zone') AS tz, cxkpi.as_of() AS as_of),
r AS (
    SELECT o.customer_id,
           @extschema@.rfm_agg((o.ordered_at AT TIME ZONE c.tz)::date, o.gross_value - o.discount, c.as_of, 7) AS rfm
    FROM cxkpi.orders AS o, c
    WHERE (o.ordered_at AT TIME ZONE c.tz)::date <= c.as_of
    GROUP BY o.customer_id)
SELECT r.customer_id, (r.rfm).frequency, (r.rfm).recency, (r.rfm).t, (r.rfm).monetary_value,
       (r.rfm).first_purchase, (r.rfm).last_purchase, (r.rfm).purchases, (r.rfm).total_amount
FROM r;
CREATE UNIQUE INDEX customer_rfm_key ON cxkpi.customer_rfm (customer_id);

-- The scores of one customer with the models m and g (NULL where a model is NULL; the CLVs NULL
-- when the spend model has q <= 1): P(alive), expected purchases over 52 weeks, probability and
-- risk band of no purchase in 13 weeks, and over 52 weeks, discounted 1 % a month, the CLV and
-- the CLV if still alive.  The one definition of the scores: cxkpi.customer_scores computes
-- them at the refresh, and cxkpi.fit_clv_models checks that they can be computed.
CREATE FUNCTION cxkpi.customer_score(m @extschema@.bgnbd_model, g @extschema@.gamma_gamma_model,
                                     frequency integer, recency double precision, t double precision,
                                     monetary_value double precision)
    RETURNS TABLE (p_alive double precision, expected_purchases_52w double precision,
                   churn_probability_13w double precision, churn_risk_13w text, clv_52w_currency double precision,
                   clv_if_alive_52w_currency double precision)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT @extschema@.p_alive(m, frequency, recency, t),
           @extschema@.expected_purchases(m, 52, frequency, recency, t),
           @extschema@.prob_no_purchase(m, 13, frequency, recency, t),
           @extschema@.churn_risk(m, frequency, recency, t, 13),
           CASE WHEN (@extschema@.gamma_gamma_params(g)).q > 1 THEN
               @extschema@.clv(m, g, frequency, recency, t, monetary_value, 52, 0.01, 365.25 / 12 / 7) END,
           CASE WHEN (@extschema@.gamma_gamma_params(g)).q > 1 THEN
               @extschema@.clv_if_alive(m, g, frequency, recency, t, monetary_value, 52, 0.01, 365.25 / 12 / 7) END
    OFFSET 0 $$;
COMMENT ON FUNCTION cxkpi.customer_score(@extschema@.bgnbd_model, @extschema@.gamma_gamma_model, integer, double precision, double precision, double precision) IS
    'Internal: the scores of one customer (P(alive), expected purchases 52 weeks, no purchase in 13 weeks, CLV and CLV if alive over 52 weeks discounted 1 % a month) with the dashboard''s models.';

-- Fits both models over cxkpi.customer_rfm.  A model that cannot be fitted (no repeat customer
-- yet, too few customers, an optimiser that does not converge), or whose predictions cannot be
-- computed for every customer (the extreme parameters of a weakly identified fit, where neither
-- the series nor the quadrature of an expectation is accurate), is NULL, with the reason in
-- fit_error: the customer value view then shows NULL scores, never scores from a model that did
-- not converge, and the dashboard's refresh never fails or warns because of the models (the
-- fits' own warnings are kept from the client; the reason is in cxkpi.clv_models).  When the
-- purchase predictions can be computed but not the CLV, the spend model is the one set to NULL
-- (P(alive) and churn stay, the CLVs are NULL).
CREATE FUNCTION cxkpi.fit_clv_models(OUT bgnbd @extschema@.bgnbd_model,
                                     OUT gamma_gamma @extschema@.gamma_gamma_model,
                                     OUT customers bigint, OUT repeat_customers bigint, OUT fit_error text)
    -- PARALLEL UNSAFE: its exception blocks are subtransactions, which parallel mode forbids
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET client_min_messages = error AS $$
DECLARE
    failure text;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE r.frequency > 0) INTO customers, repeat_customers
    FROM cxkpi.customer_rfm AS r;
    BEGIN
        SELECT @extschema@.bgnbd_fit(r.frequency, r.recency, r.t) INTO bgnbd FROM cxkpi.customer_rfm AS r;
        IF NOT @extschema@.converged(bgnbd) THEN
            bgnbd := NULL;
            fit_error := 'bgnbd_fit did not converge';
        END IF;
    EXCEPTION WHEN data_exception THEN
        fit_error := 'bgnbd_fit: ' || SQLERRM;
    END;
    BEGIN
        SELECT @extschema@.gamma_gamma_fit(r.frequency, r.monetary_value::double precision) INTO gamma_gamma
        FROM cxkpi.customer_rfm AS r;
        IF NOT @extschema@.converged(gamma_gamma) THEN
            gamma_gamma := NULL;
            fit_error := concat_ws('; ', fit_error, 'gamma_gamma_fit did not converge');
        END IF;
    EXCEPTION WHEN data_exception THEN
        fit_error := concat_ws('; ', fit_error, 'gamma_gamma_fit: ' || SQLERRM);
    END;
    -- every customer's scores, as cxkpi.customer_scores will compute them (each column used, so
    -- that none is left out of the plan)
    IF bgnbd IS NOT NULL THEN
        BEGIN
            PERFORM max(s.p_alive), max(s.expected_purchases_52w), max(s.churn_probability_13w),
                    max(s.churn_risk_13w), max(s.clv_52w_currency), max(s.clv_if_alive_52w_currency)
            FROM cxkpi.customer_rfm AS r,
                 cxkpi.customer_score(bgnbd, gamma_gamma, r.frequency, r.recency, r.t, r.monetary_value::double precision) AS s;
        EXCEPTION WHEN data_exception THEN
            failure := SQLERRM;
            BEGIN
                PERFORM max(s.p_alive), max(s.expected_purchases_52w), max(s.churn_probability_13w),
                        max(s.churn_risk_13w)
                FROM cxkpi.customer_rfm AS r,
                     cxkpi.customer_score(bgnbd, NULL, r.frequency, r.recency, r.t, r.monetary_value::double precision) AS s;
                gamma_gamma := NULL;
                fit_error := concat_ws('; ', fit_error, 'CLV predictions: ' || failure);
            EXCEPTION WHEN data_exception THEN
                bgnbd := NULL;
                fit_error := concat_ws('; ', fit_error, 'bgnbd predictions: ' || SQLERRM);
            END;
        END;
    END IF;
END $$;
COMMENT ON FUNCTION cxkpi.fit_clv_models() IS
    'Fits BG/NBD and Gamma-Gamma over cxkpi.customer_rfm; a model that cannot be fitted, or whose predictions cannot be computed for every customer, is NULL, with the reason in fit_error.';

-- The fitted models (one row), refreshed with the dashboard.
CREATE MATERIALIZED VIEW cxkpi.clv_models AS
SELECT 1 AS model_id, cxkpi.as_of() AS as_of, f.bgnbd, f.gamma_gamma, f.customers, f.repeat_customers, f.fit_error
FROM cxkpi.fit_clv_models() AS f;
CREATE UNIQUE INDEX clv_models_key ON cxkpi.clv_models (model_id);
COMMENT ON MATERIALIZED VIEW cxkpi.clv_models IS
    'The CLV models fitted at the last refresh: BG/NBD (purchases, weeks) and Gamma-Gamma (spend per purchase), with the reason when a fit failed.';

-- The scores of every customer, computed at each refresh (a read of cxkpi.customer_value does
-- not score anyone): RFM and cxkpi.customer_score (P(alive), expected purchases, churn
-- probability and risk over 13 weeks, and over 52 weeks the CLV and the CLV if the customer is
-- still alive: clv / P(alive), computed without the division), and the value at stake, what the
-- model expects to lose: clv_if_alive - clv = clv_if_alive * (1 - P(alive)).  It cannot fail:
-- cxkpi.fit_clv_models keeps only models whose scores can be computed.  The win-back
-- score is the historic value halved for every 52 weeks since the last order
-- (docs/dashboard.md#churn-watch-list-and-win-back-list).  Whether a customer is gone (setting
-- gone_p_alive, read here) and the ranks of the two lists are fixed at the refresh too, so that a
-- BI tool's "top 50 of the watch list" reads 50 index entries, not every scored customer.
CREATE MATERIALIZED VIEW cxkpi.customer_scores AS
WITH s AS (
    SELECT r.customer_id, c.acquisition_channel, m.as_of, r.first_purchase, r.last_purchase, r.purchases,
           r.total_amount AS historic_value_currency, r.frequency::bigint AS repeat_purchase_days,
           r.recency AS recency_weeks, r.t AS age_weeks, r.monetary_value AS avg_repeat_value_currency,
           s.p_alive, s.expected_purchases_52w, s.churn_probability_13w, s.churn_risk_13w, s.clv_52w_currency,
           s.clv_if_alive_52w_currency, s.clv_if_alive_52w_currency * (1 - s.p_alive) AS value_at_stake_52w_currency,
           r.t - r.recency AS weeks_since_last_purchase,
           r.total_amount::double precision * 0.5 ^ ((r.t - r.recency) / 52) AS win_back_score_currency,
           s.p_alive < (SELECT cxkpi.setting('gone_p_alive')::double precision) AS gone
    FROM cxkpi.customer_rfm AS r
    JOIN cxkpi.customers AS c USING (customer_id)
    CROSS JOIN cxkpi.clv_models AS m
    CROSS JOIN LATERAL cxkpi.customer_score(m.bgnbd, m.gamma_gamma, r.frequency, r.recency, r.t,
                                            r.monetary_value::double precision) AS s)
SELECT s.*,
       CASE WHEN NOT s.gone AND s.value_at_stake_52w_currency > 0
            THEN row_number() OVER (PARTITION BY NOT s.gone AND s.value_at_stake_52w_currency > 0
                                    ORDER BY s.value_at_stake_52w_currency DESC, s.customer_id) END AS watch_rank,
       CASE WHEN s.gone
            THEN row_number() OVER (PARTITION BY s.gone ORDER BY s.win_back_score_currency DESC, s.customer_id) END
           AS win_back_rank
FROM s;
CREATE UNIQUE INDEX customer_scores_key ON cxkpi.customer_scores (customer_id);
CREATE INDEX customer_scores_watch_rank ON cxkpi.customer_scores (watch_rank) WHERE watch_rank IS NOT NULL;
CREATE INDEX customer_scores_win_back_rank ON cxkpi.customer_scores (win_back_rank) WHERE win_back_rank IS NOT NULL;
COMMENT ON MATERIALIZED VIEW cxkpi.customer_scores IS
    'Internal: the per-customer scores of the last refresh (RFM, P(alive), churn, CLV, CLV if alive, value at stake, win-back score); read them through cxkpi.customer_value, cxkpi.churn_watch_list and cxkpi.win_back_list.';

-- One row per customer with orders up to the reference date, as scored at the last refresh.
CREATE VIEW cxkpi.customer_value AS
SELECT s.customer_id, s.acquisition_channel, s.as_of, s.first_purchase, s.last_purchase, s.purchases,
       s.historic_value_currency, s.repeat_purchase_days, s.recency_weeks, s.age_weeks, s.avg_repeat_value_currency,
       s.p_alive, s.expected_purchases_52w, s.churn_probability_13w, s.churn_risk_13w, s.clv_52w_currency,
       s.clv_if_alive_52w_currency, s.value_at_stake_52w_currency, s.weeks_since_last_purchase,
       s.gone
FROM cxkpi.customer_scores AS s;
COMMENT ON VIEW cxkpi.customer_value IS
    'Per customer, as scored at the last refresh: RFM in weeks, historic value, P(alive), expected purchases, discounted CLV, CLV if still alive and value at stake over 52 weeks, probability and risk band of no purchase in 13 weeks, and whether the model considers the customer gone (BG/NBD + Gamma-Gamma fitted over all customers).';
COMMENT ON COLUMN cxkpi.customer_value.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.customer_value.acquisition_channel IS 'Acquisition channel of the customer.';
COMMENT ON COLUMN cxkpi.customer_value.as_of IS 'Reference date: orders up to this day; the models were fitted on them.';
COMMENT ON COLUMN cxkpi.customer_value.first_purchase IS 'Day of the first order.';
COMMENT ON COLUMN cxkpi.customer_value.last_purchase IS 'Day of the last order up to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.purchases IS 'Orders up to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.repeat_purchase_days IS 'Frequency: days with orders after the first (lifetimes convention).';
COMMENT ON COLUMN cxkpi.customer_value.recency_weeks IS 'Weeks from the first to the last order day.';
COMMENT ON COLUMN cxkpi.customer_value.age_weeks IS 'Weeks from the first order day to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.avg_repeat_value_currency IS 'Mean net value of the repeat order days (0 without repeat).';
COMMENT ON COLUMN cxkpi.customer_value.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD).';
COMMENT ON COLUMN cxkpi.customer_value.expected_purchases_52w IS 'Expected order days in the next 52 weeks.';
COMMENT ON COLUMN cxkpi.customer_value.churn_probability_13w IS 'Probability (0-1) of no order in the next 13 weeks.';
COMMENT ON COLUMN cxkpi.customer_value.churn_risk_13w IS 'low (< 1/3), medium or high (> 2/3) probability of no order in the next 13 weeks.';
COMMENT ON COLUMN cxkpi.customer_value.clv_52w_currency IS 'Expected net spend over the next 52 weeks, discounted 1 % per month (NULL when the spend model has q <= 1).';
COMMENT ON COLUMN cxkpi.customer_value.clv_if_alive_52w_currency IS 'What the customer is expected to spend over the next 52 weeks if still active (clv_52w_currency / p_alive, computed directly), discounted 1 % per month.';
COMMENT ON COLUMN cxkpi.customer_value.value_at_stake_52w_currency IS 'Value still at stake: clv_if_alive_52w_currency - clv_52w_currency = clv_if_alive_52w_currency * (1 - p_alive).';
COMMENT ON COLUMN cxkpi.customer_value.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.customer_value.gone IS 'True when p_alive is below the setting gone_p_alive (default 0.1) at the last refresh: the model considers the customer gone (win-back list).';
GRANT SELECT ON cxkpi.customer_value TO cxkpi_reader;

-- The churn watch list: customers the model does not consider gone, ranked by the value still at
-- stake (docs/dashboard.md#churn-watch-list-and-win-back-list).
CREATE VIEW cxkpi.churn_watch_list AS
SELECT s.watch_rank,
       s.customer_id, s.acquisition_channel,
       (SELECT lm.tier FROM cxkpi.loyalty_members AS lm WHERE lm.customer_id = s.customer_id) AS loyalty_tier, s.as_of, s.purchases, s.historic_value_currency,
       s.first_purchase, s.last_purchase, s.weeks_since_last_purchase, s.p_alive, s.churn_probability_13w,
       s.churn_risk_13w, s.clv_52w_currency, s.clv_if_alive_52w_currency, s.value_at_stake_52w_currency
FROM cxkpi.customer_scores AS s
WHERE s.watch_rank IS NOT NULL
ORDER BY s.watch_rank;
COMMENT ON VIEW cxkpi.churn_watch_list IS
    'Customers still worth saving: P(alive) at least gone_p_alive (setting, default 0.1), ranked by the value at stake over 52 weeks, clv_if_alive_52w_currency * (1 - p_alive): what the customer would be worth if kept, against what the model expects now. Scored at the last refresh.';
COMMENT ON COLUMN cxkpi.churn_watch_list.watch_rank IS 'Rank by value at stake, 1 = most at stake (ties by customer_id).';
COMMENT ON COLUMN cxkpi.churn_watch_list.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.churn_watch_list.acquisition_channel IS 'Acquisition channel of the customer.';
COMMENT ON COLUMN cxkpi.churn_watch_list.loyalty_tier IS 'Loyalty tier (NULL when not a member).';
COMMENT ON COLUMN cxkpi.churn_watch_list.as_of IS 'Reference date: orders up to this day; the models were fitted on them.';
COMMENT ON COLUMN cxkpi.churn_watch_list.purchases IS 'Orders up to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.first_purchase IS 'Day of the first order.';
COMMENT ON COLUMN cxkpi.churn_watch_list.last_purchase IS 'Day of the last order up to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.churn_watch_list.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD); at least gone_p_alive here.';
COMMENT ON COLUMN cxkpi.churn_watch_list.churn_probability_13w IS 'Probability (0-1) of no order in the next 13 weeks.';
COMMENT ON COLUMN cxkpi.churn_watch_list.churn_risk_13w IS 'low (< 1/3), medium or high (> 2/3) probability of no order in the next 13 weeks.';
COMMENT ON COLUMN cxkpi.churn_watch_list.clv_52w_currency IS 'Expected net spend over the next 52 weeks, discounted 1 % per month: what the model expects now.';
COMMENT ON COLUMN cxkpi.churn_watch_list.clv_if_alive_52w_currency IS 'Expected net spend over the next 52 weeks if the customer is kept (still active), discounted 1 % per month.';
COMMENT ON COLUMN cxkpi.churn_watch_list.value_at_stake_52w_currency IS 'Value at stake: clv_if_alive_52w_currency - clv_52w_currency (the ranking).';
GRANT SELECT ON cxkpi.churn_watch_list TO cxkpi_reader;

-- The win-back list: customers the model considers gone, ranked by historic value discounted for
-- the time since their last order (docs/dashboard.md#churn-watch-list-and-win-back-list).
CREATE VIEW cxkpi.win_back_list AS
SELECT s.win_back_rank,
       s.customer_id, s.acquisition_channel,
       (SELECT lm.tier FROM cxkpi.loyalty_members AS lm WHERE lm.customer_id = s.customer_id) AS loyalty_tier, s.as_of, s.purchases, s.historic_value_currency,
       s.first_purchase, s.last_purchase, s.weeks_since_last_purchase, s.p_alive, s.win_back_score_currency
FROM cxkpi.customer_scores AS s
WHERE s.win_back_rank IS NOT NULL
ORDER BY s.win_back_rank;
COMMENT ON VIEW cxkpi.win_back_list IS
    'Customers the model considers gone (P(alive) below the setting gone_p_alive, default 0.1), for win-back campaigns, ranked by historic value halved for every 52 weeks since the last order. Scored at the last refresh.';
COMMENT ON COLUMN cxkpi.win_back_list.win_back_rank IS 'Rank by win-back score, 1 = first to contact (ties by customer_id).';
COMMENT ON COLUMN cxkpi.win_back_list.customer_id IS 'Customer.';
COMMENT ON COLUMN cxkpi.win_back_list.acquisition_channel IS 'Acquisition channel of the customer.';
COMMENT ON COLUMN cxkpi.win_back_list.loyalty_tier IS 'Loyalty tier (NULL when not a member).';
COMMENT ON COLUMN cxkpi.win_back_list.as_of IS 'Reference date: orders up to this day; the models were fitted on them.';
COMMENT ON COLUMN cxkpi.win_back_list.purchases IS 'Orders up to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.historic_value_currency IS 'Net value of all orders up to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.first_purchase IS 'Day of the first order.';
COMMENT ON COLUMN cxkpi.win_back_list.last_purchase IS 'Day of the last order up to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.weeks_since_last_purchase IS 'Weeks from the last order day to as_of.';
COMMENT ON COLUMN cxkpi.win_back_list.p_alive IS 'Probability (0-1) that the customer is still active (BG/NBD); below gone_p_alive here.';
COMMENT ON COLUMN cxkpi.win_back_list.win_back_score_currency IS 'historic_value_currency * 0.5 ^ (weeks_since_last_purchase / 52): the historic value, halved for every year since the last order (the ranking).';
GRANT SELECT ON cxkpi.win_back_list TO cxkpi_reader;
