/*
 * expectation.c
 *		E(t; r, alpha, a, b), the BG/NBD expected number of purchases in
 *		(0, t] (Fader, Hardie & Lee 2005, eq. 9), evaluated without its
 *		removable singularities: the Euler-transformed hypergeometric series
 *		of the reference (clv-models.md section 3), which never divides by
 *		a - 1 or a + b - 1 and converges in a few terms for the posterior
 *		parameters of heavy buyers, with Gauss-Kronrod quadrature of the
 *		mixture integral when the series would need too many terms (horizons
 *		very long against alpha).  Every prediction goes through it.
 */
#include "clv.h"

#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>

#define SERIES_MAX_TERMS	200000

typedef struct MixParams
{
	double		t,
				r,
				alpha,
				a,
				b,
				lnbeta;
} MixParams;

/* (1/p) (1 - (alpha/(alpha + p t))^r) times the Beta(a, b) density at p. */
static double
mixture_integrand(double p, void *vp)
{
	MixParams  *m = vp;
	double		inner,
				dens;

	if (p <= 0 || p >= 1)
		return 0;
	inner = -expm1(-m->r * log1p(p * m->t / m->alpha)) / p;
	dens = exp((m->a - 1) * log(p) + (m->b - 1) * log1p(-p) - m->lnbeta);
	return inner * dens;
}

static double
expectation_quadrature(double t, double r, double alpha, double a, double b)
{
	MixParams	mp = {t, r, alpha, a, b, gsl_sf_lnbeta(a, b)};
	gsl_function fn = {mixture_integrand, &mp};
	gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
	double		result = NAN,
				abserr;
	int			status;

	if (ws == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in GSL")));
	status = gsl_integration_qags(&fn, 0, 1, 0, 1e-10, 1000, ws, &result, &abserr);
	gsl_integration_workspace_free(ws);
	if (status != GSL_SUCCESS && !(isfinite(result) && abserr <= 1e-6 * fabs(result)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected purchases cannot be computed for horizon %g", t),
				 errdetail("Parameters r = %g, alpha = %g, a = %g, b = %g; the integral did not converge (GSL status %d).",
						   r, alpha, a, b, status),
				 errhint("Use a shorter horizon.")));
	return result;
}

double
clv_expectation(double t, double r, double alpha, double a, double b)
{
	double		c = a + b - 1;
	double		B = a - 1;
	double		z,
				L,
				phi,
				h,
				H;

	if (t <= 0)
		return 0;
	z = t / (alpha + t);
	L = -log1p(t / alpha);		/* ln(alpha / (alpha + t)) = ln(1 - z) */
	if (fabs(B * L) < 1e-10)
		phi = -L * (1 + B * L / 2);
	else
		phi = -expm1(B * L) / B;
	h = (c - r) * z;
	H = h;
	for (int k = 1;; k++)
	{
		if (h == 0)
			break;
		if (k > SERIES_MAX_TERMS)
			return expectation_quadrature(t, r, alpha, a, b);
		h *= (c - r + k) * (B + k) * z / ((c + k) * (k + 1));
		H += h;
		/* stop once terms are negligible and shrinking */
		if (fabs(h) <= 1e-17 * fabs(H) && fabs((c - r + k + 1) * (B + k + 1) * z) < fabs((c + k + 1) * (k + 2)))
			break;
		if (!isfinite(H))
			return expectation_quadrature(t, r, alpha, a, b);
	}
	return c * phi - exp(B * L) * H;
}

/*
 * E(t_j; r, alpha, a, b) for n horizons at once (clv()'s discounting steps).
 * The Euler series is H(z) = sum_k g_k z^k with coefficients g_k that do not
 * depend on z, so one pass over the coefficients, sized for the largest z,
 * evaluates every horizon: no division per term and per horizon.  Falls back
 * to clv_expectation per horizon (and its quadrature) when the series would
 * be too long.
 */
void
clv_expectation_multi(int n, const double *t, double r, double alpha, double a, double b,
					  double *out)
{
	double		c = a + b - 1;
	double		B = a - 1;
	double		z[CLV_MULTI_MAX],
				pw[CLV_MULTI_MAX],
				H[CLV_MULTI_MAX];
	double		zmax = 0,
				g;
	int			imax = -1;

	Assert(n <= CLV_MULTI_MAX);
	for (int j = 0; j < n; j++)
	{
		z[j] = t[j] > 0 ? t[j] / (alpha + t[j]) : 0;
		pw[j] = z[j];
		H[j] = 0;
		if (z[j] > zmax)
		{
			zmax = z[j];
			imax = j;
		}
	}
	if (imax >= 0)
	{
		g = c - r;				/* g_1 */
		for (int k = 1;; k++)
		{
			double		next;

			for (int j = 0; j < n; j++)
			{
				H[j] += g * pw[j];
				pw[j] *= z[j];
			}
			if (g == 0)
				break;
			next = g * (c - r + k) * (B + k) / ((c + k) * (k + 1));
			/* the last term added at zmax is g z^k: stop once negligible and shrinking */
			if (fabs(g * pw[imax] / zmax) <= 1e-17 * fabs(H[imax]) && fabs(next * zmax) < fabs(g))
				break;
			if (k >= SERIES_MAX_TERMS || !isfinite(H[imax]))
			{
				for (int j = 0; j < n; j++)
					out[j] = clv_expectation(t[j], r, alpha, a, b);
				return;
			}
			g = next;
		}
	}
	for (int j = 0; j < n; j++)
	{
		double		L,
					phi;

		if (t[j] <= 0)
		{
			out[j] = 0;
			continue;
		}
		L = -log1p(t[j] / alpha);
		if (fabs(B * L) < 1e-10)
			phi = -L * (1 + B * L / 2);
		else
			phi = -expm1(B * L) / B;
		out[j] = c * phi - exp(B * L) * H[j];
	}
}
