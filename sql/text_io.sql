-- Text I/O: round trips and what malformed literals say.

-- Every stored summary prints and reads back to an equal value with the same text.
SELECT count(*) AS summaries,
       count(*) FILTER (WHERE s::text::nps_summary = s AND s::text::nps_summary::text = s::text) AS nps_ok
FROM nps_daily;
SELECT count(*) FILTER (WHERE s::text::csat_summary = s AND s::text::csat_summary::text = s::text) AS csat_ok
FROM csat_daily;
SELECT count(*) FILTER (WHERE s::text::ces_summary = s AND s::text::ces_summary::text = s::text) AS ces_ok
FROM ces_daily;
-- Surrounding white space is allowed, and so is the largest count.
SELECT '  (v1,n=9223372036854775807,counts={0,0,0,0,0,0,0,0,0,0,9223372036854775807})  '::nps_summary;
SELECT '(v1,scale=10,n=2,counts={1,0,0,0,0,0,0,0,0,1})'::csat_summary,
       '(v1,scale=2,n=3,counts={1,2})'::csat_summary,
       '(v1,scale=5,n=0,counts={0,0,0,0,0})'::ces_summary;
-- Equality, hashing: DISTINCT and GROUP BY work on summaries.
SELECT count(DISTINCT s) AS distinct_daily FROM nps_daily;
SELECT s, count(*) FROM (VALUES ('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})'::nps_summary),
                                ('(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,1})'),
                                ('(v1,n=1,counts={1,0,0,0,0,0,0,0,0,0,0})')) v(s)
GROUP BY s ORDER BY s::text;

-- Malformed literals (22P02); each message says what is wrong and where.
SELECT ''::nps_summary;
SELECT '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0}'::nps_summary;
SELECT '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,0,0}) x'::nps_summary;
SELECT '(v2,n=0,counts={0,0,0,0,0,0,0,0,0,0,0})'::nps_summary;
SELECT '(v1,n=-1,counts={-1,0,0,0,0,0,0,0,0,0,0})'::nps_summary;
SELECT '(v1,n=3,counts={1,0,0,0,0,0,0,0,0,0,1})'::nps_summary;
SELECT '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,1})'::nps_summary;
SELECT '(v1,n=1,counts={0,0,0,0,0,0,0,0,0,0,0,1})'::nps_summary;
SELECT '(v1,n=2,counts={0,0,0,0,0,0,0,0,0,0,9223372036854775808})'::nps_summary;
SELECT '(v1,n=0,counts={0,0,0,0,0,0,0,0,0,9223372036854775807,9223372036854775807})'::nps_summary;
SELECT '(v1,scale=4,n=0,counts={0,0,0,0})'::csat_summary;
SELECT '(v1,n=0,counts={0,0,0,0,0})'::csat_summary;
SELECT '(v1,scale=7,n=1,counts={1,0,0,0,0,0})'::ces_summary;

-- Binary send gives the documented layout: version, scale, n, counts.
SELECT csat_summary_send('(v1,scale=3,n=3,counts={1,0,2})');
