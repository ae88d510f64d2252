/*
 * test_daemon_shards.c - a store of 4 shards, whose writes run in a thread
 * per shard (daemon/writers.c; --writers threads, and also loop and auto),
 * answers as a client expects them:
 *
 *  - pipelined clients (raw, many requests in flight, several at once) get
 *    every answer in request order, with the value that order gives, while
 *    their requests spread over all 4 shards in every pass; a read among
 *    them sees every write before it;
 *  - a batch whose writes span the 4 shards is answered whole: every
 *    write's code and out-parameter, in order, a failing one among them
 *    failing alone; a transaction in one shard ({tag}) commits whole;
 *  - the same with --sync batch, whose syncs run in the shards' threads;
 *  - allkeys-lru making room for values up to 1 MiB in the 4 threads at once
 *    (during passes, and between them in eviction steps run in each
 *    shard's thread);
 *  - the TTL worker's steps and the sweep of a dropped collection's members
 *    in the shards' threads: every due key goes, counted once, the others
 *    stay; each shard's writer was busy with them.
 */
#include <sys/socket.h>

#include "../../shm/channel.h"
#include "../../shm/frame.h"
#include "../../shm/record.h"
#include "pctest.h"

#define NSHARDS 4
#define PL_CLIENTS 3
#define PL_REQS 6000
#define PL_KEYS 40
#define PL_READ_EVERY 251 /* a read now and then: the daemon stops draining there */

static int setup(void **state)
{
    return pt_daemon_fixture(state, 240);
}

static pt_daemon *start(void **state, const char *tag, const char *const *opts)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_new(d, tag, opts), 0);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    return d;
}

/* ---- pipelined raw clients ---- */

typedef struct pl_client {
    pt_raw raw;
    pcs_ring req, resp;
    int id;
    uint64_t sent, answered; /* request ids: sent so far, answered so far */
    int64_t model[PL_KEYS];  /* each key's value once the requests sent ran */
    int64_t want[PL_REQS];   /* each request's expected value */
    bool is_read[PL_REQS];
    pcs_buf frame;
    uint8_t ans[4096];
    size_t got; /* bytes of the answer being reassembled */
    unsigned per_shard[NSHARDS];
} pl_client;

static void pl_key(const pl_client *p, unsigned k, char *buf, size_t n)
{
    snprintf(buf, n, "pl%d-%u", p->id, k);
}

/* The key request i goes to: they cycle, so that consecutive requests fall
 * in different shards. */
static unsigned pl_key_of(uint64_t i)
{
    return (unsigned)((i * 7) % PL_KEYS);
}

/* Encode request i of p into p->frame: incrby key by i+1, or a read of it. */
static void pl_encode(pl_client *p, uint64_t i)
{
    char key[32];
    unsigned k = pl_key_of(i);
    pl_key(p, k, key, sizeof key);
    pcs_buf_reset(&p->frame);
    pcs_enc e;
    bool rd = i % PL_READ_EVERY == PL_READ_EVERY - 1;
    pcs_enc_begin(&e, &p->frame, rd ? PCS_OP_R_GET : PCS_OP_INCRBY, i);
    pcs_enc_bytes(&e, key, strlen(key));
    if (!rd) {
        pcs_enc_int(&e, (int64_t)i + 1);
        p->model[k] += (int64_t)i + 1;
        p->per_shard[pcs_shard_of(NSHARDS, key, strlen(key))]++;
    }
    assert_int_equal(pcs_enc_end(&e), 0);
    p->is_read[i] = rd;
    p->want[i] = p->model[k];
}

/* Put as many requests into the ring as it takes now; true if any. */
static bool pl_send(pl_client *p)
{
    bool any = false;
    while (p->sent < PL_REQS) {
        pl_encode(p, p->sent);
        uint32_t len = (uint32_t)pcs_frame_len(p->frame.data);
        if (pcs_ring_put(&p->req, p->frame.data, len, 0) != 0) {
            /* No room: undo the model's step, encode it again later. */
            if (!p->is_read[p->sent])
                p->model[pl_key_of(p->sent)] -= (int64_t)p->sent + 1;
            char key[32];
            pl_key(p, pl_key_of(p->sent), key, sizeof key);
            if (!p->is_read[p->sent])
                p->per_shard[pcs_shard_of(NSHARDS, key, strlen(key))]--;
            break;
        }
        p->sent++;
        any = true;
    }
    if (any) {
        pcs_ring_publish(&p->req);
        send(p->raw.sock, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    return any;
}

/* Take the answers there are, checking each is the next one expected. */
static bool pl_collect(pl_client *p)
{
    bool any = false;
    for (;;) {
        uint32_t n;
        uint16_t flags;
        int rc = pcs_ring_next(&p->resp, &n, &flags);
        if (rc == PC_EAGAIN)
            break;
        assert_int_equal(rc, 0);
        CHECK(p->got + n <= sizeof p->ans, "client %d: an answer of %zu bytes", p->id, p->got + n);
        pcs_ring_take(&p->resp, p->ans + p->got, n);
        p->got += n;
        any = true;
        if (flags & PCS_REC_MORE)
            continue;
        pcs_resp r;
        size_t sz;
        assert_int_equal(pcs_resp_parse(p->ans, p->got, &r, &sz), 0);
        p->got = 0;
        uint64_t i = p->answered;
        CHECK(r.id == i, "client %d: answer for request %llu came where %llu's was due", p->id,
              (unsigned long long)r.id, (unsigned long long)i);
        CHECK(r.rc == 0, "client %d: request %llu answered %d", p->id, (unsigned long long)i, r.rc);
        CHECK(r.op == (p->is_read[i] ? PCS_OP_R_GET : PCS_OP_INCRBY),
              "client %d: request %llu answered as op %u", p->id, (unsigned long long)i, r.op);
        assert_int_equal(r.nvals, 1);
        const uint8_t *v = r.vals;
        pc_val val;
        assert_int_equal(pcs_val_decode(&v, r.end, &val), 0);
        CHECK(val.kind == PC_INT && val.i == p->want[i],
              "client %d: request %llu (%s) got %lld, expected %lld", p->id, (unsigned long long)i,
              p->is_read[i] ? "read" : "incrby", (long long)val.i, (long long)p->want[i]);
        p->answered++;
    }
    if (any)
        pcs_ring_release(&p->resp);
    return any;
}

static void pipelined_in_order(void **state, const char *writers)
{
    pt_daemon *d = start(state, "pipeline", PT_ARGS("--shards", "4", "--writers", writers));
    static pl_client pc[PL_CLIENTS];
    memset(pc, 0, sizeof pc);
    for (int i = 0; i < PL_CLIENTS; i++) {
        pc[i].id = i;
        /* Ring-only: its reads are the daemon's to answer, in order. */
        OK(pt_raw_connect(d->dir, 0, PCS_HELLO_RING_ONLY, &pc[i].raw));
        pcs_chan_rings(pc[i].raw.map, 1, &pc[i].req, &pc[i].resp);
    }
    uint64_t until = pt_now_ms() + 120000;
    for (;;) {
        bool done = true, moved = false;
        for (int i = 0; i < PL_CLIENTS; i++) {
            moved |= pl_send(&pc[i]);
            moved |= pl_collect(&pc[i]);
            done &= pc[i].answered == PL_REQS;
        }
        if (done)
            break;
        CHECK(pt_now_ms() < until, "answers stopped coming: client 0 has %llu of %d",
              (unsigned long long)pc[0].answered, PL_REQS);
        if (!moved)
            pt_sleep_us(100);
    }
    /* Every shard had its share of each client's writes. */
    for (int i = 0; i < PL_CLIENTS; i++)
        for (unsigned s = 0; s < NSHARDS; s++)
            CHECK(pc[i].per_shard[s] > PL_REQS / NSHARDS / 4,
                  "client %d sent only %u writes to shard %u", i, pc[i].per_shard[s], s);
    /* The store holds what the answers said, read by a trusted client. */
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_read *r;
    OK(pc_read_begin(c, &r));
    for (int i = 0; i < PL_CLIENTS; i++)
        for (unsigned k = 0; k < PL_KEYS; k++) {
            char key[32];
            pl_key(&pc[i], k, key, sizeof key);
            pc_val v;
            OK(pc_get(r, key, strlen(key), &v));
            CHECK(v.kind == PC_INT && v.i == pc[i].model[k], "%s is %lld, expected %lld", key,
                  (long long)v.i, (long long)pc[i].model[k]);
        }
    pc_read_end(r);
    pc_close(c);
    for (int i = 0; i < PL_CLIENTS; i++) {
        pt_raw_close(&pc[i].raw);
        pcs_buf_free(&pc[i].frame);
    }
    STOP_CLEAN(d);
    d->passed = true;
}

static void test_pipelined_in_order(void **state)
{
    pipelined_in_order(state, "threads");
}

/* --writers loop: the same, every shard in the loop's thread. */
static void test_pipelined_in_order_loop(void **state)
{
    pipelined_in_order(state, "loop");
}

/* --writers auto: threads and the loop by turns, as measured. */
static void test_pipelined_in_order_auto(void **state)
{
    pipelined_in_order(state, "auto");
}

/* ---- a batch across the shards ---- */

#define BT_WRITES 800
#define BT_KEYS 24

static void batch_across(pt_daemon *d)
{
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_val str = pc_str("not a number");
    OK(pc_set(c, K("bt-str"), &str, 0, 0));
    /* What an increment of a String is answered, outside a batch. */
    int64_t dummy;
    int bad_rc = pc_incrby(c, K("bt-str"), 1, &dummy);
    assert_int_not_equal(bad_rc, 0);

    static int64_t out[BT_WRITES], want[BT_WRITES];
    static int rcs[BT_WRITES], want_rc[BT_WRITES];
    int64_t model[BT_KEYS] = {0};
    unsigned per_shard[NSHARDS] = {0};
    for (int round = 0; round < 3; round++) {
        OK(pc_batch_begin(c));
        for (int i = 0; i < BT_WRITES; i++) {
            out[i] = -1;
            if (i % 97 == 50) {
                OK(pc_incrby(c, K("bt-str"), 1, &out[i]));
                want_rc[i] = bad_rc;
                want[i] = -1; /* untouched */
                continue;
            }
            char key[32];
            unsigned k = (unsigned)((i * 5 + round) % BT_KEYS);
            snprintf(key, sizeof key, "bt-%u", k);
            per_shard[pcs_shard_of(NSHARDS, key, strlen(key))]++;
            OK(pc_incrby(c, key, strlen(key), i + 1, &out[i]));
            model[k] += i + 1;
            want[i] = model[k];
            want_rc[i] = 0;
        }
        assert_int_equal(pc_pending(c), BT_WRITES);
        assert_int_equal(pc_batch_exec(c, rcs, BT_WRITES), bad_rc);
        for (int i = 0; i < BT_WRITES; i++) {
            CHECK(rcs[i] == want_rc[i], "round %d: write %d answered %d, expected %d", round, i,
                  rcs[i], want_rc[i]);
            CHECK(out[i] == want[i], "round %d: write %d's value is %lld, expected %lld", round, i,
                  (long long)out[i], (long long)want[i]);
        }
    }
    for (unsigned s = 0; s < NSHARDS; s++)
        CHECK(per_shard[s] > 0, "no write of the batches went to shard %u", s);

    /* A transaction in one shard, by its tag, commits whole. */
    int64_t a = 0, b = 0;
    OK(pc_txn_begin(c));
    OK(pc_incrby(c, K("{tx}a"), 5, &a));
    OK(pc_incrby(c, K("{tx}b"), 7, &b));
    OK(pc_incrby(c, K("{tx}a"), 1, &a));
    OK(pc_txn_commit(c, NULL));
    assert_int_equal(a, 6);
    assert_int_equal(b, 7);

    pc_read *r;
    OK(pc_read_begin(c, &r));
    for (unsigned k = 0; k < BT_KEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "bt-%u", k);
        pc_val v;
        OK(pc_get(r, key, strlen(key), &v));
        CHECK(v.kind == PC_INT && v.i == model[k], "%s is %lld, expected %lld", key, (long long)v.i,
              (long long)model[k]);
    }
    pc_val v;
    OK(pc_get(r, K("bt-str"), &v));
    assert_int_equal(v.kind, PC_BYTES);
    pc_read_end(r);
    pc_close(c);
}

static void test_batch_across_shards(void **state)
{
    pt_daemon *d = start(state, "batch", PT_ARGS("--shards", "4", "--writers", "threads"));
    batch_across(d);
    STOP_CLEAN(d);
    d->passed = true;
}

/* --sync batch: the shards' syncs run in their writers' threads, every
 * millisecond or so here, between passes. */
static void test_batch_across_shards_sync_batch(void **state)
{
    pt_daemon *d = start(state, "syncbatch",
                         PT_ARGS("--shards", "4", "--writers", "threads", "--sync", "batch",
                                 "--sync-interval", "1"));
    batch_across(d);
    STOP_CLEAN(d);
    d->passed = true;
}

/* ---- making room in the shards' threads ---- */

#define EV_BATCHES 120
#define EV_BATCH 20

/* The sizes of test_upkeep_evict's mixed_sizes: 1 KiB up to --max-value. */
static const size_t ev_sizes[EV_BATCH] = {1 << 10,   3000,      1 << 20,   8 << 10,  200,
                                          64 << 10,  5000,      300 << 10, 1 << 10,  (1 << 20) - 64,
                                          17 << 10,  100 << 10, 2 << 10,   12 << 10, 700 << 10,
                                          250 << 10, 4 << 10,   40 << 10,  999,      512 << 10};

/* allkeys-lru, 4 shards of an 8 MiB map, 2,400 values of 1 KiB to 1 MiB in
 * batches of 20 across the shards: LMDB finds no run of pages for many of
 * them, and the shards' threads evict for them at once (pcd_room_hook,
 * each with its own budget, wait and generator).  Every write succeeds. */
static void test_evict_in_threads(void **state)
{
    pt_daemon *d = start(state, "evict",
                         PT_ARGS("--shards", "4", "--writers", "threads", "--eviction",
                                 "allkeys-lru", "--max-memory", "8M", "--max-value", "1M"));
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    static uint8_t val[1 << 20];
    char key[64];
    int rcs[EV_BATCH];
    for (int b = 0; b < EV_BATCHES; b++) {
        OK(pc_batch_begin(c));
        for (int j = 0; j < EV_BATCH; j++) {
            uint64_t i = (uint64_t)(b * EV_BATCH + j);
            size_t len = ev_sizes[(j + b) % EV_BATCH];
            pt_fill(val, len, i);
            pc_val v = pc_mem(val, len);
            OK(pc_set(c, K(pt_key(key, sizeof key, "ev", i)), &v, 0, 0));
        }
        int rc = pc_batch_exec(c, rcs, EV_BATCH);
        for (int j = 0; j < EV_BATCH; j++)
            CHECK(rcs[j] == 0, "batch %d: write %d answered %s", b, j, pc_err_name(rcs[j]));
        assert_int_equal(rc, 0);
    }
    pc_stats st;
    OK(pt_stats_next(c, &st));
    CHECK(st.evicted > 0, "nothing was evicted");
    CHECK(st.bytes_used <= st.max_memory, "%llu bytes used of %llu",
          (unsigned long long)st.bytes_used, (unsigned long long)st.max_memory);
    /* The last value is there, whole (the LRU keeps the newest). */
    uint64_t i = (uint64_t)(EV_BATCHES * EV_BATCH - 1);
    size_t len = ev_sizes[(EV_BATCH - 1 + EV_BATCHES - 1) % EV_BATCH];
    pc_read *r;
    OK(pc_read_begin(c, &r));
    pc_val v;
    OK(pc_get(r, K(pt_key(key, sizeof key, "ev", i)), &v));
    pt_fill(val, len, i);
    CHECK(v.kind == PC_BYTES && v.s.len == len && !memcmp(v.s.ptr, val, len),
          "%s is not what was written", key);
    pc_read_end(r);
    pc_close(c);
    STOP_CLEAN(d);
    d->passed = true;
}

/* The upkeep in the shards' threads: 4,000 keys due at once over 4 shards
 * (steps of 500, a step in each shard at once), 100 without a TTL, and a
 * list of 20,000 members deleted (swept). */
#define UP_DUE 4000
#define UP_KEEP 100
#define UP_MEMBERS 20000
static void test_upkeep_in_threads(void **state)
{
    pt_daemon *d = start(state, "upkeep", PT_ARGS("--shards", "4", "--writers", "threads"));
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    OK(pc_set_expire_interval(c, 0)); /* all due before the worker runs */
    char key[64];
    unsigned per[NSHARDS] = {0};
    pc_val one = pc_int(1);
    for (int b = 0; b < UP_DUE / 100; b++) {
        OK(pc_batch_begin(c));
        for (int j = 0; j < 100; j++) {
            pt_key(key, sizeof key, "due", (uint64_t)(b * 100 + j));
            per[pcs_shard_of(NSHARDS, K(key))]++;
            OK(pc_set(c, K(key), &one, 1, 0));
        }
        OK(pc_batch_exec(c, NULL, 0));
    }
    for (int s = 0; s < NSHARDS; s++)
        CHECK(per[s] > 500, "shard %d has only %u due keys", s, per[s]);
    for (int i = 0; i < UP_KEEP; i++)
        OK(pc_set(c, K(pt_key(key, sizeof key, "keep", (uint64_t)i)), &one, 0, 0));
    static pc_val members[1000];
    for (int i = 0; i < 1000; i++)
        members[i] = pc_int(i);
    for (int i = 0; i < UP_MEMBERS / 1000; i++)
        OK(pc_rpush(c, K("biglist"), members, 1000, NULL));
    pc_stats st0, st;
    OK(pt_stats_next(c, &st0));
    EQ(st0.keys[0], UP_DUE + UP_KEEP + 1);
    pc_shard_stats sh0[NSHARDS], sh[NSHARDS];
    size_t n;
    OK(pc_stats_shards(c, sh0, NSHARDS, &n));
    EQ(n, NSHARDS);
    pt_sleep_ms(5);
    OK(pc_del(c, K("biglist"), NULL));
    OK(pc_set_expire_interval(c, 10));
    uint64_t until = pt_now_ms() + 30000;
    do {
        OK(pt_stats_next(c, &st));
    } while ((st.keys[0] != UP_KEEP || st.swept < st0.swept + UP_MEMBERS) && pt_now_ms() < until);
    EQ(st.keys[0], UP_KEEP);
    EQ(st.keys_ttl, 0);
    EQ(st.expired, st0.expired + UP_DUE);
    assert_true(st.swept >= st0.swept + UP_MEMBERS);
    OK(pc_stats_shards(c, sh, NSHARDS, &n));
    for (int s = 0; s < NSHARDS; s++)
        CHECK(sh[s].busy_us > sh0[s].busy_us, "shard %d's writer was not busy expiring", s);
    pc_read *r;
    OK(pc_read_begin(c, &r));
    for (int i = 0; i < UP_KEEP; i++) {
        pc_val v;
        OK(pc_get(r, K(pt_key(key, sizeof key, "keep", (uint64_t)i)), &v));
    }
    pc_read_end(r);
    pc_close(c);
    STOP_CLEAN(d);
    d->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_in_order_loop, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_in_order_auto, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_batch_across_shards, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_batch_across_shards_sync_batch, setup,
                                        pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_evict_in_threads, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_upkeep_in_threads, setup, pt_daemon_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
