/*
 * stream.h - how a Stream (issue 17) sits in the store, and what its
 * writers (t_stream.c) and readers (reader_stream.c) share.
 *
 * The record (record.h) holds the stream's figures: u64 gen, u64 length,
 * the last ID given, the first entry's ID, the largest ID deleted (each u64
 * ms, u64 seq), u64 entries ever added, u64 consumer groups (LE).
 *
 * Members under the gen, each kind under its own tag byte so that each is
 * one contiguous range:
 *
 *   entry     01 ‖ be64 ms ‖ be64 seq            -> u32 pairs, then per pair
 *             (u32 length ‖ tagged field, u32 length ‖ tagged value) (LE)
 *   group     02 ‖ name                          -> last delivered ID (u64
 *             ms, u64 seq), i64 entries read (-1: unknown), u64 pending,
 *             u64 consumers (LE)
 *   pending   03 ‖ u8 name length ‖ group name ‖ be64 ms ‖ be64 seq
 *                                               -> u64 delivery time (ms
 *             since the epoch), u64 deliveries (LE), consumer name
 *   consumer  04 ‖ u8 name length ‖ group name ‖ consumer name
 *                                               -> u64 seen (last read or
 *             claim), u64 active (last got an entry; 0: never), u64
 *             pending (LE)
 *
 * IDs are big-endian so that LMDB's order is ID order.  Names are 1 to
 * PC_XNAME_MAX bytes, so no subkey is long (PCS_SUB_INLINE).
 */
#ifndef PCS_STREAM_H
#define PCS_STREAM_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "pycache.h"
#include "read.h"
#include "record.h"

enum { PCS_XT_ENTRY = 1, PCS_XT_GROUP = 2, PCS_XT_PEL = 3, PCS_XT_CONS = 4 };

#define PCS_XGROUP_LEN 40
#define PCS_XPEL_FIXED 16
#define PCS_XCONS_LEN 24

static inline bool pcs_xname_ok(const void *p, size_t n)
{
    return p && n >= 1 && n <= PC_XNAME_MAX;
}
/* The ID just after (before) id; false when there is none. */
bool pcs_xid_next(pc_xid id, pc_xid *out);
bool pcs_xid_prev(pc_xid id, pc_xid *out);

/* Member keys; out must hold PCS_MKEY_MAX bytes; each returns the length. */
size_t pcs_xk_entry(uint8_t *out, uint64_t gen, pc_xid id);
size_t pcs_xk_group(uint8_t *out, uint64_t gen, const void *g, size_t glen);
size_t pcs_xk_pel(uint8_t *out, uint64_t gen, const void *g, size_t glen, pc_xid id);
size_t pcs_xk_cons(uint8_t *out, uint64_t gen, const void *g, size_t glen, const void *c,
                   size_t clen);
/* The ID at the end of an entry or pending key of length n. */
pc_xid pcs_xk_id(const void *k, size_t n);

/* Entries: the encoded size of npairs pairs fv[0..2 npairs), and the
 * encoding (the caller checked the values). */
size_t pcs_xentry_size(const pc_val *fv, size_t npairs);
void pcs_xentry_encode(uint8_t *out, const pc_val *fv, size_t npairs);
/* Check an entry's bytes: 0 with *npairs, or PC_ECORRUPT. */
int pcs_xentry_check(const void *p, size_t n, size_t *npairs);
/* Decode up to max / 2 pairs into fv; *n pairs written. */
int pcs_xentry_decode(const void *p, size_t n, pc_val *fv, size_t max, size_t *npairs);

typedef struct pcs_xgroup {
    pc_xid last;
    int64_t entries_read; /* -1: unknown */
    uint64_t pending, consumers;
} pcs_xgroup;
int pcs_xgroup_dec(const void *p, size_t n, pcs_xgroup *g);
void pcs_xgroup_enc(uint8_t *p, const pcs_xgroup *g);

typedef struct pcs_xpel {
    uint64_t time, count;
    pc_bytes consumer; /* a view */
} pcs_xpel;
int pcs_xpel_dec(const void *p, size_t n, pcs_xpel *e);

typedef struct pcs_xcons {
    uint64_t seen, active, pending;
} pcs_xcons;
int pcs_xcons_dec(const void *p, size_t n, pcs_xcons *c);
void pcs_xcons_enc(uint8_t *p, const pcs_xcons *c);

/* ---- view-level reads (a cursor on the members of v's transaction) ---- */

/* Entries lo <= ID <= hi, oldest first (newest with rev), at most max. */
int pcs_x_range(MDB_cursor *cur, const pcs_rec *r, pc_xid lo, pc_xid hi, bool rev, pc_xentry *out,
                size_t max, size_t *n);
/* One entry; PC_ENOTFOUND when not there. */
int pcs_x_entry(const pcs_view *v, const pcs_rec *r, pc_xid id, pc_xentry *out);
/* A group; PC_ENOTFOUND when there is none of that name. */
int pcs_x_group(const pcs_view *v, const pcs_rec *r, const void *g, size_t glen, pcs_xgroup *out);
/* A consumer; PC_ENOTFOUND. */
int pcs_x_cons(const pcs_view *v, const pcs_rec *r, const void *g, size_t glen, const void *c,
               size_t clen, pcs_xcons *out);
/* A pending entry; PC_ENOTFOUND. */
int pcs_x_pel(const pcs_view *v, const pcs_rec *r, const void *g, size_t glen, pc_xid id,
              pcs_xpel *out);

/* Redis's estimate of how many entries come up to and including id (its
 * "entries read" counter), or -1 when it cannot tell. */
int64_t pcs_x_estimate(const pcs_rec *r, pc_xid id);
/* Redis's lag of a group: entries not yet delivered to it, or -1. */
int64_t pcs_x_lag(const pcs_rec *r, const pcs_xgroup *g);

/* A stream's decoded figures into out. */
void pcs_x_info(const pcs_rec *r, pc_xinfo *out);

#endif
