/*
 * buf.h - a growing byte buffer with a sticky error.
 *
 * Encoders append without checking each step; the first allocation failure
 * sets err (PC_ENOMEM) or a size limit sets it (PC_ETOOBIG), later appends do
 * nothing, and the caller checks err once at the end.
 */
#ifndef PCS_BUF_H
#define PCS_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pcs_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t limit; /* 0: none; appending past it sets err = PC_ETOOBIG */
    int err;      /* 0 or the first error */
} pcs_buf;

#define PCS_BUF_INIT \
    {                \
        0            \
    }

/* The capacity a buffer of cap bytes grows to when it must hold need. */
size_t pcs_buf_grown_cap(size_t cap, size_t need);
/* Make room for extra bytes past len.  Returns 0 or the (sticky) error. */
int pcs_buf_reserve(pcs_buf *b, size_t extra);
void pcs_buf_put(pcs_buf *b, const void *p, size_t n);
void pcs_buf_put_u8(pcs_buf *b, uint8_t v);
void pcs_buf_put_u16(pcs_buf *b, uint16_t v);
void pcs_buf_put_u32(pcs_buf *b, uint32_t v);
void pcs_buf_put_u64(pcs_buf *b, uint64_t v);
/* Append zero bytes until len is a multiple of 8. */
void pcs_buf_pad8(pcs_buf *b);
/* Forget the contents and the error; keep the memory. */
void pcs_buf_reset(pcs_buf *b);
void pcs_buf_free(pcs_buf *b);

#endif
