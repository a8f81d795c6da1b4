/*
 * set64.h
 *		Exact sets of 64-bit customer ids on top of CRoaring's 32-bit bitmaps
 *		(Debian's libroaring 0.2.66 has no 64-bit bitmap), and the memory
 *		discipline that keeps CRoaring's malloc'd structures from leaking.
 *
 * A set is a sorted array of buckets (high 32 bits of the id -> 32-bit roaring
 * bitmap of the low 32 bits), as in CRoaring's Roaring64Map.  Signed ids are
 * mapped to unsigned by flipping the sign bit, so that bucket order is id
 * order.  The serialised form of a set is Roaring64Map's portable format:
 * the bucket count as a little-endian uint64, then per bucket its high key as
 * a little-endian uint32 and the bucket's 32-bit portable serialisation
 * (https://github.com/RoaringBitmap/RoaringFormatSpec).  Stored sets are in
 * cxkpi's canonical encoding of that format (canon.c), whatever CRoaring
 * version wrote them or whatever valid encoding the input used.
 *
 * Memory: every bitmap belongs to a CxArena, a list of malloc'd bitmaps kept
 * in a PostgreSQL memory context whose reset callback frees them all, so they
 * go away with the context, also after an ERROR.  Code that creates a bitmap
 * reserves its arena slot first (which may ERROR), then mallocs, then stores:
 * there is never a moment where an ERROR could orphan a malloc'd bitmap.
 */
#ifndef CXKPI_SET64_H
#define CXKPI_SET64_H

#include "cxkpi.h"

#include <roaring/roaring.h>

#include "port/pg_bitutils.h"
#include "utils/memutils.h"

#ifdef WORDS_BIGENDIAN
#error "cxkpi retention summaries assume a little-endian host (CRoaring's portable format)"
#endif

/* Map a signed id to the unsigned value stored in the bitmaps, and back. */
static inline uint64
cx_id_to_u64(int64 id)
{
	return ((uint64) id) ^ (UINT64CONST(1) << 63);
}

typedef struct CxArena
{
	MemoryContext cxt;			/* the context whose reset frees the bitmaps */
	roaring_bitmap_t **bms;		/* every bitmap of the arena */
	int64		n;
	int64		max;
	MemoryContextCallback cb;
} CxArena;

extern CxArena *cx_arena_create(MemoryContext cxt);
extern void cx_arena_reserve(CxArena *a);
extern roaring_bitmap_t *cx_arena_keep(CxArena *a, roaring_bitmap_t *bm);
extern roaring_bitmap_t *cx_arena_new(CxArena *a);
extern roaring_bitmap_t *cx_arena_copy(CxArena *a, const roaring_bitmap_t *bm);
pg_noreturn extern void cx_roaring_oom(void);

/*
 * A set: buckets sorted by high key, none of them empty.  A bucket is either
 * a CRoaring bitmap or, when it was read as one small array container (at
 * most CX_SMALL_MAX values, the usual case when ids are spread over the whole
 * bigint range and each high key holds one customer), a sorted array of the
 * low 32 bits: no malloc, and set algebra by merging.  Arrays and small
 * values live in an arena's context and are never modified once built, so
 * sets may share them.
 */
#define CX_SMALL_MAX	64

typedef struct CxBucket
{
	uint32		high;
	uint32		n;				/* small bucket: number of values */
	roaring_bitmap_t *bm;		/* NULL for a small bucket */
	const uint32 *vals;			/* small bucket: sorted low 32 bits */
} CxBucket;

typedef struct CxSet64
{
	int32		n;
	CxBucket   *b;
} CxSet64;

/* ------------------------------------------------------------------ serialised sets */

/* CRoaring's 32-bit portable format (RoaringFormatSpec), little-endian */
#define R32_COOKIE_NO_RUN	12346
#define R32_COOKIE_RUN		12347
#define R32_NO_OFFSET_THRESHOLD	4	/* run-cookie bitmaps have offsets from 4 containers */
#define R32_MAX_ARRAY		4096	/* a non-run container of more values is a bitset */
#define R32_BITSET_BYTES	8192

/* Unaligned little-endian reads of serialised bytes. */
static inline uint16
cx_rd16(const char *p)
{
	uint16		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32
cx_rd32(const char *p)
{
	uint32		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64
cx_rd64(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Walks a serialised set, validating as it goes.  Every check that
 * CRoaring's deserialiser does not make is made here: bounds, key order,
 * container cardinalities, sorted array containers, run containers that stay
 * inside 16 bits and do not overlap, bitset popcounts and offsets.
 */
typedef struct CxR64Cursor
{
	const char *buf;
	size_t		len;
	size_t		pos;
	uint64		remaining;		/* buckets not read yet */
	int64		prev_high;		/* -1 before the first bucket */
} CxR64Cursor;

/* Each returns false and sets *why (a static message) when the input is invalid. */
extern bool cx_r64_begin(CxR64Cursor *c, const char *buf, size_t len, const char **why);
/* 1: a bucket (its high key and serialised 32-bit bitmap); 0: the end; -1: invalid. */
extern int	cx_r64_next(CxR64Cursor *c, uint32 *high, const char **bm, size_t *bmlen,
						const char **why);
/* Validates a 32-bit portable bitmap of at most maxlen bytes: its exact length, or 0 and *why. */
extern size_t cx_r32_validate(const char *buf, size_t maxlen, const char **why);
/* Deserialises one validated 32-bit bitmap (malloc'd; the caller frees or keeps it). */
extern roaring_bitmap_t *cx_r32_read(const char *bm, size_t bmlen, const char **why);

/* Reads a serialised set into `a`; NULL with *why when it is invalid. */
extern CxSet64 *cx_set64_read(CxArena *a, const char *buf, size_t len, const char **why);
/* Checks a serialised set completely (deserialising it in a scratch arena); NULL when valid. */
extern const char *cx_set64_check(const char *buf, size_t len);

/*
 * The canonical encoding (canon.c): per container a run container when its
 * runs take no more bytes than the array or bitset, and the header the
 * format prescribes for that choice; what libroaring 0.2.66 writes for a set
 * built by adds and unions.  Each takes validated bytes.
 */
extern size_t cx_r32_canonical_size(const char *bm, size_t len, bool *same);
extern size_t cx_r32_canonicalize(const char *bm, size_t len, char *out);
extern const char *cx_set64_canonical(const char *buf, size_t len, size_t *outlen);

/* Bitmap buckets only (the aggregate state's), serialised in canonical form: */
extern Size cx_set64_serialized_size(const CxBucket *b, int32 n);
extern Size cx_set64_serialize(const CxBucket *b, int32 n, char *out);

/* The values of a validated 32-bit bitmap that makes a small bucket, into out[CX_SMALL_MAX]. */
extern bool cx_r32_small(const char *bm, size_t bmlen, uint32 *out, uint32 *n);

/* ------------------------------------------------------------------ set algebra */

extern CxSet64 *cx_set64_empty(CxArena *a);
extern uint64 cx_set64_card(const CxSet64 *s);
extern uint64 cx_set64_and_card(const CxSet64 *x, const CxSet64 *y);
extern bool cx_set64_equal(const CxSet64 *x, const CxSet64 *y);
/* New sets; they may share bitmaps with their inputs and must not be modified. */
extern CxSet64 *cx_set64_union(CxArena *a, CxSet64 *const *sets, int n);
extern CxSet64 *cx_set64_andnot(CxArena *a, const CxSet64 *x, const CxSet64 *y);
extern CxSet64 *cx_set64_and(CxArena *a, const CxSet64 *x, const CxSet64 *y);
/* dst |= src, for an accumulator that owns its bitmaps (started by cx_set64_empty). */
extern void cx_set64_or_into(CxArena *a, CxSet64 *dst, const CxSet64 *src);

/* Hash of the set's content (not of its representation). */
extern uint64 cx_set64_hash(const CxSet64 *s, uint64 seed);

#endif							/* CXKPI_SET64_H */
