/*
 * model_io.c
 *		The type ets_model: text and binary I/O (versioned and validated
 *		alike), equality and hashing, and the accessors.
 *
 * Text form (version 1), doubles in the shortest form that reads back
 * exactly (as float8 prints them), times in ISO form (a timestamptz in UTC):
 *	(v1,ETS(M,Ad,M),period=12,n=176,time=date,last=1994-08-01,step=1mon,
 *	 alpha=...,beta=...,gamma=...,phi=...,sigma2=...,loglik=...,aic=...,
 *	 aicc=...,bic=...,mse=...,init=[l,b,s1,...,s12],state=[...],
 *	 evaluations=1813,converged=true)
 * beta, gamma and phi are present exactly when the model has a trend, a
 * season and damping; init and state hold 1 + trend + m values (s1 is the
 * newest seasonal state, as forecast prints them).  A model of a constant
 * series ends with ",constant=true" and has NaN criteria.  step is a number
 * of days (d), calendar months (mon, or mon-end for month ends) or
 * microseconds (us, timestamptz series).
 *
 * Binary form: version byte, the eleven flag and kind bytes of the struct,
 * period, n, evaluations int4, step, last time int8, the parameters and
 * criteria as float8, nstate int4 and 2 x nstate float8.
 */
#include "ets_model.h"
#include "ets_series.h"

#include <ctype.h>
#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

static const char *const TYPNAME = "ets_model";

/* A zeroed model (NaN parameters and criteria) with its varlena header and version. */
EtsModel *
ets_model_alloc(void)
{
	EtsModel   *m = palloc0(ETS_MODEL_SIZE);

	SET_VARSIZE(m, ETS_MODEL_SIZE);
	m->version = ETS_MODEL_VERSION;
	m->alpha = m->beta = m->gamma = m->phi = NAN;
	m->loglik = m->aic = m->aicc = m->bic = NAN;
	return m;
}

/* Detoasts a stored model and checks that it has this build's layout. */
EtsModel *
ets_model_get(Datum d)
{
	EtsModel   *m = (EtsModel *) PG_DETOAST_DATUM(d);

	if (unlikely(VARSIZE(m) != ETS_MODEL_SIZE || m->version != ETS_MODEL_VERSION))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ets_model has an unknown layout (size %u, version %d)",
						(unsigned) VARSIZE(m), m->version),
				 errhint("The value was written by a newer cxkpi or is corrupted.")));
	return m;
}

/* The model's seasonal period (1 without season). */
int
ets_model_m(const EtsModel *model)
{
	return model->season != ETS_NONE ? model->period : 1;
}

/* The core's form of the model's components. */
static void
model_spec(const EtsModel *model, EtsSpec *spec)
{
	spec->error = model->error;
	spec->trend = model->trend;
	spec->season = model->season;
	spec->damped = model->damped != 0;
}

/* "ETS(M,Ad,M)" into buf (at least 12 bytes). */
void
ets_model_method(const EtsModel *model, char *buf)
{
	EtsSpec		spec;

	model_spec(model, &spec);
	ets_method_name(&spec, buf);
}

/* The core's view of a model, for forecasting. */
void
ets_model_to_fit(const EtsModel *model, EtsFit *fit)
{
	memset(fit, 0, sizeof(*fit));
	model_spec(model, &fit->spec);
	fit->m = ets_model_m(model);
	fit->n = model->n;
	fit->alpha = model->alpha;
	fit->beta = model->beta;
	fit->gamma = model->gamma;
	fit->phi = model->phi;
	fit->nstate = model->nstate;
	memcpy(fit->init, model->init, sizeof(fit->init));
	memcpy(fit->last, model->state, sizeof(fit->last));
	fit->sigma2 = model->sigma2;
	fit->constant = model->constant != 0;
}

/* ------------------------------------------------------------ validation */

/* v in (0, 1], or in [0, 1] when zero_ok. */
static bool
in_unit(double v, bool zero_ok)
{
	return isfinite(v) && v <= 1 && (zero_ok ? v >= 0 : v > 0);
}

/* The invariants every model value satisfies; checked on text and binary input. */
static void
ets_model_validate(const EtsModel *m, int sqlstate, const char *input)
{
	int			nstate;

	if (m->error != ETS_ADD && m->error != ETS_MULT)
		cx_input_error(sqlstate, TYPNAME, input, "The error type must be A or M.");
	if (m->trend != ETS_NONE && m->trend != ETS_ADD)
		cx_input_error(sqlstate, TYPNAME, input, "The trend type must be N, A or Ad.");
	if (m->season > ETS_MULT)
		cx_input_error(sqlstate, TYPNAME, input, "The season type must be N, A or M.");
	if (m->error == ETS_ADD && m->season == ETS_MULT)
		cx_input_error(sqlstate, TYPNAME, input, "Additive errors with a multiplicative season are not supported.");
	if (m->damped > 1 || (m->damped && m->trend == ETS_NONE))
		cx_input_error(sqlstate, TYPNAME, input, "Only a trend can be damped.");
	if (m->constant > 1 || m->converged > 1 || m->month_end > 1)
		cx_input_error(sqlstate, TYPNAME, input, "A flag is neither 0 nor 1.");
	if (m->time_kind != ETS_TIME_DATE && m->time_kind != ETS_TIME_TIMESTAMPTZ)
		cx_input_error(sqlstate, TYPNAME, input, "The time type must be date or timestamptz.");
	if (!(m->step_unit == ETS_STEP_MONTHS ||
		  (m->step_unit == ETS_STEP_DAYS && m->time_kind == ETS_TIME_DATE) ||
		  (m->step_unit == ETS_STEP_USEC && m->time_kind == ETS_TIME_TIMESTAMPTZ)))
		cx_input_error(sqlstate, TYPNAME, input, "The step unit does not fit the time type (d: date, us: timestamptz).");
	if (m->step < 1 || m->step > (m->step_unit == ETS_STEP_USEC ? INT64CONST(1000) * 366 * USECS_PER_DAY : 100000))
		cx_input_error(sqlstate, TYPNAME, input, "The step must be positive (and below 100000 days or months).");
	if (m->month_end && m->step_unit != ETS_STEP_MONTHS)
		cx_input_error(sqlstate, TYPNAME, input, "Only a monthly step can be on month ends.");
	if (m->pad[0] || m->pad[1])
		cx_input_error(sqlstate, TYPNAME, input, "Padding bytes must be 0.");
	if (m->period < 1 || (m->season != ETS_NONE && (m->period < 2 || m->period > ETS_MAX_PERIOD)))
		cx_input_error(sqlstate, TYPNAME, input, "The period must be at least 1, and between 2 and %d for a seasonal model.",
					   ETS_MAX_PERIOD);
	if (m->n < 1 || m->evaluations < 0)
		cx_input_error(sqlstate, TYPNAME, input, "n must be positive and evaluations not negative.");
	nstate = 1 + (m->trend != ETS_NONE) + (m->season != ETS_NONE ? m->period : 0);
	if (m->nstate != nstate)
		cx_input_error(sqlstate, TYPNAME, input, "The model has %d states, not %d.", nstate, m->nstate);
	if (m->time_kind == ETS_TIME_DATE
		? !IS_VALID_DATE(m->last_time)
		: !IS_VALID_TIMESTAMP(m->last_time))
		cx_input_error(sqlstate, TYPNAME, input, "The last time is out of range.");
	if (!in_unit(m->alpha, false))
		cx_input_error(sqlstate, TYPNAME, input, "alpha must be in (0, 1].");
	if (m->trend != ETS_NONE ? !in_unit(m->beta, true) : !isnan(m->beta))
		cx_input_error(sqlstate, TYPNAME, input, "beta must be in [0, 1] with a trend, NaN without.");
	if (m->season != ETS_NONE ? !in_unit(m->gamma, true) : !isnan(m->gamma))
		cx_input_error(sqlstate, TYPNAME, input, "gamma must be in [0, 1] with a season, NaN without.");
	if (m->damped ? !in_unit(m->phi, false) : !isnan(m->phi))
		cx_input_error(sqlstate, TYPNAME, input, "phi must be in (0, 1] with damping, NaN without.");
	if (!(m->sigma2 >= 0 && isfinite(m->sigma2)) || !(m->mse >= 0 && isfinite(m->mse)))
		cx_input_error(sqlstate, TYPNAME, input, "sigma2 and mse must be finite and not negative.");
	if (isinf(m->loglik) || isinf(m->aic) || isinf(m->aicc) || isinf(m->bic))
		cx_input_error(sqlstate, TYPNAME, input, "loglik, aic, aicc and bic must be finite or NaN.");
	for (int i = 0; i < ETS_MAX_STATES; i++)
	{
		if (i < nstate ? !isfinite(m->init[i]) || !isfinite(m->state[i])
			: m->init[i] != 0 || m->state[i] != 0)
			cx_input_error(sqlstate, TYPNAME, input, "States must be finite.");
	}
}

/* ------------------------------------------------------------ text I/O */

/* A double in the shortest form that reads back exactly. */
static void
append_double(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

/* ",name=[x0,x1,...]". */
static void
append_states(StringInfo buf, const char *name, const double *x, int n)
{
	appendStringInfo(buf, ",%s=[", name);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		append_double(buf, x[i]);
	}
	appendStringInfoChar(buf, ']');
}

/* The text form of a model (see the top of this file). */
static char *
ets_model_out_common(const EtsModel *m)
{
	StringInfoData buf;
	char		method[16];

	ets_model_method(m, method);
	initStringInfo(&buf);
	appendStringInfo(&buf, "(v%d,%s,period=%d,n=%d,time=%s,last=%s,step=" INT64_FORMAT "%s",
					 ETS_MODEL_VERSION, method, m->period, m->n,
					 m->time_kind == ETS_TIME_DATE ? "date" : "timestamptz",
					 ets_format_time(m->time_kind, m->last_time), m->step,
					 m->step_unit == ETS_STEP_DAYS ? "d" :
					 m->step_unit == ETS_STEP_USEC ? "us" : m->month_end ? "mon-end" : "mon");
	appendStringInfoString(&buf, ",alpha=");
	append_double(&buf, m->alpha);
	if (m->trend != ETS_NONE)
	{
		appendStringInfoString(&buf, ",beta=");
		append_double(&buf, m->beta);
	}
	if (m->season != ETS_NONE)
	{
		appendStringInfoString(&buf, ",gamma=");
		append_double(&buf, m->gamma);
	}
	if (m->damped)
	{
		appendStringInfoString(&buf, ",phi=");
		append_double(&buf, m->phi);
	}
	appendStringInfoString(&buf, ",sigma2=");
	append_double(&buf, m->sigma2);
	appendStringInfoString(&buf, ",loglik=");
	append_double(&buf, m->loglik);
	appendStringInfoString(&buf, ",aic=");
	append_double(&buf, m->aic);
	appendStringInfoString(&buf, ",aicc=");
	append_double(&buf, m->aicc);
	appendStringInfoString(&buf, ",bic=");
	append_double(&buf, m->bic);
	appendStringInfoString(&buf, ",mse=");
	append_double(&buf, m->mse);
	append_states(&buf, "init", m->init, m->nstate);
	append_states(&buf, "state", m->state, m->nstate);
	appendStringInfo(&buf, ",evaluations=%d,converged=%s", m->evaluations,
					 m->converged ? "true" : "false");
	if (m->constant)
		appendStringInfoString(&buf, ",constant=true");
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * A double as written by append_double: strtod's decimal syntax (and NaN,
 * Infinity), no leading space, no hexadecimal form.  -0 is read as 0 and
 * every NaN as the canonical one, so that equal models are bytewise equal.
 */
static double
scan_double(CxScanner *sc, const char *field)
{
	char	   *end;
	double		v;

	if (isspace((unsigned char) *sc->pos) || *sc->pos == '\0')
		cx_scan_fail(sc, "Expected a number for %s", field);
	errno = 0;
	v = strtod(sc->pos, &end);
	if (end == sc->pos)
		cx_scan_fail(sc, "Expected a number for %s", field);
	for (const char *c = sc->pos; c < end; c++)
		if (*c == 'x' || *c == 'X')
			cx_scan_fail(sc, "Expected a decimal number for %s", field);
	if (errno == ERANGE && fabs(v) == HUGE_VAL)
		cx_scan_fail(sc, "Value of %s is out of range", field);
	sc->pos = end;
	if (isnan(v))
		return NAN;
	return v == 0 ? 0.0 : v;
}

/* ",name=" and a double. */
static double
scan_field_double(CxScanner *sc, const char *name)
{
	char		lit[32];

	snprintf(lit, sizeof(lit), ",%s=", name);
	cx_scan_expect(sc, lit);
	return scan_double(sc, name);
}

/* ",name=" and an integer within int4. */
static int32
scan_field_int32(CxScanner *sc, const char *name)
{
	char		lit[32];
	int64		v;

	snprintf(lit, sizeof(lit), ",%s=", name);
	cx_scan_expect(sc, lit);
	v = cx_scan_int64(sc, name);
	if (v < PG_INT32_MIN || v > PG_INT32_MAX)
		cx_scan_fail(sc, "Value of %s is out of range", name);
	return (int32) v;
}

/* n doubles in brackets: [x,y,...]. */
static void
scan_states(CxScanner *sc, const char *name, double *x, int n)
{
	char		lit[32];

	snprintf(lit, sizeof(lit), ",%s=[", name);
	cx_scan_expect(sc, lit);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			cx_scan_expect(sc, ",");
		x[i] = scan_double(sc, name);
	}
	cx_scan_expect(sc, "]");
}

/* A fixed number of decimal digits. */
static int
scan_digits(CxScanner *sc, int ndigits, const char *what)
{
	int			v = 0;

	for (int i = 0; i < ndigits; i++)
	{
		if (!isdigit((unsigned char) sc->pos[i]))
			cx_scan_fail(sc, "Expected %d digits for %s", ndigits, what);
		v = v * 10 + (sc->pos[i] - '0');
	}
	sc->pos += ndigits;
	return v;
}

/* A time as ets_format_time writes it. */
static int64
scan_time(CxScanner *sc, int time_kind)
{
	int			y,
				mo,
				d,
				h = 0,
				mi = 0,
				s = 0,
				us = 0;
	int64		days;

	y = scan_digits(sc, 4, "the year");
	cx_scan_expect(sc, "-");
	mo = scan_digits(sc, 2, "the month");
	cx_scan_expect(sc, "-");
	d = scan_digits(sc, 2, "the day");
	if (time_kind == ETS_TIME_TIMESTAMPTZ)
	{
		cx_scan_expect(sc, " ");
		h = scan_digits(sc, 2, "the hour");
		cx_scan_expect(sc, ":");
		mi = scan_digits(sc, 2, "the minute");
		cx_scan_expect(sc, ":");
		s = scan_digits(sc, 2, "the second");
		if (cx_scan_accept(sc, "."))
			us = scan_digits(sc, 6, "the microseconds");
		cx_scan_expect(sc, "+00");
	}
	if (cx_scan_accept(sc, " BC"))
		y = 1 - y;
	if (mo < 1 || mo > 12 || d < 1 || d > day_tab[isleap(y)][mo - 1] || h > 23 || mi > 59 || s > 59 ||
		!IS_VALID_JULIAN(y, mo, d))
		cx_scan_fail(sc, "Invalid time");
	days = (int64) date2j(y, mo, d) - POSTGRES_EPOCH_JDATE;
	if (time_kind == ETS_TIME_DATE)
		return days;
	return days * USECS_PER_DAY + ((int64) h * 3600 + mi * 60 + s) * USECS_PER_SEC + us;
}

/* One component letter of the method. */
static int
scan_component(CxScanner *sc, const char *letters, const char *what)
{
	const char *p = strchr(letters, *sc->pos);

	if (*sc->pos == '\0' || p == NULL)
		cx_scan_fail(sc, "Expected %s", what);
	sc->pos++;
	return (int) (p - letters);
}

/* Text input: the literal parsed field by field, then validated (22P02). */
PG_FUNCTION_INFO_V1(ets_model_in);
Datum
ets_model_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	CxScanner	sc;
	EtsModel   *m = ets_model_alloc();
	int64		v;

	cx_scan_init(&sc, str, TYPNAME);
	cx_scan_expect(&sc, "(v");
	v = cx_scan_int64(&sc, "version");
	if (v != ETS_MODEL_VERSION)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, TYPNAME, str,
					   "Unknown format version %lld; this cxkpi reads version %d.",
					   (long long) v, ETS_MODEL_VERSION);
	cx_scan_expect(&sc, ",ETS(");
	m->error = (uint8) scan_component(&sc, "NAM", "the error type A or M");
	cx_scan_expect(&sc, ",");
	m->trend = (uint8) scan_component(&sc, "NAM", "the trend type N, A or Ad");
	if (cx_scan_accept(&sc, "d"))
		m->damped = 1;
	cx_scan_expect(&sc, ",");
	m->season = (uint8) scan_component(&sc, "NAM", "the season type N, A or M");
	cx_scan_expect(&sc, ")");
	if (m->error == ETS_NONE || m->trend == ETS_MULT)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, TYPNAME, str,
					   "The error type must be A or M, the trend N, A or Ad.");
	m->period = scan_field_int32(&sc, "period");
	m->n = scan_field_int32(&sc, "n");
	cx_scan_expect(&sc, ",time=");
	if (cx_scan_accept(&sc, "date"))
		m->time_kind = ETS_TIME_DATE;
	else if (cx_scan_accept(&sc, "timestamptz"))
		m->time_kind = ETS_TIME_TIMESTAMPTZ;
	else
		cx_scan_fail(&sc, "Expected date or timestamptz for time");
	cx_scan_expect(&sc, ",last=");
	m->last_time = scan_time(&sc, m->time_kind);
	cx_scan_expect(&sc, ",step=");
	m->step = cx_scan_int64(&sc, "step");
	if (cx_scan_accept(&sc, "d"))
		m->step_unit = ETS_STEP_DAYS;
	else if (cx_scan_accept(&sc, "us"))
		m->step_unit = ETS_STEP_USEC;
	else if (cx_scan_accept(&sc, "mon-end"))
	{
		m->step_unit = ETS_STEP_MONTHS;
		m->month_end = 1;
	}
	else if (cx_scan_accept(&sc, "mon"))
		m->step_unit = ETS_STEP_MONTHS;
	else
		cx_scan_fail(&sc, "Expected the unit of step: d, mon, mon-end or us");
	m->alpha = scan_field_double(&sc, "alpha");
	if (m->trend != ETS_NONE)
		m->beta = scan_field_double(&sc, "beta");
	if (m->season != ETS_NONE)
		m->gamma = scan_field_double(&sc, "gamma");
	if (m->damped)
		m->phi = scan_field_double(&sc, "phi");
	m->sigma2 = scan_field_double(&sc, "sigma2");
	m->loglik = scan_field_double(&sc, "loglik");
	m->aic = scan_field_double(&sc, "aic");
	m->aicc = scan_field_double(&sc, "aicc");
	m->bic = scan_field_double(&sc, "bic");
	m->mse = scan_field_double(&sc, "mse");
	m->nstate = 1 + (m->trend != ETS_NONE) + (m->season != ETS_NONE ? m->period : 0);
	if (m->nstate > ETS_MAX_STATES || m->period < 1)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, TYPNAME, str,
					   "The period must be at least 1, and between 2 and %d for a seasonal model.",
					   ETS_MAX_PERIOD);
	scan_states(&sc, "init", m->init, m->nstate);
	scan_states(&sc, "state", m->state, m->nstate);
	m->evaluations = scan_field_int32(&sc, "evaluations");
	cx_scan_expect(&sc, ",converged=");
	if (cx_scan_accept(&sc, "true"))
		m->converged = 1;
	else if (!cx_scan_accept(&sc, "false"))
		cx_scan_fail(&sc, "Expected true or false for converged");
	if (cx_scan_accept(&sc, ",constant=true"))
		m->constant = 1;
	cx_scan_expect(&sc, ")");
	cx_scan_end(&sc);
	ets_model_validate(m, ERRCODE_INVALID_TEXT_REPRESENTATION, str);
	PG_RETURN_POINTER(m);
}

/* Text output. */
PG_FUNCTION_INFO_V1(ets_model_out);
Datum
ets_model_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(ets_model_out_common(PG_GETARG_ETS_MODEL(0)));
}

/* ------------------------------------------------------------ binary I/O */

/* Binary output (see the top of this file). */
PG_FUNCTION_INFO_V1(ets_model_send);
Datum
ets_model_send(PG_FUNCTION_ARGS)
{
	EtsModel   *m = PG_GETARG_ETS_MODEL(0);
	StringInfoData buf;
	const double params[] = {m->alpha, m->beta, m->gamma, m->phi, m->sigma2, m->loglik,
	m->aic, m->aicc, m->bic, m->mse};

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, ETS_MODEL_VERSION);
	pq_sendbyte(&buf, m->error);
	pq_sendbyte(&buf, m->trend);
	pq_sendbyte(&buf, m->season);
	pq_sendbyte(&buf, m->damped);
	pq_sendbyte(&buf, m->constant);
	pq_sendbyte(&buf, m->converged);
	pq_sendbyte(&buf, m->time_kind);
	pq_sendbyte(&buf, m->step_unit);
	pq_sendbyte(&buf, m->month_end);
	pq_sendint32(&buf, m->period);
	pq_sendint32(&buf, m->n);
	pq_sendint32(&buf, m->evaluations);
	pq_sendint64(&buf, m->step);
	pq_sendint64(&buf, m->last_time);
	for (int i = 0; i < (int) lengthof(params); i++)
		pq_sendfloat8(&buf, params[i]);
	pq_sendint32(&buf, m->nstate);
	for (int i = 0; i < m->nstate; i++)
		pq_sendfloat8(&buf, m->init[i]);
	for (int i = 0; i < m->nstate; i++)
		pq_sendfloat8(&buf, m->state[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* A float8 with -0 read as 0 and every NaN as the canonical one, as text input does. */
static double
recv_double(StringInfo buf)
{
	double		v = pq_getmsgfloat8(buf);

	if (isnan(v))
		return NAN;
	return v == 0 ? 0.0 : v;
}

/* Binary input: the length checked against the state count, then validated (22P03). */
PG_FUNCTION_INFO_V1(ets_model_recv);
Datum
ets_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	EtsModel   *m = ets_model_alloc();
	int			remaining = buf->len - buf->cursor;
	int			fixed = 10 + 3 * 4 + 2 * 8 + 10 * 8 + 4;
	int			version;
	double	   *params[] = {&m->alpha, &m->beta, &m->gamma, &m->phi, &m->sigma2, &m->loglik,
	&m->aic, &m->aicc, &m->bic, &m->mse};

	if (remaining < fixed)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, TYPNAME, NULL, "The value is truncated.");
	version = pq_getmsgbyte(buf);
	if (version != ETS_MODEL_VERSION)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, TYPNAME, NULL,
					   "Unknown format version %d; this cxkpi reads version %d.",
					   version, ETS_MODEL_VERSION);
	m->error = (uint8) pq_getmsgbyte(buf);
	m->trend = (uint8) pq_getmsgbyte(buf);
	m->season = (uint8) pq_getmsgbyte(buf);
	m->damped = (uint8) pq_getmsgbyte(buf);
	m->constant = (uint8) pq_getmsgbyte(buf);
	m->converged = (uint8) pq_getmsgbyte(buf);
	m->time_kind = (uint8) pq_getmsgbyte(buf);
	m->step_unit = (uint8) pq_getmsgbyte(buf);
	m->month_end = (uint8) pq_getmsgbyte(buf);
	m->period = (int32) pq_getmsgint(buf, 4);
	m->n = (int32) pq_getmsgint(buf, 4);
	m->evaluations = (int32) pq_getmsgint(buf, 4);
	m->step = pq_getmsgint64(buf);
	m->last_time = pq_getmsgint64(buf);
	for (int i = 0; i < (int) lengthof(params); i++)
		*params[i] = recv_double(buf);
	m->nstate = (int32) pq_getmsgint(buf, 4);
	if (m->nstate < 1 || m->nstate > ETS_MAX_STATES)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, TYPNAME, NULL,
					   "The model has %d states, not between 1 and %d.", m->nstate, ETS_MAX_STATES);
	if (remaining != fixed + 2 * 8 * m->nstate)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, TYPNAME, NULL,
					   "Expected %d bytes, got %d.", fixed + 2 * 8 * m->nstate, remaining);
	for (int i = 0; i < m->nstate; i++)
		m->init[i] = recv_double(buf);
	for (int i = 0; i < m->nstate; i++)
		m->state[i] = recv_double(buf);
	ets_model_validate(m, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
	PG_RETURN_POINTER(m);
}

/* ------------------------------------------------------------ equality, hashing */

/* Bytewise equality (models are canonical: -0 as 0, one NaN, unused states 0). */
PG_FUNCTION_INFO_V1(ets_model_eq);
Datum
ets_model_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(memcmp(PG_GETARG_ETS_MODEL(0), PG_GETARG_ETS_MODEL(1), ETS_MODEL_SIZE) == 0);
}

/* Bytewise inequality. */
PG_FUNCTION_INFO_V1(ets_model_ne);
Datum
ets_model_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(memcmp(PG_GETARG_ETS_MODEL(0), PG_GETARG_ETS_MODEL(1), ETS_MODEL_SIZE) != 0);
}

/* Hash of the bytes, consistent with =. */
PG_FUNCTION_INFO_V1(ets_model_hash);
Datum
ets_model_hash(PG_FUNCTION_ARGS)
{
	return hash_any((unsigned char *) PG_GETARG_ETS_MODEL(0), ETS_MODEL_SIZE);
}

/* Seeded 64-bit hash of the bytes. */
PG_FUNCTION_INFO_V1(ets_model_hash_extended);
Datum
ets_model_hash_extended(PG_FUNCTION_ARGS)
{
	return hash_any_extended((unsigned char *) PG_GETARG_ETS_MODEL(0), ETS_MODEL_SIZE,
							 PG_GETARG_INT64(1));
}

/* ------------------------------------------------------------ accessors */

/* method(ets_model): "ETS(M,Ad,M)". */
PG_FUNCTION_INFO_V1(ets_model_method_sql);
Datum
ets_model_method_sql(PG_FUNCTION_ARGS)
{
	char		buf[16];

	ets_model_method(PG_GETARG_ETS_MODEL(0), buf);
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

/* A double, or NULL when it is NaN (not available). */
#define RETURN_FLOAT8_OR_NULL(v) \
	do { double v_ = (v); if (isnan(v_)) PG_RETURN_NULL(); PG_RETURN_FLOAT8(v_); } while (0)

/* (alpha, beta, gamma, phi), NULL for those the model does not have. */
PG_FUNCTION_INFO_V1(ets_model_params);
Datum
ets_model_params(PG_FUNCTION_ARGS)
{
	EtsModel   *m = PG_GETARG_ETS_MODEL(0);
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4];
	double		p[4] = {m->alpha, m->beta, m->gamma, m->phi};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	for (int i = 0; i < 4; i++)
	{
		nulls[i] = isnan(p[i]);
		values[i] = Float8GetDatum(p[i]);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * The states before the first observation (initial = true) or after the
 * last: (level, slope, season float8[]), slope NULL without trend and season
 * NULL without season; season[1] is the newest seasonal state.
 */
static Datum
ets_model_states(FunctionCallInfo fcinfo, bool initial)
{
	EtsModel   *m = PG_GETARG_ETS_MODEL(0);
	const double *x = initial ? m->init : m->state;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			first = m->trend != ETS_NONE ? 2 : 1;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(x[0]);
	if (m->trend != ETS_NONE)
		values[1] = Float8GetDatum(x[1]);
	else
		nulls[1] = true;
	if (m->season != ETS_NONE)
	{
		Datum	   *elems = palloc(m->period * sizeof(Datum));

		for (int i = 0; i < m->period; i++)
			elems[i] = Float8GetDatum(x[first + i]);
		values[2] = PointerGetDatum(construct_array(elems, m->period, FLOAT8OID, sizeof(float8),
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	else
		nulls[2] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* initial_states(ets_model). */
PG_FUNCTION_INFO_V1(ets_model_initial_states);
Datum
ets_model_initial_states(PG_FUNCTION_ARGS)
{
	return ets_model_states(fcinfo, true);
}

/* last_states(ets_model). */
PG_FUNCTION_INFO_V1(ets_model_last_states);
Datum
ets_model_last_states(PG_FUNCTION_ARGS)
{
	return ets_model_states(fcinfo, false);
}

/* aicc(ets_model), NULL for a constant series. */
PG_FUNCTION_INFO_V1(ets_model_aicc);
Datum
ets_model_aicc(PG_FUNCTION_ARGS)
{
	RETURN_FLOAT8_OR_NULL(PG_GETARG_ETS_MODEL(0)->aicc);
}

/* aic(ets_model), NULL for a constant series. */
PG_FUNCTION_INFO_V1(ets_model_aic);
Datum
ets_model_aic(PG_FUNCTION_ARGS)
{
	RETURN_FLOAT8_OR_NULL(PG_GETARG_ETS_MODEL(0)->aic);
}

/* bic(ets_model), NULL for a constant series. */
PG_FUNCTION_INFO_V1(ets_model_bic);
Datum
ets_model_bic(PG_FUNCTION_ARGS)
{
	RETURN_FLOAT8_OR_NULL(PG_GETARG_ETS_MODEL(0)->bic);
}

/* log_likelihood(ets_model), NULL for a constant series. */
PG_FUNCTION_INFO_V1(ets_model_loglik);
Datum
ets_model_loglik(PG_FUNCTION_ARGS)
{
	RETURN_FLOAT8_OR_NULL(PG_GETARG_ETS_MODEL(0)->loglik);
}

/* sigma(ets_model): the square root of the residual variance. */
PG_FUNCTION_INFO_V1(ets_model_sigma);
Datum
ets_model_sigma(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sqrt(PG_GETARG_ETS_MODEL(0)->sigma2));
}

/* mse(ets_model). */
PG_FUNCTION_INFO_V1(ets_model_mse);
Datum
ets_model_mse(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(PG_GETARG_ETS_MODEL(0)->mse);
}

/* observations(ets_model). */
PG_FUNCTION_INFO_V1(ets_model_n);
Datum
ets_model_n(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_ETS_MODEL(0)->n);
}

/* period(ets_model): the series' seasonal period. */
PG_FUNCTION_INFO_V1(ets_model_period);
Datum
ets_model_period(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_ETS_MODEL(0)->period);
}

/* converged(ets_model). */
PG_FUNCTION_INFO_V1(ets_model_converged);
Datum
ets_model_converged(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_ETS_MODEL(0)->converged != 0);
}

/* iterations(ets_model): the minimiser's evaluations for the chosen model. */
PG_FUNCTION_INFO_V1(ets_model_evaluations);
Datum
ets_model_evaluations(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_ETS_MODEL(0)->evaluations);
}
