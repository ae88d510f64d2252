/*
 * t_list.c - List and Queue writes (linsert and lmove too).  Elements sit at biased positions
 * head..tail-1 under the collection's generation, so both ends and any index
 * are one B-tree lookup away.
 */
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "exec_int.h"

/* Put element v at position pos of generation gen. */
static int seq_put(pcs_wctx *w, uint64_t gen, uint64_t pos, const pc_val *v)
{
    uint8_t kb[PCS_MKEY_MAX];
    size_t kl = pcs_mkey_pos(kb, gen, pos);
    pcs_buf_reset(&w->tmp);
    if (pcs_buf_reserve(&w->tmp, pcs_elem_size(v)))
        return w->tmp.err;
    pcs_elem_encode(w->tmp.data, v);
    return pcs_w_put(w, w->sh->members, kb, kl, w->tmp.data, pcs_elem_size(v));
}

static int seq_del(pcs_wctx *w, uint64_t gen, uint64_t pos)
{
    uint8_t kb[PCS_MKEY_MAX];
    return pcs_w_del(w, w->sh->members, kb, pcs_mkey_pos(kb, gen, pos), NULL);
}

int pcs_seq_fill(pcs_wctx *w, pcs_rec *r, const pc_val *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = seq_put(w, r->gen, r->tail++, &items[i]);
        if (rc)
            return rc;
    }
    r->count = n;
    return 0;
}

static pc_type seq_type(const pcs_req *rq)
{
    return rq->op == PCS_OP_QPUSH || rq->op == PCS_OP_QPOP || rq->op == PCS_OP_QPOPW ? PC_T_QUEUE
                                                                                     : PC_T_LIST;
}

/* Look up a List/Queue of type t: 0 live, PC_ENOTFOUND, PC_EWRONGTYPE. */
static int seq_lookup(pcs_wctx *w, const pcs_req *rq, pc_type t, pcs_rec *r, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), r, stale);
    if (!rc && r->type != t)
        return PC_EWRONGTYPE;
    return rc;
}

int pcs_h_push(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_type t = seq_type(rq);
    bool left = rq->op == PCS_OP_LPUSH;
    size_t n = rq->argc - 1;
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = pcs_chk_elem(w, &rq->argv[1 + i])))
            return rc;
    pcs_rec old, nr;
    bool stale;
    rc = seq_lookup(w, rq, t, &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    if (live)
        nr = old;
    else
        pcs_new_coll(w, &nr, t);
    if (left ? nr.head < n : UINT64_MAX - nr.tail < n)
        return PC_ERANGE;
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = left ? --nr.head : nr.tail++;
        if ((rc = seq_put(w, nr.gen, pos, &rq->argv[1 + i])))
            return rc;
    }
    nr.count += n;
    if ((rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0)))
        return rc;
    pcs_out_int(out, (int64_t)nr.count);
    *nv = 1;
    return 0;
}

int pcs_h_pop(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    uint64_t want;
    if (pcs_chk_count(&rq->argv[1], &want))
        return PC_EINVAL;
    if (rq->op == PCS_OP_QPOPW &&
        (rq->argv[2].kind != PC_INT || rq->argv[2].i < 1 || rq->argv[2].i > PC_TTL_MAX_MS ||
         (rq->argc > 3 && (rq->argv[3].kind != PC_INT || rq->argv[3].i < 0))))
        return PC_EINVAL;
    /* The waiter's own deadline (CLOCK_MONOTONIC ms, the same clock for
     * every process of the host): past it the waiter has given up, and an
     * element popped now would be answered to nobody. */
    if (rq->op == PCS_OP_QPOPW && rq->argc > 3 && pcs_mono_ms() >= (uint64_t)rq->argv[3].i)
        return PC_ETIMEDOUT;
    pcs_rec old, nr;
    int rc = seq_lookup(w, rq, seq_type(rq), &old, NULL);
    if (rc)
        return rc;
    bool front = rq->op != PCS_OP_RPOP;
    nr = old;
    if (want > nr.count)
        want = nr.count;
    pcs_view v = pcs_wview(w);
    for (uint64_t i = 0; i < want; i++) {
        uint64_t pos = front ? 0 : nr.count - 1;
        pc_val e;
        if ((rc = pcs_seq_get(&v, &nr, pos, &e)))
            return rc;
        pcs_out_val(out, &e); /* copied before the delete below */
        if ((rc = seq_del(w, nr.gen, nr.head + pos)))
            return rc;
        if (front)
            nr.head++;
        else
            nr.tail--;
        nr.count--;
    }
    *nv = (uint32_t)want;
    if (nr.count == 0)
        return pcs_w_remove(w, pcs_key_arg(rq), &old, false);
    return pcs_w_store(w, pcs_key_arg(rq), &old, &nr, NULL, 0);
}

int pcs_h_lset(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    int64_t index;
    int rc;
    if (pcs_chk_int(&rq->argv[1], &index))
        return PC_EINVAL;
    if ((rc = pcs_chk_elem(w, &rq->argv[2])))
        return rc;
    pcs_rec old;
    if ((rc = seq_lookup(w, rq, PC_T_LIST, &old, NULL)))
        return rc;
    uint64_t pos;
    if (!pcs_norm_index(index, old.count, &pos))
        return PC_ERANGE;
    if ((rc = seq_put(w, old.gen, old.head + pos, &rq->argv[2])))
        return rc;
    pcs_rec nr = old;
    return pcs_w_store(w, pcs_key_arg(rq), &old, &nr, NULL, 0);
}

int pcs_h_ltrim(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    int64_t start, stop;
    if (pcs_chk_int(&rq->argv[1], &start) || pcs_chk_int(&rq->argv[2], &stop))
        return PC_EINVAL;
    pcs_rec old;
    int rc = seq_lookup(w, rq, PC_T_LIST, &old, NULL);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    uint64_t from, to;
    if (!pcs_norm_range(start, stop, old.count, &from, &to))
        return pcs_w_remove(w, pcs_key_arg(rq), &old, true);
    if (from == 0 && to == old.count - 1)
        return 0;
    for (uint64_t p = 0; p < from; p++)
        if ((rc = seq_del(w, old.gen, old.head + p)))
            return rc;
    for (uint64_t p = to + 1; p < old.count; p++)
        if ((rc = seq_del(w, old.gen, old.head + p)))
            return rc;
    pcs_rec nr = old;
    nr.head = old.head + from;
    nr.tail = old.head + to + 1;
    nr.count = to - from + 1;
    return pcs_w_store(w, pcs_key_arg(rq), &old, &nr, NULL, 0);
}

/* Positions (0-based) of the elements lrem removes, ascending, into w->tmp2. */
static int lrem_mark(pcs_wctx *w, const pcs_rec *r, int64_t count, const pc_val *v,
                     uint64_t *nmarked)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    bool back = count < 0;
    uint64_t limit = count == 0 ? UINT64_MAX
                     : back     ? (uint64_t) - (count + 1) + 1
                                : (uint64_t)count;
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_mkey_pos(kb, r->gen, back ? r->tail - 1 : r->head), kb}, d;
    pcs_buf_reset(&w->tmp2);
    *nmarked = 0;
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
    for (uint64_t i = 0; i < r->count && *nmarked < limit; i++) {
        if (rc) {
            rc = rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
            break;
        }
        pc_val e;
        if ((rc = pcs_elem_decode(d.mv_data, d.mv_size, &e)))
            break;
        if (pcs_val_equal(&e, v)) {
            uint64_t pos = back ? r->count - 1 - i : i;
            pcs_buf_put(&w->tmp2, &pos, sizeof pos);
            (*nmarked)++;
        }
        if (i + 1 < r->count)
            rc = mdb_cursor_get(cur, &k, &d, back ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (!rc && w->tmp2.err)
        rc = w->tmp2.err;
    if (!rc && back) { /* make them ascending */
        uint64_t *p = (uint64_t *)(void *)w->tmp2.data;
        for (uint64_t a = 0, b = *nmarked; a + 1 < b; a++, b--) {
            uint64_t t = p[a];
            p[a] = p[b - 1];
            p[b - 1] = t;
        }
    }
    return rc;
}

int pcs_h_lrem(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t count;
    int rc;
    if (pcs_chk_int(&rq->argv[1], &count))
        return PC_EINVAL;
    if ((rc = pcs_chk_elem(w, &rq->argv[2])))
        return rc;
    pcs_rec old;
    rc = seq_lookup(w, rq, PC_T_LIST, &old, NULL);
    uint64_t marked = 0;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    if (!rc && (rc = lrem_mark(w, &old, count, &rq->argv[2], &marked)))
        return rc;
    pcs_out_int(out, (int64_t)marked);
    *nv = 1;
    if (marked == 0)
        return 0;
    if (marked == old.count)
        return pcs_w_remove(w, pcs_key_arg(rq), &old, true);
    /* Rewrite the survivors, in order, under a new generation. */
    pcs_rec nr;
    pcs_new_coll(w, &nr, PC_T_LIST);
    nr.expire_at = old.expire_at;
    const uint64_t *gone = (const uint64_t *)(const void *)w->tmp2.data;
    uint64_t g = 0;
    pcs_view v = pcs_wview(w);
    for (uint64_t p = 0; p < old.count; p++) {
        if (g < marked && gone[g] == p) {
            g++;
            continue;
        }
        pc_val e;
        if ((rc = pcs_seq_get(&v, &old, p, &e)))
            return rc;
        /* e points into the map: stage it before the put. */
        uint8_t kb[PCS_MKEY_MAX];
        size_t kl = pcs_mkey_pos(kb, nr.gen, nr.tail++);
        pcs_buf_reset(&w->tmp);
        if (pcs_buf_reserve(&w->tmp, pcs_elem_size(&e)))
            return w->tmp.err;
        pcs_elem_encode(w->tmp.data, &e);
        if ((rc = pcs_w_put(w, w->sh->members, kb, kl, w->tmp.data, pcs_elem_size(&e))))
            return rc;
        nr.count++;
    }
    return pcs_w_store(w, pcs_key_arg(rq), &old, &nr, NULL, 0);
}

/* The index of the first element equal to v (pcs_val_equal) of r; *found
 * false when none is. */
static int seq_find(pcs_wctx *w, const pcs_rec *r, const pc_val *v, uint64_t *index, bool *found)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(w->txn, w->sh->members, &cur);
    if (rc)
        return pcs_w_fail(w, rc);
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_mkey_pos(kb, r->gen, r->head), kb}, d;
    *found = false;
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
    for (uint64_t i = 0; i < r->count; i++) {
        if (rc) {
            rc = rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
            break;
        }
        pc_val e;
        if ((rc = pcs_elem_decode(d.mv_data, d.mv_size, &e)))
            break;
        if (pcs_val_equal(&e, v)) {
            *index = i;
            *found = true;
            break;
        }
        if (i + 1 < r->count)
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Copy the element at index i (0-based) of r to the biased position pos. */
static int seq_copy(pcs_wctx *w, const pcs_rec *r, uint64_t i, uint64_t pos)
{
    pcs_view v = pcs_wview(w);
    pc_val e;
    int rc = pcs_seq_get(&v, r, i, &e);
    return rc ? rc : seq_put(w, r->gen, pos, &e); /* seq_put copies e first */
}

/*
 * linsert: key, before (1) or after (0), pivot, value.  Insert value next to
 * the first element equal to pivot, shifting the shorter side of the List
 * by one place (O(N)).  The new length; -1 when no element equals pivot; 0
 * for a missing key (Redis LINSERT).
 */
int pcs_h_linsert(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *bv = &rq->argv[1], *pivot = &rq->argv[2], *v = &rq->argv[3];
    int rc;
    if (bv->kind != PC_INT || (bv->i != 0 && bv->i != 1))
        return PC_EINVAL;
    if ((rc = pcs_chk_elem(w, pivot)) || (rc = pcs_chk_elem(w, v)))
        return rc;
    pcs_rec old;
    rc = seq_lookup(w, rq, PC_T_LIST, &old, NULL);
    *nv = 1;
    if (rc == PC_ENOTFOUND) {
        pcs_out_int(out, 0);
        return 0;
    }
    if (rc)
        return rc;
    uint64_t p;
    bool found;
    if ((rc = seq_find(w, &old, pivot, &p, &found)))
        return rc;
    if (!found) {
        pcs_out_int(out, -1);
        return 0;
    }
    uint64_t q = bv->i ? p : p + 1; /* the new element's index */
    bool left = q < old.count - q;  /* fewer elements before it than after */
    if (left ? old.head == 0 : old.tail == UINT64_MAX)
        left = !left;
    if (left ? old.head == 0 : old.tail == UINT64_MAX)
        return PC_ERANGE;
    pcs_rec nr = old;
    if (left) { /* elements 0..q-1 move one place towards the head */
        for (uint64_t i = 0; i < q; i++)
            if ((rc = seq_copy(w, &old, i, old.head + i - 1)))
                return rc;
        nr.head--;
    } else { /* elements q.. move one place towards the tail, the last first */
        for (uint64_t i = old.count; i > q; i--)
            if ((rc = seq_copy(w, &old, i - 1, old.head + i)))
                return rc;
        nr.tail++;
    }
    nr.count++;
    if ((rc = seq_put(w, nr.gen, nr.head + q, v)) ||
        (rc = pcs_w_store(w, pcs_key_arg(rq), &old, &nr, NULL, 0)))
        return rc;
    pcs_out_int(out, (int64_t)nr.count);
    return 0;
}

/*
 * lmove: source, destination (of the same shard), from the left (1) or
 * right (0) of the source, to the left (1) or right (0) of the destination.
 * Both are Lists; a missing destination is created, a source left empty is
 * removed; source and destination may be one key (a rotation).  The element
 * moved, or nothing for a missing source (Redis LMOVE).
 */
int pcs_h_lmove(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *src = pcs_key_arg(rq), *dst = &rq->argv[1];
    const pc_val *fv = &rq->argv[2], *tv = &rq->argv[3];
    int rc = pcs_chk_key2(w, rq, 1);
    if (rc)
        return rc;
    if (fv->kind != PC_INT || (fv->i != 0 && fv->i != 1) || tv->kind != PC_INT ||
        (tv->i != 0 && tv->i != 1))
        return PC_EINVAL;
    bool from_left = fv->i, to_left = tv->i;
    pcs_rec s, d;
    bool d_live = false, d_stale = false;
    rc = seq_lookup(w, rq, PC_T_LIST, &s, NULL);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    bool same = src->s.len == dst->s.len && !memcmp(src->s.ptr, dst->s.ptr, src->s.len);
    if (!same) {
        rc = pcs_w_lookup(w, dst, &d, &d_stale);
        if (rc && rc != PC_ENOTFOUND)
            return rc;
        d_live = rc == 0;
        if (d_live && d.type != PC_T_LIST)
            return PC_EWRONGTYPE;
        if (d_live && (to_left ? d.head == 0 : d.tail == UINT64_MAX))
            return PC_ERANGE;
    } else if (to_left ? s.head + from_left == 0 : s.tail - !from_left == UINT64_MAX) {
        return PC_ERANGE;
    }
    /* The element, copied out of the map before anything is written. */
    pcs_view view = pcs_wview(w);
    pc_val e;
    uint64_t pos = from_left ? 0 : s.count - 1;
    if ((rc = pcs_seq_get(&view, &s, pos, &e)))
        return rc;
    pcs_buf_reset(&w->tmp2);
    if (pcs_buf_reserve(&w->tmp2, pcs_elem_size(&e)))
        return w->tmp2.err;
    pcs_elem_encode(w->tmp2.data, &e);
    w->tmp2.len = pcs_elem_size(&e);
    if ((rc = pcs_elem_decode(w->tmp2.data, w->tmp2.len, &e)))
        return rc;
    pcs_out_val(out, &e);
    *nv = 1;
    if (out->err)
        return out->err;
    pcs_rec ns = s;
    if ((rc = seq_del(w, s.gen, s.head + pos)))
        return rc;
    if (from_left)
        ns.head++;
    else
        ns.tail--;
    ns.count--;
    pcs_rec nd;
    if (same)
        nd = ns;
    else if (d_live)
        nd = d;
    else
        pcs_new_coll(w, &nd, PC_T_LIST);
    pcs_rec *to = same ? &ns : &nd;
    uint64_t at = to_left ? --to->head : to->tail++;
    to->count++;
    if ((rc = seq_put(w, to->gen, at, &e)))
        return rc;
    if (same)
        return pcs_w_store(w, src, &s, &ns, NULL, 0);
    rc = ns.count ? pcs_w_store(w, src, &s, &ns, NULL, 0) : pcs_w_remove(w, src, &s, false);
    if (rc)
        return rc;
    return pcs_w_store(w, dst, d_live || d_stale ? &d : NULL, &nd, NULL, 0);
}
