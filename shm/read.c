/*
 * read.c - the read path.  Everything read from the map is checked before
 * it is used: a malformed record is PC_ECORRUPT, never a crash.
 */
#include "read.h"

#include <fnmatch.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "bytes.h"

bool pcs_norm_range(int64_t start, int64_t stop, uint64_t count, uint64_t *from, uint64_t *to)
{
    if (count == 0 || count > INT64_MAX)
        return false;
    int64_t n = (int64_t)count;
    if (start < 0)
        start = start < -n ? 0 : start + n;
    if (stop < 0) {
        if (stop < -n)
            return false;
        stop += n;
    }
    if (stop >= n)
        stop = n - 1;
    if (start > stop)
        return false;
    *from = (uint64_t)start;
    *to = (uint64_t)stop;
    return true;
}

bool pcs_norm_index(int64_t index, uint64_t count, uint64_t *pos)
{
    if (count > INT64_MAX)
        return false;
    int64_t n = (int64_t)count;
    if (index < 0)
        index += n;
    if (index < 0 || index >= n)
        return false;
    *pos = (uint64_t)index;
    return true;
}

int pcs_seq_get(const pcs_view *v, const pcs_rec *r, uint64_t pos, pc_val *out)
{
    uint8_t kb[PCS_MKEY_MAX];
    if (pos >= r->count)
        return PC_ERANGE;
    MDB_val k = {pcs_mkey_pos(kb, r->gen, r->head + pos), kb}, d;
    int rc = mdb_get(v->txn, v->sh->members, &k, &d);
    if (rc)
        return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
    return pcs_elem_decode(d.mv_data, d.mv_size, out);
}

int pcs_seq_range(const pcs_view *v, MDB_cursor *cur, const pcs_rec *r, uint64_t from, uint64_t to,
                  pc_val *out, size_t max, size_t *n)
{
    (void)v;
    *n = 0;
    if (from > to || to >= r->count || max == 0)
        return 0;
    uint8_t kb[PCS_MKEY_MAX];
    uint64_t want = to - from + 1;
    if (want > max)
        want = max;
    MDB_val k = {pcs_mkey_pos(kb, r->gen, r->head + from), kb}, d;
    int rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
    for (uint64_t i = 0; i < want; i++) {
        if (rc)
            return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
        /* Positions are contiguous: each key must be the next position. */
        if (k.mv_size != 16 || pcs_be64(k.mv_data) != r->gen ||
            pcs_be64((uint8_t *)k.mv_data + 8) != r->head + from + i)
            return PC_ECORRUPT;
        if ((rc = pcs_elem_decode(d.mv_data, d.mv_size, &out[i])))
            return rc;
        (*n)++;
        if (i + 1 < want)
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    return 0;
}

int pcs_map_entry(const MDB_val *k, const MDB_val *d, pc_bytes *field, pc_val *val)
{
    const uint8_t *e = d->mv_data;
    size_t n = d->mv_size;
    if (k->mv_size < PCS_GEN_LEN || k->mv_size > PCS_MKEY_MAX)
        return PC_ECORRUPT;
    if (k->mv_size == PCS_MKEY_MAX) {
        /* Long field: u32 length, the field, then the tagged value. */
        if (n < 4)
            return PC_ECORRUPT;
        uint32_t flen = pcs_le32(e);
        if (flen < PCS_SUB_INLINE || flen > n - 4)
            return PC_ECORRUPT;
        field->ptr = e + 4;
        field->len = flen;
        e += 4 + flen;
        n -= 4 + (size_t)flen;
    } else {
        field->ptr = (const uint8_t *)k->mv_data + PCS_GEN_LEN;
        field->len = k->mv_size - PCS_GEN_LEN;
    }
    return pcs_elem_decode(e, n, val);
}

int pcs_set_entry(const MDB_val *k, const MDB_val *d, pc_val *member)
{
    if (k->mv_size <= PCS_GEN_LEN || k->mv_size > PCS_MKEY_MAX)
        return PC_ECORRUPT;
    if (k->mv_size == PCS_MKEY_MAX) {
        if (d->mv_size < PCS_SUB_INLINE)
            return PC_ECORRUPT;
        return pcs_member_decode(d->mv_data, d->mv_size, member);
    }
    if (d->mv_size != 0)
        return PC_ECORRUPT;
    return pcs_member_decode((const uint8_t *)k->mv_data + PCS_GEN_LEN, k->mv_size - PCS_GEN_LEN,
                             member);
}

int pcs_map_get(const pcs_view *v, const pcs_rec *r, const void *f, size_t flen, pc_val *out,
                bool *collide)
{
    uint8_t kb[PCS_MKEY_MAX];
    bool is_long;
    MDB_val k = {pcs_mkey_sub(kb, r->gen, f, flen, &is_long), kb}, d;
    if (collide)
        *collide = false;
    int rc = mdb_get(v->txn, v->sh->members, &k, &d);
    if (rc)
        return pcs_mdb_err(rc);
    pc_bytes field;
    if ((rc = pcs_map_entry(&k, &d, &field, out)))
        return rc;
    if (is_long && (field.len != flen || memcmp(field.ptr, f, flen) != 0)) {
        if (collide)
            *collide = true;
        return PC_ENOTFOUND;
    }
    return 0;
}

/* Encode m as a set member into buf (grown as needed); returns its length. */
static int member_bytes(const pc_val *m, pcs_buf *buf, size_t *len)
{
    size_t need = pcs_member_size(m);
    buf->len = 0;
    if (pcs_buf_reserve(buf, need))
        return buf->err;
    pcs_member_encode(buf->data, m);
    *len = need;
    return 0;
}

int pcs_set_has(const pcs_view *v, const pcs_rec *r, const pc_val *m, bool *out, bool *collide)
{
    uint8_t small[PCS_SUB_INLINE];
    pcs_buf big = PCS_BUF_INIT;
    const uint8_t *enc = small;
    size_t elen = pcs_member_size(m);
    if (collide)
        *collide = false;
    if (elen <= sizeof small) {
        pcs_member_encode(small, m);
    } else {
        int rc = member_bytes(m, &big, &elen);
        if (rc)
            return rc;
        enc = big.data;
    }
    uint8_t kb[PCS_MKEY_MAX];
    bool is_long;
    MDB_val k = {pcs_mkey_sub(kb, r->gen, enc, elen, &is_long), kb}, d;
    int rc = mdb_get(v->txn, v->sh->members, &k, &d);
    *out = false;
    if (rc == MDB_NOTFOUND) {
        rc = 0;
    } else if (rc) {
        rc = pcs_mdb_err(rc);
    } else if (is_long) {
        *out = d.mv_size == elen && !memcmp(d.mv_data, enc, elen);
        if (!*out && collide)
            *collide = true;
    } else {
        *out = true;
    }
    pcs_buf_free(&big);
    return rc;
}

uint64_t pcs_rng_next(uint64_t *state)
{
    /* xorshift64*: good enough to pick members and keys, not for secrets */
    uint64_t x = *state ? *state : 88172645463325252ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

/* Does k start with pfx[0..plen)? */
static bool has_prefix(const MDB_val *k, const uint8_t *pfx, size_t plen)
{
    return k->mv_size >= plen && !memcmp(k->mv_data, pfx, plen);
}

/* Position cur on the last entry that starts with pfx[0..plen) (plen 0: the
 * last of all).  0, PC_ENOTFOUND, or an LMDB failure. */
static int range_last(MDB_cursor *cur, const uint8_t *pfx, size_t plen, MDB_val *k, MDB_val *d)
{
    uint8_t up[PCS_PICK_KEY_MAX];
    int rc;
    memcpy(up, pfx, plen);
    size_t i = plen;
    while (i > 0 && ++up[i - 1] == 0) /* the first prefix after pfx */
        i--;
    if (i == 0) {
        rc = mdb_cursor_get(cur, k, d, MDB_LAST);
    } else {
        k->mv_size = i;
        k->mv_data = up;
        rc = mdb_cursor_get(cur, k, d, MDB_SET_RANGE);
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, k, d, MDB_LAST)
             : rc               ? rc
                                : mdb_cursor_get(cur, k, d, MDB_PREV);
    }
    if (rc)
        return rc == MDB_NOTFOUND ? PC_ENOTFOUND : pcs_mdb_err(rc);
    return has_prefix(k, pfx, plen) ? 0 : PC_ENOTFOUND;
}

/* Position cur on the first entry that starts with pfx[0..plen). */
static int range_first(MDB_cursor *cur, const uint8_t *pfx, size_t plen, MDB_val *k, MDB_val *d)
{
    k->mv_size = plen;
    k->mv_data = (void *)pfx;
    int rc = plen ? mdb_cursor_get(cur, k, d, MDB_SET_RANGE) : mdb_cursor_get(cur, k, d, MDB_FIRST);
    if (rc)
        return rc == MDB_NOTFOUND ? PC_ENOTFOUND : pcs_mdb_err(rc);
    return has_prefix(k, pfx, plen) ? 0 : PC_ENOTFOUND;
}

int pcs_range_pick(MDB_cursor *cur, const uint8_t *pfx, size_t plen, uint64_t count, size_t kmax,
                   uint64_t *rng, MDB_val *k, MDB_val *d)
{
    uint8_t lo[PCS_PICK_KEY_MAX], hi[PCS_PICK_KEY_MAX];
    if (plen > 8 || kmax > PCS_PICK_KEY_MAX || kmax <= plen)
        return PC_EINVAL;
    MDB_val fk;
    int rc = range_first(cur, pfx, plen, &fk, d);
    if (rc)
        return rc;
    if (count <= PCS_PICK_EXACT) { /* small: an exact uniform pick by rank */
        uint64_t skip = count ? pcs_rng_next(rng) % count : 0;
        *k = fk;
        for (uint64_t i = 0; i < skip; i++)
            if ((rc = mdb_cursor_get(cur, k, d, MDB_NEXT)))
                return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
        return has_prefix(k, pfx, plen) ? 0 : PC_ECORRUPT;
    }
    /*
     * Large: walk down the keys' byte tree.  lo and hi are the first and
     * the last key of the range, which share their first c bytes; pick a
     * byte value between theirs at byte c, go to the first key at or above
     * it, and narrow the range to the keys that share its first c + 1
     * bytes.  Each step costs two seeks and lengthens the shared part.
     */
    if (fk.mv_size > kmax)
        return PC_ECORRUPT;
    size_t llen = fk.mv_size, hlen, c = plen;
    memcpy(lo, fk.mv_data, llen);
    MDB_val hk;
    if ((rc = range_last(cur, pfx, plen, &hk, d)))
        return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    if ((hlen = hk.mv_size) > kmax)
        return PC_ECORRUPT;
    memcpy(hi, hk.mv_data, hlen);
    for (;;) {
        while (c < llen && c < hlen && lo[c] == hi[c])
            c++;
        if (c >= hlen || (c == llen && c == hlen))
            break; /* one key left (hi is never shorter than a key below it) */
        /* lo may end at byte c: it counts as a byte value below hi's */
        unsigned a = c < llen ? lo[c] : 0, b = hi[c];
        unsigned pick = a + (unsigned)(pcs_rng_next(rng) % (b - a + 1));
        if (c == llen && pick == a)
            break; /* lo itself */
        uint8_t probe[PCS_PICK_KEY_MAX];
        memcpy(probe, lo, c);
        probe[c] = (uint8_t)pick;
        MDB_val pk;
        if ((rc = range_first(cur, probe, c + 1, &pk, d)) && rc != PC_ENOTFOUND)
            return rc;
        if (rc) { /* no key has that byte there: the first one above it */
            pk.mv_size = c + 1;
            pk.mv_data = probe;
            if ((rc = mdb_cursor_get(cur, &pk, d, MDB_SET_RANGE)))
                return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
        }
        if (pk.mv_size <= c || pk.mv_size > kmax || memcmp(pk.mv_data, lo, c))
            return PC_ECORRUPT;
        llen = pk.mv_size;
        memcpy(lo, pk.mv_data, llen);
        if ((rc = range_last(cur, lo, c + 1, &hk, d)))
            return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
        if ((hlen = hk.mv_size) > kmax)
            return PC_ECORRUPT;
        memcpy(hi, hk.mv_data, hlen);
        c++;
    }
    MDB_val rk = {llen, lo};
    if ((rc = mdb_cursor_get(cur, &rk, d, MDB_SET_KEY)))
        return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
    *k = rk;
    return 0;
}

/*
 * Position cur on the first member of gen strictly after the position kept
 * in pc (or the first member when pc has not started).  Returns 0 with k/d
 * set, PC_ENOTFOUND when gen has no more members.
 */
static int members_after(MDB_cursor *cur, uint64_t gen, const pc_cursor *pc, MDB_val *k, MDB_val *d)
{
    uint8_t kb[PCS_MKEY_MAX];
    pcs_put_be64(kb, gen);
    size_t plen = pc->started ? pc->len : 0;
    if (plen > PCS_SUB_INLINE)
        return PC_EINVAL;
    memcpy(kb + PCS_GEN_LEN, pc->pos, plen);
    k->mv_size = PCS_GEN_LEN + plen;
    k->mv_data = kb;
    int rc = mdb_cursor_get(cur, k, d, MDB_SET_RANGE);
    if (!rc && pc->started && k->mv_size == PCS_GEN_LEN + plen &&
        !memcmp(k->mv_data, kb, k->mv_size))
        rc = mdb_cursor_get(cur, k, d, MDB_NEXT);
    if (rc)
        return rc == MDB_NOTFOUND ? PC_ENOTFOUND : pcs_mdb_err(rc);
    if (k->mv_size < PCS_GEN_LEN || pcs_be64(k->mv_data) != gen)
        return PC_ENOTFOUND;
    return 0;
}

static void cursor_keep(pc_cursor *pc, const MDB_val *k, size_t skip)
{
    pc->started = 1;
    pc->len = (uint16_t)(k->mv_size - skip);
    memcpy(pc->pos, (const uint8_t *)k->mv_data + skip, pc->len);
}

/* Shared loop of pcs_map_scan and pcs_set_scan. */
static int coll_scan(const pcs_rec *r, MDB_cursor *cur, pc_cursor *pc, size_t max, size_t *n,
                     int (*take)(const MDB_val *, const MDB_val *, size_t, void *), void *arg)
{
    *n = 0;
    if (pc->done)
        return 0;
    MDB_val k, d;
    while (*n < max) {
        int rc = members_after(cur, r->gen, pc, &k, &d);
        if (rc == PC_ENOTFOUND) {
            pc->done = true;
            return 0;
        }
        if (rc || (rc = take(&k, &d, *n, arg)))
            return rc;
        cursor_keep(pc, &k, PCS_GEN_LEN);
        (*n)++;
    }
    return 0;
}

struct map_out {
    pc_bytes *fields;
    pc_val *vals;
};

static int take_map(const MDB_val *k, const MDB_val *d, size_t i, void *arg)
{
    struct map_out *o = arg;
    pc_bytes f;
    pc_val v;
    int rc = pcs_map_entry(k, d, &f, &v);
    if (rc)
        return rc;
    if (o->fields)
        o->fields[i] = f;
    if (o->vals)
        o->vals[i] = v;
    return 0;
}

static int take_set(const MDB_val *k, const MDB_val *d, size_t i, void *arg)
{
    pc_val *out = arg;
    return pcs_set_entry(k, d, &out[i]);
}

int pcs_map_scan(const pcs_view *v, MDB_cursor *cur, const pcs_rec *r, pc_cursor *pc,
                 pc_bytes *fields, pc_val *vals, size_t max, size_t *n)
{
    (void)v;
    struct map_out o = {fields, vals};
    return coll_scan(r, cur, pc, max, n, take_map, &o);
}

int pcs_set_scan(const pcs_view *v, MDB_cursor *cur, const pcs_rec *r, pc_cursor *pc, pc_val *out,
                 size_t max, size_t *n)
{
    (void)v;
    return coll_scan(r, cur, pc, max, n, take_set, out);
}

/* Is the member with subkey k (from another set) in set (v, r)? */
static int algebra_has(const pcs_view *v, const pcs_rec *r, const MDB_val *k, const MDB_val *d,
                       bool *has)
{
    *has = false;
    if (!r)
        return 0;
    uint8_t kb[PCS_MKEY_MAX];
    pcs_put_be64(kb, r->gen);
    memcpy(kb + PCS_GEN_LEN, (const uint8_t *)k->mv_data + PCS_GEN_LEN, k->mv_size - PCS_GEN_LEN);
    MDB_val mk = {k->mv_size, kb}, md;
    int rc = mdb_get(v->txn, v->sh->members, &mk, &md);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return pcs_mdb_err(rc);
    /* A long member: same digest is not enough, the bytes must agree. */
    *has = md.mv_size == d->mv_size && !memcmp(md.mv_data, d->mv_data, d->mv_size);
    return 0;
}

int pcs_set_algebra(int how, const pcs_view *views, const pcs_rec *const *recs, size_t nsets,
                    pc_cursor *pc, pc_val *out, size_t max, size_t *n)
{
    *n = 0;
    if (pc->done || nsets == 0) {
        pc->done = true;
        return 0;
    }
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers to structs
    MDB_cursor **curs = pcs_calloc(nsets, sizeof *curs);
    if (!curs)
        return PC_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < nsets && !rc; i++)
        if (recs[i])
            rc = pcs_mdb_err(mdb_cursor_open(views[i].txn, views[i].sh->members, &curs[i]));
    /* Inter walks its smallest set; diff walks the first; union merges all. */
    size_t walk = 0;
    if (how == PCS_SET_INTER) {
        for (size_t i = 0; i < nsets; i++) {
            if (!recs[i]) { /* one empty set: the intersection is empty */
                pc->done = true;
                goto out;
            }
            if (recs[i]->count < recs[walk]->count)
                walk = i;
        }
    }
    while (!rc && *n < max) {
        MDB_val k, d, bk = {0, NULL}, bd = {0, NULL};
        if (how == PCS_SET_UNION) {
            /* The smallest subkey after pc over all sets. */
            bool any = false;
            for (size_t i = 0; i < nsets && !rc; i++) {
                if (!recs[i])
                    continue;
                rc = members_after(curs[i], recs[i]->gen, pc, &k, &d);
                if (rc == PC_ENOTFOUND) {
                    rc = 0;
                    continue;
                }
                if (rc)
                    break;
                size_t kl = k.mv_size - PCS_GEN_LEN, bl = bk.mv_size - PCS_GEN_LEN;
                size_t m = kl < bl ? kl : bl;
                int c = any ? memcmp((uint8_t *)k.mv_data + 8, (uint8_t *)bk.mv_data + 8, m) : -1;
                if (!any || c < 0 || (c == 0 && kl < bl)) {
                    bk = k;
                    bd = d;
                    any = true;
                }
            }
            if (rc)
                break;
            if (!any) {
                pc->done = true;
                break;
            }
        } else {
            if (!recs[walk]) {
                pc->done = true;
                break;
            }
            rc = members_after(curs[walk], recs[walk]->gen, pc, &bk, &bd);
            if (rc == PC_ENOTFOUND) {
                rc = 0;
                pc->done = true;
                break;
            }
            if (rc)
                break;
        }
        bool keep = true;
        for (size_t i = 0; i < nsets && how != PCS_SET_UNION && !rc; i++) {
            if (i == walk)
                continue;
            bool has;
            rc = algebra_has(&views[i], recs[i], &bk, &bd, &has);
            if (how == PCS_SET_INTER && !has)
                keep = false;
            if (how == PCS_SET_DIFF && has)
                keep = false;
        }
        if (rc)
            break;
        if (keep && (rc = pcs_set_entry(&bk, &bd, &out[*n])))
            break;
        cursor_keep(pc, &bk, PCS_GEN_LEN);
        if (keep)
            (*n)++;
    }
out:
    for (size_t i = 0; i < nsets; i++)
        if (curs[i])
            mdb_cursor_close(curs[i]);
    pcs_free(curs);
    return rc;
}

/* fnmatch needs a C string: the key is copied out with a NUL. */
bool pcs_glob_match(const char *glob, const void *key, size_t klen)
{
    if (!glob || !strcmp(glob, "*"))
        return true;
    char buf[PC_KEY_MAX + 1];
    if (klen > PC_KEY_MAX || memchr(key, 0, klen))
        return false;
    memcpy(buf, key, klen);
    buf[klen] = 0;
    return fnmatch(glob, buf, 0) == 0;
}

int pcs_key_scan(const pcs_view *v, MDB_cursor *cur, const char *glob, pc_cursor *pc,
                 pc_bytes *keys, size_t max, size_t *n, bool *end)
{
    *n = 0;
    *end = false;
    MDB_val k, d;
    int rc;
    if (pc->started) {
        if (pc->len == 0 || pc->len > PC_KEY_MAX)
            return PC_EINVAL;
        k.mv_size = pc->len;
        k.mv_data = pc->pos;
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (!rc && k.mv_size == pc->len && !memcmp(k.mv_data, pc->pos, pc->len))
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    } else {
        rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    }
    while (*n < max) {
        if (rc == MDB_NOTFOUND) {
            *end = true;
            return 0;
        }
        if (rc)
            return pcs_mdb_err(rc);
        pcs_rec r;
        if (k.mv_size < 1 || k.mv_size > PC_KEY_MAX)
            return PC_ECORRUPT;
        if ((rc = pcs_rec_decode(d.mv_data, d.mv_size, &r)))
            return rc;
        cursor_keep(pc, &k, 0);
        if (!pcs_rec_expired(&r, v->now) && pcs_glob_match(glob, k.mv_data, k.mv_size)) {
            keys[*n].ptr = k.mv_data;
            keys[*n].len = k.mv_size;
            (*n)++;
        }
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        *end = true;
    return 0;
}

int pcs_expiry_due(const pcs_view *v, uint64_t *n)
{
    MDB_cursor *cur;
    int rc = pcs_mdb_err(mdb_cursor_open(v->txn, v->sh->expiry, &cur));
    if (rc)
        return rc;
    MDB_val k, d;
    int mrc;
    for (mrc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); !mrc;
         mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        uint64_t at;
        const uint8_t *key;
        size_t klen;
        if ((rc = pcs_xkey_decode(k.mv_data, k.mv_size, &at, &key, &klen)) || at > v->now)
            break;
        (*n)++;
    }
    mdb_cursor_close(cur);
    return rc || mrc == MDB_NOTFOUND ? rc : pcs_mdb_err(mrc);
}

int pcs_expiry_page(const pcs_view *v, const char *glob, pc_cursor *pc, pc_bytes *keys,
                    int64_t *when, size_t max, size_t *n, bool *end)
{
    *n = 0;
    *end = false;
    MDB_cursor *cur;
    int rc = pcs_mdb_err(mdb_cursor_open(v->txn, v->sh->expiry, &cur));
    if (rc)
        return rc;
    MDB_val k = {pc->len, pc->pos}, d;
    int mrc;
    if (pc->started) {
        mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (!mrc && k.mv_size == pc->len && !memcmp(k.mv_data, pc->pos, pc->len))
            mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    } else {
        mrc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    }
    for (; !mrc && *n < max; mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        uint64_t at;
        const uint8_t *key;
        size_t klen;
        if ((rc = pcs_xkey_decode(k.mv_data, k.mv_size, &at, &key, &klen)))
            break;
        cursor_keep(pc, &k, 0);
        if (!pcs_glob_match(glob, key, klen))
            continue;
        if (keys)
            keys[*n] = pc_b(key, klen);
        if (when)
            when[*n] = (int64_t)at;
        (*n)++;
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    if (mrc == MDB_NOTFOUND) {
        *end = true;
        return 0;
    }
    return pcs_mdb_err(mrc);
}
