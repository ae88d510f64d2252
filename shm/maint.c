/*
 * maint.c - the LMDB calls behind the daemon's upkeep (maint.h): space,
 * the reader table, read transactions of its own, eviction candidates.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "maint.h"
#include "record.h"

/* ---- space ---- */

int pcs_shard_info_get(const pcs_shard *sh, pcs_shard_info *out)
{
    MDB_envinfo info;
    int rc = mdb_env_info(sh->env, &info);
    if (rc)
        return pcs_mdb_err(rc);
    out->map_size = info.me_mapsize;
    out->pages = (uint64_t)info.me_last_pgno + 1;
    out->last_txnid = info.me_last_txnid;
    return 0;
}

int pcs_shard_page_size(const pcs_shard *sh, unsigned *psize)
{
    MDB_stat ms;
    int rc = mdb_env_stat(sh->env, &ms);
    if (rc)
        return pcs_mdb_err(rc);
    *psize = ms.ms_psize;
    return 0;
}

int pcs_shard_usage(const pcs_shard *sh, uint64_t *bytes)
{
    MDB_envinfo info;
    MDB_stat st;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_env_info(sh->env, &info);
    if (!rc)
        rc = mdb_env_stat(sh->env, &st);
    if (!rc)
        rc = mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return pcs_mdb_err(rc);
    uint64_t free_pages = 0;
    if (!(rc = mdb_cursor_open(txn, 0 /* FREE_DBI */, &cur))) {
        MDB_val k, d;
        while (!(rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)))
            if (d.mv_size >= sizeof(size_t))
                free_pages += *(const size_t *)d.mv_data; /* an IDL: its count first */
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    if (rc != MDB_NOTFOUND)
        return pcs_mdb_err(rc);
    uint64_t pages = (uint64_t)info.me_last_pgno + 1;
    *bytes = (pages > free_pages ? pages - free_pages : 0) * st.ms_psize;
    return 0;
}

int pcs_shard_set_mapsize(const pcs_shard *sh, uint64_t size, uint64_t *mapped)
{
    MDB_envinfo info;
    if (size > SIZE_MAX)
        return PC_EINVAL;
    int rc = mdb_env_set_mapsize(sh->env, (size_t)size);
    if (rc || (rc = mdb_env_info(sh->env, &info)))
        return pcs_mdb_err(rc);
    *mapped = info.me_mapsize;
    return 0;
}

int pcs_shard_fd(const pcs_shard *sh, int *fd)
{
    mdb_filehandle_t h;
    int rc = mdb_env_get_fd(sh->env, &h);
    if (rc)
        return pcs_mdb_err(rc);
    *fd = h;
    return 0;
}

int pcs_shard_sync(const pcs_shard *sh)
{
    return pcs_mdb_err(mdb_env_sync(sh->env, 1));
}

/* ---- readers ---- */

int pcs_shard_reader_check(const pcs_shard *sh, int *dead)
{
    int n = 0;
    int rc = mdb_reader_check(sh->env, &n);
    if (dead)
        *dead = n;
    return pcs_mdb_err(rc);
}

/* One line of mdb_reader_list: "pid thread txnid", after a header line;
 * txnid is "-" for a slot between reads. */
static int readers_line(const char *msg, void *ctx)
{
    pcs_readers *rs = ctx;
    char *rest, tid[32], txn[32];
    errno = 0;
    long pid = strtol(msg, &rest, 10);
    if (rest == msg || errno || pid < INT_MIN || pid > INT_MAX ||
        sscanf(rest, "%31s %31s", tid, txn) != 2)
        return 0; /* the header line */
    rs->used++;
    if (txn[0] != '-') {
        uint64_t t = strtoull(txn, NULL, 10);
        if (t < rs->min_txnid) {
            rs->min_txnid = t;
            rs->min_pid = (int)pid;
        }
    }
    return 0;
}

int pcs_shard_readers(const pcs_shard *sh, pcs_readers *out)
{
    out->used = 0;
    out->min_txnid = UINT64_MAX;
    out->min_pid = 0;
    int rc = mdb_reader_list(sh->env, readers_line, out);
    return rc < 0 ? PC_EIO : 0; /* it answers -1 for a bad environment */
}

/* ---- read transactions of their own ---- */

int pcs_shard_next_due(const pcs_shard *sh, uint64_t *due)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return pcs_mdb_err(rc);
    if (!(rc = mdb_cursor_open(txn, sh->expiry, &cur))) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        mdb_cursor_close(cur);
    }
    int e = 0;
    if (rc == MDB_NOTFOUND) {
        *due = UINT64_MAX;
    } else if (rc) {
        e = pcs_mdb_err(rc);
    } else {
        const uint8_t *key;
        size_t klen;
        e = pcs_xkey_decode(k.mv_data, k.mv_size, due, &key, &klen);
    }
    mdb_txn_abort(txn);
    return e;
}

int pcs_shard_counts(const pcs_shard *sh, uint64_t out[PCS_COUNTS])
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return pcs_mdb_err(rc);
    rc = pcs_counts_get(txn, sh, out);
    mdb_txn_abort(txn);
    return rc;
}

int pcs_shard_meta(const pcs_shard *sh, const char *name, uint64_t *v)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return pcs_mdb_err(rc);
    rc = pcs_meta_get(txn, sh, name, v);
    mdb_txn_abort(txn);
    return rc;
}

int pcs_rtxns_begin(const pcs_store *st, pcs_rtxns *rt)
{
    rt->n = 0;
    for (unsigned s = 0; s < st->nshards; s++) {
        int rc = mdb_txn_begin(st->shards[s].env, NULL, MDB_RDONLY, &rt->txn[s]);
        if (rc) {
            pcs_rtxns_end(rt);
            return pcs_mdb_err(rc);
        }
        rt->n = s + 1;
    }
    return 0;
}

void pcs_rtxn_end(pcs_rtxns *rt, unsigned s)
{
    if (s < rt->n && rt->txn[s]) {
        mdb_txn_abort(rt->txn[s]);
        rt->txn[s] = NULL;
    }
}

void pcs_rtxns_end(pcs_rtxns *rt)
{
    for (unsigned s = 0; s < rt->n; s++)
        pcs_rtxn_end(rt, s);
    rt->n = 0;
}

/* ---- eviction candidates ---- */

/* The next key of the sweep, copied into key[]: from sp's position step
 * over skip keys, wrapping at the end. */
static int sample_next(MDB_cursor *cur, pcs_sampler *sp, unsigned skip, uint8_t *key, size_t *klen)
{
    MDB_val k = {sp->len, sp->pos}, v;
    int rc = sp->len ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                     : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; !rc && skip; skip--)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    if (rc == MDB_NOTFOUND) /* the end: wrap around */
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc || k.mv_size < 1 || k.mv_size > PC_KEY_MAX)
        return PC_ENOTFOUND;
    memcpy(key, k.mv_data, k.mv_size);
    *klen = k.mv_size;
    memcpy(sp->pos, k.mv_data, k.mv_size);
    sp->len = k.mv_size;
    return 0;
}

int pcs_evict_sample(pcs_wctx *w, pcs_sampler *sp, _Atomic uint32_t *access, bool lfu,
                     unsigned samples, uint32_t (*rnd)(void *), void *rnd_arg, uint8_t *victim,
                     size_t *vlen)
{
    if (!w->txn || !access || !rnd || sp->len > PC_KEY_MAX)
        return PC_EINVAL;
    MDB_cursor *cur;
    if (mdb_cursor_open(w->txn, w->sh->keys, &cur))
        return PC_EIO;
    uint64_t now_min = pcs_now_ms() / 60000, best = UINT64_MAX;
    int rc = PC_ENOTFOUND;
    for (unsigned i = 0; i < samples; i++) {
        uint8_t key[PC_KEY_MAX];
        size_t klen;
        if (sample_next(cur, sp, 1 + rnd(rnd_arg) % 4, key, &klen))
            break;
        uint32_t v =
            atomic_load_explicit(&access[pcs_access_slot(key, klen)], memory_order_relaxed);
        /* Lower is a better victim: LFU by decayed count, then age; LRU by age. */
        uint64_t score = lfu ? ((uint64_t)pcs_lfu_count(v, now_min) << 32) | (v >> 16) : v;
        if (score < best) {
            best = score;
            memcpy(victim, key, klen);
            *vlen = klen;
            rc = 0;
        }
    }
    mdb_cursor_close(cur);
    return rc;
}

int pcs_evict_soonest(pcs_wctx *w, uint8_t *victim, size_t *vlen)
{
    if (!w->txn)
        return PC_EINVAL;
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(w->txn, w->sh->expiry, &cur))
        return PC_EIO;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    uint64_t when;
    const uint8_t *key;
    size_t klen;
    if (!rc && pcs_xkey_decode(k.mv_data, k.mv_size, &when, &key, &klen))
        rc = MDB_CORRUPTED;
    if (!rc) {
        memcpy(victim, key, klen);
        *vlen = klen;
    }
    mdb_cursor_close(cur);
    return rc ? PC_ENOTFOUND : 0;
}
