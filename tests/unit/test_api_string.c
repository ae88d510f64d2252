/*
 * test_api_string.c - the public API for Strings and Numerics: set/get,
 * NX/XX/KEEPTTL, getset, append, setrange, strlen, getrange, incrby,
 * incrbyfloat, wrong types, pc_mget and pc_mset.
 */
#include <float.h>
#include <math.h>

#include "pctest.h"

/* A String value from a C string. */
#define S(s) pc_str(s)

/* Make key a List, a Map, a Set and a Queue (one each). */
static void make_colls(pc_client *c)
{
    pc_val one = pc_int(1);
    pc_bytes f = pc_b("f", 1);
    OK(pc_rpush(c, K("list"), &one, 1, NULL));
    OK(pc_hset(c, K("map"), &f, &one, 1, NULL));
    OK(pc_sadd(c, K("set"), &one, 1, NULL));
    OK(pc_qpush(c, K("queue"), &one, 1, NULL));
}

static const char *const coll_keys[] = {"list", "map", "set", "queue"};
static const pc_type coll_types[] = {PC_T_LIST, PC_T_MAP, PC_T_SET, PC_T_QUEUE};

/* ---- set and get ---- */

static void test_set_get(void **state)
{
    pt_store *t = *state;
    pc_val v = S("hello");
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    GET_IS(t->c, "k", S("hello"));
    TYPE_IS(t->c, "k", PC_T_STRING);

    /* overwrite, and a missing key reads as missing */
    v = S("world!");
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    GET_IS(t->c, "k", S("world!"));
    MISSING(t->c, "nope");

    /* numerics keep their kind */
    v = pc_int(-42);
    OK(pc_set(t->c, K("i"), &v, 0, 0));
    GET_IS(t->c, "i", pc_int(-42));
    TYPE_IS(t->c, "i", PC_T_NUMERIC);
    v = pc_int(INT64_MAX);
    OK(pc_set(t->c, K("imax"), &v, 0, 0));
    GET_IS(t->c, "imax", pc_int(INT64_MAX));
    v = pc_int(INT64_MIN);
    OK(pc_set(t->c, K("imin"), &v, 0, 0));
    GET_IS(t->c, "imin", pc_int(INT64_MIN));
    v = pc_dbl(2.5);
    OK(pc_set(t->c, K("d"), &v, 0, 0));
    GET_IS(t->c, "d", pc_dbl(2.5));
    v = pc_dbl(-DBL_MAX);
    OK(pc_set(t->c, K("dmax"), &v, 0, 0));
    GET_IS(t->c, "dmax", pc_dbl(-DBL_MAX));
    /* an integral double stays a double */
    v = pc_dbl(3.0);
    OK(pc_set(t->c, K("d3"), &v, 0, 0));
    GET_IS(t->c, "d3", pc_dbl(3.0));

    /* a String replaces a Numeric and back */
    v = S("str");
    OK(pc_set(t->c, K("i"), &v, 0, 0));
    GET_IS(t->c, "i", S("str"));
    TYPE_IS(t->c, "i", PC_T_STRING);
    v = pc_int(7);
    OK(pc_set(t->c, K("i"), &v, 0, 0));
    GET_IS(t->c, "i", pc_int(7));
    TYPE_IS(t->c, "i", PC_T_NUMERIC);

    /* a non-finite double is refused and changes nothing */
    v = pc_dbl(NAN);
    RC(PC_ENAN, pc_set(t->c, K("i"), &v, 0, 0));
    v = pc_dbl(INFINITY);
    RC(PC_ENAN, pc_set(t->c, K("i"), &v, 0, 0));
    RC(PC_ENAN, pc_set(t->c, K("newd"), &v, 0, 0));
    GET_IS(t->c, "i", pc_int(7));
    MISSING(t->c, "newd");

    /* pc_set_sec stores too */
    v = S("sec");
    OK(pc_set_sec(t->c, K("ks"), &v, 0, 0));
    GET_IS(t->c, "ks", S("sec"));
}

static void test_set_empty_and_binary(void **state)
{
    pt_store *t = *state;
    pc_val v = pc_mem(NULL, 0);
    OK(pc_set(t->c, K("e"), &v, 0, 0));
    GET_IS(t->c, "e", pc_mem("", 0));
    TYPE_IS(t->c, "e", PC_T_STRING);
    v = pc_mem("", 0);
    OK(pc_set(t->c, K("e2"), &v, 0, 0));

    pc_read *r = pt_rd(t->c);
    uint64_t len = 99;
    int ex = 0;
    OK(pc_strlen(r, K("e"), &len));
    assert_int_equal(len, 0);
    OK(pc_exists(r, K("e2"), &ex));
    assert_int_equal(ex, 1);
    pc_read_end(r);

    /* every byte value, NULs included */
    unsigned char bin[512];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7);
    bin[0] = 0;
    bin[511] = 0;
    v = pc_mem(bin, sizeof bin);
    OK(pc_set(t->c, K("bin"), &v, 0, 0));
    GET_IS(t->c, "bin", pc_mem(bin, sizeof bin));

    /* keys are bytes too: "a\0b" is not "a" */
    v = S("with nul");
    OK(pc_set(t->c, "a\0b", 3, &v, 0, 0));
    pt_check_get(__FILE__, __LINE__, t->c, "a\0b", 3, S("with nul"));
    MISSING(t->c, "a");

    /* keys of 1 and 250 bytes */
    char k250[PC_KEY_MAX];
    memset(k250, 'k', sizeof k250);
    v = S("long key");
    OK(pc_set(t->c, k250, sizeof k250, &v, 0, 0));
    pt_check_get(__FILE__, __LINE__, t->c, k250, sizeof k250, S("long key"));
    OK(pc_set(t->c, "\xff", 1, &v, 0, 0));
    pt_check_get(__FILE__, __LINE__, t->c, "\xff", 1, S("long key"));
}

static void test_set_max_value(void **state)
{
    pt_store *t = *state;
    static unsigned char big[PT_SMALL_MAX + 1];
    memset(big, 'x', sizeof big);
    pc_store_info info;
    OK(pc_store_info_get(t->c, &info));
    assert_int_equal(info.max_value, PT_SMALL_MAX);

    pc_val v = pc_mem(big, PT_SMALL_MAX);
    OK(pc_set(t->c, K("max"), &v, 0, 0));
    GET_IS(t->c, "max", pc_mem(big, PT_SMALL_MAX));

    v = pc_mem(big, PT_SMALL_MAX + 1);
    RC(PC_ETOOBIG, pc_set(t->c, K("max"), &v, 0, 0));
    RC(PC_ETOOBIG, pc_set(t->c, K("over"), &v, 0, 0));
    GET_IS(t->c, "max", pc_mem(big, PT_SMALL_MAX));
    MISSING(t->c, "over");

    /* and through getset */
    pc_val old;
    RC(PC_ETOOBIG, pc_getset(t->c, K("max"), &v, &old));
    GET_IS(t->c, "max", pc_mem(big, PT_SMALL_MAX));
}

/* ---- flags ---- */

static void test_set_nx_xx(void **state)
{
    pt_store *t = *state;
    pc_val a = S("a"), b = S("b");

    OK(pc_set(t->c, K("k"), &a, 0, PC_NX));
    GET_IS(t->c, "k", S("a"));
    RC(PC_EEXIST, pc_set(t->c, K("k"), &b, 0, PC_NX));
    GET_IS(t->c, "k", S("a"));

    RC(PC_ENOTFOUND, pc_set(t->c, K("x"), &b, 0, PC_XX));
    MISSING(t->c, "x");
    OK(pc_set(t->c, K("k"), &b, 0, PC_XX));
    GET_IS(t->c, "k", S("b"));

    RC(PC_EINVAL, pc_set(t->c, K("k"), &a, 0, PC_NX | PC_XX));
    GET_IS(t->c, "k", S("b"));

    /* a collection exists for NX and XX; XX replaces it */
    make_colls(t->c);
    RC(PC_EEXIST, pc_set(t->c, K("list"), &a, 0, PC_NX));
    TYPE_IS(t->c, "list", PC_T_LIST);
    OK(pc_set(t->c, K("list"), &a, 0, PC_XX));
    GET_IS(t->c, "list", S("a"));

    /* an expired key is missing for NX and XX */
    OK(pc_set(t->c, K("exp"), &a, 1, 0));
    pt_sleep_ms(5);
    RC(PC_ENOTFOUND, pc_set(t->c, K("exp"), &b, 0, PC_XX));
    MISSING(t->c, "exp");
    OK(pc_set(t->c, K("exp"), &b, 0, PC_NX));
    GET_IS(t->c, "exp", S("b"));
    assert_int_equal(pt_ttl(t->c, "exp"), -1);
}

static void test_set_keepttl(void **state)
{
    pt_store *t = *state;
    pc_val a = S("a"), b = S("b");

    OK(pc_set(t->c, K("k"), &a, 100000, 0));
    int64_t ttl = pt_ttl(t->c, "k");
    assert_true(ttl > 90000 && ttl <= 100000);

    OK(pc_set(t->c, K("k"), &b, 0, PC_KEEPTTL));
    GET_IS(t->c, "k", S("b"));
    ttl = pt_ttl(t->c, "k");
    assert_true(ttl > 90000 && ttl <= 100000);

    /* KEEPTTL with a TTL is refused */
    RC(PC_EINVAL, pc_set(t->c, K("k"), &a, 5000, PC_KEEPTTL));
    GET_IS(t->c, "k", S("b"));

    /* without KEEPTTL the TTL is replaced, or cleared */
    OK(pc_set(t->c, K("k"), &a, 50000, 0));
    ttl = pt_ttl(t->c, "k");
    assert_true(ttl > 40000 && ttl <= 50000);
    OK(pc_set(t->c, K("k"), &b, 0, 0));
    assert_int_equal(pt_ttl(t->c, "k"), -1);

    /* KEEPTTL on a key without a TTL, and on a missing key */
    OK(pc_set(t->c, K("k"), &a, 0, PC_KEEPTTL));
    assert_int_equal(pt_ttl(t->c, "k"), -1);
    OK(pc_set(t->c, K("new"), &a, 0, PC_KEEPTTL));
    assert_int_equal(pt_ttl(t->c, "new"), -1);
    GET_IS(t->c, "new", S("a"));

    /* KEEPTTL with XX */
    OK(pc_set(t->c, K("k"), &a, 30000, 0));
    OK(pc_set(t->c, K("k"), &b, 0, PC_KEEPTTL | PC_XX));
    ttl = pt_ttl(t->c, "k");
    assert_true(ttl > 20000 && ttl <= 30000);
}

/* ---- getset ---- */

static void test_getset(void **state)
{
    pt_store *t = *state;
    pc_val v = S("first"), old;

    old.kind = PC_INT;
    OK(pc_getset(t->c, K("k"), &v, &old));
    assert_int_equal(old.kind, PC_NONE);
    GET_IS(t->c, "k", S("first"));

    v = S("second");
    OK(pc_getset(t->c, K("k"), &v, &old));
    VAL_EQ(old, S("first"));
    GET_IS(t->c, "k", S("second"));

    /* numerics in and out */
    v = pc_int(5);
    OK(pc_getset(t->c, K("k"), &v, &old));
    VAL_EQ(old, S("second"));
    v = pc_dbl(1.25);
    OK(pc_getset(t->c, K("k"), &v, &old));
    VAL_EQ(old, pc_int(5));
    GET_IS(t->c, "k", pc_dbl(1.25));

    /* getset clears the TTL */
    v = S("ttl");
    OK(pc_set(t->c, K("t"), &v, 100000, 0));
    OK(pc_getset(t->c, K("t"), &v, &old));
    VAL_EQ(old, S("ttl"));
    assert_int_equal(pt_ttl(t->c, "t"), -1);

    /* an expired key is missing */
    OK(pc_set(t->c, K("exp"), &v, 1, 0));
    pt_sleep_ms(5);
    v = S("fresh");
    OK(pc_getset(t->c, K("exp"), &v, &old));
    assert_int_equal(old.kind, PC_NONE);
    GET_IS(t->c, "exp", S("fresh"));

    /* wrong type: refused, the collection stays */
    make_colls(t->c);
    for (size_t i = 0; i < 4; i++) {
        uint64_t ver = pt_version(t->c, coll_keys[i]);
        RC(PC_EWRONGTYPE, pc_getset(t->c, K(coll_keys[i]), &v, &old));
        TYPE_IS(t->c, coll_keys[i], coll_types[i]);
        assert_int_equal(pt_version(t->c, coll_keys[i]), ver);
    }

    /* old may be NULL */
    OK(pc_getset(t->c, K("k"), &v, NULL));
    GET_IS(t->c, "k", S("fresh"));
}

/* ---- append, setrange ---- */

static void test_append(void **state)
{
    pt_store *t = *state;
    uint64_t len = 0;

    OK(pc_append(t->c, K("k"), "Hello", 5, &len));
    assert_int_equal(len, 5);
    GET_IS(t->c, "k", S("Hello"));
    OK(pc_append(t->c, K("k"), " World", 6, &len));
    assert_int_equal(len, 11);
    GET_IS(t->c, "k", S("Hello World"));
    OK(pc_append(t->c, K("k"), "\0\1", 2, NULL));
    GET_IS(t->c, "k", pc_mem("Hello World\0\1", 13));

    /* grows past many pages */
    static char chunk[1000];
    memset(chunk, 'z', sizeof chunk);
    for (int i = 0; i < 50; i++)
        OK(pc_append(t->c, K("big"), chunk, sizeof chunk, &len));
    assert_int_equal(len, 50000);

    /* append keeps the TTL */
    OK(pc_set(t->c, K("t"), &(pc_val){.kind = PC_BYTES, .s = {"a", 1}}, 100000, 0));
    OK(pc_append(t->c, K("t"), "b", 1, &len));
    assert_int_equal(len, 2);
    GET_IS(t->c, "t", S("ab"));
    assert_true(pt_ttl(t->c, "t") > 90000);

    /* wrong types */
    pc_val n = pc_int(3);
    OK(pc_set(t->c, K("num"), &n, 0, 0));
    RC(PC_EWRONGTYPE, pc_append(t->c, K("num"), "x", 1, &len));
    GET_IS(t->c, "num", pc_int(3));
    make_colls(t->c);
    for (size_t i = 0; i < 4; i++) {
        RC(PC_EWRONGTYPE, pc_append(t->c, K(coll_keys[i]), "x", 1, &len));
        TYPE_IS(t->c, coll_keys[i], coll_types[i]);
    }
}

static void test_append_max(void **state)
{
    pt_store *t = *state;
    static char buf[PT_SMALL_MAX + 1];
    memset(buf, 'a', sizeof buf);
    uint64_t len = 0;

    OK(pc_append(t->c, K("k"), buf, PT_SMALL_MAX - 10, &len));
    OK(pc_append(t->c, K("k"), buf, 10, &len));
    assert_int_equal(len, PT_SMALL_MAX);
    RC(PC_ETOOBIG, pc_append(t->c, K("k"), "b", 1, &len));
    assert_int_equal(len, PT_SMALL_MAX);
    GET_IS(t->c, "k", pc_mem(buf, PT_SMALL_MAX));

    RC(PC_ETOOBIG, pc_append(t->c, K("new"), buf, PT_SMALL_MAX + 1, &len));
    MISSING(t->c, "new");
}

static void test_setrange(void **state)
{
    pt_store *t = *state;
    uint64_t len = 0;
    pc_val v = S("Hello World");

    OK(pc_set(t->c, K("k"), &v, 0, 0));
    OK(pc_setrange(t->c, K("k"), 6, "Redis", 5, &len));
    assert_int_equal(len, 11);
    GET_IS(t->c, "k", S("Hello Redis"));

    /* past the end: zero padding */
    OK(pc_setrange(t->c, K("k"), 13, "!", 1, &len));
    assert_int_equal(len, 14);
    GET_IS(t->c, "k", pc_mem("Hello Redis\0\0!", 14));

    /* a missing key is created, padded */
    OK(pc_setrange(t->c, K("new"), 5, "x", 1, &len));
    assert_int_equal(len, 6);
    GET_IS(t->c, "new", pc_mem("\0\0\0\0\0x", 6));
    OK(pc_setrange(t->c, K("new0"), 0, "ab", 2, NULL));
    GET_IS(t->c, "new0", S("ab"));

    /* empty data: a missing key stays missing, an existing one is unchanged */
    len = 99;
    OK(pc_setrange(t->c, K("none"), 10, "", 0, &len));
    assert_int_equal(len, 0);
    MISSING(t->c, "none");
    OK(pc_setrange(t->c, K("k"), 100, NULL, 0, &len));
    assert_int_equal(len, 14);
    GET_IS(t->c, "k", pc_mem("Hello Redis\0\0!", 14));

    /* setrange keeps the TTL */
    OK(pc_set(t->c, K("t"), &v, 100000, 0));
    OK(pc_setrange(t->c, K("t"), 0, "J", 1, NULL));
    GET_IS(t->c, "t", S("Jello World"));
    assert_true(pt_ttl(t->c, "t") > 90000);

    /* wrong types */
    v = pc_int(1);
    OK(pc_set(t->c, K("num"), &v, 0, 0));
    RC(PC_EWRONGTYPE, pc_setrange(t->c, K("num"), 0, "x", 1, &len));
    GET_IS(t->c, "num", pc_int(1));
    make_colls(t->c);
    for (size_t i = 0; i < 4; i++) {
        RC(PC_EWRONGTYPE, pc_setrange(t->c, K(coll_keys[i]), 0, "x", 1, &len));
        TYPE_IS(t->c, coll_keys[i], coll_types[i]);
    }
}

static void test_setrange_max(void **state)
{
    pt_store *t = *state;
    uint64_t len = 0;
    OK(pc_setrange(t->c, K("k"), PT_SMALL_MAX - 1, "x", 1, &len));
    assert_int_equal(len, PT_SMALL_MAX);
    RC(PC_ETOOBIG, pc_setrange(t->c, K("k"), PT_SMALL_MAX, "y", 1, &len));
    RC(PC_ETOOBIG, pc_setrange(t->c, K("k2"), PT_SMALL_MAX - 1, "yz", 2, &len));
    RC(PC_ETOOBIG, pc_setrange(t->c, K("k2"), UINT64_MAX, "y", 1, &len));
    MISSING(t->c, "k2");
    pc_read *r = pt_rd(t->c);
    OK(pc_strlen(r, K("k"), &len));
    assert_int_equal(len, PT_SMALL_MAX);
    pc_read_end(r);
}

/* ---- strlen, getrange ---- */

static void test_strlen(void **state)
{
    pt_store *t = *state;
    pc_val v = S("four");
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    v = pc_int(1234);
    OK(pc_set(t->c, K("num"), &v, 0, 0));
    make_colls(t->c);

    pc_read *r = pt_rd(t->c);
    uint64_t len = 0;
    OK(pc_strlen(r, K("k"), &len));
    assert_int_equal(len, 4);
    RC(PC_ENOTFOUND, pc_strlen(r, K("missing"), &len));
    RC(PC_EWRONGTYPE, pc_strlen(r, K("num"), &len));
    for (size_t i = 0; i < 4; i++)
        RC(PC_EWRONGTYPE, pc_strlen(r, K(coll_keys[i]), &len));
    pc_read_end(r);
}

/* GETRANGE of "This is a string" from start to end is want. */
static void getrange_is(const char *file, int line, pc_read *r, int64_t start, int64_t end,
                        const char *want)
{
    pc_val out;
    memset(&out, 0, sizeof out);
    pt_check_rc(file, line, "pc_getrange", pc_getrange(r, K("s"), start, end, &out), 0);
    char what[64];
    snprintf(what, sizeof what, "GETRANGE s %" PRId64 " %" PRId64, start, end);
    pt_check_val(file, line, what, out, pc_str(want));
}
#define GETRANGE_IS(r, start, end, want) \
    getrange_is(__FILE__, __LINE__, (r), (start), (end), (want))

static void test_getrange(void **state)
{
    pt_store *t = *state;
    pc_val v = S("This is a string"); /* 16 bytes */
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    v = pc_mem("", 0);
    OK(pc_set(t->c, K("empty"), &v, 0, 0));
    v = pc_int(12345);
    OK(pc_set(t->c, K("num"), &v, 0, 0));
    make_colls(t->c);

    pc_read *r = pt_rd(t->c);
    /* the examples of the Redis GETRANGE page */
    GETRANGE_IS(r, 0, 3, "This");
    GETRANGE_IS(r, -3, -1, "ing");
    GETRANGE_IS(r, 0, -1, "This is a string");
    GETRANGE_IS(r, 10, 100, "string");
    /* more of Redis's index rules (t_string.c getrangeCommand) */
    GETRANGE_IS(r, 0, 0, "T");
    GETRANGE_IS(r, 15, 15, "g");
    GETRANGE_IS(r, 16, 20, "");
    GETRANGE_IS(r, 100, 200, "");
    GETRANGE_IS(r, 5, 3, "");
    GETRANGE_IS(r, -1, -3, "");
    GETRANGE_IS(r, -100, 3, "This");
    GETRANGE_IS(r, -16, -16, "T");
    GETRANGE_IS(r, -100, -1, "This is a string");
    GETRANGE_IS(r, 3, -14, "");
    GETRANGE_IS(r, INT64_MIN, INT64_MAX, "This is a string");

    pc_val out;
    OK(pc_getrange(r, K("empty"), 0, -1, &out));
    VAL_EQ(out, pc_mem("", 0));
    RC(PC_ENOTFOUND, pc_getrange(r, K("missing"), 0, -1, &out));
    RC(PC_EWRONGTYPE, pc_getrange(r, K("num"), 0, -1, &out));
    for (size_t i = 0; i < 4; i++)
        RC(PC_EWRONGTYPE, pc_getrange(r, K(coll_keys[i]), 0, -1, &out));

    /* An end before the start of the string is clamped to 0, not an empty
     * range (Redis getrangeCommand: "if (end < 0) end = 0"), unlike LRANGE. */
    GETRANGE_IS(r, 0, -100, "T");
    GETRANGE_IS(r, -100, -100, "T");
    GETRANGE_IS(r, -100, -17, "T");
    pc_read_end(r);
}

/* ---- incrby, incrbyfloat ---- */

static void test_incrby(void **state)
{
    pt_store *t = *state;
    int64_t now = 0;

    OK(pc_incrby(t->c, K("n"), 5, &now));
    assert_int_equal(now, 5);
    GET_IS(t->c, "n", pc_int(5));
    TYPE_IS(t->c, "n", PC_T_NUMERIC);
    OK(pc_incrby(t->c, K("n"), -12, &now));
    assert_int_equal(now, -7);
    OK(pc_incrby(t->c, K("n"), 0, NULL));
    GET_IS(t->c, "n", pc_int(-7));
    OK(pc_incrby(t->c, K("zero"), 0, &now));
    assert_int_equal(now, 0);
    GET_IS(t->c, "zero", pc_int(0));

    /* overflow at both ends: refused, value unchanged */
    pc_val v = pc_int(INT64_MAX - 1);
    OK(pc_set(t->c, K("big"), &v, 0, 0));
    OK(pc_incrby(t->c, K("big"), 1, &now));
    assert_true(now == INT64_MAX);
    now = 17;
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("big"), 1, &now));
    assert_int_equal(now, 17);
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("big"), INT64_MAX, &now));
    GET_IS(t->c, "big", pc_int(INT64_MAX));
    OK(pc_incrby(t->c, K("big"), INT64_MIN, &now));
    assert_int_equal(now, -1);

    v = pc_int(INT64_MIN + 1);
    OK(pc_set(t->c, K("small"), &v, 0, 0));
    OK(pc_incrby(t->c, K("small"), -1, &now));
    assert_true(now == INT64_MIN);
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("small"), -1, &now));
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("small"), INT64_MIN, &now));
    GET_IS(t->c, "small", pc_int(INT64_MIN));

    /* a missing key counts as 0: INT64_MIN fits */
    OK(pc_incrby(t->c, K("fresh"), INT64_MIN, &now));
    GET_IS(t->c, "fresh", pc_int(INT64_MIN));

    /* a double Numeric is not an integer */
    v = pc_dbl(1.5);
    OK(pc_set(t->c, K("d"), &v, 0, 0));
    RC(PC_ENOTINT, pc_incrby(t->c, K("d"), 1, &now));
    GET_IS(t->c, "d", pc_dbl(1.5));
    v = pc_dbl(2.0);
    OK(pc_set(t->c, K("d2"), &v, 0, 0));
    RC(PC_ENOTINT, pc_incrby(t->c, K("d2"), 1, &now));
    GET_IS(t->c, "d2", pc_dbl(2.0));

    /* an expired Numeric counts as 0 */
    v = pc_int(100);
    OK(pc_set(t->c, K("exp"), &v, 1, 0));
    pt_sleep_ms(5);
    OK(pc_incrby(t->c, K("exp"), 1, &now));
    assert_int_equal(now, 1);
    assert_int_equal(pt_ttl(t->c, "exp"), -1);
}

static void test_incrbyfloat(void **state)
{
    pt_store *t = *state;
    double now = 0;

    OK(pc_incrbyfloat(t->c, K("f"), 1.5, &now));
    assert_true(now == 1.5);
    GET_IS(t->c, "f", pc_dbl(1.5));
    OK(pc_incrbyfloat(t->c, K("f"), 0.5, &now));
    assert_true(now == 2.0);
    GET_IS(t->c, "f", pc_dbl(2.0)); /* stays a double */

    /* an integer becomes a double */
    pc_val v = pc_int(10);
    OK(pc_set(t->c, K("i"), &v, 0, 0));
    OK(pc_incrbyfloat(t->c, K("i"), 0.25, &now));
    assert_true(now == 10.25);
    GET_IS(t->c, "i", pc_dbl(10.25));
    OK(pc_set(t->c, K("j"), &v, 0, 0));
    OK(pc_incrbyfloat(t->c, K("j"), 0.0, NULL));
    GET_IS(t->c, "j", pc_dbl(10.0));

    /* non-finite arguments: refused, nothing created or changed */
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("i"), NAN, &now));
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("i"), INFINITY, &now));
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("i"), -INFINITY, &now));
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("nan"), NAN, &now));
    GET_IS(t->c, "i", pc_dbl(10.25));
    MISSING(t->c, "nan");

    /* a result that overflows to infinity: refused, value unchanged */
    v = pc_dbl(DBL_MAX);
    OK(pc_set(t->c, K("max"), &v, 0, 0));
    now = 3;
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("max"), DBL_MAX, &now));
    assert_true(now == 3);
    GET_IS(t->c, "max", pc_dbl(DBL_MAX));
    v = pc_dbl(-DBL_MAX);
    OK(pc_set(t->c, K("min"), &v, 0, 0));
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("min"), -DBL_MAX, &now));
    GET_IS(t->c, "min", pc_dbl(-DBL_MAX));

    /* incrbyfloat keeps the TTL */
    v = pc_int(1);
    OK(pc_set(t->c, K("t"), &v, 100000, 0));
    OK(pc_incrbyfloat(t->c, K("t"), 1.0, &now));
    assert_true(pt_ttl(t->c, "t") > 90000);
}

static void test_incr_wrong_type(void **state)
{
    pt_store *t = *state;
    pc_val v = S("12 apples");
    int64_t in;
    double dn;
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    RC(PC_ENOTINT, pc_incrby(t->c, K("s"), 1, &in));
    RC(PC_ENOTNUM, pc_incrbyfloat(t->c, K("s"), 1.0, &dn));
    GET_IS(t->c, "s", S("12 apples"));

    make_colls(t->c);
    for (size_t i = 0; i < 4; i++) {
        uint64_t ver = pt_version(t->c, coll_keys[i]);
        RC(PC_EWRONGTYPE, pc_incrby(t->c, K(coll_keys[i]), 1, &in));
        RC(PC_EWRONGTYPE, pc_incrbyfloat(t->c, K(coll_keys[i]), 1.0, &dn));
        TYPE_IS(t->c, coll_keys[i], coll_types[i]);
        assert_int_equal(pt_version(t->c, coll_keys[i]), ver);
    }
}

static void test_get_wrong_type(void **state)
{
    pt_store *t = *state;
    make_colls(t->c);
    pc_read *r = pt_rd(t->c);
    for (size_t i = 0; i < 4; i++) {
        pc_val out;
        RC(PC_EWRONGTYPE, pc_get(r, K(coll_keys[i]), &out));
    }
    pc_read_end(r);
    /* pc_set replaces a collection */
    pc_val v = S("now a string");
    for (size_t i = 0; i < 4; i++) {
        OK(pc_set(t->c, K(coll_keys[i]), &v, 0, 0));
        GET_IS(t->c, coll_keys[i], S("now a string"));
    }
}

/* ---- mget, mset ---- */

static void test_mget(void **state)
{
    pt_store *t = *state;
    pc_val v = S("one");
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    v = pc_int(2);
    OK(pc_set(t->c, K("i"), &v, 0, 0));
    v = pc_dbl(3.5);
    OK(pc_set(t->c, K("d"), &v, 0, 0));
    v = S("gone");
    OK(pc_set(t->c, K("exp"), &v, 1, 0));
    make_colls(t->c);
    pt_sleep_ms(5);

    pc_bytes keys[] = {pc_b("s", 1),     pc_b("missing", 7), pc_b("i", 1),   pc_b("list", 4),
                       pc_b("exp", 3),   pc_b("d", 1),       pc_b("map", 3), pc_b("set", 3),
                       pc_b("queue", 5), pc_b("s", 1)};
    const size_t n = sizeof keys / sizeof keys[0];
    pc_val want[] = {S("one"),          {.kind = PC_NONE}, pc_int(2),         {.kind = PC_NONE},
                     {.kind = PC_NONE}, pc_dbl(3.5),       {.kind = PC_NONE}, {.kind = PC_NONE},
                     {.kind = PC_NONE}, S("one")};
    pc_val out[10];
    size_t nfound = 99;
    pc_read *r = pt_rd(t->c);
    for (size_t i = 0; i < n; i++)
        out[i].kind = PC_BOOL;
    OK(pc_mget(r, keys, n, out, &nfound));
    assert_int_equal(nfound, 4);
    for (size_t i = 0; i < n; i++)
        VAL_EQ(out[i], want[i]);

    /* nfound may be NULL; n may be 0 */
    OK(pc_mget(r, keys, n, out, NULL));
    VAL_EQ(out[0], S("one"));
    OK(pc_mget(r, keys, 0, out, &nfound));
    assert_int_equal(nfound, 0);

    /* a bad key: PC_EKEY */
    pc_bytes bad[] = {pc_b("s", 1), pc_b("", 0)};
    RC(PC_EKEY, pc_mget(r, bad, 2, out, &nfound));
    pc_read_end(r);
}

static void test_mset(void **state)
{
    pt_store *t = *state;
    pc_val v = S("old");
    OK(pc_set(t->c, K("b"), &v, 100000, 0));

    pc_bytes keys[] = {pc_b("a", 1), pc_b("b", 1), pc_b("c", 1)};
    pc_val vals[] = {S("A"), pc_int(2), pc_dbl(3.5)};
    OK(pc_mset(t->c, keys, vals, 3));
    GET_IS(t->c, "a", S("A"));
    GET_IS(t->c, "b", pc_int(2));
    GET_IS(t->c, "c", pc_dbl(3.5));
    assert_int_equal(pt_ttl(t->c, "b"), -1); /* as pc_set with no TTL */

    /* mset replaces collections */
    make_colls(t->c);
    pc_bytes ck[] = {pc_b("list", 4), pc_b("set", 3)};
    pc_val cv[] = {S("L"), S("S")};
    OK(pc_mset(t->c, ck, cv, 2));
    GET_IS(t->c, "list", S("L"));
    GET_IS(t->c, "set", S("S"));

    /* a bad key or value anywhere: refused, nothing written */
    pc_bytes k2[] = {pc_b("x", 1), pc_b("", 0), pc_b("y", 1)};
    pc_val v2[] = {S("X"), S("?"), S("Y")};
    RC(PC_EKEY, pc_mset(t->c, k2, v2, 3));
    pc_bytes k3[] = {pc_b("x", 1), pc_b("a", 1), pc_b("y", 1)};
    pc_val v3[] = {S("X"), pc_dbl(NAN), S("Y")};
    RC(PC_ENAN, pc_mset(t->c, k3, v3, 3));
    pc_val v4[] = {S("X"), pc_bool(true), S("Y")};
    RC(PC_EINVAL, pc_mset(t->c, k3, v4, 3));
    MISSING(t->c, "x");
    MISSING(t->c, "y");
    GET_IS(t->c, "a", S("A"));

    OK(pc_mset(t->c, keys, vals, 0));
}

static void test_mset_too_big(void **state)
{
    pt_store *t = *state;
    static char big[PT_SMALL_MAX + 1];
    memset(big, 'b', sizeof big);
    pc_bytes keys[] = {pc_b("a", 1), pc_b("b", 1)};
    pc_val vals[] = {S("A"), pc_mem(big, sizeof big)};
    RC(PC_ETOOBIG, pc_mset(t->c, keys, vals, 2));
    MISSING(t->c, "a");
    MISSING(t->c, "b");
    vals[1] = pc_mem(big, PT_SMALL_MAX);
    OK(pc_mset(t->c, keys, vals, 2));
    GET_IS(t->c, "b", pc_mem(big, PT_SMALL_MAX));
}

/* pc_mset across the shards of a four-shard store sets every key. */
static void test_mset_shards(void **state)
{
    pt_store *t = *state;
    enum { N = 40 };
    char names[N][8];
    pc_bytes keys[N];
    pc_val vals[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        keys[i] = pc_b(names[i], strlen(names[i]));
        vals[i] = pc_int(i * 10);
    }
    OK(pc_mset(t->c, keys, vals, N));
    pc_read *r = pt_rd(t->c);
    pc_val out[N];
    size_t nfound = 0;
    OK(pc_mget(r, keys, N, out, &nfound));
    assert_int_equal(nfound, N);
    for (int i = 0; i < N; i++)
        VAL_EQ(out[i], pc_int(i * 10));
    pc_read_end(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_set_get),
        PT_STORE_TEST(test_set_empty_and_binary),
        PT_STORE_TEST_SMALL(test_set_max_value),
        PT_STORE_TEST(test_set_nx_xx),
        PT_STORE_TEST(test_set_keepttl),
        PT_STORE_TEST(test_getset),
        PT_STORE_TEST(test_append),
        PT_STORE_TEST_SMALL(test_append_max),
        PT_STORE_TEST(test_setrange),
        PT_STORE_TEST_SMALL(test_setrange_max),
        PT_STORE_TEST(test_strlen),
        PT_STORE_TEST(test_getrange),
        PT_STORE_TEST(test_incrby),
        PT_STORE_TEST(test_incrbyfloat),
        PT_STORE_TEST(test_incr_wrong_type),
        PT_STORE_TEST(test_get_wrong_type),
        PT_STORE_TEST(test_mget),
        PT_STORE_TEST(test_mset),
        PT_STORE_TEST_SMALL(test_mset_too_big),
        PT_STORE_TEST_SHARDS4(test_mset_shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
