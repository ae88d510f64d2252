/*
 * t_list.c - List and Queue writes.  Elements sit at biased positions
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
