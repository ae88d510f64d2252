/*
 * test_channel.c - the channel's rings and wake protocol (shm/channel.c),
 * in one process with two threads over a real memfd channel:
 *
 *  - a client-side thread streams messages of random sizes (up to three
 *    times the ring, in chunks of at most ring/4 with PCS_REC_MORE) through
 *    the request ring; a daemon-side thread reassembles them and checks them
 *    byte for byte.  The client sleeps on the channel's futex when the ring
 *    is full (client_waiting / client_wake), the daemon sleeps on a socket
 *    when it is empty (the daemon page's `sleeping` and a wake byte), both as
 *    docs/protocol.md says;
 *  - the same through the response ring, the client sleeping on the futex
 *    when it is empty;
 *  - no wait ever runs into its timeout: a wake-up that got lost fails;
 *  - pcs_ring_next / pcs_ring_space return PC_EPROTO for impossible
 *    counters and record headers, pcs_ring_put refuses what cannot be, and
 *    records that wrap around the end of the ring come back whole;
 *  - pcs_ring_send (the daemon's answers) delivers a queue of messages
 *    whole and in order through a ring with little room, in pieces of the
 *    sizes it promises, and writes nothing when it cannot;
 *  - pcs_chan_check refuses a header that does not fit its mapping.
 *
 * Also run under ThreadSanitizer (--enable-tsan).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../shm/channel.h"
#include "pycache.h"

/* The fences below are the protocol's (docs/protocol.md); ThreadSanitizer
 * does not model fences and says so for every one, which is noise here: the
 * data itself is ordered by the rings' release/acquire counters. */
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#define RING (64u << 10)
#define WAIT_MS 2000 /* a wait this long means a lost wake-up */

/* ---- a seeded PRNG and message contents ---- */

static uint64_t mix(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Byte i of message seq. */
static void fill(uint8_t *p, size_t n, uint64_t seq)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = mix(seq * UINT64_C(0x100000001b3) + i);
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
}

/* Size of message seq: mostly small, some about a ring, some up to three. */
static size_t msg_size(uint64_t seq)
{
    uint64_t r = mix(seq ^ UINT64_C(0x5eed));
    switch (r % 10) {
    case 0:
        return 16 + (size_t)((r >> 8) % (3 * RING));
    case 1:
    case 2:
        return 16 + (size_t)((r >> 8) % RING);
    default:
        return 16 + (size_t)((r >> 8) % 2048);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the channel, as both sides see it ---- */

typedef struct chan {
    int memfd;
    void *map;
    size_t maplen;
    pcs_chan_hdr *hdr;
    pcs_dpage *dpage;     /* the daemon's page: `sleeping` */
    int sock[2];          /* [0] client's end (wake bytes), [1] daemon's */
    pcs_ring creq, cresp; /* the client's view */
    pcs_ring dreq, dresp; /* the daemon's view */
    uint64_t nmsgs;
    /* what the threads report */
    _Atomic int failed;
    char why[256];
    _Atomic unsigned long lost_wakes, client_sleeps, daemon_sleeps;
    _Atomic uint64_t bytes;
} chan;

static void chan_fail(chan *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void chan_fail(chan *ch, const char *fmt, ...)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&ch->failed, &expected, 1))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ch->why, sizeof ch->why, fmt, ap);
    va_end(ap);
}

static void chan_open(chan *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->memfd = memfd_create("test-channel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(ch->memfd >= 0);
    ch->maplen = pcs_chan_size(RING);
    assert_int_equal(ftruncate(ch->memfd, (off_t)ch->maplen), 0);
    assert_int_equal(fcntl(ch->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
    /* One mapping for both threads (two would hide the sharing from TSan). */
    ch->map = mmap(NULL, ch->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, ch->memfd, 0);
    assert_true(ch->map != MAP_FAILED);
    pcs_chan_init(ch->map, RING, 1);
    assert_int_equal(pcs_chan_check(ch->map, ch->maplen), 0);
    ch->hdr = ch->map;
    pcs_chan_rings(ch->map, 0, &ch->dreq, &ch->dresp);
    pcs_chan_rings(ch->map, 1, &ch->creq, &ch->cresp);
    ch->dpage =
        mmap(NULL, PCS_DPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(ch->dpage != MAP_FAILED);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch->sock), 0);
}

static void chan_close(chan *ch)
{
    munmap(ch->map, ch->maplen);
    munmap(ch->dpage, PCS_DPAGE_SIZE);
    close(ch->memfd);
    close(ch->sock[0]);
    close(ch->sock[1]);
}

/* ---- the wake protocol (docs/protocol.md, "Waking") ---- */

/* Client: publish, then ring the daemon's socket if it sleeps. */
static void client_publish(chan *ch, pcs_ring *r)
{
    pcs_ring_publish(r);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ch->dpage->sleeping, memory_order_relaxed))
        send(ch->sock[0], "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Daemon: after consuming or publishing, wake the client if it waits. */
static void daemon_wake(chan *ch)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ch->hdr->client_waiting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&ch->hdr->client_wake, 1, memory_order_release);
        pcs_futex_wake(&ch->hdr->client_wake);
    }
}

/* Client: sleep until ready(ch) (the daemon made room or answered). */
static void client_wait(chan *ch, bool (*ready)(chan *))
{
    for (int spin = 0; spin < 200; spin++) {
        if (ready(ch))
            return;
        pcs_cpu_relax();
    }
    for (;;) {
        uint32_t w = atomic_load_explicit(&ch->hdr->client_wake, memory_order_acquire);
        atomic_store_explicit(&ch->hdr->client_waiting, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        if (ready(ch)) {
            atomic_store_explicit(&ch->hdr->client_waiting, 0, memory_order_relaxed);
            return;
        }
        atomic_fetch_add(&ch->client_sleeps, 1);
        uint64_t t0 = now_ms();
        pcs_futex_wait(&ch->hdr->client_wake, w, WAIT_MS);
        atomic_store_explicit(&ch->hdr->client_waiting, 0, memory_order_relaxed);
        if (now_ms() - t0 >= WAIT_MS - 100 && ready(ch))
            atomic_fetch_add(&ch->lost_wakes, 1); /* it was there and nobody said so */
        if (ready(ch) || atomic_load(&ch->failed))
            return;
    }
}

/* Daemon: sleep until the request ring has something (or a wake byte). */
static void daemon_sleep(chan *ch)
{
    atomic_store_explicit(&ch->dpage->sleeping, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(ch->dreq.head, memory_order_acquire) == ch->dreq.pos) {
        atomic_fetch_add(&ch->daemon_sleeps, 1);
        struct pollfd pf = {.fd = ch->sock[1], .events = POLLIN};
        uint64_t t0 = now_ms();
        int n = poll(&pf, 1, WAIT_MS);
        if (n == 0 && atomic_load_explicit(ch->dreq.head, memory_order_acquire) != ch->dreq.pos &&
            now_ms() - t0 >= WAIT_MS - 100)
            atomic_fetch_add(&ch->lost_wakes, 1);
        char b[64];
        while (recv(ch->sock[1], b, sizeof b, MSG_DONTWAIT) > 0)
            ;
    }
    atomic_store_explicit(&ch->dpage->sleeping, 0, memory_order_seq_cst);
}

/* ---- sending and receiving messages in chunks ---- */

/* Put message m (len bytes) into ring r, chunk by chunk; when there is no
 * room call wait().  Chunk sizes vary with seq so records land everywhere. */
static int send_msg(chan *ch, pcs_ring *r, const uint8_t *m, size_t len, uint64_t seq,
                    void (*publish)(chan *, pcs_ring *), void (*wait)(chan *))
{
    size_t sent = 0, cmax = pcs_ring_chunk_max(r);
    uint64_t k = 0;
    while (sent < len) {
        size_t free;
        int rc = pcs_ring_space(r, &free);
        if (rc) {
            chan_fail(ch, "pcs_ring_space: %s", pc_err_name(rc));
            return -1;
        }
        size_t want = 1 + (size_t)(mix(seq * 31 + k++) % cmax);
        size_t chunk = len - sent < want ? len - sent : want;
        if (free < PCS_REC_HDR + ((chunk + 7) & ~(size_t)7)) {
            publish(ch, r);
            wait(ch);
            if (atomic_load(&ch->failed))
                return -1;
            continue;
        }
        rc = pcs_ring_put(r, m + sent, (uint32_t)chunk, sent + chunk < len ? PCS_REC_MORE : 0);
        if (rc) {
            chan_fail(ch, "pcs_ring_put with room: %s", pc_err_name(rc));
            return -1;
        }
        sent += chunk;
        if (k % 4 == 0)
            publish(ch, r); /* publish now and then within a message too */
    }
    publish(ch, r);
    return 0;
}

/* Take one whole message from ring r into buf; when empty call wait(). */
static int recv_msg(chan *ch, pcs_ring *r, uint8_t *buf, size_t cap, size_t *len,
                    void (*release)(chan *, pcs_ring *), void (*wait)(chan *))
{
    *len = 0;
    for (;;) {
        uint32_t n;
        uint16_t flags;
        int rc = pcs_ring_next(r, &n, &flags);
        if (rc == PC_EAGAIN) {
            wait(ch);
            if (atomic_load(&ch->failed))
                return -1;
            continue;
        }
        if (rc) {
            chan_fail(ch, "pcs_ring_next: %s at %" PRIu64, pc_err_name(rc), r->pos);
            return -1;
        }
        if (*len + n > cap) {
            chan_fail(ch, "a message longer than any sent");
            return -1;
        }
        pcs_ring_take(r, buf + *len, n);
        *len += n;
        release(ch, r);
        if (!(flags & PCS_REC_MORE))
            return 0;
    }
}

/* Check a received message: its header says seq and length; every byte. */
static void check_msg(chan *ch, const uint8_t *buf, size_t len, uint64_t want_seq, uint8_t *scratch)
{
    uint64_t seq, mlen;
    if (len < 16) {
        chan_fail(ch, "message %" PRIu64 ": %zu bytes", want_seq, len);
        return;
    }
    memcpy(&seq, buf, 8);
    memcpy(&mlen, buf + 8, 8);
    if (seq != want_seq || mlen != len || len != msg_size(seq)) {
        chan_fail(ch, "message %" PRIu64 ": got seq %" PRIu64 " of %zu bytes (says %" PRIu64 ")",
                  want_seq, seq, len, mlen);
        return;
    }
    fill(scratch, len - 16, seq);
    if (memcmp(buf + 16, scratch, len - 16)) {
        size_t i = 0;
        while (buf[16 + i] == scratch[i])
            i++;
        chan_fail(ch, "message %" PRIu64 " differs at byte %zu of %zu", seq, 16 + i, len);
        return;
    }
    atomic_fetch_add(&ch->bytes, len);
}

static void make_msg(uint8_t *m, uint64_t seq, size_t *len)
{
    *len = msg_size(seq);
    uint64_t l64 = *len;
    memcpy(m, &seq, 8);
    memcpy(m + 8, &l64, 8);
    fill(m + 16, *len - 16, seq);
}

#define MSG_CAP (3 * RING + 16)

/* ---- phase 1: requests, client -> daemon ---- */

static bool req_room(chan *ch)
{
    /* room for a whole chunk record (or the daemon stopped on failure) */
    size_t free;
    if (pcs_ring_space(&ch->creq, &free))
        return true;
    return free >= pcs_ring_chunk_max(&ch->creq) + PCS_REC_HDR + 8 || atomic_load(&ch->failed);
}

static void req_wait(chan *ch)
{
    client_wait(ch, req_room);
}

static void req_release(chan *ch, pcs_ring *r)
{
    pcs_ring_release(r);
    daemon_wake(ch);
}

static void *req_client(void *arg)
{
    chan *ch = arg;
    uint8_t *m = malloc(MSG_CAP);
    if (!m) {
        chan_fail(ch, "out of memory");
        return NULL;
    }
    for (uint64_t seq = 0; seq < ch->nmsgs && !atomic_load(&ch->failed); seq++) {
        size_t len;
        make_msg(m, seq, &len);
        if (send_msg(ch, &ch->creq, m, len, seq, client_publish, req_wait))
            break;
    }
    free(m);
    return NULL;
}

static void *req_daemon(void *arg)
{
    chan *ch = arg;
    uint8_t *buf = malloc(MSG_CAP), *scratch = malloc(MSG_CAP);
    if (!buf || !scratch) {
        chan_fail(ch, "out of memory");
        free(buf);
        free(scratch);
        return NULL;
    }
    for (uint64_t seq = 0; seq < ch->nmsgs && !atomic_load(&ch->failed); seq++) {
        size_t len;
        if (recv_msg(ch, &ch->dreq, buf, MSG_CAP, &len, req_release, daemon_sleep))
            break;
        check_msg(ch, buf, len, seq, scratch);
    }
    free(buf);
    free(scratch);
    return NULL;
}

/* ---- phase 2: responses, daemon -> client ---- */

static bool resp_ready(chan *ch)
{
    return atomic_load_explicit(ch->cresp.head, memory_order_acquire) != ch->cresp.pos ||
           atomic_load(&ch->failed);
}

static void resp_wait(chan *ch)
{
    client_wait(ch, resp_ready);
}

static void resp_publish(chan *ch, pcs_ring *r)
{
    pcs_ring_publish(r);
    daemon_wake(ch);
}

/* The daemon never sleeps on a full response ring: it keeps the answers and
 * comes back on its next pass. */
static void resp_room_wait(chan *ch)
{
    (void)ch;
    sched_yield();
}

static void resp_release(chan *ch, pcs_ring *r)
{
    (void)ch;
    pcs_ring_release(r);
}

static void *resp_daemon(void *arg)
{
    chan *ch = arg;
    uint8_t *m = malloc(MSG_CAP);
    if (!m) {
        chan_fail(ch, "out of memory");
        return NULL;
    }
    for (uint64_t seq = 0; seq < ch->nmsgs && !atomic_load(&ch->failed); seq++) {
        size_t len;
        make_msg(m, seq, &len);
        if (send_msg(ch, &ch->dresp, m, len, seq, resp_publish, resp_room_wait))
            break;
    }
    free(m);
    return NULL;
}

static void *resp_client(void *arg)
{
    chan *ch = arg;
    uint8_t *buf = malloc(MSG_CAP), *scratch = malloc(MSG_CAP);
    if (!buf || !scratch) {
        chan_fail(ch, "out of memory");
        free(buf);
        free(scratch);
        return NULL;
    }
    for (uint64_t seq = 0; seq < ch->nmsgs && !atomic_load(&ch->failed); seq++) {
        size_t len;
        if (recv_msg(ch, &ch->cresp, buf, MSG_CAP, &len, resp_release, resp_wait))
            break;
        check_msg(ch, buf, len, seq, scratch);
    }
    free(buf);
    free(scratch);
    return NULL;
}

static void run_pair(chan *ch, void *(*producer)(void *), void *(*consumer)(void *),
                     const char *what)
{
    pthread_t p, c;
    uint64_t t0 = now_ms();
    assert_int_equal(pthread_create(&c, NULL, consumer, ch), 0);
    assert_int_equal(pthread_create(&p, NULL, producer, ch), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    if (atomic_load(&ch->failed))
        fail_msg("%s: %s", what, ch->why);
    print_message("%s: %" PRIu64 " messages, %" PRIu64 " bytes in %" PRIu64
                  " ms; the client slept %lu times, the daemon %lu\n",
                  what, ch->nmsgs, (uint64_t)atomic_load(&ch->bytes), now_ms() - t0,
                  (unsigned long)atomic_load(&ch->client_sleeps),
                  (unsigned long)atomic_load(&ch->daemon_sleeps));
    assert_int_equal(atomic_load(&ch->lost_wakes), 0);
}

static uint64_t nmsgs(void)
{
    const char *e = getenv("TEST_CHANNEL_MSGS");
    return e && atoi(e) > 0 ? (uint64_t)atoi(e) : 10000;
}

static void test_requests_stream(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    ch.nmsgs = nmsgs();
    run_pair(&ch, req_client, req_daemon, "requests");
    /* everything consumed, counters agree */
    assert_int_equal(atomic_load(&ch.hdr->req_head), atomic_load(&ch.hdr->req_tail));
    chan_close(&ch);
}

static void test_responses_stream(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    ch.nmsgs = nmsgs();
    run_pair(&ch, resp_daemon, resp_client, "responses");
    assert_int_equal(atomic_load(&ch.hdr->resp_head), atomic_load(&ch.hdr->resp_tail));
    chan_close(&ch);
}

/* ---- impossible counters and headers (one thread) ---- */

static void put_hdr(pcs_ring *r, uint64_t at, uint32_t len, uint16_t kind, uint16_t flags)
{
    uint8_t h[8];
    memcpy(h, &len, 4);
    memcpy(h + 4, &kind, 2);
    memcpy(h + 6, &flags, 2);
    for (int i = 0; i < 8; i++)
        r->data[(at + (uint64_t)i) & (r->size - 1)] = h[i];
}

/* A fresh pair of views on a zeroed channel. */
static void fresh(chan *ch)
{
    memset((uint8_t *)ch->map + PCS_CHAN_HDR, 0, 2 * (size_t)RING);
    pcs_chan_init(ch->map, RING, 1);
    pcs_chan_rings(ch->map, 0, &ch->dreq, &ch->dresp);
    pcs_chan_rings(ch->map, 1, &ch->creq, &ch->cresp);
}

static void test_ring_next_eproto(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    uint32_t len;
    uint16_t flags;
    pcs_ring *d = &ch.dreq;

    fresh(&ch);
    assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EAGAIN);
    /* a head more than the ring ahead */
    atomic_store(d->head, RING + 8);
    assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EPROTO);
    fresh(&ch);
    atomic_store(d->head, UINT64_MAX - 7);
    assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EPROTO);
    /* a head inside a record header */
    for (uint64_t h = 1; h < PCS_REC_HDR; h++) {
        fresh(&ch);
        atomic_store(d->head, h);
        assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EPROTO);
    }
    /* bad kinds, flags, lengths */
    const struct {
        uint32_t len;
        uint16_t kind, flags;
        uint64_t head;
    } bad[] = {
        {8, 0, 0, 16},
        {8, 2, 0, 16},
        {8, 0xffff, 0, 16},
        {8, PCS_REC_CHUNK, 2, 16},
        {8, PCS_REC_CHUNK, 0x8000, 16},
        {RING / 4 + 1, PCS_REC_CHUNK, 0, RING / 2},
        {UINT32_MAX, PCS_REC_CHUNK, 0, RING},
        {100, PCS_REC_CHUNK, 0, 16}, /* longer than what was published */
        {9, PCS_REC_CHUNK, 0, 16},   /* 9 bytes need 24 with the header and padding */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fresh(&ch);
        put_hdr(d, 0, bad[i].len, bad[i].kind, bad[i].flags);
        atomic_store(d->head, bad[i].head);
        if (pcs_ring_next(d, &len, &flags) != PC_EPROTO)
            fail_msg("bad record %zu was taken", i);
    }
    /* a good record, then the head goes back */
    fresh(&ch);
    put_hdr(d, 0, 8, PCS_REC_CHUNK, 0);
    atomic_store(d->head, 16);
    assert_int_equal(pcs_ring_next(d, &len, &flags), 0);
    assert_int_equal(len, 8);
    uint8_t buf[16];
    pcs_ring_take(d, buf, len);
    pcs_ring_release(d);
    assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EAGAIN);
    atomic_store(d->head, 8);
    assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EPROTO);
    /* a good record with MORE */
    fresh(&ch);
    put_hdr(d, 0, 3, PCS_REC_CHUNK, PCS_REC_MORE);
    atomic_store(d->head, 16);
    assert_int_equal(pcs_ring_next(d, &len, &flags), 0);
    assert_int_equal(flags, PCS_REC_MORE);
    chan_close(&ch);
}

static void test_ring_space_eproto(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    pcs_ring *c = &ch.creq;
    size_t free = 12345;

    fresh(&ch);
    assert_int_equal(pcs_ring_space(c, &free), 0);
    assert_int_equal(free, RING);
    /* a tail past what was produced */
    atomic_store(c->tail, 8);
    free = 12345;
    assert_int_equal(pcs_ring_space(c, &free), PC_EPROTO);
    assert_int_equal(free, 12345); /* left alone */
    /* a tail that goes back */
    fresh(&ch);
    uint8_t p[64] = {0};
    assert_int_equal(pcs_ring_put(c, p, 64, 0), 0);
    assert_int_equal(pcs_ring_put(c, p, 64, 0), 0);
    pcs_ring_publish(c);
    atomic_store(c->tail, 72);
    assert_int_equal(pcs_ring_space(c, &free), 0);
    assert_int_equal(free, RING - 72);
    atomic_store(c->tail, 0);
    assert_int_equal(pcs_ring_space(c, &free), PC_EPROTO);
    /* a tail more than a ring behind what was produced */
    fresh(&ch);
    c->pos = (uint64_t)RING * 3;
    c->seen = 0;
    atomic_store(c->tail, 0);
    assert_int_equal(pcs_ring_space(c, &free), PC_EPROTO);
    /* pcs_ring_put passes the error on when it has to look */
    fresh(&ch);
    while (pcs_ring_put(c, p, 64, 0) == 0)
        ;
    atomic_store(c->tail, UINT64_MAX);
    assert_int_equal(pcs_ring_put(c, p, 64, 0), PC_EPROTO);
    chan_close(&ch);
}

static void test_ring_put_limits(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    fresh(&ch);
    pcs_ring *c = &ch.creq, *d = &ch.dreq;
    static uint8_t big[RING];
    assert_int_equal(pcs_ring_put(c, big, RING / 4 + 1, 0), PC_EINVAL);
    assert_int_equal(pcs_ring_put(c, big, RING / 4, 0), 0);
    /* not visible before it is published */
    uint32_t len;
    uint16_t flags;
    assert_int_equal(pcs_ring_next(d, &len, &flags), PC_EAGAIN);
    pcs_ring_publish(c);
    assert_int_equal(pcs_ring_next(d, &len, &flags), 0);
    assert_int_equal(len, RING / 4);
    /* full: three more quarters do not fit with their headers */
    assert_int_equal(pcs_ring_put(c, big, RING / 4, 0), 0);
    assert_int_equal(pcs_ring_put(c, big, RING / 4, 0), 0);
    assert_int_equal(pcs_ring_put(c, big, RING / 4, 0), PC_EAGAIN);
    size_t free;
    assert_int_equal(pcs_ring_space(c, &free), 0);
    assert_true(free < RING / 4 + PCS_REC_HDR);
    /* the consumer frees a quarter: it fits again */
    pcs_ring_take(d, big, len);
    pcs_ring_release(d);
    assert_int_equal(pcs_ring_put(c, big, RING / 4, 0), 0);
    assert_int_equal(pcs_ring_put(c, big, 0, 0), 0); /* an empty record: just its header */
    chan_close(&ch);
}

/* Records of every size, wrapping around the end at every offset, come back
 * whole. */
static void test_ring_wrap(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    fresh(&ch);
    pcs_ring *c = &ch.creq, *d = &ch.dreq;
    static uint8_t in[RING / 4], out[RING / 4];
    uint64_t seq = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(mix((uint64_t)round) % (RING / 4 + 1));
        if (round % 3 == 0)
            n = (size_t)(mix((uint64_t)round) % 64);
        fill(in, n, seq);
        if (pcs_ring_put(c, in, (uint32_t)n, (uint16_t)(round & 1)) == PC_EAGAIN) {
            /* drain everything, then retry */
            pcs_ring_publish(c);
            uint32_t len;
            uint16_t flags;
            while (pcs_ring_next(d, &len, &flags) == 0) {
                pcs_ring_take(d, out, len);
                pcs_ring_release(d);
            }
            assert_int_equal(pcs_ring_put(c, in, (uint32_t)n, (uint16_t)(round & 1)), 0);
        }
        pcs_ring_publish(c);
        /* the newest record is the last one pending: take all, check it */
        uint32_t len = 0;
        uint16_t flags = 0;
        int got = 0;
        while (pcs_ring_next(d, &len, &flags) == 0) {
            pcs_ring_take(d, out, len);
            pcs_ring_release(d);
            got++;
        }
        assert_int_equal(got, 1);
        assert_int_equal(len, n);
        assert_int_equal(flags, (uint16_t)(round & 1));
        if (n)
            assert_memory_equal(out, in, n);
        seq++;
    }
    assert_true(atomic_load(c->head) > 10 * (uint64_t)RING); /* it went round many times */
    chan_close(&ch);
}

/* ---- pcs_ring_send: queued messages into a ring with little room ---- */

/* Message k of a queue: a u32 length (as a frame header has), then k's bytes. */
static size_t queue_msg(uint8_t *m, uint64_t k)
{
    uint64_t r = mix(k ^ UINT64_C(0xfeed));
    size_t n = r % 5 == 0 ? 16 + (size_t)((r >> 8) % (2 * RING)) : 16 + (size_t)((r >> 8) % 3000);
    fill(m, n, k);
    uint32_t l = (uint32_t)n;
    memcpy(m, &l, 4);
    return n;
}

#define PAD8(n) (((n) + 7) & ~(size_t)7)

static size_t msg_len(const uint8_t *m)
{
    uint32_t l;
    memcpy(&l, m, 4);
    return l;
}

/*
 * Messages of every size (some twice the ring) queued in one buffer and
 * sent with pcs_ring_send while the consumer takes a few records at a time:
 * every byte arrives, in order; a message longer than the room goes in
 * pieces of at most a chunk and, but for its last, at least
 * PCS_SEND_PIECE_MIN; a call that finds too little room writes nothing and
 * leaves *pos and *sent as they were.
 */
static void test_ring_send(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    fresh(&ch);
    pcs_ring *d = &ch.dresp, *c = &ch.cresp;
    enum { NMSG = 400 };
    size_t most = 2 * RING + 16;
    uint8_t *q = malloc(NMSG * PAD8(most)), *got = malloc(most), *want = malloc(most);
    assert_non_null(q);
    assert_non_null(got);
    assert_non_null(want);
    size_t len = 0;
    for (uint64_t k = 0; k < NMSG; k++) {
        size_t n = queue_msg(q + len, k);
        memset(q + len + n, 0, PAD8(n) - n);
        len += PAD8(n);
    }
    size_t pos = 0, sent = 0, glen = 0, pieces = 0, waits = 0;
    uint64_t next = 0, turn = 0;
    while (next < NMSG) {
        size_t pos0 = pos, sent0 = sent, free;
        int put = pcs_ring_send(d, q, len, &pos, &sent);
        assert_true(put >= 0);
        assert_int_equal(pcs_ring_space(d, &free), 0);
        if (put == 0 && pos < len) {
            /* No room worth using: nothing moved. */
            waits++;
            assert_int_equal(pos, pos0);
            assert_int_equal(sent, sent0);
            size_t left = msg_len(q + pos) - sent;
            assert_true(free <= PCS_REC_HDR + 8 || (free - PCS_REC_HDR - 8 < left &&
                                                    free - PCS_REC_HDR - 8 < PCS_SEND_PIECE_MIN));
        }
        pcs_ring_publish(d);
        /* The client takes a few records (now and then all there are). */
        uint64_t r = mix(turn++);
        unsigned take = r % 5 == 0 ? UINT32_MAX : 1 + (unsigned)(r % 4);
        uint32_t n;
        uint16_t flags;
        while (take-- && pcs_ring_next(c, &n, &flags) == 0) {
            assert_true(n <= pcs_ring_chunk_max(c));
            assert_true(glen + n <= most);
            pcs_ring_take(c, got + glen, n);
            glen += n;
            if (flags & PCS_REC_MORE) {
                assert_true(n >= PCS_SEND_PIECE_MIN);
                pieces++;
                continue;
            }
            size_t wl = queue_msg(want, next);
            assert_int_equal(glen, wl);
            assert_memory_equal(got, want, wl);
            glen = 0;
            next++;
        }
        pcs_ring_release(c);
    }
    assert_int_equal(pos, len);
    assert_int_equal(sent, 0);
    assert_true(pieces > NMSG / 10); /* messages longer than the room went in pieces */
    assert_true(waits > 0);          /* and the ring was full now and then */
    free(q);
    free(got);
    free(want);
    chan_close(&ch);
}

/* A nearly full ring: a message that does not fit whole is not trickled in
 * (less than PCS_SEND_PIECE_MIN of room), one that fits goes whole; an
 * impossible consumer counter is PC_EPROTO, a length past the buffer
 * PC_EINVAL, and neither writes anything. */
static void test_ring_send_edges(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    fresh(&ch);
    pcs_ring *d = &ch.dresp, *c = &ch.cresp;
    static uint8_t filler[RING / 4], big[8192], small[512];
    /* Fill the ring but for 1024 bytes. */
    while (RING - (size_t)d->pos >= RING / 4 + PCS_REC_HDR + 1024)
        assert_int_equal(pcs_ring_put(d, filler, RING / 4, 0), 0);
    size_t rest = RING - (size_t)d->pos - 1024 - PCS_REC_HDR;
    assert_int_equal(pcs_ring_put(d, filler, (uint32_t)rest, 0), 0);
    size_t free;
    assert_int_equal(pcs_ring_space(d, &free), 0);
    assert_int_equal(free, 1024);
    uint32_t l = sizeof big;
    memcpy(big, &l, 4);
    l = sizeof small;
    memcpy(small, &l, 4);
    size_t pos = 0, sent = 0;
    assert_int_equal(pcs_ring_send(d, big, sizeof big, &pos, &sent), 0);
    assert_int_equal(pos, 0);
    assert_int_equal(sent, 0);
    assert_int_equal(pcs_ring_send(d, small, sizeof small, &pos, &sent), 1);
    assert_int_equal(pos, sizeof small);
    /* The consumer frees a quarter: now big goes, whole. */
    pcs_ring_publish(d);
    uint32_t n;
    uint16_t flags;
    assert_int_equal(pcs_ring_next(c, &n, &flags), 0);
    pcs_ring_take(c, NULL, n);
    pcs_ring_release(c);
    pos = 0;
    assert_int_equal(pcs_ring_send(d, big, sizeof big, &pos, &sent), 1);
    assert_int_equal(pos, sizeof big);
    assert_int_equal(sent, 0);
    /* Errors. */
    uint64_t head = d->pos;
    pos = 0;
    l = sizeof small + 8;
    memcpy(small, &l, 4);
    assert_int_equal(pcs_ring_send(d, small, sizeof small, &pos, &sent), PC_EINVAL);
    l = 2;
    memcpy(small, &l, 4);
    assert_int_equal(pcs_ring_send(d, small, sizeof small, &pos, &sent), PC_EINVAL);
    l = sizeof small;
    memcpy(small, &l, 4);
    atomic_store(d->tail, d->pos + 8);
    assert_int_equal(pcs_ring_send(d, small, sizeof small, &pos, &sent), PC_EPROTO);
    assert_int_equal(pos, 0);
    assert_int_equal(d->pos, head);
    chan_close(&ch);
}

static void test_chan_check(void **state)
{
    (void)state;
    chan ch;
    chan_open(&ch);
    pcs_chan_hdr *h = ch.hdr;
    assert_int_equal(pcs_chan_check(h, ch.maplen), 0);
    assert_int_equal(pcs_chan_check(h, ch.maplen - 4096), PC_EPROTO);
    assert_int_equal(pcs_chan_check(h, ch.maplen + 4096), PC_EPROTO);
    assert_int_equal(pcs_chan_check(h, 100), PC_EPROTO);
    h->magic ^= 1;
    assert_int_equal(pcs_chan_check(h, ch.maplen), PC_EPROTO);
    h->magic ^= 1;
    h->version++;
    assert_int_equal(pcs_chan_check(h, ch.maplen), PC_EPROTO);
    h->version--;
    h->ring_size = RING + 4096; /* not a power of two */
    assert_int_equal(pcs_chan_check(h, pcs_chan_size(RING + 4096)), PC_EPROTO);
    h->ring_size = PCS_RING_MIN / 2;
    assert_int_equal(pcs_chan_check(h, pcs_chan_size(PCS_RING_MIN / 2)), PC_EPROTO);
    h->ring_size = RING;
    h->hdr_size = 2048;
    assert_int_equal(pcs_chan_check(h, ch.maplen), PC_EPROTO);
    h->hdr_size = PCS_CHAN_HDR;
    assert_int_equal(pcs_chan_check(h, ch.maplen), 0);
    chan_close(&ch);
}

int main(void)
{
    alarm(120); /* a lost wake-up must not hang make check */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chan_check),        cmocka_unit_test(test_ring_next_eproto),
        cmocka_unit_test(test_ring_space_eproto), cmocka_unit_test(test_ring_put_limits),
        cmocka_unit_test(test_ring_wrap),         cmocka_unit_test(test_requests_stream),
        cmocka_unit_test(test_responses_stream),  cmocka_unit_test(test_ring_send),
        cmocka_unit_test(test_ring_send_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
