/*
 * pcbench_targets.c - the four things pcbench measures, behind one interface:
 *
 *   pycache:DIR       libpycache-client in daemon mode: zero-copy reads
 *                     (pc_read_begin / pc_get / pc_read_end per request),
 *                     writes through the ring; n in flight = a batch of n
 *                     (pc_batch_begin ... pc_batch_exec).
 *   pycache-ring:DIR  the same with PC_OPT_RING_ONLY: reads go through the
 *                     channel as copies.
 *   lmdb:DIR          the floor: each shard's DIR/data-NN.mdb opened by LMDB alone,
 *                     read-only, its "keys" database read with a renewed
 *                     read transaction per request (shm/bare.h says
 *                     exactly how), each key in its shard.  Reads only.
 *   redis:SOCKET      hiredis; n in flight = n commands appended
 *                     (redisAppendCommandArgv) then n replies read.
 *   memcached:SOCKET  libmemcached (ASCII protocol, its default); n gets in
 *                     flight = one memcached_mget; n sets = n sets buffered
 *                     (MEMCACHED_BEHAVIOR_BUFFER_REQUESTS, on a second
 *                     handle), then one memcached_mget, which sends them and
 *                     reads their answers before its own.
 *
 * SOCKET may also be HOST:PORT.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libmemcached/memcached.h>

#include "../shm/bare.h"
#include "../shm/record.h"
#include "../shm/store.h"
#include "pcbench.h"
#include "pycache.h"

extern const char *pb_value_g; /* cfg.vsize bytes */

struct pb_conn {
    const pb_target *t;
    size_t ksize, vsize;
    /* pycache */
    pc_client *pc;
    int *rcs;
    pc_val *pops;
    size_t *npops;
    /* lmdb: a reader per shard */
    pcs_bare_rd *lm[PCS_SHARDS_MAX];
    /* redis */
    redisContext *rc;
    char gcra_sha[48]; /* the GCRA script, loaded (throttle) */
    /* memcached */
    memcached_st *mc;  /* acknowledged requests */
    memcached_st *mcb; /* buffered stores, collected by a multi-get */
    const char **mkeys;
    size_t *mlens;
    unsigned sink;   /* bytes of values touched, so reads are not optimised away */
    size_t last_len; /* length of the last value read */
};

/* ------------------------------------------------------------------------ */
/* Parsing a target                                                          */

int pb_target_parse(const char *spec, pb_target *t, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        int kind;
        bool ring;
    } kinds[] = {{"pycache", PB_T_PYCACHE, false},
                 {"pycache-ring", PB_T_PYCACHE, true},
                 {"lmdb", PB_T_LMDB, false},
                 {"redis", PB_T_REDIS, false},
                 {"memcached", PB_T_MEMCACHED, false}};
    memset(t, 0, sizeof *t);
    t->spec = spec;
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strlen(kinds[i].name) != nl || strncmp(spec, kinds[i].name, nl) != 0)
            continue;
        t->kind = kinds[i].kind;
        t->ring_only = kinds[i].ring;
        t->where = colon && colon[1] ? colon + 1 : NULL;
        snprintf(t->label, sizeof t->label, "%s", kinds[i].name);
        if (!t->where && t->kind != PB_T_PYCACHE) {
            snprintf(err, errlen, "target %s needs a place: %s:SOCKET or %s:DIR", spec,
                     kinds[i].name, kinds[i].name);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen,
             "unknown target '%s' (pycache:DIR, pycache-ring:DIR, lmdb:DIR, redis:SOCKET, "
             "memcached:SOCKET)",
             spec);
    return -1;
}

bool pb_local_reads(const pb_target *t)
{
    return t->kind == PB_T_LMDB || (t->kind == PB_T_PYCACHE && !t->ring_only);
}

const char *pb_unsupported(const pb_target *t, int op)
{
    switch (t->kind) {
    case PB_T_LMDB:
        if (op == PB_GET || op == PB_MGET)
            return NULL;
        return "the bare-LMDB floor measures reads of strings only";
    case PB_T_REDIS:
        if (op == PB_XRGACK)
            return NULL;
        if (op == PB_BFADD || op == PB_BFEXISTS)
            return "Debian's Redis has no Bloom module (RedisBloom is not packaged)";
        return NULL;
    case PB_T_MEMCACHED:
        switch (op) {
        case PB_THROTTLE:
            return "memcached runs no scripts: no exact rate limiter";
        case PB_BFADD:
        case PB_BFEXISTS:
            return "memcached has no Bloom filters";
        case PB_SETBIT:
        case PB_GETBIT:
            return "memcached has no bit arrays";
        case PB_XADD:
        case PB_XRANGE:
        case PB_XRGACK:
        case PB_XGROUP:
            return "memcached has no streams";
        case PB_LPUSH:
        case PB_RPOP:
            return "memcached has no lists";
        case PB_HSET:
        case PB_HGET:
            return "memcached has no maps";
        case PB_SADD:
        case PB_SISMEMBER:
            return "memcached has no sets";
        case PB_ZADD:
        case PB_ZSCORE:
        case PB_ZRANK:
        case PB_ZRANGE:
            return "memcached has no sorted sets";
        default:
            return NULL;
        }
    default:
        return NULL;
    }
}

const char *pb_pipeline_note(const pb_target *t, int op)
{
    switch (t->kind) {
    case PB_T_PYCACHE:
        if (op == PB_XRGACK)
            return "XREADGROUP, then XACK of what it read: one after the other";
        if (pb_op_reads(op))
            return t->ring_only ? "ring-only reads are synchronous: one at a time"
                                : "zero-copy reads are local lookups: in-flight does not apply";
        return "writes in a batch (pc_batch_begin..pc_batch_exec)";
    case PB_T_LMDB:
        return "local lookups: in-flight does not apply";
    case PB_T_REDIS:
        if (op == PB_XRGACK)
            return "XREADGROUP, then XACK of what it read: one after the other";
        return "pipelined: redisAppendCommandArgv x n, then n redisGetReply";
    case PB_T_MEMCACHED:
        if (op == PB_GET || op == PB_MGET)
            return "one memcached_mget of every key of the round";
        if (op == PB_SET || op == PB_MSET || op == PB_SETNUM)
            return "buffered sets, then one memcached_mget that sends them and reads their "
                   "answers (libmemcached has no acknowledged pipelined set)";
        return "not pipelined by libmemcached: one at a time";
    }
    return "";
}

void pb_lib_versions(json_t *o)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    json_object_set_new(o, "hiredis", json_string(buf));
    json_object_set_new(o, "libmemcached", json_string(memcached_lib_version()));
    json_object_set_new(o, "lmdb", json_string(pcs_bare_version()));
    snprintf(buf, sizeof buf, "%d.%d.%d", PC_VERSION_MAJOR, PC_VERSION_MINOR, PC_VERSION_PATCH);
    json_object_set_new(o, "libpycache-client", json_string(buf));
    json_object_set_new(o, "jansson", json_string(JANSSON_VERSION));
}

/* ------------------------------------------------------------------------ */
/* The bare LMDB floor: one environment per shard and process, shared by   */
/* its threads; each key read in its shard (pcs_shard_of, as pycache does). */

static pthread_mutex_t lm_mu = PTHREAD_MUTEX_INITIALIZER;
static pcs_bare *lm_env[PCS_SHARDS_MAX];
static unsigned lm_nshards;
static unsigned lm_refs;
static pid_t lm_pid;

static void lm_close_envs(void)
{
    for (unsigned s = 0; s < lm_nshards; s++) {
        pcs_bare_close(lm_env[s]);
        lm_env[s] = NULL;
    }
    lm_nshards = 0;
}

static void lm_close(pb_conn *c);

static int lm_open(pb_conn *c, char *err, size_t errlen)
{
    int rc = 0;
    bool counted = false;
    pthread_mutex_lock(&lm_mu);
    if (lm_nshards && lm_pid != getpid()) { /* inherited across fork: never used */
        memset(lm_env, 0, sizeof lm_env);
        lm_nshards = 0;
        lm_refs = 0;
    }
    if (!lm_nshards) {
        char path[4096];
        unsigned n = 0;
        for (; n < PCS_SHARDS_MAX; n++) { /* data-00.mdb, data-01.mdb, ... */
            snprintf(path, sizeof path, "%s/data-%02u.mdb", c->t->where, n);
            if (n && access(path, F_OK) != 0)
                break;
            if ((rc = pcs_bare_open(path, &lm_env[n], err, errlen)))
                break;
            lm_nshards = n + 1;
        }
        if (rc) {
            lm_close_envs();
            goto out;
        }
        lm_pid = getpid();
    }
    for (unsigned s = 0; s < lm_nshards && !rc; s++)
        rc = pcs_bare_rd_new(lm_env[s], &c->lm[s], err, errlen);
    lm_refs++;
    counted = true;
out:
    pthread_mutex_unlock(&lm_mu);
    if (rc && counted)
        lm_close(c);
    return rc ? -1 : 0;
}

static void lm_close(pb_conn *c)
{
    pthread_mutex_lock(&lm_mu);
    for (unsigned s = 0; s < PCS_SHARDS_MAX; s++) {
        pcs_bare_rd_free(c->lm[s]);
        c->lm[s] = NULL;
    }
    if (lm_nshards && --lm_refs == 0)
        lm_close_envs();
    pthread_mutex_unlock(&lm_mu);
}

static int lm_get(pb_conn *c, const char *k, pb_res *res)
{
    pcs_bare_rd *r = c->lm[pcs_shard_of(lm_nshards, k, c->ksize)];
    int rc = pcs_bare_get(r, k, c->ksize, &c->last_len, &c->sink);
    if (rc == PC_ENOTFOUND)
        return 1;
    if (rc) {
        pb_res_error(res, "%s", pcs_bare_why(r));
        return -1;
    }
    return 0;
}

static int lm_exec(pb_conn *c, pb_req *r, size_t n, pb_res *res)
{
    for (size_t i = 0; i < n; i++) {
        bool miss = false;
        for (unsigned j = 0; j < r[i].nk; j++) {
            int rc = lm_get(c, r[i].k[j], res);
            if (rc < 0)
                break;
            miss |= rc == 1;
        }
        res->misses += miss;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* pycache                                                                   */

static int pyc_open(pb_conn *c, char *err, size_t errlen)
{
    pc_options o;
    pc_options_init(&o);
    if (c->t->ring_only)
        o.flags |= PC_OPT_RING_ONLY;
    int rc = pc_connect(c->t->where, &o, &c->pc);
    if (rc) {
        snprintf(err, errlen, "pc_connect %s: %s", c->t->where ? c->t->where : "(default)",
                 pc_strerror(rc));
        return -1;
    }
    c->rcs = calloc(PB_MAX_INFLIGHT, sizeof *c->rcs);
    c->pops = calloc(PB_MAX_INFLIGHT, sizeof *c->pops);
    c->npops = calloc(PB_MAX_INFLIGHT, sizeof *c->npops);
    if (!c->rcs || !c->pops || !c->npops) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void pyc_count(pb_res *res, int op, int rc)
{
    if (rc == 0)
        return;
    if (rc == PC_ENOTFOUND && (op == PB_GET || op == PB_HGET || op == PB_RPOP || op == PB_XRGACK))
        res->misses++;
    else
        pb_res_error(res, "%s: %s", pb_op_name(op), pc_strerror(rc));
}

/* A read request; returns 0 (hit), 1 (miss) or a PC_E* code. */
static int pyc_read(pb_conn *c, const pb_req *q)
{
    pc_read *rd;
    pc_val v;
    int rc = pc_read_begin(c->pc, &rd);
    if (rc)
        return rc;
    size_t ks = c->ksize;
    switch (q->op) {
    case PB_GET:
        rc = pc_get(rd, q->k[0], ks, &v);
        if (!rc && v.kind == PC_BYTES && v.s.len)
            c->sink += ((const unsigned char *)v.s.ptr)[v.s.len - 1];
        c->last_len = !rc && v.kind == PC_BYTES ? v.s.len : 0;
        break;
    case PB_HGET:
        rc = pc_hget(rd, q->k[0], ks, q->f, ks, &v);
        if (!rc && v.kind == PC_BYTES && v.s.len)
            c->sink += ((const unsigned char *)v.s.ptr)[v.s.len - 1];
        c->last_len = !rc && v.kind == PC_BYTES ? v.s.len : 0;
        break;
    case PB_SISMEMBER: {
        pc_val m = pc_mem(q->f, ks);
        int is = 0;
        rc = pc_sismember(rd, q->k[0], ks, &m, &is);
        if (!rc && !is)
            rc = 1;
        break;
    }
    case PB_BFEXISTS: {
        int has = 0;
        rc = pc_bf_exists(rd, q->k[0], ks, q->f, ks, &has);
        if (!rc && !has)
            rc = 1;
        break;
    }
    case PB_GETBIT: {
        int bit = 0;
        rc = pc_getbit(rd, q->k[0], ks, q->off, &bit);
        if (!rc && !bit)
            rc = 1;
        break;
    }
    case PB_XRANGE: { /* 10 entries, zero-copy */
        pc_xentry e[10];
        size_t n = 0;
        rc = pc_xrange(rd, q->k[0], ks, pc_xid_make(q->off, 0), pc_xid_max(), 0, e, 10, &n);
        if (!rc && !n)
            rc = 1;
        break;
    }
    case PB_ZSCORE: { /* zero-copy: one lookup of the key, one of the member */
        pc_val m = pc_mem(q->f, ks);
        double sc;
        rc = pc_zscore(rd, q->k[0], ks, &m, &sc);
        if (rc == PC_ENOTFOUND)
            rc = 1;
        else if (!rc)
            c->sink += (unsigned)sc;
        break;
    }
    case PB_ZRANK: {
        pc_val m = pc_mem(q->f, ks);
        uint64_t rank;
        rc = pc_zrank(rd, q->k[0], ks, &m, false, &rank, NULL);
        if (rc == PC_ENOTFOUND)
            rc = 1;
        else if (!rc)
            c->sink += (unsigned)rank;
        break;
    }
    case PB_ZRANGE: { /* 10 members by rank, views into the map */
        pc_zrange_spec sp;
        pc_zrange_spec_init(&sp);
        sp.start = (int64_t)q->off;
        sp.stop = (int64_t)q->off + 9;
        pc_cursor cur = PC_CURSOR_INIT;
        pc_zentry e[10];
        size_t n = 0;
        rc = pc_zrange(rd, q->k[0], ks, &sp, &cur, e, 10, &n);
        if (!rc && n == 0)
            rc = 1;
        for (size_t i = 0; !rc && i < n; i++)
            if (e[i].member.kind == PC_BYTES && e[i].member.s.len)
                c->sink += ((const unsigned char *)e[i].member.s.ptr)[0];
        break;
    }
    case PB_MGET: {
        pc_bytes keys[PB_MULTI];
        pc_val out[PB_MULTI];
        size_t found = 0;
        for (unsigned j = 0; j < q->nk; j++)
            keys[j] = pc_b(q->k[j], ks);
        rc = pc_mget(rd, keys, q->nk, out, &found);
        for (unsigned j = 0; !rc && j < q->nk; j++)
            if (out[j].kind == PC_BYTES && out[j].s.len)
                c->sink += ((const unsigned char *)out[j].s.ptr)[out[j].s.len - 1];
        if (!rc && found < q->nk)
            rc = 1;
        break;
    }
    default:
        rc = PC_EINVAL;
    }
    pc_read_end(rd);
    return rc == PC_ENOTFOUND ? 1 : rc;
}

static int pyc_write(pb_conn *c, const pb_req *q, size_t i)
{
    size_t ks = c->ksize;
    pc_val v = pc_mem(pb_value_g, c->vsize);
    switch (q->op) {
    case PB_SET:
        return pc_set(c->pc, q->k[0], ks, &v, q->ttl_ms, 0);
    case PB_SETNUM: {
        pc_val z = pc_int(0);
        return pc_set(c->pc, q->k[0], ks, &z, 0, 0);
    }
    case PB_INCR:
        return pc_incrby(c->pc, q->k[0], ks, 1, NULL);
    case PB_LPUSH:
        return pc_lpush(c->pc, q->k[0], ks, &v, 1, NULL);
    case PB_RPOP:
        return pc_rpop(c->pc, q->k[0], ks, 1, &c->pops[i], &c->npops[i]);
    case PB_HSET: {
        pc_bytes f = pc_b(q->f, ks);
        return pc_hset(c->pc, q->k[0], ks, &f, &v, 1, NULL);
    }
    case PB_SADD: {
        pc_val m = pc_mem(q->f, ks);
        return pc_sadd(c->pc, q->k[0], ks, &m, 1, NULL);
    }
    case PB_MSET: {
        pc_bytes keys[PB_MULTI];
        pc_val vals[PB_MULTI];
        for (unsigned j = 0; j < q->nk; j++) {
            keys[j] = pc_b(q->k[j], ks);
            vals[j] = v;
        }
        return pc_mset(c->pc, keys, vals, q->nk);
    }
    case PB_THROTTLE: /* a limit that lets nearly everything through */
        return pc_throttle(c->pc, q->k[0], ks, PB_GCRA_BURST, PB_GCRA_COUNT, PB_GCRA_PERIOD_MS, 1,
                           NULL);
    case PB_BFADD:
        return pc_bf_add(c->pc, q->k[0], ks, q->f, ks, NULL);
    case PB_SETBIT:
        return pc_setbit(c->pc, q->k[0], ks, q->off, 1, NULL);
    case PB_XADD: {
        pc_val fv[2] = {pc_mem("f", 1), v};
        return pc_xadd(c->pc, q->k[0], ks, q->off ? PC_XADD_EXPLICIT : PC_XADD_AUTO,
                       pc_xid_make(q->off, 0), fv, 1, NULL, 0, NULL);
    }
    case PB_XGROUP: {
        int rc = pc_xgroup_create(c->pc, q->k[0], ks, "pb", 2, NULL, -1, 0);
        return rc == PC_EEXIST ? 0 : rc;
    }
    case PB_XRGACK: { /* one new entry, then its acknowledgement */
        pc_bytes key = pc_b(q->k[0], ks);
        pc_xentry e;
        size_t n = 0;
        int rc = pc_xreadgroup(c->pc, "pb", 2, "pb", 2, &key, NULL, 1, 1, 0, 0, &e, 1, &n);
        if (rc || !n)
            return rc ? rc : PC_ENOTFOUND;
        return pc_xack(c->pc, q->k[0], ks, "pb", 2, &e.id, 1, NULL);
    }
    case PB_ZADD: {
        pc_zentry e = {pc_mem(q->f, ks), (double)q->off};
        return pc_zadd(c->pc, q->k[0], ks, &e, 1, 0, NULL);
    }
    default:
        return PC_EINVAL;
    }
}

static int pyc_exec(pb_conn *c, pb_req *r, size_t n, pb_res *res)
{
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        nw += !pb_op_reads(r[i].op);
    bool batch = nw > 1 && r[0].op != PB_XRGACK; /* (a group read runs at once) */
    if (batch) {
        int rc = pc_batch_begin(c->pc);
        if (rc) {
            pb_res_error(res, "pc_batch_begin: %s", pc_strerror(rc));
            return -1;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (pb_op_reads(r[i].op)) {
            rc = pyc_read(c, &r[i]);
            if (rc == 1) {
                res->misses++;
                rc = 0;
            }
            pyc_count(res, r[i].op, rc);
            if (rc == PC_ECONNRESET || rc == PC_EFORK || rc == PC_ECLOSED)
                return -1;
            continue;
        }
        rc = pyc_write(c, &r[i], w);
        if (batch) {
            if (rc) { /* refused when queued: counts now, not in rcs */
                pyc_count(res, r[i].op, rc);
                continue;
            }
            w++;
            continue;
        }
        pyc_count(res, r[i].op, rc);
        if (rc == PC_ECONNRESET || rc == PC_EFORK || rc == PC_ECLOSED)
            return -1;
    }
    if (batch) {
        int rc = pc_batch_exec(c->pc, c->rcs, PB_MAX_INFLIGHT);
        size_t j = 0;
        for (size_t i = 0; i < n && j < w; i++)
            if (!pb_op_reads(r[i].op))
                pyc_count(res, r[i].op, c->rcs[j++]);
        if (rc == PC_ECONNRESET)
            return -1;
    }
    return 0;
}

int pb_prefault(pb_conn *c)
{
    if (c->t->kind == PB_T_LMDB) {
        for (unsigned s = 0; s < PCS_SHARDS_MAX && c->lm[s]; s++)
            if (pcs_bare_touch_all(c->lm[s], &c->sink))
                return -1;
        return 0;
    }
    if (c->t->kind != PB_T_PYCACHE || c->t->ring_only)
        return 0;
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[1024];
    size_t n;
    int rc = pc_read_begin(c->pc, &r);
    while (!rc && !cur.done) {
        rc = pc_scan(r, NULL, &cur, keys, 1024, &n);
        for (size_t i = 0; !rc && i < n; i++)
            c->sink += ((const unsigned char *)keys[i].ptr)[0];
    }
    pc_read_end(r);
    return rc ? -1 : 0;
}

size_t pb_last_len(const pb_conn *c)
{
    return c->last_len;
}

void *pb_pc_client(pb_conn *c)
{
    return c && c->t->kind == PB_T_PYCACHE ? c->pc : NULL;
}

/* Allocated size of the store's files (tmpfs: the memory they take). */
static uint64_t store_blocks(const char *dir)
{
    uint64_t total = 0;
    char path[4096];
    for (unsigned s = 0; s < 64; s++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/data-%02u.mdb", dir, s);
        if (stat(path, &st))
            break;
        total += (uint64_t)st.st_blocks * 512u;
    }
    return total;
}

static int pyc_mem(pb_conn *c, pb_mem *m)
{
    pc_stats st;
    int rc = pc_stats_get(c->pc, &st);
    if (rc)
        return -1;
    m->ok = true;
    m->keys = st.keys[0];
    m->used = st.bytes_used;
    m->limit = st.max_memory;
    m->aux = st.expired;
    m->aux2 = st.evicted;
    m->rss = c->t->where ? store_blocks(c->t->where) : 0;
    return 0;
}

/* The PORT of a HOST:PORT target: 1..65535, or -1 if it is not one. */
static int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end == s || *end || errno || v < 1 || v > 65535 ? -1 : (int)v;
}

/* ------------------------------------------------------------------------ */
/* Redis                                                                     */

/*
 * redis-cell's GCRA, as the Lua script a Redis user writes without the
 * module (answers as CL.THROTTLE, in ms): KEYS[1], ARGV max_burst, count,
 * period_ms, quantity.  The clock is Redis's TIME, in microseconds.
 */
static const char gcra_lua[] =
    "local burst, count, period, qty = tonumber(ARGV[1]), tonumber(ARGV[2]), "
    "tonumber(ARGV[3]), tonumber(ARGV[4]) "
    "local t = redis.call('TIME') "
    "local now = t[1] * 1000000 + t[2] "
    "local T = period * 1000 / count "
    "local tau = T * (burst + 1) "
    "local tat = tonumber(redis.call('GET', KEYS[1])) or now "
    "if tat < now then tat = now end "
    "local new_tat = tat + T * qty "
    "local diff = now - (new_tat - tau) "
    "if diff < 0 then "
    "  return {1, burst + 1, 0, math.ceil(-diff / 1000), math.ceil((tat - now) / 1000)} "
    "end "
    "local ttl = new_tat - now "
    "redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.max(1, "
    "math.ceil(ttl / 1000))) "
    "return {0, burst + 1, math.floor((tau - ttl) / T), -1, math.ceil(ttl / 1000)}";

static int rd_open(pb_conn *c, char *err, size_t errlen)
{
    const char *w = c->t->where;
    const char *colon = strrchr(w, ':');
    if (w[0] != '/' && colon) {
        char host[256];
        int port = parse_port(colon + 1);
        if (port < 0) {
            snprintf(err, errlen, "redis %s: bad port '%s'", w, colon + 1);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - w), w);
        c->rc = redisConnect(host, port);
    } else {
        c->rc = redisConnectUnix(w);
    }
    if (!c->rc || c->rc->err) {
        snprintf(err, errlen, "redis %s: %s", w, c->rc ? c->rc->errstr : "cannot connect");
        return -1;
    }
    /* The GCRA of the throttle workload, as a script (loaded once; cached
     * by Redis, run by EVALSHA). */
    redisReply *y = redisCommand(c->rc, "SCRIPT LOAD %s", gcra_lua);
    if (!y || y->type != REDIS_REPLY_STRING || y->len >= sizeof c->gcra_sha) {
        snprintf(err, errlen, "redis %s: SCRIPT LOAD: %s", w,
                 y && y->type == REDIS_REPLY_ERROR ? y->str : c->rc->errstr);
        if (y)
            freeReplyObject(y);
        return -1;
    }
    memcpy(c->gcra_sha, y->str, y->len);
    c->gcra_sha[y->len] = 0;
    freeReplyObject(y);
    return 0;
}

/* Append the command of request q. */
static int rd_append(pb_conn *c, const pb_req *q)
{
    const char *argv[2 + 2 * PB_MULTI];
    size_t len[2 + 2 * PB_MULTI];
    char ttl[32];
    int argc = 0;
    size_t ks = c->ksize, vs = c->vsize;
#define ARG(p, n) (argv[argc] = (p), len[argc] = (n), argc++)
    switch (q->op) {
    case PB_GET:
        ARG("GET", 3);
        ARG(q->k[0], ks);
        break;
    case PB_SET:
        ARG("SET", 3);
        ARG(q->k[0], ks);
        ARG(pb_value_g, vs);
        if (q->ttl_ms) {
            ARG("PX", 2);
            ARG(ttl, (size_t)snprintf(ttl, sizeof ttl, "%" PRId64, q->ttl_ms));
        }
        break;
    case PB_SETNUM:
        ARG("SET", 3);
        ARG(q->k[0], ks);
        ARG("0", 1);
        break;
    case PB_INCR:
        ARG("INCR", 4);
        ARG(q->k[0], ks);
        break;
    case PB_LPUSH:
        ARG("LPUSH", 5);
        ARG(q->k[0], ks);
        ARG(pb_value_g, vs);
        break;
    case PB_RPOP:
        ARG("RPOP", 4);
        ARG(q->k[0], ks);
        break;
    case PB_HSET:
        ARG("HSET", 4);
        ARG(q->k[0], ks);
        ARG(q->f, ks);
        ARG(pb_value_g, vs);
        break;
    case PB_HGET:
        ARG("HGET", 4);
        ARG(q->k[0], ks);
        ARG(q->f, ks);
        break;
    case PB_SADD:
        ARG("SADD", 4);
        ARG(q->k[0], ks);
        ARG(q->f, ks);
        break;
    case PB_SISMEMBER:
        ARG("SISMEMBER", 9);
        ARG(q->k[0], ks);
        ARG(q->f, ks);
        break;
    case PB_MSET:
        ARG("MSET", 4);
        for (unsigned j = 0; j < q->nk; j++) {
            ARG(q->k[j], ks);
            ARG(pb_value_g, vs);
        }
        break;
    case PB_MGET:
        ARG("MGET", 4);
        for (unsigned j = 0; j < q->nk; j++)
            ARG(q->k[j], ks);
        break;
    case PB_THROTTLE: {
        static char burst[24], count[24], period[24];
        snprintf(burst, sizeof burst, "%d", PB_GCRA_BURST);
        snprintf(count, sizeof count, "%d", PB_GCRA_COUNT);
        snprintf(period, sizeof period, "%d", PB_GCRA_PERIOD_MS);
        ARG("EVALSHA", 7);
        ARG(c->gcra_sha, strlen(c->gcra_sha));
        ARG("1", 1);
        ARG(q->k[0], ks);
        ARG(burst, strlen(burst));
        ARG(count, strlen(count));
        ARG(period, strlen(period));
        ARG("1", 1);
        break;
    }
    case PB_XADD:
        ARG("XADD", 4);
        ARG(q->k[0], ks);
        if (q->off)
            ARG(ttl, (size_t)snprintf(ttl, sizeof ttl, "%" PRIu64 "-0", q->off));
        else
            ARG("*", 1);
        ARG("f", 1);
        ARG(pb_value_g, vs);
        break;
    case PB_XRANGE:
        ARG("XRANGE", 6);
        ARG(q->k[0], ks);
        ARG(ttl, (size_t)snprintf(ttl, sizeof ttl, "%" PRIu64 "-0", q->off));
        ARG("+", 1);
        ARG("COUNT", 5);
        ARG("10", 2);
        break;
    case PB_XGROUP:
        ARG("XGROUP", 6);
        ARG("CREATE", 6);
        ARG(q->k[0], ks);
        ARG("pb", 2);
        ARG("$", 1);
        break;
    case PB_ZADD:
        ARG("ZADD", 4);
        ARG(q->k[0], ks);
        ARG(ttl, (size_t)snprintf(ttl, sizeof ttl, "%" PRIu64, q->off));
        ARG(q->f, ks);
        break;
    case PB_ZSCORE:
    case PB_ZRANK:
        ARG(q->op == PB_ZSCORE ? "ZSCORE" : "ZRANK", q->op == PB_ZSCORE ? 6 : 5);
        ARG(q->k[0], ks);
        ARG(q->f, ks);
        break;
    case PB_ZRANGE: {
        static char stop[24];
        ARG("ZRANGE", 6);
        ARG(q->k[0], ks);
        ARG(ttl, (size_t)snprintf(ttl, sizeof ttl, "%" PRIu64, q->off));
        ARG(stop, (size_t)snprintf(stop, sizeof stop, "%" PRIu64, q->off + 9));
        break;
    }
    case PB_SETBIT:
    case PB_GETBIT:
        if (q->op == PB_SETBIT)
            ARG("SETBIT", 6);
        else
            ARG("GETBIT", 6);
        ARG(q->k[0], ks);
        ARG(ttl, (size_t)snprintf(ttl, sizeof ttl, "%" PRIu64, q->off));
        if (q->op == PB_SETBIT)
            ARG("1", 1);
        break;
    default:
        return -1;
    }
#undef ARG
    return redisAppendCommandArgv(c->rc, argc, argv, len) == REDIS_OK ? 0 : -1;
}

static void rd_count(pb_conn *c, pb_res *res, const pb_req *q, const redisReply *y)
{
    c->last_len = y->type == REDIS_REPLY_STRING ? y->len : 0;
    if (q->op == PB_XGROUP && y->type == REDIS_REPLY_ERROR && !strncmp(y->str, "BUSYGROUP", 9))
        return; /* made by an earlier load */
    if (y->type == REDIS_REPLY_ERROR) {
        pb_res_error(res, "%s: %.*s", pb_op_name(q->op), (int)y->len, y->str);
        return;
    }
    switch (q->op) {
    case PB_GET:
    case PB_HGET:
    case PB_RPOP:
        res->misses += y->type == REDIS_REPLY_NIL;
        break;
    case PB_SISMEMBER:
    case PB_GETBIT:
        res->misses += y->type == REDIS_REPLY_INTEGER && y->integer == 0;
        break;
    case PB_XRANGE:
        res->misses += y->type != REDIS_REPLY_ARRAY || y->elements == 0;
        break;
    case PB_ZSCORE:
    case PB_ZRANK:
        res->misses += y->type == REDIS_REPLY_NIL;
        break;
    case PB_ZRANGE:
        res->misses += y->type == REDIS_REPLY_ARRAY && y->elements == 0;
        break;
    case PB_THROTTLE: /* the five numbers; a limited request counts as a miss */
        if (y->type != REDIS_REPLY_ARRAY || y->elements != 5)
            pb_res_error(res, "throttle: not the five numbers of the GCRA script");
        else
            res->misses += y->element[0]->type == REDIS_REPLY_INTEGER && y->element[0]->integer;
        break;
    case PB_MGET: {
        bool miss = y->type != REDIS_REPLY_ARRAY || y->elements != q->nk;
        for (size_t j = 0; !miss && j < y->elements; j++)
            miss = y->element[j]->type == REDIS_REPLY_NIL;
        res->misses += miss;
        break;
    }
    default:
        break;
    }
}

/* XREADGROUP of one new entry, then XACK of its ID: the second needs the
 * first's answer, so one after the other.  0, or -1 when the connection
 * failed. */
static int rd_consume(pb_conn *c, const pb_req *q, pb_res *res)
{
    size_t ks = c->ksize;
    const char *av[] = {"XREADGROUP", "GROUP", "pb", "pb", "COUNT", "1", "STREAMS", q->k[0], ">"};
    size_t al[] = {10, 5, 2, 2, 5, 1, 7, ks, 1};
    redisReply *y = redisCommandArgv(c->rc, 9, av, al);
    if (!y) {
        pb_res_error(res, "redis: %s", c->rc->errstr);
        return -1;
    }
    /* [[key, [[id, [f, v]]]]] or nil */
    const redisReply *id = NULL;
    if (y->type == REDIS_REPLY_ARRAY && y->elements == 1 && y->element[0]->elements == 2 &&
        y->element[0]->element[1]->elements == 1 &&
        y->element[0]->element[1]->element[0]->elements == 2)
        id = y->element[0]->element[1]->element[0]->element[0];
    if (y->type == REDIS_REPLY_ERROR)
        pb_res_error(res, "xreadgroup: %.*s", (int)y->len, y->str);
    else if (!id || id->type != REDIS_REPLY_STRING)
        res->misses++;
    redisReply *a = NULL;
    if (id && id->type == REDIS_REPLY_STRING) {
        const char *aa[] = {"XACK", q->k[0], "pb", id->str};
        size_t la[] = {4, ks, 2, id->len};
        a = redisCommandArgv(c->rc, 4, aa, la);
        if (!a || a->type != REDIS_REPLY_INTEGER || a->integer != 1)
            pb_res_error(res, "xack: %s", a ? "not acknowledged" : c->rc->errstr);
    }
    freeReplyObject(y);
    if (a)
        freeReplyObject(a);
    return c->rc->err ? -1 : 0;
}

static int rd_exec(pb_conn *c, pb_req *r, size_t n, pb_res *res)
{
    if (n && r[0].op == PB_XRGACK) {
        for (size_t i = 0; i < n; i++)
            if (rd_consume(c, &r[i], res))
                return -1;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (rd_append(c, &r[i])) {
            pb_res_error(res, "redis: %s", c->rc->errstr);
            return -1;
        }
    for (size_t i = 0; i < n; i++) {
        void *reply;
        if (redisGetReply(c->rc, &reply) != REDIS_OK || !reply) {
            pb_res_error(res, "redis: %s", c->rc->errstr[0] ? c->rc->errstr : "no reply");
            res->errors += n - i - 1;
            return -1;
        }
        rd_count(c, res, &r[i], reply);
        freeReplyObject(reply);
    }
    return 0;
}

/* One INFO field as a number (0 when absent). */
static uint64_t info_field(const char *info, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = info; (p = strstr(p, name)); p += nl)
        if ((p == info || p[-1] == '\n') && p[nl] == ':')
            return strtoull(p + nl + 1, NULL, 10);
    return 0;
}

static int rd_mem(pb_conn *c, pb_mem *m)
{
    redisReply *y = redisCommand(c->rc, "INFO");
    if (!y || y->type != REDIS_REPLY_STRING) {
        if (y)
            freeReplyObject(y);
        return -1;
    }
    m->ok = true;
    m->used = info_field(y->str, "used_memory");
    m->rss = info_field(y->str, "used_memory_rss");
    m->limit = info_field(y->str, "maxmemory");
    m->aux = info_field(y->str, "expired_keys");
    m->aux2 = info_field(y->str, "evicted_keys");
    const char *db = strstr(y->str, "\ndb0:keys=");
    m->keys = db ? strtoull(db + 10, NULL, 10) : 0;
    freeReplyObject(y);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* memcached                                                                 */

static int mc_open(pb_conn *c, char *err, size_t errlen)
{
    const char *w = c->t->where;
    c->mc = memcached_create(NULL);
    if (!c->mc) {
        snprintf(err, errlen, "memcached_create failed");
        return -1;
    }
    memcached_return_t rc;
    const char *colon = strrchr(w, ':');
    if (w[0] != '/' && colon) {
        char host[256];
        int port = parse_port(colon + 1);
        if (port < 0) {
            snprintf(err, errlen, "memcached %s: bad port '%s'", w, colon + 1);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - w), w);
        rc = memcached_server_add(c->mc, host, (in_port_t)port);
    } else {
        rc = memcached_server_add_unix_socket(c->mc, w);
    }
    if (rc != MEMCACHED_SUCCESS) {
        snprintf(err, errlen, "memcached %s: %s", w, memcached_strerror(c->mc, rc));
        return -1;
    }
    c->mkeys = calloc((size_t)PB_MAX_INFLIGHT * PB_MULTI, sizeof *c->mkeys);
    c->mlens = calloc((size_t)PB_MAX_INFLIGHT * PB_MULTI, sizeof *c->mlens);
    if (!c->mkeys || !c->mlens) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* A first request, so that a server that is not there fails now. */
    rc = memcached_exist(c->mc, "pcbench:probe", 13);
    if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
        snprintf(err, errlen, "memcached %s: %s", w, memcached_strerror(c->mc, rc));
        return -1;
    }
    return 0;
}

static bool mc_fatal(memcached_return_t rc)
{
    return rc == MEMCACHED_CONNECTION_FAILURE || rc == MEMCACHED_SERVER_MARKED_DEAD ||
           rc == MEMCACHED_NO_SERVERS || rc == MEMCACHED_ERRNO ||
           rc == MEMCACHED_SERVER_TEMPORARILY_DISABLED || rc == MEMCACHED_UNKNOWN_READ_FAILURE ||
           rc == MEMCACHED_WRITE_FAILURE || rc == MEMCACHED_READ_FAILURE;
}

#define MC_SYNC_KEY "pcbench:sync"

/* The handle that buffers stores (MEMCACHED_BEHAVIOR_BUFFER_REQUESTS: set
 * once, since changing it closes the connection). */
static memcached_st *mc_buffered(pb_conn *c)
{
    if (!c->mcb) {
        c->mcb = memcached_clone(NULL, c->mc);
        if (c->mcb)
            memcached_behavior_set(c->mcb, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS, 1);
    }
    return c->mcb;
}

/* One multi-get of nk keys on handle m; *found gets how many came back. */
static int mc_fetch(pb_conn *c, memcached_st *m, size_t nk, size_t *found, pb_res *res)
{
    memcached_return_t rc = memcached_mget(m, c->mkeys, c->mlens, nk);
    *found = 0;
    if (rc != MEMCACHED_SUCCESS) {
        pb_res_error(res, "memcached_mget: %s", memcached_strerror(m, rc));
        return mc_fatal(rc) ? -1 : 0;
    }
    memcached_result_st result;
    memcached_result_create(m, &result);
    while (memcached_fetch_result(m, &result, &rc)) {
        size_t vl = memcached_result_length(&result);
        if (vl)
            c->sink += (unsigned char)memcached_result_value(&result)[vl - 1];
        (*found)++;
    }
    memcached_result_free(&result);
    if (rc != MEMCACHED_END && rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
        pb_res_error(res, "memcached_fetch_result: %s", memcached_strerror(m, rc));
        return mc_fatal(rc) ? -1 : 0;
    }
    return 0;
}

static memcached_return_t mc_store(pb_conn *c, memcached_st *m, const pb_req *q, unsigned j)
{
    if (q->op == PB_SETNUM)
        return memcached_set(m, q->k[j], c->ksize, "0", 1, 0, 0);
    time_t exp = q->ttl_ms ? (time_t)((q->ttl_ms + 999) / 1000) : 0;
    return memcached_set(m, q->k[j], c->ksize, pb_value_g, c->vsize, exp, 0);
}

static bool mc_is_store(int op)
{
    return op == PB_SET || op == PB_SETNUM || op == PB_MSET;
}

/* One request, acknowledged, on the plain handle. */
static int mc_one(pb_conn *c, const pb_req *q, pb_res *res)
{
    memcached_return_t rc = MEMCACHED_SUCCESS;
    switch (q->op) {
    case PB_GET: {
        size_t vl;
        uint32_t fl;
        char *v = memcached_get(c->mc, q->k[0], c->ksize, &vl, &fl, &rc);
        c->last_len = v ? vl : 0;
        if (v) {
            if (vl)
                c->sink += (unsigned char)v[vl - 1];
            free(v);
        }
        if (rc == MEMCACHED_NOTFOUND) {
            res->misses++;
            rc = MEMCACHED_SUCCESS;
        }
        break;
    }
    case PB_INCR: {
        uint64_t v;
        rc = memcached_increment(c->mc, q->k[0], c->ksize, 1, &v);
        break;
    }
    case PB_SET:
    case PB_SETNUM:
        rc = mc_store(c, c->mc, q, 0);
        break;
    default:
        rc = MEMCACHED_NOT_SUPPORTED;
    }
    if (rc != MEMCACHED_SUCCESS) {
        pb_res_error(res, "memcached %s: %s", pb_op_name(q->op), memcached_strerror(c->mc, rc));
        if (mc_fatal(rc))
            return -1;
    }
    return 0;
}

/*
 * A round.  One request that is not a multi-key one: as it is, acknowledged.
 * Otherwise, on the buffering handle: every store of the round is buffered,
 * then one memcached_mget of every key the round reads (or of one absent
 * key when it reads none) sends them and reads their answers first, which
 * is how libmemcached pipelines: it has no acknowledged pipelined set.
 * Increments are not pipelined by libmemcached: one at a time.
 */
static int mc_exec(pb_conn *c, pb_req *r, size_t n, pb_res *res)
{
    if (n == 1 && r[0].nk == 1)
        return mc_one(c, &r[0], res);
    memcached_st *m = mc_buffered(c);
    if (!m) {
        pb_res_error(res, "memcached_clone failed");
        return -1;
    }
    size_t nk = 0, stores = 0, reads = 0;
    for (size_t i = 0; i < n; i++) {
        const pb_req *q = &r[i];
        if (q->op == PB_INCR) {
            if (mc_one(c, q, res))
                return -1;
            continue;
        }
        if (mc_is_store(q->op)) {
            for (unsigned j = 0; j < q->nk; j++) {
                memcached_return_t rc = mc_store(c, m, q, j);
                if (rc != MEMCACHED_BUFFERED && rc != MEMCACHED_SUCCESS) {
                    pb_res_error(res, "memcached set: %s", memcached_strerror(m, rc));
                    if (mc_fatal(rc))
                        return -1;
                    break;
                }
                stores++;
            }
            continue;
        }
        reads++;
        for (unsigned j = 0; j < q->nk; j++) {
            c->mkeys[nk] = q->k[j];
            c->mlens[nk++] = c->ksize;
        }
    }
    if (!nk && !stores)
        return 0;
    /* keys per read request; each asks for at least one */
    size_t per = reads && nk >= reads ? nk / reads : 1, found;
    if (!nk) {
        c->mkeys[0] = MC_SYNC_KEY;
        c->mlens[0] = sizeof MC_SYNC_KEY - 1;
    }
    if (mc_fetch(c, m, nk ? nk : 1, &found, res))
        return -1;
    if (nk && found < nk) /* keys missing, counted in requests of per keys */
        res->misses += (nk - found + per - 1) / per;
    return 0;
}

static int mc_mem(pb_conn *c, pb_mem *m)
{
    memcached_return_t rc;
    memcached_stat_st *st = memcached_stat(c->mc, NULL, &rc);
    if (!st || rc != MEMCACHED_SUCCESS) {
        if (st)
            memcached_stat_free(c->mc, st);
        return -1;
    }
    m->ok = true;
    m->keys = st[0].curr_items;
    m->used = st[0].bytes;
    m->limit = st[0].limit_maxbytes;
    m->aux2 = st[0].evictions;
    pid_t pid = (pid_t)st[0].pid;
    memcached_stat_free(c->mc, st);
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6))
                m->rss = strtoull(line + 6, NULL, 10) * 1024u;
        fclose(f);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The interface                                                             */

int pb_open(const pb_target *t, pb_conn **out, char *err, size_t errlen)
{
    pb_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->t = t;
    c->ksize = pb_cfg_g.ksize;
    c->vsize = pb_cfg_g.vsize;
    int rc = -1;
    switch (t->kind) {
    case PB_T_PYCACHE:
        rc = pyc_open(c, err, errlen);
        break;
    case PB_T_LMDB:
        rc = lm_open(c, err, errlen);
        break;
    case PB_T_REDIS:
        rc = rd_open(c, err, errlen);
        break;
    case PB_T_MEMCACHED:
        rc = mc_open(c, err, errlen);
        break;
    }
    if (rc) {
        pb_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void pb_close(pb_conn *c)
{
    if (!c)
        return;
    if (c->pc)
        pc_close(c->pc);
    if (c->t->kind == PB_T_LMDB && c->lm[0])
        lm_close(c);
    if (c->rc)
        redisFree(c->rc);
    if (c->mcb)
        memcached_free(c->mcb);
    if (c->mc)
        memcached_free(c->mc);
    free(c->rcs);
    free(c->pops);
    free(c->npops);
    free(c->mkeys);
    free(c->mlens);
    free(c);
}

int pb_exec(pb_conn *c, pb_req *reqs, size_t n, pb_res *res)
{
    switch (c->t->kind) {
    case PB_T_PYCACHE:
        return pyc_exec(c, reqs, n, res);
    case PB_T_LMDB:
        return lm_exec(c, reqs, n, res);
    case PB_T_REDIS:
        return rd_exec(c, reqs, n, res);
    case PB_T_MEMCACHED:
        return mc_exec(c, reqs, n, res);
    }
    return -1;
}

int pb_mem_fresh(pb_conn *c, pb_mem *m)
{
    if (c->t->kind == PB_T_PYCACHE) {
        /* The daemon publishes its statistics every 100 ms while requests
         * come and every second otherwise: wait for figures taken after now. */
        uint64_t now = pb_wall_ms(), until = pb_now_ns() + UINT64_C(3000000000);
        pc_stats st;
        while (pc_stats_get(c->pc, &st) == 0 && st.taken_ms <= now && pb_now_ns() < until) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
    }
    return pb_mem_get(c, m);
}

int pb_mem_get(pb_conn *c, pb_mem *m)
{
    memset(m, 0, sizeof *m);
    switch (c->t->kind) {
    case PB_T_PYCACHE:
        return pyc_mem(c, m);
    case PB_T_REDIS:
        return rd_mem(c, m);
    case PB_T_MEMCACHED:
        return mc_mem(c, m);
    default:
        return -1;
    }
}
