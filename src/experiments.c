/*
 * experiments.c
 *		Two-sample comparisons for A/B tests (docs/experiments.md): two
 *		proportions (Newcombe's hybrid score interval of the difference, pooled
 *		z test), two means (Welch), CSAT share and mean from two summaries, and
 *		sample sizes for a minimum detectable effect.  Every test returns one
 *		row of type two_sample_test; the NPS test (nps.c) returns the same.
 *
 * Differences are always a - b (variant - control), in the unit of the
 * metric: percentage points for shares, points for NPS, the survey scale or
 * the currency for means.
 */
#include "score_summary.h"

#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"

/* Beyond this many degrees of freedom the t distribution is the normal one to double precision. */
#define CX_T_NORMAL_DF	1e7

/* ------------------------------------------------------------------ helpers */

Datum
cx_two_sample_result(FunctionCallInfo fcinfo, const CxTwoSample *r)
{
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int64GetDatum(r->n_a);
	values[1] = Int64GetDatum(r->n_b);
	values[2] = Float8GetDatum(r->estimate_a);
	values[3] = Float8GetDatum(r->estimate_b);
	values[4] = Float8GetDatum(r->difference);
	values[5] = Float8GetDatum(r->ci_lower);
	values[6] = Float8GetDatum(r->ci_upper);
	values[7] = Float8GetDatum(r->statistic);
	values[8] = Float8GetDatum(r->df);
	values[9] = Float8GetDatum(r->p_value);
	for (int i = 0; i < 10; i++)
		nulls[i] = false;
	nulls[7] = !r->has_statistic;
	nulls[8] = !r->has_df;
	nulls[9] = !r->has_statistic;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

static void
check_count(const char *what, int64 v)
{
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %lld is out of range", what, (long long) v),
				 errhint("Counts cannot be negative.")));
}

static void
check_finite(const char *what, double v)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %g is out of range", what, v),
				 errhint("Pass a finite number.")));
}

/* Two-sided p-value of a Student-t statistic. */
static double
t_two_sided_p(double t, double df)
{
	double		p;

	if (df > CX_T_NORMAL_DF)
		return cx_normal_two_sided_p(t);
	p = 2.0 * gsl_cdf_tdist_Q(fabs(t), df);
	return p > 1.0 ? 1.0 : p;
}

/*
 * Two proportions x_a / n_a and x_b / n_b (n > 0): Newcombe's (1998) hybrid
 * score interval of p_a - p_b (method 10, from the two Wilson intervals) and
 * the pooled two-proportion z test.  Results in percent.
 */
void
cx_proportion_test(int64 xa, int64 na, int64 xb, int64 nb, double confidence, CxTwoSample *r)
{
	double		z = cx_z_for_confidence(confidence);
	double		pa = (double) xa / (double) na;
	double		pb = (double) xb / (double) nb;
	double		la,
				ua,
				lb,
				ub,
				d = pa - pb,
				pooled = ((double) xa + (double) xb) / ((double) na + (double) nb),
				se0 = sqrt(pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb));

	cx_wilson_interval((double) xa, (double) na, z, &la, &ua);
	cx_wilson_interval((double) xb, (double) nb, z, &lb, &ub);
	r->n_a = na;
	r->n_b = nb;
	r->estimate_a = 100.0 * pa;
	r->estimate_b = 100.0 * pb;
	r->difference = 100.0 * d;
	r->ci_lower = 100.0 * cx_clamp(d - sqrt((pa - la) * (pa - la) + (ub - pb) * (ub - pb)), -1.0, 1.0);
	r->ci_upper = 100.0 * cx_clamp(d + sqrt((ua - pa) * (ua - pa) + (pb - lb) * (pb - lb)), -1.0, 1.0);
	r->has_statistic = true;
	r->has_df = false;
	r->df = 0;
	if (se0 > 0.0)
	{
		r->statistic = d / se0;
		r->p_value = cx_normal_two_sided_p(r->statistic);
	}
	else
	{
		/* every trial of both samples has the same outcome: no difference */
		r->statistic = 0.0;
		r->p_value = 1.0;
	}
}

/*
 * Welch's unequal-variance t test of mean_a - mean_b (n >= 2 each), with the
 * Welch-Satterthwaite degrees of freedom.  False when both variances are 0:
 * the interval is then [d, d] and there is no statistic.
 */
void
cx_welch_test(double na, double ma, double va, double nb, double mb, double vb,
			  double confidence, CxTwoSample *r)
{
	double		sa = va / na,
				sb = vb / nb,
				se = sqrt(sa + sb),
				d = ma - mb;

	r->n_a = (int64) na;
	r->n_b = (int64) nb;
	r->estimate_a = ma;
	r->estimate_b = mb;
	r->difference = d;
	if (se > 0.0)
	{
		double		df = (sa + sb) * (sa + sb) / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
		double		t = cx_t_for_confidence(confidence, df);

		r->ci_lower = d - t * se;
		r->ci_upper = d + t * se;
		r->statistic = d / se;
		r->df = df;
		r->p_value = t_two_sided_p(r->statistic, df);
		r->has_statistic = true;
		r->has_df = true;
	}
	else
	{
		(void) cx_z_for_confidence(confidence);	/* still validate it */
		r->ci_lower = r->ci_upper = d;
		r->has_statistic = false;
		r->has_df = false;
		r->statistic = r->df = r->p_value = 0;
	}
}

/* ------------------------------------------------------------ SQL functions */

/* proportion_test(successes_a, n_a, successes_b, n_b, confidence) */
PG_FUNCTION_INFO_V1(cx_proportion_test_sql);
Datum
cx_proportion_test_sql(PG_FUNCTION_ARGS)
{
	int64		xa = PG_GETARG_INT64(0),
				na = PG_GETARG_INT64(1),
				xb = PG_GETARG_INT64(2),
				nb = PG_GETARG_INT64(3);
	double		confidence = PG_GETARG_FLOAT8(4);
	CxTwoSample r;

	check_count("successes_a", xa);
	check_count("n_a", na);
	check_count("successes_b", xb);
	check_count("n_b", nb);
	if (xa > na || xb > nb)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("successes %lld out of %lld trials is out of range",
						(long long) (xa > na ? xa : xb), (long long) (xa > na ? na : nb)),
				 errhint("A sample cannot have more successes than trials.")));
	(void) cx_z_for_confidence(confidence);
	if (na == 0 || nb == 0)
		PG_RETURN_NULL();
	cx_proportion_test(xa, na, xb, nb, confidence, &r);
	return cx_two_sample_result(fcinfo, &r);
}

/* welch_test(n_a, mean_a, variance_a, n_b, mean_b, variance_b, confidence) */
PG_FUNCTION_INFO_V1(cx_welch_test_sql);
Datum
cx_welch_test_sql(PG_FUNCTION_ARGS)
{
	int64		na = PG_GETARG_INT64(0),
				nb = PG_GETARG_INT64(3);
	double		ma = PG_GETARG_FLOAT8(1),
				va = PG_GETARG_FLOAT8(2),
				mb = PG_GETARG_FLOAT8(4),
				vb = PG_GETARG_FLOAT8(5),
				confidence = PG_GETARG_FLOAT8(6);
	CxTwoSample r;

	check_count("n_a", na);
	check_count("n_b", nb);
	check_finite("mean_a", ma);
	check_finite("mean_b", mb);
	check_finite("variance_a", va);
	check_finite("variance_b", vb);
	if (va < 0.0 || vb < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("variance %g is out of range", va < 0.0 ? va : vb),
				 errhint("A variance cannot be negative: pass var_samp(x).")));
	(void) cx_z_for_confidence(confidence);
	if (na < 2 || nb < 2)
		PG_RETURN_NULL();
	cx_welch_test((double) na, ma, va, (double) nb, mb, vb, confidence, &r);
	return cx_two_sample_result(fcinfo, &r);
}

/* The scales of two CSAT summaries must match. */
static void
check_same_scale(const ScoreSummary *a, const ScoreSummary *b)
{
	if (a->scale != b->scale)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot compare csat_summary values on different scales"),
				 errdetail("One summary is on a %d-point scale, the other on a %d-point scale.",
						   a->scale, b->scale),
				 errhint("Compare answers on one scale: filter or group by the scale.")));
}

/* csat_share_test(a, b, confidence): the percent satisfied (top boxes), two proportions. */
PG_FUNCTION_INFO_V1(csat_share_test);
Datum
csat_share_test(PG_FUNCTION_ARGS)
{
	ScoreSummary *a = PG_GETARG_SCORE_SUMMARY(0);
	ScoreSummary *b = PG_GETARG_SCORE_SUMMARY(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	CxTwoSample r;

	check_same_scale(a, b);
	(void) cx_z_for_confidence(confidence);
	if (a->n == 0 || b->n == 0)
		PG_RETURN_NULL();
	cx_proportion_test(score_top_count(a), a->n, score_top_count(b), b->n, confidence, &r);
	return cx_two_sample_result(fcinfo, &r);
}

/* csat_mean_test(a, b, confidence): the mean score, Welch (NULL on a yes/no scale). */
PG_FUNCTION_INFO_V1(csat_mean_test);
Datum
csat_mean_test(PG_FUNCTION_ARGS)
{
	ScoreSummary *a = PG_GETARG_SCORE_SUMMARY(0);
	ScoreSummary *b = PG_GETARG_SCORE_SUMMARY(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	CxTwoSample r;

	check_same_scale(a, b);
	(void) cx_z_for_confidence(confidence);
	if (a->n < 2 || b->n < 2 || a->scale == 2)
		PG_RETURN_NULL();
	cx_welch_test((double) a->n, score_mean(a), score_sample_variance(a),
				  (double) b->n, score_mean(b), score_sample_variance(b), confidence, &r);
	return cx_two_sample_result(fcinfo, &r);
}

/* ------------------------------------------------------------ sample sizes */

static void
check_alpha_power(double alpha, double power)
{
	if (!(alpha > 0.0 && alpha < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("significance level %g is out of range", alpha),
				 errhint("Use a significance level strictly between 0 and 1, such as 0.05.")));
	if (!(power > alpha / 2.0 && power < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("power %g is out of range", power),
				 errhint("Use a power above alpha / 2 and below 1, such as 0.8.")));
}

/* Smallest integer at least x, forgiving the last bits of rounding (76.0000000000001 is 76). */
static int64
ceil_count(double x, const char *what)
{
	double		c = ceil(x * (1.0 - 4 * DBL_EPSILON));

	if (!(c < 9.2e18))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the %s sample size is beyond bigint", what),
				 errhint("The minimum detectable effect is too small to detect.")));
	return c < 2.0 ? 2 : (int64) c;
}

/*
 * sample_size_proportions(baseline_pct, mde_points, alpha, power): per group, two-sided
 * pooled z test, as R's power.prop.test (strict = FALSE) solves it, rounded up.
 */
PG_FUNCTION_INFO_V1(sample_size_proportions);
Datum
sample_size_proportions(PG_FUNCTION_ARGS)
{
	double		base = PG_GETARG_FLOAT8(0),
				mde = PG_GETARG_FLOAT8(1),
				alpha = PG_GETARG_FLOAT8(2),
				power = PG_GETARG_FLOAT8(3);
	double		p1,
				p2,
				pbar,
				za,
				zb,
				num;

	if (!(base > 0.0 && base < 100.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("baseline %g %% is out of range", base),
				 errhint("Pass the control group's rate in percent, strictly between 0 and 100.")));
	if (!(mde != 0.0 && base + mde > 0.0 && base + mde < 100.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("minimum detectable effect %g points is out of range for a baseline of %g %%", mde, base),
				 errhint("Pass a non-zero difference in percentage points that keeps baseline + effect strictly between 0 and 100.")));
	check_alpha_power(alpha, power);
	p1 = base / 100.0;
	p2 = (base + mde) / 100.0;
	pbar = (p1 + p2) / 2.0;
	za = gsl_cdf_ugaussian_Qinv(alpha / 2.0);
	zb = gsl_cdf_ugaussian_Pinv(power);
	num = za * sqrt(2.0 * pbar * (1.0 - pbar)) + zb * sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2));
	PG_RETURN_INT64(ceil_count(num * num / ((p2 - p1) * (p2 - p1)), "per-group"));
}

/* Power of the two-sided two-sample t test, upper tail (R's power.t.test, strict = FALSE). */
typedef struct TPowerArgs
{
	double		ncp;
	double		tcrit;
	double		df;
} TPowerArgs;

/* P(T' > tcrit) given V/df = u: Phi(ncp - tcrit * sqrt(u)), weighted by the density of u. */
static double
t_power_integrand(double u, void *arg)
{
	TPowerArgs *a = (TPowerArgs *) arg;

	return gsl_cdf_ugaussian_P(a->ncp - a->tcrit * sqrt(u)) * gsl_ran_gamma_pdf(u, a->df / 2.0, 2.0 / a->df);
}

static double
t_test_power(double n, double delta_over_sd, double alpha)
{
	TPowerArgs	a;
	double		df = 2.0 * n - 2.0;
	double		result,
				abserr;
	gsl_function f;
	gsl_integration_workspace *w;
	gsl_error_handler_t *old;
	int			status;

	a.df = df;
	a.ncp = delta_over_sd * sqrt(n / 2.0);
	a.tcrit = gsl_cdf_tdist_Qinv(alpha / 2.0, df);
	if (df > 1e5)				/* u is concentrated at 1: the normal limit */
		return gsl_cdf_ugaussian_P(a.ncp - a.tcrit);
	f.function = t_power_integrand;
	f.params = &a;
	w = gsl_integration_workspace_alloc(200);
	if (w == NULL)
		elog(ERROR, "out of memory for the power integral");
	old = gsl_set_error_handler_off();
	status = gsl_integration_qagiu(&f, 0.0, 1e-12, 1e-10, 200, w, &result, &abserr);
	gsl_set_error_handler(old);
	gsl_integration_workspace_free(w);
	if (status != GSL_SUCCESS && status != GSL_EROUND)
		elog(ERROR, "the power integral did not converge (GSL status %d)", status);
	return result;
}

/*
 * sample_size_means(sd, mde, alpha, power): per group, two-sided Welch / Student t test
 * with equal groups and a common standard deviation: the smallest n whose exact power
 * (noncentral t, as R's power.t.test) reaches the target.
 */
PG_FUNCTION_INFO_V1(sample_size_means);
Datum
sample_size_means(PG_FUNCTION_ARGS)
{
	double		sd = PG_GETARG_FLOAT8(0),
				mde = PG_GETARG_FLOAT8(1),
				alpha = PG_GETARG_FLOAT8(2),
				power = PG_GETARG_FLOAT8(3);
	double		es,
				zsum;
	int64		n;

	if (!(sd > 0.0 && isfinite(sd)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("standard deviation %g is out of range", sd),
				 errhint("Pass the metric's standard deviation, a finite number above 0.")));
	if (!(mde != 0.0 && isfinite(mde)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("minimum detectable effect %g is out of range", mde),
				 errhint("Pass a finite, non-zero difference of means in the metric's unit.")));
	check_alpha_power(alpha, power);
	es = fabs(mde) / sd;
	zsum = gsl_cdf_ugaussian_Qinv(alpha / 2.0) + gsl_cdf_ugaussian_Pinv(power);
	/* the normal approximation is a lower bound; the t test needs a few more */
	n = ceil_count(2.0 * zsum * zsum / (es * es), "per-group");
	while (n > 2 && t_test_power((double) (n - 1), es, alpha) >= power)
		n--;
	while (t_test_power((double) n, es, alpha) < power)
	{
		CHECK_FOR_INTERRUPTS();
		n++;
	}
	PG_RETURN_INT64(n);
}
