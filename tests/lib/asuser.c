/*
 * asuser.c - running something as another user (nobody, or a bare uid), so
 * that the tests that do work from any checkout, one under /root (mode
 * 0700) included, and say so plainly where the machine makes it
 * impossible (pctest.h):
 *
 *  - pt_drop(): in a child, become uid/gid (with supplementary groups) after
 *    moving to "/": the test's own cwd, the build directory, may be closed
 *    to that user, and the child must not depend on it;
 *  - pt_mkstage() / pt_stage(): a staging directory (mode 0755, on tmpfs or
 *    /tmp, not mounted noexec) and copies of the programs the other user
 *    runs (the built pycached, the test itself for a re-exec): the build
 *    tree may be out of that user's reach;
 *  - pt_probe_user(): AS that user, can it reach these paths and run this
 *    program?  Where it cannot (a chroot whose "/" is 0700 closes every path
 *    to it, libraries included), the case is skipped with the reason
 *    (PT_NEED_USER), never failed, and never passed for the wrong reason (a
 *    peer "refused" because it could not reach the socket at all).
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>

#include "pctest.h"

/* The user nobody and the group nogroup (else nobody's own group).  false
 * if there is no such user. */
bool pt_nobody(uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam("nobody");
    if (!pw)
        return false;
    struct group *gr = getgrnam("nogroup");
    *uid = pw->pw_uid;
    *gid = gr ? gr->gr_gid : pw->pw_gid;
    return true;
}

/* In a child: leave the cwd for "/", become uid/gid with these
 * supplementary groups, and die with the parent again (changing
 * credentials clears PR_SET_PDEATHSIG).  0, or -1 with errno. */
int pt_drop(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
    if (chdir("/") < 0 || setgroups(ngroups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0)
        return -1;
    if (getuid() != uid || geteuid() != uid || getgid() != gid) {
        errno = EPERM;
        return -1;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    return 0;
}

/* A fresh staging directory, mode 0755, into buf: under /dev/shm, else
 * /tmp, whichever is not mounted noexec.  0, or -1. */
int pt_mkstage(char *buf, size_t n, const char *tag)
{
    const char *bases[] = {"/dev/shm", "/tmp"};
    for (size_t i = 0; i < 2; i++) {
        struct statvfs vs;
        if (statvfs(bases[i], &vs) < 0 || (vs.f_flag & (ST_NOEXEC | ST_RDONLY)))
            continue;
        if (snprintf(buf, n, "%s/pcstage-%s-XXXXXX", bases[i], tag) >= (int)n)
            return -1;
        if (mkdtemp(buf) && chmod(buf, 0755) == 0)
            return 0;
    }
    buf[0] = 0;
    return -1;
}

/* Copy the program src (a path, or /proc/self/exe) to stage/name, mode
 * 0755; its path into out.  src must be a real ELF executable: a libtool
 * wrapper script would still run the program from the build tree.  0, or -1
 * with a message on stderr. */
int pt_stage(const char *src, const char *stage, const char *name, char *out, size_t n)
{
    if (snprintf(out, n, "%s/%s", stage, name) >= (int)n)
        return -1;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fprintf(stderr, "pt_stage: cannot open %s: %s\n", src, strerror(errno));
        return -1;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0) {
        fprintf(stderr, "pt_stage: cannot create %s: %s\n", out, strerror(errno));
        close(in);
        return -1;
    }
    char buf[1 << 16];
    ssize_t r;
    bool elf = false, first = true, bad = false;
    while (!bad && (r = read(in, buf, sizeof buf)) > 0) {
        if (first)
            elf = r >= 4 && !memcmp(buf, "\177ELF", 4);
        first = false;
        for (ssize_t off = 0; off < r && !bad;) {
            ssize_t w = write(fd, buf + off, (size_t)(r - off));
            bad = w <= 0;
            off += w > 0 ? w : 0;
        }
    }
    bad = bad || r < 0;
    close(in);
    if (close(fd) < 0 || bad || fchmodat(AT_FDCWD, out, 0755, 0) < 0) {
        fprintf(stderr, "pt_stage: copying %s to %s failed: %s\n", src, out, strerror(errno));
        return -1;
    }
    if (!elf) {
        fprintf(stderr, "pt_stage: %s is not an ELF executable (a libtool wrapper?)\n", src);
        return -1;
    }
    return 0;
}

/* Say which directory on the way to path (absolute) is closed: the parent
 * of the first prefix that cannot be looked up. */
static void blocker(int fd, const char *path)
{
    char pre[4096];
    struct stat sb;
    for (size_t i = 1; path[0] == '/' && path[i] && i < sizeof pre; i++) {
        if (path[i] != '/' && path[i + 1])
            continue;
        size_t len = path[i] == '/' ? i : i + 1;
        memcpy(pre, path, len);
        pre[len] = 0;
        if (stat(pre, &sb) == 0)
            continue;
        char *slash = strrchr(pre, '/');
        slash[slash == pre] = 0; /* its parent; "/" stays "/" */
        dprintf(fd, " (%s is closed to it)", pre);
        return;
    }
}

/*
 * Can uid/gid (no supplementary groups) reach every path in paths (stat;
 * search, for a directory) and then run argv (exit 0, its output
 * discarded)?  Probed in a child that has dropped to that user: the only
 * honest answer, whatever the permissions, ACLs, mounts and chroots on the
 * way.  paths and argv are NULL-terminated and either may be NULL.  true if
 * so; else false and why into why (what it could not reach or run, and the
 * error).
 */
#define NOT_RUN 125 /* pt_probe_user's child: it did not get as far as running argv */
bool pt_probe_user(uid_t uid, gid_t gid, const char *const *paths, char *const *argv, char *why,
                   size_t n)
{
    int p[2];
    why[0] = 0;
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(why, n, "pipe: %s", strerror(errno));
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, n, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return false;
    }
    if (pid == 0) {
        close(p[0]);
        signal(SIGALRM, SIG_DFL);
        alarm(20); /* kept across exec: a hung program is killed */
        if (pt_drop(uid, gid, NULL, 0) < 0) {
            dprintf(p[1], "cannot become uid %d: %s", (int)uid, strerror(errno));
            _exit(NOT_RUN);
        }
        for (size_t i = 0; paths && paths[i]; i++) {
            struct stat sb;
            if (stat(paths[i], &sb) < 0 || (S_ISDIR(sb.st_mode) && access(paths[i], X_OK) < 0)) {
                int e = errno;
                dprintf(p[1], "uid %d cannot reach %s: %s", (int)uid, paths[i], strerror(e));
                blocker(p[1], paths[i]);
                _exit(NOT_RUN);
            }
        }
        if (!argv)
            _exit(0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(p[1], 2) < 0)
            _exit(NOT_RUN);
        dprintf(2, "uid %d cannot run %s: ", (int)uid, argv[0]);
        execv(argv[0], argv);
        dprintf(2, "%s", strerror(errno));
        _exit(NOT_RUN);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(p[0], why + got, got + 1 < n ? n - 1 - got : 0)) > 0)
        got += (size_t)r;
    if (got + 1 >= n) { /* drain what does not fit */
        char rest[256];
        while (read(p[0], rest, sizeof rest) > 0)
            ;
    }
    close(p[0]);
    why[got < n ? got : n - 1] = 0;
    int st;
    pid_t w;
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0) {
        snprintf(why, n, "waitpid: %s", strerror(errno));
        return false;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    size_t len = strlen(why);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == NOT_RUN) && len + 1 < n) /* it ran, and failed */
        snprintf(why + len, n - len, " (status %d)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    for (char *c = why; *c; c++) /* one line */
        if (*c == '\n')
            *c = ' ';
    return false;
}

void pt_need_uids(const uid_t *uids)
{
    if (geteuid() != 0)
        skip();
    const char *paths[] = {"/dev/shm", NULL};
    for (size_t i = 0; uids[i]; i++)
        PT_NEED_USER(uids[i], (gid_t)uids[i], paths, NULL);
}
