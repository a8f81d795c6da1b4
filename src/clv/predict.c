/*
 * predict.c
 *		Per-customer predictions from a BG/NBD or MBG/NBD model (and a
 *		Gamma-Gamma spend model): P(alive), expected purchases, probability
 *		of no purchase in a horizon, the purchase-count distribution,
 *		expected spend, discounted CLV and a churn-risk band.  Everything is
 *		evaluated in logs (clv-models.md sections 3, 4, 6 and 7); times are in
 *		the model's time unit.
 */
#include "clv.h"

#include <float.h>
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>

#include "miscadmin.h"
#include "utils/builtins.h"

/* Largest number of discounting steps clv() accepts. */
#define CLV_MAX_STEPS	100000

/* A BG/NBD or MBG/NBD model argument. */
static ClvModel *
purchase_model_arg(FunctionCallInfo fcinfo, int n)
{
	ClvModel   *m = (ClvModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n));

	if (VARSIZE(m) != CLV_MODEL_SIZE || (m->kind != CLV_BGNBD && m->kind != CLV_MBGNBD))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("purchase model value has an unknown layout (size %u)", (unsigned) VARSIZE(m))));
	return clv_model_get(PointerGetDatum(m), m->kind);
}

static inline double
logaddexp(double u, double v)
{
	double		mx = Max(u, v);

	if (mx == -INFINITY)
		return mx;
	return mx + log1p(exp(-fabs(u - v)));
}

static inline double
expit(double v)
{
	return v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
}

/*
 * ln((alpha + lo + d1 + d2) / (alpha + lo)) for positive alpha and
 * non-negative lo, d1, d2, none of which overflows: log1p of the quotient,
 * taken in halves when a sum would overflow, and as a difference of logs
 * when the quotient itself would.  (ln(alpha + T) - ln(alpha + t_x) is
 * inf - inf, NaN, once alpha + t_x overflows.)
 */
static double
ln_growth(double alpha, double lo, double d1, double d2)
{
	double		den = alpha + lo,
				num = d1 + d2,
				q;

	if (isfinite(den) && isfinite(num))
	{
		q = num / den;
		return isfinite(q) ? log1p(q) : log(num) - log(den);
	}
	if (isfinite(den))
	{
		/* only num overflows */
		num = 0.5 * d1 + 0.5 * d2;
		q = num / den;
		return q < DBL_MAX / 2 ? log1p(2 * q) : log(num) + M_LN2 - log(den);
	}
	/* den overflows, so its half is at least DBL_MAX / 2 and the quotient at most 2 */
	return log1p((0.5 * d1 + 0.5 * d2) / (0.5 * alpha + 0.5 * lo));
}

/*
 * ln of the ratio of the two terms of the likelihood's second part at t_x
 * (clv-models.md 3, 4): ln B(a+1, b+x-1) - ln B(a, b+x) = ln a - ln(b+x-1)
 * for BG/NBD (x >= 1), ln a - ln(b+x) for MBG/NBD.
 */
static double
ln_dropout_odds(const ClvModel *m, int32 x)
{
	double		a = m->params[2],
				b = m->params[3];

	return log(a) - log(m->kind == CLV_BGNBD ? b + (x - 1) : b + x);
}

/* The second likelihood term's log-odds against the first (clv-models.md 3, 4). */
double
clv_p_alive(const ClvModel *m, int32 x, double tx, double T)
{
	double		r = m->params[0],
				alpha = m->params[1];
	double		lodds;

	if (m->kind == CLV_BGNBD && x == 0)
		return 1.0;
	/* (r + x) ln((alpha + T) / (alpha + t_x)) is in [0, inf]: lodds is never NaN */
	lodds = ln_dropout_odds(m, x) + (r + x) * ln_growth(alpha, tx, T - tx, 0);
	return expit(-lodds);
}

/*
 * P(no purchase in (T, T + t]) = L(x, t_x, T + t) / L(x, t_x, T): both
 * likelihoods divided by (alpha + t_x)^-(r+x), so that each is the sum of
 * ((alpha + t_x) / (alpha + u))^(r+x), u = T + t or T, and the dropout odds,
 * finite terms at most 1 and the odds: no inf - inf when alpha + T or
 * alpha + t_x overflows, no 0 / 0 when the powers underflow.
 */
static double
prob_no_purchase(const ClvModel *m, double t, int32 x, double tx, double T)
{
	double		r = m->params[0],
				alpha = m->params[1];
	double		odds,
				n1,
				n2;

	if (t == 0)
		return 1.0;
	if (m->kind == CLV_BGNBD && x == 0)
		return exp(-r * ln_growth(alpha, T, t, 0));
	odds = ln_dropout_odds(m, x);
	n1 = logaddexp(-(r + x) * ln_growth(alpha, tx, T - tx, t), odds);
	n2 = logaddexp(-(r + x) * ln_growth(alpha, tx, T - tx, 0), odds);
	return Min(1.0, exp(n1 - n2));
}

/* A probability that is not a number in [0, 1] is an error (22003), never a returned value. */
static double
check_probability(double v, const char *what)
{
	if (!(v >= 0 && v <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("The computed value is %g.", v),
				 errhint("The inputs are too extreme for a finite result; check the model's parameters and the customer's row.")));
	return v;
}

/*
 * A prediction that is not a finite non-negative number is an error, never
 * a silently returned value.
 */
static double
check_result(double v, const char *what)
{
	if (!isfinite(v) || v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("The computed value is %g.", v),
				 errhint("The inputs are too extreme for a finite result; check the model's parameters, the horizon and the discount rate.")));
	return v;
}

static void
check_row(int32 x, double tx, double T)
{
	clv_check_rfm(x, tx, T);
}

PG_FUNCTION_INFO_V1(clv_p_alive_sql);
Datum
clv_p_alive_sql(PG_FUNCTION_ARGS)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	int32		x = PG_GETARG_INT32(1);
	double		tx = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3);

	check_row(x, tx, T);
	PG_RETURN_FLOAT8(check_probability(clv_p_alive(m, x, tx, T), "p_alive"));
}

PG_FUNCTION_INFO_V1(clv_expected_purchases_cond);
Datum
clv_expected_purchases_cond(PG_FUNCTION_ARGS)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	double		t = PG_GETARG_FLOAT8(1);
	int32		x = PG_GETARG_INT32(2);
	double		tx = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	double		key[CLV_XT_KEY] = {m->kind, m->params[0], m->params[1], m->params[2], m->params[3], t, 0, 0};
	ClvXtCache *cache;
	double		e;

	clv_check_horizon(t, "horizon");
	check_row(x, tx, T);
	if (t == 0)
		PG_RETURN_FLOAT8(0);
	/* E(t; r + x, alpha + T, a, b + x [+ 1]) depends on (x, T) only */
	cache = clv_xt_cache(fcinfo, key);
	if (!clv_xt_lookup(cache, x, T, &e))
	{
		e = clv_expectation(t, m->params[0] + x, m->params[1] + T, m->params[2],
							m->params[3] + x + (m->kind == CLV_MBGNBD ? 1 : 0));
		clv_xt_store(cache, x, T, e);
	}
	PG_RETURN_FLOAT8(check_result(clv_p_alive(m, x, tx, T) * e, "expected purchases"));
}

PG_FUNCTION_INFO_V1(clv_expected_purchases_new);
Datum
clv_expected_purchases_new(PG_FUNCTION_ARGS)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	double		t = PG_GETARG_FLOAT8(1);
	double		r = m->params[0],
				alpha = m->params[1],
				a = m->params[2],
				b = m->params[3];

	clv_check_horizon(t, "horizon");
	if (m->kind == CLV_BGNBD)
		PG_RETURN_FLOAT8(check_result(clv_expectation(t, r, alpha, a, b), "expected purchases"));
	PG_RETURN_FLOAT8(check_result(b / (a + b) * clv_expectation(t, r, alpha, a, b + 1),
								  "expected purchases"));
}

PG_FUNCTION_INFO_V1(clv_prob_no_purchase);
Datum
clv_prob_no_purchase(PG_FUNCTION_ARGS)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	double		t = PG_GETARG_FLOAT8(1);
	int32		x = PG_GETARG_INT32(2);
	double		tx = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	clv_check_horizon(t, "horizon");
	check_row(x, tx, T);
	PG_RETURN_FLOAT8(check_probability(prob_no_purchase(m, t, x, tx, T), "prob_no_purchase"));
}

/*
 * P(X(t) = n) for a new customer (FHL 2005 eq. 8; for MBG/NBD the same
 * derivation with the extra coin at time 0):
 *	BG/NBD:  B(a,b+n)/B(a,b) NB(n) + [n>0] B(a+1,b+n-1)/B(a,b) P(NB >= n)
 *	MBG/NBD: B(a,b+n+1)/B(a,b) NB(n) + B(a+1,b+n)/B(a,b) P(NB >= n)
 * with NB the negative binomial count of a Gamma(r, alpha) Poisson process
 * in (0, t], and P(NB >= n) = I_z(n, r), z = t / (alpha + t).
 */
PG_FUNCTION_INFO_V1(clv_purchase_probability);
Datum
clv_purchase_probability(PG_FUNCTION_ARGS)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	int32		n = PG_GETARG_INT32(1);
	double		t = PG_GETARG_FLOAT8(2);
	double		r = m->params[0],
				alpha = m->params[1],
				a = m->params[2],
				b = m->params[3];
	double		lbab = gsl_sf_lnbeta(a, b);
	double		lnb,
				z,
				p1,
				p2 = 0,
				tail;
	bool		bg = m->kind == CLV_BGNBD;

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid purchase count %d", n),
				 errdetail("The number of purchases must not be negative.")));
	clv_check_horizon(t, "horizon");
	if (t == 0)
	{
		/* nobody buys in an empty interval */
		PG_RETURN_FLOAT8(n == 0 ? 1.0 : 0.0);
	}
	/* z = t / (alpha + t) and ln z without alpha + t, which may overflow; n ln z is 0 for n = 0 */
	z = 1 / (1 + alpha / t);
	lnb = gsl_sf_lngamma(r + n) - gsl_sf_lngamma(r) - gsl_sf_lngamma(n + 1.0)
		- r * log1p(t / alpha) - (n > 0 ? n * log1p(alpha / t) : 0);
	p1 = exp(gsl_sf_lnbeta(a, bg ? b + n : b + n + 1) - lbab + lnb);
	if (n > 0)
	{
		gsl_sf_result res;
		int			status = gsl_sf_beta_inc_e(n, r, z, &res);

		/* an underflowing tail is a tail of (nearly) 0, not an error */
		if (status == GSL_EUNDRFLW && !(res.val >= 0 && isfinite(res.val)))
			res.val = 0;
		if ((status != GSL_SUCCESS && status != GSL_EUNDRFLW) || !isfinite(res.val))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("purchase probability cannot be computed for n = %d, horizon %g", n, t),
					 errdetail("The incomplete beta function failed (GSL status %d).", status)));
		tail = cx_clamp(res.val, 0, 1);
	}
	else
		tail = 1.0;
	if (n > 0 || !bg)
		p2 = exp(gsl_sf_lnbeta(a + 1, bg ? b + (n - 1) : b + n) - lbab) * tail;
	if (!isfinite(p1 + p2))
		check_result(p1 + p2, "purchase probability");
	PG_RETURN_FLOAT8(cx_clamp(p1 + p2, 0, 1));
}

/* ------------------------------------------------------------ spend and CLV */

static ClvModel *
spend_model_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_GETARG_CLV_MODEL(n, CLV_GAMMA_GAMMA);
}

/* E[M | x, m] = p (v + x m) / (p x + q - 1); the population mean p v / (q - 1) when x = 0. */
double
clv_expected_spend(const ClvModel *g, int32 x, double mbar)
{
	double		p = g->params[0],
				q = g->params[1],
				v = g->params[2];

	if (q <= 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gamma_gamma_model with q = %g has no finite mean spend", q),
				 errdetail("Expected spend needs q > 1 (p = %g, q = %g, v = %g); with q <= 1 the population mean spend is infinite and conditional means are negative or infinite.",
						   p, q, v),
				 errhint("Spend is too heavy-tailed for the Gamma-Gamma model: cap outliers or model spend another way.")));
	/* the same checks and SQLSTATEs as gamma_gamma_fit's rows */
	if (x < 0 || !isfinite(mbar) || mbar < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid spend row: frequency = %d, monetary_value = %g", x, mbar),
				 errdetail("frequency and monetary_value must be finite and not negative.")));
	if (x > 0 && mbar <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid spend row: monetary_value = %g with frequency = %d", mbar, x),
				 errdetail("A repeat customer's mean spend must be positive."),
				 errhint("Leave out customers whose repeat purchases net to 0 or less (refunds, free items).")));

	/*
	 * The shrinkage form (q-1)/(px+q-1) E[M] + px/(px+q-1) m, written as
	 * v / (x + (q-1)/p) + m / (1 + (q-1)/(px)): each quotient is finite or
	 * overflows to infinity (and then its reciprocal is 0), so no step is
	 * inf / inf or 0 * inf, and an overflowing result raises 22003.
	 */
	{
		double		qp = (q - 1) / p;
		double		pop = v / (x + qp);

		if (x == 0)
			return check_result(pop, "expected spend");
		return check_result(pop + mbar / (1 + qp / x), "expected spend");
	}
}

PG_FUNCTION_INFO_V1(clv_expected_spend_sql);
Datum
clv_expected_spend_sql(PG_FUNCTION_ARGS)
{
	ClvModel   *g = spend_model_arg(fcinfo, 0);

	PG_RETURN_FLOAT8(clv_expected_spend(g, PG_GETARG_INT32(1), PG_GETARG_FLOAT8(2)));
}

/*
 * clv(m, g, x, t_x, T, mbar, horizon, discount_rate, step):
 *	E[M] * sum_{k=1..K} (E_Y(t_k) - E_Y(t_{k-1})) / (1 + d)^k
 * with t_k = min(k step, horizon), K = ceil(horizon / step): purchases
 * expected in each step, discounted at the per-step rate d.
 *
 * Since E_Y(t) = P(alive) * E(t; r + x, alpha + T, a, b + x) (clv-models.md
 * 3), clv = E[M] * P(alive) * D with D the discounted sum of the posterior
 * increments.  With alive_only, P(alive) is left out: E[M] * D is the CLV of
 * the customer if still alive (clv_if_alive), computed directly, never as
 * clv / P(alive), which loses every digit when P(alive) underflows.
 */
static double
clv_compute(FunctionCallInfo fcinfo, bool alive_only)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	ClvModel   *g = spend_model_arg(fcinfo, 1);
	int32		x = PG_GETARG_INT32(2);
	double		tx = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4),
				mbar = PG_GETARG_FLOAT8(5),
				horizon = PG_GETARG_FLOAT8(6),
				d = PG_GETARG_FLOAT8(7),
				step = PG_GETARG_FLOAT8(8);
	double		spend,
				palive,
				r,
				alpha,
				a,
				b,
				prev = 0,
				total = 0,
				disc = 1;
	double		ksteps;
	ClvXtCache *cache;

	clv_check_horizon(horizon, "horizon");
	check_row(x, tx, T);
	/* a negative rate (appreciation) is allowed; the result must still be finite */
	if (!(d > -1) || isinf(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid discount_rate %g", d),
				 errdetail("The discount rate per step must be finite and greater than -1 (0.01 is 1 %% per step).")));
	if (!(step > 0) || isinf(step))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid step %g", step),
				 errdetail("The discounting step must be positive and finite, in the model's time unit.")));
	ksteps = ceil(horizon / step);
	if (ksteps > CLV_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon %g is %g steps of %g", horizon, ksteps, step),
				 errdetail("clv() discounts over at most %d steps.", CLV_MAX_STEPS)));
	spend = clv_expected_spend(g, x, mbar);
	palive = alive_only ? 1.0 : clv_p_alive(m, x, tx, T);
	/* the discounted sum of posterior increments depends on (x, T) only */
	{
		double		key[CLV_XT_KEY] = {m->kind, m->params[0], m->params[1], m->params[2],
		m->params[3], horizon, d, step};

		cache = clv_xt_cache(fcinfo, key);
	}
	if (!clv_xt_lookup(cache, x, T, &total))
	{
		int			K = (int) ksteps;
		double		eh;

		r = m->params[0] + x;
		alpha = m->params[1] + T;
		a = m->params[2];
		b = m->params[3] + x + (m->kind == CLV_MBGNBD ? 1 : 0);
		/* everything expected up to the horizon; without discounting the sum telescopes to it */
		eh = clv_expectation(horizon, r, alpha, a, b);
		if (d == 0)
			total = eh;
		else
		{
			/* the posterior expectation at every step end, CLV_MULTI_MAX steps at a time */
			for (int k0 = 1; k0 <= K; k0 += CLV_MULTI_MAX)
			{
				double		tk[CLV_MULTI_MAX],
							e[CLV_MULTI_MAX];
				int			nk = Min(CLV_MULTI_MAX, K - k0 + 1);

				CHECK_FOR_INTERRUPTS();
				for (int j = 0; j < nk; j++)
					tk[j] = Min((k0 + j) * step, horizon);
				clv_expectation_multi(nk, tk, r, alpha, a, b, e);
				for (int j = 0; j < nk; j++)
				{
					disc /= (1 + d);
					total += (e[j] - prev) * disc;
					prev = e[j];
				}

				/*
				 * With d > 0 the remaining steps add at most (E(horizon) -
				 * E(now)) times a discount factor below the current one:
				 * stop once that cannot change the result.
				 */
				if (d > 0 && disc * Max(eh - prev, 0) <= 1e-16 * total)
					break;
				if (!isfinite(total))
					break;
			}
			/* increments are >= 0; a negative sum can only be rounding around 0 */
			if (total < 0 && total >= -1e-12 * eh)
				total = 0;
		}
		check_result(total, "discounted expected purchases");
		clv_xt_store(cache, x, T, total);
	}
	if (alive_only)
		return check_result(spend * total, "clv_if_alive");
	return check_result(spend * palive * total, "clv");
}

PG_FUNCTION_INFO_V1(clv_model_clv);
Datum
clv_model_clv(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(clv_compute(fcinfo, false));
}

/* clv_if_alive(m, g, x, t_x, T, mbar, horizon, discount_rate, step): clv / P(alive), directly. */
PG_FUNCTION_INFO_V1(clv_model_clv_if_alive);
Datum
clv_model_clv_if_alive(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(clv_compute(fcinfo, true));
}

/* 'low' / 'medium' / 'high' for P(no purchase in the horizon) < 1/3, <= 2/3, > 2/3. */
PG_FUNCTION_INFO_V1(clv_churn_risk);
Datum
clv_churn_risk(PG_FUNCTION_ARGS)
{
	ClvModel   *m = purchase_model_arg(fcinfo, 0);
	int32		x = PG_GETARG_INT32(1);
	double		tx = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3),
				t = PG_GETARG_FLOAT8(4);
	double		p0;

	clv_check_horizon(t, "horizon");
	check_row(x, tx, T);
	p0 = check_probability(prob_no_purchase(m, t, x, tx, T), "churn_risk");
	PG_RETURN_TEXT_P(cstring_to_text(p0 < 1.0 / 3 ? "low" : (p0 <= 2.0 / 3 ? "medium" : "high")));
}
