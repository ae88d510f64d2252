/*
 * frame.c - encode and decode request and response frames.
 */
#include "frame.h"

#include <string.h>

#include "alloc.h"
#include "bytes.h"

static const char *const op_names[PCS_OP__COUNT] = {
    [PCS_OP_SET] = "set",
    [PCS_OP_SETCOLL] = "setcoll",
    [PCS_OP_GETSET] = "getset",
    [PCS_OP_APPEND] = "append",
    [PCS_OP_SETRANGE] = "setrange",
    [PCS_OP_INCRBY] = "incrby",
    [PCS_OP_INCRBYFLOAT] = "incrbyfloat",
    [PCS_OP_DEL] = "del",
    [PCS_OP_EXPIRE] = "expire",
    [PCS_OP_PERSIST] = "persist",
    [PCS_OP_LPUSH] = "lpush",
    [PCS_OP_RPUSH] = "rpush",
    [PCS_OP_LPOP] = "lpop",
    [PCS_OP_RPOP] = "rpop",
    [PCS_OP_LSET] = "lset",
    [PCS_OP_LTRIM] = "ltrim",
    [PCS_OP_LREM] = "lrem",
    [PCS_OP_QPUSH] = "qpush",
    [PCS_OP_QPOP] = "qpop",
    [PCS_OP_HSET] = "hset",
    [PCS_OP_HDEL] = "hdel",
    [PCS_OP_HINCRBY] = "hincrby",
    [PCS_OP_HINCRBYFLOAT] = "hincrbyfloat",
    [PCS_OP_SADD] = "sadd",
    [PCS_OP_SREM] = "srem",
    [PCS_OP_SPOP] = "spop",
    [PCS_OP_REQ_ABSENT] = "require-absent",
    [PCS_OP_REQ_VERSION] = "require-version",
    [PCS_OP_TXN] = "txn",
    [PCS_OP_QPOPW] = "qpop-wait",
    [PCS_OP_R_GET] = "get",
    [PCS_OP_R_TYPE] = "type",
    [PCS_OP_R_TTL] = "ttl",
    [PCS_OP_R_VERSION] = "version",
    [PCS_OP_R_STRLEN] = "strlen",
    [PCS_OP_R_GETRANGE] = "getrange",
    [PCS_OP_R_COUNT] = "count",
    [PCS_OP_R_SEQGET] = "seq-get",
    [PCS_OP_R_SEQRANGE] = "seq-range",
    [PCS_OP_R_HGET] = "hget",
    [PCS_OP_R_HSCAN] = "hscan",
    [PCS_OP_R_SISMEMBER] = "sismember",
    [PCS_OP_R_SSCAN] = "sscan",
    [PCS_OP_R_SALG] = "set-algebra",
    [PCS_OP_R_SCAN] = "scan",
    [PCS_OP_R_EXPIRED] = "expired",
    [PCS_OP_R_EXPIRY_SCAN] = "expiry",
    [PCS_OP_A_EXPIRE_INTERVAL] = "expire-interval",
    [PCS_OP_A_CLIENTS] = "clients",
    [PCS_OP_PURGE] = "purge-expired",
    [PCS_OP_A_SNAPSHOT] = "snapshot",
    [PCS_OP_A_TEST_ALLOC] = "test-alloc",
    [PCS_OP_FLUSH] = "flush",
    [PCS_OP_GETEX] = "getex",
    [PCS_OP_HSETNX] = "hsetnx",
    [PCS_OP_LINSERT] = "linsert",
    [PCS_OP_LMOVE] = "lmove",
    [PCS_OP_SMOVE] = "smove",
    [PCS_OP_RENAME] = "rename",
    [PCS_OP_R_LPOS] = "lpos",
    [PCS_OP_R_SRANDMEMBER] = "srandmember",
    [PCS_OP_R_RANDOMKEY] = "randomkey",
    /* issue 16 */
    [PCS_OP_THROTTLE] = "throttle",
    [PCS_OP_FC_CLAIM] = "flight-claim",
    [PCS_OP_FC_FILL] = "flight-fill",
    [PCS_OP_FC_RELEASE] = "flight-release",
    [PCS_OP_R_FLIGHT] = "flight-get",
    [PCS_OP_SETBIT] = "setbit",
    [PCS_OP_BITOP] = "bitop",
    [PCS_OP_R_GETBIT] = "getbit",
    [PCS_OP_R_BITCOUNT] = "bitcount",
    [PCS_OP_R_BITPOS] = "bitpos",
    [PCS_OP_R_BITLEN] = "bitlen",
    [PCS_OP_BF_RESERVE] = "bf.reserve",
    [PCS_OP_BF_ADD] = "bf.add",
    [PCS_OP_R_BF_EXISTS] = "bf.exists",
    [PCS_OP_R_BF_INFO] = "bf.info",
    [PCS_OP_XADD] = "xadd",
    [PCS_OP_XTRIM] = "xtrim",
    [PCS_OP_XDEL] = "xdel",
    [PCS_OP_XGROUP] = "xgroup",
    [PCS_OP_XREADGROUP] = "xreadgroup",
    [PCS_OP_XREADW] = "xread",
    [PCS_OP_XACK] = "xack",
    [PCS_OP_XCLAIM] = "xclaim",
    [PCS_OP_XAUTOCLAIM] = "xautoclaim",
    [PCS_OP_R_XINFO] = "xinfo",
    [PCS_OP_R_XRANGE] = "xrange",
    [PCS_OP_R_XPENDING] = "xpending",
    [PCS_OP_R_XGROUPS] = "xinfo-groups",
    [PCS_OP_R_XCONSUMERS] = "xinfo-consumers",
    [PCS_OP_ZADD] = "zadd",
    [PCS_OP_ZREM] = "zrem",
    [PCS_OP_ZPOP] = "zpop",
    [PCS_OP_BZPOP] = "bzpop",
    [PCS_OP_ZREMRANGE] = "zremrange",
    [PCS_OP_ZRANGESTORE] = "zrangestore",
    [PCS_OP_ZSTORE] = "zstore",
    [PCS_OP_R_ZSCORE] = "zscore",
    [PCS_OP_R_ZRANK] = "zrank",
    [PCS_OP_R_ZCOUNT] = "zcount",
    [PCS_OP_R_ZRANGE] = "zrange",
};

_Static_assert(PCS_OP__COUNT <= 128, "op numbers fit the stats page's counters");

const char *pcs_op_name(unsigned op)
{
    return op < PCS_OP__COUNT ? op_names[op] : NULL;
}

/* ---- encoding ---- */

static void put_header(pcs_buf *b, uint16_t op, uint64_t id)
{
    pcs_buf_put_u32(b, 0); /* len, patched at the end */
    pcs_buf_put_u16(b, op);
    pcs_buf_put_u16(b, 0);
    pcs_buf_put_u64(b, id);
}

static void patch_len(pcs_buf *b, size_t start)
{
    if (b->err)
        return;
    size_t len = b->len - start;
    if (len > UINT32_MAX) {
        b->err = PC_ETOOBIG;
        return;
    }
    pcs_put_le32(b->data + start, (uint32_t)len);
    pcs_buf_pad8(b);
}

void pcs_enc_begin(pcs_enc *e, pcs_buf *b, uint16_t op, uint64_t id)
{
    e->b = b;
    e->start = b->len;
    e->argc = 0;
    put_header(b, op, id);
    pcs_buf_put_u32(b, 0); /* argc */
}

/* Append one tagged value: shared by requests and responses. */
static void put_val(pcs_buf *b, const pc_val *v)
{
    pcs_buf_put_u8(b, (uint8_t)v->kind);
    switch (v->kind) {
    case PC_BYTES:
        if (v->s.len > UINT32_MAX) {
            if (!b->err)
                b->err = PC_ETOOBIG;
            return;
        }
        pcs_buf_put_u32(b, (uint32_t)v->s.len);
        pcs_buf_put(b, v->s.ptr, v->s.len);
        break;
    case PC_INT:
        pcs_buf_put_u64(b, (uint64_t)v->i);
        break;
    case PC_DOUBLE:
        pcs_buf_put_u64(b, pcs_d2u(v->d));
        break;
    case PC_BOOL:
        pcs_buf_put_u8(b, v->b ? 1 : 0);
        break;
    default: /* PC_NIL, and PC_NONE (a hole in a multi-get answer): no payload */
        break;
    }
}

void pcs_enc_val(pcs_enc *e, const pc_val *v)
{
    put_val(e->b, v);
    e->argc++;
}

void pcs_enc_bytes(pcs_enc *e, const void *p, size_t n)
{
    pc_val v = pc_mem(p, n);
    pcs_enc_val(e, &v);
}

void pcs_enc_int(pcs_enc *e, int64_t i)
{
    pc_val v = pc_int(i);
    pcs_enc_val(e, &v);
}

void pcs_enc_double(pcs_enc *e, double d)
{
    pc_val v = pc_dbl(d);
    pcs_enc_val(e, &v);
}

int pcs_enc_end(pcs_enc *e)
{
    pcs_buf *b = e->b;
    if (!b->err && e->argc > PCS_ARGC_MAX)
        b->err = PC_ETOOBIG;
    if (!b->err)
        pcs_put_le32(b->data + e->start + PCS_FRAME_HDR, e->argc);
    patch_len(b, e->start);
    return b->err;
}

size_t pcs_enc_txn_begin(pcs_buf *b, uint64_t id)
{
    size_t start = b->len;
    put_header(b, PCS_OP_TXN, id);
    pcs_buf_put_u32(b, 0); /* nsub */
    pcs_buf_put_u32(b, 0);
    return start;
}

int pcs_enc_txn_end(pcs_buf *b, size_t start, uint32_t nsub)
{
    if (!b->err && nsub > PCS_TXN_MAX)
        b->err = PC_ETXNSIZE;
    if (!b->err)
        pcs_put_le32(b->data + start + PCS_FRAME_HDR, nsub);
    patch_len(b, start);
    return b->err;
}

/* ---- decoding ---- */

int pcs_val_decode(const uint8_t **pp, const uint8_t *end, pc_val *v)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return PC_EPROTO;
    uint8_t kind = *p++;
    size_t left = (size_t)(end - p);
    switch (kind) {
    case PC_NONE:
        v->kind = PC_NONE;
        v->i = 0;
        break;
    case PC_NIL:
        v->kind = PC_NIL;
        v->i = 0;
        break;
    case PC_BYTES: {
        if (left < 4)
            return PC_EPROTO;
        uint32_t n = pcs_le32(p);
        p += 4;
        if (n > left - 4)
            return PC_EPROTO;
        v->kind = PC_BYTES;
        v->s.ptr = p;
        v->s.len = n;
        p += n;
        break;
    }
    case PC_INT:
    case PC_DOUBLE:
        if (left < 8)
            return PC_EPROTO;
        v->kind = (pc_kind)kind;
        if (kind == PC_INT)
            v->i = (int64_t)pcs_le64(p);
        else
            v->d = pcs_u2d(pcs_le64(p));
        p += 8;
        break;
    case PC_BOOL:
        if (left < 1 || *p > 1)
            return PC_EPROTO;
        v->kind = PC_BOOL;
        v->b = *p++ != 0;
        break;
    default:
        return PC_EPROTO;
    }
    *pp = p;
    return 0;
}

static void req_init(pcs_req *rq)
{
    memset(rq, 0, sizeof *rq);
    rq->argv = rq->argv_small;
}

void pcs_req_free(pcs_req *rq)
{
    if (rq->argv != rq->argv_small)
        pcs_free(rq->argv);
    if (rq->subs) {
        for (uint32_t i = 0; i < rq->nsub; i++)
            pcs_req_free(&rq->subs[i]);
        pcs_free(rq->subs);
    }
    req_init(rq);
}

static int decode_txn(const uint8_t *p, size_t len, pcs_req *rq);

static int decode_one(const uint8_t *p, size_t len, pcs_req *rq, int nested)
{
    req_init(rq);
    if (len < PCS_FRAME_HDR + 4 || pcs_frame_len(p) != len)
        return PC_EPROTO;
    rq->op = pcs_le16(p + 4);
    rq->flags = pcs_le16(p + 6);
    rq->id = pcs_le64(p + 8);
    if (rq->op == 0 || rq->op >= PCS_OP__COUNT || rq->flags != 0)
        return PC_EPROTO;
    if (rq->op == PCS_OP_TXN)
        return nested ? PC_EPROTO : decode_txn(p, len, rq);

    const uint8_t *q = p + PCS_FRAME_HDR, *end = p + len;
    uint32_t argc = pcs_le32(q);
    q += 4;
    /* Every value takes at least one byte: a count past that is a lie. */
    if (argc > PCS_ARGC_MAX || argc > (size_t)(end - q))
        return PC_EPROTO;
    if (argc > sizeof rq->argv_small / sizeof rq->argv_small[0]) {
        rq->argv = pcs_reallocarray(NULL, argc, sizeof *rq->argv);
        if (!rq->argv) {
            rq->argv = rq->argv_small;
            return PC_ENOMEM;
        }
    }
    rq->argc = argc;
    for (uint32_t i = 0; i < argc; i++) {
        if (pcs_val_decode(&q, end, &rq->argv[i]))
            goto bad;
    }
    if (q != end)
        goto bad;
    return 0;
bad:
    pcs_req_free(rq);
    return PC_EPROTO;
}

static int decode_txn(const uint8_t *p, size_t len, pcs_req *rq)
{
    if (len < PCS_FRAME_HDR + 8)
        return PC_EPROTO;
    uint32_t nsub = pcs_le32(p + PCS_FRAME_HDR);
    if (pcs_le32(p + PCS_FRAME_HDR + 4) != 0)
        return PC_EPROTO;
    size_t off = PCS_FRAME_HDR + 8;
    /* Each sub-frame takes at least PCS_FRAME_HDR + 8 bytes. */
    if (nsub > PCS_TXN_MAX || nsub > (len - off) / (PCS_FRAME_HDR + 8))
        return PC_EPROTO;
    if (nsub) {
        rq->subs = pcs_calloc(nsub, sizeof *rq->subs);
        if (!rq->subs)
            return PC_ENOMEM;
    }
    int rc = 0;
    for (uint32_t i = 0; i < nsub; i++) {
        if (len - off < PCS_FRAME_HDR) {
            rc = PC_EPROTO;
            break;
        }
        size_t flen = pcs_frame_len(p + off);
        if (flen > len - off) {
            rc = PC_EPROTO;
            break;
        }
        rc = decode_one(p + off, flen, &rq->subs[i], 1);
        if (rc)
            break;
        rq->nsub = i + 1;
        off += flen;
        /* Padding to the next frame: zero bytes, inside the frame. */
        size_t pad = pcs_align8(off) - off;
        if (pad > len - off) {
            rc = PC_EPROTO;
            break;
        }
        for (size_t z = 0; z < pad; z++)
            if (p[off + z]) /* padding is zero bytes */
                rc = PC_EPROTO;
        if (rc)
            break;
        off += pad;
    }
    if (!rc && off != len)
        rc = PC_EPROTO;
    if (rc) {
        pcs_req_free(rq);
        return rc;
    }
    rq->nsub = nsub;
    return 0;
}

int pcs_req_decode(const uint8_t *p, size_t len, pcs_req *rq)
{
    return decode_one(p, len, rq, 0);
}

/* ---- responses ---- */

size_t pcs_resp_begin(pcs_buf *b, uint16_t op, uint64_t id)
{
    size_t start = b->len;
    put_header(b, op, id);
    pcs_buf_put_u32(b, 0); /* rc */
    pcs_buf_put_u32(b, 0); /* nvals */
    return start;
}

void pcs_out_val(pcs_buf *b, const pc_val *v)
{
    put_val(b, v);
}

void pcs_out_int(pcs_buf *b, int64_t i)
{
    pc_val v = pc_int(i);
    put_val(b, &v);
}

void pcs_out_double(pcs_buf *b, double d)
{
    pc_val v = pc_dbl(d);
    put_val(b, &v);
}

void pcs_out_bytes(pcs_buf *b, const void *p, size_t n)
{
    pc_val v = pc_mem(p, n);
    put_val(b, &v);
}

void pcs_resp_fail(pcs_buf *b, size_t start, int rc)
{
    if (b->len > start + PCS_FRAME_HDR + 8)
        b->len = start + PCS_FRAME_HDR + 8;
    if (b->err == PC_ETOOBIG && rc)
        b->err = 0;
    pcs_resp_end(b, start, rc, 0);
}

int pcs_resp_end(pcs_buf *b, size_t start, int rc, uint32_t nvals)
{
    if (b->err)
        return b->err;
    pcs_put_le32(b->data + start + PCS_FRAME_HDR, (uint32_t)rc);
    pcs_put_le32(b->data + start + PCS_FRAME_HDR + 4, nvals);
    patch_len(b, start);
    return b->err;
}

size_t pcs_resp_error(uint8_t f[PCS_RESP_ERROR_MAX], uint16_t op, uint64_t id, int rc)
{
    size_t len = PCS_FRAME_HDR + 8;
    memset(f, 0, PCS_RESP_ERROR_MAX);
    pcs_put_le16(f + 4, op);
    pcs_put_le64(f + 8, id);
    pcs_put_le32(f + PCS_FRAME_HDR, (uint32_t)rc);
    if (op == PCS_OP_TXN) {
        pcs_put_le32(f + len, UINT32_MAX); /* no failed index */
        len += 8;
    }
    pcs_put_le32(f, (uint32_t)len);
    return len; /* 24 or 32: a multiple of 8 */
}

int pcs_resp_parse(const uint8_t *p, size_t avail, pcs_resp *r, size_t *size)
{
    if (avail < PCS_FRAME_HDR + 8)
        return PC_EPROTO;
    uint32_t len = pcs_frame_len(p);
    if (len < PCS_FRAME_HDR + 8 || len > avail)
        return PC_EPROTO;
    r->op = pcs_le16(p + 4);
    r->id = pcs_le64(p + 8);
    r->rc = (int32_t)pcs_le32(p + PCS_FRAME_HDR);
    r->nvals = pcs_le32(p + PCS_FRAME_HDR + 4);
    r->vals = p + PCS_FRAME_HDR + 8;
    r->end = p + len;
    if (r->rc > 0)
        return PC_EPROTO;
    size_t padded = pcs_align8(len);
    *size = padded <= avail ? padded : len;
    return 0;
}
