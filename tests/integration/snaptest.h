/*
 * snaptest.h - what the snapshot tests (test_snapshot_*.c) share.
 *
 *  - a workspace directory on tmpfs per test, removed at teardown;
 *  - real pycached daemons ($top_builddir/pycached --foreground) started with
 *    fork/exec in a store directory of their own, waited for until a client
 *    connects, stopped with SIGTERM (exit status returned) or SIGKILL, or run
 *    to their exit when they are expected not to start;
 *  - the store dumped through the public API (every key, its type, its
 *    value or elements with their kinds and order, its TTL and absolute
 *    expiry) and two dumps compared, naming the first difference;
 *  - snapshot files: listed, checked and queried with the SQLite C API and
 *    with the sqlite3 command-line tool;
 *  - child processes that report through their exit status.
 *
 * Every wait has a deadline.  sn_init() arms alarm() as a backstop that
 * kills every daemon and child this process started and exits; daemons and
 * children also die with the test process (PR_SET_PDEATHSIG).
 *
 * Header-only: everything is static inline, so each test program uses what
 * it needs without unused-function warnings.
 */
#ifndef PCSN_SNAPTEST_H
#define PCSN_SNAPTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "pycache.h"

#include "../asuser.h"

/* A key argument pair from a C string. */
#define K(s) (s), strlen(s)

/* ------------------------------------------------------------------------ */
/* A deterministic PRNG (splitmix64)                                         */

typedef struct sn_rng {
    uint64_t s;
} sn_rng;

static inline uint64_t sn_next(sn_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t sn_below(sn_rng *r, uint64_t n)
{
    return sn_next(r) % n;
}

/* Fill p[0..n) with bytes that depend only on seed. */
static inline void sn_fill(void *p, size_t n, uint64_t seed)
{
    sn_rng r = {seed};
    uint8_t *b = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = sn_next(&r);
        memcpy(b + i, &v, n - i < 8 ? n - i : 8);
    }
}

/* ------------------------------------------------------------------------ */
/* Time                                                                      */

static inline uint64_t sn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wall clock in ms since the epoch (what expiry times are measured in). */
static inline int64_t sn_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sn_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------------ */
/* Return codes                                                              */

static inline void sn_check_rc(const char *file, int line, const char *call, int got, int want)
{
    if (got == want)
        return;
    print_error("%s:%d: %s\n    returned %s (%d: %s), expected %s (%d)\n", file, line, call,
                pc_err_name(got), got, pc_strerror(got), pc_err_name(want), want);
    _fail(file, line);
}

/* Assert that call returns want (a PC_E* code); naming both on failure. */
#define RC(want, call) sn_check_rc(__FILE__, __LINE__, #call, (call), (want))
#define OK(call) RC(0, call)

/* Assert cond, with a printf-style explanation on failure. */
#define CHECK(cond, ...)                                                             \
    do {                                                                             \
        if (!(cond)) {                                                               \
            print_error("%s:%d: check failed: %s\n    ", __FILE__, __LINE__, #cond); \
            print_error(__VA_ARGS__);                                                \
            print_error("\n");                                                       \
            _fail(__FILE__, __LINE__);                                               \
        }                                                                            \
    } while (0)

/* Children cannot use cmocka's assertions: they print and exit 1. */
static inline void sn_child_fail(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
static inline void sn_child_fail(const char *file, int line, const char *what, const char *fmt, ...)
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

#define CK(cond)                                            \
    do {                                                    \
        if (!(cond))                                        \
            sn_child_fail(__FILE__, __LINE__, #cond, NULL); \
    } while (0)
#define CKRC(want, call)                                                              \
    do {                                                                              \
        int ck_rc_ = (call);                                                          \
        if (ck_rc_ != (want))                                                         \
            sn_child_fail(__FILE__, __LINE__, #call, "returned %s (%d), expected %s", \
                          pc_err_name(ck_rc_), ck_rc_, pc_err_name(want));            \
    } while (0)
#define CKOK(call) CKRC(0, call)

/* ------------------------------------------------------------------------ */
/* Processes this test started                                               */

#define SN_MAX_KIDS 64

static pid_t sn_kids[SN_MAX_KIDS];
static pid_t sn_main_pid;

static inline void sn_kid_add(pid_t pid)
{
    for (int i = 0; i < SN_MAX_KIDS; i++)
        if (!sn_kids[i]) {
            sn_kids[i] = pid;
            return;
        }
}

static inline void sn_kid_forget(pid_t pid)
{
    for (int i = 0; i < SN_MAX_KIDS; i++)
        if (sn_kids[i] == pid)
            sn_kids[i] = 0;
}

/* SIGKILL and reap every process still registered. */
static inline void sn_kids_kill(void)
{
    for (int i = 0; i < SN_MAX_KIDS; i++)
        if (sn_kids[i] > 0) {
            kill(sn_kids[i], SIGKILL);
            waitpid(sn_kids[i], NULL, 0);
            sn_kids[i] = 0;
        }
}

static inline void sn_alarm(int sig)
{
    (void)sig;
    if (getpid() != sn_main_pid) {
        static const char m[] = "[child] timed out (alarm)\n";
        if (write(STDERR_FILENO, m, sizeof m - 1) < 0)
            _exit(3);
        _exit(3);
    }
    static const char msg[] = "snapshot test: timed out (alarm backstop); killing what it "
                              "started\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(1);
    for (int i = 0; i < SN_MAX_KIDS; i++)
        if (sn_kids[i] > 0)
            kill(sn_kids[i], SIGKILL);
    _exit(1);
}

/* Arm the backstop for the whole program (seconds). */
static inline void sn_init(unsigned seconds)
{
    sn_main_pid = getpid();
    signal(SIGALRM, sn_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(seconds);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline char *sn_slurp(const char *path, size_t *len);

/* Wait for pid at most timeout_ms; its wait status, or -1 (killed after the
 * deadline). */
static inline int sn_wait_pid(pid_t pid, int timeout_ms)
{
    uint64_t until = sn_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            sn_kid_forget(pid);
            return st;
        }
        if (w < 0 && errno != EINTR) {
            sn_kid_forget(pid);
            return -1;
        }
        if (sn_mono_ms() >= until) {
            char path[64], what[256] = "";
            snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
            char *wchan = sn_slurp(path, NULL);
            snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
            char *sys = sn_slurp(path, NULL);
            snprintf(what, sizeof what, " (wchan %s, syscall %.40s)", wchan ? wchan : "?",
                     sys ? sys : "?");
            free(wchan);
            free(sys);
            fprintf(stderr, "process %d still running after %d ms%s: killed\n", (int)pid,
                    timeout_ms, what);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            sn_kid_forget(pid);
            return -1;
        }
        sn_sleep_ms(1);
    }
}

static inline bool sn_exited(int st, int code)
{
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

static inline const char *sn_status_str(int st, char *buf, size_t n)
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

/* Assert that a wait status is "exited with code". */
#define EXITED(st, code)                                                  \
    do {                                                                  \
        int ex_st_ = (st);                                                \
        char ex_b_[64];                                                   \
        CHECK(sn_exited(ex_st_, (code)), "%s: %s, expected exit %d", #st, \
              sn_status_str(ex_st_, ex_b_, sizeof ex_b_), (code));        \
    } while (0)

/* Fork a child that runs fn(arg) and exits 0 when it returns 0, else 1;
 * its own alarm (timeout_s) makes it exit 3. */
static inline pid_t sn_fork(int (*fn)(void *), void *arg, unsigned timeout_s)
{
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(4);
        memset(sn_kids, 0, sizeof sn_kids);
        alarm(timeout_s);
        int rc = fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(rc ? 1 : 0);
    }
    sn_kid_add(pid);
    return pid;
}

/* Anonymous memory shared with children forked after this call. */
static inline void *sn_shared(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static inline int sn_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static inline void sn_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, sn_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory on tmpfs (/dev/shm, else /tmp) into buf.  0 or -1. */
static inline int sn_mkdtemp(char *buf, size_t n, const char *tag)
{
    const char *bases[] = {"/dev/shm", "/tmp"};
    for (size_t i = 0; i < 2; i++) {
        struct stat sb;
        if (stat(bases[i], &sb) < 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (snprintf(buf, n, "%s/pcsnap-%s-XXXXXX", bases[i], tag) >= (int)n)
            return -1;
        if (mkdtemp(buf))
            return 0;
    }
    return -1;
}

/* A whole file into a malloc'd buffer (NUL-terminated); NULL if unreadable. */
static inline char *sn_slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)sb.st_size + 1, got = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (got + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (buf)
        buf[got] = 0;
    if (len)
        *len = got;
    return buf;
}

static inline int sn_write_all(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return close(fd);
}

static inline int sn_copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = sn_slurp(from, &n);
    if (!b)
        return -1;
    int rc = sn_write_all(to, b, n);
    free(b);
    return rc;
}

/* Do two files hold the same bytes? */
static inline bool sn_same_bytes(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *pa = sn_slurp(a, &na), *pb = sn_slurp(b, &nb);
    bool same = pa && pb && na == nb && !memcmp(pa, pb, na);
    free(pa);
    free(pb);
    return same;
}

static inline bool sn_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static inline int64_t sn_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* Print a file to stderr with a heading (what a failing test shows). */
static inline void sn_cat(const char *title, const char *path)
{
    size_t n;
    char *b = sn_slurp(path, &n);
    if (!b)
        return;
    fprintf(stderr, "---- %s (%s) ----\n", title, path);
    fwrite(b, 1, n, stderr);
    fprintf(stderr, "---- end ----\n");
    free(b);
}

/* Does file path contain needle?  Waits up to timeout_ms. */
static inline bool sn_file_has(const char *path, const char *needle, int timeout_ms)
{
    uint64_t until = sn_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        char *b = sn_slurp(path, NULL);
        bool has = b && strstr(b, needle);
        free(b);
        if (has)
            return true;
        if (sn_mono_ms() >= until)
            return false;
        sn_sleep_ms(5);
    }
}

/* Lines of file path that contain needle. */
static inline int sn_file_count(const char *path, const char *needle)
{
    char *b = sn_slurp(path, NULL);
    int n = 0;
    for (char *p = b; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(b);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Snapshot directories                                                      */

#define SN_MAX_FILES 512

typedef struct sn_files {
    size_t n;
    char name[SN_MAX_FILES][128];
} sn_files;

static inline int sn_cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

static inline bool sn_is_snapshot_name(const char *n)
{
    size_t l = strlen(n);
    return l > 11 && !strncmp(n, "pycache-", 8) && !strcmp(n + l - 3, ".db");
}

static inline bool sn_is_temp_name(const char *n)
{
    size_t l = strlen(n);
    return !strncmp(n, ".pycache-snapshot-", 18) && l > 22 && !strcmp(n + l - 4, ".tmp");
}

/* The snapshot files (pred = sn_is_snapshot_name) or temporary files
 * (sn_is_temp_name) in dir, sorted by name (oldest first). */
static inline void sn_list(const char *dir, bool (*pred)(const char *), sn_files *out)
{
    out->n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp)))
        if (pred(de->d_name) && out->n < SN_MAX_FILES && strlen(de->d_name) < 128)
            snprintf(out->name[out->n++], 128, "%s", de->d_name);
    closedir(dp);
    qsort(out->name, out->n, sizeof out->name[0], sn_cmp_name);
}

static inline size_t sn_count_snapshots(const char *dir)
{
    sn_files f;
    sn_list(dir, sn_is_snapshot_name, &f);
    return f.n;
}

static inline size_t sn_count_temps(const char *dir)
{
    sn_files f;
    sn_list(dir, sn_is_temp_name, &f);
    return f.n;
}

/* The newest snapshot in dir into path; false when there is none. */
static inline bool sn_newest(const char *dir, char *path, size_t n)
{
    sn_files f;
    sn_list(dir, sn_is_snapshot_name, &f);
    if (!f.n)
        return false;
    snprintf(path, n, "%s/%s", dir, f.name[f.n - 1]);
    return true;
}

/* The last path component. */
static inline const char *sn_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ------------------------------------------------------------------------ */
/* Snapshot files through the SQLite C API                                  */

static inline sqlite3 *sn_db_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite3_open_v2(%s): %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    return db;
}

/* The first column of the first row of sql, as an integer; fallback when no
 * row or an error. */
static inline int64_t sn_db_int(sqlite3 *db, const char *sql, int64_t fallback)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        return fallback;
    }
    int64_t v = fallback;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* PRAGMA quick_check says ok, the meta table has format 1, and its counts
 * agree with the tables: what a complete snapshot of ours passes. */
static inline bool sn_snapshot_complete(const char *path, char *why, size_t whyn)
{
    sqlite3 *db = sn_db_open(path);
    if (!db) {
        snprintf(why, whyn, "cannot open");
        return false;
    }
    bool ok = false;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK) {
        ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) &&
             !strcmp((const char *)sqlite3_column_text(s, 0), "ok");
        sqlite3_finalize(s);
    }
    if (!ok) {
        snprintf(why, whyn, "PRAGMA quick_check is not ok");
    } else if (sn_db_int(db, "SELECT value FROM meta WHERE name='format'", -1) != 1) {
        snprintf(why, whyn, "no meta format 1");
        ok = false;
    } else if (sn_db_int(db, "SELECT value FROM meta WHERE name='key_count'", -1) !=
                   sn_db_int(db, "SELECT count(*) FROM keys", -2) ||
               sn_db_int(db, "SELECT value FROM meta WHERE name='member_count'", -1) !=
                   sn_db_int(db, "SELECT count(*) FROM members", -2)) {
        snprintf(why, whyn, "meta counts disagree with the tables");
        ok = false;
    }
    sqlite3_close(db);
    return ok;
}

/* Run SQL that changes a file (to damage a copy).  0 or -1. */
static inline int sn_db_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    char *msg = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite %s: %s: %s\n", path, sql,
                msg  ? msg
                : db ? sqlite3_errmsg(db)
                     : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Running commands                                                          */

/* The sqlite3 command-line tool, or NULL when it is not installed. */
static inline const char *sn_sqlite3_cli(void)
{
    static const char *const where[] = {"/usr/bin/sqlite3", "/usr/local/bin/sqlite3",
                                        "/bin/sqlite3"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

/*
 * Run argv[0] (a path) with a deadline; its standard output into out
 * (NUL-terminated), standard error to ours.  Returns its wait status, or -1.
 */
static inline int sn_run(char *const argv[], char *out, size_t outn, int timeout_ms)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0 || dup2(in, 0) < 0 || dup2(p[1], 1) < 0)
            _exit(127);
        signal(SIGALRM, SIG_DFL);
        alarm(0);
        execv(argv[0], argv);
        dprintf(2, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    sn_kid_add(pid);
    close(p[1]);
    size_t got = 0;
    uint64_t until = sn_mono_ms() + (uint64_t)timeout_ms;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        char tmp[4096];
        ssize_t r = read(p[0], tmp, sizeof tmp);
        if (r > 0) {
            size_t take = (size_t)r;
            if (out && got + take >= outn)
                take = got + 1 < outn ? outn - 1 - got : 0;
            if (out)
                memcpy(out + got, tmp, take);
            got += take;
            continue;
        }
        if (r == 0)
            break;
        if (errno != EAGAIN && errno != EINTR)
            break;
        if (sn_mono_ms() >= until)
            break;
        sn_sleep_ms(1);
    }
    close(p[0]);
    if (out && outn)
        out[got < outn ? got : outn - 1] = 0;
    return sn_wait_pid(pid, (int)(until > sn_mono_ms() ? until - sn_mono_ms() : 1));
}

/* sqlite3 FILE SQL (the CLI, as a person would run it), its output into out.
 * Wait status, or -1. */
static inline int sn_sqlite3(const char *file, const char *sql, char *out, size_t outn)
{
    char *argv[] = {(char *)sn_sqlite3_cli(), "-batch", (char *)file, (char *)sql, NULL};
    if (!argv[0])
        return -1;
    return sn_run(argv, out, outn, 10000);
}

/* Assert that the CLI prints exactly want for sql on file. */
#define CLI_IS(file, sql, want)                                                                \
    do {                                                                                       \
        static char cli_out_[1 << 16];                                                         \
        int cli_st_ = sn_sqlite3((file), (sql), cli_out_, sizeof cli_out_);                    \
        EXITED(cli_st_, 0);                                                                    \
        CHECK(!strcmp(cli_out_, (want)),                                                       \
              "sqlite3 %s \"%s\"\n    printed  [%s]\n    expected [%s]", sn_base(file), (sql), \
              cli_out_, (want));                                                               \
    } while (0)

/* ------------------------------------------------------------------------ */
/* The daemon                                                                */

#define SN_MAX_ARGS 40

typedef struct sn_daemon {
    char dir[256]; /* the store directory */
    char log[300]; /* --log-file */
    char out[300]; /* its standard output and error */
    pid_t pid;     /* 0: not running */
    uid_t uid;     /* run as this user (with gid) when nonzero... */
    gid_t gid;
    const char *prog; /* ...and this pycached (a staged copy, asuser.h); NULL: the built one */
} sn_daemon;

/* The pycached under test: $top_builddir/pycached. */
static inline const char *sn_pycached(void)
{
    static char path[4096];
    const char *top = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/pycached", top && *top ? top : ".");
    return path;
}

/* Name a daemon: store directory ws/name, log ws/name.log, output
 * ws/name.out (nothing is created). */
static inline void sn_daemon_init(sn_daemon *d, const char *ws, const char *name)
{
    char base[256];
    snprintf(base, sizeof base, "%s/%s", ws, name); /* ws may lie in the same struct as d */
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "%s", base);
    snprintf(d->log, sizeof d->log, "%s.log", base);
    snprintf(d->out, sizeof d->out, "%s.out", base);
}

/* Fork and exec pycached --foreground -d DIR --log-file LOG --sync none
 * args... (args NULL-terminated, may be NULL).  Does not wait. */
static inline pid_t sn_spawn(sn_daemon *d, const char *const *args)
{
    char *argv[SN_MAX_ARGS + 12];
    int n = 0;
    argv[n++] = (char *)(d->prog ? d->prog : sn_pycached());
    argv[n++] = "--foreground";
    argv[n++] = "-d";
    argv[n++] = d->dir;
    argv[n++] = "--log-file";
    argv[n++] = d->log;
    argv[n++] = "--sync";
    argv[n++] = "none";
    for (int i = 0; args && args[i] && i < SN_MAX_ARGS; i++)
        argv[n++] = (char *)args[i];
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
        if (d->uid && au_drop(d->uid, d->gid, NULL, 0) < 0) {
            dprintf(2, "cannot become uid %d: %s\n", (int)d->uid, strerror(errno));
            _exit(127);
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* after au_drop: changing uid clears it */
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGALRM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        alarm(0);
        execv(argv[0], argv);
        dprintf(2, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    sn_kid_add(pid);
    d->pid = pid;
    return pid;
}

/* Does a client connect?  (Ring-only: maps nothing.) */
static inline int sn_probe(const char *dir)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_RING_ONLY;
    pc_client *c = NULL;
    int rc = pc_connect(dir, &o, &c);
    pc_close(c);
    return rc;
}

static inline void sn_dump_logs(const sn_daemon *d)
{
    sn_cat("pycached log", d->log);
    sn_cat("pycached output", d->out);
}

/* Start and wait (at most timeout_ms) until a client connects.  0 or -1
 * (it exited or never served: killed, its log shown). */
static inline int sn_start_wait(sn_daemon *d, const char *const *args, int timeout_ms)
{
    if (sn_spawn(d, args) < 0)
        return -1;
    uint64_t until = sn_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            char b[64];
            fprintf(stderr, "pycached exited while starting: %s\n", sn_status_str(st, b, sizeof b));
            sn_kid_forget(d->pid);
            d->pid = 0;
            sn_dump_logs(d);
            return -1;
        }
        if (sn_probe(d->dir) == 0)
            return 0;
        if (sn_mono_ms() >= until) {
            fprintf(stderr, "pycached did not serve %s within %d ms\n", d->dir, timeout_ms);
            kill(d->pid, SIGKILL);
            sn_wait_pid(d->pid, 5000);
            d->pid = 0;
            sn_dump_logs(d);
            return -1;
        }
        sn_sleep_ms(2);
    }
}

/* Start and wait (at most timeout_ms) until the log says it serves (for a
 * daemon this process may not connect to).  0 or -1. */
static inline int sn_start_logged(sn_daemon *d, const char *const *args, int timeout_ms)
{
    if (sn_spawn(d, args) < 0)
        return -1;
    uint64_t until = sn_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            sn_kid_forget(d->pid);
            d->pid = 0;
            sn_dump_logs(d);
            return -1;
        }
        if (sn_file_has(d->log, "notice: serving ", 0))
            return 0;
        if (sn_mono_ms() >= until) {
            kill(d->pid, SIGKILL);
            sn_wait_pid(d->pid, 5000);
            d->pid = 0;
            sn_dump_logs(d);
            return -1;
        }
        sn_sleep_ms(5);
    }
}

static inline int sn_start(sn_daemon *d, const char *const *args)
{
    return sn_start_wait(d, args, 20000);
}

/* Run pycached expecting it not to start: its wait status (-1: it was
 * still running after timeout_ms, and was killed). */
static inline int sn_run_daemon(sn_daemon *d, const char *const *args, int timeout_ms)
{
    if (sn_spawn(d, args) < 0)
        return -1;
    int st = sn_wait_pid(d->pid, timeout_ms);
    d->pid = 0;
    return st;
}

/* Send sig and wait at most timeout_ms: the wait status, or -1 (killed). */
static inline int sn_stop_sig(sn_daemon *d, int sig, int timeout_ms)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    int st = sn_wait_pid(d->pid, timeout_ms);
    d->pid = 0;
    return st;
}

/* SIGTERM (a final snapshot, then exit 0 expected). */
static inline int sn_stop(sn_daemon *d)
{
    return sn_stop_sig(d, SIGTERM, 30000);
}

/* SIGKILL: no final snapshot. */
static inline void sn_kill9(sn_daemon *d)
{
    if (d->pid > 0)
        sn_stop_sig(d, SIGKILL, 5000);
}

/* Assert a SIGTERM stop with exit status 0. */
#define STOP_OK(d)                 \
    do {                           \
        int stop_st_ = sn_stop(d); \
        EXITED(stop_st_, 0);       \
    } while (0)

/* Start the daemon, asserting it serves. */
#define START(d, ...)                                                                     \
    do {                                                                                  \
        const char *const start_args_[] = {__VA_ARGS__, NULL};                            \
        CHECK(sn_start((d), start_args_) == 0, "pycached did not start in %s", (d)->dir); \
    } while (0)

static inline pc_client *sn_connect(const sn_daemon *d)
{
    pc_client *c = NULL;
    int rc = pc_connect(d->dir, NULL, &c);
    if (rc) {
        fprintf(stderr, "pc_connect(%s): %s\n", d->dir, pc_err_name(rc));
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------------------ */
/* A growable byte buffer                                                    */

typedef struct sn_buf {
    uint8_t *p;
    size_t n, cap;
} sn_buf;

static inline void sn_put(sn_buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np)
            abort();
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static inline void sn_put_u64(sn_buf *b, uint64_t v)
{
    sn_put(b, &v, sizeof v);
}

/* A typed value, unambiguously: kind, then its bytes (doubles bit for bit). */
static inline void sn_put_val(sn_buf *b, const pc_val *v)
{
    uint8_t k = (uint8_t)v->kind;
    sn_put(b, &k, 1);
    switch (v->kind) {
    case PC_BYTES:
        sn_put_u64(b, v->s.len);
        sn_put(b, v->s.ptr, v->s.len);
        break;
    case PC_INT:
        sn_put_u64(b, (uint64_t)v->i);
        break;
    case PC_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->d, 8);
        sn_put_u64(b, bits);
        break;
    }
    case PC_BOOL: {
        uint8_t x = v->b ? 1 : 0;
        sn_put(b, &x, 1);
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Dumping a store through the public API                                    */

typedef struct sn_entry {
    uint8_t key[PC_KEY_MAX];
    size_t klen;
    pc_type type;
    int64_t ttl;       /* pc_ttl: ms left, -1 none */
    int64_t expire_at; /* pc_expiry_scan: absolute ms, 0 none */
    uint64_t count;    /* elements of a collection */
    uint8_t *blob;     /* the value or elements, in canonical form */
    size_t blen;
} sn_entry;

typedef struct sn_dump {
    sn_entry *e;
    size_t n, cap;
    uint64_t taken_ms; /* monotonic: when its read began */
} sn_dump;

static inline void sn_dump_free(sn_dump *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].blob);
    free(d->e);
    memset(d, 0, sizeof *d);
}

static inline int sn_cmp_bytes(const void *a, size_t an, const void *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : an < bn ? -1 : an > bn;
}

static inline int sn_cmp_entry(const void *a, const void *b)
{
    const sn_entry *x = a, *y = b;
    return sn_cmp_bytes(x->key, x->klen, y->key, y->klen);
}

typedef struct sn_item {
    uint8_t *p;
    size_t n;
} sn_item;

static inline int sn_cmp_item(const void *a, const void *b)
{
    const sn_item *x = a, *y = b;
    return sn_cmp_bytes(x->p, x->n, y->p, y->n);
}

/* Append unordered items sorted (sets and maps compare as sets). */
static inline void sn_put_sorted(sn_buf *out, sn_item *it, size_t n)
{
    if (n)
        qsort(it, n, sizeof *it, sn_cmp_item);
    for (size_t i = 0; i < n; i++) {
        sn_put_u64(out, it[i].n);
        sn_put(out, it[i].p, it[i].n);
        free(it[i].p);
    }
}

#define SN_PAGE 128

/* One key's value or elements into e (a read open on r).  0 or a PC_E* code. */
static inline int sn_dump_value(pc_read *r, sn_entry *e)
{
    sn_buf b = {0};
    pc_val v[SN_PAGE];
    pc_bytes f[SN_PAGE];
    size_t n;
    int rc = 0;
    e->count = 0;
    switch (e->type) {
    case PC_T_STRING:
    case PC_T_NUMERIC:
        if (!(rc = pc_get(r, e->key, e->klen, &v[0])))
            sn_put_val(&b, &v[0]);
        break;
    case PC_T_LIST:
    case PC_T_QUEUE: {
        uint64_t len;
        rc = e->type == PC_T_LIST ? pc_llen(r, e->key, e->klen, &len)
                                  : pc_qlen(r, e->key, e->klen, &len);
        for (uint64_t at = 0; !rc && at < len; at += n) {
            rc = e->type == PC_T_LIST ? pc_lrange(r, e->key, e->klen, (int64_t)at,
                                                  (int64_t)at + SN_PAGE - 1, v, SN_PAGE, &n)
                                      : pc_qrange(r, e->key, e->klen, (int64_t)at,
                                                  (int64_t)at + SN_PAGE - 1, v, SN_PAGE, &n);
            if (!rc && n == 0)
                rc = PC_ECORRUPT; /* shorter than its length */
            for (size_t i = 0; !rc && i < n; i++)
                sn_put_val(&b, &v[i]);
        }
        e->count = len;
        break;
    }
    case PC_T_MAP:
    case PC_T_SET: {
        pc_cursor cur = PC_CURSOR_INIT;
        sn_item *it = NULL;
        size_t nit = 0, cap = 0;
        while (!rc && !cur.done) {
            rc = e->type == PC_T_MAP ? pc_hscan(r, e->key, e->klen, &cur, f, v, SN_PAGE, &n)
                                     : pc_sscan(r, e->key, e->klen, &cur, v, SN_PAGE, &n);
            for (size_t i = 0; !rc && i < n; i++) {
                sn_buf one = {0};
                if (e->type == PC_T_MAP) {
                    pc_val fv = pc_mem(f[i].ptr, f[i].len);
                    sn_put_val(&one, &fv);
                }
                sn_put_val(&one, &v[i]);
                if (nit == cap) {
                    cap = cap ? 2 * cap : 64;
                    it = realloc(it, cap * sizeof *it);
                    if (!it)
                        abort();
                }
                it[nit].p = one.p;
                it[nit++].n = one.n;
            }
        }
        sn_put_sorted(&b, it, nit);
        free(it);
        e->count = nit;
        break;
    }
    default:
        rc = PC_ECORRUPT;
    }
    e->blob = b.p;
    e->blen = b.n;
    return rc;
}

/* Every live key of the store, with its type, value or elements, TTL and
 * absolute expiry time, sorted by key.  0 or a PC_E* code. */
static inline int sn_dump_store(pc_client *c, sn_dump *d)
{
    memset(d, 0, sizeof *d);
    pc_read *r;
    d->taken_ms = sn_mono_ms();
    int rc = pc_read_begin(c, &r);
    if (rc)
        return rc;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[SN_PAGE];
    size_t n;
    while (!rc && !cur.done && !(rc = pc_scan(r, NULL, &cur, keys, SN_PAGE, &n))) {
        for (size_t i = 0; !rc && i < n; i++) {
            if (d->n == d->cap) {
                d->cap = d->cap ? 2 * d->cap : 256;
                d->e = realloc(d->e, d->cap * sizeof *d->e);
                if (!d->e)
                    abort();
            }
            sn_entry *e = &d->e[d->n++];
            memset(e, 0, sizeof *e);
            if (keys[i].len == 0 || keys[i].len > PC_KEY_MAX) {
                rc = PC_EKEY;
                break;
            }
            memcpy(e->key, keys[i].ptr, keys[i].len);
            e->klen = keys[i].len;
            if (!(rc = pc_type_of(r, e->key, e->klen, &e->type)) &&
                !(rc = pc_ttl(r, e->key, e->klen, &e->ttl)))
                rc = sn_dump_value(r, e);
        }
    }
    if (!rc && d->n)
        qsort(d->e, d->n, sizeof *d->e, sn_cmp_entry);
    /* Absolute expiry times. */
    pc_cursor ec = PC_CURSOR_INIT;
    int64_t at[SN_PAGE];
    while (!rc && !ec.done && !(rc = pc_expiry_scan(r, NULL, &ec, keys, at, SN_PAGE, &n)))
        for (size_t i = 0; i < n; i++) {
            sn_entry probe;
            if (keys[i].len > PC_KEY_MAX)
                continue;
            memcpy(probe.key, keys[i].ptr, keys[i].len);
            probe.klen = keys[i].len;
            sn_entry *e = d->n ? bsearch(&probe, d->e, d->n, sizeof *d->e, sn_cmp_entry) : NULL;
            if (e)
                e->expire_at = at[i];
        }
    pc_read_end(r);
    return rc;
}

/* A key, printable. */
static inline const char *sn_keystr(const uint8_t *k, size_t n, char *buf, size_t bn)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < bn; i++)
        o +=
            (size_t)snprintf(buf + o, bn - o, k[i] >= 0x20 && k[i] < 0x7f ? "%c" : "\\x%02x", k[i]);
    buf[o < bn ? o : bn - 1] = 0;
    return buf;
}

/*
 * Compare two dumps: the same keys, types, values and elements (kinds,
 * order; sets and maps as sets), the same absolute expiry times, and TTLs
 * that agree within ttl_tol_ms once the time between the two dumps is
 * taken off (a key with a TTL has one in both).
 * 0, or -1 after printing the first difference.
 */
static inline int sn_dump_compare(const sn_dump *want, const sn_dump *got, int64_t ttl_tol_ms)
{
    char kb[PC_KEY_MAX * 4 + 8];
    size_t i = 0, j = 0;
    while (i < want->n || j < got->n) {
        int c = i == want->n ? 1
                : j == got->n
                    ? -1
                    : sn_cmp_bytes(want->e[i].key, want->e[i].klen, got->e[j].key, got->e[j].klen);
        if (c < 0) {
            fprintf(stderr, "dump: key '%s' is missing (%zu keys expected, %zu found)\n",
                    sn_keystr(want->e[i].key, want->e[i].klen, kb, sizeof kb), want->n, got->n);
            return -1;
        }
        if (c > 0) {
            fprintf(stderr, "dump: key '%s' should not be there (%zu keys expected, %zu found)\n",
                    sn_keystr(got->e[j].key, got->e[j].klen, kb, sizeof kb), want->n, got->n);
            return -1;
        }
        const sn_entry *a = &want->e[i++], *b = &got->e[j++];
        const char *ks = sn_keystr(a->key, a->klen, kb, sizeof kb);
        if (a->type != b->type) {
            fprintf(stderr, "dump: key '%s' is a %s, expected a %s\n", ks, pc_type_name(b->type),
                    pc_type_name(a->type));
            return -1;
        }
        if (a->count != b->count || a->blen != b->blen ||
            (a->blen && memcmp(a->blob, b->blob, a->blen))) {
            size_t at = 0;
            while (at < a->blen && at < b->blen && a->blob[at] == b->blob[at])
                at++;
            fprintf(stderr,
                    "dump: the %s '%s' differs: %" PRIu64 " elements / %zu bytes of dump, "
                    "expected %" PRIu64 " / %zu; first difference at dump byte %zu\n",
                    pc_type_name(a->type), ks, b->count, b->blen, a->count, a->blen, at);
            return -1;
        }
        if (a->expire_at != b->expire_at) {
            fprintf(stderr, "dump: key '%s' expires at %" PRId64 ", expected %" PRId64 "\n", ks,
                    b->expire_at, a->expire_at);
            return -1;
        }
        int64_t elapsed = (int64_t)got->taken_ms - (int64_t)want->taken_ms;
        if ((a->ttl < 0) != (b->ttl < 0) ||
            (a->ttl >= 0 && llabs((long long)(a->ttl - elapsed - b->ttl)) > ttl_tol_ms)) {
            fprintf(stderr,
                    "dump: key '%s' has TTL %" PRId64 " ms, expected %" PRId64 " ms %" PRId64
                    " ms later (tolerance %" PRId64 ")\n",
                    ks, b->ttl, a->ttl, elapsed, ttl_tol_ms);
            return -1;
        }
    }
    return 0;
}

/* The entry of key in a dump, or NULL. */
static inline const sn_entry *sn_dump_find(const sn_dump *d, const void *key, size_t klen)
{
    sn_entry probe;
    if (klen > PC_KEY_MAX || !d->n)
        return NULL;
    memcpy(probe.key, key, klen);
    probe.klen = klen;
    return bsearch(&probe, d->e, d->n, sizeof *d->e, sn_cmp_entry);
}

/* Assert two dumps agree. */
#define DUMPS_EQUAL(want, got, tol) \
    CHECK(sn_dump_compare((want), (got), (tol)) == 0, "the restored store differs (see above)")

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */

/* Wait (at most timeout_ms) until the published statistics show a
 * snapshot that ended after since_ms; 0 or -1. */
static inline int sn_stats_wait(pc_client *c, uint64_t since_ms, pc_stats *st, int timeout_ms)
{
    uint64_t until = sn_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (pc_stats_get(c, st) == 0 && st->snapshot_ms > since_ms)
            return 0;
        if (sn_mono_ms() >= until)
            return -1;
        sn_sleep_ms(10);
    }
}

/* ------------------------------------------------------------------------ */
/* A test's workspace                                                        */

typedef struct sn_ws {
    char dir[128];
    char snaps[200]; /* dir/snaps: the usual snapshot directory */
    bool passed;     /* set at the end of the test: no logs shown */
    sn_daemon d[16]; /* daemons: stopped at teardown, their logs shown on failure */
    int nd;
} sn_ws;

static inline int sn_ws_make(sn_ws *w, const char *tag)
{
    memset(w, 0, sizeof *w);
    if (sn_mkdtemp(w->dir, sizeof w->dir, tag))
        return -1;
    snprintf(w->snaps, sizeof w->snaps, "%s/snaps", w->dir);
    return 0;
}

/* A new daemon named name in the workspace (store directory dir/name); it
 * lives as long as the workspace, so the teardown can stop it. */
static inline sn_daemon *sn_ws_daemon(sn_ws *w, const char *name)
{
    if (w->nd == (int)(sizeof w->d / sizeof w->d[0]))
        return NULL;
    sn_daemon *d = &w->d[w->nd++];
    sn_daemon_init(d, w->dir, name);
    return d;
}

/* Teardown: kill what still runs, show logs unless passed, remove all. */
static inline void sn_ws_finish(sn_ws *w)
{
    for (int i = 0; i < w->nd; i++)
        sn_kill9(&w->d[i]);
    sn_kids_kill();
    if (!w->passed)
        for (int i = 0; i < w->nd; i++)
            sn_dump_logs(&w->d[i]);
    if (!getenv("SNAPTEST_KEEP"))
        sn_rmtree(w->dir);
    else
        fprintf(stderr, "kept %s\n", w->dir);
    w->nd = 0;
}

#endif
