/*
 * predict.c
 *		Forecast means and variances h steps ahead, from the state after the
 *		last observation, with the analytic formulas of Hyndman, Koehler,
 *		Ord & Snyder (2008), chapter 6, for the three classes of models the
 *		search can choose:
 *
 *	class 1: additive errors, trend N/A/Ad, season N/A (linear models)
 *		mean_h = w' F^{h-1} x_n,  var_h = sigma2 (1 + sum_{j<h} c_j^2),
 *		c_j = w' F^{j-1} g;
 *	class 2: multiplicative errors, the same components
 *		theta_1 = mean_1^2, theta_h = mean_h^2 + sigma2 sum_{j<h} c_j^2 theta_{h-j},
 *		var_h = (1 + sigma2) theta_h - mean_h^2;
 *	class 3: multiplicative errors and season, trend N/A/Ad
 *		the exact first two moments of y_{n+h} = (w1' z) (w2' s) (1 + e),
 *		z = (l, b) and s the seasonal states, propagated as the matrix
 *		M_h = E[z s'] and the covariance V_h of vec(z s') (section 6.3).
 *
 * Prediction intervals are mean +- z_{level} sqrt(var), as forecast's
 * forecast.ets() draws them for these classes.  Two details differ from
 * forecast 8.20-8.23, both corrected upstream or here on purpose
 * (docs/forecasting.md, "Differences from R"): class 1 and 2 put gamma on
 * the newest seasonal state (forecast 8.23 on the third state, which is
 * wrong without trend; fixed in forecast 9), and class 3 with a damped
 * trend uses w1 = (1, phi) with its transition (forecast: (1, 1)).
 */
#include "ets.h"

#include <math.h>
#include <string.h>

/* v := F v for the linear part (class 1 and 2): level, trend, seasonal shift. */
static void
linear_transition(const EtsFit *fit, double phi, double *v)
{
	int			first = fit->spec.trend != ETS_NONE ? 2 : 1;

	if (fit->spec.trend != ETS_NONE)
	{
		v[0] = v[0] + phi * v[1];
		v[1] = phi * v[1];
	}
	if (fit->spec.season != ETS_NONE)
	{
		int			m = fit->m;
		double		oldest = v[first + m - 1];

		memmove(&v[first + 1], &v[first], (m - 1) * sizeof(double));
		v[first] = oldest;
	}
}

/* w' v: the level, the damped trend and the seasonal state the next observation uses. */
static double
linear_observe(const EtsFit *fit, double phi, const double *v)
{
	int			first = fit->spec.trend != ETS_NONE ? 2 : 1;
	double		r = v[0];

	if (fit->spec.trend != ETS_NONE)
		r += phi * v[1];
	if (fit->spec.season != ETS_NONE)
		r += v[first + fit->m - 1];
	return r;
}

/* Classes 1 and 2: means, and c_j into c[1 .. h-1]. */
static void
linear_means(const EtsFit *fit, int h, double *mean, double *c)
{
	double		phi = fit->spec.damped ? fit->phi : 1.0;
	double		x[ETS_MAX_STATES],
				g[ETS_MAX_STATES];
	int			first = fit->spec.trend != ETS_NONE ? 2 : 1;

	memcpy(x, fit->last, fit->nstate * sizeof(double));
	memset(g, 0, sizeof(g));
	g[0] = fit->alpha;
	if (fit->spec.trend != ETS_NONE)
		g[1] = fit->beta;
	if (fit->spec.season != ETS_NONE)
		g[first] = fit->gamma;
	for (int i = 0; i < h; i++)
	{
		mean[i] = linear_observe(fit, phi, x);
		linear_transition(fit, phi, x);
		if (i + 1 < h)
		{
			c[i + 1] = linear_observe(fit, phi, g);
			linear_transition(fit, phi, g);
		}
		if ((i & 1023) == 1023)
			ets_check_interrupts();
	}
}

/* out = A B for dense n x n matrices (row-major), skipping the zeros of A. */
static void
matmul(int n, const double *A, const double *B, double *out)
{
	memset(out, 0, (size_t) n * n * sizeof(double));
	for (int i = 0; i < n; i++)
		for (int k = 0; k < n; k++)
		{
			double		a = A[i * n + k];

			if (a == 0)
				continue;
			for (int j = 0; j < n; j++)
				out[i * n + j] += a * B[k * n + j];
		}
}

/* out = A B' (row-major), skipping the zeros of B. */
static void
matmul_t(int n, const double *A, const double *B, double *out)
{
	memset(out, 0, (size_t) n * n * sizeof(double));
	for (int j = 0; j < n; j++)
		for (int k = 0; k < n; k++)
		{
			double		b = B[j * n + k];

			if (b == 0)
				continue;
			for (int i = 0; i < n; i++)
				out[i * n + j] += A[i * n + k] * b;
		}
}

/* A (a_r x a_c) kron B (b_r x b_c) into out, row-major. */
static void
kron(const double *A, int ar, int ac, const double *B, int br, int bc, double *out)
{
	int			cols = ac * bc;

	for (int i = 0; i < ar; i++)
		for (int j = 0; j < ac; j++)
			for (int k = 0; k < br; k++)
				for (int l = 0; l < bc; l++)
					out[(i * br + k) * cols + j * bc + l] = A[i * ac + j] * B[k * bc + l];
}

/*
 * Class 3.  With vec stacking the columns of the q x m matrix z s', a
 * product A X B' is (B kron A) vec(X); D = q m.
 */
static void
class3(const EtsFit *fit, int h, double *mean, double *var)
{
	int			m = fit->m;
	int			q = fit->spec.trend != ETS_NONE ? 2 : 1;
	int			D = q * m;
	double		phi = fit->spec.damped ? fit->phi : 1.0;
	double		s2 = fit->sigma2;
	double		F1[4],
				G1[4],
				H1[2];
	double	   *F2 = ets_alloc(m * m * sizeof(double));
	double	   *G2 = ets_alloc(m * m * sizeof(double));
	size_t		DD = (size_t) D * D;
	double	   *F21 = ets_alloc(DD * sizeof(double));
	double	   *G21 = ets_alloc(DD * sizeof(double));
	double	   *K = ets_alloc(DD * sizeof(double));
	double	   *tmp = ets_alloc(DD * sizeof(double));
	double	   *V = ets_alloc(DD * sizeof(double));
	double	   *Vn = ets_alloc(DD * sizeof(double));
	double	   *W = ets_alloc(DD * sizeof(double));
	double	   *T1 = ets_alloc(DD * sizeof(double));
	double	   *T2 = ets_alloc(DD * sizeof(double));
	double		M[2 * ETS_MAX_PERIOD],
				Mn[2 * ETS_MAX_PERIOD];
	int			hsel[2 * ETS_MAX_PERIOD];	/* vec positions of H2 kron H1 */
	double		hval[2 * ETS_MAX_PERIOD];

	/* the trend part: z_t = (F1 + G1 e_t) z_{t-1}, observed through H1 */
	if (q == 1)
	{
		F1[0] = 1;
		G1[0] = fit->alpha;
		H1[0] = 1;
	}
	else
	{
		F1[0] = 1;
		F1[1] = phi;
		F1[2] = 0;
		F1[3] = phi;
		G1[0] = fit->alpha;
		G1[1] = fit->alpha * phi;
		G1[2] = fit->beta;
		G1[3] = fit->beta * phi;
		H1[0] = 1;
		H1[1] = phi;
	}
	/* the seasonal part: s_t = (F2 + G2 e_t) s_{t-1}, observed through its oldest state */
	memset(F2, 0, m * m * sizeof(double));
	memset(G2, 0, m * m * sizeof(double));
	F2[0 * m + (m - 1)] = 1;
	for (int j = 1; j < m; j++)
		F2[j * m + (j - 1)] = 1;
	G2[0 * m + (m - 1)] = fit->gamma;

	kron(F2, m, m, F1, q, q, F21);
	kron(G2, m, m, G1, q, q, G21);
	kron(G2, m, m, F1, q, q, K);
	kron(F2, m, m, G1, q, q, tmp);
	for (size_t i = 0; i < DD; i++)
		K[i] += tmp[i];
	/* H2 kron H1 picks the last column of z s' weighted by H1 */
	for (int a = 0; a < q; a++)
	{
		hsel[a] = (m - 1) * q + a;
		hval[a] = H1[a];
	}

	/* M_0 = z s', vec by columns */
	for (int j = 0; j < m; j++)
		for (int a = 0; a < q; a++)
			M[j * q + a] = fit->last[a] * fit->last[q + j];
	memset(V, 0, DD * sizeof(double));

	for (int i = 0; i < h; i++)
	{
		double		mu = 0,
					hvh = 0;

		for (int a = 0; a < q; a++)
			mu += hval[a] * M[hsel[a]];
		for (int a = 0; a < q; a++)
			for (int b = 0; b < q; b++)
				hvh += hval[a] * V[hsel[a] * D + hsel[b]] * hval[b];
		mean[i] = mu;
		var[i] = (1 + s2) * hvh + s2 * mu * mu;
		if (i + 1 == h)
			break;

		/* V' = F V F' + s2 (F V G' + G V F' + K (V + M M') K' + s2 G (3V + 2 M M') G') */
		matmul(D, F21, V, T1);
		matmul_t(D, T1, F21, Vn);
		matmul_t(D, T1, G21, T2);
		for (size_t k = 0; k < DD; k++)
			Vn[k] += s2 * T2[k];
		matmul(D, G21, V, T1);
		matmul_t(D, T1, F21, T2);
		for (size_t k = 0; k < DD; k++)
			Vn[k] += s2 * T2[k];
		for (int r = 0; r < D; r++)
			for (int c = 0; c < D; c++)
				W[r * D + c] = V[r * D + c] + M[r] * M[c];
		matmul(D, K, W, T1);
		matmul_t(D, T1, K, T2);
		for (size_t k = 0; k < DD; k++)
			Vn[k] += s2 * T2[k];
		for (int r = 0; r < D; r++)
			for (int c = 0; c < D; c++)
				W[r * D + c] = 3 * V[r * D + c] + 2 * M[r] * M[c];
		matmul(D, G21, W, T1);
		matmul_t(D, T1, G21, T2);
		for (size_t k = 0; k < DD; k++)
			Vn[k] += s2 * s2 * T2[k];
		memcpy(V, Vn, DD * sizeof(double));

		/* M' = F1 M F2' + s2 G1 M G2', i.e. vec: (F21 + s2 G21) vec M */
		for (int r = 0; r < D; r++)
		{
			double		acc = 0;

			for (int c = 0; c < D; c++)
				acc += (F21[r * D + c] + s2 * G21[r * D + c]) * M[c];
			Mn[r] = acc;
		}
		memcpy(M, Mn, D * sizeof(double));
		ets_check_interrupts();
	}
}

/*
 * Means and variances of the forecasts 1 .. h steps after the last
 * observation into mean[0 .. h-1] and var[0 .. h-1].
 */
void
ets_forecast(const EtsFit *fit, int h, double *mean, double *var)
{
	if (fit->spec.error == ETS_MULT && fit->spec.season == ETS_MULT)
	{
		class3(fit, h, mean, var);
		return;
	}
	else
	{
		double	   *c = ets_alloc((h + 1) * sizeof(double));
		double		s2 = fit->sigma2;

		linear_means(fit, h, mean, c);
		if (fit->spec.error == ETS_ADD)
		{
			double		acc = 1;

			for (int i = 0; i < h; i++)
			{
				if (i > 0)
					acc += c[i] * c[i];
				var[i] = s2 * acc;
			}
		}
		else
		{
			double	   *theta = ets_alloc(h * sizeof(double));

			for (int j = 0; j < h; j++)
			{
				double		acc = 0;

				for (int i = 1; i <= j; i++)
					acc += c[i] * c[i] * theta[j - i];
				theta[j] = mean[j] * mean[j] + s2 * acc;
				var[j] = (1 + s2) * theta[j] - mean[j] * mean[j];
				if ((j & 255) == 255)
					ets_check_interrupts();
			}
		}
	}
}
