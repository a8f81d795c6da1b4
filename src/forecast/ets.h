/*
 * ets.h
 *		Exponential smoothing (ETS) state space models: the numerical core.
 *
 * The models are those of Hyndman, Koehler, Snyder & Grose (2002) and
 * Hyndman, Koehler, Ord & Snyder (2008), "Forecasting with Exponential
 * Smoothing": error A or M, trend N, A or Ad (damped), season N, A or M.
 * The estimation follows R's forecast::ets (forecast 8.20-8.23) step by step
 * (starting values, initial states, bounds, admissibility, the Nelder-Mead
 * minimiser and its tolerances, the information criteria) so that the same
 * model is chosen with the same parameters; docs/forecasting.md explains
 * each step.  The code is cxkpi's own.
 *
 * This layer is plain C: no PostgreSQL header, no error reporting.  The host
 * (the SQL-facing files of src/forecast, or a test harness) provides
 * ets_alloc() and ets_check_interrupts(), and turns the status codes into
 * errors.
 */
#ifndef CXKPI_ETS_H
#define CXKPI_ETS_H

#include <stdbool.h>
#include <stddef.h>

/* Component codes, as forecast's etscalc.c numbers them. */
#define ETS_NONE	0
#define ETS_ADD		1
#define ETS_MULT	2

/* The largest seasonal period ETS fits (R refuses seasonal ETS above 24). */
#define ETS_MAX_PERIOD	24
/* States: level, trend, m seasonal states. */
#define ETS_MAX_STATES	(2 + ETS_MAX_PERIOD)
/* Estimated values: alpha, beta, gamma, phi, level, trend, m - 1 seasonal states. */
#define ETS_MAX_PAR		(4 + 2 + ETS_MAX_PERIOD - 1)

/* Host hooks: memory that lives until the host frees it, and a cancellation point. */
extern void *ets_alloc(size_t size);
extern void ets_check_interrupts(void);

/* One model form: ETS(error, trend[d], season). */
typedef struct EtsSpec
{
	int			error;			/* ETS_ADD or ETS_MULT */
	int			trend;			/* ETS_NONE or ETS_ADD */
	int			season;			/* ETS_NONE, ETS_ADD or ETS_MULT */
	bool		damped;
} EtsSpec;

/*
 * What the caller asks for: each component fixed or left to the search
 * (-1, R's "Z"), damping fixed or tried both ways (-1, R's damped = NULL).
 */
typedef struct EtsRequest
{
	int			error;			/* ETS_ADD, ETS_MULT or -1 */
	int			trend;			/* ETS_NONE, ETS_ADD or -1 */
	int			season;			/* ETS_NONE, ETS_ADD, ETS_MULT or -1 */
	int			damped;			/* 0, 1 or -1 */
} EtsRequest;

/* A fitted model: R's ets object, less the data. */
typedef struct EtsFit
{
	EtsSpec		spec;
	int			m;				/* seasonal period of the model (1 without season) */
	int			n;				/* observations */
	double		alpha,
				beta,
				gamma,
				phi;			/* NaN when the model has no such parameter */
	int			nstate;			/* 1 + (trend) + m (season) */
	double		init[ETS_MAX_STATES];	/* l, b, s_0 .. s_{m-1} at time 0 (s_0 newest) */
	double		last[ETS_MAX_STATES];	/* the same after the last observation */
	int			npar;			/* estimated values: parameters and free initial states */
	double		loglik;			/* R's loglik: -0.5 * (n log SSE + 2 sum log|mu_t|) */
	double		aic,
				aicc,
				bic;
	double		sigma2;			/* sum(e^2) / (n - npar), e relative for M errors */
	double		mse;			/* mean squared one-step error, in the data's units */
	int			fncount;		/* objective evaluations of the minimiser */
	bool		converged;		/* the minimiser met its tolerance (not its limit) */
	bool		constant;		/* a constant series: R's ses(alpha = 0.99999) shortcut */
} EtsFit;

/* Outcome of ets_auto(). */
typedef enum EtsStatus
{
	ETS_OK = 0,
	ETS_TOO_SHORT,				/* fewer observations than the requested model needs */
	ETS_NOT_POSITIVE,			/* multiplicative errors asked for, data not all > 0 */
	ETS_FORBIDDEN,				/* a combination forecast::ets refuses (restrict = TRUE) */
	ETS_SEASON_NEEDS_PERIOD,	/* a seasonal model asked for, period 1 */
	ETS_PERIOD_TOO_LONG,		/* a seasonal model asked for, period above 24 */
	ETS_SEASON_TOO_SHORT,		/* a seasonal model asked for, no more than m observations */
	ETS_NO_MODEL				/* no candidate could be estimated */
} EtsStatus;

/* The search's record of each candidate, for diagnostics and tests. */
typedef struct EtsCandidate
{
	EtsSpec		spec;
	double		aicc;			/* +Inf when the candidate could not be estimated */
	int			fncount;
} EtsCandidate;

#define ETS_MAX_CANDIDATES	16

typedef struct EtsSearch
{
	int			ncand;
	EtsCandidate cand[ETS_MAX_CANDIDATES];
	int			nevals;			/* objective evaluations over all candidates */
} EtsSearch;

/*
 * Fits the requested model (or chooses one by AICc among the candidates
 * forecast::ets tries) for y[0..n-1] with seasonal period m >= 1.
 * search may be NULL.
 */
extern EtsStatus ets_auto(const double *y, int n, int m, const EtsRequest *req,
						  EtsFit *fit, EtsSearch *search);

/* Method name "ETS(M,Ad,M)" into buf (at least 12 bytes). */
extern void ets_method_name(const EtsSpec *spec, char *buf);

/* ------------------------------------------------------------------------
 * Internals shared by the core's files.
 * ------------------------------------------------------------------------
 */

/* Parameters (alpha, beta, gamma, phi) in forecast's conventions: beta = 0
 * without trend, gamma = 0 without season, phi = 1 without damping. */
typedef struct EtsParams
{
	double		alpha,
				beta,
				gamma,
				phi;
} EtsParams;

/* admissible.c: forecast's "both" bounds (usual and admissible). */
extern bool ets_params_ok(const EtsSpec *spec, int m, const EtsParams *p);

/* init.c: starting values of the initial states and of the parameters. */
extern int	ets_initial_states(const double *y, int n, int m, const EtsSpec *spec, double *states);
extern int	ets_start_params(const EtsSpec *spec, int m, double *par);

/* recursion.c: the state space recursion. */
typedef struct EtsPass
{
	double		lik;			/* n log(SSE) [+ 2 sum log|mu_t|]: -2 loglik up to a constant */
	double		sse;			/* sum of squared errors e_t (relative for M errors) */
	double		sse_abs;		/* sum of squared one-step errors in the data's units */
	double		last[ETS_MAX_STATES];
} EtsPass;

extern void ets_pass(const double *y, int n, int m, const EtsSpec *spec, const EtsParams *p,
					 const double *x0, EtsPass *out);
extern double ets_objective(const double *y, int n, int m, const EtsSpec *spec, int nstate,
							const double *par);

/*
 * Several objective evaluations at once, one per lane, over the same series:
 * independent recursions interleaved in one loop over time, so that the
 * processor overlaps their dependency chains.  Each lane gives its model,
 * parameters and full initial state; lik receives the objective.
 */
typedef struct EtsLane
{
	EtsSpec		spec;
	EtsParams	p;
	double		x0[ETS_MAX_STATES];
	double		lik;
} EtsLane;

#define ETS_MAX_LANES	32

extern void ets_objective_lanes(const double *y, int n, int m, EtsLane *lanes, int nlanes);

/* Maps a minimiser point to parameters and the full initial state; false
 * (objective +Inf) when the parameters or seasonal states are out of bounds. */
extern bool ets_unpack(const EtsSpec *spec, int m, int nstate, const double *par,
					   EtsParams *p, double *x0);

/* nelder_mead.c: R's Nelder-Mead (optim's nmmin) as a resumable state machine. */
typedef struct EtsNM
{
	int			n;				/* dimension */
	int			maxit;
	double		abstol,
				intol,
				alpha,
				bet,
				gamm;
	int			phase;
	double		P[ETS_MAX_PAR + 1][ETS_MAX_PAR + 2];	/* P[i][j]: coordinate i (row n: f) of vertex j */
	double		B[ETS_MAX_PAR];	/* the trial point */
	int			L,
				H;				/* best and worst vertex (0-based) */
	int			funcount;
	int			fail;			/* 0, 1 (limit), 10 (shrink failed), -1 (bad start) */
	double		convtol,
				oldsize,
				VH,
				VL,
				VR;
	bool		calcvert;
	bool		speculate;		/* request the points of a whole iteration at once */
	/* requests: points whose objective the caller must supply */
	int			nreq;
	int			req_col[ETS_MAX_PAR + 1];	/* CALCVERT: the vertex of each request */
	double		req[ETS_MAX_PAR + 1][ETS_MAX_PAR];
	double		fval[ETS_MAX_PAR + 1];
} EtsNM;

extern void ets_nm_start(EtsNM *nm, int n, const double *x0, int maxit);
extern bool ets_nm_feed(EtsNM *nm);	/* consumes fval[0..nreq-1]; false when done */
extern void ets_nm_result(const EtsNM *nm, double *x, double *fmin);

/* predict.c: forecasts and their variances (classes 1-3 of Hyndman et al. 2008, ch. 6). */
extern void ets_forecast(const EtsFit *fit, int h, double *mean, double *var);

#endif							/* CXKPI_ETS_H */
