/*
 * pcjson.h - JSON text <-> pc_val for the tools (pccli, later pcstat).
 *
 * Parsing uses jansson and accepts only what maps onto pycache's scalars:
 * strings (any bytes, \u0000 included), integers that fit int64, finite
 * doubles, true, false and null.  Every parse function returns 0 or a
 * negative PC_E* code, never crashes and never leaks, whatever the input
 * (a libFuzzer harness calls them); on failure the arena's msg says why.
 *
 * Writing streams compact JSON to a FILE: byte strings as JSON strings (a
 * string that is not valid UTF-8 is written as if it were Latin-1: each byte
 * becomes the code point U+0000..U+00FF, written \u00XX when >= 0x80; this
 * is lossy, reading it back gives UTF-8 text, not the original bytes),
 * integers as numbers, doubles as the shortest text that reads back to the
 * same double and always with a '.' or an exponent (2.0, not 2), booleans
 * and null as themselves.
 */
#ifndef PCJSON_H
#define PCJSON_H

#include <stddef.h>
#include <stdio.h>

#include "pycache.h"

/*
 * Owns what a parse hands back (the pc_val arrays and the bytes of strings)
 * until pcjson_arena_free(); also keeps the message of the last failure.
 * Zero it, or call pcjson_arena_init(), before use.
 */
typedef struct pcjson_arena {
    struct pcjson_block *blocks; /* every allocation, freed together */
    char msg[256];               /* why the last parse failed; "" if none did */
} pcjson_arena;

void pcjson_arena_init(pcjson_arena *a);

/** n bytes (aligned for any type) owned by the arena, or NULL when out of memory. */
void *pcjson_arena_alloc(pcjson_arena *a, size_t n);

/** Free everything the arena handed out; it can be used again afterwards. */
void pcjson_arena_free(pcjson_arena *a);

/**
 * Parse text[0..len) (need not be NUL-terminated) as one JSON scalar.
 * @return 0; PC_EINVAL (not JSON, or an array or object: a.msg says which);
 *         PC_EOVERFLOW (a number out of int64 or double range); PC_ENOMEM.
 * *out is written only on success; its bytes live in the arena.
 */
int pcjson_parse_scalar(const char *text, size_t len, pc_val *out, pcjson_arena *a);

/**
 * Parse the JSON for a whole collection of type: an array of scalars for
 * PC_T_LIST, PC_T_QUEUE and PC_T_SET, giving *n items; an object of scalars
 * for PC_T_MAP, giving *n = 2 * fields items laid out as pc_set_coll() wants
 * (field as PC_BYTES, then its value).  A field that occurs twice keeps its
 * first position and its last value.  Nested arrays or objects are PC_EINVAL.
 * *items (NULL when *n is 0) lives in the arena.
 * @return 0, PC_EINVAL, PC_EOVERFLOW, PC_ENOMEM as pcjson_parse_scalar().
 */
int pcjson_parse_items(const char *text, size_t len, pc_type type, pc_val **items, size_t *n,
                       pcjson_arena *a);

/** Write a byte string as a JSON string (the lossy rule above for non-UTF-8). */
void pcjson_write_str(FILE *f, const void *p, size_t n);

/** Write a value as JSON (PC_NONE and PC_NIL as null). */
void pcjson_write_val(FILE *f, const pc_val *v);

/**
 * Format a double as pcjson_write_val() does into buf (32 bytes is enough);
 * a value that is not finite gives "null".  Returns buf.
 */
char *pcjson_fmt_double(double d, char *buf, size_t size);

#endif /* PCJSON_H */
