/*
 * reader.h - the read operations, once, over a reader.
 *
 * A reader reads one store: per shard, an LMDB read transaction begun on
 * first use and renewed lazily on every later read (mdb_txn_renew: no
 * allocation, no lock), a cursor on its members and one on its keys, and
 * the moment of the clock the read sees.  Every read operation of pycache
 * is a pcs_rd_ function here: the client library calls them for its
 * zero-copy reads, the daemon for the reads it serves to ring-only clients
 * (each marshals its own arguments and answers).
 *
 * Life: pcs_reader_init once, then any number of reads, each
 * pcs_reader_begin ... pcs_reader_end, then pcs_reader_fini.  The store
 * must stay open until pcs_reader_fini; the reader does not move in memory
 * meanwhile (its gate is on the store's list).
 *
 * Views (pc_val and pc_bytes pointers) that a read returns point into the
 * map: they stay valid until pcs_reader_end.  Nothing a read returns is
 * allocated; nothing needs freeing.
 *
 * Threads: a reader is used by one thread at a time.  Readers of one store
 * in one process may run in as many threads as there are readers.
 *
 * A store opened PCS_MODE_READER (a client of the daemon) is read through
 * the store's gate (store.h): when the daemon grew the map, LMDB says
 * MDB_MAP_RESIZED and the shard is mapped anew (pcs_store_adopt) while no
 * read of this process is open on it; PC_EAGAIN if another reader of the
 * process kept it open (end the read and begin again).
 *
 * Every pcs_rd_ function returns 0 or a negative PC_E* code and checks
 * what it reads (a malformed record is PC_ECORRUPT) and the arguments a
 * peer may send (keys, types, members); pointer arguments must not be NULL
 * unless said otherwise (the public API checks those).
 */
#ifndef PCS_READER_H
#define PCS_READER_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "pycache.h"
#include "read.h"
#include "store.h"

/*
 * Called after every key lookup of a read, with the lookup's result (0: a
 * live key, PC_ENOTFOUND: missing or expired, or an error) and the read's
 * moment, before the type of the key is looked at.  A client of the daemon
 * counts its hits and misses there.
 */
typedef void (*pcs_read_note)(void *ctx, const void *key, size_t klen, int rc, uint64_t now);

typedef struct pcs_reader {
    pcs_store *st;      /* NULL: never initialised, or finished */
    pcs_rgate gate;     /* PCS_MODE_READER: this reader's gate in st */
    pcs_read_note note; /* may be NULL */
    void *note_ctx;
    uint64_t now;      /* ms since the epoch: keys expiring at or before it are gone */
    uint64_t live;     /* shards whose transaction is open in this read */
    uint64_t curlive;  /* shards whose members cursor is renewed */
    uint64_t kcurlive; /* shards whose keys cursor is renewed */
    uint64_t rng;      /* pcs_rng_next's state: srandmember, randomkey */
    MDB_txn *txn[PCS_SHARDS_MAX];
    MDB_cursor *cur[PCS_SHARDS_MAX];
    MDB_cursor *kcur[PCS_SHARDS_MAX];
} pcs_reader;

/* Make r a reader of st (joining st's gates in reader mode); note (may be
 * NULL) is called with ctx after each lookup. */
void pcs_reader_init(pcs_reader *r, pcs_store *st, pcs_read_note note, void *ctx);
/* End r's read if one is open, free its transactions and cursors, leave the
 * gate.  r is then as if zeroed (a second call does nothing).  A zeroed
 * reader may be finished too. */
void pcs_reader_fini(pcs_reader *r);
/* After fork(), in the child: forget r's open read without touching LMDB
 * (its transactions are the parent's). */
void pcs_reader_abandon(pcs_reader *r);

/* A read at moment now (ms since the epoch, pcs_now_ms()).  The previous
 * read must have ended. */
static inline void pcs_reader_begin(pcs_reader *r, uint64_t now)
{
    r->now = now;
    r->live = r->curlive = r->kcurlive = 0;
}
/* End the read: reset its transactions (views die), open the gate. */
void pcs_reader_end(pcs_reader *r);

/* Begin or renew the read transaction of shard s (< st->nshards); used by
 * pcs_reader_view the first time a read touches s. */
int pcs_reader_open(pcs_reader *r, unsigned s);

/* The view of shard s in the open read (its transaction begun lazily). */
static inline int pcs_reader_view(pcs_reader *r, unsigned s, pcs_view *v)
{
    if (!(r->live & (UINT64_C(1) << s))) {
        int rc = pcs_reader_open(r, s);
        if (rc)
            return rc;
    }
    v->txn = r->txn[s];
    v->sh = &r->st->shards[s];
    v->now = r->now;
    return 0;
}

/* ---- keys and strings ---- */

/* A String (bytes) or Numeric value; PC_EWRONGTYPE for a collection. */
int pcs_rd_get(pcs_reader *r, const void *key, size_t klen, pc_val *out);
/* The key's type, PC_T_NONE when missing (then 0). */
int pcs_rd_type(pcs_reader *r, const void *key, size_t klen, pc_type *out);
/* Milliseconds left, -1 when the key has no TTL. */
int pcs_rd_ttl(pcs_reader *r, const void *key, size_t klen, int64_t *ms_left);
int pcs_rd_version(pcs_reader *r, const void *key, size_t klen, uint64_t *out);
int pcs_rd_strlen(pcs_reader *r, const void *key, size_t klen, uint64_t *out);
/* Redis GETRANGE (a view into the String). */
int pcs_rd_getrange(pcs_reader *r, const void *key, size_t klen, int64_t start, int64_t end,
                    pc_val *out);

/* The key's value and type: *type the key's type; *out the value of a
 * String or Numeric, kind PC_NONE for a collection.  PC_ENOTFOUND for a
 * missing key. */
int pcs_rd_get_typed(pcs_reader *r, const void *key, size_t klen, pc_val *out, pc_type *type);
/* When the key expires (ms since the epoch), -1 when it has no TTL. */
int pcs_rd_expiretime(pcs_reader *r, const void *key, size_t klen, int64_t *at_ms);

/* ---- collections ---- */

/* Elements of a collection of type t (List, Queue, Map or Set; another t:
 * PC_EINVAL): LLEN, QLEN, HLEN, SCARD. */
int pcs_rd_count(pcs_reader *r, const void *key, size_t klen, pc_type t, uint64_t *out);
/* Element at index (negative from the end) of a List or Queue (t): LINDEX,
 * QPEEK (index 0).  PC_ERANGE outside it. */
int pcs_rd_index(pcs_reader *r, const void *key, size_t klen, pc_type t, int64_t index,
                 pc_val *out);
/* Elements start..stop (Redis LRANGE rules) of a List or Queue (t), at most
 * max, into out; *n how many.  A missing key is empty. */
int pcs_rd_range(pcs_reader *r, const void *key, size_t klen, pc_type t, int64_t start,
                 int64_t stop, pc_val *out, size_t max, size_t *n);
/* A Map's field (flen bytes at field; field may be NULL when flen is 0). */
int pcs_rd_hget(pcs_reader *r, const void *key, size_t klen, const void *field, size_t flen,
                pc_val *out);
/* n fields of a Map; PC_NONE for each absent one (all of them when the key is
 * missing). */
int pcs_rd_hmget(pcs_reader *r, const void *key, size_t klen, const pc_bytes *fields, size_t n,
                 pc_val *out);
/* The length in bytes of a Map field's value, which must be a byte string
 * (PC_EWRONGTYPE for a number, boolean or null); PC_ENOTFOUND when the key
 * or the field is missing. */
int pcs_rd_hstrlen(pcs_reader *r, const void *key, size_t klen, const void *field, size_t flen,
                   uint64_t *out);
/*
 * Redis LPOS over a List: the indices (from the head) of the elements equal
 * to v (pcs_val_equal), at most max of them into pos, *n how many.  rank
 * (not 0 nor INT64_MIN): 1 starts at the first match from the head, 2 the
 * second...; -1 the first from the tail, and so on (the indices then come
 * tail first).  maxlen: compare at most that many elements from where the
 * search starts (0: all).  A missing key gives none.
 */
int pcs_rd_lpos(pcs_reader *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
                uint64_t maxlen, uint64_t *pos, size_t max, size_t *n);
/*
 * Redis SRANDMEMBER: count > 0: that many distinct members (all when the
 * Set has fewer), count < 0: -count members that may repeat; at most max
 * of them into out, in random order.  A missing key gives none.
 */
int pcs_rd_srandmember(pcs_reader *r, const void *key, size_t klen, int64_t count, pc_val *out,
                       size_t max, size_t *n);
/* Page through a Map from cur on: at most max fields and values (either
 * array may be NULL).  A missing key ends the cursor. */
int pcs_rd_hscan(pcs_reader *r, const void *key, size_t klen, pc_cursor *cur, pc_bytes *fields,
                 pc_val *vals, size_t max, size_t *n);
/* Whether a Set holds member (checked: pcs_val_check); 0 for a missing key. */
int pcs_rd_sismember(pcs_reader *r, const void *key, size_t klen, const pc_val *member, int *out);
/* Page through a Set from cur on (out may be NULL when max is 0). */
int pcs_rd_sscan(pcs_reader *r, const void *key, size_t klen, pc_cursor *cur, pc_val *out,
                 size_t max, size_t *n);
/* Page through the union, intersection or difference (how: PCS_SET_UNION,
 * _INTER, _DIFF; another: PC_EINVAL) of nkeys sets; a missing key is an
 * empty set. */
int pcs_rd_salg(pcs_reader *r, int how, const pc_bytes *keys, size_t nkeys, pc_cursor *cur,
                pc_val *out, size_t max, size_t *n);

/* ---- the whole store ---- */

/* Page through the live keys matching glob (NULL: all; pcs_glob_match),
 * shard by shard. */
int pcs_rd_scan(pcs_reader *r, const char *glob, pc_cursor *cur, pc_bytes *keys, size_t max,
                size_t *n);
/* How many keys have expired but are still stored. */
int pcs_rd_expired(pcs_reader *r, uint64_t *n);
/* How many live keys the store holds (the shards' counts less the keys
 * expired but still stored).  O(shards + expired keys). */
int pcs_rd_dbsize(pcs_reader *r, uint64_t *n);
/* A live key picked at random: a shard by its share of the keys, then a key
 * of it (pcs_range_pick), the next live one when that one has expired.
 * PC_ENOTFOUND when the store holds no live key. */
int pcs_rd_randomkey(pcs_reader *r, pc_bytes *key);
/* Page through the keys with a TTL matching glob, soonest first in each
 * shard, with their expiry times; keys and when may each be NULL. */
int pcs_rd_expiry_scan(pcs_reader *r, const char *glob, pc_cursor *cur, pc_bytes *keys,
                       int64_t *when, size_t max, size_t *n);

/* ---- issue 16: the helpers and the probabilistic types ---- */

/* A Flight key: its value (a view) and state as of the read's moment, and
 * its lease as stored (pc_flight_get). */
int pcs_rd_flight(pcs_reader *r, const void *key, size_t klen, pc_flight *out);

/* Bit arrays (pc_getbit, pc_bitcount, pc_bitpos, pc_bitlen: their rules;
 * flags PC_BITS_*, others PC_EINVAL; bit 0 or 1). */
int pcs_rd_getbit(pcs_reader *r, const void *key, size_t klen, uint64_t off, int *bit);
int pcs_rd_bitcount(pcs_reader *r, const void *key, size_t klen, int64_t start, int64_t end,
                    unsigned flags, uint64_t *n);
int pcs_rd_bitpos(pcs_reader *r, const void *key, size_t klen, int bit, int64_t start, int64_t end,
                  unsigned flags, int64_t *pos);
int pcs_rd_bitlen(pcs_reader *r, const void *key, size_t klen, uint64_t *bytes);

/* Bloom filters: out[i] 1 when the filter may hold items[i] (a missing key
 * holds nothing); its figures (PC_ENOTFOUND when missing). */
int pcs_rd_bf_exists(pcs_reader *r, const void *key, size_t klen, const pc_bytes *items, size_t n,
                     int *out);
int pcs_rd_bf_info(pcs_reader *r, const void *key, size_t klen, pc_bf_info *out);

/* For readers of other files (reader_stream.c, zset.c): a key's record, as
 * every read here looks it up (type want, PC_T_NONE: any; 0, PC_ENOTFOUND,
 * PC_EWRONGTYPE, PC_EKEY, or an error), and the members cursor of shard s
 * (whose transaction the lookup opened).  Sorted sets' reads are in zset.h. */
int pcs_reader_rec(pcs_reader *r, const void *key, size_t klen, pc_type want, pcs_view *v,
                   pcs_rec *rec, unsigned *shard);
int pcs_reader_cursor(pcs_reader *r, unsigned s, MDB_cursor **out);

/* Streams (issue 17, reader_stream.c): Redis's XLEN and XINFO STREAM (the
 * figures; PC_ENOTFOUND when missing), XRANGE (lo..hi inclusive, a missing
 * key gives none), XPENDING (its summary, and its extended form with
 * lo..hi inclusive), XINFO GROUPS and CONSUMERS. */
int pcs_rd_xinfo(pcs_reader *r, const void *key, size_t klen, pc_xinfo *out);
int pcs_rd_xrange(pcs_reader *r, const void *key, size_t klen, pc_xid lo, pc_xid hi, bool rev,
                  pc_xentry *out, size_t max, size_t *n);
int pcs_rd_xpending_summary(pcs_reader *r, const void *key, size_t klen, const void *g, size_t glen,
                            pc_xpending_info *out, pc_bytes *names, uint64_t *counts, size_t max,
                            size_t *n);
int pcs_rd_xpending(pcs_reader *r, const void *key, size_t klen, const void *g, size_t glen,
                    pc_xid lo, pc_xid hi, int64_t min_idle, const void *c, size_t clen,
                    pc_xpending_entry *out, size_t max, size_t *n);
int pcs_rd_xgroups(pcs_reader *r, const void *key, size_t klen, pc_xgroup_info *out, size_t max,
                   size_t *n);
int pcs_rd_xconsumers(pcs_reader *r, const void *key, size_t klen, const void *g, size_t glen,
                      pc_xconsumer_info *out, size_t max, size_t *n);

/* ---- cursors on the wire ---- */

/*
 * A cursor travels as one BYTES value: u8 done, u8 started, u16 len (LE),
 * u32 shard (LE), then len bytes of position (at most PC_CURSOR_POS_MAX).
 * enc appends it to a request, out to a response; dec takes it back and
 * refuses anything else (PC_EPROTO, cur unchanged).
 */
void pcs_cursor_enc(pcs_enc *e, const pc_cursor *cur);
void pcs_cursor_out(pcs_buf *b, const pc_cursor *cur);
int pcs_cursor_dec(const pc_val *v, pc_cursor *cur);

#endif
