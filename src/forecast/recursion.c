/*
 * recursion.c
 *		The ETS state space recursion: one-step forecasts, errors, state
 *		updates and the likelihood of one model (ets_pass, used for the final
 *		fit; lanes.c runs the same recursion for several at once in the
 *		minimiser, rearranged for speed).
 *
 * Notation (Hyndman et al. 2008, table 2.3): level l, trend b, seasonal
 * states s_0 (newest) .. s_{m-1} (oldest, the one the next observation
 * uses), damping phi.  For each observation y_t:
 *	q   = l + phi b					(l without trend)
 *	mu  = q + s_{m-1}  or  q s_{m-1}  or  q		(one-step forecast)
 *	e   = y - mu  (A errors)  or  (y - mu) / mu  (M errors)
 *	l'  = q + alpha (p - q),	p = y - s_{m-1}, y / s_{m-1} or y
 *	b'  = phi b + (beta / alpha) (l' - l - phi b)
 *	s'  = s_{m-1} + gamma (t - s_{m-1}),	t = y - q  or  y / q
 * which is the error-correction form of the models (the same recursions
 * for either error type; the error type changes only the likelihood):
 *	-2 log L = n log(sum e^2) + 2 sum log|mu|  (the last term for M errors),
 * up to a constant, as forecast::ets reports it.  The arithmetic is written
 * in the same order as forecast's etscalc.c so that the values agree to the
 * last bits, which keeps the minimiser on the same path as R's.
 *
 * The seasonal states live in a ring: ring[k] is the oldest at step t with
 * k = t mod m, and the new state overwrites it.
 */
#include "ets.h"

#include <math.h>
#include <string.h>

#define ETS_TOL		1.0e-10
#define ETS_HUGE	1.0e10

/*
 * Maps a minimiser point par (alpha, beta, gamma, phi as the model has them,
 * then l, b, s_0 .. s_{m-2}) to the parameters and the full initial state
 * x0 (s_{m-1} makes the seasonal states sum to 0, or to m when
 * multiplicative).  False when the parameters are outside the bounds or a
 * multiplicative seasonal state is negative: the objective is then +Inf.
 */
bool
ets_unpack(const EtsSpec *spec, int m, int nstate, const double *par, EtsParams *p, double *x0)
{
	int			j = 0;
	int			np;

	p->alpha = par[j++];
	p->beta = spec->trend != ETS_NONE ? par[j++] : 0.0;
	p->gamma = spec->season != ETS_NONE ? par[j++] : 0.0;
	p->phi = spec->damped ? par[j++] : 1.0;
	if (!ets_params_ok(spec, m, p))
		return false;
	np = nstate - (spec->season != ETS_NONE ? 1 : 0);
	memcpy(x0, par + j, np * sizeof(double));
	if (spec->season != ETS_NONE)
	{
		int			first = spec->trend != ETS_NONE ? 2 : 1;
		double		sum = 0;

		for (int i = first; i < np; i++)
			sum += x0[i];
		x0[np] = (spec->season == ETS_MULT ? (double) m : 0.0) - sum;
		if (spec->season == ETS_MULT)
			for (int i = first; i <= np; i++)
				if (x0[i] < 0)
					return false;
	}
	return true;
}

/*
 * One pass over the data with fixed parameters and initial state x0:
 * the likelihood term, the sums of squared errors and the final state.
 * lik is NaN when the recursion breaks down (a forecast of 0 with M errors).
 */
void
ets_pass(const double *y, int n, int m, const EtsSpec *spec, const EtsParams *p,
		 const double *x0, EtsPass *out)
{
	const int	trend = spec->trend,
				season = spec->season;
	const double alpha = p->alpha,
				beta = p->beta,
				gamma = p->gamma,
				phi = p->phi;
	double		l = x0[0],
				b = trend != ETS_NONE ? x0[1] : 0.0;
	double		ring[ETS_MAX_PERIOD];
	int			first = trend != ETS_NONE ? 2 : 1;
	int			k = 0;
	double		sse = 0,
				sse_abs = 0,
				logsum = 0;

	if (season == ETS_NONE)
		m = 1;
	else
		for (int j = 0; j < m; j++)
			ring[j] = x0[first + m - 1 - j];

	for (int t = 0; t < n; t++)
	{
		double		oldl = l,
					oldb = b,
					olds = season != ETS_NONE ? ring[k] : 0.0;
		double		q,
					phib,
					f,
					e,
					pp;

		/* one-step forecast */
		if (trend == ETS_NONE)
		{
			phib = 0;
			q = oldl;
		}
		else
		{
			phib = phi * oldb;
			q = oldl + phib;
		}
		if (season == ETS_ADD)
			f = q + olds;
		else if (season == ETS_MULT)
			f = q * olds;
		else
			f = q;
		if (spec->error == ETS_ADD)
			e = y[t] - f;
		else
			e = (y[t] - f) / f;
		sse += e * e;
		sse_abs += (y[t] - f) * (y[t] - f);
		if (spec->error == ETS_MULT)
			logsum += log(fabs(f));

		/* level */
		if (season == ETS_NONE)
			pp = y[t];
		else if (season == ETS_ADD)
			pp = y[t] - olds;
		else
			pp = fabs(olds) < ETS_TOL ? ETS_HUGE : y[t] / olds;
		l = q + alpha * (pp - q);
		/* trend */
		if (trend != ETS_NONE)
			b = phib + (beta / alpha) * ((l - oldl) - phib);
		/* season */
		if (season != ETS_NONE)
		{
			double		tt;

			if (season == ETS_ADD)
				tt = y[t] - q;
			else
				tt = fabs(q) < ETS_TOL ? ETS_HUGE : y[t] / q;
			ring[k] = olds + gamma * (tt - olds);
			if (++k == m)
				k = 0;
		}
	}

	out->sse = sse;
	out->sse_abs = sse_abs;
	out->lik = n * log(sse);
	if (spec->error == ETS_MULT)
		out->lik += 2 * logsum;
	out->last[0] = l;
	if (trend != ETS_NONE)
		out->last[1] = b;
	if (season != ETS_NONE)
		for (int j = 0; j < m; j++)
		{
			/* s_j, j = 0 newest: the ring slot written j + 1 steps ago */
			int			slot = ((k - 1 - j) % m + m) % m;

			out->last[first + j] = ring[slot];
		}
}

/*
 * forecast's objective for the minimiser at point par: +Inf outside the
 * bounds or when the recursion breaks down, -1e10 at most for a perfect fit.
 */
double
ets_objective(const double *y, int n, int m, const EtsSpec *spec, int nstate, const double *par)
{
	EtsParams	p;
	double		x0[ETS_MAX_STATES];
	EtsPass		pass;

	if (!ets_unpack(spec, m, nstate, par, &p, x0))
		return INFINITY;
	ets_pass(y, n, m, spec, &p, x0, &pass);
	if (isnan(pass.lik))
		return INFINITY;
	if (pass.lik < -1e10)
		return -1e10;
	return pass.lik;
}
