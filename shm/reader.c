/*
 * reader.c - the read operations over a reader (reader.h): its per-shard
 * transactions and cursors, begun once and renewed lazily, and one function
 * per read, built on the view-level pieces of read.c.
 */
#include "reader.h"

#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "bytes.h"
#include "exec.h"
#include "prob.h"

/* ---- the reader ---- */

void pcs_reader_init(pcs_reader *r, pcs_store *st, pcs_read_note note, void *ctx)
{
    memset(r, 0, sizeof *r);
    r->st = st;
    r->note = note;
    r->note_ctx = ctx;
    r->rng = pcs_now_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)r;
    if (st->mode == PCS_MODE_READER)
        pcs_gate_join(st, &r->gate);
}

void pcs_reader_end(pcs_reader *r)
{
    for (unsigned i = 0; r->live && i < PCS_SHARDS_MAX; i++)
        if (r->live & (UINT64_C(1) << i))
            mdb_txn_reset(r->txn[i]);
    if (r->live && r->st->mode == PCS_MODE_READER)
        pcs_gate_set(&r->gate, 0);
    r->live = 0;
}

void pcs_reader_abandon(pcs_reader *r)
{
    r->live = 0;
}

void pcs_reader_fini(pcs_reader *r)
{
    if (!r->st)
        return;
    pcs_reader_end(r);
    for (unsigned i = 0; i < PCS_SHARDS_MAX; i++) {
        if (r->cur[i])
            mdb_cursor_close(r->cur[i]);
        if (r->kcur[i])
            mdb_cursor_close(r->kcur[i]);
        if (r->txn[i])
            mdb_txn_abort(r->txn[i]);
    }
    if (r->st->mode == PCS_MODE_READER)
        pcs_gate_leave(r->st, &r->gate);
    memset(r, 0, sizeof *r);
}

/* Begin or renew the transaction of shard s; an LMDB code. */
static int txn_open(pcs_reader *r, unsigned s)
{
    return r->txn[s] ? mdb_txn_renew(r->txn[s])
                     : mdb_txn_begin(r->st->shards[s].env, NULL, MDB_RDONLY, &r->txn[s]);
}

/* Reader mode: pass the gate (see reader.h). */
static int txn_open_gated(pcs_reader *r, unsigned s)
{
    pcs_store *st = r->st;
    int rc = pcs_gate_enter(st, &r->gate, s);
    if (rc)
        return rc;
    int mrc = txn_open(r, s);
    if (mrc == MDB_MAP_RESIZED) {
        pcs_gate_set(&r->gate, r->live);
        if ((rc = pcs_store_adopt(st, s)) || (rc = pcs_gate_enter(st, &r->gate, s)))
            return rc;
        mrc = txn_open(r, s);
    }
    if (mrc)
        pcs_gate_set(&r->gate, r->live);
    return pcs_mdb_err(mrc);
}

int pcs_reader_open(pcs_reader *r, unsigned s)
{
    int rc = r->st->mode == PCS_MODE_READER ? txn_open_gated(r, s) : pcs_mdb_err(txn_open(r, s));
    if (!rc)
        r->live |= UINT64_C(1) << s;
    return rc;
}

/* A cursor on the members (or keys) database of shard s, whose transaction
 * is open in this read, renewed for it. */
static int reader_cursor(pcs_reader *r, unsigned s, bool keys, MDB_cursor **out)
{
    MDB_cursor **slot = keys ? &r->kcur[s] : &r->cur[s];
    uint64_t *live = keys ? &r->kcurlive : &r->curlive;
    uint64_t bit = UINT64_C(1) << s;
    const pcs_shard *sh = &r->st->shards[s];
    int rc = 0;
    if (!*slot)
        rc = mdb_cursor_open(r->txn[s], keys ? sh->keys : sh->members, slot);
    else if (!(*live & bit))
        rc = mdb_cursor_renew(r->txn[s], *slot);
    if (rc)
        return pcs_mdb_err(rc);
    *live |= bit;
    *out = *slot;
    return 0;
}

/*
 * Look a key of type want (PC_T_NONE: any) up: check the key, find its shard
 * (*shard, may be NULL) and view, tell the note.  0, PC_ENOTFOUND,
 * PC_EWRONGTYPE, PC_EKEY, or an error.
 */
static inline int reader_rec(pcs_reader *r, const void *key, size_t klen, pc_type want, pcs_view *v,
                             pcs_rec *rec, unsigned *shard)
{
    int rc = pcs_key_ok(key, klen);
    if (rc)
        return rc;
    unsigned s = pcs_shard_of(r->st->nshards, key, klen);
    if (shard)
        *shard = s;
    if ((rc = pcs_reader_view(r, s, v)))
        return rc;
    rc = pcs_lookup(v, key, klen, rec, NULL);
    if (r->note)
        r->note(r->note_ctx, key, klen, rc, r->now);
    if (rc)
        return rc;
    return want == PC_T_NONE || rec->type == want ? 0 : PC_EWRONGTYPE;
}

/* ---- for reads in other files (reader_stream.c, zset.c) ---- */

int pcs_reader_rec(pcs_reader *r, const void *key, size_t klen, pc_type want, pcs_view *v,
                   pcs_rec *rec, unsigned *shard)
{
    return reader_rec(r, key, klen, want, v, rec, shard);
}

int pcs_reader_cursor(pcs_reader *r, unsigned s, MDB_cursor **out)
{
    return reader_cursor(r, s, false, out);
}

/* ---- keys and strings ---- */

int pcs_rd_get(pcs_reader *r, const void *key, size_t klen, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (rc)
        return rc;
    if (rec.type == PC_T_STRING) {
        out->kind = PC_BYTES;
        out->s.ptr = rec.data;
        out->s.len = rec.dlen;
        return 0;
    }
    if (rec.type == PC_T_NUMERIC) {
        *out = rec.num;
        return 0;
    }
    return PC_EWRONGTYPE;
}

int pcs_rd_type(pcs_reader *r, const void *key, size_t klen, pc_type *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (rc == PC_ENOTFOUND) {
        *out = PC_T_NONE;
        return 0;
    }
    if (!rc)
        *out = rec.type;
    return rc;
}

int pcs_rd_ttl(pcs_reader *r, const void *key, size_t klen, int64_t *ms_left)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (!rc)
        *ms_left = rec.expire_at ? (int64_t)(rec.expire_at - r->now) : -1;
    return rc;
}

int pcs_rd_version(pcs_reader *r, const void *key, size_t klen, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (!rc)
        *out = rec.version;
    return rc;
}

int pcs_rd_strlen(pcs_reader *r, const void *key, size_t klen, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_STRING, &v, &rec, NULL);
    if (!rc)
        *out = rec.dlen;
    return rc;
}

int pcs_rd_getrange(pcs_reader *r, const void *key, size_t klen, int64_t start, int64_t end,
                    pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_STRING, &v, &rec, NULL);
    if (rc)
        return rc;
    /* Redis GETRANGE: negative offsets count from the end and are then
     * clamped to the string (unlike LRANGE, an end before the start of the
     * string means its first byte). */
    int64_t n = (int64_t)rec.dlen;
    out->kind = PC_BYTES;
    out->s.ptr = rec.data;
    out->s.len = 0;
    if ((start < 0 && end < 0 && start > end) || n == 0)
        return 0;
    if (start < 0)
        start = start < -n ? 0 : start + n;
    if (end < 0)
        end = end < -n ? 0 : end + n;
    if (end >= n)
        end = n - 1;
    if (start <= end) {
        out->s.ptr = rec.data + start;
        out->s.len = (size_t)(end - start + 1);
    }
    return 0;
}

int pcs_rd_get_typed(pcs_reader *r, const void *key, size_t klen, pc_val *out, pc_type *type)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (rc)
        return rc;
    *type = rec.type;
    if (rec.type == PC_T_STRING) {
        out->kind = PC_BYTES;
        out->s.ptr = rec.data;
        out->s.len = rec.dlen;
    } else if (rec.type == PC_T_NUMERIC) {
        *out = rec.num;
    } else {
        out->kind = PC_NONE;
    }
    return 0;
}

int pcs_rd_expiretime(pcs_reader *r, const void *key, size_t klen, int64_t *at_ms)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (!rc)
        *at_ms = rec.expire_at ? (int64_t)rec.expire_at : -1;
    return rc;
}

/* ---- collections ---- */

int pcs_rd_count(pcs_reader *r, const void *key, size_t klen, pc_type t, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!pcs_is_coll(t))
        return PC_EINVAL;
    int rc = reader_rec(r, key, klen, t, &v, &rec, NULL);
    if (!rc)
        *out = rec.count;
    return rc;
}

int pcs_rd_index(pcs_reader *r, const void *key, size_t klen, pc_type t, int64_t index, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!pcs_is_seq(t))
        return PC_EINVAL;
    int rc = reader_rec(r, key, klen, t, &v, &rec, NULL);
    if (rc)
        return rc;
    uint64_t pos;
    if (!pcs_norm_index(index, rec.count, &pos))
        return PC_ERANGE;
    return pcs_seq_get(&v, &rec, pos, out);
}

int pcs_rd_range(pcs_reader *r, const void *key, size_t klen, pc_type t, int64_t start,
                 int64_t stop, pc_val *out, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    *n = 0;
    if (!pcs_is_seq(t))
        return PC_EINVAL;
    int rc = reader_rec(r, key, klen, t, &v, &rec, &s);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    uint64_t from, to;
    if (!pcs_norm_range(start, stop, rec.count, &from, &to) || max == 0)
        return 0;
    MDB_cursor *cur = NULL;
    if ((rc = reader_cursor(r, s, false, &cur)))
        return rc;
    return pcs_seq_range(&v, cur, &rec, from, to, out, max, n);
}

int pcs_rd_hget(pcs_reader *r, const void *key, size_t klen, const void *field, size_t flen,
                pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_MAP, &v, &rec, NULL);
    return rc ? rc : pcs_map_get(&v, &rec, field, flen, out, NULL);
}

int pcs_rd_hmget(pcs_reader *r, const void *key, size_t klen, const pc_bytes *fields, size_t n,
                 pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_MAP, &v, &rec, NULL);
    bool missing = rc == PC_ENOTFOUND;
    if (rc && !missing)
        return rc;
    for (size_t i = 0; i < n; i++) {
        out[i].kind = PC_NONE;
        if (missing)
            continue;
        rc = pcs_map_get(&v, &rec, fields[i].ptr, fields[i].len, &out[i], NULL);
        if (rc == PC_ENOTFOUND)
            out[i].kind = PC_NONE;
        else if (rc)
            return rc;
    }
    return 0;
}

int pcs_rd_hstrlen(pcs_reader *r, const void *key, size_t klen, const void *field, size_t flen,
                   uint64_t *out)
{
    pc_val v;
    int rc = pcs_rd_hget(r, key, klen, field, flen, &v);
    if (rc)
        return rc;
    if (v.kind != PC_BYTES)
        return PC_EWRONGTYPE;
    *out = v.s.len;
    return 0;
}

int pcs_rd_lpos(pcs_reader *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
                uint64_t maxlen, uint64_t *pos, size_t max, size_t *n)
{
    pcs_view view;
    pcs_rec rec;
    unsigned s;
    *n = 0;
    if (rank == 0 || rank == INT64_MIN)
        return PC_EINVAL;
    int rc = pcs_val_check(v, UINT64_MAX);
    if (rc)
        return rc;
    rc = reader_rec(r, key, klen, PC_T_LIST, &view, &rec, &s);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    MDB_cursor *cur = NULL;
    if (max == 0 || (rc = reader_cursor(r, s, false, &cur)))
        return rc;
    bool back = rank < 0;
    uint64_t skip = back ? (uint64_t)(-(rank + 1)) : (uint64_t)(rank - 1);
    uint64_t limit = maxlen && maxlen < rec.count ? maxlen : rec.count;
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_mkey_pos(kb, rec.gen, back ? rec.tail - 1 : rec.head), kb}, d;
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
    for (uint64_t i = 0; i < limit && *n < max; i++) {
        if (rc)
            return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
        pc_val e;
        if ((rc = pcs_elem_decode(d.mv_data, d.mv_size, &e)))
            return rc;
        if (pcs_val_equal(&e, v)) {
            if (skip)
                skip--;
            else
                pos[(*n)++] = back ? rec.count - 1 - i : i;
        }
        if (i + 1 < limit)
            rc = mdb_cursor_get(cur, &k, &d, back ? MDB_PREV : MDB_NEXT);
    }
    return 0;
}

/* Walk every member of a Set (r's members cursor mc): call take for each
 * with its number i. */
static int set_walk(MDB_cursor *mc, const pcs_rec *rec,
                    void (*take)(void *arg, uint64_t i, const pc_val *m), void *arg)
{
    uint8_t g[PCS_GEN_LEN];
    pcs_put_be64(g, rec->gen);
    MDB_val k = {sizeof g, g}, d;
    int rc = mdb_cursor_get(mc, &k, &d, MDB_SET_RANGE);
    for (uint64_t i = 0; i < rec->count; i++) {
        if (rc || k.mv_size < PCS_GEN_LEN || memcmp(k.mv_data, g, sizeof g))
            return rc && rc != MDB_NOTFOUND ? pcs_mdb_err(rc) : PC_ECORRUPT;
        pc_val m;
        if ((rc = pcs_set_entry(&k, &d, &m)))
            return rc;
        take(arg, i, &m);
        rc = mdb_cursor_get(mc, &k, &d, MDB_NEXT);
    }
    return 0;
}

/* Reservoir sampling of k members (set_walk's take). */
struct reservoir {
    pc_val *out;
    uint64_t k;
    uint64_t *rng;
};
static void reservoir_take(void *arg, uint64_t i, const pc_val *m)
{
    struct reservoir *a = arg;
    if (i < a->k) {
        a->out[i] = *m;
    } else {
        uint64_t j = pcs_rng_next(a->rng) % (i + 1);
        if (j < a->k)
            a->out[j] = *m;
    }
}

/* Every member of a small Set, into a->out (set_walk's take). */
static void all_take(void *arg, uint64_t i, const pc_val *m)
{
    ((struct reservoir *)arg)->out[i] = *m;
}

static void shuffle(pc_val *v, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(pcs_rng_next(rng) % i);
        pc_val t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* One member of a Set picked at random (pcs_range_pick). */
static int set_pick(pcs_reader *r, MDB_cursor *mc, const pcs_rec *rec, pc_val *m)
{
    uint8_t g[PCS_GEN_LEN];
    pcs_put_be64(g, rec->gen);
    MDB_val k, d;
    int rc = pcs_range_pick(mc, g, sizeof g, rec->count, PCS_MKEY_MAX, &r->rng, &k, &d);
    if (rc)
        return rc == PC_ENOTFOUND ? PC_ECORRUPT : rc;
    return pcs_set_entry(&k, &d, m);
}

/* Distinct members of a large Set by picking at random, for few of them:
 * 0 with *n == k, or fewer when the picks kept meeting the same ones. */
static int set_pick_distinct(pcs_reader *r, MDB_cursor *mc, const pcs_rec *rec, pc_val *out,
                             size_t k, size_t *n)
{
    *n = 0;
    for (size_t tries = 0; *n < k && tries < 16 * k; tries++) {
        pc_val m;
        int rc = set_pick(r, mc, rec, &m);
        if (rc)
            return rc;
        bool dup = false;
        for (size_t j = 0; j < *n && !dup; j++)
            dup = pcs_val_equal(&out[j], &m);
        if (!dup)
            out[(*n)++] = m;
    }
    return 0;
}

int pcs_rd_srandmember(pcs_reader *r, const void *key, size_t klen, int64_t count, pc_val *out,
                       size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    *n = 0;
    int rc = reader_rec(r, key, klen, PC_T_SET, &v, &rec, &s);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    MDB_cursor *mc = NULL;
    if (count == 0 || max == 0 || (rc = reader_cursor(r, s, false, &mc)))
        return rc;
    uint64_t card = rec.count;
    if (count > 0) {
        uint64_t k = (uint64_t)count < card ? (uint64_t)count : card;
        k = k < max ? k : max;
        if (card > PCS_PICK_EXACT && k <= 64) {
            if ((rc = set_pick_distinct(r, mc, &rec, out, (size_t)k, n)) || *n == k)
                return rc;
        }
        struct reservoir a = {out, k, &r->rng};
        if ((rc = set_walk(mc, &rec, reservoir_take, &a)))
            return rc;
        shuffle(out, (size_t)k, &r->rng);
        *n = (size_t)k;
        return 0;
    }
    uint64_t want = (uint64_t)0 - (uint64_t)count;
    size_t k = want < max ? (size_t)want : max;
    if (card <= PCS_PICK_EXACT) { /* all of them at hand, then picks */
        pc_val all[PCS_PICK_EXACT];
        struct reservoir a = {all, card, &r->rng};
        if ((rc = set_walk(mc, &rec, all_take, &a)))
            return rc;
        for (size_t i = 0; i < k; i++)
            out[i] = all[pcs_rng_next(&r->rng) % card];
        *n = k;
        return 0;
    }
    for (size_t i = 0; i < k; i++)
        if ((rc = set_pick(r, mc, &rec, &out[i])))
            return rc;
    *n = k;
    return 0;
}

/* The collection a paged listing walks.  1: nothing to walk (a missing key
 * ends the cursor; an ended cursor stays so), 0 with *mc a members cursor,
 * or an error. */
static int scan_rec(pcs_reader *r, const void *key, size_t klen, pc_type t, pc_cursor *cur,
                    size_t *n, pcs_view *v, pcs_rec *rec, MDB_cursor **mc)
{
    unsigned s;
    *n = 0;
    int rc = reader_rec(r, key, klen, t, v, rec, &s);
    if (rc == PC_ENOTFOUND) {
        cur->done = true;
        return 1;
    }
    if (rc)
        return rc;
    if (cur->done)
        return 1;
    return reader_cursor(r, s, false, mc);
}

int pcs_rd_hscan(pcs_reader *r, const void *key, size_t klen, pc_cursor *cur, pc_bytes *fields,
                 pc_val *vals, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *mc = NULL;
    int rc = scan_rec(r, key, klen, PC_T_MAP, cur, n, &v, &rec, &mc);
    if (rc)
        return rc > 0 ? 0 : rc;
    return pcs_map_scan(&v, mc, &rec, cur, fields, vals, max, n);
}

int pcs_rd_sismember(pcs_reader *r, const void *key, size_t klen, const pc_val *member, int *out)
{
    pcs_view v;
    pcs_rec rec;
    *out = 0;
    int rc = pcs_val_check(member, UINT64_MAX);
    if (rc)
        return rc;
    rc = reader_rec(r, key, klen, PC_T_SET, &v, &rec, NULL);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    bool has;
    rc = pcs_set_has(&v, &rec, member, &has, NULL);
    *out = has;
    return rc;
}

int pcs_rd_sscan(pcs_reader *r, const void *key, size_t klen, pc_cursor *cur, pc_val *out,
                 size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *mc = NULL;
    int rc = scan_rec(r, key, klen, PC_T_SET, cur, n, &v, &rec, &mc);
    if (rc)
        return rc > 0 ? 0 : rc;
    return pcs_set_scan(&v, mc, &rec, cur, out, max, n);
}

int pcs_rd_salg(pcs_reader *r, int how, const pc_bytes *keys, size_t nkeys, pc_cursor *cur,
                pc_val *out, size_t max, size_t *n)
{
    *n = 0;
    if (how != PCS_SET_UNION && how != PCS_SET_INTER && how != PCS_SET_DIFF)
        return PC_EINVAL;
    pcs_view *views = pcs_calloc(nkeys ? nkeys : 1, sizeof *views);
    pcs_rec *recs = pcs_calloc(nkeys ? nkeys : 1, sizeof *recs);
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers to structs
    const pcs_rec **rp = pcs_calloc(nkeys ? nkeys : 1, sizeof *rp);
    int rc = views && recs && rp ? 0 : PC_ENOMEM;
    for (size_t i = 0; i < nkeys && !rc; i++) {
        rc = reader_rec(r, keys[i].ptr, keys[i].len, PC_T_SET, &views[i], &recs[i], NULL);
        if (rc == PC_ENOTFOUND) {
            rc = 0;
            rp[i] = NULL;
        } else if (!rc) {
            rp[i] = &recs[i];
        }
    }
    if (!rc)
        rc = pcs_set_algebra(how, views, rp, nkeys, cur, out, max, n);
    pcs_free(views);
    pcs_free(recs);
    pcs_free((void *)rp);
    return rc;
}

/* ---- the whole store, shard by shard ---- */

/* One shard's page of a listing: at most max items from the listing's
 * item number at on, *got how many, *end when the shard is exhausted. */
typedef int (*shard_page_fn)(pcs_reader *r, const pcs_view *v, unsigned s, void *arg,
                             pc_cursor *cur, size_t at, size_t max, size_t *got, bool *end);

/* Page through the shards from cur's on, until max items or the last. */
static int walk_shards(pcs_reader *r, pc_cursor *cur, size_t max, size_t *n, shard_page_fn page,
                       void *arg)
{
    while (!cur->done && *n < max) {
        if (cur->shard >= r->st->nshards) {
            cur->done = true;
            break;
        }
        pcs_view v;
        size_t got = 0;
        bool end = false;
        int rc = pcs_reader_view(r, cur->shard, &v);
        if (rc || (rc = page(r, &v, cur->shard, arg, cur, *n, max - *n, &got, &end)))
            return rc;
        *n += got;
        if (end) {
            cur->shard++;
            cur->started = 0;
            cur->len = 0;
        }
    }
    return 0;
}

struct scan_arg {
    const char *glob;
    pc_bytes *keys;
    int64_t *when;
};

static int keys_page(pcs_reader *r, const pcs_view *v, unsigned s, void *arg, pc_cursor *cur,
                     size_t at, size_t max, size_t *got, bool *end)
{
    struct scan_arg *a = arg;
    MDB_cursor *kc = NULL;
    int rc = reader_cursor(r, s, true, &kc);
    return rc ? rc : pcs_key_scan(v, kc, a->glob, cur, a->keys + at, max, got, end);
}

int pcs_rd_scan(pcs_reader *r, const char *glob, pc_cursor *cur, pc_bytes *keys, size_t max,
                size_t *n)
{
    struct scan_arg a = {glob, keys, NULL};
    *n = 0;
    return walk_shards(r, cur, max, n, keys_page, &a);
}

int pcs_rd_expired(pcs_reader *r, uint64_t *n)
{
    int rc = 0;
    *n = 0;
    for (unsigned s = 0; s < r->st->nshards && !rc; s++) {
        pcs_view v;
        if (!(rc = pcs_reader_view(r, s, &v)))
            rc = pcs_expiry_due(&v, n);
    }
    return rc;
}

/* The keys a shard's counts hold, of every type. */
static uint64_t keys_counted(const uint64_t *c)
{
    uint64_t keys = 0;
    for (int t = PC_T_STRING; t < PC_T__COUNT; t++)
        keys += c[pcs_c_type((pc_type)t)];
    return keys;
}

int pcs_rd_dbsize(pcs_reader *r, uint64_t *n)
{
    uint64_t keys = 0, expired = 0;
    *n = 0;
    for (unsigned s = 0; s < r->st->nshards; s++) {
        pcs_view v;
        uint64_t c[PCS_COUNTS];
        int rc = pcs_reader_view(r, s, &v);
        if (rc || (rc = pcs_counts_get(v.txn, v.sh, c)) || (rc = pcs_expiry_due(&v, &expired)))
            return rc;
        keys += keys_counted(c);
    }
    *n = keys > expired ? keys - expired : 0;
    return 0;
}

/* The first live key of shard s at or after the key cur stands on (kc, at
 * k/d), wrapping to the shard's first key, looking at no more than count + 1
 * keys.  0 with *key, PC_ENOTFOUND when none is live. */
static int live_from(pcs_reader *r, MDB_cursor *kc, uint64_t count, MDB_val *k, MDB_val *d,
                     pc_bytes *key)
{
    for (uint64_t i = 0; i <= count; i++) {
        pcs_rec rec;
        int rc = pcs_rec_decode(d->mv_data, d->mv_size, &rec);
        if (rc)
            return rc;
        if (!pcs_rec_expired(&rec, r->now)) {
            key->ptr = k->mv_data;
            key->len = k->mv_size;
            return 0;
        }
        rc = mdb_cursor_get(kc, k, d, MDB_NEXT);
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(kc, k, d, MDB_FIRST);
        if (rc)
            return rc == MDB_NOTFOUND ? PC_ENOTFOUND : pcs_mdb_err(rc);
    }
    return PC_ENOTFOUND;
}

int pcs_rd_randomkey(pcs_reader *r, pc_bytes *key)
{
    uint64_t cnt[PCS_SHARDS_MAX], total = 0;
    unsigned ns = r->st->nshards;
    for (unsigned s = 0; s < ns; s++) {
        pcs_view v;
        uint64_t c[PCS_COUNTS];
        int rc = pcs_reader_view(r, s, &v);
        if (rc || (rc = pcs_counts_get(v.txn, v.sh, c)))
            return rc;
        cnt[s] = keys_counted(c);
        total += cnt[s];
    }
    if (total == 0)
        return PC_ENOTFOUND;
    uint64_t x = pcs_rng_next(&r->rng) % total;
    unsigned first = 0;
    while (x >= cnt[first])
        x -= cnt[first++];
    /* That shard first; when all of its keys have expired, the next ones. */
    for (unsigned i = 0; i < ns; i++) {
        unsigned s = (first + i) % ns;
        if (!cnt[s])
            continue;
        MDB_cursor *kc = NULL;
        MDB_val k, d;
        static const uint8_t none[1] = {0};
        int rc = reader_cursor(r, s, true, &kc);
        if (!rc)
            rc = pcs_range_pick(kc, none, 0, cnt[s], PC_KEY_MAX, &r->rng, &k, &d);
        if (!rc)
            rc = live_from(r, kc, cnt[s], &k, &d, key);
        if (rc != PC_ENOTFOUND)
            return rc;
    }
    return PC_ENOTFOUND;
}

static int expiry_page(pcs_reader *r, const pcs_view *v, unsigned s, void *arg, pc_cursor *cur,
                       size_t at, size_t max, size_t *got, bool *end)
{
    (void)r;
    (void)s;
    struct scan_arg *a = arg;
    return pcs_expiry_page(v, a->glob, cur, a->keys ? a->keys + at : NULL,
                           a->when ? a->when + at : NULL, max, got, end);
}

int pcs_rd_expiry_scan(pcs_reader *r, const char *glob, pc_cursor *cur, pc_bytes *keys,
                       int64_t *when, size_t max, size_t *n)
{
    struct scan_arg a = {glob, keys, when};
    *n = 0;
    return walk_shards(r, cur, max, n, expiry_page, &a);
}

/* ---- issue 16: the helpers and the probabilistic types ---- */

int pcs_rd_flight(pcs_reader *r, const void *key, size_t klen, pc_flight *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_FLIGHT, &v, &rec, NULL);
    if (rc)
        return rc;
    out->state = !rec.fresh_until           ? PC_FLIGHT_MISS
                 : r->now < rec.fresh_until ? PC_FLIGHT_FRESH
                                            : PC_FLIGHT_STALE;
    out->value = rec.val;
    out->token = rec.token;
    out->lease_until_ms = (int64_t)rec.lease_until;
    out->owner_pid = rec.owner;
    return 0;
}

int pcs_rd_getbit(pcs_reader *r, const void *key, size_t klen, uint64_t off, int *bit)
{
    pcs_view v;
    pcs_rec rec;
    *bit = 0;
    if (off >= PCS_BITS_MAX)
        return PC_EINVAL;
    int rc = reader_rec(r, key, klen, PC_T_BITS, &v, &rec, NULL);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    return pcs_bits_get(&v, &rec, off, bit);
}

int pcs_rd_bitcount(pcs_reader *r, const void *key, size_t klen, int64_t start, int64_t end,
                    unsigned flags, uint64_t *n)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    *n = 0;
    if (flags & ~(unsigned)PC_BITS_BIT)
        return PC_EINVAL;
    int rc = reader_rec(r, key, klen, PC_T_BITS, &v, &rec, &s);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    bool bits = flags & PC_BITS_BIT;
    uint64_t from, to;
    if (!pcs_bits_range(start, end, bits ? 8 * rec.nbytes : rec.nbytes, bits, &from, &to))
        return 0;
    MDB_cursor *cur;
    if ((rc = reader_cursor(r, s, false, &cur)))
        return rc;
    return pcs_bits_count(cur, &rec, from, to, n);
}

int pcs_rd_bitpos(pcs_reader *r, const void *key, size_t klen, int bit, int64_t start, int64_t end,
                  unsigned flags, int64_t *pos)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    *pos = -1;
    if ((flags & ~(unsigned)(PC_BITS_BIT | PC_BITS_END)) || (bit != 0 && bit != 1))
        return PC_EINVAL;
    int rc = reader_rec(r, key, klen, PC_T_BITS, &v, &rec, &s);
    if (rc == PC_ENOTFOUND) {
        *pos = bit ? -1 : 0;
        return 0;
    }
    if (rc)
        return rc;
    bool bits = flags & PC_BITS_BIT;
    uint64_t from, to;
    if (!(flags & PC_BITS_END))
        end = -1;
    if (!pcs_bits_range(start, end, bits ? 8 * rec.nbytes : rec.nbytes, bits, &from, &to))
        return 0;
    MDB_cursor *cur;
    if ((rc = reader_cursor(r, s, false, &cur)) ||
        (rc = pcs_bits_pos(cur, &rec, bit, from, to, pos)))
        return rc;
    /* No end given: the array goes on with zeros (Redis). */
    if (*pos < 0 && !bit && !(flags & PC_BITS_END))
        *pos = (int64_t)(to + 1);
    return 0;
}

int pcs_rd_bitlen(pcs_reader *r, const void *key, size_t klen, uint64_t *bytes)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_BITS, &v, &rec, NULL);
    if (!rc)
        *bytes = rec.nbytes;
    return rc;
}

int pcs_rd_bf_exists(pcs_reader *r, const void *key, size_t klen, const pc_bytes *items, size_t n,
                     int *out)
{
    pcs_view v;
    pcs_rec rec;
    for (size_t i = 0; i < n; i++)
        out[i] = 0;
    int rc = reader_rec(r, key, klen, PC_T_BLOOM, &v, &rec, NULL);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    for (size_t i = 0; i < n; i++) {
        uint64_t h[2];
        bool has;
        if (items[i].len && !items[i].ptr)
            return PC_EINVAL;
        pcs_bf_hash(items[i].ptr, items[i].len, h);
        if ((rc = pcs_bf_has(&v, &rec, h, &has)))
            return rc;
        out[i] = has;
    }
    return 0;
}

int pcs_rd_bf_info(pcs_reader *r, const void *key, size_t klen, pc_bf_info *out)
{
    pcs_view v;
    pcs_rec rec;
    int rc = reader_rec(r, key, klen, PC_T_BLOOM, &v, &rec, NULL);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < rec.bf_layers; i++) {
        pcs_bf_layer l;
        pcs_bf_layer_dec(&rec, i, &l);
        out->capacity += l.capacity;
        out->size += (l.bits + 7) / 8;
    }
    out->filters = rec.bf_layers;
    out->nonscaling = rec.bf_flags & PCS_BF_NONSCALING;
    out->expansion = out->nonscaling ? 0 : rec.bf_expansion;
    out->items = rec.count;
    out->error_rate = rec.bf_error;
    return 0;
}

/* ---- cursors on the wire ---- */

static void cursor_bytes(uint8_t *b, const pc_cursor *cur, size_t *n)
{
    size_t len = cur->len > PC_CURSOR_POS_MAX ? PC_CURSOR_POS_MAX : cur->len;
    b[0] = cur->done ? 1 : 0;
    b[1] = cur->started;
    pcs_put_le16(b + 2, (uint16_t)len);
    pcs_put_le32(b + 4, cur->shard);
    memcpy(b + 8, cur->pos, len);
    *n = 8 + len;
}

void pcs_cursor_enc(pcs_enc *e, const pc_cursor *cur)
{
    uint8_t b[8 + PC_CURSOR_POS_MAX];
    size_t n;
    cursor_bytes(b, cur, &n);
    pcs_enc_bytes(e, b, n);
}

void pcs_cursor_out(pcs_buf *out, const pc_cursor *cur)
{
    uint8_t b[8 + PC_CURSOR_POS_MAX];
    size_t n;
    cursor_bytes(b, cur, &n);
    pcs_out_bytes(out, b, n);
}

int pcs_cursor_dec(const pc_val *v, pc_cursor *cur)
{
    if (v->kind != PC_BYTES || v->s.len < 8 || v->s.len > 8 + PC_CURSOR_POS_MAX)
        return PC_EPROTO;
    const uint8_t *b = v->s.ptr;
    uint16_t len = pcs_le16(b + 2);
    if (b[0] > 1 || b[1] > 1 || len != v->s.len - 8)
        return PC_EPROTO;
    cur->done = b[0] != 0;
    cur->started = b[1];
    cur->len = len;
    cur->shard = pcs_le32(b + 4);
    memcpy(cur->pos, b + 8, len);
    return 0;
}
