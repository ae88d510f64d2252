/*
 * buf.c - growing byte buffer.
 */
#include "buf.h"

#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "pycache.h"

size_t pcs_buf_grown_cap(size_t cap, size_t need)
{
    if (need <= cap)
        return cap;
    size_t n = cap ? cap : 256;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    return n;
}

int pcs_buf_reserve(pcs_buf *b, size_t extra)
{
    if (b->err)
        return b->err;
    if (extra > SIZE_MAX - b->len || (b->limit && b->len + extra > b->limit)) {
        b->err = PC_ETOOBIG;
        return b->err;
    }
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = pcs_buf_grown_cap(b->cap, need);
    uint8_t *p = pcs_reallocarray(b->data, cap, 1);
    if (!p) {
        b->err = PC_ENOMEM;
        return b->err;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void pcs_buf_put(pcs_buf *b, const void *p, size_t n)
{
    if (pcs_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void pcs_buf_put_u8(pcs_buf *b, uint8_t v)
{
    pcs_buf_put(b, &v, 1);
}

void pcs_buf_put_u16(pcs_buf *b, uint16_t v)
{
    uint8_t t[2];
    pcs_put_le16(t, v);
    pcs_buf_put(b, t, 2);
}

void pcs_buf_put_u32(pcs_buf *b, uint32_t v)
{
    uint8_t t[4];
    pcs_put_le32(t, v);
    pcs_buf_put(b, t, 4);
}

void pcs_buf_put_u64(pcs_buf *b, uint64_t v)
{
    uint8_t t[8];
    pcs_put_le64(t, v);
    pcs_buf_put(b, t, 8);
}

void pcs_buf_pad8(pcs_buf *b)
{
    static const uint8_t zero[8];
    size_t pad = (8 - (b->len & 7)) & 7;
    pcs_buf_put(b, zero, pad);
}

void pcs_buf_reset(pcs_buf *b)
{
    b->len = 0;
    b->err = 0;
}

void pcs_buf_free(pcs_buf *b)
{
    pcs_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}
