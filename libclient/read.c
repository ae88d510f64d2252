/*
 * read.c - the public reads.  A read holds the client's reader (shm/reader.h:
 * one LMDB read transaction per shard it touches, renewed lazily, and one
 * clock reading) and every view it returns points into the map; a ring-only
 * client's reads go through the channel instead (rread.c).  Each call here
 * checks the arguments the public API defines, then hands over.
 */
#include <stdio.h>
#include <string.h>

#include "../shm/access.h"
#include "../shm/alloc.h"
#include "client.h"

static int rd_read_begin(pc_client *c, pc_read **r)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!r)
        return PC_EINVAL;
    if (c->rd.active)
        return PC_EBUSY;
    /* Is the store we map still served?  One load of the daemon's liveness
     * word; only when it says the daemon went do we connect afresh (and a
     * ring-only client also when its channel broke: its reads need it). */
    if (c->remote &&
        (!c->ch.dpage || !pcs_daemon_alive(c->ch.dpage) ||
         (c->ring_only && (!c->ch.map || c->ch.broken))) &&
        (rc = pc__reconnect(c, false)))
        return rc;
    if (c->stale_st && (rc = pc__adopt_store(c, c->store_id)))
        return rc;
    c->rd.active = true;
    pcs_reader_begin(&c->rd.zc, pcs_now_ms());
    *r = &c->rd;
    return 0;
}

void pc_read_end(pc_read *r)
{
    if (!r || !r->active)
        return;
    pc__rr_release(r);
    if (r->c->fork_gen == pcs_fork_gen)
        pcs_reader_end(&r->zc);
    else
        pcs_reader_abandon(&r->zc);
    r->active = false;
}

static int rd_read_renew(pc_read *r)
{
    if (!r || !r->active)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    pc_read_end(r);
    r->active = true;
    pcs_reader_begin(&r->zc, pcs_now_ms());
    return 0;
}

/* A daemon client counts its own lookups (the daemon sums them for its
 * stats) and, when the daemon evicts by LRU/LFU, records its hits: the
 * note of its reader (pcs_read_note). */
static void read_note(void *ctx, const void *key, size_t klen, int rc, uint64_t now)
{
    pc__chan *ch = &((pc_client *)ctx)->ch;
    if ((rc != 0 && rc != PC_ENOTFOUND) || !ch->hdr)
        return;
    _Atomic uint64_t *ctr = rc == 0 ? &ch->hdr->reads_hit : &ch->hdr->reads_miss;
    /* We are the only writer of our counters: no read-modify-write needed. */
    atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (rc == 0 && ch->access) {
        ch->rnd = ch->rnd * 1664525u + 1013904223u;
        pcs_access_touch(ch->access, pcs_access_slot(key, klen), now, ch->lfu, ch->rnd);
    }
}

void pc__read_attach(pc_client *c)
{
    pcs_reader_init(&c->rd.zc, c->st, c->remote ? read_note : NULL, c);
}

/* A ring-only client: every read below goes through the channel. */
#define RING(r) ((r) && (r)->active && pc__ring_only((r)->c))

/* Checks a ring-only read makes before it sends anything. */
static int ring_key(pc_read *r, const void *key, size_t klen)
{
    int rc = pc__usable(r->c);
    return rc ? rc : pcs_key_ok(key, klen);
}

static int rd_get(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_get(r, key, klen, out);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_get(&r->zc, key, klen, out);
}

static int rd_mget(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, size_t *nfound)
{
    if (!r || !r->active || (n && (!keys || !out)))
        return PC_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (pcs_key_ok(keys[i].ptr, keys[i].len))
            return PC_EKEY;
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = pc_get(r, keys[i].ptr, keys[i].len, &out[i]);
        if (rc == PC_ENOTFOUND || rc == PC_EWRONGTYPE) {
            out[i].kind = PC_NONE;
            continue;
        }
        if (rc)
            return rc;
        found++;
    }
    if (nfound)
        *nfound = found;
    return 0;
}

static int rd_type_of(pc_read *r, const void *key, size_t klen, pc_type *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t t;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_TYPE, key, klen, 0, 0, &t)))
            *out = t >= PC_T_NONE && t < PC_T__COUNT ? (pc_type)t : PC_T_NONE;
        return rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_type(&r->zc, key, klen, out);
}

static int rd_exists(pc_read *r, const void *key, size_t klen, int *out)
{
    pc_type t;
    if (!out)
        return PC_EINVAL;
    int rc = pc_type_of(r, key, klen, &t);
    if (!rc)
        *out = t != PC_T_NONE;
    return rc;
}

static int rd_ttl(pc_read *r, const void *key, size_t klen, int64_t *ms_left)
{
    if (!ms_left)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_int(r, PCS_OP_R_TTL, key, klen, 0, 0, ms_left);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_ttl(&r->zc, key, klen, ms_left);
}

static int rd_ttl_sec(pc_read *r, const void *key, size_t klen, int64_t *s_left)
{
    int64_t ms;
    if (!s_left)
        return PC_EINVAL;
    int rc = pc_ttl(r, key, klen, &ms);
    if (!rc)
        *s_left = ms < 0 ? -1 : (ms + 999) / 1000;
    return rc;
}

static int rd_version(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t ver;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_VERSION, key, klen, 0, 0, &ver)))
            *out = (uint64_t)ver;
        return rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_version(&r->zc, key, klen, out);
}

static int rd_strlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t n;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_STRLEN, key, klen, 0, 0, &n)))
            *out = (uint64_t)n;
        return rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_strlen(&r->zc, key, klen, out);
}

static int rd_getrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                       pc_val *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_getrange(r, key, klen, start, end, out);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_getrange(&r->zc, key, klen, start, end, out);
}

/* ---- collections ---- */

/* LLEN, QLEN, HLEN, SCARD. */
static int coll_len(pc_read *r, const void *key, size_t klen, pc_type t, uint64_t *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t n;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_COUNT, key, klen, t, 1, &n)))
            *out = (uint64_t)n;
        return rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_count(&r->zc, key, klen, t, out);
}

static int rd_llen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return coll_len(r, key, klen, PC_T_LIST, out);
}

static int rd_qlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return coll_len(r, key, klen, PC_T_QUEUE, out);
}

/* LINDEX, QPEEK. */
static int seq_index(pc_read *r, const void *key, size_t klen, pc_type t, int64_t index,
                     pc_val *out)
{
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_seqget(r, key, klen, t, index, out);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_index(&r->zc, key, klen, t, index, out);
}

static int rd_lindex(pc_read *r, const void *key, size_t klen, int64_t index, pc_val *out)
{
    return seq_index(r, key, klen, PC_T_LIST, index, out);
}

static int rd_qpeek(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    return seq_index(r, key, klen, PC_T_QUEUE, 0, out);
}

/* LRANGE, QRANGE. */
static int seq_range(pc_read *r, const void *key, size_t klen, pc_type t, int64_t start,
                     int64_t stop, pc_val *out, size_t max, size_t *n)
{
    if (!n || (max && !out))
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        if (rc || max == 0)
            return rc;
        rc = pc__rr_seqrange(r, key, klen, t, start, stop, out, max, n);
        return rc == PC_ENOTFOUND ? 0 : rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_range(&r->zc, key, klen, t, start, stop, out, max, n);
}

static int rd_lrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop,
                     pc_val *out, size_t max, size_t *n)
{
    return seq_range(r, key, klen, PC_T_LIST, start, stop, out, max, n);
}

static int rd_qrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop,
                     pc_val *out, size_t max, size_t *n)
{
    return seq_range(r, key, klen, PC_T_QUEUE, start, stop, out, max, n);
}

/* ---- maps ---- */

static int rd_hget(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                   pc_val *out)
{
    if (!out || (flen && !field))
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_hget(r, key, klen, field, flen, out);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_hget(&r->zc, key, klen, field, flen, out);
}

static int rd_hmget(pc_read *r, const void *key, size_t klen, const pc_bytes *fields, size_t n,
                    pc_val *out)
{
    if (n && (!fields || !out))
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        for (size_t i = 0; i < n && !rc; i++) {
            rc = pc__rr_hget(r, key, klen, fields[i].ptr, fields[i].len, &out[i]);
            if (rc == PC_ENOTFOUND) {
                out[i].kind = PC_NONE;
                rc = 0;
            }
        }
        return rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_hmget(&r->zc, key, klen, fields, n, out);
}

static int rd_hlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return coll_len(r, key, klen, PC_T_MAP, out);
}

static int rd_hexists(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                      int *out)
{
    pc_val v;
    if (!out)
        return PC_EINVAL;
    int rc = pc_hget(r, key, klen, field, flen, &v);
    *out = rc == 0;
    return rc == PC_ENOTFOUND ? 0 : rc;
}

static int rd_hscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_bytes *fields,
                    pc_val *values, size_t max, size_t *n)
{
    if (!cur || !n)
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        if (rc || cur->done)
            return rc;
        return pc__rr_scan(r, PCS_OP_R_HSCAN, key, klen, 0, NULL, 0, cur, fields, values, max, n);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_hscan(&r->zc, key, klen, cur, fields, values, max, n);
}

/* ---- sets ---- */

static int rd_scard(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return coll_len(r, key, klen, PC_T_SET, out);
}

static int rd_sismember(pc_read *r, const void *key, size_t klen, const pc_val *member, int *out)
{
    if (!out || !member)
        return PC_EINVAL;
    *out = 0;
    /* Checked here too: a ring-only read sends nothing bad. */
    int rc = pcs_val_check(member, UINT64_MAX);
    if (rc)
        return rc;
    if (RING(r)) {
        rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_sismember(r, key, klen, member, out);
    }
    rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_sismember(&r->zc, key, klen, member, out);
}

static int rd_sscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_val *out,
                    size_t max, size_t *n)
{
    if ((max && !out) || !cur || !n)
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        if (rc || cur->done)
            return rc;
        return pc__rr_scan(r, PCS_OP_R_SSCAN, key, klen, 0, NULL, 0, cur, NULL, out, max, n);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_sscan(&r->zc, key, klen, cur, out, max, n);
}

static int set_algebra(int how, pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur,
                       pc_val *out, size_t max, size_t *n)
{
    if (!r || !r->active || !cur || !n || (nkeys && !keys) || (max && !out))
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = pc__usable(r->c);
        for (size_t i = 0; i < nkeys && !rc; i++)
            rc = pcs_key_ok(keys[i].ptr, keys[i].len);
        if (rc || cur->done)
            return rc;
        if (nkeys == 0) {
            cur->done = true;
            return 0;
        }
        return pc__rr_scan(r, PCS_OP_R_SALG, keys[0].ptr, keys[0].len, how, keys, nkeys, cur, NULL,
                           out, max, n);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_salg(&r->zc, how, keys, nkeys, cur, out, max, n);
}

static int rd_sunion(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
                     size_t max, size_t *n)
{
    return set_algebra(PCS_SET_UNION, r, keys, nkeys, cur, out, max, n);
}

static int rd_sinter(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
                     size_t max, size_t *n)
{
    return set_algebra(PCS_SET_INTER, r, keys, nkeys, cur, out, max, n);
}

static int rd_sdiff(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
                    size_t max, size_t *n)
{
    return set_algebra(PCS_SET_DIFF, r, keys, nkeys, cur, out, max, n);
}

/* ---- keys ---- */

/* A glob as a ring-only listing sends it: NULL travels as "*" (an empty
 * glob is a pattern, matching no key), at most 4096 bytes. */
static int ring_glob(const char *glob, const char **g, size_t *gl)
{
    *g = glob ? glob : "*";
    *gl = strlen(*g);
    return *gl > 4096 ? PC_EINVAL : 0;
}

static int rd_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys, size_t max,
                   size_t *n)
{
    int rc = pc__read_ok(r);
    if (rc)
        return rc;
    if (!cur || !n || (max && !keys))
        return pc__why(r->c, PC_EINVAL, "cur and n must be given, and keys with max %zu", max);
    if (cur->started && cur->len > PC_CURSOR_POS_MAX)
        return pc__why(r->c, PC_EINVAL, "a bad cursor (%zu bytes of position; at most %d)",
                       (size_t)cur->len, PC_CURSOR_POS_MAX);
    *n = 0;
    if (RING(r)) {
        const char *g;
        size_t gl;
        if (cur->done)
            return 0;
        rc = ring_glob(glob, &g, &gl);
        return rc ? rc : pc__rr_scan(r, PCS_OP_R_SCAN, g, gl, 0, NULL, 0, cur, keys, NULL, max, n);
    }
    return pcs_rd_scan(&r->zc, glob, cur, keys, max, n);
}

static int rd_expired_count(pc_read *r, uint64_t *n)
{
    if (!r || !r->active || !n)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    *n = 0;
    if (pc__ring_only(r->c)) {
        int64_t v;
        rc = pc__rr_int(r, PCS_OP_R_EXPIRED, "", 0, 0, 0, &v);
        if (!rc)
            *n = (uint64_t)v;
        return rc;
    }
    return pcs_rd_expired(&r->zc, n);
}

static int rd_expiry_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys,
                          int64_t *expire_at, size_t max, size_t *n)
{
    if (!r || !r->active || !cur || !n)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    *n = 0;
    if (cur->done || max == 0)
        return 0;
    if (pc__ring_only(r->c)) {
        const char *g;
        size_t gl;
        pc_val *v = pcs_calloc(max, sizeof *v);
        if (!v)
            return PC_ENOMEM;
        rc = ring_glob(glob, &g, &gl);
        if (!rc)
            rc = pc__rr_scan(r, PCS_OP_R_EXPIRY_SCAN, g, gl, 0, NULL, 0, cur, keys, v, max, n);
        for (size_t i = 0; !rc && i < *n; i++) {
            if (v[i].kind != PC_INT)
                rc = PC_EPROTO;
            else if (expire_at)
                expire_at[i] = v[i].i;
        }
        pcs_free(v);
        return rc;
    }
    return pcs_rd_expiry_scan(&r->zc, glob, cur, keys, expire_at, max, n);
}

/* ---- calls of issue 13 ---- */

/* Every key of keys[0..n) is a key: 0, or PC_EKEY naming the first bad one. */
static int keys_ok(pc_client *c, const pc_bytes *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pcs_key_ok(keys[i].ptr, keys[i].len)) {
            char what[48];
            snprintf(what, sizeof what, "keys[%zu]", i);
            return pc__key(c, what, keys[i].ptr, keys[i].len);
        }
    return 0;
}

static int rd_mget_typed(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, pc_type *types,
                         size_t *nfound)
{
    if (!r || !r->active || (n && (!keys || !out)))
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc || (rc = keys_ok(r->c, keys, n)))
        return rc;
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        pc_type t = PC_T_NONE;
        out[i].kind = PC_NONE;
        if (RING(r)) {
            rc = pc__rr_get(r, keys[i].ptr, keys[i].len, &out[i]);
            if (!rc) {
                t = out[i].kind == PC_BYTES ? PC_T_STRING : PC_T_NUMERIC;
            } else if (rc == PC_EWRONGTYPE) {
                int64_t ti;
                out[i].kind = PC_NONE;
                rc = pc__rr_int(r, PCS_OP_R_TYPE, keys[i].ptr, keys[i].len, 0, 0, &ti);
                if (!rc)
                    t = ti > PC_T_NUMERIC && ti < PC_T__COUNT ? (pc_type)ti : PC_T_NONE;
            }
        } else {
            rc = pc__read_ok(r);
            if (!rc)
                rc = pcs_rd_get_typed(&r->zc, keys[i].ptr, keys[i].len, &out[i], &t);
        }
        if (rc == PC_ENOTFOUND) {
            out[i].kind = PC_NONE;
            t = PC_T_NONE;
            rc = 0;
        }
        if (rc)
            return rc;
        if (types)
            types[i] = t;
        found += t == PC_T_STRING || t == PC_T_NUMERIC;
    }
    if (nfound)
        *nfound = found;
    return 0;
}

static int rd_exists_keys(pc_read *r, const pc_bytes *keys, size_t n, uint64_t *count)
{
    if (!r || !r->active || !count || (n && !keys))
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc || (rc = keys_ok(r->c, keys, n)))
        return rc;
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int yes = 0;
        if ((rc = rd_exists(r, keys[i].ptr, keys[i].len, &yes)))
            return rc;
        k += yes != 0;
    }
    *count = k;
    return 0;
}

/* Every lookup of a key records an access (the reader's note; the daemon
 * does it for a ring-only client's type reads), so TOUCH is EXISTS. */
static int rd_touch(pc_read *r, const pc_bytes *keys, size_t n, uint64_t *count)
{
    return rd_exists_keys(r, keys, n, count);
}

static int rd_expiretime(pc_read *r, const void *key, size_t klen, int64_t *at_ms)
{
    if (!at_ms)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_expiretime(r, key, klen, at_ms);
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_expiretime(&r->zc, key, klen, at_ms);
}

static int rd_hstrlen(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                      uint64_t *out)
{
    if (!out || (flen && !field))
        return PC_EINVAL;
    if (RING(r)) {
        pc_val v;
        int rc = ring_key(r, key, klen);
        if (rc || (rc = pc__rr_hget(r, key, klen, field, flen, &v)))
            return rc;
        if (v.kind != PC_BYTES)
            return pc__why(r->c, PC_EWRONGTYPE, "the field holds a %s, not a string",
                           v.kind == PC_INT || v.kind == PC_DOUBLE ? "number"
                           : v.kind == PC_BOOL                     ? "boolean"
                                                                   : "null");
        *out = v.s.len;
        return 0;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_hstrlen(&r->zc, key, klen, field, flen, out);
}

static int rd_lpos(pc_read *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
                   uint64_t maxlen, uint64_t *pos, size_t max, size_t *n)
{
    if (!v || !n || (max && !pos) || !r)
        return PC_EINVAL;
    *n = 0;
    if (rank == 0 || rank == INT64_MIN)
        return pc__why(r->c, PC_EINVAL, "rank must not be 0 (1 is the first match, -1 the last)");
    int rc = pcs_val_check(v, UINT64_MAX);
    if (rc)
        return rc;
    if (RING(r)) {
        if ((rc = ring_key(r, key, klen)) || max == 0)
            return rc;
        rc = pc__rr_lpos(r, key, klen, v, rank, maxlen, pos, max, n);
        return rc == PC_ENOTFOUND ? 0 : rc;
    }
    rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_lpos(&r->zc, key, klen, v, rank, maxlen, pos, max, n);
}

static int rd_smismember(pc_read *r, const void *key, size_t klen, const pc_val *members, size_t n,
                         int *out)
{
    if (!r || !r->active || (n && (!members || !out)))
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    for (size_t i = 0; i < n && !rc; i++)
        rc = rd_sismember(r, key, klen, &members[i], &out[i]);
    return rc;
}

static int rd_srandmember(pc_read *r, const void *key, size_t klen, int64_t count, pc_val *out,
                          size_t max, size_t *n)
{
    if (!n || (max && !out))
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        if (rc || count == 0 || max == 0)
            return rc;
        rc = pc__rr_srandmember(r, key, klen, count, out, max, n);
        return rc == PC_ENOTFOUND ? 0 : rc;
    }
    int rc = pc__read_ok(r);
    return rc ? rc : pcs_rd_srandmember(&r->zc, key, klen, count, out, max, n);
}

static int rd_dbsize(pc_read *r, uint64_t *n)
{
    if (!r || !r->active || !n)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    *n = 0;
    return pc__ring_only(r->c) ? pc__rr_dbsize(r, n) : pcs_rd_dbsize(&r->zc, n);
}

static int rd_randomkey(pc_read *r, pc_bytes *key)
{
    if (!r || !r->active || !key)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    return pc__ring_only(r->c) ? pc__rr_randomkey(r, key) : pcs_rd_randomkey(&r->zc, key);
}

/* ---- the public calls: a failure is recorded for pc_last_error() ---- */

int pc_read_begin(pc_client *c, pc_read **r)
{
    return pc__done(c, "pc_read_begin", rd_read_begin(c, r));
}

int pc_read_renew(pc_read *r)
{
    return pc__rdone(r, "pc_read_renew", rd_read_renew(r));
}

int pc_get(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    return pc__rdone(r, "pc_get", rd_get(r, key, klen, out));
}

int pc_mget(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, size_t *nfound)
{
    return pc__rdone(r, "pc_mget", rd_mget(r, keys, n, out, nfound));
}

int pc_type_of(pc_read *r, const void *key, size_t klen, pc_type *out)
{
    return pc__rdone(r, "pc_type_of", rd_type_of(r, key, klen, out));
}

int pc_exists(pc_read *r, const void *key, size_t klen, int *out)
{
    return pc__rdone(r, "pc_exists", rd_exists(r, key, klen, out));
}

int pc_ttl(pc_read *r, const void *key, size_t klen, int64_t *ms_left)
{
    return pc__rdone(r, "pc_ttl", rd_ttl(r, key, klen, ms_left));
}

int pc_ttl_sec(pc_read *r, const void *key, size_t klen, int64_t *s_left)
{
    return pc__rdone(r, "pc_ttl_sec", rd_ttl_sec(r, key, klen, s_left));
}

int pc_version(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_version", rd_version(r, key, klen, out));
}

int pc_strlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_strlen", rd_strlen(r, key, klen, out));
}

int pc_getrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end, pc_val *out)
{
    return pc__rdone(r, "pc_getrange", rd_getrange(r, key, klen, start, end, out));
}

int pc_llen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_llen", rd_llen(r, key, klen, out));
}

int pc_qlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_qlen", rd_qlen(r, key, klen, out));
}

int pc_lindex(pc_read *r, const void *key, size_t klen, int64_t index, pc_val *out)
{
    return pc__rdone(r, "pc_lindex", rd_lindex(r, key, klen, index, out));
}

int pc_qpeek(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    return pc__rdone(r, "pc_qpeek", rd_qpeek(r, key, klen, out));
}

int pc_lrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop, pc_val *out,
              size_t max, size_t *n)
{
    return pc__rdone(r, "pc_lrange", rd_lrange(r, key, klen, start, stop, out, max, n));
}

int pc_qrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop, pc_val *out,
              size_t max, size_t *n)
{
    return pc__rdone(r, "pc_qrange", rd_qrange(r, key, klen, start, stop, out, max, n));
}

int pc_hget(pc_read *r, const void *key, size_t klen, const void *field, size_t flen, pc_val *out)
{
    return pc__rdone(r, "pc_hget", rd_hget(r, key, klen, field, flen, out));
}

int pc_hmget(pc_read *r, const void *key, size_t klen, const pc_bytes *fields, size_t n,
             pc_val *out)
{
    return pc__rdone(r, "pc_hmget", rd_hmget(r, key, klen, fields, n, out));
}

int pc_hlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_hlen", rd_hlen(r, key, klen, out));
}

int pc_hexists(pc_read *r, const void *key, size_t klen, const void *field, size_t flen, int *out)
{
    return pc__rdone(r, "pc_hexists", rd_hexists(r, key, klen, field, flen, out));
}

int pc_hscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_bytes *fields,
             pc_val *values, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_hscan", rd_hscan(r, key, klen, cur, fields, values, max, n));
}

int pc_scard(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_scard", rd_scard(r, key, klen, out));
}

int pc_sismember(pc_read *r, const void *key, size_t klen, const pc_val *member, int *out)
{
    return pc__rdone(r, "pc_sismember", rd_sismember(r, key, klen, member, out));
}

int pc_sscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_val *out, size_t max,
             size_t *n)
{
    return pc__rdone(r, "pc_sscan", rd_sscan(r, key, klen, cur, out, max, n));
}

int pc_sunion(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
              size_t max, size_t *n)
{
    return pc__rdone(r, "pc_sunion", rd_sunion(r, keys, nkeys, cur, out, max, n));
}

int pc_sinter(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
              size_t max, size_t *n)
{
    return pc__rdone(r, "pc_sinter", rd_sinter(r, keys, nkeys, cur, out, max, n));
}

int pc_sdiff(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
             size_t max, size_t *n)
{
    return pc__rdone(r, "pc_sdiff", rd_sdiff(r, keys, nkeys, cur, out, max, n));
}

int pc_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_scan", rd_scan(r, glob, cur, keys, max, n));
}

int pc_expired_count(pc_read *r, uint64_t *n)
{
    return pc__rdone(r, "pc_expired_count", rd_expired_count(r, n));
}

int pc_expiry_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys, int64_t *expire_at,
                   size_t max, size_t *n)
{
    return pc__rdone(r, "pc_expiry_scan", rd_expiry_scan(r, glob, cur, keys, expire_at, max, n));
}

int pc_mget_typed(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, pc_type *types,
                  size_t *nfound)
{
    return pc__rdone(r, "pc_mget_typed", rd_mget_typed(r, keys, n, out, types, nfound));
}

int pc_exists_keys(pc_read *r, const pc_bytes *keys, size_t n, uint64_t *count)
{
    return pc__rdone(r, "pc_exists_keys", rd_exists_keys(r, keys, n, count));
}

int pc_touch(pc_read *r, const pc_bytes *keys, size_t n, uint64_t *count)
{
    return pc__rdone(r, "pc_touch", rd_touch(r, keys, n, count));
}

int pc_expiretime(pc_read *r, const void *key, size_t klen, int64_t *at_ms)
{
    return pc__rdone(r, "pc_expiretime", rd_expiretime(r, key, klen, at_ms));
}

int pc_hstrlen(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
               uint64_t *out)
{
    return pc__rdone(r, "pc_hstrlen", rd_hstrlen(r, key, klen, field, flen, out));
}

int pc_lpos(pc_read *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
            uint64_t maxlen, uint64_t *pos, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_lpos", rd_lpos(r, key, klen, v, rank, maxlen, pos, max, n));
}

int pc_smismember(pc_read *r, const void *key, size_t klen, const pc_val *members, size_t n,
                  int *out)
{
    return pc__rdone(r, "pc_smismember", rd_smismember(r, key, klen, members, n, out));
}

int pc_srandmember(pc_read *r, const void *key, size_t klen, int64_t count, pc_val *out, size_t max,
                   size_t *n)
{
    return pc__rdone(r, "pc_srandmember", rd_srandmember(r, key, klen, count, out, max, n));
}

int pc_dbsize(pc_read *r, uint64_t *n)
{
    return pc__rdone(r, "pc_dbsize", rd_dbsize(r, n));
}

int pc_randomkey(pc_read *r, pc_bytes *key)
{
    return pc__rdone(r, "pc_randomkey", rd_randomkey(r, key));
}
