/*
 * test_snapshot_mysql.c - the MariaDB/MySQL snapshot target (--snapshot-to)
 * against a mariadbd of the test's own (tests/lib/mariadb.c), on a Unix
 * socket with networking off:
 *
 *   roundtrip  every type, with TTLs, through a snapshot and a restore into
 *              an empty store; a key that expires in between is skipped; the
 *              tables and views queried with the mariadb client as a person
 *              would; the previous snapshot kept as pycache_old_*
 *   writers    snapshots while 2 processes write are one moment
 *   faults     wrong credentials, the server down, the server killed in the
 *              middle of a snapshot: a clear error in the log and in the
 *              statistics, the previous snapshot whole, the daemon serving,
 *              a retry after a back-off that succeeds once the server is back
 *   full       the server's table space full in the middle of a snapshot
 *              ("The table ... is full"): PC_ENOSPC in the log and in pcstat,
 *              the previous snapshot whole, the daemon serving, a retry that
 *              succeeds once there is room
 *   tls        over TCP on 127.0.0.1 (the server bound there alone) to an
 *              account that requires TLS, with certificates made now by
 *              openssl: verified against its CA, or TLS unverified, it
 *              works; with a client certificate where the account wants
 *              one; without TLS, verified against another CA or a
 *              certificate for another name, it is refused
 *   refused    a half-written and a foreign schema are refused at start; a
 *              password in the URL; a password file others can read
 *
 * Without a MariaDB server where the test runs it says why and exits 77
 * (skipped); one installed that cannot be made to run is an error (99).
 * The server never outlives the test (tests/lib/mariadb.c).
 */
#include <float.h>
#include <math.h>
#include <signal.h>

#include "pctest.h"

static pt_mariadb M;
static pt_mariadb *S = &M; /* the server SQL_IS asks */

/* pycached's options for the target. */
#define TARGET "--snapshot-to", M.url, "--snapshot-password-file", M.pwfile

/* Assert that the mariadb client prints want for sql (in pcsnap). */
#define SQL_IS(sql, want)                                                                          \
    do {                                                                                           \
        static char sql_out_[1 << 14];                                                             \
        int sql_st_ = pt_mariadb_sql(S, (sql), sql_out_, sizeof sql_out_);                         \
        CHECK(pt_exited(sql_st_, 0) && !strcmp(sql_out_, (want)),                                  \
              "mariadb -e \"%s\"\n    printed  [%s]\n    expected [%s]", (sql), sql_out_, (want)); \
    } while (0)

/* The server as most tests want it: on its Unix socket alone, with its
 * defaults (a test that changed them may have failed before changing them
 * back). */
static int server_as_usual(void)
{
    bool usual = M.pid > 0 && M.port == 0 && !M.extra[0];
    if (usual)
        return 0;
    pt_mariadb_stop(&M, SIGTERM);
    M.port = 0;
    memset(M.extra, 0, sizeof M.extra);
    if (pt_mariadb_run(&M)) {
        fprintf(stderr, "mariadbd does not start again: %s\n", M.why);
        return -1;
    }
    return 0;
}

/* Each test begins with an empty database (the grants stay). */
static int setup(void **state)
{
    char out[256];
    S = &M;
    if (server_as_usual())
        return -1;
    if (!pt_exited(pt_mariadb_sql(&M, "DROP DATABASE IF EXISTS pcsnap; CREATE DATABASE pcsnap", out,
                                  sizeof out),
                   0)) {
        fprintf(stderr, "cannot empty the database: %s\n", out);
        return -1;
    }
    return pt_ws_setup(state);
}

/* n keys PREFIX%06d with a short value, in batches. */
static void put_many(pc_client *c, const char *prefix, int from, int n)
{
    static char kb[1000][24];
    pc_bytes ks[1000];
    pc_val vs[1000];
    for (int i = 0; i < n; i += 1000) {
        int m = n - i < 1000 ? n - i : 1000;
        for (int j = 0; j < m; j++) {
            ks[j] =
                pc_b(kb[j], (size_t)snprintf(kb[j], sizeof kb[j], "%s%06d", prefix, from + i + j));
            vs[j] = pc_str("a value of some length");
        }
        OK(pc_mset(c, ks, vs, (size_t)m));
    }
}

/* Every type the store holds, with and without TTLs. */
static void fill(pc_client *c)
{
    const int64_t hour = 3600000;
    int set;
    pc_val v = pc_str("hello, mariadb");
    OK(pc_set(c, K("str"), &v, 0, 0));
    v = pc_mem("\xff\x00\x80", 3);
    OK(pc_set(c, K("bin\x01key"), &v, hour, 0));
    v = pc_mem("", 0);
    OK(pc_set(c, K("empty"), &v, 0, 0));
    v = pc_int(INT64_MIN);
    OK(pc_set(c, K("n:min"), &v, 0, 0));
    v = pc_dbl(0.1);
    OK(pc_set(c, K("n:tenth"), &v, 2 * hour, 0));
    v = pc_dbl(-0.0);
    OK(pc_set(c, K("n:negzero"), &v, 0, 0));
    const pc_val kinds[] = {pc_str("a"), pc_int(-5),     pc_dbl(2.5),      pc_bool(true),
                            pc_nil(),    pc_dbl(5e-324), pc_mem("\0z", 2), pc_int(INT64_MAX)};
    uint64_t len;
    OK(pc_rpush(c, K("list"), kinds, PT_LEN(kinds), &len));
    OK(pc_lpush(c, K("list"), kinds, 2, &len));
    OK(pc_qpush(c, K("queue"), kinds, PT_LEN(kinds), &len));
    OK(pc_expire(c, K("queue"), hour, &set));
    pc_bytes fields[] = {pc_b(K("name")), pc_b(K("bin\xfe")), pc_b(K("n")), pc_b(K("nil"))};
    pc_val fv[] = {pc_str("pycache"), pc_mem("\x00\x01", 2), pc_dbl(1e300), pc_nil()};
    OK(pc_hset(c, K("map"), fields, fv, PT_LEN(fields), NULL));
    uint64_t added;
    const pc_val members[] = {pc_int(1), pc_str("1"), pc_dbl(1.0), pc_bool(true), pc_str("lmdb")};
    OK(pc_sadd(c, K("set"), members, PT_LEN(members), &added));
    pc_val many[600];
    char names[600][12];
    for (int i = 0; i < 600; i++) {
        snprintf(names[i], sizeof names[i], "m%04d", i);
        many[i] = i % 2 ? pc_int(i) : pc_str(names[i]);
    }
    OK(pc_rpush(c, K("list:long"), many, 600, &len));
    /* Issue 16's types: a limiter, Flights, bit arrays, Bloom filters. */
    pc_throttle_info t;
    OK(pc_throttle_window(c, K("limit"), 10, hour, 4, &t));
    pc_flight f;
    OK(pc_flight_claim(c, K("flight"), 60000, 0, 0, &f));
    v = pc_str("computed");
    OK(pc_flight_fill(c, K("flight"), f.token, &v, hour, 1000));
    OK(pc_flight_claim(c, K("lease-alone"), 60000, 0, 0, &f));
    for (uint64_t i = 0; i < 9000; i += 7)
        OK(pc_setbit(c, K("bits"), i, 1, NULL));
    OK(pc_setbit(c, K("bits"), (UINT64_C(1) << 32) - 1, 1, NULL));
    OK(pc_setbit(c, K("zeros"), 5000, 0, NULL));
    OK(pc_bf_reserve(c, K("bloom"), 0.01, 100, 2, 0));
    char item[32];
    for (int i = 0; i < 400; i++) {
        pc_bytes it = pc_b(item, (size_t)snprintf(item, sizeof item, "item%d", i));
        OK(pc_bf_madd(c, K("bloom"), &it, 1, NULL));
    }
    OK(pc_bf_add(c, K("bloom-ns"), "one", 3, NULL));
    OK(pc_expire(c, K("bloom-ns"), hour, &set));
    /* Issue 17's: a sorted set (ties, -0.0 beside 0.0, the infinities, the
     * largest double) and a Stream with a deleted entry, a group, two
     * consumers and pending entries. */
    pc_zentry ze[] = {{pc_str("a"), -INFINITY}, {pc_str("b"), INFINITY}, {pc_int(7), 1.5},
                      {pc_str("tie1"), 2.0},    {pc_str("tie0"), 2.0},   {pc_dbl(2.5), -0.0},
                      {pc_bool(true), 0.0},     {pc_str("max"), DBL_MAX}};
    OK(pc_zadd(c, K("zset"), ze, PT_LEN(ze), 0, NULL));
    OK(pc_zadd(c, K("zset:ttl"), ze, 2, 0, NULL));
    OK(pc_expire(c, K("zset:ttl"), hour, &set));
    for (int i = 0; i < 10; i++) {
        pc_val sv[4] = {pc_str("n"), pc_int(i), pc_mem("\x01k", 2), pc_dbl(0.5)};
        OK(pc_xadd(c, K("stream"), PC_XADD_EXPLICIT,
                   pc_xid_make(1000 + (uint64_t)i, (uint64_t)i % 2), sv, 1 + (size_t)(i % 2), NULL,
                   0, NULL));
    }
    pc_xid del = pc_xid_make(1003, 1);
    OK(pc_xdel(c, K("stream"), &del, 1, NULL));
    OK(pc_xgroup_create(c, K("stream"), K("g1"), &(pc_xid){0, 0}, -1, 0));
    pc_bytes sk = pc_b("stream", 6);
    pc_xentry xe[16];
    size_t nx;
    OK(pc_xreadgroup(c, K("g1"), K("alice"), &sk, NULL, 1, 4, 0, 0, xe, 16, &nx));
    EQ(nx, 4);
    OK(pc_xgroup_createconsumer(c, K("stream"), K("g1"), K("idle"), NULL));
    OK(pc_xack(c, K("stream"), K("g1"), &xe[0].id, 1, NULL));
}

/* The Bloom filter's answers for items in and out of it. */
static void bloom_answers(pc_client *c, int *out)
{
    pc_read *r;
    char item[32];
    OK(pc_read_begin(c, &r));
    for (int i = 0; i < 800; i++) {
        int n = snprintf(item, sizeof item, "item%d", i);
        OK(pc_bf_exists(r, K("bloom"), item, (size_t)n, &out[i]));
    }
    pc_read_end(r);
}

static void test_roundtrip(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, TARGET);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    fill(c);
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    CHECK(!strcmp(info.path, M.url), "answered with %s", info.path);
    /* Snapshot again with a key that expires before the restore: the
     * first one stays as the backup. */
    pc_val v = pc_str("soon gone");
    uint64_t t_short = pt_now_ms();
    OK(pc_set(c, K("short"), &v, 4000, 0));
    /* and a sorted set and a stream that expire with it */
    pc_zentry sz = {pc_str("gone"), 1};
    OK(pc_zadd(c, K("short:z"), &sz, 1, 0, NULL));
    pc_val sfv[2] = {pc_str("f"), pc_str("gone")};
    OK(pc_xadd(c, K("short:x"), PC_XADD_AUTO, pc_xid_make(0, 0), sfv, 1, NULL, 0, NULL));
    int ex;
    OK(pc_expire(c, K("short:z"), 4000, &ex));
    OK(pc_expire(c, K("short:x"), 4000, &ex));
    OK(pc_snapshot(c, &info));
    int del;
    OK(pc_del(c, K("lease-alone"), &del)); /* a lease alone is not kept */
    pt_dump before;
    OK(pt_dump_store(c, &before));
    EQ(info.keys, before.n);
    static int answers[800], answers2[800];
    bloom_answers(c, answers);
    pc_stats st;
    OK(pt_stats_next(c, &st));
    EQ(st.db_snapshot_state, 1);
    EQ(st.db_snapshot_rc, 0);
    EQ(st.db_snapshot_keys, before.n);
    EQ(st.snapshot_state, 0); /* no --snapshot-dir */

    /* What a person sees with the mariadb client. */
    char want[64];
    snprintf(want, sizeof want, "%zu\n", before.n);
    SQL_IS("SELECT value FROM pycache_meta WHERE name='key_count'", want);
    SQL_IS("SELECT count(*) FROM pycache_keys", want);
    SQL_IS("SELECT value FROM pycache_meta WHERE name='schema'", "pycache\n");
    SQL_IS("SELECT value FROM pycache_strings WHERE cache_key='str'", "hello, mariadb\n");
    SQL_IS("SELECT HEX(value), expire_at IS NOT NULL FROM pycache_strings"
           " WHERE cache_key=X'62696E016B6579'",
           "FF0080\t1\n");
    SQL_IS("SELECT value, kind FROM pycache_numerics WHERE cache_key='n:min'",
           "-9223372036854775808\tint\n");
    SQL_IS("SELECT cache_key FROM pycache_numerics ORDER BY number LIMIT 1", "n:min\n");
    SQL_IS("SELECT pos, value, kind FROM pycache_lists WHERE cache_key='list' AND pos < 5",
           "0\t-5\tint\n1\ta\tbytes\n2\ta\tbytes\n3\t-5\tint\n4\t2.5\tdouble\n");
    SQL_IS("SELECT count(*), max(pos) FROM pycache_lists WHERE cache_key='list:long'",
           "600\t599\n");
    SQL_IS("SELECT value FROM pycache_queues WHERE cache_key='queue' AND pos=0", "a\n");
    SQL_IS("SELECT field, value, kind FROM pycache_maps WHERE cache_key='map' AND field='name'",
           "name\tpycache\tbytes\n");
    SQL_IS("SELECT kind, count(*) FROM pycache_sets WHERE cache_key='set' GROUP BY kind"
           " ORDER BY kind",
           "bool\t1\nbytes\t2\ndouble\t1\nint\t1\n");
    SQL_IS("SELECT cache_key FROM pycache_sets WHERE member='lmdb' AND kind='bytes'", "set\n");
    SQL_IS("SELECT value FROM pycache_keys WHERE cache_key='limit'", "4\n");
    SQL_IS("SELECT value, kind FROM pycache_flights WHERE cache_key='flight'", "computed\tbytes\n");
    SQL_IS("SELECT count(*) FROM pycache_keys WHERE cache_key='lease-alone'", "0\n");
    SQL_IS("SELECT k.value, count(c.chunk) FROM pycache_keys k LEFT JOIN pycache_chunks c"
           " ON c.cache_key=k.cache_key WHERE k.cache_key='zeros' GROUP BY k.cache_key",
           "626\t0\n");
    SQL_IS("SELECT expansion, nonscaling FROM pycache_blooms WHERE cache_key='bloom'", "2\t0\n");
    SQL_IS("SELECT count(*) > 1, sum(items) BETWEEN 380 AND 400 FROM pycache_bloom_layers"
           " WHERE cache_key='bloom'",
           "1\t1\n");
    /* Issue 17's: a sorted set by score (ties by member), exact scores
     * (the store keeps -0.0 as 0.0). */
    SQL_IS("SELECT member, kind, score_text FROM pycache_zsets WHERE cache_key='zset'",
           "a\tbytes\t-inf\n1\tbool\t0\n2.5\tdouble\t0\n7\tint\t1.5\ntie0\tbytes\t2\n"
           "tie1\tbytes\t2\nmax\tbytes\t1.7976931348623157e+308\nb\tbytes\tinf\n");
    SQL_IS("SELECT member FROM pycache_zsets WHERE cache_key='zset' ORDER BY score DESC LIMIT 1",
           "b\n");
    SQL_IS("SELECT value FROM pycache_meta WHERE name='zset_member_count'", "11\n");
    /* a Stream: its entries since an ID, its group, consumers, pending */
    SQL_IS("SELECT count(DISTINCT id), count(*) FROM pycache_stream_entries"
           " WHERE cache_key='stream'",
           "9\t13\n");
    SQL_IS("SELECT id, field, value, kind FROM pycache_stream_entries WHERE cache_key='stream'"
           " AND (ms, seq) > (1007, 0) AND pair=0",
           "1007-1\tn\t7\tint\n1008-0\tn\t8\tint\n1009-1\tn\t9\tint\n");
    SQL_IS("SELECT last_ms, last_seq, max_deleted_ms, max_deleted_seq, entries_added"
           " FROM pycache_streams WHERE cache_key='stream'",
           "1009\t1\t1003\t1\t10\n");
    SQL_IS("SELECT name, last_ms, last_seq FROM pycache_stream_groups WHERE cache_key='stream'",
           "g1\t1004\t0\n");
    SQL_IS("SELECT grp, name, active_ms IS NULL FROM pycache_stream_consumers ORDER BY name",
           "g1\talice\t0\ng1\tidle\t1\n");
    SQL_IS("SELECT count(*), min(deliveries), min(ms) FROM pycache_stream_pending"
           " WHERE consumer='alice'",
           "3\t1\t1001\n");
    SQL_IS("SELECT name, value FROM pycache_meta WHERE name LIKE 'stream%' ORDER BY name",
           "stream_consumer_count\t2\nstream_count\t2\nstream_entry_count\t10\n"
           "stream_group_count\t1\nstream_pair_count\t14\nstream_pending_count\t3\n");
    /* The first snapshot is the backup: it has no key "short". */
    SQL_IS("SELECT count(*) FROM pycache_old_keys WHERE cache_key='short'", "0\n");
    SQL_IS("SELECT count(*) FROM pycache_keys WHERE cache_key='short'", "1\n");
    pc_close(c);
    pt_daemon_kill9(a);

    /* A new store restores from the database; "short" has expired. */
    while (pt_now_ms() < t_short + 4100)
        pt_sleep_ms(50);
    START(b, TARGET);
    CHECK(pt_daemon_log_has(b, "(3 had expired)", 5000), "the log says three keys had expired");
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    MISSING(c, "short");
    MISSING(c, "short:z");
    MISSING(c, "short:x");
    pt_dump after;
    OK(pt_dump_store(c, &after));
    CHECK(pt_dump_find(&before, K("short")) != NULL, "short was in the store before");
    /* Compare without "short" and "short:*". */
    pt_dump trimmed = before;
    trimmed.e = calloc(before.n, sizeof *trimmed.e);
    trimmed.n = 0;
    for (size_t i = 0; i < before.n; i++)
        if (before.e[i].klen < 5 || memcmp(before.e[i].key, "short", 5))
            trimmed.e[trimmed.n++] = before.e[i];
    DUMPS_EQUAL(&trimmed, &after, 2000);
    free(trimmed.e);
    bloom_answers(c, answers2);
    CHECK(!memcmp(answers, answers2, sizeof answers), "the Bloom filter answers otherwise");
    pc_throttle_info t;
    OK(pc_throttle_window(c, K("limit"), 10, 3600000, 1, &t));
    EQ(t.remaining, 5);
    pc_close(c);
    STOP_OK(b);
    pt_dump_free(&before);
    pt_dump_free(&after);
    w->passed = true;
}

/* ---- two writers ---- */

#define LISTS 4
static uint64_t *acked; /* steps acknowledged, per writer (shared) */
static volatile int *stop_flag;
static const char *wdir;
static int wid;

/* Writer wid: step n appends n to its list n % LISTS (they lie in several
 * shards), until told to stop. */
static int writer(void *arg)
{
    (void)arg;
    pc_client *c;
    CKOK(pt_connect(wdir, 0, &c));
    for (uint64_t n = 0; !*stop_flag; n++) {
        char k[32];
        snprintf(k, sizeof k, "w%d:%" PRIu64, wid, n % LISTS);
        pc_val v = pc_int((int64_t)n);
        uint64_t len;
        CKOK(pc_rpush(c, K(k), &v, 1, &len));
        __atomic_store_n(&acked[wid], n + 1, __ATOMIC_RELEASE);
    }
    pc_close(c);
    return 0;
}

/* In the snapshot, writer w's lists hold exactly its steps 0..T-1, with
 * lo <= T <= hi + 1. */
static void check_writer(int w, uint64_t lo, uint64_t hi)
{
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pycache_lists WHERE cache_key LIKE 'w%d:%%'",
             w);
    int64_t t = pt_mariadb_int(&M, sql, -1);
    CHECK(t >= 0 && (uint64_t)t >= lo && (uint64_t)t <= hi + 1,
          "writer %d: %" PRId64 " steps in the snapshot; acknowledged %" PRIu64 " before, %" PRIu64
          " after",
          w, t, lo, hi);
    for (int j = 0; j < LISTS; j++) {
        int64_t want = t > j ? (t - 1 - j) / LISTS + 1 : 0;
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pycache_lists WHERE cache_key='w%d:%d'"
                 " AND CAST(value AS SIGNED) = pos * %d + %d AND CAST(value AS SIGNED) < %" PRId64,
                 w, j, LISTS, j, t);
        EQ(pt_mariadb_int(&M, sql, -1), want);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pycache_lists WHERE cache_key='w%d:%d'", w,
                 j);
        EQ(pt_mariadb_int(&M, sql, -1), want);
    }
}

/*
 * One snapshot to both targets (--snapshot-dir and --snapshot-to) of a store
 * of 4 shards: both written whole from the same reads
 * (the same keys, the generation alike).  Only the last target ends each
 * shard's read once that shard is written (pcp_walk's end_reads); when the
 * files target ended them, the database target had none left to read.
 */
static void test_both_targets(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    START(a, TARGET, "--snapshot-dir", w->snaps, "--shards", "4");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    put_many(c, "both:", 0, 3000);
    for (int round = 0; round < 2; round++) {
        pc_snapshot_info info;
        OK(pc_snapshot(c, &info));
        pc_stats st;
        OK(pt_stats_next(c, &st));
        EQ(st.snapshot_state, 1);
        EQ(st.snapshot_rc, 0);
        EQ(st.db_snapshot_state, 1);
        EQ(st.db_snapshot_rc, 0);
        EQ(st.snapshot_keys, 3000 + round * 1000);
        EQ(st.db_snapshot_keys, st.snapshot_keys);
        put_many(c, "more:", round * 1000, 1000);
    }
    SQL_IS("SELECT count(*) FROM pycache_keys", "4000\n");
}

static void test_writers(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    START(a, "--shards", "4", TARGET);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    acked = pt_shared(2 * sizeof *acked + sizeof(int));
    stop_flag = (volatile int *)(acked + 2);
    wdir = a->dir;
    pid_t pid[2];
    for (wid = 0; wid < 2; wid++)
        pid[wid] = pt_fork(writer, NULL, 60);
    for (int round = 0; round < 2; round++) {
        while (__atomic_load_n(&acked[0], __ATOMIC_ACQUIRE) < 500u * (round + 1) ||
               __atomic_load_n(&acked[1], __ATOMIC_ACQUIRE) < 500u * (round + 1))
            pt_sleep_ms(5);
        uint64_t lo[2] = {__atomic_load_n(&acked[0], __ATOMIC_ACQUIRE),
                          __atomic_load_n(&acked[1], __ATOMIC_ACQUIRE)};
        pc_snapshot_info info;
        OK(pc_snapshot(c, &info));
        uint64_t hi[2] = {__atomic_load_n(&acked[0], __ATOMIC_ACQUIRE),
                          __atomic_load_n(&acked[1], __ATOMIC_ACQUIRE)};
        for (int i = 0; i < 2; i++)
            check_writer(i, lo[i], hi[i]);
    }
    *stop_flag = 1;
    for (int i = 0; i < 2; i++)
        EXITED(pt_wait_pid(pid[i], 30000), 0);
    pc_close(c);
    STOP_OK(a);
    w->passed = true;
}

/* ---- faults ---- */

/* Statistics whose db_snapshot_ms is past since, within timeout_ms. */
static pc_stats db_result_after(pc_client *c, uint64_t since, int timeout_ms)
{
    pc_stats st;
    uint64_t end = pt_now_ms() + (uint64_t)timeout_ms;
    do {
        OK(pt_stats_next(c, &st));
    } while (st.db_snapshot_ms <= since && pt_now_ms() < end);
    CHECK(st.db_snapshot_ms > since, "no snapshot result after %" PRIu64, since);
    return st;
}

static void test_faults(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    char badpw[300];
    snprintf(badpw, sizeof badpw, "%s/wrong-password", w->dir);
    OK(pt_write_text(badpw, "not-it\n"));
    START(a, TARGET);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    /* A snapshot of 30000 keys: the one a failure must leave whole. */
    pc_val v = pc_str("x");
    put_many(c, "k", 0, 30000);
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    SQL_IS("SELECT count(*) FROM pycache_keys", "30000\n");

    /* The server down: the call fails at once, the daemon serves on, the
     * statistics say so, and a retry follows after its back-off. */
    pt_mariadb_stop(&M, SIGTERM);
    OK(pc_set(c, K("after"), &v, 0, 0));
    uint64_t t0 = (uint64_t)pt_wall_ms();
    RC(PC_ECONNREFUSED, pc_snapshot(c, &info));
    pc_stats st = db_result_after(c, t0 - 1, 5000);
    EQ(st.db_snapshot_rc, PC_ECONNREFUSED);
    CHECK(st.db_snapshot_retry_ms > t0, "a retry is planned");
    CHECK(pt_daemon_log_has(a, "failed: cannot connect", 5000), "the log says it");
    CHECK(pt_daemon_log_has(a, "trying again in 1 s", 5000), "the log says when it tries again");
    GET_IS(c, "after", v);
    /* Back: the next try (back-off 1, 2, 4 s ...) succeeds by itself. */
    CHECK(pt_mariadb_run(&M) == 0, "mariadbd starts again: %s", M.why);
    uint64_t t1 = (uint64_t)pt_wall_ms();
    do
        st = db_result_after(c, st.db_snapshot_ms, 20000);
    while (st.db_snapshot_rc && pt_now_ms() < t1 + 30000);
    EQ(st.db_snapshot_rc, 0);
    EQ(st.db_snapshot_retry_ms, 0);
    SQL_IS("SELECT count(*) FROM pycache_keys", "30001\n");

    /* Killed in the middle: 100000 more keys make a snapshot long enough
     * to see its new tables fill; the server dies then. */
    put_many(c, "big", 0, 100000);
    pid_t ask = fork();
    assert_true(ask >= 0);
    if (ask == 0) {
        pt_child("snapshot");
        pc_client *c2;
        CKOK(pt_connect(a->dir, 0, &c2));
        pc_snapshot_info i2;
        int rc = pc_snapshot(c2, &i2);
        _exit(rc == PC_ECONNRESET || rc == PC_ECONNREFUSED ? 0 : 10);
    }
    pt_track(ask);
    uint64_t end = pt_now_ms() + 60000;
    while (pt_now_ms() < end &&
           pt_mariadb_int(&M,
                          "SELECT count(*) FROM information_schema.tables WHERE"
                          " table_schema='pcsnap' AND table_name='pycache_new_keys'",
                          0) == 0)
        pt_sleep_ms(10);
    pt_sleep_ms(200); /* rows are going in */
    pt_mariadb_stop(&M, SIGKILL);
    EXITED(pt_wait_pid(ask, 60000), 0);
    pt_untrack(ask);
    CHECK(pt_daemon_log_has(a, "the previous snapshot there stays", 1000), "the log says it");
    GET_IS(c, "after", v);
    pc_close(c);
    /* Stopped while the server is down: its final snapshot fails (exit 3)
     * and no retry runs before the check below. */
    EXITED(pt_daemon_stop(a), 3);
    CHECK(pt_mariadb_run(&M) == 0, "mariadbd starts again: %s", M.why);
    /* The previous snapshot is whole: InnoDB recovered, and the swap never
     * happened. */
    SQL_IS("SELECT count(*) FROM pycache_keys", "30001\n");
    SQL_IS("SELECT value FROM pycache_meta WHERE name='key_count'", "30001\n");

    /* Wrong credentials: a store with keys starts (it restores nothing);
     * its snapshot is refused and said so; the previous snapshot stays. */
    START(a, "--snapshot-to", M.url, "--snapshot-password-file", badpw);
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    RC(PC_EACCES, pc_snapshot(c, &info));
    CHECK(pt_daemon_log_has(a, "Access denied", 5000), "the log says the server refused");
    OK(pt_stats_next(c, &st));
    EQ(st.db_snapshot_rc, PC_EACCES);
    pt_output r = {0};
    char pcstat[300], *argv[] = {pcstat, "-d", a->dir, NULL};
    pt_prog(pcstat, sizeof pcstat, "pcstat");
    OK(pt_run(argv, 30000, &r));
    CHECK(strstr(r.out, "db_snapshot_result:PC_EACCES") && strstr(r.out, "db_snapshot_age_s:"),
          "pcstat shows the target's result and age:\n%s", r.out);
    pt_output_free(&r);
    CHECK(!pt_file_has(a->log, "not-it", 0), "the password is not in the log");
    SQL_IS("SELECT count(*) FROM pycache_keys", "30001\n");
    pc_close(c);
    EXITED(pt_daemon_stop(a), 3);
    /* An empty store whose snapshot cannot be read does not start: it
     * would replace the data there with nothing. */
    pt_daemon *b = pt_ws_daemon(w, "b");
    EXITED(
        pt_daemon_run(b, PT_ARGS("--snapshot-to", M.url, "--snapshot-password-file", badpw), 20000),
        1);
    CHECK(pt_file_has(b->out, "does not start on an empty store", 1000), "said why");
    w->passed = true;
}

/* ---- the server's disk full ---- */

/* n keys PREFIX%06d of vlen bytes each. */
static void put_big(pc_client *c, const char *prefix, int n, size_t vlen)
{
    static char kb[500][24], vb[4096];
    memset(vb, 'v', sizeof vb);
    pc_bytes ks[500];
    pc_val vs[500];
    for (int i = 0; i < n; i += 500) {
        int m = n - i < 500 ? n - i : 500;
        for (int j = 0; j < m; j++) {
            ks[j] = pc_b(kb[j], (size_t)snprintf(kb[j], sizeof kb[j], "%s%06d", prefix, i + j));
            vs[j] = pc_mem(vb, vlen);
        }
        OK(pc_mset(c, ks, vs, (size_t)m));
    }
}

static void test_full(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    /* InnoDB's tables in its system table space, which may grow from
     * 12 MiB to 24 MiB and no further: to a snapshot, a full disk. */
    /* A server of its own: the shared one's system table space has grown
     * past that with the undo logs of the tests before. */
    static pt_mariadb F;
    CHECK(pt_mariadb_start(&F) == 0, "a second mariadbd: %s", F.why);
    pt_mariadb_stop(&F, SIGTERM);
    F.extra[0] = "--innodb-file-per-table=0";
    F.extra[1] = "--innodb-data-file-path=ibdata1:12M:autoextend:max:24M";
    CHECK(pt_mariadb_run(&F) == 0, "mariadbd with a capped table space: %s", F.why);
    S = &F;
    START(a, "--snapshot-to", F.url, "--snapshot-password-file", F.pwfile);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    put_many(c, "k", 0, 5000);
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    SQL_IS("SELECT count(*) FROM pycache_keys", "5000\n");

    /* 40000 keys of 400 bytes: 16 MB of rows, more than there is room for. */
    put_big(c, "big", 40000, 400);
    uint64_t t0 = (uint64_t)pt_wall_ms();
    RC(PC_ENOSPC, pc_snapshot(c, &info));
    pc_stats st = db_result_after(c, t0 - 1, 5000);
    EQ(st.db_snapshot_rc, PC_ENOSPC);
    CHECK(st.db_snapshot_retry_ms > t0, "a retry is planned");
    CHECK(pt_daemon_log_has(a,
                            "is full (MariaDB error 1114) (PC_ENOSPC); the previous snapshot "
                            "there stays; trying again in",
                            5000),
          "the log says the table is full");
    CHECK(pt_daemon_log_has(a, "no room on the database server", 1000), "the log says where");
    pt_output r = {0};
    char pcstat[300], *argv[] = {pcstat, "-d", a->dir, NULL};
    pt_prog(pcstat, sizeof pcstat, "pcstat");
    OK(pt_run(argv, 30000, &r));
    CHECK(strstr(r.out, "db_snapshot_result:PC_ENOSPC"), "pcstat shows the result:\n%s", r.out);
    pt_output_free(&r);
    /* The previous snapshot is whole (the retries fail as this one did). */
    SQL_IS("SELECT count(*) FROM pycache_keys", "5000\n");
    SQL_IS("SELECT value FROM pycache_meta WHERE name='key_count'", "5000\n");
    /* The daemon serves on. */
    pc_val v = pc_str("still here");
    OK(pc_set(c, K("after"), &v, 0, 0));
    GET_IS(c, "after", v);

    /* Room again (the big keys deleted): a retry succeeds by itself. */
    static char kb[40000][24];
    static pc_bytes ks[40000];
    for (int i = 0; i < 40000; i++)
        ks[i] = pc_b(kb[i], (size_t)snprintf(kb[i], sizeof kb[i], "big%06d", i));
    uint64_t deleted;
    for (int i = 0; i < 40000; i += 1000)
        OK(pc_del_keys(c, ks + i, 1000, &deleted));
    uint64_t t1 = pt_now_ms();
    do
        st = db_result_after(c, st.db_snapshot_ms, 60000);
    while (st.db_snapshot_rc && pt_now_ms() < t1 + 90000);
    EQ(st.db_snapshot_rc, 0);
    EQ(st.db_snapshot_retry_ms, 0);
    /* It may have run before every big key was gone: the rows are the
     * store's at one moment, the small keys all there. */
    char want[64];
    snprintf(want, sizeof want, "%" PRIu64 "\n", st.db_snapshot_keys);
    SQL_IS("SELECT count(*) FROM pycache_keys", want);
    SQL_IS("SELECT count(*) FROM pycache_keys WHERE cache_key LIKE 'k%'", "5000\n");
    SQL_IS("SELECT value FROM pycache_strings WHERE cache_key='after'", "still here\n");
    pc_close(c);
    STOP_OK(a);
    S = &M;
    pt_mariadb_end(&F);
    w->passed = true;
}

/* ---- TLS ---- */

/* Run openssl with args in dir; false after saying why. */
static bool openssl(const char *dir, const char *args)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && openssl %s 2>&1", dir, args);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    pt_output r = {0};
    bool ok = !pt_run(argv, 60000, &r) && pt_exited(r.status, 0);
    if (!ok)
        fprintf(stderr, "openssl %s\n    failed: %s\n", args, r.out ? r.out : "did not run");
    pt_output_free(&r);
    return ok;
}

static void test_tls(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    /* A CA, a certificate for 127.0.0.1 that it signed, one it signed for
     * another name, and another CA. */
    char d[300];
    snprintf(d, sizeof d, "%s/tls", w->dir);
    CHECK(mkdir(d, 0700) == 0, "mkdir %s", d);
    char san[400];
    snprintf(san, sizeof san, "%s/san.cnf", d);
    OK(pt_write_text(san, "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
    snprintf(san, sizeof san, "%s/named.cnf", d);
    OK(pt_write_text(san, "subjectAltName=DNS:elsewhere.example\n"));
#define EC "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    static const char *const make[] = {
        "req -x509 " EC " -keyout ca.key -out ca.pem -days 2 -subj /CN=pycache-test-ca",
        "req " EC " -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem"
        " -days 2 -extfile san.cnf",
        "req " EC " -keyout named.key -out named.csr -subj /CN=elsewhere",
        "x509 -req -in named.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out named.pem"
        " -days 2 -extfile named.cnf",
        "req -x509 " EC " -keyout other.key -out other.pem -days 2 -subj /CN=another-ca",
        "req " EC " -keyout client.key -out client.csr -subj /CN=pycache-client",
        "x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem"
        " -days 2"};
#undef EC
    for (size_t i = 0; i < PT_LEN(make); i++)
        CHECK(openssl(d, make[i]),
              "openssl makes the certificates (the Debian package openssl; scripts/setup.sh "
              "installs it)");
    static char ca[400], cert[400], key[400], other[400];
    snprintf(ca, sizeof ca, "%s/ca.pem", d);
    snprintf(other, sizeof other, "%s/other.pem", d);
    snprintf(cert, sizeof cert, "--ssl-cert=%s/server.pem", d);
    snprintf(key, sizeof key, "--ssl-key=%s/server.key", d);
    static char sslca[420];
    snprintf(sslca, sizeof sslca, "--ssl-ca=%s", ca);

    /* The server on 127.0.0.1 alone, with TLS; an account there that
     * requires it. */
    pt_mariadb_stop(&M, SIGTERM);
    M.extra[0] = sslca;
    M.extra[1] = cert;
    M.extra[2] = key;
    int up = -1;
    for (int tries = 0; tries < 5 && up; tries++) {
        M.port = pt_mariadb_free_port(); /* it may be taken meanwhile: again */
        up = M.port > 0 ? pt_mariadb_run(&M) : -1;
    }
    CHECK(up == 0, "mariadbd on 127.0.0.1 with TLS: %s", M.why);
    SQL_IS("CREATE USER pc@'127.0.0.1' IDENTIFIED BY 'pc-s3cret' REQUIRE SSL;"
           " GRANT ALL ON pcsnap.* TO pc@'127.0.0.1'; SELECT @@bind_address, @@have_ssl",
           "127.0.0.1\tYES\n");
    char url[200], port[16];
    snprintf(url, sizeof url, "mysql://pc@127.0.0.1:%d/pcsnap", M.port);
    snprintf(port, sizeof port, "%d", M.port);

    /* Verified against its CA: it works, over TLS. */
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile, "--snapshot-tls", "verify",
          "--snapshot-tls-ca", ca);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    put_many(c, "t", 0, 1000);
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    CHECK(!strcmp(info.path, url), "answered with %s", info.path);
    SQL_IS("SELECT count(*) FROM pycache_keys", "1000\n");
    SQL_IS("SELECT variable_value > 0 FROM information_schema.global_status"
           " WHERE variable_name = 'Ssl_accepts'",
           "1\n");
    pc_close(c);
    STOP_OK(a);
    /* TLS required, the certificate not checked: it works too. */
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile, "--snapshot-tls",
          "required");
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    OK(pc_snapshot(c, &info));
    pc_close(c);
    STOP_OK(a);
    /* An account that wants a client certificate: refused without one,
     * served with the one the CA signed. */
    char ccert[400], ckey[400];
    snprintf(ccert, sizeof ccert, "%s/client.pem", d);
    snprintf(ckey, sizeof ckey, "%s/client.key", d);
    SQL_IS("ALTER USER pc@'127.0.0.1' REQUIRE X509; SELECT 1", "1\n");
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile, "--snapshot-tls", "verify",
          "--snapshot-tls-ca", ca);
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    RC(PC_EACCES, pc_snapshot(c, &info));
    CHECK(pt_daemon_log_has(a, "Access denied", 5000), "the log says the server refused");
    pc_close(c);
    EXITED(pt_daemon_stop(a), 3);
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile, "--snapshot-tls", "verify",
          "--snapshot-tls-ca", ca, "--snapshot-tls-cert", ccert, "--snapshot-tls-key", ckey);
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    OK(pc_snapshot(c, &info));
    pc_close(c);
    STOP_OK(a);
    SQL_IS("ALTER USER pc@'127.0.0.1' REQUIRE SSL; SELECT 1", "1\n");

    /* Without TLS the account refuses; verified against another CA the
     * client refuses the server.  The snapshot there stays. */
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile);
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    RC(PC_EACCES, pc_snapshot(c, &info));
    CHECK(pt_daemon_log_has(a, "Access denied", 5000), "the log says the server refused");
    pc_close(c);
    EXITED(pt_daemon_stop(a), 3);
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile, "--snapshot-tls", "verify",
          "--snapshot-tls-ca", other);
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    RC(PC_EACCES, pc_snapshot(c, &info));
    CHECK(pt_daemon_log_has(a, "(MariaDB error 2026)", 5000), "the log says TLS failed");
    pc_close(c);
    EXITED(pt_daemon_stop(a), 3);
    /* Verified, a certificate of the right CA for another name: refused. */
    pt_mariadb_stop(&M, SIGTERM);
    snprintf(cert, sizeof cert, "--ssl-cert=%s/named.pem", d);
    snprintf(key, sizeof key, "--ssl-key=%s/named.key", d);
    CHECK(pt_mariadb_run(&M) == 0, "mariadbd with another certificate: %s", M.why);
    START(a, "--snapshot-to", url, "--snapshot-password-file", M.pwfile, "--snapshot-tls", "verify",
          "--snapshot-tls-ca", ca);
    c = pt_daemon_client(a, 0);
    assert_non_null(c);
    RC(PC_EACCES, pc_snapshot(c, &info));
    CHECK(pt_daemon_log_has(a, "(MariaDB error 2026)", 5000), "the log says TLS failed");
    pc_close(c);
    EXITED(pt_daemon_stop(a), 3);
    SQL_IS("SELECT count(*) FROM pycache_keys", "1000\n");
    SQL_IS("DROP USER pc@'127.0.0.1'; SELECT 1", "1\n");
    w->passed = true;
}

/* ---- refusals ---- */

static void test_refused(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    char url[400];
    /* A password in the URL. */
    int st =
        pt_daemon_run(a, PT_ARGS("--snapshot-to", "mysql://pc:pc-s3cret@localhost/pcsnap"), 20000);
    EXITED(st, 2);
    CHECK(pt_file_has(a->out, "a password in the URL is refused", 1000), "said why");
    CHECK(!pt_file_has(a->out, "pc-s3cret", 0), "the password is not repeated");
    CHECK(!pt_file_has(a->log, "pc-s3cret", 0), "the password is not in the log");
    /* A password file others can read. */
    char pw[300];
    snprintf(pw, sizeof pw, "%s/open-password", w->dir);
    OK(pt_write_text(pw, "pc-s3cret\n"));
    chmod(pw, 0644);
    st = pt_daemon_run(a, PT_ARGS("--snapshot-to", M.url, "--snapshot-password-file", pw), 20000);
    EXITED(st, 2);
    CHECK(pt_file_has(a->out, "chmod 600", 1000), "said why");

    /* A foreign schema: tables named like ours, not ours. */
    SQL_IS("CREATE DATABASE other; GRANT ALL ON other.* TO pc@localhost;"
           " CREATE TABLE other.pycache_meta (name VARCHAR(9), value INT);"
           " SELECT 1",
           "1\n");
    snprintf(url, sizeof url, "mysql://pc@localhost/other?socket=%s", M.sock);
    st = pt_daemon_run(a, PT_ARGS("--restore", url, "--snapshot-password-file", M.pwfile), 20000);
    EXITED(st, 1);
    CHECK(pt_file_has(a->out, "half-written or foreign schema", 1000), "said why");
    SQL_IS("DROP TABLE other.pycache_meta; SELECT 1", "1\n");
    /* A whole snapshot there, then one edited (a member gone). */
    START(b, "--snapshot-to", url, "--snapshot-password-file", M.pwfile);
    pc_client *c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pc_val l3[3] = {pc_int(1), pc_int(2), pc_int(3)};
    uint64_t len;
    OK(pc_rpush(c, K("l"), l3, 3, &len));
    pc_close(c);
    STOP_OK(b); /* the final snapshot */
    /* One of issue 17's tables gone: refused, not taken for an older
     * snapshot. */
    SQL_IS("DROP TABLE other.pycache_stream_pending; SELECT 1", "1\n");
    st = pt_daemon_run(a, PT_ARGS("--restore", url, "--snapshot-password-file", M.pwfile), 20000);
    EXITED(st, 1);
    CHECK(pt_file_has(a->out, "the table pycache_stream_pending is missing", 1000), "said why");
    /* A snapshot written before issue 17 (none of its tables or counts)
     * restores. */
    SQL_IS("DROP TABLE other.pycache_zset_members, other.pycache_streams,"
           " other.pycache_stream_pairs, other.pycache_stream_groups,"
           " other.pycache_stream_consumers;"
           " DELETE FROM other.pycache_meta WHERE name LIKE 'stream%' OR name LIKE 'zset%';"
           " SELECT 1",
           "1\n");
    pt_daemon *old = pt_ws_daemon(w, "old");
    START(old, "--restore", url, "--snapshot-password-file", M.pwfile);
    c = pt_daemon_client(old, 0);
    assert_non_null(c);
    pc_read *rd = pt_rd(c);
    uint64_t llen;
    OK(pc_llen(rd, K("l"), &llen));
    pc_read_end(rd);
    EQ(llen, 3);
    pc_close(c);
    STOP_OK(old);
    SQL_IS("DELETE FROM other.pycache_members LIMIT 1; SELECT 1", "1\n");
    st = pt_daemon_run(a, PT_ARGS("--restore", url, "--snapshot-password-file", M.pwfile), 20000);
    EXITED(st, 1);
    CHECK(pt_file_has(a->out, "half-written or edited", 1000), "said why");
    /* A column of another kind. */
    SQL_IS("ALTER TABLE other.pycache_keys DROP COLUMN kind; SELECT 1", "1\n");
    st = pt_daemon_run(a, PT_ARGS("--restore", url, "--snapshot-password-file", M.pwfile), 20000);
    EXITED(st, 1);
    CHECK(pt_file_has(a->out, "foreign schema: pycache_keys has the columns", 1000), "said why");
    w->passed = true;
}

int main(void)
{
    pt_init(900);
    int up = pt_mariadb_start(&M);
    if (up == 77) {
        printf("SKIP: the MariaDB target's tests need a MariaDB server here: %s\n", M.why);
        return 77;
    }
    if (up) {
        printf("ERROR: a MariaDB server is installed but does not run: %s\n", M.why);
        return 99;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_writers, setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_both_targets, setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_tls, setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, pt_ws_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pt_mariadb_end(&M);
    return rc;
}
