/*
 * clv.h
 *		Customer lifetime value: the fitted-model type shared by BG/NBD,
 *		MBG/NBD and Gamma-Gamma, the fit-aggregate state (a weighted histogram
 *		of distinct input rows), the likelihoods, the optimiser wrapper and
 *		the prediction kernels.
 *
 * All times are in the caller's time unit (whatever unit frequency, recency
 * and t were given in); the models store no unit.  Money is in the caller's
 * currency.
 */
#ifndef CXKPI_CLV_H
#define CXKPI_CLV_H

#include "cxkpi.h"

#define CLV_MODEL_VERSION	1

typedef enum ClvKind
{
	CLV_BGNBD = 1,
	CLV_MBGNBD = 2,
	CLV_GAMMA_GAMMA = 3
} ClvKind;

#define CLV_MAX_PARAMS	4

/*
 * A model: parameters, and when it came out of a fit, the fit report.  A
 * fixed-size varlena; `fitted` is 0 for a model built from known parameters
 * (its fit fields are then 0 or NaN and the accessors return NULL).
 */
typedef struct ClvModel
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* CLV_MODEL_VERSION */
	uint8		kind;			/* ClvKind */
	uint8		fitted;			/* 1 when the fields below describe a fit */
	uint8		converged;
	int32		iterations;		/* optimiser iterations over all starts */
	int64		customers;		/* rows (sum of weights) used by the fit */
	int64		repeaters;		/* ... of which with frequency > 0 */
	double		params[CLV_MAX_PARAMS]; /* r, alpha, a, b  or  p, q, v */
	double		se[CLV_MAX_PARAMS]; /* standard errors (NaN if unavailable) */
	double		loglik;			/* log-likelihood in the input units */
	double		grad_norm;		/* of the mean NLL in log-parameters at the end */
	double		penalizer;		/* the penalty coefficient used (0: plain MLE) */
} ClvModel;

#define CLV_MODEL_SIZE	sizeof(ClvModel)

extern int	clv_nparams(int kind);
extern const char *clv_typname(int kind);
extern const char *const *clv_param_names(int kind);
extern ClvModel *clv_model_alloc(int kind);
extern ClvModel *clv_model_get(Datum d, int kind);
extern void clv_check_params(int kind, const double *params);

#define PG_GETARG_CLV_MODEL(n, kind)	clv_model_get(PG_GETARG_DATUM(n), (kind))

/* ------------------------------------------------------------ row checks */

/* 22023/22003 naming the values if (x, t_x, T) is not a valid RFM row. */
extern void clv_check_rfm(int32 x, double tx, double T);
extern void clv_check_horizon(double t, const char *what);

/* ------------------------------------------------------------ fit state */

/* One distinct input row and how many customers share it. */
typedef struct ClvRow
{
	int32		x;
	int32		pad;
	double		u;				/* recency (BG/NBD) or monetary value (Gamma-Gamma) */
	double		v;				/* age T (BG/NBD); 0 for Gamma-Gamma */
	int64		w;
} ClvRow;

/*
 * The histogram has two modes.  Hashed (the default): every row added is
 * looked up in an open-addressing index and merged with an identical row,
 * so the rows are distinct; best when many customers share a row.  Appended
 * (once most rows added turn out distinct, the index costs more than it
 * saves: a cache miss per row): rows are appended, and duplicates are merged
 * when the array is full or the state is compacted, by sorting the unsorted
 * tail and merging it with the sorted prefix.  Either way rows[0 .. nsorted)
 * are distinct and in canonical order.
 */
typedef struct ClvFitState
{
	int			kind;
	int64		n;				/* rows (distinct unless appended) */
	int64		cap;
	ClvRow	   *rows;
	int64		nsorted;		/* rows[0 .. nsorted) are distinct and in canonical order */
	bool		append;			/* appended mode: no index */
	uint32	   *slots;			/* open-addressing index of rows (row + 1; 0 = empty) */
	int64		nslots;			/* power of 2, or 0 when the index must be rebuilt */
	int64		added;			/* rows added ... */
	int64		mark_n;			/* ... and n, at the last choice of mode */
	int64		mark_added;
	double		penalizer;
	bool		have_penalizer;
} ClvFitState;

extern void clv_state_compact(ClvFitState *st);
extern uint64 clv_hash_double(double v);
extern void clv_state_add(ClvFitState *st, int32 x, double u, double v, int64 w);

/* ------------------------------------------------------------ likelihoods */

/*
 * Prepared data for a likelihood: rows sorted by x, and the distinct time
 * values each row points to (so that ln(alpha + t) is computed once per
 * distinct time per evaluation).
 */
typedef struct ClvData
{
	int			kind;
	int64		nrows;
	const ClvRow *rows;
	int32	   *ix_u;			/* index into times[] of each row's u; NULL when */
	int32	   *ix_v;			/* ... and v;   most times are distinct: then the
								 * logs are taken per row, of u * scale and v * scale */
	double	   *times;			/* distinct (scaled) time values */
	int64		ntimes;
	double	   *lt;				/* work: ln(alpha + times[k]) */
	double	   *it;				/* work: 1 / (alpha + times[k]) */
	double	   *lnu;			/* Gamma-Gamma: ln m per row */
	double		wsum;			/* sum of weights */
	double		scale;			/* time (or money) scale applied */
	double		penalizer;
} ClvData;

extern void clv_data_prepare(ClvData *d, ClvFitState *st);
extern void clv_data_subsample(const ClvData *d, int64 step, ClvData *out);

/* Mean negative log-likelihood at log-parameters theta, and its gradient. */
extern double clv_bgnbd_nll(const ClvData *d, const double *theta, double *grad);
extern double clv_gg_nll(const ClvData *d, const double *theta, double *grad);
/* Hessian of the mean NLL in theta (n x n, row-major), analytically. */
extern void clv_bgnbd_hessian(const ClvData *d, const double *theta, double *H);

/* ------------------------------------------------------------ optimiser */

typedef double (*ClvObjective) (const ClvData *d, const double *theta, double *grad);
typedef void (*ClvHessian) (const ClvData *d, const double *theta, double *H);

typedef struct ClvFitResult
{
	double		theta[CLV_MAX_PARAMS];
	double		f;
	double		grad_norm;
	int			iterations;
	bool		converged;
	double		cov[CLV_MAX_PARAMS][CLV_MAX_PARAMS];	/* of theta, mean-NLL units */
	bool		have_cov;
} ClvFitResult;

extern void clv_minimise(const ClvData *d, ClvObjective fn, ClvHessian hfn, int n, const double *start,
						 ClvFitResult *res);

/* ------------------------------------------------------------ predictions */

extern double clv_expectation(double t, double r, double alpha, double a, double b);

#define CLV_MULTI_MAX	64		/* horizons per clv_expectation_multi call */
extern void clv_expectation_multi(int n, const double *t, double r, double alpha, double a,
								  double b, double *out);
extern double clv_p_alive(const ClvModel *m, int32 x, double tx, double T);
extern double clv_expected_spend(const ClvModel *g, int32 x, double mbar);

/* ------------------------------------------------------------ (x, T) cache */

#define CLV_XT_KEY	8			/* doubles identifying what the cached values depend on */

typedef struct ClvXtCache ClvXtCache;

extern ClvXtCache *clv_xt_cache(FunctionCallInfo fcinfo, const double *key);
extern bool clv_xt_lookup(ClvXtCache *c, int32 x, double T, double *value);
extern void clv_xt_store(ClvXtCache *c, int32 x, double T, double value);

#endif							/* CXKPI_CLV_H */
