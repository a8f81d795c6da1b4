-- retention_summary version 2 (compact: ids once in a dictionary, per-period bitmaps of
-- positions; docs/retention.md "Sparse ids"), the version every writer writes.  These tests
-- build version 2 literals in plain SQL (the dictionary in the runs encoding, every bitmap one
-- array container) and version 1 literals (what cxkpi 1.0 stored: Roaring64Map buckets of array
-- containers, not canonical) of the same activity, and check that every function reads both as
-- the aggregate's summary: accessors, equality, hash, merge, rollup, text (always version 2).
BEGIN;
SET client_min_messages = warning;
SELECT plan(25);

CREATE TEMP TABLE act (customer_id bigint, active_on date);

-- LEB128 varint of a non-negative numeric below 2^64.
CREATE FUNCTION pg_temp.varint(v numeric) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE r bytea := ''::bytea;
BEGIN
  LOOP
    IF v < 128 THEN RETURN r || set_byte('\x00'::bytea, 0, v::int); END IF;
    r := r || set_byte('\x00'::bytea, 0, (mod(v, 128) + 128)::int);
    v := div(v, 128);
  END LOOP;
END $$;
-- little-endian uint16 and uint32
CREATE FUNCTION pg_temp.le(v bigint, bytes int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(set_byte('\x00'::bytea, 0, ((v >> (8 * k)) & 255)::int), ''::bytea ORDER BY k)
  FROM generate_series(0, bytes - 1) AS k $$;

-- Version 1 text of the activity in table act, monthly, as cxkpi 1.0 read it: per month the
-- Roaring64Map portable format (bucket count, per bucket its high 32 bits of id + 2^63 and a
-- 32-bit portable bitmap of array containers: cookie 12346, count, keys and cardinalities - 1,
-- offsets, values; all little-endian).
CREATE FUNCTION pg_temp.v1_text() RETURNS text LANGUAGE sql AS $$
  WITH v AS (SELECT DISTINCT date_trunc('month', active_on)::date AS m, customer_id::numeric + 9223372036854775808 AS u
             FROM act),
       c AS (SELECT m, div(u, 4294967296)::bigint AS high, div(mod(u, 4294967296), 65536)::bigint AS key,
                    count(*) AS card, string_agg(pg_temp.le(mod(u, 65536)::bigint, 2), ''::bytea ORDER BY u) AS vals
             FROM v GROUP BY 1, 2, 3),
       o AS (SELECT *, count(*) OVER (PARTITION BY m, high) AS n,
                    coalesce(sum(card) OVER (PARTITION BY m, high ORDER BY key ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
             FROM c),
       b AS (SELECT m, high,
                    '\x3a300000'::bytea || pg_temp.le(max(n), 4)
                    || string_agg(pg_temp.le(key, 2) || pg_temp.le(card - 1, 2), ''::bytea ORDER BY key)
                    || string_agg(pg_temp.le((8 + 8 * n + 2 * before)::bigint, 4), ''::bytea ORDER BY key)
                    || string_agg(vals, ''::bytea ORDER BY key) AS bm
             FROM o GROUP BY 1, 2),
       p AS (SELECT m, pg_temp.le(count(*), 8) || string_agg(pg_temp.le(high, 4) || bm, ''::bytea ORDER BY high) AS set
             FROM b GROUP BY 1)
  SELECT format('(v1,period=month,periods={%s})',
                coalesce(string_agg(m || ':' || replace(encode(set, 'base64'), E'\n', ''), ';' ORDER BY m), ''))
  FROM p $$;

-- Version 2 text of the activity in table act(customer_id, active_on), monthly: ids sorted in
-- bigint order (= the order of id + 2^63), positions 0 .. n - 1, maximal runs of consecutive ids.
CREATE FUNCTION pg_temp.v2_text() RETURNS text LANGUAGE sql AS $$
  WITH ids AS (SELECT DISTINCT customer_id AS id FROM act),
  pos AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS p, id::numeric + 9223372036854775808 AS u FROM ids),
  runs AS (SELECT min(u) AS lo, max(u) AS hi FROM (SELECT u, u - p AS grp FROM pos) q GROUP BY grp),
  runs2 AS (SELECT lo, hi, lag(hi) OVER (ORDER BY lo) AS prev_hi FROM runs),
  dict AS (SELECT '\x01'::bytea || pg_temp.varint((SELECT count(*) FROM ids))
                  || coalesce(string_agg(pg_temp.varint(CASE WHEN prev_hi IS NULL THEN lo ELSE lo - prev_hi - 2 END)
                                         || pg_temp.varint(hi - lo), ''::bytea ORDER BY lo), ''::bytea) AS d
           FROM runs2),
  per AS (SELECT date_trunc('month', a.active_on)::date AS m, array_agg(DISTINCT p.p ORDER BY p.p) AS ps
          FROM act a JOIN pos p ON p.id = a.customer_id GROUP BY 1),
  bm AS (SELECT m, '\x3a300000'::bytea || pg_temp.le(1, 4) || pg_temp.le(0, 2) || pg_temp.le(cardinality(ps) - 1, 2)
                   || pg_temp.le(16, 4) || (SELECT string_agg(pg_temp.le(x, 2), ''::bytea ORDER BY x) FROM unnest(ps) x) AS b
         FROM per)
  SELECT format('(v2,period=month,ids=%s,periods={%s})', replace(encode(d, 'base64'), E'\n', ''),
                coalesce((SELECT string_agg(m || ':' || replace(encode(b, 'base64'), E'\n', ''), ';' ORDER BY m) FROM bm), ''))
  FROM dict $$;

-- The seven customers of docs/retention.md.
INSERT INTO act VALUES
    (1, '2024-01-03'), (1, '2024-02-10'), (1, '2024-03-01'), (1, '2024-04-30'),
    (2, '2024-01-15'), (2, '2024-03-31'), (3, '2024-02-29'), (4, '2024-01-01'), (4, '2024-04-02'),
    (5, '2024-03-12'), (5, '2024-04-13'), (6, '2024-01-31'), (6, '2024-02-01'), (7, '2024-04-15');
SELECT is(pg_temp.v2_text(),
          '(v2,period=month,ids=AQeBgICAgICAgIABBg==,periods={2024-01-01:OjAAAAEAAAAAAAMAEAAAAAAAAQADAAUA;2024-02-01:OjAAAAEAAAAAAAIAEAAAAAAAAgAFAA==;2024-03-01:OjAAAAEAAAAAAAIAEAAAAAAAAQAEAA==;2024-04-01:OjAAAAEAAAAAAAMAEAAAAAAAAwAEAAYA})',
          'the seven customers as a version 2 literal (hand-checked: ids 1..7 one run; January positions 0, 1, 3, 5)');
CREATE TEMP TABLE hand AS
SELECT pg_temp.v2_text()::retention_summary AS v2, (SELECT retention_agg(customer_id, active_on) FROM act) AS v1;
SELECT is((SELECT array_agg(r::text ORDER BY r.period_start) FROM hand, retention_by_period(v2) r),
          -- (period, active, new, retained, reactivated, retention %, churn %, CRR %), as worked by hand in
          -- docs/retention.md: February keeps 1 and 6 of January's 4, March keeps 1 of 3 and 2 comes back,
          -- April keeps 1 and 5 of 3, 4 comes back, CRR (4 - 1) / 3
          ARRAY['(2024-01-01,4,4,0,0,,,)', '(2024-02-01,3,1,2,0,50,50,50)',
                '(2024-03-01,3,1,1,1,33.333333333333336,66.66666666666666,66.66666666666667)',
                '(2024-04-01,4,1,2,1,66.66666666666667,33.33333333333333,100)']::text[],
          'retention_by_period of the version 2 literal: the hand-worked months');
SELECT is((SELECT v1::text FROM hand), (SELECT v2::text FROM hand), 'same text as the version 1 summary');
SELECT ok((SELECT v1 = v2 AND retention_summary_hash(v1) = retention_summary_hash(v2)
                  AND retention_summary_hash_extended(v1, 7) = retention_summary_hash_extended(v2, 7) FROM hand),
          'equal to the version 1 summary, same hashes');

-- 3,000 customers with ids over the whole bigint range (both ends, 0 and -1, and a dense run),
-- over 24 months with gaps.
TRUNCATE act;
INSERT INTO act
SELECT id, (date '2023-01-01' + make_interval(months => m))::date + (hashint8(c * 31 + m) & 2147483647) % 28
FROM (SELECT c, CASE c WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 WHEN 3 THEN 0 WHEN 4 THEN -1
                       WHEN 5 THEN 9223372036854775806
                       ELSE CASE WHEN c <= 200 THEN 1000 + c ELSE hashint8extended(c, 0) END END AS id
      FROM generate_series(1, 3000) AS c) cu,
     generate_series(0, 23) AS m
WHERE (hashint8(c * 7 + m * 1000003) & 2147483647) % 100 < 10 + c % 50 AND m >= c % 24;
CREATE TEMP TABLE gen AS
SELECT pg_temp.v2_text()::retention_summary AS v2, (SELECT retention_agg(customer_id, active_on) FROM act) AS v1;
SELECT is((SELECT customers(v2) FROM gen), (SELECT count(DISTINCT customer_id) FROM act), 'customers of the generated version 2 summary');
SELECT ok((SELECT pg_column_size(v2) < octet_length(pg_temp.v1_text()) * 3 / 4 / 2 AND v1 = pg_temp.v1_text()::retention_summary
                  AND v1::text = pg_temp.v1_text()::retention_summary::text
                  AND retention_summary_hash(pg_temp.v1_text()::retention_summary) = retention_summary_hash(v1) FROM gen),
          'version 1 literal of the same ids: equal, same text and hash; version 2 is less than half the size of its sets (3/4 of the base64)');
SELECT is((SELECT array_agg(r::text ORDER BY r.period_start) FROM gen, retention_by_period(v2) r),
          (SELECT array_agg(r::text ORDER BY r.period_start) FROM gen, retention_by_period(v1) r), 'retention_by_period, W = 1');
SELECT is((SELECT array_agg(r::text ORDER BY r.period_start) FROM gen, retention_by_period(v2, 3) r),
          (SELECT array_agg(r::text ORDER BY r.period_start) FROM gen, retention_by_period(v1, 3) r), 'retention_by_period, W = 3');
SELECT is((SELECT array_agg(r::text ORDER BY 1) FROM gen, cohort_retention(v2) r),
          (SELECT array_agg(r::text ORDER BY 1) FROM gen, cohort_retention(v1) r), 'cohort_retention');
SELECT is((SELECT array_agg(ROW(p, active_customers(v2, p, 2), new_customers(v2, p), retained_customers(v2, p),
                                reactivated_customers(v2, p), crr(v2, p))::text ORDER BY p) FROM gen, periods(v2) p),
          (SELECT array_agg(ROW(p, active_customers(v1, p, 2), new_customers(v1, p), retained_customers(v1, p),
                                reactivated_customers(v1, p), crr(v1, p))::text ORDER BY p) FROM gen, periods(v1) p),
          'per-period accessors');
-- and the accessors equal plain SQL (independently of version 1)
SELECT is((SELECT array_agg(active_customers(v2, p) ORDER BY p) FROM gen, periods(v2) p),
          (SELECT array_agg(n ORDER BY m) FROM (SELECT date_trunc('month', active_on) AS m, count(DISTINCT customer_id) AS n FROM act GROUP BY 1) q),
          'active customers per month = count(DISTINCT) in plain SQL');
SELECT is((SELECT repeat_customer_rate(v2) FROM gen), (SELECT repeat_customer_rate(v1) FROM gen), 'repeat_customer_rate');
SELECT ok((SELECT v1 = v2 AND v1::text = v2::text AND retention_summary_hash(v1) = retention_summary_hash(v2) FROM gen),
          'equal, same text and hash as version 1');
SELECT ok((SELECT merge(v2, v1) = v1 AND merge(v2, v2) = v1
                  AND (SELECT rollup(s) FROM (VALUES (v2), (v1), (v2)) t(s)) = v1 FROM gen),
          'merge and rollup of version 2 values');

SELECT ok((SELECT v2 = pg_temp.v2_text()::retention_summary FROM gen), 'two version 2 values of the same sets are equal');
SELECT ok((SELECT v2 <> (SELECT v2 FROM hand) AND NOT (v2 = (SELECT v2 FROM hand)) FROM gen), 'version 2 values of different sets differ');

-- A version 1 value as cxkpi 1.0 stored it on disk (its flat bytes, written by the version 1
-- writer before the switch): the seven customers with ids c * 4294967311 - 2, one bucket each.
-- A type with bytea's I/O and retention_summary's layout, cast without a function, puts those
-- bytes in a table as they would be after ALTER EXTENSION cxkpi UPDATE.  The hash values are
-- those the version 1 library computed for this value.
CREATE TYPE pg_temp.raw_rs;
CREATE FUNCTION pg_temp.raw_rs_in(cstring) RETURNS pg_temp.raw_rs AS 'byteain' LANGUAGE internal IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.raw_rs_out(pg_temp.raw_rs) RETURNS cstring AS 'byteaout' LANGUAGE internal IMMUTABLE STRICT;
CREATE TYPE pg_temp.raw_rs (INPUT = pg_temp.raw_rs_in, OUTPUT = pg_temp.raw_rs_out, LIKE = retention_summary);
CREATE CAST (pg_temp.raw_rs AS retention_summary) WITHOUT FUNCTION;
CREATE TEMP TABLE stored_v1 (s retention_summary);
INSERT INTO stored_v1 SELECT '\x01030000040000003e22000040000000600000005d220000a00000004a0000007a220000f00000004a000000992200004001000060000000000000000400000000000000010000803a3000000100000000000000100000000d00020000803a3000000100000000000000100000001c00040000803a3000000100000000000000100000003a00060000803a30000001000000000000001000000058000300000000000000010000803a3000000100000000000000100000000d00030000803a3000000100000000000000100000002b00060000803a30000001000000000000001000000058000000000000000300000000000000010000803a3000000100000000000000100000000d00020000803a3000000100000000000000100000001c00050000803a30000001000000000000001000000049000000000000000400000000000000010000803a3000000100000000000000100000000d00040000803a3000000100000000000000100000003a00050000803a3000000100000000000000100000004900070000803a3000000100000000000000100000006700'::pg_temp.raw_rs::retention_summary;
CREATE TEMP TABLE agg7 AS
SELECT retention_agg(customer_id * 4294967311 - 2, active_on) AS s
FROM (VALUES (1, date '2024-01-03'), (1, '2024-02-10'), (1, '2024-03-01'), (1, '2024-04-30'), (2, '2024-01-15'),
             (2, '2024-03-31'), (3, '2024-02-29'), (4, '2024-01-01'), (4, '2024-04-02'), (5, '2024-03-12'),
             (5, '2024-04-13'), (6, '2024-01-31'), (6, '2024-02-01'), (7, '2024-04-15')) AS a(customer_id, active_on);
SELECT is((SELECT array_agg(r::text ORDER BY r.period_start) FROM stored_v1, retention_by_period(s) r),
          ARRAY['(2024-01-01,4,4,0,0,,,)', '(2024-02-01,3,1,2,0,50,50,50)',
                '(2024-03-01,3,1,1,1,33.333333333333336,66.66666666666666,66.66666666666667)',
                '(2024-04-01,4,1,2,1,66.66666666666667,33.33333333333333,100)']::text[],
          'a stored version 1 value: retention_by_period, the hand-worked months');
SELECT ok((SELECT v.s = a.s AND v.s::text = a.s::text AND v.s::text LIKE '(v2,%' AND customers(v.s) = 7
                  AND merge(v.s, a.s) = a.s AND merge(v.s, v.s)::text = a.s::text
                  AND (SELECT rollup(x) FROM (VALUES (v.s), (a.s)) t(x)) = a.s
           FROM stored_v1 v, agg7 a),
          'a stored version 1 value equals the aggregate, prints its version 2 text, merges and rolls up');
SELECT ok((SELECT retention_summary_hash(v.s) = -182718672 AND retention_summary_hash(a.s) = -182718672
                  AND retention_summary_hash_extended(v.s, 7) = -8901456199227348611
                  AND retention_summary_hash_extended(a.s, 7) = -8901456199227348611
           FROM stored_v1 v, agg7 a),
          'hash values of version 1 kept: the stored value and the version 2 aggregate hash as 1.0 hashed');

-- Binary input of version 2: version 2, period 3 (month), id type 0, the periods (first day,
-- length, bitmap), then the dictionary's length and bytes; the seven customers again.
CREATE TEMP TABLE bin_parts AS
SELECT decode('AQeBgICAgICAgIABBg==', 'base64') AS dict,
       (SELECT string_agg(date_send(m::date) || int4send(length(decode(b, 'base64'))) || decode(b, 'base64'), ''::bytea ORDER BY m)
        FROM (VALUES ('2024-01-01', 'OjAAAAEAAAAAAAMAEAAAAAAAAQADAAUA'), ('2024-02-01', 'OjAAAAEAAAAAAAIAEAAAAAAAAgAFAA=='),
                     ('2024-03-01', 'OjAAAAEAAAAAAAIAEAAAAAAAAQAEAA=='), ('2024-04-01', 'OjAAAAEAAAAAAAMAEAAAAAAAAwAEAAYA')) AS v(m, b)) AS periods;
CREATE TEMP TABLE bin_in (s retention_summary);
SELECT lives_ok(format('COPY bin_in FROM %L (FORMAT binary)',
                       tap.binary_copy_file('\x020300'::bytea || int4send(4) || periods || int4send(length(dict)) || dict)),
                'binary input of version 2')
FROM bin_parts;
SELECT ok((SELECT s = (SELECT v1 FROM hand) AND customers(s) = 7 FROM bin_in), 'binary version 2 reads as the seven customers');
SELECT throws_ok(format('COPY bin_in FROM %L (FORMAT binary)',
                        tap.binary_copy_file('\x020300'::bytea || int4send(4) || periods || int4send(length(dict)) || dict || '\x00'::bytea)),
                 '22P03', NULL, 'binary version 2 with a byte after the dictionary')
FROM bin_parts;

-- Invalid version 2 input.
SELECT throws_ok($$SELECT '(v2,period=month,ids=AQiBgICAgICAgIABBw==,periods={2024-01-01:OjAAAAEAAAAAAAMAEAAAAAAAAQADAAUA})'::retention_summary$$,
                 '22P02', NULL, 'a dictionary id that no period uses');
SELECT throws_ok($$SELECT '(v2,period=month,ids=AQOBgICAgICAgIABAg==,periods={2024-01-01:OjAAAAEAAAAAAAMAEAAAAAAAAQADAAUA})'::retention_summary$$,
                 '22P02', NULL, 'a position beyond the dictionary');
SELECT throws_ok($$SELECT '(v2,period=month,ids=AQeBgICAgICA,periods={2024-01-01:OjAAAAEAAAAAAAMAEAAAAAAAAQADAAUA})'::retention_summary$$,
                 '22P02', NULL, 'a truncated dictionary');

SELECT * FROM finish();
ROLLBACK;
