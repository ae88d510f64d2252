/*
 * test_flush.c - emptying a running cache (pc_flush) and growing it
 * (a restart with a larger --max-memory), against a real pycached.
 *
 *  - pc_flush removes keys of every type, with TTLs, and big collections at
 *    once for every reader that begins after it (trusted and ring-only); a
 *    read open before it keeps its snapshot; the stats page shows no keys,
 *    the flush op counted once per shard; the sweep then deletes every member
 *    (swept grows by exactly their number, bytes_used falls), while a
 *    collection written right after the flush keeps its members.
 *  - In a batch it runs in its place; in a transaction it is PC_ESTATE and
 *    the transaction still commits.  Embedded mode: same, and later writes
 *    sweep the members away (checked in the LMDB files after closing).
 *  - With --snapshot-dir, a snapshot follows the flush, and a restart does not
 *    restore an older snapshot into the emptied store.
 *  - A store made at 8M and filled takes more data after a restart at 16M,
 *    and pcstat shows 16M; a restart below what it holds is refused (exit 1,
 *    a message, the store intact), and so is a smaller size above it.  A
 *    client connected across the grow reads old and new keys (it adopts the
 *    new map); while another read of its process holds the old map it gets
 *    PC_EAGAIN, and that read's views stay valid.
 */
#include <lmdb.h>

#include "pctest.h"

#define SWEPT_WITHIN_MS 20000
#define BIG_LIST 20000
#define BIG_SET 5000
#define SMALL 50

/* ------------------------------------------------------------------------ */
/* Daemons in a directory that outlives them                                 */

/* Start pycached again in d->dir (which exists) with --sync none and args
 * alone, not the options it was made with; 0 once it serves. */
static int run_in(pt_daemon *d, const char *const *args)
{
    pt_daemon_reset(d, PT_ARGS("--sync", "none"));
    return pt_daemon_start(d, args);
}

/* ------------------------------------------------------------------------ */
/* Content                                                                   */

/* Keys of every type, some with TTLs, two big collections.  *members gets
 * how many collection members were written. */
static void fill(pc_client *c, uint64_t *keys, uint64_t *ttls, uint64_t *members)
{
    char k[64];
    *keys = *ttls = *members = 0;
    for (int i = 0; i < SMALL; i++) {
        pc_val v = pc_str("value");
        OK(pc_set(c, K(pt_key(k, sizeof k, "st", (uint64_t)i)), &v, i % 2 ? 600000 : 0, 0));
        *ttls += i % 2;
        v = pc_int(i);
        OK(pc_set(c, K(pt_key(k, sizeof k, "nu", (uint64_t)i)), &v, 0, 0));
        pc_val e[3] = {pc_int(i), pc_str("x"), pc_dbl(2.5)};
        OK(pc_rpush(c, K(pt_key(k, sizeof k, "li", (uint64_t)i)), e, 3, NULL));
        if (i % 5 == 0) {
            OK(pc_expire(c, K(k), 600000, NULL));
            (*ttls)++;
        }
        OK(pc_qpush(c, K(pt_key(k, sizeof k, "qu", (uint64_t)i)), e, 3, NULL));
        OK(pc_sadd(c, K(pt_key(k, sizeof k, "se", (uint64_t)i)), e, 3, NULL));
        pc_bytes f[2] = {pc_b("a", 1), pc_b("b", 1)};
        pc_val hv[2] = {pc_int(1), pc_nil()};
        OK(pc_hset(c, K(pt_key(k, sizeof k, "ma", (uint64_t)i)), f, hv, 2, NULL));
        *members += 3 + 3 + 3 + 2;
    }
    *keys = 6 * SMALL;
    pc_val *items = calloc(BIG_LIST, sizeof *items);
    assert_non_null(items);
    for (int i = 0; i < BIG_LIST; i++)
        items[i] = pc_int(i);
    OK(pc_set_coll(c, K("big.list"), PC_T_LIST, items, BIG_LIST, 0, 0));
    OK(pc_set_coll(c, K("big.set"), PC_T_SET, items, BIG_SET, 600000, 0));
    free(items);
    *keys += 2;
    *ttls += 1;
    *members += BIG_LIST + BIG_SET;
}

/* No key at all, as seen by a new read of c. */
static void assert_empty(pc_client *c)
{
    pc_read *r;
    pc_bytes keys[8];
    size_t n = 99;
    pc_cursor cur = PC_CURSOR_INIT;
    char k[64];
    int yes = 1;
    uint64_t expired = 99;
    OK(pc_read_begin(c, &r));
    while (!cur.done) {
        OK(pc_scan(r, NULL, &cur, keys, 8, &n));
        EQ(n, 0);
    }
    OK(pc_exists(r, K(pt_key(k, sizeof k, "st", 1)), &yes));
    EQ(yes, 0);
    OK(pc_exists(r, K("big.list"), &yes));
    EQ(yes, 0);
    OK(pc_expired_count(r, &expired));
    EQ(expired, 0);
    pc_cursor xc = PC_CURSOR_INIT;
    OK(pc_expiry_scan(r, NULL, &xc, keys, NULL, 8, &n));
    EQ(n, 0);
    pc_read_end(r);
}

/* ------------------------------------------------------------------------ */
/* Flush, daemon mode                                                        */

typedef struct fixture {
    pt_daemon d;
    pc_client *c;  /* trusted */
    pc_client *c2; /* trusted: holds a read across the flush */
    pc_client *ro; /* ring-only */
    char snaps[64];
} fixture;

static int setup_with(void **state, const char *const *extra)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || pt_small_daemon(&f->d, extra) || pt_connect(f->d.dir, 0, &f->c) ||
        pt_connect(f->d.dir, 0, &f->c2) || pt_connect(f->d.dir, PC_OPT_RING_ONLY, &f->ro)) {
        if (f && f->d.pid)
            pt_daemon_end(&f->d);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    static const char *const extra[] = {"--shards", "2", NULL};
    return setup_with(state, extra);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    pc_close(f->c);
    pc_close(f->c2);
    pc_close(f->ro);
    int rc = pt_daemon_end(&f->d);
    if (f->snaps[0])
        pt_rmtree(f->snaps);
    free(f);
    return rc;
}

static void test_flush_daemon(void **state)
{
    fixture *f = *state;
    uint64_t keys, ttls, members;
    pc_stats st, st0;
    fill(f->c, &keys, &ttls, &members);
    assert_int_equal(pt_stats_next(f->ro, &st0), 0);
    EQ(st0.keys[0], keys);
    EQ(st0.keys_ttl, ttls);

    /* A read open before the flush keeps its snapshot. */
    pc_read *old;
    pc_val v;
    char k[64];
    OK(pc_read_begin(f->c2, &old));
    OK(pc_get(old, K(pt_key(k, sizeof k, "st", 2)), &v));

    OK(pc_flush(f->c));
    assert_empty(f->c);
    assert_empty(f->ro);
    OK(pc_get(old, K(pt_key(k, sizeof k, "st", 2)), &v));
    assert_int_equal(v.kind, PC_BYTES);
    assert_memory_equal(v.s.ptr, "value", 5);
    uint64_t len = 0;
    OK(pc_llen(old, K("big.list"), &len));
    EQ(len, BIG_LIST);
    pc_read_end(old);

    /* Written right after: its members are newer than the flush's mark. */
    pc_val e[2] = {pc_str("p"), pc_str("q")};
    OK(pc_rpush(f->c, K("after"), e, 2, NULL));
    v = pc_int(7);
    OK(pc_set(f->c, K("after.n"), &v, 0, 0));

    uint64_t until = pt_now_ms() + SWEPT_WITHIN_MS;
    do {
        assert_int_equal(pt_stats_next(f->ro, &st), 0);
    } while (st.swept < st0.swept + members && pt_now_ms() < until);
    EQ(st.swept, st0.swept + members);
    EQ(st.keys[0], 2);
    EQ(st.keys[PC_T_LIST], 1);
    EQ(st.keys[PC_T_NUMERIC], 1);
    EQ(st.keys[PC_T_STRING] + st.keys[PC_T_SET] + st.keys[PC_T_MAP] + st.keys[PC_T_QUEUE], 0);
    EQ(st.keys_ttl, 0);
    EQ(st.ops[pt_op("flush")], 2); /* one per shard */
    if (st.bytes_used >= st0.bytes_used) {
        print_error("bytes_used %" PRIu64 " after the sweep, %" PRIu64 " before the flush\n",
                    st.bytes_used, st0.bytes_used);
        fail();
    }
    pc_read *r;
    OK(pc_read_begin(f->c, &r));
    OK(pc_llen(r, K("after"), &len));
    EQ(len, 2);
    pc_val got[2];
    size_t n = 0;
    OK(pc_lrange(r, K("after"), 0, -1, got, 2, &n));
    EQ(n, 2);
    assert_memory_equal(got[1].s.ptr, "q", 1);
    pc_read_end(r);

    /* A second flush, then more writes: all fine. */
    OK(pc_flush(f->ro));
    assert_empty(f->c);
    OK(pc_set(f->c, K("again"), &v, 0, 0));
}

static void test_flush_batch_txn(void **state)
{
    fixture *f = *state;
    pc_val v = pc_str("x");
    OK(pc_set(f->c, K("before"), &v, 0, 0));
    OK(pc_batch_begin(f->c));
    OK(pc_set(f->c, K("in.batch.1"), &v, 0, 0));
    OK(pc_flush(f->c));
    OK(pc_set(f->c, K("in.batch.2"), &v, 0, 0));
    EQ(pc_pending(f->c), 1 + 2 + 1);
    int rcs[4] = {1, 1, 1, 1};
    OK(pc_batch_exec(f->c, rcs, 4));
    for (int i = 0; i < 4; i++)
        assert_int_equal(rcs[i], 0);
    pc_read *r;
    int yes;
    OK(pc_read_begin(f->c, &r));
    OK(pc_exists(r, K("before"), &yes));
    EQ(yes, 0);
    OK(pc_exists(r, K("in.batch.1"), &yes));
    EQ(yes, 0);
    OK(pc_exists(r, K("in.batch.2"), &yes));
    EQ(yes, 1);
    pc_read_end(r);

    /* In a transaction: refused, and the transaction is not spoiled. */
    OK(pc_txn_begin(f->c));
    OK(pc_set(f->c, K("in.txn"), &v, 0, 0));
    RC(PC_ESTATE, pc_flush(f->c));
    long failed = 5;
    OK(pc_txn_commit(f->c, &failed));
    OK(pc_read_begin(f->c, &r));
    OK(pc_exists(r, K("in.txn"), &yes));
    EQ(yes, 1);
    pc_read_end(r);
}

/* A snapshot follows the flush; a restart does not bring old keys back. */
static int setup_snap(void **state)
{
    static char snaps[64];
    snprintf(snaps, sizeof snaps, "/dev/shm/pcsnaps.XXXXXX");
    if (!mkdtemp(snaps))
        return -1;
    const char *const extra[] = {"--snapshot-dir", snaps, NULL};
    int rc = setup_with(state, extra);
    if (rc)
        pt_rmtree(snaps);
    else
        snprintf(((fixture *)*state)->snaps, sizeof snaps, "%s", snaps);
    return rc;
}

static void test_flush_snapshot(void **state)
{
    fixture *f = *state;
    char k[64];
    for (int i = 0; i < 20; i++) {
        pc_val v = pc_int(i);
        OK(pc_set(f->c, K(pt_key(k, sizeof k, "sn", (uint64_t)i)), &v, 0, 0));
    }
    pc_snapshot_info info;
    OK(pc_snapshot(f->c, &info));
    EQ(info.keys, 20);
    char before[512];
    snprintf(before, sizeof before, "%s", info.path);
    int64_t t = pt_wall_ms();
    OK(pc_flush(f->c));
    pc_stats st;
    uint64_t until = pt_now_ms() + 10000;
    do {
        assert_int_equal(pt_stats_next(f->ro, &st), 0);
    } while (!((int64_t)st.snapshot_ms >= t && st.snapshot_keys == 0) && pt_now_ms() < until);
    EQ(st.snapshot_keys, 0);
    assert_true((int64_t)st.snapshot_ms >= t);

    /* As if the daemon died before that snapshot: remove it, keeping the
     * one with 20 keys, and restart. */
    pc_close(f->c);
    pc_close(f->c2);
    pc_close(f->ro);
    f->c = f->c2 = f->ro = NULL;
    STOP_OK(&f->d);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "cd %s && for s in pycache-*.db; do [ \"$PWD/$s\" = %s ] || rm -f \"$s\"; done",
             f->snaps, before);
    assert_int_equal(system(cmd), 0);
    const char *const args[] = {"--snapshot-dir", f->snaps, "--max-value", "1M", NULL};
    assert_int_equal(run_in(&f->d, args), 0);
    OK(pt_connect(f->d.dir, 0, &f->c));
    assert_empty(f->c);
    assert_true(pt_daemon_log_has(&f->d, "a flush emptied the store", 0));
}

/* ------------------------------------------------------------------------ */
/* Flush, embedded mode                                                      */

/* Entries of a database in shard s's file, read directly (no client open). */
static uint64_t db_entries(const char *dir, unsigned s, const char *db)
{
    char path[256];
    snprintf(path, sizeof path, "%s/data-%02u.mdb", dir, s);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat ms = {0};
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return ms.ms_entries;
}

static void test_flush_embedded(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/dev/shm/pcflush.XXXXXX");
    assert_non_null(mkdtemp(dir));
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC;
    o.shards = 2;
    o.map_size = 64u << 20;
    pc_client *c;
    OK(pc_connect(dir, &o, &c));
    uint64_t keys, ttls, members;
    fill(c, &keys, &ttls, &members);
    OK(pc_flush(c));
    assert_empty(c);
    /* Each embedded write sweeps a few members: enough writes sweep all. */
    pc_val v = pc_str("y");
    char k[16];
    for (uint64_t i = 0; i < 30000; i++) {
        snprintf(k, sizeof k, "w.%d", (int)(i % 16));
        OK(pc_set(c, K(k), &v, 0, 0));
    }
    pc_val e[1] = {pc_int(1)};
    OK(pc_rpush(c, K("after"), e, 1, NULL));
    pc_close(c);
    EQ(db_entries(dir, 0, "members") + db_entries(dir, 1, "members"), 1);
    EQ(db_entries(dir, 0, "keys") + db_entries(dir, 1, "keys"), 17);
    EQ(db_entries(dir, 0, "sweep") + db_entries(dir, 1, "sweep"), 0);
    pt_rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* Resize                                                                    */

#define VAL 4000

/* The keys "{f}.<i>" share a tag, so one shard holds them all: that shard
 * fills up and its map grows, whatever the store's shard count. */

/* Set keys "{f}.<i>" from *i on until the store is full; *i gets the next. */
static void fill_until_full(pc_client *c, uint64_t *i)
{
    char k[32], buf[VAL];
    for (;; (*i)++) {
        snprintf(k, sizeof k, "{f}.%" PRIu64, *i);
        pt_fill(buf, sizeof buf, *i);
        pc_val v = pc_mem(buf, sizeof buf);
        int rc = pc_set(c, K(k), &v, 0, 0);
        if (rc == PC_EFULL)
            return;
        OK(rc);
    }
}

/* Key {f}.<i> holds its value, as seen by r. */
static int check_key(pc_read *r, uint64_t i)
{
    char k[32], buf[VAL];
    pc_val v;
    snprintf(k, sizeof k, "{f}.%" PRIu64, i);
    int rc = pc_get(r, K(k), &v);
    if (rc)
        return rc;
    pt_fill(buf, sizeof buf, i);
    assert_int_equal(v.s.len, VAL);
    assert_memory_equal(v.s.ptr, buf, VAL);
    return 0;
}

/* The store's cap is want (--max-memory) per shard; its shard count. */
static unsigned max_memory_is(const pt_daemon *d, uint64_t want)
{
    pc_client *c;
    pc_stats st;
    OK(pt_connect(d->dir, PC_OPT_RING_ONLY, &c));
    assert_int_equal(pt_stats_next(c, &st), 0);
    assert_true(st.shards >= 1);
    EQ(st.max_memory, want * st.shards);
    pc_close(c);
    return st.shards;
}

static void test_resize(void **state)
{
    (void)state;
    static const char *const at8[] = {"--max-memory", "8M", "--max-value", "64K", NULL};
    static const char *const at16[] = {"--max-memory", "16M", "--max-value", "64K", NULL};
    pt_daemon d;
    assert_int_equal(pt_small_daemon(&d, at8), 0);
    pc_client *a, *a2, *w;
    OK(pt_connect(d.dir, 0, &a));  /* stays connected across the restarts */
    OK(pt_connect(d.dir, 0, &a2)); /* holds a read on the old map */
    uint64_t n = 0;
    fill_until_full(a, &n);
    uint64_t n8 = n;
    assert_true(n8 > 100);
    max_memory_is(&d, 8u << 20);

    STOP_OK(&d);
    assert_int_equal(run_in(&d, at16), 0);
    unsigned nsh = max_memory_is(&d, 16u << 20);

    /* a2 begins a read on the old map before the store grows past it. */
    pc_read *r2, *r;
    OK(pc_read_begin(a2, &r2));
    OK(check_key(r2, 0));
    pc_val held;
    OK(pc_get(r2, K("{f}.1"), &held));

    /* Past the old map's end (a2's read pins pages: it gets there fast). */
    OK(pt_connect(d.dir, 0, &w));
    char k[32], buf[VAL];
    for (int i = 0; i < 400; i++, n++) {
        snprintf(k, sizeof k, "{f}.%" PRIu64, n);
        pt_fill(buf, sizeof buf, n);
        pc_val v = pc_mem(buf, sizeof buf);
        int rc = pc_set(w, K(k), &v, 0, 0);
        if (rc == PC_EFULL) /* the pinned pages count too */
            break;
        OK(rc);
    }
    /* a's map is too small now: while a2's read holds it, PC_EAGAIN. */
    OK(pc_read_begin(a, &r));
    RC(PC_EAGAIN, check_key(r, n - 1));
    pc_read_end(r);
    pt_fill(buf, sizeof buf, 1);
    assert_memory_equal(held.s.ptr, buf, VAL); /* a2's view is still good */
    pc_read_end(r2);
    OK(pc_read_begin(a, &r));
    OK(check_key(r, n - 1));
    pc_read_end(r);
    /* Nothing pins old pages now: the store fills to its new size. */
    fill_until_full(w, &n);
    if (n < n8 + n8 / 2) {
        print_error("%" PRIu64 " keys fit at 8M, only %" PRIu64 " at 16M\n", n8, n);
        fail();
    }
    /* Now a adopts the new map and reads old and new keys alike. */
    OK(pc_read_begin(a, &r));
    OK(check_key(r, n - 1));
    OK(check_key(r, 0));
    OK(check_key(r, n8 - 1));
    pc_read_end(r);
    OK(pc_read_begin(a2, &r2));
    OK(check_key(r2, n - 2));
    pc_read_end(r2);

    /* pcstat shows the new size. */
    char exe[4096], dopt[200];
    snprintf(exe, sizeof exe, "%s/pcstat", pt_builddir());
    snprintf(dopt, sizeof dopt, "%s", d.dir);
    char *pargv[] = {exe, "-d", dopt, NULL};
    pt_output run;
    assert_int_equal(pt_run(pargv, 10000, &run), 0);
    char want[64];
    snprintf(want, sizeof want, "max_memory:%" PRIu64 "\n", (uint64_t)nsh << 24);
    if (!strstr(run.out, want)) {
        print_error("pcstat said:\n%s%s\n", run.out, run.err);
        fail();
    }
    pt_output_free(&run);
    pc_close(w);
    STOP_OK(&d);

    /* Smaller than what it holds: refused, nothing changed. */
    char exe2[4096], lopt[200];
    snprintf(exe2, sizeof exe2, "%s/pycached", pt_builddir());
    snprintf(lopt, sizeof lopt, "%s", d.log);
    char *bad[] = {exe2,           "--foreground", "-d",          dopt,  "--log-file", lopt,
                   "--max-memory", "8M",           "--max-value", "64K", NULL};
    assert_int_equal(pt_run(bad, 20000, &run), 0);
    assert_true(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 1);
    if (!strstr(run.err, "--max-memory 8388608 is too small for what the store holds")) {
        print_error("pycached said:\n%s\n", run.err);
        fail();
    }
    pt_output_free(&run);
    static const char *const none[] = {"--max-value", "64K", NULL};
    assert_int_equal(run_in(&d, none), 0); /* no --max-memory: the size stays */
    max_memory_is(&d, 16u << 20);
    OK(pt_connect(d.dir, 0, &w));
    OK(pc_read_begin(w, &r));
    for (uint64_t i = 0; i < n; i += 97)
        OK(check_key(r, i));
    OK(check_key(r, n - 1));
    pc_read_end(r);

    pc_close(w);
    pc_close(a);
    pc_close(a2);
    assert_int_equal(pt_daemon_end(&d), 0);

    /* A store made at 16M holding little: 12M is refused all the same. */
    assert_int_equal(pt_small_daemon(&d, at16), 0);
    OK(pt_connect(d.dir, 0, &w));
    for (int i = 0; i < 10; i++) {
        pc_val v = pc_int(i);
        snprintf(k, sizeof k, "s.%d", i);
        OK(pc_set(w, K(k), &v, 0, 0));
    }
    pc_close(w);
    STOP_OK(&d);
    snprintf(dopt, sizeof dopt, "%s", d.dir); /* a new directory */
    snprintf(lopt, sizeof lopt, "%s", d.log);
    bad[7] = "12M";
    assert_int_equal(pt_run(bad, 20000, &run), 0);
    assert_true(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 1);
    if (!strstr(run.err, "--max-memory 12582912 is smaller than the map")) {
        print_error("pycached said:\n%s\n", run.err);
        fail();
    }
    pt_output_free(&run);
    assert_int_equal(run_in(&d, at16), 0);
    max_memory_is(&d, 16u << 20);
    OK(pt_connect(d.dir, 0, &w));
    OK(pc_read_begin(w, &r));
    pc_val v;
    OK(pc_get(r, K("s.9"), &v));
    EQ(v.i, 9);
    pc_read_end(r);
    pc_close(w);
    assert_int_equal(pt_daemon_end(&d), 0);
}

int main(void)
{
    pt_init(240);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flush_daemon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_batch_txn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_snapshot, setup_snap, teardown),
        cmocka_unit_test(test_flush_embedded),
        cmocka_unit_test(test_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
