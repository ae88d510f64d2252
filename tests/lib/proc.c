/*
 * proc.c - the processes a test starts: tracked, killed by the backstop,
 * forked with a timeout, waited for with deadlines, run with their output
 * captured, looked at from outside (pctest.h).
 */
#include <dirent.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "internal.h"

pid_t pt__main_pid;

/* ---- tracked processes ---- */

#define MAX_TRACKED 512
static pid_t tracked[MAX_TRACKED];

void pt_track(pid_t pid)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (!tracked[i]) {
            tracked[i] = pid;
            return;
        }
}

void pt_untrack(pid_t pid)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] == pid)
            tracked[i] = 0;
}

void pt_kill_tracked(void)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] > 0) {
            kill(tracked[i], SIGKILL);
            waitpid(tracked[i], NULL, 0);
            tracked[i] = 0;
        }
}

/* ---- the backstop ---- */

static void on_alarm(int sig)
{
    (void)sig;
    if (getpid() != pt__main_pid) {
        static const char m[] = "[child] timed out (alarm): a call never returned\n";
        if (write(STDERR_FILENO, m, sizeof m - 1) < 0)
            _exit(3);
        _exit(3);
    }
    static const char msg[] = "\n*** test timed out (alarm): killing its daemons and children\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(99);
    signal(SIGALRM, SIG_DFL);
    alarm(10); /* if what follows hangs, die anyway */
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] > 0)
            kill(tracked[i], SIGKILL);
    /* The logs are worth more than safety here: the process ends next (and
     * the alarm above ends it if this hangs). */
    // NOLINTNEXTLINE(bugprone-signal-handler): not async-signal-safe, knowingly
    pt__daemons_backstop();
    pt__mariadb_backstop();
    _exit(99);
}

void pt_init(unsigned seconds)
{
    pt__main_pid = getpid();
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    unsetenv("PYCACHE_DIR");
    const char *only = getenv("PCTEST_FILTER");
    if (only && *only)
        cmocka_set_test_filter(only);
    alarm(seconds);
}

/* ---- waiting ---- */

int pt_wait_pid(pid_t pid, int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            pt_untrack(pid);
            return st;
        }
        if (w < 0 && errno != EINTR) {
            pt_untrack(pid);
            return -1;
        }
        if (pt_now_ms() >= until) {
            char path[64], what[256] = "";
            snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
            char *wchan = pt_slurp(path, NULL);
            snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
            char *sys = pt_slurp(path, NULL);
            snprintf(what, sizeof what, " (wchan %s, syscall %.40s)", wchan ? wchan : "?",
                     sys ? sys : "?");
            free(wchan);
            free(sys);
            fprintf(stderr, "process %d still running after %d ms%s: killed\n", (int)pid,
                    timeout_ms, what);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            pt_untrack(pid);
            return -1;
        }
        pt_sleep_ms(1);
    }
}

bool pt_exited(int st, int code)
{
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

const char *pt_status_str(int st, char *buf, size_t n)
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

/* ---- children ---- */

pid_t pt_fork(int (*fn)(void *), void *arg, unsigned timeout_s)
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
        memset(tracked, 0, sizeof tracked);
        pt__daemons_forget();
        if (!pt__main_pid)
            pt__main_pid = parent; /* (no pt_init: the alarm below still says why) */
        signal(SIGALRM, on_alarm);
        alarm(timeout_s);
        int rc = fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(rc ? 1 : 0);
    }
    pt_track(pid);
    return pid;
}

static const char *crash_who = "?";

/* A crashed child's last words: not async-signal-safe (snprintf, backtrace),
 * knowingly, as the process dies right after (raise). */
static void on_crash(int sig)
{
    char msg[128];
    // NOLINTNEXTLINE(bugprone-signal-handler)
    int n = snprintf(msg, sizeof msg, "# child %s (pid %d) got signal %d; its stack:\n", crash_who,
                     (int)getpid(), sig);
    if (write(2, msg, (size_t)n) < 0) {
        /* nothing more to do */
    }
    void *frames[32];
    // NOLINTNEXTLINE(bugprone-signal-handler)
    backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    signal(sig, SIG_DFL);
    raise(sig);
}

void pt_child(const char *who)
{
    crash_who = who;
    void *warm[2];
    backtrace(warm, 2); /* load what backtrace needs now, not in the handler */
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    signal(SIGABRT, on_crash);
}

void *pt_shared(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 0, n);
    return p;
}

/* ---- running a program ---- */

void pt__exec_prep(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGALRM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    alarm(0);
}

void pt_output_free(pt_output *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Append what fd has to *buf; false at EOF or on an error. */
static bool take(int fd, char **buf, size_t *len, size_t *cap)
{
    if (*cap - *len < 4096) {
        size_t ncap = *cap * 2 > 8192 ? *cap * 2 : 8192;
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

int pt_run(char *const *argv, int timeout_ms, pt_output *r)
{
    int po[2], pe[2];
    memset(r, 0, sizeof *r);
    r->status = -1;
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
    if (pid < 0) {
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0 || dup2(in, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(127);
        pt__exec_prep();
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    pt_track(pid);
    close(po[1]);
    close(pe[1]);
    size_t cap[2] = {0, 0};
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    struct {
        int fd;
        char **buf;
        size_t *len;
    } s[2] = {{po[0], &r->out, &r->len}, {pe[0], &r->err, &r->elen}};
    uint64_t until = pt_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    bool late = false;
    while (s[0].fd >= 0 || s[1].fd >= 0) {
        uint64_t now = pt_now_ms();
        if (now >= until) {
            late = true;
            break;
        }
        struct pollfd pf[2] = {{s[0].fd, POLLIN, 0}, {s[1].fd, POLLIN, 0}};
        if (poll(pf, 2, (int)(until - now)) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                !take(s[i].fd, s[i].buf, s[i].len, &cap[i])) {
                close(s[i].fd);
                s[i].fd = -1;
            }
    }
    for (int i = 0; i < 2; i++)
        if (s[i].fd >= 0)
            close(s[i].fd);
    if (late) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pt_untrack(pid);
        r->status = -1;
        return 0;
    }
    uint64_t now = pt_now_ms();
    r->status = pt_wait_pid(pid, (int)(until > now ? until - now : 0) + 1000);
    return 0;
}

int pt_system(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

void pt_where(pid_t pid, const char *who)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    char *st = pt_slurp(p, NULL);
    snprintf(p, sizeof p, "/proc/%d/wchan", (int)pid);
    char *wchan = pt_slurp(p, NULL);
    snprintf(p, sizeof p, "/proc/%d/syscall", (int)pid);
    char *sc = pt_slurp(p, NULL);
    const char *state = st ? strrchr(st, ')') : NULL;
    if (sc)
        sc[strcspn(sc, "\n")] = 0;
    pt_note("%s (pid %d): state %.1s, wchan %s, syscall %s", who, (int)pid,
            state && state[1] ? state + 2 : "?", wchan ? wchan : "", sc ? sc : "");
    free(st);
    free(wchan);
    free(sc);
    /* Its stacks, when gdb is there (twice, a second apart: stuck or moving?). */
    for (int i = 0; i < 2; i++) {
        pt_system("command -v gdb >/dev/null && gdb -p %d -batch -ex 'thread apply all bt' "
                  "2>/dev/null | grep -E '^(#|Thread)' | head -40 | sed 's/^/#   /' >&2",
                  (int)pid);
        pt_sleep_ms(1000);
    }
}

/* ---- looking at a process ---- */

int pt_count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    return pt_count_entries(path, NULL);
}

int pt_count_maps(pid_t pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

int pt_reader_pids(const char *dir, pid_t *pids, size_t max, size_t *n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/data-00.mdb", dir);
    char *argv[] = {"mdb_stat", "-n", "-r", path, NULL};
    pt_output o;
    if (pt_run(argv, 10000, &o) < 0)
        return -1;
    int rc = -1;
    if (o.status >= 0 && WIFEXITED(o.status) && strstr(o.out, "Reader Table")) {
        rc = 0;
        *n = 0;
        for (char *line = strtok(o.out, "\n"); line; line = strtok(NULL, "\n")) {
            char *end;
            long pid = strtol(line, &end, 10);
            if (end != line && pid > 0 && *n < max)
                pids[(*n)++] = (pid_t)pid;
        }
    }
    pt_output_free(&o);
    return rc;
}

uint64_t pt_mdb_map_used(const char *dir)
{
    char cmd[600], line[256];
    snprintf(cmd, sizeof cmd, "mdb_stat -n -e '%s/data-00.mdb' 2>&1", dir);
    FILE *f = popen(cmd, "r");
    if (!f)
        return 0;
    static const char used[] = "Number of pages used:", size[] = "Page size:";
    unsigned long long pages = 0, psize = 4096;
    while (fgets(line, sizeof line, f)) {
        const char *l = line + strspn(line, " \t");
        if (!strncmp(l, used, sizeof used - 1))
            pages = strtoull(l + sizeof used - 1, NULL, 10);
        else if (!strncmp(l, size, sizeof size - 1))
            psize = strtoull(l + sizeof size - 1, NULL, 10);
    }
    pclose(f);
    return (uint64_t)(pages * psize);
}

bool pt_mdb_walk(const char *dir, unsigned shards)
{
    for (unsigned s = 0; s < shards; s++) {
        if (pt_system("mdb_stat -n -a '%s/data-%02u.mdb' >/dev/null 2>&1", dir, s) != 0 ||
            pt_system("mdb_dump -n -a '%s/data-%02u.mdb' >/dev/null 2>&1", dir, s) != 0) {
            pt_note("LMDB reports an error walking %s/data-%02u.mdb", dir, s);
            return false;
        }
    }
    return true;
}
