/*
 * record.c - encode and decode the store's records, elements and keys.
 * Everything decoded here came from the map: check, never assert.
 */
#include "record.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "bytes.h"

void pcs_bf_layer_dec(const pcs_rec *r, unsigned i, pcs_bf_layer *l)
{
    const uint8_t *p = r->data + (size_t)i * PCS_BF_LAYER;
    l->capacity = pcs_le64(p);
    l->items = pcs_le64(p + 8);
    l->bits = pcs_le64(p + 16);
    l->hashes = pcs_le32(p + 24);
    l->error = pcs_u2d(pcs_le64(p + 32));
}

void pcs_bf_layer_enc(uint8_t *p, const pcs_bf_layer *l)
{
    pcs_put_le64(p, l->capacity);
    pcs_put_le64(p + 8, l->items);
    pcs_put_le64(p + 16, l->bits);
    pcs_put_le32(p + 24, l->hashes);
    pcs_put_le32(p + 28, 0);
    pcs_put_le64(p + 32, pcs_d2u(l->error));
}

/* A Bloom record's payload (b[0..left)), every figure checked. */
static int bloom_decode(const uint8_t *b, size_t left, pcs_rec *r)
{
    if (left < PCS_BF_FIXED || (r->flags & PCS_RF_DOUBLE))
        return PC_ECORRUPT;
    r->gen = pcs_le64(b);
    r->bf_error = pcs_u2d(pcs_le64(b + 8));
    r->bf_capacity = pcs_le64(b + 16);
    r->bf_expansion = pcs_le32(b + 24);
    r->bf_flags = pcs_le32(b + 28);
    r->count = pcs_le64(b + 32);
    r->bf_layers = pcs_le32(b + 40);
    r->data = b + PCS_BF_FIXED;
    r->dlen = left - PCS_BF_FIXED;
    if (!(r->bf_error > 0 && r->bf_error < 1) || r->bf_capacity == 0 || r->bf_expansion == 0 ||
        (r->bf_flags & ~PCS_BF_NONSCALING) || pcs_le32(b + 44) || r->bf_layers == 0 ||
        r->bf_layers > PCS_BF_MAX_LAYERS || r->dlen != (size_t)r->bf_layers * PCS_BF_LAYER)
        return PC_ECORRUPT;
    uint64_t items = 0;
    for (unsigned i = 0; i < r->bf_layers; i++) {
        pcs_bf_layer l;
        pcs_bf_layer_dec(r, i, &l);
        if (l.capacity == 0 || l.items > l.capacity || l.bits == 0 || l.bits > PCS_BF_MAX_BITS ||
            l.hashes == 0 || l.hashes > PCS_BF_MAX_HASHES || !(l.error > 0 && l.error < 1) ||
            __builtin_add_overflow(items, l.items, &items))
            return PC_ECORRUPT;
    }
    return items == r->count ? 0 : PC_ECORRUPT;
}

static pc_xid xid_le(const uint8_t *b)
{
    return pc_xid_make(pcs_le64(b), pcs_le64(b + 8));
}

/* A Stream record's payload (issue 17; stream.h). */
static int stream_decode(const uint8_t *b, size_t left, pcs_rec *r)
{
    if (left != PCS_XS_FIXED || (r->flags & PCS_RF_DOUBLE))
        return PC_ECORRUPT;
    r->gen = pcs_le64(b);
    r->count = pcs_le64(b + 8);
    r->xs_last = xid_le(b + 16);
    r->xs_first = xid_le(b + 32);
    r->xs_maxdel = xid_le(b + 48);
    r->xs_added = pcs_le64(b + 64);
    r->xs_groups = pcs_le64(b + 72);
    if (r->count > r->xs_added || pc_xid_cmp(r->xs_first, r->xs_last) > 0 ||
        pc_xid_cmp(r->xs_maxdel, r->xs_last) > 0)
        return PC_ECORRUPT;
    return 0;
}

int pcs_rec_decode(const void *p, size_t n, pcs_rec *r)
{
    const uint8_t *b = p, *end = b + n;
    if (n < 9)
        return PC_ECORRUPT;
    memset(r, 0, sizeof *r);
    r->type = (pc_type)(b[0] & 0x0f);
    r->flags = b[0] & 0xf0;
    if (r->type == PC_T_NONE || r->type >= PC_T__COUNT || (r->flags & ~PCS_RF_KNOWN))
        return PC_ECORRUPT;
    r->version = pcs_le64(b + 1);
    b += 9;
    if (r->flags & PCS_RF_TTL) {
        if (end - b < 8)
            return PC_ECORRUPT;
        r->expire_at = pcs_le64(b);
        b += 8;
        if (r->expire_at == 0)
            return PC_ECORRUPT;
    }
    size_t left = (size_t)(end - b);
    switch (r->type) {
    case PC_T_STRING:
        if (r->flags & PCS_RF_DOUBLE)
            return PC_ECORRUPT;
        r->data = b;
        r->dlen = left;
        return 0;
    case PC_T_NUMERIC:
        if (left != 8)
            return PC_ECORRUPT;
        if (r->flags & PCS_RF_DOUBLE) {
            r->num.kind = PC_DOUBLE;
            r->num.d = pcs_u2d(pcs_le64(b));
        } else {
            r->num.kind = PC_INT;
            r->num.i = (int64_t)pcs_le64(b);
        }
        return 0;
    case PC_T_LIST:
    case PC_T_QUEUE:
        if (left != 32 || (r->flags & PCS_RF_DOUBLE))
            return PC_ECORRUPT;
        r->gen = pcs_le64(b);
        r->count = pcs_le64(b + 8);
        r->head = pcs_le64(b + 16);
        r->tail = pcs_le64(b + 24);
        if (r->tail < r->head || r->tail - r->head != r->count || r->count == 0)
            return PC_ECORRUPT;
        return 0;
    case PC_T_FLIGHT:
        if (left < PCS_FLIGHT_FIXED || (r->flags & PCS_RF_DOUBLE))
            return PC_ECORRUPT;
        r->fresh_until = pcs_le64(b);
        r->stale_until = pcs_le64(b + 8);
        r->token = pcs_le64(b + 16);
        r->lease_until = pcs_le64(b + 24);
        r->owner = (int64_t)pcs_le64(b + 32);
        r->data = b + PCS_FLIGHT_FIXED;
        r->dlen = left - PCS_FLIGHT_FIXED;
        r->val.kind = PC_NONE;
        if (r->fresh_until == 0) /* no value: then a lease */
            return r->dlen || r->stale_until || !r->token ? PC_ECORRUPT : 0;
        if (r->stale_until < r->fresh_until)
            return PC_ECORRUPT;
        return pcs_elem_decode(r->data, r->dlen, &r->val);
    case PC_T_BLOOM:
        return bloom_decode(b, left, r);
    case PC_T_STREAM:
        return stream_decode(b, left, r);
    case PC_T_BITS:
        if (left != 24 || (r->flags & PCS_RF_DOUBLE))
            return PC_ECORRUPT;
        r->gen = pcs_le64(b);
        r->nbytes = pcs_le64(b + 8);
        r->count = pcs_le64(b + 16);
        if (r->nbytes == 0 || r->nbytes > PCS_BITS_MAX / 8 ||
            r->count > (r->nbytes + PCS_CHUNK - 1) / PCS_CHUNK)
            return PC_ECORRUPT;
        return 0;
    case PC_T_ZSET:
        if (left != 24 || (r->flags & PCS_RF_DOUBLE))
            return PC_ECORRUPT;
        r->gen = pcs_le64(b);
        r->count = pcs_le64(b + 8);
        r->zheight = pcs_le32(b + 16);
        if (r->count == 0 || r->zheight == 0 || r->zheight > 16 || pcs_le32(b + 20))
            return PC_ECORRUPT;
        return 0;
    case PC_T_MAP:
    case PC_T_SET:
        if (left != 16 || (r->flags & PCS_RF_DOUBLE))
            return PC_ECORRUPT;
        r->gen = pcs_le64(b);
        r->count = pcs_le64(b + 8);
        if (r->count == 0)
            return PC_ECORRUPT;
        return 0;
    default:
        return PC_ECORRUPT;
    }
}

size_t pcs_rec_encode_head(uint8_t *out, const pcs_rec *r)
{
    uint8_t flags = r->flags & PCS_RF_DOUBLE;
    if (r->expire_at)
        flags |= PCS_RF_TTL;
    if (r->type == PC_T_NUMERIC)
        flags = (uint8_t)((flags & PCS_RF_TTL) | (r->num.kind == PC_DOUBLE ? PCS_RF_DOUBLE : 0));
    uint8_t *b = out;
    *b++ = (uint8_t)(r->type | flags);
    pcs_put_le64(b, r->version);
    b += 8;
    if (r->expire_at) {
        pcs_put_le64(b, r->expire_at);
        b += 8;
    }
    switch (r->type) {
    case PC_T_NUMERIC:
        pcs_put_le64(b, r->num.kind == PC_DOUBLE ? pcs_d2u(r->num.d) : (uint64_t)r->num.i);
        b += 8;
        break;
    case PC_T_LIST:
    case PC_T_QUEUE:
        pcs_put_le64(b, r->gen);
        pcs_put_le64(b + 8, r->count);
        pcs_put_le64(b + 16, r->head);
        pcs_put_le64(b + 24, r->tail);
        b += 32;
        break;
    case PC_T_MAP:
    case PC_T_SET:
        pcs_put_le64(b, r->gen);
        pcs_put_le64(b + 8, r->count);
        b += 16;
        break;
    case PC_T_ZSET:
        pcs_put_le64(b, r->gen);
        pcs_put_le64(b + 8, r->count);
        pcs_put_le32(b + 16, r->zheight);
        pcs_put_le32(b + 20, 0);
        b += 24;
        break;
    case PC_T_BLOOM:
        pcs_put_le64(b, r->gen);
        pcs_put_le64(b + 8, pcs_d2u(r->bf_error));
        pcs_put_le64(b + 16, r->bf_capacity);
        pcs_put_le32(b + 24, r->bf_expansion);
        pcs_put_le32(b + 28, r->bf_flags);
        pcs_put_le64(b + 32, r->count);
        pcs_put_le32(b + 40, r->bf_layers);
        pcs_put_le32(b + 44, 0);
        b += PCS_BF_FIXED;
        break;
    case PC_T_STREAM:
        pcs_put_le64(b, r->gen);
        pcs_put_le64(b + 8, r->count);
        pcs_put_le64(b + 16, r->xs_last.ms);
        pcs_put_le64(b + 24, r->xs_last.seq);
        pcs_put_le64(b + 32, r->xs_first.ms);
        pcs_put_le64(b + 40, r->xs_first.seq);
        pcs_put_le64(b + 48, r->xs_maxdel.ms);
        pcs_put_le64(b + 56, r->xs_maxdel.seq);
        pcs_put_le64(b + 64, r->xs_added);
        pcs_put_le64(b + 72, r->xs_groups);
        b += PCS_XS_FIXED;
        break;
    case PC_T_BITS:
        pcs_put_le64(b, r->gen);
        pcs_put_le64(b + 8, r->nbytes);
        pcs_put_le64(b + 16, r->count);
        b += 24;
        break;
    case PC_T_FLIGHT:
        pcs_put_le64(b, r->fresh_until);
        pcs_put_le64(b + 8, r->stale_until);
        pcs_put_le64(b + 16, r->token);
        pcs_put_le64(b + 24, r->lease_until);
        pcs_put_le64(b + 32, (uint64_t)r->owner);
        b += PCS_FLIGHT_FIXED;
        break;
    default:
        break;
    }
    return (size_t)(b - out);
}

size_t pcs_elem_size(const pc_val *v)
{
    switch (v->kind) {
    case PC_BYTES:
        return 1 + v->s.len;
    case PC_INT:
    case PC_DOUBLE:
        return 9;
    case PC_BOOL:
        return 2;
    default:
        return 1;
    }
}

void pcs_elem_encode(uint8_t *out, const pc_val *v)
{
    out[0] = (uint8_t)v->kind;
    switch (v->kind) {
    case PC_BYTES:
        if (v->s.len)
            memcpy(out + 1, v->s.ptr, v->s.len);
        break;
    case PC_INT:
        pcs_put_le64(out + 1, (uint64_t)v->i);
        break;
    case PC_DOUBLE:
        pcs_put_le64(out + 1, pcs_d2u(v->d));
        break;
    case PC_BOOL:
        out[1] = v->b ? 1 : 0;
        break;
    default:
        out[0] = PC_NIL;
        break;
    }
}

int pcs_elem_decode(const uint8_t *p, size_t n, pc_val *v)
{
    if (n < 1)
        return PC_ECORRUPT;
    switch (p[0]) {
    case PC_NIL:
        if (n != 1)
            return PC_ECORRUPT;
        v->kind = PC_NIL;
        v->i = 0;
        return 0;
    case PC_BYTES:
        v->kind = PC_BYTES;
        v->s.ptr = p + 1;
        v->s.len = n - 1;
        return 0;
    case PC_INT:
    case PC_DOUBLE:
        if (n != 9)
            return PC_ECORRUPT;
        v->kind = (pc_kind)p[0];
        if (p[0] == PC_INT)
            v->i = (int64_t)pcs_le64(p + 1);
        else
            v->d = pcs_u2d(pcs_le64(p + 1));
        return 0;
    case PC_BOOL:
        if (n != 2 || p[1] > 1)
            return PC_ECORRUPT;
        v->kind = PC_BOOL;
        v->b = p[1] != 0;
        return 0;
    default:
        return PC_ECORRUPT;
    }
}

bool pcs_val_equal(const pc_val *a, const pc_val *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PC_BYTES:
        return a->s.len == b->s.len && (a->s.len == 0 || !memcmp(a->s.ptr, b->s.ptr, a->s.len));
    case PC_INT:
        return a->i == b->i;
    case PC_DOUBLE:
        return a->d == b->d;
    case PC_BOOL:
        return a->b == b->b;
    default:
        return true;
    }
}

int pcs_val_check(const pc_val *v, uint64_t max_value)
{
    switch (v->kind) {
    case PC_NIL:
    case PC_INT:
    case PC_BOOL:
        return 0;
    case PC_BYTES:
        if (v->s.len && !v->s.ptr)
            return PC_EINVAL;
        return v->s.len <= max_value ? 0 : PC_ETOOBIG;
    case PC_DOUBLE:
        return isfinite(v->d) ? 0 : PC_ENAN;
    default:
        return PC_EINVAL;
    }
}

int pcs_scalar_check(const pc_val *v, uint64_t max_value)
{
    if (v->kind != PC_BYTES && v->kind != PC_INT && v->kind != PC_DOUBLE)
        return PC_EINVAL;
    return pcs_val_check(v, max_value);
}

/* Order-preserving forms for set members. */
static uint64_t int_key(int64_t i)
{
    return (uint64_t)i ^ (UINT64_C(1) << 63);
}
static uint64_t dbl_key(double d)
{
    if (d == 0)
        d = 0; /* -0.0 and 0.0 are one member */
    uint64_t u = pcs_d2u(d);
    return (u >> 63) ? ~u : u ^ (UINT64_C(1) << 63);
}
static double dbl_unkey(uint64_t k)
{
    uint64_t u = (k >> 63) ? k ^ (UINT64_C(1) << 63) : ~k;
    return pcs_u2d(u);
}

size_t pcs_member_size(const pc_val *v)
{
    return pcs_elem_size(v);
}

void pcs_member_encode(uint8_t *out, const pc_val *v)
{
    switch (v->kind) {
    case PC_INT:
        out[0] = PC_INT;
        pcs_put_be64(out + 1, int_key(v->i));
        break;
    case PC_DOUBLE:
        out[0] = PC_DOUBLE;
        pcs_put_be64(out + 1, dbl_key(v->d));
        break;
    default:
        pcs_elem_encode(out, v);
        break;
    }
}

int pcs_member_decode(const uint8_t *p, size_t n, pc_val *v)
{
    if (n == 9 && p[0] == PC_INT) {
        v->kind = PC_INT;
        v->i = (int64_t)(pcs_be64(p + 1) ^ (UINT64_C(1) << 63));
        return 0;
    }
    if (n == 9 && p[0] == PC_DOUBLE) {
        v->kind = PC_DOUBLE;
        v->d = dbl_unkey(pcs_be64(p + 1));
        return 0;
    }
    return pcs_elem_decode(p, n, v);
}

size_t pcs_mkey_pos(uint8_t *out, uint64_t gen, uint64_t pos)
{
    pcs_put_be64(out, gen);
    pcs_put_be64(out + 8, pos);
    return 16;
}

size_t pcs_mkey_sub(uint8_t *out, uint64_t gen, const void *sub, size_t n, bool *is_long)
{
    pcs_put_be64(out, gen);
    if (n < PCS_SUB_INLINE) {
        if (n)
            memcpy(out + PCS_GEN_LEN, sub, n);
        *is_long = false;
        return PCS_GEN_LEN + n;
    }
    memcpy(out + PCS_GEN_LEN, sub, PCS_SUB_PREFIX);
    XXH128_hash_t h = XXH3_128bits(sub, n);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(out + PCS_GEN_LEN + PCS_SUB_PREFIX, c.digest, PCS_DIGEST_LEN);
    *is_long = true;
    return PCS_GEN_LEN + PCS_SUB_INLINE;
}

size_t pcs_xkey(uint8_t *out, uint64_t expire_at, const void *key, size_t klen)
{
    pcs_put_be64(out, expire_at);
    memcpy(out + 8, key, klen);
    return 8 + klen;
}

int pcs_xkey_decode(const void *k, size_t n, uint64_t *expire_at, const uint8_t **key, size_t *klen)
{
    if (n < 9 || n > PCS_XKEY_MAX)
        return PC_ECORRUPT;
    *expire_at = pcs_be64(k);
    *key = (const uint8_t *)k + 8;
    *klen = n - 8;
    return 0;
}

unsigned pcs_shard_of(unsigned nshards, const void *key, size_t klen)
{
    if (nshards <= 1)
        return 0;
    const char *k = key;
    const char *open = memchr(k, '{', klen);
    if (open) {
        size_t rest = klen - (size_t)(open - k) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1) {
            k = open + 1;
            klen = (size_t)(close - k);
        }
    }
    return (unsigned)(XXH3_64bits(k, klen) % nshards);
}
