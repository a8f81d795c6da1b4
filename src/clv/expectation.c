/*
 * expectation.c
 *		E(t; r, alpha, a, b), the BG/NBD expected number of purchases in
 *		(0, t] (Fader, Hardie & Lee 2005, eq. 9).  Every prediction goes
 *		through it.
 *
 * Two methods:
 *	- the Euler-transformed hypergeometric series of the reference
 *	  (clv-models.md section 3), which never divides by a - 1 or a + b - 1
 *	  and converges in a few terms for ordinary parameters;
 *	- adaptive Gauss-Kronrod quadrature of the mixture integral
 *	  E = int_0^1 g(p) Beta(p; a, b) dp, g(p) = (1 - (alpha/(alpha + p t))^r)/p,
 *	  for the regimes where the series is slow or cancels: long horizons
 *	  against alpha (z = t/(alpha + t) near 1), r much larger than a + b - 1
 *	  (alternating terms), and large a, b (a sharp Beta density, where the
 *	  series sums huge terms to a small difference).
 *
 * The series result is accepted only if it is finite, non-negative and its
 * rounding error (bounded by eps times the sum of the absolute values that
 * entered the final difference) is small against it; otherwise quadrature
 * is used.  Quadrature works in logs throughout: the middle of (0, 1) in
 * the logit s = ln(p/(1-p)), where the Beta density is a smooth log-concave
 * bump with exponential tails and no end-point singularity, with break
 * points at the Beta mode, a few logit standard deviations around it and
 * where g turns from constant to 1/p (p ~ alpha/t); the two ends with the
 * substitutions p = p1 w^(1/a) and 1 - p = (1 - p2) w^(1/b), which remove
 * the singularities of the density at 0 (a < 1) and 1 (b < 1).  If neither
 * method gives a trustworthy finite value, 22003 is raised.
 */
#include "clv.h"

#include <math.h>

#include "miscadmin.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>

/* Terms beyond which the series is abandoned for quadrature. */
#define SERIES_MAX_TERMS	20000
/* The series is trusted only if the values it subtracts are at most this much larger than the result. */
#define SERIES_MAX_CANCEL	1e4
#define QUAD_LIMIT			1000
#define QUAD_EPSREL			1e-11

typedef struct MixParams
{
	double		r,
				lnr,
				lnta,			/* ln(t / alpha) */
				a,
				b,
				lnbeta,
				lnp1,			/* left end piece: p in (0, p1] */
				ln1mp2;			/* right end piece: 1 - p in (0, 1 - p2] */
} MixParams;

/*
 * ln g(p) from ln p, g(p) = (1 - (1 + p t/alpha)^-r) / p, without overflow
 * or underflow for any p, t/alpha and r.
 */
static double
ln_g(const MixParams *m, double lnp)
{
	double		lnq = lnp + m->lnta,	/* q = p t / alpha */
				lnl1q,			/* ln log1p(q) */
				lnx,			/* x = r log1p(q) */
				x,
				lnG;

	if (lnq < -37)
		return m->lnr + m->lnta;	/* G = r q to double precision */
	if (lnq > 700)
		lnl1q = log(lnq);
	else
		lnl1q = log(log1p(exp(lnq)));
	lnx = m->lnr + lnl1q;
	if (lnx < -37)
		lnG = lnx;				/* G = 1 - e^-x = x to double precision */
	else
	{
		x = exp(lnx);
		lnG = x < 1 ? log(-expm1(-x)) : log1p(-exp(-x));
	}
	return lnG - lnp;
}

/* The middle piece, in the logit s: g(p) p^a (1-p)^b / B(a, b). */
static double
mix_logit(double s, void *vp)
{
	const MixParams *m = vp;
	double		lnp = s < 0 ? s - log1p(exp(s)) : -log1p(exp(-s));
	double		ln1mp = s > 0 ? -s - log1p(exp(-s)) : -log1p(exp(s));

	return exp(ln_g(m, lnp) + m->a * lnp + m->b * ln1mp - m->lnbeta);
}

/* The left piece: p = p1 w^(1/a), w in (0, 1]. */
static double
mix_left(double w, void *vp)
{
	const MixParams *m = vp;
	double		lnp,
				p;

	if (w <= 0)
		w = DBL_MIN;
	lnp = m->lnp1 + log(w) / m->a;
	p = exp(lnp);
	return exp(ln_g(m, lnp) + m->a * m->lnp1 + (m->b - 1) * log1p(-p) - m->lnbeta - log(m->a));
}

/* The right piece: 1 - p = (1 - p2) w^(1/b), w in (0, 1]. */
static double
mix_right(double w, void *vp)
{
	const MixParams *m = vp;
	double		ln1mp,
				lnp;

	if (w <= 0)
		w = DBL_MIN;
	ln1mp = m->ln1mp2 + log(w) / m->b;
	lnp = log1p(-exp(ln1mp));
	return exp(ln_g(m, lnp) + m->b * m->ln1mp2 + (m->a - 1) * lnp - m->lnbeta - log(m->b));
}

static int
cmp_double(const void *x, const void *y)
{
	double		u = *(const double *) x,
				v = *(const double *) y;

	return u < v ? -1 : (u > v ? 1 : 0);
}

static void
quad_fail(double t, double r, double alpha, double a, double b, int status)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("expected purchases cannot be computed for horizon %g", t),
			 errdetail("Parameters r = %g, alpha = %g, a = %g, b = %g; neither the series nor the quadrature of the mixture integral gave an accurate finite value (GSL status %d).",
					   r, alpha, a, b, status),
			 errhint("Check the model's parameters; extreme values usually mean a weakly identified fit.")));
}

static double
expectation_quadrature(double t, double r, double alpha, double a, double b)
{
	MixParams	mp;
	gsl_function fn;
	gsl_integration_workspace *ws;
	double		pts[16];
	int			npts = 0;
	double		smode = log(a) - log(b),
				sd = sqrt(1 / a + 1 / b),
				str = log(alpha) - log(t),
				str2 = str - log(Max(r, 1.0)),
				s1,
				s2,
				mid = 0,
				left = 0,
				right = 0,
				err_mid = 0,
				err_left = 0,
				err_right = 0,
				total;
	int			status;
	static const double ks[] = {-8, -3, -1, 1, 3, 8};

	CHECK_FOR_INTERRUPTS();
	mp.r = r;
	mp.lnr = log(r);
	mp.lnta = log(t) - log(alpha);
	mp.a = a;
	mp.b = b;
	mp.lnbeta = gsl_sf_lnbeta(a, b);
	s1 = Min(smode, str2) - 4;
	s2 = Max(smode, str) + 4;
	mp.lnp1 = s1 < 0 ? s1 - log1p(exp(s1)) : -log1p(exp(-s1));
	mp.ln1mp2 = s2 > 0 ? -s2 - log1p(exp(-s2)) : -log1p(exp(s2));

	pts[npts++] = s1;
	pts[npts++] = smode;
	for (int i = 0; i < (int) lengthof(ks); i++)
		pts[npts++] = smode + ks[i] * sd;
	pts[npts++] = str;
	pts[npts++] = str2;
	pts[npts++] = s2;
	qsort(pts, npts, sizeof(double), cmp_double);
	{
		int			k = 0;

		for (int i = 0; i < npts; i++)
		{
			if (pts[i] < s1 || pts[i] > s2)
				continue;
			if (k > 0 && pts[i] - pts[k - 1] <= 1e-9 * Max(1.0, fabs(pts[i])))
				continue;
			pts[k++] = pts[i];
		}
		npts = k;
	}

	ws = gsl_integration_workspace_alloc(QUAD_LIMIT);
	if (ws == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in GSL")));
	fn.params = &mp;
	fn.function = mix_logit;
	status = gsl_integration_qagp(&fn, pts, npts, 0, QUAD_EPSREL, QUAD_LIMIT, ws, &mid, &err_mid);
	if (status == GSL_SUCCESS || (isfinite(mid) && err_mid <= 1e-8 * mid))
	{
		double		tol = 1e-13 * mid;

		fn.function = mix_left;
		status = gsl_integration_qags(&fn, 0, 1, tol, QUAD_EPSREL, QUAD_LIMIT, ws, &left, &err_left);
		if (status == GSL_SUCCESS || (isfinite(left) && err_left <= 1e-8 * (mid + left)))
		{
			fn.function = mix_right;
			status = gsl_integration_qags(&fn, 0, 1, tol, QUAD_EPSREL, QUAD_LIMIT, ws, &right, &err_right);
		}
	}
	gsl_integration_workspace_free(ws);
	total = mid + left + right;
	if (!isfinite(total) || total < 0 ||
		(status != GSL_SUCCESS && !(err_mid + err_left + err_right <= 1e-8 * total)))
		quad_fail(t, r, alpha, a, b, status);
	return total;
}

/*
 * The Euler series for n horizons at once (clv()'s discounting steps; n = 1
 * for a single prediction).  H(z) = sum_k g_k z^k with coefficients g_k that
 * do not depend on z, so one pass over the coefficients, sized for the
 * largest z, evaluates every horizon.  ok[j] tells whether out[j] can be
 * trusted; the caller falls back to quadrature for the others.
 */
static void
expectation_series(int n, const double *t, double r, double alpha, double a, double b,
				   double *out, bool *ok)
{
	double		c = a + b - 1;
	double		B = a - 1;
	double		z[CLV_MULTI_MAX],
				pw[CLV_MULTI_MAX],
				H[CLV_MULTI_MAX],
				Halt[CLV_MULTI_MAX],	/* H after the alternating terms */
				Sabs[CLV_MULTI_MAX];	/* sum of |terms| among those */
	double		zmax = 0,
				g;
	int			imax = -1;
	int			kalt;			/* terms k < kalt may alternate in sign */
	bool		fail = false;

	Assert(n <= CLV_MULTI_MAX);
	for (int j = 0; j < n; j++)
	{
		z[j] = t[j] > 0 ? t[j] / (alpha + t[j]) : 0;
		pw[j] = z[j];
		H[j] = Halt[j] = Sabs[j] = 0;
		ok[j] = true;
		if (z[j] > zmax)
		{
			zmax = z[j];
			imax = j;
		}
	}
	/*
	 * Too long a series: about 40 / -ln z terms once the terms shrink, after
	 * a rise to k ~ (a - 1) z / (1 - z) when a is large.
	 */
	if (imax >= 0 && (-log1p(-zmax) * SERIES_MAX_TERMS < 40 ||
					  B * zmax > (1 - zmax) * SERIES_MAX_TERMS / 2))
		fail = true;
	/* g_{k+1}/g_k has the sign of c - r + k: only terms with k < r - c can alternate */
	kalt = r - c > 0 ? (int) Min(ceil(r - c) + 1, (double) SERIES_MAX_TERMS + 1) : 1;
	if (imax >= 0 && !fail)
	{
		g = c - r;				/* g_1 */
		for (int k = 1;; k++)
		{
			double		next;

			if (k < kalt)
			{
				for (int j = 0; j < n; j++)
				{
					double		term = g * pw[j];

					H[j] += term;
					Sabs[j] += fabs(term);
					Halt[j] = H[j];
					pw[j] *= z[j];
				}
			}
			else
			{
				for (int j = 0; j < n; j++)
				{
					H[j] += g * pw[j];
					pw[j] *= z[j];
				}
			}
			if (g == 0)
				break;
			if (!isfinite(H[imax]) || !isfinite(Sabs[imax]) || k >= SERIES_MAX_TERMS)
			{
				fail = true;
				break;
			}
			next = g * (c - r + k) * (B + k) / ((c + k) * (k + 1));
			/* the last term added at zmax is g z^k: stop once negligible and shrinking */
			if (fabs(g * pw[imax] / zmax) <= 1e-17 * fabs(H[imax]) && fabs(next * zmax) < fabs(g))
				break;
			g = next;
			if ((k & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	for (int j = 0; j < n; j++)
	{
		double		L,
					phi,
					eBL,
					S,
					e;

		if (t[j] <= 0)
		{
			out[j] = 0;
			continue;
		}
		if (fail)
		{
			ok[j] = false;
			continue;
		}
		L = -log1p(t[j] / alpha);
		if (fabs(B * L) < 1e-10)
			phi = -L * (1 + B * L / 2);
		else
			phi = -expm1(B * L) / B;
		eBL = exp(B * L);
		e = c * phi - eBL * H[j];
		/* what was subtracted: |c phi| and e^{BL} times the sum of |terms| */
		S = Sabs[j] + fabs(H[j] - Halt[j]);
		out[j] = e;
		ok[j] = isfinite(e) && e >= 0 && isfinite(S) &&
			fabs(c * phi) + eBL * S <= SERIES_MAX_CANCEL * e;
	}
}

/*
 * The same series for one horizon, in the tight form (one running term):
 * every single prediction goes through it.  Returns false when the result
 * cannot be trusted.
 */
static bool
expectation_series_one(double t, double r, double alpha, double a, double b, double *out)
{
	double		c = a + b - 1;
	double		B = a - 1;
	double		z = t / (alpha + t),
				L = -log1p(t / alpha),	/* ln(alpha / (alpha + t)) = ln(1 - z) */
				phi,
				eBL,
				h,
				H,
				Halt,
				Sabs,
				e;
	int			kalt;

	if (-L * SERIES_MAX_TERMS < 40 || B * z > (1 - z) * SERIES_MAX_TERMS / 2)
		return false;
	kalt = r - c > 0 ? (int) Min(ceil(r - c) + 1, (double) SERIES_MAX_TERMS + 1) : 1;
	h = (c - r) * z;			/* term 1 */
	H = Halt = h;
	Sabs = fabs(h);
	for (int k = 1;; k++)
	{
		if (h == 0)
			break;
		if (k >= SERIES_MAX_TERMS)
			return false;
		h *= (c - r + k) * (B + k) * z / ((c + k) * (k + 1));	/* term k + 1 */
		H += h;
		if (k + 1 < kalt)
		{
			Sabs += fabs(h);
			Halt = H;
		}
		if (!isfinite(H))
			return false;
		/* stop once terms are negligible and shrinking */
		if (fabs(h) <= 1e-17 * fabs(H) && fabs((c - r + k + 1) * (B + k + 1) * z) < fabs((c + k + 1) * (k + 2)))
			break;
		if ((k & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (fabs(B * L) < 1e-10)
		phi = -L * (1 + B * L / 2);
	else
		phi = -expm1(B * L) / B;
	eBL = exp(B * L);
	e = c * phi - eBL * H;
	*out = e;
	Sabs += fabs(H - Halt);
	return isfinite(e) && e >= 0 && isfinite(Sabs) &&
		fabs(c * phi) + eBL * Sabs <= SERIES_MAX_CANCEL * e;
}

/*
 * The posterior parameters of a customer (r + x, alpha + T, ...) can
 * overflow where the model's own cannot: 22003, as for any result out of
 * range.
 */
static void
check_finite_params(double t, double r, double alpha, double a, double b)
{
	if (!isfinite(r) || !isfinite(alpha) || !isfinite(a) || !isfinite(b))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected purchases cannot be computed for horizon %g", t),
				 errdetail("The customer's parameters r = %g, alpha = %g, a = %g, b = %g are out of the range of double precision.",
						   r, alpha, a, b),
				 errhint("The model's alpha plus the customer's t overflows: check the time unit of the inputs.")));
}

double
clv_expectation(double t, double r, double alpha, double a, double b)
{
	double		e;

	if (t <= 0)
		return 0;
	check_finite_params(t, r, alpha, a, b);
	if (expectation_series_one(t, r, alpha, a, b, &e))
		return e;
	return expectation_quadrature(t, r, alpha, a, b);
}

/*
 * E(t_j; r, alpha, a, b) for n horizons at once: the series where it is
 * accurate, quadrature for the others.
 */
void
clv_expectation_multi(int n, const double *t, double r, double alpha, double a, double b,
					  double *out)
{
	bool		ok[CLV_MULTI_MAX];

	check_finite_params(n > 0 ? t[n - 1] : 0, r, alpha, a, b);
	expectation_series(n, t, r, alpha, a, b, out, ok);
	for (int j = 0; j < n; j++)
		if (!ok[j])
			out[j] = expectation_quadrature(t[j], r, alpha, a, b);
}
