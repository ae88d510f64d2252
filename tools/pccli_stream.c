/*
 * pccli_stream.c - pccli's stream commands (issue 17), with Redis's names
 * and arguments: xadd, xlen, xrange, xrevrange, xread, xdel, xtrim, xgroup,
 * xreadgroup, xack, xpending, xclaim, xautoclaim, xinfo.  IDs print as
 * "ms-seq"; an entry as ["ms-seq",[field,value,...]] (compact JSON, as the
 * other collections print).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pccli.h"

#define XMAX 1024 /* entries per library call */

/* ---- IDs ---- */

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

static bool xid_next(pc_xid id, pc_xid *out)
{
    if (id.seq != UINT64_MAX)
        *out = pc_xid_make(id.ms, id.seq + 1);
    else if (id.ms != UINT64_MAX)
        *out = pc_xid_make(id.ms + 1, 0);
    else
        return false;
    return true;
}

/* "ms-seq", or "ms" (seq: dflt); *star (may be NULL) takes "ms-*". */
static bool parse_xid(const char *s, size_t n, uint64_t dflt, pc_xid *id, bool *star)
{
    const char *dash = memchr(s, '-', n);
    if (star)
        *star = false;
    if (!dash) {
        id->seq = dflt;
        return parse_u64(s, n, &id->ms);
    }
    size_t a = (size_t)(dash - s);
    if (!parse_u64(s, a, &id->ms))
        return false;
    if (star && n - a - 1 == 1 && dash[1] == '*') {
        *star = true;
        id->seq = 0;
        return true;
    }
    return parse_u64(dash + 1, n - a - 1, &id->seq);
}

/* A range bound (argument i): "-", "+", "(ID", "ID", "ms". */
static int arg_bound(cli *x, int i, bool end, pc_xid *id, bool *excl)
{
    const char *s = x->av[i];
    size_t n = x->al[i];
    *excl = false;
    if (n == 1 && (s[0] == '-' || s[0] == '+')) {
        *id = s[0] == '-' ? pc_xid_make(0, 0) : pc_xid_max();
        return 0;
    }
    if (n > 1 && s[0] == '(') {
        *excl = true;
        s++;
        n--;
    }
    if (!parse_xid(s, n, end ? UINT64_MAX : 0, id, NULL))
        return cli_err(x, "invalid stream ID: %s", x->av[i]);
    return 0;
}

static void print_id(pc_xid id)
{
    printf("\"%" PRIu64 "-%" PRIu64 "\"", id.ms, id.seq);
}

/* An entry: ["ms-seq",[f,v,...]] (null pairs when deleted). */
static int print_entry(const pc_xentry *e)
{
    putchar('[');
    print_id(e->id);
    putchar(',');
    if (e->deleted) {
        fputs("null]", stdout);
        return 0;
    }
    pc_val *fv = malloc((2 * e->npairs + 1) * sizeof *fv);
    size_t n;
    int rc = fv ? pc_xentry_pairs(e, fv, 2 * e->npairs, &n) : PC_ENOMEM;
    if (!rc) {
        int state = 0;
        out_vals(fv, 2 * n, &state);
        out_open(&state, '[');
        putchar(']');
    }
    free(fv);
    putchar(']');
    return rc;
}

static int print_entries(const pc_xentry *e, size_t n, int *state)
{
    out_open(state, '[');
    for (size_t i = 0; i < n; i++) {
        out_next(state);
        int rc = print_entry(&e[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* A trim clause at argument *i: MAXLEN|MINID [=|~] THRESHOLD [LIMIT N].
 * Returns 0 with *i past it (nothing there: t->by stays NONE), or EX_ERR. */
static int arg_trim(cli *x, int *i, int argc, pc_xtrim_opts *t)
{
    if (*i >= argc || !(arg_is(x, *i, "maxlen") || arg_is(x, *i, "minid")))
        return 0;
    bool minid = arg_is(x, *i, "minid");
    (*i)++;
    if (*i < argc && (arg_is(x, *i, "=") || arg_is(x, *i, "~")))
        t->approx = arg_is(x, (*i)++, "~");
    if (*i >= argc)
        return cli_usage(x);
    t->by = minid ? PC_XTRIM_MINID : PC_XTRIM_MAXLEN;
    if (minid) {
        if (!parse_xid(x->av[*i], x->al[*i], 0, &t->minid, NULL))
            return cli_err(x, "invalid stream ID: %s", x->av[*i]);
    } else {
        int64_t m;
        int ex = arg_min(x, "MAXLEN", *i, 0, &m);
        if (ex)
            return ex;
        t->maxlen = (uint64_t)m;
    }
    (*i)++;
    if (*i + 1 < argc && arg_is(x, *i, "limit")) {
        int64_t l;
        int ex = arg_min(x, "LIMIT", *i + 1, 0, &l);
        if (ex)
            return ex;
        if (!t->approx)
            return cli_err(x, "syntax error, LIMIT cannot be used without the special ~ option");
        t->limit = l ? (uint64_t)l : 0;
        *i += 2;
    } else if (t->approx) {
        t->limit = 10000; /* Redis's default: 100 * stream-node-max-entries */
    }
    return 0;
}

/* ---- xadd, xlen, xrange, xdel, xtrim ---- */

/* xadd KEY [NOMKSTREAM] [MAXLEN|MINID [=|~] N [LIMIT N]] *|ID FIELD VALUE [FIELD VALUE ...] */
int pccli_xadd(cli *x, int argc, char **argv)
{
    (void)argv;
    int i = 1, ex;
    unsigned flags = 0;
    pc_xtrim_opts t = {0};
    for (;;) {
        if (i < argc && arg_is(x, i, "nomkstream")) {
            flags |= PC_XADD_NOMKSTREAM;
            i++;
        } else if (i < argc && (arg_is(x, i, "maxlen") || arg_is(x, i, "minid"))) {
            if ((ex = arg_trim(x, &i, argc, &t)))
                return ex;
        } else {
            break;
        }
    }
    if (i >= argc || (argc - i - 1) < 2 || (argc - i - 1) % 2)
        return cli_err(x, "wrong number of arguments: an ID, then FIELD VALUE pairs");
    pc_xid id = {0, 0};
    int mode = PC_XADD_AUTO;
    bool star;
    if (!(x->al[i] == 1 && x->av[i][0] == '*')) {
        if (!parse_xid(x->av[i], x->al[i], 0, &id, &star))
            return cli_err(x, "invalid stream ID: %s", x->av[i]);
        mode = star ? PC_XADD_AUTOSEQ : PC_XADD_EXPLICIT;
    }
    i++;
    size_t np = (size_t)(argc - i) / 2;
    pc_val *fv;
    if ((ex = arg_vals(x, i, 2 * (int)np, &fv)))
        return ex;
    pc_xid out;
    int rc = pc_xadd(x->c, ARG(0), mode, id, fv, np, t.by ? &t : NULL, flags, &out);
    if (rc == PC_ERANGE)
        return cli_err(x, "The ID specified in XADD is equal or smaller than the target stream "
                          "top item (or is 0-0)");
    if (rc)
        return cli_fail(x, rc);
    if (out.ms == 0 && out.seq == 0)
        return out_missing(x);
    printf(x->json ? "\"%" PRIu64 "-%" PRIu64 "\"\n" : "%" PRIu64 "-%" PRIu64 "\n", out.ms,
           out.seq);
    return EX_DONE;
}

int pccli_xlen(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_xlen);
}

/* xrange KEY START END [COUNT N] / xrevrange KEY END START [COUNT N] */
int pccli_xrange(cli *x, int argc, char **argv)
{
    (void)argv;
    bool rev = x->cmd->name[2] == 'e'; /* xrevrange */
    pc_xid lo, hi;
    bool elo, ehi;
    int64_t count = -1;
    int ex;
    if ((ex = arg_bound(x, rev ? 2 : 1, false, &lo, &elo)) ||
        (ex = arg_bound(x, rev ? 1 : 2, true, &hi, &ehi)))
        return ex;
    if (argc == 5 && arg_is(x, 3, "count")) {
        if ((ex = arg_i64(x, "COUNT", 4, &count)))
            return ex;
    } else if (argc != 3) {
        return cli_usage(x);
    }
    pc_read *r;
    if ((ex = read_begin(x, &r)))
        return ex;
    static pc_xentry e[XMAX];
    unsigned fl = (rev ? PC_XRANGE_REV : 0) | (elo ? PC_XRANGE_START_EXCL : 0) |
                  (ehi ? PC_XRANGE_END_EXCL : 0);
    int state = 0, rc = 0;
    uint64_t left = count < 0 ? UINT64_MAX : (uint64_t)count;
    while (left) {
        size_t n, want = left < XMAX ? (size_t)left : XMAX;
        if ((rc = pc_xrange(r, ARG(0), lo, hi, fl, e, want, &n)) ||
            (rc = print_entries(e, n, &state)))
            break;
        left -= n;
        if (n < want)
            break;
        if (rev) {
            hi = e[n - 1].id;
            fl |= PC_XRANGE_END_EXCL;
        } else {
            lo = e[n - 1].id;
            fl |= PC_XRANGE_START_EXCL;
        }
    }
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    out_close(&state, '[', ']');
    return EX_DONE;
}

/* Arguments from i on as IDs (ms alone: ms-0). */
static int arg_ids(cli *x, int i, int n, pc_xid **out)
{
    pc_xid *ids = cli_alloc(x, (size_t)n, sizeof *ids);
    if (!ids)
        return cli_fail(x, PC_ENOMEM);
    for (int k = 0; k < n; k++)
        if (!parse_xid(x->av[i + k], x->al[i + k], 0, &ids[k], NULL))
            return cli_err(x, "invalid stream ID: %s", x->av[i + k]);
    *out = ids;
    return 0;
}

int pccli_xdel(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_xid *ids;
    uint64_t n;
    int ex = arg_ids(x, 1, argc - 1, &ids);
    if (ex)
        return ex;
    int rc = pc_xdel(x->c, ARG(0), ids, (size_t)argc - 1, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

int pccli_xtrim(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_xtrim_opts t = {0};
    int i = 1, ex = arg_trim(x, &i, argc, &t);
    if (ex)
        return ex;
    if (t.by == PC_XTRIM_NONE || i != argc)
        return cli_usage(x);
    uint64_t n;
    int rc = pc_xtrim(x->c, ARG(0), &t, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* ---- reads of several streams ---- */

/* [COUNT N] [BLOCK MS] [NOACK] STREAMS KEY... ID... from argument i. */
typedef struct xread_args {
    int64_t count, block;
    bool noack;
    int nkeys, at; /* keys at argument at, IDs after them */
} xread_args;

static int arg_xread(cli *x, int i, int argc, bool group, xread_args *a)
{
    int ex;
    a->count = 0;
    a->block = -1;
    a->noack = false;
    for (; i < argc; i++) {
        if (arg_is(x, i, "count") && i + 1 < argc) {
            if ((ex = arg_min(x, "COUNT", ++i, 0, &a->count)))
                return ex;
        } else if (arg_is(x, i, "block") && i + 1 < argc) {
            if ((ex = arg_min(x, "BLOCK", ++i, 0, &a->block)))
                return ex;
        } else if (group && arg_is(x, i, "noack")) {
            a->noack = true;
        } else if (arg_is(x, i, "streams")) {
            break;
        } else {
            return cli_usage(x);
        }
    }
    int left = argc - i - 1;
    if (i >= argc || left < 2 || left % 2)
        return cli_err(x,
                       "Unbalanced '%s' list of streams: for each stream key an ID%s must be "
                       "specified",
                       group ? "xreadgroup" : "xread", group ? " or '>'" : " or '$'");
    a->nkeys = left / 2;
    a->at = i + 1;
    return 0;
}

/* The IDs of an xread: "$" (xread) or ">" (xreadgroup) is pc_xid_max. */
static int arg_read_ids(cli *x, const xread_args *a, char special, pc_xid **out)
{
    pc_xid *ids = cli_alloc(x, (size_t)a->nkeys, sizeof *ids);
    if (!ids)
        return cli_fail(x, PC_ENOMEM);
    for (int k = 0; k < a->nkeys; k++) {
        int i = a->at + a->nkeys + k;
        if (x->al[i] == 1 && x->av[i][0] == special)
            ids[k] = pc_xid_max();
        else if (!parse_xid(x->av[i], x->al[i], 0, &ids[k], NULL))
            return cli_err(x, "invalid stream ID: %s", x->av[i]);
    }
    *out = ids;
    return 0;
}

/* [[key,[entries]],...] for the streams with entries; nil when none. */
static int print_multi(cli *x, const xread_args *a, const pc_xentry *e, const size_t *nper)
{
    int state = 0;
    size_t at = 0;
    for (int k = 0; k < a->nkeys; k++) {
        if (!nper[k])
            continue;
        out_open(&state, '[');
        out_next(&state);
        putchar('[');
        pcjson_write_str(stdout, x->av[a->at + k], x->al[a->at + k]);
        putchar(',');
        int s2 = 0;
        int rc = print_entries(e + at, nper[k], &s2);
        if (rc)
            return cli_fail(x, rc);
        putchar(']');
        putchar(']');
        at += nper[k];
    }
    if (!state)
        return out_missing(x);
    out_close(&state, '[', ']');
    return EX_DONE;
}

/* xread [COUNT N] [BLOCK MS] STREAMS KEY... ID... */
int pccli_xread(cli *x, int argc, char **argv)
{
    (void)argv;
    xread_args a;
    pc_xid *ids;
    int ex = arg_xread(x, 0, argc, false, &a);
    if (ex || (ex = arg_read_ids(x, &a, '$', &ids)))
        return ex;
    pc_bytes *keys;
    if ((ex = arg_bytes(x, a.at, a.nkeys, 1, &keys)))
        return ex;
    size_t max = XMAX, *nper = cli_alloc(x, (size_t)a.nkeys, sizeof *nper);
    static pc_xentry e[XMAX];
    if (!nper)
        return cli_fail(x, PC_ENOMEM);
    int rc;
    if (a.block >= 0) {
        /* BLOCK 0 waits for ever in Redis: here, as long as a TTL may be */
        rc = pc_xread_wait(x->c, keys, ids, (size_t)a.nkeys, (size_t)a.count,
                           a.block ? a.block : PC_TTL_MAX_MS, e, max, nper);
        if (rc == PC_ETIMEDOUT)
            return out_missing(x);
        return rc ? cli_fail(x, rc) : print_multi(x, &a, e, nper);
    }
    pc_read *r;
    if ((ex = read_begin(x, &r)))
        return ex;
    rc = pc_xread(r, keys, ids, (size_t)a.nkeys, (size_t)a.count, e, max, nper);
    ex = rc ? cli_fail(x, rc) : print_multi(x, &a, e, nper);
    pc_read_end(r);
    return ex;
}

/* xreadgroup GROUP G C [COUNT N] [BLOCK MS] [NOACK] STREAMS KEY... ID... */
int pccli_xreadgroup(cli *x, int argc, char **argv)
{
    (void)argv;
    if (!arg_is(x, 0, "group"))
        return cli_usage(x);
    xread_args a;
    pc_xid *ids;
    int ex = arg_xread(x, 3, argc, true, &a);
    if (ex || (ex = arg_read_ids(x, &a, '>', &ids)))
        return ex;
    pc_bytes *keys;
    if ((ex = arg_bytes(x, a.at, a.nkeys, 1, &keys)))
        return ex;
    size_t *nper = cli_alloc(x, (size_t)a.nkeys, sizeof *nper);
    static pc_xentry e[XMAX];
    if (!nper)
        return cli_fail(x, PC_ENOMEM);
    int rc = pc_xreadgroup(x->c, ARG(1), ARG(2), keys, ids, (size_t)a.nkeys, (size_t)a.count,
                           a.block < 0 ? 0
                           : a.block   ? a.block
                                       : PC_TTL_MAX_MS,
                           a.noack ? PC_XREAD_NOACK : 0, e, XMAX, nper);
    if (rc == PC_ETIMEDOUT)
        return out_missing(x);
    if (rc == PC_ENOTFOUND)
        return cli_err(x, "NOGROUP No such key or consumer group '%.*s'", (int)x->al[1], x->av[1]);
    return rc ? cli_fail(x, rc) : print_multi(x, &a, e, nper);
}

/* ---- groups ---- */

/* [ENTRIESREAD N] / [MKSTREAM] options of xgroup create and setid. */
static int xgroup_opts(cli *x, int i, int argc, bool create, int64_t *er, unsigned *flags)
{
    *er = -1;
    *flags = 0;
    for (; i < argc; i++) {
        if (create && arg_is(x, i, "mkstream")) {
            *flags |= PC_XGROUP_MKSTREAM;
        } else if (arg_is(x, i, "entriesread") && i + 1 < argc) {
            int ex = arg_min(x, "ENTRIESREAD", ++i, -1, er);
            if (ex)
                return ex;
        } else {
            return cli_usage(x);
        }
    }
    return 0;
}

/* xgroup CREATE KEY G ID|$ [MKSTREAM] [ENTRIESREAD N] | SETID KEY G ID|$
 * [ENTRIESREAD N] | DESTROY KEY G | CREATECONSUMER KEY G C | DELCONSUMER KEY G C */
int pccli_xgroup(cli *x, int argc, char **argv)
{
    (void)argv;
    int ex, rc;
    if (argc < 3)
        return cli_usage(x);
    bool create = arg_is(x, 0, "create");
    if (create || arg_is(x, 0, "setid")) {
        if (argc < 4)
            return cli_usage(x);
        pc_xid id;
        bool dollar = x->al[3] == 1 && x->av[3][0] == '$';
        if (!dollar && !parse_xid(x->av[3], x->al[3], 0, &id, NULL))
            return cli_err(x, "invalid stream ID: %s", x->av[3]);
        int64_t er;
        unsigned flags;
        if ((ex = xgroup_opts(x, 4, argc, create, &er, &flags)))
            return ex;
        rc = create ? pc_xgroup_create(x->c, ARG(1), ARG(2), dollar ? NULL : &id, er, flags)
                    : pc_xgroup_setid(x->c, ARG(1), ARG(2), dollar ? NULL : &id, er);
        if (rc == PC_EEXIST)
            return cli_err(x, "BUSYGROUP Consumer Group name already exists");
        if (rc == PC_ENOTFOUND)
            return cli_err(x, create ? "The XGROUP subcommand requires the key to exist; "
                                       "use MKSTREAM to create it"
                                     : "NOGROUP No such key or consumer group");
        return rc ? cli_fail(x, rc) : out_done(x);
    }
    if (arg_is(x, 0, "destroy") && argc == 3) {
        int gone;
        rc = pc_xgroup_destroy(x->c, ARG(1), ARG(2), &gone);
        return rc ? cli_fail(x, rc) : out_int(x, gone);
    }
    bool cc = arg_is(x, 0, "createconsumer");
    if ((cc || arg_is(x, 0, "delconsumer")) && argc == 4) {
        int created;
        uint64_t pending;
        rc = cc ? pc_xgroup_createconsumer(x->c, ARG(1), ARG(2), ARG(3), &created)
                : pc_xgroup_delconsumer(x->c, ARG(1), ARG(2), ARG(3), &pending);
        if (rc == PC_ENOTFOUND)
            return cli_err(x, "NOGROUP No such key or consumer group");
        return rc ? cli_fail(x, rc) : out_int(x, cc ? created : (int64_t)pending);
    }
    return cli_usage(x);
}

int pccli_xack(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_xid *ids;
    uint64_t n;
    int ex = arg_ids(x, 2, argc - 2, &ids);
    if (ex)
        return ex;
    int rc = pc_xack(x->c, ARG(0), ARG(1), ids, (size_t)argc - 2, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* xpending KEY G | KEY G [IDLE MS] START END COUNT [CONSUMER] */
int pccli_xpending(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_read *r;
    int ex, rc;
    if (argc == 2) {
        pc_xpending_info pi;
        pc_bytes names[PAGE];
        uint64_t counts[PAGE];
        size_t n;
        if ((ex = read_begin(x, &r)))
            return ex;
        rc = pc_xpending_summary(r, ARG(0), ARG(1), &pi, names, counts, PAGE, &n);
        if (!rc) {
            printf("[%" PRIu64 ",", pi.count);
            if (pi.count) {
                print_id(pi.min);
                putchar(',');
                print_id(pi.max);
                putchar(',');
            } else {
                fputs("null,null,", stdout);
            }
            int state = 0;
            for (size_t i = 0; i < n; i++) {
                out_open(&state, '[');
                out_next(&state);
                putchar('[');
                pcjson_write_str(stdout, names[i].ptr, names[i].len);
                printf(",\"%" PRIu64 "\"]", counts[i]);
            }
            if (!state)
                fputs("null", stdout);
            else
                putchar(']');
            puts("]");
        }
        pc_read_end(r);
        if (rc == PC_ENOTFOUND)
            return cli_err(x, "NOGROUP No such key or consumer group");
        return rc ? cli_fail(x, rc) : EX_DONE;
    }
    int i = 2;
    int64_t idle = 0, count;
    if (argc > 3 && arg_is(x, 2, "idle")) {
        if ((ex = arg_min(x, "IDLE", 3, 0, &idle)))
            return ex;
        i = 4;
    }
    if (argc - i != 3 && argc - i != 4)
        return cli_usage(x);
    pc_xid lo, hi;
    bool elo, ehi;
    if ((ex = arg_bound(x, i, false, &lo, &elo)) || (ex = arg_bound(x, i + 1, true, &hi, &ehi)) ||
        (ex = arg_min(x, "COUNT", i + 2, 0, &count)))
        return ex;
    bool cons = argc - i == 4;
    static pc_xpending_entry pe[XMAX];
    size_t n;
    if ((ex = read_begin(x, &r)))
        return ex;
    rc = pc_xpending(r, ARG(0), ARG(1), lo, hi,
                     (elo ? PC_XRANGE_START_EXCL : 0) | (ehi ? PC_XRANGE_END_EXCL : 0), idle,
                     cons ? x->av[i + 3] : NULL, cons ? x->al[i + 3] : 0, pe,
                     count < XMAX ? (size_t)count : XMAX, &n);
    if (!rc) {
        int state = 0;
        for (size_t k = 0; k < n; k++) {
            out_open(&state, '[');
            out_next(&state);
            putchar('[');
            print_id(pe[k].id);
            putchar(',');
            pcjson_write_str(stdout, pe[k].consumer.ptr, pe[k].consumer.len);
            printf(",%" PRId64 ",%" PRIu64 "]", pe[k].idle_ms, pe[k].deliveries);
        }
        out_close(&state, '[', ']');
    }
    pc_read_end(r);
    if (rc == PC_ENOTFOUND)
        return cli_err(x, "NOGROUP No such key or consumer group");
    return rc ? cli_fail(x, rc) : EX_DONE;
}

/* Claimed entries, or their IDs (justid). */
static int print_claimed(const pc_xentry *e, size_t n, bool justid, int *state)
{
    out_open(state, '[');
    for (size_t i = 0; i < n; i++) {
        out_next(state);
        if (justid)
            print_id(e[i].id);
        else if (print_entry(&e[i]))
            return PC_ECORRUPT;
    }
    return 0;
}

/* xclaim KEY G C MIN-IDLE ID... [IDLE MS] [TIME MS] [RETRYCOUNT N] [FORCE] [JUSTID] [LASTID ID] */
int pccli_xclaim(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t min_idle;
    int ex = arg_min(x, "MIN-IDLE-TIME", 3, 0, &min_idle), i = 4;
    if (ex)
        return ex;
    pc_xid *ids = cli_alloc(x, (size_t)argc, sizeof *ids), lastid;
    size_t n = 0;
    if (!ids)
        return cli_fail(x, PC_ENOMEM);
    for (; i < argc && parse_xid(x->av[i], x->al[i], 0, &ids[n], NULL); i++)
        n++;
    if (!n)
        return cli_err(x, "invalid stream ID: %s", i < argc ? x->av[i] : "(none)");
    pc_xclaim_opts o = {.idle_ms = -1, .time_ms = -1, .retrycount = -1};
    for (; i < argc; i++) {
        if (arg_is(x, i, "idle") && i + 1 < argc)
            ex = arg_min(x, "IDLE", ++i, 0, &o.idle_ms);
        else if (arg_is(x, i, "time") && i + 1 < argc)
            ex = arg_min(x, "TIME", ++i, 0, &o.time_ms);
        else if (arg_is(x, i, "retrycount") && i + 1 < argc)
            ex = arg_min(x, "RETRYCOUNT", ++i, 0, &o.retrycount);
        else if (arg_is(x, i, "force"))
            o.force = true;
        else if (arg_is(x, i, "justid"))
            o.justid = true;
        else if (arg_is(x, i, "lastid") && i + 1 < argc) {
            if (!parse_xid(x->av[i + 1], x->al[i + 1], 0, &lastid, NULL))
                return cli_err(x, "invalid stream ID: %s", x->av[i + 1]);
            o.lastid = &lastid;
            i++;
        } else
            return cli_usage(x);
        if (ex)
            return ex;
    }
    static pc_xentry e[XMAX];
    size_t got;
    int rc = pc_xclaim(x->c, ARG(0), ARG(1), ARG(2), min_idle, ids, n, &o, e, XMAX, &got);
    if (rc == PC_ENOTFOUND)
        return cli_err(x, "NOGROUP No such key or consumer group");
    if (rc)
        return cli_fail(x, rc);
    int state = 0;
    print_claimed(e, got, o.justid, &state);
    out_close(&state, '[', ']');
    return EX_DONE;
}

/* xautoclaim KEY G C MIN-IDLE START [COUNT N] [JUSTID] */
int pccli_xautoclaim(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t min_idle, count = 100;
    pc_xid start;
    bool excl, justid = false;
    int ex = arg_min(x, "MIN-IDLE-TIME", 3, 0, &min_idle);
    if (ex || (ex = arg_bound(x, 4, false, &start, &excl)))
        return ex;
    if (excl && !xid_next(start, &start))
        return out_missing(x);
    for (int i = 5; i < argc; i++) {
        if (arg_is(x, i, "count") && i + 1 < argc) {
            if ((ex = arg_min(x, "COUNT", ++i, 1, &count)))
                return ex;
        } else if (arg_is(x, i, "justid")) {
            justid = true;
        } else {
            return cli_usage(x);
        }
    }
    if (count > XMAX)
        return cli_err(x, "COUNT must be 1 to %d", XMAX);
    static pc_xentry e[XMAX];
    static pc_xid del[XMAX];
    size_t got, nd;
    pc_xid next;
    int rc = pc_xautoclaim(x->c, ARG(0), ARG(1), ARG(2), min_idle, start, (size_t)count, justid,
                           &next, e, XMAX, &got, del, XMAX, &nd);
    if (rc == PC_ENOTFOUND)
        return cli_err(x, "NOGROUP No such key or consumer group");
    if (rc)
        return cli_fail(x, rc);
    putchar('[');
    print_id(next);
    putchar(',');
    int state = 0;
    print_claimed(e, got, justid, &state);
    out_open(&state, '[');
    fputs("],[", stdout);
    for (size_t i = 0; i < nd; i++) {
        if (i)
            putchar(',');
        print_id(del[i]);
    }
    puts("]]");
    return EX_DONE;
}

/* xinfo STREAM KEY | GROUPS KEY | CONSUMERS KEY G: "name:value" lines for
 * a stream (a JSON object with --json), JSON arrays of objects else. */
int pccli_xinfo(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_read *r;
    int ex, rc;
    if (arg_is(x, 0, "stream") && argc == 2) {
        pc_xinfo xi;
        if ((ex = read_begin(x, &r)))
            return ex;
        rc = pc_xinfo_stream(r, ARG(1), &xi);
        pc_read_end(r);
        if (rc == PC_ENOTFOUND)
            return cli_err(x, "no such key");
        if (rc)
            return cli_fail(x, rc);
        if (x->json)
            printf("{\"length\":%" PRIu64 ",\"last-generated-id\":\"%" PRIu64 "-%" PRIu64
                   "\",\"max-deleted-entry-id\":\"%" PRIu64 "-%" PRIu64
                   "\",\"entries-added\":%" PRIu64 ",\"groups\":%" PRIu64
                   ",\"first-entry-id\":\"%" PRIu64 "-%" PRIu64 "\"}\n",
                   xi.length, xi.last_id.ms, xi.last_id.seq, xi.max_deleted_id.ms,
                   xi.max_deleted_id.seq, xi.entries_added, xi.groups, xi.first_id.ms,
                   xi.first_id.seq);
        else
            printf("length:%" PRIu64 "\nlast-generated-id:%" PRIu64 "-%" PRIu64
                   "\nmax-deleted-entry-id:%" PRIu64 "-%" PRIu64 "\nentries-added:%" PRIu64
                   "\ngroups:%" PRIu64 "\nfirst-entry-id:%" PRIu64 "-%" PRIu64 "\n",
                   xi.length, xi.last_id.ms, xi.last_id.seq, xi.max_deleted_id.ms,
                   xi.max_deleted_id.seq, xi.entries_added, xi.groups, xi.first_id.ms,
                   xi.first_id.seq);
        return EX_DONE;
    }
    if (arg_is(x, 0, "groups") && argc == 2) {
        static pc_xgroup_info gi[XMAX];
        size_t n;
        if ((ex = read_begin(x, &r)))
            return ex;
        rc = pc_xinfo_groups(r, ARG(1), gi, XMAX, &n);
        int state = 0;
        for (size_t i = 0; !rc && i < n; i++) {
            out_open(&state, '[');
            out_next(&state);
            fputs("{\"name\":", stdout);
            pcjson_write_str(stdout, gi[i].name.ptr, gi[i].name.len);
            printf(",\"consumers\":%" PRIu64 ",\"pending\":%" PRIu64 ",\"last-delivered-id\":",
                   gi[i].consumers, gi[i].pending);
            print_id(gi[i].last_delivered);
            if (gi[i].entries_read < 0)
                fputs(",\"entries-read\":null", stdout);
            else
                printf(",\"entries-read\":%" PRId64, gi[i].entries_read);
            if (gi[i].lag < 0)
                fputs(",\"lag\":null}", stdout);
            else
                printf(",\"lag\":%" PRId64 "}", gi[i].lag);
        }
        pc_read_end(r);
        if (rc == PC_ENOTFOUND)
            return cli_err(x, "no such key");
        if (rc)
            return cli_fail(x, rc);
        out_close(&state, '[', ']');
        return EX_DONE;
    }
    if (arg_is(x, 0, "consumers") && argc == 3) {
        static pc_xconsumer_info ci[XMAX];
        size_t n;
        if ((ex = read_begin(x, &r)))
            return ex;
        rc = pc_xinfo_consumers(r, ARG(1), ARG(2), ci, XMAX, &n);
        int state = 0;
        for (size_t i = 0; !rc && i < n; i++) {
            out_open(&state, '[');
            out_next(&state);
            fputs("{\"name\":", stdout);
            pcjson_write_str(stdout, ci[i].name.ptr, ci[i].name.len);
            printf(",\"pending\":%" PRIu64 ",\"idle\":%" PRId64 ",\"inactive\":%" PRId64 "}",
                   ci[i].pending, ci[i].idle_ms, ci[i].inactive_ms);
        }
        pc_read_end(r);
        if (rc == PC_ENOTFOUND)
            return cli_err(x, "NOGROUP No such key or consumer group");
        if (rc)
            return cli_fail(x, rc);
        out_close(&state, '[', ']');
        return EX_DONE;
    }
    return cli_usage(x);
}
