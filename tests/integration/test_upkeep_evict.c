/*
 * test_upkeep_evict.c - eviction at the memory cap, against a real pycached.
 *
 *  - Under volatile-ttl, allkeys-lru and allkeys-lfu, writes go on far past
 *    the cap and every one succeeds; the store stays within its map the
 *    whole time and settles under the eviction threshold; every key written
 *    is either still there, reading back exactly, or counted as evicted.
 *    volatile-ttl evicts strictly the soonest-expiring keys and never a key
 *    without a TTL.  Both with room to spare (a threshold at half the map)
 *    and with the default threshold (90 %) on a small map.
 *  - noeviction (and volatile-ttl with nothing to evict) answers PC_EFULL
 *    at the cap, with the store intact: every key acknowledged before reads
 *    back exactly, the refused ones left no trace, nothing was evicted;
 *    deleting never fails (it cannot grow the store) and makes room again.
 *  - Keys that a zero-copy reader keeps touching survive allkeys-lru longer
 *    than keys nobody reads, and so do keys read often under allkeys-lfu;
 *    with ordinary text keys as with keys spread over all byte values; and
 *    no write is refused while the reader reads.
 *
 * PCTEST_FILTER=GLOB runs only the matching tests.
 */
#include <poll.h>

#include "pctest.h"

/* Values of this size: about three keys to a 4 KiB page. */
#define VSIZE 1000
/* Writes per batch (in flight together). */
#define BATCH 64

/* Key names: "{e}" then text (16 hex digits, as pt_key makes them) or, when
 * set, 8 bytes spread over all byte values (then "." and the family).
 *
 * The tag {e} puts every key in one shard, whatever the store's shard
 * count (by default one per core): these tests fill that shard's map and
 * make it evict or refuse, as in a store of one shard, while the other
 * shards stay empty and must not matter.  hundred_kb() with shards > 1
 * leaves the tag out (spread_keys) to fill every shard of its store, and
 * test_daemon_shards evicts in 4 shards' threads at once. */
static bool binary_keys;
static bool spread_keys;

static const char *key_of(char *buf, size_t n, const char *family, uint64_t i)
{
    size_t t = spread_keys ? 0 : 3;
    memcpy(buf, "{e}", t);
    if (!binary_keys)
        return pt_key(buf + t, n - t, family, i) - t;
    uint64_t h = pt_mix(i ^ pt_mix((uint64_t)family[0] << 8 | family[1]));
    for (int b = 0; b < 8; b++) {
        unsigned char c = (unsigned char)(h >> (56 - 8 * b));
        buf[t + (size_t)b] = (char)(c ? c : 1); /* no NUL: keys are printed with %s */
    }
    snprintf(buf + t + 8, n - t - 8, ".%s", family);
    return buf;
}

/* key_of for text keys. */
static const char *text_key(char *buf, size_t n, const char *family, uint64_t i)
{
    bool was = binary_keys;
    binary_keys = false;
    key_of(buf, n, family, i);
    binary_keys = was;
    return buf;
}

typedef struct fixture {
    pt_daemon d;
    pc_client *c;
} fixture;

static fixture *start(const char *const *extra)
{
    spread_keys = false;
    fixture *f = calloc(1, sizeof *f);
    if (!f || pt_small_daemon(&f->d, extra)) {
        free(f);
        return NULL;
    }
    if (pt_connect(f->d.dir, 0, &f->c)) {
        pt_daemon_end(&f->d);
        free(f);
        return NULL;
    }
    return f;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    pc_close(f->c);
    int rc = pt_daemon_end(&f->d);
    free(f);
    *state = NULL;
    return rc;
}

/* The value of key i of a family (VSIZE bytes). */
static void value_of(const char *family, uint64_t i, uint8_t *buf)
{
    pt_fill(buf, VSIZE, i * 31 + (uint64_t)family[0]);
}

/* What a fill saw. */
typedef struct fill_stats {
    uint64_t ok, full, other; /* answers */
    int first_other;          /* the first unexpected code */
    uint64_t max_used;        /* the most bytes_used seen published */
    uint64_t over_map;        /* publications with bytes_used above max_memory */
    bool saw_full;            /* when the first PC_EFULL came: */
    uint64_t full_at;         /* writes answered before it */
    pc_stats full_st;         /* the page then */
} fill_stats;

/*
 * Write keys family:from..to-1 (VSIZE-byte Strings) in batches; ttl_ms(i)
 * (0: none) from ttl_base + i when ttl_base > 0.  ok[i - from] (may be
 * NULL) records which were acknowledged.  Watches the published stats.
 */
static void fill(fixture *f, const char *family, uint64_t from, uint64_t to, int64_t ttl_base,
                 bool *acked, fill_stats *fs)
{
    static uint8_t vals[BATCH][VSIZE];
    char key[64];
    int rcs[BATCH];
    for (uint64_t i = from; i < to;) {
        uint64_t first = i;
        OK(pc_batch_begin(f->c));
        for (unsigned b = 0; b < BATCH && i < to; b++, i++) {
            value_of(family, i, vals[b]);
            pc_val v = pc_mem(vals[b], VSIZE);
            OK(pc_set(f->c, K(key_of(key, sizeof key, family, i)), &v,
                      ttl_base ? ttl_base + (int64_t)i : 0, 0));
        }
        size_t nb = (size_t)(i - first);
        int rc = pc_batch_exec(f->c, rcs, nb);
        (void)rc; /* each write's own code is in rcs */
        for (size_t b = 0; b < nb; b++) {
            if (rcs[b] == 0)
                fs->ok++;
            else if (rcs[b] == PC_EFULL)
                fs->full++;
            else if (!fs->other++)
                fs->first_other = rcs[b];
            if (acked)
                acked[first + b - from] = rcs[b] == 0;
            if (rcs[b] == PC_EFULL && !fs->saw_full) {
                fs->saw_full = true;
                fs->full_at = fs->ok + fs->other;
                OK(pc_stats_get(f->c, &fs->full_st));
            }
        }
        if ((i / BATCH) % 8 == 0) {
            pc_stats st;
            OK(pc_stats_get(f->c, &st));
            if (st.bytes_used > fs->max_used)
                fs->max_used = st.bytes_used;
            fs->over_map += st.bytes_used > st.max_memory;
        }
    }
}

/* Check key i of family: present with its exact value (true) or missing. */
static bool check_key(pc_read *r, const char *family, uint64_t i)
{
    char key[64];
    static uint8_t want[VSIZE];
    pc_val v;
    int rc = pc_get(r, K(key_of(key, sizeof key, family, i)), &v);
    if (rc == PC_ENOTFOUND)
        return false;
    RC(0, rc);
    value_of(family, i, want);
    assert_int_equal(v.kind, PC_BYTES);
    assert_int_equal(v.s.len, VSIZE);
    assert_memory_equal(v.s.ptr, want, VSIZE);
    return true;
}

/* Wait until the published usage is at or under the eviction threshold. */
static void wait_settled(fixture *f, pc_stats *st)
{
    uint64_t until = pt_now_ms() + 5000;
    do {
        assert_int_equal(pt_stats_next(f->c, st), 0);
        if (st->bytes_used <= st->evict_above)
            return;
    } while (pt_now_ms() < until);
    print_error("usage %" PRIu64 " still above the threshold %" PRIu64 " after 5 s\n",
                st->bytes_used, st->evict_above);
    fail();
}

/* Wait until eviction has stopped: under the threshold, and the evicted
 * count the same in two publications in a row. */
static void wait_quiet(fixture *f, pc_stats *st)
{
    pc_stats prev;
    wait_settled(f, &prev);
    uint64_t until = pt_now_ms() + 5000;
    for (;;) {
        assert_int_equal(pt_stats_next(f->c, st), 0);
        if (st->evicted == prev.evicted && st->keys[0] == prev.keys[0])
            return;
        if (pt_now_ms() > until) {
            print_error("eviction still going after 5 s\n");
            fail();
        }
        prev = *st;
    }
}

static void report(const char *what, const fill_stats *fs, const pc_stats *st)
{
    print_message("    %s: %" PRIu64 " written, %" PRIu64 " evicted, %" PRIu64
                  " left; peak %.1f MiB (threshold %.1f, map %.1f)\n",
                  what, fs->ok, st->evicted, st->keys[0], (double)fs->max_used / (1 << 20),
                  (double)st->evict_above / (1 << 20), (double)st->max_memory / (1 << 20));
}

/* ---- writes go on past the cap ---- */

#define FILL_KEYS 20000 /* about 40 MiB of pages into a 16 MiB threshold */

static void evicting_policy(void **state, const char *policy, pc_policy want, const char *map,
                            const char *evict_at)
{
    bool ttl = want == PC_POLICY_VOLATILE_TTL;
    const char *const extra[] = {"--eviction", policy, "--max-memory", map, "--evict-at",
                                 evict_at,     NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    fill_stats fs = {0};
    pc_stats st;
    binary_keys = false;
    /* Under volatile-ttl, keys without a TTL must never be evicted. */
    if (ttl)
        fill(f, "plain", 0, 200, 0, NULL, &fs);
    fill(f, "fill", 0, FILL_KEYS, ttl ? 3600 * 1000 : 0, NULL, &fs);
    if (fs.other)
        print_error("unexpected answer %s\n", pc_err_name(fs.first_other));
    if (fs.full)
        print_error("%" PRIu64 " writes refused with PC_EFULL, the first after %" PRIu64
                    " answers; the page then: %.2f MiB used (threshold %.2f, map %.2f), %" PRIu64
                    " evicted, %" PRIu64 " keys\n",
                    fs.full, fs.full_at, (double)fs.full_st.bytes_used / (1 << 20),
                    (double)fs.full_st.evict_above / (1 << 20),
                    (double)fs.full_st.max_memory / (1 << 20), fs.full_st.evicted,
                    fs.full_st.keys[0]);
    EQ(fs.full, 0);
    EQ(fs.other, 0);
    EQ(fs.over_map, 0);
    wait_quiet(f, &st);
    report(policy, &fs, &st);
    EQ(st.policy, want);
    assert_true(st.evicted > 0);
    assert_true(fs.max_used <= st.max_memory);

    /* Every key: there with its exact value, or evicted (and counted). */
    pc_read *r;
    uint64_t present = 0, first_present = UINT64_MAX, gaps = 0;
    OK(pc_read_begin(f->c, &r));
    for (uint64_t i = 0; i < FILL_KEYS; i++) {
        if (check_key(r, "fill", i)) {
            present++;
            if (first_present == UINT64_MAX)
                first_present = i;
        } else if (first_present != UINT64_MAX) {
            gaps++;
        }
    }
    uint64_t plain = 0;
    for (uint64_t i = 0; ttl && i < 200; i++)
        plain += check_key(r, "plain", i);
    pc_read_end(r);
    EQ(present + plain, st.keys[0]);
    EQ(present + st.evicted, FILL_KEYS);
    if (ttl) {
        /* Soonest to expire first: the survivors are exactly the latest. */
        EQ(plain, 200);
        EQ(gaps, 0);
        EQ(first_present, st.evicted);
        EQ(st.keys_ttl, present);
    }
}

/* With room to spare: a threshold at half the map. */
static void test_volatile_ttl(void **state)
{
    evicting_policy(state, "volatile-ttl", PC_POLICY_VOLATILE_TTL, "32M", "50");
}

static void test_allkeys_lru(void **state)
{
    evicting_policy(state, "allkeys-lru", PC_POLICY_ALLKEYS_LRU, "32M", "50");
}

static void test_allkeys_lfu(void **state)
{
    evicting_policy(state, "allkeys-lfu", PC_POLICY_ALLKEYS_LFU, "32M", "50");
}

/* With the default threshold (90 % of the map) on a small map: a burst of
 * writes must not outrun eviction into the map's hard limit. */
static void test_volatile_ttl_default_threshold(void **state)
{
    evicting_policy(state, "volatile-ttl", PC_POLICY_VOLATILE_TTL, "8M", "90");
}

static void test_allkeys_lru_default_threshold(void **state)
{
    evicting_policy(state, "allkeys-lru", PC_POLICY_ALLKEYS_LRU, "8M", "90");
}

static void test_allkeys_lfu_default_threshold(void **state)
{
    evicting_policy(state, "allkeys-lfu", PC_POLICY_ALLKEYS_LFU, "8M", "90");
}

/*
 * Small values at random keys in a small map: every eviction step deletes
 * keys spread over the whole tree, so it copies a leaf page per key, and near
 * the map's end a step of 64 keys found no free pages for those copies
 * (MDB_MAP_FULL): nothing was evicted any more, and every write after that
 * was refused with PC_EFULL.  A cache-aside loop like pcbench's hitratio:
 * one acknowledged write at a time, none may be refused.
 */
#define SMALL_WRITES 40000
#define SMALL_SPACE 200000

static void small_values_random_keys(void **state, const char *policy)
{
    const char *const extra[] = {"--eviction", policy, "--max-memory", "4500K", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    uint64_t x = 88172645463325252ull, full = 0, other = 0;
    int first_other = 0;
    char key[32];
    uint8_t val[64];
    for (unsigned i = 0; i < SMALL_WRITES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;                        /* xorshift64 */
        snprintf(key, sizeof key, "{e}r:%012" PRIu64, x % SMALL_SPACE); /* one shard */
        pt_fill(val, sizeof val, x);
        pc_val v = pc_mem(val, sizeof val);
        int rc = pc_set(f->c, key, strlen(key), &v, 0, 0);
        full += rc == PC_EFULL;
        if (rc && rc != PC_EFULL && !other++)
            first_other = rc;
    }
    pc_stats st;
    OK(pc_stats_get(f->c, &st));
    if (full || other)
        print_error("%" PRIu64 " writes refused with PC_EFULL, %" PRIu64 " other errors (%s); "
                    "%.2f MiB used of %.2f, %" PRIu64 " evicted, %" PRIu64 " keys\n",
                    full, other, other ? pc_err_name(first_other) : "none",
                    (double)st.bytes_used / (1 << 20), (double)st.max_memory / (1 << 20),
                    st.evicted, st.keys[0]);
    EQ(full, 0);
    EQ(other, 0);
    assert_true(st.evicted > 0);
    assert_true(st.bytes_used <= st.max_memory);
}

static void test_lru_small_values_random_keys(void **state)
{
    small_values_random_keys(state, "allkeys-lru");
}

static void test_lfu_small_values_random_keys(void **state)
{
    small_values_random_keys(state, "allkeys-lfu");
}

/* ---- values of every size ---- */

/*
 * Large values need a run of contiguous pages (an LMDB overflow value): free
 * pages scattered over the free list do not make room for one.  Under an
 * evicting policy every write must succeed while anything is left to evict,
 * whatever the sizes.  Writes one at a time (as a cache-aside client does):
 * sizes[i % nsizes] bytes for write i, n writes, keys of family fam.
 */
typedef struct big_stats {
    uint64_t ok, full, other, first_full;
    int first_other;
} big_stats;

static void write_sized(fixture *f, const char *fam, uint64_t from, uint64_t n, const size_t *sizes,
                        size_t nsizes, int64_t ttl_ms, big_stats *bs)
{
    static uint8_t val[1 << 20];
    char key[64];
    for (uint64_t i = from; i < from + n; i++) {
        size_t len = sizes[i % nsizes];
        pt_fill(val, len, i);
        pc_val v = pc_mem(val, len);
        int rc = pc_set(f->c, K(text_key(key, sizeof key, fam, i)), &v, ttl_ms, 0);
        if (rc == 0) {
            bs->ok++;
        } else if (rc == PC_EFULL) {
            if (!bs->full++)
                bs->first_full = i;
        } else if (!bs->other++) {
            bs->first_other = rc;
        }
    }
}

static void expect_all_ok(fixture *f, const char *what, const big_stats *bs)
{
    pc_stats st;
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    print_message("    %s: %" PRIu64 " written, %" PRIu64 " refused, %" PRIu64 " evicted, %" PRIu64
                  " left, %.2f MiB used of %.2f\n",
                  what, bs->ok, bs->full, st.evicted, st.keys[0], (double)st.bytes_used / (1 << 20),
                  (double)st.max_memory / (1 << 20));
    if (bs->full)
        print_error("%s: %" PRIu64 " writes refused with PC_EFULL, the first at write %" PRIu64
                    "\n",
                    what, bs->full, bs->first_full);
    if (bs->other)
        print_error("%s: unexpected answer %s\n", what, pc_err_name(bs->first_other));
    if (bs->full || bs->other)
        pt_daemon_dump(&f->d);
    EQ(bs->full, 0);
    EQ(bs->other, 0);
    assert_true(st.evicted > 0);
    assert_true(st.bytes_used <= st.max_memory);
}

/* 400 values of 100 KB into an 8 MiB map (--max-value 256K), per shard. */
static void hundred_kb(void **state, const char *policy, unsigned shards)
{
    char ns[8];
    snprintf(ns, sizeof ns, "%u", shards);
    const char *const extra[] = {
        "--eviction", policy, "--max-memory", "8M", "--max-value", "256K", "--shards", ns, NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    static const size_t sz[] = {100000};
    big_stats bs = {0};
    bool ttl = !strcmp(policy, "volatile-ttl");
    spread_keys = shards > 1;
    write_sized(f, "big", 0, 400 * shards, sz, 1, ttl ? 3600 * 1000 : 0, &bs);
    expect_all_ok(f, policy, &bs);
}

static void test_lru_100kb_values(void **state)
{
    hundred_kb(state, "allkeys-lru", 1);
}

static void test_lfu_100kb_values(void **state)
{
    hundred_kb(state, "allkeys-lfu", 1);
}

static void test_ttl_100kb_values(void **state)
{
    hundred_kb(state, "volatile-ttl", 1);
}

/* The same with 3 shards, each its own map: 1,200 values. */
static void test_lru_100kb_values_3_shards(void **state)
{
    hundred_kb(state, "allkeys-lru", 3);
}

/* 3,000 values of 4 KiB (which scatter free pages all over the free list
 * once evicted), then values of 100 KiB (--max-value 1M, 8 MiB map). */
static void small_then_large(void **state, const char *policy)
{
    const char *const extra[] = {"--eviction", policy, "--max-memory", "8M", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    bool ttl = !strcmp(policy, "volatile-ttl");
    static const size_t small[] = {4096}, large[] = {100 << 10};
    big_stats bs = {0};
    write_sized(f, "small", 0, 3000, small, 1, ttl ? 3600 * 1000 : 0, &bs);
    write_sized(f, "large", 0, 200, large, 1, ttl ? 3600 * 1000 : 0, &bs);
    expect_all_ok(f, policy, &bs);
}

static void test_lru_small_then_large(void **state)
{
    small_then_large(state, "allkeys-lru");
}

static void test_lfu_small_then_large(void **state)
{
    small_then_large(state, "allkeys-lfu");
}

static void test_ttl_small_then_large(void **state)
{
    small_then_large(state, "volatile-ttl");
}

/* Sizes from 1 KiB up to --max-value (1M), mixed, into an 8 MiB map. */
static void mixed_sizes(void **state, const char *policy)
{
    const char *const extra[] = {"--eviction", policy, "--max-memory", "8M", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    bool ttl = !strcmp(policy, "volatile-ttl");
    static const size_t sz[] = {1 << 10,   3000,      1 << 20,   8 << 10,  200,
                                64 << 10,  5000,      300 << 10, 1 << 10,  (1 << 20) - 64,
                                17 << 10,  100 << 10, 2 << 10,   12 << 10, 700 << 10,
                                250 << 10, 4 << 10,   40 << 10,  999,      512 << 10};
    big_stats bs = {0};
    write_sized(f, "mixed", 0, 600, sz, sizeof sz / sizeof sz[0], ttl ? 3600 * 1000 : 0, &bs);
    expect_all_ok(f, policy, &bs);
}

static void test_lru_mixed_sizes(void **state)
{
    mixed_sizes(state, "allkeys-lru");
}

static void test_lfu_mixed_sizes(void **state)
{
    mixed_sizes(state, "allkeys-lfu");
}

static void test_ttl_mixed_sizes(void **state)
{
    mixed_sizes(state, "volatile-ttl");
}

/* Batches and transactions go through the same retry, in order: after
 * 3,000 values of 4 KiB, batches that write a 100 KiB value, then 300 KiB,
 * then 10 bytes to one key (the last must win, whatever had to be evicted
 * for the others), and transactions of two 100 KiB values. */
static void test_lru_batches_and_txns(void **state)
{
    const char *const extra[] = {"--eviction", "allkeys-lru", "--max-memory", "8M", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    static const size_t small[] = {4096};
    big_stats bs = {0};
    write_sized(f, "small", 0, 3000, small, 1, 0, &bs);
    static uint8_t a[300 << 10], b[300 << 10];
    char key[64], key2[64];
    int rcs[3];
    for (uint64_t i = 0; i < 60; i++) {
        text_key(key, sizeof key, "order", i);
        pt_fill(a, 100 << 10, i);
        pt_fill(b, 300 << 10, i + 1000);
        pc_val va = pc_mem(a, 100 << 10), vb = pc_mem(b, 300 << 10), vc = pc_mem("last write", 10);
        OK(pc_batch_begin(f->c));
        OK(pc_set(f->c, K(key), &va, 0, 0));
        OK(pc_set(f->c, K(key), &vb, 0, 0));
        OK(pc_set(f->c, K(key), &vc, 0, 0));
        (void)pc_batch_exec(f->c, rcs, 3);
        for (int j = 0; j < 3; j++) {
            if (rcs[j])
                print_error("batch %" PRIu64 ", write %d: %s\n", i, j, pc_err_name(rcs[j]));
            RC(0, rcs[j]);
        }
        pc_val got;
        pc_read *r;
        OK(pc_read_begin(f->c, &r));
        int rc = pc_get(r, K(key), &got);
        if (rc != PC_ENOTFOUND) {
            RC(0, rc);
            assert_int_equal(got.s.len, 10);
            assert_memory_equal(got.s.ptr, "last write", 10);
        }
        pc_read_end(r);
    }
    for (uint64_t i = 0; i < 40; i++) {
        pt_fill(a, 100 << 10, i + 2000);
        pt_fill(b, 100 << 10, i + 3000);
        pc_val va = pc_mem(a, 100 << 10), vb = pc_mem(b, 100 << 10);
        long failed = -2;
        OK(pc_txn_begin(f->c));
        OK(pc_set(f->c, K(text_key(key, sizeof key, "txa", i)), &va, 0, 0));
        OK(pc_set(f->c, K(text_key(key2, sizeof key2, "txb", i)), &vb, 0, 0));
        int rc = pc_txn_commit(f->c, &failed);
        if (rc)
            print_error("transaction %" PRIu64 ": %s (write %ld)\n", i, pc_err_name(rc), failed);
        RC(0, rc);
    }
    expect_all_ok(f, "batches and transactions", &bs);
}

/* ---- the refusals are logged ---- */

/* The daemon's "store full" lines: how many, the refusals they count, and
 * the least time between two in a row (ms; UINT64_MAX: fewer than two). */
typedef struct full_lines {
    unsigned lines;
    uint64_t counted, min_gap_ms;
    bool why_ok; /* every line gave the reason wanted */
} full_lines;

static void read_full_lines(const pt_daemon *d, const char *why, full_lines *fl)
{
    memset(fl, 0, sizeof *fl);
    fl->min_gap_ms = UINT64_MAX;
    fl->why_ok = true;
    FILE *fp = fopen(d->log, "r");
    assert_non_null(fp);
    char line[1024];
    int64_t prev = -1;
    while (fgets(line, sizeof line, fp)) {
        const char *p = strstr(line, "store full: ");
        if (!p)
            continue;
        struct tm tm = {0};
        int ms = 0;
        char *rest = strptime(line, "%Y-%m-%d %H:%M:%S", &tm);
        assert_non_null(rest);
        assert_int_equal(sscanf(rest, ".%3d", &ms), 1);
        tm.tm_isdst = -1;
        int64_t at = (int64_t)mktime(&tm) * 1000 + ms;
        unsigned long long n = 0;
        assert_int_equal(sscanf(p, "store full: %llu write(s) refused", &n), 1);
        fl->lines++;
        fl->counted += n;
        fl->why_ok &= strstr(p, why) != NULL;
        if (prev >= 0 && (uint64_t)(at - prev) < fl->min_gap_ms)
            fl->min_gap_ms = (uint64_t)(at - prev);
        prev = at;
    }
    fclose(fp);
}

/*
 * volatile-ttl with 100 KB values: the keys with a TTL are evicted for new
 * keys without one, every one of them before any write is refused; once
 * none is left, writes are refused with PC_EFULL (and nothing without a TTL
 * is evicted).  Each refusal is counted in the log, at most a line every
 * 5 s: a burst of refusals gives one line at once, then one with the rest.
 */
static void test_ttl_refusals_logged(void **state)
{
    const char *const extra[] = {
        "--eviction", "volatile-ttl", "--max-memory", "8M", "--max-value", "256K", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    static const size_t sz[] = {100000};
    big_stats ttl = {0}, plain = {0};
    write_sized(f, "ttl", 0, 40, sz, 1, 3600 * 1000, &ttl);
    EQ(ttl.full, 0);
    EQ(ttl.other, 0);
    /* Without a TTL: the first ones evict the TTL keys, then PC_EFULL. */
    uint64_t t0 = pt_now_ms();
    write_sized(f, "plain", 0, 150, sz, 1, 0, &plain);
    EQ(plain.other, 0);
    assert_true(plain.full > 0);
    pc_stats st;
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    print_message("    %" PRIu64 " written without a TTL, then %" PRIu64 " refused; %" PRIu64
                  " evicted, %" PRIu64 " keys (%" PRIu64 " with a TTL)\n",
                  plain.ok, plain.full, st.evicted, st.keys[0], st.keys_ttl);
    EQ(st.evicted, 40); /* every key with a TTL went ... */
    EQ(st.keys_ttl, 0);
    EQ(st.keys[0], plain.ok); /* ... and none without */
    /* The refusals began only once nothing was left to evict: every key
     * written before the first is still there. */
    EQ(plain.first_full, plain.ok);
    /* More refusals, for about a second. */
    uint64_t burst_end = pt_now_ms() + 1000, refused = plain.full, i = 1000;
    while (pt_now_ms() < burst_end) {
        big_stats more = {0};
        write_sized(f, "plain", i, 10, sz, 1, 0, &more);
        i += 10;
        EQ(more.ok, 0);
        EQ(more.other, 0);
        refused += more.full;
    }
    uint64_t took = pt_now_ms() - t0;
    /* Wait for the line that counts the rest (5 s after the first). */
    full_lines fl;
    uint64_t until = pt_now_ms() + 15000;
    do {
        pt_sleep_ms(100);
        read_full_lines(&f->d, "nothing left to evict", &fl);
    } while (fl.counted < refused && pt_now_ms() < until);
    print_message("    %" PRIu64 " refused in %.1f s: %u log line(s) counting %" PRIu64
                  ", at least %.1f s apart\n",
                  refused, (double)took / 1000, fl.lines, fl.counted,
                  fl.min_gap_ms == UINT64_MAX ? 0.0 : (double)fl.min_gap_ms / 1000);
    if (fl.counted != refused)
        pt_daemon_dump(&f->d);
    EQ(fl.counted, refused);
    assert_true(fl.why_ok);
    /* Rate-limited: at least 2 lines (the first at once, the rest after
     * 5 s), never two within 5 s, and so no more than the time allows. */
    assert_true(fl.lines >= 2);
    assert_true(fl.min_gap_ms >= 4990);
    assert_true(fl.lines <= 2 + took / 5000);
}

/* noeviction logs its refusals too, and says why. */
static void test_noeviction_refusals_logged(void **state)
{
    const char *const extra[] = {"--max-memory", "8M", "--max-value", "256K", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    static const size_t sz[] = {100000};
    big_stats bs = {0};
    write_sized(f, "plain", 0, 100, sz, 1, 0, &bs);
    assert_true(bs.full > 0);
    EQ(bs.other, 0);
    full_lines fl;
    uint64_t until = pt_now_ms() + 15000;
    do {
        pt_sleep_ms(100);
        read_full_lines(&f->d, "(--eviction noeviction;", &fl);
    } while (!fl.lines && pt_now_ms() < until);
    /* The first refusal is logged at once; the rest wait for the next line
     * (test_ttl_refusals_logged checks them all). */
    assert_true(fl.lines >= 1);
    assert_true(fl.counted >= 1 && fl.counted <= bs.full);
    assert_true(fl.why_ok);
}

/* ---- refusing growth ---- */

#define FULL_MAX 20000 /* more than an 8 MiB map holds */

/*
 * Write far past the cap, then check that writes were refused with PC_EFULL
 * only, that the store is intact, and that deleting still works.
 */
static void refuses_when_full(fixture *f, const char *family, bool evicts_nothing)
{
    /* Static: a failed check leaves the test by longjmp, leaking nothing. */
    static bool acked[FULL_MAX];
    static int drc[FULL_MAX];
    memset(acked, 0, sizeof acked);
    binary_keys = false;
    fill_stats fs = {0};
    /* One burst of writes, far past what the map holds, going on after the
     * first refusals (as a busy client would). */
    const uint64_t n = FULL_MAX;
    fill(f, family, 0, n, 0, acked, &fs);
    if (fs.other)
        print_error("unexpected answer %s\n", pc_err_name(fs.first_other));
    EQ(fs.other, 0);
    assert_true(fs.full > 0);
    /* More writes that would grow the store: each refused with PC_EFULL. */
    fill_stats more = {0};
    fill(f, "more", 0, 200, 0, NULL, &more);
    EQ(more.ok, 0);
    EQ(more.full, 200);

    pc_stats st;
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    print_message("    %" PRIu64 " acknowledged, then PC_EFULL; %.1f MiB used of %.1f\n", fs.ok,
                  (double)st.bytes_used / (1 << 20), (double)st.max_memory / (1 << 20));
    EQ(st.keys[0], fs.ok);
    if (evicts_nothing)
        EQ(st.evicted, 0);
    EQ(st.errors, fs.full + more.full);

    /* Intact: each acknowledged key reads back exactly; the refused left
     * no trace. */
    pc_read *r;
    OK(pc_read_begin(f->c, &r));
    for (uint64_t i = 0; i < n; i++)
        assert_true(check_key(r, family, i) == acked[i]);
    for (uint64_t i = 0; i < 200; i++)
        assert_false(check_key(r, "more", i));
    pc_read_end(r);

    /* Deleting never grows the store: every delete succeeds, and makes
     * room again. */
    char key[64];
    uint64_t deleted = 0, del_full = 0;
    OK(pc_batch_begin(f->c));
    for (uint64_t i = 0; i < n; i++)
        if (acked[i] && i % 2 == 0) {
            OK(pc_del(f->c, K(key_of(key, sizeof key, family, i)), NULL));
            deleted++;
        }
    (void)pc_batch_exec(f->c, drc, deleted);
    for (uint64_t i = 0; i < deleted; i++)
        del_full += drc[i] == PC_EFULL;
    if (del_full)
        print_error("%" PRIu64 " of %" PRIu64 " deletes refused with PC_EFULL\n", del_full,
                    deleted);
    EQ(del_full, 0);
    uint8_t val[VSIZE];
    value_of("again", 0, val);
    pc_val v = pc_mem(val, VSIZE);
    int rc = PC_EFULL;
    uint64_t until = pt_now_ms() + 3000;
    while ((rc = pc_set(f->c, K("again"), &v, 0, 0)) == PC_EFULL && pt_now_ms() < until)
        pt_sleep_ms(10);
    RC(0, rc);
    assert_int_equal(pt_stats_next(f->c, &st), 0);
    EQ(st.keys[0], fs.ok - deleted + 1);
}

static void test_noeviction(void **state)
{
    const char *const extra[] = {"--max-memory", "8M", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    refuses_when_full(f, "full", true);
}

/* volatile-ttl with no key that has a TTL: nothing to evict, so writes are
 * refused as under noeviction, and nothing is lost. */
static void test_volatile_ttl_nothing_to_evict(void **state)
{
    const char *const extra[] = {"--max-memory", "8M", "--eviction", "volatile-ttl", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    refuses_when_full(f, "plain", true);
}

/* ---- readers protect what they read ---- */

#define HOT 1000
#define COLD 1000

/* The reader child: reads the hot keys through zero-copy reads over and over
 * (so the daemon's access array keeps them recent and frequent) until the
 * parent closes the pipe.  Tells the parent after the first round. */
static int reader(const char *dir, int ready_fd, int stop_fd)
{
    pc_options o;
    pc_client *c;
    pc_store_info si;
    pc_options_init(&o);
    if (pc_connect(dir, &o, &c) || pc_store_info_get(c, &si) || si.ring_only)
        return 1;
    char key[64];
    for (unsigned round = 0;; round++) {
        pc_read *r;
        if (pc_read_begin(c, &r))
            return 1;
        for (uint64_t i = 0; i < HOT; i++) {
            pc_val v;
            int rc = pc_get(r, K(key_of(key, sizeof key, "hot", i)), &v);
            if (rc && rc != PC_ENOTFOUND)
                return 1;
        }
        pc_read_end(r);
        if (round == 0 && write(ready_fd, "r", 1) != 1)
            return 1;
        struct pollfd p = {stop_fd, POLLIN, 0};
        if (poll(&p, 1, 0) > 0)
            break;
    }
    pc_close(c);
    return 0;
}

static void readers_protect(void **state, const char *policy, bool binary, uint64_t evict_target)
{
    binary_keys = binary;
    const char *const extra[] = {"--eviction", policy, "--evict-at", "50", NULL};
    fixture *f = *state = start(extra);
    assert_non_null(f);
    fill_stats fs = {0};
    /* Hot and cold keys alike, written together. */
    for (uint64_t i = 0; i < HOT; i += 100) { /* HOT == COLD */
        fill(f, "hot", i, i + 100, 0, NULL, &fs);
        fill(f, "cold", i, i + 100, 0, NULL, &fs);
    }
    /* LRU keeps seconds: let the writes' second pass before reading. */
    pt_sleep_ms(1100);
    int ready[2], stop[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(stop), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(30);
        close(ready[0]);
        close(stop[1]);
        _exit(reader(f->d.dir, ready[1], stop[0]));
    }
    close(ready[1]);
    close(stop[0]);
    char b;
    struct pollfd p = {ready[0], POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_int_equal(read(ready[0], &b, 1), 1);

    /* Now push the store past the cap until enough was evicted. */
    pc_stats st = {0};
    uint64_t n = 0;
    do {
        fill(f, "filler", n, n + 1000, 0, NULL, &fs);
        n += 1000;
        assert_int_equal(pt_stats_next(f->c, &st), 0);
    } while (st.evicted < evict_target && n < 200000);
    close(stop[1]);
    int status = 0;
    uint64_t until = pt_now_ms() + 10000;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && pt_now_ms() < until)
        pt_sleep_ms(5);
    if (w != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    close(ready[0]);
    assert_true(w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    wait_quiet(f, &st);

    pc_read *r;
    uint64_t hot = 0, cold = 0, filler = 0;
    OK(pc_read_begin(f->c, &r));
    for (uint64_t i = 0; i < HOT; i++)
        hot += check_key(r, "hot", i);
    for (uint64_t i = 0; i < COLD; i++)
        cold += check_key(r, "cold", i);
    for (uint64_t i = 0; i < n; i++)
        filler += check_key(r, "filler", i);
    pc_read_end(r);
    pc_stats again;
    assert_int_equal(pt_stats_next(f->c, &again), 0);
    EQ(again.evicted, st.evicted); /* nothing went while we counted */
    double hot_left = (double)hot / HOT, cold_left = (double)cold / COLD;
    print_message("    %s, %s keys: %" PRIu64 " evicted; survived: read %" PRIu64
                  "/%d (%.0f%%), unread %" PRIu64 "/%d (%.0f%%), fillers %" PRIu64 "/%" PRIu64 "\n",
                  policy, binary ? "binary" : "text", st.evicted, hot, HOT, 100 * hot_left, cold,
                  COLD, 100 * cold_left, filler, n);
    EQ(hot + cold + filler, st.keys[0]);
    EQ(hot + cold + filler + st.evicted, HOT + COLD + n);
    /* Read keys outlive unread ones: at least twice as many survive, and
     * at least 25 points more of them.  (Evicting at random gives both the
     * same share.) */
    bool outlived = hot_left >= 2 * cold_left && hot_left >= cold_left + 0.25;
    if (!outlived)
        print_error("keys read often did not outlive keys never read: %.0f%% vs %.0f%% survived\n",
                    100 * hot_left, 100 * cold_left);
    /* And, as in every evicting test, no write was refused meanwhile. */
    if (fs.full || fs.other)
        print_error("%" PRIu64 " writes refused (PC_EFULL: %" PRIu64 ") while evicting with a "
                    "reader\n",
                    fs.full + fs.other, fs.full);
    assert_true(outlived);
    EQ(fs.full + fs.other, 0);
}

/* LRU: evict about twice the unread keys; LFU: evict far more (every key
 * not read has the same count, so only reading tells them apart). */
static void test_lru_readers_protect(void **state)
{
    readers_protect(state, "allkeys-lru", false, 2 * COLD);
}

static void test_lru_readers_protect_binary_keys(void **state)
{
    readers_protect(state, "allkeys-lru", true, 2 * COLD);
}

static void test_lfu_readers_protect(void **state)
{
    readers_protect(state, "allkeys-lfu", false, 8000);
}

static void test_lfu_readers_protect_binary_keys(void **state)
{
    readers_protect(state, "allkeys-lfu", true, 8000);
}

int main(void)
{
    pt_init(600);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_volatile_ttl, teardown),
        cmocka_unit_test_teardown(test_allkeys_lru, teardown),
        cmocka_unit_test_teardown(test_allkeys_lfu, teardown),
        cmocka_unit_test_teardown(test_volatile_ttl_default_threshold, teardown),
        cmocka_unit_test_teardown(test_allkeys_lru_default_threshold, teardown),
        cmocka_unit_test_teardown(test_allkeys_lfu_default_threshold, teardown),
        cmocka_unit_test_teardown(test_lru_small_values_random_keys, teardown),
        cmocka_unit_test_teardown(test_lfu_small_values_random_keys, teardown),
        cmocka_unit_test_teardown(test_lru_100kb_values, teardown),
        cmocka_unit_test_teardown(test_lfu_100kb_values, teardown),
        cmocka_unit_test_teardown(test_ttl_100kb_values, teardown),
        cmocka_unit_test_teardown(test_lru_100kb_values_3_shards, teardown),
        cmocka_unit_test_teardown(test_lru_small_then_large, teardown),
        cmocka_unit_test_teardown(test_lfu_small_then_large, teardown),
        cmocka_unit_test_teardown(test_ttl_small_then_large, teardown),
        cmocka_unit_test_teardown(test_lru_mixed_sizes, teardown),
        cmocka_unit_test_teardown(test_lfu_mixed_sizes, teardown),
        cmocka_unit_test_teardown(test_ttl_mixed_sizes, teardown),
        cmocka_unit_test_teardown(test_lru_batches_and_txns, teardown),
        cmocka_unit_test_teardown(test_ttl_refusals_logged, teardown),
        cmocka_unit_test_teardown(test_noeviction_refusals_logged, teardown),
        cmocka_unit_test_teardown(test_noeviction, teardown),
        cmocka_unit_test_teardown(test_volatile_ttl_nothing_to_evict, teardown),
        cmocka_unit_test_teardown(test_lru_readers_protect, teardown),
        cmocka_unit_test_teardown(test_lru_readers_protect_binary_keys, teardown),
        cmocka_unit_test_teardown(test_lfu_readers_protect, teardown),
        cmocka_unit_test_teardown(test_lfu_readers_protect_binary_keys, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
