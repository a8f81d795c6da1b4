/*
 * csat.c
 *		Customer satisfaction: csat_summary input and the build transitions
 *		(integer scores on 3/5/7/10-point scales, and yes/no answers).  The
 *		accessors (percent satisfied = top boxes, mean score, intervals) are the
 *		shared top-box and mean functions of score_summary.c.
 */
#include "score_summary.h"

#define CSAT_DEFAULT_SCALE	5
#define CSAT_YES_NO_SCALE	2	/* yes/no surveys: 1 = no, 2 = yes */

PG_FUNCTION_INFO_V1(csat_summary_in);
Datum
csat_summary_in(PG_FUNCTION_ARGS)
{
	return score_summary_in_kind(fcinfo, SCORE_CSAT);
}

PG_FUNCTION_INFO_V1(csat_summary_recv);
Datum
csat_summary_recv(PG_FUNCTION_ARGS)
{
	return score_summary_recv_kind(fcinfo, SCORE_CSAT);
}

/*
 * csat_agg(score [, scale]) transition.  Rows with a NULL score or scale are
 * skipped; the scale must be supported and constant within a group.
 */
PG_FUNCTION_INFO_V1(csat_agg_trans);
Datum
csat_agg_trans(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;
	int32		scale = CSAT_DEFAULT_SCALE;

	if (PG_ARGISNULL(1) || (PG_NARGS() > 2 && PG_ARGISNULL(2)))
		return score_state_skip_row(fcinfo, SCORE_CSAT);
	if (PG_NARGS() > 2)
		scale = PG_GETARG_INT32(2);
	s = score_state(fcinfo, SCORE_CSAT, scale);
	score_summary_add(s, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(s);
}

/* csat_agg(satisfied boolean) transition: a yes/no survey (2-point scale). */
PG_FUNCTION_INFO_V1(csat_agg_bool_trans);
Datum
csat_agg_bool_trans(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;

	if (PG_ARGISNULL(1))
		return score_state_skip_row(fcinfo, SCORE_CSAT);
	s = score_state(fcinfo, SCORE_CSAT, CSAT_YES_NO_SCALE);
	score_summary_add(s, PG_GETARG_BOOL(1) ? 2 : 1);
	PG_RETURN_POINTER(s);
}

/* Inverse of csat_agg_bool_trans for window frames. */
PG_FUNCTION_INFO_V1(csat_agg_bool_untrans);
Datum
csat_agg_bool_untrans(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;
	int			score;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = score_state_existing(fcinfo);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(s);
	score = PG_GETARG_BOOL(1) ? 2 : 1;
	if (s->bins[score] <= 0)
		elog(ERROR, "inverse transition removes an answer that was never added");
	s->bins[score]--;
	s->n--;
	score_state_forget_scale_if_empty(s);
	PG_RETURN_POINTER(s);
}

/* Moving-mode transition of rollup(): see score_summary_moving_merge. */
PG_FUNCTION_INFO_V1(csat_rollup_mtrans);
Datum
csat_rollup_mtrans(PG_FUNCTION_ARGS)
{
	return score_summary_moving_merge(fcinfo, SCORE_CSAT);
}
