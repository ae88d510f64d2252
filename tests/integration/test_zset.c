/*
 * test_zset.c - sorted sets (issue 17) through a real pycached:
 *
 *  - a ring-only client reads what a trusted one reads zero-copy: ranges
 *    of every kind paged, ranks, scores, counts, long members included;
 *  - BZPOPMIN / BZPOPMAX in one process are answered within moments of a
 *    ZADD from another, from the first key that has members; with nothing
 *    added they time out with PC_ETIMEDOUT and the client works on;
 *    misuse (a batch, a bad timeout, keys of two shards) is refused;
 *  - snapshots carry sorted sets (the zsets table: members, kinds and
 *    scores, -inf and +inf included, long members, a TTL), and a restored
 *    store ranks, ranges and adds as before.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "pctest.h"

static int setup(void **state)
{
    pt_daemon_fixture(state, 120);
    return pt_daemon_new(*state, "zset", NULL) || pt_daemon_start(*state, NULL) ? -1 : 0;
}

/* All of the range s of key through r, as text. */
static void range_text(pc_read *r, const char *key, const pc_zrange_spec *s, size_t page,
                       pt_buf *out)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_zentry e[16];
    size_t n;
    out->len = 0;
    while (!cur.done) {
        OK(pc_zrange(r, K(key), s, &cur, e, page, &n));
        for (size_t i = 0; i < n; i++) {
            char num[40];
            int k = snprintf(num, sizeof num, "|%a|", e[i].score);
            pt_buf_put(out, &e[i].member.kind, 1);
            if (e[i].member.kind == PC_BYTES)
                pt_buf_put(out, e[i].member.s.ptr, e[i].member.s.len);
            pt_buf_put(out, num, (size_t)k);
        }
    }
}

static void test_zset_ring_only(void **state)
{
    pt_daemon *d = *state;
    pc_client *z = pt_daemon_client(d, 0), *o = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(z);
    assert_non_null(o);
    pt_rng rng = {pt_seed("test_zset_ring_only")};
    static char longm[8][600];
    for (int i = 0; i < 3000; i++) {
        char m[32];
        pc_zentry e;
        if (i % 400 == 0) { /* long members, sorted by their first 447 bytes, then digest */
            memset(longm[i / 400], 'L', sizeof longm[0]);
            snprintf(longm[i / 400] + 500, 100, "%d", i);
            e.member = pc_mem(longm[i / 400], 560);
        } else {
            e.member = pc_mem(m, (size_t)snprintf(m, sizeof m, "m%05d", (int)pt_below(&rng, 5000)));
        }
        e.score = (double)pt_below(&rng, 50);
        OK(pc_zadd(i % 2 ? o : z, K("rz"), &e, 1, 0, NULL));
    }
    pc_read *rz, *ro;
    OK(pc_read_begin(z, &rz));
    OK(pc_read_begin(o, &ro));
    uint64_t cz, co;
    OK(pc_zcard(rz, K("rz"), &cz));
    OK(pc_zcard(ro, K("rz"), &co));
    EQ(cz, co);
    pt_buf bz = {0}, bo = {0};
    for (int k = 0; k < 60; k++) {
        pc_zrange_spec s;
        pc_zrange_spec_init(&s);
        s.rev = pt_below(&rng, 2);
        switch (k % 3) {
        case 0:
            s.start = (int64_t)pt_below(&rng, 4000) - 2000;
            s.stop = (int64_t)pt_below(&rng, 4000) - 1000;
            break;
        case 1:
            s.by = PC_ZBY_SCORE;
            s.min.score = (double)pt_below(&rng, 50);
            s.max.score = k % 4 ? s.min.score + (double)pt_below(&rng, 20) : INFINITY;
            s.min.flags = pt_below(&rng, 2) ? PC_ZB_EXCL : 0;
            s.offset = (int64_t)pt_below(&rng, 300);
            s.count = (int64_t)pt_below(&rng, 500) - 1;
            break;
        default:
            s.by = PC_ZBY_LEX;
            s.min.flags = PC_ZB_MINUS;
            s.max.member = pc_str("m03000");
            break;
        }
        size_t page = 1 + (size_t)pt_below(&rng, 16);
        range_text(rz, "rz", &s, page, &bz);
        range_text(ro, "rz", &s, page, &bo);
        CHECK(bz.len == bo.len && (!bz.len || !memcmp(bz.p, bo.p, bz.len)), "range %d differs", k);
        if (s.by != PC_ZBY_INDEX) {
            uint64_t nz, no;
            if (s.by == PC_ZBY_SCORE) {
                OK(pc_zcount(rz, K("rz"), &s.min, &s.max, &nz));
                OK(pc_zcount(ro, K("rz"), &s.min, &s.max, &no));
            } else {
                OK(pc_zlexcount(rz, K("rz"), &s.min, &s.max, &nz));
                OK(pc_zlexcount(ro, K("rz"), &s.min, &s.max, &no));
            }
            EQ(nz, no);
        }
    }
    pt_buf_free(&bz);
    pt_buf_free(&bo);
    for (int k = 0; k < 300; k++) {
        char m[32];
        pc_val mv =
            k % 50 == 0
                ? pc_mem(longm[k / 50 % 8], 560)
                : pc_mem(m, (size_t)snprintf(m, sizeof m, "m%05d", (int)pt_below(&rng, 5000)));
        uint64_t rkz = 1, rko = 2;
        double sz = 1, so = 2;
        int a = pc_zrank(rz, K("rz"), &mv, k % 2, &rkz, &sz);
        int b = pc_zrank(ro, K("rz"), &mv, k % 2, &rko, &so);
        EQ(a, b);
        if (!a)
            CHECK(rkz == rko && sz == so, "rank %" PRIu64 " %" PRIu64, rkz, rko);
        double ms[1];
        int fz, fo;
        OK(pc_zmscore(ro, K("rz"), &mv, 1, ms, &fo));
        OK(pc_zmscore(rz, K("rz"), &mv, 1, ms, &fz));
        EQ(fz, fo);
        EQ(fz, a == 0);
    }
    pc_zrange_spec bad;
    pc_zrange_spec_init(&bad);
    bad.count = 3;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_zentry e[2];
    size_t n;
    RC(PC_EINVAL, pc_zrange(ro, K("rz"), &bad, &cur, e, 2, &n));
    pc_val sv = pc_str("s");
    OK(pc_set(z, K("str"), &sv, 0, 0));
    pc_read_end(ro);
    OK(pc_read_begin(o, &ro));
    RC(PC_EWRONGTYPE, pc_zcard(ro, K("str"), &co));
    OK(pc_zcard(ro, K("none"), &co));
    EQ(co, 0);
    pc_read_end(rz);
    pc_read_end(ro);
    pc_close(o);
    pc_close(z);
    d->passed = true;
}

/* ---- blocking pops ---- */

struct zshared {
    _Atomic int waiting;
    _Atomic int rc;
    _Atomic uint64_t done_us;
    char key[16];
    char member[16];
    double score;
};

struct zwaiter {
    const char *dir;
    bool ring_only, max;
    int64_t timeout_ms;
    struct zshared *sh;
};

static int zwaiter(void *arg)
{
    struct zwaiter *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    pc_bytes keys[2] = {pc_b(K("{b}one")), pc_b(K("{b}two"))};
    pc_bytes key = {0};
    pc_zentry e = {{.kind = PC_NONE}, 0};
    atomic_store(&a->sh->waiting, 1);
    int rc = a->max ? pc_bzpopmax(c, keys, 2, a->timeout_ms, &key, &e)
                    : pc_bzpopmin(c, keys, 2, a->timeout_ms, &key, &e);
    atomic_store(&a->sh->done_us, pt_now_us());
    if (rc == 0) {
        CK(key.len < sizeof a->sh->key && e.member.kind == PC_BYTES && e.member.s.len < 16);
        memcpy(a->sh->key, key.ptr, key.len);
        memcpy(a->sh->member, e.member.s.ptr, e.member.s.len);
        a->sh->score = e.score;
    }
    atomic_store(&a->sh->rc, rc);
    /* The client works afterwards. */
    pc_zentry z = {pc_str("after"), 1};
    CKOK(pc_zadd(c, K("{b}after"), &z, 1, 0, NULL));
    pc_close(c);
    return 0;
}

static void test_bzpop_woken(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    for (int round = 0; round < 4; round++) {
        struct zshared *sh = pt_shared(sizeof *sh);
        assert_non_null(sh);
        struct zwaiter a = {d->dir, round % 2 == 1, round >= 2, 30000, sh};
        pid_t pid = pt_fork(zwaiter, &a, 60);
        WAIT_BLOCKED(c, pid, &sh->waiting);
        /* Members come to the second key: the waiter takes the lowest
         * (highest) of them. */
        pc_zentry e[3] = {{pc_str("b"), 2}, {pc_str("a"), 1}, {pc_str("c"), 3}};
        OK(pc_zadd(c, K("{b}two"), e, 3, 0, NULL));
        uint64_t added = pt_now_us();
        EXITED(pt_wait_pid(pid, 60000), 0);
        EQ(atomic_load(&sh->rc), 0);
        CHECK(!strcmp(sh->key, "{b}two"), "%s", sh->key);
        CHECK(!strcmp(sh->member, round >= 2 ? "c" : "a"), "%s", sh->member);
        CHECK(sh->score == (round >= 2 ? 3 : 1), "%g", sh->score);
        pt_note("bzpop woken %.1f ms after the zadd", (double)(sh->done_us - added) / 1000);
        pc_read *r = pt_rd(c);
        uint64_t n;
        OK(pc_zcard(r, K("{b}two"), &n));
        EQ(n, 2);
        OK(pc_zcard(r, K("{b}after"), &n));
        EQ(n, 1);
        pc_read_end(r);
        int del;
        OK(pc_del(c, K("{b}two"), &del));
    }
    /* A key that holds members answers at once; the first such key wins. */
    pc_zentry one = {pc_str("x"), 5}, two = {pc_str("y"), 6};
    OK(pc_zadd(c, K("{b}one"), &one, 1, 0, NULL));
    OK(pc_zadd(c, K("{b}two"), &two, 1, 0, NULL));
    pc_bytes keys[2] = {pc_b(K("{b}two")), pc_b(K("{b}one"))};
    pc_bytes key;
    pc_zentry got;
    OK(pc_bzpopmin(c, keys, 2, 1000, &key, &got));
    CHECK(key.len == 6 && !memcmp(key.ptr, "{b}two", 6) && got.score == 6, "first key");
    /* Misuse */
    RC(PC_EINVAL, pc_bzpopmin(c, keys, 2, 0, &key, &got));
    RC(PC_EINVAL, pc_bzpopmin(c, keys, 0, 100, &key, &got));
    OK(pc_batch_begin(c));
    RC(PC_ESTATE, pc_bzpopmin(c, keys, 2, 100, &key, &got));
    pc_discard(c);
    pc_val sv = pc_str("s");
    OK(pc_set(c, K("{b}str"), &sv, 0, 0));
    pc_bytes wrong[1] = {pc_b(K("{b}str"))};
    RC(PC_EWRONGTYPE, pc_bzpopmax(c, wrong, 1, 100, &key, &got));
    pc_close(c);
    d->passed = true;
}

static void test_bzpop_timeout(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    for (int round = 0; round < 2; round++) {
        struct zshared *sh = pt_shared(sizeof *sh);
        assert_non_null(sh);
        struct zwaiter a = {d->dir, round == 1, false, 300, sh};
        uint64_t t0 = pt_now_us();
        pid_t pid = pt_fork(zwaiter, &a, 60);
        EXITED(pt_wait_pid(pid, 60000), 0);
        EQ(atomic_load(&sh->rc), PC_ETIMEDOUT);
        uint64_t took = atomic_load(&sh->done_us) - t0;
        CHECK(took >= 300000, "gave up after %" PRIu64 " us", took);
        pt_note("bzpop timed out after %.1f ms (asked 300)", (double)took / 1000);
    }
    MISSING(c, "{b}one");
    pc_close(c);
    d->passed = true;
}

/* ---- snapshots ---- */

static void test_zset_snapshot(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    static char longm[700];
    memset(longm, 'q', sizeof longm);
    pc_zentry e[6] = {{pc_str("a"), -INFINITY}, {pc_str("b"), INFINITY}, {pc_int(7), 1.5},
                      {pc_dbl(2.5), -0.0},      {pc_bool(true), 3},      {pc_mem(longm, 700), 2}};
    OK(pc_zadd(c, K("z:small"), e, 6, 0, NULL));
    OK(pc_batch_begin(c));
    for (int i = 0; i < 5000; i++) {
        char m[16];
        pc_zentry x = {pc_mem(m, (size_t)snprintf(m, sizeof m, "m%d", i)), (double)(i % 97)};
        OK(pc_zadd(c, K("z:big"), &x, 1, 0, NULL));
    }
    OK(pc_batch_exec(c, NULL, 0));
    OK(pc_zadd(c, K("z:ttl"), e, 2, 0, NULL));
    int set;
    OK(pc_expire(c, K("z:ttl"), 3600000, &set));
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    uint64_t rank0;
    pc_val m = pc_str("m96");
    pc_read *r = pt_rd(c);
    OK(pc_zrank(r, K("z:big"), &m, false, &rank0, NULL));
    pc_read_end(r);
    pt_dump before;
    OK(pt_dump_store(c, &before));
    sqlite3 *db = pt_db_open(info.path);
    assert_non_null(db);
    EQ(pt_db_int(db, "SELECT count(*) FROM zsets", -1), 5008);
    EQ(pt_db_int(db, "SELECT value FROM meta WHERE name='zset_member_count'", -1), 5008);
    EQ(pt_db_int(db, "SELECT count(*) FROM keys WHERE type='zset'", -1), 3);
    EQ(pt_db_int(db, "SELECT count(*) FROM zsets WHERE key='z:small' AND score > 1e308", -1), 1);
    EQ(pt_db_int(db, "SELECT count(*) FROM zsets WHERE kind='bool'", -1), 1);
    pt_db_close(db);
    pt_dump after;
    c = pt_restore_in(w, a, b, c, &before, &after);
    r = pt_rd(c);
    uint64_t rank;
    double sc;
    OK(pc_zrank(r, K("z:big"), &m, false, &rank, &sc));
    CHECK(sc == 96 && rank == rank0 && rank >= 5000 - 51, "%" PRIu64 " %g", rank, sc);
    pc_val lm = pc_mem(longm, 700);
    OK(pc_zscore(r, K("z:small"), &lm, &sc));
    CHECK(sc == 2, "%g", sc);
    pc_read_end(r);
    CHECK(pt_ttl(c, "z:ttl") > 0, "TTL restored");
    pc_zentry more = {pc_str("zz"), 0.5};
    uint64_t n;
    OK(pc_zadd(c, K("z:big"), &more, 1, 0, &n));
    EQ(n, 1);
    pt_restore_done(w, b, c, &before, &after);
}

int main(void)
{
    pt_init(300);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zset_ring_only, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_bzpop_woken, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_bzpop_timeout, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_zset_snapshot, pt_ws_setup, pt_ws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
