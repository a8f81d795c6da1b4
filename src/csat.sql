
-- ======================================================================================
-- CSAT: csat_summary, the exact count of each score on a 3/5/7/10-point scale (or yes/no).
-- ======================================================================================

CREATE TYPE csat_summary;

CREATE FUNCTION csat_summary_in(cstring) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_out(csat_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'score_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_recv(internal) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_send(csat_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'score_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE csat_summary (
    INPUT = csat_summary_in, OUTPUT = csat_summary_out,
    RECEIVE = csat_summary_recv, SEND = csat_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE csat_summary IS
    'Exact CSAT summary: the scale and the count of each score. Build with csat_agg(score, scale), merge with rollup(s) or merge(a, b).';

CREATE FUNCTION csat_summary_eq(csat_summary, csat_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'score_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_ne(csat_summary, csat_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'score_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_hash(csat_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'score_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_summary_hash_extended(csat_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = csat_summary, RIGHTARG = csat_summary, PROCEDURE = csat_summary_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = csat_summary, RIGHTARG = csat_summary, PROCEDURE = csat_summary_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS csat_summary_hash_ops DEFAULT FOR TYPE csat_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 csat_summary_hash(csat_summary),
    FUNCTION 2 csat_summary_hash_extended(csat_summary, bigint);

CREATE FUNCTION csat_agg_trans(csat_summary, integer) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_trans(csat_summary, integer, integer) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_trans(csat_summary, boolean) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_agg_bool_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_untrans(csat_summary, integer) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'score_summary_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_untrans(csat_summary, integer, integer) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'score_summary_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_agg_untrans(csat_summary, boolean) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_agg_bool_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(csat_summary, csat_summary) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'score_summary_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(csat_summary, csat_summary) IS
    'Sum of two CSAT summaries on the same scale (else 22000); NULL on one side returns the other.';
CREATE FUNCTION csat_rollup_untrans(csat_summary, csat_summary) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'score_summary_unmerge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION csat_summary_nonempty(csat_summary) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'score_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_rollup_mtrans(csat_summary, csat_summary) RETURNS csat_summary
    AS 'MODULE_PATHNAME', 'csat_rollup_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION csat(csat_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_top_pct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION csat(csat_summary) IS
    'CSAT in percent: satisfied (top two boxes; top box on 3-point and yes/no scales) / responses x 100.';
CREATE FUNCTION csat_mean(csat_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION csat_mean(csat_summary) IS
    'Mean score on the summary''s scale (e.g. 4.2 on 1-5); NULL for yes/no surveys.';
CREATE FUNCTION responses(csat_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_responses' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION satisfied(csat_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_top_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_counts(csat_summary) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'score_summary_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION score_counts(csat_summary) IS
    'Count of each score as bigint[] with subscripts 1..scale: score_counts(s)[5] is the number of fives.';
CREATE FUNCTION scale(csat_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'score_summary_scale' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scale(csat_summary) IS 'Highest score of the scale (2 means a yes/no survey).';
CREATE FUNCTION csat_ci_lower(csat_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_top_pct_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_ci_upper(csat_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_top_pct_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION csat_ci_lower(csat_summary, double precision) IS
    'Lower end of the Wilson score interval of CSAT, in percent.';
COMMENT ON FUNCTION csat_ci_upper(csat_summary, double precision) IS
    'Upper end of the Wilson score interval of CSAT, in percent.';
CREATE FUNCTION csat_mean_ci_lower(csat_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_mean_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION csat_mean_ci_upper(csat_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'score_summary_mean_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION csat_mean_ci_lower(csat_summary, double precision) IS
    'Lower end of the Student-t interval of the mean score, clamped to the scale.';
COMMENT ON FUNCTION csat_mean_ci_upper(csat_summary, double precision) IS
    'Upper end of the Student-t interval of the mean score, clamped to the scale.';

-- Aggregates cannot have parameter defaults, so the default scale (5) is an overload.
CREATE AGGREGATE csat_agg(score integer) (
    SFUNC = csat_agg_trans, STYPE = csat_summary, FINALFUNC = csat_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = csat_agg_trans, MINVFUNC = csat_agg_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat_summary_nonempty, PARALLEL = SAFE);
CREATE AGGREGATE csat_agg(score integer, scale integer) (
    SFUNC = csat_agg_trans, STYPE = csat_summary, FINALFUNC = csat_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = csat_agg_trans, MINVFUNC = csat_agg_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat_summary_nonempty, PARALLEL = SAFE);
CREATE AGGREGATE csat_agg(satisfied boolean) (
    SFUNC = csat_agg_trans, STYPE = csat_summary, FINALFUNC = csat_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = csat_agg_trans, MINVFUNC = csat_agg_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE csat_agg(integer) IS 'Builds a csat_summary from 1..5 scores.';
COMMENT ON AGGREGATE csat_agg(integer, integer) IS
    'Builds a csat_summary from 1..scale scores; scale is 3, 5, 7 or 10 and constant per group.';
COMMENT ON AGGREGATE csat_agg(boolean) IS 'Builds a csat_summary from yes/no answers.';

CREATE AGGREGATE csat(score integer) (
    SFUNC = csat_agg_trans, STYPE = csat_summary, FINALFUNC = csat, COMBINEFUNC = merge,
    MSFUNC = csat_agg_trans, MINVFUNC = csat_agg_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat, PARALLEL = SAFE);
CREATE AGGREGATE csat(score integer, scale integer) (
    SFUNC = csat_agg_trans, STYPE = csat_summary, FINALFUNC = csat, COMBINEFUNC = merge,
    MSFUNC = csat_agg_trans, MINVFUNC = csat_agg_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat, PARALLEL = SAFE);
CREATE AGGREGATE csat(satisfied boolean) (
    SFUNC = csat_agg_trans, STYPE = csat_summary, FINALFUNC = csat, COMBINEFUNC = merge,
    MSFUNC = csat_agg_trans, MINVFUNC = csat_agg_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat, PARALLEL = SAFE);
COMMENT ON AGGREGATE csat(boolean) IS 'CSAT (percent yes) of yes/no answers in one step.';
COMMENT ON AGGREGATE csat(integer) IS 'CSAT (percent satisfied) of 1..5 scores in one step.';
COMMENT ON AGGREGATE csat(integer, integer) IS 'CSAT (percent satisfied) of 1..scale scores in one step.';

CREATE AGGREGATE rollup(csat_summary) (
    SFUNC = merge, STYPE = csat_summary, FINALFUNC = csat_summary_nonempty, COMBINEFUNC = merge,
    MSFUNC = csat_rollup_mtrans, MINVFUNC = csat_rollup_untrans, MSTYPE = csat_summary,
    MFINALFUNC = csat_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(csat_summary) IS
    'Merges stored CSAT summaries on one scale; NULLs are skipped.';
