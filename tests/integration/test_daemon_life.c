/*
 * test_daemon_life.c - pycached's life: --help and --version, bad options
 * and bad config-file lines (exit 2, with a message naming them), a good
 * config file (the command line wins), starting and stopping (SIGTERM and
 * SIGINT exit 0 and remove the socket; the pid file holds the pid), a second
 * daemon on the same directory (refused, exit 1, naming the first), a daemon
 * over a store that embedded clients hold, SIGHUP reopening the log file,
 * daemonizing without --foreground, a client whose daemon is killed
 * (PC_ETIMEDOUT for writes after its timeout, PC_ECONNREFUSED for reads,
 * never a hang) and a restart over what it left, and a
 * client used after fork() (PC_EFORK in the child, the parent unaffected).
 */
#include "pctest.h"

#include <sys/socket.h>

/* Run pycached with args (NULL-terminated) under a deadline. */
static int run_pycached_t(const char *const *args, char *out, size_t outn, char *err, size_t errn,
                          int timeout_ms)
{
    char prog[4096];
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)pt_prog(prog, sizeof prog, "pycached");
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    pt_output o;
    if (pt_run(argv, timeout_ms, &o) < 0)
        return -1;
    snprintf(out, outn, "%s", o.out);
    snprintf(err, errn, "%s", o.err);
    pt_output_free(&o);
    return o.status;
}

static int run_pycached(const char *const *args, char *out, size_t outn, char *err, size_t errn)
{
    return run_pycached_t(args, out, outn, err, errn, 10000);
}

/* Assert the exit status of a run and that stream contains every needle. */
static void expect_exit(const char *what, int st, int code, const char *stream, const char *n1,
                        const char *n2, const char *n3)
{
    char b[64];
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != code) {
        print_error("%s: %s, expected exit %d; output:\n%s\n", what, pt_status_str(st, b, sizeof b),
                    code, stream);
        fail();
    }
    const char *needles[] = {n1, n2, n3};
    for (int i = 0; i < 3; i++)
        if (needles[i] && !strstr(stream, needles[i])) {
            print_error("%s: message does not name '%s':\n%s\n", what, needles[i], stream);
            fail();
        }
}

static int setup(void **state)
{
    pt_daemon_fixture(state, 60);
    return pt_daemon_new(*state, "life", NULL);
}

/* ---- options ---- */

static void test_help_version(void **state)
{
    pt_daemon *d = *state;
    static char out[16384], err[4096];
    int st = run_pycached((const char *[]){"--help", NULL}, out, sizeof out, err, sizeof err);
    expect_exit("pycached --help", st, 0, out, "Usage: pycached", "--ring-size", "--sync");
    assert_string_equal(err, "");
    st = run_pycached((const char *[]){"-h", NULL}, out, sizeof out, err, sizeof err);
    expect_exit("pycached -h", st, 0, out, "Usage: pycached", NULL, NULL);
    st = run_pycached((const char *[]){"--version", NULL}, out, sizeof out, err, sizeof err);
    expect_exit("pycached --version", st, 0, out, "pycached ", NULL, NULL);
    /* --help wins even with a directory given: nothing is created or served. */
    char sub[256];
    snprintf(sub, sizeof sub, "%s/not-made", d->dir);
    st =
        run_pycached((const char *[]){"-d", sub, "--help", NULL}, out, sizeof out, err, sizeof err);
    expect_exit("pycached -d DIR --help", st, 0, out, "Usage:", NULL, NULL);
    assert_int_equal(access(sub, F_OK), -1);
    d->passed = true;
}

static void test_bad_options(void **state)
{
    pt_daemon *d = *state;
    static char out[4096], err[4096];
    /* Each run gets -f -d DIR: were a bad option taken, the daemon would run
     * in the foreground and the deadline would catch it. */
    struct {
        const char *args[8];
        const char *n1, *n2;
    } cases[] = {
        {{"--no-such-option"}, "--no-such-option", NULL},
        {{"-x"}, "-x", NULL},
        {{"--sync", "sometimes"}, "sync", "sometimes"},
        {{"--ring-size", "1000"}, "ring-size", "1000"},
        {{"--ring-size", "128M"}, "ring-size", "128M"},
        {{"--max-memory", "lots"}, "max-memory", "lots"},
        {{"--shards", "65"}, "shards", "65"},
        {{"--spin-us", "-1"}, "spin-us", "-1"},
        {{"--log-level", "chatty"}, "log-level", "chatty"},
        {{"--allow-ring-only", "no-such-user-or-group-xyz"}, "allow-ring-only", "no-such-user"},
        {{"--allow-group", "no-such-group-xyz"}, "allow-group", "no-such-group-xyz"},
        {{"stray-argument"}, "stray-argument", NULL},
        {{"--log-file"}, "--log-file", NULL},
        {{"--max-value", "1G", "--max-memory", "1G"}, "max-value", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[16] = {"-f", "-d", d->dir, "--log-file", d->log};
        int n = 5;
        for (int j = 0; cases[i].args[j]; j++)
            args[n++] = cases[i].args[j];
        args[n] = NULL;
        char what[256];
        snprintf(what, sizeof what, "pycached %s %s", cases[i].args[0],
                 cases[i].args[1] ? cases[i].args[1] : "");
        int st = run_pycached(args, out, sizeof out, err, sizeof err);
        expect_exit(what, st, 2, err, cases[i].n1, cases[i].n2, NULL);
        assert_int_equal(access(d->log, F_OK), -1); /* it never got as far as logging */
    }
    d->passed = true;
}

/* A config file with one bad line at line 3 (after a comment and a good
 * setting; last: it is the file's last line, else a good setting follows):
 * exit 2, and the message names the file, what is wrong and the line: "An
 * unknown name or a bad value is an error that names the file and the line"
 * (pycached(8)).  Returns false after printing why. */
static bool check_bad_config(pt_daemon *d, const char *bad, const char *n1, const char *n2,
                             bool last)
{
    static char out[4096], err[4096];
    char path[256], text[512], lineno[300];
    snprintf(path, sizeof path, "%s/bad.conf", d->dir);
    snprintf(text, sizeof text, "# pycached settings\nsync = none\n%s\n%s", bad,
             last ? "" : "spin-us = 10\n");
    assert_int_equal(pt_write_text(path, text), 0);
    /* (were the file taken, the daemon would serve in the foreground: the
     * deadline catches that) */
    int st = run_pycached_t((const char *[]){"-f", "-d", d->dir, "-c", path, NULL}, out, sizeof out,
                            err, sizeof err, 3000);
    char b[64];
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 2) {
        print_error("config line '%s'%s: %s, expected exit 2\n%s\n", bad, last ? " (last)" : "",
                    st < 0 ? "the daemon started" : pt_status_str(st, b, sizeof b), err);
        return false;
    }
    const char *needles[] = {path, n1, n2};
    for (int i = 0; i < 3; i++)
        if (needles[i] && !strstr(err, needles[i])) {
            print_error("config line '%s': the message does not name '%s':\n%s\n", bad, needles[i],
                        err);
            return false;
        }
    snprintf(lineno, sizeof lineno, "%s:3:", path);
    if (!strstr(err, lineno) && !strstr(err, "line 3")) {
        print_error("config line '%s'%s: the message does not give its line (3):\n%s\n", bad,
                    last ? " (last)" : "", err);
        return false;
    }
    return true;
}

static void test_bad_config_lines(void **state)
{
    pt_daemon *d = *state;
    bool ok = true;
    for (int last = 0; last < 2; last++) {
        ok &= check_bad_config(d, "this line has no equals sign", NULL, NULL, last);
        ok &= check_bad_config(d, "ring-size = 12345", "ring-size", "12345", last);
        ok &= check_bad_config(d, "sync = sometimes", "sync", "sometimes", last);
        ok &= check_bad_config(d, "bogus-setting = 1", "bogus-setting", NULL, last);
        ok &= check_bad_config(d, "config = other.conf", "config", NULL, last);
        /* "no sections" (pycached(8)) */
        ok &= check_bad_config(d, "[server]", "server", NULL, last);
    }
    /* A config file that does not exist. */
    static char out[4096], err[4096];
    char path[256];
    snprintf(path, sizeof path, "%s/missing.conf", d->dir);
    int st = run_pycached((const char *[]){"-f", "-d", d->dir, "--config", path, NULL}, out,
                          sizeof out, err, sizeof err);
    expect_exit("a missing config file", st, 2, err, path, NULL, NULL);
    assert_true(ok);
    d->passed = true;
}

/* A good config file is used, and the command line wins over it. */
static void test_good_config(void **state)
{
    pt_daemon *d = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/good.conf", d->dir);
    assert_int_equal(pt_write_text(path, "; comment\n# comment\nring-size = 64K\nspin-us = 10\n"
                                         "max-clients = 64\nlog-level = debug\n"),
                     0);
    pt_daemon_opt(d, "-c");
    pt_daemon_opt(d, path);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_store_info si;
    OK(pc_store_info_get(c, &si));
    assert_int_equal(si.ring_size, 64 << 10);
    assert_false(si.ring_only);
    assert_false(si.embedded);
    pc_close(c);
    STOP_OK(d);
    pt_daemon_opt(d, "--ring-size");
    pt_daemon_opt(d, "128K");
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    c = pt_daemon_client(d, 0);
    assert_non_null(c);
    OK(pc_store_info_get(c, &si));
    assert_int_equal(si.ring_size, 128 << 10);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ---- start, stop, files ---- */

static void check_pid_file(const pt_daemon *d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/pycached.pid", d->dir);
    char *text = pt_slurp(path, NULL);
    assert_non_null(text);
    assert_int_equal(atoi(text), d->pid);
    free(text);
}

static bool sock_exists(const pt_daemon *d, mode_t *mode)
{
    char path[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s/pycached.sock", d->dir);
    if (lstat(path, &sb) < 0)
        return false;
    if (mode)
        *mode = sb.st_mode;
    return S_ISSOCK(sb.st_mode);
}

static void test_start_stop(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    check_pid_file(d);
    mode_t mode = 0;
    assert_true(sock_exists(d, &mode));
    assert_int_equal(mode & 0777, 0600); /* nobody else is admitted */
    char path[256];
    snprintf(path, sizeof path, "%s/data-00.mdb", d->dir);
    assert_int_equal(access(path, F_OK), 0);

    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_val v = pc_str("kept");
    OK(pc_set(c, K("life:k"), &v, 0, 0));
    pc_close(c);

    STOP_OK(d); /* SIGTERM: exit 0 */
    assert_false(sock_exists(d, NULL));
    assert_true(pt_daemon_log_has(d, "stopped after", 0));
    c = NULL;
    RC(PC_ECONNREFUSED, pc_connect(d->dir, NULL, &c));
    assert_null(c);

    /* Again, stopped with SIGINT this time; the data is still there. */
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    check_pid_file(d);
    c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_read *r;
    OK(pc_read_begin(c, &r));
    pc_val got;
    OK(pc_get(r, K("life:k"), &got));
    assert_int_equal(got.kind, PC_BYTES);
    assert_int_equal(got.s.len, 4);
    assert_memory_equal(got.s.ptr, "kept", 4);
    pc_read_end(r);
    pc_close(c);
    int st = pt_daemon_stop_sig(d, SIGINT, 10000);
    EXITED(st, 0);
    assert_false(sock_exists(d, NULL));
    d->passed = true;
}

/* A second daemon on the same directory refuses to start, says who holds
 * it, and leaves the first one (and its pid file) alone. */
static void test_second_daemon(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    static char out[4096], err[4096];
    char pidstr[32];
    snprintf(pidstr, sizeof pidstr, "pid %d", (int)d->pid);
    char log2[256];
    snprintf(log2, sizeof log2, "%s/second.log", d->dir);
    for (int fg = 0; fg < 2; fg++) {
        const char *args[] = {"-d", d->dir, "--log-file", log2, "--sync", "none", NULL, NULL};
        args[6] = fg ? "--foreground" : NULL;
        int st = run_pycached(args, out, sizeof out, err, sizeof err);
        expect_exit(fg ? "a second pycached -f" : "a second pycached", st, 1, err, d->dir, pidstr,
                    NULL);
    }
    check_pid_file(d);
    assert_true(sock_exists(d, NULL));
    pc_val v = pc_int(7);
    OK(pc_set(c, K("second:k"), &v, 0, 0));
    pc_close(c);
    /* Neither may an embedded client open the store the daemon holds. */
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_EMBEDDED;
    c = NULL;
    RC(PC_EBUSY, pc_connect(d->dir, &o, &c));
    STOP_OK(d);
    d->passed = true;
}

/* A daemon refuses a store that an embedded client has open. */
static void test_daemon_vs_embedded(void **state)
{
    pt_daemon *d = *state;
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC;
    o.map_size = 64 << 20;
    pc_client *e = NULL;
    OK(pc_connect(d->dir, &o, &e));
    static char out[4096], err[4096];
    int st = run_pycached((const char *[]){"-f", "-d", d->dir, "--log-file", d->log, NULL}, out,
                          sizeof out, err, sizeof err);
    expect_exit("pycached over an embedded store", st, 1, err, d->dir, "embedded", NULL);
    pc_close(e);
    /* Once it is closed the daemon serves it, with its shape. */
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_store_info si;
    OK(pc_store_info_get(c, &si));
    assert_int_equal(si.map_size, 64 << 20);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* SIGHUP reopens the log file: after a rename, a new file appears and
 * gets the lines that follow. */
static void test_sighup_log(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_close(c);
    assert_true(pt_daemon_log_has(d, "client 2: ", 2000)); /* (client 1 was the readiness probe) */
    char old[256];
    snprintf(old, sizeof old, "%s.1", d->log);
    assert_int_equal(rename(d->log, old), 0);
    assert_int_equal(kill(d->pid, SIGHUP), 0);
    uint64_t until = pt_now_ms() + 5000;
    while (access(d->log, F_OK) != 0 && pt_now_ms() < until)
        pt_sleep_ms(2);
    assert_int_equal(access(d->log, F_OK), 0);
    c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_close(c);
    assert_true(pt_daemon_log_has(d, "client 3: ", 3000));
    /* The old file kept what was written before and nothing of client 3. */
    char *text = pt_slurp(old, NULL);
    assert_non_null(text);
    bool has2 = strstr(text, "client 2: "), has3 = strstr(text, "client 3: ");
    free(text);
    assert_true(has2);
    assert_false(has3);
    /* Twice more, without a rename: the file is appended to, not truncated. */
    assert_int_equal(kill(d->pid, SIGHUP), 0);
    assert_int_equal(kill(d->pid, SIGHUP), 0);
    c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_close(c);
    assert_true(pt_daemon_log_has(d, "client 4: ", 3000));
    assert_true(pt_daemon_log_has(d, "client 3: ", 0));
    STOP_OK(d);
    d->passed = true;
}

/* ---- daemonizing ---- */

static pid_t read_pid_file(const pt_daemon *d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/pycached.pid", d->dir);
    char *text = pt_slurp(path, NULL);
    pid_t pid = text ? (pid_t)atoi(text) : 0;
    free(text);
    return pid;
}

static bool wait_gone(pid_t pid, int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    while (kill(pid, 0) == 0 || errno != ESRCH) {
        if (pt_now_ms() >= until)
            return false;
        pt_sleep_ms(2);
    }
    return true;
}

static pid_t bg_pid; /* the background daemon, killed at teardown if the test fails */

static int teardown_bg(void **state)
{
    if (bg_pid > 0 && kill(bg_pid, 0) == 0) {
        kill(bg_pid, SIGKILL);
        wait_gone(bg_pid, 5000);
    }
    bg_pid = 0;
    return pt_daemon_teardown(state);
}

/* Without --foreground the command returns once the daemon serves (exit
 * 0), or fails to start (exit 1, the reason on stderr). */
static void test_daemonize(void **state)
{
    pt_daemon *d = *state;
    static char out[4096], err[4096];
    const char *args[] = {"-d", d->dir, "--log-file", d->log, "--sync", "none", NULL};
    int st = run_pycached(args, out, sizeof out, err, sizeof err);
    expect_exit("pycached (daemonizing)", st, 0, err, NULL, NULL, NULL);
    bg_pid = read_pid_file(d);
    assert_true(bg_pid > 0);
    assert_int_equal(kill(bg_pid, 0), 0);
    /* It serves as soon as the command returned. */
    pc_client *c = NULL;
    OK(pc_connect(d->dir, NULL, &c));
    pc_val v = pc_str("bg");
    OK(pc_set(c, K("bg:k"), &v, 0, 0));
    /* A second one fails to start, with exit status 1. */
    st = run_pycached(args, out, sizeof out, err, sizeof err);
    char pidstr[32];
    snprintf(pidstr, sizeof pidstr, "pid %d", (int)bg_pid);
    expect_exit("a second daemonizing pycached", st, 1, err, pidstr, NULL, NULL);
    assert_int_equal(read_pid_file(d), bg_pid);
    OK(pc_set(c, K("bg:k2"), &v, 0, 0));
    pc_close(c);
    assert_int_equal(kill(bg_pid, SIGTERM), 0);
    assert_true(wait_gone(bg_pid, 10000));
    bg_pid = 0;
    assert_false(sock_exists(d, NULL));
    d->passed = true;
}

/* ---- a daemon that dies under its clients ---- */

static void test_daemon_killed(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    /* Writes wait for a daemon to come back for up to the client's timeout
     * (test_daemon_restart has the rest): keep it short here. */
    pc_options o;
    pc_options_init(&o);
    o.timeout_ms = 200;
    pc_client *c = NULL, *ro = NULL;
    OK(pc_connect(d->dir, &o, &c));
    o.flags = PC_OPT_RING_ONLY;
    OK(pc_connect(d->dir, &o, &ro));
    pc_val v = pc_int(41);
    OK(pc_set(c, K("dead:k"), &v, 0, 0));
    OK(pc_incrby(ro, K("dead:k"), 1, NULL));
    pt_daemon_kill9(d);
    uint64_t t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_set(c, K("dead:k"), &v, 0, 0));
    RC(PC_ETIMEDOUT, pc_set(c, K("dead:k"), &v, 0, 0)); /* and stays so */
    pc_read *r;
    RC(PC_ECONNREFUSED, pc_read_begin(ro, &r)); /* no daemon serves it now */
    RC(PC_ECONNREFUSED, pc_read_begin(c, &r));
    assert_true(pt_now_ms() - t0 < 5000); /* noticed, never a hang */
    pc_close(c);
    pc_close(ro);
    /* A new daemon takes over what the killed one left (a stale socket, a
     * stale pid file) and serves the data it acknowledged. */
    assert_true(sock_exists(d, NULL));
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    check_pid_file(d);
    c = pt_daemon_client(d, 0);
    assert_non_null(c);
    int64_t now;
    OK(pc_incrby(c, K("dead:k"), 1, &now));
    assert_int_equal(now, 43);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ---- fork ---- */

struct fork_ctx {
    pc_client *c, *ro;
    pc_read *r;
    const char *dir;
};

static int fork_child(void *arg)
{
    struct fork_ctx *f = arg;
    pc_val v = pc_int(1), got;
    uint64_t len;
    size_t n;
    pc_store_info si;
    pc_read *r;
    CKRC(PC_EFORK, pc_set(f->c, K("fork:child"), &v, 0, 0));
    CKRC(PC_EFORK, pc_incrby(f->c, K("fork:n"), 1, NULL));
    CKRC(PC_EFORK, pc_rpush(f->c, K("fork:l"), &v, 1, &len));
    CKRC(PC_EFORK, pc_qpop(f->c, K("fork:q"), 1, &got, &n));
    CKRC(PC_EFORK, pc_batch_begin(f->c));
    CKRC(PC_EFORK, pc_txn_begin(f->c));
    CKRC(PC_EFORK, pc_store_info_get(f->c, &si));
    CKRC(PC_EFORK, pc_read_begin(f->c, &r));
    CKRC(PC_EFORK, pc_get(f->r, K("fork:n"), &got)); /* the parent's open read */
    CKRC(PC_EFORK, pc_set(f->ro, K("fork:child"), &v, 0, 0));
    CKRC(PC_EFORK, pc_read_begin(f->ro, &r));
    /* Closing them here only frees this process's memory. */
    pc_close(f->c);
    pc_close(f->ro);
    /* A client of its own works. */
    pc_client *mine = NULL;
    CKOK(pc_connect(f->dir, NULL, &mine));
    v = pc_str("from the child");
    CKOK(pc_set(mine, K("fork:child"), &v, 0, 0));
    int64_t now;
    CKOK(pc_incrby(mine, K("fork:n"), 10, &now));
    CK(now == 11);
    CKOK(pc_read_begin(mine, &r));
    CKOK(pc_get(r, K("fork:n"), &got));
    CK(got.kind == PC_INT && got.i == 11);
    pc_read_end(r);
    pc_close(mine);
    return 0;
}

static void test_fork(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    struct fork_ctx f = {.dir = d->dir};
    f.c = pt_daemon_client(d, 0);
    f.ro = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(f.c);
    assert_non_null(f.ro);
    OK(pc_incrby(f.c, K("fork:n"), 1, NULL));
    OK(pc_read_begin(f.c, &f.r));
    pc_val got;
    OK(pc_get(f.r, K("fork:n"), &got));
    pid_t pid = pt_fork(fork_child, &f, 20);
    assert_true(pid > 0);
    EXITED(pt_wait_pid(pid, 25000), 0);
    /* The parent's read and clients are untouched by the child. */
    OK(pc_get(f.r, K("fork:n"), &got));
    assert_int_equal(got.i, 1); /* its snapshot */
    pc_read_end(f.r);
    int64_t now;
    OK(pc_incrby(f.c, K("fork:n"), 100, &now));
    assert_int_equal(now, 111);
    OK(pc_incrby(f.ro, K("fork:n"), 1000, &now));
    assert_int_equal(now, 1111);
    pc_read *r;
    OK(pc_read_begin(f.ro, &r));
    OK(pc_get(r, K("fork:child"), &got));
    assert_int_equal(got.kind, PC_BYTES);
    assert_int_equal(got.s.len, 14);
    pc_read_end(r);
    pc_close(f.c);
    pc_close(f.ro);
    STOP_OK(d);
    d->passed = true;
}

int main(void)
{
    pt_init(170);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help_version, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_bad_config_lines, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_good_config, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_start_stop, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_second_daemon, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_daemon_vs_embedded, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_log, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_daemonize, setup, teardown_bg),
        cmocka_unit_test_setup_teardown(test_daemon_killed, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_fork, setup, pt_daemon_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
