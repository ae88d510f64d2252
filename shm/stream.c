/*
 * stream.c - a Stream's keys, entries, groups, pending entries and
 * consumers (stream.h), and the view-level reads its writers and readers
 * share.
 */
#include "stream.h"

#include <string.h>

#include "bytes.h"
#include "store.h"

bool pcs_xid_next(pc_xid id, pc_xid *out)
{
    if (id.seq != UINT64_MAX) {
        *out = pc_xid_make(id.ms, id.seq + 1);
        return true;
    }
    if (id.ms == UINT64_MAX)
        return false;
    *out = pc_xid_make(id.ms + 1, 0);
    return true;
}

bool pcs_xid_prev(pc_xid id, pc_xid *out)
{
    if (id.seq != 0) {
        *out = pc_xid_make(id.ms, id.seq - 1);
        return true;
    }
    if (id.ms == 0)
        return false;
    *out = pc_xid_make(id.ms - 1, UINT64_MAX);
    return true;
}

static size_t put_id(uint8_t *p, pc_xid id)
{
    pcs_put_be64(p, id.ms);
    pcs_put_be64(p + 8, id.seq);
    return 16;
}

size_t pcs_xk_entry(uint8_t *out, uint64_t gen, pc_xid id)
{
    pcs_put_be64(out, gen);
    out[8] = PCS_XT_ENTRY;
    return 9 + put_id(out + 9, id);
}

size_t pcs_xk_group(uint8_t *out, uint64_t gen, const void *g, size_t glen)
{
    pcs_put_be64(out, gen);
    out[8] = PCS_XT_GROUP;
    memcpy(out + 9, g, glen);
    return 9 + glen;
}

/* gen ‖ tag ‖ u8 glen ‖ g */
static size_t group_pfx(uint8_t *out, uint64_t gen, uint8_t tag, const void *g, size_t glen)
{
    pcs_put_be64(out, gen);
    out[8] = tag;
    out[9] = (uint8_t)glen;
    memcpy(out + 10, g, glen);
    return 10 + glen;
}

size_t pcs_xk_pel(uint8_t *out, uint64_t gen, const void *g, size_t glen, pc_xid id)
{
    size_t n = group_pfx(out, gen, PCS_XT_PEL, g, glen);
    return n + put_id(out + n, id);
}

size_t pcs_xk_cons(uint8_t *out, uint64_t gen, const void *g, size_t glen, const void *c,
                   size_t clen)
{
    size_t n = group_pfx(out, gen, PCS_XT_CONS, g, glen);
    memcpy(out + n, c, clen);
    return n + clen;
}

pc_xid pcs_xk_id(const void *k, size_t n)
{
    const uint8_t *b = (const uint8_t *)k + n - 16;
    return pc_xid_make(pcs_be64(b), pcs_be64(b + 8));
}

/* ---- entries ---- */

size_t pcs_xentry_size(const pc_val *fv, size_t npairs)
{
    size_t n = 4;
    for (size_t i = 0; i < 2 * npairs; i++)
        n += 4 + pcs_elem_size(&fv[i]);
    return n;
}

void pcs_xentry_encode(uint8_t *out, const pc_val *fv, size_t npairs)
{
    pcs_put_le32(out, (uint32_t)npairs);
    out += 4;
    for (size_t i = 0; i < 2 * npairs; i++) {
        size_t n = pcs_elem_size(&fv[i]);
        pcs_put_le32(out, (uint32_t)n);
        pcs_elem_encode(out + 4, &fv[i]);
        out += 4 + n;
    }
}

int pcs_xentry_decode(const void *p, size_t n, pc_val *fv, size_t max, size_t *npairs)
{
    const uint8_t *b = p, *end = b + n;
    size_t got = 0;
    if (n < 4)
        return PC_ECORRUPT;
    uint32_t pairs = pcs_le32(b);
    b += 4;
    for (uint32_t i = 0; i < 2 * (uint64_t)pairs; i++) {
        if (end - b < 4)
            return PC_ECORRUPT;
        uint32_t l = pcs_le32(b);
        b += 4;
        if ((size_t)(end - b) < l || l == 0)
            return PC_ECORRUPT;
        pc_val v;
        int rc = pcs_elem_decode(b, l, &v);
        if (rc)
            return rc;
        if (fv && i / 2 < max / 2) {
            fv[i] = v;
            got = i / 2 + 1;
        }
        b += l;
    }
    if (b != end || pairs == 0)
        return PC_ECORRUPT;
    if (npairs)
        *npairs = fv ? got : pairs;
    return 0;
}

int pcs_xentry_check(const void *p, size_t n, size_t *npairs)
{
    return pcs_xentry_decode(p, n, NULL, 0, npairs);
}

/* ---- groups, pending entries, consumers ---- */

int pcs_xgroup_dec(const void *p, size_t n, pcs_xgroup *g)
{
    const uint8_t *b = p;
    if (n != PCS_XGROUP_LEN)
        return PC_ECORRUPT;
    g->last = pc_xid_make(pcs_le64(b), pcs_le64(b + 8));
    g->entries_read = (int64_t)pcs_le64(b + 16);
    g->pending = pcs_le64(b + 24);
    g->consumers = pcs_le64(b + 32);
    return g->entries_read < -1 ? PC_ECORRUPT : 0;
}

void pcs_xgroup_enc(uint8_t *p, const pcs_xgroup *g)
{
    pcs_put_le64(p, g->last.ms);
    pcs_put_le64(p + 8, g->last.seq);
    pcs_put_le64(p + 16, (uint64_t)g->entries_read);
    pcs_put_le64(p + 24, g->pending);
    pcs_put_le64(p + 32, g->consumers);
}

int pcs_xpel_dec(const void *p, size_t n, pcs_xpel *e)
{
    const uint8_t *b = p;
    if (n < PCS_XPEL_FIXED + 1 || n > PCS_XPEL_FIXED + PC_XNAME_MAX)
        return PC_ECORRUPT;
    e->time = pcs_le64(b);
    e->count = pcs_le64(b + 8);
    e->consumer = pc_b(b + PCS_XPEL_FIXED, n - PCS_XPEL_FIXED);
    return 0;
}

int pcs_xcons_dec(const void *p, size_t n, pcs_xcons *c)
{
    const uint8_t *b = p;
    if (n != PCS_XCONS_LEN)
        return PC_ECORRUPT;
    c->seen = pcs_le64(b);
    c->active = pcs_le64(b + 8);
    c->pending = pcs_le64(b + 16);
    return 0;
}

void pcs_xcons_enc(uint8_t *p, const pcs_xcons *c)
{
    pcs_put_le64(p, c->seen);
    pcs_put_le64(p + 8, c->active);
    pcs_put_le64(p + 16, c->pending);
}

/* ---- reads on a view ---- */

/* An entry of the cursor's key k and data d into out. */
static int entry_at(const MDB_val *k, const MDB_val *d, pc_xentry *out)
{
    size_t np;
    int rc = pcs_xentry_check(d->mv_data, d->mv_size, &np);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->id = pcs_xk_id(k->mv_data, k->mv_size);
    out->npairs = np;
    out->raw = d->mv_data;
    out->rawlen = d->mv_size;
    return 0;
}

/* Is k an entry key of gen? */
static bool is_entry(const MDB_val *k, uint64_t gen)
{
    const uint8_t *b = k->mv_data;
    return k->mv_size == 25 && pcs_be64(b) == gen && b[8] == PCS_XT_ENTRY;
}

int pcs_x_range(MDB_cursor *cur, const pcs_rec *r, pc_xid lo, pc_xid hi, bool rev, pc_xentry *out,
                size_t max, size_t *n)
{
    *n = 0;
    if (pc_xid_cmp(lo, hi) > 0 || max == 0 || r->count == 0)
        return 0;
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_xk_entry(kb, r->gen, rev ? hi : lo), kb}, d;
    int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rev) {
        /* At hi itself, or step back from the first key after it. */
        if (mrc == MDB_NOTFOUND)
            mrc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
        else if (!mrc &&
                 !(is_entry(&k, r->gen) && pc_xid_cmp(pcs_xk_id(k.mv_data, k.mv_size), hi) <= 0))
            mrc = mdb_cursor_get(cur, &k, &d, MDB_PREV);
    }
    while (!mrc && *n < max && is_entry(&k, r->gen)) {
        pc_xid id = pcs_xk_id(k.mv_data, k.mv_size);
        if (rev ? pc_xid_cmp(id, lo) < 0 : pc_xid_cmp(id, hi) > 0)
            break;
        int rc = entry_at(&k, &d, &out[*n]);
        if (rc)
            return rc;
        (*n)++;
        mrc = mdb_cursor_get(cur, &k, &d, rev ? MDB_PREV : MDB_NEXT);
    }
    return mrc && mrc != MDB_NOTFOUND ? pcs_mdb_err(mrc) : 0;
}

/* mdb_get of a member key: 0, PC_ENOTFOUND or an error. */
static int mget(const pcs_view *v, const uint8_t *kb, size_t kl, MDB_val *d)
{
    MDB_val k = {kl, (void *)kb};
    int rc = mdb_get(v->txn, v->sh->members, &k, d);
    return rc ? pcs_mdb_err(rc) : 0;
}

int pcs_x_entry(const pcs_view *v, const pcs_rec *r, pc_xid id, pc_xentry *out)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_xk_entry(kb, r->gen, id), kb}, d;
    int rc = mget(v, kb, k.mv_size, &d);
    return rc ? rc : entry_at(&k, &d, out);
}

int pcs_x_group(const pcs_view *v, const pcs_rec *r, const void *g, size_t glen, pcs_xgroup *out)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val d;
    int rc = mget(v, kb, pcs_xk_group(kb, r->gen, g, glen), &d);
    return rc ? rc : pcs_xgroup_dec(d.mv_data, d.mv_size, out);
}

int pcs_x_cons(const pcs_view *v, const pcs_rec *r, const void *g, size_t glen, const void *c,
               size_t clen, pcs_xcons *out)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val d;
    int rc = mget(v, kb, pcs_xk_cons(kb, r->gen, g, glen, c, clen), &d);
    return rc ? rc : pcs_xcons_dec(d.mv_data, d.mv_size, out);
}

int pcs_x_pel(const pcs_view *v, const pcs_rec *r, const void *g, size_t glen, pc_xid id,
              pcs_xpel *out)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val d;
    int rc = mget(v, kb, pcs_xk_pel(kb, r->gen, g, glen, id), &d);
    return rc ? rc : pcs_xpel_dec(d.mv_data, d.mv_size, out);
}

static bool is_zero(pc_xid id)
{
    return id.ms == 0 && id.seq == 0;
}

int64_t pcs_x_estimate(const pcs_rec *r, pc_xid id)
{
    if (!r->xs_added)
        return 0;
    if (!r->count && pc_xid_cmp(id, r->xs_last) <= 0)
        return (int64_t)r->xs_added;
    int cl = pc_xid_cmp(id, r->xs_last);
    if (cl == 0)
        return (int64_t)r->xs_added;
    if (cl > 0)
        return -1;
    int cf = pc_xid_cmp(id, r->xs_first);
    if (is_zero(r->xs_maxdel) || pc_xid_cmp(r->xs_maxdel, r->xs_first) < 0) {
        if (cf < 0)
            return (int64_t)(r->xs_added - r->count);
        if (cf == 0)
            return (int64_t)(r->xs_added - r->count + 1);
    }
    return -1;
}

int64_t pcs_x_lag(const pcs_rec *r, const pcs_xgroup *g)
{
    if (!r->xs_added)
        return 0;
    /* Deletions after the group's position make its counter unreliable. */
    bool tomb = !is_zero(r->xs_maxdel) && pc_xid_cmp(r->xs_maxdel, g->last) >= 0;
    if (g->entries_read >= 0 && !tomb)
        return (int64_t)r->xs_added - g->entries_read;
    int64_t e = pcs_x_estimate(r, g->last);
    return e < 0 ? -1 : (int64_t)r->xs_added - e;
}

void pcs_x_info(const pcs_rec *r, pc_xinfo *out)
{
    memset(out, 0, sizeof *out);
    out->length = r->count;
    out->last_id = r->xs_last;
    out->first_id = r->count ? r->xs_first : pc_xid_make(0, 0);
    out->max_deleted_id = r->xs_maxdel;
    out->entries_added = r->xs_added;
    out->groups = r->xs_groups;
}
