/*
 * test_fault_stall.c - a reader stopped inside a read transaction.
 *
 * A client opens a zero-copy read and stops itself (SIGSTOP) inside it while
 * another client rewrites 64 KiB values.  pycached(8) documents, for
 * --max-read-age SECONDS: the store grows by what is written meanwhile (up to
 * the cap); pc_stats oldest_reader_ms shows the old reader; after SECONDS the
 * daemon logs the process and closes its connections, so its next call after
 * SIGCONT returns PC_ECONNRESET.
 * Pass rule: oldest_reader_ms reaches the stall's age (within 2 s); the log
 * names the process ("held a read open past --max-read-age"); bytes_used
 * grows by at most what was written meanwhile plus 2 MiB; the stopped client
 * gets PC_ECONNRESET after SIGCONT; once it is gone, oldest_reader_ms falls
 * back to 0 and the daemon serves on.
 * FAULT_STALL_AGE (default 2) is --max-read-age; the stall lasts
 * FAULT_STALL_SECONDS (default age + 3; run-long.sh: minutes).
 * stalled_in_pidns: the same policy for a reader in another pid namespace
 * (see there).
 */
#include <sched.h>
#include <sys/prctl.h>

#include "pctest.h"

#define VAL (64u << 10)

static char dir[256];

static void stalled_child(int report_fd)
{
    pc_client *c;
    int rc = pt_connect(dir, 0, &c);
    pc_read *r;
    pc_val v;
    if (!rc)
        rc = pc_read_begin(c, &r);
    if (!rc)
        rc = pc_get(r, "k00", 3, &v);
    if (rc)
        _exit(10);
    raise(SIGSTOP); /* stopped inside the read */
    /* Continued: the daemon should have closed us. */
    v = pc_int(1);
    rc = pc_set(c, "after", 5, &v, 0, 0);
    if (write(report_fd, &rc, sizeof rc) != (ssize_t)sizeof rc)
        _exit(11);
    pc_read_end(r);
    pc_close(c);
    _exit(0);
}

static void stalled_reader(void **state)
{
    (void)state;
    long age = pt_env_long("FAULT_STALL_AGE", 2);
    long stall = pt_env_long("FAULT_STALL_SECONDS", age + 3);
    char agebuf[16];
    snprintf(agebuf, sizeof agebuf, "%ld", age);
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "stall"), 0);
    pt_daemon d;
    pt_daemon_init(&d, dir,
                   PT_ARGS("--sync", "none", "--max-memory", "1G", "--max-read-age", agebuf));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    pc_client *w;
    OK(pt_connect(dir, 0, &w));
    char *val = malloc(VAL);
    assert_non_null(val);
    for (int i = 0; i < 16; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%02d", i);
        memset(val, 'a' + i, VAL);
        pc_val v = pc_mem(val, VAL);
        OK(pc_set(w, key, strlen(key), &v, 0, 0));
    }
    pc_stats st;
    uint64_t t = pt_wall_ms();
    OK(pt_stats_after(w, t + 1100, 5000, &st));
    uint64_t used0 = st.bytes_used, map0 = pt_mdb_map_used(dir);
    assert_int_equal(st.oldest_reader_ms, 0);

    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t k = fork();
    assert_true(k >= 0);
    if (k == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[0]);
        stalled_child(p[1]);
    }
    pt_track(k);
    close(p[1]);
    int wst;
    assert_int_equal(waitpid(k, &wst, WUNTRACED), k);
    assert_true(WIFSTOPPED(wst));
    uint64_t stopped_at = pt_now_ms();

    /* Rewrite the values while it stays stopped: every rewrite needs new
     * pages, and the old ones stay pinned by the stalled snapshot. */
    uint64_t written = 0, commits = 0, used_max = used0, oldest_max = 0;
    unsigned round = 0;
    bool full = false;
    /* About 400 rounds of 1 MiB whatever the stall's length (at most 10 a
     * second), so that a long stall stays below the 1 GiB cap. */
    unsigned pace = (unsigned)(stall * 1000 / 400);
    if (pace < 100)
        pace = 100;
    while (pt_now_ms() - stopped_at < (uint64_t)stall * 1000) {
        for (int i = 0; i < 16 && !full; i++) {
            char key[8];
            snprintf(key, sizeof key, "k%02d", i);
            memset(val, 'A' + (int)((round + (unsigned)i) % 26), VAL);
            pc_val v = pc_mem(val, VAL);
            int rc = pc_set(w, key, strlen(key), &v, 0, 0);
            if (rc == PC_EFULL) {
                /* pycached(8): the growth goes on "up to the cap"; then
                 * writes that grow the store fail.  Only at the cap. */
                full = true;
                uint64_t m = pt_mdb_map_used(dir);
                pt_note("PC_EFULL after %" PRIu64 " MiB with the map at %" PRIu64 " MiB",
                        written >> 20, m >> 20);
                assert_true(m >= (UINT64_C(1) << 30) / 100 * 85);
                break;
            }
            OK(rc);
            written += VAL;
            commits++;
        }
        round++;
        OK(pc_stats_get(w, &st));
        if (st.bytes_used > used_max)
            used_max = st.bytes_used;
        if (st.oldest_reader_ms > oldest_max)
            oldest_max = st.oldest_reader_ms;
        pt_sleep_ms(pace);
    }
    uint64_t map1 = pt_mdb_map_used(dir);
    t = pt_wall_ms();
    OK(pt_stats_after(w, t, 3000, &st));
    if (st.bytes_used > used_max)
        used_max = st.bytes_used;
    if (st.oldest_reader_ms > oldest_max)
        oldest_max = st.oldest_reader_ms;
    pt_note("stalled %ld s (--max-read-age %ld): wrote %" PRIu64
            " MiB meanwhile; bytes_used %" PRIu64 " -> max %" PRIu64 " (+%" PRIu64
            " KiB); map high-water mark %" PRIu64 " -> %" PRIu64 " (+%" PRIu64
            " KiB); oldest_reader_ms seen %" PRIu64,
            stall, age, written >> 20, used0, used_max, (used_max - used0) >> 10, map0, map1,
            (map1 - map0) >> 10, oldest_max);
    /* The daemon reported the old reader... */
    uint64_t expect_age = (uint64_t)(stall < age ? stall : age) * 1000;
    assert_true(oldest_max + 2000 >= expect_age);
    /* ... the growth stayed within what was written meanwhile ... */
    assert_true(used_max <= used0 + written + (UINT64_C(2) << 20));
    /* What LMDB writes meanwhile, page by page: each value in whole pages
     * (17 for 64 KiB and its header) and, per commit, the copied B-tree and
     * free-list pages (at most 6 here). */
    uint64_t pages_written = commits * ((VAL + 16 + 4095) / 4096 + 6) * 4096;
    pt_note("%" PRIu64 " commits: at most %" PRIu64 " KiB written as pages", commits,
            pages_written >> 10);
    assert_true(map1 <= map0 + pages_written + (UINT64_C(2) << 20));
    /* ... and the policy was applied and logged. */
    if (stall > age + 1) {
        assert_true(pt_file_count(d.log, "held a read open past --max-read-age") >= 1);
        char pidmsg[64];
        snprintf(pidmsg, sizeof pidmsg, "process %d has held an outdated snapshot", (int)k);
        assert_true(pt_file_count(d.log, pidmsg) >= 1);
    }
    kill(k, SIGCONT);
    int rc = 0;
    assert_int_equal(read(p[0], &rc, sizeof rc), (ssize_t)sizeof rc);
    close(p[0]);
    assert_int_equal(waitpid(k, &wst, 0), k);
    pt_untrack(k);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    if (stall > age + 1)
        RC(PC_ECONNRESET, rc);
    /* Gone: the pin is released and the daemon goes on. */
    pc_val v = pc_int(2);
    OK(pc_set(w, "after2", 6, &v, 0, 0));
    uint64_t until = pt_now_ms() + 5000;
    do {
        pt_sleep_ms(200);
        t = pt_wall_ms();
        OK(pt_stats_after(w, t, 3000, &st));
        OK(pc_set(w, "after2", 6, &v, 0, 0));
    } while (st.oldest_reader_ms && pt_now_ms() < until);
    assert_int_equal(st.oldest_reader_ms, 0);
    printf("RESULT stall seconds=%ld max_read_age=%ld written_mib=%" PRIu64
           " bytes_used_growth_kib=%" PRIu64 " map_growth_kib=%" PRIu64 " oldest_reader_ms=%" PRIu64
           " next_call=%s\n",
           stall, age, written >> 20, (used_max - used0) >> 10, (map1 - map0) >> 10, oldest_max,
           pc_err_name(rc));
    pc_close(w);
    free(val);
    STOP_CLEAN(&d);
    pt_daemon_remove(&d);
}

/* ---- stalled_in_pidns ---- */

/*
 * Issue 12, finding 10: LMDB's reader table holds each reader's pid in the
 * reader's own pid namespace, and --max-read-age closed the clients whose
 * SO_PEERCRED pid (the daemon's namespace) had that number: in a pid
 * namespace, the wrong process.  Here a trusted reader in a new pid
 * namespace (as root: unshare(CLONE_NEWPID); skipped where not permitted)
 * holds a read past --max-read-age 1, and is given, through ns_last_pid,
 * the pid number this test process has outside, where this process has two
 * clients (a ring-only writer, and one that asks to be trusted: the daemon
 * admits it ring-only, since LMDB would take both processes for one).
 * Rule: the reader's connection is closed (its next write returns
 * PC_ECONNRESET), this process's clients are not, and the log never names
 * this process's pid as closed.
 */
static void pidns_reader(int rep, int go)
{
    pc_client *c;
    pc_read *r;
    pc_val v;
    int rc = pt_connect(dir, 0, &c);
    if (!rc)
        rc = pc_read_begin(c, &r);
    if (!rc)
        rc = pc_get(r, "k00", 3, &v);
    int self = (int)getpid();
    if (write(rep, &rc, sizeof rc) != (ssize_t)sizeof rc ||
        write(rep, &self, sizeof self) != (ssize_t)sizeof self || rc)
        _exit(10);
    char b;
    if (read(go, &b, 1) != 1)
        _exit(11);
    v = pc_int(1);
    rc = pc_set(c, "after", 5, &v, 0, 0);
    if (write(rep, &rc, sizeof rc) != (ssize_t)sizeof rc)
        _exit(12);
    _exit(0);
}

static void stalled_in_pidns(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        pt_note("not root: cannot make a pid namespace; skipped");
        skip();
    }
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "pidns"), 0);
    pt_daemon d;
    pt_daemon_init(&d, dir, PT_ARGS("--sync", "none", "--max-read-age", "1"));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    pc_client *w; /* ring-only: this process never takes an LMDB reader slot */
    OK(pt_connect(dir, PC_OPT_RING_ONLY, &w));
    pc_val v = pc_int(0);
    OK(pc_set(w, "k00", 3, &v, 0, 0));
    int rep[2], go[2];
    assert_int_equal(pipe(rep), 0);
    assert_int_equal(pipe(go), 0);
    pid_t me = getpid();
    pid_t k = fork();
    assert_true(k >= 0);
    if (k == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWPID) != 0)
            _exit(77);
        pid_t init = fork(); /* pid 1 of the new namespace */
        if (init < 0)
            _exit(13);
        if (init == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            /* The reader's pid here: the number this test process has outside. */
            FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
            if (f) {
                fprintf(f, "%d", (int)me - 1);
                fclose(f);
            }
            pid_t rd = fork();
            if (rd == 0)
                pidns_reader(rep[1], go[0]);
            int st = 0;
            if (rd < 0 || waitpid(rd, &st, 0) != rd)
                _exit(14);
            _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 15);
        }
        int st = 0;
        if (waitpid(init, &st, 0) != init)
            _exit(16);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 17);
    }
    pt_track(k);
    close(rep[1]);
    close(go[0]);
    int rc = -1, nspid = 0;
    if (read(rep[0], &rc, sizeof rc) != (ssize_t)sizeof rc) {
        int st = 0;
        waitpid(k, &st, 0);
        pt_untrack(k);
        pt_daemon_stop(&d);
        pt_daemon_remove(&d);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
            pt_note("unshare(CLONE_NEWPID) not permitted here; skipped");
            skip();
        }
        fail_msg("the reader in the pid namespace did not start (status 0x%x)", st);
    }
    OK(rc);
    assert_int_equal(read(rep[0], &nspid, sizeof nspid), (ssize_t)sizeof nspid);
    pt_note("the reader's pid in its namespace: %d; this process: %d%s", nspid, (int)me,
            nspid == (int)me ? " (the same number)" : "");
    /* This process, with that pid outside, asks for a trusted client. */
    pc_client *o;
    OK(pt_connect(dir, 0, &o));
    pc_store_info info;
    OK(pc_store_info_get(o, &info));
    if (nspid == (int)me)
        assert_true(info.ring_only); /* LMDB would take the two for one process */
    /* Outdate the reader's snapshot and wait for the daemon to act. */
    uint64_t until = pt_now_ms() + 20000;
    int i = 0;
    while (pt_file_count(d.log, "held a read open past --max-read-age") == 0 &&
           pt_now_ms() < until) {
        v = pc_int(++i);
        OK(pc_set(w, "k00", 3, &v, 0, 0));
        pt_sleep_ms(100);
    }
    assert_int_equal(write(go[1], "g", 1), 1);
    int after = 0;
    assert_int_equal(read(rep[0], &after, sizeof after), (ssize_t)sizeof after);
    int st = 0;
    assert_int_equal(waitpid(k, &st, 0), k);
    pt_untrack(k);
    close(rep[0]);
    close(go[1]);
    /* This process's clients still work: the daemon did not close them. */
    int w_rc = pc_set(w, "k01", 3, &v, 0, 0);
    int o_rc = pc_set(o, "k02", 3, &v, 0, 0);
    char mine[64];
    snprintf(mine, sizeof mine, "(pid %d): closed", (int)me);
    unsigned wrong = pt_file_count(d.log, mine);
    unsigned closed = pt_file_count(d.log, "held a read open past --max-read-age");
    pt_note("reader's next write: %s; this process's clients: %s, %s; %u closure(s), %u of "
            "this process",
            pc_err_name(after), pc_err_name(w_rc), pc_err_name(o_rc), closed, wrong);
    pc_close(o);
    pc_close(w);
    assert_int_equal(pt_daemon_stop(&d), 0);
    bool report = pt_sanitizer_report(d.out);
    pt_daemon_remove(&d);
    assert_false(report);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(wrong, 0);
    OK(w_rc);
    OK(o_rc);
    RC(PC_ECONNRESET, after);
}

int main(void)
{
    pt_init((unsigned)pt_env_long("FAULT_TIMEOUT", 600));
    const struct CMUnitTest tests[] = {cmocka_unit_test(stalled_reader),
                                       cmocka_unit_test(stalled_in_pidns)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
