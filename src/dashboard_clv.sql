-- The CX dashboard, part 4: model-based customer value (docs/dashboard.md#model-based-customer-value).
-- At each refresh: every customer's RFM as of cxkpi.as_of() (weeks, net order values), BG/NBD and
-- Gamma-Gamma fitted over all customers, and per customer P(alive), churn risk and a 52-week
-- discounted CLV (docs/clv.md for the models and their units).

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

-- Fits both models over cxkpi.customer_rfm.  A model that cannot be fitted (no repeat customer
-- yet, too few customers, an optimiser that does not converge) is NULL, with the reason in
-- fit_error: the customer value view then shows NULL scores, never scores from a model that did
-- not converge, and the dashboard's refresh never fails or warns because of the models (the
-- fits' own warnings are kept from the client; the reason is in cxkpi.clv_models).
CREATE FUNCTION cxkpi.fit_clv_models(OUT bgnbd @extschema@.bgnbd_model,
                                     OUT gamma_gamma @extschema@.gamma_gamma_model,
                                     OUT customers bigint, OUT repeat_customers bigint, OUT fit_error text)
    -- PARALLEL UNSAFE: its exception blocks are subtransactions, which parallel mode forbids
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET client_min_messages = error AS $$
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
END $$;
COMMENT ON FUNCTION cxkpi.fit_clv_models() IS
    'Fits BG/NBD and Gamma-Gamma over cxkpi.customer_rfm; a model that cannot be fitted is NULL, with the reason in fit_error.';

-- The fitted models (one row), refreshed with the dashboard.
CREATE MATERIALIZED VIEW cxkpi.clv_models AS
SELECT 1 AS model_id, cxkpi.as_of() AS as_of, f.bgnbd, f.gamma_gamma, f.customers, f.repeat_customers, f.fit_error
FROM cxkpi.fit_clv_models() AS f;
CREATE UNIQUE INDEX clv_models_key ON cxkpi.clv_models (model_id);
COMMENT ON MATERIALIZED VIEW cxkpi.clv_models IS
    'The CLV models fitted at the last refresh: BG/NBD (purchases, weeks) and Gamma-Gamma (spend per purchase), with the reason when a fit failed.';

-- One row per customer with orders up to the reference date.
CREATE VIEW cxkpi.customer_value AS
SELECT r.customer_id, c.acquisition_channel, m.as_of, r.first_purchase, r.last_purchase, r.purchases,
       r.total_amount AS historic_value_currency, r.frequency::bigint AS repeat_purchase_days,
       r.recency AS recency_weeks, r.t AS age_weeks, r.monetary_value AS avg_repeat_value_currency,
       @extschema@.p_alive(m.bgnbd, r.frequency, r.recency, r.t) AS p_alive,
       @extschema@.expected_purchases(m.bgnbd, 52, r.frequency, r.recency, r.t) AS expected_purchases_52w,
       @extschema@.prob_no_purchase(m.bgnbd, 13, r.frequency, r.recency, r.t) AS churn_probability_13w,
       @extschema@.churn_risk(m.bgnbd, r.frequency, r.recency, r.t, 13) AS churn_risk_13w,
       CASE WHEN (@extschema@.gamma_gamma_params(m.gamma_gamma)).q > 1 THEN
           @extschema@.clv(m.bgnbd, m.gamma_gamma, r.frequency, r.recency, r.t,
                           r.monetary_value::double precision, 52, 0.01, 365.25 / 12 / 7) END AS clv_52w_currency
FROM cxkpi.customer_rfm AS r
JOIN cxkpi.customers AS c USING (customer_id)
CROSS JOIN cxkpi.clv_models AS m;
COMMENT ON VIEW cxkpi.customer_value IS
    'Per customer, as of the last refresh: RFM in weeks, historic value, P(alive), expected purchases and discounted CLV over 52 weeks, probability and risk band of no purchase in 13 weeks (BG/NBD + Gamma-Gamma fitted over all customers).';
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
GRANT SELECT ON cxkpi.customer_value TO cxkpi_reader;
