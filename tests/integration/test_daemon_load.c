/*
 * test_daemon_load.c - pycached under load, from many processes:
 *
 *  - 8 processes x 10,000 mixed typed operations (strings, numerics, lists,
 *    maps, sets, queues; single writes, batches, transactions that commit
 *    and transactions that fail), each process checking every answer
 *    against its own model; afterwards, and again after a restart, every
 *    acknowledged write is verified from another process by replaying the
 *    models (they are deterministic: seeded, and each process owns its keys);
 *  - readers in other processes (trusted and ring-only) see each commit as
 *    soon as it is acknowledged, never go back, and see multi-key writes whole;
 *  - concurrent transactions moving amounts between counters (check-and-set
 *    on versions, retried on conflict) keep the total exact, in every
 *    snapshot and at the end;
 *  - a full ring (--ring-size 64K) loses no request, in either direction,
 *    also while the daemon is stopped (SIGSTOP) and with PC_OPT_NONBLOCK;
 *  - values of 1 byte, 1 MiB and 64 MiB round trip (trusted and ring-only)
 *    and 64 MiB + 1 is refused with PC_ETOOBIG;
 *  - SIGTERM, and SIGKILL, during load lose no acknowledged write.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "pctest.h"

/* ------------------------------------------------------------------------ */
/* Typed values                                                              */

/* In a child: assert that got equals want (pcs_val_equal). */
#define CKVAL(got, want)                                               \
    do {                                                               \
        char ckv_a_[160], ckv_b_[160];                                 \
        CKM(pt_val_eq(&(got), &(want)), "%s is %s, expected %s", #got, \
            pt_val_fmt(ckv_a_, sizeof ckv_a_, &(got)),                 \
            pt_val_fmt(ckv_b_, sizeof ckv_b_, &(want)));               \
    } while (0)

/* ------------------------------------------------------------------------ */
/* The model of one worker's keys                                            */

#define LD_PROCS 8
#define LD_OPS 10000
#define LD_KEYS 36
#define LD_MAXS 600
#define LD_MAXL 40
#define LD_FIELDS 16
#define LD_MEMBERS 32

enum { T_STR, T_NUM, T_LIST, T_MAP, T_SET, T_QUEUE, T__N };

typedef struct ld_key {
    bool exists;
    size_t slen;
    uint8_t s[LD_MAXS];
    int64_t num;
    int64_t el[LD_MAXL]; /* list / queue elements, by id */
    int nel;
    uint32_t fmask; /* map fields present */
    int64_t fval[LD_FIELDS];
    uint32_t smask; /* set members present */
} ld_key;

typedef struct ld_worker {
    int id;
    pc_client *c; /* NULL: replay the model only */
    pt_rng rng;   /* the operations: the same in a run and in its replay */
    pt_rng rrng;  /* choices of the checks, which only a run makes */
    int64_t next_el;
    ld_key k[LD_KEYS];
    unsigned long acked; /* writes acknowledged */
} ld_worker;

/* A list/queue element of id: every kind, varying. */
static pc_val el_val(int64_t id, char *buf)
{
    switch (id % 5) {
    case 0:
        return pc_int(id * 3 - 100);
    case 1: {
        size_t n = 1 + (size_t)(id % 40);
        for (size_t j = 0; j < n; j++)
            buf[j] = (char)('a' + (id + (int64_t)j) % 26);
        return pc_mem(buf, n);
    }
    case 2:
        return pc_dbl((double)id / 4.0);
    case 3:
        return pc_bool((id & 2) != 0);
    default:
        return pc_nil();
    }
}

/* Set member m (0..31). */
static pc_val mem_val(int m, char *buf)
{
    switch (m % 3) {
    case 0:
        return pc_int(m * 7);
    case 1:
        snprintf(buf, 16, "m%d-xyz", m);
        return pc_str(buf);
    default:
        return pc_dbl(m + 0.25);
    }
}

static void key_name(const ld_worker *w, int i, char *buf, size_t n)
{
    /* {wP}: every key of a worker in one shard, so its transactions work. */
    snprintf(buf, n, "{w%d}:k%d", w->id, i);
}

static int key_type(int i)
{
    return i % T__N;
}

/* Open a read, or fail the child. */
static pc_read *rd(ld_worker *w)
{
    pc_read *r;
    CKOK(pc_read_begin(w->c, &r));
    return r;
}

/* ---- strings and numerics ---- */

static void op_str(ld_worker *w, int i, const char *key)
{
    ld_key *k = &w->k[i];
    unsigned what = (unsigned)pt_below(&w->rng, 10);
    uint8_t buf[LD_MAXS];
    size_t n = (size_t)pt_below(&w->rng, 300);
    uint64_t seed = pt_next(&w->rng);
    pt_fill(buf, n, seed);
    pc_val v = pc_mem(buf, n);
    if (what < 3 || (what == 3 && k->slen + n > LD_MAXS)) {
        if (w->c)
            CKOK(pc_set(w->c, K(key), &v, 0, 0));
        memcpy(k->s, buf, n);
        k->slen = n;
        k->exists = true;
    } else if (what == 3) {
        uint64_t len = 0;
        if (w->c) {
            CKOK(pc_append(w->c, K(key), buf, n, &len));
            CK(len == (k->exists ? k->slen : 0) + n);
        }
        if (!k->exists)
            k->slen = 0;
        memcpy(k->s + k->slen, buf, n);
        k->slen += n;
        k->exists = true;
    } else if (what == 4) {
        pc_val old;
        if (w->c) {
            CKOK(pc_getset(w->c, K(key), &v, &old));
            pc_val want = k->exists ? pc_mem(k->s, k->slen) : (pc_val){.kind = PC_NONE};
            CKVAL(old, want);
        }
        memcpy(k->s, buf, n);
        k->slen = n;
        k->exists = true;
    } else if (what == 5) {
        int del = -1;
        if (w->c) {
            CKOK(pc_del(w->c, K(key), &del));
            CK(del == (k->exists ? 1 : 0));
        }
        k->exists = false;
    } else if (w->c) {
        pc_read *r = rd(w);
        pc_val got;
        uint64_t len;
        if (!k->exists) {
            CKRC(PC_ENOTFOUND, pc_get(r, K(key), &got));
            CKRC(PC_ENOTFOUND, pc_strlen(r, K(key), &len));
        } else {
            CKOK(pc_get(r, K(key), &got));
            pc_val want = pc_mem(k->s, k->slen);
            CKVAL(got, want);
            CKOK(pc_strlen(r, K(key), &len));
            CK(len == k->slen);
        }
        pc_read_end(r);
        return;
    } else {
        return;
    }
    w->acked++;
}

static void op_num(ld_worker *w, int i, const char *key)
{
    ld_key *k = &w->k[i];
    unsigned what = (unsigned)pt_below(&w->rng, 10);
    int64_t by = (int64_t)pt_below(&w->rng, 2001) - 1000;
    if (what < 5) {
        int64_t now = 0;
        if (w->c) {
            CKOK(pc_incrby(w->c, K(key), by, &now));
            CK(now == (k->exists ? k->num : 0) + by);
        }
        k->num = (k->exists ? k->num : 0) + by;
        k->exists = true;
    } else if (what == 5) {
        pc_val v = pc_int(by * 1000003);
        if (w->c)
            CKOK(pc_set(w->c, K(key), &v, 0, 0));
        k->num = v.i;
        k->exists = true;
    } else if (what == 6) {
        int del = -1;
        if (w->c) {
            CKOK(pc_del(w->c, K(key), &del));
            CK(del == (k->exists ? 1 : 0));
        }
        k->exists = false;
    } else if (w->c) {
        pc_read *r = rd(w);
        pc_val got;
        if (!k->exists) {
            CKRC(PC_ENOTFOUND, pc_get(r, K(key), &got));
        } else {
            CKOK(pc_get(r, K(key), &got));
            pc_val want = pc_int(k->num);
            CKVAL(got, want);
        }
        pc_read_end(r);
        return;
    } else {
        return;
    }
    w->acked++;
}

/* ---- lists and queues ---- */

static void check_seq(ld_worker *w, int i, const char *key, bool queue)
{
    ld_key *k = &w->k[i];
    pc_read *r = rd(w);
    pc_val out[LD_MAXL + 1];
    size_t n = 99;
    uint64_t len;
    char buf[64];
    if (queue)
        CKOK(pc_qrange(r, K(key), 0, -1, out, LD_MAXL + 1, &n));
    else
        CKOK(pc_lrange(r, K(key), 0, -1, out, LD_MAXL + 1, &n));
    CKM(n == (size_t)k->nel, "%s holds %zu elements, expected %d", key, n, k->nel);
    for (int j = 0; j < k->nel; j++) {
        pc_val want = el_val(k->el[j], buf);
        CKVAL(out[j], want);
    }
    int rc = queue ? pc_qlen(r, K(key), &len) : pc_llen(r, K(key), &len);
    if (k->nel) {
        CKOK(rc);
        CK(len == (uint64_t)k->nel);
        pc_val got;
        if (queue) {
            CKOK(pc_qpeek(r, K(key), &got));
            pc_val want = el_val(k->el[0], buf);
            CKVAL(got, want);
        } else {
            int64_t ix = (int64_t)pt_below(&w->rrng, (uint64_t)k->nel);
            CKOK(pc_lindex(r, K(key), ix, &got));
            pc_val want = el_val(k->el[ix], buf);
            CKVAL(got, want);
            CKOK(pc_lindex(r, K(key), -1, &got));
            want = el_val(k->el[k->nel - 1], buf);
            CKVAL(got, want);
            CKRC(PC_ERANGE, pc_lindex(r, K(key), k->nel, &got));
        }
    } else {
        CKRC(PC_ENOTFOUND, rc);
    }
    pc_read_end(r);
}

static void op_seq(ld_worker *w, int i, const char *key, bool queue)
{
    ld_key *k = &w->k[i];
    unsigned what = (unsigned)pt_below(&w->rng, 10);
    int cnt = 1 + (int)pt_below(&w->rng, 3);
    if (what < 4 && k->nel + cnt <= LD_MAXL) {
        char bufs[3][64];
        pc_val v[3];
        for (int j = 0; j < cnt; j++) {
            k->el[k->nel + j] = w->next_el++;
            v[j] = el_val(k->el[k->nel + j], bufs[j]);
        }
        if (w->c) {
            uint64_t len = 0;
            if (queue)
                CKOK(pc_qpush(w->c, K(key), v, (size_t)cnt, &len));
            else
                CKOK(pc_rpush(w->c, K(key), v, (size_t)cnt, &len));
            CK(len == (uint64_t)(k->nel + cnt));
        }
        k->nel += cnt;
    } else if (what < 7) {
        int take = cnt < k->nel ? cnt : k->nel;
        if (w->c) {
            pc_val out[3];
            size_t n = 99;
            int rc = queue ? pc_qpop(w->c, K(key), (size_t)cnt, out, &n)
                           : pc_lpop(w->c, K(key), (size_t)cnt, out, &n);
            if (!k->nel) {
                CKRC(PC_ENOTFOUND, rc);
                return;
            }
            CKOK(rc);
            CK(n == (size_t)take);
            char buf[64];
            for (int j = 0; j < take; j++) {
                pc_val want = el_val(k->el[j], buf);
                CKVAL(out[j], want);
            }
        } else if (!k->nel) {
            return;
        }
        memmove(k->el, k->el + take, (size_t)(k->nel - take) * sizeof k->el[0]);
        k->nel -= take;
    } else if (what == 7) {
        int del = -1;
        if (w->c) {
            CKOK(pc_del(w->c, K(key), &del));
            CK(del == (k->nel ? 1 : 0));
        }
        k->nel = 0;
    } else {
        if (w->c)
            check_seq(w, i, key, queue);
        return;
    }
    w->acked++;
}

/* ---- maps and sets ---- */

static void check_map(ld_worker *w, int i, const char *key)
{
    ld_key *k = &w->k[i];
    pc_read *r = rd(w);
    pc_bytes f[LD_FIELDS];
    char names[LD_FIELDS][8];
    pc_val out[LD_FIELDS];
    for (int j = 0; j < LD_FIELDS; j++) {
        snprintf(names[j], sizeof names[j], "f%d", j);
        f[j] = pc_b(names[j], strlen(names[j]));
    }
    CKOK(pc_hmget(r, K(key), f, LD_FIELDS, out));
    unsigned present = 0;
    for (int j = 0; j < LD_FIELDS; j++) {
        if (k->fmask & (1u << j)) {
            pc_val want = pc_int(k->fval[j]);
            CKVAL(out[j], want);
            present++;
        } else {
            CK(out[j].kind == PC_NONE);
        }
    }
    uint64_t len;
    int rc = pc_hlen(r, K(key), &len);
    if (present) {
        CKOK(rc);
        CK(len == present);
    } else {
        CKRC(PC_ENOTFOUND, rc);
    }
    int j = (int)pt_below(&w->rrng, LD_FIELDS), ex = -1;
    pc_val got;
    rc = pc_hget(r, K(key), names[j], strlen(names[j]), &got);
    CKRC((k->fmask & (1u << j)) ? 0 : PC_ENOTFOUND, rc);
    CKOK(pc_hexists(r, K(key), names[j], strlen(names[j]), &ex));
    CK(ex == (int)((k->fmask >> j) & 1));
    pc_read_end(r);
}

static void op_map(ld_worker *w, int i, const char *key)
{
    ld_key *k = &w->k[i];
    unsigned what = (unsigned)pt_below(&w->rng, 10);
    int cnt = 1 + (int)pt_below(&w->rng, 3), fi[3];
    char names[3][8];
    pc_bytes f[3];
    pc_val v[3];
    for (int j = 0; j < cnt; j++) {
        /* distinct fields */
        fi[j] = (int)pt_below(&w->rng, LD_FIELDS);
        for (int t = 0; t < j; t++)
            if (fi[t] == fi[j]) {
                fi[j] = (fi[j] + 1) % LD_FIELDS;
                t = -1;
            }
        snprintf(names[j], sizeof names[j], "f%d", fi[j]);
        f[j] = pc_b(names[j], strlen(names[j]));
        v[j] = pc_int((int64_t)pt_next(&w->rng) >> 20);
    }
    if (what < 4) {
        uint64_t added = 0, want = 0;
        for (int j = 0; j < cnt; j++)
            want += !(k->fmask & (1u << fi[j]));
        if (w->c) {
            CKOK(pc_hset(w->c, K(key), f, v, (size_t)cnt, &added));
            CK(added == want);
        }
        for (int j = 0; j < cnt; j++) {
            k->fmask |= 1u << fi[j];
            k->fval[fi[j]] = v[j].i;
        }
    } else if (what < 6) {
        uint64_t removed = 0, want = 0;
        for (int j = 0; j < cnt; j++)
            want += (k->fmask >> fi[j]) & 1;
        if (w->c) {
            int rc = pc_hdel(w->c, K(key), f, (size_t)cnt, &removed);
            if (!k->fmask) {
                /* deleting fields of a missing map: nothing to remove */
                CKM(rc == 0 || rc == PC_ENOTFOUND, "pc_hdel on a missing map: %s", pc_err_name(rc));
                if (rc == 0)
                    CK(removed == 0);
                return;
            }
            CKOK(rc);
            CK(removed == want);
        } else if (!k->fmask) {
            return;
        }
        for (int j = 0; j < cnt; j++)
            k->fmask &= ~(1u << fi[j]);
    } else if (what < 8) {
        int64_t by = (int64_t)pt_below(&w->rng, 100) - 50, now = 0;
        int64_t want = ((k->fmask >> fi[0]) & 1 ? k->fval[fi[0]] : 0) + by;
        if (w->c) {
            CKOK(pc_hincrby(w->c, K(key), names[0], strlen(names[0]), by, &now));
            CK(now == want);
        }
        k->fmask |= 1u << fi[0];
        k->fval[fi[0]] = want;
    } else {
        if (w->c)
            check_map(w, i, key);
        return;
    }
    w->acked++;
}

static void check_set(ld_worker *w, int i, const char *key)
{
    ld_key *k = &w->k[i];
    pc_read *r = rd(w);
    uint64_t card;
    int rc = pc_scard(r, K(key), &card);
    if (k->smask) {
        CKOK(rc);
        CK(card == (uint64_t)__builtin_popcount(k->smask));
    } else {
        CKRC(PC_ENOTFOUND, rc);
    }
    for (int m = 0; m < LD_MEMBERS; m += 1 + (int)pt_below(&w->rrng, 4)) {
        char buf[16];
        pc_val v = mem_val(m, buf);
        int is = -1;
        CKOK(pc_sismember(r, K(key), &v, &is));
        CK(is == (int)((k->smask >> m) & 1));
    }
    /* All members, paged. */
    pc_cursor cur = PC_CURSOR_INIT;
    uint32_t seen = 0;
    for (int guard = 0; !cur.done && guard < 100; guard++) {
        pc_val out[5];
        size_t n = 0;
        CKOK(pc_sscan(r, K(key), &cur, out, 5, &n));
        for (size_t j = 0; j < n; j++) {
            int m = -1;
            for (int t = 0; t < LD_MEMBERS && m < 0; t++) {
                char buf[16];
                pc_val v = mem_val(t, buf);
                if (pt_val_eq(&v, &out[j]))
                    m = t;
            }
            CKM(m >= 0 && !(seen & (1u << m)), "sscan returned a strange or repeated member");
            seen |= 1u << m;
        }
    }
    CK(cur.done);
    CKM(seen == k->smask, "sscan found 0x%x, expected 0x%x", seen, k->smask);
    pc_read_end(r);
}

static void op_set(ld_worker *w, int i, const char *key)
{
    ld_key *k = &w->k[i];
    unsigned what = (unsigned)pt_below(&w->rng, 10);
    int cnt = 1 + (int)pt_below(&w->rng, 3), mi[3];
    char bufs[3][16];
    pc_val v[3];
    uint32_t mask = 0;
    for (int j = 0; j < cnt; j++) {
        mi[j] = (int)pt_below(&w->rng, LD_MEMBERS);
        v[j] = mem_val(mi[j], bufs[j]);
    }
    if (what < 4) {
        uint64_t added = 0;
        for (int j = 0; j < cnt; j++)
            mask |= 1u << mi[j];
        uint64_t want = (uint64_t)__builtin_popcount(mask & ~k->smask);
        if (w->c) {
            CKOK(pc_sadd(w->c, K(key), v, (size_t)cnt, &added));
            CK(added == want);
        }
        k->smask |= mask;
    } else if (what < 7) {
        uint64_t removed = 0;
        for (int j = 0; j < cnt; j++)
            mask |= 1u << mi[j];
        uint64_t want = (uint64_t)__builtin_popcount(mask & k->smask);
        if (w->c) {
            int rc = pc_srem(w->c, K(key), v, (size_t)cnt, &removed);
            if (!k->smask) {
                CKM(rc == 0 || rc == PC_ENOTFOUND, "pc_srem on a missing set: %s", pc_err_name(rc));
                if (rc == 0)
                    CK(removed == 0);
                return;
            }
            CKOK(rc);
            CK(removed == want);
        } else if (!k->smask) {
            return;
        }
        k->smask &= ~mask;
    } else {
        if (w->c)
            check_set(w, i, key);
        return;
    }
    w->acked++;
}

/* ---- batches and transactions over numerics ---- */

static int num_key(ld_worker *w)
{
    return (int)pt_below(&w->rng, LD_KEYS / T__N) * T__N + T_NUM;
}

/* A batch of increments and sets: many requests in flight, answered in order. */
static void op_batch(ld_worker *w)
{
    int cnt = 4 + (int)pt_below(&w->rng, 12);
    int64_t now[16], want[16];
    int rcs[16];
    if (w->c)
        CKOK(pc_batch_begin(w->c));
    for (int j = 0; j < cnt; j++) {
        int i = num_key(w);
        char key[32];
        key_name(w, i, key, sizeof key);
        ld_key *k = &w->k[i];
        int64_t by = (int64_t)pt_below(&w->rng, 200) - 100;
        want[j] = (k->exists ? k->num : 0) + by;
        k->num = want[j];
        k->exists = true;
        now[j] = INT64_MIN;
        if (w->c)
            CKOK(pc_incrby(w->c, K(key), by, &now[j]));
    }
    if (w->c) {
        CK(pc_pending(w->c) == (size_t)cnt);
        CKOK(pc_batch_exec(w->c, rcs, 16));
        for (int j = 0; j < cnt; j++) {
            CKRC(0, rcs[j]);
            CKM(now[j] == want[j], "batch item %d: %" PRId64 ", expected %" PRId64, j, now[j],
                want[j]);
        }
    }
    w->acked += (unsigned long)cnt;
}

/* A transaction over two counters that commits, or one that fails (a write
 * of the wrong type in it) and changes nothing. */
static void op_txn(ld_worker *w)
{
    int a = num_key(w), b = num_key(w), s = (int)pt_below(&w->rng, LD_KEYS / T__N) * T__N;
    bool bad = pt_below(&w->rng, 4) == 0 && w->k[s].exists;
    int64_t x = (int64_t)pt_below(&w->rng, 50) + 1;
    char ka[32], kb[32], ks[32];
    key_name(w, a, ka, sizeof ka);
    key_name(w, b, kb, sizeof kb);
    key_name(w, s, ks, sizeof ks);
    ld_key *A = &w->k[a], *B = &w->k[b];
    int64_t na = 0, nb = 0;
    if (w->c) {
        CKOK(pc_txn_begin(w->c));
        CKOK(pc_incrby(w->c, K(ka), -x, &na));
        CKOK(pc_incrby(w->c, K(kb), x, &nb));
        if (bad) /* a String: incrby fails with PC_ENOTINT when it runs */
            CKOK(pc_incrby(w->c, K(ks), 1, NULL));
        long failed = -7;
        int rc = pc_txn_commit(w->c, &failed);
        if (bad) {
            CKM(rc < 0, "a failing transaction committed");
            CKM(failed == 2, "failed index %ld, expected 2", failed);
            return;
        }
        CKOK(rc);
        CK(failed == -1);
    } else if (bad) {
        return;
    }
    int64_t wa = (A->exists ? A->num : 0) - x;
    A->num = wa;
    A->exists = true;
    int64_t wb = (B->exists ? B->num : 0) + x;
    B->num = wb;
    B->exists = true;
    if (w->c) {
        CKM(na == wa, "txn: %s is %" PRId64 ", expected %" PRId64, ka, na, wa);
        CKM(nb == wb, "txn: %s is %" PRId64 ", expected %" PRId64, kb, nb, wb);
    }
    w->acked++;
}

static void step(ld_worker *w)
{
    unsigned what = (unsigned)pt_below(&w->rng, 100);
    if (what == 0) {
        op_batch(w);
        return;
    }
    if (what == 1) {
        op_txn(w);
        return;
    }
    int i = (int)pt_below(&w->rng, LD_KEYS);
    char key[32];
    key_name(w, i, key, sizeof key);
    switch (key_type(i)) {
    case T_STR:
        op_str(w, i, key);
        break;
    case T_NUM:
        op_num(w, i, key);
        break;
    case T_LIST:
        op_seq(w, i, key, false);
        break;
    case T_MAP:
        op_map(w, i, key);
        break;
    case T_SET:
        op_set(w, i, key);
        break;
    default:
        op_seq(w, i, key, true);
        break;
    }
}

/* Check every key of w against its model (w->c connected). */
static void verify_all(ld_worker *w)
{
    for (int i = 0; i < LD_KEYS; i++) {
        char key[32];
        key_name(w, i, key, sizeof key);
        ld_key *k = &w->k[i];
        pc_read *r = rd(w);
        pc_type t;
        CKOK(pc_type_of(r, K(key), &t));
        pc_read_end(r);
        static const pc_type types[] = {PC_T_STRING, PC_T_NUMERIC, PC_T_LIST,
                                        PC_T_MAP,    PC_T_SET,     PC_T_QUEUE};
        bool exists = key_type(i) == T_STR || key_type(i) == T_NUM ? k->exists
                      : key_type(i) == T_MAP                       ? k->fmask != 0
                      : key_type(i) == T_SET                       ? k->smask != 0
                                                                   : k->nel != 0;
        CKM(t == (exists ? types[key_type(i)] : PC_T_NONE), "%s: type %d, expected %s", key, (int)t,
            exists ? pc_type_name(types[key_type(i)]) : "none");
        switch (key_type(i)) {
        case T_STR:
        case T_NUM: {
            r = rd(w);
            pc_val got;
            if (!k->exists) {
                CKRC(PC_ENOTFOUND, pc_get(r, K(key), &got));
            } else {
                CKOK(pc_get(r, K(key), &got));
                pc_val want = key_type(i) == T_STR ? pc_mem(k->s, k->slen) : pc_int(k->num);
                CKVAL(got, want);
            }
            pc_read_end(r);
            break;
        }
        case T_LIST:
        case T_QUEUE:
            check_seq(w, i, key, key_type(i) == T_QUEUE);
            break;
        case T_MAP:
            check_map(w, i, key);
            break;
        default:
            check_set(w, i, key);
            break;
        }
    }
}

static void worker_init(ld_worker *w, int id)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->rng.s = UINT64_C(0x10ad) * 1000 + (uint64_t)id;
    w->rrng.s = UINT64_C(0xc4ec) * 1000 + (uint64_t)id;
}

/* ------------------------------------------------------------------------ */

static int setup(void **state)
{
    return pt_daemon_fixture(state, 120);
}

static pt_daemon *start(void **state, const char *tag, const char *const *opts)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_new(d, tag, opts), 0);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    return d;
}

/* ---- 8 processes x 10,000 operations ---- */

struct mixed_arg {
    const char *dir;
    int id;
    bool ring_only;
    _Atomic unsigned long *acked;
};

static int mixed_child(void *arg)
{
    struct mixed_arg *a = arg;
    static ld_worker w;
    worker_init(&w, a->id);
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? PC_OPT_RING_ONLY : 0;
    CKOK(pc_connect(a->dir, &o, &w.c));
    pc_store_info si;
    CKOK(pc_store_info_get(w.c, &si));
    CK(si.ring_only == a->ring_only);
    for (int n = 0; n < LD_OPS; n++)
        step(&w);
    verify_all(&w);
    *a->acked = w.acked;
    pc_close(w.c);
    return 0;
}

/* Replay worker id's model and check the store against it from this process. */
static int verify_child(void *arg)
{
    struct mixed_arg *a = arg;
    static ld_worker w;
    worker_init(&w, a->id);
    for (int n = 0; n < LD_OPS; n++)
        step(&w); /* w.c is NULL: the model only */
    CKM(w.acked == *a->acked, "worker %d: the replay acknowledges %lu writes, the run %lu", a->id,
        w.acked, *a->acked);
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? 0 : PC_OPT_RING_ONLY; /* the other kind of reader */
    CKOK(pc_connect(a->dir, &o, &w.c));
    verify_all(&w);
    pc_close(w.c);
    return 0;
}

static void run_verifiers(pt_daemon *d, struct mixed_arg *args)
{
    pid_t pids[LD_PROCS];
    for (int p = 0; p < LD_PROCS; p++)
        pids[p] = pt_fork(verify_child, &args[p], 60);
    for (int p = 0; p < LD_PROCS; p++)
        EXITED(pt_wait_pid(pids[p], 65000), 0);
    (void)d;
}

static void test_mixed_8x10000(void **state)
{
    pt_daemon *d = start(state, "mixed", (const char *[]){"--shards", "4", NULL});
    _Atomic unsigned long *acked = pt_shared(sizeof *acked * LD_PROCS);
    assert_non_null(acked);
    struct mixed_arg args[LD_PROCS];
    pid_t pids[LD_PROCS];
    uint64_t t0 = pt_now_ms();
    for (int p = 0; p < LD_PROCS; p++) {
        args[p] = (struct mixed_arg){d->dir, p, p % 4 == 3, &acked[p]};
        pids[p] = pt_fork(mixed_child, &args[p], 60);
        assert_true(pids[p] > 0);
    }
    for (int p = 0; p < LD_PROCS; p++)
        EXITED(pt_wait_pid(pids[p], 65000), 0);
    unsigned long total = 0;
    for (int p = 0; p < LD_PROCS; p++)
        total += acked[p];
    print_message("8 x %d operations in %" PRIu64 " ms, %lu acknowledged writes\n", LD_OPS,
                  pt_now_ms() - t0, total);
    /* Verified from other processes, by replaying the models... */
    run_verifiers(d, args);
    /* ...and again after a restart. */
    STOP_OK(d);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    run_verifiers(d, args);
    STOP_OK(d);
    munmap(acked, sizeof *acked * LD_PROCS);
    d->passed = true;
}

/* ---- readers see each commit ---- */

#define RS_N 3000
#define RS_READERS 3

struct rs_shared {
    _Atomic int64_t issued; /* the writer is about to write this value */
    _Atomic int64_t acked;  /* ... and had it acknowledged */
    _Atomic int ready;
};

struct rs_arg {
    const char *dir;
    struct rs_shared *sh;
    bool ring_only;
};

static int rs_writer(void *arg)
{
    struct rs_arg *a = arg;
    pc_client *c;
    CKOK(pc_connect(a->dir, NULL, &c));
    while (atomic_load(&a->sh->ready) < RS_READERS)
        pt_sleep_us(100);
    for (int64_t i = 1; i <= RS_N; i++) {
        atomic_store(&a->sh->issued, i);
        pc_val v = pc_int(i);
        if (i % 3) {
            CKOK(pc_set(c, K("{rs}:seq"), &v, 0, 0));
        } else {
            /* two keys in one write: a reader sees both or neither */
            pc_bytes keys[3] = {pc_b(K("{rs}:seq")), pc_b(K("{rs}:x")), pc_b(K("{rs}:y"))};
            pc_val vals[3] = {v, v, v};
            CKOK(pc_mset(c, keys, vals, 3));
        }
        atomic_store(&a->sh->acked, i);
    }
    pc_close(c);
    return 0;
}

static int rs_reader(void *arg)
{
    struct rs_arg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->ring_only ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    atomic_fetch_add(&a->sh->ready, 1);
    int64_t last = 0;
    unsigned long reads = 0;
    while (last < RS_N) {
        int64_t acked = atomic_load(&a->sh->acked);
        pc_read *r;
        CKOK(pc_read_begin(c, &r));
        pc_val v, x, y;
        int rc = pc_get(r, K("{rs}:seq"), &v);
        int64_t issued = atomic_load(&a->sh->issued);
        if (rc == PC_ENOTFOUND) {
            CKM(acked == 0, "seq missing after %" PRId64 " was acknowledged", acked);
            pc_read_end(r);
            continue;
        }
        CKOK(rc);
        CK(v.kind == PC_INT);
        /* Everything acknowledged before the read began is visible; nothing
         * not yet issued is; and it never goes back. */
        CKM(v.i >= acked, "read %" PRId64 " after %" PRId64 " was acknowledged", v.i, acked);
        CKM(v.i <= issued, "read %" PRId64 " before it was written (%" PRId64 ")", v.i, issued);
        CKM(v.i >= last, "went back from %" PRId64 " to %" PRId64, last, v.i);
        if (!a->ring_only) {
            /* One snapshot: x and y were written together. */
            int rx = pc_get(r, K("{rs}:x"), &x), ry = pc_get(r, K("{rs}:y"), &y);
            CK(rx == ry);
            if (!rx) {
                CK(x.i == y.i);
                CK(x.i <= v.i && x.i > v.i - 3);
            }
        }
        last = v.i;
        reads++;
        pc_read_end(r);
    }
    CK(reads > 0);
    pc_close(c);
    return 0;
}

static void test_readers_see_commits(void **state)
{
    pt_daemon *d = start(state, "readers", NULL);
    struct rs_shared *sh = pt_shared(sizeof *sh);
    assert_non_null(sh);
    struct rs_arg wa = {d->dir, sh, false}, ra[RS_READERS];
    pid_t pids[RS_READERS + 1];
    for (int i = 0; i < RS_READERS; i++) {
        ra[i] = (struct rs_arg){d->dir, sh, i == RS_READERS - 1};
        pids[i] = pt_fork(rs_reader, &ra[i], 60);
    }
    pids[RS_READERS] = pt_fork(rs_writer, &wa, 60);
    for (int i = 0; i <= RS_READERS; i++)
        EXITED(pt_wait_pid(pids[i], 65000), 0);
    STOP_OK(d);
    munmap(sh, sizeof *sh);
    d->passed = true;
}

/* ---- transfers between counters ---- */

#define TR_ACCOUNTS 8
#define TR_START 1000
#define TR_MOVERS 6
#define TR_MOVES 600

struct tr_arg {
    const char *dir;
    int id;
    _Atomic int *stop;
    _Atomic unsigned long *conflicts;
};

static void tr_key(int i, char *buf, size_t n)
{
    snprintf(buf, n, "{bank}:acct%d", i);
}

static int tr_mover(void *arg)
{
    struct tr_arg *a = arg;
    pc_client *c;
    CKOK(pc_connect(a->dir, NULL, &c));
    pt_rng rng = {UINT64_C(0x7a) + (uint64_t)a->id};
    unsigned long conflicts = 0;
    for (int n = 0; n < TR_MOVES; n++) {
        int from = (int)pt_below(&rng, TR_ACCOUNTS), to = (int)pt_below(&rng, TR_ACCOUNTS - 1);
        to += to >= from;
        int64_t amt = (int64_t)pt_below(&rng, 20) + 1;
        char kf[32], kt[32];
        tr_key(from, kf, sizeof kf);
        tr_key(to, kt, sizeof kt);
        for (int attempt = 0;; attempt++) {
            CKM(attempt < 10000, "transfer starved");
            pc_read *r;
            pc_val vf, vt;
            uint64_t verf, vert;
            CKOK(pc_read_begin(c, &r));
            CKOK(pc_get(r, K(kf), &vf));
            CKOK(pc_get(r, K(kt), &vt));
            CKOK(pc_version(r, K(kf), &verf));
            CKOK(pc_version(r, K(kt), &vert));
            pc_read_end(r);
            /* Check-and-set: the new balances are computed here, so without
             * the conditions concurrent moves would lose updates. */
            pc_val nf = pc_int(vf.i - amt), nt = pc_int(vt.i + amt);
            CKOK(pc_txn_begin(c));
            CKOK(pc_txn_require_version(c, K(kf), verf));
            CKOK(pc_txn_require_version(c, K(kt), vert));
            CKOK(pc_set(c, K(kf), &nf, 0, 0));
            CKOK(pc_set(c, K(kt), &nt, 0, 0));
            long failed = -7;
            int rc = pc_txn_commit(c, &failed);
            if (rc == PC_ECONFLICT) {
                CK(failed == 0 || failed == 1);
                conflicts++;
                continue;
            }
            CKOK(rc);
            break;
        }
        if (n % 50 == 0) {
            /* A transaction that fails part way applies nothing. */
            pc_val s = pc_str("not a number");
            CKOK(pc_set(c, K("{bank}:label"), &s, 0, 0));
            CKOK(pc_txn_begin(c));
            CKOK(pc_incrby(c, K(kf), -1000000, NULL));
            CKOK(pc_incrby(c, K("{bank}:label"), 1, NULL));
            long failed = -7;
            CKM(pc_txn_commit(c, &failed) < 0, "a failing transaction committed");
            CK(failed == 1);
        }
    }
    atomic_fetch_add(a->conflicts, conflicts);
    pc_close(c);
    return 0;
}

static int tr_auditor(void *arg)
{
    struct tr_arg *a = arg;
    pc_options o;
    pc_options_init(&o);
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    unsigned long audits = 0;
    do {
        pc_read *r;
        CKOK(pc_read_begin(c, &r));
        int64_t total = 0;
        for (int i = 0; i < TR_ACCOUNTS; i++) {
            char k[32];
            pc_val v;
            tr_key(i, k, sizeof k);
            CKOK(pc_get(r, K(k), &v));
            CK(v.kind == PC_INT);
            total += v.i;
        }
        pc_read_end(r);
        CKM(total == TR_ACCOUNTS * TR_START, "a snapshot totals %" PRId64, total);
        audits++;
    } while (!atomic_load(a->stop));
    CK(audits > 0);
    pc_close(c);
    return 0;
}

static void test_transfers(void **state)
{
    pt_daemon *d = start(state, "transfers", (const char *[]){"--shards", "2", NULL});
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    for (int i = 0; i < TR_ACCOUNTS; i++) {
        char k[32];
        tr_key(i, k, sizeof k);
        pc_val v = pc_int(TR_START);
        OK(pc_set(c, K(k), &v, 0, 0));
    }
    _Atomic int *stop = pt_shared(4096);
    _Atomic unsigned long *conflicts = (_Atomic unsigned long *)(stop + 16);
    assert_non_null(stop);
    struct tr_arg args[TR_MOVERS + 1];
    pid_t pids[TR_MOVERS + 1];
    for (int i = 0; i <= TR_MOVERS; i++) {
        args[i] = (struct tr_arg){d->dir, i, stop, conflicts};
        pids[i] = pt_fork(i < TR_MOVERS ? tr_mover : tr_auditor, &args[i], 60);
    }
    for (int i = 0; i < TR_MOVERS; i++)
        EXITED(pt_wait_pid(pids[i], 65000), 0);
    atomic_store(stop, 1);
    EXITED(pt_wait_pid(pids[TR_MOVERS], 10000), 0);
    pc_read *r;
    OK(pc_read_begin(c, &r));
    int64_t total = 0;
    for (int i = 0; i < TR_ACCOUNTS; i++) {
        char k[32];
        pc_val v;
        tr_key(i, k, sizeof k);
        OK(pc_get(r, K(k), &v));
        total += v.i;
    }
    pc_read_end(r);
    assert_int_equal(total, TR_ACCOUNTS * TR_START);
    print_message("%d transfers, %lu conflicts retried\n", TR_MOVERS * TR_MOVES,
                  (unsigned long)atomic_load(conflicts));
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ---- a full ring ---- */

#define FR_ITEMS 20000

/* A batch far larger than the 64 KiB ring: every request arrives, in
 * order, and every answer comes back (the answers overflow the response
 * ring too). */
static int fr_batch(void *arg)
{
    const char *dir = arg;
    pc_client *c;
    CKOK(pc_connect(dir, NULL, &c));
    pc_store_info si;
    CKOK(pc_store_info_get(c, &si));
    CK(si.ring_size == 64 << 10);
    char key[32];
    snprintf(key, sizeof key, "fr:list:%d", (int)getpid());
    static uint64_t lens[FR_ITEMS];
    static int rcs[FR_ITEMS];
    static char el[FR_ITEMS][24];
    CKOK(pc_batch_begin(c));
    for (int i = 0; i < FR_ITEMS; i++) {
        snprintf(el[i], sizeof el[i], "item-%08d", i);
        pc_val v = pc_str(el[i]);
        CKOK(pc_rpush(c, K(key), &v, 1, &lens[i]));
    }
    CKOK(pc_batch_exec(c, rcs, FR_ITEMS));
    for (int i = 0; i < FR_ITEMS; i++) {
        CKRC(0, rcs[i]);
        CKM(lens[i] == (uint64_t)i + 1, "answer %d: length %" PRIu64, i, lens[i]);
    }
    /* Answers larger than the ring: getset of 2 KiB values, 3000 of them. */
    static char big[2048];
    static pc_val olds[3000];
    CKOK(pc_batch_begin(c));
    for (int i = 0; i < 3000; i++) {
        memset(big, 'a' + i % 26, sizeof big);
        snprintf(key, sizeof key, "fr:s:%d:%d", (int)getpid(), i % 50);
        pc_val v = pc_mem(big, sizeof big);
        CKOK(pc_getset(c, K(key), &v, &olds[i]));
    }
    CKOK(pc_batch_exec(c, rcs, 3000));
    for (int i = 0; i < 3000; i++) {
        if (i < 50) {
            CK(olds[i].kind == PC_NONE);
            continue;
        }
        CK(olds[i].kind == PC_BYTES && olds[i].s.len == sizeof big);
        CK(((const char *)olds[i].s.ptr)[0] == 'a' + (i - 50) % 26);
        CK(((const char *)olds[i].s.ptr)[sizeof big - 1] == 'a' + (i - 50) % 26);
    }
    /* Everything is there, in order. */
    snprintf(key, sizeof key, "fr:list:%d", (int)getpid());
    pc_read *r;
    CKOK(pc_read_begin(c, &r));
    uint64_t len;
    CKOK(pc_llen(r, K(key), &len));
    CK(len == FR_ITEMS);
    static pc_val out[FR_ITEMS];
    size_t n;
    CKOK(pc_lrange(r, K(key), 0, -1, out, FR_ITEMS, &n));
    CK(n == FR_ITEMS);
    for (int i = 0; i < FR_ITEMS; i++)
        CKM(out[i].kind == PC_BYTES && out[i].s.len == strlen(el[i]) &&
                !memcmp(out[i].s.ptr, el[i], out[i].s.len),
            "element %d", i);
    pc_read_end(r);
    pc_close(c);
    return 0;
}

static void test_full_ring(void **state)
{
    pt_daemon *d = start(state, "fullring", (const char *[]){"--ring-size", "64K", NULL});
    /* Three clients at once, each overflowing its rings. */
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        pids[i] = pt_fork(fr_batch, d->dir, 60);
    for (int i = 0; i < 3; i++)
        EXITED(pt_wait_pid(pids[i], 65000), 0);

    /* With the daemon stopped, a client fills its ring and waits for room;
     * nothing is lost once the daemon goes on. */
    assert_int_equal(kill(d->pid, SIGSTOP), 0);
    pids[0] = pt_fork(fr_batch, d->dir, 60);
    pt_sleep_ms(300);
    int st;
    assert_int_equal(waitpid(pids[0], &st, WNOHANG), 0); /* still waiting */
    assert_int_equal(kill(d->pid, SIGCONT), 0);
    EXITED(pt_wait_pid(pids[0], 65000), 0);

    /* PC_OPT_NONBLOCK: a batch that does not fit in the free ring is refused
     * with PC_EAGAIN and nothing of it is sent; one that fits runs. */
    pc_client *c = pt_daemon_client(d, PC_OPT_NONBLOCK);
    assert_non_null(c);
    static char big[1000];
    memset(big, 'n', sizeof big);
    OK(pc_batch_begin(c));
    for (int i = 0; i < 100; i++) { /* 100 KB of requests: more than the ring */
        char key[32];
        snprintf(key, sizeof key, "nb:%d", i);
        pc_val v = pc_mem(big, sizeof big);
        OK(pc_set(c, K(key), &v, 0, 0));
    }
    RC(PC_EAGAIN, pc_batch_exec(c, NULL, 0));
    pc_read *r;
    pc_val got;
    OK(pc_read_begin(c, &r));
    RC(PC_ENOTFOUND, pc_get(r, K("nb:0"), &got));
    RC(PC_ENOTFOUND, pc_get(r, K("nb:99"), &got));
    pc_read_end(r);
    OK(pc_batch_begin(c));
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "nb:%d", i);
        pc_val v = pc_mem(big, sizeof big);
        OK(pc_set(c, K(key), &v, 0, 0));
    }
    OK(pc_batch_exec(c, NULL, 0));
    OK(pc_read_begin(c, &r));
    OK(pc_get(r, K("nb:19"), &got));
    assert_int_equal(got.s.len, sizeof big);
    pc_read_end(r);
    /* A single value larger than the ring streams through it in chunks. */
    static char huge[300 << 10];
    pt_fill(huge, sizeof huge, 99);
    pc_val hv = pc_mem(huge, sizeof huge);
    pc_client *b = pt_daemon_client(d, 0);
    assert_non_null(b);
    OK(pc_set(b, K("fr:huge"), &hv, 0, 0));
    OK(pc_read_begin(c, &r));
    OK(pc_get(r, K("fr:huge"), &got));
    assert_int_equal(got.s.len, sizeof huge);
    assert_memory_equal(got.s.ptr, huge, sizeof huge);
    pc_read_end(r);
    pc_close(b);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* ---- big values ---- */

#define MiB (1u << 20)

static void check_big(pc_client *c, const char *key, const uint8_t *want, size_t n)
{
    pc_read *r;
    pc_val got;
    uint64_t len;
    OK(pc_read_begin(c, &r));
    OK(pc_get(r, K(key), &got));
    assert_int_equal(got.kind, PC_BYTES);
    assert_int_equal(got.s.len, n);
    assert_true(memcmp(got.s.ptr, want, n) == 0);
    OK(pc_strlen(r, K(key), &len));
    assert_int_equal(len, n);
    /* The last 10 bytes, by range. */
    OK(pc_getrange(r, K(key), -10, -1, &got));
    assert_int_equal(got.s.len, n < 10 ? n : 10);
    assert_true(memcmp(got.s.ptr, want + n - got.s.len, got.s.len) == 0);
    pc_read_end(r);
}

static void test_big_values(void **state)
{
    pt_daemon *d =
        start(state, "big", (const char *[]){"--max-value", "64M", "--max-memory", "1G", NULL});
    pc_client *c = pt_daemon_client(d, 0), *ro = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(c);
    assert_non_null(ro);
    pc_store_info si;
    OK(pc_store_info_get(c, &si));
    assert_int_equal(si.max_value, 64 * MiB);
    size_t sizes[] = {1, MiB, 64 * MiB};
    uint8_t *buf = malloc(64 * MiB + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < 3; i++) {
        /* Written by the trusted and by the ring-only client; read by both
         * (zero-copy, and streamed back through the ring); returned as the
         * old value of a getset.  64 MiB once only (the ring-only writer):
         * the trusted client streams one below. */
        for (int writer = sizes[i] > MiB ? 1 : 0; writer < 2; writer++) {
            size_t n = sizes[i];
            char key[32];
            snprintf(key, sizeof key, "big:%zu:%d", n, writer);
            pt_fill(buf, n, n * 7 + (size_t)writer);
            pc_val v = pc_mem(buf, n);
            uint64_t t0 = pt_now_ms();
            OK(pc_set(writer ? ro : c, K(key), &v, 0, 0));
            check_big(c, key, buf, n);
            check_big(ro, key, buf, n);
            /* It comes back as the old value of a getset, too. */
            pc_val small = pc_str("x"), old;
            OK(pc_getset(writer ? c : ro, K(key), &small, &old));
            assert_int_equal(old.kind, PC_BYTES);
            assert_int_equal(old.s.len, n);
            assert_true(memcmp(old.s.ptr, buf, n) == 0);
            if (n > MiB)
                print_message("%zu bytes: set, read twice and swapped in %" PRIu64 " ms\n", n,
                              pt_now_ms() - t0);
        }
    }
    /* One byte more than the largest value is refused, and changes nothing. */
    pt_fill(buf, 64 * MiB + 1, 5);
    pc_val v = pc_mem(buf, 64 * MiB + 1);
    RC(PC_ETOOBIG, pc_set(c, K("big:too"), &v, 0, 0));
    RC(PC_ETOOBIG, pc_set(ro, K("big:too"), &v, 0, 0));
    RC(PC_ETOOBIG, pc_append(c, K("big:64M-append"), buf, 64 * MiB + 1, NULL));
    RC(PC_ETOOBIG, pc_rpush(ro, K("big:list"), &v, 1, NULL));
    /* A String grown past the limit by append is refused too. */
    v = pc_mem(buf, 64 * MiB);
    OK(pc_set(c, K("big:grow"), &v, 0, 0));
    RC(PC_ETOOBIG, pc_append(c, K("big:grow"), "z", 1, NULL));
    pc_read *r;
    pc_val got;
    OK(pc_read_begin(c, &r));
    RC(PC_ENOTFOUND, pc_get(r, K("big:too"), &got));
    RC(PC_ENOTFOUND, pc_get(r, K("big:list"), &got));
    OK(pc_get(r, K("big:grow"), &got));
    assert_int_equal(got.s.len, 64 * MiB);
    pc_read_end(r);
    /* Both clients still work. */
    v = pc_str("after");
    OK(pc_set(c, K("big:after"), &v, 0, 0));
    OK(pc_set(ro, K("big:after"), &v, 0, 0));
    free(buf);
    pc_close(c);
    pc_close(ro);
    STOP_OK(d);
    d->passed = true;
}

/* ---- stopping the daemon under load ---- */

#define SL_WRITERS 4

struct sl_arg {
    const char *dir;
    int id;
    _Atomic int64_t *acked; /* the last value this writer had acknowledged */
};

/* Push 0, 1, 2, ... onto a list and set a counter, each acknowledged in
 * turn, until the daemon goes away. */
static int sl_writer(void *arg)
{
    struct sl_arg *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->id % 2 ? PC_OPT_RING_ONLY : 0;
    o.timeout_ms = 200; /* not the default 10 s wait for a daemon to come back */
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    char lk[32], ck[32];
    snprintf(lk, sizeof lk, "sl:list:%d", a->id);
    snprintf(ck, sizeof ck, "sl:last:%d", a->id);
    for (int64_t i = 0;; i++) {
        pc_val v = pc_int(i);
        uint64_t len;
        int rc;
        if (i % 4 == 3) {
            /* batches too: several writes in flight */
            int64_t now;
            CKOK(pc_batch_begin(c));
            CKOK(pc_rpush(c, K(lk), &v, 1, &len));
            CKOK(pc_set(c, K(ck), &v, 0, 0));
            CKOK(pc_incrby(c, K("sl:total"), 1, &now));
            int rcs[3];
            rc = pc_batch_exec(c, rcs, 3);
        } else {
            rc = pc_rpush(c, K(lk), &v, 1, &len);
            if (!rc)
                rc = pc_set(c, K(ck), &v, 0, 0);
        }
        if (rc) {
            /* In flight when it went, or begun after (no daemon came back
             * within the client's timeout). */
            CKM(rc == PC_ECONNRESET || rc == PC_ETIMEDOUT, "writer %d: %s", a->id, pc_err_name(rc));
            break;
        }
        CK(len == (uint64_t)i + 1);
        atomic_store(a->acked, i);
    }
    pc_close(c);
    return 0;
}

static void check_survivors(pt_daemon *d, _Atomic int64_t *acked)
{
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    pc_read *r;
    OK(pc_read_begin(c, &r));
    for (int w = 0; w < SL_WRITERS; w++) {
        char lk[32], ck[32];
        snprintf(lk, sizeof lk, "sl:list:%d", w);
        snprintf(ck, sizeof ck, "sl:last:%d", w);
        int64_t a = atomic_load(&acked[w]);
        assert_true(a > 10); /* it was under load */
        uint64_t len;
        OK(pc_llen(r, K(lk), &len));
        /* Every acknowledged write is there; at most the one in flight
         * beyond it. */
        if (len < (uint64_t)a + 1 || len > (uint64_t)a + 2) {
            print_error("writer %d: list of %" PRIu64 ", last acknowledged %" PRId64 "\n", w, len,
                        a);
            fail();
        }
        static pc_val out[1 << 16];
        size_t n;
        assert_true(len <= sizeof out / sizeof out[0]);
        OK(pc_lrange(r, K(lk), 0, -1, out, sizeof out / sizeof out[0], &n));
        assert_int_equal(n, len);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(out[i].kind, PC_INT);
            assert_int_equal(out[i].i, (int64_t)i);
        }
        pc_val last;
        OK(pc_get(r, K(ck), &last));
        assert_true(last.i >= a && last.i <= a + 1);
    }
    pc_read_end(r);
    pc_close(c);
}

static void stop_under_load(void **state, int sig)
{
    pt_daemon *d = start(state, sig == SIGTERM ? "sigterm" : "sigkill",
                         (const char *[]){"--sync", "batch", "--sync-interval", "50", NULL});
    _Atomic int64_t *acked = pt_shared(sizeof *acked * SL_WRITERS);
    assert_non_null(acked);
    struct sl_arg args[SL_WRITERS];
    pid_t pids[SL_WRITERS];
    for (int w = 0; w < SL_WRITERS; w++) {
        atomic_store(&acked[w], -1);
        args[w] = (struct sl_arg){d->dir, w, &acked[w]};
        pids[w] = pt_fork(sl_writer, &args[w], 60);
    }
    /* Let them get going, then stop the daemon in the middle of it. */
    uint64_t until = pt_now_ms() + 10000;
    for (int w = 0; w < SL_WRITERS; w++)
        while (atomic_load(&acked[w]) < 200 && pt_now_ms() < until)
            pt_sleep_ms(1);
    pt_sleep_ms(50);
    if (sig == SIGTERM)
        STOP_OK(d);
    else
        pt_daemon_kill9(d);
    /* Every writer notices (PC_ECONNRESET or PC_ETIMEDOUT), none hangs. */
    for (int w = 0; w < SL_WRITERS; w++)
        EXITED(pt_wait_pid(pids[w], 10000), 0);
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    check_survivors(d, acked);
    STOP_OK(d);
    munmap(acked, sizeof *acked * SL_WRITERS);
    d->passed = true;
}

static void test_sigterm_under_load(void **state)
{
    stop_under_load(state, SIGTERM);
}

static void test_sigkill_under_load(void **state)
{
    stop_under_load(state, SIGKILL);
}

int main(void)
{
    pt_init(300);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mixed_8x10000, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_readers_see_commits, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_transfers, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_full_ring, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_big_values, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_under_load, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_under_load, setup, pt_daemon_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
