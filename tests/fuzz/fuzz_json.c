/*
 * fuzz_json.c - libFuzzer harness for pccli's JSON value parser
 * (tools/pcjson.c): pcjson_parse_scalar, and pcjson_parse_items for each
 * collection type, on the same bytes (not NUL-terminated).  Whatever parses
 * is written back out (pcjson_write_val) to a null stream.  Pass: no crash,
 * no sanitizer report, no leak, no hang; every failure leaves a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/pcjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    /* An exact-size copy so that reading past the end is caught. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    pcjson_arena a;
    pcjson_arena_init(&a);
    pc_val v;
    int rc = pcjson_parse_scalar(text, size, &v, &a);
    if (rc == 0 && devnull)
        pcjson_write_val(devnull, &v);
    else if (rc && !a.msg[0])
        abort(); /* a failure must say why */
    pcjson_arena_free(&a);
    static const pc_type types[] = {PC_T_LIST, PC_T_QUEUE, PC_T_SET, PC_T_MAP};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        pc_val *items;
        size_t n;
        rc = pcjson_parse_items(text, size, types[t], &items, &n, &a);
        if (rc == 0 && devnull)
            for (size_t i = 0; i < n; i++)
                pcjson_write_val(devnull, &items[i]);
        else if (rc && !a.msg[0])
            abort();
        pcjson_arena_free(&a);
    }
    free(text);
    return 0;
}
