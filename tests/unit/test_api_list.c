/*
 * test_api_list.c - the public API for Lists and Queues: push order, pops
 * with counts, lindex, lset, lrange paging, ltrim and lrem with Redis's
 * rules, typed elements, the queue calls, and wrong types between them.
 */
#include <math.h>

#include "pctest.h"

#define S(s) pc_str(s)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Replace key with a List of want[0..n) and check it. */
static void make_list(pc_client *c, const char *key, const pc_val *v, size_t n)
{
    OK(pc_set_coll(c, K(key), PC_T_LIST, v, n, 0, 0));
    LIST_IS(c, key, v, n);
}

/* A List of the integers 0..n-1 under key. */
static void make_ints(pc_client *c, const char *key, size_t n)
{
    pc_val *v = calloc(n, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = pc_int((int64_t)i);
    OK(pc_del(c, K(key), NULL));
    uint64_t len = 0;
    OK(pc_rpush(c, K(key), v, n, &len));
    assert_int_equal(len, n);
    free(v);
}

/* Check that key is a List of the integers from..to (inclusive), or missing
 * when from > to. */
static void ints_are(const char *file, int line, pc_client *c, const char *key, int64_t from,
                     int64_t to)
{
    pc_val want[64];
    size_t n = 0;
    for (int64_t i = from; i <= to && n < 64; i++)
        want[n++] = pc_int(i);
    pt_check_seq(file, line, c, key, false, want, n);
}
#define INTS_ARE(c, key, from, to) ints_are(__FILE__, __LINE__, (c), (key), (from), (to))

static void test_lpush_order(void **state)
{
    pt_store *t = *state;
    pc_val abc[] = {S("a"), S("b"), S("c")};
    uint64_t len = 0;

    OK(pc_lpush(t->c, K("l"), abc, 3, &len));
    assert_int_equal(len, 3);
    pc_val want[] = {S("c"), S("b"), S("a")};
    LIST_IS(t->c, "l", want, 3);
    TYPE_IS(t->c, "l", PC_T_LIST);

    pc_val d = S("d");
    OK(pc_lpush(t->c, K("l"), &d, 1, &len));
    assert_int_equal(len, 4);
    pc_val want2[] = {S("d"), S("c"), S("b"), S("a")};
    LIST_IS(t->c, "l", want2, 4);
}

static void test_rpush(void **state)
{
    pt_store *t = *state;
    pc_val abc[] = {S("a"), S("b"), S("c")};
    uint64_t len = 0;

    OK(pc_rpush(t->c, K("l"), abc, 3, &len));
    assert_int_equal(len, 3);
    LIST_IS(t->c, "l", abc, 3);

    pc_val x = S("x"), y = S("y");
    OK(pc_rpush(t->c, K("l"), &x, 1, &len));
    OK(pc_lpush(t->c, K("l"), &y, 1, &len));
    assert_int_equal(len, 5);
    pc_val want[] = {S("y"), S("a"), S("b"), S("c"), S("x")};
    LIST_IS(t->c, "l", want, 5);

    /* len may be NULL; n == 0 is refused */
    OK(pc_rpush(t->c, K("l"), &x, 1, NULL));
    RC(PC_EINVAL, pc_rpush(t->c, K("l"), abc, 0, &len));
    RC(PC_EINVAL, pc_lpush(t->c, K("new"), abc, 0, &len));
    MISSING(t->c, "new");

    /* push keeps the TTL */
    OK(pc_set_coll(t->c, K("t"), PC_T_LIST, abc, 3, 100000, 0));
    OK(pc_rpush(t->c, K("t"), &x, 1, NULL));
    OK(pc_lpush(t->c, K("t"), &x, 1, NULL));
    assert_true(pt_ttl(t->c, "t") > 90000);
}

static void test_pop_counts(void **state)
{
    pt_store *t = *state;
    pc_val out[10];
    size_t n = 0;

    make_ints(t->c, "l", 5);
    OK(pc_lpop(t->c, K("l"), 2, out, &n));
    assert_int_equal(n, 2);
    VAL_EQ(out[0], pc_int(0));
    VAL_EQ(out[1], pc_int(1));
    OK(pc_rpop(t->c, K("l"), 2, out, &n));
    assert_int_equal(n, 2);
    VAL_EQ(out[0], pc_int(4));
    VAL_EQ(out[1], pc_int(3));
    INTS_ARE(t->c, "l", 2, 2);

    /* asking for more than there is pops what there is; the last removes the key */
    OK(pc_lpop(t->c, K("l"), 10, out, &n));
    assert_int_equal(n, 1);
    VAL_EQ(out[0], pc_int(2));
    MISSING(t->c, "l");
    TYPE_IS(t->c, "l", PC_T_NONE);
    RC(PC_ENOTFOUND, pc_lpop(t->c, K("l"), 1, out, &n));
    RC(PC_ENOTFOUND, pc_rpop(t->c, K("l"), 1, out, &n));
    MISSING(t->c, "l");

    make_ints(t->c, "r", 3);
    OK(pc_rpop(t->c, K("r"), 3, out, &n));
    assert_int_equal(n, 3);
    VAL_EQ(out[0], pc_int(2));
    VAL_EQ(out[2], pc_int(0));
    MISSING(t->c, "r");

    /* one at a time */
    make_ints(t->c, "o", 3);
    for (int i = 0; i < 3; i++) {
        OK(pc_lpop(t->c, K("o"), 1, out, &n));
        assert_int_equal(n, 1);
        VAL_EQ(out[0], pc_int(i));
    }
    MISSING(t->c, "o");

    /* max 0 is refused */
    make_ints(t->c, "z", 2);
    RC(PC_EINVAL, pc_lpop(t->c, K("z"), 0, out, &n));
    INTS_ARE(t->c, "z", 0, 1);

    /* popped bytes stay valid until the next write */
    pc_val ab[] = {S("alpha"), S("beta")};
    make_list(t->c, "s", ab, 2);
    OK(pc_lpop(t->c, K("s"), 2, out, &n));
    assert_int_equal(n, 2);
    VAL_EQ(out[0], S("alpha"));
    VAL_EQ(out[1], S("beta"));
}

static void test_lindex(void **state)
{
    pt_store *t = *state;
    pc_val abc[] = {S("a"), S("b"), S("c")};
    make_list(t->c, "l", abc, 3);
    pc_val v = S("str");
    OK(pc_set(t->c, K("s"), &v, 0, 0));

    pc_read *r = pt_rd(t->c);
    pc_val out;
    OK(pc_lindex(r, K("l"), 0, &out));
    VAL_EQ(out, S("a"));
    OK(pc_lindex(r, K("l"), 2, &out));
    VAL_EQ(out, S("c"));
    OK(pc_lindex(r, K("l"), -1, &out));
    VAL_EQ(out, S("c"));
    OK(pc_lindex(r, K("l"), -3, &out));
    VAL_EQ(out, S("a"));
    RC(PC_ERANGE, pc_lindex(r, K("l"), 3, &out));
    RC(PC_ERANGE, pc_lindex(r, K("l"), -4, &out));
    RC(PC_ERANGE, pc_lindex(r, K("l"), INT64_MAX, &out));
    RC(PC_ERANGE, pc_lindex(r, K("l"), INT64_MIN, &out));
    RC(PC_ENOTFOUND, pc_lindex(r, K("missing"), 0, &out));
    RC(PC_EWRONGTYPE, pc_lindex(r, K("s"), 0, &out));
    pc_read_end(r);
}

static void test_lset(void **state)
{
    pt_store *t = *state;
    pc_val abc[] = {S("a"), S("b"), S("c")};
    make_list(t->c, "l", abc, 3);

    pc_val x = S("x"), y = pc_int(9);
    OK(pc_lset(t->c, K("l"), 1, &x));
    OK(pc_lset(t->c, K("l"), -1, &y));
    pc_val want[] = {S("a"), S("x"), pc_int(9)};
    LIST_IS(t->c, "l", want, 3);

    RC(PC_ERANGE, pc_lset(t->c, K("l"), 3, &x));
    RC(PC_ERANGE, pc_lset(t->c, K("l"), -4, &x));
    LIST_IS(t->c, "l", want, 3);
    RC(PC_ENOTFOUND, pc_lset(t->c, K("missing"), 0, &x));
    MISSING(t->c, "missing");

    OK(pc_qpush(t->c, K("q"), abc, 3, NULL));
    RC(PC_EWRONGTYPE, pc_lset(t->c, K("q"), 0, &x));
    QUEUE_IS(t->c, "q", abc, 3);
}

static void test_lrange_paging(void **state)
{
    pt_store *t = *state;
    enum { N = 1000, PAGE = 7 };
    make_ints(t->c, "l", N);

    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    pc_read *r = pt_rd(t->c);
    pc_val out[PAGE];
    size_t n = 0, start = 0, calls = 0;
    do {
        OK(pc_lrange(r, K("l"), (int64_t)start, -1, out, PAGE, &n));
        assert_true(n <= PAGE);
        for (size_t i = 0; i < n; i++) {
            VAL_EQ(out[i], pc_int((int64_t)(start + i)));
            seen[out[i].i]++;
        }
        start += n;
        calls++;
    } while (n);
    assert_int_equal(start, N);
    assert_int_equal(calls, (N + PAGE - 1) / PAGE + 1);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);

    /* Redis LRANGE rules */
    OK(pc_lrange(r, K("l"), -3, -1, out, PAGE, &n));
    assert_int_equal(n, 3);
    VAL_EQ(out[0], pc_int(997));
    VAL_EQ(out[2], pc_int(999));
    OK(pc_lrange(r, K("l"), 995, 5000, out, PAGE, &n));
    assert_int_equal(n, 5);
    VAL_EQ(out[0], pc_int(995));
    OK(pc_lrange(r, K("l"), -5000, 2, out, PAGE, &n));
    assert_int_equal(n, 3);
    VAL_EQ(out[0], pc_int(0));
    OK(pc_lrange(r, K("l"), 5, 2, out, PAGE, &n));
    assert_int_equal(n, 0);
    OK(pc_lrange(r, K("l"), 0, -1001, out, PAGE, &n));
    assert_int_equal(n, 0);
    OK(pc_lrange(r, K("l"), 1000, 1000, out, PAGE, &n));
    assert_int_equal(n, 0);
    OK(pc_lrange(r, K("l"), 0, -1000, out, PAGE, &n));
    assert_int_equal(n, 1);
    VAL_EQ(out[0], pc_int(0));
    OK(pc_lrange(r, K("l"), INT64_MIN, INT64_MAX, out, PAGE, &n));
    assert_int_equal(n, PAGE);
    OK(pc_lrange(r, K("l"), 500, 500, out, PAGE, &n));
    assert_int_equal(n, 1);
    VAL_EQ(out[0], pc_int(500));
    /* max 0 returns nothing */
    OK(pc_lrange(r, K("l"), 0, -1, out, 0, &n));
    assert_int_equal(n, 0);
    /* a missing key is empty */
    n = 99;
    OK(pc_lrange(r, K("missing"), 0, -1, out, PAGE, &n));
    assert_int_equal(n, 0);
    pc_read_end(r);
}

/* ltrim on a fresh List 0..9 keeps from..to (missing when from > to). */
static void ltrim_case(const char *file, int line, pc_client *c, int64_t start, int64_t stop,
                       int64_t from, int64_t to)
{
    make_ints(c, "l", 10);
    pt_check_rc(file, line, "pc_ltrim", pc_ltrim(c, K("l"), start, stop), 0);
    ints_are(file, line, c, "l", from, to);
    if (from > to)
        pt_check_missing(file, line, c, K("l"));
}
#define LTRIM_CASE(c, start, stop, from, to) \
    ltrim_case(__FILE__, __LINE__, (c), (start), (stop), (from), (to))

static void test_ltrim(void **state)
{
    pt_store *t = *state;
    LTRIM_CASE(t->c, 0, -1, 0, 9);
    LTRIM_CASE(t->c, 0, 100, 0, 9);
    LTRIM_CASE(t->c, -100, 100, 0, 9);
    LTRIM_CASE(t->c, 2, 5, 2, 5);
    LTRIM_CASE(t->c, -3, -1, 7, 9);
    LTRIM_CASE(t->c, -100, 2, 0, 2);
    LTRIM_CASE(t->c, 5, 100, 5, 9);
    LTRIM_CASE(t->c, 0, 0, 0, 0);
    LTRIM_CASE(t->c, 9, 9, 9, 9);
    LTRIM_CASE(t->c, -1, -1, 9, 9);
    LTRIM_CASE(t->c, 1, -2, 1, 8);
    LTRIM_CASE(t->c, 0, -10, 0, 0);
    /* empty results remove the key */
    LTRIM_CASE(t->c, 5, 2, 1, 0);
    LTRIM_CASE(t->c, 10, 20, 1, 0);
    LTRIM_CASE(t->c, 0, -11, 1, 0);
    LTRIM_CASE(t->c, -1, -2, 1, 0);
    LTRIM_CASE(t->c, INT64_MAX, INT64_MAX, 1, 0);
    LTRIM_CASE(t->c, INT64_MIN, INT64_MIN, 1, 0);

    /* a missing key: nothing to do, nothing created */
    OK(pc_ltrim(t->c, K("missing"), 0, 1));
    MISSING(t->c, "missing");

    /* the trimmed List grows on at both ends as before */
    make_ints(t->c, "g", 10);
    OK(pc_ltrim(t->c, K("g"), 3, 4));
    pc_val a = pc_int(-1), b = pc_int(100);
    OK(pc_lpush(t->c, K("g"), &a, 1, NULL));
    OK(pc_rpush(t->c, K("g"), &b, 1, NULL));
    pc_val want[] = {pc_int(-1), pc_int(3), pc_int(4), pc_int(100)};
    LIST_IS(t->c, "g", want, 4);

    /* wrong types */
    pc_val v = S("s");
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    RC(PC_EWRONGTYPE, pc_ltrim(t->c, K("s"), 0, 0));
    OK(pc_qpush(t->c, K("q"), &v, 1, NULL));
    RC(PC_EWRONGTYPE, pc_ltrim(t->c, K("q"), 1, 0));
    QUEUE_IS(t->c, "q", &v, 1);
}

static void test_lrem(void **state)
{
    pt_store *t = *state;
    uint64_t removed = 99;
    pc_val one = pc_int(1), sone = S("1"), done = pc_dbl(1.0), tr = pc_bool(true);
    pc_val l0[] = {one, sone, done, one, tr, one, S("a"), one};
    make_list(t->c, "l", l0, NELEM(l0));

    /* count > 0: the first count from the head; typed equality */
    OK(pc_lrem(t->c, K("l"), 2, &one, &removed));
    assert_int_equal(removed, 2);
    pc_val l1[] = {sone, done, tr, one, S("a"), one};
    LIST_IS(t->c, "l", l1, NELEM(l1));

    /* count < 0: from the tail */
    OK(pc_lrem(t->c, K("l"), -1, &one, &removed));
    assert_int_equal(removed, 1);
    pc_val l2[] = {sone, done, tr, one, S("a")};
    LIST_IS(t->c, "l", l2, NELEM(l2));

    /* count 0: all; 1.0, "1" and true are not 1 */
    OK(pc_lrem(t->c, K("l"), 0, &done, &removed));
    assert_int_equal(removed, 1);
    pc_val l3[] = {sone, tr, one, S("a")};
    LIST_IS(t->c, "l", l3, NELEM(l3));
    OK(pc_lrem(t->c, K("l"), 0, &sone, &removed));
    assert_int_equal(removed, 1);
    OK(pc_lrem(t->c, K("l"), 0, &tr, &removed));
    assert_int_equal(removed, 1);
    pc_val l4[] = {one, S("a")};
    LIST_IS(t->c, "l", l4, NELEM(l4));

    /* nothing equal: nothing removed */
    pc_val five = pc_int(5), nil = pc_nil();
    OK(pc_lrem(t->c, K("l"), 0, &five, &removed));
    assert_int_equal(removed, 0);
    OK(pc_lrem(t->c, K("l"), 0, &nil, &removed));
    assert_int_equal(removed, 0);
    LIST_IS(t->c, "l", l4, NELEM(l4));

    /* removing the last elements removes the key */
    OK(pc_lrem(t->c, K("l"), 0, &one, &removed));
    pc_val a = S("a");
    OK(pc_lrem(t->c, K("l"), 1, &a, &removed));
    assert_int_equal(removed, 1);
    MISSING(t->c, "l");

    /* count < 0 takes the last ones; the survivors keep their order */
    pc_val x = S("x"), y = S("y");
    pc_val m0[] = {x, y, x, y, x, pc_nil(), x};
    make_list(t->c, "m", m0, NELEM(m0));
    OK(pc_lrem(t->c, K("m"), -2, &x, &removed));
    assert_int_equal(removed, 2);
    pc_val m1[] = {x, y, x, y, pc_nil()};
    LIST_IS(t->c, "m", m1, NELEM(m1));
    OK(pc_lrem(t->c, K("m"), 5, &x, &removed));
    assert_int_equal(removed, 2);
    pc_val m2[] = {y, y, pc_nil()};
    LIST_IS(t->c, "m", m2, NELEM(m2));
    OK(pc_lrem(t->c, K("m"), -10, &nil, &removed));
    assert_int_equal(removed, 1);
    LIST_IS(t->c, "m", m2, 2);
    /* the list still works at both ends after a rewrite */
    OK(pc_lpush(t->c, K("m"), &x, 1, NULL));
    OK(pc_rpush(t->c, K("m"), &x, 1, NULL));
    pc_val m3[] = {x, y, y, x};
    LIST_IS(t->c, "m", m3, NELEM(m3));

    /* the extreme counts */
    pc_val e0[] = {x, y, x, x};
    make_list(t->c, "x", e0, NELEM(e0));
    OK(pc_lrem(t->c, K("x"), INT64_MIN, &x, &removed));
    assert_int_equal(removed, 3);
    LIST_IS(t->c, "x", &y, 1);
    make_list(t->c, "x", e0, NELEM(e0));
    OK(pc_lrem(t->c, K("x"), INT64_MAX, &x, &removed));
    assert_int_equal(removed, 3);
    LIST_IS(t->c, "x", &y, 1);

    /* lrem keeps the TTL */
    OK(pc_set_coll(t->c, K("t"), PC_T_LIST, m0, NELEM(m0), 100000, 0));
    OK(pc_lrem(t->c, K("t"), 0, &y, &removed));
    assert_int_equal(removed, 2);
    assert_true(pt_ttl(t->c, "t") > 90000);

    /* a missing key: 0 removed, nothing created */
    OK(pc_lrem(t->c, K("missing"), 0, &x, &removed));
    assert_int_equal(removed, 0);
    MISSING(t->c, "missing");

    /* wrong types */
    OK(pc_set(t->c, K("s"), &x, 0, 0));
    RC(PC_EWRONGTYPE, pc_lrem(t->c, K("s"), 0, &x, &removed));
    OK(pc_qpush(t->c, K("q"), &x, 1, NULL));
    RC(PC_EWRONGTYPE, pc_lrem(t->c, K("q"), 0, &x, &removed));
    QUEUE_IS(t->c, "q", &x, 1);
}

static void test_typed_roundtrip(void **state)
{
    pt_store *t = *state;
    pc_val items[] = {pc_int(1), pc_dbl(2.5), S("a"), pc_bool(true), pc_nil()};

    OK(pc_rpush(t->c, K("l"), items, NELEM(items), NULL));
    LIST_IS(t->c, "l", items, NELEM(items));
    pc_read *r = pt_rd(t->c);
    pc_val out[8];
    size_t n;
    OK(pc_lrange(r, K("l"), 0, -1, out, 8, &n));
    assert_int_equal(n, 5);
    assert_int_equal(out[0].kind, PC_INT);
    assert_int_equal(out[1].kind, PC_DOUBLE);
    assert_int_equal(out[2].kind, PC_BYTES);
    assert_int_equal(out[3].kind, PC_BOOL);
    assert_int_equal(out[4].kind, PC_NIL);
    pc_read_end(r);

    /* the same through pc_set_coll, a Queue, and pops */
    OK(pc_set_coll(t->c, K("c"), PC_T_LIST, items, NELEM(items), 0, 0));
    LIST_IS(t->c, "c", items, NELEM(items));
    OK(pc_qpush(t->c, K("q"), items, NELEM(items), NULL));
    QUEUE_IS(t->c, "q", items, NELEM(items));
    OK(pc_lpop(t->c, K("c"), 8, out, &n));
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        VAL_EQ(out[i], items[i]);

    /* edge values */
    unsigned char bin[] = {0, 1, 0, 255};
    pc_val edge[] = {pc_int(INT64_MIN), pc_int(INT64_MAX), pc_int(0),      pc_dbl(-0.0),
                     pc_dbl(1e-308),    pc_mem("", 0),     pc_mem(bin, 4), pc_bool(false)};
    OK(pc_rpush(t->c, K("e"), edge, NELEM(edge), NULL));
    LIST_IS(t->c, "e", edge, NELEM(edge));
    r = pt_rd(t->c);
    OK(pc_lindex(r, K("e"), 3, &out[0]));
    assert_true(out[0].kind == PC_DOUBLE && out[0].d == 0 && signbit(out[0].d));
    pc_read_end(r);

    /* a bad element anywhere refuses the whole push */
    pc_val bad[] = {pc_int(1), pc_dbl(NAN)};
    RC(PC_ENAN, pc_rpush(t->c, K("e"), bad, 2, NULL));
    pc_val none[] = {pc_int(1), {.kind = PC_NONE}};
    RC(PC_EINVAL, pc_rpush(t->c, K("e"), none, 2, NULL));
    LIST_IS(t->c, "e", edge, NELEM(edge));

    /* n == 0 through pc_set_coll deletes the key */
    OK(pc_set_coll(t->c, K("e"), PC_T_LIST, NULL, 0, 0, 0));
    MISSING(t->c, "e");
}

static void test_queue(void **state)
{
    pt_store *t = *state;
    pc_val abc[] = {S("a"), S("b"), S("c")};
    uint64_t len = 0;
    pc_val out[8];
    size_t n = 0;

    OK(pc_qpush(t->c, K("q"), abc, 3, &len));
    assert_int_equal(len, 3);
    TYPE_IS(t->c, "q", PC_T_QUEUE);
    pc_val d = S("d");
    OK(pc_qpush(t->c, K("q"), &d, 1, &len));
    assert_int_equal(len, 4);

    pc_read *r = pt_rd(t->c);
    uint64_t ql = 0;
    OK(pc_qlen(r, K("q"), &ql));
    assert_int_equal(ql, 4);
    OK(pc_qpeek(r, K("q"), &out[0]));
    VAL_EQ(out[0], S("a"));
    OK(pc_qrange(r, K("q"), 0, -1, out, 8, &n));
    assert_int_equal(n, 4);
    VAL_EQ(out[0], S("a"));
    VAL_EQ(out[3], S("d"));
    OK(pc_qrange(r, K("q"), 1, 2, out, 8, &n));
    assert_int_equal(n, 2);
    VAL_EQ(out[0], S("b"));
    OK(pc_qrange(r, K("q"), -1, -1, out, 8, &n));
    assert_int_equal(n, 1);
    VAL_EQ(out[0], S("d"));
    OK(pc_qrange(r, K("q"), 0, -1, out, 2, &n));
    assert_int_equal(n, 2);
    RC(PC_ENOTFOUND, pc_qpeek(r, K("missing"), &out[0]));
    RC(PC_ENOTFOUND, pc_qlen(r, K("missing"), &ql));
    OK(pc_qrange(r, K("missing"), 0, -1, out, 8, &n));
    assert_int_equal(n, 0);
    pc_read_end(r);

    /* FIFO */
    OK(pc_qpop(t->c, K("q"), 1, out, &n));
    assert_int_equal(n, 1);
    VAL_EQ(out[0], S("a"));
    pc_val e = S("e");
    OK(pc_qpush(t->c, K("q"), &e, 1, NULL));
    OK(pc_qpop(t->c, K("q"), 2, out, &n));
    assert_int_equal(n, 2);
    VAL_EQ(out[0], S("b"));
    VAL_EQ(out[1], S("c"));
    pc_val rest[] = {S("d"), S("e")};
    QUEUE_IS(t->c, "q", rest, 2);
    OK(pc_qpop(t->c, K("q"), 10, out, &n));
    assert_int_equal(n, 2);
    VAL_EQ(out[0], S("d"));
    VAL_EQ(out[1], S("e"));
    MISSING(t->c, "q");
    RC(PC_ENOTFOUND, pc_qpop(t->c, K("q"), 1, out, &n));

    /* a long run through a queue stays FIFO */
    for (int64_t i = 0; i < 300; i++) {
        pc_val v = pc_int(i);
        OK(pc_qpush(t->c, K("f"), &v, 1, NULL));
        if (i % 3 == 2) {
            OK(pc_qpop(t->c, K("f"), 2, out, &n));
            assert_int_equal(n, 2);
        }
    }
    for (int64_t want = 200; want < 300; want++) {
        OK(pc_qpop(t->c, K("f"), 1, out, &n));
        VAL_EQ(out[0], pc_int(want));
    }
    MISSING(t->c, "f");

    /* pc_set_coll makes a Queue in order */
    OK(pc_set_coll(t->c, K("sc"), PC_T_QUEUE, abc, 3, 0, 0));
    QUEUE_IS(t->c, "sc", abc, 3);
}

/* pc_set_coll's flags on Lists and Queues. */
static void test_set_coll_flags(void **state)
{
    pt_store *t = *state;
    pc_val a = S("a"), b = S("b");
    OK(pc_set_coll(t->c, K("l"), PC_T_LIST, &a, 1, 0, PC_NX));
    RC(PC_EEXIST, pc_set_coll(t->c, K("l"), PC_T_LIST, &b, 1, 0, PC_NX));
    LIST_IS(t->c, "l", &a, 1);
    RC(PC_ENOTFOUND, pc_set_coll(t->c, K("m"), PC_T_LIST, &b, 1, 0, PC_XX));
    MISSING(t->c, "m");
    OK(pc_set_coll(t->c, K("l"), PC_T_QUEUE, &b, 1, 0, PC_XX));
    QUEUE_IS(t->c, "l", &b, 1);
    /* replacing a String */
    OK(pc_set(t->c, K("s"), &a, 0, 0));
    OK(pc_set_coll(t->c, K("s"), PC_T_LIST, &b, 1, 0, 0));
    LIST_IS(t->c, "s", &b, 1);
    /* n == 0 with XX on a missing key: nothing */
    RC(PC_ENOTFOUND, pc_set_coll(t->c, K("m"), PC_T_LIST, NULL, 0, 0, PC_XX));
    MISSING(t->c, "m");
}

static void test_list_queue_wrong_type(void **state)
{
    pt_store *t = *state;
    pc_val abc[] = {S("a"), S("b"), S("c")};
    OK(pc_rpush(t->c, K("l"), abc, 3, NULL));
    OK(pc_qpush(t->c, K("q"), abc, 3, NULL));
    pc_val s = S("s");
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    uint64_t len;
    pc_val out[4];
    size_t n;
    uint64_t lv = pt_version(t->c, "l"), qv = pt_version(t->c, "q");

    /* queue calls on a List, list calls on a Queue, both on a String */
    const char *const not_queue[] = {"l", "s"};
    for (size_t i = 0; i < 2; i++) {
        RC(PC_EWRONGTYPE, pc_qpush(t->c, K(not_queue[i]), abc, 1, &len));
        RC(PC_EWRONGTYPE, pc_qpop(t->c, K(not_queue[i]), 1, out, &n));
    }
    const char *const not_list[] = {"q", "s"};
    for (size_t i = 0; i < 2; i++) {
        const char *k = not_list[i];
        RC(PC_EWRONGTYPE, pc_lpush(t->c, K(k), abc, 1, &len));
        RC(PC_EWRONGTYPE, pc_rpush(t->c, K(k), abc, 1, &len));
        RC(PC_EWRONGTYPE, pc_lpop(t->c, K(k), 1, out, &n));
        RC(PC_EWRONGTYPE, pc_rpop(t->c, K(k), 1, out, &n));
        RC(PC_EWRONGTYPE, pc_lset(t->c, K(k), 0, abc));
        RC(PC_EWRONGTYPE, pc_ltrim(t->c, K(k), 0, 0));
        RC(PC_EWRONGTYPE, pc_lrem(t->c, K(k), 0, abc, &len));
    }
    pc_read *r = pt_rd(t->c);
    for (size_t i = 0; i < 2; i++) {
        RC(PC_EWRONGTYPE, pc_qlen(r, K(not_queue[i]), &len));
        RC(PC_EWRONGTYPE, pc_qpeek(r, K(not_queue[i]), out));
        RC(PC_EWRONGTYPE, pc_qrange(r, K(not_queue[i]), 0, -1, out, 4, &n));
        RC(PC_EWRONGTYPE, pc_llen(r, K(not_list[i]), &len));
        RC(PC_EWRONGTYPE, pc_lindex(r, K(not_list[i]), 0, out));
        RC(PC_EWRONGTYPE, pc_lrange(r, K(not_list[i]), 0, -1, out, 4, &n));
    }
    pc_read_end(r);

    /* nothing changed */
    LIST_IS(t->c, "l", abc, 3);
    QUEUE_IS(t->c, "q", abc, 3);
    GET_IS(t->c, "s", S("s"));
    assert_int_equal(pt_version(t->c, "l"), lv);
    assert_int_equal(pt_version(t->c, "q"), qv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_lpush_order),
        PT_STORE_TEST(test_rpush),
        PT_STORE_TEST(test_pop_counts),
        PT_STORE_TEST(test_lindex),
        PT_STORE_TEST(test_lset),
        PT_STORE_TEST(test_lrange_paging),
        PT_STORE_TEST(test_ltrim),
        PT_STORE_TEST(test_lrem),
        PT_STORE_TEST(test_typed_roundtrip),
        PT_STORE_TEST(test_queue),
        PT_STORE_TEST(test_set_coll_flags),
        PT_STORE_TEST(test_list_queue_wrong_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
