/*
 * test_fault_neighbours.c - what another local user may do to the daemon
 * (docs/reliability.md, findings 12.3 to 12.5).  The tests that play other
 * uids need root and are skipped otherwise.
 *
 * roles: --allow-read 65534, --allow-write 65533, --allow-ring-only 65531
 *   (write by default): the read peer reads and is refused every write and
 *   admin op (PC_EACCES, nothing changes); the write and ring-only peers
 *   write and are refused purge, the TTL worker's interval, snapshots, the
 *   client list and flush; the owner does all, and its client list shows
 *   each peer's role.  (Before: a ring-only peer could do all of it.)
 * hello_lockout: --max-clients 8 and a socket open to others: a uid the
 *   policy does not admit opens 40 connections and never says hello, an
 *   admitted uid opens 8; the owner still connects and writes, the refused
 *   connections are answered PC_EACCES at once, the admitted uid gets at
 *   most --max-clients-per-uid.  (Before: PC_EBUSY for everyone.)
 * endless_requests: 24 clients each stream records of a request that never
 *   ends (2 MiB allowed per request); the daemon's buffers stay within
 *   --max-buffers, a small write of another client is served at once, and
 *   --request-timeout closes the streamers.  (Before: 24 x 2 MiB held.)
 * unread_answers: 8 ring-only clients ask for pages of a list of 512 KiB
 *   values and never read the answers; the daemon's buffers stay within
 *   --max-buffers, another ring-only client pages through the whole list,
 *   and --request-timeout closes the ones that do not read.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/mman.h>

#include "../../shm/channel.h"
#include "pctest.h"

#include "../../shm/frame.h"

#define READ_UID 65534
#define WRITE_UID 65533
#define RING_UID 65531

static char dir[256], snapdir[300];

/* Run fn(arg) in a child as uid (gid the same, no supplementary groups);
 * its exit status (0..255), or -1. */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
    pid_t k = fork();
    if (k < 0)
        return -1;
    if (k == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pt_child("peer");
        if (pt_drop(uid, uid, NULL, 0) < 0)
            _exit(100);
        _exit(fn(arg));
    }
    int st;
    while (waitpid(k, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void finish(pt_daemon *d)
{
    int st = pt_daemon_stop(d);
    bool report = pt_sanitizer_report(d->out);
    if (report || st != 0)
        pt_note("daemon log: %s, stderr: %s", d->log, d->out);
    else {
        unlink(d->log);
        unlink(d->out);
    }
    pt_rmtree(dir);
    if (snapdir[0])
        pt_rmtree(snapdir);
    assert_false(report);
    assert_int_equal(st, 0);
}

/* ---- roles ---- */

/* A child's exit code names the first step that went wrong. */
static int peer_ops(void *arg)
{
    int role = *(const int *)arg;
    int deny_w = role >= PC_ROLE_WRITE ? 0 : PC_EACCES;
    pc_client *c;
    if (pt_connect(dir, 0, &c))
        return 1;
    pc_read *r;
    pc_val v;
    if (pc_read_begin(c, &r) || pc_get(r, "k", 1, &v) || v.s.len != 2)
        return 2; /* every role reads */
    pc_read_end(r);
    pc_val nv = pc_str("changed");
    if (pc_set(c, "k", 1, &nv, 0, 0) != deny_w)
        return 3;
    int gone = 0;
    if (pc_del(c, "w", 1, &gone) != deny_w)
        return 4;
    if (pc_txn_begin(c) || pc_set(c, "t", 1, &nv, 0, 0) || pc_txn_commit(c, NULL) != deny_w)
        return 5;
    /* Admin ops: refused to every peer here (none is admin). */
    uint64_t n = 0;
    if (pc_purge_expired(c, &n) != PC_EACCES)
        return 10;
    if (pc_set_expire_interval(c, 0) != PC_EACCES)
        return 11;
    if (pc_snapshot(c, NULL) != PC_EACCES)
        return 12;
    pc_client_info ci[8];
    size_t got, total;
    if (pc_clients(c, ci, 8, &got, &total) != PC_EACCES)
        return 13;
    if (pc_flush(c) != PC_EACCES)
        return 14;
    /* The client still works after its refusals. */
    if (pc_read_begin(c, &r) || pc_get(r, "k", 1, &v))
        return 20;
    pc_read_end(r);
    pc_close(c);
    return 0;
}

/* Connect as a peer and stay until the parent closes the pipe. */
static pid_t stay_connected(uid_t uid, int *pipe_w)
{
    int p[2], q[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(q), 0);
    pid_t k = fork();
    assert_true(k >= 0);
    if (k == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[1]);
        close(q[0]);
        pc_client *c;
        char b = 1;
        if (pt_drop(uid, uid, NULL, 0) < 0 || pt_connect(dir, 0, &c))
            b = 0;
        if (write(q[1], &b, 1) != 1)
            _exit(2);
        (void)read(p[0], &b, 1); /* until the parent closes its end */
        _exit(0);
    }
    close(p[0]);
    close(q[1]);
    char b = 0;
    assert_int_equal(read(q[0], &b, 1), 1);
    close(q[0]);
    assert_int_equal(b, 1);
    *pipe_w = p[1];
    return k;
}

static void roles(void **state)
{
    (void)state;
    pt_need_uids((const uid_t[]){READ_UID, WRITE_UID, RING_UID, 0});
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "roles"), 0);
    snprintf(snapdir, sizeof snapdir, "%s.snap", dir);
    mkdir(snapdir, 0700);
    pt_daemon d;
    pt_daemon_init(&d, dir,
                   PT_ARGS("--sync", "none", "--snapshot-dir", snapdir, "--allow-read", "65534",
                           "--allow-write", "65533", "--allow-ring-only", "65531",
                           "--expire-interval", "100"));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    pc_client *c;
    OK(pt_connect(dir, 0, &c));
    pc_val v0 = pc_str("v0");
    OK(pc_set(c, "k", 1, &v0, 0, 0));
    OK(pc_set(c, "w", 1, &v0, 0, 0));
    int r_read = PC_ROLE_READ, r_write = PC_ROLE_WRITE;
    assert_int_equal(as_user(READ_UID, peer_ops, &r_read), 0);
    /* Nothing the read peer tried changed anything. */
    pc_read *r;
    pc_val v;
    OK(pc_read_begin(c, &r));
    OK(pc_get(r, "k", 1, &v));
    assert_memory_equal(v.s.ptr, "v0", 2);
    OK(pc_get(r, "w", 1, &v));
    RC(PC_ENOTFOUND, pc_get(r, "t", 1, &v));
    pc_read_end(r);
    assert_int_equal(as_user(WRITE_UID, peer_ops, &r_write), 0);
    OK(pc_set(c, "k", 1, &v0, 0, 0));
    assert_int_equal(as_user(RING_UID, peer_ops, &r_write), 0);
    /* The admin ops the peers were refused changed nothing. */
    pc_stats st;
    OK(pc_stats_get(c, &st));
    assert_int_equal(st.expire_interval_ms, 100);
    OK(pc_read_begin(c, &r));
    OK(pc_get(r, "k", 1, &v));
    pc_read_end(r);
    /* The client list shows each peer's role. */
    int wr, ww;
    pid_t kr = stay_connected(READ_UID, &wr), kw = stay_connected(WRITE_UID, &ww);
    pc_client_info ci[16];
    size_t n, total;
    OK(pc_clients(c, ci, 16, &n, &total));
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (ci[i].uid == READ_UID) {
            assert_int_equal(ci[i].role, PC_ROLE_READ);
            assert_true(ci[i].ring_only);
            seen |= 1;
        } else if (ci[i].uid == WRITE_UID) {
            assert_int_equal(ci[i].role, PC_ROLE_WRITE);
            seen |= 2;
        } else if (ci[i].uid == geteuid()) {
            assert_int_equal(ci[i].role, PC_ROLE_ADMIN);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    close(wr);
    close(ww);
    waitpid(kr, NULL, 0);
    waitpid(kw, NULL, 0);
    /* The owner does all. */
    uint64_t purged;
    OK(pc_purge_expired(c, &purged));
    OK(pc_set_expire_interval(c, 250));
    OK(pc_snapshot(c, NULL));
    OK(pc_flush(c));
    OK(pc_read_begin(c, &r));
    RC(PC_ENOTFOUND, pc_get(r, "k", 1, &v));
    pc_read_end(r);
    pc_close(c);
    printf("RESULT roles read=reads-only write=no-admin ring_only=no-admin owner=all\n");
    finish(&d);
    snapdir[0] = 0;
}

/* ---- hello_lockout ---- */

typedef struct hold {
    unsigned conns;
    unsigned refused_eacces; /* welcomes with PC_EACCES */
    unsigned held;           /* connections still open after a second */
} hold;

static hold *shared;

/* Open conns connections, say nothing; count how they are answered. */
static int hold_silent(void *arg)
{
    (void)arg;
    int fds[64];
    unsigned n = shared->conns < 64 ? shared->conns : 64;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (snprintf(sa.sun_path, sizeof sa.sun_path, "%.80s/%s", dir, PCS_SOCK_NAME) >=
        (int)sizeof sa.sun_path)
        return 2;
    for (unsigned i = 0; i < n; i++) {
        fds[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof sa) < 0)
            return 1;
    }
    pt_sleep_ms(1000);
    for (unsigned i = 0; i < n; i++) {
        pcs_welcome w;
        ssize_t got = recv(fds[i], &w, sizeof w, MSG_DONTWAIT);
        if (got == (ssize_t)sizeof w && w.status == PC_EACCES)
            __atomic_add_fetch(&shared->refused_eacces, 1, __ATOMIC_SEQ_CST);
        else if (got < 0 && errno == EAGAIN)
            __atomic_add_fetch(&shared->held, 1, __ATOMIC_SEQ_CST);
    }
    /* Hold them while the parent tries. */
    pt_sleep_ms(3000);
    return 0;
}

static void hello_lockout(void **state)
{
    (void)state;
    pt_need_uids((const uid_t[]){READ_UID, WRITE_UID, 0});
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "hello"), 0);
    pt_daemon d;
    pt_daemon_init(&d, dir,
                   PT_ARGS("--sync", "none", "--max-clients", "8", "--allow-ring-only", "65533"));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    shared = pt_shared(sizeof *shared);
    /* A uid the policy does not admit: 40 connections, no hello. */
    shared->conns = 40;
    pid_t k1 = fork();
    assert_true(k1 >= 0);
    if (k1 == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(as_user(READ_UID, hold_silent, NULL));
    }
    pt_sleep_ms(1500);
    pc_client *c;
    OK(pt_connect(dir, 0, &c));
    pc_val v = pc_int(1);
    OK(pc_set(c, "lock", 4, &v, 0, 0));
    pc_close(c);
    int st;
    waitpid(k1, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pt_note("not admitted: %u of 40 answered PC_EACCES at once, %u left open",
            shared->refused_eacces, shared->held);
    assert_int_equal(shared->refused_eacces, 40);
    assert_int_equal(shared->held, 0);
    /* An admitted uid: it gets at most a quarter of --max-clients. */
    memset(shared, 0, sizeof *shared);
    shared->conns = 8;
    pid_t k2 = fork();
    assert_true(k2 >= 0);
    if (k2 == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(as_user(WRITE_UID, hold_silent, NULL));
    }
    pt_sleep_ms(1500);
    OK(pt_connect(dir, 0, &c));
    OK(pc_set(c, "lock", 4, &v, 0, 0));
    pc_close(c);
    waitpid(k2, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pt_note("admitted, silent: %u of 8 held open", shared->held);
    assert_true(shared->held <= 2);
    printf("RESULT hello_lockout unadmitted_refused=40/40 admitted_held=%u owner=served\n",
           shared->held);
    munmap(shared, sizeof *shared);
    finish(&d);
}

/* ---- endless_requests, unread_answers ---- */

static uint64_t rss_anon_kb(pid_t pid)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %llu", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* Start a daemon whose memory is measured: in an ASan build, freed memory
 * waits in ASan's quarantine (256 MiB by default) and would count as the
 * daemon's; keep that small. */
static int start_measured(pt_daemon *d)
{
    static char asan[512];
    const char *cur = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%squarantine_size_mb=1", cur ? cur : "",
             cur && *cur ? ":" : "");
    const char *env[] = {asan, NULL};
    d->env = env;
    int rc = pt_daemon_start(d, NULL);
    d->env = NULL;
    return rc;
}

/* Put len bytes into the request ring as records of at most 16 KiB (more:
 * the last one too says more follows), publish and ring.  False when the
 * ring has no room or the daemon closed us. */
static bool put_chunks(pt_raw *r, pcs_ring *req, const uint8_t *p, size_t len, bool more)
{
    while (len) {
        uint32_t n = len > 16384 ? 16384 : (uint32_t)len;
        bool last = n == len;
        uint64_t until = pt_now_ms() + 2000;
        while (pcs_ring_put(req, p, n, (!last || more) ? PCS_REC_MORE : 0)) {
            pcs_ring_publish(req);
            char b = 'w';
            if (pt_raw_closed(r) || pt_now_ms() > until)
                return false;
            (void)send(r->sock, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            pt_sleep_ms(2);
        }
        p += n;
        len -= n;
    }
    pcs_ring_publish(req);
    char b = 'w';
    (void)send(r->sock, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    return true;
}

static bool wait_closed(pt_raw *r, unsigned ms)
{
    uint64_t until = pt_now_ms() + ms;
    while (!pt_raw_closed(r) && pt_now_ms() < until)
        pt_sleep_ms(20);
    return pt_raw_closed(r);
}

#define STREAMERS 24

static void endless_requests(void **state)
{
    (void)state;
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "endless"), 0);
    pt_daemon d;
    /* Requests of up to --max-value + 1 MiB: 2 MiB each. */
    pt_daemon_init(&d, dir,
                   PT_ARGS("--sync", "none", "--max-value", "1M", "--max-memory", "64M",
                           "--max-buffers", "4M", "--request-timeout", "3", "--log-level",
                           "notice"));
    assert_int_equal(start_measured(&d), 0);
    pt_sleep_ms(200);
    uint64_t before = rss_anon_kb(d.pid);
    static pt_raw raw[STREAMERS];
    static uint8_t chunk[1u << 20];
    memset(chunk, 'x', sizeof chunk);
    /* A set whose frame says 2 MiB; 1.5 MiB of it comes, the rest never. */
    uint32_t flen = (2u << 20) - 64;
    memcpy(chunk, &flen, 4);
    uint16_t op = PCS_OP_SET;
    memcpy(chunk + 4, &op, 2);
    memset(chunk + 6, 0, 10);
    for (int i = 0; i < STREAMERS; i++) {
        OK(pt_raw_connect(dir, 1u << 16, 0, &raw[i]));
        pcs_ring req, resp;
        pcs_chan_rings(raw[i].map, 1, &req, &resp);
        bool ok = put_chunks(&raw[i], &req, chunk, sizeof chunk, true);
        memset(chunk, 'y', 16); /* the rest: no header */
        ok = ok && put_chunks(&raw[i], &req, chunk, sizeof chunk / 2, true);
        memcpy(chunk, &flen, 4);
        memcpy(chunk + 4, &op, 2);
        memset(chunk + 6, 0, 10);
        (void)ok; /* a streamer the daemon dropped or closed is fine */
    }
    /* Another client is served meanwhile, at once. */
    pc_client *c;
    OK(pt_connect(dir, 0, &c));
    pc_val v = pc_str("small");
    OK(pc_set(c, "other", 5, &v, 0, 0));
    pc_stats st;
    OK(pt_stats_after(c, pt_wall_ms(), 5000, &st));
    uint64_t after = rss_anon_kb(d.pid);
    pt_note("%d streamers: daemon buffers %" PRIu64 " KiB now, %" PRIu64
            " KiB at most (budget 4096); RssAnon %" PRIu64 " -> %" PRIu64 " KiB",
            STREAMERS, st.buffered >> 10, st.buffered_peak >> 10, before, after);
    assert_true(st.buffered_peak <= (UINT64_C(4) << 20) + (uint64_t)(STREAMERS + 2) * 65536);
    assert_true(after < before + 24 * 1024);
    /* --request-timeout: the ones still open are closed. */
    for (int i = 0; i < STREAMERS; i++) {
        assert_true(wait_closed(&raw[i], 15000));
        pt_raw_close(&raw[i]);
    }
    /* A request as large as allowed is served once they are gone. */
    static char big[1u << 20];
    memset(big, 'b', sizeof big);
    pc_val bv = pc_mem(big, sizeof big);
    OK(pc_set(c, "big", 3, &bv, 0, 0));
    pc_close(c);
    assert_true(pt_file_count(d.log, "--request-timeout") >= 1);
    printf("RESULT endless_requests streamers=%d peak_kib=%" PRIu64 " rss_growth_kib=%" PRIu64 "\n",
           STREAMERS, st.buffered_peak >> 10, after > before ? after - before : 0);
    finish(&d);
}

#define NONREADERS 8
#define ELEMS 16
#define ELEM (512u << 10)

static void unread_answers(void **state)
{
    (void)state;
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/dev/shm", "unread"), 0);
    pt_daemon d;
    pt_daemon_init(&d, dir,
                   PT_ARGS("--sync", "none", "--max-value", "1M", "--max-memory", "64M",
                           "--max-buffers", "4M", "--client-backlog", "1M", "--request-timeout",
                           "3", "--log-level", "notice"));
    assert_int_equal(start_measured(&d), 0);
    pc_client *c;
    OK(pt_connect(dir, 0, &c));
    static char elem[ELEM];
    for (int i = 0; i < ELEMS; i++) {
        memset(elem, 'a' + i, sizeof elem);
        pc_val ev = pc_mem(elem, sizeof elem);
        size_t len;
        OK(pc_rpush(c, "big", 3, &ev, 1, &len));
    }
    pt_sleep_ms(200);
    uint64_t before = rss_anon_kb(d.pid);
    static pt_raw raw[NONREADERS];
    for (int i = 0; i < NONREADERS; i++) {
        OK(pt_raw_connect(dir, 1u << 16, PCS_HELLO_RING_ONLY, &raw[i]));
        pcs_ring req, resp;
        pcs_chan_rings(raw[i].map, 1, &req, &resp);
        /* Pages of the whole list, asked again and again; never read. */
        for (int k = 0; k < 64; k++) {
            pcs_buf b = PCS_BUF_INIT;
            pcs_enc e;
            pcs_enc_begin(&e, &b, PCS_OP_R_SEQRANGE, (uint64_t)k + 1);
            pcs_enc_bytes(&e, "big", 3);
            pcs_enc_int(&e, PC_T_LIST);
            pcs_enc_int(&e, 0);
            pcs_enc_int(&e, -1);
            pcs_enc_int(&e, 1024);
            OK(pcs_enc_end(&e));
            bool ok = put_chunks(&raw[i], &req, b.data, b.len, false);
            pcs_buf_free(&b);
            if (!ok)
                break;
        }
    }
    /* Another ring-only client is served meanwhile, at once (a large answer
     * may be refused with PC_ENOMEM while the budget is full). */
    pc_client *rc;
    OK(pt_connect(dir, PC_OPT_RING_ONLY, &rc));
    pc_val sv = pc_str("small");
    OK(pc_set(c, "small", 5, &sv, 0, 0));
    pc_read *r;
    pc_val got;
    OK(pc_read_begin(rc, &r));
    OK(pc_get(r, "small", 5, &got));
    pc_read_end(r);
    pc_stats st;
    OK(pt_stats_after(c, pt_wall_ms(), 5000, &st));
    uint64_t after = rss_anon_kb(d.pid);
    pt_note("%d clients not reading: daemon buffers %" PRIu64 " KiB now, %" PRIu64
            " KiB at most (budget 4096); RssAnon %" PRIu64 " -> %" PRIu64 " KiB",
            NONREADERS, st.buffered >> 10, st.buffered_peak >> 10, before, after);
    assert_true(st.buffered_peak <= (UINT64_C(4) << 20) + (uint64_t)(NONREADERS + 4) * 65536);
    assert_true(after < before + 48 * 1024);
    /* --request-timeout: the clients that hold unread answers are closed
     * (those answered PC_ENOMEM hold nothing and may stay). */
    uint64_t until = pt_now_ms() + 20000;
    while ((pt_file_count(d.log, "has not read its answers") < 1 || st.buffered > 1u << 20) &&
           pt_now_ms() < until) {
        pt_sleep_ms(100);
        OK(pt_stats_after(c, pt_wall_ms(), 5000, &st));
    }
    assert_true(pt_file_count(d.log, "has not read its answers") >= 1);
    assert_true(st.buffered <= 1u << 20);
    for (int i = 0; i < NONREADERS; i++)
        pt_raw_close(&raw[i]);
    /* The daemon lets go of what the closed clients held (it sees their
     * sockets close in its own time: under TSan, seconds later). */
    until = pt_now_ms() + 20000;
    OK(pt_stats_after(c, pt_wall_ms(), 5000, &st));
    while (st.buffered > 0 && pt_now_ms() < until) {
        pt_sleep_ms(100);
        OK(pt_stats_after(c, pt_wall_ms(), 5000, &st));
    }
    assert_int_equal(st.buffered, 0);
    /* Then the reader gets the whole list, in pages of about 1 MiB. */
    pc_val page[1024];
    size_t n = 0, all = 0, pages = 0;
    int lrc;
    OK(pc_read_begin(rc, &r));
    while ((lrc = pc_lrange(r, "big", 3, (int64_t)all, -1, page, 1024, &n)) == 0 && n) {
        assert_true(n <= 3);
        for (size_t i = 0; i < n; i++)
            assert_true(page[i].kind == PC_BYTES && page[i].s.len == ELEM &&
                        ((const char *)page[i].s.ptr)[0] == (char)('a' + all + i));
        all += n;
        pages++;
    }
    pc_read_end(r);
    OK(lrc);
    assert_int_equal(all, ELEMS);
    pc_close(rc);
    pc_close(c);
    printf("RESULT unread_answers clients=%d peak_kib=%" PRIu64 " rss_growth_kib=%" PRIu64
           " reader_pages=%zu\n",
           NONREADERS, st.buffered_peak >> 10, after > before ? after - before : 0, pages);
    finish(&d);
}

int main(void)
{
    pt_init((unsigned)pt_env_long("FAULT_TIMEOUT", 600));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles),
        cmocka_unit_test(hello_lockout),
        cmocka_unit_test(endless_requests),
        cmocka_unit_test(unread_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
