/*
 * t_set.c - Set writes: sadd, srem, spop, smove, and the fill of a whole Set.  A
 * member is any tagged scalar, encoded so that it sorts by value; a long
 * encoding sits under a digest with its full bytes in the element.
 */
#include <string.h>

#include "bytes.h"
#include "exec_int.h"

/* Encode m into w->tmp2; returns 0 or the buffer's error. */
static int member_stage(pcs_wctx *w, const pc_val *m)
{
    size_t n = pcs_member_size(m);
    pcs_buf_reset(&w->tmp2);
    if (pcs_buf_reserve(&w->tmp2, n))
        return w->tmp2.err;
    pcs_member_encode(w->tmp2.data, m);
    w->tmp2.len = n;
    return 0;
}

/* Add m to the Set of generation gen; *added: it was not there. */
static int set_put(pcs_wctx *w, uint64_t gen, const pc_val *m, bool *added)
{
    pcs_rec r = {.gen = gen};
    pcs_view view = pcs_wview(w);
    bool has, collide;
    int rc = pcs_set_has(&view, &r, m, &has, &collide);
    if (rc)
        return rc;
    if (collide)
        return PC_ECOLLISION;
    *added = !has;
    if (has)
        return 0;
    if ((rc = member_stage(w, m)))
        return rc;
    uint8_t kb[PCS_MKEY_MAX];
    bool is_long;
    size_t kl = pcs_mkey_sub(kb, gen, w->tmp2.data, w->tmp2.len, &is_long);
    return pcs_w_put(w, w->sh->members, kb, kl, is_long ? w->tmp2.data : NULL,
                     is_long ? w->tmp2.len : 0);
}

int pcs_set_fill(pcs_wctx *w, pcs_rec *r, const pc_val *items, size_t n)
{
    r->count = 0;
    for (size_t i = 0; i < n; i++) {
        bool added;
        int rc = set_put(w, r->gen, &items[i], &added);
        if (rc)
            return rc;
        r->count += added;
    }
    return 0;
}

static int set_lookup(pcs_wctx *w, const pcs_req *rq, pcs_rec *r, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), r, stale);
    if (!rc && r->type != PC_T_SET)
        return PC_EWRONGTYPE;
    return rc;
}

static int chk_members(pcs_wctx *w, const pcs_req *rq)
{
    for (uint32_t i = 1; i < rq->argc; i++) {
        int rc = pcs_chk_elem(w, &rq->argv[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int pcs_h_sadd(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int rc = chk_members(w, rq);
    if (rc)
        return rc;
    pcs_rec old, nr;
    bool stale;
    rc = set_lookup(w, rq, &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    if (live) {
        /* Collisions are found before anything is written. */
        pcs_view view = pcs_wview(w);
        for (uint32_t i = 1; i < rq->argc; i++) {
            bool has, collide;
            if ((rc = pcs_set_has(&view, &old, &rq->argv[i], &has, &collide)))
                return rc;
            if (collide)
                return PC_ECOLLISION;
        }
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_SET);
    }
    uint64_t added = 0;
    for (uint32_t i = 1; i < rq->argc; i++) {
        bool a;
        if ((rc = set_put(w, nr.gen, &rq->argv[i], &a)))
            return rc;
        added += a;
    }
    if (added || !live) {
        nr.count += added;
        rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0);
        if (rc)
            return rc;
    }
    pcs_out_int(out, (int64_t)added);
    *nv = 1;
    return 0;
}

/* Remove m from the Set (gen); *removed: it was there. */
static int set_del(pcs_wctx *w, const pcs_rec *r, const pc_val *m, bool *removed)
{
    pcs_view view = pcs_wview(w);
    bool has;
    int rc = pcs_set_has(&view, r, m, &has, NULL);
    *removed = false;
    if (rc || !has)
        return rc;
    if ((rc = member_stage(w, m)))
        return rc;
    uint8_t kb[PCS_MKEY_MAX];
    bool is_long;
    size_t kl = pcs_mkey_sub(kb, r->gen, w->tmp2.data, w->tmp2.len, &is_long);
    *removed = true;
    return pcs_w_del(w, w->sh->members, kb, kl, NULL);
}

/* After removing some members: drop the key when none remain. */
static int set_shrunk(pcs_wctx *w, const pcs_req *rq, const pcs_rec *old, uint64_t removed)
{
    if (removed == 0)
        return 0;
    if (removed == old->count)
        return pcs_w_remove(w, pcs_key_arg(rq), old, false);
    pcs_rec nr = *old;
    nr.count -= removed;
    return pcs_w_store(w, pcs_key_arg(rq), old, &nr, NULL, 0);
}

int pcs_h_srem(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int rc = chk_members(w, rq);
    if (rc)
        return rc;
    pcs_rec old;
    rc = set_lookup(w, rq, &old, NULL);
    uint64_t removed = 0;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    if (rc == 0) {
        for (uint32_t i = 1; i < rq->argc; i++) {
            bool r;
            if ((rc = set_del(w, &old, &rq->argv[i], &r)))
                return rc;
            removed += r;
        }
        if ((rc = set_shrunk(w, rq, &old, removed)))
            return rc;
    }
    pcs_out_int(out, (int64_t)removed);
    *nv = 1;
    return 0;
}

/* Position cur on a member of r picked at random (pcs_range_pick). */
static int spop_pick(pcs_wctx *w, MDB_cursor *cur, const pcs_rec *r, MDB_val *k, MDB_val *d)
{
    uint8_t g[PCS_GEN_LEN];
    pcs_put_be64(g, r->gen);
    int rc = pcs_range_pick(cur, g, sizeof g, r->count, PCS_MKEY_MAX, &w->rng, k, d);
    if (rc == PC_ENOTFOUND)
        rc = PC_ECORRUPT; /* the record counts members that are not there */
    if (rc && rc != PC_ECORRUPT && !w->fatal)
        w->fatal = rc; /* an LMDB failure inside a write transaction */
    return rc;
}

int pcs_h_spop(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    uint64_t want;
    if (pcs_chk_count(&rq->argv[1], &want))
        return PC_EINVAL;
    pcs_rec old;
    int rc = set_lookup(w, rq, &old, NULL);
    if (rc)
        return rc;
    if (want > old.count)
        want = old.count;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(w->txn, w->sh->members, &cur)))
        return pcs_w_fail(w, rc);
    pcs_rec live = old;
    for (uint64_t i = 0; i < want && !rc; i++) {
        MDB_val k, d;
        pc_val m;
        if ((rc = spop_pick(w, cur, &live, &k, &d)) || (rc = pcs_set_entry(&k, &d, &m)))
            break;
        pcs_out_val(out, &m); /* copied before the delete */
        if ((rc = mdb_cursor_del(cur, 0))) {
            rc = pcs_w_fail(w, rc);
            break;
        }
        w->nmut++;
        live.count--;
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    *nv = (uint32_t)want;
    return set_shrunk(w, rq, &old, want);
}

/*
 * smove: source, destination (of the same shard), member.  Move the member
 * from one Set to the other (creating the destination, removing a source
 * left empty); 1 moved, 0 when the source does not hold it (Redis SMOVE).
 */
int pcs_h_smove(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *src = pcs_key_arg(rq), *dst = &rq->argv[1], *m = &rq->argv[2];
    int rc = pcs_chk_key2(w, rq, 1);
    if (rc || (rc = pcs_chk_elem(w, m)))
        return rc;
    pcs_rec s, d;
    bool d_live = false, d_stale = false, has = false, d_has = false;
    rc = set_lookup(w, rq, &s, NULL);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool s_live = rc == 0;
    bool same = src->s.len == dst->s.len && !memcmp(src->s.ptr, dst->s.ptr, src->s.len);
    pcs_view view = pcs_wview(w);
    if (!same) {
        rc = pcs_w_lookup(w, dst, &d, &d_stale);
        if (rc && rc != PC_ENOTFOUND)
            return rc;
        d_live = rc == 0;
        if (d_live && d.type != PC_T_SET)
            return PC_EWRONGTYPE;
    }
    if (s_live && (rc = pcs_set_has(&view, &s, m, &has, NULL)))
        return rc;
    *nv = 1;
    if (!has || same) {
        pcs_out_int(out, has);
        return 0;
    }
    if (d_live) {
        bool collide;
        if ((rc = pcs_set_has(&view, &d, m, &d_has, &collide)))
            return rc;
        if (collide)
            return PC_ECOLLISION;
    }
    bool removed;
    if ((rc = set_del(w, &s, m, &removed)) || (rc = set_shrunk(w, rq, &s, removed)))
        return rc;
    if (!d_has) {
        pcs_rec nd;
        bool added;
        if (d_live)
            nd = d;
        else
            pcs_new_coll(w, &nd, PC_T_SET);
        if ((rc = set_put(w, nd.gen, m, &added)))
            return rc;
        nd.count += added;
        if ((rc = pcs_w_store(w, dst, d_live || d_stale ? &d : NULL, &nd, NULL, 0)))
            return rc;
    }
    pcs_out_int(out, 1);
    return 0;
}
