/*
 * admin.c - the calls around the data: purging expired keys, the TTL
 * worker's interval, the daemon's statistics and its clients.
 */
#include <string.h>

#include "../shm/alloc.h"
#include "client.h"

/* ---- expired keys (counted and listed by the reads: read.c) ---- */

static int a_purge_expired(pc_client *c, uint64_t *removed)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__IDLE)
        return PC_ESTATE;
    uint64_t total = 0;
    for (unsigned s = 0; s < c->nshards; s++) {
        uint64_t got = 0;
        do {
            pcs_enc e;
            pc__pend *p;
            if ((rc = pc__op_begin(c, PCS_OP_PURGE, &e, &p)))
                return rc;
            p->shape = PC__R_U64;
            p->out = &got;
            pcs_enc_int(&e, s);
            if ((rc = pc__op_end(c, &e, 0)))
                return rc;
            total += got;
        } while (got >= 10000); /* the executor's PCS_PURGE_MAX: ask again */
    }
    if (removed)
        *removed = total;
    return 0;
}

/* ---- asking the daemon itself ---- */

/* Send one daemon-answered request (no key) and parse its answer into buf. */
static int ask_daemon(pc_client *c, uint16_t op, const int64_t *arg, pcs_buf *buf, pcs_resp *resp)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!c->remote)
        return PC_ENOTSUP;
    if (c->mode != PC__IDLE)
        return PC_ESTATE;
    pcs_buf req = PCS_BUF_INIT;
    pcs_enc e;
    pcs_enc_begin(&e, &req, op, 0);
    pcs_enc_bytes(&e, "", 0);
    if (arg)
        pcs_enc_int(&e, *arg);
    rc = pcs_enc_end(&e);
    if (!rc && op == PCS_OP_A_SNAPSHOT) {
        /* The answer comes once the snapshot is on disk. */
        int64_t t = c->timeout_ms;
        c->timeout_ms = t < 0 || t > PC_SNAPSHOT_WAIT_MS ? t : PC_SNAPSHOT_WAIT_MS;
        rc = pc__call(c, req.data, req.len, 1, buf, UINT64_MAX);
        c->timeout_ms = t;
    } else if (!rc) {
        rc = pc__call(c, req.data, req.len, 1, buf, UINT64_MAX);
    }
    pcs_buf_free(&req);
    size_t sz;
    if (!rc && pcs_resp_parse(buf->data, buf->len, resp, &sz))
        rc = PC_EPROTO;
    return rc ? rc : resp->rc;
}

static int a_set_expire_interval(pc_client *c, uint32_t interval_ms)
{
    if (interval_ms > 3600000)
        return pc__usable(c)
                   ? pc__usable(c)
                   : pc__why(c, PC_EINVAL, "interval_ms must be at most 3600000 (an hour), got %u",
                             interval_ms);
    pcs_buf b = PCS_BUF_INIT;
    pcs_resp resp;
    int64_t v = interval_ms;
    int rc = ask_daemon(c, PCS_OP_A_EXPIRE_INTERVAL, &v, &b, &resp);
    pcs_buf_free(&b);
    return rc;
}

static int a_clients(pc_client *c, pc_client_info *out, size_t max, size_t *n, size_t *total)
{
    if ((max && !out) || !n)
        return pc__usable(c) ? pc__usable(c) : PC_EINVAL;
    pcs_buf b = PCS_BUF_INIT;
    pcs_resp resp = {0}; /* ask_daemon may fail before it fills resp */
    int rc = ask_daemon(c, PCS_OP_A_CLIENTS, NULL, &b, &resp);
    *n = 0;
    const uint8_t *q = resp.vals;
    pc_val v;
    if (!rc && (resp.nvals < 1 || pcs_val_decode(&q, resp.end, &v) || v.kind != PC_INT))
        rc = PC_EPROTO;
    if (!rc) {
        if (total)
            *total = (size_t)v.i;
        /* Each client: id, pid, uid, flags, since, requests, hit, miss, ring. */
        for (uint32_t i = 1; i + 9 <= resp.nvals && !rc; i += 9) {
            int64_t f[9];
            for (int j = 0; j < 9 && !rc; j++) {
                if (pcs_val_decode(&q, resp.end, &v) || v.kind != PC_INT)
                    rc = PC_EPROTO;
                f[j] = v.i;
            }
            if (rc || *n >= max)
                continue;
            pc_client_info *ci = &out[(*n)++];
            memset(ci, 0, sizeof *ci);
            ci->id = (uint64_t)f[0];
            ci->pid = f[1];
            ci->uid = (uint32_t)f[2];
            ci->ring_only = (f[3] & 1) != 0;
            ci->blocked = (f[3] & 2) != 0;
            ci->role = (uint8_t)((f[3] >> 2) & 3);
            ci->since_ms = (uint64_t)f[4];
            ci->requests = (uint64_t)f[5];
            ci->reads_hit = (uint64_t)f[6];
            ci->reads_miss = (uint64_t)f[7];
            ci->ring_size = (uint32_t)f[8];
        }
    }
    pcs_buf_free(&b);
    return rc;
}

static int a_stats_get(pc_client *c, pc_stats *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!out)
        return PC_EINVAL;
    if (!c->remote)
        return PC_ENOTSUP;
    if ((rc = pc__reconnect(c, false)))
        return rc;
    const pcs_dpage *dp = c->ch.dpage;
    for (int tries = 0; tries < 100000; tries++) {
        uint32_t s1 = atomic_load_explicit(&dp->stats_seq, memory_order_acquire);
        if (s1 & 1) {
            pcs_cpu_relax();
            continue;
        }
        memcpy(out, (const void *)&dp->stats, sizeof *out);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&dp->stats_seq, memory_order_relaxed) == s1)
            return 0;
    }
    return PC_EAGAIN;
}

static int a_stats_shards(pc_client *c, pc_shard_stats *out, size_t max, size_t *n)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!out || !n)
        return PC_EINVAL;
    if (!c->remote)
        return PC_ENOTSUP;
    if ((rc = pc__reconnect(c, false)))
        return rc;
    const pcs_dpage *dp = c->ch.dpage;
    for (int tries = 0; tries < 100000; tries++) {
        uint32_t s1 = atomic_load_explicit(&dp->stats_seq, memory_order_acquire);
        if (s1 & 1) {
            pcs_cpu_relax();
            continue;
        }
        size_t k = dp->stats.shards;
        if (k > PCS_SHARDS_MAX)
            k = PCS_SHARDS_MAX;
        if (k > max)
            k = max;
        memcpy(out, (const void *)dp->shard_stats, k * sizeof *out);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&dp->stats_seq, memory_order_relaxed) == s1) {
            *n = k;
            return 0;
        }
    }
    return PC_EAGAIN;
}

static int a_snapshot(pc_client *c, pc_snapshot_info *info)
{
    pcs_buf b = PCS_BUF_INIT;
    pcs_resp resp;
    int rc = ask_daemon(c, PCS_OP_A_SNAPSHOT, NULL, &b, &resp);
    if (!rc && info) {
        const uint8_t *q = resp.vals;
        pc_val v[4];
        for (int i = 0; i < 4 && !rc; i++)
            if (resp.nvals != 4 || pcs_val_decode(&q, resp.end, &v[i]))
                rc = PC_EPROTO;
        if (!rc && (v[0].kind != PC_INT || v[1].kind != PC_INT || v[2].kind != PC_INT ||
                    v[3].kind != PC_BYTES))
            rc = PC_EPROTO;
        if (!rc) {
            memset(info, 0, sizeof *info);
            info->keys = (uint64_t)v[0].i;
            info->bytes = (uint64_t)v[1].i;
            info->took_ms = (uint64_t)v[2].i;
            size_t n = v[3].s.len < sizeof info->path - 1 ? v[3].s.len : sizeof info->path - 1;
            memcpy(info->path, v[3].s.ptr, n);
        }
    }
    pcs_buf_free(&b);
    return rc;
}

/* Tests only: make the daemon fail its n-th allocation from now (0: stop).
 * The daemon refuses unless it runs with PYCACHED_TEST_HOOKS=1. */
PC__HIDDEN int pc__test_fail_alloc(pc_client *c, uint64_t n);
static int a__test_fail_alloc(pc_client *c, uint64_t n)
{
    pcs_buf b = PCS_BUF_INIT;
    pcs_resp resp;
    int64_t v = (int64_t)n;
    int rc = ask_daemon(c, PCS_OP_A_TEST_ALLOC, &v, &b, &resp);
    pcs_buf_free(&b);
    return rc;
}

/* ---- the public calls: a failure is recorded for pc_last_error() ---- */

int pc_purge_expired(pc_client *c, uint64_t *removed)
{
    return pc__done(c, "pc_purge_expired", a_purge_expired(c, removed));
}

int pc_set_expire_interval(pc_client *c, uint32_t interval_ms)
{
    return pc__done(c, "pc_set_expire_interval", a_set_expire_interval(c, interval_ms));
}

int pc_clients(pc_client *c, pc_client_info *out, size_t max, size_t *n, size_t *total)
{
    return pc__done(c, "pc_clients", a_clients(c, out, max, n, total));
}

int pc_stats_get(pc_client *c, pc_stats *out)
{
    return pc__done(c, "pc_stats_get", a_stats_get(c, out));
}

int pc_stats_shards(pc_client *c, pc_shard_stats *out, size_t max, size_t *n)
{
    return pc__done(c, "pc_stats_shards", a_stats_shards(c, out, max, n));
}

int pc_snapshot(pc_client *c, pc_snapshot_info *info)
{
    return pc__done(c, "pc_snapshot", a_snapshot(c, info));
}

int pc__test_fail_alloc(pc_client *c, uint64_t n)
{
    return pc__done(c, "pc__test_fail_alloc", a__test_fail_alloc(c, n));
}
