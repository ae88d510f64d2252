/*
 * channel.c - single-producer single-consumer byte rings over a channel's
 * shared memory, and the futex calls that put a waiting side to sleep.
 */
#include "channel.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "pycache.h"

void pcs_chan_init(void *base, uint32_t ring_size, uint64_t client_id)
{
    pcs_chan_hdr *h = base;
    memset(h, 0, sizeof *h);
    h->magic = PCS_CHAN_MAGIC;
    h->version = PCS_CHAN_VERSION;
    h->hdr_size = PCS_CHAN_HDR;
    h->ring_size = ring_size;
    h->client_id = client_id;
}

int pcs_chan_check(const void *base, size_t maplen)
{
    const pcs_chan_hdr *h = base;
    if (maplen < PCS_CHAN_HDR || h->magic != PCS_CHAN_MAGIC || h->version != PCS_CHAN_VERSION ||
        h->hdr_size != PCS_CHAN_HDR || h->ring_size < PCS_RING_MIN || h->ring_size > PCS_RING_MAX ||
        (h->ring_size & (h->ring_size - 1)) || pcs_chan_size(h->ring_size) != maplen)
        return PC_EPROTO;
    return 0;
}

void pcs_chan_rings(void *base, int client_side, pcs_ring *req, pcs_ring *resp)
{
    pcs_chan_hdr *h = base;
    uint32_t size = h->ring_size;
    (void)client_side; /* a channel is always fresh when either side sets up */
    memset(req, 0, sizeof *req);
    memset(resp, 0, sizeof *resp);
    req->data = (uint8_t *)base + PCS_CHAN_HDR;
    req->size = size;
    req->head = &h->req_head;
    req->tail = &h->req_tail;
    resp->data = (uint8_t *)base + PCS_CHAN_HDR + size;
    resp->size = size;
    resp->head = &h->resp_head;
    resp->tail = &h->resp_tail;
}

/* Copy n bytes into / out of the ring at counter position at, wrapping.
 * n may be 0 with a NULL buffer (an empty record): nothing is copied. */
static void ring_in(pcs_ring *r, uint64_t at, const void *src, size_t n)
{
    if (n == 0)
        return;
    size_t off = (size_t)(at & (r->size - 1));
    size_t first = r->size - off < n ? r->size - off : n;
    memcpy(r->data + off, src, first);
    if (n > first)
        memcpy(r->data, (const uint8_t *)src + first, n - first);
}

static void ring_out(const pcs_ring *r, uint64_t at, void *dst, size_t n)
{
    if (n == 0)
        return;
    size_t off = (size_t)(at & (r->size - 1));
    size_t first = r->size - off < n ? r->size - off : n;
    memcpy(dst, r->data + off, first);
    if (n > first)
        memcpy((uint8_t *)dst + first, r->data, n - first);
}

static inline uint64_t rec_size(uint32_t len)
{
    return (PCS_REC_HDR + (uint64_t)len + 7) & ~(uint64_t)7;
}

int pcs_ring_space(pcs_ring *r, size_t *free)
{
    uint64_t t = atomic_load_explicit(r->tail, memory_order_acquire);
    if (t > r->pos || r->pos - t > r->size || t < r->seen)
        return PC_EPROTO;
    r->seen = t;
    *free = r->size - (size_t)(r->pos - t);
    return 0;
}

int pcs_ring_put(pcs_ring *r, const void *p, uint32_t len, uint16_t flags)
{
    if (len > pcs_ring_chunk_max(r))
        return PC_EINVAL;
    uint64_t need = rec_size(len);
    if (r->size - (r->pos - r->seen) < need) {
        size_t free;
        int rc = pcs_ring_space(r, &free);
        if (rc)
            return rc;
        if (free < need)
            return PC_EAGAIN;
    }
    uint8_t hdr[PCS_REC_HDR];
    pcs_put_le32(hdr, len);
    pcs_put_le16(hdr + 4, PCS_REC_CHUNK);
    pcs_put_le16(hdr + 6, flags);
    ring_in(r, r->pos, hdr, sizeof hdr);
    ring_in(r, r->pos + PCS_REC_HDR, p, len);
    r->pos += need;
    return 0;
}

int pcs_ring_send(pcs_ring *r, const uint8_t *buf, size_t len, size_t *pos, size_t *sent)
{
    int put = 0;
    while (*pos < len) {
        const uint8_t *m = buf + *pos;
        size_t mlen = pcs_le32(m), left = mlen - *sent, free;
        if (mlen < 4 || mlen > len - *pos || *sent >= mlen)
            return PC_EINVAL;
        if (pcs_ring_space(r, &free))
            return PC_EPROTO;
        if (free <= PCS_REC_HDR + 8)
            break;
        size_t chunk = free - PCS_REC_HDR - 8;
        if (chunk > pcs_ring_chunk_max(r))
            chunk = pcs_ring_chunk_max(r);
        if (chunk > left)
            chunk = left;
        if (chunk < left && chunk < PCS_SEND_PIECE_MIN)
            break;
        uint16_t more = chunk < left ? PCS_REC_MORE : 0;
        if (pcs_ring_put(r, m + *sent, (uint32_t)chunk, more))
            break;
        put++;
        *sent += chunk;
        if (!more) {
            *pos += (mlen + 7) & ~(size_t)7;
            *sent = 0;
        }
    }
    return put;
}

void pcs_ring_publish(pcs_ring *r)
{
    atomic_store_explicit(r->head, r->pos, memory_order_release);
}

int pcs_ring_next(pcs_ring *r, uint32_t *len, uint16_t *flags)
{
    if (r->seen - r->pos < PCS_REC_HDR) {
        uint64_t h = atomic_load_explicit(r->head, memory_order_acquire);
        if (h < r->seen || h - r->pos > r->size)
            return PC_EPROTO;
        r->seen = h;
        if (h - r->pos < PCS_REC_HDR)
            return h == r->pos ? PC_EAGAIN : PC_EPROTO;
    }
    uint8_t hdr[PCS_REC_HDR];
    ring_out(r, r->pos, hdr, sizeof hdr);
    uint32_t n = pcs_le32(hdr);
    uint16_t kind = pcs_le16(hdr + 4), f = pcs_le16(hdr + 6);
    if (kind != PCS_REC_CHUNK || (f & ~PCS_REC_MORE) || n > pcs_ring_chunk_max(r) ||
        rec_size(n) > r->seen - r->pos)
        return PC_EPROTO;
    *len = n;
    *flags = f;
    return 0;
}

void pcs_ring_take(pcs_ring *r, void *dst, uint32_t len)
{
    if (dst)
        ring_out(r, r->pos + PCS_REC_HDR, dst, len);
    r->pos += rec_size(len);
}

void pcs_ring_peek(const pcs_ring *r, void *dst, uint32_t n)
{
    ring_out(r, r->pos + PCS_REC_HDR, dst, n);
}

void pcs_ring_release(pcs_ring *r)
{
    atomic_store_explicit(r->tail, r->pos, memory_order_release);
}

void pcs_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms)
{
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, timeout_ms >= 0 ? &ts : NULL, NULL, 0);
}

void pcs_futex_wake(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, 1, NULL, NULL, 0);
}
