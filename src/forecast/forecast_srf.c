/*
 * forecast_srf.c
 *		forecast(ets_model, horizon): one row per step after the last
 *		observation, with its time, the forecast mean and the 80 % and 95 %
 *		prediction intervals (mean -+ z sqrt(variance), predict.c).
 */
#include "ets_model.h"
#include "ets_series.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "funcapi.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

/*
 * forecast(model, horizon): materialised rows (time, point, lo80, hi80,
 * lo95, hi95) for steps 1 .. horizon.
 */
PG_FUNCTION_INFO_V1(ets_forecast_sql);
Datum
ets_forecast_sql(PG_FUNCTION_ARGS)
{
	EtsModel   *model = PG_GETARG_ETS_MODEL(0);
	int32		h = PG_GETARG_INT32(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EtsFit		fit;
	double	   *mean,
			   *var;
	double		z80 = cx_z_for_confidence(0.80),
				z95 = cx_z_for_confidence(0.95);

	if (h < 1 || h > ETS_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid forecast horizon %d", h),
				 errdetail("The horizon is a number of steps between 1 and %d.", ETS_MAX_HORIZON)));

	InitMaterializedSRF(fcinfo, 0);
	ets_model_to_fit(model, &fit);
	mean = palloc(h * sizeof(double));
	var = palloc(h * sizeof(double));
	ets_forecast(&fit, h, mean, var);

	for (int i = 0; i < h; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		int64		t = ets_time_advance(model, model->last_time, i + 1);
		double		sd = sqrt(var[i] > 0 ? var[i] : 0);

		if (model->time_kind == ETS_TIME_DATE)
		{
			if (!IS_VALID_DATE(t))
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("forecast time out of range at step %d", i + 1)));
			/* midnight of the date in the session's time zone, as date::timestamptz */
			values[0] = DirectFunctionCall1(date_timestamptz, DateADTGetDatum((DateADT) t));
		}
		else
		{
			if (!IS_VALID_TIMESTAMP(t))
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("forecast time out of range at step %d", i + 1)));
			values[0] = TimestampTzGetDatum((TimestampTz) t);
		}
		values[1] = Float8GetDatum(mean[i]);
		values[2] = Float8GetDatum(mean[i] - z80 * sd);
		values[3] = Float8GetDatum(mean[i] + z80 * sd);
		values[4] = Float8GetDatum(mean[i] - z95 * sd);
		values[5] = Float8GetDatum(mean[i] + z95 * sd);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
