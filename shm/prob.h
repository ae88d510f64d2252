/*
 * prob.h - issue 16's bit arrays and Bloom filters as they sit in the store,
 * read on a view (shm/read.h): chunks, bits, counts and searches, and the
 * Bloom filter's layers and hashing.  The writers (t_bits.c, t_bloom.c) and
 * the readers (reader.c) share them.
 *
 * A bit array's chunk idx of layer holds bytes idx * PCS_CHUNK ... of the
 * array (record.h); bit i of the array is bit (7 - i % 8) of byte i / 8,
 * as in Redis.  A Bloom filter keeps each layer's bits as layer n's chunks.
 */
#ifndef PCS_PROB_H
#define PCS_PROB_H

#include <stdbool.h>
#include <stdint.h>

#include "read.h"

/* The member key of a chunk (16 bytes into out). */
size_t pcs_chunk_key(uint8_t *out, uint64_t gen, uint32_t layer, uint32_t idx);

/* Chunk idx of layer under gen: *p and *n its stored bytes (a view; bytes
 * past *n are zero), or NULL and 0 when it is not stored.  0 or an error. */
int pcs_chunk_get(const pcs_view *v, uint64_t gen, uint32_t layer, uint32_t idx, const uint8_t **p,
                  size_t *n);

/* Bit off of a bit array (0 past its end). */
int pcs_bits_get(const pcs_view *v, const pcs_rec *r, uint64_t off, int *bit);

/* Set bits from..to (inclusive bit positions) of a bit array; cur: a
 * cursor on members in v's transaction. */
int pcs_bits_count(MDB_cursor *cur, const pcs_rec *r, uint64_t from, uint64_t to, uint64_t *n);

/* The first bit equal to bit in from..to, or -1. */
int pcs_bits_pos(MDB_cursor *cur, const pcs_rec *r, int bit, uint64_t from, uint64_t to,
                 int64_t *pos);

/*
 * Redis's range rules for BITCOUNT and BITPOS: start and end (inclusive,
 * negative from the end) over total units (bytes or bits), as bit
 * positions *from..*to of an array of total units.  false: empty.
 */
bool pcs_bits_range(int64_t start, int64_t end, uint64_t total, bool in_bits, uint64_t *from,
                    uint64_t *to);

#endif
