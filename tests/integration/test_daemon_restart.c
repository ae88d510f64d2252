/*
 * test_daemon_restart.c - clients that outlive their daemon, and deadlines:
 *
 *  - restart on the same store: clients opened before it read what is there
 *    and write again by themselves; the store keeps its identity;
 *  - restart on a wiped store: no client returns the old store's data, not
 *    even one that never wrote; every read begun after the restart sees the
 *    new store (with its new identity);
 *  - kill -9, then a restart: the same, and a read begun before the kill
 *    keeps its snapshot until it ends;
 *  - while no daemon serves the store, a read fails with PC_ECONNREFUSED at
 *    once and a write waits for the daemon up to the client's timeout;
 *  - a write begun during the restart waits and lands on the new daemon;
 *  - long-lived clients in other processes that read and write through
 *    several restarts;
 *  - deadlines: a daemon that is alive but stopped (SIGSTOP) makes a call fail
 *    with PC_ETIMEDOUT after the client's timeout, and the client works again
 *    once the daemon does; pc_qpop_wait() keeps its timeout to within a few
 *    milliseconds against a stopped daemon.
 */
#include <dirent.h>
#include <stdatomic.h>

#include "pctest.h"

static int setup(void **state)
{
    pt_daemon_fixture(state, 120);
    return pt_daemon_new(*state, "restart", NULL);
}

static int teardown(void **state)
{
    pt_daemon *d = *state;
    if (d->pid > 0)
        kill(d->pid, SIGCONT);
    pt_daemon_finish(d);
    return 0;
}

/* A client with a timeout (ms; 0: the default). */
static pc_client *connect_t(const pt_daemon *d, unsigned flags, int64_t timeout_ms)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = flags;
    o.timeout_ms = timeout_ms;
    pc_client *c = NULL;
    int rc = pc_connect(d->dir, &o, &c);
    if (rc)
        fprintf(stderr, "pc_connect(%s): %s\n", d->dir, pc_err_name(rc));
    return c;
}

/* Read key as a string into buf ("" when missing).  The read's code. */
static int read_str(pc_client *c, const char *key, char *buf, size_t n)
{
    pc_read *r;
    int rc = pc_read_begin(c, &r);
    if (rc)
        return rc;
    pc_val v;
    buf[0] = 0;
    rc = pc_get(r, K(key), &v);
    if (rc == 0 && v.kind == PC_BYTES)
        snprintf(buf, n, "%.*s", (int)v.s.len, (const char *)v.s.ptr);
    else if (rc == PC_ENOTFOUND)
        rc = 0;
    pc_read_end(r);
    return rc;
}

static int set_str(pc_client *c, const char *key, const char *s)
{
    pc_val v = pc_str(s);
    return pc_set(c, K(key), &v, 0, 0);
}

static uint64_t store_id(pc_client *c)
{
    pc_store_info si;
    if (pc_store_info_get(c, &si))
        return 0;
    return si.id;
}

/* Remove what the daemon made in its directory (its logs stay). */
static void wipe(const pt_daemon *d)
{
    DIR *dh = opendir(d->dir);
    assert_non_null(dh);
    struct dirent *e;
    char path[512];
    while ((e = readdir(dh)))
        if (!strncmp(e->d_name, "data-", 5) || !strcmp(e->d_name, "pycached.pid")) {
            snprintf(path, sizeof path, "%s/%s", d->dir, e->d_name);
            assert_int_equal(unlink(path), 0);
        }
    closedir(dh);
}

/* What every restart test checks, for a stop by sig (SIGTERM or SIGKILL),
 * with or without wiping the store. */
static void restart_case(pt_daemon *d, int sig, bool wiped)
{
    char buf[64];
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = connect_t(d, 0, 0);                 /* zero-copy */
    pc_client *ro = connect_t(d, PC_OPT_RING_ONLY, 0); /* through the ring */
    pc_client *reader = connect_t(d, 0, 0);            /* only ever reads */
    pc_client *quick = connect_t(d, 0, 300);           /* a short timeout */
    assert_non_null(c);
    assert_non_null(ro);
    assert_non_null(reader);
    assert_non_null(quick);
    OK(set_str(c, "k", "old"));
    OK(set_str(c, "only-old", "x"));
    OK(read_str(reader, "k", buf, sizeof buf));
    assert_string_equal(buf, "old");
    uint64_t id0 = store_id(c);
    assert_int_not_equal(id0, 0);
    assert_int_equal(store_id(ro), id0);

    /* A read begun before the daemon goes keeps its snapshot. */
    pc_read *held;
    OK(pc_read_begin(reader, &held));
    pc_val v;
    OK(pc_get(held, K("k"), &v));

    if (sig == SIGKILL)
        pt_daemon_kill9(d);
    else
        assert_true(pt_exited(pt_daemon_stop_sig(d, sig, 15000), 0));
    OK(pc_get(held, K("only-old"), &v)); /* still the snapshot it began on */
    pc_read_end(held);

    /* No daemon: reads refuse at once, writes wait up to the timeout. */
    uint64_t t0 = pt_now_ms();
    RC(PC_ECONNREFUSED, read_str(reader, "k", buf, sizeof buf));
    RC(PC_ECONNREFUSED, read_str(c, "k", buf, sizeof buf));
    RC(PC_ECONNREFUSED, read_str(ro, "k", buf, sizeof buf));
    assert_true(pt_now_ms() - t0 < 2000);
    t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, set_str(quick, "k", "lost"));
    uint64_t took = pt_now_ms() - t0;
    assert_true(took >= 250 && took < 5000);

    if (wiped)
        wipe(d);
    assert_int_equal(pt_daemon_start(d, NULL), 0);

    /* A newcomer writes through the new daemon. */
    pc_client *fresh = connect_t(d, 0, 0);
    assert_non_null(fresh);
    uint64_t id1 = store_id(fresh);
    if (wiped) {
        assert_int_not_equal(id1, id0);
        OK(set_str(fresh, "k", "new"));
    } else {
        assert_int_equal(id1, id0);
    }
    const char *want = wiped ? "new" : "old";
    const char *want_only = wiped ? "" : "x";

    /* Every old client sees the store now served, never the old one. */
    pc_client *olds[] = {reader, c, ro, quick};
    for (size_t i = 0; i < 4; i++) {
        OK(read_str(olds[i], "k", buf, sizeof buf));
        assert_string_equal(buf, want);
        OK(read_str(olds[i], "only-old", buf, sizeof buf));
        assert_string_equal(buf, want_only);
    }
    /* ... and writes again, by itself. */
    OK(set_str(c, "k", "from-c"));
    OK(set_str(ro, "k2", "from-ro"));
    int64_t n;
    OK(pc_incrby(quick, K("n"), 5, &n));
    assert_int_equal(n, 5);
    OK(read_str(fresh, "k", buf, sizeof buf));
    assert_string_equal(buf, "from-c");
    OK(read_str(reader, "k2", buf, sizeof buf));
    assert_string_equal(buf, "from-ro");
    assert_int_equal(store_id(c), id1);
    assert_int_equal(store_id(ro), id1);
    pc_close(fresh);
    pc_close(quick);
    pc_close(reader);
    pc_close(ro);
    pc_close(c);
    STOP_OK(d);
}

static void test_restart_same_store(void **state)
{
    restart_case(*state, SIGTERM, false);
    ((pt_daemon *)*state)->passed = true;
}

static void test_restart_wiped_store(void **state)
{
    restart_case(*state, SIGTERM, true);
    ((pt_daemon *)*state)->passed = true;
}

static void test_kill9_same_store(void **state)
{
    restart_case(*state, SIGKILL, false);
    ((pt_daemon *)*state)->passed = true;
}

static void test_kill9_wiped_store(void **state)
{
    restart_case(*state, SIGKILL, true);
    ((pt_daemon *)*state)->passed = true;
}

/* ---- a write begun while the daemon is down waits for the new one ---- */

struct wshared {
    _Atomic int stage; /* 1: connected; 2: the daemon is down, write now */
    _Atomic int rc;
    _Atomic uint64_t took_ms;
};

struct warg {
    const char *dir;
    struct wshared *sh;
};

static int waiting_writer(void *arg)
{
    struct warg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.timeout_ms = 20000;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    atomic_store(&a->sh->stage, 1);
    while (atomic_load(&a->sh->stage) != 2)
        pt_sleep_us(1000);
    uint64_t t0 = pt_now_ms();
    pc_val v = pc_str("during");
    atomic_store(&a->sh->rc, pc_set(c, K("w"), &v, 0, 0));
    atomic_store(&a->sh->took_ms, pt_now_ms() - t0);
    pc_close(c);
    return 0;
}

static void test_write_waits_for_restart(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    struct wshared *sh = pt_shared(sizeof *sh);
    atomic_store(&sh->rc, 1);
    struct warg a = {d->dir, sh};
    pid_t k = pt_fork(waiting_writer, &a, 60);
    assert_true(k > 0);
    uint64_t until = pt_now_ms() + 10000;
    while (atomic_load(&sh->stage) != 1 && pt_now_ms() < until)
        pt_sleep_us(1000);
    assert_int_equal(atomic_load(&sh->stage), 1);
    STOP_OK(d);
    atomic_store(&sh->stage, 2);
    pt_sleep_ms(300);
    assert_int_equal(atomic_load(&sh->rc), 1); /* still waiting */
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    assert_true(pt_exited(pt_wait_pid(k, 30000), 0));
    RC(PC_OK, atomic_load(&sh->rc));
    assert_true(atomic_load(&sh->took_ms) >= 250);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    char buf[32];
    OK(read_str(c, "w", buf, sizeof buf));
    assert_string_equal(buf, "during");
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ---- long-lived clients in other processes, through several restarts ---- */

#define ROUNDS 4

struct lshared {
    _Atomic int gen;   /* the parent's restart count; ROUNDS + 1: stop */
    _Atomic int ready; /* children that connected */
    _Atomic int bad[2];
};

struct larg {
    const char *dir;
    struct lshared *sh;
    int id;
    bool ring_only;
};

/* Write "gen:<g>" under my key and read back only values that the store now
 * served can hold: never one of an earlier store generation (every restart
 * here wipes the store). */
static int long_lived(void *arg)
{
    struct larg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? PC_OPT_RING_ONLY : 0;
    o.timeout_ms = 20000;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    atomic_fetch_add(&a->sh->ready, 1);
    char key[16], val[32], got[32];
    snprintf(key, sizeof key, "ll%d", a->id);
    for (;;) {
        int g = atomic_load(&a->sh->gen);
        if (g > ROUNDS)
            break;
        /* The generation the daemon serves, as the store says. */
        int rc = read_str(c, "gen", got, sizeof got);
        if (rc == PC_ECONNREFUSED || rc == PC_ECONNRESET) {
            pt_sleep_us(500);
            continue;
        }
        CKOK(rc);
        if (!got[0]) { /* a store whose "gen" is not written yet */
            pt_sleep_us(200);
            continue;
        }
        int served = atoi(got);
        if (served < g - 1 || served > g) {
            atomic_store(&a->sh->bad[a->id], 100 + served);
            break;
        }
        snprintf(val, sizeof val, "%d", served);
        rc = set_str(c, key, val);
        if (rc == PC_ECONNRESET || rc == PC_ETIMEDOUT)
            continue; /* in flight as the daemon went */
        CKOK(rc);
        /* What we just wrote, or a later store's (then "gen" moved on). */
        rc = read_str(c, key, got, sizeof got);
        if (rc == PC_ECONNREFUSED || rc == PC_ECONNRESET)
            continue;
        CKOK(rc);
        if (got[0] && atoi(got) < served) {
            atomic_store(&a->sh->bad[a->id], 200 + atoi(got));
            break;
        }
    }
    pc_close(c);
    return 0;
}

static void test_long_lived_clients(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    OK(set_str(c, "gen", "0"));
    pc_close(c);
    struct lshared *sh = pt_shared(sizeof *sh);
    struct larg args[2] = {{d->dir, sh, 0, false}, {d->dir, sh, 1, true}};
    pid_t kids[2];
    for (int i = 0; i < 2; i++)
        assert_true((kids[i] = pt_fork(long_lived, &args[i], 100)) > 0);
    uint64_t until = pt_now_ms() + 10000;
    while (atomic_load(&sh->ready) < 2 && pt_now_ms() < until)
        pt_sleep_us(1000);
    for (int g = 1; g <= ROUNDS; g++) {
        pt_sleep_ms(150);
        if (g % 2)
            pt_daemon_kill9(d);
        else
            STOP_OK(d);
        atomic_store(&sh->gen, g);
        wipe(d);
        assert_int_equal(pt_daemon_start(d, NULL), 0);
        c = pt_daemon_client(d, 0);
        assert_non_null(c);
        char s[16];
        snprintf(s, sizeof s, "%d", g);
        OK(set_str(c, "gen", s));
        pc_close(c);
    }
    pt_sleep_ms(150);
    atomic_store(&sh->gen, ROUNDS + 1);
    for (int i = 0; i < 2; i++) {
        assert_true(pt_exited(pt_wait_pid(kids[i], 30000), 0));
        assert_int_equal(atomic_load(&sh->bad[i]), 0);
    }
    /* Both wrote to the last store. */
    c = pt_daemon_client(d, 0);
    assert_non_null(c);
    char got[32];
    OK(read_str(c, "ll0", got, sizeof got));
    assert_string_equal(got, "4");
    OK(read_str(c, "ll1", got, sizeof got));
    assert_string_equal(got, "4");
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ---- deadlines against a daemon that is alive but stopped ---- */

static void test_hung_daemon_times_out(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = connect_t(d, 0, 500);
    pc_client *ro = connect_t(d, PC_OPT_RING_ONLY, 500);
    assert_non_null(c);
    assert_non_null(ro);
    OK(set_str(c, "k", "v"));
    assert_int_equal(kill(d->pid, SIGSTOP), 0);
    uint64_t t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, set_str(c, "k", "w"));
    uint64_t took = pt_now_ms() - t0;
    assert_true(took >= 450 && took < 5000);
    char buf[16];
    t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, read_str(ro, "k", buf, sizeof buf));
    took = pt_now_ms() - t0;
    assert_true(took >= 450 && took < 5000);
    /* The store is still served (the daemon lives): zero-copy reads go on. */
    OK(read_str(c, "k", buf, sizeof buf));
    /* A new client cannot get in either, within its timeout. */
    pc_client *late = NULL;
    pc_options o;
    pc_options_init(&o);
    o.timeout_ms = 300;
    t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_connect(d->dir, &o, &late));
    assert_true(pt_now_ms() - t0 < 5000);
    assert_int_equal(kill(d->pid, SIGCONT), 0);
    /* The clients work again. */
    OK(set_str(c, "k", "after"));
    OK(read_str(ro, "k", buf, sizeof buf));
    assert_string_equal(buf, "after");
    pc_close(c);
    pc_close(ro);
    STOP_OK(d);
    d->passed = true;
}

static void test_qpop_wait_deadline(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_val out[2];
    size_t n;
    /* Healthy daemon: its own timeout. */
    uint64_t t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_qpop_wait(c, K("q"), 1, 300, out, &n));
    uint64_t took = pt_now_ms() - t0;
    /* (the upper bound only catches a wait that never ends: TSan on a
     * loaded machine has answered 2 s late) */
    assert_true(took >= 295 && took < 15000);
    /* A stopped daemon: the same deadline, to within a few milliseconds
     * (the bound here is loose for loaded test machines; the grace the
     * client adds is PC__QPOP_GRACE_MS, 100 ms). */
    assert_int_equal(kill(d->pid, SIGSTOP), 0);
    t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_qpop_wait(c, K("q"), 1, 1000, out, &n));
    took = pt_now_ms() - t0;
    fprintf(stderr, "qpop_wait(1000 ms) against a stopped daemon: %" PRIu64 " ms\n", took);
    assert_true(took >= 995 && took < 1600);
    /* A push while it is stopped is not taken by the waiter that gave up. */
    assert_int_equal(kill(d->pid, SIGCONT), 0);
    pc_val e = pc_int(7);
    uint64_t len;
    OK(pc_qpush(c, K("q"), &e, 1, &len));
    assert_int_equal(len, 1);
    OK(pc_qpop_wait(c, K("q"), 1, 1000, out, &n));
    assert_int_equal(n, 1);
    assert_int_equal(out[0].i, 7);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* The id of this process's one connection, as the daemon lists it. */
static uint64_t own_id(pc_client *c)
{
    pc_client_info ci[16];
    size_t n = 0, total = 0;
    OK(pc_clients(c, ci, 16, &n, &total));
    for (size_t i = 0; i < n; i++)
        if (ci[i].pid == (int64_t)getpid())
            return ci[i].id;
    fail_msg("this process is not in the client list");
    return 0;
}

/* The daemon's own PC_ETIMEDOUT may come a little after the deadline (a
 * loaded machine, a long pass): the client waits for it rather than give up
 * on the channel, which would make its next call connect afresh (and wait
 * out the client's timeout against a hung daemon).  The daemon is stopped
 * over the wait's deadline, 20 ms before to 20 ms after. */
static void test_qpop_wait_late_answer(void **state)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    uint64_t id = own_id(c);
    pid_t stopper = fork();
    assert_true(stopper >= 0);
    if (stopper == 0) {
        pt_child("stopper");
        pt_sleep_ms(280);
        kill(d->pid, SIGSTOP);
        pt_sleep_ms(40);
        kill(d->pid, SIGCONT);
        _exit(0);
    }
    pt_track(stopper);
    pc_val out[2];
    size_t n;
    uint64_t t0 = pt_now_ms();
    RC(PC_ETIMEDOUT, pc_qpop_wait(c, K("q"), 1, 300, out, &n));
    pt_note("a 300 ms wait over a stopped daemon: %" PRIu64 " ms", pt_now_ms() - t0);
    assert_int_equal(pt_wait_pid(stopper, 10000), 0);
    pt_untrack(stopper);
    kill(d->pid, SIGCONT);
    uint64_t again = own_id(c);
    CHECK(again == id, "the client connected afresh (id %" PRIu64 ", was %" PRIu64 ")", again, id);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

int main(void)
{
    pt_init(600);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_same_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_wiped_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_same_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_wiped_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_waits_for_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lived_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hung_daemon_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qpop_wait_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qpop_wait_late_answer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
