
-- ======================================================================================
-- Retention: retention_summary, the exact set of active customer ids per period (day, ISO
-- week, month, quarter, year) in compressed bitmaps (CRoaring); retention, churn, CRR,
-- new and reactivated customers, repeat customers and cohort matrices read from it.
-- ======================================================================================

CREATE TYPE retention_summary;

CREATE FUNCTION retention_summary_in(cstring) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_out(retention_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'retention_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_recv(internal) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_send(retention_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'retention_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The bitmaps are already compressed: stored out of line when large, never pglz'd.
CREATE TYPE retention_summary (
    INPUT = retention_summary_in, OUTPUT = retention_summary_out,
    RECEIVE = retention_summary_recv, SEND = retention_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = external);
COMMENT ON TYPE retention_summary IS
    'Exact set of active customer ids per period (compressed bitmaps). Build with retention_agg(customer_id, active_on [, period]).';

CREATE FUNCTION retention_summary_eq(retention_summary, retention_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'retention_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_ne(retention_summary, retention_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'retention_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_hash(retention_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'retention_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_summary_hash_extended(retention_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = retention_summary, RIGHTARG = retention_summary,
    PROCEDURE = retention_summary_eq, COMMUTATOR = =, NEGATOR = <>,
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = retention_summary, RIGHTARG = retention_summary,
    PROCEDURE = retention_summary_ne, COMMUTATOR = <>, NEGATOR = =,
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS retention_summary_hash_ops DEFAULT FOR TYPE retention_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 retention_summary_hash(retention_summary),
    FUNCTION 2 retention_summary_hash_extended(retention_summary, bigint);

CREATE FUNCTION retention_agg_trans(retention_summary, bigint, date, text) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention_agg_trans(retention_summary, bigint, date) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(retention_summary, retention_summary) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(retention_summary, retention_summary) IS
    'Union of two retention summaries, period by period; NULL on one side returns the other.';
CREATE FUNCTION retention_summary_nonempty(retention_summary) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION retention_agg_combine(retention_summary, retention_summary) RETURNS retention_summary
    AS 'MODULE_PATHNAME', 'retention_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_agg_combine(retention_summary, retention_summary) IS
    'Combine function of retention_agg: merge() of partial states; a period change raises 22023.';
CREATE AGGREGATE retention_agg(customer_id bigint, active_on date, period text) (
    SFUNC = retention_agg_trans, STYPE = retention_summary,
    FINALFUNC = retention_summary_nonempty, COMBINEFUNC = retention_agg_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention_agg(bigint, date, text) IS
    'Builds a retention_summary: the set of active customers per period (day, week, month, quarter, year); NULL rows are skipped.';
CREATE AGGREGATE retention_agg(customer_id bigint, active_on date) (
    SFUNC = retention_agg_trans, STYPE = retention_summary,
    FINALFUNC = retention_summary_nonempty, COMBINEFUNC = retention_agg_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention_agg(bigint, date) IS
    'Builds a monthly retention_summary; NULL rows are skipped.';
CREATE AGGREGATE rollup(retention_summary) (
    SFUNC = merge, STYPE = retention_summary, FINALFUNC = retention_summary_nonempty,
    COMBINEFUNC = merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(retention_summary) IS
    'Merges stored retention summaries (union per period); NULLs are skipped.';

-- accessors: the summary
CREATE FUNCTION customers(retention_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customers(retention_summary) IS 'Distinct customers over all periods.';
CREATE FUNCTION periods(retention_summary) RETURNS SETOF date
    AS 'MODULE_PATHNAME', 'retention_periods' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 24;
COMMENT ON FUNCTION periods(retention_summary) IS
    'First day of every period with at least one active customer, in order.';
CREATE FUNCTION retention_period(retention_summary) RETURNS text
    AS 'MODULE_PATHNAME', 'retention_summary_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_period(retention_summary) IS
    'The period of the summary: day, week, month, quarter or year.';
CREATE FUNCTION repeat_customer_rate(retention_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_repeat_customer_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION repeat_customer_rate(retention_summary) IS
    'Customers active in two or more periods / customers x 100.';

-- accessors: one period p (its first day) and an active window of W periods
CREATE FUNCTION active_customers(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_active_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION active_customers(retention_summary, date, integer) IS
    'Customers active at the end of the period: in any of the active_window periods ending with it.';
CREATE FUNCTION new_customers(retention_summary, period_start date) RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_new_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION new_customers(retention_summary, date) IS
    'Customers whose first activity in the summary falls in the period.';
CREATE FUNCTION retained_customers(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_retained_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retained_customers(retention_summary, date, integer) IS
    'Customers active at the end of the previous period and at the end of this one.';
CREATE FUNCTION reactivated_customers(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'retention_reactivated_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION reactivated_customers(retention_summary, date, integer) IS
    'Customers active at the end of the period, not at the end of the previous one, and seen before: E - N = retained + reactivated.';
CREATE FUNCTION retention_rate(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_retention_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_rate(retention_summary, date, integer) IS
    'Retained customers / customers active at the end of the previous period x 100 (NULL when none were).';
CREATE FUNCTION churn_rate(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_churn_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION churn_rate(retention_summary, date, integer) IS '100 - retention_rate.';
CREATE FUNCTION crr(retention_summary, period_start date, active_window integer DEFAULT 1)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_crr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crr(retention_summary, date, integer) IS
    'Customer retention rate (E - N) / S x 100 (S, E: active at the ends of the previous period and of this one; N: new).';

-- cohorts
CREATE FUNCTION cohort_retention(retention_summary, mode text DEFAULT 'on',
    OUT cohort date, OUT period_offset integer, OUT cohort_size bigint, OUT active bigint,
    OUT retention_pct double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'retention_cohort_retention' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cohort_retention(retention_summary, text) IS
    'Cohort matrix: cohort = period of first activity; active k periods later (mode on) or k or more periods later (mode on_or_after).';

-- the seed formula on counts
CREATE FUNCTION retention_rate(customers_at_start bigint, customers_at_end bigint, new_customers bigint)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'retention_rate_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_rate(bigint, bigint, bigint) IS
    'Customer retention rate (E - N) / S x 100.';

-- every period metric for every period, in one pass
CREATE FUNCTION retention_by_period(retention_summary, active_window integer DEFAULT 1,
    OUT period_start date, OUT active_customers bigint, OUT new_customers bigint,
    OUT retained_customers bigint, OUT reactivated_customers bigint,
    OUT retention_rate double precision, OUT churn_rate double precision, OUT crr double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'retention_by_period' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_by_period(retention_summary, integer) IS
    'Every period from the first to the last with its active, new, retained and reactivated customers, retention, churn and CRR (one pass).';
