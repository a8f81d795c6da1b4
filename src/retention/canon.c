/*
 * canon.c
 *		The canonical serialisation of a set: cxkpi's own choice of container
 *		types and header, the same whatever CRoaring build wrote the bytes.
 *
 * A 32-bit portable bitmap (RoaringFormatSpec) can encode one set in several
 * ways.  Each container of c values in r runs may be a run container or not
 * (the non-run type follows from c: an array up to 4096 values, a bitset
 * above), and a bitmap without run containers may still use the run cookie.
 * CRoaring's choice depends on its version: after roaring_bitmap_run_optimize,
 * libroaring 0.2.66 (Debian 12 and 13) makes an array into runs when
 * 2 + 4r <= 2c, CRoaring 4.x only when 2 + 4r < 2c; user input may be any
 * valid encoding.  The canonical form is:
 *
 *	- a container of c values in r runs is a run container when the runs take
 *	  no more bytes than the non-run container, else an array (c <= 4096) or
 *	  a bitset (c > 4096):
 *		  c <= 4096:  runs  iff  2 + 4r <= 2c    (r <= (c - 1) / 2; ties are runs)
 *		  c >  4096:  runs  iff  2 + 4r <= 8192  (r <= 2047; no tie is possible);
 *	- with a run container: cookie 12347 | (n - 1) << 16, the run flags (unused
 *	  bits zero), the descriptive header, and offsets only when n >= 4;
 *	  without: cookie 12346, n, the descriptive header and the offsets.
 *
 * This is exactly what libroaring 0.2.66 writes after run_optimize for a
 * bitmap built by adds and unions (arrays and bitsets, no runs), which is
 * how cxkpi 1.0 built every stored set: those sets are canonical already and
 * keep their bytes.  The code reads bytes validated before (set64.c) and
 * calls no CRoaring function, so it is the same on every library version.
 */
#include "set64.h"

typedef enum
{
	CT_ARRAY,
	CT_BITSET,
	CT_RUN
} ContainerType;

/* The header of a 32-bit bitmap, and the walk over its containers. */
typedef struct R32Walk
{
	const char *bm;
	uint32		n;				/* containers */
	bool		hasrun;			/* run cookie */
	const uint8 *runflags;
	const char *desc;			/* descriptive header: (key, card - 1) pairs */
	size_t		pos;			/* the next container */
	uint32		i;				/* its index */
	/* the current container, set by walk_next */
	uint32		card;
	ContainerType type;
	uint32		nruns;
	const char *data;
	size_t		size;
} R32Walk;

/* What the canonical form of one bitmap takes. */
typedef struct R32Plan
{
	size_t		in_len;
	size_t		out_len;
	bool		anyrun;			/* the canonical form has a run container */
	bool		same;			/* the input is that form already */
} R32Plan;

static void
walk_start(R32Walk *w, const char *bm)
{
	uint32		cookie = cx_rd32(bm);

	w->bm = bm;
	w->i = 0;
	if ((cookie & 0xFFFF) == R32_COOKIE_RUN)
	{
		w->hasrun = true;
		w->n = (cookie >> 16) + 1;
		w->runflags = (const uint8 *) bm + 4;
		w->desc = bm + 4 + (w->n + 7) / 8;
	}
	else
	{
		Assert(cookie == R32_COOKIE_NO_RUN);
		w->hasrun = false;
		w->n = cx_rd32(bm + 4);
		w->runflags = NULL;
		w->desc = bm + 8;
	}
	w->pos = (w->desc - bm) + 4 * (size_t) w->n;
	if (!w->hasrun || w->n >= R32_NO_OFFSET_THRESHOLD)
		w->pos += 4 * (size_t) w->n;
}

/* Runs of an array container: one, plus one per gap between neighbours. */
static uint32
array_runs(const char *p, uint32 card)
{
	uint32		runs = 1;

	for (uint32 k = 1; k < card; k++)
		runs += cx_rd16(p + 2 * k) != (uint16) (cx_rd16(p + 2 * (k - 1)) + 1);
	return runs;
}

/* Runs of a bitset container: its set bits whose lower neighbour is clear. */
static uint32
bitset_runs(const char *p)
{
	uint32		runs = 0;
	uint64		carry = 0;		/* the top bit of the previous word */

	for (int k = 0; k < R32_BITSET_BYTES / 8; k++)
	{
		uint64		x = cx_rd64(p + 8 * k);

		runs += pg_popcount64(x & ~((x << 1) | carry));
		carry = x >> 63;
	}
	return runs;
}

/* Reads the next container: type, cardinality, run count, bytes. */
static void
walk_next(R32Walk *w)
{
	w->card = (uint32) cx_rd16(w->desc + 4 * w->i + 2) + 1;
	w->data = w->bm + w->pos;
	if (w->hasrun && ((w->runflags[w->i / 8] >> (w->i % 8)) & 1))
	{
		w->type = CT_RUN;
		w->nruns = cx_rd16(w->data);
		w->size = 2 + 4 * (size_t) w->nruns;
	}
	else if (w->card <= R32_MAX_ARRAY)
	{
		w->type = CT_ARRAY;
		w->nruns = array_runs(w->data, w->card);
		w->size = 2 * (size_t) w->card;
	}
	else
	{
		w->type = CT_BITSET;
		w->nruns = bitset_runs(w->data);
		w->size = R32_BITSET_BYTES;
	}
	w->pos += w->size;
	w->i++;
}

/* The canonical type of a container of card values in nruns runs (the rule above). */
static inline ContainerType
canonical_type(uint32 card, uint32 nruns)
{
	size_t		runs = 2 + 4 * (size_t) nruns;

	if (card <= R32_MAX_ARRAY)
		return runs <= 2 * (size_t) card ? CT_RUN : CT_ARRAY;
	return runs <= R32_BITSET_BYTES ? CT_RUN : CT_BITSET;
}

static inline size_t
container_size(ContainerType type, uint32 card, uint32 nruns)
{
	return type == CT_RUN ? 2 + 4 * (size_t) nruns :
		type == CT_ARRAY ? 2 * (size_t) card : R32_BITSET_BYTES;
}

static inline size_t
header_size(uint32 n, bool anyrun)
{
	if (!anyrun)
		return 8 + 8 * (size_t) n;
	return 4 + (n + 7) / 8 + 4 * (size_t) n + (n >= R32_NO_OFFSET_THRESHOLD ? 4 * (size_t) n : 0);
}

/* One pass over a validated bitmap: its length, its canonical length, and whether they are the same bytes. */
static void
r32_plan(const char *bm, R32Plan *plan)
{
	R32Walk		w;
	size_t		body = 0;
	bool		types_same = true;

	walk_start(&w, bm);
	plan->anyrun = false;
	while (w.i < w.n)
	{
		ContainerType t;

		walk_next(&w);
		t = canonical_type(w.card, w.nruns);
		plan->anyrun |= (t == CT_RUN);
		types_same &= (t == w.type);
		body += container_size(t, w.card, w.nruns);
	}
	plan->in_len = w.pos;
	plan->out_len = header_size(w.n, plan->anyrun) + body;
	/* same container types; then the header differs only by its cookie or unused run-flag bits */
	plan->same = types_same && w.hasrun == plan->anyrun &&
		(!w.hasrun || w.n % 8 == 0 || (w.runflags[w.n / 8] >> (w.n % 8)) == 0);
}

static inline void
wr16(char *p, uint16 v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
wr32(char *p, uint32 v)
{
	memcpy(p, &v, sizeof(v));
}

/* Writes the runs of an array container: the run count, then (start, length - 1) pairs. */
static void
runs_from_array(const char *in, uint32 card, uint32 nruns, char *out)
{
	uint32		r = 0;
	uint16		start = cx_rd16(in);

	wr16(out, (uint16) nruns);
	for (uint32 k = 1; k <= card; k++)
	{
		uint16		prev = cx_rd16(in + 2 * (k - 1));

		if (k == card || cx_rd16(in + 2 * k) != (uint16) (prev + 1))
		{
			wr16(out + 2 + 4 * r, start);
			wr16(out + 4 + 4 * r, (uint16) (prev - start));
			r++;
			if (k < card)
				start = cx_rd16(in + 2 * k);
		}
	}
	Assert(r == nruns);
}

/* Writes the runs of a bitset container. */
static void
runs_from_bitset(const char *in, uint32 nruns, char *out)
{
	uint32		r = 0;
	int32		start = -1;

	wr16(out, (uint16) nruns);
	for (int k = 0; k < R32_BITSET_BYTES / 8; k++)
	{
		uint64		x = cx_rd64(in + 8 * k);

		if ((start < 0 && x == 0) || (start >= 0 && x == ~UINT64CONST(0)))
			continue;			/* no run starts or ends in this word */
		for (int b = 0; b < 64; b++)
		{
			bool		set = (x >> b) & 1;

			if (set && start < 0)
				start = 64 * k + b;
			else if (!set && start >= 0)
			{
				wr16(out + 2 + 4 * r, (uint16) start);
				wr16(out + 4 + 4 * r, (uint16) (64 * k + b - 1 - start));
				r++;
				start = -1;
			}
		}
	}
	if (start >= 0)
	{
		wr16(out + 2 + 4 * r, (uint16) start);
		wr16(out + 4 + 4 * r, (uint16) (65535 - start));
		r++;
	}
	Assert(r == nruns);
}

/* Writes the values of a run container as an array or, above 4096 values, a bitset. */
static void
values_from_runs(const char *in, ContainerType type, char *out)
{
	uint32		nruns = cx_rd16(in);
	uint32		k = 0;

	if (type == CT_BITSET)
		memset(out, 0, R32_BITSET_BYTES);
	for (uint32 r = 0; r < nruns; r++)
	{
		uint32		start = cx_rd16(in + 2 + 4 * r);
		uint32		end = start + cx_rd16(in + 4 + 4 * r);

		for (uint32 v = start; v <= end; v++)
		{
			if (type == CT_ARRAY)
				wr16(out + 2 * k++, (uint16) v);
			else
				((uint8 *) out)[v / 8] |= (uint8) (1 << (v % 8));	/* little-endian words */
		}
	}
}

/* Writes the canonical form of a validated bitmap whose plan is not `same`. */
static void
r32_rewrite(const char *bm, const R32Plan *plan, char *out)
{
	R32Walk		w;
	char	   *desc;
	uint8	   *flags = NULL;
	char	   *offsets = NULL;
	size_t		pos;

	walk_start(&w, bm);
	if (plan->anyrun)
	{
		wr32(out, R32_COOKIE_RUN | ((w.n - 1) << 16));
		flags = (uint8 *) out + 4;
		memset(flags, 0, (w.n + 7) / 8);
		desc = out + 4 + (w.n + 7) / 8;
		if (w.n >= R32_NO_OFFSET_THRESHOLD)
			offsets = desc + 4 * (size_t) w.n;
	}
	else
	{
		wr32(out, R32_COOKIE_NO_RUN);
		wr32(out + 4, w.n);
		desc = out + 8;
		offsets = desc + 4 * (size_t) w.n;
	}
	memcpy(desc, w.desc, 4 * (size_t) w.n);	/* keys and cardinalities stay */
	pos = header_size(w.n, plan->anyrun);
	while (w.i < w.n)
	{
		uint32		i = w.i;
		ContainerType t;

		walk_next(&w);
		t = canonical_type(w.card, w.nruns);
		if (t == CT_RUN)
			flags[i / 8] |= (uint8) (1 << (i % 8));
		if (offsets != NULL)
			wr32(offsets + 4 * (size_t) i, (uint32) pos);
		if (t == w.type)
			memcpy(out + pos, w.data, w.size);
		else if (t != CT_RUN)
			values_from_runs(w.data, t, out + pos);
		else if (w.type == CT_ARRAY)
			runs_from_array(w.data, w.card, w.nruns, out + pos);
		else
			runs_from_bitset(w.data, w.nruns, out + pos);
		pos += container_size(t, w.card, w.nruns);
	}
	Assert(pos == plan->out_len);
}

/*
 * The length of the canonical form of the validated 32-bit bitmap bm of len
 * bytes; *same is set when bm is in that form already (no copy needed).
 */
size_t
cx_r32_canonical_size(const char *bm, size_t len, bool *same)
{
	R32Plan		plan;

	r32_plan(bm, &plan);
	Assert(plan.in_len == len);
	*same = plan.same;
	return plan.out_len;
}

/*
 * Writes the canonical form of the validated 32-bit bitmap bm of len bytes to
 * out, which has room for cx_r32_canonical_size bytes; returns that length.
 */
size_t
cx_r32_canonicalize(const char *bm, size_t len, char *out)
{
	R32Plan		plan;

	r32_plan(bm, &plan);
	Assert(plan.in_len == len);
	if (plan.same)
		memcpy(out, bm, len);
	else
		r32_rewrite(bm, &plan, out);
	return plan.out_len;
}

/*
 * The canonical form of a validated set (Roaring64Map portable format) of len
 * bytes: buf itself when it is canonical already, the usual case, checked in
 * one pass; else a rewrite in a palloc'd buffer.  Its length goes to *outlen.
 */
const char *
cx_set64_canonical(const char *buf, size_t len, size_t *outlen)
{
	uint64		nb = cx_rd64(buf);
	size_t		pos = 8;
	size_t		total = 8;
	bool		same = true;
	char	   *out;
	char	   *p;

	for (uint64 i = 0; i < nb; i++)
	{
		R32Plan		plan;

		r32_plan(buf + pos + 4, &plan);
		pos += 4 + plan.in_len;
		total += 4 + plan.out_len;
		same &= plan.same;
	}
	Assert(pos == len);
	if (same)
	{
		*outlen = len;
		return buf;
	}
	out = palloc_extended(total, MCXT_ALLOC_HUGE);
	memcpy(out, buf, 8);
	p = out + 8;
	pos = 8;
	for (uint64 i = 0; i < nb; i++)
	{
		R32Plan		plan;

		memcpy(p, buf + pos, 4);	/* the high key */
		r32_plan(buf + pos + 4, &plan);
		if (plan.same)
			memcpy(p + 4, buf + pos + 4, plan.in_len);
		else
			r32_rewrite(buf + pos + 4, &plan, p + 4);
		pos += 4 + plan.in_len;
		p += 4 + plan.out_len;
	}
	Assert(p - out == total);
	*outlen = total;
	return out;
}
