/*
 * read.c - zero-copy reads.  A read holds one LMDB read transaction per
 * shard it touches, renewed lazily (mdb_txn_renew: no allocation, no lock),
 * and one clock reading; every view it returns points into the map.
 */
#include <string.h>

#include "../shm/access.h"
#include "../shm/alloc.h"
#include "client.h"

int pc_read_begin(pc_client *c, pc_read **r)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (!r)
        return PC_EINVAL;
    if (c->rd.active)
        return PC_EBUSY;
    /* Is the store we map still served?  One load of the daemon's liveness
     * word; only when it says the daemon went do we connect afresh (and a
     * ring-only client also when its channel broke: its reads need it). */
    if (c->remote &&
        (!c->ch.dpage || !pcs_daemon_alive(c->ch.dpage) ||
         (c->ring_only && (!c->ch.map || c->ch.broken))) &&
        (rc = pc__reconnect(c, false)))
        return rc;
    if (c->stale_st && (rc = pc__adopt_store(c, c->store_id)))
        return rc;
    c->rd.active = true;
    c->rd.now = pcs_now_ms();
    c->rd.live = c->rd.curlive = c->rd.kcurlive = 0;
    *r = &c->rd;
    return 0;
}

void pc_read_end(pc_read *r)
{
    if (!r || !r->active)
        return;
    pc__rr_release(r);
    if (r->c->fork_gen == pcs_fork_gen) {
        for (unsigned i = 0; r->live && i < PCS_SHARDS_MAX; i++)
            if (r->live & (UINT64_C(1) << i))
                mdb_txn_reset(r->txn[i]);
        if (r->live && r->c->st && r->c->st->mode == PCS_MODE_READER)
            pcs_gate_set(&r->c->gate, 0);
    }
    r->live = 0;
    r->active = false;
}

int pc_read_renew(pc_read *r)
{
    if (!r || !r->active)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    pc_read_end(r);
    r->active = true;
    r->now = pcs_now_ms();
    r->curlive = r->kcurlive = 0;
    return 0;
}

/* A ring-only client: every read below goes through the channel. */
#define RING(r) ((r) && (r)->active && pc__ring_only((r)->c))

/* Checks a ring-only read makes before it sends anything. */
static int ring_key(pc_read *r, const void *key, size_t klen)
{
    int rc = pc__usable(r->c);
    return rc ? rc : pcs_key_ok(key, klen);
}

/* Begin or renew the read transaction of shard s; an LMDB code. */
static int rd_begin(pc_read *r, unsigned s)
{
    const pcs_shard *sh = &r->c->st->shards[s];
    return r->txn[s] ? mdb_txn_renew(r->txn[s])
                     : mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &r->txn[s]);
}

/*
 * A client of the daemon: its reads pass the store's gate, so that when the
 * daemon has grown the map since this process mapped it (a restart with a
 * larger --max-memory: LMDB says MDB_MAP_RESIZED) the shard can be mapped
 * anew while no read of this process is open on it.  PC_EAGAIN if another
 * read of the process kept it open (see pc_read_begin).
 */
static int rd_begin_gated(pc_read *r, unsigned s)
{
    pcs_store *st = r->c->st;
    int rc = pcs_gate_enter(st, &r->c->gate, s);
    if (rc)
        return rc;
    int mrc = rd_begin(r, s);
    if (mrc == MDB_MAP_RESIZED) {
        pcs_gate_set(&r->c->gate, r->live);
        if ((rc = pcs_store_adopt(st, s)) || (rc = pcs_gate_enter(st, &r->c->gate, s)))
            return rc;
        mrc = rd_begin(r, s);
    }
    if (mrc)
        pcs_gate_set(&r->c->gate, r->live);
    return pcs_mdb_err(mrc);
}

/* The view of shard s in this read: begin or renew its transaction. */
int pc__rd_view(pc_read *r, unsigned s, pcs_view *v)
{
    uint64_t bit = UINT64_C(1) << s;
    const pcs_shard *sh = &r->c->st->shards[s];
    if (!(r->live & bit)) {
        int rc =
            r->c->st->mode == PCS_MODE_READER ? rd_begin_gated(r, s) : pcs_mdb_err(rd_begin(r, s));
        if (rc)
            return rc;
        r->live |= bit;
    }
    v->txn = r->txn[s];
    v->sh = sh;
    v->now = r->now;
    return 0;
}

/* A cursor on the members (or keys) database of shard s, renewed for this read. */
static int rd_cursor(pc_read *r, unsigned s, bool keys, MDB_cursor **out)
{
    MDB_cursor **slot = keys ? &r->kcur[s] : &r->cur[s];
    uint64_t *live = keys ? &r->kcurlive : &r->curlive;
    uint64_t bit = UINT64_C(1) << s;
    const pcs_shard *sh = &r->c->st->shards[s];
    int rc = 0;
    if (!*slot)
        rc = mdb_cursor_open(r->txn[s], keys ? sh->keys : sh->members, slot);
    else if (!(*live & bit))
        rc = mdb_cursor_renew(r->txn[s], *slot);
    if (rc)
        return pcs_mdb_err(rc);
    *live |= bit;
    *out = *slot;
    return 0;
}

/* Check the read and the key, find the key's shard and its view. */
static int rd_key(pc_read *r, const void *key, size_t klen, pcs_view *v, unsigned *shard)
{
    if (!r || !r->active)
        return PC_EINVAL;
    if (r->c->fork_gen != pcs_fork_gen)
        return PC_EFORK;
    int rc = pcs_key_ok(key, klen);
    if (rc)
        return rc;
    unsigned s = pcs_shard_of(r->c->nshards, key, klen);
    if (shard)
        *shard = s;
    return pc__rd_view(r, s, v);
}

/* A daemon client counts its own lookups (the daemon sums them for its
 * stats) and, when the daemon evicts by LRU/LFU, records its hits. */
static void rd_note(pc_read *r, const void *key, size_t klen, int rc)
{
    pc__chan *ch = &r->c->ch;
    if ((rc != 0 && rc != PC_ENOTFOUND) || !ch->hdr)
        return;
    _Atomic uint64_t *ctr = rc == 0 ? &ch->hdr->reads_hit : &ch->hdr->reads_miss;
    /* We are the only writer of our counters: no read-modify-write needed. */
    atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (rc == 0 && ch->access) {
        ch->rnd = ch->rnd * 1664525u + 1013904223u;
        pcs_access_touch(ch->access, pcs_access_slot(key, klen), r->now, ch->lfu, ch->rnd);
    }
}

/* Look up a key of type want (PC_T_NONE: any). */
static int rd_rec(pc_read *r, const void *key, size_t klen, pc_type want, pcs_view *v, pcs_rec *rec,
                  unsigned *shard)
{
    int rc = rd_key(r, key, klen, v, shard);
    if (rc)
        return rc;
    rc = pcs_lookup(v, key, klen, rec, NULL);
    if (r->c->remote)
        rd_note(r, key, klen, rc);
    if (rc)
        return rc;
    return want == PC_T_NONE || rec->type == want ? 0 : PC_EWRONGTYPE;
}

int pc_get(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_get(r, key, klen, out);
    }
    int rc = rd_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (rc)
        return rc;
    if (rec.type == PC_T_STRING) {
        out->kind = PC_BYTES;
        out->s.ptr = rec.data;
        out->s.len = rec.dlen;
        return 0;
    }
    if (rec.type == PC_T_NUMERIC) {
        *out = rec.num;
        return 0;
    }
    return PC_EWRONGTYPE;
}

int pc_mget(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, size_t *nfound)
{
    if (!r || !r->active || (n && (!keys || !out)))
        return PC_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (pcs_key_ok(keys[i].ptr, keys[i].len))
            return PC_EKEY;
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = pc_get(r, keys[i].ptr, keys[i].len, &out[i]);
        if (rc == PC_ENOTFOUND || rc == PC_EWRONGTYPE) {
            out[i].kind = PC_NONE;
            continue;
        }
        if (rc)
            return rc;
        found++;
    }
    if (nfound)
        *nfound = found;
    return 0;
}

int pc_type_of(pc_read *r, const void *key, size_t klen, pc_type *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t t;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_TYPE, key, klen, 0, 0, &t)))
            *out = t >= PC_T_NONE && t <= PC_T_QUEUE ? (pc_type)t : PC_T_NONE;
        return rc;
    }
    int rc = rd_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (rc == PC_ENOTFOUND) {
        *out = PC_T_NONE;
        return 0;
    }
    if (!rc)
        *out = rec.type;
    return rc;
}

int pc_exists(pc_read *r, const void *key, size_t klen, int *out)
{
    pc_type t;
    if (!out)
        return PC_EINVAL;
    int rc = pc_type_of(r, key, klen, &t);
    if (!rc)
        *out = t != PC_T_NONE;
    return rc;
}

int pc_ttl(pc_read *r, const void *key, size_t klen, int64_t *ms_left)
{
    pcs_view v;
    pcs_rec rec;
    if (!ms_left)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_int(r, PCS_OP_R_TTL, key, klen, 0, 0, ms_left);
    }
    int rc = rd_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (rc)
        return rc;
    *ms_left = rec.expire_at ? (int64_t)(rec.expire_at - r->now) : -1;
    return 0;
}

int pc_ttl_sec(pc_read *r, const void *key, size_t klen, int64_t *s_left)
{
    int64_t ms;
    if (!s_left)
        return PC_EINVAL;
    int rc = pc_ttl(r, key, klen, &ms);
    if (!rc)
        *s_left = ms < 0 ? -1 : (ms + 999) / 1000;
    return rc;
}

int pc_version(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t ver;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_VERSION, key, klen, 0, 0, &ver)))
            *out = (uint64_t)ver;
        return rc;
    }
    int rc = rd_rec(r, key, klen, PC_T_NONE, &v, &rec, NULL);
    if (!rc)
        *out = rec.version;
    return rc;
}

int pc_strlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t n;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_STRLEN, key, klen, 0, 0, &n)))
            *out = (uint64_t)n;
        return rc;
    }
    int rc = rd_rec(r, key, klen, PC_T_STRING, &v, &rec, NULL);
    if (!rc)
        *out = rec.dlen;
    return rc;
}

int pc_getrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_getrange(r, key, klen, start, end, out);
    }
    int rc = rd_rec(r, key, klen, PC_T_STRING, &v, &rec, NULL);
    if (rc)
        return rc;
    /* Redis GETRANGE: negative offsets count from the end and are then
     * clamped to the string (unlike LRANGE, an end before the start of the
     * string means its first byte). */
    int64_t n = (int64_t)rec.dlen;
    out->kind = PC_BYTES;
    out->s.ptr = rec.data;
    out->s.len = 0;
    if ((start < 0 && end < 0 && start > end) || n == 0)
        return 0;
    if (start < 0)
        start = start < -n ? 0 : start + n;
    if (end < 0)
        end = end < -n ? 0 : end + n;
    if (end >= n)
        end = n - 1;
    if (start <= end) {
        out->s.ptr = rec.data + start;
        out->s.len = (size_t)(end - start + 1);
    }
    return 0;
}

/* ---- lists and queues ---- */

static int seq_len(pc_read *r, const void *key, size_t klen, pc_type t, uint64_t *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int64_t n;
        int rc = ring_key(r, key, klen);
        if (!rc && !(rc = pc__rr_int(r, PCS_OP_R_COUNT, key, klen, t, 1, &n)))
            *out = (uint64_t)n;
        return rc;
    }
    int rc = rd_rec(r, key, klen, t, &v, &rec, NULL);
    if (!rc)
        *out = rec.count;
    return rc;
}

int pc_llen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return seq_len(r, key, klen, PC_T_LIST, out);
}

int pc_qlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return seq_len(r, key, klen, PC_T_QUEUE, out);
}

int pc_lindex(pc_read *r, const void *key, size_t klen, int64_t index, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_seqget(r, key, klen, PC_T_LIST, index, out);
    }
    int rc = rd_rec(r, key, klen, PC_T_LIST, &v, &rec, NULL);
    if (rc)
        return rc;
    uint64_t pos;
    if (!pcs_norm_index(index, rec.count, &pos))
        return PC_ERANGE;
    return pcs_seq_get(&v, &rec, pos, out);
}

int pc_qpeek(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out)
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_seqget(r, key, klen, PC_T_QUEUE, 0, out);
    }
    int rc = rd_rec(r, key, klen, PC_T_QUEUE, &v, &rec, NULL);
    return rc ? rc : pcs_seq_get(&v, &rec, 0, out);
}

static int seq_range(pc_read *r, const void *key, size_t klen, pc_type t, int64_t start,
                     int64_t stop, pc_val *out, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    unsigned s;
    if (!n || (max && !out))
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        if (rc || max == 0)
            return rc;
        rc = pc__rr_seqrange(r, key, klen, t, start, stop, out, max, n);
        return rc == PC_ENOTFOUND ? 0 : rc;
    }
    int rc = rd_rec(r, key, klen, t, &v, &rec, &s);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    uint64_t from, to;
    if (!pcs_norm_range(start, stop, rec.count, &from, &to) || max == 0)
        return 0;
    MDB_cursor *cur;
    if ((rc = rd_cursor(r, s, false, &cur)))
        return rc;
    return pcs_seq_range(&v, cur, &rec, from, to, out, max, n);
}

int pc_lrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop, pc_val *out,
              size_t max, size_t *n)
{
    return seq_range(r, key, klen, PC_T_LIST, start, stop, out, max, n);
}

int pc_qrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop, pc_val *out,
              size_t max, size_t *n)
{
    return seq_range(r, key, klen, PC_T_QUEUE, start, stop, out, max, n);
}

/* ---- maps ---- */

int pc_hget(pc_read *r, const void *key, size_t klen, const void *field, size_t flen, pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out || (flen && !field))
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_hget(r, key, klen, field, flen, out);
    }
    int rc = rd_rec(r, key, klen, PC_T_MAP, &v, &rec, NULL);
    return rc ? rc : pcs_map_get(&v, &rec, field, flen, out, NULL);
}

int pc_hmget(pc_read *r, const void *key, size_t klen, const pc_bytes *fields, size_t n,
             pc_val *out)
{
    pcs_view v;
    pcs_rec rec;
    if (n && (!fields || !out))
        return PC_EINVAL;
    if (RING(r)) {
        int rc = ring_key(r, key, klen);
        for (size_t i = 0; i < n && !rc; i++) {
            rc = pc__rr_hget(r, key, klen, fields[i].ptr, fields[i].len, &out[i]);
            if (rc == PC_ENOTFOUND) {
                out[i].kind = PC_NONE;
                rc = 0;
            }
        }
        return rc;
    }
    int rc = rd_rec(r, key, klen, PC_T_MAP, &v, &rec, NULL);
    bool missing = rc == PC_ENOTFOUND;
    if (rc && !missing)
        return rc;
    for (size_t i = 0; i < n; i++) {
        out[i].kind = PC_NONE;
        if (missing)
            continue;
        rc = pcs_map_get(&v, &rec, fields[i].ptr, fields[i].len, &out[i], NULL);
        if (rc == PC_ENOTFOUND)
            out[i].kind = PC_NONE;
        else if (rc)
            return rc;
    }
    return 0;
}

int pc_hlen(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return seq_len(r, key, klen, PC_T_MAP, out);
}

int pc_hexists(pc_read *r, const void *key, size_t klen, const void *field, size_t flen, int *out)
{
    pc_val v;
    if (!out)
        return PC_EINVAL;
    int rc = pc_hget(r, key, klen, field, flen, &v);
    *out = rc == 0;
    return rc == PC_ENOTFOUND ? 0 : rc;
}

/* A missing key scans as empty; a cursor ends there. */
static int scan_rec(pc_read *r, const void *key, size_t klen, pc_type t, pc_cursor *cur, size_t *n,
                    pcs_view *v, pcs_rec *rec, MDB_cursor **mc)
{
    unsigned s;
    if (!cur || !n)
        return PC_EINVAL;
    *n = 0;
    int rc = rd_rec(r, key, klen, t, v, rec, &s);
    if (rc == PC_ENOTFOUND) {
        cur->done = true;
        return 1;
    }
    if (rc)
        return rc;
    if (cur->done)
        return 1;
    return rd_cursor(r, s, false, mc);
}

int pc_hscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_bytes *fields,
             pc_val *values, size_t max, size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *mc;
    if (RING(r)) {
        if (!cur || !n)
            return PC_EINVAL;
        *n = 0;
        int rc = ring_key(r, key, klen);
        if (rc || cur->done)
            return rc;
        return pc__rr_scan(r, PCS_OP_R_HSCAN, key, klen, 0, NULL, 0, cur, fields, values, max, n);
    }
    int rc = scan_rec(r, key, klen, PC_T_MAP, cur, n, &v, &rec, &mc);
    if (rc)
        return rc > 0 ? 0 : rc;
    return pcs_map_scan(&v, mc, &rec, cur, fields, values, max, n);
}

/* ---- sets ---- */

int pc_scard(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return seq_len(r, key, klen, PC_T_SET, out);
}

int pc_sismember(pc_read *r, const void *key, size_t klen, const pc_val *member, int *out)
{
    pcs_view v;
    pcs_rec rec;
    if (!out || !member)
        return PC_EINVAL;
    *out = 0;
    int rc = pcs_val_check(member, UINT64_MAX);
    if (rc)
        return rc;
    if (RING(r)) {
        rc = ring_key(r, key, klen);
        return rc ? rc : pc__rr_sismember(r, key, klen, member, out);
    }
    rc = rd_rec(r, key, klen, PC_T_SET, &v, &rec, NULL);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    bool has;
    rc = pcs_set_has(&v, &rec, member, &has, NULL);
    *out = has;
    return rc;
}

int pc_sscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_val *out, size_t max,
             size_t *n)
{
    pcs_view v;
    pcs_rec rec;
    MDB_cursor *mc;
    if (max && !out)
        return PC_EINVAL;
    if (RING(r)) {
        if (!cur || !n)
            return PC_EINVAL;
        *n = 0;
        int rc = ring_key(r, key, klen);
        if (rc || cur->done)
            return rc;
        return pc__rr_scan(r, PCS_OP_R_SSCAN, key, klen, 0, NULL, 0, cur, NULL, out, max, n);
    }
    int rc = scan_rec(r, key, klen, PC_T_SET, cur, n, &v, &rec, &mc);
    if (rc)
        return rc > 0 ? 0 : rc;
    return pcs_set_scan(&v, mc, &rec, cur, out, max, n);
}

static int set_algebra(int how, pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur,
                       pc_val *out, size_t max, size_t *n)
{
    if (!r || !r->active || !cur || !n || (nkeys && !keys) || (max && !out))
        return PC_EINVAL;
    *n = 0;
    if (RING(r)) {
        int rc = pc__usable(r->c);
        for (size_t i = 0; i < nkeys && !rc; i++)
            rc = pcs_key_ok(keys[i].ptr, keys[i].len);
        if (rc || cur->done)
            return rc;
        if (nkeys == 0) {
            cur->done = true;
            return 0;
        }
        return pc__rr_scan(r, PCS_OP_R_SALG, keys[0].ptr, keys[0].len, how, keys, nkeys, cur, NULL,
                           out, max, n);
    }
    pcs_view *views = pcs_calloc(nkeys ? nkeys : 1, sizeof *views);
    pcs_rec *recs = pcs_calloc(nkeys ? nkeys : 1, sizeof *recs);
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers to structs
    const pcs_rec **rp = pcs_calloc(nkeys ? nkeys : 1, sizeof *rp);
    int rc = views && recs && rp ? 0 : PC_ENOMEM;
    for (size_t i = 0; i < nkeys && !rc; i++) {
        rc = rd_rec(r, keys[i].ptr, keys[i].len, PC_T_SET, &views[i], &recs[i], NULL);
        if (rc == PC_ENOTFOUND) {
            rc = 0;
            rp[i] = NULL;
        } else if (!rc) {
            rp[i] = &recs[i];
        }
    }
    if (!rc)
        rc = pcs_set_algebra(how, views, rp, nkeys, cur, out, max, n);
    pcs_free(views);
    pcs_free(recs);
    pcs_free((void *)rp);
    return rc;
}

int pc_sunion(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
              size_t max, size_t *n)
{
    return set_algebra(PCS_SET_UNION, r, keys, nkeys, cur, out, max, n);
}

int pc_sinter(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
              size_t max, size_t *n)
{
    return set_algebra(PCS_SET_INTER, r, keys, nkeys, cur, out, max, n);
}

int pc_sdiff(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
             size_t max, size_t *n)
{
    return set_algebra(PCS_SET_DIFF, r, keys, nkeys, cur, out, max, n);
}

/* ---- keys ---- */

int pc_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys, size_t max, size_t *n)
{
    if (!r || !r->active || !cur || !n || (max && !keys))
        return PC_EINVAL;
    if (r->c->fork_gen != pcs_fork_gen)
        return PC_EFORK;
    *n = 0;
    if (RING(r)) {
        if (cur->done)
            return 0;
        /* NULL travels as "*": an empty glob is a pattern (matching no key). */
        const char *g = glob ? glob : "*";
        size_t gl = strlen(g);
        if (gl > 4096)
            return PC_EINVAL;
        return pc__rr_scan(r, PCS_OP_R_SCAN, g, gl, 0, NULL, 0, cur, keys, NULL, max, n);
    }
    while (!cur->done && *n < max) {
        if (cur->shard >= r->c->nshards) {
            cur->done = true;
            break;
        }
        pcs_view v;
        MDB_cursor *kc = NULL;
        int rc = pc__rd_view(r, cur->shard, &v);
        if (rc || (rc = rd_cursor(r, cur->shard, true, &kc)))
            return rc;
        size_t got;
        bool end;
        rc = pcs_key_scan(&v, kc, glob, cur, keys + *n, max - *n, &got, &end);
        if (rc)
            return rc;
        *n += got;
        if (end) {
            cur->shard++;
            cur->started = 0;
            cur->len = 0;
        }
    }
    return 0;
}
