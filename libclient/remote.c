/*
 * remote.c - the client's side of a channel: the handshake on the daemon's
 * socket, sending request messages through the request ring (in chunks, so a
 * message may be larger than the ring), collecting response messages, and
 * waiting: spin a short adaptive while, then sleep on the channel's futex
 * with a timeout, telling the daemon first so it knows to wake us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../shm/access.h"
#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "../shm/hello.h"
#include "client.h"

#define SPIN_MIN 64
#define SPIN_MAX 20000       /* pauses: about 0.4 ms at 18 ns a pause */
#define SPIN_WORTH_NS 100000 /* an answer this soon after sleeping: spin longer */
#define SPIN_GROW_MAX 5000   /* ... up to this many pauses */
#define WAIT_SLICE_MS 50     /* futex timeout: then check the daemon still lives */

/* Wait until fd is readable or the deadline passes: 0 or PC_ETIMEDOUT. */
static int wait_readable(int fd, uint64_t deadline)
{
    for (;;) {
        int ms = -1;
        if (deadline != UINT64_MAX) {
            uint64_t now = pc__mono_ns();
            if (now >= deadline)
                return PC_ETIMEDOUT;
            uint64_t left = (deadline - now + 999999) / 1000000;
            ms = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, ms);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return 0; /* let the read report it */
    }
}

static int recv_welcome(int fd, pcs_welcome *w, int *fds, int *nfds, uint64_t deadline)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {w, sizeof *w};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
    ssize_t n;
    int resets = 0;
    *nfds = 0;
    if (wait_readable(fd, deadline))
        return PC_ETIMEDOUT;
    /* A daemon that refuses us closes the socket with our hello unread: the
     * kernel then reports ECONNRESET once, ahead of the welcome still queued
     * for us.  The error is cleared as it is reported, so read again. */
    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
    *nfds = 0;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int got[4];
        memcpy(got, CMSG_DATA(h), sizeof(int) * (size_t)(k < 4 ? k : 4));
        for (int i = 0; i < k && i < 4; i++) {
            if (*nfds < 3)
                fds[(*nfds)++] = got[i];
            else
                close(got[i]);
        }
    }
    if (n == 0)
        return PC_ECONNREFUSED; /* closed without a word: the daemon went meanwhile */
    if (n != (ssize_t)sizeof *w || w->magic != PCS_WELCOME_MAGIC || (mh.msg_flags & MSG_CTRUNC))
        return PC_EPROTO;
    return 0;
}

int pc__chan_connect(const char *dir, unsigned flags, pc__chan *ch, pcs_welcome *w,
                     uint64_t deadline)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memset(ch, 0, sizeof *ch);
    ch->fd = -1;
    if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, PCS_SOCK_NAME) >=
        (int)sizeof sa.sun_path)
        return PC_EINVAL;
    ch->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (ch->fd < 0)
        return errno == EMFILE || errno == ENFILE ? PC_EBUSY : PC_EIO;
    if (connect(ch->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(ch->fd);
        ch->fd = -1;
        return e == EACCES ? PC_EACCES : PC_ECONNREFUSED;
    }
    pcs_hello h = {
        .magic = PCS_HELLO_MAGIC, .version = PCS_PROTO_VERSION, .pid = (uint32_t)getpid()};
    if (flags & PC_OPT_RING_ONLY)
        h.flags |= PCS_HELLO_RING_ONLY;
    int fds[3] = {-1, -1, -1}, nfds = 0, rc;
    /* A daemon that turns us away (out of memory, too many clients) answers
     * with a welcome before it reads the hello and closes: then the send may
     * fail, and the welcome, still queued on our side, says why. */
    bool sent = send(ch->fd, &h, sizeof h, MSG_NOSIGNAL) == (ssize_t)sizeof h;
    if ((rc = recv_welcome(ch->fd, w, fds, &nfds, deadline))) {
        rc = sent || rc == PC_ETIMEDOUT ? rc : PC_ECONNREFUSED;
        goto fail;
    }
    if (w->status) {
        rc = w->status < 0 ? w->status : PC_EPROTO;
        goto fail;
    }
    if (w->version != PCS_PROTO_VERSION || nfds < 2) {
        rc = PC_EPROTO;
        goto fail;
    }
    ch->maplen = pcs_chan_size(w->ring_size);
    ch->map = mmap(NULL, ch->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    if (ch->map == MAP_FAILED) {
        ch->map = NULL;
        rc = PC_ENOMEM;
        goto fail;
    }
    ch->dpage = mmap(NULL, PCS_DPAGE_SIZE, PROT_READ, MAP_SHARED, fds[1], 0);
    if (ch->dpage == MAP_FAILED) {
        ch->dpage = NULL;
        rc = PC_ENOMEM;
        goto fail;
    }
    if (pcs_chan_check(ch->map, ch->maplen) || ch->dpage->magic != PCS_DPAGE_MAGIC ||
        ch->dpage->version != PCS_DPAGE_VERSION) {
        rc = PC_EPROTO;
        goto fail;
    }
    if (nfds == 3 && w->mode == PCS_PEER_TRUSTED &&
        (w->policy == PC_POLICY_ALLKEYS_LRU || w->policy == PC_POLICY_ALLKEYS_LFU)) {
        void *a = mmap(NULL, PCS_ACCESS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[2], 0);
        if (a != MAP_FAILED) {
            ch->access = a;
            ch->lfu = w->policy == PC_POLICY_ALLKEYS_LFU;
        }
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    ch->hdr = ch->map;
    pcs_chan_rings(ch->map, 1, &ch->req, &ch->resp);
    ch->ring_only = w->mode == PCS_PEER_RING_ONLY;
    ch->nonblock = (flags & PC_OPT_NONBLOCK) != 0;
    ch->spin = 2000;
    return 0;
fail:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    pc__chan_close(ch);
    return rc;
}

void pc__chan_close(pc__chan *ch)
{
    if (ch->map)
        munmap(ch->map, ch->maplen);
    if (ch->dpage)
        munmap((void *)ch->dpage, PCS_DPAGE_SIZE);
    if (ch->access)
        munmap((void *)ch->access, PCS_ACCESS_SIZE);
    ch->access = NULL;
    if (ch->fd >= 0)
        close(ch->fd);
    ch->map = NULL;
    ch->dpage = NULL;
    ch->fd = -1;
}

/* Publish what was put and wake the daemon if it sleeps. */
static void publish(pc__chan *ch)
{
    pcs_ring_publish(&ch->req);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ch->dpage->sleeping, memory_order_relaxed))
        send(ch->fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Is the daemon gone (its end of the socket closed)? */
static bool daemon_gone(pc__chan *ch)
{
    char b;
    ssize_t n = recv(ch->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/*
 * Has the daemon done anything we have not seen: published an answer we
 * have not consumed, or consumed requests since we last looked at the
 * request ring's tail?  Compared against our own positions, never against a
 * fresh reading: an answer that lands between our last look at the ring and
 * the start of a wait must end the wait, not be taken as the baseline.
 */
static bool daemon_moved(const pc__chan *ch, bool want_room)
{
    return atomic_load_explicit(ch->resp.head, memory_order_acquire) != ch->resp.pos ||
           (want_room && atomic_load_explicit(ch->req.tail, memory_order_acquire) != ch->req.seen);
}

uint64_t pc__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * After a wait that ended in the futex: the spin was too short for an answer
 * that came soon after we went to sleep (then the sleep and the daemon's
 * FUTEX_WAKE cost more than spinning on would have: about 12 us to wake a
 * sleeping CPU on a VM), so spin longer next time; an answer that took long
 * means a busy or idle daemon, not worth burning a CPU for, so spin less.
 * Halving on every sleep instead, as this once did, settles at the minimum
 * once one answer is late, and then every request pays a wake-up.
 */
static void spin_learn(pc__chan *ch, uint64_t slept_ns)
{
    /* Only a short spin grows this way: when a long spin (SPIN_GROW_MAX
     * pauses, about 90 us) failed and the answer came as soon as we slept,
     * more clients spin than there are CPUs and our spinning kept the daemon
     * off its CPU. */
    if (slept_ns < SPIN_WORTH_NS && ch->spin < SPIN_GROW_MAX)
        ch->spin = ch->spin * 2 < SPIN_MAX ? ch->spin * 2 : SPIN_MAX;
    else
        ch->spin = ch->spin / 2 > SPIN_MIN ? ch->spin / 2 : SPIN_MIN;
}

/* Wait until the daemon answers or (want_room: we have more to send) makes
 * room, until the deadline (CLOCK_MONOTONIC ns; UINT64_MAX: none).  0,
 * PC_ECONNRESET (the daemon is gone) or PC_ETIMEDOUT. */
static int wait_daemon(pc__chan *ch, bool want_room, uint64_t deadline)
{
    for (unsigned i = 0; i < ch->spin; i++) {
        if (daemon_moved(ch, want_room)) {
            if (ch->spin < SPIN_MAX)
                ch->spin += ch->spin / 8 + 1;
            return 0;
        }
        pcs_cpu_relax();
    }
    uint64_t t0 = pc__mono_ns();
    for (;;) {
        uint32_t w = atomic_load_explicit(&ch->hdr->client_wake, memory_order_acquire);
        atomic_store_explicit(&ch->hdr->client_waiting, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        if (daemon_moved(ch, want_room)) {
            atomic_store_explicit(&ch->hdr->client_waiting, 0, memory_order_relaxed);
            spin_learn(ch, pc__mono_ns() - t0);
            return 0;
        }
        unsigned slice = WAIT_SLICE_MS;
        uint64_t now = pc__mono_ns();
        if (deadline != UINT64_MAX) {
            if (now >= deadline) {
                atomic_store_explicit(&ch->hdr->client_waiting, 0, memory_order_relaxed);
                return daemon_gone(ch) ? PC_ECONNRESET : PC_ETIMEDOUT;
            }
            uint64_t left_ms = (deadline - now + 999999) / 1000000;
            slice = left_ms < slice ? (unsigned)left_ms : slice;
        }
        pcs_futex_wait(&ch->hdr->client_wake, w, slice);
        atomic_store_explicit(&ch->hdr->client_waiting, 0, memory_order_relaxed);
        if (daemon_moved(ch, want_room)) {
            spin_learn(ch, pc__mono_ns() - t0);
            return 0;
        }
        if (daemon_gone(ch) || !pcs_daemon_alive(ch->dpage))
            return PC_ECONNRESET;
    }
}

/* Bytes of ring a message of len bytes needs, in chunks of at most max. */
static size_t ring_need(size_t len, size_t max)
{
    size_t chunks = len / max + (len % max != 0);
    return len + chunks * (PCS_REC_HDR + 8);
}

int pc__chan_call(pc__chan *ch, const uint8_t *frames, size_t len, size_t nframes, pcs_buf *out,
                  int64_t idle_ms, uint64_t deadline)
{
    if (ch->broken || !ch->map)
        return PC_ECONNRESET;
    /* The deadline for hearing from the daemon moves on with every sign of
     * progress; a fixed deadline (qpop-wait's) caps it. */
    uint64_t heard = pc__mono_ns();
    size_t cmax = pcs_ring_chunk_max(&ch->req);
    if (ch->nonblock) {
        size_t need = 0, free;
        for (size_t o = 0; o < len; o = pcs_align8(o + pcs_frame_len(frames + o)))
            need += ring_need(pcs_frame_len(frames + o), cmax);
        if (pcs_ring_space(&ch->req, &free))
            return ch->broken = true, PC_EPROTO;
        if (need > free)
            return PC_EAGAIN;
    }
    size_t off = 0, sent = 0, got = 0, msg_start = out->len;
    while (got < nframes) {
        bool progress = false;
        while (off < len) {
            size_t mlen = pcs_frame_len(frames + off), left = mlen - sent, free;
            if (pcs_ring_space(&ch->req, &free)) {
                ch->broken = true;
                return PC_EPROTO;
            }
            if (free < PCS_REC_HDR + 8)
                break;
            size_t chunk = (free - PCS_REC_HDR) & ~(size_t)7;
            chunk = chunk > cmax ? cmax : chunk;
            chunk = chunk > left ? left : chunk;
            if (!chunk || pcs_ring_put(&ch->req, frames + off + sent, (uint32_t)chunk,
                                       chunk < left ? PCS_REC_MORE : 0))
                break;
            progress = true;
            sent += chunk;
            if (sent == mlen) {
                off = pcs_align8(off + mlen);
                sent = 0;
            }
        }
        if (progress)
            publish(ch);
        /* Collect whatever answers are there. */
        for (;;) {
            uint32_t rlen;
            uint16_t flags;
            int rc = pcs_ring_next(&ch->resp, &rlen, &flags);
            if (rc == PC_EAGAIN)
                break;
            if (rc || pcs_buf_reserve(out, rlen + 8)) {
                ch->broken = rc != 0;
                return rc ? PC_EPROTO : PC_ENOMEM;
            }
            pcs_ring_take(&ch->resp, out->data + out->len, rlen);
            out->len += rlen;
            progress = true;
            if (flags & PCS_REC_MORE)
                continue;
            size_t mlen = out->len - msg_start;
            if (mlen < PCS_FRAME_HDR || pcs_frame_len(out->data + msg_start) != mlen) {
                ch->broken = true;
                return PC_EPROTO;
            }
            pcs_buf_pad8(out);
            msg_start = out->len;
            if (++got == nframes)
                break;
        }
        if (progress) {
            pcs_ring_release(&ch->resp);
            heard = pc__mono_ns();
            continue;
        }
        uint64_t until = idle_ms < 0 ? UINT64_MAX : heard + (uint64_t)idle_ms * 1000000;
        until = until < deadline ? until : deadline;
        int rc = wait_daemon(ch, off < len, until);
        if (rc) {
            /* Gone, or silent past the deadline: what we sent may or may not
             * have been done, and answers may still come; this channel
             * cannot be trusted to pair answers with requests again.  The
             * next call connects afresh. */
            ch->broken = true;
            return rc;
        }
        heard = pc__mono_ns();
    }
    return 0;
}
