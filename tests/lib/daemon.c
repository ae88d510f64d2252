/*
 * daemon.c - real pycached daemons for the tests: started in a temporary
 * directory (or a named one) under a parent-death signal, waited for,
 * stopped, killed, their logs shown when a test fails; workspaces of
 * several; clients; the published statistics (pctest.h).
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/prctl.h>

#include "internal.h"

const char *pt_builddir(void)
{
    const char *b = getenv("top_builddir");
    return b && *b ? b : ".";
}

const char *pt_prog(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", pt_builddir(), name);
    return out;
}

/* ---- the daemons the backstop knows ---- */

#define MAX_DAEMONS 32
static pt_daemon *live[MAX_DAEMONS];

void pt__daemon_add(pt_daemon *d)
{
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (live[i] == d)
            return;
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (!live[i]) {
            live[i] = d;
            return;
        }
}

void pt__daemon_remove(pt_daemon *d)
{
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (live[i] == d)
            live[i] = NULL;
}

void pt__daemons_forget(void)
{
    memset(live, 0, sizeof live);
}

void pt__daemons_backstop(void)
{
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (live[i] && live[i]->pid > 0) {
            kill(live[i]->pid, SIGKILL);
            waitpid(live[i]->pid, NULL, 0);
            pt_daemon_dump(live[i]);
        }
    for (int i = 0; i < MAX_DAEMONS; i++)
        if (live[i] && live[i]->own_dir && !getenv("PCTEST_KEEP"))
            pt_rmtree(live[i]->dir);
}

/* ---- naming a daemon ---- */

void pt_daemon_opt(pt_daemon *d, const char *arg)
{
    size_t used =
        d->nopt ? d->opt_at[d->nopt - 1] + strlen(d->opt_buf + d->opt_at[d->nopt - 1]) + 1 : 0;
    size_t len = strlen(arg) + 1;
    if (d->nopt == PT_MAX_ARGS || used + len > sizeof d->opt_buf) {
        fprintf(stderr, "pt_daemon_opt: too many options (dropped '%s')\n", arg);
        return;
    }
    memcpy(d->opt_buf + used, arg, len);
    d->opt_at[d->nopt++] = (unsigned short)used;
}

static void opts_add(pt_daemon *d, const char *const *opts)
{
    for (size_t i = 0; opts && opts[i]; i++)
        pt_daemon_opt(d, opts[i]);
}

/* PCTEST_SHARDS=N: --shards N first, so that a test's own --shards wins;
 * PCTEST_WRITERS=MODE: --writers MODE likewise. */
static void shards_from_env(pt_daemon *d)
{
    const char *n = getenv("PCTEST_SHARDS");
    if (n && *n && strspn(n, "0123456789") == strlen(n))
        opts_add(d, PT_ARGS("--shards", n));
    const char *w = getenv("PCTEST_WRITERS");
    if (w && *w)
        opts_add(d, PT_ARGS("--writers", w));
}

void pt_daemon_reset(pt_daemon *d, const char *const *opts)
{
    d->nopt = 0;
    shards_from_env(d);
    opts_add(d, opts);
}

void pt_daemon_init(pt_daemon *d, const char *dir, const char *const *opts)
{
    char base[sizeof d->dir];
    size_t len = strlen(dir);
    if (len >= sizeof base) {
        fprintf(stderr, "pt_daemon_init: path too long (cut short): %s\n", dir);
        len = sizeof base - 1;
    }
    memcpy(base, dir, len); /* dir may lie in the same struct as d */
    base[len] = 0;
    memset(d, 0, sizeof *d);
    memcpy(d->dir, base, len + 1);
    snprintf(d->log, sizeof d->log, "%s.log", d->dir);
    snprintf(d->out, sizeof d->out, "%s.out", d->dir);
    shards_from_env(d);
    opts_add(d, opts);
}

int pt_daemon_new(pt_daemon *d, const char *tag, const char *const *opts)
{
    memset(d, 0, sizeof *d);
    if (pt_mkdtemp(d->dir, sizeof d->dir, NULL, tag))
        return -1;
    snprintf(d->log, sizeof d->log, "%s/daemon.log", d->dir);
    snprintf(d->out, sizeof d->out, "%s/daemon.out", d->dir);
    d->own_dir = true;
    /* The store is on tmpfs; a test about sync gives --sync again. */
    opts_add(d, PT_ARGS("--sync", "none"));
    shards_from_env(d);
    opts_add(d, opts);
    pt__daemon_add(d);
    return 0;
}

/* ---- starting ---- */

/* It no longer runs: a daemon the library did not make a directory for
 * leaves the backstop's list (its struct may not outlive the test). */
static void gone(pt_daemon *d, int status)
{
    d->pid = 0;
    d->status = status;
    if (!d->own_dir)
        pt__daemon_remove(d);
}

pid_t pt_daemon_spawn(pt_daemon *d, const char *const *extra)
{
    char prog[4096];
    char *argv[2 * PT_MAX_ARGS + 8];
    int n = 0;
    argv[n++] = (char *)(d->prog ? d->prog : pt_prog(prog, sizeof prog, "pycached"));
    argv[n++] = "--foreground";
    argv[n++] = "-d";
    argv[n++] = d->dir;
    if (!d->no_log_file) {
        argv[n++] = "--log-file";
        argv[n++] = d->log;
    }
    for (int i = 0; i < d->nopt; i++)
        argv[n++] = d->opt_buf + d->opt_at[i];
    for (int i = 0; extra && extra[i] && i < PT_MAX_ARGS; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(d->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
            _exit(127);
        if (d->uid && pt_drop(d->uid, d->gid, NULL, 0) < 0) {
            dprintf(2, "cannot become uid %d: %s\n", (int)d->uid, strerror(errno));
            _exit(127);
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* after pt_drop: changing uid clears it */
        if (getppid() != parent)
            _exit(127);
        for (const char *const *e = d->env; e && *e; e++)
            putenv((char *)*e);
        pt__exec_prep();
        execv(argv[0], argv);
        dprintf(2, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    pt__daemon_add(d);
    d->pid = pid;
    d->status = 0;
    return pid;
}

int pt_probe(const char *dir)
{
    pc_client *c = NULL;
    int rc = pt_connect(dir, PC_OPT_RING_ONLY, &c);
    pc_close(c);
    return rc;
}

/* Until ready() says so, at most timeout_ms; -1 (killed, log shown) when
 * the daemon exits first or the time runs out. */
static int wait_until(pt_daemon *d, bool (*ready)(const pt_daemon *), int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            char b[64];
            fprintf(stderr, "pycached exited while starting: %s\n", pt_status_str(st, b, sizeof b));
            gone(d, st);
            pt_daemon_dump(d);
            return -1;
        }
        if (ready(d))
            return 0;
        if (pt_now_ms() >= until) {
            fprintf(stderr, "pycached did not serve %s within %d ms\n", d->dir, timeout_ms);
            kill(d->pid, SIGKILL);
            gone(d, pt_wait_pid(d->pid, 5000));
            pt_daemon_dump(d);
            return -1;
        }
        pt_sleep_ms(2);
    }
}

static bool answers(const pt_daemon *d)
{
    return pt_probe(d->dir) == 0;
}

static bool logged_serving(const pt_daemon *d)
{
    return pt_file_has(d->log, "notice: serving ", 0);
}

int pt_daemon_wait_ready(pt_daemon *d, int timeout_ms)
{
    return wait_until(d, answers, timeout_ms);
}

int pt_daemon_start(pt_daemon *d, const char *const *extra)
{
    if (pt_daemon_spawn(d, extra) < 0)
        return -1;
    return wait_until(d, answers, 20000);
}

int pt_daemon_start_logged(pt_daemon *d, const char *const *extra, int timeout_ms)
{
    if (pt_daemon_spawn(d, extra) < 0)
        return -1;
    return wait_until(d, logged_serving, timeout_ms);
}

int pt_daemon_run(pt_daemon *d, const char *const *extra, int timeout_ms)
{
    if (pt_daemon_spawn(d, extra) < 0)
        return -1;
    int st = pt_wait_pid(d->pid, timeout_ms);
    gone(d, st);
    return st;
}

int pt_small_daemon(pt_daemon *d, const char *const *extra)
{
    if (pt_daemon_new(d, "upkeep", PT_ARGS(PT_SMALL_STORE)))
        return -1;
    if (pt_daemon_start(d, extra) == 0)
        return 0;
    pt_daemon_end(d);
    return -1;
}

/* ---- stopping ---- */

int pt_daemon_wait(pt_daemon *d, int timeout_ms)
{
    if (d->pid <= 0)
        return -1;
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t w = waitpid(d->pid, &st, WNOHANG);
        if (w == d->pid) {
            gone(d, st);
            return st;
        }
        if (w < 0 && errno != EINTR) {
            gone(d, -1);
            return -1;
        }
        if (pt_now_ms() >= until)
            return -1;
        pt_sleep_ms(2);
    }
}

int pt_daemon_stop_sig(pt_daemon *d, int sig, int timeout_ms)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    int st = pt_wait_pid(d->pid, timeout_ms);
    gone(d, st);
    return st;
}

int pt_daemon_stop(pt_daemon *d)
{
    return pt_daemon_stop_sig(d, SIGTERM, 30000);
}

void pt_daemon_kill9(pt_daemon *d)
{
    if (d->pid > 0)
        pt_daemon_stop_sig(d, SIGKILL, 10000);
}

int pt_daemon_restart(pt_daemon *d)
{
    if (!pt_exited(pt_daemon_stop(d), 0))
        return -1;
    return pt_daemon_start(d, NULL);
}

bool pt_daemon_alive(pt_daemon *d)
{
    if (d->pid <= 0)
        return false;
    int st;
    pid_t w = waitpid(d->pid, &st, WNOHANG);
    if (w == 0)
        return true;
    gone(d, w == d->pid ? st : -1);
    return false;
}

void pt_daemon_dump(const pt_daemon *d)
{
    pt_cat("pycached log", d->log);
    pt_cat("pycached output", d->out);
}

bool pt_daemon_log_has(const pt_daemon *d, const char *needle, int timeout_ms)
{
    return pt_file_has(d->log, needle, timeout_ms);
}

/* Stop it if it runs; its log and output shown when it did not exit 0 or
 * show; its directory removed when pt_daemon_new made it. */
static int end(pt_daemon *d, bool show)
{
    int rc = 0;
    if (d->pid > 0) {
        int st = pt_daemon_stop(d);
        if (!pt_exited(st, 0)) {
            char b[64];
            fprintf(stderr, "pycached in %s ended with %s, expected exit 0\n", d->dir,
                    pt_status_str(st, b, sizeof b));
            rc = -1;
        }
    }
    if (rc || show)
        pt_daemon_dump(d);
    if (d->own_dir) {
        if (getenv("PCTEST_KEEP")) /* PCTEST_KEEP=1: keep it to look at */
            fprintf(stderr, "(kept %s)\n", d->dir);
        else
            pt_rmtree(d->dir);
    }
    pt__daemon_remove(d);
    return rc;
}

int pt_daemon_end(pt_daemon *d)
{
    return end(d, false);
}

void pt_daemon_finish(pt_daemon *d)
{
    pt_kill_tracked();
    end(d, !d->passed);
}

void pt_daemon_remove(const pt_daemon *d)
{
    unlink(d->log);
    unlink(d->out);
    pt_rmtree(d->dir);
}

static pt_daemon fixture_daemon;

int pt_daemon_fixture(void **state, unsigned seconds)
{
    memset(&fixture_daemon, 0, sizeof fixture_daemon);
    *state = &fixture_daemon;
    alarm(seconds);
    return 0;
}

int pt_daemon_teardown(void **state)
{
    pt_daemon_finish(*state);
    return 0;
}

/* ---- clients ---- */

int pt_connect(const char *dir, unsigned flags, pc_client **c)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = flags;
    return pc_connect(dir, &o, c);
}

pc_client *pt_daemon_client(const pt_daemon *d, unsigned flags)
{
    pc_client *c = NULL;
    int rc = pt_connect(d->dir, flags, &c);
    if (rc) {
        fprintf(stderr, "pc_connect(%s): %s\n", d->dir, pc_err_name(rc));
        return NULL;
    }
    return c;
}

bool pt_wait_blocked(pc_client *c, pid_t pid, _Atomic int *flag, int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    while (flag && !atomic_load(flag) && pt_now_ms() < until)
        pt_sleep_us(200);
    for (;;) {
        pc_client_info ci[64];
        size_t n, total;
        if (pc_clients(c, ci, 64, &n, &total))
            return false;
        for (size_t i = 0; i < n; i++)
            if (ci[i].pid == pid && ci[i].blocked)
                return true;
        if (pt_now_ms() >= until)
            return false;
        pt_sleep_us(500);
    }
}

/* ---- workspaces ---- */

int pt_ws_make(pt_ws *w, const char *tag)
{
    memset(w, 0, sizeof *w);
    if (pt_mkdtemp(w->dir, sizeof w->dir, NULL, tag))
        return -1;
    snprintf(w->snaps, sizeof w->snaps, "%s/snaps", w->dir);
    return 0;
}

pt_daemon *pt_ws_daemon(pt_ws *w, const char *name)
{
    if (w->nd == (int)PT_LEN(w->d))
        return NULL;
    pt_daemon *d = &w->d[w->nd++];
    char dir[300];
    snprintf(dir, sizeof dir, "%s/%s", w->dir, name);
    pt_daemon_init(d, dir, PT_ARGS("--sync", "none"));
    return d;
}

void pt_ws_finish(pt_ws *w)
{
    for (int i = 0; i < w->nd; i++)
        pt_daemon_kill9(&w->d[i]);
    pt_kill_tracked();
    if (!w->passed)
        for (int i = 0; i < w->nd; i++)
            pt_daemon_dump(&w->d[i]);
    for (int i = 0; i < w->nd; i++)
        pt__daemon_remove(&w->d[i]);
    if (!getenv("PCTEST_KEEP"))
        pt_rmtree(w->dir);
    else
        fprintf(stderr, "kept %s\n", w->dir);
    w->nd = 0;
}

static pt_ws fixture_ws;

int pt_ws_setup(void **state)
{
    if (pt_ws_make(&fixture_ws, program_invocation_short_name))
        return -1;
    *state = &fixture_ws;
    return 0;
}

int pt_ws_teardown(void **state)
{
    pt_ws_finish(*state);
    return 0;
}

/* ---- statistics ---- */

int pt_stats_next(pc_client *c, pc_stats *st)
{
    pc_stats now;
    if (pc_stats_get(c, &now))
        return -1;
    uint64_t until = pt_now_ms() + 5000;
    do {
        pt_sleep_ms(5);
        if (pc_stats_get(c, st))
            return -1;
        if (st->taken_ms > now.taken_ms)
            return 0;
    } while (pt_now_ms() < until);
    fprintf(stderr, "the stats page was not republished within 5 s\n");
    return -1;
}

int pt_stats_after(pc_client *c, uint64_t after_ms, int timeout_ms, pc_stats *st)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int rc = pc_stats_get(c, st);
        if (rc)
            return rc;
        if (st->taken_ms > after_ms)
            return 0;
        if (pt_now_ms() > until)
            return PC_ETIMEDOUT;
        pt_sleep_ms(20);
    }
}

int pt_stats_snapshot_after(pc_client *c, uint64_t since_ms, int timeout_ms, pc_stats *st)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (pc_stats_get(c, st) == 0 && st->snapshot_ms > since_ms)
            return 0;
        if (pt_now_ms() >= until)
            return -1;
        pt_sleep_ms(10);
    }
}

unsigned pt_op(const char *name)
{
    for (unsigned i = 0; i < PC_STATS_OPS; i++) {
        const char *n = pc_stats_op_name(i);
        if (n && !strcmp(n, name))
            return i;
    }
    print_error("no op named '%s'\n", name);
    fail();
    return 0;
}
