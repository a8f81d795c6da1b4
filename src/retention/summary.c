/*
 * summary.c
 *		retention_summary values: period arithmetic, the stored layout and its
 *		checks, text and binary I/O (validated by one shared function),
 *		equality and hashing.
 *
 * Text form (version 1):
 *		(v1,period=month,periods={2024-01-01:<base64>;2024-02-01:<base64>})
 * one entry per period that has customers, in increasing order: the period's
 * first day (ISO 8601, astronomical years) and the base64 of its id set in
 * Roaring64Map portable format (set64.h), canonical encoding (canon.c): input
 * in any other valid encoding is stored canonically.  Binary form: version
 * byte, period code byte, int4 period count, then per period its first day
 * (int4, days from 2000-01-01, as date's binary form), int4 length and the
 * same set bytes.
 */
#include "retention.h"
#include "dict.h"

#include <ctype.h>

#include "common/base64.h"
#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

/* ------------------------------------------------------------------ periods */

static const char *const kind_names[RET_KIND_MAX + 1] = {
	NULL, "day", "week", "month", "quarter", "year"
};

const char *
ret_kind_name(int kind)
{
	return kind >= 1 && kind <= RET_KIND_MAX ? kind_names[kind] : "unknown";
}

/* The period named name[0..len), in canonical lower case (the text format); 0 if none. */
int
ret_kind_parse(const char *name, size_t len)
{
	for (int k = 1; k <= RET_KIND_MAX; k++)
		if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0)
			return k;
	return 0;
}

/* The same, ignoring case (function arguments). */
int
ret_kind_parse_any_case(const char *name, size_t len)
{
	for (int k = 1; k <= RET_KIND_MAX; k++)
		if (strlen(kind_names[k]) == len && pg_strncasecmp(kind_names[k], name, len) == 0)
			return k;
	return 0;
}

/*
 * The period named by a function argument.  Unlike the text format, which is
 * canonical lower case, arguments ignore case, as date_trunc's field does.
 */
int
ret_kind_from_text(text *t)
{
	int			kind = ret_kind_parse_any_case(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	if (kind == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown retention period \"%s\"", text_to_cstring(t)),
				 errhint("Use one of day, week, month, quarter, year.")));
	return kind;
}

static inline int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if (a % b != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* 2000-01-03, the Monday that starts ISO week 0 */
#define RET_WEEK_ORIGIN	2

/* Index of the period holding the finite, valid date d. */
int32
ret_period_index(int kind, DateADT d)
{
	int			y,
				m,
				dd;

	switch (kind)
	{
		case RET_DAY:
			return d;
		case RET_WEEK:
			return (int32) floor_div((int64) d - RET_WEEK_ORIGIN, 7);
		default:
			break;
	}
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
	if (kind == RET_MONTH)
		return y * 12 + m - 1;
	if (kind == RET_QUARTER)
		return y * 4 + (m - 1) / 3;
	return y;
}

static bool
valid_date64(int64 d)
{
	return d >= (DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE) &&
		d < (DATE_END_JULIAN - POSTGRES_EPOCH_JDATE);
}

/* First day of period `index`; false when it is not a valid date. */
bool
ret_period_start(int kind, int64 index, DateADT *start)
{
	int64		s,
				y;
	int			m;

	switch (kind)
	{
		case RET_DAY:
			s = index;
			break;
		case RET_WEEK:
			if (index < PG_INT32_MIN || index > PG_INT32_MAX)
				return false;
			s = index * 7 + RET_WEEK_ORIGIN;
			break;
		default:
			if (kind == RET_MONTH)
			{
				y = floor_div(index, 12);
				m = (int) (index - y * 12) + 1;
			}
			else if (kind == RET_QUARTER)
			{
				y = floor_div(index, 4);
				m = (int) (index - y * 4) * 3 + 1;
			}
			else
			{
				y = index;
				m = 1;
			}
			if (y < -4714 || y > JULIAN_MAXYEAR)
				return false;
			s = (int64) date2j((int) y, m, 1) - POSTGRES_EPOCH_JDATE;
			break;
	}
	if (!valid_date64(s))
		return false;
	*start = (DateADT) s;
	return true;
}

bool
ret_is_period_start(int kind, DateADT d)
{
	DateADT		start;

	if (DATE_NOT_FINITE(d) || !valid_date64(d))
		return false;
	return ret_period_start(kind, ret_period_index(kind, d), &start) && start == d;
}

/* ISO 8601 with astronomical years (0000 = 1 BC), whatever DateStyle says. */
char *
ret_date_string(DateADT d)
{
	int			y,
				m,
				dd;

	if (DATE_IS_NOBEGIN(d))
		return pstrdup("-infinity");
	if (DATE_IS_NOEND(d))
		return pstrdup("infinity");
	if (!valid_date64(d))
		return psprintf("(day %d, out of range)", d);
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
	return y >= 0 ? psprintf("%04d-%02d-%02d", y, m, dd) : psprintf("-%04d-%02d-%02d", -y, m, dd);
}

/* ------------------------------------------------------------------ stored values */

void
ret_data_corrupted(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("retention_summary value is corrupted"),
			 errdetail("%s", why),
			 errhint("The value was written by a newer cxkpi or is damaged.")));
}

/*
 * Layout check of a value read from a table or passed between functions:
 * header, directory order and bounds.  The sets themselves are validated
 * when they are read (ret_flat_read_set), so a damaged value raises XX001
 * and never makes CRoaring read out of bounds.
 */
RetFlat *
ret_flat_checked(RetFlat *f)
{
	Size		size = VARSIZE(f);
	RetDirEntry *dir = RET_DIR(f);
	Size		expect;

	if (size < sizeof(RetFlat) ||
		(f->version != RETENTION_VERSION && f->version != RETENTION_VERSION_COMPACT))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("retention_summary has an unknown layout (size %zu, version %d)",
						size, size < sizeof(RetFlat) ? -1 : f->version),
				 errhint("The value was written by a newer cxkpi or is corrupted.")));
	if (f->kind < 1 || f->kind > RET_KIND_MAX || f->flags != 0 || f->nperiods < 0 ||
		(Size) f->nperiods > (size - sizeof(RetFlat)) / sizeof(RetDirEntry))
		ret_data_corrupted("The header is inconsistent.");
	expect = RET_DATA_START(f->nperiods);
	for (int32 i = 0; i < f->nperiods; i++)
	{
		if (!ret_is_period_start(f->kind, dir[i].start) ||
			(i > 0 && dir[i].start <= dir[i - 1].start))
			ret_data_corrupted("The period directory is not a sorted list of period starts.");
		if (dir[i].offset != expect || dir[i].length < 8 || dir[i].length > size ||
			dir[i].offset > size - dir[i].length)
			ret_data_corrupted("A set lies outside the value.");
		expect = MAXALIGN((Size) dir[i].offset + dir[i].length);
	}
	if (f->version == RETENTION_VERSION_COMPACT)
	{
		/* the dictionary fills the rest, from the first aligned offset after the sets */
		size_t		n;
		const char *why = NULL;

		if (size <= expect || !cx_dict_count((const char *) f + expect, size - expect, &n, &why))
			ret_data_corrupted(why ? why : "The dictionary is missing.");
		return f;
	}
	if ((f->nperiods == 0 && size != expect) ||
		(f->nperiods > 0 && size != (Size) dir[f->nperiods - 1].offset + dir[f->nperiods - 1].length))
		ret_data_corrupted("The value's size does not match its directory.");
	return f;
}

/* Version 2: the dictionary's bytes (the value was checked by ret_flat_checked). */
const char *
ret_flat_dict(const RetFlat *f, size_t *len)
{
	Size		start = f->nperiods == 0 ? RET_DATA_START(0) :
		MAXALIGN((Size) RET_DIR(f)[f->nperiods - 1].offset + RET_DIR(f)[f->nperiods - 1].length);

	Assert(f->version == RETENTION_VERSION_COMPACT);
	*len = VARSIZE(f) - start;
	return (const char *) f + start;
}

/* Version 2: the ids of the dictionary, in increasing order, mapped as cx_id_to_u64 maps them. */
uint64 *
ret_flat_ids(const RetFlat *f, size_t *n)
{
	size_t		len;
	const char *d = ret_flat_dict(f, &len);
	const char *why = NULL;
	uint64	   *ids;
	bool		canonical;

	if (!cx_dict_count(d, len, n, &why))
		ret_data_corrupted(why);
	ids = palloc_extended(Max(*n, 1) * sizeof(uint64), MCXT_ALLOC_HUGE);
	if (!cx_dict_decode(d, len, ids, *n, &canonical, &why))
		ret_data_corrupted(why);
	return ids;
}

/*
 * Version 2: period i's positions as a set of one bucket (high key 0), so that
 * the set algebra of the accessors is the same for both versions.  Positions
 * must lie below the dictionary's count.
 */
static CxSet64 *
ret_flat_read_positions(CxArena *a, const RetFlat *f, int32 i, const char **why)
{
	const char *bm = RET_SET_DATA(f, i);
	size_t		len = RET_DIR(f)[i].length;
	size_t		dlen,
				count;
	const char *d = ret_flat_dict(f, &dlen);
	uint32		small[CX_SMALL_MAX];
	CxSet64    *s;
	CxBucket   *b;
	uint64		max;

	if (!cx_dict_count(d, dlen, &count, why))
		return NULL;
	if (cx_r32_validate(bm, len, why) != len)
	{
		if (*why == NULL)
			*why = "a bitmap has trailing bytes";
		return NULL;
	}
	s = MemoryContextAlloc(a->cxt, sizeof(CxSet64));
	b = MemoryContextAllocZero(a->cxt, sizeof(CxBucket));
	s->n = 1;
	s->b = b;
	if (cx_r32_small(bm, len, small, &b->n))
	{
		uint32	   *v = MemoryContextAlloc(a->cxt, b->n * sizeof(uint32));

		memcpy(v, small, b->n * sizeof(uint32));
		b->vals = v;
		max = small[b->n - 1];
	}
	else
	{
		roaring_bitmap_t *r;

		cx_arena_reserve(a);
		r = cx_r32_read(bm, len, why);
		if (r == NULL)
			return NULL;
		b->bm = cx_arena_keep(a, r);
		max = roaring_bitmap_maximum(b->bm);
	}
	if (max >= count)
	{
		*why = "a position lies beyond the dictionary";
		return NULL;
	}
	return s;
}

CxSet64 *
ret_flat_read_set(CxArena *a, const RetFlat *f, int32 i)
{
	const char *why = NULL;
	CxSet64    *s = f->version == RETENTION_VERSION_COMPACT ?
		ret_flat_read_positions(a, f, i, &why) :
		cx_set64_read(a, RET_SET_DATA(f, i), RET_DIR(f)[i].length, &why);

	if (s == NULL)
		ret_data_corrupted(psprintf("Period %s: %s.", ret_date_string(RET_DIR(f)[i].start),
									why ? why : "invalid set"));
	return s;
}

/* ------------------------------------------------------------------ building from input */

typedef struct RetPart
{
	DateADT		start;
	const char *data;
	Size		len;
} RetPart;

/*
 * The one validation of outside input, shared by text and binary input:
 * periods are first days of the summary's period, in increasing order, and
 * each holds a valid, non-empty set.  Each set is stored in canonical form
 * (canon.c), so equal summaries print the same text however they were
 * written.  Returns the stored value.
 */
static RetFlat *
ret_flat_build(int kind, RetPart *parts, int32 n, int sqlstate, const char *input)
{
	Size		size = RET_DATA_START(n);
	RetFlat    *f;
	RetDirEntry *dir;

	for (int32 i = 0; i < n; i++)
	{
		const char *why;
		uint64		buckets = 0;

		if (!ret_is_period_start(kind, parts[i].start))
			cx_input_error(sqlstate, RETENTION_TYPNAME, input,
						   "%s is not the first day of a %s.",
						   ret_date_string(parts[i].start), ret_kind_name(kind));
		if (i > 0 && parts[i].start <= parts[i - 1].start)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input,
						   "Periods must be in increasing order without repeats; %s follows %s.",
						   ret_date_string(parts[i].start), ret_date_string(parts[i - 1].start));
		if (parts[i].len >= 8)
			memcpy(&buckets, parts[i].data, 8);
		if (parts[i].len >= 8 && buckets == 0)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input,
						   "Period %s holds no customers; leave empty periods out.",
						   ret_date_string(parts[i].start));
		why = cx_set64_check(parts[i].data, parts[i].len);
		if (why != NULL)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input, "Period %s: %s.",
						   ret_date_string(parts[i].start), why);
		parts[i].data = cx_set64_canonical(parts[i].data, parts[i].len, &parts[i].len);
		size = MAXALIGN(size) + parts[i].len;
		if (size > MaxAllocSize)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input, "The summary exceeds 1 GB.");
	}
	f = palloc0(size);
	SET_VARSIZE(f, size);
	f->version = RETENTION_VERSION;
	f->kind = (uint8) kind;
	f->nperiods = n;
	dir = RET_DIR(f);
	size = RET_DATA_START(n);
	for (int32 i = 0; i < n; i++)
	{
		size = MAXALIGN(size);
		dir[i].start = parts[i].start;
		dir[i].offset = (uint32) size;
		dir[i].length = (uint32) parts[i].len;
		memcpy((char *) f + size, parts[i].data, parts[i].len);
		size += parts[i].len;
	}
	return f;
}

/*
 * Version 2 from outside input (text): the dictionary is valid (and stored in
 * its canonical encoding), periods are first days in increasing order, each
 * bitmap is valid, non-empty, canonical once stored, with positions below the
 * dictionary's count, and every id of the dictionary is in some period.
 */
static RetFlat *
ret_flat_build_compact(int kind, const char *dict, Size dictlen, RetPart *parts, int32 n,
					   int sqlstate, const char *input)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary input",
											  ALLOCSET_DEFAULT_SIZES);
	CxArena    *arena = cx_arena_create(cxt);
	roaring_bitmap_t *all = cx_arena_new(arena);
	const char *why = NULL;
	size_t		count;
	uint64	   *ids;
	bool		canonical;
	Size		size = RET_DATA_START(n);
	RetFlat    *f;
	RetDirEntry *dir;

	if (!cx_dict_count(dict, dictlen, &count, &why))
		cx_input_error(sqlstate, RETENTION_TYPNAME, input, "Ids: %s.", why);
	ids = palloc_extended(Max(count, 1) * sizeof(uint64), MCXT_ALLOC_HUGE);
	if (!cx_dict_decode(dict, dictlen, ids, count, &canonical, &why))
		cx_input_error(sqlstate, RETENTION_TYPNAME, input, "Ids: %s.", why);
	if (!canonical)
	{
		int			enc;
		char	   *d = palloc_extended(cx_dict_size(ids, count, &enc), MCXT_ALLOC_HUGE);

		dictlen = cx_dict_encode(ids, count, d);
		dict = d;
	}
	pfree(ids);
	for (int32 i = 0; i < n; i++)
	{
		roaring_bitmap_t *r;
		bool		same;

		if (!ret_is_period_start(kind, parts[i].start))
			cx_input_error(sqlstate, RETENTION_TYPNAME, input,
						   "%s is not the first day of a %s.",
						   ret_date_string(parts[i].start), ret_kind_name(kind));
		if (i > 0 && parts[i].start <= parts[i - 1].start)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input,
						   "Periods must be in increasing order without repeats; %s follows %s.",
						   ret_date_string(parts[i].start), ret_date_string(parts[i - 1].start));
		why = NULL;
		if (cx_r32_validate(parts[i].data, parts[i].len, &why) != parts[i].len)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input, "Period %s: %s.",
						   ret_date_string(parts[i].start), why ? why : "a bitmap has trailing bytes");
		cx_arena_reserve(arena);
		r = cx_r32_read(parts[i].data, parts[i].len, &why);
		if (r == NULL)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input, "Period %s: %s.",
						   ret_date_string(parts[i].start), why);
		r = cx_arena_keep(arena, r);
		if (roaring_bitmap_maximum(r) >= count)
			cx_input_error(sqlstate, RETENTION_TYPNAME, input,
						   "Period %s: position %u lies beyond the dictionary's %zu ids.",
						   ret_date_string(parts[i].start), roaring_bitmap_maximum(r), count);
		roaring_bitmap_or_inplace(all, r);
		if (cx_r32_canonical_size(parts[i].data, parts[i].len, &same) && !same)
		{
			char	   *c = palloc(cx_r32_canonical_size(parts[i].data, parts[i].len, &same));

			parts[i].len = cx_r32_canonicalize(parts[i].data, parts[i].len, c);
			parts[i].data = c;
		}
		size = MAXALIGN(size) + parts[i].len;
	}
	if (roaring_bitmap_get_cardinality(all) != count)
		cx_input_error(sqlstate, RETENTION_TYPNAME, input,
					   "The dictionary holds %zu ids, but the periods use " UINT64_FORMAT " of them.",
					   count, (uint64) roaring_bitmap_get_cardinality(all));
	MemoryContextDelete(cxt);
	size = MAXALIGN(size) + dictlen;
	if (size > MaxAllocSize)
		cx_input_error(sqlstate, RETENTION_TYPNAME, input, "The summary exceeds 1 GB.");
	f = palloc0(size);
	SET_VARSIZE(f, size);
	f->version = RETENTION_VERSION_COMPACT;
	f->kind = (uint8) kind;
	f->nperiods = n;
	dir = RET_DIR(f);
	size = RET_DATA_START(n);
	for (int32 i = 0; i < n; i++)
	{
		size = MAXALIGN(size);
		dir[i].start = parts[i].start;
		dir[i].offset = (uint32) size;
		dir[i].length = (uint32) parts[i].len;
		memcpy((char *) f + size, parts[i].data, parts[i].len);
		size += parts[i].len;
	}
	memcpy((char *) f + MAXALIGN(size), dict, dictlen);
	return f;
}

/* ------------------------------------------------------------------ text I/O */

static int
scan_digits(CxScanner *sc, int min, int max, int64 *v)
{
	int			n = 0;

	*v = 0;
	while (n < max && isdigit((unsigned char) sc->pos[n]))
	{
		*v = *v * 10 + (sc->pos[n] - '0');
		n++;
	}
	if (n < min)
		return -1;
	sc->pos += n;
	return n;
}

/* YYYY-MM-DD, with a leading minus sign for years before 0000 (ISO 8601). */
static DateADT
scan_date(CxScanner *sc)
{
	const char *start = sc->pos;
	bool		neg = cx_scan_accept(sc, "-");
	int64		y,
				m,
				d;
	int			yy,
				mm,
				dd;
	int64		jd;
	int			ydigits;

	if ((ydigits = scan_digits(sc, 4, 7, &y)) < 0 || !cx_scan_accept(sc, "-") ||
		scan_digits(sc, 2, 2, &m) < 0 || !cx_scan_accept(sc, "-") ||
		scan_digits(sc, 2, 2, &d) < 0)
	{
		sc->pos = start;
		cx_scan_fail(sc, "Expected a date as YYYY-MM-DD");
	}
	/* the one spelling ret_date_string prints: four digits, more only without a leading zero */
	if ((ydigits > 4 && start[neg ? 1 : 0] == '0') || (neg && y == 0))
	{
		sc->pos = start;
		cx_scan_fail(sc, "Expected a date as YYYY-MM-DD, the year in four digits or more without a leading zero");
	}
	if (neg)
		y = -y;
	if (m < 1 || m > 12 || d < 1 || d > 31 || y < -4713 || y > JULIAN_MAXYEAR)
	{
		sc->pos = start;
		cx_scan_fail(sc, "Invalid date");
	}
	jd = date2j((int) y, (int) m, (int) d);
	j2date((int) jd, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d || !valid_date64(jd - POSTGRES_EPOCH_JDATE))
	{
		sc->pos = start;
		cx_scan_fail(sc, "Invalid date");
	}
	return (DateADT) (jd - POSTGRES_EPOCH_JDATE);
}

static bool
is_base64_char(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' || c == '=';
}

/* Base64 at the scanner, in its one canonical spelling; "what" names it in errors. */
static char *
scan_base64(CxScanner *psc, const char *what, int *declenp)
{
	const char *b64;
	int			b64len,
				declen;
	char	   *dec;

	b64 = psc->pos;
	while (is_base64_char(*psc->pos))
		psc->pos++;
	b64len = (int) (psc->pos - b64);
	dec = palloc(pg_b64_dec_len(b64len) + 1);
	declen = cx_b64_decode(b64, b64len, dec, pg_b64_dec_len(b64len));
	if (b64len == 0 || declen < 0)
	{
		psc->pos = b64;
		cx_scan_fail(psc, "Expected the base64 of a %s", what);
	}
	/* one spelling of the bytes: padded, with the unused bits of the last digit zero */
	if (cx_b64_enc_len(declen) != b64len)
	{
		psc->pos = b64;
		cx_scan_fail(psc, "Expected the base64 of a %s in canonical form (padded with =)", what);
	}
	else
	{
		char	   *enc = palloc(b64len + 1);

		if (cx_b64_encode(dec, declen, enc, b64len) != b64len || memcmp(enc, b64, b64len) != 0)
		{
			psc->pos = b64;
			cx_scan_fail(psc, "Expected the base64 of a %s in canonical form (the unused bits of the last digit zero)", what);
		}
		pfree(enc);
	}
	*declenp = declen;
	return dec;
}

PG_FUNCTION_INFO_V1(retention_summary_in);
Datum
retention_summary_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	CxScanner	sc;
	int64		version;
	const char *word;
	int			kind;
	RetPart    *parts;
	int32		n = 0,
				max = 8;
	char	   *dict = NULL;
	int			dictlen = 0;

	cx_scan_init(&sc, str, RETENTION_TYPNAME);
	cx_scan_expect(&sc, "(v");
	version = cx_scan_int64(&sc, "version");
	if (version != RETENTION_VERSION && version != RETENTION_VERSION_COMPACT)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, RETENTION_TYPNAME, str,
					   "Unknown format version " INT64_FORMAT "; this cxkpi reads versions %d and %d.",
					   version, RETENTION_VERSION, RETENTION_VERSION_COMPACT);
	cx_scan_expect(&sc, ",period=");
	word = sc.pos;
	while (*sc.pos >= 'a' && *sc.pos <= 'z')
		sc.pos++;
	kind = ret_kind_parse(word, sc.pos - word);
	if (kind == 0)
	{
		sc.pos = word;
		cx_scan_fail(&sc, "Expected a period (day, week, month, quarter or year)");
	}
	if (version == RETENTION_VERSION_COMPACT)
	{
		cx_scan_expect(&sc, ",ids=");
		dict = scan_base64(&sc, "dictionary", &dictlen);
	}
	cx_scan_expect(&sc, ",periods={");
	parts = palloc(max * sizeof(RetPart));
	if (!cx_scan_accept(&sc, "}"))
	{
		for (;;)
		{
			int			declen;
			char	   *dec;

			if (n >= max)
			{
				max *= 2;
				parts = repalloc_huge(parts, max * sizeof(RetPart));
			}
			parts[n].start = scan_date(&sc);
			cx_scan_expect(&sc, ":");
			dec = scan_base64(&sc, "set", &declen);
			parts[n].data = dec;
			parts[n].len = declen;
			n++;
			if (cx_scan_accept(&sc, "}"))
				break;
			cx_scan_expect(&sc, ";");
		}
	}
	cx_scan_expect(&sc, ")");
	cx_scan_end(&sc);
	if (version == RETENTION_VERSION_COMPACT)
		PG_RETURN_POINTER(ret_flat_build_compact(kind, dict, dictlen, parts, n,
												 ERRCODE_INVALID_TEXT_REPRESENTATION, str));
	/* version 1: validated as version 1, stored as version 2 */
	PG_RETURN_POINTER(ret_flat_convert(ret_flat_build(kind, parts, n, ERRCODE_INVALID_TEXT_REPRESENTATION, str),
									   RETENTION_VERSION_COMPACT));
}

/*
 * Text output, always version 2.  A version 2 value is stored canonically
 * (its bitmaps, its dictionary's encoding), so its bytes are printed as they
 * are; a version 1 value (stored by cxkpi 1.0) is converted first, so equal
 * summaries print the same text whatever version stores them.
 */
static void
append_base64(StringInfo buf, const char *data, size_t len)
{
	int			enclen = cx_b64_enc_len(len);
	int			written;

	enlargeStringInfo(buf, enclen + 1);
	written = cx_b64_encode(data, len, buf->data + buf->len, enclen);
	if (written < 0)
		elog(ERROR, "could not encode a retention_summary in base64");
	buf->len += written;
	buf->data[buf->len] = '\0';
}

PG_FUNCTION_INFO_V1(retention_summary_out);
Datum
retention_summary_out(PG_FUNCTION_ARGS)
{
	const RetFlat *f = ret_flat_convert(PG_GETARG_RETENTION(0), RETENTION_VERSION_COMPACT);
	RetDirEntry *dir = RET_DIR(f);
	StringInfoData buf;
	size_t		dictlen;
	const char *dict = ret_flat_dict(f, &dictlen);

	initStringInfo(&buf);
	appendStringInfo(&buf, "(v%d,period=%s,ids=", RETENTION_VERSION_COMPACT, ret_kind_name(f->kind));
	append_base64(&buf, dict, dictlen);
	appendStringInfoString(&buf, ",periods={");
	for (int32 i = 0; i < f->nperiods; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ';');
		appendStringInfo(&buf, "%s:", ret_date_string(dir[i].start));
		append_base64(&buf, RET_SET_DATA(f, i), dir[i].length);
	}
	appendStringInfoString(&buf, "})");
	PG_RETURN_CSTRING(buf.data);
}

/* ------------------------------------------------------------------ binary I/O */

/* Binary output, version 2, canonical like the text output. */
PG_FUNCTION_INFO_V1(retention_summary_send);
Datum
retention_summary_send(PG_FUNCTION_ARGS)
{
	const RetFlat *f = ret_flat_convert(PG_GETARG_RETENTION(0), RETENTION_VERSION_COMPACT);
	RetDirEntry *dir = RET_DIR(f);
	StringInfoData buf;
	size_t		dictlen;
	const char *dict = ret_flat_dict(f, &dictlen);

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RETENTION_VERSION_COMPACT);
	pq_sendbyte(&buf, f->kind);
	pq_sendbyte(&buf, 0);		/* id type: bigint */
	pq_sendint32(&buf, f->nperiods);
	for (int32 i = 0; i < f->nperiods; i++)
	{
		pq_sendint32(&buf, dir[i].start);
		pq_sendint32(&buf, dir[i].length);
		pq_sendbytes(&buf, RET_SET_DATA(f, i), dir[i].length);
	}
	pq_sendint32(&buf, (int32) dictlen);
	pq_sendbytes(&buf, dict, dictlen);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

#define BIN_FAIL(...) \
	cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, RETENTION_TYPNAME, NULL, __VA_ARGS__)

PG_FUNCTION_INFO_V1(retention_summary_recv);
Datum
retention_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			remaining = buf->len - buf->cursor;
	int			version,
				kind;
	int32		n;
	RetPart    *parts;

	/* lengths are checked here: pq_getmsg* would raise 08P01, not 22P03 */
	if (remaining < 6)
		BIN_FAIL("The value is %d bytes long; a header needs 6.", remaining);
	version = pq_getmsgbyte(buf);
	if (version != RETENTION_VERSION && version != RETENTION_VERSION_COMPACT)
		BIN_FAIL("Unknown format version %d; this cxkpi reads versions %d and %d.", version,
				 RETENTION_VERSION, RETENTION_VERSION_COMPACT);
	kind = pq_getmsgbyte(buf);
	if (kind < 1 || kind > RET_KIND_MAX)
		BIN_FAIL("Unknown period code %d; codes are 1 (day) to 5 (year).", kind);
	if (version == RETENTION_VERSION_COMPACT)
	{
		int			idtype;

		if (buf->len - buf->cursor < 5)
			BIN_FAIL("The value is %d bytes long; a version 2 header needs 7.", buf->len);
		idtype = pq_getmsgbyte(buf);
		if (idtype != 0)
			BIN_FAIL("Unknown id type %d; this cxkpi reads 0 (bigint).", idtype);
	}
	n = (int32) pq_getmsgint(buf, 4);
	remaining = buf->len - buf->cursor;
	if (n < 0 || n > remaining / 8)
		BIN_FAIL("A period count of %d does not fit in the %d bytes that follow.", n, remaining);
	parts = palloc(Max(n, 1) * sizeof(RetPart));
	for (int32 i = 0; i < n; i++)
	{
		int32		len;

		if (buf->len - buf->cursor < 8)
			BIN_FAIL("The value is truncated at period %d.", i + 1);
		parts[i].start = (DateADT) pq_getmsgint(buf, 4);
		len = (int32) pq_getmsgint(buf, 4);
		remaining = buf->len - buf->cursor;
		if (len < 0 || len > remaining)
			BIN_FAIL("Period %d claims %d bytes, but %d remain.", i + 1, len, remaining);
		parts[i].data = buf->data + buf->cursor;
		parts[i].len = len;
		buf->cursor += len;
	}
	if (version == RETENTION_VERSION_COMPACT)
	{
		int32		dictlen;
		const char *dict;

		if (buf->len - buf->cursor < 4)
			BIN_FAIL("The value ends before the length of its dictionary.");
		dictlen = (int32) pq_getmsgint(buf, 4);
		remaining = buf->len - buf->cursor;
		if (dictlen < 0 || dictlen != remaining)
			BIN_FAIL("The dictionary claims %d bytes, but %d remain.", dictlen, remaining);
		dict = buf->data + buf->cursor;
		buf->cursor += dictlen;
		PG_RETURN_POINTER(ret_flat_build_compact(kind, dict, dictlen, parts, n,
												 ERRCODE_INVALID_BINARY_REPRESENTATION, NULL));
	}
	if (buf->cursor != buf->len)
		BIN_FAIL("%d bytes follow the last period.", buf->len - buf->cursor);
	PG_RETURN_POINTER(ret_flat_convert(ret_flat_build(kind, parts, n, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL),
									   RETENTION_VERSION_COMPACT));
}

/* ------------------------------------------------------------------ equality, hash */

/* Same period and the same set in every period (compared as sets, not as bytes). */
static bool
ret_equal(const RetFlat *a, const RetFlat *b)
{
	RetDirEntry *da = RET_DIR(a),
			   *db = RET_DIR(b);
	MemoryContext cxt = NULL;
	CxArena    *arena = NULL;
	bool		equal = true;

	if (a->kind != b->kind || a->nperiods != b->nperiods)
		return false;
	for (int32 i = 0; i < a->nperiods; i++)
		if (da[i].start != db[i].start)
			return false;
	for (int32 i = 0; i < a->nperiods && equal; i++)
	{
		if (da[i].length == db[i].length &&
			memcmp(RET_SET_DATA(a, i), RET_SET_DATA(b, i), da[i].length) == 0)
			continue;
		if (cxt == NULL)
		{
			cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary compare",
										ALLOCSET_DEFAULT_SIZES);
			arena = cx_arena_create(cxt);
		}
		equal = cx_set64_equal(ret_flat_read_set(arena, a, i), ret_flat_read_set(arena, b, i));
	}
	if (cxt != NULL)
		MemoryContextDelete(cxt);
	return equal;
}

/*
 * Two version 2 values are equal when their bytes are: every version 2 value
 * is stored canonically (the one dictionary of its ids, canonical bitmaps, no
 * padding but zeros), so equal sets have equal bytes.  Two version 1 values
 * (stored by cxkpi 1.0) are compared set by set; a version 1 value and a
 * version 2 value by converting the version 1 side.
 */
static bool
ret_equal_any(const RetFlat *a, const RetFlat *b)
{
	if (a->version == RETENTION_VERSION && b->version == RETENTION_VERSION)
		return ret_equal(a, b);
	a = ret_flat_convert(a, RETENTION_VERSION_COMPACT);
	b = ret_flat_convert(b, RETENTION_VERSION_COMPACT);
	return VARSIZE(a) == VARSIZE(b) &&
		memcmp((const char *) a + VARHDRSZ, (const char *) b + VARHDRSZ, VARSIZE(a) - VARHDRSZ) == 0;
}

PG_FUNCTION_INFO_V1(retention_summary_eq);
Datum
retention_summary_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ret_equal_any(PG_GETARG_RETENTION(0), PG_GETARG_RETENTION(1)));
}

PG_FUNCTION_INFO_V1(retention_summary_ne);
Datum
retention_summary_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!ret_equal_any(PG_GETARG_RETENTION(0), PG_GETARG_RETENTION(1)));
}

/*
 * Hash of the period and of each period's set content, consistent with
 * ret_equal, computed on version 1 (a version 2 value is converted): the
 * values are those of cxkpi 1.0, so hash indexes and hash partitions built
 * by 1.0 stay valid after the update.
 */
static uint64
ret_hash(const RetFlat *f, uint64 seed)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "retention_summary hash",
											  ALLOCSET_DEFAULT_SIZES);
	CxArena    *arena = cx_arena_create(cxt);
	uint64		h = hash_bytes_uint32_extended(f->kind, seed);

	for (int32 i = 0; i < f->nperiods; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		h = hash_combine64(h, hash_bytes_uint32_extended((uint32) RET_DIR(f)[i].start, seed));
		h = hash_combine64(h, cx_set64_hash(ret_flat_read_set(arena, f, i), seed));
		MemoryContextSwitchTo(old);
	}
	MemoryContextDelete(cxt);
	return h;
}

PG_FUNCTION_INFO_V1(retention_summary_hash);
Datum
retention_summary_hash(PG_FUNCTION_ARGS)
{
	PG_RETURN_UINT32((uint32) ret_hash(ret_flat_convert(PG_GETARG_RETENTION(0), RETENTION_VERSION), 0));
}

PG_FUNCTION_INFO_V1(retention_summary_hash_extended);
Datum
retention_summary_hash_extended(PG_FUNCTION_ARGS)
{
	PG_RETURN_UINT64(ret_hash(ret_flat_convert(PG_GETARG_RETENTION(0), RETENTION_VERSION), (uint64) PG_GETARG_INT64(1)));
}
