/*
 * pcbench.h - what the files of pcbench share: the histogram, random numbers
 * and key choosers, requests, targets (pycache, bare LMDB, Redis, memcached),
 * result rows and the special workloads.  Not installed.
 */
#ifndef PCBENCH_H
#define PCBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum { PB_EX_OK = 0, PB_EX_FAILED = 1, PB_EX_USAGE = 2 };

/* ------------------------------------------------------------------------ */
/* Latency histogram: log-linear buckets, 2 significant digits (HdrHistogram's
 * layout with 128 sub-buckets per power of two: every value is kept to
 * within 1/128 of itself), nanoseconds up to 2^44 ns (about 4.9 hours).      */

#define PB_HIST_LINEAR 256
#define PB_HIST_SUB 128
#define PB_HIST_MAG 36
#define PB_HIST_N (PB_HIST_LINEAR + PB_HIST_MAG * PB_HIST_SUB)

typedef struct pb_hist {
    uint64_t n;   /* values recorded */
    uint64_t max; /* the largest, exactly */
    uint64_t min; /* the smallest, exactly (UINT64_MAX when empty) */
    double sum;   /* for the mean */
    uint64_t c[PB_HIST_N];
} pb_hist;

void pb_hist_init(pb_hist *h);
/* Record value v (ns) count times. */
void pb_hist_add(pb_hist *h, uint64_t v, uint64_t count);
void pb_hist_merge(pb_hist *dst, const pb_hist *src);
/* The value at percentile pct (0..100]: the highest value equivalent to the
 * bucket that holds it (never above the recorded maximum); 0 when empty. */
uint64_t pb_hist_pct(const pb_hist *h, double pct);
double pb_hist_mean(const pb_hist *h);

/* ------------------------------------------------------------------------ */
/* Time and random numbers                                                   */

uint64_t pb_now_ns(void); /* CLOCK_MONOTONIC */
uint64_t pb_wall_ms(void);

/* xoshiro256** seeded by splitmix64. */
typedef struct pb_rng {
    uint64_t s[4];
} pb_rng;
void pb_rng_seed(pb_rng *r, uint64_t seed);
uint64_t pb_rand(pb_rng *r);
double pb_rand01(pb_rng *r);                   /* [0, 1) */
uint64_t pb_rand_below(pb_rng *r, uint64_t n); /* [0, n) */

/* Zipf(theta) over n items: YCSB's ZipfianGenerator (Gray et al., "Quickly
 * generating billion-record synthetic databases"), its zeta(n) computed once;
 * the rank is scrambled over the key space with FNV-1a as YCSB's
 * ScrambledZipfianGenerator does, so the popular keys are spread out. */
typedef struct pb_zipf {
    uint64_t n;
    double theta, alpha, zetan, eta, half_pow;
} pb_zipf;
void pb_zipf_init(pb_zipf *z, uint64_t n, double theta);
uint64_t pb_zipf_rank(const pb_zipf *z, pb_rng *r); /* 0 is the most popular */
uint64_t pb_scramble(uint64_t rank, uint64_t n);

enum pb_dist { PB_UNIFORM, PB_ZIPF, PB_SEQ };
const char *pb_dist_name(int d);

/* An exact LRU cache of up to cap integer keys, for the hit ratio pycache's
 * eviction would reach if it were perfect. */
typedef struct pb_lru pb_lru;
pb_lru *pb_lru_new(uint64_t cap);
/* Look id up; a miss inserts it (evicting the least recently used). */
bool pb_lru_access(pb_lru *l, uint64_t id);
void pb_lru_free(pb_lru *l);

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

/* Key spaces: the first byte of every key, then ':' and the index in decimal,
 * zero-padded to the key size. */
enum {
    PB_KS_STR = 'k',   /* strings: get, set, mget, mset, YCSB, load */
    PB_KS_CTR = 'c',   /* counters: incr */
    PB_KS_LIST = 'l',  /* lists: lpush, rpop */
    PB_KS_MAP = 'h',   /* maps: hset, hget (member i: key i % coll_keys) */
    PB_KS_SET = 's',   /* sets: sadd, sismember */
    PB_KS_FIELD = 'f', /* map fields */
    PB_KS_MEMB = 'm',  /* set members */
    PB_KS_EXP = 'x',   /* expire-storm */
    PB_KS_HR = 'r',    /* hitratio */
    PB_KS_SCAN = 'q',  /* hitratio: one-off scan keys */
    /* issue 16 */
    PB_KS_THR = 't',  /* rate limiters: throttle */
    PB_KS_BF = 'b',   /* Bloom filters (member i: item i of filter i % coll_keys) */
    PB_KS_BITS = 'B', /* bit arrays (member i: bit i of array i % coll_keys) */
    /* issue 17 */
    PB_KS_STREAM = 'X', /* streams (member i: entry (i / coll_keys + 1)-0 of stream
                           i % coll_keys); group "pb" made at "$" when loaded */
    PB_KS_ZSET = 'z'    /* sorted sets (member i, score i, of set i % coll_keys) */
};

/* Write the key (ks, idx) of len bytes (at least 2 + the digits of idx). */
void pb_key(char *out, size_t len, int ks, uint64_t idx);

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

enum pb_op {
    PB_GET,
    PB_SET,
    PB_INCR,
    PB_LPUSH,
    PB_RPOP,
    PB_HSET,
    PB_HGET,
    PB_SADD,
    PB_SISMEMBER,
    PB_MSET,
    PB_MGET,
    PB_SETNUM, /* loading counters: set the key to the number 0 */
    /* issue 16 */
    PB_THROTTLE, /* a GCRA request (Redis: a Lua script run by EVALSHA) */
    PB_BFADD,
    PB_BFEXISTS,
    PB_SETBIT,
    PB_GETBIT,
    /* issue 17 */
    PB_XADD,   /* an entry of one field (off 0: ID *; else off-0) */
    PB_XRANGE, /* 10 entries from off-0 */
    PB_XRGACK, /* XREADGROUP of one new entry, then XACK of it */
    PB_XGROUP, /* loading streams: make group "pb" at "$" */
    PB_ZADD,   /* member f with score off */
    PB_ZSCORE, /* of member f (zero-copy) */
    PB_ZRANK,  /* of member f */
    PB_ZRANGE, /* 10 members from rank off */
    PB_NOPS
};
const char *pb_op_name(int op);
bool pb_op_reads(int op); /* answered from the store without a write */

#define PB_MULTI 10 /* keys of an mset/mget */

/* The throttle workload's limit: bursts of 1000, a million a second per key
 * (nearly every request passes: what is measured is the step itself). */
#define PB_GCRA_BURST 1000
#define PB_GCRA_COUNT 1000000
#define PB_GCRA_PERIOD_MS 1000

typedef struct pb_req {
    int op;
    unsigned nk;             /* keys: 1, or PB_MULTI for mset/mget */
    const char *k[PB_MULTI]; /* each cfg.ksize bytes */
    const char *f;           /* field (hset/hget), member (sadd/sismember) or item (bf.add,
                                bf.exists), cfg.ksize bytes */
    uint64_t off;            /* setbit/getbit: the bit; zadd: the score; zrange: the rank */
    int64_t ttl_ms;          /* set: 0, or a TTL */
} pb_req;

/* What a round of requests came to. */
typedef struct pb_res {
    uint64_t errors; /* requests that failed */
    uint64_t misses; /* requests that found nothing (a missing key, an empty list) */
    int first_err;   /* set with errmsg on the first error */
    char errmsg[160];
} pb_res;

void pb_res_error(pb_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */

#define PB_MAX_WORKERS 512
#define PB_MAX_INFLIGHT 4096
#define PB_ZC_GROUP 64 /* zero-copy reads timed in groups of this many */

typedef struct pb_cfg {
    uint64_t keys;       /* key space of strings and counters */
    uint64_t members;    /* map fields / set members in all */
    uint64_t coll_keys;  /* lists, maps and sets */
    size_t ksize, vsize; /* bytes of each key (and field/member), of each value */
    unsigned procs, threads, depth;
    double duration, warmup; /* seconds */
    double timeout;          /* a run's clients outliving it by this much are killed */
    uint64_t requests;       /* > 0: this many per run instead of --duration */
    uint64_t seed;
    double theta;
    int dist;         /* PB_UNIFORM or PB_ZIPF, when a workload names none */
    bool ring_only;   /* pycache reads through the channel */
    bool no_load;     /* assume the keys are loaded */
    bool no_prefault; /* do not walk the keys before warming up */
    bool verbose;
    unsigned load_depth; /* in flight while loading (256) */
    /* expire-storm */
    uint64_t storm_keys;
    double storm_idle; /* seconds measured idle before the storm */
    /* hitratio */
    uint64_t hr_keys;
    double hr_scan; /* share of requests that are one-off scan keys */
    unsigned hr_scan_len;
    uint64_t hr_warm, hr_reqs; /* requests to warm up, to measure (0: 3 x keys each) */
    /* snapshot */
    double snap_idle;
} pb_cfg;

extern pb_cfg pb_cfg_g;

/* ------------------------------------------------------------------------ */
/* Targets                                                                   */

enum pb_kind { PB_T_PYCACHE, PB_T_LMDB, PB_T_REDIS, PB_T_MEMCACHED };

typedef struct pb_target {
    int kind;
    const char *spec;  /* as given: "redis:/tmp/redis.sock" */
    const char *where; /* the part after the colon (NULL: pycache's default dir) */
    char label[24];    /* "pycache", "pycache-ring", "lmdb", "redis", "memcached" */
    bool ring_only;
    unsigned loaded; /* bit per key space already loaded in this run */
} pb_target;

typedef struct pb_conn pb_conn;

/* Memory in use, as each server counts it. */
typedef struct pb_mem {
    bool ok;
    uint64_t keys;  /* keys the server holds */
    uint64_t used;  /* pycache: bytes_used; Redis: used_memory; memcached: bytes */
    uint64_t rss;   /* pycache: tmpfs blocks of the store; Redis: used_memory_rss;
                       memcached: VmRSS */
    uint64_t limit; /* pycache: max_memory; memcached: limit_maxbytes */
    uint64_t aux;   /* pycache: keys expired so far; Redis: expired_keys */
    uint64_t aux2;  /* pycache: keys evicted so far; Redis: evicted_keys; memcached: evictions */
} pb_mem;

int pb_target_parse(const char *spec, pb_target *t, char *err, size_t errlen);
/* Open one connection (one per thread; after fork, in the child). */
int pb_open(const pb_target *t, pb_conn **out, char *err, size_t errlen);
void pb_close(pb_conn *c);
/* NULL when the target runs op; else why not ("memcached has no lists"). */
const char *pb_unsupported(const pb_target *t, int op);
/* Zero-copy reads: answered in this process with no round trip. */
bool pb_local_reads(const pb_target *t);
/* Run n requests with n in flight (pipelined / batched), as the target's
 * users would; count errors and misses into res.  Returns 0, or -1 when the
 * connection is broken (the rest of the run is an error). */
int pb_exec(pb_conn *c, pb_req *reqs, size_t n, pb_res *res);
int pb_mem_get(pb_conn *c, pb_mem *m);
/* pb_mem_get with figures taken after the call (pycache: waits up to 3 s
 * for the daemon to publish its statistics again). */
int pb_mem_fresh(pb_conn *c, pb_mem *m);
/* The pc_client of a pycache connection (NULL for other targets). */
void *pb_pc_client(pb_conn *c);
/* Zero-copy targets: walk every key once, so that this process has mapped
 * the pages its reads will touch (a fresh process otherwise pays a page
 * fault on the first touch of each page, which dominates short runs on a
 * large store).  Others: nothing.  0 or -1. */
int pb_prefault(pb_conn *c);
/* Length of the value the last single-key read found (0: none). */
size_t pb_last_len(const pb_conn *c);
/* A line on how in-flight requests are sent to this target. */
const char *pb_pipeline_note(const pb_target *t, int op);
/* Versions of the client libraries, for the report. */
void pb_lib_versions(json_t *o);

/* ------------------------------------------------------------------------ */
/* Runs and rows                                                             */

typedef struct pb_row {
    char workload[40];
    int dist;
    const pb_target *t;
    unsigned procs, threads, depth;
    bool na; /* the target has no equivalent */
    char note[200];
    char latency[24]; /* "per-request", "avg-of-64", "per-round" */
    uint64_t ops, errors, misses;
    double secs;
    pb_hist *h;    /* NULL: no latency figures */
    json_t *extra; /* more fields for --json (owned) */
} pb_row;

pb_row *pb_row_new(const char *workload, int dist, const pb_target *t);
void pb_row_emit(pb_row *r); /* print (table) and keep (json) */
void pb_row_fail(void);      /* note that some request failed (exit 1) */

/* Load key space ks over [0, n) (strings, counters, lists, maps, sets) with
 * cfg.load_depth writes in flight on one connection; strings expire at
 * expire_at_ms (wall clock, ms; 0: never).  *secs gets the time taken. */
int pb_load(const pb_target *t, int ks, uint64_t n, uint64_t expire_at_ms, double *secs, char *err,
            size_t errlen);

/* Special workloads (pcbench_special.c).  Each emits its rows; returns an
 * exit status. */
int pb_run_load(pb_target *t);
int pb_run_storm(pb_target *t);
int pb_run_hitratio(pb_target *t, int dist);
int pb_run_snapshot(pb_target *t, bool coll);

/* Make sure key space ks is loaded on t (unless --no-load). */
int pb_ensure_loaded(pb_target *t, int ks);

void pb_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* stderr */
void pb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* stderr with -v */

#endif /* PCBENCH_H */
