/*
 * rread.c - reads for clients that do not map the store (ring-only peers):
 * each read is a request through the channel, and its answer is kept in a
 * block that lives until pc_read_end, so the views it hands out stay valid as
 * long as zero-copy views would.  Each call sees the store as of the moment
 * the daemon serves it (there is no snapshot across calls); paged listings
 * still never return an item twice.
 */
#include <string.h>

#include "../shm/alloc.h"
#include "client.h"

void pc__rr_release(pc_read *r)
{
    while (r->blocks) {
        pc__block *b = r->blocks;
        r->blocks = b->next;
        pcs_buf_free(&b->b);
        pcs_free(b);
    }
}

/* ---- one call ---- */

static int rr_begin(pc_read *r, uint16_t op, pcs_enc *e)
{
    if (!r || !r->active)
        return PC_EINVAL;
    int rc = pc__usable(r->c);
    if (rc)
        return rc;
    pcs_buf_reset(&r->enc);
    pcs_enc_begin(e, &r->enc, op, 0);
    return 0;
}

/* Send the request and keep its answer in a new block.  0 with *resp
 * parsed (its rc still to be looked at), or a transport error. */
static int rr_call(pc_read *r, pcs_enc *e, pcs_resp *resp)
{
    int rc = pcs_enc_end(e);
    if (rc)
        return rc;
    if (r->enc.len > r->c->max_value + PCS_FRAME_SLACK)
        return PC_ETOOBIG;
    pc__block *b = pcs_calloc(1, sizeof *b);
    if (!b)
        return PC_ENOMEM;
    /* Never connect afresh inside a read: its answers would come from two
     * daemons, maybe two stores.  pc_read_begin() does that. */
    rc = pc__chan_call(&r->c->ch, r->enc.data, r->enc.len, 1, &b->b, r->c->timeout_ms, UINT64_MAX);
    size_t sz;
    if (!rc && pcs_resp_parse(b->b.data, b->b.len, resp, &sz))
        rc = PC_EPROTO;
    if (rc) {
        pcs_buf_free(&b->b);
        pcs_free(b);
        return rc;
    }
    b->next = r->blocks;
    r->blocks = b;
    return 0;
}

/* The answer's first value, which must be of kind want (PC_NONE: any). */
static int rr_one(const pcs_resp *resp, pc_kind want, pc_val *v)
{
    const uint8_t *q = resp->vals;
    if (resp->rc)
        return resp->rc;
    if (resp->nvals < 1 || pcs_val_decode(&q, resp->end, v) || (want && v->kind != want))
        return PC_EPROTO;
    return 0;
}

int pc__rr_get(pc_read *r, const void *key, size_t klen, pc_val *out)
{
    pcs_enc e;
    pcs_resp resp;
    int rc = rr_begin(r, PCS_OP_R_GET, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    return (rc = rr_call(r, &e, &resp)) ? rc : rr_one(&resp, PC_NONE, out);
}

int pc__rr_int(pc_read *r, uint16_t op, const void *key, size_t klen, int64_t a1, int nargs,
               int64_t *out)
{
    pcs_enc e;
    pcs_resp resp;
    pc_val v;
    int rc = rr_begin(r, op, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    if (nargs)
        pcs_enc_int(&e, a1);
    if ((rc = rr_call(r, &e, &resp)) || (rc = rr_one(&resp, PC_INT, &v)))
        return rc;
    *out = v.i;
    return 0;
}

int pc__rr_getrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                    pc_val *out)
{
    pcs_enc e;
    pcs_resp resp;
    int rc = rr_begin(r, PCS_OP_R_GETRANGE, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    pcs_enc_int(&e, start);
    pcs_enc_int(&e, end);
    return (rc = rr_call(r, &e, &resp)) ? rc : rr_one(&resp, PC_BYTES, out);
}

int pc__rr_seqget(pc_read *r, const void *key, size_t klen, pc_type t, int64_t index, pc_val *out)
{
    pcs_enc e;
    pcs_resp resp;
    int rc = rr_begin(r, PCS_OP_R_SEQGET, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    pcs_enc_int(&e, t);
    pcs_enc_int(&e, index);
    return (rc = rr_call(r, &e, &resp)) ? rc : rr_one(&resp, PC_NONE, out);
}

int pc__rr_hget(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                pc_val *out)
{
    pcs_enc e;
    pcs_resp resp;
    int rc = rr_begin(r, PCS_OP_R_HGET, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    pcs_enc_bytes(&e, field, flen);
    return (rc = rr_call(r, &e, &resp)) ? rc : rr_one(&resp, PC_NONE, out);
}

int pc__rr_sismember(pc_read *r, const void *key, size_t klen, const pc_val *m, int *out)
{
    pcs_enc e;
    pcs_resp resp;
    pc_val v;
    int rc = rr_begin(r, PCS_OP_R_SISMEMBER, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    pcs_enc_val(&e, m);
    if ((rc = rr_call(r, &e, &resp)) || (rc = rr_one(&resp, PC_INT, &v)))
        return rc;
    *out = v.i != 0;
    return 0;
}

int pc__rr_seqrange(pc_read *r, const void *key, size_t klen, pc_type t, int64_t start,
                    int64_t stop, pc_val *out, size_t max, size_t *n)
{
    pcs_enc e;
    pcs_resp resp;
    int rc = rr_begin(r, PCS_OP_R_SEQRANGE, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    pcs_enc_int(&e, t);
    pcs_enc_int(&e, start);
    pcs_enc_int(&e, stop);
    pcs_enc_int(&e, (int64_t)(max > INT64_MAX ? INT64_MAX : max));
    if ((rc = rr_call(r, &e, &resp)))
        return rc;
    if (resp.rc)
        return resp.rc;
    const uint8_t *q = resp.vals;
    if (resp.nvals > max)
        return PC_EPROTO;
    for (uint32_t i = 0; i < resp.nvals; i++)
        if (pcs_val_decode(&q, resp.end, &out[i]))
            return PC_EPROTO;
    *n = resp.nvals;
    return 0;
}

/*
 * The paged listings: hscan, sscan (key), set algebra (keys), scan (glob in
 * key).  The answer is the new cursor, then the items (pairs for hscan).
 */
int pc__rr_scan(pc_read *r, uint16_t op, const void *key, size_t klen, int64_t how,
                const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_bytes *fields, pc_val *vals,
                size_t max, size_t *n)
{
    pcs_enc e;
    pcs_resp resp;
    int rc = rr_begin(r, op, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    if (op == PCS_OP_R_SALG)
        pcs_enc_int(&e, how);
    pcs_cursor_enc(&e, cur);
    pcs_enc_int(&e, (int64_t)(max > INT64_MAX ? INT64_MAX : max));
    for (size_t i = 1; i < nkeys; i++)
        pcs_enc_bytes(&e, keys[i].ptr, keys[i].len);
    if ((rc = rr_call(r, &e, &resp)))
        return rc;
    if (resp.rc)
        return resp.rc;
    const uint8_t *q = resp.vals;
    pc_val cv;
    bool pairs = op == PCS_OP_R_HSCAN || op == PCS_OP_R_EXPIRY_SCAN;
    if (resp.nvals < 1 || pcs_val_decode(&q, resp.end, &cv) || pcs_cursor_dec(&cv, cur))
        return PC_EPROTO;
    size_t items = resp.nvals - 1;
    if ((pairs && items % 2) || (pairs ? items / 2 : items) > max)
        return PC_EPROTO;
    *n = pairs ? items / 2 : items;
    for (size_t i = 0; i < *n; i++) {
        pc_val a, b;
        if (pcs_val_decode(&q, resp.end, &a))
            return PC_EPROTO;
        if (op == PCS_OP_R_SCAN || pairs) { /* a key or a field first */
            if (a.kind != PC_BYTES)
                return PC_EPROTO;
            if (fields)
                fields[i] = a.s;
        } else if (vals) {
            vals[i] = a;
        }
        if (pairs) {
            if (pcs_val_decode(&q, resp.end, &b))
                return PC_EPROTO;
            if (vals)
                vals[i] = b;
        }
    }
    return 0;
}

/* The answer's value i (from 0), which must be of kind want. */
static int rr_nth(const pcs_resp *resp, uint32_t i, pc_kind want, pc_val *v)
{
    const uint8_t *q = resp->vals;
    if (resp->rc)
        return resp->rc;
    if (resp->nvals <= i)
        return PC_EPROTO;
    for (uint32_t j = 0; j <= i; j++)
        if (pcs_val_decode(&q, resp->end, v))
            return PC_EPROTO;
    return v->kind == want ? 0 : PC_EPROTO;
}

int pc__rr_expiretime(pc_read *r, const void *key, size_t klen, int64_t *at)
{
    pcs_enc e;
    pcs_resp resp;
    pc_val v;
    int rc = rr_begin(r, PCS_OP_R_TTL, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    if ((rc = rr_call(r, &e, &resp)) || (rc = rr_nth(&resp, 1, PC_INT, &v)))
        return rc;
    *at = v.i;
    return 0;
}

int pc__rr_dbsize(pc_read *r, uint64_t *n)
{
    pcs_enc e;
    pcs_resp resp;
    pc_val v;
    int rc = rr_begin(r, PCS_OP_R_EXPIRED, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, "", 0);
    if ((rc = rr_call(r, &e, &resp)) || (rc = rr_nth(&resp, 1, PC_INT, &v)))
        return rc;
    if (v.i < 0)
        return PC_EPROTO;
    *n = (uint64_t)v.i;
    return 0;
}

/* The values of an answer into out[0..max) (all of kind want unless
 * PC_NONE); *n how many. */
static int rr_vals(const pcs_resp *resp, pc_kind want, pc_val *out, size_t max, size_t *n)
{
    const uint8_t *q = resp->vals;
    if (resp->rc)
        return resp->rc;
    if (resp->nvals > max)
        return PC_EPROTO;
    for (uint32_t i = 0; i < resp->nvals; i++)
        if (pcs_val_decode(&q, resp->end, &out[i]) || (want && out[i].kind != want))
            return PC_EPROTO;
    *n = resp->nvals;
    return 0;
}

/* The most items one answer carries (the daemon's page). */
#define RR_PAGE 1024

int pc__rr_lpos(pc_read *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
                uint64_t maxlen, uint64_t *pos, size_t max, size_t *n)
{
    pc_val page[256];
    *n = 0;
    /* Page by rank: the next page starts at the match after the last one. */
    while (*n < max) {
        size_t want = max - *n < 256 ? max - *n : 256, got = 0;
        pcs_enc e;
        pcs_resp resp;
        int rc = rr_begin(r, PCS_OP_R_LPOS, &e);
        if (rc)
            return rc;
        pcs_enc_bytes(&e, key, klen);
        pcs_enc_val(&e, v);
        pcs_enc_int(&e, rank);
        pcs_enc_int(&e, maxlen > INT64_MAX ? INT64_MAX : (int64_t)maxlen);
        pcs_enc_int(&e, (int64_t)want);
        if ((rc = rr_call(r, &e, &resp)) || (rc = rr_vals(&resp, PC_INT, page, want, &got)))
            return rc;
        for (size_t i = 0; i < got; i++) {
            if (page[i].i < 0)
                return PC_EPROTO;
            pos[(*n)++] = (uint64_t)page[i].i;
        }
        if (got < want)
            break;
        if (rank > 0 ? rank > INT64_MAX - (int64_t)got : rank < INT64_MIN + 1 + (int64_t)got)
            break;
        rank += rank > 0 ? (int64_t)got : -(int64_t)got;
    }
    return 0;
}

/* A distinct sample of k members of a large Set, made here from a listing
 * of all of them (the daemon answers at most a page). */
static int rr_sample(pc_read *r, const void *key, size_t klen, uint64_t *rng, pc_val *out, size_t k,
                     size_t *n)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val page[256];
    uint64_t seen = 0;
    *n = 0;
    while (!cur.done) {
        size_t got = 0;
        int rc = pc__rr_scan(r, PCS_OP_R_SSCAN, key, klen, 0, NULL, 0, &cur, NULL, page, 256, &got);
        if (rc)
            return rc == PC_ENOTFOUND ? 0 : rc;
        for (size_t i = 0; i < got; i++, seen++) {
            if (seen < k) {
                out[(*n)++] = page[i];
            } else {
                uint64_t j = pcs_rng_next(rng) % (seen + 1);
                if (j < k)
                    out[j] = page[i];
            }
        }
    }
    for (size_t i = *n; i > 1; i--) {
        size_t j = (size_t)(pcs_rng_next(rng) % i);
        pc_val t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
    }
    return 0;
}

int pc__rr_srandmember(pc_read *r, const void *key, size_t klen, int64_t count, pc_val *out,
                       size_t max, size_t *n)
{
    uint64_t *rng = &r->zc.rng;
    if (!*rng)
        *rng = pcs_now_ms() ^ (uint64_t)(uintptr_t)r;
    *n = 0;
    uint64_t want = count > 0 ? (uint64_t)count : (uint64_t)0 - (uint64_t)count;
    size_t k = want < max ? (size_t)want : max;
    if (count > 0 && k > RR_PAGE)
        return rr_sample(r, key, klen, rng, out, k, n);
    while (*n < k) {
        size_t ask = k - *n < RR_PAGE ? k - *n : RR_PAGE, got = 0;
        pcs_enc e;
        pcs_resp resp;
        int rc = rr_begin(r, PCS_OP_R_SRANDMEMBER, &e);
        if (rc)
            return rc;
        pcs_enc_bytes(&e, key, klen);
        pcs_enc_int(&e, count > 0 ? (int64_t)ask : -(int64_t)ask);
        pcs_enc_int(&e, (int64_t)ask);
        if ((rc = rr_call(r, &e, &resp)) || (rc = rr_vals(&resp, PC_NONE, out + *n, ask, &got)))
            return rc;
        *n += got;
        if (count > 0) {
            /* Fewer than asked: the Set is smaller, or the answer was cut
             * short by its size; then sample from the whole listing. */
            if (got < ask) {
                int64_t card = 0;
                rc = pc__rr_int(r, PCS_OP_R_COUNT, key, klen, PC_T_SET, 1, &card);
                if (rc && rc != PC_ENOTFOUND)
                    return rc;
                if (!rc && (uint64_t)card > got)
                    return rr_sample(r, key, klen, rng, out, k, n);
            }
            break;
        }
        if (got == 0)
            break; /* a missing key */
    }
    return 0;
}

int pc__rr_randomkey(pc_read *r, pc_bytes *key)
{
    pcs_enc e;
    pcs_resp resp;
    pc_val v;
    int rc = rr_begin(r, PCS_OP_R_RANDOMKEY, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, "", 0);
    if ((rc = rr_call(r, &e, &resp)) || (rc = rr_one(&resp, PC_BYTES, &v)))
        return rc;
    *key = v.s;
    return 0;
}

/* ---- issue 16 ---- */

int pc__rr_call(pc_read *r, uint16_t op, const void *key, size_t klen, const pc_val *args,
                size_t nargs, pcs_resp *resp)
{
    pcs_enc e;
    int rc = rr_begin(r, op, &e);
    if (rc)
        return rc;
    pcs_enc_bytes(&e, key, klen);
    for (size_t i = 0; i < nargs; i++)
        pcs_enc_val(&e, &args[i]);
    return rr_call(r, &e, resp);
}
