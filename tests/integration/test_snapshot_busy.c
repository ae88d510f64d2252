/*
 * test_snapshot_busy.c - snapshots of a busy daemon.
 *
 *  - Its work runs in a thread of its own at nice 19 (pycached-snap), so
 *    that writers and clients go first on a machine with few cores; under
 *    a write load that keeps every core busy it still finishes, complete.
 *    No timing is asserted: only that it finishes, within a deadline far
 *    beyond what it needs.
 *  - Meanwhile it prefaults the pages the writers take next
 *    (--snapshot-prefault): the same writes during a snapshot leave the
 *    same store with it and without it, and each snapshot is one moment of
 *    the writes.
 */
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>

#include "pctest.h"

#define NKEYS 30000
#define BATCH 1000
#define LOADERS 3 /* writer processes: more than this machine's cores */
#define SNAP_DEADLINE_MS 300000

typedef struct shared {
    int stop;
    uint64_t rounds[LOADERS];
} shared;

static shared *sh;
static const char *cur_dir;
static int cur_loader;

static void key_name(char *k, size_t n, uint64_t i)
{
    snprintf(k, n, "key:%07" PRIu64, i);
}

static void fill(pc_client *c, uint64_t n)
{
    static char names[BATCH][24];
    for (uint64_t i = 0; i < n; i += BATCH) {
        OK(pc_batch_begin(c));
        for (uint64_t j = 0; j < BATCH && i + j < n; j++) {
            key_name(names[j], sizeof names[j], i + j);
            pc_val v = pc_str("a value of some forty bytes, all alike..");
            OK(pc_set(c, K(names[j]), &v, 0, 0));
        }
        OK(pc_batch_exec(c, NULL, 0));
    }
}

/* A child: batches of 64 overwrites of existing keys, as fast as the daemon
 * takes them, until told to stop. */
static int loader(void *arg)
{
    (void)arg;
    int me = cur_loader;
    pc_client *c = NULL;
    CKOK(pc_connect(cur_dir, NULL, &c));
    pt_rng rng = {(uint64_t)me * 104729 + 7};
    char names[64][24];
    while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
        CKOK(pc_batch_begin(c));
        for (int j = 0; j < 64; j++) {
            key_name(names[j], sizeof names[j], pt_below(&rng, NKEYS));
            pc_val v = pc_str("another value, of about forty bytes.....");
            CKOK(pc_set(c, K(names[j]), &v, 0, 0));
        }
        CKOK(pc_batch_exec(c, NULL, 0));
        __atomic_add_fetch(&sh->rounds[me], 1, __ATOMIC_RELEASE);
    }
    pc_close(c);
    return 0;
}

/* The nice value of pid's thread named name: true when there is one. */
static bool thread_nice(pid_t pid, const char *name, int *nice_out)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char p[512], comm[64] = "";
        snprintf(p, sizeof p, "%s/%s/comm", path, e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = 0;
        fclose(f);
        comm[strcspn(comm, "\n")] = 0;
        if (strcmp(comm, name))
            continue;
        /* stat: pid (comm) state ... field 19 is the nice value. */
        snprintf(p, sizeof p, "%s/%s/stat", path, e->d_name);
        size_t len = 0;
        char *st = pt_slurp(p, &len);
        char *close = st ? strrchr(st, ')') : NULL;
        int field = 2, nice = 0;
        char *save = NULL;
        for (char *t = close ? strtok_r(close + 1, " ", &save) : NULL; t;
             t = strtok_r(NULL, " ", &save))
            if (++field == 19) {
                nice = atoi(t);
                found = true;
                break;
            }
        free(st);
        *nice_out = nice;
    }
    closedir(dir);
    return found;
}

/* pc_snapshot in a thread of its own, so that the test can look on. */
typedef struct asker {
    pc_client *c;
    pc_snapshot_info info;
    int rc;
    int done; /* atomic */
} asker;

static void *ask(void *arg)
{
    asker *a = arg;
    a->rc = pc_snapshot(a->c, &a->info);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void stop_loaders(const pid_t *pid)
{
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < LOADERS; i++) {
        int st = pt_wait_pid(pid[i], 30000);
        EXITED(st, 0);
    }
}

/*
 * Under a write load of more processes than cores, a snapshot finishes and
 * is complete; its work runs in a thread named pycached-snap at nice 19
 * (seen in /proc while it runs; the snapshot is asked again, up to five
 * times, if one ends before the test could look).
 */
static void test_low_priority_finishes_under_load(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    START(a, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    cur_dir = a->dir;
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    fill(c, NKEYS);

    memset(sh, 0, sizeof *sh);
    pid_t pid[LOADERS];
    for (int i = 0; i < LOADERS; i++) {
        cur_loader = i;
        pid[i] = pt_fork(loader, NULL, 600);
        assert_true(pid[i] > 0);
    }
    uint64_t until = pt_now_ms() + 20000;
    for (int i = 0; i < LOADERS; i++)
        while (__atomic_load_n(&sh->rounds[i], __ATOMIC_ACQUIRE) < 10 && pt_now_ms() < until)
            pt_sleep_ms(1);
    for (int i = 0; i < LOADERS; i++)
        CHECK(__atomic_load_n(&sh->rounds[i], __ATOMIC_ACQUIRE) >= 10, "loader %d is stuck", i);

    bool seen = false;
    int nice = 0, tries = 0;
    uint64_t longest = 0;
    for (; tries < 5 && !seen; tries++) {
        asker as = {.c = c};
        uint64_t r0 = 0, r1 = 0;
        for (int i = 0; i < LOADERS; i++)
            r0 += __atomic_load_n(&sh->rounds[i], __ATOMIC_ACQUIRE);
        uint64_t t0 = pt_now_ms();
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, ask, &as), 0);
        while (!__atomic_load_n(&as.done, __ATOMIC_ACQUIRE)) {
            int n;
            if (!seen && thread_nice(a->pid, "pycached-snap", &n)) {
                seen = true;
                nice = n;
            }
            if (pt_now_ms() - t0 > SNAP_DEADLINE_MS)
                break;
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        CHECK(__atomic_load_n(&as.done, __ATOMIC_ACQUIRE),
              "a snapshot under load did not finish in %d s", SNAP_DEADLINE_MS / 1000);
        pthread_join(th, NULL);
        uint64_t took = pt_now_ms() - t0;
        for (int i = 0; i < LOADERS; i++)
            r1 += __atomic_load_n(&sh->rounds[i], __ATOMIC_ACQUIRE);
        OK(as.rc);
        char why[128] = "";
        CHECK(pt_snapshot_complete(as.info.path, why, sizeof why), "%s: %s", as.info.path, why);
        EQ(as.info.keys, NKEYS);
        CHECK(r1 > r0, "nothing was written while the snapshot ran");
        longest = took > longest ? took : longest;
        printf("    snapshot %d: %" PRIu64 " keys in %" PRIu64 " ms (daemon), %" PRIu64
               " ms here, %" PRIu64 " batches of 64 written meanwhile\n",
               tries + 1, as.info.keys, as.info.took_ms, took, (r1 - r0));
    }
    stop_loaders(pid);
    CHECK(seen, "no thread pycached-snap was seen in %d snapshots (the longest %" PRIu64 " ms)",
          tries, longest);
    CHECK(nice == 19, "the snapshot's thread runs at nice %d, not 19", nice);
    pc_close(c);
    STOP_CLEAN(a);
    w->passed = true;
}

#define PF_KEYS 20000
#define PF_WRITES 4000

/* The key of the prefault test's write i: each key once (7919 and PF_KEYS
 * have no common factor). */
static uint64_t pf_key(uint64_t i)
{
    return i * 7919 % PF_KEYS;
}

/* The writes of the snapshot in path are a prefix of the sequence: write i
 * is in it exactly when every write before it is.  Returns how many. */
static uint64_t check_prefix(const char *path)
{
    sqlite3 *db = pt_db_open(path);
    assert_non_null(db);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM keys WHERE key = ?1", -1, &q, NULL),
                     SQLITE_OK);
    uint64_t prefix = UINT64_MAX;
    for (uint64_t i = 0; i < PF_WRITES; i++) {
        char k[24], want[32];
        key_name(k, sizeof k, pf_key(i));
        snprintf(want, sizeof want, "written %" PRIu64, i);
        sqlite3_bind_text(q, 1, k, -1, SQLITE_TRANSIENT);
        CHECK(sqlite3_step(q) == SQLITE_ROW, "%s: no key %s", path, k);
        const char *got = (const char *)sqlite3_column_text(q, 0);
        bool written = got && !strcmp(got, want);
        if (!written)
            CHECK(got && !strcmp(got, "a value of some forty bytes, all alike.."),
                  "%s: key %s holds '%s'", path, k, got ? got : "(null)");
        sqlite3_reset(q);
        if (prefix == UINT64_MAX && !written)
            prefix = i;
        CHECK(!written || prefix == UINT64_MAX,
              "%s: write %" PRIu64 " is in the snapshot, write %" PRIu64 " is not", path, i,
              prefix);
    }
    sqlite3_finalize(q);
    pt_db_close(db);
    return prefix == UINT64_MAX ? PF_WRITES : prefix;
}

/* Daemon d (started): fill it, then write PF_WRITES keys one acknowledged
 * write at a time while a snapshot runs; the store's dump into out. */
static void writes_during_snapshot(pt_daemon *d, pt_dump *out, uint64_t *in_snapshot)
{
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    fill(c, PF_KEYS);
    pc_client *c2 = pt_daemon_client(d, 0);
    assert_non_null(c2);
    asker as = {.c = c2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ask, &as), 0);
    for (uint64_t i = 0; i < PF_WRITES; i++) {
        char k[24], v[32];
        key_name(k, sizeof k, pf_key(i));
        snprintf(v, sizeof v, "written %" PRIu64, i);
        pc_val val = pc_str(v);
        OK(pc_set(c, K(k), &val, 0, 0));
    }
    pthread_join(th, NULL);
    OK(as.rc);
    *in_snapshot = check_prefix(as.info.path);
    OK(pt_dump_store(c, out));
    pc_close(c2);
    pc_close(c);
}

/*
 * The same writes during a snapshot, on a daemon that prefaults and on one
 * that does not (--snapshot-prefault no): the two stores are the same,
 * key for key and byte for byte, and each snapshot holds a prefix of the
 * writes.  The first daemon's log says it prefaulted something; the
 * second's says nothing of it.
 */
static void test_prefault_same_contents(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    char snaps_b[300];
    snprintf(snaps_b, sizeof snaps_b, "%s-b", w->snaps);
    START(a, "--snapshot-dir", w->snaps, "--log-level", "info");
    START(b, "--snapshot-dir", snaps_b, "--log-level", "info", "--snapshot-prefault", "no");
    pt_dump da, db;
    memset(&da, 0, sizeof da);
    memset(&db, 0, sizeof db);
    uint64_t na = 0, nb = 0;
    writes_during_snapshot(a, &da, &na);
    writes_during_snapshot(b, &db, &nb);
    printf("    the snapshots hold the first %" PRIu64 " (prefaulting) and %" PRIu64
           " (not) of %d writes\n",
           na, nb, PF_WRITES);
    EQ(da.n, PF_KEYS);
    DUMPS_EQUAL(&da, &db, 0);
    pt_dump_free(&da);
    pt_dump_free(&db);
    CHECK(pt_daemon_log_has(a, "the snapshot prefaulted", 5000), "a: no prefaulting logged");
    CHECK(pt_file_count(a->log, "prefaulted 0 KiB") == 0, "a: prefaulted nothing");
    CHECK(!pt_daemon_log_has(b, "prefault", 0), "b prefaulted with --snapshot-prefault no");
    STOP_CLEAN(a);
    STOP_CLEAN(b);
    w->passed = true;
}

static int teardown(void **state)
{
    if (sh)
        __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    pt_ws_finish(*state);
    return 0;
}

int main(void)
{
    pt_init(900);
    sh = pt_shared(sizeof *sh);
    if (!sh)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_low_priority_finishes_under_load, pt_ws_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prefault_same_contents, pt_ws_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
