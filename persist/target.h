/*
 * target.h - what every snapshot target shares (SQLite files:
 * persist/snapshot.c; a MariaDB or MySQL server: persist/mysql.c).
 *
 * Writing: pcp_walk goes over the store as one set of read transactions
 * sees it (pcs_rtxns_begin: one per shard, one moment) and hands each row of
 * the snapshot's tables to a target's pcp_sink, already decoded: a key with
 * its type, expiry and scalar value; the members of a collection in order;
 * a Flight's value; the chunks of a bit array or a Bloom filter; a Bloom
 * filter's settings and layers; a sorted set's members with their scores;
 * a Stream's figures, entries, groups, consumers and pending entries.  What a snapshot leaves out
 * (expired keys, a Flight that is a lease alone) is decided here, once for every target.
 *
 * Restoring: a pcp_loadset holds one write transaction per shard of an
 * empty store; a target decodes its rows into values and loads each key
 * with pcs_load_* (shm/exec.h) into the shard pcp_load_shard names; all
 * shards commit or none.  The names of types and element kinds in the
 * tables are the same in every target.
 */
#ifndef PCP_TARGET_H
#define PCP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../shm/exec.h"
#include "../shm/maint.h"
#include "../shm/record.h"
#include "../shm/store.h"

/* The rows of one snapshot, as a target receives them.  Every callback
 * returns 0 or a PC_E* code (which stops the walk); ctx is the target's. */
typedef struct pcp_sink {
    void *ctx;
    /* A key: its type, its expiry (ms since the epoch, 0: none; a Flight's
     * is its value's stale end) and its scalar value: a String's bytes, a
     * Numeric (PC_INT or PC_DOUBLE), a bit array's length in bytes
     * (PC_INT); NULL for collections, Flights and Bloom filters. */
    int (*key)(void *ctx, const pc_bytes *key, pc_type type, uint64_t expire_at,
               const pc_val *value);
    /* An element of the collection under key, in the collection's order:
     * pos (0 = head) for Lists and Queues, -1 otherwise; field for Maps,
     * NULL otherwise. */
    int (*member)(void *ctx, const pc_bytes *key, int64_t pos, const pc_bytes *field,
                  const pc_val *v);
    /* A Flight's value, fresh until fresh_until. */
    int (*flight)(void *ctx, const pc_bytes *key, uint64_t fresh_until, const pc_val *v);
    /* A stored chunk (layer 0 of a bit array; layer n of a Bloom filter). */
    int (*chunk)(void *ctx, const pc_bytes *key, uint32_t layer, uint32_t idx, const void *p,
                 size_t n);
    /* A Bloom filter's settings, then each of its layers. */
    int (*bloom)(void *ctx, const pc_bytes *key, double error, uint64_t capacity,
                 uint32_t expansion, bool nonscaling);
    int (*layer)(void *ctx, const pc_bytes *key, unsigned i, const pcs_bf_layer *l);
    /* issue 17: a sorted set's member and its score, in the set's order
     * (by score, ties by member). */
    int (*zmember)(void *ctx, const pc_bytes *key, const pc_val *member, double score);
    /* A Stream's figures (last ID, largest deleted ID, entries ever
     * added), then its entries in ID order (npairs field/value pairs in
     * fv[0..2*npairs)), its groups (entries_read -1: unknown), pending
     * entries and consumers (active 0: never), each of a group named
     * before. */
    int (*stream)(void *ctx, const pc_bytes *key, pc_xid last, pc_xid maxdel, uint64_t added);
    int (*xentry)(void *ctx, const pc_bytes *key, pc_xid id, const pc_val *fv, size_t npairs);
    int (*xgroup)(void *ctx, const pc_bytes *key, const pc_bytes *group, pc_xid last,
                  int64_t entries_read);
    int (*xpending)(void *ctx, const pc_bytes *key, const pc_bytes *group, pc_xid id,
                    const pc_bytes *consumer, uint64_t delivered_ms, uint64_t deliveries);
    int (*xconsumer)(void *ctx, const pc_bytes *key, const pc_bytes *group,
                     const pc_bytes *consumer, uint64_t seen_ms, uint64_t active_ms);
    /* The target's own words for the error its last callback returned
     * (NULL or "": none). */
    const char *(*errmsg)(void *ctx);
} pcp_sink;

/* Rows handed to a sink, by table. */
typedef struct pcp_counts {
    uint64_t keys, members, flights, chunks, blooms, layers;
    /* issue 17: sorted sets' members; streams, their entries (not pairs),
     * groups, consumers, pending entries */
    uint64_t zmembers, streams, xentries, xgroups, xconsumers, xpending;
} pcp_counts;

/*
 * Hand every live key of the store, as rt (one read transaction per shard)
 * sees it at now (ms since the epoch: keys expired by then are left out),
 * to sink, shard after shard.  With end_reads, each shard's transaction is
 * ended (pcs_rtxn_end) as soon as that shard is walked, so that its writer
 * reuses the pages its commits free again while the other shards are still
 * read as of the same moment; the caller still ends rt (pcs_rtxns_end)
 * afterwards.  Give end_reads to the last target that walks rt alone.
 * PC_EINVAL when rt does not hold a transaction for each shard.  0, or the
 * first error (of the store, or a sink's) with what went wrong in why.
 */
int pcp_walk(const pcs_store *st, pcs_rtxns *rt, bool end_reads, uint64_t now, const pcp_sink *sink,
             pcp_counts *n, char *why, size_t whylen);

/* A type's name in the tables ("string" ... "zset"), and back (0: none). */
const char *pcp_type_name(int type);
int pcp_type_of(const char *name, size_t len);
/* An element kind's name ("nil", "bytes", "int", "double", "bool"), and
 * back (0: none). */
const char *pcp_kind_name(int kind);
int pcp_kind_of(const char *name, size_t len);

/* ---- restoring ---- */

typedef struct pcp_loadset {
    pcs_store *st;
    pcs_wctx *w; /* one per shard, each in a write transaction */
    unsigned begun;
} pcp_loadset;

/*
 * Begin loading into st: PC_EEXIST when it holds a key (restore only into
 * an empty store: its data is newer), else one write transaction per
 * shard.  0 or a PC_E* code, with why.
 */
int pcp_load_open(pcp_loadset *ls, pcs_store *st, char *why, size_t whylen);
/* The write context of key's shard. */
pcs_wctx *pcp_load_shard(pcp_loadset *ls, const void *key, size_t klen);
/* End: commit every shard when rc is 0, else abort them all.  The result:
 * rc, or a commit's error. */
int pcp_load_close(pcp_loadset *ls, int rc);
/* A pcs_load_* refusal of a row as the snapshot's fault (PC_ECORRUPT); a
 * String or Numeric too large for this store (PC_ETOOBIG) stays what it is
 * when scalar. */
int pcp_load_err(int rc, bool scalar);

#endif
