/*
 * test_record.c - unit tests of shm/record.c: records, tagged elements, set
 * member encoding, member and expiry keys, key to shard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../../shm/bytes.h"
#include "../../shm/record.h"
#include "pycache.h"
#include "pctest.h"

/* ---- records ---- */

/* Encode r (plus a String's bytes) into out; returns the length. */
static size_t rec_build(uint8_t *out, const pcs_rec *r, const void *data, size_t dlen)
{
    size_t n = pcs_rec_encode_head(out, r);
    if (dlen)
        memcpy(out + n, data, dlen);
    return n + dlen;
}

static void rec_same(const pcs_rec *a, const pcs_rec *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->expire_at, b->expire_at);
    if (a->type == PC_T_NUMERIC) {
        assert_int_equal(a->num.kind, b->num.kind);
        if (a->num.kind == PC_INT)
            assert_int_equal(a->num.i, b->num.i);
        else
            assert_int_equal(pcs_d2u(a->num.d), pcs_d2u(b->num.d));
    }
    if (pcs_is_coll(a->type)) {
        assert_int_equal(a->gen, b->gen);
        assert_int_equal(a->count, b->count);
    }
    if (pcs_is_seq(a->type)) {
        assert_int_equal(a->head, b->head);
        assert_int_equal(a->tail, b->tail);
    }
}

/* Round trip r; returns the encoded length. */
static size_t rec_roundtrip(const pcs_rec *r, const void *data, size_t dlen)
{
    uint8_t buf[PCS_REC_HEAD_MAX + 64];
    assert_true(dlen <= 64);
    size_t n = rec_build(buf, r, data, dlen);
    size_t head = 1 + 8 + (r->expire_at ? 8 : 0);
    switch (r->type) {
    case PC_T_STRING:
        assert_int_equal(n, head + dlen);
        break;
    case PC_T_NUMERIC:
        assert_int_equal(n, head + 8);
        break;
    case PC_T_LIST:
    case PC_T_QUEUE:
        assert_int_equal(n, head + 32);
        break;
    default:
        assert_int_equal(n, head + 16);
        break;
    }
    assert_int_equal(buf[0] & 0x0f, r->type);
    assert_int_equal(!!(buf[0] & PCS_RF_TTL), r->expire_at != 0);

    /* Decode from an exactly sized copy so that ASan sees any overread. */
    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    pcs_rec d;
    memset(&d, 0xa5, sizeof d);
    assert_int_equal(pcs_rec_decode(copy, n, &d), 0);
    rec_same(r, &d);
    if (r->type == PC_T_STRING) {
        assert_int_equal(d.dlen, dlen);
        assert_ptr_equal(d.data, copy + head);
        if (dlen)
            assert_memory_equal(d.data, data, dlen);
    }
    if (r->type == PC_T_NUMERIC)
        assert_int_equal(!!(d.flags & PCS_RF_DOUBLE), r->num.kind == PC_DOUBLE);
    assert_int_equal(!!(d.flags & PCS_RF_TTL), r->expire_at != 0);
    free(copy);
    return n;
}

static void test_rec_roundtrip(void **state)
{
    (void)state;
    static const uint64_t ttls[] = {0, 1, UINT64_C(1700000000000), UINT64_MAX};
    for (size_t t = 0; t < sizeof ttls / sizeof ttls[0]; t++) {
        pcs_rec r;

        memset(&r, 0, sizeof r);
        r.type = PC_T_STRING;
        r.version = 42;
        r.expire_at = ttls[t];
        rec_roundtrip(&r, "hello\0world", 11);
        rec_roundtrip(&r, "", 0);

        memset(&r, 0, sizeof r);
        r.type = PC_T_NUMERIC;
        r.version = UINT64_MAX;
        r.expire_at = ttls[t];
        static const int64_t ints[] = {0, 1, -1, INT64_MIN, INT64_MAX};
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
            r.num = pc_int(ints[i]);
            rec_roundtrip(&r, NULL, 0);
        }
        static const double dbls[] = {0.0, -0.0, 1.5, -1e300, DBL_MIN, DBL_MAX, 4.9e-324};
        for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++) {
            r.num = pc_dbl(dbls[i]);
            rec_roundtrip(&r, NULL, 0);
        }

        static const pc_type seqs[] = {PC_T_LIST, PC_T_QUEUE};
        for (size_t i = 0; i < 2; i++) {
            memset(&r, 0, sizeof r);
            r.type = seqs[i];
            r.version = 7;
            r.expire_at = ttls[t];
            r.gen = UINT64_C(0x0102030405060708);
            r.head = PCS_LIST_ORIGIN - 3;
            r.tail = PCS_LIST_ORIGIN + 5;
            r.count = 8;
            rec_roundtrip(&r, NULL, 0);
            r.head = 0;
            r.tail = r.count = 1;
            rec_roundtrip(&r, NULL, 0);
            r.head = UINT64_MAX - 1;
            r.tail = UINT64_MAX;
            rec_roundtrip(&r, NULL, 0);
        }

        static const pc_type unord[] = {PC_T_MAP, PC_T_SET};
        for (size_t i = 0; i < 2; i++) {
            memset(&r, 0, sizeof r);
            r.type = unord[i];
            r.version = 9;
            r.expire_at = ttls[t];
            r.gen = 12345;
            r.count = 100000;
            rec_roundtrip(&r, NULL, 0);
            r.count = UINT64_MAX;
            rec_roundtrip(&r, NULL, 0);
        }
    }
}

static void test_rec_expired(void **state)
{
    (void)state;
    pcs_rec r;
    memset(&r, 0, sizeof r);
    assert_false(pcs_rec_expired(&r, UINT64_MAX));
    r.expire_at = 1000;
    assert_false(pcs_rec_expired(&r, 999));
    assert_true(pcs_rec_expired(&r, 1000));
    assert_true(pcs_rec_expired(&r, 1001));
}

/* Decoding p[0..n) from an exactly sized copy must give PC_ECORRUPT. */
static void expect_corrupt(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, p, n);
    pcs_rec d;
    assert_int_equal(pcs_rec_decode(copy, n, &d), PC_ECORRUPT);
    free(copy);
}

/* A valid record of each type (with or without TTL) into out. */
static size_t rec_sample(uint8_t *out, pc_type t, bool ttl)
{
    pcs_rec r;
    memset(&r, 0, sizeof r);
    r.type = t;
    r.version = 3;
    r.expire_at = ttl ? 5000 : 0;
    r.gen = 77;
    r.count = 4;
    r.head = 10;
    r.tail = 14;
    r.num = pc_int(5);
    return rec_build(out, &r, "abc", t == PC_T_STRING ? 3 : 0);
}

static void test_rec_malformed(void **state)
{
    (void)state;
    uint8_t b[PCS_REC_HEAD_MAX + 64];

    /* Short: every prefix of a Numeric, List and Map record except the
     * whole (Strings accept any length of bytes past the header). */
    for (int ttl = 0; ttl < 2; ttl++) {
        static const pc_type ts[] = {PC_T_NUMERIC, PC_T_LIST, PC_T_QUEUE, PC_T_MAP, PC_T_SET};
        for (size_t t = 0; t < sizeof ts / sizeof ts[0]; t++) {
            size_t n = rec_sample(b, ts[t], ttl);
            for (size_t k = 0; k < n; k++)
                expect_corrupt(b, k);
            /* and one byte too many */
            b[n] = 0;
            expect_corrupt(b, n + 1);
        }
        size_t n = rec_sample(b, PC_T_STRING, ttl);
        for (size_t k = 0; k < 9 + (ttl ? 8u : 0u); k++)
            expect_corrupt(b, k);
        (void)n;
    }

    /* Bad type nibble: 0 (none) and 7..15. */
    for (unsigned t = 0; t < 16; t++) {
        if (t >= PC_T_STRING && t <= PC_T_QUEUE)
            continue;
        for (int ttl = 0; ttl < 2; ttl++) {
            size_t n = rec_sample(b, PC_T_MAP, ttl);
            b[0] = (uint8_t)((b[0] & 0xf0) | t);
            expect_corrupt(b, n);
        }
    }

    /* Unknown flags: 0x40 and 0x80, alone and with the known ones. */
    static const pc_type all[] = {PC_T_STRING, PC_T_NUMERIC, PC_T_LIST,
                                  PC_T_MAP,    PC_T_SET,     PC_T_QUEUE};
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
        for (unsigned f = 0x40; f <= 0xc0; f += 0x40) {
            size_t n = rec_sample(b, all[t], false);
            b[0] |= (uint8_t)f;
            expect_corrupt(b, n);
            n = rec_sample(b, all[t], true);
            b[0] |= (uint8_t)f;
            expect_corrupt(b, n);
        }
    }

    /* TTL flag with expire_at 0. */
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
        size_t n = rec_sample(b, all[t], true);
        memset(b + 9, 0, 8);
        expect_corrupt(b, n);
    }

    /* DOUBLE flag where it means nothing. */
    static const pc_type nodbl[] = {PC_T_STRING, PC_T_LIST, PC_T_MAP, PC_T_SET, PC_T_QUEUE};
    for (size_t t = 0; t < sizeof nodbl / sizeof nodbl[0]; t++) {
        size_t n = rec_sample(b, nodbl[t], false);
        b[0] |= PCS_RF_DOUBLE;
        expect_corrupt(b, n);
    }

    /* Lists and queues: count != tail - head, tail < head, count 0. */
    static const pc_type seqs[] = {PC_T_LIST, PC_T_QUEUE};
    for (size_t t = 0; t < 2; t++) {
        for (int ttl = 0; ttl < 2; ttl++) {
            size_t off = 9 + (ttl ? 8u : 0u);
            size_t n = rec_sample(b, seqs[t], ttl);
            pcs_put_le64(b + off + 8, 5); /* count 5, tail - head 4 */
            expect_corrupt(b, n);
            pcs_put_le64(b + off + 8, 3);
            expect_corrupt(b, n);
            /* tail < head with a count that matches the wrapped difference */
            pcs_put_le64(b + off + 16, 14);
            pcs_put_le64(b + off + 24, 10);
            pcs_put_le64(b + off + 8, (uint64_t)10 - 14);
            expect_corrupt(b, n);
            /* count 0 with head == tail */
            pcs_put_le64(b + off + 8, 0);
            pcs_put_le64(b + off + 16, 10);
            pcs_put_le64(b + off + 24, 10);
            expect_corrupt(b, n);
        }
    }
    /* Maps and sets: count 0. */
    static const pc_type unord[] = {PC_T_MAP, PC_T_SET};
    for (size_t t = 0; t < 2; t++) {
        for (int ttl = 0; ttl < 2; ttl++) {
            size_t n = rec_sample(b, unord[t], ttl);
            pcs_put_le64(b + 9 + (ttl ? 8u : 0u) + 8, 0);
            expect_corrupt(b, n);
        }
    }
}

/* ---- tagged elements ---- */

static void elem_roundtrip(const pc_val *v)
{
    size_t n = pcs_elem_size(v);
    uint8_t *b = malloc(n);
    assert_non_null(b);
    pcs_elem_encode(b, v);
    assert_int_equal(b[0], v->kind);
    pc_val d;
    memset(&d, 0x5a, sizeof d);
    assert_int_equal(pcs_elem_decode(b, n, &d), 0);
    VAL_SAME(d, *v);
    assert_true(pcs_val_equal(v, &d));
    if (v->kind == PC_BYTES)
        assert_ptr_equal(d.s.ptr, b + 1);
    free(b);
}

static void test_elem_roundtrip(void **state)
{
    (void)state;
    static const char nul[] = "a\0b\0\0c";
    uint8_t big[1000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    pc_val vs[] = {
        pc_mem("", 0),
        pc_mem(NULL, 0),
        pc_mem(nul, sizeof nul),
        pc_mem("\0", 1),
        pc_mem(big, sizeof big),
        pc_int(0),
        pc_int(-1),
        pc_int(INT64_MIN),
        pc_int(INT64_MAX),
        pc_dbl(0.0),
        pc_dbl(-0.0),
        pc_dbl(1.0 / 3),
        pc_dbl(-DBL_MAX),
        pc_dbl(DBL_MIN),
        pc_dbl(4.9e-324),
        pc_dbl(HUGE_VAL),
        pc_bool(true),
        pc_bool(false),
        pc_nil(),
    };
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
        elem_roundtrip(&vs[i]);
    assert_int_equal(pcs_elem_size(&vs[0]), 1);
    assert_int_equal(pcs_elem_size(&vs[5]), 9);
    assert_int_equal(pcs_elem_size(&vs[9]), 9);
    assert_int_equal(pcs_elem_size(&vs[16]), 2);
    assert_int_equal(pcs_elem_size(&vs[18]), 1);

    /* -0.0 keeps its sign through the store. */
    uint8_t b[9];
    pc_val z = pc_dbl(-0.0), d;
    pcs_elem_encode(b, &z);
    assert_int_equal(pcs_elem_decode(b, 9, &d), 0);
    assert_true(signbit(d.d));
}

static void elem_bad(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, p, n);
    pc_val v;
    assert_int_equal(pcs_elem_decode(copy, n, &v), PC_ECORRUPT);
    free(copy);
}

static void test_elem_malformed(void **state)
{
    (void)state;
    uint8_t b[16] = {0};
    elem_bad(b, 0);
    b[0] = PC_NONE; /* kind 0 is not an element */
    elem_bad(b, 1);
    b[0] = PC_NIL;
    elem_bad(b, 2);
    for (size_t n = 1; n < 12; n++) {
        if (n == 9)
            continue;
        b[0] = PC_INT;
        elem_bad(b, n);
        b[0] = PC_DOUBLE;
        elem_bad(b, n);
    }
    b[0] = PC_BOOL;
    elem_bad(b, 1);
    elem_bad(b, 3);
    b[1] = 2;
    elem_bad(b, 2);
    b[1] = 0xff;
    elem_bad(b, 2);
    for (unsigned k = PC_BOOL + 1; k < 256; k++) {
        b[0] = (uint8_t)k;
        elem_bad(b, 1);
        elem_bad(b, 9);
    }
}

static void test_val_equal_and_checks(void **state)
{
    (void)state;
    pc_val a = pc_str("abc"), b = pc_mem("abc", 3), c = pc_mem("abd", 3);
    assert_true(pcs_val_equal(&a, &b));
    assert_false(pcs_val_equal(&a, &c));
    pc_val i1 = pc_int(1), d1 = pc_dbl(1.0), t = pc_bool(true);
    assert_false(pcs_val_equal(&i1, &d1)); /* kinds differ */
    assert_false(pcs_val_equal(&i1, &t));
    pc_val pz = pc_dbl(0.0), nz = pc_dbl(-0.0);
    assert_true(pcs_val_equal(&pz, &nz));
    pc_val n1 = pc_nil(), n2 = pc_nil();
    assert_true(pcs_val_equal(&n1, &n2));
    pc_val e1 = pc_mem(NULL, 0), e2 = pc_mem("", 0);
    assert_true(pcs_val_equal(&e1, &e2));

    assert_int_equal(pcs_val_check(&a, 3), 0);
    assert_int_equal(pcs_val_check(&a, 2), PC_ETOOBIG);
    pc_val badp = pc_mem(NULL, 1);
    assert_int_equal(pcs_val_check(&badp, 10), PC_EINVAL);
    pc_val nan = pc_dbl(NAN), inf = pc_dbl(-INFINITY);
    assert_int_equal(pcs_val_check(&nan, 10), PC_ENAN);
    assert_int_equal(pcs_val_check(&inf, 10), PC_ENAN);
    pc_val none = {.kind = PC_NONE};
    assert_int_equal(pcs_val_check(&none, 10), PC_EINVAL);
    assert_int_equal(pcs_val_check(&n1, 10), 0);
    assert_int_equal(pcs_val_check(&t, 10), 0);
    assert_int_equal(pcs_scalar_check(&n1, 10), PC_EINVAL);
    assert_int_equal(pcs_scalar_check(&t, 10), PC_EINVAL);
    assert_int_equal(pcs_scalar_check(&i1, 10), 0);
    assert_int_equal(pcs_scalar_check(&nan, 10), PC_ENAN);
    assert_int_equal(pcs_ttl_check(0), 0);
    assert_int_equal(pcs_ttl_check(PC_TTL_MAX_MS), 0);
    assert_int_equal(pcs_ttl_check(PC_TTL_MAX_MS + 1), PC_EINVAL);
    assert_int_equal(pcs_ttl_check(-1), PC_EINVAL);
}

/* ---- set members ---- */

static int sgn(int c)
{
    return (c > 0) - (c < 0);
}

static void member_enc(const pc_val *v, uint8_t *out)
{
    assert_int_equal(pcs_member_size(v), pcs_elem_size(v));
    pcs_member_encode(out, v);
    assert_int_equal(out[0], v->kind);
    pc_val d;
    assert_int_equal(pcs_member_decode(out, pcs_member_size(v), &d), 0);
    if (v->kind == PC_DOUBLE && v->d == 0) {
        assert_int_equal(d.kind, PC_DOUBLE);
        assert_true(d.d == 0);
    } else {
        VAL_SAME(d, *v);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_member_ints_sort(void **state)
{
    (void)state;
    enum { N = 600 };
    int64_t v[N];
    size_t n = 0;
    static const int64_t fixed[] = {
        INT64_MIN, INT64_MIN + 1, -4294967296LL, -256,  -255,      -2,           -1, 0, 1,
        2,         255,           256,           65536, INT64_MAX, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        v[n++] = fixed[i];
    pt_rng r = {1};
    while (n < N) {
        uint64_t x = pt_next(&r);
        int shift = (int)pt_below(&r, 64);
        v[n++] = (int64_t)(x >> shift) * (pt_below(&r, 2) ? 1 : -1);
    }
    qsort(v, n, sizeof v[0], cmp_i64);
    uint8_t a[9], b[9];
    for (size_t i = 0; i < n; i++) {
        pc_val x = pc_int(v[i]);
        member_enc(&x, a);
        for (size_t j = i; j < n && j < i + 40; j++) {
            pc_val y = pc_int(v[j]);
            member_enc(&y, b);
            int want = cmp_i64(&v[i], &v[j]);
            assert_int_equal(sgn(memcmp(a, b, 9)), want);
        }
        if (i + 1 < n) { /* and against the far end */
            pc_val y = pc_int(v[n - 1]);
            member_enc(&y, b);
            assert_true(memcmp(a, b, 9) <= 0);
        }
    }
    /* Negative sorts before positive. */
    pc_val m1 = pc_int(-1), p1 = pc_int(1);
    member_enc(&m1, a);
    member_enc(&p1, b);
    assert_true(memcmp(a, b, 9) < 0);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_member_doubles_sort(void **state)
{
    (void)state;
    enum { N = 800 };
    double v[N];
    size_t n = 0;
    static const double fixed[] = {
        -DBL_MAX, -1e300,  -1e10,  -2.5, -1.0, -DBL_MIN,           -4.9e-324, -0.0, 0.0,   4.9e-324,
        1e-310,   DBL_MIN, 1e-300, 0.5,  1.0,  1.0000000000000002, 2.5,       1e10, 1e300, DBL_MAX};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        v[n++] = fixed[i];
    pt_rng r = {2};
    while (n < N) {
        /* random mantissa and exponent, both signs, incl. subnormals */
        uint64_t bits = pt_next(&r) & ~(UINT64_C(0x7ff) << 52);
        uint64_t e = pt_below(&r, 2047); /* never 2047: no inf or NaN */
        bits |= e << 52;
        v[n++] = pcs_u2d(bits);
    }
    qsort(v, n, sizeof v[0], cmp_dbl);
    uint8_t a[9], b[9];
    for (size_t i = 0; i < n; i++) {
        pc_val x = pc_dbl(v[i]);
        member_enc(&x, a);
        for (size_t j = i; j < n && j < i + 40; j++) {
            pc_val y = pc_dbl(v[j]);
            member_enc(&y, b);
            assert_int_equal(sgn(memcmp(a, b, 9)), cmp_dbl(&v[i], &v[j]));
        }
        for (size_t j = 0; j < n; j += 97) {
            pc_val y = pc_dbl(v[j]);
            member_enc(&y, b);
            assert_int_equal(sgn(memcmp(a, b, 9)), cmp_dbl(&v[i], &v[j]));
        }
    }
    /* -0.0 and 0.0 are one member. */
    pc_val pz = pc_dbl(0.0), nz = pc_dbl(-0.0);
    member_enc(&pz, a);
    member_enc(&nz, b);
    assert_memory_equal(a, b, 9);
    /* Infinities sort at the ends too. */
    pc_val ninf = pc_dbl(-INFINITY), pinf = pc_dbl(INFINITY), mx = pc_dbl(DBL_MAX);
    member_enc(&ninf, a);
    member_enc(&mx, b);
    assert_true(memcmp(a, b, 9) < 0);
    member_enc(&pinf, a);
    assert_true(memcmp(a, b, 9) > 0);
}

static void test_member_other_kinds(void **state)
{
    (void)state;
    static const char nul[] = "x\0y";
    pc_val vs[] = {pc_mem(nul, 3), pc_mem("", 0), pc_bool(true), pc_bool(false), pc_nil()};
    uint8_t b[16];
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        member_enc(&vs[i], b);
        uint8_t e[16];
        pcs_elem_encode(e, &vs[i]);
        assert_memory_equal(b, e, pcs_elem_size(&vs[i])); /* same as the element form */
    }
    /* Bytes sort byte by byte. */
    uint8_t c[16];
    pc_val x = pc_str("ab"), y = pc_str("ac"), z = pc_str("b");
    member_enc(&x, b);
    member_enc(&y, c);
    assert_true(memcmp(b, c, 3) < 0);
    member_enc(&z, c);
    assert_true(memcmp(b, c, 2) < 0);
    /* Malformed member encodings. */
    uint8_t m[10] = {PC_INT, 0};
    pc_val d;
    assert_int_equal(pcs_member_decode(m, 8, &d), PC_ECORRUPT);
    assert_int_equal(pcs_member_decode(m, 10, &d), PC_ECORRUPT);
    m[0] = 9;
    assert_int_equal(pcs_member_decode(m, 9, &d), PC_ECORRUPT);
    assert_int_equal(pcs_member_decode(m, 0, &d), PC_ECORRUPT);
}

/* ---- member keys ---- */

static void test_mkey_pos(void **state)
{
    (void)state;
    uint8_t k[PCS_MKEY_MAX];
    assert_int_equal(pcs_mkey_pos(k, UINT64_C(0x0102030405060708), UINT64_C(0x1112131415161718)),
                     16);
    static const uint8_t want[16] = {1,    2,    3,    4,    5,    6,    7,    8,
                                     0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    assert_memory_equal(k, want, 16);
    assert_int_equal(pcs_mkey_gen(k), UINT64_C(0x0102030405060708));

    /* memcmp order == (gen, pos) order, incl. around the list origin */
    static const uint64_t gens[] = {0, 1, 255, 256, UINT64_MAX};
    static const uint64_t poss[] = {
        0, 1, 255, 256, PCS_LIST_ORIGIN - 1, PCS_LIST_ORIGIN, PCS_LIST_ORIGIN + 1, UINT64_MAX};
    enum { NG = sizeof gens / sizeof gens[0], NP = sizeof poss / sizeof poss[0] };
    for (size_t a = 0; a < NG * NP; a++) {
        for (size_t b = 0; b < NG * NP; b++) {
            uint8_t ka[PCS_MKEY_MAX], kb[PCS_MKEY_MAX];
            pcs_mkey_pos(ka, gens[a / NP], poss[a % NP]);
            pcs_mkey_pos(kb, gens[b / NP], poss[b % NP]);
            int want_c = a < b ? -1 : a > b ? 1 : 0; /* tables are ascending */
            assert_int_equal(sgn(memcmp(ka, kb, 16)), want_c);
        }
    }
}

static void check_long_key(const uint8_t *k, uint64_t gen, const uint8_t *sub, size_t n)
{
    assert_int_equal(pcs_mkey_gen(k), gen);
    assert_memory_equal(k + PCS_GEN_LEN, sub, PCS_SUB_PREFIX);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(sub, n));
    assert_memory_equal(k + PCS_GEN_LEN + PCS_SUB_PREFIX, c.digest, PCS_DIGEST_LEN);
}

static void test_mkey_sub(void **state)
{
    (void)state;
    enum { BIG = 5000 };
    uint8_t *sub = malloc(BIG);
    assert_non_null(sub);
    pt_rng r = {3};
    for (size_t i = 0; i < BIG; i++)
        sub[i] = (uint8_t)pt_next(&r);
    uint8_t k[PCS_MKEY_MAX + 8];
    bool is_long;

    /* Inline below PCS_SUB_INLINE. */
    static const size_t inl[] = {0, 1, 2, 100, PCS_SUB_PREFIX, PCS_SUB_INLINE - 1};
    for (size_t i = 0; i < sizeof inl / sizeof inl[0]; i++) {
        memset(k, 0xee, sizeof k);
        is_long = true;
        size_t kl = pcs_mkey_sub(k, 99, inl[i] ? sub : NULL, inl[i], &is_long);
        assert_false(is_long);
        assert_int_equal(kl, PCS_GEN_LEN + inl[i]);
        assert_int_equal(pcs_mkey_gen(k), 99);
        if (inl[i])
            assert_memory_equal(k + PCS_GEN_LEN, sub, inl[i]);
        assert_int_equal(k[kl], 0xee); /* nothing written past the key */
    }
    /* Long at and above it: exactly 8 + 480 bytes, prefix then digest. */
    static const size_t lng[] = {PCS_SUB_INLINE, PCS_SUB_INLINE + 1, 1000, BIG};
    for (size_t i = 0; i < sizeof lng / sizeof lng[0]; i++) {
        memset(k, 0xee, sizeof k);
        is_long = false;
        size_t kl = pcs_mkey_sub(k, UINT64_MAX - 5, sub, lng[i], &is_long);
        assert_true(is_long);
        assert_int_equal(kl, PCS_GEN_LEN + PCS_SUB_INLINE);
        assert_int_equal(kl, PCS_MKEY_MAX);
        check_long_key(k, UINT64_MAX - 5, sub, lng[i]);
        assert_int_equal(k[kl], 0xee);
    }
    /* Different long subs sharing the 464-byte prefix get different keys;
     * the same sub always gets the same key. */
    uint8_t k1[PCS_MKEY_MAX], k2[PCS_MKEY_MAX];
    pcs_mkey_sub(k1, 1, sub, 600, &is_long);
    uint8_t *sub2 = malloc(600);
    assert_non_null(sub2);
    memcpy(sub2, sub, 600);
    sub2[599] ^= 1;
    pcs_mkey_sub(k2, 1, sub2, 600, &is_long);
    assert_memory_equal(k1, k2, PCS_GEN_LEN + PCS_SUB_PREFIX);
    assert_memory_not_equal(k1, k2, PCS_MKEY_MAX);
    sub2[599] ^= 1;
    sub2[PCS_SUB_PREFIX] ^= 0x80; /* first byte past the prefix */
    pcs_mkey_sub(k2, 1, sub2, 600, &is_long);
    assert_memory_not_equal(k1, k2, PCS_MKEY_MAX);
    pcs_mkey_sub(k2, 1, sub, 600, &is_long);
    assert_memory_equal(k1, k2, PCS_MKEY_MAX);
    /* a longer sub whose first 600 bytes are the same */
    pcs_mkey_sub(k2, 1, sub, 601, &is_long);
    assert_memory_not_equal(k1, k2, PCS_MKEY_MAX);
    /* 480 vs 481 bytes with the same first 480 */
    pcs_mkey_sub(k1, 1, sub, PCS_SUB_INLINE, &is_long);
    pcs_mkey_sub(k2, 1, sub, PCS_SUB_INLINE + 1, &is_long);
    assert_memory_not_equal(k1, k2, PCS_MKEY_MAX);
    /* the generation separates equal subs */
    pcs_mkey_sub(k2, 2, sub, PCS_SUB_INLINE, &is_long);
    assert_memory_not_equal(k1, k2, PCS_MKEY_MAX);
    assert_memory_equal(k1 + 8, k2 + 8, PCS_SUB_INLINE);
    free(sub2);
    free(sub);
}

/* ---- expiry keys ---- */

static void test_xkey(void **state)
{
    (void)state;
    uint8_t k[PCS_XKEY_MAX];
    char key[PC_KEY_MAX];
    memset(key, 'k', sizeof key);
    assert_int_equal(pcs_xkey(k, 0x0102030405060708ull, key, PC_KEY_MAX), PCS_XKEY_MAX);
    assert_int_equal(pcs_be64(k), 0x0102030405060708ull);
    assert_int_equal(k[0], 1);
    assert_memory_equal(k + 8, key, PC_KEY_MAX);
    assert_int_equal(pcs_xkey(k, 5, "a", 1), 9);

    /* Decoded back; lengths outside 9..PCS_XKEY_MAX are corrupt. */
    uint64_t at;
    const uint8_t *kp;
    size_t kl;
    assert_int_equal(pcs_xkey_decode(k, 9, &at, &kp, &kl), 0);
    assert_int_equal(at, 5);
    assert_int_equal(kl, 1);
    assert_ptr_equal(kp, k + 8);
    assert_int_equal(kp[0], 'a');
    assert_int_equal(pcs_xkey_decode(k, 8, &at, &kp, &kl), PC_ECORRUPT);
    assert_int_equal(pcs_xkey_decode(k, 0, &at, &kp, &kl), PC_ECORRUPT);
    assert_int_equal(pcs_xkey(k, 7, key, PC_KEY_MAX), PCS_XKEY_MAX);
    assert_int_equal(pcs_xkey_decode(k, PCS_XKEY_MAX, &at, &kp, &kl), 0);
    assert_int_equal(at, 7);
    assert_int_equal(kl, PC_KEY_MAX);
    assert_int_equal(pcs_xkey_decode(k, PCS_XKEY_MAX + 1, &at, &kp, &kl), PC_ECORRUPT);

    /* Sorted by time first, whatever the keys. */
    static const uint64_t times[] = {
        1, 2, 255, 256, 65535, 65536, UINT64_C(1700000000000), UINT64_C(1700000000001), UINT64_MAX};
    static const char *const keys[] = {"zzz", "a", "\xff\xff", "m"};
    enum { NT = sizeof times / sizeof times[0], NK = sizeof keys / sizeof keys[0] };
    for (size_t a = 0; a < NT; a++) {
        for (size_t b = 0; b < NT; b++) {
            for (size_t i = 0; i < NK; i++) {
                uint8_t ka[PCS_XKEY_MAX], kb[PCS_XKEY_MAX];
                size_t la = pcs_xkey(ka, times[a], keys[i], strlen(keys[i]));
                size_t lb = pcs_xkey(kb, times[b], keys[(i + 1) % NK], strlen(keys[(i + 1) % NK]));
                size_t m = la < lb ? la : lb;
                int c = memcmp(ka, kb, m);
                if (a < b)
                    assert_true(c < 0);
                else if (a > b)
                    assert_true(c > 0);
            }
        }
    }
}

/* ---- shards ---- */

static void test_shard_of(void **state)
{
    (void)state;
    char key[64];
    /* One shard (and 0): always 0. */
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "key:%d", i);
        assert_int_equal(pcs_shard_of(1, key, (size_t)n), 0);
        assert_int_equal(pcs_shard_of(0, key, (size_t)n), 0);
    }
    /* Always below nshards. */
    for (unsigned ns = 2; ns <= 64; ns++)
        for (int i = 0; i < 50; i++) {
            int n = snprintf(key, sizeof key, "k%d", i);
            assert_true(pcs_shard_of(ns, key, (size_t)n) < ns);
        }
    /* The same {tag}: the same shard, the shard of the tag alone. */
    for (unsigned ns = 2; ns <= 64; ns *= 2) {
        for (int t = 0; t < 20; t++) {
            char tag[16];
            int tl = snprintf(tag, sizeof tag, "user%d", t);
            unsigned want = pcs_shard_of(ns, tag, (size_t)tl);
            for (int i = 0; i < 20; i++) {
                int n = snprintf(key, sizeof key, "%d{%s}:%d{x}", i, tag, i * 7);
                assert_int_equal(pcs_shard_of(ns, key, (size_t)n), want);
                n = snprintf(key, sizeof key, "{%s}", tag);
                assert_int_equal(pcs_shard_of(ns, key, (size_t)n), want);
            }
        }
    }
    /* An empty {} is ignored: the whole key is hashed (and a later {tag}
     * does not count); so is an unclosed one. */
    static const char *const whole[] = {"{}abc", "x{}", "{}{tag}", "{abc", "abc}", "}{", "{"};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        size_t n = strlen(whole[i]);
        assert_int_equal(pcs_shard_of(16, whole[i], n), (unsigned)(XXH3_64bits(whole[i], n) % 16));
    }
    assert_int_equal(pcs_shard_of(16, "a{b}c", 5), (unsigned)(XXH3_64bits("b", 1) % 16));
    assert_int_equal(pcs_shard_of(16, "{a}{b}", 6), (unsigned)(XXH3_64bits("a", 1) % 16));
    assert_int_equal(pcs_shard_of(16, "{{a}", 4), (unsigned)(XXH3_64bits("{a", 2) % 16));
    /* keys with an empty {} still spread over shards */
    unsigned seen = 0;
    for (int i = 0; i < 200; i++) {
        int n = snprintf(key, sizeof key, "{}%d", i);
        seen |= 1u << pcs_shard_of(4, key, (size_t)n);
    }
    assert_int_equal(seen, 0xf);
    /* Distribution over 4 shards: each gets 25% +- 3% of 20000 keys. */
    unsigned cnt[4] = {0};
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "user:%d:profile", i);
        cnt[pcs_shard_of(4, key, (size_t)n)]++;
    }
    for (int s = 0; s < 4; s++) {
        assert_true(cnt[s] > 4400);
        assert_true(cnt[s] < 5600);
    }
    /* Binary keys with NULs work. */
    assert_true(pcs_shard_of(8, "\0{\0}\0", 5) == pcs_shard_of(8, "\0", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_roundtrip),      cmocka_unit_test(test_rec_expired),
        cmocka_unit_test(test_rec_malformed),      cmocka_unit_test(test_elem_roundtrip),
        cmocka_unit_test(test_elem_malformed),     cmocka_unit_test(test_val_equal_and_checks),
        cmocka_unit_test(test_member_ints_sort),   cmocka_unit_test(test_member_doubles_sort),
        cmocka_unit_test(test_member_other_kinds), cmocka_unit_test(test_mkey_pos),
        cmocka_unit_test(test_mkey_sub),           cmocka_unit_test(test_xkey),
        cmocka_unit_test(test_shard_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
