/*
 * zset.c - sorted sets (issue 17): keys and entries, the counted index's
 * rank and select, ranges, and the reads (zset.h).  Everything read here
 * came from the map or from a peer: check, never assert.
 */
#include "zset.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "bytes.h"
#include "reader.h"

uint64_t pcs_zs_key(double d)
{
    if (d == 0)
        d = 0; /* -0.0 is 0.0 */
    uint64_t u = pcs_d2u(d);
    return (u >> 63) ? ~u : u ^ (UINT64_C(1) << 63);
}

double pcs_zs_unkey(uint64_t k)
{
    return pcs_u2d((k >> 63) ? k ^ (UINT64_C(1) << 63) : ~k);
}

int pcs_zmem_set(pcs_zmem *z, const pc_val *m)
{
    size_t n = pcs_member_size(m);
    z->len = n;
    if (n <= sizeof z->small) {
        pcs_member_encode(z->small, m);
        z->enc = z->small;
        return 0;
    }
    pcs_buf_reset(&z->big);
    if (pcs_buf_reserve(&z->big, n))
        return z->big.err;
    pcs_member_encode(z->big.data, m);
    z->enc = z->big.data;
    return 0;
}

void pcs_zmem_free(pcs_zmem *z)
{
    pcs_buf_free(&z->big);
}

static void digest(uint8_t *out, const uint8_t *p, size_t n)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, c.digest, PCS_DIGEST_LEN);
}

static size_t head(uint8_t *out, uint64_t gen, uint8_t tag)
{
    pcs_put_be64(out, gen);
    out[PCS_GEN_LEN] = tag;
    return PCS_GEN_LEN + 1;
}

size_t pcs_z_mkey(uint8_t *out, uint64_t gen, const uint8_t *enc, size_t n, bool *is_long)
{
    size_t h = head(out, gen, PCS_Z_MEM);
    *is_long = n >= PCS_ZK_INLINE;
    if (!*is_long) {
        memcpy(out + h, enc, n);
        return h + n;
    }
    memcpy(out + h, enc, PCS_ZK_PREFIX);
    digest(out + h + PCS_ZK_PREFIX, enc, n);
    return h + PCS_ZK_INLINE;
}

size_t pcs_z_ekey(uint8_t *out, uint64_t gen, uint64_t skey, const uint8_t *enc, size_t n,
                  bool *is_long)
{
    size_t h = head(out, gen, PCS_Z_ENT);
    pcs_put_be64(out + h, skey);
    *is_long = 8 + n >= PCS_ZK_INLINE;
    if (!*is_long) {
        memcpy(out + h + 8, enc, n);
        return h + 8 + n;
    }
    memcpy(out + h + 8, enc, PCS_ZK_PREFIX - 8);
    digest(out + h + PCS_ZK_PREFIX, enc, n);
    return h + PCS_ZK_INLINE;
}

size_t pcs_z_nkey(uint8_t *out, uint64_t gen, unsigned level, const uint8_t *zk, size_t zklen)
{
    size_t h = head(out, gen, (uint8_t)(PCS_Z_NODE + level));
    if (zklen)
        memcpy(out + h, zk, zklen);
    return h + zklen;
}

static bool has_tag(const MDB_val *k, uint64_t gen, uint8_t tag)
{
    const uint8_t *b = k->mv_data;
    return k->mv_size > PCS_GEN_LEN && pcs_be64(b) == gen && b[PCS_GEN_LEN] == tag;
}

int pcs_z_score(const pcs_view *v, const pcs_rec *r, const pcs_zmem *m, double *score,
                bool *collide)
{
    uint8_t kb[PCS_ZKEY_MAX];
    bool is_long;
    MDB_val k = {pcs_z_mkey(kb, r->gen, m->enc, m->len, &is_long), kb}, d;
    if (collide)
        *collide = false;
    int rc = mdb_get(v->txn, v->sh->members, &k, &d);
    if (rc)
        return pcs_mdb_err(rc);
    if (d.mv_size != 8 + (is_long ? m->len : 0)) {
        if (is_long && d.mv_size > 8) { /* another member under the same digest */
            if (collide)
                *collide = true;
            return PC_ENOTFOUND;
        }
        return PC_ECORRUPT;
    }
    if (is_long && memcmp((const uint8_t *)d.mv_data + 8, m->enc, m->len)) {
        if (collide)
            *collide = true;
        return PC_ENOTFOUND;
    }
    *score = pcs_u2d(pcs_le64(d.mv_data));
    return isnan(*score) ? PC_ECORRUPT : 0;
}

int pcs_z_entry(const MDB_val *k, const MDB_val *d, pc_val *member, double *score)
{
    const uint8_t *b = k->mv_data;
    const size_t h = PCS_GEN_LEN + 1 + 8;
    if (k->mv_size <= h || k->mv_size > PCS_ZKEY_MAX || b[PCS_GEN_LEN] != PCS_Z_ENT)
        return PC_ECORRUPT;
    *score = pcs_zs_unkey(pcs_be64(b + PCS_GEN_LEN + 1));
    if (k->mv_size == PCS_ZKEY_MAX) {
        if (d->mv_size + 8 < PCS_ZK_INLINE)
            return PC_ECORRUPT;
        return pcs_member_decode(d->mv_data, d->mv_size, member);
    }
    if (d->mv_size)
        return PC_ECORRUPT;
    return pcs_member_decode(b + h, k->mv_size - h, member);
}

/* Compare two byte strings as LMDB's default order does. */
static int bcmp_(const void *a, size_t an, const void *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int node_val(const MDB_val *d, uint64_t *ent, uint32_t *ch)
{
    if (d->mv_size != 12)
        return PC_ECORRUPT;
    *ent = pcs_le64(d->mv_data);
    *ch = pcs_le32((const uint8_t *)d->mv_data + 8);
    return *ch && *ent ? 0 : PC_ECORRUPT;
}

static int cget(MDB_cursor *cur, MDB_val *k, MDB_val *d, MDB_cursor_op op)
{
    int rc = mdb_cursor_get(cur, k, d, op);
    return rc == MDB_NOTFOUND ? PC_ENOTFOUND : pcs_mdb_err(rc);
}

/* Position cur on level L's node named by zk[0..n) or the first after it. */
static int node_seek(MDB_cursor *cur, uint64_t gen, unsigned L, const uint8_t *zk, size_t n,
                     MDB_val *k, MDB_val *d)
{
    uint8_t kb[PCS_ZKEY_MAX + 1];
    k->mv_data = kb;
    k->mv_size = pcs_z_nkey(kb, gen, L, zk, n);
    int rc = cget(cur, k, d, MDB_SET_RANGE);
    if (rc == PC_ENOTFOUND || (!rc && !has_tag(k, gen, (uint8_t)(PCS_Z_NODE + L))))
        return PC_ECORRUPT; /* a level without nodes */
    return rc;
}

int pcs_z_below(MDB_cursor *cur, const pcs_rec *r, const uint8_t *ekey, size_t eklen, uint64_t *n)
{
    const size_t h = PCS_GEN_LEN + 1;
    uint8_t start[PCS_ZKEY_MAX];
    size_t slen = 0;
    uint64_t total = 0;
    *n = 0;
    if (eklen < h)
        return PC_EINVAL;
    const uint8_t *zk = ekey + h;
    size_t zklen = eklen - h;
    for (unsigned L = r->zheight; L >= 1; L--) {
        MDB_val k, d, k2, d2;
        uint64_t ent;
        uint32_t ch;
        int rc = node_seek(cur, r->gen, L, start, slen, &k, &d);
        if (rc || (rc = node_val(&d, &ent, &ch)))
            return rc;
        for (;;) {
            rc = cget(cur, &k2, &d2, MDB_NEXT);
            if (rc == PC_ENOTFOUND || (!rc && !has_tag(&k2, r->gen, (uint8_t)(PCS_Z_NODE + L))))
                break;
            if (rc)
                return rc;
            if (bcmp_((const uint8_t *)k2.mv_data + h, k2.mv_size - h, zk, zklen) > 0)
                break;
            total += ent;
            k = k2;
            if ((rc = node_val(&d2, &ent, &ch)))
                return rc;
        }
        slen = k.mv_size - h;
        if (slen > sizeof start)
            return PC_ECORRUPT;
        memcpy(start, (const uint8_t *)k.mv_data + h, slen);
    }
    /* The entries of the level-1 node before ekey. */
    uint8_t kb[PCS_ZKEY_MAX];
    MDB_val k = {head(kb, r->gen, PCS_Z_ENT) + slen, kb}, d;
    if (r->zheight)
        memcpy(kb + h, start, slen);
    int rc = cget(cur, &k, &d, MDB_SET_RANGE);
    while (!rc && has_tag(&k, r->gen, PCS_Z_ENT) && bcmp_(k.mv_data, k.mv_size, ekey, eklen) < 0) {
        total++;
        rc = cget(cur, &k, &d, MDB_NEXT);
    }
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *n = total;
    return 0;
}

int pcs_z_select(MDB_cursor *cur, const pcs_rec *r, uint64_t i, MDB_val *k, MDB_val *d)
{
    const size_t h = PCS_GEN_LEN + 1;
    uint8_t start[PCS_ZKEY_MAX];
    size_t slen = 0;
    if (i >= r->count)
        return PC_ERANGE;
    for (unsigned L = r->zheight; L >= 1; L--) {
        uint64_t ent;
        uint32_t ch;
        int rc = node_seek(cur, r->gen, L, start, slen, k, d);
        for (;;) {
            if (rc || (rc = node_val(d, &ent, &ch)))
                return rc;
            if (i < ent)
                break;
            i -= ent;
            rc = cget(cur, k, d, MDB_NEXT);
            if (rc == PC_ENOTFOUND || (!rc && !has_tag(k, r->gen, (uint8_t)(PCS_Z_NODE + L))))
                return PC_ECORRUPT; /* the counts say more than the nodes hold */
        }
        slen = k->mv_size - h;
        if (slen > sizeof start)
            return PC_ECORRUPT;
        memcpy(start, (const uint8_t *)k->mv_data + h, slen);
    }
    uint8_t kb[PCS_ZKEY_MAX];
    k->mv_data = kb;
    k->mv_size = head(kb, r->gen, PCS_Z_ENT) + slen;
    memcpy(kb + h, start, slen);
    int rc = cget(cur, k, d, MDB_SET_RANGE);
    for (; !rc && i > 0; i--)
        rc = cget(cur, k, d, MDB_NEXT);
    if (rc == PC_ENOTFOUND || (!rc && !has_tag(k, r->gen, PCS_Z_ENT)))
        return PC_ECORRUPT;
    return rc;
}

/* ---- ranges ---- */

static bool flags_ok(int by, unsigned f)
{
    switch (by) {
    case PC_ZBY_INDEX:
        return f == 0;
    case PC_ZBY_SCORE:
        return f == 0 || f == PC_ZB_EXCL;
    default:
        return f == 0 || f == PC_ZB_EXCL || f == PC_ZB_MINUS || f == PC_ZB_PLUS;
    }
}

int pcs_zspec_dec(const pc_val *a, pcs_zspec *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < PCS_ZSPEC_ARGS; i++)
        if (i != 2 && i != 4 && a[i].kind != PC_INT)
            return PC_EINVAL;
    if (a[0].i < PC_ZBY_INDEX || a[0].i > PC_ZBY_LEX || (a[1].i != 0 && a[1].i != 1) ||
        a[3].i < 0 || a[3].i > 7 || a[5].i < 0 || a[5].i > 7 || a[6].i < 0)
        return PC_EINVAL;
    s->by = (int)a[0].i;
    s->rev = a[1].i != 0;
    s->fmin = (unsigned)a[3].i;
    s->fmax = (unsigned)a[5].i;
    s->offset = (uint64_t)a[6].i;
    s->count = a[7].i;
    if (!flags_ok(s->by, s->fmin) || !flags_ok(s->by, s->fmax))
        return PC_EINVAL;
    switch (s->by) {
    case PC_ZBY_INDEX:
        if (a[2].kind != PC_INT || a[4].kind != PC_INT || s->offset || s->count != -1)
            return PC_EINVAL; /* Redis: LIMIT only by score or by lex */
        s->start = a[2].i;
        s->stop = a[4].i;
        return 0;
    case PC_ZBY_SCORE:
        if (a[2].kind != PC_DOUBLE || a[4].kind != PC_DOUBLE)
            return PC_EINVAL;
        s->smin = a[2].d;
        s->smax = a[4].d;
        return isnan(s->smin) || isnan(s->smax) ? PC_ENAN : 0;
    default:
        s->lmin = a[2];
        s->lmax = a[4];
        if (!(s->fmin & (PC_ZB_MINUS | PC_ZB_PLUS))) {
            int rc = pcs_val_check(&s->lmin, UINT64_MAX);
            if (rc)
                return rc;
        }
        if (!(s->fmax & (PC_ZB_MINUS | PC_ZB_PLUS))) {
            int rc = pcs_val_check(&s->lmax, UINT64_MAX);
            if (rc)
                return rc;
        }
        return 0;
    }
}

void pcs_zspec_vals(const pc_zrange_spec *s, pc_val a[PCS_ZSPEC_ARGS])
{
    a[0] = pc_int(s->by);
    a[1] = pc_int(s->rev ? 1 : 0);
    a[3] = pc_int(s->min.flags);
    a[5] = pc_int(s->max.flags);
    a[6] = pc_int(s->offset);
    a[7] = pc_int(s->count);
    if (s->by == PC_ZBY_INDEX) {
        a[2] = pc_int(s->start);
        a[4] = pc_int(s->stop);
    } else if (s->by == PC_ZBY_SCORE) {
        a[2] = pc_dbl(s->min.score);
        a[4] = pc_dbl(s->max.score);
    } else {
        a[2] = (s->min.flags & (PC_ZB_MINUS | PC_ZB_PLUS)) ? pc_nil() : s->min.member;
        a[4] = (s->max.flags & (PC_ZB_MINUS | PC_ZB_PLUS)) ? pc_nil() : s->max.member;
    }
}

void pcs_zspec_enc(pcs_enc *e, const pc_zrange_spec *s)
{
    pc_val a[PCS_ZSPEC_ARGS];
    pcs_zspec_vals(s, a);
    for (int i = 0; i < PCS_ZSPEC_ARGS; i++)
        pcs_enc_val(e, &a[i]);
}

int pcs_zspec_check(const pc_zrange_spec *s, uint64_t max_value)
{
    pc_val a[PCS_ZSPEC_ARGS];
    pcs_zspec z;
    if (!s)
        return PC_EINVAL;
    pcs_zspec_vals(s, a);
    int rc = pcs_zspec_dec(a, &z);
    if (!rc && s->by == PC_ZBY_LEX)
        for (int i = 2; i <= 4 && !rc; i += 2)
            if (a[i].kind == PC_BYTES && a[i].s.len > max_value)
                rc = PC_ETOOBIG;
    return rc;
}

/* A lex bound: gen ‖ 02 ‖ s0 ‖ member's encoding (cut as an index key), and
 * a 0 byte after it for what sorts just after the member. */
static int lex_key(uint8_t *out, size_t *n, uint64_t gen, uint64_t s0, const pc_val *m, bool after)
{
    pcs_zmem z = {.big = PCS_BUF_INIT};
    int rc = pcs_zmem_set(&z, m);
    if (!rc) {
        bool is_long;
        *n = pcs_z_ekey(out, gen, s0, z.enc, z.len, &is_long);
        if (after)
            out[(*n)++] = 0;
    }
    pcs_zmem_free(&z);
    return rc;
}

static size_t score_key(uint8_t *out, uint64_t gen, uint64_t skey)
{
    size_t h = head(out, gen, PCS_Z_ENT);
    pcs_put_be64(out + h, skey);
    return h + 8;
}

/* The range's ends as index keys [lo, hi).  1: the range is empty. */
static int bounds(MDB_cursor *cur, const pcs_rec *r, const pcs_zspec *s, uint8_t *lo, size_t *lolen,
                  uint8_t *hi, size_t *hilen)
{
    if (s->by == PC_ZBY_INDEX) {
        *lolen = head(lo, r->gen, PCS_Z_ENT);
        *hilen = head(hi, r->gen, PCS_Z_ENT + 1);
        return 0;
    }
    if (s->by == PC_ZBY_SCORE) {
        uint64_t a = pcs_zs_key(s->smin), b = pcs_zs_key(s->smax);
        if (s->fmin & PC_ZB_EXCL)
            a++; /* (+inf's form is not the largest u64: no wrap) */
        if (!(s->fmax & PC_ZB_EXCL))
            b++;
        if (a >= b)
            return 1;
        *lolen = score_key(lo, r->gen, a);
        *hilen = score_key(hi, r->gen, b);
        return 0;
    }
    /* By lex: among the members of the lowest score. */
    if ((s->fmin & PC_ZB_PLUS) || (s->fmax & PC_ZB_MINUS))
        return 1;
    uint8_t kb[PCS_GEN_LEN + 1];
    MDB_val k = {head(kb, r->gen, PCS_Z_ENT), kb}, d;
    int rc = cget(cur, &k, &d, MDB_SET_RANGE);
    if (rc == PC_ENOTFOUND || (!rc && (!has_tag(&k, r->gen, PCS_Z_ENT) || k.mv_size < 17)))
        return PC_ECORRUPT;
    if (rc)
        return rc;
    uint64_t s0 = pcs_be64((const uint8_t *)k.mv_data + PCS_GEN_LEN + 1);
    if (s->fmin & PC_ZB_MINUS)
        *lolen = score_key(lo, r->gen, s0);
    else if ((rc = lex_key(lo, lolen, r->gen, s0, &s->lmin, s->fmin & PC_ZB_EXCL)))
        return rc;
    if (s->fmax & PC_ZB_PLUS)
        *hilen = score_key(hi, r->gen, s0 + 1);
    else if ((rc = lex_key(hi, hilen, r->gen, s0, &s->lmax, !(s->fmax & PC_ZB_EXCL))))
        return rc;
    return bcmp_(lo, *lolen, hi, *hilen) >= 0 ? 1 : 0;
}

/* Does the walk's entry at k lie in [lo, hi)? */
static bool in_range(const pcs_zwalk *w, const MDB_val *k)
{
    return has_tag(k, w->r->gen, PCS_Z_ENT) &&
           bcmp_(k->mv_data, k->mv_size, w->lo, w->lolen) >= 0 &&
           bcmp_(k->mv_data, k->mv_size, w->hi, w->hilen) < 0;
}

/* Position the walk on the entry of rank i. */
static int walk_rank(pcs_zwalk *w, uint64_t i)
{
    int rc = pcs_z_select(w->cur, w->r, i, &w->k, &w->d);
    w->first = !rc;
    return rc;
}

/* Position the walk on the first entry at or after key (forward), or the
 * last before it (rev). */
static int walk_seek(pcs_zwalk *w, const uint8_t *key, size_t n)
{
    uint8_t kb[PCS_ZKEY_MAX + 1];
    memcpy(kb, key, n);
    w->k.mv_data = kb;
    w->k.mv_size = n;
    int rc = cget(w->cur, &w->k, &w->d, MDB_SET_RANGE);
    if (w->rev)
        rc = cget(w->cur, &w->k, &w->d, rc == PC_ENOTFOUND ? MDB_LAST : MDB_PREV);
    if (rc == PC_ENOTFOUND)
        return 1;
    w->first = !rc;
    return rc;
}

int pcs_zwalk_start(pcs_zwalk *w, MDB_cursor *cur, const pcs_rec *r, const pcs_zspec *s,
                    const pc_cursor *pc)
{
    memset(w, 0, sizeof *w);
    w->cur = cur;
    w->r = r;
    w->rev = s->rev;
    int rc = bounds(cur, r, s, w->lo, &w->lolen, w->hi, &w->hilen);
    if (rc)
        return rc;
    uint64_t from = 0, to = 0;
    if (s->by == PC_ZBY_INDEX) {
        if (!pcs_norm_range(s->start, s->stop, r->count, &from, &to))
            return 1;
        w->left = to - from + 1;
    } else {
        w->left = s->count < 0 ? UINT64_MAX : (uint64_t)s->count;
    }
    if (pc && pc->started) { /* resume after the last entry given */
        if (pc->len < 8 + PCS_GEN_LEN + 2)
            return PC_EINVAL;
        w->given = pcs_le64(pc->pos);
        if (w->left != UINT64_MAX) {
            if (w->given >= w->left)
                return 1;
            w->left -= w->given;
        }
        uint8_t kb[PCS_ZKEY_MAX + 2];
        size_t n = pc->len - 8u;
        if (n > PCS_ZKEY_MAX)
            return PC_EINVAL;
        memcpy(kb, pc->pos + 8, n);
        if (!w->rev)
            kb[n++] = 0; /* just after it */
        if (pcs_be64(kb) != r->gen)
            return 1; /* another collection since: nothing left of this one */
        return walk_seek(w, kb, n);
    }
    if (s->by == PC_ZBY_INDEX)
        return walk_rank(w, w->rev ? r->count - 1 - from : from);
    if ((rc = w->rev ? walk_seek(w, w->hi, w->hilen) : walk_seek(w, w->lo, w->lolen)))
        return rc;
    if (s->offset == 0)
        return 0;
    if (!in_range(w, &w->k))
        return 1;
    /* LIMIT's offset: a few steps, or by rank. */
    if (s->offset <= PCS_Z_FAN) {
        for (uint64_t i = 0; i < s->offset; i++) {
            rc = cget(cur, &w->k, &w->d, w->rev ? MDB_PREV : MDB_NEXT);
            if (rc == PC_ENOTFOUND)
                return 1;
            if (rc)
                return rc;
        }
        return 0;
    }
    uint64_t at;
    if ((rc = pcs_z_below(cur, r, w->k.mv_data, w->k.mv_size, &at)))
        return rc;
    if (w->rev ? at < s->offset : s->offset >= r->count - at)
        return 1;
    return walk_rank(w, w->rev ? at - s->offset : at + s->offset);
}

int pcs_zwalk_next(pcs_zwalk *w, pc_val *member, double *score)
{
    if (w->left == 0 || (!w->first && !w->k.mv_data))
        return 1;
    if (!w->first) {
        int rc = cget(w->cur, &w->k, &w->d, w->rev ? MDB_PREV : MDB_NEXT);
        if (rc == PC_ENOTFOUND) {
            w->k.mv_data = NULL;
            return 1;
        }
        if (rc)
            return rc;
    }
    w->first = false;
    if (!in_range(w, &w->k)) {
        w->k.mv_data = NULL;
        return 1;
    }
    int rc = pcs_z_entry(&w->k, &w->d, member, score);
    if (rc)
        return rc;
    if (w->left != UINT64_MAX)
        w->left--;
    w->given++;
    return 0;
}

void pcs_zwalk_save(const pcs_zwalk *w, pc_cursor *pc, bool done)
{
    pc->started = 1;
    pc->done = done;
    pc->shard = 0;
    pcs_put_le64(pc->pos, w->given);
    size_t n = w->k.mv_data ? w->k.mv_size : 0;
    if (n > PC_CURSOR_POS_MAX - 8)
        n = 0;
    if (n)
        memcpy(pc->pos + 8, w->k.mv_data, n);
    pc->len = (uint16_t)(8 + n);
}

int pcs_zspec_count(MDB_cursor *cur, const pcs_rec *r, const pcs_zspec *s, uint64_t *n)
{
    uint8_t lo[PCS_ZKEY_MAX + 1], hi[PCS_ZKEY_MAX + 1];
    size_t lolen, hilen;
    uint64_t a, b, from, to;
    *n = 0;
    if (s->by == PC_ZBY_INDEX) {
        if (pcs_norm_range(s->start, s->stop, r->count, &from, &to))
            *n = to - from + 1;
        return 0;
    }
    int rc = bounds(cur, r, s, lo, &lolen, hi, &hilen);
    if (rc)
        return rc > 0 ? 0 : rc;
    if ((rc = pcs_z_below(cur, r, lo, lolen, &a)) || (rc = pcs_z_below(cur, r, hi, hilen, &b)))
        return rc;
    uint64_t k = b > a ? b - a : 0;
    k = k > s->offset ? k - s->offset : 0;
    if (s->count >= 0 && k > (uint64_t)s->count)
        k = (uint64_t)s->count;
    *n = k;
    return 0;
}

/* ---- the reads ---- */

int pcs_rd_zcard(pcs_reader *r, const void *key, size_t klen, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    *out = 0;
    int rc = pcs_reader_rec(r, key, klen, PC_T_ZSET, &v, &rec, NULL);
    if (!rc)
        *out = rec.count;
    return rc == PC_ENOTFOUND ? 0 : rc;
}

int pcs_rd_zscore(pcs_reader *r, const void *key, size_t klen, const pc_val *members, size_t n,
                  double *scores, int *found)
{
    pcs_view v;
    pcs_rec rec;
    for (size_t i = 0; i < n; i++) {
        scores[i] = 0;
        found[i] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = pcs_val_check(&members[i], UINT64_MAX);
        if (rc)
            return rc;
    }
    int rc = pcs_reader_rec(r, key, klen, PC_T_ZSET, &v, &rec, NULL);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    pcs_zmem z = {.big = PCS_BUF_INIT};
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = pcs_zmem_set(&z, &members[i])))
            break;
        rc = pcs_z_score(&v, &rec, &z, &scores[i], NULL);
        found[i] = rc == 0;
        if (rc == PC_ENOTFOUND)
            rc = 0;
    }
    pcs_zmem_free(&z);
    return rc;
}

int pcs_rd_zrank(pcs_reader *r, const void *key, size_t klen, const pc_val *member, bool rev,
                 uint64_t *rank, double *score)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    MDB_cursor *mc;
    *rank = 0;
    *score = 0;
    int rc = pcs_val_check(member, UINT64_MAX);
    if (rc || (rc = pcs_reader_rec(r, key, klen, PC_T_ZSET, &v, &rec, &s)))
        return rc;
    pcs_zmem z = {.big = PCS_BUF_INIT};
    if (!(rc = pcs_zmem_set(&z, member)) && !(rc = pcs_z_score(&v, &rec, &z, score, NULL)) &&
        !(rc = pcs_reader_cursor(r, s, &mc))) {
        uint8_t kb[PCS_ZKEY_MAX];
        bool is_long;
        size_t kl = pcs_z_ekey(kb, rec.gen, pcs_zs_key(*score), z.enc, z.len, &is_long);
        uint64_t below;
        if (!(rc = pcs_z_below(mc, &rec, kb, kl, &below))) {
            if (below >= rec.count)
                rc = PC_ECORRUPT;
            else
                *rank = rev ? rec.count - 1 - below : below;
        }
    }
    pcs_zmem_free(&z);
    return rc;
}

int pcs_rd_zcount(pcs_reader *r, const void *key, size_t klen, const pcs_zspec *spec, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    MDB_cursor *mc;
    *out = 0;
    int rc = pcs_reader_rec(r, key, klen, PC_T_ZSET, &v, &rec, &s);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    if ((rc = pcs_reader_cursor(r, s, &mc)))
        return rc;
    return pcs_zspec_count(mc, &rec, spec, out);
}

int pcs_rd_zrange(pcs_reader *r, const void *key, size_t klen, const pcs_zspec *spec,
                  pc_cursor *cur, pc_zentry *out, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    MDB_cursor *mc;
    pcs_zwalk w;
    *n = 0;
    int rc = pcs_reader_rec(r, key, klen, PC_T_ZSET, &v, &rec, &s);
    if (rc == PC_ENOTFOUND) {
        cur->done = true;
        return 0;
    }
    if (rc || cur->done || max == 0)
        return rc;
    if ((rc = pcs_reader_cursor(r, s, &mc)))
        return rc;
    rc = pcs_zwalk_start(&w, mc, &rec, spec, cur);
    if (rc) {
        cur->done = rc > 0;
        return rc > 0 ? 0 : rc;
    }
    while (*n < max) {
        rc = pcs_zwalk_next(&w, &out[*n].member, &out[*n].score);
        if (rc) {
            cur->done = rc > 0;
            return rc > 0 ? 0 : rc;
        }
        ++*n;
    }
    pcs_zwalk_save(&w, cur, false);
    pc_val m;
    double sc;
    rc = pcs_zwalk_next(&w, &m, &sc); /* anything after the page? */
    if (rc < 0)
        return rc;
    cur->done = rc > 0;
    return 0;
}
