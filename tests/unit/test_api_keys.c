/*
 * test_api_keys.c - the public API for keys: del, exists, types, pc_scan
 * with globs and paging (one shard and four, and a snapshot kept across
 * pages while another client writes), TTLs (ttl, expire, persist, expiry
 * seen at once by reads), and versions.
 */
#include "pctest.h"

#define S(s) pc_str(s)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A set of keys returned by a scan, copied out of the read. */
typedef struct keylist {
    size_t n, cap;
    char (*k)[PC_KEY_MAX];
    size_t *len;
} keylist;

static void kl_init(keylist *l, size_t cap)
{
    l->n = 0;
    l->cap = cap;
    l->k = calloc(cap, sizeof *l->k);
    l->len = calloc(cap, sizeof *l->len);
    assert_non_null(l->k);
    assert_non_null(l->len);
}

static void kl_free(keylist *l)
{
    free(l->k);
    free(l->len);
}

static void kl_add(keylist *l, const void *p, size_t n)
{
    assert_true(l->n < l->cap);
    assert_true(n >= 1 && n <= PC_KEY_MAX);
    memcpy(l->k[l->n], p, n);
    l->len[l->n++] = n;
}

static bool kl_has(const keylist *l, const void *p, size_t n, size_t *count)
{
    size_t c = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->len[i] == n && !memcmp(l->k[i], p, n))
            c++;
    if (count)
        *count = c;
    return c > 0;
}

/* Byte order of two keys. */
static int kl_cmp(const keylist *l, size_t i, size_t j)
{
    size_t m = l->len[i] < l->len[j] ? l->len[i] : l->len[j];
    int c = memcmp(l->k[i], l->k[j], m);
    return c ? c : (l->len[i] > l->len[j]) - (l->len[i] < l->len[j]);
}

/* Scan every key matching glob on an open read, max per page, into l. */
static void scan_into(pc_read *r, const char *glob, size_t max, keylist *l)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes *page = calloc(max ? max : 1, sizeof *page);
    assert_non_null(page);
    size_t n, calls = 0;
    while (!cur.done) {
        OK(pc_scan(r, glob, &cur, page, max, &n));
        assert_true(n <= max);
        for (size_t i = 0; i < n; i++)
            kl_add(l, page[i].ptr, page[i].len);
        assert_true(++calls < 100000);
    }
    free(page);
}

/* Scan glob (own read) and check the result is exactly want[0..n) (C strings). */
static void scan_is(const char *file, int line, pc_client *c, const char *glob, size_t max,
                    const char *const *want, size_t n)
{
    pc_read *r = pt_rd(c);
    keylist l;
    kl_init(&l, 64);
    scan_into(r, glob, max, &l);
    pc_read_end(r);
    for (size_t i = 0; i < n; i++) {
        size_t cnt;
        kl_has(&l, want[i], strlen(want[i]), &cnt);
        if (cnt != 1) {
            print_error("%s:%d: glob \"%s\": key \"%s\" returned %zu times\n", file, line,
                        glob ? glob : "(null)", want[i], cnt);
            kl_free(&l);
            _fail(file, line);
        }
    }
    if (l.n != n) {
        print_error("%s:%d: glob \"%s\": %zu keys, expected %zu\n", file, line,
                    glob ? glob : "(null)", l.n, n);
        kl_free(&l);
        _fail(file, line);
    }
    kl_free(&l);
}
#define SCAN_IS(c, glob, max, ...)                                            \
    do {                                                                      \
        const char *const want_[] = {__VA_ARGS__};                            \
        scan_is(__FILE__, __LINE__, (c), (glob), (max), want_, NELEM(want_)); \
    } while (0)

static void put(pc_client *c, const char *key)
{
    pc_val v = S("v");
    OK(pc_set(c, K(key), &v, 0, 0));
}

/* ---- del, exists, types ---- */

static void test_del_exists(void **state)
{
    pt_store *t = *state;
    int deleted = -1, ex = -1;
    put(t->c, "k");
    pc_val one = pc_int(1);
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));

    pc_read *r = pt_rd(t->c);
    OK(pc_exists(r, K("k"), &ex));
    assert_int_equal(ex, 1);
    OK(pc_exists(r, K("missing"), &ex));
    assert_int_equal(ex, 0);
    pc_read_end(r);

    OK(pc_del(t->c, K("k"), &deleted));
    assert_int_equal(deleted, 1);
    MISSING(t->c, "k");
    OK(pc_del(t->c, K("k"), &deleted));
    assert_int_equal(deleted, 0);
    OK(pc_del(t->c, K("never"), &deleted));
    assert_int_equal(deleted, 0);

    OK(pc_del(t->c, K("l"), &deleted));
    assert_int_equal(deleted, 1);
    MISSING(t->c, "l");
    RC(PC_ENOTFOUND, pc_lpop(t->c, K("l"), 1, (pc_val[1]){{0}}, NULL));

    /* a recreated collection starts empty */
    pc_val two = pc_int(2);
    OK(pc_rpush(t->c, K("l"), &two, 1, NULL));
    LIST_IS(t->c, "l", &two, 1);

    /* deleted may be NULL; an expired key deletes as 0 */
    OK(pc_del(t->c, K("l"), NULL));
    MISSING(t->c, "l");
    pc_val v = S("x");
    OK(pc_set(t->c, K("e"), &v, 1, 0));
    pt_sleep_ms(5);
    OK(pc_del(t->c, K("e"), &deleted));
    assert_int_equal(deleted, 0);
    MISSING(t->c, "e");
}

static void test_types(void **state)
{
    pt_store *t = *state;
    assert_string_equal(pc_type_name(PC_T_NONE), "none");
    assert_string_equal(pc_type_name(PC_T_STRING), "string");
    assert_string_equal(pc_type_name(PC_T_NUMERIC), "numeric");
    assert_string_equal(pc_type_name(PC_T_LIST), "list");
    assert_string_equal(pc_type_name(PC_T_MAP), "map");
    assert_string_equal(pc_type_name(PC_T_SET), "set");
    assert_string_equal(pc_type_name(PC_T_QUEUE), "queue");
    assert_non_null(pc_type_name((pc_type)99));

    pc_val one = pc_int(1), s = S("s");
    pc_bytes f = pc_b("f", 1);
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    OK(pc_set(t->c, K("n"), &one, 0, 0));
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    OK(pc_hset(t->c, K("h"), &f, &one, 1, NULL));
    OK(pc_sadd(t->c, K("z"), &one, 1, NULL));
    OK(pc_qpush(t->c, K("q"), &one, 1, NULL));
    TYPE_IS(t->c, "s", PC_T_STRING);
    TYPE_IS(t->c, "n", PC_T_NUMERIC);
    TYPE_IS(t->c, "l", PC_T_LIST);
    TYPE_IS(t->c, "h", PC_T_MAP);
    TYPE_IS(t->c, "z", PC_T_SET);
    TYPE_IS(t->c, "q", PC_T_QUEUE);
    TYPE_IS(t->c, "missing", PC_T_NONE);
}

/* ---- scan ---- */

static void test_scan_globs(void **state)
{
    pt_store *t = *state;
    const char *const keys[] = {"user:1", "user:2", "user:10", "ax",  "bx",
                                "xx",     "x",      "abc",     "a[b", "*"};
    for (size_t i = 0; i < NELEM(keys); i++)
        put(t->c, keys[i]);
    pc_val v = S("nul");
    OK(pc_set(t->c, "n\0ul", 4, &v, 0, 0));

    for (size_t max = 1; max <= 16; max += 15) {
        pc_read *r = pt_rd(t->c);
        keylist l;
        kl_init(&l, 64);
        scan_into(r, NULL, max, &l);
        pc_read_end(r);
        assert_int_equal(l.n, NELEM(keys) + 1);
        for (size_t i = 0; i < NELEM(keys); i++) {
            size_t cnt;
            kl_has(&l, keys[i], strlen(keys[i]), &cnt);
            assert_int_equal(cnt, 1);
        }
        assert_true(kl_has(&l, "n\0ul", 4, NULL));
        /* one shard: byte order */
        for (size_t i = 1; i < l.n; i++)
            assert_true(kl_cmp(&l, i - 1, i) < 0);
        kl_free(&l);

        SCAN_IS(t->c, "user:*", max, "user:1", "user:2", "user:10");
        SCAN_IS(t->c, "user:?", max, "user:1", "user:2");
        SCAN_IS(t->c, "?x", max, "ax", "bx", "xx");
        SCAN_IS(t->c, "[ab]x", max, "ax", "bx");
        SCAN_IS(t->c, "[!a]x", max, "bx", "xx");
        SCAN_IS(t->c, "[a-b]*", max, "ax", "bx", "abc", "a[b");
        SCAN_IS(t->c, "a\\[b", max, "a[b");
        SCAN_IS(t->c, "\\*", max, "*");
        SCAN_IS(t->c, "x", max, "x");
        SCAN_IS(t->c, "*0", max, "user:10");
    }
    /* "*" (and NULL) also return the key with a NUL byte: 11 in all */
    assert_int_equal(pt_nkeys(t->c, "*"), NELEM(keys) + 1);
    assert_int_equal(pt_nkeys(t->c, NULL), NELEM(keys) + 1);
    assert_int_equal(pt_nkeys(t->c, "n*"), 0);
    assert_int_equal(pt_nkeys(t->c, "nomatch"), 0);

    /* an empty store scans empty */
    pc_bytes page[4];
    size_t n = 99;
    OK(pc_del(t->c, K("x"), NULL));
    pc_read *r = pt_rd(t->c);
    pc_cursor cur = PC_CURSOR_INIT;
    OK(pc_scan(r, "x", &cur, page, 4, &n));
    assert_int_equal(n, 0);
    assert_true(cur.done);
    pc_read_end(r);
}

/* 2,000 keys in a shuffled order, paged 7 (and 1) at a time. */
static void test_scan_paging(void **state)
{
    pt_store *t = *state;
    enum { N = 2000 };
    static int order[N];
    pt_rng seed = {2024};
    pt_shuffle(order, N, &seed);
    OK(pc_batch_begin(t->c));
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "k:%05d", order[i]);
        pc_val v = pc_int(order[i]);
        OK(pc_set(t->c, K(k), &v, 0, 0));
    }
    OK(pc_batch_exec(t->c, NULL, 0));

    pc_read *r = pt_rd(t->c);
    keylist l;
    kl_init(&l, N + 8);
    scan_into(r, NULL, 7, &l);
    assert_int_equal(l.n, N);
    for (size_t i = 0; i < l.n; i++) {
        char k[32];
        snprintf(k, sizeof k, "k:%05zu", i);
        assert_int_equal(l.len[i], strlen(k));
        assert_memory_equal(l.k[i], k, l.len[i]); /* in order, each once */
    }
    l.n = 0;
    /* a glob filtering most keys out, one per page */
    scan_into(r, "k:01*", 1, &l);
    assert_int_equal(l.n, 1000);
    l.n = 0;
    scan_into(r, "k:?????", 13, &l);
    assert_int_equal(l.n, N);
    kl_free(&l);
    pc_read_end(r);
}

/* A read kept open across pages lists one snapshot while another client writes. */
static void test_scan_snapshot(void **state)
{
    pt_store *t = *state;
    enum { N = 500 };
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "k:%05d", i * 2);
        put(t->c, k);
    }
    pc_client *c2 = pt_store_client2(t);

    pc_read *r = pt_rd(t->c);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes page[10];
    size_t n;
    keylist l;
    kl_init(&l, N + 200);
    OK(pc_scan(r, NULL, &cur, page, 10, &n));
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        kl_add(&l, page[i].ptr, page[i].len);

    /* the other client adds 200 keys on both sides of the cursor and deletes 50 */
    for (int i = 0; i < 200; i++) {
        char k[16];
        snprintf(k, sizeof k, "k:%05d", i * 4 + 1); /* odd: all new */
        put(c2, k);
    }
    for (int i = 0; i < 50; i++) {
        char k[16];
        int deleted = 0;
        snprintf(k, sizeof k, "k:%05d", i * 20);
        OK(pc_del(c2, K(k), &deleted));
        assert_int_equal(deleted, 1);
    }

    while (!cur.done) {
        OK(pc_scan(r, NULL, &cur, page, 10, &n));
        for (size_t i = 0; i < n; i++)
            kl_add(&l, page[i].ptr, page[i].len);
    }
    pc_read_end(r);
    assert_int_equal(l.n, N);
    for (int i = 0; i < N; i++) {
        char k[16];
        size_t cnt;
        snprintf(k, sizeof k, "k:%05d", i * 2);
        kl_has(&l, k, strlen(k), &cnt);
        assert_int_equal(cnt, 1);
    }
    kl_free(&l);

    /* a new read sees the writes */
    assert_int_equal(pt_nkeys(t->c, NULL), N + 200 - 50);
    pc_close(c2);
}

static void test_scan_shards(void **state)
{
    pt_store *t = *state;
    enum { N = 400 };
    pc_store_info info;
    OK(pc_store_info_get(t->c, &info));
    assert_int_equal(info.shards, 4);
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "%s:%04d", i % 2 ? "odd" : "even", i);
        put(t->c, k);
    }
    for (size_t max = 1; max <= 9; max += 8) {
        pc_read *r = pt_rd(t->c);
        keylist l;
        kl_init(&l, N + 8);
        scan_into(r, NULL, max, &l);
        assert_int_equal(l.n, N);
        for (int i = 0; i < N; i++) {
            char k[16];
            size_t cnt;
            snprintf(k, sizeof k, "%s:%04d", i % 2 ? "odd" : "even", i);
            kl_has(&l, k, strlen(k), &cnt);
            assert_int_equal(cnt, 1);
        }
        /* shard by shard, each in byte order: at most 4 ascending runs, and
         * the keys did spread over more than one shard */
        size_t runs = 1;
        for (size_t i = 1; i < l.n; i++)
            if (kl_cmp(&l, i - 1, i) > 0)
                runs++;
        assert_true(runs >= 2 && runs <= 4);
        l.n = 0;
        scan_into(r, "odd:*", max, &l);
        assert_int_equal(l.n, N / 2);
        l.n = 0;
        scan_into(r, "even:000?", max, &l);
        assert_int_equal(l.n, 5);
        kl_free(&l);
        pc_read_end(r);
    }
}

/* ---- TTL ---- */

static void test_ttl(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v");
    OK(pc_set(t->c, K("t"), &v, 100000, 0));
    OK(pc_set(t->c, K("p"), &v, 0, 0));
    OK(pc_set_sec(t->c, K("s"), &v, 10, 0));

    pc_read *r = pt_rd(t->c);
    int64_t ms = 0, sec = 0;
    OK(pc_ttl(r, K("t"), &ms));
    assert_true(ms > 90000 && ms <= 100000);
    OK(pc_ttl_sec(r, K("t"), &sec));
    assert_true(sec > 90 && sec <= 100);
    OK(pc_ttl(r, K("p"), &ms));
    assert_int_equal(ms, -1);
    OK(pc_ttl_sec(r, K("p"), &sec));
    assert_int_equal(sec, -1);
    OK(pc_ttl(r, K("s"), &ms));
    assert_true(ms > 9000 && ms <= 10000);
    OK(pc_ttl_sec(r, K("s"), &sec));
    assert_int_equal(sec, 10); /* rounded up */
    RC(PC_ENOTFOUND, pc_ttl(r, K("missing"), &ms));
    RC(PC_ENOTFOUND, pc_ttl_sec(r, K("missing"), &sec));
    pc_read_end(r);

    /* the longest TTL is accepted, one more is not */
    OK(pc_set(t->c, K("long"), &v, PC_TTL_MAX_MS, 0));
    RC(PC_EINVAL, pc_set(t->c, K("long"), &v, PC_TTL_MAX_MS + 1, 0));
    assert_true(pt_ttl(t->c, "long") > PC_TTL_MAX_MS - 10000);

    /* collections take TTLs too */
    pc_val one = pc_int(1);
    OK(pc_set_coll(t->c, K("l"), PC_T_LIST, &one, 1, 20000, 0));
    ms = pt_ttl(t->c, "l");
    assert_true(ms > 10000 && ms <= 20000);
}

static void test_expire(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v");
    int set = -1;
    OK(pc_set(t->c, K("k"), &v, 0, 0));

    OK(pc_expire(t->c, K("k"), 5000, &set));
    assert_int_equal(set, 1);
    int64_t ms = pt_ttl(t->c, "k");
    assert_true(ms > 4000 && ms <= 5000);

    /* 0, negative, too long: PC_EINVAL, the TTL stays */
    uint64_t ver = pt_version(t->c, "k");
    RC(PC_EINVAL, pc_expire(t->c, K("k"), 0, &set));
    RC(PC_EINVAL, pc_expire(t->c, K("k"), -1, &set));
    RC(PC_EINVAL, pc_expire(t->c, K("k"), INT64_MIN, &set));
    RC(PC_EINVAL, pc_expire(t->c, K("k"), PC_TTL_MAX_MS + 1, &set));
    RC(PC_EINVAL, pc_expire_sec(t->c, K("k"), 0, &set));
    RC(PC_EINVAL, pc_expire_sec(t->c, K("k"), -5, &set));
    RC(PC_EINVAL, pc_expire_sec(t->c, K("k"), PC_TTL_MAX_MS / 1000 + 1, &set));
    ms = pt_ttl(t->c, "k");
    assert_true(ms > 4000 && ms <= 5000);
    assert_int_equal(pt_version(t->c, "k"), ver);
    GET_IS(t->c, "k", S("v"));

    OK(pc_expire_sec(t->c, K("k"), 30, &set));
    assert_int_equal(set, 1);
    ms = pt_ttl(t->c, "k");
    assert_true(ms > 29000 && ms <= 30000);
    OK(pc_expire(t->c, K("k"), 1000000, NULL));
    assert_true(pt_ttl(t->c, "k") > 990000);

    /* a missing key: *set 0, nothing created; also after errors */
    set = -1;
    OK(pc_expire(t->c, K("missing"), 1000, &set));
    assert_int_equal(set, 0);
    MISSING(t->c, "missing");
    set = -1;
    OK(pc_expire_sec(t->c, K("missing"), 10, &set));
    assert_int_equal(set, 0);
    RC(PC_EINVAL, pc_expire(t->c, K("missing"), 0, &set));
    MISSING(t->c, "missing");
    assert_int_equal(pt_nkeys(t->c, NULL), 1);

    /* on collections */
    pc_val one = pc_int(1);
    pc_bytes f = pc_b("f", 1);
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    OK(pc_hset(t->c, K("h"), &f, &one, 1, NULL));
    OK(pc_sadd(t->c, K("z"), &one, 1, NULL));
    OK(pc_qpush(t->c, K("q"), &one, 1, NULL));
    const char *const colls[] = {"l", "h", "z", "q"};
    for (size_t i = 0; i < 4; i++) {
        OK(pc_expire(t->c, K(colls[i]), 7000, &set));
        assert_int_equal(set, 1);
        ms = pt_ttl(t->c, colls[i]);
        assert_true(ms > 6000 && ms <= 7000);
    }
    LIST_IS(t->c, "l", &one, 1);
}

static void test_persist(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v");
    int changed = -1;
    OK(pc_set(t->c, K("k"), &v, 100000, 0));
    OK(pc_persist(t->c, K("k"), &changed));
    assert_int_equal(changed, 1);
    assert_int_equal(pt_ttl(t->c, "k"), -1);
    OK(pc_persist(t->c, K("k"), &changed));
    assert_int_equal(changed, 0);
    OK(pc_persist(t->c, K("missing"), &changed));
    assert_int_equal(changed, 0);
    MISSING(t->c, "missing");
    GET_IS(t->c, "k", S("v"));

    pc_val one = pc_int(1);
    OK(pc_sadd(t->c, K("z"), &one, 1, NULL));
    OK(pc_expire(t->c, K("z"), 100000, NULL));
    OK(pc_persist(t->c, K("z"), NULL));
    assert_int_equal(pt_ttl(t->c, "z"), -1);

    /* a persisted key outlives its old TTL */
    OK(pc_set(t->c, K("short"), &v, 20, 0));
    OK(pc_persist(t->c, K("short"), &changed));
    assert_int_equal(changed, 1);
    pt_sleep_ms(40);
    GET_IS(t->c, "short", S("v"));
}

/* A 1 ms TTL: the key reads as missing as soon as it passes, before any
 * write could have removed it. */
static void test_expiry_is_immediate(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v"), one = pc_int(1);
    pc_bytes f = pc_b("f", 1);
    OK(pc_set(t->c, K("s"), &v, 1, 0));
    OK(pc_set_coll(t->c, K("l"), PC_T_LIST, &one, 1, 1, 0));
    pc_val mi[] = {S("f"), one};
    OK(pc_set_coll(t->c, K("h"), PC_T_MAP, mi, 2, 1, 0));
    OK(pc_set_coll(t->c, K("z"), PC_T_SET, &one, 1, 1, 0));
    pt_sleep_ms(5);

    /* reads only: nothing has written since */
    pc_read *r = pt_rd(t->c);
    pc_val out;
    pc_type ty = PC_T_STRING;
    int ex = 1;
    int64_t ms;
    uint64_t u;
    size_t n = 9;
    RC(PC_ENOTFOUND, pc_get(r, K("s"), &out));
    OK(pc_type_of(r, K("s"), &ty));
    assert_int_equal(ty, PC_T_NONE);
    OK(pc_exists(r, K("s"), &ex));
    assert_int_equal(ex, 0);
    RC(PC_ENOTFOUND, pc_ttl(r, K("s"), &ms));
    RC(PC_ENOTFOUND, pc_strlen(r, K("s"), &u));
    RC(PC_ENOTFOUND, pc_llen(r, K("l"), &u));
    OK(pc_lrange(r, K("l"), 0, -1, &out, 1, &n));
    assert_int_equal(n, 0);
    RC(PC_ENOTFOUND, pc_hget(r, K("h"), f.ptr, f.len, &out));
    RC(PC_ENOTFOUND, pc_scard(r, K("z"), &u));
    OK(pc_sismember(r, K("z"), &one, &ex));
    assert_int_equal(ex, 0);
    pc_bytes mk[] = {pc_b("s", 1)};
    size_t nf = 9;
    OK(pc_mget(r, mk, 1, &out, &nf));
    assert_int_equal(nf, 0);
    assert_int_equal(out.kind, PC_NONE);
    pc_read_end(r);

    /* writes treat it as missing too */
    uint64_t len = 0;
    OK(pc_rpush(t->c, K("l"), &v, 1, &len));
    assert_int_equal(len, 1);
    LIST_IS(t->c, "l", &v, 1);
    assert_int_equal(pt_ttl(t->c, "l"), -1);
    uint64_t added = 0;
    OK(pc_sadd(t->c, K("z"), &v, 1, &added));
    assert_int_equal(added, 1);
    assert_int_equal(pt_ttl(t->c, "z"), -1);
    pc_read *r2 = pt_rd(t->c);
    OK(pc_sismember(r2, K("z"), &one, &ex));
    assert_int_equal(ex, 0);
    pc_read_end(r2);
    OK(pc_hset(t->c, K("h"), &f, &v, 1, &added));
    assert_int_equal(added, 1);
}

static void test_scan_skips_expired(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v");
    for (int i = 0; i < 10; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        OK(pc_set(t->c, K(k), &v, i % 3 == 0 ? 1 : 0, 0));
    }
    pt_sleep_ms(5);
    assert_int_equal(pt_nkeys(t->c, NULL), 6);
    assert_int_equal(pt_nkeys(t->c, "k*"), 6);
    SCAN_IS(t->c, "k?", 2, "k1", "k2", "k4", "k5", "k7", "k8");
}

static void test_ttl_kept_or_cleared(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v"), n = pc_int(1);

    /* set without KEEPTTL clears a TTL */
    OK(pc_set(t->c, K("s"), &v, 100000, 0));
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    assert_int_equal(pt_ttl(t->c, "s"), -1);

    /* incr keeps it */
    OK(pc_set(t->c, K("n"), &n, 100000, 0));
    OK(pc_incrby(t->c, K("n"), 5, NULL));
    assert_true(pt_ttl(t->c, "n") > 90000);
    GET_IS(t->c, "n", pc_int(6));

    /* set_coll without KEEPTTL clears; with it keeps */
    OK(pc_set_coll(t->c, K("l"), PC_T_LIST, &n, 1, 100000, 0));
    OK(pc_set_coll(t->c, K("l"), PC_T_LIST, &v, 1, 0, PC_KEEPTTL));
    assert_true(pt_ttl(t->c, "l") > 90000);
    OK(pc_set_coll(t->c, K("l"), PC_T_LIST, &v, 1, 0, 0));
    assert_int_equal(pt_ttl(t->c, "l"), -1);

    /* pops and removals keep it */
    pc_val two[] = {n, v};
    pc_val out[2];
    size_t np;
    OK(pc_set_coll(t->c, K("p"), PC_T_LIST, two, 2, 100000, 0));
    OK(pc_lpop(t->c, K("p"), 1, out, &np));
    assert_true(pt_ttl(t->c, "p") > 90000);
    OK(pc_set_coll(t->c, K("z"), PC_T_SET, two, 2, 100000, 0));
    OK(pc_srem(t->c, K("z"), &n, 1, NULL));
    assert_true(pt_ttl(t->c, "z") > 90000);
}

/* ---- versions ---- */

static void test_version(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v"), one = pc_int(1);
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    uint64_t v1 = pt_version(t->c, "k");

    OK(pc_set(t->c, K("k"), &one, 0, 0));
    uint64_t v2 = pt_version(t->c, "k");
    assert_true(v2 > v1);
    OK(pc_incrby(t->c, K("k"), 1, NULL));
    uint64_t v3 = pt_version(t->c, "k");
    assert_true(v3 > v2);
    OK(pc_expire(t->c, K("k"), 100000, NULL));
    uint64_t v4 = pt_version(t->c, "k");
    assert_true(v4 > v3);
    OK(pc_persist(t->c, K("k"), NULL));
    uint64_t v5 = pt_version(t->c, "k");
    assert_true(v5 > v4);

    /* a failed write and a write to another key leave it */
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("k"), INT64_MAX, NULL));
    RC(PC_EWRONGTYPE, pc_rpush(t->c, K("k"), &one, 1, NULL));
    OK(pc_set(t->c, K("other"), &v, 0, 0));
    assert_int_equal(pt_version(t->c, "k"), v5);

    /* collections: every kind of write */
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    uint64_t lv = pt_version(t->c, "l");
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL));
    assert_true(pt_version(t->c, "l") > lv);
    lv = pt_version(t->c, "l");
    OK(pc_lset(t->c, K("l"), 0, &v));
    assert_true(pt_version(t->c, "l") > lv);
    lv = pt_version(t->c, "l");
    pc_val out[1];
    size_t n;
    OK(pc_lpop(t->c, K("l"), 1, out, &n));
    assert_true(pt_version(t->c, "l") > lv);

    pc_bytes f = pc_b("f", 1);
    OK(pc_hset(t->c, K("h"), &f, &one, 1, NULL));
    uint64_t hv = pt_version(t->c, "h");
    OK(pc_hset(t->c, K("h"), &f, &v, 1, NULL)); /* overwrite only */
    assert_true(pt_version(t->c, "h") > hv);
    hv = pt_version(t->c, "h");
    OK(pc_hincrbyfloat(t->c, K("h"), K("g"), 1.0, NULL));
    assert_true(pt_version(t->c, "h") > hv);

    OK(pc_sadd(t->c, K("z"), &one, 1, NULL));
    uint64_t zv = pt_version(t->c, "z");
    pc_val two = pc_int(2);
    OK(pc_sadd(t->c, K("z"), &two, 1, NULL));
    assert_true(pt_version(t->c, "z") > zv);
    zv = pt_version(t->c, "z");
    OK(pc_srem(t->c, K("z"), &two, 1, NULL));
    assert_true(pt_version(t->c, "z") > zv);

    /* a deleted and recreated key has a newer version */
    OK(pc_del(t->c, K("k"), NULL));
    pc_read *r = pt_rd(t->c);
    uint64_t vv;
    RC(PC_ENOTFOUND, pc_version(r, K("k"), &vv));
    pc_read_end(r);
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    assert_true(pt_version(t->c, "k") > v5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_del_exists),
        PT_STORE_TEST(test_types),
        PT_STORE_TEST(test_scan_globs),
        PT_STORE_TEST(test_scan_paging),
        PT_STORE_TEST(test_scan_snapshot),
        PT_STORE_TEST_SHARDS4(test_scan_shards),
        PT_STORE_TEST(test_ttl),
        PT_STORE_TEST(test_expire),
        PT_STORE_TEST(test_persist),
        PT_STORE_TEST(test_expiry_is_immediate),
        PT_STORE_TEST(test_scan_skips_expired),
        PT_STORE_TEST(test_ttl_kept_or_cleared),
        PT_STORE_TEST(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
