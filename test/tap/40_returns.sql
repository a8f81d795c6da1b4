-- return_summary: exact money decoding, I/O round trips and rejections, parallel = serial, overflow.
BEGIN;
SET client_min_messages = warning;
SELECT plan(61);

-- Money read straight from numeric's storage format equals sum() for values of every shape:
-- 0 to 18 decimal places, magnitudes from 1e-18 to 1e17, trailing zeros, short and long headers.
-- (The sum must fit 128 bits at the largest scale: |sum| x 10^scale < 1.7e38.)
CREATE TEMP TABLE money AS
SELECT g, round((((hashint4(g) & 2147483647)::numeric) * 10 ^ ((hashint4(g + 7) & 2147483647) % 12 - 8))::numeric,
                (hashint4(g + 3) & 2147483647) % 19) AS v
FROM generate_series(1, 20000) g;
INSERT INTO money VALUES (-1, 0), (-2, 0.000000000000000001), (-3, 100000000000000000),
    (-4, 12.3400), (-5, 1e-18), (-6, 99999999999.999999999999999999), (-7, 10000), (-8, 0.0001);
SELECT is((SELECT order_value(return_agg(1, 0, v, 0)) FROM money), (SELECT sum(v) FROM money),
          'exact money sum equals sum(numeric) over 20,008 values of every shape');
SELECT is((SELECT count(*) FROM money m WHERE (SELECT order_value(return_agg(1, 0, x, 0)) FROM (VALUES (m.v)) t(x)) <> v), 0::bigint,
          'every single value reads back exactly');
SELECT is((SELECT order_value(return_agg(1, 0, v, 0))::text FROM (VALUES (1.10), (2.205)) t(v)), '3.305',
          'the sum keeps the largest scale seen');
SELECT is((SELECT order_value(return_agg(1, 0, v, 0))::text
           FROM (VALUES (1e20::numeric(45, 20)), (2e20::numeric(45, 20))) t(v)), '300000000000000000000',
          'long display scale of a multiple of 10^20 reads exactly (scale 0)');
SELECT is((SELECT order_value(return_agg(1, 0, 100000000000000000000000000000000000.01, 0))::text),
          '100000000000000000000000000000000000.01', 'a single value up to the 128-bit limit is accepted');
SELECT is((SELECT order_value(return_agg(1, 0, 99999999999999999999.999999999999999999, 0))::text),
          '99999999999999999999.999999999999999999', '38 significant digits at scale 18');
SELECT throws_ok('SELECT return_agg(2, 0, NULL, -5)', '22003', NULL, 'a negative returned value is refused when order_value is NULL');
SELECT throws_ok($$SELECT return_agg(1, 0, 'NaN', NULL)$$, '22003', NULL, 'NaN is refused when the other value is NULL');
SELECT throws_ok('SELECT return_agg(1, 0, NULL, 3)', '22003', NULL, 'a returned value without a returned item is refused');
SELECT is((SELECT return_agg(i, r, ov, rv) OVER (ORDER BY k ROWS 1 PRECEDING)::text FROM
            (VALUES (1, 1, 0, 6.000, 0.000), (2, 1, 0, NULL, NULL), (3, 1, 0, 6.0, 0)) t(k, i, r, ov, rv)
           ORDER BY k DESC LIMIT 1),
          (SELECT return_agg(i, r, ov, rv)::text FROM (VALUES (1, 0, NULL::numeric, NULL::numeric), (1, 0, 6.0, 0)) t(i, r, ov, rv)),
          'a frame left without valued orders prints as its recomputation');
SELECT is((SELECT order_value(return_agg(1, 0, 1 / 8.0, 0))::text), '0.125',
          'a long display scale is accepted when the value is exact in 18 places (1/8.0)');
SELECT throws_ok('SELECT return_agg(1, 0, 1 / 3.0, 0)', '22003', NULL,
                 'a value with more than 18 significant decimals is refused, not rounded (1/3.0)');

-- text and binary round trips
CREATE TEMP TABLE rs AS
SELECT g % 5 AS k, return_agg(1 + g % 4, (g % 7) % (1 + g % 4), (g % 1000) / 8.0, 0) AS s2,
       return_agg(1 + g % 4, 0) AS s1
FROM generate_series(1, 3000) g GROUP BY 1;
SELECT ok(bool_and(s2::text::return_summary = s2 AND s2::text::return_summary::text = s2::text
                   AND s1::text::return_summary = s1), 'text round trip') FROM rs;
SELECT lives_ok(format('COPY rs TO %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_rs.bin'), 'COPY TO binary');
CREATE TEMP TABLE rs2 (LIKE rs);
SELECT lives_ok(format('COPY rs2 FROM %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_rs.bin'), 'COPY FROM binary');
SELECT is((SELECT count(*) FROM rs JOIN rs2 USING (k) WHERE rs.s2 = rs2.s2 AND rs.s1 = rs2.s1), 5::bigint,
          'binary round trip gives equal summaries');
SELECT ok('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=10.50,returned_value=0.00)'::return_summary
        <> '(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=10.5,returned_value=0.0)',
          'equal values print the same text: 10.50 and 10.5 are different values (the money scale counts)');
SELECT ok(return_summary_hash(a) = return_summary_hash(b) AND return_summary_hash_extended(a, 3) = return_summary_hash_extended(b, 3),
          'the hash ignores the scale still (consistent with equality, and with hash indexes made by 1.0)')
FROM (SELECT '(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=10.50,returned_value=0.00)'::return_summary AS a,
             '(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=10.5,returned_value=0.0)'::return_summary AS b) q;
-- window frames keep the scale of the orders in the frame, as their recomputation does
SELECT is((SELECT count(*) FROM (
             SELECT k, return_agg(i, r, ov, rv) OVER w AS s, rollup(d) OVER w AS rs FROM
               (SELECT k, i, r, ov, rv, return_agg(i, r, ov, rv) OVER (PARTITION BY k) AS d
                FROM (VALUES (1, 2, 0, 6.000, 0.000), (2, 1, 0, 5.5, 0), (3, 1, 1, 6.0, 6.0), (4, 3, 1, 10, 1.25),
                             (5, 1, 0, NULL, NULL), (6, 2, 0, 7, 0), (7, 1, 0, 8.5, 0)) t(k, i, r, ov, rv)) u
             WINDOW w AS (ORDER BY k ROWS 1 PRECEDING)) f
           WHERE s::text IS DISTINCT FROM (SELECT return_agg(i, r, ov, rv)::text FROM
                   (VALUES (1, 2, 0, 6.000, 0.000), (2, 1, 0, 5.5, 0), (3, 1, 1, 6.0, 6.0), (4, 3, 1, 10, 1.25),
                           (5, 1, 0, NULL, NULL), (6, 2, 0, 7, 0), (7, 1, 0, 8.5, 0)) t(k, i, r, ov, rv)
                   WHERE t.k BETWEEN f.k - 1 AND f.k)
              OR rs IS DISTINCT FROM s),
          0::bigint, 'moving return_agg and rollup frames print as their recomputation, scales included');

-- malformed literals: 22P02
SELECT throws_ok(format('SELECT %L::return_summary', lit), '22P02', NULL, 'rejected: ' || why)
FROM (VALUES
  ('', 'empty'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0', 'missing bracket'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)x', 'trailing junk'),
  ('(v2,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'version 2'),
  ('(v1,orders=-1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'negative orders'),
  ('(v1,orders=1,with_return=2,fully_returned=0,items=1,items_returned=2,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'with_return > orders'),
  ('(v1,orders=2,with_return=1,fully_returned=2,items=2,items_returned=1,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'fully > with_return'),
  ('(v1,orders=2,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'items < orders'),
  ('(v1,orders=1,with_return=1,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'returned items < returns'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=2,valued_with_return=0,order_value=0,returned_value=0)', 'valued > orders'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=5,returned_value=6)', 'returned > order value'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=5,returned_value=0)', 'money without valued orders'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=5.0,returned_value=0)', 'different money scales'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=5.,returned_value=0.)', 'bare decimal point'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=1e3,returned_value=0)', 'exponent'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=0.1234567890123456789,returned_value=0.0000000000000000000)', 'too many decimals'),
  ('(v1,orders=1,with_return=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'missing field'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=-1,returned_value=0)', 'negative money'),
  -- one spelling per money sum (issue 15, item 9)
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=05.50,returned_value=0.00)', 'a leading zero'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=.50,returned_value=0.00)', 'no integer part'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=-0,returned_value=0)', '-0'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=-0.00,returned_value=0.00)', '-0.00'),
  ('(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=' || repeat('0', 1000000) || '1,returned_value=0)', 'a million leading zeros'),
  ('(v1,orders=01,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)', 'a counter with a leading zero')
) AS bad(lit, why);

-- malformed binary values: 22P03
CREATE TEMP TABLE bin_rs (s return_summary);
CREATE TEMP VIEW good AS
SELECT return_summary_send('(v1,orders=3,with_return=1,fully_returned=1,items=5,items_returned=2,valued_orders=2,valued_with_return=1,order_value=30.25,returned_value=10.00)') AS b;
SELECT lives_ok(format('COPY bin_rs FROM %L (FORMAT binary)', tap.binary_copy_file(b)), 'a crafted valid binary value loads') FROM good;
SELECT throws_ok(format('COPY bin_rs FROM %L (FORMAT binary)', tap.binary_copy_file(payload)), '22P03', NULL, 'binary: ' || why)
FROM good, LATERAL (VALUES
    ('\x'::bytea, 'empty'),
    (set_byte(b, 0, 2), 'version 2'),
    (substr(b, 1, length(b) - 1), 'truncated'),
    (b || '\x00'::bytea, 'one byte too many'),
    (set_byte(b, 1, 40), 'scale 40'),
    (overlay(b placing int8send(-3) from 3 for 8), 'negative orders'),
    (overlay(b placing int8send(0) from 3 for 8), 'with_return > orders'),
    (overlay(b placing int8send(0) from 35 for 8), 'items_returned < with_return'),
    (overlay(b placing int8send(-1) || int8send(-1) from 59 for 16), 'negative order value'),
    (overlay(b placing int8send(0) || int8send(999999) from 75 for 16), 'returned > order value')
) AS bad(payload, why);
SELECT is((SELECT count(*) FROM bin_rs), 1::bigint, 'only the valid binary value was stored');

-- parallel aggregation equals serial
CREATE TABLE par_orders AS
SELECT g AS id, g % 3 AS channel, 1 + g % 5 AS items, (g % 11) % (1 + g % 5) AS ret,
       (g % 997) + 0.99 AS val
FROM generate_series(1, 200000) g;
ANALYZE par_orders;
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT channel, return_agg(items, ret, val, CASE WHEN ret = 0 THEN 0 ELSE round(val * ret / items, 2) END)::text AS s,
       return_rate(items, ret) AS rr FROM par_orders GROUP BY channel;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT set_eq($$SELECT channel, return_agg(items, ret, val, CASE WHEN ret = 0 THEN 0 ELSE round(val * ret / items, 2) END)::text,
                      return_rate(items, ret) FROM par_orders GROUP BY channel$$,
              'SELECT * FROM serial', 'parallel = serial');

-- overflow: 22003
SELECT throws_ok($$SELECT merge(s, s) FROM (SELECT '(v1,orders=9223372036854775807,with_return=0,fully_returned=0,items=9223372036854775807,items_returned=0,valued_orders=0,valued_with_return=0,order_value=0,returned_value=0)'::return_summary AS s) q$$,
                 '22003', NULL, 'merged counts overflow');
SELECT throws_ok($$SELECT rollup(s) FROM (SELECT '(v1,orders=1,with_return=0,fully_returned=0,items=1,items_returned=0,valued_orders=1,valued_with_return=0,order_value=100000000000000000000000000000000000000,returned_value=0)'::return_summary AS s FROM generate_series(1, 2)) q$$,
                 '22003', NULL, 'merged money overflows 128 bits');
SELECT throws_ok($$SELECT return_agg(1, 0, 1e40, 0)$$, '22003', NULL, 'a single value beyond 128 bits');
SELECT throws_ok($$SELECT return_agg(1, 0, 'NaN', 0)$$, '22003', NULL, 'NaN order value');
SELECT throws_ok($$SELECT return_agg(1, 0, '-Infinity', 0)$$, '22003', NULL, '-Infinity order value');

SELECT * FROM finish();
ROLLBACK;
