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

/* ---- Bloom filters ----
 *
 * An item's two 64-bit hashes (XXH3-128 of its bytes) give its k bits in a
 * layer of m bits: (h1 + i * h2) mod m, i < k (Kirsch and Mitzenmacher).
 * A layer for capacity n items at false-positive rate p has m = n * -ln p /
 * (ln 2)^2 bits and k = ceil(-log2 p) hashes.  A filter's first layer gets
 * half its error rate and each next one half the one before, so the rate
 * of the whole stays under the error rate; a full layer (items ==
 * capacity) makes the filter add a layer expansion times larger.
 */

/* Defaults of a filter that an add creates (RedisBloom's). */
#define PCS_BF_DEFAULT_ERROR 0.01
#define PCS_BF_DEFAULT_CAPACITY 100
#define PCS_BF_DEFAULT_EXPANSION 2

void pcs_bf_hash(const void *item, size_t n, uint64_t h[2]);

static inline uint64_t pcs_bf_bit(const uint64_t h[2], uint32_t i, uint64_t m)
{
    return (h[0] + (uint64_t)i * h[1]) % m;
}

/* A layer for capacity items at error rate error: its bits and hashes.
 * PC_ERANGE when it would be larger than PCS_BF_MAX_BITS. */
int pcs_bf_layer_make(uint64_t capacity, double error, pcs_bf_layer *l);

/* Does any layer of the filter r hold the item hashed to h? */
int pcs_bf_has(const pcs_view *v, const pcs_rec *r, const uint64_t h[2], bool *has);

/* Does layer i (l) hold it? */
int pcs_bf_layer_has(const pcs_view *v, const pcs_rec *r, unsigned i, const pcs_bf_layer *l,
                     const uint64_t h[2], bool *has);

#endif
