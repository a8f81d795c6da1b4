/*
 * state.c
 *		The aggregate state of retention_agg and rollup: an expanded object.
 *
 * Serialising the bitmaps on every transition would cost O(size) per row, so
 * the transition value is a PostgreSQL expanded object (utils/expandeddatum.h)
 * that lives in its own memory context, a child of the aggregate context.
 * The executor keeps a read/write expanded object owned by a child of the
 * aggregate context as it is (ExecAggTransReparent), so each row updates the
 * bitmaps in place.  The object flattens into the stored layout (retention.h)
 * when PostgreSQL needs a flat value: in the final function, when a partial
 * aggregate is sent from a parallel worker, when it is stored.
 *
 * The state maps (period index, high 32 bits of the id) to a CRoaring bitmap
 * of the low 32 bits through a simplehash table, so ids spread over the whole
 * bigint range cost O(1) per row too.  Every bitmap belongs to the object's
 * arena (set64.h), whose reset callback frees them when the object's context
 * is deleted: by DeleteExpandedObject, with the aggregate context, or during
 * abort cleanup after an ERROR.
 */
#include "retention.h"

#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"

typedef struct RetEntry
{
	uint64		key;			/* (period index, high 32 bits), see ret_key */
	roaring_bitmap_t *bm;
	char		status;
} RetEntry;

static inline uint32
ret_key_hash(uint64 key)
{
	key ^= key >> 33;
	key *= UINT64CONST(0xff51afd7ed558ccd);
	key ^= key >> 33;
	return (uint32) key;
}

#define SH_PREFIX		retmap
#define SH_ELEMENT_TYPE	RetEntry
#define SH_KEY_TYPE		uint64
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	ret_key_hash(k)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Keys sort by period, then by high key: the period index with its sign bit flipped on top. */
static inline uint64
ret_key(int32 period, uint32 high)
{
	return ((uint64) ((uint32) period ^ 0x80000000u) << 32) | high;
}

static inline int32
ret_key_period(uint64 key)
{
	return (int32) ((uint32) (key >> 32) ^ 0x80000000u);
}

typedef struct RetSorted
{
	uint64		key;
	roaring_bitmap_t *bm;
} RetSorted;

typedef struct RetState
{
	ExpandedObjectHeader hdr;
	int			kind;
	CxArena    *arena;
	retmap_hash *map;

	/* transition caches: the period of the last date, and the last bucket */
	bool		have_range;
	DateADT		range_lo;		/* [range_lo, range_hi) are the dates of period range_index */
	DateADT		range_hi;
	int32		range_index;
	uint64		last_key;
	roaring_bitmap_t *last_bm;

	/* the flat form, prepared by ret_state_prepare and valid until the next change */
	bool		prepared;
	int32		nperiods;
	CxBucket   *buckets;		/* every bucket, by period then high key */
	int32	   *period_first;	/* nperiods + 1 positions in buckets */
	int32	   *period_index;
	uint32	   *set_len;
	Size		flat_size;
} RetState;

static Size ret_get_flat_size(ExpandedObjectHeader *eohptr);
static void ret_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods ret_methods = {
	ret_get_flat_size,
	ret_flatten_into
};

static RetState *
ret_state_create(MemoryContext parent, int kind)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "retention_summary",
											  ALLOCSET_START_SMALL_SIZES);
	RetState   *st = MemoryContextAllocZero(cxt, sizeof(RetState));

	EOH_init_header(&st->hdr, &ret_methods, cxt);
	st->kind = kind;
	st->arena = cx_arena_create(cxt);
	st->map = retmap_create(cxt, 16, NULL);
	return st;
}

/* The state behind a datum, if it is one of ours. */
static RetState *
ret_state_of(Datum d, bool rw)
{
	Pointer		p = DatumGetPointer(d);

	if (rw ? VARATT_IS_EXTERNAL_EXPANDED_RW(p) : VARATT_IS_EXTERNAL_EXPANDED(p))
	{
		ExpandedObjectHeader *eoh = DatumGetEOHP(d);

		if (eoh->eoh_methods == &ret_methods)
			return (RetState *) eoh;
	}
	return NULL;
}

static void
ret_kind_mismatch(int a, int b)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("cannot merge retention_summary values with different periods"),
			 errdetail("One summary is by %s, the other by %s.", ret_kind_name(a), ret_kind_name(b)),
			 errhint("Group by the period, or build the summaries with the same period.")));
}

/* ------------------------------------------------------------------ adding */

/* Moves the period cache to the period of d (a new period, or a date outside the cached one). */
static void
ret_state_set_range(RetState *st, DateADT d)
{
	int32		index;
	DateADT		lo,
				hi;

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date %s cannot be put in a period", ret_date_string(d)),
				 errhint("Pass finite activity dates, or filter infinite ones out.")));
	index = ret_period_index(st->kind, d);
	if (!ret_period_start(st->kind, index, &lo))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date %s is too early for a %s period", ret_date_string(d),
						ret_kind_name(st->kind)),
				 errhint("The period's first day must be a valid date.")));
	if (!ret_period_start(st->kind, (int64) index + 1, &hi))
		hi = PG_INT32_MAX;
	st->range_index = index;
	st->range_lo = lo;
	st->range_hi = hi;
	st->have_range = true;
}

/* The bitmap of key, created if it is new. */
static roaring_bitmap_t *
ret_state_bucket(RetState *st, uint64 key)
{
	RetEntry   *e = retmap_lookup(st->map, key);

	if (e == NULL)
	{
		/* the bitmap belongs to the arena before the insert can fail */
		roaring_bitmap_t *bm = cx_arena_new(st->arena);
		bool		found;

		e = retmap_insert(st->map, key, &found);
		e->bm = bm;
	}
	st->last_key = key;
	st->last_bm = e->bm;
	return e->bm;
}

static inline void
ret_state_add(RetState *st, int64 id, DateADT d)
{
	uint64		u = cx_id_to_u64(id);
	uint64		key;
	roaring_bitmap_t *bm;

	if (unlikely(!st->have_range || d < st->range_lo || d >= st->range_hi))
		ret_state_set_range(st, d);
	key = ret_key(st->range_index, (uint32) (u >> 32));
	bm = likely(st->last_bm != NULL && key == st->last_key) ? st->last_bm
		: ret_state_bucket(st, key);
	roaring_bitmap_add(bm, (uint32) u);
	st->prepared = false;
}

/* state |= a stored summary (validated set by set as it is read; XX001 if damaged). */
static void
ret_state_merge_flat(RetState *st, const RetFlat *f)
{
	if (f->kind != st->kind)
		ret_kind_mismatch(st->kind, f->kind);
	for (int32 i = 0; i < f->nperiods; i++)
	{
		int32		period = ret_period_index(f->kind, RET_DIR(f)[i].start);
		CxR64Cursor c;
		const char *why = NULL;
		uint32		high;
		const char *bm;
		size_t		bmlen;
		int			rc;

		if (!cx_r64_begin(&c, RET_SET_DATA(f, i), RET_DIR(f)[i].length, &why))
			ret_data_corrupted(why);
		while ((rc = cx_r64_next(&c, &high, &bm, &bmlen, &why)) > 0)
		{
			uint64		key = ret_key(period, high);
			RetEntry   *e = retmap_lookup(st->map, key);
			uint32		small[CX_SMALL_MAX];
			uint32		nsmall;
			roaring_bitmap_t *r;

			if (cx_r32_small(bm, bmlen, small, &nsmall))
			{
				/* a few values (the usual bucket of sparse ids): no deserialising */
				r = e != NULL ? e->bm : ret_state_bucket(st, key);
				roaring_bitmap_add_many(r, nsmall, small);
			}
			else if (e != NULL)
			{
				/* nothing between the malloc and the free can raise an error */
				r = cx_r32_read(bm, bmlen, &why);
				if (r == NULL)
					ret_data_corrupted(why);
				roaring_bitmap_or_inplace(e->bm, r);
				roaring_bitmap_free(r);
			}
			else
			{
				bool		found;

				cx_arena_reserve(st->arena);
				r = cx_r32_read(bm, bmlen, &why);
				if (r == NULL)
					ret_data_corrupted(why);
				cx_arena_keep(st->arena, r);
				e = retmap_insert(st->map, key, &found);
				e->bm = r;
			}
		}
		if (rc < 0)
			ret_data_corrupted(why);
	}
	st->prepared = false;
}

/* ------------------------------------------------------------------ flattening */

static int
sorted_cmp(const void *a, const void *b)
{
	uint64		x = ((const RetSorted *) a)->key;
	uint64		y = ((const RetSorted *) b)->key;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Sorts the buckets, puts every bitmap in canonical form and sizes every set:
 * the flat form minus the bytes.  Canonical form: each container as an array
 * (at most 4096 values) or a bitset, then as runs when that is strictly
 * smaller (CRoaring's run_optimize).  The state only ever adds values, so a
 * bitset never holds 4096 values or fewer, and the serialised bytes are a
 * function of the set: parallel, rollup and direct builds print the same text.
 */
static void
ret_state_prepare(RetState *st)
{
	MemoryContext cxt = st->hdr.eoh_context;
	uint32		nb = st->map->members;
	RetSorted  *sorted;
	retmap_iterator it;
	RetEntry   *e;
	uint32		k = 0;
	int32		np = 0;
	Size		size;

	if (st->prepared)
		return;
	if (st->buckets != NULL)
	{
		pfree(st->buckets);
		pfree(st->period_first);
		pfree(st->period_index);
		pfree(st->set_len);
	}
	sorted = MemoryContextAllocHuge(cxt, Max(nb, 1) * sizeof(RetSorted));
	retmap_start_iterate(st->map, &it);
	while ((e = retmap_iterate(st->map, &it)) != NULL)
	{
		sorted[k].key = e->key;
		sorted[k].bm = e->bm;
		k++;
	}
	qsort(sorted, nb, sizeof(RetSorted), sorted_cmp);
	for (uint32 i = 0; i < nb; i++)
		if (i == 0 || ret_key_period(sorted[i].key) != ret_key_period(sorted[i - 1].key))
			np++;

	st->buckets = MemoryContextAllocHuge(cxt, Max(nb, 1) * sizeof(CxBucket));
	st->period_first = MemoryContextAlloc(cxt, (np + 1) * sizeof(int32));
	st->period_index = MemoryContextAlloc(cxt, Max(np, 1) * sizeof(int32));
	st->set_len = MemoryContextAlloc(cxt, Max(np, 1) * sizeof(uint32));
	np = 0;
	for (uint32 i = 0; i < nb; i++)
	{
		if (i == 0 || ret_key_period(sorted[i].key) != ret_key_period(sorted[i - 1].key))
		{
			st->period_first[np] = i;
			st->period_index[np] = ret_key_period(sorted[i].key);
			np++;
		}
		st->buckets[i].high = (uint32) sorted[i].key;
		st->buckets[i].bm = sorted[i].bm;
		st->buckets[i].n = 0;
		st->buckets[i].vals = NULL;
		/* canonical containers: the bytes depend only on the set, not on how it was built */
		roaring_bitmap_remove_run_compression(sorted[i].bm);
		roaring_bitmap_run_optimize(sorted[i].bm);
	}
	st->period_first[np] = nb;
	pfree(sorted);

	size = RET_DATA_START(np);
	for (int32 p = 0; p < np; p++)
	{
		Size		len = cx_set64_serialized_size(&st->buckets[st->period_first[p]],
												   st->period_first[p + 1] - st->period_first[p]);

		if (len > PG_UINT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a retention_summary period holds more than 4 GB of ids")));
		st->set_len[p] = (uint32) len;
		size = MAXALIGN(size) + len;
	}
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("retention_summary would take %zu bytes, more than a value can hold (1 GB)",
						size),
				 errhint("Build summaries over fewer periods or fewer customers, and merge them "
						 "with rollup() in queries.")));
	st->nperiods = np;
	st->flat_size = size;
	st->prepared = true;
}

static Size
ret_get_flat_size(ExpandedObjectHeader *eohptr)
{
	RetState   *st = (RetState *) eohptr;

	ret_state_prepare(st);
	return st->flat_size;
}

static void
ret_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	RetState   *st = (RetState *) eohptr;
	RetFlat    *f = (RetFlat *) result;
	RetDirEntry *dir = RET_DIR(f);
	Size		off = RET_DATA_START(st->nperiods);

	ret_state_prepare(st);
	if (allocated_size != st->flat_size)
		elog(ERROR, "retention_summary flattens into %zu bytes, not %zu",
			 st->flat_size, allocated_size);
	memset(result, 0, allocated_size);
	SET_VARSIZE(f, allocated_size);
	f->version = RETENTION_VERSION;
	f->kind = (uint8) st->kind;
	f->nperiods = st->nperiods;
	for (int32 p = 0; p < st->nperiods; p++)
	{
		DateADT		start;
		Size		written;

		if (!ret_period_start(st->kind, st->period_index[p], &start))
			elog(ERROR, "retention_summary period %d has no first day", st->period_index[p]);
		off = MAXALIGN(off);
		dir[p].start = start;
		dir[p].offset = (uint32) off;
		dir[p].length = st->set_len[p];
		written = cx_set64_serialize(&st->buckets[st->period_first[p]],
									 st->period_first[p + 1] - st->period_first[p],
									 (char *) result + off);
		if (written != st->set_len[p])
			elog(ERROR, "retention_summary set serialised to %zu bytes, not %u",
				 written, st->set_len[p]);
		off += written;
	}
}

/* A flat copy of the state in the current memory context; NULL when it holds no customers. */
static RetFlat *
ret_state_flatten(RetState *st)
{
	Size		size;
	RetFlat    *f;

	if (st->map->members == 0)
		return NULL;
	size = EOH_get_flat_size(&st->hdr);
	f = palloc(size);
	EOH_flatten_into(&st->hdr, f, size);
	return f;
}

/* ------------------------------------------------------------------ aggregates */

/*
 * The aggregate's own state from argument 0: our read/write expanded object,
 * updated in place; anything else (never expected) is expanded into a new
 * state in the aggregate context.
 */
static RetState *
ret_state_arg(FunctionCallInfo fcinfo, MemoryContext aggctx)
{
	RetState   *st = ret_state_of(PG_GETARG_DATUM(0), true);

	if (st == NULL || MemoryContextGetParent(st->hdr.eoh_context) != aggctx)
	{
		RetFlat    *f = PG_GETARG_RETENTION(0);

		st = ret_state_create(aggctx, f->kind);
		ret_state_merge_flat(st, f);
	}
	return st;
}

/*
 * retention_agg(customer_id, active_on [, period]).  Rows with a NULL
 * argument are skipped.  The period must stay the same within a group.
 */
PG_FUNCTION_INFO_V1(retention_agg_trans);
Datum
retention_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	RetState   *st = NULL;
	int			kind = RET_MONTH;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "retention_agg transition function called in non-aggregate context");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || (PG_NARGS() > 3 && PG_ARGISNULL(3)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (!PG_ARGISNULL(0))
		st = ret_state_arg(fcinfo, aggctx);
	if (PG_NARGS() > 3)
	{
		text	   *t = PG_GETARG_TEXT_PP(3);
		const char *name = st ? ret_kind_name(st->kind) : NULL;

		/* the usual case, a constant period, costs one short comparison */
		if (name != NULL && VARSIZE_ANY_EXHDR(t) == strlen(name) &&
			memcmp(VARDATA_ANY(t), name, VARSIZE_ANY_EXHDR(t)) == 0)
			kind = st->kind;
		else
			kind = ret_kind_from_text(t);
	}
	if (st == NULL)
		st = ret_state_create(aggctx, kind);
	else if (unlikely(st->kind != kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period changes within one aggregate group, from %s to %s",
						ret_kind_name(st->kind), ret_kind_name(kind)),
				 errhint("Group by the period, or pass one constant period per group.")));
	ret_state_add(st, PG_GETARG_INT64(1), PG_GETARG_DATEADT(2));
	PG_RETURN_DATUM(EOHPGetRWDatum(&st->hdr));
}

/*
 * merge(a, b): the union per period.  It is also the combine function of
 * retention_agg and the transition function of rollup(): inside an aggregate
 * the first argument is the aggregate's own expanded state, updated in place.
 * As a plain function it never modifies its arguments and returns a new
 * value.  NULL on one side returns the other.
 */
PG_FUNCTION_INFO_V1(retention_summary_merge);
Datum
retention_summary_merge(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	RetState   *st;
	RetFlat    *a;
	RetFlat    *b;
	MemoryContext cxt;
	RetFlat    *result;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (AggCheckCallContext(fcinfo, &aggctx))
	{
		b = PG_GETARG_RETENTION(1);
		st = PG_ARGISNULL(0) ? ret_state_create(aggctx, b->kind) : ret_state_arg(fcinfo, aggctx);
		ret_state_merge_flat(st, b);
		PG_RETURN_DATUM(EOHPGetRWDatum(&st->hdr));
	}
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(PG_GETARG_RETENTION(1));
	a = PG_GETARG_RETENTION(0);
	b = PG_GETARG_RETENTION(1);
	if (a->kind != b->kind)
		ret_kind_mismatch(a->kind, b->kind);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary merge",
								ALLOCSET_DEFAULT_SIZES);
	st = ret_state_create(cxt, a->kind);
	ret_state_merge_flat(st, a);
	ret_state_merge_flat(st, b);
	result = ret_state_flatten(st);
	if (result == NULL)			/* two empty summaries */
	{
		result = palloc0(RET_DATA_START(0));
		SET_VARSIZE(result, RET_DATA_START(0));
		result->version = RETENTION_VERSION;
		result->kind = (uint8) a->kind;
	}
	MemoryContextDelete(cxt);	/* frees the bitmaps */
	PG_RETURN_POINTER(result);
}

/* Final function of retention_agg and rollup: the flat summary, NULL when empty. */
PG_FUNCTION_INFO_V1(retention_summary_nonempty);
Datum
retention_summary_nonempty(PG_FUNCTION_ARGS)
{
	RetState   *st = ret_state_of(PG_GETARG_DATUM(0), false);
	RetFlat    *f;

	if (st != NULL)
		f = ret_state_flatten(st);
	else
	{
		f = PG_GETARG_RETENTION(0);
		if (f->nperiods == 0)
			f = NULL;
	}
	if (f == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(f);
}
