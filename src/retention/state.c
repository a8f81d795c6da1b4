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
#include "dict.h"

#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"

/*
 * One bucket of the state: a CRoaring bitmap, and once the bucket is busy, a
 * buffer of values not added yet.  Random ids set bits all over the bitsets
 * of every period, one cache miss per row; buffered values are radix-sorted
 * and added as a batch (a sorted temporary bitmap unioned in), container by
 * container.  Buckets of sparse ids never get a buffer.
 */
#define RET_PEND_AFTER	256		/* direct adds before a bucket gets a buffer */
#define RET_PEND_SIZE	2048	/* values buffered per busy bucket */

typedef struct RetBucket
{
	roaring_bitmap_t *bm;
	uint32	   *pend;			/* NULL until the bucket is busy */
	uint32		npend;
	uint32		adds;			/* direct adds so far */
} RetBucket;

typedef struct RetEntry
{
	uint64		key;			/* (period index, high 32 bits), see ret_key */
	RetBucket  *b;				/* stable: simplehash moves its entries */
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

/*
 * Transition cache, direct-mapped on the date: the date's period, and the
 * bitmap of the last bucket seen on that date.  Input in any date order
 * costs no calendar arithmetic and, for dense ids, no hash lookup.
 */
#define RET_DATE_SLOTS_FIRST	16
#define RET_DATE_SLOTS_MAX		1024	/* grown to on misses, once a state is busy */

typedef struct RetDateSlot
{
	DateADT		date;
	int32		period;
	uint64		key;
	RetBucket  *b;				/* NULL: the slot is empty */
} RetDateSlot;

typedef struct RetState
{
	ExpandedObjectHeader hdr;
	int			kind;
	CxArena    *arena;
	retmap_hash *map;
	RetDateSlot *slots;			/* allocated on the first row */
	uint32		nslots;			/* a power of two */
	uint64		misses;			/* slot misses, to decide when to grow */
	uint32	   *scratch;		/* RET_PEND_SIZE values, for the radix sort */

	int			version;		/* written by flattening: RETENTION_VERSION_COMPACT, or 1 */

	/* the flat form, prepared by ret_state_prepare and valid until the next change */
	bool		prepared;
	int32		nperiods;
	CxBucket   *buckets;		/* every bucket, by period then high key */
	int32	   *period_first;	/* nperiods + 1 positions in buckets */
	int32	   *period_index;
	uint32	   *set_len;
	char	  **pos_bytes;		/* version 2: per period, its canonical bitmap of positions */
	int32		npos_bytes;		/* entries of pos_bytes */
	char	   *dict;			/* version 2: the dictionary's bytes */
	Size		dict_len;
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
	st->version = RETENTION_VERSION_COMPACT;
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

/* retention_agg's period differs between rows of one group (22023). */
static void
ret_period_change(int from, int to)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("period changes within one aggregate group, from %s to %s",
					ret_kind_name(from), ret_kind_name(to)),
			 errhint("Group by the period, or pass one constant period per group.")));
}

/* The period kind of a retention_summary datum, expanded or flat, without flattening it. */
static int
ret_datum_kind(Datum d)
{
	RetState   *st = ret_state_of(d, false);

	if (st != NULL)
		return st->kind;
	return ((RetFlat *) PG_DETOAST_DATUM(d))->kind;
}

/* ------------------------------------------------------------------ adding */

/* The period of a finite date, checked (22008 when it cannot be bucketed). */
static int32
ret_state_period_of(RetState *st, DateADT d)
{
	int32		index;
	DateADT		start;

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date %s cannot be put in a period", ret_date_string(d)),
				 errhint("Pass finite activity dates, or filter infinite ones out.")));
	index = ret_period_index(st->kind, d);
	if (!ret_period_start(st->kind, index, &start))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date %s is too early for a %s period", ret_date_string(d),
						ret_kind_name(st->kind)),
				 errhint("The period's first day must be a valid date.")));
	return index;
}

/* The bucket of key, created if it is new. */
static RetBucket *
ret_state_bucket(RetState *st, uint64 key)
{
	RetEntry   *e = retmap_lookup(st->map, key);

	if (e == NULL)
	{
		RetBucket  *b = MemoryContextAllocZero(st->hdr.eoh_context, sizeof(RetBucket));
		bool		found;

		/* the bitmap belongs to the arena before the insert can fail */
		b->bm = cx_arena_new(st->arena);
		e = retmap_insert(st->map, key, &found);
		e->b = b;
	}
	return e->b;
}

/* LSD radix sort of n uint32 values (3 passes of 11, 11 and 10 bits); the result is in a. */
static void
radix_sort_u32(uint32 *a, uint32 *tmp, uint32 n)
{
	static const int shift[3] = {0, 11, 22};
	static const uint32 mask[3] = {0x7FF, 0x7FF, 0x3FF};
	uint32	   *from = a,
			   *to = tmp;

	for (int pass = 0; pass < 3; pass++)
	{
		uint32		count[2048] = {0};
		uint32		sum = 0;

		for (uint32 i = 0; i < n; i++)
			count[(from[i] >> shift[pass]) & mask[pass]]++;
		if (count[(from[0] >> shift[pass]) & mask[pass]] == n)
			continue;			/* one digit value: already in order for this pass */
		for (int d = 0; d <= (int) mask[pass]; d++)
		{
			uint32		c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (uint32 i = 0; i < n; i++)
			to[count[(from[i] >> shift[pass]) & mask[pass]]++] = from[i];
		from = to;
		to = (from == a) ? tmp : a;
	}
	if (from != a)
		memcpy(a, from, n * sizeof(uint32));
}

/* Adds the buffered values of a bucket. */
static void
ret_bucket_flush(RetState *st, RetBucket *b)
{
	roaring_bitmap_t *batch;

	if (b->npend == 0)
		return;
	if (st->scratch == NULL)
		st->scratch = MemoryContextAlloc(st->hdr.eoh_context, RET_PEND_SIZE * sizeof(uint32));
	radix_sort_u32(b->pend, st->scratch, b->npend);
	/* sorted values append to the batch's containers; nothing here can raise an error */
	batch = roaring_bitmap_of_ptr(b->npend, b->pend);
	if (batch == NULL)
		cx_roaring_oom();
	roaring_bitmap_or_inplace(b->bm, batch);
	roaring_bitmap_free(batch);
	b->npend = 0;
}

static void
ret_state_flush_all(RetState *st)
{
	retmap_iterator it;
	RetEntry   *e;

	retmap_start_iterate(st->map, &it);
	while ((e = retmap_iterate(st->map, &it)) != NULL)
		ret_bucket_flush(st, e->b);
}

/* Slow path of ret_state_add: fills the date's cache slot. */
static pg_noinline RetBucket *
ret_state_slot_fill(RetState *st, DateADT d, uint32 high)
{
	RetDateSlot *slot;

	if (st->slots == NULL ||
		(st->nslots < RET_DATE_SLOTS_MAX && ++st->misses > 4 * (uint64) st->nslots))
	{
		/* start small (many groups), grow when rows keep missing (one busy state) */
		uint32		n = st->slots == NULL ? RET_DATE_SLOTS_FIRST : Min(st->nslots * 4, RET_DATE_SLOTS_MAX);

		if (st->slots != NULL)
			pfree(st->slots);
		st->slots = MemoryContextAllocZero(st->hdr.eoh_context, n * sizeof(RetDateSlot));
		st->nslots = n;
		st->misses = 0;
	}
	slot = &st->slots[(uint32) d & (st->nslots - 1)];
	if (slot->b == NULL || slot->date != d)
	{
		slot->b = NULL;
		slot->period = ret_state_period_of(st, d);
		slot->date = d;
	}
	slot->key = ret_key(slot->period, high);
	slot->b = ret_state_bucket(st, slot->key);
	return slot->b;
}

static inline void
ret_state_add(RetState *st, int64 id, DateADT d)
{
	uint64		u = cx_id_to_u64(id);
	uint32		high = (uint32) (u >> 32);
	RetDateSlot *slot = st->slots ? &st->slots[(uint32) d & (st->nslots - 1)] : NULL;
	RetBucket  *b;

	if (likely(slot != NULL && slot->b != NULL && slot->date == d &&
			   slot->key == ret_key(slot->period, high)))
		b = slot->b;
	else
		b = ret_state_slot_fill(st, d, high);
	if (b->pend != NULL)
	{
		b->pend[b->npend++] = (uint32) u;
		if (unlikely(b->npend == RET_PEND_SIZE))
			ret_bucket_flush(st, b);
	}
	else
	{
		roaring_bitmap_add(b->bm, (uint32) u);
		if (unlikely(++b->adds == RET_PEND_AFTER))
			b->pend = MemoryContextAlloc(st->hdr.eoh_context, RET_PEND_SIZE * sizeof(uint32));
	}
	st->prepared = false;
}

/* state |= a stored summary (validated set by set as it is read; XX001 if damaged). */
/*
 * Adds a version 2 value: each period's positions, mapped to their ids
 * through the dictionary, as rows would add them.
 */
static void
ret_state_merge_compact(RetState *st, const RetFlat *f)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary read",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	CxArena    *arena = cx_arena_create(cxt);
	size_t		n;
	uint64	   *ids = ret_flat_ids(f, &n);

	for (int32 i = 0; i < f->nperiods; i++)
	{
		CxSet64    *set = ret_flat_read_set(arena, f, i);
		DateADT		start = RET_DIR(f)[i].start;
		const CxBucket *b = &set->b[0];
		const uint32 *pos = b->vals;
		uint64		card = b->bm ? roaring_bitmap_get_cardinality(b->bm) : b->n;

		if (b->bm)
		{
			uint32	   *all = palloc_extended(card * sizeof(uint32), MCXT_ALLOC_HUGE);

			roaring_bitmap_to_uint32_array(b->bm, all);
			pos = all;
		}
		MemoryContextSwitchTo(old);
		for (uint64 k = 0; k < card; k++)
			ret_state_add(st, (int64) (ids[pos[k]] ^ (UINT64CONST(1) << 63)), start);
		MemoryContextSwitchTo(cxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

static void
ret_state_merge_flat(RetState *st, const RetFlat *f)
{
	if (f->kind != st->kind)
		ret_kind_mismatch(st->kind, f->kind);
	if (f->version == RETENTION_VERSION_COMPACT)
	{
		ret_state_merge_compact(st, f);
		return;
	}
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
				r = (e != NULL ? e->b : ret_state_bucket(st, key))->bm;
				roaring_bitmap_add_many(r, nsmall, small);
			}
			else if (e != NULL)
			{
				/* nothing between the malloc and the free can raise an error */
				r = cx_r32_read(bm, bmlen, &why);
				if (r == NULL)
					ret_data_corrupted(why);
				roaring_bitmap_or_inplace(e->b->bm, r);
				roaring_bitmap_free(r);
			}
			else
			{
				RetBucket  *b = MemoryContextAllocZero(st->hdr.eoh_context, sizeof(RetBucket));
				bool		found;

				cx_arena_reserve(st->arena);
				r = cx_r32_read(bm, bmlen, &why);
				if (r == NULL)
					ret_data_corrupted(why);
				b->bm = cx_arena_keep(st->arena, r);
				e = retmap_insert(st->map, key, &found);
				e->b = b;
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
 * Removes the run containers of a bitmap by rebuilding it from its values,
 * in place (the pointer, which memory cleanup tracks, stays the same).
 * libroaring 0.2.66's roaring_bitmap_remove_run_compression must not be used:
 * on a run ending at 0xFFFF its 16-bit loop counter never stops and writes
 * past the container.
 */
static void
ret_bitmap_without_runs(roaring_bitmap_t *bm)
{
	uint64		card = roaring_bitmap_get_cardinality(bm);
	uint32	   *vals;
	roaring_bitmap_t *fresh;
	roaring_bitmap_t tmp;

	if (card == 0)
		return;
	vals = palloc_extended(card * sizeof(uint32), MCXT_ALLOC_HUGE);
	roaring_bitmap_to_uint32_array(bm, vals);
	fresh = roaring_bitmap_of_ptr(card, vals);
	pfree(vals);
	if (fresh == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory rebuilding a customer bitmap")));
	tmp = *bm;
	*bm = *fresh;
	*fresh = tmp;
	roaring_bitmap_free(fresh);		/* frees the old containers */
}

/* The first index in [lo, hi) whose id is >= x (hi if none), galloping from lo. */
static inline size_t
ret_gallop(const uint64 *ids, size_t lo, size_t hi, uint64 x)
{
	size_t		prev = lo,
				step = 1,
				l,
				r;

	if (lo >= hi || ids[lo] >= x)
		return lo;
	while (prev + step < hi && ids[prev + step] < x)
	{
		prev += step;
		step <<= 1;
	}
	l = prev + 1;
	r = Min(prev + step, hi);
	while (l < r)
	{
		size_t		m = l + (r - l) / 2;

		if (ids[m] < x)
			l = m + 1;
		else
			r = m;
	}
	return l;
}

typedef struct RetHigh
{
	uint32		high;
	uint32		nbm;			/* buckets with this high key */
	uint32		card;			/* distinct low values over all periods */
	uint32		min;
	bool		contiguous;		/* the low values are min ... min + card - 1 */
	size_t		first;			/* position of its first id in the dictionary */
} RetHigh;

static int
u32_cmp_state(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

static RetHigh *
ret_high_find(RetHigh *h, uint32 nh, uint32 high)
{
	uint32		lo = 0,
				hi = nh;

	while (lo < hi)
	{
		uint32		m = lo + (hi - lo) / 2;

		if (h[m].high < high)
			lo = m + 1;
		else
			hi = m;
	}
	Assert(lo < nh && h[lo].high == high);
	return &h[lo];
}

/*
 * Version 2 from the prepared buckets (docs/retention.md, "Sparse ids"): the
 * dictionary is the union of every period's ids, high key by high key, and
 * each period's bitmap holds the ranks of its ids in it.  When a high key's
 * ids are consecutive (dense ids: 1 ... n) a rank is a subtraction; else it
 * is found by galloping through the dictionary, since a bucket's values are
 * sorted.  Each bitmap is written in the canonical encoding (canon.c) and the
 * dictionary in its canonical encoding (dict.c).
 */
static void
ret_state_prepare_compact(RetState *st)
{
	MemoryContext keep = st->hdr.eoh_context;
	MemoryContext tmp = AllocSetContextCreate(keep, "retention_summary flatten",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	CxArena    *arena = cx_arena_create(tmp);
	int32		np = st->nperiods;
	uint32		nb = st->period_first[np];
	uint32	   *hs = palloc(Max(nb, 1) * sizeof(uint32));
	uint32		nh = 0;
	RetHigh    *h;
	const roaring_bitmap_t **group;
	uint32	   *gpos;
	uint64	   *ids;
	uint32	   *vals;
	uint64		n = 0;
	uint32		maxcard = 1;
	roaring_bitmap_t *pos;
	Size		size;

	for (uint32 i = 0; i < nb; i++)
		hs[i] = st->buckets[i].high;
	qsort(hs, nb, sizeof(uint32), u32_cmp_state);
	for (uint32 i = 0; i < nb; i++)
		if (nh == 0 || hs[nh - 1] != hs[i])
			hs[nh++] = hs[i];
	h = palloc0(Max(nh, 1) * sizeof(RetHigh));
	for (uint32 i = 0; i < nh; i++)
		h[i].high = hs[i];
	for (uint32 i = 0; i < nb; i++)
		ret_high_find(h, nh, st->buckets[i].high)->nbm++;

	/* the buckets grouped by high key, then each group's union */
	gpos = palloc(Max(nh, 1) * sizeof(uint32));
	for (uint32 i = 0, at = 0; i < nh; i++)
	{
		gpos[i] = at;
		at += h[i].nbm;
	}
	group = palloc(Max(nb, 1) * sizeof(roaring_bitmap_t *));
	for (uint32 i = 0; i < nb; i++)
	{
		RetHigh    *e = ret_high_find(h, nh, st->buckets[i].high);

		group[gpos[e - h]++] = st->buckets[i].bm;
	}
	for (uint32 i = 0, at = 0; i < nh; i++)
	{
		roaring_bitmap_t *u;

		if (h[i].nbm == 1)
			u = (roaring_bitmap_t *) group[at];
		else
		{
			cx_arena_reserve(arena);
			u = cx_arena_keep(arena, roaring_bitmap_or_many(h[i].nbm, group + at));
		}
		h[i].card = (uint32) roaring_bitmap_get_cardinality(u);
		h[i].min = roaring_bitmap_minimum(u);
		h[i].contiguous = (uint64) roaring_bitmap_maximum(u) - h[i].min + 1 == h[i].card;
		h[i].first = n;
		n += h[i].card;
		maxcard = Max(maxcard, h[i].card);
		group[i] = u;			/* group i's union, over entries already read */
		at += h[i].nbm;
	}
	if (n > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a retention_summary holds more than 4294967295 customers")));

	/* the dictionary */
	ids = MemoryContextAllocHuge(tmp, Max(n, 1) * sizeof(uint64));
	vals = MemoryContextAllocHuge(tmp, (Size) maxcard * sizeof(uint32));
	for (uint32 i = 0; i < nh; i++)
	{
		roaring_bitmap_to_uint32_array(group[i], vals);
		for (uint32 k = 0; k < h[i].card; k++)
			ids[h[i].first + k] = ((uint64) h[i].high << 32) | vals[k];
	}
	{
		int			enc;
		Size		dlen = cx_dict_size(ids, n, &enc);

		if (st->dict != NULL)
			pfree(st->dict);
		st->dict = MemoryContextAllocHuge(keep, dlen);
		st->dict_len = cx_dict_encode(ids, n, st->dict);
	}

	/* each period's positions */
	if (st->pos_bytes != NULL)
	{
		for (int32 p = 0; p < st->npos_bytes; p++)
			if (st->pos_bytes[p] != NULL)
				pfree(st->pos_bytes[p]);
		pfree(st->pos_bytes);
		st->pos_bytes = NULL;
	}
	st->pos_bytes = MemoryContextAllocZero(keep, Max(np, 1) * sizeof(char *));
	st->npos_bytes = np;
	pos = cx_arena_new(arena);
	size = RET_DATA_START(np);
	for (int32 p = 0; p < np; p++)
	{
		Size		blen,
					clen;
		char	   *bytes;
		bool		same;

		roaring_bitmap_clear(pos);
		for (int32 i = st->period_first[p]; i < st->period_first[p + 1]; i++)
		{
			const CxBucket *b = &st->buckets[i];
			RetHigh    *e = ret_high_find(h, nh, b->high);
			uint32		card = (uint32) roaring_bitmap_get_cardinality(b->bm);

			roaring_bitmap_to_uint32_array(b->bm, vals);
			if (e->contiguous)
			{
				uint32		shift = (uint32) e->first - e->min;	/* modulo 2^32 */

				for (uint32 k = 0; k < card; k++)
					vals[k] += shift;
			}
			else
			{
				size_t		j = e->first;
				size_t		end = e->first + e->card;
				uint64		hk = (uint64) b->high << 32;

				for (uint32 k = 0; k < card; k++)
				{
					j = ret_gallop(ids, j, end, hk | vals[k]);
					Assert(j < end && ids[j] == (hk | vals[k]));
					vals[k] = (uint32) j;
				}
			}
			roaring_bitmap_add_many(pos, card, vals);
		}
		roaring_bitmap_run_optimize(pos);
		blen = roaring_bitmap_portable_size_in_bytes(pos);
		bytes = palloc_extended(blen, MCXT_ALLOC_HUGE);
		if (roaring_bitmap_portable_serialize(pos, bytes) != blen)
			elog(ERROR, "retention_summary bitmap serialised to an unexpected size");
		clen = cx_r32_canonical_size(bytes, blen, &same);
		st->pos_bytes[p] = MemoryContextAllocHuge(keep, clen);
		if (cx_r32_canonicalize(bytes, blen, st->pos_bytes[p]) != clen)
			elog(ERROR, "retention_summary bitmap canonicalised to an unexpected size");
		pfree(bytes);
		st->set_len[p] = (uint32) clen;
		size = MAXALIGN(size) + clen;
	}
	size = MAXALIGN(size) + st->dict_len;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);	/* frees the unions and the positions' bitmap */
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("retention_summary would take %zu bytes, more than a value can hold (1 GB)",
						size),
				 errhint("Build summaries over fewer periods or fewer customers, and merge them "
						 "with rollup() in queries.")));
	st->flat_size = size;
}

/*
 * Sorts the buckets and sizes every set: the flat form minus the bytes.  The
 * sets are written in the canonical encoding (canon.c, by cx_set64_serialize),
 * a function of the set whatever CRoaring version runs: parallel, rollup and
 * direct builds print the same text on every build.  Each bitmap is first
 * rebuilt without runs and run-optimised; libroaring 0.2.66 then writes the
 * canonical bytes itself and the serialiser only checks them (CRoaring 4.x
 * differs at array/run ties, which the serialiser rewrites).
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
	ret_state_flush_all(st);
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
		sorted[k].bm = e->b->bm;
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
		if (st->version == RETENTION_VERSION)
		{
			/* arrays and bitsets, then runs where smaller: canonical already with libroaring 0.2.66 */
			ret_bitmap_without_runs(sorted[i].bm);
			roaring_bitmap_run_optimize(sorted[i].bm);
		}
	}
	st->period_first[np] = nb;
	pfree(sorted);
	st->nperiods = np;
	if (st->version == RETENTION_VERSION_COMPACT)
	{
		ret_state_prepare_compact(st);
		st->prepared = true;
		return;
	}

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

/*
 * The two flatten methods may be called in any memory context, including one
 * that cannot free (a Sort's tuple context is a Bump context from PostgreSQL
 * 17 on), so their scratch memory comes from the object's own context.
 */
static Size
ret_get_flat_size(ExpandedObjectHeader *eohptr)
{
	RetState   *st = (RetState *) eohptr;
	MemoryContext old = MemoryContextSwitchTo(st->hdr.eoh_context);

	ret_state_prepare(st);
	MemoryContextSwitchTo(old);
	return st->flat_size;
}

static void
ret_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	RetState   *st = (RetState *) eohptr;
	RetFlat    *f = (RetFlat *) result;
	RetDirEntry *dir = RET_DIR(f);
	Size		off;
	MemoryContext old = MemoryContextSwitchTo(st->hdr.eoh_context);

	ret_state_prepare(st);		/* sets nperiods */
	off = RET_DATA_START(st->nperiods);
	if (allocated_size != st->flat_size)
		elog(ERROR, "retention_summary flattens into %zu bytes, not %zu",
			 st->flat_size, allocated_size);
	memset(result, 0, allocated_size);
	SET_VARSIZE(f, allocated_size);
	f->version = (uint8) st->version;
	f->kind = (uint8) st->kind;
	f->nperiods = st->nperiods;
	if (st->version == RETENTION_VERSION_COMPACT)
	{
		for (int32 p = 0; p < st->nperiods; p++)
		{
			DateADT		start;

			if (!ret_period_start(st->kind, st->period_index[p], &start))
				elog(ERROR, "retention_summary period %d has no first day", st->period_index[p]);
			off = MAXALIGN(off);
			dir[p].start = start;
			dir[p].offset = (uint32) off;
			dir[p].length = st->set_len[p];
			memcpy((char *) result + off, st->pos_bytes[p], st->set_len[p]);
			off += st->set_len[p];
		}
		off = MAXALIGN(off);
		if (off + st->dict_len != allocated_size)
			elog(ERROR, "retention_summary dictionary does not end the value");
		memcpy((char *) result + off, st->dict, st->dict_len);
		MemoryContextSwitchTo(old);
		return;
	}
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
	MemoryContextSwitchTo(old);
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
		cx_not_in_aggregate(fcinfo);
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

		/* the usual case, a constant period, costs one short comparison per row */
		if (name != NULL && VARSIZE_ANY_EXHDR(t) == strlen(name) &&
			pg_strncasecmp(VARDATA_ANY(t), name, VARSIZE_ANY_EXHDR(t)) == 0)
			kind = st->kind;
		else
			kind = ret_kind_from_text(t);
	}
	if (st == NULL)
		st = ret_state_create(aggctx, kind);
	else if (unlikely(st->kind != kind))
		ret_period_change(st->kind, kind);
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
		result = ret_flat_empty(a->kind, RETENTION_VERSION_COMPACT);
	MemoryContextDelete(cxt);	/* frees the bitmaps */
	PG_RETURN_POINTER(result);
}

/*
 * An empty summary (no periods) of the given version: version 2 holds the
 * dictionary of no ids.
 */
RetFlat *
ret_flat_empty(int kind, int version)
{
	Size		size = RET_DATA_START(0);
	RetFlat    *f;
	char		dict[16];
	Size		dlen = 0;

	if (version == RETENTION_VERSION_COMPACT)
		dlen = cx_dict_encode(NULL, 0, dict);
	f = palloc0(size + dlen);
	SET_VARSIZE(f, size + dlen);
	f->version = (uint8) version;
	f->kind = (uint8) kind;
	memcpy((char *) f + size, dict, dlen);
	return f;
}

/*
 * The same sets in the given version, through an aggregate state: version 1
 * input becomes version 2 (every value written is version 2), and version 2
 * becomes version 1 for the hash, which keeps version 1's values so that hash
 * indexes and partitions built by 1.0 stay valid.  Returns f itself when it
 * has that version already.
 */
RetFlat *
ret_flat_convert(const RetFlat *f, int version)
{
	MemoryContext cxt;
	RetState   *st;
	RetFlat    *result;

	if (f->version == version)
		return (RetFlat *) f;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary convert",
								ALLOCSET_DEFAULT_SIZES);
	st = ret_state_create(cxt, f->kind);
	st->version = version;
	ret_state_merge_flat(st, f);
	result = ret_state_flatten(st);
	if (result == NULL)			/* an empty summary */
		result = ret_flat_empty(f->kind, version);
	MemoryContextDelete(cxt);
	return result;
}

/*
 * Combine function of retention_agg: merge() of two partial states of one
 * group.  Different periods here mean the period changed within the group,
 * seen by different workers, so the error is the transition function's
 * (22023), not merge()'s error for summaries of different periods (22000).
 */
PG_FUNCTION_INFO_V1(retention_agg_combine);
Datum
retention_agg_combine(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1))
	{
		int			ka = ret_datum_kind(PG_GETARG_DATUM(0));
		int			kb = ret_datum_kind(PG_GETARG_DATUM(1));

		if (ka != kb)
			ret_period_change(ka, kb);
	}
	return retention_summary_merge(fcinfo);
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
