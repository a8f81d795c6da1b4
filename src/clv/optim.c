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
/* Log-parameters beyond this are treated as divergence (e^40 ~ 2e17). */
#define CLV_THETA_MAX		40.0

typedef struct OptimCtx
{
	const ClvData *d;
	ClvObjective fn;
	int			n;
	/* the last evaluation: GSL's line search often asks for f, then for the gradient at the same point */
	bool		have_last;
	double		last_theta[CLV_MAX_PARAMS];
	double		last_f;
	double		last_grad[CLV_MAX_PARAMS];
} OptimCtx;

/* f and gradient at theta, from the cache when theta is the last point evaluated. */
static double
eval_cached(OptimCtx *c, const double *theta, double *grad)
{
	if (!(c->have_last && memcmp(theta, c->last_theta, c->n * sizeof(double)) == 0))
	{
		memcpy(c->last_theta, theta, c->n * sizeof(double));
		c->last_f = c->fn(c->d, theta, c->last_grad);
		c->have_last = true;
	}
	if (grad)
		memcpy(grad, c->last_grad, c->n * sizeof(double));
	return c->last_f;
}

static bool
theta_ok(const gsl_vector *v, int n)
{
	for (int i = 0; i < n; i++)
		if (!(fabs(gsl_vector_get(v, i)) <= CLV_THETA_MAX))
			return false;
	return true;
}

static double
gsl_f(const gsl_vector *v, void *params)
{
	OptimCtx   *c = params;

	if (!theta_ok(v, c->n))
		return GSL_POSINF;
	return eval_cached(c, v->data, NULL);
}

static void
gsl_fdf(const gsl_vector *v, void *params, double *f, gsl_vector *g)
{
	OptimCtx   *c = params;
	double		grad[CLV_MAX_PARAMS];

	CHECK_FOR_INTERRUPTS();
	if (!theta_ok(v, c->n))
	{
		*f = GSL_POSINF;
		gsl_vector_set_zero(g);
		return;
	}
	*f = eval_cached(c, v->data, grad);
	for (int i = 0; i < c->n; i++)
		gsl_vector_set(g, i, isfinite(*f) ? grad[i] : 0);
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

/* One BFGS run from theta (updated in place); returns iterations used. */
static int
run_bfgs(OptimCtx *c, double *theta)
{
	gsl_multimin_function_fdf fdf = {gsl_f, gsl_df, gsl_fdf, (size_t) c->n, c};
	gsl_multimin_fdfminimizer *s;
	gsl_vector_view x0 = gsl_vector_view_array(theta, c->n);
	int			iter = 0;

	s = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, c->n);
	if (s == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in GSL")));
	if (gsl_multimin_fdfminimizer_set(s, &fdf, &x0.vector, 0.1, 0.1) == GSL_SUCCESS &&
		isfinite(s->f))
	{
		while (iter < CLV_BFGS_MAXITER)
		{
			int			status = gsl_multimin_fdfminimizer_iterate(s);

			iter++;
			if (status != GSL_SUCCESS)
				break;
			if (gsl_multimin_test_gradient(s->gradient, CLV_GRAD_TOL * 0.1) == GSL_SUCCESS)
				break;
		}
		if (isfinite(s->f) && theta_ok(s->x, c->n))
			for (int i = 0; i < c->n; i++)
				theta[i] = gsl_vector_get(s->x, i);
	}
	gsl_multimin_fdfminimizer_free(s);
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
	if (gsl_multimin_fminimizer_set(s, &fn, &x0.vector, step) == GSL_SUCCESS && isfinite(s->fval))
	{
		while (iter < CLV_NM_MAXITER)
		{
			CHECK_FOR_INTERRUPTS();
			if (gsl_multimin_fminimizer_iterate(s) != GSL_SUCCESS)
				break;
			iter++;
			if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), 1e-10) == GSL_SUCCESS)
				break;
		}
		if (isfinite(s->fval))
			for (int i = 0; i < c->n; i++)
				theta[i] = gsl_vector_get(s->x, i);
	}
	gsl_multimin_fminimizer_free(s);
	gsl_vector_free(step);
	return iter;
}

/*
 * Covariance of theta for the mean NLL: the inverse of its Hessian, taken
 * by central differences of the analytic gradient (symmetrised).  False if
 * the Hessian is not positive definite.
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

void
clv_minimise(const ClvData *d, ClvObjective fn, int n, const double *start, ClvFitResult *res)
{
	OptimCtx	c = {d, fn, n, false};
	double		theta[CLV_MAX_PARAMS];
	double		gn;

	memset(res, 0, sizeof(*res));
	memcpy(theta, start, n * sizeof(double));
	if (!isfinite(fn(d, theta, NULL)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the likelihood is not finite at the start point"),
				 errdetail("The input rows are too extreme for the model.")));

	/* BFGS, restarted from where it stopped while the gradient is not small */
	for (int k = 0; k < CLV_BFGS_RESTARTS; k++)
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
	memcpy(res->theta, theta, n * sizeof(double));
	res->f = fn(d, theta, NULL);
	res->grad_norm = gn;
	res->converged = isfinite(res->f) && gn < CLV_GRAD_TOL;
	res->have_cov = covariance(&c, theta, res->cov);
}
