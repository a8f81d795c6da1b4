/*
 * compat.h
 *		Every difference between the PostgreSQL major versions cxkpi supports
 *		(15, 17 and 18) in one place, so that the rest of the code is written
 *		once, against the newest API.  Included by cxkpi.h right after
 *		postgres.h; nothing else tests PG_VERSION_NUM.
 */
#ifndef CXKPI_COMPAT_H
#define CXKPI_COMPAT_H

#include "postgres.h"

/*
 * PostgreSQL 16 moved the varlena macros (VARSIZE, SET_VARSIZE, VARDATA_ANY,
 * VARATT_IS_*) out of postgres.h into varatt.h.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "common/base64.h"

/*
 * PostgreSQL 18 replaced the suffix attribute pg_attribute_noreturn() by the
 * prefix pg_noreturn (C11 _Noreturn).  cxkpi declares its never-returning
 * functions with the prefix; on older versions it is GCC's attribute, which
 * may stand in front of a declaration too.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * Base64 (common/base64.h): PostgreSQL 18 types the binary side as uint8 *,
 * older versions as char *.  These wrappers take the binary side as char *
 * on every version.
 */
static inline int
cx_b64_encode(const char *src, int len, char *dst, int dstlen)
{
#if PG_VERSION_NUM >= 180000
	return pg_b64_encode((const uint8 *) src, len, dst, dstlen);
#else
	return pg_b64_encode(src, len, dst, dstlen);
#endif
}

/*
 * The exact length of the base64 of len bytes, padded: 4 digits per 3 bytes or
 * part of them.  (PostgreSQL 15's pg_b64_enc_len over-estimates it, as
 * (len + 2) * 4 / 3, which is only an upper bound; 16 and later compute this.)
 */
static inline int
cx_b64_enc_len(int len)
{
	return (len + 2) / 3 * 4;
}

static inline int
cx_b64_decode(const char *src, int len, char *dst, int dstlen)
{
#if PG_VERSION_NUM >= 180000
	return pg_b64_decode(src, len, (uint8 *) dst, dstlen);
#else
	return pg_b64_decode(src, len, dst, dstlen);
#endif
}

#endif							/* CXKPI_COMPAT_H */
