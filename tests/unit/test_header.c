/*
 * test_header.c - pycache.h compiles on its own: this file includes it and
 * nothing else, and is built with -std=c11 -pedantic -Wall -Wextra -Werror.
 * It uses the header's inline helpers and constants; it links nothing.
 */
#include "pycache.h"

int main(void)
{
    pc_val v[] = {pc_int(-42),       pc_dbl(2.5),   pc_str("abc"),
                  pc_mem("a\0b", 3), pc_bool(true), pc_nil()};
    pc_bytes b = pc_b("xy", 2);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_options o = {PC_OPT_EMBEDDED | PC_OPT_CREATE | PC_OPT_NOSYNC, 0, 0, 0, 0, 0};
    static const int codes[] = {
#define CODE(name, val, msg) PC_##name,
        PC_ERRNO_MAP(CODE)
#undef CODE
    };
    int bad = 0;
    bad |= v[0].kind != PC_INT || v[0].i != -42;
    bad |= v[1].kind != PC_DOUBLE || v[1].d != 2.5;
    bad |= v[2].kind != PC_BYTES || v[2].s.len != 3;
    bad |= v[3].kind != PC_BYTES || v[3].s.len != 3;
    bad |= v[4].kind != PC_BOOL || !v[4].b;
    bad |= v[5].kind != PC_NIL;
    bad |= b.len != 2 || cur.done || cur.started || o.shards != 0;
    bad |= sizeof codes / sizeof codes[0] < 20 || PC_OK != 0 || PC_KEY_MAX != 250;
    bad |= PC_T_NONE != 0 || PC_NONE != 0 || sizeof cur.pos != PC_CURSOR_POS_MAX;
    return bad;
}
