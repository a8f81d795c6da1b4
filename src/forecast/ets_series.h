/*
 * ets_series.h
 *		The state of the ets_fit aggregates (series.c) and what the final
 *		function (fit.c) needs of it.
 */
#ifndef CXKPI_ETS_SERIES_H
#define CXKPI_ETS_SERIES_H

#include "ets_model.h"

/* The longest model specification kept ('ETS(M,Ad,M)' and some room). */
#define ETS_SPEC_LEN	32

/* One row: a time (date days or timestamptz microseconds) and its value. */
typedef struct EtsRow
{
	int64		t;
	double		v;
} EtsRow;

typedef struct EtsSeriesState
{
	int			time_kind;		/* ETS_TIME_* */
	int64		n;
	int64		cap;
	EtsRow	   *rows;
	bool		sorted;
	/* options, the same on every row of the group */
	bool		have_spec;
	int			spec_len;
	char		spec[ETS_SPEC_LEN];
	int32		period;			/* -1: infer from the step */
	int32		damped;			/* -1: try both */
} EtsSeriesState;

extern void ets_series_add(EtsSeriesState *st, int64 t, double v);
extern void ets_series_sort(EtsSeriesState *st);
extern void ets_series_step(const EtsSeriesState *st, EtsModel *model);
extern char *ets_format_time(int time_kind, int64 t);

#endif							/* CXKPI_ETS_SERIES_H */
