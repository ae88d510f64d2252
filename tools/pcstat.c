/*
 * pcstat.c - inspect a running pycached.
 *
 * pcstat [-d DIR] [--json] [-i SECONDS [-n COUNT]] [SUBCOMMAND ARGS]
 *
 * Without a subcommand: a one-shot summary in sections, as `redis-cli INFO`
 * prints it; with -i, one line per interval as vmstat does.  Subcommands list
 * keys, show one key, count, list and purge expired keys, list the clients
 * and set the TTL worker's interval.
 *
 * pcstat never opens the LMDB store itself: it always connects ring-only, so
 * its reads travel through the daemon, and reads the statistics from the
 * page the daemon publishes (every 100 ms).  Exit status: 0 done, 1 missing
 * or empty (show of a missing key, a listing that found nothing), 2 error
 * (with a message on stderr).  See man/pcstat.1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcjson.h"
#include "pycache.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

enum { EX_DONE = 0, EX_NO = 1, EX_ERR = 2 };

/* Items fetched per library call when listing. */
#define PAGE 256
/* -i: a header line before every this many lines. */
#define HEADER_EVERY 20

#define KEY(s) (s), strlen(s)

typedef struct pcstat {
    pc_client *c;
    const char *shown; /* the store directory, for messages */
    const char *sub;   /* the subcommand being run, for messages */
    bool json;
} pcstat;

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */

static int fail_msg(pcstat *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "pcstat: SUBCOMMAND: message" on stderr; returns EX_ERR. */
static int fail_msg(pcstat *x, const char *fmt, ...)
{
    va_list ap;
    fputs("pcstat: ", stderr);
    if (x->sub)
        fprintf(stderr, "%s: ", x->sub);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EX_ERR;
}

/* A library error: "pcstat: SUBCOMMAND: <text> (<name>)"; returns EX_ERR. */
static int fail_rc(pcstat *x, const char *what, int rc)
{
    if (rc == PC_EACCES)
        return fail_msg(x,
                        "%s: %s (%s): this user's role does not allow it; see pycached(8), "
                        "ROLES",
                        what, pc_strerror(rc), pc_err_name(rc));
    return fail_msg(x, "%s: %s (%s)", what, pc_strerror(rc), pc_err_name(rc));
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                                */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Milliseconds since the epoch as ISO-8601 UTC: 2026-11-24T09:01:02.345Z. */
static const char *fmt_iso(int64_t ms, char *buf, size_t n)
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)s * 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm)) {
        snprintf(buf, n, "?");
        return buf;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

/* Bytes for people, in powers of 1024: 512B, 1.50K, 32.00M. */
static const char *fmt_bytes(uint64_t b, char *buf, size_t n)
{
    static const char units[] = "KMGTPE";
    if (b < 1024) {
        snprintf(buf, n, "%" PRIu64 "B", b);
        return buf;
    }
    double v = (double)b / 1024;
    int u = 0;
    while (v >= 1024 && units[u + 1]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, "%.2f%c", v, units[u]);
    return buf;
}

/* A duration for people: 350ms, 12.3s, 5m07s, 2h03m, 3d04h. */
static const char *fmt_dur(uint64_t ms, char *buf, size_t n)
{
    uint64_t s = ms / 1000;
    if (ms < 1000)
        snprintf(buf, n, "%" PRIu64 "ms", ms);
    else if (s < 60)
        snprintf(buf, n, "%.1fs", (double)ms / 1000);
    else if (s < 3600)
        snprintf(buf, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    else
        snprintf(buf, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
    return buf;
}

/* Seconds since when_ms (ms since the epoch; 0 if it is ahead). */
static uint64_t age_s(uint64_t when_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    return now > when_ms ? (now - when_ms) / 1000 : 0;
}

static const char *snapshot_state_name(uint32_t s)
{
    return s == 0 ? "none" : s == 1 ? "idle" : s == 2 ? "running" : "unknown";
}

/*
 * The bucket of a power-of-two histogram (bucket 0: 0..1, bucket i: 2^i ..
 * 2^(i+1)-1, the last open-ended) that holds quantile q, or -1 if empty.
 */
static int hist_bucket(const uint64_t *h, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < PC_STATS_HIST; i++)
        total += h[i];
    if (!total)
        return -1;
    uint64_t want = (uint64_t)ceil(q * (double)total), cum = 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < PC_STATS_HIST; i++) {
        cum += h[i];
        if (cum >= want)
            return i;
    }
    return PC_STATS_HIST - 1;
}

/* A bucket's range as text: "0..1", "16..31", "2147483648.." (the last). */
static const char *fmt_bucket(int b, char *buf, size_t n)
{
    if (b < 0)
        snprintf(buf, n, "-");
    else if (b == 0)
        snprintf(buf, n, "0..1");
    else if (b == PC_STATS_HIST - 1)
        snprintf(buf, n, "%" PRIu64 "..", UINT64_C(1) << b);
    else
        snprintf(buf, n, "%" PRIu64 "..%" PRIu64, UINT64_C(1) << b, (UINT64_C(1) << (b + 1)) - 1);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* JSON helpers (values go through pcjson)                                   */

/* *state: 0 nothing written yet, 1 an item written: a comma goes first. */
static void json_key(int *state, const char *name)
{
    if (*state)
        putchar(',');
    *state = 1;
    pcjson_write_str(stdout, name, strlen(name));
    putchar(':');
}

static void json_u64(int *state, const char *name, uint64_t v)
{
    json_key(state, name);
    printf("%" PRIu64, v);
}

static void json_i64(int *state, const char *name, int64_t v)
{
    json_key(state, name);
    printf("%" PRId64, v);
}

static void json_text(int *state, const char *name, const char *s)
{
    json_key(state, name);
    pcjson_write_str(stdout, s, strlen(s));
}

/* A rate or ratio: one decimal place, or null when there is none. */
static void json_num(int *state, const char *name, double v, bool have)
{
    json_key(state, name);
    if (have && isfinite(v))
        printf("%.1f", v);
    else
        fputs("null", stdout);
}

static void json_hist(int *state, const char *name, const uint64_t *h)
{
    json_key(state, name);
    putchar('[');
    for (int i = 0; i < PC_STATS_HIST; i++)
        printf("%s%" PRIu64, i ? "," : "", h[i]);
    putchar(']');
}

/* ------------------------------------------------------------------------ */
/* Reading the daemon's state                                                */

static int get_stats(pcstat *x, pc_stats *st)
{
    int rc = pc_stats_get(x->c, st);
    return rc ? fail_rc(x, "cannot read the daemon's statistics", rc) : 0;
}

/* Each shard's writer: sh[0..*n). */
static int get_shard_stats(pcstat *x, pc_shard_stats *sh, size_t *n)
{
    int rc = pc_stats_shards(x->c, sh, PC_SHARDS_STATS_MAX, n);
    return rc ? fail_rc(x, "cannot read the shards' statistics", rc) : 0;
}

static int read_begin(pcstat *x, pc_read **r)
{
    int rc = pc_read_begin(x->c, r);
    return rc ? fail_rc(x, "cannot begin a read", rc) : 0;
}

static int expired_pending(pcstat *x, uint64_t *n)
{
    pc_read *r;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_expired_count(r, n);
    pc_read_end(r);
    return rc ? fail_rc(x, "cannot count the expired keys", rc) : 0;
}

/* ------------------------------------------------------------------------ */
/* The summary                                                               */

static const char *const type_field[PC_T__COUNT] = {
    "keys",       "keys_string", "keys_numeric", "keys_list",  "keys_map",    "keys_set",
    "keys_queue", "keys_flight", "keys_bits",    "keys_bloom", "keys_stream", "keys_zset"};

static void info_text(const pc_stats *st, const pc_store_info *si, const pc_shard_stats *sh,
                      size_t nsh, uint64_t pending, uint64_t now)
{
    char a[64], b[64];
    uint64_t up = now > st->started_ms ? now - st->started_ms : 0;

    puts("# Server");
    printf("pid:%" PRIu64 "\n", st->pid);
    printf("started:%s\n", fmt_iso((int64_t)st->started_ms, a, sizeof a));
    printf("uptime_s:%" PRIu64 "\n", up / 1000);
    printf("uptime:%s\n", fmt_dur(up, a, sizeof a));
    printf("shards:%" PRIu32 "\n", st->shards);
    printf("eviction_policy:%s\n", pc_policy_name((pc_policy)st->policy));
    printf("expire_interval_ms:%" PRIu32 "\n", st->expire_interval_ms);
    printf("version:%s\n", PACKAGE_VERSION);
    printf("stats_age_ms:%" PRIu64 "\n", now > st->taken_ms ? now - st->taken_ms : 0);

    puts("\n# Clients");
    printf("connected_clients:%" PRIu64 "\n",
           (uint64_t)st->clients_trusted + st->clients_ring_only);
    printf("trusted_clients:%" PRIu32 "\n", st->clients_trusted);
    printf("ring_only_clients:%" PRIu32 "\n", st->clients_ring_only);
    printf("client_buffers:%" PRIu64 "\n", st->buffered);
    printf("client_buffers_peak:%" PRIu64 "\n", st->buffered_peak);

    puts("\n# Memory");
    printf("used_memory:%" PRIu64 "\n", st->bytes_used);
    printf("used_memory_human:%s\n", fmt_bytes(st->bytes_used, a, sizeof a));
    printf("max_memory:%" PRIu64 "\n", st->max_memory);
    printf("max_memory_human:%s\n", fmt_bytes(st->max_memory, a, sizeof a));
    if (st->max_memory_fs) {
        printf("max_memory_fs:%" PRIu64 "\n", st->max_memory_fs);
        printf("max_memory_fs_human:%s\n", fmt_bytes(st->max_memory_fs, a, sizeof a));
    }
    printf("used_pct:%.1f\n",
           st->max_memory ? 100.0 * (double)st->bytes_used / (double)st->max_memory : 0.0);
    printf("evict_above:%" PRIu64 "\n", st->evict_above);
    printf("evict_above_human:%s\n", fmt_bytes(st->evict_above, a, sizeof a));
    printf("max_value:%" PRIu64 "\n", si->max_value);
    printf("readers_used:%" PRIu32 "\n", st->readers_used);
    printf("readers_max:%" PRIu32 "\n", st->readers_max);
    printf("oldest_reader_ms:%" PRIu64 "\n", st->oldest_reader_ms);

    puts("\n# Keys");
    for (int t = 0; t < PC_T__COUNT; t++)
        printf("%s:%" PRIu64 "\n", type_field[t], st->keys[t]);
    printf("keys_with_ttl:%" PRIu64 "\n", st->keys_ttl);
    printf("expired_pending:%" PRIu64 "\n", pending);
    printf("expired_total:%" PRIu64 "\n", st->expired);
    printf("evicted_total:%" PRIu64 "\n", st->evicted);
    printf("swept_total:%" PRIu64 "\n", st->swept);

    puts("\n# Stats");
    printf("requests:%" PRIu64 "\n", st->requests);
    printf("errors:%" PRIu64 "\n", st->errors);
    printf("reads_hit:%" PRIu64 "\n", st->reads_hit);
    printf("reads_miss:%" PRIu64 "\n", st->reads_miss);
    uint64_t lookups = st->reads_hit + st->reads_miss;
    if (lookups)
        printf("hit_ratio:%.4f\n", (double)st->reads_hit / (double)lookups);
    else
        puts("hit_ratio:-");
    for (unsigned i = 0; i < PC_STATS_OPS; i++) {
        const char *name = pc_stats_op_name(i);
        if (name && st->ops[i])
            printf("op_%s:%" PRIu64 "\n", name, st->ops[i]);
    }

    puts("\n# Commits");
    printf("rounds:%" PRIu64 "\n", st->rounds);
    printf("pass_requests_p50:%s\n", fmt_bucket(hist_bucket(st->round_size, 0.5), a, sizeof a));
    printf("pass_requests_p99:%s\n", fmt_bucket(hist_bucket(st->round_size, 0.99), a, sizeof a));
    printf("pass_us_p50:%s\n", fmt_bucket(hist_bucket(st->round_us, 0.5), a, sizeof a));
    printf("pass_us_p99:%s\n", fmt_bucket(hist_bucket(st->round_us, 0.99), a, sizeof a));

    /* Each shard's writer: writes, group commits and their sizes, and the
     * time it was busy (its share of the uptime: one core is 100). */
    puts("\n# Shards");
    for (size_t i = 0; i < nsh; i++) {
        const pc_shard_stats *w = &sh[i];
        printf("shard%zu_writes:%" PRIu64 "\n", i, w->writes);
        printf("shard%zu_commits:%" PRIu64 "\n", i, w->commits);
        printf("shard%zu_failed:%" PRIu64 "\n", i, w->failed);
        printf("shard%zu_commit_requests_p50:%s\n", i,
               fmt_bucket(hist_bucket(w->commit_size, 0.5), a, sizeof a));
        printf("shard%zu_commit_requests_p99:%s\n", i,
               fmt_bucket(hist_bucket(w->commit_size, 0.99), a, sizeof a));
        printf("shard%zu_busy_us:%" PRIu64 "\n", i, w->busy_us);
        printf("shard%zu_busy_pct:%.1f\n", i, up ? (double)w->busy_us / 10.0 / (double)up : 0.0);
    }

    puts("\n# Snapshot");
    printf("snapshot_state:%s\n", snapshot_state_name(st->snapshot_state));
    printf("snapshot_last:%s\n",
           st->snapshot_ms ? fmt_iso((int64_t)st->snapshot_ms, b, sizeof b) : "never");
    printf("snapshot_took_ms:%" PRIu64 "\n", st->snapshot_took_ms);
    printf("snapshot_keys:%" PRIu64 "\n", st->snapshot_keys);
    printf("snapshot_bytes:%" PRIu64 "\n", st->snapshot_bytes);
    printf("snapshot_result:%s\n", pc_err_name(st->snapshot_rc));
    if (st->snapshot_ms)
        printf("snapshot_age_s:%" PRIu64 "\n", age_s(st->snapshot_ms));
    /* The MariaDB/MySQL target (--snapshot-to). */
    printf("db_snapshot_state:%s\n", snapshot_state_name(st->db_snapshot_state));
    if (st->db_snapshot_state) {
        printf("db_snapshot_last:%s\n",
               st->db_snapshot_ms ? fmt_iso((int64_t)st->db_snapshot_ms, b, sizeof b) : "never");
        if (st->db_snapshot_ms)
            printf("db_snapshot_age_s:%" PRIu64 "\n", age_s(st->db_snapshot_ms));
        printf("db_snapshot_took_ms:%" PRIu64 "\n", st->db_snapshot_took_ms);
        printf("db_snapshot_keys:%" PRIu64 "\n", st->db_snapshot_keys);
        printf("db_snapshot_result:%s\n", pc_err_name(st->db_snapshot_rc));
        if (st->db_snapshot_retry_ms)
            printf("db_snapshot_retry:%s\n",
                   fmt_iso((int64_t)st->db_snapshot_retry_ms, b, sizeof b));
    }
}

static void info_json(const pc_stats *st, const pc_shard_stats *sh, size_t nsh, uint64_t pending)
{
    static const char *const tnames[PC_T__COUNT] = {"total", "string", "numeric", "list",
                                                    "map",   "set",    "queue",   "flight",
                                                    "bits",  "bloom",  "stream",  "zset"};
    int s = 0, o = 0, k = 0;
    putchar('{');
    json_u64(&s, "pid", st->pid);
    json_u64(&s, "started_ms", st->started_ms);
    json_u64(&s, "taken_ms", st->taken_ms);
    json_key(&s, "ops");
    putchar('{');
    for (unsigned i = 0; i < PC_STATS_OPS; i++) {
        const char *name = pc_stats_op_name(i);
        if (name)
            json_u64(&o, name, st->ops[i]);
    }
    putchar('}');
    json_u64(&s, "requests", st->requests);
    json_u64(&s, "errors", st->errors);
    json_u64(&s, "reads_hit", st->reads_hit);
    json_u64(&s, "reads_miss", st->reads_miss);
    json_key(&s, "keys");
    putchar('{');
    for (int t = 0; t < PC_T__COUNT; t++)
        json_u64(&k, tnames[t], st->keys[t]);
    putchar('}');
    json_u64(&s, "keys_ttl", st->keys_ttl);
    json_u64(&s, "expired", st->expired);
    json_u64(&s, "evicted", st->evicted);
    json_u64(&s, "swept", st->swept);
    json_u64(&s, "bytes_used", st->bytes_used);
    json_u64(&s, "max_memory", st->max_memory);
    if (st->max_memory_fs)
        json_u64(&s, "max_memory_fs", st->max_memory_fs);
    json_u64(&s, "evict_above", st->evict_above);
    json_text(&s, "policy", pc_policy_name((pc_policy)st->policy));
    json_u64(&s, "expire_interval_ms", st->expire_interval_ms);
    json_u64(&s, "shards", st->shards);
    json_u64(&s, "clients_trusted", st->clients_trusted);
    json_u64(&s, "clients_ring_only", st->clients_ring_only);
    json_u64(&s, "client_buffers", st->buffered);
    json_u64(&s, "client_buffers_peak", st->buffered_peak);
    json_u64(&s, "readers_used", st->readers_used);
    json_u64(&s, "readers_max", st->readers_max);
    json_u64(&s, "oldest_reader_ms", st->oldest_reader_ms);
    json_u64(&s, "rounds", st->rounds);
    json_hist(&s, "round_size", st->round_size);
    json_hist(&s, "round_us", st->round_us);
    json_key(&s, "shard_stats");
    putchar('[');
    for (size_t i = 0; i < nsh; i++) {
        int w = 0;
        printf("%s{", i ? "," : "");
        json_u64(&w, "shard", i);
        json_u64(&w, "writes", sh[i].writes);
        json_u64(&w, "commits", sh[i].commits);
        json_u64(&w, "failed", sh[i].failed);
        json_hist(&w, "commit_size", sh[i].commit_size);
        json_u64(&w, "busy_us", sh[i].busy_us);
        putchar('}');
    }
    putchar(']');
    json_text(&s, "snapshot_state", snapshot_state_name(st->snapshot_state));
    json_i64(&s, "snapshot_rc", st->snapshot_rc);
    json_text(&s, "snapshot_result", pc_err_name(st->snapshot_rc));
    json_u64(&s, "snapshot_ms", st->snapshot_ms);
    json_u64(&s, "snapshot_took_ms", st->snapshot_took_ms);
    json_u64(&s, "snapshot_keys", st->snapshot_keys);
    json_u64(&s, "snapshot_bytes", st->snapshot_bytes);
    json_text(&s, "db_snapshot_state", snapshot_state_name(st->db_snapshot_state));
    json_i64(&s, "db_snapshot_rc", st->db_snapshot_rc);
    json_text(&s, "db_snapshot_result", pc_err_name(st->db_snapshot_rc));
    json_u64(&s, "db_snapshot_ms", st->db_snapshot_ms);
    json_u64(&s, "db_snapshot_took_ms", st->db_snapshot_took_ms);
    json_u64(&s, "db_snapshot_keys", st->db_snapshot_keys);
    json_u64(&s, "db_snapshot_retry_ms", st->db_snapshot_retry_ms);
    json_u64(&s, "expired_pending", pending);
    json_text(&s, "version", PACKAGE_VERSION);
    puts("}");
}

static int run_summary(pcstat *x)
{
    pc_stats st;
    pc_store_info si;
    uint64_t pending = 0;
    /* The page first, then the one request: the figures shown never
     * include pcstat's own request. */
    pc_shard_stats sh[PC_SHARDS_STATS_MAX];
    size_t nsh = 0;
    int ex = get_stats(x, &st);
    if (ex || (ex = get_shard_stats(x, sh, &nsh)) || (ex = expired_pending(x, &pending)))
        return ex;
    int rc = pc_store_info_get(x->c, &si);
    if (rc)
        return fail_rc(x, "cannot describe the store", rc);
    if (x->json)
        info_json(&st, sh, nsh, pending);
    else
        info_text(&st, &si, sh, nsh, pending, now_ms());
    return EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* -i: one line per interval                                                 */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Sleep seconds (fractional); false when Ctrl-C came. */
static bool nap(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    while (!interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return !interrupted;
}

static void interval_header(void)
{
    printf("%9s %9s %7s %10s %6s %10s %10s %9s %9s\n", "keys", "used_MiB", "clients", "req/s",
           "hit%", "expired/s", "evicted/s", "passes/s", "req/pass");
}

/* One line from the change between prev and cur. */
static void interval_line(const pc_stats *prev, const pc_stats *cur, bool json)
{
    double dt =
        cur->taken_ms > prev->taken_ms ? (double)(cur->taken_ms - prev->taken_ms) / 1000 : 0;
#define DELTA(f) ((double)(cur->f >= prev->f ? cur->f - prev->f : 0))
    double req = DELTA(requests), hit = DELTA(reads_hit), miss = DELTA(reads_miss);
    double expired = DELTA(expired), evicted = DELTA(evicted), rounds = DELTA(rounds);
#undef DELTA
    bool rates = dt > 0, hits = hit + miss > 0, per_pass = rounds > 0;
    double used = (double)cur->bytes_used / (1 << 20);
    unsigned clients = cur->clients_trusted + cur->clients_ring_only;
    double hit_pct = hits ? 100 * hit / (hit + miss) : 0, rpp = per_pass ? req / rounds : 0;
    if (!rates)
        dt = 1; /* rates of zero: no new figures were published */
    if (json) {
        int s = 0;
        putchar('{');
        json_u64(&s, "taken_ms", cur->taken_ms);
        json_u64(&s, "keys", cur->keys[0]);
        json_key(&s, "used_mib");
        printf("%.2f", used);
        json_u64(&s, "clients", clients);
        json_num(&s, "req_per_s", req / dt, true);
        json_num(&s, "hit_pct", hit_pct, hits);
        json_num(&s, "expired_per_s", expired / dt, true);
        json_num(&s, "evicted_per_s", evicted / dt, true);
        json_num(&s, "passes_per_s", rounds / dt, true);
        json_num(&s, "req_per_pass", rpp, per_pass);
        puts("}");
    } else {
        char hp[16], rp[16];
        if (hits)
            snprintf(hp, sizeof hp, "%.1f", hit_pct);
        else
            snprintf(hp, sizeof hp, "-");
        if (per_pass)
            snprintf(rp, sizeof rp, "%.1f", rpp);
        else
            snprintf(rp, sizeof rp, "-");
        printf("%9" PRIu64 " %9.1f %7u %10.1f %6s %10.1f %10.1f %9.1f %9s\n", cur->keys[0], used,
               clients, req / dt, hp, expired / dt, evicted / dt, rounds / dt, rp);
    }
    fflush(stdout);
}

static int run_interval(pcstat *x, double seconds, long count)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: the sleep ends at once */
    pc_stats prev, cur, next;
    int ex = get_stats(x, &cur);
    if (ex)
        return ex;
    /* The first line covers the time since the daemon started, as vmstat's.
     * Each line after it: the change between the two latest publications
     * (a line that comes before the next one repeats the latest rates). */
    memset(&prev, 0, sizeof prev);
    prev.taken_ms = cur.started_ms;
    uint64_t stale_since = now_ms();
    for (long line = 0; !interrupted; line++) {
        if (!x->json && line % HEADER_EVERY == 0)
            interval_header();
        interval_line(&prev, &cur, x->json);
        if (ferror(stdout))
            return fail_msg(x, "error writing the output: %s", strerror(errno));
        if (count > 0 && line + 1 >= count)
            break;
        if (!nap(seconds))
            break;
        int rc = pc_stats_get(x->c, &next);
        if (rc == PC_ECONNREFUSED || rc == PC_ETIMEDOUT)
            return fail_msg(
                x, "the daemon (pid %" PRIu64 ") stopped serving (%s); is it still running?",
                cur.pid, pc_err_name(rc));
        if (rc)
            return get_stats(x, &next);
        /* The page outlives the daemon: notice when nobody updates it. */
        uint64_t now = now_ms();
        if (next.taken_ms != cur.taken_ms) {
            prev = cur;
            cur = next;
            stale_since = now;
        } else if (now - stale_since > 3000) {
            return fail_msg(x,
                            "the daemon (pid %" PRIu64 ") has not published statistics for %" PRIu64
                            " ms; is it still running?",
                            cur.pid, now - stale_since);
        }
    }
    return EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* Subcommands                                                               */

/*
 * A listing's JSON array is opened only once its first page has come, so
 * that a failure leaves nothing on stdout (only the message on stderr).
 */
static void json_open(pcstat *x, bool *opened, int rc)
{
    if (x->json && !rc && !*opened) {
        putchar('[');
        *opened = true;
    }
}

static void json_close(pcstat *x, bool *opened)
{
    json_open(x, opened, 0);
    if (x->json)
        puts("]");
}

static int sub_keys(pcstat *x, int argc, char **argv)
{
    const char *glob = argc ? argv[0] : NULL;
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[PAGE];
    uint64_t found = 0;
    bool opened = false;
    int ex = read_begin(x, &r), rc = 0;
    if (ex)
        return ex;
    while (!cur.done && !rc) {
        size_t n = 0;
        rc = pc_scan(r, glob, &cur, keys, PAGE, &n);
        json_open(x, &opened, rc);
        for (size_t i = 0; i < n && !rc; i++, found++) {
            if (x->json) {
                if (found)
                    putchar(',');
                pcjson_write_str(stdout, keys[i].ptr, keys[i].len);
            } else {
                fwrite(keys[i].ptr, 1, keys[i].len, stdout);
                putchar('\n');
            }
        }
    }
    pc_read_end(r);
    if (rc)
        return fail_rc(x, "cannot list the keys", rc);
    json_close(x, &opened);
    return found ? EX_DONE : EX_NO;
}

typedef int (*len_fn)(pc_read *, const void *, size_t, uint64_t *);
typedef int (*range_fn)(pc_read *, const void *, size_t, int64_t, int64_t, pc_val *, size_t,
                        size_t *);

/* A List's or Queue's elements as a JSON array, page by page. */
static int print_seq(pc_read *r, const char *key, range_fn rangef)
{
    pc_val buf[PAGE];
    int64_t start = 0;
    putchar('[');
    for (;;) {
        size_t n = 0;
        int rc = rangef(r, KEY(key), start, -1, buf, PAGE, &n);
        if (rc)
            return rc;
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (start || i)
                putchar(',');
            pcjson_write_val(stdout, &buf[i]);
        }
        start += (int64_t)n;
    }
    putchar(']');
    return 0;
}

static int print_map(pc_read *r, const char *key)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes fields[PAGE];
    pc_val vals[PAGE];
    bool first = true;
    putchar('{');
    while (!cur.done) {
        size_t n = 0;
        int rc = pc_hscan(r, KEY(key), &cur, fields, vals, PAGE, &n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++, first = false) {
            if (!first)
                putchar(',');
            pcjson_write_str(stdout, fields[i].ptr, fields[i].len);
            putchar(':');
            pcjson_write_val(stdout, &vals[i]);
        }
    }
    putchar('}');
    return 0;
}

static int print_set(pc_read *r, const char *key)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val buf[PAGE];
    bool first = true;
    putchar('[');
    while (!cur.done) {
        size_t n = 0;
        int rc = pc_sscan(r, KEY(key), &cur, buf, PAGE, &n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++, first = false) {
            if (!first)
                putchar(',');
            pcjson_write_val(stdout, &buf[i]);
        }
    }
    putchar(']');
    return 0;
}

/* The value as pccli's get prints it: a String raw (a JSON string with
 * --json), a Numeric as a number, a collection as compact JSON. */
static int print_value(pcstat *x, pc_read *r, const char *key, pc_type t)
{
    pc_val v;
    int rc;
    switch (t) {
    case PC_T_STRING:
    case PC_T_NUMERIC:
        if ((rc = pc_get(r, KEY(key), &v)))
            return rc;
        if (v.kind == PC_BYTES && !x->json)
            fwrite(v.s.ptr, 1, v.s.len, stdout);
        else
            pcjson_write_val(stdout, &v);
        return 0;
    case PC_T_LIST:
        return print_seq(r, key, pc_lrange);
    case PC_T_QUEUE:
        return print_seq(r, key, pc_qrange);
    case PC_T_MAP:
        return print_map(r, key);
    case PC_T_SET:
        return print_set(r, key);
    case PC_T_BITS: { /* the bits set (the whole array may be 512 MiB) */
        uint64_t n;
        if ((rc = pc_bitcount(r, KEY(key), 0, -1, 0, &n)))
            return rc;
        printf(x->json ? "{\"bits_set\":%" PRIu64 "}" : "%" PRIu64 " bits set", n);
        return 0;
    }
    case PC_T_BLOOM: { /* its figures */
        pc_bf_info bi;
        if ((rc = pc_bf_info_get(r, KEY(key), &bi)))
            return rc;
        printf(x->json ? "{\"capacity\":%" PRIu64 ",\"filters\":%u,\"error_rate\":%g}"
                       : "capacity %" PRIu64 ", %u layer(s), error rate %g",
               bi.capacity, bi.filters, bi.error_rate);
        return 0;
    }
    case PC_T_STREAM: { /* its figures (its entries: pccli xrange) */
        pc_xinfo xi;
        if ((rc = pc_xinfo_stream(r, KEY(key), &xi)))
            return rc;
        printf(x->json ? "{\"length\":%" PRIu64 ",\"last_id\":\"%" PRIu64 "-%" PRIu64
                         "\",\"groups\":%" PRIu64 "}"
                       : "%" PRIu64 " entries, last ID %" PRIu64 "-%" PRIu64 ", %" PRIu64
                         " group(s)",
               xi.length, xi.last_id.ms, xi.last_id.seq, xi.groups);
        return 0;
    }
    case PC_T_ZSET: { /* its first members with their scores */
        pc_zrange_spec all;
        pc_zrange_spec_init(&all);
        pc_cursor cur = PC_CURSOR_INIT;
        pc_zentry e[16];
        size_t n;
        if ((rc = pc_zrange(r, KEY(key), &all, &cur, e, 16, &n)))
            return rc;
        putchar('[');
        for (size_t i = 0; i < n; i++) {
            pc_val s = pc_dbl(e[i].score);
            printf(i ? ",[" : "[");
            pcjson_write_val(stdout, &e[i].member);
            putchar(',');
            if (isinf(e[i].score))
                printf("\"%sinf\"", e[i].score < 0 ? "-" : "");
            else
                pcjson_write_val(stdout, &s);
            putchar(']');
        }
        fputs(cur.done ? "]" : ",\"...\"]", stdout);
        return 0;
    }
    case PC_T_FLIGHT: { /* its value, fresh or stale (null: a lease alone) */
        pc_flight f;
        if ((rc = pc_flight_get(r, KEY(key), &f)))
            return rc;
        if (f.value.kind == PC_NONE)
            fputs("null", stdout);
        else if (f.value.kind == PC_BYTES && !x->json)
            fwrite(f.value.s.ptr, 1, f.value.s.len, stdout);
        else
            pcjson_write_val(stdout, &f.value);
        return 0;
    }
    default:
        return PC_ENOTFOUND;
    }
}

/* The size: bytes of a String, 8 for a Numeric, elements of a collection,
 * 1 for a Flight with a value (0: a lease alone), bytes of a bit array,
 * items added to a Bloom filter, entries of a stream. */
static int key_size(pc_read *r, const char *key, pc_type t, uint64_t *size)
{
    static const len_fn lens[] = {
        [PC_T_LIST] = pc_llen, [PC_T_MAP] = pc_hlen, [PC_T_SET] = pc_scard, [PC_T_QUEUE] = pc_qlen};
    if (t == PC_T_NUMERIC) {
        *size = 8;
        return 0;
    }
    if (t == PC_T_STRING)
        return pc_strlen(r, KEY(key), size);
    if (t == PC_T_BITS)
        return pc_bitlen(r, KEY(key), size);
    if (t == PC_T_STREAM)
        return pc_xlen(r, KEY(key), size);
    if (t == PC_T_ZSET)
        return pc_zcard(r, KEY(key), size);
    if (t == PC_T_BLOOM) { /* items added */
        pc_bf_info bi;
        int rc = pc_bf_info_get(r, KEY(key), &bi);
        *size = rc ? 0 : bi.items;
        return rc;
    }
    if (t == PC_T_FLIGHT) { /* a value or none */
        pc_flight f;
        int rc = pc_flight_get(r, KEY(key), &f);
        *size = !rc && f.value.kind != PC_NONE;
        return rc;
    }
    if ((unsigned)t < sizeof lens / sizeof lens[0] && lens[t])
        return lens[t](r, KEY(key), size);
    return PC_ENOTFOUND;
}

static int show_missing(pcstat *x)
{
    if (x->json)
        puts("null");
    return EX_NO;
}

static int sub_show(pcstat *x, int argc, char **argv)
{
    (void)argc;
    const char *key = argv[0];
    pc_read *r;
    pc_type t;
    int64_t ttl = -1;
    uint64_t size = 0;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    /* Each look is a round trip (ring-only): the key may go in between. */
    int rc = pc_type_of(r, KEY(key), &t);
    if (!rc && t == PC_T_NONE)
        rc = PC_ENOTFOUND;
    if (!rc)
        rc = pc_ttl(r, KEY(key), &ttl);
    if (!rc)
        rc = key_size(r, key, t, &size);
    if (rc) {
        pc_read_end(r);
        return rc == PC_ENOTFOUND ? show_missing(x) : fail_rc(x, "cannot read the key", rc);
    }
    if (x->json) {
        int s = 0;
        putchar('{');
        json_key(&s, "key");
        pcjson_write_str(stdout, key, strlen(key));
        json_text(&s, "type", pc_type_name(t));
        json_i64(&s, "ttl", ttl);
        json_u64(&s, "size", size);
        json_key(&s, "value");
    } else {
        fputs("key:", stdout);
        fputs(key, stdout);
        printf("\ntype:%s\nttl:%" PRId64 "\nsize:%" PRIu64 "\nvalue:", pc_type_name(t), ttl, size);
    }
    rc = print_value(x, r, key, t);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND || rc == PC_EWRONGTYPE) {
        /* Gone (or replaced) since the first look: a value of nothing. */
        fputs(x->json ? "null}\n" : "\n", stdout);
        return EX_NO;
    }
    if (rc)
        return fail_rc(x, "cannot read the value", rc);
    fputs(x->json ? "}\n" : "\n", stdout);
    return EX_DONE;
}

static int sub_expired(pcstat *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t n = 0;
    int ex = expired_pending(x, &n);
    if (ex)
        return ex;
    printf("%" PRIu64 "\n", n);
    return EX_DONE;
}

static int sub_expiry(pcstat *x, int argc, char **argv)
{
    const char *glob = argc ? argv[0] : NULL;
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[PAGE];
    int64_t when[PAGE];
    uint64_t found = 0;
    int ex = read_begin(x, &r), rc = 0;
    if (ex)
        return ex;
    int64_t now = (int64_t)now_ms();
    bool opened = false;
    while (!cur.done && !rc) {
        size_t n = 0;
        rc = pc_expiry_scan(r, glob, &cur, keys, when, PAGE, &n);
        json_open(x, &opened, rc);
        for (size_t i = 0; i < n && !rc; i++, found++) {
            char iso[64];
            fmt_iso(when[i], iso, sizeof iso);
            if (x->json) {
                int s = 0;
                fputs(found ? ",{" : "{", stdout);
                json_key(&s, "key");
                pcjson_write_str(stdout, keys[i].ptr, keys[i].len);
                json_text(&s, "expire_at", iso);
                json_i64(&s, "expire_at_ms", when[i]);
                json_i64(&s, "ms_left", when[i] - now);
                putchar('}');
            } else {
                fwrite(keys[i].ptr, 1, keys[i].len, stdout);
                printf("\t%s\t%" PRId64 "\n", iso, when[i] - now);
            }
        }
    }
    pc_read_end(r);
    if (rc)
        return fail_rc(x, "cannot list the keys with a TTL", rc);
    json_close(x, &opened);
    return found ? EX_DONE : EX_NO;
}

static int sub_purge(pcstat *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t removed = 0;
    int rc = pc_purge_expired(x->c, &removed);
    if (rc)
        return fail_rc(x, "cannot purge the expired keys", rc);
    printf("%" PRIu64 "\n", removed);
    return EX_DONE;
}

static int sub_snapshot(pcstat *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_snapshot_info si;
    int rc = pc_snapshot(x->c, &si);
    if (rc == PC_ENOTSUP)
        return fail_rc(x, "the daemon writes no snapshots (start it with --snapshot-dir)", rc);
    if (rc)
        return fail_rc(x, "the snapshot failed", rc);
    if (x->json) {
        fputs("{\"path\":", stdout);
        pcjson_write_str(stdout, si.path, strlen(si.path));
        printf(",\"keys\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"took_ms\":%" PRIu64 "}\n", si.keys,
               si.bytes, si.took_ms);
    } else
        printf("%s: %" PRIu64 " keys, %" PRIu64 " bytes, %" PRIu64 " ms\n", si.path, si.keys,
               si.bytes, si.took_ms);
    return EX_DONE;
}

static int sub_clients(pcstat *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_client_info *ci = NULL;
    size_t n = 0, total = 0, cap = 64;
    int rc;
    /* Clients come and go: ask again with room for all until it fits. */
    for (int tries = 0;; tries++) {
        pc_client_info *grown = realloc(ci, cap * sizeof *ci);
        if (!grown) {
            free(ci);
            return fail_rc(x, "cannot list the clients", PC_ENOMEM);
        }
        ci = grown;
        if ((rc = pc_clients(x->c, ci, cap, &n, &total))) {
            free(ci);
            return fail_rc(x, "cannot list the clients", rc);
        }
        if (total <= cap || tries == 4)
            break;
        cap = total + 16;
    }
    uint64_t now = now_ms();
    if (x->json) {
        putchar('[');
        for (size_t i = 0; i < n; i++) {
            int s = 0;
            fputs(i ? ",{" : "{", stdout);
            json_u64(&s, "id", ci[i].id);
            json_i64(&s, "pid", ci[i].pid);
            json_u64(&s, "uid", ci[i].uid);
            json_text(&s, "mode", ci[i].ring_only ? "ring-only" : "trusted");
            json_text(&s, "role", pc_role_name((pc_role)ci[i].role));
            json_u64(&s, "since_ms", ci[i].since_ms);
            json_u64(&s, "connected_ms", now > ci[i].since_ms ? now - ci[i].since_ms : 0);
            json_u64(&s, "requests", ci[i].requests);
            json_u64(&s, "reads_hit", ci[i].reads_hit);
            json_u64(&s, "reads_miss", ci[i].reads_miss);
            json_key(&s, "blocked");
            fputs(ci[i].blocked ? "true" : "false", stdout);
            json_u64(&s, "ring_size", ci[i].ring_size);
            putchar('}');
        }
        puts("]");
    } else {
        printf("%6s %8s %6s %-9s %-5s %10s %10s %10s %10s %s\n", "ID", "PID", "UID", "MODE", "ROLE",
               "CONNECTED", "REQUESTS", "HITS", "MISSES", "BLOCKED");
        for (size_t i = 0; i < n; i++) {
            char dur[32];
            fmt_dur(now > ci[i].since_ms ? now - ci[i].since_ms : 0, dur, sizeof dur);
            printf("%6" PRIu64 " %8" PRId64 " %6" PRIu32 " %-9s %-5s %10s %10" PRIu64 " %10" PRIu64
                   " %10" PRIu64 " %s\n",
                   ci[i].id, ci[i].pid, ci[i].uid, ci[i].ring_only ? "ring-only" : "trusted",
                   pc_role_name((pc_role)ci[i].role), dur, ci[i].requests, ci[i].reads_hit,
                   ci[i].reads_miss, ci[i].blocked ? "yes" : "no");
        }
    }
    free(ci);
    return EX_DONE;
}

static int sub_expire_interval(pcstat *x, int argc, char **argv)
{
    if (argc == 0) {
        pc_stats st;
        int ex = get_stats(x, &st);
        if (ex)
            return ex;
        if (x->json)
            printf("{\"expire_interval_ms\":%" PRIu32 "}\n", st.expire_interval_ms);
        else
            printf("expire_interval_ms:%" PRIu32 "\n", st.expire_interval_ms);
        return EX_DONE;
    }
    char *end;
    const char *s = argv[0];
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v > 3600000)
        return fail_msg(x, "MS must be a whole number from 0 to 3600000: '%s'", s);
    int rc = pc_set_expire_interval(x->c, (uint32_t)v);
    if (rc)
        return fail_rc(x, "cannot set the TTL worker's interval", rc);
    if (x->json)
        printf("{\"expire_interval_ms\":%llu}\n", v);
    else
        printf("expire_interval_ms:%llu\n", v);
    return EX_DONE;
}

typedef struct sub {
    const char *name;
    int (*fn)(pcstat *x, int argc, char **argv);
    int min, max;
    const char *args;
    const char *what;
} sub;

static const sub subs[] = {
    {"keys", sub_keys, 0, 1, "[GLOB]", "list the keys (matching GLOB)"},
    {"show", sub_show, 1, 1, "KEY", "a key's type, TTL, size and value"},
    {"expired", sub_expired, 0, 0, "", "count the expired keys not yet removed"},
    {"expiry", sub_expiry, 0, 1, "[GLOB]", "the keys with a TTL, soonest first"},
    {"purge-expired", sub_purge, 0, 0, "", "remove every expired key now"},
    {"clients", sub_clients, 0, 0, "", "the connected clients"},
    {"snapshot", sub_snapshot, 0, 0, "", "write a snapshot now; prints it when on disk"},
    {"expire-interval", sub_expire_interval, 0, 1, "[MS]",
     "show or set the TTL worker's interval (0 stops it)"},
};

static const sub *sub_find(const char *name)
{
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(subs[i].name, name))
            return &subs[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */

#define SYNOPSIS                                                                  \
    "usage: pcstat [-d DIR] [--json] [-i SECONDS [-n COUNT]] [SUBCOMMAND ARGS]\n" \
    "       pcstat --help | --version\n"

static void usage(FILE *f)
{
    fputs(SYNOPSIS "\n"
                   "Inspect a running pycached.  Without a subcommand, print a summary in\n"
                   "sections (Server, Clients, Memory, Keys, Stats, Commits, Snapshot).\n"
                   "\n"
                   "  -d, --dir DIR         the store directory (default: $PYCACHE_DIR, else the\n"
                   "                        library's default)\n"
                   "  -j, --json            print JSON instead of text\n"
                   "  -i, --interval SECS   print one line of rates every SECS seconds\n"
                   "                        (fractions allowed) until Ctrl-C\n"
                   "  -n, --count COUNT     with -i: stop after COUNT lines\n"
                   "  -h, --help            print this help\n"
                   "  -V, --version         print the version\n"
                   "\n"
                   "Subcommands:\n",
          f);
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", subs[i].name, subs[i].args);
        fprintf(f, "  %-22s%s\n", head, subs[i].what);
    }
    fputs("\npcstat connects ring-only and never opens the store itself.\n"
          "Exit status: 0 done, 1 missing or empty, 2 error.  See pcstat(1).\n",
          f);
}

static int usage_short(const char *why, const char *what)
{
    fprintf(stderr, "pcstat: %s%s\n" SYNOPSIS "Try 'pcstat --help' for more.\n", why, what);
    return EX_ERR;
}

/* The directory the library will use when none is given (for messages). */
static const char *default_dir(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(buf, n, "/run/pycache");
    else if (xdg && *xdg)
        snprintf(buf, n, "%s/pycache", xdg);
    else
        snprintf(buf, n, "the default store directory ($XDG_RUNTIME_DIR is unset)");
    return buf;
}

static int connect_daemon(pcstat *x, const char *dir)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_RING_ONLY; /* never map the store */
    int rc = pc_connect(dir, &o, &x->c);
    if (!rc)
        return EX_DONE;
    if (rc == PC_ECONNREFUSED || rc == PC_ENOENT)
        fprintf(stderr, "pcstat: no daemon is serving %s\n", x->shown);
    else if (rc == PC_EACCES)
        fprintf(stderr,
                "pcstat: the daemon serving %s does not admit this user (%s); see pycached "
                "--allow-read\n",
                x->shown, pc_err_name(rc));
    else
        fprintf(stderr, "pcstat: cannot connect to the daemon serving %s: %s (%s)\n", x->shown,
                pc_strerror(rc), pc_err_name(rc));
    return EX_ERR;
}

/* -i's SECONDS: a finite number above 0, at most a day. */
static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < 0.01 || v > 86400)
        return false;
    *out = v;
    return true;
}

static bool parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v < 1)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    pcstat x = {0};
    const char *dir = NULL;
    double seconds = 0;
    long count = 0;
    bool interval = false, counted = false;
    int o;
    opterr = 0; /* our own messages below */
    while ((o = getopt_long(argc, argv, ":d:ji:n:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            dir = optarg;
            break;
        case 'j':
            x.json = true;
            break;
        case 'i':
            if (!parse_seconds(optarg, &seconds))
                return usage_short("-i needs a number of seconds from 0.01 to 86400: ", optarg);
            interval = true;
            break;
        case 'n':
            if (!parse_count(optarg, &count))
                return usage_short("-n needs a whole number of at least 1: ", optarg);
            counted = true;
            break;
        case 'h':
            usage(stdout);
            return fflush(stdout) ? EX_ERR : EX_DONE;
        case 'V':
            printf("pcstat (pycache) %s\n", PACKAGE_VERSION);
            return fflush(stdout) ? EX_ERR : EX_DONE;
        case ':':
            return usage_short("option needs a value: ", argv[optind - 1]);
        default:
            if (optopt) {
                char opt[3] = {'-', (char)optopt, '\0'};
                return usage_short("unknown option: ", opt);
            }
            return usage_short("unknown option: ", argv[optind - 1]);
        }
    }
    const sub *sc = NULL;
    int nargs = 0;
    if (optind < argc) {
        if (!(sc = sub_find(argv[optind])))
            return usage_short("unknown subcommand: ", argv[optind]);
        nargs = argc - optind - 1;
        if (nargs < sc->min || nargs > sc->max) {
            fprintf(stderr, "pcstat: %s: wrong arguments\nusage: pcstat %s %s\n", sc->name,
                    sc->name, sc->args);
            return EX_ERR;
        }
        if (interval)
            return usage_short("-i repeats the summary; it takes no subcommand: ", sc->name);
    }
    if (counted && !interval)
        return usage_short("-n needs -i", "");
    const char *env = getenv("PYCACHE_DIR");
    if (!dir && env && *env)
        dir = env;
    char dbuf[4200];
    x.shown = dir ? dir : default_dir(dbuf, sizeof dbuf);
    if (connect_daemon(&x, dir))
        return EX_ERR;
    int ex;
    if (sc) {
        x.sub = sc->name;
        ex = sc->fn(&x, nargs, argv + optind + 1);
    } else if (interval) {
        ex = run_interval(&x, seconds, count);
    } else {
        ex = run_summary(&x);
    }
    pc_close(x.c);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "pcstat: error writing the output: %s\n", strerror(errno));
        return EX_ERR;
    }
    return ex;
}
