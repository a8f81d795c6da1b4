-- The fuzz driver of test/shell/fuzz.sh: mutated text and binary values of every cxkpi type,
-- fed to its input functions, and every accepted value to every function that takes the type.
-- Deterministic: each type's run starts with setseed().  Run by psql in a scratch database
-- (superuser: binary values go through server-side COPY files); the results are in
-- fuzz.results, one row per TAP line.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS fuzz CASCADE;
CREATE SCHEMA fuzz;

-- Every check that went wrong, with the input that made it go wrong.
CREATE TABLE fuzz.failures (typ text, phase text, input text, detail text);
-- Per type and phase: values tried, accepted and refused.
CREATE TABLE fuzz.counts (typ text, phase text, tried integer, accepted integer, refused integer);
-- The values that the input functions accepted (text form), for the binary and call phases.
CREATE TABLE fuzz.accepted (typ text, value text);

-- ---------------------------------------------------------------- random choices

CREATE FUNCTION fuzz.rint(n integer) RETURNS integer LANGUAGE sql AS
$$ SELECT floor(random() * n)::integer $$;                          -- 0 .. n - 1
CREATE FUNCTION fuzz.pick(a text[]) RETURNS text LANGUAGE sql AS
$$ SELECT a[1 + floor(random() * array_length(a, 1))::integer] $$;

-- Characters and numbers that the scanners must refuse or read exactly.
CREATE FUNCTION fuzz.chars() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['0', '1', '7', '9', '-', '+', '.', ',', '=', '{', '}', '(', ')', ';', ':', 'e', 'E',
             'N', 'a', 'n', 'I', 'x', 'X', ' ', E'\t', E'\n', 'v', '/', 'A', 'Z', 'q', 'é', '\', '"',
             '''', '_', '%', '*'] $$;
CREATE FUNCTION fuzz.numbers() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['0', '-0', '007', '00', '-1', '1', '2', '3', '10', '9223372036854775807',
             '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '2147483647',
             '2147483648', '4294967296', '1e308', '1e309', '5e-324', '2e-324', '-5e-324', 'NaN',
             '-NaN', 'nan', 'nan(123)', 'Infinity', '-Infinity', 'inf', '0x10', '1.', '.5', '1e',
             '00.5', '0.5000', '+1', '1_000', '-0.0', '1.000000000000000000001', repeat('9', 40),
             '1' || repeat('0', 400), repeat('0', 2000) || '1', '0.' || repeat('0', 330) || '1',
             '1.7976931348623157e308', '4.9406564584124654e-324', '12.345678901234567890', '10.50',
             '10.5', '0.00', '0.0', '5.000'] $$;
CREATE FUNCTION fuzz.dates() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['2024-01-01', '2024-02-01', '1999-12-27', '2024-01-03', '0000-01-01', '-0001-01-01',
             '-0000-01-01', '-4713-11-24', '-4713-01-01', '-4714-01-01', '5874897-12-01',
             '5874897-12-31', '5874898-01-01', '02024-01-01', '2024-02-30', '2024-13-01',
             '2024-00-01', '10000-01-01', '2023-01-02', '2000-01-03', '1-01-01'] $$;

-- Numbers (and dates) in s, as [start, end) positions.
CREATE FUNCTION fuzz.replace_token(s text, pattern text, choices text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n integer := regexp_count(s, pattern);
    k integer;
    b integer;
    e integer;
BEGIN
    IF n = 0 THEN
        RETURN s;
    END IF;
    k := 1 + fuzz.rint(n);
    b := regexp_instr(s, pattern, 1, k);
    e := regexp_instr(s, pattern, 1, k, 1);
    RETURN overlay(s placing fuzz.pick(choices) from b for e - b);
END $$;

-- 1 to 3 mutations of a text value.
CREATE FUNCTION fuzz.mutate_text(s text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text := s;
    p integer;
    f text[];
    i integer;
    j integer;
    tmp text;
BEGIN
    FOR step IN 1 .. 1 + fuzz.rint(3) LOOP
        p := 1 + fuzz.rint(greatest(length(r), 1));
        CASE fuzz.rint(10)
            WHEN 0 THEN r := overlay(r placing fuzz.pick(fuzz.chars()) from p for 1);
            WHEN 1 THEN r := overlay(r placing '' from p for 1 + fuzz.rint(4));
            WHEN 2 THEN r := overlay(r placing fuzz.pick(fuzz.chars()) from p for 0);
            WHEN 3 THEN r := overlay(r placing substr(r, p, 1 + fuzz.rint(16)) from p for 0);
            WHEN 4, 5, 6 THEN r := fuzz.replace_token(r, '-?[0-9][0-9.eE+]*|NaN|Infinity', fuzz.numbers());
            WHEN 7 THEN r := fuzz.replace_token(r, '-?[0-9]{4,7}-[0-9]{2}-[0-9]{2}', fuzz.dates());
            WHEN 8 THEN r := left(r, p - 1);
            ELSE
                -- swap two comma-separated fields
                f := string_to_array(r, ',');
                IF array_length(f, 1) > 1 THEN
                    i := 1 + fuzz.rint(array_length(f, 1));
                    j := 1 + fuzz.rint(array_length(f, 1));
                    tmp := f[i]; f[i] := f[j]; f[j] := tmp;
                    r := array_to_string(f, ',');
                END IF;
        END CASE;
    END LOOP;
    RETURN r;
END $$;

-- 1 to 3 mutations of a binary value: bits, bytes, spans, and lengths and numbers in place.
CREATE FUNCTION fuzz.mutate_bytes(b bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    r bytea := b;
    n integer;
    p integer;
    bitpos bigint;
    ints bigint[] := ARRAY[0, 1, -1, 2, 7, 8, 16, 255, 256, 4096, 4097, 65535, 65536, 2147483647,
                           -2147483648, 4294967295];
    doubles bytea[] := ARRAY['\x7ff8000000000000', '\xfff8000000000000', '\x7ff8000000000001',
                             '\x8000000000000000', '\x7ff0000000000000', '\xfff0000000000000',
                             '\x0000000000000001', '\x7fefffffffffffff', '\x3ff0000000000000']::bytea[];
BEGIN
    FOR step IN 1 .. 1 + fuzz.rint(3) LOOP
        n := length(r);
        p := fuzz.rint(greatest(n, 1));         -- zero-based
        CASE fuzz.rint(10)
            WHEN 0 THEN
                IF n > 0 THEN
                    bitpos := 8::bigint * p + fuzz.rint(8);
                    r := set_bit(r, bitpos, 1 - get_bit(r, bitpos));
                END IF;
            WHEN 1 THEN IF n > 0 THEN r := set_byte(r, p, (ARRAY[0, 1, 127, 128, 255, fuzz.rint(256)])[1 + fuzz.rint(6)]); END IF;
            WHEN 2 THEN r := overlay(r placing ''::bytea from p + 1 for 1 + fuzz.rint(8));
            WHEN 3 THEN r := overlay(r placing substr(r, p + 1, 1 + fuzz.rint(24)) from p + 1 for 0);
            WHEN 4 THEN r := overlay(r placing decode(lpad(to_hex(fuzz.rint(256)), 2, '0'), 'hex') from p + 1 for 0);
            WHEN 5 THEN r := substr(r, 1, p);
            WHEN 6 THEN r := overlay(r placing int4send(ints[1 + fuzz.rint(array_length(ints, 1))]::bigint::bit(32)::integer)
                                     from p + 1 for 4);
            WHEN 7 THEN r := overlay(r placing int8send(ints[1 + fuzz.rint(array_length(ints, 1))] + n * fuzz.rint(2))
                                     from p + 1 for 8);
            WHEN 8 THEN r := overlay(r placing doubles[1 + fuzz.rint(array_length(doubles, 1))] from p + 1 for 8);
            ELSE r := r || decode(md5(random()::text), 'hex');
        END CASE;
    END LOOP;
    RETURN r;
END $$;

-- A retention_summary text with one period's set replaced by a byte-mutated one (base64 kept
-- canonical, so that the set validator, not the base64 reader, sees the damage).
CREATE FUNCTION fuzz.mutate_retention_text(s text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    pattern text := '[A-Za-z0-9+/]+=*(?=[;}])';
    n integer := regexp_count(s, pattern);
    k integer;
    b integer;
    e integer;
    set bytea;
BEGIN
    IF n = 0 OR fuzz.rint(2) = 0 THEN
        RETURN fuzz.mutate_text(s);
    END IF;
    k := 1 + fuzz.rint(n);
    b := regexp_instr(s, pattern, 1, k);
    e := regexp_instr(s, pattern, 1, k, 1);
    set := fuzz.mutate_bytes(decode(substr(s, b, e - b), 'base64'));
    RETURN overlay(s placing replace(encode(set, 'base64'), E'\n', '') from b for e - b);
END $$;

-- ---------------------------------------------------------------- binary input through COPY

-- Reads one binary value of type typ through COPY (FORMAT binary) into fuzz.bin_<typ>.
CREATE FUNCTION fuzz.recv(typ regtype, payload bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    path text := '/tmp/cxkpi_fuzz_' || pg_backend_pid() || '.bin';
    lo oid;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                           || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
    EXECUTE format('DELETE FROM fuzz.%I', 'bin_' || typ::text);
    EXECUTE format('COPY fuzz.%I FROM %L (FORMAT binary)', 'bin_' || typ::text, path);
END $$;

-- ---------------------------------------------------------------- the phases

-- Checks on a value that an input function accepted from m and printed as t: it equals the
-- value read back from t, with the same hash; t reads back to t; and its binary form reads
-- back to a value that prints t and sends the same bytes.  Returns what failed, or NULL.
CREATE FUNCTION fuzz.check_value(typ regtype, m text, t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ok_text boolean;
    ok_eq boolean;
    ok_hash boolean;
    b1 bytea;
    b2 bytea;
    t2 text;
BEGIN
    EXECUTE format('SELECT (%2$L::%3$s)::text = %2$L, %1$L::%3$s = %2$L::%3$s, '
                   '%4$s(%1$L::%3$s) = %4$s(%2$L::%3$s), %5$s(%2$L::%3$s)',
                   m, t, typ, typ::text || '_hash', typ::text || '_send')
        INTO ok_text, ok_eq, ok_hash, b1;
    IF NOT ok_text THEN RETURN 'the text output does not read back to the same text'; END IF;
    IF NOT ok_eq THEN RETURN 'the value differs from the value read back from its text'; END IF;
    IF NOT ok_hash THEN RETURN 'equal values hash differently'; END IF;
    PERFORM fuzz.recv(typ, b1);
    EXECUTE format('SELECT %s(v), v::text FROM fuzz.%I', typ::text || '_send', 'bin_' || typ::text) INTO b2, t2;
    IF b2 IS DISTINCT FROM b1 THEN RETURN 'send(recv(send(v))) differs from send(v)'; END IF;
    IF t2 IS DISTINCT FROM t THEN RETURN 'the text of recv(send(v)) differs from the text of v'; END IF;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END $$;

-- Text input: n mutants of the seeds.  Refusals must be 22P02; accepted values must pass
-- check_value, and are kept for the call phase.
CREATE FUNCTION fuzz.run_text(typ regtype, seeds text[], n integer, seed double precision)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m text;
    t text;
    what text;
    accepted integer := 0;
    refused integer := 0;
BEGIN
    PERFORM setseed(seed);
    FOREACH m IN ARRAY seeds LOOP
        what := fuzz.check_value(typ, m, m);
        IF what IS NOT NULL THEN
            INSERT INTO fuzz.failures VALUES (typ, 'seed', m, what);
        END IF;
        INSERT INTO fuzz.accepted VALUES (typ, m);
    END LOOP;
    FOR i IN 1 .. n LOOP
        m := seeds[1 + fuzz.rint(array_length(seeds, 1))];
        m := CASE WHEN typ = 'retention_summary'::regtype THEN fuzz.mutate_retention_text(m)
                  ELSE fuzz.mutate_text(m) END;
        BEGIN
            EXECUTE format('SELECT (%L::%s)::text', m, typ) INTO t;
        EXCEPTION WHEN OTHERS THEN
            refused := refused + 1;
            IF SQLSTATE <> '22P02' THEN
                INSERT INTO fuzz.failures VALUES (typ, 'text input', m, 'error ' || SQLSTATE || ': ' || SQLERRM);
            END IF;
            CONTINUE;
        END;
        accepted := accepted + 1;
        what := fuzz.check_value(typ, m, t);
        IF what IS NOT NULL THEN
            INSERT INTO fuzz.failures VALUES (typ, 'text input', m, what);
        END IF;
        IF fuzz.rint(4) = 0 THEN
            INSERT INTO fuzz.accepted VALUES (typ, t);
        END IF;
    END LOOP;
    -- equal values print the same text
    EXECUTE format('SELECT min(a.value || '' = '' || b.value) FROM (SELECT DISTINCT value FROM fuzz.accepted WHERE typ = %1$L) AS a '
                   'JOIN (SELECT DISTINCT value FROM fuzz.accepted WHERE typ = %1$L) AS b '
                   'ON a.value::%2$s = b.value::%2$s AND a.value < b.value', typ::text, typ) INTO t;
    IF t IS NOT NULL THEN
        INSERT INTO fuzz.failures VALUES (typ, 'text input', t, 'equal values print different texts');
    END IF;
    INSERT INTO fuzz.counts VALUES (typ, 'text', n, accepted, refused);
END $$;

-- Binary input: n byte-level mutants of the binary forms of the accepted values.  Refusals
-- must be 22P03; an accepted value must pass check_value.
CREATE FUNCTION fuzz.run_binary(typ regtype, n integer, seed double precision)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sources bytea[];
    m bytea;
    t text;
    what text;
    ok boolean;
    accepted integer := 0;
    refused integer := 0;
BEGIN
    PERFORM setseed(seed);
    EXECUTE format('SELECT array_agg(%s(value::%s) ORDER BY value) FROM fuzz.accepted WHERE typ = %L',
                   typ::text || '_send', typ, typ::text) INTO sources;
    FOR i IN 1 .. n LOOP
        m := fuzz.mutate_bytes(sources[1 + fuzz.rint(array_length(sources, 1))]);
        BEGIN
            PERFORM fuzz.recv(typ, m);
            EXECUTE format('SELECT v::text FROM fuzz.%I', 'bin_' || typ::text) INTO t;
        EXCEPTION WHEN OTHERS THEN
            refused := refused + 1;
            IF SQLSTATE <> '22P03' THEN
                INSERT INTO fuzz.failures VALUES (typ, 'binary input', encode(m, 'hex'), 'error ' || SQLSTATE || ': ' || SQLERRM);
            END IF;
            CONTINUE;
        END;
        accepted := accepted + 1;
        BEGIN
            EXECUTE format('SELECT v = v::text::%1$s AND %2$s(v) = %2$s(v::text::%1$s) FROM fuzz.%3$I',
                           typ, typ::text || '_hash', 'bin_' || typ::text) INTO ok;
            what := CASE WHEN ok THEN fuzz.check_value(typ, t, t)
                         ELSE 'the value read differs from the value read back from its text' END;
        EXCEPTION WHEN OTHERS THEN
            what := 'error ' || SQLSTATE || ': ' || SQLERRM;
        END;
        IF what IS NOT NULL THEN
            INSERT INTO fuzz.failures VALUES (typ, 'binary input', encode(m, 'hex'), what);
        END IF;
        IF fuzz.rint(4) = 0 THEN
            INSERT INTO fuzz.accepted VALUES (typ, t);
        END IF;
    END LOOP;
    INSERT INTO fuzz.counts VALUES (typ, 'binary', n, accepted, refused);
END $$;

-- The calls of every function of the extension that takes typ (aggregate support functions
-- aside), with sample values for its other arguments: $1 is the value, $2 a value of the same
-- type (another accepted one).  Set-returning functions are read through LIMIT.
CREATE FUNCTION fuzz.calls(typ regtype) RETURNS SETOF text LANGUAGE sql AS $$
WITH fns AS (
    SELECT p.oid, p.proname, n.nspname, p.proargtypes::oid[] AS args, p.proretset, p.prorettype
    FROM pg_proc AS p
    JOIN pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension AS x ON x.oid = d.refobjid AND x.extname = 'cxkpi'
    WHERE typ::oid = ANY (p.proargtypes::oid[]) AND p.prokind = 'f'
      AND p.proname !~ '_(trans|untrans|mtrans|in|out|recv|send)$'
      AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) AS a(t)
                      WHERE t NOT IN (typ::oid, 'integer'::regtype, 'bigint'::regtype,
                                      'double precision'::regtype, 'date'::regtype, 'text'::regtype,
                                      'numeric'::regtype, 'boolean'::regtype, 'bgnbd_model'::regtype,
                                      'mbgnbd_model'::regtype, 'gamma_gamma_model'::regtype))),
variants(v) AS (VALUES (1), (2), (3)),
args AS (
    SELECT f.oid, v, f.proretset, f.prorettype, f.nspname, f.proname,
           string_agg(CASE
               WHEN a.t = typ::oid THEN CASE WHEN a.i > 1 AND v = 2 THEN '$2' ELSE '$1' END
               WHEN a.t = 'integer'::regtype THEN (ARRAY['1', '0', '2147483647'])[v]
               WHEN a.t = 'bigint'::regtype THEN (ARRAY['1', '0', '9223372036854775807'])[v]
               WHEN a.t = 'double precision'::regtype THEN (ARRAY['0.95', '1e308', '''NaN''::float8'])[v]
               WHEN a.t = 'date'::regtype THEN
                   CASE WHEN typ = 'retention_summary'::regtype AND v < 3
                        THEN format('coalesce((SELECT max(p) FROM periods($1) AS p), date %L)', '2024-01-01')
                        ELSE '''2024-01-01''::date' END
               WHEN a.t = 'text'::regtype THEN (ARRAY['''on''', '''on_or_after''', '''day'''])[v]
               WHEN a.t = 'numeric'::regtype THEN (ARRAY['1', '0', '1.5'])[v]
               WHEN a.t = 'boolean'::regtype THEN 'true'
               WHEN a.t = 'bgnbd_model'::regtype THEN '''(v1,r=0.243,alpha=4.414,a=0.793,b=2.426)''::bgnbd_model'
               WHEN a.t = 'mbgnbd_model'::regtype THEN '''(v1,r=0.243,alpha=4.414,a=0.793,b=2.426)''::mbgnbd_model'
               ELSE '''(v1,p=6.25,q=3.74,v=15.44)''::gamma_gamma_model' END, ', ' ORDER BY a.i) AS arglist
    FROM fns AS f CROSS JOIN variants
    CROSS JOIN LATERAL unnest(f.args) WITH ORDINALITY AS a(t, i)
    GROUP BY f.oid, v, f.proretset, f.prorettype, f.nspname, f.proname)
SELECT DISTINCT CASE
    WHEN proretset THEN format('SELECT count(*)::text FROM (SELECT %I.%I(%s) LIMIT 1000) AS q', nspname, proname, arglist)
    ELSE format('SELECT (%I.%I(%s))::text', nspname, proname, arglist) END
FROM args
ORDER BY 1 $$;

-- Every call of fuzz.calls on the accepted values (at most per_type of them, and every seed).
-- A refusal must have a documented SQLSTATE (22000, 22003, 22023, 54000); a result must not
-- be NaN or infinite.
CREATE FUNCTION fuzz.run_calls(typ regtype, per_type integer, seed double precision)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    calls text[] := ARRAY(SELECT fuzz.calls(typ));
    vals text[];
    c text;
    v text;
    other text;
    res text;
    tried integer := 0;
    refused integer := 0;
BEGIN
    PERFORM setseed(seed);
    SELECT array_agg(value ORDER BY random()) INTO vals
    FROM (SELECT DISTINCT acc.value FROM fuzz.accepted AS acc WHERE acc.typ = run_calls.typ::text) AS a;
    vals := vals[1:per_type];
    FOREACH v IN ARRAY vals LOOP
        other := vals[1 + fuzz.rint(array_length(vals, 1))];
        FOREACH c IN ARRAY calls LOOP
            tried := tried + 1;
            BEGIN
                EXECUTE replace(replace(c, '$1', '$1::' || typ::text), '$2', '$2::' || typ::text)
                    INTO res USING v, other;
                IF res ~* '(^|[^a-z])(nan|-?infinity)($|[^a-z])' THEN
                    INSERT INTO fuzz.failures VALUES (typ, 'call', v, c || ' returned ' || res);
                END IF;
            EXCEPTION WHEN OTHERS THEN
                refused := refused + 1;
                IF SQLSTATE NOT IN ('22000', '22003', '22023', '54000') THEN
                    INSERT INTO fuzz.failures VALUES (typ, 'call', v, c || ': error ' || SQLSTATE || ': ' || SQLERRM);
                END IF;
            END;
        END LOOP;
    END LOOP;
    INSERT INTO fuzz.counts VALUES (typ, 'calls', tried, tried - refused, refused);
END $$;
