/*
 * test_api_zset.c - sorted sets (issue 17) on an embedded store: each
 * command's edge cases as Redis documents them (flags of ZADD, empty
 * ranges, exclusive bounds, -inf/+inf, LIMIT offsets, ties ordered by
 * member, lex ranges), the counted index on sets large enough for several
 * levels, a randomized run against a simple model after every step, and
 * bad input.
 */
#include <math.h>

#include "pctest.h"

/* ---- helpers ---- */

static pc_zentry ze(const char *m, double s)
{
    pc_zentry e = {pc_str(m), s};
    return e;
}

static uint64_t zadd1(pc_client *c, const char *key, const char *m, double s, unsigned flags)
{
    pc_zentry e = ze(m, s);
    uint64_t n = 99;
    OK(pc_zadd(c, K(key), &e, 1, flags, &n));
    return n;
}

static double zscore(pc_client *c, const char *key, const char *m)
{
    pc_read *r = pt_rd(c);
    pc_val v = pc_str(m);
    double s = NAN;
    OK(pc_zscore(r, K(key), &v, &s));
    pc_read_end(r);
    return s;
}

static uint64_t zcard(pc_client *c, const char *key)
{
    pc_read *r = pt_rd(c);
    uint64_t n = 99;
    OK(pc_zcard(r, K(key), &n));
    pc_read_end(r);
    return n;
}

/* The range spec of key as "m1:s1 m2:s2 ..." paged by page entries. */
static void zrange_str(pc_client *c, const char *key, const pc_zrange_spec *s, size_t page,
                       char *out, size_t cap)
{
    pc_read *r = pt_rd(c);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_zentry e[64];
    size_t len = 0, n;
    out[0] = 0;
    CHECK(page <= 64, "page");
    int pages = 0;
    while (!cur.done) {
        OK(pc_zrange(r, K(key), s, &cur, e, page, &n));
        CHECK(++pages < 100000, "no end");
        for (size_t i = 0; i < n; i++) {
            CHECK(e[i].member.kind == PC_BYTES, "kind %d", (int)e[i].member.kind);
            len += (size_t)snprintf(out + len, cap - len, "%s%.*s:%g", len ? " " : "",
                                    (int)e[i].member.s.len, (const char *)e[i].member.s.ptr,
                                    e[i].score);
            CHECK(len < cap, "overflow");
        }
    }
    pc_read_end(r);
}

#define RANGE_IS(c, key, spec, want)                                                          \
    do {                                                                                      \
        char got_[4096];                                                                      \
        for (size_t pg_ = 1; pg_ <= 64; pg_ *= 4) {                                           \
            zrange_str((c), (key), (spec), pg_, got_, sizeof got_);                           \
            CHECK(!strcmp(got_, (want)), "page %zu: got [%s], want [%s]", pg_, got_, (want)); \
        }                                                                                     \
    } while (0)

static pc_zrange_spec by_index(int64_t a, int64_t b, bool rev)
{
    pc_zrange_spec s;
    pc_zrange_spec_init(&s);
    s.start = a;
    s.stop = b;
    s.rev = rev;
    return s;
}

static pc_zbound sb(double v, bool excl)
{
    pc_zbound b = {v, {.kind = PC_NONE}, excl ? PC_ZB_EXCL : 0};
    return b;
}

static pc_zrange_spec by_score(pc_zbound lo, pc_zbound hi, bool rev, int64_t off, int64_t cnt)
{
    pc_zrange_spec s;
    pc_zrange_spec_init(&s);
    s.by = PC_ZBY_SCORE;
    s.min = lo;
    s.max = hi;
    s.rev = rev;
    s.offset = off;
    s.count = cnt;
    return s;
}

/* A lex bound from Redis's text: "-", "+", "[x", "(x". */
static pc_zbound lb(const char *t)
{
    pc_zbound b = {0, {.kind = PC_NONE}, 0};
    if (!strcmp(t, "-"))
        b.flags = PC_ZB_MINUS;
    else if (!strcmp(t, "+"))
        b.flags = PC_ZB_PLUS;
    else {
        b.flags = t[0] == '(' ? PC_ZB_EXCL : 0;
        b.member = pc_str(t + 1);
    }
    return b;
}

static pc_zrange_spec by_lex(const char *lo, const char *hi, bool rev, int64_t off, int64_t cnt)
{
    pc_zrange_spec s;
    pc_zrange_spec_init(&s);
    s.by = PC_ZBY_LEX;
    s.min = lb(lo);
    s.max = lb(hi);
    s.rev = rev;
    s.offset = off;
    s.count = cnt;
    return s;
}

static bool ent_is(const pc_zentry *e, const char *m, double s)
{
    return e->member.kind == PC_BYTES && e->member.s.len == strlen(m) &&
           !memcmp(e->member.s.ptr, m, strlen(m)) && e->score == s;
}

/* ---- ZADD and scores ---- */

static void test_zadd_flags(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    pc_zentry e[3] = {ze("a", 1), ze("b", 2), ze("c", 3)};
    uint64_t n;
    OK(pc_zadd(c, K("z"), e, 3, 0, &n));
    EQ(n, 3);
    TYPE_IS(c, "z", PC_T_ZSET);
    assert_string_equal(pc_type_name(PC_T_ZSET), "zset");
    EQ(zadd1(c, "z", "a", 1, 0), 0);          /* same score: nothing */
    EQ(zadd1(c, "z", "a", 5, 0), 0);          /* changed, not added */
    EQ(zadd1(c, "z", "a", 6, PC_ZADD_CH), 1); /* CH counts changes */
    EQ(zadd1(c, "z", "a", 7, PC_ZADD_NX), 0); /* NX: no update */
    CHECK(zscore(c, "z", "a") == 6, "a");
    EQ(zadd1(c, "z", "d", 4, PC_ZADD_XX), 0); /* XX: no add */
    EQ(zcard(c, "z"), 3);
    EQ(zadd1(c, "z", "a", 2, PC_ZADD_GT | PC_ZADD_CH), 0); /* GT: not lower */
    CHECK(zscore(c, "z", "a") == 6, "a");
    EQ(zadd1(c, "z", "a", 9, PC_ZADD_GT | PC_ZADD_CH), 1);
    EQ(zadd1(c, "z", "a", 10, PC_ZADD_LT | PC_ZADD_CH), 0);
    EQ(zadd1(c, "z", "a", 0, PC_ZADD_LT | PC_ZADD_CH), 1);
    EQ(zadd1(c, "z", "e", 5, PC_ZADD_GT), 1); /* GT/LT do not stop adds */
    EQ(zadd1(c, "z", "e", 5, PC_ZADD_XX | PC_ZADD_GT | PC_ZADD_CH), 0);
    /* The last of a member named twice wins; counted once. */
    pc_zentry dup[2] = {ze("f", 1), ze("f", 2)};
    OK(pc_zadd(c, K("z"), dup, 2, 0, &n));
    EQ(n, 1);
    CHECK(zscore(c, "z", "f") == 2, "f");
    /* Bad combinations and NaN: refused, nothing changed. */
    RC(PC_EINVAL, pc_zadd(c, K("z"), e, 1, PC_ZADD_NX | PC_ZADD_XX, &n));
    RC(PC_EINVAL, pc_zadd(c, K("z"), e, 1, PC_ZADD_NX | PC_ZADD_GT, &n));
    RC(PC_EINVAL, pc_zadd(c, K("z"), e, 1, PC_ZADD_GT | PC_ZADD_LT, &n));
    RC(PC_EINVAL, pc_zadd(c, K("z"), e, 1, 1u << 9, &n));
    RC(PC_EINVAL, pc_zadd(c, K("z"), e, 0, 0, &n));
    pc_zentry bad = ze("a", NAN);
    RC(PC_ENAN, pc_zadd(c, K("z"), &bad, 1, 0, &n));
    bad.member.kind = PC_NONE;
    bad.score = 1;
    RC(PC_EINVAL, pc_zadd(c, K("z"), &bad, 1, 0, &n));
    CHECK(zscore(c, "z", "a") == 0, "a");
    /* XX on a missing key creates nothing. */
    EQ(zadd1(c, "none", "a", 1, PC_ZADD_XX), 0);
    MISSING(c, "none");
    /* Wrong type, both ways. */
    pc_val sv = pc_str("x");
    OK(pc_set(c, K("str"), &sv, 0, 0));
    RC(PC_EWRONGTYPE, pc_zadd(c, K("str"), e, 1, 0, &n));
    pc_read *r = pt_rd(c);
    uint64_t u;
    RC(PC_EWRONGTYPE, pc_zcard(r, K("str"), &u));
    pc_val got;
    RC(PC_EWRONGTYPE, pc_get(r, K("z"), &got));
    OK(pc_zcard(r, K("none"), &u));
    EQ(u, 0);
    pc_read_end(r);
}

static void test_zadd_scores(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    /* -inf, +inf, -0.0 (stored as 0), ties by member. */
    pc_zentry e[6] = {ze("p", INFINITY), ze("n", -INFINITY), ze("z0", -0.0),
                      ze("b", 0),        ze("a", 0),         ze("x", -1e300)};
    OK(pc_zadd(c, K("z"), e, 6, 0, NULL));
    pc_zrange_spec all = by_index(0, -1, false);
    RANGE_IS(c, "z", &all, "n:-inf x:-1e+300 a:0 b:0 z0:0 p:inf");
    double s = zscore(c, "z", "z0");
    CHECK(s == 0 && !signbit(s), "-0 stored as 0: %g", s);
    /* Incr: INCR and ZINCRBY */
    double now;
    OK(pc_zincrby(c, K("z"), &e[4].member, 2.5, &now));
    CHECK(now == 2.5, "%g", now);
    pc_val nv = pc_str("new");
    OK(pc_zincrby(c, K("z"), &nv, -3, &now));
    CHECK(now == -3, "%g", now);
    pc_val got;
    OK(pc_zadd_incr(c, K("z"), &nv, 1, PC_ZADD_XX, &got));
    CHECK(got.kind == PC_DOUBLE && got.d == -2, "%d %g", (int)got.kind, got.d);
    OK(pc_zadd_incr(c, K("z"), &nv, 1, PC_ZADD_NX, &got));
    CHECK(got.kind == PC_NONE, "NX on a member there: nil");
    OK(pc_zadd_incr(c, K("z"), &nv, -1, PC_ZADD_GT, &got));
    CHECK(got.kind == PC_NONE, "GT and lower: nil");
    pc_val nn = pc_str("nx-new");
    OK(pc_zadd_incr(c, K("z"), &nn, 1, PC_ZADD_XX, &got));
    CHECK(got.kind == PC_NONE, "XX on a new member: nil");
    /* inf + -inf is NaN: refused, nothing changed. */
    pc_val pv = pc_str("p");
    RC(PC_ENAN, pc_zincrby(c, K("z"), &pv, -INFINITY, &now));
    CHECK(isinf(zscore(c, "z", "p")), "p");
    RC(PC_ENAN, pc_zincrby(c, K("z"), &pv, NAN, &now));
    /* ZMSCORE */
    pc_read *r = pt_rd(c);
    pc_val ms[3] = {pc_str("p"), pc_str("nope"), pc_str("a")};
    double sc[3];
    int found[3];
    OK(pc_zmscore(r, K("z"), ms, 3, sc, found));
    CHECK(found[0] && isinf(sc[0]) && !found[1] && found[2] && sc[2] == 2.5, "mscore");
    OK(pc_zmscore(r, K("missing"), ms, 3, sc, found));
    CHECK(!found[0] && !found[1] && !found[2], "missing key");
    RC(PC_ENOTFOUND, pc_zscore(r, K("z"), &ms[1], &s));
    RC(PC_ENOTFOUND, pc_zscore(r, K("missing"), &ms[1], &s));
    pc_read_end(r);
    /* Typed members: 1, "1", 1.0 and true are four. */
    pc_zentry ty[4] = {{pc_int(1), 1}, {pc_str("1"), 1}, {pc_dbl(1.0), 1}, {pc_bool(true), 1}};
    uint64_t n;
    OK(pc_zadd(c, K("ty"), ty, 4, 0, &n));
    EQ(n, 4);
    /* A TTL stays across adds; deletion is the key's. */
    int set;
    OK(pc_expire(c, K("z"), 100000, &set));
    EQ(zadd1(c, "z", "q", 1, 0), 1);
    CHECK(pt_ttl(c, "z") > 0, "TTL kept");
    OK(pc_del(c, K("z"), &set));
    MISSING(c, "z");
}

/* ---- ranges ---- */

static void fill_abc(pc_client *c, const char *key)
{
    pc_zentry e[6] = {ze("a", 1), ze("b", 2), ze("c", 2), ze("d", 3), ze("e", 4), ze("f", 5)};
    OK(pc_zadd(c, K(key), e, 6, 0, NULL));
}

static void test_zrange_index(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    fill_abc(c, "z");
    pc_zrange_spec s = by_index(0, -1, false);
    RANGE_IS(c, "z", &s, "a:1 b:2 c:2 d:3 e:4 f:5");
    s = by_index(0, -1, true);
    RANGE_IS(c, "z", &s, "f:5 e:4 d:3 c:2 b:2 a:1");
    s = by_index(2, 3, false);
    RANGE_IS(c, "z", &s, "c:2 d:3");
    s = by_index(-2, -1, false);
    RANGE_IS(c, "z", &s, "e:4 f:5");
    s = by_index(1, 2, true);
    RANGE_IS(c, "z", &s, "e:4 d:3");
    s = by_index(5, 100, false);
    RANGE_IS(c, "z", &s, "f:5");
    s = by_index(6, 100, false); /* past the end */
    RANGE_IS(c, "z", &s, "");
    s = by_index(3, 1, false); /* start after stop */
    RANGE_IS(c, "z", &s, "");
    s = by_index(-100, 0, false);
    RANGE_IS(c, "z", &s, "a:1");
    RANGE_IS(c, "missing", &s, "");
    /* LIMIT is for ranges by score or lex only (Redis). */
    pc_read *r = pt_rd(c);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_zentry e[4];
    size_t n;
    s.count = 2;
    RC(PC_EINVAL, pc_zrange(r, K("z"), &s, &cur, e, 4, &n));
    s = by_index(0, -1, false);
    s.by = 7;
    RC(PC_EINVAL, pc_zrange(r, K("z"), &s, &cur, e, 4, &n));
    pc_read_end(r);
}

static void test_zrange_score(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    fill_abc(c, "z");
    pc_zrange_spec s = by_score(sb(-INFINITY, false), sb(INFINITY, false), false, 0, -1);
    RANGE_IS(c, "z", &s, "a:1 b:2 c:2 d:3 e:4 f:5");
    s = by_score(sb(2, false), sb(3, false), false, 0, -1);
    RANGE_IS(c, "z", &s, "b:2 c:2 d:3");
    s = by_score(sb(2, true), sb(3, false), false, 0, -1);
    RANGE_IS(c, "z", &s, "d:3");
    s = by_score(sb(2, false), sb(3, true), false, 0, -1);
    RANGE_IS(c, "z", &s, "b:2 c:2");
    s = by_score(sb(2, true), sb(3, true), false, 0, -1);
    RANGE_IS(c, "z", &s, "");
    s = by_score(sb(3, false), sb(2, false), false, 0, -1); /* min > max */
    RANGE_IS(c, "z", &s, "");
    s = by_score(sb(2, false), sb(2, false), false, 0, -1);
    RANGE_IS(c, "z", &s, "b:2 c:2");
    s = by_score(sb(-INFINITY, false), sb(INFINITY, false), true, 0, -1);
    RANGE_IS(c, "z", &s, "f:5 e:4 d:3 c:2 b:2 a:1");
    s = by_score(sb(2, false), sb(4, true), true, 0, -1);
    RANGE_IS(c, "z", &s, "d:3 c:2 b:2");
    /* LIMIT offset count */
    s = by_score(sb(-INFINITY, false), sb(INFINITY, false), false, 1, 2);
    RANGE_IS(c, "z", &s, "b:2 c:2");
    s = by_score(sb(-INFINITY, false), sb(INFINITY, false), true, 1, 2);
    RANGE_IS(c, "z", &s, "e:4 d:3");
    s = by_score(sb(-INFINITY, false), sb(INFINITY, false), false, 5, -1);
    RANGE_IS(c, "z", &s, "f:5");
    s = by_score(sb(-INFINITY, false), sb(INFINITY, false), false, 6, -1);
    RANGE_IS(c, "z", &s, "");
    s = by_score(sb(2, false), sb(3, false), false, 0, 0);
    RANGE_IS(c, "z", &s, "");
    s = by_score(sb(3, false), sb(5, false), false, 1, 100);
    RANGE_IS(c, "z", &s, "e:4 f:5");
    /* ZCOUNT */
    pc_read *r = pt_rd(c);
    uint64_t n;
    pc_zbound lo = sb(2, false), hi = sb(3, false);
    OK(pc_zcount(r, K("z"), &lo, &hi, &n));
    EQ(n, 3);
    lo = sb(2, true);
    OK(pc_zcount(r, K("z"), &lo, &hi, &n));
    EQ(n, 1);
    lo = sb(-INFINITY, false);
    hi = sb(INFINITY, false);
    OK(pc_zcount(r, K("z"), &lo, &hi, &n));
    EQ(n, 6);
    hi = sb(-INFINITY, true);
    OK(pc_zcount(r, K("z"), &lo, &hi, &n));
    EQ(n, 0);
    OK(pc_zcount(r, K("missing"), &lo, &hi, &n));
    EQ(n, 0);
    lo = sb(NAN, false);
    RC(PC_ENAN, pc_zcount(r, K("z"), &lo, &hi, &n));
    pc_read_end(r);
}

static void test_zrange_lex(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    const char *m[] = {"a", "b", "c", "d", "e", "f", "g", "ab"};
    for (size_t i = 0; i < PT_LEN(m); i++)
        zadd1(c, "z", m[i], 0, 0);
    pc_zrange_spec s = by_lex("-", "+", false, 0, -1);
    RANGE_IS(c, "z", &s, "a:0 ab:0 b:0 c:0 d:0 e:0 f:0 g:0");
    s = by_lex("-", "[c", false, 0, -1);
    RANGE_IS(c, "z", &s, "a:0 ab:0 b:0 c:0");
    s = by_lex("-", "(c", false, 0, -1);
    RANGE_IS(c, "z", &s, "a:0 ab:0 b:0");
    s = by_lex("[aaa", "(g", false, 0, -1);
    RANGE_IS(c, "z", &s, "ab:0 b:0 c:0 d:0 e:0 f:0");
    s = by_lex("(a", "[b", false, 0, -1);
    RANGE_IS(c, "z", &s, "ab:0 b:0");
    s = by_lex("+", "-", false, 0, -1);
    RANGE_IS(c, "z", &s, "");
    s = by_lex("[d", "[c", false, 0, -1);
    RANGE_IS(c, "z", &s, "");
    s = by_lex("-", "+", true, 2, 3);
    RANGE_IS(c, "z", &s, "e:0 d:0 c:0");
    s = by_lex("[b", "[e", true, 0, -1);
    RANGE_IS(c, "z", &s, "e:0 d:0 c:0 b:0");
    pc_read *r = pt_rd(c);
    uint64_t n;
    pc_zbound lo = lb("-"), hi = lb("+");
    OK(pc_zlexcount(r, K("z"), &lo, &hi, &n));
    EQ(n, 8);
    lo = lb("[b");
    hi = lb("(f");
    OK(pc_zlexcount(r, K("z"), &lo, &hi, &n));
    EQ(n, 4);
    /* Bad bounds: flags together, exclusive "-". */
    lo.flags = PC_ZB_MINUS | PC_ZB_EXCL;
    RC(PC_EINVAL, pc_zlexcount(r, K("z"), &lo, &hi, &n));
    lo = lb("a");
    lo.member.kind = PC_NONE;
    RC(PC_EINVAL, pc_zlexcount(r, K("z"), &lo, &hi, &n));
    pc_read_end(r);
    /* ZREMRANGEBYLEX */
    uint64_t rm;
    s = by_lex("[b", "(d", false, 0, -1);
    OK(pc_zremrange(c, K("z"), &s, &rm));
    EQ(rm, 2);
    s = by_lex("-", "+", false, 0, -1);
    RANGE_IS(c, "z", &s, "a:0 ab:0 d:0 e:0 f:0 g:0");
}

static void test_zrank_pop_rem(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    fill_abc(c, "z");
    pc_read *r = pt_rd(c);
    uint64_t rank;
    double s;
    pc_val m = pc_str("c");
    OK(pc_zrank(r, K("z"), &m, false, &rank, &s));
    CHECK(rank == 2 && s == 2, "%" PRIu64 " %g", rank, s);
    OK(pc_zrank(r, K("z"), &m, true, &rank, NULL));
    EQ(rank, 3);
    m = pc_str("zz");
    RC(PC_ENOTFOUND, pc_zrank(r, K("z"), &m, false, &rank, NULL));
    RC(PC_ENOTFOUND, pc_zrank(r, K("missing"), &m, false, &rank, NULL));
    pc_read_end(r);
    /* ZPOPMIN / ZPOPMAX */
    pc_zentry e[8];
    size_t n;
    OK(pc_zpopmin(c, K("z"), 2, e, &n));
    EQ(n, 2);
    CHECK(ent_is(&e[0], "a", 1) && ent_is(&e[1], "b", 2), "popmin");
    OK(pc_zpopmax(c, K("z"), 1, e, &n));
    EQ(n, 1);
    CHECK(ent_is(&e[0], "f", 5), "popmax");
    OK(pc_zpopmin(c, K("z"), 0, e, &n));
    EQ(n, 0);
    OK(pc_zpopmin(c, K("missing"), 3, e, &n));
    EQ(n, 0);
    /* ZREM, the last removes the key */
    pc_val rm[3] = {pc_str("c"), pc_str("nope"), pc_str("d")};
    uint64_t k;
    OK(pc_zrem(c, K("z"), rm, 3, &k));
    EQ(k, 2);
    OK(pc_zpopmax(c, K("z"), 10, e, &n));
    EQ(n, 1);
    MISSING(c, "z");
    OK(pc_zrem(c, K("z"), rm, 1, &k));
    EQ(k, 0);
    /* ZREMRANGEBYRANK / BYSCORE */
    fill_abc(c, "z");
    pc_zrange_spec sp = by_index(1, -2, false);
    OK(pc_zremrange(c, K("z"), &sp, &k));
    EQ(k, 4);
    sp = by_index(0, -1, false);
    RANGE_IS(c, "z", &sp, "a:1 f:5");
    sp = by_score(sb(-INFINITY, false), sb(1, true), false, 0, -1);
    OK(pc_zremrange(c, K("z"), &sp, &k));
    EQ(k, 0);
    sp = by_score(sb(-INFINITY, false), sb(INFINITY, false), false, 0, -1);
    OK(pc_zremrange(c, K("z"), &sp, &k));
    EQ(k, 2);
    MISSING(c, "z");
}

static void test_zstore(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    pc_zentry a[3] = {ze("x", 1), ze("y", 2), ze("z", 3)};
    pc_zentry b[3] = {ze("y", 10), ze("z", 20), ze("w", 30)};
    OK(pc_zadd(c, K("a"), a, 3, 0, NULL));
    OK(pc_zadd(c, K("b"), b, 3, 0, NULL));
    pc_val sm[2] = {pc_str("x"), pc_str("v")};
    OK(pc_sadd(c, K("s"), sm, 2, NULL));
    pc_bytes keys[4] = {pc_b("a", 1), pc_b("b", 1), pc_b("s", 1), pc_b("missing", 7)};
    uint64_t n;
    pc_zrange_spec all = by_index(0, -1, false);
    OK(pc_zunionstore(c, K("u"), keys, 2, NULL, PC_ZAGG_SUM, &n));
    EQ(n, 4);
    RANGE_IS(c, "u", &all, "x:1 y:12 z:23 w:30");
    double wt[3] = {2, 1, 5};
    OK(pc_zunionstore(c, K("u"), keys, 3, wt, PC_ZAGG_MAX, &n));
    EQ(n, 5);
    RANGE_IS(c, "u", &all, "v:5 x:5 y:10 z:20 w:30");
    OK(pc_zinterstore(c, K("i"), keys, 2, NULL, PC_ZAGG_MIN, &n));
    EQ(n, 2);
    RANGE_IS(c, "i", &all, "y:2 z:3");
    OK(pc_zinterstore(c, K("i"), keys, 4, NULL, PC_ZAGG_SUM, &n)); /* a missing key */
    EQ(n, 0);
    MISSING(c, "i");
    OK(pc_zdiffstore(c, K("d"), keys, 3, &n));
    EQ(n, 0); /* x is in s, y and z in b */
    MISSING(c, "d");
    OK(pc_zdiffstore(c, K("d"), &keys[1], 2, &n)); /* b - s */
    EQ(n, 3);
    RANGE_IS(c, "d", &all, "y:10 z:20 w:30");
    /* inf + -inf is 0; a weight of 0 times inf is 0 */
    pc_zentry pi = ze("m", INFINITY), ni = ze("m", -INFINITY);
    OK(pc_zadd(c, K("p"), &pi, 1, 0, NULL));
    OK(pc_zadd(c, K("q"), &ni, 1, 0, NULL));
    pc_bytes pq[2] = {pc_b("p", 1), pc_b("q", 1)};
    OK(pc_zunionstore(c, K("u"), pq, 2, NULL, PC_ZAGG_SUM, &n));
    CHECK(zscore(c, "u", "m") == 0, "inf + -inf");
    double w0[2] = {0, 1};
    OK(pc_zunionstore(c, K("u"), pq, 2, w0, PC_ZAGG_MAX, &n));
    CHECK(zscore(c, "u", "m") == 0, "0 * inf");
    /* The destination may be a source; its TTL goes. */
    int set;
    OK(pc_expire(c, K("a"), 100000, &set));
    OK(pc_zunionstore(c, K("a"), keys, 2, NULL, PC_ZAGG_SUM, &n));
    EQ(n, 4);
    EQ(pt_ttl(c, "a"), -1);
    /* ZRANGESTORE */
    pc_zrange_spec top = by_index(0, 1, true);
    OK(pc_zrangestore(c, K("r"), K("b"), &top, &n));
    EQ(n, 2);
    RANGE_IS(c, "r", &all, "z:20 w:30");
    pc_zrange_spec none = by_index(5, 9, false);
    OK(pc_zrangestore(c, K("r"), K("b"), &none, &n));
    EQ(n, 0);
    MISSING(c, "r");
    /* Wrong types, bad input: nothing changes */
    pc_val sv = pc_str("v");
    OK(pc_set(c, K("str"), &sv, 0, 0));
    pc_bytes bad[2] = {pc_b("a", 1), pc_b("str", 3)};
    RC(PC_EWRONGTYPE, pc_zunionstore(c, K("u"), bad, 2, NULL, PC_ZAGG_SUM, &n));
    CHECK(zscore(c, "u", "m") == 0, "u unchanged");
    RC(PC_EINVAL, pc_zunionstore(c, K("u"), keys, 2, NULL, 7, &n));
    double wn[2] = {1, NAN};
    RC(PC_ENAN, pc_zunionstore(c, K("u"), keys, 2, wn, PC_ZAGG_SUM, &n));
    RC(PC_EINVAL, pc_zunionstore(c, K("u"), keys, 0, NULL, PC_ZAGG_SUM, &n));
}

/* ---- the counted index on larger sets ---- */

static void test_zset_large(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    enum { N = 20000 };
    pt_rng rng = {42};
    int *order = malloc(N * sizeof *order);
    char(*names)[16] = malloc(N * sizeof *names);
    assert_non_null(order);
    assert_non_null(names);
    for (int i = 0; i < N; i++)
        snprintf(names[i], sizeof names[i], "m%06d", i);
    pt_shuffle(order, N, &rng);
    /* Scores i / 4: four members tie on each score, ordered by name. */
    OK(pc_batch_begin(c));
    for (int i = 0; i < N; i++) {
        pc_zentry e = ze(names[order[i]], order[i] / 4);
        OK(pc_zadd(c, K("big"), &e, 1, 0, NULL));
    }
    OK(pc_batch_exec(c, NULL, 0));
    EQ(zcard(c, "big"), N);
    pc_read *r = pt_rd(c);
    for (int i = 0; i < N; i += 7) {
        uint64_t rank;
        double s;
        pc_val m = pc_str(names[i]);
        OK(pc_zrank(r, K("big"), &m, false, &rank, &s));
        CHECK(rank == (uint64_t)i && s == i / 4, "%d: %" PRIu64, i, rank);
        OK(pc_zrank(r, K("big"), &m, true, &rank, NULL));
        EQ(rank, N - 1 - i);
        pc_zrange_spec sp = by_index(i, i + 2, false);
        pc_cursor cur = PC_CURSOR_INIT;
        pc_zentry e[3];
        size_t n;
        OK(pc_zrange(r, K("big"), &sp, &cur, e, 3, &n));
        EQ(n, i + 2 < N ? 3 : (size_t)(N - i));
        CHECK(e[0].member.s.len == 7 && !memcmp(e[0].member.s.ptr, names[i], 7), "select %d", i);
    }
    /* LIMIT with a large offset goes by rank */
    pc_zrange_spec sp = by_score(sb(100, false), sb(INFINITY, false), false, 5000, 2);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_zentry e[4];
    size_t n;
    OK(pc_zrange(r, K("big"), &sp, &cur, e, 4, &n));
    EQ(n, 2);
    CHECK(!memcmp(e[0].member.s.ptr, names[400 + 5000], 7), "offset");
    sp.rev = true;
    sp.min = sb(-INFINITY, false);
    sp.max = sb(1000, true);
    sp.offset = 3000;
    memset(&cur, 0, sizeof cur);
    OK(pc_zrange(r, K("big"), &sp, &cur, e, 4, &n));
    EQ(n, 2);
    CHECK(!memcmp(e[0].member.s.ptr, names[999], 7) && !memcmp(e[1].member.s.ptr, names[998], 7),
          "rev offset");
    CHECK(cur.done, "LIMIT reached");
    pc_zbound lo = sb(100, false), hi = sb(200, true);
    OK(pc_zcount(r, K("big"), &lo, &hi, &n));
    EQ(n, 400);
    pc_read_end(r);
    /* Remove most of it, at random, and check again. */
    pt_shuffle(order, N, &rng);
    OK(pc_batch_begin(c));
    for (int i = 0; i < N - 500; i++) {
        pc_val m = pc_str(names[order[i]]);
        OK(pc_zrem(c, K("big"), &m, 1, NULL));
    }
    OK(pc_batch_exec(c, NULL, 0));
    EQ(zcard(c, "big"), 500);
    bool *alive = calloc(N, sizeof *alive);
    for (int i = N - 500; i < N; i++)
        alive[order[i]] = true;
    r = pt_rd(c);
    uint64_t want = 0;
    for (int i = 0; i < N; i++) {
        if (!alive[i])
            continue;
        uint64_t rank;
        pc_val m = pc_str(names[i]);
        OK(pc_zrank(r, K("big"), &m, false, &rank, NULL));
        EQ(rank, want);
        want++;
    }
    pc_read_end(r);
    free(alive);
    free(order);
    free(names);
}

/* ---- a randomized run against a model ---- */

typedef struct mentry {
    char m[8];
    double s;
} mentry;

typedef struct model {
    mentry e[512];
    size_t n;
} model;

static int ment_cmp(const void *a, const void *b)
{
    const mentry *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return strcmp(x->m, y->m);
}

static mentry *m_find(model *md, const char *m)
{
    for (size_t i = 0; i < md->n; i++)
        if (!strcmp(md->e[i].m, m))
            return &md->e[i];
    return NULL;
}

static void m_sort(model *md)
{
    qsort(md->e, md->n, sizeof md->e[0], ment_cmp);
}

static void m_del(model *md, size_t i)
{
    md->e[i] = md->e[--md->n];
    m_sort(md);
}

static bool in_score(double s, const pc_zbound *lo, const pc_zbound *hi)
{
    bool a = (lo->flags & PC_ZB_EXCL) ? s > lo->score : s >= lo->score;
    bool b = (hi->flags & PC_ZB_EXCL) ? s < hi->score : s <= hi->score;
    return a && b;
}

/* The model's answer to a range spec, as "m:s ..." */
static void m_range(const model *md, const pc_zrange_spec *s, char *out, size_t cap)
{
    size_t idx[512], k = 0, len = 0;
    out[0] = 0;
    if (s->by == PC_ZBY_INDEX) {
        int64_t n = (int64_t)md->n, a = s->start, b = s->stop;
        if (a < 0)
            a += n;
        if (b < 0)
            b += n;
        if (a < 0)
            a = 0;
        if (b >= n)
            b = n - 1;
        for (int64_t i = a; i <= b && a < n; i++)
            idx[k++] = s->rev ? (size_t)(n - 1 - i) : (size_t)i;
    } else {
        for (size_t j = 0; j < md->n; j++) {
            size_t i = s->rev ? md->n - 1 - j : j;
            if (in_score(md->e[i].s, &s->min, &s->max))
                idx[k++] = i;
        }
        size_t off = (size_t)s->offset < k ? (size_t)s->offset : k;
        memmove(idx, idx + off, (k - off) * sizeof idx[0]);
        k -= off;
        if (s->count >= 0 && (size_t)s->count < k)
            k = (size_t)s->count;
    }
    for (size_t j = 0; j < k; j++) {
        len += (size_t)snprintf(out + len, cap - len, "%s%s:%g", len ? " " : "", md->e[idx[j]].m,
                                md->e[idx[j]].s);
    }
}

static double rscore(pt_rng *rng)
{
    uint64_t x = pt_below(rng, 20);
    if (x == 0)
        return -INFINITY;
    if (x == 1)
        return INFINITY;
    return (double)pt_below(rng, 12) - 4; /* many ties */
}

static pc_zbound rbound(pt_rng *rng)
{
    return sb(pt_below(rng, 10) == 0 ? (pt_below(rng, 2) ? INFINITY : -INFINITY) : rscore(rng),
              pt_below(rng, 2));
}

static void test_zset_model(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    pt_rng rng = {7};
    model md = {.n = 0};
    static char got[16384], want[16384];
    for (int step = 0; step < 4000; step++) {
        char m[8];
        snprintf(m, sizeof m, "k%03d", (int)pt_below(&rng, 400));
        unsigned op = (unsigned)pt_below(&rng, 10);
        if (op <= 3) { /* zadd with flags */
            unsigned f = 0;
            uint64_t pick = pt_below(&rng, 6);
            f = pick == 1   ? PC_ZADD_NX
                : pick == 2 ? PC_ZADD_XX
                : pick == 3 ? PC_ZADD_GT
                : pick == 4 ? PC_ZADD_LT
                            : 0;
            if (pt_below(&rng, 2))
                f |= PC_ZADD_CH;
            double s = rscore(&rng);
            mentry *e = m_find(&md, m);
            uint64_t wantn = 0;
            bool upd = e && !(f & PC_ZADD_NX) && !((f & PC_ZADD_GT) && !(s > e->s)) &&
                       !((f & PC_ZADD_LT) && !(s < e->s));
            bool add = !e && !(f & PC_ZADD_XX);
            if (upd) {
                wantn = (f & PC_ZADD_CH) && e->s != s;
                e->s = s;
            } else if (add) {
                snprintf(md.e[md.n].m, sizeof md.e[0].m, "%s", m);
                md.e[md.n++].s = s;
                wantn = 1;
            }
            m_sort(&md);
            EQ(zadd1(c, "mz", m, s, f), wantn);
        } else if (op == 4) { /* zincrby (NaN refused) */
            double by = rscore(&rng), now;
            mentry *e = m_find(&md, m);
            double to = e ? e->s + by : by;
            pc_val mv = pc_str(m);
            if (isnan(to)) {
                RC(PC_ENAN, pc_zincrby(c, K("mz"), &mv, by, &now));
            } else {
                OK(pc_zincrby(c, K("mz"), &mv, by, &now));
                CHECK(now == to, "%g %g", now, to);
                if (!e) {
                    snprintf(md.e[md.n].m, sizeof md.e[0].m, "%s", m);
                    e = &md.e[md.n++];
                }
                e->s = to == 0 ? 0 : to;
                m_sort(&md);
            }
        } else if (op == 5) { /* zrem */
            uint64_t k;
            pc_val mv = pc_str(m);
            mentry *e = m_find(&md, m);
            OK(pc_zrem(c, K("mz"), &mv, 1, &k));
            EQ(k, e != NULL);
            if (e)
                m_del(&md, (size_t)(e - md.e));
        } else if (op == 6) { /* pops */
            bool max = pt_below(&rng, 2);
            size_t cnt = (size_t)pt_below(&rng, 3), n;
            pc_zentry e[3];
            OK(max ? pc_zpopmax(c, K("mz"), cnt, e, &n) : pc_zpopmin(c, K("mz"), cnt, e, &n));
            EQ(n, cnt < md.n ? cnt : md.n);
            for (size_t i = 0; i < n; i++) {
                size_t at = max ? md.n - 1 : 0;
                CHECK(e[i].member.s.len == strlen(md.e[at].m) &&
                          !memcmp(e[i].member.s.ptr, md.e[at].m, e[i].member.s.len) &&
                          e[i].score == md.e[at].s,
                      "pop %zu", i);
                m_del(&md, at);
            }
        } else if (op == 7) { /* zremrange by score or rank */
            pc_zrange_spec s;
            if (pt_below(&rng, 2)) {
                s = by_index((int64_t)pt_below(&rng, 10) - 3, (int64_t)pt_below(&rng, 10) - 3,
                             pt_below(&rng, 2));
            } else {
                s = by_score(rbound(&rng), rbound(&rng), pt_below(&rng, 2), 0, -1);
                s.offset = (int64_t)pt_below(&rng, 3);
                s.count = (int64_t)pt_below(&rng, 4) - 1;
            }
            m_range(&md, &s, want, sizeof want);
            uint64_t k, wk = 0;
            OK(pc_zremrange(c, K("mz"), &s, &k));
            /* remove what the model's range named */
            char *save = NULL;
            for (char *tok = strtok_r(want, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                *strchr(tok, ':') = 0;
                mentry *e = m_find(&md, tok);
                CHECK(e != NULL, "%s", tok);
                m_del(&md, (size_t)(e - md.e));
                wk++;
            }
            EQ(k, wk);
        } else { /* reads: compare a random range and rank */
            pc_zrange_spec s;
            uint64_t kind = pt_below(&rng, 2);
            if (kind == 0)
                s = by_index((int64_t)pt_below(&rng, 200) - 100, (int64_t)pt_below(&rng, 200) - 100,
                             pt_below(&rng, 2));
            else
                s = by_score(rbound(&rng), rbound(&rng), pt_below(&rng, 2),
                             (int64_t)pt_below(&rng, 5), (int64_t)pt_below(&rng, 8) - 1);
            m_range(&md, &s, want, sizeof want);
            zrange_str(c, "mz", &s, 1 + (size_t)pt_below(&rng, 7), got, sizeof got);
            CHECK(!strcmp(got, want), "step %d: got [%s] want [%s]", step, got, want);
            pc_read *r = pt_rd(c);
            if (s.by == PC_ZBY_SCORE) {
                uint64_t n, wn = 0;
                OK(pc_zcount(r, K("mz"), &s.min, &s.max, &n));
                for (size_t i = 0; i < md.n; i++)
                    wn += in_score(md.e[i].s, &s.min, &s.max);
                EQ(n, wn);
            }
            for (size_t i = 0; i < md.n; i++) {
                uint64_t rank;
                double sc;
                pc_val mv = pc_str(md.e[i].m);
                OK(pc_zrank(r, K("mz"), &mv, false, &rank, &sc));
                CHECK(rank == i && sc == md.e[i].s, "rank of %s: %" PRIu64 " want %zu", md.e[i].m,
                      rank, i);
            }
            pc_read_end(r);
        }
        /* After every step: the size, and the whole set in order. */
        EQ(zcard(c, "mz"), md.n);
        pc_zrange_spec all = by_index(0, -1, false);
        m_range(&md, &all, want, sizeof want);
        zrange_str(c, "mz", &all, 64, got, sizeof got);
        CHECK(!strcmp(got, want), "step %d: got [%s] want [%s]", step, got, want);
        if (md.n == 0)
            MISSING(c, "mz");
    }
}

/* DBSIZE and RANDOMKEY count every type: sorted sets, and issue 16's
 * types, which they missed (their counts sit past PC_T_QUEUE's). */
static void test_dbsize_all_types(void **state)
{
    pt_store *t = *state;
    pc_client *c = t->c;
    zadd1(c, "z", "a", 1, 0);
    OK(pc_setbit(c, K("bits"), 7, 1, NULL));
    pc_read *r = pt_rd(c);
    uint64_t n;
    OK(pc_dbsize(r, &n));
    EQ(n, 2);
    pc_bytes k;
    OK(pc_randomkey(r, &k));
    CHECK(k.len == 1 || k.len == 4, "randomkey");
    pc_read_end(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_zadd_flags),   PT_STORE_TEST(test_zadd_scores),
        PT_STORE_TEST(test_zrange_index), PT_STORE_TEST(test_zrange_score),
        PT_STORE_TEST(test_zrange_lex),   PT_STORE_TEST(test_zrank_pop_rem),
        PT_STORE_TEST(test_zstore),       PT_STORE_TEST(test_zset_large),
        PT_STORE_TEST(test_zset_model),   PT_STORE_TEST(test_dbsize_all_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
