/*
 * nps.c
 *		Net Promoter Score: nps_summary input, the build transition, and the
 *		NPS accessors with Wald and adjusted-Wald (Rocks 2016) statistics.
 *
 * Each response is coded +1 (promoter, 9-10), 0 (passive, 7-8) or -1
 * (detractor, 0-6); NPS is the mean of the codes, reported in points
 * (-100..100).  With p = promoter share and d = detractor share the
 * per-response variance is p + d - (p - d)^2.
 */
#include "score_summary.h"

#include <math.h>

#include "funcapi.h"

#define NPS_PROMOTER_MIN	9
#define NPS_PASSIVE_MIN		7

typedef struct NpsCounts
{
	double		n;
	double		promoters;
	double		passives;
	double		detractors;
} NpsCounts;

static NpsCounts
nps_counts(const ScoreSummary *s)
{
	NpsCounts	c;

	c.n = (double) s->n;
	c.promoters = (double) score_count_between(s, NPS_PROMOTER_MIN, 10);
	c.passives = (double) score_count_between(s, NPS_PASSIVE_MIN, NPS_PROMOTER_MIN - 1);
	c.detractors = (double) score_count_between(s, 0, NPS_PASSIVE_MIN - 1);
	return c;
}

/* Rocks (2016) adjustment: +0.75 detractor, +1.5 passive, +0.75 promoter. */
static NpsCounts
nps_adjusted(NpsCounts c)
{
	c.n += 3.0;
	c.promoters += 0.75;
	c.passives += 1.5;
	c.detractors += 0.75;
	return c;
}

/*
 * NPS as a proportion (-1..1) and its per-response variance
 * p + d - (p - d)^2, summed as p(1 - p) + d(1 - d) + 2pd with 1 - p and 1 - d
 * taken from the counts: every term is non-negative, so nothing cancels
 * (at n ~ 10^19 the difference form rounds to 0, and a p-value to 0 / 0).
 */
static double
nps_proportion(NpsCounts c, double *variance)
{
	double		p = c.promoters / c.n;
	double		d = c.detractors / c.n;

	if (variance)
		*variance = p * ((c.passives + c.detractors) / c.n) + d * ((c.passives + c.promoters) / c.n)
			+ 2 * p * d;
	return p - d;
}

/*
 * Adjusted-Wald interval as proportions, clamped to [-1, 1]; returns the
 * half-width z * SE' before clamping (the margin of error).
 */
static double
nps_adjusted_interval(const ScoreSummary *s, double confidence, double *lower, double *upper)
{
	double		z = cx_z_for_confidence(confidence);
	NpsCounts	a = nps_adjusted(nps_counts(s));
	double		var;
	double		centre = nps_proportion(a, &var);
	double		half = z * sqrt(var / a.n);

	*lower = cx_clamp(centre - half, -1.0, 1.0);
	*upper = cx_clamp(centre + half, -1.0, 1.0);
	return half;
}

PG_FUNCTION_INFO_V1(nps_summary_in);
Datum
nps_summary_in(PG_FUNCTION_ARGS)
{
	return score_summary_in_kind(fcinfo, SCORE_NPS);
}

PG_FUNCTION_INFO_V1(nps_summary_recv);
Datum
nps_summary_recv(PG_FUNCTION_ARGS)
{
	return score_summary_recv_kind(fcinfo, SCORE_NPS);
}

/* nps_agg(score) transition: count one 0..10 score; NULL scores are skipped. */
PG_FUNCTION_INFO_V1(nps_agg_trans);
Datum
nps_agg_trans(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;

	if (PG_ARGISNULL(1))
		return score_state_skip_row(fcinfo, SCORE_NPS);
	s = score_state(fcinfo, SCORE_NPS, 10);
	score_summary_add(s, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(nps_rollup_mtrans);
Datum
nps_rollup_mtrans(PG_FUNCTION_ARGS)
{
	return score_summary_moving_merge(fcinfo, SCORE_NPS);
}

#define NPS_EMPTY_RETURNS_NULL(s) do { if ((s)->n == 0) PG_RETURN_NULL(); } while (0)

PG_FUNCTION_INFO_V1(nps_value);
Datum
nps_value(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);

	NpsCounts	c;

	NPS_EMPTY_RETURNS_NULL(s);
	c = nps_counts(s);
	/* one rounding: the exact difference of counts over n */
	PG_RETURN_FLOAT8(100.0 * (c.promoters - c.detractors) / c.n);
}

PG_FUNCTION_INFO_V1(nps_promoters);
Datum
nps_promoters(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(score_count_between(PG_GETARG_SCORE_SUMMARY(0), NPS_PROMOTER_MIN, 10));
}

PG_FUNCTION_INFO_V1(nps_passives);
Datum
nps_passives(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(score_count_between(PG_GETARG_SCORE_SUMMARY(0),
										NPS_PASSIVE_MIN, NPS_PROMOTER_MIN - 1));
}

PG_FUNCTION_INFO_V1(nps_detractors);
Datum
nps_detractors(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(score_count_between(PG_GETARG_SCORE_SUMMARY(0), 0, NPS_PASSIVE_MIN - 1));
}

/* Share of responses in scores lo..hi, in percent. */
static Datum
nps_share(FunctionCallInfo fcinfo, int lo, int hi)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);

	NPS_EMPTY_RETURNS_NULL(s);
	PG_RETURN_FLOAT8(100.0 * (double) score_count_between(s, lo, hi) / (double) s->n);
}

PG_FUNCTION_INFO_V1(nps_promoter_pct);
Datum
nps_promoter_pct(PG_FUNCTION_ARGS)
{
	return nps_share(fcinfo, NPS_PROMOTER_MIN, 10);
}

PG_FUNCTION_INFO_V1(nps_passive_pct);
Datum
nps_passive_pct(PG_FUNCTION_ARGS)
{
	return nps_share(fcinfo, NPS_PASSIVE_MIN, NPS_PROMOTER_MIN - 1);
}

PG_FUNCTION_INFO_V1(nps_detractor_pct);
Datum
nps_detractor_pct(PG_FUNCTION_ARGS)
{
	return nps_share(fcinfo, 0, NPS_PASSIVE_MIN - 1);
}

/* Wald standard error of NPS, in points: 100 * sqrt(var / n). */
PG_FUNCTION_INFO_V1(nps_stderr);
Datum
nps_stderr(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	NpsCounts	c;
	double		var;

	NPS_EMPTY_RETURNS_NULL(s);
	c = nps_counts(s);
	(void) nps_proportion(c, &var);
	PG_RETURN_FLOAT8(100.0 * sqrt(var / c.n));
}

PG_FUNCTION_INFO_V1(nps_ci_lower);
Datum
nps_ci_lower(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	double		lower,
				upper;

	(void) nps_adjusted_interval(s, PG_GETARG_FLOAT8(1), &lower, &upper);
	NPS_EMPTY_RETURNS_NULL(s);
	PG_RETURN_FLOAT8(100.0 * lower);
}

PG_FUNCTION_INFO_V1(nps_ci_upper);
Datum
nps_ci_upper(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	double		lower,
				upper;

	(void) nps_adjusted_interval(s, PG_GETARG_FLOAT8(1), &lower, &upper);
	NPS_EMPTY_RETURNS_NULL(s);
	PG_RETURN_FLOAT8(100.0 * upper);
}

/*
 * Margin of error in points: the half-width z * SE' of the adjusted-Wald
 * interval, as reported beside an NPS ("42 +/- 3.1"); before clamping, so it
 * does not shrink for samples near +/-100.
 */
PG_FUNCTION_INFO_V1(nps_margin_of_error);
Datum
nps_margin_of_error(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	double		lower,
				upper;
	double		half = nps_adjusted_interval(s, PG_GETARG_FLOAT8(1), &lower, &upper);

	NPS_EMPTY_RETURNS_NULL(s);
	PG_RETURN_FLOAT8(100.0 * half);
}

/*
 * Two-sided p-value that two independent samples have different NPS, by the
 * adjusted-Wald two-sample z test: pseudo-observations added to each sample,
 * z = (NPS'_a - NPS'_b) / sqrt(var'_a / n'_a + var'_b / n'_b).
 */
PG_FUNCTION_INFO_V1(nps_diff_pvalue);
Datum
nps_diff_pvalue(PG_FUNCTION_ARGS)
{
	ScoreSummary *sa = PG_GETARG_SCORE_SUMMARY(0);
	ScoreSummary *sb = PG_GETARG_SCORE_SUMMARY(1);
	NpsCounts	a,
				b;
	double		va,
				vb,
				diff,
				se;

	if (sa->n == 0 || sb->n == 0)
		PG_RETURN_NULL();
	a = nps_adjusted(nps_counts(sa));
	b = nps_adjusted(nps_counts(sb));
	diff = nps_proportion(a, &va) - nps_proportion(b, &vb);
	se = sqrt(va / a.n + vb / b.n);	/* > 0: the adjustment adds every category (2pd > 0) */
	PG_RETURN_FLOAT8(cx_normal_two_sided_p(diff / se));
}

/*
 * nps_test(a, b, confidence): the NPS difference a - b in points with the
 * adjusted-Wald interval of the difference (Rocks 2016, centred on the
 * adjusted difference, as nps_ci_lower/upper are on the adjusted NPS) and the
 * z test of nps_diff_pvalue.
 */
PG_FUNCTION_INFO_V1(nps_test);
Datum
nps_test(PG_FUNCTION_ARGS)
{
	ScoreSummary *sa = PG_GETARG_SCORE_SUMMARY(0);
	ScoreSummary *sb = PG_GETARG_SCORE_SUMMARY(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	double		z = cx_z_for_confidence(confidence);
	NpsCounts	a,
				b,
				ra,
				rb;
	double		va,
				vb,
				adiff,
				se;
	CxTwoSample r;

	if (sa->n == 0 || sb->n == 0)
		PG_RETURN_NULL();
	a = nps_adjusted(nps_counts(sa));
	b = nps_adjusted(nps_counts(sb));
	adiff = nps_proportion(a, &va) - nps_proportion(b, &vb);
	se = sqrt(va / a.n + vb / b.n);
	r.n_a = sa->n;
	r.n_b = sb->n;
	ra = nps_counts(sa);
	rb = nps_counts(sb);
	/* as nps(): one rounding, the exact difference of counts over n */
	r.estimate_a = 100.0 * (ra.promoters - ra.detractors) / ra.n;
	r.estimate_b = 100.0 * (rb.promoters - rb.detractors) / rb.n;
	r.difference = r.estimate_a - r.estimate_b;
	r.ci_lower = 100.0 * cx_clamp(adiff - z * se, -2.0, 2.0);
	r.ci_upper = 100.0 * cx_clamp(adiff + z * se, -2.0, 2.0);
	r.statistic = adiff / se;
	r.p_value = cx_normal_two_sided_p(r.statistic);
	r.has_statistic = true;
	r.has_df = false;
	r.df = 0;
	return cx_two_sample_result(fcinfo, &r);
}
