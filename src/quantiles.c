/*
 * quantiles.c
 *		exact_percentiles(values float8[], fractions float8[]): the exact
 *		percentiles (percentile_cont's definition) of every element of every
 *		array of a group.
 *
 * The dashboard keeps durations (first response hours, ...) as one array of
 * exact values per day and dimension, and a period's median and p90 are
 * percentiles over the union of its days' arrays.  percentile_cont over
 * unnest() gets them right but costs a sort of every value by the group keys
 * and a second sort per group, and as an ordered-set aggregate it cannot be
 * hashed: a year of tickets with its previous and year-ago periods took 2 to
 * 3 s of a refresh.  This aggregate appends the arrays' elements to one
 * buffer and sorts it once per group in its final function.
 *
 * The results are percentile_cont's, bit for bit: the same ranks
 * floor/ceil(f * (n - 1)) and the same interpolation lo + (hi - lo) * t.
 * NULL elements are skipped (as percentile_cont skips NULL rows), NaN sorts
 * above every number as in float8's ordering, and a group without values
 * gives NULL.
 */
#include "cxkpi.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(exact_percentiles_trans);
PG_FUNCTION_INFO_V1(exact_percentiles_combine);
PG_FUNCTION_INFO_V1(exact_percentiles_serialize);
PG_FUNCTION_INFO_V1(exact_percentiles_deserialize);
PG_FUNCTION_INFO_V1(exact_percentiles_final);

/* Longest fractions array; more is a mistake, not a query. */
#define CX_MAX_FRACTIONS 1000

typedef struct CxValues
{
	int64		n;				/* values held */
	int64		cap;			/* room in v */
	double	   *v;
	int			nfrac;			/* fractions of the group, -1 until seen */
	double	   *frac;
	bool	   *frac_null;
	ArrayType  *frac_raw;		/* the first row's array, to skip parsing equal ones */
} CxValues;

/* Room for `more` values, in the aggregate's context (huge allocations allowed). */
static void
values_reserve(CxValues *s, int64 more)
{
	int64		need;

	if (pg_add_s64_overflow(s->n, more, &need) || need > (int64) (MaxAllocHugeSize / sizeof(double)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("exact_percentiles holds too many values"),
				 errdetail("A group may hold at most %lld values.",
						   (long long) (MaxAllocHugeSize / sizeof(double))),
				 errhint("Group by finer keys.")));
	if (need <= s->cap)
		return;
	s->cap = Max(need, Max(s->cap * 2, 1024));
	s->cap = Min(s->cap, (int64) (MaxAllocHugeSize / sizeof(double)));
	s->v = s->v ? repalloc_huge(s->v, s->cap * sizeof(double))
		: MemoryContextAllocHuge(CurrentMemoryContext, s->cap * sizeof(double));
}

static CxValues *
values_new(void)
{
	CxValues   *s = palloc0(sizeof(CxValues));

	s->nfrac = -1;
	return s;
}

/* Records the group's fractions, or checks they are the ones recorded. */
static void
values_set_fractions(CxValues *s, int nfrac, const double *frac, const bool *isnull)
{
	if (s->nfrac < 0)
	{
		s->nfrac = nfrac;
		s->frac = palloc(Max(nfrac, 1) * sizeof(double));
		s->frac_null = palloc(Max(nfrac, 1) * sizeof(bool));
		memcpy(s->frac, frac, nfrac * sizeof(double));
		memcpy(s->frac_null, isnull, nfrac * sizeof(bool));
		return;
	}
	if (s->nfrac != nfrac)
		goto differ;
	for (int i = 0; i < nfrac; i++)
		if (s->frac_null[i] != isnull[i] ||
			(!isnull[i] && memcmp(&s->frac[i], &frac[i], sizeof(double)) != 0))
			goto differ;
	return;
differ:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the fractions of exact_percentiles change within one group"),
			 errhint("Pass one constant array of fractions, such as '{0.5,0.9}'.")));
}

/* The fractions argument as C arrays: checked for dimension, range and length. */
static int
read_fractions(ArrayType *a, double **frac, bool **isnull)
{
	Datum	   *d;
	int			n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the fractions of exact_percentiles must be a one-dimensional array")));
	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, isnull, &n);
	if (n > CX_MAX_FRACTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("exact_percentiles takes at most %d fractions, got %d", CX_MAX_FRACTIONS, n)));
	*frac = palloc(Max(n, 1) * sizeof(double));
	for (int i = 0; i < n; i++)
	{
		if ((*isnull)[i])
			continue;
		(*frac)[i] = DatumGetFloat8(d[i]);
		if (!((*frac)[i] >= 0.0 && (*frac)[i] <= 1.0))	/* also NaN */
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("percentile value %g is not between 0 and 1", (*frac)[i])));
	}
	return n;
}

/* Appends the array's non-NULL elements; fractions come with every row. */
Datum
exact_percentiles_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	MemoryContext old;
	CxValues   *s;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "exact_percentiles_trans called in non-aggregate context");
	old = MemoryContextSwitchTo(aggctx);
	s = PG_ARGISNULL(0) ? values_new() : (CxValues *) PG_GETARG_POINTER(0);
	MemoryContextSwitchTo(old);

	if (!PG_ARGISNULL(2))
	{
		ArrayType  *fa = PG_GETARG_ARRAYTYPE_P(2);

		/* the same bytes as the group's first array: nothing to parse (the usual constant) */
		if (s->frac_raw == NULL || VARSIZE(fa) != VARSIZE(s->frac_raw) ||
			memcmp(fa, s->frac_raw, VARSIZE(fa)) != 0)
		{
			double	   *frac;
			bool	   *fnull;
			int			nfrac = read_fractions(fa, &frac, &fnull);

			old = MemoryContextSwitchTo(aggctx);
			values_set_fractions(s, nfrac, frac, fnull);
			if (s->frac_raw == NULL)
			{
				s->frac_raw = palloc(VARSIZE(fa));
				memcpy(s->frac_raw, fa, VARSIZE(fa));
			}
			MemoryContextSwitchTo(old);
		}
	}
	if (!PG_ARGISNULL(1))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);
		int			n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
		/* ARR_DATA_PTR, written out: its ?: mixes signedness (-Wsign-compare) */
		const double *src = (const double *) ((const char *) a +
											  (ARR_HASNULL(a) ? (size_t) a->dataoffset
											   : (size_t) ARR_OVERHEAD_NONULLS(ARR_NDIM(a))));
		bits8	   *nulls = ARR_NULLBITMAP(a);

		old = MemoryContextSwitchTo(aggctx);
		values_reserve(s, n);
		MemoryContextSwitchTo(old);
		if (nulls == NULL)
		{
			memcpy(s->v + s->n, src, (size_t) n * sizeof(double));
			s->n += n;
		}
		else
		{
			/* elements are stored without gaps for the NULLs */
			for (int i = 0; i < n; i++)
				if (nulls[i / 8] & (1 << (i % 8)))
					s->v[s->n++] = *src++;
		}
	}
	PG_RETURN_POINTER(s);
}

/* Parallel query: the union of two partial states. */
Datum
exact_percentiles_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	MemoryContext old;
	CxValues   *a;
	CxValues   *b;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "exact_percentiles_combine called in non-aggregate context");
	a = PG_ARGISNULL(0) ? NULL : (CxValues *) PG_GETARG_POINTER(0);
	b = PG_ARGISNULL(1) ? NULL : (CxValues *) PG_GETARG_POINTER(1);
	if (b == NULL)
		PG_RETURN_POINTER(a);
	old = MemoryContextSwitchTo(aggctx);
	if (a == NULL)
		a = values_new();
	if (b->nfrac >= 0)
		values_set_fractions(a, b->nfrac, b->frac, b->frac_null);
	values_reserve(a, b->n);
	MemoryContextSwitchTo(old);
	if (b->n > 0)
		memcpy(a->v + a->n, b->v, (size_t) b->n * sizeof(double));
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

/* Partial state to bytea: fractions (count, null flags, values), then the values. */
Datum
exact_percentiles_serialize(PG_FUNCTION_ARGS)
{
	CxValues   *s = (CxValues *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, (uint32) s->nfrac);
	for (int i = 0; i < s->nfrac; i++)
	{
		pq_sendbyte(&buf, s->frac_null[i] ? 1 : 0);
		pq_sendfloat8(&buf, s->frac_null[i] ? 0.0 : s->frac[i]);
	}
	pq_sendint64(&buf, s->n);
	for (int64 i = 0; i < s->n; i++)
		pq_sendfloat8(&buf, s->v[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
exact_percentiles_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	CxValues   *s;
	int32		nfrac;
	int64		n;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "exact_percentiles_deserialize called in non-aggregate context");
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	s = values_new();
	nfrac = (int32) pq_getmsgint(&buf, 4);
	if (nfrac > CX_MAX_FRACTIONS || nfrac < -1)
		elog(ERROR, "corrupt exact_percentiles state");
	if (nfrac >= 0)
	{
		double	   *frac = palloc(Max(nfrac, 1) * sizeof(double));
		bool	   *fnull = palloc(Max(nfrac, 1) * sizeof(bool));

		for (int i = 0; i < nfrac; i++)
		{
			fnull[i] = pq_getmsgbyte(&buf) != 0;
			frac[i] = pq_getmsgfloat8(&buf);
		}
		values_set_fractions(s, nfrac, frac, fnull);
	}
	n = pq_getmsgint64(&buf);
	if (n < 0 || n > (buf.len - buf.cursor) / (int64) sizeof(double))
		elog(ERROR, "corrupt exact_percentiles state");
	values_reserve(s, n);
	for (int64 i = 0; i < n; i++)
		s->v[i] = pq_getmsgfloat8(&buf);
	s->n = n;
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(s);
}

/* float8's ordering: NaN above every number, equal to NaN. */
static int
cmp_float8(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return (x > y) - (x < y);
}

/* Sorts the values once and reads every fraction as percentile_cont does. */
Datum
exact_percentiles_final(PG_FUNCTION_ARGS)
{
	CxValues   *s;
	Datum	   *out;
	bool	   *outnull;
	int			dims[1];
	int			lbs[1] = {1};

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "exact_percentiles_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (CxValues *) PG_GETARG_POINTER(0);
	if (s->n == 0 || s->nfrac < 0)
		PG_RETURN_NULL();

	if (s->nfrac == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(FLOAT8OID));
	/* sorting in place: the aggregate is declared FINALFUNC_MODIFY = READ_WRITE */
	qsort(s->v, (size_t) s->n, sizeof(double), cmp_float8);
	out = palloc(Max(s->nfrac, 1) * sizeof(Datum));
	outnull = palloc(Max(s->nfrac, 1) * sizeof(bool));
	for (int i = 0; i < s->nfrac; i++)
	{
		double		pos;
		int64		lo;
		int64		hi;
		double		v;

		outnull[i] = s->frac_null[i];
		if (outnull[i])
		{
			out[i] = (Datum) 0;
			continue;
		}
		pos = s->frac[i] * (double) (s->n - 1);
		lo = (int64) floor(pos);
		hi = (int64) ceil(pos);
		v = s->v[lo];
		if (hi != lo)
			v = v + (s->v[hi] - v) * (pos - (double) lo);
		out[i] = Float8GetDatum(v);
	}
	dims[0] = s->nfrac;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(out, outnull, 1, dims, lbs, FLOAT8OID,
											 sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
