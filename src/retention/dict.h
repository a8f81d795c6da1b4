/*
 * dict.h
 *		The dictionary of a version 2 retention_summary: its distinct bigint
 *		customer ids, once, sorted (each mapped to unsigned by flipping the
 *		sign bit, cx_id_to_u64), so that a period's set is a bitmap of
 *		positions in it.  See docs/retention.md, "Sparse ids: the compact
 *		format".
 *
 * Encoded form: one encoding byte, the id count n as a LEB128 varint, then
 *
 *		CX_DICT_RUNS (1)	per maximal run of consecutive values: a varint gap
 *							(the first value for the first run; start - previous
 *							end - 2 after it, runs being maximal) and a varint
 *							run length - 1;
 *		CX_DICT_EF (2)		Elias-Fano: the first value v0 (8 bytes, little-
 *							endian), l (1 byte), the l low bits of every
 *							x = v - v0 packed little-endian (n * l bits, whole
 *							bytes), then the high parts x >> l in unary: bit
 *							(x_i >> l) + i set, (x_max >> l) + n bits, whole
 *							bytes.  l = floor(log2(x_max / n)), 0 when x_max < n.
 *
 * Canonical: the smaller encoding, a tie going to runs; shortest varints;
 * padding bits zero.  Equal id sets therefore encode to equal bytes.
 *
 * Plain C without PostgreSQL dependencies beyond its integer types, so that
 * test/bench/retention_compact_proto.c can check it outside the server
 * (compiled there with CX_DICT_STANDALONE).
 */
#ifndef CXKPI_RETENTION_DICT_H
#define CXKPI_RETENTION_DICT_H

#ifdef CX_DICT_STANDALONE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t uint8;
typedef uint64_t uint64;
#define UINT64CONST(x) (x##ULL)
#endif

#define CX_DICT_RUNS	1
#define CX_DICT_EF		2

/* Positions are 32-bit: at most 2^32 - 1 ids (cx_dict_count refuses more). */
#define CX_DICT_MAX_IDS	UINT64CONST(0xFFFFFFFF)

/* Bytes of the canonical encoding of n strictly increasing values; *enc gets its type. */
extern size_t cx_dict_size(const uint64 *v, size_t n, int *enc);

/* Writes the canonical encoding (cx_dict_size bytes) into out; returns its length. */
extern size_t cx_dict_encode(const uint64 *v, size_t n, char *out);

/*
 * The count of an encoded dictionary (from its header), or false with *why
 * when the header is malformed.  Reads only the header.
 */
extern bool cx_dict_count(const char *buf, size_t len, size_t *n, const char **why);

/*
 * Decodes into out[n] (n from cx_dict_count), checking every byte: bounds,
 * strictly increasing values, no overflow, the exact length, zero padding,
 * shortest varints and the canonical l.  *canonical tells whether the bytes
 * are the canonical encoding (false when the other encoding is smaller).
 * Returns false with *why (a static message) on invalid input.
 */
extern bool cx_dict_decode(const char *buf, size_t len, uint64 *out, size_t n,
						   bool *canonical, const char **why);

#endif							/* CXKPI_RETENTION_DICT_H */
