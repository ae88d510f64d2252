/*
 * pcbench.c - measure pycache, and Redis and memcached beside it, with one
 * program: the same key sets, sizes and concurrency for every target.
 *
 * pcbench [OPTION]... [WORKLOAD[:DIST]]...
 *
 * For each workload, for each --target: load the keys it needs (writes with
 * --load-depth in flight, not timed), fork --clients processes of --threads
 * threads, each with its own connection, warm up for --warmup seconds (not
 * counted), then run rounds of --in-flight requests for --duration seconds
 * (or --requests in all).  Each worker keeps a log-linear histogram of
 * latencies; the parent merges them and prints ops/s and p50/p99/p99.9/max.
 *
 * Latency: each round is timed with CLOCK_MONOTONIC.  One request in flight:
 * the request's own time.  n in flight: every request of the round gets the
 * round's time (first send to last answer).  Zero-copy reads (pycache, bare
 * LMDB), which take well under a microsecond, are timed in groups of 64 and
 * each get is recorded as the group's average ("avg-of-64").
 *
 * Exit status: 0 every request succeeded; 1 some request failed; 2 usage or
 * setup error.  See man/pcbench.1.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcbench.h"
#include "pycache.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

pb_cfg pb_cfg_g;
const char *pb_value_g;

/* ------------------------------------------------------------------------ */
/* Operations and workloads                                                  */

static const char *const op_names[PB_NOPS] = {
    "get",       "set",       "incr",   "lpush", "rpop",   "hset",       "hget",
    "sadd",      "sismember", "mset",   "mget",  "setnum", "throttle",   "bf.add",
    "bf.exists", "setbit",    "getbit", "xadd",  "xrange", "xreadgroup", "xgroup",
    "zadd",      "zscore",    "zrank",  "zrange"};

const char *pb_op_name(int op)
{
    return op >= 0 && op < PB_NOPS ? op_names[op] : "?";
}

bool pb_op_reads(int op)
{
    return op == PB_GET || op == PB_HGET || op == PB_SISMEMBER || op == PB_MGET ||
           op == PB_BFEXISTS || op == PB_GETBIT || op == PB_XRANGE || op == PB_ZSCORE ||
           op == PB_ZRANK || op == PB_ZRANGE;
}

enum { W_SIMPLE, W_YCSB, W_LOAD, W_STORM, W_HITRATIO, W_HITSCAN, W_SNAP, W_SNAPCOLL };

typedef struct pb_work {
    const char *name;
    int kind;
    int op;            /* W_SIMPLE: the operation; W_YCSB: the update */
    double read_share; /* W_YCSB */
    int ks;            /* key space the requests use */
    bool load;         /* load ks first */
    const char *what;
} pb_work;

static const pb_work works[] = {
    {"get", W_SIMPLE, PB_GET, 0, PB_KS_STR, true, "GET of a loaded string key"},
    {"set", W_SIMPLE, PB_SET, 0, PB_KS_STR, true, "SET of a string key (overwrite)"},
    {"incr", W_SIMPLE, PB_INCR, 0, PB_KS_CTR, true, "INCR of a counter"},
    {"lpush", W_SIMPLE, PB_LPUSH, 0, PB_KS_LIST, false, "LPUSH of one value onto a list"},
    {"rpop", W_SIMPLE, PB_RPOP, 0, PB_KS_LIST, false, "RPOP from a list (run after lpush)"},
    {"hset", W_SIMPLE, PB_HSET, 0, PB_KS_MAP, false, "HSET of one map field"},
    {"hget", W_SIMPLE, PB_HGET, 0, PB_KS_MAP, true, "HGET of a loaded map field"},
    {"sadd", W_SIMPLE, PB_SADD, 0, PB_KS_SET, false, "SADD of one set member"},
    {"sismember", W_SIMPLE, PB_SISMEMBER, 0, PB_KS_SET, true, "SISMEMBER of a loaded member"},
    {"mset", W_SIMPLE, PB_MSET, 0, PB_KS_STR, true, "MSET of 10 string keys"},
    {"mget", W_SIMPLE, PB_MGET, 0, PB_KS_STR, true, "MGET of 10 string keys"},
    {"ycsb-a", W_YCSB, PB_SET, 0.50, PB_KS_STR, true, "YCSB A: 50% read, 50% update"},
    {"ycsb-b", W_YCSB, PB_SET, 0.95, PB_KS_STR, true, "YCSB B: 95% read, 5% update"},
    {"ycsb-c", W_YCSB, PB_SET, 1.00, PB_KS_STR, true, "YCSB C: 100% read"},
    {"load", W_LOAD, PB_SET, 0, PB_KS_STR, false, "load --keys strings; bytes per key"},
    {"expire-storm", W_STORM, PB_SET, 0, PB_KS_EXP, false,
     "--storm-keys keys expire at once: time to remove, read/write p99 during"},
    {"hitratio", W_HITRATIO, PB_GET, 0, PB_KS_HR, false,
     "cache-aside on Zipf keys: hit ratio beside an exact LRU"},
    {"hitratio-scan", W_HITSCAN, PB_GET, 0, PB_KS_HR, false,
     "hitratio with one-off sequential scans mixed in"},
    {"snapshot", W_SNAP, PB_SET, 0, PB_KS_STR, true,
     "pc_snapshot of --keys strings; write p99 during it"},
    {"snapshot-coll", W_SNAPCOLL, PB_SET, 0, PB_KS_LIST, false,
     "pc_snapshot of --members list, map and set members; write p99 during it"},
    /* issue 16 */
    {"throttle", W_SIMPLE, PB_THROTTLE, 0, PB_KS_THR, false,
     "a GCRA rate limiter request (Redis: the same GCRA as a Lua script, EVALSHA)"},
    {"bf.add", W_SIMPLE, PB_BFADD, 0, PB_KS_BF, false, "BF.ADD of one item"},
    {"bf.exists", W_SIMPLE, PB_BFEXISTS, 0, PB_KS_BF, true, "BF.EXISTS of an added item"},
    {"setbit", W_SIMPLE, PB_SETBIT, 0, PB_KS_BITS, false, "SETBIT of one bit to 1"},
    {"getbit", W_SIMPLE, PB_GETBIT, 0, PB_KS_BITS, true, "GETBIT of a bit set to 1"},
    /* issue 17 */
    {"xadd", W_SIMPLE, PB_XADD, 0, PB_KS_STREAM, true,
     "XADD of an entry of one field and value, ID * (a stream of --coll-keys)"},
    {"xrange", W_SIMPLE, PB_XRANGE, 0, PB_KS_STREAM, true,
     "XRANGE of 10 entries of a loaded stream (COUNT 10 from a random entry)"},
    {"xreadgroup", W_SIMPLE, PB_XRGACK, 0, PB_KS_STREAM, true,
     "XREADGROUP of one new entry and its XACK (run after xadd: a produce/consume loop)"},
    /* issue 17: on --coll-keys sorted sets of --members members in all */
    {"zadd", W_SIMPLE, PB_ZADD, 0, PB_KS_ZSET, true,
     "ZADD moving a loaded member to a new score (2i+1)"},
    {"zscore", W_SIMPLE, PB_ZSCORE, 0, PB_KS_ZSET, true, "ZSCORE of a loaded member"},
    {"zrank", W_SIMPLE, PB_ZRANK, 0, PB_KS_ZSET, true, "ZRANK of a loaded member"},
    {"zrange", W_SIMPLE, PB_ZRANGE, 0, PB_KS_ZSET, true,
     "ZRANGE of 10 members by rank, from a random rank"},
};
#define NWORKS (sizeof works / sizeof works[0])

static const char *const suite[] = {"get",  "set",    "incr",   "lpush",     "rpop",
                                    "hset", "hget",   "sadd",   "sismember", "mset",
                                    "mget", "ycsb-a", "ycsb-b", "ycsb-c"};

/* The key space a request of key space ks draws its index from. */
static uint64_t space_of(int ks)
{
    const pb_cfg *g = &pb_cfg_g;
    switch (ks) {
    case PB_KS_LIST:
        return g->coll_keys;
    case PB_KS_MAP:
    case PB_KS_SET:
    case PB_KS_BF:
    case PB_KS_BITS:
    case PB_KS_STREAM:
    case PB_KS_ZSET:
        return g->members;
    default:
        return g->keys;
    }
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

static json_t *rows_json;
static bool any_failed, header_done;
static const char *json_out;
static bool json_stdout;

void pb_row_fail(void)
{
    any_failed = true;
}

pb_row *pb_row_new(const char *workload, int dist, const pb_target *t)
{
    pb_row *r = calloc(1, sizeof *r);
    if (!r) {
        pb_msg("out of memory");
        exit(PB_EX_USAGE);
    }
    snprintf(r->workload, sizeof r->workload, "%s", workload);
    r->dist = dist;
    r->t = t;
    r->procs = r->threads = r->depth = 1;
    snprintf(r->latency, sizeof r->latency, "per-request");
    return r;
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static void print_header(void)
{
    FILE *o = json_stdout ? stderr : stdout;
    fprintf(o, "%-16s %-7s %-13s %7s %5s %11s %9s %9s %9s %9s %7s %8s  %s\n", "workload", "dist",
            "target", "clients", "depth", "ops/s", "p50 us", "p99 us", "p99.9 us", "max us",
            "errors", "misses", "latency / notes");
    header_done = true;
}

void pb_row_emit(pb_row *r)
{
    FILE *o = json_stdout ? stderr : stdout;
    if (!header_done)
        print_header();
    char clients[24];
    snprintf(clients, sizeof clients, "%ux%u", r->procs, r->threads);
    double ops_s = r->secs > 0 ? (double)r->ops / r->secs : 0;
    if (r->na) {
        fprintf(o, "%-16s %-7s %-13s %7s %5u %11s %9s %9s %9s %9s %7s %8s  n/a: %s\n", r->workload,
                pb_dist_name(r->dist), r->t->label, clients, r->depth, "n/a", "-", "-", "-", "-",
                "-", "-", r->note);
    } else if (r->h && r->h->n) {
        fprintf(o,
                "%-16s %-7s %-13s %7s %5u %11.0f %9.2f %9.2f %9.2f %9.1f %7" PRIu64 " %8" PRIu64
                "  %s%s%s\n",
                r->workload, pb_dist_name(r->dist), r->t->label, clients, r->depth, ops_s,
                us(pb_hist_pct(r->h, 50)), us(pb_hist_pct(r->h, 99)), us(pb_hist_pct(r->h, 99.9)),
                us(r->h->max), r->errors, r->misses, r->latency, r->note[0] ? "; " : "", r->note);
    } else {
        fprintf(o,
                "%-16s %-7s %-13s %7s %5u %11.0f %9s %9s %9s %9s %7" PRIu64 " %8" PRIu64 "  %s\n",
                r->workload, pb_dist_name(r->dist), r->t->label, clients, r->depth, ops_s, "-", "-",
                "-", "-", r->errors, r->misses, r->note);
    }
    fflush(o);

    json_t *j = json_object();
    json_object_set_new(j, "workload", json_string(r->workload));
    json_object_set_new(j, "dist", json_string(pb_dist_name(r->dist)));
    json_object_set_new(j, "target", json_string(r->t->label));
    json_object_set_new(j, "target_spec", json_string(r->t->spec));
    json_object_set_new(j, "clients", json_integer((json_int_t)r->procs * r->threads));
    json_object_set_new(j, "processes", json_integer(r->procs));
    json_object_set_new(j, "threads", json_integer(r->threads));
    json_object_set_new(j, "in_flight", json_integer(r->depth));
    json_object_set_new(j, "keys", json_integer((json_int_t)pb_cfg_g.keys));
    json_object_set_new(j, "key_size", json_integer((json_int_t)pb_cfg_g.ksize));
    json_object_set_new(j, "value_size", json_integer((json_int_t)pb_cfg_g.vsize));
    json_object_set_new(j, "supported", json_boolean(!r->na));
    if (!r->na) {
        json_object_set_new(j, "ops", json_integer((json_int_t)r->ops));
        json_object_set_new(j, "seconds", json_real(r->secs));
        json_object_set_new(j, "ops_per_sec", json_real(ops_s));
        if (r->h && r->h->n) {
            json_object_set_new(j, "p50_us", json_real(us(pb_hist_pct(r->h, 50))));
            json_object_set_new(j, "p99_us", json_real(us(pb_hist_pct(r->h, 99))));
            json_object_set_new(j, "p999_us", json_real(us(pb_hist_pct(r->h, 99.9))));
            json_object_set_new(j, "max_us", json_real(us(r->h->max)));
            json_object_set_new(j, "mean_us", json_real(pb_hist_mean(r->h) / 1000.0));
            json_object_set_new(j, "latency", json_string(r->latency));
        }
        json_object_set_new(j, "errors", json_integer((json_int_t)r->errors));
        json_object_set_new(j, "misses", json_integer((json_int_t)r->misses));
    }
    if (r->note[0])
        json_object_set_new(j, "note", json_string(r->note));
    if (r->extra)
        json_object_update(j, r->extra);
    json_array_append_new(rows_json, j);
    if (r->errors)
        any_failed = true;
    json_decref(r->extra);
    free(r->h);
    free(r);
}

/* ------------------------------------------------------------------------ */
/* Workers: processes of threads, coordinated through shared memory          */

typedef struct wslot {
    uint64_t ops, errors, misses, t_end;
    int setup_failed, broken;
    char err[200];
    pb_hist h;
} wslot;

typedef struct shctl {
    _Atomic unsigned ready;   /* workers connected (or failed to) */
    _Atomic unsigned go;      /* 1: warm up; 2: abort */
    _Atomic uint64_t t_go;    /* when warm-up started */
    _Atomic unsigned warmed;  /* workers done warming up */
    _Atomic uint64_t t_start; /* when measuring started (0: not yet) */
    wslot w[];
} shctl;

typedef struct job {
    const pb_target *t;
    const pb_work *w;
    int dist;
    unsigned nworkers, depth, round;
    bool avg;      /* record round time / round per request */
    bool prefault; /* walk the keys before warming up */
    uint64_t quota;
    pb_zipf zipf;
    shctl *sh;
} job;

typedef struct wctx {
    const job *j;
    unsigned index;
} wctx;

static void nap_us(long usec)
{
    struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* The generator of one worker's requests. */
typedef struct pb_gen {
    const job *j;
    pb_rng rng;
    char *kbuf, *fbuf;
    pb_req *reqs;
} pb_gen;

static uint64_t pick(pb_gen *g, uint64_t space)
{
    if (g->j->dist == PB_ZIPF)
        return pb_scramble(pb_zipf_rank(&g->j->zipf, &g->rng), space);
    return pb_rand_below(&g->rng, space);
}

static void make_round(pb_gen *g, size_t n)
{
    const job *j = g->j;
    const pb_work *w = j->w;
    size_t ks = pb_cfg_g.ksize;
    uint64_t space = space_of(w->ks);
    for (size_t i = 0; i < n; i++) {
        pb_req *q = &g->reqs[i];
        q->op = w->op;
        if (w->kind == W_YCSB)
            q->op = w->read_share >= 1.0 || pb_rand01(&g->rng) < w->read_share ? PB_GET : PB_SET;
        q->nk = q->op == PB_MSET || q->op == PB_MGET ? PB_MULTI : 1;
        q->f = NULL;
        q->ttl_ms = 0;
        for (unsigned k = 0; k < q->nk; k++) {
            char *key = g->kbuf + (i * PB_MULTI + k) * ks;
            uint64_t m = pick(g, space);
            switch (w->ks) {
            case PB_KS_BITS:
                pb_key(key, ks, w->ks, m % pb_cfg_g.coll_keys);
                q->off = m;
                break;
            case PB_KS_STREAM: /* xrange: from a loaded entry on; xadd: ID * */
                pb_key(key, ks, w->ks, m % pb_cfg_g.coll_keys);
                q->off = q->op == PB_XRANGE ? m / pb_cfg_g.coll_keys + 1 : 0;
                break;
            case PB_KS_MAP:
            case PB_KS_SET:
            case PB_KS_BF:
            case PB_KS_ZSET: {
                char *f = g->fbuf + i * ks;
                pb_key(key, ks, w->ks, m % pb_cfg_g.coll_keys);
                pb_key(f, ks, w->ks == PB_KS_MAP ? PB_KS_FIELD : PB_KS_MEMB, m);
                q->f = f;
                /* zadd: a new score; zrange: the member's rank in its set,
                 * kept 10 below the end */
                if (q->op == PB_ZADD)
                    q->off = 2 * m + 1;
                if (q->op == PB_ZRANGE) {
                    uint64_t per = space / pb_cfg_g.coll_keys;
                    uint64_t r = m / pb_cfg_g.coll_keys;
                    q->off = per > 10 && r > per - 10 ? per - 10 : r;
                }
                break;
            }
            default:
                pb_key(key, ks, w->ks, m);
            }
            q->k[k] = key;
        }
    }
}

static int gen_init(pb_gen *g, const job *j, uint64_t seed, size_t round)
{
    memset(g, 0, sizeof *g);
    g->j = j;
    pb_rng_seed(&g->rng, seed);
    g->kbuf = malloc(round * PB_MULTI * pb_cfg_g.ksize);
    g->fbuf = malloc(round * pb_cfg_g.ksize);
    g->reqs = calloc(round, sizeof *g->reqs);
    return g->kbuf && g->fbuf && g->reqs ? 0 : -1;
}

static void gen_free(pb_gen *g)
{
    free(g->kbuf);
    free(g->fbuf);
    free(g->reqs);
}

static void *worker(void *arg)
{
    const wctx *x = arg;
    const job *j = x->j;
    shctl *sh = j->sh;
    wslot *s = &sh->w[x->index];
    pb_conn *c = NULL;
    pb_gen g;
    if (pb_open(j->t, &c, s->err, sizeof s->err) ||
        gen_init(&g, j, pb_cfg_g.seed * 1000003u + (uint64_t)x->index * 7919u + 1, j->round)) {
        if (!s->err[0])
            snprintf(s->err, sizeof s->err, "out of memory");
        s->setup_failed = 1;
        atomic_fetch_add(&sh->ready, 1);
        pb_close(c);
        return NULL;
    }
    if (j->prefault && pb_prefault(c))
        snprintf(s->err, sizeof s->err, "walking the keys to pre-fault the map failed");
    atomic_fetch_add(&sh->ready, 1);
    while (atomic_load(&sh->go) == 0)
        nap_us(200);
    if (atomic_load(&sh->go) != 1)
        goto out;

    /* Warm up: not counted. */
    uint64_t warm_end = atomic_load(&sh->t_go) + (uint64_t)(pb_cfg_g.warmup * 1e9);
    pb_res res;
    while (pb_now_ns() < warm_end) {
        make_round(&g, j->round);
        memset(&res, 0, sizeof res);
        if (pb_exec(c, g.reqs, j->round, &res) < 0) {
            s->broken = 1;
            snprintf(s->err, sizeof s->err, "%s", res.errmsg);
            break;
        }
    }
    if (atomic_fetch_add(&sh->warmed, 1) + 1 == j->nworkers)
        atomic_store(&sh->t_start, pb_now_ns());
    uint64_t t_start;
    while ((t_start = atomic_load(&sh->t_start)) == 0)
        nap_us(50);
    if (s->broken)
        goto out;

    uint64_t t_end = t_start + (uint64_t)(pb_cfg_g.duration * 1e9);
    uint64_t t1;
    for (;;) {
        size_t n = j->round;
        if (j->quota && j->quota - s->ops < n)
            n = j->quota - s->ops;
        assert(n > 0); /* round >= 1 (--in-flight), and the loop ends at the quota */
        make_round(&g, n);
        memset(&res, 0, sizeof res);
        uint64_t t0 = pb_now_ns();
        int rc = pb_exec(c, g.reqs, n, &res);
        t1 = pb_now_ns();
        pb_hist_add(&s->h, j->avg ? (t1 - t0) / n : t1 - t0, n);
        s->ops += n;
        s->errors += res.errors;
        s->misses += res.misses;
        if (res.first_err && !s->err[0])
            snprintf(s->err, sizeof s->err, "%s", res.errmsg);
        if (rc < 0) {
            s->broken = 1;
            break;
        }
        if (j->quota ? s->ops >= j->quota : t1 >= t_end)
            break;
    }
    s->t_end = t1;
out:
    gen_free(&g);
    pb_close(c);
    return NULL;
}

/* A client process: threads - 1 more threads and this one. */
static void client_process(const job *j, unsigned first, unsigned threads)
{
    pthread_t th[PB_MAX_WORKERS];
    bool made[PB_MAX_WORKERS] = {false};
    wctx x[PB_MAX_WORKERS];
    assert(threads >= 1); /* --threads is at least 1 */
    for (unsigned i = 0; i < threads; i++) {
        x[i].j = j;
        x[i].index = first + i;
    }
    for (unsigned i = 1; i < threads; i++) {
        if (pthread_create(&th[i], NULL, worker, &x[i]) == 0) {
            made[i] = true;
            continue;
        }
        wslot *s = &j->sh->w[first + i];
        snprintf(s->err, sizeof s->err, "pthread_create failed");
        s->setup_failed = 1;
        atomic_fetch_add(&j->sh->ready, 1);
    }
    worker(&x[0]);
    for (unsigned i = 1; i < threads; i++)
        if (made[i])
            pthread_join(th[i], NULL);
}

/* Run job j with procs x threads workers; fill row r. */
static int run_job(job *j, unsigned procs, unsigned threads, pb_row *r)
{
    j->nworkers = procs * threads;
    size_t size = sizeof(shctl) + j->nworkers * sizeof(wslot);
    shctl *sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        pb_msg("mmap: %s", strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < j->nworkers; i++)
        pb_hist_init(&sh->w[i].h);
    j->sh = sh;
    pid_t pids[PB_MAX_WORKERS];
    unsigned np = 0;
    fflush(NULL);
    for (unsigned p = 0; p < procs; p++) {
        pid_t pid = fork();
        if (pid < 0) {
            pb_msg("fork: %s", strerror(errno));
            atomic_store(&sh->go, 2);
            break;
        }
        if (pid == 0) {
            client_process(j, p * threads, threads);
            _exit(0);
        }
        pids[np++] = pid;
    }
    /* Wait until every worker has connected, or a process died. */
    bool dead = np < procs;
    while (!dead && atomic_load(&sh->ready) < j->nworkers) {
        for (unsigned i = 0; i < np; i++) {
            int st;
            if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
                pids[i] = -1;
                dead = true;
            }
        }
        nap_us(1000);
    }
    bool failed = dead;
    for (unsigned i = 0; i < j->nworkers && !failed; i++)
        failed = sh->w[i].setup_failed;
    atomic_store(&sh->t_go, pb_now_ns());
    atomic_store(&sh->go, failed ? 2 : 1);
    if (failed)
        atomic_store(&sh->t_start, 1);
    /* Wait for the client processes; kill them if they outlast the run by
     * --timeout (a target that stops answering must not hang the run). */
    uint64_t deadline = 0;
    if (!failed && pb_cfg_g.timeout > 0 && !j->quota)
        deadline = atomic_load(&sh->t_go) +
                   (uint64_t)((pb_cfg_g.warmup + pb_cfg_g.duration + pb_cfg_g.timeout) * 1e9);
    /* Processes reaped above (they died while connecting) are not waited for. */
    unsigned left = 0, hung = 0;
    for (unsigned i = 0; i < np; i++)
        left += pids[i] > 0;
    while (left) {
        for (unsigned i = 0; i < np; i++) {
            int st;
            if (pids[i] <= 0)
                continue;
            pid_t w = waitpid(pids[i], &st, deadline ? WNOHANG : 0);
            if (w < 0 && errno == ECHILD) { /* reaped already: not ours to wait for */
                pids[i] = -1;
                left--;
                failed = true;
                continue;
            }
            if (w != pids[i])
                continue;
            pids[i] = -1;
            left--;
            if ((!WIFEXITED(st) || WEXITSTATUS(st)) && !(WIFSIGNALED(st) && hung)) {
                pb_msg("a client process died (%s %d)", WIFSIGNALED(st) ? "signal" : "status",
                       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                failed = true;
            }
        }
        if (left && deadline && !hung && pb_now_ns() > deadline) {
            for (unsigned i = 0; i < j->nworkers; i++)
                hung += sh->w[i].t_end == 0;
            pb_msg("%s %s: %u of %u workers still waiting for an answer %.0f s after the run "
                   "should have ended: killed",
                   j->w->name, j->t->label, hung, j->nworkers, pb_cfg_g.timeout);
            for (unsigned i = 0; i < j->nworkers; i++)
                if (sh->w[i].t_end == 0)
                    sh->w[i].t_end = pb_now_ns();
            for (unsigned i = 0; i < np; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGKILL);
            if (!hung)
                hung = 1;
        }
        if (left && deadline)
            nap_us(2000);
    }
    int rc = 0;
    if (failed) {
        for (unsigned i = 0; i < j->nworkers; i++)
            if (sh->w[i].err[0]) {
                pb_msg("%s: %s", j->t->spec, sh->w[i].err);
                break;
            }
        rc = -1;
    } else {
        r->h = malloc(sizeof *r->h);
        if (!r->h) {
            rc = -1;
        } else {
            pb_hist_init(r->h);
            uint64_t t_start = atomic_load(&sh->t_start), t_end = t_start;
            for (unsigned i = 0; i < j->nworkers; i++) {
                wslot *s = &sh->w[i];
                pb_hist_merge(r->h, &s->h);
                r->ops += s->ops;
                r->errors += s->errors;
                r->misses += s->misses;
                if (s->t_end > t_end)
                    t_end = s->t_end;
                if (s->err[0] && (s->errors || s->broken))
                    pb_msg("%s %s: %s", j->w->name, j->t->label, s->err);
                if (s->broken) {
                    r->errors++;
                    snprintf(r->note, sizeof r->note, "connection broke");
                }
            }
            r->secs = (double)(t_end - t_start) / 1e9;
            if (hung) {
                r->errors += hung;
                snprintf(r->note, sizeof r->note, "%u worker(s) hung waiting for an answer: killed",
                         hung);
            }
        }
    }
    munmap(sh, size);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */

static uint64_t key_space_size(int ks)
{
    return ks == PB_KS_LIST ? pb_cfg_g.members : space_of(ks);
}

int pb_load(const pb_target *t, int ks, uint64_t n, uint64_t expire_at_ms, double *secs, char *err,
            size_t errlen)
{
    pb_conn *c;
    if (pb_open(t, &c, err, errlen))
        return -1;
    size_t depth = pb_cfg_g.load_depth, kz = pb_cfg_g.ksize;
    pb_req *reqs = calloc(depth, sizeof *reqs);
    char *kbuf = malloc(depth * kz), *fbuf = malloc(depth * kz);
    int rc = reqs && kbuf && fbuf ? 0 : -1;
    uint64_t t0 = pb_now_ns(), errors = 0;
    pb_res res;
    memset(&res, 0, sizeof res);
    for (uint64_t i = 0; i < n && !rc;) {
        size_t m = n - i < depth ? (size_t)(n - i) : depth;
        int64_t ttl_ms = 0;
        if (expire_at_ms) {
            uint64_t now = pb_wall_ms();
            ttl_ms = expire_at_ms > now ? (int64_t)(expire_at_ms - now) : 1;
        }
        for (size_t q = 0; q < m; q++, i++) {
            pb_req *r = &reqs[q];
            memset(r, 0, sizeof *r);
            r->nk = 1;
            r->k[0] = kbuf + q * kz;
            switch (ks) {
            case PB_KS_CTR:
                r->op = PB_SETNUM;
                pb_key(kbuf + q * kz, kz, ks, i);
                break;
            case PB_KS_LIST:
                r->op = PB_LPUSH;
                pb_key(kbuf + q * kz, kz, ks, i % pb_cfg_g.coll_keys);
                break;
            case PB_KS_BITS:
                r->op = PB_SETBIT;
                pb_key(kbuf + q * kz, kz, ks, i % pb_cfg_g.coll_keys);
                r->off = i;
                break;
            case PB_KS_STREAM: /* explicit IDs, in order in each stream */
                r->op = PB_XADD;
                pb_key(kbuf + q * kz, kz, ks, i % pb_cfg_g.coll_keys);
                r->off = i / pb_cfg_g.coll_keys + 1;
                break;
            case PB_KS_BF:
            case PB_KS_MAP:
            case PB_KS_SET:
            case PB_KS_ZSET:
                r->op = ks == PB_KS_MAP    ? PB_HSET
                        : ks == PB_KS_BF   ? PB_BFADD
                        : ks == PB_KS_ZSET ? PB_ZADD
                                           : PB_SADD;
                r->off = i; /* zadd: score i */
                pb_key(kbuf + q * kz, kz, ks, i % pb_cfg_g.coll_keys);
                pb_key(fbuf + q * kz, kz, ks == PB_KS_MAP ? PB_KS_FIELD : PB_KS_MEMB, i);
                r->f = fbuf + q * kz;
                break;
            default:
                r->op = PB_SET;
                r->ttl_ms = ttl_ms;
                pb_key(kbuf + q * kz, kz, ks, i);
            }
        }
        if (pb_exec(c, reqs, m, &res) < 0)
            rc = -1;
    }
    /* Streams: the group the xreadgroup workload reads as, at "$". */
    for (uint64_t s = 0; ks == PB_KS_STREAM && !rc && s < pb_cfg_g.coll_keys && s < n; s++) {
        memset(reqs, 0, sizeof *reqs);
        reqs->nk = 1;
        reqs->k[0] = kbuf;
        reqs->op = PB_XGROUP;
        pb_key(kbuf, kz, ks, s);
        if (pb_exec(c, reqs, 1, &res) < 0)
            rc = -1;
    }
    errors = res.errors;
    if (secs)
        *secs = (double)(pb_now_ns() - t0) / 1e9;
    if (!rc && errors) {
        snprintf(err, errlen, "%" PRIu64 " of %" PRIu64 " writes failed: %s", errors, n,
                 res.errmsg);
        rc = -1;
    } else if (rc) {
        snprintf(err, errlen, "%s", res.errmsg[0] ? res.errmsg : "out of memory");
    }
    free(reqs);
    free(kbuf);
    free(fbuf);
    pb_close(c);
    return rc;
}

static unsigned ks_bit(int ks)
{
    switch (ks) {
    case PB_KS_STR:
        return 1;
    case PB_KS_CTR:
        return 2;
    case PB_KS_MAP:
        return 4;
    case PB_KS_SET:
        return 8;
    case PB_KS_LIST:
        return 16;
    case PB_KS_BF:
        return 32;
    case PB_KS_BITS:
        return 64;
    case PB_KS_STREAM:
        return 128;
    case PB_KS_ZSET:
        return 256;
    default:
        return 0;
    }
}

/* Is key space ks loaded already (by an earlier run)?  Its first and last
 * keys (or members) are there, strings of the value size.  Lists are never
 * taken as loaded: loading them again would add elements. */
static bool already_loaded(const pb_target *t, int ks, uint64_t n)
{
    if (ks == PB_KS_LIST || ks == PB_KS_BF || ks == PB_KS_BITS)
        return false; /* (loading them again changes nothing but time) */
    pb_conn *c;
    char err[256];
    if (pb_open(t, &c, err, sizeof err))
        return false;
    size_t kz = pb_cfg_g.ksize;
    char keys[2][PC_KEY_MAX], fields[2][PC_KEY_MAX];
    pb_req q[2];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 2; i++) {
        uint64_t idx = i ? n - 1 : 0;
        q[i].nk = 1;
        q[i].k[0] = keys[i];
        q[i].op = ks == PB_KS_MAP    ? PB_HGET
                  : ks == PB_KS_SET  ? PB_SISMEMBER
                  : ks == PB_KS_ZSET ? PB_ZSCORE
                                     : PB_GET;
        if (ks == PB_KS_STREAM) { /* the entry there, as loaded */
            q[i].op = PB_XRANGE;
            pb_key(keys[i], kz, ks, idx % pb_cfg_g.coll_keys);
            q[i].off = idx / pb_cfg_g.coll_keys + 1;
        } else if (ks == PB_KS_MAP || ks == PB_KS_SET || ks == PB_KS_ZSET) {
            pb_key(keys[i], kz, ks, idx % pb_cfg_g.coll_keys);
            pb_key(fields[i], kz, ks == PB_KS_MAP ? PB_KS_FIELD : PB_KS_MEMB, idx);
            q[i].f = fields[i];
        } else {
            pb_key(keys[i], kz, ks, idx);
        }
    }
    pb_res res;
    memset(&res, 0, sizeof res);
    bool there = pb_exec(c, &q[0], 1, &res) == 0 && pb_exec(c, &q[1], 1, &res) == 0 &&
                 !res.misses && !res.errors;
    if (there && (ks == PB_KS_STR || ks == PB_KS_MAP))
        there = pb_last_len(c) == pb_cfg_g.vsize;
    pb_close(c);
    return there;
}

int pb_ensure_loaded(pb_target *t, int ks)
{
    unsigned bit = ks_bit(ks);
    if (pb_cfg_g.no_load || t->kind == PB_T_LMDB || (t->loaded & bit))
        return 0;
    /* Counters are loaded (as 0) for every target, though pycache and Redis
     * would create them: memcached's incr needs them, and all count alike. */
    char err[256];
    double secs;
    uint64_t n = key_space_size(ks);
    if (already_loaded(t, ks, n)) {
        pb_info("%s: key space '%c' found loaded (first and last key present)", t->spec, ks);
        t->loaded |= bit;
        return 0;
    }
    pb_info("loading %" PRIu64 " keys of space '%c' into %s", n, ks, t->spec);
    if (pb_load(t, ks, n, 0, &secs, err, sizeof err)) {
        pb_msg("loading %s: %s", t->spec, err);
        return -1;
    }
    pb_info("loaded in %.2f s (%.0f writes/s)", secs, (double)n / secs);
    t->loaded |= bit;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* One workload against one target                                           */

static int run_simple(const pb_work *w, int dist, pb_target *t)
{
    pb_row *r = pb_row_new(w->name, dist, t);
    const pb_cfg *g = &pb_cfg_g;
    r->procs = g->procs;
    r->threads = g->threads;
    r->depth = g->depth;
    const char *why = pb_unsupported(t, w->kind == W_YCSB ? PB_GET : w->op);
    if (!why && w->kind == W_YCSB && w->read_share < 1)
        why = pb_unsupported(t, PB_SET);
    if (why) {
        r->na = true;
        snprintf(r->note, sizeof r->note, "%s", why);
        pb_row_emit(r);
        return 0;
    }
    if (w->load && pb_ensure_loaded(t, w->ks)) {
        free(r);
        return PB_EX_USAGE;
    }
    job j;
    memset(&j, 0, sizeof j);
    j.t = t;
    j.w = w;
    j.dist = dist;
    j.depth = g->depth;
    j.round = g->depth;
    bool reads_only =
        (w->kind == W_SIMPLE && pb_op_reads(w->op)) || (w->kind == W_YCSB && w->read_share >= 1.0);
    bool reads = (w->kind == W_SIMPLE && pb_op_reads(w->op)) || w->kind == W_YCSB;
    if (pb_local_reads(t) && reads && w->ks == PB_KS_STR && !g->no_prefault) {
        j.prefault = true;
        snprintf(r->note, sizeof r->note, "keys walked once per client first (pre-faults the map)");
    }
    if (pb_local_reads(t) && reads_only) {
        j.round = PB_ZC_GROUP;
        j.avg = true;
        r->depth = 1;
        snprintf(r->latency, sizeof r->latency, "avg-of-%d", PB_ZC_GROUP);
        if (g->depth > 1)
            snprintf(r->note + strlen(r->note), sizeof r->note - strlen(r->note), "%s%s",
                     r->note[0] ? "; " : "", pb_pipeline_note(t, PB_GET));
    } else if (g->depth > 1) {
        snprintf(r->latency, sizeof r->latency, "per-round");
        int op = w->kind == W_YCSB ? PB_SET : w->op;
        snprintf(r->note + strlen(r->note), sizeof r->note - strlen(r->note), "%s%s",
                 r->note[0] ? "; " : "", pb_pipeline_note(t, op));
    }
    if (t->kind == PB_T_PYCACHE && t->ring_only && reads_only && g->depth > 1) {
        j.round = 1;
        r->depth = 1;
        snprintf(r->latency, sizeof r->latency, "per-request");
        snprintf(r->note + strlen(r->note), sizeof r->note - strlen(r->note), "%s%s",
                 r->note[0] ? "; " : "", pb_pipeline_note(t, PB_GET));
    }
    if (g->requests) {
        unsigned nw = g->procs * g->threads;
        j.quota = (g->requests + nw - 1) / nw;
    }
    if (dist == PB_ZIPF)
        pb_zipf_init(&j.zipf, space_of(w->ks), g->theta);
    if (run_job(&j, g->procs, g->threads, r)) {
        free(r->h);
        free(r);
        return PB_EX_USAGE;
    }
    pb_row_emit(r);
    return 0;
}

static int run_work(const pb_work *w, int dist, pb_target *t)
{
    switch (w->kind) {
    case W_SIMPLE:
    case W_YCSB:
        return run_simple(w, dist, t);
    case W_LOAD:
        return pb_run_load(t);
    case W_STORM:
        return pb_run_storm(t);
    case W_HITRATIO:
        return pb_run_hitratio(t, PB_ZIPF);
    case W_HITSCAN:
        return pb_run_hitratio(t, PB_SEQ);
    case W_SNAP:
        return pb_run_snapshot(t, false);
    case W_SNAPCOLL:
        return pb_run_snapshot(t, true);
    }
    return PB_EX_USAGE;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

static void usage(FILE *o)
{
    fprintf(o, "Usage: pcbench [OPTION]... [WORKLOAD[:uniform|:zipf]]...\n"
               "Measure pycache, and Redis and memcached beside it, with the same keys,\n"
               "sizes and concurrency.\n"
               "\n"
               "Targets (repeatable; each workload runs against each in turn):\n"
               "  -t, --target SPEC     pycache:DIR      zero-copy reads, writes via the ring\n"
               "                        pycache-ring:DIR reads through the channel too\n"
               "                        lmdb:DIR         bare LMDB lookups in DIR/data-NN.mdb\n"
               "                        redis:SOCKET     hiredis (SOCKET or HOST:PORT)\n"
               "                        memcached:SOCKET libmemcached\n"
               "  -d, --dir DIR         the same as --target pycache:DIR (the default target\n"
               "                        is pycache on $PYCACHE_DIR or the default directory)\n"
               "      --ring-only       pycache targets read through the channel\n"
               "\n"
               "Load and keys:\n"
               "  -n, --keys N          string keys and counters (1000000)\n"
               "      --members N       map fields and set members in all (100000)\n"
               "      --coll-keys N     lists, maps and sets (1000)\n"
               "  -k, --key-size B      bytes per key, field and member (16)\n"
               "  -s, --value-size B    bytes per value (64)\n"
               "      --dist D          uniform or zipf for workloads that name none (uniform)\n"
               "      --theta T         Zipf exponent (0.99)\n"
               "      --seed N          random seed (1)\n"
               "      --no-load         the keys are loaded already\n"
               "      --load-depth N    writes in flight while loading (256)\n"
               "      --no-prefault     zero-copy targets: do not walk the keys once per client\n"
               "                        before warming up (which maps the store's pages)\n"
               "\n"
               "Concurrency and length:\n"
               "  -c, --clients N       client processes (1)\n"
               "  -T, --threads N       threads per process, each with its own connection (1)\n"
               "  -P, --in-flight N     requests in flight per connection (1: each is\n"
               "                        acknowledged before the next is sent)\n"
               "  -D, --duration S      seconds measured per run (3)\n"
               "  -N, --requests N      requests per run in all, instead of --duration\n"
               "  -w, --warmup S        seconds of warm-up, not counted (1)\n"
               "      --quick           --duration 0.5 --warmup 0.2\n"
               "      --timeout S       kill clients still waiting S seconds after the run\n"
               "                        should have ended, and count them as failed (60;\n"
               "                        0: wait for ever)\n"
               "\n"
               "Special workloads:\n"
               "      --memory          the same as the workload 'load'\n"
               "      --storm-keys N    expire-storm: keys that expire at once (1000000)\n"
               "      --storm-idle S    expire-storm: seconds measured before it (2)\n"
               "      --hr-keys N       hitratio: key space (1000000)\n"
               "      --hr-requests N   hitratio: requests measured, and as many to warm up\n"
               "                        (default 2 x --hr-keys)\n"
               "      --hr-scan PCT     hitratio-scan: percent of one-off scan keys (10)\n"
               "      --hr-scan-len N   hitratio-scan: keys per scan (1000)\n"
               "      --snapshot-idle S snapshot: seconds of idle writes first (2)\n"
               "\n"
               "Output:\n"
               "  -j, --json            print a JSON array instead of the table\n"
               "  -o, --json-out FILE   also write the JSON array to FILE\n"
               "  -v, --verbose         say what is being loaded\n"
               "  -h, --help            show this help and exit\n"
               "  -V, --version         show the version and exit\n"
               "\n"
               "Workloads: get set incr lpush rpop hset hget sadd sismember mset mget\n"
               "ycsb-a ycsb-b ycsb-c (the default suite, 'all'), load, expire-storm,\n"
               "hitratio, hitratio-scan, snapshot, snapshot-coll; throttle, bf.add, bf.exists,\n"
               "setbit, getbit; zadd, zscore, zrank, zrange (sorted sets of --members in all\n"
               "over --coll-keys keys).\n"
               "Exit status: 0 every request succeeded, 1 some failed, 2 usage or setup error.\n"
               "See pcbench(1).\n");
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || *s == '-' || !*s)
        return false;
    double mult = 1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        mult = 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1e6, end++;
    if (errno || *end || end == s)
        return false;
    double d = (double)v * mult;
    if (d < (double)min || d > (double)max)
        return false;
    *out = (uint64_t)d;
    return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || end == s || !(d >= min && d <= max))
        return false;
    *out = d;
    return true;
}

static int bad(const char *opt, const char *arg)
{
    pb_msg("bad value for %s: '%s' (see pcbench --help)", opt, arg);
    return PB_EX_USAGE;
}

int main(int argc, char **argv)
{
    pb_cfg *g = &pb_cfg_g;
    *g = (pb_cfg){.keys = 1000000,
                  .members = 100000,
                  .coll_keys = 1000,
                  .ksize = 16,
                  .vsize = 64,
                  .procs = 1,
                  .threads = 1,
                  .depth = 1,
                  .duration = 3,
                  .warmup = 1,
                  .seed = 1,
                  .theta = 0.99,
                  .dist = PB_UNIFORM,
                  .load_depth = 256,
                  .storm_keys = 1000000,
                  .storm_idle = 2,
                  .hr_keys = 1000000,
                  .hr_scan = 0.10,
                  .hr_scan_len = 1000,
                  .snap_idle = 2,
                  .timeout = 60};
    enum {
        O_MEMBERS = 256,
        O_COLL,
        O_DIST,
        O_THETA,
        O_SEED,
        O_NOLOAD,
        O_LOADDEPTH,
        O_QUICK,
        O_MEMORY,
        O_STORMKEYS,
        O_STORMIDLE,
        O_HRKEYS,
        O_HRREQ,
        O_HRSCAN,
        O_HRSCANLEN,
        O_SNAPIDLE,
        O_RING,
        O_TIMEOUT,
        O_NOPREFAULT
    };
    static const struct option longopts[] = {{"target", required_argument, NULL, 't'},
                                             {"dir", required_argument, NULL, 'd'},
                                             {"ring-only", no_argument, NULL, O_RING},
                                             {"keys", required_argument, NULL, 'n'},
                                             {"members", required_argument, NULL, O_MEMBERS},
                                             {"coll-keys", required_argument, NULL, O_COLL},
                                             {"key-size", required_argument, NULL, 'k'},
                                             {"value-size", required_argument, NULL, 's'},
                                             {"dist", required_argument, NULL, O_DIST},
                                             {"theta", required_argument, NULL, O_THETA},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"no-load", no_argument, NULL, O_NOLOAD},
                                             {"load-depth", required_argument, NULL, O_LOADDEPTH},
                                             {"clients", required_argument, NULL, 'c'},
                                             {"threads", required_argument, NULL, 'T'},
                                             {"in-flight", required_argument, NULL, 'P'},
                                             {"duration", required_argument, NULL, 'D'},
                                             {"requests", required_argument, NULL, 'N'},
                                             {"warmup", required_argument, NULL, 'w'},
                                             {"quick", no_argument, NULL, O_QUICK},
                                             {"memory", no_argument, NULL, O_MEMORY},
                                             {"storm-keys", required_argument, NULL, O_STORMKEYS},
                                             {"storm-idle", required_argument, NULL, O_STORMIDLE},
                                             {"hr-keys", required_argument, NULL, O_HRKEYS},
                                             {"hr-requests", required_argument, NULL, O_HRREQ},
                                             {"hr-scan", required_argument, NULL, O_HRSCAN},
                                             {"hr-scan-len", required_argument, NULL, O_HRSCANLEN},
                                             {"snapshot-idle", required_argument, NULL, O_SNAPIDLE},
                                             {"timeout", required_argument, NULL, O_TIMEOUT},
                                             {"no-prefault", no_argument, NULL, O_NOPREFAULT},
                                             {"json", no_argument, NULL, 'j'},
                                             {"json-out", required_argument, NULL, 'o'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    pb_target targets[16];
    unsigned ntargets = 0;
    bool memory = false, ring = false;
    char err[256];
    uint64_t u;
    double d;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":t:d:n:k:s:c:T:P:D:N:w:jo:vhV", longopts, NULL)) != -1) {
        const char *name = optind > 1 ? argv[optind - 1] : "?";
        switch (opt) {
        case 't':
        case 'd': {
            if (ntargets == sizeof targets / sizeof targets[0])
                return bad(name, optarg);
            /* The target keeps pointers into its spec: -d's spelled-out
             * spec lives as long as the targets do. */
            static char dspec[sizeof targets / sizeof targets[0]][PATH_MAX + 16];
            char *spec = optarg;
            if (opt == 'd') {
                spec = dspec[ntargets];
                if ((size_t)snprintf(spec, sizeof dspec[0], "pycache:%s", optarg) >=
                    sizeof dspec[0])
                    return bad(name, optarg);
            }
            if (pb_target_parse(spec, &targets[ntargets], err, sizeof err)) {
                pb_msg("%s", err);
                return PB_EX_USAGE;
            }
            ntargets++;
            break;
        }
        case O_RING:
            ring = true;
            break;
        case 'n':
            if (!parse_u64(optarg, 1, UINT64_C(1) << 40, &g->keys))
                return bad("--keys", optarg);
            break;
        case O_MEMBERS:
            if (!parse_u64(optarg, 1, UINT64_C(1) << 40, &g->members))
                return bad("--members", optarg);
            break;
        case O_COLL:
            if (!parse_u64(optarg, 1, UINT64_C(1) << 32, &g->coll_keys))
                return bad("--coll-keys", optarg);
            break;
        case 'k':
            if (!parse_u64(optarg, 4, PC_KEY_MAX, &u))
                return bad("--key-size", optarg);
            g->ksize = (size_t)u;
            break;
        case 's':
            if (!parse_u64(optarg, 1, 1u << 20, &u))
                return bad("--value-size", optarg);
            g->vsize = (size_t)u;
            break;
        case O_DIST:
            if (!strcmp(optarg, "uniform"))
                g->dist = PB_UNIFORM;
            else if (!strcmp(optarg, "zipf"))
                g->dist = PB_ZIPF;
            else
                return bad("--dist", optarg);
            break;
        case O_THETA:
            if (!parse_double(optarg, 0.01, 0.9999, &g->theta))
                return bad("--theta", optarg);
            break;
        case O_SEED:
            if (!parse_u64(optarg, 0, UINT64_MAX, &g->seed))
                return bad("--seed", optarg);
            break;
        case O_NOLOAD:
            g->no_load = true;
            break;
        case O_LOADDEPTH:
            if (!parse_u64(optarg, 1, PB_MAX_INFLIGHT, &u))
                return bad("--load-depth", optarg);
            g->load_depth = (unsigned)u;
            break;
        case 'c':
            if (!parse_u64(optarg, 1, PB_MAX_WORKERS, &u))
                return bad("--clients", optarg);
            g->procs = (unsigned)u;
            break;
        case 'T':
            if (!parse_u64(optarg, 1, PB_MAX_WORKERS, &u))
                return bad("--threads", optarg);
            g->threads = (unsigned)u;
            break;
        case 'P':
            if (!parse_u64(optarg, 1, PB_MAX_INFLIGHT, &u))
                return bad("--in-flight", optarg);
            g->depth = (unsigned)u;
            break;
        case 'D':
            if (!parse_double(optarg, 0.001, 86400, &g->duration))
                return bad("--duration", optarg);
            break;
        case 'N':
            if (!parse_u64(optarg, 1, UINT64_C(1) << 50, &g->requests))
                return bad("--requests", optarg);
            break;
        case 'w':
            if (!parse_double(optarg, 0, 3600, &g->warmup))
                return bad("--warmup", optarg);
            break;
        case O_QUICK:
            g->duration = 0.5;
            g->warmup = 0.2;
            break;
        case O_MEMORY:
            memory = true;
            break;
        case O_STORMKEYS:
            if (!parse_u64(optarg, 1, UINT64_C(1) << 36, &g->storm_keys))
                return bad("--storm-keys", optarg);
            break;
        case O_STORMIDLE:
            if (!parse_double(optarg, 0.05, 3600, &g->storm_idle))
                return bad("--storm-idle", optarg);
            break;
        case O_HRKEYS:
            if (!parse_u64(optarg, 10, UINT64_C(1) << 31, &g->hr_keys))
                return bad("--hr-keys", optarg);
            break;
        case O_HRREQ:
            if (!parse_u64(optarg, 1, UINT64_C(1) << 40, &g->hr_reqs))
                return bad("--hr-requests", optarg);
            break;
        case O_HRSCAN:
            if (!parse_double(optarg, 0, 90, &d))
                return bad("--hr-scan", optarg);
            g->hr_scan = d / 100.0;
            break;
        case O_HRSCANLEN:
            if (!parse_u64(optarg, 1, UINT64_C(1) << 30, &u))
                return bad("--hr-scan-len", optarg);
            g->hr_scan_len = (unsigned)u;
            break;
        case O_SNAPIDLE:
            if (!parse_double(optarg, 0.05, 3600, &g->snap_idle))
                return bad("--snapshot-idle", optarg);
            break;
        case O_NOPREFAULT:
            g->no_prefault = true;
            break;
        case O_TIMEOUT:
            if (!parse_double(optarg, 0, 86400, &g->timeout))
                return bad("--timeout", optarg);
            break;
        case 'j':
            json_stdout = true;
            break;
        case 'o':
            json_out = optarg;
            break;
        case 'v':
            g->verbose = true;
            break;
        case 'h':
            usage(stdout);
            return PB_EX_OK;
        case 'V': {
            json_t *v = json_object();
            pb_lib_versions(v);
            printf("pcbench %s (", PACKAGE_VERSION);
            const char *k;
            json_t *val;
            bool first = true;
            json_object_foreach(v, k, val)
            {
                printf("%s%s %s", first ? "" : ", ", k, json_string_value(val));
                first = false;
            }
            printf(")\n");
            json_decref(v);
            return PB_EX_OK;
        }
        case ':':
            pb_msg("option %s needs a value (see pcbench --help)", name);
            return PB_EX_USAGE;
        default:
            pb_msg("unknown option %s (see pcbench --help)", name);
            return PB_EX_USAGE;
        }
    }
    if (g->procs * g->threads > PB_MAX_WORKERS) {
        pb_msg("--clients x --threads is at most %d", PB_MAX_WORKERS);
        return PB_EX_USAGE;
    }
    /* Keys must hold "x:" and the largest index in decimal. */
    uint64_t most = g->keys;
    if (g->members > most)
        most = g->members;
    if (g->storm_keys > most)
        most = g->storm_keys;
    if (g->hr_keys > most)
        most = g->hr_keys;
    unsigned digits = 1;
    for (uint64_t m = most - 1; m >= 10; m /= 10)
        digits++;
    if (g->ksize < 2 + (size_t)digits) {
        pb_msg("--key-size %zu is too short for %" PRIu64 " keys (at least %u bytes)", g->ksize,
               most, 2 + digits);
        return PB_EX_USAGE;
    }
    if (g->coll_keys > g->members)
        g->coll_keys = g->members;
    if (!g->hr_reqs)
        g->hr_reqs = 2 * g->hr_keys;
    g->hr_warm = g->hr_reqs;

    if (ntargets == 0) {
        const char *env = getenv("PYCACHE_DIR");
        /* The target keeps pointers into its spec: it lives as long as the
         * targets do, as -d's does. */
        static char envspec[PATH_MAX + 16];
        const char *spec = NULL;
        if (env && *env) {
            if ((size_t)snprintf(envspec, sizeof envspec, "pycache:%s", env) >= sizeof envspec)
                return bad("PYCACHE_DIR", env);
            spec = envspec;
        }
        if (pb_target_parse(spec ? spec : "pycache", &targets[0], err, sizeof err)) {
            pb_msg("%s", err);
            return PB_EX_USAGE;
        }
        ntargets = 1;
    }
    for (unsigned i = 0; ring && i < ntargets; i++)
        if (targets[i].kind == PB_T_PYCACHE) {
            targets[i].ring_only = true;
            snprintf(targets[i].label, sizeof targets[i].label, "pycache-ring");
        }

    /* The workloads: names, "all", and :dist suffixes. */
    const pb_work *wl[256];
    int wd[256];
    unsigned nw = 0;
    if (memory) {
        wl[nw] = &works[14];
        wd[nw++] = g->dist;
    }
    for (int i = optind; i < argc; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s", argv[i]);
        int dist = g->dist;
        char *colon = strchr(name, ':');
        if (colon) {
            *colon = 0;
            if (!strcmp(colon + 1, "zipf"))
                dist = PB_ZIPF;
            else if (!strcmp(colon + 1, "uniform"))
                dist = PB_UNIFORM;
            else
                return bad("workload", argv[i]);
        }
        if (!strcmp(name, "all")) {
            for (size_t s = 0; s < sizeof suite / sizeof suite[0] && nw < 256; s++)
                for (size_t k = 0; k < NWORKS; k++)
                    if (!strcmp(works[k].name, suite[s])) {
                        wl[nw] = &works[k];
                        wd[nw++] = dist;
                    }
            continue;
        }
        size_t k;
        for (k = 0; k < NWORKS; k++)
            if (!strcmp(works[k].name, name))
                break;
        if (k == NWORKS) {
            pb_msg("unknown workload '%s' (see pcbench --help)", argv[i]);
            return PB_EX_USAGE;
        }
        if (nw == 256)
            return bad("workload", argv[i]);
        wl[nw] = &works[k];
        wd[nw++] = dist;
    }
    if (nw == 0)
        for (size_t s = 0; s < sizeof suite / sizeof suite[0]; s++)
            for (size_t k = 0; k < NWORKS; k++)
                if (!strcmp(works[k].name, suite[s])) {
                    wl[nw] = &works[k];
                    wd[nw++] = g->dist;
                }

    char *value = malloc(g->vsize);
    if (!value)
        return PB_EX_USAGE;
    pb_rng vr;
    pb_rng_seed(&vr, g->seed ^ 0x5eed);
    for (size_t i = 0; i < g->vsize; i++)
        value[i] = (char)('a' + pb_rand_below(&vr, 26));
    pb_value_g = value;
    signal(SIGPIPE, SIG_IGN);
    rows_json = json_array();

    int status = PB_EX_OK;
    for (unsigned i = 0; i < nw && status != PB_EX_USAGE; i++)
        for (unsigned k = 0; k < ntargets && status != PB_EX_USAGE; k++) {
            int rc = run_work(wl[i], wd[i], &targets[k]);
            if (rc > status)
                status = rc;
        }

    if (json_stdout)
        json_dumpf(rows_json, stdout, JSON_INDENT(1));
    if (json_stdout)
        fputc('\n', stdout);
    if (json_out && json_dump_file(rows_json, json_out, JSON_INDENT(1))) {
        pb_msg("cannot write %s", json_out);
        status = PB_EX_USAGE;
    }
    json_decref(rows_json);
    free(value);
    if (status == PB_EX_OK && any_failed)
        status = PB_EX_FAILED;
    return status;
}
