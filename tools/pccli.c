/*
 * pccli.c - pycache's command-line client: options, opening the store, and
 * the ways to run commands (pccli.h has the map of the files).
 *
 *   pccli [options] COMMAND ARGS...   one command (-r/-i repeat it, -x takes
 *                                     its last argument from standard input)
 *   pccli [options] --pipe            commands from standard input, one a line;
 *                                     counts at the end
 *   pccli [options]                   the interactive mode on a terminal
 *                                     (libedit: line editing, history, help);
 *                                     else commands from standard input
 *
 * Commands carry Redis's names (any case).  Exit status: 0 done, 1 missing
 * or false, 2 error (with a message on stderr).  See man/pccli.1.
 */
#include <editline/readline.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pccli.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define SYNOPSIS                                                                             \
    "usage: pccli [-d DIR] [--embedded] [--json] [-T] [-x] [-r COUNT] [-i SECONDS] COMMAND " \
    "[ARGS...]\n"                                                                            \
    "       pccli [-d DIR] [--embedded] [--json] [-T] [--pipe]\n"                            \
    "       pccli --help | --version\n"

static const char *const groups[] = {"keys", "string", "list",  "map",    "set",   "queue",
                                     "zset", "bits",   "bloom", "limits", "server"};

/* The short usage for a command line that makes no sense: on stderr, EX_ERR. */
static int usage_short(bool json, const char *why, const char *what)
{
    if (json) {
        cli_say(true, "usage", "%s%s", why, what);
        return EX_ERR;
    }
    fprintf(stderr, "pccli: %s%s\n" SYNOPSIS "Try 'pccli --help' for the commands.\n", why, what);
    return EX_ERR;
}

static void usage(FILE *f)
{
    fputs(SYNOPSIS
          "\n"
          "  -d, --dir DIR    the store directory (default: $PYCACHE_DIR, else the\n"
          "                   library's default)\n"
          "  --embedded       open the store directly (creating it) instead of using pycached\n"
          "  -j, --json       print every result, and every error (on stderr), as JSON\n"
          "  -T, --typed      read VALUE and MEMBER arguments as JSON scalars\n"
          "                   (1, 2.5, true, false, null, \"text\")\n"
          "  -x               read the last argument from standard input (binary safe)\n"
          "  -r COUNT         run the command COUNT times (-1: until interrupted)\n"
          "  -i SECONDS       wait SECONDS between runs (with -r)\n"
          "  --pipe           run the commands of standard input, one a line, quietly;\n"
          "                   print the counts of replies and errors at the end\n"
          "  -h, --help       print this help\n"
          "  -V, --version    print the version\n"
          "\n"
          "Without a COMMAND: the interactive mode on a terminal (help, help COMMAND,\n"
          "quit), else the commands of standard input, one a line.\n"
          "\n"
          "Commands (case-insensitive):\n",
          f);
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        fprintf(f, " %s:\n", groups[g]);
        for (size_t i = 0; i < pccli_ncmds; i++)
            if (!strcmp(pccli_cmds[i].group, groups[g]))
                fprintf(f, "  %s %s\n", pccli_cmds[i].name, pccli_cmds[i].args);
    }
    fputs("\nExit status: 0 done, 1 missing or false, 2 error.  See pccli(1).\n", f);
}

/* Open the client as asked; EX_DONE or EX_ERR with a message. */
static int connect_store(cli *x)
{
    pc_options o;
    pc_options_init(&o);
    if (x->embedded)
        o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE;
    int rc = pc_connect(x->dir, &o, &x->c);
    if (!rc)
        return EX_DONE;
    const char *shown = x->dir ? x->dir : "the default store directory";
    if (rc == PC_ECONNREFUSED)
        cli_say(x->json, pc_err_name(rc),
                "no daemon is serving %s (start pycached, or use --embedded)", shown);
    else
        cli_say(x->json, pc_err_name(rc), "cannot open the store in %s: %s (%s)%s", shown,
                pc_strerror(rc), pc_err_name(rc),
                rc == PC_EBUSY && x->embedded ? "; is pycached serving it? then drop --embedded"
                                              : "");
    return EX_ERR;
}

/* Run one command line: argv[0] the command, argv[1..] (lengths in lens)
 * its arguments.  What it parsed is freed afterwards. */
static int run_command(cli *x, int argc, char **argv, size_t *lens)
{
    const cmd *c = pccli_find(argv[0]);
    if (!c || strlen(argv[0]) != lens[0]) {
        if (!x->lines)
            return usage_short(x->json, "unknown command: ", argv[0]);
        cli_say(x->json, "usage", "unknown command: %s (try help)", argv[0]);
        return EX_ERR;
    }
    x->cmd = c;
    x->av = argv + 1;
    x->al = lens + 1;
    x->ac = argc - 1;
    int ex = pccli_arity_ok(c, argc - 1) ? c->fn(x, argc - 1, argv + 1) : cli_usage(x);
    pcjson_arena_free(&x->arena);
    return ex;
}

/* All of standard input, for -x.  NULL (with a message) on failure. */
static char *read_all(size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            char *nb = cap > SIZE_MAX / 4 ? NULL : realloc(buf, 2 * cap + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(STDIN_FILENO, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "pccli: -x: cannot read standard input: %s\n", strerror(errno));
            free(buf);
            return NULL;
        }
        if (r == 0) {
            buf[len] = '\0';
            *n = len;
            return buf;
        }
        len += (size_t)r;
    }
    free(buf);
    fputs("pccli: -x: out of memory reading standard input\n", stderr);
    return NULL;
}

static void nap(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- help (the interactive mode) ---- */

static void help(const char *what)
{
    if (!what || !*what) {
        printf("pccli %s: Redis's commands on a pycache store.\n"
               "Type: \"help COMMAND\" for a command, \"help @GROUP\" for a group (",
               PACKAGE_VERSION);
        for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
            printf("%s@%s", g ? ", " : "", groups[g]);
        puts("),\n      \"quit\" or Ctrl-D to leave.  Values are strings unless -T was given.");
        return;
    }
    if (what[0] == '@') {
        bool any = false;
        for (size_t i = 0; i < pccli_ncmds; i++)
            if (!strcasecmp(pccli_cmds[i].group, what + 1)) {
                printf("  %s %s\n      %s\n", pccli_cmds[i].name, pccli_cmds[i].args,
                       pccli_cmds[i].summary);
                any = true;
            }
        if (!any)
            printf("no group %s: try help\n", what);
        return;
    }
    const cmd *c = pccli_find(what);
    if (!c) {
        printf("no command %s: try help @GROUP for a list\n", what);
        return;
    }
    printf("\n  %s %s\n  summary: %s\n  group: %s\n\n", c->name, c->args, c->summary, c->group);
}

/* ---- lines: --pipe, standard input, the interactive mode ---- */

typedef struct line_stats {
    unsigned long replies, errors;
    int last; /* the last command's exit status */
} line_stats;

/* Run one line.  False when it asks to quit. */
static bool run_line(cli *x, const char *line, line_stats *st)
{
    int argc;
    char **argv;
    size_t *lens;
    pcjson_arena parse;
    pcjson_arena_init(&parse);
    if (pccli_split(&parse, line, &argc, &argv, &lens)) {
        cli_say(x->json, "usage", "invalid argument(s): unbalanced quotes in: %s", line);
        st->errors++;
        st->last = EX_ERR;
        pcjson_arena_free(&parse);
        return true;
    }
    bool go_on = true;
    if (argc == 0) {
        /* a blank line */
    } else if (x->repl && (!strcasecmp(argv[0], "quit") || !strcasecmp(argv[0], "exit"))) {
        go_on = false;
    } else if (x->repl && !strcasecmp(argv[0], "help")) {
        help(argc > 1 ? argv[1] : NULL);
    } else {
        st->last = run_command(x, argc, argv, lens);
        st->replies++;
        st->errors += st->last == EX_ERR;
    }
    fflush(stdout);
    pcjson_arena_free(&parse);
    return go_on;
}

/* Commands from standard input, one a line (a final \r is dropped). */
static void run_stream(cli *x, line_stats *st)
{
    x->lines = true;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if ((size_t)n != strlen(line)) {
            cli_say(x->json, "usage", "a line of standard input holds a NUL byte: write \\x00");
            st->errors++;
            st->last = EX_ERR;
            continue;
        }
        if (!run_line(x, line, st))
            break;
    }
    free(line);
}

/* --pipe: the replies go nowhere, the errors to stderr, the counts at the
 * end (as redis-cli --pipe says them). */
static int run_pipe(cli *x)
{
    line_stats st = {0, 0, EX_DONE};
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
    if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
        fprintf(stderr, "pccli: --pipe: cannot silence the replies: %s\n", strerror(errno));
        return EX_ERR;
    }
    close(null);
    run_stream(x, &st);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    if (x->json)
        printf("{\"replies\":%lu,\"errors\":%lu}\n", st.replies, st.errors);
    else
        printf("errors: %lu, replies: %lu\n", st.errors, st.replies);
    return st.errors ? EX_ERR : EX_DONE;
}

/* The history file: $PCCLI_HISTFILE (empty: none), else ~/.pccli_history. */
static char *history_path(void)
{
    const char *h = getenv("PCCLI_HISTFILE");
    if (h)
        return *h ? strdup(h) : NULL;
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    size_t n = strlen(home) + sizeof "/.pccli_history";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/.pccli_history", home);
    return p;
}

/* The interactive mode: libedit's line editing and history. */
static int run_repl(cli *x)
{
    line_stats st = {0, 0, EX_DONE};
    char *hist = history_path();
    x->repl = x->lines = true;
    using_history();
    stifle_history(1000);
    if (hist)
        read_history(hist);
    char *line;
    while ((line = readline("pccli> ")) != NULL) {
        if (*line)
            add_history(line);
        bool go_on = run_line(x, line, &st);
        free(line);
        if (!go_on)
            break;
    }
    if (hist) {
        write_history(hist);
        free(hist);
    }
    return EX_DONE;
}

/* Options of the whole run. */
typedef struct run_opts {
    bool xarg, pipe;
    long repeat;     /* -r: 0 once, -1 forever */
    double interval; /* -i */
} run_opts;

static int parse_opts(int argc, char **argv, cli *x, run_opts *ro, int *ex)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'}, {"embedded", no_argument, NULL, 'E'},
        {"json", no_argument, NULL, 'j'},      {"typed", no_argument, NULL, 'T'},
        {"pipe", no_argument, NULL, 'P'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},   {NULL, 0, NULL, 0},
    };
    int o;
    char *end;
    opterr = 0; /* our own messages below */
    *ex = -1;
    while ((o = getopt_long(argc, argv, "+:d:jTxr:i:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            x->dir = optarg;
            break;
        case 'E':
            x->embedded = true;
            break;
        case 'j':
            x->json = true;
            break;
        case 'T':
            x->typed = true;
            break;
        case 'x':
            ro->xarg = true;
            break;
        case 'P':
            ro->pipe = true;
            break;
        case 'r':
            errno = 0;
            ro->repeat = strtol(optarg, &end, 10);
            if (*end || !*optarg || errno || ro->repeat < -1 || ro->repeat == 0)
                return *ex =
                           usage_short(x->json, "-r needs a count of at least 1 (or -1): ", optarg);
            break;
        case 'i':
            errno = 0;
            ro->interval = strtod(optarg, &end);
            if (*end || !*optarg || errno || !(ro->interval >= 0) || ro->interval > 86400)
                return *ex = usage_short(x->json, "-i needs 0 to 86400 seconds: ", optarg);
            break;
        case 'h':
            usage(stdout);
            return *ex = fflush(stdout) ? EX_ERR : EX_DONE;
        case 'V':
            printf("pccli (pycache) %s\n", PACKAGE_VERSION);
            return *ex = fflush(stdout) ? EX_ERR : EX_DONE;
        case ':':
            return *ex = usage_short(x->json, "option needs a value: ", argv[optind - 1]);
        default:
            if (optopt) {
                char opt[3] = {'-', (char)optopt, '\0'};
                return *ex = usage_short(x->json, "unknown option: ", opt);
            }
            return *ex = usage_short(x->json, "unknown option: ", argv[optind - 1]);
        }
    }
    return 0;
}

/* One command, -x and -r/-i.  Exit: 2 if any run failed, else the last's. */
static int run_args(cli *x, const run_opts *ro, int argc, char **argv)
{
    size_t *lens = calloc((size_t)argc + 2, sizeof *lens);
    char **av = calloc((size_t)argc + 2, sizeof *av);
    char *in = NULL;
    size_t inlen = 0;
    int ex = EX_DONE;
    if (!lens || !av) {
        fputs("pccli: out of memory\n", stderr);
        ex = EX_ERR;
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i];
        lens[i] = strlen(argv[i]);
    }
    if (ro->xarg) {
        if (!(in = read_all(&inlen))) {
            ex = EX_ERR;
            goto out;
        }
        av[argc] = in;
        lens[argc] = inlen;
        argc++;
    }
    bool failed = false;
    for (long i = 0; ro->repeat < 0 || i < (ro->repeat ? ro->repeat : 1); i++) {
        if (i)
            nap(ro->interval);
        ex = run_command(x, argc, av, lens);
        failed |= ex == EX_ERR;
        if (fflush(stdout))
            break;
    }
    if (failed)
        ex = EX_ERR;
out:
    free(in);
    free(av);
    free(lens);
    return ex;
}

int main(int argc, char **argv)
{
    cli x = {0};
    run_opts ro = {0};
    int ex;
    pcjson_arena_init(&x.arena);
    parse_opts(argc, argv, &x, &ro, &ex);
    if (ex >= 0)
        return ex;
    bool have_cmd = optind < argc;
    if (ro.pipe && (have_cmd || ro.xarg || ro.repeat))
        return usage_short(x.json, "--pipe takes its commands from standard input: ",
                           have_cmd  ? argv[optind]
                           : ro.xarg ? "-x"
                                     : "-r");
    if (!have_cmd && (ro.xarg || ro.repeat || ro.interval > 0))
        return usage_short(x.json, "no command given for ", ro.xarg ? "-x" : "-r/-i");
    if (have_cmd && !pccli_find(argv[optind]))
        return usage_short(x.json, "unknown command: ", argv[optind]);
    const char *env = getenv("PYCACHE_DIR");
    if (!x.dir && env && *env)
        x.dir = env;
    if (connect_store(&x))
        return EX_ERR;
    if (have_cmd) {
        ex = run_args(&x, &ro, argc - optind, argv + optind);
    } else if (ro.pipe) {
        ex = run_pipe(&x);
    } else if (isatty(STDIN_FILENO)) {
        ex = run_repl(&x);
    } else {
        line_stats st = {0, 0, EX_DONE};
        run_stream(&x, &st);
        ex = st.errors ? EX_ERR : st.last;
    }
    pc_close(x.c);
    pcjson_arena_free(&x.arena);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "pccli: error writing the output: %s\n", strerror(errno));
        return EX_ERR;
    }
    return ex;
}
