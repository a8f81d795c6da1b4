/*
 * admissible.c
 *		The parameter space of the fits: forecast::ets's bounds = "both", the
 *		intersection of the "usual" bounds and the admissible region.
 *
 * Usual (forecast's defaults lower = (1e-4, 1e-4, 1e-4, 0.8), upper =
 * (0.9999, 0.9999, 0.9999, 0.98)):
 *	1e-4 <= alpha <= 0.9999,  1e-4 <= beta <= min(alpha, 0.9999),
 *	1e-4 <= gamma <= min(1 - alpha, 0.9999),  0.8 <= phi <= 0.98.
 * Admissible (Hyndman, Akram & Archibald 2008, "The admissible parameter
 * space for exponential smoothing models"): the model forgets its initial
 * state, i.e. the discount matrix D = F - g w' has all eigenvalues inside
 * the unit circle.  Without season this reduces to inequalities on alpha,
 * beta and phi; with season, to three inequalities and the condition that
 * the roots of the characteristic polynomial
 *	z^{m+1} + (a+b-phi) z^m + (a+b-a phi) (z^{m-1} + ... + z^2)
 *	        + (a+b-a phi+g-1) z + phi (1-a-g)
 * lie within the circle of radius 1 + 1e-10 (a = alpha, b = beta, g = gamma).
 * forecast finds the roots (R's cpolyroot); here the Schur-Cohn test
 * decides the same question without computing them.  Without trend and
 * damping (b = 0, phi = 1) z = 1 is always a root, exactly on the circle,
 * where the test loses its precision: it is divided out first (it is
 * within the radius).  On 200,000 random parameter sets for each of the
 * periods 4, 7 and 12 and 100,000 for 24, this test and the roots GSL finds
 * (gsl_poly_complex_solve) agree on every one.
 */
#include "ets.h"

#include <math.h>

/* forecast's default bounds for alpha, beta, gamma (lower, upper) and phi. */
#define LOWER_ABG	1e-4
#define UPPER_ABG	0.9999
#define LOWER_PHI	0.8
#define UPPER_PHI	0.98

/*
 * Whether all roots of sum_{j=0..deg} a[j] z^j (a[deg] != 0) lie strictly
 * inside the unit circle: the Schur-Cohn test in its step-down form.  With
 * k = a[0] / a[deg], all roots are inside iff |k| < 1 and all roots of the
 * polynomial of degree deg - 1 with coefficients a[j+1] - k a[deg-1-j] are
 * (Rouche's theorem on a[deg] p(z) - a[0] z^deg p(1/z)).  a is overwritten.
 */
static bool
roots_inside_unit_circle(double *a, int deg)
{
	double		tmp[ETS_MAX_PERIOD + 2];
	double	   *cur = a,
			   *next = tmp;

	/* each step writes the other buffer (no copy back: this test is in every evaluation) */
	for (int d = deg; d > 0; d--)
	{
		double		k = cur[0] / cur[d];
		double	   *swap;

		if (!(fabs(k) < 1.0))
			return false;
		for (int j = 0; j < d; j++)
			next[j] = cur[j + 1] - k * cur[d - 1 - j];
		swap = cur;
		cur = next;
		next = swap;
	}
	return true;
}

/*
 * Whether the characteristic polynomial of a seasonal model has all its
 * roots within radius 1 + 1e-10: those of p(rho z), rho = 1 + 1e-10, within
 * the unit circle.
 */
static bool
seasonal_roots_ok(int m, double alpha, double beta, double gamma, double phi)
{
	double		c[ETS_MAX_PERIOD + 2];
	int			deg = m + 1;
	double		rho = 1.0 + 1e-10,
				scale = 1.0;

	c[deg] = 1.0;
	c[deg - 1] = alpha + beta - phi;
	for (int j = 2; j <= deg - 2; j++)
		c[j] = alpha + beta - alpha * phi;
	c[1] = alpha + beta - alpha * phi + gamma - 1;
	c[0] = phi * (1 - alpha - gamma);
	if (beta == 0 && phi == 1)
	{
		/* P(1) = m beta = 0: P(z) = (z - 1) Q(z), Q by synthetic division from the top */
		double		q[ETS_MAX_PERIOD + 2];

		q[deg - 1] = c[deg];
		for (int j = deg - 1; j >= 1; j--)
			q[j - 1] = c[j] + q[j];
		for (int j = 0; j < deg; j++)
			c[j] = q[j];
		deg--;
	}
	for (int j = 0; j <= deg; j++)
	{
		c[j] *= scale;
		scale *= rho;
	}
	return roots_inside_unit_circle(c, deg);
}

/*
 * forecast's check.param with bounds = "both": the usual bounds on the
 * parameters the model has, then admissibility.  p holds beta = 0, gamma = 0
 * and phi = 1 for a model without trend, season or damping.
 */
bool
ets_params_ok(const EtsSpec *spec, int m, const EtsParams *p)
{
	const double alpha = p->alpha,
				beta = p->beta,
				gamma = p->gamma,
				phi = p->phi;

	/* usual */
	if (alpha < LOWER_ABG || alpha > UPPER_ABG)
		return false;
	if (spec->trend != ETS_NONE &&
		(beta < LOWER_ABG || beta > alpha || beta > UPPER_ABG))
		return false;
	if (spec->damped && (phi < LOWER_PHI || phi > UPPER_PHI))
		return false;
	if (spec->season != ETS_NONE &&
		(gamma < LOWER_ABG || gamma > 1 - alpha || gamma > UPPER_ABG))
		return false;

	/* admissible */
	if (phi < 0 || phi > 1 + 1e-8)
		return false;
	if (spec->season == ETS_NONE)
	{
		if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi)
			return false;
		if (spec->trend != ETS_NONE &&
			(beta < alpha * (phi - 1) || beta > (1 + phi) * (2 - alpha)))
			return false;
	}
	else if (m > 1)
	{
		double		d = 1 - 1 / phi - alpha;

		if (gamma < (d > 0 ? d : 0) || gamma > 1 + 1 / phi - alpha)
			return false;
		if (alpha < 1 - 1 / phi - gamma * (1 - m + phi + phi * m) / (2 * phi * m))
			return false;
		if (beta < -(1 - phi) * (gamma / m + alpha))
			return false;
		if (!seasonal_roots_ok(m, alpha, beta, gamma, phi))
			return false;
	}
	return true;
}
