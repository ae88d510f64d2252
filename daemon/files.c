/*
 * files.c - the store directory and the files the daemon keeps in it, made
 * and opened so that no other user can point them elsewhere.
 *
 * LMDB opens DIR/data-NN.mdb and DIR/data-NN.mdb-lock by name and would
 * follow a symbolic link planted there (a root daemon then overwrites any
 * file).  The defence is the directory: it must be owned by the daemon's
 * uid and writable by nobody else, so nobody else can plant anything in it;
 * it is opened once (O_NOFOLLOW) and what the daemon opens itself is opened
 * relative to it with O_NOFOLLOW.  Before LMDB opens a store file, the file
 * is checked too (a regular file of ours, one link).  Modes per role are
 * docs/reliability.md's "File modes" table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "pycached.h"

static int dir_fd = -1; /* the store directory, held open while we run */
static bool logging;    /* the log is open: refusals go there too */

bool pcd_others_admitted(const pcd_config *cfg)
{
    return cfg->n_allow_gid || cfg->n_ro_uid || cfg->n_ro_gid || cfg->n_grant;
}

static const char *kind_of(mode_t m)
{
    return S_ISLNK(m)    ? "a symbolic link"
           : S_ISDIR(m)  ? "a directory"
           : S_ISSOCK(m) ? "a socket"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISREG(m)  ? "a file"
                         : "a device";
}

int pcd_dir_prepare(const pcd_config *cfg)
{
    const char *dir = cfg->dir;
    mode_t want = pcd_others_admitted(cfg) ? 0711 : 0700;
    if (mkdir(dir, want) < 0 && errno != EEXIST) {
        fprintf(stderr, "pycached: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        struct stat sb;
        if (errno == ENOTDIR && lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode))
            fprintf(stderr,
                    "pycached: the store directory %s is a symbolic link: give the directory "
                    "it points to\n",
                    dir);
        else
            fprintf(stderr, "pycached: cannot open the store directory %s: %s\n", dir,
                    strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        fprintf(stderr, "pycached: cannot stat %s: %s\n", dir, strerror(errno));
        close(fd);
        return -1;
    }
    uid_t me = geteuid();
    if (sb.st_uid != me) {
        fprintf(stderr,
                "pycached: the store directory %s is owned by uid %u, not by this daemon's uid "
                "%u: its owner could replace the store's files with links; use a directory of "
                "your own (or chown %u %s)\n",
                dir, (unsigned)sb.st_uid, (unsigned)me, (unsigned)me, dir);
        close(fd);
        return -1;
    }
    if (sb.st_mode & 022) {
        fprintf(stderr,
                "pycached: the store directory %s is writable by %s (mode %04o): anyone who "
                "can write there could plant links to other files; chmod go-w %s, or use a "
                "directory of your own\n",
                dir, (sb.st_mode & 002) ? "others" : "its group", (unsigned)(sb.st_mode & 07777),
                dir);
        close(fd);
        return -1;
    }
    if (dir_fd >= 0)
        close(dir_fd);
    dir_fd = fd;
    return 0;
}

int pcd_dir_settle(const pcd_config *cfg)
{
    mode_t want = pcd_others_admitted(cfg) ? 0711 : 0700;
    struct stat sb;
    if (fstat(dir_fd, &sb) < 0)
        return -1;
    if ((sb.st_mode & 07777) != want && fchmod(dir_fd, want) < 0) {
        fprintf(stderr, "pycached: cannot set %s to mode %04o: %s\n", cfg->dir, (unsigned)want,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* A file in the store directory is ours to use: a regular file owned by our
 * uid with one link.  0, or -1 after a message (to stderr, and the log). */
static int check_own(const char *dir, const char *name, const struct stat *sb)
{
    const char *why = NULL;
    char buf[64];
    if (!S_ISREG(sb->st_mode)) {
        why = kind_of(sb->st_mode);
    } else if (sb->st_uid != geteuid()) {
        snprintf(buf, sizeof buf, "owned by uid %u", (unsigned)sb->st_uid);
        why = buf;
    } else if (sb->st_nlink != 1) {
        snprintf(buf, sizeof buf, "a file with %lu hard links", (unsigned long)sb->st_nlink);
        why = buf;
    }
    if (!why)
        return 0;
    fprintf(stderr,
            "pycached: %s/%s is %s, not a file pycached made: the daemon follows no link in "
            "its store directory; remove it, or use another directory\n",
            dir, name, why);
    if (logging)
        pcd_log(LOG_ERR, "%s/%s is %s, not a file pycached made", dir, name, why);
    return -1;
}

int pcd_open_own(const pcd_config *cfg, const char *name, int flags, mode_t mode)
{
    int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
    if (fd < 0) {
        struct stat sb;
        if (errno == ELOOP && fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
            return check_own(cfg->dir, name, &sb), -1;
        fprintf(stderr, "pycached: cannot open %s/%s: %s\n", cfg->dir, name, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0 || check_own(cfg->dir, name, &sb)) {
        close(fd);
        return -1;
    }
    return fd;
}

int pcd_store_files_check(const pcd_config *cfg)
{
    for (unsigned s = 0; s < PCS_SHARDS_MAX; s++) {
        for (int lock = 0; lock < 2; lock++) {
            char name[32];
            struct stat sb;
            snprintf(name, sizeof name, "data-%02u.mdb%s", s, lock ? "-lock" : "");
            if (fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                    continue;
                fprintf(stderr, "pycached: cannot stat %s/%s: %s\n", cfg->dir, name,
                        strerror(errno));
                return -1;
            }
            if (check_own(cfg->dir, name, &sb))
                return -1;
        }
    }
    return 0;
}

/*
 * By name, relative to the directory: LMDB holds POSIX record locks on the
 * lock file, and closing any descriptor of it in this process would drop
 * them (fcntl(2)), so it is never opened here.  The name is checked first
 * (a regular file of ours); the directory is ours, so nobody else can swap
 * it in between.
 */
int pcd_store_files_modes(const pcd_config *cfg, unsigned shards)
{
    bool group = cfg->n_allow_gid > 0;
    logging = true;
    for (unsigned s = 0; s < shards; s++) {
        for (int lock = 0; lock < 2; lock++) {
            char name[32];
            snprintf(name, sizeof name, "data-%02u.mdb%s", s, lock ? "-lock" : "");
            /* Readers of the group map the data file read-only; only the
             * lock file (LMDB's reader table) needs their writes. */
            mode_t want = !group ? 0600 : lock ? 0660 : 0640;
            struct stat sb;
            int rc = fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW);
            if (rc == 0 && check_own(cfg->dir, name, &sb))
                return -1;
            if (rc == 0 && group && sb.st_gid != cfg->allow_gid[0])
                rc = fchownat(dir_fd, name, (uid_t)-1, cfg->allow_gid[0], AT_SYMLINK_NOFOLLOW);
            if (rc == 0 && (sb.st_mode & 07777) != want) {
                if (sb.st_mode & 07777 & ~want)
                    pcd_log(LOG_NOTICE, "%s/%s had mode %04o: now %04o (see pycached(8), FILES)",
                            cfg->dir, name, (unsigned)(sb.st_mode & 07777), (unsigned)want);
                rc = fchmodat(dir_fd, name, want, 0);
            }
            if (rc < 0) {
                pcd_log(LOG_ERR, "cannot set %s/%s to mode %04o%s: %s", cfg->dir, name,
                        (unsigned)want, group ? " for the group" : "", strerror(errno));
                return -1;
            }
        }
    }
    return 0;
}

int pcd_sock_clear(const pcd_config *cfg, const char *name)
{
    struct stat sb;
    if (fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(sb.st_mode) || sb.st_uid != geteuid()) {
        char own[48] = "";
        if (S_ISSOCK(sb.st_mode))
            snprintf(own, sizeof own, " owned by uid %u", (unsigned)sb.st_uid);
        pcd_log(LOG_ERR,
                "%s/%s is %s%s, not a socket pycached left: not removed; remove it, or use "
                "another directory",
                cfg->dir, name, kind_of(sb.st_mode), own);
        fprintf(stderr, "pycached: %s/%s is %s%s, not a socket pycached left: remove it\n",
                cfg->dir, name, kind_of(sb.st_mode), own);
        return -1;
    }
    /* We hold the store's lock, so a socket of ours left here is a dead
     * daemon's. */
    return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
}

void pcd_unlink_own(const char *name)
{
    if (dir_fd >= 0)
        unlinkat(dir_fd, name, 0);
}
