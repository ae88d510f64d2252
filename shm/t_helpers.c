/*
 * t_helpers.c - the helpers that run inside the write transaction, so that
 * they are exact across processes: the rate limiter (GCRA, as redis-cell's
 * CL.THROTTLE, and the seed's fixed window).
 *
 * The limiter's state is a Numeric (int64) under the key, with a TTL: GCRA
 * keeps the theoretical arrival time (ns since the epoch), the fixed window
 * its count (the TTL is the end of the window).  The key disappears by
 * itself once it holds nothing a later call needs.
 */
#include <string.h>
#include <time.h>

#include "exec_int.h"

#define NS_PER_MS INT64_C(1000000)

/* ns since the epoch, never before the transaction's moment. */
static int64_t now_ns(const pcs_wctx *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    int64_t floor = (int64_t)w->now * NS_PER_MS;
    return ns > floor ? ns : floor;
}

/* ns to ms, rounded up (a retry that waits that long is let through). */
static int64_t ms_up(int64_t ns)
{
    return ns <= 0 ? 0 : (ns + NS_PER_MS - 1) / NS_PER_MS;
}

/* The limiter's state: a live integer Numeric, or none (*live false). */
static int state_get(pcs_wctx *w, const pcs_req *rq, pcs_rec *old, bool *live, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), old, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    if (*live && old->type != PC_T_NUMERIC)
        return PC_EWRONGTYPE;
    if (*live && old->num.kind != PC_INT)
        return PC_ENOTINT;
    return 0;
}

/* Store value under the key until expire_at (ms since the epoch). */
static int state_put(pcs_wctx *w, const pcs_req *rq, const pcs_rec *old, bool live, bool stale,
                     int64_t value, uint64_t expire_at)
{
    pcs_rec nr;
    memset(&nr, 0, sizeof nr);
    nr.type = PC_T_NUMERIC;
    nr.num = pc_int(value);
    nr.expire_at = expire_at > w->now ? expire_at : w->now + 1;
    return pcs_w_store(w, pcs_key_arg(rq), (live || stale) ? old : NULL, &nr, NULL, 0);
}

static void out5(pcs_buf *out, uint32_t *nv, bool limited, int64_t limit, int64_t remaining,
                 int64_t retry_after, int64_t reset_after)
{
    pcs_out_int(out, limited ? 1 : 0);
    pcs_out_int(out, limit);
    pcs_out_int(out, remaining);
    pcs_out_int(out, retry_after);
    pcs_out_int(out, reset_after);
    *nv = 5;
}

/*
 * GCRA (redis-cell).  T = period / count is the emission interval, tau =
 * T * (max_burst + 1) the delay variation tolerance.  A request of quantity
 * q is let through when max(tat, now) + T*q - tau <= now; the new tat is
 * stored until it passes.  Quantity 0 only looks.
 */
static int gcra(pcs_wctx *w, const pcs_req *rq, int64_t burst, int64_t count, int64_t period_ms,
                int64_t qty, pcs_buf *out, uint32_t *nv)
{
    int64_t period_ns, tau, inc, limit;
    if (burst < 0 || count < 1 || period_ms < 1 || period_ms > PC_TTL_MAX_MS || qty < 0)
        return PC_EINVAL;
    period_ns = period_ms * NS_PER_MS;
    int64_t t = period_ns / count;
    if (t < 1 || __builtin_add_overflow(burst, 1, &limit) ||
        __builtin_mul_overflow(t, limit, &tau) || tau > PC_TTL_MAX_MS * NS_PER_MS ||
        __builtin_mul_overflow(t, qty, &inc))
        return PC_EINVAL;
    pcs_rec old;
    bool live, stale;
    int rc = state_get(w, rq, &old, &live, &stale);
    if (rc)
        return rc;
    int64_t now = now_ns(w);
    int64_t tat = live && old.num.i > now ? old.num.i : now;
    int64_t new_tat, ttl;
    if (__builtin_add_overflow(tat, inc, &new_tat))
        return PC_EOVERFLOW;
    int64_t diff = now - (new_tat - tau); /* new_tat >= now: no overflow */
    bool limited = diff < 0;
    int64_t retry = -1;
    if (limited) {
        if (inc <= tau)
            retry = ms_up(-diff);
        ttl = tat - now;
    } else {
        ttl = new_tat - now;
    }
    int64_t next = tau - ttl, remaining = next > -t ? next / t : 0;
    if (remaining < 0)
        remaining = 0;
    if (!limited && qty > 0 &&
        (rc = state_put(w, rq, &old, live, stale, new_tat,
                        (uint64_t)((new_tat + NS_PER_MS - 1) / NS_PER_MS))))
        return rc;
    out5(out, nv, limited, limit, remaining, retry, ms_up(ttl));
    return 0;
}

/*
 * The fixed window: at most limit per window_ms, counted from the first
 * request of each window.  A request of quantity q is let through when the
 * count plus q stays within the limit.  Quantity 0 only looks.
 */
static int window(pcs_wctx *w, const pcs_req *rq, int64_t limit, int64_t window_ms, int64_t qty,
                  pcs_buf *out, uint32_t *nv)
{
    if (limit < 1 || window_ms < 1 || window_ms > PC_TTL_MAX_MS || qty < 0)
        return PC_EINVAL;
    pcs_rec old;
    bool live, stale;
    int rc = state_get(w, rq, &old, &live, &stale);
    if (rc)
        return rc;
    int64_t used = live ? old.num.i : 0;
    /* A window without an end (a TTL taken off by hand) starts afresh now. */
    uint64_t end = live && old.expire_at ? old.expire_at : w->now + (uint64_t)window_ms;
    int64_t left_ms = (int64_t)(end - w->now), after;
    bool limited = __builtin_add_overflow(used, qty, &after) || after > limit;
    if (limited) {
        out5(out, nv, true, limit, used < limit ? limit - used : 0, qty <= limit ? left_ms : -1,
             left_ms);
        return 0;
    }
    if (qty > 0 && (rc = state_put(w, rq, &old, live, stale, after, end)))
        return rc;
    out5(out, nv, false, limit, limit - after, -1, live || qty > 0 ? left_ms : 0);
    return 0;
}

/* throttle KEY MODE A B C QUANTITY: GCRA (mode 0: max_burst, count,
 * period_ms) or the fixed window (mode 1: limit, window_ms, 0). */
int pcs_h_throttle(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t a[5];
    for (int i = 0; i < 5; i++)
        if (pcs_chk_int(&rq->argv[1 + i], &a[i]))
            return PC_EINVAL;
    if (a[0] == PCS_THROTTLE_GCRA)
        return gcra(w, rq, a[1], a[2], a[3], a[4], out, nv);
    if (a[0] == PCS_THROTTLE_WINDOW && a[3] == 0)
        return window(w, rq, a[1], a[2], a[4], out, nv);
    return PC_EINVAL;
}
