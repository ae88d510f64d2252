/*
 * pccli.c - pycache's command-line client.
 *
 * pccli [-d DIR] [--embedded] [--json] [-T] COMMAND ARGS...  Commands carry
 * Redis's names (case-insensitive) and sit in one sorted dispatch table, one
 * static handler each.  Exit status: 0 done, 1 missing or false, 2 error
 * (with a message on stderr).  See man/pccli.1.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pcjson.h"
#include "pycache.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

enum { EX_DONE = 0, EX_NO = 1, EX_ERR = 2 };

/* Elements fetched per library call when listing. */
#define PAGE 256

/* A key argument: pointer and length. */
#define KEY(s) (s), strlen(s)

struct cmd;

typedef struct cli {
    pc_client *c;
    const struct cmd *cmd; /* the command being run, for messages */
    bool json;             /* --json: every result as JSON */
    bool typed;            /* -T: VALUE arguments are JSON scalars */
    pcjson_arena arena;    /* parsed values and argument arrays */
} cli;

typedef int (*cmd_fn)(cli *x, int argc, char **argv);

/* Argument shapes beyond a count. */
enum { ARGS_ANY, ARGS_PAIRS, ARGS_KEY_PAIRS };

typedef struct cmd {
    const char *name;
    cmd_fn fn;
    int min, max; /* arguments after the name; max -1: no limit */
    int shape;    /* ARGS_* */
    const char *args;
} cmd;

typedef int (*len_fn)(pc_read *, const void *, size_t, uint64_t *);
typedef int (*range_fn)(pc_read *, const void *, size_t, int64_t, int64_t, pc_val *, size_t,
                        size_t *);
typedef int (*pop_fn)(pc_client *, const void *, size_t, size_t, pc_val *, size_t *);
typedef int (*push_fn)(pc_client *, const void *, size_t, const pc_val *, size_t, uint64_t *);
typedef int (*algebra_fn)(pc_read *, const pc_bytes *, size_t, pc_cursor *, pc_val *, size_t,
                          size_t *);

/* ------------------------------------------------------------------------ */
/* Messages and argument parsing                                             */

static int cli_err(cli *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "pccli: COMMAND: message" on stderr; returns EX_ERR. */
static int cli_err(cli *x, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "pccli: %s: ", x->cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EX_ERR;
}

/* A library error: "pccli: COMMAND: <text> (<name>)"; returns EX_ERR. */
static int cli_fail(cli *x, int rc)
{
    if (rc == PC_EACCES)
        return cli_err(x, "%s (%s): this user's role does not allow it; see pycached(8), ROLES",
                       pc_strerror(rc), pc_err_name(rc));
    return cli_err(x, "%s (%s)", pc_strerror(rc), pc_err_name(rc));
}

static int cli_usage(cli *x)
{
    fprintf(stderr, "pccli: %s: wrong arguments\nusage: pccli %s %s\n", x->cmd->name, x->cmd->name,
            x->cmd->args);
    return EX_ERR;
}

/* Memory for n things of size sz, owned by the arena (freed at exit). */
static void *cli_alloc(cli *x, size_t n, size_t sz)
{
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    return pcjson_arena_alloc(&x->arena, n && sz ? n * sz : 1);
}

/* Strictly parse a decimal int64: an optional '-' and digits only (no
 * blanks, no '+', no trailing bytes), in range.  *out is 0 on an error,
 * never left indeterminate. */
static int arg_i64(cli *x, const char *what, const char *s, int64_t *out)
{
    char *end;
    *out = 0;
    const char *d = *s == '-' ? s + 1 : s;
    if (*d < '0' || *d > '9')
        return cli_err(x, "%s is not an integer: '%s'", what, s);
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return cli_err(x, "%s is not an integer: '%s'", what, s);
    if (errno == ERANGE)
        return cli_err(x, "%s is out of range for a 64-bit integer: '%s'", what, s);
    *out = v;
    return 0;
}

/* Strictly parse a finite decimal double: an optional '-', then digits, '.'
 * and an exponent (no blanks, no '+' in front, no hex, no inf or nan, no
 * trailing bytes), and neither overflow nor underflow (strtod's ERANGE: a
 * magnitude below 2.2e-308 that a double cannot hold exactly, 1e-400 would
 * read as 0).  *out is 0 on an error. */
static int arg_double(cli *x, const char *what, const char *s, double *out)
{
    char *end;
    *out = 0;
    if (*s == '\0' || isspace((unsigned char)*s))
        return cli_err(x, "%s is not a number: '%s'", what, s);
    errno = 0;
    double v = strtod(s, &end);
    int err = errno;
    if (*end)
        return cli_err(x, "%s is not a number: '%s'", what, s);
    if (!isfinite(v))
        return cli_err(x, "%s is not a finite number: '%s'", what, s);
    if (strpbrk(s, "xX"))
        return cli_err(x, "%s is a hexadecimal number; write it in decimal: '%s'", what, s);
    const char *d = *s == '-' ? s + 1 : s;
    if ((*d < '0' || *d > '9') && *d != '.')
        return cli_err(x, "%s is not a number: '%s'", what, s);
    if (err == ERANGE)
        return cli_err(x, "%s is too close to 0 for a double (underflow): '%s'", what, s);
    *out = v;
    return 0;
}

/* A count or offset: an integer of at least min. */
static int arg_min(cli *x, const char *what, const char *s, int64_t min, int64_t *out)
{
    int ex = arg_i64(x, what, s, out);
    if (!ex && *out < min)
        return cli_err(x, "%s must be at least %lld: '%s'", what, (long long)min, s);
    return ex;
}

/* A TTL argument (seconds, or milliseconds if ms) as milliseconds, 1..PC_TTL_MAX_MS. */
static int arg_ttl(cli *x, const char *s, bool ms, int64_t *ttl_ms)
{
    int64_t v;
    int ex = arg_min(x, ms ? "TTL (ms)" : "TTL (seconds)", s, 1, &v);
    if (ex)
        return ex;
    if (v > (ms ? PC_TTL_MAX_MS : PC_TTL_MAX_MS / 1000))
        return cli_err(x, "TTL is longer than 100 years: '%s'", s);
    *ttl_ms = ms ? v : v * 1000;
    return 0;
}

/* A VALUE argument: a string, or with -T a JSON scalar. */
static int arg_val(cli *x, const char *s, pc_val *out)
{
    if (!x->typed) {
        *out = pc_str(s);
        return 0;
    }
    if (pcjson_parse_scalar(s, strlen(s), out, &x->arena))
        return cli_err(x, "bad value '%s': %s", s, x->arena.msg);
    return 0;
}

/* n VALUE arguments into an array owned by the arena. */
static int arg_vals(cli *x, char **argv, int n, pc_val **out)
{
    pc_val *v = cli_alloc(x, (size_t)n, sizeof *v);
    if (!v)
        return cli_fail(x, PC_ENOMEM);
    for (int i = 0; i < n; i++) {
        int ex = arg_val(x, argv[i], &v[i]);
        if (ex)
            return ex;
    }
    *out = v;
    return 0;
}

/* n byte-string arguments (keys or fields), every step-th from argv[0]. */
static int arg_bytes(cli *x, char **argv, int n, int step, pc_bytes **out)
{
    pc_bytes *b = cli_alloc(x, (size_t)n, sizeof *b);
    if (!b)
        return cli_fail(x, PC_ENOMEM);
    for (int i = 0; i < n; i++) {
        const char *a = argv[(size_t)i * (size_t)step];
        b[i] = pc_b(a, strlen(a));
    }
    *out = b;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

/* A scalar result: a string raw (JSON with --json), anything else as JSON. */
static int out_val(cli *x, const pc_val *v)
{
    if (v->kind == PC_BYTES && !x->json) {
        if (v->s.len)
            fwrite(v->s.ptr, 1, v->s.len, stdout);
    } else {
        pcjson_write_val(stdout, v);
    }
    putchar('\n');
    return EX_DONE;
}

static int out_int(cli *x, int64_t i)
{
    (void)x;
    printf("%lld\n", (long long)i);
    return EX_DONE;
}

/* A 1/0 answer: exit 1 for 0. */
static int out_flag(cli *x, int yes)
{
    out_int(x, yes ? 1 : 0);
    return yes ? EX_DONE : EX_NO;
}

static int out_double(cli *x, double d)
{
    pc_val v = pc_dbl(d);
    return out_val(x, &v);
}

/* A word such as a type name. */
static int out_text(cli *x, const char *s)
{
    if (x->json)
        pcjson_write_str(stdout, s, strlen(s));
    else
        fputs(s, stdout);
    putchar('\n');
    return EX_DONE;
}

/* Nothing there: null with --json, else nothing; exit 1. */
static int out_missing(cli *x)
{
    if (x->json)
        puts("null");
    return EX_NO;
}

/* A write with no result: true with --json, else nothing. */
static int out_done(cli *x)
{
    if (x->json)
        puts("true");
    return EX_DONE;
}

/*
 * JSON arrays and objects are opened only once their first page has been
 * read, so that an error (a wrong type, most often) leaves stdout empty.
 * *state: 0 not opened, 1 opened and empty, 2 holds an item.
 */
static void out_open(int *state, int ch)
{
    if (*state == 0) {
        putchar(ch);
        *state = 1;
    }
}

/* Start the next item of an opened array or object. */
static void out_next(int *state)
{
    if (*state == 2)
        putchar(',');
    *state = 2;
}

static void out_close(int *state, int open, int close)
{
    out_open(state, open);
    putchar(close);
    putchar('\n');
}

static void out_vals(const pc_val *v, size_t n, int *state)
{
    out_open(state, '[');
    for (size_t i = 0; i < n; i++) {
        out_next(state);
        pcjson_write_val(stdout, &v[i]);
    }
}

static int read_begin(cli *x, pc_read **r)
{
    int rc = pc_read_begin(x->c, r);
    return rc ? cli_fail(x, rc) : 0;
}

/* The length of a List, Queue, Map or Set; a missing key counts 0. */
static int get_len(pc_read *r, len_fn lenf, const char *key, uint64_t *len)
{
    int rc = lenf(r, KEY(key), len);
    if (rc == PC_ENOTFOUND) {
        *len = 0;
        rc = 0;
    }
    return rc;
}

/*
 * Print elements start..stop (Redis LRANGE indices) of a List or Queue as a
 * JSON array.  The indices are made absolute first, in the same read, so
 * that paging by advancing start stays right for negative ones.
 */
static int print_seq(pc_read *r, const char *key, len_fn lenf, range_fn rangef, int64_t start,
                     int64_t stop)
{
    uint64_t ulen;
    int rc = get_len(r, lenf, key, &ulen);
    if (rc)
        return rc;
    int64_t len = ulen > INT64_MAX ? INT64_MAX : (int64_t)ulen;
    if (start < 0)
        start = start < -len ? 0 : start + len;
    if (stop < 0)
        stop += len;
    if (stop >= len)
        stop = len - 1;
    pc_val buf[PAGE];
    int state = 0;
    while (start <= stop) {
        size_t n;
        if ((rc = rangef(r, KEY(key), start, stop, buf, PAGE, &n)))
            return rc;
        if (n == 0)
            break;
        out_vals(buf, n, &state);
        start += (int64_t)n;
    }
    out_close(&state, '[', ']');
    return 0;
}

static int print_map(pc_read *r, const char *key)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes fields[PAGE];
    pc_val vals[PAGE];
    int state = 0;
    while (!cur.done) {
        size_t n;
        int rc = pc_hscan(r, KEY(key), &cur, fields, vals, PAGE, &n);
        if (rc)
            return rc;
        out_open(&state, '{');
        for (size_t i = 0; i < n; i++) {
            out_next(&state);
            pcjson_write_str(stdout, fields[i].ptr, fields[i].len);
            putchar(':');
            pcjson_write_val(stdout, &vals[i]);
        }
    }
    out_close(&state, '{', '}');
    return 0;
}

static int print_set(pc_read *r, const char *key)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val buf[PAGE];
    int state = 0;
    while (!cur.done) {
        size_t n;
        int rc = pc_sscan(r, KEY(key), &cur, buf, PAGE, &n);
        if (rc)
            return rc;
        out_vals(buf, n, &state);
    }
    out_close(&state, '[', ']');
    return 0;
}

/* A collection as compact JSON (get of a List, Queue, Map or Set). */
static int print_coll(pc_read *r, const char *key)
{
    pc_type t;
    int rc = pc_type_of(r, KEY(key), &t);
    if (rc)
        return rc;
    switch (t) {
    case PC_T_LIST:
        return print_seq(r, key, pc_llen, pc_lrange, 0, -1);
    case PC_T_QUEUE:
        return print_seq(r, key, pc_qlen, pc_qrange, 0, -1);
    case PC_T_MAP:
        return print_map(r, key);
    case PC_T_SET:
        return print_set(r, key);
    default:
        return PC_ENOTFOUND; /* changed type between the two looks: cannot in one read */
    }
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

static int cmd_del(cli *x, int argc, char **argv)
{
    int *deleted = cli_alloc(x, (size_t)argc, sizeof *deleted);
    if (!deleted)
        return cli_fail(x, PC_ENOMEM);
    /* One batch: every key is checked before any is deleted. */
    int rc = pc_batch_begin(x->c);
    for (int i = 0; i < argc && !rc; i++) {
        deleted[i] = 0;
        rc = pc_del(x->c, KEY(argv[i]), &deleted[i]);
    }
    if (rc) {
        pc_discard(x->c);
        return cli_fail(x, rc);
    }
    if ((rc = pc_batch_exec(x->c, NULL, 0)))
        return cli_fail(x, rc);
    int64_t n = 0;
    for (int i = 0; i < argc; i++)
        n += deleted[i];
    return out_int(x, n);
}

static int cmd_exists(cli *x, int argc, char **argv)
{
    pc_read *r;
    int ex = read_begin(x, &r), rc = 0;
    if (ex)
        return ex;
    int64_t n = 0;
    for (int i = 0; i < argc && !rc; i++) {
        int yes = 0;
        rc = pc_exists(r, KEY(argv[i]), &yes);
        n += yes;
    }
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    out_int(x, n);
    return n ? EX_DONE : EX_NO;
}

static int do_expire(cli *x, char **argv, bool ms)
{
    int64_t ttl;
    int set = 0, ex = arg_ttl(x, argv[1], ms, &ttl);
    if (ex)
        return ex;
    int rc = pc_expire(x->c, KEY(argv[0]), ttl, &set);
    return rc ? cli_fail(x, rc) : out_flag(x, set);
}

static int cmd_expire(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_expire(x, argv, false);
}

static int cmd_pexpire(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_expire(x, argv, true);
}

/* FLUSHALL (and FLUSHDB: there is one database): every key of every type. */
static int cmd_flushall(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rc = pc_flush(x->c);
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_persist(cli *x, int argc, char **argv)
{
    (void)argc;
    int changed = 0, rc = pc_persist(x->c, KEY(argv[0]), &changed);
    return rc ? cli_fail(x, rc) : out_flag(x, changed);
}

static int do_ttl(cli *x, const char *key, bool ms)
{
    pc_read *r;
    int64_t left;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = ms ? pc_ttl(r, KEY(key), &left) : pc_ttl_sec(r, KEY(key), &left);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND) {
        out_int(x, -2);
        return EX_NO;
    }
    return rc ? cli_fail(x, rc) : out_int(x, left);
}

static int cmd_ttl(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_ttl(x, argv[0], false);
}

static int cmd_pttl(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_ttl(x, argv[0], true);
}

static int cmd_type(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    pc_type t;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_type_of(r, KEY(argv[0]), &t);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    out_text(x, pc_type_name(t));
    return t == PC_T_NONE ? EX_NO : EX_DONE;
}

static int cmd_keys(cli *x, int argc, char **argv)
{
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[PAGE];
    int state = 0;
    int ex = read_begin(x, &r), rc = 0;
    if (ex)
        return ex;
    while (!cur.done && !rc) {
        size_t n = 0;
        rc = pc_scan(r, argc ? argv[0] : NULL, &cur, keys, PAGE, &n);
        for (size_t i = 0; i < n && !rc; i++) {
            if (x->json) {
                out_open(&state, '[');
                out_next(&state);
                pcjson_write_str(stdout, keys[i].ptr, keys[i].len);
            } else {
                fwrite(keys[i].ptr, 1, keys[i].len, stdout);
                putchar('\n');
            }
        }
    }
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    if (x->json)
        out_close(&state, '[', ']');
    return EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* Strings and numerics                                                      */

/* set's value: which option gave it, and its text. */
typedef struct set_src {
    const char *opt; /* NULL: a plain VALUE */
    const char *text;
    pc_type coll; /* PC_T_NONE: String or Numeric */
} set_src;

static const set_src set_value_opts[] = {
    {"--int", NULL, PC_T_NONE}, {"--double", NULL, PC_T_NONE}, {"--list", NULL, PC_T_LIST},
    {"--map", NULL, PC_T_MAP},  {"--set", NULL, PC_T_SET},     {"--queue", NULL, PC_T_QUEUE},
};

/* Parse set's arguments after KEY into src, ttl and flags. */
static int set_args(cli *x, int argc, char **argv, set_src *src, int64_t *ttl, unsigned *flags)
{
    bool have = false, ttl_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        set_src s = {NULL, a, PC_T_NONE};
        unsigned f = 0;
        if (!strcmp(a, "--nx"))
            f = PC_NX;
        else if (!strcmp(a, "--xx"))
            f = PC_XX;
        else if (!strcmp(a, "--keepttl"))
            f = PC_KEEPTTL;
        if (f) {
            *flags |= f;
            continue;
        }
        if (!strcmp(a, "--ttl") || !strcmp(a, "--ttl-ms")) {
            if (!next)
                return cli_err(x, "%s needs a value", a);
            if (ttl_given)
                return cli_err(x, "give --ttl or --ttl-ms once");
            int ex = arg_ttl(x, next, !strcmp(a, "--ttl-ms"), ttl);
            if (ex)
                return ex;
            ttl_given = true;
            i++;
            continue;
        }
        for (size_t k = 0; k < sizeof set_value_opts / sizeof *set_value_opts; k++)
            if (!strcmp(a, set_value_opts[k].opt))
                s = set_value_opts[k];
        if (s.opt || !strcmp(a, "--")) {
            if (!next)
                return cli_err(x, "%s needs a value", a);
            s.text = next;
            i++;
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_err(x, "unknown option '%s' (use -- before a value that starts with --)", a);
        }
        if (have)
            return cli_err(x, "more than one value given");
        *src = s;
        have = true;
    }
    if (!have)
        return cli_usage(x);
    if ((*flags & PC_NX) && (*flags & PC_XX))
        return cli_err(x, "--nx and --xx cannot be combined");
    if ((*flags & PC_KEEPTTL) && ttl_given)
        return cli_err(x, "--keepttl and --ttl cannot be combined");
    return 0;
}

static int cmd_set(cli *x, int argc, char **argv)
{
    set_src src = {NULL, NULL, PC_T_NONE};
    int64_t ttl = 0;
    unsigned flags = 0;
    int ex = set_args(x, argc, argv, &src, &ttl, &flags), rc;
    if (ex)
        return ex;
    pc_val v = pc_str(src.text);
    if (src.coll != PC_T_NONE) {
        pc_val *items = NULL;
        size_t n = 0;
        if (pcjson_parse_items(src.text, strlen(src.text), src.coll, &items, &n, &x->arena))
            return cli_err(x, "bad JSON for %s: %s", src.opt, x->arena.msg);
        rc = pc_set_coll(x->c, KEY(argv[0]), src.coll, items, n, ttl, flags);
    } else {
        if (src.opt && !strcmp(src.opt, "--int")) {
            v.kind = PC_INT;
            ex = arg_i64(x, "--int", src.text, &v.i);
        } else if (src.opt) {
            v.kind = PC_DOUBLE;
            ex = arg_double(x, "--double", src.text, &v.d);
        }
        if (ex)
            return ex;
        rc = pc_set(x->c, KEY(argv[0]), &v, ttl, flags);
    }
    if (rc == PC_EEXIST || (rc == PC_ENOTFOUND && (flags & PC_XX))) {
        if (x->json)
            puts("false");
        return EX_NO;
    }
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_get(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_get(r, KEY(argv[0]), &v);
    if (!rc)
        ex = out_val(x, &v);
    else if (rc == PC_ENOTFOUND)
        ex = out_missing(x);
    else if (rc == PC_EWRONGTYPE && !(rc = print_coll(r, argv[0])))
        ex = EX_DONE;
    else
        ex = cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

static int cmd_getset(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_val v = pc_str(argv[1]), old;
    int rc = pc_getset(x->c, KEY(argv[0]), &v, &old);
    if (rc)
        return cli_fail(x, rc);
    return old.kind == PC_NONE ? out_missing(x) : out_val(x, &old);
}

static int cmd_mset(cli *x, int argc, char **argv)
{
    int n = argc / 2;
    pc_bytes *keys = NULL;
    pc_val *vals = cli_alloc(x, (size_t)n, sizeof *vals);
    int ex = arg_bytes(x, argv, n, 2, &keys);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    for (int i = 0; i < n; i++)
        if ((ex = arg_val(x, argv[2 * i + 1], &vals[i])))
            return ex;
    int rc = pc_mset(x->c, keys, vals, (size_t)n);
    return rc ? cli_fail(x, rc) : out_done(x);
}

/* Whether keys[i] already occurred before position i. */
static bool seen_before(const pc_bytes *keys, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (keys[j].len == keys[i].len && !memcmp(keys[j].ptr, keys[i].ptr, keys[i].len))
            return true;
    return false;
}

static int cmd_mget(cli *x, int argc, char **argv)
{
    pc_bytes *keys = NULL;
    pc_val *vals = cli_alloc(x, (size_t)argc, sizeof *vals);
    pc_read *r;
    size_t found = 0;
    int ex = arg_bytes(x, argv, argc, 1, &keys);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_mget(r, keys, (size_t)argc, vals, &found);
    if (!rc) {
        int state = 0;
        out_open(&state, '{');
        for (size_t i = 0; i < (size_t)argc; i++) {
            if (vals[i].kind == PC_NONE || seen_before(keys, i))
                continue;
            out_next(&state);
            pcjson_write_str(stdout, keys[i].ptr, keys[i].len);
            putchar(':');
            pcjson_write_val(stdout, &vals[i]);
        }
        out_close(&state, '{', '}');
    }
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    return found ? EX_DONE : EX_NO;
}

static int do_incr(cli *x, const char *key, int64_t by)
{
    int64_t now;
    int rc = pc_incrby(x->c, KEY(key), by, &now);
    return rc ? cli_fail(x, rc) : out_int(x, now);
}

static int cmd_incr(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_incr(x, argv[0], 1);
}

static int cmd_decr(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_incr(x, argv[0], -1);
}

static int cmd_incrby(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t by;
    int ex = arg_i64(x, "increment", argv[1], &by);
    return ex ? ex : do_incr(x, argv[0], by);
}

static int cmd_decrby(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t by;
    int ex = arg_i64(x, "decrement", argv[1], &by);
    if (ex)
        return ex;
    if (by == INT64_MIN)
        return cli_fail(x, PC_EOVERFLOW);
    return do_incr(x, argv[0], -by);
}

static int cmd_incrbyfloat(cli *x, int argc, char **argv)
{
    (void)argc;
    double by, now;
    int ex = arg_double(x, "increment", argv[1], &by);
    if (ex)
        return ex;
    int rc = pc_incrbyfloat(x->c, KEY(argv[0]), by, &now);
    return rc ? cli_fail(x, rc) : out_double(x, now);
}

static int cmd_append(cli *x, int argc, char **argv)
{
    (void)argc;
    uint64_t len;
    int rc = pc_append(x->c, KEY(argv[0]), KEY(argv[1]), &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_setrange(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t off;
    uint64_t len;
    int ex = arg_min(x, "OFFSET", argv[1], 0, &off);
    if (ex)
        return ex;
    int rc = pc_setrange(x->c, KEY(argv[0]), (uint64_t)off, KEY(argv[2]), &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_strlen(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    uint64_t len;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = get_len(r, pc_strlen, argv[0], &len);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_getrange(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t start, end;
    pc_read *r;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "START", argv[1], &start)) || (ex = arg_i64(x, "END", argv[2], &end)) ||
        (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_getrange(r, KEY(argv[0]), start, end, &v);
    if (!rc)
        ex = out_val(x, &v);
    else
        ex = rc == PC_ENOTFOUND ? out_missing(x) : cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

/* ------------------------------------------------------------------------ */
/* Lists and queues                                                          */

static int do_push(cli *x, int argc, char **argv, push_fn push)
{
    pc_val *v = NULL;
    uint64_t len;
    int ex = arg_vals(x, argv + 1, argc - 1, &v);
    if (ex)
        return ex;
    int rc = push(x->c, KEY(argv[0]), v, (size_t)argc - 1, &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_lpush(cli *x, int argc, char **argv)
{
    return do_push(x, argc, argv, pc_lpush);
}

static int cmd_rpush(cli *x, int argc, char **argv)
{
    return do_push(x, argc, argv, pc_rpush);
}

static int cmd_qpush(cli *x, int argc, char **argv)
{
    return do_push(x, argc, argv, pc_qpush);
}

/*
 * Pop one element (printed as a scalar) or, with COUNT, up to COUNT of them
 * (a JSON array).  The buffer is sized by the current length, so a huge
 * COUNT costs nothing.
 */
static int do_pop(cli *x, int argc, char **argv, pop_fn pop, len_fn lenf)
{
    pc_val one, *out = &one;
    size_t n = 0, max = 1;
    if (argc == 2) {
        int64_t count;
        uint64_t len;
        pc_read *r;
        int ex = arg_min(x, "COUNT", argv[1], 1, &count);
        if (ex || (ex = read_begin(x, &r)))
            return ex;
        int rc = get_len(r, lenf, argv[0], &len);
        pc_read_end(r);
        if (rc)
            return cli_fail(x, rc);
        max = len < (uint64_t)count ? (size_t)len : (size_t)count;
        max = max ? max : 1;
        if (!(out = cli_alloc(x, max, sizeof *out)))
            return cli_fail(x, PC_ENOMEM);
    }
    int rc = pop(x->c, KEY(argv[0]), max, out, &n);
    if (rc == PC_ENOTFOUND || (!rc && n == 0))
        return out_missing(x);
    if (rc)
        return cli_fail(x, rc);
    if (argc == 1)
        return out_val(x, &one);
    int state = 0;
    out_vals(out, n, &state);
    out_close(&state, '[', ']');
    return EX_DONE;
}

static int cmd_lpop(cli *x, int argc, char **argv)
{
    return do_pop(x, argc, argv, pc_lpop, pc_llen);
}

static int cmd_rpop(cli *x, int argc, char **argv)
{
    return do_pop(x, argc, argv, pc_rpop, pc_llen);
}

static int cmd_qpop(cli *x, int argc, char **argv)
{
    return do_pop(x, argc, argv, pc_qpop, pc_qlen);
}

static int cmd_spop(cli *x, int argc, char **argv)
{
    return do_pop(x, argc, argv, pc_spop, pc_scard);
}

/* A count: llen, qlen, hlen, scard (0 for a missing key). */
static int do_count(cli *x, const char *key, len_fn lenf)
{
    pc_read *r;
    uint64_t len;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = get_len(r, lenf, key, &len);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_llen(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_count(x, argv[0], pc_llen);
}

static int cmd_qlen(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_count(x, argv[0], pc_qlen);
}

static int cmd_hlen(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_count(x, argv[0], pc_hlen);
}

static int cmd_scard(cli *x, int argc, char **argv)
{
    (void)argc;
    return do_count(x, argv[0], pc_scard);
}

static int cmd_lrange(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t start, stop;
    pc_read *r;
    int ex;
    if ((ex = arg_i64(x, "START", argv[1], &start)) || (ex = arg_i64(x, "STOP", argv[2], &stop)) ||
        (ex = read_begin(x, &r)))
        return ex;
    int rc = print_seq(r, argv[0], pc_llen, pc_lrange, start, stop);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

static int cmd_lindex(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t i;
    pc_read *r;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "INDEX", argv[1], &i)) || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_lindex(r, KEY(argv[0]), i, &v);
    if (!rc)
        ex = out_val(x, &v);
    else if (rc == PC_ENOTFOUND || rc == PC_ERANGE)
        ex = out_missing(x);
    else
        ex = cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

static int cmd_qpeek(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_qpeek(r, KEY(argv[0]), &v);
    if (!rc)
        ex = out_val(x, &v);
    else
        ex = rc == PC_ENOTFOUND ? out_missing(x) : cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

static int cmd_lset(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t i;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "INDEX", argv[1], &i)) || (ex = arg_val(x, argv[2], &v)))
        return ex;
    int rc = pc_lset(x->c, KEY(argv[0]), i, &v);
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_ltrim(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t start, stop;
    int ex;
    if ((ex = arg_i64(x, "START", argv[1], &start)) || (ex = arg_i64(x, "STOP", argv[2], &stop)))
        return ex;
    int rc = pc_ltrim(x->c, KEY(argv[0]), start, stop);
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_lrem(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t count;
    uint64_t removed;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "COUNT", argv[1], &count)) || (ex = arg_val(x, argv[2], &v)))
        return ex;
    int rc = pc_lrem(x->c, KEY(argv[0]), count, &v, &removed);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)removed);
}

/* ------------------------------------------------------------------------ */
/* Maps                                                                      */

static int cmd_hset(cli *x, int argc, char **argv)
{
    int n = (argc - 1) / 2;
    pc_bytes *fields = NULL;
    pc_val *vals = cli_alloc(x, (size_t)n, sizeof *vals);
    uint64_t added;
    int ex = arg_bytes(x, argv + 1, n, 2, &fields);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    for (int i = 0; i < n; i++)
        if ((ex = arg_val(x, argv[2 + 2 * i], &vals[i])))
            return ex;
    int rc = pc_hset(x->c, KEY(argv[0]), fields, vals, (size_t)n, &added);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)added);
}

static int cmd_hget(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_hget(r, KEY(argv[0]), KEY(argv[1]), &v);
    if (!rc)
        ex = out_val(x, &v);
    else
        ex = rc == PC_ENOTFOUND ? out_missing(x) : cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

static int cmd_hdel(cli *x, int argc, char **argv)
{
    pc_bytes *fields = NULL;
    uint64_t removed;
    int ex = arg_bytes(x, argv + 1, argc - 1, 1, &fields);
    if (ex)
        return ex;
    int rc = pc_hdel(x->c, KEY(argv[0]), fields, (size_t)argc - 1, &removed);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)removed);
}

static int cmd_hgetall(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = print_map(r, argv[0]);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

static int cmd_hexists(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    int yes = 0, ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_hexists(r, KEY(argv[0]), KEY(argv[1]), &yes);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_flag(x, yes);
}

static int cmd_hincrby(cli *x, int argc, char **argv)
{
    (void)argc;
    int64_t by, now;
    int ex = arg_i64(x, "increment", argv[2], &by);
    if (ex)
        return ex;
    int rc = pc_hincrby(x->c, KEY(argv[0]), KEY(argv[1]), by, &now);
    return rc ? cli_fail(x, rc) : out_int(x, now);
}

static int cmd_hincrbyfloat(cli *x, int argc, char **argv)
{
    (void)argc;
    double by, now;
    int ex = arg_double(x, "increment", argv[2], &by);
    if (ex)
        return ex;
    int rc = pc_hincrbyfloat(x->c, KEY(argv[0]), KEY(argv[1]), by, &now);
    return rc ? cli_fail(x, rc) : out_double(x, now);
}

/* ------------------------------------------------------------------------ */
/* Sets                                                                      */

static int cmd_sadd(cli *x, int argc, char **argv)
{
    return do_push(x, argc, argv, pc_sadd);
}

static int cmd_srem(cli *x, int argc, char **argv)
{
    return do_push(x, argc, argv, pc_srem);
}

static int cmd_sismember(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    pc_val m;
    int yes = 0, ex;
    if ((ex = arg_val(x, argv[1], &m)) || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_sismember(r, KEY(argv[0]), &m, &yes);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_flag(x, yes);
}

static int cmd_smembers(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = print_set(r, argv[0]);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

/* sunion, sinter, sdiff: one JSON array, paged through one read. */
static int do_algebra(cli *x, int argc, char **argv, algebra_fn fn)
{
    pc_bytes *keys = NULL;
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val buf[PAGE];
    int state = 0;
    int ex = arg_bytes(x, argv, argc, 1, &keys), rc = 0;
    if (ex || (ex = read_begin(x, &r)))
        return ex;
    while (!cur.done && !rc) {
        size_t n = 0;
        rc = fn(r, keys, (size_t)argc, &cur, buf, PAGE, &n);
        if (!rc)
            out_vals(buf, n, &state);
    }
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    out_close(&state, '[', ']');
    return EX_DONE;
}

static int cmd_sunion(cli *x, int argc, char **argv)
{
    return do_algebra(x, argc, argv, pc_sunion);
}

static int cmd_sinter(cli *x, int argc, char **argv)
{
    return do_algebra(x, argc, argv, pc_sinter);
}

static int cmd_sdiff(cli *x, int argc, char **argv)
{
    return do_algebra(x, argc, argv, pc_sdiff);
}

/* ------------------------------------------------------------------------ */
/* Issue 16: the rate limiter                                                */

/* throttle KEY MAX_BURST COUNT PERIOD [QUANTITY], as redis-cell's
 * CL.THROTTLE (PERIOD in seconds): the five numbers, exit 1 when limited. */
static int cmd_throttle(cli *x, int argc, char **argv)
{
    int64_t burst, count, period, qty = 1;
    int ex;
    if ((ex = arg_min(x, "MAX_BURST", argv[1], 0, &burst)) ||
        (ex = arg_min(x, "COUNT", argv[2], 1, &count)) ||
        (ex = arg_min(x, "PERIOD (seconds)", argv[3], 1, &period)) ||
        (argc > 4 && (ex = arg_min(x, "QUANTITY", argv[4], 0, &qty))))
        return ex;
    if (period > PC_TTL_MAX_MS / 1000)
        return cli_err(x, "PERIOD is longer than 100 years: '%s'", argv[3]);
    pc_throttle_info t;
    int rc = pc_throttle(x->c, KEY(argv[0]), burst, count, period * 1000, qty, &t);
    if (rc)
        return cli_fail(x, rc);
    int64_t f[5] = {t.limited, t.limit, t.remaining, t.retry_after_ms, t.reset_after_ms};
    if (x->json)
        printf("[%lld,%lld,%lld,%lld,%lld]\n", (long long)f[0], (long long)f[1], (long long)f[2],
               (long long)f[3], (long long)f[4]);
    else
        for (int i = 0; i < 5; i++)
            printf("%lld\n", (long long)f[i]);
    return t.limited ? EX_NO : EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* Issue 16: bit arrays                                                      */

/* An OFFSET argument: 0 .. 2^32 - 1. */
static int arg_offset(cli *x, const char *s, uint64_t *off)
{
    int64_t v;
    int ex = arg_min(x, "OFFSET", s, 0, &v);
    if (ex)
        return ex;
    if (v > (int64_t)UINT32_MAX)
        return cli_err(x, "OFFSET is past the largest, 4294967295: '%s'", s);
    *off = (uint64_t)v;
    return 0;
}

/* A BIT argument: 0 or 1. */
static int arg_bit(cli *x, const char *s, int *bit)
{
    if (strcmp(s, "0") && strcmp(s, "1"))
        return cli_err(x, "BIT must be 0 or 1: '%s'", s);
    *bit = s[0] == '1';
    return 0;
}

/* BYTE or BIT (case-insensitive): PC_BITS_BIT or 0. */
static int arg_unit(cli *x, const char *s, unsigned *flags)
{
    if (!strcasecmp(s, "byte"))
        *flags = 0;
    else if (!strcasecmp(s, "bit"))
        *flags = PC_BITS_BIT;
    else
        return cli_err(x, "expected BYTE or BIT: '%s'", s);
    return 0;
}

static int cmd_setbit(cli *x, int argc, char **argv)
{
    (void)argc;
    uint64_t off = 0;
    int bit = 0, old = 0, ex;
    if ((ex = arg_offset(x, argv[1], &off)) || (ex = arg_bit(x, argv[2], &bit)))
        return ex;
    int rc = pc_setbit(x->c, KEY(argv[0]), off, bit, &old);
    return rc ? cli_fail(x, rc) : out_int(x, old);
}

static int cmd_getbit(cli *x, int argc, char **argv)
{
    (void)argc;
    uint64_t off = 0;
    int bit = 0, ex;
    pc_read *r;
    if ((ex = arg_offset(x, argv[1], &off)) || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_getbit(r, KEY(argv[0]), off, &bit);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, bit);
}

static int cmd_bitcount(cli *x, int argc, char **argv)
{
    int64_t start = 0, end = -1;
    unsigned flags = 0;
    uint64_t n;
    int ex;
    pc_read *r;
    if (argc == 2)
        return cli_usage(x);
    if (argc > 1 &&
        ((ex = arg_i64(x, "START", argv[1], &start)) || (ex = arg_i64(x, "END", argv[2], &end)) ||
         (argc > 3 && (ex = arg_unit(x, argv[3], &flags)))))
        return ex;
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_bitcount(r, KEY(argv[0]), start, end, flags, &n);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

static int cmd_bitpos(cli *x, int argc, char **argv)
{
    int64_t start = 0, end = -1, pos;
    unsigned flags = 0, unit = 0;
    int bit = 0, ex;
    pc_read *r;
    if ((ex = arg_bit(x, argv[1], &bit)) ||
        (argc > 2 && (ex = arg_i64(x, "START", argv[2], &start))) ||
        (argc > 3 && (ex = arg_i64(x, "END", argv[3], &end))) ||
        (argc > 4 && (ex = arg_unit(x, argv[4], &unit))))
        return ex;
    flags = unit | (argc > 3 ? PC_BITS_END : 0);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_bitpos(r, KEY(argv[0]), bit, start, end, flags, &pos);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, pos);
}

static int cmd_bitop(cli *x, int argc, char **argv)
{
    static const char *const ops[] = {"and", "or", "xor", "not"};
    int op = -1;
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(argv[0], ops[i]))
            op = i;
    if (op < 0)
        return cli_err(x, "expected AND, OR, XOR or NOT: '%s'", argv[0]);
    if (op == PC_BITOP_NOT && argc != 3)
        return cli_err(x, "NOT takes exactly one source key");
    pc_bytes *keys = NULL;
    int ex = arg_bytes(x, argv + 2, argc - 2, 1, &keys);
    if (ex)
        return ex;
    uint64_t len = 0;
    int rc = pc_bitop(x->c, op, KEY(argv[1]), keys, (size_t)argc - 2, &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

/* ------------------------------------------------------------------------ */
/* Issue 16: Bloom filters                                                   */

/* bf.reserve KEY ERROR_RATE CAPACITY [EXPANSION N] [NONSCALING] */
static int cmd_bf_reserve(cli *x, int argc, char **argv)
{
    double rate;
    int64_t cap, expansion = 0;
    unsigned flags = 0;
    int ex;
    if ((ex = arg_double(x, "ERROR_RATE", argv[1], &rate)) ||
        (ex = arg_min(x, "CAPACITY", argv[2], 1, &cap)))
        return ex;
    if (!(rate > 0 && rate < 1))
        return cli_err(x, "ERROR_RATE must be between 0 and 1 (both excluded): '%s'", argv[1]);
    for (int i = 3; i < argc; i++) {
        if (!strcasecmp(argv[i], "nonscaling")) {
            flags |= PC_BF_NONSCALING;
        } else if (!strcasecmp(argv[i], "expansion") && i + 1 < argc) {
            if ((ex = arg_min(x, "EXPANSION", argv[++i], 1, &expansion)))
                return ex;
            if (expansion > UINT32_MAX)
                return cli_err(x, "EXPANSION is too large: '%s'", argv[i]);
        } else {
            return cli_usage(x);
        }
    }
    int rc = pc_bf_reserve(x->c, KEY(argv[0]), rate, (uint64_t)cap, (uint32_t)expansion, flags);
    return rc ? cli_fail(x, rc) : out_done(x);
}

/* bf.madd KEY ITEM...: 1 (added) or 0 (maybe there already) for each. */
static int bf_add(cli *x, int argc, char **argv, bool one)
{
    pc_bytes *items = NULL;
    int *added = cli_alloc(x, (size_t)argc - 1, sizeof *added);
    int ex = arg_bytes(x, argv + 1, argc - 1, 1, &items);
    if (ex)
        return ex;
    if (!added)
        return cli_fail(x, PC_ENOMEM);
    int rc = pc_bf_madd(x->c, KEY(argv[0]), items, (size_t)argc - 1, added);
    if (rc)
        return cli_fail(x, rc);
    if (one)
        return out_int(x, added[0]);
    int st = 0;
    if (x->json)
        out_open(&st, '[');
    for (int i = 0; i < argc - 1; i++) {
        if (x->json)
            out_next(&st), printf("%d", added[i]);
        else
            printf("%d\n", added[i]);
    }
    if (x->json)
        out_close(&st, '[', ']');
    return EX_DONE;
}

static int cmd_bf_add(cli *x, int argc, char **argv)
{
    return bf_add(x, argc, argv, true);
}

static int cmd_bf_madd(cli *x, int argc, char **argv)
{
    return bf_add(x, argc, argv, false);
}

/* bf.mexists KEY ITEM...: 1 (maybe there) or 0 (surely not) for each;
 * bf.exists KEY ITEM exits 1 for 0. */
static int bf_exists(cli *x, int argc, char **argv, bool one)
{
    pc_bytes *items = NULL;
    int *has = cli_alloc(x, (size_t)argc - 1, sizeof *has);
    pc_read *r;
    int ex = arg_bytes(x, argv + 1, argc - 1, 1, &items);
    if (ex || (ex = read_begin(x, &r)))
        return ex;
    int rc = has ? pc_bf_mexists(r, KEY(argv[0]), items, (size_t)argc - 1, has) : PC_ENOMEM;
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    if (one)
        return out_flag(x, has[0]);
    int st = 0;
    if (x->json)
        out_open(&st, '[');
    for (int i = 0; i < argc - 1; i++) {
        if (x->json)
            out_next(&st), printf("%d", has[i]);
        else
            printf("%d\n", has[i]);
    }
    if (x->json)
        out_close(&st, '[', ']');
    return EX_DONE;
}

static int cmd_bf_exists(cli *x, int argc, char **argv)
{
    return bf_exists(x, argc, argv, true);
}

static int cmd_bf_mexists(cli *x, int argc, char **argv)
{
    return bf_exists(x, argc, argv, false);
}

/* bf.info KEY: RedisBloom's figures, "name:value" lines (or a JSON object). */
static int cmd_bf_info(cli *x, int argc, char **argv)
{
    (void)argc;
    pc_read *r;
    pc_bf_info bi;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_bf_info_get(r, KEY(argv[0]), &bi);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND)
        return out_missing(x);
    if (rc)
        return cli_fail(x, rc);
    unsigned long long cap = bi.capacity, size = bi.size, items = bi.items;
    if (x->json)
        printf("{\"capacity\":%llu,\"size\":%llu,\"filters\":%u,\"items\":%llu,"
               "\"expansion\":%u,\"error_rate\":%.17g,\"nonscaling\":%s}\n",
               cap, size, bi.filters, items, bi.expansion, bi.error_rate,
               bi.nonscaling ? "true" : "false");
    else
        printf("capacity:%llu\nsize:%llu\nfilters:%u\nitems:%llu\nexpansion:%u\n"
               "error_rate:%.17g\nnonscaling:%s\n",
               cap, size, bi.filters, items, bi.expansion, bi.error_rate,
               bi.nonscaling ? "yes" : "no");
    return EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* The dispatch table (sorted by name) and main                              */

#define SET_ARGS                                                                                  \
    "KEY (VALUE | --int N | --double X | --list JSON | --map JSON | --set JSON | --queue JSON)\n" \
    "                 [--ttl SECONDS | --ttl-ms MS] [--nx | --xx] [--keepttl]"

static const cmd cmds[] = {
    {"append", cmd_append, 2, 2, ARGS_ANY, "KEY VALUE"},
    {"bf.add", cmd_bf_add, 2, 2, ARGS_ANY, "KEY ITEM"},
    {"bf.exists", cmd_bf_exists, 2, 2, ARGS_ANY, "KEY ITEM"},
    {"bf.info", cmd_bf_info, 1, 1, ARGS_ANY, "KEY"},
    {"bf.madd", cmd_bf_madd, 2, -1, ARGS_ANY, "KEY ITEM..."},
    {"bf.mexists", cmd_bf_mexists, 2, -1, ARGS_ANY, "KEY ITEM..."},
    {"bf.reserve", cmd_bf_reserve, 3, 6, ARGS_ANY,
     "KEY ERROR_RATE CAPACITY [EXPANSION N] [NONSCALING]"},
    {"bitcount", cmd_bitcount, 1, 4, ARGS_ANY, "KEY [START END [BYTE|BIT]]"},
    {"bitop", cmd_bitop, 3, -1, ARGS_ANY, "AND|OR|XOR|NOT DESTKEY KEY..."},
    {"bitpos", cmd_bitpos, 2, 5, ARGS_ANY, "KEY BIT [START [END [BYTE|BIT]]]"},
    {"decr", cmd_decr, 1, 1, ARGS_ANY, "KEY"},
    {"decrby", cmd_decrby, 2, 2, ARGS_ANY, "KEY N"},
    {"del", cmd_del, 1, -1, ARGS_ANY, "KEY..."},
    {"exists", cmd_exists, 1, -1, ARGS_ANY, "KEY..."},
    {"expire", cmd_expire, 2, 2, ARGS_ANY, "KEY SECONDS"},
    {"flushall", cmd_flushall, 0, 0, ARGS_ANY, ""},
    {"flushdb", cmd_flushall, 0, 0, ARGS_ANY, ""},
    {"get", cmd_get, 1, 1, ARGS_ANY, "KEY"},
    {"getbit", cmd_getbit, 2, 2, ARGS_ANY, "KEY OFFSET"},
    {"getrange", cmd_getrange, 3, 3, ARGS_ANY, "KEY START END"},
    {"getset", cmd_getset, 2, 2, ARGS_ANY, "KEY VALUE"},
    {"hdel", cmd_hdel, 2, -1, ARGS_ANY, "KEY FIELD..."},
    {"hexists", cmd_hexists, 2, 2, ARGS_ANY, "KEY FIELD"},
    {"hget", cmd_hget, 2, 2, ARGS_ANY, "KEY FIELD"},
    {"hgetall", cmd_hgetall, 1, 1, ARGS_ANY, "KEY"},
    {"hincrby", cmd_hincrby, 3, 3, ARGS_ANY, "KEY FIELD N"},
    {"hincrbyfloat", cmd_hincrbyfloat, 3, 3, ARGS_ANY, "KEY FIELD X"},
    {"hlen", cmd_hlen, 1, 1, ARGS_ANY, "KEY"},
    {"hset", cmd_hset, 3, -1, ARGS_KEY_PAIRS, "KEY FIELD VALUE [FIELD VALUE...]"},
    {"incr", cmd_incr, 1, 1, ARGS_ANY, "KEY"},
    {"incrby", cmd_incrby, 2, 2, ARGS_ANY, "KEY N"},
    {"incrbyfloat", cmd_incrbyfloat, 2, 2, ARGS_ANY, "KEY X"},
    {"keys", cmd_keys, 0, 1, ARGS_ANY, "[GLOB]"},
    {"lindex", cmd_lindex, 2, 2, ARGS_ANY, "KEY INDEX"},
    {"llen", cmd_llen, 1, 1, ARGS_ANY, "KEY"},
    {"lpop", cmd_lpop, 1, 2, ARGS_ANY, "KEY [COUNT]"},
    {"lpush", cmd_lpush, 2, -1, ARGS_ANY, "KEY VALUE..."},
    {"lrange", cmd_lrange, 3, 3, ARGS_ANY, "KEY START STOP"},
    {"lrem", cmd_lrem, 3, 3, ARGS_ANY, "KEY COUNT VALUE"},
    {"lset", cmd_lset, 3, 3, ARGS_ANY, "KEY INDEX VALUE"},
    {"ltrim", cmd_ltrim, 3, 3, ARGS_ANY, "KEY START STOP"},
    {"mget", cmd_mget, 1, -1, ARGS_ANY, "KEY..."},
    {"mset", cmd_mset, 2, -1, ARGS_PAIRS, "KEY VALUE [KEY VALUE...]"},
    {"persist", cmd_persist, 1, 1, ARGS_ANY, "KEY"},
    {"pexpire", cmd_pexpire, 2, 2, ARGS_ANY, "KEY MS"},
    {"pttl", cmd_pttl, 1, 1, ARGS_ANY, "KEY"},
    {"qlen", cmd_qlen, 1, 1, ARGS_ANY, "KEY"},
    {"qpeek", cmd_qpeek, 1, 1, ARGS_ANY, "KEY"},
    {"qpop", cmd_qpop, 1, 2, ARGS_ANY, "KEY [COUNT]"},
    {"qpush", cmd_qpush, 2, -1, ARGS_ANY, "KEY VALUE..."},
    {"rpop", cmd_rpop, 1, 2, ARGS_ANY, "KEY [COUNT]"},
    {"rpush", cmd_rpush, 2, -1, ARGS_ANY, "KEY VALUE..."},
    {"sadd", cmd_sadd, 2, -1, ARGS_ANY, "KEY MEMBER..."},
    {"scard", cmd_scard, 1, 1, ARGS_ANY, "KEY"},
    {"sdiff", cmd_sdiff, 1, -1, ARGS_ANY, "KEY..."},
    {"set", cmd_set, 2, -1, ARGS_ANY, SET_ARGS},
    {"setbit", cmd_setbit, 3, 3, ARGS_ANY, "KEY OFFSET 0|1"},
    {"setrange", cmd_setrange, 3, 3, ARGS_ANY, "KEY OFFSET VALUE"},
    {"sinter", cmd_sinter, 1, -1, ARGS_ANY, "KEY..."},
    {"sismember", cmd_sismember, 2, 2, ARGS_ANY, "KEY MEMBER"},
    {"smembers", cmd_smembers, 1, 1, ARGS_ANY, "KEY"},
    {"spop", cmd_spop, 1, 2, ARGS_ANY, "KEY [COUNT]"},
    {"srem", cmd_srem, 2, -1, ARGS_ANY, "KEY MEMBER..."},
    {"strlen", cmd_strlen, 1, 1, ARGS_ANY, "KEY"},
    {"sunion", cmd_sunion, 1, -1, ARGS_ANY, "KEY..."},
    {"throttle", cmd_throttle, 4, 5, ARGS_ANY, "KEY MAX_BURST COUNT PERIOD [QUANTITY]"},
    {"ttl", cmd_ttl, 1, 1, ARGS_ANY, "KEY"},
    {"type", cmd_type, 1, 1, ARGS_ANY, "KEY"},
};

static int cmd_compare(const void *name, const void *entry)
{
    return strcasecmp(name, ((const cmd *)entry)->name);
}

static const cmd *cmd_find(const char *name)
{
    return bsearch(name, cmds, sizeof cmds / sizeof *cmds, sizeof *cmds, cmd_compare);
}

static bool cmd_arity_ok(const cmd *c, int n)
{
    if (n < c->min || (c->max >= 0 && n > c->max))
        return false;
    if (c->shape == ARGS_PAIRS)
        return n % 2 == 0;
    if (c->shape == ARGS_KEY_PAIRS)
        return n % 2 == 1;
    return true;
}

#define SYNOPSIS                                                           \
    "usage: pccli [-d DIR] [--embedded] [--json] [-T] COMMAND [ARGS...]\n" \
    "       pccli --help | --version\n"

/* The short usage for a command line that makes no sense: on stderr, EX_ERR. */
static int usage_short(const char *why, const char *what)
{
    fprintf(stderr, "pccli: %s%s\n" SYNOPSIS "Try 'pccli --help' for the commands.\n", why, what);
    return EX_ERR;
}

static void usage(FILE *f)
{
    fputs(SYNOPSIS
          "\n"
          "  -d, --dir DIR  the store directory (default: $PYCACHE_DIR, else the\n"
          "                 library's default)\n"
          "  --embedded     open the store directly (creating it) instead of using pycached\n"
          "  --json         print every result as JSON\n"
          "  -T, --typed    read VALUE and MEMBER arguments as JSON scalars\n"
          "                 (1, 2.5, true, false, null, \"text\")\n"
          "  -h, --help     print this help\n"
          "  --version      print the version\n"
          "\n"
          "Commands (case-insensitive):\n",
          f);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].args);
    fputs("\nExit status: 0 done, 1 missing or false, 2 error.  See pccli(1).\n", f);
}

/* Open the client as asked; EX_DONE or EX_ERR with a message. */
static int connect_store(const char *dir, bool embedded, pc_client **c)
{
    pc_options o;
    pc_options_init(&o);
    if (embedded)
        o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE;
    int rc = pc_connect(dir, &o, c);
    if (!rc)
        return EX_DONE;
    const char *shown = dir ? dir : "the default store directory";
    if (rc == PC_ECONNREFUSED)
        fprintf(stderr, "pccli: no daemon is serving %s (start pycached, or use --embedded)\n",
                shown);
    else
        fprintf(stderr, "pccli: cannot open the store in %s: %s (%s)%s\n", shown, pc_strerror(rc),
                pc_err_name(rc),
                rc == PC_EBUSY && embedded ? "; is pycached serving it? then drop --embedded" : "");
    return EX_ERR;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"embedded", no_argument, NULL, 'E'},
        {"json", no_argument, NULL, 'J'},
        {"typed", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    cli x = {0};
    const char *dir = NULL;
    bool embedded = false;
    int o;
    opterr = 0; /* our own messages below */
    while ((o = getopt_long(argc, argv, "+:d:Th", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            dir = optarg;
            break;
        case 'E':
            embedded = true;
            break;
        case 'J':
            x.json = true;
            break;
        case 'T':
            x.typed = true;
            break;
        case 'h':
            usage(stdout);
            return fflush(stdout) ? EX_ERR : EX_DONE;
        case 'V':
            printf("pccli (pycache) %s\n", PACKAGE_VERSION);
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
    if (optind >= argc)
        return usage_short("no command given", "");
    if (!(x.cmd = cmd_find(argv[optind])))
        return usage_short("unknown command: ", argv[optind]);
    int nargs = argc - optind - 1;
    if (!cmd_arity_ok(x.cmd, nargs))
        return cli_usage(&x);
    const char *env = getenv("PYCACHE_DIR");
    if (!dir && env && *env)
        dir = env;
    if (connect_store(dir, embedded, &x.c))
        return EX_ERR;
    pcjson_arena_init(&x.arena);
    int ex = x.cmd->fn(&x, nargs, argv + optind + 1);
    pc_close(x.c);
    pcjson_arena_free(&x.arena);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "pccli: error writing the output: %s\n", strerror(errno));
        return EX_ERR;
    }
    return ex;
}
