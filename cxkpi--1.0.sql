-- FROZEN: the install script of cxkpi 1.0 exactly as it shipped (assembled from src/*.sql at
-- 1.0).  Never edit it: every change since goes into cxkpi--1.0--1.1.sql and src/*.sql.
-- cxkpi install script, assembled by the Makefile from src/*.sql (one file per KPI family).
\echo Use "CREATE EXTENSION cxkpi" to load this file. \quit

-- Conventions of every summary type below:
--  * the summary is the build aggregate's state type, with a combine function, so parallel
--    query, Citus and postgres_fdw merge partial results;
--  * text I/O is lossless and starts with a format version ("(v1,..."); binary send/recv
--    validate exactly like text input (22P02 / 22P03);
--  * accessors are IMMUTABLE STRICT PARALLEL SAFE; a ratio over no responses is NULL.

-- ======================================================================================
-- NPS: nps_summary, the exact count of each 0..10 "how likely to recommend" score.
-- ======================================================================================

CREATE TYPE nps_summary;

CREATE FUNCTION nps_summary_in(cstring) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'nps_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_out(nps_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'score_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_recv(internal) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'nps_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_send(nps_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'score_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE nps_summary (
    INPUT = nps_summary_in, OUTPUT = nps_summary_out,
    RECEIVE = nps_summary_recv, SEND = nps_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE nps_summary IS
    'Exact NPS summary: the count of each score 0..10. Build with nps_agg(score), merge with rollup(s) or merge(a, b).';

-- equality and hashing (DISTINCT, GROUP BY, EXCEPT on summaries)
CREATE FUNCTION nps_summary_eq(nps_summary, nps_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'score_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_ne(nps_summary, nps_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'score_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_hash(nps_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'score_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_summary_hash_extended(nps_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = nps_summary, RIGHTARG = nps_summary, PROCEDURE = nps_summary_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = nps_summary, RIGHTARG = nps_summary, PROCEDURE = nps_summary_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS nps_summary_hash_ops DEFAULT FOR TYPE nps_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 nps_summary_hash(nps_summary),
    FUNCTION 2 nps_summary_hash_extended(nps_summary, bigint);

-- building, merging, window frames
CREATE FUNCTION nps_agg_trans(nps_summary, integer) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'nps_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION nps_agg_untrans(nps_summary, integer) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'score_summary_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(nps_summary, nps_summary) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'score_summary_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(nps_summary, nps_summary) IS
    'Sum of two NPS summaries; NULL on one side returns the other.';
CREATE FUNCTION nps_rollup_untrans(nps_summary, nps_summary) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'score_summary_unmerge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION nps_summary_nonempty(nps_summary) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'score_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_rollup_mtrans(nps_summary, nps_summary) RETURNS nps_summary
    AS 'MODULE_PATHNAME', 'nps_rollup_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- accessors
CREATE FUNCTION nps(nps_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps(nps_summary) IS
    'Net Promoter Score in points (-100..100): % promoters (9-10) - % detractors (0-6).';
CREATE FUNCTION responses(nps_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'score_summary_responses' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION promoters(nps_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'nps_promoters' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION passives(nps_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'nps_passives' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION detractors(nps_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'nps_detractors' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION promoter_pct(nps_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_promoter_pct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION passive_pct(nps_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_passive_pct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION detractor_pct(nps_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_detractor_pct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_counts(nps_summary) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'score_summary_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION score_counts(nps_summary) IS
    'Count of each score as bigint[] with subscripts 0..10: score_counts(s)[9] is the number of nines.';
CREATE FUNCTION nps_stderr(nps_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_stderr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps_stderr(nps_summary) IS
    'Wald standard error of NPS in points: 100 * sqrt((p + d - (p - d)^2) / n).';
CREATE FUNCTION nps_ci_lower(nps_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nps_ci_upper(nps_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps_ci_lower(nps_summary, double precision) IS
    'Lower end of the adjusted-Wald interval for NPS (Rocks 2016), in points, clamped to -100.';
COMMENT ON FUNCTION nps_ci_upper(nps_summary, double precision) IS
    'Upper end of the adjusted-Wald interval for NPS (Rocks 2016), in points, clamped to 100.';
CREATE FUNCTION nps_margin_of_error(nps_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_margin_of_error' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps_margin_of_error(nps_summary, double precision) IS
    'Half the width of the adjusted-Wald interval, in points.';
CREATE FUNCTION nps_diff_pvalue(a nps_summary, b nps_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_diff_pvalue' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nps_diff_pvalue(nps_summary, nps_summary) IS
    'Two-sided p-value that two independent samples differ in NPS (adjusted-Wald z test).';

-- aggregates
CREATE AGGREGATE nps_agg(score integer) (
    SFUNC = nps_agg_trans, STYPE = nps_summary, FINALFUNC = nps_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = nps_agg_trans, MINVFUNC = nps_agg_untrans, MSTYPE = nps_summary,
    MFINALFUNC = nps_summary_nonempty,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE nps_agg(integer) IS
    'Builds an nps_summary from 0..10 scores; NULL scores are skipped, no rows gives NULL.';

CREATE AGGREGATE nps(score integer) (
    SFUNC = nps_agg_trans, STYPE = nps_summary, FINALFUNC = nps,
    COMBINEFUNC = merge,
    MSFUNC = nps_agg_trans, MINVFUNC = nps_agg_untrans, MSTYPE = nps_summary, MFINALFUNC = nps,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE nps(integer) IS
    'Net Promoter Score of 0..10 scores in one step, in points (-100..100).';

CREATE AGGREGATE rollup(nps_summary) (
    SFUNC = merge, STYPE = nps_summary, FINALFUNC = nps_summary_nonempty, COMBINEFUNC = merge,
    MSFUNC = nps_rollup_mtrans, MINVFUNC = nps_rollup_untrans, MSTYPE = nps_summary,
    MFINALFUNC = nps_summary_nonempty,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(nps_summary) IS
    'Merges stored NPS summaries (daily to monthly, shard to total); NULLs are skipped.';

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

-- ======================================================================================
-- Returns: return_summary, order-level return counts and exact money sums
-- (one input row per order).
-- ======================================================================================

CREATE TYPE return_summary;

CREATE FUNCTION return_summary_in(cstring) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_out(return_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'return_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_recv(internal) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_send(return_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'return_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE return_summary (
    INPUT = return_summary_in, OUTPUT = return_summary_out,
    RECEIVE = return_summary_recv, SEND = return_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE return_summary IS
    'Exact returns summary: order, item and return counts and exact money sums. Build with return_agg(items_ordered, items_returned [, order_value, returned_value]).';

CREATE FUNCTION return_summary_eq(return_summary, return_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'return_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_ne(return_summary, return_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'return_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_hash(return_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'return_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_hash_extended(return_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = return_summary, RIGHTARG = return_summary, PROCEDURE = return_summary_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = return_summary, RIGHTARG = return_summary, PROCEDURE = return_summary_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS return_summary_hash_ops DEFAULT FOR TYPE return_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 return_summary_hash(return_summary),
    FUNCTION 2 return_summary_hash_extended(return_summary, bigint);

CREATE FUNCTION return_agg_trans(return_summary, integer, integer) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_agg_trans(return_summary, integer, integer, numeric, numeric) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_agg_untrans(return_summary, integer, integer) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_agg_untrans(return_summary, integer, integer, numeric, numeric) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(return_summary, return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(return_summary, return_summary) IS
    'Sum of two returns summaries; NULL on one side returns the other.';
CREATE FUNCTION return_rollup_untrans(return_summary, return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_unmerge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_summary_nonempty(return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_rollup_mtrans(return_summary, return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_rollup_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- accessors: counts
CREATE FUNCTION orders(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_orders' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders_with_return(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_with_return' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orders_with_return(return_summary) IS 'Orders with at least one returned item.';
CREATE FUNCTION orders_fully_returned(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_fully_returned' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orders_fully_returned(return_summary) IS 'Orders whose every item was returned.';
CREATE FUNCTION items_ordered(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_items' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION items_returned(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_items_returned' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION valued_orders(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_valued_orders' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION valued_orders(return_summary) IS
    'Orders whose order_value and returned_value were both given: the base of the money sums and averages.';

CREATE FUNCTION valued_orders_with_return(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_valued_with_return' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION valued_orders_with_return(return_summary) IS
    'Valued orders with at least one returned item: the denominator of avg_return_value.';

-- accessors: rates (percent) and money
CREATE FUNCTION return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION return_rate(return_summary) IS
    'Order return rate in percent: orders with at least one returned item / orders x 100.';
CREATE FUNCTION full_return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_full_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION full_return_rate(return_summary) IS
    'Orders whose every item came back / orders x 100.';
CREATE FUNCTION full_return_share(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_full_return_share' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION full_return_share(return_summary) IS
    'Orders whose every item came back / orders with a return x 100.';
CREATE FUNCTION item_return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_item_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION item_return_rate(return_summary) IS 'Items returned / items ordered x 100.';
CREATE FUNCTION value_return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_value_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION value_return_rate(return_summary) IS
    'Returned value / order value x 100, over the valued orders.';
CREATE FUNCTION order_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_order_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_value(return_summary) IS 'Exact sum of order values (NULL without valued orders).';
CREATE FUNCTION returned_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_returned_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION returned_value(return_summary) IS 'Exact sum of returned values (NULL without valued orders).';
CREATE FUNCTION avg_order_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_avg_order_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION avg_order_value(return_summary) IS 'order_value / valued_orders.';
CREATE FUNCTION avg_return_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_avg_return_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION avg_return_value(return_summary) IS
    'returned_value / valued orders with a return.';
CREATE FUNCTION return_rate_ci_lower(return_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_rate_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_rate_ci_upper(return_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_rate_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION return_rate_ci_lower(return_summary, double precision) IS
    'Lower end of the Wilson interval of the order return rate, in percent.';
COMMENT ON FUNCTION return_rate_ci_upper(return_summary, double precision) IS
    'Upper end of the Wilson interval of the order return rate, in percent.';

-- aggregates
CREATE AGGREGATE return_agg(items_ordered integer, items_returned integer) (
    SFUNC = return_agg_trans, STYPE = return_summary, FINALFUNC = return_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = return_agg_trans, MINVFUNC = return_agg_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE return_agg(integer, integer) IS
    'Builds a return_summary, one row per order; NULL rows are skipped.';
CREATE AGGREGATE return_agg(items_ordered integer, items_returned integer,
                            order_value numeric, returned_value numeric) (
    SFUNC = return_agg_trans, STYPE = return_summary, FINALFUNC = return_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = return_agg_trans, MINVFUNC = return_agg_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE return_agg(integer, integer, numeric, numeric) IS
    'Builds a return_summary with exact money sums; an order with a NULL value is counted without its values.';
CREATE AGGREGATE return_rate(items_ordered integer, items_returned integer) (
    SFUNC = return_agg_trans, STYPE = return_summary, FINALFUNC = return_rate, COMBINEFUNC = merge,
    MSFUNC = return_agg_trans, MINVFUNC = return_agg_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_rate, PARALLEL = SAFE);
COMMENT ON AGGREGATE return_rate(integer, integer) IS
    'Order return rate in percent in one step.';
CREATE AGGREGATE rollup(return_summary) (
    SFUNC = merge, STYPE = return_summary, FINALFUNC = return_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = return_rollup_mtrans, MINVFUNC = return_rollup_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(return_summary) IS 'Merges stored returns summaries; NULLs are skipped.';

-- ======================================================================================
-- Retention: retention_summary, the exact set of active customer ids per period (day, ISO
-- week, month, quarter, year) in compressed bitmaps (CRoaring); retention, churn, CRR,
-- new and reactivated customers, repeat customers and cohort matrices read from it.
-- ======================================================================================

CREATE TYPE retention_summary;

CREATE FUNCTION retention_summary_in(cstring) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_out(retention_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'retention_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_recv(internal) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_send(retention_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'retention_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The bitmaps are already compressed: stored out of line when large, never pglz'd.
CREATE TYPE retention_summary (
    INPUT = retention_summary_in, OUTPUT = retention_summary_out,
    RECEIVE = retention_summary_recv, SEND = retention_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = external);
COMMENT ON TYPE retention_summary IS
    'Exact set of active customer ids per period (compressed bitmaps). Build with retention_agg(customer_id, active_on [, period]).';

CREATE FUNCTION retention_summary_eq(retention_summary, retention_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'retention_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_ne(retention_summary, retention_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'retention_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_hash(retention_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'retention_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_hash_extended(retention_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = retention_summary, RIGHTARG = retention_summary,
    PROCEDURE = retention_summary_eq, COMMUTATOR = =, NEGATOR = <>,
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = retention_summary, RIGHTARG = retention_summary,
    PROCEDURE = retention_summary_ne, COMMUTATOR = <>, NEGATOR = =,
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS retention_summary_hash_ops DEFAULT FOR TYPE retention_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 retention_summary_hash(retention_summary),
    FUNCTION 2 retention_summary_hash_extended(retention_summary, bigint);

CREATE FUNCTION retention_agg_trans(retention_summary, bigint, date, text) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention_agg_trans(retention_summary, bigint, date) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(retention_summary, retention_summary) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(retention_summary, retention_summary) IS
    'Union of two retention summaries, period by period; NULL on one side returns the other.';
CREATE FUNCTION retention_summary_nonempty(retention_summary) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION retention_agg_combine(retention_summary, retention_summary) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_agg_combine(retention_summary, retention_summary) IS
    'Combine function of retention_agg: merge() of partial states; a period change raises 22023.';
CREATE AGGREGATE retention_agg(customer_id bigint, active_on date, period text) (
    SFUNC = retention_agg_trans, STYPE = retention_summary,
    FINALFUNC = retention_summary_nonempty, COMBINEFUNC = retention_agg_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention_agg(bigint, date, text) IS
    'Builds a retention_summary: the set of active customers per period (day, week, month, quarter, year); NULL rows are skipped.';
CREATE AGGREGATE retention_agg(customer_id bigint, active_on date) (
    SFUNC = retention_agg_trans, STYPE = retention_summary,
    FINALFUNC = retention_summary_nonempty, COMBINEFUNC = retention_agg_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention_agg(bigint, date) IS
    'Builds a monthly retention_summary; NULL rows are skipped.';
CREATE AGGREGATE rollup(retention_summary) (
    SFUNC = merge, STYPE = retention_summary, FINALFUNC = retention_summary_nonempty,
    COMBINEFUNC = merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(retention_summary) IS
    'Merges stored retention summaries (union per period); NULLs are skipped.';

-- accessors: the summary
CREATE FUNCTION customers(retention_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customers(retention_summary) IS 'Distinct customers over all periods.';
CREATE FUNCTION periods(retention_summary) RETURNS SETOF date
    AS 'MODULE_PATHNAME', 'retention_periods' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 24;
COMMENT ON FUNCTION periods(retention_summary) IS
    'First day of every period with at least one active customer, in order.';
CREATE FUNCTION retention_period(retention_summary) RETURNS text
    AS 'MODULE_PATHNAME', 'retention_summary_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_period(retention_summary) IS
    'The period of the summary: day, week, month, quarter or year.';
CREATE FUNCTION repeat_customer_rate(retention_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_repeat_customer_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION repeat_customer_rate(retention_summary) IS
    'Customers active in two or more periods / customers x 100.';

-- accessors: one period p (its first day) and an active window of W periods
CREATE FUNCTION active_customers(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_active_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION active_customers(retention_summary, date, integer) IS
    'Customers active at the end of the period: in any of the active_window periods ending with it.';
CREATE FUNCTION new_customers(retention_summary, period_start date) RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_new_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION new_customers(retention_summary, date) IS
    'Customers whose first activity in the summary falls in the period.';
CREATE FUNCTION retained_customers(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_retained_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retained_customers(retention_summary, date, integer) IS
    'Customers active at the end of the previous period and at the end of this one.';
CREATE FUNCTION reactivated_customers(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_reactivated_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION reactivated_customers(retention_summary, date, integer) IS
    'Customers active at the end of the period, not at the end of the previous one, and seen before: E - N = retained + reactivated.';
CREATE FUNCTION retention_rate(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_retention_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_rate(retention_summary, date, integer) IS
    'Retained customers / customers active at the end of the previous period x 100 (NULL when none were).';
CREATE FUNCTION churn_rate(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_churn_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION churn_rate(retention_summary, date, integer) IS '100 - retention_rate.';
CREATE FUNCTION crr(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_crr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crr(retention_summary, date, integer) IS
    'Customer retention rate (E - N) / S x 100 (S, E: active at the ends of the previous period and of this one; N: new).';

-- cohorts
CREATE FUNCTION cohort_retention(retention_summary, mode text DEFAULT 'on',
    OUT cohort date, OUT period_offset integer, OUT cohort_size bigint, OUT active bigint,
    OUT retention_pct double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'retention_cohort_retention' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cohort_retention(retention_summary, text) IS
    'Cohort matrix: cohort = period of first activity; active k periods later (mode on) or k or more periods later (mode on_or_after).';

-- the seed formula on counts
CREATE FUNCTION retention_rate(customers_at_start bigint, customers_at_end bigint, new_customers bigint)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_rate_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_rate(bigint, bigint, bigint) IS
    'Customer retention rate (E - N) / S x 100.';

-- every period metric for every period, in one pass
CREATE FUNCTION retention_by_period(retention_summary, active_window integer DEFAULT 1,
    OUT period_start date, OUT active_customers bigint, OUT new_customers bigint,
    OUT retained_customers bigint, OUT reactivated_customers bigint,
    OUT retention_rate double precision, OUT churn_rate double precision, OUT crr double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'retention_by_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_by_period(retention_summary, integer) IS
    'Every period from the first to the last with its active, new, retained and reactivated customers, retention, churn and CRR (one pass).';

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

CREATE FUNCTION churn_risk(m bgnbd_model, frequency integer, recency double precision, t double precision,
                           horizon double precision) RETURNS text
    AS 'MODULE_PATHNAME', 'clv_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_risk(m mbgnbd_model, frequency integer, recency double precision, t double precision,
                           horizon double precision) RETURNS text
    AS 'MODULE_PATHNAME', 'clv_churn_risk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION churn_risk(bgnbd_model, integer, double precision, double precision, double precision) IS
    'low / medium / high: probability of no purchase in the horizon under 1/3, 1/3 to 2/3, over 2/3.';
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
        'loyalty_active_days', 'csat_scale', 'ces_scale', 'alert_grain'))
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
        hint := 'Use day, week, month, quarter or year, then CALL cxkpi.check_thresholds() to rebuild the alert states.';
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
    WHEN 'csat_scale' THEN
        ok := NEW.value IN ('2', '3', '5', '7', '10');
        hint := 'Use 2, 3, 5, 7 or 10.';
    WHEN 'ces_scale' THEN
        ok := NEW.value IN ('5', '7');
        hint := 'Use 5 or 7.';
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
    CONSTRAINT kpi_definitions_range CHECK (value_min IS NULL OR value_max IS NULL OR value_min < value_max)
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
    min_sample_size  bigint NOT NULL DEFAULT 30 CHECK (min_sample_size >= 0),
    recovery_margin  double precision NOT NULL DEFAULT 0 CHECK (recovery_margin BETWEEN 0 AND 1e300),
    enabled          boolean NOT NULL DEFAULT true,
    is_default       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kpi, dimension, valid_from),
    CONSTRAINT kpi_targets_finite CHECK (
        (target IS NULL OR target BETWEEN -1e300 AND 1e300)
        AND (red_threshold IS NULL OR red_threshold BETWEEN -1e300 AND 1e300)
        AND (yellow_threshold IS NULL OR yellow_threshold BETWEEN -1e300 AND 1e300))
);
COMMENT ON TABLE cxkpi.kpi_targets IS
    'Targets and red/yellow action thresholds per KPI, optionally per dimension value (dimension '''' = every breakdown), valid from a date. Red when the value is beyond red_threshold (below it for higher-is-better KPIs, above it for lower-is-better), yellow when beyond yellow_threshold, insufficient data below min_sample_size.';

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
                   value_min = NEW.value_min, value_max = NEW.value_max, is_default = false
             WHERE kpi = NEW.kpi AND is_default;
        ELSIF TG_TABLE_NAME = 'kpi_targets' THEN
            UPDATE cxkpi.kpi_targets SET target = NEW.target, red_threshold = NEW.red_threshold,
                   yellow_threshold = NEW.yellow_threshold, min_sample_size = NEW.min_sample_size,
                   recovery_margin = NEW.recovery_margin, enabled = NEW.enabled, is_default = false
             WHERE kpi = NEW.kpi AND dimension = NEW.dimension AND valid_from = NEW.valid_from AND is_default;
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
    ('alert_grain', 'month', 'Period of the alert states (day, week, month, quarter or year); see docs/alerts.md.', true);

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
     'AOV * purchase frequency * expected lifespan in periods (100 / churn_rate), all at the same grain', 'builtin', 0, NULL, true);

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

CREATE FUNCTION cxkpi.as_of() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(nullif(cxkpi.setting('as_of'), '')::date,
                          (now() AT TIME ZONE cxkpi.setting('time_zone'))::date) $$;
COMMENT ON FUNCTION cxkpi.as_of() IS
    'Reference date of the scorecard: setting as_of, or current_date when it is empty.';

-- The length of one period of a grain, as an interval.
CREATE FUNCTION cxkpi.grain_interval(grain text) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    CASE grain
    WHEN 'day' THEN RETURN interval '1 day';
    WHEN 'week' THEN RETURN interval '7 days';
    WHEN 'month' THEN RETURN interval '1 month';
    WHEN 'quarter' THEN RETURN interval '3 months';
    WHEN 'year' THEN RETURN interval '1 year';
    ELSE
        RAISE EXCEPTION 'unknown grain "%"', grain USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use day, week, month, quarter or year.';
    END CASE;
END $$;
COMMENT ON FUNCTION cxkpi.grain_interval(text) IS 'Length of one period of a grain (day, week, month, quarter, year).';

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
    period_end := (period_start + cxkpi.grain_interval(grain))::date - 1;
END $$;
COMMENT ON FUNCTION cxkpi.period_bounds(text, date) IS
    'First and last day of the day / ISO week / month / quarter / year containing a date.';

-- The status of one KPI value against its thresholds: 'insufficient data' when there is no
-- value or fewer observations than min_sample_size; 'red' when the value is beyond the red
-- threshold (strictly: below it when higher is better, above it when lower is better); 'yellow'
-- likewise for the yellow threshold; 'green' otherwise; 'no target' when neither threshold nor
-- target is set.  Issue 7's alert rules call this same function.
CREATE FUNCTION cxkpi.kpi_status(direction text, value double precision, sample_size bigint,
                                 target double precision, red_threshold double precision,
                                 yellow_threshold double precision, min_sample_size bigint DEFAULT 1)
    RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF direction IS NULL OR direction NOT IN ('higher_is_better', 'lower_is_better') THEN
        RAISE EXCEPTION 'invalid KPI direction "%"', direction USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use higher_is_better or lower_is_better.';
    END IF;
    IF red_threshold IS NULL AND yellow_threshold IS NULL AND target IS NULL THEN
        RETURN 'no target';
    END IF;
    IF value IS NULL OR value = 'NaN' OR coalesce(sample_size, 0) < coalesce(min_sample_size, 1)
       OR coalesce(sample_size, 0) = 0 THEN
        RETURN 'insufficient data';
    END IF;
    IF direction = 'higher_is_better' THEN
        IF value < red_threshold THEN RETURN 'red'; END IF;
        IF value < yellow_threshold THEN RETURN 'yellow'; END IF;
    ELSE
        IF value > red_threshold THEN RETURN 'red'; END IF;
        IF value > yellow_threshold THEN RETURN 'yellow'; END IF;
    END IF;
    RETURN 'green';
END $$;
COMMENT ON FUNCTION cxkpi.kpi_status(text, double precision, bigint, double precision, double precision, double precision, bigint) IS
    'Status of a KPI value: red / yellow / green / insufficient data / no target (thresholds are strict: NPS 35 is not below 35).';

-- Whether a value meets its target: at least the target when higher is better, below it when
-- lower is better (seed 000 writes lower-is-better targets as "<60%", "<1 hour").
CREATE FUNCTION cxkpi.meets_target(direction text, value double precision, target double precision)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE direction WHEN 'higher_is_better' THEN value >= target
                                WHEN 'lower_is_better' THEN value < target END $$;
COMMENT ON FUNCTION cxkpi.meets_target(text, double precision, double precision) IS
    'True when a value meets its target (>= target if higher is better, < target if lower is better).';

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
COMMENT ON TABLE cxkpi.loyalty_members IS 'Loyalty programme members: enrolment date and the date of the last known activity (earning or redeeming).';

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
    'One row per survey answer: survey nps (0-10), csat (1-scale; scale 2 = no/yes) or ces (CES 2.0, 1-5 or 1-7, higher is easier), touchpoint channel and comment.';

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
-- The CX dashboard, part 2: daily rollups (materialized views holding summary types and additive
-- counts per day and dimension), the long-format KPI table built from them for every grain, and
-- the refresh procedure.  Week / month / quarter / year figures are rollup() of daily summaries
-- or sums of daily counts: ratios are never averaged.
--
-- Days are calendar days in the time zone of setting time_zone.  Every matview has a unique
-- index on its key columns (all NOT NULL), as REFRESH MATERIALIZED VIEW CONCURRENTLY needs.
-- The settings are read once per refresh (a MATERIALIZED CTE or an OFFSET 0 subquery), not once
-- per row.

-- Survey answers per day, survey, touchpoint channel and scale.
CREATE MATERIALIZED VIEW cxkpi.daily_surveys AS
SELECT (r.responded_at AT TIME ZONE c.tz)::date AS day, r.survey, r.channel, r.scale,
       count(*) AS responses,
       @extschema@.nps_agg(r.score) FILTER (WHERE r.survey = 'nps') AS nps,
       @extschema@.csat_agg(r.score, r.scale) FILTER (WHERE r.survey = 'csat') AS csat,
       @extschema@.ces_agg(r.score, r.scale) FILTER (WHERE r.survey = 'ces') AS ces
FROM cxkpi.survey_responses AS r, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2, 3, 4;
CREATE UNIQUE INDEX daily_surveys_key ON cxkpi.daily_surveys (day, survey, channel, scale);

-- Orders per day, channel, segment and first/later order, with a return_summary (order-date
-- basis: a return counts in its order's day).  Segment: loyalty when the customer was enrolled
-- by the order day, else new for the customer's first order, else returning.
CREATE MATERIALIZED VIEW cxkpi.daily_orders AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz),
ret AS (
    SELECT order_id, sum(items_returned)::integer AS items_returned, sum(value_returned) AS value_returned
    FROM cxkpi.order_returns GROUP BY order_id),
o AS (
    SELECT o.order_id, o.customer_id, o.channel, o.items, o.gross_value, o.discount,
           (o.ordered_at AT TIME ZONE c.tz)::date AS day,
           row_number() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at, o.order_id) = 1 AS first_order
    FROM cxkpi.orders AS o, c)
SELECT o.day, o.channel,
       CASE WHEN m.enrolled_on <= o.day THEN 'loyalty' WHEN o.first_order THEN 'new' ELSE 'returning' END AS segment,
       o.first_order,
       count(*) AS orders, sum(o.items) AS items, sum(o.gross_value) AS gross_value,
       sum(o.discount) AS discount, sum(o.gross_value - o.discount) AS net_value,
       @extschema@.return_agg(o.items, coalesce(r.items_returned, 0), o.gross_value - o.discount,
                              coalesce(r.value_returned, 0)) AS returns
FROM o LEFT JOIN ret AS r USING (order_id) LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)
GROUP BY 1, 2, 3, 4;
CREATE UNIQUE INDEX daily_orders_key ON cxkpi.daily_orders (day, channel, segment, first_order);

-- Ordering customers per day, as retention summaries: by day (distinct and repeat customers of
-- any period) and by week, month, quarter and year (retention of each grain).
CREATE MATERIALIZED VIEW cxkpi.daily_customer_activity AS
SELECT (o.ordered_at AT TIME ZONE c.tz)::date AS day, count(*) AS orders,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'day') AS by_day,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'week') AS by_week,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'month') AS by_month,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'quarter') AS by_quarter,
       @extschema@.retention_agg(o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date, 'year') AS by_year
FROM cxkpi.orders AS o, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1;
CREATE UNIQUE INDEX daily_customer_activity_key ON cxkpi.daily_customer_activity (day);

-- Visits and conversions per day and device: web and app sessions, and stores (visitors from
-- the footfall counters, conversions = store orders).
CREATE MATERIALIZED VIEW cxkpi.daily_conversion AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz)
SELECT day, device, sum(visits)::bigint AS visits, sum(added_to_cart)::bigint AS added_to_cart,
       sum(reached_checkout)::bigint AS reached_checkout, sum(conversions)::bigint AS conversions
FROM (SELECT (s.started_at AT TIME ZONE c.tz)::date AS day, s.device, count(*) AS visits,
             count(*) FILTER (WHERE s.added_to_cart) AS added_to_cart,
             count(*) FILTER (WHERE s.reached_checkout) AS reached_checkout,
             count(*) FILTER (WHERE s.converted) AS conversions
      FROM cxkpi.web_sessions AS s, c GROUP BY 1, 2
      UNION ALL
      SELECT visit_date, 'store', sum(visitors), 0, 0, 0 FROM cxkpi.store_traffic GROUP BY 1
      UNION ALL
      SELECT (o.ordered_at AT TIME ZONE c.tz)::date, 'store', 0, 0, 0, count(*)
      FROM cxkpi.orders AS o, c WHERE o.channel = 'store' GROUP BY 1) AS u
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_conversion_key ON cxkpi.daily_conversion (day, device);

-- Carts per creation day and device (cohort of the creation day).
CREATE MATERIALIZED VIEW cxkpi.daily_carts AS
SELECT (k.created_at AT TIME ZONE c.tz)::date AS day, k.device, count(*) AS carts,
       count(*) FILTER (WHERE k.converted_at IS NOT NULL) AS converted,
       count(*) FILTER (WHERE k.converted_at IS NULL) AS abandoned,
       count(*) FILTER (WHERE k.recovered_at IS NOT NULL) AS recovered
FROM cxkpi.carts AS k, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_carts_key ON cxkpi.daily_carts (day, device);

-- Tickets per creation day and channel (cohort of the creation day).  First response times
-- are kept exactly, as a sorted array of hours, because medians and percentiles do not merge.
CREATE MATERIALIZED VIEW cxkpi.daily_tickets AS
SELECT (t.created_at AT TIME ZONE c.tz)::date AS day, t.channel, count(*) AS tickets,
       count(t.first_response_at) AS responded,
       coalesce(sum(extract(epoch FROM t.first_response_at - t.created_at) / 3600), 0)::double precision
           AS response_hours_sum,
       coalesce(array_agg(extract(epoch FROM t.first_response_at - t.created_at)::double precision / 3600
                          ORDER BY t.first_response_at - t.created_at)
                    FILTER (WHERE t.first_response_at IS NOT NULL), '{}') AS response_hours,
       count(t.resolved_at) AS resolved,
       count(*) FILTER (WHERE t.resolved_at IS NOT NULL AND t.contacts_to_resolve = 1 AND NOT t.reopened)
           AS first_contact_resolved
FROM cxkpi.support_tickets AS t, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_tickets_key ON cxkpi.daily_tickets (day, channel);

-- Loyalty: enrolments per day, and member activity per day (orders on or after the enrolment
-- day, and the last known activity date) as a daily retention summary.
CREATE MATERIALIZED VIEW cxkpi.daily_loyalty AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz),
activity AS (
    SELECT o.customer_id, (o.ordered_at AT TIME ZONE c.tz)::date AS day
    FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m USING (customer_id), c
    WHERE (o.ordered_at AT TIME ZONE c.tz)::date >= m.enrolled_on
    UNION ALL
    SELECT customer_id, last_active_on FROM cxkpi.loyalty_members WHERE last_active_on IS NOT NULL),
days AS (
    SELECT day, customer_id, 0 AS enrolled FROM activity
    UNION ALL
    SELECT enrolled_on, customer_id, 1 FROM cxkpi.loyalty_members)
SELECT day, sum(enrolled)::bigint AS enrolled,
       @extschema@.retention_agg(customer_id, day, 'day') FILTER (WHERE enrolled = 0) AS active
FROM days GROUP BY day;
CREATE UNIQUE INDEX daily_loyalty_key ON cxkpi.daily_loyalty (day);

-- App ratings per day and store, as 5-point CSAT summaries (mean rating and its t interval).
CREATE MATERIALIZED VIEW cxkpi.daily_app_ratings AS
SELECT (a.rated_at AT TIME ZONE c.tz)::date AS day, a.app_store,
       @extschema@.csat_agg(a.rating, 5) AS ratings
FROM cxkpi.app_ratings AS a, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_app_ratings_key ON cxkpi.daily_app_ratings (day, app_store);

-- Observed secondary metrics: weighted sums per day, KPI and dimension.
CREATE MATERIALIZED VIEW cxkpi.daily_observations AS
SELECT (m.observed_at AT TIME ZONE c.tz)::date AS day, m.kpi, m.dimension,
       count(*) AS observations, sum(m.value * m.weight) AS weighted_sum, sum(m.weight) AS weight_sum
FROM cxkpi.metric_observations AS m, (SELECT cxkpi.setting('time_zone') AS tz OFFSET 0) AS c
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX daily_observations_key ON cxkpi.daily_observations (day, kpi, dimension);

-- Return events per request day (return-date basis): merchant-initiated returns and the days
-- from order to return request.
CREATE MATERIALIZED VIEW cxkpi.daily_return_events AS
WITH c AS MATERIALIZED (SELECT cxkpi.setting('time_zone') AS tz)
SELECT (r.requested_at AT TIME ZONE c.tz)::date AS day, count(*) AS returns,
       count(*) FILTER (WHERE r.initiated_by = 'merchant') AS merchant_returns,
       sum((r.requested_at AT TIME ZONE c.tz)::date - (o.ordered_at AT TIME ZONE c.tz)::date)::bigint AS days_to_return_sum
FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id), c
GROUP BY 1;
CREATE UNIQUE INDEX daily_return_events_key ON cxkpi.daily_return_events (day);

-- Customers acquired per day and acquisition channel, with the acquisition cost.
CREATE MATERIALIZED VIEW cxkpi.daily_acquisition AS
SELECT acquired_on AS day, acquisition_channel, count(*) AS new_customers,
       sum(acquisition_cost) AS acquisition_cost
FROM cxkpi.customers GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_acquisition_key ON cxkpi.daily_acquisition (day, acquisition_channel);

-- Every KPI at every grain (day, ISO week, month, quarter, year) and breakdown, in long format:
-- one row per (grain, period, kpi, breakdown, dimension) with the value, its numerator and
-- denominator (so that BI tools re-aggregate instead of averaging ratios), the sample size and
-- the confidence interval where the KPI has one.  Breakdown 'total' has dimension 'all'.
-- Retention, churn, simple CLV and the active loyalty share are defined for week, month, quarter and
-- year only.
CREATE MATERIALIZED VIEW cxkpi.kpi_values AS
WITH cfg AS MATERIALIZED (
    SELECT cxkpi.setting('time_zone') AS tz, cxkpi.setting('confidence')::double precision AS conf,
           cxkpi.setting('csat_scale')::integer AS csat_scale, cxkpi.setting('ces_scale')::integer AS ces_scale,
           cxkpi.setting('retention_active_window')::integer AS ret_w,
           cxkpi.setting('loyalty_active_days')::integer AS loy_w),
g(grain) AS (VALUES ('day'), ('week'), ('month'), ('quarter'), ('year')),
sv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.survey,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           @extschema@.rollup(d.nps) AS nps, @extschema@.rollup(d.csat) AS csat, @extschema@.rollup(d.ces) AS ces
    FROM cxkpi.daily_surveys AS d CROSS JOIN g CROSS JOIN cfg
    WHERE d.survey = 'nps' OR (d.survey = 'csat' AND d.scale = cfg.csat_scale)
       OR (d.survey = 'ces' AND d.scale = cfg.ces_scale)
    GROUP BY g.grain, 2, d.survey, GROUPING SETS ((d.channel), ())),
od AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' WHEN grouping(d.segment) = 0 THEN 'segment'
                ELSE 'total' END AS breakdown,
           coalesce(d.channel, d.segment, 'all') AS dimension,
           sum(d.orders)::bigint AS orders, sum(d.net_value) AS net_value, @extschema@.rollup(d.returns) AS r
    FROM cxkpi.daily_orders AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), (d.segment), ())),
fo AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.first_order,
           @extschema@.rollup(d.returns) AS r
    FROM cxkpi.daily_orders AS d CROSS JOIN g
    GROUP BY 1, 2, 3),
act AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           sum(d.orders)::bigint AS orders, @extschema@.rollup(d.by_day) AS s
    FROM cxkpi.daily_customer_activity AS d CROSS JOIN g
    GROUP BY 1, 2),
ret0 AS (
    SELECT 'week' AS grain, r.* FROM (SELECT @extschema@.rollup(by_week) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'month', r.* FROM (SELECT @extschema@.rollup(by_month) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'quarter', r.* FROM (SELECT @extschema@.rollup(by_quarter) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r
    UNION ALL
    SELECT 'year', r.* FROM (SELECT @extschema@.rollup(by_year) AS s FROM cxkpi.daily_customer_activity) AS q,
        cfg, @extschema@.retention_by_period(q.s, cfg.ret_w) AS r),
ret AS (
    SELECT grain, period_start, retained_customers, retention_rate, churn_rate,
           lag(active_customers) OVER (PARTITION BY grain ORDER BY period_start) AS at_start
    FROM ret0),
cv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions
    FROM cxkpi.daily_conversion AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.device), ())),
ct AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.device) = 0 THEN 'device' ELSE 'total' END AS breakdown,
           coalesce(d.device, 'all') AS dimension,
           sum(d.carts)::bigint AS carts, sum(d.abandoned)::bigint AS abandoned, sum(d.recovered)::bigint AS recovered
    FROM cxkpi.daily_carts AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.device), ())),
tk AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension,
           sum(d.tickets)::bigint AS tickets, sum(d.responded)::bigint AS responded,
           sum(d.response_hours_sum) AS response_hours_sum, sum(d.resolved)::bigint AS resolved,
           sum(d.first_contact_resolved)::bigint AS fcr
    FROM cxkpi.daily_tickets AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), ())),
tp AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.channel) = 0 THEN 'channel' ELSE 'total' END AS breakdown,
           coalesce(d.channel, 'all') AS dimension, count(*) AS responded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.h) AS median_h,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY x.h) AS p90_h
    FROM cxkpi.daily_tickets AS d CROSS JOIN LATERAL unnest(d.response_hours) AS x(h) CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.channel), ())),
ly AS (
    SELECT g.grain, date_trunc(g.grain, c.day::timestamp)::date AS period_start, max(c.members)::bigint AS members
    FROM (SELECT day, sum(enrolled) OVER (ORDER BY day) AS members FROM cxkpi.daily_loyalty) AS c CROSS JOIN g
    GROUP BY 1, 2),
-- Member activity of every day, and the data horizon (the last day with an order or a member
-- activity): the active window of the current, unfinished period ends there.
lys AS (
    SELECT @extschema@.rollup(active) AS s,
           greatest(max(day), (SELECT max(day) FROM cxkpi.daily_customer_activity)) AS last_day
    FROM cxkpi.daily_loyalty),
ar AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.app_store) = 0 THEN 'app_store' ELSE 'total' END AS breakdown,
           coalesce(d.app_store, 'all') AS dimension, @extschema@.rollup(d.ratings) AS s
    FROM cxkpi.daily_app_ratings AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.app_store), ())),
ob AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, d.kpi,
           CASE WHEN grouping(d.dimension) = 0 THEN 'dimension' ELSE 'total' END AS breakdown,
           coalesce(d.dimension, 'all') AS dimension, sum(d.observations)::bigint AS observations,
           sum(d.weighted_sum) AS weighted_sum, sum(d.weight_sum) AS weight_sum
    FROM cxkpi.daily_observations AS d CROSS JOIN g
    GROUP BY g.grain, 2, d.kpi, GROUPING SETS ((d.dimension), ())),
rv AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start, sum(d.returns)::bigint AS returns,
           sum(d.merchant_returns)::bigint AS merchant_returns, sum(d.days_to_return_sum)::bigint AS days_sum
    FROM cxkpi.daily_return_events AS d CROSS JOIN g
    GROUP BY 1, 2),
aq AS (
    SELECT g.grain, date_trunc(g.grain, d.day::timestamp)::date AS period_start,
           CASE WHEN grouping(d.acquisition_channel) = 0 THEN 'acquisition_channel' ELSE 'total' END AS breakdown,
           coalesce(d.acquisition_channel, 'all') AS dimension,
           sum(d.new_customers)::bigint AS new_customers, sum(d.acquisition_cost) AS cost
    FROM cxkpi.daily_acquisition AS d CROSS JOIN g
    GROUP BY g.grain, 2, GROUPING SETS ((d.acquisition_channel), ())),
kv (grain, period_start, kpi, breakdown, dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper) AS (
    -- satisfaction
    SELECT grain, period_start, 'nps', breakdown, dimension, @extschema@.nps(nps),
           (@extschema@.promoters(nps) - @extschema@.detractors(nps))::double precision,
           @extschema@.responses(nps)::double precision, @extschema@.responses(nps),
           @extschema@.nps_ci_lower(nps, conf), @extschema@.nps_ci_upper(nps, conf)
    FROM sv, cfg WHERE survey = 'nps'
    UNION ALL
    SELECT grain, period_start, 'csat', breakdown, dimension, @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'csat_satisfied_pct', breakdown, dimension, @extschema@.csat(csat),
           @extschema@.satisfied(csat)::double precision, @extschema@.responses(csat)::double precision,
           @extschema@.responses(csat), @extschema@.csat_ci_lower(csat, conf), @extschema@.csat_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat'
    UNION ALL
    SELECT grain, period_start, 'returns_csat', 'total', 'all', @extschema@.csat_mean(csat),
           round(@extschema@.csat_mean(csat) * @extschema@.responses(csat)),
           @extschema@.responses(csat)::double precision, @extschema@.responses(csat),
           @extschema@.csat_mean_ci_lower(csat, conf), @extschema@.csat_mean_ci_upper(csat, conf)
    FROM sv, cfg WHERE survey = 'csat' AND breakdown = 'channel' AND dimension = 'returns'
    UNION ALL
    SELECT grain, period_start, 'ces', breakdown, dimension, @extschema@.ces(ces),
           round(@extschema@.ces(ces) * @extschema@.responses(ces)),
           @extschema@.responses(ces)::double precision, @extschema@.responses(ces),
           @extschema@.ces_ci_lower(ces, conf), @extschema@.ces_ci_upper(ces, conf)
    FROM sv, cfg WHERE survey = 'ces'
    -- purchase experience
    UNION ALL
    SELECT grain, period_start, 'conversion_rate', breakdown, dimension, 100.0 * conversions / nullif(visits, 0),
           conversions, visits, visits, cxkpi.wilson_ci_lower(conversions, visits, conf),
           cxkpi.wilson_ci_upper(conversions, visits, conf)
    FROM cv, cfg
    UNION ALL
    SELECT grain, period_start, 'aov', breakdown, dimension, (net_value / nullif(orders, 0))::double precision,
           net_value::double precision, orders, orders, NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'cart_abandonment_rate', breakdown, dimension, 100.0 * abandoned / nullif(carts, 0),
           abandoned, carts, carts, cxkpi.wilson_ci_lower(abandoned, carts, conf), cxkpi.wilson_ci_upper(abandoned, carts, conf)
    FROM ct, cfg
    UNION ALL
    SELECT grain, period_start, 'cart_recovery_rate', breakdown, dimension, 100.0 * recovered / nullif(abandoned, 0),
           recovered, abandoned, abandoned, cxkpi.wilson_ci_lower(recovered, abandoned, conf),
           cxkpi.wilson_ci_upper(recovered, abandoned, conf)
    FROM ct, cfg
    -- service quality
    UNION ALL
    SELECT grain, period_start, 'response_time_hours', breakdown, dimension, response_hours_sum / nullif(responded, 0),
           response_hours_sum, responded, responded, NULL, NULL
    FROM tk
    UNION ALL
    SELECT grain, period_start, 'response_time_median_hours', breakdown, dimension, median_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'response_time_p90_hours', breakdown, dimension, p90_h, NULL, NULL, responded, NULL, NULL
    FROM tp
    UNION ALL
    SELECT grain, period_start, 'resolution_rate', breakdown, dimension, 100.0 * resolved / nullif(tickets, 0),
           resolved, tickets, tickets, cxkpi.wilson_ci_lower(resolved, tickets, conf), cxkpi.wilson_ci_upper(resolved, tickets, conf)
    FROM tk, cfg
    UNION ALL
    SELECT grain, period_start, 'first_contact_resolution_rate', breakdown, dimension, 100.0 * fcr / nullif(resolved, 0),
           fcr, resolved, resolved, cxkpi.wilson_ci_lower(fcr, resolved, conf), cxkpi.wilson_ci_upper(fcr, resolved, conf)
    FROM tk, cfg
    -- loyalty and retention
    UNION ALL
    SELECT grain, period_start, 'retention_rate', 'total', 'all', retention_rate, retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(retained_customers, at_start, conf), cxkpi.wilson_ci_upper(retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'churn_rate', 'total', 'all', churn_rate, at_start - retained_customers, at_start, at_start,
           cxkpi.wilson_ci_lower(at_start - retained_customers, at_start, conf),
           cxkpi.wilson_ci_upper(at_start - retained_customers, at_start, conf)
    FROM ret, cfg WHERE at_start IS NOT NULL
    UNION ALL
    SELECT grain, period_start, 'loyalty_members', 'total', 'all', members, members, NULL, members, NULL, NULL
    FROM ly
    UNION ALL
    SELECT ly.grain, ly.period_start, 'loyalty_active_share', 'total', 'all', 100.0 * a.active / nullif(ly.members, 0),
           a.active, ly.members, ly.members, cxkpi.wilson_ci_lower(a.active, ly.members, cfg.conf),
           cxkpi.wilson_ci_upper(a.active, ly.members, cfg.conf)
    FROM ly, lys, cfg,
         LATERAL (SELECT @extschema@.active_customers(lys.s,
                      least((ly.period_start + cxkpi.grain_interval(ly.grain))::date - 1, lys.last_day), cfg.loy_w) AS active) AS a
    WHERE lys.s IS NOT NULL AND ly.grain <> 'day'   -- a rolling share: weeks and longer
    -- digital experience
    UNION ALL
    SELECT grain, period_start, 'app_rating', breakdown, dimension, @extschema@.csat_mean(s),
           round(@extschema@.csat_mean(s) * @extschema@.responses(s)), @extschema@.responses(s)::double precision,
           @extschema@.responses(s), @extschema@.csat_mean_ci_lower(s, conf), @extschema@.csat_mean_ci_upper(s, conf)
    FROM ar, cfg
    -- observed metrics (digital experience, operational efficiency, user KPIs)
    UNION ALL
    SELECT grain, period_start, kpi, breakdown, dimension, weighted_sum / weight_sum, weighted_sum, weight_sum,
           observations, NULL, NULL
    FROM ob WHERE NOT (breakdown = 'dimension' AND dimension = '')
    -- returns
    UNION ALL
    SELECT grain, period_start, 'return_rate', breakdown, dimension, @extschema@.return_rate(r),
           @extschema@.orders_with_return(r), @extschema@.orders(r), @extschema@.orders(r),
           @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'item_return_rate', breakdown, dimension, @extschema@.item_return_rate(r),
           @extschema@.items_returned(r), @extschema@.items_ordered(r), @extschema@.orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'value_return_rate', breakdown, dimension, @extschema@.value_return_rate(r),
           @extschema@.returned_value(r)::double precision, @extschema@.order_value(r)::double precision,
           @extschema@.valued_orders(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, 'full_return_rate', breakdown, dimension, @extschema@.full_return_rate(r),
           @extschema@.orders_fully_returned(r), @extschema@.orders(r), @extschema@.orders(r),
           cxkpi.wilson_ci_lower(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf),
           cxkpi.wilson_ci_upper(@extschema@.orders_fully_returned(r), @extschema@.orders(r), conf)
    FROM od, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_return_value', breakdown, dimension, @extschema@.avg_return_value(r)::double precision,
           @extschema@.returned_value(r)::double precision, @extschema@.valued_orders_with_return(r),
           @extschema@.valued_orders_with_return(r), NULL, NULL
    FROM od
    UNION ALL
    SELECT grain, period_start, CASE WHEN first_order THEN 'first_order_return_rate' ELSE 'repeat_order_return_rate' END,
           'total', 'all', @extschema@.return_rate(r), @extschema@.orders_with_return(r), @extschema@.orders(r),
           @extschema@.orders(r), @extschema@.return_rate_ci_lower(r, conf), @extschema@.return_rate_ci_upper(r, conf)
    FROM fo, cfg
    UNION ALL
    SELECT grain, period_start, 'merchant_initiated_share', 'total', 'all', 100.0 * merchant_returns / returns,
           merchant_returns, returns, returns, cxkpi.wilson_ci_lower(merchant_returns, returns, conf),
           cxkpi.wilson_ci_upper(merchant_returns, returns, conf)
    FROM rv, cfg
    UNION ALL
    SELECT grain, period_start, 'avg_days_to_return', 'total', 'all', days_sum::double precision / returns,
           days_sum, returns, returns, NULL, NULL
    FROM rv
    -- customer value
    UNION ALL
    SELECT grain, period_start, 'repeat_customer_rate', 'total', 'all', @extschema@.repeat_customer_rate(s),
           round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100),
           @extschema@.customers(s), @extschema@.customers(s),
           cxkpi.wilson_ci_lower(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf),
           cxkpi.wilson_ci_upper(round(@extschema@.repeat_customer_rate(s) * @extschema@.customers(s) / 100)::bigint,
                                 @extschema@.customers(s), conf)
    FROM act, cfg
    UNION ALL
    SELECT grain, period_start, 'purchase_frequency', 'total', 'all', orders::double precision / @extschema@.customers(s),
           orders, @extschema@.customers(s), @extschema@.customers(s), NULL, NULL
    FROM act
    UNION ALL
    SELECT grain, period_start, 'new_customers', breakdown, dimension, new_customers, new_customers, NULL, new_customers,
           NULL, NULL
    FROM aq
    UNION ALL
    SELECT grain, period_start, 'cac', breakdown, dimension, (cost / new_customers)::double precision,
           cost::double precision, new_customers, new_customers, NULL, NULL
    FROM aq
    -- Simple CLV = AOV x purchase frequency x expected lifespan (1 / churn), all per period of the
    -- grain.  The model-based CLV of issue 5 (clv(), bgnbd_fit, p_alive) is wired in next to it
    -- (a 'clv' KPI) when that family lands; see docs/dashboard.md#customer-value.
    UNION ALL
    SELECT o.grain, o.period_start, 'clv_simple', 'total', 'all',
           (o.net_value / o.orders)::double precision * (a.orders::double precision / @extschema@.customers(a.s))
               * (100.0 / nullif(r.churn_rate, 0)),
           NULL, NULL, @extschema@.customers(a.s), NULL, NULL
    FROM od AS o JOIN act AS a USING (grain, period_start) JOIN ret AS r USING (grain, period_start)
    WHERE o.breakdown = 'total' AND r.at_start IS NOT NULL)
SELECT kv.grain, kv.period_start, (kv.period_start + cxkpi.grain_interval(kv.grain))::date - 1 AS period_end,
       kv.period_start::timestamp AT TIME ZONE cfg.tz AS "time",
       kv.kpi, kv.breakdown, kv.dimension, kv.value::double precision AS value,
       kv.numerator::double precision AS numerator, kv.denominator::double precision AS denominator,
       kv.sample_size::bigint AS sample_size, kv.ci_lower::double precision AS ci_lower,
       kv.ci_upper::double precision AS ci_upper
FROM kv, cfg;
CREATE UNIQUE INDEX kpi_values_key ON cxkpi.kpi_values (grain, period_start, kpi, breakdown, dimension);
CREATE INDEX kpi_values_time ON cxkpi.kpi_values (grain, "time");
CREATE INDEX kpi_values_kpi ON cxkpi.kpi_values (kpi, grain, period_start);

-- Refreshes every rollup in dependency order (the daily matviews, then kpi_values), in the
-- caller's transaction.  CONCURRENTLY (the default) lets readers continue: each view is rebuilt
-- aside and the differences applied.  work_mem is raised for the refresh (a batch job whose
-- aggregates keep 100-byte summaries per group) so that they stay in memory.  Only the owner of the matviews (the role that created
-- the extension) can refresh them.
CREATE PROCEDURE cxkpi.refresh_dashboard(concurrently boolean DEFAULT true)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '128MB' AS $$
DECLARE
    mv text;
    conc boolean := $1;     -- "concurrently" is a keyword in PL/pgSQL expressions
BEGIN
    IF conc IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH mv IN ARRAY ARRAY['daily_surveys', 'daily_orders', 'daily_customer_activity', 'daily_conversion',
                              'daily_carts', 'daily_tickets', 'daily_loyalty', 'daily_app_ratings',
                              'daily_observations', 'daily_return_events', 'daily_acquisition', 'kpi_values',
                              'customer_rfm', 'clv_models'] LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW %s cxkpi.%I', CASE WHEN conc THEN 'CONCURRENTLY' ELSE '' END, mv);
    END LOOP;
END $$;
COMMENT ON PROCEDURE cxkpi.refresh_dashboard(boolean) IS
    'Refreshes every dashboard rollup in dependency order (daily matviews, then cxkpi.kpi_values); CONCURRENTLY by default, so readers are never blocked.';
REVOKE ALL ON PROCEDURE cxkpi.refresh_dashboard(boolean) FROM PUBLIC;

COMMENT ON MATERIALIZED VIEW cxkpi.daily_surveys IS 'Internal rollup: NPS, CSAT and CES summaries per day, survey, touchpoint channel and scale.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_orders IS 'Internal rollup: orders, values and a return_summary per day, channel, segment and first/later order (order-date basis).';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_customer_activity IS 'Internal rollup: orders and retention summaries (by day, week, month, quarter, year) of the ordering customers per day.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_conversion IS 'Internal rollup: visits, funnel steps and conversions per day and device (store: visitors and store orders).';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_carts IS 'Internal rollup: carts created, converted, abandoned and recovered per creation day and device.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_tickets IS 'Internal rollup: tickets, exact first response times (hours), resolutions per creation day and channel.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_loyalty IS 'Internal rollup: loyalty enrolments and member activity (retention summary) per day.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_app_ratings IS 'Internal rollup: app rating summaries per day and store.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_observations IS 'Internal rollup: weighted sums of observed metrics per day, KPI and dimension.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_return_events IS 'Internal rollup: returns, merchant-initiated returns and days to return per request day.';
COMMENT ON MATERIALIZED VIEW cxkpi.daily_acquisition IS 'Internal rollup: customers acquired and acquisition cost per day and channel.';
COMMENT ON MATERIALIZED VIEW cxkpi.kpi_values IS 'Every KPI at every grain, period and breakdown, with numerator, denominator, sample size and interval; read it through the views.';
-- The CX dashboard, part 3: BI-facing views over cxkpi.kpi_values (docs/dashboard.md).
-- Standard scalar types only, snake_case names, numerator and denominator next to each ratio,
-- COMMENT ON every view and column, and the read-only role cxkpi_reader.

-- The first day of the previous period and of the same period a year earlier (52 weeks earlier
-- for days and weeks, so that weekdays line up).
CREATE FUNCTION cxkpi.previous_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE grain WHEN 'day' THEN period_start - 1 WHEN 'week' THEN period_start - 7
                 ELSE (period_start - cxkpi.grain_interval(grain))::date END $$;
COMMENT ON FUNCTION cxkpi.previous_period_start(text, date) IS
    'First day of the period before the one starting on period_start, at the same grain.';
CREATE FUNCTION cxkpi.year_ago_period_start(grain text, period_start date) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN grain IN ('day', 'week') THEN period_start - 364
                 ELSE (period_start - interval '1 year')::date END $$;
COMMENT ON FUNCTION cxkpi.year_ago_period_start(text, date) IS
    'First day of the same period a year earlier: same calendar month / quarter / year, or 52 weeks earlier for days and weeks.';

-- Every KPI value with its previous period, the same period a year earlier, its target and its
-- status (internal; the trend views and the scorecard read it).
CREATE VIEW cxkpi.kpi_trend AS
SELECT v.grain, v.period_start, v.period_end, v."time", d.section, v.kpi, d.name AS kpi_name, d.unit,
       d.direction, v.breakdown, v.dimension, v.value, v.numerator, v.denominator, v.sample_size,
       v.ci_lower, v.ci_upper,
       p.value AS previous_value, v.value - p.value AS change_vs_previous,
       cxkpi.year_ago_period_start(v.grain, v.period_start) AS year_ago_period_start,
       (cxkpi.year_ago_period_start(v.grain, v.period_start) + cxkpi.grain_interval(v.grain))::date - 1
           AS year_ago_period_end,
       y.value AS value_year_ago, y.sample_size AS sample_size_year_ago, v.value - y.value AS yoy_change,
       100 * (v.value - y.value) / nullif(abs(y.value), 0) AS yoy_change_pct,
       t.target, t.red_threshold, t.yellow_threshold, t.min_sample_size,
       cxkpi.kpi_status(d.direction, v.value, v.sample_size, t.target, t.red_threshold, t.yellow_threshold,
                        t.min_sample_size) AS status,
       cxkpi.meets_target(d.direction, v.value, t.target) AS meets_target,
       v.period_end < (SELECT cxkpi.as_of()) AS period_complete
FROM cxkpi.kpi_values AS v
JOIN cxkpi.kpi_definitions AS d USING (kpi)
LEFT JOIN cxkpi.kpi_values AS p
       ON p.grain = v.grain AND p.kpi = v.kpi AND p.breakdown = v.breakdown AND p.dimension = v.dimension
      AND p.period_start = cxkpi.previous_period_start(v.grain, v.period_start)
LEFT JOIN cxkpi.kpi_values AS y
       ON y.grain = v.grain AND y.kpi = v.kpi AND y.breakdown = v.breakdown AND y.dimension = v.dimension
      AND y.period_start = cxkpi.year_ago_period_start(v.grain, v.period_start)
LEFT JOIN LATERAL (
    SELECT kt.target, kt.red_threshold, kt.yellow_threshold, kt.min_sample_size
    FROM cxkpi.kpi_targets AS kt
    WHERE kt.kpi = v.kpi AND kt.enabled AND kt.dimension IN (v.dimension, '') AND kt.valid_from <= v.period_start
    ORDER BY kt.dimension = '', kt.valid_from DESC
    LIMIT 1) AS t ON true;

-- The scorecard: one row per KPI and breakdown for the last complete period of the scorecard
-- grain before the reference date cxkpi.as_of().  KPIs without data in that period still get a
-- total row, with status 'insufficient data' (or 'no target').
CREATE VIEW cxkpi.kpi_scorecard AS
WITH ref AS (
    SELECT cxkpi.setting('scorecard_grain') AS grain, cxkpi.as_of() AS as_of),
per AS MATERIALIZED (
    SELECT ref.grain, ref.as_of, b.period_start, b.period_end,
           cxkpi.year_ago_period_start(ref.grain, b.period_start) AS ya_start,
           (cxkpi.year_ago_period_start(ref.grain, b.period_start) + cxkpi.grain_interval(ref.grain))::date - 1 AS ya_end
    FROM ref, cxkpi.period_bounds(ref.grain, (cxkpi.period_bounds(ref.grain, ref.as_of)).period_start - 1) AS b)
SELECT d.section, d.kpi, d.name AS kpi_name, d.unit, d.direction,
       coalesce(tr.breakdown, 'total') AS breakdown, coalesce(tr.dimension, 'all') AS dimension,
       per.grain, per.period_start, per.period_end, per.as_of,
       tr.value, tr.numerator, tr.denominator, coalesce(tr.sample_size, 0) AS sample_size,
       tr.ci_lower, tr.ci_upper,
       t.target, t.red_threshold, t.yellow_threshold, t.min_sample_size,
       cxkpi.kpi_status(d.direction, tr.value, coalesce(tr.sample_size, 0), t.target, t.red_threshold,
                        t.yellow_threshold, t.min_sample_size) AS status,
       cxkpi.meets_target(d.direction, tr.value, t.target) AS meets_target,
       tr.value - t.target AS gap_to_target,
       per.ya_start AS year_ago_period_start, per.ya_end AS year_ago_period_end,
       tr.value_year_ago, tr.sample_size_year_ago, tr.yoy_change, tr.yoy_change_pct
FROM per
CROSS JOIN cxkpi.kpi_definitions AS d
LEFT JOIN cxkpi.kpi_trend AS tr ON tr.grain = per.grain AND tr.period_start = per.period_start AND tr.kpi = d.kpi
LEFT JOIN LATERAL (
    SELECT kt.target, kt.red_threshold, kt.yellow_threshold, kt.min_sample_size
    FROM cxkpi.kpi_targets AS kt
    WHERE kt.kpi = d.kpi AND kt.enabled AND kt.dimension IN (coalesce(tr.dimension, 'all'), '')
      AND kt.valid_from <= per.period_start
    ORDER BY kt.dimension = '', kt.valid_from DESC
    LIMIT 1) AS t ON true;

-- Long format for Grafana and other time-series tools: one row per time bucket, grain, KPI
-- and breakdown.  Filter on grain and "time" (indexed).
CREATE VIEW cxkpi.kpi_timeseries AS
SELECT v."time", v.grain, v.kpi, v.breakdown, v.dimension,
       v.kpi || CASE WHEN v.breakdown = 'total' THEN '' ELSE ' ' || v.dimension END AS metric,
       v.value, v.numerator, v.denominator, v.sample_size, v.ci_lower, v.ci_upper,
       v.period_start, v.period_end, v.period_end < (SELECT cxkpi.as_of()) AS period_complete
FROM cxkpi.kpi_values AS v;

-- One view per section of seed 000 (wide format, every grain).

CREATE VIEW cxkpi.kpi_satisfaction AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension AS channel,
       max(value) FILTER (WHERE kpi = 'nps') AS nps_points,
       max(ci_lower) FILTER (WHERE kpi = 'nps') AS nps_ci_lower_points,
       max(ci_upper) FILTER (WHERE kpi = 'nps') AS nps_ci_upper_points,
       max(numerator) FILTER (WHERE kpi = 'nps')::bigint AS nps_promoters_minus_detractors,
       max(sample_size) FILTER (WHERE kpi = 'nps') AS nps_responses,
       max(value) FILTER (WHERE kpi = 'csat') AS csat_mean_score,
       max(ci_lower) FILTER (WHERE kpi = 'csat') AS csat_mean_ci_lower_score,
       max(ci_upper) FILTER (WHERE kpi = 'csat') AS csat_mean_ci_upper_score,
       max(numerator) FILTER (WHERE kpi = 'csat')::bigint AS csat_score_total,
       max(sample_size) FILTER (WHERE kpi = 'csat') AS csat_responses,
       max(value) FILTER (WHERE kpi = 'csat_satisfied_pct') AS csat_satisfied_pct,
       max(numerator) FILTER (WHERE kpi = 'csat_satisfied_pct')::bigint AS csat_satisfied_responses,
       max(value) FILTER (WHERE kpi = 'ces') AS ces_mean_score,
       max(ci_lower) FILTER (WHERE kpi = 'ces') AS ces_mean_ci_lower_score,
       max(ci_upper) FILTER (WHERE kpi = 'ces') AS ces_mean_ci_upper_score,
       max(sample_size) FILTER (WHERE kpi = 'ces') AS ces_responses
FROM cxkpi.kpi_values
WHERE kpi IN ('nps', 'csat', 'csat_satisfied_pct', 'ces')
GROUP BY grain, period_start, breakdown, dimension;

CREATE VIEW cxkpi.kpi_purchase_experience AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'conversion_rate') AS conversion_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'conversion_rate')::bigint AS conversions,
       max(denominator) FILTER (WHERE kpi = 'conversion_rate')::bigint AS visits,
       max(ci_lower) FILTER (WHERE kpi = 'conversion_rate') AS conversion_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'conversion_rate') AS conversion_rate_ci_upper_pct,
       max(value) FILTER (WHERE kpi = 'aov') AS aov_currency,
       max(numerator) FILTER (WHERE kpi = 'aov') AS net_sales_currency,
       max(denominator) FILTER (WHERE kpi = 'aov')::bigint AS orders,
       max(value) FILTER (WHERE kpi = 'cart_abandonment_rate') AS cart_abandonment_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'cart_abandonment_rate')::bigint AS abandoned_carts,
       max(denominator) FILTER (WHERE kpi = 'cart_abandonment_rate')::bigint AS carts,
       max(value) FILTER (WHERE kpi = 'cart_recovery_rate') AS cart_recovery_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'cart_recovery_rate')::bigint AS recovered_carts
FROM cxkpi.kpi_values
WHERE kpi IN ('conversion_rate', 'aov', 'cart_abandonment_rate', 'cart_recovery_rate')
GROUP BY grain, period_start, breakdown, dimension;

CREATE VIEW cxkpi.kpi_service_quality AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension AS channel,
       max(value) FILTER (WHERE kpi = 'response_time_hours') AS response_time_mean_hours,
       max(value) FILTER (WHERE kpi = 'response_time_median_hours') AS response_time_median_hours,
       max(value) FILTER (WHERE kpi = 'response_time_p90_hours') AS response_time_p90_hours,
       max(numerator) FILTER (WHERE kpi = 'response_time_hours') AS response_time_total_hours,
       max(denominator) FILTER (WHERE kpi = 'response_time_hours')::bigint AS responded_tickets,
       max(value) FILTER (WHERE kpi = 'resolution_rate') AS resolution_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'resolution_rate')::bigint AS resolved_tickets,
       max(denominator) FILTER (WHERE kpi = 'resolution_rate')::bigint AS tickets,
       max(value) FILTER (WHERE kpi = 'first_contact_resolution_rate') AS first_contact_resolution_pct,
       max(numerator) FILTER (WHERE kpi = 'first_contact_resolution_rate')::bigint AS first_contact_resolved_tickets
FROM cxkpi.kpi_values
WHERE kpi IN ('response_time_hours', 'response_time_median_hours', 'response_time_p90_hours',
              'resolution_rate', 'first_contact_resolution_rate')
GROUP BY grain, period_start, breakdown, dimension;

CREATE VIEW cxkpi.kpi_loyalty_retention AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time",
       max(value) FILTER (WHERE kpi = 'retention_rate') AS retention_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'retention_rate')::bigint AS retained_customers,
       max(denominator) FILTER (WHERE kpi = 'retention_rate')::bigint AS customers_at_start,
       max(value) FILTER (WHERE kpi = 'churn_rate') AS churn_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'churn_rate')::bigint AS churned_customers,
       max(value) FILTER (WHERE kpi = 'loyalty_members')::bigint AS loyalty_members,
       max(numerator) FILTER (WHERE kpi = 'loyalty_active_share')::bigint AS active_loyalty_members,
       max(value) FILTER (WHERE kpi = 'loyalty_active_share') AS loyalty_active_share_pct
FROM cxkpi.kpi_values
WHERE kpi IN ('retention_rate', 'churn_rate', 'loyalty_members', 'loyalty_active_share') AND breakdown = 'total'
GROUP BY grain, period_start;

-- Digital experience and operational efficiency: the app rating and every observed metric
-- (long format, since users add their own observed KPIs).
CREATE VIEW cxkpi.kpi_digital_operations AS
SELECT v.grain, v.period_start, v.period_end, v."time", d.section, v.kpi, d.name AS kpi_name, d.unit,
       v.breakdown, v.dimension, v.value, v.numerator AS weighted_value_total, v.denominator AS weight_total,
       v.sample_size AS observations, v.ci_lower, v.ci_upper
FROM cxkpi.kpi_values AS v JOIN cxkpi.kpi_definitions AS d USING (kpi)
WHERE d.section IN ('digital_experience', 'operational_efficiency') OR d.source = 'metric_observations';

CREATE VIEW cxkpi.kpi_returns AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'return_rate') AS return_rate_pct,
       max(ci_lower) FILTER (WHERE kpi = 'return_rate') AS return_rate_ci_lower_pct,
       max(ci_upper) FILTER (WHERE kpi = 'return_rate') AS return_rate_ci_upper_pct,
       max(numerator) FILTER (WHERE kpi = 'return_rate')::bigint AS orders_with_return,
       max(denominator) FILTER (WHERE kpi = 'return_rate')::bigint AS orders,
       max(value) FILTER (WHERE kpi = 'full_return_rate') AS full_return_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'full_return_rate')::bigint AS orders_fully_returned,
       max(value) FILTER (WHERE kpi = 'item_return_rate') AS item_return_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'item_return_rate')::bigint AS items_returned,
       max(denominator) FILTER (WHERE kpi = 'item_return_rate')::bigint AS items_ordered,
       max(value) FILTER (WHERE kpi = 'value_return_rate') AS value_return_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'value_return_rate') AS returned_value_currency,
       max(denominator) FILTER (WHERE kpi = 'value_return_rate') AS order_value_currency,
       max(value) FILTER (WHERE kpi = 'aov') AS aov_currency,
       max(value) FILTER (WHERE kpi = 'avg_return_value') AS avg_return_value_currency,
       max(value) FILTER (WHERE kpi = 'first_order_return_rate') AS first_order_return_rate_pct,
       max(denominator) FILTER (WHERE kpi = 'first_order_return_rate')::bigint AS first_orders,
       max(value) FILTER (WHERE kpi = 'repeat_order_return_rate') AS repeat_order_return_rate_pct,
       max(denominator) FILTER (WHERE kpi = 'repeat_order_return_rate')::bigint AS repeat_orders,
       max(denominator) FILTER (WHERE kpi = 'purchase_frequency')::bigint AS customers,
       max(value) FILTER (WHERE kpi = 'purchase_frequency') AS orders_per_customer,
       max(denominator) FILTER (WHERE kpi = 'merchant_initiated_share')::bigint AS returns,
       max(denominator) FILTER (WHERE kpi = 'merchant_initiated_share')
           / max(denominator) FILTER (WHERE kpi = 'purchase_frequency') AS returns_per_customer,
       max(value) FILTER (WHERE kpi = 'merchant_initiated_share') AS merchant_initiated_share_pct,
       max(numerator) FILTER (WHERE kpi = 'merchant_initiated_share')::bigint AS merchant_initiated_returns,
       max(value) FILTER (WHERE kpi = 'avg_days_to_return') AS avg_days_to_return,
       max(value) FILTER (WHERE kpi = 'returns_csat') AS returns_csat_mean_score,
       max(sample_size) FILTER (WHERE kpi = 'returns_csat') AS returns_csat_responses
FROM cxkpi.kpi_values
WHERE kpi IN ('return_rate', 'full_return_rate', 'item_return_rate', 'value_return_rate', 'aov', 'avg_return_value',
              'first_order_return_rate', 'repeat_order_return_rate', 'purchase_frequency',
              'merchant_initiated_share', 'avg_days_to_return', 'returns_csat')
GROUP BY grain, period_start, breakdown, dimension;

-- Customer value.  clv_simple is the seed's AOV x frequency x lifespan; the model-based CLV of
-- issue 5 (clv(), bgnbd_fit, p_alive) gets its own columns here when that family lands.
CREATE VIEW cxkpi.kpi_customer_value AS
SELECT grain, period_start, max(period_end) AS period_end, max("time") AS "time", breakdown, dimension,
       max(value) FILTER (WHERE kpi = 'repeat_customer_rate') AS repeat_customer_rate_pct,
       max(numerator) FILTER (WHERE kpi = 'repeat_customer_rate')::bigint AS repeat_customers,
       max(denominator) FILTER (WHERE kpi = 'purchase_frequency')::bigint AS customers,
       max(value) FILTER (WHERE kpi = 'purchase_frequency') AS purchase_frequency_orders_per_customer,
       max(numerator) FILTER (WHERE kpi = 'purchase_frequency')::bigint AS orders,
       max(value) FILTER (WHERE kpi = 'aov') AS aov_currency,
       max(value) FILTER (WHERE kpi = 'new_customers')::bigint AS new_customers,
       max(numerator) FILTER (WHERE kpi = 'cac') AS acquisition_cost_currency,
       max(value) FILTER (WHERE kpi = 'cac') AS cac_currency,
       max(value) FILTER (WHERE kpi = 'clv_simple') AS clv_simple_currency
FROM cxkpi.kpi_values
WHERE kpi IN ('repeat_customer_rate', 'purchase_frequency', 'aov', 'new_customers', 'cac', 'clv_simple')
  AND breakdown IN ('total', 'acquisition_channel')
GROUP BY grain, period_start, breakdown, dimension;

-- Trend views of seed 000's "Trend Analysis".
CREATE VIEW cxkpi.kpi_weekly_summary AS
SELECT period_start AS week_start, period_end AS week_end, "time", section, kpi, kpi_name, unit, breakdown, dimension,
       value, numerator, denominator, sample_size, previous_value AS previous_week_value,
       change_vs_previous AS change_vs_previous_week, value_year_ago, yoy_change, target, status, period_complete
FROM cxkpi.kpi_trend WHERE grain = 'week';

CREATE VIEW cxkpi.kpi_monthly_report AS
SELECT period_start AS month_start, period_end AS month_end, "time", section, kpi, kpi_name, unit, breakdown, dimension,
       value, numerator, denominator, sample_size, ci_lower, ci_upper, previous_value AS previous_month_value,
       change_vs_previous AS change_vs_previous_month, value_year_ago, yoy_change, yoy_change_pct, target,
       status, meets_target, period_complete
FROM cxkpi.kpi_trend WHERE grain = 'month';

CREATE VIEW cxkpi.kpi_quarterly_review AS
SELECT period_start AS quarter_start, period_end AS quarter_end, "time", section, kpi, kpi_name, unit, breakdown,
       dimension, value, numerator, denominator, sample_size, ci_lower, ci_upper,
       previous_value AS previous_quarter_value, change_vs_previous AS change_vs_previous_quarter, value_year_ago,
       yoy_change, yoy_change_pct, target, status, meets_target, period_complete
FROM cxkpi.kpi_trend WHERE grain = 'quarter';

-- Gap analysis (seed 002): actual vs target for the scorecard period.
CREATE VIEW cxkpi.kpi_gap AS
SELECT section, kpi, kpi_name, unit, direction, breakdown, dimension, period_start, period_end, value, target,
       value - target AS gap,
       100 * (value - target) / nullif(abs(target), 0) AS gap_pct,
       CASE direction WHEN 'higher_is_better' THEN target - value ELSE value - target END AS shortfall,
       meets_target, status, sample_size
FROM cxkpi.kpi_scorecard
WHERE target IS NOT NULL;

-------------------------------------------------------------------------------------------------
-- Comments: every BI-facing view, every column.  Columns with the same name mean the same in
-- every view, so one dictionary documents them all; the pgTAP suite checks that none is missing.
-------------------------------------------------------------------------------------------------
COMMENT ON VIEW cxkpi.kpi_trend IS
    'Every KPI value at every grain with the previous period, the same period a year earlier, the target and the status.';
COMMENT ON VIEW cxkpi.kpi_scorecard IS
    'One row per KPI and breakdown for the last complete period (setting scorecard_grain) before cxkpi.as_of(): value, target, status (red / yellow / green / insufficient data / no target), sample size, confidence interval, the same period a year earlier and the change.';
COMMENT ON VIEW cxkpi.kpi_timeseries IS
    'Long format for Grafana: time, grain (day, week, month, quarter, year), kpi, breakdown, dimension, value, numerator, denominator. Filter on grain and time.';
COMMENT ON VIEW cxkpi.kpi_satisfaction IS
    'Customer satisfaction (seed 000): NPS, CSAT (mean and % satisfied) and CES per period and touchpoint channel, with intervals and response counts.';
COMMENT ON VIEW cxkpi.kpi_purchase_experience IS
    'Purchase experience (seed 000): conversion by device (desktop, mobile, tablet, app, store), AOV by order channel and customer segment (new, returning, loyalty), cart abandonment and recovery.';
COMMENT ON VIEW cxkpi.kpi_service_quality IS
    'Service quality (seed 000): first response time by channel (mean, median, p90 in hours), resolution rate and first contact resolution.';
COMMENT ON VIEW cxkpi.kpi_loyalty_retention IS
    'Loyalty and retention (seed 000): retention and churn of ordering customers (period over period, active window setting retention_active_window), loyalty members and active share.';
COMMENT ON VIEW cxkpi.kpi_digital_operations IS
    'Digital experience and operational efficiency (seed 000): app rating and the metrics recorded in cxkpi.metric_observations (load time, uptime, mobile score, training hours, certification, mystery shopper, protocol adherence).';
COMMENT ON VIEW cxkpi.kpi_returns IS
    'Returns (seed 001): return rates (order-date basis), full returns, item and value return rates, first and repeat order return rates, AOV and return value, orders and returns per customer, merchant-initiated share and days to return (return-date basis), returns CSAT.';
COMMENT ON VIEW cxkpi.kpi_customer_value IS
    'Customer value (seeds 002-004): repeat customer rate, purchase frequency, AOV, new customers and CAC by acquisition channel, simple CLV. Model-based CLV joins when the CLV family lands.';
COMMENT ON VIEW cxkpi.kpi_weekly_summary IS 'Weekly performance summary (seed 000): every KPI per ISO week with the previous week, the year-ago week (52 weeks earlier), target and status.';
COMMENT ON VIEW cxkpi.kpi_monthly_report IS 'Monthly executive report (seed 000): every KPI per month with the previous month, the same month a year earlier, target and status.';
COMMENT ON VIEW cxkpi.kpi_quarterly_review IS 'Quarterly strategic review (seed 000): every KPI per quarter with the previous quarter, the same quarter a year earlier, target and status.';
COMMENT ON VIEW cxkpi.kpi_gap IS 'Gap analysis (seed 002): actual vs target for the scorecard period; shortfall > 0 means worse than target.';

DO $$
DECLARE
    r record;
    doc jsonb := jsonb_object(ARRAY[
        'grain', 'Period length: day, week (ISO, Monday), month, quarter or year.',
        'period_start', 'First day of the period.',
        'period_end', 'Last day of the period (inclusive).',
        'time', 'Start of the period as a timestamp in the reporting time zone (Grafana time column).',
        'week_start', 'Monday of the ISO week.', 'week_end', 'Sunday of the ISO week.',
        'month_start', 'First day of the month.', 'month_end', 'Last day of the month.',
        'quarter_start', 'First day of the quarter.', 'quarter_end', 'Last day of the quarter.',
        'as_of', 'Reference date (cxkpi.as_of()): the scorecard shows the last complete period before it.',
        'section', 'Dashboard section of the KPI (seed 000).',
        'kpi', 'KPI key (cxkpi.kpi_definitions).', 'kpi_name', 'KPI display name.',
        'unit', 'Unit of value: points, percent, score, currency, hours, seconds, days, count or ratio.',
        'direction', 'higher_is_better or lower_is_better.',
        'breakdown', 'Dimension the row is broken down by (channel, device, segment, app_store, acquisition_channel, dimension) or total.',
        'dimension', 'Value of the breakdown dimension; all for the total row.',
        'channel', 'Touchpoint or support channel; all for the total row.',
        'metric', 'Series name for Grafana: kpi, followed by the dimension for breakdown rows.',
        'value', 'KPI value in its unit (NULL when there is no data).',
        'numerator', 'Numerator of the value (e.g. promoters - detractors, conversions, retained customers).',
        'denominator', 'Denominator of the value (e.g. responses, visits, customers at start).',
        'sample_size', 'Number of observations behind the value (responses, orders, visits, tickets, customers).',
        'ci_lower', 'Lower end of the confidence interval (setting confidence; NPS adjusted Wald, proportions Wilson, means t).',
        'ci_upper', 'Upper end of the confidence interval.',
        'previous_value', 'Value in the previous period.', 'change_vs_previous', 'value - previous_value.',
        'previous_week_value', 'Value in the previous week.', 'change_vs_previous_week', 'value - previous_week_value.',
        'previous_month_value', 'Value in the previous month.', 'change_vs_previous_month', 'value - previous_month_value.',
        'previous_quarter_value', 'Value in the previous quarter.', 'change_vs_previous_quarter', 'value - previous_quarter_value.',
        'year_ago_period_start', 'First day of the same period a year earlier (52 weeks for days and weeks).',
        'year_ago_period_end', 'Last day of the same period a year earlier.',
        'value_year_ago', 'Value in the same period a year earlier.',
        'sample_size_year_ago', 'Sample size in the same period a year earlier.',
        'yoy_change', 'value - value_year_ago, in the unit of the KPI (points for percentages).',
        'yoy_change_pct', 'Relative year-over-year change: 100 * yoy_change / |value_year_ago|.',
        'target', 'Target (cxkpi.kpi_targets, by dimension then overall, latest valid_from on or before the period start).',
        'red_threshold', 'Red flag threshold: red when the value is beyond it (below for higher-is-better KPIs, above otherwise).',
        'yellow_threshold', 'Yellow flag threshold, same rule as red.',
        'min_sample_size', 'Minimum sample size for a status other than insufficient data.',
        'status', 'red, yellow, green, insufficient data (no value or too few observations) or no target.',
        'meets_target', 'value >= target (higher is better) or value < target (lower is better).',
        'gap_to_target', 'value - target.', 'gap', 'value - target.',
        'gap_pct', '100 * (value - target) / |target|.',
        'shortfall', 'How far the value is worse than the target (negative when better), in the unit of the KPI.',
        'period_complete', 'True when the period ended before cxkpi.as_of().',
        'nps_points', 'Net Promoter Score, -100 to 100.',
        'nps_ci_lower_points', 'Lower end of the adjusted-Wald NPS interval.', 'nps_ci_upper_points', 'Upper end of the adjusted-Wald NPS interval.',
        'nps_promoters_minus_detractors', 'Promoters - detractors (numerator of NPS / 100).',
        'nps_responses', 'NPS responses.',
        'csat_mean_score', 'Mean CSAT score on the csat_scale (default 1-5).',
        'csat_mean_ci_lower_score', 'Lower end of the t interval of the CSAT mean.', 'csat_mean_ci_upper_score', 'Upper end of the t interval of the CSAT mean.',
        'csat_score_total', 'Sum of CSAT scores (numerator of the mean).', 'csat_responses', 'CSAT responses.',
        'csat_satisfied_pct', 'Percent of CSAT responses in the top two boxes.', 'csat_satisfied_responses', 'CSAT responses in the top two boxes.',
        'ces_mean_score', 'Mean CES 2.0 score (higher is easier).',
        'ces_mean_ci_lower_score', 'Lower end of the t interval of the CES mean.', 'ces_mean_ci_upper_score', 'Upper end of the t interval of the CES mean.',
        'ces_responses', 'CES responses.',
        'conversion_rate_pct', '100 * conversions / visits.', 'conversions', 'Converted sessions (store: store orders).',
        'visits', 'Sessions (store: visitors counted).',
        'conversion_rate_ci_lower_pct', 'Lower end of the Wilson interval of the conversion rate.', 'conversion_rate_ci_upper_pct', 'Upper end of the Wilson interval of the conversion rate.',
        'aov_currency', 'Average order value: (gross - discounts) / orders.', 'net_sales_currency', 'Gross value - discounts.',
        'orders', 'Orders.', 'cart_abandonment_rate_pct', '100 * carts not converted in their session / carts.',
        'abandoned_carts', 'Carts not converted in their session.', 'carts', 'Carts created.',
        'cart_recovery_rate_pct', '100 * recovered carts / abandoned carts.', 'recovered_carts', 'Abandoned carts bought later.',
        'response_time_mean_hours', 'Mean first response time, hours.', 'response_time_median_hours', 'Median first response time, hours.',
        'response_time_p90_hours', '90th percentile of first response time, hours.',
        'response_time_total_hours', 'Sum of first response times, hours (numerator of the mean).',
        'responded_tickets', 'Tickets with a first response.', 'resolution_rate_pct', '100 * resolved tickets / tickets (tickets created in the period).',
        'resolved_tickets', 'Tickets created in the period and resolved.', 'tickets', 'Tickets created in the period.',
        'first_contact_resolution_pct', '100 * tickets resolved in one contact without reopening / resolved tickets.',
        'first_contact_resolved_tickets', 'Tickets resolved in one contact without reopening.',
        'retention_rate_pct', '100 * retained customers / customers active at the end of the previous period.',
        'retained_customers', 'Customers active at the end of the previous period and of this one.',
        'customers_at_start', 'Customers active at the end of the previous period.',
        'churn_rate_pct', '100 - retention_rate_pct.', 'churned_customers', 'customers_at_start - retained_customers.',
        'loyalty_members', 'Members enrolled by the end of the period.',
        'active_loyalty_members', 'Members with an order or activity in the last loyalty_active_days days at the end of the period.',
        'loyalty_active_share_pct', '100 * active_loyalty_members / loyalty_members.',
        'weighted_value_total', 'Sum of value * weight of the observations.', 'weight_total', 'Sum of the weights.',
        'observations', 'Number of observations.',
        'return_rate_pct', '100 * orders with a return / orders (order-date basis).',
        'return_rate_ci_lower_pct', 'Lower end of the Wilson interval of the return rate.', 'return_rate_ci_upper_pct', 'Upper end of the Wilson interval of the return rate.',
        'orders_with_return', 'Orders with at least one returned item.',
        'full_return_rate_pct', '100 * orders with every item returned / orders.', 'orders_fully_returned', 'Orders with every item returned.',
        'item_return_rate_pct', '100 * items returned / items ordered.', 'items_returned', 'Items returned.', 'items_ordered', 'Items ordered.',
        'value_return_rate_pct', '100 * returned value / net order value.', 'returned_value_currency', 'Returned value.',
        'order_value_currency', 'Net order value (gross - discounts).',
        'avg_return_value_currency', 'Returned value / orders with a return.',
        'first_order_return_rate_pct', 'Return rate of customers'' first orders.', 'first_orders', 'First orders of customers.',
        'repeat_order_return_rate_pct', 'Return rate of customers'' later orders.', 'repeat_orders', 'Later orders of customers.',
        'customers', 'Distinct customers who ordered in the period.', 'orders_per_customer', 'orders / customers.',
        'returns', 'Returns requested in the period (return-date basis).', 'returns_per_customer', 'returns / customers.',
        'merchant_initiated_share_pct', '100 * returns created by staff / returns.', 'merchant_initiated_returns', 'Returns created by staff.',
        'avg_days_to_return', 'Mean days from order day to return request day.',
        'returns_csat_mean_score', 'Mean CSAT of the returns touchpoint.', 'returns_csat_responses', 'CSAT responses of the returns touchpoint.',
        'repeat_customer_rate_pct', '100 * customers who ordered on two or more days / customers.', 'repeat_customers', 'Customers who ordered on two or more days of the period.',
        'purchase_frequency_orders_per_customer', 'orders / customers.',
        'new_customers', 'Customers acquired in the period.', 'acquisition_cost_currency', 'Acquisition cost of the customers acquired.',
        'cac_currency', 'Customer acquisition cost: acquisition cost / new customers.',
        'clv_simple_currency', 'Simple CLV: AOV * purchase frequency * (100 / churn rate), per period of the grain.']);
BEGIN
    FOR r IN SELECT c.relname, a.attname
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = 'cxkpi' AND c.relkind = 'v' LOOP
        IF doc ? r.attname THEN
            EXECUTE format('COMMENT ON COLUMN cxkpi.%I.%I IS %L', r.relname, r.attname, doc ->> r.attname);
        END IF;
    END LOOP;
END $$;

-------------------------------------------------------------------------------------------------
-- The read-only role for BI tools: the BI views and nothing else (no raw table, no rollup
-- matview, no config table, no write).  The views show names, units, targets and thresholds.
-------------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cxkpi_reader') THEN
        CREATE ROLE cxkpi_reader NOLOGIN;
        ALTER ROLE cxkpi_reader SET statement_timeout = '60s';
        ALTER ROLE cxkpi_reader SET search_path = cxkpi, public;
        COMMENT ON ROLE cxkpi_reader IS 'Read-only access to the cxkpi dashboard views (grant it to BI login roles).';
    END IF;
END $$;
GRANT USAGE ON SCHEMA cxkpi TO cxkpi_reader;
GRANT SELECT ON cxkpi.kpi_scorecard, cxkpi.kpi_timeseries, cxkpi.kpi_trend, cxkpi.kpi_satisfaction,
    cxkpi.kpi_purchase_experience, cxkpi.kpi_service_quality, cxkpi.kpi_loyalty_retention,
    cxkpi.kpi_digital_operations, cxkpi.kpi_returns, cxkpi.kpi_customer_value, cxkpi.kpi_weekly_summary,
    cxkpi.kpi_monthly_report, cxkpi.kpi_quarterly_review, cxkpi.kpi_gap TO cxkpi_reader;
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
-- Threshold-breach alerting driven by triggers (docs/alerts.md).
--
-- Statement-level AFTER triggers with transition tables on the fact tables turn each statement's
-- rows into per-KPI contributions for the periods of the alert grain (setting alert_grain):
-- summaries (nps_summary, csat_summary, ces_summary) and exact numeric numerators and
-- denominators.  cxkpi.alert_apply merges them into the running state of each (kpi, breakdown,
-- dimension, period) in cxkpi.alert_state, recomputes the touched values, compares them with
-- cxkpi.kpi_targets (cxkpi.kpi_status plus a recovery margin) and records every change of level
-- to or from red or yellow in the outbox cxkpi.alerts, with a pg_notify wake-up at commit.
--
-- KPIs that come from periodic rollups (retention, churn, loyalty, returns, percentiles, ...)
-- are evaluated by cxkpi.check_thresholds(), which also rebuilds the trigger-driven states from
-- the fact tables.

-------------------------------------------------------------------------------------------------
-- State and outbox
-------------------------------------------------------------------------------------------------

-- One row per (KPI, breakdown, dimension, period of the alert grain): the running state.
CREATE TABLE cxkpi.alert_state (
    kpi           text NOT NULL REFERENCES cxkpi.kpi_definitions ON UPDATE CASCADE ON DELETE CASCADE,
    breakdown     text NOT NULL,
    dimension     text NOT NULL,
    grain         text NOT NULL CHECK (grain IN ('day', 'week', 'month', 'quarter', 'year')),
    period_start  date NOT NULL,
    source        text NOT NULL CHECK (source IN ('trigger', 'rollup')),
    nps           @extschema@.nps_summary,
    csat          @extschema@.csat_summary,
    ces           @extschema@.ces_summary,
    numerator     numeric NOT NULL DEFAULT 0,
    denominator   numeric NOT NULL DEFAULT 0,
    sample_size   bigint NOT NULL DEFAULT 0,
    value         double precision,
    level         text NOT NULL DEFAULT 'insufficient data'
        CHECK (level IN ('green', 'yellow', 'red', 'insufficient data', 'no target')),
    level_since   timestamptz NOT NULL DEFAULT now(),
    evaluated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kpi, breakdown, dimension, grain, period_start)
);
COMMENT ON TABLE cxkpi.alert_state IS
    'Alerting: the running state of every KPI, breakdown and period of the alert grain (summaries, numerator, denominator, value, level). Maintained by the fact-table triggers and cxkpi.check_thresholds(); not for direct writes.';

-- The outbox: one row per change of level to or from red or yellow.
CREATE TABLE cxkpi.alerts (
    alert_id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    raised_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    kpi             text NOT NULL,
    breakdown       text NOT NULL,
    dimension       text NOT NULL,
    grain           text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    level           text NOT NULL CHECK (level IN ('green', 'yellow', 'red', 'insufficient data', 'no target')),
    previous_level  text NOT NULL,
    value           double precision,
    threshold       double precision,
    target          double precision,
    sample_size     bigint NOT NULL,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    delivered_at    timestamptz
);
CREATE INDEX alerts_open ON cxkpi.alerts (kpi, breakdown, dimension, grain, period_start) WHERE resolved_at IS NULL;
CREATE INDEX alerts_undelivered ON cxkpi.alerts (alert_id) WHERE delivered_at IS NULL;
COMMENT ON TABLE cxkpi.alerts IS
    'Alert outbox: one row per change of a KPI''s level to or from red or yellow (a breach, an escalation, a recovery), never one per insert. Consumers take undelivered rows with SELECT ... FOR UPDATE SKIP LOCKED and set delivered_at.';
COMMENT ON COLUMN cxkpi.alerts.alert_id IS 'Identity; also in the pg_notify payload.';
COMMENT ON COLUMN cxkpi.alerts.raised_at IS 'When the level changed (clock time of the statement that changed it).';
COMMENT ON COLUMN cxkpi.alerts.kpi IS 'KPI key (cxkpi.kpi_definitions).';
COMMENT ON COLUMN cxkpi.alerts.breakdown IS 'Breakdown: total, channel, device, app_store or dimension.';
COMMENT ON COLUMN cxkpi.alerts.dimension IS 'Value of the breakdown (all for the total).';
COMMENT ON COLUMN cxkpi.alerts.grain IS 'Alert grain of the period (setting alert_grain).';
COMMENT ON COLUMN cxkpi.alerts.period_start IS 'First day of the period evaluated.';
COMMENT ON COLUMN cxkpi.alerts.period_end IS 'Last day of the period evaluated.';
COMMENT ON COLUMN cxkpi.alerts.level IS 'New level: red, yellow, green, insufficient data or no target.';
COMMENT ON COLUMN cxkpi.alerts.previous_level IS 'Level before the change.';
COMMENT ON COLUMN cxkpi.alerts.value IS 'KPI value that caused the change, in the KPI''s unit.';
COMMENT ON COLUMN cxkpi.alerts.threshold IS 'Threshold crossed: of the new level for a breach, of the previous level for a recovery.';
COMMENT ON COLUMN cxkpi.alerts.target IS 'KPI target at the time.';
COMMENT ON COLUMN cxkpi.alerts.sample_size IS 'Observations behind the value.';
COMMENT ON COLUMN cxkpi.alerts.acknowledged_at IS 'Set by cxkpi.acknowledge_alert(alert_id).';
COMMENT ON COLUMN cxkpi.alerts.resolved_at IS 'Set when the level of the same KPI, breakdown and period changes again.';
COMMENT ON COLUMN cxkpi.alerts.delivered_at IS 'Set by the consumer that delivered the alert (outbox pattern).';

-- pg_dump: the alert history is user data and is dumped.  The states are not: pg_restore loads
-- the fact tables through their triggers, which rebuild the states exactly (and raise the
-- breaches of the restored data again; docs/alerts.md).
SELECT pg_catalog.pg_extension_config_dump('cxkpi.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('cxkpi.alerts_alert_id_seq', '');

-------------------------------------------------------------------------------------------------
-- Levels
-------------------------------------------------------------------------------------------------

-- The level of a value with hysteresis: cxkpi.kpi_status, except that a red level stays red
-- until the value is better than the red threshold by recovery_margin, and a red or yellow level
-- stays (at least) yellow until it is better than the yellow threshold by the margin.
CREATE FUNCTION cxkpi.alert_level(direction text, value double precision, sample_size bigint,
                                  target double precision, red_threshold double precision,
                                  yellow_threshold double precision, min_sample_size bigint,
                                  recovery_margin double precision, previous_level text)
    RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    raw text := cxkpi.kpi_status(direction, value, sample_size, target, red_threshold, yellow_threshold,
                                 min_sample_size);
    sgn double precision := CASE direction WHEN 'higher_is_better' THEN 1 ELSE -1 END;
BEGIN
    IF raw IN ('insufficient data', 'no target', 'red') OR coalesce(recovery_margin, 0) = 0
       OR previous_level IS NULL OR previous_level NOT IN ('red', 'yellow') THEN
        RETURN raw;
    END IF;
    -- "not yet better than threshold t by the margin"
    IF previous_level = 'red' AND red_threshold IS NOT NULL
       AND sgn * value < sgn * red_threshold + recovery_margin THEN
        RETURN 'red';
    END IF;
    IF raw = 'green' AND yellow_threshold IS NOT NULL
       AND sgn * value < sgn * yellow_threshold + recovery_margin THEN
        RETURN 'yellow';
    END IF;
    RETURN raw;
END $$;
COMMENT ON FUNCTION cxkpi.alert_level(text, double precision, bigint, double precision, double precision, double precision, bigint, double precision, text) IS
    'Alert level of a KPI value: cxkpi.kpi_status with hysteresis (a red or yellow level recovers only when the value is better than its threshold by recovery_margin).';

-- The value of a trigger-driven KPI from its running state (the same formulas as cxkpi.kpi_values).
CREATE FUNCTION cxkpi.alert_value(kpi text, nps @extschema@.nps_summary, csat @extschema@.csat_summary,
                                  ces @extschema@.ces_summary, numerator numeric, denominator numeric)
    RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN kpi = 'nps' THEN @extschema@.nps(nps)
        WHEN kpi IN ('csat', 'app_rating') THEN @extschema@.csat_mean(csat)
        WHEN kpi = 'csat_satisfied_pct' THEN @extschema@.csat(csat)
        WHEN kpi = 'ces' THEN @extschema@.ces(ces)
        WHEN denominator = 0 THEN NULL
        WHEN kpi IN ('conversion_rate', 'cart_abandonment_rate', 'cart_recovery_rate', 'resolution_rate',
                     'first_contact_resolution_rate') THEN (100 * numerator / denominator)::double precision
        ELSE (numerator / denominator)::double precision
    END $$;
COMMENT ON FUNCTION cxkpi.alert_value(text, @extschema@.nps_summary, @extschema@.csat_summary, @extschema@.ces_summary, numeric, numeric) IS
    'Value of a trigger-driven KPI from its running alert state.';

-------------------------------------------------------------------------------------------------
-- Contributions of fact rows
-------------------------------------------------------------------------------------------------

-- One contribution of a statement to one alert state.
CREATE TYPE cxkpi.alert_delta AS (
    kpi          text,
    breakdown    text,
    dimension    text,
    period_start date,
    nps          @extschema@.nps_summary,
    csat         @extschema@.csat_summary,
    ces          @extschema@.ces_summary,
    numerator    numeric,
    denominator  numeric,
    sample_size  bigint,
    subtract     boolean      -- the summaries are of removed rows, to be subtracted
);
COMMENT ON TYPE cxkpi.alert_delta IS 'Internal: one statement''s contribution to one alert state.';

-- The SQL that turns rows of fact table `fact`, given as the query `src` with the table's
-- columns plus `sign` (1 for added rows, -1 for removed rows), into cxkpi.alert_delta rows
-- aggregated per state.  The same SQL serves the triggers (src reads the transition tables)
-- and cxkpi.check_thresholds() (src reads the whole table), so both compute the same states.
-- Removed survey and rating rows are aggregated apart, into summaries marked `subtract`.
CREATE FUNCTION cxkpi.alert_contributions_sql(fact text, src text) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
    grain CONSTANT text := quote_literal(cxkpi.setting('alert_grain'));
    -- period of a timestamptz column in the configured time zone and alert grain (settings are
    -- written into the SQL as constants: nothing is looked up per row)
    per CONSTANT text := format('date_trunc(%s, (%%s AT TIME ZONE %s)::date::timestamp)::date',
                                grain, quote_literal(cxkpi.setting('time_zone')));
    -- Additive KPIs.  Rows are first summed per (dimension, period) in one pass (query a, with
    -- columns dimension, period_start and the sums named in the unpivot list); the totals are
    -- then summed from those few groups, and each group is unpivoted into one row per KPI.
    additive CONSTANT text := $$
WITH a AS (%1$s),
t AS (SELECT %2$L AS breakdown, a.* FROM a
      UNION ALL
      SELECT 'total', 'all', period_start, %3$s FROM a GROUP BY period_start)
SELECT (k.kpi, t.breakdown, t.dimension, t.period_start, NULL, NULL, NULL, k.num, k.den, k.n, false)::cxkpi.alert_delta
FROM t CROSS JOIN LATERAL (VALUES %4$s) AS k(kpi, num, den, n)$$;
    csat_scale CONSTANT integer := cxkpi.setting('csat_scale')::integer;
    ces_scale CONSTANT integer := cxkpi.setting('ces_scale')::integer;
BEGIN
    CASE fact
    WHEN 'survey_responses' THEN
        -- one summary per (survey, channel, period); totals by rollup(); one row per KPI
        RETURN format($$
WITH a AS (
    SELECT s.survey, s.channel, %1$s AS period_start, s.sign < 0 AS subtract,
           @extschema@.nps_agg(s.score) FILTER (WHERE s.survey = 'nps') AS nps,
           @extschema@.csat_agg(s.score, s.scale) FILTER (WHERE s.survey = 'csat') AS csat,
           @extschema@.ces_agg(s.score, s.scale) FILTER (WHERE s.survey = 'ces') AS ces,
           sum(s.sign) AS n
    FROM (%2$s) AS s
    WHERE s.survey = 'nps' OR (s.survey = 'csat' AND s.scale = %3$s) OR (s.survey = 'ces' AND s.scale = %4$s)
    GROUP BY 1, 2, 3, 4),
t AS (
    SELECT survey, 'channel' AS breakdown, channel AS dimension, period_start, subtract, nps, csat, ces, n FROM a
    UNION ALL
    SELECT survey, 'total', 'all', period_start, subtract, @extschema@.rollup(nps), @extschema@.rollup(csat),
           @extschema@.rollup(ces), sum(n)
    FROM a GROUP BY survey, period_start, subtract)
SELECT (k.kpi, t.breakdown, t.dimension, t.period_start, t.nps, t.csat, t.ces, 0, 0, t.n::bigint, t.subtract)::cxkpi.alert_delta
FROM t JOIN (VALUES ('nps', 'nps'), ('csat', 'csat'), ('csat', 'csat_satisfied_pct'), ('ces', 'ces')) AS k(survey, kpi)
  ON k.survey = t.survey$$, format(per, 's.responded_at'), src, csat_scale, ces_scale);
    WHEN 'app_ratings' THEN
        RETURN format($$
WITH a AS (
    SELECT s.app_store, %1$s AS period_start, s.sign < 0 AS subtract,
           @extschema@.csat_agg(s.rating, 5) AS csat, sum(s.sign) AS n
    FROM (%2$s) AS s GROUP BY 1, 2, 3),
t AS (
    SELECT 'app_store' AS breakdown, app_store AS dimension, period_start, subtract, csat, n FROM a
    UNION ALL
    SELECT 'total', 'all', period_start, subtract, @extschema@.rollup(csat), sum(n) FROM a GROUP BY period_start, subtract)
SELECT ('app_rating', t.breakdown, t.dimension, t.period_start, NULL, t.csat, NULL, 0, 0, t.n::bigint, t.subtract)::cxkpi.alert_delta
FROM t$$, format(per, 's.rated_at'), src);
    WHEN 'web_sessions' THEN
        RETURN format(additive, format($$
SELECT s.device AS dimension, %s AS period_start, sum(s.sign * s.converted::int) AS conv, sum(s.sign) AS visits
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.started_at'), src),
            'device', 'sum(conv), sum(visits)', $$('conversion_rate', conv, visits, visits)$$);
    WHEN 'store_traffic' THEN
        RETURN format(additive, format($$
SELECT 'store'::text AS dimension, date_trunc(%s, s.visit_date::timestamp)::date AS period_start,
       0::numeric AS conv, sum(s.sign * s.visitors) AS visits
FROM (%s) AS s GROUP BY 1, 2$$, grain, src),
            'device', 'sum(conv), sum(visits)', $$('conversion_rate', conv, visits, visits)$$);
    WHEN 'orders' THEN
        -- AOV per channel; store orders are also the conversions of the 'store' device
        RETURN '(' || format(additive, format($$
SELECT s.channel AS dimension, %s AS period_start, sum(s.sign * (s.gross_value - s.discount)) AS net_value,
       sum(s.sign) AS orders
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.ordered_at'), src),
            'channel', 'sum(net_value), sum(orders)', $$('aov', net_value, orders, orders)$$)
            || ') UNION ALL (' || format(additive, format($$
SELECT 'store'::text AS dimension, %s AS period_start, sum(s.sign) AS conv, 0::numeric AS visits
FROM (%s) AS s WHERE s.channel = 'store' GROUP BY 1, 2$$, format(per, 's.ordered_at'), src),
            'device', 'sum(conv), sum(visits)', $$('conversion_rate', conv, visits, visits)$$) || ')';
    WHEN 'carts' THEN
        RETURN format(additive, format($$
SELECT s.device AS dimension, %s AS period_start, sum(s.sign) AS carts,
       sum(s.sign * (s.converted_at IS NULL)::int) AS abandoned, sum(s.sign * (s.recovered_at IS NOT NULL)::int) AS recovered
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.created_at'), src),
            'device', 'sum(carts), sum(abandoned), sum(recovered)',
            $$('cart_abandonment_rate', abandoned, carts, carts), ('cart_recovery_rate', recovered, abandoned, abandoned)$$);
    WHEN 'support_tickets' THEN
        RETURN format(additive, format($$
SELECT s.channel AS dimension, %s AS period_start, sum(s.sign) AS tickets,
       sum(s.sign * coalesce(extract(epoch FROM s.first_response_at - s.created_at) / 3600, 0)) AS hours,
       sum(s.sign * (s.first_response_at IS NOT NULL)::int) AS responded,
       sum(s.sign * (s.resolved_at IS NOT NULL)::int) AS resolved,
       sum(s.sign * coalesce(s.resolved_at IS NOT NULL AND s.contacts_to_resolve = 1 AND NOT s.reopened, false)::int) AS fcr
FROM (%s) AS s GROUP BY 1, 2$$, format(per, 's.created_at'), src),
            'channel', 'sum(tickets), sum(hours), sum(responded), sum(resolved), sum(fcr)',
            $$('response_time_hours', hours, responded, responded), ('resolution_rate', resolved, tickets, tickets),
              ('first_contact_resolution_rate', fcr, resolved, resolved)$$);
    WHEN 'metric_observations' THEN
        -- per KPI: the unpivot list has one entry and the KPI is a grouping column
        RETURN format($$
WITH a AS (
    SELECT s.kpi, s.dimension, %s AS period_start, sum(s.sign * s.value::numeric * s.weight::numeric) AS num,
           sum(s.sign * s.weight::numeric) AS den, sum(s.sign) AS n
    FROM (%s) AS s GROUP BY 1, 2, 3),
t AS (
    SELECT kpi, 'dimension' AS breakdown, dimension, period_start, num, den, n FROM a WHERE dimension <> ''
    UNION ALL
    SELECT kpi, 'total', 'all', period_start, sum(num), sum(den), sum(n) FROM a GROUP BY kpi, period_start)
SELECT (t.kpi, t.breakdown, t.dimension, t.period_start, NULL, NULL, NULL, t.num, t.den, t.n::bigint, false)::cxkpi.alert_delta
FROM t$$, format(per, 's.observed_at'), src);
    ELSE
        RAISE EXCEPTION 'no alert contributions for table "%"', fact USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END $f$;
COMMENT ON FUNCTION cxkpi.alert_contributions_sql(text, text) IS
    'Internal: the SQL that turns fact rows (with a sign column) into alert state contributions, shared by the triggers and cxkpi.check_thresholds().';

-- The fact tables whose triggers feed the alert states, and the KPIs they feed (besides the
-- KPIs whose source is metric_observations).
CREATE FUNCTION cxkpi.alert_fact_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['survey_responses', 'app_ratings', 'web_sessions', 'store_traffic', 'orders', 'carts',
                       'support_tickets', 'metric_observations'] $$;
COMMENT ON FUNCTION cxkpi.alert_fact_tables() IS 'The fact tables whose triggers feed the alert states.';
CREATE FUNCTION cxkpi.alert_trigger_kpis() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['nps', 'csat', 'csat_satisfied_pct', 'ces', 'app_rating', 'conversion_rate', 'aov',
                       'cart_abandonment_rate', 'cart_recovery_rate', 'response_time_hours', 'resolution_rate',
                       'first_contact_resolution_rate'] $$;
COMMENT ON FUNCTION cxkpi.alert_trigger_kpis() IS
    'The KPIs evaluated as data arrives (with the metric_observations KPIs); the others are evaluated by cxkpi.check_thresholds().';

-------------------------------------------------------------------------------------------------
-- Subtracting summaries (rows removed by UPDATE or DELETE)
-------------------------------------------------------------------------------------------------

-- a - b for summaries of the same scale, where b counts a subset of a's answers: the counts
-- are subtracted score by score (the C subtraction that rollup()'s window frames use).  NULL b
-- gives a; b not held by a raises 22000, never a wrong state.
CREATE FUNCTION cxkpi.summary_minus(a @extschema@.nps_summary, b @extschema@.nps_summary)
    RETURNS @extschema@.nps_summary AS 'MODULE_PATHNAME', 'score_summary_minus'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION cxkpi.summary_minus(a @extschema@.csat_summary, b @extschema@.csat_summary)
    RETURNS @extschema@.csat_summary AS 'MODULE_PATHNAME', 'score_summary_minus'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION cxkpi.summary_minus(a @extschema@.ces_summary, b @extschema@.ces_summary)
    RETURNS @extschema@.ces_summary AS 'MODULE_PATHNAME', 'score_summary_minus'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cxkpi.summary_minus(@extschema@.nps_summary, @extschema@.nps_summary) IS
    'Internal: a minus b, score by score (b counts answers that a holds).';
COMMENT ON FUNCTION cxkpi.summary_minus(@extschema@.csat_summary, @extschema@.csat_summary) IS
    'Internal: a minus b, score by score (b counts answers that a holds).';
COMMENT ON FUNCTION cxkpi.summary_minus(@extschema@.ces_summary, @extschema@.ces_summary) IS
    'Internal: a minus b, score by score (b counts answers that a holds).';

-------------------------------------------------------------------------------------------------
-- Pending contributions, applied at commit
-------------------------------------------------------------------------------------------------

-- The statement triggers only append their contributions here (no lock on any shared row); a
-- deferred constraint trigger applies all of a transaction's contributions at commit, in one
-- key-ordered statement.  So writers never wait on each other while their transactions run,
-- take the shared state rows in one global order (no deadlock, whatever order they write the
-- fact tables in) and hold them only while committing.  Rows live only inside their own
-- transaction: unlogged, never visible to another session.
CREATE UNLOGGED TABLE cxkpi.alert_pending (
    xact  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    delta cxkpi.alert_delta NOT NULL
);
CREATE INDEX alert_pending_xact ON cxkpi.alert_pending (xact);
COMMENT ON TABLE cxkpi.alert_pending IS
    'Alerting: contributions of the statements of running transactions, applied to cxkpi.alert_state at commit. Internal.';

-- Appends one statement's contributions.  It runs as the extension owner (writers cannot write
-- this table) and only from the alerting trigger of a fact table.
CREATE FUNCTION cxkpi.alert_enqueue(fact regclass, deltas cxkpi.alert_delta[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pg_trigger_depth() < 1 OR fact NOT IN (SELECT format('cxkpi.%I', t)::regclass
                                              FROM unnest(cxkpi.alert_fact_tables()) AS t) THEN
        RAISE EXCEPTION 'cxkpi.alert_enqueue can only be called by the alerting triggers of the fact tables'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO cxkpi.alert_pending (delta) SELECT d FROM unnest(deltas) AS d;
END $$;
COMMENT ON FUNCTION cxkpi.alert_enqueue(regclass, cxkpi.alert_delta[]) IS
    'Internal: queues one statement''s contributions for the commit of its transaction (alerting triggers only).';

-------------------------------------------------------------------------------------------------
-- Merging contributions and evaluating states
-------------------------------------------------------------------------------------------------

-- Writers that apply contributions hold this lock shared, from their commit-time apply to the
-- end of their transaction; full rebuilds (check_thresholds, TRUNCATE, settings changes) hold
-- it exclusively, so that no transaction's contribution is counted twice or missed.
CREATE FUNCTION cxkpi.alert_lock_key() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 7239017743250318001::bigint $$;
COMMENT ON FUNCTION cxkpi.alert_lock_key() IS 'Internal: the advisory lock that orders alert state applies and rebuilds.';

-- Adds contributions to the running states, in key order, and returns the keys touched.  A
-- state created here starts at the level of its open alert, if it has one (after a restore,
-- the history is loaded before the facts), else at 'insufficient data'.
-- Like alert_evaluate it runs once per transaction: a generic plan saves the re-planning that
-- the plan cache would otherwise do for every call (half of its cost).
CREATE FUNCTION cxkpi.alert_merge(deltas cxkpi.alert_delta[]) RETURNS cxkpi.alert_delta[]
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    touched cxkpi.alert_delta[];
BEGIN
    -- 1. add: summaries of added rows are merged, numerators and denominators summed (signed)
    WITH d AS (
        SELECT kpi, breakdown, dimension, period_start,
               @extschema@.rollup(nps) FILTER (WHERE NOT subtract) AS nps,
               @extschema@.rollup(csat) FILTER (WHERE NOT subtract) AS csat,
               @extschema@.rollup(ces) FILTER (WHERE NOT subtract) AS ces,
               sum(numerator) AS numerator, sum(denominator) AS denominator, sum(sample_size)::bigint AS sample_size,
               bool_or(subtract) AS has_out
        FROM unnest(deltas) GROUP BY 1, 2, 3, 4),
    up AS (
        INSERT INTO cxkpi.alert_state AS s (kpi, breakdown, dimension, grain, period_start, source, nps, csat, ces,
                                            numerator, denominator, sample_size, level)
        SELECT d.kpi, d.breakdown, d.dimension, g, d.period_start, 'trigger', d.nps, d.csat, d.ces,
               d.numerator, d.denominator, d.sample_size,
               coalesce((SELECT a.level FROM cxkpi.alerts AS a
                         WHERE (a.kpi, a.breakdown, a.dimension, a.grain, a.period_start)
                               = (d.kpi, d.breakdown, d.dimension, g, d.period_start)
                           AND a.resolved_at IS NULL ORDER BY a.alert_id DESC LIMIT 1), 'insufficient data')
        FROM d
        WHERE d.numerator <> 0 OR d.denominator <> 0 OR d.sample_size <> 0 OR d.has_out
           OR d.nps IS NOT NULL OR d.csat IS NOT NULL OR d.ces IS NOT NULL
        ORDER BY d.kpi, d.breakdown, d.dimension, d.period_start
        ON CONFLICT (kpi, breakdown, dimension, grain, period_start) DO UPDATE
            SET nps = @extschema@.merge(s.nps, excluded.nps), csat = @extschema@.merge(s.csat, excluded.csat),
                ces = @extschema@.merge(s.ces, excluded.ces), numerator = s.numerator + excluded.numerator,
                denominator = s.denominator + excluded.denominator,
                sample_size = s.sample_size + excluded.sample_size, source = 'trigger'
        RETURNING s.kpi, s.breakdown, s.dimension, s.period_start)
    SELECT array_agg((up.kpi, up.breakdown, up.dimension, up.period_start, NULL, NULL, NULL, NULL, NULL, NULL,
                      false)::cxkpi.alert_delta)
      INTO touched FROM up;
    -- 2. subtract: summaries of removed rows, score by score (rows already locked by step 1)
    IF EXISTS (SELECT 1 FROM unnest(deltas) AS x WHERE x.subtract) THEN
        UPDATE cxkpi.alert_state AS s
           SET nps = cxkpi.summary_minus(s.nps, o.nps), csat = cxkpi.summary_minus(s.csat, o.csat),
               ces = cxkpi.summary_minus(s.ces, o.ces)
          FROM (SELECT kpi, breakdown, dimension, period_start, @extschema@.rollup(nps) AS nps,
                       @extschema@.rollup(csat) AS csat, @extschema@.rollup(ces) AS ces
                FROM unnest(deltas) WHERE subtract GROUP BY 1, 2, 3, 4) AS o
         WHERE (s.kpi, s.breakdown, s.dimension, s.grain, s.period_start)
               = (o.kpi, o.breakdown, o.dimension, g, o.period_start);
    END IF;
    RETURN touched;
END $$;
COMMENT ON FUNCTION cxkpi.alert_merge(cxkpi.alert_delta[]) IS
    'Internal: adds contributions to cxkpi.alert_state and returns the keys touched.';

-- The contributions of a whole fact table.
CREATE FUNCTION cxkpi.alert_table_contributions(fact text) RETURNS cxkpi.alert_delta[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fresh cxkpi.alert_delta[];
BEGIN
    EXECUTE format('SELECT array_agg(c) FROM (%s) AS q(c)',
                   cxkpi.alert_contributions_sql(fact, format('SELECT 1 AS sign, f.* FROM cxkpi.%I AS f', fact)))
       INTO fresh;
    RETURN fresh;
END $$;
COMMENT ON FUNCTION cxkpi.alert_table_contributions(text) IS
    'Internal: the alert contributions of a whole fact table.';

-- Evaluates the given states (every state of the alert grain when keys is NULL): value, level
-- against the target row valid for the period (cxkpi.alert_level), and, for every change of
-- level to or from red or yellow in the current period (the one holding cxkpi.as_of()) or the
-- one before it (the last complete period, which late data still changes), one row in
-- cxkpi.alerts, the resolution of the previous open alert of that state, and a notification.
-- Earlier periods keep their levels up to date without alerts (backfills and history loads do
-- not page anyone).  The callers hold the state rows' locks.
CREATE FUNCTION cxkpi.alert_evaluate(keys cxkpi.alert_delta[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
    today date := cxkpi.as_of();
    c record;
    a cxkpi.alerts;
    raised integer := 0;
BEGIN
    FOR c IN
        WITH k AS (
            SELECT DISTINCT d.kpi, d.breakdown, d.dimension, d.period_start FROM unnest(keys) AS d),
        s AS (
            SELECT st.kpi, st.breakdown, st.dimension, st.period_start, st.level, st.sample_size,
                   CASE WHEN st.source = 'trigger'
                        THEN cxkpi.alert_value(st.kpi, st.nps, st.csat, st.ces, st.numerator, st.denominator)
                        ELSE st.value END AS new_value
            FROM cxkpi.alert_state AS st
            WHERE st.grain = g
              AND (keys IS NULL OR (st.kpi, st.breakdown, st.dimension, st.period_start) IN (SELECT * FROM k))),
        e AS (
            SELECT s.kpi, s.breakdown, s.dimension, s.period_start, s.level AS previous_level, s.new_value,
                   s.sample_size, t.target, t.red_threshold, t.yellow_threshold,
                   cxkpi.alert_level(d.direction, s.new_value, s.sample_size, t.target, t.red_threshold,
                                     t.yellow_threshold, t.min_sample_size, t.recovery_margin, s.level) AS new_level
            FROM s JOIN cxkpi.kpi_definitions AS d USING (kpi)
            LEFT JOIN LATERAL (
                SELECT kt.target, kt.red_threshold, kt.yellow_threshold, kt.min_sample_size, kt.recovery_margin
                FROM cxkpi.kpi_targets AS kt
                WHERE kt.kpi = s.kpi AND kt.enabled AND kt.dimension IN (s.dimension, '')
                  AND kt.valid_from <= s.period_start
                ORDER BY kt.dimension = '', kt.valid_from DESC
                LIMIT 1) AS t ON true),
        u AS (
            UPDATE cxkpi.alert_state AS st
               SET value = e.new_value, level = e.new_level, evaluated_at = clock_timestamp(),
                   level_since = CASE WHEN e.new_level <> st.level THEN clock_timestamp() ELSE st.level_since END
              FROM e
             WHERE st.kpi = e.kpi AND st.breakdown = e.breakdown AND st.dimension = e.dimension
               AND st.grain = g AND st.period_start = e.period_start
               AND (st.value IS DISTINCT FROM e.new_value OR st.level <> e.new_level)
            RETURNING e.*)
        SELECT * FROM u
        WHERE u.new_level <> u.previous_level
          AND (u.new_level IN ('red', 'yellow') OR u.previous_level IN ('red', 'yellow'))
          AND (cxkpi.period_bounds(g, u.period_start)).period_end >= (cxkpi.period_bounds(g, today)).period_start - 1
        ORDER BY u.kpi, u.breakdown, u.dimension, u.period_start
    LOOP
        UPDATE cxkpi.alerts SET resolved_at = clock_timestamp()
         WHERE kpi = c.kpi AND breakdown = c.breakdown AND dimension = c.dimension AND grain = g
           AND period_start = c.period_start AND resolved_at IS NULL;
        LOOP
            BEGIN
                INSERT INTO cxkpi.alerts (kpi, breakdown, dimension, grain, period_start, period_end, level,
                                          previous_level, value, threshold, target, sample_size, resolved_at)
                VALUES (c.kpi, c.breakdown, c.dimension, g, c.period_start,
                        (cxkpi.period_bounds(g, c.period_start)).period_end, c.new_level, c.previous_level,
                        c.new_value,
                        CASE WHEN c.new_level = 'red' OR (c.new_level <> 'yellow' AND c.previous_level = 'red')
                             THEN c.red_threshold ELSE c.yellow_threshold END,
                        c.target, c.sample_size,
                        CASE WHEN c.new_level NOT IN ('red', 'yellow') THEN clock_timestamp() END)
                RETURNING * INTO a;
                EXIT;
            EXCEPTION WHEN unique_violation THEN
                -- the sequence is behind the stored ids (a restore loads its value after the
                -- history): move it past them and try again
                PERFORM setval('cxkpi.alerts_alert_id_seq', (SELECT max(alert_id) FROM cxkpi.alerts));
            END;
        END LOOP;
        PERFORM pg_notify('cxkpi_alerts', json_build_object(
                    'alert_id', a.alert_id, 'kpi', a.kpi, 'breakdown', a.breakdown,
                    'dimension', left(a.dimension, 200), 'period_start', a.period_start, 'level', a.level,
                    'previous_level', a.previous_level, 'value', a.value)::text);
        raised := raised + 1;
    END LOOP;
    RETURN raised;
END $$;
COMMENT ON FUNCTION cxkpi.alert_evaluate(cxkpi.alert_delta[]) IS
    'Internal: evaluates alert states (all when NULL) and records level changes of current periods in cxkpi.alerts.';

-- Applies the pending contributions of the current transaction (all of them, on the first call
-- of the commit; later calls find nothing).
CREATE FUNCTION cxkpi.alert_apply() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deltas cxkpi.alert_delta[];
BEGIN
    WITH gone AS (DELETE FROM cxkpi.alert_pending WHERE xact = pg_current_xact_id_if_assigned() RETURNING delta)
    SELECT array_agg(delta) INTO deltas FROM gone;
    IF deltas IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(cxkpi.alert_lock_key());
    RETURN cxkpi.alert_evaluate(cxkpi.alert_merge(deltas));
END $$;
COMMENT ON FUNCTION cxkpi.alert_apply() IS
    'Internal: applies the current transaction''s pending contributions to cxkpi.alert_state and evaluates the touched states.';

-- Recomputes every trigger-driven state from the fact tables (the levels are kept, for the
-- recovery margin), under the exclusive rebuild lock; the caller's own pending contributions
-- are dropped, since the tables it reads already hold its rows.
CREATE FUNCTION cxkpi.alert_rebuild() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text;
BEGIN
    PERFORM pg_advisory_xact_lock(cxkpi.alert_lock_key());
    DELETE FROM cxkpi.alert_pending WHERE xact = pg_current_xact_id_if_assigned();
    -- states of another grain (after a change of alert_grain) are dropped, their open alerts closed
    UPDATE cxkpi.alerts SET resolved_at = clock_timestamp()
     WHERE resolved_at IS NULL AND grain <> cxkpi.setting('alert_grain');
    DELETE FROM cxkpi.alert_state WHERE grain <> cxkpi.setting('alert_grain');
    UPDATE cxkpi.alert_state
       SET nps = NULL, csat = NULL, ces = NULL, numerator = 0, denominator = 0, sample_size = 0
     WHERE source = 'trigger';
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        PERFORM cxkpi.alert_merge(cxkpi.alert_table_contributions(t));
    END LOOP;
END $$;
COMMENT ON FUNCTION cxkpi.alert_rebuild() IS
    'Internal: recomputes every trigger-driven alert state from the fact tables.';

-------------------------------------------------------------------------------------------------
-- The triggers
-------------------------------------------------------------------------------------------------

-- Statement-level AFTER trigger of every fact table: the statement's rows (transition tables
-- new_rows and old_rows; for an UPDATE only the rows that changed), signed, become
-- contributions that wait in cxkpi.alert_pending for the commit.  Runs as the invoker with a
-- pinned search_path; only the queueing function runs as the owner.
CREATE FUNCTION cxkpi.alert_trigger() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    src text;
    deltas cxkpi.alert_delta[];
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_TABLE_SCHEMA <> 'cxkpi'
       OR NOT TG_TABLE_NAME = ANY (cxkpi.alert_fact_tables()) THEN
        RAISE EXCEPTION 'cxkpi.alert_trigger() is the alerting trigger of the cxkpi fact tables only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT has_function_privilege('cxkpi.alert_enqueue(regclass, cxkpi.alert_delta[])', 'EXECUTE') THEN
        RAISE EXCEPTION 'role "%" may not write cxkpi.% while alerting is on', current_user, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'GRANT cxkpi_writer TO the loading role (docs/alerts.md#settings-and-privileges).';
    END IF;
    src := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows AS n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows AS o'
        ELSE 'SELECT 1 AS sign, d.* FROM (TABLE new_rows EXCEPT ALL TABLE old_rows) AS d
              UNION ALL SELECT -1, d.* FROM (TABLE old_rows EXCEPT ALL TABLE new_rows) AS d' END;
    EXECUTE format('SELECT array_agg(c) FROM (%s) AS q(c)', cxkpi.alert_contributions_sql(TG_TABLE_NAME, src))
       INTO deltas;
    IF deltas IS NOT NULL THEN
        PERFORM cxkpi.alert_enqueue(TG_RELID::regclass, deltas);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_trigger() IS
    'Statement-level trigger of the fact tables: queues the statement''s contributions to the alert states.';

-- Deferred constraint trigger on cxkpi.alert_pending: applies the transaction's contributions
-- at commit.
CREATE FUNCTION cxkpi.alert_commit_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_RELID <> 'cxkpi.alert_pending'::regclass THEN
        RAISE EXCEPTION 'cxkpi.alert_commit_trigger() belongs to cxkpi.alert_pending' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM cxkpi.alert_apply();
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_commit_trigger() IS
    'Deferred trigger: applies the transaction''s pending alert contributions at commit.';
CREATE CONSTRAINT TRIGGER alert_pending_apply AFTER INSERT ON cxkpi.alert_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cxkpi.alert_commit_trigger();

-- TRUNCATE has no transition table: every state is rebuilt from the tables and evaluated.
CREATE FUNCTION cxkpi.alert_truncate_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_TABLE_SCHEMA <> 'cxkpi' OR NOT TG_TABLE_NAME = ANY (cxkpi.alert_fact_tables()) THEN
        RAISE EXCEPTION 'cxkpi.alert_truncate_trigger() belongs to the cxkpi fact tables' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM cxkpi.alert_rebuild();
    PERFORM cxkpi.alert_evaluate(NULL);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_truncate_trigger() IS
    'TRUNCATE trigger of the fact tables: rebuilds and evaluates the alert states.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        EXECUTE format('CREATE TRIGGER alert_insert AFTER INSERT ON cxkpi.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_trigger()', t);
        EXECUTE format('CREATE TRIGGER alert_update AFTER UPDATE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_trigger()', t);
        EXECUTE format('CREATE TRIGGER alert_delete AFTER DELETE ON cxkpi.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_trigger()', t);
        EXECUTE format('CREATE TRIGGER alert_truncate AFTER TRUNCATE ON cxkpi.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_truncate_trigger()', t);
    END LOOP;
END $$;

-- Settings that change what a state holds (grain, time zone, survey scales) rebuild the states.
CREATE FUNCTION cxkpi.alert_settings_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_RELID <> 'cxkpi.settings'::regclass THEN
        RAISE EXCEPTION 'cxkpi.alert_settings_trigger() belongs to cxkpi.settings' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM cxkpi.alert_rebuild();
    PERFORM cxkpi.alert_evaluate(NULL);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_settings_trigger() IS
    'Trigger of cxkpi.settings: a change of alert_grain, time_zone, csat_scale or ces_scale rebuilds the alert states.';
CREATE TRIGGER alert_settings AFTER UPDATE ON cxkpi.settings FOR EACH ROW
    WHEN (NEW.key IN ('alert_grain', 'time_zone', 'csat_scale', 'ces_scale') AND NEW.value IS DISTINCT FROM OLD.value)
    EXECUTE FUNCTION cxkpi.alert_settings_trigger();

-- Edited targets re-evaluate every state (levels follow the new thresholds at once).
CREATE FUNCTION cxkpi.alert_targets_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_RELID <> 'cxkpi.kpi_targets'::regclass THEN
        RAISE EXCEPTION 'cxkpi.alert_targets_trigger() belongs to cxkpi.kpi_targets' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM pg_advisory_xact_lock(cxkpi.alert_lock_key());
    PERFORM cxkpi.alert_evaluate(NULL);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION cxkpi.alert_targets_trigger() IS
    'Trigger of cxkpi.kpi_targets: edited targets re-evaluate every alert state.';
CREATE TRIGGER alert_targets AFTER INSERT OR UPDATE OR DELETE ON cxkpi.kpi_targets
    FOR EACH STATEMENT EXECUTE FUNCTION cxkpi.alert_targets_trigger();

-------------------------------------------------------------------------------------------------
-- User-facing functions and view
-------------------------------------------------------------------------------------------------

-- Rebuilds every trigger-driven state from the fact tables, loads the rollup-driven KPIs of the
-- alert grain from cxkpi.kpi_values (refresh the dashboard first for fresh values), and
-- evaluates everything.  Returns the number of alerts raised.
CREATE FUNCTION cxkpi.check_thresholds() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g text := cxkpi.setting('alert_grain');
BEGIN
    PERFORM cxkpi.alert_rebuild();
    -- rollup-driven KPIs that have a red or yellow threshold, from the dashboard's rollups;
    -- states whose rollup row is gone are dropped
    DELETE FROM cxkpi.alert_state AS s
     WHERE s.source = 'rollup'
       AND NOT EXISTS (SELECT 1 FROM cxkpi.kpi_values AS v
                       WHERE (v.grain, v.period_start, v.kpi, v.breakdown, v.dimension)
                             = (g, s.period_start, s.kpi, s.breakdown, s.dimension));
    INSERT INTO cxkpi.alert_state AS s (kpi, breakdown, dimension, grain, period_start, source,
                                        numerator, denominator, sample_size, value)
    SELECT v.kpi, v.breakdown, v.dimension, g, v.period_start, 'rollup',
           coalesce(v.numerator, 0)::numeric, coalesce(v.denominator, 0)::numeric, coalesce(v.sample_size, 0),
           v.value
    FROM cxkpi.kpi_values AS v
    WHERE v.grain = g
      AND v.kpi <> ALL (cxkpi.alert_trigger_kpis())
      AND v.kpi NOT IN (SELECT kpi FROM cxkpi.kpi_definitions WHERE source = 'metric_observations')
      AND EXISTS (SELECT 1 FROM cxkpi.kpi_targets AS kt WHERE kt.kpi = v.kpi AND kt.enabled
                  AND (kt.red_threshold IS NOT NULL OR kt.yellow_threshold IS NOT NULL))
    ORDER BY 1, 2, 3, 5
    ON CONFLICT (kpi, breakdown, dimension, grain, period_start) DO UPDATE
        SET numerator = excluded.numerator, denominator = excluded.denominator,
            sample_size = excluded.sample_size, value = excluded.value, source = 'rollup';
    RETURN cxkpi.alert_evaluate(NULL);
END $$;
COMMENT ON FUNCTION cxkpi.check_thresholds() IS
    'Rebuilds every alert state from the fact tables and cxkpi.kpi_values (retention and other rollup KPIs: refresh the dashboard first), evaluates all of them and returns the number of alerts raised.';

-- Switches the alerting triggers off (bulk loads) or on.  Switching on rebuilds the states
-- with cxkpi.check_thresholds(), since rows loaded meanwhile are not in them.
CREATE FUNCTION cxkpi.set_alerting(enabled boolean) RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY cxkpi.alert_fact_tables() LOOP
        EXECUTE format('ALTER TABLE cxkpi.%I %s TRIGGER alert_insert, %2$s TRIGGER alert_update, '
                       '%2$s TRIGGER alert_delete, %2$s TRIGGER alert_truncate',
                       t, CASE WHEN enabled THEN 'ENABLE' ELSE 'DISABLE' END);
    END LOOP;
    IF enabled THEN
        RETURN cxkpi.check_thresholds();
    END IF;
    RETURN 0;
END $$;
COMMENT ON FUNCTION cxkpi.set_alerting(boolean) IS
    'Switches the alerting triggers off (for bulk loads) or on; switching on runs cxkpi.check_thresholds() and returns the alerts it raised.';

-- Whether the alerting triggers are on (all of them).
CREATE FUNCTION cxkpi.alerting_enabled() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT bool_and(tg.tgenabled <> 'D')
    FROM pg_catalog.pg_trigger AS tg
    WHERE tg.tgrelid IN (SELECT format('cxkpi.%I', t)::regclass FROM unnest(cxkpi.alert_fact_tables()) AS t)
      AND tg.tgname IN ('alert_insert', 'alert_update', 'alert_delete', 'alert_truncate') $$;
COMMENT ON FUNCTION cxkpi.alerting_enabled() IS 'True when the alerting triggers are on.';

-- Marks an alert as acknowledged (once; returns false if it was already acknowledged).
CREATE FUNCTION cxkpi.acknowledge_alert(alert_id bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    done boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cxkpi.alerts AS a WHERE a.alert_id = acknowledge_alert.alert_id) THEN
        RAISE EXCEPTION 'alert % does not exist', acknowledge_alert.alert_id USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE cxkpi.alerts AS a SET acknowledged_at = clock_timestamp()
     WHERE a.alert_id = acknowledge_alert.alert_id AND a.acknowledged_at IS NULL;
    GET DIAGNOSTICS done = ROW_COUNT;
    RETURN done;
END $$;
COMMENT ON FUNCTION cxkpi.acknowledge_alert(bigint) IS
    'Acknowledges an alert: sets acknowledged_at (true), or returns false if it was already acknowledged.';

CREATE VIEW cxkpi.current_alerts AS
SELECT a.alert_id, a.raised_at, a.kpi, d.name AS kpi_name, d.unit, a.breakdown, a.dimension, a.grain,
       a.period_start, a.period_end, a.level, a.previous_level, a.value, a.threshold, a.target, a.sample_size,
       a.acknowledged_at, a.acknowledged_at IS NOT NULL AS acknowledged,
       s.value AS current_value, s.sample_size AS current_sample_size
FROM cxkpi.alerts AS a
JOIN cxkpi.kpi_definitions AS d USING (kpi)
LEFT JOIN cxkpi.alert_state AS s USING (kpi, breakdown, dimension, grain, period_start)
WHERE a.resolved_at IS NULL AND a.level IN ('red', 'yellow')
  AND a.period_end >= (cxkpi.period_bounds(a.grain, cxkpi.as_of())).period_start - 1;
COMMENT ON VIEW cxkpi.current_alerts IS
    'Open red and yellow alerts of the current period (the one holding cxkpi.as_of()) and the one before it, with the current value.';
COMMENT ON COLUMN cxkpi.current_alerts.alert_id IS 'Alert identity (cxkpi.alerts).';
COMMENT ON COLUMN cxkpi.current_alerts.raised_at IS 'When the level changed.';
COMMENT ON COLUMN cxkpi.current_alerts.kpi IS 'KPI key.';
COMMENT ON COLUMN cxkpi.current_alerts.kpi_name IS 'KPI name.';
COMMENT ON COLUMN cxkpi.current_alerts.unit IS 'Unit of value, threshold and target.';
COMMENT ON COLUMN cxkpi.current_alerts.breakdown IS 'Breakdown: total, channel, device, app_store or dimension.';
COMMENT ON COLUMN cxkpi.current_alerts.dimension IS 'Value of the breakdown (all for the total).';
COMMENT ON COLUMN cxkpi.current_alerts.grain IS 'Alert grain.';
COMMENT ON COLUMN cxkpi.current_alerts.period_start IS 'First day of the period.';
COMMENT ON COLUMN cxkpi.current_alerts.period_end IS 'Last day of the period.';
COMMENT ON COLUMN cxkpi.current_alerts.level IS 'red or yellow.';
COMMENT ON COLUMN cxkpi.current_alerts.previous_level IS 'Level before the alert.';
COMMENT ON COLUMN cxkpi.current_alerts.value IS 'Value when the alert was raised.';
COMMENT ON COLUMN cxkpi.current_alerts.threshold IS 'Threshold crossed.';
COMMENT ON COLUMN cxkpi.current_alerts.target IS 'Target of the KPI.';
COMMENT ON COLUMN cxkpi.current_alerts.sample_size IS 'Observations behind value.';
COMMENT ON COLUMN cxkpi.current_alerts.acknowledged_at IS 'When it was acknowledged (NULL if not).';
COMMENT ON COLUMN cxkpi.current_alerts.acknowledged IS 'Whether it was acknowledged.';
COMMENT ON COLUMN cxkpi.current_alerts.current_value IS 'Value now (the state may have moved within the margin).';
COMMENT ON COLUMN cxkpi.current_alerts.current_sample_size IS 'Observations now.';

-------------------------------------------------------------------------------------------------
-- Privileges.  cxkpi_writer loads facts (the alerting triggers run for it) and cannot write
-- states or alerts; cxkpi_operator runs the alerting (switch, check, acknowledge, deliver).
-------------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cxkpi_writer') THEN
        CREATE ROLE cxkpi_writer NOLOGIN;
        COMMENT ON ROLE cxkpi_writer IS 'Loads cxkpi fact tables (the alerting triggers run for it); cannot write alert states or alerts.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cxkpi_operator') THEN
        CREATE ROLE cxkpi_operator NOLOGIN;
        COMMENT ON ROLE cxkpi_operator IS 'Runs cxkpi alerting: set_alerting, check_thresholds, acknowledge_alert, and marks alerts delivered.';
    END IF;
END $$;
GRANT USAGE ON SCHEMA cxkpi TO cxkpi_writer, cxkpi_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON cxkpi.customers, cxkpi.loyalty_members, cxkpi.orders, cxkpi.order_returns,
    cxkpi.survey_responses, cxkpi.web_sessions, cxkpi.store_traffic, cxkpi.carts, cxkpi.support_tickets,
    cxkpi.app_ratings, cxkpi.metric_observations TO cxkpi_writer;
GRANT SELECT ON cxkpi.alerts, cxkpi.alert_state, cxkpi.current_alerts, cxkpi.settings, cxkpi.kpi_definitions,
    cxkpi.kpi_targets TO cxkpi_writer, cxkpi_operator;
GRANT UPDATE (delivered_at) ON cxkpi.alerts TO cxkpi_operator;
REVOKE ALL ON FUNCTION cxkpi.alert_enqueue(regclass, cxkpi.alert_delta[]), cxkpi.alert_apply(),
    cxkpi.alert_evaluate(cxkpi.alert_delta[]), cxkpi.alert_merge(cxkpi.alert_delta[]),
    cxkpi.alert_table_contributions(text), cxkpi.alert_rebuild(), cxkpi.check_thresholds(),
    cxkpi.set_alerting(boolean), cxkpi.acknowledge_alert(bigint), cxkpi.alert_trigger(),
    cxkpi.alert_commit_trigger(), cxkpi.alert_truncate_trigger(), cxkpi.alert_settings_trigger(),
    cxkpi.alert_targets_trigger() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cxkpi.alert_enqueue(regclass, cxkpi.alert_delta[]) TO cxkpi_writer;
GRANT EXECUTE ON FUNCTION cxkpi.check_thresholds(), cxkpi.set_alerting(boolean), cxkpi.acknowledge_alert(bigint)
    TO cxkpi_operator;
GRANT SELECT ON cxkpi.current_alerts TO cxkpi_reader;
-- The sample dataset (docs/sample-data.md): cxkpi.generate_sample_data() fills every table of
-- the CX data model with deterministic, plausible retail data calibrated on seed 000: 2025 is
-- the "current" year, 2024 the year before, and customers and orders start in 2021 so that
-- repeat buying, retention and the CLV models have a history.
--
-- Determinism: every random quantity is a hash of (seed, stream, row key) turned into a uniform
-- number, then transformed by an inverse CDF; no random(), no dependence on row order or on the
-- plan.  The same scale and seed give the same rows on every machine.

-- A uniform number in (0, 1) from (seed, stream, key): the top 53 bits of hashint8extended.
CREATE FUNCTION cxkpi.sample_uniform(seed integer, stream integer, key bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (((pg_catalog.hashint8extended(key, (seed::bigint << 16) + stream) >> 11) & 9007199254740991)::double precision
                  + 0.5) / 9007199254740992.0 $$;
COMMENT ON FUNCTION cxkpi.sample_uniform(integer, integer, bigint) IS
    'Deterministic uniform number in (0, 1) from (seed, stream, key), for the sample data generator.';

-- A standard normal number (Box-Muller on streams stream and stream + 1).
CREATE FUNCTION cxkpi.sample_normal(seed integer, stream integer, key bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT sqrt(-2 * ln(cxkpi.sample_uniform(seed, stream, key)))
                 * cos(2 * pi() * cxkpi.sample_uniform(seed, stream + 1, key)) $$;
COMMENT ON FUNCTION cxkpi.sample_normal(integer, integer, bigint) IS
    'Deterministic standard normal number from (seed, stream, key) (Box-Muller; uses streams stream and stream + 1).';

-- A Gamma(shape, 1) number: Wilson-Hilferty cube of a normal for shape + 1, then
-- Gamma(shape) = Gamma(shape + 1) * U^(1/shape) (streams stream .. stream + 2).  The
-- Wilson-Hilferty approximation is within about 1 % of the exact quantiles for shape >= 1,
-- which is plenty for heterogeneity in simulated behaviour.
CREATE FUNCTION cxkpi.sample_gamma(shape double precision, seed integer, stream integer, key bigint)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (shape + 1) * power(greatest(1 - 1 / (9 * (shape + 1))
                                              + cxkpi.sample_normal(seed, stream, key) * sqrt(1 / (9 * (shape + 1))), 0.0), 3)
                 * power(cxkpi.sample_uniform(seed, stream + 2, key), 1 / shape) + 1e-12 $$;
COMMENT ON FUNCTION cxkpi.sample_gamma(double precision, integer, integer, bigint) IS
    'Deterministic Gamma(shape, 1) number from (seed, stream, key) (Wilson-Hilferty; uses streams stream .. stream + 2).';

-- A score drawn from a mixture of a satisfied and a dissatisfied answer profile whose weight
-- gives the requested mean: the mean is linear in the weight, so any mean between the two
-- profiles' means is reached exactly in expectation.  Profiles are cumulative probabilities over
-- lo .. hi.
CREATE FUNCTION cxkpi.sample_score(mean double precision, u_mix double precision, u_score double precision,
                                   good double precision[], bad double precision[], lo integer)
    RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    prof double precision[];
    m_good double precision := 0;
    m_bad double precision := 0;
    prev_g double precision := 0;
    prev_b double precision := 0;
    i integer;
BEGIN
    FOR i IN 1 .. array_length(good, 1) LOOP
        m_good := m_good + (lo + i - 1) * (good[i] - prev_g);
        m_bad := m_bad + (lo + i - 1) * (bad[i] - prev_b);
        prev_g := good[i];
        prev_b := bad[i];
    END LOOP;
    prof := CASE WHEN u_mix < (mean - m_bad) / (m_good - m_bad) THEN good ELSE bad END;
    FOR i IN 1 .. array_length(prof, 1) LOOP
        IF u_score < prof[i] THEN
            RETURN lo + i - 1;
        END IF;
    END LOOP;
    RETURN lo + array_length(prof, 1) - 1;
END $$;
COMMENT ON FUNCTION cxkpi.sample_score(double precision, double precision, double precision, double precision[], double precision[], integer) IS
    'Score with a given expected mean from two cumulative answer profiles (sample data generator).';

-- Linear interpolation of a yearly figure: prior at the middle of the year before, current at
-- the middle of the current year (t = years since the start of the year before).
CREATE FUNCTION cxkpi.sample_trend(prior double precision, current double precision, t double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT prior + (current - prior) * (t - 0.5) $$;
COMMENT ON FUNCTION cxkpi.sample_trend(double precision, double precision, double precision) IS
    'Figure at t years after the start of the year before: linear through prior (mid-year before) and current (mid current year).';

-- The generator.  See docs/sample-data.md for the model, the calibration and the tolerances.
CREATE FUNCTION cxkpi.generate_sample_data(scale double precision DEFAULT 1, seed integer DEFAULT 42,
                                           replace boolean DEFAULT false)
    RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    -- Calendar: the current year, the year before, and the order history before them.
    cur_year  constant integer := 2025;
    d_hist    constant date := make_date(cur_year - 4, 1, 1);   -- customers and orders start here
    d_cx      constant date := make_date(cur_year - 1, 1, 1);   -- every other table starts here
    d_end     constant date := make_date(cur_year, 12, 31);
    tz        text := cxkpi.setting('time_zone');
    ts_end    timestamptz;
    ndays     integer;
    s_cx      double precision;     -- business time at d_cx
    s_cur     double precision;     -- business time at the start of the current year
    n_cust    integer;
    -- Yearly targets, [year before, current] (seed 000).
    aov_total   double precision[] := ARRAY[99, 104, 109, 115, 127];   -- 2021 .. 2025
    conv_total  double precision[] := ARRAY[2.7, 3.2];
    conv_desk   double precision[] := ARRAY[3.3, 3.8];
    conv_mob    double precision[] := ARRAY[2.4, 2.9];
    conv_tab    double precision[] := ARRAY[2.9, 3.4];
    conv_store  double precision[] := ARRAY[3.6, 4.1];
    abandon     double precision[] := ARRAY[0.71, 0.68];
    recover     double precision[] := ARRAY[0.10, 0.12];
    resolve     double precision[] := ARRAY[0.79, 0.87];
    fcr         double precision[] := ARRAY[0.66, 0.72];
    consent     constant double precision := 0.25;  -- share of web/app visits tracked by analytics
    -- Customer behaviour (BG/NBD): purchase rate ~ Gamma(r, alpha) per year while alive,
    -- dropout after each purchase with probability p ~ Beta(a, b), scaled per year.
    bg_r      constant double precision := 1.5;
    bg_alpha  constant double precision := 0.41;   -- years: mean rate r / alpha = 3.66 a year
    bg_a      constant double precision := 1.0;
    bg_b      constant double precision := 9.0;
    drop_old  constant double precision := 1.18;   -- dropout multiplier for purchases before the year before
    drop_prev constant double precision := 0.88;   -- ... in the year before
    drop_cur  constant double precision := 0.80;   -- ... in the current year
    n_rows    bigint;
    k_csat    double precision;
    loy_active double precision;
    tmp       text;
    app_users double precision;
BEGIN
    IF scale IS NULL OR NOT (scale > 0 AND scale <= 100) THEN
        RAISE EXCEPTION 'scale % is out of range', scale USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use a scale greater than 0 and at most 100 (1 = 26,000 customers and about 140,000 orders).';
    END IF;
    IF seed IS NULL OR replace IS NULL THEN
        RAISE EXCEPTION 'seed and replace must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM cxkpi.customers) OR EXISTS (SELECT 1 FROM cxkpi.orders)
       OR EXISTS (SELECT 1 FROM cxkpi.survey_responses) OR EXISTS (SELECT 1 FROM cxkpi.web_sessions)
       OR EXISTS (SELECT 1 FROM cxkpi.store_traffic) OR EXISTS (SELECT 1 FROM cxkpi.carts)
       OR EXISTS (SELECT 1 FROM cxkpi.support_tickets) OR EXISTS (SELECT 1 FROM cxkpi.app_ratings)
       OR EXISTS (SELECT 1 FROM cxkpi.metric_observations) THEN
        IF NOT replace THEN
            RAISE EXCEPTION 'the cxkpi data tables already hold rows'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Call cxkpi.generate_sample_data(..., replace => true) to delete every row of the data tables first.';
        END IF;
        TRUNCATE cxkpi.order_returns, cxkpi.loyalty_members, cxkpi.survey_responses, cxkpi.carts,
                 cxkpi.web_sessions, cxkpi.support_tickets, cxkpi.orders, cxkpi.customers,
                 cxkpi.store_traffic, cxkpi.app_ratings, cxkpi.metric_observations;
    END IF;

    ts_end := (d_end + 1)::timestamp AT TIME ZONE tz;
    n_cust := greatest(100, round(26000 * scale))::integer;
    -- Work tables of an earlier call in this session (if it failed half-way in a subtransaction).
    FOR tmp IN SELECT unnest(ARRAY['cxs_day', 'cxs_bucket', 'cxs_cust', 'cxs_ev', 'cxs_ord', 'cxs_cum', 'cxs_sess',
                                   'cxs_need', 'cxs_tk', 'cxs_ret', 'cxs_srv']) LOOP
        IF to_regclass('pg_temp.' || tmp) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I', tmp);
        END IF;
    END LOOP;

    ---------------------------------------------------------------------------------------------
    -- Business time: one unit per day on average, denser in busy seasons and on busy weekdays.
    -- Purchases follow a Poisson process in business time, so they follow the season in
    -- calendar time; s0 is the business time at the start of each day.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_day AS
    WITH x AS (
        SELECT g::date AS day,
               (ARRAY[0.80, 0.78, 0.92, 0.95, 1.00, 0.98, 0.97, 1.00, 0.95, 1.00, 1.25, 1.40])[extract(month FROM g)::int]
               * (ARRAY[0.99, 0.92, 0.90, 0.93, 0.98, 1.08, 1.20])[extract(dow FROM g)::int + 1]
               * CASE WHEN to_char(g, 'MM-DD') = '12-25' THEN 0.3
                      -- Black Friday (the Friday of Nov 23-29), its weekend, Cyber Monday
                      WHEN extract(month FROM g) = 11 AND extract(dow FROM g) = 5 AND extract(day FROM g) BETWEEN 23 AND 29 THEN 2.0
                      WHEN extract(month FROM g) = 11 AND extract(dow FROM g) IN (6, 0) AND extract(day FROM g) BETWEEN 24 AND 30 THEN 1.4
                      WHEN extract(dow FROM g) = 1 AND g::date BETWEEN make_date(extract(year FROM g)::int, 11, 26)
                                                                  AND make_date(extract(year FROM g)::int, 12, 2) THEN 1.6
                      ELSE 1 END AS w
        FROM generate_series(d_hist, d_end, '1 day') AS g),
    n AS (SELECT day, (day - d_hist) AS di, w / avg(w) OVER () AS w FROM x)
    SELECT day, di, w, sum(w) OVER (ORDER BY di) - w AS s0 FROM n;
    SELECT count(*) INTO ndays FROM cxs_day;
    SELECT s0 INTO s_cx FROM cxs_day WHERE day = d_cx;
    SELECT s0 INTO s_cur FROM cxs_day WHERE day = make_date(cur_year, 1, 1);
    -- Buckets of 0.1 business day -> the day holding the bucket start (a day is longer than
    -- 0.1, so a bucket crosses at most one day boundary).
    CREATE TEMP TABLE cxs_bucket AS
    SELECT b AS bk, d.di, d.day, d.s0, d.w, d.s0 + d.w AS s_next, lead(d.w) OVER (ORDER BY d.di) AS w_next
    FROM cxs_day AS d, generate_series(ceil(d.s0 * 10)::integer, ceil((d.s0 + d.w) * 10)::integer - 1) AS b;
    CREATE UNIQUE INDEX ON cxs_bucket (bk);
    ANALYZE cxs_bucket;

    ---------------------------------------------------------------------------------------------
    -- Customers: acquisition time (growing 10 % a year), purchase rate, dropout probability,
    -- home channel, loyalty enrolment at their first, second or third purchase.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_cust AS
    WITH c AS (
        SELECT i,
               ln(1 + cxkpi.sample_uniform(seed, 1, i) * (exp(0.1 * ndays / 365.25) - 1)) / (0.1 / 365.25) AS tau0,
               cxkpi.sample_gamma(bg_r, seed, 10, i) / bg_alpha / 365.25 AS lam,
               cxkpi.sample_gamma(bg_a, seed, 20, i) AS ga, cxkpi.sample_gamma(bg_b, seed, 30, i) AS gb,
               cxkpi.sample_uniform(seed, 40, i) AS u_home, cxkpi.sample_uniform(seed, 41, i) AS u_member,
               cxkpi.sample_uniform(seed, 42, i) AS u_enrol
        FROM generate_series(1, n_cust) AS i)
    SELECT row_number() OVER (ORDER BY tau0, i) AS customer_id, i, tau0, lam, ga / (ga + gb) AS p,
           CASE WHEN u_home < 0.15 THEN 'store' WHEN u_home < 0.48 THEN 'web_desktop'
                WHEN u_home < 0.80 THEN 'web_mobile' ELSE 'app' END AS home,
           -- enrolment is likelier for frequent buyers, and was likelier in the programme's early years
           u_member < least(0.9, 0.42 * sqrt(lam * 365.25 * bg_alpha / bg_r) * exp(-0.35 * tau0 / 365.25)) AS member,
           CASE WHEN u_enrol < 0.35 THEN 0 WHEN u_enrol < 0.7 THEN 1 ELSE 2 END AS enrol_k
    FROM c;

    -- Purchases: the first at acquisition, then Poisson(lam) gaps in business time; after each
    -- purchase the customer drops out with probability p (times the multiplier of its year).
    CREATE TEMP TABLE cxs_ev AS
    WITH g AS (
        SELECT c.customer_id, k,
               c.tau0 + sum(CASE WHEN k = 0 THEN 0 ELSE -ln(cxkpi.sample_uniform(seed, 50, (c.i << 10) | k)) / c.lam END)
                            OVER (PARTITION BY c.customer_id ORDER BY k) AS tau,
               cxkpi.sample_uniform(seed, 51, (c.i << 10) | k) AS u_drop, c.p
        FROM cxs_cust AS c,
             generate_series(0, least(1000, ceil(c.lam * (ndays - c.tau0) * 1.5 + 6 * sqrt(c.lam * (ndays - c.tau0)) + 8))::integer) AS k),
    h AS (
        SELECT customer_id, k, tau,
               coalesce(bool_or(u_drop < p * CASE WHEN tau < s_cx THEN drop_old WHEN tau < s_cur THEN drop_prev ELSE drop_cur END)
                        OVER (PARTITION BY customer_id ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS dead
        FROM g)
    SELECT h.customer_id, h.k, h.tau,
           CASE WHEN h.tau >= b.s_next THEN b.day + 1 ELSE b.day END AS day,
           least(0.999999, CASE WHEN h.tau >= b.s_next THEN (h.tau - b.s_next) / b.w_next ELSE (h.tau - b.s0) / b.w END) AS frac
    FROM h JOIN cxs_bucket AS b ON b.bk = floor(h.tau * 10)::integer
    WHERE NOT h.dead AND h.tau < ndays;

    CREATE INDEX ON cxs_ev (customer_id, k);
    ANALYZE cxs_ev;

    ---------------------------------------------------------------------------------------------
    -- Customers and loyalty members.  Acquisition channel follows the home channel; members
    -- enrol on the day of their first, second or third purchase.
    ---------------------------------------------------------------------------------------------
    INSERT INTO cxkpi.customers (customer_id, acquired_on, acquisition_channel, acquisition_cost)
    SELECT c.customer_id, e.day, ch.channel,
           round((ch.cost * (0.5 + cxkpi.sample_uniform(seed, 61, c.i)))::numeric, 2)
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = 0
    CROSS JOIN LATERAL (
        SELECT x.channel, x.cost FROM (VALUES
            -- channel, cost, cumulative share for store / online home channels
            ('store', 4.0, 0.55, 0.00), ('direct', 0.0, 0.62, 0.14), ('organic_search', 0.0, 0.72, 0.36),
            ('paid_search', 38.0, 0.80, 0.56), ('social', 27.0, 0.87, 0.70), ('email', 6.0, 0.91, 0.78),
            ('referral', 15.0, 0.96, 0.86), ('affiliate', 22.0, 0.98, 0.91), ('display', 41.0, 0.99, 0.95),
            ('app', 12.0, 1.00, 1.00)) AS x(channel, cost, cum_store, cum_online)
        WHERE cxkpi.sample_uniform(seed, 60, c.i) < CASE WHEN c.home = 'store' THEN x.cum_store ELSE x.cum_online END
        ORDER BY CASE WHEN c.home = 'store' THEN x.cum_store ELSE x.cum_online END
        LIMIT 1) AS ch;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'customers'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();

    INSERT INTO cxkpi.loyalty_members (customer_id, enrolled_on, tier)
    SELECT c.customer_id, e.day,
           CASE WHEN n.orders >= 12 THEN 'gold' WHEN n.orders >= 5 THEN 'silver' ELSE 'standard' END
    FROM cxs_cust AS c
    JOIN cxs_ev AS e ON e.customer_id = c.customer_id AND e.k = c.enrol_k
    JOIN (SELECT customer_id, count(*) AS orders FROM cxs_ev GROUP BY 1) AS n ON n.customer_id = c.customer_id
    WHERE c.member;

    ---------------------------------------------------------------------------------------------
    -- Orders.  Channel: the home channel 70 % of the time.  Value: a segment base (seed 000's
    -- new 98 / returning 152 / loyalty 189) times a channel factor times log-normal noise,
    -- scaled per year so that the yearly AOV is seed 000's (see docs: the seed's segment
    -- figures and its total cannot all hold at once).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_ord AS
    WITH e AS (
        SELECT e.customer_id, e.k, e.day, e.frac, c.i,
               CASE WHEN cxkpi.sample_uniform(seed, 70, (c.i << 10) | e.k) < 0.7 THEN c.home
                    ELSE (ARRAY['store', 'web_desktop', 'web_mobile', 'app'])[
                         1 + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.15)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.48)::int
                           + (cxkpi.sample_uniform(seed, 71, (c.i << 10) | e.k) >= 0.80)::int] END AS channel,
               CASE WHEN m.enrolled_on <= e.day THEN 'loyalty' WHEN e.k = 0 THEN 'new' ELSE 'returning' END AS segment
        FROM cxs_ev AS e JOIN cxs_cust AS c USING (customer_id)
        LEFT JOIN cxkpi.loyalty_members AS m USING (customer_id)),
    f AS (
        SELECT e.*,
               CASE e.segment WHEN 'new' THEN 98.0 WHEN 'returning' THEN 152.0 ELSE 189.0 END
               * CASE e.channel WHEN 'store' THEN 1.0 WHEN 'web_desktop' THEN 1.12 WHEN 'web_mobile' THEN 0.88 ELSE 0.95 END AS base
        FROM e)
    SELECT f.*, extract(year FROM f.day)::integer AS year,
           (f.day + make_interval(secs => CASE WHEN f.channel = 'store' THEN 9 * 3600 + f.frac * 12 * 3600
                                               ELSE (6 + 17 * power(f.frac, 0.8)) * 3600 END))::timestamp AT TIME ZONE tz AS ordered_at,
           1 + least(14, floor(-ln(cxkpi.sample_uniform(seed, 72, (f.i << 10) | f.k)) * 1.4))::integer AS items,
           f.base * exp(0.6 * cxkpi.sample_normal(seed, 73, (f.i << 10) | f.k) - 0.18) AS raw_value,
           CASE WHEN cxkpi.sample_uniform(seed, 75, (f.i << 10) | f.k) < 0.3
                THEN 0.05 + 0.2 * cxkpi.sample_uniform(seed, 76, (f.i << 10) | f.k) ELSE 0 END AS discount_rate
    FROM f;

    INSERT INTO cxkpi.orders (order_id, customer_id, ordered_at, channel, items, gross_value, discount)
    SELECT row_number() OVER (ORDER BY o.ordered_at, o.customer_id, o.k), o.customer_id, o.ordered_at, o.channel, o.items,
           round((v.net / (1 - o.discount_rate))::numeric, 2),
           round((v.net / (1 - o.discount_rate))::numeric, 2) - round(v.net::numeric, 2)
    FROM cxs_ord AS o
    JOIN (SELECT year, aov_total[year - cur_year + 5] / avg(base) AS factor FROM cxs_ord GROUP BY year) AS y USING (year)
    CROSS JOIN LATERAL (SELECT greatest(3.0, o.raw_value * y.factor) AS net) AS v;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'orders'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();
    ANALYZE cxkpi.orders;
    DROP TABLE cxs_ord;

    -- Returns: online orders come back more often than store orders, first orders more often
    -- than repeat orders; single-item orders are returned whole, others often in part.
    CREATE TEMP TABLE cxs_ret AS
    SELECT o.order_id, o.items, o.gross_value - o.discount AS net, o.ordered_at,
           CASE WHEN o.items = 1 OR cxkpi.sample_uniform(seed, 81, o.order_id) < 0.35 THEN o.items
                ELSE 1 + floor(cxkpi.sample_uniform(seed, 82, o.order_id) * (o.items - 1))::integer END AS items_returned,
           o.ordered_at + make_interval(days => 1 + floor(-ln(cxkpi.sample_uniform(seed, 83, o.order_id)) * 11)::integer,
                                        secs => cxkpi.sample_uniform(seed, 84, o.order_id) * 43200) AS requested_at
    FROM (SELECT o.*, row_number() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at, o.order_id) = 1 AS first_order
          FROM cxkpi.orders AS o) AS o
    WHERE cxkpi.sample_uniform(seed, 80, o.order_id)
          < CASE o.channel WHEN 'store' THEN 0.07 WHEN 'web_desktop' THEN 0.17 WHEN 'web_mobile' THEN 0.15 ELSE 0.13 END
            * CASE WHEN o.first_order THEN 1.35 ELSE 0.9 END;
    DELETE FROM cxs_ret WHERE requested_at >= ts_end;
    INSERT INTO cxkpi.order_returns (return_id, order_id, requested_at, received_at, items_returned, value_returned,
                                     initiated_by, reason)
    SELECT row_number() OVER (ORDER BY r.requested_at, r.order_id), r.order_id, r.requested_at,
           nullif(least(r.requested_at + make_interval(days => 2 + floor(cxkpi.sample_uniform(seed, 85, r.order_id) * 8)::integer),
                        ts_end), ts_end),
           r.items_returned,
           CASE WHEN r.items_returned = r.items THEN r.net ELSE round(r.net * r.items_returned / r.items, 2) END,
           CASE WHEN cxkpi.sample_uniform(seed, 86, r.order_id) < 0.06 THEN 'merchant' ELSE 'customer' END,
           (ARRAY['wrong size', 'wrong size', 'not as described', 'changed mind', 'defective', 'arrived damaged',
                  'arrived late', 'better price elsewhere'])[1 + floor(cxkpi.sample_uniform(seed, 87, r.order_id) * 8)::integer]
    FROM cxs_ret AS r;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'order_returns'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();
    DROP TABLE cxs_ret;

    -- Loyalty activity: the last known activity is the last order after enrolment or a later
    -- programme activity (app visit, points); members are active at the end of the current
    -- year as seed 000's 75 % (those who did not order in the last 90 days get programme
    -- activity with the probability that makes up the difference).
    SELECT count(*) FILTER (WHERE o.last_order > d_end - 90)::double precision / nullif(count(*), 0)
      INTO loy_active
    FROM cxkpi.loyalty_members AS m
    LEFT JOIN (SELECT customer_id, max((ordered_at AT TIME ZONE tz)::date) AS last_order FROM cxkpi.orders GROUP BY 1) AS o
           USING (customer_id);
    UPDATE cxkpi.loyalty_members AS m
    SET last_active_on = greatest(o.last_order, o.activity)
    FROM (SELECT m2.customer_id, max((o2.ordered_at AT TIME ZONE tz)::date) AS last_order,
                 CASE WHEN cxkpi.sample_uniform(seed, 91, m2.customer_id) < (0.75 - loy_active) / (1 - loy_active)
                      THEN greatest(m2.enrolled_on, d_end - floor(cxkpi.sample_uniform(seed, 92, m2.customer_id) * 90)::integer)
                      WHEN cxkpi.sample_uniform(seed, 93, m2.customer_id) < 0.5 AND d_end - 91 > m2.enrolled_on
                      THEN m2.enrolled_on + floor(cxkpi.sample_uniform(seed, 94, m2.customer_id) * (d_end - 91 - m2.enrolled_on))::integer
                      END AS activity
          FROM cxkpi.loyalty_members AS m2 LEFT JOIN cxkpi.orders AS o2
               ON o2.customer_id = m2.customer_id AND (o2.ordered_at AT TIME ZONE tz)::date >= m2.enrolled_on
          GROUP BY m2.customer_id, m2.enrolled_on) AS o
    WHERE o.customer_id = m.customer_id;
    SELECT count(*) INTO n_rows FROM cxkpi.loyalty_members;
    table_name := 'loyalty_members'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();


    ---------------------------------------------------------------------------------------------
    -- Customers acquired by each day (to pick a known customer for sessions, surveys, tickets).
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_cum AS
    SELECT d.day, coalesce(max(c.last_id) OVER (ORDER BY d.day), 0) AS customers
    FROM cxs_day AS d
    LEFT JOIN (SELECT acquired_on, max(customer_id) AS last_id FROM cxkpi.customers GROUP BY 1) AS c ON c.acquired_on = d.day;
    -- (customer ids are numbered in acquisition order, so ids 1 .. customers were known on day)

    ---------------------------------------------------------------------------------------------
    -- Web and app sessions (visits tracked with analytics consent, 25 % of visits): one converted
    -- session per tracked online order, and non-converted sessions so that each device reaches
    -- seed 000's conversion rate; the app rate is what makes the total (stores included) 3.2 %.
    -- Cart funnel: abandoned carts so that abandonment is seed 000's 68 %.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_sess AS
    SELECT o.order_id AS key, 0 AS kind, o.customer_id,
           CASE o.channel WHEN 'web_desktop' THEN CASE WHEN cxkpi.sample_uniform(seed, 101, o.order_id) < 0.9 THEN 'desktop' ELSE 'tablet' END
                          WHEN 'web_mobile' THEN 'mobile' ELSE 'app' END AS device,
           o.ordered_at - make_interval(secs => 120 + cxkpi.sample_uniform(seed, 102, o.order_id) * 2400) AS started_at,
           true AS added_to_cart, true AS reached_checkout, true AS converted
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz AND o.channel <> 'store'
      AND cxkpi.sample_uniform(seed, 100, o.order_id) < consent;
    -- Sessions needed per device and year.
    CREATE TEMP TABLE cxs_need AS
    WITH conv AS (
        SELECT extract(year FROM started_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi, device, count(*) AS conv
        FROM cxs_sess GROUP BY 1, 2),
    store AS (
        SELECT extract(year FROM ordered_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi, count(*) AS conv
        FROM cxkpi.orders WHERE channel = 'store' AND ordered_at >= d_cx::timestamp AT TIME ZONE tz GROUP BY 1),
    fixed AS (
        SELECT c.yi, c.device, c.conv,
               c.conv / (CASE c.device WHEN 'desktop' THEN conv_desk[c.yi] WHEN 'mobile' THEN conv_mob[c.yi]
                                       WHEN 'tablet' THEN conv_tab[c.yi] END / 100) AS visits
        FROM conv AS c WHERE c.device <> 'app'),
    app AS (
        SELECT c.yi, 'app' AS device, c.conv,
               greatest(c.conv / 0.08,
                        (c.conv + s.conv + (SELECT sum(f.conv) FROM fixed AS f WHERE f.yi = c.yi)) / (conv_total[c.yi] / 100)
                        - s.conv / (conv_store[c.yi] / 100) - (SELECT sum(f.visits) FROM fixed AS f WHERE f.yi = c.yi)) AS visits
        FROM conv AS c JOIN store AS s USING (yi) WHERE c.device = 'app')
    SELECT yi, device, conv, round(visits)::bigint - conv AS nonconv,
           round(conv * abandon[yi] / (1 - abandon[yi]))::bigint AS abandoned
    FROM (SELECT * FROM fixed UNION ALL SELECT * FROM app) AS x;
    RAISE DEBUG 'generate_sample_data: converted sessions after %', clock_timestamp() - statement_timestamp();
    -- Non-converted sessions, spread over each year in business time.
    INSERT INTO cxs_sess
    SELECT b.key, 1, CASE WHEN cxkpi.sample_uniform(seed, 112, b.key) < 0.3
                          THEN 1 + floor(cxkpi.sample_uniform(seed, 113, b.key) * cu.customers)::bigint END,
           b.device, (b.day + make_interval(secs => (6 + 17 * power(b.frac, 0.8)) * 3600))::timestamp AT TIME ZONE tz,
           b.cart, b.cart AND cxkpi.sample_uniform(seed, 111, b.key) < 0.35, false
    FROM (SELECT k.key, k.device, k.cart,
                 CASE WHEN k.tau >= bb.s_next THEN bb.day + 1 ELSE bb.day END AS day,
                 least(0.999999, CASE WHEN k.tau >= bb.s_next THEN (k.tau - bb.s_next) / bb.w_next
                                      ELSE (k.tau - bb.s0) / bb.w END) AS frac
          FROM (SELECT k0.key, k0.device,
                       cxkpi.sample_uniform(seed, 110, k0.key) < k0.abandoned::double precision / k0.nonconv AS cart,
                       CASE k0.yi WHEN 1 THEN s_cx ELSE s_cur END
                       + (k0.j - cxkpi.sample_uniform(seed, 114, k0.key)) / k0.nonconv
                         * CASE k0.yi WHEN 1 THEN s_cur - s_cx ELSE ndays - s_cur END AS tau
                FROM (SELECT (n.yi::bigint << 40) | (array_position(ARRAY['desktop', 'mobile', 'tablet', 'app'], n.device)::bigint << 32) | j AS key,
                             n.device, n.nonconv, n.abandoned, n.yi, j
                      FROM cxs_need AS n, generate_series(1, n.nonconv) AS j) AS k0) AS k
          JOIN cxs_bucket AS bb ON bb.bk = floor(k.tau * 10)::integer) AS b
    JOIN cxs_cum AS cu ON cu.day = b.day;

    RAISE DEBUG 'generate_sample_data: sessions drawn after %', clock_timestamp() - statement_timestamp();
    INSERT INTO cxkpi.web_sessions (session_id, started_at, device, customer_id, added_to_cart, reached_checkout, converted)
    SELECT row_number() OVER (ORDER BY started_at, kind, key), started_at, device, customer_id, added_to_cart,
           reached_checkout, converted
    FROM cxs_sess;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'web_sessions'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();

    -- Carts: one per session that added to cart; abandoned carts are recovered (bought later,
    -- after a reminder) as seed 000's 12 % (10 % the year before).
    INSERT INTO cxkpi.carts (cart_id, created_at, device, customer_id, converted_at, abandoned_at, recovered_at)
    SELECT row_number() OVER (ORDER BY c.created_at, c.kind, c.key), c.created_at, c.device, c.customer_id,
           CASE WHEN c.converted THEN least(c.created_at + make_interval(secs => 180 + cxkpi.sample_uniform(seed, 121, c.key) * 1500),
                                            ts_end - interval '1 second') END,
           CASE WHEN NOT c.converted THEN least(c.abandoned_at, ts_end - interval '1 second') END,
           CASE WHEN NOT c.converted AND cxkpi.sample_uniform(seed, 122, c.key) < recover[c.yi]
                     AND c.abandoned_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 123, c.key)) * 86400) < ts_end
                THEN c.abandoned_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 123, c.key)) * 86400) END
    FROM (SELECT s.*, s.started_at + make_interval(secs => 30 + cxkpi.sample_uniform(seed, 120, s.key) * 900) AS created_at,
                 s.started_at + make_interval(secs => 1800 + cxkpi.sample_uniform(seed, 124, s.key) * 5400) AS abandoned_at,
                 extract(year FROM s.started_at AT TIME ZONE tz)::integer - cur_year + 2 AS yi
          FROM cxs_sess AS s WHERE s.added_to_cart) AS c;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'carts'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();
    DROP TABLE cxs_sess;

    -- Store footfall: visitors per store and day from the day's store orders and seed 000's
    -- in-store conversion (4.1 %, 3.6 % the year before), with day-to-day noise; stores differ
    -- in size.
    INSERT INTO cxkpi.store_traffic (store_id, visit_date, visitors)
    SELECT format('store-%s', lpad(st::text, 2, '0')), d.day,
           round(d.orders / (conv_store[extract(year FROM d.day)::integer - cur_year + 2] / 100)
                 * exp(0.12 * cxkpi.sample_normal(seed, 130, (d.day - d_hist)::bigint) - 0.0072)
                 * w.weight / sum(w.weight) OVER (PARTITION BY d.day))::bigint
    FROM (SELECT dd.day, count(o.order_id) AS orders
          FROM cxs_day AS dd LEFT JOIN cxkpi.orders AS o
               ON o.channel = 'store' AND (o.ordered_at AT TIME ZONE tz)::date = dd.day
          WHERE dd.day >= d_cx GROUP BY dd.day) AS d
    CROSS JOIN (SELECT st, 0.5 + cxkpi.sample_uniform(seed, 131, st) AS weight
                FROM generate_series(1, greatest(3, round(12 * sqrt(scale)))::integer) AS st) AS w;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'store_traffic'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();

    ---------------------------------------------------------------------------------------------
    -- Support tickets: about 10 % of orders lead to one (20 % if returned), plus tickets from
    -- people who are not (yet) customers.  First response times are log-normal with seed 000's
    -- channel means (email 1.8 h, chat 0.3 h, phone 4.2 h; 2.1 / 0.5 / 4.9 the year before, a
    -- linear trend in between); the channel mix gives the 2.3 h (2.7 h) overall mean.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_tk AS
    SELECT t.*, extract(epoch FROM t.created_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) AS t_years
    FROM (SELECT o.order_id AS key, o.customer_id,
                 o.ordered_at + make_interval(secs => 3600 - ln(cxkpi.sample_uniform(seed, 141, o.order_id)) * 4 * 86400) AS created_at
          FROM cxkpi.orders AS o
          WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz
            AND cxkpi.sample_uniform(seed, 140, o.order_id)
                < CASE WHEN EXISTS (SELECT 1 FROM cxkpi.order_returns AS r WHERE r.order_id = o.order_id) THEN 0.2 ELSE 0.1 END
          UNION ALL
          SELECT (1::bigint << 40) | j, NULL,
                 (d_cx + floor(cxkpi.sample_uniform(seed, 142, (1::bigint << 40) | j) * (d_end - d_cx + 1))::integer)::timestamp AT TIME ZONE tz
                 + make_interval(secs => 7 * 3600 + cxkpi.sample_uniform(seed, 143, (1::bigint << 40) | j) * 14 * 3600)
          FROM generate_series(1, round(900 * scale)::integer) AS j) AS t
    WHERE t.created_at < ts_end;
    INSERT INTO cxkpi.support_tickets (ticket_id, customer_id, channel, created_at, first_response_at, resolved_at,
                                       contacts_to_resolve, reopened)
    SELECT row_number() OVER (ORDER BY x.created_at, x.key), x.customer_id, x.channel, x.created_at,
           CASE WHEN x.responded THEN x.created_at + make_interval(secs => x.response_h * 3600) END,
           CASE WHEN x.resolved THEN x.created_at + make_interval(secs => (x.response_h + x.resolve_h) * 3600) END,
           CASE WHEN x.resolved THEN CASE WHEN cxkpi.sample_uniform(seed, 150, x.key) < cxkpi.sample_trend(fcr[1], fcr[2], x.t_years) / 0.96
                                          THEN 1 ELSE 2 + floor(cxkpi.sample_uniform(seed, 151, x.key) * 3)::integer END END,
           x.resolved AND cxkpi.sample_uniform(seed, 152, x.key) < 0.04
    FROM (SELECT y.*, y.responded AND cxkpi.sample_uniform(seed, 147, y.key) < cxkpi.sample_trend(resolve[1], resolve[2], y.t_years) / 0.98
                      AND y.created_at + make_interval(secs => (y.response_h + y.resolve_h) * 3600) < ts_end AS resolved
          FROM (SELECT t.*, ch.channel,
                       cxkpi.sample_uniform(seed, 145, t.key) < 0.98
                       AND t.created_at + make_interval(secs => ch.mean_h * exp(0.8 * cxkpi.sample_normal(seed, 146, t.key) - 0.32) * 3600) < ts_end
                           AS responded,
                       ch.mean_h * exp(0.8 * cxkpi.sample_normal(seed, 146, t.key) - 0.32) AS response_h,
                       1 - ln(cxkpi.sample_uniform(seed, 148, t.key)) * 16 AS resolve_h
                FROM cxs_tk AS t
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN u < chat THEN 'chat' WHEN u < chat + email THEN 'email' ELSE 'phone' END AS channel,
                           CASE WHEN u < chat THEN cxkpi.sample_trend(0.5, 0.3, t.t_years)
                                WHEN u < chat + email THEN cxkpi.sample_trend(2.1, 1.8, t.t_years)
                                ELSE cxkpi.sample_trend(4.9, 4.2, t.t_years) END AS mean_h
                    FROM (SELECT cxkpi.sample_uniform(seed, 144, t.key) AS u,
                                 cxkpi.sample_trend(0.18, 0.22, t.t_years) AS chat,
                                 cxkpi.sample_trend(0.503, 0.434, t.t_years) AS email) AS m) AS ch) AS y) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'support_tickets'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();
    DROP TABLE cxs_tk;

    ---------------------------------------------------------------------------------------------
    -- Surveys.  NPS: a monthly relationship survey of known customers (seed 000: 42, 37 the
    -- year before, linear trend).  CSAT (1-5) after interactions: orders by channel (store 4.4,
    -- web 4.1, app 3.9; 0.3 lower the year before), support tickets, returns and deliveries.
    -- CES (1-7) after tickets and returns.  Some answers carry a comment.
    ---------------------------------------------------------------------------------------------
    CREATE TEMP TABLE cxs_srv (key bigint, survey text, channel text, responded_at timestamptz, customer_id bigint,
                               order_id bigint, mean double precision);
    -- NPS: mean is unused; promoter and detractor shares come from the trend below.
    INSERT INTO cxs_srv
    SELECT (2::bigint << 40) | (m.mi << 20) | j, 'nps',
           CASE WHEN cxkpi.sample_uniform(seed, 160, (2::bigint << 40) | (m.mi << 20) | j) < 0.6 THEN 'email'
                WHEN cxkpi.sample_uniform(seed, 160, (2::bigint << 40) | (m.mi << 20) | j) < 0.85 THEN 'app' ELSE 'web' END,
           (m.d0 + floor(cxkpi.sample_uniform(seed, 161, (2::bigint << 40) | (m.mi << 20) | j) * m.ndays)::integer)::timestamp
               AT TIME ZONE tz + make_interval(secs => 7 * 3600 + cxkpi.sample_uniform(seed, 162, (2::bigint << 40) | (m.mi << 20) | j) * 15 * 3600),
           NULL, NULL, NULL
    FROM (SELECT mi, (d_cx + make_interval(months => mi::integer))::date AS d0,
                 (d_cx + make_interval(months => mi::integer + 1))::date - (d_cx + make_interval(months => mi::integer))::date AS ndays
          FROM generate_series(0::bigint, 23) AS mi) AS m,
         generate_series(1::bigint, round(800 * scale)::bigint) AS j;
    UPDATE cxs_srv AS s SET customer_id = 1 + floor(cxkpi.sample_uniform(seed, 163, s.key) * cu.customers)::bigint
    FROM cxs_cum AS cu WHERE cu.day = (s.responded_at AT TIME ZONE tz)::date AND cu.customers > 0;
    -- CSAT after orders: sampled so that store, web and app answers are 45 %, 40 % and 15 %.
    SELECT 0.10 * count(*) INTO k_csat FROM cxkpi.orders WHERE ordered_at >= d_cx::timestamp AT TIME ZONE tz;
    INSERT INTO cxs_srv
    SELECT o.order_id, 'csat', c.channel,
           o.ordered_at + make_interval(secs => CASE WHEN o.channel = 'store' THEN 600 + cxkpi.sample_uniform(seed, 171, o.order_id) * 36000
                                                     ELSE 86400 + cxkpi.sample_uniform(seed, 171, o.order_id) * 5 * 86400 END),
           o.customer_id, o.order_id, c.prior + 0.3 * c.t_years
    FROM cxkpi.orders AS o
    CROSS JOIN LATERAL (
        SELECT CASE o.channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END AS channel,
               CASE o.channel WHEN 'store' THEN 4.1 WHEN 'app' THEN 3.6 ELSE 3.8 END AS prior,
               CASE o.channel WHEN 'store' THEN 0.45 WHEN 'app' THEN 0.15 ELSE 0.40 END AS share,
               extract(epoch FROM o.ordered_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 0.5 AS t_years) AS c
    JOIN (SELECT CASE channel WHEN 'store' THEN 'store' WHEN 'app' THEN 'app' ELSE 'web' END AS channel, count(*) AS n
          FROM cxkpi.orders WHERE ordered_at >= d_cx::timestamp AT TIME ZONE tz GROUP BY 1) AS n ON n.channel = c.channel
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz
      AND cxkpi.sample_uniform(seed, 170, o.order_id) < c.share * k_csat / n.n;
    -- Deliveries of online orders (CSAT 4.3, 4.0 the year before).
    INSERT INTO cxs_srv
    SELECT (3::bigint << 40) | o.order_id, 'csat', 'delivery',
           o.ordered_at + make_interval(secs => 2 * 86400 + cxkpi.sample_uniform(seed, 176, o.order_id) * 4 * 86400),
           o.customer_id, o.order_id,
           cxkpi.sample_trend(4.0, 4.3, extract(epoch FROM o.ordered_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400))
    FROM cxkpi.orders AS o
    WHERE o.ordered_at >= d_cx::timestamp AT TIME ZONE tz AND o.channel <> 'store'
      AND cxkpi.sample_uniform(seed, 175, o.order_id) < 0.02;
    -- Resolved tickets: CSAT (email 4.2, chat 4.4, phone 4.0; 0.3 lower the year before) and CES.
    INSERT INTO cxs_srv
    SELECT (4::bigint << 40) | (v.n << 32) | t.ticket_id, v.survey, t.channel,
           t.resolved_at + make_interval(secs => 600 + cxkpi.sample_uniform(seed, 181, t.ticket_id) * 86400),
           t.customer_id, NULL,
           CASE v.survey WHEN 'csat' THEN CASE t.channel WHEN 'email' THEN 4.2 WHEN 'chat' THEN 4.4 ELSE 4.0 END
                         ELSE CASE t.channel WHEN 'email' THEN 5.2 WHEN 'chat' THEN 5.6 ELSE 4.9 END END
           + 0.3 * (extract(epoch FROM t.created_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 1.5)
    FROM cxkpi.support_tickets AS t, (VALUES (0::bigint, 'csat', 0.25), (1::bigint, 'ces', 0.30)) AS v(n, survey, rate)
    WHERE t.resolved_at IS NOT NULL AND cxkpi.sample_uniform(seed, 180 + v.n::integer * 10, t.ticket_id) < v.rate;
    -- Received returns: CSAT of the returns experience (4.1, 3.8 the year before) and CES (5.5, 5.2).
    INSERT INTO cxs_srv
    SELECT (5::bigint << 40) | (v.n << 32) | r.return_id, v.survey, 'returns',
           r.received_at + make_interval(secs => 3600 + cxkpi.sample_uniform(seed, 201, r.return_id) * 2 * 86400),
           o.customer_id, r.order_id,
           CASE v.survey WHEN 'csat' THEN 4.1 ELSE 5.5 END
           + 0.3 * (extract(epoch FROM r.requested_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) - 1.5)
    FROM cxkpi.order_returns AS r JOIN cxkpi.orders AS o USING (order_id),
         (VALUES (0::bigint, 'csat', 0.15), (1::bigint, 'ces', 0.20)) AS v(n, survey, rate)
    WHERE r.received_at IS NOT NULL AND r.requested_at >= d_cx::timestamp AT TIME ZONE tz
      AND cxkpi.sample_uniform(seed, 200 + v.n::integer * 10, r.return_id) < v.rate;
    DELETE FROM cxs_srv WHERE responded_at >= ts_end;

    INSERT INTO cxkpi.survey_responses (response_id, responded_at, survey, score, scale, channel, customer_id, order_id, comment)
    SELECT row_number() OVER (ORDER BY x.responded_at, x.survey, x.key), x.responded_at, x.survey, x.score,
           CASE x.survey WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 ELSE 7 END, x.channel, x.customer_id, x.order_id,
           CASE WHEN x.survey <> 'ces' AND cxkpi.sample_uniform(seed, 222, x.key) < 0.18 THEN
                CASE WHEN (x.survey = 'nps' AND x.score >= 9) OR (x.survey = 'csat' AND x.score >= 4)
                     THEN (ARRAY['Great service, will come back.', 'Fast delivery and easy checkout.', 'Staff were really helpful.',
                                 'Love the loyalty rewards.', 'Good prices and quality.', 'Exactly what I ordered.'])[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 6)::integer]
                     WHEN (x.survey = 'nps' AND x.score <= 6) OR (x.survey = 'csat' AND x.score <= 2)
                     THEN (ARRAY['Delivery was late.', 'The app keeps crashing at checkout.', 'Long wait on the phone.',
                                 'Item did not match the description.', 'Returns took too long to refund.', 'Nobody answered my email.'])[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 6)::integer]
                     ELSE (ARRAY['OK overall.', 'Fine, nothing special.', 'Could be faster.', 'Prices went up.'])[1 + floor(cxkpi.sample_uniform(seed, 223, x.key) * 4)::integer] END END
    FROM (SELECT s.*,
                 CASE s.survey
                 WHEN 'nps' THEN (SELECT CASE WHEN u < det THEN (ARRAY[0, 1, 2, 3, 4, 5, 6])[1 + (u2 >= 0.04)::int + (u2 >= 0.07)::int + (u2 >= 0.12)::int
                                                                                   + (u2 >= 0.20)::int + (u2 >= 0.32)::int + (u2 >= 0.57)::int]
                                              WHEN u < 1 - pro THEN 7 + (u2 >= 0.45)::int
                                              ELSE 9 + (u2 >= 0.45)::int END
                                  FROM (SELECT cxkpi.sample_uniform(seed, 220, s.key) AS u, cxkpi.sample_uniform(seed, 221, s.key) AS u2,
                                               cxkpi.sample_trend(0.15, 0.13, t) AS det, cxkpi.sample_trend(0.52, 0.55, t) AS pro
                                        FROM (SELECT extract(epoch FROM s.responded_at - (d_cx::timestamp AT TIME ZONE tz)) / (365.25 * 86400) AS t) AS tt) AS q)
                 WHEN 'csat' THEN cxkpi.sample_score(least(4.7, s.mean), cxkpi.sample_uniform(seed, 220, s.key), cxkpi.sample_uniform(seed, 221, s.key),
                                                     ARRAY[0, 0, 0.03, 0.25, 1], ARRAY[0.25, 0.55, 0.85, 1, 1], 1)
                 ELSE cxkpi.sample_score(least(6.15, s.mean), cxkpi.sample_uniform(seed, 220, s.key), cxkpi.sample_uniform(seed, 221, s.key),
                                         ARRAY[0, 0, 0, 0.05, 0.20, 0.55, 1], ARRAY[0.15, 0.40, 0.65, 0.85, 0.95, 1, 1], 1) END AS score
          FROM cxs_srv AS s) AS x;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'survey_responses'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();
    DROP TABLE cxs_srv;

    -- App store ratings (seed 000: 4.1, 3.9 the year before).
    INSERT INTO cxkpi.app_ratings (rating_id, rated_at, app_store, rating, app_version, comment)
    SELECT row_number() OVER (ORDER BY a.rated_at, a.j), a.rated_at,
           CASE WHEN cxkpi.sample_uniform(seed, 231, a.j) < 0.48 THEN 'app_store'
                WHEN cxkpi.sample_uniform(seed, 231, a.j) < 0.98 THEN 'google_play' ELSE 'other' END,
           a.rating, format('%s.%s', 5 + (a.day - d_cx) / 365, ((a.day - d_cx) % 365) / 30), 
           CASE WHEN cxkpi.sample_uniform(seed, 234, a.j) < 0.25 THEN
                CASE WHEN a.rating >= 4 THEN (ARRAY['Easy to use.', 'Love the new design.', 'Quick checkout.', 'Handy order tracking.'])[1 + floor(cxkpi.sample_uniform(seed, 235, a.j) * 4)::integer]
                     ELSE (ARRAY['Crashes on login.', 'Too slow.', 'Checkout keeps failing.', 'Too many notifications.'])[1 + floor(cxkpi.sample_uniform(seed, 235, a.j) * 4)::integer] END END
    FROM (SELECT j, d.day,
                 (d.day::timestamp AT TIME ZONE tz) + make_interval(secs => cxkpi.sample_uniform(seed, 232, j) * 86400) AS rated_at,
                 cxkpi.sample_score(cxkpi.sample_trend(3.9, 4.1, (d.day - d_cx) / 365.25), cxkpi.sample_uniform(seed, 233, j),
                                    cxkpi.sample_uniform(seed, 236, j), ARRAY[0, 0, 0.05, 0.30, 1], ARRAY[0.55, 0.80, 0.95, 1, 1], 1) AS rating
          FROM generate_series(1::bigint, round(6000 * scale)::bigint) AS j
          JOIN cxs_day AS d ON d.day = d_cx + floor(cxkpi.sample_uniform(seed, 230, j) * (d_end - d_cx + 1))::integer) AS a;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'app_ratings'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();

    -- Secondary metrics measured elsewhere (seed 000; the year before: plausible values with
    -- the improvements the seed mentions): daily load time, uptime and app active users, monthly mobile score,
    -- mystery shopper and protocol adherence, quarterly training hours and certification.
    -- App active users (seed 000: 850K for 2.4M loyalty members), scaled like the members; +20 %
    -- on the year before (an assumption).
    SELECT count(*) * 850.0 / 2400 INTO app_users FROM cxkpi.loyalty_members;
    INSERT INTO cxkpi.metric_observations (kpi, observed_at, dimension, value, weight)
    SELECT m.kpi, (d.day::timestamp + interval '12 hours') AT TIME ZONE tz, '',
           least(m.hi, greatest(m.lo, round((cxkpi.sample_trend(m.prior, m.current, (d.day - d_cx) / 365.25)
                                             + m.noise * cxkpi.sample_normal(seed, 240 + m.n, (d.day - d_hist)::bigint))::numeric, m.digits)::double precision)),
           m.weight
    FROM (VALUES (0, 'website_load_time_seconds', 2.4, 2.1, 0.15, 0.5, 10.0, 2, 'day', 1.0),
                 (1, 'uptime_pct', 99.8, 99.9, 0.08, 98.0, 100.0, 3, 'day', 1440.0),
                 (2, 'mobile_optimization_score', 88, 92, 1.0, 0.0, 100.0, 0, 'month', 1.0),
                 (3, 'staff_training_hours', 36, 42, 1.5, 0.0, 200.0, 1, 'quarter', 1.0),
                 (4, 'certification_share_pct', 91, 95, 0.8, 0.0, 100.0, 1, 'quarter', 1.0),
                 (5, 'mystery_shopper_score_pct', 85, 88, 2.0, 0.0, 100.0, 1, 'month', 1.0),
                 (6, 'protocol_adherence_pct', 90, 92, 1.2, 0.0, 100.0, 1, 'month', 1.0),
                 (7, 'app_active_users', app_users / 1.2, app_users, 0.03 * app_users, 0.0, 1e12, 0, 'day', 1.0))
         AS m(n, kpi, prior, current, noise, lo, hi, digits, every, weight)
    JOIN cxs_day AS d ON d.day >= d_cx AND d.day = date_trunc(m.every, d.day::timestamp)::date;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    table_name := 'metric_observations'; row_count := n_rows; RETURN NEXT;
    RAISE DEBUG 'generate_sample_data: % done after %', table_name, clock_timestamp() - statement_timestamp();

    -- The loyalty target scaled like the member count: seed 000 aims at 3.0M members for 2.4M.
    UPDATE cxkpi.kpi_targets
    SET target = (SELECT round(count(*) * 3.0 / 2.4) FROM cxkpi.loyalty_members WHERE enrolled_on <= d_end)
    WHERE kpi = 'loyalty_members' AND dimension = '' AND target IS NOT NULL;

    -- The scorecard shows the current year against the year before.
    UPDATE cxkpi.settings SET value = (d_end + 1)::text WHERE key = 'as_of';
    UPDATE cxkpi.settings SET value = 'year' WHERE key = 'scorecard_grain';
    -- Alerts at the same grain: seed 000's thresholds are for yearly figures (retention 65 %).
    UPDATE cxkpi.settings SET value = 'year' WHERE key = 'alert_grain';

    DROP TABLE cxs_day, cxs_bucket, cxs_cust, cxs_ev, cxs_cum, cxs_need;
END $$;
