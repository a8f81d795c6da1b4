/*
 * model_io.c
 *		The model types bgnbd_model, mbgnbd_model and gamma_gamma_model: text
 *		and binary I/O, constructors from known parameters, and accessors.
 *
 * Text form (version 1), doubles in the shortest form that reads back
 * exactly (as float8 prints them):
 *	(v1,r=0.243,alpha=4.414,a=0.793,b=2.426)						built from parameters
 *	(v1,r=...,alpha=...,a=...,b=...,customers=2357,repeaters=946,ll=-9582.4,
 *	 se_r=...,se_alpha=...,se_a=...,se_b=...,converged=true,iterations=31,
 *	 grad_norm=...,penalizer=0)										fitted
 * Gamma-Gamma uses p, q, v.  Binary form: version byte, fitted byte, and
 * for a fitted model converged byte, iterations int4, customers and
 * repeaters int8; then the parameters (and for a fitted model the standard
 * errors, ll, grad_norm and penalizer) as float8.  Both are validated alike.
 */
#include "clv.h"

#include <ctype.h>
#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

static const char *const bg_names[] = {"r", "alpha", "a", "b"};
static const char *const gg_names[] = {"p", "q", "v"};

int
clv_nparams(int kind)
{
	return kind == CLV_GAMMA_GAMMA ? 3 : 4;
}

const char *
clv_typname(int kind)
{
	switch (kind)
	{
		case CLV_BGNBD:
			return "bgnbd_model";
		case CLV_MBGNBD:
			return "mbgnbd_model";
		default:
			return "gamma_gamma_model";
	}
}

const char *const *
clv_param_names(int kind)
{
	return kind == CLV_GAMMA_GAMMA ? gg_names : bg_names;
}

ClvModel *
clv_model_alloc(int kind)
{
	ClvModel   *m = palloc0(CLV_MODEL_SIZE);

	SET_VARSIZE(m, CLV_MODEL_SIZE);
	m->version = CLV_MODEL_VERSION;
	m->kind = (uint8) kind;
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		m->se[i] = NAN;
	m->loglik = NAN;
	m->grad_norm = NAN;
	return m;
}

/* Detoasts a stored model and checks that it has this build's layout. */
ClvModel *
clv_model_get(Datum d, int kind)
{
	ClvModel   *m = (ClvModel *) PG_DETOAST_DATUM(d);

	if (unlikely(VARSIZE(m) != CLV_MODEL_SIZE || m->version != CLV_MODEL_VERSION ||
				 m->kind != kind))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("%s has an unknown layout (size %u, version %d)",
						clv_typname(kind), (unsigned) VARSIZE(m), m->version),
				 errhint("The value was written by a newer cxkpi or is corrupted.")));
	return m;
}

/* Parameters must be positive and finite: 22023 naming them. */
void
clv_check_params(int kind, const double *params)
{
	int			n = clv_nparams(kind);

	for (int i = 0; i < n; i++)
		if (!(params[i] > 0) || isinf(params[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s parameter %s = %g", clv_typname(kind),
							clv_param_names(kind)[i], params[i]),
					 errdetail("Model parameters must be positive and finite.")));
}

/* ------------------------------------------------------------ validation */

/* The invariants every model value satisfies; checked on text and binary input. */
static void
clv_model_validate(const ClvModel *m, int sqlstate, const char *input)
{
	const char *t = clv_typname(m->kind);
	int			n = clv_nparams(m->kind);

	for (int i = 0; i < n; i++)
		if (!(m->params[i] > 0) || isinf(m->params[i]))
			cx_input_error(sqlstate, t, input, "Parameter %s must be positive and finite.",
						   clv_param_names(m->kind)[i]);
	if (!m->fitted)
		return;
	if (m->customers < 1 || m->repeaters < 0 || m->repeaters > m->customers)
		cx_input_error(sqlstate, t, input, "customers must be positive and repeaters between 0 and customers.");
	if (m->iterations < 0)
		cx_input_error(sqlstate, t, input, "iterations must not be negative.");
	for (int i = 0; i < n; i++)
		if (!isnan(m->se[i]) && !(m->se[i] >= 0 && !isinf(m->se[i])))
			cx_input_error(sqlstate, t, input, "Standard errors must be non-negative and finite, or NaN.");
	if (!isfinite(m->loglik))
		cx_input_error(sqlstate, t, input, "ll must be finite.");
	if (!isnan(m->grad_norm) && !(m->grad_norm >= 0 && !isinf(m->grad_norm)))
		cx_input_error(sqlstate, t, input, "grad_norm must be non-negative and finite, or NaN.");
	if (!(m->penalizer >= 0) || isinf(m->penalizer))
		cx_input_error(sqlstate, t, input, "penalizer must be non-negative and finite.");
}

/* ------------------------------------------------------------ text I/O */

static void
append_double(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

/*
 * A double in any decimal spelling strtod reads (and NaN, Infinity), no
 * leading space, no hexadecimal form, stored as the nearest double and so
 * printed in the one shortest form.  Subnormals are accepted (strtod flags
 * them with ERANGE too); only overflow is out of range.  -0 is read as 0 and
 * every NaN (-NaN, a NaN with a payload) as the one NaN that binary input
 * and the fits store, so that equal models are bytewise equal.
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

static void
scan_field(CxScanner *sc, const char *name)
{
	char		lit[32];

	snprintf(lit, sizeof(lit), ",%s=", name);
	cx_scan_expect(sc, lit);
}

static Datum
clv_model_in_common(char *str, int kind)
{
	CxScanner	sc;
	ClvModel   *m = clv_model_alloc(kind);
	int			n = clv_nparams(kind);
	const char *const *names = clv_param_names(kind);
	int64		v;

	cx_scan_init(&sc, str, clv_typname(kind));
	cx_scan_expect(&sc, "(v");
	v = cx_scan_int64(&sc, "version");
	if (v != CLV_MODEL_VERSION)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, clv_typname(kind), str,
					   "Unknown format version %lld; this cxkpi reads version %d.",
					   (long long) v, CLV_MODEL_VERSION);
	for (int i = 0; i < n; i++)
	{
		scan_field(&sc, names[i]);
		m->params[i] = scan_double(&sc, names[i]);
	}
	if (!cx_scan_accept(&sc, ")"))
	{
		m->fitted = 1;
		scan_field(&sc, "customers");
		m->customers = cx_scan_int64(&sc, "customers");
		scan_field(&sc, "repeaters");
		m->repeaters = cx_scan_int64(&sc, "repeaters");
		scan_field(&sc, "ll");
		m->loglik = scan_double(&sc, "ll");
		for (int i = 0; i < n; i++)
		{
			char		se[16];

			snprintf(se, sizeof(se), "se_%s", names[i]);
			scan_field(&sc, se);
			m->se[i] = scan_double(&sc, se);
		}
		scan_field(&sc, "converged");
		if (cx_scan_accept(&sc, "true"))
			m->converged = 1;
		else if (!cx_scan_accept(&sc, "false"))
			cx_scan_fail(&sc, "Expected true or false for converged");
		scan_field(&sc, "iterations");
		v = cx_scan_int64(&sc, "iterations");
		if (v < 0 || v > PG_INT32_MAX)
			cx_scan_fail(&sc, "Value of iterations is out of range");
		m->iterations = (int32) v;
		scan_field(&sc, "grad_norm");
		m->grad_norm = scan_double(&sc, "grad_norm");
		scan_field(&sc, "penalizer");
		m->penalizer = scan_double(&sc, "penalizer");
		cx_scan_expect(&sc, ")");
	}
	cx_scan_end(&sc);
	clv_model_validate(m, ERRCODE_INVALID_TEXT_REPRESENTATION, str);
	PG_RETURN_POINTER(m);
}

static char *
clv_model_out_common(const ClvModel *m)
{
	StringInfoData buf;
	int			n = clv_nparams(m->kind);
	const char *const *names = clv_param_names(m->kind);

	initStringInfo(&buf);
	appendStringInfo(&buf, "(v%d", CLV_MODEL_VERSION);
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(&buf, ",%s=", names[i]);
		append_double(&buf, m->params[i]);
	}
	if (m->fitted)
	{
		appendStringInfo(&buf, ",customers=" INT64_FORMAT ",repeaters=" INT64_FORMAT ",ll=",
						 m->customers, m->repeaters);
		append_double(&buf, m->loglik);
		for (int i = 0; i < n; i++)
		{
			appendStringInfo(&buf, ",se_%s=", names[i]);
			append_double(&buf, m->se[i]);
		}
		appendStringInfo(&buf, ",converged=%s,iterations=%d,grad_norm=",
						 m->converged ? "true" : "false", m->iterations);
		append_double(&buf, m->grad_norm);
		appendStringInfoString(&buf, ",penalizer=");
		append_double(&buf, m->penalizer);
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* ------------------------------------------------------------ binary I/O */

static bytea *
clv_model_send_common(const ClvModel *m)
{
	StringInfoData buf;
	int			n = clv_nparams(m->kind);

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CLV_MODEL_VERSION);
	pq_sendbyte(&buf, m->fitted);
	if (m->fitted)
	{
		pq_sendbyte(&buf, m->converged);
		pq_sendint32(&buf, m->iterations);
		pq_sendint64(&buf, m->customers);
		pq_sendint64(&buf, m->repeaters);
	}
	for (int i = 0; i < n; i++)
		pq_sendfloat8(&buf, m->params[i]);
	if (m->fitted)
	{
		for (int i = 0; i < n; i++)
			pq_sendfloat8(&buf, m->se[i]);
		pq_sendfloat8(&buf, m->loglik);
		pq_sendfloat8(&buf, m->grad_norm);
		pq_sendfloat8(&buf, m->penalizer);
	}
	return pq_endtypsend(&buf);
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

static ClvModel *
clv_model_recv_common(StringInfo buf, int kind)
{
	const char *t = clv_typname(kind);
	int			n = clv_nparams(kind);
	int			remaining = buf->len - buf->cursor;
	int			version,
				fitted;
	int			expect;
	ClvModel   *m = clv_model_alloc(kind);

	if (remaining < 2)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, t, NULL, "The value is truncated.");
	version = pq_getmsgbyte(buf);
	if (version != CLV_MODEL_VERSION)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, t, NULL,
					   "Unknown format version %d; this cxkpi reads version %d.",
					   version, CLV_MODEL_VERSION);
	fitted = pq_getmsgbyte(buf);
	if (fitted != 0 && fitted != 1)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, t, NULL,
					   "The fitted flag is %d, not 0 or 1.", fitted);
	expect = 2 + 8 * n + (fitted ? 1 + 4 + 16 + 8 * (n + 3) : 0);
	if (remaining != expect)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, t, NULL,
					   "Expected %d bytes, got %d.", expect, remaining);
	m->fitted = (uint8) fitted;
	if (fitted)
	{
		int			conv = pq_getmsgbyte(buf);

		if (conv != 0 && conv != 1)
			cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, t, NULL,
						   "The converged flag is %d, not 0 or 1.", conv);
		m->converged = (uint8) conv;
		m->iterations = (int32) pq_getmsgint(buf, 4);
		m->customers = pq_getmsgint64(buf);
		m->repeaters = pq_getmsgint64(buf);
	}
	for (int i = 0; i < n; i++)
		m->params[i] = recv_double(buf);
	if (fitted)
	{
		for (int i = 0; i < n; i++)
			m->se[i] = recv_double(buf);
		m->loglik = recv_double(buf);
		m->grad_norm = recv_double(buf);
		m->penalizer = recv_double(buf);
	}
	clv_model_validate(m, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
	return m;
}

#define CLV_IO_FUNCTIONS(prefix, KIND) \
PG_FUNCTION_INFO_V1(prefix##_in); \
Datum prefix##_in(PG_FUNCTION_ARGS) \
{ return clv_model_in_common(PG_GETARG_CSTRING(0), KIND); } \
PG_FUNCTION_INFO_V1(prefix##_out); \
Datum prefix##_out(PG_FUNCTION_ARGS) \
{ PG_RETURN_CSTRING(clv_model_out_common(PG_GETARG_CLV_MODEL(0, KIND))); } \
PG_FUNCTION_INFO_V1(prefix##_send); \
Datum prefix##_send(PG_FUNCTION_ARGS) \
{ PG_RETURN_BYTEA_P(clv_model_send_common(PG_GETARG_CLV_MODEL(0, KIND))); } \
PG_FUNCTION_INFO_V1(prefix##_recv); \
Datum prefix##_recv(PG_FUNCTION_ARGS) \
{ PG_RETURN_POINTER(clv_model_recv_common((StringInfo) PG_GETARG_POINTER(0), KIND)); } \
PG_FUNCTION_INFO_V1(prefix##_eq); \
Datum prefix##_eq(PG_FUNCTION_ARGS) \
{ PG_RETURN_BOOL(memcmp(PG_GETARG_CLV_MODEL(0, KIND), PG_GETARG_CLV_MODEL(1, KIND), CLV_MODEL_SIZE) == 0); } \
PG_FUNCTION_INFO_V1(prefix##_ne); \
Datum prefix##_ne(PG_FUNCTION_ARGS) \
{ PG_RETURN_BOOL(memcmp(PG_GETARG_CLV_MODEL(0, KIND), PG_GETARG_CLV_MODEL(1, KIND), CLV_MODEL_SIZE) != 0); } \
PG_FUNCTION_INFO_V1(prefix##_hash); \
Datum prefix##_hash(PG_FUNCTION_ARGS) \
{ return hash_any((unsigned char *) PG_GETARG_CLV_MODEL(0, KIND), CLV_MODEL_SIZE); } \
PG_FUNCTION_INFO_V1(prefix##_hash_extended); \
Datum prefix##_hash_extended(PG_FUNCTION_ARGS) \
{ return hash_any_extended((unsigned char *) PG_GETARG_CLV_MODEL(0, KIND), CLV_MODEL_SIZE, PG_GETARG_INT64(1)); }

CLV_IO_FUNCTIONS(bgnbd_model, CLV_BGNBD)
CLV_IO_FUNCTIONS(mbgnbd_model, CLV_MBGNBD)
CLV_IO_FUNCTIONS(gamma_gamma_model, CLV_GAMMA_GAMMA)

/* ------------------------------------------------------------ constructors */

static Datum
clv_construct(FunctionCallInfo fcinfo, int kind)
{
	ClvModel   *m = clv_model_alloc(kind);
	int			n = clv_nparams(kind);

	for (int i = 0; i < n; i++)
		m->params[i] = PG_GETARG_FLOAT8(i);
	clv_check_params(kind, m->params);
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(bgnbd_model_make);
Datum
bgnbd_model_make(PG_FUNCTION_ARGS)
{
	return clv_construct(fcinfo, CLV_BGNBD);
}

PG_FUNCTION_INFO_V1(mbgnbd_model_make);
Datum
mbgnbd_model_make(PG_FUNCTION_ARGS)
{
	return clv_construct(fcinfo, CLV_MBGNBD);
}

PG_FUNCTION_INFO_V1(gamma_gamma_model_make);
Datum
gamma_gamma_model_make(PG_FUNCTION_ARGS)
{
	return clv_construct(fcinfo, CLV_GAMMA_GAMMA);
}

/* ------------------------------------------------------------ accessors */

/*
 * The model's kind from the declared type of argument 0, so that one C
 * function serves all three SQL types.
 */
static ClvModel *
clv_model_arg(FunctionCallInfo fcinfo)
{
	ClvModel   *m = (ClvModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));

	if (VARSIZE(m) != CLV_MODEL_SIZE || m->kind < CLV_BGNBD || m->kind > CLV_GAMMA_GAMMA)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("CLV model value has an unknown layout (size %u)", (unsigned) VARSIZE(m))));
	return clv_model_get(PointerGetDatum(m), m->kind);
}

/* A record of the parameters (se = false) or their standard errors. */
static Datum
clv_params_record(FunctionCallInfo fcinfo, bool se)
{
	ClvModel   *m = clv_model_arg(fcinfo);
	TupleDesc	tupdesc;
	Datum		values[CLV_MAX_PARAMS];
	bool		nulls[CLV_MAX_PARAMS];
	int			n = clv_nparams(m->kind);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts != n)
		elog(ERROR, "return type must have %d columns", n);
	for (int i = 0; i < n; i++)
	{
		double		v = se ? m->se[i] : m->params[i];

		nulls[i] = se && (!m->fitted || isnan(v));
		values[i] = Float8GetDatum(v);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(clv_model_params);
Datum
clv_model_params(PG_FUNCTION_ARGS)
{
	return clv_params_record(fcinfo, false);
}

PG_FUNCTION_INFO_V1(clv_model_stderr);
Datum
clv_model_stderr(PG_FUNCTION_ARGS)
{
	return clv_params_record(fcinfo, true);
}

PG_FUNCTION_INFO_V1(clv_model_loglik);
Datum
clv_model_loglik(PG_FUNCTION_ARGS)
{
	ClvModel   *m = clv_model_arg(fcinfo);

	if (!m->fitted)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(m->loglik);
}

PG_FUNCTION_INFO_V1(clv_model_customers);
Datum
clv_model_customers(PG_FUNCTION_ARGS)
{
	ClvModel   *m = clv_model_arg(fcinfo);

	if (!m->fitted)
		PG_RETURN_NULL();
	PG_RETURN_INT64(m->customers);
}

PG_FUNCTION_INFO_V1(clv_model_repeaters);
Datum
clv_model_repeaters(PG_FUNCTION_ARGS)
{
	ClvModel   *m = clv_model_arg(fcinfo);

	if (!m->fitted)
		PG_RETURN_NULL();
	PG_RETURN_INT64(m->repeaters);
}

PG_FUNCTION_INFO_V1(clv_model_converged);
Datum
clv_model_converged(PG_FUNCTION_ARGS)
{
	ClvModel   *m = clv_model_arg(fcinfo);

	if (!m->fitted)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(m->converged != 0);
}

PG_FUNCTION_INFO_V1(clv_model_iterations);
Datum
clv_model_iterations(PG_FUNCTION_ARGS)
{
	ClvModel   *m = clv_model_arg(fcinfo);

	if (!m->fitted)
		PG_RETURN_NULL();
	PG_RETURN_INT32(m->iterations);
}
