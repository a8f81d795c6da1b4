/*
 * stats.c
 *		Distribution quantiles and interval formulas shared by the KPI
 *		accessors.  Quantiles come from GSL (Debian's libgsl), not from tables:
 *		any confidence level in (0, 1) is exact to double precision.
 */
#include "cxkpi.h"

#include <math.h>
#include <gsl/gsl_cdf.h>

static void
check_confidence(double confidence)
{
	if (!(confidence > 0.0 && confidence < 1.0))	/* also rejects NaN */
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence level %g is out of range", confidence),
				 errhint("Use a confidence level strictly between 0 and 1, such as 0.95.")));
}

double
cx_z_for_confidence(double confidence)
{
	check_confidence(confidence);
	/* upper alpha/2 quantile; the Q form keeps precision for confidence near 1 */
	return gsl_cdf_ugaussian_Qinv((1.0 - confidence) / 2.0);
}

/*
 * Above this many degrees of freedom GSL's t quantile loses accuracy (at
 * 1e16 it is off by orders of magnitude), while the Cornish-Fisher expansion
 * around the normal quantile is exact to double precision well before it.
 */
#define CX_T_ASYMPTOTIC_DF	1e6

double
cx_t_for_confidence(double confidence, double df)
{
	double		t;

	check_confidence(confidence);
	if (!(df > 0.0))
		elog(ERROR, "t quantile needs positive degrees of freedom, got %g", df);
	if (df > CX_T_ASYMPTOTIC_DF)
	{
		double		z = cx_z_for_confidence(confidence);
		double		z3 = z * z * z;
		double		z5 = z3 * z * z;

		t = z + (z3 + z) / (4.0 * df) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df);
	}
	else
		t = gsl_cdf_tdist_Qinv((1.0 - confidence) / 2.0, df);
	if (!isfinite(t) || t <= 0.0)
		elog(ERROR, "t quantile for confidence %g and %g degrees of freedom is not finite",
			 confidence, df);
	return t;
}

double
cx_normal_two_sided_p(double z)
{
	double		p = 2.0 * gsl_cdf_ugaussian_Q(fabs(z));

	return p > 1.0 ? 1.0 : p;
}

/*
 * Wilson score interval (Wilson 1927): defined at x = 0 and x = n, always
 * inside [0, 1].  n must be positive.
 */
void
cx_wilson_interval(double x, double n, double z, double *lower, double *upper)
{
	double		p = x / n;
	double		z2 = z * z;
	double		denom = 1.0 + z2 / n;
	double		centre = (p + z2 / (2.0 * n)) / denom;
	double		half = z * sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom;

	/* exact ends at the boundaries, where rounding would leave 1e-15 */
	*lower = x <= 0.0 ? 0.0 : cx_clamp(centre - half, 0.0, 1.0);
	*upper = x >= n ? 1.0 : cx_clamp(centre + half, 0.0, 1.0);
}
