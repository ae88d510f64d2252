/*
 * test_daemon_stream.c - Streams (issue 17) through pycached:
 *
 *  - XREAD BLOCK ("$") and XREADGROUP BLOCK (">") in one process are woken
 *    by an XADD from another, zero-copy and ring-only clients alike;
 *  - with nothing added they time out with PC_ETIMEDOUT, and the client
 *    works afterwards;
 *  - a consumer killed mid-way (SIGKILL) leaves its unacknowledged entries
 *    pending under its name; XCLAIM and XAUTOCLAIM hand them to another
 *    consumer, which acknowledges them: nothing is lost, nothing doubled;
 *  - ring-only reads (xrange, xinfo, xpending, xinfo groups and consumers)
 *    answer what zero-copy reads answer;
 *  - a snapshot carries streams whole (entries of every kind, deleted IDs,
 *    groups, consumers, pending entries, a TTL, an empty stream with a
 *    group) and a restored store works on from them.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "pctest.h"

static int setup(void **state)
{
    pt_daemon_fixture(state, 60);
    return pt_daemon_new(*state, "stream", NULL) || pt_daemon_start(*state, NULL) ? -1 : 0;
}

struct xshared {
    _Atomic int ready;
    _Atomic int rc;
    _Atomic int64_t value;
    _Atomic uint64_t waited_ms;
};

struct waiter_arg {
    const char *dir;
    bool ring_only, group;
    int64_t timeout_ms;
    struct xshared *sh;
};

static int waiter(void *arg)
{
    struct waiter_arg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    /* Of one shard, whatever the store's count: "{ev}other" hashes by its tag,
     * as "ev" does. */
    pc_bytes keys[2] = {pc_b("{ev}other", 9), pc_b("ev", 2)};
    pc_xid ids[2] = {pc_xid_max(), pc_xid_max()};
    pc_xentry e[4];
    size_t nper[2];
    atomic_store(&a->sh->ready, 1);
    uint64_t t0 = pt_now_ms();
    int rc = a->group ? pc_xreadgroup(c, K("g"), K("w"), keys + 1, NULL, 1, 1, a->timeout_ms, 0, e,
                                      4, nper + 1)
                      : pc_xread_wait(c, keys, ids, 2, 1, a->timeout_ms, e, 4, nper);
    atomic_store(&a->sh->waited_ms, pt_now_ms() - t0);
    atomic_store(&a->sh->rc, rc);
    if (rc == 0) {
        CK(nper[1] == 1);
        pc_val fv[2];
        size_t np;
        CKOK(pc_xentry_pairs(&e[0], fv, 2, &np));
        CK(np == 1 && fv[1].kind == PC_INT);
        atomic_store(&a->sh->value, fv[1].i);
    }
    pc_val v = pc_int(1);
    CKOK(pc_set(c, K("after"), &v, 0, 0));
    pc_close(c);
    return 0;
}

static void test_block_woken(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_val fv[2] = {pc_str("n"), pc_int(0)};
    /* an entry there before: "$" must not see it */
    OK(pc_xadd(c, K("ev"), PC_XADD_AUTO, pc_xid_make(0, 0), fv, 1, NULL, 0, NULL));
    OK(pc_xgroup_create(c, K("ev"), K("g"), NULL, -1, 0));
    for (int round = 0; round < 4; round++) {
        struct xshared *sh = pt_shared(sizeof *sh);
        assert_non_null(sh);
        struct waiter_arg a = {d->dir, round % 2 == 1, round >= 2, 20000, sh};
        if (round >= 2) /* the group has seen everything so far */
            OK(pc_xgroup_setid(c, K("ev"), K("g"), NULL, -1));
        pid_t pid = pt_fork(waiter, &a, 40);
        WAIT_BLOCKED(c, pid, &sh->ready);
        /* a write elsewhere wakes it to look, not to answer */
        pc_val x = pc_int(1);
        OK(pc_set(c, K("unrelated"), &x, 0, 0));
        fv[1] = pc_int(100 + round);
        OK(pc_xadd(c, K("ev"), PC_XADD_AUTO, pc_xid_make(0, 0), fv, 1, NULL, 0, NULL));
        EXITED(pt_wait_pid(pid, 30000), 0);
        assert_int_equal(atomic_load(&sh->rc), 0);
        assert_int_equal(atomic_load(&sh->value), 100 + round);
        munmap(sh, sizeof *sh);
    }
    /* the group delivered the two entries it was woken for, pending */
    pc_read *r = pt_rd(c);
    pc_xpending_info pi;
    size_t n;
    OK(pc_xpending_summary(r, K("ev"), K("g"), &pi, NULL, NULL, 0, &n));
    pc_read_end(r);
    CHECK(pi.count == 2, "%" PRIu64, pi.count);
}

static void test_block_timeout(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    OK(pc_xgroup_create(c, K("ev"), K("g"), NULL, -1, PC_XGROUP_MKSTREAM));
    for (int round = 0; round < 4; round++) {
        struct xshared *sh = pt_shared(sizeof *sh);
        assert_non_null(sh);
        struct waiter_arg a = {d->dir, round % 2 == 1, round >= 2, 300, sh};
        pid_t pid = pt_fork(waiter, &a, 40);
        EXITED(pt_wait_pid(pid, 30000), 0);
        assert_int_equal(atomic_load(&sh->rc), PC_ETIMEDOUT);
        uint64_t ms = atomic_load(&sh->waited_ms);
        CHECK(ms >= 290 && ms < 10000, "waited %" PRIu64 " ms", ms);
        munmap(sh, sizeof *sh);
    }
    GET_IS(c, "after", pc_int(1));
}

/* A consumer that takes 6 entries, acknowledges 2, says so and hangs. */
struct victim_arg {
    const char *dir;
    _Atomic int *done;
};

static int victim(void *arg)
{
    struct victim_arg *a = arg;
    pc_client *c;
    pc_options o;
    pc_options_init(&o);
    CKOK(pc_connect(a->dir, &o, &c));
    pc_bytes key = pc_b("jobs", 4);
    pc_xentry e[8];
    size_t nper;
    CKOK(pc_xreadgroup(c, K("workers"), K("victim"), &key, NULL, 1, 6, 0, 0, e, 8, &nper));
    CK(nper == 6);
    pc_xid ack[2] = {e[0].id, e[1].id};
    uint64_t k;
    CKOK(pc_xack(c, K("jobs"), K("workers"), ack, 2, &k));
    CK(k == 2);
    atomic_store(a->done, 1);
    for (;;)
        pause();
}

static void test_consumer_killed(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    OK(pc_xgroup_create(c, K("jobs"), K("workers"), NULL, -1, PC_XGROUP_MKSTREAM));
    for (int i = 0; i < 10; i++) {
        pc_val fv[2] = {pc_str("job"), pc_int(i)};
        OK(pc_xadd(c, K("jobs"), PC_XADD_AUTO, pc_xid_make(0, 0), fv, 1, NULL, 0, NULL));
    }
    _Atomic int *done = pt_shared(sizeof *done);
    assert_non_null(done);
    struct victim_arg a = {d->dir, done};
    pid_t pid = pt_fork(victim, &a, 60);
    uint64_t until = pt_now_ms() + 20000;
    while (!atomic_load(done) && pt_now_ms() < until)
        pt_sleep_ms(1);
    assert_true(atomic_load(done));
    kill(pid, SIGKILL);
    pt_wait_pid(pid, 10000);
    /* its 4 unacknowledged entries are pending under its name */
    pc_read *r = pt_rd(c);
    pc_xpending_entry pe[16];
    size_t n;
    OK(pc_xpending(r, K("jobs"), K("workers"), pc_xid_make(0, 0), pc_xid_max(), 0, 0, K("victim"),
                   pe, 16, &n));
    pc_read_end(r);
    assert_int_equal(n, 4);
    /* idle for a while: claim one by ID, the rest by scanning */
    pt_sleep_ms(60);
    pc_xentry e[16];
    size_t got;
    int64_t seen[10] = {0};
    OK(pc_xclaim(c, K("jobs"), K("workers"), K("rescuer"), 50, &pe[0].id, 1, NULL, e, 16, &got));
    assert_int_equal(got, 1);
    pc_xid next, dels[4];
    size_t nd, total = got;
    pc_xid acks[16];
    acks[0] = e[0].id;
    pc_val fv[2];
    size_t np;
    OK(pc_xentry_pairs(&e[0], fv, 2, &np));
    seen[fv[1].i]++;
    OK(pc_xautoclaim(c, K("jobs"), K("workers"), K("rescuer"), 50, pc_xid_make(0, 0), 10, false,
                     &next, e, 16, &got, dels, 4, &nd));
    /* the one claimed above is no longer idle: three more */
    assert_int_equal(got, 3);
    assert_int_equal(nd, 0);
    for (size_t i = 0; i < got; i++) {
        OK(pc_xentry_pairs(&e[i], fv, 2, &np));
        seen[fv[1].i]++;
        acks[total++] = e[i].id;
    }
    /* and the four never delivered */
    pc_bytes key = pc_b("jobs", 4);
    size_t nper;
    OK(pc_xreadgroup(c, K("workers"), K("rescuer"), &key, NULL, 1, 0, 0, 0, e, 16, &nper));
    assert_int_equal(nper, 4);
    for (size_t i = 0; i < nper; i++) {
        OK(pc_xentry_pairs(&e[i], fv, 2, &np));
        seen[fv[1].i]++;
        acks[total++] = e[i].id;
    }
    uint64_t k;
    OK(pc_xack(c, K("jobs"), K("workers"), acks, total, &k));
    assert_int_equal(k, 8);
    /* every job but the two the victim acknowledged, once each */
    for (int i = 0; i < 10; i++)
        CHECK(seen[i] == (i < 2 ? 0 : 1), "job %d seen %" PRId64 " times", i, seen[i]);
    r = pt_rd(c);
    pc_xpending_info pi;
    OK(pc_xpending_summary(r, K("jobs"), K("workers"), &pi, NULL, NULL, 0, &n));
    assert_int_equal(pi.count, 0);
    pc_read_end(r);
    munmap(done, sizeof *done);
}

static void test_ring_only_agrees(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0), *ro = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(c);
    assert_non_null(ro);
    for (int i = 0; i < 50; i++) {
        pc_val fv[4] = {pc_str("i"), pc_int(i), pc_str("s"), pc_str("text")};
        OK(pc_xadd(c, K("rs"), PC_XADD_EXPLICIT, pc_xid_make(1000 + (uint64_t)i, 0), fv, 2, NULL, 0,
                   NULL));
    }
    OK(pc_xgroup_create(c, K("rs"), K("g"), NULL, 10, 0));
    OK(pc_xgroup_create(c, K("rs"), K("g0"), &(pc_xid){0, 0}, -1, 0));
    pc_bytes key = pc_b("rs", 2);
    pc_xentry e[64];
    size_t nper;
    OK(pc_xreadgroup(c, K("g0"), K("a"), &key, NULL, 1, 7, 0, 0, e, 64, &nper));
    OK(pc_xreadgroup(ro, K("g0"), K("b"), &key, NULL, 1, 5, 0, 0, e, 64, &nper));
    assert_int_equal(nper, 5);
    pc_read *zr = pt_rd(c), *rr = pt_rd(ro);
    pc_xentry a[64], b[64];
    size_t na, nb;
    OK(pc_xrange(zr, K("rs"), pc_xid_make(1010, 0), pc_xid_max(), PC_XRANGE_REV, a, 20, &na));
    OK(pc_xrange(rr, K("rs"), pc_xid_make(1010, 0), pc_xid_max(), PC_XRANGE_REV, b, 20, &nb));
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        CHECK(!pc_xid_cmp(a[i].id, b[i].id) && a[i].rawlen == b[i].rawlen &&
                  !memcmp(a[i].raw, b[i].raw, a[i].rawlen),
              "entry %zu", i);
    }
    pc_xinfo xa, xb;
    OK(pc_xinfo_stream(zr, K("rs"), &xa));
    OK(pc_xinfo_stream(rr, K("rs"), &xb));
    CHECK(!memcmp(&xa, &xb, sizeof xa), "xinfo");
    pc_xpending_info pa, pb;
    pc_bytes na1[4], nb1[4];
    uint64_t ca[4], cb[4];
    size_t ka, kb;
    OK(pc_xpending_summary(zr, K("rs"), K("g0"), &pa, na1, ca, 4, &ka));
    OK(pc_xpending_summary(rr, K("rs"), K("g0"), &pb, nb1, cb, 4, &kb));
    CHECK(pa.count == 12 && !memcmp(&pa, &pb, sizeof pa) && ka == 2 && kb == 2 && ca[1] == cb[1],
          "summary %" PRIu64, pa.count);
    pc_xpending_entry ea[16], eb[16];
    OK(pc_xpending(zr, K("rs"), K("g0"), pc_xid_make(0, 0), pc_xid_max(), 0, 0, K("b"), ea, 16,
                   &ka));
    OK(pc_xpending(rr, K("rs"), K("g0"), pc_xid_make(0, 0), pc_xid_max(), 0, 0, K("b"), eb, 16,
                   &kb));
    assert_int_equal(ka, 5);
    assert_int_equal(kb, 5);
    for (size_t i = 0; i < ka; i++)
        CHECK(!pc_xid_cmp(ea[i].id, eb[i].id) && ea[i].deliveries == eb[i].deliveries, "pe %zu", i);
    pc_xgroup_info ga[4], gb[4];
    OK(pc_xinfo_groups(zr, K("rs"), ga, 4, &ka));
    OK(pc_xinfo_groups(rr, K("rs"), gb, 4, &kb));
    assert_int_equal(ka, 2);
    assert_int_equal(kb, 2);
    for (size_t i = 0; i < ka; i++)
        CHECK(ga[i].pending == gb[i].pending && ga[i].lag == gb[i].lag &&
                  ga[i].entries_read == gb[i].entries_read,
              "group %zu", i);
    CHECK(ga[0].entries_read == 10 && ga[0].lag == 40, "g: %" PRId64 " %" PRId64,
          ga[0].entries_read, ga[0].lag);
    CHECK(ga[1].entries_read == 12 && ga[1].lag == 38, "g0: %" PRId64 " %" PRId64,
          ga[1].entries_read, ga[1].lag);
    pc_xconsumer_info cia[4], cib[4];
    OK(pc_xinfo_consumers(zr, K("rs"), K("g0"), cia, 4, &ka));
    OK(pc_xinfo_consumers(rr, K("rs"), K("g0"), cib, 4, &kb));
    CHECK(ka == 2 && kb == 2 && cia[0].pending == 7 && cib[1].pending == 5, "consumers");
    RC(PC_ENOTFOUND, pc_xinfo_consumers(rr, K("rs"), K("nog"), cib, 4, &kb));
    RC(PC_ENOTFOUND, pc_xinfo_stream(rr, K("none"), &xb));
    pc_read_end(zr);
    pc_read_end(rr);
    pc_close(ro);
}

/* ---- snapshots ---- */

static void fill(pc_client *c)
{
    const pc_val kinds[] = {pc_str("text"), pc_mem("\xff\x00\x80", 3),
                            pc_int(-7),     pc_dbl(2.5),
                            pc_bool(false), pc_nil()};
    for (int i = 0; i < 300; i++) {
        pc_val fv[4] = {pc_str("n"), pc_int(i), pc_mem("\x01k", 2), kinds[i % 6]};
        OK(pc_xadd(c, K("x:big"), PC_XADD_EXPLICIT,
                   pc_xid_make(1000 + (uint64_t)i / 3, (uint64_t)i % 3), fv, 1 + (size_t)(i % 2),
                   NULL, 0, NULL));
    }
    pc_xid del[2] = {pc_xid_make(1000, 0), pc_xid_make(1050, 1)};
    OK(pc_xdel(c, K("x:big"), del, 2, NULL));
    OK(pc_xgroup_create(c, K("x:big"), K("g1"), &(pc_xid){0, 0}, -1, 0));
    OK(pc_xgroup_create(c, K("x:big"), "\x00bin", 4, NULL, 7, 0));
    pc_bytes key = pc_b("x:big", 5);
    pc_xentry e[64];
    size_t n;
    OK(pc_xreadgroup(c, K("g1"), K("alice"), &key, NULL, 1, 20, 0, 0, e, 64, &n));
    OK(pc_xreadgroup(c, K("g1"), K("bob"), &key, NULL, 1, 10, 0, 0, e, 64, &n));
    pc_xid zero = pc_xid_make(0, 0);
    OK(pc_xreadgroup(c, K("g1"), K("bob"), &key, &zero, 1, 3, 0, 0, e, 64, &n));
    OK(pc_xgroup_createconsumer(c, K("x:big"), K("g1"), K("idle"), NULL));
    OK(pc_xack(c, K("x:big"), K("g1"), &e[0].id, 1, NULL));
    pc_val fv[2] = {pc_str("a"), pc_str("b")};
    OK(pc_xadd(c, K("x:ttl"), PC_XADD_AUTO, zero, fv, 1, NULL, 0, NULL));
    int set;
    OK(pc_expire(c, K("x:ttl"), 3600000, &set));
    OK(pc_xgroup_create(c, K("x:empty"), K("g"), NULL, -1, PC_XGROUP_MKSTREAM));
    OK(pc_xadd(c, K("x:trimmed"), PC_XADD_EXPLICIT, pc_xid_make(5, 5), fv, 1, NULL, 0, NULL));
    pc_xtrim_opts tr = {.by = PC_XTRIM_MAXLEN};
    OK(pc_xtrim(c, K("x:trimmed"), &tr, NULL));
}

static void test_snapshot(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    fill(c);
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    char why[128] = "";
    CHECK(pt_snapshot_complete(info.path, why, sizeof why), "%s: %s", info.path, why);
    pt_dump before;
    OK(pt_dump_store(c, &before));
    EQ(info.keys, before.n);
    sqlite3 *db = pt_db_open(info.path);
    assert_non_null(db);
    EQ(pt_db_int(db, "SELECT count(*) FROM streams", -1), 4);
    EQ(pt_db_int(db,
                 "SELECT count(DISTINCT ms || '-' || seq) FROM stream_entries"
                 " WHERE key='x:big'",
                 -1),
       298);
    EQ(pt_db_int(db, "SELECT count(*) FROM stream_entries WHERE key='x:big'", -1), 298 + 149);
    EQ(pt_db_int(db, "SELECT max_deleted_ms FROM streams WHERE key='x:big'", -1), 1050);
    EQ(pt_db_int(db, "SELECT entries_added FROM streams WHERE key='x:trimmed'", -1), 1);
    EQ(pt_db_int(db, "SELECT count(*) FROM stream_groups", -1), 3);
    EQ(pt_db_int(db, "SELECT count(*) FROM stream_consumers WHERE key='x:big'", -1), 3);
    EQ(pt_db_int(db, "SELECT count(*) FROM stream_pending WHERE consumer='bob'", -1), 9);
    EQ(pt_db_int(db, "SELECT max(deliveries) FROM stream_pending", -1), 2);
    EQ(pt_db_int(db, "SELECT count(*) FROM stream_groups WHERE entries_read=7", -1), 1);
    EQ(pt_db_int(db, "SELECT value FROM meta WHERE name='stream_pending_count'", -1), 29);
    pt_db_close(db);
    pt_dump after;
    c = pt_restore_in(w, a, b, c, &before, &after);
    /* it works on: IDs go on after the last, delivery goes on from the
     * group's position, pending entries can be acknowledged */
    pc_val fv[2] = {pc_str("a"), pc_str("b")};
    RC(PC_ERANGE,
       pc_xadd(c, K("x:trimmed"), PC_XADD_EXPLICIT, pc_xid_make(5, 5), fv, 1, NULL, 0, NULL));
    pc_bytes key = pc_b("x:big", 5);
    pc_xentry e[8];
    size_t n;
    OK(pc_xreadgroup(c, K("g1"), K("carol"), &key, NULL, 1, 1, 0, 0, e, 8, &n));
    EQ(n, 1);
    CHECK(e[0].id.ms == 1010 && e[0].id.seq == 1, "%" PRIu64 "-%" PRIu64, e[0].id.ms, e[0].id.seq);
    pc_read *r = pt_rd(c);
    pc_xpending_entry pe[32];
    OK(pc_xpending(r, K("x:big"), K("g1"), pc_xid_make(0, 0), pc_xid_max(), 0, 0, K("bob"), pe, 32,
                   &n));
    pc_read_end(r);
    EQ(n, 9);
    uint64_t k;
    OK(pc_xack(c, K("x:big"), K("g1"), &pe[0].id, 1, &k));
    EQ(k, 1);
    CHECK(pt_ttl(c, "x:ttl") > 0, "the TTL");
    pt_restore_done(w, b, c, &before, &after);
}

int main(void)
{
    pt_init(170);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_block_woken, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_block_timeout, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_consumer_killed, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_ring_only_agrees, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot, pt_ws_setup, pt_ws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
