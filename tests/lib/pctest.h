/*
 * pctest.h - the test library: what every test program of tests/ shares,
 * built once (the files below, libpctest.la) and linked by each of them.
 *
 *   base.c     return codes and checks that name themselves (in the test
 *              process and in forked children), time, a seeded PRNG and
 *              deterministic bytes and keys, knobs from the environment,
 *              files and temporary directories
 *   proc.c     the processes a test starts: tracked, killed by the backstop
 *              alarm (pt_init) and at teardown; fork with a timeout, waits
 *              with deadlines, running a program with its output captured;
 *              looking at a process from outside (/proc, LMDB's tools)
 *   daemon.c   a real pycached in a temporary directory: started and waited
 *              for, stopped, killed, restarted, its log shown when a test
 *              fails; workspaces of several named daemons; clients; the
 *              published statistics
 *   asuser.c   running something as another user (nobody, or a bare uid)
 *              from any checkout: dropping privileges, staging programs,
 *              probing what that user can reach
 *   store.c    embedded test stores (cmocka fixtures), typed value
 *              comparison (pcs_val_equal) and read helpers
 *   dump.c     a whole store dumped through the public API and two dumps
 *              compared
 *   snapfile.c snapshot directories and files (the SQLite C API and the
 *              sqlite3 tool)
 *   raw.c      a raw client that does the handshake (shm/hello.h) by hand
 *   mariadb.c  a MariaDB server of a test's own, and its client
 *
 * Every wait has a deadline.  Nothing here is part of the product.
 */
#ifndef PCTEST_H
#define PCTEST_H

#include <errno.h>
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../shm/hello.h"
#include "pycache.h"

typedef struct sqlite3 sqlite3;

/* ======================================================================== */
/* base.c                                                                   */
/* ======================================================================== */

/* A key argument pair from a C string. */
#define K(s) (s), strlen(s)
/* Elements of an array. */
#define PT_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* A NULL-terminated list of strings (options, arguments, environment). */
#define PT_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- messages and checks in the test process (cmocka) ---- */

/* "# message" on stderr. */
void pt_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fail the test unless got == want (PC_E* codes), naming both. */
void pt_check_rc(const char *file, int line, const char *call, int got, int want);
/* Assert that call returns want (a PC_E* code). */
#define RC(want, call) pt_check_rc(__FILE__, __LINE__, #call, (call), (want))
/* Assert that call returns 0. */
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

/* ---- checks in forked children ----
 * Children cannot use cmocka's assertions (they would longjmp into a copy of
 * the runner): they print what failed and exit 1; the parent checks the exit
 * status (EXITED). */
void pt_child_fail(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
#define CK(cond)                                            \
    do {                                                    \
        if (!(cond))                                        \
            pt_child_fail(__FILE__, __LINE__, #cond, NULL); \
    } while (0)
#define CKM(cond, ...)                                             \
    do {                                                           \
        if (!(cond))                                               \
            pt_child_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)
#define CKRC(want, call)                                                              \
    do {                                                                              \
        int ck_rc_ = (call);                                                          \
        if (ck_rc_ != (want))                                                         \
            pt_child_fail(__FILE__, __LINE__, #call, "returned %s (%d), expected %s", \
                          pc_err_name(ck_rc_), ck_rc_, pc_err_name(want));            \
    } while (0)
#define CKOK(call) CKRC(0, call)

/* ---- time ---- */

uint64_t pt_now_us(void); /* monotonic */
uint64_t pt_now_ms(void); /* monotonic */
int64_t pt_wall_ms(void); /* ms since the epoch: the clock of TTLs and statistics */
void pt_sleep_us(uint64_t us);
void pt_sleep_ms(uint64_t ms);

/* ---- a deterministic PRNG (splitmix64): every random choice is seeded ---- */

typedef struct pt_rng {
    uint64_t s;
} pt_rng;

uint64_t pt_next(pt_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t pt_below(pt_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t pt_range(pt_rng *r, uint64_t lo, uint64_t hi);
/* splitmix64's output function: a stateless 64-bit mix. */
uint64_t pt_mix(uint64_t z);
/* Fill p[0..n) with bytes that depend only on (seed, offset). */
void pt_fill(void *p, size_t n, uint64_t seed);
/* Key i of a family into buf: 16 hex digits spread evenly over the key
 * space (so the daemon's random sampling sees every key alike), then "."
 * and the family.  Returns buf. */
const char *pt_key(char *buf, size_t n, const char *family, uint64_t i);

/* A random permutation of 0..n-1 into order (Fisher-Yates, seeded by r). */
void pt_shuffle(int *order, size_t n, pt_rng *r);

/* ---- a growable byte buffer (plain malloc: not counted as the product's
 * allocations), to serialize what two runs must agree on byte for byte ---- */

typedef struct pt_buf {
    uint8_t *p;
    size_t len, cap;
} pt_buf;
void pt_buf_put(pt_buf *b, const void *p, size_t n);
void pt_buf_u64(pt_buf *b, uint64_t v);
/* A length (u64), then the bytes. */
void pt_buf_bytes(pt_buf *b, const void *p, size_t n);
/* A typed value, unambiguously: its kind, then its payload (doubles bit for
 * bit), every number in 8 bytes. */
void pt_buf_val(pt_buf *b, const pc_val *v);
bool pt_buf_same(const pt_buf *a, const pt_buf *b);
void pt_buf_free(pt_buf *b);

/* ---- knobs from the environment ---- */

/* An integer from the environment, or def. */
long pt_env_long(const char *name, long def);
/* The test's seed: FAULT_SEED, or the clock; printed so a run can be
 * repeated. */
uint64_t pt_seed(const char *test);

/* ---- files ---- */

/* Remove dir and everything under it (links not followed). */
void pt_rmtree(const char *dir);
/* A fresh directory, mode 0700, into buf: base/pctest-TAG-XXXXXX, base
 * "/tmp" or "/dev/shm", or NULL for tmpfs (/dev/shm, else /tmp).  0, or -1
 * with a message. */
int pt_mkdtemp(char *buf, size_t n, const char *base, const char *tag);
/* A whole file into a malloc'ed, NUL-terminated buffer; NULL if unreadable. */
char *pt_slurp(const char *path, size_t *len);
/* Write (create or truncate, mode 0600) path with p[0..n).  0 or -1. */
int pt_write_file(const char *path, const void *p, size_t n);
/* The same with a C string. */
int pt_write_text(const char *path, const char *text);
int pt_copy_file(const char *from, const char *to);
/* Do two files hold the same bytes? */
bool pt_same_bytes(const char *a, const char *b);
/* Is there anything at path (lstat)? */
bool pt_exists(const char *path);
/* Its size, or -1. */
int64_t pt_file_size(const char *path);
/* Copy a file to stderr with a heading (what a failed test shows). */
void pt_cat(const char *title, const char *path);
/* Does the file contain needle?  Waits up to timeout_ms for it. */
bool pt_file_has(const char *path, const char *needle, int timeout_ms);
/* How often needle occurs in the file (0 if unreadable). */
unsigned pt_file_count(const char *path, const char *needle);
/* Entries of directory path whose names begin with prefix (NULL: every
 * entry but "." and ".."), or -1. */
int pt_count_entries(const char *path, const char *prefix);
/* A sanitizer report in the file?  Prints the first line found. */
bool pt_sanitizer_report(const char *path);
/* The last path component. */
const char *pt_base(const char *path);

/* argv0 then args (NULL-terminated), as a main() receives them, in a
 * static array (the next call reuses it); *argc gets their number. */
char **pt_argv(const char *argv0, const char *const *args, int *argc);

/* What this process writes to fd (STDOUT_FILENO, STDERR_FILENO) between
 * pt_capture_begin and pt_capture_end, which returns it (malloc'ed,
 * NUL-terminated; free it) and gives fd back. */
typedef struct pt_capture {
    int fd, saved, mem;
} pt_capture;
void pt_capture_begin(pt_capture *c, int fd);
char *pt_capture_end(pt_capture *c);

/* ======================================================================== */
/* proc.c                                                                   */
/* ======================================================================== */

/*
 * Call first in main: the backstop for the whole program.  After seconds
 * the alarm kills every process this one tracks (its daemons and children),
 * shows the logs of its running daemons, removes their temporary
 * directories and exits 99; in a forked child it exits 3 ("a call never
 * returned").  Also: SIGPIPE ignored, stdout line-buffered, PYCACHE_DIR
 * unset, and PCTEST_FILTER=GLOB runs only the tests whose names match.
 */
void pt_init(unsigned seconds);

/* Processes killed by the backstop and by pt_kill_tracked. */
void pt_track(pid_t pid);
void pt_untrack(pid_t pid);
/* SIGKILL and reap every tracked process. */
void pt_kill_tracked(void);

/* Wait for child pid at most timeout_ms.  Its wait status, or -1 after
 * killing it when the time ran out (saying where it was). */
int pt_wait_pid(pid_t pid, int timeout_ms);
/* A wait status that means "exited with code". */
bool pt_exited(int st, int code);
/* A wait status (or -1: timed out) in words, for a failure message. */
const char *pt_status_str(int st, char *buf, size_t n);
/* Assert that a wait status is "exited with code". */
#define EXITED(st, code)                                                  \
    do {                                                                  \
        int ex_st_ = (st);                                                \
        char ex_b_[64];                                                   \
        CHECK(pt_exited(ex_st_, (code)), "%s: %s, expected exit %d", #st, \
              pt_status_str(ex_st_, ex_b_, sizeof ex_b_), (code));        \
    } while (0)

/*
 * Fork a tracked child that runs fn(arg) and exits 0 when it returns 0,
 * else 1.  The child dies with this process, and has its own alarm
 * (timeout_s: it exits 3 saying so) instead of the backstop.  -1 if fork
 * failed.
 */
pid_t pt_fork(int (*fn)(void *), void *arg, unsigned timeout_s);
/* In a child forked by hand: name it, and print its stack if it crashes
 * (instead of cmocka's handler, which would report a failure of the
 * parent's test). */
void pt_child(const char *who);
/* n zeroed bytes shared with the children forked afterwards (fails the
 * test if they cannot be mapped). */
void *pt_shared(size_t n);

/* What pt_run captured. */
typedef struct pt_output {
    int status; /* wait status, or -1 when it timed out (it was killed) */
    char *out;  /* stdout, NUL-terminated */
    size_t len;
    char *err; /* stderr, NUL-terminated */
    size_t elen;
} pt_output;
/* Run argv (argv[0] a path, or a name looked up in PATH) with stdin from
 * /dev/null and stdout and stderr captured, at most timeout_ms.  0 when it
 * ran (r->status says how it ended; free r with pt_output_free), -1 when it
 * could not be started. */
int pt_run(char *const *argv, int timeout_ms, pt_output *r);
void pt_output_free(pt_output *r);
/* A shell command run quietly; its exit status (-1 if it did not run). */
int pt_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Where a process is (state, wait channel, system call, and its stacks
 * when gdb is there), for a hang. */
void pt_where(pid_t pid, const char *who);

/* Open descriptors of process pid, or -1. */
int pt_count_fds(pid_t pid);
/* Lines of /proc/PID/maps that contain needle, or -1. */
int pt_count_maps(pid_t pid, const char *needle);
/* The pids that hold a slot in shard 0's LMDB reader table, as `mdb_stat -r`
 * lists them (it only reads the table: it clears nothing).  Fills
 * pids[0..*n); 0, or -1 when mdb_stat could not be run. */
int pt_reader_pids(const char *dir, pid_t *pids, size_t max, size_t *n);
/* Bytes of shard 0's map in use up to its high-water mark (mdb_stat -e). */
uint64_t pt_mdb_map_used(const char *dir);
/* Every database of every shard walked whole and its statistics read
 * (mdb_dump -a, mdb_stat -a): true when LMDB reports no error. */
bool pt_mdb_walk(const char *dir, unsigned shards);

/* ======================================================================== */
/* daemon.c                                                                 */
/* ======================================================================== */

/* The build tree ($top_builddir, else "."), and a program in it. */
const char *pt_builddir(void);
/* path of a program in the build tree ("pycached", "pccli", "pcstat"). */
const char *pt_prog(char *out, size_t n, const char *name);

#define PT_MAX_ARGS 48

typedef struct pt_daemon {
    char dir[160]; /* the store directory */
    char log[200]; /* --log-file */
    char out[200]; /* its standard output and error (sanitizer reports land here) */
    pid_t pid;     /* 0: not running */
    int status;    /* its wait status, once reaped by pt_daemon_alive */
    /* Options given at every start (copies). */
    int nopt;
    unsigned short opt_at[PT_MAX_ARGS];
    char opt_buf[2048];
    const char *const *env; /* extra NAME=VALUE for its starts, or NULL */
    uid_t uid;              /* run as this user (with gid) when nonzero... */
    gid_t gid;
    const char *prog; /* ...and this pycached (a staged copy); NULL: the built one */
    bool no_log_file; /* start without --log-file (a config file names the log) */
    bool own_dir;     /* pt_daemon_new made dir: pt_daemon_end removes it */
    bool passed;      /* set at the end of a test: pt_daemon_finish shows no log */
} pt_daemon;

/* The options a small store starts with (what the upkeep tests use). */
#define PT_SMALL_STORE "--max-memory", "32M", "--max-value", "1M"

/* A daemon in a fresh temporary directory on tmpfs (its log and output
 * inside), --sync none, then opts (NULL-terminated, may be NULL; a later
 * option wins).  0 or -1.  Every daemon of these functions starts with
 * --shards $PCTEST_SHARDS and --writers $PCTEST_WRITERS before its options
 * when those are set. */
int pt_daemon_new(pt_daemon *d, const char *tag, const char *const *opts);
/* pt_daemon_new with the options PT_SMALL_STORE, started with extra; on
 * failure (-1) its directory is gone. */
int pt_small_daemon(pt_daemon *d, const char *const *extra);
/* A daemon on store directory dir, which may not exist yet (log DIR.log and
 * output DIR.out beside it), with opts; nothing is created. */
void pt_daemon_init(pt_daemon *d, const char *dir, const char *const *opts);
/* Forget the options of every start; opts instead (NULL: none). */
void pt_daemon_reset(pt_daemon *d, const char *const *opts);
/* One more option for every start. */
void pt_daemon_opt(pt_daemon *d, const char *arg);

/* Fork and exec pycached --foreground -d DIR --log-file LOG [options]
 * [extra] (extra NULL-terminated, may be NULL).  Does not wait. */
pid_t pt_daemon_spawn(pt_daemon *d, const char *const *extra);
/* Wait (at most timeout_ms) until a client connects (a ring-only probe).
 * 0, or -1 when it exited or never served (it is then killed, its log
 * shown). */
int pt_daemon_wait_ready(pt_daemon *d, int timeout_ms);
/* Spawn and wait until it serves (20 s at most).  0 or -1. */
int pt_daemon_start(pt_daemon *d, const char *const *extra);
/* Spawn and wait until its log says it serves (for a daemon this process
 * may not connect to).  0 or -1. */
int pt_daemon_start_logged(pt_daemon *d, const char *const *extra, int timeout_ms);
/* Run it expecting it not to start: its wait status (-1: still running
 * after timeout_ms, and killed). */
int pt_daemon_run(pt_daemon *d, const char *const *extra, int timeout_ms);
/* Wait for it to end by itself, at most timeout_ms: its wait status, or -1
 * (it still runs). */
int pt_daemon_wait(pt_daemon *d, int timeout_ms);
/* Send sig and wait at most timeout_ms: the wait status, or -1 (it was not
 * running, or did not stop and was killed). */
int pt_daemon_stop_sig(pt_daemon *d, int sig, int timeout_ms);
/* SIGTERM, 30 s at most. */
int pt_daemon_stop(pt_daemon *d);
/* SIGKILL and reap. */
void pt_daemon_kill9(pt_daemon *d);
/* Stop (exit 0 expected) and start again.  0 or -1. */
int pt_daemon_restart(pt_daemon *d);
/* Is it still running?  (Reaps it, keeping its status, when it is not.) */
bool pt_daemon_alive(pt_daemon *d);
/* Print its log and output to stderr. */
void pt_daemon_dump(const pt_daemon *d);
/* Does its log contain needle?  Waits up to timeout_ms for it. */
bool pt_daemon_log_has(const pt_daemon *d, const char *needle, int timeout_ms);
/* The end of a daemon: stop it if it runs (SIGTERM), show its log and
 * output when it did not exit 0, remove its directory when pt_daemon_new
 * made it (PCTEST_KEEP=1 keeps it).  0 when it exited 0 or was not running. */
int pt_daemon_end(pt_daemon *d);
/* A teardown: kill the tracked children, show the daemon's log unless the
 * test set d->passed, and pt_daemon_end. */
void pt_daemon_finish(pt_daemon *d);

/* Remove what a daemon named by pt_daemon_init left: its store directory,
 * its log and its output. */
void pt_daemon_remove(const pt_daemon *d);

/* cmocka fixtures of a test with one daemon: *state is the library's
 * pt_daemon, zeroed (the test makes it: pt_daemon_new), and the backstop
 * is rearmed for seconds; the teardown is pt_daemon_finish. */
int pt_daemon_fixture(void **state, unsigned seconds);
int pt_daemon_teardown(void **state);

/* Assert that the daemon stops on SIGTERM with exit status 0. */
#define STOP_OK(d)                          \
    do {                                    \
        int stop_st_ = pt_daemon_stop((d)); \
        EXITED(stop_st_, 0);                \
    } while (0)
/* STOP_OK, and no sanitizer report in the daemon's output. */
#define STOP_CLEAN(d)                                                                            \
    do {                                                                                         \
        STOP_OK(d);                                                                              \
        CHECK(!pt_sanitizer_report((d)->out), "a sanitizer report in %s (see above)", (d)->out); \
    } while (0)
/* Start the daemon with these extra arguments, asserting it serves. */
#define START(d, ...) \
    CHECK(pt_daemon_start((d), PT_ARGS(__VA_ARGS__)) == 0, "pycached did not start in %s", (d)->dir)

/* A client of the store in dir: flags PC_OPT_*.  0 or the error. */
int pt_connect(const char *dir, unsigned flags, pc_client **c);
/* Does a daemon serve dir?  0 when a ring-only client (which maps nothing)
 * connects, else the error. */
int pt_probe(const char *dir);
/* A client of the daemon's store, or NULL (with a message). */
pc_client *pt_daemon_client(const pt_daemon *d, unsigned flags);
/* Wait, up to timeout_ms, until the client of process pid shows as blocked
 * in the daemon (pc_clients, asked through c): a waiting pop, claim or
 * stream read parked there.  First, when flag is not NULL, until the waiter
 * sets *flag (it is about to make its waiting call).  true once blocked;
 * false at the deadline or when pc_clients fails. */
bool pt_wait_blocked(pc_client *c, pid_t pid, _Atomic int *flag, int timeout_ms);
/* Assert it, with 30 s to wait. */
#define WAIT_BLOCKED(c, pid, flag)                    \
    CHECK(pt_wait_blocked((c), (pid), (flag), 30000), \
          "the waiter (pid %d) never showed as blocked in pc_clients", (int)(pid))

/* A test's workspace: a temporary directory with daemons named in it. */
typedef struct pt_ws {
    char dir[128];
    char snaps[200]; /* dir/snaps: the usual snapshot directory */
    bool passed;     /* set at the end of the test: no logs shown */
    pt_daemon d[16]; /* stopped at teardown, their logs shown on failure */
    int nd;
} pt_ws;
int pt_ws_make(pt_ws *w, const char *tag);
/* A new daemon in the workspace: store directory dir/name, --sync none; it
 * lives as long as the workspace.  NULL when there are too many. */
pt_daemon *pt_ws_daemon(pt_ws *w, const char *name);
/* Teardown: kill what still runs, show logs unless passed, remove all. */
void pt_ws_finish(pt_ws *w);
/* cmocka fixtures: *state is the library's pt_ws, made afresh (its
 * directory named after the program), and pt_ws_finish. */
int pt_ws_setup(void **state);
int pt_ws_teardown(void **state);

/* Wait for the next publication of the stats page (the daemon republishes
 * every 100 ms) and copy it to *st: everything this process was answered
 * before the call is in it.  0, or -1 after 5 s without one. */
int pt_stats_next(pc_client *c, pc_stats *st);
/* Statistics taken after after_ms (ms since the epoch), waiting at most
 * timeout_ms.  0 or an error (PC_ETIMEDOUT). */
int pt_stats_after(pc_client *c, uint64_t after_ms, int timeout_ms, pc_stats *st);
/* Statistics that show a snapshot ended after since_ms, waiting at most
 * timeout_ms.  0 or -1. */
int pt_stats_snapshot_after(pc_client *c, uint64_t since_ms, int timeout_ms, pc_stats *st);
/* The index of an op in pc_stats.ops, by name; fails the test if unknown. */
unsigned pt_op(const char *name);

/* ======================================================================== */
/* asuser.c                                                                 */
/* ======================================================================== */

/* The user nobody and the group nogroup (else nobody's own group).  false
 * if there is no such user. */
bool pt_nobody(uid_t *uid, gid_t *gid);
/* In a child: leave the cwd for "/" (the build tree may be closed to that
 * user), become uid/gid with these supplementary groups, and die with the
 * parent again (changing credentials clears PR_SET_PDEATHSIG).  0, or -1
 * with errno. */
int pt_drop(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups);
/* A fresh staging directory, mode 0755, into buf: under /dev/shm, else
 * /tmp, whichever is not mounted noexec.  0, or -1. */
int pt_mkstage(char *buf, size_t n, const char *tag);
/* Copy the program src (a path, or /proc/self/exe: a real ELF executable,
 * not a libtool wrapper) to stage/name, mode 0755; its path into out.  0, or
 * -1 with a message. */
int pt_stage(const char *src, const char *stage, const char *name, char *out, size_t n);
/* Can uid/gid (no supplementary groups) reach every path in paths (stat;
 * search, for a directory) and then run argv (exit 0)?  Probed in a child
 * that has dropped to that user.  paths and argv are NULL-terminated and
 * either may be NULL.  true if so; else false and why into why. */
bool pt_probe_user(uid_t uid, gid_t gid, const char *const *paths, char *const *argv, char *why,
                   size_t n);
/* In a cmocka test: skip it, saying why, unless uid/gid can reach paths and
 * run argv. */
#define PT_NEED_USER(uid, gid, paths, argv)                                                     \
    do {                                                                                        \
        char pt_why_[512];                                                                      \
        if (!pt_probe_user((uid), (gid), (paths), (argv), pt_why_, sizeof pt_why_)) {           \
            print_message("skipped: another user is needed and the machine does not allow it: " \
                          "%s\n",                                                               \
                          pt_why_);                                                             \
            skip();                                                                             \
        }                                                                                       \
    } while (0)

/* In a cmocka test: skip it unless this process is root and each of uids
 * (ending with 0; each with the group of the same number) can reach
 * /dev/shm, where the tests make their store directories. */
void pt_need_uids(const uid_t *uids);

/* ======================================================================== */
/* store.c                                                                  */
/* ======================================================================== */

/* The largest value of the stores made by pt_store_setup_small(). */
#define PT_SMALL_MAX 4096u
/* Map size of every embedded test store. */
#define PT_MAP_SIZE (UINT64_C(64) << 20)

/* ---- values ---- */

/* Same kind and same value: pcs_val_equal (shm/record.c). */
bool pt_val_eq(const pc_val *a, const pc_val *b);
/* Is v among vals[0..n)? */
bool pt_val_in(const pc_val *v, const pc_val *vals, size_t n);
const char *pt_kind_name(pc_kind k);
/* A short printable form of v, for failure messages. */
const char *pt_val_fmt(char *buf, size_t n, const pc_val *v);
void pt_check_val(const char *file, int line, const char *what, pc_val got, pc_val want);
/* Assert that pc_val got equals pc_val want (kind and value). */
#define VAL_EQ(got, want) pt_check_val(__FILE__, __LINE__, #got, (got), (want))
/* pt_val_eq, but doubles bit for bit: -0.0 is not 0.0, and a NaN is the
 * same NaN (a value that went through an encoding and back). */
bool pt_val_same(const pc_val *a, const pc_val *b);
void pt_check_same(const char *file, int line, const char *what, pc_val got, pc_val want);
#define VAL_SAME(got, want) pt_check_same(__FILE__, __LINE__, #got, (got), (want))

/* ---- a fresh embedded store per test ---- */

typedef struct pt_store {
    char dir[64];
    pc_options o;
    pc_client *c;
} pt_store;

/* Options of a test store: embedded, created, no fsync, small map. */
void pt_store_options(pc_options *o, unsigned shards, uint64_t max_value);
/* cmocka setups: a one-shard store with the default largest value, one with
 * a largest value of PT_SMALL_MAX, a four-shard store; and the teardown. */
int pt_store_setup(void **state);
int pt_store_setup_small(void **state);
int pt_store_setup_shards4(void **state);
int pt_store_teardown(void **state);
#define PT_STORE_TEST(f) cmocka_unit_test_setup_teardown(f, pt_store_setup, pt_store_teardown)
#define PT_STORE_TEST_SMALL(f) \
    cmocka_unit_test_setup_teardown(f, pt_store_setup_small, pt_store_teardown)
#define PT_STORE_TEST_SHARDS4(f) \
    cmocka_unit_test_setup_teardown(f, pt_store_setup_shards4, pt_store_teardown)
/* A second client on the test's store (another writer). */
pc_client *pt_store_client2(pt_store *t);

/* ---- reads that open and end their own pc_read ---- */

/* Begin a read on c (asserting success). */
pc_read *pt_rd(pc_client *c);
pc_type pt_type(pc_client *c, const void *key, size_t klen);
/* The key's version (asserting it exists). */
uint64_t pt_version(pc_client *c, const char *key);
/* The key's TTL in ms (-1: none); asserts the key exists. */
int64_t pt_ttl(pc_client *c, const char *key);
/* Number of live keys matching glob (NULL: all). */
size_t pt_nkeys(pc_client *c, const char *glob);

void pt_check_type(const char *file, int line, pc_client *c, const char *key, pc_type want);
void pt_check_get(const char *file, int line, pc_client *c, const void *key, size_t klen,
                  pc_val want);
void pt_check_missing(const char *file, int line, pc_client *c, const void *key, size_t klen);
void pt_check_seq(const char *file, int line, pc_client *c, const char *key, bool queue,
                  const pc_val *want, size_t n);
/* Assert the type of C-string key (PC_T_NONE: missing). */
#define TYPE_IS(c, key, want) pt_check_type(__FILE__, __LINE__, (c), (key), (want))
/* Assert that pc_get of C-string key gives want. */
#define GET_IS(c, key, want) pt_check_get(__FILE__, __LINE__, (c), K(key), (want))
/* Assert that C-string key does not exist. */
#define MISSING(c, key) pt_check_missing(__FILE__, __LINE__, (c), K(key))
/* Assert a List's (LIST_IS) or a Queue's (QUEUE_IS) elements, in order.  An
 * empty want means the key is missing. */
#define LIST_IS(c, key, want, n) pt_check_seq(__FILE__, __LINE__, (c), (key), false, (want), (n))
#define QUEUE_IS(c, key, want, n) pt_check_seq(__FILE__, __LINE__, (c), (key), true, (want), (n))

/* ======================================================================== */
/* dump.c                                                                   */
/* ======================================================================== */

typedef struct pt_entry {
    uint8_t key[PC_KEY_MAX];
    size_t klen;
    pc_type type;
    int64_t ttl;       /* pc_ttl: ms left, -1 none */
    int64_t expire_at; /* pc_expiry_scan: absolute ms, 0 none */
    uint64_t count;    /* elements of a collection */
    uint8_t *blob;     /* the value or elements, in canonical form */
    size_t blen;
} pt_entry;

typedef struct pt_dump {
    pt_entry *e;
    size_t n, cap;
    uint64_t taken_ms; /* monotonic: when its read began */
} pt_dump;

/* Every live key of the store, with its type, value or elements (kinds,
 * order; sets and maps as sets), TTL and absolute expiry time, sorted by
 * key.  0 or a PC_E* code. */
int pt_dump_store(pc_client *c, pt_dump *d);
void pt_dump_free(pt_dump *d);
/* Compare two dumps: the same keys, types, values and elements, the same
 * absolute expiry times, and TTLs that agree within ttl_tol_ms once the
 * time between the two dumps is taken off.  0, or -1 after printing the
 * first difference. */
int pt_dump_compare(const pt_dump *want, const pt_dump *got, int64_t ttl_tol_ms);
/* A key, printable (\xNN for other bytes), into buf. */
const char *pt_keystr(const uint8_t *k, size_t n, char *buf, size_t bn);
/* The entry of key in a dump, or NULL. */
const pt_entry *pt_dump_find(const pt_dump *d, const void *key, size_t klen);
/* Assert two dumps agree. */
#define DUMPS_EQUAL(want, got, tol) \
    CHECK(pt_dump_compare((want), (got), (tol)) == 0, "the restored store differs (see above)")

/* The second half of a round trip through a snapshot in w->snaps: close c
 * (a client of a), kill a, start b on w->snaps, dump its store into *after
 * and assert it agrees with *before.  Returns a client of b. */
pc_client *pt_restore_in(pt_ws *w, pt_daemon *a, pt_daemon *b, pc_client *c, const pt_dump *before,
                         pt_dump *after);
/* Its end: close c, stop b (exit 0), free both dumps, mark w passed. */
void pt_restore_done(pt_ws *w, pt_daemon *b, pc_client *c, pt_dump *before, pt_dump *after);

/* ======================================================================== */
/* snapfile.c                                                               */
/* ======================================================================== */

#define PT_MAX_FILES 512

typedef struct pt_files {
    size_t n;
    char name[PT_MAX_FILES][128];
} pt_files;

bool pt_is_snapshot_name(const char *n);
bool pt_is_temp_name(const char *n);
/* The snapshot files (pred = pt_is_snapshot_name) or temporary files
 * (pt_is_temp_name) in dir, sorted by name (oldest first). */
void pt_list(const char *dir, bool (*pred)(const char *), pt_files *out);
size_t pt_count_snapshots(const char *dir);
size_t pt_count_temps(const char *dir);
/* The newest snapshot in dir into path; false when there is none. */
bool pt_newest(const char *dir, char *path, size_t n);

/* A snapshot file opened read-only (NULL, with a message, if it cannot be). */
sqlite3 *pt_db_open(const char *path);
void pt_db_close(sqlite3 *db);
/* The first column of the first row of sql, as an integer; fallback when no
 * row or an error. */
int64_t pt_db_int(sqlite3 *db, const char *sql, int64_t fallback);
/* PRAGMA quick_check says ok, the meta table has format 1, and its counts
 * agree with the tables: what a complete snapshot of ours passes. */
bool pt_snapshot_complete(const char *path, char *why, size_t whyn);
/* Run SQL that changes a file (to damage a copy).  0 or -1. */
int pt_db_exec(const char *path, const char *sql);
/* The sqlite3 command-line tool, or NULL when it is not installed. */
const char *pt_sqlite3_cli(void);
/* sqlite3 -batch FILE SQL, as a person would run it; its output into out.
 * Wait status, or -1. */
int pt_sqlite3(const char *file, const char *sql, char *out, size_t outn);
/* Assert that the CLI prints exactly want for sql on file. */
#define CLI_IS(file, sql, want)                                                                \
    do {                                                                                       \
        static char cli_out_[1 << 16];                                                         \
        int cli_st_ = pt_sqlite3((file), (sql), cli_out_, sizeof cli_out_);                    \
        EXITED(cli_st_, 0);                                                                    \
        CHECK(!strcmp(cli_out_, (want)),                                                       \
              "sqlite3 %s \"%s\"\n    printed  [%s]\n    expected [%s]", pt_base(file), (sql), \
              cli_out_, (want));                                                               \
    } while (0)

/* ======================================================================== */
/* mariadb.c                                                                */
/* ======================================================================== */

/* A MariaDB server of the test's own, on a Unix socket, networking off
 * (port > 0: also on 127.0.0.1:port alone).  It dies with the test. */
#define PT_MARIADB_EXTRA 12
typedef struct pt_mariadb {
    char dir[128]; /* its temporary directory (data/, sock, err.log) */
    char sock[160];
    char server[200]; /* mariadbd */
    char client[200]; /* mariadb */
    char url[300];    /* mysql://pc@localhost/pcsnap?socket=SOCK */
    char pwfile[200]; /* pc's password, mode 0600 */
    pid_t pid;        /* 0: not running */
    char why[600];    /* why it could not be started */
    /* Set before pt_mariadb_run; they stay until changed. */
    int port;                                /* > 0: TCP on 127.0.0.1 too */
    const char *extra[PT_MARIADB_EXTRA + 1]; /* more options for mariadbd */
} pt_mariadb;
/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int pt_mariadb_free_port(void);
/* Make a data directory (mariadb-install-db), start mariadbd on it, and
 * create the database pcsnap and its user pc.  0; 77 with why when there is
 * no MariaDB server here (the test skips: exit 77); -1 with why when one is
 * installed but could not be made to run (an error: exit 99). */
int pt_mariadb_start(pt_mariadb *m);
/* Start mariadbd (again) on the same data, with m->port and m->extra as
 * they are now.  0, or -1 with why. */
int pt_mariadb_run(pt_mariadb *m);
/* Stop it with sig (SIGTERM: a clean shutdown; SIGKILL) and reap it. */
void pt_mariadb_stop(pt_mariadb *m, int sig);
/* Stop it and remove its directory. */
void pt_mariadb_end(pt_mariadb *m);
/* The mariadb client, as root, in pcsnap: --batch --skip-column-names -e
 * SQL; its output (or its error) into out.  Wait status, or -1. */
int pt_mariadb_sql(pt_mariadb *m, const char *sql, char *out, size_t n);
/* The first column of the first row of sql as an integer; fallback if none. */
int64_t pt_mariadb_int(pt_mariadb *m, const char *sql, int64_t fallback);

/* ======================================================================== */
/* raw.c                                                                    */
/* ======================================================================== */

typedef struct pt_raw {
    int sock;
    int chan_fd;  /* the channel memfd, kept open */
    int dpage_fd; /* the daemon page */
    void *map;    /* the channel, mapped read-write */
    size_t maplen;
    pcs_welcome w;
    /* Where the last pt_raw_connect failed: 1 connect, 2 send, 3 recvmsg
     * (errno in err), 4 a short or foreign welcome, 5 fds, 6 mmap. */
    int step, err;
} pt_raw;

/* Connect to DIR/pycached.sock, say hello, take the welcome and its fds,
 * map the channel.  0, or a PC_E* code (the welcome's status, PC_EPROTO...). */
int pt_raw_connect(const char *dir, uint32_t ring_size, uint32_t flags, pt_raw *r);
void pt_raw_close(pt_raw *r);
/* Is the daemon's end of the raw client's socket closed? */
bool pt_raw_closed(const pt_raw *r);

#endif /* PCTEST_H */
