/*
 * simple.c
 *		clv(average_purchase_value, purchase_frequency, lifespan): the seed
 *		formula of the KPI definitions, for when no model is fitted.
 */
#include "clv.h"

#include <math.h>

/* The seed formula: average purchase value x purchase frequency x lifespan. */
PG_FUNCTION_INFO_V1(clv_simple);
Datum
clv_simple(PG_FUNCTION_ARGS)
{
	double		v = PG_GETARG_FLOAT8(0),
				f = PG_GETARG_FLOAT8(1),
				l = PG_GETARG_FLOAT8(2);
	double		res;

	if (!(v >= 0) || !(f >= 0) || !(l >= 0) || isinf(v) || isinf(f) || isinf(l))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("clv inputs must be finite and not negative: average_purchase_value = %g, purchase_frequency = %g, lifespan = %g",
						v, f, l)));
	res = v * f * l;
	if (isinf(res))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("clv overflows double precision")));
	PG_RETURN_FLOAT8(res);
}

