/*
 * store.c - embedded test stores (cmocka fixtures), typed value comparison
 * and read helpers that open and end their own pc_read (pctest.h).
 */
#include "../../shm/record.h"
#include "pctest.h"

const char *pt_kind_name(pc_kind k)
{
    static const char *const names[] = {"NONE", "NIL", "BYTES", "INT", "DOUBLE", "BOOL"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* A short printable form of v, for failure messages. */
const char *pt_val_fmt(char *buf, size_t n, const pc_val *v)
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
        snprintf(buf, n, "%s", pt_kind_name(v->kind));
        break;
    }
    return buf;
}

bool pt_val_eq(const pc_val *a, const pc_val *b)
{
    return pcs_val_equal(a, b);
}

bool pt_val_same(const pc_val *a, const pc_val *b)
{
    if (a->kind != PC_DOUBLE || b->kind != PC_DOUBLE)
        return pcs_val_equal(a, b);
    uint64_t x, y;
    memcpy(&x, &a->d, sizeof x);
    memcpy(&y, &b->d, sizeof y);
    return x == y;
}

static void check_val(const char *file, int line, const char *what, const pc_val *got,
                      const pc_val *want, bool same)
{
    if (same ? pt_val_same(got, want) : pt_val_eq(got, want))
        return;
    char g[160], w[160];
    print_error("%s:%d: %s\n    is %s, expected %s\n", file, line, what,
                pt_val_fmt(g, sizeof g, got), pt_val_fmt(w, sizeof w, want));
    _fail(file, line);
}

void pt_check_same(const char *file, int line, const char *what, pc_val got, pc_val want)
{
    check_val(file, line, what, &got, &want, true);
}

void pt_check_val(const char *file, int line, const char *what, pc_val got, pc_val want)
{
    check_val(file, line, what, &got, &want, false);
}

/* Is v among vals[0..n)? */
bool pt_val_in(const pc_val *v, const pc_val *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pt_val_eq(v, &vals[i]))
            return true;
    return false;
}

/* ---- a fresh store per test ---- */

/* Options of a test store: embedded, created, no fsync, small map. */
void pt_store_options(pc_options *o, unsigned shards, uint64_t max_value)
{
    pc_options_init(o);
    o->flags = PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC;
    o->map_size = PT_MAP_SIZE;
    o->shards = shards;
    o->max_value = max_value;
}

static int store_open(void **state, unsigned shards, uint64_t max_value)
{
    pt_store *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    if (pt_mkdtemp(t->dir, sizeof t->dir, "/tmp", "api")) {
        free(t);
        return -1;
    }
    pt_store_options(&t->o, shards, max_value);
    int rc = pc_connect(t->dir, &t->o, &t->c);
    if (rc) {
        print_error("pc_connect(%s): %s\n", t->dir, pc_err_name(rc));
        pt_rmtree(t->dir);
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

/* cmocka setups: a one-shard store with the default largest value, one with
 * a largest value of PT_SMALL_MAX, and a four-shard store. */
int pt_store_setup(void **state)
{
    return store_open(state, 1, 0);
}
int pt_store_setup_small(void **state)
{
    return store_open(state, 1, PT_SMALL_MAX);
}
int pt_store_setup_shards4(void **state)
{
    return store_open(state, 4, 0);
}

int pt_store_teardown(void **state)
{
    pt_store *t = *state;
    if (!t)
        return 0;
    pc_close(t->c); /* also ends a read a failed test left open */
    pt_rmtree(t->dir);
    free(t);
    *state = NULL;
    return 0;
}

/* A second client on the test's store (another writer). */
pc_client *pt_store_client2(pt_store *t)
{
    pc_client *c2 = NULL;
    OK(pc_connect(t->dir, &t->o, &c2));
    return c2;
}

/* Begin a read on c (asserting success). */
pc_read *pt_rd(pc_client *c)
{
    pc_read *r = NULL;
    OK(pc_read_begin(c, &r));
    return r;
}

/* ---- read helpers: each opens and ends its own read ---- */

pc_type pt_type(pc_client *c, const void *key, size_t klen)
{
    pc_read *r = pt_rd(c);
    pc_type t = PC_T_NONE;
    OK(pc_type_of(r, key, klen, &t));
    pc_read_end(r);
    return t;
}

void pt_check_type(const char *file, int line, pc_client *c, const char *key, pc_type want)
{
    pc_type got = pt_type(c, key, strlen(key));
    if (got == want)
        return;
    print_error("%s:%d: type of \"%s\" is %s, expected %s\n", file, line, key, pc_type_name(got),
                pc_type_name(want));
    _fail(file, line);
}

void pt_check_get(const char *file, int line, pc_client *c, const void *key, size_t klen,
                  pc_val want)
{
    pc_read *r = pt_rd(c);
    pc_val got;
    memset(&got, 0, sizeof got);
    int rc = pc_get(r, key, klen, &got);
    pt_check_rc(file, line, "pc_get", rc, 0);
    pt_check_val(file, line, "pc_get value", got, want);
    pc_read_end(r);
}

void pt_check_missing(const char *file, int line, pc_client *c, const void *key, size_t klen)
{
    pc_read *r = pt_rd(c);
    pc_val v;
    pc_type t = PC_T_STRING;
    int e = -1;
    pt_check_rc(file, line, "pc_get (missing key)", pc_get(r, key, klen, &v), PC_ENOTFOUND);
    pt_check_rc(file, line, "pc_type_of", pc_type_of(r, key, klen, &t), 0);
    pt_check_rc(file, line, "pc_exists", pc_exists(r, key, klen, &e), 0);
    pc_read_end(r);
    if (t != PC_T_NONE || e != 0) {
        print_error("%s:%d: key is not missing: type %s, exists %d\n", file, line, pc_type_name(t),
                    e);
        _fail(file, line);
    }
}

/* The key's version (asserting it exists). */
uint64_t pt_version(pc_client *c, const char *key)
{
    pc_read *r = pt_rd(c);
    uint64_t v = 0;
    OK(pc_version(r, K(key), &v));
    pc_read_end(r);
    return v;
}

/* The key's TTL in ms (-1: none); asserts the key exists. */
int64_t pt_ttl(pc_client *c, const char *key)
{
    pc_read *r = pt_rd(c);
    int64_t ms = 0;
    OK(pc_ttl(r, K(key), &ms));
    pc_read_end(r);
    return ms;
}

/* Number of live keys matching glob (NULL: all), paging 64 at a time. */
size_t pt_nkeys(pc_client *c, const char *glob)
{
    pc_read *r = pt_rd(c);
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
void pt_check_seq(const char *file, int line, pc_client *c, const char *key, bool queue,
                  const pc_val *want, size_t n)
{
    pc_read *r = pt_rd(c);
    uint64_t len = 0;
    int rc = queue ? pc_qlen(r, K(key), &len) : pc_llen(r, K(key), &len);
    pt_check_rc(file, line, queue ? "pc_qlen" : "pc_llen", rc, n ? 0 : PC_ENOTFOUND);
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
        pt_check_rc(file, line, "pc_lrange/pc_qrange", rc, 0);
        for (size_t i = 0; i < got; i++) {
            char what[96];
            if (start + i >= n) {
                print_error("%s:%d: \"%s\": more elements than expected\n", file, line, key);
                _fail(file, line);
            }
            snprintf(what, sizeof what, "element %zu of \"%s\"", start + i, key);
            pt_check_val(file, line, what, out[i], want[start + i]);
        }
        start += got;
    } while (got);
    pc_read_end(r);
    if (start != n) {
        print_error("%s:%d: \"%s\": read %zu elements, expected %zu\n", file, line, key, start, n);
        _fail(file, line);
    }
}
