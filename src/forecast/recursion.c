/*
 * recursion.c
 *		The ETS state space recursion: one-step forecasts, errors, state
 *		updates and the likelihood, for one model (ets_pass, used for the
 *		final fit) and for several at once (ets_objective_lanes, used by the
 *		minimiser).
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
#include <stdint.h>
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

/* ------------------------------------------------------------------------
 * Several lanes at once.
 *
 * The lanes are packed in groups of ETS_VW, one model family per group, and
 * each group's recursions run as vectors (GCC vector extensions, two doubles:
 * SSE2 on x86-64, NEON on arm64; elementwise IEEE arithmetic, so each lane
 * computes exactly what ets_pass computes).  Three families cover every
 * search candidate without branches:
 *	additive season (N or A) with A errors, and the same with M errors:
 *		q = l + phi b, f = q + s, e = y - f or (y - f) / f; a model without
 *		trend has b = 0, beta/alpha = 0, phi = 1, and one without season
 *		s = 0, gamma = 0, which leaves every value unchanged (x + 0 = x);
 *	multiplicative season (M errors): f = q s, p = y / s, t = y / q.
 * All groups advance together through the data, so that the processor
 * overlaps their dependency chains (one step of one model is a chain of
 * about ten dependent operations; a pass over the data is latency-bound
 * unless several run together).  log|mu| is accumulated as a product,
 * rescaled by a power of two every 8 steps and logged once at the end (the
 * sum then differs from R's sum of logs in the last bits only); a lane whose
 * product leaves the range of a double (|mu| beyond 1e38) is done again by
 * ets_pass.
 * ------------------------------------------------------------------------
 */
#define ETS_VW		2
typedef double vd __attribute__((vector_size(ETS_VW * sizeof(double))));
typedef int64_t vl __attribute__((vector_size(ETS_VW * sizeof(double))));

/* each of the three families may leave one group partly filled */
#define ETS_MAX_GROUPS	(ETS_MAX_LANES / ETS_VW + 2)

static inline vd
vsplat(double x)
{
	vd			v = {x, x};

	return v;
}

static inline vd
vabs(vd x)
{
	const vl	nosign = {INT64_MAX, INT64_MAX};

	return (vd) ((vl) x & nosign);
}

/* mask ? a : b, mask lanes all ones or all zeros */
static inline vd
vselect(vl mask, vd a, vd b)
{
	return (vd) ((mask & (vl) a) | (~mask & (vl) b));
}

/* x = mantissa in [1, 2) times 2^e: moves the exponent into *e (exact). */
static inline void
renormalise(double *x, int *e)
{
	uint64_t	bits;
	int			ex;

	memcpy(&bits, x, sizeof(bits));
	ex = (int) ((bits >> 52) & 0x7ff);
	if (ex == 0 || ex == 0x7ff)
		return;					/* zero, subnormal, infinite or NaN: left as is */
	*e += ex - 1023;
	bits = (bits & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1023) << 52);
	memcpy(x, &bits, sizeof(bits));
}

void
ets_objective_lanes(const double *y, int n, int m, EtsLane *lanes, int nlanes)
{
	/* group g holds lanes lane_of[g][0 .. ETS_VW-1] (-1: padding) */
	int			lane_of[ETS_MAX_GROUPS][ETS_VW];
	int			family[ETS_MAX_GROUPS];
	int			ngroups = 0;
	vd			l[ETS_MAX_GROUPS],
				b[ETS_MAX_GROUPS],
				sse[ETS_MAX_GROUPS],
				prod[ETS_MAX_GROUPS],
				alpha[ETS_MAX_GROUPS],
				ba[ETS_MAX_GROUPS],
				phi[ETS_MAX_GROUPS],
				gamma[ETS_MAX_GROUPS];
	int			expo[ETS_MAX_GROUPS][ETS_VW];
	vd			ring[ETS_MAX_PERIOD][ETS_MAX_GROUPS];
	int			k = 0;
	bool		seasonal = false;

	/* pack: the lanes of each family (0, 1, 2 as above) into groups */
	for (int fam = 0; fam < 3; fam++)
	{
		int			fill = ETS_VW;

		for (int i = 0; i < nlanes; i++)
		{
			const EtsSpec *sp = &lanes[i].spec;
			int			f = sp->season == ETS_MULT ? 2 : (sp->error == ETS_MULT ? 1 : 0);

			if (f != fam)
				continue;
			if (fill == ETS_VW)
			{
				family[ngroups] = fam;
				for (int j = 0; j < ETS_VW; j++)
					lane_of[ngroups][j] = -1;
				ngroups++;
				fill = 0;
			}
			lane_of[ngroups - 1][fill++] = i;
			if (sp->season != ETS_NONE)
				seasonal = true;
		}
	}
	if (!seasonal)
		m = 1;

	for (int g = 0; g < ngroups; g++)
	{
		for (int j = 0; j < ETS_VW; j++)
		{
			/* padding repeats the group's first lane */
			const EtsLane *ln = &lanes[lane_of[g][j] >= 0 ? lane_of[g][j] : lane_of[g][0]];
			int			first = ln->spec.trend != ETS_NONE ? 2 : 1;

			l[g][j] = ln->x0[0];
			b[g][j] = ln->spec.trend != ETS_NONE ? ln->x0[1] : 0.0;
			alpha[g][j] = ln->p.alpha;
			ba[g][j] = ln->p.beta / ln->p.alpha;
			phi[g][j] = ln->p.phi;
			gamma[g][j] = ln->p.gamma;
			sse[g][j] = 0;
			prod[g][j] = 1;
			expo[g][j] = 0;
			for (int r = 0; r < m; r++)
				ring[r][g][j] = ln->spec.season != ETS_NONE ? ln->x0[first + m - 1 - r] : 0.0;
		}
	}

	for (int t = 0; t < n; t++)
	{
		const vd	yt = vsplat(y[t]);
		const vd	tol = vsplat(ETS_TOL);
		const vd	huge = vsplat(ETS_HUGE);

		for (int g = 0; g < ngroups; g++)
		{
			vd			oldl = l[g],
						olds = ring[k][g],
						phib = phi[g] * b[g],
						q = oldl + phib,
						f,
						e,
						pp,
						tt;

			switch (family[g])
			{
				case 0:
					f = q + olds;
					e = yt - f;
					pp = yt - olds;
					tt = yt - q;
					break;
				case 1:
					f = q + olds;
					e = (yt - f) / f;
					prod[g] *= vabs(f);
					pp = yt - olds;
					tt = yt - q;
					break;
				default:
					f = q * olds;
					e = (yt - f) / f;
					prod[g] *= vabs(f);
					pp = vselect(vabs(olds) < tol, huge, yt / olds);
					tt = vselect(vabs(q) < tol, huge, yt / q);
					break;
			}
			sse[g] += e * e;
			l[g] = q + alpha[g] * (pp - q);
			b[g] = phib + ba[g] * ((l[g] - oldl) - phib);
			ring[k][g] = olds + gamma[g] * (tt - olds);
		}
		if (++k == m)
			k = 0;
		if ((t & 7) == 7)
			for (int g = 0; g < ngroups; g++)
				if (family[g] > 0)
					for (int j = 0; j < ETS_VW; j++)
					{
						double		x = prod[g][j];

						renormalise(&x, &expo[g][j]);
						prod[g][j] = x;
					}
	}

	for (int g = 0; g < ngroups; g++)
		for (int j = 0; j < ETS_VW; j++)
		{
			int			i = lane_of[g][j];
			EtsLane    *ln;
			double		lik;

			if (i < 0)
				continue;
			ln = &lanes[i];
			lik = n * log(sse[g][j]);
			if (ln->spec.error == ETS_MULT)
			{
				double		pr = prod[g][j];

				if (isfinite(pr) && pr > 0)
					lik += 2 * (log(pr) + expo[g][j] * M_LN2);
				else
				{
					EtsPass		pass;

					ets_pass(y, n, m, &ln->spec, &ln->p, ln->x0, &pass);
					lik = pass.lik;
				}
			}
			if (isnan(lik))
				lik = INFINITY;
			else if (lik < -1e10)
				lik = -1e10;
			ln->lik = lik;
		}
}
