/*
 * test_daemon_reads.c - a trusted client (zero-copy reads of the mapped
 * store) and a ring-only client (every read a request, answered by the
 * daemon with a copy) give the same answers, for every read call:
 * pc_get, pc_mget, pc_type_of, pc_exists, pc_ttl/pc_ttl_sec, pc_version,
 * pc_strlen, pc_getrange, pc_llen/qlen/hlen/scard, pc_lindex, pc_qpeek,
 * pc_lrange/qrange (paged), pc_hget/hmget/hexists, pc_hscan, pc_sscan,
 * pc_sunion/sinter/sdiff (paged), pc_sismember, pc_scan with globs -
 * over every type, missing and expired keys, the wrong type, bad keys and
 * binary data, in a store of three shards; and the reads Redis users reach
 * for (pc_mget_typed, pc_exists_keys, pc_touch, pc_expiretime, pc_dbsize,
 * pc_hstrlen, pc_lpos, pc_smismember, pc_srandmember, pc_randomkey).  Some answers are also checked
 * against what was written, so that both cannot be wrong the same way.
 */
#include "pctest.h"

static pc_client *tc, *rc_; /* trusted, ring-only */
static pt_daemon daemon_;

/* ------------------------------------------------------------------------ */
/* Answers, serialized so that two can be compared byte for byte            */

/* A read question: asks r, writes the answer (codes included) into a. */
typedef void (*question)(pc_read *r, pt_buf *a, const void *arg);

static unsigned long compared;

/* Ask the trusted and the ring-only client the same question; the answers
 * must be identical.  Returns the trusted answer's length (for sanity). */
static void both(const char *what, question q, const void *arg)
{
    pt_buf at = {0}, ar = {0};
    pc_read *r;
    OK(pc_read_begin(tc, &r));
    q(r, &at, arg);
    pc_read_end(r);
    OK(pc_read_begin(rc_, &r));
    q(r, &ar, arg);
    pc_read_end(r);
    if (at.len != ar.len || memcmp(at.p, ar.p, at.len)) {
        size_t i = 0;
        while (i < at.len && i < ar.len && at.p[i] == ar.p[i])
            i++;
        print_error("%s: trusted and ring-only answers differ (%zu and %zu bytes, from byte "
                    "%zu)\n",
                    what, at.len, ar.len, i);
        if (i >= 8 && i - i % 8 + 8 <= at.len && i - i % 8 + 8 <= ar.len) {
            int64_t x, y;
            memcpy(&x, at.p + i - i % 8, 8);
            memcpy(&y, ar.p + i - i % 8, 8);
            print_error("    word there: trusted %" PRId64 " (%s), ring-only %" PRId64 " (%s)\n", x,
                        pc_err_name((int)x), y, pc_err_name((int)y));
        }
        free(at.p);
        free(ar.p);
        fail();
    }
    compared++;
    free(at.p);
    free(ar.p);
}

/* ------------------------------------------------------------------------ */
/* The data                                                                  */

#define LIST_N 300
#define QUEUE_N 150
#define MAP_N 200
#define SET_A 250

static char bin[256], big[100 << 10], longf[3][600];
static char nulkey[] = {'n', 'u', 'l', 0, 'k', 'e', 'y'};

/* Element i of the list / queue / map values: every kind. */
static pc_val elem(int i, char *buf)
{
    switch (i % 6) {
    case 0:
        return pc_int(i * 1000 - 77);
    case 1:
        snprintf(buf, 32, "elem-%d", i);
        return pc_str(buf);
    case 2:
        return pc_dbl(i / 8.0);
    case 3:
        return pc_bool(i % 4 == 3);
    case 4:
        return pc_nil();
    default:
        return pc_mem(bin, (size_t)(i % 256));
    }
}

/* Member i of the sets (no NIL or BOOL duplicates: at most one of each). */
static pc_val member(int i, char *buf)
{
    switch (i % 3) {
    case 0:
        return pc_int(i);
    case 1:
        snprintf(buf, 32, "m%d", i);
        return pc_str(buf);
    default:
        return pc_dbl(i + 0.5);
    }
}

static const char *const all_keys[] = {
    "s:plain", "s:empty", "s:bin",  "s:big", "n:int", "n:neg", "n:dbl",   "ttl:k",  "ttl:gone",
    "l:mixed", "q:jobs",  "h:user", "st:a",  "st:b",  "st:c",  "missing", "user:1", "a[b]c",
};

static void populate(void)
{
    for (int i = 0; i < 256; i++)
        bin[i] = (char)i;
    pt_fill(big, sizeof big, 3);
    for (int i = 0; i < 3; i++) {
        memset(longf[i], 'f', sizeof longf[i]);
        longf[i][sizeof longf[i] - 1 - (size_t)i] = (char)('0' + i); /* differ past 464 bytes */
    }
    pc_val v = pc_str("hello world");
    OK(pc_set(tc, K("s:plain"), &v, 0, 0));
    v = pc_mem("", 0);
    OK(pc_set(tc, K("s:empty"), &v, 0, 0));
    v = pc_mem(bin, sizeof bin);
    OK(pc_set(tc, K("s:bin"), &v, 0, 0));
    v = pc_mem(big, sizeof big);
    OK(pc_set(rc_, K("s:big"), &v, 0, 0));
    v = pc_int(42);
    OK(pc_set(tc, K("n:int"), &v, 0, 0));
    v = pc_int(-7);
    OK(pc_set(tc, K("n:neg"), &v, 0, 0));
    v = pc_dbl(3.25);
    OK(pc_set(tc, K("n:dbl"), &v, 0, 0));
    v = pc_str("with a ttl");
    OK(pc_set(tc, K("ttl:k"), &v, 100000, 0));
    OK(pc_set(tc, K("ttl:gone"), &v, 1, 0));
    v = pc_str("binary key");
    OK(pc_set(tc, nulkey, sizeof nulkey, &v, 0, 0));
    v = pc_str("brackets");
    OK(pc_set(tc, K("a[b]c"), &v, 0, 0));
    for (int i = 1; i <= 30; i++) {
        char k[32];
        snprintf(k, sizeof k, "user:%d", i);
        v = pc_int(i);
        OK(pc_set(i % 2 ? tc : rc_, K(k), &v, 0, 0));
    }
    v = pc_int(0);
    OK(pc_set(tc, K("usr:x"), &v, 0, 0));

    static pc_val items[2 * MAP_N + 6];
    static char bufs[2 * MAP_N + 6][32];
    for (int i = 0; i < LIST_N; i++)
        items[i] = elem(i, bufs[i]);
    OK(pc_set_coll(tc, K("l:mixed"), PC_T_LIST, items, LIST_N, 0, 0));
    OK(pc_set_coll(rc_, K("q:jobs"), PC_T_QUEUE, items + 7, QUEUE_N, 0, 0));
    OK(pc_set_coll(tc, K("q:jobs-ttl"), PC_T_QUEUE, items, 5, 50000, 0));
    /* a map: 200 short fields, 3 long ones that differ only past 464 bytes,
     * and a binary one */
    size_t n = 0;
    for (int i = 0; i < MAP_N; i++) {
        char f[32];
        snprintf(f, sizeof f, "field-%03d", i);
        memcpy(bufs[n], f, strlen(f) + 1);
        items[n] = pc_str(bufs[n]);
        n++;
        items[n] = elem(i, bufs[n]);
        n++;
    }
    for (int i = 0; i < 3; i++) {
        items[n++] = pc_mem(longf[i], sizeof longf[i]);
        items[n++] = pc_int(i);
    }
    OK(pc_set_coll(tc, K("h:user"), PC_T_MAP, items, n, 0, 0));
    pc_bytes bf = pc_b(bin, 17);
    v = pc_str("binary field");
    OK(pc_hset(rc_, K("h:user"), &bf, &v, 1, NULL));
    /* sets: a (250), b (overlapping), c (small, with a NIL and a BOOL) */
    for (int i = 0; i < 300; i++)
        items[i] = member(i, bufs[i]);
    OK(pc_set_coll(tc, K("st:a"), PC_T_SET, items, SET_A, 0, 0));
    OK(pc_set_coll(rc_, K("st:b"), PC_T_SET, items + 100, 200, 0, 0));
    pc_val c[6] = {pc_int(0),     pc_str("m1"),     pc_nil(),
                   pc_bool(true), pc_mem(bin, 200), pc_int(9999)};
    OK(pc_set_coll(tc, K("st:c"), PC_T_SET, c, 6, 0, 0));
    pt_sleep_ms(20); /* ttl:gone has expired (the daemon may not have removed it yet) */
}

/* ------------------------------------------------------------------------ */
/* The questions                                                             */

static void q_get(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    pc_val v = {0};
    int rc = pc_get(r, K(k), &v);
    pt_buf_u64(a, (uint64_t)(rc));
    if (!rc)
        pt_buf_val(a, &v);
    uint64_t len = 0;
    rc = pc_strlen(r, K(k), &len);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : (int64_t)len));
    pc_type t = 99;
    rc = pc_type_of(r, K(k), &t);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(t));
    int ex = 7;
    rc = pc_exists(r, K(k), &ex);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(ex));
    uint64_t ver = 0;
    rc = pc_version(r, K(k), &ver);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : (int64_t)ver));
    int64_t ttl = 0;
    rc = pc_ttl(r, K(k), &ttl);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc        ? 0
                             : ttl < 0 ? ttl
                                       : 1)); /* the time left is compared on its own */
    rc = pc_ttl_sec(r, K(k), &ttl);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : ttl < 0 ? ttl : 1));
}

/* Keys that are not keys. */
static void q_badkeys(pc_read *r, pt_buf *a, const void *arg)
{
    (void)arg;
    static char long_key[PC_KEY_MAX + 1];
    memset(long_key, 'k', sizeof long_key);
    pc_val v = {0};
    pc_type t;
    uint64_t u;
    pt_buf_u64(a, (uint64_t)(pc_get(r, "", 0, &v)));
    pt_buf_u64(a, (uint64_t)(pc_get(r, long_key, sizeof long_key, &v)));
    pt_buf_u64(
        a, (uint64_t)(pc_get(r, long_key, PC_KEY_MAX, &v))); /* the longest: fine, and missing */
    pt_buf_u64(a, (uint64_t)(pc_type_of(r, "", 0, &t)));
    pt_buf_u64(a, (uint64_t)(pc_llen(r, long_key, sizeof long_key, &u)));
    pt_buf_u64(a, (uint64_t)(pc_get(r, nulkey, sizeof nulkey, &v)));
    pt_buf_val(a, &v);
}

static void q_mget(pc_read *r, pt_buf *a, const void *arg)
{
    (void)arg;
    size_t n = sizeof all_keys / sizeof all_keys[0];
    pc_bytes keys[32];
    pc_val out[32];
    for (size_t i = 0; i < n; i++)
        keys[i] = pc_b(all_keys[i], strlen(all_keys[i]));
    keys[n++] = pc_b(nulkey, sizeof nulkey);
    size_t found = 999;
    int rc = pc_mget(r, keys, n, out, &found);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)((int64_t)found));
    for (size_t i = 0; !rc && i < n; i++)
        pt_buf_val(a, &out[i]);
    /* a bad key among them: nothing filled */
    keys[3] = pc_b("", 0);
    pt_buf_u64(a, (uint64_t)(pc_mget(r, keys, n, out, &found)));
    pt_buf_u64(a, (uint64_t)(pc_mget(r, keys, 0, out, &found)));
}

struct range {
    const char *key;
    int64_t start, stop;
};

static void q_getrange(pc_read *r, pt_buf *a, const void *arg)
{
    const struct range *g = arg;
    pc_val v = {0};
    int rc = pc_getrange(r, K(g->key), g->start, g->stop, &v);
    pt_buf_u64(a, (uint64_t)(rc));
    if (!rc)
        pt_buf_val(a, &v);
}

static void q_counts(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    uint64_t n;
    int rc;
    rc = pc_llen(r, K(k), &n);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : (int64_t)n));
    rc = pc_qlen(r, K(k), &n);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : (int64_t)n));
    rc = pc_hlen(r, K(k), &n);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : (int64_t)n));
    rc = pc_scard(r, K(k), &n);
    pt_buf_u64(a, (uint64_t)(rc));
    pt_buf_u64(a, (uint64_t)(rc ? 0 : (int64_t)n));
    pc_val v = {0};
    rc = pc_qpeek(r, K(k), &v);
    pt_buf_u64(a, (uint64_t)(rc));
    if (!rc)
        pt_buf_val(a, &v);
    rc = pc_lindex(r, K(k), 0, &v);
    pt_buf_u64(a, (uint64_t)(rc));
    if (!rc)
        pt_buf_val(a, &v);
}

static void q_lindex(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    for (int64_t i = -LIST_N - 3; i <= LIST_N + 3; i++) {
        pc_val v = {0};
        int rc = pc_lindex(r, K(k), i, &v);
        pt_buf_u64(a, (uint64_t)(rc));
        if (!rc)
            pt_buf_val(a, &v);
    }
}

struct paged {
    const char *key;
    int64_t start, stop;
    size_t max;
    bool queue;
};

/* A range, paged: start advanced by *n until a page comes back empty. */
static void q_range(pc_read *r, pt_buf *a, const void *arg)
{
    const struct paged *p = arg;
    static pc_val out[1024];
    int64_t start = p->start;
    for (int pages = 0; pages < 2000; pages++) {
        size_t n = 9999;
        int rc = p->queue ? pc_qrange(r, K(p->key), start, p->stop, out, p->max, &n)
                          : pc_lrange(r, K(p->key), start, p->stop, out, p->max, &n);
        pt_buf_u64(a, (uint64_t)(rc));
        if (rc)
            return;
        pt_buf_u64(a, (uint64_t)((int64_t)n));
        for (size_t i = 0; i < n; i++)
            pt_buf_val(a, &out[i]);
        if (n == 0 || start < 0)
            return; /* negative starts: one page only */
        start += (int64_t)n;
    }
    fail_msg("a range never ended");
}

static void q_hfields(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    for (int i = -2; i < MAP_N + 2; i++) {
        char f[32];
        snprintf(f, sizeof f, "field-%03d", i);
        pc_val v = {0};
        int rc = pc_hget(r, K(k), K(f), &v), ex = 7;
        pt_buf_u64(a, (uint64_t)(rc));
        if (!rc)
            pt_buf_val(a, &v);
        rc = pc_hexists(r, K(k), K(f), &ex);
        pt_buf_u64(a, (uint64_t)(rc));
        pt_buf_u64(a, (uint64_t)(ex));
    }
    for (int i = 0; i < 3; i++) {
        pc_val v = {0};
        int rc = pc_hget(r, K(k), longf[i], sizeof longf[i], &v);
        pt_buf_u64(a, (uint64_t)(rc));
        if (!rc)
            pt_buf_val(a, &v);
    }
    pc_val v = {0};
    int rc = pc_hget(r, K(k), bin, 17, &v);
    pt_buf_u64(a, (uint64_t)(rc));
    if (!rc)
        pt_buf_val(a, &v);
    /* hmget: all of them at once, with missing ones */
    static pc_bytes fs[MAP_N + 8];
    static char names[MAP_N + 8][16];
    static pc_val out[MAP_N + 8];
    size_t n = 0;
    for (int i = -2; i < MAP_N + 2; i++) {
        snprintf(names[n], sizeof names[n], "field-%03d", i);
        fs[n] = pc_b(names[n], strlen(names[n]));
        n++;
    }
    fs[n++] = pc_b(longf[1], sizeof longf[1]);
    fs[n++] = pc_b(bin, 17);
    rc = pc_hmget(r, K(k), fs, n, out);
    pt_buf_u64(a, (uint64_t)(rc));
    for (size_t i = 0; !rc && i < n; i++)
        pt_buf_val(a, &out[i]);
}

struct scan {
    const char *key; /* or glob */
    size_t max;
    int which; /* 0 fields+values, 1 fields only, 2 values only */
};

static void q_hscan(pc_read *r, pt_buf *a, const void *arg)
{
    const struct scan *s = arg;
    pc_cursor cur = PC_CURSOR_INIT;
    static pc_bytes f[512];
    static pc_val v[512];
    for (int pages = 0; !cur.done && pages < 1000; pages++) {
        size_t n = 9999;
        int rc = pc_hscan(r, K(s->key), &cur, s->which == 2 ? NULL : f, s->which == 1 ? NULL : v,
                          s->max, &n);
        pt_buf_u64(a, (uint64_t)(rc));
        if (rc)
            return;
        pt_buf_u64(a, (uint64_t)((int64_t)n));
        for (size_t i = 0; i < n; i++) {
            if (s->which != 2)
                pt_buf_bytes(a, f[i].ptr, f[i].len);
            if (s->which != 1)
                pt_buf_val(a, &v[i]);
        }
    }
    pt_buf_u64(a, (uint64_t)(cur.done));
}

static void q_sscan(pc_read *r, pt_buf *a, const void *arg)
{
    const struct scan *s = arg;
    pc_cursor cur = PC_CURSOR_INIT;
    static pc_val v[512];
    for (int pages = 0; !cur.done && pages < 1000; pages++) {
        size_t n = 9999;
        int rc = pc_sscan(r, K(s->key), &cur, v, s->max, &n);
        pt_buf_u64(a, (uint64_t)(rc));
        if (rc)
            return;
        pt_buf_u64(a, (uint64_t)((int64_t)n));
        for (size_t i = 0; i < n; i++)
            pt_buf_val(a, &v[i]);
    }
    pt_buf_u64(a, (uint64_t)(cur.done));
}

struct algebra {
    int how; /* 0 union, 1 inter, 2 diff */
    const char *keys[4];
    size_t max;
};

static void q_salg(pc_read *r, pt_buf *a, const void *arg)
{
    const struct algebra *s = arg;
    pc_bytes keys[4];
    size_t nk = 0;
    while (nk < 4 && s->keys[nk]) {
        keys[nk] = pc_b(s->keys[nk], strlen(s->keys[nk]));
        nk++;
    }
    pc_cursor cur = PC_CURSOR_INIT;
    static pc_val v[512];
    for (int pages = 0; !cur.done && pages < 1000; pages++) {
        size_t n = 9999;
        int rc = s->how == 0   ? pc_sunion(r, keys, nk, &cur, v, s->max, &n)
                 : s->how == 1 ? pc_sinter(r, keys, nk, &cur, v, s->max, &n)
                               : pc_sdiff(r, keys, nk, &cur, v, s->max, &n);
        pt_buf_u64(a, (uint64_t)(rc));
        if (rc)
            return;
        pt_buf_u64(a, (uint64_t)((int64_t)n));
        for (size_t i = 0; i < n; i++)
            pt_buf_val(a, &v[i]);
    }
    pt_buf_u64(a, (uint64_t)(cur.done));
}

static void q_sismember(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    for (int i = -3; i < 400; i++) {
        char buf[32];
        pc_val m = member(i < 0 ? -i : i, buf);
        int is = 7;
        int rc = pc_sismember(r, K(k), &m, &is);
        pt_buf_u64(a, (uint64_t)(rc));
        pt_buf_u64(a, (uint64_t)(is));
    }
    pc_val odd[] = {pc_nil(),    pc_bool(true), pc_bool(false),
                    pc_str("0"), pc_dbl(0.0),   pc_mem(bin, 200)};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        int is = 7;
        int rc = pc_sismember(r, K(k), &odd[i], &is);
        pt_buf_u64(a, (uint64_t)(rc));
        pt_buf_u64(a, (uint64_t)(is));
    }
}

static void q_scan(pc_read *r, pt_buf *a, const void *arg)
{
    const struct scan *s = arg;
    pc_cursor cur = PC_CURSOR_INIT;
    static pc_bytes keys[1024];
    for (int pages = 0; !cur.done && pages < 2000; pages++) {
        size_t n = 9999;
        int rc = pc_scan(r, s->key, &cur, keys, s->max, &n);
        pt_buf_u64(a, (uint64_t)(rc));
        if (rc)
            return;
        pt_buf_u64(a, (uint64_t)((int64_t)n));
        for (size_t i = 0; i < n; i++)
            pt_buf_bytes(a, keys[i].ptr, keys[i].len);
    }
    pt_buf_u64(a, (uint64_t)(cur.done));
}

/* ------------------------------------------------------------------------ */
/* The tests                                                                 */

static int group_setup(void **state)
{
    (void)state;
    alarm(120);
    if (pt_daemon_new(&daemon_, "reads", (const char *[]){"--shards", "3", NULL}) ||
        pt_daemon_start(&daemon_, NULL))
        return -1;
    tc = pt_daemon_client(&daemon_, 0);
    rc_ = pt_daemon_client(&daemon_, PC_OPT_RING_ONLY);
    if (!tc || !rc_)
        return -1;
    pc_store_info si;
    if (pc_store_info_get(rc_, &si) || !si.ring_only || pc_store_info_get(tc, &si) || si.ring_only)
        return -1;
    /* Keep ttl:gone in the store after it expires: reads must treat it as
     * missing whether or not the TTL worker has removed it. */
    if (pc_set_expire_interval(tc, 0))
        return -1;
    populate();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pc_close(tc);
    pc_close(rc_);
    if (daemon_.pid > 0 && pt_exited(pt_daemon_stop(&daemon_), 0))
        daemon_.passed = true;
    pt_daemon_finish(&daemon_);
    return 0;
}

static void test_scalars(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_keys / sizeof all_keys[0]; i++)
        both(all_keys[i], q_get, all_keys[i]);
    both("q:jobs-ttl", q_get, "q:jobs-ttl");
    both("bad keys", q_badkeys, NULL);
    both("pc_mget", q_mget, NULL);
    /* Absolute answers. */
    pc_read *r;
    pc_val v;
    OK(pc_read_begin(rc_, &r));
    OK(pc_get(r, K("s:bin"), &v));
    assert_int_equal(v.s.len, 256);
    assert_memory_equal(v.s.ptr, bin, 256);
    OK(pc_get(r, K("s:big"), &v));
    assert_int_equal(v.s.len, sizeof big);
    assert_memory_equal(v.s.ptr, big, sizeof big);
    OK(pc_get(r, K("n:dbl"), &v));
    assert_int_equal(v.kind, PC_DOUBLE);
    assert_true(v.d == 3.25);
    RC(PC_ENOTFOUND, pc_get(r, K("ttl:gone"), &v));
    RC(PC_EWRONGTYPE, pc_get(r, K("l:mixed"), &v));
    pc_read_end(r);
    /* The time left, from both, within the time between the two reads. */
    int64_t tt, tr, st, sr;
    OK(pc_read_begin(tc, &r));
    OK(pc_ttl(r, K("ttl:k"), &tt));
    OK(pc_ttl_sec(r, K("ttl:k"), &st));
    pc_read_end(r);
    OK(pc_read_begin(rc_, &r));
    OK(pc_ttl(r, K("ttl:k"), &tr));
    OK(pc_ttl_sec(r, K("ttl:k"), &sr));
    pc_read_end(r);
    assert_true(tt > 90000 && tt <= 100000);
    assert_true(tr > 90000 && tr <= tt);
    assert_true(tt - tr < 2000);
    assert_true(st - sr <= 2 && st >= sr);
    OK(pc_read_begin(rc_, &r));
    OK(pc_ttl(r, K("q:jobs-ttl"), &tr));
    assert_true(tr > 40000 && tr <= 50000);
    pc_read_end(r);
}

static void test_strings(void **state)
{
    (void)state;
    const char *keys[] = {"s:plain", "s:empty", "s:bin", "s:big", "n:int", "l:mixed", "missing"};
    const int64_t ranges[][2] = {{0, -1},        {0, 0},     {3, 7},         {-5, -1},
                                 {-1000, 1000},  {7, 3},     {100, 200},     {0, -300},
                                 {-1, -1},       {255, 255}, {256, 300},     {-256, -256},
                                 {50000, 60000}, {-2, 1},    {10, INT64_MAX}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
            struct range g = {keys[k], ranges[i][0], ranges[i][1]};
            char what[96];
            snprintf(what, sizeof what, "pc_getrange(%s, %" PRId64 ", %" PRId64 ")", keys[k],
                     ranges[i][0], ranges[i][1]);
            both(what, q_getrange, &g);
        }
    pc_read *r;
    pc_val v;
    OK(pc_read_begin(rc_, &r));
    OK(pc_getrange(r, K("s:plain"), -5, -1, &v));
    assert_int_equal(v.s.len, 5);
    assert_memory_equal(v.s.ptr, "world", 5);
    pc_read_end(r);
}

static void test_sequences(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_keys / sizeof all_keys[0]; i++)
        both(all_keys[i], q_counts, all_keys[i]);
    both("pc_lindex(l:mixed)", q_lindex, "l:mixed");
    both("pc_lindex(q:jobs)", q_lindex, "q:jobs");
    both("pc_lindex(missing)", q_lindex, "missing");
    const int64_t ranges[][2] = {{0, -1},    {5, 20},     {-10, -1},   {250, 1000}, {1000, 2000},
                                 {-1000, 5}, {0, 0},      {20, 5},     {-1, -1},    {149, 149},
                                 {0, 1000},  {100, -100}, {-300, -290}};
    const size_t maxes[] = {1, 7, 64, 1000};
    const char *keys[] = {"l:mixed", "q:jobs", "missing", "s:plain"};
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
            for (size_t m = 0; m < 4; m++)
                for (int queue = 0; queue < 2; queue++) {
                    struct paged p = {keys[k], ranges[i][0], ranges[i][1], maxes[m], queue};
                    char what[128];
                    snprintf(what, sizeof what, "%s(%s, %" PRId64 ", %" PRId64 ") by %zu",
                             queue ? "pc_qrange" : "pc_lrange", keys[k], ranges[i][0], ranges[i][1],
                             maxes[m]);
                    both(what, q_range, &p);
                }
    /* Absolute: the whole list, paged 7 at a time, is what was written. */
    pc_read *r;
    OK(pc_read_begin(rc_, &r));
    pc_val out[8];
    int64_t start = 0;
    size_t n;
    do {
        OK(pc_lrange(r, K("l:mixed"), start, -1, out, 7, &n));
        for (size_t i = 0; i < n; i++) {
            char buf[32];
            pc_val want = elem((int)start + (int)i, buf);
            assert_int_equal(out[i].kind, want.kind);
        }
        start += (int64_t)n;
    } while (n);
    assert_int_equal(start, LIST_N);
    uint64_t len;
    OK(pc_qlen(r, K("q:jobs"), &len));
    assert_int_equal(len, QUEUE_N);
    pc_read_end(r);
}

static void test_maps(void **state)
{
    (void)state;
    const char *keys[] = {"h:user", "missing", "l:mixed"};
    for (size_t k = 0; k < 3; k++) {
        char what[64];
        snprintf(what, sizeof what, "pc_hget/hexists/hmget(%s)", keys[k]);
        both(what, q_hfields, keys[k]);
        const size_t maxes[] = {1, 10, 203, 1000};
        for (size_t m = 0; m < 4; m++)
            for (int which = 0; which < 3; which++) {
                struct scan s = {keys[k], maxes[m], which};
                snprintf(what, sizeof what, "pc_hscan(%s) by %zu (%d)", keys[k], maxes[m], which);
                both(what, q_hscan, &s);
            }
    }
    /* Absolute: every field once, long ones told apart. */
    pc_read *r;
    OK(pc_read_begin(tc, &r));
    pc_cursor cur = PC_CURSOR_INIT;
    size_t total = 0, n, longs = 0;
    pc_bytes f[16];
    while (!cur.done) {
        OK(pc_hscan(r, K("h:user"), &cur, f, NULL, 16, &n));
        for (size_t i = 0; i < n; i++)
            longs += f[i].len == sizeof longf[0];
        total += n;
    }
    assert_int_equal(total, MAP_N + 3 + 1);
    assert_int_equal(longs, 3);
    pc_read_end(r);
}

static void test_sets(void **state)
{
    (void)state;
    const char *keys[] = {"st:a", "st:b", "st:c", "missing", "h:user"};
    for (size_t k = 0; k < 5; k++) {
        char what[64];
        snprintf(what, sizeof what, "pc_sismember(%s)", keys[k]);
        both(what, q_sismember, keys[k]);
        const size_t maxes[] = {1, 9, 250, 1000};
        for (size_t m = 0; m < 4; m++) {
            struct scan s = {keys[k], maxes[m], 0};
            snprintf(what, sizeof what, "pc_sscan(%s) by %zu", keys[k], maxes[m]);
            both(what, q_sscan, &s);
        }
    }
    const struct algebra algs[] = {
        {0, {"st:a", "st:b"}, 0},
        {1, {"st:a", "st:b"}, 0},
        {2, {"st:a", "st:b"}, 0},
        {2, {"st:b", "st:a"}, 0},
        {0, {"st:a", "st:b", "st:c"}, 0},
        {1, {"st:a", "st:b", "st:c"}, 0},
        {2, {"st:a", "st:b", "st:c"}, 0},
        {0, {"st:c", "missing"}, 0},
        {1, {"st:c", "missing"}, 0},
        {2, {"st:c", "missing"}, 0},
        {2, {"missing", "st:c"}, 0},
        {0, {"missing"}, 0},
        {1, {"st:a"}, 0},
        {0, {"st:a", "l:mixed"}, 0},
        {1, {"st:a", "s:plain"}, 0},
        {2, {"h:user", "st:a"}, 0},
    };
    const size_t maxes[] = {1, 13, 400};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        for (size_t m = 0; m < 3; m++) {
            struct algebra a = algs[i];
            a.max = maxes[m];
            char what[128];
            snprintf(what, sizeof what, "%s(%s, %s%s%s) by %zu",
                     a.how == 0   ? "pc_sunion"
                     : a.how == 1 ? "pc_sinter"
                                  : "pc_sdiff",
                     a.keys[0], a.keys[1] ? a.keys[1] : "", a.keys[2] ? ", " : "",
                     a.keys[2] ? a.keys[2] : "", a.max);
            both(what, q_salg, &a);
        }
    /* Absolute: a has 0..249, b has 100..299: 300 in the union, 150 shared,
     * 100 only in a. */
    pc_read *r;
    OK(pc_read_begin(rc_, &r));
    pc_bytes keys2[2] = {pc_b(K("st:a")), pc_b(K("st:b"))};
    size_t counts[3] = {0};
    for (int how = 0; how < 3; how++) {
        pc_cursor cur = PC_CURSOR_INIT;
        pc_val v[64];
        size_t n;
        while (!cur.done) {
            OK(how == 0   ? pc_sunion(r, keys2, 2, &cur, v, 64, &n)
               : how == 1 ? pc_sinter(r, keys2, 2, &cur, v, 64, &n)
                          : pc_sdiff(r, keys2, 2, &cur, v, 64, &n));
            counts[how] += n;
        }
    }
    assert_int_equal(counts[0], 300);
    assert_int_equal(counts[1], 150);
    assert_int_equal(counts[2], 100);
    pc_read_end(r);
}

static void test_scan(void **state)
{
    (void)state;
    const char *globs[] = {NULL,        "*",     "user:*", "user:?",     "user:[12]*", "u*r:*",
                           "a\\[b\\]c", "a[b]c", "nope*",  "*:*",        "s:*",        "*e*",
                           "[!u]*",     "nul*",  "?:*",    "user:1[0-9]"};
    const size_t maxes[] = {1, 5, 1000};
    for (size_t g = 0; g < sizeof globs / sizeof globs[0]; g++)
        for (size_t m = 0; m < 3; m++) {
            struct scan s = {globs[g], maxes[m], 0};
            char what[96];
            snprintf(what, sizeof what, "pc_scan(%s) by %zu", globs[g] ? globs[g] : "NULL",
                     maxes[m]);
            both(what, q_scan, &s);
        }
    /* Absolute: 30 user:N keys, 11 of user:1*, one key with a NUL byte
     * matched only by a glob that matches everything. */
    pc_read *r;
    OK(pc_read_begin(rc_, &r));
    const char *g2[] = {"user:*", "user:1*", "*"};
    size_t want[] = {30, 11, 0};
    for (int i = 0; i < 3; i++) {
        pc_cursor cur = PC_CURSOR_INIT;
        pc_bytes k[64];
        size_t n, total = 0;
        bool nul = false;
        while (!cur.done) {
            OK(pc_scan(r, g2[i], &cur, k, 64, &n));
            for (size_t j = 0; j < n; j++)
                nul |= k[j].len == sizeof nulkey && !memcmp(k[j].ptr, nulkey, sizeof nulkey);
            total += n;
        }
        if (want[i])
            assert_int_equal(total, want[i]);
        else
            assert_true(nul);
    }
    pc_read_end(r);
}

/* An empty glob is a glob like any other: by fnmatch(3) it matches only an
 * empty name, so no key (only NULL and "*" match every key). */
static void test_scan_empty_glob(void **state)
{
    (void)state;
    pc_read *r;
    OK(pc_read_begin(tc, &r));
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes k[8];
    size_t n = 99;
    OK(pc_scan(r, "", &cur, k, 8, &n));
    assert_int_equal(n, 0);
    pc_read_end(r);
    const size_t maxes[] = {1, 1000};
    for (size_t m = 0; m < 2; m++) {
        struct scan s = {"", maxes[m], 0};
        char what[64];
        snprintf(what, sizeof what, "pc_scan(\"\") by %zu", maxes[m]);
        both(what, q_scan, &s);
    }
    print_message("%lu questions answered alike\n", compared);
}

/* ---- the reads of issue 13 ---- */

static void q_redis_keys(pc_read *r, pt_buf *a, const void *arg)
{
    (void)arg;
    size_t n = sizeof all_keys / sizeof all_keys[0];
    pc_bytes keys[32];
    pc_val out[32];
    pc_type types[32];
    for (size_t i = 0; i < n; i++)
        keys[i] = pc_b(all_keys[i], strlen(all_keys[i]));
    keys[n++] = pc_b(nulkey, sizeof nulkey);
    size_t found = 999;
    int rc = pc_mget_typed(r, keys, n, out, types, &found);
    pt_buf_u64(a, (uint64_t)rc);
    pt_buf_u64(a, found);
    for (size_t i = 0; !rc && i < n; i++) {
        pt_buf_u64(a, types[i]);
        pt_buf_val(a, &out[i]);
    }
    uint64_t cnt = 999;
    pt_buf_u64(a, (uint64_t)pc_exists_keys(r, keys, n, &cnt));
    pt_buf_u64(a, cnt);
    pt_buf_u64(a, (uint64_t)pc_touch(r, keys, n, &cnt));
    pt_buf_u64(a, cnt);
    for (size_t i = 0; i < n; i++) {
        int64_t at = 12345;
        pt_buf_u64(a, (uint64_t)pc_expiretime(r, keys[i].ptr, keys[i].len, &at));
        pt_buf_u64(a, (uint64_t)at);
    }
    pt_buf_u64(a, (uint64_t)pc_dbsize(r, &cnt));
    pt_buf_u64(a, cnt);
    keys[2] = pc_b("", 0);
    pt_buf_u64(a, (uint64_t)pc_mget_typed(r, keys, n, out, types, &found));
    pt_buf_u64(a, (uint64_t)pc_exists_keys(r, keys, n, &cnt));
}

static void q_hstrlen(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    for (int i = 0; i < MAP_N + 1; i++) {
        char f[32];
        snprintf(f, sizeof f, "field-%03d", i);
        uint64_t len = 999;
        pt_buf_u64(a, (uint64_t)pc_hstrlen(r, K(k), K(f), &len));
        pt_buf_u64(a, len);
    }
    uint64_t len = 999;
    pt_buf_u64(a, (uint64_t)pc_hstrlen(r, K(k), bin, 17, &len));
    pt_buf_u64(a, len);
}

struct lpos {
    const char *key;
    pc_val v;
    int64_t rank;
    uint64_t maxlen;
    size_t max;
};

static void q_lpos(pc_read *r, pt_buf *a, const void *arg)
{
    const struct lpos *l = arg;
    uint64_t pos[400];
    size_t n = 999;
    int rc = pc_lpos(r, K(l->key), &l->v, l->rank, l->maxlen, pos, l->max, &n);
    pt_buf_u64(a, (uint64_t)rc);
    pt_buf_u64(a, n);
    for (size_t i = 0; !rc && i < n; i++)
        pt_buf_u64(a, pos[i]);
}

static void q_smismember(pc_read *r, pt_buf *a, const void *arg)
{
    const char *k = arg;
    char bufs[40][32];
    pc_val m[40];
    int out[40];
    for (int i = 0; i < 40; i++)
        m[i] = member(i * 9, bufs[i]);
    int rc = pc_smismember(r, K(k), m, 40, out);
    pt_buf_u64(a, (uint64_t)rc);
    for (int i = 0; !rc && i < 40; i++)
        pt_buf_u64(a, (uint64_t)out[i]);
}

/* Random answers cannot be compared: each must hold only members, and as
 * many as asked (distinct ones for a positive count). */
static void srand_ok(pc_client *c, const char *key, uint64_t card, int64_t count, size_t max)
{
    pc_read *r;
    pc_val *out = calloc(max, sizeof *out);
    size_t n = 0;
    OK(pc_read_begin(c, &r));
    OK(pc_srandmember(r, K(key), count, out, max, &n));
    uint64_t want =
        count > 0 ? ((uint64_t)count < card ? (uint64_t)count : card) : (uint64_t)(-count);
    EQ(n, want < max ? want : max);
    for (size_t i = 0; i < n; i++) {
        int yes = 0;
        OK(pc_sismember(r, K(key), &out[i], &yes));
        CHECK(yes, "srandmember(%s, %lld): not a member", key, (long long)count);
        for (size_t j = 0; count > 0 && j < i; j++)
            CHECK(!pt_val_eq(&out[i], &out[j]), "srandmember(%s, %lld): a member twice", key,
                  (long long)count);
    }
    pc_read_end(r);
    free(out);
}

static void test_redis_reads(void **state)
{
    (void)state;
    both("mget_typed, exists_keys, touch, expiretime, dbsize", q_redis_keys, NULL);
    both("pc_hstrlen(h:user)", q_hstrlen, "h:user");
    both("pc_hstrlen(missing)", q_hstrlen, "missing");
    both("pc_hstrlen(st:a)", q_hstrlen, "st:a");
    char buf[32];
    const pc_val vals[] = {elem(0, buf), pc_nil(), pc_bool(true), pc_bool(false), pc_int(7)};
    const int64_t ranks[] = {1, 2, 7, -1, -3, INT64_MAX, 0};
    const uint64_t maxlens[] = {0, 1, 50, 1000};
    const size_t maxes[] = {0, 1, 3, 400};
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++)
        for (size_t k = 0; k < sizeof ranks / sizeof ranks[0]; k++)
            for (size_t m = 0; m < 4; m++)
                for (size_t x = 0; x < 4; x++) {
                    struct lpos l = {"l:mixed", vals[v], ranks[k], maxlens[m], maxes[x]};
                    char what[96];
                    snprintf(what, sizeof what, "pc_lpos(l:mixed, #%zu, %lld, %llu, %zu)", v,
                             (long long)ranks[k], (unsigned long long)maxlens[m], maxes[x]);
                    both(what, q_lpos, &l);
                }
    struct lpos ls[] = {{"missing", pc_nil(), 1, 0, 10}, {"s:plain", pc_nil(), 1, 0, 10}};
    both("pc_lpos(missing)", q_lpos, &ls[0]);
    both("pc_lpos(s:plain)", q_lpos, &ls[1]);
    const char *sets[] = {"st:a", "st:c", "missing", "h:user"};
    for (size_t i = 0; i < 4; i++)
        both(sets[i], q_smismember, sets[i]);
    /* Absolute: every one of the 300-element list's NILs (i % 6 == 4). */
    pc_read *r;
    uint64_t pos[64], dbt = 0, dbr = 0;
    size_t n;
    pc_val nil = pc_nil();
    OK(pc_read_begin(rc_, &r));
    OK(pc_lpos(r, K("l:mixed"), &nil, 1, 0, pos, 64, &n));
    EQ(n, LIST_N / 6);
    for (size_t i = 0; i < n; i++)
        EQ(pos[i], 6 * i + 4);
    OK(pc_dbsize(r, &dbr));
    pc_read_end(r);
    OK(pc_read_begin(tc, &r));
    OK(pc_dbsize(r, &dbt));
    pc_read_end(r);
    EQ(dbr, dbt);
    EQ(dbt, 48); /* every key written but the expired one */

    pc_client *cs[2] = {tc, rc_};
    for (int i = 0; i < 2; i++) {
        srand_ok(cs[i], "st:a", SET_A, 1, 1);
        srand_ok(cs[i], "st:a", SET_A, 20, 20);
        srand_ok(cs[i], "st:a", SET_A, 300, 300);
        srand_ok(cs[i], "st:a", SET_A, -600, 600);
        srand_ok(cs[i], "st:c", 6, 100, 100);
        srand_ok(cs[i], "st:c", 6, -2000, 2000);
        srand_ok(cs[i], "missing", 0, 5, 5);
        pc_bytes k;
        OK(pc_read_begin(cs[i], &r));
        for (int j = 0; j < 50; j++) {
            OK(pc_randomkey(r, &k));
            int yes = 0;
            OK(pc_exists(r, k.ptr, k.len, &yes));
            CHECK(yes, "randomkey gave a key that does not exist");
            CHECK(!(k.len == 8 && !memcmp(k.ptr, "ttl:gone", 8)), "randomkey gave ttl:gone");
        }
        pc_val out[4];
        RC(PC_EWRONGTYPE, pc_srandmember(r, K("s:plain"), 1, out, 4, &n));
        pc_read_end(r);
    }

    /* Issue 16's types: their type, through the channel as in the map, and
     * counted by dbsize. */
    OK(pc_setbit(tc, K("bits:x"), 3, 1, NULL));
    OK(pc_bf_add(tc, K("bloom:x"), "a", 1, NULL));
    for (int i = 0; i < 2; i++) {
        pc_type ty = PC_T_NONE, tys[2] = {PC_T_NONE, PC_T_NONE};
        pc_val vs[2];
        pc_bytes ks[2] = {pc_b(K("bits:x")), pc_b(K("bloom:x"))};
        size_t found = 9;
        uint64_t db = 0;
        OK(pc_read_begin(cs[i], &r));
        OK(pc_type_of(r, K("bits:x"), &ty));
        EQ(ty, PC_T_BITS);
        OK(pc_mget_typed(r, ks, 2, vs, tys, &found));
        EQ(tys[0], PC_T_BITS);
        EQ(tys[1], PC_T_BLOOM);
        OK(pc_dbsize(r, &db));
        EQ(db, 50);
        pc_read_end(r);
    }
    uint64_t del = 0;
    pc_bytes gone[2] = {pc_b(K("bits:x")), pc_b(K("bloom:x"))};
    OK(pc_del_keys(tc, gone, 2, &del));
    EQ(del, 2);
}

int main(void)
{
    pt_init(170);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_scan_empty_glob),
        cmocka_unit_test(test_redis_reads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
