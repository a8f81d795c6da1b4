/*
 * common.c
 *		Module initialisation, input-error reporting, checked counters and
 *		the strict text scanner shared by all summary types.
 */
#include "cxkpi.h"

#include <ctype.h>
#include <gsl/gsl_errno.h>

#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * GSL's default error handler calls abort(), which would take the backend
 * down.  Every GSL call in cxkpi checks its own arguments first and its
 * result for finiteness, so the handler is switched off once per process.
 */
void
_PG_init(void)
{
	gsl_set_error_handler_off();
}

void
cx_input_error(int sqlstate, const char *typname, const char *input,
			   const char *fmt,...)
{
	char		detail[256];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);

	if (input != NULL)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid input syntax for type %s: \"%s\"", typname, input),
				 errdetail("%s", detail)));
	else
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid external binary value for type %s", typname),
				 errdetail("%s", detail)));
}

/*
 * An aggregate support function called as a plain function: XX000 naming
 * the function the user called (one C function serves several SQL names).
 */
void
cx_not_in_aggregate(FunctionCallInfo fcinfo)
{
	char	   *name = fcinfo->flinfo ? get_func_name(fcinfo->flinfo->fn_oid) : NULL;

	elog(ERROR, "%s called in non-aggregate context", name ? name : "aggregate support function");
}

void
cx_counter_overflow(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s overflows bigint", what),
			 errdetail("Counters are 64-bit; the merged total exceeds 9223372036854775807.")));
}

/* ---------------------------------------------------------------- scanner */

void
cx_scan_init(CxScanner *sc, const char *input, const char *typname)
{
	sc->input = input;
	sc->typname = typname;
	sc->pos = input;
	while (isspace((unsigned char) *sc->pos))
		sc->pos++;
}

void
cx_scan_fail(CxScanner *sc, const char *fmt,...)
{
	char		detail[200];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);
	cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, sc->typname, sc->input,
				   "%s at character %d.", detail, (int) (sc->pos - sc->input) + 1);
}

/* Consume `literal` if it is next; report whether it was. */
bool
cx_scan_accept(CxScanner *sc, const char *literal)
{
	size_t		len = strlen(literal);

	if (strncmp(sc->pos, literal, len) != 0)
		return false;
	sc->pos += len;
	return true;
}

void
cx_scan_expect(CxScanner *sc, const char *literal)
{
	if (!cx_scan_accept(sc, literal))
		cx_scan_fail(sc, "Expected \"%s\"", literal);
}

/*
 * A decimal integer in its one canonical spelling, the one the output
 * functions print: an optional minus sign, then 0 or digits without a
 * leading zero; no "+", no spaces, no "-0", no overflow.  Negative values
 * are returned as read; callers decide whether they are valid.
 */
int64
cx_scan_int64(CxScanner *sc, const char *field)
{
	const char *p = sc->pos;
	bool		neg = false;
	uint64		v = 0;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	if (!isdigit((unsigned char) *p))
		cx_scan_fail(sc, "Expected an integer for %s", field);
	if (p[0] == '0' && (neg || isdigit((unsigned char) p[1])))
		cx_scan_fail(sc, "Expected an integer for %s in canonical form (no leading zero, no -0)", field);
	while (isdigit((unsigned char) *p))
	{
		uint64		digit = (uint64) (*p - '0');

		if (v > (PG_UINT64_MAX - digit) / 10)
			cx_scan_fail(sc, "Value of %s is out of range for bigint", field);
		v = v * 10 + digit;
		p++;
	}
	if ((!neg && v > (uint64) PG_INT64_MAX) ||
		(neg && v > (uint64) PG_INT64_MAX + 1))
		cx_scan_fail(sc, "Value of %s is out of range for bigint", field);
	sc->pos = p;
	if (neg)
		return v == (uint64) PG_INT64_MAX + 1 ? PG_INT64_MIN : -(int64) v;
	return (int64) v;
}

/* Only trailing white space may follow. */
void
cx_scan_end(CxScanner *sc)
{
	while (isspace((unsigned char) *sc->pos))
		sc->pos++;
	if (*sc->pos != '\0')
		cx_scan_fail(sc, "Unexpected trailing characters");
}
