/*
 * init.c
 *		Starting values of a fit, as forecast::ets computes them (its R
 *		functions initstate and initparam): the initial states from a
 *		classical decomposition of the first seasons, and the smoothing
 *		parameters from fixed fractions of their ranges.  The minimiser starts
 *		there, and a Nelder-Mead search ends where its start leads it: these
 *		values decide which model forecast::ets chooses, so they are
 *		reproduced exactly, down to R's long-double means.
 */
#include "ets.h"

#include <math.h>
#include <string.h>

/* R's mean(): a long double sum, divided, then corrected by the mean residual. */
static double
r_mean(const double *x, int n)
{
	long double s = 0;

	for (int i = 0; i < n; i++)
		s += x[i];
	s /= n;
	if (isfinite((double) s))
	{
		long double t = 0;

		for (int i = 0; i < n; i++)
			t += (x[i] - s);
		s += t / n;
	}
	return (double) s;
}

/* R's sum() of doubles: a long double accumulator. */
static double
r_sum(const double *x, int n)
{
	long double s = 0;

	for (int i = 0; i < n; i++)
		s += x[i];
	return (double) s;
}

/* R's sinpi: sin(pi x), exact at the multiples of 1/2. */
static double
r_sinpi(double x)
{
	x = fmod(x, 2.0);
	if (x <= -1)
		x += 2.0;
	else if (x > 1.0)
		x -= 2.0;
	if (x == 0.0 || x == 1.0)
		return 0.0;
	if (x == 0.5)
		return 1.0;
	if (x == -0.5)
		return -1.0;
	return sin(M_PI * x);
}

/* R's cospi: cos(pi x), exact at the multiples of 1/2. */
static double
r_cospi(double x)
{
	x = fmod(fabs(x), 2.0);
	if (fmod(x, 1.0) == 0.5)
		return 0.0;
	if (x == 1.0)
		return -1.0;
	if (x == 0.0)
		return 1.0;
	return cos(M_PI * x);
}

/*
 * Least squares: coefficients of y on the k columns of X (row-major n x k,
 * k <= 4), by the normal equations in long double with Gaussian elimination
 * and partial pivoting.  False if the columns are collinear.
 */
static bool
least_squares(const double *X, const double *y, int n, int k, double *coef)
{
	long double A[4][5];

	for (int a = 0; a < k; a++)
	{
		for (int b = 0; b < k; b++)
		{
			long double s = 0;

			for (int i = 0; i < n; i++)
				s += (long double) X[i * k + a] * X[i * k + b];
			A[a][b] = s;
		}
		{
			long double s = 0;

			for (int i = 0; i < n; i++)
				s += (long double) X[i * k + a] * y[i];
			A[a][k] = s;
		}
	}
	for (int c = 0; c < k; c++)
	{
		int			piv = c;

		for (int r = c + 1; r < k; r++)
			if (fabsl(A[r][c]) > fabsl(A[piv][c]))
				piv = r;
		if (A[piv][c] == 0)
			return false;
		if (piv != c)
			for (int j = 0; j <= k; j++)
			{
				long double t = A[c][j];

				A[c][j] = A[piv][j];
				A[piv][j] = t;
			}
		for (int r = c + 1; r < k; r++)
		{
			long double f = A[r][c] / A[c][c];

			for (int j = c; j <= k; j++)
				A[r][j] -= f * A[c][j];
		}
	}
	for (int c = k - 1; c >= 0; c--)
	{
		long double s = A[c][k];

		for (int j = c + 1; j < k; j++)
			s -= A[c][j] * coef[j];
		coef[c] = (double) (s / A[c][c]);
	}
	return true;
}

/*
 * R's decompose(): a centred moving average of order m (2 x m when m is
 * even) as the trend, the detrended series averaged by position in the
 * season (the first observation is position 1), the averages centred to
 * sum 0 (additive) or to mean 1 (multiplicative).  seasonal[0..n-1] gets
 * the seasonal component; n >= 2m.
 */
static void
decompose(const double *x, int n, int m, bool mult, double *seasonal)
{
	int			nf = m % 2 == 0 ? m + 1 : m;
	int			shift = nf / 2;
	double		filter[ETS_MAX_PERIOD + 1];
	double	   *detr = ets_alloc(n * sizeof(double));
	bool	   *ok = ets_alloc(n * sizeof(bool));
	double		figure[ETS_MAX_PERIOD];
	double	   *vals = ets_alloc((n / m + 1) * sizeof(double));

	for (int j = 0; j < nf; j++)
		filter[j] = (m % 2 == 0 && (j == 0 || j == nf - 1) ? 0.5 : 1.0) / m;
	for (int i = 0; i < n; i++)
	{
		double		z = 0;

		ok[i] = !(i + shift - (nf - 1) < 0 || i + shift >= n);
		if (!ok[i])
			continue;
		for (int j = 0; j < nf; j++)
			z += filter[j] * x[i + shift - j];
		detr[i] = mult ? x[i] / z : x[i] - z;
	}
	for (int p = 0; p < m; p++)
	{
		int			c = 0;

		for (int i = p; i < n; i += m)
			if (ok[i])
				vals[c++] = detr[i];
		figure[p] = r_mean(vals, c);
	}
	{
		double		fm = r_mean(figure, m);

		for (int p = 0; p < m; p++)
			figure[p] = mult ? figure[p] / fm : figure[p] - fm;
	}
	for (int i = 0; i < n; i++)
		seasonal[i] = figure[i % m];
}

/*
 * The seasonal component of a short series (fewer than three seasons), as
 * forecast does it: a regression on a linear trend and the first Fourier
 * pair; the seasonal part is the series less (or over) the fitted trend.
 */
static bool
fourier_seasonal(const double *y, int n, int m, bool mult, double *seasonal)
{
	bool		with_sin = fabs(2.0 / m - round(2.0 / m)) > 2.220446049250313e-16;
	int			k = with_sin ? 4 : 3;
	double	   *X = ets_alloc((size_t) n * k * sizeof(double));
	double		coef[4];

	for (int i = 0; i < n; i++)
	{
		double		t = i + 1;
		int			c = 0;

		X[i * k + c++] = 1.0;
		X[i * k + c++] = t;
		if (with_sin)
			X[i * k + c++] = r_sinpi(2 * (1.0 / m) * t);
		X[i * k + c++] = r_cospi(2 * (1.0 / m) * t);
	}
	if (!least_squares(X, y, n, k, coef))
		return false;
	for (int i = 0; i < n; i++)
	{
		double		fit = coef[0] + coef[1] * (i + 1);

		seasonal[i] = mult ? y[i] / fit : y[i] - fit;
	}
	return true;
}

/*
 * forecast's initstate(): the starting initial states l, b, s_0 .. s_{m-2}
 * into states (s_{m-1} follows from the others).  Returns how many, or -1
 * when they cannot be computed (collinear regression).
 */
int
ets_initial_states(const double *y, int n, int m, const EtsSpec *spec, double *states)
{
	const double *ysa = y;
	double		init_seas[ETS_MAX_PERIOD];
	int			nseas = 0;
	int			maxn;
	int			c = 0;

	if (spec->season != ETS_NONE)
	{
		bool		mult = spec->season == ETS_MULT;
		double	   *seasonal = ets_alloc(n * sizeof(double));
		double	   *adj = ets_alloc(n * sizeof(double));

		if (n < 3 * m)
		{
			if (!fourier_seasonal(y, n, m, mult, seasonal))
				return -1;
		}
		else
			decompose(y, n, m, mult, seasonal);
		/* rev(seasonal[2:m]): s_0 = seasonal[m], ..., s_{m-2} = seasonal[2] (1-based) */
		nseas = m - 1;
		for (int j = 0; j < nseas; j++)
			init_seas[j] = seasonal[m - 1 - j];
		if (!mult)
		{
			for (int i = 0; i < n; i++)
				adj[i] = y[i] - seasonal[i];
		}
		else
		{
			double		sum;

			for (int j = 0; j < nseas; j++)
				if (init_seas[j] < 1e-2)
					init_seas[j] = 1e-2;
			sum = r_sum(init_seas, nseas);
			if (sum > m)
			{
				double		plus[ETS_MAX_PERIOD];
				double		den;

				for (int j = 0; j < nseas; j++)
					plus[j] = init_seas[j] + 1e-2;
				den = r_sum(plus, nseas);
				for (int j = 0; j < nseas; j++)
					init_seas[j] = init_seas[j] / den;
			}
			for (int i = 0; i < n; i++)
				adj[i] = y[i] / (seasonal[i] > 1e-2 ? seasonal[i] : 1e-2);
		}
		ysa = adj;
	}
	else
		m = 1;

	maxn = 2 * m > 10 ? 2 * m : 10;
	if (maxn > n)
		maxn = n;

	if (spec->trend == ETS_NONE)
		states[c++] = r_mean(ysa, maxn);
	else
	{
		/* lsfit(1:maxn, ysa[1:maxn]): intercept and slope */
		double		tbar,
					ybar,
					l0,
					b0;
		long double sxy = 0,
					sxx = 0;

		tbar = (maxn + 1) / 2.0;
		ybar = r_mean(ysa, maxn);
		for (int i = 0; i < maxn; i++)
		{
			sxy += (long double) (i + 1 - tbar) * (ysa[i] - ybar);
			sxx += (long double) (i + 1 - tbar) * (i + 1 - tbar);
		}
		b0 = (double) (sxy / sxx);
		l0 = ybar - b0 * tbar;
		/* with M errors, l0 + b0 = 0 would be a zero first forecast */
		if (fabs(l0 + b0) < 1e-8)
		{
			l0 = l0 * (1 + 1e-3);
			b0 = b0 * (1 - 1e-3);
		}
		states[c++] = l0;
		states[c++] = b0;
	}
	for (int j = 0; j < nseas; j++)
		states[c++] = init_seas[j];
	return c;
}

/*
 * forecast's initparam() with bounds = "both" and its default bounds: the
 * start of alpha, beta, gamma and phi (those the model has) into par, in
 * that order.  m is the model's period (1 without season).  Returns how many.
 */
int
ets_start_params(const EtsSpec *spec, int m, double *par)
{
	const double lo = 1e-4,
				up = 0.9999,
				lo_phi = 0.8,
				up_phi = 0.98;
	double		alpha;
	int			c = 0;

	alpha = lo + 0.2 * (up - lo) / m;
	if (alpha > 1 || alpha < 0)
		alpha = lo + 2e-3;
	par[c++] = alpha;
	if (spec->trend != ETS_NONE)
	{
		double		upb = up < alpha ? up : alpha;
		double		beta = lo + 0.1 * (upb - lo);

		if (beta < 0 || beta > alpha)
			beta = alpha - 1e-3;
		par[c++] = beta;
	}
	if (spec->season != ETS_NONE)
	{
		double		upg = up < 1 - alpha ? up : 1 - alpha;
		double		gamma = lo + 0.05 * (upg - lo);

		if (gamma < 0 || gamma > 1 - alpha)
			gamma = 1 - alpha - 1e-3;
		par[c++] = gamma;
	}
	if (spec->damped)
	{
		double		phi = lo_phi + 0.99 * (up_phi - lo_phi);

		if (phi < 0 || phi > 1)
			phi = up_phi - 1e-3;
		par[c++] = phi;
	}
	return c;
}
