
-- ======================================================================================
-- CES: ces_summary, the exact count of each score on a 5- or 7-point agreement scale
-- ("<company> made it easy for me to handle my issue"; higher is better).
-- ======================================================================================

CREATE TYPE ces_summary;

CREATE FUNCTION ces_summary_in(cstring) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'ces_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_summary_out(ces_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'score_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_summary_recv(internal) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'ces_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_summary_send(ces_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'score_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ces_summary (
    INPUT = ces_summary_in, OUTPUT = ces_summary_out,
    RECEIVE = ces_summary_recv, SEND = ces_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE ces_summary IS
    'Exact CES summary: the scale (5 or 7) and the count of each score. Build with ces_agg(score, scale).';

CREATE FUNCTION ces_summary_eq(ces_summary, ces_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'score_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_summary_ne(ces_summary, ces_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'score_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_summary_hash(ces_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'score_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_summary_hash_extended(ces_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = ces_summary, RIGHTARG = ces_summary, PROCEDURE = ces_summary_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = ces_summary, RIGHTARG = ces_summary, PROCEDURE = ces_summary_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS ces_summary_hash_ops DEFAULT FOR TYPE ces_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 ces_summary_hash(ces_summary),
    FUNCTION 2 ces_summary_hash_extended(ces_summary, bigint);

CREATE FUNCTION ces_agg_trans(ces_summary, integer) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'ces_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ces_agg_trans(ces_summary, integer, integer) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'ces_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ces_agg_untrans(ces_summary, integer) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'score_summary_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ces_agg_untrans(ces_summary, integer, integer) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'score_summary_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(ces_summary, ces_summary) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'score_summary_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(ces_summary, ces_summary) IS
    'Sum of two CES summaries on the same scale (else 22000); NULL on one side returns the other.';
CREATE FUNCTION ces_rollup_untrans(ces_summary, ces_summary) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'score_summary_unmerge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ces_summary_nonempty(ces_summary) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'score_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_rollup_mtrans(ces_summary, ces_summary) RETURNS ces_summary
    AS 'MODULE_PATHNAME', 'ces_rollup_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ces(ces_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ces(ces_summary) IS 'Customer Effort Score: the mean score (higher is easier).';
CREATE FUNCTION ces_agree_pct(ces_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_top_pct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ces_agree_pct(ces_summary) IS
    'Share agreeing, in percent: scores 5-7 on a 7-point scale, 4-5 on a 5-point scale.';
CREATE FUNCTION ces_agree(ces_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_top_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ces_agree(ces_summary) IS 'Number of agreeing responses (the numerator of ces_agree_pct).';
CREATE FUNCTION responses(ces_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_responses' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_counts(ces_summary) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'score_summary_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION scale(ces_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'score_summary_scale' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_ci_lower(ces_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_mean_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_ci_upper(ces_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_mean_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ces_ci_lower(ces_summary, double precision) IS
    'Lower end of the Student-t interval of the mean CES, clamped to the scale.';
COMMENT ON FUNCTION ces_ci_upper(ces_summary, double precision) IS
    'Upper end of the Student-t interval of the mean CES, clamped to the scale.';
CREATE FUNCTION ces_agree_ci_lower(ces_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_top_pct_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ces_agree_ci_upper(ces_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_top_pct_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ces_agree_ci_lower(ces_summary, double precision) IS
    'Lower end of the Wilson interval of ces_agree_pct, in percent.';
COMMENT ON FUNCTION ces_agree_ci_upper(ces_summary, double precision) IS
    'Upper end of the Wilson interval of ces_agree_pct, in percent.';

-- Aggregates cannot have parameter defaults, so the default scale (7) is an overload.
CREATE AGGREGATE ces_agg(score integer) (
    SFUNC = ces_agg_trans, STYPE = ces_summary, FINALFUNC = ces_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = ces_agg_trans, MINVFUNC = ces_agg_untrans, MSTYPE = ces_summary,
    MFINALFUNC = ces_summary_nonempty, PARALLEL = SAFE);
CREATE AGGREGATE ces_agg(score integer, scale integer) (
    SFUNC = ces_agg_trans, STYPE = ces_summary, FINALFUNC = ces_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = ces_agg_trans, MINVFUNC = ces_agg_untrans, MSTYPE = ces_summary,
    MFINALFUNC = ces_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE ces_agg(integer) IS 'Builds a ces_summary from 1..7 scores.';
COMMENT ON AGGREGATE ces_agg(integer, integer) IS
    'Builds a ces_summary from 1..scale scores; scale is 5 or 7 and constant per group.';

CREATE AGGREGATE ces(score integer) (
    SFUNC = ces_agg_trans, STYPE = ces_summary, FINALFUNC = ces, COMBINEFUNC = merge,
    MSFUNC = ces_agg_trans, MINVFUNC = ces_agg_untrans, MSTYPE = ces_summary,
    MFINALFUNC = ces, PARALLEL = SAFE);
CREATE AGGREGATE ces(score integer, scale integer) (
    SFUNC = ces_agg_trans, STYPE = ces_summary, FINALFUNC = ces, COMBINEFUNC = merge,
    MSFUNC = ces_agg_trans, MINVFUNC = ces_agg_untrans, MSTYPE = ces_summary,
    MFINALFUNC = ces, PARALLEL = SAFE);
COMMENT ON AGGREGATE ces(integer) IS 'Mean CES of 1..7 scores in one step.';
COMMENT ON AGGREGATE ces(integer, integer) IS 'Mean CES of 1..scale scores in one step.';

CREATE AGGREGATE rollup(ces_summary) (
    SFUNC = merge, STYPE = ces_summary, FINALFUNC = ces_summary_nonempty, COMBINEFUNC = merge,
    MSFUNC = ces_rollup_mtrans, MINVFUNC = ces_rollup_untrans, MSTYPE = ces_summary,
    MFINALFUNC = ces_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(ces_summary) IS
    'Merges stored CES summaries on one scale; NULLs are skipped.';
