
-- ======================================================================================
-- Demand forecasting: exponential smoothing (ETS) state space models, fitted by maximum
-- likelihood and chosen by AICc as R's forecast::ets does it, with point forecasts and
-- prediction intervals (docs/forecasting.md).
-- ======================================================================================

CREATE TYPE ets_model;
CREATE FUNCTION ets_model_in(cstring) RETURNS ets_model
    AS 'MODULE_PATHNAME', 'ets_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_out(ets_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'ets_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_recv(internal) RETURNS ets_model
    AS 'MODULE_PATHNAME', 'ets_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_send(ets_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ets_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE ets_model (
    INPUT = ets_model_in, OUTPUT = ets_model_out,
    RECEIVE = ets_model_recv, SEND = ets_model_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE ets_model IS
    'Exponential smoothing state space model ETS(error, trend, season) fitted to one series: parameters, states, fit criteria and the time axis to forecast on.';

-- equality and hashing (DISTINCT, GROUP BY, hash joins on model columns); bytewise, like the text form
CREATE FUNCTION ets_model_eq(ets_model, ets_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ets_model_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_ne(ets_model, ets_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ets_model_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_hash(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_model_hash_extended(ets_model, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ets_model_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = ets_model, RIGHTARG = ets_model, PROCEDURE = ets_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = ets_model, RIGHTARG = ets_model, PROCEDURE = ets_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS ets_model_hash_ops DEFAULT FOR TYPE ets_model USING hash AS
    OPERATOR 1 =, FUNCTION 1 ets_model_hash(ets_model), FUNCTION 2 ets_model_hash_extended(ets_model, bigint);

-- Fit aggregate ------------------------------------------------------------------------

CREATE FUNCTION ets_fit_trans(internal, date, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, date, double precision, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, date, double precision, text, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, date, double precision, text, integer, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_date' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision, text, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_trans(internal, timestamptz, double precision, text, integer, boolean)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_trans_timestamptz' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ets_fit_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ets_fit_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_fit_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'ets_fit_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ets_fit_final(internal) RETURNS ets_model
    AS 'MODULE_PATHNAME', 'ets_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE ets_fit("time" date, value double precision) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision) IS
    'ETS model of a series (GROUP BY series), chosen by AICc among the models forecast::ets tries; seasonal period from the time step (daily 7, weekly 52, monthly 12, quarterly 4).';
CREATE AGGREGATE ets_fit("time" date, value double precision, model text) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision, text) IS
    'ETS model of a series with the given form, as forecast::ets''s model argument: ''ZZZ'' (default, all chosen), ''MAM'', ''AAdN'', ''ZZN''...';
CREATE AGGREGATE ets_fit("time" date, value double precision, model text, period integer) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision, text, integer) IS
    'ETS model of a series with the given form and seasonal period (NULL: inferred from the time step).';
CREATE AGGREGATE ets_fit("time" date, value double precision, model text, period integer, damped boolean) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(date, double precision, text, integer, boolean) IS
    'ETS model of a series with the given form, period and damping (NULL: both tried), as forecast::ets''s damped argument.';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision) IS
    'ETS model of a series with timestamptz times (hourly 24, daily 7, weekly 52; calendar months in UTC), chosen by AICc.';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision, model text) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision, text) IS
    'ETS model of a timestamptz series with the given form (''ZZZ'', ''MAM'', ''AAdN''...).';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision, model text, period integer) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision, text, integer) IS
    'ETS model of a timestamptz series with the given form and seasonal period (NULL: inferred).';
CREATE AGGREGATE ets_fit("time" timestamptz, value double precision, model text, period integer,
                         damped boolean) (
    SFUNC = ets_fit_trans, STYPE = internal, FINALFUNC = ets_fit_final, FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = ets_fit_combine, SERIALFUNC = ets_fit_serial, DESERIALFUNC = ets_fit_deserial,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE ets_fit(timestamptz, double precision, text, integer, boolean) IS
    'ETS model of a timestamptz series with the given form, period and damping (NULL: both tried).';

-- Accessors ----------------------------------------------------------------------------

CREATE FUNCTION method(ets_model) RETURNS text
    AS 'MODULE_PATHNAME', 'ets_model_method_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION method(ets_model) IS 'The model''s form in forecast''s notation, e.g. ETS(M,Ad,M).';
CREATE FUNCTION ets_params(ets_model, OUT alpha double precision, OUT beta double precision,
                           OUT gamma double precision, OUT phi double precision)
    AS 'MODULE_PATHNAME', 'ets_model_params' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ets_params(ets_model) IS
    'Smoothing parameters alpha (level), beta (trend), gamma (season) and damping phi; NULL for a component the model does not have.';
CREATE FUNCTION initial_states(ets_model, OUT level double precision, OUT slope double precision,
                               OUT season double precision[])
    AS 'MODULE_PATHNAME', 'ets_model_initial_states' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION initial_states(ets_model) IS
    'Estimated states before the first observation: level, slope (NULL without trend), seasonal states newest first (NULL without season).';
CREATE FUNCTION last_states(ets_model, OUT level double precision, OUT slope double precision,
                            OUT season double precision[])
    AS 'MODULE_PATHNAME', 'ets_model_last_states' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION last_states(ets_model) IS
    'States after the last observation, where the forecasts start: level, slope, seasonal states newest first.';
CREATE FUNCTION aicc(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_aicc' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aicc(ets_model) IS
    'Corrected Akaike information criterion of the fit, the criterion the model was chosen by (NULL for a constant series).';
CREATE FUNCTION aic(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_aic' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aic(ets_model) IS 'Akaike information criterion of the fit (NULL for a constant series).';
CREATE FUNCTION bic(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_bic' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bic(ets_model) IS 'Bayesian information criterion of the fit (NULL for a constant series).';
CREATE FUNCTION log_likelihood(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_loglik' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION log_likelihood(ets_model) IS
    'Log-likelihood as forecast::ets reports it, -0.5 (n log(SSE) + 2 sum log|forecast|), constants left out (NULL for a constant series).';
CREATE FUNCTION sigma(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_sigma' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sigma(ets_model) IS
    'Residual standard deviation (relative errors for a multiplicative-error model), degrees of freedom n minus estimated values.';
CREATE FUNCTION mse(ets_model) RETURNS double precision
    AS 'MODULE_PATHNAME', 'ets_model_mse' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mse(ets_model) IS 'Mean squared one-step forecast error over the series, in the data''s units squared.';
CREATE FUNCTION observations(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_n' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION observations(ets_model) IS 'Number of observations the model was fitted on.';
CREATE FUNCTION period(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION period(ets_model) IS
    'Seasonal period of the series (given or inferred from the time step); the model has a season only if method says so.';
CREATE FUNCTION converged(ets_model) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ets_model_converged' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION converged(ets_model) IS
    'Whether the Nelder-Mead minimiser met its tolerance within its 2000 evaluations (as forecast::ets''s fit$convergence = 0).';
CREATE FUNCTION iterations(ets_model) RETURNS integer
    AS 'MODULE_PATHNAME', 'ets_model_evaluations' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION iterations(ets_model) IS 'Likelihood evaluations of the minimiser for the chosen model.';

-- Forecasts ----------------------------------------------------------------------------

CREATE FUNCTION forecast(model ets_model, horizon integer)
    RETURNS TABLE ("time" timestamptz, point double precision, lo80 double precision,
                   hi80 double precision, lo95 double precision, hi95 double precision)
    AS 'MODULE_PATHNAME', 'ets_forecast_sql' LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION forecast(ets_model, integer) IS
    'Forecasts 1 to horizon steps after the last observation: mean and 80 % / 95 % prediction intervals (a date series'' times at midnight in the session time zone).';
