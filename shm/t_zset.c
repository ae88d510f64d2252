/*
 * t_zset.c - sorted set writes (issue 17): zadd, zrem, zpop, bzpop,
 * zremrange, zrangestore, zstore (union, inter, diff), and the upkeep of
 * the counted index (zset.h) that every one of them goes through.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "exec_int.h"
#include "zset.h"

#define H (PCS_GEN_LEN + 1) /* gen ‖ tag */

/* ---- the counted index ---- */

/* One node of a path from level 1 up: its key (a copy) and counts. */
typedef struct znode {
    uint8_t key[PCS_ZKEY_MAX];
    size_t klen;
    uint64_t ent;
    uint32_t ch;
    bool below; /* the zk looked for sorts before the node (the level's first) */
} znode;

static int cur_get(pcs_wctx *w, MDB_cursor *cur, MDB_val *k, MDB_val *d, MDB_cursor_op op)
{
    int rc = mdb_cursor_get(cur, k, d, op);
    if (rc == MDB_NOTFOUND)
        return PC_ENOTFOUND;
    return rc ? pcs_w_fail(w, rc) : 0;
}

static bool tagged(const MDB_val *k, uint64_t gen, unsigned tag)
{
    const uint8_t *b = k->mv_data;
    return k->mv_size > H && pcs_be64(b) == gen && b[PCS_GEN_LEN] == tag;
}

static int node_take(const MDB_val *k, const MDB_val *d, znode *n)
{
    if (d->mv_size != 12 || k->mv_size > PCS_ZKEY_MAX)
        return PC_ECORRUPT;
    memcpy(n->key, k->mv_data, k->mv_size);
    n->klen = k->mv_size;
    n->ent = pcs_le64(d->mv_data);
    n->ch = pcs_le32((const uint8_t *)d->mv_data + 8);
    return 0;
}

/* The node of level L that holds zk: the last named at or before it, or
 * the level's first (below) when zk sorts before every node. */
static int node_find(pcs_wctx *w, MDB_cursor *cur, uint64_t gen, unsigned L, const uint8_t *zk,
                     size_t zklen, znode *n)
{
    uint8_t kb[PCS_ZKEY_MAX + 1];
    unsigned tag = PCS_Z_NODE + L;
    MDB_val k = {pcs_z_nkey(kb, gen, L, zk, zklen), kb}, d;
    size_t want = k.mv_size;
    int rc = cur_get(w, cur, &k, &d, MDB_SET_RANGE);
    n->below = false;
    if (!rc && tagged(&k, gen, tag) && k.mv_size == want && !memcmp(k.mv_data, kb, want))
        return node_take(&k, &d, n);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    rc = cur_get(w, cur, &k, &d, rc == PC_ENOTFOUND ? MDB_LAST : MDB_PREV);
    if (!rc && tagged(&k, gen, tag))
        return node_take(&k, &d, n);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    k.mv_data = kb;
    k.mv_size = pcs_z_nkey(kb, gen, L, NULL, 0);
    rc = cur_get(w, cur, &k, &d, MDB_SET_RANGE);
    if (rc == PC_ENOTFOUND || (!rc && !tagged(&k, gen, tag)))
        return PC_ECORRUPT;
    n->below = true;
    return rc ? rc : node_take(&k, &d, n);
}

static int node_put(pcs_wctx *w, const uint8_t *key, size_t klen, uint64_t ent, uint32_t ch)
{
    uint8_t v[12];
    pcs_put_le64(v, ent);
    pcs_put_le32(v + 8, ch);
    return pcs_w_put(w, w->sh->members, key, klen, v, sizeof v);
}

/* Write n back, renamed to zk first when rename. */
static int node_store(pcs_wctx *w, znode *n, uint64_t gen, unsigned L, const uint8_t *zk,
                      size_t zklen, bool rename)
{
    int rc;
    if (rename) {
        if ((rc = pcs_w_del(w, w->sh->members, n->key, n->klen, NULL)))
            return rc;
        n->klen = pcs_z_nkey(n->key, gen, L, zk, zklen);
    }
    return node_put(w, n->key, n->klen, n->ent, n->ch);
}

/* Split node p of level L (more than PCS_Z_FAN children): its first half
 * stays, the second becomes a node named by the first child of that half. */
static int node_split(pcs_wctx *w, uint64_t gen, unsigned L, znode *p)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    uint8_t kb[PCS_ZKEY_MAX];
    unsigned ctag = L == 1 ? PCS_Z_ENT : PCS_Z_NODE + L - 1;
    MDB_val k = {H + p->klen - H, kb}, d;
    pcs_put_be64(kb, gen);
    kb[PCS_GEN_LEN] = (uint8_t)ctag;
    memcpy(kb + H, p->key + H, p->klen - H);
    uint32_t half = p->ch / 2;
    uint64_t sum = 0;
    rc = cur_get(w, cur, &k, &d, MDB_SET_RANGE);
    for (uint32_t i = 0; i < half && !rc; i++) {
        if (!tagged(&k, gen, ctag) || (L > 1 && d.mv_size != 12)) {
            rc = PC_ECORRUPT;
            break;
        }
        sum += L == 1 ? 1 : pcs_le64(d.mv_data);
        rc = cur_get(w, cur, &k, &d, MDB_NEXT);
    }
    uint8_t nk[PCS_ZKEY_MAX];
    size_t nkl = 0;
    if (!rc && (!tagged(&k, gen, ctag) || k.mv_size > PCS_ZKEY_MAX || sum >= p->ent))
        rc = PC_ECORRUPT;
    if (!rc)
        nkl = pcs_z_nkey(nk, gen, L, (const uint8_t *)k.mv_data + H, k.mv_size - H);
    mdb_cursor_close(cur);
    if (rc)
        return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    if ((rc = node_put(w, nk, nkl, p->ent - sum, p->ch - half)))
        return rc;
    p->ent = sum;
    p->ch = half;
    return node_put(w, p->key, p->klen, p->ent, p->ch);
}

/* Count the index entry ekey (just put) in r's nodes. */
static int idx_insert(pcs_wctx *w, pcs_rec *r, const uint8_t *ekey, size_t eklen)
{
    const uint8_t *zk = ekey + H;
    size_t zklen = eklen - H;
    if (r->zheight == 0) { /* the first entry: a root of one */
        uint8_t kb[PCS_ZKEY_MAX];
        r->zheight = 1;
        return node_put(w, kb, pcs_z_nkey(kb, r->gen, 1, zk, zklen), 1, 1);
    }
    znode path[PCS_Z_MAX_HEIGHT + 1];
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    for (unsigned L = 1; L <= r->zheight && !rc; L++)
        rc = node_find(w, cur, r->gen, L, zk, zklen, &path[L]);
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    for (unsigned L = 1; L <= r->zheight; L++) {
        znode *p = &path[L];
        p->ent++;
        p->ch += L == 1;
        if ((rc = node_store(w, p, r->gen, L, zk, zklen, p->below)))
            return rc;
    }
    for (unsigned L = 1; L <= r->zheight && path[L].ch > PCS_Z_FAN; L++) {
        uint64_t total = path[L].ent;
        if (L == r->zheight && r->zheight >= PCS_Z_MAX_HEIGHT)
            return PC_EFULL; /* (65^16 entries: not reached) */
        if ((rc = node_split(w, r->gen, L, &path[L])))
            return rc;
        if (L == r->zheight) { /* a new root above the two */
            uint8_t kb[PCS_ZKEY_MAX];
            size_t kl = pcs_z_nkey(kb, r->gen, L + 1, path[L].key + H, path[L].klen - H);
            r->zheight++;
            return node_put(w, kb, kl, total, 2);
        }
        path[L + 1].ch++;
        if ((rc = node_put(w, path[L + 1].key, path[L + 1].klen, path[L + 1].ent, path[L + 1].ch)))
            return rc;
    }
    return 0;
}

/* Uncount the index entry ekey (still there). */
static int idx_delete(pcs_wctx *w, pcs_rec *r, const uint8_t *ekey, size_t eklen)
{
    const uint8_t *zk = ekey + H;
    size_t zklen = eklen - H;
    znode path[PCS_Z_MAX_HEIGHT + 1];
    uint8_t succ[PCS_ZKEY_MAX];
    size_t slen = 0;
    bool has_succ = false;
    MDB_cursor *cur;
    if (r->zheight == 0)
        return PC_ECORRUPT;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    for (unsigned L = 1; L <= r->zheight && !rc; L++)
        rc = node_find(w, cur, r->gen, L, zk, zklen, &path[L]);
    if (!rc) { /* the entry after it names the nodes it named */
        MDB_val k = {eklen, (void *)ekey}, d;
        rc = cur_get(w, cur, &k, &d, MDB_SET_KEY);
        if (!rc)
            rc = cur_get(w, cur, &k, &d, MDB_NEXT);
        if (!rc && tagged(&k, r->gen, PCS_Z_ENT) && k.mv_size <= PCS_ZKEY_MAX) {
            has_succ = true;
            slen = k.mv_size - H;
            memcpy(succ, (const uint8_t *)k.mv_data + H, slen);
        }
        if (rc == PC_ENOTFOUND)
            rc = 0;
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    bool child_gone = false;
    for (unsigned L = 1; L <= r->zheight; L++) {
        znode *p = &path[L];
        if (p->below || p->ent == 0 || p->ch == 0)
            return PC_ECORRUPT;
        p->ent--;
        if (L == 1 || child_gone)
            p->ch--;
        child_gone = false;
        bool named = p->klen - H == zklen && !memcmp(p->key + H, zk, zklen);
        if (p->ch == 0) {
            if ((rc = pcs_w_del(w, w->sh->members, p->key, p->klen, NULL)))
                return rc;
            child_gone = true;
            continue;
        }
        if (named && !has_succ)
            return PC_ECORRUPT;
        if ((rc = node_store(w, p, r->gen, L, succ, slen, named)))
            return rc;
    }
    if (child_gone) { /* the root went: the index is empty */
        r->zheight = 0;
        return 0;
    }
    /* A root of one child goes: the child is the root. */
    while (r->zheight > 1 && path[r->zheight].ch == 1) {
        znode *root = &path[r->zheight];
        if ((rc = pcs_w_del(w, w->sh->members, root->key, root->klen, NULL)))
            return rc;
        r->zheight--;
        MDB_val k, d;
        if ((rc = mdb_cursor_open(w->txn, w->sh->members, &cur)))
            return pcs_w_fail(w, rc);
        uint8_t kb[PCS_ZKEY_MAX];
        k.mv_data = kb;
        k.mv_size = pcs_z_nkey(kb, r->gen, r->zheight, NULL, 0);
        rc = cur_get(w, cur, &k, &d, MDB_SET_RANGE);
        if (!rc && !tagged(&k, r->gen, PCS_Z_NODE + r->zheight))
            rc = PC_ECORRUPT;
        if (!rc)
            rc = node_take(&k, &d, &path[r->zheight]);
        mdb_cursor_close(cur);
        if (rc)
            return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    }
    return 0;
}

/* ---- members ---- */

/* Put member m (encoded) with score into r: a new member, or one whose
 * score was old (had).  r->count grows for a new one. */
static int z_put(pcs_wctx *w, pcs_rec *r, const pcs_zmem *m, double score, bool had, double old)
{
    uint8_t kb[PCS_ZKEY_MAX];
    bool is_long;
    size_t kl;
    int rc;
    if (had) {
        if (pcs_zs_key(old) == pcs_zs_key(score))
            return 0;
        kl = pcs_z_ekey(kb, r->gen, pcs_zs_key(old), m->enc, m->len, &is_long);
        if ((rc = idx_delete(w, r, kb, kl)) || (rc = pcs_w_del(w, w->sh->members, kb, kl, NULL)))
            return rc;
    }
    kl = pcs_z_ekey(kb, r->gen, pcs_zs_key(score), m->enc, m->len, &is_long);
    if ((rc = pcs_w_put(w, w->sh->members, kb, kl, is_long ? m->enc : NULL, is_long ? m->len : 0)))
        return rc;
    if ((rc = idx_insert(w, r, kb, kl)))
        return rc;
    /* The member's score: 8 bytes, then the member when its key is cut. */
    if (score == 0)
        score = 0;
    kl = pcs_z_mkey(kb, r->gen, m->enc, m->len, &is_long);
    MDB_val k = {kl, kb}, d = {8 + (is_long ? m->len : 0), NULL};
    rc = mdb_put(w->txn, w->sh->members, &k, &d, MDB_RESERVE);
    w->nmut++;
    if (rc)
        return pcs_w_fail(w, rc);
    pcs_put_le64(d.mv_data, pcs_d2u(score));
    if (is_long)
        memcpy((uint8_t *)d.mv_data + 8, m->enc, m->len);
    r->count += !had;
    return 0;
}

/* Remove member m, whose score is score, from r. */
static int z_del(pcs_wctx *w, pcs_rec *r, const uint8_t *enc, size_t elen, double score)
{
    uint8_t kb[PCS_ZKEY_MAX];
    bool is_long;
    size_t kl = pcs_z_ekey(kb, r->gen, pcs_zs_key(score), enc, elen, &is_long);
    int rc;
    if ((rc = idx_delete(w, r, kb, kl)) || (rc = pcs_w_del(w, w->sh->members, kb, kl, NULL)))
        return rc;
    kl = pcs_z_mkey(kb, r->gen, enc, elen, &is_long);
    if ((rc = pcs_w_del(w, w->sh->members, kb, kl, NULL)))
        return rc;
    r->count--;
    return 0;
}

static int z_lookup(pcs_wctx *w, const pc_val *key, pcs_rec *r, bool *live, bool *stale)
{
    int rc = pcs_w_lookup(w, key, r, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    return *live && r->type != PC_T_ZSET ? PC_EWRONGTYPE : 0;
}

/* Write r (changed from old, which was live or stale, or NULL), or remove
 * the key when r is left empty. */
static int z_store(pcs_wctx *w, const pc_val *key, const pcs_rec *old, pcs_rec *r)
{
    if (r->count == 0)
        return old ? pcs_w_remove(w, key, old, true) : 0;
    return pcs_w_store(w, key, old, r, NULL, 0);
}

/* ---- zadd ---- */

int pcs_h_zadd(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t flags;
    if (pcs_chk_int(&rq->argv[1], &flags) || (flags & ~(int64_t)PCS_ZADD_ALL) ||
        (rq->argc - 2) % 2 != 0)
        return PC_EINVAL;
    bool nx = flags & PC_ZADD_NX, xx = flags & PC_ZADD_XX, gt = flags & PC_ZADD_GT,
         lt = flags & PC_ZADD_LT, incr = flags & PCS_ZADD_INCR;
    if ((nx && (xx || gt || lt)) || (gt && lt) || (incr && rq->argc != 4))
        return PC_EINVAL;
    size_t n = (rq->argc - 2) / 2;
    for (size_t i = 0; i < n; i++) {
        const pc_val *s = &rq->argv[2 + 2 * i];
        int rc = pcs_chk_elem(w, &rq->argv[3 + 2 * i]);
        if (rc)
            return rc;
        if (s->kind != PC_DOUBLE)
            return PC_EINVAL;
        if (isnan(s->d))
            return PC_ENAN;
    }
    pcs_rec old, r;
    bool live, stale;
    int rc = z_lookup(w, pcs_key_arg(rq), &old, &live, &stale);
    if (rc)
        return rc;
    if (live)
        r = old;
    else
        pcs_new_coll(w, &r, PC_T_ZSET);
    pcs_view v = pcs_wview(w);
    pcs_zmem m = {.big = PCS_BUF_INIT};
    /* Every member's score before anything is written: collisions and a
     * NaN increment are refused whole. */
    for (size_t i = 0; i < n && live && !rc; i++) {
        bool collide = false;
        double sc = 0;
        if (!(rc = pcs_zmem_set(&m, &rq->argv[3 + 2 * i])))
            rc = pcs_z_score(&v, &r, &m, &sc, &collide);
        if (rc == PC_ENOTFOUND)
            rc = collide ? PC_ECOLLISION : 0;
        else if (!rc && incr && isnan(sc + rq->argv[2].d))
            rc = PC_ENAN;
    }
    uint64_t added = 0, changed = 0;
    bool done = false;
    double result = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        double sc = rq->argv[2 + 2 * i].d, was = 0;
        if ((rc = pcs_zmem_set(&m, &rq->argv[3 + 2 * i])))
            break;
        bool had = false;
        if (r.count) {
            rc = pcs_z_score(&v, &r, &m, &was, NULL);
            had = rc == 0;
            if (rc && rc != PC_ENOTFOUND)
                break;
            rc = 0;
        }
        if (incr)
            sc = had ? was + sc : sc;
        if ((nx && had) || (xx && !had) || (had && gt && !(sc > was)) || (had && lt && !(sc < was)))
            continue;
        if (isnan(sc)) {
            rc = PC_ENAN;
            break;
        }
        if ((rc = z_put(w, &r, &m, sc, had, was)))
            break;
        added += !had;
        changed += had && sc != was;
        done = true;
        result = sc == 0 ? 0 : sc;
    }
    pcs_zmem_free(&m);
    if (rc)
        return rc;
    if ((added || changed) && (rc = z_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &r)))
        return rc;
    if (incr) {
        if (done)
            pcs_out_double(out, result);
        *nv = done;
        return 0;
    }
    pcs_out_int(out, (int64_t)(added + ((flags & PC_ZADD_CH) ? changed : 0)));
    *nv = 1;
    return 0;
}

/* ---- zrem ---- */

int pcs_h_zrem(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    for (uint32_t i = 1; i < rq->argc; i++) {
        int rc = pcs_chk_elem(w, &rq->argv[i]);
        if (rc)
            return rc;
    }
    pcs_rec old, r;
    bool live, stale;
    int rc = z_lookup(w, pcs_key_arg(rq), &old, &live, &stale);
    if (rc)
        return rc;
    uint64_t removed = 0;
    if (live) {
        r = old;
        pcs_view v = pcs_wview(w);
        pcs_zmem m = {.big = PCS_BUF_INIT};
        for (uint32_t i = 1; i < rq->argc && !rc && r.count; i++) {
            double sc;
            if ((rc = pcs_zmem_set(&m, &rq->argv[i])))
                break;
            rc = pcs_z_score(&v, &r, &m, &sc, NULL);
            if (rc == PC_ENOTFOUND) {
                rc = 0;
                continue;
            }
            if (!rc && !(rc = z_del(w, &r, m.enc, m.len, sc)))
                removed++;
        }
        pcs_zmem_free(&m);
        if (!rc && removed)
            rc = z_store(w, pcs_key_arg(rq), &old, &r);
        if (rc)
            return rc;
    }
    pcs_out_int(out, (int64_t)removed);
    *nv = 1;
    return 0;
}

/* ---- pops ---- */

/* Pop up to want entries from r's lowest (or highest) end, answering
 * member, score pairs. */
static int z_popn(pcs_wctx *w, pcs_rec *r, bool max, uint64_t want, pcs_buf *out, uint32_t *nv)
{
    int rc = 0;
    for (uint64_t i = 0; i < want && r->count && !rc; i++) {
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(w->txn, w->sh->members, &cur)))
            return pcs_w_fail(w, rc);
        uint8_t kb[H];
        pcs_put_be64(kb, r->gen);
        kb[PCS_GEN_LEN] = (uint8_t)(max ? PCS_Z_ENT + 1 : PCS_Z_ENT);
        MDB_val k = {H, kb}, d;
        rc = cur_get(w, cur, &k, &d, MDB_SET_RANGE);
        if (max)
            rc = cur_get(w, cur, &k, &d, rc == PC_ENOTFOUND ? MDB_LAST : MDB_PREV);
        pc_val m;
        double sc = 0;
        if (!rc && !tagged(&k, r->gen, PCS_Z_ENT))
            rc = PC_ECORRUPT;
        if (!rc)
            rc = pcs_z_entry(&k, &d, &m, &sc);
        mdb_cursor_close(cur);
        if (rc)
            return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
        /* Copy the member out before the deletes. */
        size_t ml = pcs_member_size(&m);
        pcs_buf_reset(&w->tmp2);
        if (pcs_buf_reserve(&w->tmp2, ml))
            return w->tmp2.err;
        pcs_member_encode(w->tmp2.data, &m);
        pcs_out_val(out, &m);
        pcs_out_double(out, sc);
        *nv += 2;
        rc = z_del(w, r, w->tmp2.data, ml, sc);
    }
    return rc;
}

int pcs_h_zpop(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t max, count;
    if (pcs_chk_int(&rq->argv[1], &max) || pcs_chk_int(&rq->argv[2], &count) || max < 0 ||
        max > 1 || count < 0)
        return PC_EINVAL;
    pcs_rec old, r;
    bool live, stale;
    int rc = z_lookup(w, pcs_key_arg(rq), &old, &live, &stale);
    if (rc || !live || count == 0)
        return rc;
    r = old;
    if ((rc = z_popn(w, &r, max == 1, (uint64_t)count, out, nv)))
        return rc;
    return z_store(w, pcs_key_arg(rq), &old, &r);
}

/* bzpop: key, max, ms, deadline, more keys.  The first key that holds
 * members gives one: key, member, score.  None: PC_ENOTFOUND (the daemon
 * parks it). */
int pcs_h_bzpop(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t max, ms, until;
    if (pcs_chk_int(&rq->argv[1], &max) || pcs_chk_int(&rq->argv[2], &ms) ||
        pcs_chk_int(&rq->argv[3], &until) || max < 0 || max > 1 || ms < 1 || ms > PC_TTL_MAX_MS ||
        until < 0)
        return PC_EINVAL;
    for (uint32_t i = 4; i < rq->argc; i++) {
        int rc = pcs_chk_key2(w, rq, i);
        if (rc)
            return rc;
    }
    /* The waiter's own deadline (QPOPW's rule): past it nobody listens. */
    if (until && pcs_mono_ms() >= (uint64_t)until)
        return PC_ETIMEDOUT;
    for (uint32_t i = 0; i < rq->argc; i = i ? i + 1 : 4) {
        const pc_val *key = &rq->argv[i];
        pcs_rec old, r;
        bool live, stale;
        int rc = z_lookup(w, key, &old, &live, &stale);
        if (rc)
            return rc;
        if (!live)
            continue;
        r = old;
        pcs_out_bytes(out, key->s.ptr, key->s.len);
        *nv = 1;
        if ((rc = z_popn(w, &r, max == 1, 1, out, nv)))
            return rc;
        return z_store(w, key, &old, &r);
    }
    return PC_ENOTFOUND;
}

/* ---- ranges ---- */

/* Gather the entries of the range of r into b: u32 length, f64 score,
 * the encoded member, each.  *n how many. */
static int gather(pcs_wctx *w, const pcs_rec *r, const pcs_zspec *s, pcs_buf *b, uint64_t *n)
{
    MDB_cursor *cur;
    pcs_zwalk zw;
    *n = 0;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    rc = pcs_zwalk_start(&zw, cur, r, s, NULL);
    while (!rc) {
        pc_val m;
        double sc;
        if ((rc = pcs_zwalk_next(&zw, &m, &sc)))
            break;
        size_t ml = pcs_member_size(&m);
        if (pcs_buf_reserve(b, 12 + ml)) {
            rc = b->err;
            break;
        }
        pcs_put_le32(b->data + b->len, (uint32_t)ml);
        pcs_put_le64(b->data + b->len + 4, pcs_d2u(sc));
        pcs_member_encode(b->data + b->len + 12, &m);
        b->len += 12 + ml;
        ++*n;
    }
    mdb_cursor_close(cur);
    return rc > 0 ? 0 : rc;
}

static int spec_arg(const pcs_req *rq, unsigned at, pcs_zspec *s)
{
    if (rq->argc != at + PCS_ZSPEC_ARGS)
        return PC_EINVAL;
    return pcs_zspec_dec(&rq->argv[at], s);
}

int pcs_h_zremrange(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pcs_zspec s;
    int rc = spec_arg(rq, 1, &s);
    if (rc)
        return rc;
    pcs_rec old, r;
    bool live, stale;
    uint64_t n = 0;
    if ((rc = z_lookup(w, pcs_key_arg(rq), &old, &live, &stale)))
        return rc;
    if (live) {
        pcs_buf b = PCS_BUF_INIT;
        r = old;
        rc = gather(w, &r, &s, &b, &n);
        for (size_t at = 0; !rc && at < b.len;) {
            uint32_t ml = pcs_le32(b.data + at);
            rc = z_del(w, &r, b.data + at + 12, ml, pcs_u2d(pcs_le64(b.data + at + 4)));
            at += 12 + ml;
        }
        pcs_buf_free(&b);
        if (!rc && n)
            rc = z_store(w, pcs_key_arg(rq), &old, &r);
        if (rc)
            return rc;
    }
    pcs_out_int(out, (int64_t)n);
    *nv = 1;
    return 0;
}

/* Replace dst with a new sorted set of the entries in b (as gather makes
 * them; a member may come once only), or remove it when there are none. */
static int z_build(pcs_wctx *w, const pc_val *dst, const pcs_buf *b, uint64_t *card)
{
    pcs_rec old, r;
    bool stale;
    int rc = pcs_w_lookup(w, dst, &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool there = rc == 0 || stale;
    pcs_new_coll(w, &r, PC_T_ZSET);
    pcs_zmem m = {.big = PCS_BUF_INIT};
    rc = 0;
    for (size_t at = 0; !rc && at < b->len;) {
        uint32_t ml = pcs_le32(b->data + at);
        m.enc = b->data + at + 12;
        m.len = ml;
        rc = z_put(w, &r, &m, pcs_u2d(pcs_le64(b->data + at + 4)), false, 0);
        at += 12 + ml;
    }
    if (rc)
        return rc;
    *card = r.count;
    if (r.count == 0)
        return there ? pcs_w_remove(w, dst, &old, true) : 0;
    return pcs_w_store(w, dst, there ? &old : NULL, &r, NULL, 0);
}

/* zrangestore: destination, source, range. */
int pcs_h_zrangestore(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pcs_zspec s;
    int rc = spec_arg(rq, 2, &s);
    if (rc || (rc = pcs_chk_key2(w, rq, 1)))
        return rc;
    pcs_rec src;
    bool live, stale;
    if ((rc = z_lookup(w, &rq->argv[1], &src, &live, &stale)))
        return rc;
    pcs_buf b = PCS_BUF_INIT;
    uint64_t n = 0, card = 0;
    if (live)
        rc = gather(w, &src, &s, &b, &n);
    if (!rc)
        rc = z_build(w, pcs_key_arg(rq), &b, &card);
    pcs_buf_free(&b);
    if (rc)
        return rc;
    pcs_out_int(out, (int64_t)card);
    *nv = 1;
    return 0;
}

/* ---- union, intersection, difference ---- */

typedef struct zitem {
    const uint8_t *enc;
    uint32_t len;
    uint32_t src;
    double score;
} zitem;

static int item_cmp(const void *a, const void *b)
{
    const zitem *x = a, *y = b;
    int c = memcmp(x->enc, y->enc, x->len < y->len ? x->len : y->len);
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->src > y->src) - (x->src < y->src);
}

/* Redis's aggregate, where inf + -inf is 0. */
static double agg(int how, double a, double b)
{
    if (how == PC_ZAGG_MIN)
        return a < b ? a : b;
    if (how == PC_ZAGG_MAX)
        return a > b ? a : b;
    double s = a + b;
    return isnan(s) ? 0 : s;
}

/* Gather a Set's members (score 1) into b. */
static int gather_set(pcs_wctx *w, const pcs_rec *r, pcs_buf *b)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    uint8_t g[PCS_GEN_LEN];
    pcs_put_be64(g, r->gen);
    MDB_val k = {sizeof g, g}, d;
    rc = cur_get(w, cur, &k, &d, MDB_SET_RANGE);
    while (!rc && k.mv_size >= PCS_GEN_LEN && pcs_mkey_gen(k.mv_data) == r->gen) {
        pc_val m;
        if ((rc = pcs_set_entry(&k, &d, &m)))
            break;
        size_t ml = pcs_member_size(&m);
        if (pcs_buf_reserve(b, 12 + ml)) {
            rc = b->err;
            break;
        }
        pcs_put_le32(b->data + b->len, (uint32_t)ml);
        pcs_put_le64(b->data + b->len + 4, pcs_d2u(1.0));
        pcs_member_encode(b->data + b->len + 12, &m);
        b->len += 12 + ml;
        rc = cur_get(w, cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == PC_ENOTFOUND ? 0 : rc;
}

/* zstore: destination, how, aggregate, then key, weight pairs. */
int pcs_h_zstore(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t how, ag;
    if (pcs_chk_int(&rq->argv[1], &how) || pcs_chk_int(&rq->argv[2], &ag) ||
        how < PCS_ZSTORE_UNION || how > PCS_ZSTORE_DIFF || ag < PC_ZAGG_SUM || ag > PC_ZAGG_MAX ||
        (rq->argc - 3) % 2 != 0)
        return PC_EINVAL;
    uint32_t nkeys = (rq->argc - 3) / 2;
    for (uint32_t i = 0; i < nkeys; i++) {
        const pc_val *wt = &rq->argv[4 + 2 * i];
        int rc = pcs_chk_key2(w, rq, 3 + 2 * i);
        if (rc)
            return rc;
        if (wt->kind != PC_DOUBLE)
            return PC_EINVAL;
        if (isnan(wt->d))
            return PC_ENAN;
    }
    /* Every source's entries, scores weighted (a NaN product is 0). */
    pcs_buf b = PCS_BUF_INIT;
    size_t *ends = pcs_calloc(nkeys, sizeof *ends);
    int rc = ends ? 0 : PC_ENOMEM;
    pcs_zspec all;
    memset(&all, 0, sizeof all);
    all.stop = -1;
    all.count = -1;
    for (uint32_t i = 0; i < nkeys && !rc; i++) {
        pcs_rec r;
        bool stale;
        uint64_t n;
        size_t from = b.len;
        rc = pcs_w_lookup(w, &rq->argv[3 + 2 * i], &r, &stale);
        if (rc == PC_ENOTFOUND) {
            rc = 0;
        } else if (!rc && r.type == PC_T_ZSET) {
            rc = gather(w, &r, &all, &b, &n);
        } else if (!rc && r.type == PC_T_SET) {
            rc = gather_set(w, &r, &b);
        } else if (!rc) {
            rc = PC_EWRONGTYPE;
        }
        double wt = rq->argv[4 + 2 * i].d;
        for (size_t at = from; !rc && at < b.len;) {
            uint32_t ml = pcs_le32(b.data + at);
            double sc = pcs_u2d(pcs_le64(b.data + at + 4)) * wt;
            pcs_put_le64(b.data + at + 4, pcs_d2u(isnan(sc) ? 0 : sc));
            at += 12 + ml;
        }
        if (!rc)
            ends[i] = b.len;
    }
    /* Sorted by member, then source: each member's scores side by side. */
    size_t count = 0;
    zitem *it = NULL;
    for (size_t at = 0; !rc && at < b.len; count++)
        at += 12 + pcs_le32(b.data + at);
    if (!rc && count && !(it = pcs_calloc(count, sizeof *it)))
        rc = PC_ENOMEM;
    uint32_t src = 0;
    size_t k = 0;
    for (size_t at = 0; !rc && at < b.len; k++) {
        while (at >= ends[src])
            src++;
        it[k].len = pcs_le32(b.data + at);
        it[k].score = pcs_u2d(pcs_le64(b.data + at + 4));
        it[k].enc = b.data + at + 12;
        it[k].src = src;
        at += 12 + it[k].len;
    }
    if (!rc && count)
        qsort(it, count, sizeof *it, item_cmp);
    pcs_buf res = PCS_BUF_INIT;
    for (size_t i = 0; !rc && i < count;) {
        size_t j = i + 1;
        double sc = it[i].score;
        while (j < count && it[j].len == it[i].len && !memcmp(it[j].enc, it[i].enc, it[i].len))
            sc = agg((int)ag, sc, it[j++].score);
        bool keep = how == PCS_ZSTORE_UNION   ? true
                    : how == PCS_ZSTORE_INTER ? j - i == nkeys
                                              : it[i].src == 0 && j - i == 1;
        if (keep) {
            if (pcs_buf_reserve(&res, 12 + it[i].len)) {
                rc = res.err;
                break;
            }
            pcs_put_le32(res.data + res.len, it[i].len);
            pcs_put_le64(res.data + res.len + 4, pcs_d2u(sc));
            memcpy(res.data + res.len + 12, it[i].enc, it[i].len);
            res.len += 12 + it[i].len;
        }
        i = j;
    }
    uint64_t card = 0;
    if (!rc)
        rc = z_build(w, pcs_key_arg(rq), &res, &card);
    pcs_buf_free(&res);
    pcs_free(it);
    pcs_free(ends);
    pcs_buf_free(&b);
    if (rc)
        return rc;
    pcs_out_int(out, (int64_t)card);
    *nv = 1;
    return 0;
}

/* ---- restoring ---- */

int pcs_load_zset(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, pcs_rec *r)
{
    int rc = pcs_load_key(w, key, klen);
    if (rc)
        return rc;
    pcs_new_coll(w, r, PC_T_ZSET);
    r->expire_at = expire_at;
    return 0;
}

int pcs_load_zmember(pcs_wctx *w, pcs_rec *r, const pc_val *m, double score)
{
    if (!w || !w->txn || !r || r->type != PC_T_ZSET || !m || isnan(score))
        return PC_EINVAL;
    int rc = pcs_chk_elem(w, m);
    if (rc)
        return rc;
    pcs_zmem z = {.big = PCS_BUF_INIT};
    pcs_view v = pcs_wview(w);
    double was;
    bool collide = false;
    if (!(rc = pcs_zmem_set(&z, m))) {
        rc = r->count ? pcs_z_score(&v, r, &z, &was, &collide) : PC_ENOTFOUND;
        if (rc == 0)
            rc = PC_EINVAL; /* twice */
        else if (rc == PC_ENOTFOUND)
            rc = collide ? PC_ECOLLISION : z_put(w, r, &z, score, false, 0);
    }
    pcs_zmem_free(&z);
    return rc;
}

int pcs_load_zdone(pcs_wctx *w, const void *key, size_t klen, pcs_rec *r)
{
    if (!w || !w->txn || !r || r->type != PC_T_ZSET || r->count == 0 || pcs_key_ok(key, klen))
        return PC_EINVAL;
    pc_val kv = pc_mem(key, klen);
    return pcs_w_store(w, &kv, NULL, r, NULL, 0);
}
