/*
 * score_summary.h
 *		The histogram core shared by nps_summary, csat_summary and ces_summary.
 *
 * A survey-score summary is the exact count of every score on a bounded
 * integer scale.  It is small (104 bytes), fixed in layout, merges by adding
 * bins, and every KPI of the three families (shares, means, intervals) is a
 * function of it.  Bins are indexed by the score itself: bins[9] counts nines.
 */
#ifndef CXKPI_SCORE_SUMMARY_H
#define CXKPI_SCORE_SUMMARY_H

#include "cxkpi.h"

#define SCORE_SUMMARY_VERSION	1
#define SCORE_MAX_BINS			11	/* scores 0..10 */
#define SCORE_SCALE_UNSET		0	/* an empty window state whose scale no row has set yet */

typedef enum ScoreKind
{
	SCORE_NPS = 1,				/* 0..10 */
	SCORE_CSAT = 2,				/* 1..scale, scale in 2 (yes/no), 3, 5, 7, 10 */
	SCORE_CES = 3				/* 1..scale, scale in 5, 7 */
} ScoreKind;

typedef struct ScoreSummary
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* SCORE_SUMMARY_VERSION */
	uint8		kind;			/* ScoreKind */
	uint8		scale;			/* highest valid score */
	uint8		min_score;		/* lowest valid score: 0 for NPS, else 1 */
	int64		n;				/* responses: the sum of bins */
	int64		bins[SCORE_MAX_BINS];	/* bins[s] counts score s */
} ScoreSummary;

#define SCORE_SUMMARY_SIZE	sizeof(ScoreSummary)

#define PG_GETARG_SCORE_SUMMARY(n) \
	score_summary_checked((ScoreSummary *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

extern const char *score_kind_typname(ScoreKind kind);
extern bool score_scale_is_valid(ScoreKind kind, int scale);
extern void score_check_scale(ScoreKind kind, int64 scale);

extern ScoreSummary *score_summary_alloc(MemoryContext cxt, ScoreKind kind, int scale);
extern ScoreSummary *score_summary_checked(ScoreSummary *s);
pg_noreturn extern void score_out_of_range(const ScoreSummary *s, int64 score);

/*
 * Count one response, checking the score against the summary's scale (hot
 * path).  One unsigned comparison covers both ends of the scale; only n is
 * checked for overflow, since no bin can exceed n.
 */
static inline void
score_summary_add(ScoreSummary *s, int64 score)
{
	if (unlikely((uint64) (score - s->min_score) > (uint64) (s->scale - s->min_score)))
		score_out_of_range(s, score);
	s->n = cx_add_counts(s->n, 1, "response count");
	s->bins[score]++;
}
extern void score_summary_merge_into(ScoreSummary *dst, const ScoreSummary *src);
extern bool score_summary_subtract(ScoreSummary *dst, const ScoreSummary *src);

/* Aggregate state handling shared by the build aggregates. */
extern ScoreSummary *score_state_for(FunctionCallInfo fcinfo, ScoreKind kind, int scale);
extern ScoreSummary *score_state_existing(FunctionCallInfo fcinfo);

/*
 * score_state_for's common case, inlined into the transition functions: an
 * existing state on the same scale, owned by the aggregate.
 */
static inline ScoreSummary *
score_state(FunctionCallInfo fcinfo, ScoreKind kind, int scale)
{
	if (likely(!PG_ARGISNULL(0)) && likely(cx_in_aggregate(fcinfo)))
	{
		ScoreSummary *s = (ScoreSummary *) PG_GETARG_POINTER(0);

		if (likely(s->scale == scale))
			return s;
	}
	return score_state_for(fcinfo, kind, scale);
}
extern Datum score_state_skip_row(FunctionCallInfo fcinfo, ScoreKind kind);
extern void score_state_forget_scale_if_empty(ScoreSummary *s);
extern Datum score_summary_moving_merge(FunctionCallInfo fcinfo, ScoreKind kind);

/* Statistics over a summary (n > 0 unless stated). */
extern int	score_top_min(const ScoreSummary *s);
extern int64 score_top_count(const ScoreSummary *s);
extern int64 score_count_between(const ScoreSummary *s, int lo, int hi);
extern double score_mean(const ScoreSummary *s);
extern double score_sample_variance(const ScoreSummary *s);	/* n >= 2 */
extern bool score_mean_interval(const ScoreSummary *s, double confidence,
								double *lower, double *upper);
extern void score_share_interval(const ScoreSummary *s, int64 hits, double confidence,
								 double *lower, double *upper);

/* Fmgr entry points that read their kind from a constant. */
extern Datum score_summary_in_kind(FunctionCallInfo fcinfo, ScoreKind kind);
extern Datum score_summary_recv_kind(FunctionCallInfo fcinfo, ScoreKind kind);

#endif							/* CXKPI_SCORE_SUMMARY_H */
