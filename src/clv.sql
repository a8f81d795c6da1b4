
-- ======================================================================================
-- Customer lifetime value: the simple formula, RFM summaries from a transaction log,
-- BG/NBD, MBG/NBD and Gamma-Gamma models fitted in the database, and per-customer
-- predictions (P(alive), expected purchases, churn probability, discounted CLV).
-- Times are in the unit of the RFM inputs (weeks for rfm_agg's default unit_days = 7).
-- ======================================================================================

CREATE FUNCTION clv(average_purchase_value double precision, purchase_frequency double precision,
                    lifespan double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_simple' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clv(double precision, double precision, double precision) IS
    'Simple CLV: average purchase value x purchase frequency x customer lifespan (frequency and lifespan in one time unit).';

-- RFM ----------------------------------------------------------------------------------

CREATE TYPE rfm AS (
    frequency integer, recency double precision, t double precision,
    monetary_value double precision, first_purchase date, last_purchase date,
    purchases bigint, total_amount numeric);
COMMENT ON TYPE rfm IS
    'Per-customer RFM summary (lifetimes conventions): frequency = repeat purchase days, recency = first to last purchase day, t = first purchase day to observation end (time units), monetary_value = mean repeat-day total.';

CREATE FUNCTION rfm_agg_trans(internal, date, numeric, date) RETURNS internal
    AS 'MODULE_PATHNAME', 'rfm_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_trans(internal, date, numeric, date, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'rfm_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'rfm_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION rfm_agg_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'rfm_agg_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_agg_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'rfm_agg_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rfm_agg_final(internal) RETURNS rfm
    AS 'MODULE_PATHNAME', 'rfm_agg_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE rfm_agg(purchased_on date, amount numeric, observation_end date) (
    SFUNC = rfm_agg_trans, STYPE = internal, SSPACE = 256, FINALFUNC = rfm_agg_final,
    COMBINEFUNC = rfm_agg_combine, SERIALFUNC = rfm_agg_serial, DESERIALFUNC = rfm_agg_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE rfm_agg(date, numeric, date) IS
    'RFM summary of one customer''s transactions (GROUP BY customer), in weeks (unit_days 7); rows after observation_end and rows with a NULL are skipped.';
CREATE AGGREGATE rfm_agg(purchased_on date, amount numeric, observation_end date,
                         unit_days double precision) (
    SFUNC = rfm_agg_trans, STYPE = internal, SSPACE = 256, FINALFUNC = rfm_agg_final,
    COMBINEFUNC = rfm_agg_combine, SERIALFUNC = rfm_agg_serial, DESERIALFUNC = rfm_agg_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE rfm_agg(date, numeric, date, double precision) IS
    'RFM summary of one customer''s transactions (GROUP BY customer), times in units of unit_days days; rows after observation_end and rows with a NULL are skipped.';

-- Model types --------------------------------------------------------------------------

CREATE TYPE bgnbd_model;
CREATE FUNCTION bgnbd_model_in(cstring) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'bgnbd_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_out(bgnbd_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'bgnbd_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_recv(internal) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'bgnbd_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_send(bgnbd_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'bgnbd_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE bgnbd_model (
    INPUT = bgnbd_model_in, OUTPUT = bgnbd_model_out,
    RECEIVE = bgnbd_model_recv, SEND = bgnbd_model_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE bgnbd_model IS
    'BG/NBD purchase model (Fader, Hardie & Lee 2005): r, alpha (time units), a, b, and the fit report when fitted.';

CREATE TYPE mbgnbd_model;
CREATE FUNCTION mbgnbd_model_in(cstring) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'mbgnbd_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_model_out(mbgnbd_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'mbgnbd_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_model_recv(internal) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'mbgnbd_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_model_send(mbgnbd_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'mbgnbd_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE mbgnbd_model (
    INPUT = mbgnbd_model_in, OUTPUT = mbgnbd_model_out,
    RECEIVE = mbgnbd_model_recv, SEND = mbgnbd_model_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE mbgnbd_model IS
    'MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007): like BG/NBD, but a customer can also drop out right after the first purchase.';

CREATE TYPE gamma_gamma_model;
CREATE FUNCTION gamma_gamma_model_in(cstring) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_out(gamma_gamma_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_recv(internal) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_send(gamma_gamma_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE gamma_gamma_model (
    INPUT = gamma_gamma_model_in, OUTPUT = gamma_gamma_model_out,
    RECEIVE = gamma_gamma_model_recv, SEND = gamma_gamma_model_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE gamma_gamma_model IS
    'Gamma-Gamma spend model (Fader, Hardie & Lee 2005): p, q, v (currency units), and the fit report when fitted.';

-- equality and hashing (DISTINCT, GROUP BY, hash joins on model columns); bytewise, like the text form
CREATE FUNCTION bgnbd_model_eq(bgnbd_model, bgnbd_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'bgnbd_model_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_ne(bgnbd_model, bgnbd_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'bgnbd_model_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_hash(bgnbd_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'bgnbd_model_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_hash_extended(bgnbd_model, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'bgnbd_model_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = bgnbd_model, RIGHTARG = bgnbd_model, PROCEDURE = bgnbd_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = bgnbd_model, RIGHTARG = bgnbd_model, PROCEDURE = bgnbd_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS bgnbd_model_hash_ops DEFAULT FOR TYPE bgnbd_model USING hash AS
    OPERATOR 1 =, FUNCTION 1 bgnbd_model_hash(bgnbd_model), FUNCTION 2 bgnbd_model_hash_extended(bgnbd_model, bigint);
CREATE FUNCTION mbgnbd_model_eq(mbgnbd_model, mbgnbd_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'mbgnbd_model_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_model_ne(mbgnbd_model, mbgnbd_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'mbgnbd_model_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_model_hash(mbgnbd_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'mbgnbd_model_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mbgnbd_model_hash_extended(mbgnbd_model, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'mbgnbd_model_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = mbgnbd_model, RIGHTARG = mbgnbd_model, PROCEDURE = mbgnbd_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = mbgnbd_model, RIGHTARG = mbgnbd_model, PROCEDURE = mbgnbd_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS mbgnbd_model_hash_ops DEFAULT FOR TYPE mbgnbd_model USING hash AS
    OPERATOR 1 =, FUNCTION 1 mbgnbd_model_hash(mbgnbd_model), FUNCTION 2 mbgnbd_model_hash_extended(mbgnbd_model, bigint);
CREATE FUNCTION gamma_gamma_model_eq(gamma_gamma_model, gamma_gamma_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_ne(gamma_gamma_model, gamma_gamma_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_hash(gamma_gamma_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_hash_extended(gamma_gamma_model, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = gamma_gamma_model, RIGHTARG = gamma_gamma_model, PROCEDURE = gamma_gamma_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = gamma_gamma_model, RIGHTARG = gamma_gamma_model, PROCEDURE = gamma_gamma_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS gamma_gamma_model_hash_ops DEFAULT FOR TYPE gamma_gamma_model USING hash AS
    OPERATOR 1 =, FUNCTION 1 gamma_gamma_model_hash(gamma_gamma_model), FUNCTION 2 gamma_gamma_model_hash_extended(gamma_gamma_model, bigint);

-- constructors from known parameters
CREATE FUNCTION bgnbd_model(r double precision, alpha double precision, a double precision,
                            b double precision) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'bgnbd_model_make' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bgnbd_model(double precision, double precision, double precision, double precision) IS
    'A BG/NBD model from known parameters (positive, finite; alpha in time units).';
CREATE FUNCTION mbgnbd_model(r double precision, alpha double precision, a double precision,
                             b double precision) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'mbgnbd_model_make' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mbgnbd_model(double precision, double precision, double precision, double precision) IS
    'An MBG/NBD model from known parameters (positive, finite; alpha in time units).';
CREATE FUNCTION gamma_gamma_model(p double precision, q double precision, v double precision)
    RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'gamma_gamma_model_make' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION gamma_gamma_model(double precision, double precision, double precision) IS
    'A Gamma-Gamma spend model from known parameters (positive, finite; v in currency units).';

-- Fit aggregates -----------------------------------------------------------------------

CREATE FUNCTION clv_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'clv_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION clv_fit_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'clv_fit_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_fit_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'clv_fit_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION bgnbd_fit_trans(internal, integer, double precision, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_trans(internal, integer, double precision, double precision, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_trans(internal, integer, double precision, double precision, bigint,
                                double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_final(internal) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME', 'bgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE bgnbd_fit(frequency integer, recency double precision, t double precision) (
    SFUNC = bgnbd_fit_trans, STYPE = internal, FINALFUNC = bgnbd_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE bgnbd_fit(integer, double precision, double precision) IS
    'Maximum-likelihood BG/NBD fit over one row per customer (frequency, recency, t); NULL rows skipped.';
CREATE AGGREGATE bgnbd_fit(frequency integer, recency double precision, t double precision, weight bigint) (
    SFUNC = bgnbd_fit_trans, STYPE = internal, FINALFUNC = bgnbd_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE bgnbd_fit(integer, double precision, double precision, bigint) IS
    'BG/NBD fit over pre-grouped rows: weight customers share each (frequency, recency, t).';
CREATE AGGREGATE bgnbd_fit(frequency integer, recency double precision, t double precision, weight bigint,
                           penalizer double precision) (
    SFUNC = bgnbd_fit_trans, STYPE = internal, FINALFUNC = bgnbd_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE bgnbd_fit(integer, double precision, double precision, bigint, double precision) IS
    'BG/NBD fit with an L2 penalty penalizer x sum(params^2) on the time-scaled parameters (lifetimes'' penalizer_coef).';

CREATE FUNCTION mbgnbd_fit_trans(internal, integer, double precision, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION mbgnbd_fit_trans(internal, integer, double precision, double precision, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION mbgnbd_fit_trans(internal, integer, double precision, double precision, bigint,
                                 double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION mbgnbd_fit_final(internal) RETURNS mbgnbd_model
    AS 'MODULE_PATHNAME', 'mbgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE mbgnbd_fit(frequency integer, recency double precision, t double precision) (
    SFUNC = mbgnbd_fit_trans, STYPE = internal, FINALFUNC = mbgnbd_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE mbgnbd_fit(integer, double precision, double precision) IS
    'Maximum-likelihood MBG/NBD fit over one row per customer (frequency, recency, t); NULL rows skipped.';
CREATE AGGREGATE mbgnbd_fit(frequency integer, recency double precision, t double precision, weight bigint) (
    SFUNC = mbgnbd_fit_trans, STYPE = internal, FINALFUNC = mbgnbd_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE mbgnbd_fit(integer, double precision, double precision, bigint) IS
    'MBG/NBD fit over pre-grouped rows: weight customers share each (frequency, recency, t).';
CREATE AGGREGATE mbgnbd_fit(frequency integer, recency double precision, t double precision, weight bigint,
                            penalizer double precision) (
    SFUNC = mbgnbd_fit_trans, STYPE = internal, FINALFUNC = mbgnbd_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE mbgnbd_fit(integer, double precision, double precision, bigint, double precision) IS
    'MBG/NBD fit with an L2 penalty on the time-scaled parameters.';

CREATE FUNCTION gamma_gamma_fit_trans(internal, integer, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_trans(internal, integer, double precision, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_trans(internal, integer, double precision, bigint, double precision)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'gamma_gamma_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_final(internal) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME', 'gamma_gamma_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE gamma_gamma_fit(frequency integer, monetary_value double precision) (
    SFUNC = gamma_gamma_fit_trans, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE gamma_gamma_fit(integer, double precision) IS
    'Maximum-likelihood Gamma-Gamma spend fit over the rows with frequency > 0; NULL rows skipped.';
CREATE AGGREGATE gamma_gamma_fit(frequency integer, monetary_value double precision, weight bigint) (
    SFUNC = gamma_gamma_fit_trans, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE gamma_gamma_fit(integer, double precision, bigint) IS
    'Gamma-Gamma fit over pre-grouped rows.';
CREATE AGGREGATE gamma_gamma_fit(frequency integer, monetary_value double precision, weight bigint,
                                 penalizer double precision) (
    SFUNC = gamma_gamma_fit_trans, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = clv_fit_combine, SERIALFUNC = clv_fit_serial, DESERIALFUNC = clv_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE gamma_gamma_fit(integer, double precision, bigint, double precision) IS
    'Gamma-Gamma fit with an L2 penalty on the money-scaled parameters.';

-- Accessors ----------------------------------------------------------------------------

CREATE FUNCTION bgnbd_params(bgnbd_model, OUT r double precision, OUT alpha double precision,
                             OUT a double precision, OUT b double precision)
    AS 'MODULE_PATHNAME', 'clv_model_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_params(mbgnbd_model, OUT r double precision, OUT alpha double precision,
                             OUT a double precision, OUT b double precision)
    AS 'MODULE_PATHNAME', 'clv_model_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_params(gamma_gamma_model, OUT p double precision, OUT q double precision,
                                   OUT v double precision)
    AS 'MODULE_PATHNAME', 'clv_model_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_stderr(bgnbd_model, OUT r double precision, OUT alpha double precision,
                             OUT a double precision, OUT b double precision)
    AS 'MODULE_PATHNAME', 'clv_model_stderr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_stderr(mbgnbd_model, OUT r double precision, OUT alpha double precision,
                             OUT a double precision, OUT b double precision)
    AS 'MODULE_PATHNAME', 'clv_model_stderr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_stderr(gamma_gamma_model, OUT p double precision, OUT q double precision,
                                   OUT v double precision)
    AS 'MODULE_PATHNAME', 'clv_model_stderr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bgnbd_params(bgnbd_model) IS 'The parameters r, alpha (time units), a, b.';
COMMENT ON FUNCTION bgnbd_params(mbgnbd_model) IS 'The parameters r, alpha (time units), a, b.';
COMMENT ON FUNCTION gamma_gamma_params(gamma_gamma_model) IS 'The parameters p, q, v (currency units).';
COMMENT ON FUNCTION bgnbd_stderr(bgnbd_model) IS
    'Asymptotic standard errors of r, alpha, a, b (inverse Hessian, delta method); NULL for a model not fitted.';
COMMENT ON FUNCTION bgnbd_stderr(mbgnbd_model) IS
    'Asymptotic standard errors of r, alpha, a, b (inverse Hessian, delta method); NULL for a model not fitted.';
COMMENT ON FUNCTION gamma_gamma_stderr(gamma_gamma_model) IS
    'Asymptotic standard errors of p, q, v; NULL for a model not fitted.';

CREATE FUNCTION log_likelihood(bgnbd_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION log_likelihood(mbgnbd_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION log_likelihood(gamma_gamma_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customers(bgnbd_model) RETURNS bigint
    AS 'MODULE_PATHNAME', 'clv_model_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customers(mbgnbd_model) RETURNS bigint
    AS 'MODULE_PATHNAME', 'clv_model_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION customers(gamma_gamma_model) RETURNS bigint
    AS 'MODULE_PATHNAME', 'clv_model_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION repeat_customers(bgnbd_model) RETURNS bigint
    AS 'MODULE_PATHNAME', 'clv_model_repeaters' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION repeat_customers(mbgnbd_model) RETURNS bigint
    AS 'MODULE_PATHNAME', 'clv_model_repeaters' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION converged(bgnbd_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'clv_model_converged' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION converged(mbgnbd_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'clv_model_converged' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION converged(gamma_gamma_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'clv_model_converged' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION iterations(bgnbd_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'clv_model_iterations' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION iterations(mbgnbd_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'clv_model_iterations' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION iterations(gamma_gamma_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'clv_model_iterations' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION log_likelihood(bgnbd_model) IS 'Log-likelihood of the fit, in the input time unit (NULL if not fitted).';
COMMENT ON FUNCTION customers(bgnbd_model) IS 'Customers (sum of weights) the model was fitted on (NULL if not fitted).';
COMMENT ON FUNCTION customers(gamma_gamma_model) IS 'Repeat customers (frequency > 0) the spend model was fitted on.';
COMMENT ON FUNCTION converged(bgnbd_model) IS 'Whether the optimiser reached a gradient norm below 1e-6 (NULL if not fitted).';

-- Predictions (one customer; times in the model's unit) --------------------------------

CREATE FUNCTION p_alive(m bgnbd_model, frequency integer, recency double precision, t double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_p_alive_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION p_alive(m mbgnbd_model, frequency integer, recency double precision, t double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_p_alive_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION p_alive(bgnbd_model, integer, double precision, double precision) IS
    'Probability that the customer is still active at the end of observation.';
COMMENT ON FUNCTION p_alive(mbgnbd_model, integer, double precision, double precision) IS
    'Probability that the customer is still active at the end of observation.';

CREATE FUNCTION expected_purchases(m bgnbd_model, horizon double precision, frequency integer,
                                   recency double precision, t double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_expected_purchases_cond' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_purchases(m mbgnbd_model, horizon double precision, frequency integer,
                                   recency double precision, t double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_expected_purchases_cond' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_purchases(m bgnbd_model, horizon double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION expected_purchases(m mbgnbd_model, horizon double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_expected_purchases_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION expected_purchases(bgnbd_model, double precision, integer, double precision, double precision) IS
    'Expected purchases in the next horizon time units of a customer with this history.';
COMMENT ON FUNCTION expected_purchases(bgnbd_model, double precision) IS
    'Expected repeat purchases in the first horizon time units of a new customer.';

CREATE FUNCTION prob_no_purchase(m bgnbd_model, horizon double precision, frequency integer,
                                 recency double precision, t double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_prob_no_purchase' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION prob_no_purchase(m mbgnbd_model, horizon double precision, frequency integer,
                                 recency double precision, t double precision) RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_prob_no_purchase' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION prob_no_purchase(bgnbd_model, double precision, integer, double precision, double precision) IS
    'Probability of no purchase in the next horizon time units (churn within the horizon).';

CREATE FUNCTION purchase_probability(m bgnbd_model, n integer, horizon double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_purchase_probability' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION purchase_probability(m mbgnbd_model, n integer, horizon double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_purchase_probability' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION purchase_probability(bgnbd_model, integer, double precision) IS
    'Probability that a new customer makes exactly n repeat purchases in the first horizon time units.';

CREATE FUNCTION expected_spend(g gamma_gamma_model, frequency integer, monetary_value double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_expected_spend_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION expected_spend(gamma_gamma_model, integer, double precision) IS
    'Expected spend per purchase of a customer with this history; the population mean when frequency = 0.';

CREATE FUNCTION clv(m bgnbd_model, g gamma_gamma_model, frequency integer, recency double precision,
                    t double precision, monetary_value double precision, horizon double precision,
                    discount_rate double precision DEFAULT 0, step double precision DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv(m mbgnbd_model, g gamma_gamma_model, frequency integer, recency double precision,
                    t double precision, monetary_value double precision, horizon double precision,
                    discount_rate double precision DEFAULT 0, step double precision DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clv(bgnbd_model, gamma_gamma_model, integer, double precision, double precision,
                        double precision, double precision, double precision, double precision) IS
    'Expected spend over the next horizon time units, discounted at discount_rate per step of step time units.';

-- The CLV of a customer who is still alive: clv() without the P(alive) factor, computed directly
-- (clv / p_alive loses every digit as P(alive) goes to 0).  The value at stake of a customer is
-- clv_if_alive - clv = clv_if_alive * (1 - P(alive)) (docs/clv.md#predictions).
CREATE FUNCTION clv_if_alive(m bgnbd_model, g gamma_gamma_model, frequency integer, recency double precision,
                             t double precision, monetary_value double precision, horizon double precision,
                             discount_rate double precision DEFAULT 0, step double precision DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_clv_if_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_if_alive(m mbgnbd_model, g gamma_gamma_model, frequency integer, recency double precision,
                             t double precision, monetary_value double precision, horizon double precision,
                             discount_rate double precision DEFAULT 0, step double precision DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'clv_model_clv_if_alive' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clv_if_alive(bgnbd_model, gamma_gamma_model, integer, double precision, double precision,
                                 double precision, double precision, double precision, double precision) IS
    'Expected spend over the next horizon time units of the customer if still alive (clv / P(alive), computed without dividing), discounted like clv().';
COMMENT ON FUNCTION clv_if_alive(mbgnbd_model, gamma_gamma_model, integer, double precision, double precision,
                                 double precision, double precision, double precision, double precision) IS
    'Expected spend over the next horizon time units of the customer if still alive (clv / P(alive), computed without dividing), discounted like clv().';

CREATE FUNCTION churn_risk(m bgnbd_model, frequency integer, recency double precision, t double precision,
                           horizon double precision) RETURNS text
    AS 'MODULE_PATHNAME', 'clv_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_risk(m mbgnbd_model, frequency integer, recency double precision, t double precision,
                           horizon double precision) RETURNS text
    AS 'MODULE_PATHNAME', 'clv_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION churn_risk(bgnbd_model, integer, double precision, double precision, double precision) IS
    'low / medium / high: probability of no purchase in the horizon under 1/3, 1/3 to 2/3, over 2/3.';
