/*
 * test_snapshot_busy.c - snapshots of a busy daemon.
 *
 *  - Its work runs in a thread of its own at nice 19 (pycached-snap), so
 *    that writers and clients go first on a machine with few cores; under
 *    a write load that keeps every core busy it still finishes, complete.
 *    No timing is asserted: only that it finishes, within a deadline far
 *    beyond what it needs.
 */
#include <dirent.h>
#include <pthread.h>

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
