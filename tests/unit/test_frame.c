/*
 * test_frame.c - unit tests of shm/frame.c: request and transaction frames,
 * responses (pcs_resp_error's among them), and the decoder's handling of
 * malformed and random input.
 * Every decode reads from an exactly sized heap copy so that ASan catches
 * any read past the bytes given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../shm/alloc.h"
#include "../../shm/buf.h"
#include "../../shm/bytes.h"
#include "../../shm/frame.h"
#include "pycache.h"
#include "pctest.h"

/* ---- helpers ---- */

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* Decode p[0..n) from an exact copy; on success the copy is returned in
 * *keep (views point into it), else freed. */
static int decode_copy(const uint8_t *p, size_t n, pcs_req *rq, uint8_t **keep)
{
    uint8_t *c = dup_exact(p, n);
    int rc = pcs_req_decode(c, n, rq);
    if (rc == 0 && keep) {
        *keep = c;
    } else {
        if (rc == 0)
            pcs_req_free(rq);
        free(c);
    }
    return rc;
}

static void expect_eproto(const uint8_t *p, size_t n)
{
    pcs_req rq;
    int64_t live = pcs_alloc_live();
    assert_int_equal(decode_copy(p, n, &rq, NULL), PC_EPROTO);
    assert_int_equal(pcs_alloc_live(), live);
}

/* A set of sample values of every kind. */
static uint8_t big_bytes[100000];

static size_t sample_vals(pc_val *v)
{
    static const char nul[] = "a\0b";
    for (size_t i = 0; i < sizeof big_bytes; i++)
        big_bytes[i] = (uint8_t)(i * 7 + 3);
    size_t n = 0;
    v[n++] = pc_nil();
    v[n++] = pc_mem("", 0);
    v[n++] = pc_mem(NULL, 0);
    v[n++] = pc_mem(nul, sizeof nul);
    v[n++] = pc_str("key");
    v[n++] = pc_mem(big_bytes, sizeof big_bytes);
    v[n++] = pc_int(0);
    v[n++] = pc_int(INT64_MIN);
    v[n++] = pc_int(INT64_MAX);
    v[n++] = pc_int(-1);
    v[n++] = pc_dbl(-0.0);
    v[n++] = pc_dbl(1e-310);
    v[n++] = pc_dbl(-1e300);
    v[n++] = pc_dbl(INFINITY);
    v[n++] = pc_dbl(pcs_u2d(UINT64_C(0x7ff8000000012345))); /* a NaN with payload */
    v[n++] = pc_bool(true);
    v[n++] = pc_bool(false);
    return n;
}

/* Encode one request frame of op with vals into b; returns its offset. */
static size_t enc_req(pcs_buf *b, uint16_t op, uint64_t id, const pc_val *vals, size_t n)
{
    pcs_enc e;
    size_t start = b->len;
    pcs_enc_begin(&e, b, op, id);
    for (size_t i = 0; i < n; i++)
        pcs_enc_val(&e, &vals[i]);
    assert_int_equal(pcs_enc_end(&e), 0);
    assert_int_equal(start % 8, 0);
    assert_int_equal(b->len % 8, 0);
    return start;
}

static void check_req(const pcs_req *rq, uint16_t op, uint64_t id, const pc_val *vals, size_t n)
{
    assert_int_equal(rq->op, op);
    assert_int_equal(rq->flags, 0);
    assert_int_equal(rq->id, id);
    assert_int_equal(rq->argc, n);
    for (size_t i = 0; i < n; i++)
        VAL_SAME(rq->argv[i], vals[i]);
}

/* ---- requests ---- */

static void test_req_roundtrip_kinds(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    pc_val v[32];
    size_t nv = sample_vals(v);
    pcs_buf b = PCS_BUF_INIT;
    /* Each kind alone, then every prefix of the list (argv_small and not). */
    for (size_t k = 0; k <= nv; k++) {
        pcs_buf_reset(&b);
        size_t n = k < nv ? 1 : nv;
        const pc_val *vals = k < nv ? &v[k] : v;
        enc_req(&b, PCS_OP_RPUSH, 1000 + k, vals, n);
        uint32_t len = pcs_frame_len(b.data);
        assert_int_equal(pcs_align8(len), b.len);
        pcs_req rq;
        uint8_t *keep;
        assert_int_equal(decode_copy(b.data, len, &rq, &keep), 0);
        check_req(&rq, PCS_OP_RPUSH, 1000 + k, vals, n);
        /* views point into the frame */
        for (size_t i = 0; i < rq.argc; i++)
            if (rq.argv[i].kind == PC_BYTES && rq.argv[i].s.len) {
                const uint8_t *p = rq.argv[i].s.ptr;
                assert_true(p > keep && p + rq.argv[i].s.len <= keep + len);
            }
        assert_int_equal(rq.nsub, 0);
        assert_null(rq.subs);
        pcs_req_free(&rq);
        free(keep);
    }
    for (size_t n = 0; n <= nv; n++) {
        pcs_buf_reset(&b);
        enc_req(&b, PCS_OP_SADD, UINT64_MAX - n, v, n);
        pcs_req rq;
        uint8_t *keep;
        assert_int_equal(decode_copy(b.data, pcs_frame_len(b.data), &rq, &keep), 0);
        check_req(&rq, PCS_OP_SADD, UINT64_MAX - n, v, n);
        if (n <= 4)
            assert_ptr_equal(rq.argv, rq.argv_small);
        pcs_req_free(&rq);
        free(keep);
    }
    /* Every op number decodes. */
    for (uint16_t op = 1; op < PCS_OP__COUNT; op++) {
        if (op == PCS_OP_TXN)
            continue;
        pcs_buf_reset(&b);
        enc_req(&b, op, op, v + 4, 2);
        pcs_req rq;
        assert_int_equal(decode_copy(b.data, pcs_frame_len(b.data), &rq, NULL), 0);
        assert_non_null(pcs_op_name(op));
    }
    assert_null(pcs_op_name(0));
    assert_null(pcs_op_name(PCS_OP__COUNT));
    assert_string_equal(pcs_op_name(PCS_OP_SET), "set");
    assert_string_equal(pcs_op_name(PCS_OP_TXN), "txn");
    pcs_buf_free(&b);
    assert_int_equal(pcs_alloc_live(), live0);
}

static void test_req_many_args(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    enum { N = 20000 };
    pc_val *v = calloc(N, sizeof *v);
    char(*strs)[16] = calloc(N, sizeof *strs);
    assert_non_null(v);
    assert_non_null(strs);
    pt_rng r = {11};
    for (size_t i = 0; i < N; i++) {
        switch (pt_below(&r, 5)) {
        case 0:
            v[i] = pc_nil();
            break;
        case 1: {
            int n = snprintf(strs[i], sizeof strs[i], "m%zu", i);
            v[i] = pc_mem(strs[i], (size_t)n);
            break;
        }
        case 2:
            v[i] = pc_int((int64_t)pt_next(&r));
            break;
        case 3:
            v[i] = pc_dbl((double)(int64_t)pt_next(&r) / 3.0);
            break;
        default:
            v[i] = pc_bool(pt_below(&r, 2));
            break;
        }
    }
    pcs_buf b = PCS_BUF_INIT;
    /* Three frames back to back in one stream. */
    size_t o1 = enc_req(&b, PCS_OP_HSET, 1, v, N);
    size_t o2 = enc_req(&b, PCS_OP_DEL, 2, v + 1, 1);
    size_t o3 = enc_req(&b, PCS_OP_LPUSH, 3, v + 7, 5);
    size_t offs[] = {o1, o2, o3};
    size_t ns[] = {N, 1, 5};
    const pc_val *vs[] = {v, v + 1, v + 7};
    for (int f = 0; f < 3; f++) {
        if (f < 2)
            assert_int_equal(offs[f + 1], pcs_align8(offs[f] + pcs_frame_len(b.data + offs[f])));
        pcs_req rq;
        uint8_t *keep;
        assert_int_equal(decode_copy(b.data + offs[f], pcs_frame_len(b.data + offs[f]), &rq, &keep),
                         0);
        check_req(&rq,
                  f == 0   ? PCS_OP_HSET
                  : f == 1 ? PCS_OP_DEL
                           : PCS_OP_LPUSH,
                  (uint64_t)f + 1, vs[f], ns[f]);
        pcs_req_free(&rq);
        free(keep);
    }
    pcs_buf_free(&b);
    free(strs);
    free(v);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* A transaction of nsub assorted requests into b; returns the frame length. */
static uint32_t enc_txn(pcs_buf *b, uint64_t id, uint32_t nsub, const pc_val *v, size_t nv)
{
    size_t start = pcs_enc_txn_begin(b, id);
    for (uint32_t i = 0; i < nsub; i++) {
        size_t n = (i * 3) % (nv + 1);
        enc_req(b, (uint16_t)(1 + i % (PCS_OP_TXN - 1)), id * 100 + i, v, n);
    }
    assert_int_equal(pcs_enc_txn_end(b, start, nsub), 0);
    return pcs_frame_len(b->data + start);
}

static void test_txn_roundtrip(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    pc_val v[32];
    size_t nv = sample_vals(v);
    pcs_buf b = PCS_BUF_INIT;
    static const uint32_t counts[] = {0, 1, 2, 7, 40};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        pcs_buf_reset(&b);
        uint32_t len = enc_txn(&b, 5 + c, counts[c], v, nv);
        assert_int_equal(pcs_align8(len), b.len);
        pcs_req rq;
        uint8_t *keep;
        assert_int_equal(decode_copy(b.data, len, &rq, &keep), 0);
        assert_int_equal(rq.op, PCS_OP_TXN);
        assert_int_equal(rq.id, 5 + c);
        assert_int_equal(rq.nsub, counts[c]);
        for (uint32_t i = 0; i < counts[c]; i++) {
            size_t n = (i * 3) % (nv + 1);
            check_req(&rq.subs[i], (uint16_t)(1 + i % (PCS_OP_TXN - 1)), (5 + c) * 100 + i, v, n);
        }
        pcs_req_free(&rq);
        free(keep);
    }
    pcs_buf_free(&b);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* ---- encoder errors ---- */

static void test_enc_errors(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    /* An allocation failure is sticky and reported at the end. */
    pcs_buf b = PCS_BUF_INIT;
    pcs_alloc_fail_at(1);
    pcs_enc e;
    pcs_enc_begin(&e, &b, PCS_OP_SET, 1);
    pcs_enc_bytes(&e, "k", 1);
    pcs_enc_int(&e, 5);
    pcs_alloc_fail_at(0);
    assert_int_equal(pcs_enc_end(&e), PC_ENOMEM);
    pcs_buf_free(&b);

    /* A buffer limit is PC_ETOOBIG. */
    b.limit = 64;
    pcs_enc_begin(&e, &b, PCS_OP_SET, 1);
    pcs_enc_bytes(&e, big_bytes, 100);
    assert_int_equal(pcs_enc_end(&e), PC_ETOOBIG);
    pcs_buf_free(&b);
    b.limit = 0;

    /* More than PCS_ARGC_MAX arguments. */
    pcs_enc_begin(&e, &b, PCS_OP_RPUSH, 1);
    pc_val nil = pc_nil();
    for (uint32_t i = 0; i <= PCS_ARGC_MAX; i++)
        pcs_enc_val(&e, &nil);
    assert_int_equal(pcs_enc_end(&e), PC_ETOOBIG);
    pcs_buf_free(&b);

    /* More than PCS_TXN_MAX sub-requests. */
    size_t s = pcs_enc_txn_begin(&b, 1);
    assert_int_equal(pcs_enc_txn_end(&b, s, PCS_TXN_MAX + 1), PC_ETXNSIZE);
    pcs_buf_free(&b);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* ---- responses ---- */

static void test_responses(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    pcs_buf b = PCS_BUF_INIT;
    /* A response with one value of each kind. */
    size_t s1 = pcs_resp_begin(&b, PCS_OP_HINCRBY, 77);
    pcs_out_int(&b, -5);
    pcs_out_double(&b, -0.0);
    pcs_out_bytes(&b, "x\0y", 3);
    pc_val t = pc_bool(true), nil = pc_nil(), e = pc_mem(NULL, 0), none = {.kind = PC_NONE};
    pcs_out_val(&b, &t);
    pcs_out_val(&b, &nil);
    pcs_out_val(&b, &e);
    pcs_out_val(&b, &none);
    assert_int_equal(pcs_resp_end(&b, s1, 0, 7), 0);
    assert_int_equal(b.len % 8, 0);
    /* An error response: its values are dropped. */
    size_t s2 = pcs_resp_begin(&b, PCS_OP_LPUSH, 78);
    pcs_out_int(&b, 1);
    pcs_out_bytes(&b, big_bytes, 1000);
    pcs_resp_fail(&b, s2, PC_EWRONGTYPE);
    assert_int_equal(b.err, 0);
    /* A bare error via pcs_resp_end. */
    size_t s3 = pcs_resp_begin(&b, PCS_OP_DEL, 79);
    assert_int_equal(pcs_resp_end(&b, s3, PC_ENOTFOUND, 0), 0);
    assert_int_equal(s2, pcs_align8(s2));
    assert_int_equal(s3, pcs_align8(s3));

    uint8_t *c = dup_exact(b.data, b.len);
    const uint8_t *p = c, *end = c + b.len;
    pcs_resp r;
    size_t sz;
    assert_int_equal(pcs_resp_parse(p, (size_t)(end - p), &r, &sz), 0);
    assert_int_equal(r.op, PCS_OP_HINCRBY);
    assert_int_equal(r.id, 77);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nvals, 7);
    assert_int_equal(sz, s2 - s1);
    const uint8_t *q = r.vals;
    pc_val v;
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_INT);
    assert_int_equal(v.i, -5);
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_DOUBLE);
    assert_true(v.d == 0 && signbit(v.d));
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_BYTES);
    assert_int_equal(v.s.len, 3);
    assert_memory_equal(v.s.ptr, "x\0y", 3);
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_BOOL);
    assert_true(v.b);
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_NIL);
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_BYTES);
    assert_int_equal(v.s.len, 0);
    assert_int_equal(pcs_val_decode(&q, r.end, &v), 0);
    assert_int_equal(v.kind, PC_NONE);
    assert_ptr_equal(q, r.end);
    assert_int_equal(pcs_val_decode(&q, r.end, &v), PC_EPROTO);
    p += sz;

    assert_int_equal(pcs_resp_parse(p, (size_t)(end - p), &r, &sz), 0);
    assert_int_equal(r.op, PCS_OP_LPUSH);
    assert_int_equal(r.id, 78);
    assert_int_equal(r.rc, PC_EWRONGTYPE);
    assert_int_equal(r.nvals, 0);
    assert_ptr_equal(r.vals, r.end);
    assert_int_equal(sz, PCS_FRAME_HDR + 8);
    p += sz;

    assert_int_equal(pcs_resp_parse(p, (size_t)(end - p), &r, &sz), 0);
    assert_int_equal(r.id, 79);
    assert_int_equal(r.rc, PC_ENOTFOUND);
    p += sz;
    assert_ptr_equal(p, end);
    free(c);

    /* Malformed responses. */
    uint8_t h[64] = {0};
    pcs_put_le32(h, 24);
    for (size_t n = 0; n < 24; n++) {
        c = dup_exact(h, n);
        assert_int_equal(pcs_resp_parse(c, n, &r, &sz), PC_EPROTO);
        free(c);
    }
    pcs_put_le32(h, 23); /* shorter than a response header */
    assert_int_equal(pcs_resp_parse(h, 64, &r, &sz), PC_EPROTO);
    pcs_put_le32(h, 65); /* longer than what is there */
    assert_int_equal(pcs_resp_parse(h, 64, &r, &sz), PC_EPROTO);
    pcs_put_le32(h, 24);
    pcs_put_le32(h + 16, 1); /* rc > 0 */
    assert_int_equal(pcs_resp_parse(h, 64, &r, &sz), PC_EPROTO);
    pcs_put_le32(h + 16, 0);
    assert_int_equal(pcs_resp_parse(h, 64, &r, &sz), 0);
    assert_int_equal(sz, 24);
    pcs_put_le32(h, 25); /* unpadded last frame: its size is its length */
    assert_int_equal(pcs_resp_parse(h, 25, &r, &sz), 0);
    assert_int_equal(sz, 25);
    assert_int_equal(pcs_resp_parse(h, 64, &r, &sz), 0);
    assert_int_equal(sz, 32);

    /* A value that overflows the limit can still be answered as an error. */
    pcs_buf_free(&b);
    b.limit = 64;
    size_t s4 = pcs_resp_begin(&b, PCS_OP_GETSET, 80);
    pcs_out_bytes(&b, big_bytes, 100);
    assert_int_equal(b.err, PC_ETOOBIG);
    pcs_resp_fail(&b, s4, PC_ETOOBIG);
    assert_int_equal(b.err, 0);
    assert_int_equal(pcs_resp_parse(b.data, b.len, &r, &sz), 0);
    assert_int_equal(r.rc, PC_ETOOBIG);
    assert_int_equal(r.nvals, 0);
    pcs_buf_free(&b);
    b.limit = 0;

    /* Out of memory while building a response. */
    pcs_alloc_fail_at(1);
    size_t s5 = pcs_resp_begin(&b, PCS_OP_SET, 1);
    pcs_alloc_fail_at(0);
    assert_int_equal(pcs_resp_end(&b, s5, 0, 0), PC_ENOMEM);
    pcs_buf_free(&b);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* pcs_resp_error makes, without memory, the bytes pcs_resp_begin/end make
 * for an answer that carries rc alone (a transaction's: no failed index, no
 * responses inside). */
static void test_resp_error(void **state)
{
    (void)state;
    static const uint16_t ops[] = {PCS_OP_SET, PCS_OP_R_GET, PCS_OP_QPOPW, PCS_OP_TXN, 0xffff};
    static const int rcs[] = {PC_ENOMEM, PC_EACCES, PC_EFULL, PC_ETIMEDOUT, 0};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        for (size_t j = 0; j < sizeof rcs / sizeof rcs[0]; j++) {
            uint64_t id = UINT64_C(0x0102030405060708) * (i + 1) + j;
            pcs_buf b = PCS_BUF_INIT;
            size_t s = pcs_resp_begin(&b, ops[i], id);
            if (ops[i] == PCS_OP_TXN) {
                pcs_buf_put_u32(&b, UINT32_MAX);
                pcs_buf_put_u32(&b, 0);
            }
            assert_int_equal(pcs_resp_end(&b, s, rcs[j], 0), 0);
            uint8_t f[PCS_RESP_ERROR_MAX + 8];
            memset(f, 0xee, sizeof f);
            size_t n = pcs_resp_error(f, ops[i], id, rcs[j]);
            assert_int_equal(n, b.len);
            assert_true(n <= PCS_RESP_ERROR_MAX && n % 8 == 0);
            assert_memory_equal(f, b.data, n);
            assert_int_equal(f[PCS_RESP_ERROR_MAX], 0xee); /* nothing written past it */
            pcs_resp r;
            size_t sz;
            assert_int_equal(pcs_resp_parse(f, n, &r, &sz), 0);
            assert_int_equal(sz, n);
            assert_int_equal(r.op, ops[i]);
            assert_int_equal(r.id, id);
            assert_int_equal(r.rc, rcs[j]);
            assert_int_equal(r.nvals, 0);
            pcs_buf_free(&b);
        }
    }
}

static void test_val_decode_malformed(void **state)
{
    (void)state;
    uint8_t b[16] = {0};
    pc_val v;
    const uint8_t *p = b;
    assert_int_equal(pcs_val_decode(&p, b, &v), PC_EPROTO); /* nothing */
    /* PC_NONE (a hole in a multi-get answer) is a value with no payload. */
    p = b;
    assert_int_equal(pcs_val_decode(&p, b + 1, &v), 0);
    assert_int_equal(v.kind, PC_NONE);
    assert_ptr_equal(p, b + 1);
    static const uint8_t kinds[] = {PC_BOOL + 1, 7, 0x10, 0x80, 0xff};
    for (size_t i = 0; i < sizeof kinds; i++) {
        b[0] = kinds[i];
        p = b;
        assert_int_equal(pcs_val_decode(&p, b + 16, &v), PC_EPROTO);
        assert_ptr_equal(p, b);
    }
    b[0] = PC_BOOL;
    for (unsigned x = 2; x < 256; x += 51) {
        b[1] = (uint8_t)x;
        p = b;
        assert_int_equal(pcs_val_decode(&p, b + 2, &v), PC_EPROTO);
    }
    b[1] = 1;
    p = b;
    assert_int_equal(pcs_val_decode(&p, b + 1, &v), PC_EPROTO);
    b[0] = PC_INT;
    for (size_t n = 1; n < 9; n++) {
        p = b;
        assert_int_equal(pcs_val_decode(&p, b + n, &v), PC_EPROTO);
    }
    b[0] = PC_BYTES;
    pcs_put_le32(b + 1, 3);
    for (size_t n = 1; n < 8; n++) {
        p = b;
        assert_int_equal(pcs_val_decode(&p, b + n, &v), PC_EPROTO);
    }
    p = b;
    assert_int_equal(pcs_val_decode(&p, b + 8, &v), 0);
    assert_ptr_equal(p, b + 8);
    pcs_put_le32(b + 1, UINT32_MAX);
    p = b;
    assert_int_equal(pcs_val_decode(&p, b + 16, &v), PC_EPROTO);
}

/* ---- malformed requests ---- */

/* Valid frames to break: a few plain requests and transactions. */
typedef struct sample {
    uint8_t *p;
    uint32_t len;
} sample;

static size_t make_samples(sample *out)
{
    pc_val v[32];
    size_t nv = sample_vals(v);
    v[5] = pc_mem(big_bytes, 300); /* keep them small for the exhaustive loops */
    size_t n = 0;
    for (int k = 0; k < 6; k++) {
        pcs_buf b = PCS_BUF_INIT;
        switch (k) {
        case 0:
            enc_req(&b, PCS_OP_SET, 1, v + 4, 4);
            break;
        case 1:
            enc_req(&b, PCS_OP_RPUSH, 2, v, nv);
            break;
        case 2:
            enc_req(&b, PCS_OP_DEL, 3, v + 4, 1);
            break;
        case 3:
            enc_txn(&b, 4, 3, v, nv);
            break;
        case 4:
            enc_txn(&b, 5, 0, v, nv);
            break;
        default:
            enc_txn(&b, 6, 6, v + 3, 5);
            break;
        }
        out[n].len = pcs_frame_len(b.data);
        out[n].p = malloc(b.len);
        assert_non_null(out[n].p);
        memcpy(out[n].p, b.data, b.len);
        pcs_buf_free(&b);
        n++;
    }
    return n;
}

static void free_samples(sample *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].p);
}

static void test_truncations(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    sample s[8];
    size_t ns = make_samples(s);
    for (size_t i = 0; i < ns; i++) {
        pcs_req rq;
        assert_int_equal(decode_copy(s[i].p, s[i].len, &rq, NULL), 0);
        uint8_t *t = malloc(s[i].len);
        assert_non_null(t);
        for (uint32_t k = 0; k < s[i].len; k++) {
            /* as cut: the length field no longer matches */
            expect_eproto(s[i].p, k);
            /* with the length field patched to the cut */
            if (k >= 4) {
                memcpy(t, s[i].p, k);
                pcs_put_le32(t, k);
                expect_eproto(t, k);
            }
        }
        free(t);
    }
    free_samples(s, ns);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* Build a frame by hand: header, then body bytes. */
static size_t raw_frame(uint8_t *out, uint16_t op, uint16_t flags, const void *body, size_t blen)
{
    pcs_put_le32(out, (uint32_t)(PCS_FRAME_HDR + blen));
    pcs_put_le16(out + 4, op);
    pcs_put_le16(out + 6, flags);
    pcs_put_le64(out + 8, 42);
    memcpy(out + PCS_FRAME_HDR, body, blen);
    return PCS_FRAME_HDR + blen;
}

static void test_malformed_requests(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    uint8_t f[4096];
    size_t n;
    /* body: argc 2, BYTES "k", INT 7 */
    uint8_t body[64];
    size_t bl = 0;
    pcs_put_le32(body, 2);
    bl = 4;
    body[bl++] = PC_BYTES;
    pcs_put_le32(body + bl, 1);
    bl += 4;
    body[bl++] = 'k';
    body[bl++] = PC_INT;
    pcs_put_le64(body + bl, 7);
    bl += 8;

    /* The baseline is valid. */
    n = raw_frame(f, PCS_OP_APPEND, 0, body, bl);
    pcs_req rq;
    assert_int_equal(decode_copy(f, n, &rq, NULL), 0);

    /* Bad op. */
    static const uint16_t bad_ops[] = {0, PCS_OP__COUNT, PCS_OP__COUNT + 1, 0x7fff, 0xffff};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        n = raw_frame(f, bad_ops[i], 0, body, bl);
        expect_eproto(f, n);
    }
    /* Nonzero flags. */
    static const uint16_t bad_flags[] = {1, 2, 0x100, 0x8000, 0xffff};
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        n = raw_frame(f, PCS_OP_APPEND, bad_flags[i], body, bl);
        expect_eproto(f, n);
    }
    /* Length field that disagrees with the bytes given. */
    n = raw_frame(f, PCS_OP_APPEND, 0, body, bl);
    pcs_put_le32(f, (uint32_t)n + 1);
    expect_eproto(f, n);
    pcs_put_le32(f, (uint32_t)n - 1);
    expect_eproto(f, n);
    pcs_put_le32(f, 0);
    expect_eproto(f, n);
    /* argc larger than the bytes (and larger than the values), or smaller. */
    static const uint32_t bad_argc[] = {3,          4, 5, 17, 1000, PCS_ARGC_MAX, PCS_ARGC_MAX + 1,
                                        UINT32_MAX, 1, 0};
    for (size_t i = 0; i < sizeof bad_argc / sizeof bad_argc[0]; i++) {
        n = raw_frame(f, PCS_OP_APPEND, 0, body, bl);
        pcs_put_le32(f + PCS_FRAME_HDR, bad_argc[i]);
        expect_eproto(f, n);
    }
    /* argc past PCS_ARGC_MAX even with a byte for each. */
    {
        size_t big = PCS_FRAME_HDR + 4 + PCS_ARGC_MAX + 1;
        uint8_t *g = calloc(1, big);
        assert_non_null(g);
        pcs_put_le32(g, (uint32_t)big);
        pcs_put_le16(g + 4, PCS_OP_RPUSH);
        pcs_put_le32(g + PCS_FRAME_HDR, PCS_ARGC_MAX + 1);
        memset(g + PCS_FRAME_HDR + 4, PC_NIL, PCS_ARGC_MAX + 1);
        expect_eproto(g, big);
        /* and exactly PCS_ARGC_MAX is fine */
        big--;
        pcs_put_le32(g, (uint32_t)big);
        pcs_put_le32(g + PCS_FRAME_HDR, PCS_ARGC_MAX);
        uint8_t *keep;
        assert_int_equal(decode_copy(g, big, &rq, &keep), 0);
        assert_int_equal(rq.argc, PCS_ARGC_MAX);
        pcs_req_free(&rq);
        free(keep);
        free(g);
    }
    /* BYTES length past the end. */
    static const uint32_t bad_len[] = {2, 10, 17, 0x7fffffff, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        n = raw_frame(f, PCS_OP_APPEND, 0, body, bl);
        pcs_put_le32(f + PCS_FRAME_HDR + 5, bad_len[i]);
        expect_eproto(f, n);
    }
    /* BYTES length cut short. */
    {
        uint8_t b2[8];
        pcs_put_le32(b2, 1);
        b2[4] = PC_BYTES;
        b2[5] = 0;
        b2[6] = 0;
        n = raw_frame(f, PCS_OP_DEL, 0, b2, 7);
        expect_eproto(f, n);
    }
    /* Unknown kind bytes. */
    static const uint8_t bad_kind[] = {PC_BOOL + 1, PC_BOOL + 2, 0x10, 0x81, 0xff};
    for (size_t i = 0; i < sizeof bad_kind; i++) {
        n = raw_frame(f, PCS_OP_APPEND, 0, body, bl);
        f[PCS_FRAME_HDR + 4] = bad_kind[i];
        expect_eproto(f, n);
        n = raw_frame(f, PCS_OP_APPEND, 0, body, bl);
        f[PCS_FRAME_HDR + 10] = bad_kind[i];
        expect_eproto(f, n);
    }
    /* BOOL byte 2 (and others), BOOL cut short. */
    {
        uint8_t b2[16];
        pcs_put_le32(b2, 2);
        b2[4] = PC_NIL;
        b2[5] = PC_BOOL;
        for (unsigned x = 2; x < 256; x += 37) {
            b2[6] = (uint8_t)x;
            n = raw_frame(f, PCS_OP_SADD, 0, b2, 7);
            expect_eproto(f, n);
        }
        b2[6] = 1;
        n = raw_frame(f, PCS_OP_SADD, 0, b2, 7);
        assert_int_equal(decode_copy(f, n, &rq, NULL), 0);
        n = raw_frame(f, PCS_OP_SADD, 0, b2, 6);
        expect_eproto(f, n);
    }
    /* INT / DOUBLE cut short. */
    for (int k = PC_INT; k <= PC_DOUBLE; k++) {
        uint8_t b2[16] = {0};
        pcs_put_le32(b2, 1);
        b2[4] = (uint8_t)k;
        for (size_t cut = 5; cut < 13; cut++) {
            n = raw_frame(f, PCS_OP_SADD, 0, b2, cut);
            expect_eproto(f, n);
        }
    }
    /* Trailing garbage, with the length covering it. */
    for (size_t extra = 1; extra <= 9; extra++) {
        uint8_t b2[80];
        memcpy(b2, body, bl);
        memset(b2 + bl, 0, extra);
        n = raw_frame(f, PCS_OP_APPEND, 0, b2, bl + extra);
        expect_eproto(f, n);
    }
    /* A frame too short for argc. */
    for (size_t cut = 0; cut < 4; cut++) {
        n = raw_frame(f, PCS_OP_DEL, 0, body, cut);
        expect_eproto(f, n);
    }
    assert_int_equal(pcs_alloc_live(), live0);
}

static void test_malformed_txn(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    pc_val v[32];
    size_t nv = sample_vals(v);
    v[5] = pc_mem(big_bytes, 100);
    pcs_buf b = PCS_BUF_INIT;
    uint32_t len = enc_txn(&b, 9, 4, v, nv);
    uint8_t *t = malloc(b.len + 64);
    assert_non_null(t);
    pcs_req rq;
    assert_int_equal(decode_copy(b.data, len, &rq, NULL), 0);

    /* Offsets of the sub-frames. */
    size_t off[5];
    off[0] = PCS_FRAME_HDR + 8;
    for (int i = 0; i < 4; i++)
        off[i + 1] = pcs_align8(off[i] + pcs_frame_len(b.data + off[i]));
    assert_int_equal(off[4], len);

    /* nsub lying: more, fewer, huge. */
    static const uint32_t lies[] = {0, 1, 3, 5, 6, 100, PCS_TXN_MAX, PCS_TXN_MAX + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        memcpy(t, b.data, len);
        pcs_put_le32(t + PCS_FRAME_HDR, lies[i]);
        expect_eproto(t, len);
    }
    /* The reserved word is not zero. */
    memcpy(t, b.data, len);
    pcs_put_le32(t + PCS_FRAME_HDR + 4, 1);
    expect_eproto(t, len);
    /* A sub-frame's length past the end, zero, below a header, or off by one
     * (each sub-frame in turn). */
    for (int i = 0; i < 4; i++) {
        uint32_t sl = pcs_frame_len(b.data + off[i]);
        const uint32_t bad[] = {(uint32_t)(len - off[i] + 1),
                                (uint32_t)(len - off[i] + 8),
                                UINT32_MAX,
                                0,
                                4,
                                PCS_FRAME_HDR,
                                PCS_FRAME_HDR + 3,
                                sl + 1,
                                sl - 1};
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            memcpy(t, b.data, len);
            pcs_put_le32(t + off[i], bad[j]);
            expect_eproto(t, len);
        }
        /* a bad op, nonzero flags inside a sub-frame */
        memcpy(t, b.data, len);
        pcs_put_le16(t + off[i] + 4, 0);
        expect_eproto(t, len);
        memcpy(t, b.data, len);
        pcs_put_le16(t + off[i] + 6, 1);
        expect_eproto(t, len);
        /* a nested transaction */
        memcpy(t, b.data, len);
        pcs_put_le16(t + off[i] + 4, PCS_OP_TXN);
        expect_eproto(t, len);
    }
    /* A whole valid transaction nested inside another. */
    {
        pcs_buf nb = PCS_BUF_INIT;
        size_t s = pcs_enc_txn_begin(&nb, 1);
        enc_req(&nb, PCS_OP_DEL, 1, v + 4, 1);
        enc_txn(&nb, 2, 2, v, nv);
        assert_int_equal(pcs_enc_txn_end(&nb, s, 2), 0);
        expect_eproto(nb.data, pcs_frame_len(nb.data));
        pcs_buf_free(&nb);
    }
    /* The last sub-frame not padded to 8 inside the transaction. */
    {
        uint8_t g[64] = {0};
        pcs_put_le16(g + 4, PCS_OP_TXN);
        pcs_put_le32(g + PCS_FRAME_HDR, 1);
        uint8_t sb[8];
        pcs_put_le32(sb, 1);
        sb[4] = PC_NIL;
        size_t sl = raw_frame(g + 24, PCS_OP_DEL, 0, sb, 5); /* 21 bytes */
        pcs_put_le32(g, (uint32_t)(24 + sl));
        expect_eproto(g, 24 + sl);
        /* padded, it is well formed (the op's arity is the executor's job) */
        pcs_put_le32(g, (uint32_t)(24 + pcs_align8(sl)));
        assert_int_equal(decode_copy(g, 24 + pcs_align8(sl), &rq, NULL), 0);
    }
    /* Trailing bytes after the last sub-frame. */
    memcpy(t, b.data, len);
    memset(t + len, 0, 8);
    pcs_put_le32(t, len + 8);
    expect_eproto(t, len + 8);
    /* Too short for its own header. */
    for (uint32_t k = PCS_FRAME_HDR + 4; k < PCS_FRAME_HDR + 8; k++) {
        memcpy(t, b.data, k);
        pcs_put_le32(t, k);
        expect_eproto(t, k);
    }
    free(t);
    pcs_buf_free(&b);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* Random byte flips over valid frames: never a crash, only 0 or
 * PC_EPROTO, nothing leaked, and a frame that decodes is self-consistent. */
static void test_random_flips(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    sample s[8];
    size_t ns = make_samples(s);
    pt_rng r = {0x5eed};
    unsigned ok = 0, bad = 0;
    for (int iter = 0; iter < 6000; iter++) {
        const sample *x = &s[pt_below(&r, ns)];
        size_t n = x->len;
        uint8_t *c = dup_exact(x->p, n);
        int flips = 1 + (int)pt_below(&r, 4);
        for (int k = 0; k < flips; k++) {
            size_t at = pt_below(&r, 4) == 0 ? pt_below(&r, n < 48 ? n : 48) : pt_below(&r, n);
            c[at] ^= (uint8_t)(1 + pt_below(&r, 255));
        }
        /* Half the time, believe the (maybe flipped) length field. */
        size_t dl = n;
        if (pt_below(&r, 2) && pcs_frame_len(c) <= n)
            dl = pcs_frame_len(c);
        uint8_t *d = dup_exact(c, dl);
        pcs_req rq;
        int rc = pcs_req_decode(d, dl, &rq);
        assert_true(rc == 0 || rc == PC_EPROTO);
        if (rc == 0) {
            ok++;
            assert_true(rq.op > 0 && rq.op < PCS_OP__COUNT);
            const pcs_req *all = rq.op == PCS_OP_TXN ? rq.subs : &rq;
            uint32_t nall = rq.op == PCS_OP_TXN ? rq.nsub : 1;
            for (uint32_t i = 0; i < nall; i++)
                for (uint32_t a = 0; a < all[i].argc; a++) {
                    const pc_val *v = &all[i].argv[a];
                    assert_true(v->kind >= PC_NONE && v->kind <= PC_BOOL);
                    if (v->kind == PC_BYTES && v->s.len)
                        assert_true((const uint8_t *)v->s.ptr >= d &&
                                    (const uint8_t *)v->s.ptr + v->s.len <= d + dl);
                }
            pcs_req_free(&rq);
        } else {
            bad++;
        }
        free(d);
        free(c);
    }
    assert_true(ok > 0);
    assert_true(bad > 0);
    free_samples(s, ns);
    assert_int_equal(pcs_alloc_live(), live0);
}

/* Every allocation of a decode fails in turn: PC_ENOMEM and nothing leaked. */
static void test_decode_enomem(void **state)
{
    (void)state;
    int64_t live0 = pcs_alloc_live();
    pc_val v[32];
    size_t nv = sample_vals(v);
    v[5] = pc_mem(big_bytes, 100);
    pcs_buf b = PCS_BUF_INIT;
    uint32_t len = enc_txn(&b, 1, 12, v, nv);
    uint8_t *c = dup_exact(b.data, len);
    pcs_buf_free(&b);
    int failures = 0;
    for (uint64_t n = 1; n < 1000; n++) {
        uint64_t before = pcs_alloc_count();
        pcs_alloc_fail_at(n);
        pcs_req rq;
        int rc = pcs_req_decode(c, len, &rq);
        pcs_alloc_fail_at(0);
        bool triggered = pcs_alloc_count() - before >= n;
        if (rc == 0) {
            assert_false(triggered);
            assert_int_equal(rq.nsub, 12);
            pcs_req_free(&rq);
            assert_int_equal(pcs_alloc_live(), live0);
            break;
        }
        assert_true(triggered);
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(pcs_alloc_live(), live0);
        failures++;
    }
    assert_true(failures >= 2); /* the subs array and at least one argv */
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_roundtrip_kinds), cmocka_unit_test(test_req_many_args),
        cmocka_unit_test(test_txn_roundtrip),       cmocka_unit_test(test_enc_errors),
        cmocka_unit_test(test_responses),           cmocka_unit_test(test_val_decode_malformed),
        cmocka_unit_test(test_truncations),         cmocka_unit_test(test_malformed_requests),
        cmocka_unit_test(test_malformed_txn),       cmocka_unit_test(test_random_flips),
        cmocka_unit_test(test_decode_enomem),       cmocka_unit_test(test_resp_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
