/*
 * dict.c
 *		Encoding of a version 2 retention_summary's dictionary of customer ids
 *		(dict.h): runs of consecutive ids or Elias-Fano, whichever is smaller.
 */
#ifndef CX_DICT_STANDALONE
#include "postgres.h"
#endif

#include "dict.h"

#include <string.h>

#define U64_MAX_VALUE	(~(uint64) 0)

/* ------------------------------------------------------------------ varints */

static size_t
varint_len(uint64 v)
{
	size_t		n = 1;

	while (v >= 128)
	{
		v >>= 7;
		n++;
	}
	return n;
}

static size_t
varint_put(char *out, uint64 v)
{
	size_t		n = 0;

	while (v >= 128)
	{
		out[n++] = (char) ((v & 127) | 128);
		v >>= 7;
	}
	out[n++] = (char) v;
	return n;
}

/* Reads a shortest-form varint at buf[*pos]; false when truncated, overlong or over 64 bits. */
static bool
varint_get(const char *buf, size_t len, size_t *pos, uint64 *v)
{
	uint64		r = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		b;

		if (*pos >= len)
			return false;
		b = (uint8) buf[(*pos)++];
		if (shift == 63 && b > 1)
			return false;		/* more than 64 bits */
		r |= (uint64) (b & 127) << shift;
		if (!(b & 128))
		{
			if (b == 0 && shift > 0)
				return false;	/* overlong: a trailing zero group */
			*v = r;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ sizes */

static int
ef_low_bits(uint64 xmax, size_t n)
{
	uint64		q = xmax / (uint64) n;

	return q == 0 ? 0 : 63 - __builtin_clzll(q);
}

static size_t
runs_size(const uint64 *v, size_t n)
{
	size_t		size = 1 + varint_len(n);

	for (size_t i = 0; i < n;)
	{
		size_t		j = i + 1;

		while (j < n && v[j] == v[j - 1] + 1)
			j++;
		size += varint_len(i == 0 ? v[0] : v[i] - v[i - 1] - 2) + varint_len(j - i - 1);
		i = j;
	}
	return size;
}

static size_t
ef_size(const uint64 *v, size_t n)
{
	uint64		xmax;
	int			l;

	if (n == 0)
		return (size_t) -1;
	xmax = v[n - 1] - v[0];
	l = ef_low_bits(xmax, n);
	return 1 + varint_len(n) + 8 + 1 + (size_t) (((uint64) n * l + 7) / 8) +
		(size_t) (((xmax >> l) + n + 7) / 8);
}

size_t
cx_dict_size(const uint64 *v, size_t n, int *enc)
{
	size_t		r = runs_size(v, n);
	size_t		e = ef_size(v, n);

	*enc = e < r ? CX_DICT_EF : CX_DICT_RUNS;
	return e < r ? e : r;
}

/* ------------------------------------------------------------------ encoding */

size_t
cx_dict_encode(const uint64 *v, size_t n, char *out)
{
	int			enc;
	size_t		size = cx_dict_size(v, n, &enc);
	size_t		pos = 0;

	memset(out, 0, size);
	out[pos++] = (char) enc;
	pos += varint_put(out + pos, n);
	if (enc == CX_DICT_RUNS)
	{
		for (size_t i = 0; i < n;)
		{
			size_t		j = i + 1;

			while (j < n && v[j] == v[j - 1] + 1)
				j++;
			pos += varint_put(out + pos, i == 0 ? v[0] : v[i] - v[i - 1] - 2);
			pos += varint_put(out + pos, j - i - 1);
			i = j;
		}
	}
	else
	{
		uint64		xmax = v[n - 1] - v[0];
		int			l = ef_low_bits(xmax, n);
		uint8	   *lows;
		uint8	   *highs;

		memcpy(out + pos, &v[0], 8);	/* little-endian host (set64.h) */
		pos += 8;
		out[pos++] = (char) l;
		lows = (uint8 *) out + pos;
		pos += (size_t) (((uint64) n * l + 7) / 8);
		highs = (uint8 *) out + pos;
		pos += (size_t) (((xmax >> l) + n + 7) / 8);
		for (size_t i = 0; i < n; i++)
		{
			uint64		x = v[i] - v[0];
			uint64		bit = (uint64) i * l;
			uint64		hb = (x >> l) + i;

			for (int got = 0; got < l;)
			{
				int			off = (int) (bit & 7);
				int			take = 8 - off < l - got ? 8 - off : l - got;

				lows[bit >> 3] |= (uint8) (((x >> got) & ((1u << take) - 1)) << off);
				got += take;
				bit += take;
			}
			highs[hb >> 3] |= (uint8) (1u << (hb & 7));
		}
	}
	return pos;
}

/* ------------------------------------------------------------------ decoding */

bool
cx_dict_count(const char *buf, size_t len, size_t *n, const char **why)
{
	size_t		pos = 1;
	uint64		count;

	if (len < 2 || (buf[0] != CX_DICT_RUNS && buf[0] != CX_DICT_EF))
	{
		*why = "the dictionary has an unknown encoding";
		return false;
	}
	if (!varint_get(buf, len, &pos, &count) || count > CX_DICT_MAX_IDS ||
		(buf[0] == CX_DICT_EF && count > (uint64) len * 8))
	{
		*why = "the dictionary's count is invalid";
		return false;
	}
	*n = (size_t) count;
	return true;
}

static bool
decode_runs(const char *buf, size_t len, size_t pos, uint64 *out, size_t n, const char **why)
{
	size_t		k = 0;
	uint64		end = 0;

	while (k < n)
	{
		uint64		gap,
					len1,
					start;

		if (!varint_get(buf, len, &pos, &gap) || !varint_get(buf, len, &pos, &len1))
		{
			*why = "the dictionary is truncated or has a malformed number";
			return false;
		}
		if (k == 0)
			start = gap;
		else if (end >= U64_MAX_VALUE - 1 || gap > U64_MAX_VALUE - (end + 2))
		{
			*why = "the dictionary's ids overflow";
			return false;
		}
		else
			start = end + 2 + gap;
		if (len1 >= (uint64) (n - k) || len1 > U64_MAX_VALUE - start)
		{
			*why = "a run of the dictionary is longer than its count or overflows";
			return false;
		}
		for (uint64 j = 0; j <= len1; j++)
			out[k++] = start + j;
		end = start + len1;
	}
	if (pos != len)
	{
		*why = "the dictionary has trailing bytes";
		return false;
	}
	return true;
}

static bool
decode_ef(const char *buf, size_t len, size_t pos, uint64 *out, size_t n, const char **why)
{
	uint64		v0;
	int			l;
	size_t		lowbytes,
				hpos,
				k = 0;
	const uint8 *lows;
	const uint8 *highs;

	if (n == 0 || len - pos < 9)
	{
		*why = "the dictionary's Elias-Fano header is invalid";
		return false;
	}
	memcpy(&v0, buf + pos, 8);
	l = (uint8) buf[pos + 8];
	pos += 9;
	lowbytes = (size_t) (((uint64) n * (l > 63 ? 0 : l) + 7) / 8);
	if (l > 63 || len - pos < lowbytes + 1)
	{
		*why = "the dictionary's Elias-Fano header is invalid";
		return false;
	}
	lows = (const uint8 *) buf + pos;
	highs = lows + lowbytes;
	if ((n * l) % 8 != 0 && (lows[lowbytes - 1] >> ((n * l) % 8)) != 0)
	{
		*why = "the dictionary's padding bits are not zero";
		return false;
	}
	for (hpos = 0; hpos < len - pos - lowbytes; hpos++)
	{
		uint8		b = highs[hpos];

		while (b)
		{
			int			t = __builtin_ctz(b);
			uint64		hb = (uint64) hpos * 8 + t - k;
			uint64		low = 0,
						x;
			uint64		bit = (uint64) k * l;

			b &= (uint8) (b - 1);
			if (k >= n)
			{
				*why = "the dictionary has more ids than its count";
				return false;
			}
			for (int got = 0; got < l;)
			{
				int			off = (int) (bit & 7);
				int			take = 8 - off < l - got ? 8 - off : l - got;

				low |= (uint64) ((lows[bit >> 3] >> off) & ((1u << take) - 1)) << got;
				got += take;
				bit += take;
			}
			if (hb > (U64_MAX_VALUE >> l))
			{
				*why = "the dictionary's ids overflow";
				return false;
			}
			x = (hb << l) | low;
			if (x > U64_MAX_VALUE - v0 || (k == 0 && x != 0) || (k > 0 && v0 + x <= out[k - 1]))
			{
				*why = "the dictionary's ids are not strictly increasing from its first id";
				return false;
			}
			out[k++] = v0 + x;
		}
	}
	if (k != n || highs[len - pos - lowbytes - 1] == 0)
	{
		*why = "the dictionary's length does not match its count";
		return false;
	}
	if (ef_low_bits(out[n - 1] - v0, n) != l)
	{
		*why = "the dictionary's Elias-Fano parameter is not the canonical one";
		return false;
	}
	return true;
}

bool
cx_dict_decode(const char *buf, size_t len, uint64 *out, size_t n, bool *canonical,
			   const char **why)
{
	size_t		pos = 1;
	size_t		count;
	uint64		skip;
	int			enc;
	bool		ok;

	*why = NULL;
	if (!cx_dict_count(buf, len, &count, why))
		return false;
	if (count != n)
	{
		*why = "the dictionary's count does not match the summary's";
		return false;
	}
	(void) varint_get(buf, len, &pos, &skip);
	if (buf[0] == CX_DICT_RUNS)
		ok = decode_runs(buf, len, pos, out, n, why);
	else
		ok = decode_ef(buf, len, pos, out, n, why);
	if (!ok)
		return false;
	*canonical = cx_dict_size(out, n, &enc) == len && enc == buf[0];
	return true;
}
