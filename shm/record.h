/*
 * record.h - how values sit in the store's LMDB databases.
 *
 * keys     user key -> record:
 *            u8  type (pc_type, low nibble) | flags (high nibble)
 *            u64 version (LE): the shard's sequence number at the last write
 *            u64 expire_at (LE, ms since the epoch), present iff PCS_RF_TTL
 *            payload:
 *              String   the bytes
 *              Numeric  8 bytes: int64, or a double when PCS_RF_DOUBLE
 *              List,Queue  u64 gen, u64 count, u64 head, u64 tail (LE)
 *              Map,Set     u64 gen, u64 count (LE)
 *              Flight   u64 fresh_until, u64 stale_until (ms since the epoch;
 *                       0, 0: no value), u64 token (0: no lease), u64
 *                       lease_until (ms), i64 owner (pid), then the value
 *                       as a tagged element when it has one (LE)
 *              Bits     u64 gen, u64 bytes (the array's length: its highest
 *                       byte + 1), u64 chunks (how many are stored) (LE)
 *              Bloom    u64 gen, f64 error rate, u64 capacity, u32
 *                       expansion, u32 flags (1: non-scaling), u64 items,
 *                       u32 layers, u32 0, then per layer (PCS_BF_LAYER
 *                       bytes): u64 capacity, u64 items, u64 bits, u32
 *                       hashes, u32 0, f64 error rate (LE)
 *              Stream   u64 gen, u64 length, last ID (u64 ms, u64 seq),
 *                       first ID, largest deleted ID, u64 entries added,
 *                       u64 consumer groups (LE); see stream.h
 *              ZSet     u64 gen, u64 count, u32 height, u32 0 (LE): zset.h
 * members  be64 gen ‖ subkey -> element.  gen is unique within the shard
 *          (taken from the shard's sequence), so a collection's members form
 *          one contiguous range, and dropping a collection only needs its gen
 *          put on the sweep list.
 *            List/Queue  subkey = be64 position (head..tail-1), element = tagged
 *            Map         subkey = field; element = tagged value
 *            Set         subkey = encoded member; element = empty
 *            Bits        subkey = be64 (layer << 32 | chunk), element = the
 *                        chunk's bytes (PCS_CHUNK of the array from chunk *
 *                        PCS_CHUNK on, trailing zero bytes cut; an all-zero
 *                        chunk is not stored); layer 0
 *            Bloom       the same, layer n holding layer n's bits
 *            Stream      entries, groups, pending entries and consumers,
 *                        each under its own tag byte (stream.h)
 *            ZSet        members, the score index and its counts: zset.h
 *          A field or encoded member of PCS_SUB_INLINE bytes or more is "long":
 *          its subkey is its first PCS_SUB_PREFIX bytes ‖ XXH3-128 of all of
 *          it (exactly PCS_SUB_INLINE bytes), and the element keeps the full
 *          bytes: Map u32 length ‖ field ‖ tagged value; Set encoded member.
 * expiry   be64 expire_at ‖ user key -> empty: the keys with a TTL, by time.
 * sweep    be64 gen -> empty: collections dropped whose members remain.
 * meta     name -> value: format, shards, shard, max_value, max_readers,
 *          created, seq.
 *
 * A tagged element is u8 kind (pc_kind) ‖ payload: NIL none, BYTES the bytes,
 * INT/DOUBLE 8 bytes LE, BOOL 1 byte.  An encoded set member is the same but
 * sorts by value: INT big-endian with the sign bit flipped, DOUBLE in an
 * order-preserving big-endian form.
 */
#ifndef PCS_RECORD_H
#define PCS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pycache.h"

#define PCS_RF_TTL 0x10
#define PCS_RF_DOUBLE 0x20
#define PCS_RF_KNOWN (PCS_RF_TTL | PCS_RF_DOUBLE)

#define PCS_GEN_LEN 8
#define PCS_SUB_INLINE 480 /* subkeys this long or longer go under a digest */
#define PCS_SUB_PREFIX 464
#define PCS_DIGEST_LEN 16
#define PCS_MKEY_MAX (PCS_GEN_LEN + PCS_SUB_INLINE)
#define PCS_XKEY_MAX (8 + PC_KEY_MAX)
#define PCS_REC_HEAD_MAX (1 + 8 + 8 + PCS_XS_FIXED)
/* A Stream record's payload (issue 17). */
#define PCS_XS_FIXED 80
/* A Flight record's fixed part. */
#define PCS_FLIGHT_FIXED 40
/* Lists start here so they can grow both ways. */
#define PCS_LIST_ORIGIN (UINT64_C(1) << 63)

static inline bool pcs_is_coll(pc_type t)
{
    return t == PC_T_LIST || t == PC_T_MAP || t == PC_T_SET || t == PC_T_QUEUE;
}
static inline bool pcs_is_seq(pc_type t)
{
    return t == PC_T_LIST || t == PC_T_QUEUE;
}

/* A decoded record; pointers are views into the record's bytes. */
typedef struct pcs_rec {
    pc_type type;
    uint8_t flags;
    uint64_t version;
    uint64_t expire_at;  /* 0: no TTL */
    const uint8_t *data; /* String: the bytes */
    size_t dlen;
    pc_val num;                      /* Numeric */
    uint64_t gen, count, head, tail; /* collections */
    /* Flight: the value's freshness and hard end, the lease; data/dlen
     * hold the value's tagged element (val decoded) when fresh_until != 0. */
    uint64_t fresh_until, stale_until, token, lease_until;
    int64_t owner;
    pc_val val;
    uint64_t nbytes; /* Bits: the array's length in bytes (count: chunks stored) */
    /* Bloom: its settings, items (in count), and layers (their table in
     * data/dlen, PCS_BF_LAYER bytes each: pcs_bf_layer_dec). */
    double bf_error;
    uint64_t bf_capacity;
    uint32_t bf_expansion, bf_flags, bf_layers;
    /* Stream: its length (in count), last, first and largest deleted IDs,
     * entries ever added, consumer groups (stream.h). */
    pc_xid xs_last, xs_first, xs_maxdel;
    uint64_t xs_added, xs_groups;
    uint32_t zheight; /* ZSet: its index's levels (zset.h) */
} pcs_rec;

/* Bloom filters. */
#define PCS_BF_FIXED 48
#define PCS_BF_LAYER 40
#define PCS_BF_MAX_LAYERS 32
#define PCS_BF_MAX_BITS (UINT64_C(1) << 40) /* per layer */
#define PCS_BF_MAX_HASHES 64
#define PCS_BF_NONSCALING 1u

typedef struct pcs_bf_layer {
    uint64_t capacity, items, bits;
    uint32_t hashes;
    double error;
} pcs_bf_layer;

/* Layer i of a decoded Bloom record (i < r->bf_layers). */
void pcs_bf_layer_dec(const pcs_rec *r, unsigned i, pcs_bf_layer *l);
/* Encode a layer into p (PCS_BF_LAYER bytes). */
void pcs_bf_layer_enc(uint8_t *p, const pcs_bf_layer *l);

/* Bits: bytes per stored chunk; offsets below 2^32 bits (Redis's limit). */
#define PCS_CHUNK 1024u
#define PCS_BITS_MAX (UINT64_C(1) << 32)

/* Types whose record owns members under its gen. */
static inline bool pcs_has_members(pc_type t)
{
    return pcs_is_coll(t) || t == PC_T_BITS || t == PC_T_BLOOM || t == PC_T_STREAM ||
           t == PC_T_ZSET;
}

/* Decode a record.  Returns 0 or PC_ECORRUPT. */
int pcs_rec_decode(const void *p, size_t n, pcs_rec *r);
/* Encode everything but a String's bytes into out (PCS_REC_HEAD_MAX bytes);
 * returns the length.  flags and expire_at must agree (PCS_RF_TTL). */
size_t pcs_rec_encode_head(uint8_t *out, const pcs_rec *r);
static inline bool pcs_rec_expired(const pcs_rec *r, uint64_t now_ms)
{
    return r->expire_at != 0 && r->expire_at <= now_ms;
}

/* Tagged elements. */
size_t pcs_elem_size(const pc_val *v);
void pcs_elem_encode(uint8_t *out, const pc_val *v);
int pcs_elem_decode(const uint8_t *p, size_t n, pc_val *v);
/* Equal kind and value (bytes compared byte by byte; doubles by value). */
bool pcs_val_equal(const pc_val *a, const pc_val *b);

/* Checks shared by clients (at once, for bad input) and the executor. */
/* An element of a collection: any kind but PC_NONE; bytes up to max_value;
 * a finite double.  0, PC_EINVAL, PC_ETOOBIG or PC_ENAN. */
int pcs_val_check(const pc_val *v, uint64_t max_value);
/* A String or Numeric value. */
int pcs_scalar_check(const pc_val *v, uint64_t max_value);
/* A TTL argument: 0 (none) or 1..PC_TTL_MAX_MS.  0 or PC_EINVAL. */
static inline int pcs_ttl_check(int64_t ttl)
{
    return ttl >= 0 && ttl <= PC_TTL_MAX_MS ? 0 : PC_EINVAL;
}

/* Encoded set members. */
size_t pcs_member_size(const pc_val *v);
void pcs_member_encode(uint8_t *out, const pc_val *v);
int pcs_member_decode(const uint8_t *p, size_t n, pc_val *v);

/* Member keys.  out must hold PCS_MKEY_MAX bytes; each returns the length. */
size_t pcs_mkey_pos(uint8_t *out, uint64_t gen, uint64_t pos);
/* sub (a field or an encoded member) under gen; *is_long tells whether it
 * went under a digest. */
size_t pcs_mkey_sub(uint8_t *out, uint64_t gen, const void *sub, size_t n, bool *is_long);
static inline uint64_t pcs_mkey_gen(const void *k)
{
    const uint8_t *b = k;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

/* Expiry index key: out must hold PCS_XKEY_MAX bytes. */
size_t pcs_xkey(uint8_t *out, uint64_t expire_at, const void *key, size_t klen);
/* Decode an expiry index key (as a cursor returns it): its time and the user
 * key it names (a view into k).  0, or PC_ECORRUPT when the length is not
 * 8 + 1..PC_KEY_MAX. */
int pcs_xkey_decode(const void *k, size_t n, uint64_t *expire_at, const uint8_t **key,
                    size_t *klen);

/* Key to shard: XXH3 of the {tag} if the key has a non-empty one, else of
 * the whole key. */
unsigned pcs_shard_of(unsigned nshards, const void *key, size_t klen);

#endif
