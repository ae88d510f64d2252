/*
 * test_upkeep_stats.c - the daemon's statistics page, and pcstat's view of it.
 *
 *  - After a known workload the page agrees exactly: keys per type, keys
 *    with a TTL, every per-operation counter, requests and errors, hits and
 *    misses of a trusted client's zero-copy reads and of a ring-only
 *    client's served reads, clients connected (and after they leave), the
 *    client list, the daemon's settings.  Each check waits for the next
 *    publication (the daemon republishes every 100 ms).
 *  - `pcstat --json` parses and agrees with pc_stats_get, field by field,
 *    including expired_pending; pcstat reads the page without adding to it
 *    and adds exactly one request of its own (it connects ring-only).
 *  - Each shard's writer (pc_stats_shards, pcstat's "# Shards" and
 *    shard_stats): the writes counted in the shard of their key, group
 *    commits and their sizes adding up, busy time where there were writes,
 *    the same figures in pcstat's text and JSON.
 */
#include <jansson.h>

#include "../../shm/record.h"
#include "pctest.h"

typedef struct fixture {
    pt_daemon d;
    pc_client *a;  /* trusted: zero-copy reads */
    pc_client *b;  /* ring-only: reads served by the daemon */
    pc_client *ro; /* ring-only, only to look at the page */
} fixture;

static int setup(void **state)
{
    static const char *const extra[] = {"--shards", "2", "--max-readers", "126", NULL};
    fixture *f = calloc(1, sizeof *f);
    if (!f || pt_small_daemon(&f->d, extra)) {
        free(f);
        return -1;
    }
    if (pt_connect(f->d.dir, PC_OPT_RING_ONLY, &f->ro)) {
        pt_daemon_end(&f->d);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    pc_close(f->a);
    pc_close(f->b);
    pc_close(f->ro);
    int rc = pt_daemon_end(&f->d);
    free(f);
    return rc;
}

static void next_stats(pc_client *c, pc_stats *st)
{
    assert_int_equal(pt_stats_next(c, st), 0);
}

static uint64_t hist_sum(const uint64_t *h)
{
    uint64_t s = 0;
    for (int i = 0; i < PC_STATS_HIST; i++)
        s += h[i];
    return s;
}

/* Every op counter is zero except those named in want (name, count pairs). */
static void ops_are(const pc_stats *st, const char *const *names, const uint64_t *counts, size_t n)
{
    for (unsigned i = 0; i < PC_STATS_OPS; i++) {
        const char *name = pc_stats_op_name(i);
        uint64_t want = 0;
        for (size_t k = 0; k < n; k++)
            if (name && !strcmp(name, names[k]))
                want = counts[k];
        if (st->ops[i] != want) {
            print_error("ops[%u] (%s) == %" PRIu64 ", expected %" PRIu64 "\n", i,
                        name ? name : "unnamed", st->ops[i], want);
            fail();
        }
    }
}

/* ---- bytes_used follows a burst of writes ---- */

/*
 * The daemon measured bytes_used only when the cap check needed it (near the
 * cap, or on a write pass 100 ms after the last measurement), so a burst of
 * writes that ended within 100 ms of the last measurement left the page
 * showing the old figure until the next write: pcbench's load of 10,000 keys
 * read 0 bytes a key.  After a burst, the next publication must show it.
 */
#define BURST_KEYS 2000
#define BURST_VALUE 200

static void test_bytes_used_after_burst(void **state)
{
    fixture *f = *state;
    pc_stats before, after;
    OK(pt_connect(f->d.dir, 0, &f->a));
    next_stats(f->ro, &before);
    static uint8_t val[BURST_VALUE];
    char key[32];
    OK(pc_batch_begin(f->a));
    for (int i = 0; i < BURST_KEYS; i++) {
        pt_fill(val, sizeof val, (uint64_t)i);
        pc_val v = pc_mem(val, sizeof val);
        snprintf(key, sizeof key, "burst:%d", i);
        OK(pc_set(f->a, K(key), &v, 0, 0));
    }
    int rcs[BURST_KEYS];
    OK(pc_batch_exec(f->a, rcs, BURST_KEYS));
    next_stats(f->ro, &after);
    EQ(after.keys[0], before.keys[0] + BURST_KEYS);
    if (after.bytes_used < before.bytes_used + BURST_KEYS * BURST_VALUE / 2)
        fail_msg("bytes_used %" PRIu64 " -> %" PRIu64 " after %d writes of %d bytes",
                 before.bytes_used, after.bytes_used, BURST_KEYS, BURST_VALUE);
}

/* ---- the known workload ---- */

static void set_str(pc_client *c, const char *key, int64_t ttl)
{
    pc_val v = pc_str(key);
    OK(pc_set(c, K(key), &v, ttl, 0));
}

static void test_stats_exact(void **state)
{
    fixture *f = *state;
    pc_stats st;
    const int64_t hour = 3600 * 1000;

    /* A fresh daemon: nothing counted, its settings on the page. */
    next_stats(f->ro, &st);
    EQ(st.pid, f->d.pid);
    assert_true(st.started_ms > 0 && st.started_ms <= st.taken_ms);
    EQ(st.requests, 0);
    EQ(st.keys[0], 0);
    EQ(st.rounds, 0);
    EQ(st.shards, 2);
    EQ(st.policy, PC_POLICY_NOEVICTION);
    EQ(st.expire_interval_ms, 100);
    assert_true(st.max_memory >= (UINT64_C(32) << 20));
    assert_true(st.evict_above < st.max_memory && st.evict_above >= st.max_memory / 100 * 89);
    assert_true(st.readers_max >= 126);
    EQ(st.clients_trusted, 0);
    EQ(st.clients_ring_only, 1); /* f->ro */
    EQ(st.snapshot_state, 0);

    OK(pt_connect(f->d.dir, 0, &f->a));
    OK(pt_connect(f->d.dir, PC_OPT_RING_ONLY, &f->b));
    pc_client *a = f->a;
    char key[32];

    /* Writes by the trusted client: 33 requests, one of them an error. */
    for (int i = 0; i < 10; i++) { /* 10 set: s0..s9, s0..s2 with a TTL */
        snprintf(key, sizeof key, "s%d", i);
        set_str(a, key, i < 3 ? hour : 0);
    }
    for (int i = 0; i < 4; i++) { /* 4 set: numerics n0..n3, n0 with a TTL */
        pc_val v = pc_int(i * 100);
        snprintf(key, sizeof key, "n%d", i);
        OK(pc_set(a, K(key), &v, i == 0 ? hour : 0, 0));
    }
    int64_t now;
    OK(pc_incrby(a, K("i0"), 5, &now)); /* 2 incrby: new numerics */
    OK(pc_incrby(a, K("i1"), 5, &now));
    pc_val three[3] = {pc_int(1), pc_str("two"), pc_dbl(3.5)};
    for (int i = 0; i < 3; i++) { /* 3 rpush: lists l0..l2 */
        snprintf(key, sizeof key, "l%d", i);
        OK(pc_rpush(a, K(key), three, 3, NULL));
    }
    pc_bytes fields[2] = {pc_b("f", 1), pc_b("g", 1)};
    OK(pc_hset(a, K("m0"), fields, three, 2, NULL)); /* 2 hset */
    OK(pc_hset(a, K("m1"), fields, three, 2, NULL));
    OK(pc_sadd(a, K("t0"), three, 3, NULL)); /* 2 sadd */
    OK(pc_sadd(a, K("t1"), three, 1, NULL));
    OK(pc_qpush(a, K("q0"), three, 2, NULL)); /* 1 qpush */
    int deleted = 0;
    OK(pc_del(a, K("s9"), &deleted)); /* 1 del */
    assert_int_equal(deleted, 1);
    int set = 0;
    OK(pc_expire(a, K("l0"), hour, &set)); /* 1 expire: l0 gets a TTL */
    assert_int_equal(set, 1);
    RC(PC_ENOTINT, pc_incrby(a, K("s0"), 1, &now)); /* 1 incrby, an error: no number */
    OK(pc_batch_begin(a));                          /* 5 set in one batch */
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "b%d", i);
        set_str(a, key, 0);
    }
    OK(pc_batch_exec(a, NULL, 0));
    OK(pc_txn_begin(a)); /* 1 txn (one request) setting two keys of one shard */
    set_str(a, "{t}x", 0);
    set_str(a, "{t}y", 0);
    OK(pc_txn_commit(a, NULL));

    /* Zero-copy reads by the trusted client: 7 hits, 3 misses. */
    pc_read *r;
    pc_val v;
    OK(pc_read_begin(a, &r));
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "s%d", i);
        OK(pc_get(r, K(key), &v));
    }
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "x%d", i);
        RC(PC_ENOTFOUND, pc_get(r, K(key), &v));
    }
    pc_read_end(r);

    /* Reads by the ring-only client, served by the daemon: 3 get requests,
     * 2 hits and 1 miss. */
    OK(pc_read_begin(f->b, &r));
    OK(pc_get(r, K("s7"), &v));
    OK(pc_get(r, K("n1"), &v));
    assert_int_equal(v.kind, PC_INT);
    RC(PC_ENOTFOUND, pc_get(r, K("x9"), &v));
    pc_read_end(r);

    /* The client list: 1 clients request. */
    pc_client_info ci[8];
    size_t n = 0, total = 0;
    OK(pc_clients(a, ci, 8, &n, &total));
    EQ(total, 3);
    EQ(n, 3);
    int seen_a = 0, seen_b = 0;
    for (size_t i = 0; i < n; i++) {
        EQ(ci[i].pid, getpid());
        EQ(ci[i].uid, geteuid());
        assert_false(ci[i].blocked);
        assert_true(ci[i].since_ms > 0 && ci[i].since_ms <= (uint64_t)pt_wall_ms());
        if (!ci[i].ring_only) {
            seen_a++;
            /* Its 33 writes, and (if counted before it is answered) the
             * clients request itself. */
            assert_true(ci[i].requests == 33 || ci[i].requests == 34);
            EQ(ci[i].reads_hit, 7);
            EQ(ci[i].reads_miss, 3);
        } else if (ci[i].requests == 3) {
            seen_b++;
            EQ(ci[i].reads_hit, 0); /* it made no zero-copy reads */
            EQ(ci[i].reads_miss, 0);
        } else {
            EQ(ci[i].requests, 0); /* f->ro */
        }
    }
    assert_int_equal(seen_a, 1);
    assert_int_equal(seen_b, 1);

    next_stats(f->ro, &st);
    EQ(st.keys[PC_T_STRING], 16); /* s0..s8, b0..b4, {t}x, {t}y */
    EQ(st.keys[PC_T_NUMERIC], 6); /* n0..n3, i0, i1 */
    EQ(st.keys[PC_T_LIST], 3);
    EQ(st.keys[PC_T_MAP], 2);
    EQ(st.keys[PC_T_SET], 2);
    EQ(st.keys[PC_T_QUEUE], 1);
    EQ(st.keys[0], 30);
    EQ(st.keys_ttl, 5); /* s0, s1, s2, n0, l0 */
    static const char *const names[] = {"set", "incrby", "rpush", "hset", "sadd",   "qpush",
                                        "del", "expire", "txn",   "get",  "clients"};
    static const uint64_t counts[] = {19, 3, 3, 2, 2, 1, 1, 1, 1, 3, 1};
    ops_are(&st, names, counts, sizeof counts / sizeof *counts);
    EQ(st.requests, 37);
    /* Answered with an error code: the wrong-type incrby.  The ring-only
     * miss (PC_ENOTFOUND) is a miss, not an error; a zero-copy miss is no
     * request at all. */
    EQ(st.errors, 1);
    EQ(st.reads_hit, 9);
    EQ(st.reads_miss, 4);
    EQ(st.clients_trusted, 1);
    EQ(st.clients_ring_only, 2);
    EQ(st.expired, 0);
    EQ(st.evicted, 0);
    assert_true(st.rounds >= 1 && st.rounds <= st.requests);
    EQ(hist_sum(st.round_size), st.rounds);
    EQ(hist_sum(st.round_us), st.rounds);
    assert_true(st.bytes_used > 0 && st.bytes_used <= st.max_memory);
    assert_true(st.readers_used <= st.readers_max);

    /* Clients leave: the counts follow, the hits and misses stay. */
    pc_close(f->b);
    f->b = NULL;
    next_stats(f->ro, &st);
    EQ(st.clients_trusted, 1);
    EQ(st.clients_ring_only, 1);
    EQ(st.reads_hit, 9);
    EQ(st.reads_miss, 4);
    pc_close(f->a);
    f->a = NULL;
    next_stats(f->ro, &st);
    EQ(st.clients_trusted, 0);
    EQ(st.clients_ring_only, 1);
    EQ(st.reads_hit, 9);
    EQ(st.reads_miss, 4);
    EQ(st.requests, 37);
    EQ(st.keys[0], 30);
}

/* ---- pcstat --json ---- */

static json_t *field(json_t *o, const char *name)
{
    json_t *j = json_object_get(o, name);
    if (!j)
        print_error("pcstat --json has no field '%s'\n", name);
    assert_non_null(j);
    return j;
}

static uint64_t num(json_t *o, const char *name)
{
    json_t *j = field(o, name);
    if (!json_is_integer(j))
        print_error("pcstat --json: '%s' is not an integer\n", name);
    assert_true(json_is_integer(j));
    assert_true(json_integer_value(j) >= 0);
    return (uint64_t)json_integer_value(j);
}

static const char *text(json_t *o, const char *name)
{
    json_t *j = field(o, name);
    assert_true(json_is_string(j));
    return json_string_value(j);
}

static void hist_equal(json_t *o, const char *name, const uint64_t *h)
{
    json_t *a = field(o, name);
    assert_true(json_is_array(a));
    EQ(json_array_size(a), PC_STATS_HIST);
    for (size_t i = 0; i < PC_STATS_HIST; i++) {
        json_t *e = json_array_get(a, i);
        assert_true(json_is_integer(e));
        EQ(json_integer_value(e), h[i]);
    }
}

/* Run pcstat with args; its stdout in *r (exit status checked by caller). */
static void run_pcstat(const fixture *f, const char *a1, const char *a2, pt_output *r)
{
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/pcstat", pt_builddir());
    char *argv[] = {exe, "-d", (char *)f->d.dir, (char *)a1, (char *)a2, NULL};
    assert_int_equal(pt_run(argv, 20000, r), 0);
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
        print_error("pcstat %s: status 0x%x, stderr: %s\n", a1 ? a1 : "", (unsigned)r->status,
                    r->err);
    assert_true(r->status >= 0 && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0);
}

static void test_pcstat_json_agrees(void **state)
{
    fixture *f = *state;
    pc_client *a;
    OK(pt_connect(f->d.dir, 0, &a));
    f->a = a;
    /* Some of everything, and 4 expired keys the stopped worker leaves. */
    OK(pc_set_expire_interval(a, 0));
    char key[32];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "k%d", i);
        set_str(a, key, i < 4 ? 1 : i < 10 ? 3600 * 1000 : 0);
    }
    pc_val three[3] = {pc_int(1), pc_str("two"), pc_dbl(3.5)};
    OK(pc_rpush(a, K("list"), three, 3, NULL));
    OK(pc_sadd(a, K("set"), three, 3, NULL));
    RC(PC_ENOTINT, pc_incrby(a, K("k20"), 1, NULL));
    pc_read *r;
    pc_val v;
    OK(pc_read_begin(a, &r));
    OK(pc_get(r, K("k30"), &v));
    RC(PC_ENOTFOUND, pc_get(r, K("nope"), &v));
    pc_read_end(r);
    pt_sleep_ms(20);
    uint64_t pending;
    OK(pc_read_begin(a, &r));
    OK(pc_expired_count(r, &pending));
    pc_read_end(r);
    EQ(pending, 4);

    pc_stats st, after;
    next_stats(f->ro, &st);
    pt_output out;
    run_pcstat(f, "--json", NULL, &out);
    json_error_t jerr;
    json_t *o = json_loads(out.out, 0, &jerr);
    if (!o)
        print_error("pcstat --json is not JSON: %s (line %d)\n%s\n", jerr.text, jerr.line, out.out);
    assert_non_null(o);
    assert_true(json_is_object(o));
    pt_output_free(&out);

    /* What pcstat read is the page as published before it ran. */
    EQ(num(o, "pid"), st.pid);
    EQ(num(o, "started_ms"), st.started_ms);
    assert_true(num(o, "taken_ms") >= st.taken_ms);
    json_t *ops = field(o, "ops");
    assert_true(json_is_object(ops));
    size_t named = 0;
    for (unsigned i = 0; i < PC_STATS_OPS; i++) {
        const char *name = pc_stats_op_name(i);
        if (!name)
            continue;
        named++;
        EQ(num(ops, name), st.ops[i]);
    }
    EQ(json_object_size(ops), named);
    EQ(num(o, "requests"), st.requests);
    EQ(num(o, "errors"), st.errors);
    EQ(st.errors, 1);
    EQ(num(o, "reads_hit"), st.reads_hit);
    EQ(num(o, "reads_miss"), st.reads_miss);
    EQ(st.reads_hit, 1);
    EQ(st.reads_miss, 1);
    json_t *keys = field(o, "keys");
    static const char *const tnames[PC_T__COUNT] = {"total", "string", "numeric", "list",
                                                    "map",   "set",    "queue",   "flight",
                                                    "bits",  "bloom",  "stream",  "zset"};
    for (int t = 0; t < PC_T__COUNT; t++)
        EQ(num(keys, tnames[t]), st.keys[t]);
    EQ(st.keys[0], 42);
    EQ(num(o, "keys_ttl"), st.keys_ttl);
    EQ(num(o, "expired"), st.expired);
    EQ(num(o, "evicted"), st.evicted);
    EQ(num(o, "swept"), st.swept);
    uint64_t bytes_used = num(o, "bytes_used"); /* measured on its own clock: below */
    EQ(num(o, "max_memory"), st.max_memory);
    EQ(num(o, "evict_above"), st.evict_above);
    assert_string_equal(text(o, "policy"), pc_policy_name((pc_policy)st.policy));
    EQ(num(o, "expire_interval_ms"), 0);
    EQ(num(o, "shards"), st.shards);
    EQ(num(o, "clients_trusted"), st.clients_trusted);
    /* pcstat itself is ring-only; it may or may not be on the page yet. */
    uint64_t ring = num(o, "clients_ring_only");
    assert_true(ring == st.clients_ring_only || ring == st.clients_ring_only + 1);
    assert_true(num(o, "readers_used") <= num(o, "readers_max"));
    EQ(num(o, "readers_max"), st.readers_max);
    (void)num(o, "oldest_reader_ms");
    EQ(num(o, "rounds"), st.rounds);
    hist_equal(o, "round_size", st.round_size);
    hist_equal(o, "round_us", st.round_us);
    assert_string_equal(text(o, "snapshot_state"), "none");
    json_t *src = field(o, "snapshot_rc");
    assert_true(json_is_integer(src) && json_integer_value(src) == st.snapshot_rc);
    assert_string_equal(text(o, "snapshot_result"), pc_err_name(st.snapshot_rc));
    EQ(num(o, "snapshot_ms"), st.snapshot_ms);
    EQ(num(o, "snapshot_took_ms"), st.snapshot_took_ms);
    EQ(num(o, "snapshot_keys"), st.snapshot_keys);
    EQ(num(o, "snapshot_bytes"), st.snapshot_bytes);
    EQ(num(o, "expired_pending"), 4);
    assert_string_equal(text(o, "version"), PACKAGE_VERSION);
    json_decref(o);

    /* pcstat added exactly one request (counting the expired keys), over
     * the ring, and left. */
    next_stats(f->ro, &after);
    EQ(after.requests, st.requests + 1);
    EQ(after.ops[pt_op("expired")], st.ops[pt_op("expired")] + 1);
    EQ(after.clients_ring_only, st.clients_ring_only);
    EQ(after.reads_hit, st.reads_hit);
    EQ(after.keys[0], st.keys[0]);
    /* Usage is measured now and then, not at each publication: what pcstat
     * showed lies between the measurements before and after it. */
    assert_true(bytes_used >=
                (st.bytes_used < after.bytes_used ? st.bytes_used : after.bytes_used));
    assert_true(bytes_used <=
                (st.bytes_used > after.bytes_used ? st.bytes_used : after.bytes_used));

    /* The text summary shows the same figures, in sections. */
    run_pcstat(f, NULL, NULL, &out);
    char line[128];
    static const char *const sections[] = {"# Server\n",    "\n# Clients\n", "\n# Memory\n",
                                           "\n# Keys\n",    "\n# Stats\n",   "\n# Commits\n",
                                           "\n# Snapshot\n"};
    const char *at = out.out;
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        const char *s = strstr(at, sections[i]);
        if (!s)
            print_error("no section '%s' (in order) in:\n%s\n", sections[i], out.out);
        assert_non_null(s);
        at = s + 1;
    }
    snprintf(line, sizeof line, "\nkeys:%" PRIu64 "\n", after.keys[0]);
    assert_non_null(strstr(out.out, line));
    snprintf(line, sizeof line, "\nrequests:%" PRIu64 "\n", after.requests);
    assert_non_null(strstr(out.out, line));
    snprintf(line, sizeof line, "\npid:%" PRIu64 "\n", after.pid);
    assert_non_null(strstr(out.out, line));
    assert_non_null(strstr(out.out, "\nexpired_pending:4\n"));
    assert_non_null(strstr(out.out, "\nkeys_with_ttl:10\n"));
    assert_non_null(strstr(out.out, "\nerrors:1\n"));
    assert_non_null(strstr(out.out, "\nhit_ratio:0.5000\n"));
    assert_non_null(strstr(out.out, "\nop_set:40\n"));
    assert_non_null(strstr(out.out, "\nop_rpush:1\n"));
    assert_non_null(strstr(out.out, "\neviction_policy:noeviction\n"));
    assert_non_null(strstr(out.out, "\nexpire_interval_ms:0\n"));
    assert_null(strstr(out.out, "\nop_lpush:")); /* only counters that are not zero */
    pt_output_free(&out);
}

/* Wait until the shards' published writes add up to want; sh[0..2). */
static void shards_wait(const fixture *f, uint64_t want, pc_shard_stats *sh)
{
    uint64_t until = pt_now_ms() + 10000;
    for (;;) {
        size_t n = 0;
        pc_stats st;
        next_stats(f->ro, &st);
        OK(pc_stats_shards(f->ro, sh, 2, &n));
        EQ(n, 2);
        if (sh[0].writes + sh[1].writes == want)
            return;
        if (pt_now_ms() > until) {
            print_error("shards' writes %" PRIu64 " + %" PRIu64 ", want %" PRIu64 "\n",
                        sh[0].writes, sh[1].writes, want);
            fail();
        }
    }
}

static void test_shard_stats(void **state)
{
    fixture *f = *state;
    pc_shard_stats sh[4];
    size_t n = 99;
    memset(sh, 0xff, sizeof sh);
    RC(PC_EINVAL, pc_stats_shards(f->ro, NULL, 2, &n));
    RC(PC_EINVAL, pc_stats_shards(f->ro, sh, 2, NULL));
    RC(PC_EINVAL, pc_stats_shards(NULL, sh, 2, &n));
    EQ(n, 99);
    /* A fresh daemon of 2 shards: two writers, nothing counted; max caps n. */
    OK(pc_stats_shards(f->ro, sh, 4, &n));
    EQ(n, 2);
    for (int s = 0; s < 2; s++) {
        EQ(sh[s].writes, 0);
        EQ(sh[s].commits, 0);
        EQ(sh[s].failed, 0);
        EQ(sh[s].busy_us, 0);
        EQ(hist_sum(sh[s].commit_size), 0);
    }
    OK(pc_stats_shards(f->ro, sh, 1, &n));
    EQ(n, 1);
    OK(pc_stats_shards(f->ro, sh, 0, &n));
    EQ(n, 0);

    /* 60 writes in batches, each counted in its key's shard; then a
     * transaction of 3 writes, one request, in the shard of tag {t}. */
    OK(pt_connect(f->d.dir, 0, &f->a));
    uint64_t want[2] = {0, 0};
    char key[32];
    for (int b = 0; b < 3; b++) {
        OK(pc_batch_begin(f->a));
        for (int i = 0; i < 20; i++) {
            snprintf(key, sizeof key, "w%d.%d", b, i);
            want[pcs_shard_of(2, K(key))]++;
            set_str(f->a, key, 0);
        }
        OK(pc_batch_exec(f->a, NULL, 0));
    }
    assert_true(want[0] > 0 && want[1] > 0); /* 60 keys reach both shards */
    OK(pc_txn_begin(f->a));
    set_str(f->a, "{t}a", 0);
    set_str(f->a, "{t}b", 0);
    set_str(f->a, "{t}c", 0);
    OK(pc_txn_commit(f->a, NULL));
    want[pcs_shard_of(2, K("{t}"))]++;
    shards_wait(f, want[0] + want[1], sh);
    for (int s = 0; s < 2; s++) {
        EQ(sh[s].writes, want[s]);
        EQ(sh[s].failed, 0);
        /* One group commit a pass with writes for the shard: at least one,
         * at most one a write; the sizes' histogram counts each. */
        assert_true(sh[s].commits >= 1 && sh[s].commits <= want[s]);
        EQ(hist_sum(sh[s].commit_size), sh[s].commits);
        assert_true(sh[s].busy_us > 0);
    }

    /* pcstat shows the same, in JSON and in its text. */
    pt_output out;
    run_pcstat(f, "--json", NULL, &out);
    json_error_t jerr;
    json_t *o = json_loads(out.out, 0, &jerr);
    assert_non_null(o);
    pt_output_free(&out);
    json_t *a = field(o, "shard_stats");
    assert_true(json_is_array(a));
    EQ(json_array_size(a), 2);
    for (size_t s = 0; s < 2; s++) {
        json_t *e = json_array_get(a, s);
        assert_true(json_is_object(e));
        EQ(num(e, "shard"), s);
        EQ(num(e, "writes"), sh[s].writes);
        EQ(num(e, "commits"), sh[s].commits);
        EQ(num(e, "failed"), 0);
        /* The upkeep's steps (expiry, sweeping) run in the writers too:
         * busy time only grows. */
        assert_true(num(e, "busy_us") >= sh[s].busy_us);
        hist_equal(e, "commit_size", sh[s].commit_size);
    }
    json_decref(o);
    run_pcstat(f, NULL, NULL, &out);
    char line[96];
    const char *sec = strstr(out.out, "\n# Shards\n");
    assert_non_null(sec);
    for (int s = 0; s < 2; s++) {
        snprintf(line, sizeof line, "\nshard%d_writes:%" PRIu64 "\n", s, sh[s].writes);
        assert_non_null(strstr(sec, line));
        snprintf(line, sizeof line, "\nshard%d_commits:%" PRIu64 "\n", s, sh[s].commits);
        assert_non_null(strstr(sec, line));
        snprintf(line, sizeof line, "\nshard%d_busy_us:", s);
        const char *busy = strstr(sec, line);
        assert_non_null(busy);
        assert_true(strtoull(busy + strlen(line), NULL, 10) >= sh[s].busy_us);
        snprintf(line, sizeof line, "\nshard%d_commit_requests_p50:", s);
        assert_non_null(strstr(sec, line));
        snprintf(line, sizeof line, "\nshard%d_busy_pct:", s);
        assert_non_null(strstr(sec, line));
    }
    assert_null(strstr(sec, "\nshard2_"));
    pt_output_free(&out);
}

int main(void)
{
    pt_init(60);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stats_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_used_after_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcstat_json_agrees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shard_stats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
