-- Helpers shared by the pgTAP suites, created once in the test database by test/prove.sh.
CREATE SCHEMA tap;

-- Writes a binary COPY file holding one row with one field, `payload`, and returns its path:
-- the way to feed crafted (valid or corrupted) binary values to a type's receive function.
CREATE FUNCTION tap.binary_copy_file(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    path text := '/tmp/cxkpi_tap_' || pg_backend_pid() || '_crafted.bin';
    lo oid;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea          -- signature
                           || '\x0000000000000000'::bytea              -- flags, extension
                           || '\x0001'::bytea || int4send(length(payload)) || payload
                           || '\xffff'::bytea);                        -- trailer
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
    RETURN path;
END $$;

-- The EXPLAIN (COSTS OFF) text of a query, to check the shape of a plan (partial aggregation).
CREATE FUNCTION tap.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
    acc text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        acc := acc || r || E'\n';
    END LOOP;
    RETURN acc;
END $$;

-- The CLV simulation generator (clv_sim.customers), shared with the CLV benchmark.
\ir sim/clv_sim.sql
