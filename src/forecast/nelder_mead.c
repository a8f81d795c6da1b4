/*
 * nelder_mead.c
 *		The Nelder-Mead simplex minimiser that forecast::ets uses (R's optim
 *		"Nelder-Mead", function nmmin, after J. C. Nash, "Compact Numerical
 *		Methods for Computers", 1979, algorithm 19), written as a resumable
 *		state machine.
 *
 * forecast calls it with reflection 1, contraction 0.5, expansion 2, no
 * absolute tolerance, relative tolerance sqrt(DBL_EPSILON) and at most 2000
 * evaluations.  Its result is not the optimum but wherever the simplex is
 * when the spread of its values falls below the tolerance or the budget
 * runs out; forecast's model choice depends on it, so this minimiser takes
 * the same steps in the same order, with the same arithmetic.
 *
 * The caller drives it: after ets_nm_start() (and after every
 * ets_nm_feed()), nm->req[0 .. nreq-1] are the points to evaluate; the
 * caller puts their objective values into nm->fval and calls ets_nm_feed(),
 * until it returns false.  The simplex vertices evaluated together (at the
 * start and after a shrink) are requested together, so that a caller can
 * evaluate them at once; R evaluates them one after the other, with the
 * same values.  Objective values that are not finite count as 1e35.
 *
 * With nm->speculate set, a reflection is requested together with the
 * three points the iteration may need next (the expansion, and the
 * contraction towards the reflection or towards the worst vertex), so that
 * an iteration takes one round of evaluations instead of two.  The
 * iteration then uses the values it needs in R's order and counts only
 * those: the path and the result are the same.
 *
 * Layout: P[i][j] is coordinate i of vertex j (j = 0 .. n), P[n][j] its
 * value; column n + 1 holds the centroid.
 */
#include "ets.h"

#include <math.h>
#include <string.h>

#define NM_BIG		1.0e+35

enum
{
	NM_START,					/* the start point is requested */
	NM_SPECULATE,				/* reflection, expansion and both contractions are requested */
	NM_CALCVERT,				/* the vertices other than the best are requested */
	NM_REFLECT,					/* the reflected point is requested */
	NM_EXPAND,					/* the expanded point is requested */
	NM_CONTRACT,				/* the contracted point is requested */
	NM_DONE
};

static bool nm_loop_top(EtsNM *nm);

/* Requests the trial point B alone. */
static void
request_trial(EtsNM *nm, int phase)
{
	memcpy(nm->req[0], nm->B, nm->n * sizeof(double));
	nm->nreq = 1;
	nm->phase = phase;
}

/* The value of an evaluation as nmmin keeps it. */
static inline double
finite_or_big(double f)
{
	return isfinite(f) ? f : NM_BIG;
}

/* Initialises the minimiser from x0 and requests the start point. */
void
ets_nm_start(EtsNM *nm, int n, const double *x0, int maxit)
{
	nm->n = n;
	nm->maxit = maxit;
	nm->abstol = -INFINITY;
	nm->intol = 1.490116119384765625e-8;	/* sqrt(DBL_EPSILON) */
	nm->alpha = 1.0;
	nm->bet = 0.5;
	nm->gamm = 2.0;
	nm->funcount = 0;
	nm->fail = 0;
	nm->L = 0;
	nm->H = 0;
	nm->speculate = false;
	memcpy(nm->B, x0, n * sizeof(double));
	request_trial(nm, NM_START);
}

/*
 * The start point's value is known: the tolerance is scaled by it, and the
 * first simplex is the start and n points each displaced along one axis by
 * a tenth of the largest coordinate (0.1 if all are 0).
 */
static bool
nm_build(EtsNM *nm, double f)
{
	int			n = nm->n;
	double		step = 0.0,
				size = 0.0;

	if (!isfinite(f))
	{
		nm->fail = -1;			/* R: "function cannot be evaluated at initial parameters" */
		nm->phase = NM_DONE;
		nm->nreq = 0;
		return false;
	}
	nm->funcount = 1;
	nm->convtol = nm->intol * (fabs(f) + nm->intol);
	nm->P[n][0] = f;
	for (int i = 0; i < n; i++)
		nm->P[i][0] = nm->B[i];
	nm->L = 0;
	for (int i = 0; i < n; i++)
		if (0.1 * fabs(nm->B[i]) > step)
			step = 0.1 * fabs(nm->B[i]);
	if (step == 0.0)
		step = 0.1;
	for (int j = 1; j <= n; j++)
	{
		double		trystep = step;

		for (int i = 0; i < n; i++)
			nm->P[i][j] = nm->B[i];
		while (nm->P[j - 1][j] == nm->B[j - 1])
		{
			nm->P[j - 1][j] = nm->B[j - 1] + trystep;
			trystep *= 10;
		}
		size += trystep;
	}
	nm->oldsize = size;
	nm->calcvert = true;
	return nm_loop_top(nm);
}

/*
 * The best and worst vertices; stops when their values are within the
 * tolerance; otherwise requests the reflection of the worst vertex through
 * the centroid of the others.
 */
static bool
nm_order(EtsNM *nm)
{
	int			n = nm->n;
	int			C = n + 1;
	double		VL = nm->P[n][nm->L],
				VH = VL;

	nm->H = nm->L;
	for (int j = 0; j <= n; j++)
	{
		if (j != nm->L)
		{
			double		f = nm->P[n][j];

			if (f < VL)
			{
				nm->L = j;
				VL = f;
			}
			if (f > VH)
			{
				nm->H = j;
				VH = f;
			}
		}
	}
	nm->VL = VL;
	nm->VH = VH;
	if (VH <= VL + nm->convtol || VL <= nm->abstol)
	{
		nm->phase = NM_DONE;
		nm->nreq = 0;
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		double		temp = -nm->P[i][nm->H];

		for (int j = 0; j <= n; j++)
			temp += nm->P[i][j];
		nm->P[i][C] = temp / n;
	}
	for (int i = 0; i < n; i++)
		nm->B[i] = (1.0 + nm->alpha) * nm->P[i][C] - nm->alpha * nm->P[i][nm->H];
	if (nm->speculate)
	{
		/* the points of feed's REFLECT branches, with the same arithmetic */
		for (int i = 0; i < n; i++)
		{
			nm->req[0][i] = nm->B[i];
			nm->req[1][i] = nm->gamm * nm->B[i] + (1 - nm->gamm) * nm->P[i][C];
			nm->req[2][i] = (1 - nm->bet) * nm->B[i] + nm->bet * nm->P[i][C];
			nm->req[3][i] = (1 - nm->bet) * nm->P[i][nm->H] + nm->bet * nm->P[i][C];
		}
		nm->nreq = 4;
		nm->phase = NM_SPECULATE;
		return true;
	}
	request_trial(nm, NM_REFLECT);
	return true;
}

/* The top of nmmin's loop: re-evaluate the vertices after a shrink, then order. */
static bool
nm_loop_top(EtsNM *nm)
{
	if (nm->calcvert)
	{
		int			k = 0;

		for (int j = 0; j <= nm->n; j++)
		{
			if (j != nm->L)
			{
				nm->req_col[k] = j;
				for (int i = 0; i < nm->n; i++)
					nm->req[k][i] = nm->P[i][j];
				k++;
			}
		}
		nm->nreq = k;
		nm->phase = NM_CALCVERT;
		return true;
	}
	return nm_order(nm);
}

/* The bottom of nmmin's loop: go on while the evaluation budget lasts. */
static bool
nm_loop_end(EtsNM *nm)
{
	if (nm->funcount <= nm->maxit)
		return nm_loop_top(nm);
	nm->phase = NM_DONE;
	nm->nreq = 0;
	return false;
}

/* Replaces the worst vertex by B with value f. */
static void
replace_worst(EtsNM *nm, double f)
{
	for (int i = 0; i < nm->n; i++)
		nm->P[i][nm->H] = nm->B[i];
	nm->P[nm->n][nm->H] = f;
}

/* After the reflection's value f: expand, or contract. */
static bool
after_reflect(EtsNM *nm, double f)
{
	int			n = nm->n;
	int			C = n + 1;

	f = finite_or_big(f);
	nm->funcount++;
	nm->VR = f;
	if (f < nm->VL)
	{
		/* better than the best: try twice as far */
		nm->P[n][C] = f;
		for (int i = 0; i < n; i++)
		{
			double		e = nm->gamm * nm->B[i] + (1 - nm->gamm) * nm->P[i][C];

			nm->P[i][C] = nm->B[i];
			nm->B[i] = e;
		}
		request_trial(nm, NM_EXPAND);
		return true;
	}
	/* no better than the best: contract, towards the reflection if it beats the worst */
	if (f < nm->VH)
		replace_worst(nm, f);
	for (int i = 0; i < n; i++)
		nm->B[i] = (1 - nm->bet) * nm->P[i][nm->H] + nm->bet * nm->P[i][C];
	request_trial(nm, NM_CONTRACT);
	return true;
}

/* After the expansion's value f: keep the better of expansion and reflection. */
static bool
after_expand(EtsNM *nm, double f)
{
	int			n = nm->n;
	int			C = n + 1;

	f = finite_or_big(f);
	nm->funcount++;
	if (f < nm->VR)
		replace_worst(nm, f);
	else
	{
		for (int i = 0; i < n; i++)
			nm->P[i][nm->H] = nm->P[i][C];
		nm->P[n][nm->H] = nm->VR;
	}
	return nm_loop_end(nm);
}

/* After the contraction's value f: keep it if better than the worst, else shrink. */
static bool
after_contract(EtsNM *nm, double f)
{
	int			n = nm->n;

	f = finite_or_big(f);
	nm->funcount++;
	if (f < nm->P[n][nm->H])
		replace_worst(nm, f);
	else if (nm->VR >= nm->VH)
	{
		/* shrink every vertex halfway towards the best */
		double		size = 0.0;
		int			L = nm->L;

		nm->calcvert = true;
		for (int j = 0; j <= n; j++)
		{
			if (j != L)
			{
				for (int i = 0; i < n; i++)
				{
					nm->P[i][j] = nm->bet * (nm->P[i][j] - nm->P[i][L]) + nm->P[i][L];
					size += fabs(nm->P[i][j] - nm->P[i][L]);
				}
			}
		}
		if (size < nm->oldsize)
			nm->oldsize = size;
		else
		{
			nm->fail = 10;
			nm->phase = NM_DONE;
			nm->nreq = 0;
			return false;
		}
	}
	return nm_loop_end(nm);
}

/*
 * Consumes the values of the requested points (nm->fval) and moves on to
 * the next request.  False when the minimiser has finished.
 */
bool
ets_nm_feed(EtsNM *nm)
{
	int			n = nm->n;

	switch (nm->phase)
	{
		case NM_START:
			return nm_build(nm, nm->fval[0]);

		case NM_CALCVERT:
			for (int k = 0; k < nm->nreq; k++)
			{
				nm->P[n][nm->req_col[k]] = finite_or_big(nm->fval[k]);
				nm->funcount++;
			}
			nm->calcvert = false;
			return nm_order(nm);

		case NM_REFLECT:
			return after_reflect(nm, nm->fval[0]);

		case NM_EXPAND:
			return after_expand(nm, nm->fval[0]);

		case NM_CONTRACT:
			return after_contract(nm, nm->fval[0]);

		case NM_SPECULATE:
			{
				double		fr = nm->fval[0],
							fe = nm->fval[1],
							fco = nm->fval[2],
							fci = nm->fval[3];
				double		co[ETS_MAX_PAR];

				memcpy(co, nm->req[2], n * sizeof(double));
				if (after_reflect(nm, fr))
				{
					/* the reflection asked for one more point: it is one of those evaluated */
					if (nm->phase == NM_EXPAND)
						return after_expand(nm, fe);
					return after_contract(nm, memcmp(nm->B, co, n * sizeof(double)) == 0 ? fco : fci);
				}
				return false;
			}

		default:
			nm->nreq = 0;
			return false;
	}
}

/* The best vertex and its value (nmmin's X and Fmin). */
void
ets_nm_result(const EtsNM *nm, double *x, double *fmin)
{
	int			n = nm->n;

	for (int i = 0; i < n; i++)
		x[i] = nm->P[i][nm->L];
	*fmin = nm->P[n][nm->L];
}
