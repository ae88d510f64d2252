/*
 * apitest.h - what the cmocka tests of the public API (tests/unit/test_api_*.c)
 * share: a fresh embedded store in a temporary directory per test, assertions
 * on return codes that name the code, typed value comparisons, and small
 * read helpers that open and end their own pc_read.
 *
 * Everything here is static inline so that each test program uses what it
 * needs without unused-function warnings.
 */
#ifndef APITEST_H
#define APITEST_H

#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pycache.h"

/* The largest value of the stores made by apit_setup_small(). */
#define APIT_SMALL_MAX 4096u
/* Map size of every test store: plenty for what the tests write. */
#define APIT_MAP_SIZE (UINT64_C(64) << 20)

/* A key argument pair from a C string. */
#define K(s) (s), strlen(s)

/* ---- return codes ---- */

static inline void apit_check_rc(const char *file, int line, const char *call, int got, int want)
{
    if (got == want)
        return;
    print_error("%s:%d: %s\n    returned %s (%d: %s), expected %s (%d)\n", file, line, call,
                pc_err_name(got), got, pc_strerror(got), pc_err_name(want), want);
    _fail(file, line);
}

/* Assert that call returns want (a PC_E* code), naming both on failure. */
#define RC(want, call) apit_check_rc(__FILE__, __LINE__, #call, (call), (want))
/* Assert that call returns 0. */
#define OK(call) RC(0, call)

/* ---- values ---- */

static inline const char *apit_kind_name(pc_kind k)
{
    static const char *const names[] = {"NONE", "NIL", "BYTES", "INT", "DOUBLE", "BOOL"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* A short printable form of v, for failure messages. */
static inline const char *apit_val_fmt(char *buf, size_t n, const pc_val *v)
{
    switch (v->kind) {
    case PC_BYTES: {
        size_t w = (size_t)snprintf(buf, n, "BYTES[%zu]\"", v->s.len);
        const unsigned char *p = v->s.ptr;
        for (size_t i = 0; i < v->s.len && w + 8 < n; i++) {
            if (i == 24) {
                w += (size_t)snprintf(buf + w, n - w, "...");
                break;
            }
            if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
                buf[w++] = (char)p[i];
            else
                w += (size_t)snprintf(buf + w, n - w, "\\x%02x", p[i]);
        }
        snprintf(buf + w, n - w, "\"");
        break;
    }
    case PC_INT:
        snprintf(buf, n, "INT %" PRId64, v->i);
        break;
    case PC_DOUBLE:
        snprintf(buf, n, "DOUBLE %.17g", v->d);
        break;
    case PC_BOOL:
        snprintf(buf, n, "BOOL %s", v->b ? "true" : "false");
        break;
    default:
        snprintf(buf, n, "%s", apit_kind_name(v->kind));
        break;
    }
    return buf;
}

/* Same kind and same value (bytes byte by byte, doubles by value). */
static inline bool apit_val_eq(const pc_val *a, const pc_val *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PC_BYTES:
        return a->s.len == b->s.len && (a->s.len == 0 || !memcmp(a->s.ptr, b->s.ptr, a->s.len));
    case PC_INT:
        return a->i == b->i;
    case PC_DOUBLE:
        return a->d == b->d;
    case PC_BOOL:
        return a->b == b->b;
    default:
        return true;
    }
}

static inline void apit_check_val(const char *file, int line, const char *what, pc_val got,
                                  pc_val want)
{
    if (apit_val_eq(&got, &want))
        return;
    char g[160], w[160];
    print_error("%s:%d: %s\n    is %s, expected %s\n", file, line, what,
                apit_val_fmt(g, sizeof g, &got), apit_val_fmt(w, sizeof w, &want));
    _fail(file, line);
}

/* Assert that pc_val got equals pc_val want (kind and value). */
#define VAL_EQ(got, want) apit_check_val(__FILE__, __LINE__, #got, (got), (want))

/* Is v among vals[0..n)? */
static inline bool apit_val_in(const pc_val *v, const pc_val *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (apit_val_eq(v, &vals[i]))
            return true;
    return false;
}

/* ---- a fresh store per test ---- */

typedef struct apit {
    char dir[64];
    pc_options o;
    pc_client *c;
} apit;

static inline int apit_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a directory tree (a test store). */
static inline void apit_rmtree(const char *dir)
{
    nftw(dir, apit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make a temporary directory under /tmp into buf (at least 32 bytes). */
static inline int apit_mkdtemp(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/pcapi-XXXXXX");
    return mkdtemp(buf) ? 0 : -1;
}

/* Options of a test store: embedded, created, no fsync, small map. */
static inline void apit_options(pc_options *o, unsigned shards, uint64_t max_value)
{
    pc_options_init(o);
    o->flags = PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC;
    o->map_size = APIT_MAP_SIZE;
    o->shards = shards;
    o->max_value = max_value;
}

static inline int apit_open(void **state, unsigned shards, uint64_t max_value)
{
    apit *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    if (apit_mkdtemp(t->dir, sizeof t->dir)) {
        free(t);
        return -1;
    }
    apit_options(&t->o, shards, max_value);
    int rc = pc_connect(t->dir, &t->o, &t->c);
    if (rc) {
        print_error("pc_connect(%s): %s\n", t->dir, pc_err_name(rc));
        apit_rmtree(t->dir);
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

/* cmocka setups: a one-shard store with the default largest value, one with
 * a largest value of APIT_SMALL_MAX, and a four-shard store. */
static inline int apit_setup(void **state)
{
    return apit_open(state, 1, 0);
}
static inline int apit_setup_small(void **state)
{
    return apit_open(state, 1, APIT_SMALL_MAX);
}
static inline int apit_setup_shards4(void **state)
{
    return apit_open(state, 4, 0);
}

static inline int apit_teardown(void **state)
{
    apit *t = *state;
    if (!t)
        return 0;
    pc_close(t->c); /* also ends a read a failed test left open */
    apit_rmtree(t->dir);
    free(t);
    *state = NULL;
    return 0;
}

#define APIT_TEST(f) cmocka_unit_test_setup_teardown(f, apit_setup, apit_teardown)
#define APIT_TEST_SMALL(f) cmocka_unit_test_setup_teardown(f, apit_setup_small, apit_teardown)
#define APIT_TEST_SHARDS4(f) cmocka_unit_test_setup_teardown(f, apit_setup_shards4, apit_teardown)

/* A second client on the test's store (another writer). */
static inline pc_client *apit_client2(apit *t)
{
    pc_client *c2 = NULL;
    OK(pc_connect(t->dir, &t->o, &c2));
    return c2;
}

/* Begin a read on c (asserting success). */
static inline pc_read *apit_rd(pc_client *c)
{
    pc_read *r = NULL;
    OK(pc_read_begin(c, &r));
    return r;
}

/* ---- read helpers: each opens and ends its own read ---- */

static inline pc_type apit_type(pc_client *c, const void *key, size_t klen)
{
    pc_read *r = apit_rd(c);
    pc_type t = PC_T_NONE;
    OK(pc_type_of(r, key, klen, &t));
    pc_read_end(r);
    return t;
}

static inline void apit_check_type(const char *file, int line, pc_client *c, const char *key,
                                   pc_type want)
{
    pc_type got = apit_type(c, key, strlen(key));
    if (got == want)
        return;
    print_error("%s:%d: type of \"%s\" is %s, expected %s\n", file, line, key, pc_type_name(got),
                pc_type_name(want));
    _fail(file, line);
}
/* Assert the type of C-string key (PC_T_NONE: missing). */
#define TYPE_IS(c, key, want) apit_check_type(__FILE__, __LINE__, (c), (key), (want))

static inline void apit_check_get(const char *file, int line, pc_client *c, const void *key,
                                  size_t klen, pc_val want)
{
    pc_read *r = apit_rd(c);
    pc_val got;
    memset(&got, 0, sizeof got);
    int rc = pc_get(r, key, klen, &got);
    apit_check_rc(file, line, "pc_get", rc, 0);
    apit_check_val(file, line, "pc_get value", got, want);
    pc_read_end(r);
}
/* Assert that pc_get of C-string key gives want. */
#define GET_IS(c, key, want) apit_check_get(__FILE__, __LINE__, (c), K(key), (want))

static inline void apit_check_missing(const char *file, int line, pc_client *c, const void *key,
                                      size_t klen)
{
    pc_read *r = apit_rd(c);
    pc_val v;
    pc_type t = PC_T_STRING;
    int e = -1;
    apit_check_rc(file, line, "pc_get (missing key)", pc_get(r, key, klen, &v), PC_ENOTFOUND);
    apit_check_rc(file, line, "pc_type_of", pc_type_of(r, key, klen, &t), 0);
    apit_check_rc(file, line, "pc_exists", pc_exists(r, key, klen, &e), 0);
    pc_read_end(r);
    if (t != PC_T_NONE || e != 0) {
        print_error("%s:%d: key is not missing: type %s, exists %d\n", file, line, pc_type_name(t),
                    e);
        _fail(file, line);
    }
}
/* Assert that C-string key does not exist. */
#define MISSING(c, key) apit_check_missing(__FILE__, __LINE__, (c), K(key))

/* The key's version (asserting it exists). */
static inline uint64_t apit_version(pc_client *c, const char *key)
{
    pc_read *r = apit_rd(c);
    uint64_t v = 0;
    OK(pc_version(r, K(key), &v));
    pc_read_end(r);
    return v;
}

/* The key's TTL in ms (-1: none); asserts the key exists. */
static inline int64_t apit_ttl(pc_client *c, const char *key)
{
    pc_read *r = apit_rd(c);
    int64_t ms = 0;
    OK(pc_ttl(r, K(key), &ms));
    pc_read_end(r);
    return ms;
}

/* Number of live keys matching glob (NULL: all), paging 64 at a time. */
static inline size_t apit_nkeys(pc_client *c, const char *glob)
{
    pc_read *r = apit_rd(c);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[64];
    size_t total = 0, n;
    while (!cur.done) {
        OK(pc_scan(r, glob, &cur, keys, 64, &n));
        total += n;
    }
    pc_read_end(r);
    return total;
}

/* Check that a List (or a Queue with queue=true) holds exactly want[0..n). */
static inline void apit_check_seq(const char *file, int line, pc_client *c, const char *key,
                                  bool queue, const pc_val *want, size_t n)
{
    pc_read *r = apit_rd(c);
    uint64_t len = 0;
    int rc = queue ? pc_qlen(r, K(key), &len) : pc_llen(r, K(key), &len);
    apit_check_rc(file, line, queue ? "pc_qlen" : "pc_llen", rc, n ? 0 : PC_ENOTFOUND);
    if (len != n) {
        print_error("%s:%d: \"%s\" has %" PRIu64 " elements, expected %zu\n", file, line, key, len,
                    n);
        _fail(file, line);
    }
    pc_val out[64];
    size_t got = 0, start = 0;
    do {
        rc = queue ? pc_qrange(r, K(key), (int64_t)start, -1, out, 64, &got)
                   : pc_lrange(r, K(key), (int64_t)start, -1, out, 64, &got);
        apit_check_rc(file, line, "pc_lrange/pc_qrange", rc, 0);
        for (size_t i = 0; i < got; i++) {
            char what[96];
            if (start + i >= n) {
                print_error("%s:%d: \"%s\": more elements than expected\n", file, line, key);
                _fail(file, line);
            }
            snprintf(what, sizeof what, "element %zu of \"%s\"", start + i, key);
            apit_check_val(file, line, what, out[i], want[start + i]);
        }
        start += got;
    } while (got);
    pc_read_end(r);
    if (start != n) {
        print_error("%s:%d: \"%s\": read %zu elements, expected %zu\n", file, line, key, start, n);
        _fail(file, line);
    }
}
/* Assert a List's (LIST_IS) or a Queue's (QUEUE_IS) elements, in order.  An
 * empty want means the key is missing. */
#define LIST_IS(c, key, want, n) apit_check_seq(__FILE__, __LINE__, (c), (key), false, (want), (n))
#define QUEUE_IS(c, key, want, n) apit_check_seq(__FILE__, __LINE__, (c), (key), true, (want), (n))

/* ---- misc ---- */

/* Deterministic PRNG (splitmix64). */
static inline uint64_t apit_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline void apit_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

#endif
