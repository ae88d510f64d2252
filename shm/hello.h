/*
 * hello.h - the handshake on the daemon's Unix socket.
 *
 * The socket is DIR/pycached.sock, SOCK_SEQPACKET.  The client sends one
 * pcs_hello; the daemon checks the peer's credentials (SO_PEERCRED), and
 * answers one pcs_welcome.  When status is 0 the welcome carries two file
 * descriptors (SCM_RIGHTS): the client's channel (a sealed memfd) and the
 * daemon's page (a memfd the client can only map read-only).  The socket then
 * stays open: the client writes a byte on it to wake a sleeping daemon, and
 * its end tells each side the other is gone.
 */
#ifndef PCS_HELLO_H
#define PCS_HELLO_H

#include <stdint.h>

#define PCS_SOCK_NAME "pycached.sock"
#define PCS_HELLO_MAGIC UINT64_C(0x4f4c4c4548435950)   /* "PYCHELLO" */
#define PCS_WELCOME_MAGIC UINT64_C(0x454d4f434c435950) /* "PYCLCOME" */
/* 2: the welcome names the store (store_id); 3: the hello carries the client's pid;
 * 4: issue 16 (new types and ops; 128 op counters and 10 type counts on the
 * daemon's page); 5: issue 17's streams and sorted sets (their ops; 12
 * type counts) */
#define PCS_PROTO_VERSION 5

/* pcs_hello.flags */
#define PCS_HELLO_RING_ONLY 1u /* the client will not map the store */

typedef struct pcs_hello {
    uint64_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t ring_size; /* 0: the daemon's default */
    uint32_t pid;       /* the client's getpid(), in its own pid namespace (the daemon
                           checks it against SO_PEERCRED, never trusts it) */
} pcs_hello;

/* pcs_welcome.mode */
#define PCS_PEER_TRUSTED 1   /* maps the store, reads zero-copy */
#define PCS_PEER_RING_ONLY 2 /* reads through the channel */

typedef struct pcs_welcome {
    uint64_t magic;
    uint32_t version;
    int32_t status; /* 0 or a PC_E* code (then no fds and the socket closes) */
    uint32_t mode;
    uint32_t ring_size;
    uint64_t client_id;
    uint64_t map_size;
    uint64_t max_value;
    uint32_t shards;
    uint32_t max_readers;
    uint32_t format;
    uint32_t policy;   /* pc_policy: allkeys-lru/lfu come with a third fd, the access array */
    uint64_t store_id; /* the store's identity (meta "id"): changes when it is made anew */
} pcs_welcome;

_Static_assert(sizeof(pcs_hello) == 24, "hello is 24 bytes");
_Static_assert(sizeof(pcs_welcome) == 72, "welcome is 72 bytes");

#endif
