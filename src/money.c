/*
 * money.c
 *		Exact decimal arithmetic for money sums (see money.h).
 *
 * Why not numeric_add() per row: it allocates a new numeric for every row,
 * and the public numeric API has no allocation-free accumulator.  A numeric
 * value is read here straight from its on-disk format, which PostgreSQL keeps
 * stable across major versions (pg_upgrade copies data files as they are):
 * a 16-bit header with sign, display scale and weight, then base-10000
 * digits.  The layout constants are those of src/backend/utils/adt/numeric.c.
 */
#include "money.h"

#include "libpq/pqformat.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#define NUMERIC_SIGN_MASK		0xC000
#define NUMERIC_NEG				0x4000
#define NUMERIC_SHORT			0x8000
#define NUMERIC_SPECIAL			0xC000
#define NUMERIC_DSCALE_MASK		0x3FFF
#define NUMERIC_SHORT_SIGN_MASK			0x2000
#define NUMERIC_SHORT_DSCALE_MASK		0x1F80
#define NUMERIC_SHORT_DSCALE_SHIFT		7
#define NUMERIC_SHORT_WEIGHT_SIGN_MASK	0x0040
#define NUMERIC_SHORT_WEIGHT_MASK		0x003F
#define NBASE_DIGITS			4

static const int128 cx_pow10_table[] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000, INT64CONST(10000000000), INT64CONST(100000000000),
	INT64CONST(1000000000000), INT64CONST(10000000000000),
	INT64CONST(100000000000000), INT64CONST(1000000000000000),
	INT64CONST(10000000000000000), INT64CONST(100000000000000000),
	INT64CONST(1000000000000000000)
};

static void
money_overflow(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s is out of range for an exact money sum", what),
			 errdetail("Money sums are exact 128-bit decimals with at most %d decimal places.",
					   CX_MONEY_MAX_SCALE)));
}

static int128
mul_checked(int128 a, int128 b, const char *what)
{
	int128		r;

	if (__builtin_mul_overflow(a, b, &r))
		money_overflow(what);
	return r;
}

static int128
add_checked(int128 a, int128 b, const char *what)
{
	int128		r;

	if (__builtin_add_overflow(a, b, &r))
		money_overflow(what);
	return r;
}

/* 10^e for 0 <= e <= 38 as a 128-bit integer; 22003 beyond. */
static int128
pow10_checked(int e, const char *what)
{
	if (e <= CX_MONEY_MAX_SCALE)
		return cx_pow10_table[e];
	if (e > 38)
		money_overflow(what);
	return mul_checked(cx_pow10_table[CX_MONEY_MAX_SCALE], pow10_checked(e - CX_MONEY_MAX_SCALE, what), what);
}

int128
cx_money_rescale(int128 units, int from, int to)
{
	Assert(to >= from && to <= CX_MONEY_MAX_SCALE);
	if (to == from)
		return units;
	return mul_checked(units, cx_pow10_table[to - from], "money value");
}

CxMoney
cx_money_from_numeric(Datum datum, const char *what)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(datum);
	const unsigned char *p;
	int			len;
	uint16		header;
	bool		negative;
	int			weight,
				dscale,
				offset,
				ndigits,
				target;
	int128		acc = 0;
	CxMoney		m;

	/* packed (short-header) values are read in place; only toasted ones are copied */
	if (unlikely(VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v)))
		v = pg_detoast_datum_packed(v);
	p = (const unsigned char *) VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);
	memcpy(&header, p, sizeof(uint16));
	if ((header & NUMERIC_SIGN_MASK) == NUMERIC_SPECIAL)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be a finite number", what),
				 errdetail("NaN and infinity have no place in a money sum.")));
	if (header & NUMERIC_SHORT)
	{
		negative = (header & NUMERIC_SHORT_SIGN_MASK) != 0;
		dscale = (header & NUMERIC_SHORT_DSCALE_MASK) >> NUMERIC_SHORT_DSCALE_SHIFT;
		weight = (header & NUMERIC_SHORT_WEIGHT_MASK);
		if (header & NUMERIC_SHORT_WEIGHT_SIGN_MASK)
			weight |= ~NUMERIC_SHORT_WEIGHT_MASK;
		offset = sizeof(uint16);
	}
	else
	{
		int16		w;

		negative = (header & NUMERIC_SIGN_MASK) == NUMERIC_NEG;
		dscale = header & NUMERIC_DSCALE_MASK;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		offset = 2 * sizeof(uint16);
	}
	ndigits = (len - offset) / (int) sizeof(int16);
	if (ndigits == 0)
	{
		m.units = 0;
		m.scale = Min(dscale, CX_MONEY_MAX_SCALE);
		return m;
	}

	/*
	 * The target scale is the display scale.  A longer one (numeric division
	 * gives 16 to 20 decimals) is accepted when the value is exact within
	 * CX_MONEY_MAX_SCALE places: 1/8.0 = 0.12500000000000000000 reads as
	 * 0.125.  The last base-10000 digit is non-zero (numeric strips trailing
	 * zero digits), so its trailing decimal zeros give the exact scale.
	 */
	target = dscale;
	if (dscale > CX_MONEY_MAX_SCALE)
	{
		int16		last;

		memcpy(&last, p + offset + (ndigits - 1) * sizeof(int16), sizeof(int16));
		target = NBASE_DIGITS * (ndigits - 1 - weight);
		while (target > 0 && last != 0 && last % 10 == 0)
		{
			last /= 10;
			target--;
		}
		target = Max(target, 0);
		if (target > CX_MONEY_MAX_SCALE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s has more than %d significant decimal places", what,
							CX_MONEY_MAX_SCALE),
					 errhint("Round money values, for example round(x, 2), before aggregating them.")));
	}

	/*
	 * units = sum of digit_i * 10^(4 * (weight - i) + target).  Each term is
	 * placed directly (no intermediate value larger than the result); digits
	 * beyond the target scale are zero, so the divisions are exact.
	 */
	for (int i = 0; i < ndigits; i++)
	{
		int16		d;
		int			e = NBASE_DIGITS * (weight - i) + target;

		memcpy(&d, p + offset + i * sizeof(int16), sizeof(int16));
		if (d == 0)
			continue;
		if (e >= 0 && e <= CX_MONEY_MAX_SCALE)
			acc = add_checked(acc, (int128) d * cx_pow10_table[e], what);	/* < 10^22: no overflow */
		else if (e >= 0)
			acc = add_checked(acc, mul_checked(d, pow10_checked(e, what), what), what);
		else if (e > -NBASE_DIGITS)
			acc = add_checked(acc, d / (int) cx_pow10_table[-e], what);	/* 32-bit division */
	}
	dscale = target;
	m.units = negative ? -acc : acc;
	m.scale = dscale;
	return m;
}

void
cx_money_add(int128 *units, int *scale, CxMoney b)
{
	int			s = Max(*scale, b.scale);

	*units = add_checked(cx_money_rescale(*units, *scale, s),
						 cx_money_rescale(b.units, b.scale, s), "money sum");
	*scale = s;
}

void
cx_money_sub(int128 *units, int *scale, CxMoney b)
{
	b.units = -b.units;
	cx_money_add(units, scale, b);
}

int
cx_money_cmp(CxMoney a, CxMoney b)
{
	int			s = Max(a.scale, b.scale);
	int128		x = cx_money_rescale(a.units, a.scale, s);
	int128		y = cx_money_rescale(b.units, b.scale, s);

	return x < y ? -1 : (x > y ? 1 : 0);
}

char *
cx_money_to_cstring(int128 units, int scale)
{
	char		digits[64];
	char	   *out = palloc(72);
	int			nd = 0,
				pos = 0;
	uint128		u = units < 0 ? (uint128) (-(units + 1)) + 1 : (uint128) units;

	do
	{
		digits[nd++] = '0' + (int) (u % 10);
		u /= 10;
	} while (u > 0);
	while (nd <= scale)
		digits[nd++] = '0';
	if (units < 0)
		out[pos++] = '-';
	for (int i = nd - 1; i >= 0; i--)
	{
		out[pos++] = digits[i];
		if (i == scale && scale > 0)
			out[pos++] = '.';
	}
	out[pos] = '\0';
	return out;
}

Numeric
cx_money_to_numeric(int128 units, int scale)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(cx_money_to_cstring(units, scale)),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/*
 * The canonical spelling only, as cx_money_to_cstring writes it: an optional
 * minus sign, an integer part that is 0 or has no leading zero, and an
 * optional point followed by 1 to CX_MONEY_MAX_SCALE digits; no "-0".
 */
bool
cx_money_parse(const char *str, size_t len, int128 *units, int *scale)
{
	size_t		i = 0;
	bool		negative = false,
				seen_point = false;
	int			ndigits = 0,
				frac = 0;
	int128		acc = 0;

	if (i < len && str[i] == '-')
	{
		negative = true;
		i++;
	}
	/* a leading zero only as the whole integer part */
	if (i + 1 < len && str[i] == '0' && str[i + 1] != '.')
		return false;
	for (; i < len; i++)
	{
		char		c = str[i];

		if (c == '.' && !seen_point && ndigits > 0)
		{
			seen_point = true;
			continue;
		}
		if (c < '0' || c > '9')
			return false;
		if (__builtin_mul_overflow(acc, 10, &acc) ||
			__builtin_add_overflow(acc, c - '0', &acc))
			return false;
		ndigits++;
		if (seen_point)
			frac++;
	}
	if (ndigits == 0 || (seen_point && frac == 0) || frac > CX_MONEY_MAX_SCALE ||
		(negative && acc == 0))
		return false;
	*units = negative ? -acc : acc;
	*scale = frac;
	return true;
}

/* Binary form of a unit count (summary send/recv, aggregate state serialisation). */
void
cx_money_send_units(StringInfo buf, int128 units)
{
	pq_sendint64(buf, (int64) (units >> 64));
	pq_sendint64(buf, (int64) (uint64) units);
}

int128
cx_money_recv_units(StringInfo buf)
{
	int128		hi = (int128) pq_getmsgint64(buf);
	uint64		lo = (uint64) pq_getmsgint64(buf);

	return (int128) (((uint128) hi << 64) | lo);
}
