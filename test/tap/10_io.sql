-- Text and binary I/O: round trips (text, COPY BINARY) and rejection of malformed values.
BEGIN;
SET client_min_messages = warning;
SELECT plan(62);

CREATE TEMP TABLE src AS
SELECT g % 7 AS k,
       nps_agg(g % 11) AS nps,
       csat_agg(1 + g % 5) AS csat5,
       csat_agg(1 + g % 10, 10) AS csat10,
       csat_agg(g % 3 = 0) AS csat_yn,
       ces_agg(1 + g % 7) AS ces7,
       ces_agg(1 + g % 5, 5) AS ces5
FROM generate_series(1, 5000) g GROUP BY 1;

-- text round trips
SELECT ok(bool_and(nps::text::nps_summary = nps AND nps::text::nps_summary::text = nps::text
              AND csat5::text::csat_summary = csat5 AND csat10::text::csat_summary = csat10
              AND csat_yn::text::csat_summary = csat_yn
              AND ces7::text::ces_summary = ces7 AND ces5::text::ces_summary = ces5),
          'text output reads back to an equal value, every type and scale') FROM src;

-- COPY BINARY round trip through a server-side file
SELECT lives_ok(format('COPY src TO %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '.bin'),
                'COPY TO (FORMAT binary)');
CREATE TEMP TABLE dst (LIKE src);
SELECT lives_ok(format('COPY dst FROM %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '.bin'),
                'COPY FROM (FORMAT binary)');
SELECT is((SELECT count(*) FROM dst), 7::bigint, 'all rows came back');
SELECT is((SELECT count(*) FROM src JOIN dst USING (k)
           WHERE src.nps = dst.nps AND src.csat5 = dst.csat5 AND src.csat10 = dst.csat10
             AND src.csat_yn = dst.csat_yn AND src.ces7 = dst.ces7 AND src.ces5 = dst.ces5),
          7::bigint, 'binary round trip gives equal summaries');

-- malformed text literals: 22P02
SELECT throws_ok(format('SELECT %L::%s', lit, typ), '22P02', NULL, format('%s %s rejected', typ, lit))
FROM (VALUES
    ('nps_summary', ''),
    ('nps_summary', '   '),
    ('nps_summary', '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0}'),
    ('nps_summary', 'v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})x'),
    ('nps_summary', '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0});'),
    ('nps_summary', '(v0,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v2,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(V1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v1, n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v1,n=,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v1,n=0,counts=)'),
    ('nps_summary', '(v1,n=0,counts={})'),
    ('nps_summary', '(v1,n=-1,counts={-1,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v1,n=5,counts={1,0,0,0,0,0,0,0,0,0,1})'),
    ('nps_summary', '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,1})'),
    ('nps_summary', '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,0,1})'),
    ('nps_summary', '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1x})'),
    ('nps_summary', '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1.0})'),
    ('nps_summary', '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,99999999999999999999})'),
    ('nps_summary', '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,9223372036854775807,1})'),
    ('nps_summary', '(v1,scale=10,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('csat_summary', '(v1,n=0,counts={0,0,0,0,0})'),
    ('csat_summary', '(v1,scale=4,n=0,counts={0,0,0,0})'),
    ('csat_summary', '(v1,scale=11,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('csat_summary', '(v1,scale=-5,n=0,counts={0,0,0,0,0})'),
    ('csat_summary', '(v1,scale=3,n=0,counts={0,0,0,0,0})'),
    ('csat_summary', '(v1,scale=5,n=1,counts={0,0,0,0,1})garbage'),
    ('csat_summary', '(v1,scale=2,n=2,counts={1,2})'),
    ('ces_summary', '(v1,scale=10,n=0,counts={0,0,0,0,0,0,0,0,0,0})'),
    ('ces_summary', '(v1,scale=7,n=1,counts={1,0,0,0,0,0})'),
    ('ces_summary', '(v1,scale=5,n=1,counts={0,0,0,0,1}'),
    -- one spelling per integer (issue 15, item 9)
    ('nps_summary', '(v1,n=007,counts={0,0,0,0,0,0,0,0,0,0,7})'),
    ('nps_summary', '(v1,n=7,counts={0,0,0,0,0,0,0,-0,0,0,7})'),
    ('nps_summary', '(v1,n=-0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v01,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'),
    ('nps_summary', '(v1,n=+1,counts={0,0,0,0,0,0,0,0,0,0,1})'),
    ('csat_summary', '(v1,scale=05,n=0,counts={0,0,0,0,0})'),
    ('ces_summary', '(v1,scale=7,n=1,counts={0,0,0,0,0,0,01})')
) AS bad(typ, lit);

-- malformed binary values: 22P03, through COPY FROM (FORMAT binary) of crafted files
CREATE TEMP TABLE bin_nps (s nps_summary);
CREATE TEMP TABLE bin_csat (s csat_summary);
CREATE TEMP TABLE bin_ces (s ces_summary);
-- a valid value first, to prove the crafted file format itself is right
SELECT lives_ok(format('COPY bin_nps FROM %L (FORMAT binary)',
                       tap.binary_copy_file(nps_summary_send('(v1,n=3,counts={1,0,0,0,0,0,0,0,0,0,2})'))),
                'a crafted valid binary nps_summary loads');
SELECT is((SELECT s::text FROM bin_nps), '(v1,n=3,counts={1,0,0,0,0,0,0,0,0,0,2})', 'and reads back equal');
SELECT throws_ok(format('COPY %s FROM %L (FORMAT binary)', tab, tap.binary_copy_file(payload)),
                 '22P03', NULL, 'binary: ' || what)
FROM (VALUES
    ('bin_nps', '\x'::bytea, 'empty value'),
    ('bin_nps', '\x01', 'one byte'),
    ('bin_nps', '\x020a' || substr(nps_summary_send('(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'), 3), 'version 2'),
    ('bin_nps', '\x0109' || substr(nps_summary_send('(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'), 3), 'scale 9 for NPS'),
    ('bin_nps', substr(nps_summary_send('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})'), 1, 97), 'truncated by one byte'),
    ('bin_nps', nps_summary_send('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})') || '\x00', 'one byte too many'),
    ('bin_nps', set_byte(nps_summary_send('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})'), 9, 2), 'n disagrees with counts'),
    ('bin_nps', '\x010a' || int8send(0) || int8send(-1) || int8send(1) || decode(repeat('00', 72), 'hex'), 'negative count'),
    ('bin_nps', '\x010a' || int8send(0) || int8send(9223372036854775807) || int8send(9223372036854775807)
                || decode(repeat('00', 72), 'hex'), 'counts overflow bigint'),
    ('bin_csat', '\x0104' || int8send(0) || int8send(0) || int8send(0) || int8send(0) || int8send(0), 'CSAT scale 4'),
    ('bin_csat', '\x0105' || int8send(0) || int8send(0) || int8send(0) || int8send(0), 'CSAT 5-point with 3 counts'),
    ('bin_csat', '\x0103' || int8send(0) || int8send(0) || int8send(0) || int8send(0) || int8send(0) || int8send(0),
                'CSAT 3-point with 5 counts'),
    ('bin_ces', '\x0103' || int8send(0) || int8send(0) || int8send(0) || int8send(0), 'CES scale 3'),
    ('bin_ces', '\x0107' || int8send(1), 'CES counts missing'),
    ('bin_ces', '\x01', 'CES header only')
) AS bad(tab, payload, what);
SELECT is((SELECT count(*) FROM bin_csat) + (SELECT count(*) FROM bin_ces), 0::bigint,
          'no malformed binary value was stored');

SELECT * FROM finish();
ROLLBACK;
