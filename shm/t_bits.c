/*
 * t_bits.c - bit array writes: setbit and bitop (issue 16).  The array is
 * stored in chunks of PCS_CHUNK bytes under the record's gen (record.h), so
 * a bit at offset 2^32 - 1 costs one chunk, and an all-zero chunk costs
 * nothing.
 */
#include <string.h>

#include "bytes.h"
#include "exec_int.h"
#include "prob.h"

/* A live bit array under key, or none: PC_EWRONGTYPE for another type. */
static int bits_lookup(pcs_wctx *w, const pc_val *key, pcs_rec *r, bool *live, bool *stale)
{
    int rc = pcs_w_lookup(w, key, r, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    return *live && r->type != PC_T_BITS ? PC_EWRONGTYPE : 0;
}

/* Length of p[0..n) without its trailing zero bytes. */
static size_t trimmed(const uint8_t *p, size_t n)
{
    while (n && !p[n - 1])
        n--;
    return n;
}

/* Store chunk idx of r's gen as buf[0..PCS_CHUNK) says (an all-zero chunk
 * is deleted); r->count follows.  had: it was stored before. */
static int chunk_put(pcs_wctx *w, pcs_rec *r, uint32_t layer, uint32_t idx, const uint8_t *buf,
                     bool had)
{
    uint8_t kb[PCS_MKEY_MAX];
    size_t kl = pcs_chunk_key(kb, r->gen, layer, idx), n = trimmed(buf, PCS_CHUNK);
    if (!n) {
        r->count -= had;
        return had ? pcs_w_del(w, w->sh->members, kb, kl, NULL) : 0;
    }
    r->count += !had;
    return pcs_w_put(w, w->sh->members, kb, kl, buf, n);
}

/* setbit KEY OFFSET BIT: the old bit. */
int pcs_h_setbit(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t off, bit;
    if (pcs_chk_int(&rq->argv[1], &off) || pcs_chk_int(&rq->argv[2], &bit) || off < 0 ||
        (uint64_t)off >= PCS_BITS_MAX || (bit != 0 && bit != 1))
        return PC_EINVAL;
    pcs_rec old, nr;
    bool live, stale;
    int rc = bits_lookup(w, pcs_key_arg(rq), &old, &live, &stale);
    if (rc)
        return rc;
    if (live) {
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_BITS);
        nr.count = 0;
    }
    uint64_t byte = (uint64_t)off / 8;
    uint32_t idx = (uint32_t)(byte / PCS_CHUNK);
    uint8_t buf[PCS_CHUNK] = {0};
    const uint8_t *p = NULL;
    size_t n = 0;
    if (live) {
        pcs_view v = pcs_wview(w);
        if ((rc = pcs_chunk_get(&v, nr.gen, 0, idx, &p, &n)))
            return rc;
        if (n)
            memcpy(buf, p, n); /* before any write moves it */
    }
    uint8_t mask = (uint8_t)(0x80 >> (off % 8));
    int was = (buf[byte % PCS_CHUNK] & mask) != 0;
    if (was != bit) {
        buf[byte % PCS_CHUNK] ^= mask;
        if ((rc = chunk_put(w, &nr, 0, idx, buf, n != 0)))
            return rc;
    }
    if (byte + 1 > nr.nbytes)
        nr.nbytes = byte + 1;
    if ((rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0)))
        return rc;
    pcs_out_int(out, was);
    *nv = 1;
    return 0;
}

/* One source of a bitop: its gen (when live), and its next stored chunk
 * (small: a request may name a million sources). */
typedef struct bsrc {
    uint64_t gen;
    uint64_t next; /* UINT64_MAX: no more */
    bool live;
} bsrc;

/* Seek src's next stored chunk at or after idx (fresh each time: writes
 * between the seeks may move what a cursor saw).  Copies it into buf when
 * buf is not NULL and it is at idx. */
static int src_seek(pcs_wctx *w, MDB_cursor *cur, bsrc *s, uint64_t idx)
{
    s->next = UINT64_MAX;
    if (!s->live || idx > UINT32_MAX)
        return 0;
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_chunk_key(kb, s->gen, 0, (uint32_t)idx), kb}, d;
    int rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return pcs_w_fail(w, rc);
    if (k.mv_size == 16 && pcs_be64(k.mv_data) == s->gen) {
        uint64_t pos = pcs_be64((const uint8_t *)k.mv_data + 8);
        if (!(pos >> 32))
            s->next = pos;
    }
    return 0;
}

/* Source s's chunk idx into buf (PCS_CHUNK bytes, zero-filled). */
static int src_chunk(pcs_wctx *w, const bsrc *s, uint32_t idx, uint8_t *buf)
{
    memset(buf, 0, PCS_CHUNK);
    if (!s->live)
        return 0;
    const uint8_t *p;
    size_t n;
    pcs_view v = pcs_wview(w);
    int rc = pcs_chunk_get(&v, s->gen, 0, idx, &p, &n);
    if (!rc && n)
        memcpy(buf, p, n);
    return rc;
}

/* The result's chunk idx from the sources (buf: PCS_CHUNK bytes). */
static int bitop_chunk(pcs_wctx *w, int op, const bsrc *src, size_t n, uint32_t idx, uint64_t len,
                       uint8_t *acc)
{
    uint8_t one[PCS_CHUNK];
    int rc = src_chunk(w, &src[0], idx, acc);
    for (size_t i = 1; i < n && !rc; i++) {
        if ((rc = src_chunk(w, &src[i], idx, one)))
            break;
        for (size_t b = 0; b < PCS_CHUNK; b++)
            acc[b] = op == PC_BITOP_AND  ? acc[b] & one[b]
                     : op == PC_BITOP_OR ? acc[b] | one[b]
                                         : acc[b] ^ one[b];
    }
    if (op == PC_BITOP_NOT) {
        uint64_t base = (uint64_t)idx * PCS_CHUNK;
        for (size_t b = 0; b < PCS_CHUNK; b++)
            acc[b] = base + b < len ? (uint8_t)~acc[b] : 0;
    }
    return rc;
}

/* bitop KEY OP SRC...: KEY (the destination) becomes OP (PC_BITOP_*) of
 * the sources (NOT: exactly one), as long as the longest (missing: empty);
 * an empty result deletes KEY.  The length. */
int pcs_h_bitop(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t op;
    size_t n = rq->argc - 2;
    if (pcs_chk_int(&rq->argv[1], &op) || op < PC_BITOP_AND || op > PC_BITOP_NOT ||
        (op == PC_BITOP_NOT && n != 1))
        return PC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const pc_val *k = &rq->argv[2 + i];
        int rc = k->kind == PC_BYTES ? pcs_key_ok(k->s.ptr, k->s.len) : PC_EINVAL;
        if (rc)
            return rc == PC_EKEY ? PC_EKEY : PC_EINVAL;
        if (pcs_shard_of(w->st->nshards, k->s.ptr, k->s.len) != w->shard)
            return PC_ECROSSSHARD;
    }
    pcs_buf_reset(&w->tmp2);
    if (pcs_buf_reserve(&w->tmp2, n * sizeof(bsrc)))
        return w->tmp2.err;
    bsrc *src = (bsrc *)(void *)w->tmp2.data;
    uint64_t len = 0;
    for (size_t i = 0; i < n; i++) {
        bool stale;
        pcs_rec r;
        int rc = bits_lookup(w, &rq->argv[2 + i], &r, &src[i].live, &stale);
        if (rc)
            return rc;
        src[i].gen = r.gen;
        if (src[i].live && r.nbytes > len)
            len = r.nbytes;
    }
    pcs_rec old, nr;
    bool live, stale;
    int rc = bits_lookup(w, pcs_key_arg(rq), &old, &live, &stale);
    if (rc && rc != PC_EWRONGTYPE)
        return rc;
    bool had = live || stale || rc == PC_EWRONGTYPE; /* Redis overwrites any type */
    rc = 0;
    pcs_out_int(out, (int64_t)len);
    *nv = 1;
    if (len == 0) /* nothing: no key */
        return had ? pcs_w_remove(w, pcs_key_arg(rq), &old, true) : 0;
    pcs_new_coll(w, &nr, PC_T_BITS);
    nr.count = 0;
    nr.nbytes = len;
    nr.expire_at = 0;
    uint8_t acc[PCS_CHUNK];
    uint64_t last = (len - 1) / PCS_CHUNK;
    if (op == PC_BITOP_NOT) { /* every chunk: a missing one is all ones */
        for (uint64_t idx = 0; idx <= last && !rc; idx++)
            if (!(rc = bitop_chunk(w, (int)op, src, n, (uint32_t)idx, len, acc)))
                rc = chunk_put(w, &nr, 0, (uint32_t)idx, acc, false);
        return rc ? rc : pcs_w_store(w, pcs_key_arg(rq), had ? &old : NULL, &nr, NULL, 0);
    }
    /* AND, OR, XOR: only chunks some source stores (AND: all of them). */
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(w->txn, w->sh->members, &cur)))
        return pcs_w_fail(w, rc);
    for (size_t i = 0; i < n && !rc; i++)
        rc = src_seek(w, cur, &src[i], 0);
    while (!rc) {
        uint64_t idx = UINT64_MAX, hi = 0;
        for (size_t i = 0; i < n; i++) {
            idx = src[i].next < idx ? src[i].next : idx;
            hi = src[i].next > hi ? src[i].next : hi;
        }
        if (op == PC_BITOP_AND)
            idx = hi; /* every source must store it */
        if (idx == UINT64_MAX || idx > last)
            break;
        bool all = true;
        for (size_t i = 0; i < n; i++)
            all &= src[i].next == idx;
        if (op != PC_BITOP_AND || all) {
            if ((rc = bitop_chunk(w, (int)op, src, n, (uint32_t)idx, len, acc)) ||
                (rc = chunk_put(w, &nr, 0, (uint32_t)idx, acc, false)))
                break;
        }
        /* On: past idx those that store it (AND: all, once all do);
         * AND's others catch up to idx. */
        for (size_t i = 0; i < n && !rc; i++) {
            if (op == PC_BITOP_AND && !all) {
                if (src[i].next < idx)
                    rc = src_seek(w, cur, &src[i], idx);
            } else if (src[i].next <= idx) {
                rc = src_seek(w, cur, &src[i], idx + 1);
            }
        }
    }
    mdb_cursor_close(cur);
    return rc ? rc : pcs_w_store(w, pcs_key_arg(rq), had ? &old : NULL, &nr, NULL, 0);
}

/* ---- restoring ---- */

int pcs_load_bits(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, uint64_t nbytes,
                  pcs_rec *r)
{
    int rc = pcs_load_key(w, key, klen);
    if (rc)
        return rc;
    if (nbytes == 0 || nbytes > PCS_BITS_MAX / 8)
        return PC_EINVAL;
    pcs_new_coll(w, r, PC_T_BITS);
    r->count = 0;
    r->nbytes = nbytes;
    r->expire_at = expire_at;
    return 0;
}

int pcs_load_chunk(pcs_wctx *w, pcs_rec *r, uint32_t layer, uint32_t idx, const void *p, size_t n)
{
    if (!w || !w->txn || !r || !p || n == 0 || n > PCS_CHUNK || trimmed(p, n) == 0)
        return PC_EINVAL;
    if (r->type == PC_T_BLOOM) { /* a chunk of one of its layers' bits */
        pcs_bf_layer l;
        if (layer >= r->bf_layers)
            return PC_EINVAL;
        pcs_bf_layer_dec(r, layer, &l);
        if ((uint64_t)idx * PCS_CHUNK + n > (l.bits + 7) / 8)
            return PC_EINVAL;
    } else if (r->type != PC_T_BITS || layer != 0 || (uint64_t)idx * PCS_CHUNK >= r->nbytes) {
        return PC_EINVAL;
    }
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_chunk_key(kb, r->gen, layer, idx), kb}, d;
    int rc = mdb_get(w->txn, w->sh->members, &k, &d);
    if (rc != MDB_NOTFOUND)
        return rc ? pcs_w_fail(w, rc) : PC_EINVAL; /* twice */
    r->count += r->type == PC_T_BITS;              /* (a Bloom filter counts items) */
    return pcs_w_put(w, w->sh->members, kb, k.mv_size, p, trimmed(p, n));
}

int pcs_load_done(pcs_wctx *w, const void *key, size_t klen, pcs_rec *r)
{
    if (!w || !w->txn || !r ||
        (r->type != PC_T_BITS && r->type != PC_T_BLOOM && r->type != PC_T_STREAM) ||
        pcs_key_ok(key, klen))
        return PC_EINVAL;
    pc_val kv = pc_mem(key, klen);
    bool bf = r->type == PC_T_BLOOM; /* its layers: the record's data */
    return pcs_w_store(w, &kv, NULL, r, bf ? r->data : NULL, bf ? r->dlen : 0);
}
