/*
 * lanes_kernel.h
 *		The body of the multi-lane objective (lanes.c), written once for any
 *		vector width: lanes.c includes it for two doubles per vector (the
 *		portable baseline: SSE2 on x86-64, NEON on arm64) and, on x86-64,
 *		again for four (AVX2), chosen at run time.
 *
 * Before including, define LK_VW (doubles per vector), LK_NAME (the
 * function's name) and LK_ATTR (its attributes, e.g. a target).
 *
 * The lanes are packed in groups of one vector's width, one family (lanes.c)
 * per group, and the groups run up to three at a time over the whole
 * series (passes as even as they can be), their level, trend and sums in
 * registers: a chain of three dependent operations per observation leaves
 * the arithmetic units room for two or three groups; more would not fit
 * the registers.  Each combination of families in a pass is a loop of its
 * own (LK_RUN1), with no branch per observation.
 */

#define LK_CAT2(a, b) a##_##b
#define LK_CAT(a, b) LK_CAT2(a, b)
#define LK_VD	LK_CAT(lk_vd, LK_VW)
#define LK_VL	LK_CAT(lk_vl, LK_VW)
#define LK_GROUP LK_CAT(lk_group, LK_VW)
#define LK_STEP	LK_CAT(lk_step, LK_VW)
#define LK_RENORM LK_CAT(lk_renorm, LK_VW)
#define LK_RUN	LK_CAT(lk_run, LK_VW)
#define LK_RUN1	LK_CAT(lk_run1, LK_VW)
#define LK_SPLAT LK_CAT(lk_splat, LK_VW)
#define LK_ABS	LK_CAT(lk_abs, LK_VW)
#define LK_SELECT LK_CAT(lk_select, LK_VW)

typedef double LK_VD __attribute__((vector_size(LK_VW * sizeof(double))));
typedef int64_t LK_VL __attribute__((vector_size(LK_VW * sizeof(double))));

/* One group: LK_VW lanes of one family, their state, sums and coefficients. */
typedef struct LK_GROUP
{
	int			family;			/* 0, 1, 2 (lanes.c) */
	int			lane[LK_VW];	/* the lane of each element, -1: padding */
	LK_VD		l,
				b,
				sse,
				prod,
				alpha,
				beta,
				phi,
				gamma,
				cll,
				clb,
				cbl,
				cbb;
	LK_VL		expo;
	LK_VD		ring[ETS_MAX_PERIOD];
} LK_GROUP;

/* x in every element */
static inline LK_ATTR LK_VD
LK_SPLAT(double x)
{
	LK_VD		v;

	for (int j = 0; j < LK_VW; j++)
		v[j] = x;
	return v;
}

/* |x| elementwise: the sign bits cleared */
static inline LK_ATTR LK_VD
LK_ABS(LK_VD x)
{
	LK_VL		nosign;

	for (int j = 0; j < LK_VW; j++)
		nosign[j] = INT64_MAX;
	return (LK_VD) ((LK_VL) x & nosign);
}

/* mask ? a : b elementwise, mask elements all ones or all zeros */
static inline LK_ATTR LK_VD
LK_SELECT(LK_VL mask, LK_VD a, LK_VD b)
{
	return (LK_VD) ((mask & (LK_VL) a) | (~mask & (LK_VL) b));
}

/*
 * renormalise() of lanes.c elementwise: the exponent of each product moved
 * into expo (exact), zero, subnormal, infinite and NaN products left as they are.
 */
static inline __attribute__((always_inline)) LK_ATTR void
LK_RENORM(LK_VD *prod, LK_VL *expo)
{
	const LK_VL bits = (LK_VL) * prod;
	const LK_VL ex = (bits >> 52) & 0x7ff;
	const LK_VL ok = (ex != 0) & (ex != 0x7ff);
	const LK_VL norm = (bits & ~(((int64_t) 0x7ff) << 52)) | (((int64_t) 1023) << 52);

	*expo += ok & (ex - 1023);
	*prod = (LK_VD) ((ok & norm) | (~ok & bits));
}

/*
 * One observation for one group of family K (0, 1, 2 as in lanes.c; a
 * constant where inlined), S whether the round has a season at all:
 * q = l + phi b, the forecast f, the error e into the sums, p and t, and
 * (l, b) updated as the linear map of lanes.c.
 */
static inline __attribute__((always_inline)) LK_ATTR void
LK_STEP(const int K, const bool S, LK_GROUP *restrict gr, LK_VD *restrict l, LK_VD *restrict b,
		LK_VD *restrict sse, LK_VD *restrict prod, LK_VD yt, int k)
{
	const LK_VD tol = LK_SPLAT(ETS_TOL);
	const LK_VD huge = LK_SPLAT(ETS_HUGE);
	LK_VD		oldl = *l,
				oldb = *b,
				q = oldl + gr->phi * oldb,
				olds = LK_SPLAT(0.0),
				f,
				e,
				pp,
				tt = LK_SPLAT(0.0);

	if (S)
		olds = gr->ring[k];
	if (K == 2)
	{
		/* one division for e and t: r = 1 / f, t = y s r = y / q */
		LK_VD		r;

		f = q * olds;
		r = LK_SPLAT(1.0) / f;
		e = (yt - f) * r;
		*prod *= LK_ABS(f);
		pp = LK_SELECT(LK_ABS(olds) < tol, huge, yt / olds);
		tt = LK_SELECT(LK_ABS(q) < tol, huge, (yt * olds) * r);
	}
	else
	{
		f = S ? q + olds : q;
		e = yt - f;
		if (K == 1)
		{
			e = e / f;
			*prod *= LK_ABS(f);
		}
		pp = S ? yt - olds : yt;
		if (S)
			tt = yt - q;
	}
	*sse += e * e;
	*l = (gr->cll * oldl + gr->clb * oldb) + gr->alpha * pp;
	*b = (gr->cbl * oldl + gr->cbb * oldb) + gr->beta * pp;
	if (S)
		gr->ring[k] = olds + gr->gamma * (tt - olds);
}

/* The running values of one group, in local variables of LK_RUN. */
#define LK_LOAD(i) \
	LK_VD		l##i = g##i ? g##i->l : g1->l, \
				b##i = g##i ? g##i->b : g1->b, \
				sse##i = g##i ? g##i->sse : g1->sse, \
				prod##i = g##i ? g##i->prod : g1->prod; \
	LK_VL		expo##i = g##i ? g##i->expo : g1->expo
#define LK_STORE(i) \
	do { \
		g##i->l = l##i; g##i->b = b##i; g##i->sse = sse##i; g##i->prod = prod##i; g##i->expo = expo##i; \
	} while (0)

/*
 * Groups g1, g2, g3 of families K1, K2, K3 (-1: no such group) over the
 * whole series, side by side; their level, trend and sums in registers.
 */
static inline __attribute__((always_inline)) LK_ATTR void
LK_RUN(const int K1, const int K2, const int K3, const bool S, const double *restrict y, int n,
	   int m, LK_GROUP *restrict g1, LK_GROUP *restrict g2, LK_GROUP *restrict g3)
{
	LK_LOAD(1);
	LK_LOAD(2);
	LK_LOAD(3);
	int			k = 0;

	for (int t = 0; t < n; t++)
	{
		const LK_VD yt = LK_SPLAT(y[t]);

		LK_STEP(K1, S, g1, &l1, &b1, &sse1, &prod1, yt, k);
		if (K2 >= 0)
			LK_STEP(K2, S, g2, &l2, &b2, &sse2, &prod2, yt, k);
		if (K3 >= 0)
			LK_STEP(K3, S, g3, &l3, &b3, &sse3, &prod3, yt, k);
		if (S && ++k == m)
			k = 0;
		if ((t & 7) == 7)
		{
			if (K1 > 0)
				LK_RENORM(&prod1, &expo1);
			if (K2 > 0)
				LK_RENORM(&prod2, &expo2);
			if (K3 > 0)
				LK_RENORM(&prod3, &expo3);
		}
	}
	LK_STORE(1);
	if (K2 >= 0)
		LK_STORE(2);
	if (K3 >= 0)
		LK_STORE(3);
}

#undef LK_LOAD
#undef LK_STORE

/*
 * LK_RUN with the families as constants, for up to three groups in
 * ascending order of family (as LK_NAME packs them).
 */
static LK_ATTR void
LK_RUN1(bool seasonal, const double *y, int n, int m, LK_GROUP *g1, LK_GROUP *g2, LK_GROUP *g3)
{
	int			code = g1->family * 16 + (g2 ? g2->family + 1 : 0) * 4 + (g3 ? g3->family + 1 : 0);

#define LK_C(a, b, c) \
	case (a) * 16 + ((b) + 1) * 4 + ((c) + 1): \
		if (seasonal) \
			LK_RUN((a), (b), (c), true, y, n, m, g1, g2, g3); \
		else \
			LK_RUN((a), (b), (c), false, y, n, m, g1, g2, g3); \
		break
	switch (code)
	{
			LK_C(0, -1, -1);
			LK_C(1, -1, -1);
			LK_C(0, 0, -1);
			LK_C(0, 1, -1);
			LK_C(0, 2, -1);
			LK_C(1, 1, -1);
			LK_C(1, 2, -1);
			LK_C(0, 0, 0);
			LK_C(0, 0, 1);
			LK_C(0, 0, 2);
			LK_C(0, 1, 1);
			LK_C(0, 1, 2);
			LK_C(0, 2, 2);
			LK_C(1, 1, 1);
			LK_C(1, 1, 2);
			LK_C(1, 2, 2);
		case 2 * 16:
			LK_RUN(2, -1, -1, true, y, n, m, g1, g2, g3);
			break;
		case 2 * 16 + 3 * 4:
			LK_RUN(2, 2, -1, true, y, n, m, g1, g2, g3);
			break;
		case 2 * 16 + 3 * 4 + 3:
			LK_RUN(2, 2, 2, true, y, n, m, g1, g2, g3);
			break;
		default:
			/* not in ascending order (LK_NAME does not do that): one group at a time */
			LK_RUN1(seasonal, y, n, m, g1, NULL, NULL);
			if (g2)
				LK_RUN1(seasonal, y, n, m, g2, NULL, NULL);
			if (g3)
				LK_RUN1(seasonal, y, n, m, g3, NULL, NULL);
			break;
	}
#undef LK_C
}

static LK_ATTR void
LK_NAME(const double *y, int n, int m, EtsLane *lanes, int nlanes)
{
	/* each family may leave one group partly filled */
	LK_GROUP	groups[ETS_MAX_LANES / LK_VW + 3];
	int			ngroups = 0;
	bool		seasonal = false;

	/* pack: the lanes of each family into groups */
	for (int fam = 0; fam < 3; fam++)
	{
		int			fill = LK_VW;

		for (int i = 0; i < nlanes; i++)
		{
			if (lane_family(&lanes[i].spec) != fam)
				continue;
			if (fill == LK_VW)
			{
				groups[ngroups].family = fam;
				for (int j = 0; j < LK_VW; j++)
					groups[ngroups].lane[j] = -1;
				ngroups++;
				fill = 0;
			}
			groups[ngroups - 1].lane[fill++] = i;
			if (lanes[i].spec.season != ETS_NONE)
				seasonal = true;
		}
	}
	if (!seasonal)
		m = 1;

	for (int g = 0; g < ngroups; g++)
	{
		LK_GROUP   *gr = &groups[g];

		for (int j = 0; j < LK_VW; j++)
		{
			/* padding repeats the group's first lane */
			const EtsLane *ln = &lanes[gr->lane[j] >= 0 ? gr->lane[j] : gr->lane[0]];
			const double alpha = ln->p.alpha,
						beta = ln->p.beta,
						phi = ln->p.phi;
			int			first = ln->spec.trend != ETS_NONE ? 2 : 1;

			gr->l[j] = ln->x0[0];
			gr->b[j] = ln->spec.trend != ETS_NONE ? ln->x0[1] : 0.0;
			gr->alpha[j] = alpha;
			gr->beta[j] = beta;
			gr->phi[j] = phi;
			gr->gamma[j] = ln->p.gamma;
			gr->cll[j] = 1.0 - alpha;
			gr->clb[j] = (1.0 - alpha) * phi;
			gr->cbl[j] = -beta;
			gr->cbb[j] = phi * (1.0 - beta);
			gr->sse[j] = 0;
			gr->prod[j] = 1;
			gr->expo[j] = 0;
			for (int r = 0; r < m; r++)
				gr->ring[r][j] = ln->spec.season != ETS_NONE ? ln->x0[first + m - 1 - r] : 0.0;
		}
	}

	/* passes of up to three groups, as even as they can be (3 + 1 runs slower than 2 + 2) */
	{
		int			npass = (ngroups + 2) / 3;

		for (int p = 0, g = 0; p < npass; p++)
		{
			int			size = (ngroups - g) / (npass - p) + ((ngroups - g) % (npass - p) != 0);

			LK_RUN1(seasonal, y, n, m, &groups[g], size > 1 ? &groups[g + 1] : NULL,
					size > 2 ? &groups[g + 2] : NULL);
			g += size;
		}
	}

	for (int g = 0; g < ngroups; g++)
		for (int j = 0; j < LK_VW; j++)
			if (groups[g].lane[j] >= 0)
				lane_finish(y, n, m, &lanes[groups[g].lane[j]], groups[g].sse[j],
							groups[g].prod[j], (int) groups[g].expo[j]);
}

#undef LK_VD
#undef LK_VL
#undef LK_GROUP
#undef LK_STEP
#undef LK_RENORM
#undef LK_RUN
#undef LK_RUN1
#undef LK_SPLAT
#undef LK_ABS
#undef LK_SELECT
#undef LK_CAT
#undef LK_CAT2
