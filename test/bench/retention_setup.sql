-- Retention benchmark data and queries (run by test/bench/retention.sh; psql variables :rows,
-- :customers and :id_shape).
--
-- activity: :rows deterministic rows over the 24 months of 2023 and 2024 for :customers
-- customers.  Customer c (1 .. :customers) has the id c with id_shape dense (as a serial key
-- gives them), hashint8(c) with hash32 (ids spread over 32 bits; a few customers collide) or
-- hashint8extended(c, 0) with hash64 (spread over the whole bigint range, as hashed or random
-- keys are): the same activity under another id (issue 20).  Customer c starts in a month
-- of its own and is active from then on, more often in its first months (u^2 skew), so the
-- cohorts decay as real ones do; about 10 rows per customer at the defaults.
SET client_min_messages = warning;
CREATE EXTENSION cxkpi;
CREATE EXTENSION pg_prewarm;

CREATE TABLE activity (customer_id bigint NOT NULL, active_on date NOT NULL);
SELECT CASE :'id_shape' WHEN 'dense' THEN 'c' WHEN 'hash32' THEN 'hashint8(c)::bigint'
                        WHEN 'hash64' THEN 'hashint8extended(c, 0)' END AS id_expr
\gset
\echo -n 'loading' :rows 'activity rows for' :customers 'customers, ids' :id_shape '... '
\timing on
INSERT INTO activity
SELECT :id_expr, (date '2023-01-01' + make_interval(months => m))::date + (hashint8(3 * i + 2) & 2147483647) % 28
FROM (SELECT i, 1 + (hashint8(3 * i) & 2147483647) % :customers AS c FROM generate_series(1, :rows::bigint) AS i) r,
     LATERAL (SELECT (hashint8(c + 1000000007) & 2147483647) % 24 AS s) st,
     LATERAL (SELECT s + floor((24 - s) * power((hashint8(3 * i + 1) & 2147483647) / 2147483648.0, 2))::int AS m) mm;
\timing off
\echo 'VACUUM (FREEZE, ANALYZE) and pg_prewarm ...'
VACUUM (FREEZE, ANALYZE) activity;
SELECT pg_prewarm('activity') AS blocks, pg_size_pretty(pg_relation_size('activity')) AS size,
       (SELECT count(DISTINCT customer_id) FROM activity) AS customers,
       (SELECT min(active_on) || ' .. ' || max(active_on) FROM activity) AS dates
\gset
\echo 'activity:' :size 'in' :blocks 'blocks, prewarmed;' :customers 'customers;' :dates

-- The stored summary: built once, as a dashboard would keep it (one row, or one per segment).
CREATE TABLE monthly_summary AS SELECT retention_agg(customer_id, active_on) AS s FROM activity;

-- ------------------------------------------------------------------------------------------
-- The queries.  task: retention (per month: active, new, retained customers and the retention
-- rate, W = 1) or cohorts (the full matrix, mode 'on').  kind: summary (retention_agg over the
-- raw rows, then accessors), stored (accessors on the stored summary), sql_pairs (the general
-- plain SQL: distinct (customer, month) pairs, then a window), sql_masks (plain SQL that
-- knows the 24 months: one 24-bit mask per customer, then one aggregate per month).
-- ------------------------------------------------------------------------------------------
CREATE TABLE bench_query (
    id    serial PRIMARY KEY,
    task  text NOT NULL,
    kind  text NOT NULL,
    label text NOT NULL,
    sql   text NOT NULL
);

-- 24 FILTER aggregates of the mask formulations, one per month (k = 0 is 2023-01).
SELECT string_agg(format('count(*) FILTER (WHERE mask & %s <> 0)', 1 << k), ', ' ORDER BY k) AS m_active,
       string_agg(format('count(*) FILTER (WHERE mask & %s = %s)', (2 << k) - 1, 1 << k), ', ' ORDER BY k) AS m_new,
       string_agg(CASE WHEN k = 0 THEN '0::bigint'
                       ELSE format('count(*) FILTER (WHERE mask & %s = %s)', 3 << (k - 1), 3 << (k - 1)) END,
                  ', ' ORDER BY k) AS m_retained,
       string_agg(format('count(*) FILTER (WHERE f + %s <= 23 AND mask & (1 << (f + %s)) <> 0)', k, k), ', ' ORDER BY k)
           AS m_cohort
FROM generate_series(0, 23) AS k
\gset

INSERT INTO bench_query (task, kind, label, sql) VALUES
('retention', 'summary', 'retention_by_period(retention_agg(...))',
 $q$SELECT period_start, active_customers, new_customers, retained_customers, retention_rate
    FROM retention_by_period((SELECT retention_agg(customer_id, active_on) FROM activity))$q$),
('retention', 'summary_accessors', 'retention_rate(s, p) etc. for each p in periods(s)',
 $q$SELECT p, active_customers(s, p), new_customers(s, p), retained_customers(s, p), retention_rate(s, p)
    FROM (SELECT retention_agg(customer_id, active_on) AS s FROM activity) q, periods(q.s) AS p$q$),
('retention', 'stored', 'retention_by_period(stored summary)',
 $q$SELECT period_start, active_customers, new_customers, retained_customers, retention_rate
    FROM retention_by_period((SELECT s FROM monthly_summary))$q$),
('retention', 'sql_pairs', 'SQL: distinct (customer, month) pairs + lag() window',
 $q$WITH cm AS (SELECT customer_id, date_trunc('month', active_on::timestamp)::date AS m
                FROM activity GROUP BY 1, 2),
         x AS (SELECT m, lag(m) OVER (PARTITION BY customer_id ORDER BY m) AS pm FROM cm),
         g AS (SELECT m, count(*) AS active, count(*) FILTER (WHERE pm IS NULL) AS new,
                      count(*) FILTER (WHERE pm = (m - interval '1 month')::date) AS retained
               FROM x GROUP BY m)
    SELECT m, active, new, retained, 100::float8 * retained / lag(active) OVER (ORDER BY m) FROM g$q$),
('retention', 'sql_masks', 'SQL: 24-bit month mask per customer + 72 FILTER aggregates',
 format($q$WITH masks AS (SELECT bit_or(1 << ((date_part('year', active_on)::int - 2023) * 12
                                              + date_part('month', active_on)::int - 1)) AS mask
                          FROM activity GROUP BY customer_id),
             agg AS (SELECT ARRAY[%s] AS a, ARRAY[%s] AS n, ARRAY[%s] AS r FROM masks)
        SELECT (date '2023-01-01' + make_interval(months => k - 1))::date, a[k], n[k], r[k],
               100::float8 * r[k] / a[k - 1]
        FROM agg, generate_series(1, 24) AS k$q$, :'m_active', :'m_new', :'m_retained')),
('cohorts', 'summary', 'cohort_retention(retention_agg(...))',
 $q$SELECT cohort, period_offset, cohort_size, active, retention_pct
    FROM cohort_retention((SELECT retention_agg(customer_id, active_on) FROM activity))$q$),
('cohorts', 'stored', 'cohort_retention(stored summary)',
 $q$SELECT cohort, period_offset, cohort_size, active, retention_pct
    FROM cohort_retention((SELECT s FROM monthly_summary))$q$),
('cohorts', 'sql_pairs', 'SQL: distinct pairs + min() window + grid',
 $q$WITH cm AS (SELECT customer_id, date_trunc('month', active_on::timestamp)::date AS m
                FROM activity GROUP BY 1, 2),
         fm AS (SELECT m, min(m) OVER (PARTITION BY customer_id) AS f FROM cm),
         cells AS (SELECT f, ((extract(year FROM m) - extract(year FROM f)) * 12
                              + extract(month FROM m) - extract(month FROM f))::int AS k, count(*) AS n
                   FROM fm GROUP BY 1, 2),
         sizes AS (SELECT f, n AS size FROM cells WHERE k = 0),
         last AS (SELECT max(f + make_interval(months => k)) AS l FROM cells)
    SELECT s.f, g.k, s.size, coalesce(c.n, 0), 100::float8 * coalesce(c.n, 0) / s.size
    FROM sizes s CROSS JOIN last
         CROSS JOIN LATERAL generate_series(0, ((extract(year FROM l) - extract(year FROM s.f)) * 12
                                                + extract(month FROM l) - extract(month FROM s.f))::int) AS g(k)
         LEFT JOIN cells c ON c.f = s.f AND c.k = g.k$q$),
('cohorts', 'sql_masks', 'SQL: 24-bit month mask per customer + 24 FILTER aggregates per cohort',
 format($q$WITH masks AS (SELECT bit_or(1 << ((date_part('year', active_on)::int - 2023) * 12
                                              + date_part('month', active_on)::int - 1)) AS mask
                          FROM activity GROUP BY customer_id),
             firsts AS (SELECT mask, round(ln((mask & -mask)::float8) / ln(2))::int AS f FROM masks),
             agg AS (SELECT f, count(*) AS size, ARRAY[%s] AS a FROM firsts GROUP BY f)
        SELECT (date '2023-01-01' + make_interval(months => f))::date, k - 1, size, a[k],
               100::float8 * a[k] / size
        FROM agg, generate_series(1, 24) AS k WHERE k - 1 <= 23 - f$q$, :'m_cohort'));

-- Reference (not compared): the cheapest aggregate over the rows, and building the summary alone.
INSERT INTO bench_query (task, kind, label, sql) VALUES
('reference', 'scan', 'sum(customer_id): the scan floor', 'SELECT sum(customer_id) FROM activity'),
('reference', 'build', 'retention_agg(customer_id, active_on) alone',
 'SELECT pg_column_size(retention_agg(customer_id, active_on)) FROM activity');

\ir common.sql

