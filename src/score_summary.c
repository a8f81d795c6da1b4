/*
 * score_summary.c
 *		Storage, validation, I/O, merging and shared statistics of the
 *		survey-score histogram behind nps_summary, csat_summary and ces_summary.
 *
 * Text form (version 1), lossless and readable:
 *		nps_summary		(v1,n=12,counts={0,0,0,1,0,0,2,1,3,2,3})
 *		csat_summary	(v1,scale=5,n=10,counts={0,1,2,3,4})
 *		ces_summary		(v1,scale=7,n=3,counts={0,0,0,1,0,1,1})
 * `counts` lists the bins from the lowest score to the highest; `n` must equal
 * their sum.  Binary form: version byte, scale byte, n, then the same counts as
 * int8, validated exactly like text.
 */
#include "score_summary.h"

#include <math.h>

#include "access/hash.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

/* ------------------------------------------------------------ kinds/scales */

const char *
score_kind_typname(ScoreKind kind)
{
	switch (kind)
	{
		case SCORE_NPS:
			return "nps_summary";
		case SCORE_CSAT:
			return "csat_summary";
		case SCORE_CES:
			return "ces_summary";
	}
	return "score summary";
}

bool
score_scale_is_valid(ScoreKind kind, int scale)
{
	switch (kind)
	{
		case SCORE_NPS:
			return scale == 10;
		case SCORE_CSAT:
			return scale == 2 || scale == 3 || scale == 5 || scale == 7 || scale == 10;
		case SCORE_CES:
			return scale == 5 || scale == 7;
	}
	return false;
}

/* Reject an unsupported scale argument (22023). */
void
score_check_scale(ScoreKind kind, int64 scale)
{
	if (kind == SCORE_NPS)
		return;
	if (scale < 0 || scale > 10 || !score_scale_is_valid(kind, (int) scale))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s scale " INT64_FORMAT " is not supported",
						kind == SCORE_CSAT ? "CSAT" : "CES", scale),
				 kind == SCORE_CSAT ?
				 errhint("CSAT scales are 3, 5, 7 and 10 (and 2 for yes/no surveys).") :
				 errhint("CES scales are 5 and 7.")));
}

static int
score_min(ScoreKind kind)
{
	return kind == SCORE_NPS ? 0 : 1;
}

/*
 * Lowest score of the "top boxes" of a scale: CSAT's satisfied answers
 * (top two boxes; the top box on 3-point and yes/no scales), CES's agreeing
 * answers (top three boxes on 7, top two on 5), NPS's promoters (9-10).
 */
int
score_top_min(const ScoreSummary *s)
{
	switch ((ScoreKind) s->kind)
	{
		case SCORE_NPS:
			return 9;
		case SCORE_CSAT:
			return s->scale <= 3 ? s->scale : s->scale - 1;
		case SCORE_CES:
			return s->scale == 7 ? 5 : 4;
	}
	return s->scale;
}

int64
score_top_count(const ScoreSummary *s)
{
	return score_count_between(s, score_top_min(s), s->scale);
}

/* A mean score is meaningless on a yes/no scale. */
static bool
score_has_mean(const ScoreSummary *s)
{
	return !(s->kind == SCORE_CSAT && s->scale == 2);
}

/* ------------------------------------------------------------ basics */

ScoreSummary *
score_summary_alloc(MemoryContext cxt, ScoreKind kind, int scale)
{
	ScoreSummary *s = MemoryContextAllocZero(cxt, SCORE_SUMMARY_SIZE);

	SET_VARSIZE(s, SCORE_SUMMARY_SIZE);
	s->version = SCORE_SUMMARY_VERSION;
	s->kind = (uint8) kind;
	s->scale = (uint8) scale;
	s->min_score = (uint8) score_min(kind);
	return s;
}

/*
 * Full consistency check of a summary built from outside input (text,
 * binary).  `input` is the text literal, or NULL for binary input.
 */
static void
score_summary_validate(const ScoreSummary *s, int sqlstate, const char *input)
{
	const char *typname = score_kind_typname((ScoreKind) s->kind);
	int64		total = 0;

	for (int i = 0; i < SCORE_MAX_BINS; i++)
	{
		if (s->bins[i] < 0)
			cx_input_error(sqlstate, typname, input,
						   "The count of score %d is negative (" INT64_FORMAT ").",
						   i, s->bins[i]);
		if ((i < s->min_score || i > s->scale) && s->bins[i] != 0)
			cx_input_error(sqlstate, typname, input,
						   "Score %d is outside the scale %d..%d.",
						   i, s->min_score, s->scale);
		if (pg_add_s64_overflow(total, s->bins[i], &total))
			cx_input_error(sqlstate, typname, input,
						   "The counts add up to more than bigint can hold.");
	}
	if (total != s->n)
		cx_input_error(sqlstate, typname, input,
					   "n is " INT64_FORMAT " but the counts add up to " INT64_FORMAT ".",
					   s->n, total);
}

/*
 * Cheap check of a summary read from a table or passed between functions:
 * everything reaching here went through validated input, so only the layout
 * (size, version, kind, scale bounds) is verified, which keeps every loop
 * over the bins inside the value even if a stored value is damaged.
 */
ScoreSummary *
score_summary_checked(ScoreSummary *s)
{
	if (unlikely(VARSIZE(s) != SCORE_SUMMARY_SIZE ||
				 s->version != SCORE_SUMMARY_VERSION ||
				 s->kind < SCORE_NPS || s->kind > SCORE_CES ||
				 (s->scale != SCORE_SCALE_UNSET && !score_scale_is_valid((ScoreKind) s->kind, s->scale)) ||
				 s->min_score != score_min((ScoreKind) s->kind)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("score summary has an unknown layout (size %u, version %d)",
						(unsigned) VARSIZE(s), s->version),
				 errhint("The value was written by a newer cxkpi or is corrupted.")));
	return s;
}

/* The error of score_summary_add: a score outside the scale (22003). */
void
score_out_of_range(const ScoreSummary *s, int64 score)
{
	if (s->kind == SCORE_NPS)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("NPS score " INT64_FORMAT " is out of range", score),
				 errhint("NPS scores are integers from 0 to 10.")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s score " INT64_FORMAT " is out of range for a %d-point scale",
					s->kind == SCORE_CSAT ? "CSAT" : "CES", score, s->scale),
			 errhint("Scores on this scale are integers from 1 to %d.", s->scale)));
}

/*
 * dst += src; both must describe the same scale (else 22000).  An unset
 * (empty window) source adds nothing; an unset destination takes the
 * source's scale.
 */
void
score_summary_merge_into(ScoreSummary *dst, const ScoreSummary *src)
{
	if (src->scale == SCORE_SCALE_UNSET)
		return;
	if (dst->scale == SCORE_SCALE_UNSET)
	{
		dst->scale = src->scale;
		dst->min_score = src->min_score;
	}
	if (dst->kind != src->kind || dst->scale != src->scale)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot merge %s values on different scales",
						score_kind_typname((ScoreKind) dst->kind)),
				 errdetail("One summary is on a %d-point scale, the other on a %d-point scale.",
						   dst->scale, src->scale),
				 errhint("Group by the scale, or build separate summaries per scale.")));
	for (int i = dst->min_score; i <= dst->scale; i++)
		dst->bins[i] = cx_add_counts(dst->bins[i], src->bins[i], "merged response count");
	dst->n = cx_add_counts(dst->n, src->n, "merged response count");
}

/*
 * The transition state of a build aggregate for a row on `scale`: the
 * existing state, updated in place (it lives in the aggregate context), or a
 * new empty one there.  An unsupported scale, or one that changes within a
 * group, is refused (22023).
 */
ScoreSummary *
score_state_for(FunctionCallInfo fcinfo, ScoreKind kind, int scale)
{
	MemoryContext aggctx;
	ScoreSummary *s;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	if (PG_ARGISNULL(0))
	{
		score_check_scale(kind, scale);
		return score_summary_alloc(aggctx, kind, scale);
	}
	s = (ScoreSummary *) PG_GETARG_POINTER(0);
	if (s->scale == SCORE_SCALE_UNSET)
	{
		score_check_scale(kind, scale);
		s->scale = (uint8) scale;
		s->min_score = (uint8) score_min(kind);
	}
	if (unlikely(s->scale != scale))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scale changes within one aggregate group, from %d to %d",
						s->scale, scale),
				 errhint("Group by the scale, or pass one constant scale per group.")));
	return s;
}

/*
 * The existing state of a moving aggregate's inverse transition, which is
 * updated in place; refuses to run outside an aggregate, where the argument
 * could be a table value.
 */
ScoreSummary *
score_state_existing(FunctionCallInfo fcinfo)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	return (ScoreSummary *) PG_GETARG_POINTER(0);
}

/*
 * A window frame that has emptied may next hold rows on another scale (each
 * frame is its own group), so an empty CSAT or CES state is unset again.
 */
void
score_state_forget_scale_if_empty(ScoreSummary *s)
{
	if (s->n == 0 && s->kind != SCORE_NPS)
		s->scale = SCORE_SCALE_UNSET;
}

/*
 * What a build aggregate's transition returns for a skipped (NULL) row: the
 * state as it is.  A window frame that starts with skipped rows still needs a
 * state (moving-aggregate transitions must not return NULL), so there an
 * empty one is made; NPS knows its scale, CSAT and CES take it from the
 * first counted row.  Final functions turn empty summaries into NULL.
 */
Datum
score_state_skip_row(FunctionCallInfo fcinfo, ScoreKind kind)
{
	MemoryContext aggctx;

	if (!PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	if (AggCheckCallContext(fcinfo, &aggctx) != AGG_CONTEXT_WINDOW)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(score_summary_alloc(aggctx, kind,
										  kind == SCORE_NPS ? 10 : SCORE_SCALE_UNSET));
}

/*
 * Moving-mode transition of rollup(): merge(), except that a frame starting
 * with NULL summaries gets an empty state instead of NULL.
 */
Datum
score_summary_moving_merge(FunctionCallInfo fcinfo, ScoreKind kind)
{
	MemoryContext aggctx;
	ScoreSummary *s;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		cx_not_in_aggregate(fcinfo);
	if (PG_ARGISNULL(0))
		s = score_summary_alloc(aggctx, kind, kind == SCORE_NPS ? 10 : SCORE_SCALE_UNSET);
	else
		s = (ScoreSummary *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
		score_summary_merge_into(s, PG_GETARG_SCORE_SUMMARY(1));
	PG_RETURN_POINTER(s);
}

/* ------------------------------------------------------------ statistics */

int64
score_count_between(const ScoreSummary *s, int lo, int hi)
{
	int64		c = 0;

	for (int i = lo; i <= hi; i++)
		c += s->bins[i];		/* cannot overflow: bins add up to n */
	return c;
}

double
score_mean(const ScoreSummary *s)
{
	long double sum = 0;

	for (int i = s->min_score; i <= s->scale; i++)
		sum += (long double) i * s->bins[i];
	return (double) (sum / s->n);
}

/* Unbiased sample variance, two-pass over the bins (never sum-of-squares). */
double
score_sample_variance(const ScoreSummary *s)
{
	long double mean = score_mean(s);
	long double ss = 0;

	for (int i = s->min_score; i <= s->scale; i++)
	{
		long double d = i - mean;

		ss += d * d * s->bins[i];
	}
	return (double) (ss / (s->n - 1));
}

/*
 * Student-t interval for the mean score, clamped to the scale.  False when
 * it is undefined (fewer than two responses).
 */
bool
score_mean_interval(const ScoreSummary *s, double confidence,
					double *lower, double *upper)
{
	double		t,
				mean,
				half;

	if (s->n < 2)
	{
		(void) cx_t_for_confidence(confidence, 1);	/* still validate it */
		return false;
	}
	t = cx_t_for_confidence(confidence, (double) (s->n - 1));
	mean = score_mean(s);
	half = t * sqrt(score_sample_variance(s) / (double) s->n);
	*lower = cx_clamp(mean - half, s->min_score, s->scale);
	*upper = cx_clamp(mean + half, s->min_score, s->scale);
	return true;
}

/* Wilson interval, in percent, for a share of the responses (n > 0). */
void
score_share_interval(const ScoreSummary *s, int64 hits, double confidence,
					 double *lower, double *upper)
{
	double		z = cx_z_for_confidence(confidence);

	cx_wilson_interval((double) hits, (double) s->n, z, lower, upper);
	*lower *= 100.0;
	*upper *= 100.0;
}

/* ------------------------------------------------------------ text I/O */

Datum
score_summary_in_kind(FunctionCallInfo fcinfo, ScoreKind kind)
{
	char	   *str = PG_GETARG_CSTRING(0);
	const char *typname = score_kind_typname(kind);
	CxScanner	sc;
	ScoreSummary *s;
	int64		scale = 10;
	int64		version;

	cx_scan_init(&sc, str, typname);
	cx_scan_expect(&sc, "(v");
	version = cx_scan_int64(&sc, "version");
	if (version != SCORE_SUMMARY_VERSION)
		cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, typname, str,
					   "Unknown format version " INT64_FORMAT "; this cxkpi reads version %d.",
					   version, SCORE_SUMMARY_VERSION);
	if (kind != SCORE_NPS)
	{
		cx_scan_expect(&sc, ",scale=");
		scale = cx_scan_int64(&sc, "scale");
		if (scale < 0 || scale > 10 || !score_scale_is_valid(kind, (int) scale))
			cx_input_error(ERRCODE_INVALID_TEXT_REPRESENTATION, typname, str,
						   "Scale " INT64_FORMAT " is not supported.", scale);
	}
	s = score_summary_alloc(CurrentMemoryContext, kind, (int) scale);
	cx_scan_expect(&sc, ",n=");
	s->n = cx_scan_int64(&sc, "n");
	cx_scan_expect(&sc, ",counts={");
	for (int i = s->min_score; i <= s->scale; i++)
	{
		if (i > s->min_score)
		{
			if (*sc.pos == '}')
				cx_scan_fail(&sc, "Expected %d counts, for scores %d to %d, found %d",
							 s->scale - s->min_score + 1, s->min_score, s->scale,
							 i - s->min_score);
			cx_scan_expect(&sc, ",");
		}
		s->bins[i] = cx_scan_int64(&sc, "a count");
	}
	if (*sc.pos == ',')
		cx_scan_fail(&sc, "Expected %d counts, for scores %d to %d, found more",
					 s->scale - s->min_score + 1, s->min_score, s->scale);
	cx_scan_expect(&sc, "})");
	cx_scan_end(&sc);
	score_summary_validate(s, ERRCODE_INVALID_TEXT_REPRESENTATION, str);
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(score_summary_out);
Datum
score_summary_out(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	StringInfoData buf;

	if (s->scale == SCORE_SCALE_UNSET)
		elog(ERROR, "an unset %s window state cannot be printed", score_kind_typname(s->kind));
	initStringInfo(&buf);
	appendStringInfo(&buf, "(v%d", SCORE_SUMMARY_VERSION);
	if (s->kind != SCORE_NPS)
		appendStringInfo(&buf, ",scale=%d", s->scale);
	appendStringInfo(&buf, ",n=" INT64_FORMAT ",counts={", s->n);
	for (int i = s->min_score; i <= s->scale; i++)
		appendStringInfo(&buf, i > s->min_score ? "," INT64_FORMAT : INT64_FORMAT, s->bins[i]);
	appendStringInfoString(&buf, "})");
	PG_RETURN_CSTRING(buf.data);
}

/* ------------------------------------------------------------ binary I/O */

PG_FUNCTION_INFO_V1(score_summary_send);
Datum
score_summary_send(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, SCORE_SUMMARY_VERSION);
	pq_sendbyte(&buf, s->scale);
	pq_sendint64(&buf, s->n);
	for (int i = s->min_score; i <= s->scale; i++)
		pq_sendint64(&buf, s->bins[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
score_summary_recv_kind(FunctionCallInfo fcinfo, ScoreKind kind)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const char *typname = score_kind_typname(kind);
	int			remaining = buf->len - buf->cursor;
	int			version,
				scale;
	ScoreSummary *s;

	/* check lengths ourselves: pq_getmsg* would raise 08P01, not 22P03 */
	if (remaining < 2)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, typname, NULL,
					   "The value is %d bytes long; a header needs 2.", remaining);
	version = pq_getmsgbyte(buf);
	if (version != SCORE_SUMMARY_VERSION)
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, typname, NULL,
					   "Unknown format version %d; this cxkpi reads version %d.",
					   version, SCORE_SUMMARY_VERSION);
	scale = pq_getmsgbyte(buf);
	if (!score_scale_is_valid(kind, scale))
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, typname, NULL,
					   "Scale %d is not supported.", scale);
	s = score_summary_alloc(CurrentMemoryContext, kind, scale);
	remaining = buf->len - buf->cursor;
	if (remaining != 8 * (1 + s->scale - s->min_score + 1))
		cx_input_error(ERRCODE_INVALID_BINARY_REPRESENTATION, typname, NULL,
					   "Expected %d bytes of counts for a %d-point scale, found %d.",
					   8 * (s->scale - s->min_score + 2), s->scale, remaining);
	s->n = pq_getmsgint64(buf);
	for (int i = s->min_score; i <= s->scale; i++)
		s->bins[i] = pq_getmsgint64(buf);
	score_summary_validate(s, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
	PG_RETURN_POINTER(s);
}

/* ------------------------------------------------------------ merging */

/*
 * merge(a, b), the combine function, and the rollup transition function.
 * Inside an aggregate the first argument is our own state and is updated in
 * place; as a plain function (merge) a new value is returned.  NULL on one
 * side returns the other, as a built-in aggregate would skip it.
 */
PG_FUNCTION_INFO_V1(score_summary_combine);
Datum
score_summary_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	ScoreSummary *dst;
	ScoreSummary *src;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	src = PG_GETARG_SCORE_SUMMARY(1);
	if (PG_ARGISNULL(0))
	{
		/* the executor copies a new state into the aggregate context */
		PG_RETURN_POINTER(src);
	}
	if (AggCheckCallContext(fcinfo, &aggctx))
		dst = (ScoreSummary *) PG_GETARG_POINTER(0);
	else
	{
		dst = palloc(SCORE_SUMMARY_SIZE);
		memcpy(dst, PG_GETARG_SCORE_SUMMARY(0), SCORE_SUMMARY_SIZE);
	}
	score_summary_merge_into(dst, src);
	PG_RETURN_POINTER(dst);
}

/*
 * Inverse of merge for rollup() in window frames: subtracts a summary that
 * was merged into the state earlier.  Counts invert exactly.
 */
PG_FUNCTION_INFO_V1(score_summary_unmerge);
Datum
score_summary_unmerge(PG_FUNCTION_ARGS)
{
	ScoreSummary *dst;
	ScoreSummary *src;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* nothing was merged: restart the frame */
	dst = score_state_existing(fcinfo);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(dst);
	src = PG_GETARG_SCORE_SUMMARY(1);
	if (!score_summary_subtract(dst, src))
		elog(ERROR, "inverse transition removes a summary that was never merged");
	score_state_forget_scale_if_empty(dst);
	PG_RETURN_POINTER(dst);
}

/*
 * dst -= src, score by score, when src counts answers that dst holds (same
 * scale, no count larger than dst's); false, with dst unchanged, otherwise.
 */
bool
score_summary_subtract(ScoreSummary *dst, const ScoreSummary *src)
{
	if (src->n == 0)
		return true;
	if (dst->scale != src->scale || src->n > dst->n)
		return false;
	for (int i = dst->min_score; i <= dst->scale; i++)
		if (src->bins[i] > dst->bins[i])
			return false;
	for (int i = dst->min_score; i <= dst->scale; i++)
		dst->bins[i] -= src->bins[i];
	dst->n -= src->n;
	return true;
}

/*
 * minus(a, b): the summary of a's answers without b's, for a b that was
 * merged into a.  NULL b gives a; a that does not hold b raises 22000.
 * 1.0's per-statement alerting used it (SQL cxkpi.summary_minus) to remove
 * the summary of deleted rows; 1.1 drops that SQL function (alerts come from
 * cxkpi.kpi_values), but the symbol stays: the frozen 1.0 install script,
 * which ALTER EXTENSION ... UPDATE starts from, creates the function on it.
 */
PG_FUNCTION_INFO_V1(score_summary_minus);
Datum
score_summary_minus(PG_FUNCTION_ARGS)
{
	ScoreSummary *dst;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot subtract a score summary from NULL")));
	dst = palloc(SCORE_SUMMARY_SIZE);
	memcpy(dst, PG_GETARG_SCORE_SUMMARY(0), SCORE_SUMMARY_SIZE);
	if (!score_summary_subtract(dst, PG_GETARG_SCORE_SUMMARY(1)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot subtract a score summary that the other does not hold"),
				 errdetail("The scales differ, or a score has more answers in the summary subtracted.")));
	PG_RETURN_POINTER(dst);
}

/* Final function of moving build aggregates: an empty frame gives NULL. */
PG_FUNCTION_INFO_V1(score_summary_nonempty);
Datum
score_summary_nonempty(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = PG_GETARG_SCORE_SUMMARY(0);
	if (s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(s);
}

/*
 * Inverse transition for window frames: removes one integer score (second
 * argument) from the state.  Integer counts invert exactly.
 */
PG_FUNCTION_INFO_V1(score_summary_untrans);
Datum
score_summary_untrans(PG_FUNCTION_ARGS)
{
	ScoreSummary *s;
	int32		score;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* nothing was added: restart the frame */
	s = score_state_existing(fcinfo);
	if (PG_ARGISNULL(1) || (PG_NARGS() > 2 && PG_ARGISNULL(2)))
		PG_RETURN_POINTER(s);	/* the row was skipped on the way in */
	score = PG_GETARG_INT32(1);
	if (score < s->min_score || score > s->scale || s->bins[score] <= 0)
		elog(ERROR, "inverse transition removes score %d that was never added", score);
	s->bins[score]--;
	s->n--;
	score_state_forget_scale_if_empty(s);
	PG_RETURN_POINTER(s);
}

/* ------------------------------------------------------------ generic accessors */

PG_FUNCTION_INFO_V1(score_summary_responses);
Datum
score_summary_responses(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_SCORE_SUMMARY(0)->n);
}

PG_FUNCTION_INFO_V1(score_summary_scale);
Datum
score_summary_scale(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_SCORE_SUMMARY(0)->scale);
}

/* score_counts(s): bigint[] whose subscripts are the scores themselves. */
PG_FUNCTION_INFO_V1(score_summary_counts);
Datum
score_summary_counts(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	Datum		elems[SCORE_MAX_BINS];
	int			nelems = s->scale - s->min_score + 1;
	int			dims[1] = {nelems};
	int			lbs[1] = {s->min_score};

	for (int i = 0; i < nelems; i++)
		elems[i] = Int64GetDatum(s->bins[s->min_score + i]);
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, NULL, 1, dims, lbs,
											 INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* ------------------------------------------------------------ equality, hash */

static bool
score_summary_equal(const ScoreSummary *a, const ScoreSummary *b)
{
	return a->kind == b->kind && a->scale == b->scale && a->n == b->n &&
		memcmp(a->bins, b->bins, sizeof(a->bins)) == 0;
}

PG_FUNCTION_INFO_V1(score_summary_eq);
Datum
score_summary_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(score_summary_equal(PG_GETARG_SCORE_SUMMARY(0),
									   PG_GETARG_SCORE_SUMMARY(1)));
}

PG_FUNCTION_INFO_V1(score_summary_ne);
Datum
score_summary_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!score_summary_equal(PG_GETARG_SCORE_SUMMARY(0),
										PG_GETARG_SCORE_SUMMARY(1)));
}

/* 64-bit seeded hash (hash partitioning on a summary column). */
PG_FUNCTION_INFO_V1(score_summary_hash_extended);
Datum
score_summary_hash_extended(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	uint64		seed = (uint64) PG_GETARG_INT64(1);
	uint64		h = hash_bytes_extended((const unsigned char *) s->bins, sizeof(s->bins), seed);

	PG_RETURN_UINT64(hash_combine64(h, s->scale));
}

/* Hash of the scale and counts, so summaries work in DISTINCT, EXCEPT, GROUP BY. */
PG_FUNCTION_INFO_V1(score_summary_hash);
Datum
score_summary_hash(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	uint32		h = hash_bytes((const unsigned char *) s->bins, sizeof(s->bins));

	PG_RETURN_UINT32(hash_combine(h, s->scale));
}

/* ------------------------------------------------------------ top boxes, means */

/* csat(s), ces_agree_pct(s): share of top-box answers in percent. */
PG_FUNCTION_INFO_V1(score_summary_top_pct);
Datum
score_summary_top_pct(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);

	if (s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (double) score_top_count(s) / (double) s->n);
}

/* satisfied(s), ces_agree_count(s). */
PG_FUNCTION_INFO_V1(score_summary_top_count);
Datum
score_summary_top_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(score_top_count(PG_GETARG_SCORE_SUMMARY(0)));
}

/* Wilson interval of the top-box share, in percent (NULL when empty). */
static Datum
top_pct_interval(FunctionCallInfo fcinfo, bool upper)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	double		lo,
				hi;

	(void) cx_z_for_confidence(PG_GETARG_FLOAT8(1));
	if (s->n == 0)
		PG_RETURN_NULL();
	score_share_interval(s, score_top_count(s), PG_GETARG_FLOAT8(1), &lo, &hi);
	PG_RETURN_FLOAT8(upper ? hi : lo);
}

PG_FUNCTION_INFO_V1(score_summary_top_pct_ci_lower);
Datum
score_summary_top_pct_ci_lower(PG_FUNCTION_ARGS)
{
	return top_pct_interval(fcinfo, false);
}

PG_FUNCTION_INFO_V1(score_summary_top_pct_ci_upper);
Datum
score_summary_top_pct_ci_upper(PG_FUNCTION_ARGS)
{
	return top_pct_interval(fcinfo, true);
}

/* csat_mean(s), ces(s): the mean score (NULL when empty or yes/no). */
PG_FUNCTION_INFO_V1(score_summary_mean);
Datum
score_summary_mean(PG_FUNCTION_ARGS)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);

	if (s->n == 0 || !score_has_mean(s))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(score_mean(s));
}

/* Student-t interval of the mean score, clamped to the scale. */
static Datum
mean_interval(FunctionCallInfo fcinfo, bool upper)
{
	ScoreSummary *s = PG_GETARG_SCORE_SUMMARY(0);
	double		lo,
				hi;

	if (!score_mean_interval(s, PG_GETARG_FLOAT8(1), &lo, &hi) || !score_has_mean(s))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(upper ? hi : lo);
}

PG_FUNCTION_INFO_V1(score_summary_mean_ci_lower);
Datum
score_summary_mean_ci_lower(PG_FUNCTION_ARGS)
{
	return mean_interval(fcinfo, false);
}

PG_FUNCTION_INFO_V1(score_summary_mean_ci_upper);
Datum
score_summary_mean_ci_upper(PG_FUNCTION_ARGS)
{
	return mean_interval(fcinfo, true);
}
