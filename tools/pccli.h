/*
 * pccli.h - what the files of pccli share: the run's state, the command
 * table, messages, argument parsing and output.
 *
 *   pccli.c       main: options, opening the store, the ways to run (one
 *                 command, -r/-i repeats, --pipe, lines from standard input,
 *                 the interactive mode with libedit), help
 *   pccli_util.c  messages (plain or JSON), arguments, output, the listings
 *                 every command prints through, redis-cli's line quoting
 *   pccli_cmds.c  one static handler per command, and the sorted table
 *   pccli_stream.c  the stream commands (issue 17), in the same table
 *   pccli_zset.c  the sorted set commands (issue 17)
 *
 * Arguments are byte strings: the ones -x reads and the ones a quoted line
 * spells with \x00 may hold NUL bytes, so a handler takes each argument's
 * length from x->al[i] (ARG(i)), never from strlen.
 */
#ifndef PCCLI_H
#define PCCLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcjson.h"
#include "pycache.h"

enum { EX_DONE = 0, EX_NO = 1, EX_ERR = 2 };

/* Elements fetched per library call when listing. */
#define PAGE 256

struct cmd;

typedef struct cli {
    pc_client *c;
    const char *dir;       /* the store directory as given (NULL: the default) */
    bool embedded;         /* --embedded */
    const struct cmd *cmd; /* the command being run, for messages */
    bool json;             /* --json: every result, and every error, as JSON */
    bool typed;            /* -T: VALUE arguments are JSON scalars */
    bool repl;             /* the interactive mode: (nil) and OK, as redis-cli */
    bool lines;            /* commands come as lines (--pipe, stdin, interactive) */
    char **av;             /* the command's arguments (after its name) ... */
    size_t *al;            /* ... and their lengths */
    int ac;
    pcjson_arena arena; /* parsed values and argument arrays, freed per command */
} cli;

typedef int (*cmd_fn)(cli *x, int argc, char **argv);

/* Argument shapes beyond a count. */
enum { ARGS_ANY, ARGS_PAIRS, ARGS_KEY_PAIRS };

typedef struct cmd {
    const char *name;
    cmd_fn fn;
    int min, max; /* arguments after the name; max -1: no limit */
    int shape;    /* ARGS_* */
    const char *group;
    const char *args;
    const char *summary;
} cmd;

extern const cmd pccli_cmds[];
extern const size_t pccli_ncmds;

/* The command of that name (any case), or NULL. */
const cmd *pccli_find(const char *name);
bool pccli_arity_ok(const cmd *c, int n);

/* Argument i of the running command as pointer and length. */
#define ARG(i) x->av[(i)], x->al[(i)]

/* ---- messages ---- */

/* "pccli: COMMAND: message" on stderr (with --json, a JSON object); EX_ERR. */
int cli_err(cli *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A library error, as pc_last_error() tells it; EX_ERR. */
int cli_fail(cli *x, int rc);
/* The command's usage; EX_ERR. */
int cli_usage(cli *x);
/* A message for the whole run (no command): with --json as JSON too. */
void cli_say(bool json, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Memory for n things of size sz, owned by the arena. */
void *cli_alloc(cli *x, size_t n, size_t sz);

/* ---- arguments (i: the index of the argument) ---- */

/* Does argument i equal word, ignoring case? */
bool arg_is(const cli *x, int i, const char *word);
int arg_i64(cli *x, const char *what, int i, int64_t *out);
int arg_double(cli *x, const char *what, int i, double *out);
/* An integer of at least min. */
int arg_min(cli *x, const char *what, int i, int64_t min, int64_t *out);
/* A TTL (seconds, or ms) as ms, 1 to 100 years. */
int arg_ttl(cli *x, int i, bool ms, int64_t *ttl_ms);
/* A time (seconds since the epoch, or ms) as ms. */
int arg_time(cli *x, int i, bool ms, int64_t *at_ms);
/* A VALUE: a string, or with -T a JSON scalar. */
int arg_val(cli *x, int i, pc_val *out);
/* n VALUE arguments from i on, in an arena array. */
int arg_vals(cli *x, int i, int n, pc_val **out);
/* n byte-string arguments (keys or fields), every step-th from i. */
int arg_bytes(cli *x, int i, int n, int step, pc_bytes **out);

/* ---- output ---- */

int out_val(cli *x, const pc_val *v);
int out_int(cli *x, int64_t i);
/* A 1/0 answer: exit 1 for 0. */
int out_flag(cli *x, int yes);
int out_double(cli *x, double d);
int out_text(cli *x, const char *s);
int out_bytes(cli *x, const void *p, size_t n);
/* Nothing there: null with --json, (nil) in the interactive mode; exit 1. */
int out_missing(cli *x);
/* A write with no result: true with --json, OK in the interactive mode. */
int out_done(cli *x);
/* A write that did not happen (NX/XX): false with --json; exit 1. */
int out_notdone(cli *x);

/* JSON arrays and objects, opened once their first page is read (so an
 * error leaves stdout empty).  *state: 0 not opened, 1 empty, 2 an item. */
void out_open(int *state, int ch);
void out_next(int *state);
void out_close(int *state, int open, int close);
void out_vals(const pc_val *v, size_t n, int *state);

int read_begin(cli *x, pc_read **r);

typedef int (*len_fn)(pc_read *, const void *, size_t, uint64_t *);
typedef int (*range_fn)(pc_read *, const void *, size_t, int64_t, int64_t, pc_val *, size_t,
                        size_t *);
/* The length of a List, Queue, Map or Set; a missing key counts 0. */
int get_len(pc_read *r, len_fn lenf, pc_bytes key, uint64_t *len);
/* Print the count lenf gives for the key ARG(0) (0 for a missing key):
 * strlen, llen, hlen, scard, xlen, zcard. */
int do_count(cli *x, len_fn lenf);
/* Elements start..stop (Redis indices) of a List or Queue, a JSON array. */
int print_seq(pc_read *r, pc_bytes key, len_fn lenf, range_fn rangef, int64_t start, int64_t stop);
/* A Map: what = 0 an object, 1 its fields, 2 its values (arrays). */
int print_map(pc_read *r, pc_bytes key, int what);
int print_set(pc_read *r, pc_bytes key);
/* A collection as compact JSON (get of a List, Queue, Map or Set). */
int print_coll(pc_read *r, pc_bytes key);

/* ---- pccli_stream.c: the stream commands (issue 17) ---- */

int pccli_xadd(cli *x, int argc, char **argv);
int pccli_xlen(cli *x, int argc, char **argv);
int pccli_xrange(cli *x, int argc, char **argv); /* and xrevrange */
int pccli_xread(cli *x, int argc, char **argv);
int pccli_xdel(cli *x, int argc, char **argv);
int pccli_xtrim(cli *x, int argc, char **argv);
int pccli_xgroup(cli *x, int argc, char **argv);
int pccli_xreadgroup(cli *x, int argc, char **argv);
int pccli_xack(cli *x, int argc, char **argv);
int pccli_xpending(cli *x, int argc, char **argv);
int pccli_xclaim(cli *x, int argc, char **argv);
int pccli_xautoclaim(cli *x, int argc, char **argv);
int pccli_xinfo(cli *x, int argc, char **argv);
/* ---- pccli_zset.c: the sorted set commands (issue 17) ---- */

int pccli_zadd(cli *x, int argc, char **argv);
int pccli_zincrby(cli *x, int argc, char **argv);
int pccli_zrem(cli *x, int argc, char **argv);
int pccli_zpop(cli *x, int argc, char **argv);   /* zpopmin, zpopmax */
int pccli_bzpop(cli *x, int argc, char **argv);  /* bzpopmin, bzpopmax */
int pccli_zrange(cli *x, int argc, char **argv); /* zrange and its older forms */
int pccli_zrangestore(cli *x, int argc, char **argv);
int pccli_zremrange(cli *x, int argc, char **argv); /* zremrangebyrank/score/lex */
int pccli_zcount(cli *x, int argc, char **argv);    /* zcount, zlexcount */
int pccli_zcard(cli *x, int argc, char **argv);
int pccli_zscore(cli *x, int argc, char **argv);
int pccli_zmscore(cli *x, int argc, char **argv);
int pccli_zrank(cli *x, int argc, char **argv);  /* zrank, zrevrank */
int pccli_zstore(cli *x, int argc, char **argv); /* zunionstore, zinterstore, zdiffstore */

/* ---- lines (--pipe, standard input, the interactive mode) ---- */

/*
 * Split a line into arguments as redis-cli does: blanks separate them;
 * "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes; 'single
 * quotes' take \' only; a closing quote must end the argument.  The
 * arguments (NUL-terminated, lengths in *lens) and the arrays live in the
 * arena.  0 with *argc (0 for a blank line), or -1 for unbalanced quotes.
 */
int pccli_split(pcjson_arena *a, const char *line, int *argc, char ***argv, size_t **lens);

#endif
