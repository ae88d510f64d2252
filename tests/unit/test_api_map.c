/*
 * test_api_map.c - the public API for Maps: hset, hget, hmget, hdel, hlen,
 * hexists, hincrby, hincrbyfloat, hscan paging, empty and long fields (the
 * ones kept under a digest), and pc_set_coll of a Map.
 */
#include <float.h>
#include <math.h>

#include "pctest.h"

#define S(s) pc_str(s)
#define F(s) pc_b((s), strlen(s))
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Assert the value of field f (flen bytes) of key. */
static void hget_is(const char *file, int line, pc_client *c, const char *key, const void *f,
                    size_t flen, pc_val want)
{
    pc_read *r = pt_rd(c);
    pc_val got;
    memset(&got, 0, sizeof got);
    pt_check_rc(file, line, "pc_hget", pc_hget(r, K(key), f, flen, &got), 0);
    pt_check_val(file, line, "pc_hget value", got, want);
    pc_read_end(r);
}
#define HGET_IS(c, key, field, want) hget_is(__FILE__, __LINE__, (c), (key), K(field), (want))

static uint64_t hlen(pc_client *c, const char *key)
{
    pc_read *r = pt_rd(c);
    uint64_t n = 0;
    OK(pc_hlen(r, K(key), &n));
    pc_read_end(r);
    return n;
}

static void test_hset_hget(void **state)
{
    pt_store *t = *state;
    uint64_t added = 99;
    pc_bytes f1[] = {F("a"), F("b")};
    pc_val v1[] = {pc_int(1), S("two")};

    OK(pc_hset(t->c, K("h"), f1, v1, 2, &added));
    assert_int_equal(added, 2);
    TYPE_IS(t->c, "h", PC_T_MAP);
    HGET_IS(t->c, "h", "a", pc_int(1));
    HGET_IS(t->c, "h", "b", S("two"));

    /* one new, one overwritten */
    pc_bytes f2[] = {F("b"), F("c")};
    pc_val v2[] = {pc_dbl(2.5), pc_bool(false)};
    OK(pc_hset(t->c, K("h"), f2, v2, 2, &added));
    assert_int_equal(added, 1);
    HGET_IS(t->c, "h", "b", pc_dbl(2.5));
    HGET_IS(t->c, "h", "c", pc_bool(false));
    assert_int_equal(hlen(t->c, "h"), 3);

    /* overwrite only: 0 added; added may be NULL */
    OK(pc_hset(t->c, K("h"), f2, v1, 2, &added));
    assert_int_equal(added, 0);
    OK(pc_hset(t->c, K("h"), f2, v2, 2, NULL));

    /* the same field twice in one call: counted once, the last wins */
    pc_bytes f3[] = {F("d"), F("d")};
    pc_val v3[] = {pc_int(1), pc_int(2)};
    OK(pc_hset(t->c, K("h"), f3, v3, 2, &added));
    assert_int_equal(added, 1);
    HGET_IS(t->c, "h", "d", pc_int(2));
    assert_int_equal(hlen(t->c, "h"), 4);

    /* every kind of value, and a nil */
    pc_bytes f4[] = {F("nil"), F("neg"), F("bin")};
    pc_val v4[] = {pc_nil(), pc_int(INT64_MIN), pc_mem("\0x\0", 3)};
    OK(pc_hset(t->c, K("h"), f4, v4, 3, &added));
    assert_int_equal(added, 3);
    HGET_IS(t->c, "h", "nil", pc_nil());
    HGET_IS(t->c, "h", "neg", pc_int(INT64_MIN));
    HGET_IS(t->c, "h", "bin", pc_mem("\0x\0", 3));

    /* binary field names */
    pc_bytes fb = pc_b("f\0g", 3);
    pc_val vb = S("nul field");
    OK(pc_hset(t->c, K("h"), &fb, &vb, 1, &added));
    assert_int_equal(added, 1);
    hget_is(__FILE__, __LINE__, t->c, "h", "f\0g", 3, S("nul field"));

    pc_read *r = pt_rd(t->c);
    pc_val out;
    RC(PC_ENOTFOUND, pc_hget(r, K("h"), K("zzz"), &out));
    RC(PC_ENOTFOUND, pc_hget(r, K("h"), "f", 1, &out));
    RC(PC_ENOTFOUND, pc_hget(r, K("missing"), K("a"), &out));
    pc_read_end(r);

    /* hset keeps the TTL */
    OK(pc_set_coll(t->c, K("t"), PC_T_MAP, (pc_val[]){S("a"), pc_int(1)}, 2, 100000, 0));
    OK(pc_hset(t->c, K("t"), f1, v1, 2, NULL));
    assert_true(pt_ttl(t->c, "t") > 90000);

    /* a bad value anywhere refuses the whole call */
    pc_val bad[] = {pc_int(5), pc_dbl(NAN)};
    RC(PC_ENAN, pc_hset(t->c, K("h"), f1, bad, 2, &added));
    HGET_IS(t->c, "h", "a", pc_int(1));
    RC(PC_EINVAL, pc_hset(t->c, K("h"), f1, v1, 0, &added));
}

static void test_hmget(void **state)
{
    pt_store *t = *state;
    pc_bytes f[] = {F("a"), F("b"), F("c")};
    pc_val v[] = {pc_int(1), S("two"), pc_nil()};
    OK(pc_hset(t->c, K("h"), f, v, 3, NULL));
    pc_val s = S("s");
    OK(pc_set(t->c, K("s"), &s, 0, 0));

    pc_bytes q[] = {F("a"), F("missing"), F("c"), F("b"), F("")};
    pc_val out[5];
    pc_read *r = pt_rd(t->c);
    OK(pc_hmget(r, K("h"), q, 5, out));
    VAL_EQ(out[0], pc_int(1));
    assert_int_equal(out[1].kind, PC_NONE);
    VAL_EQ(out[2], pc_nil()); /* a stored nil is not a missing field */
    VAL_EQ(out[3], S("two"));
    assert_int_equal(out[4].kind, PC_NONE);

    /* a missing key: every field PC_NONE, and 0 */
    for (size_t i = 0; i < 5; i++)
        out[i].kind = PC_INT;
    OK(pc_hmget(r, K("missing"), q, 5, out));
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(out[i].kind, PC_NONE);

    RC(PC_EWRONGTYPE, pc_hmget(r, K("s"), q, 5, out));
    pc_read_end(r);
}

static void test_hdel(void **state)
{
    pt_store *t = *state;
    pc_bytes f[] = {F("a"), F("b"), F("c")};
    pc_val v[] = {pc_int(1), pc_int(2), pc_int(3)};
    OK(pc_hset(t->c, K("h"), f, v, 3, NULL));
    uint64_t removed = 99;

    pc_bytes d1[] = {F("a"), F("missing"), F("a")};
    OK(pc_hdel(t->c, K("h"), d1, 3, &removed));
    assert_int_equal(removed, 1);
    assert_int_equal(hlen(t->c, "h"), 2);

    /* deleting the last fields removes the key */
    pc_bytes d2[] = {F("b"), F("c")};
    OK(pc_hdel(t->c, K("h"), d2, 2, &removed));
    assert_int_equal(removed, 2);
    MISSING(t->c, "h");
    TYPE_IS(t->c, "h", PC_T_NONE);

    OK(pc_hdel(t->c, K("h"), d2, 2, &removed));
    assert_int_equal(removed, 0);
    MISSING(t->c, "h");

    /* one by one, removed may be NULL */
    OK(pc_hset(t->c, K("h2"), f, v, 3, NULL));
    for (size_t i = 0; i < 3; i++)
        OK(pc_hdel(t->c, K("h2"), &f[i], 1, NULL));
    MISSING(t->c, "h2");

    /* wrong type */
    pc_val s = S("s");
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    RC(PC_EWRONGTYPE, pc_hdel(t->c, K("s"), f, 1, &removed));
    GET_IS(t->c, "s", S("s"));
}

/* hdel of fields none of which is there: 0 removed, not an error (Redis HDEL) */
static void test_hdel_none_present(void **state)
{
    pt_store *t = *state;
    pc_bytes f[] = {F("a"), F("b")};
    pc_val v[] = {pc_int(1), pc_int(2)};
    OK(pc_hset(t->c, K("h"), f, v, 2, NULL));
    uint64_t ver = pt_version(t->c, "h");
    uint64_t removed = 99;
    pc_bytes d[] = {F("x"), F("y")};
    OK(pc_hdel(t->c, K("h"), d, 2, &removed));
    assert_int_equal(removed, 0);
    OK(pc_hdel(t->c, K("h"), d, 1, NULL));
    assert_int_equal(hlen(t->c, "h"), 2);
    assert_int_equal(pt_version(t->c, "h"), ver);
    /* inside a batch, the same */
    int rcs[1] = {1};
    OK(pc_batch_begin(t->c));
    OK(pc_hdel(t->c, K("h"), d, 2, &removed));
    OK(pc_batch_exec(t->c, rcs, 1));
    assert_int_equal(rcs[0], 0);
}

static void test_hlen_hexists(void **state)
{
    pt_store *t = *state;
    pc_bytes f[] = {F("a"), F("")};
    pc_val v[] = {pc_int(1), pc_nil()};
    OK(pc_hset(t->c, K("h"), f, v, 2, NULL));
    pc_val s = S("s");
    OK(pc_set(t->c, K("s"), &s, 0, 0));

    pc_read *r = pt_rd(t->c);
    uint64_t n = 0;
    int ex = -1;
    OK(pc_hlen(r, K("h"), &n));
    assert_int_equal(n, 2);
    RC(PC_ENOTFOUND, pc_hlen(r, K("missing"), &n));
    RC(PC_EWRONGTYPE, pc_hlen(r, K("s"), &n));
    OK(pc_hexists(r, K("h"), K("a"), &ex));
    assert_int_equal(ex, 1);
    OK(pc_hexists(r, K("h"), "", 0, &ex));
    assert_int_equal(ex, 1);
    OK(pc_hexists(r, K("h"), K("b"), &ex));
    assert_int_equal(ex, 0);
    ex = -1;
    OK(pc_hexists(r, K("missing"), K("a"), &ex));
    assert_int_equal(ex, 0);
    RC(PC_EWRONGTYPE, pc_hexists(r, K("s"), K("a"), &ex));
    pc_read_end(r);
}

static void test_hincrby(void **state)
{
    pt_store *t = *state;
    int64_t now = 0;

    /* a missing key and a missing field count as 0 */
    OK(pc_hincrby(t->c, K("h"), K("n"), 5, &now));
    assert_int_equal(now, 5);
    TYPE_IS(t->c, "h", PC_T_MAP);
    HGET_IS(t->c, "h", "n", pc_int(5));
    OK(pc_hincrby(t->c, K("h"), K("n"), -7, &now));
    assert_int_equal(now, -2);
    OK(pc_hincrby(t->c, K("h"), K("m"), 3, NULL));
    HGET_IS(t->c, "h", "m", pc_int(3));
    assert_int_equal(hlen(t->c, "h"), 2);

    /* overflow: refused, unchanged */
    pc_bytes fb[] = {F("big"), F("small"), F("d"), F("s"), F("b"), F("nil")};
    pc_val vb[] = {pc_int(INT64_MAX), pc_int(INT64_MIN), pc_dbl(1.5),
                   S("12x"),          pc_bool(true),     pc_nil()};
    OK(pc_hset(t->c, K("h"), fb, vb, NELEM(fb), NULL));
    RC(PC_EOVERFLOW, pc_hincrby(t->c, K("h"), K("big"), 1, &now));
    RC(PC_EOVERFLOW, pc_hincrby(t->c, K("h"), K("small"), -1, &now));
    HGET_IS(t->c, "h", "big", pc_int(INT64_MAX));
    HGET_IS(t->c, "h", "small", pc_int(INT64_MIN));
    OK(pc_hincrby(t->c, K("h"), K("big"), INT64_MIN, &now));
    assert_int_equal(now, -1);

    /* elements that are not integers */
    uint64_t ver = pt_version(t->c, "h");
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("d"), 1, &now));
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("s"), 1, &now));
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("b"), 1, &now));
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("nil"), 1, &now));
    HGET_IS(t->c, "h", "d", pc_dbl(1.5));
    HGET_IS(t->c, "h", "s", S("12x"));
    assert_int_equal(pt_version(t->c, "h"), ver);

    /* wrong key type */
    pc_val s = S("s");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    RC(PC_EWRONGTYPE, pc_hincrby(t->c, K("str"), K("n"), 1, &now));
    RC(PC_EWRONGTYPE, pc_hincrbyfloat(t->c, K("str"), K("n"), 1.0, NULL));
    GET_IS(t->c, "str", S("s"));
}

static void test_hincrbyfloat(void **state)
{
    pt_store *t = *state;
    double now = 0;

    OK(pc_hincrbyfloat(t->c, K("h"), K("f"), 1.5, &now));
    assert_true(now == 1.5);
    HGET_IS(t->c, "h", "f", pc_dbl(1.5));
    OK(pc_hincrbyfloat(t->c, K("h"), K("f"), 0.5, &now));
    HGET_IS(t->c, "h", "f", pc_dbl(2.0));

    pc_bytes fb[] = {F("i"), F("s"), F("b"), F("nil"), F("max")};
    pc_val vb[] = {pc_int(10), S("1.5."), pc_bool(false), pc_nil(), pc_dbl(DBL_MAX)};
    OK(pc_hset(t->c, K("h"), fb, vb, NELEM(fb), NULL));

    /* an integer field becomes a double */
    OK(pc_hincrbyfloat(t->c, K("h"), K("i"), 0.25, &now));
    assert_true(now == 10.25);
    HGET_IS(t->c, "h", "i", pc_dbl(10.25));

    uint64_t ver = pt_version(t->c, "h");
    RC(PC_ENOTNUM, pc_hincrbyfloat(t->c, K("h"), K("s"), 1.0, &now));
    RC(PC_ENOTNUM, pc_hincrbyfloat(t->c, K("h"), K("b"), 1.0, &now));
    RC(PC_ENOTNUM, pc_hincrbyfloat(t->c, K("h"), K("nil"), 1.0, &now));
    RC(PC_ENAN, pc_hincrbyfloat(t->c, K("h"), K("i"), NAN, &now));
    RC(PC_ENAN, pc_hincrbyfloat(t->c, K("h"), K("i"), INFINITY, &now));
    RC(PC_ENAN, pc_hincrbyfloat(t->c, K("h"), K("new"), -INFINITY, &now));
    RC(PC_ENAN, pc_hincrbyfloat(t->c, K("h"), K("max"), DBL_MAX, &now));
    RC(PC_ENAN, pc_hincrbyfloat(t->c, K("nokey"), K("f"), NAN, &now));
    assert_int_equal(pt_version(t->c, "h"), ver);
    HGET_IS(t->c, "h", "max", pc_dbl(DBL_MAX));
    HGET_IS(t->c, "h", "i", pc_dbl(10.25));
    MISSING(t->c, "nokey");
    pc_read *r = pt_rd(t->c);
    int ex = 1;
    OK(pc_hexists(r, K("h"), K("new"), &ex));
    assert_int_equal(ex, 0);
    pc_read_end(r);

    /* hincrby on the double the float made is PC_ENOTINT */
    int64_t in;
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("i"), 1, &in));
}

static void test_hscan_paging(void **state)
{
    pt_store *t = *state;
    enum { N = 1000, PAGE = 13 };
    static char names[N][16];
    pc_bytes f[100];
    pc_val v[100];
    pt_rng seed = {42};
    /* insert in a shuffled order, 100 at a time */
    static int order[N];
    pt_shuffle(order, N, &seed);
    for (int i = 0; i < N; i++)
        snprintf(names[i], sizeof names[i], "field:%d", i);
    for (int b = 0; b < N; b += 100) {
        for (int i = 0; i < 100; i++) {
            int k = order[b + i];
            f[i] = F(names[k]);
            v[i] = pc_int(k);
        }
        OK(pc_hset(t->c, K("h"), f, v, 100, NULL));
    }
    assert_int_equal(hlen(t->c, "h"), N);

    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    pc_read *r = pt_rd(t->c);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes pf[PAGE];
    pc_val pv[PAGE];
    size_t n, total = 0, calls = 0;
    pc_bytes last = {NULL, 0};
    char lastbuf[16];
    while (!cur.done) {
        OK(pc_hscan(r, K("h"), &cur, pf, pv, PAGE, &n));
        assert_true(n <= PAGE);
        assert_true(n == PAGE || cur.done);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(pv[i].kind, PC_INT);
            assert_true(pv[i].i >= 0 && pv[i].i < N);
            /* the field matches its value */
            assert_int_equal(pf[i].len, strlen(names[pv[i].i]));
            assert_memory_equal(pf[i].ptr, names[pv[i].i], pf[i].len);
            seen[pv[i].i]++;
            /* in field order */
            if (last.ptr) {
                size_t m = last.len < pf[i].len ? last.len : pf[i].len;
                int c = memcmp(last.ptr, pf[i].ptr, m);
                assert_true(c < 0 || (c == 0 && last.len < pf[i].len));
            }
            memcpy(lastbuf, pf[i].ptr, pf[i].len);
            last = pc_b(lastbuf, pf[i].len);
        }
        total += n;
        calls++;
        assert_true(calls <= N);
    }
    assert_int_equal(total, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    /* a finished cursor gives nothing more */
    OK(pc_hscan(r, K("h"), &cur, pf, pv, PAGE, &n));
    assert_int_equal(n, 0);

    /* fields only, then values only */
    pc_cursor c2 = PC_CURSOR_INIT;
    total = 0;
    while (!c2.done) {
        OK(pc_hscan(r, K("h"), &c2, pf, NULL, PAGE, &n));
        total += n;
    }
    assert_int_equal(total, N);
    pc_cursor c3 = PC_CURSOR_INIT;
    total = 0;
    while (!c3.done) {
        OK(pc_hscan(r, K("h"), &c3, NULL, pv, PAGE, &n));
        total += n;
    }
    assert_int_equal(total, N);

    /* a missing key scans empty; a String is the wrong type */
    pc_cursor c4 = PC_CURSOR_INIT;
    OK(pc_hscan(r, K("missing"), &c4, pf, pv, PAGE, &n));
    assert_int_equal(n, 0);
    assert_true(c4.done);
    pc_read_end(r);
    pc_val s = S("s");
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    r = pt_rd(t->c);
    pc_cursor c5 = PC_CURSOR_INIT;
    RC(PC_EWRONGTYPE, pc_hscan(r, K("s"), &c5, pf, pv, PAGE, &n));
    pc_read_end(r);
}

/* Collect every field of key by hscan (pages of 3) into f/v; returns how many. */
static size_t hscan_all(pc_read *r, const char *key, pc_bytes *f, pc_val *v, size_t max)
{
    pc_cursor cur = PC_CURSOR_INIT;
    size_t total = 0, n;
    while (!cur.done) {
        assert_true(total + 3 <= max);
        OK(pc_hscan(r, K(key), &cur, f + total, v + total, 3, &n));
        total += n;
    }
    return total;
}

static void test_empty_and_long_fields(void **state)
{
    pt_store *t = *state;
    /* lengths around the digest threshold (480), and a very long one; two
     * long fields share their first 464 bytes and their length */
    static const size_t lens[] = {0, 1, 463, 464, 479, 480, 481, 1000, 100000};
    enum { NF = sizeof lens / sizeof lens[0], NT = NF + 2 };
    static char *buf[NT];
    size_t flen[NT];
    pc_bytes f[NT];
    pc_val v[NT];
    for (size_t i = 0; i < NT; i++) {
        flen[i] = i < NF ? lens[i] : (i == NF ? 1000 : 481);
        buf[i] = malloc(flen[i] + 1);
        assert_non_null(buf[i]);
        for (size_t j = 0; j < flen[i]; j++)
            buf[i][j] = (char)('a' + (j * 7 + i) % 26);
        if (i >= NF) { /* same as field 7 (1000) or 6 (481) but the last byte */
            size_t twin = i == NF ? 7 : 6;
            memcpy(buf[i], buf[twin], flen[i]);
            buf[i][flen[i] - 1] ^= 1;
        }
        f[i] = pc_b(buf[i], flen[i]);
        v[i] = pc_int((int64_t)i);
    }
    uint64_t added = 0;
    OK(pc_hset(t->c, K("h"), f, v, NT, &added));
    assert_int_equal(added, NT);
    assert_int_equal(hlen(t->c, "h"), NT);

    pc_read *r = pt_rd(t->c);
    for (size_t i = 0; i < NT; i++) {
        pc_val out;
        int ex = 0;
        OK(pc_hget(r, K("h"), buf[i], flen[i], &out));
        VAL_EQ(out, pc_int((int64_t)i));
        OK(pc_hexists(r, K("h"), buf[i], flen[i], &ex));
        assert_int_equal(ex, 1);
    }
    /* a long field that is not there, with a stored field's prefix */
    char *probe = malloc(100000);
    assert_non_null(probe);
    memcpy(probe, buf[8], 100000);
    probe[99999] ^= 2;
    pc_val out;
    RC(PC_ENOTFOUND, pc_hget(r, K("h"), probe, 100000, &out));
    RC(PC_ENOTFOUND, pc_hget(r, K("h"), probe, 99999, &out));

    /* hscan returns each once, with all its bytes */
    pc_bytes sf[NT + 3];
    pc_val sv[NT + 3];
    size_t n = hscan_all(r, "h", sf, sv, NT + 3);
    assert_int_equal(n, NT);
    unsigned seen[NT] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sv[i].kind, PC_INT);
        size_t k = (size_t)sv[i].i;
        assert_true(k < NT);
        seen[k]++;
        assert_int_equal(sf[i].len, flen[k]);
        if (flen[k])
            assert_memory_equal(sf[i].ptr, buf[k], flen[k]);
    }
    for (size_t i = 0; i < NT; i++)
        assert_int_equal(seen[i], 1);
    pc_read_end(r);

    /* overwrite a long field in place */
    pc_val nv = S("new");
    OK(pc_hset(t->c, K("h"), &f[8], &nv, 1, &added));
    assert_int_equal(added, 0);
    hget_is(__FILE__, __LINE__, t->c, "h", buf[8], flen[8], S("new"));
    int64_t now;
    OK(pc_hincrby(t->c, K("h"), buf[6], flen[6], 10, &now));
    assert_int_equal(now, 16);

    /* hdel each, the key goes with the last */
    for (size_t i = 0; i < NT; i++) {
        uint64_t removed = 0;
        OK(pc_hdel(t->c, K("h"), &f[i], 1, &removed));
        assert_int_equal(removed, 1);
        if (i + 1 < NT) {
            assert_int_equal(hlen(t->c, "h"), NT - i - 1);
            r = pt_rd(t->c);
            int ex = 1;
            OK(pc_hexists(r, K("h"), buf[i], flen[i], &ex));
            assert_int_equal(ex, 0);
            /* the others are still there */
            OK(pc_hget(r, K("h"), buf[NT - 1], flen[NT - 1], &out));
            pc_read_end(r);
        }
    }
    MISSING(t->c, "h");
    free(probe);
    for (size_t i = 0; i < NT; i++)
        free(buf[i]);
}

static void test_set_coll_map(void **state)
{
    pt_store *t = *state;
    pc_val items[] = {S("a"), pc_int(1), S("b"), pc_int(2), S("a"), pc_int(3), S(""), pc_nil()};
    OK(pc_set_coll(t->c, K("h"), PC_T_MAP, items, NELEM(items), 0, 0));
    TYPE_IS(t->c, "h", PC_T_MAP);
    assert_int_equal(hlen(t->c, "h"), 3);
    HGET_IS(t->c, "h", "a", pc_int(3));
    HGET_IS(t->c, "h", "b", pc_int(2));
    HGET_IS(t->c, "h", "", pc_nil());

    /* replaces whatever was there */
    pc_val items2[] = {S("z"), S("zz")};
    OK(pc_set_coll(t->c, K("h"), PC_T_MAP, items2, 2, 0, 0));
    assert_int_equal(hlen(t->c, "h"), 1);
    pc_read *r = pt_rd(t->c);
    pc_val out;
    RC(PC_ENOTFOUND, pc_hget(r, K("h"), K("a"), &out));
    pc_read_end(r);

    /* a field that is not bytes, or an odd count: refused */
    pc_val bad[] = {pc_int(1), pc_int(2)};
    RC(PC_EINVAL, pc_set_coll(t->c, K("h"), PC_T_MAP, bad, 2, 0, 0));
    RC(PC_EINVAL, pc_set_coll(t->c, K("h"), PC_T_MAP, items, 3, 0, 0));
    pc_val nan[] = {S("a"), pc_dbl(NAN)};
    RC(PC_ENAN, pc_set_coll(t->c, K("h"), PC_T_MAP, nan, 2, 0, 0));
    HGET_IS(t->c, "h", "z", S("zz"));

    /* n == 0 deletes */
    OK(pc_set_coll(t->c, K("h"), PC_T_MAP, NULL, 0, 0, 0));
    MISSING(t->c, "h");

    /* with a TTL */
    OK(pc_set_coll(t->c, K("ht"), PC_T_MAP, items2, 2, 50000, 0));
    int64_t ttl = pt_ttl(t->c, "ht");
    assert_true(ttl > 40000 && ttl <= 50000);
}

static void test_map_wrong_type(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1);
    pc_bytes f = F("f");
    OK(pc_set(t->c, K("s"), &one, 0, 0));
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    OK(pc_sadd(t->c, K("z"), &one, 1, NULL));
    OK(pc_qpush(t->c, K("q"), &one, 1, NULL));
    const char *const keys[] = {"s", "l", "z", "q"};
    for (size_t i = 0; i < 4; i++) {
        uint64_t ver = pt_version(t->c, keys[i]);
        uint64_t u;
        int64_t in;
        double d;
        RC(PC_EWRONGTYPE, pc_hset(t->c, K(keys[i]), &f, &one, 1, &u));
        RC(PC_EWRONGTYPE, pc_hdel(t->c, K(keys[i]), &f, 1, &u));
        RC(PC_EWRONGTYPE, pc_hincrby(t->c, K(keys[i]), K("f"), 1, &in));
        RC(PC_EWRONGTYPE, pc_hincrbyfloat(t->c, K(keys[i]), K("f"), 1, &d));
        pc_read *r = pt_rd(t->c);
        pc_val out;
        int ex;
        RC(PC_EWRONGTYPE, pc_hget(r, K(keys[i]), K("f"), &out));
        RC(PC_EWRONGTYPE, pc_hmget(r, K(keys[i]), &f, 1, &out));
        RC(PC_EWRONGTYPE, pc_hlen(r, K(keys[i]), &u));
        RC(PC_EWRONGTYPE, pc_hexists(r, K(keys[i]), K("f"), &ex));
        pc_read_end(r);
        assert_int_equal(pt_version(t->c, keys[i]), ver);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_hset_hget),
        PT_STORE_TEST(test_hmget),
        PT_STORE_TEST(test_hdel),
        PT_STORE_TEST(test_hdel_none_present),
        PT_STORE_TEST(test_hlen_hexists),
        PT_STORE_TEST(test_hincrby),
        PT_STORE_TEST(test_hincrbyfloat),
        PT_STORE_TEST(test_hscan_paging),
        PT_STORE_TEST(test_empty_and_long_fields),
        PT_STORE_TEST(test_set_coll_map),
        PT_STORE_TEST(test_map_wrong_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
