/*
 * exec_int.h - what the write handlers (t_*.c) share with exec.c.
 *
 * Handlers follow one rule: check everything first, then write.  After the
 * first put or delete only an LMDB failure may stop a handler, and pcs_exec
 * turns any failure after a write into an aborted transaction.
 */
#ifndef PCS_EXEC_INT_H
#define PCS_EXEC_INT_H

#include "exec.h"
#include "read.h"
#include "record.h"

typedef int (*pcs_handler)(pcs_wctx *w, const pcs_req *rq, pcs_buf *out, uint32_t *nvals);

static inline pcs_view pcs_wview(const pcs_wctx *w)
{
    pcs_view v = {w->txn, w->sh, w->now};
    return v;
}
static inline const pc_val *pcs_key_arg(const pcs_req *rq)
{
    return &rq->argv[0];
}

/* LMDB through the context: counts mutations, records fatal failures. */
int pcs_w_put(pcs_wctx *w, MDB_dbi dbi, const void *k, size_t kl, const void *d, size_t dl);
int pcs_w_del(pcs_wctx *w, MDB_dbi dbi, const void *k, size_t kl, bool *existed);
int pcs_w_fail(pcs_wctx *w, int mdb_rc);
uint64_t pcs_w_seq(pcs_wctx *w);

/* Look up the key of rq (argv[0]); as pcs_lookup. */
int pcs_w_lookup(pcs_wctx *w, const pc_val *key, pcs_rec *rec, bool *stale);

/*
 * Write nr under key, replacing old (a live or stale record, or NULL): bumps
 * the version, keeps the expiry index in step, queues old's members for the
 * sweep when they are not nr's.  data/dlen: a String's bytes, which must not
 * point into the map.
 */
int pcs_w_store(pcs_wctx *w, const pc_val *key, const pcs_rec *old, pcs_rec *nr, const void *data,
                size_t dlen);
/* Delete key and its expiry entry; queue its members when some remain. */
int pcs_w_remove(pcs_wctx *w, const pc_val *key, const pcs_rec *old, bool members_left);
/* Rewrite a record with a new expiry (0: none). */
int pcs_w_restamp(pcs_wctx *w, const pc_val *key, const pcs_rec *rec, uint64_t expire_at);

/* Argument checks: 0 or the error to answer with. */
int pcs_chk_elem(const pcs_wctx *w, const pc_val *v);
int pcs_chk_scalar(const pcs_wctx *w, const pc_val *v); /* a String or Numeric value */
int pcs_chk_ttl(const pc_val *v, int64_t *ttl);
int pcs_chk_int(const pc_val *v, int64_t *out);
int pcs_chk_count(const pc_val *v, uint64_t *out); /* >= 1 */
/* An expiry time (ms since the epoch): 0 .. now + PC_TTL_MAX_MS. */
int pcs_chk_at(const pcs_wctx *w, const pc_val *v, uint64_t *at);
/* Start a new collection record of type t. */
void pcs_new_coll(pcs_wctx *w, pcs_rec *r, pc_type t);

/* Fill a new collection's members (used by setcoll).  *count gets the
 * number of distinct members. */
int pcs_seq_fill(pcs_wctx *w, pcs_rec *r, const pc_val *items, size_t n);
int pcs_map_fill(pcs_wctx *w, pcs_rec *r, const pc_val *items, size_t n);
int pcs_set_fill(pcs_wctx *w, pcs_rec *r, const pc_val *items, size_t n);
/* Checks of those items, before anything is written. */
int pcs_map_check_items(pcs_wctx *w, const pc_val *items, size_t n);

/* pcs_load_record's checks of the key (exec.c). */
int pcs_load_key(pcs_wctx *w, const void *key, size_t klen);

/* Handlers. */
int pcs_h_set(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_getset(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_append(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_setrange(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_incrby(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_incrbyfloat(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_push(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_pop(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_lset(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_ltrim(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_lrem(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_hset(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_hdel(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_hincr(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_sadd(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_srem(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_spop(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_getex(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_hsetnx(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_linsert(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_lmove(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_smove(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
/* For handlers of two keys (lmove, smove): the second key, argv[i], is a
 * valid key of w's shard: 0, PC_EKEY or PC_ECROSSSHARD. */
int pcs_chk_key2(const pcs_wctx *w, const pcs_req *rq, unsigned i);
/* t_helpers.c (issue 16) */
int pcs_h_throttle(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_fc_claim(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_fc_fill(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_fc_release(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
/* t_bits.c (issue 16) */
int pcs_h_setbit(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_bitop(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
/* t_bloom.c (issue 16) */
int pcs_h_bf_reserve(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_bf_add(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
/* t_stream.c (issue 17) */
int pcs_h_xadd(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xtrim(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xdel(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xgroup(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xreadgroup(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xreadw(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xack(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xclaim(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_xautoclaim(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
/* t_zset.c (issue 17) */
int pcs_h_zadd(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_zrem(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_zpop(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_bzpop(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_zremrange(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_zrangestore(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);
int pcs_h_zstore(pcs_wctx *, const pcs_req *, pcs_buf *, uint32_t *);

#endif
