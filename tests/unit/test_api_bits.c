/*
 * test_api_bits.c - bit arrays (issue 16) on an embedded store, against a
 * plain byte array that follows Redis's rules: setbit and getbit, bitcount
 * and bitpos over byte and bit ranges (negative, clamped, empty), bitop
 * AND/OR/XOR/NOT (a source as the destination, missing sources, different
 * lengths), sparse arrays (a bit at 2^32 - 1), wrong types, bad input.
 */
#include "pctest.h"

/* ---- the model: Redis's rules on a plain array ---- */

typedef struct model {
    uint8_t *p;
    uint64_t len;
} model;

static void m_set(model *m, uint64_t off, int bit)
{
    uint64_t byte = off / 8;
    if (byte >= m->len) {
        m->p = realloc(m->p, byte + 1);
        assert_non_null(m->p);
        memset(m->p + m->len, 0, byte + 1 - m->len);
        m->len = byte + 1;
    }
    uint8_t mask = (uint8_t)(0x80 >> (off % 8));
    m->p[byte] = bit ? m->p[byte] | mask : m->p[byte] & (uint8_t)~mask;
}

static int m_get(const model *m, uint64_t off)
{
    return off / 8 < m->len ? (m->p[off / 8] >> (7 - off % 8)) & 1 : 0;
}

/* Redis's BITCOUNT/BITPOS range: false when empty. */
static bool m_range(const model *m, int64_t s, int64_t e, bool bits, int64_t *a, int64_t *b)
{
    int64_t n = (int64_t)m->len * (bits ? 8 : 1);
    if (n == 0)
        return false;
    if (s < 0)
        s += n;
    if (e < 0)
        e += n;
    if (s < 0)
        s = 0;
    if (e < 0)
        e = 0;
    if (e >= n)
        e = n - 1;
    if (s > e)
        return false;
    *a = bits ? s : s * 8;
    *b = bits ? e : e * 8 + 7;
    return true;
}

static uint64_t m_count(const model *m, int64_t s, int64_t e, bool bits)
{
    int64_t a, b;
    uint64_t n = 0;
    if (!m_range(m, s, e, bits, &a, &b))
        return 0;
    for (int64_t i = a; i <= b; i++)
        n += (uint64_t)m_get(m, (uint64_t)i);
    return n;
}

static int64_t m_pos(const model *m, int bit, int64_t s, int64_t e, bool bits, bool end_given)
{
    int64_t a, b;
    if (m->len == 0)
        return bit ? -1 : 0;
    if (!end_given)
        e = -1;
    if (!m_range(m, s, e, bits, &a, &b))
        return -1;
    for (int64_t i = a; i <= b; i++)
        if (m_get(m, (uint64_t)i) == bit)
            return i;
    return !bit && !end_given ? b + 1 : -1;
}

/* ---- checks against the model ---- */

static void check_model(pc_client *c, const char *key, const model *m, pt_rng *rng)
{
    pc_read *r = pt_rd(c);
    uint64_t len = 0;
    if (m->len) {
        OK(pc_bitlen(r, K(key), &len));
        EQ(len, m->len);
    } else {
        RC(PC_ENOTFOUND, pc_bitlen(r, K(key), &len));
    }
    uint64_t nbits = 8 * m->len + 16;
    for (uint64_t i = 0; i < nbits; i += 1 + pt_below(rng, 3)) {
        int bit;
        OK(pc_getbit(r, K(key), i, &bit));
        CHECK(bit == m_get(m, i), "getbit %" PRIu64 ": %d, expected %d", i, bit, m_get(m, i));
    }
    int64_t span = (int64_t)m->len * 8 + 4;
    for (int k = 0; k < 200; k++) {
        bool bits = pt_below(rng, 2);
        int64_t lim = bits ? span : (int64_t)m->len + 2;
        int64_t s = (int64_t)pt_below(rng, (uint64_t)(2 * lim + 1)) - lim;
        int64_t e = (int64_t)pt_below(rng, (uint64_t)(2 * lim + 1)) - lim;
        if (k == 0)
            s = 0, e = -1;
        uint64_t n;
        OK(pc_bitcount(r, K(key), s, e, bits ? PC_BITS_BIT : 0, &n));
        CHECK(n == m_count(m, s, e, bits),
              "bitcount %" PRId64 " %" PRId64 " %s: %" PRIu64 ", expected %" PRIu64, s, e,
              bits ? "BIT" : "BYTE", n, m_count(m, s, e, bits));
        for (int bit = 0; bit < 2; bit++) {
            bool eg = pt_below(rng, 2);
            int64_t p;
            unsigned fl = (bits ? PC_BITS_BIT : 0) | (eg ? PC_BITS_END : 0);
            OK(pc_bitpos(r, K(key), bit, s, e, fl, &p));
            int64_t want = m_pos(m, bit, s, e, bits, eg);
            CHECK(p == want,
                  "bitpos %d %" PRId64 " %" PRId64 " %s%s: %" PRId64 ", expected %" PRId64, bit, s,
                  e, bits ? "BIT" : "BYTE", eg ? "" : " (no end)", p, want);
        }
    }
    pc_read_end(r);
}

static void test_bits_model(void **state)
{
    pt_store *t = *state;
    pt_rng rng = {pt_seed("test_bits_model")};
    model m = {0};
    check_model(t->c, "b", &m, &rng);
    /* Dense near the start, sparse far out, across chunk edges (8192 bits). */
    for (int i = 0; i < 3000; i++) {
        uint64_t off = pt_below(&rng, 4) == 0 ? pt_below(&rng, 70000) : pt_below(&rng, 20000);
        int bit = pt_below(&rng, 4) != 0;
        int old;
        OK(pc_setbit(t->c, K("b"), off, bit, &old));
        CHECK(old == m_get(&m, off), "setbit %" PRIu64 " said %d", off, old);
        m_set(&m, off, bit);
        if (i % 500 == 499)
            check_model(t->c, "b", &m, &rng);
    }
    TYPE_IS(t->c, "b", PC_T_BITS);
    assert_string_equal(pc_type_name(PC_T_BITS), "bits");
    /* Clear everything: the length stays, the bits are 0, no chunk left. */
    for (uint64_t i = 0; i < 8 * m.len; i++)
        if (m_get(&m, i)) {
            OK(pc_setbit(t->c, K("b"), i, 0, NULL));
            m_set(&m, i, 0);
        }
    check_model(t->c, "b", &m, &rng);
    /* Ones to the end: bitpos 0 without an end finds the bit past it. */
    model o = {0};
    for (uint64_t i = 0; i < 8 * 2050; i++) {
        OK(pc_setbit(t->c, K("ones"), i, 1, NULL));
        m_set(&o, i, 1);
    }
    check_model(t->c, "ones", &o, &rng);
    free(m.p);
    free(o.p);
}

/* A bit at 2^32 - 1 makes a 512 MiB array in one chunk. */
static void test_bits_sparse(void **state)
{
    pt_store *t = *state;
    uint64_t last = (UINT64_C(1) << 32) - 1;
    int old;
    OK(pc_setbit(t->c, K("s"), last, 1, &old));
    EQ(old, 0);
    OK(pc_setbit(t->c, K("s"), 0, 1, &old));
    pc_read *r = pt_rd(t->c);
    uint64_t len, n;
    int bit;
    int64_t pos;
    OK(pc_bitlen(r, K("s"), &len));
    EQ(len, UINT64_C(1) << 29);
    OK(pc_getbit(r, K("s"), last, &bit));
    EQ(bit, 1);
    OK(pc_getbit(r, K("s"), last - 1, &bit));
    EQ(bit, 0);
    OK(pc_bitcount(r, K("s"), 0, -1, 0, &n));
    EQ(n, 2);
    OK(pc_bitcount(r, K("s"), -1, -1, 0, &n));
    EQ(n, 1);
    OK(pc_bitpos(r, K("s"), 1, 1, -1, 0, &pos));
    EQ(pos, last);
    OK(pc_bitpos(r, K("s"), 0, 0, -1, 0, &pos));
    EQ(pos, 1);
    OK(pc_bitpos(r, K("s"), 1, -1, -1, PC_BITS_BIT | PC_BITS_END, &pos));
    EQ(pos, last);
    RC(PC_EINVAL, pc_getbit(r, K("s"), last + 1, &bit));
    pc_read_end(r);
    /* The store holds two chunks, not 512 MiB (the map is 64 MiB). */
    RC(PC_EINVAL, pc_setbit(t->c, K("s"), last + 1, 1, NULL));
}

static void bitop_model(int op, model *dst, model *const *src, size_t n)
{
    uint64_t len = 0;
    for (size_t i = 0; i < n; i++)
        len = src[i]->len > len ? src[i]->len : len;
    uint8_t *p = calloc(len ? len : 1, 1);
    for (uint64_t b = 0; b < len; b++) {
        uint8_t v = b < src[0]->len ? src[0]->p[b] : 0;
        for (size_t i = 1; i < n; i++) {
            uint8_t w = b < src[i]->len ? src[i]->p[b] : 0;
            v = op == PC_BITOP_AND ? v & w : op == PC_BITOP_OR ? v | w : v ^ w;
        }
        p[b] = op == PC_BITOP_NOT ? (uint8_t)~v : v;
    }
    free(dst->p);
    dst->p = p;
    dst->len = len;
}

static void test_bitop(void **state)
{
    pt_store *t = *state;
    pt_rng rng = {pt_seed("test_bitop")};
    static const char *names[] = {"{b}a", "{b}b", "{b}c", "{b}missing"};
    model ms[4] = {{0}};
    for (int k = 0; k < 3; k++) {
        uint64_t span = k == 2 ? 10 : 40000 * (uint64_t)(k + 1);
        for (int i = 0; i < 400; i++) {
            uint64_t off = pt_below(&rng, span);
            OK(pc_setbit(t->c, K(names[k]), off, 1, NULL));
            m_set(&ms[k], off, 1);
        }
    }
    /* a far, lone chunk in one of them */
    OK(pc_setbit(t->c, K("{b}b"), 300000, 1, NULL));
    m_set(&ms[1], 300000, 1);
    for (int op = PC_BITOP_AND; op <= PC_BITOP_NOT; op++) {
        for (int combo = 0; combo < 4; combo++) {
            size_t idx[3] = {(size_t)combo % 4, ((size_t)combo + 1) % 4, ((size_t)combo + 2) % 4};
            size_t n = op == PC_BITOP_NOT ? 1 : 2 + (size_t)(combo % 2);
            pc_bytes keys[3];
            model *src[3];
            for (size_t i = 0; i < n; i++) {
                keys[i] = pc_b(names[idx[i]], strlen(names[idx[i]]));
                src[i] = &ms[idx[i]];
            }
            model want = {0};
            bitop_model(op, &want, src, n);
            uint64_t len = 99;
            OK(pc_bitop(t->c, op, K("{b}dst"), keys, n, &len));
            EQ(len, want.len);
            check_model(t->c, "{b}dst", &want, &rng);
            free(want.p);
        }
    }
    /* The destination as a source; the result replaces it. */
    pc_bytes self[2] = {pc_b(K("{b}a")), pc_b(K("{b}b"))};
    model *src[2] = {&ms[0], &ms[1]};
    model want = {0};
    bitop_model(PC_BITOP_XOR, &want, src, 2);
    OK(pc_bitop(t->c, PC_BITOP_XOR, K("{b}a"), self, 2, NULL));
    check_model(t->c, "{b}a", &want, &rng);
    free(want.p);
    /* Only missing sources: the destination goes. */
    pc_bytes none = pc_b(K("{b}missing"));
    uint64_t len;
    OK(pc_bitop(t->c, PC_BITOP_OR, K("{b}a"), &none, 1, &len));
    EQ(len, 0);
    MISSING(t->c, "{b}a");
    /* Any type of destination is replaced, and its TTL goes. */
    pc_val s = pc_str("old");
    OK(pc_set(t->c, K("{b}str"), &s, 100000, 0));
    pc_bytes one = pc_b(K("{b}c"));
    OK(pc_bitop(t->c, PC_BITOP_NOT, K("{b}str"), &one, 1, &len));
    TYPE_IS(t->c, "{b}str", PC_T_BITS);
    EQ(pt_ttl(t->c, "{b}str"), -1);
    for (int i = 0; i < 4; i++)
        free(ms[i].p);
}

static void test_bits_bad_input(void **state)
{
    pt_store *t = *state;
    pc_val s = pc_str("x");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    OK(pc_setbit(t->c, K("b"), 5, 1, NULL));
    uint64_t v = pt_version(t->c, "b");
    RC(PC_EINVAL, pc_setbit(t->c, K("b"), 1, 2, NULL));
    RC(PC_EINVAL, pc_setbit(t->c, K("b"), 1, -1, NULL));
    RC(PC_EINVAL, pc_setbit(t->c, K("b"), UINT64_C(1) << 32, 1, NULL));
    RC(PC_EKEY, pc_setbit(t->c, "", 0, 1, 1, NULL));
    RC(PC_EWRONGTYPE, pc_setbit(t->c, K("str"), 1, 1, NULL));
    pc_bytes k[2] = {pc_b(K("b")), pc_b(K("str"))};
    RC(PC_EWRONGTYPE, pc_bitop(t->c, PC_BITOP_OR, K("d"), k, 2, NULL));
    RC(PC_EINVAL, pc_bitop(t->c, 4, K("d"), k, 1, NULL));
    RC(PC_EINVAL, pc_bitop(t->c, -1, K("d"), k, 1, NULL));
    RC(PC_EINVAL, pc_bitop(t->c, PC_BITOP_NOT, K("d"), k, 2, NULL));
    RC(PC_EINVAL, pc_bitop(t->c, PC_BITOP_OR, K("d"), k, 0, NULL));
    RC(PC_EINVAL, pc_bitop(t->c, PC_BITOP_OR, K("d"), NULL, 1, NULL));
    pc_bytes bad = pc_b("", 0);
    RC(PC_EKEY, pc_bitop(t->c, PC_BITOP_OR, K("d"), &bad, 1, NULL));
    MISSING(t->c, "d");
    EQ(pt_version(t->c, "b"), v);
    pc_read *r = pt_rd(t->c);
    int bit;
    uint64_t n;
    int64_t pos;
    RC(PC_EWRONGTYPE, pc_getbit(r, K("str"), 0, &bit));
    RC(PC_EWRONGTYPE, pc_bitcount(r, K("str"), 0, -1, 0, &n));
    RC(PC_EWRONGTYPE, pc_bitpos(r, K("str"), 1, 0, -1, 0, &pos));
    RC(PC_EWRONGTYPE, pc_bitlen(r, K("str"), &n));
    RC(PC_EINVAL, pc_getbit(r, K("b"), 0, NULL));
    RC(PC_EINVAL, pc_bitcount(r, K("b"), 0, -1, PC_BITS_END, &n));
    RC(PC_EINVAL, pc_bitcount(r, K("b"), 0, -1, 0, NULL));
    RC(PC_EINVAL, pc_bitpos(r, K("b"), 2, 0, -1, 0, &pos));
    RC(PC_EINVAL, pc_bitpos(r, K("b"), 1, 0, -1, 4, &pos));
    RC(PC_EKEY, pc_bitlen(r, "", 0, &n));
    RC(PC_EINVAL, pc_getbit(NULL, K("b"), 0, &bit));
    /* A missing key reads as an empty array. */
    OK(pc_getbit(r, K("none"), 7, &bit));
    EQ(bit, 0);
    OK(pc_bitcount(r, K("none"), 0, -1, 0, &n));
    EQ(n, 0);
    OK(pc_bitpos(r, K("none"), 1, 0, -1, 0, &pos));
    EQ(pos, -1);
    OK(pc_bitpos(r, K("none"), 0, 0, -1, 0, &pos));
    EQ(pos, 0);
    pc_read_end(r);
    /* On another type, the string ops refuse a bit array. */
    r = pt_rd(t->c);
    pc_val out;
    RC(PC_EWRONGTYPE, pc_get(r, K("b"), &out));
    pc_read_end(r);
    RC(PC_EWRONGTYPE, pc_append(t->c, K("b"), "x", 1, NULL));
}

/* Keys of several shards: bitop must stay in one ({tags} make it). */
static void test_bitop_shards(void **state)
{
    pt_store *t = *state;
    int cross = 0, same = 0;
    OK(pc_setbit(t->c, K("dst"), 1, 1, NULL));
    for (int i = 0; i < 64; i++) {
        char k[16];
        snprintf(k, sizeof k, "src%d", i);
        pc_bytes key = pc_b(k, strlen(k));
        uint64_t v = pt_version(t->c, "dst");
        int rc = pc_bitop(t->c, PC_BITOP_OR, K("dst"), &key, 1, NULL);
        if (rc == PC_ECROSSSHARD) {
            cross++;
            EQ(pt_version(t->c, "dst"), v); /* untouched */
        } else {
            OK(rc); /* the same shard: an OR of a missing key empties dst */
            same++;
            OK(pc_setbit(t->c, K("dst"), 1, 1, NULL));
        }
    }
    CHECK(cross > 0 && same > 0, "%d across shards, %d in one", cross, same);
    pc_bytes tagged[2] = {pc_b(K("{t}a")), pc_b(K("{t}b"))};
    OK(pc_setbit(t->c, K("{t}a"), 3, 1, NULL));
    uint64_t len;
    OK(pc_bitop(t->c, PC_BITOP_OR, K("{t}dst"), tagged, 2, &len));
    EQ(len, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_bits_model),
        PT_STORE_TEST(test_bits_sparse),
        PT_STORE_TEST(test_bitop),
        PT_STORE_TEST(test_bits_bad_input),
        PT_STORE_TEST_SHARDS4(test_bitop_shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
