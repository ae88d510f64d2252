/*
 * client.h - the insides of pc_client and pc_read, shared by the files of
 * libclient.  Nothing here is installed.
 */
#ifndef PC_CLIENT_H
#define PC_CLIENT_H

#include <lmdb.h>
#include <stdbool.h>

#include "../shm/buf.h"
#include "../shm/channel.h"
#include "../shm/exec.h"
#include "../shm/frame.h"
#include "../shm/hello.h"
#include "../shm/read.h"
#include "../shm/reader.h"
#include "../shm/store.h"
#include "pycache.h"

#define PC__HIDDEN __attribute__((visibility("hidden")))

/* How a response fills the caller's out-parameter. */
enum pc__shape {
    PC__R_NONE,
    PC__R_INT,  /* int *      from an INT */
    PC__R_I64,  /* int64_t *  from an INT */
    PC__R_U64,  /* uint64_t * from an INT */
    PC__R_DBL,  /* double *   from a DOUBLE */
    PC__R_VAL,  /* pc_val *   the first value, or PC_NONE */
    PC__R_VALS, /* pc_val[max] and size_t *n */
    PC__R_ADD,  /* uint64_t * from an INT, added (pc_del_keys sums its deletes) */
    /* issue 16 */
    PC__R_THROTTLE, /* pc_throttle_info *  from five INTs */
    PC__R_FLIGHT,   /* pc_flight *  from four INTs and maybe a value */
    PC__R_FLAGS,    /* int[max]  from max INTs */
    /* issue 17 */
    PC__R_XID,      /* pc_xid *  from two INTs */
    PC__R_RESP,     /* pcs_resp *  the whole answer (calls that run at once) */
    PC__R_ZENTRIES, /* pc_zentry[max] and size_t *n  from member, score pairs (zset.c) */
    PC__R_ZBLOCK    /* pc__zblock *  from key, member, score (zset.c) */
};

/* pc_last_error()'s detail: room for two keys shown in 40 bytes each
 * (up to 4 characters a byte) and the words around them. */
#define PC__ERRMSG 704

/* A blocking pop's out-parameters (zset.c). */
typedef struct pc__zblock {
    pc_bytes *key;
    pc_zentry *e;
} pc__zblock;

/* What pc_last_error() tells: the last failure of a call on the client. */
typedef struct pc__err {
    int rc;                      /* the code the call returned (0: none failed yet) */
    const char *call;            /* its name, "pc_set" */
    bool has_detail;             /* detail was written by the call now returning */
    char detail[PC__ERRMSG];     /* what was wrong, where the library knows it */
    char text[PC__ERRMSG + 192]; /* pc_last_error's answer, made when asked */
} pc__err;

typedef struct pc__pend {
    uint8_t shape;
    void *out;
    size_t max;
    size_t *n;
} pc__pend;

enum pc__mode { PC__IDLE, PC__BATCH, PC__TXN };

/* pc_qpop_wait() and the other parked waits: how long past its timeout
 * the client waits for the daemon's own answer before it gives up on it
 * (and on the channel: the next call connects afresh).  Long enough for a
 * loaded daemon's late pass, short against a hung one. */
#define PC__QPOP_GRACE_MS 100

/* A channel to the daemon, client side. */
typedef struct pc__chan {
    int fd;
    void *map;
    size_t maplen;
    pcs_chan_hdr *hdr;
    pcs_ring req, resp;
    const pcs_dpage *dpage;
    bool ring_only;
    bool nonblock;
    bool broken;
    unsigned spin;            /* adaptive: spins before sleeping */
    _Atomic uint32_t *access; /* the daemon's access array (allkeys-lru/lfu), or NULL */
    bool lfu;
    uint32_t rnd; /* for the LFU coin */
} pc__chan;

/* Answers of ring-only reads, kept until pc_read_end (views point here). */
typedef struct pc__block {
    struct pc__block *next;
    pcs_buf b;
} pc__block;

struct pc_read {
    pc_client *c;
    bool active;
    pc__block *blocks; /* ring-only: answers handed out by this read */
    pcs_buf enc;       /* ring-only: a read request being encoded */
    pcs_reader zc;     /* zero-copy: the reader of st (pc__read_attach) */
};

struct pc_client {
    pc_client *abandoned_next; /* in a child after fork: pc_close keeps it here */
    pcs_store *st;             /* NULL for a ring-only client: it never maps the store */
    bool remote;               /* talks to the daemon */
    pc__chan ch;               /* remote: the channel */
    char *dir;                 /* remote: the store directory, to connect again */
    unsigned flags;            /* remote: PC_OPT_* as opened */
    int64_t timeout_ms;        /* remote: longest wait for the daemon (negative: none) */
    uint64_t store_id;         /* remote: the store the daemon serves, as it last said */
    bool stale_st;             /* remote: st is not that store; swap at the next read */
    bool ring_only;            /* remote: admitted ring-only (fixed at pc_connect) */
    uint64_t call_deadline;    /* remote: a fixed deadline for the next call (qpop-wait) */
    unsigned nshards;          /* the store's shape, as fixed at creation */
    uint64_t max_value;
    uint64_t map_size;
    unsigned max_readers;
    unsigned fork_gen; /* pcs_fork_gen when opened */
    int mode;          /* enum pc__mode */
    int queue_err;     /* a queued transaction op already failed: commit refuses */
    bool txn_keyed;    /* the transaction has a key: txn_key, in shard txn_shard */
    unsigned txn_shard;
    size_t txn_klen;
    uint8_t txn_key[PC_KEY_MAX];
    char queue_why[PC__ERRMSG]; /* queue_err's call and what was wrong, for the commit */
    pcs_buf req;                /* encoded request frames */
    pcs_buf resp;               /* response frames; write results point here */
    pc__pend *pend;
    size_t npend, pcap;
    size_t txn_start; /* offset of the transaction frame in req */
    pcs_wctx w;       /* embedded: the writer's context */
    pcs_req *reqs;    /* embedded: decoded requests */
    pcs_req **rptr;
    size_t *roff;
    size_t rcap;
    struct pc_read rd;
    pc__err err; /* pc_last_error() */
};

/* 0, or PC_EINVAL (NULL) / PC_EFORK for a client that must not be used.
 * A closed client is freed memory: nothing here can tell it (pycache.h). */
static inline int pc__usable(const pc_client *c)
{
    if (!c)
        return PC_EINVAL;
    return c->fork_gen != pcs_fork_gen ? PC_EFORK : 0;
}

static inline bool pc__ring_only(const pc_client *c)
{
    return c->remote && c->ring_only;
}

/* remote.c */
/* CLOCK_MONOTONIC in nanoseconds. */
PC__HIDDEN uint64_t pc__mono_ns(void);
/* The handshake; waits for the welcome until deadline (CLOCK_MONOTONIC ns,
 * UINT64_MAX: no limit). */
PC__HIDDEN int pc__chan_connect(const char *dir, unsigned flags, pc__chan *ch, pcs_welcome *w,
                                uint64_t deadline);
PC__HIDDEN void pc__chan_close(pc__chan *ch);
/* Send nframes request frames (frames[0..len)) and append their nframes
 * answers to out, each padded to 8 bytes.  Fails with PC_ETIMEDOUT when the
 * daemon shows no progress for idle_ms (negative: no limit) or the deadline
 * passes; then, as after PC_ECONNRESET, the channel is broken. */
PC__HIDDEN int pc__chan_call(pc__chan *ch, const uint8_t *frames, size_t len, size_t nframes,
                             pcs_buf *out, int64_t idle_ms, uint64_t deadline);

/* client.c: one call to the daemon on c's channel, connecting afresh first
 * when the channel is broken or its daemon is gone (writes wait up to the
 * client's timeout for a daemon to come back).  deadline: a fixed deadline
 * besides the client's timeout (UINT64_MAX: none). */
PC__HIDDEN int pc__call(pc_client *c, const uint8_t *frames, size_t len, size_t nframes,
                        pcs_buf *out, uint64_t deadline);
/* Daemon mode: connect afresh if the channel is broken or its daemon gone;
 * wait: retry until the client's timeout while no daemon answers. */
PC__HIDDEN int pc__reconnect(pc_client *c, bool wait);
/* Map the store with identity id, unless it is the one mapped; no read may
 * be active. */
PC__HIDDEN int pc__adopt_store(pc_client *c, uint64_t id);

/* rread.c: the ring-only versions of the reads */
PC__HIDDEN int pc__rr_get(pc_read *r, const void *key, size_t klen, pc_val *out);
PC__HIDDEN int pc__rr_int(pc_read *r, uint16_t op, const void *key, size_t klen, int64_t a1,
                          int nargs, int64_t *out);
PC__HIDDEN int pc__rr_getrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                               pc_val *out);
PC__HIDDEN int pc__rr_seqget(pc_read *r, const void *key, size_t klen, pc_type t, int64_t index,
                             pc_val *out);
PC__HIDDEN int pc__rr_seqrange(pc_read *r, const void *key, size_t klen, pc_type t, int64_t start,
                               int64_t stop, pc_val *out, size_t max, size_t *n);
PC__HIDDEN int pc__rr_hget(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                           pc_val *out);
PC__HIDDEN int pc__rr_sismember(pc_read *r, const void *key, size_t klen, const pc_val *m,
                                int *out);
PC__HIDDEN int pc__rr_scan(pc_read *r, uint16_t op, const void *key, size_t klen, int64_t how,
                           const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_bytes *fields,
                           pc_val *vals, size_t max, size_t *n);
PC__HIDDEN void pc__rr_release(pc_read *r);
/* R_TTL's second value: the expiry time (-1: none). */
PC__HIDDEN int pc__rr_expiretime(pc_read *r, const void *key, size_t klen, int64_t *at);
/* R_EXPIRED's second value: the live keys. */
PC__HIDDEN int pc__rr_dbsize(pc_read *r, uint64_t *n);
PC__HIDDEN int pc__rr_lpos(pc_read *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
                           uint64_t maxlen, uint64_t *pos, size_t max, size_t *n);
PC__HIDDEN int pc__rr_srandmember(pc_read *r, const void *key, size_t klen, int64_t count,
                                  pc_val *out, size_t max, size_t *n);
PC__HIDDEN int pc__rr_randomkey(pc_read *r, pc_bytes *key);
/* Issue 16: a read of op on key with nargs more arguments, its answer kept
 * until pc_read_end; *resp parsed (its rc still to be looked at). */
PC__HIDDEN int pc__rr_call(pc_read *r, uint16_t op, const void *key, size_t klen,
                           const pc_val *args, size_t nargs, pcs_resp *resp);

/* read.c: make c's reader read c->st (just opened), counting a daemon
 * client's lookups; pcs_reader_fini undoes it. */
PC__HIDDEN void pc__read_attach(pc_client *c);

/* Pass a write's result through: in a transaction, a refused write makes
 * the commit apply nothing (and return that write's code); a failure is
 * recorded for pc_last_error() under the call's name. */
PC__HIDDEN int pc__note(pc_client *c, const char *call, int rc);

/* Record for pc_last_error() that call failed with rc (nothing for 0 or a
 * NULL client); returns rc.  The detail pc__why gave during the call, if
 * any, goes with it. */
PC__HIDDEN int pc__done(pc_client *c, const char *call, int rc);
/* The same for a call on a read. */
static inline int pc__rdone(pc_read *r, const char *call, int rc)
{
    return rc && r ? pc__done(r->c, call, rc) : rc;
}
/* Say what was wrong, for pc_last_error(); returns rc. */
PC__HIDDEN int pc__why(pc_client *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Check a key argument: 0, or PC_EKEY with what was wrong (what: "key"). */
PC__HIDDEN int pc__key(pc_client *c, const char *what, const void *key, size_t klen);

/* helpers.c: a Flight answer (state, token, lease end, owner, maybe the
 * value) into out.  0 or PC_EPROTO. */
PC__HIDDEN int pc__flight_decode(const pcs_resp *r, pc_flight *out);

/* In a transaction, refuse (PC_ECROSSSHARD, with a message naming both
 * keys for pc_last_error) a key in another shard than the transaction's
 * first key; else 0. */
PC__HIDDEN int pc__txn_key(pc_client *c, const void *key, size_t klen);

/* stream.c (issue 17): answers of ring-only stream reads. */
PC__HIDDEN int pc__x_entries(const uint8_t **q, const uint8_t *end, size_t n, pc_xentry *out,
                             size_t max, size_t *got);
/* zset.c: fill a PC__R_ZENTRIES or PC__R_ZBLOCK out-parameter. */
PC__HIDDEN int pc__zfill(const pc__pend *p, const pcs_resp *r);

/* Keys k0 (named n0, as "src") and k1 (n1) of one shard: 0, or
 * PC_ECROSSSHARD with a message naming both keys, their shards and the
 * {tag} way.  Multi-key calls check every key against the first when they
 * are queued. */
PC__HIDDEN int pc__same_shard(pc_client *c, const char *n0, const void *k0, size_t l0,
                              const char *n1, const void *k1, size_t l1);

/* Begin encoding a write: a frame in c->req and its pending out-parameter. */
PC__HIDDEN int pc__op_begin(pc_client *c, uint16_t op, pcs_enc *e, pc__pend **p);
/* Begin a write on key: the client usable, the key valid (pc_last_error
 * says why not), the frame, the key as its first argument, the answer's
 * shape and out-parameter (NULL: the answer is not wanted). */
PC__HIDDEN int pc__op_key(pc_client *c, uint16_t op, const void *key, size_t klen, pcs_enc *e,
                          uint8_t shape, void *out);
/* Finish it.  Idle: run it now and return its result; queued: 0. */
PC__HIDDEN int pc__op_end(pc_client *c, pcs_enc *e, int rc);
/* Finish a request the daemon parks (a waiting pop or claim): add the
 * waiter's deadline, timeout_ms from now, and wait for the answer no longer
 * than that and PC__QPOP_GRACE_MS. */
PC__HIDDEN int pc__op_end_wait(pc_client *c, pcs_enc *e, int64_t timeout_ms);
/* The same for a request whose deadline is not its last argument: the
 * caller encoded an INT (0) there, at offset until_at of the request
 * buffer (its length before), and this sets it. */
PC__HIDDEN int pc__op_end_wait_at(pc_client *c, pcs_enc *e, int64_t timeout_ms, size_t until_at);
/* Embedded waits, with no daemon to wake them: call attempt(c, arg) until
 * it returns other than again, pausing 200 us doubling to 10 ms between
 * tries, for at most timeout_ms; then PC_ETIMEDOUT. */
PC__HIDDEN int pc__poll(pc_client *c, int64_t timeout_ms, int again,
                        int (*attempt)(pc_client *c, void *arg), void *arg);

/* Checks a read call makes before it reads: an open read of a client made
 * in this process. */
static inline int pc__read_ok(const pc_read *r)
{
    if (!r)
        return PC_EINVAL;
    if (!r->active)
        return pc__why(r->c, PC_EINVAL, "the read has ended (pc_read_end) or was never begun");
    return r->c->fork_gen != pcs_fork_gen ? PC_EFORK : 0;
}

#endif
