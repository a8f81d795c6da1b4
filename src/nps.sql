
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
