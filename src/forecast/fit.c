/*
 * fit.c
 *		The final function of ets_fit: sort the series, check it (duplicates,
 *		step, gaps), read the options, fit (select.c) and turn the result into
 *		an ets_model; every reason a series cannot be fitted is an error with
 *		its SQLSTATE, a detail naming the offending rows and a hint.
 */
#include "ets_model.h"
#include "ets_series.h"

#include <ctype.h>
#include <math.h>

#include "miscadmin.h"

/* ------------------------------------------------------------ host hooks of the core */

/* Memory of the core: the current context (the final function's, reset after the group). */
void *
ets_alloc(size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_HUGE);
}

/* The core's cancellation point: a query cancel or backend termination is served here. */
void
ets_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/* ------------------------------------------------------------ options */

/* 22P02 for a malformed model specification, with the reason and the grammar as hint. */
static void
spec_error(const char *spec, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid ETS model specification \"%s\"", spec),
			 errdetail("%s", why),
			 errhint("Three letters, as forecast::ets's model argument: error A, M or Z; trend N, A, Ad or Z; "
					 "season N, A, M or Z (Z: chosen by AICc). Examples: 'ZZZ', 'MAM', 'AAdN', 'ETS(M,Ad,M)'.")));
}

/*
 * Reads a specification ('ZZZ', 'MAdM', 'ETS(M,Ad,M)', any case) into req;
 * a 'd' after the trend letter asks for damping.
 */
static void
parse_spec(const char *spec, EtsRequest *req)
{
	char		c[8];
	int			nc = 0;
	const char *p = spec;
	int			i = 0;

	while (isspace((unsigned char) *p))
		p++;
	if (pg_strncasecmp(p, "ETS(", 4) == 0)
		p += 4;
	for (; *p; p++)
	{
		if (*p == ',' || *p == ')' || isspace((unsigned char) *p))
			continue;
		if (nc == (int) sizeof(c))
			spec_error(spec, "Too many letters.");
		c[nc++] = *p;
	}
	if (nc < 3)
		spec_error(spec, "Too few letters.");

	switch (toupper((unsigned char) c[i++]))
	{
		case 'A':
			req->error = ETS_ADD;
			break;
		case 'M':
			req->error = ETS_MULT;
			break;
		case 'Z':
			req->error = -1;
			break;
		default:
			spec_error(spec, "The error type (first letter) must be A, M or Z.");
	}
	switch (toupper((unsigned char) c[i++]))
	{
		case 'N':
			req->trend = ETS_NONE;
			break;
		case 'A':
			req->trend = ETS_ADD;
			break;
		case 'Z':
			req->trend = -1;
			break;
		case 'M':
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("multiplicative trends are not supported (model \"%s\")", spec),
					 errdetail("forecast::ets leaves them out of its search by default (allow.multiplicative.trend = FALSE): their forecasts explode."),
					 errhint("Use an additive or damped trend ('A' or 'Ad').")));
			break;
		default:
			spec_error(spec, "The trend type (second letter) must be N, A, Ad or Z.");
	}
	req->damped = -1;
	if (i < nc && (c[i] == 'd' || c[i] == 'D'))
	{
		req->damped = 1;
		i++;
	}
	if (i >= nc)
		spec_error(spec, "The season type is missing.");
	switch (toupper((unsigned char) c[i++]))
	{
		case 'N':
			req->season = ETS_NONE;
			break;
		case 'A':
			req->season = ETS_ADD;
			break;
		case 'M':
			req->season = ETS_MULT;
			break;
		case 'Z':
			req->season = -1;
			break;
		default:
			spec_error(spec, "The season type (last letter) must be N, A, M or Z.");
	}
	if (i != nc)
		spec_error(spec, "Unexpected letters after the season type.");
	if (req->damped == 1 && req->trend == ETS_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a damped trend needs a trend (model \"%s\")", spec),
				 errhint("Write 'Ad' or 'Z' as the trend.")));
}

/* ------------------------------------------------------------ errors */

/* The letter of one requested component: N, A, Ad, M, or Z (left to the search). */
static const char *
letter(int comp, bool damped_allowed, int damped)
{
	switch (comp)
	{
		case ETS_NONE:
			return "N";
		case ETS_ADD:
			return damped_allowed && damped == 1 ? "Ad" : "A";
		case ETS_MULT:
			return "M";
		default:
			return "Z";
	}
}

/* The request as a forecast::ets model string, for messages: "ETS(M,Z,A)". */
static char *
request_name(const EtsRequest *req)
{
	return psprintf("ETS(%s,%s,%s)", letter(req->error, false, 0),
					letter(req->trend, true, req->damped), letter(req->season, false, 0));
}

/* The fewest observations forecast::ets fits the request with (below, it falls back to Holt-Winters). */
static int
min_length(const EtsRequest *req, int period)
{
	int			npars = 2;

	if (req->trend == ETS_ADD)
		npars += 2;
	if (req->season == ETS_ADD || req->season == ETS_MULT)
		npars += period;
	if (req->damped >= 0)
		npars += req->damped;
	return npars + 5;
}

/* The error for a status of ets_auto() other than ETS_OK: 22023 with a detail and a hint. */
static void
status_error(EtsStatus status, const EtsRequest *req, const EtsSeriesState *st, int period)
{
	char	   *name = request_name(req);

	switch (status)
	{
		case ETS_TOO_SHORT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series is too short for %s", name),
					 errdetail("It has " INT64_FORMAT " observations; this model needs at least %d.",
							   st->n, min_length(req, period)),
					 errhint("Fit a model with fewer components (no season: model 'ZZN'), or collect more history.")));
			break;
		case ETS_NOT_POSITIVE:
			{
				int64		i = 0;

				while (i < st->n - 1 && st->rows[i].v > 0)
					i++;
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("multiplicative errors need positive values, and the series has %g at %s",
								st->rows[i].v, ets_format_time(st->time_kind, st->rows[i].t)),
						 errdetail("A model with multiplicative errors (%s) describes relative changes of a positive series.", name),
						 errhint("Use additive errors ('A' or 'Z' as the first letter: Z leaves out M when a value is 0 or negative).")));
			}
			break;
		case ETS_FORBIDDEN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s is not an admissible combination", name),
					 req->damped == 1 && req->trend == ETS_NONE
					 ? errdetail("A damped trend needs a trend.")
					 : errdetail("Additive errors with a multiplicative season can have an infinite forecast variance; forecast::ets refuses them (restrict = TRUE), and so does cxkpi."),
					 errhint("Use multiplicative errors with a multiplicative season ('MZM'), or an additive season.")));
			break;
		case ETS_SEASON_NEEDS_PERIOD:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s asks for a season, and the series has no seasonal period", name),
					 errdetail("The period is 1 (given, or inferred from the time step)."),
					 errhint("Pass the period (7 for a weekly pattern in daily data, 12 for a yearly one in monthly data).")));
			break;
		case ETS_PERIOD_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("seasonal period %d is too long for %s", period, name),
					 errdetail("An ETS model estimates one initial state per position in the season; like forecast::ets, cxkpi fits seasonal models up to period 24."),
					 errhint("Aggregate to a coarser step (weeks to months), or leave the season to the search ('Z'): it is then left out.")));
			break;
		case ETS_SEASON_TOO_SHORT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series is too short for %s", name),
					 errdetail("It has " INT64_FORMAT " observations, not more than one season of %d.", st->n, period),
					 errhint("Fit a model without season ('ZZN'), or collect more history.")));
			break;
		case ETS_NO_MODEL:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no %s model could be estimated for this series", name),
					 errdetail("Every candidate had too many parameters for the " INT64_FORMAT " observations, or a likelihood that is not finite.", st->n),
					 errhint("Fit a simpler model ('ZZN'), or check the series for extreme values.")));
			break;
		case ETS_OK:
			break;
	}
}

/* -0 as 0, every NaN as the canonical one: equal models are bytewise equal. */
static double
canonical(double v)
{
	if (isnan(v))
		return NAN;
	return v == 0 ? 0.0 : v;
}

/* ------------------------------------------------------------ final function */

/*
 * ets_fit's final function: the series sorted and checked, the options
 * read, the model fitted; NULL for a group without rows.
 */
PG_FUNCTION_INFO_V1(ets_fit_final);
Datum
ets_fit_final(PG_FUNCTION_ARGS)
{
	EtsSeriesState *st;
	EtsModel   *model;
	EtsRequest	req = {-1, -1, -1, -1};
	EtsFit		fit;
	EtsStatus	status;
	double	   *y;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ets_fit final function called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (EtsSeriesState *) PG_GETARG_POINTER(0);
	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();

	if (st->have_spec)
		parse_spec(st->spec, &req);
	if (st->damped >= 0)
	{
		if (req.damped == 1 && st->damped == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model \"%s\" asks for a damped trend, and damped is false", st->spec)));
		req.damped = st->damped;
		if (req.damped == 1 && req.trend == ETS_NONE)
			status_error(ETS_FORBIDDEN, &req, st, 1);
	}

	ets_series_sort(st);
	for (int64 i = 1; i < st->n; i++)
		if (st->rows[i].t == st->rows[i - 1].t)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series has two values at %s",
							ets_format_time(st->time_kind, st->rows[i].t)),
					 errdetail("Values %g and %g; a series has one value per time.",
							   st->rows[i - 1].v, st->rows[i].v),
					 errhint("Aggregate the rows of each time first (GROUP BY the time, sum the values), or group by the column that tells the series apart.")));
	if (st->n > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the series has too many observations (" INT64_FORMAT ")", st->n)));
	if (st->n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the series is too short for %s", request_name(&req)),
				 errdetail("It has 1 observation; a model needs at least %d.", min_length(&req, 1)),
				 errhint("Collect more history.")));

	model = ets_model_alloc();
	model->time_kind = st->time_kind;
	ets_series_step(st, model);
	if (st->period >= 0)
		model->period = st->period;

	y = palloc_extended(st->n * sizeof(double), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < st->n; i++)
		y[i] = st->rows[i].v;
	status = ets_auto(y, (int) st->n, model->period, &req, &fit, NULL);
	if (status != ETS_OK)
		status_error(status, &req, st, model->period);

	model->error = (uint8) fit.spec.error;
	model->trend = (uint8) fit.spec.trend;
	model->season = (uint8) fit.spec.season;
	model->damped = fit.spec.damped ? 1 : 0;
	model->constant = fit.constant ? 1 : 0;
	model->converged = fit.converged ? 1 : 0;
	model->n = fit.n;
	model->evaluations = fit.fncount;
	model->nstate = fit.nstate;
	model->last_time = st->rows[st->n - 1].t;
	model->alpha = canonical(fit.alpha);
	model->beta = canonical(fit.beta);
	model->gamma = canonical(fit.gamma);
	model->phi = canonical(fit.phi);
	model->sigma2 = canonical(fit.sigma2);
	model->loglik = canonical(fit.loglik);
	model->aic = canonical(fit.aic);
	model->aicc = canonical(fit.aicc);
	model->bic = canonical(fit.bic);
	model->mse = canonical(fit.mse);
	for (int i = 0; i < fit.nstate; i++)
	{
		model->init[i] = canonical(fit.init[i]);
		model->state[i] = canonical(fit.last[i]);
	}
	for (int i = 0; i < fit.nstate; i++)
		if (!isfinite(model->init[i]) || !isfinite(model->state[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the fitted ETS model has states outside the range of double precision"),
					 errhint("Rescale the series.")));
	if (!isfinite(model->sigma2))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the fitted ETS model has an error variance outside the range of double precision"),
				 errhint("Rescale the series.")));
	PG_RETURN_POINTER(model);
}
