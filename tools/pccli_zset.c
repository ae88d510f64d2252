/*
 * pccli_zset.c - pccli's sorted set commands (issue 17), with Redis's names
 * and arguments.  Scores print as Redis prints them ("1.5", "inf",
 * "-inf"); with --json finite scores are numbers and infinite ones the
 * strings "inf" and "-inf".  Lists (ZRANGE, ZPOPMIN, ...) are JSON arrays:
 * members, or with WITHSCORES member, score pairs flat, as Redis's reply.
 * The handlers are pccli.h's pccli_z*; their rows are in pccli_cmds.c's
 * table.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pccli.h"

#define B(i) pc_b(x->av[(i)], x->al[(i)])

/* A score as Redis writes it. */
static const char *score_text(double d, char *buf, size_t n)
{
    if (isinf(d))
        return d > 0 ? "inf" : "-inf";
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return buf;
}

static void put_score(cli *x, double d)
{
    char buf[40];
    const char *s = score_text(d, buf, sizeof buf);
    if (x->json && isinf(d))
        printf("\"%s\"", s);
    else
        fputs(s, stdout);
}

/* A score inside a JSON array: a string as Redis's reply has it, or with
 * --json a number (infinities as strings). */
static void put_score_item(cli *x, double d)
{
    char buf[40];
    if (x->json)
        put_score(x, d);
    else
        printf("\"%s\"", score_text(d, buf, sizeof buf));
}

static int out_score(cli *x, double d)
{
    put_score(x, d);
    putchar('\n');
    return EX_DONE;
}

/* A score argument: a decimal, "inf", "+inf" or "-inf"; with excl, a
 * leading "(" makes the bound exclusive (*open). */
static int arg_score(cli *x, const char *what, int i, bool excl, double *out, bool *open)
{
    const char *s = x->av[i];
    if (open)
        *open = false;
    if (excl && *s == '(') {
        *open = true;
        s++;
    }
    if (memchr(x->av[i], 0, x->al[i]))
        return cli_err(x, "%s is not a number", what);
    if (!strcasecmp(s, "inf") || !strcasecmp(s, "+inf")) {
        *out = INFINITY;
        return 0;
    }
    if (!strcasecmp(s, "-inf")) {
        *out = -INFINITY;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || isspace((unsigned char)*s) || *end || strpbrk(s, "xXnN") || isinf(v) || isnan(v))
        return cli_err(x, "%s is not a number: '%s'", what, x->av[i]);
    *out = v;
    return 0;
}

/* A lex bound: "-", "+", "[member", "(member". */
static int arg_lex(cli *x, int i, pc_zbound *b)
{
    memset(b, 0, sizeof *b);
    const char *s = x->av[i];
    if (x->al[i] == 1 && (*s == '-' || *s == '+')) {
        b->flags = *s == '-' ? PC_ZB_MINUS : PC_ZB_PLUS;
        return 0;
    }
    if (x->al[i] < 1 || (*s != '[' && *s != '('))
        return cli_err(x, "a lex bound is -, +, [MEMBER or (MEMBER: '%s'", s);
    b->flags = *s == '(' ? PC_ZB_EXCL : 0;
    b->member = pc_mem(s + 1, x->al[i] - 1);
    return 0;
}

static int arg_bound(cli *x, int by, int i, pc_zbound *b)
{
    if (by == PC_ZBY_LEX)
        return arg_lex(x, i, b);
    bool open;
    memset(b, 0, sizeof *b);
    int ex = arg_score(x, "a score bound", i, true, &b->score, &open);
    b->flags = open ? PC_ZB_EXCL : 0;
    return ex;
}

/* ---- writes ---- */

/* ZADD KEY [NX|XX] [GT|LT] [CH] [INCR] SCORE MEMBER [SCORE MEMBER ...] */
int pccli_zadd(cli *x, int argc, char **argv)
{
    (void)argv;
    unsigned flags = 0;
    bool incr = false;
    int i = 1;
    for (; i < argc; i++) {
        if (arg_is(x, i, "nx"))
            flags |= PC_ZADD_NX;
        else if (arg_is(x, i, "xx"))
            flags |= PC_ZADD_XX;
        else if (arg_is(x, i, "gt"))
            flags |= PC_ZADD_GT;
        else if (arg_is(x, i, "lt"))
            flags |= PC_ZADD_LT;
        else if (arg_is(x, i, "ch"))
            flags |= PC_ZADD_CH;
        else if (arg_is(x, i, "incr"))
            incr = true;
        else
            break;
    }
    int n = argc - i;
    if (n < 2 || n % 2)
        return cli_usage(x);
    if (incr && n != 2)
        return cli_err(x, "INCR option supports a single increment-element pair");
    pc_zentry *e = cli_alloc(x, (size_t)n / 2, sizeof *e);
    if (!e)
        return cli_fail(x, PC_ENOMEM);
    for (int k = 0; k < n / 2; k++) {
        int ex = arg_score(x, "SCORE", i + 2 * k, false, &e[k].score, NULL);
        if (ex || (ex = arg_val(x, i + 2 * k + 1, &e[k].member)))
            return ex;
    }
    if (incr) {
        pc_val s;
        int rc = pc_zadd_incr(x->c, ARG(0), &e[0].member, e[0].score, flags, &s);
        if (rc)
            return cli_fail(x, rc);
        return s.kind == PC_DOUBLE ? out_score(x, s.d) : out_missing(x);
    }
    uint64_t count;
    int rc = pc_zadd(x->c, ARG(0), e, (size_t)n / 2, flags, &count);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)count);
}

/* ZINCRBY KEY INCREMENT MEMBER */
int pccli_zincrby(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    double by, now;
    pc_val m;
    int ex = arg_score(x, "INCREMENT", 1, false, &by, NULL);
    if (ex || (ex = arg_val(x, 2, &m)))
        return ex;
    int rc = pc_zincrby(x->c, ARG(0), &m, by, &now);
    return rc ? cli_fail(x, rc) : out_score(x, now);
}

/* ZREM KEY MEMBER... */
int pccli_zrem(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_val *m = NULL;
    uint64_t n;
    int ex = arg_vals(x, 1, argc - 1, &m);
    if (ex)
        return ex;
    int rc = pc_zrem(x->c, ARG(0), m, (size_t)argc - 1, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

static void put_entries(cli *x, const pc_zentry *e, size_t n, bool scores, int *state)
{
    out_open(state, '[');
    for (size_t i = 0; i < n; i++) {
        out_next(state);
        pcjson_write_val(stdout, &e[i].member);
        if (scores) {
            putchar(',');
            put_score_item(x, e[i].score);
        }
    }
}

/* ZPOPMIN / ZPOPMAX KEY [COUNT]: member, score pairs, a JSON array. */
int pccli_zpop(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t count = 1;
    if (argc == 2) {
        int ex = arg_min(x, "COUNT", 1, 0, &count);
        if (ex)
            return ex;
    }
    bool max = !strcasecmp(x->cmd->name, "zpopmax");
    pc_read *r;
    uint64_t card;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_zcard(r, ARG(0), &card);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    size_t want = (uint64_t)count < card ? (size_t)count : (size_t)card, n = 0;
    pc_zentry *e = want ? cli_alloc(x, want, sizeof *e) : NULL;
    if (want && !e)
        return cli_fail(x, PC_ENOMEM);
    rc = max ? pc_zpopmax(x->c, ARG(0), want, e, &n) : pc_zpopmin(x->c, ARG(0), want, e, &n);
    if (rc)
        return cli_fail(x, rc);
    int state = 0;
    put_entries(x, e, n, true, &state);
    out_close(&state, '[', ']');
    return EX_DONE;
}

/* BZPOPMIN / BZPOPMAX KEY... TIMEOUT: [key, member, score], or nothing
 * (exit 1) at the timeout.  The daemon wakes the wait. */
int pccli_bzpop(cli *x, int argc, char **argv)
{
    (void)argv;
    double s;
    int ex = arg_score(x, "TIMEOUT (seconds)", argc - 1, false, &s, NULL);
    if (ex)
        return ex;
    if (s < 0)
        return cli_err(x, "the timeout must not be negative: '%s'", x->av[argc - 1]);
    int64_t ms = s == 0 || s * 1000 > (double)PC_TTL_MAX_MS ? PC_TTL_MAX_MS : (int64_t)(s * 1000);
    if (ms < 1)
        ms = 1;
    pc_bytes *keys = NULL;
    if ((ex = arg_bytes(x, 0, argc - 1, 1, &keys)))
        return ex;
    pc_bytes key;
    pc_zentry e;
    bool max = !strcasecmp(x->cmd->name, "bzpopmax");
    int rc = max ? pc_bzpopmax(x->c, keys, (size_t)argc - 1, ms, &key, &e)
                 : pc_bzpopmin(x->c, keys, (size_t)argc - 1, ms, &key, &e);
    if (rc == PC_ETIMEDOUT)
        return out_missing(x);
    if (rc)
        return cli_fail(x, rc);
    putchar('[');
    pcjson_write_str(stdout, key.ptr, key.len);
    putchar(',');
    pcjson_write_val(stdout, &e.member);
    putchar(',');
    put_score_item(x, e.score);
    puts("]");
    return EX_DONE;
}

/* ---- ranges ---- */

/* Parse a range: MIN MAX at i, i + 1 (by INDEX, SCORE or LEX), then the
 * options from opt on: BYSCORE BYLEX REV LIMIT WITHSCORES (those allowed). */
typedef struct zr {
    pc_zrange_spec s;
    bool withscores;
} zr;

enum { O_BY = 1, O_REV = 2, O_LIMIT = 4, O_WITHSCORES = 8 };

static int parse_range(cli *x, int argc, int i, int opt, unsigned allowed, int by, bool rev, zr *z)
{
    pc_zrange_spec_init(&z->s);
    z->withscores = false;
    z->s.by = by;
    z->s.rev = rev;
    bool limit = false;
    for (int k = opt; k < argc; k++) {
        if ((allowed & O_BY) && arg_is(x, k, "byscore"))
            z->s.by = PC_ZBY_SCORE;
        else if ((allowed & O_BY) && arg_is(x, k, "bylex"))
            z->s.by = PC_ZBY_LEX;
        else if ((allowed & O_REV) && arg_is(x, k, "rev"))
            z->s.rev = true;
        else if ((allowed & O_WITHSCORES) && arg_is(x, k, "withscores"))
            z->withscores = true;
        else if ((allowed & O_LIMIT) && arg_is(x, k, "limit") && k + 2 < argc) {
            int ex = arg_min(x, "OFFSET", k + 1, 0, &z->s.offset);
            if (ex || (ex = arg_i64(x, "COUNT", k + 2, &z->s.count)))
                return ex;
            limit = true;
            k += 2;
        } else {
            return cli_err(x, "syntax error at '%s'", x->av[k]);
        }
    }
    if (limit && z->s.by == PC_ZBY_INDEX)
        return cli_err(x, "syntax error, LIMIT is only supported in combination with either "
                          "BYSCORE or BYLEX");
    if (z->withscores && z->s.by == PC_ZBY_LEX)
        return cli_err(x, "syntax error, WITHSCORES not supported in combination with BYLEX");
    if (z->s.by == PC_ZBY_INDEX) {
        int ex = arg_i64(x, "START", i, &z->s.start);
        return ex ? ex : arg_i64(x, "STOP", i + 1, &z->s.stop);
    }
    /* Redis takes ZRANGE ... REV's bounds high first. */
    int lo = z->s.rev ? i + 1 : i, hi = z->s.rev ? i : i + 1;
    int ex = arg_bound(x, z->s.by, lo, &z->s.min);
    return ex ? ex : arg_bound(x, z->s.by, hi, &z->s.max);
}

static int print_range(cli *x, pc_bytes key, const zr *z)
{
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_zentry e[PAGE];
    size_t n;
    int state = 0, ex = read_begin(x, &r);
    if (ex)
        return ex;
    while (!cur.done) {
        int rc = pc_zrange(r, key.ptr, key.len, &z->s, &cur, e, PAGE, &n);
        if (rc) {
            pc_read_end(r);
            if (state)
                putchar('\n');
            return cli_fail(x, rc);
        }
        put_entries(x, e, n, z->withscores, &state);
    }
    pc_read_end(r);
    out_close(&state, '[', ']');
    return EX_DONE;
}

/* ZRANGE KEY START STOP [BYSCORE|BYLEX] [REV] [LIMIT OFFSET COUNT] [WITHSCORES],
 * and the older ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
 * ZREVRANGEBYLEX. */
int pccli_zrange(cli *x, int argc, char **argv)
{
    (void)argv;
    const char *nm = x->cmd->name;
    bool rev = !strncasecmp(nm, "zrev", 4);
    int by = strstr(nm, "byscore") ? PC_ZBY_SCORE : strstr(nm, "bylex") ? PC_ZBY_LEX : -1;
    zr z;
    int ex;
    if (!strcasecmp(nm, "zrange"))
        ex = parse_range(x, argc, 1, 3, O_BY | O_REV | O_LIMIT | O_WITHSCORES, PC_ZBY_INDEX, false,
                         &z);
    else if (by < 0) /* zrevrange */
        ex = parse_range(x, argc, 1, 3, O_WITHSCORES, PC_ZBY_INDEX, true, &z);
    else
        ex = parse_range(x, argc, 1, 3, O_LIMIT | (by == PC_ZBY_SCORE ? O_WITHSCORES : 0), by, rev,
                         &z);
    return ex ? ex : print_range(x, B(0), &z);
}

/* ZRANGESTORE DST SRC MIN MAX [BYSCORE|BYLEX] [REV] [LIMIT OFFSET COUNT] */
int pccli_zrangestore(cli *x, int argc, char **argv)
{
    (void)argv;
    zr z;
    uint64_t n;
    int ex = parse_range(x, argc, 2, 4, O_BY | O_REV | O_LIMIT, PC_ZBY_INDEX, false, &z);
    if (ex)
        return ex;
    int rc = pc_zrangestore(x->c, ARG(0), ARG(1), &z.s, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* ZREMRANGEBYRANK / BYSCORE / BYLEX KEY MIN MAX */
int pccli_zremrange(cli *x, int argc, char **argv)
{
    (void)argv;
    const char *nm = x->cmd->name;
    int by = strstr(nm, "byscore") ? PC_ZBY_SCORE : strstr(nm, "bylex") ? PC_ZBY_LEX : PC_ZBY_INDEX;
    zr z;
    uint64_t n;
    int ex = parse_range(x, argc, 1, 3, 0, by, false, &z);
    if (ex)
        return ex;
    int rc = pc_zremrange(x->c, ARG(0), &z.s, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* ZCOUNT / ZLEXCOUNT KEY MIN MAX */
int pccli_zcount(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bool lex = !strcasecmp(x->cmd->name, "zlexcount");
    pc_zbound lo, hi;
    pc_read *r;
    uint64_t n;
    int ex = arg_bound(x, lex ? PC_ZBY_LEX : PC_ZBY_SCORE, 1, &lo);
    if (ex || (ex = arg_bound(x, lex ? PC_ZBY_LEX : PC_ZBY_SCORE, 2, &hi)) ||
        (ex = read_begin(x, &r)))
        return ex;
    int rc = lex ? pc_zlexcount(r, ARG(0), &lo, &hi, &n) : pc_zcount(r, ARG(0), &lo, &hi, &n);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* ---- reads of members ---- */

int pccli_zcard(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_zcard);
}

/* ZSCORE KEY MEMBER: the score, or nothing (exit 1). */
int pccli_zscore(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_val m;
    double s;
    int ex = arg_val(x, 1, &m);
    if (ex || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_zscore(r, ARG(0), &m, &s);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND)
        return out_missing(x);
    return rc ? cli_fail(x, rc) : out_score(x, s);
}

/* ZMSCORE KEY MEMBER...: a JSON array, null for a member not there. */
int pccli_zmscore(cli *x, int argc, char **argv)
{
    (void)argv;
    size_t n = (size_t)argc - 1;
    pc_val *m = NULL;
    double *s = cli_alloc(x, n, sizeof *s);
    int *found = cli_alloc(x, n, sizeof *found);
    pc_read *r;
    int ex = arg_vals(x, 1, argc - 1, &m);
    if (ex)
        return ex;
    if (!s || !found)
        return cli_fail(x, PC_ENOMEM);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_zmscore(r, ARG(0), m, n, s, found);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(',');
        if (!found[i])
            fputs("null", stdout);
        else
            put_score_item(x, s[i]);
    }
    puts("]");
    return EX_DONE;
}

/* ZRANK / ZREVRANK KEY MEMBER [WITHSCORE]: the rank (with WITHSCORE a JSON
 * array [rank, score]), or nothing (exit 1). */
int pccli_zrank(cli *x, int argc, char **argv)
{
    (void)argv;
    if (argc == 3 && !arg_is(x, 2, "withscore"))
        return cli_err(x, "syntax error at '%s'", x->av[2]);
    pc_read *r;
    pc_val m;
    uint64_t rank;
    double s;
    int ex = arg_val(x, 1, &m);
    if (ex || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_zrank(r, ARG(0), &m, !strcasecmp(x->cmd->name, "zrevrank"), &rank, &s);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND)
        return out_missing(x);
    if (rc)
        return cli_fail(x, rc);
    if (argc < 3)
        return out_int(x, (int64_t)rank);
    printf("[%llu,", (unsigned long long)rank);
    put_score_item(x, s);
    puts("]");
    return EX_DONE;
}

/* ---- union, intersection, difference ---- */

/* ZUNIONSTORE / ZINTERSTORE DST NUMKEYS KEY... [WEIGHTS W...] [AGGREGATE
 * SUM|MIN|MAX]; ZDIFFSTORE DST NUMKEYS KEY... */
int pccli_zstore(cli *x, int argc, char **argv)
{
    (void)argv;
    const char *nm = x->cmd->name;
    bool diff = !strcasecmp(nm, "zdiffstore"), inter = !strcasecmp(nm, "zinterstore");
    int64_t nk;
    int ex = arg_min(x, "NUMKEYS", 1, 1, &nk);
    if (ex)
        return ex;
    if (nk > argc - 2)
        return cli_err(x, "NUMKEYS is %lld but %d keys follow", (long long)nk, argc - 2);
    pc_bytes *keys = NULL;
    if ((ex = arg_bytes(x, 2, (int)nk, 1, &keys)))
        return ex;
    double *w = NULL;
    int agg = PC_ZAGG_SUM;
    for (int i = 2 + (int)nk; i < argc; i++) {
        if (!diff && arg_is(x, i, "weights") && i + nk < argc && !w) {
            w = cli_alloc(x, (size_t)nk, sizeof *w);
            if (!w)
                return cli_fail(x, PC_ENOMEM);
            for (int k = 0; k < nk; k++)
                if ((ex = arg_score(x, "a weight", i + 1 + k, false, &w[k], NULL)))
                    return ex;
            i += (int)nk;
        } else if (!diff && arg_is(x, i, "aggregate") && i + 1 < argc) {
            i++;
            if (arg_is(x, i, "sum"))
                agg = PC_ZAGG_SUM;
            else if (arg_is(x, i, "min"))
                agg = PC_ZAGG_MIN;
            else if (arg_is(x, i, "max"))
                agg = PC_ZAGG_MAX;
            else
                return cli_err(x, "AGGREGATE is SUM, MIN or MAX: '%s'", x->av[i]);
        } else {
            return cli_err(x, "syntax error at '%s'", x->av[i]);
        }
    }
    uint64_t card;
    int rc = diff    ? pc_zdiffstore(x->c, ARG(0), keys, (size_t)nk, &card)
             : inter ? pc_zinterstore(x->c, ARG(0), keys, (size_t)nk, w, agg, &card)
                     : pc_zunionstore(x->c, ARG(0), keys, (size_t)nk, w, agg, &card);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)card);
}
