/*
 * retention_compact_proto.c: prototype measurement of the compact retention_summary format
 * (format v2, docs/retention.md "Format v2 (compact)"), outside PostgreSQL.  Issue 20.
 *
 * Not part of the extension and not a test: it answers "how big and how fast would a summary
 * be with ids stored once (a sorted dictionary) and per-period CRoaring bitmaps over positions
 * in it", on the rows of the retention benchmark, for each id shape.
 *
 *   cc -O2 -o /tmp/proto test/bench/retention_compact_proto.c -lroaring
 *   EMIT_V2=FILE /tmp/proto < rows   also writes the summary as a version 2 text literal to FILE
 *   /tmp/proto selftest      checks the dictionary codec (src/retention/dict.c): round trips of
 *                            edge cases, and damaged encodings that must be refused or decode to
 *                            a valid dictionary
 *   psql -XAt -c "COPY (SELECT (extract(year FROM active_on)::int - 2023) * 12
 *                              + extract(month FROM active_on)::int - 1, h64 FROM activity) TO STDOUT" \
 *        | /tmp/proto
 *
 * Input: lines "period_index<TAB>id" (period_index 0 .. 1023, id any bigint), in any order,
 * duplicates allowed (one line per activity row).  Output: sizes of the parts, build time from
 * the raw rows (radix sort of (id, period) pairs, dictionary, position bitmaps), and the time of
 * the two benchmark reports (retention by period, W = 1, and the full cohort matrix) computed on
 * position bitmaps deserialised from their portable bytes, as an accessor of a stored value would.
 */
#define CX_DICT_STANDALONE
#include "../../src/retention/dict.c"

#include <roaring/roaring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXP 1024

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);	/* CPU time: the machine is shared */
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

typedef struct
{
	uint64_t	id;				/* sign bit flipped: unsigned order = bigint order */
	uint32_t	p;
} Row;

/* LSD radix sort of rows by id, 16 bits a pass; passes whose digit is constant are skipped */
static void
radix_sort(Row *a, Row *tmp, size_t n)
{
	static size_t cnt[65536];

	for (int shift = 0; shift < 64; shift += 16)
	{
		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].id >> shift) & 0xFFFF]++;
		if (n && cnt[(a[0].id >> shift) & 0xFFFF] == n)
			continue;
		size_t		s = 0;

		for (int d = 0; d < 65536; d++)
		{
			size_t		c = cnt[d];

			cnt[d] = s;
			s += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i].id >> shift) & 0xFFFF]++] = a[i];
		memcpy(a, tmp, n * sizeof(Row));
	}
}

/* ------------------------------------------------------------------ build by per-period buffers */

/* LSD radix sort of 64-bit values, 8 bits a pass; constant digits skipped */
static void
sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
	for (int shift = 0; shift < 64; shift += 8)
	{
		size_t		cnt[256] = {0};
		size_t		s = 0;

		for (size_t i = 0; i < n; i++)
			cnt[(a[i] >> shift) & 255]++;
		if (n == 0 || cnt[(a[0] >> shift) & 255] == n)
			continue;
		for (int d = 0; d < 256; d++)
		{
			size_t		c = cnt[d];

			cnt[d] = s;
			s += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i] >> shift) & 255]++] = a[i];
		memcpy(a, tmp, n * sizeof(uint64_t));
	}
}

/* merges sorted, duplicate-free a and b into out (duplicate-free); map positions when asked */
static size_t
merge_u64(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t *out,
		  uint32_t *mapa, uint32_t *mapb)
{
	size_t		i = 0,
				j = 0,
				k = 0;

	while (i < na || j < nb)
	{
		if (j == nb || (i < na && a[i] < b[j]))
		{
			if (mapa)
				mapa[i] = (uint32_t) k;
			out[k++] = a[i++];
		}
		else if (i == na || b[j] < a[i])
		{
			if (mapb)
				mapb[j] = (uint32_t) k;
			out[k++] = b[j++];
		}
		else
		{
			if (mapa)
				mapa[i] = (uint32_t) k;
			if (mapb)
				mapb[j] = (uint32_t) k;
			out[k++] = a[i++];
			j++;
		}
	}
	return k;
}

typedef struct
{
	uint64_t   *v;				/* sorted, distinct */
	size_t		n;
	uint64_t   *pend;			/* appended, unsorted */
	size_t		np;
} PBuf;

#define PEND_MAX 65536

static size_t peak_bytes,
			cur_bytes;

static void
pbuf_flush(PBuf *b, uint64_t *tmp)
{
	size_t		m = 0,
				old_n;
	uint64_t   *nv;

	if (b->np == 0)
		return;
	sort_u64(b->pend, tmp, b->np);
	for (size_t i = 0; i < b->np; i++)
		if (m == 0 || b->pend[m - 1] != b->pend[i])
			b->pend[m++] = b->pend[i];
	nv = malloc((b->n + m) * sizeof(uint64_t));
	cur_bytes += (b->n + m) * sizeof(uint64_t);
	if (cur_bytes > peak_bytes)
		peak_bytes = cur_bytes;
	old_n = b->n;
	b->n = merge_u64(b->v, b->n, b->pend, m, nv, NULL, NULL);
	cur_bytes -= old_n * sizeof(uint64_t) + (old_n + m - b->n) * sizeof(uint64_t);
	free(b->v);
	b->v = realloc(nv, (b->n + 1) * sizeof(uint64_t));
	b->np = 0;
}

typedef struct
{
	uint64_t   *dict;
	size_t		nd;
	roaring_bitmap_t *bm[MAXP];
	int			np;
} Compact;

static void
build_buffers(const Row *rows, size_t n, int np, Compact *out)
{
	PBuf		pb[MAXP];
	uint64_t   *tmp = malloc(PEND_MAX * sizeof(uint64_t));
	uint64_t   *acc = NULL,
			   *nacc;
	size_t		nacc_n = 0;

	memset(pb, 0, sizeof(pb));
	cur_bytes = peak_bytes = 0;
	for (int p = 0; p < np; p++)
		pb[p].pend = malloc(PEND_MAX * sizeof(uint64_t));
	cur_bytes = peak_bytes = (size_t) np * PEND_MAX * sizeof(uint64_t);
	for (size_t i = 0; i < n; i++)
	{
		PBuf	   *b = &pb[rows[i].p];

		b->pend[b->np++] = rows[i].id;
		if (b->np == PEND_MAX)
			pbuf_flush(b, tmp);
	}
	for (int p = 0; p < np; p++)
	{
		pbuf_flush(&pb[p], tmp);
		free(pb[p].pend);
	}
	/* dictionary: merge the periods one after the other (a heap would do better for many periods) */
	for (int p = 0; p < np; p++)
	{
		nacc = malloc((nacc_n + pb[p].n) * sizeof(uint64_t));
		nacc_n = merge_u64(acc, nacc_n, pb[p].v, pb[p].n, nacc, NULL, NULL);
		free(acc);
		acc = nacc;
	}
	out->dict = acc;
	out->nd = nacc_n;
	out->np = np;
	/* positions: walk each period against the dictionary */
	for (int p = 0; p < np; p++)
	{
		uint32_t   *pos = malloc((pb[p].n + 1) * sizeof(uint32_t));
		size_t		k = 0;

		for (size_t i = 0; i < pb[p].n; i++)
		{
			while (acc[k] != pb[p].v[i])
				k++;
			pos[i] = (uint32_t) k;
		}
		out->bm[p] = roaring_bitmap_of_ptr(pb[p].n, pos);
		roaring_bitmap_run_optimize(out->bm[p]);
		free(pos);
		free(pb[p].v);
	}
	free(tmp);
}

/* merge of two compact summaries: dictionaries merged, positions mapped (monotone) */
static void
merge_compact(const Compact *a, const Compact *b, Compact *out)
{
	uint32_t   *mapa = malloc((a->nd + 1) * sizeof(uint32_t));
	uint32_t   *mapb = malloc((b->nd + 1) * sizeof(uint32_t));

	out->dict = malloc((a->nd + b->nd + 1) * sizeof(uint64_t));
	out->nd = merge_u64(a->dict, a->nd, b->dict, b->nd, out->dict, mapa, mapb);
	out->np = a->np > b->np ? a->np : b->np;
	for (int p = 0; p < out->np; p++)
	{
		roaring_bitmap_t *x = NULL;

		for (int side = 0; side < 2; side++)
		{
			const Compact *c = side ? b : a;
			uint32_t   *map = side ? mapb : mapa;
			uint64_t	card;
			uint32_t   *vals;
			roaring_bitmap_t *y;

			if (p >= c->np)
				continue;
			card = roaring_bitmap_get_cardinality(c->bm[p]);
			vals = malloc((card + 1) * sizeof(uint32_t));
			roaring_bitmap_to_uint32_array(c->bm[p], vals);
			for (uint64_t i = 0; i < card; i++)
				vals[i] = map[vals[i]];
			y = roaring_bitmap_of_ptr(card, vals);
			free(vals);
			if (x == NULL)
				x = y;
			else
			{
				roaring_bitmap_or_inplace(x, y);
				roaring_bitmap_free(y);
			}
		}
		roaring_bitmap_run_optimize(x);
		out->bm[p] = x;
	}
	free(mapa);
	free(mapb);
}

static bool
compact_equal(const Compact *a, const Compact *b)
{
	if (a->nd != b->nd || a->np != b->np || memcmp(a->dict, b->dict, a->nd * sizeof(uint64_t)) != 0)
		return false;
	for (int p = 0; p < a->np; p++)
		if (!roaring_bitmap_equals(a->bm[p], b->bm[p]))
			return false;
	return true;
}

/* ------------------------------------------------------------------ version 2 text */

static void
put_b64(FILE *out, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3)
	{
		uint32_t	v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);

		fputc(tab[v >> 18], out);
		fputc(tab[(v >> 12) & 63], out);
		fputc(i + 1 < n ? tab[(v >> 6) & 63] : '=', out);
		fputc(i + 2 < n ? tab[v & 63] : '=', out);
	}
}

/* The summary as a version 2 text literal, monthly, period index 0 = 2023-01 (the benchmark's). */
static void
emit_v2(FILE *out, const Compact *c)
{
	int			enc;
	size_t		dsize = cx_dict_size(c->dict, c->nd, &enc);
	char	   *d = malloc(dsize);
	bool		first = true;

	cx_dict_encode(c->dict, c->nd, d);
	fputs("(v2,period=month,ids=", out);
	put_b64(out, (unsigned char *) d, dsize);
	fputs(",periods={", out);
	for (int p = 0; p < c->np; p++)
	{
		size_t		len;
		char	   *b;

		if (roaring_bitmap_get_cardinality(c->bm[p]) == 0)
			continue;
		len = roaring_bitmap_portable_size_in_bytes(c->bm[p]);
		b = malloc(len);
		roaring_bitmap_portable_serialize(c->bm[p], b);
		fprintf(out, "%s%04d-%02d-01:", first ? "" : ";", 2023 + p / 12, p % 12 + 1);
		put_b64(out, (unsigned char *) b, len);
		free(b);
		first = false;
	}
	fputs("})\n", out);
	free(d);
}

/* ------------------------------------------------------------------ codec self-test */

static int	failures = 0;

static void
check_roundtrip(const char *name, const uint64_t *v, size_t n)
{
	int			enc;
	size_t		size = cx_dict_size(v, n, &enc);
	char	   *buf = malloc(size + 1);
	uint64_t   *out = malloc((n + 1) * sizeof(uint64_t));
	size_t		len = cx_dict_encode(v, n, buf),
				cnt;
	bool		canon;
	const char *why = NULL;

	if (len != size || !cx_dict_count(buf, len, &cnt, &why) || cnt != n ||
		!cx_dict_decode(buf, len, out, n, &canon, &why) || !canon ||
		(n && memcmp(out, v, n * sizeof(uint64_t)) != 0))
	{
		printf("not ok - %s (n %zu, %zu bytes): %s\n", name, n, len, why ? why : "mismatch");
		failures++;
	}
	else
		printf("ok - %s: n %zu, %s, %zu bytes\n", name, n, enc == CX_DICT_EF ? "Elias-Fano" : "runs", len);

	/* damage: every single-byte change is refused or decodes to strictly increasing ids */
	for (size_t pos = 0; pos < len && pos < 64; pos++)
		for (int x = 1; x < 256; x += 37)
		{
			size_t		m;
			uint64_t   *o2;

			buf[pos] ^= (char) x;
			why = NULL;
			if (cx_dict_count(buf, len, &m, &why) && m < 100000)
			{
				o2 = malloc((m + 1) * sizeof(uint64_t));
				if (cx_dict_decode(buf, len, o2, m, &canon, &why))
				{
					for (size_t i = 1; i < m; i++)
						if (o2[i] <= o2[i - 1])
						{
							printf("not ok - %s: damaged byte %zu decoded to unsorted ids\n", name, pos);
							failures++;
							break;
						}
					if (canon)
					{
						char	   *b2 = malloc(len + 16);
						int			e2;

						if (cx_dict_size(o2, m, &e2) != len || cx_dict_encode(o2, m, b2) != len ||
							memcmp(b2, buf, len) != 0)
						{
							printf("not ok - %s: damaged byte %zu: canonical but re-encodes differently\n", name, pos);
							failures++;
						}
						free(b2);
					}
				}
				free(o2);
			}
			buf[pos] ^= (char) x;
		}
	/* truncation and a trailing byte are refused */
	for (size_t cut = 0; cut < len; cut++)
	{
		why = NULL;
		if (cx_dict_count(buf, cut, &cnt, &why) && cnt == n && cx_dict_decode(buf, cut, out, n, &canon, &why))
		{
			printf("not ok - %s: truncated to %zu bytes accepted\n", name, cut);
			failures++;
		}
	}
	buf[len] = 0;
	if (cx_dict_decode(buf, len + 1, out, n, &canon, &why))
	{
		printf("not ok - %s: trailing byte accepted\n", name);
		failures++;
	}
	free(buf);
	free(out);
}

static int
selftest(void)
{
	static uint64_t v[5000];
	uint64_t	s = 88172645463325252ULL;

	check_roundtrip("empty", v, 0);
	v[0] = 0;
	check_roundtrip("one id 0", v, 1);
	v[0] = ~0ULL;
	check_roundtrip("one id 2^64-1", v, 1);
	v[0] = 0; v[1] = ~0ULL;
	check_roundtrip("0 and 2^64-1", v, 2);
	for (int i = 0; i < 1000; i++)
		v[i] = (1ULL << 63) + 1 + i;
	check_roundtrip("ids 1..1000", v, 1000);
	v[1000] = ~0ULL - 5;
	check_roundtrip("ids 1..1000 and one huge id", v, 1001);
	for (int i = 0; i < 3000; i++)
	{
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		v[i] = s;
	}
	for (int i = 1; i < 3000; i++)	/* insertion sort, then dedupe */
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--)
		{
			uint64_t	t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
		}
	check_roundtrip("3000 random 64-bit ids", v, 3000);
	for (int i = 0; i < 3000; i++)
		v[i] = (v[i] >> 32) + (uint64_t) i;	/* increasing, spread over 32 bits */
	check_roundtrip("3000 ids spread over 32 bits", v, 3000);
	for (int i = 0; i < 4000; i++)
		v[i] = (uint64_t) i * 3 + (i % 7 == 0);
	check_roundtrip("ids every third", v, 4000);
	for (int i = 0; i < 64; i++)
		v[i] = ~0ULL - 63 + i;
	check_roundtrip("the last 64 values", v, 64);
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures != 0;
}

int
main(int argc, char **argv)
{
	size_t		cap = 1 << 20,
				n = 0;
	Row		   *rows = malloc(cap * sizeof(Row));
	char		line[128];
	int			np = 0;

	if (argc > 1 && strcmp(argv[1], "selftest") == 0)
		return selftest();

	while (fgets(line, sizeof line, stdin))
	{
		char	   *e;
		long		p = strtol(line, &e, 10);
		long long	id = strtoll(e + 1, NULL, 10);

		if (p < 0 || p >= MAXP)
		{
			fprintf(stderr, "bad period %ld\n", p);
			return 1;
		}
		if (n == cap)
			rows = realloc(rows, (cap *= 2) * sizeof(Row));
		rows[n].id = (uint64_t) id ^ (UINT64_C(1) << 63);
		rows[n].p = (uint32_t) p;
		if (p + 1 > np)
			np = p + 1;
		n++;
	}

	/* build by per-period buffers (the state proposed for sparse ids), and merge of two halves */
	{
		Compact		full,
					ha,
					hb,
					merged;
		double		b0 = now_ms(),
					b1,
					b2,
					b3;
		size_t		peak_full;

		build_buffers(rows, n, np, &full);
		b1 = now_ms();
		peak_full = peak_bytes;
		build_buffers(rows, n / 2, np, &ha);
		build_buffers(rows + n / 2, n - n / 2, np, &hb);
		b2 = now_ms();
		merge_compact(&ha, &hb, &merged);
		b3 = now_ms();
		if (!compact_equal(&full, &merged))
		{
			fprintf(stderr, "merge of the halves differs from the direct build\n");
			return 1;
		}
		if (getenv("EMIT_V2"))
		{
			FILE	   *out = fopen(getenv("EMIT_V2"), "w");

			emit_v2(out, &full);
			fclose(out);
		}
		printf("build by per-period buffers: %.0f ms, peak buffer memory %.1f MB\n", b1 - b0, peak_full / 1e6);
		printf("merge of two halves' summaries (%zu + %zu ids): %.0f ms (halves built in %.0f ms); equal to the direct build\n",
			   ha.nd, hb.nd, b3 - b2, b2 - b1);
	}

	/* build: sort (id, period) pairs by id; one pass gives the dictionary and the bitmaps */
	double		t0 = now_ms();
	Row		   *tmp = malloc(n * sizeof(Row));

	radix_sort(rows, tmp, n);
	double		t_sort = now_ms();
	uint64_t   *dict = (uint64_t *) tmp;	/* reuse: at most n ids */
	size_t		nd = 0;
	roaring_bitmap_t *bm[MAXP];
	uint32_t   *buf[MAXP];
	size_t		nb[MAXP],
				cb[MAXP];

	for (int p = 0; p < np; p++)
	{
		cb[p] = 4096;
		nb[p] = 0;
		buf[p] = malloc(cb[p] * sizeof(uint32_t));
	}
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	pos;
		uint32_t	p = rows[i].p;

		if (nd == 0 || dict[nd - 1] != rows[i].id)
			dict[nd++] = rows[i].id;
		pos = (uint32_t) (nd - 1);
		if (nb[p] && buf[p][nb[p] - 1] == pos)
			continue;			/* same customer twice in one period */
		if (nb[p] == cb[p])
			buf[p] = realloc(buf[p], (cb[p] *= 2) * sizeof(uint32_t));
		buf[p][nb[p]++] = pos;
	}
	for (int p = 0; p < np; p++)
	{
		bm[p] = roaring_bitmap_of_ptr(nb[p], buf[p]);
		roaring_bitmap_run_optimize(bm[p]);
		free(buf[p]);
	}
	double		t_build = now_ms();

	/* sizes */
	size_t		bytes_bm = 0,
				bytes_varint = 0,
				bytes_runs = 0,
				active = 0;

	for (int p = 0; p < np; p++)
	{
		bytes_bm += roaring_bitmap_portable_size_in_bytes(bm[p]);
		active += roaring_bitmap_get_cardinality(bm[p]);
	}
	for (size_t i = 0; i < nd; i++)
		bytes_varint += varint_len(i ? dict[i] - dict[i - 1] - 1 : dict[0]);
	/* runs: (gap before the run, run length - 1), both varints */
	for (size_t i = 0; i < nd;)
	{
		size_t		j = i + 1;

		while (j < nd && dict[j] == dict[j - 1] + 1)
			j++;
		bytes_runs += varint_len(i ? dict[i] - dict[i - 1] - 1 : dict[0]) + varint_len(j - i - 1);
		i = j;
	}
	/* Elias-Fano: l = floor(log2(U / n)) low bits per id, 2 bits per id for the high parts */
	uint64_t	span = nd ? dict[nd - 1] - dict[0] + 1 : 1;
	int			l = 0;

	while (l < 63 && (span / nd) >> (l + 1))
		l++;
	size_t		bytes_ef = (nd * (size_t) l + 2 * nd + 7) / 8;

	/* serialise the bitmaps and read them back, as a stored value's accessor would */
	char	   *ser[MAXP];

	for (int p = 0; p < np; p++)
	{
		ser[p] = malloc(roaring_bitmap_portable_size_in_bytes(bm[p]));
		roaring_bitmap_portable_serialize(bm[p], ser[p]);
		roaring_bitmap_free(bm[p]);
	}

	/* retention by period, W = 1: active, new, retained */
	double		r0 = now_ms();
	uint64_t	chk = 0;

	for (int rep = 0; rep < 3; rep++)
	{
		roaring_bitmap_t *seen = roaring_bitmap_create();

		for (int p = 0; p < np; p++)
			bm[p] = roaring_bitmap_portable_deserialize(ser[p]);
		for (int p = 0; p < np; p++)
		{
			uint64_t	a = roaring_bitmap_get_cardinality(bm[p]);
			uint64_t	old = roaring_bitmap_and_cardinality(bm[p], seen);
			uint64_t	ret = p ? roaring_bitmap_and_cardinality(bm[p - 1], bm[p]) : 0;

			roaring_bitmap_or_inplace(seen, bm[p]);
			chk += a + (a - old) + ret;
		}
		roaring_bitmap_free(seen);
		for (int p = 0; p < np; p++)
			roaring_bitmap_free(bm[p]);
	}
	double		r1 = now_ms();

	/* cohort matrix: cohort k = first seen in k; cells |cohort k & P_j| for j >= k */
	for (int rep = 0; rep < 3; rep++)
	{
		roaring_bitmap_t *seen = roaring_bitmap_create();

		for (int p = 0; p < np; p++)
			bm[p] = roaring_bitmap_portable_deserialize(ser[p]);
		for (int k = 0; k < np; k++)
		{
			roaring_bitmap_t *c = roaring_bitmap_andnot(bm[k], seen);

			roaring_bitmap_or_inplace(seen, bm[k]);
			for (int j = k; j < np; j++)
				chk += roaring_bitmap_and_cardinality(c, bm[j]);
			roaring_bitmap_free(c);
		}
		roaring_bitmap_free(seen);
		for (int p = 0; p < np; p++)
			roaring_bitmap_free(bm[p]);
	}
	double		r2 = now_ms();

	printf("rows %zu  periods %d  distinct ids %zu  active id-periods %zu\n", n, np, nd, active);
	printf("position bitmaps          %10zu bytes (%.2f bits per active id-period)\n",
		   bytes_bm, 8.0 * bytes_bm / active);
	printf("dictionary delta-varint   %10zu bytes (%.2f bytes per id)\n", bytes_varint, (double) bytes_varint / nd);
	printf("dictionary runs+varint    %10zu bytes (%.2f bytes per id)\n", bytes_runs, (double) bytes_runs / nd);
	printf("dictionary Elias-Fano     %10zu bytes (%.2f bytes per id, l = %d)\n", bytes_ef, (double) bytes_ef / nd, l);
	{
		int			enc;
		size_t		dsize = cx_dict_size(dict, nd, &enc),
					cnt;
		char	   *dbuf = malloc(dsize);
		uint64_t   *back = malloc(nd * sizeof(uint64_t));
		bool		canon;
		const char *why = NULL;
		double		e0 = now_ms(),
					e1,
					e2;

		cx_dict_encode(dict, nd, dbuf);
		e1 = now_ms();
		if (!cx_dict_count(dbuf, dsize, &cnt, &why) || cnt != nd ||
			!cx_dict_decode(dbuf, dsize, back, nd, &canon, &why) || !canon ||
			memcmp(back, dict, nd * sizeof(uint64_t)) != 0)
		{
			fprintf(stderr, "dictionary codec round trip failed: %s\n", why ? why : "mismatch");
			return 1;
		}
		e2 = now_ms();
		printf("dictionary codec (dict.c) %10zu bytes (%s), encode %.1f ms, decode + check %.1f ms\n",
			   dsize, enc == CX_DICT_EF ? "Elias-Fano" : "runs", e1 - e0, e2 - e1);
	}
	printf("total (bitmaps + min(runs, EF)) %10zu bytes\n",
		   bytes_bm + (bytes_runs < bytes_ef ? bytes_runs : bytes_ef));
	printf("build from raw rows: %.0f ms (radix sort %.0f ms, dictionary + bitmaps %.0f ms)\n",
		   t_build - t0, t_sort - t0, t_build - t_sort);
	printf("retention by period (deserialise + report): %.2f ms\n", (r1 - r0) / 3);
	printf("cohort matrix (deserialise + report):       %.2f ms\n", (r2 - r1) / 3);
	printf("checksum %llu\n", (unsigned long long) chk);
	return 0;
}
