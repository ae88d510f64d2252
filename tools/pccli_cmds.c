/*
 * pccli_cmds.c - pccli's commands: one static handler each, behind one
 * table sorted by name (pccli_cmds).  Each checks its arguments, calls the
 * library and prints the answer in Redis's shape (pccli(1)).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pccli.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* Argument i as a pc_bytes. */
#define B(i) pc_b(x->av[(i)], x->al[(i)])

typedef int (*pop_fn)(pc_client *, const void *, size_t, size_t, pc_val *, size_t *);
typedef int (*push_fn)(pc_client *, const void *, size_t, const pc_val *, size_t, uint64_t *);
typedef int (*algebra_fn)(pc_read *, const pc_bytes *, size_t, pc_cursor *, pc_val *, size_t,
                          size_t *);

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

/* DEL and UNLINK (one: a collection goes in O(1) either way). */
static int cmd_del(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_bytes *keys = NULL;
    uint64_t n = 0;
    int ex = arg_bytes(x, 0, argc, 1, &keys);
    if (ex)
        return ex;
    int rc = pc_del_keys(x->c, keys, (size_t)argc, &n);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* EXISTS and TOUCH: how many of the keys exist (TOUCH also records an
 * access, as every read does). */
static int do_count_keys(cli *x, int argc, bool touch)
{
    pc_bytes *keys = NULL;
    pc_read *r;
    uint64_t n = 0;
    int ex = arg_bytes(x, 0, argc, 1, &keys);
    if (ex || (ex = read_begin(x, &r)))
        return ex;
    int rc =
        touch ? pc_touch(r, keys, (size_t)argc, &n) : pc_exists_keys(r, keys, (size_t)argc, &n);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    out_int(x, (int64_t)n);
    return n ? EX_DONE : EX_NO;
}

static int cmd_exists(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_count_keys(x, argc, false);
}

static int cmd_touch(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_count_keys(x, argc, true);
}

static int cmd_expire(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t ttl;
    int set = 0, ex = arg_ttl(x, 1, !strcasecmp(x->cmd->name, "pexpire"), &ttl);
    if (ex)
        return ex;
    int rc = pc_expire(x->c, ARG(0), ttl, &set);
    return rc ? cli_fail(x, rc) : out_flag(x, set);
}

/* EXPIREAT and PEXPIREAT: a time past deletes the key. */
static int cmd_expireat(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t at;
    int set = 0, ex = arg_time(x, 1, !strcasecmp(x->cmd->name, "pexpireat"), &at);
    if (ex)
        return ex;
    int rc = pc_expireat(x->c, ARG(0), at, &set);
    return rc ? cli_fail(x, rc) : out_flag(x, set);
}

/* TTL, PTTL, EXPIRETIME, PEXPIRETIME: -1 no TTL, -2 (exit 1) missing. */
static int cmd_ttl(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *n = x->cmd->name;
    bool ms = n[0] == 'p', at = strstr(n, "time") != NULL;
    pc_read *r;
    int64_t v = 0;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = at   ? pc_expiretime(r, ARG(0), &v)
             : ms ? pc_ttl(r, ARG(0), &v)
                  : pc_ttl_sec(r, ARG(0), &v);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND) {
        out_int(x, -2);
        return EX_NO;
    }
    if (rc)
        return cli_fail(x, rc);
    if (at && !ms && v > 0)
        v /= 1000;
    return out_int(x, v);
}

static int cmd_persist(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int changed = 0, rc = pc_persist(x->c, ARG(0), &changed);
    return rc ? cli_fail(x, rc) : out_flag(x, changed);
}

static int cmd_type(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_type t;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_type_of(r, ARG(0), &t);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    out_text(x, pc_type_name(t));
    return t == PC_T_NONE ? EX_NO : EX_DONE;
}

/* OBJECT ENCODING KEY: how the key is held (pycache keeps no LRU clock or
 * LFU counter per key that a client could read, nor reference counts). */
static int cmd_object(cli *x, int argc, char **argv)
{
    (void)argv;
    if (arg_is(x, 0, "help")) {
        if (argc != 1)
            return cli_usage(x);
        return out_text(x, "OBJECT ENCODING KEY: string, int, double, list, map, set, queue, "
                           "flight, bits, bloom, stream or zset");
    }
    if (!arg_is(x, 0, "encoding"))
        return cli_err(x, "only OBJECT ENCODING and OBJECT HELP: pycache keeps no reference "
                          "counts, idle times or frequencies a client can read");
    if (argc != 2)
        return cli_usage(x);
    pc_read *r;
    pc_type t;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_type_of(r, ARG(1), &t);
    if (!rc && t == PC_T_NUMERIC)
        rc = pc_get(r, ARG(1), &v);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    if (t == PC_T_NONE)
        return out_missing(x);
    return out_text(x, t != PC_T_NUMERIC ? pc_type_name(t) : v.kind == PC_INT ? "int" : "double");
}

static int cmd_keys(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[PAGE];
    int state = 0;
    if (argc && strlen(x->av[0]) != x->al[0])
        return cli_err(x, "a pattern cannot hold a NUL byte");
    int ex = read_begin(x, &r), rc = 0;
    if (ex)
        return ex;
    while (!cur.done && !rc) {
        size_t n = 0;
        rc = pc_scan(r, argc ? x->av[0] : NULL, &cur, keys, PAGE, &n);
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

/*
 * SCAN's cursor on the command line: "0" to start and when done; between,
 * the library's position in hexadecimal (started, shard, length, bytes).
 */
static void cursor_print(cli *x, const pc_cursor *c, char *buf)
{
    (void)x;
    if (c->done) {
        strcpy(buf, "0");
        return;
    }
    char *p = buf + sprintf(buf, "%02x%08" PRIx32 "%04x", c->started, c->shard, c->len);
    for (unsigned i = 0; i < c->len && i < PC_CURSOR_POS_MAX; i++)
        p += sprintf(p, "%02x", c->pos[i]);
}

static int cursor_parse(cli *x, int i, pc_cursor *c)
{
    const char *s = x->av[i];
    size_t n = x->al[i];
    memset(c, 0, sizeof *c);
    if (n == 1 && s[0] == '0')
        return 0;
    unsigned started, len;
    uint32_t shard;
    if (n < 14 || n % 2 || strlen(s) != n || strspn(s, "0123456789abcdef") != n ||
        sscanf(s, "%2x%8" SCNx32 "%4x", &started, &shard, &len) != 3 || started > 1 ||
        len > PC_CURSOR_POS_MAX || n != 14 + 2 * (size_t)len)
        return cli_err(x, "not a cursor that scan gave: '%s'", s);
    for (unsigned k = 0; k < len; k++) {
        unsigned b;
        if (sscanf(s + 14 + 2 * k, "%2x", &b) != 1)
            return cli_err(x, "not a cursor that scan gave: '%s'", s);
        c->pos[k] = (unsigned char)b;
    }
    c->started = (uint8_t)started;
    c->shard = shard;
    c->len = (uint16_t)len;
    return 0;
}

/* SCAN CURSOR [MATCH GLOB] [COUNT N] [TYPE TYPE]: the next cursor, then the
 * keys of one page (COUNT keys looked at, fewer given when TYPE leaves some
 * out). */
static int cmd_scan(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_cursor cur;
    const char *glob = NULL;
    int64_t count = 10;
    pc_type want = PC_T_NONE;
    int ex = cursor_parse(x, 0, &cur);
    for (int i = 1; i < argc && !ex; i += 2) {
        if (i + 1 >= argc)
            return cli_usage(x);
        if (arg_is(x, i, "match")) {
            if (strlen(x->av[i + 1]) != x->al[i + 1])
                return cli_err(x, "a pattern cannot hold a NUL byte");
            glob = x->av[i + 1];
        } else if (arg_is(x, i, "count")) {
            ex = arg_min(x, "COUNT", i + 1, 1, &count);
        } else if (arg_is(x, i, "type")) {
            for (int t = PC_T_STRING; t < PC_T__COUNT; t++)
                if (arg_is(x, i + 1, pc_type_name((pc_type)t)))
                    want = (pc_type)t;
            if (want == PC_T_NONE)
                return cli_err(x, "unknown type '%s'", x->av[i + 1]);
        } else {
            return cli_err(x, "unknown option '%s' (MATCH, COUNT or TYPE)", x->av[i]);
        }
    }
    if (ex)
        return ex;
    size_t max = count > 100000 ? 100000 : (size_t)count, n = 0;
    pc_bytes *keys = cli_alloc(x, max, sizeof *keys);
    char *cbuf = cli_alloc(x, 16 + 2 * PC_CURSOR_POS_MAX, 1);
    pc_read *r;
    if (!keys || !cbuf)
        return cli_fail(x, PC_ENOMEM);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_scan(r, glob, &cur, keys, max, &n);
    bool *keep = n ? cli_alloc(x, n, sizeof *keep) : NULL;
    for (size_t i = 0; !rc && i < n; i++) {
        pc_type t = PC_T_NONE;
        if (want != PC_T_NONE)
            rc = pc_type_of(r, keys[i].ptr, keys[i].len, &t);
        keep[i] = want == PC_T_NONE || t == want;
    }
    cursor_print(x, &cur, cbuf);
    if (!rc) {
        int state = 0;
        if (x->json) {
            fputs("[\"", stdout);
            fputs(cbuf, stdout);
            fputs("\",", stdout);
        } else {
            puts(cbuf);
        }
        for (size_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            if (x->json) {
                out_open(&state, '[');
                out_next(&state);
                pcjson_write_str(stdout, keys[i].ptr, keys[i].len);
            } else {
                fwrite(keys[i].ptr, 1, keys[i].len, stdout);
                putchar('\n');
            }
        }
        if (x->json) {
            out_open(&state, '[');
            puts("]]");
        }
    }
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

static int cmd_randomkey(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_bytes k;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_randomkey(r, &k);
    if (!rc)
        ex = out_bytes(x, k.ptr, k.len);
    else
        ex = rc == PC_ENOTFOUND ? out_missing(x) : cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

static int cmd_dbsize(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    uint64_t n = 0;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_dbsize(r, &n);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

/* RENAME (nothing printed; a missing key is an error, as in Redis) and
 * RENAMENX (1, or 0 and exit 1 when NEWKEY exists). */
static int cmd_rename(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bool nx = !strcasecmp(x->cmd->name, "renamenx");
    int done = 0, rc = pc_rename(x->c, ARG(0), ARG(1), nx ? PC_RENAME_NX : 0, &done);
    if (rc)
        return cli_fail(x, rc);
    return nx ? out_flag(x, done) : out_done(x);
}

/* FLUSHALL (and FLUSHDB: there is one database): every key of every type. */
static int cmd_flushall(cli *x, int argc, char **argv)
{
    (void)argv;
    if (argc && !arg_is(x, 0, "sync") && !arg_is(x, 0, "async"))
        return cli_usage(x);
    int rc = pc_flush(x->c);
    return rc ? cli_fail(x, rc) : out_done(x);
}

/* ------------------------------------------------------------------------ */
/* Strings and numerics                                                      */

/* set's parsed arguments. */
typedef struct set_args {
    int value;        /* the value's argument */
    const char *vopt; /* NULL: a plain VALUE, else --int, --double, --list ... */
    pc_type coll;     /* PC_T_NONE: a String or Numeric */
    int64_t ttl;      /* ms; 0: none */
    int64_t at;       /* an expiry time in ms (EXAT, PXAT); -1: none */
    unsigned flags;   /* PC_NX, PC_XX, PC_KEEPTTL */
    bool get;         /* GET: print what the key held */
} set_args;

static const struct {
    const char *opt;
    pc_type coll;
} set_value_opts[] = {
    {"--int", PC_T_NONE}, {"--double", PC_T_NONE}, {"--list", PC_T_LIST},
    {"--map", PC_T_MAP},  {"--set", PC_T_SET},     {"--queue", PC_T_QUEUE},
};

/* One expiry option (--ttl, --ttl-ms, EX, PX, EXAT, PXAT) at argument i. */
static int set_expiry(cli *x, int i, int kind, bool *given, set_args *s)
{
    if (i + 1 >= x->ac)
        return cli_err(x, "%s needs a value", x->av[i]);
    if (*given)
        return cli_err(x, "give one of --ttl, --ttl-ms, EX, PX, EXAT and PXAT");
    *given = true;
    if (kind < 2)
        return arg_ttl(x, i + 1, kind == 1, &s->ttl);
    return arg_time(x, i + 1, kind == 3, &s->at);
}

/* SET's arguments after KEY: the value, then Redis's options (EX PX EXAT
 * PXAT NX XX KEEPTTL GET, any case) or pccli's (--ttl --ttl-ms --nx --xx
 * --keepttl), in any order. */
static int set_parse(cli *x, set_args *s)
{
    bool have = false, exp = false;
    static const char *const expiry[] = {"ex", "px", "exat", "pxat"};
    for (int i = 1; i < x->ac; i++) {
        const char *a = x->av[i];
        int ex = 0, kind = -1;
        if (!strcmp(a, "--ttl"))
            kind = 0;
        else if (!strcmp(a, "--ttl-ms"))
            kind = 1;
        for (int k = 0; have && k < 4; k++)
            if (arg_is(x, i, expiry[k]))
                kind = k == 0 ? 0 : k == 1 ? 1 : k;
        if (kind >= 0) {
            if ((ex = set_expiry(x, i, kind, &exp, s)))
                return ex;
            i++;
            continue;
        }
        unsigned f = 0;
        if (!strcmp(a, "--nx") || (have && arg_is(x, i, "nx")))
            f = PC_NX;
        else if (!strcmp(a, "--xx") || (have && arg_is(x, i, "xx")))
            f = PC_XX;
        else if (!strcmp(a, "--keepttl") || (have && arg_is(x, i, "keepttl")))
            f = PC_KEEPTTL;
        if (f) {
            s->flags |= f;
            continue;
        }
        if (have && arg_is(x, i, "get")) {
            s->get = true;
            continue;
        }
        const char *vopt = NULL;
        pc_type coll = PC_T_NONE;
        for (size_t k = 0; k < sizeof set_value_opts / sizeof *set_value_opts; k++)
            if (!strcmp(a, set_value_opts[k].opt)) {
                vopt = set_value_opts[k].opt;
                coll = set_value_opts[k].coll;
            }
        int at = i;
        if (vopt || !strcmp(a, "--")) {
            if (i + 1 >= x->ac)
                return cli_err(x, "%s needs a value", a);
            at = ++i;
        } else if (a[0] == '-' && a[1] == '-' && x->al[i] == strlen(a)) {
            return cli_err(x, "unknown option '%s' (use -- before a value that starts with --)", a);
        }
        if (have)
            return cli_err(x,
                           "more than one value given: '%s' (options after the value: EX, PX, "
                           "EXAT, PXAT, NX, XX, KEEPTTL, GET)",
                           x->av[at]);
        s->value = at;
        s->vopt = vopt;
        s->coll = coll;
        have = true;
    }
    if (!have)
        return cli_usage(x);
    if ((s->flags & PC_NX) && (s->flags & PC_XX))
        return cli_err(x, "NX and XX cannot be combined");
    if ((s->flags & PC_KEEPTTL) && exp)
        return cli_err(x, "KEEPTTL and a TTL cannot be combined");
    if (s->get && s->coll != PC_T_NONE)
        return cli_err(x, "GET goes with a String or Numeric value");
    return 0;
}

/* The String or Numeric value of set's arguments. */
static int set_scalar(cli *x, const set_args *s, pc_val *v)
{
    int ex = 0;
    if (!s->vopt) {
        if ((ex = arg_val(x, s->value, v)))
            return ex;
        if (v->kind != PC_BYTES && v->kind != PC_INT && v->kind != PC_DOUBLE)
            return cli_err(x,
                           "a key holds a String or a Numeric: '%s' is neither (use --list, "
                           "--set ... for collections)",
                           x->av[s->value]);
    } else if (!strcmp(s->vopt, "--int")) {
        v->kind = PC_INT;
        ex = arg_i64(x, "--int", s->value, &v->i);
    } else {
        v->kind = PC_DOUBLE;
        ex = arg_double(x, "--double", s->value, &v->d);
    }
    return ex;
}

/* Queue (in a transaction) or run the write set's arguments ask for. */
static int set_write(cli *x, const set_args *s, const pc_val *v, const pc_val *items, size_t n)
{
    unsigned flags = s->flags;
    int rc = s->coll != PC_T_NONE ? pc_set_coll(x->c, ARG(0), s->coll, items, n, s->ttl, flags)
                                  : pc_set(x->c, ARG(0), v, s->ttl, flags);
    if (!rc && s->at >= 0)
        rc = pc_expireat(x->c, ARG(0), s->at, NULL);
    return rc;
}

static int cmd_set(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    set_args s = {.value = -1, .coll = PC_T_NONE, .at = -1};
    pc_val v = {0}, old = {0}, *items = NULL;
    size_t n = 0;
    int ex = set_parse(x, &s), rc;
    if (ex)
        return ex;
    if (s.coll != PC_T_NONE) {
        if (pcjson_parse_items(x->av[s.value], x->al[s.value], s.coll, &items, &n, &x->arena))
            return cli_err(x, "bad JSON for %s: %s", s.vopt, x->arena.msg);
    } else if ((ex = set_scalar(x, &s, &v))) {
        return ex;
    }
    if (s.at < 0 && !s.get) {
        rc = set_write(x, &s, &v, items, n);
    } else {
        /* EXAT, PXAT and GET: one transaction (one key, one shard) */
        rc = pc_txn_begin(x->c);
        if (!rc && s.get)
            rc = pc_getex(x->c, ARG(0), PC_GETEX_KEEP, 0, &old);
        if (!rc)
            rc = set_write(x, &s, &v, items, n);
        if (!rc)
            rc = pc_txn_commit(x->c, NULL);
        else
            pc_discard(x->c);
    }
    bool written = !rc;
    if (rc == PC_EEXIST || (rc == PC_ENOTFOUND && (s.flags & PC_XX))) {
        if (!s.get)
            return out_notdone(x);
        /* NX or XX did not write: show what the key holds, as Redis does */
        pc_read *r;
        if ((ex = read_begin(x, &r)))
            return ex;
        rc = pc_get(r, ARG(0), &old);
        if (rc == PC_ENOTFOUND)
            old.kind = PC_NONE;
        else if (rc) {
            pc_read_end(r);
            return cli_fail(x, rc);
        }
        ex = old.kind == PC_NONE ? out_missing(x) : out_val(x, &old);
        pc_read_end(r);
        return EX_NO;
    }
    if (rc)
        return cli_fail(x, rc);
    if (!s.get)
        return out_done(x);
    if (old.kind == PC_NONE) {
        out_missing(x);
        return written ? EX_DONE : EX_NO;
    }
    return out_val(x, &old);
}

/* SETNX KEY VALUE: 1 set, 0 (exit 1) the key exists. */
static int cmd_setnx(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_val v;
    int ex = arg_val(x, 1, &v);
    if (ex)
        return ex;
    int rc = pc_set(x->c, ARG(0), &v, 0, PC_NX);
    if (rc == PC_EEXIST)
        return out_flag(x, 0);
    return rc ? cli_fail(x, rc) : out_flag(x, 1);
}

/* SETEX KEY SECONDS VALUE, PSETEX KEY MS VALUE. */
static int cmd_setex(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t ttl;
    pc_val v;
    int ex = arg_ttl(x, 1, x->cmd->name[0] == 'p', &ttl);
    if (ex || (ex = arg_val(x, 2, &v)))
        return ex;
    int rc = pc_set(x->c, ARG(0), &v, ttl, 0);
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_get(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_get(r, ARG(0), &v);
    if (!rc)
        ex = out_val(x, &v);
    else if (rc == PC_ENOTFOUND)
        ex = out_missing(x);
    else if (rc == PC_EWRONGTYPE && !(rc = print_coll(r, B(0))))
        ex = EX_DONE;
    else
        ex = cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

/* GETSET KEY VALUE: what the key held (nothing, or null, when missing);
 * exit 0: it wrote either way. */
static int cmd_getset(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_val v, old;
    int ex = arg_val(x, 1, &v);
    if (ex)
        return ex;
    int rc = pc_getset(x->c, ARG(0), &v, &old);
    if (rc)
        return cli_fail(x, rc);
    if (old.kind == PC_NONE) {
        out_missing(x);
        return EX_DONE;
    }
    return out_val(x, &old);
}

static int cmd_getdel(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_val old;
    int rc = pc_getdel(x->c, ARG(0), &old);
    if (rc)
        return cli_fail(x, rc);
    return old.kind == PC_NONE ? out_missing(x) : out_val(x, &old);
}

/* GETEX KEY [EX SECONDS | PX MS | EXAT TIME | PXAT MS-TIME | PERSIST]. */
static int cmd_getex(cli *x, int argc, char **argv)
{
    (void)argv;
    int how = PC_GETEX_KEEP, ex = 0;
    int64_t ms = 0;
    if (argc == 2 && arg_is(x, 1, "persist"))
        how = PC_GETEX_PERSIST;
    else if (argc == 3 && (arg_is(x, 1, "ex") || arg_is(x, 1, "px"))) {
        how = PC_GETEX_TTL;
        ex = arg_ttl(x, 2, arg_is(x, 1, "px"), &ms);
    } else if (argc == 3 && (arg_is(x, 1, "exat") || arg_is(x, 1, "pxat"))) {
        how = PC_GETEX_AT;
        ex = arg_time(x, 2, arg_is(x, 1, "pxat"), &ms);
    } else if (argc != 1) {
        return cli_usage(x);
    }
    if (ex)
        return ex;
    pc_val v;
    int rc = pc_getex(x->c, ARG(0), how, ms, &v);
    if (rc)
        return cli_fail(x, rc);
    return v.kind == PC_NONE ? out_missing(x) : out_val(x, &v);
}

static int cmd_mset(cli *x, int argc, char **argv)
{
    (void)argv;
    int n = argc / 2;
    pc_bytes *keys = NULL;
    pc_val *vals = cli_alloc(x, (size_t)n, sizeof *vals);
    int ex = arg_bytes(x, 0, n, 2, &keys);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    for (int i = 0; i < n; i++)
        if ((ex = arg_val(x, 2 * i + 1, &vals[i])))
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

/* MGET KEY...: a JSON object of the keys that hold a String or Numeric. */
static int cmd_mget(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_bytes *keys = NULL;
    pc_val *vals = cli_alloc(x, (size_t)argc, sizeof *vals);
    pc_read *r;
    size_t found = 0;
    int ex = arg_bytes(x, 0, argc, 1, &keys);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_mget_typed(r, keys, (size_t)argc, vals, NULL, &found);
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

/* INCR, DECR, INCRBY, DECRBY. */
static int cmd_incr(cli *x, int argc, char **argv)
{
    (void)argv;
    const char *n = x->cmd->name;
    int64_t by = n[0] == 'd' ? -1 : 1, now;
    if (argc == 2) {
        int ex = arg_i64(x, n[0] == 'd' ? "decrement" : "increment", 1, &by);
        if (ex)
            return ex;
        if (n[0] == 'd') {
            if (by == INT64_MIN)
                return cli_fail(x, PC_EOVERFLOW);
            by = -by;
        }
    }
    int rc = pc_incrby(x->c, ARG(0), by, &now);
    return rc ? cli_fail(x, rc) : out_int(x, now);
}

static int cmd_incrbyfloat(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    double by, now;
    int ex = arg_double(x, "increment", 1, &by);
    if (ex)
        return ex;
    int rc = pc_incrbyfloat(x->c, ARG(0), by, &now);
    return rc ? cli_fail(x, rc) : out_double(x, now);
}

static int cmd_append(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t len;
    int rc = pc_append(x->c, ARG(0), ARG(1), &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_setrange(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t off;
    uint64_t len;
    int ex = arg_min(x, "OFFSET", 1, 0, &off);
    if (ex)
        return ex;
    int rc = pc_setrange(x->c, ARG(0), (uint64_t)off, ARG(2), &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_strlen(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_strlen);
}

static int cmd_getrange(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t start, end;
    pc_read *r;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "START", 1, &start)) || (ex = arg_i64(x, "END", 2, &end)) ||
        (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_getrange(r, ARG(0), start, end, &v);
    if (!rc)
        ex = out_val(x, &v);
    else
        ex = rc == PC_ENOTFOUND ? out_missing(x) : cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

/* ------------------------------------------------------------------------ */
/* Lists and queues                                                          */

static int do_push(cli *x, int argc, push_fn push)
{
    pc_val *v = NULL;
    uint64_t len;
    int ex = arg_vals(x, 1, argc - 1, &v);
    if (ex)
        return ex;
    int rc = push(x->c, ARG(0), v, (size_t)argc - 1, &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_lpush(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_push(x, argc, pc_lpush);
}

static int cmd_rpush(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_push(x, argc, pc_rpush);
}

static int cmd_qpush(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_push(x, argc, pc_qpush);
}

static int cmd_sadd(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_push(x, argc, pc_sadd);
}

static int cmd_srem(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_push(x, argc, pc_srem);
}

/*
 * Pop one element (printed as a scalar) or, with COUNT, up to COUNT of them
 * (a JSON array).  The buffer is sized by the current length, so a huge
 * COUNT costs nothing.
 */
static int do_pop(cli *x, int argc, pop_fn pop, len_fn lenf)
{
    pc_val one, *out = &one;
    size_t n = 0, max = 1;
    if (argc == 2) {
        int64_t count;
        uint64_t len;
        pc_read *r;
        int ex = arg_min(x, "COUNT", 1, 1, &count);
        if (ex || (ex = read_begin(x, &r)))
            return ex;
        int rc = get_len(r, lenf, B(0), &len);
        pc_read_end(r);
        if (rc)
            return cli_fail(x, rc);
        max = len < (uint64_t)count ? (size_t)len : (size_t)count;
        max = max ? max : 1;
        if (!(out = cli_alloc(x, max, sizeof *out)))
            return cli_fail(x, PC_ENOMEM);
    }
    int rc = pop(x->c, ARG(0), max, out, &n);
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
    (void)argv;
    return do_pop(x, argc, pc_lpop, pc_llen);
}

static int cmd_rpop(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_pop(x, argc, pc_rpop, pc_llen);
}

static int cmd_qpop(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_pop(x, argc, pc_qpop, pc_qlen);
}

static int cmd_spop(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_pop(x, argc, pc_spop, pc_scard);
}

/* A timeout in seconds (a decimal; 0: forever) as ms, 1..PC_TTL_MAX_MS. */
static int arg_timeout(cli *x, int i, int64_t *ms)
{
    double s;
    int ex = arg_double(x, "timeout (seconds)", i, &s);
    if (ex)
        return ex;
    if (s < 0)
        return cli_err(x, "the timeout must not be negative: '%s'", x->av[i]);
    *ms = s == 0 || s * 1000 > (double)PC_TTL_MAX_MS ? PC_TTL_MAX_MS : (int64_t)(s * 1000);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

/* BLPOP, BRPOP KEY... TIMEOUT: the first element of the first key that has
 * one (a List from its head or tail, a Queue from its front), waiting up to
 * TIMEOUT seconds (0: forever) by looking again every few ms; a JSON array
 * [key, element], or nothing (exit 1) at the timeout. */
static int cmd_blpop(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t ms;
    int ex = arg_timeout(x, argc - 1, &ms);
    if (ex)
        return ex;
    bool left = x->cmd->name[1] == 'l';
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long nap_us = 500;
    for (;;) {
        for (int i = 0; i < argc - 1; i++) {
            pc_read *r;
            pc_type t;
            if ((ex = read_begin(x, &r)))
                return ex;
            int rc = pc_type_of(r, ARG(i), &t);
            pc_read_end(r);
            if (rc)
                return cli_fail(x, rc);
            if (t == PC_T_NONE)
                continue;
            pc_val v;
            size_t n = 0;
            rc = t == PC_T_QUEUE ? pc_qpop(x->c, ARG(i), 1, &v, &n)
                 : left          ? pc_lpop(x->c, ARG(i), 1, &v, &n)
                                 : pc_rpop(x->c, ARG(i), 1, &v, &n);
            if (rc == PC_ENOTFOUND)
                continue;
            if (rc)
                return cli_fail(x, rc);
            putchar('[');
            pcjson_write_str(stdout, ARG(i));
            putchar(',');
            pcjson_write_val(stdout, &v);
            puts("]");
            return EX_DONE;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t spent =
            (int64_t)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= ms)
            return out_missing(x);
        struct timespec nap = {0, nap_us * 1000};
        nanosleep(&nap, NULL);
        nap_us = nap_us < 20000 ? nap_us * 2 : 20000;
    }
}

/* BQPOP KEY TIMEOUT [COUNT]: pc_qpop_wait (the daemon answers as soon as a
 * push lands). */
static int cmd_bqpop(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t ms, count = 1;
    int ex = arg_timeout(x, 1, &ms);
    if (!ex && argc == 3)
        ex = arg_min(x, "COUNT", 2, 1, &count);
    if (ex)
        return ex;
    size_t max = count > 100000 ? 100000 : (size_t)count, n = 0;
    pc_val *out = cli_alloc(x, max, sizeof *out);
    if (!out)
        return cli_fail(x, PC_ENOMEM);
    int rc = pc_qpop_wait(x->c, ARG(0), max, ms, out, &n);
    if (rc == PC_ETIMEDOUT || (!rc && n == 0))
        return out_missing(x);
    if (rc)
        return cli_fail(x, rc);
    if (argc < 3)
        return out_val(x, &out[0]);
    int state = 0;
    out_vals(out, n, &state);
    out_close(&state, '[', ']');
    return EX_DONE;
}

static int cmd_llen(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_llen);
}

static int cmd_qlen(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_qlen);
}

static int cmd_hlen(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_hlen);
}

static int cmd_scard(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return do_count(x, pc_scard);
}

/* LRANGE and QRANGE. */
static int cmd_lrange(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t start, stop;
    pc_read *r;
    int ex;
    bool q = x->cmd->name[0] == 'q';
    if ((ex = arg_i64(x, "START", 1, &start)) || (ex = arg_i64(x, "STOP", 2, &stop)) ||
        (ex = read_begin(x, &r)))
        return ex;
    int rc = print_seq(r, B(0), q ? pc_qlen : pc_llen, q ? pc_qrange : pc_lrange, start, stop);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

static int cmd_lindex(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t i;
    pc_read *r;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "INDEX", 1, &i)) || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_lindex(r, ARG(0), i, &v);
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
    (void)argv;
    pc_read *r;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_qpeek(r, ARG(0), &v);
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
    (void)argv;
    int64_t i;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "INDEX", 1, &i)) || (ex = arg_val(x, 2, &v)))
        return ex;
    int rc = pc_lset(x->c, ARG(0), i, &v);
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_ltrim(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t start, stop;
    int ex;
    if ((ex = arg_i64(x, "START", 1, &start)) || (ex = arg_i64(x, "STOP", 2, &stop)))
        return ex;
    int rc = pc_ltrim(x->c, ARG(0), start, stop);
    return rc ? cli_fail(x, rc) : out_done(x);
}

static int cmd_lrem(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t count;
    uint64_t removed;
    pc_val v;
    int ex;
    if ((ex = arg_i64(x, "COUNT", 1, &count)) || (ex = arg_val(x, 2, &v)))
        return ex;
    int rc = pc_lrem(x->c, ARG(0), count, &v, &removed);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)removed);
}

/* LPOS KEY ELEMENT [RANK R] [COUNT N] [MAXLEN M]: an index (or nothing,
 * exit 1); with COUNT a JSON array (COUNT 0: every match). */
static int cmd_lpos(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_val v;
    int64_t rank = 1, count = -1, maxlen = 0;
    int ex = arg_val(x, 1, &v);
    for (int i = 2; i < argc && !ex; i += 2) {
        if (i + 1 >= argc)
            return cli_usage(x);
        if (arg_is(x, i, "rank")) {
            ex = arg_i64(x, "RANK", i + 1, &rank);
            if (!ex && (rank == 0 || rank == INT64_MIN))
                return cli_err(x, "RANK must not be 0: 1 is the first match, -1 the last");
        } else if (arg_is(x, i, "count")) {
            ex = arg_min(x, "COUNT", i + 1, 0, &count);
        } else if (arg_is(x, i, "maxlen")) {
            ex = arg_min(x, "MAXLEN", i + 1, 0, &maxlen);
        } else {
            return cli_err(x, "unknown option '%s' (RANK, COUNT or MAXLEN)", x->av[i]);
        }
    }
    if (ex)
        return ex;
    pc_read *r;
    uint64_t len = 0;
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = get_len(r, pc_llen, B(0), &len);
    size_t max = count < 0 ? 1 : count == 0 || (uint64_t)count > len ? (size_t)len : (size_t)count;
    uint64_t *pos = cli_alloc(x, max ? max : 1, sizeof *pos);
    size_t n = 0;
    if (!rc && !pos)
        rc = PC_ENOMEM;
    if (!rc)
        rc = pc_lpos(r, ARG(0), &v, rank, (uint64_t)maxlen, pos, max, &n);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    if (count < 0)
        return n ? out_int(x, (int64_t)pos[0]) : out_missing(x);
    putchar('[');
    for (size_t i = 0; i < n; i++)
        printf("%s%" PRIu64, i ? "," : "", pos[i]);
    puts("]");
    return EX_DONE;
}

/* LINSERT KEY BEFORE|AFTER PIVOT ELEMENT: the length; -1 (no pivot) and 0
 * (no key) exit 1. */
static int cmd_linsert(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bool before = arg_is(x, 1, "before");
    if (!before && !arg_is(x, 1, "after"))
        return cli_err(x, "BEFORE or AFTER, not '%s'", x->av[1]);
    pc_val pivot, v;
    int64_t len = 0;
    int ex;
    if ((ex = arg_val(x, 2, &pivot)) || (ex = arg_val(x, 3, &v)))
        return ex;
    int rc = pc_linsert(x->c, ARG(0), before, &pivot, &v, &len);
    if (rc)
        return cli_fail(x, rc);
    out_int(x, len);
    return len > 0 ? EX_DONE : EX_NO;
}

/* LMOVE SOURCE DESTINATION LEFT|RIGHT LEFT|RIGHT: the element moved. */
static int cmd_lmove(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bool ends[2];
    for (int i = 0; i < 2; i++) {
        ends[i] = arg_is(x, 2 + i, "left");
        if (!ends[i] && !arg_is(x, 2 + i, "right"))
            return cli_err(x, "LEFT or RIGHT, not '%s'", x->av[2 + i]);
    }
    pc_val v;
    int rc = pc_lmove(x->c, ARG(0), ARG(1), ends[0], ends[1], &v);
    if (rc)
        return cli_fail(x, rc);
    return v.kind == PC_NONE ? out_missing(x) : out_val(x, &v);
}

/* ------------------------------------------------------------------------ */
/* Maps                                                                      */

static int cmd_hset(cli *x, int argc, char **argv)
{
    (void)argv;
    int n = (argc - 1) / 2;
    pc_bytes *fields = NULL;
    pc_val *vals = cli_alloc(x, (size_t)n, sizeof *vals);
    uint64_t added;
    int ex = arg_bytes(x, 1, n, 2, &fields);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    for (int i = 0; i < n; i++)
        if ((ex = arg_val(x, 2 + 2 * i, &vals[i])))
            return ex;
    int rc = pc_hset(x->c, ARG(0), fields, vals, (size_t)n, &added);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)added);
}

static int cmd_hsetnx(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_val v;
    int set = 0, ex = arg_val(x, 2, &v);
    if (ex)
        return ex;
    int rc = pc_hsetnx(x->c, ARG(0), ARG(1), &v, &set);
    return rc ? cli_fail(x, rc) : out_flag(x, set);
}

static int cmd_hget(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_val v;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_hget(r, ARG(0), ARG(1), &v);
    if (!rc)
        ex = out_val(x, &v);
    else
        ex = rc == PC_ENOTFOUND ? out_missing(x) : cli_fail(x, rc);
    pc_read_end(r);
    return ex;
}

/* HMGET KEY FIELD...: a JSON array, null for a missing field. */
static int cmd_hmget(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_bytes *fields = NULL;
    pc_val *vals = cli_alloc(x, (size_t)argc - 1, sizeof *vals);
    pc_read *r;
    int ex = arg_bytes(x, 1, argc - 1, 1, &fields);
    if (ex)
        return ex;
    if (!vals)
        return cli_fail(x, PC_ENOMEM);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_hmget(r, ARG(0), fields, (size_t)argc - 1, vals);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    int state = 0;
    out_vals(vals, (size_t)argc - 1, &state);
    out_close(&state, '[', ']');
    return EX_DONE;
}

static int cmd_hdel(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_bytes *fields = NULL;
    uint64_t removed;
    int ex = arg_bytes(x, 1, argc - 1, 1, &fields);
    if (ex)
        return ex;
    int rc = pc_hdel(x->c, ARG(0), fields, (size_t)argc - 1, &removed);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)removed);
}

/* HGETALL (an object), HKEYS, HVALS (arrays). */
static int cmd_hgetall(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    const char *n = x->cmd->name;
    int rc = print_map(r, B(0), !strcasecmp(n, "hkeys") ? 1 : !strcasecmp(n, "hvals") ? 2 : 0);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

static int cmd_hexists(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    int yes = 0, ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_hexists(r, ARG(0), ARG(1), &yes);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_flag(x, yes);
}

/* HSTRLEN KEY FIELD: 0 for a missing key or field. */
static int cmd_hstrlen(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    uint64_t len = 0;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_hstrlen(r, ARG(0), ARG(1), &len);
    pc_read_end(r);
    if (rc == PC_ENOTFOUND)
        return out_int(x, 0);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

static int cmd_hincrby(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t by, now;
    int ex = arg_i64(x, "increment", 2, &by);
    if (ex)
        return ex;
    int rc = pc_hincrby(x->c, ARG(0), ARG(1), by, &now);
    return rc ? cli_fail(x, rc) : out_int(x, now);
}

static int cmd_hincrbyfloat(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    double by, now;
    int ex = arg_double(x, "increment", 2, &by);
    if (ex)
        return ex;
    int rc = pc_hincrbyfloat(x->c, ARG(0), ARG(1), by, &now);
    return rc ? cli_fail(x, rc) : out_double(x, now);
}

/* ------------------------------------------------------------------------ */
/* Sets                                                                      */

static int cmd_sismember(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_val m;
    int yes = 0, ex;
    if ((ex = arg_val(x, 1, &m)) || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_sismember(r, ARG(0), &m, &yes);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_flag(x, yes);
}

/* SMISMEMBER KEY MEMBER...: a JSON array of 1 and 0. */
static int cmd_smismember(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_val *m = NULL;
    int *yes = cli_alloc(x, (size_t)argc - 1, sizeof *yes);
    pc_read *r;
    int ex = arg_vals(x, 1, argc - 1, &m);
    if (ex)
        return ex;
    if (!yes)
        return cli_fail(x, PC_ENOMEM);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_smismember(r, ARG(0), m, (size_t)argc - 1, yes);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    putchar('[');
    for (int i = 0; i < argc - 1; i++)
        printf("%s%d", i ? "," : "", yes[i] ? 1 : 0);
    puts("]");
    return EX_DONE;
}

static int cmd_smembers(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = print_set(r, B(0));
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : EX_DONE;
}

/* SRANDMEMBER KEY [COUNT]: a member (nothing, exit 1, for a missing key);
 * with COUNT a JSON array (negative: members may repeat). */
static int cmd_srandmember(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t count = 1;
    if (argc == 2) {
        int ex = arg_i64(x, "COUNT", 1, &count);
        if (ex)
            return ex;
    }
    pc_read *r;
    uint64_t card = 0;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = get_len(r, pc_scard, B(0), &card);
    uint64_t want = count >= 0 ? ((uint64_t)count < card ? (uint64_t)count : card)
                               : (uint64_t)0 - (uint64_t)count;
    if (want > 10000000)
        want = 10000000;
    pc_val *out = cli_alloc(x, want ? want : 1, sizeof *out);
    size_t n = 0;
    if (!rc && !out)
        rc = PC_ENOMEM;
    if (!rc)
        rc = pc_srandmember(r, ARG(0), count, out, want, &n);
    if (rc) {
        pc_read_end(r);
        return cli_fail(x, rc);
    }
    if (argc == 1) {
        ex = n ? out_val(x, &out[0]) : out_missing(x);
    } else {
        int state = 0;
        out_vals(out, n, &state);
        out_close(&state, '[', ']');
        ex = EX_DONE;
    }
    pc_read_end(r);
    return ex;
}

/* SMOVE SOURCE DESTINATION MEMBER: 1, or 0 (exit 1) when not there. */
static int cmd_smove(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_val m;
    int moved = 0, ex = arg_val(x, 2, &m);
    if (ex)
        return ex;
    int rc = pc_smove(x->c, ARG(0), ARG(1), &m, &moved);
    return rc ? cli_fail(x, rc) : out_flag(x, moved);
}

/* sunion, sinter, sdiff: one JSON array, paged through one read. */
static int do_algebra(cli *x, int argc, algebra_fn fn)
{
    pc_bytes *keys = NULL;
    pc_read *r;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val buf[PAGE];
    int state = 0;
    int ex = arg_bytes(x, 0, argc, 1, &keys), rc = 0;
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
    (void)argv;
    return do_algebra(x, argc, pc_sunion);
}

static int cmd_sinter(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_algebra(x, argc, pc_sinter);
}

static int cmd_sdiff(cli *x, int argc, char **argv)
{
    (void)argv;
    return do_algebra(x, argc, pc_sdiff);
}

/* ------------------------------------------------------------------------ */
/* The store                                                                 */

/* PING [MESSAGE]: PONG, or the message; a read of the store on the way. */
static int cmd_ping(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_read *r;
    uint64_t n;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_dbsize(r, &n);
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    return argc ? out_bytes(x, ARG(0)) : out_text(x, "PONG");
}

/* INFO's output: "# Section" and "name:value" lines, or one JSON object of
 * sections. */
typedef struct info_out {
    cli *x;
    const char *want; /* a section, or NULL: all */
    int sections;     /* printed so far */
    int fields;       /* in the current section */
    bool on;          /* the current section is wanted */
} info_out;

static void info_section(info_out *o, const char *name)
{
    o->on = !o->want || !strcasecmp(o->want, name);
    if (o->on && o->x->json) {
        printf("%s\"%s\":{", o->sections ? "}," : "{", name);
    } else if (o->on) {
        printf("%s# %c%s\n", o->sections ? "\n" : "", name[0] - 'a' + 'A', name + 1);
    }
    o->sections += o->on;
    o->fields = 0;
}

static void info_field(info_out *o, const char *name, bool text, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void info_field(info_out *o, const char *name, bool text, const char *fmt, ...)
{
    if (!o->on)
        return;
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    if (o->x->json) {
        printf("%s\"%s\":", o->fields ? "," : "", name);
        if (text)
            pcjson_write_str(stdout, v, strlen(v));
        else
            fputs(v, stdout);
    } else {
        printf("%s:%s\n", name, v);
    }
    o->fields++;
}

/* INFO [SECTION]: pcstat's summary, short, under Redis's section names where
 * they mean the same (server, clients, memory, persistence, stats,
 * keyspace).  An embedded client has no daemon: server and keyspace only. */
static int cmd_info(cli *x, int argc, char **argv)
{
    (void)argv;
    pc_stats st;
    pc_store_info si;
    pc_read *r;
    uint64_t keys = 0;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_dbsize(r, &keys);
    pc_read_end(r);
    if (!rc)
        rc = pc_store_info_get(x->c, &si);
    bool daemon = !si.embedded;
    if (!rc && daemon)
        rc = pc_stats_get(x->c, &st);
    if (rc)
        return cli_fail(x, rc);
    const char *want =
        argc && !arg_is(x, 0, "all") && !arg_is(x, 0, "everything") && !arg_is(x, 0, "default")
            ? x->av[0]
            : NULL;
    info_out o = {x, want, 0, 0, false};
    int64_t now = wall_ms();
    info_section(&o, "server");
    info_field(&o, "pycache_version", true, "%s", PACKAGE_VERSION);
    info_field(&o, "mode", true, "%s",
               si.embedded    ? "embedded"
               : si.ring_only ? "daemon, ring-only"
                              : "daemon");
    if (daemon) {
        info_field(&o, "process_id", false, "%" PRIu64, st.pid);
        info_field(&o, "uptime_in_seconds", false, "%" PRId64,
                   (now - (int64_t)st.started_ms) / 1000);
    }
    info_field(&o, "shards", false, "%u", si.shards);
    if (daemon) {
        info_section(&o, "clients");
        info_field(&o, "connected_clients", false, "%u", st.clients_trusted + st.clients_ring_only);
        info_field(&o, "ring_only_clients", false, "%u", st.clients_ring_only);
        info_section(&o, "memory");
        info_field(&o, "used_memory", false, "%" PRIu64, st.bytes_used);
        info_field(&o, "maxmemory", false, "%" PRIu64,
                   st.max_memory_fs ? st.max_memory_fs : st.max_memory);
        info_field(&o, "maxmemory_policy", true, "%s", pc_policy_name((pc_policy)st.policy));
        info_section(&o, "persistence");
        info_field(&o, "rdb_bgsave_in_progress", false, "%d", st.snapshot_state == 2);
        info_field(&o, "rdb_last_save_time", false, "%" PRIu64, st.snapshot_ms / 1000);
        info_field(&o, "rdb_last_bgsave_status", true, "%s",
                   st.snapshot_state == 0 ? "none"
                   : st.snapshot_ms == 0  ? "none"
                   : st.snapshot_rc       ? "err"
                                          : "ok");
        info_section(&o, "stats");
        info_field(&o, "total_commands_processed", false, "%" PRIu64, st.requests);
        info_field(&o, "total_error_replies", false, "%" PRIu64, st.errors);
        info_field(&o, "keyspace_hits", false, "%" PRIu64, st.reads_hit);
        info_field(&o, "keyspace_misses", false, "%" PRIu64, st.reads_miss);
        info_field(&o, "expired_keys", false, "%" PRIu64, st.expired);
        info_field(&o, "evicted_keys", false, "%" PRIu64, st.evicted);
    }
    info_section(&o, "keyspace");
    if (daemon)
        info_field(&o, "db0", true, "keys=%" PRIu64 ",expires=%" PRIu64, keys, st.keys_ttl);
    else
        info_field(&o, "db0", true, "keys=%" PRIu64, keys);
    if (x->json)
        puts(o.sections ? "}}" : "{}");
    return EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* The rate limiter (issue 16)                                               */

/* throttle KEY MAX_BURST COUNT PERIOD [QUANTITY], as redis-cell's
 * CL.THROTTLE (PERIOD in seconds): the five numbers, exit 1 when limited. */
static int cmd_throttle(cli *x, int argc, char **argv)
{
    int64_t burst, count, period, qty = 1;
    int ex;
    if ((ex = arg_min(x, "MAX_BURST", 1, 0, &burst)) || (ex = arg_min(x, "COUNT", 2, 1, &count)) ||
        (ex = arg_min(x, "PERIOD (seconds)", 3, 1, &period)) ||
        (argc > 4 && (ex = arg_min(x, "QUANTITY", 4, 0, &qty))))
        return ex;
    if (period > PC_TTL_MAX_MS / 1000)
        return cli_err(x, "PERIOD is longer than 100 years: '%s'", argv[3]);
    pc_throttle_info t;
    int rc = pc_throttle(x->c, ARG(0), burst, count, period * 1000, qty, &t);
    if (rc)
        return cli_fail(x, rc);
    int64_t f[5] = {t.limited, t.limit, t.remaining, t.retry_after_ms, t.reset_after_ms};
    if (x->json)
        printf("[%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "]\n", f[0], f[1], f[2],
               f[3], f[4]);
    else
        for (int i = 0; i < 5; i++)
            printf("%" PRId64 "\n", f[i]);
    return t.limited ? EX_NO : EX_DONE;
}

/* ------------------------------------------------------------------------ */
/* Bit arrays (issue 16)                                                     */

/* Argument i as an OFFSET: 0 .. 2^32 - 1. */
static int arg_offset(cli *x, int i, uint64_t *off)
{
    int64_t v;
    int ex = arg_min(x, "OFFSET", i, 0, &v);
    if (ex)
        return ex;
    if (v > (int64_t)UINT32_MAX)
        return cli_err(x, "OFFSET is past the largest, 4294967295: '%s'", x->av[i]);
    *off = (uint64_t)v;
    return 0;
}

/* Argument i as a BIT: 0 or 1. */
static int arg_bit(cli *x, int i, int *bit)
{
    if (x->al[i] != 1 || (x->av[i][0] != '0' && x->av[i][0] != '1'))
        return cli_err(x, "BIT must be 0 or 1: '%s'", x->av[i]);
    *bit = x->av[i][0] == '1';
    return 0;
}

/* Argument i as BYTE or BIT (any case): 0 or PC_BITS_BIT. */
static int arg_unit(cli *x, int i, unsigned *flags)
{
    if (arg_is(x, i, "byte"))
        *flags = 0;
    else if (arg_is(x, i, "bit"))
        *flags = PC_BITS_BIT;
    else
        return cli_err(x, "expected BYTE or BIT: '%s'", x->av[i]);
    return 0;
}

static int cmd_setbit(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t off = 0;
    int bit = 0, old = 0, ex;
    if ((ex = arg_offset(x, 1, &off)) || (ex = arg_bit(x, 2, &bit)))
        return ex;
    int rc = pc_setbit(x->c, ARG(0), off, bit, &old);
    return rc ? cli_fail(x, rc) : out_int(x, old);
}

static int cmd_getbit(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t off = 0;
    int bit = 0, ex;
    pc_read *r;
    if ((ex = arg_offset(x, 1, &off)) || (ex = read_begin(x, &r)))
        return ex;
    int rc = pc_getbit(r, ARG(0), off, &bit);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, bit);
}

static int cmd_bitcount(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t start = 0, end = -1;
    unsigned flags = 0;
    uint64_t n;
    int ex;
    pc_read *r;
    if (argc == 2)
        return cli_usage(x);
    if (argc > 1 && ((ex = arg_i64(x, "START", 1, &start)) || (ex = arg_i64(x, "END", 2, &end)) ||
                     (argc > 3 && (ex = arg_unit(x, 3, &flags)))))
        return ex;
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_bitcount(r, ARG(0), start, end, flags, &n);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)n);
}

static int cmd_bitpos(cli *x, int argc, char **argv)
{
    (void)argv;
    int64_t start = 0, end = -1, pos;
    unsigned flags = 0, unit = 0;
    int bit = 0, ex;
    pc_read *r;
    if ((ex = arg_bit(x, 1, &bit)) || (argc > 2 && (ex = arg_i64(x, "START", 2, &start))) ||
        (argc > 3 && (ex = arg_i64(x, "END", 3, &end))) ||
        (argc > 4 && (ex = arg_unit(x, 4, &unit))))
        return ex;
    flags = unit | (argc > 3 ? PC_BITS_END : 0);
    if ((ex = read_begin(x, &r)))
        return ex;
    int rc = pc_bitpos(r, ARG(0), bit, start, end, flags, &pos);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, pos);
}

static int cmd_bitop(cli *x, int argc, char **argv)
{
    static const char *const ops[] = {"and", "or", "xor", "not"};
    int op = -1;
    for (int i = 0; i < 4; i++)
        if (arg_is(x, 0, ops[i]))
            op = i;
    if (op < 0)
        return cli_err(x, "expected AND, OR, XOR or NOT: '%s'", argv[0]);
    if (op == PC_BITOP_NOT && argc != 3)
        return cli_err(x, "NOT takes exactly one source key");
    pc_bytes *keys = NULL;
    int ex = arg_bytes(x, 2, argc - 2, 1, &keys);
    if (ex)
        return ex;
    uint64_t len = 0;
    int rc = pc_bitop(x->c, op, ARG(1), keys, (size_t)argc - 2, &len);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

/* ------------------------------------------------------------------------ */
/* Bloom filters (issue 16)                                                  */

/* bf.reserve KEY ERROR_RATE CAPACITY [EXPANSION N] [NONSCALING] */
static int cmd_bf_reserve(cli *x, int argc, char **argv)
{
    double rate;
    int64_t cap, expansion = 0;
    unsigned flags = 0;
    int ex;
    if ((ex = arg_double(x, "ERROR_RATE", 1, &rate)) || (ex = arg_min(x, "CAPACITY", 2, 1, &cap)))
        return ex;
    if (!(rate > 0 && rate < 1))
        return cli_err(x, "ERROR_RATE must be between 0 and 1 (both excluded): '%s'", argv[1]);
    for (int i = 3; i < argc; i++) {
        if (arg_is(x, i, "nonscaling")) {
            flags |= PC_BF_NONSCALING;
        } else if (arg_is(x, i, "expansion") && i + 1 < argc) {
            if ((ex = arg_min(x, "EXPANSION", ++i, 1, &expansion)))
                return ex;
            if (expansion > UINT32_MAX)
                return cli_err(x, "EXPANSION is too large: '%s'", argv[i]);
        } else {
            return cli_usage(x);
        }
    }
    int rc = pc_bf_reserve(x->c, ARG(0), rate, (uint64_t)cap, (uint32_t)expansion, flags);
    return rc ? cli_fail(x, rc) : out_done(x);
}

/* One 0/1 per item: lines, or a JSON array with --json. */
static int out_flags(cli *x, const int *f, int n)
{
    int st = 0;
    if (x->json)
        out_open(&st, '[');
    for (int i = 0; i < n; i++) {
        if (x->json)
            out_next(&st), printf("%d", f[i] ? 1 : 0);
        else
            printf("%d\n", f[i] ? 1 : 0);
    }
    if (x->json)
        out_close(&st, '[', ']');
    return EX_DONE;
}

/* bf.add KEY ITEM / bf.madd KEY ITEM...: 1 (added) or 0 (maybe there). */
static int bf_add(cli *x, int argc, bool one)
{
    pc_bytes *items = NULL;
    int *added = cli_alloc(x, (size_t)argc - 1, sizeof *added);
    int ex = arg_bytes(x, 1, argc - 1, 1, &items);
    if (ex)
        return ex;
    if (!added)
        return cli_fail(x, PC_ENOMEM);
    int rc = pc_bf_madd(x->c, ARG(0), items, (size_t)argc - 1, added);
    if (rc)
        return cli_fail(x, rc);
    return one ? out_int(x, added[0]) : out_flags(x, added, argc - 1);
}

static int cmd_bf_add(cli *x, int argc, char **argv)
{
    (void)argv;
    return bf_add(x, argc, true);
}

static int cmd_bf_madd(cli *x, int argc, char **argv)
{
    (void)argv;
    return bf_add(x, argc, false);
}

/* bf.exists KEY ITEM (exit 1 for 0) / bf.mexists KEY ITEM...: 1 (maybe
 * there) or 0 (surely not). */
static int bf_exists(cli *x, int argc, bool one)
{
    pc_bytes *items = NULL;
    int *has = cli_alloc(x, (size_t)argc - 1, sizeof *has);
    pc_read *r;
    int ex = arg_bytes(x, 1, argc - 1, 1, &items);
    if (ex || (ex = read_begin(x, &r)))
        return ex;
    int rc = has ? pc_bf_mexists(r, ARG(0), items, (size_t)argc - 1, has) : PC_ENOMEM;
    pc_read_end(r);
    if (rc)
        return cli_fail(x, rc);
    return one ? out_flag(x, has[0]) : out_flags(x, has, argc - 1);
}

static int cmd_bf_exists(cli *x, int argc, char **argv)
{
    (void)argv;
    return bf_exists(x, argc, true);
}

static int cmd_bf_mexists(cli *x, int argc, char **argv)
{
    (void)argv;
    return bf_exists(x, argc, false);
}

/* bf.info KEY: RedisBloom's figures, "name:value" lines (or a JSON object). */
static int cmd_bf_info(cli *x, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pc_read *r;
    pc_bf_info bi;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = pc_bf_info_get(r, ARG(0), &bi);
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
/* The table, sorted by name                                                 */

#define SET_ARGS                                                                                  \
    "KEY (VALUE | --int N | --double X | --list JSON | --map JSON | --set JSON | --queue JSON)\n" \
    "        [EX SECONDS | PX MS | EXAT TIME | PXAT MS-TIME | KEEPTTL] [NX | XX] [GET]"

/* clang-format off */
const cmd pccli_cmds[] = {
    {"append", cmd_append, 2, 2, ARGS_ANY, "string", "KEY VALUE", "append to a String; print its length"},
    {"bf.add", cmd_bf_add, 2, 2, ARGS_ANY, "bloom", "KEY ITEM", "add an item to a Bloom filter (made with rate 0.01, capacity 100 when missing); print 1 when added, 0 when it may have been there"},
    {"bf.exists", cmd_bf_exists, 2, 2, ARGS_ANY, "bloom", "KEY ITEM", "print 1 when the filter may hold the item, 0 (exit 1) when it surely does not"},
    {"bf.info", cmd_bf_info, 1, 1, ARGS_ANY, "bloom", "KEY", "print a Bloom filter's capacity, size, layers, items, expansion and error rate"},
    {"bf.madd", cmd_bf_madd, 2, -1, ARGS_ANY, "bloom", "KEY ITEM...", "add items to a Bloom filter; print 1 or 0 for each"},
    {"bf.mexists", cmd_bf_mexists, 2, -1, ARGS_ANY, "bloom", "KEY ITEM...", "print 1 (maybe there) or 0 (surely not) for each item"},
    {"bf.reserve", cmd_bf_reserve, 3, 6, ARGS_ANY, "bloom", "KEY ERROR_RATE CAPACITY [EXPANSION N] [NONSCALING]", "make an empty scalable Bloom filter"},
    {"bitcount", cmd_bitcount, 1, 4, ARGS_ANY, "bits", "KEY [START END [BYTE|BIT]]", "print how many bits are set, in all or in a byte or bit range"},
    {"bitop", cmd_bitop, 3, -1, ARGS_ANY, "bits", "AND|OR|XOR|NOT DESTKEY KEY...", "store the operation of bit arrays in DESTKEY; print its length in bytes"},
    {"bitpos", cmd_bitpos, 2, 5, ARGS_ANY, "bits", "KEY BIT [START [END [BYTE|BIT]]]", "print the position of the first bit equal to BIT, or -1"},
    {"blpop", cmd_blpop, 2, -1, ARGS_ANY, "list", "KEY... TIMEOUT", "pop from the head of the first non-empty List or Queue, waiting up to TIMEOUT seconds (0: forever)"},
    {"bqpop", cmd_bqpop, 2, 3, ARGS_ANY, "queue", "KEY TIMEOUT [COUNT]", "pop from a Queue, waiting up to TIMEOUT seconds for an element (0: forever)"},
    {"brpop", cmd_blpop, 2, -1, ARGS_ANY, "list", "KEY... TIMEOUT", "pop from the tail of the first non-empty List (or the front of a Queue), waiting up to TIMEOUT seconds"},
    {"bzpopmax", pccli_bzpop, 2, -1, ARGS_ANY, "zset", "KEY... TIMEOUT", "pop the member with the highest score of the first key that has one, waiting up to TIMEOUT seconds (0: forever); print [key, member, score]"},
    {"bzpopmin", pccli_bzpop, 2, -1, ARGS_ANY, "zset", "KEY... TIMEOUT", "pop the member with the lowest score of the first key that has one, waiting up to TIMEOUT seconds (0: forever); print [key, member, score]"},
    {"dbsize", cmd_dbsize, 0, 0, ARGS_ANY, "server", "", "print the number of keys"},
    {"decr", cmd_incr, 1, 1, ARGS_ANY, "string", "KEY", "subtract 1 from a number; print it"},
    {"decrby", cmd_incr, 2, 2, ARGS_ANY, "string", "KEY N", "subtract N from a number; print it"},
    {"del", cmd_del, 1, -1, ARGS_ANY, "keys", "KEY...", "delete keys; print how many existed"},
    {"exists", cmd_exists, 1, -1, ARGS_ANY, "keys", "KEY...", "print how many of the keys exist"},
    {"expire", cmd_expire, 2, 2, ARGS_ANY, "keys", "KEY SECONDS", "give a key a TTL"},
    {"expireat", cmd_expireat, 2, 2, ARGS_ANY, "keys", "KEY TIME", "make a key expire at TIME (seconds since the epoch)"},
    {"expiretime", cmd_ttl, 1, 1, ARGS_ANY, "keys", "KEY", "print when a key expires (seconds since the epoch)"},
    {"flushall", cmd_flushall, 0, 1, ARGS_ANY, "server", "[SYNC | ASYNC]", "remove every key"},
    {"flushdb", cmd_flushall, 0, 1, ARGS_ANY, "server", "[SYNC | ASYNC]", "remove every key (there is one database)"},
    {"get", cmd_get, 1, 1, ARGS_ANY, "string", "KEY", "print a value (a collection as JSON)"},
    {"getbit", cmd_getbit, 2, 2, ARGS_ANY, "bits", "KEY OFFSET", "print the bit at OFFSET (0 past the end)"},
    {"getdel", cmd_getdel, 1, 1, ARGS_ANY, "string", "KEY", "print a String or Numeric and delete it"},
    {"getex", cmd_getex, 1, 3, ARGS_ANY, "string", "KEY [EX SECONDS | PX MS | EXAT TIME | PXAT MS-TIME | PERSIST]", "print a String or Numeric and change its TTL"},
    {"getrange", cmd_getrange, 3, 3, ARGS_ANY, "string", "KEY START END", "print bytes START..END of a String"},
    {"getset", cmd_getset, 2, 2, ARGS_ANY, "string", "KEY VALUE", "store VALUE; print what the key held"},
    {"hdel", cmd_hdel, 2, -1, ARGS_ANY, "map", "KEY FIELD...", "delete fields; print how many existed"},
    {"hexists", cmd_hexists, 2, 2, ARGS_ANY, "map", "KEY FIELD", "print 1 if the field exists, else 0"},
    {"hget", cmd_hget, 2, 2, ARGS_ANY, "map", "KEY FIELD", "print a field's value"},
    {"hgetall", cmd_hgetall, 1, 1, ARGS_ANY, "map", "KEY", "print a Map as a JSON object"},
    {"hincrby", cmd_hincrby, 3, 3, ARGS_ANY, "map", "KEY FIELD N", "add N to a field; print it"},
    {"hincrbyfloat", cmd_hincrbyfloat, 3, 3, ARGS_ANY, "map", "KEY FIELD X", "add X to a field as a double; print it"},
    {"hkeys", cmd_hgetall, 1, 1, ARGS_ANY, "map", "KEY", "print a Map's fields as a JSON array"},
    {"hlen", cmd_hlen, 1, 1, ARGS_ANY, "map", "KEY", "print the number of fields"},
    {"hmget", cmd_hmget, 2, -1, ARGS_ANY, "map", "KEY FIELD...", "print fields' values as a JSON array (null: missing)"},
    {"hset", cmd_hset, 3, -1, ARGS_KEY_PAIRS, "map", "KEY FIELD VALUE [FIELD VALUE...]", "set fields; print how many are new"},
    {"hsetnx", cmd_hsetnx, 3, 3, ARGS_ANY, "map", "KEY FIELD VALUE", "set a field if it is not there; print 1 or 0"},
    {"hstrlen", cmd_hstrlen, 2, 2, ARGS_ANY, "map", "KEY FIELD", "print the length of a field's string"},
    {"hvals", cmd_hgetall, 1, 1, ARGS_ANY, "map", "KEY", "print a Map's values as a JSON array"},
    {"incr", cmd_incr, 1, 1, ARGS_ANY, "string", "KEY", "add 1 to a number; print it"},
    {"incrby", cmd_incr, 2, 2, ARGS_ANY, "string", "KEY N", "add N to a number; print it"},
    {"incrbyfloat", cmd_incrbyfloat, 2, 2, ARGS_ANY, "string", "KEY X", "add X to a number as a double; print it"},
    {"info", cmd_info, 0, 1, ARGS_ANY, "server", "[SECTION]", "print the daemon's figures (server clients memory persistence stats keyspace)"},
    {"keys", cmd_keys, 0, 1, ARGS_ANY, "keys", "[GLOB]", "print the keys that match GLOB"},
    {"lindex", cmd_lindex, 2, 2, ARGS_ANY, "list", "KEY INDEX", "print an element"},
    {"linsert", cmd_linsert, 4, 4, ARGS_ANY, "list", "KEY BEFORE|AFTER PIVOT ELEMENT", "insert next to PIVOT; print the length"},
    {"llen", cmd_llen, 1, 1, ARGS_ANY, "list", "KEY", "print a List's length"},
    {"lmove", cmd_lmove, 4, 4, ARGS_ANY, "list", "SOURCE DESTINATION LEFT|RIGHT LEFT|RIGHT", "move an element between Lists; print it"},
    {"lpop", cmd_lpop, 1, 2, ARGS_ANY, "list", "KEY [COUNT]", "remove and print the head"},
    {"lpos", cmd_lpos, 2, 8, ARGS_ANY, "list", "KEY ELEMENT [RANK R] [COUNT N] [MAXLEN M]", "print the index of ELEMENT"},
    {"lpush", cmd_lpush, 2, -1, ARGS_ANY, "list", "KEY VALUE...", "push at the head; print the length"},
    {"lrange", cmd_lrange, 3, 3, ARGS_ANY, "list", "KEY START STOP", "print elements START..STOP as a JSON array"},
    {"lrem", cmd_lrem, 3, 3, ARGS_ANY, "list", "KEY COUNT VALUE", "remove elements equal to VALUE; print how many"},
    {"lset", cmd_lset, 3, 3, ARGS_ANY, "list", "KEY INDEX VALUE", "replace an element"},
    {"ltrim", cmd_ltrim, 3, 3, ARGS_ANY, "list", "KEY START STOP", "keep only elements START..STOP"},
    {"mget", cmd_mget, 1, -1, ARGS_ANY, "string", "KEY...", "print a JSON object of the keys' values"},
    {"mset", cmd_mset, 2, -1, ARGS_PAIRS, "string", "KEY VALUE [KEY VALUE...]", "store several values"},
    {"object", cmd_object, 1, 2, ARGS_ANY, "keys", "ENCODING KEY | HELP", "print how a key is held"},
    {"persist", cmd_persist, 1, 1, ARGS_ANY, "keys", "KEY", "remove a key's TTL"},
    {"pexpire", cmd_expire, 2, 2, ARGS_ANY, "keys", "KEY MS", "give a key a TTL in ms"},
    {"pexpireat", cmd_expireat, 2, 2, ARGS_ANY, "keys", "KEY MS-TIME", "make a key expire at MS-TIME (ms since the epoch)"},
    {"pexpiretime", cmd_ttl, 1, 1, ARGS_ANY, "keys", "KEY", "print when a key expires (ms since the epoch)"},
    {"ping", cmd_ping, 0, 1, ARGS_ANY, "server", "[MESSAGE]", "print PONG (or MESSAGE) once the store answers"},
    {"psetex", cmd_setex, 3, 3, ARGS_ANY, "string", "KEY MS VALUE", "store VALUE with a TTL in ms"},
    {"pttl", cmd_ttl, 1, 1, ARGS_ANY, "keys", "KEY", "print a key's TTL in ms"},
    {"qlen", cmd_qlen, 1, 1, ARGS_ANY, "queue", "KEY", "print a Queue's length"},
    {"qpeek", cmd_qpeek, 1, 1, ARGS_ANY, "queue", "KEY", "print the front element"},
    {"qpop", cmd_qpop, 1, 2, ARGS_ANY, "queue", "KEY [COUNT]", "remove and print the front element"},
    {"qpush", cmd_qpush, 2, -1, ARGS_ANY, "queue", "KEY VALUE...", "push at the back; print the length"},
    {"qrange", cmd_lrange, 3, 3, ARGS_ANY, "queue", "KEY START STOP", "print elements START..STOP from the front"},
    {"randomkey", cmd_randomkey, 0, 0, ARGS_ANY, "keys", "", "print a key chosen at random"},
    {"rename", cmd_rename, 2, 2, ARGS_ANY, "keys", "KEY NEWKEY", "rename a key"},
    {"renamenx", cmd_rename, 2, 2, ARGS_ANY, "keys", "KEY NEWKEY", "rename a key if NEWKEY does not exist; print 1 or 0"},
    {"rpop", cmd_rpop, 1, 2, ARGS_ANY, "list", "KEY [COUNT]", "remove and print the tail"},
    {"rpush", cmd_rpush, 2, -1, ARGS_ANY, "list", "KEY VALUE...", "push at the tail; print the length"},
    {"sadd", cmd_sadd, 2, -1, ARGS_ANY, "set", "KEY MEMBER...", "add members; print how many are new"},
    {"scan", cmd_scan, 1, 7, ARGS_ANY, "keys", "CURSOR [MATCH GLOB] [COUNT N] [TYPE TYPE]", "print the next cursor and a page of keys"},
    {"scard", cmd_scard, 1, 1, ARGS_ANY, "set", "KEY", "print the number of members"},
    {"sdiff", cmd_sdiff, 1, -1, ARGS_ANY, "set", "KEY...", "print the members of the first Set in no other"},
    {"set", cmd_set, 2, -1, ARGS_ANY, "string", SET_ARGS, "store a value"},
    {"setbit", cmd_setbit, 3, 3, ARGS_ANY, "bits", "KEY OFFSET 0|1", "set the bit at OFFSET; print the bit it held"},
    {"setex", cmd_setex, 3, 3, ARGS_ANY, "string", "KEY SECONDS VALUE", "store VALUE with a TTL"},
    {"setnx", cmd_setnx, 2, 2, ARGS_ANY, "string", "KEY VALUE", "store VALUE if the key does not exist; print 1 or 0"},
    {"setrange", cmd_setrange, 3, 3, ARGS_ANY, "string", "KEY OFFSET VALUE", "overwrite from OFFSET; print the length"},
    {"sinter", cmd_sinter, 1, -1, ARGS_ANY, "set", "KEY...", "print the members of all the Sets"},
    {"sismember", cmd_sismember, 2, 2, ARGS_ANY, "set", "KEY MEMBER", "print 1 if MEMBER is there, else 0"},
    {"smembers", cmd_smembers, 1, 1, ARGS_ANY, "set", "KEY", "print the members as a JSON array"},
    {"smismember", cmd_smismember, 2, -1, ARGS_ANY, "set", "KEY MEMBER...", "print 1 or 0 for each member, as a JSON array"},
    {"smove", cmd_smove, 3, 3, ARGS_ANY, "set", "SOURCE DESTINATION MEMBER", "move a member between Sets; print 1 or 0"},
    {"spop", cmd_spop, 1, 2, ARGS_ANY, "set", "KEY [COUNT]", "remove and print members chosen at random"},
    {"srandmember", cmd_srandmember, 1, 2, ARGS_ANY, "set", "KEY [COUNT]", "print members chosen at random"},
    {"srem", cmd_srem, 2, -1, ARGS_ANY, "set", "KEY MEMBER...", "remove members; print how many were there"},
    {"strlen", cmd_strlen, 1, 1, ARGS_ANY, "string", "KEY", "print a String's length"},
    {"sunion", cmd_sunion, 1, -1, ARGS_ANY, "set", "KEY...", "print the members of any of the Sets"},
    {"throttle", cmd_throttle, 4, 5, ARGS_ANY, "limits", "KEY MAX_BURST COUNT PERIOD [QUANTITY]", "a GCRA rate limiter (redis-cell's CL.THROTTLE): print limited, limit, remaining, retry-after and reset-after (ms); exit 1 when limited"},
    {"touch", cmd_touch, 1, -1, ARGS_ANY, "keys", "KEY...", "record an access to the keys; print how many exist"},
    {"ttl", cmd_ttl, 1, 1, ARGS_ANY, "keys", "KEY", "print a key's TTL in seconds"},
    {"type", cmd_type, 1, 1, ARGS_ANY, "keys", "KEY", "print a key's type"},
    {"unlink", cmd_del, 1, -1, ARGS_ANY, "keys", "KEY...", "delete keys (as del); print how many existed"},
    /* issue 17: streams (pccli_stream.c) */
    {"xack", pccli_xack, 3, -1, ARGS_ANY, "stream", "KEY GROUP ID...", "acknowledge pending entries; print how many were pending"},
    {"xadd", pccli_xadd, 4, -1, ARGS_ANY, "stream", "KEY [NOMKSTREAM] [MAXLEN|MINID [=|~] THRESHOLD [LIMIT N]] *|ID FIELD VALUE [FIELD VALUE ...]", "add an entry to a stream; print its ID"},
    {"xautoclaim", pccli_xautoclaim, 5, 8, ARGS_ANY, "stream", "KEY GROUP CONSUMER MIN-IDLE-TIME START [COUNT N] [JUSTID]", "claim pending entries idle long enough, scanning from START; print the next start, the entries, the IDs deleted"},
    {"xclaim", pccli_xclaim, 5, -1, ARGS_ANY, "stream", "KEY GROUP CONSUMER MIN-IDLE-TIME ID... [IDLE MS] [TIME MS] [RETRYCOUNT N] [FORCE] [JUSTID] [LASTID ID]", "give pending entries to CONSUMER; print them"},
    {"xdel", pccli_xdel, 2, -1, ARGS_ANY, "stream", "KEY ID...", "delete entries; print how many existed"},
    {"xgroup", pccli_xgroup, 3, 7, ARGS_ANY, "stream", "CREATE KEY GROUP ID|$ [MKSTREAM] [ENTRIESREAD N] | SETID KEY GROUP ID|$ [ENTRIESREAD N] | DESTROY KEY GROUP | CREATECONSUMER KEY GROUP CONSUMER | DELCONSUMER KEY GROUP CONSUMER", "manage consumer groups"},
    {"xinfo", pccli_xinfo, 2, 3, ARGS_ANY, "stream", "STREAM KEY | GROUPS KEY | CONSUMERS KEY GROUP", "print a stream's figures, its groups, or a group's consumers"},
    {"xlen", pccli_xlen, 1, 1, ARGS_ANY, "stream", "KEY", "print the number of entries of a stream"},
    {"xpending", pccli_xpending, 2, 8, ARGS_ANY, "stream", "KEY GROUP [[IDLE MS] START END COUNT [CONSUMER]]", "print a group's pending entries: a summary, or the entries"},
    {"xrange", pccli_xrange, 3, 5, ARGS_ANY, "stream", "KEY START END [COUNT N]", "print the entries from START to END (- and + for the ends, ( for an exclusive bound)"},
    {"xread", pccli_xread, 3, -1, ARGS_ANY, "stream", "[COUNT N] [BLOCK MS] STREAMS KEY... ID...", "print the entries after each ID ($: the last); BLOCK waits for one"},
    {"xreadgroup", pccli_xreadgroup, 6, -1, ARGS_ANY, "stream", "GROUP GROUP CONSUMER [COUNT N] [BLOCK MS] [NOACK] STREAMS KEY... ID...", "read as a group's consumer: > for new entries, an ID for its pending ones"},
    {"xrevrange", pccli_xrange, 3, 5, ARGS_ANY, "stream", "KEY END START [COUNT N]", "print the entries from END down to START"},
    {"xtrim", pccli_xtrim, 3, 6, ARGS_ANY, "stream", "KEY MAXLEN|MINID [=|~] THRESHOLD [LIMIT N]", "trim a stream; print how many entries went"},
    {"zadd", pccli_zadd, 3, -1, ARGS_ANY, "zset", "KEY [NX|XX] [GT|LT] [CH] [INCR] SCORE MEMBER [SCORE MEMBER...]", "add members with scores, or update their scores; print how many were added (CH: or changed); INCR: print the new score"},
    {"zcard", pccli_zcard, 1, 1, ARGS_ANY, "zset", "KEY", "print the number of members"},
    {"zcount", pccli_zcount, 3, 3, ARGS_ANY, "zset", "KEY MIN MAX", "print how many members have scores from MIN to MAX ((: exclusive; -inf, +inf)"},
    {"zdiffstore", pccli_zstore, 3, -1, ARGS_ANY, "zset", "DESTINATION NUMKEYS KEY...", "store the members of the first key that are in none of the others; print how many"},
    {"zincrby", pccli_zincrby, 3, 3, ARGS_ANY, "zset", "KEY INCREMENT MEMBER", "add INCREMENT to a member's score; print the new score"},
    {"zinterstore", pccli_zstore, 3, -1, ARGS_ANY, "zset", "DESTINATION NUMKEYS KEY... [WEIGHTS W...] [AGGREGATE SUM|MIN|MAX]", "store the members of all the keys; print how many"},
    {"zlexcount", pccli_zcount, 3, 3, ARGS_ANY, "zset", "KEY MIN MAX", "print how many members lie from MIN to MAX by lex (-, +, [M, (M)"},
    {"zmscore", pccli_zmscore, 2, -1, ARGS_ANY, "zset", "KEY MEMBER...", "print the members' scores as a JSON array (null: not there)"},
    {"zpopmax", pccli_zpop, 1, 2, ARGS_ANY, "zset", "KEY [COUNT]", "remove and print the members with the highest scores, with their scores"},
    {"zpopmin", pccli_zpop, 1, 2, ARGS_ANY, "zset", "KEY [COUNT]", "remove and print the members with the lowest scores, with their scores"},
    {"zrange", pccli_zrange, 3, 9, ARGS_ANY, "zset", "KEY START STOP [BYSCORE|BYLEX] [REV] [LIMIT OFFSET COUNT] [WITHSCORES]", "print a range of members as a JSON array"},
    {"zrangebylex", pccli_zrange, 3, 6, ARGS_ANY, "zset", "KEY MIN MAX [LIMIT OFFSET COUNT]", "print the members from MIN to MAX by lex"},
    {"zrangebyscore", pccli_zrange, 3, 7, ARGS_ANY, "zset", "KEY MIN MAX [WITHSCORES] [LIMIT OFFSET COUNT]", "print the members with scores from MIN to MAX"},
    {"zrangestore", pccli_zrangestore, 4, 9, ARGS_ANY, "zset", "DESTINATION KEY START STOP [BYSCORE|BYLEX] [REV] [LIMIT OFFSET COUNT]", "store a range of KEY into DESTINATION; print how many"},
    {"zrank", pccli_zrank, 2, 3, ARGS_ANY, "zset", "KEY MEMBER [WITHSCORE]", "print a member's rank from the lowest score"},
    {"zrem", pccli_zrem, 2, -1, ARGS_ANY, "zset", "KEY MEMBER...", "remove members; print how many were there"},
    {"zremrangebylex", pccli_zremrange, 3, 3, ARGS_ANY, "zset", "KEY MIN MAX", "remove the members from MIN to MAX by lex; print how many"},
    {"zremrangebyrank", pccli_zremrange, 3, 3, ARGS_ANY, "zset", "KEY START STOP", "remove the members of ranks START to STOP; print how many"},
    {"zremrangebyscore", pccli_zremrange, 3, 3, ARGS_ANY, "zset", "KEY MIN MAX", "remove the members with scores from MIN to MAX; print how many"},
    {"zrevrange", pccli_zrange, 3, 4, ARGS_ANY, "zset", "KEY START STOP [WITHSCORES]", "print a range of members, highest score first"},
    {"zrevrangebylex", pccli_zrange, 3, 6, ARGS_ANY, "zset", "KEY MAX MIN [LIMIT OFFSET COUNT]", "print the members from MAX down to MIN by lex"},
    {"zrevrangebyscore", pccli_zrange, 3, 7, ARGS_ANY, "zset", "KEY MAX MIN [WITHSCORES] [LIMIT OFFSET COUNT]", "print the members with scores from MAX down to MIN"},
    {"zrevrank", pccli_zrank, 2, 3, ARGS_ANY, "zset", "KEY MEMBER [WITHSCORE]", "print a member's rank from the highest score"},
    {"zscore", pccli_zscore, 2, 2, ARGS_ANY, "zset", "KEY MEMBER", "print a member's score"},
    {"zunionstore", pccli_zstore, 3, -1, ARGS_ANY, "zset", "DESTINATION NUMKEYS KEY... [WEIGHTS W...] [AGGREGATE SUM|MIN|MAX]", "store the members of any of the keys; print how many"},
};
/* clang-format on */
const size_t pccli_ncmds = sizeof pccli_cmds / sizeof pccli_cmds[0];

static int cmd_compare(const void *name, const void *entry)
{
    return strcasecmp(name, ((const cmd *)entry)->name);
}

const cmd *pccli_find(const char *name)
{
    return bsearch(name, pccli_cmds, pccli_ncmds, sizeof *pccli_cmds, cmd_compare);
}

bool pccli_arity_ok(const cmd *c, int n)
{
    if (n < c->min || (c->max >= 0 && n > c->max))
        return false;
    if (c->shape == ARGS_PAIRS)
        return n % 2 == 0;
    if (c->shape == ARGS_KEY_PAIRS)
        return n % 2 == 1;
    return true;
}
