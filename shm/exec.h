/*
 * exec.h - run decoded write requests against one shard.
 *
 * A write context (pcs_wctx) wraps one LMDB write transaction on one shard.
 * pcs_exec runs one request in it and appends its response frame; an
 * operation that fails changes nothing.  pcs_run is what embedded clients and
 * the daemon both call: a list of requests in one transaction, committed
 * once, with a fall-back to one transaction per request if LMDB fails part
 * way (a full map, say), so that only the request that cannot be done fails.
 */
#ifndef PCS_EXEC_H
#define PCS_EXEC_H

#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "record.h"
#include "store.h"

/* Indexes into a shard's counts (the "counts" meta entry, u64 each). */
enum {
    PCS_C_TYPE0 = 0, /* + pc_type up to PC_T_QUEUE: keys of each type (index 0 unused) */
    PCS_C_TTL = 7,   /* keys with a TTL */
    PCS_C_EXPIRED,   /* keys removed because their TTL ran out */
    PCS_C_EVICTED,   /* keys removed to stay under the memory cap */
    PCS_C_SWEPT,     /* members of dropped collections removed */
    PCS_C_TYPE7,     /* + (pc_type - PC_T_FLIGHT): keys of issue 16's types */
    PCS_COUNTS = PCS_C_TYPE7 + PC_T__COUNT - PC_T_FLIGHT
};
/* The counts of stores made before issue 16's types (read as zeros there).
 * Stores made before issue 17's have three more; pcs_counts_get takes any
 * number from this one to PCS_COUNTS. */
#define PCS_COUNTS_V1 PCS_C_TYPE7

/* The index of type t's key count. */
static inline unsigned pcs_c_type(pc_type t)
{
    return t <= PC_T_QUEUE ? PCS_C_TYPE0 + (unsigned)t : PCS_C_TYPE7 + (unsigned)(t - PC_T_FLIGHT);
}

typedef struct pcs_wctx {
    pcs_store *st;
    unsigned shard;
    const pcs_shard *sh;
    MDB_txn *txn;  /* the transaction requests run in (a child inside a TXN) */
    MDB_txn *root; /* the top-level transaction */
    uint64_t seq;  /* last sequence number handed out */
    uint64_t seq0; /* sequence number as stored in meta */
    uint64_t now;  /* ms since the epoch, fixed for the transaction */
    uint64_t nmut; /* puts and deletes so far */
    int fatal;     /* first LMDB failure: the transaction must be aborted */
    int mdb_fail;  /* ... and the LMDB code behind it (MDB_MAP_FULL, say) */
    uint64_t rng;  /* for spop */
    pcs_buf tmp;   /* scratch, kept across transactions */
    pcs_buf tmp2;
    /* Changes to the shard's counts in this transaction (applied to the
     * "counts" meta entry at commit): keys by type, keys with a TTL, and
     * totals of keys expired, keys evicted, members swept. */
    int64_t dc[PCS_COUNTS];
    /* Optional (NULL: none).  pcs_run calls it when a request failed for
     * want of pages (MDB_MAP_FULL) in a transaction of its own, with round
     * 0, 1, ... for that request, and runs the request again as long as it
     * returns true (it made room: evicted, say).  No transaction is open
     * on w during the call; the hook may use w for transactions of its own. */
    bool (*room_fn)(void *arg, unsigned shard, const pcs_req *rq, unsigned round);
    void *room_arg;
} pcs_wctx;

void pcs_wctx_init(pcs_wctx *w);
void pcs_wctx_free(pcs_wctx *w);

/* Begin a write transaction on shard. */
int pcs_wbegin(pcs_wctx *w, pcs_store *st, unsigned shard);
int pcs_wcommit(pcs_wctx *w);
void pcs_wabort(pcs_wctx *w);

/* pcs_exec's answer for a transaction request that failed: its response is
 * appended, and the caller must abort the LMDB transaction (which held
 * nothing else: a transaction request always runs first in its own). */
#define PCS_ROLLBACK 1

/*
 * Run one request, appending its response to out.  Returns 0 when a
 * response was appended (its rc tells the outcome), PCS_ROLLBACK (above), or
 * a negative code when the LMDB transaction failed and must be aborted
 * (nothing usable was appended).
 */
int pcs_exec(pcs_wctx *w, const pcs_req *rq, pcs_buf *out);

/*
 * Background upkeep inside the current transaction: remove up to budget
 * expired keys (PCS_MAINT_EXPIRE) and dead collection members
 * (PCS_MAINT_SWEEP).  *did (may be NULL) gets how many items went.
 * Returns 0 or a fatal code.
 */
#define PCS_MAINT_EXPIRE 1u
#define PCS_MAINT_SWEEP 2u
int pcs_maint(pcs_wctx *w, unsigned what, unsigned budget, unsigned *did);

/* Remove key (any type, its expiry entry, its members later) for eviction.
 * *gone: it existed. */
int pcs_evict_key(pcs_wctx *w, const void *key, size_t klen, bool *gone);

/*
 * Load one record, as a snapshot holds it, into w's write transaction
 * (pcs_wbegin on the key's shard): what restoring a store is made of.
 *   key, klen   1..PC_KEY_MAX bytes, of w's shard (pcs_shard_of)
 *   type        PC_T_STRING .. PC_T_QUEUE
 *   expire_at   ms since the epoch, 0: no TTL (a time already past loads a
 *               record that reads as expired: skip those)
 *   value       String: PC_BYTES; Numeric: PC_INT or a finite PC_DOUBLE;
 *               NULL for a collection
 *   items, n    a collection's elements, n >= 1, in order: List and Queue
 *               head first; Map field, value pairs (fields PC_BYTES); Set
 *               members (duplicates fold); NULL, 0 for a String or Numeric
 * Nothing is kept of the arguments: they may point anywhere but into the
 * map.  For filling an empty store: a key already there, even expired, is
 * refused (replacing it would leave its expiry entry, members and counts).
 * Bad input is answered before anything is written, with PC_EINVAL (a
 * wrong type or kind, a missing or extra value or items, a key of another
 * shard, no transaction), PC_EKEY, PC_ETOOBIG (larger than the store's
 * max_value), PC_ENAN or PC_EEXIST.  Any other code is a failure part way
 * (an LMDB failure such as PC_EFULL or PC_EIO, PC_ENOMEM, or PC_ECOLLISION
 * for two long fields or members that share a digest), after which w's
 * transaction must be aborted.  Runs on the thread that owns w.
 */
int pcs_load_record(pcs_wctx *w, const void *key, size_t klen, pc_type type, uint64_t expire_at,
                    const pc_val *value, const pc_val *items, size_t n);

/*
 * Issue 16's types, loaded as pcs_load_record loads the others (the same
 * rules: an empty store, w's shard, bad input refused before anything is
 * written, PC_EEXIST for a key already there).
 *
 * A Flight's value v (any element kind) fresh until fresh_until and kept
 * stale until expire_at (>= fresh_until; ms since the epoch); no lease.
 */
int pcs_load_flight(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at,
                    uint64_t fresh_until, const pc_val *v);

/*
 * A bit array of nbytes (1..2^29) bytes, in three steps: pcs_load_bits
 * checks the key and starts the record r (nothing written); each stored
 * chunk goes in with pcs_load_chunk (layer 0, idx below nbytes / PCS_CHUNK
 * rounded up, 1..PCS_CHUNK bytes of which not all zero, each idx once:
 * PC_EINVAL otherwise); pcs_load_done writes the record.
 */
int pcs_load_bits(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, uint64_t nbytes,
                  pcs_rec *r);
int pcs_load_chunk(pcs_wctx *w, pcs_rec *r, uint32_t layer, uint32_t idx, const void *p, size_t n);
int pcs_load_done(pcs_wctx *w, const void *key, size_t klen, pcs_rec *r);

/*
 * A Bloom filter, the same way: pcs_load_bloom with its settings and its n
 * (1..PCS_BF_MAX_LAYERS) layers starts r (which points into w's scratch
 * until pcs_load_done), then each layer's stored chunks (layer < n, idx
 * within the layer's bits), then pcs_load_done.
 */
int pcs_load_bloom(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, double error,
                   uint64_t capacity, uint32_t expansion, uint32_t flags,
                   const pcs_bf_layer *layers, unsigned n, pcs_rec *r);

/*
 * A Stream (issue 17), the same way: pcs_load_stream with its last ID,
 * largest deleted ID and entries added starts r; then its entries in ID
 * order (each after the one before, none after the last ID: pcs_load_xentry),
 * its groups, their consumers, their pending entries (of a group and a
 * consumer loaded before), each once (PC_EINVAL otherwise); then
 * pcs_load_done.
 */
int pcs_load_stream(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, pc_xid last,
                    pc_xid maxdel, uint64_t added, pcs_rec *r);
int pcs_load_xentry(pcs_wctx *w, pcs_rec *r, pc_xid id, const pc_val *fv, size_t npairs);
int pcs_load_xgroup(pcs_wctx *w, pcs_rec *r, const void *g, size_t glen, pc_xid last,
                    int64_t entries_read);
int pcs_load_xconsumer(pcs_wctx *w, pcs_rec *r, const void *g, size_t glen, const void *c,
                       size_t clen, uint64_t seen, uint64_t active);
int pcs_load_xpending(pcs_wctx *w, pcs_rec *r, const void *g, size_t glen, pc_xid id, const void *c,
                      size_t clen, uint64_t time, uint64_t count);

/*
 * A sorted set (issue 17), the same way: pcs_load_zset starts r, then each
 * member with its score (not NaN; a member twice is PC_EINVAL), then
 * pcs_load_zdone (PC_EINVAL for none).
 */
int pcs_load_zset(pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at, pcs_rec *r);
int pcs_load_zmember(pcs_wctx *w, pcs_rec *r, const pc_val *m, double score);
int pcs_load_zdone(pcs_wctx *w, const void *key, size_t klen, pcs_rec *r);

/* Read a shard's counts (zeros for a store that has none yet). */
int pcs_counts_get(MDB_txn *txn, const pcs_shard *sh, uint64_t out[PCS_COUNTS]);

/* Whether a request may make the store larger (a transaction: any of its
 * requests may). */
bool pcs_op_grows(const pcs_req *rq);

/* The shard a request goes to.  0, or PC_ECROSSSHARD for a transaction whose
 * keys span shards, or PC_EKEY for a request without a valid key. */
int pcs_req_shard(const pcs_store *st, const pcs_req *rq, unsigned *shard);

/*
 * Run n requests of one shard and commit.  Responses are appended to out in
 * request order; roff[i] (n+1 entries) gets the offset of response i and
 * roff[n] the end.  maint: upkeep budget per transaction.  Returns 0, or a
 * code for a failure that left no responses (out is then restored).
 * A request that fails for want of pages is run again after w->room_fn
 * made room, as long as it does (see pcs_wctx).
 */
int pcs_run(pcs_wctx *w, pcs_store *st, unsigned shard, pcs_req *const *reqs, size_t n,
            pcs_buf *out, size_t *roff, unsigned maint, unsigned maint_what);

#endif
