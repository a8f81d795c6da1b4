/*
 * series.c
 *		The state of the ets_fit aggregates: the (time, value) rows of one
 *		series in arrival order, with the fit options, built by the
 *		transition function, merged by the combine function and
 *		(de)serialised for parallel workers.  The final function (fit.c) sorts
 *		the rows by time, so that any plan gives the same series.
 *
 * Also here: the time arithmetic of a series (the time k steps after
 * another, calendar months included) and the ISO form of a time for
 * messages and the model's text form.
 */
#include "ets_model.h"
#include "ets_series.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

/* ------------------------------------------------------------ state */

/* An empty state in the aggregate's context, options unset. */
static EtsSeriesState *
state_new(MemoryContext cxt, int time_kind)
{
	EtsSeriesState *st = MemoryContextAllocZero(cxt, sizeof(EtsSeriesState));

	st->time_kind = time_kind;
	st->period = -1;
	st->damped = -1;
	return st;
}

/* Appends one row. */
void
ets_series_add(EtsSeriesState *st, int64 t, double v)
{
	if (st->n == st->cap)
	{
		int64		cap = st->cap ? st->cap * 2 : 256;

		if (cap > (int64) (MaxAllocHugeSize / sizeof(EtsRow)))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many rows in one series for ets_fit")));
		st->rows = st->rows ? repalloc_huge(st->rows, cap * sizeof(EtsRow))
			: MemoryContextAllocExtended(GetMemoryChunkContext(st), cap * sizeof(EtsRow),
										 MCXT_ALLOC_HUGE);
		st->cap = cap;
	}
	st->rows[st->n].t = t;
	st->rows[st->n].v = v;
	st->n++;
	st->sorted = false;
}

/*
 * The options of a group (model, period, damped) are the same on every
 * row: 22023 if a later row changes one.  model is kept as written (up to
 * ETS_SPEC_LEN bytes) and parsed by the final function.
 */
static void
set_model_option(EtsSeriesState *st, const char *spec, int len)
{
	if (len >= ETS_SPEC_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid ETS model specification \"%.*s\"", len, spec),
				 errdetail("A specification is three letters such as 'ZZZ', 'MAM' or 'AAdN'."),
				 errhint("Error A, M or Z; trend N, A, Ad or Z; season N, A, M or Z (Z: chosen by AICc).")));
	if (st->have_spec && (st->spec_len != len || memcmp(st->spec, spec, len) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model specification changes within one series, from '%s' to '%.*s'",
						st->spec, len, spec),
				 errhint("Pass one constant specification per group.")));
	memcpy(st->spec, spec, len);
	st->spec[len] = '\0';
	st->spec_len = len;
	st->have_spec = true;
}

/* The period option: at least 1, the same on every row. */
static void
set_period_option(EtsSeriesState *st, int32 period)
{
	if (period < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid seasonal period %d", period),
				 errdetail("The period is the number of steps in one season (7 for daily data with a weekly pattern); 1 for no season."),
				 errhint("Pass NULL to infer it from the time step.")));
	if (st->period >= 0 && st->period != period)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the seasonal period changes within one series, from %d to %d", st->period, period),
				 errhint("Pass one constant period per group.")));
	st->period = period;
}

/* The damped option: the same on every row. */
static void
set_damped_option(EtsSeriesState *st, bool damped)
{
	if (st->damped >= 0 && st->damped != (int) damped)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the damped option changes within one series"),
				 errhint("Pass one constant damped option per group.")));
	st->damped = damped ? 1 : 0;
}

/*
 * Transition of ets_fit: (state, time, value [, model [, period [, damped]]]).
 * Rows with a NULL time or value are skipped (a missing value then shows as
 * a gap); a NULL option means its default.
 */
static Datum
ets_fit_trans_common(FunctionCallInfo fcinfo, int time_kind)
{
	MemoryContext aggctx,
				old;
	EtsSeriesState *st;
	int			nargs = PG_NARGS();
	double		v;
	int64		t;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "ets_fit transition function called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (EtsSeriesState *) PG_GETARG_POINTER(0);
	if (st == NULL)
		st = state_new(aggctx, time_kind);
	old = MemoryContextSwitchTo(aggctx);
	if (nargs > 3 && !PG_ARGISNULL(3))
	{
		text	   *spec = PG_GETARG_TEXT_PP(3);

		set_model_option(st, VARDATA_ANY(spec), VARSIZE_ANY_EXHDR(spec));
	}
	if (nargs > 4 && !PG_ARGISNULL(4))
		set_period_option(st, PG_GETARG_INT32(4));
	if (nargs > 5 && !PG_ARGISNULL(5))
		set_damped_option(st, PG_GETARG_BOOL(5));
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		v = PG_GETARG_FLOAT8(2);
		if (time_kind == ETS_TIME_DATE)
		{
			DateADT		d = PG_GETARG_DATEADT(1);

			if (DATE_NOT_FINITE(d))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("ets_fit cannot use an infinite date")));
			t = d;
		}
		else
		{
			TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);

			if (TIMESTAMP_NOT_FINITE(ts))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("ets_fit cannot use an infinite timestamp")));
			t = ts;
		}
		if (!isfinite(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ets_fit value %s at %s is not finite",
							isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"),
							ets_format_time(time_kind, t)),
					 errhint("Leave the row out (a gap) or replace the value.")));
		ets_series_add(st, t, v);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* Transition over date times. */
PG_FUNCTION_INFO_V1(ets_fit_trans_date);
Datum
ets_fit_trans_date(PG_FUNCTION_ARGS)
{
	return ets_fit_trans_common(fcinfo, ETS_TIME_DATE);
}

/* Transition over timestamptz times. */
PG_FUNCTION_INFO_V1(ets_fit_trans_timestamptz);
Datum
ets_fit_trans_timestamptz(PG_FUNCTION_ARGS)
{
	return ets_fit_trans_common(fcinfo, ETS_TIME_TIMESTAMPTZ);
}

/* Combine: appends the second series' rows and merges the options. */
PG_FUNCTION_INFO_V1(ets_fit_combine);
Datum
ets_fit_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx,
				old;
	EtsSeriesState *a,
			   *b;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "ets_fit combine function called in non-aggregate context");
	a = PG_ARGISNULL(0) ? NULL : (EtsSeriesState *) PG_GETARG_POINTER(0);
	b = PG_ARGISNULL(1) ? NULL : (EtsSeriesState *) PG_GETARG_POINTER(1);
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	old = MemoryContextSwitchTo(aggctx);
	if (a == NULL)
		a = state_new(aggctx, b->time_kind);
	if (b->have_spec)
		set_model_option(a, b->spec, b->spec_len);
	if (b->period >= 0)
		set_period_option(a, b->period);
	if (b->damped >= 0)
		set_damped_option(a, b->damped != 0);
	for (int64 i = 0; i < b->n; i++)
		ets_series_add(a, b->rows[i].t, b->rows[i].v);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/*
 * Serialised state: time kind, options (spec length and bytes, period,
 * damped), row count, rows (time int8, value float8).  Internal to one
 * query: the executor alone calls these.
 */
PG_FUNCTION_INFO_V1(ets_fit_serial);
Datum
ets_fit_serial(PG_FUNCTION_ARGS)
{
	EtsSeriesState *st;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ets_fit serial function called in non-aggregate context");
	st = (EtsSeriesState *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, (uint8) st->time_kind);
	pq_sendbyte(&buf, st->have_spec ? (uint8) st->spec_len : 0xff);
	if (st->have_spec)
		pq_sendbytes(&buf, st->spec, st->spec_len);
	pq_sendint32(&buf, st->period);
	pq_sendint32(&buf, st->damped);
	pq_sendint64(&buf, st->n);
	for (int64 i = 0; i < st->n; i++)
	{
		pq_sendint64(&buf, st->rows[i].t);
		pq_sendfloat8(&buf, st->rows[i].v);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(ets_fit_deserial);
Datum
ets_fit_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	EtsSeriesState *st;
	MemoryContext aggctx,
				old;
	int			speclen;
	int32		period,
				damped;
	int64		n;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "ets_fit deserial function called in non-aggregate context");
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	old = MemoryContextSwitchTo(aggctx);
	st = state_new(aggctx, pq_getmsgbyte(&buf));
	speclen = pq_getmsgbyte(&buf);
	if (speclen != 0xff)
	{
		char		spec[ETS_SPEC_LEN];

		pq_copymsgbytes(&buf, spec, speclen);
		set_model_option(st, spec, speclen);
	}
	period = pq_getmsgint(&buf, 4);
	damped = pq_getmsgint(&buf, 4);
	if (period >= 0)
		set_period_option(st, period);
	if (damped >= 0)
		set_damped_option(st, damped != 0);
	n = pq_getmsgint64(&buf);
	for (int64 i = 0; i < n; i++)
	{
		int64		t = pq_getmsgint64(&buf);
		double		v = pq_getmsgfloat8(&buf);

		ets_series_add(st, t, v);
	}
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	pfree(buf.data);
	PG_RETURN_POINTER(st);
}

/* ------------------------------------------------------------ sorting */

/* Rows by time, then value. */
static int
row_cmp(const void *pa, const void *pb)
{
	const EtsRow *a = pa;
	const EtsRow *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return 0;
}

/* Sorts the rows by time (and value, so that duplicates are reported alike on any plan). */
void
ets_series_sort(EtsSeriesState *st)
{
	if (!st->sorted)
		qsort(st->rows, st->n, sizeof(EtsRow), row_cmp);
	st->sorted = true;
}

/* ------------------------------------------------------------ time */

/* Year, month, day of a date (days since 2000-01-01). */
static void
date_ymd(int64 d, int *y, int *m, int *dd)
{
	j2date((int) (d + POSTGRES_EPOCH_JDATE), y, m, dd);
}

/* The number of days of month m of year y. */
static int
days_in_month(int y, int m)
{
	return day_tab[isleap(y)][m - 1];
}

/*
 * The ISO form of a time: YYYY-MM-DD for a date, YYYY-MM-DD HH:MM:SS[.ffffff]+00
 * (UTC) for a timestamptz.  Independent of DateStyle and TimeZone, so that
 * messages and the model's text form are the same in every session.
 */
char *
ets_format_time(int time_kind, int64 t)
{
	if (time_kind == ETS_TIME_DATE)
	{
		int			y,
					m,
					d;

		date_ymd(t, &y, &m, &d);
		if (y <= 0)
			return psprintf("%04d-%02d-%02d BC", 1 - y, m, d);
		return psprintf("%04d-%02d-%02d", y, m, d);
	}
	else
	{
		int64		days = t / USECS_PER_DAY;
		int64		us = t % USECS_PER_DAY;
		int			y,
					m,
					d;
		char	   *frac;

		if (us < 0)
		{
			us += USECS_PER_DAY;
			days--;
		}
		date_ymd(days, &y, &m, &d);
		frac = us % USECS_PER_SEC ? psprintf(".%06d", (int) (us % USECS_PER_SEC)) : "";
		if (y <= 0)
			return psprintf("%04d-%02d-%02d %02d:%02d:%02d%s+00 BC", 1 - y, m, d,
							(int) (us / USECS_PER_HOUR), (int) (us / USECS_PER_MINUTE % 60),
							(int) (us / USECS_PER_SEC % 60), frac);
		return psprintf("%04d-%02d-%02d %02d:%02d:%02d%s+00", y, m, d,
						(int) (us / USECS_PER_HOUR), (int) (us / USECS_PER_MINUTE % 60),
						(int) (us / USECS_PER_SEC % 60), frac);
	}
}

/* The date of a time (a timestamptz's UTC date) and its microseconds into that day. */
static int64
time_date(int time_kind, int64 t, int64 *us_of_day)
{
	int64		days,
				us;

	if (time_kind == ETS_TIME_DATE)
	{
		*us_of_day = 0;
		return t;
	}
	days = t / USECS_PER_DAY;
	us = t % USECS_PER_DAY;
	if (us < 0)
	{
		us += USECS_PER_DAY;
		days--;
	}
	*us_of_day = us;
	return days;
}

/* The calendar month number (year * 12 + month - 1) of a date. */
static int64
month_index(int64 d)
{
	int			y,
				m,
				dd;

	date_ymd(d, &y, &m, &dd);
	return (int64) y * 12 + m - 1;
}

/*
 * The date of month number mi, on day `day` (clamped to the month's
 * length), or on its last day.
 */
static int64
month_date(int64 mi, int day, bool month_end)
{
	int			y = (int) (mi >= 0 ? mi / 12 : -((-mi + 11) / 12));
	int			m = (int) (mi - (int64) y * 12) + 1;
	int			len = days_in_month(y, m);

	if (month_end || day > len)
		day = len;
	return (int64) date2j(y, m, day) - POSTGRES_EPOCH_JDATE;
}

/* The time k steps after t on the model's time axis. */
int64
ets_time_advance(const EtsModel *model, int64 t, int64 k)
{
	if (model->step_unit == ETS_STEP_MONTHS)
	{
		int64		us;
		int64		d = time_date(model->time_kind, t, &us);
		int			y,
					m,
					dd;
		int64		nd;

		date_ymd(d, &y, &m, &dd);
		nd = month_date(month_index(d) + k * model->step, dd, model->month_end);
		return model->time_kind == ETS_TIME_DATE ? nd : nd * USECS_PER_DAY + us;
	}
	if (model->step_unit == ETS_STEP_DAYS)
		return t + k * model->step;
	return t + k * model->step;
}

/*
 * The seasonal period the time step implies: a week of days (7), a year of
 * weeks (52), of months (12) or of quarters (4), a day of hours (24);
 * otherwise no season (1).
 */
static int
period_of_step(int unit, int64 step)
{
	if (unit == ETS_STEP_DAYS)
		return step == 1 ? 7 : (step == 7 ? 52 : 1);
	if (unit == ETS_STEP_MONTHS)
		return 12 % step == 0 ? (int) (12 / step) : 1;
	if (step == USECS_PER_HOUR)
		return 24;
	if (step == USECS_PER_DAY)
		return 7;
	if (step == 7 * USECS_PER_DAY)
		return 52;
	return 1;
}

/* 22023 for a gap between rows i - 1 and i of a series stepping by `what`. */
static void
gap_error(const EtsSeriesState *st, int64 i, const char *what, int64 missing)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the series has a gap between %s and %s",
					ets_format_time(st->time_kind, st->rows[i - 1].t),
					ets_format_time(st->time_kind, st->rows[i].t)),
			 missing > 0
			 ? errdetail("The series steps by %s (its smallest step); " INT64_FORMAT " time%s between these rows %s missing.",
						 what, missing, missing == 1 ? "" : "s", missing == 1 ? "is" : "are")
			 : errdetail("The series steps by %s (its smallest step); these rows are not a whole number of steps apart.",
						 what),
			 errhint("ETS needs one value per step: fill the missing times (generate_series and a LEFT JOIN, COALESCE(value, 0) where no sale means 0), or aggregate to a coarser step.")));
}

/*
 * The time step of a sorted series without duplicates (at least two rows),
 * and the seasonal period it implies.  A series is regular when all its
 * steps are equal: a number of days (date), or of microseconds
 * (timestamptz); or a number of calendar months between dates on the same
 * day of the month, or all on the last day of their month (a timestamptz
 * series: the same, in UTC, at one time of day).  Anything else has a gap:
 * 22023, naming it.
 */
void
ets_series_step(const EtsSeriesState *st, EtsModel *model)
{
	int64		n = st->n;
	const EtsRow *r = st->rows;
	int64		d0 = r[1].t - r[0].t,
				dmin = d0;
	bool		equal = true;

	for (int64 i = 2; i < n; i++)
	{
		int64		d = r[i].t - r[i - 1].t;

		if (d != d0)
			equal = false;
		if (d < dmin)
			dmin = d;
	}
	model->month_end = 0;
	if (equal)
	{
		model->step_unit = st->time_kind == ETS_TIME_DATE ? ETS_STEP_DAYS : ETS_STEP_USEC;
		model->step = d0;
		model->period = period_of_step(model->step_unit, d0);
		return;
	}

	/* calendar months? */
	{
		int64		us0,
					us;
		int64		day0 = time_date(st->time_kind, r[0].t, &us0);
		int			y,
					m,
					dd0;
		bool		same_day = true,
					month_ends = true,
					same_time = true;

		date_ymd(day0, &y, &m, &dd0);
		for (int64 i = 0; i < n; i++)
		{
			int64		day = time_date(st->time_kind, r[i].t, &us);
			int			dd;

			date_ymd(day, &y, &m, &dd);
			if (dd != dd0)
				same_day = false;
			if (dd != days_in_month(y, m))
				month_ends = false;
			if (us != us0)
				same_time = false;
		}
		if ((same_day || month_ends) && same_time)
		{
			int64		k0 = month_index(time_date(st->time_kind, r[1].t, &us)) -
				month_index(day0);
			int64		kmin = k0;
			bool		mequal = true;

			for (int64 i = 2; i < n; i++)
			{
				int64		k = month_index(time_date(st->time_kind, r[i].t, &us)) -
					month_index(time_date(st->time_kind, r[i - 1].t, &us));

				if (k != k0)
					mequal = false;
				if (k < kmin)
					kmin = k;
			}
			if (mequal && k0 > 0)
			{
				model->step_unit = ETS_STEP_MONTHS;
				model->step = k0;
				model->month_end = !same_day && month_ends;
				model->period = period_of_step(ETS_STEP_MONTHS, k0);
				return;
			}
			if (kmin > 0)
				for (int64 i = 1; i < n; i++)
				{
					int64		k = month_index(time_date(st->time_kind, r[i].t, &us)) -
						month_index(time_date(st->time_kind, r[i - 1].t, &us));

					if (k != kmin)
						gap_error(st, i, psprintf(INT64_FORMAT " month%s", kmin, kmin == 1 ? "" : "s"),
								  k % kmin == 0 ? k / kmin - 1 : -1);
				}
		}
	}

	/* a gap in a series of equal steps */
	for (int64 i = 1; i < n; i++)
	{
		int64		d = r[i].t - r[i - 1].t;

		if (d != dmin)
		{
			char	   *what;

			if (st->time_kind == ETS_TIME_DATE)
				what = psprintf(INT64_FORMAT " day%s", dmin, dmin == 1 ? "" : "s");
			else if (dmin % USECS_PER_DAY == 0)
				what = psprintf(INT64_FORMAT " day%s", dmin / USECS_PER_DAY,
								dmin == USECS_PER_DAY ? "" : "s");
			else if (dmin % USECS_PER_SEC == 0)
				what = psprintf(INT64_FORMAT " second%s", dmin / USECS_PER_SEC,
								dmin == USECS_PER_SEC ? "" : "s");
			else
				what = psprintf(INT64_FORMAT " microseconds", dmin);
			gap_error(st, i, what, d % dmin == 0 ? d / dmin - 1 : -1);
		}
	}
}
