/*
 * test_daemon_faults.c - what a client can do to pycached:
 *
 *  - die: a client killed with SIGKILL at random points in its requests
 *    (while connecting, mid-message, holding a read, parked in a queue pop,
 *    in a batch or a transaction), 200 times, while two other clients work;
 *    the daemon keeps serving, the other clients' results are all correct,
 *    and its descriptors, channel mappings and LMDB reader slots come back
 *    to what they were;
 *  - misbehave: a client speaking the wire protocol itself (the handshake,
 *    then its request ring) that sends garbage records, impossible heads,
 *    bad frames, oversized messages, a corrupted response tail, a bad or
 *    missing handshake, or descriptors, is closed (only it: a normal client
 *    keeps working throughout) and leaks nothing;
 *  - pipeline: requests in one record and in several, across the end of the
 *    ring, and answers larger than the ring, read slowly, come through as
 *    sent and in order, and go through no buffer of the client's when the
 *    rings have room (test_copies).
 */
#include "pctest.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <poll.h>

#include "../../shm/channel.h"
#include "../../shm/frame.h"
#include "../../shm/hello.h"

static int setup(void **state)
{
    return pt_daemon_fixture(state, 100);
}

/* Wait (at most timeout_ms) until f() of the daemon equals want. */
static int settle(int (*f)(pid_t, const char *), pid_t pid, const char *arg, int want,
                  int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    int got;
    while ((got = f(pid, arg)) != want && pt_now_ms() < until)
        pt_sleep_ms(5);
    return got;
}

static int fds_of(pid_t pid, const char *unused)
{
    (void)unused;
    return pt_count_fds(pid);
}

#define CHAN_MAP "pycache-channel"

/* ------------------------------------------------------------------------ */
/* Clients that work while others die                                        */

struct worker_arg {
    const char *dir;
    int id;
    bool ring_only;
    _Atomic int *stop;
    _Atomic unsigned long *ops;
};

/* A client that checks every answer: counters, a list it appends to, strings
 * it overwrites, a map and a set, batches and transactions; at the end it
 * checks everything it wrote. */
static int worker(void *arg)
{
    struct worker_arg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    char ctr[32], lst[32], map[32], set[32];
    snprintf(ctr, sizeof ctr, "{b%d}:ctr", a->id);
    snprintf(lst, sizeof lst, "{b%d}:list", a->id);
    snprintf(map, sizeof map, "{b%d}:map", a->id);
    snprintf(set, sizeof set, "{b%d}:set", a->id);
    int64_t count = 0, pushed = 0;
    unsigned long n = 0;
    pt_rng rng = {UINT64_C(0xb0b) + (uint64_t)a->id};
    static char buf[8192];
    while (!atomic_load(a->stop) || n < 200) {
        int64_t now;
        uint64_t len;
        switch (n % 6) {
        case 0:
            CKOK(pc_incrby(c, K(ctr), 1, &now));
            CK(now == ++count);
            break;
        case 1: {
            pc_val v = pc_int(pushed);
            CKOK(pc_rpush(c, K(lst), &v, 1, &len));
            CK(len == (uint64_t)++pushed);
            break;
        }
        case 2: {
            char key[32];
            size_t sz = (size_t)pt_below(&rng, sizeof buf);
            snprintf(key, sizeof key, "{b%d}:s%lu", a->id, n % 64);
            pt_fill(buf, sz, n);
            pc_val v = pc_mem(buf, sz), got;
            CKOK(pc_set(c, K(key), &v, 0, 0));
            pc_read *r;
            CKOK(pc_read_begin(c, &r));
            CKOK(pc_get(r, K(key), &got));
            CK(got.kind == PC_BYTES && got.s.len == sz && !memcmp(got.s.ptr, buf, sz));
            pc_read_end(r);
            break;
        }
        case 3: {
            /* a batch of increments */
            int64_t outs[8];
            int rcs[8];
            CKOK(pc_batch_begin(c));
            for (int i = 0; i < 8; i++)
                CKOK(pc_incrby(c, K(ctr), 1, &outs[i]));
            CKOK(pc_batch_exec(c, rcs, 8));
            for (int i = 0; i < 8; i++) {
                CK(rcs[i] == 0);
                CK(outs[i] == ++count);
            }
            break;
        }
        case 4: {
            /* a transaction over the map and the counter */
            char f[16];
            snprintf(f, sizeof f, "f%lu", n % 32);
            pc_bytes fb = pc_b(f, strlen(f));
            pc_val v = pc_int((int64_t)n);
            int64_t c2;
            CKOK(pc_txn_begin(c));
            CKOK(pc_hset(c, K(map), &fb, &v, 1, NULL));
            CKOK(pc_incrby(c, K(ctr), 1, &c2));
            CKOK(pc_txn_commit(c, NULL));
            CK(c2 == ++count);
            pc_read *r;
            pc_val got;
            CKOK(pc_read_begin(c, &r));
            CKOK(pc_hget(r, K(map), f, strlen(f), &got));
            CK(got.kind == PC_INT && got.i == (int64_t)n);
            pc_read_end(r);
            break;
        }
        default: {
            pc_val m = pc_int((int64_t)(n % 100));
            uint64_t added;
            CKOK(pc_sadd(c, K(set), &m, 1, &added));
            /* members repeat after 300 operations: lcm(6, 100) */
            CK(added == (n < 300 ? 1u : 0u));
            break;
        }
        }
        n++;
        if (n % 64 == 0)
            atomic_store(a->ops, n);
    }
    /* Everything it wrote is there. */
    pc_read *r;
    pc_val got;
    uint64_t len;
    CKOK(pc_read_begin(c, &r));
    CKOK(pc_get(r, K(ctr), &got));
    CK(got.kind == PC_INT && got.i == count);
    CKOK(pc_llen(r, K(lst), &len));
    CK(len == (uint64_t)pushed);
    for (int64_t from = 0; from < pushed; from += 256) {
        pc_val out[256];
        size_t k;
        CKOK(pc_lrange(r, K(lst), from, from + 255, out, 256, &k));
        CK(k == (size_t)(pushed - from < 256 ? pushed - from : 256));
        for (size_t i = 0; i < k; i++)
            CK(out[i].kind == PC_INT && out[i].i == from + (int64_t)i);
    }
    CKOK(pc_scard(r, K(set), &len));
    CK(len == (n / 6 < 50 ? n / 6 : 50));
    pc_read_end(r);
    atomic_store(a->ops, n);
    pc_close(c);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Clients that get killed                                                   */

struct victim_arg {
    const char *dir;
    uint64_t seed;
};

/* Connect and do anything at all, forever: the parent kills it. */
static int victim(void *arg)
{
    struct victim_arg *a = arg;
    pt_rng rng = {a->seed};
    pc_options o;
    pc_options_init(&o);
    o.flags = pt_below(&rng, 3) == 0 ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    if (pc_connect(a->dir, &o, &c))
        return 1;
    static uint8_t big[3u << 20];
    char key[48];
    for (unsigned long n = 0;; n++) {
        snprintf(key, sizeof key, "v:%d:%lu", (int)getpid(), n % 8);
        switch (pt_below(&rng, 8)) {
        case 0: { /* a message of several chunks (the ring is 1 MiB) */
            size_t sz = (size_t)pt_below(&rng, sizeof big);
            pc_val v = pc_mem(big, sz);
            pc_set(c, K(key), &v, 0, 0);
            break;
        }
        case 1: { /* a read held open: a reader slot for a trusted client */
            pc_read *r;
            pc_val got;
            if (!pc_read_begin(c, &r)) {
                pc_get(r, K(key), &got);
                pc_get(r, K("{b0}:ctr"), &got);
                pt_sleep_us(pt_below(&rng, 3000));
                pc_read_end(r);
            }
            break;
        }
        case 2: { /* parked in a queue pop */
            pc_val out;
            size_t k;
            char q[48];
            snprintf(q, sizeof q, "v:%d:queue", (int)getpid());
            pc_qpop_wait(c, K(q), 1, 1 + (int64_t)pt_below(&rng, 30), &out, &k);
            break;
        }
        case 3: { /* a big batch */
            pc_batch_begin(c);
            for (int i = 0; i < 500; i++) {
                pc_val v = pc_int(i);
                pc_rpush(c, K(key), &v, 1, NULL);
            }
            pc_batch_exec(c, NULL, 0);
            break;
        }
        case 4: { /* a transaction */
            char k2[64];
            snprintf(k2, sizeof k2, "{v%d}:a", (int)getpid());
            pc_txn_begin(c);
            pc_incrby(c, K(k2), 1, NULL);
            snprintf(k2, sizeof k2, "{v%d}:b", (int)getpid());
            pc_incrby(c, K(k2), -1, NULL);
            pc_txn_commit(c, NULL);
            break;
        }
        case 5: { /* reads that page */
            pc_read *r;
            if (!pc_read_begin(c, &r)) {
                pc_cursor cur = PC_CURSOR_INIT;
                pc_bytes keys[64];
                size_t k;
                pc_scan(r, "v:*", &cur, keys, 64, &k);
                pc_val out[64];
                pc_lrange(r, K(key), 0, 63, out, 64, &k);
                pc_read_end(r);
            }
            break;
        }
        default: {
            pc_val v = pc_int((int64_t)n);
            pc_set(c, K(key), &v, 0, 0);
            break;
        }
        }
    }
    return 0;
}

static bool pid_alive(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *text = pt_slurp(path, NULL);
    const char *p = text ? strrchr(text, ')') : NULL;
    bool alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
    free(text);
    return alive;
}

/* Shard 0's reader table: every slot belongs to a live process, and
 * *others gets how many belong to processes other than the daemon (whose
 * own read handle keeps a slot once it has served a ring-only read).
 * (`mdb_stat -r` only lists; -rr would clear stale slots itself and hide
 * whether the daemon did.) */
static bool readers_all_live(const char *dir, pid_t daemon, size_t *others)
{
    pid_t pids[4096];
    size_t n;
    if (pt_reader_pids(dir, pids, 4096, &n))
        return false;
    *others = 0;
    for (size_t i = 0; i < n; i++) {
        if (pids[i] == daemon)
            continue;
        (*others)++;
        if (!pid_alive(pids[i]))
            return false;
    }
    return true;
}

#define KILLS 200

static void test_kill_clients(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_new(d, "kill", NULL), 0);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    /* The baseline: no client connected (the readiness probe has left).  Its
     * "left" is logged when its socket closes; its channel is unmapped a
     * moment later, when the loop reaps it: wait for that. */
    assert_true(pt_daemon_log_has(d, "client 1 (pid", 5000));
    int map0 = settle(pt_count_maps, d->pid, CHAN_MAP, 0, 5000);
    assert_int_equal(map0, 0);
    int fd0 = pt_count_fds(d->pid);
    assert_true(fd0 > 0);
    size_t slots0;
    assert_true(readers_all_live(d->dir, d->pid, &slots0));

    _Atomic int *stop = pt_shared(4096);
    _Atomic unsigned long *ops = (_Atomic unsigned long *)(stop + 16);
    assert_non_null(stop);
    struct worker_arg wa[2] = {{d->dir, 0, false, stop, &ops[0]}, {d->dir, 1, true, stop, &ops[1]}};
    pid_t workers[2];
    for (int i = 0; i < 2; i++)
        workers[i] = pt_fork(worker, &wa[i], 60);

    pt_rng rng = {UINT64_C(0xdead)};
    uint64_t t0 = pt_now_ms();
    unsigned long before = 0;
    for (int k = 0; k < KILLS; k++) {
        struct victim_arg va = {d->dir, pt_next(&rng)};
        pid_t v = pt_fork(victim, &va, 30);
        assert_true(v > 0);
        /* Killed at once (while connecting) one time in ten, else after up
         * to 15 ms of requests. */
        uint64_t delay = k % 10 == 0 ? 0 : pt_below(&rng, 15000);
        pt_sleep_us(delay);
        kill(v, SIGKILL);
        int st = pt_wait_pid(v, 5000);
        assert_true(st >= 0);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
            char b[64];
            print_error("victim %d ended on its own: %s\n", k, pt_status_str(st, b, sizeof b));
            fail();
        }
        /* The daemon still serves, and the workers make progress. */
        assert_true(pid_alive(d->pid));
        if (k % 50 == 49) {
            assert_int_equal(pt_probe(d->dir), 0);
            unsigned long now = atomic_load(&ops[0]) + atomic_load(&ops[1]);
            assert_true(now > before);
            before = now;
        }
    }
    print_message("%d clients killed in %" PRIu64 " ms; workers did %lu + %lu operations\n", KILLS,
                  pt_now_ms() - t0, (unsigned long)atomic_load(&ops[0]),
                  (unsigned long)atomic_load(&ops[1]));
    atomic_store(stop, 1);
    for (int i = 0; i < 2; i++)
        EXITED(pt_wait_pid(workers[i], 65000), 0);

    /* Everything the dead and the finished clients held is back. */
    int fd1 = settle(fds_of, d->pid, NULL, fd0, 5000);
    assert_int_equal(fd1, fd0);
    int map1 = settle(pt_count_maps, d->pid, CHAN_MAP, map0, 5000);
    assert_int_equal(map1, map0);
    size_t slots1 = 0;
    uint64_t until = pt_now_ms() + 5000;
    bool live;
    while (!((live = readers_all_live(d->dir, d->pid, &slots1)) && slots1 == slots0) &&
           pt_now_ms() < until)
        pt_sleep_ms(50);
    if (!live) {
        pid_t pids[4096];
        size_t n = 0;
        pt_reader_pids(d->dir, pids, 4096, &n);
        print_error("reader slots of dead processes remain (%zu slots):\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("  pid %d%s\n", (int)pids[i], pid_alive(pids[i]) ? "" : " (dead)");
        fail();
    }
    assert_int_equal(slots1, slots0); /* back to the baseline */

    /* The daemon's own view agrees: one client (this one). */
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_stats s;
    OK(pc_stats_get(c, &s));
    until = pt_now_ms() + 3000;
    /* (the page is refreshed every 100 ms: wait for figures that include us) */
    while (!(s.clients_trusted == 1 && s.clients_ring_only == 0) && pt_now_ms() < until) {
        pt_sleep_ms(20);
        OK(pc_stats_get(c, &s));
    }
    if (s.clients_trusted != 1 || s.clients_ring_only != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wall = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        print_error("pc_stats: %u trusted and %u ring-only clients, expected 1 and 0 (figures "
                    "taken %lld ms ago by pid %llu; daemon pid %d)\n",
                    s.clients_trusted, s.clients_ring_only, (long long)(wall - s.taken_ms),
                    (unsigned long long)s.pid, (int)d->pid);
        fail();
    }
    size_t n, total;
    pc_client_info ci[4];
    OK(pc_clients(c, ci, 4, &n, &total));
    assert_int_equal(total, 1);
    assert_int_equal(ci[0].pid, getpid());
    pc_val v = pc_str("still serving");
    OK(pc_set(c, K("after"), &v, 0, 0));
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ------------------------------------------------------------------------ */
/* A client that speaks the protocol itself                                  */

typedef struct raw {
    int fd;
    void *map;
    size_t maplen;
    pcs_chan_hdr *hdr;
    pcs_ring req, resp;
    const pcs_dpage *dpage;
    pcs_welcome w;
} raw;

static int raw_socket(const char *dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, PCS_SOCK_NAME);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Receive the welcome; fds (up to 3) go to fds[].  Bytes received. */
static ssize_t raw_welcome(int fd, pcs_welcome *w, int *fds, int *nfds)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {w, sizeof *w};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, 5000) != 1)
        return -1;
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    *nfds = 0;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int got[4];
        memcpy(got, CMSG_DATA(h), sizeof(int) * (size_t)(k < 4 ? k : 4));
        for (int i = 0; i < k && i < 4; i++)
            fds[(*nfds)++] = got[i];
    }
    return n;
}

/* The handshake, then the channel mapped: 0 or -1. */
static int raw_connect(const char *dir, raw *r)
{
    memset(r, 0, sizeof *r);
    r->fd = raw_socket(dir);
    if (r->fd < 0)
        return -1;
    pcs_hello h = {.magic = PCS_HELLO_MAGIC, .version = PCS_PROTO_VERSION};
    if (send(r->fd, &h, sizeof h, MSG_NOSIGNAL) != (ssize_t)sizeof h)
        return -1;
    int fds[4], nfds;
    if (raw_welcome(r->fd, &r->w, fds, &nfds) != (ssize_t)sizeof r->w || r->w.status || nfds < 2)
        return -1;
    r->maplen = pcs_chan_size(r->w.ring_size);
    r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    r->dpage = mmap(NULL, PCS_DPAGE_SIZE, PROT_READ, MAP_SHARED, fds[1], 0);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (r->map == MAP_FAILED || r->dpage == MAP_FAILED || pcs_chan_check(r->map, r->maplen))
        return -1;
    r->hdr = r->map;
    pcs_chan_rings(r->map, 1, &r->req, &r->resp);
    return 0;
}

static void raw_close(raw *r)
{
    if (r->map && r->map != MAP_FAILED)
        munmap(r->map, r->maplen);
    if (r->dpage && r->dpage != MAP_FAILED)
        munmap((void *)r->dpage, PCS_DPAGE_SIZE);
    if (r->fd >= 0)
        close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

/* Wake the daemon (always: a wake byte is harmless). */
static void raw_kick(raw *r)
{
    send(r->fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Has the daemon closed our socket (within timeout_ms)? */
static bool raw_closed(int fd, int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        char b[64];
        ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return true;
        uint64_t now = pt_now_ms();
        if (now >= until)
            return false;
        struct pollfd pf = {.fd = fd, .events = POLLIN | POLLRDHUP};
        poll(&pf, 1, (int)(until - now));
    }
}

/* Write raw bytes into the request ring at the client's position, then set
 * the head to head (the producer's counter, whatever it is). */
static void raw_write(raw *r, const void *p, size_t n, uint64_t head)
{
    uint8_t *data = r->req.data;
    for (size_t i = 0; i < n; i++)
        data[(r->req.pos + i) & (r->req.size - 1)] = ((const uint8_t *)p)[i];
    atomic_store_explicit(r->req.head, head, memory_order_release);
    raw_kick(r);
}

/* A record header. */
static void rec_hdr(uint8_t *h, uint32_t len, uint16_t kind, uint16_t flags)
{
    memcpy(h, &len, 4);
    memcpy(h + 4, &kind, 2);
    memcpy(h + 6, &flags, 2);
}

/* Encode a ring-only read request (r-get of key) into b: the frame alone,
 * without the padding after it (a message is one frame, exactly). */
static void enc_get(pcs_buf *b, const char *key, uint64_t id)
{
    pcs_enc e;
    pcs_enc_begin(&e, b, PCS_OP_R_GET, id);
    pcs_enc_bytes(&e, key, strlen(key));
    pcs_enc_end(&e);
    b->len = pcs_frame_len(b->data);
}

/* Has the daemon closed our socket already? */
static bool raw_gone(raw *r)
{
    char b;
    ssize_t n = recv(r->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Send one message (chunked, waiting for room) and wait for one answer.
 * Returns the answer's rc, or 1 when none came / the socket closed. */
static int raw_call(raw *r, const uint8_t *msg, size_t len)
{
    size_t sent = 0, cmax = pcs_ring_chunk_max(&r->req);
    uint64_t until = pt_now_ms() + 5000;
    while (sent < len) {
        size_t chunk = len - sent > cmax ? cmax : len - sent;
        int rc = pcs_ring_put(&r->req, msg + sent, (uint32_t)chunk,
                              sent + chunk < len ? PCS_REC_MORE : 0);
        if (rc == PC_EAGAIN) {
            pcs_ring_publish(&r->req);
            raw_kick(r);
            if (pt_now_ms() > until || raw_gone(r))
                return 1;
            pt_sleep_us(200);
            continue;
        }
        if (rc)
            return 1;
        sent += chunk;
    }
    pcs_ring_publish(&r->req);
    raw_kick(r);
    static uint8_t buf[1 << 20];
    size_t got = 0;
    while (pt_now_ms() < until) {
        uint32_t n;
        uint16_t flags;
        int rc = pcs_ring_next(&r->resp, &n, &flags);
        if (rc == PC_EAGAIN) {
            if (raw_gone(r))
                return 1;
            pt_sleep_us(200);
            continue;
        }
        if (rc || got + n > sizeof buf)
            return 1;
        pcs_ring_take(&r->resp, buf + got, n);
        pcs_ring_release(&r->resp);
        got += n;
        if (flags & PCS_REC_MORE)
            continue;
        pcs_resp resp;
        size_t sz;
        if (pcs_resp_parse(buf, got, &resp, &sz))
            return 1;
        return resp.rc;
    }
    return 1;
}

/* The well-behaved client keeps working. */
static void good_works(pc_client *c, int step)
{
    pc_val v = pc_int(step), got;
    OK(pc_set(c, K("good"), &v, 0, 0));
    pc_read *r;
    OK(pc_read_begin(c, &r));
    OK(pc_get(r, K("good"), &got));
    assert_int_equal(got.i, step);
    pc_read_end(r);
}

/* One misbehaving client: connect raw, do what bad() does, expect to be
 * closed (or not, when it did nothing wrong). */
typedef void (*raw_bad_fn)(raw *r);

static void expect_closed(pt_daemon *d, pc_client *good, const char *what, raw_bad_fn bad,
                          bool closed)
{
    static int step;
    raw r;
    if (raw_connect(d->dir, &r)) {
        print_error("%s: raw handshake failed\n", what);
        fail();
    }
    bad(&r);
    bool was = raw_closed(r.fd, closed ? 3000 : 300);
    if (was != closed) {
        print_error("%s: the daemon %s the client\n", what, closed ? "did not close" : "closed");
        fail();
    }
    good_works(good, ++step);
    raw_close(&r);
}

static void bad_kind(raw *r)
{
    uint8_t h[16] = {0};
    rec_hdr(h, 8, 7, 0);
    raw_write(r, h, sizeof h, 16);
}

static void bad_flags(raw *r)
{
    uint8_t h[16] = {0};
    rec_hdr(h, 8, PCS_REC_CHUNK, 0x8002);
    raw_write(r, h, sizeof h, 16);
}

static void bad_len_over_chunk(raw *r)
{
    uint32_t len = pcs_ring_chunk_max(&r->req) + 8;
    uint8_t h[8];
    rec_hdr(h, len, PCS_REC_CHUNK, 0);
    raw_write(r, h, sizeof h, 8 + len);
}

static void bad_len_over_head(raw *r)
{
    uint8_t h[16] = {0};
    rec_hdr(h, 100, PCS_REC_CHUNK, 0);
    raw_write(r, h, sizeof h, 16);
}

static void bad_head_far(raw *r)
{
    raw_write(r, "", 0, (uint64_t)r->req.size + 64);
}

static void bad_head_huge(raw *r)
{
    raw_write(r, "", 0, UINT64_MAX - 7);
}

static void bad_head_partial(raw *r)
{
    uint8_t h[8];
    rec_hdr(h, 0, PCS_REC_CHUNK, 0);
    raw_write(r, h, 4, 4);
}

/* A good request, answered; then the head goes back. */
static void bad_head_back(raw *r)
{
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 1);
    int rc = raw_call(r, b.data, b.len);
    pcs_buf_free(&b);
    assert_int_equal(rc, 0);
    raw_write(r, "", 0, r->req.pos - 8);
}

/* A record whose payload is no frame (its length field lies). */
static void bad_frame_len(raw *r)
{
    uint8_t m[8 + 24];
    memset(m, 0x5a, sizeof m);
    rec_hdr(m, 24, PCS_REC_CHUNK, 0);
    raw_write(r, m, sizeof m, sizeof m);
}

/* A frame of the right length with an unknown op. */
static void bad_frame_op(raw *r)
{
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 1);
    b.data[4] = 0xe7; /* op 999 */
    b.data[5] = 0x03;
    uint8_t h[8];
    rec_hdr(h, (uint32_t)b.len, PCS_REC_CHUNK, 0);
    uint8_t m[256];
    memcpy(m, h, 8);
    memcpy(m + 8, b.data, b.len);
    raw_write(r, m, 8 + b.len, 8 + pcs_align8(b.len));
    pcs_buf_free(&b);
}

/* A frame whose argument count is a lie. */
static void bad_frame_argc(raw *r)
{
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 1);
    b.data[PCS_FRAME_HDR] = 0xff;
    b.data[PCS_FRAME_HDR + 1] = 0xff;
    int rc = raw_call(r, b.data, b.len);
    pcs_buf_free(&b);
    assert_int_equal(rc, 1); /* no answer: closed */
}

/* A value whose length runs past the frame. */
static void bad_frame_vlen(raw *r)
{
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 1);
    b.data[PCS_FRAME_HDR + 4 + 1] = 0x7f; /* u32 length of the BYTES value */
    int rc = raw_call(r, b.data, b.len);
    pcs_buf_free(&b);
    assert_int_equal(rc, 1);
}

/* A message larger than the largest value plus the slack, in chunks. */
static void bad_too_large(raw *r)
{
    size_t len = (size_t)r->w.max_value + PCS_FRAME_SLACK + 4096;
    uint8_t *m = calloc(1, len);
    assert_non_null(m);
    uint32_t l32 = (uint32_t)len;
    memcpy(m, &l32, 4);
    m[4] = PCS_OP_SET;
    int rc = raw_call(r, m, len);
    free(m);
    assert_int_equal(rc, 1);
}

/* The response ring's tail (ours to write) set past the daemon's head. */
static void bad_resp_tail(raw *r)
{
    atomic_store(r->resp.tail, 4096);
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 1);
    int rc = raw_call(r, b.data, b.len);
    pcs_buf_free(&b);
    assert_int_equal(rc, 1);
}

/* Descriptors along with a wake byte: the daemon closes them and carries on. */
static int send_fds(int fd, int nfds)
{
    int fds[32];
    for (int i = 0; i < nfds; i++)
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 32)];
    } cm;
    memset(&cm, 0, sizeof cm);
    struct iovec iov = {"w", 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    mh.msg_control = cm.b;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
    ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    return n == 1 ? 0 : -1;
}

static void fds_then_work(raw *r)
{
    assert_int_equal(send_fds(r->fd, 3), 0);
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 1);
    assert_int_equal(raw_call(r, b.data, b.len), 0); /* still served */
    pcs_buf_free(&b);
}

static void too_many_fds(raw *r)
{
    assert_int_equal(send_fds(r->fd, 24), 0); /* more than it takes: MSG_CTRUNC */
}

/* Handshakes that go wrong. */
static void check_bad_hello(pt_daemon *d, const void *hello, size_t len, bool want_welcome)
{
    int fd = raw_socket(d->dir);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, hello, len, MSG_NOSIGNAL), (ssize_t)len);
    if (want_welcome) {
        pcs_welcome w;
        int fds[4], nfds;
        assert_int_equal(raw_welcome(fd, &w, fds, &nfds), (ssize_t)sizeof w);
        assert_int_equal(nfds, 0);
        assert_true(w.status < 0);
    }
    assert_true(raw_closed(fd, 3000));
    close(fd);
}

static void test_malformed(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(
        pt_daemon_new(d, "malformed",
                      (const char *[]){"--ring-size", "64K", "--max-value", "256K", NULL}),
        0);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    assert_true(pt_daemon_log_has(d, "client 1 (pid", 5000));
    /* The probe is gone once its channel is unmapped (after its socket). */
    assert_int_equal(settle(pt_count_maps, d->pid, CHAN_MAP, 0, 5000), 0);
    int fd0 = pt_count_fds(d->pid);
    /* A peer that never says hello: closed after 5 s (checked at the end). */
    int silent = raw_socket(d->dir);
    assert_true(silent >= 0);
    uint64_t silent_t0 = pt_now_ms();

    pc_client *good = pt_daemon_client(d, 0);
    assert_non_null(good);
    good_works(good, 0);

    /* A well-behaved raw client is served (the harness itself works). */
    raw r;
    assert_int_equal(raw_connect(d->dir, &r), 0);
    assert_int_equal(r.w.ring_size, 64 << 10);
    pcs_buf b = PCS_BUF_INIT;
    enc_get(&b, "good", 7);
    assert_int_equal(raw_call(&r, b.data, b.len), 0);
    pcs_buf_reset(&b);
    enc_get(&b, "missing", 8);
    assert_int_equal(raw_call(&r, b.data, b.len), PC_ENOTFOUND);
    pcs_buf_free(&b);
    raw_close(&r);

    expect_closed(d, good, "a record of an unknown kind", bad_kind, true);
    expect_closed(d, good, "a record with unknown flags", bad_flags, true);
    expect_closed(d, good, "a record longer than a chunk", bad_len_over_chunk, true);
    expect_closed(d, good, "a record longer than what was published", bad_len_over_head, true);
    expect_closed(d, good, "a head more than the ring ahead", bad_head_far, true);
    expect_closed(d, good, "a head near 2^64", bad_head_huge, true);
    expect_closed(d, good, "a head in the middle of a record header", bad_head_partial, true);
    expect_closed(d, good, "a head that goes back", bad_head_back, true);
    expect_closed(d, good, "a message that is no frame", bad_frame_len, true);
    expect_closed(d, good, "a frame with an unknown op", bad_frame_op, true);
    expect_closed(d, good, "a frame with a lying argument count", bad_frame_argc, true);
    expect_closed(d, good, "a frame with a lying value length", bad_frame_vlen, true);
    expect_closed(d, good, "a message larger than allowed", bad_too_large, true);
    expect_closed(d, good, "a response tail past the head", bad_resp_tail, true);
    expect_closed(d, good, "descriptors sent to the daemon", fds_then_work, false);
    expect_closed(d, good, "too many descriptors", too_many_fds, true);

    /* Handshakes: a bad magic, a short hello, and a wrong version (which is
     * answered with an error first). */
    pcs_hello h = {.magic = PCS_HELLO_MAGIC ^ 1, .version = PCS_PROTO_VERSION};
    check_bad_hello(d, &h, sizeof h, false);
    h.magic = PCS_HELLO_MAGIC;
    check_bad_hello(d, &h, 10, false);
    h.version = PCS_PROTO_VERSION + 1;
    check_bad_hello(d, &h, sizeof h, true);
    good_works(good, 100);

    /* The silent peer. */
    uint64_t left = 9000 - (pt_now_ms() - silent_t0);
    assert_true(raw_closed(silent, (int)left));
    assert_true(pt_now_ms() - silent_t0 >= 4500);
    close(silent);
    good_works(good, 101);

    /* Nothing leaked: only the good client's descriptor is left. */
    pc_close(good);
    int fd1 = settle(fds_of, d->pid, NULL, fd0, 5000);
    assert_int_equal(fd1, fd0);
    assert_int_equal(settle(pt_count_maps, d->pid, CHAN_MAP, 0, 5000), 0);
    STOP_OK(d);
    d->passed = true;
}

/* ------------------------------------------------------------------------ */
/* Requests and answers of every shape through the rings                     */

/* Encode SET key = n bytes of pattern seed (id) into b, without padding. */
static void enc_set(pcs_buf *b, const char *key, size_t n, uint64_t seed, uint64_t id)
{
    uint8_t *v = malloc(n ? n : 1);
    assert_non_null(v);
    pt_fill(v, n, seed);
    pcs_enc e;
    pcs_enc_begin(&e, b, PCS_OP_SET, id);
    pcs_enc_bytes(&e, key, strlen(key));
    pcs_enc_bytes(&e, v, n);
    pcs_enc_int(&e, 0);
    pcs_enc_int(&e, 0);
    assert_int_equal(pcs_enc_end(&e), 0);
    b->len = pcs_frame_len(b->data);
    free(v);
}

/* Put msg into the request ring as records of the sizes in cuts (ending
 * with 0; what is left goes in one more record); published by the caller. */
static void raw_put(raw *r, const pcs_buf *msg, const size_t *cuts)
{
    size_t at = 0;
    for (; *cuts; cuts++) {
        assert_int_equal(pcs_ring_put(&r->req, msg->data + at, (uint32_t)*cuts, PCS_REC_MORE), 0);
        at += *cuts;
    }
    assert_int_equal(pcs_ring_put(&r->req, msg->data + at, (uint32_t)(msg->len - at), 0), 0);
}

/* Take the next answer (waiting up to 10 s, a record at a time, with a
 * pause now and then when slow) into *b; its parse. */
static pcs_resp raw_answer(raw *r, pcs_buf *b, bool slow)
{
    pcs_buf_reset(b);
    uint64_t until = pt_now_ms() + 10000;
    unsigned k = 0;
    for (;;) {
        uint32_t n;
        uint16_t flags;
        int rc = pcs_ring_next(&r->resp, &n, &flags);
        if (rc == PC_EAGAIN) {
            assert_false(raw_gone(r));
            assert_true(pt_now_ms() < until);
            pt_sleep_us(200);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(pcs_buf_reserve(b, n), 0);
        pcs_ring_take(&r->resp, b->data + b->len, n);
        pcs_ring_release(&r->resp);
        raw_kick(r); /* room in the ring: the daemon goes on */
        b->len += n;
        if (slow && ++k % 2)
            pt_sleep_ms(2);
        if (!(flags & PCS_REC_MORE))
            break;
    }
    pcs_resp resp;
    size_t sz;
    assert_int_equal(pcs_resp_parse(b->data, b->len, &resp, &sz), 0);
    assert_int_equal(sz, b->len);
    return resp;
}

/* The answer is id's, rc 0, and (when n) carries n bytes of pattern seed. */
static void check_answer(const pcs_resp *a, uint64_t id, size_t n, uint64_t seed)
{
    assert_int_equal(a->id, id);
    assert_int_equal(a->rc, 0);
    if (!n)
        return;
    assert_int_equal(a->nvals, 1);
    const uint8_t *p = a->vals;
    pc_val v;
    assert_int_equal(pcs_val_decode(&p, a->end, &v), 0);
    assert_int_equal(v.kind, PC_BYTES);
    assert_int_equal(v.s.len, n);
    uint8_t *want = malloc(n);
    assert_non_null(want);
    pt_fill(want, n, seed);
    assert_memory_equal(v.s.ptr, want, n);
    free(want);
}

/* What the daemon holds for its clients (pc_stats.buffered), as published
 * after now. */
static uint64_t buffered_now(pc_client *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint64_t until = pt_now_ms() + 10000;
    pc_stats st;
    for (;;) {
        OK(pc_stats_get(c, &st));
        if (st.taken_ms > now)
            return st.buffered;
        assert_true(pt_now_ms() < until);
        pt_sleep_ms(20);
    }
}

/*
 * The daemon copies each request out of its ring once, into the buffer it
 * is decoded from, and encodes each answer once, into a buffer that goes to
 * the ring (docs/protocol.md, "Trust"):
 *  - answers that the ring has room for, and requests of one record, pass
 *    through no buffer of the client's: with clients that read their
 *    answers, the daemon holds nothing for them (pc_stats.buffered is 0);
 *  - a pipeline of requests in one record, in several (the first shorter
 *    than a frame header), two of several back to back, and reads after
 *    them, is answered in order, each request as sent;
 *  - a request in one record across the end of the ring, and one in
 *    several, arrive as sent;
 *  - an answer four times the ring, read slowly, arrives whole, and the
 *    one pipelined after it follows it; afterwards nothing is held.
 */
static void test_copies(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_new(d, "copies",
                                   (const char *[]){"--ring-size", "64K", "--max-value", "512K",
                                                    "--sync", "none", NULL}),
                     0);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *good = pt_daemon_client(d, 0), *ro = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(good);
    assert_non_null(ro);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "small%d", i);
        pc_val v = pc_int(i), got;
        OK(pc_set(good, K(key), &v, 0, 0));
        OK(pc_set(ro, K(key), &v, 0, 0));
        pc_read *rd;
        OK(pc_read_begin(ro, &rd));
        OK(pc_get(rd, K(key), &got));
        pc_read_end(rd);
        assert_int_equal(got.i, i);
    }
    assert_int_equal(buffered_now(good), 0);

    raw r;
    assert_int_equal(raw_connect(d->dir, &r), 0);
    assert_int_equal(r.w.ring_size, 64 << 10);
    pcs_buf m = PCS_BUF_INIT, a = PCS_BUF_INIT;
    /* A pipeline, published at once. */
    enc_set(&m, "one", 100, 1, 1);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_buf_reset(&m);
    enc_set(&m, "several", 20000, 2, 2);
    raw_put(&r, &m, (const size_t[]){5, 10000, 0});
    pcs_buf_reset(&m);
    enc_set(&m, "again", 20000, 3, 3);
    raw_put(&r, &m, (const size_t[]){8000, 0});
    pcs_buf_reset(&m);
    enc_set(&m, "tiny", 1, 4, 4);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_buf_reset(&m);
    enc_get(&m, "several", 5);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_buf_reset(&m);
    enc_get(&m, "again", 6);
    raw_put(&r, &m, (const size_t[]){3, 0});
    pcs_buf_reset(&m);
    enc_get(&m, "one", 7);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_ring_publish(&r.req);
    raw_kick(&r);
    for (uint64_t id = 1; id <= 4; id++) {
        pcs_resp x = raw_answer(&r, &a, false);
        check_answer(&x, id, 0, 0);
    }
    pcs_resp x = raw_answer(&r, &a, false);
    check_answer(&x, 5, 20000, 2);
    x = raw_answer(&r, &a, false);
    check_answer(&x, 6, 20000, 3);
    x = raw_answer(&r, &a, false);
    check_answer(&x, 7, 100, 1);

    /* Across the end of the ring: first move the request ring on with
     * requests of the right sizes until the next one begins 64 bytes
     * before its end. */
    uint32_t size = r.req.size;
    pcs_buf_reset(&m);
    enc_set(&m, "fill", 0, 0, 0);
    size_t base = m.len; /* a filler of n bytes takes a record of 8 + base + n */
    uint64_t id = 10;
    for (;;) {
        size_t gap = (size - 64 - (size_t)(r.req.pos % size)) % size;
        if (gap == 0)
            break;
        size_t rec = gap >= PCS_REC_HDR + base && gap <= 8192 ? gap : 4096;
        pcs_buf_reset(&m);
        enc_set(&m, "fill", rec - PCS_REC_HDR - base, id, id);
        raw_put(&r, &m, (const size_t[]){0});
        pcs_ring_publish(&r.req);
        raw_kick(&r);
        x = raw_answer(&r, &a, false);
        check_answer(&x, id++, 0, 0);
    }
    pcs_buf_reset(&m);
    enc_set(&m, "wrapped", 300, 5, id);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_buf_reset(&m);
    enc_set(&m, "wrapped2", 30000, 6, id + 1);
    raw_put(&r, &m, (const size_t[]){16000, 0});
    pcs_buf_reset(&m);
    enc_get(&m, "wrapped", id + 2);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_ring_publish(&r.req);
    raw_kick(&r);
    x = raw_answer(&r, &a, false);
    check_answer(&x, id, 0, 0);
    x = raw_answer(&r, &a, false);
    check_answer(&x, id + 1, 0, 0);
    x = raw_answer(&r, &a, false);
    check_answer(&x, id + 2, 300, 5);
    pcs_buf_reset(&m);
    enc_get(&m, "wrapped2", id + 3);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_ring_publish(&r.req);
    raw_kick(&r);
    x = raw_answer(&r, &a, false);
    check_answer(&x, id + 3, 30000, 6);

    /* An answer four times the ring, read slowly, and one after it. */
    uint8_t *big = malloc(256 << 10);
    assert_non_null(big);
    pt_fill(big, 256 << 10, 7);
    pc_val bv = pc_mem(big, 256 << 10);
    OK(pc_set(good, K("big"), &bv, 0, 0));
    free(big);
    pcs_buf_reset(&m);
    enc_get(&m, "big", 100);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_buf_reset(&m);
    enc_get(&m, "one", 101);
    raw_put(&r, &m, (const size_t[]){0});
    pcs_ring_publish(&r.req);
    raw_kick(&r);
    x = raw_answer(&r, &a, true);
    check_answer(&x, 100, 256 << 10, 7);
    x = raw_answer(&r, &a, false);
    check_answer(&x, 101, 100, 1);
    pcs_buf_free(&m);
    pcs_buf_free(&a);
    raw_close(&r);
    /* The raw client's reassembly buffer went with it; nothing else is held. */
    uint64_t until = pt_now_ms() + 10000;
    while (buffered_now(good) != 0)
        assert_true(pt_now_ms() < until);
    pc_close(ro);
    pc_close(good);
    STOP_OK(d);
    d->passed = true;
}

int main(void)
{
    pt_init(170);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_clients, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_copies, setup, pt_daemon_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
