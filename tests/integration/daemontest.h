/*
 * daemontest.h - what the integration tests of pycached (test_daemon_*.c)
 * share: a temporary store directory on tmpfs, a real pycached started in it
 * with fork/exec and waited for (bounded), stopped with SIGTERM (its exit
 * status checked), killed with SIGKILL, restarted; its log printed when a
 * test fails; child processes that report through their exit status; return
 * codes that name themselves; a seeded PRNG; and a look at the daemon from
 * outside (/proc/PID/fd, /proc/PID/maps, LMDB's reader table).
 *
 * Every wait here has a deadline, and dt_init() arms alarm() as a backstop
 * that kills every daemon and child this process started: a test never hangs
 * and never leaves a daemon behind (the daemons also die with the test
 * process: PR_SET_PDEATHSIG).
 *
 * Header-only; everything is static inline so each test program uses what it
 * needs without unused-function warnings.
 */
#ifndef PCDT_DAEMONTEST_H
#define PCDT_DAEMONTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pycache.h"

/* A key argument pair from a C string. */
#define K(s) (s), strlen(s)

/* ------------------------------------------------------------------------ */
/* A deterministic PRNG (splitmix64): every random choice is seeded.         */

typedef struct dt_rng {
    uint64_t s;
} dt_rng;

static inline uint64_t dt_next(dt_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t dt_below(dt_rng *r, uint64_t n)
{
    return dt_next(r) % n;
}

/* Fill p[0..n) with bytes that depend only on (seed, offset). */
static inline void dt_fill(void *p, size_t n, uint64_t seed)
{
    uint8_t *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        dt_rng r = {seed ^ (i * UINT64_C(0x100000001b3))};
        uint64_t v = dt_next(&r);
        memcpy(b + i, &v, 8);
    }
    if (i < n) {
        dt_rng r = {seed ^ (i * UINT64_C(0x100000001b3))};
        uint64_t v = dt_next(&r);
        memcpy(b + i, &v, n - i);
    }
}

/* ------------------------------------------------------------------------ */
/* Time                                                                      */

static inline uint64_t dt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t dt_now_ms(void)
{
    return dt_now_us() / 1000u;
}

static inline void dt_sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static inline void dt_sleep_ms(uint64_t ms)
{
    dt_sleep_us(ms * 1000u);
}

/* ------------------------------------------------------------------------ */
/* Return codes, in the test process (cmocka) and in children (exit status)  */

static inline void dt_check_rc(const char *file, int line, const char *call, int got, int want)
{
    if (got == want)
        return;
    print_error("%s:%d: %s\n    returned %s (%d: %s), expected %s (%d)\n", file, line, call,
                pc_err_name(got), got, pc_strerror(got), pc_err_name(want), want);
    _fail(file, line);
}

/* Assert that call returns want (a PC_E* code), naming both on failure. */
#define RC(want, call) dt_check_rc(__FILE__, __LINE__, #call, (call), (want))
/* Assert that call returns 0. */
#define OK(call) RC(0, call)

/* Children cannot use cmocka's assertions (they would longjmp into a copy of
 * the runner): they print what failed and exit 1; the parent checks the
 * exit status. */
static inline void dt_child_fail(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
static inline void dt_child_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
    char msg[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    fprintf(stderr, "[child %d] %s:%d: check failed: %s%s%s\n", (int)getpid(), file, line, what,
            *msg ? ": " : "", msg);
    fflush(stderr);
    _exit(1);
}

/* In a child: assert cond. */
#define CK(cond)                                            \
    do {                                                    \
        if (!(cond))                                        \
            dt_child_fail(__FILE__, __LINE__, #cond, NULL); \
    } while (0)
/* In a child: assert cond, with a message. */
#define CKM(cond, ...)                                             \
    do {                                                           \
        if (!(cond))                                               \
            dt_child_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)
/* In a child: assert that call returns want. */
#define CKRC(want, call)                                                              \
    do {                                                                              \
        int ck_rc_ = (call);                                                          \
        if (ck_rc_ != (want))                                                         \
            dt_child_fail(__FILE__, __LINE__, #call, "returned %s (%d), expected %s", \
                          pc_err_name(ck_rc_), ck_rc_, pc_err_name(want));            \
    } while (0)
#define CKOK(call) CKRC(0, call)

/* ------------------------------------------------------------------------ */
/* Processes this test started: killed on timeout and at teardown           */

#define DT_MAX_KIDS 512
#define DT_MAX_DAEMONS 8

typedef struct dt_daemon dt_daemon;

static pid_t dt_kids[DT_MAX_KIDS];
static dt_daemon *dt_daemons[DT_MAX_DAEMONS];
static pid_t dt_main_pid;

static inline void dt_kid_add(pid_t pid)
{
    for (int i = 0; i < DT_MAX_KIDS; i++)
        if (!dt_kids[i]) {
            dt_kids[i] = pid;
            return;
        }
}

static inline void dt_kid_forget(pid_t pid)
{
    for (int i = 0; i < DT_MAX_KIDS; i++)
        if (dt_kids[i] == pid)
            dt_kids[i] = 0;
}

/* Kill (SIGKILL) and reap every child still registered. */
static inline void dt_kids_kill(void)
{
    for (int i = 0; i < DT_MAX_KIDS; i++)
        if (dt_kids[i] > 0) {
            kill(dt_kids[i], SIGKILL);
            waitpid(dt_kids[i], NULL, 0);
            dt_kids[i] = 0;
        }
}

/*
 * Wait for child pid at most timeout_ms.  Returns its wait status, or -1
 * after killing it when the time ran out (a hung child is a failure).
 */
static inline int dt_wait_pid(pid_t pid, int timeout_ms)
{
    uint64_t until = dt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            dt_kid_forget(pid);
            return st;
        }
        if (w < 0 && errno != EINTR) {
            dt_kid_forget(pid);
            return -1;
        }
        if (dt_now_ms() >= until) {
            fprintf(stderr, "process %d still running after %d ms: killed\n", (int)pid, timeout_ms);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            dt_kid_forget(pid);
            return -1;
        }
        dt_sleep_us(1000);
    }
}

/* A status that means "exited with code 0". */
static inline bool dt_exited0(int st)
{
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Describe a wait status for a failure message. */
static inline const char *dt_status_str(int st, char *buf, size_t n)
{
    if (st < 0)
        snprintf(buf, n, "timed out");
    else if (WIFEXITED(st))
        snprintf(buf, n, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, n, "status 0x%x", (unsigned)st);
    return buf;
}

/* Assert (in the test process) that a child exited 0. */
#define CHILD_OK(st)                                                          \
    do {                                                                      \
        int child_st_ = (st);                                                 \
        char child_b_[64];                                                    \
        if (!dt_exited0(child_st_)) {                                         \
            print_error("%s:%d: child %s: %s\n", __FILE__, __LINE__, #st,     \
                        dt_status_str(child_st_, child_b_, sizeof child_b_)); \
            _fail(__FILE__, __LINE__);                                        \
        }                                                                     \
    } while (0)

/* A child's own backstop: say so and exit 3 (a call that never returned). */
static inline void dt_child_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "[child] timed out (alarm): a call never returned\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(3);
    _exit(3);
}

/*
 * Fork a child that runs fn(arg) and exits with its result (0: passed).
 * The child has its own alarm (timeout_s: it exits 3 saying so) instead of
 * the parent's backstop.
 */
static inline pid_t dt_fork(int (*fn)(void *), void *arg, unsigned timeout_s)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        signal(SIGALRM, dt_child_alarm);
        memset(dt_kids, 0, sizeof dt_kids);
        memset(dt_daemons, 0, sizeof dt_daemons);
        alarm(timeout_s);
        int rc = fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(rc ? 1 : 0);
    }
    dt_kid_add(pid);
    return pid;
}

/* Memory shared with children made after this call. */
static inline void *dt_shared(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static inline int dt_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static inline void dt_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, dt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory on tmpfs (/dev/shm, else /tmp) into buf. */
static inline int dt_mkdtemp(char *buf, size_t n, const char *tag)
{
    const char *bases[] = {"/dev/shm", "/tmp"};
    for (size_t i = 0; i < 2; i++) {
        struct stat sb;
        if (stat(bases[i], &sb) < 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (snprintf(buf, n, "%s/pcdt-%s-XXXXXX", bases[i], tag) >= (int)n)
            return -1;
        if (mkdtemp(buf))
            return 0;
    }
    return -1;
}

/* Read a whole (small) file into buf, NUL-terminated.  Bytes read, or -1. */
static inline ssize_t dt_read_file(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < n) {
        ssize_t r = read(fd, buf + got, n - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    return (ssize_t)got;
}

static inline int dt_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Copy a file to stderr with a heading (what a failed test shows). */
static inline void dt_cat(const char *title, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char head[512];
    int hn = snprintf(head, sizeof head, "---- %s (%s) ----\n", title, path);
    if (write(STDERR_FILENO, head, (size_t)hn) < 0)
        goto out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(STDERR_FILENO, buf, (size_t)n) < 0)
            break;
    if (write(STDERR_FILENO, "---- end ----\n", 14) < 0)
        goto out;
out:
    close(fd);
}

/* ------------------------------------------------------------------------ */
/* The daemon                                                                */

#define DT_MAX_ARGS 40

struct dt_daemon {
    char dir[128];
    char log[192]; /* --log-file */
    char out[192]; /* its stdout and stderr */
    pid_t pid;     /* 0: not running */
    int nopt;      /* extra options, kept for restarts */
    char *opt[DT_MAX_ARGS];
    bool passed; /* set at the end of a test: no log dump at teardown */
    bool keep_dir;
};

/* The pycached to test: $top_builddir/pycached. */
static inline const char *dt_pycached(void)
{
    static char path[4096];
    const char *top = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/pycached", top && *top ? top : ".");
    return path;
}

static inline void dt_register(dt_daemon *d)
{
    for (int i = 0; i < DT_MAX_DAEMONS; i++)
        if (dt_daemons[i] == d)
            return;
    for (int i = 0; i < DT_MAX_DAEMONS; i++)
        if (!dt_daemons[i]) {
            dt_daemons[i] = d;
            return;
        }
}

static inline void dt_unregister(dt_daemon *d)
{
    for (int i = 0; i < DT_MAX_DAEMONS; i++)
        if (dt_daemons[i] == d)
            dt_daemons[i] = NULL;
}

/* Print the daemon's log and output (on failure). */
static inline void dt_dump(const dt_daemon *d)
{
    dt_cat("pycached log", d->log);
    dt_cat("pycached stdout/stderr", d->out);
}

/* Make the store directory; opts (NULL-terminated, may be NULL) are extra
 * pycached options used by every start.  0 or -1. */
static inline int dt_prepare(dt_daemon *d, const char *tag, const char *const *opts)
{
    memset(d, 0, sizeof *d);
    if (dt_mkdtemp(d->dir, sizeof d->dir, tag))
        return -1;
    snprintf(d->log, sizeof d->log, "%s/daemon.log", d->dir);
    snprintf(d->out, sizeof d->out, "%s/daemon.out", d->dir);
    for (int i = 0; opts && opts[i] && d->nopt < DT_MAX_ARGS; i++)
        d->opt[d->nopt++] = strdup(opts[i]);
    dt_register(d);
    return 0;
}

/* Fork and exec pycached --foreground -d DIR --log-file LOG --sync none
 * [options].  Does not wait for it. */
static inline pid_t dt_spawn(dt_daemon *d)
{
    char *argv[DT_MAX_ARGS + 12];
    int n = 0;
    argv[n++] = (char *)dt_pycached();
    argv[n++] = "--foreground";
    argv[n++] = "-d";
    argv[n++] = d->dir;
    argv[n++] = "--log-file";
    argv[n++] = d->log;
    argv[n++] = "--sync"; /* the store is on tmpfs; a test about sync overrides it */
    argv[n++] = "none";
    for (int i = 0; i < d->nopt; i++)
        argv[n++] = d->opt[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        if (getppid() != parent)
            _exit(127);
        int fd = open(d->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGALRM, SIG_DFL);
        alarm(0);
        execv(argv[0], argv);
        dprintf(2, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    d->pid = pid;
    return pid;
}

/* Is the daemon's socket answering?  (A ring-only probe: maps nothing.) */
static inline int dt_probe(const char *dir)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_RING_ONLY;
    pc_client *c = NULL;
    int rc = pc_connect(dir, &o, &c);
    pc_close(c);
    return rc;
}

/* Wait (at most timeout_ms) until a client can connect.  0, or -1 when the
 * daemon exited or never answered (it is then killed and its log shown). */
static inline int dt_wait_ready(dt_daemon *d, int timeout_ms)
{
    uint64_t until = dt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            char b[64];
            fprintf(stderr, "pycached exited while starting: %s\n", dt_status_str(st, b, sizeof b));
            d->pid = 0;
            dt_dump(d);
            return -1;
        }
        if (dt_probe(d->dir) == 0)
            return 0;
        if (dt_now_ms() >= until) {
            fprintf(stderr, "pycached did not serve %s within %d ms\n", d->dir, timeout_ms);
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            d->pid = 0;
            dt_dump(d);
            return -1;
        }
        dt_sleep_us(2000);
    }
}

/* Start the daemon and wait until it serves.  0 or -1. */
static inline int dt_start(dt_daemon *d)
{
    if (dt_spawn(d) < 0)
        return -1;
    return dt_wait_ready(d, 10000);
}

/* SIGTERM, then wait (at most timeout_ms).  Returns its wait status (-1:
 * it did not stop and was killed). */
static inline int dt_stop_sig(dt_daemon *d, int sig, int timeout_ms)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    uint64_t until = dt_now_ms() + (uint64_t)timeout_ms;
    int st = -1;
    for (;;) {
        pid_t w = waitpid(d->pid, &st, WNOHANG);
        if (w == d->pid)
            break;
        if (dt_now_ms() >= until) {
            fprintf(stderr, "pycached (pid %d) did not stop within %d ms: killed\n", (int)d->pid,
                    timeout_ms);
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            st = -1;
            break;
        }
        dt_sleep_us(1000);
    }
    d->pid = 0;
    return st;
}

static inline int dt_stop(dt_daemon *d)
{
    return dt_stop_sig(d, SIGTERM, 15000);
}

/* Assert that the daemon stops on SIGTERM with exit status 0. */
#define DT_STOP_OK(d)                                                                             \
    do {                                                                                          \
        int stop_st_ = dt_stop(d);                                                                \
        char stop_b_[64];                                                                         \
        if (!dt_exited0(stop_st_)) {                                                              \
            print_error("%s:%d: pycached stopped with %s, expected exit 0\n", __FILE__, __LINE__, \
                        dt_status_str(stop_st_, stop_b_, sizeof stop_b_));                        \
            _fail(__FILE__, __LINE__);                                                            \
        }                                                                                         \
    } while (0)

/* kill -9 and reap. */
static inline void dt_kill9(dt_daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
}

/* Stop (SIGTERM, exit status checked by the caller's assert) and start again. */
static inline int dt_restart(dt_daemon *d)
{
    int st = dt_stop(d);
    if (!dt_exited0(st))
        return -1;
    return dt_start(d);
}

/* Teardown: stop whatever runs, show the log unless the test passed, and
 * remove the directory. */
static inline void dt_finish(dt_daemon *d)
{
    dt_kids_kill();
    if (d->pid > 0 && !dt_exited0(dt_stop(d)))
        d->passed = false;
    if (!d->passed)
        dt_dump(d);
    if (d->keep_dir || getenv("DT_KEEP")) /* DT_KEEP=1: keep it to look at */
        fprintf(stderr, "(kept %s)\n", d->dir);
    else
        dt_rmtree(d->dir);
    for (int i = 0; i < d->nopt; i++)
        free(d->opt[i]);
    d->nopt = 0;
    dt_unregister(d);
}

/* Does the log contain needle?  Waits up to timeout_ms for it. */
static inline bool dt_log_has(const dt_daemon *d, const char *needle, int timeout_ms)
{
    static char buf[1 << 20];
    uint64_t until = dt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (dt_read_file(d->log, buf, sizeof buf) >= 0 && strstr(buf, needle))
            return true;
        if (dt_now_ms() >= until)
            return false;
        dt_sleep_us(2000);
    }
}

/* Connect a client: flags PC_OPT_*.  NULL on failure (with a message). */
static inline pc_client *dt_connect(const dt_daemon *d, unsigned flags)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = flags;
    pc_client *c = NULL;
    int rc = pc_connect(d->dir, &o, &c);
    if (rc) {
        fprintf(stderr, "pc_connect(%s): %s\n", d->dir, pc_err_name(rc));
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------------------ */
/* Looking at the daemon from outside                                        */

/* Open descriptors of process pid, or -1. */
static inline int dt_count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

/* Lines of /proc/PID/maps that contain needle, or -1. */
static inline int dt_count_maps(pid_t pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/*
 * Run a command with a deadline; its stdout and stderr go to out and err
 * (NUL-terminated, may be NULL).  Returns its wait status, or -1 (timed out
 * and killed, or could not start).
 */
static inline int dt_run(char *const argv[], char *out, size_t outn, char *err, size_t errn,
                         int timeout_ms)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0 || dup2(in, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(127);
        signal(SIGALRM, SIG_DFL);
        alarm(0);
        execv(argv[0], argv);
        dprintf(2, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    struct {
        int fd;
        char *buf;
        size_t n, got;
    } s[2] = {{po[0], out, outn, 0}, {pe[0], err, errn, 0}};
    uint64_t until = dt_now_ms() + (uint64_t)timeout_ms;
    int open_pipes = 2;
    bool late = false;
    while (open_pipes > 0) {
        uint64_t now = dt_now_ms();
        if (now >= until) {
            late = true;
            break;
        }
        struct pollfd pf[2];
        int np = 0;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0)
                pf[np++] = (struct pollfd){.fd = s[i].fd, .events = POLLIN};
        if (poll(pf, (nfds_t)np, (int)(until - now)) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < np; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            for (int i = 0; i < 2; i++) {
                if (s[i].fd != pf[k].fd)
                    continue;
                char tmp[4096];
                ssize_t r = read(s[i].fd, tmp, sizeof tmp);
                if (r <= 0) {
                    close(s[i].fd);
                    s[i].fd = -1;
                    open_pipes--;
                    continue;
                }
                if (s[i].buf && s[i].n > 1) {
                    size_t room = s[i].n - 1 - s[i].got;
                    size_t c = (size_t)r < room ? (size_t)r : room;
                    memcpy(s[i].buf + s[i].got, tmp, c);
                    s[i].got += c;
                }
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (s[i].fd >= 0)
            close(s[i].fd);
        if (s[i].buf && s[i].n)
            s[i].buf[s[i].got] = 0;
    }
    if (late) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    int st = dt_wait_pid(pid, (int)(until > dt_now_ms() ? until - dt_now_ms() : 0) + 1000);
    return st;
}

/*
 * The pids that hold a slot in shard 0's LMDB reader table, as `mdb_stat -r`
 * lists them (it only reads the table; it does not clear stale slots).
 * Fills pids[0..*n); returns 0, or -1 when mdb_stat could not be run.
 */
static inline int dt_reader_pids(const char *dir, pid_t *pids, size_t max, size_t *n)
{
    char path[256], out[16384], err[1024];
    snprintf(path, sizeof path, "%s/data-00.mdb", dir);
    char *argv[] = {"mdb_stat", "-n", "-r", path, NULL};
    const char *cands[] = {"/usr/bin/mdb_stat", "/usr/local/bin/mdb_stat", "/bin/mdb_stat"};
    int st = -1;
    for (size_t i = 0; i < 3 && st < 0; i++) {
        if (access(cands[i], X_OK) == 0) {
            argv[0] = (char *)cands[i];
            st = dt_run(argv, out, sizeof out, err, sizeof err, 10000);
        }
    }
    if (st < 0 || !WIFEXITED(st) || !strstr(out, "Reader Table"))
        return -1;
    *n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *end;
        long pid = strtol(line, &end, 10);
        if (end != line && pid > 0 && *n < max)
            pids[(*n)++] = (pid_t)pid;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The backstop                                                              */

static inline void dt_on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "\n*** test timed out (alarm): killing its daemons and children\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(1);
    if (getpid() != dt_main_pid)
        _exit(1);
    for (int i = 0; i < DT_MAX_KIDS; i++)
        if (dt_kids[i] > 0)
            kill(dt_kids[i], SIGKILL);
    for (int i = 0; i < DT_MAX_DAEMONS; i++)
        if (dt_daemons[i] && dt_daemons[i]->pid > 0) {
            kill(dt_daemons[i]->pid, SIGKILL);
            dt_cat("pycached log", dt_daemons[i]->log);
            dt_cat("pycached stdout/stderr", dt_daemons[i]->out);
        }
    _exit(1);
}

/* Call first in main: the backstop alarm for the whole program. */
static inline void dt_init(unsigned timeout_s)
{
    dt_main_pid = getpid();
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, dt_on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(timeout_s);
}

#endif
