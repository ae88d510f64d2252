/*
 * pcbench_special.c - the workloads that are not a loop of one request:
 *
 *   load           load --keys strings; bytes per key as the server counts
 *                  them (pycache: pc_stats bytes_used; Redis: used_memory
 *                  and used_memory_rss; memcached: bytes and VmRSS).
 *   expire-storm   --storm-keys keys that all expire at one moment: the time
 *                  until the server has removed them, and p99 of reads and of
 *                  acknowledged writes during it beside p99 when idle.
 *   hitratio       a cache-aside loop (get; on a miss set) on Zipf keys, and
 *   hitratio-scan  on Zipf keys with one-off sequential scans mixed in: the
 *                  server's hit ratio beside an exact LRU of the same
 *                  capacity in keys, simulated here on the same sequence.
 *   snapshot       pc_snapshot of --keys strings (snapshot-coll: of --members
 *                  list, map and set members each) while a thread writes:
 *                  write p99 during it beside idle p99, and its time.
 *
 * The latency probes here time every request on its own (no averaging) and
 * pause --probe-gap between requests, so that they sample the server rather
 * than saturate the two cores with the client.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "pcbench.h"
#include "pycache.h"

#define PROBE_GAP_US 20 /* pause between a probe's requests */

static void sleep_us(long usec)
{
    struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static pb_row *na_row(const char *workload, int dist, const pb_target *t, const char *why)
{
    pb_row *r = pb_row_new(workload, dist, t);
    r->na = true;
    snprintf(r->note, sizeof r->note, "%s", why);
    pb_row_emit(r);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Probes: a thread that sends one request at a time and records its latency
 * into the histogram of the current phase.                                  */

enum { PH_PAUSE = -1, PH_STOP = 9 };

typedef struct probe {
    const pb_target *t;
    int op;         /* PB_GET or PB_SET */
    uint64_t space; /* keys [0, space) of the string key space */
    _Atomic int *phase;
    pb_hist h[3]; /* by phase: 0 idle before, 1 during, 2 idle after */
    uint64_t errors, misses;
    int failed;
    char err[200];
    pthread_t th;
    bool running;
    _Atomic bool ready; /* connected (and pre-faulted) */
} probe;

static void *probe_main(void *arg)
{
    probe *p = arg;
    pb_conn *c;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    if (pb_open(p->t, &c, p->err, sizeof p->err)) {
        p->failed = 1;
        atomic_store(&p->ready, true);
        return NULL;
    }
    /* A zero-copy reader maps the pages of the store first, or its first
     * phase measures page faults. */
    if (p->op == PB_GET && !pb_cfg_g.no_prefault)
        pb_prefault(c);
    atomic_store(&p->ready, true);
    pb_rng rng;
    pb_rng_seed(&rng, pb_cfg_g.seed * 31 + (uint64_t)p->op);
    char key[PC_KEY_MAX];
    pb_req q;
    memset(&q, 0, sizeof q);
    q.op = p->op;
    q.nk = 1;
    q.k[0] = key;
    int ph;
    while ((ph = atomic_load(p->phase)) != PH_STOP) {
        pb_key(key, pb_cfg_g.ksize, PB_KS_STR, pb_rand_below(&rng, p->space));
        pb_res res;
        memset(&res, 0, sizeof res);
        uint64_t t0 = pb_now_ns();
        int rc = pb_exec(c, &q, 1, &res);
        uint64_t t1 = pb_now_ns();
        if (ph >= 0 && ph < 3 && atomic_load(p->phase) == ph) {
            pb_hist_add(&p->h[ph], t1 - t0, 1);
            p->errors += res.errors;
            p->misses += res.misses;
        }
        if (res.first_err && !p->err[0])
            snprintf(p->err, sizeof p->err, "%s", res.errmsg);
        if (rc < 0) {
            p->failed = 1;
            break;
        }
        sleep_us(PROBE_GAP_US);
    }
    pb_close(c);
    return NULL;
}

static int probe_start(probe *p, const pb_target *t, int op, uint64_t space, _Atomic int *phase)
{
    memset(p, 0, sizeof *p);
    p->t = t;
    p->op = op;
    p->space = space ? space : 1;
    p->phase = phase;
    for (int i = 0; i < 3; i++)
        pb_hist_init(&p->h[i]);
    if (pthread_create(&p->th, NULL, probe_main, p))
        return -1;
    p->running = true;
    while (!atomic_load(&p->ready))
        sleep_us(1000);
    return p->failed ? -1 : 0;
}

static void probe_join(probe *p)
{
    if (p->running)
        pthread_join(p->th, NULL);
    p->running = false;
}

/* A row of probe p's histogram h. */
static void probe_row(const probe *p, int h, const char *workload, const pb_target *t, double secs,
                      const char *note)
{
    pb_row *r = pb_row_new(workload, PB_UNIFORM, t);
    r->h = malloc(sizeof *r->h);
    if (r->h)
        *r->h = p->h[h];
    r->ops = p->h[h].n;
    r->secs = secs;
    r->errors = h == 1 ? p->errors : 0;
    r->misses = h == 1 ? p->misses : 0;
    snprintf(r->note, sizeof r->note, "%s", note);
    pb_row_emit(r);
}

static double p99_us(const pb_hist *h)
{
    return (double)pb_hist_pct(h, 99) / 1000.0;
}

/* ------------------------------------------------------------------------ */
/* load                                                                      */

int pb_run_load(pb_target *t)
{
    const pb_cfg *g = &pb_cfg_g;
    if (t->kind == PB_T_LMDB) {
        na_row("load", g->dist, t, "the bare-LMDB floor does not write");
        return 0;
    }
    pb_conn *c;
    char err[256];
    if (pb_open(t, &c, err, sizeof err)) {
        pb_msg("%s", err);
        return PB_EX_USAGE;
    }
    pb_mem m0, m1;
    pb_mem_fresh(c, &m0);
    double secs;
    if (pb_load(t, PB_KS_STR, g->keys, 0, &secs, err, sizeof err)) {
        pb_msg("load %s: %s", t->spec, err);
        pb_close(c);
        return PB_EX_USAGE;
    }
    t->loaded |= 1;
    pb_mem_fresh(c, &m1);
    pb_close(c);
    pb_row *r = pb_row_new("load", PB_SEQ, t);
    r->ops = g->keys;
    r->secs = secs;
    r->depth = g->load_depth;
    double n = (double)g->keys;
    double used = ((double)m1.used - (double)m0.used) / n;
    double rss = ((double)m1.rss - (double)m0.rss) / n;
    snprintf(r->note, sizeof r->note,
             "bytes/key %.1f (%s %.1f); keys %" PRIu64 " -> %" PRIu64 "; ops/s is loading speed",
             used, t->kind == PB_T_PYCACHE ? "tmpfs" : "rss", rss, m0.keys, m1.keys);
    json_t *x = json_object();
    json_object_set_new(x, "bytes_per_key", json_real(used));
    json_object_set_new(x, "rss_per_key", json_real(rss));
    json_object_set_new(x, "used_before", json_integer((json_int_t)m0.used));
    json_object_set_new(x, "used_after", json_integer((json_int_t)m1.used));
    json_object_set_new(x, "rss_before", json_integer((json_int_t)m0.rss));
    json_object_set_new(x, "rss_after", json_integer((json_int_t)m1.rss));
    json_object_set_new(x, "keys_before", json_integer((json_int_t)m0.keys));
    json_object_set_new(x, "keys_after", json_integer((json_int_t)m1.keys));
    json_object_set_new(x, "memory_counted_as",
                        json_string(t->kind == PB_T_PYCACHE
                                        ? "pc_stats bytes_used; rss = tmpfs blocks of data-*.mdb"
                                    : t->kind == PB_T_REDIS
                                        ? "INFO used_memory; rss = used_memory_rss"
                                        : "stats bytes; rss = VmRSS"));
    r->extra = x;
    pb_row_emit(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* expire-storm                                                              */

/* Pause (0) or resume (1) the server's removal of expired keys.  Returns 0,
 * or -1 when the server would not. */
static int expiry_switch(pb_conn *c, const pb_target *t, bool on, uint32_t interval)
{
    if (t->kind == PB_T_PYCACHE)
        return pc_set_expire_interval(pb_pc_client(c), on ? interval : 0) ? -1 : 0;
    return -1;
}

static int redis_expiry_switch(const pb_target *t, bool on)
{
    const char *w = t->where;
    redisContext *rc = redisConnectUnix(w);
    if (!rc || rc->err) {
        if (rc)
            redisFree(rc);
        return -1;
    }
    redisReply *y = redisCommand(rc, "DEBUG SET-ACTIVE-EXPIRE %d", on ? 1 : 0);
    int ok = y && y->type == REDIS_REPLY_STATUS;
    if (y)
        freeReplyObject(y);
    redisFree(rc);
    return ok ? 0 : -1;
}

int pb_run_storm(pb_target *t)
{
    const pb_cfg *g = &pb_cfg_g;
    if (t->kind != PB_T_PYCACHE && t->kind != PB_T_REDIS) {
        na_row("expire-storm", PB_UNIFORM, t,
               t->kind == PB_T_LMDB ? "the bare-LMDB floor does not write"
                                    : "memcached reclaims expired items lazily; nothing to time");
        return 0;
    }
    if (pb_ensure_loaded(t, PB_KS_STR))
        return PB_EX_USAGE;
    pb_conn *c;
    char err[256];
    if (pb_open(t, &c, err, sizeof err)) {
        pb_msg("%s", err);
        return PB_EX_USAGE;
    }
    uint32_t interval = 100;
    if (t->kind == PB_T_PYCACHE) {
        pc_stats st;
        if (!pc_stats_get(pb_pc_client(c), &st) && st.expire_interval_ms)
            interval = st.expire_interval_ms;
    }
    _Atomic int phase = 0;
    probe rd, wr;
    if (probe_start(&rd, t, PB_GET, g->keys, &phase) ||
        probe_start(&wr, t, PB_SET, g->keys, &phase)) {
        atomic_store(&phase, PH_STOP);
        probe_join(&rd);
        pb_close(c);
        return PB_EX_USAGE;
    }
    uint64_t i0 = pb_now_ns();
    sleep_us((long)(g->storm_idle * 1e6));
    double idle_secs = (double)(pb_now_ns() - i0) / 1e9;
    atomic_store(&phase, PH_PAUSE);

    /* Load the keys with one expiry moment, the server's removal paused (so
     * that a load slower than guessed changes nothing). */
    bool paused = t->kind == PB_T_PYCACHE ? expiry_switch(c, t, false, interval) == 0
                                          : redis_expiry_switch(t, false) == 0;
    pb_mem m0;
    pb_mem_fresh(c, &m0);
    uint64_t est_ms = 1000 + g->storm_keys / 200; /* 5 us a key */
    uint64_t expire_at = pb_wall_ms() + est_ms;
    double load_secs;
    int rc = pb_load(t, PB_KS_EXP, g->storm_keys, expire_at, &load_secs, err, sizeof err);
    if (rc)
        pb_msg("expire-storm: loading %s: %s", t->spec, err);
    bool overran = pb_wall_ms() >= expire_at;
    while (!rc && pb_wall_ms() < expire_at + 20)
        sleep_us(1000);
    uint64_t due = 0;
    if (!rc && t->kind == PB_T_PYCACHE) {
        pc_read *r;
        if (!pc_read_begin(pb_pc_client(c), &r)) {
            pc_expired_count(r, &due);
            pc_read_end(r);
        }
    }

    /* The storm. */
    atomic_store(&phase, 1);
    uint64_t s0 = pb_now_ns(), t_stats = 0, t_zero = 0;
    if (!rc && paused)
        rc = t->kind == PB_T_PYCACHE ? expiry_switch(c, t, true, interval)
                                     : redis_expiry_switch(t, true);
    uint64_t deadline = s0 + UINT64_C(120) * 1000000000u;
    pb_mem m;
    memset(&m, 0, sizeof m);
    while (!rc && pb_now_ns() < deadline) {
        if (!t_stats && !pb_mem_get(c, &m) && m.aux - m0.aux >= g->storm_keys)
            t_stats = pb_now_ns();
        if (t_stats && t->kind != PB_T_PYCACHE)
            t_zero = t_stats;
        if (t_stats && !t_zero) {
            pc_read *r;
            uint64_t n = 1;
            if (!pc_read_begin(pb_pc_client(c), &r)) {
                pc_expired_count(r, &n);
                pc_read_end(r);
            }
            if (n == 0)
                t_zero = pb_now_ns();
        }
        if (t_stats && t_zero)
            break;
        sleep_us(t->kind == PB_T_PYCACHE ? 5000 : 10000);
    }
    uint64_t s1 = pb_now_ns();
    /* Idle again, after it: a second reference. */
    atomic_store(&phase, 2);
    sleep_us((long)(g->storm_idle * 1e6));
    uint64_t a1 = pb_now_ns();
    atomic_store(&phase, PH_STOP);
    probe_join(&rd);
    probe_join(&wr);
    if (rc && paused) { /* something failed: leave the server as it was */
        if (t->kind == PB_T_PYCACHE)
            expiry_switch(c, t, true, interval);
        else
            redis_expiry_switch(t, true);
    }
    pb_close(c);
    if (rd.failed || wr.failed) {
        pb_msg("expire-storm probe: %s", rd.err[0] ? rd.err : wr.err);
        return PB_EX_USAGE;
    }
    if (rc)
        return PB_EX_USAGE;
    double storm_secs = (double)(s1 - s0) / 1e9;
    char note[200];
    double after_secs = (double)(a1 - s1) / 1e9;
    probe_row(&rd, 0, "storm-read-idle", t, idle_secs, "idle, before the storm");
    snprintf(note, sizeof note, "p99 %.2fx idle before, %.2fx idle after",
             p99_us(&rd.h[1]) / p99_us(&rd.h[0]), p99_us(&rd.h[1]) / p99_us(&rd.h[2]));
    probe_row(&rd, 1, "storm-read", t, storm_secs, note);
    probe_row(&rd, 2, "storm-read-after", t, after_secs, "idle, after the storm");
    probe_row(&wr, 0, "storm-write-idle", t, idle_secs, "idle, before the storm");
    snprintf(note, sizeof note, "p99 %.2fx idle before, %.2fx idle after",
             p99_us(&wr.h[1]) / p99_us(&wr.h[0]), p99_us(&wr.h[1]) / p99_us(&wr.h[2]));
    probe_row(&wr, 1, "storm-write", t, storm_secs, note);
    probe_row(&wr, 2, "storm-write-after", t, after_secs, "idle, after the storm");

    pb_row *r = pb_row_new("expire-storm", PB_UNIFORM, t);
    r->ops = g->storm_keys;
    r->secs = load_secs;
    double gone = t_stats ? (double)(t_stats - s0) / 1e6 : -1;
    double zero = t_zero ? (double)(t_zero - s0) / 1e6 : -1;
    if (t_stats)
        snprintf(r->note, sizeof r->note,
                 "%" PRIu64 " keys removed %.0f ms after expiring (expired count 0 at %.0f "
                 "ms)%s%s; ops/s is loading",
                 g->storm_keys, gone, zero, paused ? "" : "; removal not paused while loading",
                 overran ? "; load overran the expiry moment" : "");
    else
        snprintf(r->note, sizeof r->note,
                 "not all removed within 120 s (%" PRIu64 " of %" PRIu64 ")", m.aux - m0.aux,
                 g->storm_keys);
    json_t *x = json_object();
    json_object_set_new(x, "storm_keys", json_integer((json_int_t)g->storm_keys));
    json_object_set_new(x, "removed_ms", json_real(gone));
    json_object_set_new(x, "expired_count_zero_ms", json_real(zero));
    json_object_set_new(x, "expired_count_at_start", json_integer((json_int_t)due));
    json_object_set_new(x, "removal_paused_while_loading", json_boolean(paused));
    json_object_set_new(x, "load_overran", json_boolean(overran));
    json_object_set_new(x, "read_p99_idle_us", json_real(p99_us(&rd.h[0])));
    json_object_set_new(x, "read_p99_storm_us", json_real(p99_us(&rd.h[1])));
    json_object_set_new(x, "read_p99_after_us", json_real(p99_us(&rd.h[2])));
    json_object_set_new(x, "write_p99_idle_us", json_real(p99_us(&wr.h[0])));
    json_object_set_new(x, "write_p99_storm_us", json_real(p99_us(&wr.h[1])));
    json_object_set_new(x, "write_p99_after_us", json_real(p99_us(&wr.h[2])));
    r->extra = x;
    if (!t_stats)
        pb_row_fail();
    pb_row_emit(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* hitratio                                                                  */

typedef struct hr_seq {
    pb_rng rng;
    pb_zipf z;
    bool scans;
    uint64_t zipf_left, scan_left, scan_next;
    uint64_t block_zipf;
} hr_seq;

static void hr_init(hr_seq *s, bool scans)
{
    const pb_cfg *g = &pb_cfg_g;
    memset(s, 0, sizeof *s);
    pb_rng_seed(&s->rng, g->seed * 7 + 3);
    pb_zipf_init(&s->z, g->hr_keys, g->theta);
    s->scans = scans && g->hr_scan > 0;
    /* Blocks of block_zipf Zipf requests, then one scan of hr_scan_len keys. */
    s->block_zipf =
        s->scans ? (uint64_t)((double)g->hr_scan_len * (1 - g->hr_scan) / g->hr_scan + 0.5) : 0;
    s->zipf_left = s->block_zipf;
}

/* The next key: an id for the LRU, and its key space and index. */
static uint64_t hr_next(hr_seq *s, int *ks, uint64_t *idx)
{
    const pb_cfg *g = &pb_cfg_g;
    if (s->scans && s->zipf_left == 0) {
        if (s->scan_left == 0)
            s->scan_left = g->hr_scan_len;
        if (--s->scan_left == 0)
            s->zipf_left = s->block_zipf;
        *ks = PB_KS_SCAN;
        *idx = s->scan_next++;
        return g->hr_keys + *idx;
    }
    if (s->scans)
        s->zipf_left--;
    *ks = PB_KS_HR;
    *idx = pb_scramble(pb_zipf_rank(&s->z, &s->rng), g->hr_keys);
    return *idx;
}

int pb_run_hitratio(pb_target *t, int mode)
{
    const pb_cfg *g = &pb_cfg_g;
    const char *name = mode == PB_SEQ ? "hitratio-scan" : "hitratio";
    if (t->kind == PB_T_LMDB) {
        na_row(name, PB_ZIPF, t, "the bare-LMDB floor does not write");
        return 0;
    }
    pb_conn *c;
    char err[256];
    if (pb_open(t, &c, err, sizeof err)) {
        pb_msg("%s", err);
        return PB_EX_USAGE;
    }
    pb_mem m0, m;
    pb_mem_fresh(c, &m0);
    hr_seq seq;
    hr_init(&seq, mode == PB_SEQ);
    pb_hist *h = malloc(sizeof *h);
    if (!h) {
        pb_close(c);
        return PB_EX_USAGE;
    }
    pb_hist_init(h);
    char key[PC_KEY_MAX];
    pb_req q;
    memset(&q, 0, sizeof q);
    q.nk = 1;
    q.k[0] = key;
    /* Warm up for hr_warm requests and on until the server has begun to
     * evict (the cache is full: its steady state), for at most ten times
     * as long; then measure hr_reqs requests. */
    uint64_t warm = UINT64_MAX, hits = 0, errors = 0, every = g->hr_reqs / 50 + 1;
    uint64_t warm_max = 10 * g->hr_warm + 1000;
    double cap_sum = 0;
    unsigned cap_n = 0;
    uint64_t t_start = 0, evicted0 = 0, evicted_start = m0.aux2;
    bool full = false;
    char first_err[160] = "";
    for (uint64_t i = 0; warm == UINT64_MAX || i < warm + g->hr_reqs; i++) {
        if (warm == UINT64_MAX && i >= g->hr_warm && i % 1000 == 0) {
            if (!full && !pb_mem_get(c, &m) && m.aux2 > evicted_start)
                full = true;
            if (full || i >= warm_max) {
                warm = i;
                t_start = pb_now_ns();
                pb_mem_get(c, &m);
                evicted0 = m.aux2;
            }
        }
        bool measured = i >= warm;
        int ks;
        uint64_t idx;
        hr_next(&seq, &ks, &idx);
        pb_key(key, g->ksize, ks, idx);
        pb_res res;
        memset(&res, 0, sizeof res);
        uint64_t t0 = pb_now_ns();
        q.op = PB_GET;
        int rc = pb_exec(c, &q, 1, &res);
        bool hit = !res.misses && !res.errors;
        if (!rc && res.misses) {
            q.op = PB_SET;
            rc = pb_exec(c, &q, 1, &res);
        }
        uint64_t t1 = pb_now_ns();
        if (res.errors && !first_err[0])
            snprintf(first_err, sizeof first_err, "%s", res.errmsg);
        if (rc < 0) {
            pb_msg("%s %s: %s", name, t->label, res.errmsg);
            break;
        }
        if (!measured)
            continue;
        pb_hist_add(h, t1 - t0, 1);
        hits += hit;
        errors += res.errors;
        if ((i - warm) % every == every - 1 && !pb_mem_get(c, &m)) {
            cap_sum += (double)m.keys;
            cap_n++;
        }
    }
    uint64_t t_end = pb_now_ns();
    pb_mem_get(c, &m);
    pb_close(c);
    if (warm == UINT64_MAX) { /* the connection broke while warming up */
        free(h);
        return PB_EX_USAGE;
    }
    /* The keys the server holds at steady state, whatever they are: they
     * all compete for its memory (a dedicated server holds only ours). */
    double cap = cap_n ? cap_sum / cap_n : 0;
    uint64_t capacity = cap > 1 ? (uint64_t)(cap + 0.5) : 1;

    /* The same sequence through an exact LRU of that many keys. */
    pb_lru *lru = pb_lru_new(capacity);
    uint64_t lru_hits = 0;
    if (lru) {
        hr_init(&seq, mode == PB_SEQ);
        for (uint64_t i = 0; i < warm + g->hr_reqs; i++) {
            int ks;
            uint64_t idx;
            bool hit = pb_lru_access(lru, hr_next(&seq, &ks, &idx));
            if (i >= warm)
                lru_hits += hit;
        }
        pb_lru_free(lru);
    }
    pb_row *r = pb_row_new(name, PB_ZIPF, t);
    r->h = h;
    r->ops = g->hr_reqs;
    r->secs = (double)(t_end - t_start) / 1e9;
    r->errors = errors;
    r->misses = g->hr_reqs - hits;
    snprintf(r->latency, sizeof r->latency, "get+set-on-miss");
    double hr = (double)hits / (double)g->hr_reqs, lr = (double)lru_hits / (double)g->hr_reqs;
    const char *policy = "";
    if (t->kind == PB_T_PYCACHE) {
        pc_client *pc;
        pc_options o;
        pc_options_init(&o);
        pc_stats st;
        if (!pc_connect(t->where, &o, &pc)) {
            if (!pc_stats_get(pc, &st))
                policy = pc_policy_name((pc_policy)st.policy);
            pc_close(pc);
        }
    }
    snprintf(r->note, sizeof r->note,
             "hit ratio %.4f, exact LRU %.4f (%.3fx) at %" PRIu64 " keys of %" PRIu64 "%s%s%s%s",
             hr, lr, lr > 0 ? hr / lr : 0, capacity, g->hr_keys, policy[0] ? "; " : "", policy,
             full ? "" : "; never evicted: not at steady state",
             errors ? "; sets failed (see errors)" : "");
    json_t *x = json_object();
    json_object_set_new(x, "hit_ratio", json_real(hr));
    json_object_set_new(x, "lru_hit_ratio", json_real(lr));
    json_object_set_new(x, "capacity_keys", json_integer((json_int_t)capacity));
    json_object_set_new(x, "key_space", json_integer((json_int_t)g->hr_keys));
    json_object_set_new(x, "warmup_requests", json_integer((json_int_t)warm));
    json_object_set_new(x, "steady_state", json_boolean(full));
    json_object_set_new(x, "evicted", json_integer((json_int_t)(m.aux2 - evicted0)));
    json_object_set_new(x, "keys_before", json_integer((json_int_t)m0.keys));
    json_object_set_new(x, "max_memory", json_integer((json_int_t)m.limit));
    json_object_set_new(x, "scan_share", json_real(mode == PB_SEQ ? g->hr_scan : 0));
    json_object_set_new(x, "scan_len", json_integer(mode == PB_SEQ ? g->hr_scan_len : 0));
    if (policy[0])
        json_object_set_new(x, "policy", json_string(policy));
    r->extra = x;
    if (first_err[0])
        pb_msg("%s %s: %s", name, t->label, first_err);
    pb_row_emit(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* snapshot                                                                  */

int pb_run_snapshot(pb_target *t, bool coll)
{
    const pb_cfg *g = &pb_cfg_g;
    const char *name = coll ? "snapshot-coll" : "snapshot";
    if (t->kind != PB_T_PYCACHE) {
        na_row(name, PB_UNIFORM, t, "pycache's pc_snapshot only");
        return 0;
    }
    if (coll ? pb_ensure_loaded(t, PB_KS_LIST) || pb_ensure_loaded(t, PB_KS_MAP) ||
                   pb_ensure_loaded(t, PB_KS_SET)
             : pb_ensure_loaded(t, PB_KS_STR))
        return PB_EX_USAGE;
    pb_conn *c;
    char err[256];
    if (pb_open(t, &c, err, sizeof err)) {
        pb_msg("%s", err);
        return PB_EX_USAGE;
    }
    pc_stats st;
    if (pc_stats_get(pb_pc_client(c), &st) || st.snapshot_state == 0) {
        pb_close(c);
        na_row(name, PB_UNIFORM, t, "the daemon has no --snapshot-dir");
        return 0;
    }
    _Atomic int phase = 0;
    probe wr;
    /* Overwrite existing keys (all of them for 'snapshot', a thousand for
     * 'snapshot-coll'), so the store keeps its size. */
    if (probe_start(&wr, t, PB_SET, coll ? 1000 : g->keys, &phase)) {
        pb_close(c);
        return PB_EX_USAGE;
    }
    uint64_t i0 = pb_now_ns();
    sleep_us((long)(g->snap_idle * 1e6));
    uint64_t i1 = pb_now_ns();
    atomic_store(&phase, 1);
    pc_snapshot_info info;
    memset(&info, 0, sizeof info);
    uint64_t s0 = pb_now_ns();
    int rc = pc_snapshot(pb_pc_client(c), &info);
    uint64_t s1 = pb_now_ns();
    atomic_store(&phase, 2);
    sleep_us((long)(g->snap_idle * 1e6));
    uint64_t a1 = pb_now_ns();
    atomic_store(&phase, PH_STOP);
    probe_join(&wr);
    pb_close(c);
    if (wr.failed) {
        pb_msg("%s probe: %s", name, wr.err);
        return PB_EX_USAGE;
    }
    char note[200];
    probe_row(&wr, 0, coll ? "snapcoll-write-idle" : "snapshot-write-idle", t,
              (double)(i1 - i0) / 1e9, "idle, before the snapshot");
    snprintf(note, sizeof note, "during pc_snapshot; p99 %.2fx idle before, %.2fx idle after",
             p99_us(&wr.h[1]) / p99_us(&wr.h[0]), p99_us(&wr.h[1]) / p99_us(&wr.h[2]));
    probe_row(&wr, 1, coll ? "snapcoll-write" : "snapshot-write", t, (double)(s1 - s0) / 1e9, note);
    probe_row(&wr, 2, coll ? "snapcoll-write-after" : "snapshot-write-after", t,
              (double)(a1 - s1) / 1e9, "idle, after the snapshot");
    pb_row *r = pb_row_new(name, PB_UNIFORM, t);
    r->ops = info.keys;
    r->secs = (double)(s1 - s0) / 1e9;
    if (rc) {
        r->errors = 1;
        snprintf(r->note, sizeof r->note, "pc_snapshot: %s", pc_strerror(rc));
    } else {
        snprintf(r->note, sizeof r->note,
                 "%" PRIu64 " keys, %.1f MB in %" PRIu64 " ms (daemon), %.0f ms (caller); "
                 "ops/s is keys/s",
                 info.keys, (double)info.bytes / 1e6, info.took_ms, r->secs * 1e3);
    }
    json_t *x = json_object();
    json_object_set_new(x, "snapshot_keys", json_integer((json_int_t)info.keys));
    json_object_set_new(x, "snapshot_bytes", json_integer((json_int_t)info.bytes));
    json_object_set_new(x, "snapshot_ms", json_integer((json_int_t)info.took_ms));
    json_object_set_new(x, "snapshot_wall_ms", json_real(r->secs * 1e3));
    json_object_set_new(x, "snapshot_path", json_string(info.path));
    json_object_set_new(x, "write_p99_idle_us", json_real(p99_us(&wr.h[0])));
    json_object_set_new(x, "write_p99_during_us", json_real(p99_us(&wr.h[1])));
    json_object_set_new(x, "write_p99_after_us", json_real(p99_us(&wr.h[2])));
    if (coll)
        json_object_set_new(x, "members_each", json_integer((json_int_t)g->members));
    r->extra = x;
    pb_row_emit(r);
    return 0;
}
