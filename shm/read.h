/*
 * read.h - reading the store: lookups, list positions and ranges, map
 * fields, set members, paged scans and set algebra.
 *
 * These run on a view: one LMDB transaction (read-only for zero-copy client
 * reads, the writer's own for write handlers) and one moment of the clock.
 * Values returned are views into the map, valid while the transaction is and,
 * in a write transaction, only until the next write to that database.
 */
#ifndef PCS_READ_H
#define PCS_READ_H

#include <lmdb.h>
#include <stdbool.h>

#include "pycache.h"
#include "record.h"
#include "store.h"

typedef struct pcs_view {
    MDB_txn *txn;
    const pcs_shard *sh;
    uint64_t now; /* ms since the epoch; keys expiring at or before it are gone */
} pcs_view;

/*
 * Look a key up.  0: live, *rec filled.  PC_ENOTFOUND: missing or expired;
 * *stale (may be NULL) tells whether an expired record is still there (rec is
 * then filled too).  PC_ECORRUPT, or another error.  Inline: it is the whole
 * of a zero-copy GET but the B-tree walk.
 */
static inline int pcs_lookup(const pcs_view *v, const void *key, size_t klen, pcs_rec *rec,
                             bool *stale)
{
    MDB_val k = {klen, (void *)key}, d;
    if (stale)
        *stale = false;
    rec->type = PC_T_NONE; /* a missing key leaves nothing else to look at */
    int rc = mdb_get(v->txn, v->sh->keys, &k, &d);
    if (rc)
        return pcs_mdb_err(rc);
    if ((rc = pcs_rec_decode(d.mv_data, d.mv_size, rec)))
        return rc;
    if (pcs_rec_expired(rec, v->now)) {
        if (stale)
            *stale = true;
        return PC_ENOTFOUND;
    }
    return 0;
}

/* Validate a key's length: 0 or PC_EKEY. */
static inline int pcs_key_ok(const void *key, size_t klen)
{
    return key && klen >= 1 && klen <= PC_KEY_MAX ? 0 : PC_EKEY;
}

/* Redis range normalisation: false when the range is empty. */
bool pcs_norm_range(int64_t start, int64_t stop, uint64_t count, uint64_t *from, uint64_t *to);
/* Index (negative from the end) to a position; false when out of range. */
bool pcs_norm_index(int64_t index, uint64_t count, uint64_t *pos);

/* Element at position pos (0..count-1) of a List or Queue. */
int pcs_seq_get(const pcs_view *v, const pcs_rec *r, uint64_t pos, pc_val *out);
/* Elements from..to (positions, inclusive), at most max.  cur: a cursor on the
 * members database in v's transaction. */
int pcs_seq_range(const pcs_view *v, MDB_cursor *cur, const pcs_rec *r, uint64_t from, uint64_t to,
                  pc_val *out, size_t max, size_t *n);

/* A Map field's value; PC_ENOTFOUND when absent.  A long field whose digest
 * matches but whose bytes differ is absent; *collide (may be NULL) says so. */
int pcs_map_get(const pcs_view *v, const pcs_rec *r, const void *f, size_t flen, pc_val *out,
                bool *collide);
/* Whether a Set holds m.  *collide as for pcs_map_get. */
int pcs_set_has(const pcs_view *v, const pcs_rec *r, const pc_val *m, bool *out, bool *collide);

/* The next number of a xorshift64* generator with state *state (any value:
 * 0 is replaced): for picking members and keys at random, not for secrets. */
uint64_t pcs_rng_next(uint64_t *state);

/*
 * Position cur on an entry picked at random among those whose key starts
 * with pfx[0..plen) (plen 0..8: a collection's gen, or nothing for a whole
 * database); count is how many there are.  Up to PCS_PICK_EXACT of them
 * the pick is exactly uniform (a walk by rank).  Above, it walks down the
 * keys' bytes: at each byte where the keys left differ, a value between the
 * least and the greatest present, uniformly, then the keys at or just above
 * it (two seeks a byte; uniform for keys that fill their byte ranges, as
 * numbered keys do; kmax: the longest key of that database, at most
 * PCS_PICK_KEY_MAX).  0 with *k, *d the entry; PC_ENOTFOUND when no entry
 * starts with pfx; PC_ECORRUPT when fewer than count do; an LMDB failure.
 */
#define PCS_PICK_EXACT 1024
#define PCS_PICK_KEY_MAX 512
int pcs_range_pick(MDB_cursor *cur, const uint8_t *pfx, size_t plen, uint64_t count, size_t kmax,
                   uint64_t *rng, MDB_val *k, MDB_val *d);

/* Decode one member entry (key and data as a cursor returns them). */
int pcs_map_entry(const MDB_val *k, const MDB_val *d, pc_bytes *field, pc_val *val);
int pcs_set_entry(const MDB_val *k, const MDB_val *d, pc_val *member);

/* Page through a Map or Set with a cursor on members. */
int pcs_map_scan(const pcs_view *v, MDB_cursor *cur, const pcs_rec *r, pc_cursor *pc,
                 pc_bytes *fields, pc_val *vals, size_t max, size_t *n);
int pcs_set_scan(const pcs_view *v, MDB_cursor *cur, const pcs_rec *r, pc_cursor *pc, pc_val *out,
                 size_t max, size_t *n);

/* Set algebra over nsets sets (rec NULL: a missing key), each in its own view. */
enum { PCS_SET_UNION, PCS_SET_INTER, PCS_SET_DIFF };
int pcs_set_algebra(int how, const pcs_view *views, const pcs_rec *const *recs, size_t nsets,
                    pc_cursor *pc, pc_val *out, size_t max, size_t *n);

/*
 * Does key match glob (fnmatch(3), no flags)?  NULL and "*" match every key;
 * a key holding a NUL byte, or longer than PC_KEY_MAX, matches only those.
 * The one matcher of key listings (pc_scan, pc_expiry_scan).
 */
bool pcs_glob_match(const char *glob, const void *key, size_t klen);

/* Page through one shard's live keys matching glob (NULL: all), resuming
 * strictly after pc's position.  Sets *end when the shard is exhausted. */
int pcs_key_scan(const pcs_view *v, MDB_cursor *cur, const char *glob, pc_cursor *pc,
                 pc_bytes *keys, size_t max, size_t *n, bool *end);

/* Add to *n the number of one shard's expiry entries due at or before
 * v->now (expired keys still stored).  PC_ECORRUPT for a malformed entry. */
int pcs_expiry_due(const pcs_view *v, uint64_t *n);
/* Page through one shard's expiry index (soonest first) matching glob,
 * resuming strictly after pc's position: at most max entries into keys and
 * when (each may be NULL), *n how many.  Sets *end when the shard is
 * exhausted. */
int pcs_expiry_page(const pcs_view *v, const char *glob, pc_cursor *pc, pc_bytes *keys,
                    int64_t *when, size_t max, size_t *n, bool *end);

#endif
