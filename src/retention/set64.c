/*
 * set64.c
 *		64-bit id sets over CRoaring 32-bit bitmaps: arenas that free the
 *		malloc'd bitmaps with their memory context, a full validator of the
 *		portable serialisation, and the set algebra the retention metrics use.
 */
#include "set64.h"

#include "common/hashfn.h"

/* ------------------------------------------------------------------ arenas */

void
cx_roaring_oom(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory"),
			 errdetail("CRoaring could not allocate a bitmap.")));
}

/* Reset callback: the context is going away (reset, delete, or abort cleanup). */
static void
cx_arena_free_all(void *arg)
{
	CxArena    *a = (CxArena *) arg;

	for (int64 i = 0; i < a->n; i++)
		roaring_bitmap_free(a->bms[i]);
	a->n = 0;
}

CxArena *
cx_arena_create(MemoryContext cxt)
{
	CxArena    *a = MemoryContextAllocZero(cxt, sizeof(CxArena));

	a->cxt = cxt;
	a->max = 16;
	a->bms = MemoryContextAlloc(cxt, a->max * sizeof(roaring_bitmap_t *));
	a->cb.func = cx_arena_free_all;
	a->cb.arg = a;
	MemoryContextRegisterResetCallback(cxt, &a->cb);
	return a;
}

/* Room for one more bitmap; may ERROR, so call it before the malloc it is for. */
void
cx_arena_reserve(CxArena *a)
{
	if (a->n >= a->max)
	{
		int64		newmax = a->max * 2;

		a->bms = repalloc_huge(a->bms, newmax * sizeof(roaring_bitmap_t *));
		a->max = newmax;
	}
}

/* Takes ownership of a bitmap just made (slot reserved); NULL means malloc failed. */
roaring_bitmap_t *
cx_arena_keep(CxArena *a, roaring_bitmap_t *bm)
{
	if (bm == NULL)
		cx_roaring_oom();
	Assert(a->n < a->max);
	a->bms[a->n++] = bm;
	return bm;
}

roaring_bitmap_t *
cx_arena_new(CxArena *a)
{
	cx_arena_reserve(a);
	return cx_arena_keep(a, roaring_bitmap_create());
}

roaring_bitmap_t *
cx_arena_copy(CxArena *a, const roaring_bitmap_t *bm)
{
	cx_arena_reserve(a);
	return cx_arena_keep(a, roaring_bitmap_copy(bm));
}

/* ------------------------------------------------------------------ validation */

/* smallest serialised non-empty bucket: key + run cookie + run flags + header + one value */
#define R64_MIN_BUCKET		(4 + 4 + 1 + 4 + 2)

#define R32_NEED(n) \
	do { if ((n) > maxlen - pos) { *why = "a bucket's bitmap is truncated"; return 0; } } while (0)
#define R32_FAIL(msg) \
	do { *why = (msg); return 0; } while (0)

/*
 * Validates the 32-bit portable bitmap at buf (at most maxlen bytes) and
 * returns its exact length, or 0 with *why set.  Empty bitmaps are refused.
 */
static size_t
r32_validate(const char *buf, size_t maxlen, const char **why)
{
	size_t		pos = 0;
	uint32		cookie,
				size;
	bool		hasrun;
	const char *runflags = NULL;
	const char *header;
	const char *offsets = NULL;
	int32		prev_key = -1;

	R32_NEED(4);
	cookie = cx_rd32(buf);
	pos = 4;
	if ((cookie & 0xFFFF) == R32_COOKIE_RUN)
	{
		hasrun = true;
		size = (cookie >> 16) + 1;
		R32_NEED((size + 7) / 8);
		runflags = buf + pos;
		pos += (size + 7) / 8;
	}
	else if (cookie == R32_COOKIE_NO_RUN)
	{
		hasrun = false;
		R32_NEED(4);
		size = cx_rd32(buf + pos);
		pos += 4;
		if (size > 65536)
			R32_FAIL("a bucket's bitmap has more than 65536 containers");
	}
	else
		R32_FAIL("a bucket's bitmap does not start with a portable-format cookie");
	if (size == 0)
		R32_FAIL("a bucket is empty");
	R32_NEED((size_t) size * 4);
	header = buf + pos;
	pos += (size_t) size * 4;
	if (!hasrun || size >= R32_NO_OFFSET_THRESHOLD)
	{
		R32_NEED((size_t) size * 4);
		offsets = buf + pos;
		pos += (size_t) size * 4;
	}
	for (uint32 i = 0; i < size; i++)
	{
		int32		key = cx_rd16(header + 4 * i);
		uint32		card = (uint32) cx_rd16(header + 4 * i + 2) + 1;
		bool		isrun = hasrun && ((((const uint8 *) runflags)[i / 8] >> (i % 8)) & 1);

		if (key <= prev_key)
			R32_FAIL("the containers of a bucket are not in increasing key order");
		prev_key = key;
		if (offsets != NULL && cx_rd32(offsets + 4 * i) != pos)
			R32_FAIL("a container offset does not match the container's position");
		if (isrun)
		{
			uint32		nruns;
			uint32		total = 0;
			int32		prev_end = -2;	/* a first run may start at 0 */

			R32_NEED(2);
			nruns = cx_rd16(buf + pos);
			pos += 2;
			if (nruns == 0)
				R32_FAIL("a run container has no runs");
			R32_NEED((size_t) nruns * 4);
			for (uint32 r = 0; r < nruns; r++)
			{
				int32		start = cx_rd16(buf + pos + 4 * r);
				int32		end = start + cx_rd16(buf + pos + 4 * r + 2);

				if (end > 65535)
					R32_FAIL("a run goes past the end of its container");
				/*
				 * Runs must be disjoint, increasing and separated by a gap:
				 * touching runs are a non-canonical encoding that CRoaring's
				 * run-to-run equality would call unequal to the merged run.
				 */
				if (start <= prev_end + 1)
					R32_FAIL("the runs of a run container overlap, touch or are out of order");
				prev_end = end;
				total += (uint32) (end - start + 1);
			}
			pos += (size_t) nruns * 4;
			if (total != card)
				R32_FAIL("a run container's cardinality does not match its runs");
		}
		else if (card <= R32_MAX_ARRAY)
		{
			int32		prev = -1;

			R32_NEED((size_t) card * 2);
			for (uint32 v = 0; v < card; v++)
			{
				int32		x = cx_rd16(buf + pos + 2 * v);

				if (x <= prev)
					R32_FAIL("an array container is not strictly increasing");
				prev = x;
			}
			pos += (size_t) card * 2;
		}
		else
		{
			uint64		bits = 0;

			R32_NEED(R32_BITSET_BYTES);
			for (int w = 0; w < R32_BITSET_BYTES / 8; w++)
				bits += pg_popcount64(cx_rd64(buf + pos + 8 * w));
			pos += R32_BITSET_BYTES;
			if (bits != card)
				R32_FAIL("a bitset container's cardinality does not match its bits");
		}
	}
	return pos;
}

size_t
cx_r32_validate(const char *buf, size_t maxlen, const char **why)
{
	return r32_validate(buf, maxlen, why);
}

bool
cx_r64_begin(CxR64Cursor *c, const char *buf, size_t len, const char **why)
{
	c->buf = buf;
	c->len = len;
	c->pos = 8;
	c->prev_high = -1;
	if (len < 8)
	{
		*why = "a set is shorter than its 8-byte bucket count";
		return false;
	}
	c->remaining = cx_rd64(buf);
	if (c->remaining > (len - 8) / R64_MIN_BUCKET)
	{
		*why = "a set's bucket count exceeds what its bytes can hold";
		return false;
	}
	return true;
}

int
cx_r64_next(CxR64Cursor *c, uint32 *high, const char **bm, size_t *bmlen, const char **why)
{
	size_t		n;

	if (c->remaining == 0)
	{
		if (c->pos != c->len)
		{
			*why = "a set has trailing bytes after its last bucket";
			return -1;
		}
		return 0;
	}
	if (c->len - c->pos < 4)
	{
		*why = "a set is truncated";
		return -1;
	}
	*high = cx_rd32(c->buf + c->pos);
	if ((int64) *high <= c->prev_high)
	{
		*why = "the buckets of a set are not in increasing key order";
		return -1;
	}
	c->prev_high = *high;
	c->pos += 4;
	n = r32_validate(c->buf + c->pos, c->len - c->pos, why);
	if (n == 0)
		return -1;
	*bm = c->buf + c->pos;
	*bmlen = n;
	c->pos += n;
	c->remaining--;
	return 1;
}

roaring_bitmap_t *
cx_r32_read(const char *bm, size_t bmlen, const char **why)
{
	roaring_bitmap_t *r = roaring_bitmap_portable_deserialize_safe(bm, bmlen);

	if (r == NULL)
	{
		*why = "CRoaring could not read a bucket's bitmap";
		return NULL;
	}
	if (roaring_bitmap_portable_size_in_bytes(r) != bmlen)
	{
		roaring_bitmap_free(r);
		*why = "a bucket's bitmap does not read back to its own length";
		return NULL;
	}
	return r;
}

CxSet64 *
cx_set64_read(CxArena *a, const char *buf, size_t len, const char **why)
{
	CxR64Cursor c;
	CxSet64    *s;
	uint32		high;
	const char *bm;
	size_t		bmlen;
	int			rc;

	if (!cx_r64_begin(&c, buf, len, why))
		return NULL;
	s = MemoryContextAlloc(a->cxt, sizeof(CxSet64));
	s->n = 0;
	s->b = MemoryContextAlloc(a->cxt, Max(c.remaining, 1) * sizeof(CxBucket));
	while ((rc = cx_r64_next(&c, &high, &bm, &bmlen, why)) > 0)
	{
		CxBucket   *b = &s->b[s->n];

		uint32		small[CX_SMALL_MAX];

		b->high = high;
		b->bm = NULL;
		if (cx_r32_small(bm, bmlen, small, &b->n))
		{
			uint32	   *v = MemoryContextAlloc(a->cxt, b->n * sizeof(uint32));

			memcpy(v, small, b->n * sizeof(uint32));
			b->vals = v;
		}
		else
		{
			roaring_bitmap_t *r;

			cx_arena_reserve(a);
			r = cx_r32_read(bm, bmlen, why);
			if (r == NULL)
				return NULL;
			b->bm = cx_arena_keep(a, r);
			b->n = 0;
			b->vals = NULL;
		}
		s->n++;
	}
	return rc < 0 ? NULL : s;
}

/*
 * A validated 32-bit bitmap that is one array container of at most
 * CX_SMALL_MAX values: its values, sorted, in out[CX_SMALL_MAX].
 */
bool
cx_r32_small(const char *bm, size_t bmlen, uint32 *out, uint32 *n)
{
	uint32		cookie = cx_rd32(bm);
	const char *header;
	const char *data;
	uint32		key,
				card;

	if (cookie == R32_COOKIE_NO_RUN)
	{
		if (cx_rd32(bm + 4) != 1)
			return false;
		header = bm + 8;
		data = bm + 16;			/* after the header and the offset */
	}
	else if (cookie == R32_COOKIE_RUN)	/* one container */
	{
		if (((const uint8 *) bm)[4] & 1)
			return false;		/* a run container */
		header = bm + 5;
		data = bm + 9;			/* no offsets below 4 containers */
	}
	else
		return false;
	key = cx_rd16(header);
	card = (uint32) cx_rd16(header + 2) + 1;
	if (card > CX_SMALL_MAX)
		return false;
	for (uint32 i = 0; i < card; i++)
		out[i] = (key << 16) | cx_rd16(data + 2 * i);
	*n = card;
	return true;
}

const char *
cx_set64_check(const char *buf, size_t len)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "cxkpi set check",
											  ALLOCSET_SMALL_SIZES);
	const char *why = NULL;

	if (cx_set64_read(cx_arena_create(cxt), buf, len, &why) == NULL && why == NULL)
		why = "invalid set";
	MemoryContextDelete(cxt);
	return why;
}

/* ------------------------------------------------------------------ serialisation */

/*
 * CRoaring's own serialisation of a bucket's bitmap, in a scratch buffer that
 * grows as needed (in the current memory context); returns its length.  What
 * CRoaring writes depends on its version, so callers put it in canonical form.
 */
static size_t
bucket_library_bytes(const roaring_bitmap_t *bm, char **scratch, size_t *cap)
{
	size_t		len = roaring_bitmap_portable_size_in_bytes(bm);

	if (len > *cap)
	{
		*cap = Max(len, 2 * *cap);
		*scratch = *scratch ? repalloc_huge(*scratch, *cap) : MemoryContextAllocHuge(CurrentMemoryContext, *cap);
	}
	if (roaring_bitmap_portable_serialize(bm, *scratch) != len)
		elog(ERROR, "CRoaring serialised a bitmap to an unexpected length");
	return len;
}

/* Length of the canonical serialisation of a set of bitmap buckets. */
Size
cx_set64_serialized_size(const CxBucket *b, int32 n)
{
	Size		size = 8;
	char	   *scratch = NULL;
	size_t		cap = 0;

	for (int32 i = 0; i < n; i++)
	{
		size_t		len;
		bool		same;

		Assert(b[i].bm != NULL);
		len = bucket_library_bytes(b[i].bm, &scratch, &cap);
		size += 4 + cx_r32_canonical_size(scratch, len, &same);
	}
	if (scratch)
		pfree(scratch);
	return size;
}

/* Writes the canonical serialisation of a set of bitmap buckets; returns its length. */
Size
cx_set64_serialize(const CxBucket *b, int32 n, char *out)
{
	uint64		count = (uint64) n;
	char	   *p = out;
	char	   *scratch = NULL;
	size_t		cap = 0;

	memcpy(p, &count, 8);
	p += 8;
	for (int32 i = 0; i < n; i++)
	{
		size_t		len = bucket_library_bytes(b[i].bm, &scratch, &cap);

		memcpy(p, &b[i].high, 4);
		p += 4;
		p += cx_r32_canonicalize(scratch, len, p);
	}
	if (scratch)
		pfree(scratch);
	return p - out;
}

/* ------------------------------------------------------------------ algebra */

static CxSet64 *
set_alloc(CxArena *a, int32 cap)
{
	CxSet64    *s = MemoryContextAlloc(a->cxt, sizeof(CxSet64));

	s->n = 0;
	s->b = MemoryContextAlloc(a->cxt, Max(cap, 1) * sizeof(CxBucket));
	return s;
}

CxSet64 *
cx_set64_empty(CxArena *a)
{
	return set_alloc(a, 1);
}

static inline uint64
bucket_card(const CxBucket *b)
{
	return b->bm ? roaring_bitmap_get_cardinality(b->bm) : b->n;
}

static inline bool
bucket_contains(const CxBucket *b, uint32 v)
{
	uint32		lo = 0,
				hi;

	if (b->bm)
		return roaring_bitmap_contains(b->bm, v);
	hi = b->n;
	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (b->vals[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->vals[lo] == v;
}

static uint64
bucket_and_card(const CxBucket *x, const CxBucket *y)
{
	uint64		card = 0;

	if (x->bm && y->bm)
		return roaring_bitmap_and_cardinality(x->bm, y->bm);
	if (!x->bm && !y->bm)
	{
		uint32		i = 0,
					j = 0;

		while (i < x->n && j < y->n)
		{
			if (x->vals[i] < y->vals[j])
				i++;
			else if (x->vals[i] > y->vals[j])
				j++;
			else
			{
				card++;
				i++;
				j++;
			}
		}
		return card;
	}
	if (x->bm)
	{
		const CxBucket *t = x;

		x = y;
		y = t;
	}
	for (uint32 i = 0; i < x->n; i++)
		card += roaring_bitmap_contains(y->bm, x->vals[i]);
	return card;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* The union of k buckets with the same high key: shared, small, or a new bitmap. */
static CxBucket
bucket_union(CxArena *a, const CxBucket *const *g, int k)
{
	CxBucket	r = {g[0]->high, 0, NULL, NULL};
	uint64		small = 0;
	const roaring_bitmap_t *first = NULL;

	if (k == 1)
		return *g[0];
	for (int i = 0; i < k; i++)
	{
		if (g[i]->bm == NULL)
			small += g[i]->n;
		else if (first == NULL)
			first = g[i]->bm;
	}
	if (first == NULL && small <= CX_SMALL_MAX)
	{
		uint32	   *v = MemoryContextAlloc(a->cxt, small * sizeof(uint32));
		uint32		n = 0;

		for (int i = 0; i < k; i++)
		{
			memcpy(v + n, g[i]->vals, g[i]->n * sizeof(uint32));
			n += g[i]->n;
		}
		qsort(v, n, sizeof(uint32), u32_cmp);
		r.n = 0;
		for (uint32 i = 0; i < n; i++)
			if (i == 0 || v[i] != v[i - 1])
				v[r.n++] = v[i];
		r.vals = v;
		return r;
	}
	cx_arena_reserve(a);
	r.bm = cx_arena_keep(a, first ? roaring_bitmap_copy(first) : roaring_bitmap_create());
	for (int i = 0; i < k; i++)
	{
		if (g[i]->bm == NULL)
			roaring_bitmap_add_many(r.bm, g[i]->n, g[i]->vals);
		else if (g[i]->bm != first)
			roaring_bitmap_or_inplace(r.bm, g[i]->bm);
	}
	return r;
}

uint64
cx_set64_card(const CxSet64 *s)
{
	uint64		card = 0;

	for (int32 i = 0; i < s->n; i++)
		card += bucket_card(&s->b[i]);
	return card;
}

uint64
cx_set64_and_card(const CxSet64 *x, const CxSet64 *y)
{
	uint64		card = 0;
	int32		i = 0,
				j = 0;

	while (i < x->n && j < y->n)
	{
		if (x->b[i].high < y->b[j].high)
			i++;
		else if (x->b[i].high > y->b[j].high)
			j++;
		else
		{
			card += bucket_and_card(&x->b[i], &y->b[j]);
			i++;
			j++;
		}
	}
	return card;
}

static bool
bucket_equal(const CxBucket *x, const CxBucket *y)
{
	uint64		card = bucket_card(x);

	if (x->high != y->high || card != bucket_card(y))
		return false;
	if (x->bm && y->bm)
		return roaring_bitmap_equals(x->bm, y->bm);
	return bucket_and_card(x, y) == card;
}

bool
cx_set64_equal(const CxSet64 *x, const CxSet64 *y)
{
	if (x->n != y->n)
		return false;
	for (int32 i = 0; i < x->n; i++)
		if (!bucket_equal(&x->b[i], &y->b[i]))
			return false;
	return true;
}

/* k-way merge of sorted bucket lists, for a few sets at a time */
static CxSet64 *
set_union_few(CxArena *a, CxSet64 *const *sets, int n)
{
	int32		total = 0;
	int32	   *pos = palloc0(n * sizeof(int32));
	const CxBucket **group = palloc(n * sizeof(CxBucket *));
	CxSet64    *r;

	for (int i = 0; i < n; i++)
		total += sets[i]->n;
	r = set_alloc(a, total);
	for (;;)
	{
		uint32		high = 0;
		bool		any = false;
		int			k = 0;

		for (int i = 0; i < n; i++)
			if (pos[i] < sets[i]->n && (!any || sets[i]->b[pos[i]].high < high))
			{
				high = sets[i]->b[pos[i]].high;
				any = true;
			}
		if (!any)
			break;
		for (int i = 0; i < n; i++)
			if (pos[i] < sets[i]->n && sets[i]->b[pos[i]].high == high)
				group[k++] = &sets[i]->b[pos[i]++];
		r->b[r->n++] = bucket_union(a, group, k);
	}
	pfree(pos);
	pfree(group);
	return r;
}

#define CX_UNION_FANIN	16

CxSet64 *
cx_set64_union(CxArena *a, CxSet64 *const *sets, int n)
{
	CxSet64    *halves[2];

	if (n == 0)
		return cx_set64_empty(a);
	if (n == 1)
		return sets[0];
	if (n <= CX_UNION_FANIN)
		return set_union_few(a, sets, n);
	halves[0] = cx_set64_union(a, sets, n / 2);
	halves[1] = cx_set64_union(a, sets + n / 2, n - n / 2);
	return set_union_few(a, halves, 2);
}

/* x & y, or x \ y, for two buckets with the same high key; may be empty. */
static CxBucket
bucket_combine(CxArena *a, const CxBucket *x, const CxBucket *y, bool intersect)
{
	CxBucket	r = {x->high, 0, NULL, NULL};

	if (x->bm && y->bm)
	{
		cx_arena_reserve(a);
		r.bm = cx_arena_keep(a, intersect ? roaring_bitmap_and(x->bm, y->bm)
							 : roaring_bitmap_andnot(x->bm, y->bm));
	}
	else if (x->bm && !intersect)
	{
		cx_arena_reserve(a);
		r.bm = cx_arena_keep(a, roaring_bitmap_copy(x->bm));
		for (uint32 i = 0; i < y->n; i++)
			roaring_bitmap_remove(r.bm, y->vals[i]);
	}
	else
	{
		/* filter the small side (x, or y when intersecting with a bitmap x) */
		const CxBucket *from = x->bm ? y : x;
		const CxBucket *other = x->bm ? x : y;
		uint32	   *v = MemoryContextAlloc(a->cxt, Max(from->n, 1) * sizeof(uint32));

		for (uint32 i = 0; i < from->n; i++)
			if (bucket_contains(other, from->vals[i]) == intersect)
				v[r.n++] = from->vals[i];
		r.vals = v;
	}
	return r;
}

/* x \ y (andnot) or x & y, bucket by bucket. */
static CxSet64 *
set_combine(CxArena *a, const CxSet64 *x, const CxSet64 *y, bool intersect)
{
	CxSet64    *r = set_alloc(a, x->n);
	int32		j = 0;

	for (int32 i = 0; i < x->n; i++)
	{
		CxBucket	b;

		while (j < y->n && y->b[j].high < x->b[i].high)
			j++;
		if (j >= y->n || y->b[j].high != x->b[i].high)
		{
			if (intersect)
				continue;
			b = x->b[i];		/* shared: nothing to take away */
		}
		else
		{
			b = bucket_combine(a, &x->b[i], &y->b[j], intersect);
			if (b.bm ? roaring_bitmap_is_empty(b.bm) : b.n == 0)
				continue;
		}
		r->b[r->n++] = b;
	}
	return r;
}

CxSet64 *
cx_set64_andnot(CxArena *a, const CxSet64 *x, const CxSet64 *y)
{
	return set_combine(a, x, y, false);
}

CxSet64 *
cx_set64_and(CxArena *a, const CxSet64 *x, const CxSet64 *y)
{
	return set_combine(a, x, y, true);
}

/*
 * dst |= src.  dst owns its bitmaps (it started empty and only grows here):
 * they are updated in place, and src's bitmaps are copied, never shared.
 */
void
cx_set64_or_into(CxArena *a, CxSet64 *dst, const CxSet64 *src)
{
	CxBucket   *b;
	int32		i = 0,
				j = 0,
				n = 0;

	if (src->n == 0)
		return;
	b = MemoryContextAlloc(a->cxt, (dst->n + src->n) * sizeof(CxBucket));
	while (i < dst->n || j < src->n)
	{
		if (j >= src->n || (i < dst->n && dst->b[i].high < src->b[j].high))
			b[n++] = dst->b[i++];
		else if (i >= dst->n || src->b[j].high < dst->b[i].high)
		{
			b[n] = src->b[j++];
			if (b[n].bm)
				b[n].bm = cx_arena_copy(a, b[n].bm);
			n++;
		}
		else
		{
			CxBucket   *d = &dst->b[i++];
			const CxBucket *s = &src->b[j++];

			if (d->bm && s->bm)
				roaring_bitmap_or_inplace(d->bm, s->bm);
			else if (d->bm)
				roaring_bitmap_add_many(d->bm, s->n, s->vals);
			else
			{
				const CxBucket *pair[2] = {d, s};

				*d = bucket_union(a, pair, 2);	/* a new bitmap or array */
			}
			b[n++] = *d;
		}
	}
	dst->b = b;
	dst->n = n;
}

/* ------------------------------------------------------------------ hashing */

static inline uint64
mix64(uint64 x)
{
	/* splitmix64's finaliser */
	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static bool
hash_value(uint32 value, void *arg)
{
	uint64	   *h = (uint64 *) arg;

	*h = mix64(*h ^ value) + value;
	return true;
}

uint64
cx_set64_hash(const CxSet64 *s, uint64 seed)
{
	uint64		h = mix64(seed ^ UINT64CONST(0x9e3779b97f4a7c15));

	for (int32 i = 0; i < s->n; i++)
	{
		h = hash_combine64(h, mix64(s->b[i].high));
		if (s->b[i].bm)
			roaring_iterate(s->b[i].bm, hash_value, &h);
		else
			for (uint32 k = 0; k < s->b[i].n; k++)
				hash_value(s->b[i].vals[k], &h);
	}
	return h;
}
