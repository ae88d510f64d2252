/*
 * prob.c - bit arrays and Bloom filters on a view (prob.h).  Everything read
 * here came from the map: checked, never trusted.
 */
#include "prob.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "bytes.h"

size_t pcs_chunk_key(uint8_t *out, uint64_t gen, uint32_t layer, uint32_t idx)
{
    return pcs_mkey_pos(out, gen, (uint64_t)layer << 32 | idx);
}

int pcs_chunk_get(const pcs_view *v, uint64_t gen, uint32_t layer, uint32_t idx, const uint8_t **p,
                  size_t *n)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_chunk_key(kb, gen, layer, idx), kb}, d;
    *p = NULL;
    *n = 0;
    int rc = mdb_get(v->txn, v->sh->members, &k, &d);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return pcs_mdb_err(rc);
    if (d.mv_size == 0 || d.mv_size > PCS_CHUNK)
        return PC_ECORRUPT;
    *p = d.mv_data;
    *n = d.mv_size;
    return 0;
}

int pcs_bits_get(const pcs_view *v, const pcs_rec *r, uint64_t off, int *bit)
{
    uint64_t byte = off / 8;
    *bit = 0;
    if (byte >= r->nbytes)
        return 0;
    const uint8_t *p;
    size_t n;
    int rc = pcs_chunk_get(v, r->gen, 0, (uint32_t)(byte / PCS_CHUNK), &p, &n);
    if (!rc && byte % PCS_CHUNK < n)
        *bit = (p[byte % PCS_CHUNK] >> (7 - off % 8)) & 1;
    return rc;
}

/* The next stored chunk at or after idx of layer 0 under r's gen: *at its
 * index, *p and *n its bytes; *at UINT64_MAX when none. */
static int next_chunk(MDB_cursor *cur, const pcs_rec *r, uint64_t idx, uint64_t *at,
                      const uint8_t **p, size_t *n)
{
    uint8_t kb[PCS_MKEY_MAX];
    *at = UINT64_MAX;
    if (idx > UINT32_MAX)
        return 0;
    MDB_val k = {pcs_chunk_key(kb, r->gen, 0, (uint32_t)idx), kb}, d;
    int rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return pcs_mdb_err(rc);
    if (k.mv_size != 16 || pcs_be64(k.mv_data) != r->gen)
        return 0;
    uint64_t pos = pcs_be64((const uint8_t *)k.mv_data + 8);
    if (pos >> 32) /* another layer: none of layer 0 left */
        return 0;
    if (d.mv_size == 0 || d.mv_size > PCS_CHUNK || pos * PCS_CHUNK >= r->nbytes)
        return PC_ECORRUPT;
    *at = pos;
    *p = d.mv_data;
    *n = d.mv_size;
    return 0;
}

/* Byte i of a chunk whose stored bytes are p[0..n). */
static inline uint8_t byte_at(const uint8_t *p, size_t n, uint64_t i)
{
    return i < n ? p[i] : 0;
}

/* Bits lo..hi (inclusive, positions within the chunk) of byte b, as a mask
 * of the byte's bits at chunk bit positions 8*i .. 8*i+7. */
static uint8_t byte_mask(uint64_t i, uint64_t lo, uint64_t hi)
{
    uint8_t m = 0xff;
    uint64_t first = 8 * i, last = first + 7;
    if (lo > first)
        m &= (uint8_t)(0xff >> (lo - first));
    if (hi < last)
        m &= (uint8_t)(0xff << (last - hi));
    return m;
}

int pcs_bits_count(MDB_cursor *cur, const pcs_rec *r, uint64_t from, uint64_t to, uint64_t *n)
{
    const uint64_t cbits = 8 * (uint64_t)PCS_CHUNK;
    *n = 0;
    for (uint64_t idx = from / cbits; idx <= to / cbits;) {
        uint64_t at;
        const uint8_t *p;
        size_t len;
        int rc = next_chunk(cur, r, idx, &at, &p, &len);
        if (rc)
            return rc;
        if (at == UINT64_MAX || at > to / cbits)
            break;
        uint64_t base = at * cbits;
        uint64_t lo = from > base ? from - base : 0, hi = to - base < cbits ? to - base : cbits - 1;
        uint64_t b0 = lo / 8, b1 = hi / 8;
        if (b1 >= len)
            b1 = len - 1, hi = 8 * b1 + 7;
        for (uint64_t b = b0; b <= b1 && b0 < len;) {
            if (b > b0 && b + 8 <= b1) { /* whole words inside */
                uint64_t word;
                memcpy(&word, p + b, 8);
                *n += (uint64_t)__builtin_popcountll(word);
                b += 8;
                continue;
            }
            *n += (uint64_t)__builtin_popcount(p[b] & byte_mask(b, lo, hi));
            b++;
        }
        idx = at + 1;
    }
    return 0;
}

/* The first bit equal to bit in chunk bits lo..hi of the stored bytes
 * p[0..n) (zero past n); -1 when none. */
static int64_t chunk_find(const uint8_t *p, size_t n, int bit, uint64_t lo, uint64_t hi)
{
    for (uint64_t b = lo / 8; b <= hi / 8; b++) {
        uint8_t v = byte_at(p, n, b);
        if (!bit)
            v = (uint8_t)~v;
        v &= byte_mask(b, lo, hi);
        if (v)
            return (int64_t)(8 * b + (uint64_t)__builtin_clz((unsigned)v) - 24);
        if (bit && b >= n) /* only zeros from here */
            return -1;
    }
    return -1;
}

int pcs_bits_pos(MDB_cursor *cur, const pcs_rec *r, int bit, uint64_t from, uint64_t to,
                 int64_t *pos)
{
    const uint64_t cbits = 8 * (uint64_t)PCS_CHUNK;
    *pos = -1;
    for (uint64_t idx = from / cbits; idx <= to / cbits;) {
        uint64_t at;
        const uint8_t *p = NULL;
        size_t len = 0;
        int rc = next_chunk(cur, r, idx, &at, &p, &len);
        if (rc)
            return rc;
        if (at != idx) {
            if (!bit) { /* a chunk not stored is all zeros */
                uint64_t base = idx * cbits;
                *pos = (int64_t)(from > base ? from : base);
                return 0;
            }
            if (at == UINT64_MAX || at > to / cbits)
                return 0;
            idx = at;
        }
        uint64_t base = idx * cbits;
        uint64_t lo = from > base ? from - base : 0, hi = to - base < cbits ? to - base : cbits - 1;
        int64_t f = chunk_find(p, len, bit, lo, hi);
        if (f >= 0) {
            *pos = (int64_t)base + f;
            return 0;
        }
        idx++;
    }
    return 0;
}

bool pcs_bits_range(int64_t start, int64_t end, uint64_t total, bool in_bits, uint64_t *from,
                    uint64_t *to)
{
    if (total == 0 || total > INT64_MAX)
        return false;
    int64_t n = (int64_t)total;
    if (start < 0)
        start = start < -n ? 0 : start + n;
    if (end < 0)
        end = end < -n ? 0 : end + n;
    if (end >= n)
        end = n - 1;
    if (start > end)
        return false;
    *from = in_bits ? (uint64_t)start : 8 * (uint64_t)start;
    *to = in_bits ? (uint64_t)end : 8 * (uint64_t)end + 7;
    return true;
}

/* ---- Bloom filters ---- */

void pcs_bf_hash(const void *item, size_t n, uint64_t h[2])
{
    XXH128_hash_t x = XXH3_128bits(item, n);
    h[0] = x.low64;
    h[1] = x.high64 | 1; /* odd: the k bits never all coincide */
}

int pcs_bf_layer_make(uint64_t capacity, double error, pcs_bf_layer *l)
{
    if (capacity == 0 || !(error > 0 && error < 1))
        return PC_EINVAL;
    double ln2 = 0.6931471805599453;
    double m = ceil((double)capacity * -log(error) / (ln2 * ln2));
    double k = ceil(-log2(error));
    if (!(m < (double)PCS_BF_MAX_BITS) || k > PCS_BF_MAX_HASHES)
        return PC_ERANGE;
    l->capacity = capacity;
    l->items = 0;
    l->bits = m < 64 ? 64 : (uint64_t)m;
    l->hashes = k < 1 ? 1 : (uint32_t)k;
    l->error = error;
    return 0;
}

int pcs_bf_layer_has(const pcs_view *v, const pcs_rec *r, unsigned i, const pcs_bf_layer *l,
                     const uint64_t h[2], bool *has)
{
    const uint64_t cbits = 8 * (uint64_t)PCS_CHUNK;
    *has = false;
    for (uint32_t j = 0; j < l->hashes; j++) {
        uint64_t bit = pcs_bf_bit(h, j, l->bits);
        const uint8_t *p;
        size_t n;
        int rc = pcs_chunk_get(v, r->gen, i, (uint32_t)(bit / cbits), &p, &n);
        if (rc)
            return rc;
        uint64_t at = bit % cbits;
        if (at / 8 >= n || !((p[at / 8] >> (7 - at % 8)) & 1))
            return 0;
    }
    *has = true;
    return 0;
}

int pcs_bf_has(const pcs_view *v, const pcs_rec *r, const uint64_t h[2], bool *has)
{
    *has = false;
    /* Newest first: it holds most of the items. */
    for (unsigned i = r->bf_layers; i-- > 0;) {
        pcs_bf_layer l;
        pcs_bf_layer_dec(r, i, &l);
        int rc = pcs_bf_layer_has(v, r, i, &l, h, has);
        if (rc || *has)
            return rc;
    }
    return 0;
}
