/*
 * write.c - the public write calls.  Each checks its arguments (so bad input
 * is refused at once, even inside a batch), encodes one request frame, and
 * names the out-parameter its response fills.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"

/* The same for an answer of up to max values. */
static int op_key_vals(pc_client *c, uint16_t op, const void *key, size_t klen, pcs_enc *e,
                       pc_val *out, size_t max, size_t *n)
{
    int rc = pc__op_key(c, op, key, klen, e, PC__R_VALS, out);
    if (!rc) {
        c->pend[c->npend].max = max;
        c->pend[c->npend].n = n;
    }
    return rc;
}

static int max_value(const pc_client *c, uint64_t *mv)
{
    int rc = pc__usable(c);
    if (!rc)
        *mv = c->max_value;
    return rc;
}

/* A String or Numeric value v: 0 or the code, with what was wrong. */
static int chk_scalar(pc_client *c, const pc_val *v, uint64_t mv)
{
    if (!v)
        return pc__why(c, PC_EINVAL, "v is NULL");
    int rc = pcs_scalar_check(v, mv);
    if (rc == PC_EINVAL)
        return pc__why(c, rc,
                       "a key holds a String or a Numeric: v's kind must be PC_BYTES, "
                       "PC_INT or PC_DOUBLE, got %d",
                       (int)v->kind);
    if (rc == PC_ETOOBIG)
        return pc__why(c, rc, "v is %zu bytes; the store's largest value is %llu", v->s.len,
                       (unsigned long long)mv);
    if (rc == PC_ENAN)
        return pc__why(c, rc, "v is a double that is NaN or infinite: a value must be finite");
    return rc;
}

static int chk_set_args(pc_client *c, int64_t ttl_ms, unsigned flags)
{
    if (pcs_ttl_check(ttl_ms))
        return pc__why(c, PC_EINVAL, "ttl_ms must be 0 (none) or 1 to %lld ms, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)ttl_ms);
    if (flags & ~(unsigned)(PC_NX | PC_XX | PC_KEEPTTL))
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    if ((flags & PC_NX) && (flags & PC_XX))
        return pc__why(c, PC_EINVAL, "PC_NX and PC_XX cannot be combined");
    if ((flags & PC_KEEPTTL) && ttl_ms)
        return pc__why(c, PC_EINVAL, "PC_KEEPTTL and a TTL cannot be combined");
    return 0;
}

/* Seconds to milliseconds, refusing what would not fit a TTL. */
static int sec_to_ms(pc_client *c, int64_t s, int64_t *ms)
{
    if (s < 0 || s > PC_TTL_MAX_MS / 1000)
        return pc__why(c, PC_EINVAL, "ttl_s must be 0 to %lld seconds, got %lld",
                       (long long)(PC_TTL_MAX_MS / 1000), (long long)s);
    *ms = s * 1000;
    return 0;
}

/* Check n elements (or members). */
static int chk_elems(const pc_client *c, const pc_val *v, size_t n)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if (n && !v)
        return PC_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((rc = pcs_val_check(&v[i], mv)))
            return rc;
    return 0;
}

static void enc_vals(pcs_enc *e, const pc_val *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pcs_enc_val(e, &v[i]);
}

/* ---- strings and numerics ---- */

static int w_set(pc_client *c, const void *key, size_t klen, const pc_val *v, int64_t ttl_ms,
                 unsigned flags)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if ((rc = pc__key(c, "key", key, klen)) || (rc = chk_scalar(c, v, mv)) ||
        (rc = chk_set_args(c, ttl_ms, flags)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_SET, key, klen, &e, PC__R_NONE, NULL)))
        return rc;
    pcs_enc_val(&e, v);
    pcs_enc_int(&e, ttl_ms);
    pcs_enc_int(&e, flags);
    return pc__op_end(c, &e, 0);
}

static int w_set_sec(pc_client *c, const void *key, size_t klen, const pc_val *v, int64_t ttl_s,
                     unsigned flags)
{
    int64_t ms = 0;
    int rc = sec_to_ms(c, ttl_s, &ms);
    return rc ? rc : w_set(c, key, klen, v, ms, flags);
}

static int w_set_coll(pc_client *c, const void *key, size_t klen, pc_type type, const pc_val *items,
                      size_t n, int64_t ttl_ms, unsigned flags)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc || (rc = pc__key(c, "key", key, klen)) || (rc = chk_set_args(c, ttl_ms, flags)))
        return rc;
    if (type != PC_T_LIST && type != PC_T_QUEUE && type != PC_T_SET && type != PC_T_MAP)
        return pc__why(c, PC_EINVAL, "type must be PC_T_LIST, PC_T_QUEUE, PC_T_SET or PC_T_MAP");
    if (n && !items)
        return pc__why(c, PC_EINVAL, "items is NULL");
    if (n > PCS_ARGC_MAX - 4)
        return PC_ETOOBIG;
    if (type == PC_T_MAP) {
        if (n % 2)
            return pc__why(c, PC_EINVAL, "a Map's items are field, value pairs: n is odd");
        for (size_t i = 0; i < n; i += 2) {
            if (items[i].kind != PC_BYTES || (items[i].s.len && !items[i].s.ptr))
                return PC_EINVAL;
            if (items[i].s.len > mv)
                return PC_ETOOBIG;
            if ((rc = pcs_val_check(&items[i + 1], mv)))
                return rc;
        }
    } else if ((rc = chk_elems(c, items, n))) {
        return rc;
    }
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_SETCOLL, key, klen, &e, PC__R_NONE, NULL)))
        return rc;
    pcs_enc_int(&e, type);
    pcs_enc_int(&e, ttl_ms);
    pcs_enc_int(&e, flags);
    enc_vals(&e, items, n);
    return pc__op_end(c, &e, 0);
}

static int w_mset(pc_client *c, const pc_bytes *keys, const pc_val *vals, size_t n)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if (n && (!keys || !vals))
        return PC_EINVAL;
    bool one_shard = true;
    unsigned first = 0;
    for (size_t i = 0; i < n; i++) {
        if ((rc = pcs_key_ok(keys[i].ptr, keys[i].len)) || (rc = pcs_scalar_check(&vals[i], mv)))
            return rc;
        unsigned s = pcs_shard_of(c->nshards, keys[i].ptr, keys[i].len);
        if (i == 0)
            first = s;
        one_shard = one_shard && s == first;
    }
    if (n == 0)
        return 0;
    bool own = c->mode == PC__IDLE;
    if (own && (rc = one_shard ? pc_txn_begin(c) : pc_batch_begin(c)))
        return rc;
    for (size_t i = 0; i < n && !rc; i++)
        rc = w_set(c, keys[i].ptr, keys[i].len, &vals[i], 0, 0);
    if (!own)
        return rc;
    if (rc) {
        pc_discard(c);
        return rc;
    }
    return one_shard ? pc_txn_commit(c, NULL) : pc_batch_exec(c, NULL, 0);
}

static int w_getset(pc_client *c, const void *key, size_t klen, const pc_val *v, pc_val *old)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if ((rc = pc__key(c, "key", key, klen)) || (rc = chk_scalar(c, v, mv)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_GETSET, key, klen, &e, PC__R_VAL, old)))
        return rc;
    pcs_enc_val(&e, v);
    return pc__op_end(c, &e, 0);
}

static int w_append(pc_client *c, const void *key, size_t klen, const void *data, size_t dlen,
                    uint64_t *len)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if (dlen && !data)
        return PC_EINVAL;
    if (dlen > mv)
        return PC_ETOOBIG;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_APPEND, key, klen, &e, PC__R_U64, len)))
        return rc;
    pcs_enc_bytes(&e, data, dlen);
    return pc__op_end(c, &e, 0);
}

static int w_setrange(pc_client *c, const void *key, size_t klen, uint64_t offset, const void *data,
                      size_t dlen, uint64_t *len)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if (dlen && !data)
        return PC_EINVAL;
    if (offset > mv || dlen > mv - offset)
        return PC_ETOOBIG;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_SETRANGE, key, klen, &e, PC__R_U64, len)))
        return rc;
    pcs_enc_int(&e, (int64_t)offset);
    pcs_enc_bytes(&e, data, dlen);
    return pc__op_end(c, &e, 0);
}

static int w_incrby(pc_client *c, const void *key, size_t klen, int64_t by, int64_t *now)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_INCRBY, key, klen, &e, PC__R_I64, now);
    if (rc)
        return rc;
    pcs_enc_int(&e, by);
    return pc__op_end(c, &e, 0);
}

static int w_incrbyfloat(pc_client *c, const void *key, size_t klen, double by, double *now)
{
    pc_val v = pc_dbl(by);
    int rc = pcs_val_check(&v, 0);
    if (rc)
        return pc__why(c, rc, "by must be a finite number");
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_INCRBYFLOAT, key, klen, &e, PC__R_DBL, now)))
        return rc;
    pcs_enc_double(&e, by);
    return pc__op_end(c, &e, 0);
}

/* ---- keyspace ---- */

static int w_del(pc_client *c, const void *key, size_t klen, int *deleted)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_DEL, key, klen, &e, PC__R_INT, deleted);
    return rc ? rc : pc__op_end(c, &e, 0);
}

static int w_expire(pc_client *c, const void *key, size_t klen, int64_t ttl_ms, int *set)
{
    if (ttl_ms < 1 || ttl_ms > PC_TTL_MAX_MS)
        return pc__usable(c) ? pc__usable(c)
                             : pc__why(c, PC_EINVAL, "ttl_ms must be 1 to %lld ms, got %lld",
                                       (long long)PC_TTL_MAX_MS, (long long)ttl_ms);
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_EXPIRE, key, klen, &e, PC__R_INT, set);
    if (rc)
        return rc;
    pcs_enc_int(&e, ttl_ms);
    return pc__op_end(c, &e, 0);
}

static int w_expire_sec(pc_client *c, const void *key, size_t klen, int64_t ttl_s, int *set)
{
    int64_t ms;
    if (ttl_s < 1 || ttl_s > PC_TTL_MAX_MS / 1000)
        return pc__usable(c) ? pc__usable(c)
                             : pc__why(c, PC_EINVAL, "ttl_s must be 1 to %lld seconds, got %lld",
                                       (long long)(PC_TTL_MAX_MS / 1000), (long long)ttl_s);
    ms = ttl_s * 1000;
    return w_expire(c, key, klen, ms, set);
}

static int w_persist(pc_client *c, const void *key, size_t klen, int *changed)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_PERSIST, key, klen, &e, PC__R_INT, changed);
    return rc ? rc : pc__op_end(c, &e, 0);
}

/* ---- lists and queues ---- */

static int push(pc_client *c, uint16_t op, const void *key, size_t klen, const pc_val *v, size_t n,
                uint64_t *len)
{
    int rc = chk_elems(c, v, n);
    if (rc)
        return rc;
    if (n == 0)
        return PC_EINVAL;
    if (n > PCS_ARGC_MAX - 1)
        return PC_ETOOBIG;
    pcs_enc e;
    if ((rc = pc__op_key(c, op, key, klen, &e, PC__R_U64, len)))
        return rc;
    enc_vals(&e, v, n);
    return pc__op_end(c, &e, 0);
}

static int w_lpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n,
                   uint64_t *len)
{
    return push(c, PCS_OP_LPUSH, key, klen, v, n, len);
}

static int w_rpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n,
                   uint64_t *len)
{
    return push(c, PCS_OP_RPUSH, key, klen, v, n, len);
}

static int w_qpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n,
                   uint64_t *len)
{
    return push(c, PCS_OP_QPUSH, key, klen, v, n, len);
}

static int pop(pc_client *c, uint16_t op, const void *key, size_t klen, size_t max, pc_val *out,
               size_t *n)
{
    if (max == 0 || max > INT64_MAX || !out)
        return pc__usable(c) ? pc__usable(c) : PC_EINVAL;
    pcs_enc e;
    int rc = op_key_vals(c, op, key, klen, &e, out, max, n);
    if (rc)
        return rc;
    pcs_enc_int(&e, (int64_t)max);
    return pc__op_end(c, &e, 0);
}

static int w_lpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pop(c, PCS_OP_LPOP, key, klen, max, out, n);
}

static int w_rpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pop(c, PCS_OP_RPOP, key, klen, max, out, n);
}

static int w_qpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pop(c, PCS_OP_QPOP, key, klen, max, out, n);
}

/* One pop of an embedded pc_qpop_wait (pc__poll). */
struct qpop_try {
    const void *key;
    size_t klen, max;
    pc_val *out;
    size_t *n;
};

static int qpop_attempt(pc_client *c, void *arg)
{
    struct qpop_try *a = arg;
    return pc_qpop(c, a->key, a->klen, a->max, a->out, a->n);
}

static int w_qpop_wait(pc_client *c, const void *key, size_t klen, size_t max, int64_t timeout_ms,
                       pc_val *out, size_t *n)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode != PC__IDLE)
        return PC_ESTATE;
    if (timeout_ms < 1 || timeout_ms > PC_TTL_MAX_MS)
        return pc__why(c, PC_EINVAL, "timeout_ms must be 1 to %lld, got %lld",
                       (long long)PC_TTL_MAX_MS, (long long)timeout_ms);
    if (max == 0 || max > INT64_MAX || !out)
        return pc__why(c, PC_EINVAL, "max must be at least 1 and out not NULL");
    if ((rc = pcs_key_ok(key, klen)))
        return rc;
    if (c->remote) { /* the daemon parks it and answers when a push lands */
        pcs_enc e;
        if ((rc = op_key_vals(c, PCS_OP_QPOPW, key, klen, &e, out, max, n)))
            return rc;
        pcs_enc_int(&e, (int64_t)max);
        pcs_enc_int(&e, timeout_ms);
        return pc__op_end_wait(c, &e, timeout_ms);
    }
    struct qpop_try a = {key, klen, max, out, n};
    return pc__poll(c, timeout_ms, PC_ENOTFOUND, qpop_attempt, &a);
}

static int w_spop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pop(c, PCS_OP_SPOP, key, klen, max, out, n);
}

static int w_lset(pc_client *c, const void *key, size_t klen, int64_t index, const pc_val *v)
{
    int rc = v ? chk_elems(c, v, 1) : PC_EINVAL;
    if (rc)
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_LSET, key, klen, &e, PC__R_NONE, NULL)))
        return rc;
    pcs_enc_int(&e, index);
    pcs_enc_val(&e, v);
    return pc__op_end(c, &e, 0);
}

static int w_ltrim(pc_client *c, const void *key, size_t klen, int64_t start, int64_t stop)
{
    pcs_enc e;
    int rc = pc__op_key(c, PCS_OP_LTRIM, key, klen, &e, PC__R_NONE, NULL);
    if (rc)
        return rc;
    pcs_enc_int(&e, start);
    pcs_enc_int(&e, stop);
    return pc__op_end(c, &e, 0);
}

static int w_lrem(pc_client *c, const void *key, size_t klen, int64_t count, const pc_val *v,
                  uint64_t *removed)
{
    int rc = v ? chk_elems(c, v, 1) : PC_EINVAL;
    if (rc)
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_LREM, key, klen, &e, PC__R_U64, removed)))
        return rc;
    pcs_enc_int(&e, count);
    pcs_enc_val(&e, v);
    return pc__op_end(c, &e, 0);
}

/* ---- maps ---- */

/* Check n fields (byte strings up to the largest value). */
static int chk_fields(const pc_client *c, const pc_bytes *f, size_t n)
{
    uint64_t mv;
    int rc = max_value(c, &mv);
    if (rc)
        return rc;
    if (n == 0 || !f)
        return PC_EINVAL;
    if (n > PCS_ARGC_MAX / 2 - 1)
        return PC_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (f[i].len && !f[i].ptr)
            return PC_EINVAL;
        if (f[i].len > mv)
            return PC_ETOOBIG;
    }
    return 0;
}

static int w_hset(pc_client *c, const void *key, size_t klen, const pc_bytes *fields,
                  const pc_val *vals, size_t n, uint64_t *added)
{
    int rc = chk_fields(c, fields, n);
    if (rc || (rc = chk_elems(c, vals, n)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_HSET, key, klen, &e, PC__R_U64, added)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        pcs_enc_bytes(&e, fields[i].ptr, fields[i].len);
        pcs_enc_val(&e, &vals[i]);
    }
    return pc__op_end(c, &e, 0);
}

static int w_hdel(pc_client *c, const void *key, size_t klen, const pc_bytes *fields, size_t n,
                  uint64_t *removed)
{
    int rc = chk_fields(c, fields, n);
    if (rc)
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_HDEL, key, klen, &e, PC__R_U64, removed)))
        return rc;
    for (size_t i = 0; i < n; i++)
        pcs_enc_bytes(&e, fields[i].ptr, fields[i].len);
    return pc__op_end(c, &e, 0);
}

static int hincr(pc_client *c, uint16_t op, const void *key, size_t klen, const void *field,
                 size_t flen, const pc_val *by, uint8_t shape, void *now)
{
    pc_bytes f = {field, flen};
    int rc = chk_fields(c, &f, 1);
    if (rc || (rc = pcs_val_check(by, 0)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, op, key, klen, &e, shape, now)))
        return rc;
    pcs_enc_bytes(&e, field, flen);
    pcs_enc_val(&e, by);
    return pc__op_end(c, &e, 0);
}

static int w_hincrby(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
                     int64_t by, int64_t *now)
{
    pc_val v = pc_int(by);
    return hincr(c, PCS_OP_HINCRBY, key, klen, field, flen, &v, PC__R_I64, now);
}

static int w_hincrbyfloat(pc_client *c, const void *key, size_t klen, const void *field,
                          size_t flen, double by, double *now)
{
    pc_val v = pc_dbl(by);
    return hincr(c, PCS_OP_HINCRBYFLOAT, key, klen, field, flen, &v, PC__R_DBL, now);
}

/* ---- sets ---- */

static int members(pc_client *c, uint16_t op, const void *key, size_t klen, const pc_val *m,
                   size_t n, uint64_t *count)
{
    int rc = chk_elems(c, m, n);
    if (rc)
        return rc;
    if (n == 0)
        return PC_EINVAL;
    if (n > PCS_ARGC_MAX - 1)
        return PC_ETOOBIG;
    pcs_enc e;
    if ((rc = pc__op_key(c, op, key, klen, &e, PC__R_U64, count)))
        return rc;
    enc_vals(&e, m, n);
    return pc__op_end(c, &e, 0);
}

static int w_sadd(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n,
                  uint64_t *added)
{
    return members(c, PCS_OP_SADD, key, klen, m, n, added);
}

static int w_srem(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n,
                  uint64_t *removed)
{
    return members(c, PCS_OP_SREM, key, klen, m, n, removed);
}

/* ---- calls of issue 13 ---- */

/* Two keys of one shard (rename, lmove, smove): 0, PC_EKEY or PC_ECROSSSHARD. */
static int two_keys(pc_client *c, const void *k1, size_t l1, const void *k2, size_t l2,
                    const char *n1, const char *n2)
{
    int rc = pc__usable(c);
    if (rc || (rc = pc__key(c, n1, k1, l1)) || (rc = pc__key(c, n2, k2, l2)))
        return rc;
    return pc__same_shard(c, n1, k1, l1, n2, k2, l2);
}

static int w_getex(pc_client *c, const void *key, size_t klen, int how, int64_t ms, pc_val *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    switch (how) {
    case PC_GETEX_TTL:
        if (ms < 1 || ms > PC_TTL_MAX_MS)
            return pc__why(c, PC_EINVAL, "PC_GETEX_TTL: ms must be 1 to %lld, got %lld",
                           (long long)PC_TTL_MAX_MS, (long long)ms);
        break;
    case PC_GETEX_AT:
        if (ms < 0)
            return pc__why(c, PC_EINVAL, "PC_GETEX_AT: the time must be 0 or more, got %lld",
                           (long long)ms);
        break;
    case PC_GETEX_KEEP:
    case PC_GETEX_PERSIST:
    case PC_GETEX_DEL:
        if (ms != 0)
            return pc__why(c, PC_EINVAL, "ms must be 0 with this how, got %lld", (long long)ms);
        break;
    default:
        return pc__why(c, PC_EINVAL, "unknown how %d", how);
    }
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_GETEX, key, klen, &e, PC__R_VAL, out)))
        return rc;
    pcs_enc_int(&e, how);
    pcs_enc_int(&e, ms);
    return pc__op_end(c, &e, 0);
}

static int w_getdel(pc_client *c, const void *key, size_t klen, pc_val *old)
{
    return w_getex(c, key, klen, PC_GETEX_DEL, 0, old);
}

static int w_expireat(pc_client *c, const void *key, size_t klen, int64_t at_ms, int *set)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (at_ms < 0)
        return pc__why(c, PC_EINVAL, "at_ms must be 0 or more, got %lld", (long long)at_ms);
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_EXPIRE, key, klen, &e, PC__R_INT, set)))
        return rc;
    pcs_enc_int(&e, at_ms);
    pcs_enc_int(&e, 1); /* at_ms is a time, not a TTL */
    return pc__op_end(c, &e, 0);
}

static int w_hsetnx(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
                    const pc_val *v, int *set)
{
    pc_bytes f = {field, flen};
    int rc = chk_fields(c, &f, 1);
    if (rc || (rc = v ? chk_elems(c, v, 1) : PC_EINVAL))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_HSETNX, key, klen, &e, PC__R_INT, set)))
        return rc;
    pcs_enc_bytes(&e, field, flen);
    pcs_enc_val(&e, v);
    return pc__op_end(c, &e, 0);
}

static int w_linsert(pc_client *c, const void *key, size_t klen, bool before, const pc_val *pivot,
                     const pc_val *v, int64_t *len)
{
    int rc = pivot && v ? chk_elems(c, pivot, 1)
                        : (pc__usable(c) ? pc__usable(c)
                                         : pc__why(c, PC_EINVAL, "pivot and v must not be NULL"));
    if (rc || (rc = chk_elems(c, v, 1)))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_LINSERT, key, klen, &e, PC__R_I64, len)))
        return rc;
    pcs_enc_int(&e, before ? 1 : 0);
    pcs_enc_val(&e, pivot);
    pcs_enc_val(&e, v);
    return pc__op_end(c, &e, 0);
}

static int w_lmove(pc_client *c, const void *src, size_t slen, const void *dst, size_t dlen,
                   bool from_left, bool to_left, pc_val *out)
{
    int rc = two_keys(c, src, slen, dst, dlen, "src", "dst");
    if (rc)
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_LMOVE, src, slen, &e, PC__R_VAL, out)))
        return rc;
    pcs_enc_bytes(&e, dst, dlen);
    pcs_enc_int(&e, from_left ? 1 : 0);
    pcs_enc_int(&e, to_left ? 1 : 0);
    return pc__op_end(c, &e, 0);
}

static int w_smove(pc_client *c, const void *src, size_t slen, const void *dst, size_t dlen,
                   const pc_val *member, int *moved)
{
    int rc = two_keys(c, src, slen, dst, dlen, "src", "dst");
    if (rc || (rc = member ? chk_elems(c, member, 1) : PC_EINVAL))
        return rc;
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_SMOVE, src, slen, &e, PC__R_INT, moved)))
        return rc;
    pcs_enc_bytes(&e, dst, dlen);
    pcs_enc_val(&e, member);
    return pc__op_end(c, &e, 0);
}

static int w_rename(pc_client *c, const void *key, size_t klen, const void *newkey, size_t nklen,
                    unsigned flags, int *renamed)
{
    int rc = two_keys(c, key, klen, newkey, nklen, "key", "newkey");
    if (rc)
        return rc;
    if (flags & ~(unsigned)PC_RENAME_NX)
        return pc__why(c, PC_EINVAL, "unknown flags 0x%x", flags);
    pcs_enc e;
    if ((rc = pc__op_key(c, PCS_OP_RENAME, key, klen, &e, PC__R_INT, renamed)))
        return rc;
    pcs_enc_bytes(&e, newkey, nklen);
    pcs_enc_int(&e, flags);
    return pc__op_end(c, &e, 0);
}

/* Queue a delete of each key, each adding to *deleted (PC__R_ADD). */
static int del_queue(pc_client *c, const pc_bytes *keys, size_t n, uint64_t *deleted)
{
    for (size_t i = 0; i < n; i++) {
        pcs_enc e;
        int rc = pc__op_key(c, PCS_OP_DEL, keys[i].ptr, keys[i].len, &e,
                            deleted ? PC__R_ADD : PC__R_NONE, deleted);
        if (rc || (rc = pc__op_end(c, &e, 0)))
            return rc;
    }
    return 0;
}

static int w_del_keys(pc_client *c, const pc_bytes *keys, size_t n, uint64_t *deleted)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (n && !keys)
        return PC_EINVAL;
    bool one_shard = true;
    for (size_t i = 0; i < n; i++) {
        if (pcs_key_ok(keys[i].ptr, keys[i].len)) {
            char what[48];
            snprintf(what, sizeof what, "keys[%zu]", i);
            return pc__key(c, what, keys[i].ptr, keys[i].len);
        }
        one_shard = one_shard && pcs_shard_of(c->nshards, keys[i].ptr, keys[i].len) ==
                                     pcs_shard_of(c->nshards, keys[0].ptr, keys[0].len);
    }
    if (deleted)
        *deleted = 0;
    if (n == 0)
        return 0;
    if (c->mode != PC__IDLE)
        return del_queue(c, keys, n, deleted);
    if ((rc = one_shard ? pc_txn_begin(c) : pc_batch_begin(c)))
        return rc;
    if ((rc = del_queue(c, keys, n, deleted))) {
        pc_discard(c);
        return rc;
    }
    return one_shard ? pc_txn_commit(c, NULL) : pc_batch_exec(c, NULL, 0);
}

/* ---- the public calls: in a transaction, a refused write spoils the commit ---- */

int pc_set(pc_client *c, const void *key, size_t klen, const pc_val *v, int64_t ttl_ms,
           unsigned flags)
{
    return pc__note(c, "pc_set", w_set(c, key, klen, v, ttl_ms, flags));
}

int pc_set_sec(pc_client *c, const void *key, size_t klen, const pc_val *v, int64_t ttl_s,
               unsigned flags)
{
    return pc__note(c, "pc_set_sec", w_set_sec(c, key, klen, v, ttl_s, flags));
}

int pc_set_coll(pc_client *c, const void *key, size_t klen, pc_type type, const pc_val *items,
                size_t n, int64_t ttl_ms, unsigned flags)
{
    return pc__note(c, "pc_set_coll", w_set_coll(c, key, klen, type, items, n, ttl_ms, flags));
}

int pc_mset(pc_client *c, const pc_bytes *keys, const pc_val *vals, size_t n)
{
    return pc__note(c, "pc_mset", w_mset(c, keys, vals, n));
}

int pc_getset(pc_client *c, const void *key, size_t klen, const pc_val *v, pc_val *old)
{
    return pc__note(c, "pc_getset", w_getset(c, key, klen, v, old));
}

int pc_append(pc_client *c, const void *key, size_t klen, const void *data, size_t dlen,
              uint64_t *len)
{
    return pc__note(c, "pc_append", w_append(c, key, klen, data, dlen, len));
}

int pc_setrange(pc_client *c, const void *key, size_t klen, uint64_t offset, const void *data,
                size_t dlen, uint64_t *len)
{
    return pc__note(c, "pc_setrange", w_setrange(c, key, klen, offset, data, dlen, len));
}

int pc_incrby(pc_client *c, const void *key, size_t klen, int64_t by, int64_t *now)
{
    return pc__note(c, "pc_incrby", w_incrby(c, key, klen, by, now));
}

int pc_incrbyfloat(pc_client *c, const void *key, size_t klen, double by, double *now)
{
    return pc__note(c, "pc_incrbyfloat", w_incrbyfloat(c, key, klen, by, now));
}

int pc_del(pc_client *c, const void *key, size_t klen, int *deleted)
{
    return pc__note(c, "pc_del", w_del(c, key, klen, deleted));
}

int pc_expire(pc_client *c, const void *key, size_t klen, int64_t ttl_ms, int *set)
{
    return pc__note(c, "pc_expire", w_expire(c, key, klen, ttl_ms, set));
}

int pc_expire_sec(pc_client *c, const void *key, size_t klen, int64_t ttl_s, int *set)
{
    return pc__note(c, "pc_expire_sec", w_expire_sec(c, key, klen, ttl_s, set));
}

int pc_persist(pc_client *c, const void *key, size_t klen, int *changed)
{
    return pc__note(c, "pc_persist", w_persist(c, key, klen, changed));
}

int pc_lpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n, uint64_t *len)
{
    return pc__note(c, "pc_lpush", w_lpush(c, key, klen, v, n, len));
}

int pc_rpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n, uint64_t *len)
{
    return pc__note(c, "pc_rpush", w_rpush(c, key, klen, v, n, len));
}

int pc_qpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n, uint64_t *len)
{
    return pc__note(c, "pc_qpush", w_qpush(c, key, klen, v, n, len));
}

int pc_lpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pc__note(c, "pc_lpop", w_lpop(c, key, klen, max, out, n));
}

int pc_rpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pc__note(c, "pc_rpop", w_rpop(c, key, klen, max, out, n));
}

int pc_qpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pc__note(c, "pc_qpop", w_qpop(c, key, klen, max, out, n));
}

int pc_qpop_wait(pc_client *c, const void *key, size_t klen, size_t max, int64_t timeout_ms,
                 pc_val *out, size_t *n)
{
    return pc__note(c, "pc_qpop_wait", w_qpop_wait(c, key, klen, max, timeout_ms, out, n));
}

int pc_spop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out, size_t *n)
{
    return pc__note(c, "pc_spop", w_spop(c, key, klen, max, out, n));
}

int pc_lset(pc_client *c, const void *key, size_t klen, int64_t index, const pc_val *v)
{
    return pc__note(c, "pc_lset", w_lset(c, key, klen, index, v));
}

int pc_ltrim(pc_client *c, const void *key, size_t klen, int64_t start, int64_t stop)
{
    return pc__note(c, "pc_ltrim", w_ltrim(c, key, klen, start, stop));
}

int pc_lrem(pc_client *c, const void *key, size_t klen, int64_t count, const pc_val *v,
            uint64_t *removed)
{
    return pc__note(c, "pc_lrem", w_lrem(c, key, klen, count, v, removed));
}

int pc_hset(pc_client *c, const void *key, size_t klen, const pc_bytes *fields, const pc_val *vals,
            size_t n, uint64_t *added)
{
    return pc__note(c, "pc_hset", w_hset(c, key, klen, fields, vals, n, added));
}

int pc_hdel(pc_client *c, const void *key, size_t klen, const pc_bytes *fields, size_t n,
            uint64_t *removed)
{
    return pc__note(c, "pc_hdel", w_hdel(c, key, klen, fields, n, removed));
}

int pc_hincrby(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
               int64_t by, int64_t *now)
{
    return pc__note(c, "pc_hincrby", w_hincrby(c, key, klen, field, flen, by, now));
}

int pc_hincrbyfloat(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
                    double by, double *now)
{
    return pc__note(c, "pc_hincrbyfloat", w_hincrbyfloat(c, key, klen, field, flen, by, now));
}

int pc_sadd(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n, uint64_t *added)
{
    return pc__note(c, "pc_sadd", w_sadd(c, key, klen, m, n, added));
}

int pc_srem(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n,
            uint64_t *removed)
{
    return pc__note(c, "pc_srem", w_srem(c, key, klen, m, n, removed));
}

/* ---- the whole store ---- */

/* Queue one flush request per shard (the client is in a batch). */
static int w_flush_queue(pc_client *c)
{
    for (unsigned s = 0; s < c->nshards; s++) {
        pcs_enc e;
        pc__pend *p;
        int rc = pc__op_begin(c, PCS_OP_FLUSH, &e, &p);
        if (rc)
            return rc;
        pcs_enc_int(&e, s);
        if ((rc = pc__op_end(c, &e, 0)))
            return rc;
    }
    return 0;
}

static int w_flush(pc_client *c)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    if (c->mode == PC__TXN)
        return PC_ESTATE; /* a transaction lives in one shard */
    if (c->mode == PC__BATCH)
        return w_flush_queue(c);
    /* Idle: every shard's request in one go (one round trip, one pass). */
    if ((rc = pc_batch_begin(c)))
        return rc;
    if ((rc = w_flush_queue(c))) {
        pc_discard(c);
        return rc;
    }
    return pc_batch_exec(c, NULL, 0);
}

int pc_flush(pc_client *c)
{
    return pc__done(c, "pc_flush", w_flush(c));
}

int pc_getex(pc_client *c, const void *key, size_t klen, int how, int64_t ms, pc_val *out)
{
    return pc__note(c, "pc_getex", w_getex(c, key, klen, how, ms, out));
}

int pc_getdel(pc_client *c, const void *key, size_t klen, pc_val *old)
{
    return pc__note(c, "pc_getdel", w_getdel(c, key, klen, old));
}

int pc_expireat(pc_client *c, const void *key, size_t klen, int64_t at_ms, int *set)
{
    return pc__note(c, "pc_expireat", w_expireat(c, key, klen, at_ms, set));
}

int pc_hsetnx(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
              const pc_val *v, int *set)
{
    return pc__note(c, "pc_hsetnx", w_hsetnx(c, key, klen, field, flen, v, set));
}

int pc_linsert(pc_client *c, const void *key, size_t klen, bool before, const pc_val *pivot,
               const pc_val *v, int64_t *len)
{
    return pc__note(c, "pc_linsert", w_linsert(c, key, klen, before, pivot, v, len));
}

int pc_lmove(pc_client *c, const void *src, size_t slen, const void *dst, size_t dlen,
             bool from_left, bool to_left, pc_val *out)
{
    return pc__note(c, "pc_lmove", w_lmove(c, src, slen, dst, dlen, from_left, to_left, out));
}

int pc_smove(pc_client *c, const void *src, size_t slen, const void *dst, size_t dlen,
             const pc_val *member, int *moved)
{
    return pc__note(c, "pc_smove", w_smove(c, src, slen, dst, dlen, member, moved));
}

int pc_rename(pc_client *c, const void *key, size_t klen, const void *newkey, size_t nklen,
              unsigned flags, int *renamed)
{
    return pc__note(c, "pc_rename", w_rename(c, key, klen, newkey, nklen, flags, renamed));
}

int pc_del_keys(pc_client *c, const pc_bytes *keys, size_t n, uint64_t *deleted)
{
    return pc__note(c, "pc_del_keys", w_del_keys(c, keys, n, deleted));
}
