/*
 * test_snapshot_consistency.c - a snapshot taken while 4 processes write is
 * exactly the store as of one commit, in one shard and across shards.
 *
 * Writers (forked processes, a client each) run until told to stop:
 *
 *  - "txn" mode: each step is a transaction that moves an amount between two
 *    of 16 counters (the total stays 16 * 1000) and appends the step number to
 *    the writer's own list.  A cut through the middle of a transaction shows a
 *    wrong total, or a list that does not match.
 *  - "spread" mode (4 shards, keys without a common tag): step n appends n to
 *    the writer's list n % 8; the 8 lists lie in several shards.  Because a
 *    writer's steps are acknowledged one by one, every consistent cut holds
 *    exactly steps 0..T-1 of each writer: shard transactions opened at
 *    different moments show a list ahead of one it follows, or a gap.
 *
 * Meanwhile the test calls pc_snapshot several times; in each file (read with
 * the SQLite C API) the invariants hold, and each writer's steps are a prefix
 * of what it did, at least every step acknowledged before the call and at
 * most one more than was acknowledged after it.
 */
#include <sqlite3.h>

#include "pctest.h"

#define WRITERS 4
#define COUNTERS 16
#define START_AMOUNT 1000
#define SPREAD 8
#define SNAPSHOTS 3
#define FILLER 20000

typedef enum mode { M_TXN, M_SPREAD } mode;

typedef struct shared {
    uint64_t acked[WRITERS]; /* steps acknowledged, per writer */
    int stop;
} shared;

typedef struct cfg {
    const char *name;
    const char *shards;
    const char *tag; /* "" or "{bank}": prefix of every key */
    mode m;
} cfg;

static shared *sh;
static const cfg *cur_cfg;
static const char *cur_dir;
static int cur_writer;

static void counter_key(char *k, size_t n, int i)
{
    snprintf(k, n, "%sc%02d", cur_cfg->tag, i);
}

static void log_key(char *k, size_t n, int w)
{
    snprintf(k, n, "%slog%d", cur_cfg->tag, w);
}

static void spread_key(char *k, size_t n, int w, int j)
{
    snprintf(k, n, "w%d:l%d", w, j);
}

static int writer(void *arg)
{
    (void)arg;
    int me = cur_writer;
    pc_client *c = NULL;
    CKOK(pc_connect(cur_dir, NULL, &c));
    pt_rng rng = {(uint64_t)me * 7919 + 1};
    char ka[64], kb[64], kl[64];
    log_key(kl, sizeof kl, me);
    for (uint64_t n = 0; !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE); n++) {
        pc_val step = pc_int((int64_t)n);
        uint64_t len;
        if (cur_cfg->m == M_TXN) {
            int a = (int)pt_below(&rng, COUNTERS), b = (int)pt_below(&rng, COUNTERS - 1);
            if (b >= a)
                b++;
            int64_t x = 1 + (int64_t)pt_below(&rng, 100), now;
            counter_key(ka, sizeof ka, a);
            counter_key(kb, sizeof kb, b);
            CKOK(pc_txn_begin(c));
            CKOK(pc_incrby(c, K(ka), -x, &now));
            CKOK(pc_incrby(c, K(kb), x, &now));
            CKOK(pc_rpush(c, K(kl), &step, 1, &len));
            long failed = 0;
            CKOK(pc_txn_commit(c, &failed));
            CK(len == n + 1);
        } else {
            spread_key(ka, sizeof ka, me, (int)(n % SPREAD));
            CKOK(pc_rpush(c, K(ka), &step, 1, &len));
            CK(len == n / SPREAD + 1);
        }
        __atomic_store_n(&sh->acked[me], n + 1, __ATOMIC_RELEASE);
    }
    pc_close(c);
    return 0;
}

/* The values of a list in a snapshot, in order, into v (at most max);
 * returns how many there are, or -1 when a value is not an int. */
static int64_t read_list(sqlite3 *db, const char *key, int64_t *v, int64_t max)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT value, kind FROM lists WHERE key=?1 ORDER BY pos", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int64_t n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 0) != SQLITE_INTEGER ||
            strcmp((const char *)sqlite3_column_text(s, 1), "int")) {
            n = -1;
            break;
        }
        if (n < max)
            v[n] = sqlite3_column_int64(s, 0);
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

/* Check one snapshot: a consistent cut, between the acknowledged counts
 * before and after the call. */
static void check_cut(const char *path, const uint64_t *before, const uint64_t *after)
{
    char why[128] = "";
    CHECK(pt_snapshot_complete(path, why, sizeof why), "%s: %s", path, why);
    sqlite3 *db = pt_db_open(path);
    assert_non_null(db);
    static int64_t v[1 << 20];
    char k[64];
    for (int w = 0; w < WRITERS; w++) {
        uint64_t steps;
        if (cur_cfg->m == M_TXN) {
            log_key(k, sizeof k, w);
            int64_t n = read_list(db, k, v, 1 << 20);
            CHECK(n >= 0 && n <= (1 << 20), "%s: list %s unreadable", path, k);
            for (int64_t i = 0; i < n; i++)
                CHECK(v[i] == i, "%s: %s[%" PRId64 "] = %" PRId64 ": not a prefix of the steps",
                      path, k, i, v[i]);
            steps = (uint64_t)n;
        } else {
            int64_t len[SPREAD], total = 0;
            for (int j = 0; j < SPREAD; j++) {
                spread_key(k, sizeof k, w, j);
                len[j] = read_list(db, k, v, 1 << 20);
                CHECK(len[j] >= 0, "%s: list %s unreadable", path, k);
                for (int64_t i = 0; i < len[j]; i++)
                    CHECK(v[i] == j + SPREAD * i,
                          "%s: %s[%" PRId64 "] = %" PRId64 ", expected %" PRId64, path, k, i, v[i],
                          j + SPREAD * i);
                total += len[j];
            }
            /* Steps 0..total-1 exactly: list j holds the n < total with n % 8 == j. */
            for (int j = 0; j < SPREAD; j++) {
                int64_t want = total > j ? (total - j + SPREAD - 1) / SPREAD : 0;
                CHECK(len[j] == want,
                      "%s: writer %d: list %d has %" PRId64 " steps, expected %" PRId64
                      " for a cut after step %" PRId64 ": not one commit across shards",
                      path, w, j, len[j], want, total);
            }
            steps = (uint64_t)total;
        }
        CHECK(steps >= before[w] && steps <= after[w] + 1,
              "%s: writer %d: %" PRIu64 " steps in the snapshot; %" PRIu64
              " were acknowledged before pc_snapshot and %" PRIu64 " after it",
              path, w, steps, before[w], after[w]);
    }
    if (cur_cfg->m == M_TXN) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*), sum(value) FROM numerics WHERE key LIKE '%sc__'"
                 " AND typeof(value)='integer'",
                 cur_cfg->tag);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        int64_t n = sqlite3_column_int64(s, 0), total = sqlite3_column_int64(s, 1);
        sqlite3_finalize(s);
        CHECK(n == COUNTERS && total == COUNTERS * START_AMOUNT,
              "%s: %" PRId64 " counters totalling %" PRId64 ", expected %d totalling %d", path, n,
              total, COUNTERS, COUNTERS * START_AMOUNT);
    }
    /* The filler is all there. */
    CHECK(pt_db_int(db, "SELECT count(*) FROM strings WHERE key LIKE 'fill:%'", -1) == FILLER,
          "%s: filler keys missing", path);
    sqlite3_close(db);
}

/* Are keys a and b (missing keys) in different shards?  (A transaction over
 * both is refused with PC_ECROSSSHARD.) */
static bool cross_shard(pc_client *c, const char *a, const char *b)
{
    OK(pc_txn_begin(c));
    int rc = pc_del(c, K(a), NULL);
    if (!rc)
        rc = pc_del(c, K(b), NULL);
    if (rc) {
        pc_discard(c);
        return rc == PC_ECROSSSHARD;
    }
    rc = pc_txn_commit(c, NULL);
    CHECK(rc == 0 || rc == PC_ECROSSSHARD, "probe transaction: %s", pc_err_name(rc));
    return rc == PC_ECROSSSHARD;
}

static void run_config(pt_ws *w, const cfg *cf)
{
    cur_cfg = cf;
    pt_daemon *a = pt_ws_daemon(w, cf->name);
    char snaps[300];
    snprintf(snaps, sizeof snaps, "%s/%s-snaps", w->dir, cf->name);
    START(a, "--snapshot-dir", snaps, "--snapshot-keep", "0", "--shards", cf->shards);
    cur_dir = a->dir;
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);

    /* Filler, so that each snapshot takes a while; then the counters. */
    char k[64];
    static char names[1000][24];
    pc_bytes keys[1000];
    pc_val vals[1000];
    for (int i = 0; i < FILLER; i += 1000) {
        for (int j = 0; j < 1000; j++) {
            snprintf(names[j], sizeof names[j], "fill:%06d", i + j);
            keys[j] = pc_b(names[j], strlen(names[j]));
            vals[j] = pc_str("some filler value, a few dozen bytes long.....");
        }
        OK(pc_batch_begin(c));
        for (int j = 0; j < 1000; j++)
            OK(pc_set(c, keys[j].ptr, keys[j].len, &vals[j], 0, 0));
        OK(pc_batch_exec(c, NULL, 0));
    }
    if (cf->m == M_TXN)
        for (int i = 0; i < COUNTERS; i++) {
            counter_key(k, sizeof k, i);
            pc_val v = pc_int(START_AMOUNT);
            OK(pc_set(c, K(k), &v, 0, 0));
        }
    if (cf->m == M_SPREAD) {
        /* The lists of a writer lie in more than one shard. */
        char k0[64], kj[64];
        int crossing = 0;
        spread_key(k0, sizeof k0, 0, 0);
        for (int j = 1; j < SPREAD; j++) {
            spread_key(kj, sizeof kj, 0, j);
            crossing += cross_shard(c, k0, kj);
        }
        CHECK(crossing > 0, "the spread keys all lie in one shard: the test proves nothing");
    }
    if (!strcmp(cf->shards, "4") && *cf->tag) {
        char k1[64];
        snprintf(k, sizeof k, "%sprobe-a", cf->tag);
        snprintf(k1, sizeof k1, "%sprobe-zzz", cf->tag);
        CHECK(!cross_shard(c, k, k1), "tagged keys in different shards");
    }

    memset(sh, 0, sizeof *sh);
    pid_t pid[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        cur_writer = i;
        pid[i] = pt_fork(writer, NULL, 40);
        assert_true(pid[i] > 0);
    }
    /* Every writer under way. */
    uint64_t until = pt_now_ms() + 10000;
    for (int i = 0; i < WRITERS; i++)
        while (__atomic_load_n(&sh->acked[i], __ATOMIC_ACQUIRE) < 50 && pt_now_ms() < until)
            pt_sleep_ms(1);
    for (int i = 0; i < WRITERS; i++)
        CHECK(__atomic_load_n(&sh->acked[i], __ATOMIC_ACQUIRE) >= 50, "writer %d is stuck", i);

    char paths[SNAPSHOTS][600];
    uint64_t before[SNAPSHOTS][WRITERS], after[SNAPSHOTS][WRITERS];
    uint64_t took[SNAPSHOTS];
    for (int s = 0; s < SNAPSHOTS; s++) {
        pt_sleep_ms(150);
        for (int i = 0; i < WRITERS; i++)
            before[s][i] = __atomic_load_n(&sh->acked[i], __ATOMIC_ACQUIRE);
        pc_snapshot_info info;
        OK(pc_snapshot(c, &info));
        for (int i = 0; i < WRITERS; i++)
            after[s][i] = __atomic_load_n(&sh->acked[i], __ATOMIC_ACQUIRE);
        snprintf(paths[s], sizeof paths[s], "%s", info.path);
        took[s] = info.took_ms;
    }
    uint64_t progress = 0;
    for (int i = 0; i < WRITERS; i++)
        progress += after[SNAPSHOTS - 1][i] - before[0][i];
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < WRITERS; i++) {
        int st = pt_wait_pid(pid[i], 10000);
        EXITED(st, 0);
    }
    printf("    %s: %" PRIu64 " steps acknowledged while the snapshots ran; snapshots took"
           " %" PRIu64 ", %" PRIu64 ", %" PRIu64 " ms\n",
           cf->name, progress, took[0], took[1], took[2]);
    CHECK(progress > 0, "nothing was written while the snapshots ran");
    for (int s = 0; s < SNAPSHOTS; s++)
        check_cut(paths[s], before[s], after[s]);

    /* And the final state, in a last snapshot, has every step. */
    uint64_t all[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        all[i] = sh->acked[i];
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    check_cut(info.path, all, all);
    pc_close(c);
    STOP_OK(a);
}

static int teardown(void **state)
{
    if (sh)
        __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    pt_ws_finish(*state);
    return 0;
}

static void test_one_shard_transactions(void **state)
{
    static const cfg cf = {"one-shard", "1", "", M_TXN};
    run_config(*state, &cf);
    ((pt_ws *)*state)->passed = true;
}

static void test_four_shards_common_tag(void **state)
{
    static const cfg cf = {"tagged", "4", "{bank}", M_TXN};
    run_config(*state, &cf);
    ((pt_ws *)*state)->passed = true;
}

static void test_four_shards_spread_keys(void **state)
{
    static const cfg cf = {"spread", "4", "", M_SPREAD};
    run_config(*state, &cf);
    ((pt_ws *)*state)->passed = true;
}

int main(void)
{
    pt_init(58);
    sh = pt_shared(sizeof *sh);
    if (!sh)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_shard_transactions, pt_ws_setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_shards_common_tag, pt_ws_setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_shards_spread_keys, pt_ws_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
