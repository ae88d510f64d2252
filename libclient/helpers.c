/*
 * helpers.c - the public calls of issue 16: the rate limiter and single
 * flight.  Each checks
 * its arguments (bad input is refused at once, even in a batch), encodes
 * one request frame and names the out-parameter its answer fills, as
 * write.c does for the other types.
 */
#include <string.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "client.h"

/* ---- rate limiting ---- */

static int throttle(pc_client *c, const void *key, size_t klen, int64_t mode, int64_t a, int64_t b,
                    int64_t cc, int64_t qty, pc_throttle_info *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_THROTTLE, key, klen, &e, PC__R_THROTTLE, out)))
        return rc;
    pcs_enc_int(&e, mode);
    pcs_enc_int(&e, a);
    pcs_enc_int(&e, b);
    pcs_enc_int(&e, cc);
    pcs_enc_int(&e, qty);
    return pc__op_end(c, &e, 0);
}

static int w_throttle(pc_client *c, const void *key, size_t klen, int64_t max_burst, int64_t count,
                      int64_t period_ms, int64_t quantity, pc_throttle_info *out)
{
    int64_t t, limit, tau;
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (max_burst < 0)
        return pc__why(c, PC_EINVAL, "max_burst must be 0 or more, got %lld", (long long)max_burst);
    if (count < 1)
        return pc__why(c, PC_EINVAL, "count must be 1 or more, got %lld", (long long)count);
    if (period_ms < 1 || period_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "period_ms must be 1 to %lld, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)period_ms);
    if (quantity < 0)
        return pc__why(c, PC_EINVAL, "quantity must be 0 or more, got %lld", (long long)quantity);
    /* The executor checks these again; refused here, nothing is queued. */
    t = period_ms * 1000000 / count;
    if (t < 1)
        return pc__why(c, PC_EINVAL, "count per period_ms is more than one request per nanosecond");
    if (__builtin_add_overflow(max_burst, 1, &limit) || __builtin_mul_overflow(t, limit, &tau) ||
        tau > PC_TTL_MAX_MS * 1000000 || __builtin_mul_overflow(t, quantity, &tau))
        return pc__why(
            c, PC_EINVAL,
            "the burst or the quantity times period_ms / count is longer than 100 years");
    return throttle(c, key, klen, PCS_THROTTLE_GCRA, max_burst, count, period_ms, quantity, out);
}

static int w_throttle_window(pc_client *c, const void *key, size_t klen, int64_t limit,
                             int64_t window_ms, int64_t quantity, pc_throttle_info *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (limit < 1)
        return pc__why(c, PC_EINVAL, "limit must be 1 or more, got %lld", (long long)limit);
    if (window_ms < 1 || window_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "window_ms must be 1 to %lld, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)window_ms);
    if (quantity < 0)
        return pc__why(c, PC_EINVAL, "quantity must be 0 or more, got %lld", (long long)quantity);
    return throttle(c, key, klen, PCS_THROTTLE_WINDOW, limit, window_ms, 0, quantity, out);
}

int pc_throttle(pc_client *c, const void *key, size_t klen, int64_t max_burst, int64_t count,
                int64_t period_ms, int64_t quantity, pc_throttle_info *out)
{
    return pc__note(c, "pc_throttle",
                    w_throttle(c, key, klen, max_burst, count, period_ms, quantity, out));
}

int pc_throttle_window(pc_client *c, const void *key, size_t klen, int64_t limit, int64_t window_ms,
                       int64_t quantity, pc_throttle_info *out)
{
    return pc__note(c, "pc_throttle_window",
                    w_throttle_window(c, key, klen, limit, window_ms, quantity, out));
}

/* ---- single flight ---- */

int pc__flight_decode(const pcs_resp *r, pc_flight *out)
{
    const uint8_t *q = r->vals;
    int64_t f[4];
    if (r->nvals != 4 && r->nvals != 5)
        return PC_EPROTO;
    for (int i = 0; i < 4; i++) {
        pc_val v;
        if (pcs_val_decode(&q, r->end, &v) || v.kind != PC_INT)
            return PC_EPROTO;
        f[i] = v.i;
    }
    if (f[0] < PC_FLIGHT_MISS || f[0] > PC_FLIGHT_LEAD)
        return PC_EPROTO;
    pc_val v = {.kind = PC_NONE};
    if (r->nvals == 5 && (pcs_val_decode(&q, r->end, &v) || v.kind == PC_NONE))
        return PC_EPROTO;
    out->state = (int)f[0];
    out->token = (uint64_t)f[1];
    out->lease_until_ms = f[2];
    out->owner_pid = f[3];
    out->value = v;
    return 0;
}

static int flight_args(pc_client *c, int64_t lease_ms, int64_t timeout_ms, unsigned flags,
                       const pc_flight *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (lease_ms < 1 || lease_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "lease_ms must be 1 to %lld, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)lease_ms);
    if (timeout_ms < 0 || timeout_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "timeout_ms must be 0 to %lld, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)timeout_ms);
    if (flags & ~(unsigned)PC_FLIGHT_TAKE_STALE)
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    if (!out)
        return pc__why(c, PC_EINVAL, "out is NULL");
    if (timeout_ms > 0 && c->mode != PC__IDLE)
        return pc__why(c, PC_ESTATE, "it cannot wait inside a batch or a transaction");
    return 0;
}

/* One claim request; a waiting one carries the waiter's deadline. */
static int claim_once(pc_client *c, const void *key, size_t klen, int64_t lease_ms,
                      int64_t timeout_ms, unsigned flags, pc_flight *out)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_FC_CLAIM, key, klen, &e, PC__R_FLIGHT, out);
    if (rc)
        return rc;
    pcs_enc_int(&e, lease_ms);
    pcs_enc_int(&e, flags);
    pcs_enc_int(&e, getpid()); /* the daemon puts its peer's pid here */
    pcs_enc_int(&e, timeout_ms);
    /* As pc_qpop_wait: the daemon parks a waiting one. */
    return timeout_ms == 0 ? pc__op_end(c, &e, 0) : pc__op_end_wait(c, &e, timeout_ms);
}

/* One claim of an embedded waiting pc_flight_claim (pc__poll). */
struct claim_try {
    const void *key;
    size_t klen;
    int64_t lease_ms;
    unsigned flags;
    pc_flight *out;
};

static int claim_attempt(pc_client *c, void *arg)
{
    struct claim_try *a = arg;
    return claim_once(c, a->key, a->klen, a->lease_ms, 0, a->flags, a->out);
}

static int w_flight_claim(pc_client *c, const void *key, size_t klen, int64_t lease_ms,
                          int64_t timeout_ms, unsigned flags, pc_flight *out)
{
    int rc = flight_args(c, lease_ms, timeout_ms, flags, out);
    if (rc || (rc = pc__key(c, "key", key, klen)))
        return rc;
    if (timeout_ms == 0 || c->remote)
        return claim_once(c, key, klen, lease_ms, timeout_ms, flags, out);
    struct claim_try a = {key, klen, lease_ms, flags, out};
    return pc__poll(c, timeout_ms, PC_EBUSY, claim_attempt, &a);
}

static int w_flight_fill(pc_client *c, const void *key, size_t klen, uint64_t token,
                         const pc_val *v, int64_t ttl_ms, int64_t stale_ms)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!v)
        return pc__why(c, PC_EINVAL, "v is NULL");
    if (token == 0 || token > INT64_MAX)
        return pc__why(c, PC_EINVAL, "token must be one pc_flight_claim gave, got %llu",
                       (unsigned long long)token);
    if (ttl_ms < 1 || ttl_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "ttl_ms must be 1 to %lld, got %lld", (long long)PC_TTL_MAX_MS,
                       (long long)ttl_ms);
    if (stale_ms < 0 || stale_ms > PC_TTL_MAX_MS - ttl_ms)
        return pc__why(c, PC_EINVAL, "stale_ms must be 0 to %lld (with ttl_ms), got %lld",
                       (long long)(PC_TTL_MAX_MS - ttl_ms), (long long)stale_ms);
    if ((rc = pcs_val_check(v, c->max_value)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_FC_FILL, key, klen, &e, PC__R_NONE, NULL)))
        return rc;
    pcs_enc_int(&e, (int64_t)token);
    pcs_enc_val(&e, v);
    pcs_enc_int(&e, ttl_ms);
    pcs_enc_int(&e, stale_ms);
    return pc__op_end(c, &e, 0);
}

static int w_flight_release(pc_client *c, const void *key, size_t klen, uint64_t token)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (token == 0 || token > INT64_MAX)
        return pc__why(c, PC_EINVAL, "token must be one pc_flight_claim gave, got %llu",
                       (unsigned long long)token);
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_FC_RELEASE, key, klen, &e, PC__R_NONE, NULL)))
        return rc;
    pcs_enc_int(&e, (int64_t)token);
    return pc__op_end(c, &e, 0);
}

int pc_flight_claim(pc_client *c, const void *key, size_t klen, int64_t lease_ms,
                    int64_t timeout_ms, unsigned flags, pc_flight *out)
{
    return pc__note(c, "pc_flight_claim",
                    w_flight_claim(c, key, klen, lease_ms, timeout_ms, flags, out));
}

int pc_flight_fill(pc_client *c, const void *key, size_t klen, uint64_t token, const pc_val *v,
                   int64_t ttl_ms, int64_t stale_ms)
{
    int rc = w_flight_fill(c, key, klen, token, v, ttl_ms, stale_ms);
    if (rc == PC_ECONFLICT)
        pc__why(c, rc, "token %llu is not the key's current lease", (unsigned long long)token);
    return pc__note(c, "pc_flight_fill", rc);
}

int pc_flight_release(pc_client *c, const void *key, size_t klen, uint64_t token)
{
    int rc = w_flight_release(c, key, klen, token);
    if (rc == PC_ECONFLICT)
        pc__why(c, rc, "token %llu is not the key's current lease", (unsigned long long)token);
    return pc__note(c, "pc_flight_release", rc);
}

/* ---- reads ---- */

static int rd_flight_get(pc_read *r, const void *key, size_t klen, pc_flight *out)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = out ? 0 : pc__why(r->c, PC_EINVAL, "out is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (pc__ring_only(r->c)) {
        pcs_resp resp;
        if ((rc = pc__rr_call(r, PCS_OP_R_FLIGHT, key, klen, NULL, 0, &resp)))
            return rc;
        return resp.rc ? resp.rc : pc__flight_decode(&resp, out);
    }
    return pcs_rd_flight(&r->zc, key, klen, out);
}

/* ---- bit arrays ---- */

static int w_setbit(pc_client *c, const void *key, size_t klen, uint64_t offset, int bit, int *old)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (offset >= (UINT64_C(1) << 32))
        return pc__why(c, PC_EINVAL, "offset must be 0 to 4294967295, got %llu",
                       (unsigned long long)offset);
    if (bit != 0 && bit != 1)
        return pc__why(c, PC_EINVAL, "bit must be 0 or 1, got %d", bit);
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_SETBIT, key, klen, &e, PC__R_INT, old)))
        return rc;
    pcs_enc_int(&e, (int64_t)offset);
    pcs_enc_int(&e, bit);
    return pc__op_end(c, &e, 0);
}

static int w_bitop(pc_client *c, int op, const void *dest, size_t dlen, const pc_bytes *keys,
                   size_t n, uint64_t *len)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (op < PC_BITOP_AND || op > PC_BITOP_NOT)
        return pc__why(c, PC_EINVAL, "unknown op %d (PC_BITOP_AND, _OR, _XOR or _NOT)", op);
    if (n == 0 || !keys)
        return pc__why(c, PC_EINVAL, "no source keys");
    if (op == PC_BITOP_NOT && n != 1)
        return pc__why(c, PC_EINVAL, "PC_BITOP_NOT takes one source key, got %zu", n);
    if (n > PCS_ARGC_MAX - 2)
        return PC_ETOOBIG;
    if ((rc = pc__key(c, "dest", dest, dlen)))
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = pc__key(c, "keys[]", keys[i].ptr, keys[i].len)) ||
            (rc = pc__same_shard(c, "dest", dest, dlen, "a source key", keys[i].ptr, keys[i].len)))
            return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_BITOP, dest, dlen, &e, PC__R_U64, len)))
        return rc;
    pcs_enc_int(&e, op);
    for (size_t i = 0; i < n; i++)
        pcs_enc_bytes(&e, keys[i].ptr, keys[i].len);
    return pc__op_end(c, &e, 0);
}

int pc_setbit(pc_client *c, const void *key, size_t klen, uint64_t offset, int bit, int *old)
{
    return pc__note(c, "pc_setbit", w_setbit(c, key, klen, offset, bit, old));
}

int pc_bitop(pc_client *c, int op, const void *dest, size_t dlen, const pc_bytes *keys, size_t n,
             uint64_t *len)
{
    return pc__note(c, "pc_bitop", w_bitop(c, op, dest, dlen, keys, n, len));
}

/* A ring-only read answered with one INT. */
static int ring_int(pc_read *r, uint16_t op, const void *key, size_t klen, const pc_val *args,
                    size_t nargs, int64_t *out)
{
    pcs_resp resp;
    int rc = pc__rr_call(r, op, key, klen, args, nargs, &resp);
    if (rc || (rc = resp.rc))
        return rc;
    const uint8_t *q = resp.vals;
    pc_val v;
    if (resp.nvals != 1 || pcs_val_decode(&q, resp.end, &v) || v.kind != PC_INT)
        return PC_EPROTO;
    *out = v.i;
    return 0;
}

static int rd_getbit(pc_read *r, const void *key, size_t klen, uint64_t offset, int *bit)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = bit ? 0 : pc__why(r->c, PC_EINVAL, "bit is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    *bit = 0;
    if (offset >= (UINT64_C(1) << 32))
        return pc__why(r->c, PC_EINVAL, "offset must be 0 to 4294967295, got %llu",
                       (unsigned long long)offset);
    if (pc__ring_only(r->c)) {
        int64_t v;
        pc_val a = pc_int((int64_t)offset);
        if (!(rc = ring_int(r, PCS_OP_R_GETBIT, key, klen, &a, 1, &v)))
            *bit = v != 0;
        return rc;
    }
    return pcs_rd_getbit(&r->zc, key, klen, offset, bit);
}

static int rd_bitcount(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                       unsigned flags, uint64_t *count)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = count ? 0 : pc__why(r->c, PC_EINVAL, "count is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    *count = 0;
    if (flags & ~(unsigned)PC_BITS_BIT)
        return pc__why(r->c, PC_EINVAL, "unknown flags 0x%x", flags);
    if (pc__ring_only(r->c)) {
        int64_t v;
        pc_val a[3] = {pc_int(start), pc_int(end), pc_int(flags)};
        if (!(rc = ring_int(r, PCS_OP_R_BITCOUNT, key, klen, a, 3, &v)))
            *count = (uint64_t)v;
        return rc;
    }
    return pcs_rd_bitcount(&r->zc, key, klen, start, end, flags, count);
}

static int rd_bitpos(pc_read *r, const void *key, size_t klen, int bit, int64_t start, int64_t end,
                     unsigned flags, int64_t *pos)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = pos ? 0 : pc__why(r->c, PC_EINVAL, "pos is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    *pos = -1;
    if (flags & ~(unsigned)(PC_BITS_BIT | PC_BITS_END))
        return pc__why(r->c, PC_EINVAL, "unknown flags 0x%x", flags);
    if (bit != 0 && bit != 1)
        return pc__why(r->c, PC_EINVAL, "bit must be 0 or 1, got %d", bit);
    if (pc__ring_only(r->c)) {
        pc_val a[4] = {pc_int(bit), pc_int(start), pc_int(end), pc_int(flags)};
        return ring_int(r, PCS_OP_R_BITPOS, key, klen, a, 4, pos);
    }
    return pcs_rd_bitpos(&r->zc, key, klen, bit, start, end, flags, pos);
}

static int rd_bitlen(pc_read *r, const void *key, size_t klen, uint64_t *bytes)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = bytes ? 0 : pc__why(r->c, PC_EINVAL, "bytes is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (pc__ring_only(r->c)) {
        int64_t v;
        if (!(rc = ring_int(r, PCS_OP_R_BITLEN, key, klen, NULL, 0, &v)))
            *bytes = (uint64_t)v;
        return rc;
    }
    return pcs_rd_bitlen(&r->zc, key, klen, bytes);
}

/* ---- Bloom filters ---- */

static int w_bf_reserve(pc_client *c, const void *key, size_t klen, double error_rate,
                        uint64_t capacity, uint32_t expansion, unsigned flags)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!(error_rate > 0 && error_rate < 1))
        return pc__why(c, PC_EINVAL, "error_rate must be between 0 and 1 (both excluded), got %g",
                       error_rate);
    if (capacity == 0 || capacity > INT64_MAX)
        return pc__why(c, PC_EINVAL, "capacity must be 1 to %lld, got %llu", (long long)INT64_MAX,
                       (unsigned long long)capacity);
    if (flags & ~(unsigned)PC_BF_NONSCALING)
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_BF_RESERVE, key, klen, &e, PC__R_NONE, NULL)))
        return rc;
    pcs_enc_double(&e, error_rate);
    pcs_enc_int(&e, (int64_t)capacity);
    pcs_enc_int(&e, expansion ? expansion : 2);
    pcs_enc_int(&e, flags);
    return pc__op_end(c, &e, 0);
}

static int w_bf_madd(pc_client *c, const void *key, size_t klen, const pc_bytes *items, size_t n,
                     int *added)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (n == 0 || !items)
        return pc__why(c, PC_EINVAL, "no items");
    if (n > PCS_ARGC_MAX - 1)
        return pc__why(c, PC_ETOOBIG, "%zu items; at most %d in one call", n, PCS_ARGC_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        if (items[i].len && !items[i].ptr)
            return pc__why(c, PC_EINVAL, "items[%zu] is NULL", i);
        if (items[i].len > c->max_value)
            return pc__why(c, PC_ETOOBIG,
                           "items[%zu] is %zu bytes; the store's largest value is %llu", i,
                           items[i].len, (unsigned long long)c->max_value);
    }
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_BF_ADD, key, klen, &e, added ? PC__R_FLAGS : PC__R_NONE, added)))
        return rc;
    c->pend[c->npend].max = n;
    for (size_t i = 0; i < n; i++)
        pcs_enc_bytes(&e, items[i].ptr, items[i].len);
    return pc__op_end(c, &e, 0);
}

int pc_bf_reserve(pc_client *c, const void *key, size_t klen, double error_rate, uint64_t capacity,
                  uint32_t expansion, unsigned flags)
{
    int rc = w_bf_reserve(c, key, klen, error_rate, capacity, expansion, flags);
    if (rc == PC_ERANGE)
        pc__why(c, rc, "a filter for that capacity and error rate would be too large");
    return pc__note(c, "pc_bf_reserve", rc);
}

int pc_bf_madd(pc_client *c, const void *key, size_t klen, const pc_bytes *items, size_t n,
               int *added)
{
    int rc = w_bf_madd(c, key, klen, items, n, added);
    if (rc == PC_ERANGE)
        pc__why(c, rc, "the filter is full and may not grow (NONSCALING, or its last layer)");
    return pc__note(c, "pc_bf_madd", rc);
}

int pc_bf_add(pc_client *c, const void *key, size_t klen, const void *item, size_t ilen, int *added)
{
    pc_bytes b = {item, ilen};
    int rc = w_bf_madd(c, key, klen, &b, 1, added);
    if (rc == PC_ERANGE)
        pc__why(c, rc, "the filter is full and may not grow (NONSCALING, or its last layer)");
    return pc__note(c, "pc_bf_add", rc);
}

static int rd_bf_mexists(pc_read *r, const void *key, size_t klen, const pc_bytes *items, size_t n,
                         int *exists)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (n == 0 || !items || !exists)
        return pc__why(r->c, PC_EINVAL, !exists ? "exists is NULL" : "no items");
    for (size_t i = 0; i < n; i++)
        if (items[i].len && !items[i].ptr)
            return pc__why(r->c, PC_EINVAL, "items[%zu] is NULL", i);
    if (!pc__ring_only(r->c))
        return pcs_rd_bf_exists(&r->zc, key, klen, items, n, exists);
    if (n > PCS_ARGC_MAX - 1)
        return PC_ETOOBIG;
    pc_val *a = pcs_calloc(n, sizeof *a);
    if (!a)
        return PC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        a[i] = pc_mem(items[i].ptr, items[i].len);
    pcs_resp resp;
    rc = pc__rr_call(r, PCS_OP_R_BF_EXISTS, key, klen, a, n, &resp);
    pcs_free(a);
    if (rc || (rc = resp.rc))
        return rc;
    if (resp.nvals != n)
        return PC_EPROTO;
    const uint8_t *q = resp.vals;
    for (size_t i = 0; i < n; i++) {
        pc_val v;
        if (pcs_val_decode(&q, resp.end, &v) || v.kind != PC_INT)
            return PC_EPROTO;
        exists[i] = v.i != 0;
    }
    return 0;
}

int pc_bf_exists(pc_read *r, const void *key, size_t klen, const void *item, size_t ilen,
                 int *exists)
{
    pc_bytes b = {item, ilen};
    return pc__rdone(r, "pc_bf_exists", rd_bf_mexists(r, key, klen, &b, 1, exists));
}

static int rd_bf_info_get(pc_read *r, const void *key, size_t klen, pc_bf_info *out)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = out ? 0 : pc__why(r->c, PC_EINVAL, "out is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (!pc__ring_only(r->c))
        return pcs_rd_bf_info(&r->zc, key, klen, out);
    pcs_resp resp;
    if ((rc = pc__rr_call(r, PCS_OP_R_BF_INFO, key, klen, NULL, 0, &resp)) || (rc = resp.rc))
        return rc;
    pc_val v[7];
    const uint8_t *q = resp.vals;
    if (resp.nvals != 7)
        return PC_EPROTO;
    for (int i = 0; i < 7; i++)
        if (pcs_val_decode(&q, resp.end, &v[i]) || v[i].kind != (i == 5 ? PC_DOUBLE : PC_INT))
            return PC_EPROTO;
    memset(out, 0, sizeof *out);
    out->capacity = (uint64_t)v[0].i;
    out->size = (uint64_t)v[1].i;
    out->filters = (uint32_t)v[2].i;
    out->expansion = (uint32_t)v[3].i;
    out->items = (uint64_t)v[4].i;
    out->error_rate = v[5].d;
    out->nonscaling = v[6].i != 0;
    return 0;
}

/* ---- the public reads: what failed goes to pc_last_error ---- */

int pc_flight_get(pc_read *r, const void *key, size_t klen, pc_flight *out)
{
    return pc__rdone(r, "pc_flight_get", rd_flight_get(r, key, klen, out));
}

int pc_getbit(pc_read *r, const void *key, size_t klen, uint64_t offset, int *bit)
{
    return pc__rdone(r, "pc_getbit", rd_getbit(r, key, klen, offset, bit));
}

int pc_bitcount(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                unsigned flags, uint64_t *count)
{
    return pc__rdone(r, "pc_bitcount", rd_bitcount(r, key, klen, start, end, flags, count));
}

int pc_bitpos(pc_read *r, const void *key, size_t klen, int bit, int64_t start, int64_t end,
              unsigned flags, int64_t *pos)
{
    return pc__rdone(r, "pc_bitpos", rd_bitpos(r, key, klen, bit, start, end, flags, pos));
}

int pc_bitlen(pc_read *r, const void *key, size_t klen, uint64_t *bytes)
{
    return pc__rdone(r, "pc_bitlen", rd_bitlen(r, key, klen, bytes));
}

int pc_bf_mexists(pc_read *r, const void *key, size_t klen, const pc_bytes *items, size_t n,
                  int *exists)
{
    return pc__rdone(r, "pc_bf_mexists", rd_bf_mexists(r, key, klen, items, n, exists));
}

int pc_bf_info_get(pc_read *r, const void *key, size_t klen, pc_bf_info *out)
{
    return pc__rdone(r, "pc_bf_info_get", rd_bf_info_get(r, key, klen, out));
}
