/*
 * rfm.c
 *		rfm_agg(purchased_on, amount, observation_end [, unit_days]): the RFM
 *		summary of one customer's transactions, with the lifetimes conventions
 *		(clv-models.md section 1): purchases on one day are one purchase
 *		occasion with the day's amounts summed; frequency = distinct purchase
 *		days after the first; recency = first to last purchase day; t = first
 *		purchase day to observation_end, both in units of unit_days days;
 *		monetary_value = mean of the repeat days' totals (0 without repeats).
 *		Rows after observation_end are ignored.
 *
 * The state keeps the distinct purchase days (sorted, as day numbers), the
 * first day's total and the total of all other days as exact decimal sums,
 * so that days may arrive in any order and partial states merge exactly.
 */
#include "clv.h"
#include "money.h"

#include <math.h>

#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/date.h"

typedef struct RfmState
{
	DateADT		obs_end;
	double		unit;			/* days per time unit */
	int64		rows;			/* transactions up to obs_end */
	int32		ndays;			/* entries in days[] */
	int32		nsorted;		/* days[0 .. nsorted) are distinct and ascending */
	int32		cap;
	DateADT    *days;			/* purchase days: a sorted prefix, then an unsorted tail */
	DateADT		first_day;		/* the earliest day (valid when ndays > 0) */
	int128		first_units;	/* total of the first day, 10^-first_scale units */
	int			first_scale;
	int128		rest_units;		/* total of the other days */
	int			rest_scale;
} RfmState;

static void
rfm_check_unit(double unit)
{
	if (!(unit > 0) || isinf(unit))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid unit_days %g", unit),
				 errdetail("unit_days is the number of days in one time unit (7 for weeks) and must be positive and finite.")));
}

static void
rfm_check_same(RfmState *st, DateADT obs, double unit)
{
	if (st->obs_end != obs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("observation_end changes within one aggregate group, from %s to %s",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(st->obs_end))),
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(obs)))),
				 errhint("Pass one constant observation_end per group.")));
	if (st->unit != unit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unit_days changes within one aggregate group, from %g to %g", st->unit, unit),
				 errhint("Pass one constant unit_days per group.")));
}

static RfmState *
rfm_state_new(MemoryContext cxt, DateADT obs, double unit)
{
	RfmState   *st = MemoryContextAllocZero(cxt, sizeof(RfmState));

	st->obs_end = obs;
	st->unit = unit;
	return st;
}

static int
cmp_date(const void *x, const void *y)
{
	DateADT		u = *(const DateADT *) x,
				v = *(const DateADT *) y;

	return u < v ? -1 : (u > v ? 1 : 0);
}

/* Sorts the days and removes duplicates, so that days[0 .. ndays) are distinct and ascending. */
static void
rfm_compact(RfmState *st)
{
	int32		k = 0;

	if (st->nsorted == st->ndays)
		return;
	qsort(st->days, st->ndays, sizeof(DateADT), cmp_date);
	for (int32 i = 0; i < st->ndays; i++)
		if (k == 0 || st->days[i] != st->days[k - 1])
			st->days[k++] = st->days[i];
	st->ndays = st->nsorted = k;
}

/*
 * Adds `day`: appended to the sorted prefix when days come in order (the
 * usual case), else to an unsorted tail that is sorted and merged once it
 * is as long as the prefix, so that any order costs O(n log n) in all.
 */
static void
rfm_add_day(RfmState *st, DateADT day, MemoryContext cxt)
{
	bool		in_order = st->nsorted == st->ndays;

	if (in_order && st->ndays > 0 && day == st->days[st->ndays - 1])
		return;
	if (st->ndays == st->cap)
	{
		st->cap = st->cap ? st->cap * 2 : 8;
		st->days = st->days ? repalloc(st->days, st->cap * sizeof(DateADT))
			: MemoryContextAlloc(cxt, st->cap * sizeof(DateADT));
	}
	st->days[st->ndays++] = day;
	if (in_order && (st->ndays == 1 || day > st->days[st->ndays - 2]))
		st->nsorted = st->ndays;
	else if (st->ndays - st->nsorted > Max(64, st->nsorted))
		rfm_compact(st);
}

/*
 * Adds an amount on `day` (before the day is recorded): it joins the first
 * day's total, or the rest; a new earliest day moves the old first total to
 * the rest.
 */
static void
rfm_add_amount(RfmState *st, DateADT day, CxMoney amt)
{
	if (st->ndays == 0 || day < st->first_day)
	{
		if (st->ndays > 0)
		{
			CxMoney		old = {st->first_units, st->first_scale};

			cx_money_add(&st->rest_units, &st->rest_scale, old);
		}
		st->first_units = amt.units;
		st->first_scale = amt.scale;
		st->first_day = day;
	}
	else if (day == st->first_day)
		cx_money_add(&st->first_units, &st->first_scale, amt);
	else
		cx_money_add(&st->rest_units, &st->rest_scale, amt);
}

static void
rfm_add_row(RfmState *st, DateADT day, CxMoney amt, MemoryContext cxt)
{
	rfm_add_amount(st, day, amt);
	rfm_add_day(st, day, cxt);
	st->rows = cx_add_counts(st->rows, 1, "transaction count");
}

/* Transition: (state, purchased_on, amount, observation_end [, unit_days]); NULL rows skipped. */
PG_FUNCTION_INFO_V1(rfm_agg_trans);
Datum
rfm_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	RfmState   *st;
	DateADT		day,
				obs;
	double		unit = 7;
	CxMoney		amt;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	st = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	for (int i = 1; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
		{
			if (st == NULL)
				PG_RETURN_NULL();
			PG_RETURN_POINTER(st);
		}
	day = PG_GETARG_DATEADT(1);
	obs = PG_GETARG_DATEADT(3);
	if (PG_NARGS() > 4)
		unit = PG_GETARG_FLOAT8(4);
	if (DATE_NOT_FINITE(day) || DATE_NOT_FINITE(obs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rfm_agg needs finite dates"),
				 errdetail("purchased_on = %s, observation_end = %s.",
						   DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(day))),
						   DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(obs))))));
	rfm_check_unit(unit);
	if (st == NULL)
		st = rfm_state_new(aggctx, obs, unit);
	else
		rfm_check_same(st, obs, unit);
	amt = cx_money_from_numeric(PG_GETARG_DATUM(2), "amount");
	if (day <= obs)
		rfm_add_row(st, day, amt, aggctx);
	PG_RETURN_POINTER(st);
}

/* Combine: merges the day sets and the two money totals exactly. */
PG_FUNCTION_INFO_V1(rfm_agg_combine);
Datum
rfm_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	RfmState   *a,
			   *b;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	a = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	b = PG_ARGISNULL(1) ? NULL : (RfmState *) PG_GETARG_POINTER(1);
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = rfm_state_new(aggctx, b->obs_end, b->unit);
	rfm_check_same(a, b->obs_end, b->unit);
	if (b->ndays > 0)
	{
		CxMoney		bfirst = {b->first_units, b->first_scale};
		CxMoney		brest = {b->rest_units, b->rest_scale};

		rfm_compact(b);

		/* b's first day goes through the same rule as a single row */
		rfm_add_amount(a, b->first_day, bfirst);
		cx_money_add(&a->rest_units, &a->rest_scale, brest);
		for (int32 i = 0; i < b->ndays; i++)
			rfm_add_day(a, b->days[i], aggctx);
		a->rows = cx_add_counts(a->rows, b->rows, "transaction count");
	}
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(rfm_agg_serial);
Datum
rfm_agg_serial(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		cx_not_in_aggregate(fcinfo);
	st = (RfmState *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->obs_end);
	pq_sendfloat8(&buf, st->unit);
	pq_sendint64(&buf, st->rows);
	pq_sendbyte(&buf, (uint8) st->first_scale);
	cx_money_send_units(&buf, st->first_units);
	pq_sendbyte(&buf, (uint8) st->rest_scale);
	cx_money_send_units(&buf, st->rest_units);
	rfm_compact(st);
	pq_sendint32(&buf, st->ndays);
	for (int32 i = 0; i < st->ndays; i++)
		pq_sendint32(&buf, st->days[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(rfm_agg_deserial);
Datum
rfm_agg_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	MemoryContext aggctx;
	RfmState   *st;
	DateADT		obs;
	double		unit;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	obs = pq_getmsgint(&buf, 4);
	unit = pq_getmsgfloat8(&buf);
	st = rfm_state_new(aggctx, obs, unit);
	st->rows = pq_getmsgint64(&buf);
	st->first_scale = pq_getmsgbyte(&buf);
	st->first_units = cx_money_recv_units(&buf);
	st->rest_scale = pq_getmsgbyte(&buf);
	st->rest_units = cx_money_recv_units(&buf);
	st->ndays = pq_getmsgint(&buf, 4);
	st->cap = Max(st->ndays, 1);
	st->days = MemoryContextAlloc(aggctx, st->cap * sizeof(DateADT));
	for (int32 i = 0; i < st->ndays; i++)
		st->days[i] = pq_getmsgint(&buf, 4);
	st->nsorted = st->ndays;
	if (st->ndays > 0)
		st->first_day = st->days[0];
	pq_getmsgend(&buf);
	pfree(buf.data);
	PG_RETURN_POINTER(st);
}

/* The rfm row, or NULL when no purchase was on or before observation_end. */
PG_FUNCTION_INFO_V1(rfm_agg_final);
Datum
rfm_agg_final(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {0};
	int128		total;
	int			scale;
	CxMoney		first;
	int32		freq;
	double		mv = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (RfmState *) PG_GETARG_POINTER(0);
	if (st->ndays == 0)
		PG_RETURN_NULL();
	rfm_compact(st);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	freq = st->ndays - 1;
	if (freq > 0)
	{
		long double p10 = 1;

		for (int i = 0; i < st->rest_scale; i++)
			p10 *= 10;
		mv = (double) ((long double) st->rest_units / p10 / freq);
	}
	total = st->rest_units;
	scale = st->rest_scale;
	first.units = st->first_units;
	first.scale = st->first_scale;
	cx_money_add(&total, &scale, first);

	{
		double		rec = (st->days[st->ndays - 1] - st->days[0]) / st->unit,
					age = (st->obs_end - st->days[0]) / st->unit;

		/* a tiny unit_days can push the times past double precision */
		if (!isfinite(rec) || !isfinite(age))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("RFM times are out of range with unit_days %g", st->unit),
					 errdetail("%d days from the first purchase to observation_end are %g time units.",
							   (int) (st->obs_end - st->days[0]), age),
					 errhint("Use a larger unit_days (1 for days, 7 for weeks).")));
		values[1] = Float8GetDatum(rec);
		values[2] = Float8GetDatum(age);
	}
	values[0] = Int32GetDatum(freq);
	values[3] = Float8GetDatum(mv);
	values[4] = DateADTGetDatum(st->days[0]);
	values[5] = DateADTGetDatum(st->days[st->ndays - 1]);
	values[6] = Int64GetDatum(st->rows);
	values[7] = NumericGetDatum(cx_money_to_numeric(total, scale));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
