/*
 * optim.c
 *		Minimises a mean negative log-likelihood over log-parameters with
 *		GSL's BFGS (gsl_multimin_fdfminimizer_vector_bfgs2) and the analytic
 *		gradient; restarts BFGS from where it stopped while the gradient is
 *		not small, falls back to Nelder-Mead (nmsimplex2) when BFGS makes no
 *		progress, and estimates the covariance of the log-parameters from a
 *		central-difference Hessian of the analytic gradient.
 */
#include "clv.h"

#include <math.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>

#include "miscadmin.h"

/* Converged: Euclidean norm of the mean-NLL gradient in log-parameters below this. */
#define CLV_GRAD_TOL		1e-6
#define CLV_BFGS_MAXITER	2000
#define CLV_BFGS_RESTARTS	4
#define CLV_NM_MAXITER		20000
/* Above this many distinct rows, a fit on a 1-in-k subsample of ~CLV_WARM_ROWS rows gives the start. */
#define CLV_WARM_ROWS		20000
/* Newton steps with the warm start's Hessian before BFGS on the full data */
#define CLV_NEWTON_STEPS	12
/* Log-parameters beyond this are treated as divergence (e^40 ~ 2e17). */
#define CLV_THETA_MAX		40.0

/*
 * The objective as GSL sees it.  GSL's variables x map to log-parameters
 * theta = base + M x: the identity normally, and after a warm start M is the
 * Cholesky factor of the subsample's inverse Hessian, so that BFGS works on
 * a problem whose Hessian is close to the identity (a preconditioner).
 */
typedef struct OptimCtx
{
	const ClvData *d;
	ClvObjective fn;
	ClvHessian	hfn;			/* analytic Hessian, or NULL: differences of the gradient */
	int			n;
	bool		precond;
	double		base[CLV_MAX_PARAMS];
	double		M[CLV_MAX_PARAMS][CLV_MAX_PARAMS];	/* lower triangular */
	/* the last evaluation: GSL's line search often asks for f, then for the gradient at the same point */
	bool		have_last;
	double		last_theta[CLV_MAX_PARAMS];
	double		last_f;
	double		last_grad[CLV_MAX_PARAMS];
	int			evaluations;	/* of the objective over all rows, for DEBUG1 */
} OptimCtx;

/* f and gradient at theta, from the cache when theta is the last point evaluated. */
static double
eval_cached(OptimCtx *c, const double *theta, double *grad)
{
	if (!(c->have_last && memcmp(theta, c->last_theta, c->n * sizeof(double)) == 0))
	{
		memcpy(c->last_theta, theta, c->n * sizeof(double));
		c->last_f = c->fn(c->d, theta, c->last_grad);
		c->evaluations++;
		c->have_last = true;
	}
	if (grad)
		memcpy(grad, c->last_grad, c->n * sizeof(double));
	return c->last_f;
}

static void
x_to_theta(const OptimCtx *c, const double *x, double *theta)
{
	if (!c->precond)
	{
		memcpy(theta, x, c->n * sizeof(double));
		return;
	}
	for (int i = 0; i < c->n; i++)
	{
		theta[i] = c->base[i];
		for (int j = 0; j <= i; j++)
			theta[i] += c->M[i][j] * x[j];
	}
}

static bool
theta_ok(const double *theta, int n)
{
	for (int i = 0; i < n; i++)
		if (!(fabs(theta[i]) <= CLV_THETA_MAX))
			return false;
	return true;
}

static double
gsl_f(const gsl_vector *v, void *params)
{
	OptimCtx   *c = params;
	double		theta[CLV_MAX_PARAMS];

	x_to_theta(c, v->data, theta);
	if (!theta_ok(theta, c->n))
		return GSL_POSINF;
	return eval_cached(c, theta, NULL);
}

static void
gsl_fdf(const gsl_vector *v, void *params, double *f, gsl_vector *g)
{
	OptimCtx   *c = params;
	double		theta[CLV_MAX_PARAMS];
	double		grad[CLV_MAX_PARAMS];

	x_to_theta(c, v->data, theta);
	if (!theta_ok(theta, c->n))
	{
		*f = GSL_POSINF;
		gsl_vector_set_zero(g);
		return;
	}
	*f = eval_cached(c, theta, grad);
	for (int j = 0; j < c->n; j++)
	{
		double		gj = grad[j];

		if (c->precond)
		{
			/* d f / d x_j = sum_i M_ij d f / d theta_i */
			gj = 0;
			for (int i = j; i < c->n; i++)
				gj += c->M[i][j] * grad[i];
		}
		gsl_vector_set(g, j, isfinite(*f) ? gj : 0);
	}
}

static void
gsl_df(const gsl_vector *v, void *params, gsl_vector *g)
{
	double		f;

	gsl_fdf(v, params, &f, g);
}

static double
grad_norm_at(OptimCtx *c, const double *theta)
{
	double		grad[CLV_MAX_PARAMS];
	double		s = 0;
	double		f = eval_cached(c, theta, grad);

	if (!isfinite(f))
		return INFINITY;
	for (int i = 0; i < c->n; i++)
		s += grad[i] * grad[i];
	return sqrt(s);
}

/*
 * One BFGS run from theta (updated in place); returns iterations used.
 * With a preconditioner, theta must be c->base (x starts at 0).
 */
static int
run_bfgs(OptimCtx *c, double *theta)
{
	gsl_multimin_function_fdf fdf = {gsl_f, gsl_df, gsl_fdf, (size_t) c->n, c};
	gsl_multimin_fdfminimizer *s;
	double		xstart[CLV_MAX_PARAMS] = {0, 0, 0, 0};
	gsl_vector_view x0 = gsl_vector_view_array(c->precond ? xstart : theta, c->n);
	int			iter = 0;
	double		t[CLV_MAX_PARAMS];

	s = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, c->n);
	if (s == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in GSL")));
	if (gsl_multimin_fdfminimizer_set(s, &fdf, &x0.vector, c->precond ? 1.0 : 0.1, 0.1) == GSL_SUCCESS &&
		isfinite(s->f))
	{
		while (iter < CLV_BFGS_MAXITER)
		{
			int			status = gsl_multimin_fdfminimizer_iterate(s);

			iter++;
			if (status != GSL_SUCCESS || InterruptPending)
				break;
			if (gsl_multimin_test_gradient(s->gradient, CLV_GRAD_TOL * 0.1) == GSL_SUCCESS)
				break;
		}
		x_to_theta(c, s->x->data, t);
		if (isfinite(s->f) && theta_ok(t, c->n))
			memcpy(theta, t, c->n * sizeof(double));
	}
	gsl_multimin_fdfminimizer_free(s);
	/* GSL's memory is malloc'ed: a cancel is served only once it is freed */
	CHECK_FOR_INTERRUPTS();
	return iter;
}

/* Nelder-Mead from theta (updated in place); returns iterations used. */
static int
run_simplex(OptimCtx *c, double *theta)
{
	gsl_multimin_function fn = {gsl_f, (size_t) c->n, c};
	gsl_multimin_fminimizer *s;
	gsl_vector_view x0 = gsl_vector_view_array(theta, c->n);
	gsl_vector *step = gsl_vector_alloc(c->n);
	int			iter = 0;

	gsl_vector_set_all(step, 0.5);
	s = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, c->n);
	if (s == NULL || step == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in GSL")));
	/*
	 * GSL sets s->fval only in a successful iteration (the set call fails on
	 * a non-finite value at a vertex instead), so the best point is taken
	 * only after one.
	 */
	if (gsl_multimin_fminimizer_set(s, &fn, &x0.vector, step) == GSL_SUCCESS)
	{
		while (iter < CLV_NM_MAXITER && !InterruptPending)
		{
			if (gsl_multimin_fminimizer_iterate(s) != GSL_SUCCESS)
				break;
			iter++;
			if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), 1e-10) == GSL_SUCCESS)
				break;
		}
		if (iter > 0 && isfinite(s->fval))
			x_to_theta(c, s->x->data, theta);
	}
	gsl_multimin_fminimizer_free(s);
	gsl_vector_free(step);
	CHECK_FOR_INTERRUPTS();
	return iter;
}

/*
 * Covariance of theta for the mean NLL: the inverse of its Hessian, the
 * analytic one if the model has it (BG/NBD, MBG/NBD: one pass over the rows),
 * else taken by central differences of the analytic gradient (2n passes),
 * symmetrised.  False if the Hessian is not positive definite.
 */
static bool
covariance(OptimCtx *c, const double *theta, double cov[CLV_MAX_PARAMS][CLV_MAX_PARAMS])
{
	int			n = c->n;
	double		H[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	double		t[CLV_MAX_PARAMS];
	double		gp[CLV_MAX_PARAMS],
				gm[CLV_MAX_PARAMS];
	gsl_matrix_view hv = gsl_matrix_view_array(H, n, n);
	bool		ok = true;

	if (c->hfn)
	{
		/* analytic: one pass over the rows */
		c->hfn(c->d, theta, H);
		for (int i = 0; i < n * n; i++)
			if (!isfinite(H[i]))
				return false;
	}
	else
	{
		for (int j = 0; j < n; j++)
		{
			double		h = 1e-4 * Max(1.0, fabs(theta[j]));

			memcpy(t, theta, n * sizeof(double));
			t[j] = theta[j] + h;
			if (!isfinite(c->fn(c->d, t, gp)))
				return false;
			t[j] = theta[j] - h;
			if (!isfinite(c->fn(c->d, t, gm)))
				return false;
			for (int i = 0; i < n; i++)
				H[i * n + j] = (gp[i] - gm[i]) / (2 * h);
		}
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
	if (gsl_linalg_cholesky_decomp1(&hv.matrix) != GSL_SUCCESS ||
		gsl_linalg_cholesky_invert(&hv.matrix) != GSL_SUCCESS)
		return false;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
		{
			cov[i][j] = H[i * n + j];
			if (!isfinite(cov[i][j]))
				ok = false;
		}
	for (int i = 0; i < n; i++)
		if (!(cov[i][i] > 0))
			ok = false;
	return ok;
}

/*
 * Newton steps on the full data with a fixed inverse Hessian (the warm
 * start's, an estimate of the full data's within sampling error): each step
 * costs one evaluation over all rows, and the error shrinks by about the
 * relative error of that Hessian per step.  Steps are taken while the value
 * decreases and the gradient norm at least halves; the point is kept only if
 * the gradient test of BFGS (CLV_GRAD_TOL / 10) is met, so that the optimum
 * is the same as BFGS's to that tolerance.  Returns the steps taken, or -1
 * (theta unchanged) if the iteration failed.
 */
static int
run_newton(OptimCtx *c, double *theta, double cov[CLV_MAX_PARAMS][CLV_MAX_PARAMS])
{
	int			n = c->n;
	double		t[CLV_MAX_PARAMS],
				grad[CLV_MAX_PARAMS];
	double		fprev = INFINITY,
				gprev = INFINITY;

	memcpy(t, theta, n * sizeof(double));
	for (int k = 0; k < CLV_NEWTON_STEPS; k++)
	{
		double		f = eval_cached(c, t, grad),
					gn = 0;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			gn += grad[i] * grad[i];
		gn = sqrt(gn);
		if (!isfinite(f) || !(f <= fprev) || !(gn <= 0.5 * gprev))
			return -1;
		if (gn < CLV_GRAD_TOL * 0.1)
		{
			memcpy(theta, t, n * sizeof(double));
			return k;
		}
		fprev = f;
		gprev = gn;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				t[i] -= cov[i][j] * grad[j];
		if (!theta_ok(t, n))
			return -1;
	}
	return -1;
}

void
clv_minimise(const ClvData *d, ClvObjective fn, ClvHessian hfn, int n, const double *start,
			 ClvFitResult *res)
{
	OptimCtx	c = {d, fn, hfn, n, false};
	double		theta[CLV_MAX_PARAMS];
	double		gn;
	double		f0;
	bool		done = false;

	memset(res, 0, sizeof(*res));
	memcpy(theta, start, n * sizeof(double));
	f0 = fn(d, theta, NULL);
	if (!isfinite(f0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the likelihood is not finite at the start point"),
				 errdetail("The input rows are too extreme for the model.")));

	/*
	 * Warm start: on many distinct rows, BFGS first runs on a systematic
	 * subsample (every k-th row in canonical order), whose optimum lies
	 * within sampling error of the full one; the full problem then needs
	 * far fewer evaluations.  The result is deterministic and still the
	 * full-data optimum: only the start changes.  Newton steps with the
	 * subsample's inverse Hessian come first (a few evaluations over all
	 * rows); if they do not converge, BFGS preconditioned with that
	 * Hessian's Cholesky factor takes over.
	 */
	if (d->nrows > 2 * CLV_WARM_ROWS)
	{
		ClvData		sub;
		OptimCtx	cs = {&sub, fn, hfn, n, false};
		double		warm[CLV_MAX_PARAMS];
		double		cov[CLV_MAX_PARAMS][CLV_MAX_PARAMS];
		double		fw;

		clv_data_subsample(d, d->nrows / CLV_WARM_ROWS, &sub);
		memcpy(warm, theta, n * sizeof(double));
		res->iterations += run_bfgs(&cs, warm);
		fw = eval_cached(&c, warm, NULL);
		if (isfinite(fw) && fw < f0)
		{
			memcpy(theta, warm, n * sizeof(double));
			/* precondition the full problem with the subsample's curvature */
			if (covariance(&cs, warm, cov))
			{
				gsl_matrix_view cv = gsl_matrix_view_array(&cov[0][0], CLV_MAX_PARAMS, CLV_MAX_PARAMS);
				gsl_matrix_view sv = gsl_matrix_submatrix(&cv.matrix, 0, 0, n, n);
				int			steps = run_newton(&c, theta, cov);

				if (steps >= 0)
				{
					res->iterations += steps;
					done = true;
				}
				else if (gsl_linalg_cholesky_decomp1(&sv.matrix) == GSL_SUCCESS)
				{
					c.precond = true;
					memcpy(c.base, theta, n * sizeof(double));
					for (int i = 0; i < n; i++)
						for (int j = 0; j < n; j++)
							c.M[i][j] = j <= i ? gsl_matrix_get(&sv.matrix, i, j) : 0;
					res->iterations += run_bfgs(&c, theta);
					c.precond = false;
				}
			}
		}
	}

	/* BFGS, restarted from where it stopped while the gradient is not small */
	for (int k = 0; k < CLV_BFGS_RESTARTS && !done; k++)
	{
		res->iterations += run_bfgs(&c, theta);
		gn = grad_norm_at(&c, theta);
		if (gn < CLV_GRAD_TOL)
			break;
	}
	/* no progress: Nelder-Mead, then BFGS again to polish */
	gn = grad_norm_at(&c, theta);
	if (!(gn < CLV_GRAD_TOL))
	{
		res->iterations += run_simplex(&c, theta);
		res->iterations += run_bfgs(&c, theta);
		gn = grad_norm_at(&c, theta);
	}
	elog(DEBUG1, "CLV fit: %d iterations, %d evaluations over %lld rows, gradient norm %g",
		 res->iterations, c.evaluations, (long long) d->nrows, gn);
	memcpy(res->theta, theta, n * sizeof(double));
	res->f = eval_cached(&c, theta, NULL);
	res->grad_norm = gn;
	res->converged = isfinite(res->f) && gn < CLV_GRAD_TOL;
	res->have_cov = covariance(&c, theta, res->cov);
}
