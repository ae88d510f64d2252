/*
 * zset.h - sorted sets (issue 17): the layout of their members, the
 * counted score index, and the range walks that reads and writes share.
 *
 * A sorted set's record is u64 gen, u64 count, u32 height, u32 0 (LE).
 * Under its gen the members database holds three kinds of entries, told
 * apart by the byte after the gen:
 *
 *   gen ‖ 01 ‖ mcut        -> f64 score (LE) [‖ the encoded member, when long]
 *       the member -> score map.  mcut is the member's encoding (record.h,
 *       as for Sets), or when it is PCS_ZK_INLINE bytes or longer its first
 *       PCS_ZK_PREFIX bytes ‖ XXH3-128 of all of it.
 *   gen ‖ 02 ‖ zk          -> empty [or the encoded member, when long]
 *       the score index.  zk = be64 order-preserving score ‖ encoded member,
 *       cut the same way at PCS_ZK_INLINE bytes: entries sort by score, ties
 *       by member (by their first PCS_ZK_PREFIX - 8 bytes, then digest).
 *   gen ‖ 10+L ‖ zk        -> u64 entries, u32 children (LE)
 *       the counts: level L (1..height) partitions the index into nodes,
 *       each named by the zk of its first entry.  A level-1 node's children
 *       are entries, a level-L node's the level-(L-1) nodes from its first
 *       zk up to the next level-L node; entries counts the index entries
 *       below it.  The top level holds one node (the root).  A node with
 *       more than PCS_Z_FAN children splits in two; a node left with none
 *       goes (nodes are not merged); a root of one child goes.
 *
 * Rank of a zk (how many entries sort before it): from the root down, sum
 * the entries of the nodes passed at each level, then count the entries
 * of the last level-1 node before zk: at most (height + 1) * (PCS_Z_FAN + 1)
 * cursor steps; the entry of rank i likewise.  A set of 1,000,000 members
 * has a height of 4 or 5.  An insert or delete rewrites one node per level.
 *
 * Scores: any double but NaN.  The order-preserving form folds -0.0 into
 * 0.0 (they compare equal, as in Redis), so a score is stored as 0.0 then.
 */
#ifndef PCS_ZSET_H
#define PCS_ZSET_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "pycache.h"
#include "read.h"
#include "reader.h"
#include "record.h"

#define PCS_Z_MEM 0x01
#define PCS_Z_ENT 0x02
#define PCS_Z_NODE 0x10
#define PCS_ZK_INLINE 472
#define PCS_ZK_PREFIX 456
/* gen ‖ tag ‖ (zk or mcut) */
#define PCS_ZKEY_MAX (PCS_GEN_LEN + 1 + PCS_ZK_INLINE)
#define PCS_Z_FAN 64
#define PCS_Z_MAX_HEIGHT 16
#define PCS_ZREC_LEN 24

/* PCS_OP_ZADD's flags: pc_zadd's, and INCR. */
#define PCS_ZADD_INCR (1u << 5)
#define PCS_ZADD_ALL \
    ((unsigned)(PC_ZADD_NX | PC_ZADD_XX | PC_ZADD_GT | PC_ZADD_LT | PC_ZADD_CH) | PCS_ZADD_INCR)
/* PCS_OP_ZSTORE's how. */
enum { PCS_ZSTORE_UNION = 0, PCS_ZSTORE_INTER = 1, PCS_ZSTORE_DIFF = 2 };

/* Score <-> its order-preserving big-endian form. */
uint64_t pcs_zs_key(double d);
double pcs_zs_unkey(uint64_t k);

/* A member's encoding: small ones in place, others in big. */
typedef struct pcs_zmem {
    uint8_t small[PCS_ZK_INLINE + 8];
    pcs_buf big;
    const uint8_t *enc;
    size_t len;
} pcs_zmem;
/* Encode m (checked by the caller) into z; 0 or PC_ENOMEM.  Free with
 * pcs_zmem_free. */
int pcs_zmem_set(pcs_zmem *z, const pc_val *m);
void pcs_zmem_free(pcs_zmem *z);

/* Keys.  out must hold PCS_ZKEY_MAX bytes; each returns the length. */
size_t pcs_z_mkey(uint8_t *out, uint64_t gen, const uint8_t *enc, size_t n, bool *is_long);
size_t pcs_z_ekey(uint8_t *out, uint64_t gen, uint64_t skey, const uint8_t *enc, size_t n,
                  bool *is_long);
/* The key of the node of level (1..) named by zk (zklen bytes). */
size_t pcs_z_nkey(uint8_t *out, uint64_t gen, unsigned level, const uint8_t *zk, size_t zklen);

/* A member's score.  PC_ENOTFOUND when absent; *collide (may be NULL): a
 * long member whose digest is another's. */
int pcs_z_score(const pcs_view *v, const pcs_rec *r, const pcs_zmem *m, double *score,
                bool *collide);

/* Decode an index entry (as a cursor returns it) into its member (a view)
 * and score. */
int pcs_z_entry(const MDB_val *k, const MDB_val *d, pc_val *member, double *score);

/* How many entries of r's index sort before the index key (gen ‖ 02 ‖ zk)
 * ekey: the rank of an entry there.  cur: a cursor on the members. */
int pcs_z_below(MDB_cursor *cur, const pcs_rec *r, const uint8_t *ekey, size_t eklen, uint64_t *n);
/* Position cur on the entry of rank i (< r->count). */
int pcs_z_select(MDB_cursor *cur, const pcs_rec *r, uint64_t i, MDB_val *k, MDB_val *d);

/* ---- ranges ---- */

/* The decoded form of a range (pc_zrange_spec), views into the request. */
typedef struct pcs_zspec {
    int by; /* PC_ZBY_* */
    bool rev;
    int64_t start, stop; /* by index */
    double smin, smax;   /* by score */
    pc_val lmin, lmax;   /* by lex */
    unsigned fmin, fmax; /* PC_ZB_* */
    uint64_t offset;
    int64_t count; /* < 0: no limit */
} pcs_zspec;

/* The eight request values of a range: by, rev, min, min flags, max, max
 * flags, offset, count (by index: min and max are INT start and stop; by
 * score DOUBLE; by lex members).  0 or PC_EINVAL / PC_ENAN. */
int pcs_zspec_dec(const pc_val *a, pcs_zspec *s);
#define PCS_ZSPEC_ARGS 8
void pcs_zspec_enc(pcs_enc *e, const pc_zrange_spec *s);
/* The same as values (views into s). */
void pcs_zspec_vals(const pc_zrange_spec *s, pc_val a[PCS_ZSPEC_ARGS]);
/* A public spec's checks (what pcs_zspec_dec refuses). */
int pcs_zspec_check(const pc_zrange_spec *s, uint64_t max_value);

/*
 * A walk over a range: pcs_zwalk_start positions it (0, or 1 when the
 * range is empty), pcs_zwalk_next gives entries until it answers 1.  The
 * cursor pc (may be NULL) resumes a walk strictly after the last entry it
 * gave: pcs_zwalk_save writes it.
 */
typedef struct pcs_zwalk {
    MDB_cursor *cur;
    const pcs_rec *r;
    bool rev;
    bool first;    /* the cursor stands on the next entry */
    uint64_t left; /* entries still to give (UINT64_MAX: no limit) */
    uint64_t given;
    uint8_t lo[PCS_ZKEY_MAX + 1], hi[PCS_ZKEY_MAX + 1]; /* [lo, hi) as index keys */
    size_t lolen, hilen;
    MDB_val k, d;
} pcs_zwalk;

int pcs_zwalk_start(pcs_zwalk *w, MDB_cursor *cur, const pcs_rec *r, const pcs_zspec *s,
                    const pc_cursor *pc);
int pcs_zwalk_next(pcs_zwalk *w, pc_val *member, double *score);
void pcs_zwalk_save(const pcs_zwalk *w, pc_cursor *pc, bool done);
/* How many entries the range holds, O(log n) (by index, score, lex; the
 * limit applied). */
int pcs_zspec_count(MDB_cursor *cur, const pcs_rec *r, const pcs_zspec *s, uint64_t *n);

/* ---- the reads (reader.h's rules) ---- */

/* ZCARD (0 for a missing key). */
int pcs_rd_zcard(pcs_reader *r, const void *key, size_t klen, uint64_t *out);
/* ZMSCORE: scores[i] and found[i] for members[i]. */
int pcs_rd_zscore(pcs_reader *r, const void *key, size_t klen, const pc_val *members, size_t n,
                  double *scores, int *found);
/* ZRANK / ZREVRANK and the member's score.  PC_ENOTFOUND: no key or member. */
int pcs_rd_zrank(pcs_reader *r, const void *key, size_t klen, const pc_val *member, bool rev,
                 uint64_t *rank, double *score);
/* How many the range holds (ZCOUNT, ZLEXCOUNT, ZCARD by index). */
int pcs_rd_zcount(pcs_reader *r, const void *key, size_t klen, const pcs_zspec *spec,
                  uint64_t *out);
/* ZRANGE: a page of at most max entries from cur on. */
int pcs_rd_zrange(pcs_reader *r, const void *key, size_t klen, const pcs_zspec *spec,
                  pc_cursor *cur, pc_zentry *out, size_t max, size_t *n);

#endif
