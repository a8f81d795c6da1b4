/*
 * returns.c
 *		return_summary: order-level return counts and exact money sums, one
 *		input row per order, with every rate of the returns dashboard.
 *
 * Text form (version 1):
 *	(v1,orders=10,with_return=3,fully_returned=1,items=25,items_returned=4,
 *	 valued_orders=9,valued_with_return=3,order_value=1234.50,returned_value=99.90)
 * `valued_*` count the orders whose two money values were given (the
 * 4-argument form with neither value NULL): the money sums and their averages
 * cover exactly those orders.  Binary form: version byte, scale byte, the
 * seven counters as int8, the two sums as 16-byte big-endian integers in
 * units of 10^-scale; validated exactly like text.
 */
#include "money.h"

#include "access/hash.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#define RETURN_SUMMARY_VERSION	1

typedef struct ReturnSummary
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;
	uint8		scale;			/* decimal places of the two money sums */
	uint16		padding;
	int32		scale_count;	/* moving aggregates only, 0 in every value: see below */
	int64		orders;
	int64		with_return;	/* orders with at least one returned item */
	int64		fully_returned; /* orders whose every item came back */
	int64		items;
	int64		items_returned;
	int64		valued_orders;	/* orders whose values were given */
	int64		valued_with_return; /* ... of which with a return */
	int128		order_value;	/* units of 10^-scale */
	int128		returned_value;
} ReturnSummary;

#define RETURN_SUMMARY_SIZE	sizeof(ReturnSummary)
#define RETURN_COUNTERS		7

#define PG_GETARG_RETURN_SUMMARY(n) \
	return_summary_checked((ReturnSummary *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

static const char *const counter_names[RETURN_COUNTERS] = {
	"orders", "with_return", "fully_returned", "items", "items_returned",
	"valued_orders", "valued_with_return"
};

static int64 *
counters(ReturnSummary *s)
{
	return &s->orders;
}

static ReturnSummary *
return_summary_alloc(MemoryContext cxt)
{
	ReturnSummary *s = MemoryContextAllocZero(cxt, RETURN_SUMMARY_SIZE);

	SET_VARSIZE(s, RETURN_SUMMARY_SIZE);
	s->version = RETURN_SUMMARY_VERSION;
	return s;
}

static ReturnSummary *
return_summary_checked(ReturnSummary *s)
{
	if (unlikely(VARSIZE(s) != RETURN_SUMMARY_SIZE || s->version != RETURN_SUMMARY_VERSION ||
				 s->scale > CX_MONEY_MAX_SCALE))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("return_summary has an unknown layout (size %u, version %d)",
						(unsigned) VARSIZE(s), s->version),
				 errhint("The value was written by a newer cxkpi or is corrupted.")));
	return s;
}

/*
 * The invariants of a summary built from valid orders; checked on text and
 * binary input (`input` is the literal, NULL for binary).
 */
static void
return_summary_validate(const ReturnSummary *s, int sqlstate, const char *input)
{
	const char *t = "return_summary";

	for (int i = 0; i < RETURN_COUNTERS; i++)
		if ((&s->orders)[i] < 0)
			cx_input_error(sqlstate, t, input, "%s is negative.", counter_names[i]);
	if (s->with_return > s->orders)
		cx_input_error(sqlstate, t, input, "with_return exceeds orders.");
	if (s->fully_returned > s->with_return)
		cx_input_error(sqlstate, t, input, "fully_returned exceeds with_return.");
	if (s->items < s->orders)
		cx_input_error(sqlstate, t, input, "items is less than orders (every order has an item).");
	if (s->items_returned > s->items)
		cx_input_error(sqlstate, t, input, "items_returned exceeds items.");
	if (s->items_returned < s->with_return)
		cx_input_error(sqlstate, t, input,
					   "items_returned is less than with_return (every return has an item).");
	if (s->valued_orders > s->orders || s->valued_with_return > s->valued_orders ||
		s->valued_with_return > s->with_return)
		cx_input_error(sqlstate, t, input,
					   "valued_orders and valued_with_return must not exceed orders and with_return.");
	if (s->scale > CX_MONEY_MAX_SCALE)
		cx_input_error(sqlstate, t, input, "Money scale %d exceeds %d.", s->scale, CX_MONEY_MAX_SCALE);
	if (s->order_value < 0 || s->returned_value < 0 || s->returned_value > s->order_value)
		cx_input_error(sqlstate, t, input, "Money sums must satisfy 0 <= returned_value <= order_value.");
	if ((s->valued_orders == 0 && s->order_value != 0) ||
		(s->valued_with_return == 0 && s->returned_value != 0))
		cx_input_error(sqlstate, t, input, "A money sum is non-zero without valued orders.");
}

/* ------------------------------------------------------------ building */

/* Widens the money sums to `scale` decimal places (never narrows them). */
static void
return_summary_widen(ReturnSummary *s, int scale)
{
	if (scale <= s->scale)
		return;
	s->order_value = cx_money_rescale(s->order_value, s->scale, scale);
	s->returned_value = cx_money_rescale(s->returned_value, s->scale, scale);
	s->scale = (uint8) scale;
}

/* Adds (sign = +1) or removes (sign = -1) money amounts at the summary's scale. */
static void
return_summary_add_money(ReturnSummary *s, CxMoney ov, CxMoney rv, int sign)
{
	int			scale;

	return_summary_widen(s, Max(ov.scale, rv.scale));
	if (sign < 0)
	{
		ov.units = -ov.units;
		rv.units = -rv.units;
	}
	scale = s->scale;
	cx_money_add(&s->order_value, &scale, ov);
	cx_money_add(&s->returned_value, &scale, rv);
}

/*
 * The money scale of a window frame.  A frame must print as its
 * recomputation would, and be equal to it, so its scale must be the largest
 * scale of the orders (or summaries) in the frame, also after the one that
 * brought the largest scale has left.  As numeric's moving sum does, the
 * state counts the orders (summaries) at its scale in scale_count: when the
 * count drops to 0 while valued orders remain, the inverse transition
 * returns NULL and PostgreSQL recomputes the frame.  The count lives in
 * bytes that are padding in a stored value; the final function zeroes it.
 */
static inline void
scale_count_add(ReturnSummary *s, int scale)
{
	if (scale == s->scale && s->scale_count < PG_INT32_MAX)
		s->scale_count++;		/* a saturated count never drops to 0 */
}

/* Before widening to `scale`: the items at the new largest scale are the one being added. */
static inline void
scale_count_widen(ReturnSummary *s, int scale)
{
	if (scale > s->scale)
		s->scale_count = 0;
}

/* Whether the frame still knows its scale after removing an item at `scale`. */
static inline bool
scale_count_remove(ReturnSummary *s, int scale)
{
	if (scale == s->scale && s->scale_count > 0 && s->scale_count < PG_INT32_MAX)
		s->scale_count--;
	return s->scale == 0 || s->scale_count > 0;
}

/*
 * A window frame left without valued orders starts its money scale afresh,
 * so that a frame prints as its recomputation would.
 */
static void
return_summary_reset_scale_if_unvalued(ReturnSummary *s)
{
	if (s->valued_orders == 0)
	{
		s->scale = 0;
		s->scale_count = 0;
	}
}

/*
 * Adds one checked order (sign = +1) or removes it (sign = -1).  False when
 * a removal leaves the frame's scale unknown (the caller returns NULL).
 */
static bool
return_summary_apply(ReturnSummary *s, int32 ordered, int32 returned,
					 bool valued, CxMoney ov, CxMoney rv, int sign)
{
	int			oscale = Max(ov.scale, rv.scale);

	s->orders = cx_add_counts(s->orders, sign, "order count");
	s->items = cx_add_counts(s->items, sign * (int64) ordered, "item count");
	if (returned > 0)
	{
		s->with_return = cx_add_counts(s->with_return, sign, "order count");
		s->items_returned = cx_add_counts(s->items_returned, sign * (int64) returned, "item count");
		if (returned == ordered)
			s->fully_returned = cx_add_counts(s->fully_returned, sign, "order count");
	}
	if (!valued)
		return true;
	s->valued_orders = cx_add_counts(s->valued_orders, sign, "order count");
	if (returned > 0)
		s->valued_with_return = cx_add_counts(s->valued_with_return, sign, "order count");
	if (sign > 0)
		scale_count_widen(s, oscale);
	return_summary_add_money(s, ov, rv, sign);
	if (sign > 0)
		scale_count_add(s, oscale);
	return_summary_reset_scale_if_unvalued(s);
	return sign > 0 || s->valued_orders == 0 || scale_count_remove(s, oscale);
}

static void
check_items(int32 ordered, int32 returned)
{
	if (ordered < 1 || returned < 0 || returned > ordered)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid order: items_ordered = %d, items_returned = %d", ordered, returned),
				 errhint("An order has items_ordered >= 1 and 0 <= items_returned <= items_ordered.")));
}

/*
 * order_value >= 0, 0 <= returned_value <= order_value, and no returned
 * value without a returned item; a value that is not given (NULL) is left
 * out of the checks that involve it.
 */
static void
check_values(int32 returned, CxMoney ov, CxMoney rv, bool have_ov, bool have_rv)
{
	if ((have_ov && ov.units < 0) ||
		(have_rv && (rv.units < 0 || (returned == 0 && rv.units != 0))) ||
		(have_ov && have_rv && rv.units > 0 && cx_money_cmp(rv, ov) > 0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid order values: order_value = %s, returned_value = %s",
						have_ov ? cx_money_to_cstring(ov.units, ov.scale) : "NULL",
						have_rv ? cx_money_to_cstring(rv.units, rv.scale) : "NULL"),
				 errhint("An order has order_value >= 0 and 0 <= returned_value <= order_value; "
						 "returned_value is 0 when no item was returned.")));
}

/*
 * Shared body of the transition (sign = +1) and inverse transition
 * (sign = -1) functions of both return_agg forms.
 */
static Datum
return_agg_step(FunctionCallInfo fcinfo, int sign)
{
	MemoryContext aggctx;
	ReturnSummary *s;
	int32		ordered,
				returned;
	bool		valued = false;
	CxMoney		ov = {0, 0},
				rv = {0, 0};

	int			context = AggCheckCallContext(fcinfo, &aggctx);

	if (!context)
		cx_not_in_aggregate(fcinfo);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		/* a skipped row; window frames need a state even before the first order */
		if (!PG_ARGISNULL(0))
			PG_RETURN_DATUM(PG_GETARG_DATUM(0));
		if (context == AGG_CONTEXT_WINDOW && sign > 0)
			PG_RETURN_POINTER(return_summary_alloc(aggctx));
		PG_RETURN_NULL();
	}
	ordered = PG_GETARG_INT32(1);
	returned = PG_GETARG_INT32(2);
	check_items(ordered, returned);
	if (PG_NARGS() > 3)
	{
		/* each given value is checked, even when the other is NULL */
		if (!PG_ARGISNULL(3))
			ov = cx_money_from_numeric(PG_GETARG_DATUM(3), "order_value");
		if (!PG_ARGISNULL(4))
			rv = cx_money_from_numeric(PG_GETARG_DATUM(4), "returned_value");
		valued = !PG_ARGISNULL(3) && !PG_ARGISNULL(4);
		check_values(returned, ov, rv, !PG_ARGISNULL(3), !PG_ARGISNULL(4));
	}
	if (PG_ARGISNULL(0))
	{
		if (sign < 0)
			PG_RETURN_NULL();	/* nothing to remove from: restart the frame */
		s = return_summary_alloc(aggctx);
	}
	else
		s = (ReturnSummary *) PG_GETARG_POINTER(0);
	if (!return_summary_apply(s, ordered, returned, valued, ov, rv, sign))
		PG_RETURN_NULL();		/* the frame's scale is unknown: PostgreSQL recomputes it */
	PG_RETURN_POINTER(s);
}

/*
 * Counts one valid order (the fast paths below); true on counter overflow.
 */
static inline bool
count_order_fast(ReturnSummary *s, int32 ordered, int32 returned, bool valued)
{
	bool		overflow;

	overflow = pg_add_s64_overflow(s->orders, 1, &s->orders) |
		pg_add_s64_overflow(s->items, ordered, &s->items) |
		pg_add_s64_overflow(s->valued_orders, valued, &s->valued_orders);
	if (returned > 0)
		overflow |= pg_add_s64_overflow(s->with_return, 1, &s->with_return) |
			pg_add_s64_overflow(s->items_returned, returned, &s->items_returned) |
			pg_add_s64_overflow(s->fully_returned, returned == ordered, &s->fully_returned) |
			pg_add_s64_overflow(s->valued_with_return, valued, &s->valued_with_return);
	return overflow;
}

/*
 * return_agg transition.  The common row (an existing state, a valid order,
 * no NULL, money already at the summary's scale) takes a short path of plain
 * additions; everything else, first rows and errors included, goes through
 * return_agg_step, which applies the same rules in full.
 */
PG_FUNCTION_INFO_V1(return_agg_trans);
Datum
return_agg_trans(PG_FUNCTION_ARGS)
{
	ReturnSummary *s;
	int32		ordered,
				returned;

	if (unlikely(PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) ||
		unlikely(!cx_in_aggregate(fcinfo)))
		return return_agg_step(fcinfo, 1);
	s = (ReturnSummary *) PG_GETARG_POINTER(0);
	ordered = PG_GETARG_INT32(1);
	returned = PG_GETARG_INT32(2);
	if (unlikely(ordered < 1 || returned < 0 || returned > ordered))
		return return_agg_step(fcinfo, 1);
	if (PG_NARGS() == 3)
	{
		if (unlikely(count_order_fast(s, ordered, returned, false)))
			cx_counter_overflow("order count");
		PG_RETURN_POINTER(s);
	}
	if (likely(!PG_ARGISNULL(3) && !PG_ARGISNULL(4)))
	{
		CxMoney		ov = cx_money_from_numeric(PG_GETARG_DATUM(3), "order_value");
		CxMoney		rv = cx_money_from_numeric(PG_GETARG_DATUM(4), "returned_value");

		/* values with fewer decimals than the sums (a plain 0, say) are widened */
		if (unlikely(ov.scale < s->scale && ov.units != 0))
			ov.units = cx_money_rescale(ov.units, ov.scale, s->scale);
		if (unlikely(rv.scale < s->scale && rv.units != 0))
			rv.units = cx_money_rescale(rv.units, rv.scale, s->scale);
		if (likely(ov.scale <= s->scale && rv.scale <= s->scale &&
				   ov.units >= 0 && rv.units >= 0 && rv.units <= ov.units &&
				   (returned > 0 || rv.units == 0)))
		{
			if (unlikely(count_order_fast(s, ordered, returned, true) |
						 __builtin_add_overflow(s->order_value, ov.units, &s->order_value) |
						 __builtin_add_overflow(s->returned_value, rv.units, &s->returned_value)))
				cx_counter_overflow("order count or money sum");
			scale_count_add(s, Max(ov.scale, rv.scale));
			PG_RETURN_POINTER(s);
		}
	}
	return return_agg_step(fcinfo, 1);
}

PG_FUNCTION_INFO_V1(return_agg_untrans);
Datum
return_agg_untrans(PG_FUNCTION_ARGS)
{
	return return_agg_step(fcinfo, -1);
}

/* ------------------------------------------------------------ merging */

/*
 * dst += src (sign = +1) or dst -= src (sign = -1).  The scale of a merge is
 * the larger one, whether or not src has valued orders, so a frame of
 * summaries keeps the largest scale among them; false when a removal leaves
 * it unknown (see scale_count_add).
 */
static bool
return_summary_merge_into(ReturnSummary *dst, const ReturnSummary *src, int sign)
{
	CxMoney		ov = {src->order_value, src->scale};
	CxMoney		rv = {src->returned_value, src->scale};

	for (int i = 0; i < RETURN_COUNTERS; i++)
	{
		int64		v = (&src->orders)[i];

		counters(dst)[i] = cx_add_counts(counters(dst)[i], sign > 0 ? v : -v, "merged count");
	}
	if (sign > 0)
		scale_count_widen(dst, src->scale);
	return_summary_add_money(dst, ov, rv, sign);
	if (sign > 0)
	{
		scale_count_add(dst, src->scale);
		return true;
	}
	return scale_count_remove(dst, src->scale);
}

/* merge(a, b), the combine function and rollup's transition (see score_summary_combine). */
PG_FUNCTION_INFO_V1(return_summary_combine);
Datum
return_summary_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	ReturnSummary *dst;
	ReturnSummary *src;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	src = PG_GETARG_RETURN_SUMMARY(1);
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(src); /* the executor copies it into the aggregate context */
	if (AggCheckCallContext(fcinfo, &aggctx))
		dst = (ReturnSummary *) PG_GETARG_POINTER(0);
	else
	{
		dst = palloc(RETURN_SUMMARY_SIZE);
		memcpy(dst, PG_GETARG_RETURN_SUMMARY(0), RETURN_SUMMARY_SIZE);
		return_summary_merge_into(dst, src, 1);
		dst->scale_count = 0;	/* a value, not a frame */
		PG_RETURN_POINTER(dst);
	}
	return_summary_merge_into(dst, src, 1);
	PG_RETURN_POINTER(dst);
}

/*
 * Moving-mode transition of rollup(): merge(), except that a frame starting
 * with NULL summaries gets an empty state (moving transitions must not
 * return NULL).
 */
PG_FUNCTION_INFO_V1(return_rollup_mtrans);
Datum
return_rollup_mtrans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	ReturnSummary *s;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	s = PG_ARGISNULL(0) ? return_summary_alloc(aggctx) : (ReturnSummary *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
		return_summary_merge_into(s, PG_GETARG_RETURN_SUMMARY(1), 1);
	PG_RETURN_POINTER(s);
}

/* Inverse of rollup's transition, for window frames. */
PG_FUNCTION_INFO_V1(return_summary_unmerge);
Datum
return_summary_unmerge(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	ReturnSummary *dst;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	dst = (ReturnSummary *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1) && !return_summary_merge_into(dst, PG_GETARG_RETURN_SUMMARY(1), -1))
		PG_RETURN_NULL();		/* the frame's scale is unknown: PostgreSQL recomputes it */
	PG_RETURN_POINTER(dst);
}

/* Final function of the build aggregates and rollup: an empty summary gives NULL. */
PG_FUNCTION_INFO_V1(return_summary_nonempty);
Datum
return_summary_nonempty(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	if (s->orders == 0)
		PG_RETURN_NULL();
	if (s->scale_count != 0)
	{
		/* the value without the frame's count (a moving state must not change here) */
		ReturnSummary *v = palloc(RETURN_SUMMARY_SIZE);

		memcpy(v, s, RETURN_SUMMARY_SIZE);
		v->scale_count = 0;
		PG_RETURN_POINTER(v);
	}
	PG_RETURN_POINTER(s);
}

/* ------------------------------------------------------------ text I/O */

static void
scan_counter(CxScanner *sc, const char *name, int64 *out)
{
	char		key[40];

	snprintf(key, sizeof(key), ",%s=", name);
	cx_scan_expect(sc, key);
	*out = cx_scan_int64(sc, name);
}

static void
scan_money(CxScanner *sc, const char *name, int128 *units, int *scale)
{
	char		key[40];
	const char *start;

	snprintf(key, sizeof(key), ",%s=", name);
	cx_scan_expect(sc, key);
	start = sc->pos;
	while (*sc->pos == '-' || *sc->pos == '.' || (*sc->pos >= '0' && *sc->pos <= '9'))
		sc->pos++;
	if (!cx_money_parse(start, sc->pos - start, units, scale) ||
		(*sc->pos != ',' && *sc->pos != ')'))
	{
		sc->pos = start;
		cx_scan_fail(sc, "Expected a decimal number in canonical form (no leading zero, no -0, 1 to %d digits after an optional point) for %s", CX_MONEY_MAX_SCALE, name);
	}
}

PG_FUNCTION_INFO_V1(return_summary_in);
Datum
return_summary_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	CxScanner	sc;
	ReturnSummary *s = return_summary_alloc(CurrentMemoryContext);
	int64		version;
	int128		ov,
				rv;
	int			ovs,
				rvs;

	cx_scan_init(&sc, str, "return_summary");
	cx_scan_expect(&sc, "(v");
	version = cx_scan_int64(&sc, "version");
	if (version != RETURN_SUMMARY_VERSION)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, "return_summary", str,
					   "Unknown format version " INT64_FORMAT "; this cxkpi reads version %d.",
					   version, RETURN_SUMMARY_VERSION);
	for (int i = 0; i < RETURN_COUNTERS; i++)
		scan_counter(&sc, counter_names[i], &counters(s)[i]);
	scan_money(&sc, "order_value", &ov, &ovs);
	scan_money(&sc, "returned_value", &rv, &rvs);
	cx_scan_expect(&sc, ")");
	cx_scan_end(&sc);
	if (ovs != rvs)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, "return_summary", str,
					   "order_value and returned_value must have the same number of decimal places.");
	s->scale = (uint8) ovs;
	s->order_value = ov;
	s->returned_value = rv;
	return_summary_validate(s, ERRCODE_INVALID_TEXT_REPRESENTATION, str);
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(return_summary_out);
Datum
return_summary_out(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "(v%d", RETURN_SUMMARY_VERSION);
	for (int i = 0; i < RETURN_COUNTERS; i++)
		appendStringInfo(&buf, ",%s=" INT64_FORMAT, counter_names[i], counters(s)[i]);
	appendStringInfo(&buf, ",order_value=%s,returned_value=%s)",
					 cx_money_to_cstring(s->order_value, s->scale),
					 cx_money_to_cstring(s->returned_value, s->scale));
	PG_RETURN_CSTRING(buf.data);
}

/* ------------------------------------------------------------ binary I/O */

PG_FUNCTION_INFO_V1(return_summary_send);
Datum
return_summary_send(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RETURN_SUMMARY_VERSION);
	pq_sendbyte(&buf, s->scale);
	for (int i = 0; i < RETURN_COUNTERS; i++)
		pq_sendint64(&buf, counters(s)[i]);
	cx_money_send_units(&buf, s->order_value);
	cx_money_send_units(&buf, s->returned_value);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

#define RETURN_WIRE_SIZE	(2 + 8 * RETURN_COUNTERS + 2 * 16)

PG_FUNCTION_INFO_V1(return_summary_recv);
Datum
return_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	ReturnSummary *s;
	int			remaining = buf->len - buf->cursor;
	int			version;

	if (remaining < 1)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, "return_summary", NULL,
					   "The value is empty.");
	version = pq_getmsgbyte(buf);
	if (version != RETURN_SUMMARY_VERSION)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, "return_summary", NULL,
					   "Unknown format version %d; this cxkpi reads version %d.",
					   version, RETURN_SUMMARY_VERSION);
	if (remaining != RETURN_WIRE_SIZE)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, "return_summary", NULL,
					   "Expected %d bytes, found %d.", RETURN_WIRE_SIZE, remaining);
	s = return_summary_alloc(CurrentMemoryContext);
	s->scale = pq_getmsgbyte(buf);
	for (int i = 0; i < RETURN_COUNTERS; i++)
		counters(s)[i] = pq_getmsgint64(buf);
	s->order_value = cx_money_recv_units(buf);
	s->returned_value = cx_money_recv_units(buf);
	return_summary_validate(s, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
	PG_RETURN_POINTER(s);
}

/* ------------------------------------------------------------ equality, hash */

/* Brings both sums to the smallest scale that holds them (10.50 and 10.5 are one value). */
static void
normalized(const ReturnSummary *s, int128 *ov, int128 *rv, int *scale)
{
	*ov = s->order_value;
	*rv = s->returned_value;
	*scale = s->scale;
	while (*scale > 0 && *ov % 10 == 0 && *rv % 10 == 0)
	{
		*ov /= 10;
		*rv /= 10;
		(*scale)--;
	}
}

/*
 * Equal values print the same text: the counters, the money scale and the
 * sums are all equal (10.50 and 10.5 are different values, as their text
 * and order_value() show).  The hash functions hash the normalised sums,
 * which equal values share too, so hash indexes made by 1.0, whose equality
 * ignored the scale, stay valid.
 */
static bool
return_summary_equal(const ReturnSummary *a, const ReturnSummary *b)
{
	return memcmp(&a->orders, &b->orders, RETURN_COUNTERS * sizeof(int64)) == 0 &&
		a->scale == b->scale && a->order_value == b->order_value &&
		a->returned_value == b->returned_value;
}

PG_FUNCTION_INFO_V1(return_summary_eq);
Datum
return_summary_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(return_summary_equal(PG_GETARG_RETURN_SUMMARY(0), PG_GETARG_RETURN_SUMMARY(1)));
}

PG_FUNCTION_INFO_V1(return_summary_ne);
Datum
return_summary_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!return_summary_equal(PG_GETARG_RETURN_SUMMARY(0), PG_GETARG_RETURN_SUMMARY(1)));
}

PG_FUNCTION_INFO_V1(return_summary_hash);
Datum
return_summary_hash(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);
	int128		v[2];
	int			scale;
	uint32		h;

	normalized(s, &v[0], &v[1], &scale);
	h = hash_bytes((const unsigned char *) &s->orders, RETURN_COUNTERS * sizeof(int64));
	h = hash_combine(h, hash_bytes((const unsigned char *) v, sizeof(v)));
	PG_RETURN_UINT32(hash_combine(h, scale));
}

/* 64-bit seeded hash (hash partitioning on a summary column). */
PG_FUNCTION_INFO_V1(return_summary_hash_extended);
Datum
return_summary_hash_extended(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);
	uint64		seed = (uint64) PG_GETARG_INT64(1);
	int128		v[2];
	int			scale;
	uint64		h;

	normalized(s, &v[0], &v[1], &scale);
	h = hash_bytes_extended((const unsigned char *) &s->orders, RETURN_COUNTERS * sizeof(int64), seed);
	h = hash_combine64(h, hash_bytes_extended((const unsigned char *) v, sizeof(v), seed));
	return UInt64GetDatum(hash_combine64(h, scale));
}

/* ------------------------------------------------------------ accessors */

#define COUNT_ACCESSOR(fn, field) \
PG_FUNCTION_INFO_V1(fn); \
Datum fn(PG_FUNCTION_ARGS) { PG_RETURN_INT64(PG_GETARG_RETURN_SUMMARY(0)->field); }

COUNT_ACCESSOR(return_summary_orders, orders)
COUNT_ACCESSOR(return_summary_with_return, with_return)
COUNT_ACCESSOR(return_summary_fully_returned, fully_returned)
COUNT_ACCESSOR(return_summary_items, items)
COUNT_ACCESSOR(return_summary_items_returned, items_returned)
COUNT_ACCESSOR(return_summary_valued_orders, valued_orders)
COUNT_ACCESSOR(return_summary_valued_with_return, valued_with_return)

/* A percentage num / den x 100; NULL when den is 0. */
static Datum
percent(FunctionCallInfo fcinfo, int64 num, int64 den)
{
	if (den == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (double) num / (double) den);
}

PG_FUNCTION_INFO_V1(return_summary_return_rate);
Datum
return_summary_return_rate(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	return percent(fcinfo, s->with_return, s->orders);
}

PG_FUNCTION_INFO_V1(return_summary_full_return_rate);
Datum
return_summary_full_return_rate(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	return percent(fcinfo, s->fully_returned, s->orders);
}

/* Full returns among orders with a return (methodology section 5), percent. */
PG_FUNCTION_INFO_V1(return_summary_full_return_share);
Datum
return_summary_full_return_share(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	return percent(fcinfo, s->fully_returned, s->with_return);
}

PG_FUNCTION_INFO_V1(return_summary_item_return_rate);
Datum
return_summary_item_return_rate(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	return percent(fcinfo, s->items_returned, s->items);
}

/* returned value / order value x 100, over the valued orders. */
PG_FUNCTION_INFO_V1(return_summary_value_return_rate);
Datum
return_summary_value_return_rate(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	if (s->valued_orders == 0 || s->order_value == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * ((long double) s->returned_value / (long double) s->order_value));
}

static Datum
money_sum(FunctionCallInfo fcinfo, int128 units)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	if (s->valued_orders == 0)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(cx_money_to_numeric(units, s->scale));
}

PG_FUNCTION_INFO_V1(return_summary_order_value);
Datum
return_summary_order_value(PG_FUNCTION_ARGS)
{
	return money_sum(fcinfo, PG_GETARG_RETURN_SUMMARY(0)->order_value);
}

PG_FUNCTION_INFO_V1(return_summary_returned_value);
Datum
return_summary_returned_value(PG_FUNCTION_ARGS)
{
	return money_sum(fcinfo, PG_GETARG_RETURN_SUMMARY(0)->returned_value);
}

/* An exact money average, as numeric division (sum / count) does it. */
static Datum
money_avg(FunctionCallInfo fcinfo, int128 units, int scale, int64 count)
{
	if (count == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_div,
										NumericGetDatum(cx_money_to_numeric(units, scale)),
										NumericGetDatum(int64_to_numeric(count))));
}

PG_FUNCTION_INFO_V1(return_summary_avg_order_value);
Datum
return_summary_avg_order_value(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	return money_avg(fcinfo, s->order_value, s->scale, s->valued_orders);
}

PG_FUNCTION_INFO_V1(return_summary_avg_return_value);
Datum
return_summary_avg_return_value(PG_FUNCTION_ARGS)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);

	return money_avg(fcinfo, s->returned_value, s->scale, s->valued_with_return);
}

/* Wilson interval of the order return rate, in percent (the order is the trial). */
static Datum
return_rate_interval(FunctionCallInfo fcinfo, bool upper)
{
	ReturnSummary *s = PG_GETARG_RETURN_SUMMARY(0);
	double		z = cx_z_for_confidence(PG_GETARG_FLOAT8(1));
	double		lo,
				hi;

	if (s->orders == 0)
		PG_RETURN_NULL();
	cx_wilson_interval((double) s->with_return, (double) s->orders, z, &lo, &hi);
	PG_RETURN_FLOAT8(100.0 * (upper ? hi : lo));
}

PG_FUNCTION_INFO_V1(return_summary_rate_ci_lower);
Datum
return_summary_rate_ci_lower(PG_FUNCTION_ARGS)
{
	return return_rate_interval(fcinfo, false);
}

PG_FUNCTION_INFO_V1(return_summary_rate_ci_upper);
Datum
return_summary_rate_ci_upper(PG_FUNCTION_ARGS)
{
	return return_rate_interval(fcinfo, true);
}
