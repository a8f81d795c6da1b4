/*
 * ets_model.h
 *		The SQL type ets_model (a fitted exponential smoothing model and the
 *		time axis of its series), the fit aggregate's state and the time
 *		arithmetic shared by the aggregate and forecast().
 */
#ifndef CXKPI_ETS_MODEL_H
#define CXKPI_ETS_MODEL_H

#include "cxkpi.h"
#include "forecast/ets.h"

#define ETS_MODEL_VERSION	1

/* The type of the series' times. */
#define ETS_TIME_DATE		1
#define ETS_TIME_TIMESTAMPTZ 2

/* The unit of the time step. */
#define ETS_STEP_DAYS		1	/* date series: a number of days */
#define ETS_STEP_MONTHS		2	/* date (or midnight-aligned timestamptz) series: calendar months */
#define ETS_STEP_USEC		3	/* timestamptz series: a fixed number of microseconds */

/*
 * A model.  Fixed size (the largest state vector), zeroed where unused, so
 * that equal models are bytewise equal.  Parameters the model does not have
 * are NaN; so are the information criteria of a constant series' model.
 */
typedef struct EtsModel
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* ETS_MODEL_VERSION */
	uint8		error;			/* ETS_ADD, ETS_MULT */
	uint8		trend;			/* ETS_NONE, ETS_ADD */
	uint8		season;			/* ETS_NONE, ETS_ADD, ETS_MULT */
	uint8		damped;
	uint8		constant;		/* fitted by the constant-series shortcut */
	uint8		converged;
	uint8		time_kind;		/* ETS_TIME_* */
	uint8		step_unit;		/* ETS_STEP_* */
	uint8		month_end;		/* monthly steps on the last day of each month */
	uint8		pad[2];
	int32		period;			/* the series' seasonal period (1: none) */
	int32		n;				/* observations */
	int32		evaluations;	/* objective evaluations of the minimiser */
	int32		nstate;			/* 1 + trend + m */
	int64		step;			/* in step_unit */
	int64		last_time;		/* date (days) or timestamptz (microseconds) of the last observation */
	double		alpha,
				beta,
				gamma,
				phi;
	double		sigma2,
				loglik,
				aic,
				aicc,
				bic,
				mse;
	double		init[ETS_MAX_STATES];	/* l, b, s_0 (newest) .. s_{m-1} before the first observation */
	double		state[ETS_MAX_STATES];	/* the same after the last observation */
} EtsModel;

#define ETS_MODEL_SIZE	sizeof(EtsModel)

extern EtsModel *ets_model_alloc(void);
extern EtsModel *ets_model_get(Datum d);
extern void ets_model_to_fit(const EtsModel *model, EtsFit *fit);
extern int	ets_model_m(const EtsModel *model);
extern void ets_model_method(const EtsModel *model, char *buf);

#define PG_GETARG_ETS_MODEL(n)	ets_model_get(PG_GETARG_DATUM(n))

/* Time arithmetic (series.c): the time k steps after t, in the series' units. */
extern int64 ets_time_advance(const EtsModel *model, int64 t, int64 k);

/* The largest forecast horizon. */
#define ETS_MAX_HORIZON		10000

#endif							/* CXKPI_ETS_MODEL_H */
