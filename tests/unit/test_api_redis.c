/*
 * test_api_redis.c - the calls that Redis users reach for (issue 13):
 * numbers held in Strings for the counters, pc_mget_typed, multi-key
 * pc_del_keys / pc_exists_keys / pc_touch, pc_getdel, pc_getex,
 * pc_expireat / pc_expiretime, pc_hsetnx, pc_hstrlen, pc_lpos, pc_linsert,
 * pc_lmove, pc_smove, pc_smismember, pc_srandmember, pc_randomkey,
 * pc_dbsize, pc_rename, and pc_last_error's messages.  Bad input changes
 * nothing; two-key calls refuse keys of different shards.
 */
#include <float.h>
#include <math.h>

#include "../../shm/record.h"
#include "pctest.h"

#define S(s) pc_str(s)
#define F(s) pc_b((s), strlen(s))
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Does pc_last_error(c) contain want? */
#define ERR_HAS(c, want)                                                                      \
    CHECK(strstr(pc_last_error(c), (want)) != NULL, "pc_last_error: \"%s\", expected \"%s\"", \
          pc_last_error(c), (want))

/* Two keys of distinct shards of an n-shard store into a and b. */
static void keys_apart(unsigned n, char *a, char *b)
{
    strcpy(a, "k0");
    for (int i = 1; i < 1000; i++) {
        sprintf(b, "k%d", i);
        if (pcs_shard_of(n, a, strlen(a)) != pcs_shard_of(n, b, strlen(b)))
            return;
    }
    fail_msg("no two keys in different shards");
}

static void list_is(pc_client *c, const char *key, const pc_val *want, size_t n)
{
    LIST_IS(c, key, want, n);
}

/* ---- numbers in Strings ---- */

static void test_incr_string_numbers(void **state)
{
    pt_store *t = *state;
    pc_val v = S("10");
    int64_t now = 0;
    double d = 0;
    OK(pc_set(t->c, K("n"), &v, 100000, 0));
    OK(pc_incrby(t->c, K("n"), 5, &now));
    EQ(now, 15);
    GET_IS(t->c, "n", pc_int(15));
    TYPE_IS(t->c, "n", PC_T_NUMERIC);
    assert_true(pt_ttl(t->c, "n") > 90000); /* the TTL stays */

    /* canonical integers only, as Redis reads them */
    static const char *const ints[] = {"0", "-1", "9223372036854775806", "-9223372036854775808"};
    static const int64_t vals[] = {0, -1, INT64_MAX - 1, INT64_MIN};
    for (size_t i = 0; i < NELEM(ints); i++) {
        v = S(ints[i]);
        OK(pc_set(t->c, K("i"), &v, 0, 0));
        OK(pc_incrby(t->c, K("i"), 1, &now));
        EQ(now, vals[i] + 1);
    }
    static const char *const bad[] = {"",
                                      " 1",
                                      "1 ",
                                      "+1",
                                      "01",
                                      "-0",
                                      "-",
                                      "1e3",
                                      "1.0",
                                      "0x10",
                                      "abc",
                                      "9223372036854775808",
                                      "-9223372036854775809"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        v = S(bad[i]);
        OK(pc_set(t->c, K("b"), &v, 0, 0));
        uint64_t ver = pt_version(t->c, "b");
        RC(PC_ENOTINT, pc_incrby(t->c, K("b"), 1, &now));
        GET_IS(t->c, "b", S(bad[i]));
        assert_int_equal(pt_version(t->c, "b"), ver);
    }
    ERR_HAS(t->c, "pc_incrby: value is not an integer");
    ERR_HAS(t->c, "canonical form");
    ERR_HAS(t->c, "(PC_ENOTINT)");
    v = S("9223372036854775807");
    OK(pc_set(t->c, K("max"), &v, 0, 0));
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("max"), 1, &now));
    GET_IS(t->c, "max", S("9223372036854775807"));

    /* incrbyfloat: integers and decimal numbers */
    static const char *const nums[] = {"10", "2.5", "-1e3", ".5", "5.", "1E2", "-0.0"};
    static const double nvals[] = {10, 2.5, -1000, 0.5, 5, 100, 0};
    for (size_t i = 0; i < NELEM(nums); i++) {
        v = S(nums[i]);
        OK(pc_set(t->c, K("f"), &v, 0, 0));
        OK(pc_incrbyfloat(t->c, K("f"), 0.25, &d));
        assert_true(d == nvals[i] + 0.25);
        GET_IS(t->c, "f", pc_dbl(nvals[i] + 0.25));
    }
    static const char *const nan_[] = {"inf",  "nan", "0x1p3", "1e-400", "1e400", "+1",
                                       "1.5.", "e5",  ".",     "- 1",    "1e",    ""};
    for (size_t i = 0; i < NELEM(nan_); i++) {
        v = S(nan_[i]);
        OK(pc_set(t->c, K("g"), &v, 0, 0));
        RC(PC_ENOTNUM, pc_incrbyfloat(t->c, K("g"), 1.0, &d));
        GET_IS(t->c, "g", S(nan_[i]));
    }

    /* map fields */
    pc_bytes f[] = {F("age"), F("w"), F("x")};
    pc_val fv[] = {S("27"), S("1.5"), S("x")};
    OK(pc_hset(t->c, K("h"), f, fv, 3, NULL));
    OK(pc_hincrby(t->c, K("h"), K("age"), 1, &now));
    EQ(now, 28);
    OK(pc_hincrbyfloat(t->c, K("h"), K("w"), 0.5, &d));
    assert_true(d == 2.0);
    OK(pc_hincrbyfloat(t->c, K("h"), K("age"), 0.5, &d));
    assert_true(d == 28.5);
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("x"), 1, &now));
    RC(PC_ENOTNUM, pc_hincrbyfloat(t->c, K("h"), K("x"), 1, &d));
    pc_read *r = pt_rd(t->c);
    pc_val got;
    OK(pc_hget(r, K("h"), K("age"), &got));
    VAL_EQ(got, pc_dbl(28.5));
    OK(pc_hget(r, K("h"), K("x"), &got));
    VAL_EQ(got, S("x"));
    pc_read_end(r);
}

/* ---- reads ---- */

static void test_mget_typed(void **state)
{
    pt_store *t = *state;
    pc_val v = S("str"), n = pc_dbl(1.5), one = pc_int(1);
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    OK(pc_set(t->c, K("n"), &n, 0, 0));
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    OK(pc_set(t->c, K("gone"), &v, 1, 0));
    pt_sleep_ms(5);
    pc_bytes keys[] = {F("s"), F("missing"), F("n"), F("l"), F("gone"), F("s")};
    pc_val out[NELEM(keys)];
    pc_type types[NELEM(keys)];
    size_t found = 99;
    pc_read *r = pt_rd(t->c);
    OK(pc_mget_typed(r, keys, NELEM(keys), out, types, &found));
    EQ(found, 3);
    static const pc_type want[] = {PC_T_STRING, PC_T_NONE, PC_T_NUMERIC,
                                   PC_T_LIST,   PC_T_NONE, PC_T_STRING};
    for (size_t i = 0; i < NELEM(keys); i++)
        assert_int_equal(types[i], want[i]);
    VAL_EQ(out[0], S("str"));
    assert_int_equal(out[1].kind, PC_NONE);
    VAL_EQ(out[2], pc_dbl(1.5));
    assert_int_equal(out[3].kind, PC_NONE);
    OK(pc_mget_typed(r, keys, NELEM(keys), out, NULL, NULL));
    /* a bad key: nothing filled */
    pc_bytes bad[] = {F("s"), pc_b("", 0)};
    types[0] = PC_T_QUEUE;
    RC(PC_EKEY, pc_mget_typed(r, bad, 2, out, types, &found));
    assert_int_equal(types[0], PC_T_QUEUE);
    ERR_HAS(t->c, "keys[1] is 0 bytes");
    RC(PC_EINVAL, pc_mget_typed(r, keys, 1, NULL, types, NULL));
    OK(pc_mget_typed(r, NULL, 0, NULL, NULL, &found));
    EQ(found, 0);
    pc_read_end(r);
    RC(PC_EINVAL, pc_mget_typed(NULL, keys, 1, out, types, NULL));
}

static void test_expiretime(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v");
    int set = -1;
    int64_t at = 0, now = pt_wall_ms();
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    pc_read *r = pt_rd(t->c);
    OK(pc_expiretime(r, K("k"), &at));
    assert_int_equal(at, -1);
    RC(PC_ENOTFOUND, pc_expiretime(r, K("nope"), &at));
    RC(PC_EINVAL, pc_expiretime(r, K("k"), NULL));
    pc_read_end(r);

    int64_t when = now + 3600 * 1000;
    OK(pc_expireat(t->c, K("k"), when, &set));
    assert_int_equal(set, 1);
    r = pt_rd(t->c);
    OK(pc_expiretime(r, K("k"), &at));
    assert_int_equal(at, when);
    pc_read_end(r);
    OK(pc_expireat(t->c, K("nope"), when, &set));
    assert_int_equal(set, 0);
    MISSING(t->c, "nope");

    /* bad times change nothing */
    RC(PC_EINVAL, pc_expireat(t->c, K("k"), -1, &set));
    ERR_HAS(t->c, "at_ms must be 0 or more");
    RC(PC_EINVAL, pc_expireat(t->c, K("k"), now + PC_TTL_MAX_MS + 100000, &set));
    r = pt_rd(t->c);
    OK(pc_expiretime(r, K("k"), &at));
    assert_int_equal(at, when);
    pc_read_end(r);

    /* a time past deletes the key, as Redis does */
    OK(pc_expireat(t->c, K("k"), now - 1000, &set));
    assert_int_equal(set, 1);
    MISSING(t->c, "k");
    pc_val l = pc_int(1);
    OK(pc_rpush(t->c, K("l"), &l, 1, NULL));
    OK(pc_expireat(t->c, K("l"), 0, &set));
    MISSING(t->c, "l");
    assert_int_equal(pt_nkeys(t->c, NULL), 0);
}

static void test_hsetnx_hstrlen(void **state)
{
    pt_store *t = *state;
    int set = -1;
    pc_val v = S("hello"), i = pc_int(7);
    OK(pc_hsetnx(t->c, K("h"), K("f"), &v, &set));
    assert_int_equal(set, 1);
    uint64_t ver = pt_version(t->c, "h");
    pc_val other = S("other");
    OK(pc_hsetnx(t->c, K("h"), K("f"), &other, &set));
    assert_int_equal(set, 0);
    assert_int_equal(pt_version(t->c, "h"), ver); /* nothing written */
    OK(pc_hsetnx(t->c, K("h"), K("n"), &i, NULL));
    pc_read *r = pt_rd(t->c);
    uint64_t len = 99, hl = 0;
    pc_val got;
    OK(pc_hget(r, K("h"), K("f"), &got));
    VAL_EQ(got, S("hello"));
    OK(pc_hlen(r, K("h"), &hl));
    EQ(hl, 2);
    OK(pc_hstrlen(r, K("h"), K("f"), &len));
    EQ(len, 5);
    RC(PC_EWRONGTYPE, pc_hstrlen(r, K("h"), K("n"), &len));
    RC(PC_ENOTFOUND, pc_hstrlen(r, K("h"), K("nope"), &len));
    RC(PC_ENOTFOUND, pc_hstrlen(r, K("nope"), K("f"), &len));
    pc_read_end(r);
    /* wrong type, bad arguments */
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    RC(PC_EWRONGTYPE, pc_hsetnx(t->c, K("s"), K("f"), &v, &set));
    RC(PC_EINVAL, pc_hsetnx(t->c, K("h"), K("g"), NULL, &set));
    pc_val nan = pc_dbl(NAN);
    RC(PC_ENAN, pc_hsetnx(t->c, K("h"), K("g"), &nan, &set));
    GET_IS(t->c, "s", S("hello"));
    r = pt_rd(t->c);
    RC(PC_EWRONGTYPE, pc_hstrlen(r, K("s"), K("f"), &len));
    OK(pc_hlen(r, K("h"), &hl));
    EQ(hl, 2);
    pc_read_end(r);
}

static void test_lpos(void **state)
{
    pt_store *t = *state;
    /* a b c 1 2 3 c "1" c */
    pc_val l[] = {S("a"), S("b"), S("c"), pc_int(1), pc_int(2), pc_int(3), S("c"), S("1"), S("c")};
    OK(pc_rpush(t->c, K("l"), l, NELEM(l), NULL));
    pc_read *r = pt_rd(t->c);
    uint64_t pos[16];
    size_t n = 99;
    pc_val c = S("c");
    OK(pc_lpos(r, K("l"), &c, 1, 0, pos, 16, &n));
    EQ(n, 3);
    EQ(pos[0], 2);
    EQ(pos[1], 6);
    EQ(pos[2], 8);
    OK(pc_lpos(r, K("l"), &c, 2, 0, pos, 1, &n)); /* RANK 2 */
    EQ(n, 1);
    EQ(pos[0], 6);
    OK(pc_lpos(r, K("l"), &c, -1, 0, pos, 2, &n)); /* from the tail */
    EQ(n, 2);
    EQ(pos[0], 8);
    EQ(pos[1], 6);
    OK(pc_lpos(r, K("l"), &c, 1, 3, pos, 16, &n)); /* MAXLEN 3 */
    EQ(n, 1);
    OK(pc_lpos(r, K("l"), &c, -1, 1, pos, 16, &n));
    EQ(n, 1);
    OK(pc_lpos(r, K("l"), &c, 4, 0, pos, 16, &n));
    EQ(n, 0);
    pc_val one = pc_int(1), sone = S("1");
    OK(pc_lpos(r, K("l"), &one, 1, 0, pos, 16, &n)); /* 1 is not "1" */
    EQ(n, 1);
    EQ(pos[0], 3);
    OK(pc_lpos(r, K("l"), &sone, 1, 0, pos, 16, &n));
    EQ(n, 1);
    EQ(pos[0], 7);
    OK(pc_lpos(r, K("nope"), &c, 1, 0, pos, 16, &n));
    EQ(n, 0);
    OK(pc_lpos(r, K("l"), &c, 1, 0, NULL, 0, &n));
    EQ(n, 0);
    RC(PC_EINVAL, pc_lpos(r, K("l"), &c, 0, 0, pos, 16, &n));
    ERR_HAS(t->c, "rank must not be 0");
    RC(PC_EINVAL, pc_lpos(r, K("l"), &c, INT64_MIN, 0, pos, 16, &n));
    RC(PC_EINVAL, pc_lpos(r, K("l"), NULL, 1, 0, pos, 16, &n));
    pc_read_end(r);
    pc_val s = S("s");
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    r = pt_rd(t->c);
    RC(PC_EWRONGTYPE, pc_lpos(r, K("s"), &c, 1, 0, pos, 16, &n));
    pc_read_end(r);
}

static void test_smismember(void **state)
{
    pt_store *t = *state;
    pc_val m[] = {S("a"), pc_int(1), pc_bool(true)};
    OK(pc_sadd(t->c, K("s"), m, 3, NULL));
    pc_val ask[] = {S("a"), S("1"), pc_int(1), S("z"), pc_bool(true)};
    int out[NELEM(ask)];
    pc_read *r = pt_rd(t->c);
    OK(pc_smismember(r, K("s"), ask, NELEM(ask), out));
    static const int want[] = {1, 0, 1, 0, 1};
    for (size_t i = 0; i < NELEM(ask); i++)
        assert_int_equal(out[i], want[i]);
    OK(pc_smismember(r, K("nope"), ask, NELEM(ask), out));
    for (size_t i = 0; i < NELEM(ask); i++)
        assert_int_equal(out[i], 0);
    RC(PC_EINVAL, pc_smismember(r, K("s"), NULL, 1, out));
    pc_read_end(r);
}

/* Whether v is one of the n members of set key. */
static bool is_member(pc_client *c, const char *key, const pc_val *v)
{
    pc_read *r = pt_rd(c);
    int yes = 0;
    OK(pc_sismember(r, K(key), v, &yes));
    pc_read_end(r);
    return yes;
}

static void srand_check(pt_store *t, const char *key, uint64_t card, int64_t count, size_t max)
{
    pc_val *out = calloc(max ? max : 1, sizeof *out);
    size_t n = 0;
    pc_read *r = pt_rd(t->c);
    OK(pc_srandmember(r, K(key), count, out, max, &n));
    uint64_t want =
        count > 0 ? ((uint64_t)count < card ? (uint64_t)count : card) : (uint64_t)(-count);
    if (want > max)
        want = max;
    EQ(n, want);
    for (size_t i = 0; i < n; i++) {
        int yes = 0;
        OK(pc_sismember(r, K(key), &out[i], &yes));
        CHECK(yes, "srandmember(%s, %lld) gave a non-member", key, (long long)count);
        if (count > 0)
            for (size_t j = 0; j < i; j++)
                CHECK(!pt_val_eq(&out[i], &out[j]), "srandmember(%s, %lld) repeated a member", key,
                      (long long)count);
    }
    pc_read_end(r);
    free(out);
}

static void test_srandmember(void **state)
{
    pt_store *t = *state;
    pc_val m[5] = {pc_int(1), pc_int(2), S("three"), pc_dbl(4.5), pc_bool(false)};
    OK(pc_sadd(t->c, K("small"), m, 5, NULL));
    srand_check(t, "small", 5, 1, 10);
    srand_check(t, "small", 5, 3, 10);
    srand_check(t, "small", 5, 5, 10);
    srand_check(t, "small", 5, 50, 10); /* all 5 */
    srand_check(t, "small", 5, -20, 20);
    srand_check(t, "small", 5, -20, 7); /* max cuts it */
    srand_check(t, "small", 5, 4, 2);
    /* every member comes up */
    bool seen[5] = {false};
    pc_read *r = pt_rd(t->c);
    pc_val out[64];
    size_t n;
    for (int round = 0; round < 20; round++) {
        OK(pc_srandmember(r, K("small"), -64, out, 64, &n));
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < 5; j++)
                seen[j] |= pt_val_eq(&out[i], &m[j]);
    }
    for (int j = 0; j < 5; j++)
        assert_true(seen[j]);
    OK(pc_srandmember(r, K("nope"), 3, out, 64, &n));
    EQ(n, 0);
    OK(pc_srandmember(r, K("small"), 0, out, 64, &n));
    EQ(n, 0);
    RC(PC_EINVAL, pc_srandmember(r, K("small"), 1, NULL, 1, &n));
    pc_read_end(r);
    assert_true(is_member(t->c, "small", &m[2]));

    /* a large set: picks at random points, and a reservoir for many */
    enum { BIG = 3000 };
    pc_val *bm = calloc(BIG, sizeof *bm);
    for (int i = 0; i < BIG; i++)
        bm[i] = pc_int(i * 7919 % 100003);
    OK(pc_sadd(t->c, K("big"), bm, BIG, NULL));
    free(bm);
    srand_check(t, "big", BIG, 1, 1);
    srand_check(t, "big", BIG, 10, 10);
    srand_check(t, "big", BIG, 64, 64);
    srand_check(t, "big", BIG, 500, 500);
    srand_check(t, "big", BIG, -300, 300);
    srand_check(t, "big", BIG, BIG + 5, BIG + 5);

    pc_val s = S("s");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    r = pt_rd(t->c);
    RC(PC_EWRONGTYPE, pc_srandmember(r, K("str"), 1, out, 1, &n));
    pc_read_end(r);
}

static void randomkey_dbsize(pt_store *t)
{
    pc_read *r = pt_rd(t->c);
    pc_bytes k;
    uint64_t n = 99;
    RC(PC_ENOTFOUND, pc_randomkey(r, &k));
    OK(pc_dbsize(r, &n));
    EQ(n, 0);
    pc_read_end(r);

    pc_val v = pc_int(1);
    static const char *const keys[] = {"alpha", "beta", "gamma", "{t}delta"};
    for (size_t i = 0; i < NELEM(keys); i++)
        OK(pc_set(t->c, K(keys[i]), &v, 0, 0));
    OK(pc_rpush(t->c, K("list"), &v, 1, NULL));
    OK(pc_set(t->c, K("soon"), &v, 1, 0));
    pt_sleep_ms(5);
    r = pt_rd(t->c);
    OK(pc_dbsize(r, &n));
    EQ(n, 5); /* "soon" has expired */
    bool seen[5] = {false};
    for (int i = 0; i < 400; i++) {
        OK(pc_randomkey(r, &k));
        CHECK(!(k.len == 4 && !memcmp(k.ptr, "soon", 4)), "randomkey gave an expired key");
        bool known = false;
        for (size_t j = 0; j < NELEM(keys); j++)
            if (k.len == strlen(keys[j]) && !memcmp(k.ptr, keys[j], k.len))
                seen[j] = known = true;
        if (k.len == 4 && !memcmp(k.ptr, "list", 4))
            seen[4] = known = true;
        CHECK(known, "randomkey gave a key never written");
    }
    for (int j = 0; j < 5; j++)
        assert_true(seen[j]);
    RC(PC_EINVAL, pc_randomkey(r, NULL));
    RC(PC_EINVAL, pc_dbsize(r, NULL));
    pc_read_end(r);

    /* only expired keys left: none to give */
    uint64_t del = 0;
    pc_bytes all[] = {F("alpha"), F("beta"), F("gamma"), F("{t}delta"), F("list")};
    OK(pc_del_keys(t->c, all, NELEM(all), &del));
    EQ(del, 5);
    OK(pc_set(t->c, K("soon2"), &v, 1, 0));
    pt_sleep_ms(5);
    r = pt_rd(t->c);
    RC(PC_ENOTFOUND, pc_randomkey(r, &k));
    OK(pc_dbsize(r, &n));
    EQ(n, 0);
    pc_read_end(r);
}

static void test_randomkey_dbsize(void **state)
{
    randomkey_dbsize(*state);
}

/* Every type is a key to dbsize and randomkey: issue 16's too. */
static void test_dbsize_all_types(void **state)
{
    pt_store *t = *state;
    OK(pc_setbit(t->c, K("bits"), 9, 1, NULL));
    OK(pc_bf_add(t->c, K("bloom"), "x", 1, NULL));
    pc_read *r = pt_rd(t->c);
    uint64_t n = 0;
    OK(pc_dbsize(r, &n));
    EQ(n, 2);
    pc_bytes k;
    OK(pc_randomkey(r, &k));
    CHECK((k.len == 4 && !memcmp(k.ptr, "bits", 4)) || (k.len == 5 && !memcmp(k.ptr, "bloom", 5)),
          "randomkey gave '%.*s'", (int)k.len, (const char *)k.ptr);
    pc_read_end(r);
}

/* Many keys, so that the pick goes by random points, on four shards. */
static void test_randomkey_many(void **state)
{
    pt_store *t = *state;
    randomkey_dbsize(t);
    enum { N = 5000 };
    OK(pc_batch_begin(t->c));
    for (int i = 0; i < N; i++) {
        char k[32];
        snprintf(k, sizeof k, "key:%05d", i);
        pc_val v = pc_int(i);
        OK(pc_set(t->c, K(k), &v, 0, 0));
    }
    OK(pc_batch_exec(t->c, NULL, 0));
    pc_read *r = pt_rd(t->c);
    uint64_t n;
    OK(pc_dbsize(r, &n));
    EQ(n, N);
    unsigned distinct = 0;
    static bool seen[N];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 300; i++) {
        pc_bytes k;
        OK(pc_randomkey(r, &k));
        CHECK(k.len == 9 && !memcmp(k.ptr, "key:", 4), "randomkey gave %.*s", (int)k.len,
              (const char *)k.ptr);
        int idx = atoi((const char *)k.ptr + 4);
        distinct += !seen[idx];
        seen[idx] = true;
    }
    CHECK(distinct > 150, "only %u distinct keys in 300 picks of 5000", distinct);
    pc_read_end(r);
}

/* ---- multi-key ---- */

static void del_exists(pt_store *t)
{
    pc_val v = S("v");
    static const char *const names[] = {"a", "b", "c", "{x}d", "{x}e"};
    for (size_t i = 0; i < NELEM(names); i++)
        OK(pc_set(t->c, K(names[i]), &v, 0, 0));
    pc_val one = pc_int(1);
    OK(pc_sadd(t->c, K("set"), &one, 1, NULL));
    pc_bytes ek[] = {F("a"), F("a"), F("nope"), F("set"), F("{x}d")};
    uint64_t cnt = 99;
    pc_read *r = pt_rd(t->c);
    OK(pc_exists_keys(r, ek, NELEM(ek), &cnt));
    EQ(cnt, 4); /* a key named twice counts twice */
    OK(pc_touch(r, ek, NELEM(ek), &cnt));
    EQ(cnt, 4);
    OK(pc_exists_keys(r, NULL, 0, &cnt));
    EQ(cnt, 0);
    pc_bytes bad[] = {F("a"), pc_b("", 0)};
    RC(PC_EKEY, pc_exists_keys(r, bad, 2, &cnt));
    RC(PC_EINVAL, pc_exists_keys(r, ek, 1, NULL));
    pc_read_end(r);

    /* del: a bad key deletes nothing */
    uint64_t del = 99;
    pc_bytes dk[] = {F("a"), F("nope"), F("set"), F("a"), F("{x}d"), F("{x}e")};
    RC(PC_EKEY, pc_del_keys(t->c, bad, 2, &del));
    ERR_HAS(t->c, "pc_del_keys: key must be 1 to 250 bytes: keys[1] is 0 bytes");
    GET_IS(t->c, "a", S("v"));
    OK(pc_del_keys(t->c, dk, NELEM(dk), &del));
    EQ(del, 4);
    MISSING(t->c, "a");
    MISSING(t->c, "set");
    MISSING(t->c, "{x}e");
    GET_IS(t->c, "b", S("v"));
    OK(pc_del_keys(t->c, dk, NELEM(dk), NULL));
    OK(pc_del_keys(t->c, NULL, 0, &del));
    EQ(del, 0);

    /* in a batch: filled when it runs */
    pc_bytes bk[] = {F("b"), F("c"), F("nope")};
    OK(pc_batch_begin(t->c));
    OK(pc_del_keys(t->c, bk, NELEM(bk), &del));
    assert_int_equal(pc_pending(t->c), 3);
    GET_IS(t->c, "b", S("v"));
    OK(pc_batch_exec(t->c, NULL, 0));
    EQ(del, 2);
    MISSING(t->c, "c");
}

static void test_del_exists_keys(void **state)
{
    del_exists(*state);
}

static void test_del_keys_shards(void **state)
{
    pt_store *t = *state;
    del_exists(t);
    /* in a transaction, keys of one shard */
    pc_val v = S("v");
    OK(pc_set(t->c, K("{y}1"), &v, 0, 0));
    OK(pc_set(t->c, K("{y}2"), &v, 0, 0));
    pc_bytes yk[] = {F("{y}1"), F("{y}2"), F("{y}3")};
    uint64_t del = 0;
    OK(pc_txn_begin(t->c));
    OK(pc_del_keys(t->c, yk, 3, &del));
    OK(pc_txn_commit(t->c, NULL));
    EQ(del, 2);
    MISSING(t->c, "{y}1");
}

/* ---- writes ---- */

static void test_getdel_getex(void **state)
{
    pt_store *t = *state;
    pc_val v = S("hello"), n = pc_int(5), out;
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    OK(pc_set(t->c, K("n"), &n, 0, 0));
    OK(pc_getdel(t->c, K("s"), &out));
    VAL_EQ(out, S("hello"));
    MISSING(t->c, "s");
    OK(pc_getdel(t->c, K("s"), &out));
    assert_int_equal(out.kind, PC_NONE);
    OK(pc_getdel(t->c, K("n"), &out));
    VAL_EQ(out, pc_int(5));
    MISSING(t->c, "n");
    pc_val one = pc_int(1);
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    RC(PC_EWRONGTYPE, pc_getdel(t->c, K("l"), &out));
    TYPE_IS(t->c, "l", PC_T_LIST);
    RC(PC_EWRONGTYPE, pc_getex(t->c, K("l"), PC_GETEX_TTL, 1000, &out));
    assert_int_equal(pt_ttl(t->c, "l"), -1);

    /* getex: each how */
    OK(pc_set(t->c, K("g"), &v, 0, 0));
    OK(pc_getex(t->c, K("g"), PC_GETEX_KEEP, 0, &out));
    VAL_EQ(out, S("hello"));
    assert_int_equal(pt_ttl(t->c, "g"), -1);
    OK(pc_getex(t->c, K("g"), PC_GETEX_TTL, 100000, &out));
    VAL_EQ(out, S("hello"));
    assert_true(pt_ttl(t->c, "g") > 90000);
    OK(pc_getex(t->c, K("g"), PC_GETEX_PERSIST, 0, &out));
    assert_int_equal(pt_ttl(t->c, "g"), -1);
    int64_t at = pt_wall_ms() + 500000;
    OK(pc_getex(t->c, K("g"), PC_GETEX_AT, at, &out));
    pc_read *r = pt_rd(t->c);
    int64_t got;
    OK(pc_expiretime(r, K("g"), &got));
    assert_int_equal(got, at);
    pc_read_end(r);
    OK(pc_getex(t->c, K("g"), PC_GETEX_AT, 1, &out)); /* in the past: deleted */
    VAL_EQ(out, S("hello"));
    MISSING(t->c, "g");
    OK(pc_getex(t->c, K("g"), PC_GETEX_TTL, 1000, &out));
    assert_int_equal(out.kind, PC_NONE);
    MISSING(t->c, "g");

    /* bad arguments change nothing */
    OK(pc_set(t->c, K("g"), &v, 0, 0));
    RC(PC_EINVAL, pc_getex(t->c, K("g"), PC_GETEX_TTL, 0, &out));
    ERR_HAS(t->c, "PC_GETEX_TTL: ms must be 1 to");
    RC(PC_EINVAL, pc_getex(t->c, K("g"), PC_GETEX_TTL, PC_TTL_MAX_MS + 1, &out));
    RC(PC_EINVAL, pc_getex(t->c, K("g"), PC_GETEX_AT, -5, &out));
    RC(PC_EINVAL, pc_getex(t->c, K("g"), PC_GETEX_KEEP, 5, &out));
    RC(PC_EINVAL, pc_getex(t->c, K("g"), 9, 0, &out));
    ERR_HAS(t->c, "unknown how 9");
    RC(PC_EINVAL, pc_getex(t->c, K("g"), PC_GETEX_AT, pt_wall_ms() + PC_TTL_MAX_MS + 100000, &out));
    RC(PC_EKEY, pc_getdel(t->c, "", 0, &out));
    GET_IS(t->c, "g", S("hello"));
    assert_int_equal(pt_ttl(t->c, "g"), -1);
}

static void test_linsert(void **state)
{
    pt_store *t = *state;
    pc_val l[] = {pc_int(0), pc_int(1), pc_int(2), pc_int(3), pc_int(4), pc_int(5)};
    OK(pc_rpush(t->c, K("l"), l, 6, NULL));
    int64_t len = 0;
    pc_val x = S("x"), p1 = pc_int(1), p4 = pc_int(4);
    OK(pc_linsert(t->c, K("l"), true, &p1, &x, &len)); /* near the head */
    EQ(len, 7);
    pc_val w1[] = {pc_int(0), S("x"), pc_int(1), pc_int(2), pc_int(3), pc_int(4), pc_int(5)};
    list_is(t->c, "l", w1, 7);
    OK(pc_linsert(t->c, K("l"), false, &p4, &x, &len)); /* near the tail */
    EQ(len, 8);
    pc_val w2[] = {pc_int(0), S("x"),    pc_int(1), pc_int(2),
                   pc_int(3), pc_int(4), S("x"),    pc_int(5)};
    list_is(t->c, "l", w2, 8);
    pc_val p0 = pc_int(0), p5 = pc_int(5), y = S("y");
    OK(pc_linsert(t->c, K("l"), true, &p0, &y, &len));  /* before the first */
    OK(pc_linsert(t->c, K("l"), false, &p5, &y, &len)); /* after the last */
    EQ(len, 10);
    pc_val w3[] = {S("y"),    pc_int(0), S("x"), pc_int(1), pc_int(2),
                   pc_int(3), pc_int(4), S("x"), pc_int(5), S("y")};
    list_is(t->c, "l", w3, 10);
    /* the first match: "x" at 2 */
    OK(pc_linsert(t->c, K("l"), false, &x, &p0, &len));
    pc_read *r = pt_rd(t->c);
    pc_val e;
    OK(pc_lindex(r, K("l"), 3, &e));
    VAL_EQ(e, pc_int(0));
    pc_read_end(r);
    /* no pivot, no key */
    uint64_t ver = pt_version(t->c, "l");
    pc_val sone = S("1");
    OK(pc_linsert(t->c, K("l"), true, &sone, &x, &len));
    assert_int_equal(len, -1);
    assert_int_equal(pt_version(t->c, "l"), ver);
    OK(pc_linsert(t->c, K("nope"), true, &x, &x, &len));
    assert_int_equal(len, 0);
    MISSING(t->c, "nope");
    pc_val nan = pc_dbl(NAN);
    RC(PC_ENAN, pc_linsert(t->c, K("l"), true, &x, &nan, &len));
    RC(PC_EINVAL, pc_linsert(t->c, K("l"), true, NULL, &x, &len));
    OK(pc_set(t->c, K("s"), &x, 0, 0));
    RC(PC_EWRONGTYPE, pc_linsert(t->c, K("s"), true, &x, &x, &len));
    assert_int_equal(pt_version(t->c, "l"), ver);
    /* a list grown at both ends, then inserted into in the middle */
    for (int i = 0; i < 50; i++) {
        pc_val v = pc_int(100 + i);
        OK(pc_lpush(t->c, K("m"), &v, 1, NULL));
        OK(pc_rpush(t->c, K("m"), &v, 1, NULL));
    }
    pc_val mid = pc_int(100);
    OK(pc_linsert(t->c, K("m"), false, &mid, &x, &len));
    EQ(len, 101);
    r = pt_rd(t->c);
    OK(pc_lindex(r, K("m"), 50, &e));
    VAL_EQ(e, S("x"));
    OK(pc_lindex(r, K("m"), 0, &e));
    VAL_EQ(e, pc_int(149));
    OK(pc_lindex(r, K("m"), -1, &e));
    VAL_EQ(e, pc_int(149));
    pc_read_end(r);
}

static void test_lmove(void **state)
{
    pt_store *t = *state;
    pc_val l[] = {pc_int(1), pc_int(2), pc_int(3)}, out;
    OK(pc_rpush(t->c, K("src"), l, 3, NULL));
    OK(pc_lmove(t->c, K("src"), K("dst"), true, false, &out)); /* LEFT RIGHT */
    VAL_EQ(out, pc_int(1));
    OK(pc_lmove(t->c, K("src"), K("dst"), false, true, &out)); /* RIGHT LEFT */
    VAL_EQ(out, pc_int(3));
    pc_val d1[] = {pc_int(3), pc_int(1)}, s1[] = {pc_int(2)};
    list_is(t->c, "dst", d1, 2);
    list_is(t->c, "src", s1, 1);
    OK(pc_lmove(t->c, K("src"), K("dst"), true, true, &out)); /* the last: src goes */
    VAL_EQ(out, pc_int(2));
    MISSING(t->c, "src");
    OK(pc_lmove(t->c, K("src"), K("dst"), true, true, &out));
    assert_int_equal(out.kind, PC_NONE);
    /* one key: a rotation */
    OK(pc_lmove(t->c, K("dst"), K("dst"), true, false, &out));
    VAL_EQ(out, pc_int(2));
    pc_val d2[] = {pc_int(3), pc_int(1), pc_int(2)};
    list_is(t->c, "dst", d2, 3);
    OK(pc_lmove(t->c, K("dst"), K("dst"), false, true, &out));
    VAL_EQ(out, pc_int(2));
    pc_val d3[] = {pc_int(2), pc_int(3), pc_int(1)};
    list_is(t->c, "dst", d3, 3);
}

static void test_lmove_rest(void **state)
{
    pt_store *t = *state;
    pc_val l[] = {pc_int(1), pc_int(2)}, out;
    OK(pc_rpush(t->c, K("a"), l, 2, NULL));
    OK(pc_lmove(t->c, K("a"), K("a"), false, true, &out));
    VAL_EQ(out, pc_int(2));
    pc_val w[] = {pc_int(2), pc_int(1)};
    list_is(t->c, "a", w, 2);
    pc_val one = pc_int(9);
    OK(pc_rpush(t->c, K("single"), &one, 1, NULL));
    OK(pc_lmove(t->c, K("single"), K("single"), true, false, &out));
    list_is(t->c, "single", &one, 1);
    /* wrong types change nothing */
    pc_val s = S("s");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    uint64_t ver = pt_version(t->c, "a");
    RC(PC_EWRONGTYPE, pc_lmove(t->c, K("a"), K("str"), true, true, &out));
    RC(PC_EWRONGTYPE, pc_lmove(t->c, K("str"), K("a"), true, true, &out));
    OK(pc_qpush(t->c, K("q"), &one, 1, NULL));
    RC(PC_EWRONGTYPE, pc_lmove(t->c, K("a"), K("q"), true, true, &out));
    assert_int_equal(pt_version(t->c, "a"), ver);
    list_is(t->c, "a", w, 2);
    RC(PC_EKEY, pc_lmove(t->c, K("a"), "", 0, true, true, &out));
    ERR_HAS(t->c, "dst is 0 bytes");
    /* TTLs: the source keeps its own */
    OK(pc_expire(t->c, K("a"), 100000, NULL));
    OK(pc_lmove(t->c, K("a"), K("b"), true, true, &out));
    assert_true(pt_ttl(t->c, "a") > 90000);
    assert_int_equal(pt_ttl(t->c, "b"), -1);
}

static void test_two_keys_shards(void **state)
{
    pt_store *t = *state;
    char a[16], b[16];
    keys_apart(4, a, b);
    pc_val one = pc_int(1), out;
    int r = -1;
    OK(pc_rpush(t->c, K(a), &one, 1, NULL));
    RC(PC_ECROSSSHARD, pc_lmove(t->c, K(a), K(b), true, true, &out));
    ERR_HAS(t->c, "lie in different shards of the 4; give them the same {tag}");
    RC(PC_ECROSSSHARD, pc_rename(t->c, K(a), K(b), 0, &r));
    ERR_HAS(t->c, "pc_rename: the keys lie in different shards; give them one {tag}");
    OK(pc_del(t->c, K(a), NULL));
    OK(pc_sadd(t->c, K(a), &one, 1, NULL));
    RC(PC_ECROSSSHARD, pc_smove(t->c, K(a), K(b), &one, &r));
    TYPE_IS(t->c, a, PC_T_SET);
    MISSING(t->c, b);
    /* with a {tag}, one shard */
    OK(pc_sadd(t->c, K("{u}a"), &one, 1, NULL));
    OK(pc_smove(t->c, K("{u}a"), K("{u}b"), &one, &r));
    assert_int_equal(r, 1);
    OK(pc_rename(t->c, K("{u}b"), K("{u}c"), 0, &r));
    TYPE_IS(t->c, "{u}c", PC_T_SET);
    /* in a transaction: lmove, rename and smove of one shard */
    OK(pc_rpush(t->c, K("{v}l"), &one, 1, NULL));
    OK(pc_txn_begin(t->c));
    OK(pc_lmove(t->c, K("{v}l"), K("{v}m"), true, true, &out));
    OK(pc_rename(t->c, K("{v}m"), K("{v}n"), 0, &r));
    OK(pc_txn_commit(t->c, NULL));
    VAL_EQ(out, pc_int(1));
    list_is(t->c, "{v}n", &one, 1);
    MISSING(t->c, "{v}l");
    MISSING(t->c, "{v}m");
}

/* Is the last error of c a cross-shard refusal naming keys a and b and the
 * {tag} way? */
static void cross_named(pc_client *c, const char *a, const char *b)
{
    char qa[32], qb[32];
    snprintf(qa, sizeof qa, "'%s' (shard", a);
    snprintf(qb, sizeof qb, "'%s' (shard", b);
    ERR_HAS(c, qa);
    ERR_HAS(c, qb);
    ERR_HAS(c, "lie in different shards of the 4; give them the same {tag}");
}

/*
 * Issue 17's multi-key calls refuse keys of different shards when they are
 * called (queued), naming the keys and the {tag} way, and change nothing:
 * ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE, BZPOPMIN/MAX, XREAD's
 * blocking form and XREADGROUP over several streams; BITOP too.  In a
 * batch the call is refused at once and the batch goes on.  With a {tag},
 * one shard: they run.
 */
static void test_multi_keys_shards(void **state)
{
    pt_store *t = *state;
    char a[16], b[16];
    keys_apart(4, a, b);
    pc_zentry z = {pc_str("m"), 1.0};
    OK(pc_zadd(t->c, K(a), &z, 1, 0, NULL));
    OK(pc_zadd(t->c, K(b), &z, 1, 0, NULL));
    pc_bytes two[2] = {{a, strlen(a)}, {b, strlen(b)}};
    uint64_t card = 99;
    /* dst in a's shard, a source in b's */
    RC(PC_ECROSSSHARD, pc_zunionstore(t->c, K(a), two, 2, NULL, PC_ZAGG_SUM, &card));
    cross_named(t->c, a, b);
    ERR_HAS(t->c, "pc_zunionstore");
    RC(PC_ECROSSSHARD, pc_zinterstore(t->c, K(a), two, 2, NULL, PC_ZAGG_SUM, &card));
    cross_named(t->c, a, b);
    RC(PC_ECROSSSHARD, pc_zdiffstore(t->c, K(a), two, 2, &card));
    cross_named(t->c, a, b);
    pc_zrange_spec all;
    pc_zrange_spec_init(&all);
    RC(PC_ECROSSSHARD, pc_zrangestore(t->c, K(b), K(a), &all, &card));
    cross_named(t->c, b, a);
    assert_int_equal(card, 99);
    pc_bytes got;
    pc_zentry e;
    RC(PC_ECROSSSHARD, pc_bzpopmin(t->c, two, 2, 50, &got, &e));
    cross_named(t->c, a, b);
    RC(PC_ECROSSSHARD, pc_bzpopmax(t->c, two, 2, 50, &got, &e));
    cross_named(t->c, a, b);
    /* nothing changed: both sets keep their member */
    pc_read *r = pt_rd(t->c);
    uint64_t n = 0;
    OK(pc_zcard(r, K(a), &n));
    assert_int_equal(n, 1);
    OK(pc_zcard(r, K(b), &n));
    assert_int_equal(n, 1);
    pc_read_end(r);
    /* streams: keys x (a's shard) and y (b's) */
    char x[24], y[24];
    snprintf(x, sizeof x, "%s", a);
    snprintf(y, sizeof y, "%s", b);
    OK(pc_del(t->c, K(x), NULL));
    OK(pc_del(t->c, K(y), NULL));
    pc_val fv[2] = {S("f"), S("v")};
    pc_xid id;
    OK(pc_xadd(t->c, K(x), PC_XADD_AUTO, pc_xid_max(), fv, 1, NULL, 0, &id));
    OK(pc_xadd(t->c, K(y), PC_XADD_AUTO, pc_xid_max(), fv, 1, NULL, 0, &id));
    OK(pc_xgroup_create(t->c, K(x), K("g"), NULL, -1, 0));
    OK(pc_xgroup_create(t->c, K(y), K("g"), NULL, -1, 0));
    pc_bytes xy[2] = {{x, strlen(x)}, {y, strlen(y)}};
    pc_xentry xe[4];
    size_t nper[2];
    RC(PC_ECROSSSHARD, pc_xread_wait(t->c, xy, NULL, 2, 0, 50, xe, 4, nper));
    cross_named(t->c, x, y);
    RC(PC_ECROSSSHARD, pc_xreadgroup(t->c, K("g"), K("c"), xy, NULL, 2, 0, 0, 0, xe, 4, nper));
    cross_named(t->c, x, y);
    /* BITOP */
    uint64_t len;
    RC(PC_ECROSSSHARD, pc_bitop(t->c, PC_BITOP_OR, K(a), &two[1], 1, &len));
    cross_named(t->c, a, b);
    /* in a batch: refused when queued, the rest runs */
    int rcs[2] = {1, 1};
    OK(pc_batch_begin(t->c));
    RC(PC_ECROSSSHARD, pc_zunionstore(t->c, K(a), two, 2, NULL, PC_ZAGG_SUM, &card));
    cross_named(t->c, a, b);
    OK(pc_zadd(t->c, K("{z}a"), &z, 1, 0, NULL));
    OK(pc_batch_exec(t->c, rcs, 2));
    assert_int_equal(rcs[0], 0);
    /* with a {tag}: one shard */
    pc_bytes tagged[2] = {{"{z}a", 4}, {"{z}b", 4}};
    OK(pc_zadd(t->c, K("{z}b"), &z, 1, 0, NULL));
    OK(pc_zunionstore(t->c, K("{z}u"), tagged, 2, NULL, PC_ZAGG_SUM, &card));
    assert_int_equal(card, 1);
    OK(pc_zrangestore(t->c, K("{z}r"), K("{z}u"), &all, &card));
    assert_int_equal(card, 1);
    OK(pc_bzpopmin(t->c, tagged, 2, 1000, &got, &e));
}

static void test_smove(void **state)
{
    pt_store *t = *state;
    pc_val m[] = {S("a"), S("b"), pc_int(1)};
    int moved = -1;
    OK(pc_sadd(t->c, K("src"), m, 3, NULL));
    OK(pc_smove(t->c, K("src"), K("dst"), &m[0], &moved));
    assert_int_equal(moved, 1);
    assert_true(is_member(t->c, "dst", &m[0]));
    assert_false(is_member(t->c, "src", &m[0]));
    OK(pc_smove(t->c, K("src"), K("dst"), &m[0], &moved));
    assert_int_equal(moved, 0);
    pc_val s1 = S("1");
    OK(pc_smove(t->c, K("src"), K("dst"), &s1, &moved)); /* "1" is not 1 */
    assert_int_equal(moved, 0);
    OK(pc_sadd(t->c, K("dst"), &m[1], 1, NULL));
    OK(pc_smove(t->c, K("src"), K("dst"), &m[1], &moved)); /* already there */
    assert_int_equal(moved, 1);
    OK(pc_smove(t->c, K("src"), K("dst"), &m[2], &moved)); /* the last: src goes */
    MISSING(t->c, "src");
    uint64_t card;
    pc_read *r = pt_rd(t->c);
    OK(pc_scard(r, K("dst"), &card));
    EQ(card, 3);
    pc_read_end(r);
    OK(pc_smove(t->c, K("nope"), K("dst"), &m[0], &moved));
    assert_int_equal(moved, 0);
    OK(pc_smove(t->c, K("dst"), K("dst"), &m[0], &moved));
    assert_int_equal(moved, 1);
    /* wrong types change nothing */
    pc_val s = S("s");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    uint64_t ver = pt_version(t->c, "dst");
    RC(PC_EWRONGTYPE, pc_smove(t->c, K("dst"), K("str"), &m[0], &moved));
    RC(PC_EWRONGTYPE, pc_smove(t->c, K("str"), K("dst"), &m[0], &moved));
    RC(PC_EINVAL, pc_smove(t->c, K("dst"), K("x"), NULL, &moved));
    assert_int_equal(pt_version(t->c, "dst"), ver);
    MISSING(t->c, "x");
}

static void test_rename(void **state)
{
    pt_store *t = *state;
    pc_val v = S("value"), one = pc_int(1);
    int r = -1;
    OK(pc_set(t->c, K("a"), &v, 100000, 0));
    OK(pc_rename(t->c, K("a"), K("b"), 0, &r));
    assert_int_equal(r, 1);
    MISSING(t->c, "a");
    GET_IS(t->c, "b", S("value"));
    assert_true(pt_ttl(t->c, "b") > 90000); /* the TTL goes with it */
    RC(PC_ENOTFOUND, pc_rename(t->c, K("a"), K("b"), 0, &r));
    ERR_HAS(t->c, "there is no such key to rename");

    /* a collection keeps its members; what the new key held goes */
    pc_val items[] = {pc_int(1), S("two"), pc_dbl(3.5)};
    OK(pc_rpush(t->c, K("list"), items, 3, NULL));
    pc_bytes f = F("f");
    OK(pc_hset(t->c, K("map"), &f, &one, 1, NULL));
    OK(pc_rename(t->c, K("list"), K("map"), 0, &r));
    list_is(t->c, "map", items, 3);
    MISSING(t->c, "list");
    assert_int_equal(pt_nkeys(t->c, NULL), 2);

    /* NX */
    OK(pc_set(t->c, K("c"), &one, 0, 0));
    OK(pc_rename(t->c, K("c"), K("b"), PC_RENAME_NX, &r));
    assert_int_equal(r, 0);
    GET_IS(t->c, "b", S("value"));
    GET_IS(t->c, "c", pc_int(1));
    OK(pc_rename(t->c, K("c"), K("d"), PC_RENAME_NX, &r));
    assert_int_equal(r, 1);
    GET_IS(t->c, "d", pc_int(1));
    /* the same key */
    OK(pc_rename(t->c, K("d"), K("d"), 0, &r));
    assert_int_equal(r, 1);
    OK(pc_rename(t->c, K("d"), K("d"), PC_RENAME_NX, &r));
    assert_int_equal(r, 0);
    GET_IS(t->c, "d", pc_int(1));
    RC(PC_EINVAL, pc_rename(t->c, K("d"), K("e"), 4, &r));
    RC(PC_EKEY, pc_rename(t->c, K("d"), "", 0, 0, &r));
    ERR_HAS(t->c, "newkey is 0 bytes");
    GET_IS(t->c, "d", pc_int(1));
    /* expired keys count as missing */
    OK(pc_set(t->c, K("old"), &v, 1, 0));
    pt_sleep_ms(5);
    RC(PC_ENOTFOUND, pc_rename(t->c, K("old"), K("new"), 0, &r));
    OK(pc_set(t->c, K("old2"), &v, 1, 0));
    pt_sleep_ms(5);
    OK(pc_rename(t->c, K("d"), K("old2"), PC_RENAME_NX, &r));
    assert_int_equal(r, 1);
    GET_IS(t->c, "old2", pc_int(1));
    assert_int_equal(pt_ttl(t->c, "old2"), -1);
}

/* ---- pc_last_error ---- */

static void test_last_error(void **state)
{
    pt_store *t = *state;
    assert_string_equal(pc_last_error(NULL), "");
    assert_string_equal(pc_last_error(t->c), "");
    pc_val v = S("v");
    RC(PC_EINVAL, pc_expire(t->c, K("k"), 0, NULL));
    assert_string_equal(pc_last_error(t->c), "pc_expire: invalid argument: ttl_ms must be 1 to "
                                             "3162240000000 ms, got 0 (PC_EINVAL)");
    OK(pc_set(t->c, K("k"), &v, 0, 0)); /* success leaves it */
    ERR_HAS(t->c, "pc_expire:");
    RC(PC_EINVAL, pc_set(t->c, K("k"), &v, -5, 0));
    ERR_HAS(t->c, "pc_set: invalid argument: ttl_ms must be 0 (none) or 1 to");
    RC(PC_EINVAL, pc_set(t->c, K("k"), &v, 5, PC_NX | PC_XX));
    ERR_HAS(t->c, "PC_NX and PC_XX cannot be combined");
    RC(PC_EKEY, pc_set(t->c, "", 0, &v, 0, 0));
    ERR_HAS(t->c, "pc_set: key must be 1 to 250 bytes: key is 0 bytes");
    RC(PC_EINVAL, pc_expire_sec(t->c, K("k"), -1, NULL));
    ERR_HAS(t->c, "pc_expire_sec: invalid argument: ttl_s must be 1 to");
    pc_val one = pc_int(1);
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    RC(PC_EWRONGTYPE, pc_incrby(t->c, K("l"), 1, NULL));
    ERR_HAS(t->c, "pc_incrby: operation against a key holding the wrong type");
    ERR_HAS(t->c, "(PC_EWRONGTYPE)");
    pc_read *r = pt_rd(t->c);
    pc_val out;
    RC(PC_ENOTFOUND, pc_get(r, K("nope"), &out));
    ERR_HAS(t->c, "pc_get: no such key");
    RC(PC_EWRONGTYPE, pc_get(r, K("l"), &out));
    ERR_HAS(t->c, "pc_get:");
    pc_read_end(r);
    /* batches and transactions say which write failed */
    OK(pc_batch_begin(t->c));
    OK(pc_set(t->c, K("x"), &v, 0, 0));
    OK(pc_incrby(t->c, K("l"), 1, NULL));
    RC(PC_EWRONGTYPE, pc_batch_exec(t->c, NULL, 0));
    ERR_HAS(t->c, "pc_batch_exec: operation against a key holding the wrong type: write 1 of "
                  "the 2 in the batch");
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("x"), &v, 0, 0));
    OK(pc_set(t->c, K("y"), &v, 0, 0));
    OK(pc_lpush(t->c, K("x"), &one, 1, NULL));
    RC(PC_EWRONGTYPE, pc_txn_commit(t->c, NULL));
    ERR_HAS(t->c, "write 2 of the transaction (counting from 0) failed; nothing applied");
    RC(PC_ESTATE, pc_batch_exec(t->c, NULL, 0));
    ERR_HAS(t->c, "pc_batch_exec: call not allowed");
    ERR_HAS(t->c, "no batch was begun");
    /* what was wrong with an argument, call by call */
    RC(PC_EINVAL, pc_set(t->c, K("k"), NULL, 0, 0));
    ERR_HAS(t->c, "pc_set: invalid argument: v is NULL (PC_EINVAL)");
    pc_val nil = pc_nil();
    RC(PC_EINVAL, pc_set(t->c, K("k"), &nil, 0, 0));
    ERR_HAS(t->c, "v's kind must be PC_BYTES, PC_INT or PC_DOUBLE");
    RC(PC_EINVAL, pc_set_coll(t->c, K("k"), PC_T_STRING, &v, 1, 0, 0));
    ERR_HAS(t->c, "type must be PC_T_LIST, PC_T_QUEUE, PC_T_SET or PC_T_MAP");
    RC(PC_EINVAL, pc_set_coll(t->c, K("k"), PC_T_MAP, &v, 1, 0, 0));
    ERR_HAS(t->c, "n is odd");
    size_t n;
    RC(PC_EINVAL, pc_qpop_wait(t->c, K("q"), 1, 0, &out, &n));
    ERR_HAS(t->c, "timeout_ms must be 1 to");
    pc_read *r2 = pt_rd(t->c), *r3;
    RC(PC_EBUSY, pc_read_begin(t->c, &r3));
    ERR_HAS(t->c, "a read is already open on this client");
    pc_read_end(r2);
    OK(pc_txn_begin(t->c));
    RC(PC_EKEY, pc_set(t->c, "", 0, &v, 0, 0));
    RC(PC_EKEY, pc_txn_commit(t->c, NULL));
    ERR_HAS(t->c, "a write was refused when it was queued; nothing applied");
    RC(PC_ENOTSUP, pc_snapshot(t->c, NULL));
    ERR_HAS(t->c, "embedded mode, or the daemon has no --snapshot-dir");
}

int main(void)
{
    pt_init(120);
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_incr_string_numbers),
        PT_STORE_TEST(test_mget_typed),
        PT_STORE_TEST(test_expiretime),
        PT_STORE_TEST(test_hsetnx_hstrlen),
        PT_STORE_TEST(test_lpos),
        PT_STORE_TEST(test_smismember),
        PT_STORE_TEST(test_srandmember),
        PT_STORE_TEST(test_randomkey_dbsize),
        PT_STORE_TEST(test_dbsize_all_types),
        PT_STORE_TEST_SHARDS4(test_randomkey_many),
        PT_STORE_TEST(test_del_exists_keys),
        PT_STORE_TEST_SHARDS4(test_del_keys_shards),
        PT_STORE_TEST(test_getdel_getex),
        PT_STORE_TEST(test_linsert),
        PT_STORE_TEST(test_lmove),
        PT_STORE_TEST(test_lmove_rest),
        PT_STORE_TEST_SHARDS4(test_two_keys_shards),
        PT_STORE_TEST_SHARDS4(test_multi_keys_shards),
        PT_STORE_TEST(test_smove),
        PT_STORE_TEST(test_rename),
        PT_STORE_TEST(test_last_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
