/*
 * snapshot.h - SQLite snapshots of a store, and restoring from them.
 *
 * A snapshot is a SQLite database a person can query with sqlite3:
 *
 *   meta(name TEXT PRIMARY KEY, value)   format, pycache_version, created_ms,
 *                                        generation, took_ms, key_count,
 *                                        member_count, shards
 *   keys(key PRIMARY KEY, type TEXT, expire_at INTEGER, value)   WITHOUT ROWID
 *        one row per live key; value holds a String (TEXT when it is valid
 *        UTF-8, else BLOB) or a Numeric (INTEGER or REAL); NULL for collections
 *   members(key, pos INTEGER, field, value, kind TEXT)
 *        one row per element, in the collection's order: pos for lists and
 *        queues (0 = head), field for maps, value+kind for every element;
 *        kind is nil, bytes, int, double or bool
 *   views strings, numerics, lists, queues, maps, sets
 *
 * Files are named pycache-YYYYMMDD-HHMMSS-uuuuuu.db (UTC, microseconds; bumped
 * past a name already taken) for people; each is written to a temporary name,
 * fsync'ed with its directory, and renamed into place only when complete.
 *
 * Which snapshot is newer is decided by its content, never by its name or
 * mtime: meta.generation, one more than the highest in the directory when
 * the daemon started and counting up from there (a clock stepped back cannot
 * reorder it), then meta.created_ms.  Snapshots written before generations (no
 * generation) count as generation 0, older than any that has one.
 * Restoring and retention both use that order, and both leave alone what is
 * not ours: symbolic links, other kinds of file, files of another uid.
 *
 * SQLite opens the files by a percent-encoded file: URI, so any byte of a
 * directory name ('#', '?', '%', a space) is part of the name.
 */
#ifndef PCP_SNAPSHOT_H
#define PCP_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "../shm/maint.h"
#include "../shm/store.h"

#define PCP_FORMAT 1
#define PCP_PREFIX "pycache-"
#define PCP_SUFFIX ".db"

typedef struct pcp_result {
    int rc;        /* 0 or a PC_E* code */
    uint64_t keys; /* keys written or loaded */
    uint64_t members;
    uint64_t skipped; /* restore: keys already expired */
    uint64_t bytes;   /* size of the file */
    uint64_t took_ms;
    uint64_t when_ms;        /* when it finished */
    uint64_t generation;     /* written: its generation */
    char path[4096];         /* the file written or loaded */
    char why[512];           /* on failure: what went wrong, for the log */
    unsigned ignored;        /* written: files retention left alone (not ours, links) */
    char ignored_first[600]; /* the first of them, and why */
} pcp_result;

typedef void (*pcp_log_fn)(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Write a snapshot of the store as the read transactions rt (one per
 * shard: pcs_rtxns_begin) see it, into dir, as generation (1 or more; give
 * each a higher one than any before: pcp_last_generation), then keep only
 * the newest keep snapshots there (0: keep all).  Nothing is renamed into place unless
 * complete.  A full disk is PC_ENOSPC.  Files retention leaves alone (not
 * ours, links) are counted in res->ignored, the first described in
 * res->ignored_first: it logs nothing itself (it runs on a thread of its
 * own).  PC_EINVAL, and nothing written, when rt does not hold one
 * transaction per shard.  With end_reads, each shard's transaction is
 * ended (pcs_rtxn_end) as soon as that shard is written, so that its
 * writer reuses freed pages again (pcp_walk, target.h); the caller still
 * ends rt (pcs_rtxns_end) afterwards.
 */
int pcp_snapshot(const pcs_store *st, pcs_rtxns *rt, const char *dir, unsigned keep,
                 uint64_t generation, bool end_reads, pcp_result *res);

/* The highest generation among the snapshots in dir (0: none, or only
 * files of a version without generations).  0 or a PC_E* code. */
int pcp_last_generation(const char *dir, pcp_log_fn log, uint64_t *gen);

/* Check a snapshot file: opens, passes PRAGMA quick_check, is our format,
 * and its counts agree with meta.  0 or PC_ECORRUPT / PC_EINCOMPAT with why. */
int pcp_check(const char *path, char *why, size_t whylen);

/* Load one snapshot into an empty store, skipping keys already expired.
 * On failure nothing is loaded. */
int pcp_restore_file(pcs_store *st, const char *path, pcp_result *res);

/*
 * Load the newest snapshot in dir (by generation, then the time recorded in
 * it) that passes its checks, logging each one refused and why, and each
 * file left alone (a link, another uid's).  PC_ENOENT when there is none.
 */
int pcp_restore_newest(pcs_store *st, const char *dir, pcp_log_fn log, pcp_result *res);

/* Remove temporary files a killed snapshot left behind in dir. */
void pcp_clean_temp(const char *dir);

#endif
