/*
 * zset.c - the public calls for sorted sets (issue 17).  Writes check their
 * arguments (bad input is refused at once, even in a batch), encode one
 * request frame and name the out-parameter its answer fills; reads call
 * shm/zset.c's zero-copy reads, or ask the daemon for a ring-only client.
 */
#include <math.h>
#include <string.h>

#include "../shm/alloc.h"
#include "../shm/zset.h"
#include "client.h"

/* A member (of at most maxv bytes): 0 or the code, with what was wrong. */
static int chk_member_max(pc_client *c, const pc_val *m, const char *what, uint64_t maxv)
{
    if (!m)
        return pc__why(c, PC_EINVAL, "%s is NULL", what);
    int rc = pcs_val_check(m, maxv);
    if (rc == PC_EINVAL)
        return pc__why(c, rc, "%s: a member is any kind but PC_NONE, got %d", what, (int)m->kind);
    if (rc == PC_ETOOBIG)
        return pc__why(c, rc, "%s is %zu bytes; the store's largest value is %llu", what, m->s.len,
                       (unsigned long long)c->max_value);
    if (rc == PC_ENAN)
        return pc__why(c, rc, "%s: a double member must be finite", what);
    return rc;
}

static int chk_member(pc_client *c, const pc_val *m, const char *what)
{
    return chk_member_max(c, m, what, c->max_value);
}

/* Too many arguments for one request. */
static int too_many(pc_client *c, size_t n, const char *what, size_t most)
{
    return pc__why(c, PC_ETOOBIG, "%zu %s; at most %zu in one call", n, what, most);
}

static int chk_flags(pc_client *c, unsigned flags)
{
    if (flags & ~(unsigned)(PC_ZADD_NX | PC_ZADD_XX | PC_ZADD_GT | PC_ZADD_LT | PC_ZADD_CH))
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    if ((flags & PC_ZADD_NX) && (flags & (PC_ZADD_XX | PC_ZADD_GT | PC_ZADD_LT)))
        return pc__why(c, PC_EINVAL, "PC_ZADD_NX cannot go with XX, GT or LT");
    if ((flags & PC_ZADD_GT) && (flags & PC_ZADD_LT))
        return pc__why(c, PC_EINVAL, "PC_ZADD_GT and PC_ZADD_LT cannot be combined");
    return 0;
}

static int chk_spec(pc_client *c, const pc_zrange_spec *s, uint64_t maxv)
{
    if (!s)
        return pc__why(c, PC_EINVAL, "the range spec is NULL");
    int rc = pcs_zspec_check(s, maxv);
    if (rc == PC_ENAN)
        return pc__why(c, rc, "a range's score bound is NaN");
    if (rc == PC_EINVAL)
        return pc__why(c, rc,
                       "a bad range: by must be PC_ZBY_INDEX, _SCORE or _LEX; bounds need "
                       "their kind (by lex: a member, or PC_ZB_MINUS / PC_ZB_PLUS alone); "
                       "LIMIT (offset >= 0, count) by score or by lex only");
    return rc;
}

/* ---- writes ---- */

static int w_zadd(pc_client *c, const void *key, size_t klen, const pc_zentry *items, size_t n,
                  unsigned flags, uint64_t *count)
{
    int rc = pc__usable(c);
    if (rc || (rc = chk_flags(c, flags)))
        return rc;
    if (n == 0 || !items)
        return pc__why(c, PC_EINVAL, "n must be at least 1 and items not NULL");
    if (n > (PCS_ARGC_MAX - 2) / 2)
        return too_many(c, n, "members", (PCS_ARGC_MAX - 2) / 2);
    for (size_t i = 0; i < n; i++) {
        if (isnan(items[i].score))
            return pc__why(c, PC_ENAN, "items[%zu].score is NaN", i);
        if ((rc = chk_member(c, &items[i].member, "a member")))
            return rc;
    }
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZADD, key, klen, &e, PC__R_U64, count)))
        return rc;
    pcs_enc_int(&e, flags);
    for (size_t i = 0; i < n; i++) {
        pcs_enc_double(&e, items[i].score);
        pcs_enc_val(&e, &items[i].member);
    }
    return pc__op_end(c, &e, 0);
}

static int w_zincr(pc_client *c, const void *key, size_t klen, const pc_val *member, double incr,
                   unsigned flags, uint8_t shape, void *out)
{
    int rc = pc__usable(c);
    if (rc || (rc = chk_flags(c, flags)) || (rc = chk_member(c, member, "member")))
        return rc;
    if (isnan(incr))
        return pc__why(c, PC_ENAN, "incr is NaN");
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZADD, key, klen, &e, shape, out)))
        return rc;
    pcs_enc_int(&e, flags | PCS_ZADD_INCR);
    pcs_enc_double(&e, incr);
    pcs_enc_val(&e, member);
    return pc__op_end(c, &e, 0);
}

static int w_zrem(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n,
                  uint64_t *removed)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (n == 0 || !m)
        return pc__why(c, PC_EINVAL, "n must be at least 1 and members not NULL");
    if (n > PCS_ARGC_MAX - 1)
        return too_many(c, n, "members", PCS_ARGC_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if ((rc = chk_member(c, &m[i], "a member")))
            return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZREM, key, klen, &e, PC__R_U64, removed)))
        return rc;
    for (size_t i = 0; i < n; i++)
        pcs_enc_val(&e, &m[i]);
    return pc__op_end(c, &e, 0);
}

static int w_zpop(pc_client *c, const void *key, size_t klen, bool max, size_t n, pc_zentry *out,
                  size_t *got)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if ((n && !out) || n > INT64_MAX)
        return pc__why(c, PC_EINVAL, "out is NULL");
    if (got)
        *got = 0;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZPOP, key, klen, &e, PC__R_ZENTRIES, out ? out : (void *)got)))
        return rc;
    c->pend[c->npend].max = n;
    c->pend[c->npend].n = got;
    pcs_enc_int(&e, max);
    pcs_enc_int(&e, (int64_t)n);
    return pc__op_end(c, &e, 0);
}

/* The answer of a blocking pop: key, member, score. */
int pc__zfill(const pc__pend *p, const pcs_resp *r)
{
    const uint8_t *q = r->vals;
    pc_val k, m, s;
    if (p->shape == PC__R_ZBLOCK) {
        pc__zblock *b = p->out;
        if (r->nvals != 3 || pcs_val_decode(&q, r->end, &k) || k.kind != PC_BYTES ||
            pcs_val_decode(&q, r->end, &m) || pcs_val_decode(&q, r->end, &s) || s.kind != PC_DOUBLE)
            return PC_EPROTO;
        if (b->key)
            *b->key = k.s;
        if (b->e) {
            b->e->member = m;
            b->e->score = s.d;
        }
        return 0;
    }
    /* PC__R_ZENTRIES: member, score pairs into pc_zentry[max]. */
    pc_zentry *out = p->max ? p->out : NULL;
    size_t i = 0;
    if (r->nvals % 2 || r->nvals / 2 > p->max)
        return PC_EPROTO;
    for (; i < r->nvals / 2; i++) {
        if (pcs_val_decode(&q, r->end, &m) || pcs_val_decode(&q, r->end, &s) || s.kind != PC_DOUBLE)
            return PC_EPROTO;
        out[i].member = m;
        out[i].score = s.d;
    }
    if (p->n)
        *p->n = i;
    return 0;
}

/* One BZPOP request: a remote one carries the waiter's deadline (the
 * daemon parks it, as a queue's wait); an embedded one is tried again
 * (pc__poll) while it finds nothing. */
struct bzpop_try {
    const pc_bytes *keys;
    size_t n;
    int64_t timeout_ms;
    bool max;
    pc__zblock *blk;
};

static int bzpop_attempt(pc_client *c, void *arg)
{
    struct bzpop_try *a = arg;
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_BZPOP, a->keys[0].ptr, a->keys[0].len, &e, PC__R_ZBLOCK, a->blk);
    if (rc)
        return rc;
    pcs_enc_int(&e, a->max);
    pcs_enc_int(&e, a->timeout_ms);
    size_t until_at = e.b->len;
    pcs_enc_int(&e, 0);
    for (size_t i = 1; i < a->n; i++)
        pcs_enc_bytes(&e, a->keys[i].ptr, a->keys[i].len);
    return c->remote ? pc__op_end_wait_at(c, &e, a->timeout_ms, until_at) : pc__op_end(c, &e, 0);
}

static int w_bzpop(pc_client *c, const pc_bytes *keys, size_t n, int64_t timeout_ms, bool max,
                   pc_bytes *key, pc_zentry *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__IDLE)
        return pc__why(c, PC_ESTATE, "it cannot wait inside a batch or a transaction");
    if (timeout_ms < 1 || timeout_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "timeout_ms must be 1 to %lld, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)timeout_ms);
    if (n == 0 || !keys)
        return pc__why(c, PC_EINVAL, "n must be at least 1 and keys not NULL");
    if (n > PCS_ARGC_MAX - 4)
        return too_many(c, n, "keys", PCS_ARGC_MAX - 4);
    for (size_t i = 0; i < n; i++)
        if ((rc = pc__key(c, "a key", keys[i].ptr, keys[i].len)) ||
            (rc = pc__same_shard(c, "key", keys[0].ptr, keys[0].len, "key", keys[i].ptr,
                                 keys[i].len)))
            return rc;
    pc__zblock blk = {key, out};
    struct bzpop_try a = {keys, n, timeout_ms, max, &blk};
    return c->remote ? bzpop_attempt(c, &a)
                     : pc__poll(c, timeout_ms, PC_ENOTFOUND, bzpop_attempt, &a);
}

static int w_zremrange(pc_client *c, const void *key, size_t klen, const pc_zrange_spec *spec,
                       uint64_t *removed)
{
    int rc = pc__usable(c);
    if (rc || (rc = chk_spec(c, spec, c->max_value)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZREMRANGE, key, klen, &e, PC__R_U64, removed)))
        return rc;
    pcs_zspec_enc(&e, spec);
    return pc__op_end(c, &e, 0);
}

static int w_zrangestore(pc_client *c, const void *dst, size_t dlen, const void *src, size_t slen,
                         const pc_zrange_spec *spec, uint64_t *stored)
{
    int rc = pc__usable(c);
    if (rc || (rc = pc__key(c, "src", src, slen)) || (rc = chk_spec(c, spec, c->max_value)) ||
        (rc = pc__key(c, "dst", dst, dlen)) ||
        (rc = pc__same_shard(c, "dst", dst, dlen, "src", src, slen)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZRANGESTORE, dst, dlen, &e, PC__R_U64, stored)))
        return rc;
    pcs_enc_bytes(&e, src, slen);
    pcs_zspec_enc(&e, spec);
    return pc__op_end(c, &e, 0);
}

static int w_zstore(pc_client *c, int how, const void *dst, size_t dlen, const pc_bytes *keys,
                    size_t n, const double *weights, int aggregate, uint64_t *card)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (n == 0 || !keys)
        return pc__why(c, PC_EINVAL, "n must be at least 1 and keys not NULL");
    if (n > (PCS_ARGC_MAX - 3) / 2)
        return too_many(c, n, "keys", (PCS_ARGC_MAX - 3) / 2);
    if (aggregate < PC_ZAGG_SUM || aggregate > PC_ZAGG_MAX)
        return pc__why(c, PC_EINVAL, "aggregate must be PC_ZAGG_SUM, _MIN or _MAX, got %d",
                       aggregate);
    if ((rc = pc__key(c, "dst", dst, dlen)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = pc__key(c, "a key", keys[i].ptr, keys[i].len)) ||
            (rc = pc__same_shard(c, "dst", dst, dlen, "a source key", keys[i].ptr, keys[i].len)))
            return rc;
        if (weights && isnan(weights[i]))
            return pc__why(c, PC_ENAN, "weights[%zu] is NaN", i);
    }
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_ZSTORE, dst, dlen, &e, PC__R_U64, card)))
        return rc;
    pcs_enc_int(&e, how);
    pcs_enc_int(&e, aggregate);
    for (size_t i = 0; i < n; i++) {
        pcs_enc_bytes(&e, keys[i].ptr, keys[i].len);
        pcs_enc_double(&e, weights ? weights[i] : 1.0);
    }
    return pc__op_end(c, &e, 0);
}

int pc_zadd(pc_client *c, const void *key, size_t klen, const pc_zentry *items, size_t n,
            unsigned flags, uint64_t *count)
{
    return pc__note(c, "pc_zadd", w_zadd(c, key, klen, items, n, flags, count));
}

int pc_zadd_incr(pc_client *c, const void *key, size_t klen, const pc_val *member, double incr,
                 unsigned flags, pc_val *score)
{
    return pc__note(c, "pc_zadd_incr",
                    w_zincr(c, key, klen, member, incr, flags, PC__R_VAL, score));
}

int pc_zincrby(pc_client *c, const void *key, size_t klen, const pc_val *member, double incr,
               double *score)
{
    return pc__note(c, "pc_zincrby", w_zincr(c, key, klen, member, incr, 0, PC__R_DBL, score));
}

int pc_zrem(pc_client *c, const void *key, size_t klen, const pc_val *members, size_t n,
            uint64_t *removed)
{
    return pc__note(c, "pc_zrem", w_zrem(c, key, klen, members, n, removed));
}

int pc_zpopmin(pc_client *c, const void *key, size_t klen, size_t max, pc_zentry *out, size_t *n)
{
    return pc__note(c, "pc_zpopmin", w_zpop(c, key, klen, false, max, out, n));
}

int pc_zpopmax(pc_client *c, const void *key, size_t klen, size_t max, pc_zentry *out, size_t *n)
{
    return pc__note(c, "pc_zpopmax", w_zpop(c, key, klen, true, max, out, n));
}

int pc_bzpopmin(pc_client *c, const pc_bytes *keys, size_t n, int64_t timeout_ms, pc_bytes *key,
                pc_zentry *out)
{
    return pc__note(c, "pc_bzpopmin", w_bzpop(c, keys, n, timeout_ms, false, key, out));
}

int pc_bzpopmax(pc_client *c, const pc_bytes *keys, size_t n, int64_t timeout_ms, pc_bytes *key,
                pc_zentry *out)
{
    return pc__note(c, "pc_bzpopmax", w_bzpop(c, keys, n, timeout_ms, true, key, out));
}

int pc_zremrange(pc_client *c, const void *key, size_t klen, const pc_zrange_spec *spec,
                 uint64_t *removed)
{
    return pc__note(c, "pc_zremrange", w_zremrange(c, key, klen, spec, removed));
}

int pc_zrangestore(pc_client *c, const void *dst, size_t dlen, const void *src, size_t slen,
                   const pc_zrange_spec *spec, uint64_t *stored)
{
    return pc__note(c, "pc_zrangestore", w_zrangestore(c, dst, dlen, src, slen, spec, stored));
}

int pc_zunionstore(pc_client *c, const void *dst, size_t dlen, const pc_bytes *keys, size_t n,
                   const double *weights, int aggregate, uint64_t *card)
{
    return pc__note(c, "pc_zunionstore",
                    w_zstore(c, PCS_ZSTORE_UNION, dst, dlen, keys, n, weights, aggregate, card));
}

int pc_zinterstore(pc_client *c, const void *dst, size_t dlen, const pc_bytes *keys, size_t n,
                   const double *weights, int aggregate, uint64_t *card)
{
    return pc__note(c, "pc_zinterstore",
                    w_zstore(c, PCS_ZSTORE_INTER, dst, dlen, keys, n, weights, aggregate, card));
}

int pc_zdiffstore(pc_client *c, const void *dst, size_t dlen, const pc_bytes *keys, size_t n,
                  uint64_t *card)
{
    return pc__note(c, "pc_zdiffstore",
                    w_zstore(c, PCS_ZSTORE_DIFF, dst, dlen, keys, n, NULL, PC_ZAGG_SUM, card));
}

/* ---- reads ---- */

/* A ring-only read whose answer is one INT. */
static int ring_int(pc_read *r, uint16_t op, const void *key, size_t klen, const pc_val *args,
                    size_t nargs, int64_t *out)
{
    pcs_resp resp;
    int rc = pc__rr_call(r, op, key, klen, args, nargs, &resp);
    if (rc || (rc = resp.rc))
        return rc;
    const uint8_t *q = resp.vals;
    pc_val v;
    if (resp.nvals != 1 || pcs_val_decode(&q, resp.end, &v) || v.kind != PC_INT || v.i < 0)
        return PC_EPROTO;
    *out = v.i;
    return 0;
}

static void spec_args(const pc_zrange_spec *s, pc_val a[PCS_ZSPEC_ARGS])
{
    pcs_zspec_vals(s, a);
}

/* A cursor as one BYTES value (reader.h): done, started, u16 len, u32
 * shard, the position. */
static pc_val cursor_val(const pc_cursor *cur, uint8_t *b)
{
    b[0] = cur->done;
    b[1] = cur->started;
    b[2] = (uint8_t)cur->len;
    b[3] = (uint8_t)(cur->len >> 8);
    for (int i = 0; i < 4; i++)
        b[4 + i] = (uint8_t)(cur->shard >> (8 * i));
    size_t n = cur->len <= PC_CURSOR_POS_MAX ? cur->len : 0;
    memcpy(b + 8, cur->pos, n);
    return pc_mem(b, 8 + n);
}

/* How many the range (checked) holds. */
static int zcount_spec(pc_read *r, const void *key, size_t klen, const pc_zrange_spec *s,
                       uint64_t *out)
{
    if (!pc__ring_only(r->c)) {
        pc_val a[PCS_ZSPEC_ARGS];
        pcs_zspec z;
        spec_args(s, a);
        int rc = pcs_zspec_dec(a, &z);
        return rc ? rc : pcs_rd_zcount(&r->zc, key, klen, &z, out);
    }
    pc_val a[PCS_ZSPEC_ARGS];
    int64_t v;
    spec_args(s, a);
    int rc = ring_int(r, PCS_OP_R_ZCOUNT, key, klen, a, PCS_ZSPEC_ARGS, &v);
    if (!rc)
        *out = (uint64_t)v;
    return rc;
}

static int rd_zcard(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = out ? 0 : pc__why(r->c, PC_EINVAL, "out is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    *out = 0;
    if (!pc__ring_only(r->c))
        return pcs_rd_zcard(&r->zc, key, klen, out);
    pc_zrange_spec s;
    pc_zrange_spec_init(&s);
    return zcount_spec(r, key, klen, &s, out);
}

static int rd_zmscore(pc_read *r, const void *key, size_t klen, const pc_val *members, size_t n,
                      double *scores, int *found)
{
    int rc = pc__read_ok(r);
    if (rc || (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    if (n == 0 || !members || !scores || !found)
        return pc__why(r->c, PC_EINVAL, "n must be at least 1 and members, scores, found not NULL");
    for (size_t i = 0; i < n; i++)
        if ((rc = chk_member_max(r->c, &members[i], "a member", UINT64_MAX)))
            return rc;
    if (!pc__ring_only(r->c))
        return pcs_rd_zscore(&r->zc, key, klen, members, n, scores, found);
    if (n > PCS_ARGC_MAX - 1)
        return too_many(r->c, n, "members", PCS_ARGC_MAX - 1);
    pcs_resp resp;
    if ((rc = pc__rr_call(r, PCS_OP_R_ZSCORE, key, klen, members, n, &resp)) || (rc = resp.rc))
        return rc;
    if (resp.nvals != n)
        return PC_EPROTO;
    const uint8_t *q = resp.vals;
    for (size_t i = 0; i < n; i++) {
        pc_val v;
        if (pcs_val_decode(&q, resp.end, &v) || (v.kind != PC_DOUBLE && v.kind != PC_NONE))
            return PC_EPROTO;
        found[i] = v.kind == PC_DOUBLE;
        scores[i] = found[i] ? v.d : 0;
    }
    return 0;
}

static int rd_zscore(pc_read *r, const void *key, size_t klen, const pc_val *member, double *score)
{
    int found = 0;
    double s = 0;
    if (!r || !score)
        return r ? pc__why(r->c, PC_EINVAL, "score is NULL") : PC_EINVAL;
    int rc = rd_zmscore(r, key, klen, member, 1, &s, &found);
    if (rc)
        return rc;
    *score = s;
    return found ? 0 : PC_ENOTFOUND;
}

static int rd_zrank(pc_read *r, const void *key, size_t klen, const pc_val *member, bool rev,
                    uint64_t *rank, double *score)
{
    int rc = pc__read_ok(r);
    double s;
    if (rc || (rc = rank ? 0 : pc__why(r->c, PC_EINVAL, "rank is NULL")) ||
        (rc = pc__key(r->c, "key", key, klen)) ||
        (rc = chk_member_max(r->c, member, "member", UINT64_MAX)))
        return rc;
    if (!pc__ring_only(r->c)) {
        rc = pcs_rd_zrank(&r->zc, key, klen, member, rev, rank, &s);
    } else {
        pc_val a[2] = {*member, pc_int(rev)};
        pcs_resp resp;
        pc_val v[2];
        if ((rc = pc__rr_call(r, PCS_OP_R_ZRANK, key, klen, a, 2, &resp)) || (rc = resp.rc))
            return rc;
        const uint8_t *q = resp.vals;
        if (resp.nvals != 2 || pcs_val_decode(&q, resp.end, &v[0]) || v[0].kind != PC_INT ||
            v[0].i < 0 || pcs_val_decode(&q, resp.end, &v[1]) || v[1].kind != PC_DOUBLE)
            return PC_EPROTO;
        *rank = (uint64_t)v[0].i;
        s = v[1].d;
    }
    if (!rc && score)
        *score = s;
    return rc;
}

static int rd_zcount(pc_read *r, const void *key, size_t klen, int by, const pc_zbound *min,
                     const pc_zbound *max, uint64_t *n)
{
    int rc = pc__read_ok(r);
    if (rc ||
        (rc = n && min && max ? 0 : pc__why(r->c, PC_EINVAL, "n, min and max must be given")) ||
        (rc = pc__key(r->c, "key", key, klen)))
        return rc;
    *n = 0;
    pc_zrange_spec s;
    pc_zrange_spec_init(&s);
    s.by = by;
    s.min = *min;
    s.max = *max;
    if ((rc = chk_spec(r->c, &s, UINT64_MAX)))
        return rc;
    return zcount_spec(r, key, klen, &s, n);
}

static int rd_zrange(pc_read *r, const void *key, size_t klen, const pc_zrange_spec *spec,
                     pc_cursor *cur, pc_zentry *out, size_t max, size_t *n)
{
    int rc = pc__read_ok(r);
    if (rc ||
        (rc = cur && n && (out || !max)
                  ? 0
                  : pc__why(r->c, PC_EINVAL, "cur and n must be given, and out with max %zu",
                            max)) ||
        (rc = pc__key(r->c, "key", key, klen)) || (rc = chk_spec(r->c, spec, UINT64_MAX)))
        return rc;
    *n = 0;
    pc_val a[PCS_ZSPEC_ARGS + 2];
    spec_args(spec, a);
    if (!pc__ring_only(r->c)) {
        pcs_zspec z;
        return (rc = pcs_zspec_dec(a, &z)) ? rc
                                           : pcs_rd_zrange(&r->zc, key, klen, &z, cur, out, max, n);
    }
    if (max == 0 || cur->done)
        return 0;
    uint8_t cb[8 + PC_CURSOR_POS_MAX];
    if (cur->len > PC_CURSOR_POS_MAX)
        return pc__why(r->c, PC_EINVAL, "a bad cursor (%zu bytes of position; at most %d)",
                       (size_t)cur->len, PC_CURSOR_POS_MAX);
    a[PCS_ZSPEC_ARGS] = cursor_val(cur, cb);
    a[PCS_ZSPEC_ARGS + 1] = pc_int(max > INT64_MAX ? INT64_MAX : (int64_t)max);
    pcs_resp resp;
    rc = pc__rr_call(r, PCS_OP_R_ZRANGE, key, klen, a, PCS_ZSPEC_ARGS + 2, &resp);
    if (rc || (rc = resp.rc))
        return rc;
    const uint8_t *q = resp.vals;
    pc_val v, m, s;
    pc_cursor next;
    if (resp.nvals < 1 || resp.nvals % 2 != 1 || (resp.nvals - 1) / 2 > max ||
        pcs_val_decode(&q, resp.end, &v) || pcs_cursor_dec(&v, &next))
        return PC_EPROTO;
    for (size_t i = 0; i < (resp.nvals - 1) / 2; i++) {
        if (pcs_val_decode(&q, resp.end, &m) || pcs_val_decode(&q, resp.end, &s) ||
            s.kind != PC_DOUBLE)
            return PC_EPROTO;
        out[i].member = m;
        out[i].score = s.d;
    }
    *n = (resp.nvals - 1) / 2;
    *cur = next;
    return 0;
}

int pc_zcard(pc_read *r, const void *key, size_t klen, uint64_t *out)
{
    return pc__rdone(r, "pc_zcard", rd_zcard(r, key, klen, out));
}

int pc_zscore(pc_read *r, const void *key, size_t klen, const pc_val *member, double *score)
{
    return pc__rdone(r, "pc_zscore", rd_zscore(r, key, klen, member, score));
}

int pc_zmscore(pc_read *r, const void *key, size_t klen, const pc_val *members, size_t n,
               double *scores, int *found)
{
    return pc__rdone(r, "pc_zmscore", rd_zmscore(r, key, klen, members, n, scores, found));
}

int pc_zrank(pc_read *r, const void *key, size_t klen, const pc_val *member, bool rev,
             uint64_t *rank, double *score)
{
    return pc__rdone(r, "pc_zrank", rd_zrank(r, key, klen, member, rev, rank, score));
}

int pc_zcount(pc_read *r, const void *key, size_t klen, const pc_zbound *min, const pc_zbound *max,
              uint64_t *n)
{
    return pc__rdone(r, "pc_zcount", rd_zcount(r, key, klen, PC_ZBY_SCORE, min, max, n));
}

int pc_zlexcount(pc_read *r, const void *key, size_t klen, const pc_zbound *min,
                 const pc_zbound *max, uint64_t *n)
{
    return pc__rdone(r, "pc_zlexcount", rd_zcount(r, key, klen, PC_ZBY_LEX, min, max, n));
}

int pc_zrange(pc_read *r, const void *key, size_t klen, const pc_zrange_spec *spec, pc_cursor *cur,
              pc_zentry *out, size_t max, size_t *n)
{
    return pc__rdone(r, "pc_zrange", rd_zrange(r, key, klen, spec, cur, out, max, n));
}
