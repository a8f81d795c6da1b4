/*
 * cxkpi.h
 *		Shared declarations: error reporting for input functions, confidence
 *		levels and distribution quantiles, proportion intervals, checked
 *		counter arithmetic, and a strict little text scanner used by every
 *		summary type's input function.
 */
#ifndef CXKPI_H
#define CXKPI_H

#include "postgres.h"
#include "compat.h"

#include "common/int.h"
#include "fmgr.h"

/* ------------------------------------------------------------------------
 * Input errors.  Every malformed-literal and malformed-binary error goes
 * through cx_input_error(), so that PG16-style soft errors (escontext) can be
 * added in one place.  `errcode` is ERRCODE_INVALID_TEXT_REPRESENTATION for
 * text input and ERRCODE_INVALID_BINARY_REPRESENTATION for binary input.
 * ------------------------------------------------------------------------
 */
pg_noreturn extern void cx_input_error(int sqlstate, const char *typname, const char *input,
						   const char *fmt,...) pg_attribute_printf(4, 5);

/* ------------------------------------------------------------------------
 * Statistics helpers (stats.c), backed by GSL's distribution functions.
 * ------------------------------------------------------------------------
 */

/* Checks 0 < confidence < 1 (else 22023) and returns z = Phi^-1(1 - alpha/2). */
extern double cx_z_for_confidence(double confidence);

/* Two-sided Student-t quantile t_{df, 1 - alpha/2} for a checked confidence. */
extern double cx_t_for_confidence(double confidence, double df);

/* Two-sided p-value of a standard normal statistic: 2 * (1 - Phi(|z|)). */
extern double cx_normal_two_sided_p(double z);

/* Wilson score interval for x successes of n trials, as proportions in [0, 1]. */
extern void cx_wilson_interval(double x, double n, double z, double *lower, double *upper);

/* ------------------------------------------------------------------------
 * Two-sample comparisons (experiments.c): one row of SQL type two_sample_test.
 * ------------------------------------------------------------------------
 */
typedef struct CxTwoSample
{
	int64		n_a;
	int64		n_b;
	double		estimate_a;
	double		estimate_b;
	double		difference;		/* a - b */
	double		ci_lower;
	double		ci_upper;
	double		statistic;		/* z or t; with p_value, NULL unless has_statistic */
	double		df;				/* NULL unless has_df (t tests) */
	double		p_value;
	bool		has_statistic;
	bool		has_df;
} CxTwoSample;

extern Datum cx_two_sample_result(FunctionCallInfo fcinfo, const CxTwoSample *r);
extern void cx_proportion_test(int64 xa, int64 na, int64 xb, int64 nb, double confidence,
							   CxTwoSample *r);
extern void cx_welch_test(double na, double ma, double va, double nb, double mb, double vb,
						  double confidence, CxTwoSample *r);

/* Clamp v into [lo, hi]. */
static inline double
cx_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------
 * Aggregate context, checked once per call site (transition hot paths).
 * ------------------------------------------------------------------------
 */
/*
 * Whether this call site is a transition inside an aggregate.  The first call
 * asks AggCheckCallContext and remembers a yes in fn_extra, which belongs to
 * this call site alone (a direct SQL call of the function has its own, and is
 * checked in full).
 */
static inline bool
cx_in_aggregate(FunctionCallInfo fcinfo)
{
	if (likely(fcinfo->flinfo->fn_extra == (void *) fcinfo->flinfo))
		return true;
	if (AggCheckCallContext(fcinfo, NULL) == 0)
		return false;
	fcinfo->flinfo->fn_extra = (void *) fcinfo->flinfo;
	return true;
}

/* ------------------------------------------------------------------------
 * Checked counter arithmetic: 22003 on bigint overflow.
 * ------------------------------------------------------------------------
 */
pg_noreturn extern void cx_counter_overflow(const char *what);

/* XX000 for an aggregate support function called as a plain function, naming it. */
pg_noreturn extern void cx_not_in_aggregate(FunctionCallInfo fcinfo);

static inline int64
cx_add_counts(int64 a, int64 b, const char *what)
{
	int64		r;

	if (unlikely(pg_add_s64_overflow(a, b, &r)))
		cx_counter_overflow(what);
	return r;
}

/* ------------------------------------------------------------------------
 * A strict scanner for summary text literals.  Each function either consumes
 * exactly what it is asked for and advances the cursor, or reports a
 * malformed literal (22P02) naming what was expected.
 * ------------------------------------------------------------------------
 */
typedef struct CxScanner
{
	const char *input;			/* whole literal, for messages */
	const char *pos;			/* cursor */
	const char *typname;		/* type being read, for messages */
} CxScanner;

extern void cx_scan_init(CxScanner *sc, const char *input, const char *typname);
extern void cx_scan_expect(CxScanner *sc, const char *literal);
extern bool cx_scan_accept(CxScanner *sc, const char *literal);
extern int64 cx_scan_int64(CxScanner *sc, const char *field);
extern void cx_scan_end(CxScanner *sc);
pg_noreturn extern void cx_scan_fail(CxScanner *sc, const char *fmt,...) pg_attribute_printf(2, 3);

#endif							/* CXKPI_H */
