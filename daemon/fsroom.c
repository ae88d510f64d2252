/*
 * fsroom.c - keep the store inside what its filesystem can hold.
 *
 * The daemon writes the store through a shared mapping (MDB_WRITEMAP): LMDB
 * stores into a page of the map as soon as a write transaction touches it,
 * and a page that the filesystem cannot back kills the daemon with SIGBUS
 * there and then -- not at commit, where an error could still be returned.
 * The map is sparse and --max-memory large, so a store on a small
 * filesystem (Docker's 64M /dev/shm under the default 1G map) outgrows it.
 *
 * Two things keep every page a pass can touch backed (docs/design.md):
 *
 *  - A limit.  At start each shard's map is cut, in this process only, to
 *    what its file already holds plus its share of the filesystem's free
 *    space (pcs_shard_set_mapsize; LMDB records only increases of the map size
 *    in the file, so the store keeps the shape it was made with).  LMDB
 *    never touches a page past its map: a write that would need one fails
 *    with MDB_MAP_FULL, which the executor answers PC_EFULL, request by
 *    request.  The memory cap (--evict-at) is taken of the cut map.
 *
 *  - A reservation.  Other processes writing to the same filesystem can
 *    take the space the limit counts on, so each shard keeps a window ahead
 *    of its last page reserved (fallocate), extended before each pass to
 *    cover twice the pass's bytes.  When the filesystem cannot give it, the
 *    pass may grow the store only into what is reserved; the rest is
 *    answered PC_EFULL until space comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>

#include "pycached.h"

/* Left free for the pid file and the directory's own blocks. */
#define FS_MARGIN (UINT64_C(64) << 10)
/* The reservation ahead of a shard's last page: a sixteenth of its map,
 * within these bounds (on tmpfs what is reserved is memory in use). */
#define WINDOW_MIN (UINT64_C(1) << 20)
#define WINDOW_MAX (UINT64_C(16) << 20)

/* The end of the pages LMDB has handed out in shard s: its high-water mark. */
static uint64_t shard_hwm(const pcd *d, unsigned s)
{
    pcs_shard_info info;
    if (pcs_shard_info_get(&d->st->shards[s], &info))
        return 0;
    return info.pages * d->fs_psize;
}

static uint64_t window_of(uint64_t limit)
{
    uint64_t w = limit / 16;
    return w < WINDOW_MIN ? WINDOW_MIN : w > WINDOW_MAX ? WINDOW_MAX : w;
}

/* Bytes of path's file that are not backed yet (a sparse file's holes). */
static uint64_t unbacked(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return 0;
    uint64_t have = (uint64_t)sb.st_blocks * 512;
    return (uint64_t)sb.st_size > have ? (uint64_t)sb.st_size - have : 0;
}

/* Cut shard s's map to limit bytes (never under its last page: LMDB rounds
 * that up).  Sets d->fs_limit[s] to the map LMDB now has. */
static int cut_map(pcd *d, unsigned s, uint64_t limit)
{
    int rc = pcs_shard_set_mapsize(&d->st->shards[s], limit, &d->fs_limit[s]);
    if (rc) {
        pcd_log(LOG_ERR, "cannot cut shard %u's map to %llu bytes: %s", s,
                (unsigned long long)limit, pc_strerror(rc));
        return -1;
    }
    return 0;
}

/* Too little room for shards of 1M each: say so (at start, the log may be
 * the terminal or a file; the message goes to both). */
static int too_small(const pcd *d, uint64_t avail, unsigned shards)
{
    char a[32];
    fprintf(stderr,
            "pycached: the filesystem of %s has %s free: too little for %u shard(s) of "
            "at least 1M each\n",
            d->cfg.dir, pcd_fmt_size(avail, a, sizeof a), shards);
    pcd_log(LOG_ERR, "the filesystem of %s has %llu bytes free: too little for %u shard(s)",
            d->cfg.dir, (unsigned long long)avail, shards);
    return -1;
}

int pcd_fs_precheck(pcd *d)
{
    char path[4200];
    struct stat sb;
    struct statvfs sv;
    snprintf(path, sizeof path, "%s/data-00.mdb", d->cfg.dir);
    if (stat(path, &sb) == 0 || statvfs(d->cfg.dir, &sv) < 0)
        return 0; /* an existing store: pcd_fs_open sees to it */
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    if (avail < FS_MARGIN + (uint64_t)d->cfg.shards * PCD_MEMORY_MIN)
        return too_small(d, avail, d->cfg.shards);
    return 0;
}

int pcd_fs_open(pcd *d)
{
    pcs_store *st = d->st;
    if (pcs_shard_page_size(&st->shards[0], &d->fs_psize))
        return -1;
    d->map_limit = st->map_size;
    d->fs_total = 0;
    for (unsigned s = 0; s < st->nshards; s++)
        d->fs_limit[s] = st->map_size;
    struct statvfs sv;
    if (statvfs(d->cfg.dir, &sv) < 0) {
        pcd_log(LOG_WARNING, "cannot read the free space of %s (%s): the store is not capped to it",
                d->cfg.dir, strerror(errno));
        return 0;
    }
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    /* What the lock files' reader tables can still take is kept free. */
    uint64_t keep = FS_MARGIN;
    uint64_t backed[PCS_SHARDS_MAX];
    for (unsigned s = 0; s < st->nshards; s++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/data-%02u.mdb-lock", d->cfg.dir, s);
        keep += unbacked(path);
        snprintf(path, sizeof path, "%s/data-%02u.mdb", d->cfg.dir, s);
        struct stat sb;
        backed[s] = stat(path, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
    }
    uint64_t share = avail > keep ? (avail - keep) / st->nshards : 0;
    bool cut = false;
    for (unsigned s = 0; s < st->nshards; s++) {
        uint64_t limit = backed[s] + share;
        limit -= limit % d->fs_psize;
        if (limit < st->map_size && limit < PCD_MEMORY_MIN && shard_hwm(d, s) < PCD_MEMORY_MIN)
            return too_small(d, avail, st->nshards);
        if (limit < st->map_size) {
            if (cut_map(d, s, limit))
                return -1;
            cut = true;
        }
        d->fs_total += d->fs_limit[s];
        if (d->fs_limit[s] < d->map_limit)
            d->map_limit = d->fs_limit[s];
    }
    if (cut)
        pcd_log(LOG_WARNING,
                "the filesystem of %s has %llu MiB free, less than the store's maps (%u x %llu "
                "MiB): the store is capped at %llu MiB; writes beyond get PC_EFULL",
                d->cfg.dir, (unsigned long long)(avail >> 20), st->nshards,
                (unsigned long long)(st->map_size >> 20), (unsigned long long)(d->fs_total >> 20));
    pcd_fs_room(d, 0);
    return 0;
}

uint64_t pcd_fs_room(pcd *d, uint64_t incoming)
{
    if (d->fs_noreserve)
        return UINT64_MAX;
    uint64_t room = UINT64_MAX, need = 2 * incoming;
    bool short_of_space = false;
    for (unsigned s = 0; s < d->st->nshards; s++) {
        uint64_t hwm = shard_hwm(d, s), limit = d->fs_limit[s], win = window_of(limit);
        uint64_t *res = &d->fs_reserved[s];
        if (*res < hwm)
            *res = hwm; /* LMDB wrote every page below it: they are backed */
        uint64_t low = hwm + win / 2 + need, want = hwm + win + need;
        if (low > limit)
            low = limit;
        if (want > limit)
            want = limit;
        if (*res < low) {
            int fd;
            int rc = pcs_shard_fd(&d->st->shards[s], &fd)
                         ? -1
                         : fallocate(fd, 0, (off_t)*res, (off_t)(want - *res));
            if (rc == 0) {
                *res = want;
            } else if (errno == EOPNOTSUPP || errno == ENOSYS) {
                pcd_log(LOG_INFO,
                        "the filesystem of %s cannot reserve space (fallocate): the store "
                        "relies on its cap alone",
                        d->cfg.dir);
                d->fs_noreserve = true;
                return UINT64_MAX;
            } else {
                short_of_space = true;
            }
        }
        if (*res < limit && *res - hwm < room)
            room = *res - hwm;
    }
    if (short_of_space != d->fs_short) {
        d->fs_short = short_of_space;
        if (short_of_space)
            pcd_log(LOG_WARNING,
                    "the filesystem of %s is full before the store's cap (another process "
                    "took its space?): writes that grow the store get PC_EFULL until it has room",
                    d->cfg.dir);
        else
            pcd_log(LOG_NOTICE, "the filesystem of %s has room again", d->cfg.dir);
    }
    return room;
}
