/*
 * t_set.c - Set writes: sadd, srem, spop, and the fill of a whole Set.  A
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

static uint64_t rng_next(pcs_wctx *w)
{
    /* xorshift64*: good enough to pick members, not for secrets */
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * 2685821657736338717ull;
}

/*
 * Position cur on a member of gen picked at random.  Small sets: an exact
 * uniform pick by rank.  Large ones: a random point between the first and
 * last member keys (close to uniform when members spread evenly).
 */
static int spop_pick(pcs_wctx *w, MDB_cursor *cur, const pcs_rec *r, MDB_val *k, MDB_val *d)
{
    uint8_t lo[PCS_MKEY_MAX], probe[PCS_MKEY_MAX];
    pcs_put_be64(lo, r->gen);
    MDB_val fk = {8, lo};
    int rc = mdb_cursor_get(cur, &fk, d, MDB_SET_RANGE);
    if (rc || fk.mv_size < 8 || pcs_be64(fk.mv_data) != r->gen)
        return rc && rc != MDB_NOTFOUND ? pcs_w_fail(w, rc) : PC_ECORRUPT;
    if (r->count <= 1024) {
        uint64_t skip = rng_next(w) % r->count;
        *k = fk;
        for (uint64_t i = 0; i < skip; i++)
            if ((rc = mdb_cursor_get(cur, k, d, MDB_NEXT)))
                return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_w_fail(w, rc);
        return pcs_be64(k->mv_data) == r->gen ? 0 : PC_ECORRUPT;
    }
    size_t flen = fk.mv_size;
    memcpy(lo, fk.mv_data, flen);
    /* The last member: just before the next generation. */
    uint8_t hi[PCS_MKEY_MAX];
    pcs_put_be64(hi, r->gen + 1);
    MDB_val hk = {8, hi};
    rc = mdb_cursor_get(cur, &hk, d, MDB_SET_RANGE);
    rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &hk, d, MDB_LAST)
         : rc               ? rc
                            : mdb_cursor_get(cur, &hk, d, MDB_PREV);
    if (rc || hk.mv_size < 8 || pcs_be64(hk.mv_data) != r->gen)
        return rc && rc != MDB_NOTFOUND ? pcs_w_fail(w, rc) : PC_ECORRUPT;
    size_t hlen = hk.mv_size;
    memcpy(hi, hk.mv_data, hlen);
    /* Keep the common prefix, pick the first differing byte between the two
     * ends, then random bytes. */
    size_t c = PCS_GEN_LEN;
    while (c < flen && c < hlen && lo[c] == hi[c])
        c++;
    memcpy(probe, lo, c);
    size_t plen = c + 16 < PCS_MKEY_MAX ? c + 16 : PCS_MKEY_MAX;
    if (c < plen) {
        unsigned a = c < flen ? lo[c] : 0, b = c < hlen ? hi[c] : 255;
        probe[c] = (uint8_t)(a + rng_next(w) % (b - a + 1));
    }
    for (size_t i = c + 1; i < plen; i++)
        probe[i] = (uint8_t)rng_next(w);
    MDB_val pk = {plen, probe};
    rc = mdb_cursor_get(cur, &pk, d, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND || (!rc && (pk.mv_size < 8 || pcs_be64(pk.mv_data) != r->gen))) {
        pk.mv_size = flen; /* past the last member: wrap to the first */
        pk.mv_data = lo;
        rc = mdb_cursor_get(cur, &pk, d, MDB_SET_KEY);
    }
    if (rc)
        return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_w_fail(w, rc);
    *k = pk;
    return 0;
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
