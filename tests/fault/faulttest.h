/*
 * faulttest.h - what the reliability battery (tests/fault/test_fault_*.c)
 * shares: a seeded random generator, knobs from the environment (short form
 * for `make check`, long form for run-long.sh), a pycached started in the
 * foreground under a parent-death signal, counting the daemon's descriptors
 * and channel mappings, sanitizer checks of its stderr, and a raw handshake
 * (shm/hello.h) for tests that play a client the library would never be.
 *
 * Every wait here has a timeout; every test arms a watchdog (ft_watchdog)
 * that kills the daemons it started and fails the test if it hangs.
 * Everything is static so each test uses what it needs.
 */
#ifndef FAULTTEST_H
#define FAULTTEST_H

#include <dirent.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../shm/channel.h"
#include "../../shm/hello.h"
#include "pycache.h"

/* The library's hidden test hook (libclient/admin.c). */
int pc__test_fail_alloc(pc_client *c, uint64_t n);

#define FT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- messages ---- */

static inline void ft_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void ft_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static inline void ft_check_rc(const char *file, int line, const char *call, int got, int want)
{
    if (got == want)
        return;
    print_error("%s:%d: %s\n    returned %s (%d: %s), expected %s (%d)\n", file, line, call,
                pc_err_name(got), got, pc_strerror(got), pc_err_name(want), want);
    _fail(file, line);
}
#define FT_RC(want, call) ft_check_rc(__FILE__, __LINE__, #call, (call), (want))
#define FT_OK(call) FT_RC(0, call)

/* ---- time and randomness ---- */

static inline uint64_t ft_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void ft_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* splitmix64: small, seedable, good enough to choose moments and bytes. */
typedef struct ft_rng {
    uint64_t s;
} ft_rng;

static inline uint64_t ft_rand(ft_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline uint64_t ft_range(ft_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + ft_rand(r) % (hi - lo + 1);
}

/* A knob from the environment, or def. */
static inline long ft_env_long(const char *name, long def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return *end ? def : v;
}

/* The test's seed: FAULT_SEED, or the clock; printed so a run can be repeated. */
static inline uint64_t ft_seed(const char *test)
{
    uint64_t seed = (uint64_t)ft_env_long("FAULT_SEED", 0);
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    }
    ft_note("%s: seed %" PRIu64 " (repeat with FAULT_SEED=%" PRIu64 ")", test, seed, seed);
    return seed;
}

/* ---- paths and files ---- */

static inline const char *ft_builddir(void)
{
    const char *b = getenv("top_builddir");
    return b && *b ? b : ".";
}

/* path of a program in the build tree ("pycached", "pccli", "pcstat"). */
static inline void ft_prog(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", ft_builddir(), name);
}

static inline int ft_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

static inline void ft_rm_rf(const char *dir)
{
    nftw(dir, ft_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under base ("/dev/shm" or "/tmp"); the path is kept in out. */
static inline void ft_mkdtemp(char *out, size_t n, const char *base, const char *tag)
{
    snprintf(out, n, "%s/pcfault-%s-XXXXXX", base, tag);
    if (!mkdtemp(out)) {
        print_error("mkdtemp %s: %s\n", out, strerror(errno));
        fail();
    }
}

/* Whole file into a NUL-terminated malloc'ed buffer (NULL if unreadable). */
static inline char *ft_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    if (b)
        b[n] = 0;
    if (len)
        *len = n;
    return b;
}

/* How often needle occurs in the file (0 if unreadable). */
static inline unsigned ft_file_count(const char *path, const char *needle)
{
    char *b = ft_slurp(path, NULL);
    unsigned k = 0;
    for (const char *p = b; p && (p = strstr(p, needle)); p++)
        k++;
    free(b);
    return k;
}

/* A sanitizer report in the file?  Prints the first line found. */
static inline bool ft_sanitizer_report(const char *path)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "runtime error:", "WARNING: ThreadSanitizer",
                                        "ERROR: ThreadSanitizer"};
    char *b = ft_slurp(path, NULL);
    bool found = false;
    for (size_t i = 0; b && i < FT_ARRAY_LEN(marks) && !found; i++) {
        const char *p = strstr(b, marks[i]);
        if (p) {
            const char *e = strchr(p, '\n');
            ft_note("sanitizer report in %s: %.*s", path, e ? (int)(e - p) : 200, p);
            found = true;
        }
    }
    free(b);
    return found;
}

/* Run a shell command quietly; its exit status (-1 if it did not run). */
static inline int ft_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int ft_system(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* ---- the watchdog ---- */

#define FT_MAX_KILL 64
static pid_t ft_kill_on_timeout[FT_MAX_KILL];

static inline void ft_track(pid_t pid)
{
    for (int i = 0; i < FT_MAX_KILL; i++)
        if (!ft_kill_on_timeout[i]) {
            ft_kill_on_timeout[i] = pid;
            return;
        }
}

static inline void ft_untrack(pid_t pid)
{
    for (int i = 0; i < FT_MAX_KILL; i++)
        if (ft_kill_on_timeout[i] == pid)
            ft_kill_on_timeout[i] = 0;
}

static void ft_watchdog_fire(int sig)
{
    (void)sig;
    static const char msg[] = "# watchdog: the test took too long; killing what it started\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing more to do */
    }
    for (int i = 0; i < FT_MAX_KILL; i++)
        if (ft_kill_on_timeout[i] > 0)
            kill(ft_kill_on_timeout[i], SIGKILL);
    _exit(99);
}

/* Fail (exit 99, a hard error for automake) if the test is still running
 * after seconds; kills every tracked process first. */
static inline void ft_watchdog(unsigned seconds)
{
    signal(SIGALRM, ft_watchdog_fire);
    alarm(seconds);
}

/* ---- crashes in child processes ---- */

static const char *ft_crash_who = "?";

static void ft_crash(int sig)
{
    char msg[128];
    int n = snprintf(msg, sizeof msg, "# child %s (pid %d) got signal %d; its stack:\n",
                     ft_crash_who, (int)getpid(), sig);
    if (write(2, msg, (size_t)n) < 0) {
        /* nothing more to do */
    }
    void *frames[32];
    backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* In a forked child: name it, and print its stack if it crashes (instead of
 * cmocka's handler, which would report a failure of the parent's test). */
static inline void ft_child(const char *who)
{
    ft_crash_who = who;
    void *warm[2];
    backtrace(warm, 2); /* load what backtrace needs now, not in the handler */
    signal(SIGSEGV, ft_crash);
    signal(SIGBUS, ft_crash);
    signal(SIGFPE, ft_crash);
    signal(SIGILL, ft_crash);
    signal(SIGABRT, ft_crash);
}

/* ---- pycached ---- */

/* Ends ft_daemon_init's option list (a typed null pointer, as varargs need). */
#define FT_END ((const char *)0)

typedef struct ft_daemon {
    pid_t pid;
    char dir[256];
    char log[300];
    char err[300]; /* its stderr: sanitizer reports land here */
    char *argv[64];
    int argc;
} ft_daemon;

/*
 * Prepare a daemon on dir (its log and stderr beside dir, as DIR.log and
 * DIR.err) with extra options (ended by FT_END).  --foreground, -d, --log-file
 * are added.  Start it with ft_daemon_start.
 */
static inline void ft_daemon_init(ft_daemon *d, const char *dir, ...)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->log, sizeof d->log, "%s.log", dir);
    snprintf(d->err, sizeof d->err, "%s.err", dir);
    static char prog[512];
    ft_prog(prog, sizeof prog, "pycached");
    d->argv[d->argc++] = prog;
    d->argv[d->argc++] = "--foreground";
    d->argv[d->argc++] = "-d";
    d->argv[d->argc++] = d->dir;
    d->argv[d->argc++] = "--log-file";
    d->argv[d->argc++] = d->log;
    va_list ap;
    va_start(ap, dir);
    const char *a;
    while ((a = va_arg(ap, const char *)) && d->argc < 62)
        d->argv[d->argc++] = (char *)a;
    va_end(ap);
    d->argv[d->argc] = NULL;
}

/* Add one more option before starting. */
static inline void ft_daemon_arg(ft_daemon *d, const char *a)
{
    if (d->argc < 62) {
        d->argv[d->argc++] = (char *)a;
        d->argv[d->argc] = NULL;
    }
}

/* A client on the daemon's store; 0 or the error. */
/* n zeroed bytes shared with the processes this one forks afterwards
 * (MAP_SHARED | MAP_ANONYMOUS); fails the test if it cannot map them. */
static inline void *ft_shared_zero(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 0, n);
    return p;
}

static inline int ft_connect(const char *dir, unsigned flags, pc_client **c)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = flags;
    return pc_connect(dir, &o, c);
}

/*
 * Start the daemon (env: extra "NAME=VALUE" strings or NULL) and wait, at
 * most timeout_ms, until a client connects.  Returns 0, or -1 with a note
 * (it exited, or never answered).
 */
static inline int ft_daemon_start_env(ft_daemon *d, const char *const *env, unsigned timeout_ms)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(d->err, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        execv(d->argv[0], d->argv);
        _exit(127);
    }
    d->pid = pid;
    ft_track(pid);
    uint64_t until = ft_now_ms() + timeout_ms;
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            ft_note("pycached exited before serving (status 0x%x); see %s and %s", st, d->err,
                    d->log);
            ft_untrack(pid);
            d->pid = 0;
            return -1;
        }
        pc_client *c;
        if (ft_connect(d->dir, 0, &c) == 0) {
            pc_close(c);
            return 0;
        }
        if (ft_now_ms() > until) {
            ft_note("pycached did not answer within %u ms", timeout_ms);
            return -1;
        }
        ft_sleep_ms(5);
    }
}

static inline int ft_daemon_start(ft_daemon *d)
{
    return ft_daemon_start_env(d, NULL, 20000);
}

/* Wait for the daemon's end, at most timeout_ms; its wait status or -1. */
static inline int ft_daemon_wait(ft_daemon *d, unsigned timeout_ms)
{
    uint64_t until = ft_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t w = waitpid(d->pid, &st, WNOHANG);
        if (w == d->pid || (w < 0 && errno == ECHILD)) {
            ft_untrack(d->pid);
            d->pid = 0;
            return w == d->pid || w > 0 ? st : 0;
        }
        if (ft_now_ms() > until)
            return -1;
        ft_sleep_ms(2);
    }
}

/* SIGKILL and reap. */
static inline void ft_daemon_kill9(ft_daemon *d)
{
    if (d->pid <= 0)
        return;
    pid_t pid = d->pid;
    kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    ft_untrack(pid);
    d->pid = 0;
}

/* SIGTERM, wait (SIGKILL after timeout_ms); the wait status, -1 if it had to be killed. */
static inline int ft_daemon_stop(ft_daemon *d, unsigned timeout_ms)
{
    if (d->pid <= 0)
        return 0;
    pid_t pid = d->pid;
    kill(pid, SIGTERM);
    uint64_t until = ft_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            ft_untrack(pid);
            d->pid = 0;
            return st;
        }
        if (ft_now_ms() > until) {
            ft_note("pycached (pid %d) ignored SIGTERM for %u ms: SIGKILL", (int)pid, timeout_ms);
            ft_daemon_kill9(d);
            return -1;
        }
        ft_sleep_ms(5);
    }
}

/* Is the daemon still running (not exited)? */
static inline bool ft_daemon_alive(ft_daemon *d)
{
    int st;
    return d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == 0;
}

/* Where a process is: its state, wait channel and system call, from /proc
 * (for a hang: sleeping in epoll_wait, or running?). */
static inline void ft_where(pid_t pid, const char *who)
{
    char p[64], st[512] = "", wchan[64] = "", sc[128] = "";
    FILE *f;
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    if ((f = fopen(p, "r"))) {
        if (!fgets(st, sizeof st, f))
            st[0] = 0;
        fclose(f);
    }
    snprintf(p, sizeof p, "/proc/%d/wchan", (int)pid);
    if ((f = fopen(p, "r"))) {
        if (!fgets(wchan, sizeof wchan, f))
            wchan[0] = 0;
        fclose(f);
    }
    snprintf(p, sizeof p, "/proc/%d/syscall", (int)pid);
    if ((f = fopen(p, "r"))) {
        if (!fgets(sc, sizeof sc, f))
            sc[0] = 0;
        fclose(f);
    }
    const char *state = strrchr(st, ')');
    sc[strcspn(sc, "\n")] = 0;
    ft_note("%s (pid %d): state %.1s, wchan %s, syscall %s", who, (int)pid,
            state && state[1] ? state + 2 : "?", wchan, sc);
    /* Its stacks, when gdb is there (twice, a second apart: stuck or moving?). */
    for (int i = 0; i < 2; i++) {
        ft_system("command -v gdb >/dev/null && gdb -p %d -batch -ex 'thread apply all bt' "
                  "2>/dev/null | grep -E '^(#|Thread)' | head -40 | sed 's/^/#   /' >&2",
                  (int)pid);
        ft_sleep_ms(1000);
    }
}

/* ---- counting the daemon's resources ---- */

static inline int ft_count_fds(pid_t pid)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(p);
    if (!dir)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

/* Lines of /proc/PID/maps naming what (e.g. "memfd:pycache-channel"). */
static inline int ft_count_maps(pid_t pid, const char *what)
{
    char p[64], line[1024];
    snprintf(p, sizeof p, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

/* Reader slots in use in shard 0's lock file, by mdb_stat -r (which, unlike -rr, clears nothing)
 * (-1 on failure). */
static inline int ft_mdb_readers(const char *dir)
{
    char cmd[600], line[256];
    snprintf(cmd, sizeof cmd, "mdb_stat -n -r '%s/data-00.mdb' 2>&1", dir);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    int n = -1;
    bool table = false;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "pid") && strstr(line, "txnid")) {
            table = true;
            n = 0;
            continue;
        }
        if (strstr(line, "(no active readers)"))
            n = 0;
        int pid;
        if (table && sscanf(line, " %d", &pid) == 1)
            n++;
    }
    pclose(f);
    return n;
}

/* Bytes of shard 0's map in use up to its high-water mark ("Number of pages
 * used" of mdb_stat -e: what the map has grown to, free pages included). */
static inline uint64_t ft_mdb_map_used(const char *dir)
{
    char cmd[600], line[256];
    snprintf(cmd, sizeof cmd, "mdb_stat -n -e '%s/data-00.mdb' 2>&1", dir);
    FILE *f = popen(cmd, "r");
    if (!f)
        return 0;
    unsigned long long pages = 0, psize = 4096, v;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, " Number of pages used: %llu", &v) == 1)
            pages = v;
        else if (sscanf(line, " Page size: %llu", &v) == 1)
            psize = v;
    }
    pclose(f);
    return (uint64_t)(pages * psize);
}

/* Every database of every shard walked whole and its statistics read
 * (mdb_dump -a, mdb_stat -a): true when LMDB reports no error. */
static inline bool ft_mdb_walk(const char *dir, unsigned shards)
{
    for (unsigned s = 0; s < shards; s++) {
        if (ft_system("mdb_stat -n -a '%s/data-%02u.mdb' >/dev/null 2>&1", dir, s) != 0 ||
            ft_system("mdb_dump -n -a '%s/data-%02u.mdb' >/dev/null 2>&1", dir, s) != 0) {
            ft_note("LMDB reports an error walking %s/data-%02u.mdb", dir, s);
            return false;
        }
    }
    return true;
}

/* The daemon's statistics, fresher than after_ms (ms since the epoch by
 * taken_ms), waiting at most timeout_ms.  0 or an error. */
static inline int ft_stats_after(pc_client *c, uint64_t after_ms, unsigned timeout_ms, pc_stats *st)
{
    uint64_t until = ft_now_ms() + timeout_ms;
    for (;;) {
        int rc = pc_stats_get(c, st);
        if (rc)
            return rc;
        if (st->taken_ms > after_ms)
            return 0;
        if (ft_now_ms() > until)
            return PC_ETIMEDOUT;
        ft_sleep_ms(20);
    }
}

static inline uint64_t ft_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- a raw client: the handshake done by hand ---- */

typedef struct ft_raw {
    int sock;
    int chan_fd;  /* the channel memfd, kept open */
    int dpage_fd; /* the daemon page */
    void *map;    /* the channel, mapped read-write */
    size_t maplen;
    pcs_welcome w;
} ft_raw;

/* Where the last ft_raw_connect failed (for diagnostics): 1 connect, 2 send,
 * 3 recvmsg (errno in ft_raw_errno), 4 a short or foreign welcome, 5 fds, 6 mmap. */
static int ft_raw_step, ft_raw_errno;

/* Connect to DIR/pycached.sock, say hello, take the welcome and its fds, map
 * the channel.  0, or a PC_E* code (the welcome's status, PC_EPROTO ...). */
static inline int ft_raw_connect(const char *dir, uint32_t ring_size, uint32_t flags, ft_raw *r)
{
    memset(r, 0, sizeof *r);
    r->chan_fd = r->dpage_fd = -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t dl = strlen(dir);
    if (dl + sizeof PCS_SOCK_NAME + 1 > sizeof sa.sun_path)
        return PC_EINVAL;
    memcpy(sa.sun_path, dir, dl);
    sa.sun_path[dl] = '/';
    memcpy(sa.sun_path + dl + 1, PCS_SOCK_NAME, sizeof PCS_SOCK_NAME);
    r->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (r->sock < 0)
        return PC_EIO;
    ft_raw_step = 1;
    if (connect(r->sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(r->sock);
        r->sock = -1;
        return e == EACCES ? PC_EACCES : PC_ECONNREFUSED;
    }
    pcs_hello h = {.magic = PCS_HELLO_MAGIC,
                   .version = PCS_PROTO_VERSION,
                   .flags = flags,
                   .ring_size = ring_size};
    ft_raw_step = 2;
    /* A peer refused at accept may find its hello refused (EPIPE) or its
     * first read reset: the welcome that says why is queued all the same. */
    if (send(r->sock, &h, sizeof h, MSG_NOSIGNAL) != (ssize_t)sizeof h && errno != EPIPE &&
        errno != ECONNRESET) {
        ft_raw_errno = errno;
        goto proto;
    }
    ft_raw_step = 3;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {&r->w, sizeof r->w};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
    struct timeval tv = {10, 0};
    setsockopt(r->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recvmsg(r->sock, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == ECONNRESET) {
        mh.msg_controllen = sizeof cm.b;
        n = recvmsg(r->sock, &mh, MSG_CMSG_CLOEXEC);
    }
    ft_raw_errno = n < 0 ? errno : 0;
    int fds[4], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(fds + nfds, CMSG_DATA(c), sizeof(int) * (size_t)(k > 4 - nfds ? 4 - nfds : k));
        nfds += k > 4 - nfds ? 4 - nfds : k;
    }
    if (n == 0) {
        close(r->sock);
        r->sock = -1;
        return PC_EACCES;
    }
    if (n != (ssize_t)sizeof r->w || r->w.magic != PCS_WELCOME_MAGIC)
        goto proto_fds;
    ft_raw_step = 5;
    if (r->w.status) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        close(r->sock);
        r->sock = -1;
        return r->w.status;
    }
    if (nfds < 2)
        goto proto_fds;
    ft_raw_step = 6;
    for (int i = 2; i < nfds; i++)
        close(fds[i]);
    r->chan_fd = fds[0];
    r->dpage_fd = fds[1];
    r->maplen = pcs_chan_size(r->w.ring_size);
    r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, r->chan_fd, 0);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        goto proto_fds2;
    }
    return 0;
proto_fds:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    goto proto;
proto_fds2:
    close(r->chan_fd);
    close(r->dpage_fd);
    r->chan_fd = r->dpage_fd = -1;
proto:
    close(r->sock);
    r->sock = -1;
    return PC_EPROTO;
}

static inline void ft_raw_close(ft_raw *r)
{
    if (r->map)
        munmap(r->map, r->maplen);
    if (r->chan_fd >= 0)
        close(r->chan_fd);
    if (r->dpage_fd >= 0)
        close(r->dpage_fd);
    if (r->sock >= 0)
        close(r->sock);
    memset(r, 0, sizeof *r);
    r->sock = r->chan_fd = r->dpage_fd = -1;
}

/* Is the daemon's end of the raw client's socket closed? */
static inline bool ft_raw_closed(const ft_raw *r)
{
    char b;
    ssize_t n = recv(r->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

#endif /* FAULTTEST_H */
