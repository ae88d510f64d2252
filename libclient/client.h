/*
 * client.h - the insides of pc_client and pc_read, shared by the files of
 * libclient.  Nothing here is installed.
 */
#ifndef PC_CLIENT_H
#define PC_CLIENT_H

#include <lmdb.h>
#include <stdbool.h>

#include "../shm/buf.h"
#include "../shm/exec.h"
#include "../shm/frame.h"
#include "../shm/read.h"
#include "../shm/store.h"
#include "pycache.h"

#define PC__HIDDEN __attribute__((visibility("hidden")))

/* How a response fills the caller's out-parameter. */
enum pc__shape {
    PC__R_NONE,
    PC__R_INT, /* int *      from an INT */
    PC__R_I64, /* int64_t *  from an INT */
    PC__R_U64, /* uint64_t * from an INT */
    PC__R_DBL, /* double *   from a DOUBLE */
    PC__R_VAL, /* pc_val *   the first value, or PC_NONE */
    PC__R_VALS /* pc_val[max] and size_t *n */
};

typedef struct pc__pend {
    uint8_t shape;
    void *out;
    size_t max;
    size_t *n;
} pc__pend;

enum pc__mode { PC__IDLE, PC__BATCH, PC__TXN };

struct pc_read {
    pc_client *c;
    bool active;
    uint64_t now;
    uint64_t live;     /* shards whose transaction is renewed in this read */
    uint64_t curlive;  /* shards whose members cursor is renewed */
    uint64_t kcurlive; /* shards whose keys cursor is renewed */
    MDB_txn *txn[PCS_SHARDS_MAX];
    MDB_cursor *cur[PCS_SHARDS_MAX];
    MDB_cursor *kcur[PCS_SHARDS_MAX];
};

struct pc_client {
    pcs_store *st;
    unsigned fork_gen; /* pcs_fork_gen when opened */
    bool closed;
    int mode;      /* enum pc__mode */
    int queue_err; /* a queued transaction op already failed: commit refuses */
    pcs_buf req;   /* encoded request frames */
    pcs_buf resp;  /* response frames; write results point here */
    pc__pend *pend;
    size_t npend, pcap;
    size_t txn_start; /* offset of the transaction frame in req */
    pcs_wctx w;       /* embedded: the writer's context */
    pcs_req *reqs;    /* embedded: decoded requests */
    pcs_req **rptr;
    size_t *roff;
    size_t rcap;
    struct pc_read rd;
};

/* 0, or PC_ECLOSED / PC_EFORK for a client that must not be used. */
static inline int pc__usable(const pc_client *c)
{
    if (!c)
        return PC_EINVAL;
    if (c->fork_gen != pcs_fork_gen)
        return PC_EFORK;
    return c->closed ? PC_ECLOSED : 0;
}

/* Begin encoding a write: a frame in c->req and its pending out-parameter. */
PC__HIDDEN int pc__op_begin(pc_client *c, uint16_t op, pcs_enc *e, pc__pend **p);
/* Finish it.  Idle: run it now and return its result; queued: 0. */
PC__HIDDEN int pc__op_end(pc_client *c, pcs_enc *e, int rc);

#endif
