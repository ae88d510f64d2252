/*
 * testutil.h - small helpers shared by the shm unit tests (test_record,
 * test_frame, test_exec): a seeded PRNG, temporary store directories and
 * their removal.  Header-only; every function is static.
 */
#ifndef PCS_TESTUTIL_H
#define PCS_TESTUTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- a deterministic PRNG (splitmix64) ---- */

typedef struct tu_rng {
    uint64_t s;
} tu_rng;

static inline uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t tu_below(tu_rng *r, uint64_t n)
{
    return tu_next(r) % n;
}

/* ---- temporary directories ---- */

static inline int tu_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything under it. */
static inline void tu_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make a fresh directory under /tmp into buf (at least 64 bytes); returns buf
 * or NULL. */
static inline char *tu_mkdtemp(char *buf, size_t size, const char *tag)
{
    if (snprintf(buf, size, "/tmp/pcs-%s-XXXXXX", tag) >= (int)size)
        return NULL;
    return mkdtemp(buf);
}

/* Sleep ms milliseconds. */
static inline void tu_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

#endif
