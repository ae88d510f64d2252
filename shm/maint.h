/*
 * maint.h - what the daemon's upkeep asks of LMDB besides running requests:
 * the space a shard's map holds and uses, its reader table, the head of its
 * expiry index, eviction candidates, read transactions of its own (for the
 * counts, meta entries and snapshots), syncing.
 *
 * Each function is a few LMDB calls behind one name, so that LMDB stays in
 * shm/ (and persist/): the daemon calls these and never LMDB itself.  Every
 * one translates LMDB's codes into PC_E* codes; none allocates memory the
 * caller must free.
 *
 * Threads: the store's environments are opened MDB_NOTLS, so a function
 * that begins a read transaction of its own may run on any thread, while
 * another thread writes.  Functions that take a pcs_wctx run on the thread
 * that owns it, inside its open write transaction.  The rest read or change
 * the environment itself and say what they need.
 */
#ifndef PCS_MAINT_H
#define PCS_MAINT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "exec.h"
#include "store.h"

/* ---- space ---- */

/* A shard's map as LMDB sees it now. */
typedef struct pcs_shard_info {
    uint64_t map_size;   /* bytes mapped */
    uint64_t pages;      /* pages handed out so far: the last page number + 1,
                            the map's high-water mark */
    uint64_t last_txnid; /* the last committed write transaction */
} pcs_shard_info;

/* Fill *out (from LMDB's environment info: no transaction, cheap).
 * 0, or PC_EINVAL / PC_EIO when LMDB cannot say. */
int pcs_shard_info_get(const pcs_shard *sh, pcs_shard_info *out);

/* LMDB's page size for the shard, in bytes.  0 or a PC_E* code. */
int pcs_shard_page_size(const pcs_shard *sh, unsigned *psize);

/*
 * The usage probe: the bytes of the pages LMDB has handed out, less the
 * pages on its free list (a walk of the free list in a read transaction of
 * its own), into *bytes.  0 or a PC_E* code (*bytes is then unchanged).
 */
int pcs_shard_usage(const pcs_shard *sh, uint64_t *bytes);

/*
 * Change the size this process maps shard sh at to size bytes (LMDB rounds
 * it up to at least the last page in use), and say what it maps now in
 * *mapped.  Only while no transaction of this process is open on the shard.
 * 0 or a PC_E* code (*mapped is then unchanged).
 */
int pcs_shard_set_mapsize(const pcs_shard *sh, uint64_t size, uint64_t *mapped);

/* The descriptor of the shard's data file (owned by LMDB: never close it).
 * 0 or a PC_E* code. */
int pcs_shard_fd(const pcs_shard *sh, int *fd);

/* Flush the shard's data file to disk now (a store opened MDB_NOSYNC, or
 * between commits).  0 or a PC_E* code. */
int pcs_shard_sync(const pcs_shard *sh);

/* ---- readers ---- */

/* Clear the reader slots of processes that are gone; *dead (may be NULL)
 * gets how many.  0 or a PC_E* code. */
int pcs_shard_reader_check(const pcs_shard *sh, int *dead);

/* What the reader table of a shard holds. */
typedef struct pcs_readers {
    unsigned used;      /* slots in use */
    uint64_t min_txnid; /* the oldest snapshot a slot holds (UINT64_MAX: none) */
    int min_pid;        /* the pid the reader table gives for it (the reader's own
                           namespace; 0 with none) */
} pcs_readers;

/* Walk the shard's reader table into *out.  0 or a PC_E* code (*out then
 * holds what the walk saw). */
int pcs_shard_readers(const pcs_shard *sh, pcs_readers *out);

/* ---- read transactions of their own ---- */

/* When the soonest key of the shard falls due (ms since the epoch), from the
 * head of its expiry index; UINT64_MAX when no key has a TTL.  0, or
 * PC_ECORRUPT (the head is not an expiry key) or another PC_E* code. */
int pcs_shard_next_due(const pcs_shard *sh, uint64_t *due);

/* The shard's counts (pcs_counts_get) as last committed.  0 or a PC_E* code. */
int pcs_shard_counts(const pcs_shard *sh, uint64_t out[PCS_COUNTS]);

/* A meta entry (pcs_meta_get) as last committed: 0, PC_ENOTFOUND when the
 * shard has none of that name, PC_ECORRUPT, or another PC_E* code. */
int pcs_shard_meta(const pcs_shard *sh, const char *name, uint64_t *v);

/*
 * One read transaction on every shard of a store, begun one after the
 * other: what persist/ writes a snapshot from.  Begun while no write
 * commits (the caller holds whatever its writer holds across a commit), it
 * is the store as of one moment across shards.  The set belongs to the
 * thread that began it until pcs_rtxns_end.
 */
typedef struct pcs_rtxns {
    unsigned n;                   /* transactions begun: txn[0..n), one per shard */
    MDB_txn *txn[PCS_SHARDS_MAX]; /* txn[s] reads shard s; NULL once ended alone */
} pcs_rtxns;

/* Begin a read transaction on each of st's shards: 0 with every one open,
 * or a PC_E* code with none (those begun are ended). */
int pcs_rtxns_begin(const pcs_store *st, pcs_rtxns *rt);
/* End shard s's transaction alone, once it is read (the others still see
 * the same moment): from then on that shard's writer can reuse the pages
 * its commits free.  Nothing if s is out of range or already ended. */
void pcs_rtxn_end(pcs_rtxns *rt, unsigned s);
/* End them (any number, 0 included); rt is then empty. */
void pcs_rtxns_end(pcs_rtxns *rt);

/* ---- eviction candidates (inside w's write transaction) ---- */

/* Where the allkeys-lru/lfu sampling cursor of one shard is. */
typedef struct pcs_sampler {
    uint8_t pos[PC_KEY_MAX]; /* the last key sampled */
    size_t len;              /* its length; 0: start from the first key */
} pcs_sampler;

/*
 * allkeys-lru/lfu: the best victim among `samples` keys of w's shard, by
 * the access array (shm/access.h, only read here): the lowest decayed LFU
 * count, then the oldest minute (lfu), or the oldest second (LRU).  The
 * keys are taken by a cursor that sweeps the shard from sp's position,
 * stepping over 1 + rnd(rnd_arg) % 4 keys each time and wrapping at the
 * end, so that every key gets sampled in turn whatever the keys look like
 * (a random probe into the key space would favour the keys after the
 * widest gaps); sp moves along.  The victim's name is copied into victim
 * (PC_KEY_MAX bytes), its length into *vlen.  0, PC_ENOTFOUND (no key),
 * PC_EINVAL (no access array or rnd, no transaction, a bad sp), PC_EIO (LMDB
 * gave no cursor).
 */
int pcs_evict_sample(pcs_wctx *w, pcs_sampler *sp, _Atomic uint32_t *access, bool lfu,
                     unsigned samples, uint32_t (*rnd)(void *), void *rnd_arg, uint8_t *victim,
                     size_t *vlen);

/*
 * volatile-ttl: the key of w's shard that expires soonest (the head of its
 * expiry index), copied into victim (PC_KEY_MAX bytes), its length into
 * *vlen.  0, PC_ENOTFOUND (no key has a TTL, or the head of the index is
 * not an expiry key: nothing to evict by it), PC_EINVAL (no transaction),
 * PC_EIO (LMDB gave no cursor).
 */
int pcs_evict_soonest(pcs_wctx *w, uint8_t *victim, size_t *vlen);

#endif
