/*
 * ces.c
 *		Customer Effort Score: ces_summary input and the build transition
 *		(5- and 7-point agreement scales).  The mean and %-agree accessors are
 *		the shared functions of score_summary.c.
 *
 * CES 2.0 asks for agreement with "X made it easy for me to handle my
 * issue": higher is better.  "Agree" is the top three boxes on 7 (5-7) and
 * the top two on 5 (4-5).
 */
#include "score_summary.h"

#define CES_DEFAULT_SCALE	7

PG_FUNCTION_INFO_V1(ces_summary_in);
Datum
ces_summary_in(PG_FUNCTION_ARGS)
{
	return score_summary_in_kind(fcinfo, SCORE_CES);
}

PG_FUNCTION_INFO_V1(ces_summary_recv);
Datum
ces_summary_recv(PG_FUNCTION_ARGS)
{
	return score_summary_recv_kind(fcinfo, SCORE_CES);
}

/* ces_agg(score [, scale]) transition; NULL score or scale skips the row. */
PG_FUNCTION_INFO_V1(ces_agg_trans);
Datum
ces_agg_trans(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;
	int32		scale = CES_DEFAULT_SCALE;

	if (PG_ARGISNULL(1) || (PG_NARGS() > 2 && PG_ARGISNULL(2)))
		return score_state_skip_row(fcinfo, SCORE_CES);
	if (PG_NARGS() > 2)
		scale = PG_GETARG_INT32(2);
	s = score_state(fcinfo, SCORE_CES, scale);
	score_summary_add(s, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(s);
}

/* Moving-mode transition of rollup(): see score_summary_moving_merge. */
PG_FUNCTION_INFO_V1(ces_rollup_mtrans);
Datum
ces_rollup_mtrans(PG_FUNCTION_ARGS)
{
	return score_summary_moving_merge(fcinfo, SCORE_CES);
}
