/*
 * retention.h
 *		retention_summary: for each period (day, ISO week, month, quarter or
 *		year) the exact set of customer ids active in it.
 *
 * Stored (flat) layout, version 1, all integers in host order (little-endian):
 *
 *		RetFlat header			varlena header, version, period kind, flags, period count
 *		RetDirEntry[n]			per period, in increasing order: first day (DateADT),
 *								offset and length of its set
 *		sets					each at a MAXALIGN'd offset from the start of the value:
 *								the period's id set in Roaring64Map portable format
 *								(see set64.h), never empty
 *
 * Version 2 (compact, docs/retention.md "Sparse ids"): the same header (flags:
 * the id type, 0 for bigint) and directory, each period's set being the
 * CRoaring 32-bit portable bitmap of its customers' positions in the
 * dictionary, and the dictionary (dict.h) last, at a MAXALIGN'd offset, up to
 * the end of the value.  Every value written is version 2; version 1 values
 * (stored by cxkpi 1.0) are read by every function and converted when
 * rewritten.
 *
 * The directory lets an accessor read only the periods it needs.  While an
 * aggregate builds a summary, the state is an expanded object (state.c) that
 * flattens into this layout.
 */
#ifndef CXKPI_RETENTION_H
#define CXKPI_RETENTION_H

#include "set64.h"

#include "utils/date.h"

#define RETENTION_VERSION	1		/* version 1: read, converted; written only to hash */
#define RETENTION_VERSION_COMPACT	2	/* the version written (docs/retention.md) */
#define RETENTION_TYPNAME	"retention_summary"

typedef enum RetKind
{
	RET_DAY = 1,
	RET_WEEK = 2,				/* ISO week, Monday to Sunday */
	RET_MONTH = 3,
	RET_QUARTER = 4,
	RET_YEAR = 5
} RetKind;

#define RET_KIND_MAX	RET_YEAR

typedef struct RetFlat
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* RETENTION_VERSION */
	uint8		kind;			/* RetKind */
	uint16		flags;			/* 0 */
	int32		nperiods;
} RetFlat;

typedef struct RetDirEntry
{
	int32		start;			/* first day of the period (DateADT) */
	uint32		offset;			/* of its set, from the start of the value */
	uint32		length;			/* of its set, in bytes */
} RetDirEntry;

#define RET_DIR(f)				((RetDirEntry *) ((char *) (f) + sizeof(RetFlat)))
#define RET_DATA_START(n)		MAXALIGN(sizeof(RetFlat) + (Size) (n) * sizeof(RetDirEntry))
#define RET_SET_DATA(f, i)		((const char *) (f) + RET_DIR(f)[i].offset)

/* period arithmetic (summary.c) */
extern const char *ret_kind_name(int kind);
extern int	ret_kind_parse(const char *name, size_t len);	/* 0 if unknown */
extern int	ret_kind_parse_any_case(const char *name, size_t len);	/* the same, any case */
extern int	ret_kind_from_text(text *t);	/* 22023 if unknown */
extern int32 ret_period_index(int kind, DateADT d);
extern bool ret_period_start(int kind, int64 index, DateADT *start);
extern bool ret_is_period_start(int kind, DateADT d);
extern char *ret_date_string(DateADT d);

/* flat values (summary.c) */
extern RetFlat *ret_flat_checked(RetFlat *f);
pg_noreturn extern void ret_data_corrupted(const char *why);
extern CxSet64 *ret_flat_read_set(CxArena *a, const RetFlat *f, int32 i);
/* version 2: the dictionary's bytes, and its ids decoded (palloc'd, sign bit flipped) */
extern const char *ret_flat_dict(const RetFlat *f, size_t *len);
extern uint64 *ret_flat_ids(const RetFlat *f, size_t *n);
/* the same sets in another version, through an aggregate state (state.c) */
extern RetFlat *ret_flat_convert(const RetFlat *f, int version);
extern RetFlat *ret_flat_empty(int kind, int version);

#define PG_GETARG_RETENTION(n) \
	ret_flat_checked((RetFlat *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

#endif							/* CXKPI_RETENTION_H */
