/*
 * lanes.c
 *		The objective of several minimiser points at once, over the same
 *		series (ets_objective_lanes): independent recursions side by side in
 *		passes over the data, so that the processor overlaps their
 *		dependency chains.
 *
 * The lanes are packed in groups of one vector's width, one model family
 * per group, and each group's recursions run as vectors (GCC vector
 * extensions, elementwise IEEE arithmetic).  Three families cover every
 * search candidate without branches:
 *	0, 1: additive season (N or A) with A or M errors:
 *		q = l + phi b, f = q + s, e = y - f or (y - f) / f; a model without
 *		trend has b = 0, beta = 0, phi = 1, and one without season s = 0,
 *		gamma = 0, which leaves every value unchanged (x + 0 = x);
 *	2: multiplicative season (M errors): f = q s, p = y / s, t = y / q.
 *
 * The level and trend are updated as what they are, a linear map of the
 * previous ones and p (which depends on the seasonal state of m steps
 * back, not on l and b):
 *	l' = q + alpha (p - q)				  = ((1 - alpha) l + (1 - alpha) phi b) + alpha p
 *	b' = phi b + (beta/alpha) (l' - l - phi b) = (-beta l + phi (1 - beta) b) + beta p
 * three dependent operations from (l, b) to (l', b') instead of the nine of
 * the error-correction form (recursion.c); q, f and e branch off that
 * chain.  Each group's running values stay in registers: the groups run
 * three at a time (lanes_kernel.h).  The values differ from ets_pass's in
 * the last bits only; on every reference series (test/forecast) the
 * minimiser still takes R's path to the last evaluation, and the final fit
 * is evaluated by ets_pass in R's order.  For family 2, e and t share one
 * division: r = 1 / f, e = (y - f) r, t = y s r.
 *
 * log|mu| is accumulated as a product, rescaled by a power of two every 8
 * steps and logged once at the end (the sum then differs from R's sum of
 * logs in the last bits only); a lane whose product leaves the range of a
 * double (|mu| beyond 1e38) is done again by ets_pass.
 *
 * The kernel (lanes_kernel.h) is compiled for two doubles per vector, the
 * baseline of every 64-bit target, and on x86-64 also for four with AVX2,
 * used when the processor has it (no FMA: the results are the same).
 */
#include "ets.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define ETS_TOL		1.0e-10
#define ETS_HUGE	1.0e10

/* The family of a lane's model, as above. */
static inline int
lane_family(const EtsSpec *sp)
{
	return sp->season == ETS_MULT ? 2 : (sp->error == ETS_MULT ? 1 : 0);
}

/* x = mantissa in [1, 2) times 2^e: moves the exponent into *e (exact). */
static inline void
renormalise(double *x, int *e)
{
	uint64_t	bits;
	int			ex;

	memcpy(&bits, x, sizeof(bits));
	ex = (int) ((bits >> 52) & 0x7ff);
	if (ex == 0 || ex == 0x7ff)
		return;					/* zero, subnormal, infinite or NaN: left as is */
	*e += ex - 1023;
	bits = (bits & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1023) << 52);
	memcpy(x, &bits, sizeof(bits));
}

/* The objective of one lane from its sums, as ets_objective returns it. */
static void
lane_finish(const double *y, int n, int m, EtsLane *ln, double sse, double prod, int expo)
{
	double		lik = n * log(sse);

	if (ln->spec.error == ETS_MULT)
	{
		if (isfinite(prod) && prod > 0)
			lik += 2 * (log(prod) + expo * M_LN2);
		else
		{
			EtsPass		pass;

			ets_pass(y, n, m, &ln->spec, &ln->p, ln->x0, &pass);
			lik = pass.lik;
		}
	}
	if (isnan(lik))
		lik = INFINITY;
	else if (lik < -1e10)
		lik = -1e10;
	ln->lik = lik;
}

#define LK_VW	2
#define LK_NAME	lanes_vw2
#define LK_ATTR
#include "lanes_kernel.h"
#undef LK_VW
#undef LK_NAME
#undef LK_ATTR

#if defined(__x86_64__) && defined(__GNUC__)
#define ETS_HAVE_AVX2_KERNEL 1
#define LK_VW	4
#define LK_NAME	lanes_vw4_avx2
#define LK_ATTR	__attribute__((target("avx2")))
#include "lanes_kernel.h"
#undef LK_VW
#undef LK_NAME
#undef LK_ATTR
#endif

/* The objective of every lane (see ets.h), by the widest kernel the processor runs. */
void
ets_objective_lanes(const double *y, int n, int m, EtsLane *lanes, int nlanes)
{
#ifdef ETS_HAVE_AVX2_KERNEL
	static int	avx2 = -1;

	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	if (avx2)
	{
		lanes_vw4_avx2(y, n, m, lanes, nlanes);
		return;
	}
#endif
	lanes_vw2(y, n, m, lanes, nlanes);
}
