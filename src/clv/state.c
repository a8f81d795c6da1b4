/*
 * state.c
 *		The state of the fit aggregates: a weighted histogram of the distinct
 *		input rows (x, u, v), built by the transition functions, merged by the
 *		combine function and (de)serialised for parallel workers.  The final
 *		functions (fit.c) sort it into a canonical order, so that serial and
 *		parallel plans fit bit-identical models.
 */
#include "clv.h"

#include <math.h>

#include "libpq/pqformat.h"
#include "utils/memutils.h"
#include "utils/builtins.h"

/* ------------------------------------------------------------ row checks */

void
clv_check_rfm(int32 x, double tx, double T)
{
	if (x < 0 || !isfinite(tx) || !isfinite(T) || tx < 0 || T < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid RFM row: frequency = %d, recency = %g, t = %g", x, tx, T),
				 errdetail("frequency, recency and t must be finite and not negative.")));
	if (tx > T)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid RFM row: recency %g exceeds t %g", tx, T),
				 errdetail("Row: frequency = %d, recency = %g, t = %g.", x, tx, T),
				 errhint("recency is the time from the first to the last purchase, t from the first purchase to the end of observation.")));
	if ((x == 0) != (tx == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid RFM row: frequency = %d with recency = %g", x, tx),
				 errdetail("Row: frequency = %d, recency = %g, t = %g.", x, tx, T),
				 errhint("recency is 0 exactly when frequency (repeat purchases) is 0.")));
}

void
clv_check_horizon(double t, const char *what)
{
	if (!(t >= 0) || isinf(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s %g", what, t),
				 errdetail("A %s must be finite and not negative.", what)));
}

/* ------------------------------------------------------------ histogram */

/* A 64-bit mix (splitmix64's finaliser). */
static inline uint64
mix64(uint64 h)
{
	h ^= h >> 30;
	h *= UINT64CONST(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64CONST(0x94d049bb133111eb);
	h ^= h >> 31;
	return h;
}

uint64
clv_hash_double(double v)
{
	uint64		bits;

	memcpy(&bits, &v, sizeof(bits));
	return mix64(bits);
}

static inline uint64
row_hash(int32 x, double u, double v)
{
	return mix64((uint64) (uint32) x ^ clv_hash_double(u) ^ (clv_hash_double(v) * 31));
}

static inline bool
row_same(const ClvRow *row, int32 x, double u, double v)
{
	return row->x == x && row->u == u && row->v == v;
}

/* (Re)builds the index of the rows with room for twice as many. */
static void
rebuild_slots(ClvFitState *st)
{
	int64		nslots = 1024;

	while (nslots < 2 * (st->n + 1))
		nslots *= 2;
	if (st->slots)
		pfree(st->slots);
	st->slots = MemoryContextAllocExtended(GetMemoryChunkContext(st), nslots * sizeof(uint32),
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	st->nslots = nslots;
	for (int64 i = 0; i < st->n; i++)
	{
		uint64		h = row_hash(st->rows[i].x, st->rows[i].u, st->rows[i].v) & (nslots - 1);

		while (st->slots[h] != 0)
			h = (h + 1) & (nslots - 1);
		st->slots[h] = (uint32) (i + 1);
	}
}

static inline int
row_cmp(const ClvRow *a, const ClvRow *b)
{
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->u != b->u)
		return a->u < b->u ? -1 : 1;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return 0;
}

/* clv_sort_rows(rows, n): a quicksort with the comparison inlined */
#define ST_SORT clv_sort_rows
#define ST_ELEMENT_TYPE ClvRow
#define ST_COMPARE(a, b) row_cmp(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Sorts rows[0 .. n) and merges identical rows; returns the new count. */
static int64
sort_dedup(ClvRow *rows, int64 n)
{
	int64		k = 0;

	if (n <= 1)
		return n;
	clv_sort_rows(rows, n);
	for (int64 i = 1; i < n; i++)
	{
		if (row_cmp(&rows[k], &rows[i]) == 0)
			rows[k].w = cx_add_counts(rows[k].w, rows[i].w, "fit weight");
		else
			rows[++k] = rows[i];
	}
	return k + 1;
}

/*
 * Merges the sorted distinct runs a[0 .. na) and b[0 .. nb) into out,
 * identical rows into one; returns the rows written.
 */
static int64
merge_runs(const ClvRow *a, int64 na, const ClvRow *b, int64 nb, ClvRow *out)
{
	int64		i = 0,
				j = 0,
				k = 0;

	while (i < na && j < nb)
	{
		int			c = row_cmp(&a[i], &b[j]);

		if (c < 0)
			out[k++] = a[i++];
		else if (c > 0)
			out[k++] = b[j++];
		else
		{
			out[k] = a[i++];
			out[k].w = cx_add_counts(out[k].w, b[j++].w, "fit weight");
			k++;
		}
	}
	while (i < na)
		out[k++] = a[i++];
	while (j < nb)
		out[k++] = b[j++];
	return k;
}

/*
 * Sorts the unsorted tail and merges it with the sorted prefix, into a new
 * array of newcap rows (at least n).  The index no longer matches.
 */
static void
sort_merge(ClvFitState *st, int64 newcap)
{
	int64		tail = sort_dedup(st->rows + st->nsorted, st->n - st->nsorted);

	if (st->nsorted == 0 && newcap == st->cap)
		st->n = tail;
	else
	{
		ClvRow	   *rows = MemoryContextAllocExtended(GetMemoryChunkContext(st), newcap * sizeof(ClvRow),
													  MCXT_ALLOC_HUGE);

		st->n = merge_runs(st->rows, st->nsorted, st->rows + st->nsorted, tail, rows);
		pfree(st->rows);
		st->rows = rows;
		st->cap = newcap;
	}
	st->nsorted = st->n;
	st->nslots = 0;
}

/*
 * Appended rows are sorted and merged (duplicates dropped) when the array
 * is full only beyond this many (128 MB), to bound the memory that repeated
 * rows take; below it, the one sort of the final function does it.
 */
#define CLV_APPEND_MAX	((int64) 1 << 22)
/* Hashed mode pays once this many distinct rows are kept ... */
#define CLV_APPEND_MIN	65536
/* ... unless more than this fraction of the rows added since the last choice were new */
#define CLV_APPEND_NEW	0.75

/*
 * Adds w customers with row (x, u, v).  Hashed: to the weight of an
 * identical row if there is one, else as a new row.  Appended: as a new row,
 * merged with identical ones when the array is next sorted.
 */
void
clv_state_add(ClvFitState *st, int32 x, double u, double v, int64 w)
{
	ClvRow	   *row;
	uint64		h = 0;

	/* one spelling of zero, so that equal rows hash and compare alike */
	if (u == 0)
		u = 0;
	if (v == 0)
		v = 0;
	st->added++;
	if (!st->append && (st->nslots == 0 || 2 * (st->n + 1) > st->nslots))
	{
		if (st->n >= (int64) PG_UINT32_MAX - 1)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("too many distinct rows for a CLV model fit")));
		if (st->n >= CLV_APPEND_MIN &&
			(double) (st->n - st->mark_n) > CLV_APPEND_NEW * (double) (st->added - st->mark_added))
		{
			/* mostly distinct rows: stop hashing */
			st->append = true;
			if (st->slots)
				pfree(st->slots);
			st->slots = NULL;
			st->nslots = 0;
			st->mark_n = st->n;
			st->mark_added = st->added;
		}
		else
			rebuild_slots(st);
	}
	if (!st->append)
	{
		h = row_hash(x, u, v) & (st->nslots - 1);
		while (st->slots[h] != 0)
		{
			row = &st->rows[st->slots[h] - 1];
			if (row_same(row, x, u, v))
			{
				row->w = cx_add_counts(row->w, w, "fit weight");
				return;
			}
			h = (h + 1) & (st->nslots - 1);
		}
	}
	if (st->n == st->cap)
	{
		if (st->n >= (int64) PG_UINT32_MAX - 1)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("too many distinct rows for a CLV model fit")));
		if (st->append && st->n >= CLV_APPEND_MAX)
		{
			int64		before = st->n;

			sort_merge(st, 2 * st->cap);
			if (2 * st->n <= before)
			{
				/* over half were duplicates: back to hashing */
				st->append = false;
				st->mark_n = st->n;
				st->mark_added = st->added;
				rebuild_slots(st);
				h = row_hash(x, u, v) & (st->nslots - 1);
				while (st->slots[h] != 0)
				{
					row = &st->rows[st->slots[h] - 1];
					if (row_same(row, x, u, v))
					{
						row->w = cx_add_counts(row->w, w, "fit weight");
						return;
					}
					h = (h + 1) & (st->nslots - 1);
				}
			}
		}
		else
		{
			st->cap = st->cap ? st->cap * 2 : 1024;
			st->rows = st->rows ? repalloc_huge(st->rows, st->cap * sizeof(ClvRow))
				: MemoryContextAllocExtended(GetMemoryChunkContext(st), st->cap * sizeof(ClvRow),
											 MCXT_ALLOC_HUGE);
		}
	}
	row = &st->rows[st->n];
	row->x = x;
	row->pad = 0;
	row->u = u;
	row->v = v;
	row->w = w;
	if (!st->append)
		st->slots[h] = (uint32) (st->n + 1);
	st->n++;
}

/*
 * Sorts the rows into the canonical order (x, u, v), merging identical rows
 * (appended mode), so that the fit sums in the same order whatever the plan.
 * The hash index no longer matches and is rebuilt if rows are added later.
 */
void
clv_state_compact(ClvFitState *st)
{
	if (st->nsorted == st->n)
		return;
	sort_merge(st, st->cap);
}

static ClvFitState *
state_new(MemoryContext cxt, int kind)
{
	ClvFitState *st = MemoryContextAllocZero(cxt, sizeof(ClvFitState));

	st->kind = kind;
	return st;
}

static void
check_weight(int64 w)
{
	if (w <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid weight " INT64_FORMAT, w),
				 errdetail("A weight is the number of customers sharing a row and must be positive.")));
}

static void
set_penalizer(ClvFitState *st, double c)
{
	if (!(c >= 0) || isinf(c))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid penalizer %g", c),
				 errdetail("The penalizer must be finite and not negative (0 for a plain maximum-likelihood fit).")));
	if (st->have_penalizer && st->penalizer != c)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("penalizer changes within one aggregate group, from %g to %g", st->penalizer, c),
				 errhint("Pass one constant penalizer per group.")));
	st->penalizer = c;
	st->have_penalizer = true;
}

/*
 * Transition of bgnbd_fit and mbgnbd_fit: (state, frequency, recency, t
 * [, weight [, penalizer]]).  Rows with a NULL are skipped.
 */
static Datum
clv_fit_trans_common(FunctionCallInfo fcinfo, int kind)
{
	MemoryContext aggctx,
				old;
	ClvFitState *st;
	int			nargs = PG_NARGS();
	int64		w = 1;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	st = PG_ARGISNULL(0) ? NULL : (ClvFitState *) PG_GETARG_POINTER(0);
	for (int i = 1; i < nargs; i++)
		if (PG_ARGISNULL(i))
		{
			if (st == NULL)
				PG_RETURN_NULL();
			PG_RETURN_POINTER(st);
		}
	if (st == NULL)
		st = state_new(aggctx, kind);
	old = MemoryContextSwitchTo(aggctx);
	if (kind == CLV_GAMMA_GAMMA)
	{
		int32		x = PG_GETARG_INT32(1);
		double		m = PG_GETARG_FLOAT8(2);

		if (nargs > 3)
			w = PG_GETARG_INT64(3);
		if (x < 0 || !isfinite(m) || m < 0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("invalid spend row: frequency = %d, monetary_value = %g", x, m),
					 errdetail("frequency and monetary_value must be finite and not negative.")));
		if (x > 0 && m <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid spend row: monetary_value = %g with frequency = %d", m, x),
					 errdetail("A repeat customer's mean spend must be positive."),
					 errhint("Leave out customers whose repeat purchases net to 0 or less (refunds, free items).")));
		check_weight(w);
		if (nargs > 4)
			set_penalizer(st, PG_GETARG_FLOAT8(4));
		if (x > 0)
			clv_state_add(st, x, m, 0, w);
	}
	else
	{
		int32		x = PG_GETARG_INT32(1);
		double		tx = PG_GETARG_FLOAT8(2);
		double		T = PG_GETARG_FLOAT8(3);

		if (nargs > 4)
			w = PG_GETARG_INT64(4);
		clv_check_rfm(x, tx, T);
		check_weight(w);
		if (nargs > 5)
			set_penalizer(st, PG_GETARG_FLOAT8(5));
		clv_state_add(st, x, tx, T, w);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(bgnbd_fit_trans);
Datum
bgnbd_fit_trans(PG_FUNCTION_ARGS)
{
	return clv_fit_trans_common(fcinfo, CLV_BGNBD);
}

PG_FUNCTION_INFO_V1(mbgnbd_fit_trans);
Datum
mbgnbd_fit_trans(PG_FUNCTION_ARGS)
{
	return clv_fit_trans_common(fcinfo, CLV_MBGNBD);
}

PG_FUNCTION_INFO_V1(gamma_gamma_fit_trans);
Datum
gamma_gamma_fit_trans(PG_FUNCTION_ARGS)
{
	return clv_fit_trans_common(fcinfo, CLV_GAMMA_GAMMA);
}

/*
 * Combine: merges the second histogram into the first.  Both are sorted
 * first (the deserialised partial states of workers already are: the
 * serialisation sorts them, so workers share that work), then merged in
 * one pass.
 */
PG_FUNCTION_INFO_V1(clv_fit_combine);
Datum
clv_fit_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx,
				old;
	ClvFitState *a,
			   *b;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	a = PG_ARGISNULL(0) ? NULL : (ClvFitState *) PG_GETARG_POINTER(0);
	b = PG_ARGISNULL(1) ? NULL : (ClvFitState *) PG_GETARG_POINTER(1);
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	/* the first partial state is taken over as it is (it lives in aggctx) */
	if (a == NULL && GetMemoryChunkContext(b) == aggctx)
		PG_RETURN_POINTER(b);
	old = MemoryContextSwitchTo(aggctx);
	if (a == NULL)
		a = state_new(aggctx, b->kind);
	if (b->have_penalizer)
		set_penalizer(a, b->penalizer);
	if (b->n > 0)
	{
		int64		na,
					nb = b->n,
					i,
					j,
					k;

		clv_state_compact(a);
		clv_state_compact(b);
		na = a->n;
		if (a->cap < na + nb)
		{
			a->cap = Max(na + nb, 1024);
			a->rows = a->rows ? repalloc_huge(a->rows, a->cap * sizeof(ClvRow))
				: MemoryContextAllocExtended(aggctx, a->cap * sizeof(ClvRow), MCXT_ALLOC_HUGE);
		}

		/*
		 * Merged in place from the back, identical rows into one; the merged
		 * rows then start at k + 1 (later than 0 if there were identical
		 * rows).
		 */
		i = na - 1;
		j = nb - 1;
		k = na + nb - 1;
		while (j >= 0)
		{
			int			c = i >= 0 ? row_cmp(&a->rows[i], &b->rows[j]) : -1;

			if (c > 0)
				a->rows[k--] = a->rows[i--];
			else if (c < 0)
				a->rows[k--] = b->rows[j--];
			else
			{
				ClvRow		row = a->rows[i--];

				row.w = cx_add_counts(row.w, b->rows[j--].w, "fit weight");
				a->rows[k--] = row;
			}
		}
		/* rows a[0 .. i] are in place already */
		if (k > i)
			memmove(&a->rows[i + 1], &a->rows[k + 1], (na + nb - 1 - k) * sizeof(ClvRow));
		a->n = (i + 1) + (na + nb - 1 - k);
		a->nsorted = a->n;
		a->nslots = 0;
		a->added += b->added;
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/*
 * Serialised state: kind, penalizer flag and value, row count, then the
 * rows (ClvRow, in memory layout), after compaction.  Internal to one
 * query: the executor alone calls these, between processes of one server.
 */
PG_FUNCTION_INFO_V1(clv_fit_serial);
Datum
clv_fit_serial(PG_FUNCTION_ARGS)
{
	ClvFitState *st;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		cx_not_in_aggregate(fcinfo);
	st = (ClvFitState *) PG_GETARG_POINTER(0);
	clv_state_compact(st);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, (uint8) st->kind);
	pq_sendbyte(&buf, st->have_penalizer ? 1 : 0);
	pq_sendfloat8(&buf, st->penalizer);
	pq_sendint64(&buf, st->n);
	/* the rows as they are in memory: the state never leaves the server */
	enlargeStringInfo(&buf, st->n * sizeof(ClvRow));
	pq_sendbytes(&buf, (const char *) st->rows, st->n * sizeof(ClvRow));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clv_fit_deserial);
Datum
clv_fit_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	ClvFitState *st;
	MemoryContext aggctx,
				old;
	int64		n;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	/* read in place (pq_getmsg* only read) */
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = 0;
	buf.cursor = 0;
	old = MemoryContextSwitchTo(aggctx);
	st = state_new(aggctx, pq_getmsgbyte(&buf));
	st->have_penalizer = pq_getmsgbyte(&buf) != 0;
	st->penalizer = pq_getmsgfloat8(&buf);
	n = pq_getmsgint64(&buf);
	if (n < 0 || n != (buf.len - buf.cursor) / (int64) sizeof(ClvRow))
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("invalid CLV fit state")));
	/* the rows as they were serialised (sorted), appended without an index */
	st->append = true;
	st->cap = Max(n, 1024);
	st->rows = MemoryContextAllocExtended(aggctx, st->cap * sizeof(ClvRow), MCXT_ALLOC_HUGE);
	pq_copymsgbytes(&buf, (char *) st->rows, n * sizeof(ClvRow));
	/* the sorted prefix ends at the first row out of order */
	st->nsorted = n > 0 ? 1 : 0;
	while (st->nsorted < n && row_cmp(&st->rows[st->nsorted - 1], &st->rows[st->nsorted]) < 0)
		st->nsorted++;
	st->n = n;
	st->added = n;
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}
