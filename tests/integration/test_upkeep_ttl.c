/*
 * test_upkeep_ttl.c - the daemon's TTL worker, against a real pycached.
 *
 *  - Expired keys are counted (pc_expired_count, trusted and ring-only) and
 *    listed (pc_expiry_scan) before the worker removes them, read as missing
 *    at once, and are gone within a few intervals once the worker runs; the
 *    stats page counts them as expired, exactly.
 *  - The worker stopped (--expire-interval 0, or pc_set_expire_interval 0)
 *    and restarted behaves as the seed library's stop/start_ttl_deletion:
 *    stopped, expired keys stay, read as missing and are counted; restarted,
 *    they are removed.  pc_purge_expired removes them on demand.
 *  - Many keys expiring together (more than one bounded step) all go.
 */
#include "../../shm/record.h"
#include "pctest.h"

/* How long "a few intervals" may take on a slow, shared machine. */
#define GONE_WITHIN_MS 3000

typedef struct fixture {
    pt_daemon d;
    pc_client *c;  /* trusted: zero-copy reads */
    pc_client *ro; /* ring-only: reads through the daemon */
} fixture;

static int start(void **state, const char *const *extra)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || pt_small_daemon(&f->d, extra)) {
        free(f);
        return -1;
    }
    if (pt_connect(f->d.dir, 0, &f->c) || pt_connect(f->d.dir, PC_OPT_RING_ONLY, &f->ro)) {
        pc_close(f->c);
        pt_daemon_end(&f->d);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup_default(void **state)
{
    return start(state, NULL);
}

static int setup_stopped(void **state)
{
    static const char *const extra[] = {"--expire-interval", "0", NULL};
    return start(state, extra);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    pc_close(f->c);
    pc_close(f->ro);
    int rc = pt_daemon_end(&f->d);
    free(f);
    return rc;
}

/* ---- helpers ---- */

/* Set keys family:0..n-1 (String "v<i>") with ttl_ms (0: none), in batches. */
static void put_keys(pc_client *c, const char *family, uint64_t n, int64_t ttl_ms)
{
    char key[64], val[32];
    for (uint64_t i = 0; i < n;) {
        OK(pc_batch_begin(c));
        for (unsigned b = 0; b < 128 && i < n; b++, i++) {
            snprintf(val, sizeof val, "v%" PRIu64, i);
            pc_val v = pc_str(val);
            OK(pc_set(c, K(pt_key(key, sizeof key, family, i)), &v, ttl_ms, 0));
        }
        OK(pc_batch_exec(c, NULL, 0));
    }
}

static uint64_t expired_count(pc_client *c)
{
    pc_read *r;
    uint64_t n = UINT64_MAX;
    OK(pc_read_begin(c, &r));
    OK(pc_expired_count(r, &n));
    pc_read_end(r);
    return n;
}

/* Poll until no expired key is left; returns the ms it took. */
static uint64_t wait_none_expired(pc_client *c, uint64_t within_ms)
{
    uint64_t t0 = pt_now_ms(), n = expired_count(c);
    while (n && pt_now_ms() - t0 < within_ms) {
        pt_sleep_ms(10);
        n = expired_count(c);
    }
    if (n) {
        print_error("%" PRIu64 " expired keys still there after %" PRIu64 " ms\n", n, within_ms);
        fail();
    }
    return pt_now_ms() - t0;
}

/* Keys family:0..n-1 all read as missing, by every read call. */
static void all_missing(pc_client *c, const char *family, uint64_t n)
{
    pc_read *r;
    char key[64];
    OK(pc_read_begin(c, &r));
    for (uint64_t i = 0; i < n; i++) {
        pc_val v;
        pc_type t = PC_T_STRING;
        int ex = 1;
        int64_t ttl;
        pt_key(key, sizeof key, family, i);
        RC(PC_ENOTFOUND, pc_get(r, K(key), &v));
        OK(pc_exists(r, K(key), &ex));
        assert_int_equal(ex, 0);
        OK(pc_type_of(r, K(key), &t));
        assert_int_equal(t, PC_T_NONE);
        RC(PC_ENOTFOUND, pc_ttl(r, K(key), &ttl));
    }
    pc_read_end(r);
}

/* Keys family:0..n-1 all read back as "v<i>". */
static void all_present(pc_client *c, const char *family, uint64_t n)
{
    pc_read *r;
    char key[64], want[32];
    OK(pc_read_begin(c, &r));
    for (uint64_t i = 0; i < n; i++) {
        pc_val v;
        OK(pc_get(r, K(pt_key(key, sizeof key, family, i)), &v));
        snprintf(want, sizeof want, "v%" PRIu64, i);
        assert_int_equal(v.kind, PC_BYTES);
        assert_int_equal(v.s.len, strlen(want));
        assert_memory_equal(v.s.ptr, want, v.s.len);
    }
    pc_read_end(r);
}

/* How many keys pc_scan lists (all pages). */
static uint64_t scan_count(pc_client *c, const char *glob)
{
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[256];
    uint64_t total = 0;
    OK(pc_read_begin(c, &r));
    while (!cur.done) {
        size_t n = 0;
        OK(pc_scan(r, glob, &cur, keys, 256, &n));
        total += n;
    }
    pc_read_end(r);
    return total;
}

/*
 * Page through pc_expiry_scan with glob: check the order (shard by shard,
 * soonest first in each), count the entries and those due at or before now.
 */
static void expiry_list(pc_client *c, const char *glob, uint64_t *count, uint64_t *due)
{
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[100];
    int64_t when[100], last = INT64_MIN;
    unsigned shard = 0;
    pc_store_info info;
    OK(pc_store_info_get(c, &info));
    *count = *due = 0;
    OK(pc_read_begin(c, &r));
    int64_t now = pt_wall_ms();
    while (!cur.done) {
        size_t n = 0;
        OK(pc_expiry_scan(r, glob, &cur, keys, when, 100, &n));
        for (size_t i = 0; i < n; i++) {
            assert_true(keys[i].len > 0 && keys[i].len <= PC_KEY_MAX);
            unsigned s = pcs_shard_of(info.shards, keys[i].ptr, keys[i].len);
            assert_true(s >= shard);
            if (s > shard) {
                shard = s;
                last = INT64_MIN;
            }
            assert_true(when[i] >= last);
            last = when[i];
            *due += when[i] <= now;
        }
        *count += n;
    }
    pc_read_end(r);
}

/* ---- tests ---- */

/*
 * With the worker stopped from the start: expired keys are counted and
 * listed (trusted and ring-only), read as missing, still in the key counts;
 * once the worker runs they are gone within a few intervals, and the stats
 * count each one as expired, exactly once.
 */
static void test_counted_then_removed(void **state)
{
    fixture *f = *state;
    pc_stats st;
    const uint64_t n = 2000; /* four of the worker's bounded steps */
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expire_interval_ms, 0);

    put_keys(f->c, "short", n, 150);
    put_keys(f->c, "long", 5, 3600 * 1000);
    put_keys(f->c, "plain", 5, 0);
    pt_sleep_ms(250);

    EQ(expired_count(f->c), n);
    EQ(expired_count(f->ro), n);
    all_missing(f->c, "short", n);
    all_missing(f->ro, "short", 20);
    all_present(f->c, "long", 5);
    all_present(f->ro, "plain", 5);
    EQ(scan_count(f->c, "*.short"), 0);
    EQ(scan_count(f->c, NULL), 10);

    uint64_t listed, due;
    expiry_list(f->c, NULL, &listed, &due);
    EQ(listed, n + 5);
    EQ(due, n);
    expiry_list(f->c, "*.long", &listed, &due);
    EQ(listed, 5);
    EQ(due, 0);

    /* Not yet removed: still in the store's counts. */
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.keys[0], n + 10);
    EQ(st.keys[PC_T_STRING], n + 10);
    EQ(st.keys_ttl, n + 5);
    EQ(st.expired, 0);

    OK(pc_set_expire_interval(f->c, 100));
    uint64_t took = wait_none_expired(f->c, GONE_WITHIN_MS);
    print_message("    %" PRIu64 " expired keys gone %" PRIu64 " ms after the worker started\n", n,
                  took);
    all_present(f->c, "long", 5);
    all_present(f->c, "plain", 5);
    expiry_list(f->c, NULL, &listed, &due);
    EQ(listed, 5);
    EQ(due, 0);

    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expire_interval_ms, 100);
    EQ(st.expired, n);
    EQ(st.keys[0], 10);
    EQ(st.keys_ttl, 5);
    EQ(st.evicted, 0);
}

/*
 * With the worker running (default 100 ms): keys read as missing the moment
 * their TTL runs out, whether or not the worker got to them yet, and are
 * gone from the store within a few intervals.
 */
static void test_worker_removes(void **state)
{
    fixture *f = *state;
    pc_stats st;
    const uint64_t n = 1000;
    int64_t began = pt_wall_ms();
    put_keys(f->c, "soon", n, 400);
    put_keys(f->c, "plain", 3, 0);
    int64_t written = pt_wall_ms();
    /* Before the TTL: present and not counted.  Each key's TTL runs from its
     * own write, so the check is made only while the first key written
     * surely has 200 ms left (writing them took long under TSan). */
    if (pt_wall_ms() - began < 200) {
        all_present(f->c, "soon", n);
        EQ(expired_count(f->c), 0);
    }
    while (pt_wall_ms() - written < 420)
        pt_sleep_ms(5);
    all_missing(f->c, "soon", n);
    all_missing(f->ro, "soon", 10);
    uint64_t took = wait_none_expired(f->c, GONE_WITHIN_MS);
    print_message("    gone %" PRIu64 " ms after expiring\n", took);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expired, n);
    EQ(st.keys[0], 3);
    EQ(st.keys_ttl, 0);
    EQ(expired_count(f->ro), 0);
}

/*
 * Stopped (pc_set_expire_interval 0), as the seed's stop_ttl_deletion:
 * expired keys stay, read as missing, are counted; restarted: removed.
 */
static void test_stop_and_restart(void **state)
{
    fixture *f = *state;
    pc_stats st;
    const uint64_t n = 300;
    OK(pc_set_expire_interval(f->ro, 0)); /* a ring-only peer may ask too */
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expire_interval_ms, 0);

    put_keys(f->c, "gone", n, 50);
    put_keys(f->c, "stay", 4, 0);
    pt_sleep_ms(400); /* four default intervals: a running worker would be done */
    EQ(expired_count(f->c), n);
    all_missing(f->c, "gone", n);
    all_present(f->c, "stay", 4);
    pt_sleep_ms(300);
    EQ(expired_count(f->c), n); /* still there: the worker really stopped */
    EQ(expired_count(f->ro), n);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.keys[0], n + 4);
    EQ(st.keys_ttl, n);
    EQ(st.expired, 0);

    /* Restarted: removed. */
    OK(pc_set_expire_interval(f->c, 100));
    wait_none_expired(f->c, GONE_WITHIN_MS);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expire_interval_ms, 100);
    EQ(st.expired, n);
    EQ(st.keys[0], 4);
    EQ(st.keys_ttl, 0);
    all_present(f->c, "stay", 4);

    /* Stopped again: pc_purge_expired removes them on demand. */
    OK(pc_set_expire_interval(f->c, 0));
    put_keys(f->c, "purged", 77, 30);
    pt_sleep_ms(150);
    EQ(expired_count(f->c), 77);
    uint64_t removed = 0;
    OK(pc_purge_expired(f->ro, &removed));
    EQ(removed, 77);
    EQ(expired_count(f->c), 0);
    OK(pc_purge_expired(f->c, &removed));
    EQ(removed, 0);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expired, n + 77);
    EQ(st.keys[0], 4);

    /* Bad intervals are refused and change nothing. */
    RC(PC_EINVAL, pc_set_expire_interval(f->c, 3600001));
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expire_interval_ms, 0);
    OK(pc_set_expire_interval(f->c, 3600000));
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expire_interval_ms, 3600000);
}

/*
 * pc_expiry_scan through the daemon (a ring-only client, as pcstat is)
 * lists what the trusted client lists: every key with a TTL, soonest first,
 * expired-not-yet-removed ones due, in pages.
 */
static void test_expiry_scan_ring_only(void **state)
{
    fixture *f = *state;
    put_keys(f->c, "due", 150, 20);
    put_keys(f->c, "later", 250, 3600 * 1000);
    put_keys(f->c, "plain", 5, 0);
    pt_sleep_ms(100);
    uint64_t listed, due;
    expiry_list(f->c, NULL, &listed, &due);
    EQ(listed, 400);
    EQ(due, 150);
    expiry_list(f->ro, NULL, &listed, &due);
    EQ(listed, 400);
    EQ(due, 150);
    expiry_list(f->ro, "*.later", &listed, &due);
    EQ(listed, 250);
    EQ(due, 0);
    expiry_list(f->ro, "nothing*", &listed, &due);
    EQ(listed, 0);

    /* The keys and times match the trusted client's, item by item. */
    pc_read *r1, *r2;
    pc_cursor c1 = PC_CURSOR_INIT, c2 = PC_CURSOR_INIT;
    pc_bytes k1[64], k2[64];
    int64_t w1[64], w2[64];
    size_t n1, n2;
    OK(pc_read_begin(f->c, &r1));
    OK(pc_read_begin(f->ro, &r2));
    OK(pc_expiry_scan(r1, NULL, &c1, k1, w1, 64, &n1));
    OK(pc_expiry_scan(r2, NULL, &c2, k2, w2, 64, &n2));
    EQ(n1, 64);
    EQ(n2, 64);
    for (size_t i = 0; i < n1; i++) {
        assert_int_equal(k1[i].len, k2[i].len);
        assert_memory_equal(k1[i].ptr, k2[i].ptr, k1[i].len);
        assert_true(w1[i] == w2[i]);
    }
    pc_read_end(r1);
    pc_read_end(r2);
}

/*
 * Many keys expiring together (40 bounded steps' worth) all go, soon.  The
 * worker is stopped (setup_stopped) while they are written and counted (on
 * a slow machine, TSan under load, writing them takes longer than their
 * TTL) and started once every one is due, so all are due at its first pass.
 */
static void test_many_at_once(void **state)
{
    fixture *f = *state;
    pc_stats st;
    const uint64_t n = 20000;
    put_keys(f->c, "mass", n, 1500);
    put_keys(f->c, "keep", 10, 0);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.keys[0], n + 10);
    EQ(st.expired, 0);
    pt_sleep_ms(1600);
    EQ(expired_count(f->c), n);
    OK(pc_set_expire_interval(f->c, 100));
    uint64_t took = wait_none_expired(f->c, GONE_WITHIN_MS);
    print_message("    %" PRIu64 " keys gone %" PRIu64 " ms after the worker started\n", n, took);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.expired, n);
    EQ(st.keys[0], 10);
    all_present(f->c, "keep", 10);
}

int main(void)
{
    pt_init(60);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counted_then_removed, setup_stopped, teardown),
        cmocka_unit_test_setup_teardown(test_worker_removes, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_stop_and_restart, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_scan_ring_only, setup_stopped, teardown),
        cmocka_unit_test_setup_teardown(test_many_at_once, setup_stopped, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
