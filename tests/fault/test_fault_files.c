/*
 * test_fault_files.c - the daemon's files against hostile neighbours, bad
 * config files and careless operators (issue 12, findings 1, 6, 7 and 8;
 * docs/reliability.md, bugs 19-22).
 *
 * store_dir_refused: a store directory owned by another uid (as root: one
 *   chowned to nobody, holding a link data-00.mdb-lock -> a victim file), or
 *   writable by others (0777), or a symbolic link, is refused (exit 1, a
 *   message saying how to fix it) and the victim is unchanged.
 * links_refused: in a directory of our own, a symbolic link planted at
 *   data-00.mdb, data-00.mdb-lock or pycached.pid, or a file that is not a
 *   socket at pycached.sock, is refused; the victim is unchanged.
 * dir_mode_tightened: an existing directory of our own of mode 0755 is
 *   served, at mode 0700 (docs/reliability.md, "File modes").
 * config_long_lines: a comment longer than inih's 200-byte line, ending in
 *   "sync = none", stays a comment (the daemon serves with sync always), and
 *   a 250-character log-file path is used.
 * sighup_keeps_command_line: pycached -c FILE --max-clients 3
 *   --expire-interval 0 (and, as root, --allow-ring-only 65533): after a
 *   SIGHUP, a fourth client is still refused (PC_EBUSY), the TTL worker is
 *   still stopped and uid 65533 is still admitted ring-only.
 * relative_dir_background: cd W; pycached -d rel --log-file log (in the
 *   background): the pid file, socket, store and log are all under W; a
 *   second daemon on W/rel is refused by the pid file's lock.
 */
#include "pctest.h"

#include <sys/file.h>
#include <sys/prctl.h>

#define OTHER_UID 65534 /* nobody */
#define RING_UID 65533

static char work[256];

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static const char victim_text[] = "precious: not for pycached\n";

static void make_victim(const char *path)
{
    write_file(path, victim_text, sizeof victim_text - 1);
}

static void expect_victim(const char *path)
{
    size_t len = 0;
    char *got = pt_slurp(path, &len);
    assert_non_null(got);
    if (len != sizeof victim_text - 1 || memcmp(got, victim_text, len) != 0)
        fail_msg("%s was overwritten (%zu bytes now)", path, len);
    free(got);
}

/*
 * Run pycached in the foreground with argv (after the program's name), its
 * stderr into errpath, from directory cwd (NULL: ours).  Returns its wait
 * status, or -1 if it served (a client connected to sockdir) or ran past
 * timeout_ms: then it is killed.
 */
static int run_refused(const char *cwd, const char *sockdir, const char *errpath,
                       const char *const *args, unsigned timeout_ms)
{
    char prog[1024];
    pt_prog(prog, sizeof prog, "pycached");
    if (prog[0] != '/') { /* a relative build dir: absolute before any chdir */
        char cwdbuf[400], rel[1024];
        assert_non_null(getcwd(cwdbuf, sizeof cwdbuf));
        memcpy(rel, prog, sizeof rel);
        snprintf(prog, sizeof prog, "%.400s/%.600s", cwdbuf, rel);
    }
    char *argv[32];
    int n = 0;
    argv[n++] = prog;
    for (const char *const *a = args; *a && n < 31; a++)
        argv[n++] = (char *)*a;
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0 || (cwd && chdir(cwd) < 0))
            _exit(126);
        execv(prog, argv);
        _exit(127);
    }
    pt_track(pid);
    uint64_t until = pt_now_ms() + timeout_ms;
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pt_untrack(pid);
            return st;
        }
        pc_client *c;
        if ((sockdir && pt_connect(sockdir, 0, &c) == 0) || pt_now_ms() > until) {
            if (sockdir && pt_now_ms() <= until) {
                pc_close(c);
                pt_note("pycached served where it should have refused");
            } else {
                pt_note("pycached did not exit within %u ms", timeout_ms);
            }
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            pt_untrack(pid);
            return -1;
        }
        pt_sleep_ms(10);
    }
}

/* pycached -f -d dir --log-file W/log must be refused (exit 1), saying
 * each of the needles on stderr. */
static void expect_refused(const char *dir, const char *needle1, const char *needle2)
{
    char err[400], log[400];
    snprintf(err, sizeof err, "%s/refused.err", work);
    snprintf(log, sizeof log, "%s/refused.log", work);
    int st = run_refused(
        NULL, dir, err,
        (const char *[]){"-f", "-d", dir, "--log-file", log, "--sync", "none", NULL}, 10000);
    size_t len = 0;
    char *msg = pt_slurp(err, &len);
    pt_note("%s: status %d: %s", dir, st, msg ? msg : "(no message)");
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("pycached on %s: status 0x%x, expected exit 1", dir, (unsigned)st);
    assert_non_null(msg);
    if (needle1 && !strstr(msg, needle1))
        fail_msg("the message does not say '%s': %s", needle1, msg);
    if (needle2 && !strstr(msg, needle2))
        fail_msg("the message does not say '%s': %s", needle2, msg);
    free(msg);
}

static void store_dir_refused(void **state)
{
    (void)state;
    char dir[400], victim[400], link[500];
    assert_int_equal(pt_mkdtemp(work, sizeof work, "/dev/shm", "files"), 0);
    snprintf(victim, sizeof victim, "%s/victim", work);
    make_victim(victim);

    /* Writable by others: anyone could plant a link there. */
    snprintf(dir, sizeof dir, "%s/open", work);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    snprintf(link, sizeof link, "%s/data-00.mdb-lock", dir);
    assert_int_equal(symlink(victim, link), 0);
    expect_refused(dir, "writable by", "chmod");
    expect_victim(victim);

    /* A symbolic link as the store directory itself. */
    snprintf(dir, sizeof dir, "%s/dirlink", work);
    char real[400];
    snprintf(real, sizeof real, "%s/real", work);
    assert_int_equal(mkdir(real, 0700), 0);
    assert_int_equal(symlink(real, dir), 0);
    expect_refused(dir, "symbolic link", NULL);

    /* Owned by another uid (the finding: nobody made /dev/shm/cache first
     * and planted the link; root served it and overwrote the victim). */
    if (geteuid() == 0) {
        snprintf(dir, sizeof dir, "%s/foreign", work);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(link, sizeof link, "%s/data-00.mdb-lock", dir);
        assert_int_equal(symlink(victim, link), 0);
        assert_int_equal(lchown(link, OTHER_UID, OTHER_UID), 0);
        assert_int_equal(chown(dir, OTHER_UID, OTHER_UID), 0);
        expect_refused(dir, "owned by uid 65534", "a directory of your own");
        expect_victim(victim);
        struct stat sb;
        assert_int_equal(lstat(link, &sb), 0); /* left as it was */
        assert_true(S_ISLNK(sb.st_mode));
    } else {
        pt_note("not root: the foreign-owner case needs a directory of another uid; skipped");
    }
    printf("RESULT store_dir_refused others_writable=refused symlink_dir=refused "
           "foreign_owner=%s victim=unchanged\n",
           geteuid() == 0 ? "refused" : "skipped");
    pt_rmtree(work);
}

static void links_refused(void **state)
{
    (void)state;
    static const char *const names[] = {"data-00.mdb", "data-00.mdb-lock", "pycached.pid",
                                        "pycached.sock"};
    assert_int_equal(pt_mkdtemp(work, sizeof work, "/dev/shm", "links"), 0);
    char victim[400], dir[400], path[500];
    snprintf(victim, sizeof victim, "%s/victim", work);
    make_victim(victim);
    for (size_t i = 0; i < PT_LEN(names); i++) {
        snprintf(dir, sizeof dir, "%s/store%zu", work, i);
        assert_int_equal(mkdir(dir, 0700), 0);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (i == 3) {
            /* Not a socket: a stale socket is removed, anything else is not
             * the daemon's to remove. */
            make_victim(path);
            expect_refused(dir, "pycached.sock", "not a socket");
            expect_victim(path);
        } else {
            assert_int_equal(symlink(victim, path), 0);
            expect_refused(dir, names[i], "symbolic link");
            expect_victim(victim);
        }
    }
    printf("RESULT links_refused data=refused lock=refused pid=refused sock=refused "
           "victim=unchanged\n");
    pt_rmtree(work);
}

static void dir_mode_tightened(void **state)
{
    (void)state;
    assert_int_equal(pt_mkdtemp(work, sizeof work, "/dev/shm", "mode"), 0);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/store", work);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    pt_daemon d;
    pt_daemon_init(&d, dir, PT_ARGS("--sync", "none"));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    STOP_CLEAN(&d);
    printf("RESULT dir_mode_tightened 0755->%04o\n", (unsigned)(sb.st_mode & 07777));
    pt_rmtree(work);
}

static void config_long_lines(void **state)
{
    (void)state;
    assert_int_equal(pt_mkdtemp(work, sizeof work, "/dev/shm", "conf"), 0);
    /* A directory whose path makes the log file's path 250 characters. */
    char logdir[400], logpath[512], conf[400], text[2048], dir[400];
    int n = snprintf(logdir, sizeof logdir, "%s/", work);
    memset(logdir + n, 'l', (size_t)(250 - n - 6));
    logdir[250 - 6] = 0;
    assert_int_equal(mkdir(logdir, 0700), 0);
    snprintf(logpath, sizeof logpath, "%s/x.log", logdir);
    assert_int_equal(strlen(logpath), 250);
    /* A comment of 210 bytes ending in what inih, cutting it at 199 bytes,
     * took for a setting. */
    char comment[256];
    memset(comment, '#', 199);
    snprintf(comment + 199, sizeof comment - 199, "sync = none");
    snprintf(conf, sizeof conf, "%s/long.conf", work);
    n = snprintf(text, sizeof text, "sync = always\n%s\nlog-file = %s\nlog-level = info\n", comment,
                 logpath);
    write_file(conf, text, (size_t)n);
    snprintf(dir, sizeof dir, "%s/store", work);
    pt_daemon d;
    pt_daemon_init(&d, dir, PT_ARGS("-c", conf));
    /* The file's log-file must be the one used: no --log-file (the command
     * line would win). */
    d.no_log_file = true;
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    STOP_CLEAN(&d);
    if (pt_file_count(logpath, "serving") != 1)
        fail_msg("the 250-character log-file path was not used (%s)", logpath);
    if (pt_file_count(logpath, "sync always") != 1)
        fail_msg("a comment's tail was taken as a setting: the daemon did not serve with sync "
                 "always");
    printf("RESULT config_long_lines comment_210=comment log_file_250=used\n");
    pt_rmtree(work);
}

static int try_ring_only(void *arg)
{
    const char *dir = arg;
    pc_client *c;
    int rc;
    /* PC_EBUSY: at --max-clients 3 the daemon may not have seen the
     * test's last clients close yet. */
    uint64_t until = pt_now_ms() + 10000;
    while ((rc = pt_connect(dir, 0, &c)) == PC_EBUSY && pt_now_ms() < until)
        pt_sleep_ms(20);
    if (rc)
        return rc == PC_EACCES ? 10 : 11;
    pc_store_info info;
    rc = pc_store_info_get(c, &info);
    pc_close(c);
    return rc ? 12 : info.ring_only ? 0 : 13;
}

static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t k = fork();
    if (k < 0)
        return -1;
    if (k == 0) {
        if (pt_drop(uid, (gid_t)uid, NULL, 0) < 0)
            _exit(100);
        _exit(fn(arg));
    }
    int st;
    waitpid(k, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool ring_uid_usable(void)
{
    if (geteuid() != 0)
        return false;
    const char *paths[] = {"/dev/shm", NULL};
    char why[512];
    if (pt_probe_user(RING_UID, RING_UID, paths, NULL, why, sizeof why))
        return true;
    pt_note("the ring-only part is skipped: %s", why);
    return false;
}

static void sighup_keeps_command_line(void **state)
{
    (void)state;
    assert_int_equal(pt_mkdtemp(work, sizeof work, "/dev/shm", "hup"), 0);
    char conf[400], dir[400];
    snprintf(conf, sizeof conf, "%s/hup.conf", work);
    static const char text[] = "max-clients = 100\nexpire-interval = 500\n";
    write_file(conf, text, sizeof text - 1);
    assert_int_equal(chmod(work, 0711), 0); /* uid 65533 reaches the socket */
    snprintf(dir, sizeof dir, "%s/store", work);
    bool ring = ring_uid_usable();
    pt_daemon d;
    pt_daemon_init(
        &d, dir,
        PT_ARGS("--sync", "none", "-c", conf, "--max-clients", "3", "--expire-interval", "0"));
    if (ring) {
        pt_daemon_opt(&d, "--allow-ring-only");
        pt_daemon_opt(&d, "65533");
    }
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    if (ring)
        assert_int_equal(as_user(RING_UID, try_ring_only, dir), 0);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    uint64_t until = pt_now_ms() + 10000;
    while (pt_file_count(d.log, "SIGHUP") < 1 && pt_now_ms() < until)
        pt_sleep_ms(10);
    assert_int_equal(pt_file_count(d.log, "SIGHUP"), 1);
    /* The reload runs in the loop before it serves anything else: a client
     * connected now sees its result. */
    pc_client *c[4];
    OK(pt_connect(dir, 0, &c[0]));
    pc_stats st;
    uint64_t after = pt_wall_ms();
    do {
        OK(pt_stats_after(c[0], after, 10000, &st));
        after = st.taken_ms;
    } while (st.clients_trusted + st.clients_ring_only != 1 && pt_now_ms() < until);
    assert_int_equal(st.clients_trusted + st.clients_ring_only, 1);
    if (st.expire_interval_ms != 0)
        fail_msg("after SIGHUP the expire interval is %u, not the command line's 0",
                 (unsigned)st.expire_interval_ms);
    OK(pt_connect(dir, 0, &c[1]));
    OK(pt_connect(dir, 0, &c[2]));
    int rc = pt_connect(dir, 0, &c[3]);
    if (rc == 0) {
        pc_close(c[3]);
        fail_msg("after SIGHUP a fourth client connected: the command line's --max-clients 3 "
                 "was dropped");
    }
    assert_int_equal(rc, PC_EBUSY);
    for (int i = 0; i < 3; i++)
        pc_close(c[i]);
    if (ring)
        assert_int_equal(as_user(RING_UID, try_ring_only, dir), 0);
    STOP_CLEAN(&d);
    printf("RESULT sighup_keeps_command_line max_clients=3 expire_interval=0 ring_only=%s\n",
           ring ? "kept" : "skipped");
    pt_rmtree(work); /* (the store, its log and output) */
}

/* Wait until nothing holds the pid file's lock (the daemon is gone); true
 * if so within timeout_ms. */
static bool lock_released(const char *pidfile, unsigned timeout_ms)
{
    uint64_t until = pt_now_ms() + timeout_ms;
    do {
        int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return true;
        int ok = flock(fd, LOCK_EX | LOCK_NB) == 0;
        close(fd);
        if (ok)
            return true;
        pt_sleep_ms(20);
    } while (pt_now_ms() < until);
    return false;
}

static void relative_dir_background(void **state)
{
    (void)state;
    assert_int_equal(pt_mkdtemp(work, sizeof work, "/dev/shm", "rel"), 0);
    /* A name of its own: before the fix the store went to /NAME. */
    const char *rel = strrchr(work, '/') + 1;
    char stray[300], dir[400], pidfile[500], err[400], log[400], sock[500];
    snprintf(stray, sizeof stray, "/%s", rel);
    snprintf(dir, sizeof dir, "%s/%s", work, rel);
    snprintf(pidfile, sizeof pidfile, "%s/pycached.pid", dir);
    snprintf(sock, sizeof sock, "%s/pycached.sock", dir);
    snprintf(err, sizeof err, "%s/start.err", work);
    snprintf(log, sizeof log, "%s/daemon.log", work);
    int st = run_refused(
        work, NULL, err,
        (const char *[]){"-d", rel, "--log-file", "daemon.log", "--sync", "none", NULL}, 20000);
    assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    size_t len = 0;
    char *pid_text = pt_slurp(pidfile, &len);
    assert_non_null(pid_text);
    pid_t pid = (pid_t)atoi(pid_text);
    free(pid_text);
    assert_true(pid > 0);
    struct stat sb;
    bool split = lstat(stray, &sb) == 0;
    bool sock_ok = lstat(sock, &sb) == 0 && S_ISSOCK(sb.st_mode);
    bool log_ok = pt_file_count(log, "serving") == 1;
    pc_client *c = NULL;
    int crc = pt_connect(dir, 0, &c);
    /* A second daemon on the same store, by its absolute path. */
    char err2[400];
    snprintf(err2, sizeof err2, "%s/second.err", work);
    int st2 = run_refused(NULL, NULL, err2,
                          (const char *[]){"-f", "-d", dir, "--sync", "none", NULL}, 10000);
    if (crc == 0)
        pc_close(c);
    kill(pid, SIGTERM);
    bool gone = lock_released(pidfile, 20000);
    if (!gone)
        kill(pid, SIGKILL);
    if (split) /* the bug: clean up what it made at the root */
        pt_rmtree(stray);
    if (split)
        fail_msg("a relative -d split the daemon: %s was made (the store, socket and log went "
                 "there)",
                 stray);
    assert_true(sock_ok);
    assert_true(log_ok);
    OK(crc);
    size_t elen = 0;
    char *msg = pt_slurp(err2, &elen);
    pt_note("second daemon: status 0x%x: %s", (unsigned)st2, msg ? msg : "");
    assert_true(st2 >= 0 && WIFEXITED(st2) && WEXITSTATUS(st2) == 1);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "already served"));
    free(msg);
    assert_true(gone);
    printf("RESULT relative_dir_background store=%s second_daemon=refused\n", dir);
    pt_rmtree(work);
}

/* What a failed case left behind. */
static int cleanup(void **state)
{
    (void)state;
    if (work[0])
        pt_rmtree(work);
    work[0] = 0;
    return 0;
}

int main(void)
{
    pt_init((unsigned)pt_env_long("FAULT_TIMEOUT", 300));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(store_dir_refused, cleanup),
        cmocka_unit_test_teardown(links_refused, cleanup),
        cmocka_unit_test_teardown(dir_mode_tightened, cleanup),
        cmocka_unit_test_teardown(config_long_lines, cleanup),
        cmocka_unit_test_teardown(sighup_keeps_command_line, cleanup),
        cmocka_unit_test_teardown(relative_dir_background, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
