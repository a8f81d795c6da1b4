/*
 * retention_compact_proto.c: prototype measurement of the compact retention_summary format
 * (format v2, docs/retention.md "Format v2 (compact)"), outside PostgreSQL.  Issue 20.
 *
 * Not part of the extension and not a test: it answers "how big and how fast would a summary
 * be with ids stored once (a sorted dictionary) and per-period CRoaring bitmaps over positions
 * in it", on the rows of the retention benchmark, for each id shape.
 *
 *   cc -O2 -o /tmp/proto test/bench/retention_compact_proto.c -lroaring
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

	clock_gettime(CLOCK_MONOTONIC, &t);
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

static size_t
varint_len(uint64_t v)
{
	size_t		n = 1;

	while (v >= 128)
	{
		v >>= 7;
		n++;
	}
	return n;
}

int
main(void)
{
	size_t		cap = 1 << 20,
				n = 0;
	Row		   *rows = malloc(cap * sizeof(Row));
	char		line[128];
	int			np = 0;

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
	printf("total (bitmaps + min(runs, EF)) %10zu bytes\n",
		   bytes_bm + (bytes_runs < bytes_ef ? bytes_runs : bytes_ef));
	printf("build from raw rows: %.0f ms (radix sort %.0f ms, dictionary + bitmaps %.0f ms)\n",
		   t_build - t0, t_sort - t0, t_build - t_sort);
	printf("retention by period (deserialise + report): %.2f ms\n", (r1 - r0) / 3);
	printf("cohort matrix (deserialise + report):       %.2f ms\n", (r2 - r1) / 3);
	printf("checksum %llu\n", (unsigned long long) chk);
	return 0;
}
