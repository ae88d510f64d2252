/*
 * t_map.c - Map writes: hset, hsetnx, hdel, hincrby, hincrbyfloat, and the fill of
 * a whole Map.  A field is any byte string; a long one (PCS_SUB_INLINE bytes
 * or more) sits under a digest with its full bytes in the element.
 */
#include <math.h>
#include <string.h>

#include "bytes.h"
#include "exec_int.h"
#include "num.h"

/* Put field = v in the Map of generation gen; *added: the field is new.
 * Returns PC_ECOLLISION, before writing, when a different long field holds
 * the same digest. */
static int map_put(pcs_wctx *w, uint64_t gen, const pc_bytes *f, const pc_val *v, bool *added)
{
    uint8_t kb[PCS_MKEY_MAX];
    bool is_long;
    size_t kl = pcs_mkey_sub(kb, gen, f->ptr, f->len, &is_long);
    pcs_rec r = {.gen = gen};
    pcs_view view = pcs_wview(w);
    pc_val cur;
    bool collide;
    int rc = pcs_map_get(&view, &r, f->ptr, f->len, &cur, &collide);
    if (collide)
        return PC_ECOLLISION;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *added = rc == PC_ENOTFOUND;
    size_t es = pcs_elem_size(v);
    pcs_buf_reset(&w->tmp);
    if (is_long) {
        pcs_buf_put_u32(&w->tmp, (uint32_t)f->len);
        pcs_buf_put(&w->tmp, f->ptr, f->len);
    }
    if (pcs_buf_reserve(&w->tmp, es))
        return w->tmp.err;
    pcs_elem_encode(w->tmp.data + w->tmp.len, v);
    w->tmp.len += es;
    return pcs_w_put(w, w->sh->members, kb, kl, w->tmp.data, w->tmp.len);
}

int pcs_map_check_items(pcs_wctx *w, const pc_val *items, size_t n)
{
    if (n % 2)
        return PC_EINVAL;
    for (size_t i = 0; i < n; i += 2) {
        if (items[i].kind != PC_BYTES)
            return PC_EINVAL;
        if (items[i].s.len > w->st->max_value || items[i].s.len > UINT32_MAX)
            return PC_ETOOBIG;
        int rc = pcs_chk_elem(w, &items[i + 1]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Before writing: would any long field collide with a stored one? */
static int map_precheck(pcs_wctx *w, const pcs_rec *r, const pc_val *items, size_t n)
{
    pcs_view view = pcs_wview(w);
    for (size_t i = 0; i < n; i += 2) {
        if (items[i].s.len < PCS_SUB_INLINE)
            continue;
        pc_val cur;
        bool collide;
        int rc = pcs_map_get(&view, r, items[i].s.ptr, items[i].s.len, &cur, &collide);
        if (collide)
            return PC_ECOLLISION;
        if (rc && rc != PC_ENOTFOUND)
            return rc;
    }
    return 0;
}

int pcs_map_fill(pcs_wctx *w, pcs_rec *r, const pc_val *items, size_t n)
{
    r->count = 0;
    for (size_t i = 0; i < n; i += 2) {
        bool added;
        int rc = map_put(w, r->gen, &items[i].s, &items[i + 1], &added);
        if (rc)
            return rc;
        r->count += added;
    }
    return 0;
}

/* Look up a Map: 0 live, PC_ENOTFOUND, PC_EWRONGTYPE. */
static int map_lookup(pcs_wctx *w, const pcs_req *rq, pcs_rec *r, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), r, stale);
    if (!rc && r->type != PC_T_MAP)
        return PC_EWRONGTYPE;
    return rc;
}

int pcs_h_hset(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *items = rq->argv + 1;
    size_t n = rq->argc - 1;
    int rc = pcs_map_check_items(w, items, n);
    if (rc)
        return rc;
    pcs_rec old, nr;
    bool stale;
    rc = map_lookup(w, rq, &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    if (live) {
        if ((rc = map_precheck(w, &old, items, n)))
            return rc;
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_MAP);
    }
    uint64_t added = 0;
    for (size_t i = 0; i < n; i += 2) {
        bool a;
        if ((rc = map_put(w, nr.gen, &items[i].s, &items[i + 1], &a)))
            return rc;
        added += a;
    }
    nr.count += added;
    if ((rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0)))
        return rc;
    pcs_out_int(out, (int64_t)added);
    *nv = 1;
    return 0;
}

int pcs_h_hdel(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    for (uint32_t i = 1; i < rq->argc; i++)
        if (rq->argv[i].kind != PC_BYTES)
            return PC_EINVAL;
    pcs_rec old;
    int rc = map_lookup(w, rq, &old, NULL);
    uint64_t removed = 0;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    if (rc == 0) {
        pcs_view view = pcs_wview(w);
        for (uint32_t i = 1; i < rq->argc; i++) {
            const pc_bytes *f = &rq->argv[i].s;
            pc_val cur;
            rc = pcs_map_get(&view, &old, f->ptr, f->len, &cur, NULL);
            if (rc == PC_ENOTFOUND)
                continue;
            if (rc)
                return rc;
            uint8_t kb[PCS_MKEY_MAX];
            bool is_long;
            size_t kl = pcs_mkey_sub(kb, old.gen, f->ptr, f->len, &is_long);
            if ((rc = pcs_w_del(w, w->sh->members, kb, kl, NULL)))
                return rc;
            removed++;
        }
        rc = 0;
        if (removed == old.count) {
            rc = pcs_w_remove(w, pcs_key_arg(rq), &old, false);
        } else if (removed) {
            pcs_rec nr = old;
            nr.count -= removed;
            rc = pcs_w_store(w, pcs_key_arg(rq), &old, &nr, NULL, 0);
        }
        if (rc)
            return rc;
    }
    pcs_out_int(out, (int64_t)removed);
    *nv = 1;
    return 0;
}

int pcs_h_hincr(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *fv = &rq->argv[1], *by = &rq->argv[2];
    bool is_float = rq->op == PCS_OP_HINCRBYFLOAT;
    if (fv->kind != PC_BYTES || by->kind != (is_float ? PC_DOUBLE : PC_INT))
        return PC_EINVAL;
    if (fv->s.len > w->st->max_value)
        return PC_ETOOBIG;
    if (is_float && !isfinite(by->d))
        return PC_ENAN;
    pcs_rec old, nr;
    bool stale;
    int rc = map_lookup(w, rq, &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    pc_val cur = pc_int(0), now;
    if (live) {
        pcs_view view = pcs_wview(w);
        bool collide;
        rc = pcs_map_get(&view, &old, fv->s.ptr, fv->s.len, &cur, &collide);
        if (collide)
            return PC_ECOLLISION;
        if (rc == PC_ENOTFOUND)
            cur = pc_int(0);
        else if (rc)
            return rc;
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_MAP);
    }
    /* A String field that holds a number counts as that number (num.h);
     * the result is stored as a number. */
    if (cur.kind == PC_BYTES) {
        int64_t i;
        double d;
        if (pcs_text_int(cur.s.ptr, cur.s.len, &i))
            cur = pc_int(i);
        else if (is_float && pcs_text_double(cur.s.ptr, cur.s.len, &d))
            cur = pc_dbl(d);
    }
    if (is_float) {
        if (cur.kind != PC_INT && cur.kind != PC_DOUBLE)
            return PC_ENOTNUM;
        now = pc_dbl((cur.kind == PC_INT ? (double)cur.i : cur.d) + by->d);
        if (!isfinite(now.d))
            return PC_ENAN;
    } else {
        if (cur.kind != PC_INT)
            return PC_ENOTINT;
        now.kind = PC_INT;
        if (__builtin_add_overflow(cur.i, by->i, &now.i))
            return PC_EOVERFLOW;
    }
    bool added;
    if ((rc = map_put(w, nr.gen, &fv->s, &now, &added)))
        return rc;
    nr.count += added;
    if ((rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0)))
        return rc;
    pcs_out_val(out, &now);
    *nv = 1;
    return 0;
}

/* hsetnx: key, field, value.  Set the field only when it is not there
 * (creating the Map); 1 set, 0 it was there (nothing written). */
int pcs_h_hsetnx(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *items = rq->argv + 1;
    int rc = pcs_map_check_items(w, items, 2);
    if (rc)
        return rc;
    pcs_rec old, nr;
    bool stale;
    rc = map_lookup(w, rq, &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    *nv = 1;
    if (live) {
        pcs_view view = pcs_wview(w);
        pc_val cur;
        bool collide;
        rc = pcs_map_get(&view, &old, items[0].s.ptr, items[0].s.len, &cur, &collide);
        if (collide)
            return PC_ECOLLISION;
        if (rc == 0) {
            pcs_out_int(out, 0);
            return 0;
        }
        if (rc != PC_ENOTFOUND)
            return rc;
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_MAP);
    }
    bool added;
    if ((rc = map_put(w, nr.gen, &items[0].s, &items[1], &added)))
        return rc;
    nr.count += added;
    if ((rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0)))
        return rc;
    pcs_out_int(out, 1);
    return 0;
}
