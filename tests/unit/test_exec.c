/*
 * test_exec.c - unit tests of the write executor (shm/exec.c and the t_*.c
 * handlers), driven directly on a temporary embedded store: O(1) replace and
 * delete of large collections with a bounded background sweep, expiry,
 * all-or-nothing transactions and their conditions, batches, shard routing,
 * the room hook that lets a full map make room for a write, and allocation
 * failures at every point of a representative workload.  Also the read side
 * the executor shares with clients and the daemon: the reader's operations
 * (shm/reader.c) on the same stores, the cursor codec and the glob matcher.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <lmdb.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shm/alloc.h"
#include "../../shm/buf.h"
#include "../../shm/bytes.h"
#include "../../shm/exec.h"
#include "../../shm/exec_int.h"
#include "../../shm/frame.h"
#include "../../shm/read.h"
#include "../../shm/reader.h"
#include "../../shm/record.h"
#include "../../shm/store.h"
#include "pycache.h"
#include "pctest.h"

#define V(...) ((pc_val[]){__VA_ARGS__})
#define NV(...) (sizeof(V(__VA_ARGS__)) / sizeof(pc_val))
#define ENC(b, op, id, ...) enc((b), (op), (id), V(__VA_ARGS__), NV(__VA_ARGS__))
#undef K /* (pctest.h's key pair; here a String value) */
#define K(s) pc_str(s)
#define I(x) pc_int(x)
/* Upkeep of every kind. */
#define MAINT_ALL (PCS_MAINT_EXPIRE | PCS_MAINT_SWEEP)

/* ---- fixture: a fresh store in a fresh directory ---- */

typedef struct fx {
    char dir[64];
    pcs_store *st;
    pcs_wctx w;
} fx;

static int fx_open_map(fx *f, unsigned shards, uint64_t map_size)
{
    memset(f, 0, sizeof *f);
    if (pt_mkdtemp(f->dir, sizeof f->dir, "/tmp", "exec"))
        return -1;
    pcs_params p = {.create = true, .nosync = true, .shards = shards, .map_size = map_size};
    if (pcs_store_open(f->dir, PCS_MODE_EMBEDDED, &p, &f->st)) {
        pt_rmtree(f->dir);
        return -1;
    }
    pcs_wctx_init(&f->w);
    return 0;
}

static int fx_open(fx *f, unsigned shards)
{
    return fx_open_map(f, shards, 256u << 20);
}

static void fx_close(fx *f)
{
    pcs_wabort(&f->w);
    pcs_wctx_free(&f->w);
    pcs_store_release(f->st);
    f->st = NULL;
    pt_rmtree(f->dir);
}

static int setup1(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || fx_open(f, 1)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup4(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || fx_open(f, 4)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* A 1 MiB map, to fill. */
static int setup_small(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || fx_open_map(f, 1, 1u << 20)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    pcs_alloc_fail_at(0);
    if (f) {
        fx_close(f);
        free(f);
    }
    return 0;
}

/* ---- requests and responses ---- */

static void enc(pcs_buf *b, uint16_t op, uint64_t id, const pc_val *a, size_t n)
{
    pcs_enc e;
    pcs_enc_begin(&e, b, op, id);
    for (size_t i = 0; i < n; i++)
        pcs_enc_val(&e, &a[i]);
    assert_int_equal(pcs_enc_end(&e), 0);
}

/* Decode the frames in b into rqs (at most max); returns how many. */
static size_t decode_all(const pcs_buf *b, pcs_req *rqs, size_t max)
{
    size_t n = 0;
    for (size_t off = 0; off < b->len; n++) {
        assert_true(n < max);
        size_t len = pcs_frame_len(b->data + off);
        assert_int_equal(pcs_req_decode(b->data + off, len, &rqs[n]), 0);
        off = pcs_align8(off + len);
    }
    return n;
}

/* Decode the frames in rb and pcs_run them on shard; out gets the responses
 * (appended), roff their offsets.  Returns pcs_run's code. */
static int run_buf(fx *f, unsigned shard, const pcs_buf *rb, pcs_buf *out, size_t *roff,
                   size_t *nreq, unsigned maint)
{
    enum { MAXR = 64 };
    pcs_req rqs[MAXR];
    pcs_req *ptr[MAXR];
    size_t n = decode_all(rb, rqs, MAXR);
    for (size_t i = 0; i < n; i++)
        ptr[i] = &rqs[i];
    int rc = pcs_run(&f->w, f->st, shard, ptr, n, out, roff, maint, MAINT_ALL);
    for (size_t i = 0; i < n; i++)
        pcs_req_free(&rqs[i]);
    if (nreq)
        *nreq = n;
    return rc;
}

static void parse_at(const pcs_buf *out, size_t off, size_t end, pcs_resp *r)
{
    size_t sz;
    assert_int_equal(pcs_resp_parse(out->data + off, end - off, r, &sz), 0);
    assert_int_equal(sz, end - off);
}

/* Run one request on shard 0; returns its response rc, *r the response
 * (valid until out is reused). */
static int run1(fx *f, pcs_buf *out, uint16_t op, const pc_val *a, size_t n, pcs_resp *r)
{
    pcs_buf rb = PCS_BUF_INIT;
    enc(&rb, op, 1, a, n);
    pcs_buf_reset(out);
    size_t roff[2];
    unsigned shard = 0;
    if (f->st->nshards > 1)
        shard = pcs_shard_of(f->st->nshards, a[0].s.ptr, a[0].s.len);
    assert_int_equal(run_buf(f, shard, &rb, out, roff, NULL, 0), 0);
    pcs_buf_free(&rb);
    pcs_resp tmp;
    if (!r)
        r = &tmp;
    parse_at(out, roff[0], roff[1], r);
    assert_int_equal(r->op, op);
    return r->rc;
}
#define RUN1(f, out, r, op, ...) run1((f), (out), (op), V(__VA_ARGS__), NV(__VA_ARGS__), (r))

/* The i-th value of a response. */
static pc_val resp_val(const pcs_resp *r, uint32_t i)
{
    assert_true(i < r->nvals);
    const uint8_t *p = r->vals;
    pc_val v;
    for (uint32_t k = 0; k <= i; k++)
        assert_int_equal(pcs_val_decode(&p, r->end, &v), 0);
    return v;
}

static int64_t resp_int(const pcs_resp *r)
{
    pc_val v = resp_val(r, 0);
    assert_int_equal(v.kind, PC_INT);
    return v.i;
}

/* ---- reading the store ---- */

static MDB_txn *rtxn(fx *f, unsigned shard)
{
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(f->st->shards[shard].env, NULL, MDB_RDONLY, &t), 0);
    return t;
}

/* Look key up now; rec's scalar fields stay valid after. */
static int lookup(fx *f, unsigned shard, const char *key, pcs_rec *rec, bool *stale)
{
    MDB_txn *t = rtxn(f, shard);
    pcs_view v = {t, &f->st->shards[shard], pcs_now_ms()};
    pcs_rec tmp;
    int rc = pcs_lookup(&v, key, strlen(key), rec ? rec : &tmp, stale);
    if (rec) {
        rec->data = NULL;
    }
    mdb_txn_abort(t);
    return rc;
}

static size_t db_entries(fx *f, unsigned shard, MDB_dbi dbi)
{
    MDB_txn *t = rtxn(f, shard);
    MDB_stat ms;
    assert_int_equal(mdb_stat(t, dbi, &ms), 0);
    mdb_txn_abort(t);
    return ms.ms_entries;
}
#define N_KEYS(f) db_entries((f), 0, (f)->st->shards[0].keys)
#define N_MEMBERS(f) db_entries((f), 0, (f)->st->shards[0].members)
#define N_EXPIRY(f) db_entries((f), 0, (f)->st->shards[0].expiry)
#define N_SWEEP(f) db_entries((f), 0, (f)->st->shards[0].sweep)

/* Members stored under generation gen. */
static size_t gen_members(fx *f, unsigned shard, uint64_t gen)
{
    MDB_txn *t = rtxn(f, shard);
    MDB_cursor *c;
    assert_int_equal(mdb_cursor_open(t, f->st->shards[shard].members, &c), 0);
    uint8_t g[8];
    pcs_put_be64(g, gen);
    MDB_val k = {8, g}, d;
    size_t n = 0;
    int rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
    while (!rc && k.mv_size >= 8 && pcs_be64(k.mv_data) == gen) {
        n++;
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return n;
}

static bool sweep_has(fx *f, unsigned shard, uint64_t gen)
{
    MDB_txn *t = rtxn(f, shard);
    uint8_t g[8];
    pcs_put_be64(g, gen);
    MDB_val k = {8, g}, d;
    int rc = mdb_get(t, f->st->shards[shard].sweep, &k, &d);
    mdb_txn_abort(t);
    return rc == 0;
}

/* One pcs_maint(budget) in its own write transaction; returns *did. */
static unsigned maint_once(fx *f, unsigned budget)
{
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    unsigned did = 12345;
    assert_int_equal(pcs_maint(&f->w, MAINT_ALL, budget, &did), 0);
    assert_int_equal(pcs_wcommit(&f->w), 0);
    assert_true(did <= budget);
    return did;
}

/* Every entry of every database, byte for byte (meta's seq and created
 * aside: a failed request may use up sequence numbers, and every store has
 * its own creation time). */
static void dump_raw(pcs_store *st, pt_buf *d)
{
    d->len = 0;
    for (unsigned s = 0; s < st->nshards; s++) {
        const pcs_shard *sh = &st->shards[s];
        MDB_txn *t;
        assert_int_equal(mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &t), 0);
        const MDB_dbi dbis[] = {sh->keys, sh->members, sh->expiry, sh->sweep, sh->meta};
        for (size_t i = 0; i < 5; i++) {
            MDB_cursor *c;
            assert_int_equal(mdb_cursor_open(t, dbis[i], &c), 0);
            MDB_val k, v;
            pt_buf_u64(d, 0xdb00 + i);
            while (!mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                if (i == 4 && ((k.mv_size == 3 && !memcmp(k.mv_data, "seq", 3)) ||
                               (k.mv_size == 2 && !memcmp(k.mv_data, "id", 2)) ||
                               (k.mv_size == 7 && !memcmp(k.mv_data, "created", 7))))
                    continue;
                pt_buf_bytes(d, k.mv_data, k.mv_size);
                pt_buf_bytes(d, v.mv_data, v.mv_size);
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(t);
    }
}

/* What the store holds, without versions and generations: each key's type,
 * expiry and contents, and the sizes of the members, expiry and sweep
 * databases.  Checks each collection's count against its members. */
static void dump_logical(pcs_store *st, pt_buf *d)
{
    d->len = 0;
    for (unsigned s = 0; s < st->nshards; s++) {
        const pcs_shard *sh = &st->shards[s];
        MDB_txn *t;
        assert_int_equal(mdb_txn_begin(sh->env, NULL, MDB_RDONLY, &t), 0);
        MDB_cursor *c, *mc;
        assert_int_equal(mdb_cursor_open(t, sh->keys, &c), 0);
        assert_int_equal(mdb_cursor_open(t, sh->members, &mc), 0);
        MDB_val k, v;
        while (!mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            pcs_rec r;
            assert_int_equal(pcs_rec_decode(v.mv_data, v.mv_size, &r), 0);
            pt_buf_bytes(d, k.mv_data, k.mv_size);
            pt_buf_u64(d, r.type);
            pt_buf_u64(d, r.expire_at);
            if (r.type == PC_T_STRING) {
                pt_buf_bytes(d, r.data, r.dlen);
            } else if (r.type == PC_T_NUMERIC) {
                pt_buf_u64(d, r.num.kind);
                pt_buf_u64(d, (uint64_t)r.num.i);
            } else {
                uint8_t g[8];
                pcs_put_be64(g, r.gen);
                MDB_val mk = {8, g}, mv;
                uint64_t n = 0;
                uint64_t pos = r.head;
                int rc = mdb_cursor_get(mc, &mk, &mv, MDB_SET_RANGE);
                while (!rc && mk.mv_size >= 8 && pcs_be64(mk.mv_data) == r.gen) {
                    if (pcs_is_seq(r.type)) { /* positions are contiguous */
                        assert_int_equal(mk.mv_size, 16);
                        assert_int_equal(pcs_be64((uint8_t *)mk.mv_data + 8), pos++);
                    } else {
                        pt_buf_bytes(d, (uint8_t *)mk.mv_data + 8, mk.mv_size - 8);
                    }
                    pt_buf_bytes(d, mv.mv_data, mv.mv_size);
                    n++;
                    rc = mdb_cursor_get(mc, &mk, &mv, MDB_NEXT);
                }
                assert_int_equal(n, r.count);
            }
        }
        mdb_cursor_close(mc);
        mdb_cursor_close(c);
        const MDB_dbi dbis[] = {sh->members, sh->expiry, sh->sweep};
        for (size_t i = 0; i < 3; i++) {
            MDB_stat ms;
            assert_int_equal(mdb_stat(t, dbis[i], &ms), 0);
            pt_buf_u64(d, ms.ms_entries);
        }
        mdb_txn_abort(t);
    }
}

/* ---- O(1) replace and delete of large collections ---- */

enum { BIG_N = 100000, NEW_N = 10 };

/* items of a collection of type t with n elements (a Map: n fields), values
 * from base; field names live in names. */
static size_t coll_items(pc_type t, size_t n, int64_t base, pc_val *items, char (*names)[12])
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (t == PC_T_MAP) {
            int l = snprintf(names[i], sizeof names[i], "f%09lld", (long long)(base + (int64_t)i));
            items[k++] = pc_mem(names[i], (size_t)l);
        }
        items[k++] = pc_int(base + (int64_t)i);
    }
    return k;
}

/* Encode SETCOLL key t items into b. */
static void enc_setcoll(pcs_buf *b, uint64_t id, const char *key, pc_type t, const pc_val *items,
                        size_t n, int64_t ttl)
{
    pcs_enc e;
    pcs_enc_begin(&e, b, PCS_OP_SETCOLL, id);
    pcs_enc_bytes(&e, key, strlen(key));
    pcs_enc_int(&e, t);
    pcs_enc_int(&e, ttl);
    pcs_enc_int(&e, 0);
    for (size_t i = 0; i < n; i++)
        pcs_enc_val(&e, &items[i]);
    assert_int_equal(pcs_enc_end(&e), 0);
}

/* Build key as a collection of type t with n elements from base, in one
 * pcs_run; returns its generation. */
static uint64_t make_coll(fx *f, const char *key, pc_type t, size_t n, int64_t base, int64_t ttl)
{
    pc_val *items = calloc(2 * n, sizeof *items);
    char(*names)[12] = calloc(n, sizeof *names);
    assert_non_null(items);
    assert_non_null(names);
    size_t k = coll_items(t, n, base, items, names);
    pcs_buf rb = PCS_BUF_INIT, out = PCS_BUF_INIT;
    enc_setcoll(&rb, 1, key, t, items, k, ttl);
    size_t roff[2];
    assert_int_equal(run_buf(f, 0, &rb, &out, roff, NULL, 0), 0);
    pcs_resp r;
    parse_at(&out, roff[0], roff[1], &r);
    assert_int_equal(r.rc, 0);
    pcs_buf_free(&rb);
    pcs_buf_free(&out);
    free(names);
    free(items);
    pcs_rec rec;
    assert_int_equal(lookup(f, 0, key, &rec, NULL), 0);
    assert_int_equal(rec.type, t);
    assert_int_equal(rec.count, n);
    return rec.gen;
}

/* Check that key holds exactly the collection made by make_coll(t, n, base). */
static void check_coll(fx *f, const char *key, pc_type t, size_t n, int64_t base)
{
    MDB_txn *txn = rtxn(f, 0);
    pcs_view v = {txn, &f->st->shards[0], pcs_now_ms()};
    pcs_rec rec;
    assert_int_equal(pcs_lookup(&v, key, strlen(key), &rec, NULL), 0);
    assert_int_equal(rec.type, t);
    assert_int_equal(rec.count, n);
    for (size_t i = 0; i < n; i++) {
        int64_t want = base + (int64_t)i;
        if (pcs_is_seq(t)) {
            pc_val e;
            assert_int_equal(pcs_seq_get(&v, &rec, i, &e), 0);
            assert_int_equal(e.kind, PC_INT);
            assert_int_equal(e.i, want);
        } else if (t == PC_T_SET) {
            pc_val m = pc_int(want);
            bool has;
            assert_int_equal(pcs_set_has(&v, &rec, &m, &has, NULL), 0);
            assert_true(has);
        } else {
            char name[12];
            int l = snprintf(name, sizeof name, "f%09lld", (long long)want);
            pc_val e;
            assert_int_equal(pcs_map_get(&v, &rec, name, (size_t)l, &e, NULL), 0);
            assert_int_equal(e.kind, PC_INT);
            assert_int_equal(e.i, want);
        }
    }
    mdb_txn_abort(txn);
    assert_int_equal(gen_members(f, 0, rec.gen), n);
}

/* Sweep in steps of budget until the sweep list is empty: each step removes
 * at most budget members, all of generation dead, none of live (live_n of
 * them).  Returns the number of steps. */
static unsigned sweep_all(fx *f, uint64_t dead, size_t dead_n, uint64_t live, size_t live_n,
                          unsigned budget)
{
    size_t total = 0, members = N_MEMBERS(f);
    unsigned steps = 0;
    while (N_SWEEP(f) > 0) {
        assert_true(steps < dead_n / budget + 3);
        unsigned did = maint_once(f, budget);
        steps++;
        size_t now = N_MEMBERS(f);
        assert_int_equal(members - now, did);
        total += did;
        members = now;
        if (live)
            assert_int_equal(gen_members(f, 0, live), live_n);
        if (N_SWEEP(f) > 0)
            assert_int_equal(did, budget); /* a step stops early only when done */
    }
    assert_int_equal(total, dead_n);
    assert_int_equal(gen_members(f, 0, dead), 0);
    return steps;
}

static void replace_case(fx *f, pc_type t)
{
    size_t m0 = N_MEMBERS(f);
    uint64_t g1 = make_coll(f, "big", t, BIG_N, 0, 0);
    assert_int_equal(N_MEMBERS(f), m0 + BIG_N);
    assert_int_equal(gen_members(f, 0, g1), BIG_N);

    /* The replace itself: a handful of writes, whatever the old size. */
    pc_val items[2 * NEW_N];
    char names[NEW_N][12];
    size_t k = coll_items(t, NEW_N, 1000000, items, names);
    pcs_buf rb = PCS_BUF_INIT, out = PCS_BUF_INIT;
    enc_setcoll(&rb, 7, "big", t, items, k, 0);
    pcs_req rq;
    assert_int_equal(pcs_req_decode(rb.data, pcs_frame_len(rb.data), &rq), 0);
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    assert_int_equal(pcs_exec(&f->w, &rq, &out), 0);
    assert_true(f->w.nmut <= NEW_N + 4);
    assert_int_equal(pcs_wcommit(&f->w), 0);
    pcs_req_free(&rq);
    pcs_resp r;
    parse_at(&out, 0, out.len, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.id, 7);
    pcs_buf_free(&rb);
    pcs_buf_free(&out);

    pcs_rec rec;
    assert_int_equal(lookup(f, 0, "big", &rec, NULL), 0);
    uint64_t g2 = rec.gen;
    assert_true(g2 != g1);
    /* The old members are all still there, the old generation is queued. */
    assert_int_equal(N_MEMBERS(f), m0 + BIG_N + NEW_N);
    assert_int_equal(gen_members(f, 0, g1), BIG_N);
    assert_int_equal(N_SWEEP(f), 1);
    assert_true(sweep_has(f, 0, g1));
    check_coll(f, "big", t, NEW_N, 1000000);

    /* Bounded steps remove exactly the old members. */
    unsigned steps = sweep_all(f, g1, BIG_N, g2, NEW_N, 1000);
    assert_true(steps >= BIG_N / 1000);
    assert_int_equal(N_MEMBERS(f), m0 + NEW_N);
    check_coll(f, "big", t, NEW_N, 1000000);
    /* Nothing left to do. */
    assert_int_equal(maint_once(f, 1000), 0);
}

static void test_replace_list(void **state)
{
    replace_case(*state, PC_T_LIST);
}

static void test_replace_set(void **state)
{
    replace_case(*state, PC_T_SET);
}

static void test_replace_map(void **state)
{
    replace_case(*state, PC_T_MAP);
}

static void delete_case(fx *f, pc_type t, bool by_set)
{
    uint64_t g = make_coll(f, "big", t, BIG_N, 0, 0);
    pcs_buf rb = PCS_BUF_INIT, out = PCS_BUF_INIT;
    if (by_set) /* a String replaces it */
        ENC(&rb, PCS_OP_SET, 3, K("big"), K("now a string"), I(0), I(0));
    else
        ENC(&rb, PCS_OP_DEL, 3, K("big"));
    pcs_req rq;
    assert_int_equal(pcs_req_decode(rb.data, pcs_frame_len(rb.data), &rq), 0);
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    assert_int_equal(pcs_exec(&f->w, &rq, &out), 0);
    assert_true(f->w.nmut <= 4);
    assert_int_equal(pcs_wcommit(&f->w), 0);
    pcs_req_free(&rq);
    pcs_resp r;
    parse_at(&out, 0, out.len, &r);
    assert_int_equal(r.rc, 0);
    if (by_set) {
        pcs_rec rec;
        assert_int_equal(lookup(f, 0, "big", &rec, NULL), 0);
        assert_int_equal(rec.type, PC_T_STRING);
    } else {
        assert_int_equal(resp_int(&r), 1);
        bool stale = true;
        assert_int_equal(lookup(f, 0, "big", NULL, &stale), PC_ENOTFOUND);
        assert_false(stale);
        assert_int_equal(N_KEYS(f), 0);
    }
    pcs_buf_free(&rb);
    pcs_buf_free(&out);
    assert_int_equal(N_MEMBERS(f), BIG_N);
    assert_true(sweep_has(f, 0, g));
    sweep_all(f, g, BIG_N, 0, 0, 1000);
    assert_int_equal(N_MEMBERS(f), 0);
    assert_int_equal(N_SWEEP(f), 0);
}

static void test_delete_big(void **state)
{
    fx *f = *state;
    delete_case(f, PC_T_SET, false);
    delete_case(f, PC_T_QUEUE, false);
    delete_case(f, PC_T_LIST, true);
    /* Deleting a missing key answers 0 and writes nothing. */
    pcs_buf out = PCS_BUF_INIT;
    pcs_resp r;
    assert_int_equal(RUN1(f, &out, &r, PCS_OP_DEL, K("nope")), 0);
    assert_int_equal(resp_int(&r), 0);
    assert_int_equal(N_SWEEP(f), 0);
    pcs_buf_free(&out);
}

/* Sweep budgets: a small budget takes many steps, a step never exceeds it,
 * and several dead generations are drained one after the other. */
static void test_sweep_budget(void **state)
{
    fx *f = *state;
    uint64_t g1 = make_coll(f, "a", PC_T_LIST, 2500, 0, 0);
    uint64_t g2 = make_coll(f, "b", PC_T_MAP, 1700, 0, 0);
    uint64_t g3 = make_coll(f, "c", PC_T_SET, 10, 0, 0);
    pcs_buf out = PCS_BUF_INIT;
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_DEL, K("a")), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_DEL, K("b")), 0);
    assert_int_equal(N_SWEEP(f), 2);
    size_t total = 0;
    unsigned steps = 0;
    while (N_SWEEP(f)) {
        unsigned did = maint_once(f, 7);
        assert_true(did <= 7);
        total += did;
        assert_true(++steps < 1000);
    }
    assert_int_equal(total, 2500 + 1700);
    assert_int_equal(gen_members(f, 0, g1), 0);
    assert_int_equal(gen_members(f, 0, g2), 0);
    assert_int_equal(gen_members(f, 0, g3), 10);
    check_coll(f, "c", PC_T_SET, 10, 0);
    pcs_buf_free(&out);
}

/* ---- expiry ---- */

static void wait_past(uint64_t t)
{
    while (pcs_now_ms() <= t)
        pt_sleep_ms(2);
}

static void test_expiry(void **state)
{
    fx *f = *state;
    pcs_buf out = PCS_BUF_INIT;
    pcs_rec rec;
    bool stale;

    /* A key with no TTL and one with an hour: neither goes. */
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("keep"), K("v"), I(0), I(0)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("hour"), I(5), I(3600000), I(0)), 0);
    assert_int_equal(N_EXPIRY(f), 1);

    /* A String with a TTL of 5 ms. */
    uint64_t t0 = pcs_now_ms();
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("k"), K("val"), I(5), I(0)), 0);
    uint64_t t1 = pcs_now_ms();
    assert_int_equal(N_EXPIRY(f), 2);
    int rc = lookup(f, 0, "k", &rec, &stale);
    if (rc == 0) { /* unless the clock already passed it */
        assert_true(rec.expire_at >= t0 + 5 && rec.expire_at <= t1 + 5);
        assert_int_equal(rec.type, PC_T_STRING);
    }
    /* Seen from a view at a chosen moment: live before, gone at expire_at. */
    {
        MDB_txn *t = rtxn(f, 0);
        pcs_view v = {t, &f->st->shards[0], 0};
        assert_int_equal(pcs_lookup(&v, "k", 1, &rec, &stale), 0);
        uint64_t exp = rec.expire_at;
        assert_true(exp >= t0 + 5 && exp <= t1 + 5);
        v.now = exp - 1;
        assert_int_equal(pcs_lookup(&v, "k", 1, &rec, &stale), 0);
        v.now = exp;
        assert_int_equal(pcs_lookup(&v, "k", 1, &rec, &stale), PC_ENOTFOUND);
        assert_true(stale);
        mdb_txn_abort(t);
        wait_past(exp);
    }
    /* The clock passed: gone from reads, still in the keys database. */
    assert_int_equal(lookup(f, 0, "k", &rec, &stale), PC_ENOTFOUND);
    assert_true(stale);
    assert_int_equal(N_KEYS(f), 3);
    /* Upkeep removes it from keys and expiry. */
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    unsigned did;
    assert_int_equal(pcs_maint(&f->w, MAINT_ALL, 100, &did), 0);
    assert_int_equal(did, 1);
    assert_int_equal(f->w.dc[PCS_C_EXPIRED], 1);
    assert_int_equal(pcs_wcommit(&f->w), 0);
    assert_int_equal(lookup(f, 0, "k", &rec, &stale), PC_ENOTFOUND);
    assert_false(stale);
    assert_int_equal(N_KEYS(f), 2);
    assert_int_equal(N_EXPIRY(f), 1);
    assert_int_equal(lookup(f, 0, "hour", &rec, NULL), 0);
    assert_int_equal(lookup(f, 0, "keep", &rec, NULL), 0);

    /* A collection with a TTL expires and its members are swept. */
    uint64_t g = make_coll(f, "coll", PC_T_LIST, 5000, 0, 300);
    assert_int_equal(N_EXPIRY(f), 2);
    assert_int_equal(lookup(f, 0, "coll", &rec, NULL), 0);
    wait_past(rec.expire_at);
    assert_int_equal(lookup(f, 0, "coll", &rec, &stale), PC_ENOTFOUND);
    assert_true(stale);
    assert_int_equal(gen_members(f, 0, g), 5000);
    unsigned steps = 0;
    while (N_SWEEP(f) || N_EXPIRY(f) > 1) {
        unsigned d = maint_once(f, 1000);
        assert_true(d <= 1000);
        assert_true(++steps < 20);
    }
    assert_int_equal(gen_members(f, 0, g), 0);
    assert_int_equal(N_MEMBERS(f), 0);
    assert_int_equal(N_KEYS(f), 2);
    assert_int_equal(lookup(f, 0, "coll", &rec, &stale), PC_ENOTFOUND);
    assert_false(stale);

    /* expire / persist keep the expiry index in step. */
    pcs_resp r;
    assert_int_equal(RUN1(f, &out, &r, PCS_OP_EXPIRE, K("keep"), I(60000)), 0);
    assert_int_equal(resp_int(&r), 1);
    assert_int_equal(N_EXPIRY(f), 2);
    assert_int_equal(lookup(f, 0, "keep", &rec, NULL), 0);
    assert_true(rec.expire_at > pcs_now_ms());
    assert_int_equal(RUN1(f, &out, &r, PCS_OP_PERSIST, K("keep")), 0);
    assert_int_equal(resp_int(&r), 1);
    assert_int_equal(N_EXPIRY(f), 1);
    assert_int_equal(lookup(f, 0, "keep", &rec, NULL), 0);
    assert_int_equal(rec.expire_at, 0);
    assert_int_equal(RUN1(f, &out, &r, PCS_OP_PERSIST, K("keep")), 0);
    assert_int_equal(resp_int(&r), 0);
    assert_int_equal(RUN1(f, &out, &r, PCS_OP_EXPIRE, K("missing"), I(10)), 0);
    assert_int_equal(resp_int(&r), 0);
    assert_int_equal(N_KEYS(f), 2);
    assert_int_equal(RUN1(f, &out, &r, PCS_OP_EXPIRE, K("keep"), I(0)), PC_EINVAL);
    /* set: a new TTL replaces the index entry; KEEPTTL keeps it; none drops it */
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("hour"), I(6), I(7200000), I(0)), 0);
    assert_int_equal(N_EXPIRY(f), 1);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("hour"), I(7), I(0), I(PC_KEEPTTL)), 0);
    assert_int_equal(N_EXPIRY(f), 1);
    assert_int_equal(lookup(f, 0, "hour", &rec, NULL), 0);
    assert_true(rec.expire_at > pcs_now_ms() + 3600000);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("hour"), I(8), I(0), I(0)), 0);
    assert_int_equal(N_EXPIRY(f), 0);
    assert_int_equal(lookup(f, 0, "hour", &rec, NULL), 0);
    assert_int_equal(rec.expire_at, 0);

    /* pcs_run's upkeep budget removes expired keys too. */
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("short"), K("x"), I(1), I(0)), 0);
    assert_true(lookup(f, 0, "short", &rec, &stale) == 0 || stale); /* live or stale: there */
    wait_past(pcs_now_ms() + 2);
    {
        pcs_buf rb = PCS_BUF_INIT;
        ENC(&rb, PCS_OP_SET, 1, K("other"), K("y"), I(0), I(0));
        pcs_buf_reset(&out);
        size_t roff[2];
        assert_int_equal(run_buf(f, 0, &rb, &out, roff, NULL, 100), 0);
        pcs_buf_free(&rb);
    }
    assert_int_equal(lookup(f, 0, "short", &rec, &stale), PC_ENOTFOUND);
    assert_false(stale);
    assert_int_equal(N_EXPIRY(f), 0);
    pcs_buf_free(&out);
}

/* ---- transactions ---- */

/* Parse a TXN response at out[0..): rc, failed index, and the sub-responses'
 * start (the caller walks them). */
static int txn_resp(const pcs_buf *out, size_t off, size_t end, uint32_t *failed,
                    const uint8_t **subs, uint32_t *nsub)
{
    pcs_resp r;
    parse_at(out, off, end, &r);
    assert_int_equal(r.op, PCS_OP_TXN);
    assert_true(r.end - r.vals >= 8);
    *failed = pcs_le32(r.vals);
    assert_int_equal(pcs_le32(r.vals + 4), 0);
    *subs = r.vals + 8;
    *nsub = r.nvals;
    if (r.rc) {
        assert_int_equal(r.nvals, 0);
        assert_ptr_equal(r.vals + 8, r.end);
    } else {
        assert_int_equal(*failed, UINT32_MAX);
    }
    return r.rc;
}

/* Run one TXN of the request frames in sb (already encoded, nsub of them). */
static int run_txn_frames(fx *f, const pcs_buf *sb, uint32_t nsub, pcs_buf *out, uint32_t *failed,
                          const uint8_t **subs, uint32_t *nres)
{
    pcs_buf tb = PCS_BUF_INIT;
    size_t s = pcs_enc_txn_begin(&tb, 99);
    pcs_buf_put(&tb, sb->data, sb->len);
    assert_int_equal(pcs_enc_txn_end(&tb, s, nsub), 0);
    pcs_buf_reset(out);
    size_t roff[2];
    assert_int_equal(run_buf(f, 0, &tb, out, roff, NULL, 0), 0);
    pcs_buf_free(&tb);
    return txn_resp(out, roff[0], roff[1], failed, subs, nres);
}

static void test_txn_all_or_nothing(void **state)
{
    fx *f = *state;
    pcs_buf out = PCS_BUF_INIT, sb = PCS_BUF_INIT;
    uint32_t failed, nres;
    const uint8_t *subs;
    pcs_rec rec;
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("s"), K("str"), I(0), I(0)), 0);
    assert_int_equal(lookup(f, 0, "s", &rec, NULL), 0);
    uint64_t sver = rec.version;
    pt_buf d0 = {0}, d1 = {0};
    dump_raw(f->st, &d0);

    /* The 3rd request is against the wrong type: nothing of the first two. */
    ENC(&sb, PCS_OP_SET, 10, K("a"), I(1), I(0), I(0));
    ENC(&sb, PCS_OP_RPUSH, 11, K("b"), K("x"), K("y"));
    ENC(&sb, PCS_OP_LPUSH, 12, K("s"), K("z"));
    ENC(&sb, PCS_OP_SET, 13, K("c"), I(3), I(0), I(0));
    assert_int_equal(run_txn_frames(f, &sb, 4, &out, &failed, &subs, &nres), PC_EWRONGTYPE);
    assert_int_equal(failed, 2);
    bool stale;
    assert_int_equal(lookup(f, 0, "a", NULL, &stale), PC_ENOTFOUND);
    assert_false(stale);
    assert_int_equal(lookup(f, 0, "b", NULL, &stale), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "c", NULL, &stale), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "s", &rec, NULL), 0);
    assert_int_equal(rec.version, sver);
    assert_int_equal(N_KEYS(f), 1);
    assert_int_equal(N_MEMBERS(f), 0);
    dump_raw(f->st, &d1); /* every database as it was */
    bool same = pt_buf_same(&d0, &d1);
    free(d0.p);
    free(d1.p);
    assert_true(same);

    /* The same without the bad request applies whole, answers in order. */
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_SET, 10, K("a"), I(1), I(0), I(0));
    ENC(&sb, PCS_OP_RPUSH, 11, K("b"), K("x"), K("y"));
    ENC(&sb, PCS_OP_HSET, 12, K("h"), K("f"), K("v"));
    ENC(&sb, PCS_OP_SADD, 13, K("z"), I(1), I(2), I(1));
    ENC(&sb, PCS_OP_LPOP, 14, K("b"), I(1)); /* sees the push above */
    assert_int_equal(run_txn_frames(f, &sb, 5, &out, &failed, &subs, &nres), 0);
    assert_int_equal(nres, 5);
    const uint8_t *end = out.data + out.len;
    static const int64_t want[] = {-1, 2, 1, 2, -1};
    for (uint32_t i = 0; i < 5; i++) {
        pcs_resp r;
        size_t sz;
        assert_int_equal(pcs_resp_parse(subs, (size_t)(end - subs), &r, &sz), 0);
        assert_int_equal(r.id, 10 + i);
        assert_int_equal(r.rc, 0);
        if (want[i] >= 0)
            assert_int_equal(resp_int(&r), want[i]);
        if (i == 4) {
            pc_val v = resp_val(&r, 0);
            assert_int_equal(v.kind, PC_BYTES);
            assert_memory_equal(v.s.ptr, "x", 1);
        }
        subs += sz;
    }
    assert_int_equal(lookup(f, 0, "b", &rec, NULL), 0);
    assert_int_equal(rec.count, 1);

    /* require-absent: passes while absent, fails (and writes nothing) after. */
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_REQ_ABSENT, 20, K("n"));
    ENC(&sb, PCS_OP_SET, 21, K("n"), I(1), I(0), I(0));
    assert_int_equal(run_txn_frames(f, &sb, 2, &out, &failed, &subs, &nres), 0);
    assert_int_equal(lookup(f, 0, "n", &rec, NULL), 0);
    uint64_t v1 = rec.version;
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_REQ_ABSENT, 20, K("n"));
    ENC(&sb, PCS_OP_SET, 21, K("n"), I(2), I(0), I(0));
    assert_int_equal(run_txn_frames(f, &sb, 2, &out, &failed, &subs, &nres), PC_ECONFLICT);
    assert_int_equal(failed, 0);
    assert_int_equal(lookup(f, 0, "n", &rec, NULL), 0);
    assert_int_equal(rec.version, v1);
    assert_int_equal(rec.num.i, 1);
    /* ... and an expired key counts as absent. */
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("gone"), I(1), I(1), I(0)), 0);
    wait_past(pcs_now_ms() + 2);
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_REQ_ABSENT, 22, K("gone"));
    ENC(&sb, PCS_OP_SET, 23, K("gone"), I(2), I(0), I(0));
    assert_int_equal(run_txn_frames(f, &sb, 2, &out, &failed, &subs, &nres), 0);
    assert_int_equal(lookup(f, 0, "gone", &rec, NULL), 0);
    assert_int_equal(rec.num.i, 2);

    /* require-version: the current version passes, an old one conflicts. */
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_REQ_VERSION, 30, K("n"), I((int64_t)v1));
    ENC(&sb, PCS_OP_SET, 31, K("n"), I(2), I(0), I(0));
    assert_int_equal(run_txn_frames(f, &sb, 2, &out, &failed, &subs, &nres), 0);
    assert_int_equal(lookup(f, 0, "n", &rec, NULL), 0);
    uint64_t v2 = rec.version;
    assert_true(v2 > v1);
    assert_int_equal(rec.num.i, 2);
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_SET, 32, K("other"), I(9), I(0), I(0));
    ENC(&sb, PCS_OP_REQ_VERSION, 33, K("n"), I((int64_t)v1));
    ENC(&sb, PCS_OP_SET, 34, K("n"), I(3), I(0), I(0));
    assert_int_equal(run_txn_frames(f, &sb, 3, &out, &failed, &subs, &nres), PC_ECONFLICT);
    assert_int_equal(failed, 1);
    assert_int_equal(lookup(f, 0, "other", NULL, NULL), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "n", &rec, NULL), 0);
    assert_int_equal(rec.version, v2);
    assert_int_equal(rec.num.i, 2);
    /* a missing key has no version */
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_REQ_VERSION, 35, K("missing"), I((int64_t)v2));
    assert_int_equal(run_txn_frames(f, &sb, 1, &out, &failed, &subs, &nres), PC_ECONFLICT);
    assert_int_equal(failed, 0);
    /* a version that is not an integer */
    pcs_buf_reset(&sb);
    ENC(&sb, PCS_OP_REQ_VERSION, 36, K("n"), K("1"));
    assert_int_equal(run_txn_frames(f, &sb, 1, &out, &failed, &subs, &nres), PC_EINVAL);
    /* an empty transaction */
    pcs_buf_reset(&sb);
    assert_int_equal(run_txn_frames(f, &sb, 0, &out, &failed, &subs, &nres), 0);
    assert_int_equal(nres, 0);

    /* Transactions inside a batch: a failing one takes nothing else with
     * it, a good one applies, and the answers stay in order. */
    pcs_buf rb = PCS_BUF_INIT;
    ENC(&rb, PCS_OP_SET, 50, K("before"), I(1), I(0), I(0));
    size_t s = pcs_enc_txn_begin(&rb, 51);
    ENC(&rb, PCS_OP_SET, 40, K("t1"), I(1), I(0), I(0));
    ENC(&rb, PCS_OP_INCRBY, 41, K("s"), I(1)); /* a String that holds no integer */
    assert_int_equal(pcs_enc_txn_end(&rb, s, 2), 0);
    ENC(&rb, PCS_OP_SET, 52, K("middle"), I(1), I(0), I(0));
    s = pcs_enc_txn_begin(&rb, 53);
    ENC(&rb, PCS_OP_RPUSH, 42, K("t2"), K("x"));
    ENC(&rb, PCS_OP_INCRBY, 43, K("t3"), I(4));
    assert_int_equal(pcs_enc_txn_end(&rb, s, 2), 0);
    s = pcs_enc_txn_begin(&rb, 54);
    ENC(&rb, PCS_OP_SET, 44, K("t4"), I(1), I(0), I(0));
    ENC(&rb, PCS_OP_LPOP, 45, K("nothing"), I(1));
    assert_int_equal(pcs_enc_txn_end(&rb, s, 2), 0);
    ENC(&rb, PCS_OP_SET, 55, K("after"), I(1), I(0), I(0));
    pcs_buf_reset(&out);
    size_t roff[7], n;
    assert_int_equal(run_buf(f, 0, &rb, &out, roff, &n, 0), 0);
    assert_int_equal(n, 6);
    assert_int_equal(roff[6], out.len);
    static const uint64_t ids[] = {50, 51, 52, 53, 54, 55};
    for (size_t i = 0; i < n; i++) {
        pcs_resp r;
        parse_at(&out, roff[i], roff[i + 1], &r);
        assert_int_equal(r.id, ids[i]);
    }
    assert_int_equal(txn_resp(&out, roff[1], roff[2], &failed, &subs, &nres), PC_ENOTINT);
    assert_int_equal(failed, 1);
    assert_int_equal(txn_resp(&out, roff[3], roff[4], &failed, &subs, &nres), 0);
    assert_int_equal(nres, 2);
    assert_int_equal(txn_resp(&out, roff[4], roff[5], &failed, &subs, &nres), PC_ENOTFOUND);
    assert_int_equal(failed, 1);
    assert_int_equal(lookup(f, 0, "t1", NULL, NULL), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "t4", NULL, NULL), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "t2", NULL, NULL), 0);
    assert_int_equal(lookup(f, 0, "t3", &rec, NULL), 0);
    assert_int_equal(rec.num.i, 4);
    assert_int_equal(lookup(f, 0, "before", NULL, NULL), 0);
    assert_int_equal(lookup(f, 0, "middle", NULL, NULL), 0);
    assert_int_equal(lookup(f, 0, "after", NULL, NULL), 0);
    pcs_buf_free(&rb);
    pcs_buf_free(&sb);
    pcs_buf_free(&out);
}

/* ---- batches ---- */

static void test_batch_partial_failure(void **state)
{
    fx *f = *state;
    pcs_buf rb = PCS_BUF_INIT, out = PCS_BUF_INIT;
    ENC(&rb, PCS_OP_SET, 0, K("a"), K("x1"), I(0), I(0));
    ENC(&rb, PCS_OP_INCRBY, 1, K("a"), I(1)); /* a String that holds no integer */
    ENC(&rb, PCS_OP_RPUSH, 2, K("l"), K("x"), K("y"), K("z"));
    ENC(&rb, PCS_OP_LPOP, 3, K("nope"), I(1)); /* missing */
    ENC(&rb, PCS_OP_SET, 4, K("b"), I(2), I(0), I(0));
    ENC(&rb, PCS_OP_SET, 5, K("c"), pc_nil(), I(0), I(0)); /* nil is no String */
    ENC(&rb, PCS_OP_SADD, 6, K("z"), I(1), pc_dbl(2.5), pc_bool(true));
    ENC(&rb, PCS_OP_SET, 7, K(""), I(1), I(0), I(0)); /* empty key */
    ENC(&rb, PCS_OP_SET, 8, K("d"), I(1));            /* too few arguments */
    ENC(&rb, PCS_OP_INCRBY, 9, K("n"), I(INT64_MAX));
    ENC(&rb, PCS_OP_INCRBY, 10, K("n"), I(1)); /* overflow */
    /* PC_NONE decodes (it answers multi-get holes) but is no element */
    ENC(&rb, PCS_OP_RPUSH, 11, K("l2"), K("a"), ((pc_val){.kind = PC_NONE}));
    static const int want[] = {0,       PC_ENOTINT, 0, PC_ENOTFOUND, 0,        PC_EINVAL, 0,
                               PC_EKEY, PC_EINVAL,  0, PC_EOVERFLOW, PC_EINVAL};
    enum { N = sizeof want / sizeof want[0] };
    /* Responses go after what out already holds. */
    pcs_buf_put(&out, "prefix--", 8);
    size_t roff[N + 1], n;
    assert_int_equal(run_buf(f, 0, &rb, &out, roff, &n, 0), 0);
    assert_int_equal(n, N);
    assert_int_equal(roff[0], 8);
    assert_memory_equal(out.data, "prefix--", 8);
    assert_int_equal(roff[N], out.len);
    for (size_t i = 0; i < N; i++) {
        assert_true(roff[i] < roff[i + 1]);
        assert_int_equal(roff[i] % 8, 0);
        pcs_resp r;
        parse_at(&out, roff[i], roff[i + 1], &r);
        assert_int_equal(r.id, i);
        assert_int_equal(r.rc, want[i]);
        if (r.rc)
            assert_int_equal(r.nvals, 0);
    }
    pcs_resp r;
    parse_at(&out, roff[2], roff[3], &r);
    assert_int_equal(resp_int(&r), 3);
    parse_at(&out, roff[6], roff[7], &r);
    assert_int_equal(resp_int(&r), 3);
    pcs_rec rec;
    assert_int_equal(lookup(f, 0, "a", &rec, NULL), 0);
    assert_int_equal(rec.type, PC_T_STRING);
    assert_int_equal(lookup(f, 0, "l", &rec, NULL), 0);
    assert_int_equal(rec.count, 3);
    assert_int_equal(lookup(f, 0, "b", &rec, NULL), 0);
    assert_int_equal(rec.num.i, 2);
    assert_int_equal(lookup(f, 0, "z", &rec, NULL), 0);
    assert_int_equal(rec.count, 3);
    assert_int_equal(lookup(f, 0, "n", &rec, NULL), 0);
    assert_int_equal(rec.num.i, INT64_MAX);
    assert_int_equal(lookup(f, 0, "c", NULL, NULL), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "d", NULL, NULL), PC_ENOTFOUND);
    assert_int_equal(lookup(f, 0, "l2", NULL, NULL), PC_ENOTFOUND);
    assert_int_equal(N_KEYS(f), 5);
    assert_int_equal(N_MEMBERS(f), 3 + 3);
    pcs_buf_free(&rb);
    pcs_buf_free(&out);
    /* An empty batch does nothing. */
    size_t r0[1] = {77};
    assert_int_equal(pcs_run(&f->w, f->st, 0, NULL, 0, &out, r0, 0, MAINT_ALL), 0);
    assert_int_equal(out.len, 0);
}

/* SET of a missing key must not touch the key looked up before it (here a
 * List that a SET NX refused).  First through pcs_run, then with the
 * handler called twice in a row from one frame, so that the second call
 * runs on the stack the first one left. */
static void test_set_missing_after_live(void **state)
{
    fx *f = *state;
    pcs_buf rb = PCS_BUF_INIT, out = PCS_BUF_INIT;
    uint64_t g1 = make_coll(f, "L1", PC_T_LIST, 50, 0, 0);
    ENC(&rb, PCS_OP_SET, 3, K("L1"), K("v"), I(0), I(PC_NX));
    ENC(&rb, PCS_OP_SET, 4, K("y"), K("v"), I(0), I(0));
    size_t roff[3];
    assert_int_equal(run_buf(f, 0, &rb, &out, roff, NULL, 0), 0);
    pcs_resp r;
    parse_at(&out, roff[0], roff[1], &r);
    assert_int_equal(r.rc, PC_EEXIST);
    parse_at(&out, roff[1], roff[2], &r);
    assert_int_equal(r.rc, 0);
    bool swept1 = sweep_has(f, 0, g1);

    uint64_t g2 = make_coll(f, "L2", PC_T_LIST, 50, 0, 0);
    pcs_buf_reset(&rb);
    ENC(&rb, PCS_OP_SET, 1, K("L2"), K("v"), I(0), I(PC_NX));
    ENC(&rb, PCS_OP_SET, 2, K("x"), K("v"), I(0), I(0));
    pcs_req rq[2];
    assert_int_equal(decode_all(&rb, rq, 2), 2);
    assert_int_equal(pcs_wbegin(&f->w, f->st, 0), 0);
    uint32_t nv = 0;
    int rc1 = pcs_h_set(&f->w, &rq[0], &out, &nv);
    int rc2 = pcs_h_set(&f->w, &rq[1], &out, &nv);
    assert_int_equal(pcs_wcommit(&f->w), 0);
    assert_int_equal(rc1, PC_EEXIST);
    assert_int_equal(rc2, 0);
    pcs_req_free(&rq[0]);
    pcs_req_free(&rq[1]);
    bool swept2 = sweep_has(f, 0, g2);
    pcs_buf_free(&rb);
    pcs_buf_free(&out);

    /* The refused SET must not have queued the live List for the sweep. */
    assert_false(swept1);
    assert_false(swept2);
    assert_int_equal(N_SWEEP(f), 0);
    maint_once(f, 1000);
    check_coll(f, "L1", PC_T_LIST, 50, 0);
    check_coll(f, "L2", PC_T_LIST, 50, 0);
    assert_int_equal(lookup(f, 0, "x", NULL, NULL), 0);
    assert_int_equal(lookup(f, 0, "y", NULL, NULL), 0);
}

/* ---- shards ---- */

static void test_req_shard(void **state)
{
    fx *f = *state;
    assert_int_equal(f->st->nshards, 4);
    /* Two keys in different shards. */
    char ka[16], kb[16];
    snprintf(ka, sizeof ka, "key0");
    unsigned sa = pcs_shard_of(4, ka, strlen(ka)), sbh = sa;
    for (int i = 1; sbh == sa; i++) {
        snprintf(kb, sizeof kb, "key%d", i);
        sbh = pcs_shard_of(4, kb, strlen(kb));
    }
    pcs_buf b = PCS_BUF_INIT, out = PCS_BUF_INIT;
    pcs_req rq;
    unsigned shard;

    /* A plain request goes to its key's shard. */
    ENC(&b, PCS_OP_SET, 1, K(ka), I(1), I(0), I(0));
    assert_int_equal(pcs_req_decode(b.data, pcs_frame_len(b.data), &rq), 0);
    assert_int_equal(pcs_req_shard(f->st, &rq, &shard), 0);
    assert_int_equal(shard, sa);
    /* run on another shard it is refused */
    pcs_req *p = &rq;
    size_t roff[2];
    assert_int_equal(pcs_run(&f->w, f->st, sbh, &p, 1, &out, roff, 0, MAINT_ALL), 0);
    pcs_resp r;
    parse_at(&out, roff[0], roff[1], &r);
    assert_int_equal(r.rc, PC_ECROSSSHARD);
    assert_int_equal(db_entries(f, sbh, f->st->shards[sbh].keys), 0);
    pcs_req_free(&rq);

    /* A bad key has no shard. */
    pcs_buf_reset(&b);
    ENC(&b, PCS_OP_DEL, 1, K(""));
    assert_int_equal(pcs_req_decode(b.data, pcs_frame_len(b.data), &rq), 0);
    assert_int_equal(pcs_req_shard(f->st, &rq, &shard), PC_EKEY);
    pcs_req_free(&rq);
    pcs_buf_reset(&b);
    ENC(&b, PCS_OP_DEL, 1, I(5));
    assert_int_equal(pcs_req_decode(b.data, pcs_frame_len(b.data), &rq), 0);
    assert_int_equal(pcs_req_shard(f->st, &rq, &shard), PC_EKEY);
    pcs_req_free(&rq);

    /* A transaction across shards. */
    pcs_buf_reset(&b);
    size_t s = pcs_enc_txn_begin(&b, 1);
    ENC(&b, PCS_OP_SET, 1, K(ka), I(1), I(0), I(0));
    ENC(&b, PCS_OP_SET, 2, K(kb), I(1), I(0), I(0));
    assert_int_equal(pcs_enc_txn_end(&b, s, 2), 0);
    assert_int_equal(pcs_req_decode(b.data, pcs_frame_len(b.data), &rq), 0);
    assert_int_equal(pcs_req_shard(f->st, &rq, &shard), PC_ECROSSSHARD);
    /* forced onto one shard anyway, it fails whole */
    p = &rq;
    pcs_buf_reset(&out);
    assert_int_equal(pcs_run(&f->w, f->st, sa, &p, 1, &out, roff, 0, MAINT_ALL), 0);
    uint32_t failed, nres;
    const uint8_t *subs;
    assert_int_equal(txn_resp(&out, roff[0], roff[1], &failed, &subs, &nres), PC_ECROSSSHARD);
    assert_int_equal(failed, 1);
    pcs_req_free(&rq);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(db_entries(f, i, f->st->shards[i].keys), 0);

    /* Keys sharing a {tag}: one shard, the tag's. */
    unsigned st = pcs_shard_of(4, "user7", 5);
    pcs_buf_reset(&b);
    s = pcs_enc_txn_begin(&b, 2);
    ENC(&b, PCS_OP_REQ_ABSENT, 1, K("{user7}:name"));
    ENC(&b, PCS_OP_SET, 2, K("{user7}:name"), K("ann"), I(0), I(0));
    ENC(&b, PCS_OP_RPUSH, 3, K("x{user7}:log"), K("a"), K("b"));
    ENC(&b, PCS_OP_SADD, 4, K("{user7}{other}"), I(1));
    ENC(&b, PCS_OP_HSET, 5, K("{user7}"), K("f"), I(1));
    assert_int_equal(pcs_enc_txn_end(&b, s, 5), 0);
    assert_int_equal(pcs_req_decode(b.data, pcs_frame_len(b.data), &rq), 0);
    shard = 99;
    assert_int_equal(pcs_req_shard(f->st, &rq, &shard), 0);
    assert_int_equal(shard, st);
    p = &rq;
    pcs_buf_reset(&out);
    assert_int_equal(pcs_run(&f->w, f->st, shard, &p, 1, &out, roff, 0, MAINT_ALL), 0);
    assert_int_equal(txn_resp(&out, roff[0], roff[1], &failed, &subs, &nres), 0);
    assert_int_equal(nres, 5);
    pcs_req_free(&rq);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(db_entries(f, i, f->st->shards[i].keys), i == st ? 4 : 0);
    assert_int_equal(lookup(f, st, "x{user7}:log", NULL, NULL), 0);
    /* A transaction of one key is never cross-shard. */
    pcs_buf_reset(&b);
    s = pcs_enc_txn_begin(&b, 3);
    ENC(&b, PCS_OP_SET, 1, K(kb), I(1), I(0), I(0));
    ENC(&b, PCS_OP_DEL, 2, K(kb));
    assert_int_equal(pcs_enc_txn_end(&b, s, 2), 0);
    assert_int_equal(pcs_req_decode(b.data, pcs_frame_len(b.data), &rq), 0);
    assert_int_equal(pcs_req_shard(f->st, &rq, &shard), 0);
    assert_int_equal(shard, sbh);
    pcs_req_free(&rq);
    pcs_buf_free(&b);
    pcs_buf_free(&out);
}

/* ---- allocation failures ---- */

/* The workload: long fields and members take the digest paths. */
static char long_f1[500], long_f2[520], long_m1[600], long_m2[700], long_m3[650];

static void fill_longs(void)
{
    memset(long_f1, 'F', sizeof long_f1);
    memset(long_f2, 'G', sizeof long_f2);
    memset(long_m1, 'M', sizeof long_m1);
    memset(long_m2, 'N', sizeof long_m2);
    memset(long_m3, 'O', sizeof long_m3);
}

static void enc_prepop(pcs_buf *b)
{
    ENC(b, PCS_OP_SETCOLL, 0, K("s"), I(PC_T_LIST), I(0), I(0), I(1), I(2), I(3));
    ENC(b, PCS_OP_RPUSH, 1, K("l"), K("a"), K("b"), K("c"));
    ENC(b, PCS_OP_HSET, 2, K("h"), K("f1"), I(1), pc_mem(long_f1, sizeof long_f1), K("lv"));
    ENC(b, PCS_OP_SADD, 3, K("z"), I(1), K("m"), pc_mem(long_m1, sizeof long_m1));
}

enum { NSEQ = 9 };

/* Request i of the workload into b. */
static void enc_step(pcs_buf *b, int i)
{
    switch (i) {
    case 0:
        ENC(b, PCS_OP_SET, 0, K("s"), K("hello"), I(0), I(0));
        break;
    case 1:
        ENC(b, PCS_OP_LPUSH, 1, K("l"), K("v1"), I(2), pc_dbl(3.5), pc_nil(), pc_bool(true));
        break;
    case 2:
        ENC(b, PCS_OP_HSET, 2, K("h"), K("f2"), I(2), K("f3"), pc_dbl(3.5),
            pc_mem(long_f2, sizeof long_f2), pc_bool(true));
        break;
    case 3:
        ENC(b, PCS_OP_SADD, 3, K("z"), I(5), I(6), K("x"), pc_mem(long_m2, sizeof long_m2),
            pc_nil());
        break;
    case 4: {
        size_t s = pcs_enc_txn_begin(b, 4);
        ENC(b, PCS_OP_SET, 40, K("t1"), I(1), I(0), I(0));
        ENC(b, PCS_OP_RPUSH, 41, K("l2"), K("a"), K("b"), K("c"), K("d"), K("e"));
        ENC(b, PCS_OP_SADD, 42, K("z2"), pc_mem(long_m3, sizeof long_m3), I(1), I(2), I(3), I(4));
        ENC(b, PCS_OP_HINCRBY, 43, K("h"), K("f1"), I(5));
        ENC(b, PCS_OP_APPEND, 44, K("s"), K(" world"));
        assert_int_equal(pcs_enc_txn_end(b, s, 5), 0);
        break;
    }
    case 5:
        ENC(b, PCS_OP_GETSET, 5, K("s"), K("bigger value"));
        break;
    case 6:
        ENC(b, PCS_OP_SETCOLL, 6, K("m"), I(PC_T_MAP), I(0), I(0), K("k1"), K("v1"), K("k2"), I(2),
            pc_mem(long_f1, sizeof long_f1), K("v3"));
        break;
    case 7:
        ENC(b, PCS_OP_SREM, 7, K("z"), I(5), pc_mem(long_m1, sizeof long_m1));
        break;
    default:
        ENC(b, PCS_OP_RPOP, 8, K("l"), I(2));
        break;
    }
}

/* The workload's frames, encoded once before any failure is armed. */
static pcs_buf steps[NSEQ];

static void steps_init(void)
{
    fill_longs();
    for (int i = 0; i < NSEQ; i++) {
        pcs_buf_free(&steps[i]);
        enc_step(&steps[i], i);
    }
}

static void steps_free(void)
{
    for (int i = 0; i < NSEQ; i++)
        pcs_buf_free(&steps[i]);
}

/* What one run of the workload gave. */
typedef struct outcome {
    pt_buf resp[NSEQ]; /* one-by-one: each response frame */
    int rc[NSEQ];
    pt_buf all;  /* the responses of one batch, back to back */
    pt_buf raw;  /* dump_raw after */
    pt_buf logi; /* dump_logical after */
} outcome;

static void outcome_free(outcome *o)
{
    for (int i = 0; i < NSEQ; i++)
        free(o->resp[i].p);
    free(o->all.p);
    free(o->raw.p);
    free(o->logi.p);
    memset(o, 0, sizeof *o);
}

/* Everything the allocation tests hold, kept here so that a failed
 * assertion leaves nothing behind: teardown_alloc releases it all. */
static struct {
    fx *open[4]; /* stores open */
    outcome ref, ref1, o, rec, without[NSEQ];
    bool have[NSEQ];
    pt_buf initial, before, after, batch;
    pcs_req rqs[NSEQ];
    pcs_buf out;
} A;

/* A fresh store in its own directory, prepopulated (with its own context,
 * so that the workload's context starts empty). */
static fx *ws_new(void)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    if (fx_open(f, 1)) {
        free(f);
        fail_msg("cannot open a store");
    }
    size_t slot = 0;
    while (slot < 4 && A.open[slot])
        slot++;
    assert_true(slot < 4);
    A.open[slot] = f;
    pcs_buf b = PCS_BUF_INIT, out = PCS_BUF_INIT;
    enc_prepop(&b);
    size_t roff[8], n;
    int rc = run_buf(f, 0, &b, &out, roff, &n, 0);
    for (size_t i = 0; i < n && !rc; i++) {
        pcs_resp r;
        size_t sz;
        if (pcs_resp_parse(out.data + roff[i], roff[i + 1] - roff[i], &r, &sz) || r.rc)
            rc = -1;
    }
    pcs_buf_free(&b);
    pcs_buf_free(&out);
    assert_int_equal(rc, 0);
    pcs_wctx_free(&f->w);
    pcs_wctx_init(&f->w);
    return f;
}

static void ws_del(fx *f)
{
    for (size_t i = 0; i < 4; i++)
        if (A.open[i] == f)
            A.open[i] = NULL;
    fx_close(f);
    free(f);
}

static int teardown_alloc(void **state)
{
    (void)state;
    pcs_alloc_fail_at(0);
    for (size_t i = 4; i-- > 0;)
        if (A.open[i])
            ws_del(A.open[i]);
    outcome_free(&A.ref);
    outcome_free(&A.ref1);
    outcome_free(&A.o);
    outcome_free(&A.rec);
    for (int i = 0; i < NSEQ; i++) {
        outcome_free(&A.without[i]);
        pcs_req_free(&A.rqs[i]);
    }
    free(A.initial.p);
    free(A.before.p);
    free(A.after.p);
    free(A.batch.p);
    pcs_buf_free(&A.out);
    steps_free();
    memset(&A, 0, sizeof A);
    return 0;
}

/*
 * Run the workload one request per pcs_run with f's context and store,
 * recording into o.  Stops at the first request answered PC_ENOMEM
 * (returns its index; *where: 0 decode, 1 pcs_run's return, 2 the response
 * rc) after checking that it changed nothing; returns -1 when none did.
 */
static int run_one_by_one(fx *f, outcome *o, int *where)
{
    int failed = -1;
    pcs_req *rq = &A.rqs[0];
    for (int i = 0; i < NSEQ && failed < 0; i++) {
        dump_raw(f->st, &A.before);
        int rc = pcs_req_decode(steps[i].data, pcs_frame_len(steps[i].data), rq);
        if (rc) {
            assert_int_equal(rc, PC_ENOMEM);
            failed = i;
            *where = 0;
        } else {
            size_t roff[2];
            pcs_buf_reset(&A.out);
            rc = pcs_run(&f->w, f->st, 0, &rq, 1, &A.out, roff, 0, MAINT_ALL);
            pcs_req_free(rq);
            if (rc) {
                assert_int_equal(rc, PC_ENOMEM);
                assert_int_equal(A.out.len, 0);
                failed = i;
                *where = 1;
            } else {
                pcs_resp r;
                parse_at(&A.out, roff[0], roff[1], &r);
                o->rc[i] = r.rc;
                o->resp[i].len = 0;
                pt_buf_put(&o->resp[i], A.out.data + roff[0], roff[1] - roff[0]);
                if (r.rc == PC_ENOMEM) {
                    failed = i;
                    *where = 2;
                }
            }
        }
        if (failed >= 0) { /* the failed request changed nothing */
            dump_raw(f->st, &A.after);
            assert_true(pt_buf_same(&A.before, &A.after));
        }
    }
    pcs_buf_free(&A.out);
    dump_raw(f->st, &o->raw);
    dump_logical(f->st, &o->logi);
    return failed;
}

/* The workload (but request skip) as one batch.  Returns pcs_run's code
 * (*dec_rc: a decode failure); o->rc gets the response codes. */
static int run_batch(fx *f, outcome *o, int skip, int *dec_rc)
{
    A.batch.len = 0;
    for (int i = 0; i < NSEQ; i++)
        if (i != skip)
            pt_buf_put(&A.batch, steps[i].data, steps[i].len);
    pcs_req *ptr[NSEQ];
    size_t n = 0, off = 0;
    *dec_rc = 0;
    while (off < A.batch.len) {
        size_t len = pcs_frame_len(A.batch.p + off);
        int rc = pcs_req_decode(A.batch.p + off, len, &A.rqs[n]);
        if (rc) {
            assert_int_equal(rc, PC_ENOMEM);
            *dec_rc = rc;
            break;
        }
        ptr[n] = &A.rqs[n];
        n++;
        off = pcs_align8(off + len);
    }
    int rc = 0;
    if (!*dec_rc) {
        size_t roff[NSEQ + 1];
        rc = pcs_run(&f->w, f->st, 0, ptr, n, &A.out, roff, 0, MAINT_ALL);
        if (!rc) {
            for (int i = 0, k = 0; i < NSEQ; i++) {
                if (i == skip) {
                    o->rc[i] = 0;
                    continue;
                }
                pcs_resp r;
                parse_at(&A.out, roff[k], roff[k + 1], &r);
                o->rc[i] = r.rc;
                k++;
            }
            o->all.len = 0;
            pt_buf_put(&o->all, A.out.data, A.out.len);
        } else {
            assert_int_equal(rc, PC_ENOMEM);
            assert_int_equal(A.out.len, 0);
        }
    }
    for (size_t i = 0; i < n; i++)
        pcs_req_free(&A.rqs[i]);
    pcs_buf_free(&A.out);
    dump_raw(f->st, &o->raw);
    dump_logical(f->st, &o->logi);
    return rc;
}

/* With context w (which may have seen failures), the whole workload on a
 * fresh store must give exactly the reference outcome. */
static void check_recovery(pcs_wctx *w, const outcome *ref, int n)
{
    fx *g = ws_new();
    pcs_wctx_free(&g->w);
    g->w = *w; /* g owns it for the run */
    pcs_wctx_init(w);
    int where;
    int failed = run_one_by_one(g, &A.rec, &where);
    *w = g->w;
    pcs_wctx_init(&g->w);
    if (failed >= 0 || !pt_buf_same(&A.rec.raw, &ref->raw))
        fail_msg("after a failed allocation (n=%d) the same context then failed request %d "
                 "(rc %d) of a run with no failure",
                 n, failed, failed >= 0 ? A.rec.rc[failed] : 0);
    for (int i = 0; i < NSEQ; i++)
        assert_true(pt_buf_same(&A.rec.resp[i], &ref->resp[i]));
    outcome_free(&A.rec);
    ws_del(g);
}

static void test_alloc_fail_one_by_one(void **state)
{
    (void)state;
    steps_init();
    /* The reference: no failure. */
    fx *f = ws_new();
    int where;
    assert_int_equal(run_one_by_one(f, &A.ref, &where), -1);
    for (int i = 0; i < NSEQ; i++)
        assert_int_equal(A.ref.rc[i], 0);
    ws_del(f);
    int failures = 0;
    for (uint64_t n = 1;; n++) {
        assert_true(n < 500);
        f = ws_new();
        int64_t live0 = pcs_alloc_live();
        uint64_t count0 = pcs_alloc_count();
        where = -1;
        pcs_alloc_fail_at(n);
        int failed = run_one_by_one(f, &A.o, &where);
        pcs_alloc_fail_at(0);
        bool triggered = pcs_alloc_count() - count0 >= n;
        if (failed >= 0) {
            /* Reported, and only when it really happened. */
            assert_true(triggered);
            failures++;
            for (int i = 0; i < failed; i++)
                assert_true(pt_buf_same(&A.o.resp[i], &A.ref.resp[i]));
        } else {
            /* Not reported: then it must not have mattered. */
            assert_true(pt_buf_same(&A.o.raw, &A.ref.raw));
            for (int i = 0; i < NSEQ; i++)
                assert_true(pt_buf_same(&A.o.resp[i], &A.ref.resp[i]));
        }
        outcome_free(&A.o);
        if (failed >= 0)
            check_recovery(&f->w, &A.ref, (int)n);
        pcs_wctx_free(&f->w);
        if (pcs_alloc_live() != live0)
            fail_msg("n=%d: %lld allocations leaked", (int)n,
                     (long long)(pcs_alloc_live() - live0));
        ws_del(f);
        if (!triggered)
            break;
    }
    assert_true(failures >= 10);
}

static void test_alloc_fail_batch(void **state)
{
    (void)state;
    steps_init();
    /* References: one by one (for check_recovery) and as one batch. */
    fx *f = ws_new();
    int where, dec;
    assert_int_equal(run_one_by_one(f, &A.ref1, &where), -1);
    ws_del(f);
    f = ws_new();
    assert_int_equal(run_batch(f, &A.ref, -1, &dec), 0);
    assert_int_equal(dec, 0);
    for (int i = 0; i < NSEQ; i++)
        assert_int_equal(A.ref.rc[i], 0);
    ws_del(f);
    int failures = 0;
    for (uint64_t n = 1;; n++) {
        assert_true(n < 500);
        f = ws_new();
        dump_raw(f->st, &A.initial);
        int64_t live0 = pcs_alloc_live();
        uint64_t count0 = pcs_alloc_count();
        pcs_alloc_fail_at(n);
        int rc = run_batch(f, &A.o, -1, &dec);
        pcs_alloc_fail_at(0);
        bool triggered = pcs_alloc_count() - count0 >= n;
        if (!triggered) {
            assert_int_equal(dec, 0);
            assert_int_equal(rc, 0);
        }
        if (dec || rc) {
            /* The whole batch refused: nothing changed. */
            assert_true(triggered);
            assert_true(pt_buf_same(&A.o.raw, &A.initial));
            failures++;
        } else {
            int j = -1;
            for (int i = 0; i < NSEQ; i++) {
                if (A.o.rc[i] == PC_ENOMEM) {
                    assert_int_equal(j, -1); /* one failure, one request */
                    j = i;
                } else {
                    assert_int_equal(A.o.rc[i], 0);
                }
            }
            if (j < 0) {
                /* Everything applied (a failure may have been retried). */
                assert_true(pt_buf_same(&A.o.all, &A.ref.all));
                assert_true(pt_buf_same(&A.o.raw, &A.ref.raw));
            } else {
                /* Request j failed alone: the rest is as if it never ran
                 * (compared without versions and generations, which the
                 * failed request may have used up). */
                assert_true(triggered);
                failures++;
                if (!A.have[j]) {
                    fx *g = ws_new();
                    int d2;
                    assert_int_equal(run_batch(g, &A.without[j], j, &d2), 0);
                    ws_del(g);
                    A.have[j] = true;
                }
                for (int i = 0; i < NSEQ; i++)
                    if (i != j)
                        assert_int_equal(A.o.rc[i], A.without[j].rc[i]);
                assert_true(pt_buf_same(&A.o.logi, &A.without[j].logi));
            }
        }
        outcome_free(&A.o);
        if (triggered)
            check_recovery(&f->w, &A.ref1, (int)n);
        pcs_wctx_free(&f->w);
        if (pcs_alloc_live() != live0)
            fail_msg("n=%d: %lld allocations leaked", (int)n,
                     (long long)(pcs_alloc_live() - live0));
        ws_del(f);
        if (!triggered)
            break;
    }
    assert_true(failures >= 5);
}

/* ---- making room: pcs_wctx.room_fn ---- */

typedef struct room_ctx {
    fx *f;
    unsigned calls;      /* in all */
    unsigned rounds;     /* for the current request */
    unsigned next, have; /* filler keys: the next to delete, how many */
    bool refuse;
} room_ctx;

static const char *filler_key(char *buf, size_t n, unsigned i)
{
    snprintf(buf, n, "f:%05u", i);
    return buf;
}

/* The hook: delete the next filler key, in a transaction of its own. */
static bool room_delete_one(void *arg, unsigned shard, const pcs_req *rq, unsigned round)
{
    room_ctx *rc = arg;
    assert_int_equal(shard, 0);
    assert_non_null(rq);
    /* round counts the calls for one request, from 0. */
    assert_int_equal(round, round ? rc->rounds : 0);
    rc->rounds = round + 1;
    rc->calls++;
    if (rc->refuse || rc->next == rc->have)
        return false;
    char key[16];
    filler_key(key, sizeof key, rc->next++);
    bool gone;
    assert_int_equal(pcs_wbegin(&rc->f->w, rc->f->st, 0), 0);
    assert_int_equal(pcs_evict_key(&rc->f->w, key, strlen(key), &gone), 0);
    assert_true(gone);
    assert_int_equal(pcs_wcommit(&rc->f->w), 0);
    return true;
}

/* Fill the map with more filler keys, 6000-byte values (two pages each),
 * until one does not fit; the hook is not asked meanwhile. */
static void fill_up(fx *f, room_ctx *rc, pcs_buf *out)
{
    static uint8_t v6k[6000];
    memset(v6k, 'f', sizeof v6k);
    bool (*fn)(void *, unsigned, const pcs_req *, unsigned) = f->w.room_fn;
    f->w.room_fn = NULL;
    char key[16];
    for (unsigned n = 0;; n++, rc->have++) {
        int r = RUN1(f, out, NULL, PCS_OP_SET, K(filler_key(key, sizeof key, rc->have)),
                     pc_mem(v6k, sizeof v6k), I(0), I(0));
        if (r == PC_EFULL)
            break;
        assert_int_equal(r, 0);
        assert_true(n < 1000);
    }
    f->w.room_fn = fn;
}

/*
 * A request LMDB finds no pages for (MDB_MAP_FULL) is run again after the
 * room hook made room, as long as it does, before the requests after it
 * (their order stays); in a batch and as a transaction.  The hook is not
 * asked about other failures, and a request it cannot make room for is
 * answered PC_EFULL.
 */
static void test_room_hook(void **state)
{
    fx *f = *state;
    static uint8_t big[96 << 10];
    memset(big, 'b', sizeof big);
    pcs_buf out = PCS_BUF_INIT;
    room_ctx rc = {.f = f};
    char key[16];
    fill_up(f, &rc, &out);
    assert_true(rc.have > 20);
    /* No hook: a large value does not fit. */
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("big"), pc_mem(big, sizeof big), I(0), I(0)),
                     PC_EFULL);

    f->w.room_fn = room_delete_one;
    f->w.room_arg = &rc;
    /* A batch: the large value, then a small one to the same key, then
     * another key.  The hook makes room for the first; the last write to
     * "big" wins. */
    pcs_buf rb = PCS_BUF_INIT;
    ENC(&rb, PCS_OP_SET, 1, K("big"), pc_mem(big, sizeof big), I(0), I(0));
    ENC(&rb, PCS_OP_SET, 2, K("big"), K("x"), I(0), I(0));
    ENC(&rb, PCS_OP_SET, 3, K("after"), K("y"), I(0), I(0));
    pcs_buf_reset(&out);
    size_t roff[4], n;
    assert_int_equal(run_buf(f, 0, &rb, &out, roff, &n, 0), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++) {
        pcs_resp r;
        parse_at(&out, roff[i], roff[i + 1], &r);
        assert_int_equal(r.rc, 0);
    }
    assert_true(rc.calls > 0);
    pcs_rec rec;
    bool stale;
    assert_int_equal(lookup(f, 0, "big", &rec, &stale), 0);
    assert_int_equal(rec.dlen, 1);
    assert_int_equal(lookup(f, 0, "after", &rec, &stale), 0);
    assert_int_equal(lookup(f, 0, filler_key(key, sizeof key, 0), NULL, &stale), PC_ENOTFOUND);
    pcs_buf_free(&rb);

    /* A transaction with a large value, the map full again: made room
     * for too. */
    fill_up(f, &rc, &out);
    unsigned calls = rc.calls;
    pcs_buf sb = PCS_BUF_INIT;
    ENC(&sb, PCS_OP_SET, 4, K("t1"), pc_mem(big, sizeof big), I(0), I(0));
    ENC(&sb, PCS_OP_SET, 5, K("t2"), K("z"), I(0), I(0));
    uint32_t failed, nres;
    const uint8_t *subs;
    assert_int_equal(run_txn_frames(f, &sb, 2, &out, &failed, &subs, &nres), 0);
    assert_int_equal(nres, 2);
    assert_true(rc.calls > calls);
    assert_int_equal(lookup(f, 0, "t1", &rec, &stale), 0);
    assert_int_equal(rec.dlen, sizeof big);
    pcs_buf_free(&sb);

    /* Other failures are not the hook's business. */
    calls = rc.calls;
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_INCRBY, K("big"), I(1)), PC_ENOTINT);
    assert_int_equal(rc.calls, calls);

    /* A hook that cannot make room, the map full again: PC_EFULL, after
     * one call. */
    fill_up(f, &rc, &out);
    calls = rc.calls;
    rc.refuse = true;
    static uint8_t huge[64 << 10];
    memset(huge, 'h', sizeof huge);
    assert_int_equal(
        RUN1(f, &out, NULL, PCS_OP_SET, K("huge"), pc_mem(huge, sizeof huge), I(0), I(0)),
        PC_EFULL);
    assert_int_equal(rc.calls, calls + 1);
    assert_int_equal(lookup(f, 0, "huge", NULL, &stale), PC_ENOTFOUND);
    /* ... and one that can, by deleting fillers: it fits. */
    rc.refuse = false;
    assert_int_equal(
        RUN1(f, &out, NULL, PCS_OP_SET, K("huge"), pc_mem(huge, sizeof huge), I(0), I(0)), 0);
    assert_true(rc.calls > calls + 2);
    assert_true(rc.next < rc.have);
    f->w.room_fn = NULL;
    pcs_buf_free(&out);
}

/* ---- the reader (shm/reader.c) ---- */

/* What a reader's note saw. */
typedef struct notes {
    int hit, miss, other;
    uint64_t now;
} notes;

static void note_cb(void *ctx, const void *key, size_t klen, int rc, uint64_t now)
{
    notes *nt = ctx;
    assert_true(klen >= 1 && key);
    nt->now = now;
    if (rc == 0)
        nt->hit++;
    else if (rc == PC_ENOTFOUND)
        nt->miss++;
    else
        nt->other++;
}

static bool bytes_is(pc_val v, const char *s)
{
    return v.kind == PC_BYTES && v.s.len == strlen(s) && !memcmp(v.s.ptr, s, v.s.len);
}

/* Every operation on four shards: answers, the checks a peer's arguments
 * get (a type or set operation out of range is PC_EINVAL before any lookup),
 * the note after each lookup, and the read's own moment. */
static void test_reader_ops(void **state)
{
    fx *f = *state;
    pcs_buf out = PCS_BUF_INIT;
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("s"), K("hello"), I(0), I(0)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("n"), I(42), I(0), I(0)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_RPUSH, K("l"), K("a"), K("b"), K("c")), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_QPUSH, K("q"), K("first"), K("second")), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_HSET, K("h"), K("f"), K("v"), K("g"), I(7)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SADD, K("z"), I(1), I(2), I(3)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SADD, K("y"), I(2), I(4)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("t1"), K("x"), I(60000), I(0)), 0);
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("t2"), K("x"), I(120000), I(0)), 0);
    pcs_buf_free(&out);

    notes nt = {0};
    pcs_reader r;
    pcs_reader_init(&r, f->st, note_cb, &nt);
    uint64_t now = pcs_now_ms();
    pcs_reader_begin(&r, now);
    pc_val v;
    uint64_t u;
    int64_t i64;
    pc_type t;

    /* keys and strings */
    assert_int_equal(pcs_rd_get(&r, "s", 1, &v), 0);
    assert_true(bytes_is(v, "hello"));
    assert_int_equal(nt.hit, 1);
    assert_int_equal(nt.now, now);
    assert_int_equal(pcs_rd_get(&r, "n", 1, &v), 0);
    assert_true(v.kind == PC_INT && v.i == 42);
    assert_int_equal(pcs_rd_get(&r, "l", 1, &v), PC_EWRONGTYPE);
    assert_int_equal(nt.hit, 3); /* found, then the wrong type */
    assert_int_equal(pcs_rd_get(&r, "nope", 4, &v), PC_ENOTFOUND);
    assert_int_equal(nt.miss, 1);
    assert_int_equal(pcs_rd_get(&r, "", 0, &v), PC_EKEY);
    assert_int_equal(pcs_rd_get(&r, NULL, 3, &v), PC_EKEY);
    assert_int_equal(nt.hit + nt.miss + nt.other, 4); /* a bad key is never looked up */
    assert_int_equal(pcs_rd_type(&r, "q", 1, &t), 0);
    assert_int_equal(t, PC_T_QUEUE);
    assert_int_equal(pcs_rd_type(&r, "nope", 4, &t), 0);
    assert_int_equal(t, PC_T_NONE);
    assert_int_equal(pcs_rd_ttl(&r, "t1", 2, &i64), 0);
    assert_true(i64 > 0 && i64 <= 60000);
    assert_int_equal(pcs_rd_ttl(&r, "s", 1, &i64), 0);
    assert_int_equal(i64, -1);
    assert_int_equal(pcs_rd_version(&r, "s", 1, &u), 0);
    assert_true(u > 0);
    assert_int_equal(pcs_rd_strlen(&r, "s", 1, &u), 0);
    assert_int_equal(u, 5);
    assert_int_equal(pcs_rd_strlen(&r, "n", 1, &u), PC_EWRONGTYPE);
    assert_int_equal(pcs_rd_getrange(&r, "s", 1, 1, -2, &v), 0);
    assert_true(bytes_is(v, "ell"));

    /* collections; a type out of range never reaches a lookup */
    int before = nt.hit + nt.miss + nt.other;
    assert_int_equal(pcs_rd_count(&r, "l", 1, PC_T_STRING, &u), PC_EINVAL);
    assert_int_equal(pcs_rd_count(&r, "l", 1, (pc_type)99, &u), PC_EINVAL);
    assert_int_equal(pcs_rd_index(&r, "h", 1, PC_T_MAP, 0, &v), PC_EINVAL);
    size_t n = 5;
    pc_val vals[8];
    assert_int_equal(pcs_rd_range(&r, "l", 1, PC_T_SET, 0, -1, vals, 8, &n), PC_EINVAL);
    assert_int_equal(n, 0);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes two[2] = {pc_b("z", 1), pc_b("y", 1)};
    n = 5;
    assert_int_equal(pcs_rd_salg(&r, 3, two, 2, &cur, vals, 8, &n), PC_EINVAL);
    assert_int_equal(pcs_rd_salg(&r, -1, two, 2, &cur, vals, 8, &n), PC_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(nt.hit + nt.miss + nt.other, before);

    assert_int_equal(pcs_rd_count(&r, "l", 1, PC_T_LIST, &u), 0);
    assert_int_equal(u, 3);
    assert_int_equal(pcs_rd_count(&r, "l", 1, PC_T_MAP, &u), PC_EWRONGTYPE);
    assert_int_equal(pcs_rd_count(&r, "h", 1, PC_T_MAP, &u), 0);
    assert_int_equal(u, 2);
    assert_int_equal(pcs_rd_index(&r, "l", 1, PC_T_LIST, -1, &v), 0);
    assert_true(bytes_is(v, "c"));
    assert_int_equal(pcs_rd_index(&r, "l", 1, PC_T_LIST, 3, &v), PC_ERANGE);
    assert_int_equal(pcs_rd_index(&r, "q", 1, PC_T_QUEUE, 0, &v), 0);
    assert_true(bytes_is(v, "first"));
    assert_int_equal(pcs_rd_range(&r, "l", 1, PC_T_LIST, 1, -1, vals, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_true(bytes_is(vals[0], "b") && bytes_is(vals[1], "c"));
    assert_int_equal(pcs_rd_range(&r, "q", 1, PC_T_QUEUE, 0, -1, vals, 1, &n), 0);
    assert_int_equal(n, 1); /* at most max */
    assert_int_equal(pcs_rd_range(&r, "nope", 4, PC_T_LIST, 0, -1, vals, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pcs_rd_hget(&r, "h", 1, "g", 1, &v), 0);
    assert_true(v.kind == PC_INT && v.i == 7);
    assert_int_equal(pcs_rd_hget(&r, "h", 1, "x", 1, &v), PC_ENOTFOUND);
    pc_bytes fl[3] = {pc_b("f", 1), pc_b("x", 1), pc_b("g", 1)};
    assert_int_equal(pcs_rd_hmget(&r, "h", 1, fl, 3, vals), 0);
    assert_true(bytes_is(vals[0], "v") && vals[1].kind == PC_NONE && vals[2].kind == PC_INT);
    assert_int_equal(pcs_rd_hmget(&r, "nope", 4, fl, 3, vals), 0);
    assert_true(vals[0].kind == PC_NONE && vals[2].kind == PC_NONE);
    pc_bytes fields[8];
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_hscan(&r, "h", 1, &cur, fields, vals, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_false(cur.done);
    assert_int_equal(pcs_rd_hscan(&r, "h", 1, &cur, fields, vals, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pcs_rd_hscan(&r, "h", 1, &cur, fields, vals, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_true(cur.done);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_hscan(&r, "nope", 4, &cur, fields, vals, 8, &n), 0);
    assert_true(cur.done && n == 0);

    int is = 5;
    pc_val m = pc_int(2);
    assert_int_equal(pcs_rd_sismember(&r, "z", 1, &m, &is), 0);
    assert_int_equal(is, 1);
    m = pc_int(9);
    assert_int_equal(pcs_rd_sismember(&r, "z", 1, &m, &is), 0);
    assert_int_equal(is, 0);
    assert_int_equal(pcs_rd_sismember(&r, "nope", 4, &m, &is), 0);
    m = pc_dbl(NAN);
    assert_int_equal(pcs_rd_sismember(&r, "z", 1, &m, &is), PC_ENAN);
    m.kind = PC_NONE;
    assert_int_equal(pcs_rd_sismember(&r, "z", 1, &m, &is), PC_EINVAL);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_sscan(&r, "z", 1, &cur, vals, 8, &n), 0);
    assert_int_equal(n, 3);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_salg(&r, PCS_SET_UNION, two, 2, &cur, vals, 8, &n), 0);
    assert_int_equal(n, 4);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_salg(&r, PCS_SET_INTER, two, 2, &cur, vals, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_true(vals[0].kind == PC_INT && vals[0].i == 2);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_salg(&r, PCS_SET_DIFF, two, 2, &cur, vals, 8, &n), 0);
    assert_int_equal(n, 2);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_salg(&r, PCS_SET_UNION, NULL, 0, &cur, vals, 8, &n), 0);
    assert_true(cur.done && n == 0);

    /* the whole store, two keys a page across the four shards */
    pc_bytes keys[2];
    size_t total = 0, pages = 0;
    cur = (pc_cursor)PC_CURSOR_INIT;
    while (!cur.done) {
        assert_int_equal(pcs_rd_scan(&r, NULL, &cur, keys, 2, &n), 0);
        assert_true(n <= 2);
        total += n;
        assert_true(++pages < 100);
    }
    assert_int_equal(total, 9);
    total = 0;
    cur = (pc_cursor)PC_CURSOR_INIT;
    while (!cur.done) {
        assert_int_equal(pcs_rd_scan(&r, "t?", &cur, keys, 2, &n), 0);
        for (size_t i = 0; i < n; i++)
            assert_true(keys[i].len == 2 && ((const char *)keys[i].ptr)[0] == 't');
        total += n;
    }
    assert_int_equal(total, 2);
    assert_int_equal(pcs_rd_expired(&r, &u), 0);
    assert_int_equal(u, 0);

    /* a later read, a later moment: its own transactions, renewed */
    MDB_txn *t0 = r.txn[pcs_shard_of(4, "t1", 2)];
    assert_non_null(t0);
    pcs_reader_end(&r);
    assert_int_equal(r.live, 0);
    pcs_reader_begin(&r, now + 90000);
    assert_int_equal(pcs_rd_get(&r, "t1", 2, &v), PC_ENOTFOUND);
    assert_ptr_equal(r.txn[pcs_shard_of(4, "t1", 2)], t0);
    assert_int_equal(nt.now, now + 90000);
    assert_int_equal(pcs_rd_get(&r, "t2", 2, &v), 0);
    assert_int_equal(pcs_rd_expired(&r, &u), 0);
    assert_int_equal(u, 1);
    int64_t when[4];
    total = 0;
    cur = (pc_cursor)PC_CURSOR_INIT;
    while (!cur.done) {
        assert_int_equal(pcs_rd_expiry_scan(&r, "t*", &cur, keys, when, 1, &n), 0);
        for (size_t i = 0; i < n; i++) {
            /* set a moment before now, with its TTL */
            uint64_t ttl = ((const char *)keys[i].ptr)[1] == '1' ? 60000 : 120000;
            assert_true(keys[i].len == 2 && (uint64_t)when[i] <= now + ttl &&
                        (uint64_t)when[i] + 60000 > now + ttl);
        }
        total += n;
    }
    assert_int_equal(total, 2);
    cur = (pc_cursor)PC_CURSOR_INIT;
    assert_int_equal(pcs_rd_expiry_scan(&r, "s*", &cur, NULL, NULL, 4, &n), 0);
    assert_true(cur.done && n == 0);
    pcs_reader_end(&r);
    pcs_reader_fini(&r);
    assert_null(r.st);
    pcs_reader_fini(&r); /* again: nothing */
}

/* A malformed entry in the expiry index (a key of 8 bytes) is PC_ECORRUPT
 * for the count as for the listing; the count used to stop there and say 0. */
static void test_reader_expiry_corrupt(void **state)
{
    fx *f = *state;
    pcs_buf out = PCS_BUF_INIT;
    assert_int_equal(RUN1(f, &out, NULL, PCS_OP_SET, K("gone"), I(1), I(1), I(0)), 0);
    pcs_buf_free(&out);
    pcs_reader r;
    pcs_reader_init(&r, f->st, NULL, NULL);
    pcs_reader_begin(&r, pcs_now_ms() + 1000);
    uint64_t u = 0;
    assert_int_equal(pcs_rd_expired(&r, &u), 0);
    assert_int_equal(u, 1);
    pcs_reader_end(&r);

    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(f->st->shards[0].env, NULL, 0, &t), 0);
    uint8_t bad[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    MDB_val k = {sizeof bad, bad}, d = {0, NULL};
    assert_int_equal(mdb_put(t, f->st->shards[0].expiry, &k, &d, 0), 0);
    assert_int_equal(mdb_txn_commit(t), 0);

    pcs_reader_begin(&r, pcs_now_ms() + 1000);
    assert_int_equal(pcs_rd_expired(&r, &u), PC_ECORRUPT);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[4];
    size_t n;
    assert_int_equal(pcs_rd_expiry_scan(&r, NULL, &cur, keys, NULL, 4, &n), PC_ECORRUPT);
    pcs_reader_end(&r);
    pcs_reader_fini(&r);
}

/* The cursor codec: what it writes it reads back; anything else is
 * PC_EPROTO and leaves the cursor as it was. */
static void test_cursor_codec(void **state)
{
    (void)state;
    pc_cursor c = PC_CURSOR_INIT, back;
    c.started = 1;
    c.shard = 3;
    c.len = 5;
    memcpy(c.pos, "hello", 5);
    pcs_buf b = PCS_BUF_INIT;
    pcs_cursor_out(&b, &c);
    const uint8_t *p = b.data;
    pc_val v;
    assert_int_equal(pcs_val_decode(&p, b.data + b.len, &v), 0);
    assert_int_equal(v.kind, PC_BYTES);
    assert_int_equal(v.s.len, 8 + 5);
    memset(&back, 0xaa, sizeof back);
    assert_int_equal(pcs_cursor_dec(&v, &back), 0);
    assert_false(back.done);
    assert_int_equal(back.started, 1);
    assert_int_equal(back.shard, 3);
    assert_int_equal(back.len, 5);
    assert_memory_equal(back.pos, "hello", 5);

    /* In a request frame, the same bytes. */
    pcs_buf rb = PCS_BUF_INIT;
    pcs_enc e;
    pcs_enc_begin(&e, &rb, PCS_OP_R_SCAN, 1);
    pcs_enc_bytes(&e, "*", 1);
    c.done = true;
    pcs_cursor_enc(&e, &c);
    assert_int_equal(pcs_enc_end(&e), 0);
    pcs_req rq;
    assert_int_equal(pcs_req_decode(rb.data, pcs_frame_len(rb.data), &rq), 0);
    assert_int_equal(rq.argc, 2);
    assert_int_equal(pcs_cursor_dec(&rq.argv[1], &back), 0);
    assert_true(back.done);
    pcs_req_free(&rq);
    pcs_buf_free(&rb);

    /* A position longer than a cursor holds is cut at PC_CURSOR_POS_MAX. */
    c.len = 60000;
    pcs_buf_reset(&b);
    pcs_cursor_out(&b, &c);
    p = b.data;
    assert_int_equal(pcs_val_decode(&p, b.data + b.len, &v), 0);
    assert_int_equal(v.s.len, 8 + PC_CURSOR_POS_MAX);
    assert_int_equal(pcs_cursor_dec(&v, &back), 0);
    assert_int_equal(back.len, PC_CURSOR_POS_MAX);

    /* Malformed. */
    uint8_t raw[8 + PC_CURSOR_POS_MAX + 1] = {0};
    pc_cursor keep = PC_CURSOR_INIT;
    keep.shard = 77;
    pc_cursor t = keep;
    pc_val bad = pc_int(1);
    assert_int_equal(pcs_cursor_dec(&bad, &t), PC_EPROTO); /* not bytes */
    bad = pc_mem(raw, 7);
    assert_int_equal(pcs_cursor_dec(&bad, &t), PC_EPROTO); /* short */
    bad = pc_mem(raw, sizeof raw);
    pcs_put_le16(raw + 2, PC_CURSOR_POS_MAX + 1);
    assert_int_equal(pcs_cursor_dec(&bad, &t), PC_EPROTO); /* long */
    bad = pc_mem(raw, 8 + 3);
    pcs_put_le16(raw + 2, 4);
    assert_int_equal(pcs_cursor_dec(&bad, &t), PC_EPROTO); /* length disagrees */
    pcs_put_le16(raw + 2, 3);
    raw[0] = 2;
    assert_int_equal(pcs_cursor_dec(&bad, &t), PC_EPROTO); /* done not 0/1 */
    raw[0] = 0;
    raw[1] = 2;
    assert_int_equal(pcs_cursor_dec(&bad, &t), PC_EPROTO); /* started not 0/1 */
    assert_memory_equal(&t, &keep, sizeof t);
    raw[1] = 1;
    assert_int_equal(pcs_cursor_dec(&bad, &t), 0);
    assert_int_equal(t.len, 3);
    pcs_buf_free(&b);
}

/* The one glob matcher of key listings. */
static void test_glob_match(void **state)
{
    (void)state;
    char big[PC_KEY_MAX + 1];
    memset(big, 'a', sizeof big);
    /* NULL and "*" match anything, even what fnmatch cannot see. */
    assert_true(pcs_glob_match(NULL, "a\0b", 3));
    assert_true(pcs_glob_match("*", "a\0b", 3));
    assert_true(pcs_glob_match("*", big, sizeof big));
    /* Other patterns: fnmatch(3) without flags on the key as a C string. */
    assert_true(pcs_glob_match("user:*", "user:10", 7));
    assert_false(pcs_glob_match("user:*", "users", 5));
    assert_true(pcs_glob_match("a?c", "abc", 3));
    assert_false(pcs_glob_match("a?c", "ac", 2));
    assert_true(pcs_glob_match("[ab]x", "bx", 2));
    assert_false(pcs_glob_match("[ab]x", "cx", 2));
    assert_true(pcs_glob_match("a\\*b", "a*b", 3));
    assert_false(pcs_glob_match("a\\*b", "axb", 3));
    assert_true(pcs_glob_match("a/*", "a/b", 3));    /* no FNM_PATHNAME */
    assert_true(pcs_glob_match("abc", "abcdef", 3)); /* klen bytes only */
    assert_false(pcs_glob_match("", "a", 1));
    /* A key holding a NUL byte, or too long for a key, matches no other. */
    assert_false(pcs_glob_match("a*", "a\0b", 3));
    assert_false(pcs_glob_match("a*", big, sizeof big));
    assert_true(pcs_glob_match("a*", big, PC_KEY_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_list, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_replace_set, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_replace_map, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_delete_big, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_budget, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_txn_all_or_nothing, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_batch_partial_failure, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_set_missing_after_live, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_req_shard, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_room_hook, setup_small, teardown),
        cmocka_unit_test_teardown(test_alloc_fail_one_by_one, teardown_alloc),
        cmocka_unit_test_teardown(test_alloc_fail_batch, teardown_alloc),
        cmocka_unit_test_setup_teardown(test_reader_ops, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_reader_expiry_corrupt, setup1, teardown),
        cmocka_unit_test(test_cursor_codec),
        cmocka_unit_test(test_glob_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
