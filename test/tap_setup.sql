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

-- Loyalty members and active members of every period of every grain, in plain SQL from the data
-- tables (the definition of docs/data-model.md#loyalty_activity, written independently of the
-- rollups): periods from the one of the first enrolment to the one of the data horizon (the last
-- day with an order, an enrolment or a member activity); members = enrolled by the period's end
-- day (its last day, or the horizon for the period that holds it); active = of those, members
-- with an order or a programme activity on or after enrolling, or their last_active_on, in the
-- active_days days up to the end day (weeks and longer).  Days in the time zone of the setting
-- time_zone.
CREATE FUNCTION tap.loyalty_active_plain(active_days integer)
    RETURNS TABLE (grain text, period_start date, members bigint, active bigint) LANGUAGE plpgsql AS $$
DECLARE
    tz text := (SELECT value FROM cxkpi.settings WHERE key = 'time_zone');
    first_day date;
    last_day date;
BEGIN
    -- every day on which a member was active (indexed, to count the window of each period)
    DROP TABLE IF EXISTS pg_temp.loyalty_plain_days;
    CREATE TEMP TABLE loyalty_plain_days AS
    SELECT o.customer_id, (o.ordered_at AT TIME ZONE tz)::date AS day
    FROM cxkpi.orders AS o JOIN cxkpi.loyalty_members AS m USING (customer_id)
    WHERE (o.ordered_at AT TIME ZONE tz)::date >= m.enrolled_on
    UNION
    SELECT a.customer_id, (a.active_at AT TIME ZONE tz)::date
    FROM cxkpi.loyalty_activity AS a JOIN cxkpi.loyalty_members AS m USING (customer_id)
    WHERE (a.active_at AT TIME ZONE tz)::date >= m.enrolled_on
    UNION
    SELECT customer_id, last_active_on FROM cxkpi.loyalty_members WHERE last_active_on IS NOT NULL;
    CREATE INDEX ON loyalty_plain_days (day);
    ANALYZE loyalty_plain_days;
    first_day := (SELECT min(enrolled_on) FROM cxkpi.loyalty_members);
    last_day := greatest((SELECT max(day) FROM loyalty_plain_days), (SELECT max(enrolled_on) FROM cxkpi.loyalty_members),
                         (SELECT max((ordered_at AT TIME ZONE tz)::date) FROM cxkpi.orders));
    RETURN QUERY
    WITH periods AS (
        SELECT g.grain, p::date AS period_start, least((p + g.len)::date - 1, last_day) AS end_day
        FROM (VALUES ('day', interval '1 day'), ('week', interval '7 days'), ('month', interval '1 month'),
                     ('quarter', interval '3 months'), ('year', interval '1 year')) AS g(grain, len),
             generate_series(date_trunc(g.grain, first_day::timestamp), last_day::timestamp, g.len) AS p)
    SELECT p.grain, p.period_start,
           (SELECT count(*) FROM cxkpi.loyalty_members AS m WHERE m.enrolled_on <= p.end_day),
           CASE WHEN p.grain <> 'day' THEN   -- (the dashboard has no daily active share)
               (SELECT count(DISTINCT d.customer_id) FROM loyalty_plain_days AS d
                WHERE d.day BETWEEN p.end_day - active_days + 1 AND p.end_day) END
    FROM periods AS p;
END $$;

-- The CLV simulation generator (clv_sim.customers), shared with the CLV benchmark.
\ir sim/clv_sim.sql
