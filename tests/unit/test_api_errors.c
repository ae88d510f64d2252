/*
 * test_api_errors.c - bad input to the public API: every refused call
 * returns its code and changes nothing.  NULL clients, bad keys on every
 * call, values over the maximum, wrong types for every pair of types, NaN
 * and overflow, TTLs and flags out of range, a second read, a client used
 * after fork(), error names and messages, pc_connect failures, and a loop
 * that fails the N-th allocation for N = 1, 2, ... until a whole sequence
 * of calls succeeds.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../shm/alloc.h"
#include "pctest.h"

#define S(s) pc_str(s)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a text dump of a whole store, to compare before and after ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        assert_true(w >= 0);
        if ((size_t)w < room) {
            b->len += (size_t)w;
            return;
        }
        b->cap = (b->cap + (size_t)w + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
}

static void sb_val(sbuf *b, const pc_val *v)
{
    switch (v->kind) {
    case PC_BYTES:
        sb_add(b, "b:");
        for (size_t i = 0; i < v->s.len; i++)
            sb_add(b, "%02x", ((const unsigned char *)v->s.ptr)[i]);
        break;
    case PC_INT:
        sb_add(b, "i:%" PRId64, v->i);
        break;
    case PC_DOUBLE:
        sb_add(b, "d:%a", v->d);
        break;
    case PC_BOOL:
        sb_add(b, "t:%d", v->b);
        break;
    default:
        sb_add(b, "%s", pt_kind_name(v->kind));
        break;
    }
}

/* Every live key of the store with its type, TTL state, (version) and content. */
static char *dump(pc_client *c, bool versions)
{
    sbuf b = {NULL, 0, 0};
    sb_add(&b, "");
    pc_read *r = pt_rd(c);
    pc_cursor kc = PC_CURSOR_INIT;
    pc_bytes keys[16];
    size_t nk;
    while (!kc.done) {
        OK(pc_scan(r, NULL, &kc, keys, 16, &nk));
        for (size_t i = 0; i < nk; i++) {
            const char *k = keys[i].ptr;
            size_t kl = keys[i].len;
            pc_type ty;
            int64_t ttl;
            uint64_t ver;
            OK(pc_type_of(r, k, kl, &ty));
            OK(pc_ttl(r, k, kl, &ttl));
            OK(pc_version(r, k, kl, &ver));
            sb_add(&b, "%.*s %s %s", (int)kl, k, pc_type_name(ty), ttl < 0 ? "-" : "ttl");
            if (versions)
                sb_add(&b, " v%" PRIu64, ver);
            sb_add(&b, ":");
            pc_val vals[8];
            pc_bytes fields[8];
            size_t n;
            pc_cursor cur = PC_CURSOR_INIT;
            switch (ty) {
            case PC_T_STRING:
            case PC_T_NUMERIC:
                OK(pc_get(r, k, kl, &vals[0]));
                sb_add(&b, " ");
                sb_val(&b, &vals[0]);
                break;
            case PC_T_LIST:
            case PC_T_QUEUE:
                for (int64_t start = 0;; start += (int64_t)n) {
                    if (ty == PC_T_LIST)
                        OK(pc_lrange(r, k, kl, start, -1, vals, 8, &n));
                    else
                        OK(pc_qrange(r, k, kl, start, -1, vals, 8, &n));
                    if (!n)
                        break;
                    for (size_t j = 0; j < n; j++) {
                        sb_add(&b, " ");
                        sb_val(&b, &vals[j]);
                    }
                }
                break;
            case PC_T_MAP:
                while (!cur.done) {
                    OK(pc_hscan(r, k, kl, &cur, fields, vals, 8, &n));
                    for (size_t j = 0; j < n; j++) {
                        pc_val f = pc_mem(fields[j].ptr, fields[j].len);
                        sb_add(&b, " ");
                        sb_val(&b, &f);
                        sb_add(&b, "=");
                        sb_val(&b, &vals[j]);
                    }
                }
                break;
            case PC_T_SET:
                while (!cur.done) {
                    OK(pc_sscan(r, k, kl, &cur, vals, 8, &n));
                    for (size_t j = 0; j < n; j++) {
                        sb_add(&b, " ");
                        sb_val(&b, &vals[j]);
                    }
                }
                break;
            default:
                fail_msg("scan returned a key of type %s", pc_type_name(ty));
            }
            sb_add(&b, "\n");
        }
    }
    pc_read_end(r);
    return b.p;
}

static void check_dump(const char *file, int line, pc_client *c, const char *want, bool versions)
{
    char *got = dump(c, versions);
    if (strcmp(got, want)) {
        print_error("%s:%d: the store changed.\n--- expected\n%s--- found\n%s", file, line, want,
                    got);
        free(got);
        _fail(file, line);
    }
    free(got);
}
/* Assert that the store's dump (versions included) is still want. */
#define UNCHANGED(c, want) check_dump(__FILE__, __LINE__, (c), (want), true)

/* One key of every type: s (String), n (Numeric), l (List), h (Map), z (Set),
 * q (Queue), and e (a String with a TTL). */
static void populate(pc_client *c)
{
    pc_val s = S("str"), n = pc_int(5), e = S("exp");
    pc_val elems[] = {pc_int(1), S("two"), pc_dbl(3.5)};
    pc_bytes f[] = {pc_b("f", 1), pc_b("g", 1)};
    OK(pc_set(c, K("s"), &s, 0, 0));
    OK(pc_set(c, K("n"), &n, 0, 0));
    OK(pc_rpush(c, K("l"), elems, 3, NULL));
    OK(pc_hset(c, K("h"), f, elems, 2, NULL));
    OK(pc_sadd(c, K("z"), elems, 3, NULL));
    OK(pc_qpush(c, K("q"), elems, 3, NULL));
    OK(pc_set(c, K("e"), &e, 1000000, 0));
}

/* ---- NULL clients and reads ---- */

/* Every read call on r (NULL, or a read already ended) returns PC_EINVAL. */
static void reads_refused(pc_read *r)
{
    pc_val v = pc_int(1), out[2];
    pc_bytes kb = pc_b("k", 1), fb[2];
    pc_cursor cur = PC_CURSOR_INIT;
    uint64_t u;
    int64_t i64, at;
    int ii;
    size_t n;
    pc_type ty;

    RC(PC_EINVAL, pc_read_renew(r));
    RC(PC_EINVAL, pc_get(r, K("k"), out));
    RC(PC_EINVAL, pc_mget(r, &kb, 1, out, &n));
    RC(PC_EINVAL, pc_type_of(r, K("k"), &ty));
    RC(PC_EINVAL, pc_exists(r, K("k"), &ii));
    RC(PC_EINVAL, pc_ttl(r, K("k"), &i64));
    RC(PC_EINVAL, pc_ttl_sec(r, K("k"), &i64));
    RC(PC_EINVAL, pc_version(r, K("k"), &u));
    RC(PC_EINVAL, pc_strlen(r, K("k"), &u));
    RC(PC_EINVAL, pc_getrange(r, K("k"), 0, -1, out));
    RC(PC_EINVAL, pc_llen(r, K("k"), &u));
    RC(PC_EINVAL, pc_lindex(r, K("k"), 0, out));
    RC(PC_EINVAL, pc_lrange(r, K("k"), 0, -1, out, 2, &n));
    RC(PC_EINVAL, pc_qlen(r, K("k"), &u));
    RC(PC_EINVAL, pc_qpeek(r, K("k"), out));
    RC(PC_EINVAL, pc_qrange(r, K("k"), 0, -1, out, 2, &n));
    RC(PC_EINVAL, pc_hget(r, K("k"), K("f"), out));
    RC(PC_EINVAL, pc_hmget(r, K("k"), &kb, 1, out));
    RC(PC_EINVAL, pc_hlen(r, K("k"), &u));
    RC(PC_EINVAL, pc_hexists(r, K("k"), K("f"), &ii));
    RC(PC_EINVAL, pc_hscan(r, K("k"), &cur, fb, out, 2, &n));
    RC(PC_EINVAL, pc_scard(r, K("k"), &u));
    RC(PC_EINVAL, pc_sismember(r, K("k"), &v, &ii));
    RC(PC_EINVAL, pc_sscan(r, K("k"), &cur, out, 2, &n));
    RC(PC_EINVAL, pc_sunion(r, &kb, 1, &cur, out, 2, &n));
    RC(PC_EINVAL, pc_sinter(r, &kb, 1, &cur, out, 2, &n));
    RC(PC_EINVAL, pc_sdiff(r, &kb, 1, &cur, out, 2, &n));
    RC(PC_EINVAL, pc_scan(r, NULL, &cur, fb, 2, &n));
    RC(PC_EINVAL, pc_expired_count(r, &u));
    RC(PC_EINVAL, pc_expiry_scan(r, NULL, &cur, fb, &at, 2, &n));
    pc_read_end(r); /* ignored */
}

/*
 * Every call that takes a client returns PC_EINVAL for NULL and changes
 * nothing: the way pycache.h tells a program to guard against using a client
 * after pc_close() (set the pointer to NULL).  The calls that return nothing
 * ignore NULL.
 */
static void test_null_client(void **state)
{
    (void)state;
    pc_client *c = NULL;
    pc_val v = pc_int(1), out[2];
    pc_bytes kb = pc_b("k", 1), f = pc_b("f", 1);
    uint64_t u;
    int64_t i64;
    double d;
    int ii;
    size_t n, total;
    pc_store_info info;
    pc_stats st;
    pc_snapshot_info si;
    pc_client_info ci[2];
    pc_read *r = NULL;

    RC(PC_EINVAL, pc_set(c, K("k"), &v, 0, 0));
    RC(PC_EINVAL, pc_set_sec(c, K("k"), &v, 0, 0));
    RC(PC_EINVAL, pc_set_coll(c, K("k"), PC_T_LIST, &v, 1, 0, 0));
    RC(PC_EINVAL, pc_mset(c, &kb, &v, 1));
    RC(PC_EINVAL, pc_del(c, K("k"), &ii));
    RC(PC_EINVAL, pc_expire(c, K("k"), 1000, &ii));
    RC(PC_EINVAL, pc_expire_sec(c, K("k"), 1, &ii));
    RC(PC_EINVAL, pc_persist(c, K("k"), &ii));
    RC(PC_EINVAL, pc_getset(c, K("k"), &v, out));
    RC(PC_EINVAL, pc_append(c, K("k"), "x", 1, &u));
    RC(PC_EINVAL, pc_setrange(c, K("k"), 0, "x", 1, &u));
    RC(PC_EINVAL, pc_incrby(c, K("k"), 1, &i64));
    RC(PC_EINVAL, pc_incrbyfloat(c, K("k"), 1.0, &d));
    RC(PC_EINVAL, pc_lpush(c, K("k"), &v, 1, &u));
    RC(PC_EINVAL, pc_rpush(c, K("k"), &v, 1, &u));
    RC(PC_EINVAL, pc_lpop(c, K("k"), 1, out, &n));
    RC(PC_EINVAL, pc_rpop(c, K("k"), 1, out, &n));
    RC(PC_EINVAL, pc_lset(c, K("k"), 0, &v));
    RC(PC_EINVAL, pc_ltrim(c, K("k"), 0, 1));
    RC(PC_EINVAL, pc_lrem(c, K("k"), 0, &v, &u));
    RC(PC_EINVAL, pc_qpush(c, K("k"), &v, 1, &u));
    RC(PC_EINVAL, pc_qpop(c, K("k"), 1, out, &n));
    RC(PC_EINVAL, pc_qpop_wait(c, K("k"), 1, 10, out, &n));
    RC(PC_EINVAL, pc_hset(c, K("k"), &f, &v, 1, &u));
    RC(PC_EINVAL, pc_hdel(c, K("k"), &f, 1, &u));
    RC(PC_EINVAL, pc_hincrby(c, K("k"), K("f"), 1, &i64));
    RC(PC_EINVAL, pc_hincrbyfloat(c, K("k"), K("f"), 1.0, &d));
    RC(PC_EINVAL, pc_sadd(c, K("k"), &v, 1, &u));
    RC(PC_EINVAL, pc_srem(c, K("k"), &v, 1, &u));
    RC(PC_EINVAL, pc_spop(c, K("k"), 1, out, &n));
    RC(PC_EINVAL, pc_flush(c));
    RC(PC_EINVAL, pc_batch_begin(c));
    RC(PC_EINVAL, pc_batch_exec(c, NULL, 0));
    RC(PC_EINVAL, pc_txn_begin(c));
    RC(PC_EINVAL, pc_txn_require_absent(c, K("k")));
    RC(PC_EINVAL, pc_txn_require_version(c, K("k"), 1));
    RC(PC_EINVAL, pc_txn_commit(c, NULL));
    RC(PC_EINVAL, pc_read_begin(c, &r));
    RC(PC_EINVAL, pc_store_info_get(c, &info));
    RC(PC_EINVAL, pc_purge_expired(c, &u));
    RC(PC_EINVAL, pc_set_expire_interval(c, 100));
    RC(PC_EINVAL, pc_set_expire_interval(c, 3600001));
    RC(PC_EINVAL, pc_stats_get(c, &st));
    RC(PC_EINVAL, pc_snapshot(c, &si));
    RC(PC_EINVAL, pc_clients(c, ci, 2, &n, &total));
    RC(PC_EINVAL, pc_clients(c, NULL, 2, NULL, NULL));
    assert_null(r);
    assert_int_equal(pc_pending(c), 0);
    pc_discard(c);
    pc_close(c);

    reads_refused(NULL);
}

/*
 * pc_read_end() leaves the handle valid but ended until the client closes:
 * every read call on it returns PC_EINVAL (and does not touch the store), as
 * pycache.h says.  valgrind-units.sh runs this under memcheck.
 */
static void test_ended_read(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v"), out;
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    pc_read *r = pt_rd(t->c);
    OK(pc_get(r, K("k"), &out));
    pc_read_end(r);
    reads_refused(r);
    pc_read_end(r);  /* twice is harmless */
    r = pt_rd(t->c); /* a new read on the same client works */
    OK(pc_get(r, K("k"), &out));
    VAL_EQ(out, S("v"));
    pc_read_end(r);
}

/* ---- keys of 0 and 251 bytes, and a NULL key, on every call ---- */

static void bad_key_writes(const char *file, int line, pc_client *c, const void *k, size_t kl)
{
    pc_val v = pc_int(1), out[2];
    pc_bytes f = pc_b("f", 1), kb = pc_b(k, kl);
    uint64_t u;
    int64_t i64;
    double d;
    int ii;
    size_t n;
#define BK(call) pt_check_rc(file, line, #call, (call), PC_EKEY)
    BK(pc_set(c, k, kl, &v, 0, 0));
    BK(pc_set_sec(c, k, kl, &v, 10, 0));
    BK(pc_set_coll(c, k, kl, PC_T_SET, &v, 1, 0, 0));
    BK(pc_mset(c, &kb, &v, 1));
    BK(pc_del(c, k, kl, &ii));
    BK(pc_expire(c, k, kl, 1000, &ii));
    BK(pc_expire_sec(c, k, kl, 1, &ii));
    BK(pc_persist(c, k, kl, &ii));
    BK(pc_getset(c, k, kl, &v, out));
    BK(pc_append(c, k, kl, "x", 1, &u));
    BK(pc_setrange(c, k, kl, 0, "x", 1, &u));
    BK(pc_incrby(c, k, kl, 1, &i64));
    BK(pc_incrbyfloat(c, k, kl, 1.0, &d));
    BK(pc_lpush(c, k, kl, &v, 1, &u));
    BK(pc_rpush(c, k, kl, &v, 1, &u));
    BK(pc_lpop(c, k, kl, 1, out, &n));
    BK(pc_rpop(c, k, kl, 1, out, &n));
    BK(pc_lset(c, k, kl, 0, &v));
    BK(pc_ltrim(c, k, kl, 0, 1));
    BK(pc_lrem(c, k, kl, 0, &v, &u));
    BK(pc_qpush(c, k, kl, &v, 1, &u));
    BK(pc_qpop(c, k, kl, 1, out, &n));
    BK(pc_hset(c, k, kl, &f, &v, 1, &u));
    BK(pc_hdel(c, k, kl, &f, 1, &u));
    BK(pc_hincrby(c, k, kl, K("f"), 1, &i64));
    BK(pc_hincrbyfloat(c, k, kl, K("f"), 1.0, &d));
    BK(pc_sadd(c, k, kl, &v, 1, &u));
    BK(pc_srem(c, k, kl, &v, 1, &u));
    BK(pc_spop(c, k, kl, 1, out, &n));
}

static void bad_key_reads(const char *file, int line, pc_read *r, const void *k, size_t kl)
{
    pc_val v = pc_int(1), out[2];
    pc_bytes f = pc_b("f", 1), kb[] = {pc_b("s", 1), pc_b(k, kl)},
             zb[] = {pc_b("z", 1), pc_b(k, kl)};
    uint64_t u;
    int64_t i64;
    int ii;
    size_t n;
    pc_type ty;
    pc_cursor cur = PC_CURSOR_INIT;
    BK(pc_get(r, k, kl, out));
    BK(pc_mget(r, kb, 2, out, &n));
    BK(pc_type_of(r, k, kl, &ty));
    BK(pc_exists(r, k, kl, &ii));
    BK(pc_ttl(r, k, kl, &i64));
    BK(pc_ttl_sec(r, k, kl, &i64));
    BK(pc_version(r, k, kl, &u));
    BK(pc_strlen(r, k, kl, &u));
    BK(pc_getrange(r, k, kl, 0, -1, out));
    BK(pc_llen(r, k, kl, &u));
    BK(pc_lindex(r, k, kl, 0, out));
    BK(pc_lrange(r, k, kl, 0, -1, out, 2, &n));
    BK(pc_qlen(r, k, kl, &u));
    BK(pc_qpeek(r, k, kl, out));
    BK(pc_qrange(r, k, kl, 0, -1, out, 2, &n));
    BK(pc_hget(r, k, kl, K("f"), out));
    BK(pc_hmget(r, k, kl, &f, 1, out));
    BK(pc_hlen(r, k, kl, &u));
    BK(pc_hexists(r, k, kl, K("f"), &ii));
    BK(pc_hscan(r, k, kl, &cur, &f, out, 1, &n));
    BK(pc_scard(r, k, kl, &u));
    BK(pc_sismember(r, k, kl, &v, &ii));
    BK(pc_sscan(r, k, kl, &cur, out, 2, &n));
    cur = (pc_cursor)PC_CURSOR_INIT;
    BK(pc_sunion(r, zb, 2, &cur, out, 2, &n));
    cur = (pc_cursor)PC_CURSOR_INIT;
    BK(pc_sinter(r, zb, 2, &cur, out, 2, &n));
    cur = (pc_cursor)PC_CURSOR_INIT;
    BK(pc_sdiff(r, zb, 2, &cur, out, 2, &n));
#undef BK
}

static void test_bad_keys(void **state)
{
    pt_store *t = *state;
    populate(t->c);
    char *before = dump(t->c, true);
    static char k251[PC_KEY_MAX + 1];
    memset(k251, 'k', sizeof k251);
    const struct {
        const void *k;
        size_t kl;
    } bad[] = {{"", 0}, {"k", 0}, {k251, PC_KEY_MAX + 1}, {NULL, 3}, {NULL, 0}};

    for (size_t i = 0; i < NELEM(bad); i++) {
        bad_key_writes(__FILE__, __LINE__, t->c, bad[i].k, bad[i].kl);
        pc_read *r = pt_rd(t->c);
        bad_key_reads(__FILE__, __LINE__, r, bad[i].k, bad[i].kl);
        pc_read_end(r);

        /* queued in a batch and a transaction: refused at once, not queued */
        OK(pc_batch_begin(t->c));
        bad_key_writes(__FILE__, __LINE__, t->c, bad[i].k, bad[i].kl);
        assert_int_equal(pc_pending(t->c), 0);
        OK(pc_batch_exec(t->c, NULL, 0));
        OK(pc_txn_begin(t->c));
        bad_key_writes(__FILE__, __LINE__, t->c, bad[i].k, bad[i].kl);
        RC(PC_EKEY, pc_txn_require_absent(t->c, bad[i].k, bad[i].kl));
        RC(PC_EKEY, pc_txn_require_version(t->c, bad[i].k, bad[i].kl, 1));
        assert_int_equal(pc_pending(t->c), 0);
        /* a refused write spoils the transaction: the commit says so */
        RC(PC_EKEY, pc_txn_commit(t->c, NULL));
    }
    UNCHANGED(t->c, before);
    free(before);

    /* 250 bytes is fine */
    pc_val v = S("ok");
    OK(pc_set(t->c, k251, PC_KEY_MAX, &v, 0, 0));
    pt_check_get(__FILE__, __LINE__, t->c, k251, PC_KEY_MAX, S("ok"));
}

/* ---- values over the maximum ---- */

static void test_too_big(void **state)
{
    pt_store *t = *state;
    populate(t->c);
    char *before = dump(t->c, true);
    static char big[PT_SMALL_MAX + 1];
    memset(big, 'B', sizeof big);
    pc_val bv = pc_mem(big, sizeof big), one = pc_int(1), out;
    pc_bytes bf = pc_b(big, sizeof big), f = pc_b("f", 1), kb = pc_b("new", 3);
    uint64_t u;
    int64_t i64;
    double d;

    RC(PC_ETOOBIG, pc_set(t->c, K("s"), &bv, 0, 0));
    RC(PC_ETOOBIG, pc_set(t->c, K("new"), &bv, 0, 0));
    RC(PC_ETOOBIG, pc_set_sec(t->c, K("new"), &bv, 10, 0));
    RC(PC_ETOOBIG, pc_getset(t->c, K("s"), &bv, &out));
    RC(PC_ETOOBIG, pc_mset(t->c, &kb, &bv, 1));
    RC(PC_ETOOBIG, pc_append(t->c, K("s"), big, sizeof big, &u));
    RC(PC_ETOOBIG, pc_append(t->c, K("s"), big, PT_SMALL_MAX - 2, &u)); /* s is "str" */
    RC(PC_ETOOBIG, pc_setrange(t->c, K("s"), 0, big, sizeof big, &u));
    RC(PC_ETOOBIG, pc_setrange(t->c, K("s"), PT_SMALL_MAX, "x", 1, &u));
    RC(PC_ETOOBIG, pc_lpush(t->c, K("l"), &bv, 1, &u));
    RC(PC_ETOOBIG, pc_rpush(t->c, K("l"), (pc_val[]){one, bv}, 2, &u));
    RC(PC_ETOOBIG, pc_lset(t->c, K("l"), 0, &bv));
    RC(PC_ETOOBIG, pc_qpush(t->c, K("q"), &bv, 1, &u));
    RC(PC_ETOOBIG, pc_hset(t->c, K("h"), &f, &bv, 1, &u));
    RC(PC_ETOOBIG, pc_hset(t->c, K("h"), &bf, &one, 1, &u));
    RC(PC_ETOOBIG, pc_hincrby(t->c, K("h"), big, sizeof big, 1, &i64));
    RC(PC_ETOOBIG, pc_hincrbyfloat(t->c, K("h"), big, sizeof big, 1, &d));
    RC(PC_ETOOBIG, pc_sadd(t->c, K("z"), &bv, 1, &u));
    RC(PC_ETOOBIG, pc_set_coll(t->c, K("l"), PC_T_LIST, &bv, 1, 0, 0));
    RC(PC_ETOOBIG, pc_set_coll(t->c, K("z"), PC_T_SET, &bv, 1, 0, 0));
    pc_val mi[] = {bv, one}, mv[] = {S("f"), bv};
    RC(PC_ETOOBIG, pc_set_coll(t->c, K("h"), PC_T_MAP, mi, 2, 0, 0));
    RC(PC_ETOOBIG, pc_set_coll(t->c, K("h"), PC_T_MAP, mv, 2, 0, 0));
    /* in a batch too */
    OK(pc_batch_begin(t->c));
    RC(PC_ETOOBIG, pc_set(t->c, K("s"), &bv, 0, 0));
    RC(PC_ETOOBIG, pc_rpush(t->c, K("l"), &bv, 1, &u));
    assert_int_equal(pc_pending(t->c), 0);
    OK(pc_batch_exec(t->c, NULL, 0));
    UNCHANGED(t->c, before);
    free(before);

    /* exactly the maximum fits everywhere */
    pc_val mx = pc_mem(big, PT_SMALL_MAX);
    pc_bytes mf = pc_b(big, PT_SMALL_MAX);
    OK(pc_set(t->c, K("s"), &mx, 0, 0));
    OK(pc_rpush(t->c, K("l"), &mx, 1, &u));
    OK(pc_hset(t->c, K("h"), &mf, &mx, 1, &u));
    OK(pc_sadd(t->c, K("z"), &mx, 1, &u));
    pc_read *r = pt_rd(t->c);
    int ex = 0;
    OK(pc_sismember(r, K("z"), &mx, &ex));
    assert_int_equal(ex, 1);
    OK(pc_hget(r, K("h"), big, PT_SMALL_MAX, &out));
    VAL_EQ(out, mx);
    pc_read_end(r);
}

/* ---- wrong types: every pair ---- */

/* A representative write and read for each type; 0 when the op suits key. */
static int write_as(pc_client *c, pc_type as, const char *key)
{
    pc_val one = pc_int(1);
    pc_bytes f = pc_b("f", 1);
    switch (as) {
    case PC_T_STRING:
        return pc_append(c, K(key), "x", 1, NULL);
    case PC_T_NUMERIC:
        return pc_incrby(c, K(key), 1, NULL);
    case PC_T_LIST:
        return pc_rpush(c, K(key), &one, 1, NULL);
    case PC_T_MAP:
        return pc_hset(c, K(key), &f, &one, 1, NULL);
    case PC_T_SET:
        return pc_sadd(c, K(key), &one, 1, NULL);
    default:
        return pc_qpush(c, K(key), &one, 1, NULL);
    }
}

static int read_as(pc_read *r, pc_type as, const char *key)
{
    uint64_t u;
    pc_val out;
    switch (as) {
    case PC_T_STRING:
        return pc_strlen(r, K(key), &u);
    case PC_T_NUMERIC:
        return pc_get(r, K(key), &out);
    case PC_T_LIST:
        return pc_llen(r, K(key), &u);
    case PC_T_MAP:
        return pc_hlen(r, K(key), &u);
    case PC_T_SET:
        return pc_scard(r, K(key), &u);
    default:
        return pc_qlen(r, K(key), &u);
    }
}

static void test_wrong_type_matrix(void **state)
{
    pt_store *t = *state;
    populate(t->c);
    const char *const keys[] = {NULL, "s", "n", "l", "h", "z", "q"};
    char *before = dump(t->c, true);
    for (int held = PC_T_STRING; held <= PC_T_QUEUE; held++) {
        for (int as = PC_T_STRING; as <= PC_T_QUEUE; as++) {
            if (as == held)
                continue;
            int rc = write_as(t->c, (pc_type)as, keys[held]);
            /* a counter reads a String as a number, and "str" is none */
            int wwant = as == PC_T_NUMERIC && held == PC_T_STRING ? PC_ENOTINT : PC_EWRONGTYPE;
            if (rc != wwant)
                fail_msg("a %s write on a %s returned %s, expected %s", pc_type_name((pc_type)as),
                         pc_type_name((pc_type)held), pc_err_name(rc), pc_err_name(wwant));
            pc_read *r = pt_rd(t->c);
            rc = read_as(r, (pc_type)as, keys[held]);
            pc_read_end(r);
            /* pc_get reads Strings and Numerics alike */
            int want = as == PC_T_NUMERIC && held == PC_T_STRING ? 0 : PC_EWRONGTYPE;
            if (rc != want)
                fail_msg("a %s read on a %s returned %s, expected %s", pc_type_name((pc_type)as),
                         pc_type_name((pc_type)held), pc_err_name(rc), pc_err_name(want));
        }
    }
    UNCHANGED(t->c, before);
    free(before);
}

/* ---- NaN, overflow, TTLs, flags, kinds ---- */

static void test_nan_and_overflow(void **state)
{
    pt_store *t = *state;
    populate(t->c);
    pc_val big = pc_int(INT64_MAX), dmax = pc_dbl(DBL_MAX);
    pc_bytes fb[] = {pc_b("big", 3), pc_b("dmax", 4)};
    pc_val fv[] = {big, dmax};
    OK(pc_set(t->c, K("big"), &big, 0, 0));
    OK(pc_set(t->c, K("dmax"), &dmax, 0, 0));
    OK(pc_hset(t->c, K("h"), fb, fv, 2, NULL));
    char *before = dump(t->c, true);

    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < NELEM(bad); i++) {
        pc_val v = pc_dbl(bad[i]), out;
        pc_bytes f = pc_b("f", 1), kb = pc_b("new", 3);
        pc_val two[] = {pc_int(1), v};
        RC(PC_ENAN, pc_set(t->c, K("n"), &v, 0, 0));
        RC(PC_ENAN, pc_set(t->c, K("new"), &v, 0, 0));
        RC(PC_ENAN, pc_getset(t->c, K("n"), &v, &out));
        RC(PC_ENAN, pc_mset(t->c, &kb, &v, 1));
        RC(PC_ENAN, pc_incrbyfloat(t->c, K("n"), bad[i], NULL));
        RC(PC_ENAN, pc_incrbyfloat(t->c, K("new"), bad[i], NULL));
        RC(PC_ENAN, pc_hincrbyfloat(t->c, K("h"), K("f"), bad[i], NULL));
        RC(PC_ENAN, pc_rpush(t->c, K("l"), two, 2, NULL));
        RC(PC_ENAN, pc_lpush(t->c, K("l"), &v, 1, NULL));
        RC(PC_ENAN, pc_lset(t->c, K("l"), 0, &v));
        RC(PC_ENAN, pc_qpush(t->c, K("q"), &v, 1, NULL));
        RC(PC_ENAN, pc_hset(t->c, K("h"), &f, &v, 1, NULL));
        RC(PC_ENAN, pc_sadd(t->c, K("z"), two, 2, NULL));
        RC(PC_ENAN, pc_set_coll(t->c, K("l"), PC_T_LIST, two, 2, 0, 0));
        pc_val mi[] = {S("f"), v};
        RC(PC_ENAN, pc_set_coll(t->c, K("h"), PC_T_MAP, mi, 2, 0, 0));
    }
    RC(PC_EOVERFLOW, pc_incrby(t->c, K("big"), 1, NULL));
    RC(PC_EOVERFLOW, pc_hincrby(t->c, K("h"), K("big"), 1, NULL));
    RC(PC_ENAN, pc_incrbyfloat(t->c, K("dmax"), DBL_MAX, NULL));
    RC(PC_ENAN, pc_hincrbyfloat(t->c, K("h"), K("dmax"), DBL_MAX, NULL));
    RC(PC_ENOTINT, pc_incrby(t->c, K("dmax"), 1, NULL));
    RC(PC_ENOTINT, pc_hincrby(t->c, K("h"), K("dmax"), 1, NULL));
    RC(PC_ENOTNUM, pc_hincrbyfloat(t->c, K("h"), K("g"), 1, NULL)); /* g holds "two" */
    UNCHANGED(t->c, before);
    free(before);
}

static void test_ttl_and_flags(void **state)
{
    pt_store *t = *state;
    populate(t->c);
    char *before = dump(t->c, true);
    pc_val v = S("v"), one = pc_int(1);
    int set;

    const int64_t bad_ms[] = {-1, INT64_MIN, PC_TTL_MAX_MS + 1, INT64_MAX};
    for (size_t i = 0; i < NELEM(bad_ms); i++) {
        RC(PC_EINVAL, pc_set(t->c, K("s"), &v, bad_ms[i], 0));
        RC(PC_EINVAL, pc_set(t->c, K("new"), &v, bad_ms[i], 0));
        RC(PC_EINVAL, pc_set_coll(t->c, K("l"), PC_T_LIST, &one, 1, bad_ms[i], 0));
        RC(PC_EINVAL, pc_expire(t->c, K("s"), bad_ms[i], &set));
        RC(PC_EINVAL, pc_expire(t->c, K("new"), bad_ms[i], &set));
    }
    RC(PC_EINVAL, pc_expire(t->c, K("s"), 0, &set));
    RC(PC_EINVAL, pc_expire(t->c, K("e"), 0, &set));
    const int64_t bad_s[] = {-1, INT64_MIN, PC_TTL_MAX_MS / 1000 + 1, INT64_MAX};
    for (size_t i = 0; i < NELEM(bad_s); i++) {
        RC(PC_EINVAL, pc_set_sec(t->c, K("s"), &v, bad_s[i], 0));
        RC(PC_EINVAL, pc_expire_sec(t->c, K("s"), bad_s[i], &set));
    }
    RC(PC_EINVAL, pc_expire_sec(t->c, K("s"), 0, &set));

    /* flags */
    RC(PC_EINVAL, pc_set(t->c, K("s"), &v, 0, PC_NX | PC_XX));
    RC(PC_EINVAL, pc_set(t->c, K("new"), &v, 0, PC_NX | PC_XX));
    RC(PC_EINVAL, pc_set(t->c, K("e"), &v, 1000, PC_KEEPTTL));
    RC(PC_EINVAL, pc_set(t->c, K("s"), &v, 0, 1u << 7));
    RC(PC_EINVAL, pc_set(t->c, K("s"), &v, 0, ~0u));
    RC(PC_EINVAL, pc_set_sec(t->c, K("e"), &v, 10, PC_KEEPTTL));
    RC(PC_EINVAL, pc_set_coll(t->c, K("l"), PC_T_LIST, &one, 1, 0, PC_NX | PC_XX));
    RC(PC_EINVAL, pc_set_coll(t->c, K("l"), PC_T_LIST, &one, 1, 1000, PC_KEEPTTL));
    RC(PC_EINVAL, pc_set_coll(t->c, K("l"), PC_T_LIST, &one, 1, 0, 1u << 9));

    /* kinds and types that a call does not take */
    pc_val none = {.kind = PC_NONE}, nil = pc_nil(), b = pc_bool(true), odd = {.kind = 77};
    RC(PC_EINVAL, pc_set(t->c, K("s"), &nil, 0, 0));
    RC(PC_EINVAL, pc_set(t->c, K("s"), &b, 0, 0));
    RC(PC_EINVAL, pc_set(t->c, K("s"), &none, 0, 0));
    RC(PC_EINVAL, pc_set(t->c, K("s"), &odd, 0, 0));
    RC(PC_EINVAL, pc_getset(t->c, K("s"), &b, NULL));
    RC(PC_EINVAL, pc_rpush(t->c, K("l"), &none, 1, NULL));
    RC(PC_EINVAL, pc_rpush(t->c, K("l"), &odd, 1, NULL));
    RC(PC_EINVAL, pc_sadd(t->c, K("z"), &none, 1, NULL));
    RC(PC_EINVAL, pc_set_coll(t->c, K("l"), PC_T_STRING, &one, 1, 0, 0));
    RC(PC_EINVAL, pc_set_coll(t->c, K("l"), PC_T_NONE, &one, 1, 0, 0));
    RC(PC_EINVAL, pc_set_coll(t->c, K("l"), (pc_type)99, &one, 1, 0, 0));
    RC(PC_EINVAL, pc_set(t->c, K("s"), NULL, 0, 0));
    RC(PC_EINVAL, pc_append(t->c, K("s"), NULL, 3, NULL));
    pc_val nullbytes = pc_mem(NULL, 4);
    RC(PC_EINVAL, pc_set(t->c, K("s"), &nullbytes, 0, 0));
    RC(PC_EINVAL, pc_rpush(t->c, K("l"), &nullbytes, 1, NULL));
    RC(PC_EINVAL, pc_lpop(t->c, K("l"), 1, NULL, NULL));
    UNCHANGED(t->c, before);
    free(before);
}

/* ---- reads ---- */

static void test_read_busy(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v"), w = S("w"), out;
    OK(pc_set(t->c, K("k"), &v, 0, 0));

    pc_read *r = pt_rd(t->c), *r2 = NULL;
    RC(PC_EBUSY, pc_read_begin(t->c, &r2));
    OK(pc_get(r, K("k"), &out)); /* the first read still works */
    VAL_EQ(out, S("v"));

    /* a write while the read is open; renew sees it */
    OK(pc_set(t->c, K("k"), &w, 0, 0));
    OK(pc_get(r, K("k"), &out));
    VAL_EQ(out, S("v"));
    OK(pc_read_renew(r));
    OK(pc_get(r, K("k"), &out));
    VAL_EQ(out, S("w"));
    pc_read_end(r);

    /* an ended read refuses calls; a new one can begin */
    RC(PC_EINVAL, pc_get(r, K("k"), &out));
    RC(PC_EINVAL, pc_read_renew(r));
    pc_read_end(r); /* twice is harmless */
    OK(pc_read_begin(t->c, &r2));
    RC(PC_EBUSY, pc_read_begin(t->c, &r));
    pc_read_end(r2);

    /* another client has its own read */
    pc_client *c2 = pt_store_client2(t);
    r = pt_rd(t->c);
    r2 = pt_rd(c2);
    OK(pc_get(r2, K("k"), &out));
    VAL_EQ(out, S("w"));
    pc_read_end(r2);
    pc_read_end(r);
    pc_close(c2);
}

/* ---- fork ---- */

static void test_fork(void **state)
{
    pt_store *t = *state;
    pc_val v = S("parent"), out;
    OK(pc_set(t->c, K("k"), &v, 0, 0));
    pc_read *r = pt_rd(t->c);
    OK(pc_get(r, K("k"), &out));

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int st = 0;
        pc_read *r2 = NULL;
        pc_val cv = S("child");
        if (pc_get(r, K("k"), &out) != PC_EFORK)
            st |= 1;
        if (pc_set(t->c, K("child"), &cv, 0, 0) != PC_EFORK)
            st |= 2;
        if (pc_read_begin(t->c, &r2) != PC_EFORK)
            st |= 4;
        if (pc_batch_begin(t->c) != PC_EFORK || pc_txn_begin(t->c) != PC_EFORK)
            st |= 8;
        if (pc_del(t->c, K("k"), NULL) != PC_EFORK)
            st |= 16;
        /* a set operation over no keys too: it touches nothing */
        pc_cursor cur = PC_CURSOR_INIT;
        size_t n = 9;
        if (pc_sunion(r, NULL, 0, &cur, NULL, 0, &n) != PC_EFORK || cur.done)
            st |= 128;
        /* the child opens its own client */
        pc_client *cc = NULL;
        if (pc_connect(t->dir, &t->o, &cc) != 0)
            st |= 32;
        else if (pc_set(cc, K("fromchild"), &cv, 0, 0) != 0)
            st |= 64;
        pc_close(cc);
        pc_close(t->c); /* frees only the child's memory */
        _exit(st);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status))
        fail_msg("child failed checks: mask %#x (1 get, 2 set, 4 read_begin, 8 batch/txn, "
                 "16 del, 32 connect, 64 own set, 128 sunion)",
                 WEXITSTATUS(status));

    /* the parent's read and client still work */
    OK(pc_get(r, K("k"), &out));
    VAL_EQ(out, S("parent"));
    pc_read_end(r);
    MISSING(t->c, "child");
    GET_IS(t->c, "k", S("parent"));
    GET_IS(t->c, "fromchild", S("child"));
    pc_val p2 = S("again");
    OK(pc_set(t->c, K("k"), &p2, 0, 0));
    GET_IS(t->c, "k", S("again"));
}

/* ---- error names and messages ---- */

static void test_error_names(void **state)
{
    (void)state;
    static const int all[] = {
#define ERR_VAL(name, val, msg) val,
        PC_ERRNO_MAP(ERR_VAL)
#undef ERR_VAL
    };
#define ERR_CHECK(name, val, msg)                       \
    assert_int_equal(PC_##name, val);                   \
    assert_string_equal(pc_err_name(val), "PC_" #name); \
    assert_string_equal(pc_strerror(val), msg);
    PC_ERRNO_MAP(ERR_CHECK)
#undef ERR_CHECK
    /* distinct, negative; errno mirrors are -errno, our own below -31000 */
    for (size_t i = 0; i < NELEM(all); i++) {
        assert_true(all[i] < 0);
        for (size_t j = i + 1; j < NELEM(all); j++)
            assert_int_not_equal(all[i], all[j]);
        assert_true(all[i] > -4096 || all[i] <= -31000);
    }
    assert_int_equal(PC_ENOMEM, -ENOMEM);
    assert_int_equal(PC_EINVAL, -EINVAL);
    assert_int_equal(PC_EAGAIN, -EAGAIN);
    assert_int_equal(PC_EBUSY, -EBUSY);
    assert_int_equal(PC_EACCES, -EACCES);
    assert_int_equal(PC_EIO, -EIO);
    assert_int_equal(PC_ENOSPC, -ENOSPC);
    assert_int_equal(PC_ENOENT, -ENOENT);
    assert_int_equal(PC_ENOTSUP, -ENOTSUP);
    assert_int_equal(PC_ECONNREFUSED, -ECONNREFUSED);
    assert_int_equal(PC_EPROTO, -EPROTO);

    /* unknown codes */
    const int unknown[] = {1, 12345, -99999, -31000, -31999, INT_MIN, INT_MAX, -EPERM, -4095};
    for (size_t i = 0; i < NELEM(unknown); i++) {
        assert_string_equal(pc_err_name(unknown[i]), "PC_E?");
        const char *m = pc_strerror(unknown[i]);
        assert_non_null(m);
        assert_true(m[0] != 0);
    }
    /* a -errno outside the table gets the C library's description */
    assert_string_equal(pc_strerror(-EPERM), strerror(EPERM));
    assert_string_equal(pc_strerror(-EROFS), strerror(EROFS));
    assert_non_null(pc_strerror(0));
}

/* ---- pc_connect ---- */

static void test_connect_errors(void **state)
{
    (void)state;
    char base[64], dir[128];
    assert_int_equal(pt_mkdtemp(base, sizeof base, "/tmp", "api"), 0);
    snprintf(dir, sizeof dir, "%s/missing", base);
    pc_options o;
    pt_store_options(&o, 1, 0);
    o.flags &= ~(unsigned)PC_OPT_CREATE;
    pc_client *c = (pc_client *)&o;
    RC(PC_ENOENT, pc_connect(dir, &o, &c));
    assert_null(c);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), -1); /* nothing created */

    pt_store_options(&o, 1, 0);
    RC(PC_EINVAL, pc_connect(dir, &o, NULL));
    o.flags |= 1u << 20;
    RC(PC_EINVAL, pc_connect(dir, &o, &c));
    pt_store_options(&o, 65, 0);
    RC(PC_EINVAL, pc_connect(dir, &o, &c));
    assert_int_equal(stat(dir, &sb), -1);

    /* a store keeps the shape it was made with */
    pt_store_options(&o, 2, 8192);
    OK(pc_connect(dir, &o, &c));
    pc_close(c);
    pt_store_options(&o, 5, 100);
    OK(pc_connect(dir, &o, &c));
    pc_store_info info;
    OK(pc_store_info_get(c, &info));
    assert_int_equal(info.shards, 2);
    assert_int_equal(info.max_value, 8192);
    assert_true(info.embedded);
    RC(PC_EINVAL, pc_store_info_get(c, NULL));
    pc_close(c);
    pt_rmtree(base);
}

/* ---- allocation failures ---- */

/*
 * The sequence: connect, set, rpush, hset, sadd, a set union (a read that
 * allocates), a batch, a transaction, close.  Values are large enough and
 * batches long enough that buffers grow, argument arrays are allocated and
 * long fields and members go under a digest.
 */
enum { ST_CONNECT, ST_SET, ST_RPUSH, ST_HSET, ST_SADD, ST_SUNION, ST_BATCH, ST_TXN, ST_N };
enum { NBATCH = 70 };
static const char *const step_names[] = {"pc_connect", "pc_set",    "pc_rpush", "pc_hset",
                                         "pc_sadd",    "pc_sunion", "batch",    "transaction"};
static char big_value[3000], long_field[600], long_member[700];

static void seq_data(void)
{
    for (size_t i = 0; i < sizeof big_value; i++)
        big_value[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof long_field; i++)
        long_field[i] = (char)('A' + i % 23);
    for (size_t i = 0; i < sizeof long_member; i++)
        long_member[i] = (char)('0' + i % 10);
}

/* Queue batch write i: independent of each other (different keys). */
static int batch_op(pc_client *c, int i)
{
    pc_val seven = pc_int(7), four = pc_int(4), m[] = {pc_int(5), pc_int(6)};
    switch (i) {
    case 0:
        return pc_set(c, K("b1"), &seven, 0, 0);
    case 1:
        return pc_rpush(c, K("l"), &four, 1, NULL);
    case 2:
        return pc_del(c, K("s"), NULL);
    case 3:
        return pc_sadd(c, K("z2"), m, 2, NULL);
    default: {
        char k[16];
        pc_val v = pc_int(i);
        snprintf(k, sizeof k, "p%d", i);
        return pc_set(c, K(k), &v, 0, 0);
    }
    }
}

/* The batch step with the writes selected by sel (NULL: all); rcs[i] gets
 * write i's code (0 for those not selected). */
static int run_batch(pc_client *c, const bool *sel, int *rcs)
{
    int idx[NBATCH], q = 0, r[NBATCH];
    for (int i = 0; i < NBATCH; i++)
        rcs[i] = 0;
    int rc = pc_batch_begin(c);
    for (int i = 0; i < NBATCH && !rc; i++) {
        if (sel && !sel[i])
            continue;
        rc = batch_op(c, i);
        idx[q++] = i;
    }
    if (rc) {
        pc_discard(c);
        for (int i = 0; i < NBATCH; i++)
            if (!sel || sel[i])
                rcs[i] = rc;
        return rc;
    }
    for (int j = 0; j < q; j++)
        r[j] = 12345;
    rc = pc_batch_exec(c, r, (size_t)q);
    for (int j = 0; j < q; j++)
        rcs[idx[j]] = r[j];
    return rc;
}

static int run_txn(pc_client *c)
{
    pc_val x = S("x"), tr = pc_bool(true), zero = pc_int(0);
    pc_bytes f3 = pc_b("f3", 2);
    int rc = pc_txn_begin(c);
    if (!rc)
        rc = pc_set(c, K("t1"), &x, 0, 0);
    if (!rc)
        rc = pc_hset(c, K("h"), &f3, &tr, 1, NULL);
    if (!rc)
        rc = pc_incrby(c, K("n"), 5, NULL);
    if (!rc)
        rc = pc_lpush(c, K("l"), &zero, 1, NULL);
    if (rc) {
        pc_discard(c);
        return rc;
    }
    return pc_txn_commit(c, NULL);
}

/* A read step: the union of z and z2 (z2 may be missing). */
static int run_sunion(pc_client *c)
{
    pc_read *r;
    int rc = pc_read_begin(c, &r);
    if (rc)
        return rc;
    pc_bytes keys[] = {pc_b("z", 1), pc_b("z2", 2)};
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val out[8];
    size_t n, total = 0;
    while (!rc && !cur.done) {
        rc = pc_sunion(r, keys, 2, &cur, out, 2, &n);
        total += rc ? 0 : n;
    }
    pc_read_end(r);
    if (!rc && total < 4)
        fail_msg("pc_sunion returned %zu members, expected at least 4", total);
    return rc;
}

static int run_step(pc_client **cp, const char *dir, int step, const bool *sel, int *rcs)
{
    pc_client *c = *cp;
    pc_options o;
    switch (step) {
    case ST_CONNECT:
        pt_store_options(&o, 1, 0);
        return pc_connect(dir, &o, cp);
    case ST_SET: {
        pc_val v = pc_mem(big_value, sizeof big_value);
        return pc_set(c, K("s"), &v, 0, 0);
    }
    case ST_RPUSH: {
        pc_val v[10];
        for (int i = 0; i < 10; i++)
            v[i] = i % 3 ? pc_int(i) : S("element");
        v[9] = pc_mem(big_value, 1500);
        return pc_rpush(c, K("l"), v, 10, NULL);
    }
    case ST_HSET: {
        pc_bytes f[] = {pc_b("f1", 2), pc_b("f2", 2), pc_b(long_field, sizeof long_field)};
        pc_val v[] = {pc_int(1), S("x"), pc_mem(big_value, 1000)};
        return pc_hset(c, K("h"), f, v, 3, NULL);
    }
    case ST_SADD: {
        pc_val m[] = {pc_int(1), S("a"), pc_bool(true), pc_mem(long_member, sizeof long_member)};
        return pc_sadd(c, K("z"), m, 4, NULL);
    }
    case ST_SUNION:
        return run_sunion(c);
    case ST_BATCH:
        return run_batch(c, sel, rcs);
    default:
        return run_txn(c);
    }
}

/* The dump of a fresh store after steps [0, upto), then, when upto is
 * ST_BATCH and sel is not NULL, the batch writes sel selects. */
static char *expected(int upto, const bool *sel)
{
    char dir[64];
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/tmp", "api"), 0);
    pc_client *c = NULL;
    int rcs[NBATCH];
    for (int s = 0; s < upto; s++)
        OK(run_step(&c, dir, s, NULL, rcs));
    if (upto == ST_BATCH && sel)
        OK(run_step(&c, dir, ST_BATCH, sel, rcs));
    char *d;
    if (c) {
        d = dump(c, false);
    } else {
        d = malloc(1);
        assert_non_null(d);
        d[0] = 0;
    }
    pc_close(c);
    pt_rmtree(dir);
    return d;
}

/* Report a problem of one run of the sequence (at most 30 are printed). */
static unsigned nproblems;
static void problem(uint64_t n, const char *fmt, ...)
{
    if (++nproblems > 30)
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("N=%" PRIu64 ": %s\n", n, msg);
}

/*
 * Run the sequence once with the n-th allocation failing.  Returns whether a
 * call failed (*made: allocations made while armed).  A call that fails must
 * fail with PC_ENOMEM, leave the store as the steps before it left it, and
 * succeed when retried; everything is freed by pc_close.  A run stops at its
 * first problem.
 */
static bool alloc_run(uint64_t n, char *const *ref, int64_t live0, uint64_t *made)
{
    char dir[64];
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, "/tmp", "api"), 0);
    pc_client *c = NULL;
    bool hit = false, bad = false;
    uint64_t count0 = pcs_alloc_count();
    pcs_alloc_fail_at(n);
    for (int step = 0; step < ST_N && !bad; step++) {
        int rcs[NBATCH] = {0};
        int rc = run_step(&c, dir, step, NULL, rcs);
        if (rc == 0) {
            for (int i = 0; step == ST_BATCH && i < NBATCH && !bad; i++)
                if (rcs[i]) {
                    problem(n, "batch returned 0 but write %d got %s", i, pc_err_name(rcs[i]));
                    bad = true;
                }
            continue;
        }
        pcs_alloc_fail_at(0);
        hit = true;
        if (rc != PC_ENOMEM) {
            problem(n, "%s returned %s, expected PC_ENOMEM", step_names[step], pc_err_name(rc));
            bad = true;
            break;
        }
        bool done[NBATCH] = {false}, failed[NBATCH] = {false};
        bool partial = false;
        if (step == ST_BATCH) {
            for (int i = 0; i < NBATCH; i++) {
                done[i] = rcs[i] == 0;
                failed[i] = rcs[i] == PC_ENOMEM;
                partial = partial || done[i];
                if (!done[i] && !failed[i] && !bad) {
                    problem(n, "batch returned PC_ENOMEM; its write %d got %s (%d)", i,
                            pc_err_name(rcs[i]), rcs[i]);
                    bad = true;
                }
            }
        }
        if (step == ST_CONNECT) {
            if (c) {
                problem(n, "pc_connect failed but set *out");
                c = NULL;
            }
            OK(run_step(&c, dir, ST_CONNECT, NULL, rcs)); /* the retry */
        }
        /* the store holds what the steps before produced, no more */
        char *want = expected(step, partial ? done : NULL);
        char *got = dump(c, false);
        if (strcmp(want, got)) {
            problem(n, "after %s failed with PC_ENOMEM the store is\n%sbut should be\n%s",
                    step_names[step], got, want);
            bad = true;
        }
        free(want);
        free(got);
        /* the client still works: the failed step succeeds when retried */
        if (!bad && step != ST_CONNECT &&
            (rc = run_step(&c, dir, step, step == ST_BATCH ? failed : NULL, rcs))) {
            problem(n, "retrying %s after PC_ENOMEM returned %s", step_names[step],
                    pc_err_name(rc));
            bad = true;
        }
    }
    *made = pcs_alloc_count() - count0;
    pcs_alloc_fail_at(0);
    if (!bad) {
        char *got = dump(c, false);
        if (strcmp(got, ref[ST_N]))
            problem(n, "final store is\n%sbut should be\n%s", got, ref[ST_N]);
        free(got);
    }
    pc_close(c);
    pt_rmtree(dir);
    if (pcs_alloc_live() != live0)
        problem(n, "%" PRId64 " allocations live after pc_close, expected %" PRId64,
                pcs_alloc_live(), live0);
    return hit;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    seq_data();
    char *ref[ST_N + 1];
    for (int s = 0; s <= ST_N; s++)
        ref[s] = expected(s, NULL);
    /* the reference run changed something at every write step */
    for (int s = ST_SET + 1; s <= ST_N; s++)
        if (s != ST_SUNION + 1)
            assert_string_not_equal(ref[s - 1], ref[s]);

    int64_t live0 = pcs_alloc_live();
    uint64_t n, made = 0;
    unsigned failed_runs = 0;
    nproblems = 0;
    for (n = 1; n < 5000; n++) {
        bool hit = alloc_run(n, ref, live0, &made);
        failed_runs += hit;
        if (!hit && made < n)
            break; /* the N-th allocation was never reached: the sequence is done */
    }
    pcs_alloc_fail_at(0);
    print_message("allocation failure loop: %" PRIu64 " runs, %u with a failed call, %u problems\n",
                  n, failed_runs, nproblems);
    for (int s = 0; s <= ST_N; s++)
        free(ref[s]);
    assert_true(n < 5000);
    assert_true(failed_runs > 0);
    assert_int_equal(nproblems, 0);
}

static int alloc_teardown(void **state)
{
    (void)state;
    pcs_alloc_fail_at(0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_client),
        PT_STORE_TEST(test_bad_keys),
        PT_STORE_TEST_SMALL(test_too_big),
        PT_STORE_TEST(test_wrong_type_matrix),
        PT_STORE_TEST(test_nan_and_overflow),
        PT_STORE_TEST(test_ttl_and_flags),
        PT_STORE_TEST(test_read_busy),
        PT_STORE_TEST(test_ended_read),
        PT_STORE_TEST(test_fork),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_connect_errors),
        cmocka_unit_test_teardown(test_alloc_failures, alloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
