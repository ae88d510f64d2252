/*
 * badapi.c - bad input through the public API, for badinput.sh.
 *
 *   badapi DIR      (a pycached serves DIR, started with --max-value 1M and
 *                    without --snapshot-dir; the keys "s" (a String "hello"),
 *                    "l" (a List) and "n" (the Numeric 5) exist)
 *
 * Makes each bad call and prints one table row per call:
 *   | API | call | returned | message |
 * Exits 1 if a call succeeded, returned an unexpected code, gave an empty
 * message, or if the keys it touched changed.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pycache.h"

static int bad;

/* One row: the message is pc_last_error() of the client the call was on
 * (cl; NULL for a call without one: the code's message). */
static void row(pc_client *cl, const char *call, int rc, int want)
{
    const char *msg = cl ? pc_last_error(cl) : pc_strerror(rc);
    printf("| API | `%s` | %s | %s |\n", call, rc ? pc_err_name(rc) : "0 (accepted!)", msg);
    /* An argument refused must say which and why, not only the code's words
     * ("pc_x: invalid argument (PC_EINVAL)"). */
    char bare[160];
    const char *paren = strchr(call, '(');
    snprintf(bare, sizeof bare, "%.*s: %s (%s)", paren ? (int)(paren - call) : 0, call,
             pc_strerror(rc), pc_err_name(rc));
    if (cl && (rc == PC_EINVAL || rc == PC_ENAN) && !strcmp(msg, bare)) {
        fprintf(stderr, "badapi: %s gave no detail: '%s'\n", call, msg);
        bad = 1;
    }
    if (rc == 0 || rc != want || !*msg) {
        fprintf(stderr, "badapi: %s returned %s, expected %s\n", call, pc_err_name(rc),
                pc_err_name(want));
        bad = 1;
    }
}

#define TRY(want, call) row(c, #call, (call), (want))
#define TRY_ON(cl, want, call) row((cl), #call, (call), (want))

static char big[251];

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: badapi DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    pc_client *c = NULL, *c2 = NULL;
    pc_options o;
    pc_options_init(&o);
    if (pc_connect(dir, &o, &c)) {
        fprintf(stderr, "badapi: cannot connect to %s\n", dir);
        return 2;
    }
    memset(big, 'k', sizeof big);
    pc_val v = pc_str("x"), out;
    pc_val nan_v = pc_dbl(NAN), nil = pc_nil();
    size_t tlen = (2u << 20);
    char *huge = calloc(1, tlen);
    pc_val huge_v = pc_mem(huge, tlen);
    int64_t i64;
    double d;
    pc_read *r = NULL, *r2;
    pc_cursor cur = PC_CURSOR_INIT;
    size_t n;
    pc_val items[3] = {pc_str("f"), pc_int(1), pc_str("g")};

    TRY_ON(NULL, PC_EINVAL, pc_connect(dir, &o, NULL));
    TRY_ON(NULL, PC_ECONNREFUSED, pc_connect("/nonexistent/pycache", &o, &c2));
    TRY(PC_EKEY, pc_set(c, NULL, 1, &v, 0, 0));
    TRY(PC_EKEY, pc_set(c, "", 0, &v, 0, 0));
    TRY(PC_EKEY, pc_set(c, big, 251, &v, 0, 0));
    TRY(PC_EINVAL, pc_set(c, "k", 1, NULL, 0, 0));
    TRY(PC_EINVAL, pc_set(c, "k", 1, &nil, 0, 0));
    TRY(PC_ENAN, pc_set(c, "k", 1, &nan_v, 0, 0));
    TRY(PC_EINVAL, pc_set(c, "k", 1, &v, -1, 0));
    TRY(PC_EINVAL, pc_set(c, "k", 1, &v, PC_TTL_MAX_MS + 1, 0));
    TRY(PC_EINVAL, pc_set(c, "k", 1, &v, 0, PC_NX | PC_XX));
    TRY(PC_EINVAL, pc_set(c, "k", 1, &v, 1000, PC_KEEPTTL));
    TRY(PC_EINVAL, pc_set(c, "k", 1, &v, 0, 0x80));
    TRY(PC_ETOOBIG, pc_set(c, "k", 1, &huge_v, 0, 0));
    TRY(PC_EINVAL, pc_set_coll(c, "k", 1, PC_T_STRING, items, 1, 0, 0));
    TRY(PC_EINVAL, pc_set_coll(c, "k", 1, PC_T_MAP, items, 3, 0, 0));
    TRY(PC_EWRONGTYPE, pc_lpush(c, "s", 1, &v, 1, NULL));
    TRY(PC_ENOTINT, pc_incrby(c, "s", 1, 1, &i64));
    TRY(PC_EOVERFLOW, pc_incrby(c, "n", 1, INT64_MAX, &i64));
    TRY(PC_ENAN, pc_incrbyfloat(c, "n", 1, INFINITY, &d));
    TRY(PC_EINVAL, pc_expire(c, "s", 1, 0, NULL));
    TRY(PC_ERANGE, pc_lset(c, "l", 1, 99, &v));
    TRY(PC_ENOTFOUND, pc_lset(c, "missing", 7, 0, &v));
    TRY(PC_EINVAL, pc_qpop_wait(c, "q", 1, 1, 0, &out, &n));
    TRY(PC_EINVAL, pc_set_expire_interval(c, 3600001));
    TRY(PC_ENOTSUP, pc_snapshot(c, NULL));
    /* the calls of issue 13 */
    pc_bytes two[2] = {{"s", 1}, {"", 0}};
    uint64_t u;
    TRY(PC_EKEY, pc_del_keys(c, two, 2, &u));
    TRY(PC_EINVAL, pc_expireat(c, "s", 1, -1, NULL));
    TRY(PC_EINVAL, pc_getex(c, "s", 1, 9, 0, &out));
    TRY(PC_EINVAL, pc_getex(c, "s", 1, PC_GETEX_TTL, 0, &out));
    TRY(PC_EWRONGTYPE, pc_getdel(c, "l", 1, &out));
    /* Calls of two keys take keys of one {tag} (badinput.sh seeds {b}s and
     * {b}l as s and l): the store has the default shard count. */
    TRY(PC_ENOTFOUND, pc_rename(c, "{b}missing", 10, "{b}k", 4, 0, NULL));
    TRY(PC_EINVAL, pc_rename(c, "{b}s", 4, "{b}k", 4, 8, NULL));
    TRY(PC_EKEY, pc_lmove(c, "{b}l", 4, "", 0, true, true, &out));
    TRY(PC_EWRONGTYPE, pc_lmove(c, "{b}l", 4, "{b}s", 4, true, true, &out));
    TRY(PC_EWRONGTYPE, pc_smove(c, "{b}s", 4, "{b}k", 4, &v, NULL));
    TRY(PC_EINVAL, pc_linsert(c, "l", 1, true, NULL, &v, NULL));
    TRY(PC_EWRONGTYPE, pc_hsetnx(c, "s", 1, "f", 1, &v, NULL));
    TRY(PC_ESTATE, pc_txn_commit(c, NULL));
    /* issue 16: the helpers and the new types */
    pc_throttle_info ti;
    pc_flight fl;
    pc_bytes bk[2] = {pc_b("{b}s", 4), pc_b("{b}l", 4)}, bi = pc_b("x", 1);
    int bits;
    TRY(PC_EINVAL, pc_throttle(c, "k", 1, -1, 10, 1000, 1, &ti));
    TRY(PC_EINVAL, pc_throttle(c, "k", 1, 5, 0, 1000, 1, &ti));
    TRY(PC_EINVAL, pc_throttle(c, "k", 1, 5, 2000001, 1, 1, &ti));
    TRY(PC_EINVAL, pc_throttle_window(c, "k", 1, 10, 0, 1, &ti));
    TRY(PC_EWRONGTYPE, pc_throttle(c, "s", 1, 5, 10, 1000, 1, &ti));
    TRY(PC_EINVAL, pc_flight_claim(c, "k", 1, 0, 0, 0, &fl));
    TRY(PC_EINVAL, pc_flight_claim(c, "k", 1, 1000, 0, 0, NULL));
    TRY(PC_EWRONGTYPE, pc_flight_claim(c, "l", 1, 1000, 0, 0, &fl));
    TRY(PC_ECONFLICT, pc_flight_fill(c, "k", 1, 42, &v, 1000, 0));
    TRY(PC_EINVAL, pc_flight_fill(c, "k", 1, 0, &v, 1000, 0));
    TRY(PC_ECONFLICT, pc_flight_release(c, "k", 1, 42));
    TRY(PC_EINVAL, pc_setbit(c, "k", 1, UINT64_C(1) << 32, 1, NULL));
    TRY(PC_EINVAL, pc_setbit(c, "k", 1, 7, 2, NULL));
    TRY(PC_EWRONGTYPE, pc_setbit(c, "s", 1, 7, 1, NULL));
    TRY(PC_EINVAL, pc_bitop(c, 9, "{b}k", 4, bk, 2, NULL));
    TRY(PC_EINVAL, pc_bitop(c, PC_BITOP_NOT, "{b}k", 4, bk, 2, NULL));
    TRY(PC_EWRONGTYPE, pc_bitop(c, PC_BITOP_OR, "{b}k", 4, bk, 2, NULL));
    TRY(PC_EINVAL, pc_bf_reserve(c, "k", 1, 1.5, 100, 0, 0));
    TRY(PC_EINVAL, pc_bf_reserve(c, "k", 1, 0.01, 0, 0, 0));
    TRY(PC_ERANGE, pc_bf_reserve(c, "k", 1, 1e-9, UINT64_C(1) << 40, 0, 0));
    TRY(PC_EEXIST, pc_bf_reserve(c, "s", 1, 0.01, 100, 0, 0));
    TRY(PC_EWRONGTYPE, pc_bf_add(c, "s", 1, "x", 1, NULL));
    TRY(PC_EINVAL, pc_bf_madd(c, "k", 1, &bi, 0, NULL));
    /* issue 17: streams */
    pc_val xfv[2] = {pc_str("f"), pc_str("v")}, xnan[2] = {pc_str("f"), nan_v};
    pc_xid xid0 = pc_xid_make(0, 0), xout, xnext;
    pc_xtrim_opts xlim = {.by = PC_XTRIM_MAXLEN, .limit = 5};
    pc_bytes xk = pc_b("k", 1);
    pc_xentry xe[2];
    size_t xn[2];
    char gname[PC_XNAME_MAX + 1];
    memset(gname, 'g', sizeof gname);
    TRY(PC_ERANGE, pc_xadd(c, "k", 1, PC_XADD_EXPLICIT, xid0, xfv, 1, NULL, 0, &xout));
    TRY(PC_EINVAL, pc_xadd(c, "k", 1, 9, xid0, xfv, 1, NULL, 0, &xout));
    TRY(PC_EINVAL, pc_xadd(c, "k", 1, PC_XADD_AUTO, xid0, xfv, 0, NULL, 0, &xout));
    TRY(PC_ENAN, pc_xadd(c, "k", 1, PC_XADD_AUTO, xid0, xnan, 1, NULL, 0, &xout));
    TRY(PC_EINVAL, pc_xadd(c, "k", 1, PC_XADD_AUTO, xid0, xfv, 1, &xlim, 0, &xout));
    TRY(PC_EWRONGTYPE, pc_xadd(c, "s", 1, PC_XADD_AUTO, xid0, xfv, 1, NULL, 0, &xout));
    TRY(PC_EINVAL, pc_xtrim(c, "k", 1, NULL, &u));
    TRY(PC_EINVAL, pc_xdel(c, "k", 1, NULL, 1, &u));
    TRY(PC_EINVAL, pc_xdel(c, "k", 1, &xid0, 0, &u));
    TRY(PC_ENOTFOUND, pc_xgroup_create(c, "k", 1, "g", 1, NULL, -1, 0));
    TRY(PC_EINVAL, pc_xgroup_create(c, "k", 1, gname, sizeof gname, NULL, -1, PC_XGROUP_MKSTREAM));
    TRY(PC_EWRONGTYPE, pc_xgroup_create(c, "l", 1, "g", 1, NULL, -1, PC_XGROUP_MKSTREAM));
    TRY(PC_ENOTFOUND, pc_xreadgroup(c, "g", 1, "c", 1, &xk, NULL, 1, 1, 0, 0, xe, 2, xn));
    TRY(PC_EINVAL, pc_xreadgroup(c, "g", 1, "", 0, &xk, NULL, 1, 1, 0, 0, xe, 2, xn));
    TRY(PC_EINVAL, pc_xack(c, "k", 1, "g", 1, &xid0, 0, &u));
    TRY(PC_ENOTFOUND, pc_xclaim(c, "k", 1, "g", 1, "c", 1, 0, &xid0, 1, NULL, xe, 2, xn));
    TRY(PC_EINVAL, pc_xautoclaim(c, "k", 1, "g", 1, "c", 1, 0, xid0, 0, false, &xnext, xe, 2, xn,
                                 NULL, 0, NULL));
    TRY(PC_EINVAL, pc_xread_wait(c, &xk, &xid0, 1, 1, 0, xe, 2, xn));
    if (pc_read_begin(c, &r) == 0) {
        TRY(PC_EWRONGTYPE, pc_getbit(r, "s", 1, 0, &bits));
        TRY(PC_EINVAL, pc_bitpos(r, "k", 1, 2, 0, -1, 0, &i64));
        TRY(PC_EWRONGTYPE, pc_bf_exists(r, "l", 1, "x", 1, &bits));
        TRY(PC_EWRONGTYPE, pc_flight_get(r, "n", 1, &fl));
        TRY(PC_EWRONGTYPE, pc_xrange(r, "s", 1, xid0, pc_xid_max(), 0, xe, 2, xn));
        TRY(PC_EINVAL, pc_xrange(r, "k", 1, xid0, pc_xid_max(), 99, xe, 2, xn));
        TRY(PC_ENOTFOUND, pc_xinfo_groups(r, "k", 1, NULL, 0, xn));
        TRY(PC_EINVAL,
            pc_xpending(r, "k", 1, "", 0, xid0, pc_xid_max(), 0, 0, NULL, 0, NULL, 0, xn));
        TRY(PC_EINVAL,
            pc_xpending(r, "k", 1, "g", 1, xid0, pc_xid_max(), 8, 0, NULL, 0, NULL, 0, xn));
        TRY(PC_EINVAL, pc_xrange(r, "k", 1, xid0, pc_xid_max(), 0, NULL, 2, xn));
        TRY(PC_EINVAL, pc_xinfo_consumers(r, "k", 1, "g", 1, NULL, 0, NULL));
        pc_read_end(r);
    }
    /* issue 17: sorted sets */
    pc_zentry ze = {pc_str("m"), NAN}, zo[2];
    pc_zrange_spec zs;
    pc_zrange_spec_init(&zs);
    double zsc;
    TRY(PC_ENAN, pc_zadd(c, "k", 1, &ze, 1, 0, &u));
    ze.score = 1;
    TRY(PC_EINVAL, pc_zadd(c, "k", 1, &ze, 1, PC_ZADD_NX | PC_ZADD_GT, &u));
    TRY(PC_EINVAL, pc_zadd(c, "k", 1, &ze, 0, 0, &u));
    ze.member.kind = PC_NONE;
    TRY(PC_EINVAL, pc_zadd(c, "k", 1, &ze, 1, 0, &u));
    ze.member = pc_str("m");
    TRY(PC_EWRONGTYPE, pc_zadd(c, "s", 1, &ze, 1, 0, &u));
    TRY(PC_ENAN, pc_zincrby(c, "k", 1, &ze.member, NAN, &zsc));
    TRY(PC_EINVAL, pc_zrem(c, "k", 1, &ze.member, 0, &u));
    TRY(PC_EWRONGTYPE, pc_zpopmin(c, "l", 1, 2, zo, &n));
    zs.count = 5; /* LIMIT by index */
    TRY(PC_EINVAL, pc_zremrange(c, "k", 1, &zs, &u));
    zs.count = -1;
    zs.by = PC_ZBY_SCORE;
    zs.min.score = NAN;
    TRY(PC_ENAN, pc_zremrange(c, "k", 1, &zs, &u));
    zs.min.score = 0;
    zs.by = 5;
    TRY(PC_EINVAL, pc_zrangestore(c, "{b}k", 4, "{b}s", 4, &zs, &u));
    zs.by = PC_ZBY_LEX;
    zs.min.flags = PC_ZB_MINUS | PC_ZB_EXCL;
    TRY(PC_EINVAL, pc_zrangestore(c, "{b}k", 4, "{b}s", 4, &zs, &u));
    pc_zrange_spec_init(&zs);
    TRY(PC_EWRONGTYPE, pc_zrangestore(c, "{b}k", 4, "{b}s", 4, &zs, &u));
    TRY(PC_EWRONGTYPE, pc_zunionstore(c, "{b}k", 4, bk, 2, NULL, PC_ZAGG_SUM, &u));
    TRY(PC_EINVAL, pc_zunionstore(c, "{b}k", 4, bk, 2, NULL, 3, &u));
    TRY(PC_EINVAL, pc_zinterstore(c, "{b}k", 4, bk, 0, NULL, PC_ZAGG_SUM, &u));
    TRY(PC_EINVAL, pc_bzpopmin(c, bk, 2, 0, NULL, zo));
    if (pc_read_begin(c, &r) == 0) {
        pc_cursor zc = PC_CURSOR_INIT;
        pc_zbound lo = {NAN, {.kind = PC_NONE}, 0}, hi = {1, {.kind = PC_NONE}, 0};
        TRY(PC_EWRONGTYPE, pc_zscore(r, "s", 1, &ze.member, &zsc));
        TRY(PC_EWRONGTYPE, pc_zrank(r, "l", 1, &ze.member, false, &u, NULL));
        TRY(PC_ENAN, pc_zcount(r, "k", 1, &lo, &hi, &u));
        zs.rev = true;
        zs.offset = 3;
        TRY(PC_EINVAL, pc_zrange(r, "k", 1, &zs, &zc, zo, 2, &n));
        TRY(PC_EINVAL, pc_zrange(r, "k", 1, NULL, &zc, zo, 2, &n));
        TRY(PC_EINVAL, pc_zrange(r, "k", 1, &zs, NULL, zo, 2, &n));
        TRY(PC_EINVAL, pc_zcount(r, "k", 1, &hi, NULL, &u));
        TRY(PC_EINVAL, pc_zcard(r, "k", 1, NULL));
        TRY(PC_EINVAL, pc_zmscore(r, "k", 1, &ze.member, 0, &zsc, NULL));
        TRY(PC_EINVAL, pc_zrank(r, "k", 1, &ze.member, false, NULL, NULL));
        pc_read_end(r);
    }
    pc_batch_begin(c);
    TRY(PC_ESTATE, pc_batch_begin(c));
    TRY(PC_ESTATE, pc_qpop_wait(c, "q", 1, 1, 100, &out, &n));
    TRY(PC_ESTATE, pc_xreadgroup(c, "g", 1, "c", 1, &xk, NULL, 1, 1, 0, 0, xe, 2, xn));
    TRY(PC_ESTATE, pc_bzpopmax(c, bk, 1, 100, NULL, zo));
    pc_discard(c);
    pc_txn_begin(c);
    pc_set(c, "k", 1, &v, 0, 0);
    TRY(PC_EKEY, pc_set(c, "", 0, &v, 0, 0));
    TRY(PC_EKEY, pc_txn_commit(c, NULL)); /* refused when queued: nothing applies */
    if (pc_read_begin(c, &r) == 0) {
        TRY(PC_EBUSY, pc_read_begin(c, &r2));
        TRY(PC_EWRONGTYPE, pc_lrange(r, "s", 1, 0, -1, &out, 1, &n));
        TRY(PC_EINVAL, pc_scan(r, "*", &cur, NULL, 4, &n));
        TRY(PC_EKEY, pc_get(r, big, 251, &out));
        uint64_t pos;
        TRY(PC_EINVAL, pc_lpos(r, "l", 1, &v, 0, 0, &pos, 1, &n));
        TRY(PC_EKEY, pc_exists_keys(r, two, 2, &u));
        TRY(PC_EWRONGTYPE, pc_srandmember(r, "s", 1, 1, &out, 1, &n));
        cur.started = 1;
        cur.len = 999;
        TRY(PC_EINVAL, pc_scan(r, "*", &cur, (pc_bytes[1]){{0}}, 1, &n));
        pc_read_end(r);
        TRY(PC_EINVAL, pc_get(r, "s", 1, &out)); /* an ended read */
    }
    /* A transaction one write over PC_TXN_MAX: refused when queued.  In an
     * embedded store of its own with the default largest value: under this
     * daemon's --max-value 1M, PC_TXN_MAX writes exceed the largest request
     * (PC_ETOOBIG) before they reach the count. */
    char tdir[] = "/dev/shm/pcbadapi-XXXXXX";
    pc_client *e = NULL;
    pc_options eo;
    pc_options_init(&eo);
    eo.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC;
    eo.map_size = 64u << 20;
    if (!mkdtemp(tdir) || pc_connect(tdir, &eo, &e) != 0) {
        fprintf(stderr, "badapi: cannot open an embedded store in %s\n", tdir);
        bad = 1;
    } else {
        pc_txn_begin(e);
        for (long i = 0; i < PC_TXN_MAX; i++)
            if (pc_incrby(e, "t", 1, 1, NULL) != 0) {
                fprintf(stderr, "badapi: write %ld of a transaction was refused\n", i);
                bad = 1;
                break;
            }
        TRY_ON(e, PC_ETXNSIZE, pc_incrby(e, "t", 1, 1, NULL)); /* write PC_TXN_MAX + 1 */
        TRY_ON(e, PC_ETXNSIZE, pc_txn_commit(e, NULL));
        if (pc_read_begin(e, &r) == 0) {
            if (pc_get(r, "t", 1, &out) != PC_ENOTFOUND) {
                fprintf(stderr, "badapi: a refused transaction applied\n");
                bad = 1;
            }
            pc_read_end(r);
        }
        pc_close(e);
        e = NULL;
    }
    char rm[64];
    snprintf(rm, sizeof rm, "rm -rf %s", tdir);
    if (system(rm) != 0)
        fprintf(stderr, "badapi: could not remove %s\n", tdir);
    /* A client set to NULL after pc_close (as pycache.h says to). */
    TRY_ON(NULL, PC_EINVAL, pc_set(NULL, "k", 1, &v, 0, 0));
    TRY_ON(NULL, PC_EINVAL, pc_read_begin(NULL, &r2));
    /* Nothing changed: the keys are as badinput.sh left them. */
    if (pc_read_begin(c, &r) == 0) {
        uint64_t len = 0;
        if (pc_get(r, "s", 1, &out) || out.kind != PC_BYTES || out.s.len != 5 ||
            memcmp(out.s.ptr, "hello", 5) != 0 || pc_get(r, "n", 1, &out) || out.kind != PC_INT ||
            out.i != 5 || pc_llen(r, "l", 1, &len) || len != 2 ||
            pc_get(r, "k", 1, &out) != PC_ENOTFOUND || pc_get(r, "{a}1", 4, &out) != PC_ENOTFOUND ||
            pc_bitlen(r, "k", 1, &len) != PC_ENOTFOUND || pc_zcard(r, "k", 1, &len) || len != 0) {
            fprintf(stderr, "badapi: a refused call changed the store\n");
            bad = 1;
        }
        pc_read_end(r);
    }
    pc_close(c);
    free(huge);
    return bad;
}
