/*
 * t_helpers.c - the helpers that run inside the write transaction, so that
 * they are exact across processes: the rate limiter (GCRA, as redis-cell's
 * CL.THROTTLE, and the seed's fixed window) and single-flight leases for
 * function caching (below).
 *
 * The limiter's state is a Numeric (int64) under the key, with a TTL: GCRA
 * keeps the theoretical arrival time (ns since the epoch), the fixed window
 * its count (the TTL is the end of the window).  The key disappears by
 * itself once it holds nothing a later call needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- single flight ----
 *
 * A Flight key holds a function's cached value (fresh until fresh_until,
 * then stale until stale_until), and the lease of whoever computes it now:
 * a token, its end, and its owner's pid.  The record lives until the later
 * of the value's stale end and the lease's end.
 */

/* Is process pid alive?  A zombie is not (it was killed; its parent has not
 * reaped it yet); a pid we may not signal is. */
static bool owner_alive(int64_t pid)
{
    if (pid <= 0 || pid > INT32_MAX)
        return false;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = 0;
    /* "pid (comm) S ...": the state follows the last ')'. */
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* Does r hold a lease that still binds (not lapsed, its owner alive)? */
static bool lease_binds(const pcs_wctx *w, const pcs_rec *r)
{
    return r->token && r->lease_until > w->now && owner_alive(r->owner);
}

static int flight_lookup(pcs_wctx *w, const pcs_req *rq, pcs_rec *r, bool *live, bool *stale)
{
    int rc = pcs_w_lookup(w, pcs_key_arg(rq), r, stale);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *live = rc == 0;
    return *live && r->type != PC_T_FLIGHT ? PC_EWRONGTYPE : 0;
}

/* Write nr (a Flight) under the key with its value v (PC_NONE: none),
 * living until the later of its stale end and its lease's end. */
static int flight_store(pcs_wctx *w, const pcs_req *rq, const pcs_rec *old, pcs_rec *nr,
                        const pc_val *v)
{
    nr->type = PC_T_FLIGHT;
    nr->expire_at = nr->stale_until > nr->lease_until ? nr->stale_until : nr->lease_until;
    pcs_buf_reset(&w->tmp);
    if (v->kind != PC_NONE) {
        if (pcs_buf_reserve(&w->tmp, pcs_elem_size(v)))
            return w->tmp.err;
        pcs_elem_encode(w->tmp.data, v);
        w->tmp.len = pcs_elem_size(v);
    }
    return pcs_w_store(w, pcs_key_arg(rq), old, nr, w->tmp.data, w->tmp.len);
}

/* The answer of a claim or a read: state, token, lease end, owner, then
 * the value when there is one. */
static void flight_out(pcs_buf *out, uint32_t *nv, int state, const pcs_rec *r, const pc_val *v)
{
    pcs_out_int(out, state);
    pcs_out_int(out, (int64_t)r->token);
    pcs_out_int(out, (int64_t)r->lease_until);
    pcs_out_int(out, r->owner);
    *nv = 4;
    if (v->kind != PC_NONE) {
        pcs_out_val(out, v);
        *nv = 5;
    }
}

/*
 * flight-claim KEY LEASE_MS FLAGS PID WAIT_MS [DEADLINE]: the fresh value
 * (FRESH), or the lease (LEAD, with the stale value if there is one), or,
 * while another holds it, the stale value (STALE, when FLAGS ask for it) or
 * PC_EBUSY (the daemon parks the request when WAIT_MS > 0 and runs it again
 * when something changed).  DEADLINE: the waiter's own, CLOCK_MONOTONIC ms;
 * past it the waiter has given up and is given nothing.  The daemon puts
 * its peer's pid in PID: a client cannot name another process.
 */
int pcs_h_fc_claim(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t lease_ms, flags, pid, wait_ms, deadline = 0;
    if (pcs_chk_int(&rq->argv[1], &lease_ms) || pcs_chk_int(&rq->argv[2], &flags) ||
        pcs_chk_int(&rq->argv[3], &pid) || pcs_chk_int(&rq->argv[4], &wait_ms) ||
        (rq->argc > 5 && pcs_chk_int(&rq->argv[5], &deadline)))
        return PC_EINVAL;
    if (lease_ms < 1 || lease_ms > PC_TTL_MAX_MS || (flags & ~(int64_t)PC_FLIGHT_TAKE_STALE) ||
        flags < 0 || pid < 0 || wait_ms < 0 || wait_ms > PC_TTL_MAX_MS || deadline < 0)
        return PC_EINVAL;
    if (rq->argc > 5 && pcs_mono_ms() >= (uint64_t)deadline)
        return PC_ETIMEDOUT;
    pcs_rec old, nr;
    bool live, stale;
    int rc = flight_lookup(w, rq, &old, &live, &stale);
    if (rc)
        return rc;
    pc_val none = {.kind = PC_NONE}, val = none;
    if (live && old.fresh_until) {
        if (w->now < old.fresh_until) {
            flight_out(out, nv, PC_FLIGHT_FRESH, &old, &old.val);
            return 0;
        }
        val = old.val;
    }
    if (live && lease_binds(w, &old)) {
        if ((flags & PC_FLIGHT_TAKE_STALE) && val.kind != PC_NONE) {
            flight_out(out, nv, PC_FLIGHT_STALE, &old, &val);
            return 0;
        }
        return PC_EBUSY;
    }
    memset(&nr, 0, sizeof nr);
    if (val.kind != PC_NONE) {
        nr.fresh_until = old.fresh_until;
        nr.stale_until = old.stale_until;
    }
    nr.token = w->seq + 1; /* the sequence number pcs_w_store takes next: unique */
    nr.lease_until = w->now + (uint64_t)lease_ms;
    nr.owner = pid;
    /* val points into the map: answer it before the write moves it. */
    flight_out(out, nv, PC_FLIGHT_LEAD, &nr, &val);
    return flight_store(w, rq, (live || stale) ? &old : NULL, &nr, &val);
}

/* The live Flight under the key whose lease, not yet ended, is token: 0,
 * PC_ECONFLICT (missing, another lease or none, or the lease ended),
 * PC_EWRONGTYPE. */
static int flight_own(pcs_wctx *w, const pcs_req *rq, const pc_val *tv, pcs_rec *r)
{
    int64_t token;
    if (pcs_chk_int(tv, &token) || token < 1)
        return PC_EINVAL;
    bool live, stale;
    int rc = flight_lookup(w, rq, r, &live, &stale);
    if (rc)
        return rc;
    return live && r->token == (uint64_t)token && r->lease_until > w->now ? 0 : PC_ECONFLICT;
}

/* flight-fill KEY TOKEN VALUE TTL_MS STALE_MS: store the value (fresh for
 * TTL_MS, then stale for STALE_MS more) and end the lease, if TOKEN is
 * still the key's lease and has not ended. */
int pcs_h_fc_fill(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    const pc_val *v = &rq->argv[2];
    int64_t ttl, stale_ms;
    int rc;
    if ((rc = pcs_chk_elem(w, v)))
        return rc;
    if (pcs_chk_int(&rq->argv[3], &ttl) || pcs_chk_int(&rq->argv[4], &stale_ms) || ttl < 1 ||
        stale_ms < 0 || ttl > PC_TTL_MAX_MS || stale_ms > PC_TTL_MAX_MS - ttl)
        return PC_EINVAL;
    pcs_rec old, nr;
    if ((rc = flight_own(w, rq, &rq->argv[1], &old)))
        return rc;
    memset(&nr, 0, sizeof nr);
    nr.fresh_until = w->now + (uint64_t)ttl;
    nr.stale_until = nr.fresh_until + (uint64_t)stale_ms;
    return flight_store(w, rq, &old, &nr, v);
}

/* flight-release KEY TOKEN: end the lease without a value (the loader
 * failed); a stale value stays until its end. */
int pcs_h_fc_release(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)out;
    (void)nv;
    pcs_rec old, nr;
    int rc = flight_own(w, rq, &rq->argv[1], &old);
    if (rc)
        return rc;
    if (!old.fresh_until || old.stale_until <= w->now)
        return pcs_w_remove(w, pcs_key_arg(rq), &old, false);
    nr = old;
    nr.token = 0;
    nr.lease_until = 0;
    nr.owner = 0;
    /* The value points into the map: copy it out first (flight_store does,
     * into w->tmp, before the put). */
    pc_val v = old.val;
    return flight_store(w, rq, &old, &nr, &v);
}

int pcs_load_flight(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at,
                    uint64_t fresh_until, const pc_val *v)
{
    int rc = pcs_load_key(w, key, klen);
    if (rc)
        return rc;
    if (!v || !fresh_until || expire_at < fresh_until)
        return PC_EINVAL;
    if ((rc = pcs_chk_elem(w, v)))
        return rc;
    pcs_rec nr;
    memset(&nr, 0, sizeof nr);
    nr.type = PC_T_FLIGHT;
    nr.fresh_until = fresh_until;
    nr.stale_until = expire_at;
    nr.expire_at = expire_at;
    pcs_buf_reset(&w->tmp);
    if (pcs_buf_reserve(&w->tmp, pcs_elem_size(v)))
        return w->tmp.err;
    pcs_elem_encode(w->tmp.data, v);
    pc_val kv = pc_mem(key, klen);
    return pcs_w_store(w, &kv, NULL, &nr, w->tmp.data, pcs_elem_size(v));
}
