/*
 * t_bloom.c - Bloom filter writes: reserve and add (issue 16).  A filter is
 * scalable (as the seed's ScalableBloomFilter and RedisBloom): layers of
 * bits, each in chunks under the record's gen (layer n is chunk layer n),
 * a new one added, expansion times larger and at half the error rate, when
 * the last is full.  See prob.h for the arithmetic.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "exec_int.h"
#include "prob.h"

/* A live filter under the key, or none: PC_EWRONGTYPE for another type. */
static int bloom_lookup(pcs_wctx *w, const pcs_req *rq, pcs_rec *r, bool *live, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), r, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    return *live && r->type != PC_T_BLOOM ? PC_EWRONGTYPE : 0;
}

/* A filter's record and layers, as the handlers change them. */
typedef struct bloom {
    pcs_rec r;
    pcs_bf_layer l[PCS_BF_MAX_LAYERS];
} bloom;

/* A new filter (nothing written): its first layer at half the rate. */
static int bloom_new(pcs_wctx *w, bloom *b, double error, uint64_t capacity, uint32_t expansion,
                     uint32_t flags)
{
    int rc = pcs_bf_layer_make(capacity, error / 2, &b->l[0]);
    if (rc)
        return rc;
    pcs_new_coll(w, &b->r, PC_T_BLOOM);
    b->r.count = 0;
    b->r.bf_error = error;
    b->r.bf_capacity = capacity;
    b->r.bf_expansion = expansion;
    b->r.bf_flags = flags;
    b->r.bf_layers = 1;
    return 0;
}

/* The layer after last, or PC_ERANGE when the filter may grow no more. */
static int next_layer(const bloom *b, const pcs_bf_layer *last, pcs_bf_layer *next)
{
    uint64_t cap;
    if ((b->r.bf_flags & PCS_BF_NONSCALING) || b->r.bf_layers >= PCS_BF_MAX_LAYERS ||
        __builtin_mul_overflow(last->capacity, (uint64_t)b->r.bf_expansion, &cap))
        return PC_ERANGE;
    return pcs_bf_layer_make(cap, last->error / 2, next);
}

/* Could the filter take n more items (growing as it may)? */
static bool room_for(const bloom *b, uint64_t n)
{
    pcs_bf_layer last = b->l[b->r.bf_layers - 1], next;
    unsigned layers = b->r.bf_layers;
    bloom probe = *b;
    while (n > last.capacity - last.items) {
        n -= last.capacity - last.items;
        probe.r.bf_layers = layers;
        if (next_layer(&probe, &last, &next))
            return false;
        last = next;
        layers++;
    }
    return true;
}

/* Write the filter's record (its layers as the record's data). */
static int bloom_store(pcs_wctx *w, const pcs_req *rq, const pcs_rec *old, bloom *b)
{
    pcs_buf_reset(&w->tmp);
    size_t n = (size_t)b->r.bf_layers * PCS_BF_LAYER;
    if (pcs_buf_reserve(&w->tmp, n))
        return w->tmp.err;
    for (unsigned i = 0; i < b->r.bf_layers; i++)
        pcs_bf_layer_enc(w->tmp.data + (size_t)i * PCS_BF_LAYER, &b->l[i]);
    w->tmp.len = n;
    return pcs_w_store(w, pcs_key_arg(rq), old, &b->r, w->tmp.data, n);
}

/* bf.reserve KEY ERROR CAPACITY EXPANSION FLAGS: a new, empty filter. */
int pcs_h_bf_reserve(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    const pc_val *ev = &rq->argv[1];
    int64_t cap, exp, flags;
    if (ev->kind != PC_DOUBLE || !(ev->d > 0 && ev->d < 1) || pcs_chk_int(&rq->argv[2], &cap) ||
        pcs_chk_int(&rq->argv[3], &exp) || pcs_chk_int(&rq->argv[4], &flags) || cap < 1 ||
        exp < 1 || exp > UINT32_MAX || flags < 0 || (flags & ~(int64_t)PCS_BF_NONSCALING))
        return PC_EINVAL;
    pcs_rec old;
    bool live, stale;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    live = rc == 0;
    if (live)
        return PC_EEXIST;
    bloom b;
    if ((rc = bloom_new(w, &b, ev->d, (uint64_t)cap, (uint32_t)exp, (uint32_t)flags)))
        return rc;
    return bloom_store(w, rq, stale ? &old : NULL, &b);
}

/* Set bit of layer i of the filter. */
static int set_bit(pcs_wctx *w, uint64_t gen, unsigned i, uint64_t bit)
{
    const uint64_t cbits = 8 * (uint64_t)PCS_CHUNK;
    uint32_t idx = (uint32_t)(bit / cbits);
    uint64_t at = bit % cbits;
    uint8_t buf[PCS_CHUNK] = {0};
    const uint8_t *p;
    size_t n;
    pcs_view v = pcs_wview(w);
    int rc = pcs_chunk_get(&v, gen, i, idx, &p, &n);
    if (rc)
        return rc;
    uint8_t mask = (uint8_t)(0x80 >> (at % 8));
    if (at / 8 < n && (p[at / 8] & mask))
        return 0;
    if (n)
        memcpy(buf, p, n);
    buf[at / 8] |= mask;
    if (at / 8 + 1 > n)
        n = at / 8 + 1;
    uint8_t kb[PCS_MKEY_MAX];
    return pcs_w_put(w, w->sh->members, kb, pcs_chunk_key(kb, gen, i, idx), buf, n);
}

static int cmp_hash(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] != y[1] ? (x[1] < y[1] ? -1 : 1) : 0;
}

/* How many distinct items of rq are not in the filter yet (at most). */
static int count_new(pcs_wctx *w, const pcs_req *rq, const bloom *b, uint64_t *fresh)
{
    size_t n = rq->argc - 1, k = 0;
    pcs_buf_reset(&w->tmp2);
    if (pcs_buf_reserve(&w->tmp2, n * 16))
        return w->tmp2.err;
    uint64_t(*h)[2] = (uint64_t(*)[2])(void *)w->tmp2.data;
    pcs_view v = pcs_wview(w);
    for (size_t i = 0; i < n; i++) {
        bool has = false;
        pcs_bf_hash(rq->argv[1 + i].s.ptr, rq->argv[1 + i].s.len, h[k]);
        int rc = b->r.bf_layers ? pcs_bf_has(&v, &b->r, h[k], &has) : 0;
        if (rc)
            return rc;
        k += !has;
    }
    qsort(h, k, sizeof h[0], cmp_hash);
    *fresh = 0;
    for (size_t i = 0; i < k; i++)
        *fresh += i == 0 || cmp_hash(h[i - 1], h[i]) != 0;
    return 0;
}

/* bf.add KEY ITEM...: each item's 1 (added) or 0 (there, or a false
 * positive).  A missing key gets a filter with the defaults. */
int pcs_h_bf_add(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    size_t n = rq->argc - 1;
    for (size_t i = 0; i < n; i++) {
        const pc_val *it = &rq->argv[1 + i];
        if (it->kind != PC_BYTES || (it->s.len && !it->s.ptr))
            return PC_EINVAL;
        if (it->s.len > w->st->max_value)
            return PC_ETOOBIG;
    }
    pcs_rec old;
    bool live, stale;
    int rc = bloom_lookup(w, rq, &old, &live, &stale);
    if (rc)
        return rc;
    bloom b;
    if (live) {
        b.r = old;
        for (unsigned i = 0; i < old.bf_layers; i++)
            pcs_bf_layer_dec(&old, i, &b.l[i]);
    } else if ((rc = bloom_new(w, &b, PCS_BF_DEFAULT_ERROR, PCS_BF_DEFAULT_CAPACITY,
                               PCS_BF_DEFAULT_EXPANSION, 0))) {
        return rc;
    }
    /* Refuse at once what cannot fit: nothing may be half added. */
    if (!room_for(&b, n)) {
        uint64_t fresh = 0;
        if ((rc = count_new(w, rq, &b, &fresh)))
            return rc;
        if (!room_for(&b, fresh))
            return PC_ERANGE;
    }
    pcs_view v = pcs_wview(w);
    for (size_t i = 0; i < n; i++) {
        uint64_t h[2];
        bool has = false;
        pcs_bf_hash(rq->argv[1 + i].s.ptr, rq->argv[1 + i].s.len, h);
        for (unsigned j = b.r.bf_layers; j-- > 0 && !has;)
            if ((rc = pcs_bf_layer_has(&v, &b.r, j, &b.l[j], h, &has)))
                return rc;
        pcs_out_int(out, !has);
        if (has)
            continue;
        pcs_bf_layer *last = &b.l[b.r.bf_layers - 1];
        if (last->items >= last->capacity) {
            if ((rc = next_layer(&b, last, &b.l[b.r.bf_layers])))
                return rc; /* (room_for said there was room: not reached) */
            last = &b.l[b.r.bf_layers++];
        }
        for (uint32_t j = 0; j < last->hashes; j++)
            if ((rc = set_bit(w, b.r.gen, b.r.bf_layers - 1, pcs_bf_bit(h, j, last->bits))))
                return rc;
        last->items++;
        b.r.count++;
    }
    *nv = (uint32_t)n;
    return bloom_store(w, rq, (live || stale) ? &old : NULL, &b);
}

/* ---- restoring ---- */

int pcs_load_bloom(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, double error,
                   uint64_t capacity, uint32_t expansion, uint32_t flags,
                   const pcs_bf_layer *layers, unsigned n, pcs_rec *r)
{
    int rc = pcs_load_key(w, key, klen);
    if (rc)
        return rc;
    if (!(error > 0 && error < 1) || !capacity || !expansion || (flags & ~PCS_BF_NONSCALING) ||
        !layers || n == 0 || n > PCS_BF_MAX_LAYERS)
        return PC_EINVAL;
    pcs_new_coll(w, r, PC_T_BLOOM);
    r->bf_error = error;
    r->bf_capacity = capacity;
    r->bf_expansion = expansion;
    r->bf_flags = flags;
    r->bf_layers = n;
    r->count = 0;
    r->expire_at = expire_at;
    pcs_buf_reset(&w->tmp2);
    if (pcs_buf_reserve(&w->tmp2, (size_t)n * PCS_BF_LAYER))
        return w->tmp2.err;
    for (unsigned i = 0; i < n; i++) {
        const pcs_bf_layer *l = &layers[i];
        if (!l->capacity || l->items > l->capacity || !l->bits || l->bits > PCS_BF_MAX_BITS ||
            !l->hashes || l->hashes > PCS_BF_MAX_HASHES || !(l->error > 0 && l->error < 1) ||
            __builtin_add_overflow(r->count, l->items, &r->count))
            return PC_EINVAL;
        pcs_bf_layer_enc(w->tmp2.data + (size_t)i * PCS_BF_LAYER, l);
    }
    w->tmp2.len = (size_t)n * PCS_BF_LAYER;
    r->data = w->tmp2.data;
    r->dlen = w->tmp2.len;
    return 0;
}
