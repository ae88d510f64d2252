/*
 * exec.c - the write executor: transactions, the dispatch table, the
 * keyspace operations (del, expire, persist, setcoll, conditions), the
 * helpers every type shares, upkeep (expiry and sweep) and pcs_run.
 */
#include "exec.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "bytes.h"
#include "exec_int.h"

/* ---- context ---- */

void pcs_wctx_init(pcs_wctx *w)
{
    memset(w, 0, sizeof *w);
    w->rng = pcs_now_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)w;
    if (!w->rng)
        w->rng = 88172645463325252ull;
}

void pcs_wctx_free(pcs_wctx *w)
{
    pcs_buf_free(&w->tmp);
    pcs_buf_free(&w->tmp2);
}

int pcs_wbegin(pcs_wctx *w, pcs_store *st, unsigned shard)
{
    if (shard >= st->nshards)
        return PC_EINVAL;
    w->st = st;
    w->shard = shard;
    w->sh = &st->shards[shard];
    w->fatal = 0;
    w->mdb_fail = 0;
    w->nmut = 0;
    memset(w->dc, 0, sizeof w->dc);
    w->now = pcs_now_ms();
    int rc = mdb_txn_begin(w->sh->env, NULL, 0, &w->root);
    if (rc)
        return pcs_mdb_err(rc);
    w->txn = w->root;
    rc = pcs_meta_get(w->root, w->sh, "seq", &w->seq);
    if (rc) {
        mdb_txn_abort(w->root);
        w->txn = w->root = NULL;
        return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    }
    w->seq0 = w->seq;
    return 0;
}

int pcs_counts_get(MDB_txn *txn, const pcs_shard *sh, uint64_t out[PCS_COUNTS])
{
    MDB_val k = {6, (void *)"counts"}, d;
    memset(out, 0, sizeof(uint64_t) * PCS_COUNTS);
    int rc = mdb_get(txn, sh->meta, &k, &d);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return pcs_mdb_err(rc);
    /* A store made before issue 16's or 17's types has fewer (the rest
     * are 0). */
    if (d.mv_size % 8 || d.mv_size > 8 * (size_t)PCS_COUNTS ||
        d.mv_size < 8 * (size_t)PCS_COUNTS_V1)
        return PC_ECORRUPT;
    for (size_t i = 0; i < d.mv_size / 8; i++)
        out[i] = pcs_le64((const uint8_t *)d.mv_data + 8 * i);
    return 0;
}

/* Fold this transaction's count changes into the shard's counts. */
static int counts_apply(pcs_wctx *w)
{
    bool any = false;
    for (unsigned i = 0; i < PCS_COUNTS; i++)
        any |= w->dc[i] != 0;
    if (!any)
        return 0;
    uint64_t c[PCS_COUNTS];
    uint8_t b[8 * PCS_COUNTS];
    int rc = pcs_counts_get(w->root, w->sh, c);
    if (rc)
        return rc;
    for (size_t i = 0; i < PCS_COUNTS; i++) {
        c[i] += (uint64_t)w->dc[i];
        if ((int64_t)c[i] < 0) /* never below zero, whatever came before */
            c[i] = 0;
        pcs_put_le64(b + 8 * i, c[i]);
    }
    MDB_val k = {6, (void *)"counts"}, d = {sizeof b, b};
    rc = mdb_put(w->root, w->sh->meta, &k, &d, 0);
    return rc ? pcs_w_fail(w, rc) : 0;
}

int pcs_wcommit(pcs_wctx *w)
{
    int rc = w->fatal;
    if (!rc && w->seq != w->seq0) {
        uint8_t b[8];
        pcs_put_le64(b, w->seq);
        MDB_val k = {3, (void *)"seq"}, d = {8, b};
        int mrc = mdb_put(w->root, w->sh->meta, &k, &d, 0);
        rc = mrc ? pcs_w_fail(w, mrc) : 0;
    }
    if (!rc)
        rc = counts_apply(w);
    if (rc) {
        pcs_wabort(w);
        return rc;
    }
    rc = mdb_txn_commit(w->root);
    w->txn = w->root = NULL;
    if (rc && !w->mdb_fail)
        w->mdb_fail = rc;
    return pcs_mdb_err(rc);
}

void pcs_wabort(pcs_wctx *w)
{
    if (w->root)
        mdb_txn_abort(w->root);
    w->txn = w->root = NULL;
}

/* ---- helpers shared by the handlers ---- */

int pcs_w_fail(pcs_wctx *w, int mdb_rc)
{
    int rc = pcs_mdb_err(mdb_rc);
    if (!w->fatal) {
        w->fatal = rc;
        w->mdb_fail = mdb_rc;
    }
    return rc;
}

int pcs_w_put(pcs_wctx *w, MDB_dbi dbi, const void *k, size_t kl, const void *d, size_t dl)
{
    MDB_val key = {kl, (void *)k}, val = {dl, (void *)d};
    int rc = mdb_put(w->txn, dbi, &key, &val, 0);
    w->nmut++;
    return rc ? pcs_w_fail(w, rc) : 0;
}

int pcs_w_del(pcs_wctx *w, MDB_dbi dbi, const void *k, size_t kl, bool *existed)
{
    MDB_val key = {kl, (void *)k};
    int rc = mdb_del(w->txn, dbi, &key, NULL);
    if (existed)
        *existed = rc == 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    w->nmut++;
    return rc ? pcs_w_fail(w, rc) : 0;
}

uint64_t pcs_w_seq(pcs_wctx *w)
{
    return ++w->seq;
}

int pcs_w_lookup(pcs_wctx *w, const pc_val *key, pcs_rec *rec, bool *stale)
{
    pcs_view v = pcs_wview(w);
    int rc = pcs_lookup(&v, key->s.ptr, key->s.len, rec, stale);
    if (rc && rc != PC_ENOTFOUND && rc != PC_ECORRUPT && !w->fatal)
        w->fatal = rc; /* an LMDB failure inside a write txn */
    return rc;
}

static int sweep_gen(pcs_wctx *w, uint64_t gen)
{
    uint8_t g[8];
    pcs_put_be64(g, gen);
    return pcs_w_put(w, w->sh->sweep, g, 8, NULL, 0);
}

static int xindex(pcs_wctx *w, const pc_val *key, uint64_t old_exp, uint64_t new_exp)
{
    uint8_t xk[PCS_XKEY_MAX];
    int rc = 0;
    if (old_exp == new_exp)
        return 0;
    if (old_exp)
        rc = pcs_w_del(w, w->sh->expiry, xk, pcs_xkey(xk, old_exp, key->s.ptr, key->s.len), NULL);
    if (!rc && new_exp)
        rc =
            pcs_w_put(w, w->sh->expiry, xk, pcs_xkey(xk, new_exp, key->s.ptr, key->s.len), NULL, 0);
    return rc;
}

int pcs_w_store(pcs_wctx *w, const pc_val *key, const pcs_rec *old, pcs_rec *nr, const void *data,
                size_t dlen)
{
    uint8_t head[PCS_REC_HEAD_MAX];
    int rc;
    nr->version = pcs_w_seq(w);
    if ((rc = xindex(w, key, old ? old->expire_at : 0, nr->expire_at)))
        return rc;
    if (old) {
        w->dc[pcs_c_type(old->type)]--;
        w->dc[PCS_C_TTL] -= old->expire_at != 0;
    }
    w->dc[pcs_c_type(nr->type)]++;
    w->dc[PCS_C_TTL] += nr->expire_at != 0;
    if (old && pcs_has_members(old->type) && !(pcs_has_members(nr->type) && nr->gen == old->gen) &&
        (rc = sweep_gen(w, old->gen)))
        return rc;
    size_t hlen = pcs_rec_encode_head(head, nr);
    MDB_val k = {key->s.len, (void *)key->s.ptr}, d = {hlen + dlen, NULL};
    rc = mdb_put(w->txn, w->sh->keys, &k, &d, MDB_RESERVE);
    w->nmut++;
    if (rc)
        return pcs_w_fail(w, rc);
    memcpy(d.mv_data, head, hlen);
    if (dlen)
        memcpy((uint8_t *)d.mv_data + hlen, data, dlen);
    return 0;
}

int pcs_w_remove(pcs_wctx *w, const pc_val *key, const pcs_rec *old, bool members_left)
{
    int rc = pcs_w_del(w, w->sh->keys, key->s.ptr, key->s.len, NULL);
    w->dc[pcs_c_type(old->type)]--;
    w->dc[PCS_C_TTL] -= old->expire_at != 0;
    if (!rc)
        rc = xindex(w, key, old->expire_at, 0);
    if (!rc && pcs_has_members(old->type) && members_left)
        rc = sweep_gen(w, old->gen);
    return rc;
}

int pcs_w_restamp(pcs_wctx *w, const pc_val *key, const pcs_rec *rec, uint64_t expire_at)
{
    pcs_rec nr = *rec;
    nr.expire_at = expire_at;
    if (!rec->data || !rec->dlen) /* nothing past the record's fixed part */
        return pcs_w_store(w, key, rec, &nr, NULL, 0);
    /* The bytes (a String's, a Flight's value) live in the map and the put
     * below may move them. */
    pcs_buf_reset(&w->tmp);
    pcs_buf_put(&w->tmp, rec->data, rec->dlen);
    if (w->tmp.err)
        return PC_ENOMEM;
    return pcs_w_store(w, key, rec, &nr, w->tmp.data, rec->dlen);
}

void pcs_new_coll(pcs_wctx *w, pcs_rec *r, pc_type t)
{
    memset(r, 0, sizeof *r);
    r->type = t;
    r->gen = pcs_w_seq(w);
    r->head = r->tail = PCS_LIST_ORIGIN;
}

int pcs_chk_elem(const pcs_wctx *w, const pc_val *v)
{
    return pcs_val_check(v, w->st->max_value);
}

int pcs_chk_scalar(const pcs_wctx *w, const pc_val *v)
{
    return pcs_scalar_check(v, w->st->max_value);
}

int pcs_chk_ttl(const pc_val *v, int64_t *ttl)
{
    if (v->kind != PC_INT || pcs_ttl_check(v->i))
        return PC_EINVAL;
    *ttl = v->i;
    return 0;
}

int pcs_chk_int(const pc_val *v, int64_t *out)
{
    if (v->kind != PC_INT)
        return PC_EINVAL;
    *out = v->i;
    return 0;
}

int pcs_chk_count(const pc_val *v, uint64_t *out)
{
    if (v->kind != PC_INT || v->i < 1)
        return PC_EINVAL;
    *out = (uint64_t)v->i;
    return 0;
}

int pcs_chk_key2(const pcs_wctx *w, const pcs_req *rq, unsigned i)
{
    const pc_val *k = &rq->argv[i];
    if (k->kind != PC_BYTES || pcs_key_ok(k->s.ptr, k->s.len))
        return PC_EKEY;
    return pcs_shard_of(w->st->nshards, k->s.ptr, k->s.len) == w->shard ? 0 : PC_ECROSSSHARD;
}

/* ---- keyspace handlers ---- */

static int h_del(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pcs_rec r;
    bool stale;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &r, &stale);
    if (rc && !(rc == PC_ENOTFOUND && stale))
        return rc == PC_ENOTFOUND ? (pcs_out_int(out, 0), *nv = 1, 0) : rc;
    if ((rc = pcs_w_remove(w, pcs_key_arg(rq), &r, true)))
        return rc;
    pcs_out_int(out, stale ? 0 : 1);
    *nv = 1;
    return 0;
}

/* The expiry time an absolute time argument asks for: at (ms since the
 * epoch, 0 or more, at most PC_TTL_MAX_MS from now).  0 or PC_EINVAL. */
int pcs_chk_at(const pcs_wctx *w, const pc_val *v, uint64_t *at)
{
    if (v->kind != PC_INT || v->i < 0 || (uint64_t)v->i > w->now + (uint64_t)PC_TTL_MAX_MS)
        return PC_EINVAL;
    *at = (uint64_t)v->i;
    return 0;
}

/*
 * expire: key, ttl in ms (1..PC_TTL_MAX_MS); or, with a third argument 1,
 * key, an expiry time in ms since the epoch (EXPIREAT): a time not after
 * now deletes the key, as Redis does.  1, or 0 for a missing key.
 */
static int h_expire(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    bool absolute = rq->argc > 2;
    uint64_t at;
    if (absolute) {
        if (rq->argv[2].kind != PC_INT || rq->argv[2].i != 1 || pcs_chk_at(w, &rq->argv[1], &at))
            return PC_EINVAL;
    } else {
        int64_t ttl;
        if (pcs_chk_ttl(&rq->argv[1], &ttl) || ttl < 1)
            return PC_EINVAL;
        at = w->now + (uint64_t)ttl;
    }
    pcs_rec r;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &r, NULL);
    if (rc == PC_ENOTFOUND) {
        pcs_out_int(out, 0);
        *nv = 1;
        return 0;
    }
    if (rc)
        return rc;
    rc = at <= w->now ? pcs_w_remove(w, pcs_key_arg(rq), &r, true)
                      : pcs_w_restamp(w, pcs_key_arg(rq), &r, at);
    if (rc)
        return rc;
    pcs_out_int(out, 1);
    *nv = 1;
    return 0;
}

static int h_persist(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pcs_rec r;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &r, NULL);
    int changed = 0;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    if (!rc && r.expire_at) {
        if ((rc = pcs_w_restamp(w, pcs_key_arg(rq), &r, 0)))
            return rc;
        changed = 1;
    }
    pcs_out_int(out, changed);
    *nv = 1;
    return 0;
}

/* Flags of set and setcoll: 0 or PC_EINVAL. */
static int chk_set_flags(const pc_val *fv, int64_t ttl, unsigned *flags)
{
    if (fv->kind != PC_INT || fv->i < 0 || (fv->i & ~(int64_t)(PC_NX | PC_XX | PC_KEEPTTL)))
        return PC_EINVAL;
    *flags = (unsigned)fv->i;
    if ((*flags & PC_NX) && (*flags & PC_XX))
        return PC_EINVAL;
    if ((*flags & PC_KEEPTTL) && ttl)
        return PC_EINVAL;
    return 0;
}

/* NX/XX against what the key holds; then the new record's expiry. */
static int set_cond(pcs_wctx *w, unsigned flags, int64_t ttl, bool live, const pcs_rec *old,
                    uint64_t *expire_at)
{
    if ((flags & PC_NX) && live)
        return PC_EEXIST;
    if ((flags & PC_XX) && !live)
        return PC_ENOTFOUND;
    if (flags & PC_KEEPTTL)
        *expire_at = live ? old->expire_at : 0;
    else
        *expire_at = ttl ? w->now + (uint64_t)ttl : 0;
    return 0;
}

int pcs_h_set(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    const pc_val *v = &rq->argv[1];
    int64_t ttl;
    unsigned flags;
    int rc;
    if ((rc = pcs_chk_scalar(w, v)) || (rc = pcs_chk_ttl(&rq->argv[2], &ttl)) ||
        (rc = chk_set_flags(&rq->argv[3], ttl, &flags)))
        return rc;
    pcs_rec old, nr;
    bool stale;
    rc = pcs_w_lookup(w, pcs_key_arg(rq), &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    memset(&nr, 0, sizeof nr);
    if ((rc = set_cond(w, flags, ttl, live, &old, &nr.expire_at)))
        return rc;
    const pcs_rec *prev = live || stale ? &old : NULL;
    if (v->kind == PC_BYTES) {
        nr.type = PC_T_STRING;
        return pcs_w_store(w, pcs_key_arg(rq), prev, &nr, v->s.ptr, v->s.len);
    }
    nr.type = PC_T_NUMERIC;
    nr.num = *v;
    return pcs_w_store(w, pcs_key_arg(rq), prev, &nr, NULL, 0);
}

static int h_setcoll(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    int64_t type, ttl;
    unsigned flags;
    int rc;
    if ((rc = pcs_chk_int(&rq->argv[1], &type)) || (rc = pcs_chk_ttl(&rq->argv[2], &ttl)) ||
        (rc = chk_set_flags(&rq->argv[3], ttl, &flags)))
        return rc;
    if (type != PC_T_LIST && type != PC_T_QUEUE && type != PC_T_SET && type != PC_T_MAP)
        return PC_EINVAL;
    const pc_val *items = rq->argv + 4;
    size_t n = rq->argc - 4;
    if (type == PC_T_MAP)
        rc = pcs_map_check_items(w, items, n);
    else
        for (size_t i = 0; i < n && !rc; i++)
            rc = pcs_chk_elem(w, &items[i]);
    if (rc)
        return rc;
    pcs_rec old, nr;
    bool stale;
    rc = pcs_w_lookup(w, pcs_key_arg(rq), &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    uint64_t expire_at;
    if ((rc = set_cond(w, flags, ttl, live, &old, &expire_at)))
        return rc;
    if (n == 0) /* an empty collection does not exist */
        return (live || stale) ? pcs_w_remove(w, pcs_key_arg(rq), &old, true) : 0;
    pcs_new_coll(w, &nr, (pc_type)type);
    nr.expire_at = expire_at;
    if (pcs_is_seq(nr.type))
        rc = pcs_seq_fill(w, &nr, items, n);
    else if (nr.type == PC_T_MAP)
        rc = pcs_map_fill(w, &nr, items, n);
    else
        rc = pcs_set_fill(w, &nr, items, n);
    if (rc)
        return rc;
    return pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0);
}

/*
 * rename: key, new key (of the same shard), flags (0 or PC_RENAME_NX).  The record
 * moves whole: a String's bytes are copied, a collection keeps its gen and
 * so its members (O(1)); the TTL goes with it.  Whatever the new key held
 * is replaced (its members go to the sweep).  PC_ENOTFOUND when key is
 * missing; 1 renamed, 0 when PC_RENAME_NX and the new key exists (or is
 * key).
 */
static int h_rename(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *src = pcs_key_arg(rq), *dst = &rq->argv[1];
    const pc_val *fv = &rq->argv[2];
    int rc = pcs_chk_key2(w, rq, 1);
    if (rc)
        return rc;
    if (fv->kind != PC_INT || (fv->i != 0 && fv->i != PC_RENAME_NX))
        return PC_EINVAL;
    pcs_rec from, to;
    bool to_stale = false;
    rc = pcs_w_lookup(w, src, &from, NULL);
    if (rc)
        return rc;
    bool same = src->s.len == dst->s.len && !memcmp(src->s.ptr, dst->s.ptr, src->s.len);
    rc = same ? 0 : pcs_w_lookup(w, dst, &to, &to_stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool to_live = !same && rc == 0;
    *nv = 1;
    if (same || (to_live && fv->i == PC_RENAME_NX)) {
        pcs_out_int(out, same && fv->i != PC_RENAME_NX);
        return 0;
    }
    pcs_rec nr = from;
    const void *data = NULL;
    if (from.type == PC_T_STRING) { /* the bytes live in the map: the puts move them */
        pcs_buf_reset(&w->tmp);
        pcs_buf_put(&w->tmp, from.data, from.dlen);
        if (w->tmp.err)
            return PC_ENOMEM;
        data = w->tmp.data;
    }
    if ((rc = pcs_w_store(w, dst, to_live || to_stale ? &to : NULL, &nr, data, from.dlen)))
        return rc;
    /* Read the key's record again: the put above may have moved it. */
    if ((rc = pcs_w_lookup(w, src, &from, NULL)) || (rc = pcs_w_remove(w, src, &from, false)))
        return rc;
    pcs_out_int(out, 1);
    return 0;
}

static int h_req_absent(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    pcs_rec r;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &r, NULL);
    if (rc == PC_ENOTFOUND)
        return 0;
    return rc ? rc : PC_ECONFLICT;
}

static int h_req_version(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    if (rq->argv[1].kind != PC_INT)
        return PC_EINVAL;
    pcs_rec r;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &r, NULL);
    if (rc == PC_ENOTFOUND)
        return PC_ECONFLICT;
    if (rc)
        return rc;
    return r.version == (uint64_t)rq->argv[1].i ? 0 : PC_ECONFLICT;
}

/* Remove due keys now, up to PCS_PURGE_MAX per request (the caller asks
 * again while it gets that many). */
#define PCS_PURGE_MAX 10000
static int maint_expire(pcs_wctx *w, unsigned budget, unsigned *did);

static int h_purge(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)rq;
    int64_t before = w->dc[PCS_C_EXPIRED];
    unsigned did = 0;
    int rc = maint_expire(w, PCS_PURGE_MAX, &did);
    if (rc)
        return rc;
    pcs_out_int(out, w->dc[PCS_C_EXPIRED] - before);
    *nv = 1;
    return 0;
}

/*
 * Empty the shard at once: drop every key, the expiry index and the sweep
 * list (mdb_drop: O(pages), nothing per key), zero the key counts, and leave
 * the members to the sweep.  Every collection that exists now, or was dropped
 * and not yet swept, has a gen no higher than the last sequence number handed
 * out, and gens only grow; so the members of all of them are the one range
 * gen <= that number at the start of `members`, which "flush_gen" records
 * for maint_sweep.  "flushed_at" stays: the daemon will not restore an old
 * snapshot into a store that a flush emptied.
 */
static int h_flush(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)rq;
    (void)out;
    (void)nv;
    uint64_t c[PCS_COUNTS];
    MDB_stat ms;
    int rc = pcs_counts_get(w->root, w->sh, c);
    if (rc)
        return rc;
    if ((rc = mdb_stat(w->txn, w->sh->members, &ms)))
        return pcs_w_fail(w, rc);
    w->nmut++;
    if ((rc = mdb_drop(w->txn, w->sh->keys, 0)) || (rc = mdb_drop(w->txn, w->sh->expiry, 0)) ||
        (rc = mdb_drop(w->txn, w->sh->sweep, 0)))
        return pcs_w_fail(w, rc);
    if ((ms.ms_entries && (rc = pcs_meta_put(w->txn, w->sh, "flush_gen", w->seq))) ||
        (rc = pcs_meta_put(w->txn, w->sh, "flushed_at", w->now))) {
        if (!w->fatal)
            w->fatal = rc;
        return rc;
    }
    /* The stored counts plus these changes come to zero, whatever this
     * transaction changed before. */
    for (int t = PC_T_STRING; t < PC_T__COUNT; t++)
        w->dc[pcs_c_type((pc_type)t)] = -(int64_t)c[pcs_c_type((pc_type)t)];
    w->dc[PCS_C_TTL] = -(int64_t)c[PCS_C_TTL];
    return 0;
}

int pcs_evict_key(pcs_wctx *w, const void *key, size_t klen, bool *gone)
{
    pc_val kv = pc_mem(key, klen);
    pcs_rec r;
    bool stale;
    *gone = false;
    if (pcs_key_ok(key, klen))
        return PC_EKEY;
    int rc = pcs_w_lookup(w, &kv, &r, &stale);
    if (rc == PC_ENOTFOUND && !stale)
        return 0;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    if ((rc = pcs_w_remove(w, &kv, &r, true)))
        return rc;
    *gone = true;
    w->dc[PCS_C_EVICTED]++;
    return 0;
}

/* pcs_load_record's checks of a record's value or items, before anything
 * is written: 0 or the code to answer. */
static int load_check(pcs_wctx *w, pc_type type, const pc_val *value, const pc_val *items, size_t n)
{
    if (type == PC_T_STRING || type == PC_T_NUMERIC) {
        if (!value || items || n)
            return PC_EINVAL;
        if (type == PC_T_STRING ? value->kind != PC_BYTES
                                : value->kind != PC_INT && value->kind != PC_DOUBLE)
            return PC_EINVAL;
        return pcs_chk_scalar(w, value);
    }
    if (!pcs_is_coll(type) || value || !items || n == 0)
        return PC_EINVAL;
    if (type == PC_T_MAP)
        return pcs_map_check_items(w, items, n);
    for (size_t i = 0; i < n; i++) {
        int rc = pcs_chk_elem(w, &items[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int pcs_load_record(pcs_wctx *w, const void *key, size_t klen, pc_type type, uint64_t expire_at,
                    const pc_val *value, const pc_val *items, size_t n)
{
    /* A key there already is refused: its expiry entry, members and
     * counts would stay behind. */
    int rc = pcs_load_key(w, key, klen);
    if (rc || (rc = load_check(w, type, value, items, n)))
        return rc;
    pc_val kv = pc_mem(key, klen);
    pcs_rec nr;
    if (!pcs_is_coll(type)) {
        memset(&nr, 0, sizeof nr);
        nr.type = type;
        nr.expire_at = expire_at;
        if (type == PC_T_NUMERIC)
            nr.num = *value;
        bool b = value->kind == PC_BYTES;
        return pcs_w_store(w, &kv, NULL, &nr, b ? value->s.ptr : NULL, b ? value->s.len : 0);
    }
    pcs_new_coll(w, &nr, type);
    nr.expire_at = expire_at;
    if (pcs_is_seq(type))
        rc = pcs_seq_fill(w, &nr, items, n);
    else if (type == PC_T_MAP)
        rc = pcs_map_fill(w, &nr, items, n);
    else
        rc = pcs_set_fill(w, &nr, items, n);
    return rc ? rc : pcs_w_store(w, &kv, NULL, &nr, NULL, 0);
}

/* The checks pcs_load_record and issue 16's loaders share: a write
 * transaction, a key of w's shard not there yet.  0 or the code. */
int pcs_load_key(pcs_wctx *w, const void *key, size_t klen)
{
    if (!w || !w->txn)
        return PC_EINVAL;
    int rc = pcs_key_ok(key, klen);
    if (rc)
        return rc;
    if (pcs_shard_of(w->st->nshards, key, klen) != w->shard)
        return PC_EINVAL;
    pc_val kv = pc_mem(key, klen);
    pcs_rec r;
    bool stale;
    rc = pcs_w_lookup(w, &kv, &r, &stale);
    if (rc == 0 || (rc == PC_ENOTFOUND && stale))
        return PC_EEXIST;
    return rc == PC_ENOTFOUND ? 0 : rc;
}

/* ---- dispatch ---- */

/* Flags of an operation. */
#define F_PAIRS 1u /* arguments after the key come in pairs */
#define F_GROW 2u  /* may make the store larger: refused at the cap (pcs_op_grows) */
#define F_NOKEY 4u /* argv[0] is a shard number, not a key */

static const struct cmd {
    pcs_handler fn;
    uint32_t min_args; /* the key included */
    uint32_t max_args; /* 0: no limit */
    uint8_t flags;
} cmds[PCS_OP__COUNT] = {
    [PCS_OP_SET] = {pcs_h_set, 4, 4, F_GROW},
    [PCS_OP_SETCOLL] = {h_setcoll, 4, 0, F_GROW},
    [PCS_OP_GETSET] = {pcs_h_getset, 2, 2, F_GROW},
    [PCS_OP_APPEND] = {pcs_h_append, 2, 2, F_GROW},
    [PCS_OP_SETRANGE] = {pcs_h_setrange, 3, 3, F_GROW},
    [PCS_OP_INCRBY] = {pcs_h_incrby, 2, 2, F_GROW},
    [PCS_OP_INCRBYFLOAT] = {pcs_h_incrbyfloat, 2, 2, F_GROW},
    [PCS_OP_DEL] = {h_del, 1, 1, 0},
    [PCS_OP_EXPIRE] = {h_expire, 2, 3, F_GROW},
    [PCS_OP_PERSIST] = {h_persist, 1, 1, 0},
    [PCS_OP_LPUSH] = {pcs_h_push, 2, 0, F_GROW},
    [PCS_OP_RPUSH] = {pcs_h_push, 2, 0, F_GROW},
    [PCS_OP_LPOP] = {pcs_h_pop, 2, 2, 0},
    [PCS_OP_RPOP] = {pcs_h_pop, 2, 2, 0},
    [PCS_OP_LSET] = {pcs_h_lset, 3, 3, F_GROW},
    [PCS_OP_LTRIM] = {pcs_h_ltrim, 3, 3, 0},
    [PCS_OP_LREM] = {pcs_h_lrem, 3, 3, 0},
    [PCS_OP_QPUSH] = {pcs_h_push, 2, 0, F_GROW},
    [PCS_OP_QPOP] = {pcs_h_pop, 2, 2, 0},
    [PCS_OP_QPOPW] = {pcs_h_pop, 3, 4, 0},
    [PCS_OP_HSET] = {pcs_h_hset, 3, 0, F_PAIRS | F_GROW},
    [PCS_OP_HDEL] = {pcs_h_hdel, 2, 0, 0},
    [PCS_OP_HINCRBY] = {pcs_h_hincr, 3, 3, F_GROW},
    [PCS_OP_HINCRBYFLOAT] = {pcs_h_hincr, 3, 3, F_GROW},
    [PCS_OP_SADD] = {pcs_h_sadd, 2, 0, F_GROW},
    [PCS_OP_SREM] = {pcs_h_srem, 2, 0, 0},
    [PCS_OP_SPOP] = {pcs_h_spop, 2, 2, 0},
    [PCS_OP_REQ_ABSENT] = {h_req_absent, 1, 1, 0},
    [PCS_OP_REQ_VERSION] = {h_req_version, 2, 2, 0},
    [PCS_OP_PURGE] = {h_purge, 1, 1, F_NOKEY},
    [PCS_OP_FLUSH] = {h_flush, 1, 1, F_NOKEY},
    [PCS_OP_GETEX] = {pcs_h_getex, 3, 3, F_GROW},
    [PCS_OP_HSETNX] = {pcs_h_hsetnx, 3, 3, F_GROW},
    [PCS_OP_LINSERT] = {pcs_h_linsert, 4, 4, F_GROW},
    [PCS_OP_LMOVE] = {pcs_h_lmove, 4, 4, F_GROW},
    [PCS_OP_SMOVE] = {pcs_h_smove, 3, 3, F_GROW},
    [PCS_OP_RENAME] = {h_rename, 3, 3, F_GROW},
    /* issue 16 */
    [PCS_OP_THROTTLE] = {pcs_h_throttle, 6, 6, F_GROW},
    [PCS_OP_FC_CLAIM] = {pcs_h_fc_claim, 5, 6, F_GROW},
    [PCS_OP_FC_FILL] = {pcs_h_fc_fill, 5, 5, F_GROW},
    [PCS_OP_FC_RELEASE] = {pcs_h_fc_release, 2, 2, 0},
    [PCS_OP_SETBIT] = {pcs_h_setbit, 3, 3, F_GROW},
    [PCS_OP_BITOP] = {pcs_h_bitop, 3, 0, F_GROW},
    [PCS_OP_BF_RESERVE] = {pcs_h_bf_reserve, 5, 5, F_GROW},
    [PCS_OP_BF_ADD] = {pcs_h_bf_add, 2, 0, F_GROW},
    /* issue 17: streams */
    [PCS_OP_XADD] = {pcs_h_xadd, 13, 0, F_GROW},
    [PCS_OP_XTRIM] = {pcs_h_xtrim, 7, 7, 0},
    [PCS_OP_XDEL] = {pcs_h_xdel, 3, 0, 0},
    [PCS_OP_XGROUP] = {pcs_h_xgroup, 3, 8, F_GROW},
    [PCS_OP_XREADGROUP] = {pcs_h_xreadgroup, 10, 0, F_GROW},
    [PCS_OP_XREADW] = {pcs_h_xreadw, 7, 0, 0},
    [PCS_OP_XACK] = {pcs_h_xack, 4, 0, 0},
    [PCS_OP_XCLAIM] = {pcs_h_xclaim, 15, 0, F_GROW},
    [PCS_OP_XAUTOCLAIM] = {pcs_h_xautoclaim, 8, 8, F_GROW},
    /* issue 17: sorted sets */
    [PCS_OP_ZADD] = {pcs_h_zadd, 4, 0, F_GROW},
    [PCS_OP_ZREM] = {pcs_h_zrem, 2, 0, 0},
    [PCS_OP_ZPOP] = {pcs_h_zpop, 3, 3, 0},
    [PCS_OP_BZPOP] = {pcs_h_bzpop, 4, 0, 0},
    [PCS_OP_ZREMRANGE] = {pcs_h_zremrange, 9, 9, 0},
    [PCS_OP_ZRANGESTORE] = {pcs_h_zrangestore, 10, 10, F_GROW},
    [PCS_OP_ZSTORE] = {pcs_h_zstore, 5, 0, F_GROW},
};

/* Arity and key checks common to every operation. */
static int check_shape(const pcs_req *rq)
{
    const struct cmd *c = &cmds[rq->op];
    if (rq->argc < c->min_args || (c->max_args && rq->argc > c->max_args))
        return PC_EINVAL;
    if ((c->flags & F_PAIRS) && (rq->argc - 1) % 2)
        return PC_EINVAL;
    const pc_val *k = &rq->argv[0];
    if (c->flags & F_NOKEY)
        return k->kind == PC_INT && k->i >= 0 && (uint64_t)k->i < PCS_SHARDS_MAX ? 0 : PC_EINVAL;
    if (k->kind != PC_BYTES)
        return PC_EINVAL;
    return pcs_key_ok(k->s.ptr, k->s.len);
}

static int exec_txn(pcs_wctx *w, const pcs_req *rq, pcs_buf *out);

int pcs_exec(pcs_wctx *w, const pcs_req *rq, pcs_buf *out)
{
    if (rq->op == PCS_OP_TXN)
        return exec_txn(w, rq, out);
    size_t start = pcs_resp_begin(out, rq->op, rq->id);
    if (out->err)
        return out->err;
    uint32_t nvals = 0;
    uint64_t nmut = w->nmut;
    int rc;
    if (rq->op == 0 || rq->op >= PCS_OP__COUNT || !cmds[rq->op].fn)
        rc = PC_EPROTO;
    else if ((rc = check_shape(rq)))
        ;
    else if (cmds[rq->op].flags & F_NOKEY
                 ? (uint64_t)rq->argv[0].i != w->shard
                 : pcs_shard_of(w->st->nshards, rq->argv[0].s.ptr, rq->argv[0].s.len) != w->shard)
        rc = PC_ECROSSSHARD;
    else
        rc = cmds[rq->op].fn(w, rq, out, &nvals);
    if (w->fatal)
        return w->fatal;
    if (rc && w->nmut != nmut) /* failed after writing: only an abort undoes it */
        return rc == PC_ENOMEM || rc == PC_EFULL ? rc : PC_EIO;
    if (out->err == PC_ENOMEM)
        return PC_ENOMEM;
    if (rc || out->err)
        pcs_resp_fail(out, start, rc ? rc : out->err);
    else
        pcs_resp_end(out, start, 0, nvals);
    return out->err;
}

/*
 * A transaction: its requests, all or none.  It runs first in a fresh LMDB
 * transaction (pcs_run sees to that: MDB_WRITEMAP, which makes commits an
 * order of magnitude cheaper, rules out nested transactions), so undoing it
 * is aborting that transaction: on failure the answer says which request
 * failed and PCS_ROLLBACK tells the caller to abort.
 */
static int exec_txn(pcs_wctx *w, const pcs_req *rq, pcs_buf *out)
{
    size_t start = pcs_resp_begin(out, PCS_OP_TXN, rq->id);
    pcs_buf_put_u32(out, UINT32_MAX); /* failed */
    pcs_buf_put_u32(out, 0);
    if (out->err)
        return out->err;
    size_t body = out->len;
    if (w->nmut) /* not first in its LMDB transaction: a caller's mistake */
        return PC_EIO;
    uint32_t failed = UINT32_MAX;
    int op_rc = 0;
    for (uint32_t i = 0; i < rq->nsub && !op_rc; i++) {
        size_t at = out->len;
        /* A flush empties every shard, a transaction lives in one: the
         * client refuses it (PC_ESTATE); a frame that carries one anyway is
         * malformed. */
        int rc = rq->subs[i].op == PCS_OP_FLUSH ? PC_EPROTO : pcs_exec(w, &rq->subs[i], out);
        if (rc == PCS_ROLLBACK)
            rc = PC_EPROTO; /* a transaction inside a transaction */
        if (rc) {
            /* LMDB failed part way (a full map, say), or memory ran out:
             * the whole transaction fails and is rolled back. */
            op_rc = rc;
            w->fatal = 0;
        } else {
            op_rc = (int32_t)pcs_le32(out->data + at + PCS_FRAME_HDR);
        }
        if (op_rc)
            failed = i;
    }
    if (!op_rc)
        return pcs_resp_end(out, start, 0, rq->nsub);
    out->len = body;
    out->err = 0;
    pcs_put_le32(out->data + start + PCS_FRAME_HDR + 8, failed);
    pcs_resp_end(out, start, op_rc, 0);
    return out->err ? out->err : PCS_ROLLBACK;
}

bool pcs_op_grows(const pcs_req *rq)
{
    if (rq->op == PCS_OP_TXN) {
        for (uint32_t i = 0; i < rq->nsub; i++)
            if (pcs_op_grows(&rq->subs[i]))
                return true;
        return false;
    }
    /* GETEX grows the store only when it gives the key a TTL (an entry in
     * the expiry index); reading, removing a TTL or deleting never does. */
    if (rq->op == PCS_OP_GETEX && rq->argc > 1 && rq->argv[1].kind == PC_INT &&
        rq->argv[1].i != PCS_GETEX_TTL && rq->argv[1].i != PCS_GETEX_AT)
        return false;
    return rq->op < PCS_OP__COUNT && (cmds[rq->op].flags & F_GROW);
}

int pcs_req_shard(const pcs_store *st, const pcs_req *rq, unsigned *shard)
{
    if (rq->op == PCS_OP_PURGE || rq->op == PCS_OP_FLUSH) {
        const pc_val *k = rq->argc ? &rq->argv[0] : NULL;
        if (!k || k->kind != PC_INT || k->i < 0 || (uint64_t)k->i >= st->nshards) {
            *shard = 0;
            return PC_EINVAL;
        }
        *shard = (unsigned)k->i;
        return 0;
    }
    if (rq->op != PCS_OP_TXN) {
        const pc_val *k = rq->argc ? &rq->argv[0] : NULL;
        if (!k || k->kind != PC_BYTES || pcs_key_ok(k->s.ptr, k->s.len)) {
            *shard = 0; /* answered with an error by pcs_exec */
            return PC_EKEY;
        }
        *shard = pcs_shard_of(st->nshards, k->s.ptr, k->s.len);
        return 0;
    }
    *shard = 0;
    bool first = true;
    for (uint32_t i = 0; i < rq->nsub; i++) {
        unsigned s;
        if (pcs_req_shard(st, &rq->subs[i], &s))
            continue;
        if (!first && s != *shard)
            return PC_ECROSSSHARD;
        *shard = s;
        first = false;
    }
    return 0;
}

/* ---- upkeep ---- */

/* Remove up to budget keys whose TTL ran out, soonest first. */
static int maint_expire(pcs_wctx *w, unsigned budget, unsigned *did)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->sh->expiry, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    MDB_val k, d;
    while (!w->fatal && *did < budget && !(rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST))) {
        if (k.mv_size < 9 || k.mv_size > PCS_XKEY_MAX) {
            pcs_w_fail(w, MDB_CORRUPTED);
            break;
        }
        uint64_t exp = pcs_be64(k.mv_data);
        if (exp > w->now)
            break;
        uint8_t key[PC_KEY_MAX];
        size_t klen = k.mv_size - 8;
        memcpy(key, (uint8_t *)k.mv_data + 8, klen);
        if ((rc = mdb_cursor_del(cur, 0))) {
            pcs_w_fail(w, rc);
            break;
        }
        w->nmut++;
        (*did)++;
        pc_val kv = pc_mem(key, klen);
        pcs_rec r;
        bool stale;
        if (pcs_w_lookup(w, &kv, &r, &stale) == PC_ENOTFOUND && stale && r.expire_at == exp) {
            r.expire_at = 0; /* its expiry entry is gone already */
            if (pcs_w_remove(w, &kv, &r, true))
                break;
            w->dc[PCS_C_TTL]--;
            w->dc[PCS_C_EXPIRED]++;
        }
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND && !w->fatal)
        pcs_w_fail(w, rc);
    return w->fatal;
}

/*
 * After a flush: delete up to budget members whose gen is at most the
 * shard's "flush_gen" (one range at the start of members), and the mark
 * itself once none is left.  Returns 0 or an LMDB code.
 */
static int sweep_flushed(pcs_wctx *w, MDB_cursor *mc, unsigned budget, unsigned *did)
{
    static const char name[] = "flush_gen";
    MDB_val nk = {sizeof name - 1, (void *)name}, k, d;
    int rc = mdb_get(w->txn, w->sh->meta, &nk, &d);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    if (d.mv_size != 8)
        return MDB_CORRUPTED;
    uint64_t mark = pcs_le64(d.mv_data);
    rc = 0;
    while (*did < budget && !(rc = mdb_cursor_get(mc, &k, &d, MDB_FIRST))) {
        if (k.mv_size < 8)
            return MDB_CORRUPTED;
        if (pcs_be64(k.mv_data) > mark) {
            rc = MDB_NOTFOUND; /* the rest are newer */
            break;
        }
        if ((rc = mdb_cursor_del(mc, 0)))
            return rc;
        w->nmut++;
        w->dc[PCS_C_SWEPT]++;
        (*did)++;
    }
    if (rc != MDB_NOTFOUND)
        return rc; /* 0: the budget ran out first */
    w->nmut++;
    return mdb_del(w->txn, w->sh->meta, &nk, NULL);
}

/* Delete up to budget members of collections that were dropped. */
static int maint_sweep(pcs_wctx *w, unsigned budget, unsigned *did)
{
    MDB_cursor *sc, *mc;
    int rc = mdb_cursor_open(w->txn, w->sh->sweep, &sc);
    if (rc)
        return pcs_w_fail(w, rc);
    if ((rc = mdb_cursor_open(w->txn, w->sh->members, &mc))) {
        mdb_cursor_close(sc);
        return pcs_w_fail(w, rc);
    }
    MDB_val k, d;
    rc = sweep_flushed(w, mc, budget, did);
    while (!rc && *did < budget && !(rc = mdb_cursor_get(sc, &k, &d, MDB_FIRST))) {
        if (k.mv_size != 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        uint8_t gen[8];
        memcpy(gen, k.mv_data, 8);
        MDB_val mk = {8, gen}, md;
        while (*did < budget && !(rc = mdb_cursor_get(mc, &mk, &md, MDB_SET_RANGE)) &&
               mk.mv_size >= 8 && !memcmp(mk.mv_data, gen, 8)) {
            if ((rc = mdb_cursor_del(mc, 0)))
                break;
            w->nmut++;
            w->dc[PCS_C_SWEPT]++;
            (*did)++;
            mk.mv_size = 8;
            mk.mv_data = gen;
        }
        if (rc && rc != MDB_NOTFOUND)
            break;
        rc = 0;
        if (*did >= budget)
            break;
        /* No members of this generation remain. */
        MDB_val sk = {8, gen};
        if ((rc = mdb_del(w->txn, w->sh->sweep, &sk, NULL)))
            break;
        w->nmut++;
    }
    mdb_cursor_close(mc);
    mdb_cursor_close(sc);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    return rc ? pcs_w_fail(w, rc) : 0;
}

int pcs_maint(pcs_wctx *w, unsigned what, unsigned budget, unsigned *did)
{
    unsigned n = 0;
    int rc = 0;
    if (what & PCS_MAINT_EXPIRE)
        rc = maint_expire(w, (what & PCS_MAINT_SWEEP) && budget > 1 ? budget / 2 : budget, &n);
    if (!rc && (what & PCS_MAINT_SWEEP))
        rc = maint_sweep(w, budget, &n);
    if (did)
        *did = n;
    return rc;
}

/* ---- rounds ---- */

/* Answer rq with rc alone (a transaction: as failed as a whole). */
static void resp_error(pcs_buf *out, const pcs_req *rq, int rc)
{
    size_t s = pcs_resp_begin(out, rq->op, rq->id);
    if (rq->op == PCS_OP_TXN) {
        pcs_buf_put_u32(out, UINT32_MAX);
        pcs_buf_put_u32(out, 0);
    }
    pcs_resp_end(out, s, rc, 0);
}

/* After a request failed in a transaction of its own: was it for want of
 * pages, and did the room hook make room, so that running it again may
 * succeed?  *round counts the hook's calls for this request. */
static bool room_made(pcs_wctx *w, unsigned shard, const pcs_req *rq, unsigned *round)
{
    if (w->mdb_fail != MDB_MAP_FULL || !w->room_fn)
        return false;
    return w->room_fn(w->room_arg, shard, rq, (*round)++);
}

/*
 * Run reqs[0..n) in as few LMDB transactions as possible: one, except that
 * a transaction request always starts a new one (what came before it is
 * committed first), and one that fails is aborted alone.  On a failure that
 * is not an answer (LMDB failing part way, say), everything of the current
 * LMDB transaction is undone, out is cut back to where it began, and *done
 * gets how many requests were answered and committed before it.
 */
static int run_some(pcs_wctx *w, pcs_store *st, unsigned shard, pcs_req *const *reqs, size_t n,
                    pcs_buf *out, size_t *roff, unsigned maint, unsigned what, size_t *done)
{
    size_t i = 0;
    unsigned round = 0; /* the room hook's calls for a transaction request */
    *done = 0;
    while (i < n) {
        size_t mark = out->len, first = i;
        int rc = pcs_wbegin(w, st, shard);
        if (rc)
            return rc;
        for (; i < n && !rc; i++) {
            if (reqs[i]->op == PCS_OP_TXN && i > first)
                break; /* commit what we have; the transaction starts afresh */
            roff[i] = out->len;
            rc = pcs_exec(w, reqs[i], out);
            if (rc == PCS_ROLLBACK) {
                pcs_wabort(w); /* its answer says why; nothing of it stays */
                /* A transaction request runs alone: when it failed for
                 * want of pages, make room and run it again. */
                if (room_made(w, shard, reqs[i], &round)) {
                    out->len = mark;
                    goto next;
                }
                round = 0;
                i++;
                goto next;
            }
        }
        if (!rc && maint && i == n)
            rc = pcs_maint(w, what, maint, NULL);
        if (!rc)
            rc = pcs_wcommit(w);
        else
            pcs_wabort(w);
        if (rc) {
            out->len = mark;
            if (out->err == PC_ENOMEM)
                out->err = 0;
            *done = first;
            return rc;
        }
    next:
        *done = i;
    }
    roff[n] = out->len;
    return 0;
}

int pcs_run(pcs_wctx *w, pcs_store *st, unsigned shard, pcs_req *const *reqs, size_t n,
            pcs_buf *out, size_t *roff, unsigned maint, unsigned what)
{
    if (n == 0)
        return 0;
    size_t mark = out->len, done;
    int rc = run_some(w, st, shard, reqs, n, out, roff, maint, what, &done);
    if (!rc)
        return 0;
    /* Something failed part way: run the rest one by one, so that only the
     * requests that cannot be done fail. */
    for (size_t i = done; i < n; i++) {
        size_t one[2], d1;
        unsigned round = 0;
        roff[i] = out->len;
        /* When it failed alone already, that says how it goes alone. */
        int r1 = i == done && n - done == 1
                     ? rc
                     : run_some(w, st, shard, &reqs[i], 1, out, one, 0, 0, &d1);
        while (r1 == PC_EFULL && room_made(w, shard, reqs[i], &round))
            r1 = run_some(w, st, shard, &reqs[i], 1, out, one, 0, 0, &d1);
        if (r1)
            resp_error(out, reqs[i], r1);
        if (out->err) {
            rc = out->err;
            out->len = mark;
            out->err = 0;
            return rc;
        }
    }
    roff[n] = out->len;
    return 0;
}
