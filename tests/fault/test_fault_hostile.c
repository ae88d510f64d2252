/*
 * test_fault_hostile.c - a client that writes anything into its own channel.
 *
 * Two hostile processes connect with the real handshake (shm/hello.h), map
 * their channel memfd themselves, and for FAULT_HOSTILE_SECONDS (default 10;
 * run-long.sh: 600) write into it: random bytes with random head values,
 * out-of-range heads and tails (behind the tail, past the ring), oversize
 * record lengths, well-formed records carrying random or bit-flipped frames,
 * a tampered header page, while a second thread flips bytes of the ring and
 * the counters as the daemon reads them.  They ring the socket, and
 * reconnect whenever the daemon closes them.  They also try to resize the
 * channel (ftruncate: the seals must refuse), to drop the seals, to map the
 * daemon page writable (refused), and mremap their own mapping.
 * Meanwhile a victim runs a deterministic sequence of 240 writes and reads
 * (trusted and ring-only in turn) over and over; each run's transcript (every
 * return code and value) must equal the control run made before the hostile
 * clients started.
 * Pass rule: the daemon never crashes or hangs (every victim run ends within
 * 20 s, the daemon stops cleanly with SIGTERM at the end), no sanitizer
 * report in its stderr (an ASan build's pycached when the build is ASan),
 * every victim transcript equals the control, and the seals held.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <stdatomic.h>

#include "../../shm/channel.h"
#include "../../shm/buf.h"
#include "../../shm/frame.h"
#include "pctest.h"

typedef struct shared {
    _Atomic int stop;
    _Atomic uint64_t connections, closed_by_daemon, bursts;
    _Atomic int seal_broken;
    char seal_why[200];
} shared;

static shared *sh;
static char dir[256];

/* The hostile process races with itself on purpose (a thread flips bytes of
 * the ring that the main thread writes, as the daemon reads them): keep
 * ThreadSanitizer (--enable-tsan) out of those functions; the daemon and the
 * victim stay instrumented. */
#if defined(__SANITIZE_THREAD__)
#define FT_NO_TSAN __attribute__((no_sanitize_thread))
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FT_NO_TSAN __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef FT_NO_TSAN
#define FT_NO_TSAN
#endif

/* ---- the victim ---- */

typedef struct tx {
    uint64_t h;
} tx;

static void tx_bytes(tx *t, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        t->h = (t->h ^ b[i]) * 0x100000001b3ull;
}

static void tx_int(tx *t, int64_t v)
{
    tx_bytes(t, &v, sizeof v);
}

static void tx_val(tx *t, const pc_val *v)
{
    tx_int(t, v->kind);
    if (v->kind == PC_BYTES)
        tx_bytes(t, v->s.ptr, v->s.len);
    else if (v->kind == PC_INT)
        tx_int(t, v->i);
    else if (v->kind == PC_BOOL)
        tx_int(t, v->b);
    else if (v->kind == PC_DOUBLE)
        tx_bytes(t, &v->d, sizeof v->d);
}

/* The deterministic sequence; returns its transcript's hash, or 0 if the
 * client could not connect. */
static uint64_t victim_run(unsigned flags)
{
    pc_client *c;
    int rc0 = pt_connect(dir, flags, &c);
    /* Bug 2 of docs/reliability.md (fixed; connect_storm in test_fault_regress
     * asserts it) is not what this test is about: one retry. */
    if (rc0 == PC_EPROTO)
        rc0 = pt_connect(dir, flags, &c);
    if (rc0)
        return 0;
    tx t = {0xcbf29ce484222325ull};
    static const char *const keys[] = {"v:s0", "v:s1", "v:s2", "v:s3",  "v:s4",
                                       "v:n",  "v:l",  "v:h",  "v:set", "v:q"};
    for (size_t i = 0; i < PT_LEN(keys); i++)
        pc_del(c, keys[i], strlen(keys[i]), NULL);
    for (int i = 0; i < 240; i++) {
        int rc = 0;
        char buf[32];
        tx_int(&t, i);
        switch (i % 8) {
        case 0: {
            snprintf(buf, sizeof buf, "value-%d", i);
            pc_val v = pc_str(buf);
            rc = pc_set(c, keys[i / 8 % 5], 4, &v, 0, 0);
            break;
        }
        case 1: {
            pc_read *r;
            pc_val v;
            if (!(rc = pc_read_begin(c, &r))) {
                rc = pc_get(r, keys[(i * 7) % 5], 4, &v);
                if (!rc)
                    tx_val(&t, &v);
                pc_read_end(r);
            }
            break;
        }
        case 2: {
            int64_t now = 0;
            rc = pc_incrby(c, "v:n", 3, i, &now);
            tx_int(&t, now);
            break;
        }
        case 3: {
            snprintf(buf, sizeof buf, "e%d", i);
            pc_val v = pc_str(buf);
            uint64_t len = 0;
            rc = pc_rpush(c, "v:l", 3, &v, 1, &len);
            tx_int(&t, (int64_t)len);
            break;
        }
        case 4: {
            snprintf(buf, sizeof buf, "f%d", i % 13);
            pc_bytes f = pc_b(buf, strlen(buf));
            pc_val v = pc_int(i);
            uint64_t added = 0;
            rc = pc_hset(c, "v:h", 3, &f, &v, 1, &added);
            tx_int(&t, (int64_t)added);
            break;
        }
        case 5: {
            pc_val m = pc_int(i % 17);
            uint64_t added = 0;
            rc = pc_sadd(c, "v:set", 5, &m, 1, &added);
            tx_int(&t, (int64_t)added);
            break;
        }
        case 6: {
            pc_val v = pc_int(i), out;
            size_t n = 0;
            rc = pc_qpush(c, "v:q", 3, &v, 1, NULL);
            if (!rc && i % 16 == 6)
                rc = pc_qpop(c, "v:q", 3, 1, &out, &n);
            if (n)
                tx_val(&t, &out);
            break;
        }
        default: {
            pc_read *r;
            if (!(rc = pc_read_begin(c, &r))) {
                pc_val out[64];
                size_t n = 0;
                uint64_t hl = 0, sc = 0;
                rc = pc_lrange(r, "v:l", 3, 0, -1, out, 64, &n);
                for (size_t k = 0; k < n; k++)
                    tx_val(&t, &out[k]);
                if (!rc)
                    rc = pc_hlen(r, "v:h", 3, &hl);
                if (!rc)
                    rc = pc_scard(r, "v:set", 5, &sc);
                tx_int(&t, (int64_t)(n + hl * 1000 + sc * 1000000));
                pc_read_end(r);
            }
            break;
        }
        }
        tx_int(&t, rc);
    }
    pc_close(c);
    return t.h ? t.h : 1;
}

/* ---- the hostile client ---- */

typedef struct hostile_ctx {
    pt_raw r;
    _Atomic int flipping; /* the flipper thread may work on r while set */
    _Atomic int busy;     /* the flipper is working on r */
    _Atomic int quit;
    pt_rng rng;
    uint64_t flip_seed; /* set before the flipper starts */
} hostile_ctx;

FT_NO_TSAN static void *flipper(void *arg)
{
    hostile_ctx *h = arg;
    pt_rng rng = {h->flip_seed};
    while (!atomic_load(&h->quit)) {
        atomic_store(&h->busy, 1);
        if (!atomic_load(&h->flipping)) {
            atomic_store(&h->busy, 0);
            usleep(100);
            continue;
        }
        uint8_t *base = h->r.map;
        size_t len = h->r.maplen;
        for (int i = 0; i < 64; i++) {
            size_t off;
            switch (pt_next(&rng) % 3) {
            case 0: /* the counters' lines in the header page */
                off = 64 + pt_next(&rng) % ((size_t)5 * 64);
                break;
            case 1: /* the request ring */
                off = PCS_CHAN_HDR + pt_next(&rng) % (len - PCS_CHAN_HDR) / 2;
                break;
            default:
                off = pt_next(&rng) % len;
            }
            __atomic_fetch_xor(&base[off], (uint8_t)(1u << (pt_next(&rng) % 8)), __ATOMIC_RELAXED);
        }
        atomic_store(&h->busy, 0);
    }
    return NULL;
}

/* Stop the flipper and wait until it has let go of the mapping. */
FT_NO_TSAN static void flip_stop(hostile_ctx *h)
{
    atomic_store(&h->flipping, 0);
    while (atomic_load(&h->busy))
        usleep(20);
}

static void seal_broken(const char *what)
{
    if (!atomic_exchange(&sh->seal_broken, 1))
        snprintf(sh->seal_why, sizeof sh->seal_why, "%s", what);
}

/* Try what the seals must refuse. */
FT_NO_TSAN static void try_resize(hostile_ctx *h)
{
    pt_raw *r = &h->r;
    if (ftruncate(r->chan_fd, (off_t)r->maplen * 2) == 0)
        seal_broken("ftruncate grew the channel");
    if (ftruncate(r->chan_fd, 4096) == 0)
        seal_broken("ftruncate shrank the channel");
    if (fcntl(r->chan_fd, F_ADD_SEALS, F_SEAL_WRITE) == 0)
        seal_broken("a seal could be added after F_SEAL_SEAL");
    void *w = mmap(NULL, PCS_DPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->dpage_fd, 0);
    if (w != MAP_FAILED) {
        munmap(w, PCS_DPAGE_SIZE);
        seal_broken("the daemon page mapped writable");
    }
    /* Our own mapping: growing it is allowed (pages past the end would
     * SIGBUS us, not the daemon); we never touch them. */
    flip_stop(h);
    void *m = mremap(r->map, r->maplen, r->maplen * 2, MREMAP_MAYMOVE);
    if (m != MAP_FAILED) {
        void *back = mremap(m, r->maplen * 2, r->maplen, MREMAP_MAYMOVE);
        r->map = back == MAP_FAILED ? m : back;
    }
}

/* Publish one record holding p[0..n) with the given header length field. */
FT_NO_TSAN static void put_record(uint8_t *ring, uint32_t size, uint64_t *head, uint32_t lenfield,
                                  uint16_t flags, const void *p, size_t n)
{
    uint8_t hdr[8];
    memcpy(hdr, &lenfield, 4);
    uint16_t kind = PCS_REC_CHUNK;
    memcpy(hdr + 4, &kind, 2);
    memcpy(hdr + 6, &flags, 2);
    for (size_t i = 0; i < 8; i++)
        ring[(*head + i) % size] = hdr[i];
    for (size_t i = 0; i < n; i++)
        ring[(*head + 8 + i) % size] = ((const uint8_t *)p)[i];
    *head += (8 + n + 7) & ~(size_t)7;
}

/* A frame that is real, then damaged a little, or pure noise. */
FT_NO_TSAN static size_t make_frame(pt_rng *rng, uint8_t *out, size_t cap)
{
    pcs_buf b = PCS_BUF_INIT;
    pcs_enc e;
    uint16_t op = (uint16_t)pt_range(rng, 0, PCS_OP__COUNT + 2);
    pcs_enc_begin(&e, &b, op, pt_next(rng));
    unsigned argc = (unsigned)pt_range(rng, 0, 5);
    for (unsigned i = 0; i < argc; i++) {
        switch (pt_next(rng) % 4) {
        case 0:
            pcs_enc_bytes(&e, "h:key", 5);
            break;
        case 1:
            pcs_enc_int(&e, (int64_t)pt_next(rng));
            break;
        case 2:
            pcs_enc_double(&e, (double)(int64_t)pt_next(rng) / 3.0);
            break;
        default: {
            pc_val v = pc_nil();
            pcs_enc_val(&e, &v);
        }
        }
    }
    pcs_enc_end(&e);
    size_t n = b.len < cap ? b.len : cap;
    memcpy(out, b.data, n);
    pcs_buf_free(&b);
    switch (pt_next(rng) % 4) {
    case 0: /* as is (some are even valid requests) */
        break;
    case 1: /* flip a few bytes */
        for (int i = 0; i < 3 && n; i++)
            out[pt_next(rng) % n] ^= (uint8_t)(1u << (pt_next(rng) % 8));
        break;
    case 2: { /* a lying count or length */
        uint32_t lie = (uint32_t)pt_next(rng);
        if (n >= 20)
            memcpy(out + 16 + pt_next(rng) % 4, &lie, 4);
        break;
    }
    default: /* noise with a header that matches its length */
        n = (size_t)pt_range(rng, 16, cap < 512 ? cap : 512);
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)pt_next(rng);
        uint32_t l = (uint32_t)n;
        memcpy(out, &l, 4);
    }
    return n;
}

static void wake(const pt_raw *r)
{
    char b = 'w';
    if (send(r->sock, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* the daemon has closed us; noticed below */
    }
}

/* One burst of abuse on a fresh connection. */
FT_NO_TSAN static void burst(hostile_ctx *h)
{
    pt_raw *r = &h->r;
    pt_rng *rng = &h->rng;
    if (pt_next(rng) % 4 == 0)
        try_resize(h); /* may move the mapping: before taking pointers into it */
    pcs_chan_hdr *hdr = r->map;
    uint32_t size = r->w.ring_size;
    uint8_t *req = (uint8_t *)r->map + PCS_CHAN_HDR;
    uint64_t head = atomic_load(&hdr->req_head);
    unsigned mode = (unsigned)(pt_next(rng) % 7);
    uint8_t frame[600];
    int steps = (int)pt_range(rng, 1, 200);
    atomic_store(&h->flipping, pt_next(rng) % 2 == 0);
    for (int s = 0; s < steps && !atomic_load(&sh->stop); s++) {
        switch (mode) {
        case 0: /* random bytes, random head */
            for (int i = 0; i < 256; i++)
                req[pt_next(rng) % size] = (uint8_t)pt_next(rng);
            atomic_store(&hdr->req_head,
                         pt_next(rng) % 2 ? pt_next(rng) : head + pt_next(rng) % (2ull * size));
            break;
        case 1: { /* oversize lengths in well-placed headers */
            static const uint32_t lens[] = {0, 1, 7, UINT32_MAX, 0x80000000u, 1u << 20, 1u << 26};
            uint32_t l = pt_next(rng) % 2 ? lens[pt_next(rng) % PT_LEN(lens)] : size / 4 + 8;
            put_record(req, size, &head, l, (uint16_t)(pt_next(rng) % 4), frame, 8);
            atomic_store(&hdr->req_head, head);
            break;
        }
        case 2: { /* well-formed records carrying damaged or noisy frames */
            size_t n = make_frame(rng, frame, sizeof frame);
            put_record(req, size, &head, (uint32_t)n, 0, frame, n);
            atomic_store(&hdr->req_head, head);
            break;
        }
        case 3: /* heads behind the tail, tails past the head */
            atomic_store(&hdr->req_head, atomic_load(&hdr->req_tail) - pt_range(rng, 1, 4096));
            atomic_store(&hdr->resp_tail, atomic_load(&hdr->resp_head) + pt_range(rng, 1, size));
            break;
        case 4: /* a message whose chunks never end, or end too long */
            put_record(req, size, &head, 64, PCS_REC_MORE, frame, 64);
            atomic_store(&hdr->req_head, head);
            break;
        case 5: /* the header page and the response ring scribbled on */
            for (int i = 0; i < 64; i++)
                ((uint8_t *)r->map)[pt_next(rng) % PCS_CHAN_HDR] = (uint8_t)pt_next(rng);
            for (int i = 0; i < 64; i++)
                ((uint8_t *)r->map)[PCS_CHAN_HDR + size + pt_next(rng) % size] =
                    (uint8_t)pt_next(rng);
            atomic_store(&hdr->client_waiting, (uint32_t)pt_next(rng));
            break;
        default: { /* valid frames, consuming answers as a client would, tails jumping */
            size_t n = make_frame(rng, frame, sizeof frame);
            put_record(req, size, &head, (uint32_t)n, 0, frame, n);
            atomic_store(&hdr->req_head, head);
            if (pt_next(rng) % 8)
                atomic_store(&hdr->resp_tail, atomic_load(&hdr->resp_head));
            else
                atomic_store(&hdr->resp_tail, pt_next(rng));
        }
        }
        wake(r);
        if (pt_next(rng) % 8 == 0)
            usleep((useconds_t)pt_range(rng, 10, 2000));
        if (pt_raw_closed(r))
            break;
    }
    /* Give the daemon a moment to read it all, and see whether it closed us. */
    uint64_t until = pt_now_ms() + pt_range(rng, 1, 30);
    while (pt_now_ms() < until && !pt_raw_closed(r))
        usleep(500);
    flip_stop(h);
    if (pt_raw_closed(r))
        atomic_fetch_add(&sh->closed_by_daemon, 1);
    atomic_fetch_add(&sh->bursts, 1);
}

FT_NO_TSAN static void hostile(uint64_t seed)
{
    hostile_ctx h = {.rng = {seed}, .flip_seed = seed ^ 0x5555};
    h.r.sock = -1;
    pthread_t th;
    if (pthread_create(&th, NULL, flipper, &h))
        _exit(3);
    static const uint32_t rings[] = {64u << 10, 128u << 10, 1u << 20};
    while (!atomic_load(&sh->stop)) {
        uint32_t ring = rings[pt_next(&h.rng) % PT_LEN(rings)];
        if (pt_raw_connect(dir, ring, pt_next(&h.rng) % 4 == 0 ? PCS_HELLO_RING_ONLY : 0, &h.r)) {
            usleep(1000);
            continue;
        }
        atomic_fetch_add(&sh->connections, 1);
        burst(&h);
        pt_raw_close(&h.r);
    }
    atomic_store(&h.quit, 1);
    pthread_join(th, NULL);
    _exit(0);
}

static pid_t start_hostile(uint64_t seed)
{
    pid_t k = fork();
    assert_true(k >= 0);
    if (k == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pt_child("hostile");
        hostile(seed);
    }
    pt_track(k);
    return k;
}

/* Run the victim in a child with a time limit; its hash, or 0 on a hang. */
static pid_t daemon_pid;

static uint64_t victim_timed(unsigned flags, unsigned limit_ms)
{
    int p[2];
    if (pipe(p))
        return 0;
    pid_t k = fork();
    if (k == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pt_child("victim");
        close(p[0]);
        uint64_t hsh = victim_run(flags);
        if (write(p[1], &hsh, sizeof hsh) != (ssize_t)sizeof hsh)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    pt_track(k);
    uint64_t hsh = 0, until = pt_now_ms() + limit_ms;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        ssize_t n = read(p[0], &hsh, sizeof hsh);
        if (n == (ssize_t)sizeof hsh || n == 0)
            break;
        if (pt_now_ms() > until) {
            pt_note("victim run did not finish within %u ms: the daemon hangs", limit_ms);
            pt_where(daemon_pid, "pycached");
            pt_where(k, "the victim");
            hsh = 0;
            break;
        }
        usleep(2000);
    }
    close(p[0]);
    kill(k, SIGKILL);
    int st;
    waitpid(k, &st, 0);
    pt_untrack(k);
    return hsh;
}

static void hostile_client(void **state)
{
    (void)state;
    uint64_t seed = pt_seed("hostile client");
    pt_rng rng = {seed};
    long secs = pt_env_long("FAULT_HOSTILE_SECONDS", 10);
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "hostile"), 0);
    sh = pt_shared(sizeof *sh);
    pt_daemon d;
    const char *level = getenv("FAULT_LOG_LEVEL");
    pt_daemon_init(&d, dir,
                   PT_ARGS("--sync", "none", "--max-memory", "256M", "--max-value", "1M",
                           "--log-level", level ? level : "warning"));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    daemon_pid = d.pid;

    /* The control runs, with nobody else around. */
    uint64_t control[2] = {victim_timed(0, 20000), victim_timed(PC_OPT_RING_ONLY, 20000)};
    assert_true(control[0] && control[1]);
    assert_int_equal(victim_timed(0, 20000), control[0]); /* deterministic */

    pid_t hk[2];
    for (int i = 0; i < 2; i++)
        hk[i] = start_hostile(pt_next(&rng));
    uint64_t t0 = pt_now_ms();
    unsigned runs = 0;
    unsigned restarts = 0;
    while (pt_now_ms() - t0 < (uint64_t)secs * 1000) {
        /* A hostile process that died (it is a test tool, and its own
         * races are deliberate) is replaced, and counted. */
        for (int i = 0; i < 2; i++) {
            int hst;
            if (waitpid(hk[i], &hst, WNOHANG) == hk[i]) {
                pt_untrack(hk[i]);
                pt_note("hostile process %d ended (status 0x%x); starting another", (int)hk[i],
                        hst);
                hk[i] = start_hostile(pt_next(&rng));
                restarts++;
            }
        }
        unsigned mode = runs % 2;
        uint64_t got = victim_timed(mode ? PC_OPT_RING_ONLY : 0, 20000);
        if (!pt_daemon_alive(&d)) {
            pt_sanitizer_report(d.out); /* (prints the first line of one) */
            fail_msg("pycached died under the hostile clients (see %s, %s)", d.out, d.log);
        }
        if (got != control[mode])
            fail_msg("victim run %u (%s) differs from the control run", runs,
                     mode ? "ring-only" : "trusted");
        runs++;
    }
    atomic_store(&sh->stop, 1);
    for (int i = 0; i < 2; i++) {
        pt_wait_pid(hk[i], 10000); /* (killed if it is still there then) */
    }
    if (atomic_load(&sh->seal_broken))
        fail_msg("a seal did not hold: %s", sh->seal_why);
    assert_true(atomic_load(&sh->connections) > 0);
    /* Still serving, and the same answers as before. */
    assert_int_equal(victim_timed(0, 20000), control[0]);
    pt_note("%ld s: %u victim runs all equal to the control; hostile connections %" PRIu64
            ", bursts %" PRIu64 ", closed by the daemon %" PRIu64,
            secs, runs, atomic_load(&sh->connections), atomic_load(&sh->bursts),
            atomic_load(&sh->closed_by_daemon));
    printf("RESULT hostile seconds=%ld victim_runs=%u connections=%" PRIu64 " closed=%" PRIu64
           " crashes=0 hangs=0 hostile_restarts=%u\n",
           secs, runs, atomic_load(&sh->connections), atomic_load(&sh->closed_by_daemon), restarts);
    int st = pt_daemon_stop(&d);
    assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_false(pt_sanitizer_report(d.out));
    munmap(sh, sizeof *sh);
    pt_daemon_remove(&d);
}

int main(void)
{
    pt_init((unsigned)pt_env_long("FAULT_TIMEOUT", 600));
    const struct CMUnitTest tests[] = {cmocka_unit_test(hostile_client)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
