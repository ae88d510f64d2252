/*
 * test_helpers.c - issue 16's helpers through a real pycached, from many
 * processes at once:
 *
 *  - 8 processes hammering one GCRA key get exactly the allowed number
 *    through, each "remaining" figure once;
 *  - 8 processes hammering one fixed-window key get exactly the limit
 *    through in every window (the last, cut short, at most the limit);
 *  - 32 processes asking for one missing cached value at once: the loader
 *    runs once, the others wait in the daemon and get its value;
 *  - the owner of a lease killed while computing: a waiting caller takes
 *    the lease over at once (the owner is dead), long before it would end;
 *  - tokens: only the current lease fills; a release wakes a waiter;
 *  - snapshots carry the new types' keys (a lease alone is left out) and a
 *    restored store works on from them.
 */
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "pctest.h"

#define NPROC 8

static int setup(void **state)
{
    pt_daemon_fixture(state, 120);
    return pt_daemon_new(*state, "helpers", NULL) || pt_daemon_start(*state, NULL) ? -1 : 0;
}

/* ---- rate limiting ---- */

#define MAX_PASS 4096

struct tshared {
    _Atomic int go;
    _Atomic uint32_t npass;
    /* Every call let through: its remaining figure, and when its window
     * ends (the caller's wall clock plus reset_after_ms). */
    int64_t remaining[MAX_PASS];
    int64_t ends[MAX_PASS];
};

struct targ {
    const char *dir;
    int idx;
    bool window;
    int calls;         /* GCRA: this many calls */
    uint64_t until_ms; /* window: calls until this wall-clock time */
    struct tshared *sh;
};

static int hammer(void *arg)
{
    struct targ *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->idx % 2 ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    while (!atomic_load(&a->sh->go))
        pt_sleep_us(100);
    for (int i = 0; a->window ? (uint64_t)pt_wall_ms() < a->until_ms : i < a->calls; i++) {
        pc_throttle_info t;
        if (a->window)
            CKOK(pc_throttle_window(c, K("t:window"), 10, 1000, 1, &t));
        else
            CKOK(pc_throttle(c, K("t:gcra"), 99, 1, 3600000, 1, &t));
        if (t.limited)
            continue;
        uint32_t at = atomic_fetch_add(&a->sh->npass, 1);
        CK(at < MAX_PASS);
        a->sh->remaining[at] = t.remaining;
        a->sh->ends[at] = pt_wall_ms() + t.reset_after_ms;
    }
    pc_close(c);
    return 0;
}

static void run_hammers(pt_daemon *d, struct tshared *sh, bool window, uint64_t until)
{
    struct targ a[NPROC];
    pid_t pid[NPROC];
    for (int i = 0; i < NPROC; i++) {
        a[i] = (struct targ){d->dir, i, window, 400, until, sh};
        pid[i] = pt_fork(hammer, &a[i], 60);
        CHECK(pid[i] > 0, "fork");
    }
    atomic_store(&sh->go, 1);
    for (int i = 0; i < NPROC; i++)
        EXITED(pt_wait_pid(pid[i], 60000), 0);
}

static void test_gcra_exact(void **state)
{
    pt_daemon *d = *state;
    struct tshared *sh = pt_shared(sizeof *sh);
    run_hammers(d, sh, false, 0);
    /* 100 at once, then one an hour: exactly 100 of 3200 pass, and each
     * saw another "remaining". */
    EQ(atomic_load(&sh->npass), 100);
    int seen[100] = {0};
    for (uint32_t i = 0; i < 100; i++) {
        int64_t r = sh->remaining[i];
        CHECK(r >= 0 && r < 100 && !seen[r], "remaining %" PRId64 " twice or out of range", r);
        seen[r] = 1;
    }
    d->passed = true;
    munmap(sh, sizeof *sh);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_window_exact(void **state)
{
    pt_daemon *d = *state;
    struct tshared *sh = pt_shared(sizeof *sh);
    run_hammers(d, sh, true, (uint64_t)pt_wall_ms() + 3500);
    uint32_t n = atomic_load(&sh->npass);
    CHECK(n >= 10, "only %u passed in 3.5 s", n);
    /* Group the passes by window: windows of 1 s, whose ends the callers
     * saw within a few ms of each other. */
    int64_t(*pair)[2] = calloc(n, sizeof *pair);
    for (uint32_t i = 0; i < n; i++) {
        pair[i][0] = sh->ends[i];
        pair[i][1] = sh->remaining[i];
    }
    qsort(pair, n, sizeof *pair, cmp_i64);
    unsigned windows = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        int seen[10] = {0};
        while (j < n && pair[j][0] - pair[i][0] < 500) {
            int64_t r = pair[j][1];
            CHECK(r >= 0 && r < 10 && !seen[r], "window %u: remaining %" PRId64 " twice", windows,
                  r);
            seen[r] = 1;
            j++;
        }
        windows++;
        /* Every window but the last, which the end of the run cut short,
         * let exactly the limit through. */
        CHECK(j - i == 10 || j == n, "window %u let %u through", windows, j - i);
        CHECK(j - i <= 10, "window %u let %u through", windows, j - i);
        i = j;
    }
    CHECK(windows >= 3, "%u windows in 3.5 s", windows);
    pt_note("%u passes in %u windows", n, windows);
    free(pair);
    d->passed = true;
    munmap(sh, sizeof *sh);
}

/* ---- single flight ---- */

#define STAMPEDE 32

struct fshared {
    _Atomic int ready;
    _Atomic int go;
    _Atomic int loads;      /* loader calls */
    _Atomic int fresh;      /* callers that got the value */
    _Atomic int waited;     /* ... after waiting in a claim */
    _Atomic int lead_pid;   /* who computes, for the kill test */
    _Atomic int64_t led_at; /* when the second caller got the lease (us) */
};

struct farg {
    const char *dir;
    int idx;
    struct fshared *sh;
};

/* The function whose result is cached: counts its calls, takes a while. */
static pc_val load(struct fshared *sh)
{
    atomic_fetch_add(&sh->loads, 1);
    pt_sleep_ms(300);
    return pc_str("the answer");
}

/* What a caller of the cached function does: read, else claim (waiting
 * while another computes), compute when it leads, fill. */
static int caller(void *arg)
{
    struct farg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->idx % 3 == 1 ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    atomic_fetch_add(&a->sh->ready, 1);
    while (!atomic_load(&a->sh->go))
        pt_sleep_us(50);
    pc_read *r;
    pc_flight f;
    CKOK(pc_read_begin(c, &r));
    int rc = pc_flight_get(r, K("fc:key"), &f);
    CK(rc == 0 || rc == PC_ENOTFOUND);
    bool hit = rc == 0 && f.state == PC_FLIGHT_FRESH;
    if (hit)
        CK(f.value.kind == PC_BYTES && f.value.s.len == 10);
    pc_read_end(r);
    if (!hit) {
        CKOK(pc_flight_claim(c, K("fc:key"), 30000, 60000, 0, &f));
        if (f.state == PC_FLIGHT_LEAD) {
            pc_val v = load(a->sh);
            CKOK(pc_flight_fill(c, K("fc:key"), f.token, &v, 3600000, 0));
        } else {
            CK(f.state == PC_FLIGHT_FRESH);
            CK(f.value.kind == PC_BYTES && f.value.s.len == 10 &&
               !memcmp(f.value.s.ptr, "the answer", 10));
            atomic_fetch_add(&a->sh->waited, 1);
        }
    }
    atomic_fetch_add(&a->sh->fresh, 1);
    pc_close(c);
    return 0;
}

static void test_flight_stampede(void **state)
{
    pt_daemon *d = *state;
    struct fshared *sh = pt_shared(sizeof *sh);
    struct farg a[STAMPEDE];
    pid_t pid[STAMPEDE];
    for (int i = 0; i < STAMPEDE; i++) {
        a[i] = (struct farg){d->dir, i, sh};
        pid[i] = pt_fork(caller, &a[i], 90);
        CHECK(pid[i] > 0, "fork");
    }
    uint64_t until = pt_now_ms() + 60000;
    while (atomic_load(&sh->ready) < STAMPEDE && pt_now_ms() < until)
        pt_sleep_ms(1);
    atomic_store(&sh->go, 1);
    for (int i = 0; i < STAMPEDE; i++)
        EXITED(pt_wait_pid(pid[i], 90000), 0);
    pt_note("%d callers: %d loader call(s), %d waited in a claim", STAMPEDE,
            atomic_load(&sh->loads), atomic_load(&sh->waited));
    EQ(atomic_load(&sh->loads), 1);
    EQ(atomic_load(&sh->fresh), STAMPEDE);
    d->passed = true;
    munmap(sh, sizeof *sh);
}

/* The owner: takes the lease, says so, and computes for ever. */
static int stuck_owner(void *arg)
{
    struct farg *a = arg;
    pc_client *c;
    pc_options o;
    pc_options_init(&o);
    CKOK(pc_connect(a->dir, &o, &c));
    pc_flight f;
    CKOK(pc_flight_claim(c, K("fc:dead"), 20000, 0, 0, &f));
    CK(f.state == PC_FLIGHT_LEAD);
    atomic_store(&a->sh->lead_pid, getpid());
    for (;;)
        pause();
}

/* The next caller: waits in a claim, and must lead once the owner died. */
static int next_caller(void *arg)
{
    struct farg *a = arg;
    pc_client *c;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->idx ? PC_OPT_RING_ONLY : 0;
    CKOK(pc_connect(a->dir, &o, &c));
    pc_flight f;
    atomic_store(&a->sh->ready, 1);
    CKOK(pc_flight_claim(c, K("fc:dead"), 20000, 60000, 0, &f));
    atomic_store(&a->sh->led_at, (int64_t)pt_now_us());
    CK(f.state == PC_FLIGHT_LEAD);
    CK(f.owner_pid == getpid());
    pc_val v = pc_int(42);
    CKOK(pc_flight_fill(c, K("fc:dead"), f.token, &v, 60000, 0));
    pc_close(c);
    return 0;
}

static void test_flight_owner_killed(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    for (int round = 0; round < 2; round++) {
        struct fshared *sh = pt_shared(sizeof *sh);
        struct farg a = {d->dir, round, sh};
        int del;
        OK(pc_del(c, K("fc:dead"), &del));
        pid_t owner = pt_fork(stuck_owner, &a, 60);
        uint64_t until = pt_now_ms() + 20000;
        while (!atomic_load(&sh->lead_pid) && pt_now_ms() < until)
            pt_sleep_ms(1);
        CHECK(atomic_load(&sh->lead_pid) == owner, "the owner never led");
        pid_t next = pt_fork(next_caller, &a, 60);
        WAIT_BLOCKED(c, next, NULL);
        uint64_t killed = pt_now_us();
        kill(owner, SIGKILL);
        /* (not reaped until the next caller led: the owner is a zombie
         * meanwhile, and that must count as dead) */
        EXITED(pt_wait_pid(next, 60000), 0);
        int st = pt_wait_pid(owner, 10000);
        CHECK(WIFSIGNALED(st), "the owner was not killed");
        uint64_t took = (uint64_t)atomic_load(&sh->led_at) - killed;
        pt_note("the next caller led %.1f ms after the owner was killed (lease 20 s)",
                (double)took / 1000);
        CHECK(took < 10000000, "took %" PRIu64 " us: not before the lease ran out", took);
        pc_read *r;
        pc_val v;
        pc_flight f;
        OK(pc_read_begin(c, &r));
        OK(pc_flight_get(r, K("fc:dead"), &f));
        EQ(f.state, PC_FLIGHT_FRESH);
        v = f.value;
        VAL_EQ(v, pc_int(42));
        pc_read_end(r);
        munmap(sh, sizeof *sh);
    }
    pc_close(c);
    d->passed = true;
}

/* Tokens through the daemon: only the current lease fills; a release wakes
 * a waiter, who leads; the owner is the client's own pid. */
static void test_flight_tokens_daemon(void **state)
{
    pt_daemon *d = *state;
    pc_client *c = pt_daemon_client(d, 0), *c2 = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(c);
    assert_non_null(c2);
    pc_flight f, g;
    OK(pc_flight_claim(c, K("fc:t"), 30000, 0, 0, &f));
    EQ(f.state, PC_FLIGHT_LEAD);
    EQ(f.owner_pid, getpid());
    pc_val v = pc_str("v");
    RC(PC_ECONFLICT, pc_flight_fill(c2, K("fc:t"), f.token + 1, &v, 1000, 0));
    RC(PC_ECONFLICT, pc_flight_release(c2, K("fc:t"), f.token + 2));
    RC(PC_EBUSY, pc_flight_claim(c2, K("fc:t"), 30000, 0, 0, &g));
    uint64_t t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_flight_claim(c2, K("fc:t"), 30000, 200, 0, &g));
    CHECK(pt_now_ms() - t0 >= 199, "timed out after %" PRIu64 " ms", pt_now_ms() - t0);
    /* The ring-only client reads the lease as it is. */
    pc_read *r;
    OK(pc_read_begin(c2, &r));
    OK(pc_flight_get(r, K("fc:t"), &g));
    EQ(g.state, PC_FLIGHT_MISS);
    EQ(g.token, f.token);
    pc_read_end(r);
    OK(pc_flight_release(c, K("fc:t"), f.token));
    OK(pc_flight_claim(c2, K("fc:t"), 30000, 1000, 0, &g));
    EQ(g.state, PC_FLIGHT_LEAD);
    RC(PC_ECONFLICT, pc_flight_fill(c, K("fc:t"), f.token, &v, 1000, 0));
    OK(pc_flight_fill(c2, K("fc:t"), g.token, &v, 60000, 0));
    OK(pc_flight_claim(c, K("fc:t"), 30000, 0, 0, &f));
    EQ(f.state, PC_FLIGHT_FRESH);
    pc_close(c2);
    pc_close(c);
    d->passed = true;
}

/* ---- bit arrays through the daemon ---- */

/* A ring-only client reads what a trusted one reads zero-copy. */
static void test_bits_ring_only(void **state)
{
    pt_daemon *d = *state;
    pc_client *z = pt_daemon_client(d, 0), *o = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(z);
    assert_non_null(o);
    pt_rng rng = {pt_seed("test_bits_ring_only")};
    for (int i = 0; i < 2000; i++)
        OK(pc_setbit(z, K("rb"), pt_below(&rng, 100000), 1, NULL));
    pc_read *rz, *ro;
    OK(pc_read_begin(z, &rz));
    OK(pc_read_begin(o, &ro));
    uint64_t lz, lo;
    OK(pc_bitlen(rz, K("rb"), &lz));
    OK(pc_bitlen(ro, K("rb"), &lo));
    EQ(lz, lo);
    RC(PC_ENOTFOUND, pc_bitlen(ro, K("none"), &lo));
    for (int k = 0; k < 300; k++) {
        uint64_t off = pt_below(&rng, 110000);
        int bz, bo;
        OK(pc_getbit(rz, K("rb"), off, &bz));
        OK(pc_getbit(ro, K("rb"), off, &bo));
        EQ(bz, bo);
        int64_t s = (int64_t)pt_below(&rng, 30000) - 15000, e = (int64_t)pt_below(&rng, 30000);
        unsigned fl = (unsigned)pt_below(&rng, 4);
        uint64_t cz, co;
        OK(pc_bitcount(rz, K("rb"), s, e, fl & PC_BITS_BIT, &cz));
        OK(pc_bitcount(ro, K("rb"), s, e, fl & PC_BITS_BIT, &co));
        EQ(cz, co);
        int64_t pz, po;
        OK(pc_bitpos(rz, K("rb"), k % 2, s, e, fl, &pz));
        OK(pc_bitpos(ro, K("rb"), k % 2, s, e, fl, &po));
        EQ(pz, po);
    }
    int64_t p;
    RC(PC_EINVAL, pc_bitpos(ro, K("rb"), 3, 0, -1, 0, &p));
    pc_read_end(rz);
    pc_read_end(ro);
    pc_close(o);
    pc_close(z);
    d->passed = true;
}

/* ---- Bloom filters through the daemon ---- */

static void test_bloom_ring_only(void **state)
{
    pt_daemon *d = *state;
    pc_client *z = pt_daemon_client(d, 0), *o = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(z);
    assert_non_null(o);
    OK(pc_bf_reserve(o, K("rbf"), 0.01, 500, 2, 0));
    char buf[64][16];
    pc_bytes items[64];
    int added[64], hz[64], ho[64];
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < 64; i++)
            items[i] = pc_b(buf[i], (size_t)snprintf(buf[i], sizeof buf[i], "i%d", round * 50 + i));
        OK(pc_bf_madd(round % 2 ? o : z, K("rbf"), items, 64, added));
        pc_read *rz, *ro;
        OK(pc_read_begin(z, &rz));
        OK(pc_read_begin(o, &ro));
        OK(pc_bf_mexists(rz, K("rbf"), items, 64, hz));
        OK(pc_bf_mexists(ro, K("rbf"), items, 64, ho));
        CHECK(!memcmp(hz, ho, sizeof hz), "the two clients read otherwise");
        for (int i = 0; i < 64; i++)
            EQ(hz[i], 1);
        pc_bf_info iz, io;
        OK(pc_bf_info_get(rz, K("rbf"), &iz));
        OK(pc_bf_info_get(ro, K("rbf"), &io));
        CHECK(iz.capacity == io.capacity && iz.items == io.items && iz.filters == io.filters &&
                  iz.size == io.size && iz.expansion == io.expansion &&
                  iz.error_rate == io.error_rate && iz.nonscaling == io.nonscaling,
              "bf.info differs");
        RC(PC_ENOTFOUND, pc_bf_info_get(ro, K("none"), &io));
        pc_read_end(rz);
        pc_read_end(ro);
    }
    pc_close(o);
    pc_close(z);
    d->passed = true;
}

/* ---- snapshots and restore ---- */

/* Issue 16's keys in a store: limiters, Flights with values (fresh, stale,
 * kinds, a TTL), a lease alone and a lease over a stale value. */
static void fill16(pc_client *c)
{
    pc_throttle_info t;
    OK(pc_throttle(c, K("s:gcra"), 9, 1, 3600000, 3, &t));
    OK(pc_throttle_window(c, K("s:window"), 10, 3600000, 4, &t));
    const pc_val vals[] = {pc_str("text"), pc_mem("\xff\x00\x80", 3),
                           pc_int(-7),     pc_dbl(2.5),
                           pc_bool(false), pc_nil()};
    for (size_t i = 0; i < PT_LEN(vals); i++) {
        char k[32];
        snprintf(k, sizeof k, "s:flight%zu", i);
        pc_flight f;
        OK(pc_flight_claim(c, K(k), 60000, 0, 0, &f));
        OK(pc_flight_fill(c, K(k), f.token, &vals[i], 3600000, (int64_t)i * 1000));
    }
    pc_flight f;
    pc_val v = pc_str("stale");
    OK(pc_flight_claim(c, K("s:stale"), 60000, 0, 0, &f));
    OK(pc_flight_fill(c, K("s:stale"), f.token, &v, 1, 3600000));
    pt_sleep_ms(5);
    OK(pc_flight_claim(c, K("s:lease-over-stale"), 60000, 0, 0, &f));
    OK(pc_flight_fill(c, K("s:lease-over-stale"), f.token, &v, 1, 3600000));
    pt_sleep_ms(5);
    OK(pc_flight_claim(c, K("s:lease-over-stale"), 60000, 0, 0, &f));
    EQ(f.state, PC_FLIGHT_LEAD);
    OK(pc_flight_claim(c, K("s:lease-alone"), 60000, 0, 0, &f));
    /* Bit arrays: dense, sparse (a bit at 2^32 - 1), with a TTL, a bitop's. */
    for (uint64_t i = 0; i < 20000; i += 3)
        OK(pc_setbit(c, K("{s}bits"), i, 1, NULL));
    OK(pc_setbit(c, K("{s}bits"), (UINT64_C(1) << 32) - 1, 1, NULL));
    OK(pc_setbit(c, K("{s}bits-ttl"), 9, 1, NULL));
    int set;
    OK(pc_expire(c, K("{s}bits-ttl"), 3600000, &set));
    OK(pc_setbit(c, K("{s}zeros"), 50000, 0, NULL));
    pc_bytes src = pc_b(K("{s}bits-ttl"));
    OK(pc_bitop(c, PC_BITOP_NOT, K("{s}not"), &src, 1, NULL));
    /* Bloom filters: grown to several layers, non-scaling, with a TTL. */
    OK(pc_bf_reserve(c, K("s:bf"), 0.01, 200, 3, 0));
    OK(pc_bf_reserve(c, K("s:bf-ns"), 0.001, 50, 0, PC_BF_NONSCALING));
    char item[32];
    for (int i = 0; i < 1500; i++) {
        pc_bytes it = pc_b(item, (size_t)snprintf(item, sizeof item, "item%d", i));
        OK(pc_bf_madd(c, K("s:bf"), &it, 1, NULL));
        if (i < 40)
            OK(pc_bf_madd(c, K("s:bf-ns"), &it, 1, NULL));
    }
    OK(pc_bf_add(c, K("s:bf-ttl"), "one", 3, NULL));
    OK(pc_expire(c, K("s:bf-ttl"), 3600000, &set));
}

/* What the filters answer for items in and out of them. */
static void bloom_answers(pc_client *c, int *out)
{
    pc_read *r;
    char item[32];
    OK(pc_read_begin(c, &r));
    static const char *const keys[] = {"s:bf", "s:bf-ns", "s:bf-ttl"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 3000; i++) {
            int n = snprintf(item, sizeof item, "item%d", i);
            OK(pc_bf_exists(r, K(keys[k]), item, (size_t)n, &out[k * 3000 + i]));
        }
    pc_read_end(r);
}

static void test_snapshot16(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    fill16(c);
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    char why[128] = "";
    CHECK(pt_snapshot_complete(info.path, why, sizeof why), "%s: %s", info.path, why);
    /* A lease alone is left out; the rest is what the store holds. */
    int del;
    OK(pc_del(c, K("s:lease-alone"), &del));
    EQ(del, 1);
    pt_dump before;
    OK(pt_dump_store(c, &before));
    EQ(info.keys, before.n);
    static int answers[9000], answers2[9000];
    bloom_answers(c, answers);
    sqlite3 *db = pt_db_open(info.path);
    assert_non_null(db);
    EQ(pt_db_int(db, "SELECT count(*) FROM flights", -1), 8);
    EQ(pt_db_int(db, "SELECT value FROM meta WHERE name='flight_count'", -1), 8);
    EQ(pt_db_int(db, "SELECT count(*) FROM keys WHERE key='s:lease-alone'", -1), 0);
    EQ(pt_db_int(db, "SELECT value FROM flights WHERE key='s:flight2'", -1), -7);
    EQ(pt_db_int(db, "SELECT count(*) FROM flights WHERE kind='nil' AND value IS NULL", -1), 1);
    EQ(pt_db_int(db, "SELECT value FROM keys WHERE key='s:window'", -1), 4);
    EQ(pt_db_int(db, "SELECT value FROM keys WHERE key='{s}bits'", -1), 1 << 29);
    EQ(pt_db_int(db, "SELECT value FROM keys WHERE key='{s}zeros'", -1), 6251);
    EQ(pt_db_int(db, "SELECT count(*) FROM chunks WHERE key='{s}zeros'", -1), 0);
    EQ(pt_db_int(db, "SELECT count(*) FROM chunks WHERE key='{s}bits'", -1), 4);
    EQ(pt_db_int(db, "SELECT max(chunk) FROM chunks WHERE key='{s}bits'", -1), (1 << 19) - 1);
    EQ(pt_db_int(db, "SELECT value FROM meta WHERE name='chunk_count'", -1),
       pt_db_int(db, "SELECT count(*) FROM chunks", -2));
    EQ(pt_db_int(db, "SELECT count(*) FROM blooms", -1), 3);
    EQ(pt_db_int(db, "SELECT nonscaling FROM blooms WHERE key='s:bf-ns'", -1), 1);
    EQ(pt_db_int(db, "SELECT expansion FROM blooms WHERE key='s:bf'", -1), 3);
    EQ(pt_db_int(db, "SELECT count(*) FROM bloom_layers WHERE key='s:bf'", -1), 3);
    EQ(pt_db_int(db, "SELECT sum(items) FROM bloom_layers WHERE key='s:bf-ns'", -1), 40);
    EQ(pt_db_int(db, "SELECT count(*) FROM chunks WHERE key='s:bf' AND layer=2", -1) > 0, 1);
    pt_db_close(db);
    pt_dump after;
    c = pt_restore_in(w, a, b, c, &before, &after);
    bloom_answers(c, answers2);
    CHECK(!memcmp(answers, answers2, sizeof answers), "the filters answer otherwise");
    int bfa;
    RC(PC_ERANGE, pc_bf_madd(c, K("s:bf-ns"),
                             (pc_bytes[]){pc_b(K("a")), pc_b(K("b")), pc_b(K("c")), pc_b(K("d")),
                                          pc_b(K("e")), pc_b(K("f")), pc_b(K("g")), pc_b(K("h")),
                                          pc_b(K("i")), pc_b(K("j")), pc_b(K("k"))},
                             11, NULL));
    OK(pc_bf_add(c, K("s:bf"), "fresh item", 10, &bfa));
    EQ(bfa, 1);
    /* Restored state works on: the limiter counts on, the stale value is
     * handed to the next caller, who leads (the lease was not kept). */
    pc_throttle_info t;
    OK(pc_throttle_window(c, K("s:window"), 10, 3600000, 1, &t));
    EQ(t.remaining, 5);
    OK(pc_throttle(c, K("s:gcra"), 9, 1, 3600000, 1, &t));
    EQ(t.remaining, 6);
    pc_flight f;
    OK(pc_flight_claim(c, K("s:lease-over-stale"), 60000, 0, 0, &f));
    EQ(f.state, PC_FLIGHT_LEAD);
    VAL_EQ(f.value, pc_str("stale"));
    OK(pc_flight_claim(c, K("s:flight1"), 60000, 0, 0, &f));
    EQ(f.state, PC_FLIGHT_FRESH);
    VAL_EQ(f.value, pc_mem("\xff\x00\x80", 3));
    int old;
    OK(pc_setbit(c, K("{s}bits"), 3, 0, &old));
    EQ(old, 1);
    pt_restore_done(w, b, c, &before, &after);
}

int main(void)
{
    pt_init(300);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gcra_exact, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_window_exact, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_flight_stampede, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_flight_owner_killed, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_flight_tokens_daemon, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_bits_ring_only, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_bloom_ring_only, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot16, pt_ws_setup, pt_ws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
