/*
 * target.c - the walk over one consistent read of the store that every
 * snapshot target is written from, and the write transactions a restore
 * loads into (target.h).
 */
#include "target.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "../shm/read.h"
#include "../shm/stream.h"
#include "../shm/zset.h"

static const char *const type_names[] = {NULL,    "string", "numeric", "list",  "map",    "set",
                                         "queue", "flight", "bits",    "bloom", "stream", "zset"};
_Static_assert(sizeof type_names / sizeof type_names[0] == PC_T__COUNT, "a name for every type");
static const char *const kind_names[] = {NULL, "nil", "bytes", "int", "double", "bool"};

const char *pcp_type_name(int type)
{
    return type > 0 && type < PC_T__COUNT ? type_names[type] : "?";
}

int pcp_type_of(const char *name, size_t len)
{
    for (int t = 1; name && t < PC_T__COUNT; t++)
        if (strlen(type_names[t]) == len && !memcmp(name, type_names[t], len))
            return t;
    return 0;
}

const char *pcp_kind_name(int kind)
{
    return kind_names[kind > 0 && kind <= PC_BOOL ? kind : PC_NIL];
}

int pcp_kind_of(const char *name, size_t len)
{
    for (int k = 1; name && k <= PC_BOOL; k++)
        if (strlen(kind_names[k]) == len && !memcmp(name, kind_names[k], len))
            return k;
    return 0;
}

/* ---- the walk ---- */

typedef struct walker {
    const pcp_sink *s;
    pcp_counts *n;
    uint64_t now;
    char *why;
    size_t whylen;
} walker;

static void say(walker *wk, int rc, const char *what, ...) __attribute__((format(printf, 3, 4)));
static void say(walker *wk, int rc, const char *what, ...)
{
    char head[160];
    va_list ap;
    va_start(ap, what);
    vsnprintf(head, sizeof head, what, ap);
    va_end(ap);
    const char *msg = wk->s->errmsg ? wk->s->errmsg(wk->s->ctx) : NULL;
    snprintf(wk->why, wk->whylen, "%s: %s", head, msg && *msg ? msg : pc_strerror(rc));
}

/* Is the record one a snapshot leaves out?  A Flight with no value (a lease
 * alone: nobody holds it after a restart), or whose value is past its
 * stale end while a lease keeps the key. */
static bool left_out(const pcs_rec *r, uint64_t now)
{
    return r->type == PC_T_FLIGHT && (!r->fresh_until || r->stale_until <= now);
}

/* What the keys table records as a key's expiry: a Flight's is its value's
 * stale end (its lease is not kept). */
static uint64_t kept_expiry(const pcs_rec *r)
{
    return r->type == PC_T_FLIGHT ? r->stale_until : r->expire_at;
}

/* The stored chunks of the record under key, in order. */
static int walk_chunks(walker *wk, MDB_cursor *mc, const pc_bytes *key, const pcs_rec *r)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_mkey_pos(kb, r->gen, 0), kb}, d;
    uint64_t n = 0;
    int rc;
    for (rc = mdb_cursor_get(mc, &k, &d, MDB_SET_RANGE);
         !rc && k.mv_size == 16 && pcs_be64(k.mv_data) == r->gen;
         rc = mdb_cursor_get(mc, &k, &d, MDB_NEXT)) {
        uint64_t pos = pcs_be64((const uint8_t *)k.mv_data + 8);
        int e = wk->s->chunk(wk->s->ctx, key, (uint32_t)(pos >> 32), (uint32_t)(pos & UINT32_MAX),
                             d.mv_data, d.mv_size);
        if (e)
            return e;
        wk->n->chunks++;
        n++;
    }
    if (rc && rc != MDB_NOTFOUND)
        return pcs_mdb_err(rc);
    return r->type != PC_T_BITS || n == r->count ? 0 : PC_ECORRUPT;
}

/* A Bloom filter's settings and layers (its bits: walk_chunks). */
static int walk_bloom(walker *wk, const pc_bytes *key, const pcs_rec *r)
{
    int rc = wk->s->bloom(wk->s->ctx, key, r->bf_error, r->bf_capacity, r->bf_expansion,
                          (r->bf_flags & PCS_BF_NONSCALING) != 0);
    if (rc)
        return rc;
    wk->n->blooms++;
    for (unsigned i = 0; i < r->bf_layers; i++) {
        pcs_bf_layer l;
        pcs_bf_layer_dec(r, i, &l);
        if ((rc = wk->s->layer(wk->s->ctx, key, i, &l)))
            return rc;
        wk->n->layers++;
    }
    return 0;
}

/* ---- streams and sorted sets (issue 17) ---- */

/* An entry's pairs, decoded, to the sink. */
static int walk_xentry(walker *wk, const pc_bytes *key, const MDB_val *k, const MDB_val *d)
{
    pc_xid id = pcs_xk_id(k->mv_data, k->mv_size);
    size_t np;
    int rc = pcs_xentry_check(d->mv_data, d->mv_size, &np);
    if (rc)
        return rc;
    pc_val *fv = pcs_calloc(2 * np, sizeof *fv);
    if (!fv)
        return PC_ENOMEM;
    if (!(rc = pcs_xentry_decode(d->mv_data, d->mv_size, fv, 2 * np, &np)))
        rc = wk->s->xentry(wk->s->ctx, key, id, fv, np);
    pcs_free(fv);
    wk->n->xentries += !rc;
    return rc;
}

/* A Stream: its figures, then its members in their stored order (entries,
 * groups, pending entries, consumers). */
static int walk_stream(walker *wk, MDB_cursor *mc, const pc_bytes *key, const pcs_rec *r)
{
    int rc = wk->s->stream(wk->s->ctx, key, r->xs_last, r->xs_maxdel, r->xs_added);
    if (rc)
        return rc;
    wk->n->streams++;
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k = {pcs_mkey_pos(kb, r->gen, 0), kb}, d;
    k.mv_size = 8;
    uint64_t entries = 0;
    int mrc;
    for (mrc = mdb_cursor_get(mc, &k, &d, MDB_SET_RANGE);
         !mrc && !rc && k.mv_size > 8 && pcs_be64(k.mv_data) == r->gen;
         mrc = mdb_cursor_get(mc, &k, &d, MDB_NEXT)) {
        const uint8_t *b = k.mv_data;
        size_t gl = k.mv_size > 9 ? b[9] : 0;
        if (b[8] == PCS_XT_ENTRY && k.mv_size == 25) {
            rc = walk_xentry(wk, key, &k, &d);
            entries++;
        } else if (b[8] == PCS_XT_GROUP) {
            pcs_xgroup g;
            pc_bytes gn = pc_b(b + 9, k.mv_size - 9);
            if (!(rc = pcs_xgroup_dec(d.mv_data, d.mv_size, &g)) &&
                !(rc = wk->s->xgroup(wk->s->ctx, key, &gn, g.last, g.entries_read)))
                wk->n->xgroups++;
        } else if (b[8] == PCS_XT_PEL && k.mv_size == 10 + gl + 16) {
            pcs_xpel e;
            pc_bytes gn = pc_b(b + 10, gl);
            if (!(rc = pcs_xpel_dec(d.mv_data, d.mv_size, &e)) &&
                !(rc = wk->s->xpending(wk->s->ctx, key, &gn, pcs_xk_id(b, k.mv_size), &e.consumer,
                                       e.time, e.count)))
                wk->n->xpending++;
        } else if (b[8] == PCS_XT_CONS && k.mv_size > 10 + gl) {
            pcs_xcons c;
            pc_bytes gn = pc_b(b + 10, gl), cn = pc_b(b + 10 + gl, k.mv_size - 10 - gl);
            if (!(rc = pcs_xcons_dec(d.mv_data, d.mv_size, &c)) &&
                !(rc = wk->s->xconsumer(wk->s->ctx, key, &gn, &cn, c.seen, c.active)))
                wk->n->xconsumers++;
        } else {
            rc = PC_ECORRUPT;
        }
    }
    if (!rc && mrc && mrc != MDB_NOTFOUND)
        rc = pcs_mdb_err(mrc);
    return rc || entries == r->count ? rc : PC_ECORRUPT;
}

/* A sorted set's members with their scores, in its stored order. */
static int walk_zset(walker *wk, MDB_cursor *mc, const pc_bytes *key, const pcs_rec *r)
{
    uint8_t kb[PCS_GEN_LEN + 1];
    pcs_put_be64(kb, r->gen);
    kb[PCS_GEN_LEN] = PCS_Z_ENT;
    MDB_val k = {sizeof kb, kb}, d;
    uint64_t n = 0;
    int rc;
    for (rc = mdb_cursor_get(mc, &k, &d, MDB_SET_RANGE);
         !rc && k.mv_size > sizeof kb && !memcmp(k.mv_data, kb, sizeof kb);
         rc = mdb_cursor_get(mc, &k, &d, MDB_NEXT)) {
        pc_val m;
        double score;
        int e = pcs_z_entry(&k, &d, &m, &score);
        if (e || (e = wk->s->zmember(wk->s->ctx, key, &m, score)))
            return e;
        wk->n->zmembers++;
        n++;
    }
    if (rc && rc != MDB_NOTFOUND)
        return pcs_mdb_err(rc);
    return n == r->count ? 0 : PC_ECORRUPT;
}

/* The rows of issue 16's and 17's tables for the key. */
static int walk_extra(walker *wk, MDB_cursor *mc, const pc_bytes *key, const pcs_rec *r)
{
    int rc;
    if (r->type == PC_T_ZSET)
        return walk_zset(wk, mc, key, r);
    if (r->type == PC_T_STREAM)
        return walk_stream(wk, mc, key, r);
    if (r->type == PC_T_BITS)
        return walk_chunks(wk, mc, key, r);
    if (r->type == PC_T_BLOOM)
        return (rc = walk_bloom(wk, key, r)) ? rc : walk_chunks(wk, mc, key, r);
    if (r->type != PC_T_FLIGHT)
        return 0;
    if ((rc = wk->s->flight(wk->s->ctx, key, r->fresh_until, &r->val)))
        return rc;
    wk->n->flights++;
    return 0;
}

static int walk_member(walker *wk, const pc_bytes *key, int64_t pos, const pc_bytes *field,
                       const pc_val *v)
{
    int rc = wk->s->member(wk->s->ctx, key, pos, field, v);
    wk->n->members += !rc;
    return rc;
}

/* The members of collection r under key, in the collection's order. */
static int walk_members(walker *wk, MDB_cursor *mc, const pc_bytes *key, const pcs_rec *r)
{
    uint8_t kb[PCS_MKEY_MAX];
    MDB_val k, d;
    int rc;
    if (pcs_is_seq(r->type)) {
        k.mv_size = pcs_mkey_pos(kb, r->gen, r->head);
        k.mv_data = kb;
        rc = mdb_cursor_get(mc, &k, &d, MDB_SET_KEY);
        for (uint64_t i = 0; i < r->count; i++) {
            pc_val v;
            if (rc)
                return rc == MDB_NOTFOUND ? PC_ECORRUPT : pcs_mdb_err(rc);
            if (k.mv_size != 16 || pcs_be64(k.mv_data) != r->gen ||
                (rc = pcs_elem_decode(d.mv_data, d.mv_size, &v)) ||
                (rc = walk_member(wk, key, (int64_t)i, NULL, &v)))
                return rc ? rc : PC_ECORRUPT;
            rc = mdb_cursor_get(mc, &k, &d, MDB_NEXT);
        }
        return 0;
    }
    pcs_put_be64(kb, r->gen);
    k.mv_size = PCS_GEN_LEN;
    k.mv_data = kb;
    uint64_t n = 0;
    for (rc = mdb_cursor_get(mc, &k, &d, MDB_SET_RANGE);
         !rc && k.mv_size >= PCS_GEN_LEN && pcs_be64(k.mv_data) == r->gen;
         rc = mdb_cursor_get(mc, &k, &d, MDB_NEXT)) {
        pc_val v;
        pc_bytes f;
        int e = r->type == PC_T_MAP ? pcs_map_entry(&k, &d, &f, &v) : pcs_set_entry(&k, &d, &v);
        if (e || (e = walk_member(wk, key, -1, r->type == PC_T_MAP ? &f : NULL, &v)))
            return e;
        n++;
    }
    if (rc && rc != MDB_NOTFOUND)
        return pcs_mdb_err(rc);
    return n == r->count ? 0 : PC_ECORRUPT;
}

static int walk_shard(walker *wk, MDB_txn *txn, const pcs_shard *sh)
{
    MDB_cursor *kc, *mc;
    int rc = mdb_cursor_open(txn, sh->keys, &kc);
    if (rc)
        return pcs_mdb_err(rc);
    if ((rc = mdb_cursor_open(txn, sh->members, &mc))) {
        mdb_cursor_close(kc);
        return pcs_mdb_err(rc);
    }
    MDB_val k, d;
    int e = 0;
    for (rc = mdb_cursor_get(kc, &k, &d, MDB_FIRST); !rc && !e;
         rc = mdb_cursor_get(kc, &k, &d, MDB_NEXT)) {
        pcs_rec r;
        if ((e = pcs_rec_decode(d.mv_data, d.mv_size, &r))) {
            snprintf(wk->why, wk->whylen, "a record of the store: %s", pc_strerror(e));
            break;
        }
        if (pcs_rec_expired(&r, wk->now) || left_out(&r, wk->now))
            continue;
        pc_bytes key = pc_b(k.mv_data, k.mv_size);
        pc_val scalar, *sv = NULL;
        if (r.type == PC_T_STRING)
            sv = (scalar = pc_mem(r.data, r.dlen), &scalar);
        else if (r.type == PC_T_NUMERIC)
            sv = &r.num;
        else if (r.type == PC_T_BITS) /* its length in bytes */
            sv = (scalar = pc_int((int64_t)r.nbytes), &scalar);
        if ((e = wk->s->key(wk->s->ctx, &key, r.type, kept_expiry(&r), sv))) {
            say(wk, e, "writing a key");
            break;
        }
        wk->n->keys++;
        if (pcs_is_coll(r.type) && (e = walk_members(wk, mc, &key, &r)))
            say(wk, e, "writing the members of a collection");
        else if ((e = walk_extra(wk, mc, &key, &r)))
            say(wk, e, "writing a %s", type_names[r.type]);
    }
    mdb_cursor_close(mc);
    mdb_cursor_close(kc);
    if (!e && rc && rc != MDB_NOTFOUND) {
        e = pcs_mdb_err(rc);
        snprintf(wk->why, wk->whylen, "reading the store: %s", pc_strerror(e));
    }
    return e;
}

int pcp_walk(const pcs_store *st, pcs_rtxns *rt, bool end_reads, uint64_t now, const pcp_sink *sink,
             pcp_counts *n, char *why, size_t whylen)
{
    walker wk = {.s = sink, .n = n, .now = now, .why = why, .whylen = whylen};
    memset(n, 0, sizeof *n);
    bool all = rt->n == st->nshards;
    for (unsigned s = 0; s < rt->n && all; s++)
        all = rt->txn[s] != NULL;
    if (!all) {
        snprintf(why, whylen, "no read transaction on each of the store's %u shard(s)",
                 st->nshards);
        return PC_EINVAL;
    }
    int rc = 0;
    for (unsigned s = 0; s < st->nshards && !rc; s++) {
        rc = walk_shard(&wk, rt->txn[s], &st->shards[s]);
        if (end_reads)
            pcs_rtxn_end(rt, s);
    }
    return rc;
}

/* ---- restoring ---- */

/* Is the store empty (no keys in any shard)? */
static int store_empty(pcs_store *st, bool *empty)
{
    *empty = true;
    for (unsigned s = 0; s < st->nshards; s++) {
        MDB_txn *txn;
        MDB_stat ms;
        int rc = mdb_txn_begin(st->shards[s].env, NULL, MDB_RDONLY, &txn);
        if (rc)
            return pcs_mdb_err(rc);
        rc = mdb_stat(txn, st->shards[s].keys, &ms);
        mdb_txn_abort(txn);
        if (rc)
            return pcs_mdb_err(rc);
        if (ms.ms_entries)
            *empty = false;
    }
    return 0;
}

int pcp_load_open(pcp_loadset *ls, pcs_store *st, char *why, size_t whylen)
{
    memset(ls, 0, sizeof *ls);
    ls->st = st;
    bool empty;
    int rc = store_empty(st, &empty);
    if (rc) {
        snprintf(why, whylen, "cannot read the store: %s", pc_strerror(rc));
        return rc;
    }
    if (!empty) {
        snprintf(why, whylen, "the store is not empty; restore only into an empty store");
        return PC_EEXIST;
    }
    ls->w = pcs_calloc(st->nshards, sizeof *ls->w);
    if (!ls->w) {
        snprintf(why, whylen, "%s", pc_strerror(PC_ENOMEM));
        return PC_ENOMEM;
    }
    for (; ls->begun < st->nshards; ls->begun++) {
        pcs_wctx_init(&ls->w[ls->begun]);
        if ((rc = pcs_wbegin(&ls->w[ls->begun], st, ls->begun))) {
            pcs_wctx_free(&ls->w[ls->begun]);
            snprintf(why, whylen, "cannot begin a write transaction: %s", pc_strerror(rc));
            pcp_load_close(ls, rc);
            return rc;
        }
    }
    return 0;
}

pcs_wctx *pcp_load_shard(pcp_loadset *ls, const void *key, size_t klen)
{
    return &ls->w[pcs_shard_of(ls->st->nshards, key, klen)];
}

int pcp_load_close(pcp_loadset *ls, int rc)
{
    /* All shards or none. */
    for (unsigned s = 0; s < ls->begun; s++) {
        if (!rc)
            rc = pcs_wcommit(&ls->w[s]);
        else
            pcs_wabort(&ls->w[s]);
        pcs_wctx_free(&ls->w[s]);
    }
    pcs_free(ls->w);
    ls->w = NULL;
    ls->begun = 0;
    return rc;
}

int pcp_load_err(int rc, bool scalar)
{
    if (rc == PC_EINVAL || rc == PC_EKEY || rc == PC_ENAN || rc == PC_EEXIST ||
        (rc == PC_ETOOBIG && !scalar))
        return PC_ECORRUPT;
    return rc;
}
