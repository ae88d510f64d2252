/*
 * reader_stream.c - the zero-copy reads of Streams (issue 17): XLEN and
 * XINFO STREAM, XRANGE, XPENDING, XINFO GROUPS and CONSUMERS, over a
 * reader (reader.h).  Zero-copy client reads and the daemon's answers to
 * ring-only clients both call them.
 */
#include <string.h>

#include "bytes.h"
#include "reader.h"
#include "stream.h"

/* The stream under key and a members cursor in its shard. */
static int x_open(pcs_reader *r, const void *key, size_t klen, pcs_view *v, pcs_rec *rec,
                  MDB_cursor **cur)
{
    unsigned s;
    int rc = pcs_reader_rec(r, key, klen, PC_T_STREAM, v, rec, &s);
    if (rc || !cur)
        return rc;
    return pcs_reader_cursor(r, s, cur);
}

int pcs_rd_xinfo(pcs_reader *r, const void *key, size_t klen, pc_xinfo *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = x_open(r, key, klen, &v, &rec, NULL);
    if (!rc)
        pcs_x_info(&rec, out);
    return rc;
}

int pcs_rd_xrange(pcs_reader *r, const void *key, size_t klen, pc_xid lo, pc_xid hi, bool rev,
                  pc_xentry *out, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *cur;
    *n = 0;
    int rc = x_open(r, key, klen, &v, &rec, &cur);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    return pcs_x_range(cur, &rec, lo, hi, rev, out, max, n);
}

/* Position cur on the first member at or after k[0..kl) that starts with
 * pfx[0..pl) (MDB_SET_RANGE, or MDB_NEXT when next): 0 with *hit. */
static int seek_pfx(MDB_cursor *cur, const uint8_t *k, size_t kl, const uint8_t *pfx, size_t pl,
                    bool next, MDB_val *mk, MDB_val *md, bool *hit)
{
    int mrc;
    if (next) {
        mrc = mdb_cursor_get(cur, mk, md, MDB_NEXT);
    } else {
        mk->mv_size = kl;
        mk->mv_data = (void *)k;
        mrc = mdb_cursor_get(cur, mk, md, MDB_SET_RANGE);
    }
    *hit = !mrc && mk->mv_size >= pl && !memcmp(mk->mv_data, pfx, pl);
    return mrc && mrc != MDB_NOTFOUND ? pcs_mdb_err(mrc) : 0;
}

int pcs_rd_xpending_summary(pcs_reader *r, const void *key, size_t klen, const void *g, size_t glen,
                            pc_xpending_info *out, pc_bytes *names, uint64_t *counts, size_t max,
                            size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *cur;
    pcs_xgroup grp;
    *n = 0;
    memset(out, 0, sizeof *out);
    int rc = x_open(r, key, klen, &v, &rec, &cur);
    if (rc || (rc = pcs_x_group(&v, &rec, g, glen, &grp)))
        return rc;
    out->count = grp.pending;
    uint8_t kb[PCS_MKEY_MAX], pfx[PCS_MKEY_MAX];
    size_t pl = pcs_xk_pel(pfx, rec.gen, g, glen, pc_xid_make(0, 0)) - 16;
    MDB_val k, d;
    bool hit;
    if ((rc = seek_pfx(cur, pfx, pl, pfx, pl, false, &k, &d, &hit)))
        return rc;
    if (hit) {
        out->min = pcs_xk_id(k.mv_data, k.mv_size);
        size_t kl = pcs_xk_pel(kb, rec.gen, g, glen, pc_xid_max());
        k.mv_size = kl;
        k.mv_data = kb;
        int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (mrc == MDB_NOTFOUND)
            mrc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
        else if (!mrc && (k.mv_size != kl || memcmp(k.mv_data, kb, kl)))
            mrc = mdb_cursor_get(cur, &k, &d, MDB_PREV);
        if (mrc)
            return mrc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(mrc);
        if (k.mv_size != pl + 16 || memcmp(k.mv_data, pfx, pl))
            return PC_ECORRUPT;
        out->max = pcs_xk_id(k.mv_data, k.mv_size);
    }
    size_t cl = pcs_xk_cons(pfx, rec.gen, g, glen, "", 0);
    bool next = false;
    for (;;) {
        if ((rc = seek_pfx(cur, pfx, cl, pfx, cl, next, &k, &d, &hit)) || !hit)
            break;
        next = true;
        pcs_xcons c;
        if ((rc = pcs_xcons_dec(d.mv_data, d.mv_size, &c)))
            break;
        if (!c.pending)
            continue;
        if (*n < max) {
            if (names)
                names[*n] = pc_b((const uint8_t *)k.mv_data + cl, k.mv_size - cl);
            if (counts)
                counts[*n] = c.pending;
            (*n)++;
        }
        out->consumers++;
    }
    return rc;
}

int pcs_rd_xpending(pcs_reader *r, const void *key, size_t klen, const void *g, size_t glen,
                    pc_xid lo, pc_xid hi, int64_t min_idle, const void *c, size_t clen,
                    pc_xpending_entry *out, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *cur;
    pcs_xgroup grp;
    *n = 0;
    int rc = x_open(r, key, klen, &v, &rec, &cur);
    if (rc || (rc = pcs_x_group(&v, &rec, g, glen, &grp)))
        return rc;
    if (pc_xid_cmp(lo, hi) > 0 || max == 0)
        return 0;
    uint8_t kb[PCS_MKEY_MAX];
    size_t kl = pcs_xk_pel(kb, rec.gen, g, glen, lo), pl = kl - 16;
    MDB_val k, d;
    bool hit, next = false;
    while (*n < max) {
        if ((rc = seek_pfx(cur, kb, kl, kb, pl, next, &k, &d, &hit)) || !hit)
            break;
        next = true;
        pc_xid id = pcs_xk_id(k.mv_data, k.mv_size);
        if (k.mv_size != kl || pc_xid_cmp(id, hi) > 0)
            break;
        pcs_xpel e;
        if ((rc = pcs_xpel_dec(d.mv_data, d.mv_size, &e)))
            break;
        int64_t idle = v.now > e.time ? (int64_t)(v.now - e.time) : 0;
        if (idle < min_idle || (c && (e.consumer.len != clen || memcmp(e.consumer.ptr, c, clen))))
            continue;
        pc_xpending_entry *o = &out[(*n)++];
        o->id = id;
        o->consumer = e.consumer;
        o->idle_ms = idle;
        o->deliveries = e.count;
    }
    return rc;
}

int pcs_rd_xgroups(pcs_reader *r, const void *key, size_t klen, pc_xgroup_info *out, size_t max,
                   size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *cur;
    *n = 0;
    int rc = x_open(r, key, klen, &v, &rec, &cur);
    if (rc)
        return rc;
    uint8_t pfx[PCS_MKEY_MAX];
    size_t pl = pcs_xk_group(pfx, rec.gen, "", 0);
    MDB_val k, d;
    bool hit, next = false;
    while (*n < max) {
        if ((rc = seek_pfx(cur, pfx, pl, pfx, pl, next, &k, &d, &hit)) || !hit)
            break;
        next = true;
        pcs_xgroup g;
        if (k.mv_size == pl || (rc = pcs_xgroup_dec(d.mv_data, d.mv_size, &g)))
            return rc ? rc : PC_ECORRUPT;
        pc_xgroup_info *o = &out[(*n)++];
        o->name = pc_b((const uint8_t *)k.mv_data + pl, k.mv_size - pl);
        o->consumers = g.consumers;
        o->pending = g.pending;
        o->last_delivered = g.last;
        o->entries_read = g.entries_read;
        o->lag = pcs_x_lag(&rec, &g);
    }
    return rc;
}

int pcs_rd_xconsumers(pcs_reader *r, const void *key, size_t klen, const void *g, size_t glen,
                      pc_xconsumer_info *out, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *cur;
    pcs_xgroup grp;
    *n = 0;
    int rc = x_open(r, key, klen, &v, &rec, &cur);
    if (rc || (rc = pcs_x_group(&v, &rec, g, glen, &grp)))
        return rc;
    uint8_t pfx[PCS_MKEY_MAX];
    size_t pl = pcs_xk_cons(pfx, rec.gen, g, glen, "", 0);
    MDB_val k, d;
    bool hit, next = false;
    while (*n < max) {
        if ((rc = seek_pfx(cur, pfx, pl, pfx, pl, next, &k, &d, &hit)) || !hit)
            break;
        next = true;
        pcs_xcons c;
        if (k.mv_size == pl || (rc = pcs_xcons_dec(d.mv_data, d.mv_size, &c)))
            return rc ? rc : PC_ECORRUPT;
        pc_xconsumer_info *o = &out[(*n)++];
        o->name = pc_b((const uint8_t *)k.mv_data + pl, k.mv_size - pl);
        o->pending = c.pending;
        o->idle_ms = v.now > c.seen ? (int64_t)(v.now - c.seen) : 0;
        o->inactive_ms = !c.active ? -1 : v.now > c.active ? (int64_t)(v.now - c.active) : 0;
    }
    return rc;
}
