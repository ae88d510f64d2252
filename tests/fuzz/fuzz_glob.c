/*
 * fuzz_glob.c - libFuzzer harness for the glob matcher behind pc_scan and
 * pc_expiry_scan (shm/read.c pcs_glob_match: fnmatch(3) on each key).
 *
 * A small embedded store holds 64 keys (plain, with glob metacharacters,
 * brackets, backslashes, UTF-8, binary, 250 bytes long), half of them with a
 * TTL.  The input, cut at 4096 bytes and at its first NUL (what the daemon
 * accepts from a ring-only client), is the glob; the harness pages through
 * pc_scan and pc_expiry_scan with it.  Pass: no crash, no sanitizer report,
 * no leak, no hang (libFuzzer's -timeout: a glob that takes seconds against
 * 64 keys would stall the daemon).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pycache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pc_client *cl;
static char dir[] = "/dev/shm/pcfuzz-glob-XXXXXX";

static void cleanup(void)
{
    pc_close(cl);
    cl = NULL;
    char p[128];
    static const char *const names[] = {"data-00.mdb", "data-00.mdb-lock", "pycached.pid"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void setup(void)
{
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC;
    o.map_size = 16u << 20;
    if (pc_connect(dir, &o, &cl))
        abort();
    static const char *const fixed[] = {"a",
                                        "ab",
                                        "abc",
                                        "user:1",
                                        "user:2",
                                        "user:10",
                                        "user:*",
                                        "a*b",
                                        "a?b",
                                        "[abc]",
                                        "x]y",
                                        "back\\slash",
                                        "\\",
                                        "[",
                                        "]",
                                        "[!a]",
                                        "{tag}x",
                                        "caf\xc3\xa9",
                                        "\xff\xfe",
                                        "-",
                                        "a-z",
                                        "*",
                                        "?",
                                        "..",
                                        "/a/b",
                                        "a/b",
                                        ".hidden",
                                        "[[:alpha:]]",
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"};
    int n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++, n++) {
        pc_val v = pc_int(n);
        pc_set(cl, fixed[i], strlen(fixed[i]), &v, n % 2 ? 3600000 : 0, 0);
    }
    char key[251];
    for (; n < 64; n++) {
        size_t len = n % 3 == 0 ? 250 : (size_t)(n * 3 % 40 + 1);
        for (size_t i = 0; i < len; i++)
            key[i] = (char)("a*?[]\\!-b"[(i * 7 + (size_t)n) % 9]);
        if (n % 5 == 0)
            memset(key, 'a', len);
        pc_val v = pc_int(n);
        pc_set(cl, key, len, &v, n % 2 ? 3600000 : 0, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cl)
        setup();
    size_t len = size > 4096 ? 4096 : size;
    const uint8_t *nul = memchr(data, 0, len);
    if (nul)
        len = (size_t)(nul - data);
    char *glob = malloc(len + 1);
    if (!glob)
        return 0;
    memcpy(glob, data, len);
    glob[len] = 0;
    pc_read *r;
    if (pc_read_begin(cl, &r) == 0) {
        pc_cursor cur = PC_CURSOR_INIT;
        pc_bytes keys[16];
        int64_t when[16];
        size_t n;
        while (!cur.done && pc_scan(r, glob, &cur, keys, 16, &n) == 0)
            ;
        pc_cursor cur2 = PC_CURSOR_INIT;
        while (!cur2.done && pc_expiry_scan(r, glob, &cur2, keys, when, 16, &n) == 0)
            ;
        pc_read_end(r);
    }
    free(glob);
    return 0;
}
