/*
 * t_stream.c - Stream writes (issue 17): xadd, xtrim, xdel, the xgroup
 * subcommands, xreadgroup, xack, xclaim, xautoclaim, and xread's blocking
 * form (a read the daemon parks, so it runs where writes run).  Redis's
 * semantics throughout; the layout is in stream.h.
 *
 * Entries in answers go as INT ms, INT seq, then BYTES (the entry's
 * encoded pairs), NIL (a pending entry no longer in the stream) or BOOL
 * false (an ID alone: JUSTID).
 */
#include <string.h>

#include "bytes.h"
#include "exec_int.h"
#include "stream.h"

/* A live stream under the key, or none: PC_EWRONGTYPE for another type. */
static int x_lookup(pcs_wctx *w, const pc_val *key, pcs_rec *r, bool *live, bool *stale)
{
    bool st;
    int rc = pcs_w_lookup(w, key, r, &st);
    if (stale)
        *stale = st;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    return *live && r->type != PC_T_STREAM ? PC_EWRONGTYPE : 0;
}

/* The live stream under the key and its group g: 0, PC_ENOTFOUND (no
 * stream, or no such group: Redis's NOGROUP), PC_EWRONGTYPE, or an error. */
static int x_group_of(pcs_wctx *w, const pc_val *key, pcs_rec *r, const pc_val *g, pcs_xgroup *grp)
{
    bool live;
    int rc = x_lookup(w, key, r, &live, NULL);
    if (rc || !live)
        return rc ? rc : PC_ENOTFOUND;
    pcs_view v = pcs_wview(w);
    return pcs_x_group(&v, r, g->s.ptr, g->s.len, grp);
}

static int x_store(pcs_wctx *w, const pc_val *key, const pcs_rec *old, pcs_rec *nr)
{
    return pcs_w_store(w, key, old, nr, NULL, 0);
}

static bool is_int(const pc_val *v)
{
    return v->kind == PC_INT;
}

/* An ID from argv[i], argv[i + 1]. */
static int arg_id(const pcs_req *rq, unsigned i, pc_xid *id)
{
    const pc_val *a = &rq->argv[i], *b = &rq->argv[i + 1];
    if (!is_int(a) || !is_int(b))
        return PC_EINVAL;
    *id = pc_xid_make((uint64_t)a->i, (uint64_t)b->i);
    return 0;
}

static int arg_name(const pcs_req *rq, unsigned i)
{
    const pc_val *v = &rq->argv[i];
    return v->kind == PC_BYTES && pcs_xname_ok(v->s.ptr, v->s.len) ? 0 : PC_EINVAL;
}

static void out_id(pcs_buf *out, pc_xid id)
{
    pcs_out_int(out, (int64_t)id.ms);
    pcs_out_int(out, (int64_t)id.seq);
}

static bool is_zero(pc_xid id)
{
    return id.ms == 0 && id.seq == 0;
}

static int open_cur(pcs_wctx *w, MDB_cursor **cur)
{
    int rc = mdb_cursor_open(w->txn, w->sh->members, cur);
    return rc ? pcs_w_fail(w, rc) : 0;
}

/* The first entry at or after from (none: *found false). */
static int first_from(pcs_wctx *w, const pcs_rec *r, pc_xid from, pc_xid *id, bool *found)
{
    MDB_cursor *cur;
    int rc = open_cur(w, &cur);
    if (rc)
        return rc;
    pc_xentry e;
    size_t n;
    rc = pcs_x_range(cur, r, from, pc_xid_max(), false, &e, 1, &n);
    mdb_cursor_close(cur);
    *found = !rc && n == 1;
    if (*found)
        *id = e.id;
    return rc;
}

/* ---- trimming ---- */

typedef struct xtrim {
    int64_t by, approx, maxlen, limit;
    pc_xid minid;
} xtrim;

/* by, approx, maxlen, min ms, min seq, limit at argv[i..i+6). */
static int arg_trim(const pcs_req *rq, unsigned i, xtrim *t)
{
    for (unsigned j = 0; j < 6; j++)
        if (!is_int(&rq->argv[i + j]))
            return PC_EINVAL;
    t->by = rq->argv[i].i;
    t->approx = rq->argv[i + 1].i;
    t->maxlen = rq->argv[i + 2].i;
    t->minid = pc_xid_make((uint64_t)rq->argv[i + 3].i, (uint64_t)rq->argv[i + 4].i);
    t->limit = rq->argv[i + 5].i;
    if (t->by < PC_XTRIM_NONE || t->by > PC_XTRIM_MINID || (t->approx != 0 && t->approx != 1) ||
        t->maxlen < 0 || t->limit < 0 || (!t->approx && t->limit))
        return PC_EINVAL;
    return 0;
}

/* Trim r's entries (the record is the caller's to store). */
static int do_trim(pcs_wctx *w, pcs_rec *r, const xtrim *t, uint64_t *removed)
{
    *removed = 0;
    if (t->by == PC_XTRIM_NONE || r->count == 0)
        return 0;
    uint64_t want;
    if (t->by == PC_XTRIM_MAXLEN)
        want = r->count > (uint64_t)t->maxlen ? r->count - (uint64_t)t->maxlen : 0;
    else
        want = r->count; /* bounded by minid below */
    if (t->approx && t->limit && want > (uint64_t)t->limit)
        want = (uint64_t)t->limit;
    MDB_cursor *cur;
    int rc = open_cur(w, &cur);
    if (rc)
        return rc;
    pc_xentry e;
    size_t n = 0;
    while (*removed < want) {
        if ((rc = pcs_x_range(cur, r, pc_xid_make(0, 0), pc_xid_max(), false, &e, 1, &n)) || !n)
            break;
        if (t->by == PC_XTRIM_MINID && pc_xid_cmp(e.id, t->minid) >= 0)
            break;
        uint8_t kb[PCS_MKEY_MAX];
        if ((rc = pcs_w_del(w, w->sh->members, kb, pcs_xk_entry(kb, r->gen, e.id), NULL)))
            break;
        (*removed)++;
        r->count--;
    }
    if (!rc && *removed && r->count &&
        !(rc = pcs_x_range(cur, r, pc_xid_make(0, 0), pc_xid_max(), false, &e, 1, &n)) && n)
        r->xs_first = e.id;
    mdb_cursor_close(cur);
    if (!rc && r->count == 0)
        r->xs_first = pc_xid_make(0, 0);
    return rc;
}

/* ---- xadd ---- */

#define XADD_FIXED 11

/*
 * xadd: key, id mode (PC_XADD_*), ms, seq, flags (PC_XADD_NOMKSTREAM),
 * trim (by, approx, maxlen, min ms, min seq, limit), then field, value, ...
 * Answers the new ID (0-0 when NOMKSTREAM found no stream).
 */
int pcs_h_xadd(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    xtrim t;
    pc_xid want;
    int rc = arg_id(rq, 2, &want);
    if (rc || !is_int(&rq->argv[1]) || !is_int(&rq->argv[4]) || (rc = arg_trim(rq, 5, &t)))
        return rc ? rc : PC_EINVAL;
    int64_t mode = rq->argv[1].i, flags = rq->argv[4].i;
    size_t nfv = rq->argc - XADD_FIXED;
    if (mode < PC_XADD_AUTO || mode > PC_XADD_EXPLICIT || (flags & ~(int64_t)PC_XADD_NOMKSTREAM) ||
        nfv == 0 || nfv % 2)
        return PC_EINVAL;
    const pc_val *fv = &rq->argv[XADD_FIXED];
    for (size_t i = 0; i < nfv; i++)
        if ((rc = pcs_chk_elem(w, &fv[i])))
            return rc;
    size_t esz = pcs_xentry_size(fv, nfv / 2);
    if (esz > w->st->max_value)
        return PC_ETOOBIG;
    pcs_rec old, nr;
    bool live, stale;
    if ((rc = x_lookup(w, pcs_key_arg(rq), &old, &live, &stale)))
        return rc;
    if (!live && (flags & PC_XADD_NOMKSTREAM)) {
        out_id(out, pc_xid_make(0, 0));
        *nv = 2;
        return 0;
    }
    pc_xid last = live ? old.xs_last : pc_xid_make(0, 0), id;
    switch (mode) {
    case PC_XADD_AUTO:
        if (w->now > last.ms)
            id = pc_xid_make(w->now, 0);
        else if (!pcs_xid_next(last, &id))
            return PC_ERANGE;
        break;
    case PC_XADD_AUTOSEQ:
        if (want.ms < last.ms || (want.ms == last.ms && last.seq == UINT64_MAX))
            return PC_ERANGE;
        id = pc_xid_make(want.ms, want.ms == last.ms ? last.seq + 1 : 0);
        break;
    default:
        if (is_zero(want) || pc_xid_cmp(want, last) <= 0)
            return PC_ERANGE;
        id = want;
    }
    if (live) {
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_STREAM);
    }
    pcs_buf_reset(&w->tmp);
    if (pcs_buf_reserve(&w->tmp, esz))
        return w->tmp.err;
    pcs_xentry_encode(w->tmp.data, fv, nfv / 2);
    uint8_t kb[PCS_MKEY_MAX];
    if ((rc = pcs_w_put(w, w->sh->members, kb, pcs_xk_entry(kb, nr.gen, id), w->tmp.data, esz)))
        return rc;
    if (nr.count == 0)
        nr.xs_first = id;
    nr.count++;
    nr.xs_last = id;
    nr.xs_added++;
    uint64_t removed;
    if ((rc = do_trim(w, &nr, &t, &removed)) ||
        (rc = x_store(w, pcs_key_arg(rq), live || stale ? &old : NULL, &nr)))
        return rc;
    out_id(out, id);
    *nv = 2;
    return 0;
}

/* xtrim: key, trim (6).  Answers how many entries went. */
int pcs_h_xtrim(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    xtrim t;
    int rc = arg_trim(rq, 1, &t);
    if (rc || t.by == PC_XTRIM_NONE)
        return PC_EINVAL;
    pcs_rec old;
    bool live;
    if ((rc = x_lookup(w, pcs_key_arg(rq), &old, &live, NULL)))
        return rc;
    uint64_t removed = 0;
    if (live) {
        pcs_rec nr = old;
        if ((rc = do_trim(w, &nr, &t, &removed)) ||
            (removed && (rc = x_store(w, pcs_key_arg(rq), &old, &nr))))
            return rc;
    }
    pcs_out_int(out, (int64_t)removed);
    *nv = 1;
    return 0;
}

/* xdel: key, then ms, seq of each ID.  Answers how many were there. */
int pcs_h_xdel(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    if ((rq->argc - 1) % 2)
        return PC_EINVAL;
    pc_xid id;
    for (uint32_t i = 1; i < rq->argc; i += 2)
        if (arg_id(rq, i, &id))
            return PC_EINVAL;
    pcs_rec old;
    bool live;
    int rc = x_lookup(w, pcs_key_arg(rq), &old, &live, NULL);
    if (rc)
        return rc;
    uint64_t deleted = 0;
    if (live) {
        pcs_rec nr = old;
        bool first_gone = false;
        for (uint32_t i = 1; i < rq->argc && nr.count; i += 2) {
            arg_id(rq, i, &id);
            uint8_t kb[PCS_MKEY_MAX];
            bool existed;
            if ((rc = pcs_w_del(w, w->sh->members, kb, pcs_xk_entry(kb, nr.gen, id), &existed)))
                return rc;
            if (!existed)
                continue;
            deleted++;
            nr.count--;
            if (pc_xid_cmp(id, nr.xs_maxdel) > 0)
                nr.xs_maxdel = id;
            first_gone |= pc_xid_cmp(id, nr.xs_first) == 0;
        }
        if (deleted) {
            bool found = false;
            if (first_gone && nr.count &&
                (rc = first_from(w, &nr, nr.xs_first, &nr.xs_first, &found)))
                return rc;
            if (!nr.count)
                nr.xs_first = pc_xid_make(0, 0);
            if ((rc = x_store(w, pcs_key_arg(rq), &old, &nr)))
                return rc;
        }
    }
    pcs_out_int(out, (int64_t)deleted);
    *nv = 1;
    return 0;
}

/* ---- groups: the records ---- */

static int put_group(pcs_wctx *w, uint64_t gen, const pc_val *g, const pcs_xgroup *grp)
{
    uint8_t kb[PCS_MKEY_MAX], d[PCS_XGROUP_LEN];
    pcs_xgroup_enc(d, grp);
    return pcs_w_put(w, w->sh->members, kb, pcs_xk_group(kb, gen, g->s.ptr, g->s.len), d, sizeof d);
}

static int put_cons(pcs_wctx *w, uint64_t gen, const pc_val *g, const void *c, size_t clen,
                    const pcs_xcons *cons)
{
    uint8_t kb[PCS_MKEY_MAX], d[PCS_XCONS_LEN];
    pcs_xcons_enc(d, cons);
    return pcs_w_put(w, w->sh->members, kb, pcs_xk_cons(kb, gen, g->s.ptr, g->s.len, c, clen), d,
                     sizeof d);
}

static int put_pel(pcs_wctx *w, uint64_t gen, const pc_val *g, pc_xid id, uint64_t time,
                   uint64_t count, const void *c, size_t clen)
{
    uint8_t kb[PCS_MKEY_MAX], d[PCS_XPEL_FIXED + PC_XNAME_MAX];
    pcs_put_le64(d, time);
    pcs_put_le64(d + 8, count);
    memcpy(d + PCS_XPEL_FIXED, c, clen);
    return pcs_w_put(w, w->sh->members, kb, pcs_xk_pel(kb, gen, g->s.ptr, g->s.len, id), d,
                     PCS_XPEL_FIXED + clen);
}

/* Add d to the pending count of consumer c (which must exist). */
static int cons_add(pcs_wctx *w, const pcs_rec *r, const pc_val *g, const void *c, size_t clen,
                    int64_t d)
{
    pcs_view v = pcs_wview(w);
    pcs_xcons cons;
    int rc = pcs_x_cons(&v, r, g->s.ptr, g->s.len, c, clen, &cons);
    if (rc == PC_ENOTFOUND)
        return PC_ECORRUPT;
    if (rc)
        return rc;
    cons.pending = (uint64_t)((int64_t)cons.pending + d);
    return put_cons(w, r->gen, g, c, clen, &cons);
}

/* The consumer c of the group, created when missing (*grp counts it);
 * seen now. */
static int touch_cons(pcs_wctx *w, const pcs_rec *r, const pc_val *g, pcs_xgroup *grp,
                      const pc_val *c, pcs_xcons *cons)
{
    pcs_view v = pcs_wview(w);
    int rc = pcs_x_cons(&v, r, g->s.ptr, g->s.len, c->s.ptr, c->s.len, cons);
    if (rc == PC_ENOTFOUND) {
        memset(cons, 0, sizeof *cons);
        grp->consumers++;
        rc = 0;
    }
    cons->seen = w->now;
    return rc;
}

/* Delete the members whose keys start with pfx[0..plen); *n how many
 * (decoding each pending entry's consumer when pel is set... not needed). */
static int del_prefix(pcs_wctx *w, const uint8_t *pfx, size_t plen)
{
    MDB_cursor *cur;
    int rc = open_cur(w, &cur);
    if (rc)
        return rc;
    for (;;) {
        MDB_val k = {plen, (void *)pfx}, d;
        int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (mrc == MDB_NOTFOUND || (!mrc && (k.mv_size < plen || memcmp(k.mv_data, pfx, plen))))
            break;
        if (mrc) {
            rc = pcs_w_fail(w, mrc);
            break;
        }
        uint8_t kb[PCS_MKEY_MAX];
        memcpy(kb, k.mv_data, k.mv_size);
        if ((rc = pcs_w_del(w, w->sh->members, kb, k.mv_size, NULL)))
            break;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* ---- xgroup ---- */

enum { XG_CREATE = 0, XG_SETID, XG_DESTROY, XG_CREATECONSUMER, XG_DELCONSUMER };

/* create/setid: group, ms, seq, dollar (0/1), entries read (-1..) [, mkstream] */
static int xg_setid(pcs_wctx *w, const pcs_req *rq, bool create, pcs_buf *out, uint32_t *nv)
{
    pc_xid id;
    if (rq->argc != (create ? 8u : 7u) || arg_name(rq, 2) || arg_id(rq, 3, &id) ||
        !is_int(&rq->argv[5]) || !is_int(&rq->argv[6]) || (create && !is_int(&rq->argv[7])))
        return PC_EINVAL;
    int64_t dollar = rq->argv[5].i, er = rq->argv[6].i, mk = create ? rq->argv[7].i : 0;
    if ((dollar != 0 && dollar != 1) || er < -1 || (mk != 0 && mk != 1))
        return PC_EINVAL;
    const pc_val *g = &rq->argv[2];
    pcs_rec old, nr;
    bool live, stale;
    int rc = x_lookup(w, pcs_key_arg(rq), &old, &live, &stale);
    if (rc)
        return rc;
    if (!live && !mk)
        return PC_ENOTFOUND;
    pcs_xgroup grp;
    if (live) {
        pcs_view v = pcs_wview(w);
        rc = pcs_x_group(&v, &old, g->s.ptr, g->s.len, &grp);
        if (rc && rc != PC_ENOTFOUND)
            return rc;
        if (create ? rc == 0 : rc == PC_ENOTFOUND)
            return create ? PC_EEXIST : PC_ENOTFOUND;
        nr = old;
    } else {
        pcs_new_coll(w, &nr, PC_T_STREAM);
    }
    if (create) {
        memset(&grp, 0, sizeof grp);
        nr.xs_groups++;
    }
    grp.last = dollar ? nr.xs_last : id;
    grp.entries_read = er;
    if ((rc = put_group(w, nr.gen, g, &grp)) ||
        (rc = x_store(w, pcs_key_arg(rq), live || stale ? &old : NULL, &nr)))
        return rc;
    pcs_out_int(out, 1);
    *nv = 1;
    return 0;
}

/* destroy: group.  1, or 0 when there is no such group. */
static int xg_destroy(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    if (rq->argc != 3 || arg_name(rq, 2))
        return PC_EINVAL;
    const pc_val *g = &rq->argv[2];
    pcs_rec old;
    bool live;
    int rc = x_lookup(w, pcs_key_arg(rq), &old, &live, NULL);
    if (rc)
        return rc;
    if (!live)
        return PC_ENOTFOUND;
    pcs_view v = pcs_wview(w);
    pcs_xgroup grp;
    rc = pcs_x_group(&v, &old, g->s.ptr, g->s.len, &grp);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    int gone = rc == 0;
    if (gone) {
        uint8_t kb[PCS_MKEY_MAX];
        pcs_rec nr = old;
        nr.xs_groups--;
        /* The prefix of its pending entries and consumers: gen ‖ tag ‖ len ‖ name. */
        size_t pl = pcs_xk_pel(kb, old.gen, g->s.ptr, g->s.len, pc_xid_make(0, 0)) - 16;
        if ((rc = del_prefix(w, kb, pl)))
            return rc;
        pl = pcs_xk_cons(kb, old.gen, g->s.ptr, g->s.len, "", 0);
        if ((rc = del_prefix(w, kb, pl)) ||
            (rc = pcs_w_del(w, w->sh->members, kb, pcs_xk_group(kb, old.gen, g->s.ptr, g->s.len),
                            NULL)) ||
            (rc = x_store(w, pcs_key_arg(rq), &old, &nr)))
            return rc;
    }
    pcs_out_int(out, gone);
    *nv = 1;
    return 0;
}

/* createconsumer / delconsumer: group, consumer. */
static int xg_consumer(pcs_wctx *w, const pcs_req *rq, bool create, pcs_buf *out, uint32_t *nv)
{
    if (rq->argc != 4 || arg_name(rq, 2) || arg_name(rq, 3))
        return PC_EINVAL;
    const pc_val *g = &rq->argv[2], *c = &rq->argv[3];
    pcs_rec old;
    pcs_xgroup grp;
    pcs_xcons cons;
    int rc = x_group_of(w, pcs_key_arg(rq), &old, g, &grp);
    if (rc)
        return rc;
    pcs_view v = pcs_wview(w);
    rc = pcs_x_cons(&v, &old, g->s.ptr, g->s.len, c->s.ptr, c->s.len, &cons);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    bool has = rc == 0;
    int64_t answer = 0;
    uint8_t kb[PCS_MKEY_MAX];
    pcs_rec nr = old;
    if (create && !has) {
        memset(&cons, 0, sizeof cons);
        cons.seen = w->now;
        grp.consumers++;
        if ((rc = put_cons(w, old.gen, g, c->s.ptr, c->s.len, &cons)))
            return rc;
        answer = 1;
    } else if (!create && has) {
        /* Its pending entries go: walk the group's list. */
        MDB_cursor *cur;
        if ((rc = open_cur(w, &cur)))
            return rc;
        size_t pl = pcs_xk_pel(kb, old.gen, g->s.ptr, g->s.len, pc_xid_make(0, 0)) - 16;
        uint8_t pfx[PCS_MKEY_MAX];
        memcpy(pfx, kb, pl);
        MDB_val k = {pl, pfx}, d;
        int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        uint64_t dropped = 0;
        while (!mrc && k.mv_size == pl + 16 && !memcmp(k.mv_data, pfx, pl)) {
            pcs_xpel e;
            if ((rc = pcs_xpel_dec(d.mv_data, d.mv_size, &e)))
                break;
            if (e.consumer.len == c->s.len && !memcmp(e.consumer.ptr, c->s.ptr, c->s.len)) {
                memcpy(kb, k.mv_data, k.mv_size);
                if ((rc = pcs_w_del(w, w->sh->members, kb, k.mv_size, NULL)))
                    break;
                dropped++;
                k.mv_size = pl + 16;
                k.mv_data = kb;
                mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
                continue;
            }
            mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
        }
        mdb_cursor_close(cur);
        if (rc)
            return rc;
        if (mrc && mrc != MDB_NOTFOUND)
            return pcs_w_fail(w, mrc);
        grp.pending -= dropped < grp.pending ? dropped : grp.pending;
        grp.consumers--;
        answer = (int64_t)cons.pending;
        if ((rc =
                 pcs_w_del(w, w->sh->members, kb,
                           pcs_xk_cons(kb, old.gen, g->s.ptr, g->s.len, c->s.ptr, c->s.len), NULL)))
            return rc;
    }
    if ((create && !has) || (!create && has)) {
        if ((rc = put_group(w, old.gen, g, &grp)) || (rc = x_store(w, pcs_key_arg(rq), &old, &nr)))
            return rc;
    }
    pcs_out_int(out, answer);
    *nv = 1;
    return 0;
}

/* xgroup: key, subcommand (XG_*), its arguments. */
int pcs_h_xgroup(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    if (!is_int(&rq->argv[1]))
        return PC_EINVAL;
    switch (rq->argv[1].i) {
    case XG_CREATE:
        return xg_setid(w, rq, true, out, nv);
    case XG_SETID:
        return xg_setid(w, rq, false, out, nv);
    case XG_DESTROY:
        return xg_destroy(w, rq, out, nv);
    case XG_CREATECONSUMER:
        return xg_consumer(w, rq, true, out, nv);
    case XG_DELCONSUMER:
        return xg_consumer(w, rq, false, out, nv);
    default:
        return PC_EINVAL;
    }
}

/* ---- answering entries ---- */

static void out_entry(pcs_buf *out, const pc_xentry *e)
{
    out_id(out, e->id);
    pcs_out_bytes(out, e->raw, e->rawlen);
}

static void out_gone(pcs_buf *out, pc_xid id)
{
    pc_val nil = {.kind = PC_NIL};
    out_id(out, id);
    pcs_out_val(out, &nil);
}

static void out_justid(pcs_buf *out, pc_xid id)
{
    pc_val f = pc_bool(false);
    out_id(out, id);
    pcs_out_val(out, &f);
}

/* The (key, ms, seq) of stream i of a multi-stream read: key 0 is argv[0]
 * with its ID at argv[at], the others follow as triples after it. */
static void stream_arg(const pcs_req *rq, unsigned at, size_t i, const pc_val **key, pc_xid *id)
{
    unsigned k = i == 0 ? 0 : at + 2 + 3 * (unsigned)(i - 1);
    unsigned d = i == 0 ? at : k + 1;
    *key = &rq->argv[k];
    *id = pc_xid_make(0, 0);
    arg_id(rq, d, id);
}

/* Check the streams of a multi-stream read: the triples' shape, every key
 * of w's shard.  *nkeys gets their count. */
static int chk_streams(pcs_wctx *w, const pcs_req *rq, unsigned at, size_t *nkeys)
{
    pc_xid id;
    if (rq->argc < at + 2 || (rq->argc - at - 2) % 3 || arg_id(rq, at, &id))
        return PC_EINVAL;
    *nkeys = 1 + (rq->argc - at - 2) / 3;
    for (size_t i = 1; i < *nkeys; i++) {
        unsigned k = at + 2 + 3 * (unsigned)(i - 1);
        int rc = pcs_chk_key2(w, rq, k);
        if (rc || (rc = arg_id(rq, k + 1, &id)))
            return rc;
    }
    return 0;
}

/* count, max, wait, until: each INT, count and max >= 0, wait >= 0. */
static int chk_limits(const pcs_req *rq, unsigned i, int64_t *count, int64_t *max, int64_t *wait)
{
    for (unsigned j = 0; j < 4; j++)
        if (!is_int(&rq->argv[i + j]))
            return PC_EINVAL;
    *count = rq->argv[i].i;
    *max = rq->argv[i + 1].i;
    *wait = rq->argv[i + 2].i;
    if (*count < 0 || *max < 0 || *wait < 0 || *wait > PC_TTL_MAX_MS || rq->argv[i + 3].i < 0)
        return PC_EINVAL;
    return 0;
}

/* A parked read whose waiter's deadline passed answers PC_ETIMEDOUT. */
static bool past_until(const pcs_req *rq, unsigned i)
{
    int64_t until = rq->argv[i].i;
    return until > 0 && pcs_mono_ms() >= (uint64_t)until;
}

/* ---- xread (its blocking form) ---- */

/*
 * xreadw: key0, count, max, wait, until, ms0, seq0, then key, ms, seq for
 * each other stream.  For each stream: its last ID, how many entries, the
 * entries after the ID given (pc_xid_max: none).  PC_EAGAIN when none has
 * any and wait > 0: the daemon parks it.
 */
int pcs_h_xreadw(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t count, max, wait;
    size_t nkeys;
    int rc = chk_limits(rq, 1, &count, &max, &wait);
    if (rc || (rc = chk_streams(w, rq, 5, &nkeys)))
        return rc;
    if (wait && past_until(rq, 4))
        return PC_ETIMEDOUT;
    pcs_rec recs[1];
    size_t total = 0;
    /* First pass: types, and whether anything is there. */
    for (size_t i = 0; i < nkeys; i++) {
        const pc_val *key;
        pc_xid id, from;
        bool live;
        stream_arg(rq, 5, i, &key, &id);
        if ((rc = x_lookup(w, key, recs, &live, NULL)))
            return rc;
        if (live && recs->count && pcs_xid_next(id, &from) &&
            pc_xid_cmp(recs->xs_last, from) >= 0) {
            bool found;
            pc_xid at;
            if ((rc = first_from(w, recs, from, &at, &found)))
                return rc;
            total += found;
        }
    }
    if (!total && wait)
        return PC_EAGAIN;
    MDB_cursor *cur;
    if ((rc = open_cur(w, &cur)))
        return rc;
    size_t left = (size_t)max, nvals = 0;
    pc_xentry e[64];
    for (size_t i = 0; i < nkeys && !rc; i++) {
        const pc_val *key;
        pc_xid id, from;
        bool live;
        stream_arg(rq, 5, i, &key, &id);
        if ((rc = x_lookup(w, key, recs, &live, NULL)))
            break;
        out_id(out, live ? recs->xs_last : pc_xid_make(0, 0));
        size_t at = out->len, got = 0;
        pcs_out_int(out, 0);
        nvals += 3;
        size_t want = count ? (size_t)count : SIZE_MAX;
        if (want > left)
            want = left;
        if (live && pcs_xid_next(id, &from)) {
            while (got < want) {
                size_t n, ask = want - got < 64 ? want - got : 64;
                if ((rc = pcs_x_range(cur, recs, from, pc_xid_max(), false, e, ask, &n)) || !n)
                    break;
                for (size_t j = 0; j < n; j++)
                    out_entry(out, &e[j]);
                got += n;
                nvals += 3 * n;
                if (!pcs_xid_next(e[n - 1].id, &from))
                    break;
            }
        }
        left -= got;
        if (!out->err)
            pcs_put_le64(out->data + at + 1, got);
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    *nv = (uint32_t)nvals;
    return 0;
}

/* ---- xreadgroup ---- */

/* Deliver entry id (new to the group, or again from history) to consumer
 * c: its pending entry says c, now, count. */
static int deliver(pcs_wctx *w, const pcs_rec *r, const pc_val *g, pcs_xgroup *grp, const pc_val *c,
                   pcs_xcons *cons, pc_xid id, bool fresh)
{
    pcs_view v = pcs_wview(w);
    pcs_xpel e;
    int rc = pcs_x_pel(&v, r, g->s.ptr, g->s.len, id, &e);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    uint64_t count = rc ? 1 : e.count + 1;
    if (fresh && rc == 0)
        count = 1; /* a SETID back: delivered afresh */
    if (rc == PC_ENOTFOUND) {
        grp->pending++;
        cons->pending++;
    } else if (e.consumer.len != c->s.len || memcmp(e.consumer.ptr, c->s.ptr, c->s.len)) {
        uint8_t other[PC_XNAME_MAX];
        size_t olen = e.consumer.len;
        memcpy(other, e.consumer.ptr, olen);
        if ((rc = cons_add(w, r, g, other, olen, -1)))
            return rc;
        cons->pending++;
    }
    return put_pel(w, r->gen, g, id, w->now, count, c->s.ptr, c->s.len);
}

#define XRG_AT 8 /* where key 0's ID sits */

/*
 * xreadgroup: key0, group, consumer, count, max, flags (PC_XREAD_NOACK),
 * wait, until, ms0, seq0, then key, ms, seq per other stream.  An ID of
 * pc_xid_max is ">".  Answers as xreadw (each stream's last ID, a count,
 * the entries).  PC_EAGAIN (parked) when wait > 0, every ID is ">" and no
 * stream has an entry past its group's last delivered ID; nothing is
 * written then.
 */
int pcs_h_xreadgroup(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t count, max, wait;
    size_t nkeys;
    for (unsigned i = 3; i < 8; i++)
        if (!is_int(&rq->argv[i]))
            return PC_EINVAL;
    count = rq->argv[3].i;
    max = rq->argv[4].i;
    wait = rq->argv[6].i;
    int rc = arg_name(rq, 1);
    if (rc || arg_name(rq, 2) || count < 0 || max < 0 || rq->argv[5].i < 0 ||
        (rq->argv[5].i & ~(int64_t)PC_XREAD_NOACK) || wait < 0 || wait > PC_TTL_MAX_MS ||
        rq->argv[7].i < 0)
        return PC_EINVAL;
    if ((rc = chk_streams(w, rq, XRG_AT, &nkeys)))
        return rc;
    bool noack = rq->argv[5].i & PC_XREAD_NOACK;
    const pc_val *g = &rq->argv[1], *c = &rq->argv[2];
    if (wait && past_until(rq, 7))
        return PC_ETIMEDOUT;
    /* Check every stream and group first; see whether any has news. */
    bool any = false, history = false;
    for (size_t i = 0; i < nkeys; i++) {
        const pc_val *key;
        pc_xid id, from;
        pcs_rec r;
        pcs_xgroup grp;
        stream_arg(rq, XRG_AT, i, &key, &id);
        if ((rc = x_group_of(w, key, &r, g, &grp)))
            return rc;
        if (pc_xid_cmp(id, pc_xid_max()) != 0) {
            history = true;
        } else if (!any && r.count && pcs_xid_next(grp.last, &from) &&
                   pc_xid_cmp(r.xs_last, from) >= 0) {
            bool found;
            pc_xid at;
            if ((rc = first_from(w, &r, from, &at, &found)))
                return rc;
            any = found;
        }
    }
    if (wait && !any && !history)
        return PC_EAGAIN;
    size_t left = (size_t)max, nvals = 0;
    for (size_t i = 0; i < nkeys && !rc; i++) {
        const pc_val *key;
        pc_xid id;
        pcs_rec r;
        bool live;
        pcs_xgroup grp;
        pcs_xcons cons;
        stream_arg(rq, XRG_AT, i, &key, &id);
        pcs_view v = pcs_wview(w);
        if ((rc = x_lookup(w, key, &r, &live, NULL)) ||
            (rc = pcs_x_group(&v, &r, g->s.ptr, g->s.len, &grp)) ||
            (rc = touch_cons(w, &r, g, &grp, c, &cons)))
            break;
        out_id(out, r.xs_last);
        size_t at = out->len, got = 0;
        pcs_out_int(out, 0);
        nvals += 3;
        size_t want = count ? (size_t)count : SIZE_MAX;
        if (want > left)
            want = left;
        if (pc_xid_cmp(id, pc_xid_max()) == 0) {
            /* New entries: after the group's last delivered ID. */
            pc_xid from;
            while (got < want && pcs_xid_next(grp.last, &from)) {
                pc_xentry e;
                bool found;
                pc_xid eid;
                if ((rc = first_from(w, &r, from, &eid, &found)) || !found)
                    break;
                v = pcs_wview(w);
                if ((rc = pcs_x_entry(&v, &r, eid, &e)))
                    break;
                out_entry(out, &e);
                got++;
                if (grp.entries_read >= 0 &&
                    (is_zero(r.xs_maxdel) || pc_xid_cmp(r.xs_maxdel, grp.last) < 0))
                    grp.entries_read++;
                else
                    grp.entries_read = pcs_x_estimate(&r, eid);
                grp.last = eid;
                if (!noack && (rc = deliver(w, &r, g, &grp, c, &cons, eid, true)))
                    break;
            }
            if (got)
                cons.active = w->now;
        } else {
            /* History: this consumer's pending entries after id. */
            pc_xid from;
            uint8_t kb[PCS_MKEY_MAX];
            size_t pl = pcs_xk_pel(kb, r.gen, g->s.ptr, g->s.len, pc_xid_make(0, 0)) - 16;
            bool more = pcs_xid_next(id, &from);
            while (more && got < want) {
                MDB_cursor *cur;
                if ((rc = open_cur(w, &cur)))
                    break;
                MDB_val k = {pcs_xk_pel(kb, r.gen, g->s.ptr, g->s.len, from), kb}, d;
                int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
                pc_xid pid = {0, 0};
                bool mine = false, hit = false;
                while (!mrc && k.mv_size == pl + 16 && !memcmp(k.mv_data, kb, pl)) {
                    pcs_xpel e;
                    if ((rc = pcs_xpel_dec(d.mv_data, d.mv_size, &e)))
                        break;
                    pid = pcs_xk_id(k.mv_data, k.mv_size);
                    hit = true;
                    mine =
                        e.consumer.len == c->s.len && !memcmp(e.consumer.ptr, c->s.ptr, c->s.len);
                    if (mine)
                        break;
                    mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
                    hit = false;
                }
                mdb_cursor_close(cur);
                if (rc || (mrc && mrc != MDB_NOTFOUND)) {
                    rc = rc ? rc : pcs_w_fail(w, mrc);
                    break;
                }
                if (!hit || !mine)
                    break;
                pc_xentry e;
                v = pcs_wview(w);
                rc = pcs_x_entry(&v, &r, pid, &e);
                if (rc == PC_ENOTFOUND) {
                    out_gone(out, pid);
                    rc = 0;
                } else if (rc) {
                    break;
                } else {
                    out_entry(out, &e);
                    if ((rc = deliver(w, &r, g, &grp, c, &cons, pid, false)))
                        break;
                }
                got++;
                more = pcs_xid_next(pid, &from);
            }
        }
        if (rc || (rc = put_cons(w, r.gen, g, c->s.ptr, c->s.len, &cons)) ||
            (rc = put_group(w, r.gen, g, &grp)) || (rc = x_store(w, key, &r, &r)))
            break;
        nvals += 3 * got;
        left -= got;
        if (!out->err)
            pcs_put_le64(out->data + at + 1, got);
    }
    if (rc)
        return rc;
    *nv = (uint32_t)nvals;
    return 0;
}

/* ---- xack ---- */

/* Drop the pending entry id of the group (known to be there, e its
 * entry): its consumer's count and the group's.  When its consumer is c,
 * whose record the caller holds in *cons (and writes later), the count
 * changes there. */
static int drop_pel(pcs_wctx *w, const pcs_rec *r, const pc_val *g, pcs_xgroup *grp, pc_xid id,
                    const pcs_xpel *e, const pc_val *c, pcs_xcons *cons)
{
    uint8_t other[PC_XNAME_MAX], kb[PCS_MKEY_MAX];
    size_t olen = e->consumer.len;
    memcpy(other, e->consumer.ptr, olen);
    bool mine = c && olen == c->s.len && !memcmp(other, c->s.ptr, olen);
    int rc = pcs_w_del(w, w->sh->members, kb, pcs_xk_pel(kb, r->gen, g->s.ptr, g->s.len, id), NULL);
    if (rc)
        return rc;
    if (mine)
        cons->pending -= cons->pending > 0;
    else if ((rc = cons_add(w, r, g, other, olen, -1)))
        return rc;
    grp->pending--;
    return 0;
}

/* xack: key, group, then ms, seq of each ID.  Answers how many were pending. */
int pcs_h_xack(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_xid id;
    if (arg_name(rq, 1) || (rq->argc - 2) % 2 || rq->argc < 4)
        return PC_EINVAL;
    for (uint32_t i = 2; i < rq->argc; i += 2)
        if (arg_id(rq, i, &id))
            return PC_EINVAL;
    const pc_val *g = &rq->argv[1];
    pcs_rec r;
    bool live;
    int rc = x_lookup(w, pcs_key_arg(rq), &r, &live, NULL);
    if (rc)
        return rc;
    uint64_t acked = 0;
    pcs_xgroup grp;
    pcs_view v = pcs_wview(w);
    if (live && !(rc = pcs_x_group(&v, &r, g->s.ptr, g->s.len, &grp))) {
        for (uint32_t i = 2; i < rq->argc; i += 2) {
            pcs_xpel e;
            arg_id(rq, i, &id);
            v = pcs_wview(w);
            rc = pcs_x_pel(&v, &r, g->s.ptr, g->s.len, id, &e);
            if (rc == PC_ENOTFOUND)
                continue;
            if (rc || (rc = drop_pel(w, &r, g, &grp, id, &e, NULL, NULL)))
                return rc;
            acked++;
        }
        if (acked &&
            ((rc = put_group(w, r.gen, g, &grp)) || (rc = x_store(w, pcs_key_arg(rq), &r, &r))))
            return rc;
    } else if (rc && rc != PC_ENOTFOUND) {
        return rc;
    }
    pcs_out_int(out, (int64_t)acked);
    *nv = 1;
    return 0;
}

/* ---- xclaim, xautoclaim ---- */

/* Claim pending entry id (e) for consumer c at time t: count as given
 * (retry >= 0), else raised unless justid. */
static int claim_one(pcs_wctx *w, const pcs_rec *r, const pc_val *g, const pc_val *c,
                     pcs_xcons *cons, pc_xid id, const pcs_xpel *e, bool had, uint64_t t,
                     int64_t retry, bool justid, pcs_xgroup *grp)
{
    uint64_t count = retry >= 0 ? (uint64_t)retry : (had ? e->count : 0) + !justid;
    int rc;
    if (!had) {
        grp->pending++;
        cons->pending++;
    } else if (e->consumer.len != c->s.len || memcmp(e->consumer.ptr, c->s.ptr, c->s.len)) {
        uint8_t other[PC_XNAME_MAX];
        size_t olen = e->consumer.len;
        memcpy(other, e->consumer.ptr, olen);
        if ((rc = cons_add(w, r, g, other, olen, -1)))
            return rc;
        cons->pending++;
    }
    return put_pel(w, r->gen, g, id, t, count, c->s.ptr, c->s.len);
}

/* A claimed entry's answer: its ID alone (JUSTID), else the entry, read
 * again after claim_one's writes. */
static int out_claimed(pcs_wctx *w, pcs_buf *out, const pcs_rec *r, pc_xid id, bool justid)
{
    if (justid) {
        out_justid(out, id);
        return 0;
    }
    pc_xentry ent;
    pcs_view v = pcs_wview(w);
    int rc = pcs_x_entry(&v, r, id, &ent);
    if (!rc)
        out_entry(out, &ent);
    return rc;
}

#define XCLAIM_FIXED 13

/*
 * xclaim: key, group, consumer, min idle, idle (-1), time (-1), retrycount
 * (-1), force, justid, lastid given, last ms, last seq, max, then ms, seq
 * of each ID.  Answers a count, then the entries claimed.
 */
int pcs_h_xclaim(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_xid id, lastid;
    if (arg_name(rq, 1) || arg_name(rq, 2) || (rq->argc - XCLAIM_FIXED) % 2 ||
        rq->argc < XCLAIM_FIXED + 2 || arg_id(rq, 10, &lastid))
        return PC_EINVAL;
    for (unsigned i = 3; i < 13; i++)
        if (i != 10 && i != 11 && !is_int(&rq->argv[i]))
            return PC_EINVAL;
    for (uint32_t i = XCLAIM_FIXED; i < rq->argc; i += 2)
        if (arg_id(rq, i, &id))
            return PC_EINVAL;
    int64_t min_idle = rq->argv[3].i, idle = rq->argv[4].i, time = rq->argv[5].i,
            retry = rq->argv[6].i, force = rq->argv[7].i, justid = rq->argv[8].i,
            haslast = rq->argv[9].i, max = rq->argv[12].i;
    if (min_idle < 0 || idle < -1 || time < -1 || retry < -1 || (force & ~1) || (justid & ~1) ||
        (haslast & ~1) || max < 0 || (idle >= 0 && time >= 0))
        return PC_EINVAL;
    const pc_val *g = &rq->argv[1], *c = &rq->argv[2];
    pcs_rec r;
    pcs_xgroup grp;
    pcs_xcons cons;
    int rc = x_group_of(w, pcs_key_arg(rq), &r, g, &grp);
    if (rc || (rc = touch_cons(w, &r, g, &grp, c, &cons)))
        return rc;
    if (haslast && pc_xid_cmp(lastid, grp.last) > 0)
        grp.last = lastid;
    uint64_t t = w->now;
    if (idle >= 0)
        t = (uint64_t)idle < w->now ? w->now - (uint64_t)idle : 0;
    else if (time >= 0)
        t = (uint64_t)time;
    size_t at = out->len, got = 0;
    pcs_out_int(out, 0);
    for (uint32_t i = XCLAIM_FIXED; i < rq->argc && got < (size_t)max; i += 2) {
        arg_id(rq, i, &id);
        pcs_xpel e;
        pc_xentry ent;
        pcs_view v = pcs_wview(w);
        rc = pcs_x_pel(&v, &r, g->s.ptr, g->s.len, id, &e);
        if (rc && rc != PC_ENOTFOUND)
            return rc;
        bool had = rc == 0;
        rc = pcs_x_entry(&v, &r, id, &ent);
        if (rc && rc != PC_ENOTFOUND)
            return rc;
        bool exists = rc == 0;
        rc = 0;
        if (!had && !(force && exists))
            continue;
        if (!exists) { /* gone from the stream: no longer pending */
            if ((rc = drop_pel(w, &r, g, &grp, id, &e, c, &cons)))
                return rc;
            continue;
        }
        if (had && min_idle && (w->now < e.time || w->now - e.time < (uint64_t)min_idle))
            continue;
        if ((rc = claim_one(w, &r, g, c, &cons, id, &e, had, t, retry, justid, &grp)) ||
            (rc = out_claimed(w, out, &r, id, justid)))
            return rc;
        got++;
    }
    if (got)
        cons.active = w->now;
    if ((rc = put_cons(w, r.gen, g, c->s.ptr, c->s.len, &cons)) ||
        (rc = put_group(w, r.gen, g, &grp)) || (rc = x_store(w, pcs_key_arg(rq), &r, &r)))
        return rc;
    if (!out->err)
        pcs_put_le64(out->data + at + 1, got);
    *nv = (uint32_t)(1 + 3 * got);
    return 0;
}

/*
 * xautoclaim: key, group, consumer, min idle, start ms, start seq, count,
 * justid.  Answers the next start, a count and the entries claimed, then a
 * count and the IDs of pending entries gone from the stream (dropped).
 */
int pcs_h_xautoclaim(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_xid start;
    if (arg_name(rq, 1) || arg_name(rq, 2) || !is_int(&rq->argv[3]) || arg_id(rq, 4, &start) ||
        !is_int(&rq->argv[6]) || !is_int(&rq->argv[7]))
        return PC_EINVAL;
    int64_t min_idle = rq->argv[3].i, count = rq->argv[6].i, justid = rq->argv[7].i;
    if (min_idle < 0 || count < 1 || count > (INT64_MAX / 10) || (justid & ~1))
        return PC_EINVAL;
    const pc_val *g = &rq->argv[1], *c = &rq->argv[2];
    pcs_rec r;
    pcs_xgroup grp;
    pcs_xcons cons;
    int rc = x_group_of(w, pcs_key_arg(rq), &r, g, &grp);
    if (rc || (rc = touch_cons(w, &r, g, &grp, c, &cons)))
        return rc;
    /* The IDs dropped are answered after the claimed entries: keep them. */
    pcs_buf_reset(&w->tmp2);
    size_t ndel = 0, got = 0;
    uint64_t attempts = (uint64_t)count * 10, left = (uint64_t)count;
    uint8_t kb[PCS_MKEY_MAX];
    size_t pl = pcs_xk_pel(kb, r.gen, g->s.ptr, g->s.len, pc_xid_make(0, 0)) - 16;
    pc_xid from = start, next = {0, 0};
    size_t hdr = out->len;
    out_id(out, next);
    size_t at = out->len;
    pcs_out_int(out, 0);
    bool more = true;
    while (more) {
        MDB_cursor *cur;
        if ((rc = open_cur(w, &cur)))
            return rc;
        MDB_val k = {pcs_xk_pel(kb, r.gen, g->s.ptr, g->s.len, from), kb}, d;
        int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        bool hit = !mrc && k.mv_size == pl + 16 && !memcmp(k.mv_data, kb, pl);
        pcs_xpel e;
        pc_xid id = {0, 0};
        if (hit) {
            id = pcs_xk_id(k.mv_data, k.mv_size);
            rc = pcs_xpel_dec(d.mv_data, d.mv_size, &e);
        }
        mdb_cursor_close(cur);
        if (rc)
            return rc;
        if (mrc && mrc != MDB_NOTFOUND)
            return pcs_w_fail(w, mrc);
        if (!hit)
            break;
        if (!attempts || !left) {
            next = id; /* where the next call resumes */
            break;
        }
        attempts--;
        more = pcs_xid_next(id, &from);
        pc_xentry ent;
        pcs_view v = pcs_wview(w);
        rc = pcs_x_entry(&v, &r, id, &ent);
        if (rc == PC_ENOTFOUND) {
            uint8_t ib[16];
            pcs_put_le64(ib, id.ms);
            pcs_put_le64(ib + 8, id.seq);
            pcs_buf_put(&w->tmp2, ib, 16);
            if (w->tmp2.err)
                return w->tmp2.err;
            if ((rc = drop_pel(w, &r, g, &grp, id, &e, c, &cons)))
                return rc;
            ndel++;
            left--;
            continue;
        }
        if (rc)
            return rc;
        if (min_idle && (w->now < e.time || w->now - e.time < (uint64_t)min_idle))
            continue;
        if ((rc = claim_one(w, &r, g, c, &cons, id, &e, true, w->now, -1, justid, &grp)) ||
            (rc = out_claimed(w, out, &r, id, justid)))
            return rc;
        got++;
        left--;
    }
    if (got)
        cons.active = w->now;
    if ((rc = put_cons(w, r.gen, g, c->s.ptr, c->s.len, &cons)) ||
        (rc = put_group(w, r.gen, g, &grp)) || (rc = x_store(w, pcs_key_arg(rq), &r, &r)))
        return rc;
    pcs_out_int(out, (int64_t)ndel);
    for (size_t i = 0; i < ndel; i++) {
        const uint8_t *ib = w->tmp2.data + 16 * i;
        out_id(out, pc_xid_make(pcs_le64(ib), pcs_le64(ib + 8)));
    }
    if (!out->err) {
        pcs_put_le64(out->data + hdr + 1, next.ms);
        pcs_put_le64(out->data + hdr + 10, next.seq);
        pcs_put_le64(out->data + at + 1, got);
    }
    *nv = (uint32_t)(2 + 1 + 3 * got + 1 + 2 * ndel);
    return 0;
}

/* ---- restoring (persist/snapshot.c) ---- */

int pcs_load_stream(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, pc_xid last,
                    pc_xid maxdel, uint64_t added, pcs_rec *r)
{
    int rc = pcs_load_key(w, key, klen);
    if (rc)
        return rc;
    if (pc_xid_cmp(maxdel, last) > 0)
        return PC_EINVAL;
    pcs_new_coll(w, r, PC_T_STREAM);
    r->expire_at = expire_at;
    r->xs_last = last;
    r->xs_maxdel = maxdel;
    r->xs_added = added;
    return 0;
}

int pcs_load_xentry(pcs_wctx *w, pcs_rec *r, pc_xid id, const pc_val *fv, size_t npairs)
{
    if (!w || !w->txn || !r || r->type != PC_T_STREAM || !fv || npairs == 0 ||
        npairs > PCS_ARGC_MAX / 2 || is_zero(id) || pc_xid_cmp(id, r->xs_last) > 0 ||
        r->count >= r->xs_added)
        return PC_EINVAL;
    int rc;
    for (size_t i = 0; i < 2 * npairs; i++)
        if ((rc = pcs_chk_elem(w, &fv[i])))
            return rc;
    size_t esz = pcs_xentry_size(fv, npairs);
    if (esz > w->st->max_value)
        return PC_ETOOBIG;
    /* In ID order: after every entry loaded so far. */
    if (r->count) {
        bool found;
        pc_xid at;
        if ((rc = first_from(w, r, id, &at, &found)))
            return rc;
        if (found)
            return PC_EINVAL;
    }
    pcs_buf_reset(&w->tmp);
    if (pcs_buf_reserve(&w->tmp, esz))
        return w->tmp.err;
    pcs_xentry_encode(w->tmp.data, fv, npairs);
    uint8_t kb[PCS_MKEY_MAX];
    if ((rc = pcs_w_put(w, w->sh->members, kb, pcs_xk_entry(kb, r->gen, id), w->tmp.data, esz)))
        return rc;
    if (r->count++ == 0)
        r->xs_first = id;
    return 0;
}

int pcs_load_xgroup(pcs_wctx *w, pcs_rec *r, const void *g, size_t glen, pc_xid last,
                    int64_t entries_read)
{
    if (!w || !w->txn || !r || r->type != PC_T_STREAM || !pcs_xname_ok(g, glen) ||
        entries_read < -1)
        return PC_EINVAL;
    pcs_view v = pcs_wview(w);
    pcs_xgroup grp = {.last = last, .entries_read = entries_read};
    int rc = pcs_x_group(&v, r, g, glen, &grp);
    if (rc != PC_ENOTFOUND)
        return rc ? rc : PC_EINVAL; /* twice */
    grp = (pcs_xgroup){.last = last, .entries_read = entries_read};
    pc_val gv = pc_mem(g, glen);
    r->xs_groups++;
    return put_group(w, r->gen, &gv, &grp);
}

int pcs_load_xconsumer(pcs_wctx *w, pcs_rec *r, const void *g, size_t glen, const void *c,
                       size_t clen, uint64_t seen, uint64_t active)
{
    if (!w || !w->txn || !r || r->type != PC_T_STREAM || !pcs_xname_ok(g, glen) ||
        !pcs_xname_ok(c, clen))
        return PC_EINVAL;
    pcs_view v = pcs_wview(w);
    pcs_xgroup grp;
    pcs_xcons cons;
    int rc = pcs_x_group(&v, r, g, glen, &grp);
    if (rc)
        return rc == PC_ENOTFOUND ? PC_EINVAL : rc;
    if ((rc = pcs_x_cons(&v, r, g, glen, c, clen, &cons)) != PC_ENOTFOUND)
        return rc ? rc : PC_EINVAL;
    cons = (pcs_xcons){.seen = seen, .active = active};
    grp.consumers++;
    pc_val gv = pc_mem(g, glen);
    if ((rc = put_cons(w, r->gen, &gv, c, clen, &cons)))
        return rc;
    return put_group(w, r->gen, &gv, &grp);
}

int pcs_load_xpending(pcs_wctx *w, pcs_rec *r, const void *g, size_t glen, pc_xid id, const void *c,
                      size_t clen, uint64_t time, uint64_t count)
{
    if (!w || !w->txn || !r || r->type != PC_T_STREAM || !pcs_xname_ok(g, glen) ||
        !pcs_xname_ok(c, clen) || is_zero(id) || pc_xid_cmp(id, r->xs_last) > 0)
        return PC_EINVAL;
    pcs_view v = pcs_wview(w);
    pcs_xgroup grp;
    pcs_xcons cons;
    pcs_xpel e;
    int rc = pcs_x_group(&v, r, g, glen, &grp);
    if (rc || (rc = pcs_x_cons(&v, r, g, glen, c, clen, &cons)))
        return rc == PC_ENOTFOUND ? PC_EINVAL : rc;
    if ((rc = pcs_x_pel(&v, r, g, glen, id, &e)) != PC_ENOTFOUND)
        return rc ? rc : PC_EINVAL;
    grp.pending++;
    cons.pending++;
    pc_val gv = pc_mem(g, glen);
    if ((rc = put_pel(w, r->gen, &gv, id, time, count, c, clen)) ||
        (rc = put_cons(w, r->gen, &gv, c, clen, &cons)))
        return rc;
    return put_group(w, r->gen, &gv, &grp);
}
