-- retention_summary: every accessor against plain SQL on generated activity, parallel = serial,
-- rollups, window frames, I/O round trips, malformed text and binary values, hashing.
BEGIN;
SET client_min_messages = warning;
SELECT plan(135);

-- 20,000 customers over 24 months (2023-01 to 2024-12).  Ids spread over the whole bigint
-- range (both ends, 0 and -1 included); each customer starts in a random month, may stop,
-- and is active in its first month, then in each month of its life with its own probability:
-- gaps and reactivations.
-- One to three activity rows per active month, on any day; a few rows with NULLs.
CREATE TABLE ret_act AS
WITH cust AS (
    SELECT c,
           CASE c WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807
                  WHEN 3 THEN 0 WHEN 4 THEN -1
                  ELSE (hashint8(c)::bigint << 32) | (hashint8(c + 100000)::bigint & 4294967295) END AS id,
           (hashint8(c + 200000) & 2147483647) % 24 AS start_m,
           (hashint8(c + 300000) & 2147483647) % 40 AS life,
           10 + (hashint8(c + 400000) & 2147483647) % 85 AS p_active
    FROM generate_series(1, 20000) AS c)
SELECT id AS customer_id,
       (date '2023-01-01' + make_interval(months => m))::date + (hashint8(c * 977 + m * 31 + k) & 2147483647) % 28
           AS active_on
FROM cust, generate_series(0, 23) AS m, generate_series(1, 3) AS k
WHERE m BETWEEN start_m AND start_m + life
  AND (m = start_m OR (hashint8(c * 31 + m) & 2147483647) % 100 < p_active)
  AND k <= 1 + (hashint8(c * 7 + m) & 2147483647) % 3;
INSERT INTO ret_act VALUES (NULL, '2023-05-05'), (42, NULL), (NULL, NULL);
ANALYZE ret_act;

SELECT is((SELECT count(DISTINCT customer_id) FROM ret_act WHERE active_on IS NOT NULL), 20000::bigint,
          'the generated activity has 20,000 customers');
SELECT ok((SELECT min(customer_id) = -9223372036854775808 AND max(customer_id) = 9223372036854775807
                  AND count(DISTINCT customer_id >> 32) > 19000 FROM ret_act),
          'ids cover the whole bigint range (high 32 bits all different)');

-- Expected values in plain SQL: the distinct (customer, period) pairs of a period kind, then
-- count(DISTINCT ...), INTERSECT and EXCEPT over the active windows.
CREATE FUNCTION pg_temp.pairs(kind text) RETURNS TABLE (c bigint, p date) LANGUAGE sql AS $$
    SELECT DISTINCT customer_id, date_trunc(kind, active_on)::date FROM ret_act
    WHERE customer_id IS NOT NULL AND active_on IS NOT NULL $$;
CREATE TEMP TABLE pm AS SELECT * FROM pg_temp.pairs('month');
CREATE TEMP TABLE pw AS SELECT * FROM pg_temp.pairs('week');
CREATE TEMP TABLE pq AS SELECT * FROM pg_temp.pairs('quarter');
CREATE TEMP TABLE pd AS SELECT * FROM pg_temp.pairs('day') WHERE p < date '2023-03-01';
CREATE INDEX ON pm (p); CREATE INDEX ON pw (p); CREATE INDEX ON pq (p); CREATE INDEX ON pd (p);
ANALYZE pm, pw, pq, pd;

-- For each period start in [first, last] and each W: S, E, retained, N and reactivated.
CREATE FUNCTION pg_temp.expected(pairs regclass, step interval, first date, last date, ws int[])
RETURNS TABLE (p date, w int, s bigint, e bigint, retained bigint, n bigint, reactivated bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH firsts AS (SELECT c, min(p) AS f FROM %1$s GROUP BY c)
        SELECT g.p, w.w,
               (SELECT count(DISTINCT c) FROM %1$s x WHERE x.p > g.p - $1 * (w.w + 1) AND x.p <= g.p - $1),
               (SELECT count(DISTINCT c) FROM %1$s x WHERE x.p > g.p - $1 * w.w AND x.p <= g.p),
               (SELECT count(*) FROM (SELECT c FROM %1$s x WHERE x.p > g.p - $1 * w.w AND x.p <= g.p
                                      INTERSECT
                                      SELECT c FROM %1$s x WHERE x.p > g.p - $1 * (w.w + 1) AND x.p <= g.p - $1) i),
               (SELECT count(*) FROM firsts WHERE f = g.p),
               (SELECT count(*) FROM (SELECT c FROM %1$s x WHERE x.p > g.p - $1 * w.w AND x.p <= g.p
                                      EXCEPT
                                      SELECT c FROM %1$s x WHERE x.p > g.p - $1 * (w.w + 1) AND x.p <= g.p - $1) d
                                JOIN firsts USING (c) WHERE f < g.p)
        FROM (SELECT d::date AS p FROM generate_series($2::timestamp, $3::timestamp, $1) AS d) g,
             unnest($4) AS w(w) $q$, pairs) USING step, first, last, ws;
END $$;

CREATE TEMP TABLE sums AS
SELECT retention_agg(customer_id, active_on) AS month,
       retention_agg(customer_id, active_on, 'week') AS week,
       retention_agg(customer_id, active_on, 'quarter') AS quarter,
       retention_agg(customer_id, active_on, 'day') FILTER (WHERE active_on < '2023-03-01') AS day
FROM ret_act;
CREATE TEMP TABLE exp_m AS SELECT * FROM pg_temp.expected('pm', '1 month', '2022-11-01', '2025-02-01', '{1,2,3,6,24}');
CREATE TEMP TABLE exp_w AS SELECT * FROM pg_temp.expected('pw', '1 week', '2022-12-19', '2025-01-13', '{1,2,4}');
CREATE TEMP TABLE exp_q AS SELECT * FROM pg_temp.expected('pq', '3 months', '2022-07-01', '2025-04-01', '{1,2,4}');
CREATE TEMP TABLE exp_d AS SELECT * FROM pg_temp.expected('pd', '1 day', '2022-12-30', '2023-03-02', '{1,7,30}');

-- Rates in float8, computed the same way, must be equal, not close.
CREATE FUNCTION pg_temp.wrong(s bigint, e bigint, n bigint, kept bigint, back bigint,
                              active bigint, new bigint, retained bigint, reactivated bigint,
                              retention float8, churn float8, crr float8) RETURNS boolean LANGUAGE sql AS $$
    SELECT active <> e OR new <> n OR retained <> kept OR reactivated <> back
        OR e - n <> kept + back
        OR retention IS DISTINCT FROM CASE WHEN s > 0 THEN 100::float8 * kept / s END
        OR churn IS DISTINCT FROM CASE WHEN s > 0 THEN 100::float8 - 100::float8 * kept / s END
        OR crr IS DISTINCT FROM CASE WHEN s > 0 THEN 100::float8 * (e - n) / s END
        OR (s > 0 AND crr <> retention_rate(s, e, n)) $$;

-- Each accessor called on its own, for every period (also before the first and after the last).
CREATE FUNCTION pg_temp.accessor_mismatches(summ retention_summary, expected regclass, ws int[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
    EXECUTE format($q$
        SELECT count(*) FROM %s AS x
        WHERE x.w = ANY ($2) AND pg_temp.wrong(x.s, x.e, x.n, x.retained, x.reactivated,
                           active_customers($1, x.p, x.w), new_customers($1, x.p),
                           retained_customers($1, x.p, x.w), reactivated_customers($1, x.p, x.w),
                           retention_rate($1, x.p, x.w), churn_rate($1, x.p, x.w), crr($1, x.p, x.w)) $q$, expected)
    INTO bad USING summ, ws;
    RETURN bad;
END $$;

-- retention_by_period: every period from the first to the last, for every W.
CREATE FUNCTION pg_temp.by_period_mismatches(summ retention_summary, expected regclass)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
    EXECUTE format($q$
        WITH x AS (SELECT * FROM %s WHERE p BETWEEN (SELECT min(p) FROM periods($1) p)
                                            AND (SELECT max(p) FROM periods($1) p)),
             y AS (SELECT w, r.* FROM (SELECT DISTINCT w FROM %1$s) ws, retention_by_period($1, ws.w) r)
        SELECT count(*) FROM x FULL JOIN y ON x.p = y.period_start AND x.w = y.w
        WHERE x.p IS NULL OR y.w IS NULL
           OR pg_temp.wrong(x.s, x.e, x.n, x.retained, x.reactivated, y.active_customers, y.new_customers, y.retained_customers,
                            y.reactivated_customers, y.retention_rate, y.churn_rate, y.crr) $q$, expected)
    INTO bad USING summ;
    RETURN bad;
END $$;

SELECT is((SELECT pg_temp.by_period_mismatches(month, 'exp_m') FROM sums), 0::bigint,
          'monthly: retention_by_period equals plain SQL for every month and W in 1, 2, 3, 6, 24');
SELECT is((SELECT pg_temp.accessor_mismatches(month, 'exp_m', '{1,3,24}') FROM sums), 0::bigint,
          'monthly: every accessor equals plain SQL, also outside the data, W in 1, 3, 24');
SELECT is((SELECT pg_temp.by_period_mismatches(week, 'exp_w') FROM sums), 0::bigint,
          'weekly (ISO, Monday): retention_by_period equals plain SQL for W in 1, 2, 4');
SELECT is((SELECT pg_temp.accessor_mismatches(week, 'exp_w', '{2}') FROM sums), 0::bigint,
          'weekly: every accessor equals plain SQL, W = 2');
SELECT is((SELECT pg_temp.by_period_mismatches(quarter, 'exp_q') FROM sums)
          + (SELECT pg_temp.accessor_mismatches(quarter, 'exp_q', '{1,2,4}') FROM sums), 0::bigint,
          'quarterly: retention_by_period and every accessor equal plain SQL for W in 1, 2, 4');
SELECT is((SELECT pg_temp.by_period_mismatches(day, 'exp_d') FROM sums)
          + (SELECT pg_temp.accessor_mismatches(day, 'exp_d', '{7}') FROM sums), 0::bigint,
          'daily: retention_by_period (W in 1, 7, 30) and every accessor (W = 7) equal plain SQL');
SELECT ok((SELECT sum(reactivated) > 1000 AND sum(n) > 10000 FROM exp_m WHERE w = 1),
          'the data has many new and reactivated customers');

SELECT is((SELECT customers(month) FROM sums), (SELECT count(DISTINCT c) FROM pm), 'customers() = count(DISTINCT)');
SELECT is((SELECT customers(week) FROM sums), (SELECT count(DISTINCT c) FROM pw), 'customers() of the weekly summary');
SELECT is((SELECT array(SELECT periods(month)) FROM sums), (SELECT array_agg(DISTINCT p ORDER BY p) FROM pm),
          'periods() lists every month with activity');
SELECT is((SELECT array(SELECT periods(week)) FROM sums), (SELECT array_agg(DISTINCT p ORDER BY p) FROM pw),
          'periods() of the weekly summary: Mondays');
SELECT is((SELECT repeat_customer_rate(month) FROM sums),
          (SELECT 100::float8 * count(*) FILTER (WHERE k >= 2) / count(*) FROM (SELECT c, count(*) AS k FROM pm GROUP BY c) x),
          'repeat_customer_rate() = customers in two or more months / customers');
SELECT is((SELECT retention_period(quarter) FROM sums), 'quarter', 'retention_period()');

-- The same activity with dense ids (1 .. 20000, a bijection of the sparse ones): few buckets,
-- busy enough for the transition's buffered path (radix-sorted batches), same figures.
CREATE TABLE ret_dense AS
SELECT d.n AS customer_id, a.active_on
FROM ret_act a JOIN (SELECT customer_id, dense_rank() OVER (ORDER BY customer_id) AS n
                     FROM (SELECT DISTINCT customer_id FROM ret_act WHERE customer_id IS NOT NULL) x) d
     USING (customer_id);
CREATE TEMP TABLE dense_sums AS
SELECT retention_agg(customer_id, active_on) AS month, retention_agg(customer_id, active_on, 'week') AS week
FROM ret_dense;
-- (version 2: the same bitmaps of positions; sparse ids cost only their dictionary, at most
-- 9 bytes an id)
SELECT ok((SELECT pg_column_size(d.month) < pg_column_size(s.month)
                  AND pg_column_size(s.month) - pg_column_size(d.month) <= 9 * customers(s.month)
           FROM dense_sums d, sums s),
          'dense ids make a smaller summary; sparse ids add at most 9 bytes per customer');
SELECT is((SELECT count(*) FROM (
              SELECT w, r.* FROM generate_series(1, 3) w, retention_by_period((SELECT month FROM dense_sums), w) r
              EXCEPT ALL
              SELECT w, r.* FROM generate_series(1, 3) w, retention_by_period((SELECT month FROM sums), w) r) d),
          0::bigint,
          'dense ids: retention_by_period equals that of the sparse ids, W in 1, 2, 3');
SELECT is((SELECT count(*) FROM (
              SELECT * FROM retention_by_period((SELECT week FROM dense_sums), 2)
              EXCEPT ALL SELECT * FROM retention_by_period((SELECT week FROM sums), 2)) d), 0::bigint,
          'dense ids, weekly: the same figures');
SELECT set_eq('SELECT * FROM cohort_retention((SELECT month FROM dense_sums))',
              'SELECT * FROM cohort_retention((SELECT month FROM sums))', 'dense ids: the same cohort matrix');
SELECT is((SELECT repeat_customer_rate(month) FROM dense_sums), (SELECT repeat_customer_rate(month) FROM sums),
          'dense ids: the same repeat customer rate');
CREATE TEMP TABLE w3000 AS SELECT * FROM ret_dense WHERE active_on < '2023-04-01' ORDER BY active_on, customer_id LIMIT 3000;
SELECT is((SELECT count(*) FROM (
              SELECT active_on, customer_id,
                     customers(retention_agg(customer_id, active_on) OVER (ORDER BY active_on, customer_id)) AS n
              FROM w3000) f
           WHERE n <> (SELECT count(DISTINCT customer_id) FROM w3000 x
                       WHERE (x.active_on, x.customer_id) <= (f.active_on, f.customer_id))), 0::bigint,
          'dense ids: a running window aggregate (flattened between buffered adds)');

-- cohort matrices against SQL
CREATE TEMP TABLE cohort_sql AS
WITH mi AS (SELECT c, p, (extract(year FROM p) * 12 + extract(month FROM p))::int AS i FROM pm),
     firsts AS (SELECT c, min(p) AS f, min(i) AS fidx, max(i) AS lidx FROM mi GROUP BY c),
     sizes AS (SELECT f, fidx, count(*) AS size FROM firsts GROUP BY f, fidx),
     grid AS (SELECT f, fidx, size, k FROM sizes, generate_series(0, (SELECT max(i) FROM mi) - fidx) AS k),
     on_counts AS (SELECT f, i - fidx AS k, count(*) AS n FROM mi JOIN firsts USING (c) GROUP BY 1, 2)
SELECT g.f AS cohort, g.k AS period_offset, g.size AS cohort_size, coalesce(o.n, 0) AS on_active,
       (SELECT count(*) FROM firsts x WHERE x.f = g.f AND x.lidx - x.fidx >= g.k) AS after_active
FROM grid g LEFT JOIN on_counts o USING (f, k);

SELECT set_eq('SELECT cohort, period_offset, cohort_size, active, retention_pct FROM cohort_retention((SELECT month FROM sums))',
              'SELECT cohort, period_offset, cohort_size, on_active, 100::float8 * on_active / cohort_size FROM cohort_sql',
              'cohort matrix, mode on: equals SQL (every cohort and offset, zeros included)');
SELECT set_eq($$SELECT cohort, period_offset, cohort_size, active, retention_pct FROM cohort_retention((SELECT month FROM sums), 'on_or_after')$$,
              'SELECT cohort, period_offset, cohort_size, after_active, 100::float8 * after_active / cohort_size FROM cohort_sql',
              'cohort matrix, mode on_or_after: equals SQL');
SELECT is((SELECT count(*) FROM cohort_retention((SELECT month FROM sums))), 300::bigint,
          'a 24-month matrix has 24 + 23 + ... + 1 = 300 cells');

-- parallel aggregation equals serial, to the text
CREATE TEMP TABLE ser AS
SELECT retention_agg(customer_id, active_on)::text AS m, retention_agg(customer_id, active_on, 'week')::text AS w
FROM ret_act;
CREATE TEMP TABLE ser_dense AS SELECT retention_agg(customer_id, active_on)::text AS m FROM ret_dense;
CREATE TEMP TABLE ser_g AS
SELECT customer_id & 3 AS g, retention_agg(customer_id, active_on)::text AS m FROM ret_act GROUP BY 1;
CREATE TEMP TABLE ser_g1000 AS
SELECT customer_id % 1000 AS g, retention_agg(customer_id, active_on)::text AS m FROM ret_act GROUP BY 1;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
SELECT ok(tap.plan_of('SELECT retention_agg(customer_id, active_on) FROM ret_act') LIKE '%Partial Aggregate%',
          'the parallel plan runs retention_agg partially in workers (combine function)');
SELECT is((SELECT retention_agg(customer_id, active_on)::text FROM ret_act), (SELECT m FROM ser),
          'parallel = serial (monthly, same text)');
SELECT is((SELECT retention_agg(customer_id, active_on, 'week')::text FROM ret_act), (SELECT w FROM ser),
          'parallel = serial (weekly, same text)');
SELECT set_eq('SELECT customer_id & 3, retention_agg(customer_id, active_on)::text FROM ret_act GROUP BY 1',
              'SELECT * FROM ser_g', 'parallel = serial, grouped');
-- Partial states sorted before the Gather Merge: the Sort copies each state (flattens our
-- expanded object) in its tuple context, which cannot free memory from PostgreSQL 17 on.
SET LOCAL work_mem = '1MB';
SELECT ok(tap.plan_of('SELECT customer_id % 1000, retention_agg(customer_id, active_on) FROM ret_act GROUP BY 1')
          LIKE '%Gather Merge%Sort%Partial HashAggregate%',
          'this plan sorts the partial states (Finalize GroupAggregate, Gather Merge, Sort, Partial HashAggregate)');
SELECT set_eq('SELECT customer_id % 1000, retention_agg(customer_id, active_on)::text FROM ret_act GROUP BY 1',
              'SELECT * FROM ser_g1000', 'parallel = serial, grouped, partial states sorted');
RESET work_mem;
SELECT is((SELECT retention_agg(customer_id, active_on)::text FROM ret_dense), (SELECT m FROM ser_dense),
          'parallel = serial with dense ids (same text)');
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- rollup of daily summaries equals the direct aggregate
CREATE TABLE ret_daily AS
SELECT active_on AS day, retention_agg(customer_id, active_on) AS m,
       retention_agg(customer_id, active_on, 'week') AS w
FROM ret_act WHERE active_on IS NOT NULL GROUP BY 1;
SELECT is((SELECT rollup(m)::text FROM ret_daily), (SELECT m FROM ser),
          'rollup of the daily summaries = direct monthly aggregate (same text)');
SELECT is((SELECT rollup(w)::text FROM ret_daily), (SELECT w FROM ser),
          'rollup of daily weekly summaries = direct weekly aggregate');
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT ok(tap.plan_of('SELECT rollup(m) FROM ret_daily') LIKE '%Partial Aggregate%', 'rollup runs in parallel');
SELECT is((SELECT rollup(m)::text FROM ret_daily), (SELECT m FROM ser), 'parallel rollup = direct aggregate');
RESET max_parallel_workers_per_gather;
SELECT is((SELECT count(*) FROM (SELECT date_trunc('month', day) AS mo, rollup(m) AS s FROM ret_daily GROUP BY 1) r
           WHERE s <> (SELECT retention_agg(customer_id, active_on) FROM ret_act
                       WHERE date_trunc('month', active_on) = r.mo)), 0::bigint,
          'monthly rollups of the daily rows equal their direct aggregates');
SELECT is((SELECT merge(a, b) FROM (SELECT rollup(m) FILTER (WHERE day < '2024-01-01') AS a,
                                           rollup(m) FILTER (WHERE day >= '2024-01-01') AS b FROM ret_daily) q),
          (SELECT month FROM sums), 'merge of two halves = the whole');

-- window frames (no inverse: union is not invertible, frames are recomputed)
SELECT is((SELECT count(*) FROM (
              SELECT day, rollup(m) OVER (ORDER BY day RANGE BETWEEN interval '6 days' PRECEDING AND CURRENT ROW) AS s
              FROM ret_daily
              WHERE day < '2023-03-01') f
           WHERE s <> (SELECT retention_agg(customer_id, active_on) FROM ret_act
                       WHERE active_on BETWEEN f.day - 6 AND f.day)), 0::bigint,
          'rollup over a 7-day window frame = recomputation');
CREATE TEMP TABLE w300 AS SELECT * FROM ret_act WHERE active_on < '2023-02-01' ORDER BY active_on LIMIT 300;
SELECT is((SELECT count(*) FROM (
              SELECT active_on, customers(retention_agg(customer_id, active_on) OVER (ORDER BY active_on)) AS n
              FROM w300) f
           WHERE n <> (SELECT count(DISTINCT customer_id) FROM w300 WHERE active_on <= f.active_on)), 0::bigint,
          'retention_agg as a running window aggregate');

-- round trips: text and binary COPY
SELECT ok((SELECT bool_and(m::text::retention_summary = m AND m::text::retention_summary::text = m::text
                           AND w::text::retention_summary = w) FROM ret_daily),
          'text round trip of every daily summary');
SELECT ok((SELECT month::text::retention_summary::text = month::text FROM sums), 'text round trip of the 20k-customer summary');
SELECT lives_ok(format('COPY ret_daily TO %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_ret.bin'),
                'COPY TO binary');
CREATE TEMP TABLE ret_daily2 (LIKE ret_daily);
SELECT lives_ok(format('COPY ret_daily2 FROM %L (FORMAT binary)', '/tmp/cxkpi_tap_' || pg_backend_pid() || '_ret.bin'),
                'COPY FROM binary');
SELECT is((SELECT count(*) FROM ret_daily a JOIN ret_daily2 b USING (day) WHERE a.m = b.m AND a.w = b.w
             AND a.m::text = b.m::text), (SELECT count(*) FROM ret_daily), 'binary round trip gives equal summaries');

-- equality compares sets, not bytes; hashing follows equality
CREATE TEMP VIEW three AS  -- customers 1, 2 and 3 in January: the aggregate's run container vs an array as input
SELECT retention_agg(c, date '2024-01-05') AS canonical,
       format('(v1,period=month,periods={2024-01-01:%s})',
              encode('\x0100000000000000000000803a300000010000000000020010000000010002000300'::bytea, 'base64'))::retention_summary AS given
FROM (VALUES (1), (2), (3)) v(c);
SELECT ok((SELECT canonical = given AND canonical::text = given::text FROM three),
          'an array-encoded set equals the run-encoded aggregate and is stored as runs (a tie: 6 bytes either way)');
SELECT ok((SELECT format('(v1,period=month,periods={2024-01-01:%s})',
                          encode('\x0100000000000000000000803b30000000000000000100'::bytea, 'base64'))::retention_summary
                   = (SELECT retention_agg(1, date '2024-01-05'))),
          'the smallest valid encoding (run cookie, no run container, 15-byte bucket) is accepted');
SELECT ok((SELECT retention_summary_hash(canonical) = retention_summary_hash(given)
                  AND retention_summary_hash_extended(canonical, 7) = retention_summary_hash_extended(given, 7) FROM three),
          'equal summaries hash alike, whatever their bytes');
SELECT ok((SELECT bool_and((retention_summary_hash_extended(m, 0) & 4294967295)
                           = (retention_summary_hash(m)::bigint & 4294967295)) FROM ret_daily),
          'extended hash with seed 0 agrees with the 32-bit hash');
SELECT is((SELECT count(*) FROM (SELECT DISTINCT s FROM (SELECT m AS s FROM ret_daily UNION ALL SELECT m FROM ret_daily) u) d),
          (SELECT count(*) FROM ret_daily), 'DISTINCT on summaries (hash aggregate)');

-- Canonical encoding (docs/retention.md): any valid encoding of a version 1 set is read as the
-- same set (and stored as version 2, printed like the canonical literal); cxkpi's own, the one libroaring 0.2.66 writes (per container: runs when they take no more bytes than
-- the array, or the bitset above 4096 values; the run cookie only with a run container), so
-- equal summaries print the same text on every build.  Customers of January, one container
-- (ids 1 ... 65535: high key 0x80000000, container key 0); `given` is a valid non-canonical
-- encoding, `canon` the expected bytes, written by hand from the format specification.
CREATE TEMP TABLE canon_cases AS
SELECT what, ids,
       format('(v1,period=month,periods={2024-01-01:%s})', replace(encode(given, 'base64'), E'\n', ''))::retention_summary AS s,
       -- printed as version 2, like the canonical version 1 literal
       format('(v1,period=month,periods={2024-01-01:%s})', replace(encode(canon, 'base64'), E'\n', ''))::retention_summary::text
           AS expected,
       given
FROM (VALUES
    ('{1,3} given as a run container (10 bytes), canonical array (4 bytes)',
     ARRAY[1, 3]::bigint[],
     '\x0100000000000000000000803b300000010000010002000100000003000000'::bytea,
     '\x0100000000000000000000803a30000001000000000001001000000001000300'::bytea),
    ('{1,2} given as a run container (6 bytes), canonical array (4 bytes)',
     ARRAY[1, 2]::bigint[],
     '\x0100000000000000000000803b3000000100000100010001000100'::bytea,
     '\x0100000000000000000000803a30000001000000000001001000000001000200'::bytea),
    ('{1..5} given as an array (10 bytes), canonical run container (6 bytes)',
     ARRAY[1, 2, 3, 4, 5]::bigint[],
     '\x0100000000000000000000803a30000001000000000004001000000001000200030004000500'::bytea,
     '\x0100000000000000000000803b3000000100000400010001000400'::bytea),
    ('{1,2,3,5,6} given as an array, a tie (10 bytes either way): canonical run container',
     ARRAY[1, 2, 3, 5, 6]::bigint[],
     '\x0100000000000000000000803a30000001000000000004001000000001000200030005000600'::bytea,
     '\x0100000000000000000000803b300000010000040002000100020005000100'::bytea),
    ('{1..5000} given as a bitset (8192 bytes), canonical run container (6 bytes)',
     ARRAY(SELECT generate_series(1, 5000)::bigint),
     decode('0100000000000000000000803a3000000100000000008713' || '10000000'
            || 'fe' || repeat('ff', 624) || '01' || repeat('00', 8192 - 626), 'hex'),
     '\x0100000000000000000000803b3000000100008713010001008713'::bytea),
    ('{2,4,...,8194} given as 4097 runs (16390 bytes), canonical bitset (8192 bytes)',
     ARRAY(SELECT generate_series(2, 8194, 2)::bigint),
     decode('0100000000000000000000803b30000001' || '0000' || '0010' || '0110'
            || (SELECT string_agg(lpad(to_hex(v & 255), 2, '0') || lpad(to_hex(v >> 8), 2, '0') || '0000', '' ORDER BY v)
                FROM generate_series(2, 8194, 2) v), 'hex'),
     decode('0100000000000000000000803a3000000100000000000010' || '10000000'
            || '54' || repeat('55', 1023) || '05' || repeat('00', 8192 - 1025), 'hex')),
    ('{1..5} as runs with the unused run-flag bits set, canonical flags 0x01',
     ARRAY[1, 2, 3, 4, 5]::bigint[],
     '\x0100000000000000000000803b300000ff00000400010001000400'::bytea,
     '\x0100000000000000000000803b3000000100000400010001000400'::bytea),
    ('{1} given with the run cookie and no run container, canonical cookie 12346',
     ARRAY[1]::bigint[],
     '\x0100000000000000000000803b30000000000000000100'::bytea,
     '\x0100000000000000000000803a3000000100000000000000100000000100'::bytea)
) AS v(what, ids, given, canon);
SELECT is(s::text, expected, 'canonical text of ' || what) FROM canon_cases ORDER BY what;
SELECT ok(s = agg AND s::text = agg::text AND agg::text = expected,
          'equal to the aggregate of the same ids, to the text: ' || what)
FROM canon_cases, LATERAL (SELECT retention_agg(i, date '2024-01-20') AS agg FROM unnest(ids) AS i) q ORDER BY what;
CREATE TEMP TABLE canon_bin (s retention_summary);
SELECT lives_ok(format('COPY canon_bin FROM %L (FORMAT binary)',
                       tap.binary_copy_file('\x0103'::bytea || int4send(1) || date_send('2024-01-01')
                                            || int4send(length(given)) || given)),
                'binary input of a non-canonical set (an array where runs are smaller)')
FROM canon_cases WHERE what LIKE '{1..5} given as an array%';
SELECT is((SELECT s::text FROM canon_bin), (SELECT expected FROM canon_cases WHERE what LIKE '{1..5} given as an array%'),
          'binary input stores the canonical encoding');

-- malformed text: 22P02
SELECT throws_ok(format('SELECT %L::retention_summary', lit), '22P02', NULL, 'text rejected: ' || why)
FROM (VALUES
    ('', 'empty'),
    ('(v1,period=month,periods={}', 'missing bracket'),
    ('(v1,period=month,periods={})x', 'trailing junk'),
    ('(v2,period=month,periods={})', 'version 2'),
    ('(v1,period=Month,periods={})', 'period spelling'),
    ('(v1,period=week,periods={2024-01-02:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})', 'a Tuesday as a week'),
    ('(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA;2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})', 'repeated period'),
    ('(v1,period=month,periods={2024-1-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})', 'short month'),
    ('(v1,period=month,periods={2024-01-01:})', 'no set'),
    ('(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA;})', 'dangling separator'),
    ('(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAA=})', 'truncated set'),
    ('(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEQAAAAAA})', 'wrong container offset'),
    ('(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOzAAAAEAAAMAAgABAAEAAwABAA==})', 'touching runs 1-2, 3-4 (non-canonical)'),
    ('(v01,period=month,periods={})', 'a version with a leading zero'),
    ('(v1,period=month,periods={02024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})', 'a year with a leading zero'),
    ('(v1,period=year,periods={-0000-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA})', 'year -0000'),
    ('(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAAAEAAAAAAA' || chr(10) || '})', 'a line break in the base64')
) AS bad(lit, why);
-- base64 has one spelling per byte string: padded, the unused bits of the last digit zero
-- (ids {1, 2}: 32 bytes, so one padding character after a digit with two unused bits)
SELECT is(t, '(v2,period=month,ids=AgIBAAAAAAAAgAAF,periods={2024-01-01:OjAAAAEAAAAAAAEAEAAAAAAAAQA=})', 'the canonical spelling')
FROM (SELECT retention_agg(g, date '2024-01-01')::text AS t FROM generate_series(1, 2) g) q;
SELECT throws_ok($$SELECT '(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAEAEAAAAAEAAgB=})'::retention_summary$$,
                 '22P02', NULL, 'base64 whose unused bits are not zero');
SELECT throws_ok($$SELECT '(v1,period=month,periods={2024-01-01:AQAAAAAAAAAAAACAOjAAAAEAAAAAAAEAEAAAAAEAAgA})'::retention_summary$$,
                 '22P02', NULL, 'base64 without its padding');

-- malformed binary: 22P03.  The crafted value holds one month, one bucket with three containers:
-- an array {1, 5, 9}, a run 65636..65736 and a bitset (the even values from 131072 to 141070).
-- Byte offsets (0-based) of its send form: header 0-5, period start 6-9, length 10-13, bucket count
-- 14-21, high key 22-25, then the 32-bit bitmap: cookie 26-29, run flags 30, container headers
-- 31-42, array 43-48, run 49-54, bitset 55-8246.
CREATE TEMP TABLE bin_ret (s retention_summary);
-- The value is version 1 (what cxkpi 1.0 sends), written byte by byte: header (version 1, month),
-- one period, its length, one bucket of high key 0x80000000; cookie 12347 + 2 * 65536, run flags
-- 0x02, containers (key, cardinality - 1) 0/2, 1/100, 2/4999; the array, the run 100..200, the
-- bitset of even values (1,250 bytes 0x55).
CREATE TEMP VIEW crafted AS
SELECT '\x0103'::bytea || int4send(1) || date_send('2024-03-01') || int4send(8233)
       || '\x010000000000000000000080'::bytea || '\x3b30020002'::bytea
       || '\x000002000100640002008713'::bytea || '\x010005000900'::bytea || '\x010064006400'::bytea
       || decode(repeat('55', 1250) || repeat('00', 8192 - 1250), 'hex') AS b;
SELECT is((SELECT length(b) FROM crafted), 8247, 'the crafted value has the documented layout');
SELECT lives_ok(format('COPY bin_ret FROM %L (FORMAT binary)', tap.binary_copy_file(b)), 'the crafted value loads') FROM crafted;
SELECT throws_ok(format('COPY bin_ret FROM %L (FORMAT binary)', tap.binary_copy_file(payload)), '22P03', NULL, 'binary rejected: ' || why)
FROM crafted, LATERAL (VALUES
    ('\x'::bytea, 'empty'),
    (substr(b, 1, 5), 'short header'),
    (set_byte(b, 0, 2), 'a version 1 body read as version 2'),
    (set_byte(b, 1, 9), 'unknown period code'),
    (overlay(b placing int4send(-1) from 3 for 4), 'negative period count'),
    (overlay(b placing int4send(2) from 3 for 4), 'period count beyond the data'),
    (overlay(b placing int4send(8798) from 7 for 4), 'period start not a first day'),
    (overlay(b placing date_send('infinity') from 7 for 4), 'infinite period start'),
    (substr(b, 1, length(b) - 1), 'truncated (length claims more than remains)'),
    (overlay(substr(b, 1, length(b) - 1) placing int4send(8232) from 11 for 4), 'truncated bitmap'),
    (b || '\x00'::bytea, 'trailing byte'),
    (overlay(b || '\x00'::bytea placing int4send(8234) from 11 for 4), 'trailing byte inside the set'),
    (overlay(b placing '\xffffffffffffffff'::bytea from 15 for 8), 'huge bucket count'),
    (overlay(b placing '\x0000000000000000'::bytea from 15 for 8), 'no buckets'),
    (set_byte(b, 26, 0), 'bad cookie'),
    (set_byte(b, 30, 0), 'run flags cleared'),
    (set_byte(b, 35, 0), 'container keys out of order'),
    (set_byte(b, 33, 3), 'array cardinality too large'),
    (set_byte(b, 45, 0), 'array not sorted'),
    (set_byte(set_byte(b, 52, 255), 54, 1), 'run past the end of its container'),
    (set_byte(b, 53, 101), 'run cardinality mismatch'),
    (set_byte(b, 55, 87), 'bitset popcount mismatch'),
    (set_byte(b, 42, 0), 'bitset read as an array')
) AS bad(payload, why);
SELECT ok((SELECT count(*) = 1 AND bool_and(s = (SELECT retention_agg(c, date '2024-03-01')
                                                  FROM (SELECT unnest(ARRAY[1, 5, 9]) AS c UNION ALL SELECT generate_series(65636, 65736)
                                                        UNION ALL SELECT generate_series(131072, 141070, 2)) v))
           FROM bin_ret),
          'only the valid binary value was stored, equal to the aggregate of its ids');

-- errors
SELECT throws_ok($$SELECT retention_agg(1, date '2024-01-01', 'fortnight')$$, '22023', NULL, 'unknown period');
SELECT throws_ok($$SELECT retention_agg(c, date '2024-01-01', p) FROM (VALUES (1, 'month'), (2, 'year')) v(c, p)$$,
                 '22023', NULL, 'period changing within a group');
SELECT throws_ok($$SELECT rollup(s) FROM (VALUES ((SELECT retention_agg(1, date '2024-01-01', 'day'))), ((SELECT retention_agg(1, date '2024-01-01')))) v(s)$$,
                 '22000', NULL, 'rollup of summaries with different periods');
SELECT throws_ok($$SELECT retention_agg(1, '-infinity'::date)$$, '22008', NULL, 'infinite activity date');
SELECT throws_ok($$SELECT retention_agg_combine(retention_agg(1, date '2024-01-01', 'month'), retention_agg(1, date '2024-01-01', 'year'))$$,
                 '22023', NULL, 'partial states of one group with different periods (combine function): 22023 as in the transition');
SELECT is((SELECT customers(retention_agg_combine(retention_agg(1, date '2024-01-01', 'month'), retention_agg(2, date '2024-01-31', 'month')))),
          2::bigint, 'the combine function unites partial states');
SELECT is((SELECT retention_period(retention_agg(c, date '2024-01-01', p)) FROM (VALUES (1, 'Quarter'), (2, 'QUARTER'), (3, 'quarter')) v(c, p)),
          'quarter', 'period names ignore case, as date_trunc''s do');
SELECT is((SELECT count(*) FROM cohort_retention((SELECT retention_agg(1, date '2024-01-01', 'week')), 'ON_OR_AFTER')),
          1::bigint, 'cohort modes ignore case');
SELECT throws_ok($$SELECT count(*) FROM cohort_retention((SELECT retention_agg(c, d, 'day') FROM (VALUES (1, date '2000-01-01'), (2, date '5000-01-01')) v(c, d)))$$,
                 '54000', NULL, 'cohort matrix over more than 10^6 periods: 54000, not an allocation failure');
SELECT throws_ok($$SELECT count(*) FROM retention_by_period((SELECT retention_agg(c, d, 'day') FROM (VALUES (1, date '2000-01-01'), (2, date '5000-01-01')) v(c, d)))$$,
                 '54000', NULL, 'retention_by_period over more than 10^6 periods: 54000');
SELECT is((SELECT count(*) FROM retention_by_period((SELECT retention_agg(c, d, 'day') FROM (VALUES (1, date '2000-01-01'), (2, date '2000-01-01' + 999999)) v(c, d)))),
          1000000::bigint, 'retention_by_period up to the limit of 10^6 periods');
SELECT throws_ok($$SELECT new_customers(month, '2024-02-29') FROM sums$$, '22023', NULL, 'a period start that is not a first day');

-- issue 15, item 4: an empty summary has no first and last period; repeat_customer_rate only
-- walks the stored periods (it read index[-1] and an uninitialised index[0], and raised 54000
-- or returned NULL depending on memory)
SELECT is((SELECT count(*) FROM generate_series(1, 200) g
           WHERE repeat_customer_rate(('(v1,period=' || (ARRAY['day', 'week', 'month', 'quarter', 'year'])[1 + g % 5]
                                        || ',periods={})')::retention_summary) IS NOT NULL), 0::bigint,
          'repeat_customer_rate of an empty summary is NULL, every time');
SELECT is((SELECT repeat_customer_rate(retention_agg(c, d, 'day'))
           FROM (VALUES (1, date '2000-01-01'), (1, '5000-01-01'), (2, '5000-01-01')) v(c, d)), 50::float8,
          'repeat_customer_rate of a summary spanning more than 10^6 periods');
-- issue 15, item 8: a small summary whose cohort matrix would be huge is refused before any work
CREATE TEMP TABLE hostile AS
SELECT retention_agg(i, date '2000-01-01' + i * 999, 'day') AS s FROM generate_series(0, 999) AS i;
SELECT ok((SELECT pg_column_size(s) < 60000 FROM hostile), 'the hostile summary is about 52 KB');
SELECT throws_ok('SELECT count(*) FROM cohort_retention((SELECT s FROM hostile))', '54000',
                 'cohort_retention would return 499001500 rows, more than the limit of 10000000',
                 'a cohort matrix of 499,001,500 rows (1,000 one-customer periods 999 days apart): 54000 naming the limit');
SET LOCAL statement_timeout = '5s';
SELECT is((SELECT count(*) FROM (SELECT cohort_retention(s) FROM (SELECT retention_agg(i, date '2000-01-01' + i * 4, 'day') AS s
                                                                   FROM generate_series(0, 1999) AS i) q LIMIT 5) r), 5::bigint,
          'a matrix of 8 million rows returns its first rows at once: one row per call, no materialisation');
SELECT is((SELECT count(*) FROM (SELECT retention_by_period(s) FROM (SELECT retention_agg(c, d, 'day') AS s
                                 FROM (VALUES (1, date '2000-01-01'), (2, date '2000-01-01' + 999999)) v(c, d)) q LIMIT 3) r),
          3::bigint, 'retention_by_period returns its first rows at once');
RESET statement_timeout;

-- Runs of ids that end at 0xFFFF in their 65536-id bucket (consecutive ids crossing 65535):
-- merging, rollup, running windows and parallel finalisation must not crash (libroaring
-- 0.2.66's remove_run_compression overruns on them; cxkpi rebuilds such bitmaps instead).
SELECT is((SELECT customers(rollup(s)) FROM (SELECT retention_agg(g, date '2024-01-05', 'day') AS s
           FROM generate_series(65530, 65540) g) d), 11::bigint, 'rollup over a run ending at 0xFFFF');
SELECT is((SELECT max(c) FROM (SELECT customers(retention_agg(g, date '2024-01-01') OVER (ORDER BY g)) AS c
           FROM generate_series(65520, 65535) g) w), 16::bigint, 'running window over a run ending at 0xFFFF');
SELECT is((SELECT customers(merge(s, s)) FROM (SELECT retention_agg(-g, date '2024-01-20') AS s
           FROM generate_series(1, 64) g) q), 64::bigint, 'merge of a run ending at 0xFFFF (negative ids)');
SELECT is((SELECT customers(rollup(s)) FROM (SELECT retention_agg(g, date '2024-01-05', 'day') AS s
           FROM generate_series(1, 200000) g GROUP BY g / 1000) d), 200000::bigint,
          'rollup of 200 runs, several ending at 0xFFFF with more than 4096 ids');

SELECT * FROM finish();
ROLLBACK;
