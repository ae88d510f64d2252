/*
 * test_api_helpers.c - the public API of issue 16's helpers on an embedded
 * store: the rate limiters (GCRA and the fixed window).
 */
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
    int64_t ttl = pt_ttl(t->c, "g");
    CHECK(ttl > 5 * HOUR_MS - 1000 && ttl <= 5 * HOUR_MS, "ttl %" PRId64, ttl);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_gcra_burst),         PT_STORE_TEST(test_gcra_quantity),
        PT_STORE_TEST(test_gcra_peek),          PT_STORE_TEST(test_gcra_recovers),
        PT_STORE_TEST(test_gcra_bad_input),     PT_STORE_TEST(test_throttle_wrong_type),
        PT_STORE_TEST(test_gcra_overflow),      PT_STORE_TEST(test_window_basic),
        PT_STORE_TEST(test_window_ends),        PT_STORE_TEST(test_window_bad_input),
        PT_STORE_TEST(test_throttle_batch_txn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
