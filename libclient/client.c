/*
 * client.c - opening and closing clients, the write pipeline (encode,
 * queue, run, answer), batches and transactions.
 *
 * Every write is encoded as a request frame.  Idle, a frame runs at once;
 * in a batch or transaction frames queue up in c->req.  Running them means,
 * in embedded mode, decoding them and handing them to the same executor the
 * daemon uses (pcs_run), one write transaction per shard; the response frames
 * then fill the callers' out-parameters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "client.h"

/* Upkeep (expired keys, dead members) done by each embedded write txn. */
#define PC__MAINT_BUDGET 64

void pc_options_init(pc_options *opt)
{
    if (opt)
        memset(opt, 0, sizeof *opt);
}

/* $XDG_RUNTIME_DIR/pycache, or /run/pycache for root. */
static int default_dir(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int w;
    if (geteuid() == 0)
        w = snprintf(buf, n, "/run/pycache");
    else if (xdg && *xdg)
        w = snprintf(buf, n, "%s/pycache", xdg);
    else
        return PC_ENOENT;
    return w > 0 && (size_t)w < n ? 0 : PC_EINVAL;
}

static void read_release(pc_client *c);

static void shape_from_store(pc_client *c)
{
    c->nshards = c->st->nshards;
    c->max_value = c->st->max_value;
    c->map_size = c->st->map_size;
    c->max_readers = c->st->max_readers;
}

static int open_embedded(pc_client *c, const char *dir, const pc_options *o)
{
    if (o->flags & (PC_OPT_RING_ONLY | PC_OPT_NONBLOCK))
        return PC_EINVAL;
    pcs_params p = {
        .map_size = o->map_size,
        .max_value = o->max_value,
        .shards = o->shards,
        .max_readers = o->max_readers,
        .create = (o->flags & PC_OPT_CREATE) != 0,
        .nosync = (o->flags & PC_OPT_NOSYNC) != 0,
    };
    int rc = pcs_store_open(dir, PCS_MODE_EMBEDDED, &p, &c->st);
    if (!rc) {
        shape_from_store(c);
        pc__read_attach(c);
    }
    return rc;
}

/* Adopt the store the daemon serves (identity id): open it read-only for
 * zero-copy reads, unless it is the one already open.  No read may be
 * active: views of the old store die here. */
int pc__adopt_store(pc_client *c, uint64_t id)
{
    if (c->st && c->st->id == id) {
        c->stale_st = false;
        return 0;
    }
    if (c->st) {
        read_release(c);
        pcs_store_release(c->st);
        c->st = NULL;
    }
    c->stale_st = true;
    static const pcs_params ro = {0};
    int rc = pcs_store_open(c->dir, PCS_MODE_READER, &ro, &c->st);
    if (rc)
        return rc;
    if (c->st->id != id) {
        /* The directory holds another store than the daemon serves: it was
         * made anew between the welcome and now.  Try again later. */
        pcs_store_release(c->st);
        c->st = NULL;
        return PC_EAGAIN;
    }
    pc__read_attach(c);
    c->stale_st = false;
    shape_from_store(c);
    return 0;
}

/* The handshake on a fresh channel; adopt the welcome's shape. */
static int handshake(pc_client *c, uint64_t deadline, pcs_welcome *w)
{
    memset(w, 0, sizeof *w);
    int rc = pc__chan_connect(c->dir, c->flags, &c->ch, w, deadline);
    if (rc)
        return rc;
    if (w->shards < 1 || w->shards > PCS_SHARDS_MAX || w->max_value < 1 ||
        w->max_value > UINT32_MAX / 2 || w->store_id == 0) {
        pc__chan_close(&c->ch);
        return PC_EPROTO;
    }
    if (c->store_id && c->ch.ring_only != c->ring_only) {
        /* Admitted otherwise than when we connected first (the daemon's
         * access policy changed): open a new client. */
        pc__chan_close(&c->ch);
        return PC_EACCES;
    }
    c->ring_only = c->ch.ring_only;
    c->store_id = w->store_id;
    /* A zero-copy client routes its reads by the store it maps: it takes
     * the shape from there (pc__adopt_store). */
    if (c->ring_only) {
        c->nshards = w->shards;
        c->max_value = w->max_value;
        c->map_size = w->map_size;
        c->max_readers = w->max_readers;
    }
    return 0;
}

static uint64_t deadline_after(int64_t ms)
{
    return ms < 0 ? UINT64_MAX : pc__mono_ns() + (uint64_t)ms * 1000000;
}

/* Daemon mode: the handshake, then (for a trusted peer) the store mapped
 * read-only for zero-copy reads. */
static int open_remote(pc_client *c, const char *dir, const pc_options *o)
{
    if (o->flags & (PC_OPT_CREATE | PC_OPT_NOSYNC))
        return PC_EINVAL;
    if (!(c->dir = pcs_strdup(dir)))
        return PC_ENOMEM;
    c->flags = o->flags;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : PC_TIMEOUT_DEFAULT_MS;
    c->call_deadline = UINT64_MAX;
    c->remote = true;
    pcs_welcome w;
    int rc = handshake(c, deadline_after(c->timeout_ms), &w);
    if (rc || c->ring_only)
        return rc;
    rc = pc__adopt_store(c, w.store_id);
    if (rc)
        pc__chan_close(&c->ch);
    return rc;
}

int pc__reconnect(pc_client *c, bool wait)
{
    pc__chan *ch = &c->ch;
    if (ch->map && !ch->broken && pcs_daemon_alive(ch->dpage))
        return 0;
    /* Keep the old daemon's page until a new channel stands: it still says
     * whether the store we map is served. */
    const pcs_dpage *old = ch->dpage;
    ch->dpage = NULL;
    pc__chan_close(ch);
    ch->dpage = old;
    ch->broken = false;
    uint64_t deadline = deadline_after(c->timeout_ms);
    unsigned nap_ms = 1;
    pcs_welcome w;
    int rc;
    for (;;) {
        ch->dpage = NULL;
        rc = handshake(c, deadline, &w);
        if (rc)
            ch->dpage = old;
        else if (old)
            munmap((void *)old, PCS_DPAGE_SIZE);
        /* No daemon yet (it is being restarted): wait for one, if asked. */
        bool absent = rc == PC_ECONNREFUSED || rc == PC_ENOENT;
        if (!rc || !wait || !absent)
            break;
        uint64_t now = pc__mono_ns();
        if (now >= deadline)
            return PC_ETIMEDOUT;
        uint64_t left_ms = (deadline - now) / 1000000 + 1;
        struct timespec ts = {0, (long)(left_ms < nap_ms ? left_ms : nap_ms) * 1000000};
        nanosleep(&ts, NULL);
        nap_ms = nap_ms < 64 ? nap_ms * 2 : 100;
    }
    if (rc || c->ring_only)
        return rc;
    /* A read still open keeps its views of the old store: swap it at the
     * next pc_read_begin(). */
    if (c->rd.active) {
        c->stale_st = !c->st || c->st->id != w.store_id;
        return 0;
    }
    rc = pc__adopt_store(c, w.store_id);
    if (rc) {
        pc__chan_close(ch);
        ch->broken = true;
    }
    return rc;
}

int pc__call(pc_client *c, const uint8_t *frames, size_t len, size_t nframes, pcs_buf *out,
             uint64_t deadline)
{
    int rc = pc__reconnect(c, true);
    if (rc)
        return rc;
    /* A fixed deadline (qpop-wait's) replaces the wait for progress. */
    int64_t idle = deadline == UINT64_MAX ? c->timeout_ms : -1;
    return pc__chan_call(&c->ch, frames, len, nframes, out, idle, deadline);
}

int pc_connect(const char *dir, const pc_options *opt, pc_client **out)
{
    pc_options o;
    char dbuf[4096];
    if (!out)
        return PC_EINVAL;
    *out = NULL;
    pc_options_init(&o);
    if (opt)
        o = *opt;
    if (o.flags & ~(unsigned)(PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC | PC_OPT_RING_ONLY |
                              PC_OPT_NONBLOCK))
        return PC_EINVAL;
    if (o.shards > PCS_SHARDS_MAX || (o.max_value && o.max_value > UINT32_MAX / 2))
        return PC_EINVAL;
    if (!dir) {
        int rc = default_dir(dbuf, sizeof dbuf);
        if (rc)
            return rc;
        dir = dbuf;
    }
    pc_client *c = pcs_calloc(1, sizeof *c);
    if (!c)
        return PC_ENOMEM;
    c->fork_gen = pcs_fork_gen;
    c->rd.c = c;
    pcs_wctx_init(&c->w);
    int rc = (o.flags & PC_OPT_EMBEDDED) ? open_embedded(c, dir, &o) : open_remote(c, dir, &o);
    if (rc) {
        pcs_free(c->dir);
        pcs_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void read_release(pc_client *c)
{
    struct pc_read *r = &c->rd;
    pc__rr_release(r);
    pcs_buf_free(&r->enc);
    pcs_reader_fini(&r->zc);
}

/* Clients closed in a child after fork (see pc_close). */
static pc_client *volatile abandoned;

void pc_close(pc_client *c)
{
    if (!c)
        return;
    /* In a child after fork() the LMDB objects are the parent's: aborting
     * a read txn here would free the parent's reader slot. */
    if (c->fork_gen == pcs_fork_gen) {
        read_release(c);
        if (c->st)
            pcs_store_release(c->st);
    }
    if (c->remote) /* in a child too: only our copies of the fd and mapping */
        pc__chan_close(&c->ch);
    pcs_free(c->dir);
    pcs_wctx_free(&c->w);
    pcs_buf_free(&c->req);
    pcs_buf_free(&c->resp);
    pcs_free(c->pend);
    pcs_free(c->reqs);
    pcs_free(c->rptr);
    pcs_free(c->roff);
    if (c->fork_gen != pcs_fork_gen) {
        /* c holds the parent's LMDB objects (read transactions, cursors),
         * which a child must neither use nor free: keep c reachable, so
         * that a leak checker in the child does not count them as lost. */
        c->abandoned_next = abandoned;
        abandoned = c;
        return;
    }
    pcs_free(c);
}

static int c_store_info_get(pc_client *c, pc_store_info *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!out)
        return PC_EINVAL;
    memset(out, 0, sizeof *out);
    out->map_size = c->map_size;
    out->max_value = c->max_value;
    out->shards = c->nshards;
    out->max_readers = c->max_readers;
    out->format = PCS_FORMAT;
    out->embedded = !c->remote;
    out->ring_only = pc__ring_only(c);
    out->ring_size = c->remote && c->ch.hdr ? c->ch.hdr->ring_size : 0;
    out->id = c->remote ? c->store_id : c->st->id;
    return 0;
}

/* ---- the write pipeline ---- */

static void queue_reset(pc_client *c)
{
    pcs_buf_reset(&c->req);
    c->npend = 0;
    c->queue_err = 0;
    c->txn_keyed = false;
}

int pc__note(pc_client *c, const char *call, int rc)
{
    if (rc < 0 && c && c->mode == PC__TXN && !c->queue_err && c->fork_gen == pcs_fork_gen &&
        rc != PC_ESTATE) {
        c->queue_err = rc;
        /* what refused it, for the commit to tell */
        if (c->err.has_detail)
            snprintf(c->queue_why, sizeof c->queue_why, "%s: %.640s", call, c->err.detail);
        else
            snprintf(c->queue_why, sizeof c->queue_why, "%s", call);
    }
    return pc__done(c, call, rc);
}

/* ---- pc_last_error ---- */

int pc__why(pc_client *c, int rc, const char *fmt, ...)
{
    if (!c)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.detail, sizeof c->err.detail, fmt, ap);
    va_end(ap);
    c->err.has_detail = true;
    return rc;
}

int pc__key(pc_client *c, const char *what, const void *key, size_t klen)
{
    if (!pcs_key_ok(key, klen))
        return 0;
    if (!key)
        return pc__why(c, PC_EKEY, "%s is NULL", what);
    return pc__why(c, PC_EKEY, "%s is %zu bytes", what, klen);
}

int pc__done(pc_client *c, const char *call, int rc)
{
    if (!rc || !c)
        return rc;
    c->err.rc = rc;
    c->err.call = call;
    if (!c->err.has_detail)
        c->err.detail[0] = '\0';
    c->err.has_detail = false;
    return rc;
}

/* What a failure means where the call did not say more: the causes a code
 * has in a call whose arguments were checked (the store said it). */
static const char *err_context(const char *call, int rc)
{
    static const struct {
        const char *call; /* NULL: any */
        int rc;
        const char *why;
    } t[] = {
        {"pc_incrby", PC_ENOTINT,
         "the key holds a double, or a String that is not an integer in canonical form"},
        {"pc_hincrby", PC_ENOTINT,
         "the field holds a double, a boolean, null, or a String that is not an integer in "
         "canonical form"},
        {"pc_incrbyfloat", PC_ENOTNUM, "the key holds a String that is not a decimal number"},
        {"pc_hincrbyfloat", PC_ENOTNUM,
         "the field holds a boolean, null, or a String that is not a decimal number"},
        {"pc_incrby", PC_EOVERFLOW, "the result would not fit in 64 bits"},
        {"pc_hincrby", PC_EOVERFLOW, "the result would not fit in 64 bits"},
        {"pc_rename", PC_ENOTFOUND, "there is no such key to rename"},
        {"pc_lset", PC_ENOTFOUND, "there is no such key"},
        {"pc_set", PC_EEXIST, "PC_NX: the key exists"},
        {"pc_set", PC_ENOTFOUND, "PC_XX: the key does not exist"},
        {"pc_set_coll", PC_EEXIST, "PC_NX: the key exists"},
        {"pc_set_coll", PC_ENOTFOUND, "PC_XX: the key does not exist"},
        {"pc_hstrlen", PC_EWRONGTYPE, "the key is not a Map, or the field is not a string"},
        {"pc_read_begin", PC_EBUSY, "a read is already open on this client: end it first"},
        {"pc_batch_begin", PC_ESTATE, "already in a batch or a transaction"},
        {"pc_txn_begin", PC_ESTATE, "already in a batch or a transaction"},
        {"pc_batch_exec", PC_ESTATE, "no batch was begun (pc_batch_begin)"},
        {"pc_txn_commit", PC_ESTATE, "no transaction was begun (pc_txn_begin)"},
        {"pc_qpop_wait", PC_ESTATE, "it cannot wait inside a batch or a transaction"},
        {"pc_flush", PC_ESTATE, "not in a transaction, which lives in one shard"},
        {"pc_snapshot", PC_ENOTSUP, "embedded mode, or the daemon has no --snapshot-dir"},
        {"pc_stats_get", PC_ENOTSUP, "embedded mode: no daemon keeps statistics"},
        {"pc_xadd", PC_ERANGE,
         "the ID must be greater than the stream's last ID (and than 0-0), and one must be left"},
        {"pc_xgroup_create", PC_EEXIST, "the group exists (Redis's BUSYGROUP)"},
        {"pc_xgroup_create", PC_ENOTFOUND, "no such key: PC_XGROUP_MKSTREAM creates it"},
        {"pc_xgroup_setid", PC_ENOTFOUND, "no such key or consumer group (Redis's NOGROUP)"},
        {"pc_xreadgroup", PC_ENOTFOUND, "no such key or consumer group (Redis's NOGROUP)"},
        {"pc_xclaim", PC_ENOTFOUND, "no such key or consumer group (Redis's NOGROUP)"},
        {"pc_xautoclaim", PC_ENOTFOUND, "no such key or consumer group (Redis's NOGROUP)"},
        {"pc_xreadgroup", PC_ESTATE, "it runs at once: not in a batch or transaction"},
        {"pc_xclaim", PC_ESTATE, "it runs at once: not in a batch or transaction"},
        {"pc_xautoclaim", PC_ESTATE, "it runs at once: not in a batch or transaction"},
        {"pc_xread_wait", PC_ESTATE, "it cannot wait inside a batch or a transaction"},
        {NULL, PC_ECONNREFUSED, "no daemon serves the store: start pycached, or open it embedded"},
        {NULL, PC_EACCES, "this peer's role does not allow it; see pycached(8), ROLES"},
        {NULL, PC_ECROSSSHARD, "the keys lie in different shards; give them the same {tag}"},
        {NULL, PC_EFULL, "the store reached its memory cap and nothing could be evicted"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].rc == rc && (!t[i].call || !strcmp(t[i].call, call)))
            return t[i].why;
    return NULL;
}

const char *pc_last_error(pc_client *c)
{
    if (!c || !c->err.rc)
        return "";
    const char *why = c->err.detail[0] ? c->err.detail : err_context(c->err.call, c->err.rc);
    snprintf(c->err.text, sizeof c->err.text, "%s: %s%s%s (%s)", c->err.call,
             pc_strerror(c->err.rc), why ? ": " : "", why ? why : "", pc_err_name(c->err.rc));
    return c->err.text;
}

/* key as 'text' into out (at most 40 bytes of it shown; bytes outside
 * printable ASCII and quotes as \xNN). */
static void show_key(char *out, size_t size, const uint8_t *key, size_t klen)
{
    size_t o = 0, shown = klen > 40 ? 40 : klen;
    out[o++] = '\'';
    for (size_t i = 0; i < shown && o + 8 < size; i++) {
        uint8_t b = key[i];
        if (b >= 0x20 && b < 0x7f && b != '\'' && b != '\\')
            out[o++] = (char)b;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", b);
    }
    out[o++] = '\'';
    if (shown < klen)
        o += (size_t)snprintf(out + o, size - o, "... (%zu bytes)", klen);
    out[o] = 0;
}

int pc__txn_key(pc_client *c, const void *key, size_t klen)
{
    if (c->mode != PC__TXN || c->nshards <= 1)
        return 0;
    unsigned s = pcs_shard_of(c->nshards, key, klen);
    if (!c->txn_keyed) {
        c->txn_keyed = true;
        c->txn_shard = s;
        c->txn_klen = klen;
        memcpy(c->txn_key, key, klen);
        return 0;
    }
    if (s == c->txn_shard)
        return 0;
    char a[200], b[200];
    show_key(a, sizeof a, c->txn_key, c->txn_klen);
    show_key(b, sizeof b, key, klen);
    return pc__why(c, PC_ECROSSSHARD,
                   "transaction keys lie in different shards: %s (shard %u of %u) and %s (shard "
                   "%u); a transaction runs in one shard: put the same {tag} in its keys (as in "
                   "'{user42}:name' and '{user42}:mail'), which then hash by the tag alone",
                   a, c->txn_shard, c->nshards, b, s);
}

int pc__same_shard(pc_client *c, const char *n0, const void *k0, size_t l0, const char *n1,
                   const void *k1, size_t l1)
{
    if (c->nshards <= 1)
        return 0;
    unsigned s0 = pcs_shard_of(c->nshards, k0, l0), s1 = pcs_shard_of(c->nshards, k1, l1);
    if (s0 == s1)
        return 0;
    char a[200], b[200];
    show_key(a, sizeof a, k0, l0);
    show_key(b, sizeof b, k1, l1);
    return pc__why(c, PC_ECROSSSHARD,
                   "%s %s (shard %u) and %s %s (shard %u) lie in different shards of the %u; give "
                   "them the same {tag}, as in '{user42}:a' and '{user42}:b' (a key with a {tag} "
                   "hashes by the tag alone)",
                   n0, a, s0, n1, b, s1, c->nshards);
}

int pc__op_begin(pc_client *c, uint16_t op, pcs_enc *e, pc__pend **p)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode == PC__IDLE) {
        queue_reset(c);
        pcs_buf_reset(&c->resp); /* results of the last write die here */
    }
    if (c->npend == c->pcap) {
        size_t cap = c->pcap ? c->pcap * 2 : 16;
        pc__pend *np = pcs_reallocarray(c->pend, cap, sizeof *np);
        if (!np)
            return PC_ENOMEM;
        c->pend = np;
        c->pcap = cap;
    }
    *p = &c->pend[c->npend];
    memset(*p, 0, sizeof **p);
    pcs_enc_begin(e, &c->req, op, c->npend);
    return 0;
}

int pc__op_key(pc_client *c, uint16_t op, const void *key, size_t klen, pcs_enc *e, uint8_t shape,
               void *out)
{
    int rc = pc__usable(c);
    if (rc || (rc = pc__key(c, "key", key, klen)) || (rc = pc__txn_key(c, key, klen)))
        return rc;
    pc__pend *p;
    if ((rc = pc__op_begin(c, op, e, &p)))
        return rc;
    p->shape = shape;
    p->out = out;
    pcs_enc_bytes(e, key, klen);
    return 0;
}

static int run_queue(pc_client *c, int *rcs, size_t nrcs, long *failed);

int pc__op_end_wait_at(pc_client *c, pcs_enc *e, int64_t timeout_ms, size_t until_at)
{
    /* Rounded up to the next millisecond: the daemon reads its clock in
     * whole milliseconds too, and must never give up before we asked.  It
     * answers PC_ETIMEDOUT at the deadline and gives nothing after it; we
     * wait a little longer, and not at all longer than that whatever the
     * daemon does. */
    uint64_t until = (pc__mono_ns() + (uint64_t)timeout_ms * 1000000 + 999999) / 1000000;
    pcs_buf *b = e->b;
    /* The placeholder is an INT: its kind byte, then 8 bytes. */
    if (!b->err && until_at + 9 <= b->len)
        pcs_put_le64(b->data + until_at + 1, until);
    c->call_deadline = (until + PC__QPOP_GRACE_MS) * 1000000;
    int rc = pc__op_end(c, e, 0);
    c->call_deadline = UINT64_MAX;
    return rc;
}

int pc__op_end_wait(pc_client *c, pcs_enc *e, int64_t timeout_ms)
{
    size_t at = e->b->len;
    pcs_enc_int(e, 0);
    return pc__op_end_wait_at(c, e, timeout_ms, at);
}

int pc__poll(pc_client *c, int64_t timeout_ms, int again, int (*attempt)(pc_client *c, void *arg),
             void *arg)
{
    uint64_t deadline = pcs_now_ms() + (uint64_t)timeout_ms;
    unsigned nap_us = 200;
    for (;;) {
        int rc = attempt(c, arg);
        if (rc != again)
            return rc;
        uint64_t now = pcs_now_ms();
        if (now >= deadline)
            return PC_ETIMEDOUT;
        uint64_t left_us = (deadline - now) * 1000;
        struct timespec ts = {0, (long)(left_us < nap_us ? left_us : nap_us) * 1000L};
        nanosleep(&ts, NULL);
        if (nap_us < 10000)
            nap_us *= 2;
    }
}

int pc__op_end(pc_client *c, pcs_enc *e, int rc)
{
    /* A transaction's size is known now, not at the commit: refuse the
     * write past PC_TXN_MAX here (pc__note then makes the commit apply
     * nothing). */
    if (!rc && c->mode == PC__TXN && c->npend >= PC_TXN_MAX)
        rc = PC_ETXNSIZE;
    if (!rc)
        rc = pcs_enc_end(e);
    size_t from = c->mode == PC__TXN ? c->txn_start : e->start;
    if (!rc && c->req.len - from > c->max_value + PCS_FRAME_SLACK)
        rc = PC_ETOOBIG;
    if (rc) { /* drop the frame: nothing was queued */
        c->req.len = e->start;
        c->req.err = 0;
        return rc;
    }
    c->npend++;
    if (c->mode != PC__IDLE)
        return 0;
    int one;
    rc = run_queue(c, &one, 1, NULL);
    queue_reset(c);
    return rc;
}

/* A rate limiter's answer: five INTs (t_helpers.c). */
static int fill_throttle(pc_throttle_info *out, const pcs_resp *r)
{
    const uint8_t *q = r->vals;
    int64_t f[5];
    if (r->nvals != 5)
        return PC_EPROTO;
    for (int i = 0; i < 5; i++) {
        pc_val v;
        if (pcs_val_decode(&q, r->end, &v) || v.kind != PC_INT)
            return PC_EPROTO;
        f[i] = v.i;
    }
    if (f[0] != 0 && f[0] != 1)
        return PC_EPROTO;
    out->limited = f[0] == 1;
    out->limit = f[1];
    out->remaining = f[2];
    out->retry_after_ms = f[3];
    out->reset_after_ms = f[4];
    return 0;
}

/* Fill p's out-parameter from response r. */
static int fill_out(pc__pend *p, const pcs_resp *r)
{
    const uint8_t *q = r->vals;
    pc_val v;
    if (p->shape == PC__R_NONE || !p->out)
        return 0;
    if (p->shape == PC__R_ADD) {
        if (r->nvals < 1 || pcs_val_decode(&q, r->end, &v) || v.kind != PC_INT)
            return PC_EPROTO;
        *(uint64_t *)p->out += (uint64_t)v.i;
        return 0;
    }
    if (p->shape == PC__R_VALS) {
        size_t i = 0;
        for (; i < r->nvals && i < p->max; i++)
            if (pcs_val_decode(&q, r->end, &((pc_val *)p->out)[i]))
                return PC_EPROTO;
        if (p->n)
            *p->n = i;
        return 0;
    }
    if (p->shape == PC__R_THROTTLE)
        return fill_throttle(p->out, r);
    if (p->shape == PC__R_FLIGHT)
        return pc__flight_decode(r, p->out);
    if (p->shape == PC__R_RESP) {
        *(pcs_resp *)p->out = *r;
        return 0;
    }
    if (p->shape == PC__R_XID) {
        pc_val a, b;
        if (r->nvals != 2 || pcs_val_decode(&q, r->end, &a) || pcs_val_decode(&q, r->end, &b) ||
            a.kind != PC_INT || b.kind != PC_INT)
            return PC_EPROTO;
        *(pc_xid *)p->out = pc_xid_make((uint64_t)a.i, (uint64_t)b.i);
        return 0;
    }
    if (p->shape == PC__R_ZENTRIES || p->shape == PC__R_ZBLOCK)
        return pc__zfill(p, r);
    if (p->shape == PC__R_FLAGS) {
        if (r->nvals != p->max)
            return PC_EPROTO;
        for (size_t i = 0; i < p->max; i++) {
            if (pcs_val_decode(&q, r->end, &v) || v.kind != PC_INT)
                return PC_EPROTO;
            ((int *)p->out)[i] = v.i != 0;
        }
        return 0;
    }
    if (r->nvals == 0) {
        if (p->shape != PC__R_VAL)
            return PC_EPROTO;
        ((pc_val *)p->out)->kind = PC_NONE;
        return 0;
    }
    if (pcs_val_decode(&q, r->end, &v))
        return PC_EPROTO;
    switch (p->shape) {
    case PC__R_VAL:
        *(pc_val *)p->out = v;
        return 0;
    case PC__R_DBL:
        if (v.kind != PC_DOUBLE)
            return PC_EPROTO;
        *(double *)p->out = v.d;
        return 0;
    default:
        if (v.kind != PC_INT)
            return PC_EPROTO;
        if (p->shape == PC__R_INT)
            *(int *)p->out = (int)v.i;
        else if (p->shape == PC__R_I64)
            *(int64_t *)p->out = v.i;
        else
            *(uint64_t *)p->out = (uint64_t)v.i;
        return 0;
    }
}

/* Walk response frames in [p, end), answering pendings by id. */
static int answer(pc_client *c, const uint8_t *p, const uint8_t *end, int *rcs, bool fill)
{
    while (p < end) {
        pcs_resp r;
        size_t sz;
        if (pcs_resp_parse(p, (size_t)(end - p), &r, &sz))
            return PC_EPROTO;
        if (r.op == PCS_OP_TXN)
            return PC_EPROTO;
        if (r.id >= c->npend)
            return PC_EPROTO;
        int rc = r.rc;
        if (!rc && fill)
            rc = fill_out(&c->pend[r.id], &r);
        rcs[r.id] = rc;
        p += sz;
    }
    return 0;
}

/* Grow the embedded run arrays to hold n requests. */
static int run_arrays(pc_client *c, size_t n)
{
    if (n <= c->rcap)
        return 0;
    pcs_req *reqs = pcs_reallocarray(c->reqs, n, sizeof *reqs);
    if (reqs)
        c->reqs = reqs;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers to structs
    pcs_req **rptr = pcs_reallocarray(c->rptr, n, sizeof *rptr);
    if (rptr)
        c->rptr = rptr;
    size_t *roff = pcs_reallocarray(c->roff, n + 1, sizeof *roff);
    if (roff)
        c->roff = roff;
    if (!reqs || !rptr || !roff)
        return PC_ENOMEM;
    c->rcap = n;
    return 0;
}

/* Embedded: decode the queued frames and run them, shard by shard. */
static int run_embedded(pc_client *c, size_t *nreq)
{
    size_t n = 0;
    for (size_t off = 0; off < c->req.len; off = pcs_align8(off + pcs_frame_len(c->req.data + off)))
        n++;
    int rc = run_arrays(c, n);
    if (rc)
        return rc;
    size_t off = 0, i;
    for (i = 0; i < n && !rc; i++) {
        size_t len = pcs_frame_len(c->req.data + off);
        rc = pcs_req_decode(c->req.data + off, len, &c->reqs[i]);
        off = pcs_align8(off + len);
    }
    *nreq = rc ? i - 1 : n;
    if (rc)
        return rc;
    for (unsigned s = 0; s < c->st->nshards && !rc; s++) {
        size_t k = 0;
        for (i = 0; i < n; i++) {
            unsigned shard;
            int src = pcs_req_shard(c->st, &c->reqs[i], &shard);
            if (src == PC_ECROSSSHARD)
                return src;
            if (shard == s)
                c->rptr[k++] = &c->reqs[i];
        }
        if (k)
            rc = pcs_run(&c->w, c->st, s, c->rptr, k, &c->resp, c->roff, PC__MAINT_BUDGET,
                         PCS_MAINT_EXPIRE | PCS_MAINT_SWEEP);
    }
    return rc;
}

/*
 * Run what is queued.  rcs[i] gets each write's code (nrcs of them); for a
 * transaction the return is its code and *failed its failing index.
 */
static int run_queue(pc_client *c, int *rcs, size_t nrcs, long *failed)
{
    int stack[64];
    int *all = c->npend <= 64 ? stack : pcs_reallocarray(NULL, c->npend, sizeof *all);
    if (!all) {
        for (size_t i = 0; rcs && i < c->npend && i < nrcs; i++)
            rcs[i] = PC_ENOMEM;
        return PC_ENOMEM;
    }
    for (size_t i = 0; i < c->npend; i++)
        all[i] = PC_EPROTO;
    size_t nreq = 0;
    pcs_buf_reset(&c->resp);
    int rc;
    if (c->remote) {
        rc = pc__call(c, c->req.data, c->req.len, c->mode == PC__TXN ? 1 : c->npend, &c->resp,
                      c->call_deadline);
        c->call_deadline = UINT64_MAX;
    } else {
        rc = run_embedded(c, &nreq);
        for (size_t i = 0; i < nreq; i++)
            pcs_req_free(&c->reqs[i]);
    }
    int txn_rc = 0;
    long fail_at = -1;
    if (rc) {
        for (size_t i = 0; i < c->npend; i++)
            all[i] = rc;
        txn_rc = rc;
    } else if (c->mode == PC__TXN) {
        pcs_resp r;
        size_t sz;
        if (pcs_resp_parse(c->resp.data, c->resp.len, &r, &sz) || r.op != PCS_OP_TXN ||
            r.end - r.vals < 8) {
            txn_rc = PC_EPROTO;
        } else {
            txn_rc = r.rc;
            uint32_t f = pcs_le32(r.vals);
            fail_at = txn_rc && f != UINT32_MAX ? (long)f : -1;
            if (!txn_rc)
                txn_rc = answer(c, r.vals + 8, r.end, all, true);
        }
        for (size_t i = 0; i < c->npend && txn_rc; i++)
            all[i] = txn_rc;
    } else {
        rc = answer(c, c->resp.data, c->resp.data + c->resp.len, all, true);
        if (rc)
            for (size_t i = 0; i < c->npend; i++)
                all[i] = rc;
    }
    int first = 0;
    size_t first_at = 0;
    for (size_t i = 0; i < c->npend; i++) {
        if (rcs && i < nrcs)
            rcs[i] = all[i];
        if (!first && all[i]) {
            first = all[i];
            first_at = i;
        }
    }
    if (c->mode == PC__BATCH && first && !rc)
        pc__why(c, first, "write %zu of the %zu in the batch (counting from 0) failed", first_at,
                c->npend);
    else if (c->mode == PC__TXN && fail_at >= 0)
        pc__why(c, txn_rc, "write %ld of the transaction (counting from 0) failed; nothing applied",
                fail_at);
    if (all != stack)
        pcs_free(all);
    if (failed)
        *failed = fail_at;
    return c->mode == PC__TXN ? txn_rc : first;
}

/* ---- batches and transactions ---- */

static int c_batch_begin(pc_client *c)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__IDLE)
        return PC_ESTATE;
    queue_reset(c);
    pcs_buf_reset(&c->resp);
    c->mode = PC__BATCH;
    return 0;
}

static int c_batch_exec(pc_client *c, int *rcs, size_t nrcs)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__BATCH)
        return PC_ESTATE;
    rc = c->npend ? run_queue(c, rcs, nrcs, NULL) : 0;
    c->mode = PC__IDLE;
    queue_reset(c);
    return rc;
}

size_t pc_pending(const pc_client *c)
{
    return c && c->mode != PC__IDLE ? c->npend : 0;
}

static int c_txn_begin(pc_client *c)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__IDLE)
        return PC_ESTATE;
    queue_reset(c);
    pcs_buf_reset(&c->resp);
    c->txn_start = pcs_enc_txn_begin(&c->req, UINT64_MAX);
    if (c->req.err) {
        queue_reset(c);
        return PC_ENOMEM;
    }
    c->mode = PC__TXN;
    return 0;
}

static int require(pc_client *c, uint16_t op, const void *key, size_t klen, const uint64_t *ver)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__TXN)
        return PC_ESTATE;
    if ((rc = pc__key(c, "key", key, klen)) || (rc = pc__txn_key(c, key, klen)))
        return rc;
    pcs_enc e;
    pc__pend *p;
    if ((rc = pc__op_begin(c, op, &e, &p)))
        return rc;
    pcs_enc_bytes(&e, key, klen);
    if (ver)
        pcs_enc_int(&e, (int64_t)*ver);
    return pc__op_end(c, &e, 0);
}

int pc_txn_require_absent(pc_client *c, const void *key, size_t klen)
{
    return pc__note(c, "pc_txn_require_absent", require(c, PCS_OP_REQ_ABSENT, key, klen, NULL));
}

int pc_txn_require_version(pc_client *c, const void *key, size_t klen, uint64_t version)
{
    return pc__note(c, "pc_txn_require_version",
                    require(c, PCS_OP_REQ_VERSION, key, klen, &version));
}

static int c_txn_commit(pc_client *c, long *failed)
{
    if (failed)
        *failed = -1;
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__TXN)
        return PC_ESTATE;
    rc = c->queue_err; /* a write was refused when queued: apply nothing */
    if (rc)
        pc__why(c, rc, "a write was refused when it was queued; nothing applied: %s", c->queue_why);
    if (!rc)
        rc = pcs_enc_txn_end(&c->req, c->txn_start, (uint32_t)c->npend);
    if (!rc && c->npend)
        rc = run_queue(c, NULL, 0, failed);
    c->mode = PC__IDLE;
    queue_reset(c);
    return rc;
}

void pc_discard(pc_client *c)
{
    if (pc__usable(c))
        return;
    c->mode = PC__IDLE;
    queue_reset(c);
}

/* ---- the public calls above: a failure is recorded for pc_last_error() ---- */

int pc_store_info_get(pc_client *c, pc_store_info *out)
{
    return pc__done(c, "pc_store_info_get", c_store_info_get(c, out));
}

int pc_batch_begin(pc_client *c)
{
    return pc__done(c, "pc_batch_begin", c_batch_begin(c));
}

int pc_batch_exec(pc_client *c, int *rcs, size_t nrcs)
{
    return pc__done(c, "pc_batch_exec", c_batch_exec(c, rcs, nrcs));
}

int pc_txn_begin(pc_client *c)
{
    return pc__done(c, "pc_txn_begin", c_txn_begin(c));
}

int pc_txn_commit(pc_client *c, long *failed)
{
    return pc__done(c, "pc_txn_commit", c_txn_commit(c, failed));
}
