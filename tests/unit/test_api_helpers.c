/*
 * test_api_helpers.c - the public API of issue 16's helpers on an embedded
 * store: the rate limiters (GCRA and the fixed window) and single flight
 * (claim, fill, release, stale values, lapsed leases, dead owners).
 */
#include <math.h>

#include "pctest.h"

#define HOUR_MS INT64_C(3600000)

static pc_throttle_info gcra(pc_client *c, const char *key, int64_t burst, int64_t count,
                             int64_t period_ms, int64_t qty)
{
    pc_throttle_info t;
    memset(&t, 0xa5, sizeof t);
    OK(pc_throttle(c, K(key), burst, count, period_ms, qty, &t));
    return t;
}

static pc_throttle_info win(pc_client *c, const char *key, int64_t limit, int64_t window_ms,
                            int64_t qty)
{
    pc_throttle_info t;
    memset(&t, 0xa5, sizeof t);
    OK(pc_throttle_window(c, K(key), limit, window_ms, qty, &t));
    return t;
}

/* ---- GCRA ---- */

static void test_gcra_burst(void **state)
{
    pt_store *t = *state;
    /* 5 at once, then one an hour. */
    for (int i = 0; i < 5; i++) {
        pc_throttle_info r = gcra(t->c, "g", 4, 1, HOUR_MS, 1);
        CHECK(!r.limited, "call %d limited", i);
        EQ(r.limit, 5);
        EQ(r.remaining, 4 - i);
        EQ(r.retry_after_ms, -1);
        /* Back to the full allowance after (i + 1) hours. */
        CHECK(r.reset_after_ms > (i + 1) * HOUR_MS - 1000 && r.reset_after_ms <= (i + 1) * HOUR_MS,
              "reset_after %" PRId64 " after call %d", r.reset_after_ms, i);
    }
    pc_throttle_info r = gcra(t->c, "g", 4, 1, HOUR_MS, 1);
    CHECK(r.limited, "the sixth call passed");
    EQ(r.remaining, 0);
    CHECK(r.retry_after_ms > HOUR_MS - 1000 && r.retry_after_ms <= HOUR_MS, "retry_after %" PRId64,
          r.retry_after_ms);
    CHECK(r.reset_after_ms > 5 * HOUR_MS - 1000, "reset_after %" PRId64, r.reset_after_ms);
    /* The state is a Numeric that goes when the allowance is full again. */
    TYPE_IS(t->c, "g", PC_T_NUMERIC);
    int64_t ttl = pt_ttl(t->c, "g"); /* (ms rounded up: one more at most) */
    CHECK(ttl > 5 * HOUR_MS - 1000 && ttl <= 5 * HOUR_MS + 1, "ttl %" PRId64, ttl);
    /* A limited call wrote nothing. */
    uint64_t v = pt_version(t->c, "g");
    r = gcra(t->c, "g", 4, 1, HOUR_MS, 1);
    CHECK(r.limited, "passed");
    EQ(pt_version(t->c, "g"), v);
}

static void test_gcra_quantity(void **state)
{
    pt_store *t = *state;
    pc_throttle_info r = gcra(t->c, "q", 4, 1, HOUR_MS, 3);
    CHECK(!r.limited, "3 of 5 limited");
    EQ(r.remaining, 2);
    r = gcra(t->c, "q", 4, 1, HOUR_MS, 3);
    CHECK(r.limited, "3 more passed with 2 left");
    EQ(r.remaining, 2);
    CHECK(r.retry_after_ms > 0, "retry_after %" PRId64, r.retry_after_ms);
    /* More than the burst can ever pass: no retry helps. */
    r = gcra(t->c, "q2", 4, 1, HOUR_MS, 6);
    CHECK(r.limited, "6 of 5 passed");
    EQ(r.retry_after_ms, -1);
    MISSING(t->c, "q2");
    r = gcra(t->c, "q", 4, 1, HOUR_MS, 2);
    CHECK(!r.limited, "2 of the 2 left limited");
    EQ(r.remaining, 0);
}

static void test_gcra_peek(void **state)
{
    pt_store *t = *state;
    pc_throttle_info r = gcra(t->c, "p", 9, 10, 1000, 0);
    CHECK(!r.limited, "a look was limited");
    EQ(r.limit, 10);
    EQ(r.remaining, 10);
    EQ(r.reset_after_ms, 0);
    MISSING(t->c, "p");
    gcra(t->c, "p", 9, 10, HOUR_MS, 4);
    uint64_t v = pt_version(t->c, "p");
    r = gcra(t->c, "p", 9, 10, HOUR_MS, 0);
    EQ(r.remaining, 6);
    EQ(pt_version(t->c, "p"), v);
}

/* Time lets requests through again: one per 20 ms, no burst. */
static void test_gcra_recovers(void **state)
{
    pt_store *t = *state;
    pc_throttle_info r = gcra(t->c, "r", 0, 1, 20, 1);
    CHECK(!r.limited, "the first call was limited");
    EQ(r.remaining, 0);
    r = gcra(t->c, "r", 0, 1, 20, 1);
    if (!r.limited) /* a very slow machine: 20 ms went between the two */
        return;
    CHECK(r.retry_after_ms >= 1 && r.retry_after_ms <= 20, "retry_after %" PRId64,
          r.retry_after_ms);
    pt_sleep_ms((uint64_t)r.retry_after_ms + 1);
    r = gcra(t->c, "r", 0, 1, 20, 1);
    CHECK(!r.limited, "still limited after retry_after");
    /* And the key goes by itself once the allowance is full again. */
    uint64_t t0 = pt_now_ms();
    while (pt_type(t->c, K("r")) != PC_T_NONE && pt_now_ms() - t0 < 10000)
        pt_sleep_ms(5);
    MISSING(t->c, "r");
}

static void test_gcra_bad_input(void **state)
{
    pt_store *t = *state;
    pc_throttle_info r;
    memset(&r, 0x5a, sizeof r);
    pc_throttle_info before = r;
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), -1, 1, 1000, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, 0, 1000, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, -5, 1000, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, 1, 0, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, 1, PC_TTL_MAX_MS + 1, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, 1, 1000, -1, &r));
    /* more than one per nanosecond */
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, 2000001, 1, 1, &r));
    /* a burst whose tolerance does not fit a TTL, or overflows */
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), INT64_MAX, 1, 1000, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 1, 1, PC_TTL_MAX_MS, 1, &r));
    RC(PC_EINVAL, pc_throttle(t->c, K("b"), 0, 1, 1000, INT64_MAX, &r));
    RC(PC_EKEY, pc_throttle(t->c, "", 0, 0, 1, 1000, 1, &r));
    RC(PC_EINVAL, pc_throttle(NULL, K("b"), 0, 1, 1000, 1, &r));
    CHECK(!memcmp(&r, &before, sizeof r), "a refused call wrote its answer");
    MISSING(t->c, "b");
    /* out may be NULL */
    OK(pc_throttle(t->c, K("b"), 0, 1, 1000, 1, NULL));
    TYPE_IS(t->c, "b", PC_T_NUMERIC);
}

static void test_throttle_wrong_type(void **state)
{
    pt_store *t = *state;
    pc_val s = pc_str("x"), d = pc_dbl(1.5), one = pc_int(1);
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    OK(pc_set(t->c, K("d"), &d, 0, 0));
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    const char *keys[] = {"s", "l"};
    for (size_t i = 0; i < PT_LEN(keys); i++) {
        uint64_t v = pt_version(t->c, keys[i]);
        RC(PC_EWRONGTYPE, pc_throttle(t->c, K(keys[i]), 1, 1, 1000, 1, NULL));
        RC(PC_EWRONGTYPE, pc_throttle_window(t->c, K(keys[i]), 1, 1000, 1, NULL));
        EQ(pt_version(t->c, keys[i]), v);
    }
    RC(PC_ENOTINT, pc_throttle(t->c, K("d"), 1, 1, 1000, 1, NULL));
    RC(PC_ENOTINT, pc_throttle_window(t->c, K("d"), 1, 1000, 1, NULL));
    GET_IS(t->c, "d", pc_dbl(1.5));
    GET_IS(t->c, "s", pc_str("x"));
}

/* A stored arrival time near the end of int64 overflows: refused. */
static void test_gcra_overflow(void **state)
{
    pt_store *t = *state;
    pc_val v = pc_int(INT64_MAX - 5);
    OK(pc_set(t->c, K("o"), &v, 0, 0));
    RC(PC_EOVERFLOW, pc_throttle(t->c, K("o"), 1, 1, 1000, 1, NULL));
    GET_IS(t->c, "o", pc_int(INT64_MAX - 5));
}

/* ---- the fixed window ---- */

static void test_window_basic(void **state)
{
    pt_store *t = *state;
    for (int i = 0; i < 3; i++) {
        pc_throttle_info r = win(t->c, "w", 3, HOUR_MS, 1);
        CHECK(!r.limited, "call %d limited", i);
        EQ(r.limit, 3);
        EQ(r.remaining, 2 - i);
        EQ(r.retry_after_ms, -1);
        CHECK(r.reset_after_ms > HOUR_MS - 1000 && r.reset_after_ms <= HOUR_MS,
              "reset_after %" PRId64, r.reset_after_ms);
    }
    GET_IS(t->c, "w", pc_int(3));
    int64_t ttl = pt_ttl(t->c, "w");
    CHECK(ttl > HOUR_MS - 1000 && ttl <= HOUR_MS, "ttl %" PRId64, ttl);
    uint64_t v = pt_version(t->c, "w");
    pc_throttle_info r = win(t->c, "w", 3, HOUR_MS, 1);
    CHECK(r.limited, "the fourth call passed");
    EQ(r.remaining, 0);
    CHECK(r.retry_after_ms > HOUR_MS - 1000 && r.retry_after_ms <= HOUR_MS, "retry %" PRId64,
          r.retry_after_ms);
    EQ(pt_version(t->c, "w"), v);
    /* quantities; over the limit never passes */
    r = win(t->c, "w2", 10, HOUR_MS, 7);
    EQ(r.remaining, 3);
    r = win(t->c, "w2", 10, HOUR_MS, 4);
    CHECK(r.limited, "7 + 4 of 10 passed");
    EQ(r.remaining, 3);
    r = win(t->c, "w2", 10, HOUR_MS, 11);
    EQ(r.retry_after_ms, -1);
    r = win(t->c, "w2", 10, HOUR_MS, 0);
    CHECK(!r.limited, "a look was limited");
    EQ(r.remaining, 3);
    GET_IS(t->c, "w2", pc_int(7));
    r = win(t->c, "w3", 10, HOUR_MS, 0);
    EQ(r.reset_after_ms, 0);
    MISSING(t->c, "w3");
}

static void test_window_ends(void **state)
{
    pt_store *t = *state;
    pc_throttle_info r = win(t->c, "e", 2, 100, 2);
    CHECK(!r.limited, "limited");
    uint64_t t0 = pt_now_ms();
    while (pt_type(t->c, K("e")) != PC_T_NONE && pt_now_ms() - t0 < 10000)
        pt_sleep_ms(5);
    r = win(t->c, "e", 2, 100, 1);
    CHECK(!r.limited, "the next window is limited");
    EQ(r.remaining, 1);
    /* A window whose TTL was taken off starts afresh with a TTL. */
    int changed;
    OK(pc_persist(t->c, K("e"), &changed));
    r = win(t->c, "e", 2, HOUR_MS, 1);
    EQ(r.remaining, 0);
    CHECK(pt_ttl(t->c, "e") > 0, "no TTL");
}

static void test_window_bad_input(void **state)
{
    pt_store *t = *state;
    RC(PC_EINVAL, pc_throttle_window(t->c, K("b"), 0, 1000, 1, NULL));
    RC(PC_EINVAL, pc_throttle_window(t->c, K("b"), 1, 0, 1, NULL));
    RC(PC_EINVAL, pc_throttle_window(t->c, K("b"), 1, PC_TTL_MAX_MS + 1, 1, NULL));
    RC(PC_EINVAL, pc_throttle_window(t->c, K("b"), 1, 1000, -1, NULL));
    RC(PC_EKEY, pc_throttle_window(t->c, NULL, 1, 1, 1000, 1, NULL));
    MISSING(t->c, "b");
    /* a count near the end of int64: the sum overflows, limited */
    pc_val v = pc_int(INT64_MAX);
    OK(pc_set(t->c, K("o"), &v, 1000000, 0));
    pc_throttle_info r = win(t->c, "o", 5, 1000, 1);
    CHECK(r.limited, "passed");
    EQ(r.remaining, 0);
}

/* In a batch and a transaction, the answers arrive at exec/commit. */
static void test_throttle_batch_txn(void **state)
{
    pt_store *t = *state;
    pc_throttle_info a[4];
    memset(a, 0, sizeof a);
    OK(pc_batch_begin(t->c));
    OK(pc_throttle(t->c, K("bt"), 1, 1, HOUR_MS, 1, &a[0]));
    OK(pc_throttle(t->c, K("bt"), 1, 1, HOUR_MS, 1, &a[1]));
    OK(pc_throttle(t->c, K("bt"), 1, 1, HOUR_MS, 1, &a[2]));
    RC(PC_EINVAL, pc_throttle(t->c, K("bt"), 1, 0, HOUR_MS, 1, &a[3]));
    EQ(pc_pending(t->c), 3);
    OK(pc_batch_exec(t->c, NULL, 0));
    CHECK(!a[0].limited && !a[1].limited && a[2].limited, "%d %d %d", a[0].limited, a[1].limited,
          a[2].limited);
    EQ(a[1].remaining, 0);
    OK(pc_txn_begin(t->c));
    OK(pc_throttle_window(t->c, K("tw"), 2, HOUR_MS, 1, &a[0]));
    OK(pc_throttle_window(t->c, K("tw"), 2, HOUR_MS, 1, &a[1]));
    OK(pc_txn_commit(t->c, NULL));
    EQ(a[0].remaining, 1);
    EQ(a[1].remaining, 0);
}

/* ---- single flight ---- */

static pc_flight claim(pc_client *c, const char *key, int64_t lease_ms, unsigned flags)
{
    pc_flight f;
    memset(&f, 0xa5, sizeof f);
    OK(pc_flight_claim(c, K(key), lease_ms, 0, flags, &f));
    return f;
}

static pc_flight fget(pc_client *c, const char *key, int want_rc)
{
    pc_flight f;
    memset(&f, 0, sizeof f);
    pc_read *r = pt_rd(c);
    RC(want_rc, pc_flight_get(r, K(key), &f));
    /* (a value view dies with the read: compare kinds and ints only) */
    if (f.value.kind == PC_BYTES)
        f.value.s.ptr = NULL;
    pc_read_end(r);
    return f;
}

static void test_flight_lead_fill(void **state)
{
    pt_store *t = *state;
    int64_t t0 = pt_wall_ms();
    pc_flight f = claim(t->c, "f", 10000, 0);
    EQ(f.state, PC_FLIGHT_LEAD);
    CHECK(f.token != 0, "no token");
    EQ(f.value.kind, PC_NONE);
    EQ(f.owner_pid, getpid());
    CHECK(f.lease_until_ms >= t0 + 10000 && f.lease_until_ms <= pt_wall_ms() + 10000,
          "lease_until %" PRId64, f.lease_until_ms);
    TYPE_IS(t->c, "f", PC_T_FLIGHT);
    assert_string_equal(pc_type_name(PC_T_FLIGHT), "flight");
    pc_flight g = fget(t->c, "f", 0);
    EQ(g.state, PC_FLIGHT_MISS);
    EQ(g.token, f.token);
    EQ(g.value.kind, PC_NONE);
    /* Another caller (this process holds it, and lives): busy. */
    pc_flight h;
    RC(PC_EBUSY, pc_flight_claim(t->c, K("f"), 10000, 0, 0, &h));
    RC(PC_EBUSY, pc_flight_claim(t->c, K("f"), 10000, 0, PC_FLIGHT_TAKE_STALE, &h));
    uint64_t w0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_flight_claim(t->c, K("f"), 10000, 30, 0, &h));
    CHECK(pt_now_ms() - w0 >= 29, "waited %" PRIu64 " ms", pt_now_ms() - w0);
    /* The owner fills: fresh for an hour, stale a day after. */
    pc_val v = pc_str("computed");
    OK(pc_flight_fill(t->c, K("f"), f.token, &v, HOUR_MS, 24 * HOUR_MS));
    g = fget(t->c, "f", 0);
    EQ(g.state, PC_FLIGHT_FRESH);
    EQ(g.token, 0);
    EQ(g.value.kind, PC_BYTES);
    EQ(g.value.s.len, 8);
    int64_t ttl = pt_ttl(t->c, "f");
    CHECK(ttl > 25 * HOUR_MS - 1000 && ttl <= 25 * HOUR_MS, "ttl %" PRId64, ttl);
    pc_flight hit = claim(t->c, "f", 10000, 0);
    EQ(hit.state, PC_FLIGHT_FRESH);
    VAL_EQ(hit.value, pc_str("computed"));
    /* The token is spent. */
    RC(PC_ECONFLICT, pc_flight_fill(t->c, K("f"), f.token, &v, HOUR_MS, 0));
    RC(PC_ECONFLICT, pc_flight_release(t->c, K("f"), f.token));
    /* Any element kind is a value. */
    const pc_val kinds[] = {pc_int(-3), pc_dbl(0.5), pc_bool(true), pc_nil(), pc_mem("", 0)};
    for (size_t i = 0; i < PT_LEN(kinds); i++) {
        char k[16];
        snprintf(k, sizeof k, "kind%zu", i);
        pc_flight l = claim(t->c, k, 1000, 0);
        OK(pc_flight_fill(t->c, K(k), l.token, &kinds[i], HOUR_MS, 0));
        pc_flight got = claim(t->c, k, 1000, 0);
        EQ(got.state, PC_FLIGHT_FRESH);
        VAL_EQ(got.value, kinds[i]);
    }
}

static void test_flight_tokens(void **state)
{
    pt_store *t = *state;
    pc_val v = pc_int(7);
    RC(PC_ECONFLICT, pc_flight_fill(t->c, K("none"), 12345, &v, 1000, 0));
    RC(PC_ECONFLICT, pc_flight_release(t->c, K("none"), 12345));
    MISSING(t->c, "none");
    pc_flight f = claim(t->c, "t", 10000, 0);
    uint64_t ver = pt_version(t->c, "t");
    RC(PC_ECONFLICT, pc_flight_fill(t->c, K("t"), f.token + 1, &v, 1000, 0));
    RC(PC_ECONFLICT, pc_flight_release(t->c, K("t"), f.token + 1));
    EQ(pt_version(t->c, "t"), ver);
    /* A lapsed lease is taken over with a new token; the old one is void. */
    pc_flight s = claim(t->c, "short", 20, 0);
    pt_sleep_ms(40);
    pc_flight n = claim(t->c, "short", 10000, 0);
    EQ(n.state, PC_FLIGHT_LEAD);
    CHECK(n.token != s.token, "the same token");
    RC(PC_ECONFLICT, pc_flight_fill(t->c, K("short"), s.token, &v, 1000, 0));
    OK(pc_flight_fill(t->c, K("short"), n.token, &v, 1000, 0));
    /* A lease that ended fills nothing, taken over or not; nor releases. */
    pc_flight l = claim(t->c, "late", 20, 0);
    pt_sleep_ms(40);
    RC(PC_ECONFLICT, pc_flight_fill(t->c, K("late"), l.token, &v, HOUR_MS, 0));
    RC(PC_ECONFLICT, pc_flight_release(t->c, K("late"), l.token));
    MISSING(t->c, "late");
}

static void test_flight_stale_release(void **state)
{
    pt_store *t = *state;
    pc_flight f = claim(t->c, "s", 10000, 0);
    pc_val v = pc_str("old");
    OK(pc_flight_fill(t->c, K("s"), f.token, &v, 20, HOUR_MS));
    uint64_t t0 = pt_now_ms();
    while (fget(t->c, "s", 0).state == PC_FLIGHT_FRESH && pt_now_ms() - t0 < 10000)
        pt_sleep_ms(5);
    EQ(fget(t->c, "s", 0).state, PC_FLIGHT_STALE);
    /* The first to claim leads, and is handed the stale value. */
    pc_flight l = claim(t->c, "s", 10000, 0);
    EQ(l.state, PC_FLIGHT_LEAD);
    VAL_EQ(l.value, pc_str("old"));
    /* Others: the stale value if they ask for it, else busy. */
    pc_flight o = claim(t->c, "s", 10000, PC_FLIGHT_TAKE_STALE);
    EQ(o.state, PC_FLIGHT_STALE);
    VAL_EQ(o.value, pc_str("old"));
    EQ(o.token, l.token);
    RC(PC_EBUSY, pc_flight_claim(t->c, K("s"), 10000, 0, 0, &o));
    /* Releasing keeps the stale value; the next claim leads. */
    OK(pc_flight_release(t->c, K("s"), l.token));
    pc_flight g = fget(t->c, "s", 0);
    EQ(g.state, PC_FLIGHT_STALE);
    EQ(g.token, 0);
    l = claim(t->c, "s", 10000, 0);
    EQ(l.state, PC_FLIGHT_LEAD);
    /* Releasing a lease with no value removes the key. */
    pc_flight n = claim(t->c, "n", 10000, 0);
    OK(pc_flight_release(t->c, K("n"), n.token));
    MISSING(t->c, "n");
    fget(t->c, "n", PC_ENOTFOUND);
}

/* A lease whose owner is dead binds no more: reaped, or a zombie. */
static void test_flight_dead_owner(void **state)
{
    pt_store *t = *state;
    for (int zombie = 0; zombie < 2; zombie++) {
        const char *key = zombie ? "z" : "d";
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            pc_client *c;
            if (pc_connect(t->dir, &t->o, &c))
                _exit(2);
            pc_flight f;
            int rc = pc_flight_claim(c, K(key), HOUR_MS, 0, 0, &f);
            _exit(rc == 0 && f.state == PC_FLIGHT_LEAD ? 0 : 1);
        }
        CHECK(pid > 0, "fork");
        if (zombie) { /* wait for its end without reaping it */
            siginfo_t si;
            CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0, "waitid");
            EQ(si.si_status, 0);
        } else {
            EXITED(pt_wait_pid(pid, 10000), 0);
        }
        pc_flight g = fget(t->c, key, 0);
        EQ(g.owner_pid, pid);
        CHECK(g.token != 0, "no lease");
        pc_flight f = claim(t->c, key, 10000, 0);
        EQ(f.state, PC_FLIGHT_LEAD);
        EQ(f.owner_pid, getpid());
        CHECK(f.token != g.token, "the same token");
        if (zombie)
            EXITED(pt_wait_pid(pid, 10000), 0);
    }
}

static void test_flight_bad_input(void **state)
{
    pt_store *t = *state;
    pc_flight f;
    pc_val v = pc_int(1), bad = pc_dbl(NAN), none = {.kind = PC_NONE};
    RC(PC_EINVAL, pc_flight_claim(t->c, K("b"), 0, 0, 0, &f));
    RC(PC_EINVAL, pc_flight_claim(t->c, K("b"), PC_TTL_MAX_MS + 1, 0, 0, &f));
    RC(PC_EINVAL, pc_flight_claim(t->c, K("b"), 1000, -1, 0, &f));
    RC(PC_EINVAL, pc_flight_claim(t->c, K("b"), 1000, 0, 2, &f));
    RC(PC_EINVAL, pc_flight_claim(t->c, K("b"), 1000, 0, 0, NULL));
    RC(PC_EKEY, pc_flight_claim(t->c, "", 0, 1000, 0, 0, &f));
    RC(PC_EINVAL, pc_flight_fill(t->c, K("b"), 0, &v, 1000, 0));
    RC(PC_EINVAL, pc_flight_fill(t->c, K("b"), 1, NULL, 1000, 0));
    RC(PC_EINVAL, pc_flight_fill(t->c, K("b"), 1, &v, 0, 0));
    RC(PC_EINVAL, pc_flight_fill(t->c, K("b"), 1, &v, 1000, -1));
    RC(PC_EINVAL, pc_flight_fill(t->c, K("b"), 1, &v, PC_TTL_MAX_MS, 1));
    RC(PC_EINVAL, pc_flight_fill(t->c, K("b"), 1, &none, 1000, 0));
    RC(PC_ENAN, pc_flight_fill(t->c, K("b"), 1, &bad, 1000, 0));
    RC(PC_EINVAL, pc_flight_release(t->c, K("b"), 0));
    pc_read *r = pt_rd(t->c);
    RC(PC_EINVAL, pc_flight_get(r, K("b"), NULL));
    RC(PC_EKEY, pc_flight_get(r, "", 0, &f));
    RC(PC_EINVAL, pc_flight_get(NULL, K("b"), &f));
    pc_read_end(r);
    MISSING(t->c, "b");
    /* wrong types, both ways */
    pc_val s = pc_str("x");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    RC(PC_EWRONGTYPE, pc_flight_claim(t->c, K("str"), 1000, 0, 0, &f));
    RC(PC_EWRONGTYPE, pc_flight_fill(t->c, K("str"), 1, &v, 1000, 0));
    RC(PC_EWRONGTYPE, pc_flight_release(t->c, K("str"), 1));
    fget(t->c, "str", PC_EWRONGTYPE);
    GET_IS(t->c, "str", pc_str("x"));
    claim(t->c, "fl", 1000, 0);
    r = pt_rd(t->c);
    pc_val out;
    RC(PC_EWRONGTYPE, pc_get(r, K("fl"), &out));
    pc_read_end(r);
    RC(PC_EWRONGTYPE, pc_incrby(t->c, K("fl"), 1, NULL));
    /* a waiting claim in a batch or transaction */
    OK(pc_batch_begin(t->c));
    RC(PC_ESTATE, pc_flight_claim(t->c, K("w"), 1000, 10, 0, &f));
    OK(pc_flight_claim(t->c, K("w"), 1000, 0, 0, &f));
    OK(pc_batch_exec(t->c, NULL, 0));
    EQ(f.state, PC_FLIGHT_LEAD);
}

/* TTLs work on a Flight key as on any; deleting it frees the lease. */
static void test_flight_keyspace(void **state)
{
    pt_store *t = *state;
    pc_flight f = claim(t->c, "k", HOUR_MS, 0);
    pc_val v = pc_str("value");
    OK(pc_flight_fill(t->c, K("k"), f.token, &v, HOUR_MS, 0));
    int set;
    OK(pc_expire(t->c, K("k"), 30, &set));
    EQ(set, 1);
    EQ(fget(t->c, "k", 0).state, PC_FLIGHT_FRESH);
    uint64_t t0 = pt_now_ms();
    while (pt_type(t->c, K("k")) != PC_T_NONE && pt_now_ms() - t0 < 10000)
        pt_sleep_ms(5);
    MISSING(t->c, "k");
    f = claim(t->c, "k", HOUR_MS, 0);
    int deleted;
    OK(pc_del(t->c, K("k"), &deleted));
    EQ(deleted, 1);
    EQ(claim(t->c, "k", HOUR_MS, 0).state, PC_FLIGHT_LEAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_gcra_burst),         PT_STORE_TEST(test_gcra_quantity),
        PT_STORE_TEST(test_gcra_peek),          PT_STORE_TEST(test_gcra_recovers),
        PT_STORE_TEST(test_gcra_bad_input),     PT_STORE_TEST(test_throttle_wrong_type),
        PT_STORE_TEST(test_gcra_overflow),      PT_STORE_TEST(test_window_basic),
        PT_STORE_TEST(test_window_ends),        PT_STORE_TEST(test_window_bad_input),
        PT_STORE_TEST(test_throttle_batch_txn), PT_STORE_TEST(test_flight_lead_fill),
        PT_STORE_TEST(test_flight_tokens),      PT_STORE_TEST(test_flight_stale_release),
        PT_STORE_TEST(test_flight_dead_owner),  PT_STORE_TEST(test_flight_bad_input),
        PT_STORE_TEST(test_flight_keyspace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
