
-- ======================================================================================
-- Exact percentiles over arrays of values (src/quantiles.c; docs/dashboard.md#exact-percentiles):
-- the dashboard's medians and p90s of durations kept as one array of exact values per day.
-- ======================================================================================

CREATE FUNCTION exact_percentiles_trans(internal, double precision[], double precision[]) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION exact_percentiles_final(internal, double precision[], double precision[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE exact_percentiles("values" double precision[], fractions double precision[]) (
    SFUNC = exact_percentiles_trans, STYPE = internal,
    COMBINEFUNC = exact_percentiles_combine,
    SERIALFUNC = exact_percentiles_serialize, DESERIALFUNC = exact_percentiles_deserialize,
    FINALFUNC = exact_percentiles_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE exact_percentiles(double precision[], double precision[]) IS
    'Exact percentiles (percentile_cont''s definition, bit for bit) of every element of every array of the group, one per fraction: exact_percentiles(response_hours, ''{0.5,0.9}''). NULL elements are skipped; NULL when the group has no value.';
COMMENT ON FUNCTION exact_percentiles_trans(internal, double precision[], double precision[]) IS 'Internal: transition function of exact_percentiles.';
COMMENT ON FUNCTION exact_percentiles_combine(internal, internal) IS 'Internal: combine function of exact_percentiles (parallel query).';
COMMENT ON FUNCTION exact_percentiles_serialize(internal) IS 'Internal: serialisation of a partial exact_percentiles state.';
COMMENT ON FUNCTION exact_percentiles_deserialize(bytea, internal) IS 'Internal: deserialisation of a partial exact_percentiles state.';
COMMENT ON FUNCTION exact_percentiles_final(internal, double precision[], double precision[]) IS 'Internal: final function of exact_percentiles.';
