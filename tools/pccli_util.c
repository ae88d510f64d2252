/*
 * pccli_util.c - pccli's messages, argument parsing, output and line
 * quoting (pccli.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pccli.h"

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */

/* One error on stderr: "pccli: COMMAND: message", or with --json
 * {"error":KIND,"command":COMMAND,"message":MESSAGE}. */
static void say(bool json, const char *command, const char *kind, const char *msg)
{
    if (json) {
        fputs("{\"error\":", stderr);
        pcjson_write_str(stderr, kind, strlen(kind));
        if (command) {
            fputs(",\"command\":", stderr);
            pcjson_write_str(stderr, command, strlen(command));
        }
        fputs(",\"message\":", stderr);
        pcjson_write_str(stderr, msg, strlen(msg));
        fputs("}\n", stderr);
    } else if (command) {
        fprintf(stderr, "pccli: %s: %s\n", command, msg);
    } else {
        fprintf(stderr, "pccli: %s\n", msg);
    }
}

void cli_say(bool json, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say(json, NULL, kind, msg);
}

int cli_err(cli *x, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say(x->json, x->cmd->name, "PC_EINVAL", msg);
    return EX_ERR;
}

int cli_fail(cli *x, int rc)
{
    char msg[1024];
    const char *last = pc_last_error(x->c), *name = pc_err_name(rc);
    size_t ll = strlen(last), nl = strlen(name);
    /* pc_last_error() tells "pc_call: message (PC_NAME)": when it is about
     * this code, show it without the call's name (pccli names the command). */
    if (ll > nl + 2 && last[ll - 1] == ')' && !strncmp(last + ll - 1 - nl, name, nl) &&
        last[ll - 2 - nl] == '(') {
        const char *colon = strstr(last, ": ");
        snprintf(msg, sizeof msg, "%s", !strncmp(last, "pc_", 3) && colon ? colon + 2 : last);
    } else {
        snprintf(msg, sizeof msg, "%s (%s)", pc_strerror(rc), name);
    }
    say(x->json, x->cmd->name, name, msg);
    return EX_ERR;
}

int cli_usage(cli *x)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "wrong arguments; usage: %s %s", x->cmd->name, x->cmd->args);
    if (x->json) {
        say(true, x->cmd->name, "usage", msg);
    } else {
        fprintf(stderr, "pccli: %s: wrong arguments\nusage: pccli %s %s\n", x->cmd->name,
                x->cmd->name, x->cmd->args);
    }
    return EX_ERR;
}

void *cli_alloc(cli *x, size_t n, size_t sz)
{
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    return pcjson_arena_alloc(&x->arena, n && sz ? n * sz : 1);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */

bool arg_is(const cli *x, int i, const char *word)
{
    return i < x->ac && x->al[i] == strlen(word) && !strcasecmp(x->av[i], word);
}

/* The argument as text to quote in a message (a NUL byte ends it). */
#define SHOWN(i) x->av[(i)]

/* Does argument i hold a NUL byte (text arguments cannot)? */
static bool has_nul(const cli *x, int i)
{
    return strlen(x->av[i]) != x->al[i];
}

/* Strictly parse a decimal int64: an optional '-' and digits only (no
 * blanks, no '+', no trailing bytes), in range.  *out is 0 on an error. */
int arg_i64(cli *x, const char *what, int i, int64_t *out)
{
    const char *s = x->av[i];
    char *end;
    *out = 0;
    const char *d = *s == '-' ? s + 1 : s;
    if (*d < '0' || *d > '9' || has_nul(x, i))
        return cli_err(x, "%s is not an integer: '%s'", what, SHOWN(i));
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return cli_err(x, "%s is not an integer: '%s'", what, SHOWN(i));
    if (errno == ERANGE)
        return cli_err(x, "%s is out of range for a 64-bit integer: '%s'", what, SHOWN(i));
    *out = v;
    return 0;
}

/* Strictly parse a finite decimal double (pccli(1), VALUES): no blanks, no
 * '+' in front, no hex, inf or nan, no trailing bytes, no underflow. */
int arg_double(cli *x, const char *what, int i, double *out)
{
    const char *s = x->av[i];
    char *end;
    *out = 0;
    if (*s == '\0' || isspace((unsigned char)*s) || has_nul(x, i))
        return cli_err(x, "%s is not a number: '%s'", what, SHOWN(i));
    errno = 0;
    double v = strtod(s, &end);
    int err = errno;
    if (*end)
        return cli_err(x, "%s is not a number: '%s'", what, SHOWN(i));
    if (!isfinite(v))
        return cli_err(x, "%s is not a finite number: '%s'", what, SHOWN(i));
    if (strpbrk(s, "xX"))
        return cli_err(x, "%s is a hexadecimal number; write it in decimal: '%s'", what, SHOWN(i));
    const char *d = *s == '-' ? s + 1 : s;
    if ((*d < '0' || *d > '9') && *d != '.')
        return cli_err(x, "%s is not a number: '%s'", what, SHOWN(i));
    if (err == ERANGE)
        return cli_err(x, "%s is too close to 0 for a double (underflow): '%s'", what, SHOWN(i));
    *out = v;
    return 0;
}

int arg_min(cli *x, const char *what, int i, int64_t min, int64_t *out)
{
    int ex = arg_i64(x, what, i, out);
    if (!ex && *out < min)
        return cli_err(x, "%s must be at least %lld: '%s'", what, (long long)min, SHOWN(i));
    return ex;
}

int arg_ttl(cli *x, int i, bool ms, int64_t *ttl_ms)
{
    int64_t v;
    int ex = arg_min(x, ms ? "TTL (ms)" : "TTL (seconds)", i, 1, &v);
    if (ex)
        return ex;
    if (v > (ms ? PC_TTL_MAX_MS : PC_TTL_MAX_MS / 1000))
        return cli_err(x, "TTL is longer than 100 years: '%s'", SHOWN(i));
    *ttl_ms = ms ? v : v * 1000;
    return 0;
}

int arg_time(cli *x, int i, bool ms, int64_t *at_ms)
{
    int64_t v;
    int ex =
        arg_min(x, ms ? "time (ms since the epoch)" : "time (seconds since the epoch)", i, 0, &v);
    if (ex)
        return ex;
    if (!ms && v > INT64_MAX / 1000)
        return cli_err(x, "time is out of range: '%s'", SHOWN(i));
    *at_ms = ms ? v : v * 1000;
    return 0;
}

int arg_val(cli *x, int i, pc_val *out)
{
    if (!x->typed) {
        *out = pc_mem(x->av[i], x->al[i]);
        return 0;
    }
    if (pcjson_parse_scalar(x->av[i], x->al[i], out, &x->arena))
        return cli_err(x, "bad value '%s': %s", SHOWN(i), x->arena.msg);
    return 0;
}

int arg_vals(cli *x, int i, int n, pc_val **out)
{
    pc_val *v = cli_alloc(x, (size_t)n, sizeof *v);
    if (!v)
        return cli_fail(x, PC_ENOMEM);
    for (int k = 0; k < n; k++) {
        int ex = arg_val(x, i + k, &v[k]);
        if (ex)
            return ex;
    }
    *out = v;
    return 0;
}

int arg_bytes(cli *x, int i, int n, int step, pc_bytes **out)
{
    pc_bytes *b = cli_alloc(x, (size_t)n, sizeof *b);
    if (!b)
        return cli_fail(x, PC_ENOMEM);
    for (int k = 0; k < n; k++) {
        int at = i + k * step;
        b[k] = pc_b(x->av[at], x->al[at]);
    }
    *out = b;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

int out_val(cli *x, const pc_val *v)
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

int out_bytes(cli *x, const void *p, size_t n)
{
    pc_val v = pc_mem(p, n);
    return out_val(x, &v);
}

int out_int(cli *x, int64_t i)
{
    (void)x;
    printf("%lld\n", (long long)i);
    return EX_DONE;
}

int out_flag(cli *x, int yes)
{
    out_int(x, yes ? 1 : 0);
    return yes ? EX_DONE : EX_NO;
}

int out_double(cli *x, double d)
{
    pc_val v = pc_dbl(d);
    return out_val(x, &v);
}

int out_text(cli *x, const char *s)
{
    if (x->json)
        pcjson_write_str(stdout, s, strlen(s));
    else
        fputs(s, stdout);
    putchar('\n');
    return EX_DONE;
}

int out_missing(cli *x)
{
    if (x->json)
        puts("null");
    else if (x->repl)
        puts("(nil)");
    return EX_NO;
}

int out_done(cli *x)
{
    if (x->json)
        puts("true");
    else if (x->repl)
        puts("OK");
    return EX_DONE;
}

int out_notdone(cli *x)
{
    if (x->json)
        puts("false");
    else if (x->repl)
        puts("(nil)");
    return EX_NO;
}

void out_open(int *state, int ch)
{
    if (*state == 0) {
        putchar(ch);
        *state = 1;
    }
}

void out_next(int *state)
{
    if (*state == 2)
        putchar(',');
    *state = 2;
}

void out_close(int *state, int open, int close)
{
    out_open(state, open);
    putchar(close);
    putchar('\n');
}

void out_vals(const pc_val *v, size_t n, int *state)
{
    out_open(state, '[');
    for (size_t i = 0; i < n; i++) {
        out_next(state);
        pcjson_write_val(stdout, &v[i]);
    }
}

int read_begin(cli *x, pc_read **r)
{
    int rc = pc_read_begin(x->c, r);
    return rc ? cli_fail(x, rc) : 0;
}

int get_len(pc_read *r, len_fn lenf, pc_bytes key, uint64_t *len)
{
    int rc = lenf(r, key.ptr, key.len, len);
    if (rc == PC_ENOTFOUND) {
        *len = 0;
        rc = 0;
    }
    return rc;
}

int do_count(cli *x, len_fn lenf)
{
    pc_read *r;
    uint64_t len;
    int ex = read_begin(x, &r);
    if (ex)
        return ex;
    int rc = get_len(r, lenf, pc_b(x->av[0], x->al[0]), &len);
    pc_read_end(r);
    return rc ? cli_fail(x, rc) : out_int(x, (int64_t)len);
}

/* The indices are made absolute first, in the same read, so that paging by
 * advancing start stays right for negative ones. */
int print_seq(pc_read *r, pc_bytes key, len_fn lenf, range_fn rangef, int64_t start, int64_t stop)
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
        if ((rc = rangef(r, key.ptr, key.len, start, stop, buf, PAGE, &n)))
            return rc;
        if (n == 0)
            break;
        out_vals(buf, n, &state);
        start += (int64_t)n;
    }
    out_close(&state, '[', ']');
    return 0;
}

int print_map(pc_read *r, pc_bytes key, int what)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes fields[PAGE];
    pc_val vals[PAGE];
    int state = 0, open = what ? '[' : '{';
    while (!cur.done) {
        size_t n;
        int rc = pc_hscan(r, key.ptr, key.len, &cur, fields, vals, PAGE, &n);
        if (rc)
            return rc;
        out_open(&state, open);
        for (size_t i = 0; i < n; i++) {
            out_next(&state);
            if (what != 2)
                pcjson_write_str(stdout, fields[i].ptr, fields[i].len);
            if (what == 0)
                putchar(':');
            if (what != 1)
                pcjson_write_val(stdout, &vals[i]);
        }
    }
    out_close(&state, open, what ? ']' : '}');
    return 0;
}

int print_set(pc_read *r, pc_bytes key)
{
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val buf[PAGE];
    int state = 0;
    while (!cur.done) {
        size_t n;
        int rc = pc_sscan(r, key.ptr, key.len, &cur, buf, PAGE, &n);
        if (rc)
            return rc;
        out_vals(buf, n, &state);
    }
    out_close(&state, '[', ']');
    return 0;
}

int print_coll(pc_read *r, pc_bytes key)
{
    pc_type t;
    int rc = pc_type_of(r, key.ptr, key.len, &t);
    if (rc)
        return rc;
    switch (t) {
    case PC_T_LIST:
        return print_seq(r, key, pc_llen, pc_lrange, 0, -1);
    case PC_T_QUEUE:
        return print_seq(r, key, pc_qlen, pc_qrange, 0, -1);
    case PC_T_MAP:
        return print_map(r, key, 0);
    case PC_T_SET:
        return print_set(r, key);
    default:
        return PC_ENOTFOUND; /* changed type between the two looks: cannot in one read */
    }
}

/* ------------------------------------------------------------------------ */
/* Lines                                                                     */

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* One argument from *pp into out (room for all of the line), *n its length.
 * 0, 1 at the end of the line, -1 for bad quoting. */
static int split_one(const char **pp, char *out, size_t *n)
{
    const char *p = *pp;
    while (*p && isspace((unsigned char)*p))
        p++;
    if (!*p)
        return 1;
    *n = 0;
    bool dq = false, sq = false;
    for (;;) {
        if (dq) {
            if (!*p)
                return -1; /* unterminated quotes */
            if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                out[(*n)++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                p += 3;
            } else if (p[0] == '\\' && p[1]) {
                char c = *++p;
                out[(*n)++] = c == 'n'   ? '\n'
                              : c == 'r' ? '\r'
                              : c == 't' ? '\t'
                              : c == 'b' ? '\b'
                              : c == 'a' ? '\a'
                                         : c;
            } else if (*p == '"') {
                /* the closing quote must be followed by a blank or the end */
                if (p[1] && !isspace((unsigned char)p[1]))
                    return -1;
                p++;
                break;
            } else {
                out[(*n)++] = *p;
            }
        } else if (sq) {
            if (!*p)
                return -1;
            if (p[0] == '\\' && p[1] == '\'') {
                out[(*n)++] = '\'';
                p++;
            } else if (*p == '\'') {
                if (p[1] && !isspace((unsigned char)p[1]))
                    return -1;
                p++;
                break;
            } else {
                out[(*n)++] = *p;
            }
        } else {
            if (!*p || isspace((unsigned char)*p))
                break;
            if (*p == '"')
                dq = true;
            else if (*p == '\'')
                sq = true;
            else
                out[(*n)++] = *p;
        }
        if (*p)
            p++;
    }
    out[*n] = '\0';
    *pp = p;
    return 0;
}

int pccli_split(pcjson_arena *a, const char *line, int *argc, char ***argv, size_t **lens)
{
    size_t len = strlen(line), max = len / 2 + 2;
    char **av = pcjson_arena_alloc(a, max * sizeof *av);
    size_t *al = pcjson_arena_alloc(a, max * sizeof *al);
    char *buf = pcjson_arena_alloc(a, 2 * len + 2);
    if (!av || !al || !buf)
        return -1;
    const char *p = line;
    int n = 0;
    for (;;) {
        size_t k;
        int rc = split_one(&p, buf, &k);
        if (rc < 0)
            return -1;
        if (rc > 0)
            break;
        av[n] = buf;
        al[n] = k;
        n++;
        buf += k + 1;
    }
    av[n] = NULL;
    *argc = n;
    *argv = av;
    *lens = al;
    return 0;
}
