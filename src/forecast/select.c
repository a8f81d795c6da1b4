/*
 * select.c
 *		Model selection: forecast::ets's search over the candidate models,
 *		each fitted by maximum likelihood, the winner chosen by AICc.
 *
 * The candidates are every combination of the requested components (R's
 * "Z" tries A and M errors, N and A trends, N, A and M seasons, and damped
 * and undamped trends) less those forecast excludes by default: a damped
 * trend without trend, additive errors with multiplicative season
 * (restrict = TRUE: infinite variance), multiplicative trends
 * (allow.multiplicative.trend = FALSE: cxkpi has none), and multiplicative
 * errors on data that are not all positive.  They are tried in forecast's
 * order (error, trend, season, damped TRUE before FALSE) and a later one
 * wins only with a strictly smaller AICc.
 *
 * Each candidate is fitted from forecast's starting values by the
 * Nelder-Mead minimiser (nelder_mead.c).  The minimisers of all candidates
 * run side by side: each round collects every pending point of every
 * candidate and evaluates them together (lanes.c interleaves up to
 * ETS_MAX_LANES recursions in one pass over the data), which is several
 * times faster than one candidate after the other and gives the same
 * results.
 */
#include "ets.h"

#include <math.h>
#include <string.h>

#define ETS_MAXIT	2000

/*
 * While at most this many minimisers run, each requests a whole iteration's
 * points at once (nelder_mead.c, speculate): the rounds then halve, at the
 * cost of evaluating two points per iteration that are not needed.  With
 * few candidates left a round is bound by the recursion's latency and the
 * extra lanes are free; with many it is bound by throughput and they are
 * not.  6 is the fastest on the 730-day and 468-month benchmark series.
 */
#define ETS_SPECULATE_MAX	6

/* One candidate model being fitted. */
typedef struct Cand
{
	EtsSpec		spec;
	int			m;				/* the model's period (1 without season) */
	int			nstate;			/* states, with the last seasonal one */
	int			npar;			/* minimiser dimension */
	bool		active;			/* the minimiser is running */
	bool		failed;			/* cannot be estimated (AICc +Inf) */
	EtsNM	   *nm;
} Cand;

/* "ETS(M,Ad,M)" into buf (see ets.h). */
void
ets_method_name(const EtsSpec *spec, char *buf)
{
	static const char code[] = "NAM";

	buf[0] = '\0';
	strcat(buf, "ETS(");
	strncat(buf, &code[spec->error], 1);
	strcat(buf, ",");
	strncat(buf, &code[spec->trend], 1);
	if (spec->damped)
		strcat(buf, "d");
	strcat(buf, ",");
	strncat(buf, &code[spec->season], 1);
	strcat(buf, ")");
}

/*
 * forecast's is.constant(): all.equal(y, rep(y[1], n)), i.e. the mean
 * relative difference of the values that differ from y[1] is at most
 * sqrt(DBL_EPSILON).
 */
static bool
series_constant(const double *y, int n)
{
	const double tol = 1.490116119384765625e-8;
	int			N = 0;
	long double scale = 0,
				xy = 0;

	for (int i = 0; i < n; i++)
		if (y[i] != y[0])
			N++;
	if (N == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (y[i] != y[0])
			scale += fabs(y[i]) / N;
	if (!(isfinite((double) scale) && scale > tol))
		scale = 1;
	for (int i = 0; i < n; i++)
		if (y[i] != y[0])
			xy += fabs(y[i] - y[0]) / (N * (double) scale);
	return xy <= tol;
}

/*
 * forecast's answer for a constant series: simple exponential smoothing with
 * alpha = 0.99999 from the first value, no likelihood (the fit is perfect).
 */
static void
fit_constant(const double *y, int n, EtsFit *fit)
{
	EtsParams	p = {0.99999, 0, 0, 1};
	EtsPass		pass;

	memset(fit, 0, sizeof(*fit));
	fit->spec.error = ETS_ADD;
	fit->spec.trend = ETS_NONE;
	fit->spec.season = ETS_NONE;
	fit->spec.damped = false;
	fit->m = 1;
	fit->n = n;
	fit->alpha = p.alpha;
	fit->beta = fit->gamma = fit->phi = NAN;
	fit->nstate = 1;
	fit->init[0] = y[0];
	ets_pass(y, n, 1, &fit->spec, &p, fit->init, &pass);
	fit->last[0] = pass.last[0];
	fit->npar = 1;
	fit->loglik = fit->aic = fit->aicc = fit->bic = NAN;
	fit->sigma2 = pass.sse / n;
	fit->mse = pass.sse_abs / n;
	fit->converged = true;
	fit->constant = true;
}

/*
 * Prepares candidate c (forecast's etsmodel up to the optimiser call): the
 * starting parameters and initial states, or failed when the start is out
 * of bounds or there are too few observations for its parameters.
 */
static void
cand_start(Cand *c, const double *y, int n, int m)
{
	double		par[ETS_MAX_PAR];
	EtsParams	p;
	int			k,
				ns;

	c->m = c->spec.season != ETS_NONE ? m : 1;
	c->nstate = 1 + (c->spec.trend != ETS_NONE) + (c->spec.season != ETS_NONE ? m : 0);
	c->active = false;
	c->failed = true;
	k = ets_start_params(&c->spec, c->m, par);
	ns = ets_initial_states(y, n, m, &c->spec, par + k);
	if (ns < 0)
		return;
	c->npar = k + ns;
	/* forecast stops ("Parameters out of range") if the start is not admissible */
	p.alpha = par[0];
	p.beta = c->spec.trend != ETS_NONE ? par[1] : 0.0;
	p.gamma = c->spec.season != ETS_NONE ? par[1 + (c->spec.trend != ETS_NONE)] : 0.0;
	p.phi = c->spec.damped ? par[k - 1] : 1.0;
	if (!ets_params_ok(&c->spec, c->m, &p))
		return;
	/* forecast: "not enough data to continue" */
	if (c->npar >= n - 1)
		return;
	c->nm = ets_alloc(sizeof(EtsNM));
	ets_nm_start(c->nm, c->npar, par, ETS_MAXIT);
	c->active = true;
	c->failed = false;
}

/*
 * Runs the minimisers of all candidates to the end, side by side: each
 * round gathers their pending points, evaluates those within bounds in
 * batches of lanes, and feeds the values back.
 */
static int
run_minimisers(Cand *cands, int ncand, const double *y, int n, int m)
{
	EtsLane    *lanes = ets_alloc(ETS_MAX_LANES * sizeof(EtsLane));
	double	   *dest[ETS_MAX_LANES];
	int			evals = 0;
	int			nactive;

	for (;;)
	{
		int			nl = 0;
		bool		any = false;

		for (int c = 0; c < ncand; c++)
		{
			EtsNM	   *nm = cands[c].nm;

			if (!cands[c].active)
				continue;
			any = true;
			for (int r = 0; r < nm->nreq; r++)
			{
				EtsLane    *ln = &lanes[nl];

				evals++;
				if (!ets_unpack(&cands[c].spec, cands[c].m, cands[c].nstate, nm->req[r],
								&ln->p, ln->x0))
				{
					nm->fval[r] = INFINITY;
					continue;
				}
				ln->spec = cands[c].spec;
				dest[nl] = &nm->fval[r];
				if (++nl == ETS_MAX_LANES)
				{
					ets_objective_lanes(y, n, m, lanes, nl);
					for (int i = 0; i < nl; i++)
						*dest[i] = lanes[i].lik;
					nl = 0;
				}
			}
		}
		if (!any)
			break;
		nactive = 0;
		for (int c = 0; c < ncand; c++)
			nactive += cands[c].active;
		if (nl > 0)
		{
			ets_objective_lanes(y, n, m, lanes, nl);
			for (int i = 0; i < nl; i++)
				*dest[i] = lanes[i].lik;
		}
		for (int c = 0; c < ncand; c++)
		{
			if (cands[c].active)
				cands[c].nm->speculate = nactive <= ETS_SPECULATE_MAX;
			if (cands[c].active && !ets_nm_feed(cands[c].nm))
			{
				cands[c].active = false;
				if (cands[c].nm->fail == -1)
					cands[c].failed = true;
			}
		}
		ets_check_interrupts();
	}
	return evals;
}

/*
 * The fit of candidate c at the minimiser's best point: states, likelihood
 * and information criteria as forecast's etsmodel computes them.  False if
 * the likelihood is not finite.
 */
static bool
cand_finish(const Cand *c, const double *y, int n, EtsFit *fit)
{
	double		par[ETS_MAX_PAR];
	double		fmin;
	EtsParams	p;
	EtsPass		pass;
	int			j = 0;
	int			np;

	ets_nm_result(c->nm, par, &fmin);
	memset(fit, 0, sizeof(*fit));
	fit->spec = c->spec;
	fit->m = c->m;
	fit->n = n;
	fit->nstate = c->nstate;
	p.alpha = par[j++];
	p.beta = c->spec.trend != ETS_NONE ? par[j++] : 0.0;
	p.gamma = c->spec.season != ETS_NONE ? par[j++] : 0.0;
	p.phi = c->spec.damped ? par[j++] : 1.0;
	/* the initial state, with the seasonal state implied by the others */
	memcpy(fit->init, par + j, (c->npar - j) * sizeof(double));
	if (c->spec.season != ETS_NONE)
	{
		int			first = c->spec.trend != ETS_NONE ? 2 : 1;
		int			ns = c->npar - j;
		double		sum = 0;

		for (int i = first; i < ns; i++)
			sum += fit->init[i];
		fit->init[ns] = (c->spec.season == ETS_MULT ? (double) c->m : 0.0) - sum;
	}
	ets_pass(y, n, c->m, &c->spec, &p, fit->init, &pass);
	if (!isfinite(pass.lik))
		return false;
	memcpy(fit->last, pass.last, c->nstate * sizeof(double));
	fit->alpha = p.alpha;
	fit->beta = c->spec.trend != ETS_NONE ? p.beta : NAN;
	fit->gamma = c->spec.season != ETS_NONE ? p.gamma : NAN;
	fit->phi = c->spec.damped ? p.phi : NAN;
	fit->npar = c->npar;
	np = c->npar + 1;			/* and the error variance */
	fit->loglik = -0.5 * pass.lik;
	fit->aic = pass.lik + 2 * np;
	fit->bic = pass.lik + log((double) n) * np;
	fit->aicc = fit->aic + 2.0 * np * (np + 1) / (n - np - 1);
	fit->sigma2 = pass.sse / (n - c->npar);
	fit->mse = pass.sse_abs / n;
	fit->fncount = c->nm->funcount;
	fit->converged = c->nm->fail == 0 && c->nm->funcount <= c->nm->maxit;
	return true;
}

/*
 * forecast::ets's main function (see ets.h): the constant-series shortcut,
 * the checks of the request against the data, the candidates, their fits
 * side by side, and the smallest AICc.
 */
EtsStatus
ets_auto(const double *y, int n, int m, const EtsRequest *req, EtsFit *fit, EtsSearch *search)
{
	int			errors[2],
				trends[2],
				seasons[3],
				dampeds[2];
	int			ne = 0,
				nt = 0,
				ns = 0,
				nd = 0;
	int			season = req->season;
	bool		positive = true;
	int			npars;
	Cand		cands[ETS_MAX_CANDIDATES];
	int			ncand = 0;
	int			best = -1;
	double		best_ic = INFINITY;
	EtsFit		cur;

	if (search)
		memset(search, 0, sizeof(*search));

	/* forecast: a constant series gets simple exponential smoothing, when no model is asked for */
	if (req->error < 0 && req->trend < 0 && req->season < 0 && req->damped < 0 &&
		n > 0 && series_constant(y, n))
	{
		fit_constant(y, n, fit);
		return ETS_OK;
	}

	/* the season: none when the period is 1 or longer than the data */
	if (m < 1 || n <= m)
	{
		if (season > ETS_NONE)
			return m <= 1 ? ETS_SEASON_NEEDS_PERIOD : ETS_SEASON_TOO_SHORT;
		season = ETS_NONE;
	}
	if (m == 1)
	{
		if (season > ETS_NONE)
			return ETS_SEASON_NEEDS_PERIOD;
		season = ETS_NONE;
	}
	if (m > ETS_MAX_PERIOD)
	{
		if (season > ETS_NONE)
			return ETS_PERIOD_TOO_LONG;
		season = ETS_NONE;
	}
	if (req->error == ETS_ADD && season == ETS_MULT)
		return ETS_FORBIDDEN;
	for (int i = 0; i < n; i++)
		if (!(y[i] > 0))
			positive = false;
	if (!positive && req->error == ETS_MULT)
		return ETS_NOT_POSITIVE;
	if (req->damped == 1 && req->trend == ETS_NONE)
		return ETS_FORBIDDEN;

	/* forecast's minimum length (it falls back to Holt-Winters below it; cxkpi refuses) */
	npars = 2;
	if (req->trend == ETS_ADD)
		npars += 2;
	if (season == ETS_ADD || season == ETS_MULT)
		npars += m;
	if (req->damped >= 0)
		npars += req->damped;
	if (n <= npars + 4)
		return ETS_TOO_SHORT;

	if (req->error < 0)
	{
		errors[ne++] = ETS_ADD;
		errors[ne++] = ETS_MULT;
	}
	else
		errors[ne++] = req->error;
	if (req->trend < 0)
	{
		trends[nt++] = ETS_NONE;
		trends[nt++] = ETS_ADD;
	}
	else
		trends[nt++] = req->trend;
	if (season < 0)
	{
		seasons[ns++] = ETS_NONE;
		seasons[ns++] = ETS_ADD;
		seasons[ns++] = ETS_MULT;
	}
	else
		seasons[ns++] = season;
	if (req->damped < 0)
	{
		dampeds[nd++] = 1;
		dampeds[nd++] = 0;
	}
	else
		dampeds[nd++] = req->damped;

	for (int i = 0; i < ne; i++)
		for (int j = 0; j < nt; j++)
			for (int k = 0; k < ns; k++)
				for (int l = 0; l < nd; l++)
				{
					Cand	   *c = &cands[ncand];

					if (trends[j] == ETS_NONE && dampeds[l])
						continue;
					if (errors[i] == ETS_ADD && seasons[k] == ETS_MULT)
						continue;
					if (!positive && errors[i] == ETS_MULT)
						continue;
					memset(c, 0, sizeof(*c));
					c->spec.error = errors[i];
					c->spec.trend = trends[j];
					c->spec.season = seasons[k];
					c->spec.damped = dampeds[l] != 0;
					cand_start(c, y, n, m);
					ncand++;
				}

	{
		int			evals = run_minimisers(cands, ncand, y, n, m);

		if (search)
			search->nevals = evals;
	}

	for (int c = 0; c < ncand; c++)
	{
		double		ic = INFINITY;

		if (!cands[c].failed && cand_finish(&cands[c], y, n, &cur))
		{
			ic = cur.aicc;
			if (!isnan(ic) && ic < best_ic)
			{
				best_ic = ic;
				best = c;
				*fit = cur;
			}
		}
		if (search)
		{
			search->cand[search->ncand].spec = cands[c].spec;
			search->cand[search->ncand].aicc = isnan(ic) ? INFINITY : ic;
			search->cand[search->ncand].fncount = cands[c].nm ? cands[c].nm->funcount : 0;
			search->ncand++;
		}
	}
	if (best < 0)
		return ETS_NO_MODEL;
	return ETS_OK;
}
