/*
 * test_maint.c - unit tests of what shm/ gives the daemon, persist/ and the
 * tools so that they need neither LMDB nor the client library: the shared
 * vocabulary (shm/names.c), the upkeep's LMDB calls (shm/maint.c), loading a
 * record (pcs_load_record), the bare-LMDB floor (shm/bare.c), and a restore
 * that goes through pcs_load_record (persist/).
 *
 * It links libpcpersist and libpcshm only, not libpcclient: that it links at
 * all shows that those need nothing of the client library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../persist/snapshot.h"
#include "../../persist/target.h"
#include "../../shm/access.h"
#include "../../shm/bare.h"
#include "../../shm/bytes.h"
#include "../../shm/exec.h"
#include "../../shm/frame.h"
#include "../../shm/maint.h"
#include "../../shm/read.h"
#include "../../shm/record.h"
#include "../../shm/store.h"
#include "pycache.h"
#include "pctest.h"

/* ---- fixture: a fresh embedded store ---- */

typedef struct fx {
    char dir[64];
    pcs_store *st;
    pcs_wctx w;
} fx;

static int fx_open(fx *f, unsigned shards)
{
    memset(f, 0, sizeof *f);
    if (pt_mkdtemp(f->dir, sizeof f->dir, "/tmp", "maint"))
        return -1;
    char sd[128];
    snprintf(sd, sizeof sd, "%s/s", f->dir);
    pcs_params p = {.create = true, .nosync = true, .shards = shards, .map_size = 64u << 20};
    if (pcs_store_open(sd, PCS_MODE_EMBEDDED, &p, &f->st)) {
        pt_rmtree(f->dir);
        return -1;
    }
    pcs_wctx_init(&f->w);
    return 0;
}

static void fx_close_store(fx *f)
{
    if (!f->st)
        return;
    pcs_wabort(&f->w);
    pcs_wctx_free(&f->w);
    pcs_store_release(f->st);
    f->st = NULL;
}

static int setup_n(void **state, unsigned shards)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || fx_open(f, shards)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}
static int setup1(void **state)
{
    return setup_n(state, 1);
}
static int setup3(void **state)
{
    return setup_n(state, 3);
}
static int teardown(void **state)
{
    fx *f = *state;
    if (f) {
        fx_close_store(f);
        pt_rmtree(f->dir);
        free(f);
    }
    return 0;
}

/* Load a String key = value (no TTL unless expire_at) in a transaction of
 * its own on the key's shard. */
static void put_str(fx *f, const char *key, const char *value, uint64_t expire_at)
{
    unsigned s = pcs_shard_of(f->st->nshards, key, strlen(key));
    assert_int_equal(pcs_wbegin(&f->w, f->st, s), 0);
    pc_val v = pc_str(value);
    assert_int_equal(pcs_load_record(&f->w, key, strlen(key), PC_T_STRING, expire_at, &v, NULL, 0),
                     0);
    assert_int_equal(pcs_wcommit(&f->w), 0);
}

/* Whether key is live in the store, through the read path. */
static bool live(fx *f, const char *key, pcs_rec *rec, pcs_view *keep)
{
    unsigned s = pcs_shard_of(f->st->nshards, key, strlen(key));
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(f->st->shards[s].env, NULL, MDB_RDONLY, &txn), 0);
    pcs_view v = {txn, &f->st->shards[s], pcs_now_ms()};
    pcs_rec r;
    int rc = pcs_lookup(&v, key, strlen(key), rec ? rec : &r, NULL);
    assert_true(rc == 0 || rc == PC_ENOTFOUND);
    if (keep && rc == 0)
        *keep = v; /* the caller ends it */
    else
        mdb_txn_abort(txn);
    return rc == 0;
}

/* ---- the vocabulary ---- */

static void test_names_every_code(void **state)
{
    (void)state;
    int n = 0;
#define CHECK_CODE(name, val, msg)                                  \
    do {                                                            \
        assert_string_equal(pc_err_name(val), "PC_" #name);         \
        assert_string_equal(pc_strerror(val), msg);                 \
        assert_string_not_equal(pc_strerror(val), "unknown error"); \
        n++;                                                        \
    } while (0);
    PC_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
    assert_true(n >= 20);
    assert_string_equal(pc_err_name(0), "PC_OK");
    assert_string_equal(pc_strerror(0), "success");
    assert_string_equal(pc_err_name(-123456), "PC_E?");
    assert_string_equal(pc_strerror(-123456), "unknown error");
    assert_string_equal(pc_strerror(7), "unknown error");
    /* A code outside the table that is an errno still gets words. */
    assert_string_not_equal(pc_strerror(-EXDEV), "unknown error");
}

static void test_names_tables(void **state)
{
    (void)state;
    const char *types[] = {"none",  "string", "numeric", "list",  "map",    "set",
                           "queue", "flight", "bits",    "bloom", "stream", "zset"};
    for (int t = 0; t < PC_T__COUNT; t++)
        assert_string_equal(pc_type_name((pc_type)t), types[t]);
    assert_string_equal(pc_type_name((pc_type)PC_T__COUNT), "unknown");
    assert_string_equal(pc_type_name((pc_type)-1), "unknown");
    assert_string_equal(pc_policy_name(PC_POLICY_NOEVICTION), "noeviction");
    assert_string_equal(pc_policy_name(PC_POLICY_VOLATILE_TTL), "volatile-ttl");
    assert_string_equal(pc_policy_name(PC_POLICY_ALLKEYS_LRU), "allkeys-lru");
    assert_string_equal(pc_policy_name(PC_POLICY_ALLKEYS_LFU), "allkeys-lfu");
    assert_string_equal(pc_policy_name((pc_policy)4), "unknown");
    assert_string_equal(pc_role_name(PC_ROLE_READ), "read");
    assert_string_equal(pc_role_name(PC_ROLE_WRITE), "write");
    assert_string_equal(pc_role_name(PC_ROLE_ADMIN), "admin");
    assert_string_equal(pc_role_name((pc_role)0), "?");
    assert_string_equal(pc_role_name((pc_role)9), "?");
    assert_true(PCS_OP__COUNT <= PC_STATS_OPS);
    for (unsigned i = 1; i < PCS_OP__COUNT; i++) {
        assert_non_null(pc_stats_op_name(i));
        assert_string_equal(pc_stats_op_name(i), pcs_op_name(i));
    }
    assert_string_equal(pc_stats_op_name(PCS_OP_SET), "set");
    assert_null(pc_stats_op_name(PCS_OP__COUNT));
    assert_null(pc_stats_op_name(PC_STATS_OPS));
}

/* ---- space ---- */

static void test_space(void **state)
{
    fx *f = *state;
    const pcs_shard *sh = &f->st->shards[0];
    unsigned psize = 0;
    assert_int_equal(pcs_shard_page_size(sh, &psize), 0);
    assert_true(psize >= 4096 && (psize & (psize - 1)) == 0);
    pcs_shard_info i0;
    assert_int_equal(pcs_shard_info_get(sh, &i0), 0);
    assert_int_equal(i0.map_size, f->st->map_size);
    assert_true(i0.pages >= 2);
    uint64_t u0 = 0;
    assert_int_equal(pcs_shard_usage(sh, &u0), 0);
    assert_true(u0 > 0 && u0 <= i0.pages * psize);

    /* 200 values of 8 KiB: each takes overflow pages. */
    char big[8192 + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 200; i++) {
        char k[16];
        snprintf(k, sizeof k, "big%d", i);
        put_str(f, k, big, 0);
    }
    pcs_shard_info i1;
    uint64_t u1 = 0;
    assert_int_equal(pcs_shard_info_get(sh, &i1), 0);
    assert_int_equal(pcs_shard_usage(sh, &u1), 0);
    assert_true(i1.last_txnid >= i0.last_txnid + 200);
    assert_true(i1.pages >= i0.pages + 200 * 2);
    assert_true(u1 >= u0 + 200 * 8192);
    assert_true(u1 <= i1.pages * psize);

    /* The data file's descriptor is the shard's file. */
    int fd = -1;
    assert_int_equal(pcs_shard_fd(sh, &fd), 0);
    struct stat a, b;
    char path[160];
    snprintf(path, sizeof path, "%s/s/data-00.mdb", f->dir);
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    assert_int_equal(pcs_shard_sync(sh), 0);

    /* Cut the map (this process only) and give it back. */
    uint64_t mapped = 0;
    assert_int_equal(pcs_shard_set_mapsize(sh, 16u << 20, &mapped), 0);
    assert_int_equal(mapped, 16u << 20);
    pcs_shard_info i2;
    assert_int_equal(pcs_shard_info_get(sh, &i2), 0);
    assert_int_equal(i2.map_size, 16u << 20);
    assert_int_equal(pcs_shard_set_mapsize(sh, f->st->map_size, &mapped), 0);
    assert_int_equal(mapped, f->st->map_size);
    /* Not while a transaction of this process is open: nothing changes. */
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    mapped = 1;
    assert_int_not_equal(pcs_shard_set_mapsize(sh, 32u << 20, &mapped), 0);
    assert_int_equal(mapped, 1);
    pcs_wabort(&f->w);
    assert_int_equal(pcs_shard_info_get(sh, &i2), 0);
    assert_int_equal(i2.map_size, f->st->map_size);
}

/* ---- readers and read transactions ---- */

static void test_readers_and_rtxns(void **state)
{
    fx *f = *state;
    const pcs_shard *sh = &f->st->shards[1];
    pcs_readers rs;
    int dead = -1;
    assert_int_equal(pcs_shard_reader_check(sh, &dead), 0);
    assert_int_equal(dead, 0);
    assert_int_equal(pcs_shard_reader_check(sh, NULL), 0);
    assert_int_equal(pcs_shard_readers(sh, &rs), 0);
    assert_int_equal(rs.min_txnid, UINT64_MAX);

    put_str(f, "a", "1", 0);
    put_str(f, "b", "2", 0);
    put_str(f, "c", "3", 0);
    pcs_rtxns rt;
    memset(&rt, 0xff, sizeof rt);
    assert_int_equal(pcs_rtxns_begin(f->st, &rt), 0);
    assert_int_equal(rt.n, 3);
    for (unsigned s = 0; s < 3; s++) {
        /* Each reads its own shard. */
        pcs_view v = {rt.txn[s], &f->st->shards[s], pcs_now_ms()};
        pcs_rec r;
        const char *k[] = {"a", "b", "c"};
        for (int i = 0; i < 3; i++)
            assert_int_equal(pcs_lookup(&v, k[i], 1, &r, NULL) == 0, pcs_shard_of(3, k[i], 1) == s);
    }
    assert_int_equal(pcs_shard_readers(sh, &rs), 0);
    assert_true(rs.used >= 1);
    pcs_shard_info info;
    assert_int_equal(pcs_shard_info_get(sh, &info), 0);
    assert_int_equal(rs.min_txnid, info.last_txnid);
    assert_int_equal(rs.min_pid, (int)getpid());
    /* A commit on that shard makes the open read an outdated one. */
    unsigned s1 = 1;
    char k1[8] = "";
    for (int i = 0; i < 100 && !*k1; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        if (pcs_shard_of(3, k, strlen(k)) == s1)
            snprintf(k1, sizeof k1, "%s", k);
    }
    put_str(f, k1, "x", 0);
    pcs_readers rs2;
    assert_int_equal(pcs_shard_readers(sh, &rs2), 0);
    assert_int_equal(rs2.min_txnid, rs.min_txnid);
    assert_int_equal(pcs_shard_info_get(sh, &info), 0);
    assert_true(rs2.min_txnid < info.last_txnid);
    /* Shard 1's read ended alone: the others still read. */
    pcs_rtxn_end(&rt, 1);
    assert_null(rt.txn[1]);
    assert_int_equal(pcs_shard_readers(sh, &rs2), 0);
    assert_int_equal(rs2.min_txnid, UINT64_MAX);
    assert_int_equal(pcs_shard_readers(&f->st->shards[0], &rs2), 0);
    assert_true(rs2.min_txnid != UINT64_MAX);
    pcs_rtxn_end(&rt, 1);  /* again: nothing */
    pcs_rtxn_end(&rt, 3);  /* out of range: nothing */
    pcs_rtxn_end(&rt, 64); /* (PCS_SHARDS_MAX) */
    assert_non_null(rt.txn[0]);
    assert_non_null(rt.txn[2]);
    pcs_rtxns_end(&rt);
    assert_int_equal(rt.n, 0);
    pcs_rtxns_end(&rt); /* again: nothing */
    assert_int_equal(pcs_shard_readers(sh, &rs), 0);
    assert_int_equal(rs.min_txnid, UINT64_MAX);
}

/* ---- reads of their own: next due, counts, meta ---- */

static void test_next_due_counts_meta(void **state)
{
    fx *f = *state;
    const pcs_shard *sh = &f->st->shards[0];
    uint64_t due = 0;
    assert_int_equal(pcs_shard_next_due(sh, &due), 0);
    assert_int_equal(due, UINT64_MAX);
    uint64_t now = pcs_now_ms();
    put_str(f, "later", "v", now + 500000);
    put_str(f, "sooner", "v", now + 100000);
    put_str(f, "never", "v", 0);
    assert_int_equal(pcs_shard_next_due(sh, &due), 0);
    assert_int_equal(due, now + 100000);

    uint64_t c[PCS_COUNTS];
    assert_int_equal(pcs_shard_counts(sh, c), 0);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_STRING], 3);
    assert_int_equal(c[PCS_C_TTL], 2);

    uint64_t v = 0;
    assert_int_equal(pcs_shard_meta(sh, "format", &v), 0);
    assert_int_equal(v, PCS_FORMAT);
    assert_int_equal(pcs_shard_meta(sh, "flushed_at", &v), PC_ENOTFOUND);

    /* The soonest key, for volatile-ttl. */
    uint8_t victim[PC_KEY_MAX];
    size_t vlen = 0;
    assert_int_equal(pcs_evict_soonest(&f->w, victim, &vlen), PC_EINVAL); /* no transaction */
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    assert_int_equal(pcs_evict_soonest(&f->w, victim, &vlen), 0);
    assert_int_equal(vlen, 6);
    assert_memory_equal(victim, "sooner", 6);
    pcs_wabort(&f->w);

    /* An expiry index whose head is not an expiry key (8 bytes, no key). */
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(sh->env, NULL, 0, &txn), 0);
    uint8_t bad[8] = {0};
    MDB_val k = {sizeof bad, bad}, d = {0, ""};
    assert_int_equal(mdb_put(txn, sh->expiry, &k, &d, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(pcs_shard_next_due(sh, &due), PC_ECORRUPT);
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    assert_int_equal(pcs_evict_soonest(&f->w, victim, &vlen), PC_ENOTFOUND);
    pcs_wabort(&f->w);
}

/* A shard's "counts" entry of nbytes bytes: count i is i + 1. */
static void put_counts(const pcs_shard *sh, size_t nbytes)
{
    uint8_t b[8 * (PCS_COUNTS + 1) + 4] = {0};
    for (size_t i = 0; i < nbytes / 8; i++)
        pcs_put_le64(b + 8 * i, i + 1);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(sh->env, NULL, 0, &txn), 0);
    MDB_val k = {6, (void *)"counts"}, d = {nbytes, b};
    assert_int_equal(mdb_put(txn, sh->meta, &k, &d, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/* Stores made before issue 16's types (PCS_COUNTS_V1 counts) and before
 * issue 17's (three more) still open: their counts read, the new types' as
 * 0.  A longer entry, a shorter one or a torn one is corrupt. */
static void test_counts_of_older_stores(void **state)
{
    fx *f = *state;
    const pcs_shard *sh = &f->st->shards[0];
    const size_t ok[] = {PCS_COUNTS_V1, PCS_COUNTS_V1 + 3, PCS_COUNTS - 1, PCS_COUNTS};
    uint64_t c[PCS_COUNTS];
    for (size_t t = 0; t < sizeof ok / sizeof ok[0]; t++) {
        put_counts(sh, 8 * ok[t]);
        assert_int_equal(pcs_shard_counts(sh, c), 0);
        for (size_t i = 0; i < PCS_COUNTS; i++)
            assert_int_equal(c[i], i < ok[t] ? i + 1 : 0);
    }
    const size_t bad[] = {8 * (PCS_COUNTS_V1 - 1), 8 * (PCS_COUNTS + 1), 8 * PCS_COUNTS_V1 + 4};
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        put_counts(sh, bad[t]);
        assert_int_equal(pcs_shard_counts(sh, c), PC_ECORRUPT);
    }
    /* A write to an issue 16 store writes every count, the old ones kept. */
    put_counts(sh, 8 * (PCS_COUNTS_V1 + 3));
    put_str(f, "k", "v", 0);
    assert_int_equal(pcs_shard_counts(sh, c), 0);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_STRING], PC_T_STRING + 2);
    assert_int_equal(c[pcs_c_type(PC_T_BLOOM)], pcs_c_type(PC_T_BLOOM) + 1);
    assert_int_equal(c[pcs_c_type(PC_T_STREAM)], 0);
    assert_int_equal(c[pcs_c_type(PC_T_ZSET)], 0);
}

/* ---- eviction sampling ---- */

static uint32_t seq_rnd(void *arg)
{
    return (uint32_t)pt_next(arg);
}

static uint32_t zero_rnd(void *arg)
{
    return *(uint32_t *)arg * 4; /* 0: one step at a time */
}

static void test_evict_sample(void **state)
{
    fx *f = *state;
    _Atomic uint32_t *acc = calloc(PCS_ACCESS_SLOTS, sizeof *acc);
    assert_non_null(acc);
    pcs_sampler sp = {.len = 0};
    pt_rng r = {42};
    uint8_t victim[PC_KEY_MAX];
    size_t vlen = 0;
    /* No transaction, no access array: refused. */
    assert_int_equal(pcs_evict_sample(&f->w, &sp, acc, false, 16, seq_rnd, &r, victim, &vlen),
                     PC_EINVAL);
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    assert_int_equal(pcs_evict_sample(&f->w, &sp, NULL, false, 16, seq_rnd, &r, victim, &vlen),
                     PC_EINVAL);
    /* An empty shard: nothing to sample. */
    assert_int_equal(pcs_evict_sample(&f->w, &sp, acc, false, 16, seq_rnd, &r, victim, &vlen),
                     PC_ENOTFOUND);
    pcs_wabort(&f->w);

    /* 50 keys; every victim is one of them, and the sweep (random steps of
     * 1..4 keys, from a fixed seed) visits them all. */
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%02d", i);
        put_str(f, k, "v", 0);
    }
    bool seen[50] = {false};
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    for (int round = 0; round < 1000; round++) {
        assert_int_equal(pcs_evict_sample(&f->w, &sp, acc, false, 1, seq_rnd, &r, victim, &vlen),
                         0);
        assert_int_equal(vlen, 5);
        assert_memory_equal(victim, "key", 3);
        int i = (victim[3] - '0') * 10 + (victim[4] - '0');
        assert_true(i >= 0 && i < 50);
        seen[i] = true;
        assert_int_equal(sp.len, vlen);
        assert_memory_equal(sp.pos, victim, vlen);
    }
    pcs_wabort(&f->w);
    for (int i = 0; i < 50; i++)
        assert_true(seen[i]);

    /* LRU: the oldest access among the samples; 64 samples one key apart
     * (rnd 0: a step of one) see every key. */
    uint32_t zero = 0;
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%02d", i);
        acc[pcs_access_slot(k, 5)] = 1000 + (uint32_t)i;
    }
    acc[pcs_access_slot("key17", 5)] = 7;
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    assert_int_equal(pcs_evict_sample(&f->w, &sp, acc, false, 64, zero_rnd, &zero, victim, &vlen),
                     0);
    assert_int_equal(vlen, 5);
    assert_memory_equal(victim, "key17", 5);
    /* LFU: the lowest decayed count wins over an older minute. */
    uint64_t now_min = pcs_now_ms() / 60000;
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%02d", i);
        acc[pcs_access_slot(k, 5)] = (uint32_t)((now_min & 0xffff) << 16) | 20;
    }
    acc[pcs_access_slot("key17", 5)] = (uint32_t)(((now_min - 1) & 0xffff) << 16) | 30;
    acc[pcs_access_slot("key33", 5)] = (uint32_t)((now_min & 0xffff) << 16) | 3;
    assert_int_equal(pcs_evict_sample(&f->w, &sp, acc, true, 64, zero_rnd, &zero, victim, &vlen),
                     0);
    assert_memory_equal(victim, "key33", 5);
    pcs_wabort(&f->w);
    free(acc);
}

/* ---- loading records ---- */

/* Everything in shard 0 of f: the stored counts, after a commit. */
static void counts_of(fx *f, uint64_t c[PCS_COUNTS])
{
    uint64_t sc[PCS_COUNTS];
    memset(c, 0, sizeof(uint64_t) * PCS_COUNTS);
    for (unsigned s = 0; s < f->st->nshards; s++) {
        assert_int_equal(pcs_shard_counts(&f->st->shards[s], sc), 0);
        for (unsigned i = 0; i < PCS_COUNTS; i++)
            c[i] += sc[i];
    }
}

static void test_load_rejects(void **state)
{
    fx *f = *state;
    pcs_wctx *w = &f->w;
    pc_val s = pc_str("v"), i = pc_int(1), nan = pc_dbl(NAN), items[3] = {pc_str("f"), pc_int(1)};
    /* No transaction. */
    assert_int_equal(pcs_load_record(w, "a", 1, PC_T_STRING, 0, &s, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(NULL, "a", 1, PC_T_STRING, 0, &s, NULL, 0), PC_EINVAL);
    put_str(f, "taken", "old", 0);
    /* A key of shard 0 and one of another shard. */
    char k0[8] = "", kx[8] = "";
    for (int n = 0; n < 100 && (!*k0 || !*kx); n++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", n);
        snprintf(pcs_shard_of(3, k, strlen(k)) == 0 ? k0 : kx, 8, "%s", k);
    }
    unsigned ts = pcs_shard_of(3, "taken", 5);
    assert_int_equal(pcs_wbegin(w, f->st, 0), 0);
    size_t l0 = strlen(k0);
    char big[300];
    memset(big, 'k', sizeof big);
    assert_int_equal(pcs_load_record(w, k0, 0, PC_T_STRING, 0, &s, NULL, 0), PC_EKEY);
    assert_int_equal(pcs_load_record(w, NULL, 1, PC_T_STRING, 0, &s, NULL, 0), PC_EKEY);
    assert_int_equal(pcs_load_record(w, big, PC_KEY_MAX + 1, PC_T_STRING, 0, &s, NULL, 0), PC_EKEY);
    assert_int_equal(pcs_load_record(w, kx, strlen(kx), PC_T_STRING, 0, &s, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_NONE, 0, &s, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, (pc_type)7, 0, &s, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_STRING, 0, NULL, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_STRING, 0, &i, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_STRING, 0, &s, items, 2), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_NUMERIC, 0, &s, NULL, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_NUMERIC, 0, &nan, NULL, 0), PC_ENAN);
    pc_val huge = pc_mem(big, 0);
    huge.s.len = f->st->max_value + 1;
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_STRING, 0, &huge, NULL, 0), PC_ETOOBIG);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_LIST, 0, &s, items, 2), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_LIST, 0, NULL, items, 0), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_SET, 0, NULL, NULL, 1), PC_EINVAL);
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_MAP, 0, NULL, items, 1), PC_EINVAL);
    pc_val badmap[2] = {pc_int(1), pc_int(2)};
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_MAP, 0, NULL, badmap, 2), PC_EINVAL);
    pc_val nanset[2] = {pc_int(1), pc_dbl(NAN)};
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_SET, 0, NULL, nanset, 2), PC_ENAN);
    pc_val hugeset[1] = {huge};
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_QUEUE, 0, NULL, hugeset, 1), PC_ETOOBIG);
    pc_val none[1] = {{.kind = PC_NONE}};
    assert_int_equal(pcs_load_record(w, k0, l0, PC_T_LIST, 0, NULL, none, 1), PC_EINVAL);
    assert_int_equal(w->nmut, 0);
    pcs_wabort(w);
    /* A key already there, live or expired, is refused and stays as it was. */
    assert_int_equal(pcs_wbegin(w, f->st, ts), 0);
    assert_int_equal(pcs_load_record(w, "taken", 5, PC_T_STRING, 0, &s, NULL, 0), PC_EEXIST);
    assert_int_equal(pcs_load_record(w, "taken", 5, PC_T_SET, 0, NULL, items, 2), PC_EEXIST);
    assert_int_equal(w->nmut, 0);
    assert_int_equal(pcs_wcommit(w), 0);
    put_str(f, "gone", "old", 1); /* expired long ago */
    unsigned gs = pcs_shard_of(3, "gone", 4);
    assert_int_equal(pcs_wbegin(w, f->st, gs), 0);
    assert_int_equal(pcs_load_record(w, "gone", 4, PC_T_STRING, 0, &s, NULL, 0), PC_EEXIST);
    pcs_wabort(w);
    uint64_t c[PCS_COUNTS];
    counts_of(f, c);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_STRING], 2);
    assert_int_equal(c[PCS_C_TTL], 1);
    pcs_rec rec;
    pcs_view v;
    assert_true(live(f, "taken", &rec, &v));
    assert_int_equal(rec.dlen, 3);
    assert_memory_equal(rec.data, "old", 3);
    mdb_txn_abort(v.txn);
}

static void test_load_each_type(void **state)
{
    fx *f = *state;
    pcs_wctx *w = &f->w;
    uint64_t ttl = pcs_now_ms() + 3600000;
    pc_val s = pc_str("hello"), n = pc_int(-42), d = pc_dbl(2.5);
    pc_val list[3] = {pc_str("a"), pc_int(2), pc_nil()};
    pc_val map[4] = {pc_str("f1"), pc_str("v1"), pc_str("f2"), pc_bool(true)};
    pc_val set[4] = {pc_int(1), pc_str("1"), pc_int(1), pc_dbl(1.5)};
    assert_int_equal(pcs_wbegin(w, f->st, 0), 0);
    assert_int_equal(pcs_load_record(w, "s", 1, PC_T_STRING, ttl, &s, NULL, 0), 0);
    assert_int_equal(pcs_load_record(w, "n", 1, PC_T_NUMERIC, 0, &n, NULL, 0), 0);
    assert_int_equal(pcs_load_record(w, "d", 1, PC_T_NUMERIC, 0, &d, NULL, 0), 0);
    assert_int_equal(pcs_load_record(w, "l", 1, PC_T_LIST, 0, NULL, list, 3), 0);
    assert_int_equal(pcs_load_record(w, "q", 1, PC_T_QUEUE, ttl, NULL, list, 2), 0);
    assert_int_equal(pcs_load_record(w, "m", 1, PC_T_MAP, 0, NULL, map, 4), 0);
    assert_int_equal(pcs_load_record(w, "e", 1, PC_T_SET, 0, NULL, set, 4), 0);
    assert_int_equal(pcs_wcommit(w), 0);

    uint64_t c[PCS_COUNTS];
    counts_of(f, c);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_STRING], 1);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_NUMERIC], 2);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_LIST], 1);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_QUEUE], 1);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_MAP], 1);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_SET], 1);
    assert_int_equal(c[PCS_C_TTL], 2);
    uint64_t due;
    assert_int_equal(pcs_shard_next_due(&f->st->shards[0], &due), 0);
    assert_int_equal(due, ttl);

    pcs_rec r;
    pcs_view v;
    pc_val out;
    assert_true(live(f, "s", &r, &v));
    assert_int_equal(r.type, PC_T_STRING);
    assert_int_equal(r.expire_at, ttl);
    assert_int_equal(r.dlen, 5);
    assert_memory_equal(r.data, "hello", 5);
    assert_int_equal(pcs_lookup(&v, "n", 1, &r, NULL), 0);
    assert_int_equal(r.type, PC_T_NUMERIC);
    assert_true(r.num.kind == PC_INT && r.num.i == -42);
    assert_int_equal(pcs_lookup(&v, "d", 1, &r, NULL), 0);
    assert_true(r.num.kind == PC_DOUBLE && r.num.d == 2.5);
    assert_int_equal(pcs_lookup(&v, "l", 1, &r, NULL), 0);
    assert_int_equal(r.type, PC_T_LIST);
    assert_int_equal(r.count, 3);
    for (uint64_t i = 0; i < 3; i++) {
        assert_int_equal(pcs_seq_get(&v, &r, i, &out), 0);
        assert_true(pcs_val_equal(&out, &list[i]));
    }
    assert_int_equal(pcs_lookup(&v, "q", 1, &r, NULL), 0);
    assert_int_equal(r.type, PC_T_QUEUE);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.expire_at, ttl);
    assert_int_equal(pcs_seq_get(&v, &r, 0, &out), 0);
    assert_true(pcs_val_equal(&out, &list[0]));
    assert_int_equal(pcs_lookup(&v, "m", 1, &r, NULL), 0);
    assert_int_equal(r.type, PC_T_MAP);
    assert_int_equal(r.count, 2);
    assert_int_equal(pcs_map_get(&v, &r, "f2", 2, &out, NULL), 0);
    assert_true(pcs_val_equal(&out, &map[3]));
    assert_int_equal(pcs_lookup(&v, "e", 1, &r, NULL), 0);
    assert_int_equal(r.type, PC_T_SET);
    assert_int_equal(r.count, 3); /* the second int 1 folds */
    bool has;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pcs_set_has(&v, &r, &set[i], &has, NULL), 0);
        assert_true(has);
    }
    mdb_txn_abort(v.txn);
}

/* ---- the bare-LMDB floor ---- */

static void test_bare(void **state)
{
    fx *f = *state;
    put_str(f, "k1", "value-one", 0);
    put_str(f, "k2", "", 0);
    fx_close_store(f); /* LMDB opens a file once per process */
    char path[160], err[256] = "";
    pcs_bare *b = NULL;
    snprintf(path, sizeof path, "%s/nothing/data-00.mdb", f->dir);
    assert_int_equal(pcs_bare_open(path, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "nothing/data-00.mdb: No such file"));
    snprintf(path, sizeof path, "%s/s/data-00.mdb", f->dir);
    assert_int_equal(pcs_bare_open(path, &b, err, sizeof err), 0);
    pcs_bare_rd *r = NULL;
    assert_int_equal(pcs_bare_rd_new(b, &r, err, sizeof err), 0);
    size_t vlen = 99;
    unsigned sink = 0;
    /* The value is the record, header included: its last byte is the String's. */
    assert_int_equal(pcs_bare_get(r, "k1", 2, &vlen, &sink), 0);
    assert_int_equal(vlen, 1 + 8 + 9);
    assert_int_equal(sink, 'e');
    assert_int_equal(pcs_bare_get(r, "k2", 2, &vlen, &sink), 0);
    assert_int_equal(vlen, 1 + 8);
    assert_int_equal(pcs_bare_get(r, "k3", 2, &vlen, &sink), PC_ENOTFOUND);
    assert_int_equal(vlen, 0);
    assert_string_equal(pcs_bare_why(r), "");
    unsigned all = 0;
    assert_int_equal(pcs_bare_touch_all(r, &all), 0);
    assert_int_equal(all, 2 * PC_T_STRING); /* each record's first byte: its type */
    pcs_bare_rd_free(r);
    pcs_bare_rd_free(NULL);
    pcs_bare_close(b);
    pcs_bare_close(NULL);
    assert_memory_equal(pcs_bare_version(), "LMDB ", 5);
}

/* ---- restoring through pcs_load_record ---- */

static void sql(sqlite3 *db, const char *q)
{
    char *e = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &e) != SQLITE_OK)
        fail_msg("%s: %s", q, e ? e : "?");
}

/* A snapshot of f's store in f->dir/snap; its path into path. */
static void snapshot_of(fx *f, char *path, size_t len)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/snap", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    pcs_rtxns rt;
    pcp_result res;
    rt.n = 0;
    assert_int_equal(pcp_snapshot(f->st, &rt, dir, 0, 1, true, &res),
                     PC_EINVAL); /* no transactions */
    assert_int_equal(pcs_rtxns_begin(f->st, &rt), 0);
    assert_int_equal(pcp_snapshot(f->st, &rt, dir, 0, 1, true, &res), 0);
    pcs_rtxns_end(&rt);
    snprintf(path, len, "%s", res.path);
}

/* A sink that only looks, at each key, whether shard 0's read has ended
 * while shard 2's is still open. */
typedef struct walk_seen {
    const pcs_store *st;
    uint64_t keys;
    bool first_ended_last_held;
} walk_seen;

static int look_key(void *ctx, const pc_bytes *key, pc_type type, uint64_t expire_at,
                    const pc_val *value)
{
    (void)key, (void)type, (void)expire_at, (void)value;
    walk_seen *w = ctx;
    pcs_readers r0, r2;
    w->keys++;
    if (pcs_shard_readers(&w->st->shards[0], &r0) == 0 &&
        pcs_shard_readers(&w->st->shards[2], &r2) == 0 && r0.min_txnid == UINT64_MAX &&
        r2.min_txnid != UINT64_MAX)
        w->first_ended_last_held = true;
    return 0;
}

/* Has no shard of f a reader? */
static bool no_readers(fx *f)
{
    for (unsigned s = 0; s < 3; s++) {
        pcs_readers r;
        assert_int_equal(pcs_shard_readers(&f->st->shards[s], &r), 0);
        if (r.min_txnid != UINT64_MAX)
            return false;
    }
    return true;
}

/*
 * With end_reads, a walk (and so a snapshot) ends each shard's read as soon
 * as that shard is written: part way through, shard 0 has no reader while
 * shard 2 still has one; at the end no shard has.  Without it every read is
 * still held for the next target.  A set with one read ended already is
 * refused.
 */
static void test_snapshot_ends_reads(void **state)
{
    fx *f = *state;
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%05d", i);
        put_str(f, k, "v", 0);
    }
    pcs_rtxns rt;
    pcp_counts cnt;
    char why[256];
    walk_seen w = {.st = f->st};
    pcp_sink sink = {.ctx = &w, .key = look_key};
    /* without end_reads: all held to the end */
    assert_int_equal(pcs_rtxns_begin(f->st, &rt), 0);
    assert_int_equal(pcp_walk(f->st, &rt, false, pcs_now_ms(), &sink, &cnt, why, sizeof why), 0);
    assert_int_equal(w.keys, N);
    assert_false(w.first_ended_last_held);
    assert_false(no_readers(f));
    for (unsigned s = 0; s < 3; s++)
        assert_non_null(rt.txn[s]);
    /* then with end_reads, on the same reads: ended shard by shard */
    w.keys = 0;
    assert_int_equal(pcp_walk(f->st, &rt, true, pcs_now_ms(), &sink, &cnt, why, sizeof why), 0);
    assert_int_equal(w.keys, N);
    assert_true(w.first_ended_last_held);
    assert_true(no_readers(f));
    for (unsigned s = 0; s < 3; s++)
        assert_null(rt.txn[s]);
    pcs_rtxns_end(&rt);

    /* A snapshot file likewise. */
    char dir[128];
    snprintf(dir, sizeof dir, "%s/snap", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    pcp_result res;
    assert_int_equal(pcs_rtxns_begin(f->st, &rt), 0);
    assert_int_equal(pcp_snapshot(f->st, &rt, dir, 0, 1, false, &res), 0);
    assert_int_equal(res.keys, N);
    assert_false(no_readers(f));
    assert_int_equal(pcp_snapshot(f->st, &rt, dir, 0, 2, true, &res), 0);
    assert_int_equal(res.keys, N);
    assert_true(no_readers(f));
    pcs_rtxns_end(&rt);
    /* A set with one read ended is refused. */
    assert_int_equal(pcs_rtxns_begin(f->st, &rt), 0);
    pcs_rtxn_end(&rt, 1);
    assert_int_equal(pcp_snapshot(f->st, &rt, dir, 0, 3, true, &res), PC_EINVAL);
    assert_int_equal(pcp_walk(f->st, &rt, true, pcs_now_ms(), &sink, &cnt, why, sizeof why),
                     PC_EINVAL);
    pcs_rtxns_end(&rt);
}

/* Open a fresh store of 3 shards in f->dir/r. */
static pcs_store *fresh_store(fx *f)
{
    char sd[128];
    snprintf(sd, sizeof sd, "%s/r", f->dir);
    pcs_params p = {.create = true, .nosync = true, .shards = 3, .map_size = 64u << 20};
    pcs_store *st = NULL;
    assert_int_equal(pcs_store_open(sd, PCS_MODE_EMBEDDED, &p, &st), 0);
    return st;
}

static void test_restore_roundtrip(void **state)
{
    fx *f = *state;
    put_str(f, "a", "1", 0);
    put_str(f, "b", "2", pcs_now_ms() + 3600000);
    pc_val items[2] = {pc_str("x"), pc_int(5)};
    unsigned s = pcs_shard_of(3, "m", 1);
    assert_int_equal(pcs_wbegin(&f->w, f->st, s), 0);
    assert_int_equal(pcs_load_record(&f->w, "m", 1, PC_T_MAP, 0, NULL, items, 2), 0);
    assert_int_equal(pcs_wcommit(&f->w), 0);
    char path[4096];
    snapshot_of(f, path, sizeof path);
    pcs_store *st = fresh_store(f);
    pcp_result res;
    assert_int_equal(pcp_restore_file(st, path, &res), 0);
    assert_int_equal(res.keys, 3);
    uint64_t c[PCS_COUNTS] = {0}, sc[PCS_COUNTS];
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(pcs_shard_counts(&st->shards[i], sc), 0);
        for (unsigned j = 0; j < PCS_COUNTS; j++)
            c[j] += sc[j];
    }
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_STRING], 2);
    assert_int_equal(c[PCS_C_TYPE0 + PC_T_MAP], 1);
    assert_int_equal(c[PCS_C_TTL], 1);
    pcs_store_release(st);
}

/*
 * A snapshot that holds one key twice, once as TEXT and once as BLOB (SQLite
 * keeps both under its primary key; pycache never writes that): restoring
 * it used to load the key twice over, doubling its count and leaving the
 * first copy's expiry entry behind.  It is refused as corrupt, and nothing
 * is loaded.
 */
static void test_restore_twice_the_same_key(void **state)
{
    fx *f = *state;
    put_str(f, "a", "1", pcs_now_ms() + 3600000);
    put_str(f, "b", "2", 0);
    char path[4096];
    snapshot_of(f, path, sizeof path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sql(db, "INSERT INTO keys VALUES(CAST('a' AS BLOB), 'string', NULL, 'other')");
    sql(db, "UPDATE meta SET value = value + 1 WHERE name = 'key_count'");
    sqlite3_close(db);
    pcs_store *st = fresh_store(f);
    pcp_result res;
    assert_int_equal(pcp_restore_file(st, path, &res), PC_ECORRUPT);
    assert_non_null(strstr(res.why, "a bad row"));
    for (unsigned i = 0; i < 3; i++) {
        uint64_t c[PCS_COUNTS], due;
        assert_int_equal(pcs_shard_counts(&st->shards[i], c), 0);
        for (unsigned j = 0; j < PCS_COUNTS; j++)
            assert_int_equal(c[j], 0);
        assert_int_equal(pcs_shard_next_due(&st->shards[i], &due), 0);
        assert_int_equal(due, UINT64_MAX);
    }
    pcs_store_release(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_every_code),
        cmocka_unit_test(test_names_tables),
        cmocka_unit_test_setup_teardown(test_space, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_readers_and_rtxns, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_next_due_counts_meta, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_counts_of_older_stores, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_evict_sample, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_load_rejects, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_load_each_type, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_bare, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_ends_reads, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_restore_roundtrip, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_restore_twice_the_same_key, setup3, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
