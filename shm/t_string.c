/*
 * t_string.c - String and Numeric writes: set, getset, getex (and getdel),
 * append, setrange, incrby, incrbyfloat.
 */
#include <math.h>
#include <string.h>

#include "exec_int.h"
#include "num.h"

int pcs_h_getset(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *v = &rq->argv[1];
    int rc = pcs_chk_scalar(w, v);
    if (rc)
        return rc;
    pcs_rec old, nr;
    bool stale;
    rc = pcs_w_lookup(w, pcs_key_arg(rq), &old, &stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool live = rc == 0;
    if (live && old.type != PC_T_STRING && old.type != PC_T_NUMERIC)
        return PC_EWRONGTYPE;
    if (live) { /* copy the old value out before the put can move it */
        if (old.type == PC_T_STRING)
            pcs_out_bytes(out, old.data, old.dlen);
        else
            pcs_out_val(out, &old.num);
        *nv = 1;
    }
    memset(&nr, 0, sizeof nr);
    const pcs_rec *prev = (live || stale) ? &old : NULL;
    if (v->kind == PC_BYTES) {
        nr.type = PC_T_STRING;
        return pcs_w_store(w, pcs_key_arg(rq), prev, &nr, v->s.ptr, v->s.len);
    }
    nr.type = PC_T_NUMERIC;
    nr.num = *v;
    return pcs_w_store(w, pcs_key_arg(rq), prev, &nr, NULL, 0);
}

/* The String under the key, copied into w->tmp; *live tells whether it
 * existed.  PC_EWRONGTYPE for any other type. */
static int string_copy(pcs_wctx *w, const pcs_req *rq, pcs_rec *old, bool *live, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), old, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    pcs_buf_reset(&w->tmp);
    if (!*live)
        return 0;
    if (old->type != PC_T_STRING)
        return PC_EWRONGTYPE;
    pcs_buf_put(&w->tmp, old->data, old->dlen);
    return w->tmp.err;
}

int pcs_h_append(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *v = &rq->argv[1];
    if (v->kind != PC_BYTES)
        return PC_EINVAL;
    pcs_rec old, nr;
    bool live, stale;
    int rc = string_copy(w, rq, &old, &live, &stale);
    if (rc)
        return rc;
    if (v->s.len > w->st->max_value - w->tmp.len)
        return PC_ETOOBIG;
    pcs_buf_put(&w->tmp, v->s.ptr, v->s.len);
    if (w->tmp.err)
        return w->tmp.err;
    memset(&nr, 0, sizeof nr);
    nr.type = PC_T_STRING;
    nr.expire_at = live ? old.expire_at : 0;
    rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, w->tmp.data,
                     w->tmp.len);
    if (!rc) {
        pcs_out_int(out, (int64_t)w->tmp.len);
        *nv = 1;
    }
    return rc;
}

int pcs_h_setrange(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *ov = &rq->argv[1], *v = &rq->argv[2];
    if (ov->kind != PC_INT || ov->i < 0 || v->kind != PC_BYTES)
        return PC_EINVAL;
    uint64_t off = (uint64_t)ov->i;
    if (off > w->st->max_value || v->s.len > w->st->max_value - off)
        return PC_ETOOBIG;
    pcs_rec old, nr;
    bool live, stale;
    int rc = string_copy(w, rq, &old, &live, &stale);
    if (rc)
        return rc;
    if (v->s.len == 0) { /* nothing to write: report the length, create nothing */
        pcs_out_int(out, (int64_t)w->tmp.len);
        *nv = 1;
        return 0;
    }
    size_t end = (size_t)off + v->s.len;
    if (end > w->tmp.len) {
        size_t grow = end - w->tmp.len;
        if (pcs_buf_reserve(&w->tmp, grow))
            return w->tmp.err;
        memset(w->tmp.data + w->tmp.len, 0, grow);
        w->tmp.len = end;
    }
    memcpy(w->tmp.data + off, v->s.ptr, v->s.len);
    memset(&nr, 0, sizeof nr);
    nr.type = PC_T_STRING;
    nr.expire_at = live ? old.expire_at : 0;
    rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, w->tmp.data,
                     w->tmp.len);
    if (!rc) {
        pcs_out_int(out, (int64_t)w->tmp.len);
        *nv = 1;
    }
    return rc;
}

/* The Numeric under the key, or 0 when missing; the TTL is kept.  A String
 * that holds a number (num.h) counts as that number: *cur gets it, as
 * PC_INT when it is an integer in canonical form, else as PC_DOUBLE when
 * want_double and it is a decimal number; any other String is
 * PC_ENOTINT (want_double: PC_ENOTNUM).  The result is stored as a
 * Numeric, as Redis's counters read a String and keep a number. */
static int numeric_get(pcs_wctx *w, const pcs_req *rq, bool want_double, pcs_rec *old, bool *live,
                       bool *stale, pc_val *cur)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), old, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    *cur = pc_int(0);
    if (!*live)
        return 0;
    if (old->type == PC_T_NUMERIC) {
        *cur = old->num;
        return 0;
    }
    if (old->type != PC_T_STRING)
        return PC_EWRONGTYPE;
    if (pcs_text_int(old->data, old->dlen, &cur->i))
        return 0;
    if (want_double && pcs_text_double(old->data, old->dlen, &cur->d)) {
        cur->kind = PC_DOUBLE;
        return 0;
    }
    return want_double ? PC_ENOTNUM : PC_ENOTINT;
}

int pcs_h_incrby(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t by, now;
    if (pcs_chk_int(&rq->argv[1], &by))
        return PC_EINVAL;
    pcs_rec old, nr;
    bool live, stale;
    pc_val cur;
    int rc = numeric_get(w, rq, false, &old, &live, &stale, &cur);
    if (rc)
        return rc;
    if (cur.kind != PC_INT)
        return PC_ENOTINT;
    if (__builtin_add_overflow(cur.i, by, &now))
        return PC_EOVERFLOW;
    memset(&nr, 0, sizeof nr);
    nr.type = PC_T_NUMERIC;
    nr.num = pc_int(now);
    nr.expire_at = live ? old.expire_at : 0;
    rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0);
    if (!rc) {
        pcs_out_int(out, now);
        *nv = 1;
    }
    return rc;
}

int pcs_h_incrbyfloat(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *bv = &rq->argv[1];
    if (bv->kind != PC_DOUBLE)
        return PC_EINVAL;
    if (!isfinite(bv->d))
        return PC_ENAN;
    pcs_rec old, nr;
    bool live, stale;
    pc_val cur;
    int rc = numeric_get(w, rq, true, &old, &live, &stale, &cur);
    if (rc)
        return rc;
    double now = (cur.kind == PC_INT ? (double)cur.i : cur.d) + bv->d;
    if (!isfinite(now))
        return PC_ENAN;
    memset(&nr, 0, sizeof nr);
    nr.type = PC_T_NUMERIC;
    nr.num = pc_dbl(now);
    nr.expire_at = live ? old.expire_at : 0;
    rc = pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? &old : NULL, &nr, NULL, 0);
    if (!rc) {
        pcs_out_double(out, now);
        *nv = 1;
    }
    return rc;
}

/*
 * getex: key, how (PCS_GETEX_*), ms.  The String or Numeric value (nothing
 * for a missing key), then the key's TTL changes as how says: kept, set to
 * ms from now, set to the time ms (a time not after now deletes the key),
 * removed, or the key is deleted (GETDEL).  PC_EWRONGTYPE for a
 * collection, which stays as it is.
 */
int pcs_h_getex(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    const pc_val *hv = &rq->argv[1], *mv = &rq->argv[2];
    uint64_t at = 0;
    int64_t ttl;
    if (hv->kind != PC_INT || mv->kind != PC_INT)
        return PC_EINVAL;
    switch (hv->i) {
    case PCS_GETEX_TTL:
        if (pcs_chk_ttl(mv, &ttl) || ttl < 1)
            return PC_EINVAL;
        at = w->now + (uint64_t)ttl;
        break;
    case PCS_GETEX_AT:
        if (pcs_chk_at(w, mv, &at))
            return PC_EINVAL;
        break;
    case PCS_GETEX_KEEP:
    case PCS_GETEX_PERSIST:
    case PCS_GETEX_DEL:
        if (mv->i != 0)
            return PC_EINVAL;
        break;
    default:
        return PC_EINVAL;
    }
    pcs_rec r;
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), &r, NULL);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (r.type != PC_T_STRING && r.type != PC_T_NUMERIC)
        return PC_EWRONGTYPE;
    /* copy the value out before a write can move it */
    if (r.type == PC_T_STRING)
        pcs_out_bytes(out, r.data, r.dlen);
    else
        pcs_out_val(out, &r.num);
    *nv = 1;
    if (out->err)
        return out->err;
    switch (hv->i) {
    case PCS_GETEX_TTL:
    case PCS_GETEX_AT:
        return at <= w->now ? pcs_w_remove(w, pcs_key_arg(rq), &r, false)
                            : pcs_w_restamp(w, pcs_key_arg(rq), &r, at);
    case PCS_GETEX_PERSIST:
        return r.expire_at ? pcs_w_restamp(w, pcs_key_arg(rq), &r, 0) : 0;
    case PCS_GETEX_DEL:
        return pcs_w_remove(w, pcs_key_arg(rq), &r, false);
    default:
        return 0;
    }
}
