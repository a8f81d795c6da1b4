/*
 * money.h
 *		Exact decimal sums for money columns: a 128-bit integer count of
 *		10^-scale units, where scale is the largest number of decimal places
 *		seen.  Adding a numeric costs a few integer operations and no
 *		allocation; results convert back to numeric exactly.
 */
#ifndef CXKPI_MONEY_H
#define CXKPI_MONEY_H

#include "cxkpi.h"

#include "lib/stringinfo.h"
#include "utils/numeric.h"

#define CX_MONEY_MAX_SCALE	18	/* decimal places a money value may carry */

typedef struct CxMoney
{
	int128		units;			/* value * 10^scale */
	int			scale;
} CxMoney;

/* Reads a numeric datum (packed headers are fine) exactly; 22003 if not finite or too precise. */
extern CxMoney cx_money_from_numeric(Datum num, const char *what);

/* a += b, rescaling to the larger scale; 22003 on overflow. */
extern void cx_money_add(int128 *units, int *scale, CxMoney b);
extern void cx_money_sub(int128 *units, int *scale, CxMoney b);
extern int	cx_money_cmp(CxMoney a, CxMoney b);

/* Brings units from scale `from` to the larger scale `to` (22003 on overflow). */
extern int128 cx_money_rescale(int128 units, int from, int to);

extern Numeric cx_money_to_numeric(int128 units, int scale);
extern char *cx_money_to_cstring(int128 units, int scale);

/* Parses a decimal ("-12.340") in the canonical spelling cx_money_to_cstring writes; false otherwise. */
extern bool cx_money_parse(const char *str, size_t len, int128 *units, int *scale);

/* Binary form of a 128-bit unit count: two int64 in network byte order, high half first. */
extern void cx_money_send_units(StringInfo buf, int128 units);
extern int128 cx_money_recv_units(StringInfo buf);

#endif							/* CXKPI_MONEY_H */
