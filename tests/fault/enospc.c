/*
 * enospc.c - an LD_PRELOAD shim that makes the disk look full, for
 * test_fault_resource.
 *
 * While the file named by $FAULT_ENOSPC_FLAG exists, every write to a file
 * whose path starts with $FAULT_ENOSPC_DIR fails with ENOSPC (write, pwrite,
 * pwrite64, writev, pwritev, fallocate, posix_fallocate), as on a full
 * filesystem.  Everything else passes through.  Built as a libtool module
 * (check_LTLIBRARIES in fault.am), without sanitizers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t writev(int fd, const struct iovec *iov, int cnt);
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off);
int fallocate(int fd, int mode, off_t off, off_t len);
int posix_fallocate(int fd, off_t off, off_t len);

/* Is fd a file under the "full" directory while the flag file exists? */
static int full(int fd)
{
    const char *dir = getenv("FAULT_ENOSPC_DIR");
    const char *flag = getenv("FAULT_ENOSPC_FLAG");
    if (!dir || !flag || fd < 0)
        return 0;
    int saved = errno;
    struct stat st;
    int on = stat(flag, &st) == 0;
    char link[64], path[4096];
    ssize_t n = -1;
    if (on) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof path - 1);
    }
    errno = saved;
    if (n <= 0)
        return 0;
    path[n] = 0;
    size_t dl = strlen(dir);
    return strncmp(path, dir, dl) == 0 && (path[dl] == '/' || path[dl] == 0);
}

/* name is a function's name, stringified too: it cannot be parenthesised. */
#define NEXT(name) \
    ((__typeof__(&name))dlsym(RTLD_NEXT, #name)) // NOLINT(bugprone-macro-parentheses)

ssize_t write(int fd, const void *buf, size_t n)
{
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return NEXT(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return NEXT(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return NEXT(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return NEXT(pwritev)(fd, iov, cnt, off);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return NEXT(fallocate)(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
    if (full(fd))
        return ENOSPC;
    return NEXT(posix_fallocate)(fd, off, len);
}
