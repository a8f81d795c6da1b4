
-- ======================================================================================
-- Returns: return_summary, order-level return counts and exact money sums
-- (one input row per order).
-- ======================================================================================

CREATE TYPE return_summary;

CREATE FUNCTION return_summary_in(cstring) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_out(return_summary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'return_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_recv(internal) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_send(return_summary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'return_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE return_summary (
    INPUT = return_summary_in, OUTPUT = return_summary_out,
    RECEIVE = return_summary_recv, SEND = return_summary_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE return_summary IS
    'Exact returns summary: order, item and return counts and exact money sums. Build with return_agg(items_ordered, items_returned [, order_value, returned_value]).';

CREATE FUNCTION return_summary_eq(return_summary, return_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'return_summary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_ne(return_summary, return_summary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'return_summary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_hash(return_summary) RETURNS integer
    AS 'MODULE_PATHNAME', 'return_summary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_summary_hash_extended(return_summary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (LEFTARG = return_summary, RIGHTARG = return_summary, PROCEDURE = return_summary_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = return_summary, RIGHTARG = return_summary, PROCEDURE = return_summary_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS return_summary_hash_ops DEFAULT FOR TYPE return_summary USING hash AS
    OPERATOR 1 =, FUNCTION 1 return_summary_hash(return_summary),
    FUNCTION 2 return_summary_hash_extended(return_summary, bigint);

CREATE FUNCTION return_agg_trans(return_summary, integer, integer) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_agg_trans(return_summary, integer, integer, numeric, numeric) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_agg_untrans(return_summary, integer, integer) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_agg_untrans(return_summary, integer, integer, numeric, numeric) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_agg_untrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION merge(return_summary, return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION merge(return_summary, return_summary) IS
    'Sum of two returns summaries; NULL on one side returns the other.';
CREATE FUNCTION return_rollup_untrans(return_summary, return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_unmerge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION return_summary_nonempty(return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_summary_nonempty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_rollup_mtrans(return_summary, return_summary) RETURNS return_summary
    AS 'MODULE_PATHNAME', 'return_rollup_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- accessors: counts
CREATE FUNCTION orders(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_orders' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders_with_return(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_with_return' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orders_with_return(return_summary) IS 'Orders with at least one returned item.';
CREATE FUNCTION orders_fully_returned(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_fully_returned' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orders_fully_returned(return_summary) IS 'Orders whose every item was returned.';
CREATE FUNCTION items_ordered(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_items' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION items_returned(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_items_returned' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION valued_orders(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_valued_orders' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION valued_orders(return_summary) IS
    'Orders whose order_value and returned_value were both given: the base of the money sums and averages.';

CREATE FUNCTION valued_orders_with_return(return_summary) RETURNS bigint
    AS 'MODULE_PATHNAME', 'return_summary_valued_with_return' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION valued_orders_with_return(return_summary) IS
    'Valued orders with at least one returned item: the denominator of avg_return_value.';

-- accessors: rates (percent) and money
CREATE FUNCTION return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION return_rate(return_summary) IS
    'Order return rate in percent: orders with at least one returned item / orders x 100.';
CREATE FUNCTION full_return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_full_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION full_return_rate(return_summary) IS
    'Orders whose every item came back / orders x 100.';
CREATE FUNCTION full_return_share(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_full_return_share' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION full_return_share(return_summary) IS
    'Orders whose every item came back / orders with a return x 100.';
CREATE FUNCTION item_return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_item_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION item_return_rate(return_summary) IS 'Items returned / items ordered x 100.';
CREATE FUNCTION value_return_rate(return_summary) RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_value_return_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION value_return_rate(return_summary) IS
    'Returned value / order value x 100, over the valued orders.';
CREATE FUNCTION order_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_order_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_value(return_summary) IS 'Exact sum of order values (NULL without valued orders).';
CREATE FUNCTION returned_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_returned_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION returned_value(return_summary) IS 'Exact sum of returned values (NULL without valued orders).';
CREATE FUNCTION avg_order_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_avg_order_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION avg_order_value(return_summary) IS 'order_value / valued_orders.';
CREATE FUNCTION avg_return_value(return_summary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'return_summary_avg_return_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION avg_return_value(return_summary) IS
    'returned_value / valued orders with a return.';
CREATE FUNCTION return_rate_ci_lower(return_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_rate_ci_lower' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION return_rate_ci_upper(return_summary, confidence double precision DEFAULT 0.95)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'return_summary_rate_ci_upper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION return_rate_ci_lower(return_summary, double precision) IS
    'Lower end of the Wilson interval of the order return rate, in percent.';
COMMENT ON FUNCTION return_rate_ci_upper(return_summary, double precision) IS
    'Upper end of the Wilson interval of the order return rate, in percent.';

-- aggregates
CREATE AGGREGATE return_agg(items_ordered integer, items_returned integer) (
    SFUNC = return_agg_trans, STYPE = return_summary, FINALFUNC = return_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = return_agg_trans, MINVFUNC = return_agg_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE return_agg(integer, integer) IS
    'Builds a return_summary, one row per order; NULL rows are skipped.';
CREATE AGGREGATE return_agg(items_ordered integer, items_returned integer,
                            order_value numeric, returned_value numeric) (
    SFUNC = return_agg_trans, STYPE = return_summary, FINALFUNC = return_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = return_agg_trans, MINVFUNC = return_agg_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE return_agg(integer, integer, numeric, numeric) IS
    'Builds a return_summary with exact money sums; an order with a NULL value is counted without its values.';
CREATE AGGREGATE return_rate(items_ordered integer, items_returned integer) (
    SFUNC = return_agg_trans, STYPE = return_summary, FINALFUNC = return_rate, COMBINEFUNC = merge,
    MSFUNC = return_agg_trans, MINVFUNC = return_agg_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_rate, PARALLEL = SAFE);
COMMENT ON AGGREGATE return_rate(integer, integer) IS
    'Order return rate in percent in one step.';
CREATE AGGREGATE rollup(return_summary) (
    SFUNC = merge, STYPE = return_summary, FINALFUNC = return_summary_nonempty,
    COMBINEFUNC = merge,
    MSFUNC = return_rollup_mtrans, MINVFUNC = return_rollup_untrans, MSTYPE = return_summary,
    MFINALFUNC = return_summary_nonempty, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(return_summary) IS 'Merges stored returns summaries; NULLs are skipped.';
