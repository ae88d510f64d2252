/*
 * test_snapshot_crash.c - a daemon killed with SIGKILL in the middle of a
 * snapshot leaves the previous snapshot byte for byte as it was and no
 * incomplete pycache-*.db; the next start removes the leftover temporary file
 * and restores the newest good snapshot.  Also: the statistics show a
 * snapshot running (state 2), then its result.
 *
 * The store holds 300k keys so that a snapshot takes a noticeable time; the
 * test measures it first and kills the daemon a fraction of it after the
 * temporary file appears (retrying earlier if the snapshot was already done).
 */
#include <sqlite3.h>

#include "pctest.h"

#define NKEYS 300000
#define BATCH 2000

static void key_name(char *k, size_t n, int i)
{
    snprintf(k, n, "key:%07d", i);
}

/* Key i's value: 40 bytes that depend on i. */
static void value_of(char *v, int i)
{
    snprintf(v, 41, "value-%07d-%026d", i, i * 7);
}

static void fill(pc_client *c)
{
    static char names[BATCH][24], vals[BATCH][48];
    for (int i = 0; i < NKEYS; i += BATCH) {
        OK(pc_batch_begin(c));
        for (int j = 0; j < BATCH; j++) {
            key_name(names[j], sizeof names[j], i + j);
            value_of(vals[j], i + j);
            pc_val v = pc_mem(vals[j], 40);
            OK(pc_set(c, K(names[j]), &v, 0, 0));
        }
        OK(pc_batch_exec(c, NULL, 0));
    }
}

static const char *store_dir;

/* In a child: ask for a snapshot (its daemon may be killed meanwhile). */
static int ask_snapshot(void *arg)
{
    (void)arg;
    pc_client *c = NULL;
    CKOK(pc_connect(store_dir, NULL, &c));
    pc_snapshot_info info;
    int rc = pc_snapshot(c, &info);
    CK(rc == 0 || rc == PC_ECONNRESET);
    pc_close(c);
    return 0;
}

/* Wait (at most timeout_ms) for a temporary snapshot file in dir. */
static bool wait_temp(const char *dir, int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    while (pt_count_temps(dir) == 0) {
        if (pt_now_ms() >= until)
            return false;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return true;
}

static void test_sigkill_mid_snapshot(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    store_dir = a->dir;
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    uint64_t t0 = pt_now_ms();
    fill(c);
    uint64_t filled = pt_now_ms() - t0;

    /* The first snapshot, measured; meanwhile the statistics say one is
     * running (requests keep them published every 100 ms).  "poll" is
     * there before the snapshot is asked for: its count is NKEYS + 1
     * whichever write of the loop below it sees. */
    pc_val v0 = pc_int(-1);
    OK(pc_set(c, K("poll"), &v0, 0, 0));
    pid_t kid = pt_fork(ask_snapshot, NULL, 50);
    assert_true(kid > 0);
    bool saw_running = false;
    int st = -1;
    for (int i = 0;; i++) {
        pc_stats s;
        OK(pc_stats_get(c, &s));
        saw_running |= s.snapshot_state == 2;
        pc_val v = pc_int(i);
        OK(pc_set(c, K("poll"), &v, 0, 0));
        int ws;
        pid_t r = waitpid(kid, &ws, WNOHANG);
        if (r == kid) {
            pt_untrack(kid);
            st = ws;
            break;
        }
        CHECK(pt_now_ms() - t0 < 45000, "the first snapshot takes too long");
        pt_sleep_ms(5);
    }
    EXITED(st, 0);
    char prev[600];
    assert_true(pt_newest(w->snaps, prev, sizeof prev));
    char why[128] = "";
    CHECK(pt_snapshot_complete(prev, why, sizeof why), "%s: %s", prev, why);
    pc_stats s;
    CHECK(pt_stats_snapshot_after(c, 0, 3000, &s) == 0, "the statistics show no snapshot");
    sqlite3 *db = pt_db_open(prev);
    assert_non_null(db);
    int64_t prev_keys = pt_db_int(db, "SELECT value FROM meta WHERE name='key_count'", -1);
    int64_t took = pt_db_int(db, "SELECT value FROM meta WHERE name='took_ms'", -1);
    sqlite3_close(db);
    CHECK(prev_keys == NKEYS + 1, "the first snapshot has %" PRId64 " keys", prev_keys);
    assert_int_equal(s.snapshot_rc, 0);
    assert_int_equal(s.snapshot_keys, (uint64_t)prev_keys);
    assert_int_equal(s.snapshot_bytes, (uint64_t)pt_file_size(prev));
    uint64_t until = pt_now_ms() + 3000;
    while (pc_stats_get(c, &s) == 0 && s.snapshot_state != 1 && pt_now_ms() < until)
        pt_sleep_ms(10);
    assert_int_equal(s.snapshot_state, 1);
    printf("    %d keys filled in %" PRIu64 " ms; a snapshot takes %" PRId64 " ms (%" PRIu64
           " ms end to end), %" PRId64 " bytes\n",
           NKEYS, filled, took, s.snapshot_took_ms, pt_file_size(prev));
    CHECK(saw_running, "snapshot_state was never 2 while a %" PRIu64 " ms snapshot ran",
          s.snapshot_took_ms);

    /* A newer state that the killed snapshot would have held. */
    pc_val m = pc_str("only in the killed snapshot");
    OK(pc_set(c, K("marker"), &m, 0, 0));
    pc_close(c);
    char copy[600];
    snprintf(copy, sizeof copy, "%s/prev.copy", w->dir);
    assert_int_equal(pt_copy_file(prev, copy), 0);
    pt_files before;
    pt_list(w->snaps, pt_is_snapshot_name, &before);

    /* Ask for one and kill the daemon partway; if it was already done,
     * kill earlier next time (the finished one becomes the previous). */
    uint64_t delay = (uint64_t)(took / 8);
    delay = delay < 20 ? 20 : delay > 150 ? 150 : delay;
    bool landed = false;
    for (int attempt = 0; attempt < 4 && !landed; attempt++) {
        if (a->pid <= 0)
            START(a, "--snapshot-dir", w->snaps);
        kid = pt_fork(ask_snapshot, NULL, 50);
        assert_true(kid > 0);
        CHECK(wait_temp(w->snaps, 20000), "no temporary snapshot file appeared");
        pt_sleep_ms(delay);
        pt_daemon_kill9(a);
        EXITED(pt_wait_pid(kid, 10000), 0);
        landed = pt_count_temps(w->snaps) > 0;
        if (!landed) {
            printf("    the snapshot was done before the kill (%" PRIu64 " ms): again\n", delay);
            assert_true(pt_newest(w->snaps, prev, sizeof prev));
            CHECK(pt_snapshot_complete(prev, why, sizeof why), "%s: %s", prev, why);
            assert_int_equal(pt_copy_file(prev, copy), 0);
            pt_list(w->snaps, pt_is_snapshot_name, &before);
            delay /= 4;
        }
    }
    CHECK(landed, "could not kill the daemon in the middle of a snapshot");
    printf("    killed %" PRIu64 " ms after the temporary file appeared\n", delay);

    /* The previous snapshot is intact; no new pycache-*.db; any there is
     * complete. */
    CHECK(pt_same_bytes(prev, copy), "the previous snapshot %s changed", prev);
    pt_files after;
    pt_list(w->snaps, pt_is_snapshot_name, &after);
    assert_int_equal(after.n, before.n);
    for (size_t i = 0; i < after.n; i++) {
        CHECK(!strcmp(after.name[i], before.name[i]), "a new snapshot file %s appeared",
              after.name[i]);
        char p[600];
        snprintf(p, sizeof p, "%s/%s", w->snaps, after.name[i]);
        CHECK(pt_snapshot_complete(p, why, sizeof why), "%s: %s", p, why);
    }
    pt_files tmp;
    pt_list(w->snaps, pt_is_temp_name, &tmp);
    assert_int_equal(tmp.n, 1);

    /* The next start removes the temporary file and restores the newest
     * good snapshot: the previous one (without the marker, unless an
     * earlier attempt came too late and wrote it). */
    db = pt_db_open(prev);
    assert_non_null(db);
    prev_keys = pt_db_int(db, "SELECT value FROM meta WHERE name='key_count'", -1);
    int64_t prev_marker = pt_db_int(db, "SELECT count(*) FROM strings WHERE key='marker'", -1);
    sqlite3_close(db);
    assert_true(prev_marker == 0 || prev_marker == 1);
    START(b, "--snapshot-dir", w->snaps);
    assert_int_equal(pt_count_temps(w->snaps), 0);
    char line[800];
    snprintf(line, sizeof line, "restored %" PRId64 " keys from %s", prev_keys, prev);
    CHECK(pt_file_has(b->log, line, 0), "the log does not say '%s'", line);
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pc_read *r;
    OK(pc_read_begin(c, &r));
    int ex;
    OK(pc_exists(r, K("marker"), &ex));
    assert_int_equal(ex, prev_marker);
    pt_rng rng = {42};
    for (int i = 0; i < 2000; i++) {
        int k = i < 2 ? (i ? NKEYS - 1 : 0) : (int)pt_below(&rng, NKEYS);
        char kn[24], want[48];
        key_name(kn, sizeof kn, k);
        value_of(want, k);
        pc_val v;
        OK(pc_get(r, K(kn), &v));
        CHECK(v.kind == PC_BYTES && v.s.len == 40 && !memcmp(v.s.ptr, want, 40),
              "key %s restored wrong", kn);
    }
    pc_read_end(r);
    uint64_t keys = 0;
    until = pt_now_ms() + 3000;
    while (pc_stats_get(c, &s) == 0 && (keys = s.keys[0]) != (uint64_t)prev_keys &&
           pt_now_ms() < until)
        pt_sleep_ms(20);
    CHECK(keys == (uint64_t)prev_keys, "b holds %" PRIu64 " keys, expected %" PRId64, keys,
          prev_keys);
    pc_close(c);
    pt_daemon_kill9(b);
    CHECK(pt_same_bytes(prev, copy), "the previous snapshot %s changed", prev);
    w->passed = true;
}

int main(void)
{
    pt_init(58);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigkill_mid_snapshot, pt_ws_setup, pt_ws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
