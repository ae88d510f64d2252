/*
 * frame.h - the request and response frames that clients and the executor
 * exchange (through a ring in daemon mode, through a private buffer in
 * embedded mode).
 *
 * A frame is a 16-byte header followed by a payload; frames in a stream start
 * at 8-byte boundaries:
 *
 *     u32 len     whole frame, header included, padding excluded
 *     u16 op      PCS_OP_*
 *     u16 flags   0 (reserved)
 *     u64 id      chosen by the client, echoed in the response
 *
 * Request payload:  u32 argc, then argc tagged values.
 * Response payload: i32 rc, u32 nvals, then nvals tagged values.
 * A tagged value is u8 kind (pc_kind) then: NONE (a hole in a multi-value
 * answer; refused by every handler as an argument) and NIL nothing; BYTES u32
 * length and the bytes; INT 8 bytes; DOUBLE 8 bytes (IEEE-754); BOOL 1 byte
 * (0 or 1).
 * All integers are little-endian.
 *
 * A PCS_OP_TXN request carries u32 nsub, u32 0, then nsub request frames,
 * each 8-byte aligned; its response carries i32 rc, u32 nsub, u32 failed
 * index (0xffffffff: none), u32 0, then nsub response frames (none when the
 * transaction failed).
 *
 * Everything decoded here is input: the decoder checks every length against
 * the bytes it was given and never trusts a count.
 */
#ifndef PCS_FRAME_H
#define PCS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pycache.h"

#define PCS_FRAME_HDR 16u
/* Most arguments one request may carry (elements of one push or set). */
#define PCS_ARGC_MAX (1u << 20)
/* Most requests one transaction may carry (the client refuses more with
 * PC_ETXNSIZE when they are queued). */
#define PCS_TXN_MAX ((unsigned)PC_TXN_MAX)
/* A request frame may be this much larger than the store's largest value. */
#define PCS_FRAME_SLACK (1u << 20)

/* Operations.  The numbers are part of the protocol: append, never reuse. */
enum pcs_op {
    PCS_OP_SET = 1,
    PCS_OP_SETCOLL,
    PCS_OP_GETSET,
    PCS_OP_APPEND,
    PCS_OP_SETRANGE,
    PCS_OP_INCRBY,
    PCS_OP_INCRBYFLOAT,
    PCS_OP_DEL,
    PCS_OP_EXPIRE,
    PCS_OP_PERSIST,
    PCS_OP_LPUSH,
    PCS_OP_RPUSH,
    PCS_OP_LPOP,
    PCS_OP_RPOP,
    PCS_OP_LSET,
    PCS_OP_LTRIM,
    PCS_OP_LREM,
    PCS_OP_QPUSH,
    PCS_OP_QPOP,
    PCS_OP_HSET,
    PCS_OP_HDEL,
    PCS_OP_HINCRBY,
    PCS_OP_HINCRBYFLOAT,
    PCS_OP_SADD,
    PCS_OP_SREM,
    PCS_OP_SPOP,
    PCS_OP_REQ_ABSENT,  /* transaction condition: key absent */
    PCS_OP_REQ_VERSION, /* transaction condition: key version equals */
    PCS_OP_TXN,
    PCS_OP_QPOPW, /* qpop that the daemon parks until an element comes */
    /* Reads, for clients that do not map the store (ring-only). */
    PCS_OP_R_GET,
    PCS_OP_R_TYPE,
    PCS_OP_R_TTL,
    PCS_OP_R_VERSION,
    PCS_OP_R_STRLEN,
    PCS_OP_R_GETRANGE,
    PCS_OP_R_COUNT,
    PCS_OP_R_SEQGET,
    PCS_OP_R_SEQRANGE,
    PCS_OP_R_HGET,
    PCS_OP_R_HSCAN,
    PCS_OP_R_SISMEMBER,
    PCS_OP_R_SSCAN,
    PCS_OP_R_SALG,
    PCS_OP_R_SCAN,
    PCS_OP_R_EXPIRED,     /* count of expired keys not yet removed */
    PCS_OP_R_EXPIRY_SCAN, /* keys with their expiry, by time */
    /* Asked of the daemon itself (no key; argv[0] is empty bytes). */
    PCS_OP_A_EXPIRE_INTERVAL,
    PCS_OP_A_CLIENTS,
    /* A write without a key: argv[0] is the shard. */
    PCS_OP_PURGE,
    PCS_OP_A_SNAPSHOT,   /* answered when the snapshot is on disk */
    PCS_OP_A_TEST_ALLOC, /* tests only (PYCACHED_TEST_HOOKS=1): fail the N-th allocation */
    /* A write without a key: argv[0] is the shard.  Empties it (pc_flush). */
    PCS_OP_FLUSH,
    /* Writes of issue 13 (Redis's names). */
    PCS_OP_GETEX,   /* key, how (PCS_GETEX_*), ms: the value, then the TTL changed */
    PCS_OP_HSETNX,  /* key, field, value: 1 set, 0 the field existed */
    PCS_OP_LINSERT, /* key, before (0/1), pivot, value: the length, -1, 0 */
    PCS_OP_LMOVE,   /* source, destination, from left (0/1), to left (0/1) */
    PCS_OP_SMOVE,   /* source, destination, member: 1 moved, 0 not there */
    PCS_OP_RENAME,  /* key, new key, flags (PC_NX): 1 renamed, 0 not (NX) */
    /* Reads of ring-only clients, continued. */
    PCS_OP_R_LPOS,        /* key, value, rank, maxlen, max: positions */
    PCS_OP_R_SRANDMEMBER, /* key, count, max: members */
    PCS_OP_R_RANDOMKEY,   /* (empty bytes): a key */
    /* ---- issue 16: the helpers and the probabilistic types ---- */
    PCS_OP_THROTTLE, /* key, mode (PCS_THROTTLE_*), three numbers, quantity */
    PCS_OP_FC_CLAIM, /* single flight: a value or the lease (may park, as QPOPW) */
    PCS_OP_FC_FILL,
    PCS_OP_FC_RELEASE,
    PCS_OP_R_FLIGHT,    /* a ring-only read of a Flight key */
    PCS_OP_SETBIT,      /* key, offset, bit */
    PCS_OP_BITOP,       /* destination key, op (PC_BITOP_*), source keys */
    PCS_OP_R_GETBIT,    /* key, offset */
    PCS_OP_R_BITCOUNT,  /* key, start, end, flags (PC_BITS_*) */
    PCS_OP_R_BITPOS,    /* key, bit, start, end, flags */
    PCS_OP_R_BITLEN,    /* key */
    PCS_OP_BF_RESERVE,  /* key, error rate (DOUBLE), capacity, expansion, flags */
    PCS_OP_BF_ADD,      /* key, items */
    PCS_OP_R_BF_EXISTS, /* key, items */
    PCS_OP_R_BF_INFO,   /* key */
    /* ---- end of issue 16's block ---- */
    /* ---- issue 17: streams (t_stream.c, reader_stream.c) ---- */
    PCS_OP_XADD,         /* key, id mode, ms, seq, flags, trim (6), field, value, ... */
    PCS_OP_XTRIM,        /* key, trim: by, approx, maxlen, min ms, min seq, limit */
    PCS_OP_XDEL,         /* key, ms, seq, ... */
    PCS_OP_XGROUP,       /* key, subcommand, its arguments */
    PCS_OP_XREADGROUP,   /* key0, group, consumer, count, max, flags, wait, until, ms0, seq0,
                            then key, ms, seq ... (may park, as QPOPW) */
    PCS_OP_XREADW,       /* XREAD BLOCK: key0, count, max, wait, until, ms0, seq0, then
                            key, ms, seq ... (may park) */
    PCS_OP_XACK,         /* key, group, ms, seq, ... */
    PCS_OP_XCLAIM,       /* key, group, consumer, min idle, options (9), ms, seq, ... */
    PCS_OP_XAUTOCLAIM,   /* key, group, consumer, min idle, start ms, seq, count, justid */
    PCS_OP_R_XINFO,      /* key: the stream's figures */
    PCS_OP_R_XRANGE,     /* key, lo ms, lo seq, hi ms, hi seq, rev, max */
    PCS_OP_R_XPENDING,   /* key, group, summary (1) and max; or 0, lo, hi, min idle,
                            consumer (NIL: any), max */
    PCS_OP_R_XGROUPS,    /* key, max */
    PCS_OP_R_XCONSUMERS, /* key, group, max */
    /* ---- end of issue 17's streams block ---- */
    /* ---- issue 17: sorted sets ---- */
    PCS_OP_ZADD,        /* key, flags (PCS_ZADD_*), then score (DOUBLE), member pairs */
    PCS_OP_ZREM,        /* key, members */
    PCS_OP_ZPOP,        /* key, max (0 lowest first, 1 highest), count */
    PCS_OP_BZPOP,       /* key, max, ms, deadline (as QPOPW's; 0: none), more keys (parks) */
    PCS_OP_ZREMRANGE,   /* key, range (PCS_ZSPEC_ARGS values, zset.h) */
    PCS_OP_ZRANGESTORE, /* destination, source, range */
    PCS_OP_ZSTORE,      /* destination, how (PCS_ZSTORE_*), aggregate, then key, weight pairs */
    PCS_OP_R_ZSCORE,    /* key, members: a DOUBLE, or NONE, each */
    PCS_OP_R_ZRANK,     /* key, member, rev: rank, score */
    PCS_OP_R_ZCOUNT,    /* key, range: how many */
    PCS_OP_R_ZRANGE,    /* key, range, cursor, max: cursor, then member, score pairs */
    /* ---- end of issue 17's sorted sets ---- */
    PCS_OP__COUNT
};

/* PCS_OP_GETEX's how. */
enum {
    PCS_GETEX_KEEP = 0,    /* the TTL stays */
    PCS_GETEX_TTL = 1,     /* ms: a TTL, 1..PC_TTL_MAX_MS */
    PCS_GETEX_AT = 2,      /* ms: an expiry time (ms since the epoch); past: delete */
    PCS_GETEX_PERSIST = 3, /* remove the TTL */
    PCS_GETEX_DEL = 4      /* delete the key (GETDEL) */
};

/* PCS_OP_THROTTLE's modes. */
enum { PCS_THROTTLE_GCRA = 0, PCS_THROTTLE_WINDOW = 1 };

/* Issue 16's reads of ring-only clients. */
static inline int pcs_op_is_read16(unsigned op)
{
    return op == PCS_OP_R_FLIGHT || (op >= PCS_OP_R_GETBIT && op <= PCS_OP_R_BITLEN) ||
           op == PCS_OP_R_BF_EXISTS || op == PCS_OP_R_BF_INFO;
}

/* Issue 17's stream reads of ring-only clients. */
static inline int pcs_op_is_read17x(unsigned op)
{
    return op >= PCS_OP_R_XINFO && op <= PCS_OP_R_XCONSUMERS;
}

/* Writes the daemon may park until a write or their deadline: a queue's
 * or a sorted set's waiting pop, a flight claim behind a lease, a stream
 * read with BLOCK (daemon/loop.c's parks() says when). */
static inline int pcs_op_parks(unsigned op)
{
    return op == PCS_OP_QPOPW || op == PCS_OP_FC_CLAIM || op == PCS_OP_BZPOP ||
           op == PCS_OP_XREADGROUP || op == PCS_OP_XREADW;
}

/* Issue 17's reads of ring-only clients (sorted sets). */
static inline int pcs_op_is_read17z(unsigned op)
{
    return op >= PCS_OP_R_ZSCORE && op <= PCS_OP_R_ZRANGE;
}

/* Ops the daemon answers itself, after the pass's commit (reads of ring-only
 * clients, admin questions), rather than through the executor. */
static inline int pcs_op_is_read(unsigned op)
{
    return (op >= PCS_OP_R_GET && op <= PCS_OP_A_CLIENTS) || op == PCS_OP_A_SNAPSHOT ||
           op == PCS_OP_A_TEST_ALLOC || (op >= PCS_OP_R_LPOS && op <= PCS_OP_R_RANDOMKEY) ||
           pcs_op_is_read16(op) || pcs_op_is_read17x(op) || pcs_op_is_read17z(op);
}

/* Reads of the store (PCS_OP_R_*): what a peer with the read role may ask. */
static inline int pcs_op_is_store_read(unsigned op)
{
    return (op >= PCS_OP_R_GET && op <= PCS_OP_R_EXPIRY_SCAN) ||
           (op >= PCS_OP_R_LPOS && op <= PCS_OP_R_RANDOMKEY) || pcs_op_is_read16(op) ||
           pcs_op_is_read17x(op) || pcs_op_is_read17z(op);
}

/* The name of an op ("set", "lpush", ...) or NULL. */
const char *pcs_op_name(unsigned op);

typedef struct pcs_req {
    uint16_t op;
    uint16_t flags;
    uint64_t id;
    uint32_t argc;
    pc_val *argv; /* argv_small or allocated; views into the frame */
    pc_val argv_small[4];
    uint32_t nsub; /* PCS_OP_TXN: the requests inside */
    struct pcs_req *subs;
} pcs_req;

/* ---- encoding (client side) ---- */

typedef struct pcs_enc {
    pcs_buf *b;
    size_t start; /* offset of the frame header in b */
    uint32_t argc;
} pcs_enc;

void pcs_enc_begin(pcs_enc *e, pcs_buf *b, uint16_t op, uint64_t id);
void pcs_enc_val(pcs_enc *e, const pc_val *v);
void pcs_enc_bytes(pcs_enc *e, const void *p, size_t n);
void pcs_enc_int(pcs_enc *e, int64_t i);
void pcs_enc_double(pcs_enc *e, double d);
/* Patch the header and argc, pad to 8.  Returns b->err. */
int pcs_enc_end(pcs_enc *e);

/* A transaction frame: begin, then encode whole request frames into the same
 * buffer, then end with their count. */
size_t pcs_enc_txn_begin(pcs_buf *b, uint64_t id);
int pcs_enc_txn_end(pcs_buf *b, size_t start, uint32_t nsub);

/* ---- decoding (executor side) ---- */

/*
 * Decode the request frame in p[0..len) (a private copy: views point into
 * it).  len must be the frame's own length.  Returns 0, PC_EPROTO for a
 * malformed frame, PC_ENOMEM.  On error rq needs no pcs_req_free.
 */
int pcs_req_decode(const uint8_t *p, size_t len, pcs_req *rq);
void pcs_req_free(pcs_req *rq);

/* Read the header at p (at least PCS_FRAME_HDR bytes). */
static inline uint32_t pcs_frame_len(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline size_t pcs_align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ---- responses ---- */

/* Begin a response frame; values follow with pcs_out_*; end patches it. */
size_t pcs_resp_begin(pcs_buf *b, uint16_t op, uint64_t id);
void pcs_out_val(pcs_buf *b, const pc_val *v);
void pcs_out_int(pcs_buf *b, int64_t i);
void pcs_out_double(pcs_buf *b, double d);
void pcs_out_bytes(pcs_buf *b, const void *p, size_t n);
/* Drop the values written since start and make the response an error. */
void pcs_resp_fail(pcs_buf *b, size_t start, int rc);
/* Patch rc and the value count; pads to 8.  Returns b->err. */
int pcs_resp_end(pcs_buf *b, size_t start, int rc, uint32_t nvals);

/* The most bytes pcs_resp_error writes. */
#define PCS_RESP_ERROR_MAX 32u
/* Write into f a whole response to a request of op and id that carries rc
 * alone, as pcs_resp_begin and pcs_resp_end make it (a transaction's with
 * no failed index and no responses inside).  Needs no memory; returns its
 * length, padded to 8. */
size_t pcs_resp_error(uint8_t f[PCS_RESP_ERROR_MAX], uint16_t op, uint64_t id, int rc);

/* A parsed response (client side); values stay in the buffer. */
typedef struct pcs_resp {
    uint16_t op;
    uint64_t id;
    int32_t rc;
    uint32_t nvals;
    const uint8_t *vals; /* nvals tagged values (or a TXN body) */
    const uint8_t *end;
} pcs_resp;

/* Parse the response frame at p with avail bytes; *size gets its padded size. */
int pcs_resp_parse(const uint8_t *p, size_t avail, pcs_resp *r, size_t *size);
/* Decode one tagged value at *p (< end), advancing *p.  Returns 0 or PC_EPROTO. */
int pcs_val_decode(const uint8_t **p, const uint8_t *end, pc_val *v);

#endif
