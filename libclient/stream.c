/*
 * stream.c - the public calls of Streams (issue 17).  Writes check their
 * arguments (bad input is refused at once, even in a batch) and encode one
 * request frame, as write.c does; reads go to shm/reader_stream.c (zero
 * copy) or, for ring-only clients, to the daemon as read ops.
 *
 * Entries in answers are INT ms, INT seq, then BYTES (the encoded pairs),
 * NIL (deleted) or BOOL (an ID alone); multi-stream answers give, per
 * stream, its last ID and a count before its entries.
 */
#include <string.h>

#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "../shm/stream.h"
#include "client.h"

/* ---- entries ---- */

int pc_xentry_pairs(const pc_xentry *e, pc_val *fv, size_t max, size_t *n)
{
    if (n)
        *n = 0;
    if (!e || (max && !fv))
        return PC_EINVAL;
    if (e->deleted || !e->raw)
        return 0;
    if (!max) { /* nothing to write: only check it */
        size_t np;
        return pcs_xentry_check(e->raw, e->rawlen, &np);
    }
    return pcs_xentry_decode(e->raw, e->rawlen, fv, max, n);
}

int pc__x_entries(const uint8_t **q, const uint8_t *end, size_t n, pc_xentry *out, size_t max,
                  size_t *got)
{
    *got = 0;
    for (size_t i = 0; i < n; i++) {
        pc_val a, b, c;
        if (pcs_val_decode(q, end, &a) || pcs_val_decode(q, end, &b) ||
            pcs_val_decode(q, end, &c) || a.kind != PC_INT || b.kind != PC_INT)
            return PC_EPROTO;
        pc_xentry e = {.id = pc_xid_make((uint64_t)a.i, (uint64_t)b.i)};
        if (c.kind == PC_BYTES) {
            if (pcs_xentry_check(c.s.ptr, c.s.len, &e.npairs))
                return PC_EPROTO;
            e.raw = c.s.ptr;
            e.rawlen = c.s.len;
        } else if (c.kind == PC_NIL) {
            e.deleted = true;
        } else if (c.kind != PC_BOOL) {
            return PC_EPROTO;
        }
        if (*got < max)
            out[(*got)++] = e;
    }
    return 0;
}

/* A count (a non-negative INT) at *q, as answers give before their items. */
static int dec_count(const uint8_t **q, const uint8_t *end, int64_t *n)
{
    pc_val v;
    if (pcs_val_decode(q, end, &v) || v.kind != PC_INT || v.i < 0)
        return PC_EPROTO;
    *n = v.i;
    return 0;
}

/* ---- argument checks ---- */

static int name_ok(pc_client *c, const char *what, const void *p, size_t n)
{
    if (pcs_xname_ok(p, n))
        return 0;
    return pc__why(c, PC_EINVAL, "%s must be 1 to %d bytes, got %zu", what, PC_XNAME_MAX, n);
}

/* The IDs of xdel, xack, xclaim: 0, or PC_EINVAL with what was wrong. */
static int ids_ok(pc_client *c, const pc_xid *ids, size_t n)
{
    if (!ids || n == 0)
        return pc__why(c, PC_EINVAL, "ids must hold at least one ID (n = %zu%s)", n,
                       ids ? "" : ", ids NULL");
    if (n > (PCS_ARGC_MAX - 16) / 2)
        return pc__why(c, PC_EINVAL, "%zu IDs; at most %d in one call", n, (PCS_ARGC_MAX - 16) / 2);
    return 0;
}

static void enc_id(pcs_enc *e, pc_xid id)
{
    pcs_enc_int(e, (int64_t)id.ms);
    pcs_enc_int(e, (int64_t)id.seq);
}

static int trim_ok(pc_client *c, const pc_xtrim_opts *t)
{
    if (!t)
        return 0;
    if (t->by < PC_XTRIM_NONE || t->by > PC_XTRIM_MINID)
        return pc__why(c, PC_EINVAL, "trim.by must be PC_XTRIM_NONE, _MAXLEN or _MINID");
    if (t->maxlen > INT64_MAX || t->limit > INT64_MAX)
        return pc__why(c, PC_EINVAL, "trim.maxlen and trim.limit must be at most INT64_MAX");
    if (t->limit && !t->approx)
        return pc__why(c, PC_EINVAL, "a limit needs an approximate trim (Redis's ~)");
    return 0;
}

static void enc_trim(pcs_enc *e, const pc_xtrim_opts *t)
{
    pc_xtrim_opts none = {0};
    if (!t)
        t = &none;
    pcs_enc_int(e, t->by);
    pcs_enc_int(e, t->approx);
    pcs_enc_int(e, (int64_t)t->maxlen);
    enc_id(e, t->minid);
    pcs_enc_int(e, (int64_t)t->limit);
}

/* ---- xadd, xtrim, xdel ---- */

static int w_xadd(pc_client *c, const void *key, size_t klen, int idmode, pc_xid id,
                  const pc_val *fv, size_t npairs, const pc_xtrim_opts *trim, unsigned flags,
                  pc_xid *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (idmode < PC_XADD_AUTO || idmode > PC_XADD_EXPLICIT)
        return pc__why(c, PC_EINVAL, "idmode must be PC_XADD_AUTO, _AUTOSEQ or _EXPLICIT");
    if (flags & ~(unsigned)PC_XADD_NOMKSTREAM)
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    if (!fv || npairs == 0)
        return pc__why(c, PC_EINVAL, "an entry needs at least one field and value");
    if (npairs > (PCS_ARGC_MAX - 16) / 2)
        return pc__why(c, PC_ETOOBIG, "%zu pairs; at most %d in one entry", npairs,
                       (PCS_ARGC_MAX - 16) / 2);
    if (idmode == PC_XADD_EXPLICIT && id.ms == 0 && id.seq == 0)
        return pc__why(c, PC_ERANGE, "the ID must be greater than 0-0");
    if ((rc = trim_ok(c, trim)))
        return rc;
    for (size_t i = 0; i < 2 * npairs; i++)
        if ((rc = pcs_val_check(&fv[i], c->max_value)))
            return pc__why(c, rc, "%s %zu is not a valid element", i % 2 ? "value" : "field",
                           i / 2);
    if (pcs_xentry_size(fv, npairs) > c->max_value)
        return pc__why(c, PC_ETOOBIG, "the entry is %zu bytes; the store's largest value is %llu",
                       (size_t)pcs_xentry_size(fv, npairs), (unsigned long long)c->max_value);
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_XADD, key, klen, &e, out ? PC__R_XID : PC__R_NONE, out)))
        return rc;
    pcs_enc_int(&e, idmode);
    enc_id(&e, id);
    pcs_enc_int(&e, flags);
    enc_trim(&e, trim);
    for (size_t i = 0; i < 2 * npairs; i++)
        pcs_enc_val(&e, &fv[i]);
    return pc__op_end(c, &e, 0);
}

int pc_xadd(pc_client *c, const void *key, size_t klen, int idmode, pc_xid id, const pc_val *fv,
            size_t npairs, const pc_xtrim_opts *trim, unsigned flags, pc_xid *out)
{
    return pc__note(c, "pc_xadd", w_xadd(c, key, klen, idmode, id, fv, npairs, trim, flags, out));
}

static int w_xtrim(pc_client *c, const void *key, size_t klen, const pc_xtrim_opts *trim,
                   uint64_t *removed)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!trim || trim->by == PC_XTRIM_NONE)
        return pc__why(c, PC_EINVAL, "trim must say PC_XTRIM_MAXLEN or PC_XTRIM_MINID");
    if ((rc = trim_ok(c, trim)))
        return rc;
    pcs_enc e;
    if ((rc =
             pc__op_key(c, PCS_OP_XTRIM, key, klen, &e, removed ? PC__R_U64 : PC__R_NONE, removed)))
        return rc;
    enc_trim(&e, trim);
    return pc__op_end(c, &e, 0);
}

int pc_xtrim(pc_client *c, const void *key, size_t klen, const pc_xtrim_opts *trim,
             uint64_t *removed)
{
    return pc__note(c, "pc_xtrim", w_xtrim(c, key, klen, trim, removed));
}

static int w_xdel(pc_client *c, const void *key, size_t klen, const pc_xid *ids, size_t n,
                  uint64_t *deleted)
{
    int rc = pc__usable(c);
    if (rc || (rc = ids_ok(c, ids, n)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_XDEL, key, klen, &e, deleted ? PC__R_U64 : PC__R_NONE, deleted)))
        return rc;
    for (size_t i = 0; i < n; i++)
        enc_id(&e, ids[i]);
    return pc__op_end(c, &e, 0);
}

int pc_xdel(pc_client *c, const void *key, size_t klen, const pc_xid *ids, size_t n,
            uint64_t *deleted)
{
    return pc__note(c, "pc_xdel", w_xdel(c, key, klen, ids, n, deleted));
}

/* ---- groups ---- */

enum { XG_CREATE = 0, XG_SETID, XG_DESTROY, XG_CREATECONSUMER, XG_DELCONSUMER };

static int xgroup_begin(pc_client *c, const void *key, size_t klen, int sub, const void *g,
                        size_t glen, uint8_t shape, void *out, pcs_enc *e)
{
    int rc = pc__usable(c);
    if (rc || (rc = name_ok(c, "group", g, glen)))
        return rc;
    if ((rc = pc__op_key(c, PCS_OP_XGROUP, key, klen, e, shape, out)))
        return rc;
    pcs_enc_int(e, sub);
    pcs_enc_bytes(e, g, glen);
    return 0;
}

static int w_xgroup_setid(pc_client *c, const void *key, size_t klen, const void *g, size_t glen,
                          const pc_xid *id, int64_t entries_read, unsigned flags, bool create)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (entries_read < -1)
        return pc__why(c, PC_EINVAL, "entries_read must be -1 (not given) or more");
    if (flags & ~(unsigned)PC_XGROUP_MKSTREAM)
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    pcs_enc e;
    if ((rc = xgroup_begin(c, key, klen, create ? XG_CREATE : XG_SETID, g, glen, PC__R_NONE, NULL,
                           &e)))
        return rc;
    enc_id(&e, id ? *id : pc_xid_make(0, 0));
    pcs_enc_int(&e, id == NULL);
    pcs_enc_int(&e, entries_read);
    if (create)
        pcs_enc_int(&e, (flags & PC_XGROUP_MKSTREAM) != 0);
    return pc__op_end(c, &e, 0);
}

int pc_xgroup_create(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
                     const pc_xid *id, int64_t entries_read, unsigned flags)
{
    return pc__note(c, "pc_xgroup_create",
                    w_xgroup_setid(c, key, klen, group, glen, id, entries_read, flags, true));
}

int pc_xgroup_setid(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
                    const pc_xid *id, int64_t entries_read)
{
    return pc__note(c, "pc_xgroup_setid",
                    w_xgroup_setid(c, key, klen, group, glen, id, entries_read, 0, false));
}

static int w_xgroup_destroy(pc_client *c, const void *key, size_t klen, const void *g, size_t glen,
                            int *destroyed)
{
    pcs_enc e;
    int rc = xgroup_begin(c, key, klen, XG_DESTROY, g, glen, destroyed ? PC__R_INT : PC__R_NONE,
                          destroyed, &e);
    return rc ? rc : pc__op_end(c, &e, 0);
}

int pc_xgroup_destroy(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
                      int *destroyed)
{
    return pc__note(c, "pc_xgroup_destroy", w_xgroup_destroy(c, key, klen, group, glen, destroyed));
}

static int w_xgroup_consumer(pc_client *c, const void *key, size_t klen, const void *g, size_t glen,
                             const void *cn, size_t clen, int sub, uint8_t shape, void *out)
{
    int rc = pc__usable(c);
    if (rc || (rc = name_ok(c, "consumer", cn, clen)))
        return rc;
    pcs_enc e;
    if ((rc = xgroup_begin(c, key, klen, sub, g, glen, out ? shape : PC__R_NONE, out, &e)))
        return rc;
    pcs_enc_bytes(&e, cn, clen);
    return pc__op_end(c, &e, 0);
}

int pc_xgroup_createconsumer(pc_client *c, const void *key, size_t klen, const void *group,
                             size_t glen, const void *consumer, size_t clen, int *created)
{
    return pc__note(c, "pc_xgroup_createconsumer",
                    w_xgroup_consumer(c, key, klen, group, glen, consumer, clen, XG_CREATECONSUMER,
                                      PC__R_INT, created));
}

int pc_xgroup_delconsumer(pc_client *c, const void *key, size_t klen, const void *group,
                          size_t glen, const void *consumer, size_t clen, uint64_t *pending)
{
    return pc__note(c, "pc_xgroup_delconsumer",
                    w_xgroup_consumer(c, key, klen, group, glen, consumer, clen, XG_DELCONSUMER,
                                      PC__R_U64, pending));
}

static int w_xack(pc_client *c, const void *key, size_t klen, const void *g, size_t glen,
                  const pc_xid *ids, size_t n, uint64_t *acked)
{
    int rc = pc__usable(c);
    if (rc || (rc = name_ok(c, "group", g, glen)) || (rc = ids_ok(c, ids, n)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_XACK, key, klen, &e, acked ? PC__R_U64 : PC__R_NONE, acked)))
        return rc;
    pcs_enc_bytes(&e, g, glen);
    for (size_t i = 0; i < n; i++)
        enc_id(&e, ids[i]);
    return pc__op_end(c, &e, 0);
}

int pc_xack(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
            const pc_xid *ids, size_t n, uint64_t *acked)
{
    return pc__note(c, "pc_xack", w_xack(c, key, klen, group, glen, ids, n, acked));
}

/* ---- reads of several streams (xreadgroup, xread's blocking form) ---- */

/* The keys of a multi-stream call: 1 or more, valid, of one shard. */
static int keys_ok(pc_client *c, const pc_bytes *keys, size_t nkeys, size_t *nper)
{
    if (!keys || nkeys == 0 || !nper)
        return pc__why(c, PC_EINVAL, "keys and nper must be given, with nkeys >= 1");
    if (nkeys > (PCS_ARGC_MAX - 16) / 3)
        return pc__why(c, PC_ETOOBIG, "%zu keys; at most %d in one call", nkeys,
                       (PCS_ARGC_MAX - 16) / 3);
    for (size_t i = 0; i < nkeys; i++) {
        int rc = pc__key(c, "key", keys[i].ptr, keys[i].len);
        if (rc)
            return rc;
        if ((rc = pc__same_shard(c, "key", keys[0].ptr, keys[0].len, "key", keys[i].ptr,
                                 keys[i].len)))
            return rc;
    }
    return 0;
}

/* Decode a multi-stream answer into out and nper; last (may be NULL) gets
 * each stream's last ID. */
static int multi_decode(const pcs_resp *r, size_t nkeys, pc_xentry *out, size_t max, size_t *nper,
                        pc_xid *last, size_t *total)
{
    const uint8_t *q = r->vals;
    *total = 0;
    for (size_t i = 0; i < nkeys; i++) {
        pc_val a, b, n;
        if (pcs_val_decode(&q, r->end, &a) || pcs_val_decode(&q, r->end, &b) ||
            pcs_val_decode(&q, r->end, &n) || a.kind != PC_INT || b.kind != PC_INT ||
            n.kind != PC_INT || n.i < 0)
            return PC_EPROTO;
        if (last)
            last[i] = pc_xid_make((uint64_t)a.i, (uint64_t)b.i);
        size_t got;
        int rc = pc__x_entries(&q, r->end, (size_t)n.i, out + *total, max - *total, &got);
        if (rc)
            return rc;
        nper[i] = got;
        *total += got;
    }
    return 0;
}

/* Send a frame that may park; a waiting one carries the waiter's deadline
 * in the INT encoded at until_at (then the daemon answers PC_ETIMEDOUT by
 * it, we wait a little longer). */
static int run_parkable(pc_client *c, pcs_enc *e, int64_t wait, size_t until_at)
{
    if (!wait || !c->remote)
        return pc__op_end(c, e, 0);
    return pc__op_end_wait_at(c, e, wait, until_at);
}

static int xreadw_once(pc_client *c, const pc_bytes *keys, const pc_xid *ids, size_t nkeys,
                       size_t count, size_t max, int64_t wait, pcs_resp *resp)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_XREADW, keys[0].ptr, keys[0].len, &e, PC__R_RESP, resp);
    if (rc)
        return rc;
    pcs_enc_int(&e, (int64_t)count);
    pcs_enc_int(&e, (int64_t)max);
    pcs_enc_int(&e, wait);
    size_t until_at = c->req.len;
    pcs_enc_int(&e, 0);
    enc_id(&e, ids[0]);
    for (size_t i = 1; i < nkeys; i++) {
        pcs_enc_bytes(&e, keys[i].ptr, keys[i].len);
        enc_id(&e, ids[i]);
    }
    return run_parkable(c, &e, wait, until_at);
}

/* One try of an embedded XREAD BLOCK (pc__poll). */
struct xread_try {
    const pc_bytes *keys;
    const pc_xid *at;
    size_t nkeys, count, max;
    pcs_resp *resp;
};

static int xread_attempt(pc_client *c, void *arg)
{
    struct xread_try *a = arg;
    return xreadw_once(c, a->keys, a->at, a->nkeys, a->count, a->max, 1, a->resp);
}

static int w_xread_wait(pc_client *c, const pc_bytes *keys, const pc_xid *ids, size_t nkeys,
                        size_t count, int64_t timeout_ms, pc_xentry *out, size_t max, size_t *nper)
{
    int rc = pc__usable(c);
    if (rc || (rc = keys_ok(c, keys, nkeys, nper)))
        return rc;
    if (!ids)
        return pc__why(c, PC_EINVAL, "ids is NULL: give one ID per key");
    if ((max && !out) || count > INT64_MAX || max > INT64_MAX)
        return pc__why(c, PC_EINVAL, "out is NULL with max %zu, or count or max above INT64_MAX",
                       max);
    if (timeout_ms < 1 || timeout_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "timeout_ms must be 1 to %lld", (long long)PC_TTL_MAX_MS);
    if (c->mode != PC__IDLE)
        return pc__why(c, PC_ESTATE, "it cannot wait inside a batch or a transaction");
    pc_xid *at = pcs_calloc(nkeys, sizeof *at);
    if (!at)
        return PC_ENOMEM;
    pcs_resp resp;
    size_t total;
    /* First without waiting: what is there, and each stream's last ID,
     * which "$" stands for from now on. */
    rc = xreadw_once(c, keys, ids, nkeys, count, max, 0, &resp);
    if (!rc)
        rc = multi_decode(&resp, nkeys, out, max, nper, at, &total);
    if (!rc && !total) {
        for (size_t i = 0; i < nkeys; i++)
            if (pc_xid_cmp(ids[i], pc_xid_max()) != 0)
                at[i] = ids[i];
        /* The daemon parks a remote one; embedded, nobody wakes us. */
        struct xread_try a = {keys, at, nkeys, count, max, &resp};
        rc = c->remote ? xreadw_once(c, keys, at, nkeys, count, max, timeout_ms, &resp)
                       : pc__poll(c, timeout_ms, PC_EAGAIN, xread_attempt, &a);
        if (!rc)
            rc = multi_decode(&resp, nkeys, out, max, nper, NULL, &total);
    }
    pcs_free(at);
    return rc;
}

int pc_xread_wait(pc_client *c, const pc_bytes *keys, const pc_xid *ids, size_t nkeys, size_t count,
                  int64_t timeout_ms, pc_xentry *out, size_t max, size_t *nper)
{
    return pc__note(c, "pc_xread_wait",
                    w_xread_wait(c, keys, ids, nkeys, count, timeout_ms, out, max, nper));
}

static int xreadgroup_once(pc_client *c, const void *g, size_t glen, const void *cn, size_t clen,
                           const pc_bytes *keys, const pc_xid *ids, size_t nkeys, size_t count,
                           size_t max, int64_t wait, unsigned flags, pcs_resp *resp)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_XREADGROUP, keys[0].ptr, keys[0].len, &e, PC__R_RESP, resp);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, g, glen);
    pcs_enc_bytes(&e, cn, clen);
    pcs_enc_int(&e, (int64_t)count);
    pcs_enc_int(&e, (int64_t)max);
    pcs_enc_int(&e, flags);
    pcs_enc_int(&e, wait);
    size_t until_at = c->req.len;
    pcs_enc_int(&e, 0);
    enc_id(&e, ids ? ids[0] : pc_xid_max());
    for (size_t i = 1; i < nkeys; i++) {
        pcs_enc_bytes(&e, keys[i].ptr, keys[i].len);
        enc_id(&e, ids ? ids[i] : pc_xid_max());
    }
    return run_parkable(c, &e, wait, until_at);
}

/* One try of an embedded XREADGROUP BLOCK (pc__poll). */
struct xreadgroup_try {
    const void *g, *cn;
    size_t glen, clen;
    const pc_bytes *keys;
    const pc_xid *ids;
    size_t nkeys, count, max;
    int64_t wait;
    unsigned flags;
    pcs_resp *resp;
};

static int xreadgroup_attempt(pc_client *c, void *arg)
{
    struct xreadgroup_try *a = arg;
    return xreadgroup_once(c, a->g, a->glen, a->cn, a->clen, a->keys, a->ids, a->nkeys, a->count,
                           a->max, a->wait, a->flags, a->resp);
}

static int w_xreadgroup(pc_client *c, const void *g, size_t glen, const void *cn, size_t clen,
                        const pc_bytes *keys, const pc_xid *ids, size_t nkeys, size_t count,
                        int64_t timeout_ms, unsigned flags, pc_xentry *out, size_t max,
                        size_t *nper)
{
    int rc = pc__usable(c);
    if (rc || (rc = name_ok(c, "group", g, glen)) || (rc = name_ok(c, "consumer", cn, clen)) ||
        (rc = keys_ok(c, keys, nkeys, nper)))
        return rc;
    if (flags & ~(unsigned)PC_XREAD_NOACK)
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x (only PC_XREAD_NOACK)", flags);
    if ((max && !out) || count > INT64_MAX || max > INT64_MAX)
        return pc__why(c, PC_EINVAL, "out is NULL with max %zu, or count or max above INT64_MAX",
                       max);
    if (timeout_ms < 0 || timeout_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "timeout_ms must be 0 to %lld", (long long)PC_TTL_MAX_MS);
    if (c->mode != PC__IDLE)
        return pc__why(c, PC_ESTATE, "pc_xreadgroup runs at once: not in a batch or transaction");
    pcs_resp resp;
    struct xreadgroup_try a = {g,     cn,    glen, clen,       keys,  ids,
                               nkeys, count, max,  timeout_ms, flags, &resp};
    /* The daemon parks a remote one; embedded, nobody wakes us. */
    rc = c->remote ? xreadgroup_attempt(c, &a)
                   : pc__poll(c, timeout_ms, PC_EAGAIN, xreadgroup_attempt, &a);
    size_t total;
    return rc ? rc : multi_decode(&resp, nkeys, out, max, nper, NULL, &total);
}

int pc_xreadgroup(pc_client *c, const void *group, size_t glen, const void *consumer, size_t clen,
                  const pc_bytes *keys, const pc_xid *ids, size_t nkeys, size_t count,
                  int64_t timeout_ms, unsigned flags, pc_xentry *out, size_t max, size_t *nper)
{
    return pc__note(c, "pc_xreadgroup",
                    w_xreadgroup(c, group, glen, consumer, clen, keys, ids, nkeys, count,
                                 timeout_ms, flags, out, max, nper));
}

/* ---- xclaim, xautoclaim ---- */

static int w_xclaim(pc_client *c, const void *key, size_t klen, const void *g, size_t glen,
                    const void *cn, size_t clen, int64_t min_idle, const pc_xid *ids, size_t n,
                    const pc_xclaim_opts *o, pc_xentry *out, size_t max, size_t *nout)
{
    int rc = pc__usable(c);
    if (rc || (rc = name_ok(c, "group", g, glen)) || (rc = name_ok(c, "consumer", cn, clen)) ||
        (rc = ids_ok(c, ids, n)))
        return rc;
    pc_xclaim_opts none = {.idle_ms = -1, .time_ms = -1, .retrycount = -1};
    if (!o)
        o = &none;
    if (min_idle < 0)
        return pc__why(c, PC_EINVAL, "min_idle must be 0 or more, got %lld", (long long)min_idle);
    if (o->idle_ms < -1 || o->time_ms < -1 || o->retrycount < -1)
        return pc__why(c, PC_EINVAL, "idle_ms, time_ms and retrycount are -1 (none) or 0 and up");
    if ((max && !out) || max > INT64_MAX || !nout)
        return pc__why(c, PC_EINVAL, "nout is NULL, or out is NULL with max %zu", max);
    if (o->idle_ms >= 0 && o->time_ms >= 0)
        return pc__why(c, PC_EINVAL, "give idle_ms or time_ms, not both");
    if (c->mode != PC__IDLE)
        return pc__why(c, PC_ESTATE, "pc_xclaim runs at once: not in a batch or transaction");
    pcs_resp resp;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_XCLAIM, key, klen, &e, PC__R_RESP, &resp)))
        return rc;
    pcs_enc_bytes(&e, g, glen);
    pcs_enc_bytes(&e, cn, clen);
    pcs_enc_int(&e, min_idle);
    pcs_enc_int(&e, o->idle_ms);
    pcs_enc_int(&e, o->time_ms);
    pcs_enc_int(&e, o->retrycount);
    pcs_enc_int(&e, o->force);
    pcs_enc_int(&e, o->justid);
    pcs_enc_int(&e, o->lastid != NULL);
    enc_id(&e, o->lastid ? *o->lastid : pc_xid_make(0, 0));
    pcs_enc_int(&e, (int64_t)max);
    for (size_t i = 0; i < n; i++)
        enc_id(&e, ids[i]);
    if ((rc = pc__op_end(c, &e, 0)))
        return rc;
    const uint8_t *q = resp.vals;
    int64_t cnt;
    if (dec_count(&q, resp.end, &cnt))
        return PC_EPROTO;
    return pc__x_entries(&q, resp.end, (size_t)cnt, out, max, nout);
}

int pc_xclaim(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
              const void *consumer, size_t clen, int64_t min_idle_ms, const pc_xid *ids, size_t n,
              const pc_xclaim_opts *opts, pc_xentry *out, size_t max, size_t *nout)
{
    return pc__note(c, "pc_xclaim",
                    w_xclaim(c, key, klen, group, glen, consumer, clen, min_idle_ms, ids, n, opts,
                             out, max, nout));
}

static int w_xautoclaim(pc_client *c, const void *key, size_t klen, const void *g, size_t glen,
                        const void *cn, size_t clen, int64_t min_idle, pc_xid start, size_t count,
                        bool justid, pc_xid *next, pc_xentry *out, size_t max, size_t *nout,
                        pc_xid *deleted, size_t maxdel, size_t *ndel)
{
    int rc = pc__usable(c);
    if (rc || (rc = name_ok(c, "group", g, glen)) || (rc = name_ok(c, "consumer", cn, clen)))
        return rc;
    if (min_idle < 0 || count < 1 || count > INT64_MAX / 10 || count > max || !out || !nout ||
        !next || (maxdel && !deleted))
        return pc__why(c, PC_EINVAL, "count must be 1 to max, with out, nout and next given");
    if (c->mode != PC__IDLE)
        return pc__why(c, PC_ESTATE, "pc_xautoclaim runs at once: not in a batch or transaction");
    pcs_resp resp;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_XAUTOCLAIM, key, klen, &e, PC__R_RESP, &resp)))
        return rc;
    pcs_enc_bytes(&e, g, glen);
    pcs_enc_bytes(&e, cn, clen);
    pcs_enc_int(&e, min_idle);
    enc_id(&e, start);
    pcs_enc_int(&e, (int64_t)count);
    pcs_enc_int(&e, justid);
    if ((rc = pc__op_end(c, &e, 0)))
        return rc;
    const uint8_t *q = resp.vals;
    pc_val a, b, n;
    if (pcs_val_decode(&q, resp.end, &a) || pcs_val_decode(&q, resp.end, &b) ||
        pcs_val_decode(&q, resp.end, &n) || a.kind != PC_INT || b.kind != PC_INT ||
        n.kind != PC_INT || n.i < 0)
        return PC_EPROTO;
    *next = pc_xid_make((uint64_t)a.i, (uint64_t)b.i);
    if ((rc = pc__x_entries(&q, resp.end, (size_t)n.i, out, max, nout)))
        return rc;
    if (pcs_val_decode(&q, resp.end, &n) || n.kind != PC_INT || n.i < 0)
        return PC_EPROTO;
    size_t got = 0;
    for (int64_t i = 0; i < n.i; i++) {
        if (pcs_val_decode(&q, resp.end, &a) || pcs_val_decode(&q, resp.end, &b) ||
            a.kind != PC_INT || b.kind != PC_INT)
            return PC_EPROTO;
        if (got < maxdel)
            deleted[got++] = pc_xid_make((uint64_t)a.i, (uint64_t)b.i);
    }
    if (ndel)
        *ndel = got;
    return 0;
}

int pc_xautoclaim(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
                  const void *consumer, size_t clen, int64_t min_idle_ms, pc_xid start,
                  size_t count, bool justid, pc_xid *next, pc_xentry *out, size_t max, size_t *nout,
                  pc_xid *deleted, size_t maxdel, size_t *ndel)
{
    return pc__note(c, "pc_xautoclaim",
                    w_xautoclaim(c, key, klen, group, glen, consumer, clen, min_idle_ms, start,
                                 count, justid, next, out, max, nout, deleted, maxdel, ndel));
}

/* ---- reads ---- */

/* A ring-only read of op on key; its answer parsed into *resp (rc 0). */
static int rr(pc_read *r, uint16_t op, const void *key, size_t klen, const pc_val *args,
              size_t nargs, pcs_resp *resp)
{
    int rc = pc__rr_call(r, op, key, klen, args, nargs, resp);
    return rc ? rc : resp->rc;
}

static int rr_ints(const uint8_t **q, const uint8_t *end, int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pc_val x;
        if (pcs_val_decode(q, end, &x) || x.kind != PC_INT)
            return PC_EPROTO;
        v[i] = x.i;
    }
    return 0;
}

static int rd_xinfo(pc_read *r, const void *key, size_t klen, pc_xinfo *out)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = out ? 0 : pc__why(r->c, PC_EINVAL, "out is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (!pc__ring_only(r->c))
        return pcs_rd_xinfo(&r->zc, key, klen, out);
    pcs_resp resp;
    int64_t f[9];
    const uint8_t *q;
    if ((rc = rr(r, PCS_OP_R_XINFO, key, klen, NULL, 0, &resp)))
        return rc;
    q = resp.vals;
    if (resp.nvals != 9 || rr_ints(&q, resp.end, f, 9))
        return PC_EPROTO;
    out->length = (uint64_t)f[0];
    out->last_id = pc_xid_make((uint64_t)f[1], (uint64_t)f[2]);
    out->first_id = pc_xid_make((uint64_t)f[3], (uint64_t)f[4]);
    out->max_deleted_id = pc_xid_make((uint64_t)f[5], (uint64_t)f[6]);
    out->entries_added = (uint64_t)f[7];
    out->groups = (uint64_t)f[8];
    return 0;
}

int pc_xinfo_stream(pc_read *r, const void *key, size_t klen, pc_xinfo *out)
{
    return pc__rdone(r, "pc_xinfo_stream", rd_xinfo(r, key, klen, out));
}

int pc_xlen(pc_read *r, const void *key, size_t klen, uint64_t *n)
{
    pc_xinfo xi;
    if (!n)
        return pc__rdone(r, "pc_xlen", PC_EINVAL);
    int rc = rd_xinfo(r, key, klen, &xi);
    *n = rc ? 0 : xi.length;
    return pc__rdone(r, "pc_xlen", rc == PC_ENOTFOUND ? 0 : rc);
}

/* The inclusive bounds of a range with exclusive flags; false: empty. */
static bool bounds(pc_xid start, pc_xid end, unsigned flags, pc_xid *lo, pc_xid *hi)
{
    *lo = start;
    *hi = end;
    if ((flags & PC_XRANGE_START_EXCL) && !pcs_xid_next(start, lo))
        return false;
    if ((flags & PC_XRANGE_END_EXCL) && !pcs_xid_prev(end, hi))
        return false;
    return pc_xid_cmp(*lo, *hi) <= 0;
}

static int rd_xrange(pc_read *r, const void *key, size_t klen, pc_xid start, pc_xid end,
                     unsigned flags, pc_xentry *out, size_t max, size_t *n)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (flags & ~(unsigned)(PC_XRANGE_REV | PC_XRANGE_START_EXCL | PC_XRANGE_END_EXCL))
        return pc__why(r->c, PC_EINVAL,
                       "unknown flags 0x%x (PC_XRANGE_REV, _START_EXCL, _END_EXCL)", flags);
    if (!n || (max && !out) || max > INT64_MAX)
        return pc__why(r->c, PC_EINVAL, "n is NULL, or out is NULL with max %zu", max);
    *n = 0;
    pc_xid lo, hi;
    if (!bounds(start, end, flags, &lo, &hi) || max == 0)
        return 0;
    bool rev = flags & PC_XRANGE_REV;
    if (!pc__ring_only(r->c))
        return pcs_rd_xrange(&r->zc, key, klen, lo, hi, rev, out, max, n);
    pc_val a[6] = {pc_int((int64_t)lo.ms),
                   pc_int((int64_t)lo.seq),
                   pc_int((int64_t)hi.ms),
                   pc_int((int64_t)hi.seq),
                   pc_int(rev),
                   pc_int((int64_t)max)};
    pcs_resp resp;
    if ((rc = rr(r, PCS_OP_R_XRANGE, key, klen, a, 6, &resp)))
        return rc;
    const uint8_t *q = resp.vals;
    int64_t cnt;
    if (dec_count(&q, resp.end, &cnt))
        return PC_EPROTO;
    return pc__x_entries(&q, resp.end, (size_t)cnt, out, max, n);
}

int pc_xrange(pc_read *r, const void *key, size_t klen, pc_xid start, pc_xid end, unsigned flags,
              pc_xentry *out, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_xrange", rd_xrange(r, key, klen, start, end, flags, out, max, n));
}

static int rd_xread(pc_read *r, const pc_bytes *keys, const pc_xid *ids, size_t nkeys, size_t count,
                    pc_xentry *out, size_t max, size_t *nper)
{
    int rc = pc__read_ok(r);
    if (rc)
        return rc;
    if (!keys || !ids || !nkeys || !nper || (max && !out))
        return pc__why(r->c, PC_EINVAL,
                       "keys, ids and nper must be given with nkeys >= 1, and out with max %zu",
                       max);
    for (size_t i = 0; i < nkeys; i++)
        if ((rc = pc__key(r->c, "key", keys[i].ptr, keys[i].len)))
            return rc;
    size_t total = 0;
    for (size_t i = 0; i < nkeys; i++) {
        size_t want = max - total;
        if (count && count < want)
            want = count;
        nper[i] = 0;
        if ((rc = rd_xrange(r, keys[i].ptr, keys[i].len, ids[i], pc_xid_max(), PC_XRANGE_START_EXCL,
                            out + total, want, &nper[i])))
            return rc;
        total += nper[i];
    }
    return 0;
}

int pc_xread(pc_read *r, const pc_bytes *keys, const pc_xid *ids, size_t nkeys, size_t count,
             pc_xentry *out, size_t max, size_t *nper)
{
    return pc__rdone(r, "pc_xread", rd_xread(r, keys, ids, nkeys, count, out, max, nper));
}

static int group_read_ok(pc_read *r, const void *key, size_t klen, const void *g, size_t glen)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    return pcs_xname_ok(g, glen)
               ? 0
               : pc__why(r->c, PC_EINVAL, "group must be 1 to %d bytes, got %s%zu", PC_XNAME_MAX,
                         g ? "" : "NULL, ", glen);
}

static int rd_xpending_summary(pc_read *r, const void *key, size_t klen, const void *g, size_t glen,
                               pc_xpending_info *out, pc_bytes *names, uint64_t *counts, size_t max,
                               size_t *n)
{
    int rc = group_read_ok(r, key, klen, g, glen);
    if (rc)
        return rc;
    if (!out || !n || (max && !names && !counts) || max > INT64_MAX)
        return pc__why(r->c, PC_EINVAL, "out and n must be given, and names or counts with max %zu",
                       max);
    if (!pc__ring_only(r->c))
        return pcs_rd_xpending_summary(&r->zc, key, klen, g, glen, out, names, counts, max, n);
    pc_val a[3] = {pc_mem(g, glen), pc_int(1), pc_int((int64_t)max)};
    pcs_resp resp;
    if ((rc = rr(r, PCS_OP_R_XPENDING, key, klen, a, 3, &resp)))
        return rc;
    const uint8_t *q = resp.vals;
    int64_t f[7];
    if (rr_ints(&q, resp.end, f, 7) || f[6] < 0)
        return PC_EPROTO;
    out->count = (uint64_t)f[0];
    out->min = pc_xid_make((uint64_t)f[1], (uint64_t)f[2]);
    out->max = pc_xid_make((uint64_t)f[3], (uint64_t)f[4]);
    out->consumers = (uint64_t)f[5];
    *n = 0;
    for (int64_t i = 0; i < f[6]; i++) {
        pc_val nm, ct;
        if (pcs_val_decode(&q, resp.end, &nm) || pcs_val_decode(&q, resp.end, &ct) ||
            nm.kind != PC_BYTES || ct.kind != PC_INT)
            return PC_EPROTO;
        if (*n < max) {
            if (names)
                names[*n] = nm.s;
            if (counts)
                counts[*n] = (uint64_t)ct.i;
            (*n)++;
        }
    }
    return 0;
}

int pc_xpending_summary(pc_read *r, const void *key, size_t klen, const void *group, size_t glen,
                        pc_xpending_info *out, pc_bytes *names, uint64_t *counts, size_t max,
                        size_t *n)
{
    return pc__rdone(r, "pc_xpending_summary",
                     rd_xpending_summary(r, key, klen, group, glen, out, names, counts, max, n));
}

static int rd_xpending(pc_read *r, const void *key, size_t klen, const void *g, size_t glen,
                       pc_xid start, pc_xid end, unsigned flags, int64_t min_idle, const void *cn,
                       size_t clen, pc_xpending_entry *out, size_t max, size_t *n)
{
    int rc = group_read_ok(r, key, klen, g, glen);
    if (rc)
        return rc;
    if (flags & ~(unsigned)(PC_XRANGE_START_EXCL | PC_XRANGE_END_EXCL))
        return pc__why(r->c, PC_EINVAL, "unknown flags 0x%x (PC_XRANGE_START_EXCL, _END_EXCL)",
                       flags);
    if (min_idle < 0)
        return pc__why(r->c, PC_EINVAL, "min_idle must be 0 or more, got %lld",
                       (long long)min_idle);
    if (cn && !pcs_xname_ok(cn, clen))
        return pc__why(r->c, PC_EINVAL, "consumer must be 1 to %d bytes (or NULL: any), got %zu",
                       PC_XNAME_MAX, clen);
    if (!n || (max && !out) || max > INT64_MAX)
        return pc__why(r->c, PC_EINVAL, "n is NULL, or out is NULL with max %zu", max);
    *n = 0;
    pc_xid lo, hi;
    bool some = bounds(start, end, flags, &lo, &hi);
    if (!some) /* still PC_ENOTFOUND for a missing group */
        lo = pc_xid_max(), hi = pc_xid_make(0, 0);
    if (!pc__ring_only(r->c))
        return pcs_rd_xpending(&r->zc, key, klen, g, glen, lo, hi, min_idle, cn, clen, out, max, n);
    pc_val nil = {.kind = PC_NIL};
    pc_val a[9] = {pc_mem(g, glen),        pc_int(0),
                   pc_int((int64_t)lo.ms), pc_int((int64_t)lo.seq),
                   pc_int((int64_t)hi.ms), pc_int((int64_t)hi.seq),
                   pc_int(min_idle),       cn ? pc_mem(cn, clen) : nil,
                   pc_int((int64_t)max)};
    pcs_resp resp;
    if ((rc = rr(r, PCS_OP_R_XPENDING, key, klen, a, 9, &resp)))
        return rc;
    const uint8_t *q = resp.vals;
    int64_t cnt;
    if (dec_count(&q, resp.end, &cnt))
        return PC_EPROTO;
    for (int64_t i = 0; i < cnt; i++) {
        int64_t f[4];
        pc_val nm;
        if (rr_ints(&q, resp.end, f, 2) || pcs_val_decode(&q, resp.end, &nm) ||
            nm.kind != PC_BYTES || rr_ints(&q, resp.end, f + 2, 2))
            return PC_EPROTO;
        if (*n < max) {
            pc_xpending_entry *o = &out[(*n)++];
            o->id = pc_xid_make((uint64_t)f[0], (uint64_t)f[1]);
            o->consumer = nm.s;
            o->idle_ms = f[2];
            o->deliveries = (uint64_t)f[3];
        }
    }
    return 0;
}

int pc_xpending(pc_read *r, const void *key, size_t klen, const void *group, size_t glen,
                pc_xid start, pc_xid end, unsigned flags, int64_t min_idle_ms, const void *consumer,
                size_t clen, pc_xpending_entry *out, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_xpending",
                     rd_xpending(r, key, klen, group, glen, start, end, flags, min_idle_ms,
                                 consumer, clen, out, max, n));
}

static int rd_xgroups(pc_read *r, const void *key, size_t klen, pc_xgroup_info *out, size_t max,
                      size_t *n)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (!n || (max && !out) || max > INT64_MAX)
        return pc__why(r->c, PC_EINVAL, "n is NULL, or out is NULL with max %zu", max);
    if (!pc__ring_only(r->c))
        return pcs_rd_xgroups(&r->zc, key, klen, out, max, n);
    pc_val a[1] = {pc_int((int64_t)max)};
    pcs_resp resp;
    if ((rc = rr(r, PCS_OP_R_XGROUPS, key, klen, a, 1, &resp)))
        return rc;
    const uint8_t *q = resp.vals;
    int64_t cnt;
    *n = 0;
    if (dec_count(&q, resp.end, &cnt))
        return PC_EPROTO;
    for (int64_t i = 0; i < cnt; i++) {
        pc_val nm;
        int64_t f[6];
        if (pcs_val_decode(&q, resp.end, &nm) || nm.kind != PC_BYTES || rr_ints(&q, resp.end, f, 6))
            return PC_EPROTO;
        if (*n < max) {
            pc_xgroup_info *o = &out[(*n)++];
            o->name = nm.s;
            o->consumers = (uint64_t)f[0];
            o->pending = (uint64_t)f[1];
            o->last_delivered = pc_xid_make((uint64_t)f[2], (uint64_t)f[3]);
            o->entries_read = f[4];
            o->lag = f[5];
        }
    }
    return 0;
}

int pc_xinfo_groups(pc_read *r, const void *key, size_t klen, pc_xgroup_info *out, size_t max,
                    size_t *n)
{
    return pc__rdone(r, "pc_xinfo_groups", rd_xgroups(r, key, klen, out, max, n));
}

static int rd_xconsumers(pc_read *r, const void *key, size_t klen, const void *g, size_t glen,
                         pc_xconsumer_info *out, size_t max, size_t *n)
{
    int rc = group_read_ok(r, key, klen, g, glen);
    if (rc)
        return rc;
    if (!n || (max && !out) || max > INT64_MAX)
        return pc__why(r->c, PC_EINVAL, "n is NULL, or out is NULL with max %zu", max);
    if (!pc__ring_only(r->c))
        return pcs_rd_xconsumers(&r->zc, key, klen, g, glen, out, max, n);
    pc_val a[2] = {pc_mem(g, glen), pc_int((int64_t)max)};
    pcs_resp resp;
    if ((rc = rr(r, PCS_OP_R_XCONSUMERS, key, klen, a, 2, &resp)))
        return rc;
    const uint8_t *q = resp.vals;
    int64_t cnt;
    *n = 0;
    if (dec_count(&q, resp.end, &cnt))
        return PC_EPROTO;
    for (int64_t i = 0; i < cnt; i++) {
        pc_val nm;
        int64_t f[3];
        if (pcs_val_decode(&q, resp.end, &nm) || nm.kind != PC_BYTES || rr_ints(&q, resp.end, f, 3))
            return PC_EPROTO;
        if (*n < max) {
            pc_xconsumer_info *o = &out[(*n)++];
            o->name = nm.s;
            o->pending = (uint64_t)f[0];
            o->idle_ms = f[1];
            o->inactive_ms = f[2];
        }
    }
    return 0;
}

int pc_xinfo_consumers(pc_read *r, const void *key, size_t klen, const void *group, size_t glen,
                       pc_xconsumer_info *out, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_xinfo_consumers",
                     rd_xconsumers(r, key, klen, group, glen, out, max, n));
}
