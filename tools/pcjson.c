/*
 * pcjson.c - JSON text <-> pc_val for the tools.  jansson reads; writing is
 * done here so that doubles come out in their shortest exact form and byte
 * strings that are not UTF-8 follow one documented (lossy) rule.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pcjson.h"

struct pcjson_block {
    struct pcjson_block *next;
    max_align_t data[];
};

void pcjson_arena_init(pcjson_arena *a)
{
    a->blocks = NULL;
    a->msg[0] = '\0';
}

void pcjson_arena_free(pcjson_arena *a)
{
    struct pcjson_block *b = a->blocks;
    while (b) {
        struct pcjson_block *next = b->next;
        free(b);
        b = next;
    }
    a->blocks = NULL;
}

void *pcjson_arena_alloc(pcjson_arena *a, size_t n)
{
    if (n > SIZE_MAX - sizeof(struct pcjson_block))
        return NULL;
    struct pcjson_block *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    b->next = a->blocks;
    a->blocks = b;
    return b->data;
}

/* Record why a parse failed (cut to fit msg) and pass its code on. */
static int arena_fail(pcjson_arena *a, int rc, const char *what, const char *detail)
{
    int w =
        snprintf(a->msg, sizeof a->msg, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    (void)w; /* a longer message is cut, on purpose */
    return rc;
}

/*
 * jansson refuses a real that overflows but reads one that underflows as 0
 * (or a subnormal): find the number tokens outside strings and refuse any
 * that strtod reads with ERANGE, before jansson sees the text.  A malformed
 * token is left to jansson.  0, or PC_EOVERFLOW with the message set.
 */
static int underflow_check(const char *text, size_t len, pcjson_arena *a)
{
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        if (ch == '"') {
            in_str = true;
            continue;
        }
        if (ch != '-' && (ch < '0' || ch > '9'))
            continue;
        size_t j = i;
        bool real = false;
        while (j < len && strchr("0123456789+-.eE", text[j]) && text[j]) {
            real |= text[j] == '.' || text[j] == 'e' || text[j] == 'E';
            j++;
        }
        if (real) {
            char tok[64], *copy = j - i < sizeof tok ? tok : malloc(j - i + 1);
            if (!copy)
                return arena_fail(a, PC_ENOMEM, "out of memory", NULL);
            memcpy(copy, text + i, j - i);
            copy[j - i] = '\0';
            errno = 0;
            double d = strtod(copy, NULL);
            int e = errno;
            char detail[96];
            snprintf(detail, sizeof detail, "real number underflow near '%.40s%s' (at byte %zu)",
                     copy, j - i > 40 ? "..." : "", j);
            if (copy != tok)
                free(copy);
            if (e == ERANGE && isfinite(d))
                return arena_fail(a, PC_EOVERFLOW, "number out of range", detail);
        }
        i = j - 1;
    }
    return 0;
}

/* Parse text with jansson; numbers out of range (overflow or underflow) are
 * PC_EOVERFLOW. */
static int json_load(const char *text, size_t len, json_t **out, pcjson_arena *a)
{
    json_error_t err;
    a->msg[0] = '\0';
    *out = NULL;
    if (!text && len)
        return arena_fail(a, PC_EINVAL, "invalid JSON", "no text");
    int rc = text ? underflow_check(text, len, a) : 0;
    if (rc)
        return rc;
    *out = json_loadb(text ? text : "", len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (*out)
        return 0;
    char detail[sizeof err.text + 32];
    snprintf(detail, sizeof detail, "%s (at byte %d)", err.text, err.position);
    switch (json_error_code(&err)) {
    case json_error_numeric_overflow:
        return arena_fail(a, PC_EOVERFLOW, "number out of range", detail);
    case json_error_out_of_memory:
        return arena_fail(a, PC_ENOMEM, "out of memory", NULL);
    default:
        return arena_fail(a, PC_EINVAL, "invalid JSON", detail);
    }
}

/* A copy of n bytes in the arena, NUL-terminated for convenience. */
static int arena_bytes(pcjson_arena *a, const char *p, size_t n, pc_val *out)
{
    if (n == SIZE_MAX)
        return arena_fail(a, PC_ENOMEM, "out of memory", NULL);
    char *copy = pcjson_arena_alloc(a, n + 1);
    if (!copy)
        return arena_fail(a, PC_ENOMEM, "out of memory", NULL);
    if (n)
        memcpy(copy, p, n);
    copy[n] = '\0';
    *out = pc_mem(copy, n);
    return 0;
}

/* Convert one jansson scalar; where names it in messages ("element 3"). */
static int scalar_of(const json_t *j, pc_val *out, pcjson_arena *a, const char *where)
{
    char msg[96];
    switch (json_typeof(j)) {
    case JSON_STRING:
        return arena_bytes(a, json_string_value(j), json_string_length(j), out);
    case JSON_INTEGER:
        *out = pc_int((int64_t)json_integer_value(j));
        return 0;
    case JSON_REAL:
        if (!isfinite(json_real_value(j)))
            return arena_fail(a, PC_EOVERFLOW, "number out of range", where);
        *out = pc_dbl(json_real_value(j));
        return 0;
    case JSON_TRUE:
        *out = pc_bool(true);
        return 0;
    case JSON_FALSE:
        *out = pc_bool(false);
        return 0;
    case JSON_NULL:
        *out = pc_nil();
        return 0;
    case JSON_ARRAY:
    case JSON_OBJECT:
        snprintf(msg, sizeof msg, "%s is an %s", where, json_is_array(j) ? "array" : "object");
        return arena_fail(a, PC_EINVAL, "nested arrays and objects are not allowed", msg);
    }
    return arena_fail(a, PC_EINVAL, "invalid JSON", where);
}

int pcjson_parse_scalar(const char *text, size_t len, pc_val *out, pcjson_arena *a)
{
    json_t *j;
    int rc = json_load(text, len, &j, a);
    if (rc)
        return rc;
    pc_val v;
    if (json_is_array(j) || json_is_object(j))
        rc = arena_fail(a, PC_EINVAL, "expected a JSON scalar",
                        json_is_array(j) ? "got an array" : "got an object");
    else
        rc = scalar_of(j, &v, a, "the value");
    json_decref(j);
    if (!rc)
        *out = v;
    return rc;
}

/* An array of scalars into a[0..n). */
static int items_of_array(const json_t *j, pc_val *items, pcjson_arena *a)
{
    for (size_t i = 0; i < json_array_size(j); i++) {
        char where[48];
        snprintf(where, sizeof where, "element %zu", i);
        int rc = scalar_of(json_array_get(j, i), &items[i], a, where);
        if (rc)
            return rc;
    }
    return 0;
}

/* An object of scalars into field/value pairs, in the object's order. */
static int items_of_object(json_t *j, pc_val *items, pcjson_arena *a)
{
    size_t i = 0;
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it), i += 2) {
        char where[80];
        int rc = arena_bytes(a, json_object_iter_key(it), json_object_iter_key_len(it), &items[i]);
        if (rc)
            return rc;
        snprintf(where, sizeof where, "the value of field \"%.40s\"", json_object_iter_key(it));
        if ((rc = scalar_of(json_object_iter_value(it), &items[i + 1], a, where)))
            return rc;
    }
    return 0;
}

int pcjson_parse_items(const char *text, size_t len, pc_type type, pc_val **items, size_t *n,
                       pcjson_arena *a)
{
    bool map = type == PC_T_MAP;
    if (type != PC_T_LIST && type != PC_T_QUEUE && type != PC_T_SET && !map)
        return arena_fail(a, PC_EINVAL, "not a collection type", NULL);
    json_t *j;
    int rc = json_load(text, len, &j, a);
    if (rc)
        return rc;
    if (map ? !json_is_object(j) : !json_is_array(j)) {
        json_decref(j);
        return arena_fail(a, PC_EINVAL, map ? "expected a JSON object" : "expected a JSON array",
                          NULL);
    }
    size_t count = map ? json_object_size(j) : json_array_size(j);
    size_t want = map ? 2 : 1;
    pc_val *v = NULL;
    if (count > SIZE_MAX / sizeof *v / want ||
        (count && !(v = pcjson_arena_alloc(a, count * want * sizeof *v))))
        rc = arena_fail(a, PC_ENOMEM, "out of memory", NULL);
    else if (count)
        rc = map ? items_of_object(j, v, a) : items_of_array(j, v, a);
    json_decref(j);
    if (rc)
        return rc;
    *items = v;
    *n = count * want;
    return 0;
}

/* ---- writing ---- */

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (n - i < len)
            return false;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            return false;
        if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
            return false;
        i += len;
    }
    return true;
}

void pcjson_write_str(FILE *f, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (n == 0) {
        fputs("\"\"", f);
        return;
    }
    bool latin1 = !utf8_valid(s, n);
    size_t run = 0; /* start of the bytes not yet written */
    putc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || !latin1))
            continue;
        fwrite(s + run, 1, i - run, f);
        run = i + 1;
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            fprintf(f, "\\u%04x", c);
        }
    }
    fwrite(s + run, 1, n - run, f);
    putc('"', f);
}

char *pcjson_fmt_double(double d, char *buf, size_t size)
{
    if (!isfinite(d)) {
        snprintf(buf, size, "null");
        return buf;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    size_t len = strlen(buf);
    if (!strpbrk(buf, ".eE") && len + 3 <= size)
        memcpy(buf + len, ".0", 3);
    return buf;
}

void pcjson_write_val(FILE *f, const pc_val *v)
{
    char buf[40];
    switch (v->kind) {
    case PC_BYTES:
        pcjson_write_str(f, v->s.ptr, v->s.len);
        return;
    case PC_INT:
        fprintf(f, "%lld", (long long)v->i);
        return;
    case PC_DOUBLE:
        fputs(pcjson_fmt_double(v->d, buf, sizeof buf), f);
        return;
    case PC_BOOL:
        fputs(v->b ? "true" : "false", f);
        return;
    case PC_NONE:
    case PC_NIL:
        break;
    }
    fputs("null", f);
}
