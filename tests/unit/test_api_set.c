/*
 * test_api_set.c - the public API for Sets: sadd, srem, sismember with typed
 * members, scard, sscan paging, spop, long members (kept under a digest),
 * sunion/sinter/sdiff with missing keys and paging, and wrong types.
 */
#include <math.h>

#include "pctest.h"

#define S(s) pc_str(s)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t scard(pc_client *c, const char *key)
{
    pc_read *r = pt_rd(c);
    uint64_t n = 0;
    OK(pc_scard(r, K(key), &n));
    pc_read_end(r);
    return n;
}

static int ismember(pc_client *c, const char *key, pc_val m)
{
    pc_read *r = pt_rd(c);
    int out = -1;
    OK(pc_sismember(r, K(key), &m, &out));
    pc_read_end(r);
    return out;
}

enum { ALG_SCAN, ALG_UNION, ALG_INTER, ALG_DIFF };

/* Page through a scan or set algebra with pages of at most page, into out
 * (room for max); returns the count.  Each page but the last is full. */
static size_t collect(pc_read *r, int how, const pc_bytes *keys, size_t nkeys, size_t page,
                      pc_val *out, size_t max)
{
    pc_cursor cur = PC_CURSOR_INIT;
    size_t total = 0, n = 0, calls = 0;
    while (!cur.done) {
        assert_true(total + page <= max);
        switch (how) {
        case ALG_SCAN:
            OK(pc_sscan(r, keys[0].ptr, keys[0].len, &cur, out + total, page, &n));
            break;
        case ALG_UNION:
            OK(pc_sunion(r, keys, nkeys, &cur, out + total, page, &n));
            break;
        case ALG_INTER:
            OK(pc_sinter(r, keys, nkeys, &cur, out + total, page, &n));
            break;
        default:
            OK(pc_sdiff(r, keys, nkeys, &cur, out + total, page, &n));
            break;
        }
        assert_true(n <= page);
        total += n;
        assert_true(++calls < 100000);
    }
    return total;
}

/* got[0..n) holds exactly the members want[0..nwant), each once. */
static void same_members(const char *file, int line, const pc_val *got, size_t n,
                         const pc_val *want, size_t nwant)
{
    char b[160];
    for (size_t i = 0; i < n; i++) {
        if (!pt_val_in(&got[i], want, nwant)) {
            print_error("%s:%d: unexpected member %s\n", file, line,
                        pt_val_fmt(b, sizeof b, &got[i]));
            _fail(file, line);
        }
        if (pt_val_in(&got[i], got + i + 1, n - i - 1)) {
            print_error("%s:%d: member %s returned twice\n", file, line,
                        pt_val_fmt(b, sizeof b, &got[i]));
            _fail(file, line);
        }
    }
    if (n != nwant) {
        print_error("%s:%d: %zu members, expected %zu\n", file, line, n, nwant);
        _fail(file, line);
    }
}
#define SAME_MEMBERS(got, n, want, nwant) same_members(__FILE__, __LINE__, got, n, want, nwant)

/* Assert that key holds exactly want[0..n) (missing when n == 0). */
static void set_is(const char *file, int line, pc_client *c, const char *key, const pc_val *want,
                   size_t n)
{
    pc_read *r = pt_rd(c);
    pc_bytes k = pc_b(key, strlen(key));
    pc_val got[256];
    size_t m = collect(r, ALG_SCAN, &k, 1, 5, got, 256);
    same_members(file, line, got, m, want, n);
    uint64_t card = 0;
    int rc = pc_scard(r, K(key), &card);
    pt_check_rc(file, line, "pc_scard", rc, n ? 0 : PC_ENOTFOUND);
    if (n && card != n) {
        print_error("%s:%d: scard %" PRIu64 ", expected %zu\n", file, line, card, n);
        _fail(file, line);
    }
    pc_read_end(r);
}
#define SET_IS(c, key, want, n) set_is(__FILE__, __LINE__, (c), (key), (want), (n))

static void test_sadd_srem(void **state)
{
    pt_store *t = *state;
    uint64_t added = 99, removed = 99;
    pc_val m1[] = {pc_int(1), pc_int(2), pc_int(2), S("a")};

    OK(pc_sadd(t->c, K("s"), m1, 4, &added));
    assert_int_equal(added, 3);
    TYPE_IS(t->c, "s", PC_T_SET);
    pc_val want1[] = {pc_int(1), pc_int(2), S("a")};
    SET_IS(t->c, "s", want1, 3);

    pc_val m2[] = {pc_int(2), pc_int(3)};
    OK(pc_sadd(t->c, K("s"), m2, 2, &added));
    assert_int_equal(added, 1);
    OK(pc_sadd(t->c, K("s"), m2, 2, &added));
    assert_int_equal(added, 0);
    OK(pc_sadd(t->c, K("s"), m2, 2, NULL));
    assert_int_equal(scard(t->c, "s"), 4);

    pc_val r1[] = {pc_int(2), pc_int(99), pc_int(2)};
    OK(pc_srem(t->c, K("s"), r1, 3, &removed));
    assert_int_equal(removed, 1);
    pc_val want2[] = {pc_int(1), pc_int(3), S("a")};
    SET_IS(t->c, "s", want2, 3);
    OK(pc_srem(t->c, K("s"), r1, 1, &removed));
    assert_int_equal(removed, 0);

    /* removing the last members removes the key */
    OK(pc_srem(t->c, K("s"), want2, 3, &removed));
    assert_int_equal(removed, 3);
    MISSING(t->c, "s");
    OK(pc_srem(t->c, K("s"), want2, 3, &removed));
    assert_int_equal(removed, 0);
    MISSING(t->c, "s");

    /* pc_set_coll collapses duplicate members */
    pc_val dup[] = {pc_int(1), pc_int(1), S("a"), S("a"), pc_dbl(0.0), pc_dbl(-0.0)};
    OK(pc_set_coll(t->c, K("d"), PC_T_SET, dup, NELEM(dup), 0, 0));
    pc_val dwant[] = {pc_int(1), S("a"), pc_dbl(0.0)};
    SET_IS(t->c, "d", dwant, 3);

    /* sadd keeps the TTL; a bad member refuses the whole call */
    OK(pc_set_coll(t->c, K("t"), PC_T_SET, m1, 4, 100000, 0));
    SET_IS(t->c, "t", want1, 3);
    OK(pc_sadd(t->c, K("t"), m2, 2, NULL));
    assert_true(pt_ttl(t->c, "t") > 90000);
    pc_val bad[] = {pc_int(7), pc_dbl(NAN)};
    RC(PC_ENAN, pc_sadd(t->c, K("t"), bad, 2, &added));
    assert_int_equal(ismember(t->c, "t", pc_int(7)), 0);
    RC(PC_EINVAL, pc_sadd(t->c, K("t"), m1, 0, &added));
}

static void test_typed_members(void **state)
{
    pt_store *t = *state;
    uint64_t added = 0;
    pc_val one = pc_int(1);
    OK(pc_sadd(t->c, K("s"), &one, 1, NULL));
    assert_int_equal(ismember(t->c, "s", pc_int(1)), 1);
    assert_int_equal(ismember(t->c, "s", pc_dbl(1.0)), 0);
    assert_int_equal(ismember(t->c, "s", S("1")), 0);
    assert_int_equal(ismember(t->c, "s", pc_bool(true)), 0);
    assert_int_equal(ismember(t->c, "s", pc_nil()), 0);

    pc_val all[] = {pc_int(1), pc_dbl(1.0), S("1"), pc_bool(true), pc_nil()};
    OK(pc_sadd(t->c, K("s"), all, 5, &added));
    assert_int_equal(added, 4);
    SET_IS(t->c, "s", all, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(ismember(t->c, "s", all[i]), 1);

    /* zeros and falsy values are distinct members; -0.0 is 0.0 */
    pc_val z[] = {pc_int(0), pc_dbl(0.0), S(""), pc_bool(false), S("0")};
    OK(pc_sadd(t->c, K("z"), z, 5, &added));
    assert_int_equal(added, 5);
    pc_val negz = pc_dbl(-0.0);
    OK(pc_sadd(t->c, K("z"), &negz, 1, &added));
    assert_int_equal(added, 0);
    assert_int_equal(ismember(t->c, "z", pc_dbl(-0.0)), 1);
    assert_int_equal(scard(t->c, "z"), 5);
    uint64_t removed = 0;
    OK(pc_srem(t->c, K("z"), &negz, 1, &removed));
    assert_int_equal(removed, 1);
    assert_int_equal(ismember(t->c, "z", pc_dbl(0.0)), 0);
    assert_int_equal(ismember(t->c, "z", pc_int(0)), 1);

    /* a -0.0 added first reads back as a zero double */
    OK(pc_sadd(t->c, K("nz"), &negz, 1, NULL));
    assert_int_equal(ismember(t->c, "nz", pc_dbl(0.0)), 1);

    /* numbers keep their values through the order-preserving encoding */
    pc_val nums[] = {pc_int(INT64_MIN), pc_int(-1),     pc_int(INT64_MAX), pc_dbl(-1e300),
                     pc_dbl(-2.5),      pc_dbl(1e-300), pc_dbl(3.75),      pc_dbl(1e308)};
    OK(pc_sadd(t->c, K("n"), nums, NELEM(nums), &added));
    assert_int_equal(added, NELEM(nums));
    SET_IS(t->c, "n", nums, NELEM(nums));

    /* missing key: not a member; NaN: refused */
    assert_int_equal(ismember(t->c, "missing", pc_int(1)), 0);
    pc_read *r = pt_rd(t->c);
    pc_val nan = pc_dbl(NAN);
    int out;
    RC(PC_ENAN, pc_sismember(r, K("s"), &nan, &out));
    pc_read_end(r);
}

static void test_sscan_paging(void **state)
{
    pt_store *t = *state;
    enum { N = 600 };
    static char names[N][16];
    static pc_val want[N];
    pc_val batch[50];
    /* ints, doubles, strings, in a shuffled order */
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0)
            want[i] = pc_int(i * 1000 - 300000);
        else if (i % 3 == 1)
            want[i] = pc_dbl(i * 0.5 - 100);
        else {
            snprintf(names[i], sizeof names[i], "m%d", i);
            want[i] = S(names[i]);
        }
    }
    pt_rng seed = {7};
    static int order[N];
    pt_shuffle(order, N, &seed);
    for (int b = 0; b < N; b += 50) {
        for (int i = 0; i < 50; i++)
            batch[i] = want[order[b + i]];
        OK(pc_sadd(t->c, K("s"), batch, 50, NULL));
    }
    assert_int_equal(scard(t->c, "s"), N);

    pc_read *r = pt_rd(t->c);
    static pc_val got[N + 16];
    pc_bytes k = pc_b("s", 1);
    size_t n = collect(r, ALG_SCAN, &k, 1, 7, got, N + 16);
    SAME_MEMBERS(got, n, want, N);
    /* the same order every time */
    static pc_val again[N + 16];
    size_t n2 = collect(r, ALG_SCAN, &k, 1, 11, again, N + 16);
    assert_int_equal(n2, n);
    for (size_t i = 0; i < n; i++)
        VAL_EQ(again[i], got[i]);

    /* a missing key scans empty */
    pc_bytes mk = pc_b("missing", 7);
    assert_int_equal(collect(r, ALG_SCAN, &mk, 1, 7, got, N), 0);
    pc_read_end(r);
}

static void test_spop(void **state)
{
    pt_store *t = *state;
    enum { N = 20 };
    pc_val m[N], out[64];
    size_t n = 0;
    for (int i = 0; i < N; i++)
        m[i] = pc_int(i);
    OK(pc_sadd(t->c, K("s"), m, N, NULL));

    OK(pc_spop(t->c, K("s"), 5, out, &n));
    assert_int_equal(n, 5);
    pc_val popped[N];
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(pt_val_in(&out[i], m, N));        /* was a member */
        assert_false(pt_val_in(&out[i], popped, np)); /* distinct */
        popped[np++] = out[i];
    }
    assert_int_equal(scard(t->c, "s"), N - 5);
    for (size_t i = 0; i < np; i++)
        assert_int_equal(ismember(t->c, "s", popped[i]), 0);

    /* more than there is: the rest, and the key goes */
    OK(pc_spop(t->c, K("s"), 100, out, &n));
    assert_int_equal(n, N - 5);
    for (size_t i = 0; i < n; i++) {
        assert_true(pt_val_in(&out[i], m, N));
        assert_false(pt_val_in(&out[i], popped, np));
        popped[np++] = out[i];
    }
    SAME_MEMBERS(popped, np, m, N);
    MISSING(t->c, "s");
    RC(PC_ENOTFOUND, pc_spop(t->c, K("s"), 1, out, &n));
    RC(PC_EINVAL, pc_spop(t->c, K("s"), 0, out, &n));

    /* strings pop with their bytes */
    pc_val ss[] = {S("alpha"), S("beta")};
    OK(pc_sadd(t->c, K("ss"), ss, 2, NULL));
    OK(pc_spop(t->c, K("ss"), 2, out, &n));
    SAME_MEMBERS(out, n, ss, 2);
    MISSING(t->c, "ss");
}

/* A large set takes spop's other path: still distinct members. */
static void test_spop_large(void **state)
{
    pt_store *t = *state;
    enum { N = 3000, POP = 40 };
    static pc_val m[N];
    for (int i = 0; i < N; i++)
        m[i] = pc_int(i * 3);
    for (int b = 0; b < N; b += 500)
        OK(pc_sadd(t->c, K("s"), m + b, 500, NULL));
    pc_val out[POP], popped[POP * 3];
    size_t n, np = 0;
    for (int round = 0; round < 3; round++) {
        OK(pc_spop(t->c, K("s"), POP, out, &n));
        assert_int_equal(n, POP);
        for (size_t i = 0; i < n; i++) {
            assert_true(pt_val_in(&out[i], m, N));
            assert_false(pt_val_in(&out[i], popped, np));
            popped[np++] = out[i];
        }
    }
    assert_int_equal(scard(t->c, "s"), N - 3 * POP);
    for (size_t i = 0; i < np; i++)
        assert_int_equal(ismember(t->c, "s", popped[i]), 0);
}

static void test_long_members(void **state)
{
    pt_store *t = *state;
    /* encoded size is 1 + length: 479 bytes encode to 480, the first long */
    static const size_t lens[] = {477, 478, 479, 480, 1000, 70000};
    enum { NL = sizeof lens / sizeof lens[0], NT = NL + 2 };
    static char *buf[NT];
    pc_val m[NT];
    size_t len[NT];
    for (size_t i = 0; i < NT; i++) {
        len[i] = i < NL ? lens[i] : (i == NL ? 1000 : 479);
        buf[i] = malloc(len[i]);
        assert_non_null(buf[i]);
        for (size_t j = 0; j < len[i]; j++)
            buf[i][j] = (char)((j * 13 + i) & 0xff);
        if (i >= NL) { /* a twin of a long member differing in its last byte */
            memcpy(buf[i], buf[i == NL ? 4 : 2], len[i]);
            buf[i][len[i] - 1] ^= 0x40;
        }
        m[i] = pc_mem(buf[i], len[i]);
    }
    uint64_t added = 0, removed = 0;
    OK(pc_sadd(t->c, K("s"), m, NT, &added));
    assert_int_equal(added, NT);
    OK(pc_sadd(t->c, K("s"), m, NT, &added));
    assert_int_equal(added, 0);
    SET_IS(t->c, "s", m, NT);
    for (size_t i = 0; i < NT; i++)
        assert_int_equal(ismember(t->c, "s", m[i]), 1);

    /* a long string with a member's prefix is not a member */
    char *probe = malloc(70000);
    assert_non_null(probe);
    memcpy(probe, buf[5], 70000);
    probe[69999] ^= 1;
    assert_int_equal(ismember(t->c, "s", pc_mem(probe, 70000)), 0);
    assert_int_equal(ismember(t->c, "s", pc_mem(probe, 69000)), 0);

    /* set algebra compares long members by their bytes */
    pc_val two[] = {m[3], m[5], pc_mem(probe, 70000)};
    OK(pc_sadd(t->c, K("o"), two, 3, NULL));
    pc_read *r = pt_rd(t->c);
    pc_bytes keys[] = {pc_b("s", 1), pc_b("o", 1)};
    pc_val got[NT + 8];
    size_t n = collect(r, ALG_INTER, keys, 2, 2, got, NT + 8);
    SAME_MEMBERS(got, n, two, 2);
    n = collect(r, ALG_DIFF, keys + 1, 1, 2, got, NT + 8);
    assert_int_equal(n, 3);
    pc_bytes rev[] = {pc_b("o", 1), pc_b("s", 1)};
    n = collect(r, ALG_DIFF, rev, 2, 2, got, NT + 8);
    SAME_MEMBERS(got, n, &two[2], 1);
    n = collect(r, ALG_UNION, keys, 2, 3, got, NT + 8);
    assert_int_equal(n, NT + 1);
    pc_read_end(r);

    /* spop returns long members whole */
    pc_val out[2];
    size_t np;
    OK(pc_spop(t->c, K("o"), 1, out, &np));
    assert_int_equal(np, 1);
    assert_true(pt_val_in(&out[0], two, 3));

    for (size_t i = 0; i < NT; i++) {
        OK(pc_srem(t->c, K("s"), &m[i], 1, &removed));
        assert_int_equal(removed, 1);
        assert_int_equal(ismember(t->c, "s", m[i]), 0);
    }
    MISSING(t->c, "s");
    free(probe);
    for (size_t i = 0; i < NT; i++)
        free(buf[i]);
}

static void test_algebra(void **state)
{
    pt_store *t = *state;
    pc_val a[] = {pc_int(1), pc_int(2), pc_int(3), S("x")};
    pc_val b[] = {pc_int(2), pc_int(3), pc_int(4)};
    pc_val c[] = {pc_int(3), pc_int(5)};
    OK(pc_sadd(t->c, K("A"), a, NELEM(a), NULL));
    OK(pc_sadd(t->c, K("B"), b, NELEM(b), NULL));
    OK(pc_sadd(t->c, K("C"), c, NELEM(c), NULL));
    pc_val str = S("str");
    OK(pc_set(t->c, K("S"), &str, 0, 0));
    OK(pc_rpush(t->c, K("L"), &str, 1, NULL));

    const pc_bytes A = pc_b("A", 1), B = pc_b("B", 1), C = pc_b("C", 1), M = pc_b("M", 1);
    pc_read *r = pt_rd(t->c);
    pc_val got[32];
    size_t n;
    for (size_t page = 1; page <= 4; page += 3) {
        pc_bytes abc[] = {A, B, C};
        n = collect(r, ALG_UNION, abc, 3, page, got, 32);
        pc_val u[] = {pc_int(1), pc_int(2), pc_int(3), pc_int(4), pc_int(5), S("x")};
        SAME_MEMBERS(got, n, u, NELEM(u));

        n = collect(r, ALG_INTER, abc, 2, page, got, 32);
        pc_val i2[] = {pc_int(2), pc_int(3)};
        SAME_MEMBERS(got, n, i2, 2);
        n = collect(r, ALG_INTER, abc, 3, page, got, 32);
        SAME_MEMBERS(got, n, &c[0], 1);

        n = collect(r, ALG_DIFF, abc, 2, page, got, 32);
        pc_val d[] = {pc_int(1), S("x")};
        SAME_MEMBERS(got, n, d, 2);
        n = collect(r, ALG_DIFF, abc, 3, page, got, 32);
        SAME_MEMBERS(got, n, d, 2);
        pc_bytes ba[] = {B, A};
        n = collect(r, ALG_DIFF, ba, 2, page, got, 32);
        SAME_MEMBERS(got, n, &b[2], 1);

        /* missing keys are empty sets */
        pc_bytes am[] = {A, M};
        n = collect(r, ALG_UNION, am, 2, page, got, 32);
        SAME_MEMBERS(got, n, a, NELEM(a));
        n = collect(r, ALG_INTER, am, 2, page, got, 32);
        assert_int_equal(n, 0);
        n = collect(r, ALG_DIFF, am, 2, page, got, 32);
        SAME_MEMBERS(got, n, a, NELEM(a));
        pc_bytes ma[] = {M, A};
        n = collect(r, ALG_DIFF, ma, 2, page, got, 32);
        assert_int_equal(n, 0);
        n = collect(r, ALG_UNION, &M, 1, page, got, 32);
        assert_int_equal(n, 0);
        n = collect(r, ALG_INTER, &M, 1, page, got, 32);
        assert_int_equal(n, 0);
        /* one set */
        n = collect(r, ALG_INTER, &A, 1, page, got, 32);
        SAME_MEMBERS(got, n, a, NELEM(a));
        /* the same set twice */
        pc_bytes aa[] = {A, A};
        n = collect(r, ALG_UNION, aa, 2, page, got, 32);
        SAME_MEMBERS(got, n, a, NELEM(a));
        n = collect(r, ALG_DIFF, aa, 2, page, got, 32);
        assert_int_equal(n, 0);
    }

    /* a key that is not a Set */
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes as[] = {A, pc_b("S", 1)};
    RC(PC_EWRONGTYPE, pc_sunion(r, as, 2, &cur, got, 32, &n));
    pc_cursor cur2 = PC_CURSOR_INIT;
    RC(PC_EWRONGTYPE, pc_sinter(r, as, 2, &cur2, got, 32, &n));
    pc_cursor cur3 = PC_CURSOR_INIT;
    pc_bytes la[] = {pc_b("L", 1), A};
    RC(PC_EWRONGTYPE, pc_sdiff(r, la, 2, &cur3, got, 32, &n));
    pc_read_end(r);
}

/* Set algebra over larger sets, paged three at a time. */
static void test_algebra_paging(void **state)
{
    pt_store *t = *state;
    enum { N = 300 };
    static pc_val a[N], b[N], u[N + 200], in[100], d[200];
    size_t nu = 0, ni = 0, nd = 0;
    /* A = 0..299, B = 200..499 */
    for (int i = 0; i < N; i++) {
        a[i] = pc_int(i);
        b[i] = pc_int(i + 200);
    }
    for (int i = 0; i < 500; i++)
        u[nu++] = pc_int(i);
    for (int i = 200; i < 300; i++)
        in[ni++] = pc_int(i);
    for (int i = 0; i < 200; i++)
        d[nd++] = pc_int(i);
    OK(pc_sadd(t->c, K("A"), a, N, NULL));
    OK(pc_sadd(t->c, K("B"), b, N, NULL));

    pc_read *r = pt_rd(t->c);
    static pc_val got[600];
    pc_bytes ab[] = {pc_b("A", 1), pc_b("B", 1)};
    size_t n = collect(r, ALG_UNION, ab, 2, 3, got, 600);
    SAME_MEMBERS(got, n, u, nu);
    n = collect(r, ALG_INTER, ab, 2, 3, got, 600);
    SAME_MEMBERS(got, n, in, ni);
    n = collect(r, ALG_DIFF, ab, 2, 3, got, 600);
    SAME_MEMBERS(got, n, d, nd);
    pc_read_end(r);
}

static void test_set_wrong_type(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1);
    pc_bytes f = pc_b("f", 1);
    OK(pc_set(t->c, K("s"), &one, 0, 0));
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    OK(pc_hset(t->c, K("h"), &f, &one, 1, NULL));
    OK(pc_qpush(t->c, K("q"), &one, 1, NULL));
    const char *const keys[] = {"s", "l", "h", "q"};
    for (size_t i = 0; i < 4; i++) {
        uint64_t ver = pt_version(t->c, keys[i]);
        uint64_t u;
        pc_val out[2];
        size_t n;
        RC(PC_EWRONGTYPE, pc_sadd(t->c, K(keys[i]), &one, 1, &u));
        RC(PC_EWRONGTYPE, pc_srem(t->c, K(keys[i]), &one, 1, &u));
        RC(PC_EWRONGTYPE, pc_spop(t->c, K(keys[i]), 1, out, &n));
        pc_read *r = pt_rd(t->c);
        int ism;
        pc_cursor cur = PC_CURSOR_INIT;
        RC(PC_EWRONGTYPE, pc_scard(r, K(keys[i]), &u));
        RC(PC_EWRONGTYPE, pc_sismember(r, K(keys[i]), &one, &ism));
        RC(PC_EWRONGTYPE, pc_sscan(r, K(keys[i]), &cur, out, 2, &n));
        pc_read_end(r);
        assert_int_equal(pt_version(t->c, keys[i]), ver);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_sadd_srem),      PT_STORE_TEST(test_typed_members),
        PT_STORE_TEST(test_sscan_paging),   PT_STORE_TEST(test_spop),
        PT_STORE_TEST(test_spop_large),     PT_STORE_TEST(test_long_members),
        PT_STORE_TEST(test_algebra),        PT_STORE_TEST(test_algebra_paging),
        PT_STORE_TEST(test_set_wrong_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
