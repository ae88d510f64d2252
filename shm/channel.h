/*
 * channel.h - the shared memory between one client and the daemon, and the
 * daemon's page that every client maps read-only.
 *
 * A channel is a memfd the daemon creates per connection and seals against
 * resizing: a header page, then a request ring (client -> daemon), then a
 * response ring (daemon -> client).  Each ring is a single-producer,
 * single-consumer byte ring of `ring_size` bytes (a power of two) with
 * free-running 64-bit head (producer) and tail (consumer) counters on their
 * own cache lines.  A ring carries records, 8-byte aligned:
 *
 *     u32 len     payload bytes (at most ring_size / 4)
 *     u16 kind    PCS_REC_CHUNK
 *     u16 flags   PCS_REC_MORE: the message continues in the next record
 *     payload     a chunk of one message (a request or response frame)
 *
 * The client can write anything into its channel.  So the daemon keeps its
 * own copy of every counter it owns (req tail, resp head), reads the
 * client's counters once per pass, checks them against the ring, copies a
 * record out before looking at it (once, into the buffer it is then checked
 * and decoded from), and treats any inconsistency as a protocol error that
 * closes that one client.
 *
 * Every field says who writes it; the other side only reads it.
 */
#ifndef PCS_CHANNEL_H
#define PCS_CHANNEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pycache.h"

#define PCS_CHAN_MAGIC UINT64_C(0x314e414843435950) /* "PYCCHAN1" */
#define PCS_CHAN_VERSION 1
#define PCS_CHAN_HDR 4096u
#define PCS_RING_MIN (64u << 10)
#define PCS_RING_MAX (64u << 20)
#define PCS_RING_DEFAULT (1u << 20)

#define PCS_REC_HDR 8u
#define PCS_REC_CHUNK 1
#define PCS_REC_MORE 1

#define PCS_CL 64
#define PCS_OPS_MAX 128 /* PCS_OP__COUNT stays below this (checked in frame.c) */

typedef struct pcs_chan_hdr {
    /* Written by the daemon before the channel is handed over; constant. */
    uint64_t magic;
    uint32_t version;
    uint32_t hdr_size;  /* PCS_CHAN_HDR */
    uint32_t ring_size; /* bytes in each ring */
    uint32_t reserved;
    uint64_t client_id;
    uint8_t pad0[PCS_CL - 32];
    _Alignas(PCS_CL) _Atomic uint64_t req_head;  /* client: bytes published */
    _Alignas(PCS_CL) _Atomic uint64_t req_tail;  /* daemon: bytes consumed */
    _Alignas(PCS_CL) _Atomic uint64_t resp_head; /* daemon: bytes published */
    _Alignas(PCS_CL) _Atomic uint64_t resp_tail; /* client: bytes consumed */
    /* Client sleeps on client_wake (a futex); it sets client_waiting first,
     * and the daemon bumps client_wake and wakes it only when that is set. */
    _Alignas(PCS_CL) _Atomic uint32_t client_wake; /* daemon */
    _Atomic uint32_t client_waiting;               /* client */
    /* Counters the client keeps of its own zero-copy reads (the daemon sums
     * them into its stats; it never trusts them for anything else). */
    _Alignas(PCS_CL) _Atomic uint64_t reads_hit; /* client */
    _Atomic uint64_t reads_miss;                 /* client */
} pcs_chan_hdr;

_Static_assert(sizeof(pcs_chan_hdr) <= PCS_CHAN_HDR, "channel header fits its page");
_Static_assert(offsetof(pcs_chan_hdr, req_head) % PCS_CL == 0, "req_head on its own line");
_Static_assert(offsetof(pcs_chan_hdr, req_tail) == offsetof(pcs_chan_hdr, req_head) + PCS_CL,
               "req_tail on its own line");
_Static_assert(offsetof(pcs_chan_hdr, resp_tail) ==
                   offsetof(pcs_chan_hdr, req_head) + 3 * (size_t)PCS_CL,
               "ring counters one line each");

/*
 * The daemon's page: one memfd per daemon, mapped writable by the daemon
 * alone; clients get it sealed with F_SEAL_FUTURE_WRITE, so they can only map
 * it read-only.  It carries the daemon's sleep flag, its statistics (the
 * store's, then each shard's) and its liveness word.
 */
#define PCS_DPAGE_MAGIC UINT64_C(0x3145474150435950) /* "PYCPAGE1" */
#define PCS_DPAGE_VERSION 3 /* 2: the liveness word; 3: the shards' statistics */
#define PCS_DPAGE_SIZE 32768u

/* The liveness word, as the kernel keeps a robust futex (futex(2)). */
#define PCS_LIVE_TID_MASK 0x3fffffffu
#define PCS_LIVE_OWNER_DIED 0x40000000u

typedef struct pcs_dpage {
    uint64_t magic;      /* daemon, constant */
    uint32_t version;    /* daemon, constant */
    uint32_t pid;        /* daemon, constant */
    uint64_t started_ms; /* daemon, constant */
    uint8_t pad0[PCS_CL - 24];
    /* 1 while the daemon sleeps in epoll: a client that publishes requests
     * then sends one byte on its socket to wake it. */
    _Alignas(PCS_CL) _Atomic uint32_t sleeping; /* daemon */
    /* The statistics, under a sequence lock: odd while the daemon writes. */
    _Alignas(PCS_CL) _Atomic uint32_t stats_seq; /* daemon */
    _Alignas(PCS_CL) pc_stats stats;             /* daemon */
    /* Each shard's writer, under the same lock (stats.shards of them). */
    _Alignas(PCS_CL) pc_shard_stats shard_stats[PC_SHARDS_STATS_MAX]; /* daemon */
    /*
     * Is the daemon alive?  A robust, process-shared mutex that the daemon's
     * main thread locks at start and never unlocks while it serves.  Its
     * first word holds the owner's thread id; when the daemon dies in any
     * way, kill -9 included, the kernel marks it PCS_LIVE_OWNER_DIED as the
     * process exits, before its descriptors (and so the flock on
     * pycached.pid that a new daemon needs) are released; a daemon that
     * stops cleanly unlocks it (the word becomes 0) before it lets go of
     * the flock.  Clients read the word (one load, no system call) before
     * every read: a word without a live owner means the store they map may
     * no longer be served.  See pcs_daemon_alive().
     */
    _Alignas(PCS_CL) union {
        pthread_mutex_t mu; /* daemon */
        uint32_t word;      /* clients read this (atomically) */
    } live;
} pcs_dpage;

/* The daemon that made this page still serves (see pcs_dpage.live). */
static inline bool pcs_daemon_alive(const pcs_dpage *dp)
{
    uint32_t w =
        atomic_load_explicit((const _Atomic uint32_t *)&dp->live.word, memory_order_acquire);
    return (w & PCS_LIVE_TID_MASK) != 0 && !(w & PCS_LIVE_OWNER_DIED);
}

_Static_assert(PC_STATS_OPS >= PCS_OPS_MAX, "every op has a stats counter");

_Static_assert(sizeof(pcs_dpage) <= PCS_DPAGE_SIZE, "daemon page fits");

/* One direction of a channel, as one side sees it. */
typedef struct pcs_ring {
    uint8_t *data;
    uint32_t size;
    _Atomic uint64_t *head; /* producer's counter */
    _Atomic uint64_t *tail; /* consumer's counter */
    uint64_t pos;           /* private: our own counter (head if we produce, tail if we consume) */
    uint64_t seen;          /* private: the other side's counter as last checked */
} pcs_ring;

/* Size of a channel memfd for a ring size. */
static inline size_t pcs_chan_size(uint32_t ring_size)
{
    return PCS_CHAN_HDR + 2 * (size_t)ring_size;
}

/* Fill a fresh channel's header (daemon). */
void pcs_chan_init(void *base, uint32_t ring_size, uint64_t client_id);
/* Check a mapped channel's header (client): 0 or PC_EPROTO. */
int pcs_chan_check(const void *base, size_t maplen);
/* Set up the two rings over a freshly made channel, as either side sees
 * them: req is the ring the client produces into, resp the one the daemon
 * does.  Both sides' private counters start at 0, as a fresh channel's do
 * (a channel is never set up again once used), so client_side (nonzero on
 * the client) changes nothing. */
void pcs_chan_rings(void *base, int client_side, pcs_ring *req, pcs_ring *resp);

/* ---- producing ---- */

/* Free bytes, refreshing the consumer's counter: 0, or PC_EPROTO (with
 * *free untouched) if the consumer's counter is impossible: behind what it
 * was, or past what we produced. */
int pcs_ring_space(pcs_ring *r, size_t *free);
/* Write one record (len <= pcs_ring_chunk_max) if it fits: 0, PC_EAGAIN, or
 * PC_EPROTO from pcs_ring_space.  Not visible to the consumer until
 * pcs_ring_publish. */
int pcs_ring_put(pcs_ring *r, const void *p, uint32_t len, uint16_t flags);
void pcs_ring_publish(pcs_ring *r);
static inline uint32_t pcs_ring_chunk_max(const pcs_ring *r)
{
    return r->size / 4;
}
/* A piece of a message shorter than the rest of it is only written when at
 * least this long: a nearly full ring is waited out, not trickled into. */
#define PCS_SEND_PIECE_MIN 4096u
/*
 * Write messages from buf[*pos, len) into the ring, as much as it has room
 * for now.  buf holds whole messages, each beginning with its u32 length (a
 * frame header) and padded to 8 bytes; *pos is where one begins, and *sent
 * bytes of that one are already in the ring.  Each message goes as one
 * record when it fits, else in pieces (PCS_REC_MORE) of at most
 * pcs_ring_chunk_max and at least PCS_SEND_PIECE_MIN but the last.  On
 * return *pos and *sent say where the next call goes on.  Returns how many
 * records were written (0: no room), PC_EPROTO from pcs_ring_space, or
 * PC_EINVAL for a length that does not fit buf.  Not visible to the
 * consumer until pcs_ring_publish.
 */
int pcs_ring_send(pcs_ring *r, const uint8_t *buf, size_t len, size_t *pos, size_t *sent);

/* ---- consuming ---- */

/*
 * Look at the next record: 0 with *len and *flags, PC_EAGAIN when none is
 * there, PC_EPROTO when the producer's counter or the record header is
 * impossible (the caller closes the peer).  Refreshes the producer's counter
 * only when the private view runs dry.
 */
int pcs_ring_next(pcs_ring *r, uint32_t *len, uint16_t *flags);
/* Copy the payload of the record pcs_ring_next found (len bytes, its whole
 * length), then step past it.  With dst NULL the payload is dropped. */
void pcs_ring_take(pcs_ring *r, void *dst, uint32_t len);
/* Copy the first n bytes (n at most its length) of the record pcs_ring_next
 * found, without stepping past it. */
void pcs_ring_peek(const pcs_ring *r, void *dst, uint32_t n);
/* Make what was taken reusable by the producer. */
void pcs_ring_release(pcs_ring *r);
/* Bytes published and not yet taken, as of the last refresh. */
static inline uint64_t pcs_ring_pending(const pcs_ring *r)
{
    return r->seen - r->pos;
}

/* ---- futex ---- */

/* Wait while *w == val, at most timeout_ms (shared futex). */
void pcs_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms);
void pcs_futex_wake(_Atomic uint32_t *w);
/* One cheap CPU hint for spin loops. */
static inline void pcs_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
