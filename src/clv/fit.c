/*
 * fit.c
 *		Final functions of bgnbd_fit, mbgnbd_fit and gamma_gamma_fit: sort
 *		and merge the histogram, scale, minimise, and turn the result into a
 *		model in the caller's units, with standard errors and a fit report.
 *
 * Standard errors: Cov(theta) = H^-1 / W, with H the Hessian of the mean
 * NLL in log-parameters (central differences of the analytic gradient) and
 * W the number of customers; the delta method gives se(psi_j) =
 * psi_j * sqrt(Cov(theta)_jj) for psi_j = exp(theta_j) in the caller's units
 * (scaling is a shift of theta and does not change Cov).
 */
#include "clv.h"

#include <math.h>

/* A scaled parameter beyond this is reported as weakly identified. */
#define CLV_WEAK_ID		1e4

static void
fill_model(ClvModel *m, const ClvFitState *st, const ClvData *d, const ClvFitResult *res,
		   const double *params, double loglik)
{
	int			n = clv_nparams(m->kind);
	int64		customers = 0,
				repeaters = 0;

	for (int64 i = 0; i < st->n; i++)
	{
		customers = cx_add_counts(customers, st->rows[i].w, "customer count");
		if (st->rows[i].x > 0)
			repeaters = cx_add_counts(repeaters, st->rows[i].w, "customer count");
	}
	m->fitted = 1;
	m->converged = res->converged ? 1 : 0;
	m->iterations = res->iterations;
	m->customers = customers;
	m->repeaters = repeaters;
	/* diagnostics that are not finite are "not available" (NaN): the text form must read back */
	if (!isfinite(loglik))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s fit has a log-likelihood of %g at its optimum", clv_typname(m->kind), loglik),
				 errhint("Rescale the input (other time or currency units).")));
	m->loglik = loglik;
	m->grad_norm = isfinite(res->grad_norm) ? res->grad_norm : NAN;
	m->penalizer = st->penalizer == 0 ? 0.0 : st->penalizer;
	for (int i = 0; i < n; i++)
	{
		double		se = res->have_cov ? params[i] * sqrt(res->cov[i][i] / d->wsum) : NAN;

		if (!(params[i] > 0) || isinf(params[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s fit gives %s = %g, outside the range of double precision",
							clv_typname(m->kind), clv_param_names(m->kind)[i], params[i]),
					 errhint("Rescale the input (other time or currency units).")));
		m->params[i] = params[i];
		m->se[i] = isfinite(se) && se >= 0 ? se : NAN;
	}
}

static void
report(const ClvModel *m, const ClvFitResult *res)
{
	int			n = clv_nparams(m->kind);

	if (!res->converged)
		ereport(WARNING,
				(errmsg("%s fit did not converge", clv_typname(m->kind)),
				 errdetail("Gradient norm %g after %d iterations; the model is returned with converged = false.",
						   res->grad_norm, res->iterations),
				 errhint("Check the input for extreme rows, or try a small penalizer.")));
	for (int i = 0; i < n; i++)
		if (fabs(res->theta[i]) > log(CLV_WEAK_ID))
			ereport(WARNING,
					(errmsg("%s parameter %s is weakly identified", clv_typname(m->kind),
							clv_param_names(m->kind)[i]),
					 errdetail("Its value on the fitting scale is %g, beyond 1e4 or below 1e-4.",
							   exp(res->theta[i]))));
	if (!res->have_cov)
		ereport(WARNING,
				(errmsg("%s standard errors are not available", clv_typname(m->kind)),
				 errdetail("The Hessian of the likelihood is not positive definite at the optimum.")));
}

static void
no_repeaters(int kind)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot fit a %s without repeat customers", clv_typname(kind)),
			 errdetail("Every row has frequency 0, so the model's parameters are not identified.")));
}

static Datum
bgnbd_final_common(FunctionCallInfo fcinfo, int kind)
{
	ClvFitState *st;
	ClvData		d;
	ClvFitResult res;
	ClvModel   *m;
	double		start[4] = {0, 0, 0, 0};
	double		params[4];
	double		sumx = 0;
	double		pen;
	bool		any_repeat = false;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (ClvFitState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	clv_state_compact(st);
	for (int64 i = 0; i < st->n; i++)
	{
		any_repeat |= st->rows[i].x > 0;
		sumx += (double) st->rows[i].w * st->rows[i].x;
	}
	if (!any_repeat)
		no_repeaters(kind);
	clv_data_prepare(&d, st);
	clv_minimise(&d, clv_bgnbd_nll, clv_bgnbd_hessian, 4, start, &res);

	m = clv_model_alloc(kind);
	for (int i = 0; i < 4; i++)
		params[i] = exp(res.theta[i]);
	params[1] /= d.scale;		/* alpha back to the input time unit */
	/* the plain log-likelihood, in the input units */
	pen = d.penalizer;
	d.penalizer = 0;
	fill_model(m, st, &d, &res, params,
			   -(pen == 0 ? res.f : clv_bgnbd_nll(&d, res.theta, NULL)) * d.wsum + log(d.scale) * sumx);
	d.penalizer = pen;
	report(m, &res);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(bgnbd_fit_final);
Datum
bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return bgnbd_final_common(fcinfo, CLV_BGNBD);
}

PG_FUNCTION_INFO_V1(mbgnbd_fit_final);
Datum
mbgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return bgnbd_final_common(fcinfo, CLV_MBGNBD);
}

PG_FUNCTION_INFO_V1(gamma_gamma_fit_final);
Datum
gamma_gamma_fit_final(PG_FUNCTION_ARGS)
{
	ClvFitState *st;
	ClvData		d;
	ClvFitResult res;
	ClvModel   *m;
	double		start[3] = {0, 0, 0};
	double		params[3];
	double		pen;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (ClvFitState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		no_repeaters(CLV_GAMMA_GAMMA);
	clv_state_compact(st);
	clv_data_prepare(&d, st);
	clv_minimise(&d, clv_gg_nll, NULL, 3, start, &res);

	m = clv_model_alloc(CLV_GAMMA_GAMMA);
	for (int i = 0; i < 3; i++)
		params[i] = exp(res.theta[i]);
	params[2] /= d.scale;		/* v back to the input currency */
	pen = d.penalizer;
	d.penalizer = 0;
	fill_model(m, st, &d, &res, params,
			   -(pen == 0 ? res.f : clv_gg_nll(&d, res.theta, NULL)) * d.wsum + log(d.scale) * d.wsum);
	report(m, &res);
	PG_RETURN_POINTER(m);
}
