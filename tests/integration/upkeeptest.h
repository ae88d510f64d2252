/*
 * upkeeptest.h - what the upkeep tests (test_upkeep_*.c: the TTL worker,
 * eviction, statistics, pcstat) share: a real pycached started in a fresh
 * directory under /dev/shm and stopped with SIGTERM, bounded waits, waiting
 * for the next publication of the stats page, running a tool and capturing
 * its output, and deterministic key names and values.
 *
 * UT_FILTER=GLOB in the environment runs only the tests whose names match.
 *
 * Every wait has a deadline; ut_init() arms alarm() as a backstop that kills
 * the daemons this process started, removes their directories and exits 1,
 * so a test never hangs and never leaves a daemon behind (daemons also die
 * with the test process: PR_SET_PDEATHSIG).
 *
 * Header-only, everything static inline.
 */
#ifndef PCUT_UPKEEPTEST_H
#define PCUT_UPKEEPTEST_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pycache.h"

#define K(s) (s), strlen(s)

/* ------------------------------------------------------------------------ */
/* Time                                                                      */

static inline uint64_t ut_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The clock the store's TTLs use (ms since the epoch). */
static inline int64_t ut_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void ut_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------------ */
/* Return codes                                                              */

static inline void ut_check_rc(const char *file, int line, const char *call, int got, int want)
{
    if (got == want)
        return;
    print_error("%s:%d: %s\n    returned %s (%d: %s), expected %s (%d)\n", file, line, call,
                pc_err_name(got), got, pc_strerror(got), pc_err_name(want), want);
    _fail(file, line);
}

#define RC(want, call) ut_check_rc(__FILE__, __LINE__, #call, (call), (want))
#define OK(call) RC(0, call)

/* Assert a == b for unsigned 64-bit figures, naming both. */
#define EQ(a, b)                                                                            \
    do {                                                                                    \
        uint64_t eq_a_ = (uint64_t)(a), eq_b_ = (uint64_t)(b);                              \
        if (eq_a_ != eq_b_) {                                                               \
            print_error("%s:%d: %s == %" PRIu64 ", expected %s == %" PRIu64 "\n", __FILE__, \
                        __LINE__, #a, eq_a_, #b, eq_b_);                                    \
            _fail(__FILE__, __LINE__);                                                      \
        }                                                                                   \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Deterministic keys and values                                             */

static inline uint64_t ut_mix(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Key i of a family: 16 hex digits spread evenly over the key space (so the
 * daemon's random sampling sees every key alike), then "." and the family. */
static inline const char *ut_key(char *buf, size_t n, const char *family, uint64_t i)
{
    snprintf(buf, n, "%016" PRIx64 ".%s", ut_mix(i ^ ut_mix((uint64_t)family[0] << 8 | family[1])),
             family);
    return buf;
}

/* Fill p[0..n) with bytes that depend only on seed. */
static inline void ut_fill(void *p, size_t n, uint64_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = ut_mix(seed * UINT64_C(1000003) + i);
        memcpy(b + i, &v, n - i < 8 ? n - i : 8);
    }
}

/* ------------------------------------------------------------------------ */
/* Daemons                                                                   */

#define UT_MAX_DAEMONS 4
#define UT_MAX_ARGS 32

typedef struct ut_daemon {
    char dir[128];
    char log[160];
    pid_t pid;
} ut_daemon;

static ut_daemon *ut_live[UT_MAX_DAEMONS];

static inline int ut_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void ut_rmdir(const char *dir)
{
    if (dir[0])
        nftw(dir, ut_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The backstop: a test that runs out of time kills its daemons and fails. */
static inline void ut_on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "upkeep test: timed out; killing the daemons\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    signal(SIGALRM, SIG_DFL);
    alarm(5); /* if the cleanup below hangs, die anyway */
    for (int i = 0; i < UT_MAX_DAEMONS; i++)
        if (ut_live[i] && ut_live[i]->pid > 0)
            kill(ut_live[i]->pid, SIGKILL);
    for (int i = 0; i < UT_MAX_DAEMONS; i++)
        if (ut_live[i]) {
            waitpid(ut_live[i]->pid, NULL, 0);
            ut_rmdir(ut_live[i]->dir);
        }
    _exit(1);
}

/* Call first in main: the whole program gets seconds to run. */
static inline void ut_init(unsigned seconds)
{
    signal(SIGALRM, ut_on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(seconds);
    unsetenv("PYCACHE_DIR");
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* UT_FILTER=test_name (a glob) runs only the matching tests. */
    const char *only = getenv("UT_FILTER");
    if (only && *only)
        cmocka_set_test_filter(only);
}

static inline const char *ut_builddir(void)
{
    const char *b = getenv("top_builddir");
    return b && *b ? b : ".";
}

static inline void ut_print_log(const ut_daemon *d)
{
    FILE *f = fopen(d->log, "r");
    char line[512];
    if (!f)
        return;
    fprintf(stderr, "---- %s ----\n", d->log);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fprintf(stderr, "----\n");
    fclose(f);
}

/*
 * Start pycached in a fresh directory under /dev/shm: --foreground, its log
 * in DIR/log, --sync none, --max-memory 32M, --max-value 1M, then extra
 * (NULL-terminated; a later option wins).  Returns 0 once a client can
 * connect, -1 (after printing the log) if it did not start within 10 s.
 */
static inline int ut_start(ut_daemon *d, const char *const *extra)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/dev/shm/pcupkeep.XXXXXX");
    if (!mkdtemp(d->dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        d->dir[0] = 0;
        return -1;
    }
    snprintf(d->log, sizeof d->log, "%s/log", d->dir);
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/pycached", ut_builddir());
    const char *argv[UT_MAX_ARGS + 16] = {
        exe,      "--foreground", "-d",           d->dir, "--log-file",  d->log,
        "--sync", "none",         "--max-memory", "32M",  "--max-value", "1M"};
    int argc = 12;
    for (int i = 0; extra && extra[i] && i < UT_MAX_ARGS; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        execv(exe, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    d->pid = pid;
    for (int i = 0; i < UT_MAX_DAEMONS; i++)
        if (!ut_live[i]) {
            ut_live[i] = d;
            break;
        }
    uint64_t until = ut_mono_ms() + 10000;
    while (ut_mono_ms() < until) {
        pc_options o;
        pc_client *c;
        pc_options_init(&o);
        o.flags = PC_OPT_RING_ONLY;
        if (pc_connect(d->dir, &o, &c) == 0) {
            pc_close(c);
            return 0;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "pycached exited during start (status 0x%x)\n", (unsigned)st);
            d->pid = 0;
            ut_print_log(d);
            return -1;
        }
        ut_sleep_ms(10);
    }
    fprintf(stderr, "pycached did not serve %s within 10 s\n", d->dir);
    ut_print_log(d);
    return -1;
}

/*
 * Stop the daemon with SIGTERM and wait (10 s at most, then SIGKILL), then
 * remove its directory.  Returns 0 if it exited 0, else -1 after printing
 * its log.
 */
static inline int ut_stop(ut_daemon *d)
{
    int rc = 0;
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        uint64_t until = ut_mono_ms() + 10000;
        int st = 0;
        pid_t w;
        while ((w = waitpid(d->pid, &st, WNOHANG)) == 0 && ut_mono_ms() < until)
            ut_sleep_ms(5);
        if (w != d->pid) {
            fprintf(stderr, "pycached (pid %d) did not stop within 10 s: killed\n", (int)d->pid);
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            rc = -1;
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "pycached (pid %d) ended with status 0x%x\n", (int)d->pid,
                    (unsigned)st);
            rc = -1;
        }
        if (rc)
            ut_print_log(d);
    }
    for (int i = 0; i < UT_MAX_DAEMONS; i++)
        if (ut_live[i] == d)
            ut_live[i] = NULL;
    d->pid = 0;
    ut_rmdir(d->dir);
    d->dir[0] = 0;
    return rc;
}

/* Connect to the daemon: flags 0 (trusted, zero-copy) or PC_OPT_RING_ONLY. */
static inline int ut_connect(const ut_daemon *d, unsigned flags, pc_client **c)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = flags;
    return pc_connect(d->dir, &o, c);
}

/*
 * Wait for the next publication of the stats page (the daemon republishes
 * every 100 ms) and copy it to *st.  Everything this process was answered
 * before the call is in it.  Returns 0, or -1 after 5 s without one.
 */
static inline int ut_next_stats(pc_client *c, pc_stats *st)
{
    pc_stats now;
    if (pc_stats_get(c, &now))
        return -1;
    uint64_t until = ut_mono_ms() + 5000;
    do {
        ut_sleep_ms(5);
        if (pc_stats_get(c, st))
            return -1;
        if (st->taken_ms > now.taken_ms)
            return 0;
    } while (ut_mono_ms() < until);
    fprintf(stderr, "the stats page was not republished within 5 s\n");
    return -1;
}

/* The index of an op in pc_stats.ops, by name; fails the test if unknown. */
static inline unsigned ut_op(const char *name)
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

/* ------------------------------------------------------------------------ */
/* Running a tool                                                            */

typedef struct ut_run {
    int status; /* wait status, or -1 when it timed out (it was killed) */
    char *out;  /* stdout, NUL-terminated (free it) */
    size_t len;
    char *err; /* stderr, NUL-terminated (free it) */
    size_t elen;
} ut_run;

static inline void ut_run_free(ut_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Append what fd has to *buf; false at EOF. */
static inline bool ut_slurp(int fd, char **buf, size_t *len, size_t *cap)
{
    if (*cap - *len < 4096) {
        size_t ncap = *cap ? *cap * 2 : 8192;
        char *n = realloc(*buf, ncap);
        if (!n)
            return false;
        *buf = n;
        *cap = ncap;
    }
    ssize_t got = read(fd, *buf + *len, *cap - *len - 1);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    *len += (size_t)got;
    (*buf)[*len] = 0;
    return true;
}

/* Run argv (argv[0] a path) with stdout and stderr captured, at most
 * timeout_ms.  Returns 0 when it ran (r->status says how it ended). */
static inline int ut_run_tool(char *const *argv, int timeout_ms, ut_run *r)
{
    int po[2], pe[2];
    memset(r, 0, sizeof *r);
    if (pipe(po) || pipe(pe))
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        close(po[0]);
        close(pe[0]);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t ocap = 0, ecap = 0;
    bool o_open = true, e_open = true;
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    uint64_t until = ut_mono_ms() + (uint64_t)timeout_ms;
    while ((o_open || e_open) && ut_mono_ms() < until) {
        struct pollfd p[2] = {{o_open ? po[0] : -1, POLLIN, 0}, {e_open ? pe[0] : -1, POLLIN, 0}};
        if (poll(p, 2, 50) <= 0)
            continue;
        if (o_open && (p[0].revents & (POLLIN | POLLHUP)))
            o_open = ut_slurp(po[0], &r->out, &r->len, &ocap);
        if (e_open && (p[1].revents & (POLLIN | POLLHUP)))
            e_open = ut_slurp(pe[0], &r->err, &r->elen, &ecap);
    }
    close(po[0]);
    close(pe[0]);
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, WNOHANG)) == 0 && ut_mono_ms() < until)
        ut_sleep_ms(2);
    if (w != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        r->status = -1;
    } else {
        r->status = st;
    }
    return 0;
}

#endif /* PCUT_UPKEEPTEST_H */
