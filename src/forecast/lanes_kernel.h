/*
 * lanes_kernel.h
 *		The body of the multi-lane objective (lanes.c), written once for any
 *		vector width: lanes.c includes it for two doubles per vector (the
 *		portable baseline: SSE2 on x86-64, NEON on arm64) and, on x86-64,
 *		again for four (AVX2), chosen at run time.
 *
 * Before including, define LK_VW (doubles per vector), LK_NAME (the
 * function's name) and LK_ATTR (its attributes, e.g. a target).
 */

#define LK_CAT2(a, b) a##_##b
#define LK_CAT(a, b) LK_CAT2(a, b)
#define LK_VD	LK_CAT(lk_vd, LK_VW)
#define LK_VL	LK_CAT(lk_vl, LK_VW)

typedef double LK_VD __attribute__((vector_size(LK_VW * sizeof(double))));
typedef int64_t LK_VL __attribute__((vector_size(LK_VW * sizeof(double))));

/* x in every element */
static inline LK_ATTR LK_VD
LK_CAT(lk_splat, LK_VW) (double x)
{
	LK_VD		v;

	for (int j = 0; j < LK_VW; j++)
		v[j] = x;
	return v;
}

/* |x| elementwise: the sign bits cleared */
static inline LK_ATTR LK_VD
LK_CAT(lk_abs, LK_VW) (LK_VD x)
{
	LK_VL		nosign;

	for (int j = 0; j < LK_VW; j++)
		nosign[j] = INT64_MAX;
	return (LK_VD) ((LK_VL) x & nosign);
}

/* mask ? a : b elementwise, mask elements all ones or all zeros */
static inline LK_ATTR LK_VD
LK_CAT(lk_select, LK_VW) (LK_VL mask, LK_VD a, LK_VD b)
{
	return (LK_VD) ((mask & (LK_VL) a) | (~mask & (LK_VL) b));
}

/* each of the three families may leave one group partly filled */
#define LK_MAX_GROUPS	(ETS_MAX_LANES / LK_VW + 2)

static LK_ATTR void
LK_NAME(const double *y, int n, int m, EtsLane *lanes, int nlanes)
{
	/* group g holds lanes lane_of[g][0 .. LK_VW-1] (-1: padding) */
	int			lane_of[LK_MAX_GROUPS][LK_VW];
	int			family[LK_MAX_GROUPS];
	int			ngroups = 0;
	LK_VD		l[LK_MAX_GROUPS],
				b[LK_MAX_GROUPS],
				sse[LK_MAX_GROUPS],
				prod[LK_MAX_GROUPS],
				alpha[LK_MAX_GROUPS],
				ba[LK_MAX_GROUPS],
				phi[LK_MAX_GROUPS],
				gamma[LK_MAX_GROUPS];
	int			expo[LK_MAX_GROUPS][LK_VW];
	LK_VD		ring[ETS_MAX_PERIOD][LK_MAX_GROUPS];
	int			k = 0;
	bool		seasonal = false;
	const LK_VD tol = LK_CAT(lk_splat, LK_VW) (ETS_TOL);
	const LK_VD huge = LK_CAT(lk_splat, LK_VW) (ETS_HUGE);

	/* pack: the lanes of each family (0, 1, 2 as in lanes.c) into groups */
	for (int fam = 0; fam < 3; fam++)
	{
		int			fill = LK_VW;

		for (int i = 0; i < nlanes; i++)
		{
			if (lane_family(&lanes[i].spec) != fam)
				continue;
			if (fill == LK_VW)
			{
				family[ngroups] = fam;
				for (int j = 0; j < LK_VW; j++)
					lane_of[ngroups][j] = -1;
				ngroups++;
				fill = 0;
			}
			lane_of[ngroups - 1][fill++] = i;
			if (lanes[i].spec.season != ETS_NONE)
				seasonal = true;
		}
	}
	if (!seasonal)
		m = 1;

	for (int g = 0; g < ngroups; g++)
	{
		for (int j = 0; j < LK_VW; j++)
		{
			/* padding repeats the group's first lane */
			const EtsLane *ln = &lanes[lane_of[g][j] >= 0 ? lane_of[g][j] : lane_of[g][0]];
			int			first = ln->spec.trend != ETS_NONE ? 2 : 1;

			l[g][j] = ln->x0[0];
			b[g][j] = ln->spec.trend != ETS_NONE ? ln->x0[1] : 0.0;
			alpha[g][j] = ln->p.alpha;
			ba[g][j] = ln->p.beta / ln->p.alpha;
			phi[g][j] = ln->p.phi;
			gamma[g][j] = ln->p.gamma;
			sse[g][j] = 0;
			prod[g][j] = 1;
			expo[g][j] = 0;
			for (int r = 0; r < m; r++)
				ring[r][g][j] = ln->spec.season != ETS_NONE ? ln->x0[first + m - 1 - r] : 0.0;
		}
	}

	for (int t = 0; t < n; t++)
	{
		const LK_VD yt = LK_CAT(lk_splat, LK_VW) (y[t]);

		for (int g = 0; g < ngroups; g++)
		{
			LK_VD		oldl = l[g],
						olds = ring[k][g],
						phib = phi[g] * b[g],
						q = oldl + phib,
						f,
						e,
						pp,
						tt;

			switch (family[g])
			{
				case 0:
					f = q + olds;
					e = yt - f;
					pp = yt - olds;
					tt = yt - q;
					break;
				case 1:
					f = q + olds;
					e = (yt - f) / f;
					prod[g] *= LK_CAT(lk_abs, LK_VW) (f);
					pp = yt - olds;
					tt = yt - q;
					break;
				default:
					f = q * olds;
					e = (yt - f) / f;
					prod[g] *= LK_CAT(lk_abs, LK_VW) (f);
					pp = LK_CAT(lk_select, LK_VW) (LK_CAT(lk_abs, LK_VW) (olds) < tol, huge, yt / olds);
					tt = LK_CAT(lk_select, LK_VW) (LK_CAT(lk_abs, LK_VW) (q) < tol, huge, yt / q);
					break;
			}
			sse[g] += e * e;
			l[g] = q + alpha[g] * (pp - q);
			b[g] = phib + ba[g] * ((l[g] - oldl) - phib);
			ring[k][g] = olds + gamma[g] * (tt - olds);
		}
		if (++k == m)
			k = 0;
		if ((t & 7) == 7)
			for (int g = 0; g < ngroups; g++)
				if (family[g] > 0)
					for (int j = 0; j < LK_VW; j++)
					{
						double		x = prod[g][j];

						renormalise(&x, &expo[g][j]);
						prod[g][j] = x;
					}
	}

	for (int g = 0; g < ngroups; g++)
		for (int j = 0; j < LK_VW; j++)
			if (lane_of[g][j] >= 0)
				lane_finish(y, n, m, &lanes[lane_of[g][j]], sse[g][j], prod[g][j], expo[g][j]);
}

#undef LK_MAX_GROUPS
#undef LK_VD
#undef LK_VL
#undef LK_CAT
#undef LK_CAT2
