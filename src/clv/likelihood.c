/*
 * likelihood.c
 *		Mean negative log-likelihoods and their analytic gradients, in
 *		log-parameters, for BG/NBD and MBG/NBD (one routine, the kind decides
 *		the few differences) and for Gamma-Gamma.  The formulas are those of
 *		the reference (clv-models.md sections 3, 4 and 6).
 *
 * Costs: the sums over k < x of ln(r+k), ln((b+k)/(a+b+k)) and their
 * derivatives depend on x only; the rows are sorted by x, so they are
 * advanced incrementally from one distinct x to the next (or evaluated with
 * lgamma/digamma across large gaps).  ln(alpha + t) is computed once per
 * distinct time value.  Each row then costs one exp and one log: log(1 + e)
 * with e = exp(-|A4 - A3|) in (0, 1] has an absolute error below 1.2e-16,
 * as log1p's would be, and glibc's log is several times faster than log1p.
 */
#include "clv.h"

#include <math.h>

#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>

/* Gaps in x larger than this are bridged with lgamma/digamma differences. */
#define CLV_MAX_STEP	64

/*
 * The index of time value t in d->times, adding it if new: open addressing
 * over `slots` (index + 1; 0 = empty), sized for every value to be distinct.
 */
static int32
time_index(ClvData *d, uint32 *slots, int64 nslots, double t)
{
	uint64		h = clv_hash_double(t) & (nslots - 1);

	while (slots[h] != 0)
	{
		if (d->times[slots[h] - 1] == t)
			return (int32) (slots[h] - 1);
		h = (h + 1) & (nslots - 1);
	}
	d->times[d->ntimes] = t;
	slots[h] = (uint32) (++d->ntimes);
	return (int32) (d->ntimes - 1);
}

/*
 * Whether most ages T differ (continuous times): then a table of distinct
 * times would be as long as the rows, and hashing every time into it costs
 * more than it saves.  Decided on a systematic sample of up to 4,096 rows.
 * At day resolution, T has at most a few thousand values.
 */
static bool
times_mostly_distinct(const ClvFitState *st)
{
#define SAMPLE_SLOTS 8192
	double	   *seen;
	bool	   *used;
	int64		step = Max(1, st->n / (SAMPLE_SLOTS / 2));
	int64		sampled = 0,
				distinct = 0;

	if (st->n < 2 * SAMPLE_SLOTS)
		return false;
	seen = palloc(SAMPLE_SLOTS * sizeof(double));
	used = palloc0(SAMPLE_SLOTS * sizeof(bool));
	for (int64 i = 0; i < st->n && sampled < SAMPLE_SLOTS / 2; i += step, sampled++)
	{
		double		t = st->rows[i].v;
		uint64		h = clv_hash_double(t) & (SAMPLE_SLOTS - 1);

		while (used[h] && seen[h] != t)
			h = (h + 1) & (SAMPLE_SLOTS - 1);
		if (!used[h])
		{
			used[h] = true;
			seen[h] = t;
			distinct++;
		}
	}
	pfree(seen);
	pfree(used);
	return 2 * distinct > sampled;
#undef SAMPLE_SLOTS
}

/*
 * Scales the times (BG/NBD: by 1/max T) or the money values (Gamma-Gamma:
 * by 1/weighted mean), and builds the distinct-time table.  The state must
 * be compacted (sorted by x) first.
 */
void
clv_data_prepare(ClvData *d, ClvFitState *st)
{
	int64		n = st->n;

	memset(d, 0, sizeof(*d));
	d->kind = st->kind;
	d->nrows = n;
	d->rows = st->rows;
	d->penalizer = st->penalizer;
	for (int64 i = 0; i < n; i++)
		d->wsum += (double) st->rows[i].w;

	if (st->kind == CLV_GAMMA_GAMMA)
	{
		double		msum = 0,
					umax = 0;

		/* the weighted mean, relative to the largest value so that it cannot overflow */
		for (int64 i = 0; i < n; i++)
			umax = Max(umax, st->rows[i].u);
		for (int64 i = 0; i < n; i++)
			msum += (double) st->rows[i].w * (st->rows[i].u / umax);
		d->scale = (d->wsum / msum) / umax;	/* multiply money by this */
		d->times = palloc_extended(n * sizeof(double), MCXT_ALLOC_HUGE);
		d->lnu = palloc_extended(n * sizeof(double), MCXT_ALLOC_HUGE);
		for (int64 i = 0; i < n; i++)
		{
			d->times[i] = st->rows[i].u * d->scale;
			d->lnu[i] = log(d->times[i]);
		}
		d->ntimes = n;
		return;
	}
	else
	{
		int64		m;
		double		maxT = 0;
		int64		nslots = 1024;
		uint32	   *slots;

		for (int64 i = 0; i < n; i++)
			maxT = Max(maxT, st->rows[i].v);
		d->scale = maxT > 0 ? 1.0 / maxT : 1.0;
		if (times_mostly_distinct(st))
			return;				/* logs per row: ix_u, ix_v, times stay NULL */
		while (nslots < 4 * n)
			nslots *= 2;
		slots = palloc_extended(nslots * sizeof(uint32), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		d->times = palloc_extended(2 * n * sizeof(double), MCXT_ALLOC_HUGE);
		d->ix_u = palloc_extended(n * sizeof(int32), MCXT_ALLOC_HUGE);
		d->ix_v = palloc_extended(n * sizeof(int32), MCXT_ALLOC_HUGE);
		for (int64 i = 0; i < n; i++)
		{
			d->ix_u[i] = time_index(d, slots, nslots, st->rows[i].u * d->scale);
			d->ix_v[i] = time_index(d, slots, nslots, st->rows[i].v * d->scale);
		}
		pfree(slots);
		m = d->ntimes;
		d->lt = palloc_extended(m * sizeof(double), MCXT_ALLOC_HUGE);
		d->it = palloc_extended(m * sizeof(double), MCXT_ALLOC_HUGE);
	}
}

/*
 * Every step-th row of d (in canonical order) as a smaller problem, for a
 * cheap warm start of the optimiser.  It has its own table of the distinct
 * times its rows use (with every time distinct, d's table is as long as d,
 * and each evaluation of the subsample would otherwise recompute all of it).
 */
void
clv_data_subsample(const ClvData *d, int64 step, ClvData *out)
{
	int64		n = (d->nrows + step - 1) / step;
	ClvRow	   *rows = palloc_extended(n * sizeof(ClvRow), MCXT_ALLOC_HUGE);
	int32	   *remap = NULL;

	*out = *d;
	out->nrows = n;
	out->rows = rows;
	out->wsum = 0;
	if (d->kind == CLV_GAMMA_GAMMA)
	{
		out->times = palloc_extended(n * sizeof(double), MCXT_ALLOC_HUGE);
		out->lnu = palloc_extended(n * sizeof(double), MCXT_ALLOC_HUGE);
	}
	else if (d->ix_u != NULL)
	{
		out->ix_u = palloc_extended(n * sizeof(int32), MCXT_ALLOC_HUGE);
		out->ix_v = palloc_extended(n * sizeof(int32), MCXT_ALLOC_HUGE);
		out->times = palloc_extended(2 * n * sizeof(double), MCXT_ALLOC_HUGE);
		out->ntimes = 0;
		/* old time index -> new one + 1 (0: not used yet) */
		remap = palloc_extended(d->ntimes * sizeof(int32), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}
	for (int64 i = 0, j = 0; i < d->nrows; i += step, j++)
	{
		rows[j] = d->rows[i];
		out->wsum += (double) rows[j].w;
		if (d->kind == CLV_GAMMA_GAMMA)
		{
			out->times[j] = d->times[i];
			out->lnu[j] = d->lnu[i];
		}
		else if (d->ix_u != NULL)
		{
			int32		ix[2] = {d->ix_u[i], d->ix_v[i]};

			for (int k = 0; k < 2; k++)
				if (remap[ix[k]] == 0)
				{
					out->times[out->ntimes] = d->times[ix[k]];
					remap[ix[k]] = (int32) (++out->ntimes);
				}
			out->ix_u[j] = remap[ix[0]] - 1;
			out->ix_v[j] = remap[ix[1]] - 1;
		}
	}
	if (remap)
	{
		pfree(remap);
		out->lt = palloc_extended(out->ntimes * sizeof(double), MCXT_ALLOC_HUGE);
		out->it = palloc_extended(out->ntimes * sizeof(double), MCXT_ALLOC_HUGE);
	}
}

/* Sums over k of the BG/NBD cost terms for one x, advanced incrementally. */
typedef struct XSums
{
	int32		x;				/* terms k < x for the r sums */
	int32		m;				/* terms k < m for the a, b sums */
	double		slr;			/* sum ln(r+k) */
	double		gr;				/* sum 1/(r+k) */
	double		sab;			/* sum ln((b+k)/(a+b+k)) */
	double		gb;				/* sum 1/(b+k) */
	double		gab;			/* sum 1/(a+b+k) */
	/* second derivatives, for the Hessian only */
	double		hr;				/* sum 1/(r+k)^2 */
	double		hb;				/* sum 1/(b+k)^2 */
	double		hab;			/* sum 1/(a+b+k)^2 */
} XSums;

/* The second-derivative sums of XSums, advanced as xsums_advance does the others. */
static void
xsums_advance_h(XSums *s, int32 x, int32 m, double r, double a, double b)
{
	if (x - s->x > CLV_MAX_STEP)
		s->hr = gsl_sf_psi_1(r) - gsl_sf_psi_1(r + x);
	else
		for (int32 k = s->x; k < x; k++)
			s->hr += 1.0 / ((r + k) * (r + k));
	if (m - s->m > CLV_MAX_STEP)
	{
		s->hb = gsl_sf_psi_1(b) - gsl_sf_psi_1(b + m);
		s->hab = gsl_sf_psi_1(a + b) - gsl_sf_psi_1(a + b + m);
	}
	else
		for (int32 k = s->m; k < m; k++)
		{
			s->hb += 1.0 / ((b + k) * (b + k));
			s->hab += 1.0 / ((a + b + k) * (a + b + k));
		}
}

static void
xsums_advance(XSums *s, int32 x, int32 m, double r, double a, double b)
{
	if (x - s->x > CLV_MAX_STEP)
	{
		s->slr = gsl_sf_lngamma(r + x) - gsl_sf_lngamma(r);
		s->gr = gsl_sf_psi(r + x) - gsl_sf_psi(r);
	}
	else
		for (int32 k = s->x; k < x; k++)
		{
			s->slr += log(r + k);
			s->gr += 1.0 / (r + k);
		}
	if (m - s->m > CLV_MAX_STEP)
	{
		s->sab = gsl_sf_lngamma(b + m) - gsl_sf_lngamma(b)
			- gsl_sf_lngamma(a + b + m) + gsl_sf_lngamma(a + b);
		s->gb = gsl_sf_psi(b + m) - gsl_sf_psi(b);
		s->gab = gsl_sf_psi(a + b + m) - gsl_sf_psi(a + b);
	}
	else
		for (int32 k = s->m; k < m; k++)
		{
			s->sab += log((b + k) / (a + b + k));
			s->gb += 1.0 / (b + k);
			s->gab += 1.0 / (a + b + k);
		}
	s->x = x;
	s->m = m;
}

/*
 * BG/NBD and MBG/NBD: mean NLL over the weighted rows at theta = ln(r,
 * alpha, a, b) (alpha in scaled time), plus the penalty; grad in theta.
 * Returns +inf if the value is not finite.
 */
double
clv_bgnbd_nll(const ClvData *d, const double *theta, double *grad)
{
	double		r = exp(theta[0]),
				alpha = exp(theta[1]),
				a = exp(theta[2]),
				b = exp(theta[3]);
	double		lalpha = theta[1],
				la = theta[2];
	bool		modified = d->kind == CLV_MBGNBD;
	XSums		s = {0};
	double		ll = 0,
				g[4] = {0, 0, 0, 0};
	int32		cur = -1;
	double		lbx = 0,
				ibx = 0;
	double		f;
	bool		direct = d->ix_v == NULL;

	for (int64 k = 0; k < d->ntimes; k++)
	{
		d->lt[k] = log(alpha + d->times[k]);
		d->it[k] = 1.0 / (alpha + d->times[k]);
	}
	for (int64 i = 0; i < d->nrows; i++)
	{
		const ClvRow *row = &d->rows[i];
		int32		x = row->x;
		double		w = (double) row->w;
		double		lT,
					iT,
					ltx,
					itx;
		double		A1,
					A3,
					rowll,
					wt;

		if (x != cur)
		{
			xsums_advance(&s, x, modified ? x + 1 : x, r, a, b);
			cur = x;
			/* ln and 1/ of (b + x - 1), or (b + x) for MBG/NBD */
			lbx = log(modified ? b + x : b + (x - 1));
			ibx = modified ? 1.0 / (b + x) : 1.0 / (b + (x - 1));
		}
		/* the same values either way: the table holds u * scale and v * scale */
		if (direct)
		{
			double		aT = alpha + row->v * d->scale;

			lT = log(aT);
			iT = 1.0 / aT;
		}
		else
		{
			lT = d->lt[d->ix_v[i]];
			iT = d->it[d->ix_v[i]];
		}
		A1 = s.slr + r * lalpha;
		A3 = -(r + x) * lT;
		if (!modified && x == 0)
		{
			rowll = A1 + A3;
			wt = 0;
			g[0] += w * (lalpha - lT);
			g[1] += w * (r / alpha - r * iT);
		}
		else
		{
			double		A4,
						dd,
						e;

			if (direct)
			{
				double		atx = alpha + row->u * d->scale;

				ltx = log(atx);
				itx = 1.0 / atx;
			}
			else
			{
				ltx = d->lt[d->ix_u[i]];
				itx = d->it[d->ix_u[i]];
			}
			A4 = la - lbx - (r + x) * ltx;
			dd = A4 - A3;
			e = exp(-fabs(dd));

			if (dd > 0)
			{
				rowll = A1 + s.sab + A4 + log(1.0 + e);
				wt = 1.0 / (1.0 + e);
			}
			else
			{
				rowll = A1 + s.sab + A3 + log(1.0 + e);
				wt = e / (1.0 + e);
			}
			g[0] += w * (lalpha + s.gr - (1 - wt) * lT - wt * ltx);
			g[1] += w * (r / alpha - (r + x) * ((1 - wt) * iT + wt * itx));
			g[2] += w * (-s.gab + wt / a);
			g[3] += w * (s.gb - s.gab - wt * ibx);
		}
		ll += w * rowll;
	}
	f = -ll / d->wsum;
	if (grad)
	{
		double		p[4] = {r, alpha, a, b};

		for (int j = 0; j < 4; j++)
			grad[j] = -p[j] * g[j] / d->wsum + 2 * d->penalizer * p[j] * p[j];
	}
	f += d->penalizer * (r * r + alpha * alpha + a * a + b * b);
	return isfinite(f) ? f : INFINITY;
}

/*
 * Gamma-Gamma: mean NLL at theta = ln(p, q, gamma) (gamma in scaled money)
 * over the repeat customers, plus the penalty; grad in theta.
 */
double
clv_gg_nll(const ClvData *d, const double *theta, double *grad)
{
	double		p = exp(theta[0]),
				q = exp(theta[1]),
				gam = exp(theta[2]);
	double		lgam = theta[2];
	double		ll = 0,
				g[3] = {0, 0, 0};
	int32		cur = -1;
	double		c1 = 0,
				dp0 = 0,
				dq0 = 0,
				px = 0;
	double		psi_q = gsl_sf_psi(q),
				lg_q = gsl_sf_lngamma(q);
	double		f;

	for (int64 i = 0; i < d->nrows; i++)
	{
		const ClvRow *row = &d->rows[i];
		int32		x = row->x;
		double		w = (double) row->w;
		double		m = d->times[i],
					lm = d->lnu[i];
		double		L;

		if (x != cur)
		{
			double		lx = log((double) x);
			double		psi_pxq;

			cur = x;
			px = p * x;
			psi_pxq = gsl_sf_psi(px + q);
			c1 = gsl_sf_lngamma(px + q) - gsl_sf_lngamma(px) - lg_q + px * lx;
			dp0 = x * (psi_pxq - gsl_sf_psi(px) + lx);
			dq0 = psi_pxq - psi_q;
		}
		L = log(gam + x * m);
		ll += w * (c1 + q * lgam + (px - 1) * lm - (px + q) * L);
		g[0] += w * (dp0 + x * (lm - L));
		g[1] += w * (dq0 + lgam - L);
		g[2] += w * (q / gam - (px + q) / (gam + x * m));
	}
	f = -ll / d->wsum;
	if (grad)
	{
		double		pp[3] = {p, q, gam};

		for (int j = 0; j < 3; j++)
			grad[j] = -pp[j] * g[j] / d->wsum + 2 * d->penalizer * pp[j] * pp[j];
	}
	f += d->penalizer * (p * p + q * q + gam * gam);
	return isfinite(f) ? f : INFINITY;
}

/*
 * BG/NBD and MBG/NBD: the Hessian of the mean NLL (with the penalty) in
 * theta = ln(r, alpha, a, b), analytically, in one pass over the rows
 * (4 x 4, row-major, into H).  Each row's log-likelihood is
 * C + ln(e^A3 + e^A4) with C = A1 + the a, b sums, so its Hessian in
 * (r, alpha, a, b) is C'' + (1 - wt) A3'' + wt A4'' + wt (1 - wt) (A4' - A3')(A4' - A3')^T,
 * wt the weight of A4 (0 for a BG/NBD row with frequency 0, which has no
 * A4); in theta, H_ij = p_i p_j d2/dp_i dp_j + [i = j] p_i d/dp_i.
 */
void
clv_bgnbd_hessian(const ClvData *d, const double *theta, double *H)
{
	double		r = exp(theta[0]),
				alpha = exp(theta[1]),
				a = exp(theta[2]),
				b = exp(theta[3]);
	double		lalpha = theta[1],
				la = theta[2];
	double		p[4] = {r, alpha, a, b};
	bool		modified = d->kind == CLV_MBGNBD;
	bool		direct = d->ix_v == NULL;
	XSums		s = {0};
	double		G[4] = {0, 0, 0, 0},
				Hp[4][4] = {{0}};
	int32		cur = -1;
	double		lbx = 0,
				ibx = 0;

	for (int64 k = 0; k < d->ntimes; k++)
	{
		d->lt[k] = log(alpha + d->times[k]);
		d->it[k] = 1.0 / (alpha + d->times[k]);
	}
	for (int64 i = 0; i < d->nrows; i++)
	{
		const ClvRow *row = &d->rows[i];
		int32		x = row->x;
		double		w = (double) row->w;
		double		lT,
					iT,
					ltx = 0,
					itx = 0,
					wt = 0;
		double		g3[4],
					g4[4] = {0, 0, 0, 0},
					dg[4];

		if (x != cur)
		{
			int32		m = modified ? x + 1 : x;

			xsums_advance_h(&s, x, m, r, a, b);
			xsums_advance(&s, x, m, r, a, b);
			cur = x;
			ibx = modified ? 1.0 / (b + x) : 1.0 / (b + (x - 1));
			lbx = log(modified ? b + x : b + (x - 1));
		}
		if (direct)
		{
			double		aT = alpha + row->v * d->scale;

			lT = log(aT);
			iT = 1.0 / aT;
		}
		else
		{
			lT = d->lt[d->ix_v[i]];
			iT = d->it[d->ix_v[i]];
		}
		if (modified || x > 0)
		{
			double		A3 = -(r + x) * lT,
						A4,
						e;

			if (direct)
			{
				double		atx = alpha + row->u * d->scale;

				ltx = log(atx);
				itx = 1.0 / atx;
			}
			else
			{
				ltx = d->lt[d->ix_u[i]];
				itx = d->it[d->ix_u[i]];
			}
			A4 = la - lbx - (r + x) * ltx;
			e = exp(-fabs(A4 - A3));
			wt = A4 - A3 > 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
		}
		/* C' and C'' */
		G[0] += w * (s.gr + lalpha);
		G[1] += w * (r / alpha);
		G[2] += w * (-s.gab);
		G[3] += w * (s.gb - s.gab);
		Hp[0][0] += w * (-s.hr);
		Hp[0][1] += w * (1.0 / alpha);
		Hp[1][1] += w * (-r / (alpha * alpha));
		Hp[2][2] += w * s.hab;
		Hp[2][3] += w * s.hab;
		Hp[3][3] += w * (s.hab - s.hb);
		/* A3 (weight 1 - wt) */
		g3[0] = -lT;
		g3[1] = -(r + x) * iT;
		g3[2] = g3[3] = 0;
		for (int j = 0; j < 2; j++)
			G[j] += w * (1 - wt) * g3[j];
		Hp[0][1] += w * (1 - wt) * (-iT);
		Hp[1][1] += w * (1 - wt) * (r + x) * iT * iT;
		if (wt > 0)
		{
			/* A4 (weight wt) and the mixing term */
			g4[0] = -ltx;
			g4[1] = -(r + x) * itx;
			g4[2] = 1.0 / a;
			g4[3] = -ibx;
			for (int j = 0; j < 4; j++)
			{
				G[j] += w * wt * g4[j];
				dg[j] = g4[j] - g3[j];
			}
			Hp[0][1] += w * wt * (-itx);
			Hp[1][1] += w * wt * (r + x) * itx * itx;
			Hp[2][2] += w * wt * (-1.0 / (a * a));
			Hp[3][3] += w * wt * ibx * ibx;
			for (int j = 0; j < 4; j++)
				for (int k = j; k < 4; k++)
					Hp[j][k] += w * wt * (1 - wt) * dg[j] * dg[k];
		}
	}
	for (int j = 0; j < 4; j++)
		for (int k = j; k < 4; k++)
		{
			double		h = p[j] * p[k] * Hp[j][k] + (j == k ? p[j] * G[j] : 0);

			h = -h / d->wsum + (j == k ? 4 * d->penalizer * p[j] * p[j] : 0);
			H[j * 4 + k] = H[k * 4 + j] = h;
		}
}
