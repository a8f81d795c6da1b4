/*
 * metrics.c
 *		Retention, churn and cohort accessors of retention_summary, and the
 *		scalar retention_rate(S, E, N).
 *
 * Definitions (p is a period, W the active window in periods): a customer is
 * active at the end of p when active in any of the W periods ending with p;
 * A(p) is that set.  S = |A(p - 1)|, E = |A(p)|, N = customers whose first
 * period in the summary is p, retained = |A(p - 1) & A(p)|, and
 * reactivated = E - N - retained: active at the end of p, not at the end of
 * p - 1, and seen before p.  Every count is exact (set algebra over the
 * stored bitmaps).
 *
 * An accessor reads only the periods it needs, into a short-lived memory
 * context whose arena frees the bitmaps when it is deleted, also on ERROR.
 */
#include "retention.h"
#include "dict.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

typedef struct RetReader
{
	RetFlat    *f;
	MemoryContext cxt;
	CxArena    *arena;
	int32	   *index;			/* period index of each directory entry */
	CxSet64   **sets;			/* read on first use */
} RetReader;

static void
reader_open(RetReader *r, RetFlat *f)
{
	r->f = f;
	r->cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary accessor",
								   ALLOCSET_DEFAULT_SIZES);
	r->arena = cx_arena_create(r->cxt);
	r->index = MemoryContextAlloc(r->cxt, Max(f->nperiods, 1) * sizeof(int32));
	r->sets = MemoryContextAllocZero(r->cxt, Max(f->nperiods, 1) * sizeof(CxSet64 *));
	for (int32 i = 0; i < f->nperiods; i++)
		r->index[i] = ret_period_index(f->kind, RET_DIR(f)[i].start);
}

/* Frees every bitmap the accessor read or computed. */
static void
reader_close(RetReader *r)
{
	MemoryContextDelete(r->cxt);
}

static CxSet64 *
reader_set(RetReader *r, int32 i)
{
	if (r->sets[i] == NULL)
		r->sets[i] = ret_flat_read_set(r->arena, r->f, i);
	return r->sets[i];
}

/* First directory position whose period index is >= index. */
static int32
reader_lower_bound(RetReader *r, int64 index)
{
	int32		lo = 0,
				hi = r->f->nperiods;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (r->index[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Union of the periods at directory positions [lo, hi), made in arena a. */
static CxSet64 *
reader_union(RetReader *r, CxArena *a, int32 lo, int32 hi)
{
	CxSet64   **sets;

	if (hi <= lo)
		return cx_set64_empty(a);
	sets = MemoryContextAlloc(a->cxt, (hi - lo) * sizeof(CxSet64 *));
	for (int32 i = lo; i < hi; i++)
		sets[i - lo] = reader_set(r, i);
	return cx_set64_union(a, sets, hi - lo);
}

/* A(p): customers active in any of the W periods ending with period index p. */
static CxSet64 *
reader_active(RetReader *r, CxArena *a, int64 p, int64 w)
{
	return reader_union(r, a, reader_lower_bound(r, p - w + 1), reader_lower_bound(r, p + 1));
}

/* N(p): customers whose first period in the summary is p. */
static uint64
reader_new(RetReader *r, int64 p)
{
	int32		i = reader_lower_bound(r, p);
	CxSet64    *cur;

	if (i >= r->f->nperiods || r->index[i] != p)
		return 0;
	cur = reader_set(r, i);
	return cx_set64_card(cur) - cx_set64_and_card(cur, reader_union(r, r->arena, 0, i));
}

/* ------------------------------------------------------------------ arguments */

/* The period index of a period's first day; 22023 for any other date. */
static int64
period_arg(const RetFlat *f, DateADT d)
{
	if (!ret_is_period_start(f->kind, d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not the first day of a %s", ret_date_string(d), ret_kind_name(f->kind)),
				 f->kind == RET_WEEK ?
				 errhint("Weeks are ISO weeks and start on Monday: pass date_trunc('week', d)::date.") :
				 errhint("Pass the first day of the %s, for example date_trunc('%s', d)::date.",
						 ret_kind_name(f->kind), ret_kind_name(f->kind))));
	return ret_period_index(f->kind, d);
}

static int64
window_arg(int32 w)
{
	if (w < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("active window of %d periods is out of range", w),
				 errhint("A customer is active at the end of a period when active in any of the "
						 "last W periods; W is at least 1.")));
	return w;
}

/* ------------------------------------------------------------------ period metrics */

typedef enum RetMetric
{
	M_ACTIVE,
	M_NEW,
	M_RETAINED,
	M_REACTIVATED,
	M_RETENTION,
	M_CHURN,
	M_CRR
} RetMetric;

/* Every (s, p [, W]) accessor: the counts it needs, then its value. */
static Datum
period_metric(FunctionCallInfo fcinfo, RetMetric metric)
{
	RetFlat    *f = PG_GETARG_RETENTION(0);
	int64		p = period_arg(f, PG_GETARG_DATEADT(1));
	int64		w = metric == M_NEW ? 1 : window_arg(PG_GETARG_INT32(2));
	RetReader	r;
	CxSet64    *prev = NULL,
			   *cur = NULL;
	int64		S = 0,
				E = 0,
				N = 0,
				retained = 0;

	reader_open(&r, f);
	if (metric != M_NEW)
	{
		cur = reader_active(&r, r.arena, p, w);
		E = cx_set64_card(cur);
	}
	if (metric != M_NEW && metric != M_ACTIVE)
	{
		prev = reader_active(&r, r.arena, p - 1, w);
		S = cx_set64_card(prev);
		retained = cx_set64_and_card(prev, cur);
	}
	if (metric == M_NEW || metric == M_REACTIVATED || metric == M_CRR)
		N = reader_new(&r, p);
	reader_close(&r);

	switch (metric)
	{
		case M_ACTIVE:
			PG_RETURN_INT64(E);
		case M_NEW:
			PG_RETURN_INT64(N);
		case M_RETAINED:
			PG_RETURN_INT64(retained);
		case M_REACTIVATED:
			PG_RETURN_INT64(E - N - retained);
		default:
			break;
	}
	if (S == 0)
		PG_RETURN_NULL();
	if (metric == M_RETENTION)
		PG_RETURN_FLOAT8(100.0 * (double) retained / (double) S);
	if (metric == M_CHURN)
		PG_RETURN_FLOAT8(100.0 - 100.0 * (double) retained / (double) S);
	PG_RETURN_FLOAT8(100.0 * (double) (E - N) / (double) S);
}

#define PERIOD_METRIC(fn, metric) \
PG_FUNCTION_INFO_V1(fn); \
Datum fn(PG_FUNCTION_ARGS) { return period_metric(fcinfo, metric); }

PERIOD_METRIC(retention_active_customers, M_ACTIVE)
PERIOD_METRIC(retention_new_customers, M_NEW)
PERIOD_METRIC(retention_retained_customers, M_RETAINED)
PERIOD_METRIC(retention_reactivated_customers, M_REACTIVATED)
PERIOD_METRIC(retention_retention_rate, M_RETENTION)
PERIOD_METRIC(retention_churn_rate, M_CHURN)
PERIOD_METRIC(retention_crr, M_CRR)

/*
 * The reports with a row per period (retention_by_period) or per cohort and
 * period offset (cohort_retention) return every period from the first to
 * the last, quiet periods included, so their size is set by the span of
 * the summary, not by its size: a 52 KB summary of 1,000 periods far apart
 * asks for billions of rows.  Two limits bound them before the first row:
 * the span (10^6 periods, 2,700 years of days) for both, and the rows of a
 * cohort matrix (10^7, a daily matrix over 12 years).  Both functions return
 * one row per call (value-per-call), so a caller that stops early (LIMIT in
 * the select list) stops the work, and each call checks for interrupts.
 */
#define RET_MAX_REPORT_SPAN		1000000
#define RET_MAX_COHORT_ROWS		10000000

/* The hint of a refused report: how to make it smaller. */
static int
report_hint(const RetFlat *f)
{
	if (f->kind == RET_YEAR)
		return errhint("Build the summary over a shorter range of dates.");
	return errhint("Build the summary with a longer period than %s, or over a shorter range of dates.",
				   ret_kind_name(f->kind));
}

/* 54000 when the periods from the first to the last are more than the limit (nperiods > 0). */
static void
check_report_span(const RetReader *r, const char *function)
{
	const RetFlat *f = r->f;
	int64		span = (int64) r->index[f->nperiods - 1] - r->index[0];

	Assert(f->nperiods > 0);
	if (span >= RET_MAX_REPORT_SPAN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s would report " INT64_FORMAT " periods, more than the limit of %d",
						function, span + 1, RET_MAX_REPORT_SPAN),
				 errdetail("The summary's periods run from %s to %s; the report has a row for every %s in between, quiet ones included.",
						   ret_date_string(RET_DIR(f)[0].start),
						   ret_date_string(RET_DIR(f)[f->nperiods - 1].start), ret_kind_name(f->kind)),
				 report_hint(f)));
}

/* ------------------------------------------------------------------ retention_by_period */

typedef struct ByPeriodState
{
	RetReader	r;
	int64		w;
	int64		p;				/* next period index to report */
	int32		pos;			/* next directory position */
	CxSet64    *seen;			/* customers of the periods before p */
	CxSet64    *prev;			/* A(p - 1) */
	MemoryContext prev_cxt;		/* holds prev */
	int32		prev_lo;		/* prev is the union of directory positions [prev_lo, prev_hi) */
	int32		prev_hi;
	int64		S;				/* |A(p - 1)| */
} ByPeriodState;

/*
 * retention_by_period(s, W): every metric of every period from the summary's
 * first to its last, one row per call: each period is read once, new
 * customers come from a running set of the customers seen so far, and the
 * window sets of two consecutive periods are kept at a time.  A window that
 * holds the same stored periods as the one before is the same set, so a
 * summary of few periods far apart costs a union per stored period, not
 * per row, whatever W.
 */
PG_FUNCTION_INFO_V1(retention_by_period);
Datum
retention_by_period(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	ByPeriodState *st;
	RetFlat    *f;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		f = PG_GETARG_RETENTION(0);
		st = palloc0(sizeof(ByPeriodState));
		st->w = window_arg(PG_GETARG_INT32(1));
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		funcctx->user_fctx = st;
		if (f->nperiods > 0)
		{
			reader_open(&st->r, f);
			check_report_span(&st->r, "retention_by_period");
			st->seen = cx_set64_empty(st->r.arena);
			st->prev = cx_set64_empty(st->r.arena);
			st->p = st->r.index[0];
		}
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	f = st->r.f;
	CHECK_FOR_INTERRUPTS();
	if (f != NULL && st->p <= st->r.index[f->nperiods - 1])
	{
		RetReader  *r = &st->r;
		int64		p = st->p;
		int32		lo = reader_lower_bound(r, p - st->w + 1),
					hi = reader_lower_bound(r, p + 1);
		MemoryContext cur_cxt = NULL;
		CxSet64    *cur = st->prev;
		int64		E;
		int64		retained;
		int64		S = st->S;
		int64		N = 0;
		DateADT		start;
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		/* the window sets live in a context per window; the previous one is kept */
		if (lo != st->prev_lo || hi != st->prev_hi)
		{
			cur_cxt = AllocSetContextCreate(r->cxt, "retention_by_period window", ALLOCSET_DEFAULT_SIZES);
			cur = reader_union(r, cx_arena_create(cur_cxt), lo, hi);
		}
		E = (int64) cx_set64_card(cur);
		retained = cur == st->prev ? E : (int64) cx_set64_and_card(st->prev, cur);

		if (st->pos < f->nperiods && r->index[st->pos] == p)
		{
			CxSet64    *here = reader_set(r, st->pos++);

			N = (int64) (cx_set64_card(here) - cx_set64_and_card(here, st->seen));
			cx_set64_or_into(r->arena, st->seen, here);
		}
		if (!ret_period_start(f->kind, p, &start))
			elog(ERROR, "retention_summary period %lld has no first day", (long long) p);
		values[0] = DateADTGetDatum(start);
		values[1] = Int64GetDatum(E);
		values[2] = Int64GetDatum(N);
		values[3] = Int64GetDatum(retained);
		values[4] = Int64GetDatum(E - N - retained);
		if (S > 0)
		{
			values[5] = Float8GetDatum(100.0 * (double) retained / (double) S);
			values[6] = Float8GetDatum(100.0 - 100.0 * (double) retained / (double) S);
			values[7] = Float8GetDatum(100.0 * (double) (E - N) / (double) S);
		}
		else
			nulls[5] = nulls[6] = nulls[7] = true;

		if (cur_cxt != NULL)
		{
			if (st->prev_cxt != NULL)
				MemoryContextDelete(st->prev_cxt);	/* frees its bitmaps */
			st->prev_cxt = cur_cxt;
			st->prev = cur;
			st->prev_lo = lo;
			st->prev_hi = hi;
		}
		st->S = E;
		st->p++;
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
	}
	/* the reader's context is a child of the multi-call context, which is deleted now */
	SRF_RETURN_DONE(funcctx);
}

/* ------------------------------------------------------------------ whole-summary metrics */

/* customers(s): distinct customers over every period. */
PG_FUNCTION_INFO_V1(retention_customers);
Datum
retention_customers(PG_FUNCTION_ARGS)
{
	RetFlat    *f = PG_GETARG_RETENTION(0);
	RetReader	r;
	uint64		n;

	if (f->version == RETENTION_VERSION_COMPACT)
	{
		/* the dictionary holds exactly the customers of the periods */
		size_t		len,
					count;
		const char *d = ret_flat_dict(f, &len);
		const char *why = NULL;

		if (!cx_dict_count(d, len, &count, &why))
			ret_data_corrupted(why);
		PG_RETURN_INT64((int64) count);
	}
	reader_open(&r, f);
	n = cx_set64_card(reader_union(&r, r.arena, 0, f->nperiods));
	reader_close(&r);
	PG_RETURN_INT64((int64) n);
}

/* repeat_customer_rate(s): customers active in two or more periods / customers x 100. */
PG_FUNCTION_INFO_V1(retention_repeat_customer_rate);
Datum
retention_repeat_customer_rate(PG_FUNCTION_ARGS)
{
	RetFlat    *f = PG_GETARG_RETENTION(0);
	RetReader	r;
	CxSet64    *seen,
			   *twice;
	uint64		customers,
				repeat;

	/* only the stored periods are read: no span limit applies */
	reader_open(&r, f);
	seen = cx_set64_empty(r.arena);
	twice = cx_set64_empty(r.arena);
	for (int32 i = 0; i < f->nperiods; i++)
	{
		CxSet64    *cur = reader_set(&r, i);

		cx_set64_or_into(r.arena, twice, cx_set64_and(r.arena, cur, seen));
		cx_set64_or_into(r.arena, seen, cur);
	}
	customers = cx_set64_card(seen);
	repeat = cx_set64_card(twice);
	reader_close(&r);
	if (customers == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (double) repeat / (double) customers);
}

/* periods(s): the first day of every period that has customers, in order. */
PG_FUNCTION_INFO_V1(retention_periods);
Datum
retention_periods(PG_FUNCTION_ARGS)
{
	RetFlat    *f = PG_GETARG_RETENTION(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (int32 i = 0; i < f->nperiods; i++)
	{
		Datum		value = DateADTGetDatum(RET_DIR(f)[i].start);
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}

/* retention_period(s): the period the summary is built on. */
PG_FUNCTION_INFO_V1(retention_summary_period);
Datum
retention_summary_period(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ret_kind_name(PG_GETARG_RETENTION(0)->kind)));
}

/*
 * cohort_retention(s, mode): one row per cohort (period of first activity)
 * and offset k = 0 .. last period of the summary - cohort: the customers of
 * the cohort active exactly k periods later ('on'), or k or more periods
 * later ('on_or_after').  One row per call; the sets of every cohort (and
 * for 'on_or_after' of the customers last seen in each period) are made on
 * the first call, the counts of a cohort when its first row is due.
 */
typedef struct CohortState
{
	RetReader	r;
	bool		on_or_after;
	CxSet64   **cohort;			/* cohort[i]: customers first seen in period i */
	CxSet64   **last;			/* last[j]: customers last seen in period j ('on_or_after') */
	int64	   *count;			/* of the current cohort: members in (last seen in) period j */
	int32		i;				/* current cohort (directory position), n when done */
	int32		j;				/* next directory position at or after cohort + k */
	int64		k;				/* next offset */
	int64		span;			/* last offset of the current cohort */
	int64		size;			/* current cohort's size */
	int64		later;			/* 'on_or_after': members last seen at position j or later */
} CohortState;

/* Moves to the next non-empty cohort at or after position i, and counts it. */
static void
cohort_start(CohortState *st, int32 i)
{
	RetReader  *r = &st->r;
	int32		n = r->f->nperiods;

	for (; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		st->size = (int64) cx_set64_card(st->cohort[i]);
		if (st->size > 0)
			break;
	}
	st->i = i;
	if (i >= n)
		return;
	st->k = 0;
	st->j = i;
	st->span = (int64) r->index[n - 1] - r->index[i];
	st->later = 0;
	for (int32 j = i; j < n; j++)
	{
		st->count[j] = (int64) cx_set64_and_card(st->cohort[i],
												 st->on_or_after ? st->last[j] : reader_set(r, j));
		st->later += st->count[j];
	}
}

PG_FUNCTION_INFO_V1(retention_cohort_retention);
Datum
retention_cohort_retention(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	CohortState *st;
	RetReader  *r;
	int64		active;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;
		RetFlat    *f;
		char	   *mode;
		int32		n;
		CxSet64    *acc;
		int64		rows = 0;
		int32		cohorts = 0;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		f = PG_GETARG_RETENTION(0);
		mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
		st = palloc0(sizeof(CohortState));
		if (pg_strcasecmp(mode, "on") == 0)
			st->on_or_after = false;
		else if (pg_strcasecmp(mode, "on_or_after") == 0)
			st->on_or_after = true;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown cohort mode \"%s\"", mode),
					 errhint("Use 'on' (active exactly k periods later) or 'on_or_after' "
							 "(active k or more periods later).")));
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		funcctx->user_fctx = st;
		n = f->nperiods;
		if (n > 0)
		{
			r = &st->r;
			reader_open(r, f);
			check_report_span(r, "cohort_retention");
			st->cohort = palloc(n * sizeof(CxSet64 *));
			acc = cx_set64_empty(r->arena);
			for (int32 i = 0; i < n; i++)
			{
				CHECK_FOR_INTERRUPTS();
				st->cohort[i] = cx_set64_andnot(r->arena, reader_set(r, i), acc);
				cx_set64_or_into(r->arena, acc, reader_set(r, i));
				if (cx_set64_card(st->cohort[i]) > 0)
				{
					rows += (int64) r->index[n - 1] - r->index[i] + 1;
					cohorts++;
				}
			}
			if (rows > RET_MAX_COHORT_ROWS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("cohort_retention would return " INT64_FORMAT " rows, more than the limit of %d",
								rows, RET_MAX_COHORT_ROWS),
						 errdetail("The matrix has a row for each of its %d cohorts and every %s from the cohort to %s, quiet ones included.",
								   cohorts, ret_kind_name(f->kind), ret_date_string(RET_DIR(f)[n - 1].start)),
						 report_hint(f)));
			if (st->on_or_after)
			{
				st->last = palloc(n * sizeof(CxSet64 *));
				acc = cx_set64_empty(r->arena);
				for (int32 j = n - 1; j >= 0; j--)
				{
					CHECK_FOR_INTERRUPTS();
					st->last[j] = cx_set64_andnot(r->arena, reader_set(r, j), acc);
					cx_set64_or_into(r->arena, acc, reader_set(r, j));
				}
			}
			st->count = palloc(n * sizeof(int64));
			cohort_start(st, 0);
		}
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	r = &st->r;
	CHECK_FOR_INTERRUPTS();
	if (r->f == NULL || st->i >= r->f->nperiods)
		SRF_RETURN_DONE(funcctx);	/* deletes the multi-call context and the reader's */

	/* count[j] belongs to offset index[j] - index[i]; 'on_or_after' adds up the later periods */
	if (st->j < r->f->nperiods && (int64) r->index[st->j] - r->index[st->i] < st->k)
		st->later -= st->count[st->j++];
	if (st->on_or_after)
		active = st->later;
	else if (st->j < r->f->nperiods && (int64) r->index[st->j] - r->index[st->i] == st->k)
		active = st->count[st->j];
	else
		active = 0;
	values[0] = DateADTGetDatum(RET_DIR(r->f)[st->i].start);
	values[1] = Int32GetDatum((int32) st->k);
	values[2] = Int64GetDatum(st->size);
	values[3] = Int64GetDatum(active);
	values[4] = Float8GetDatum(100.0 * (double) active / (double) st->size);
	if (st->k++ == st->span)
	{
		/* the cohort's last row: on to the next cohort, counted now */
		MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);

		cohort_start(st, st->i + 1);
		MemoryContextSwitchTo(old);
	}
	SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
}

/* ------------------------------------------------------------------ scalar formula */

/*
 * retention_rate(customers_at_start, customers_at_end, new_customers): the
 * customer retention rate (E - N) / S x 100.
 */
PG_FUNCTION_INFO_V1(retention_rate_counts);
Datum
retention_rate_counts(PG_FUNCTION_ARGS)
{
	int64		s = PG_GETARG_INT64(0);
	int64		e = PG_GETARG_INT64(1);
	int64		n = PG_GETARG_INT64(2);

	if (s <= 0 || e < 0 || n < 0 || n > e)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid retention counts: customers_at_start = " INT64_FORMAT
						", customers_at_end = " INT64_FORMAT ", new_customers = " INT64_FORMAT,
						s, e, n),
				 errhint("customers_at_start must be positive, and 0 <= new_customers <= customers_at_end.")));
	PG_RETURN_FLOAT8(100.0 * (double) (e - n) / (double) s);
}
