/*
 * test_config.c - pycached's settings (daemon/config.c, through
 * libpcdaemon.la): sizes, the command line, the config file, the checks
 * that tie settings together, and paths.  Every refusal is checked to the
 * letter of its message: what a person reads is part of the contract
 * (pycached(8)).
 */
#include <fcntl.h>
#include <syslog.h>

#include "../../daemon/pycached.h"
#include "pctest.h"

/* ---- helpers ---- */

/* pcd_config_args over "pycached" args... from the defaults; its stderr
 * into *err (free it), its stdout into *out when out is not NULL. */
static int parse(pcd_config *cfg, char **err, char **out, const char *const *args)
{
    int argc;
    char **argv = pt_argv("pycached", args, &argc);
    pcd_config_defaults(cfg);
    pt_capture ce, co;
    pt_capture_begin(&ce, STDERR_FILENO);
    if (out)
        pt_capture_begin(&co, STDOUT_FILENO);
    int rc = pcd_config_args(cfg, argc, argv);
    if (out)
        *out = pt_capture_end(&co);
    *err = pt_capture_end(&ce);
    return rc;
}

/* Assert that args are refused (-1) with exactly the message want. */
static void refused(const char *const *args, const char *want)
{
    pcd_config cfg;
    char *err;
    int rc = parse(&cfg, &err, NULL, args);
    pcd_config_free(&cfg);
    CHECK(rc == -1 && !strcmp(err, want),
          "%s %s...: returned %d, said\n    [%s]\nexpected\n    [%s]", args[0],
          args[1] ? args[1] : "", rc, err, want);
    free(err);
}

/* Assert that args are taken (0), saying nothing. */
static void taken(pcd_config *cfg, const char *const *args)
{
    char *err;
    int rc = parse(cfg, &err, NULL, args);
    CHECK(rc == 0 && !*err, "%s...: returned %d, said [%s]", args[0], rc, err);
    free(err);
}

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || pt_mkdtemp(f->dir, sizeof f->dir, "/tmp", "config")) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pt_rmtree(f->dir);
    free(f);
    return 0;
}

/* A config file named name in the fixture's directory holding text[0..n). */
static const char *conf(const fixture *f, const char *name, const char *text, size_t n, char *path,
                        size_t pn)
{
    snprintf(path, pn, "%s/%s", f->dir, name);
    assert_int_equal(pt_write_file(path, text, n), 0);
    return path;
}

/* pcd_config_file over path from the defaults: its result, stderr in *err. */
static int read_conf(pcd_config *cfg, const char *path, char **err)
{
    pcd_config_defaults(cfg);
    pt_capture ce;
    pt_capture_begin(&ce, STDERR_FILENO);
    int rc = pcd_config_file(cfg, path);
    *err = pt_capture_end(&ce);
    return rc;
}

/* ---- sizes ---- */

static void test_parse_size_good(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        {"0", 0},
        {"1", 1},
        {"4096", 4096},
        {"64K", 64u << 10},
        {"64k", 64u << 10},
        {"64KiB", 64u << 10},
        {"64KB", 64u << 10},
        {"1M", 1u << 20},
        {"3m", 3u << 20},
        {"1MiB", 1u << 20},
        {"2G", UINT64_C(2) << 30},
        {"1g", UINT64_C(1) << 30},
        {"8T", UINT64_C(8) << 40},
        {"1t", UINT64_C(1) << 40},
        {"12B", 12},
        {"007K", 7u << 10},
        {"16777215T", UINT64_C(16777215) << 40},
        {"18446744073709551615", UINT64_MAX},
    };
    for (size_t i = 0; i < PT_LEN(good); i++) {
        uint64_t v = 12345;
        CHECK(pcd_parse_size(good[i].s, &v) == 0, "'%s' refused", good[i].s);
        CHECK(v == good[i].v, "'%s' is %" PRIu64 ", expected %" PRIu64, good[i].s, v, good[i].v);
    }
}

static void test_parse_size_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " 1",
        "-1",
        "+1",
        "1 ",
        "1X",
        "1 K",
        "1KK",
        "K",
        "1.5M",
        "0x10",
        "1e3",
        "1MM",
        "1KiBB",
        "1iBK",
        "1TB2",
        "1P",
        "1KiBytes",
        "18446744073709551616",                 /* 2^64: the digits overflow */
        "16777216T",                            /* 2^64 */
        "17592186044416M",                      /* 2^64 */
        "99999999999999999999999999999999999K", /* far over */
    };
    for (size_t i = 0; i < PT_LEN(bad); i++) {
        uint64_t v = 12345;
        CHECK(pcd_parse_size(bad[i], &v) == -1, "'%s' taken (as %" PRIu64 ")", bad[i], v);
        CHECK(v == 12345, "'%s' refused but changed the result to %" PRIu64, bad[i], v);
    }
    uint64_t v = 7;
    assert_int_equal(pcd_parse_size(NULL, &v), -1);
    assert_int_equal(v, 7);
}

static void test_fmt_size(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        const char *s;
    } cases[] = {
        {0, "0"},
        {1, "1"},
        {1000, "1000"},
        {1024, "1K"},
        {1536, "1536"},
        {64u << 10, "64K"},
        {(64u << 10) + 1, "65537"},
        {1u << 20, "1M"},
        {3u << 20, "3M"},
        {UINT64_C(1) << 30, "1G"},
        {UINT64_C(5) << 40, "5T"},
        {UINT64_C(1024) << 40, "1024T"},
        {UINT64_MAX, "18446744073709551615"},
    };
    char buf[32];
    for (size_t i = 0; i < PT_LEN(cases); i++) {
        const char *got = pcd_fmt_size(cases[i].v, buf, sizeof buf);
        assert_ptr_equal(got, buf);
        CHECK(!strcmp(buf, cases[i].s), "%" PRIu64 " formats as '%s', expected '%s'", cases[i].v,
              buf, cases[i].s);
        uint64_t back = 0;
        CHECK(pcd_parse_size(buf, &back) == 0 && back == cases[i].v,
              "'%s' does not parse back to %" PRIu64, buf, cases[i].v);
    }
    /* A buffer too small is cut, never overrun. */
    char small[4] = "xxx";
    pcd_fmt_size(123456, small, 3);
    assert_string_equal(small, "12");
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    pcd_config c;
    pcd_config_defaults(&c);
    assert_null(c.dir);
    assert_null(c.config_file);
    assert_null(c.log_file);
    assert_null(c.snapshot_dir);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_false(c.foreground);
    /* One shard per online core, at most 8. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_true(cores >= 1);
    assert_int_equal(c.shards, cores > 8 ? 8 : cores);
    assert_int_equal(pcd_shards_default(), c.shards);
    assert_false(c.shards_set);
    assert_int_equal(c.max_memory, UINT64_C(1) << 30);
    assert_false(c.max_memory_set);
    assert_int_equal(c.max_value, PC_VALUE_MAX_DEFAULT);
    assert_false(c.max_value_set);
    assert_int_equal(c.max_readers, 4096);
    assert_int_equal(c.sync, PCD_SYNC_ALWAYS);
    assert_int_equal(c.sync_interval_ms, 1000);
    assert_int_equal(c.writers, PCD_WRITERS_AUTO);
    assert_int_equal(c.ring_size, 1u << 20);
    assert_int_equal(c.max_clients, 1024);
    assert_int_equal(c.spin_us, 50);
    assert_int_equal(c.expire_interval_ms, 100);
    assert_int_equal(c.policy, PC_POLICY_NOEVICTION);
    assert_int_equal(c.evict_at_pct, 90);
    assert_int_equal(c.snapshot_keep, 3);
    assert_int_equal(c.n_rules, 0);
    assert_int_equal(c.max_read_age_s, 300);
    assert_int_equal(c.n_grant, 0);
    assert_int_equal(c.max_clients_per_uid, 0);
    assert_int_equal(c.max_buffers, 0);
    assert_int_equal(c.client_backlog, UINT64_C(16) << 20);
    assert_int_equal(c.request_timeout_s, 30);
    pcd_config_free(&c);
}

/* ---- the command line ---- */

static void test_args_good(void **state)
{
    (void)state;
    pcd_config c;
    taken(&c, PT_ARGS("-d", "/srv/cache", "-f", "--log-file", "/var/log/pc.log", "--log-level",
                      "WARNING", "--shards", "4", "--max-memory", "64M", "--max-value", "2M",
                      "--max-readers", "126", "--sync", "batch", "--sync-interval", "250",
                      "--ring-size", "256K", "--max-clients", "100", "--spin-us", "0",
                      "--expire-interval", "0", "--eviction", "allkeys-lru", "--evict-at", "75",
                      "--max-read-age", "0", "--snapshot-dir", "snaps", "--snapshot-every", "60",
                      "--snapshot-every=300:1000", "--snapshot-keep", "0", "--restore", "/tmp/x.db",
                      "--max-clients-per-uid", "7", "--max-buffers", "1G", "--client-backlog",
                      "64K", "--request-timeout", "0"));
    assert_string_equal(c.dir, "/srv/cache");
    assert_true(c.foreground);
    assert_string_equal(c.log_file, "/var/log/pc.log");
    assert_int_equal(c.log_level, LOG_WARNING);
    assert_int_equal(c.shards, 4);
    assert_true(c.shards_set);
    assert_int_equal(c.max_memory, 64u << 20);
    assert_true(c.max_memory_set);
    assert_int_equal(c.max_value, 2u << 20);
    assert_true(c.max_value_set);
    assert_int_equal(c.max_readers, 126);
    assert_int_equal(c.sync, PCD_SYNC_BATCH);
    assert_int_equal(c.sync_interval_ms, 250);
    assert_int_equal(c.ring_size, 256u << 10);
    assert_int_equal(c.max_clients, 100);
    assert_int_equal(c.spin_us, 0);
    assert_int_equal(c.expire_interval_ms, 0);
    assert_int_equal(c.policy, PC_POLICY_ALLKEYS_LRU);
    assert_int_equal(c.evict_at_pct, 75);
    assert_int_equal(c.max_read_age_s, 0);
    assert_string_equal(c.snapshot_dir, "snaps");
    assert_int_equal(c.n_rules, 2);
    assert_int_equal(c.rule_seconds[0], 60);
    assert_int_equal(c.rule_changes[0], 1); /* N defaults to 1 */
    assert_int_equal(c.rule_seconds[1], 300);
    assert_int_equal(c.rule_changes[1], 1000);
    assert_int_equal(c.snapshot_keep, 0);
    assert_string_equal(c.restore_file, "/tmp/x.db");
    assert_int_equal(c.max_clients_per_uid, 7);
    assert_int_equal(c.max_buffers, UINT64_C(1) << 30);
    assert_int_equal(c.client_backlog, 64u << 10);
    assert_int_equal(c.request_timeout_s, 0);
    assert_string_equal(c.argv[0], "pycached"); /* kept for SIGHUP */
    pcd_config_free(&c);

    /* Every eviction policy and sync mode by its name; the last of a
     * setting given twice wins. */
    static const char *const policies[] = {"noeviction", "volatile-ttl", "allkeys-lru",
                                           "allkeys-lfu"};
    for (size_t i = 0; i < PT_LEN(policies); i++) {
        taken(&c, PT_ARGS("--eviction", "noeviction", "--eviction", policies[i]));
        assert_int_equal(c.policy, PC_POLICY_NOEVICTION + (int)i);
        pcd_config_free(&c);
    }
    taken(&c, PT_ARGS("--sync", "batch", "--sync", "none", "--dir", "/a", "--dir=/b"));
    assert_int_equal(c.sync, PCD_SYNC_NONE);
    assert_string_equal(c.dir, "/b");
    pcd_config_free(&c);
    static const char *const writers[] = {"auto", "threads", "loop"};
    for (size_t i = 0; i < PT_LEN(writers); i++) {
        taken(&c, PT_ARGS("--writers", "loop", "--writers", writers[i]));
        assert_int_equal(c.writers, PCD_WRITERS_AUTO + (int)i);
        pcd_config_free(&c);
    }

    /* The bounds themselves are taken. */
    taken(&c, PT_ARGS("--shards", "64", "--max-memory", "1M", "--max-value", "1", "--ring-size",
                      "64K", "--evict-at", "10", "--max-readers", "16"));
    assert_int_equal(c.shards, 64);
    assert_int_equal(c.max_memory, 1u << 20);
    assert_int_equal(c.max_value, 1);
    assert_int_equal(c.ring_size, 64u << 10);
    assert_int_equal(c.evict_at_pct, 10);
    assert_int_equal(c.max_readers, 16);
    pcd_config_free(&c);
    taken(&c, PT_ARGS("--max-memory", "8T", "--max-value", "2147483647", "--ring-size", "64M",
                      "--evict-at", "99", "--max-buffers", "0"));
    assert_int_equal(c.max_memory, UINT64_C(8) << 40);
    assert_int_equal(c.max_value, 2147483647);
    assert_int_equal(c.ring_size, 64u << 20);
    assert_int_equal(c.evict_at_pct, 99);
    assert_int_equal(c.max_buffers, 0);
    pcd_config_free(&c);
}

static void test_args_bad(void **state)
{
    (void)state;
    refused(PT_ARGS("--nope"), "pycached: unknown option '--nope' (see pycached --help)\n");
    refused(PT_ARGS("-x"), "pycached: unknown option '-x' (see pycached --help)\n");
    refused(PT_ARGS("-f", "extra"),
            "pycached: unexpected argument 'extra' (see pycached --help)\n");
    refused(PT_ARGS("--sync"), "pycached: --sync needs a value\n");
    refused(PT_ARGS("-d"), "pycached: -d needs a value\n");
    refused(PT_ARGS("-d", ""), "pycached: bad value for --dir: ''\n");
    refused(PT_ARGS("--sync", "sometimes"), "pycached: bad value for --sync: 'sometimes'\n");
    refused(PT_ARGS("--writers", "many"), "pycached: bad value for --writers: 'many'\n");
    refused(PT_ARGS("--log-level", "loud"), "pycached: bad value for --log-level: 'loud'\n");
    refused(PT_ARGS("--eviction", "random"), "pycached: bad value for --eviction: 'random'\n");
    refused(PT_ARGS("--shards", "0"), "pycached: --shards must be 1 to 64: got '0'\n");
    refused(PT_ARGS("--shards", "65"), "pycached: --shards must be 1 to 64: got '65'\n");
    refused(PT_ARGS("--shards", "-1"), "pycached: --shards must be 1 to 64: got '-1'\n");
    refused(PT_ARGS("--shards", "2x"), "pycached: --shards must be 1 to 64: got '2x'\n");
    refused(PT_ARGS("--max-memory", "1023K"),
            "pycached: --max-memory must be 1M to 8T (per shard): got '1023K'\n");
    refused(PT_ARGS("--max-memory", "9T"),
            "pycached: --max-memory must be 1M to 8T (per shard): got '9T'\n");
    refused(PT_ARGS("--max-value", "0"),
            "pycached: --max-value must be 1 to 2147483647 bytes (2G less one byte): got '0'\n");
    refused(PT_ARGS("--max-value", "2G"),
            "pycached: --max-value must be 1 to 2147483647 bytes (2G less one byte): got '2G'\n");
    refused(PT_ARGS("--ring-size", "96K"), "pycached: bad value for --ring-size: '96K'\n");
    refused(PT_ARGS("--ring-size", "32K"), "pycached: bad value for --ring-size: '32K'\n");
    refused(PT_ARGS("--ring-size", "128M"), "pycached: bad value for --ring-size: '128M'\n");
    refused(PT_ARGS("--max-readers", "15"), "pycached: bad value for --max-readers: '15'\n");
    refused(PT_ARGS("--max-clients", "0"), "pycached: bad value for --max-clients: '0'\n");
    refused(PT_ARGS("--max-clients", "65537"), "pycached: bad value for --max-clients: '65537'\n");
    refused(PT_ARGS("--evict-at", "9"), "pycached: bad value for --evict-at: '9'\n");
    refused(PT_ARGS("--evict-at", "100"), "pycached: bad value for --evict-at: '100'\n");
    refused(PT_ARGS("--sync-interval", "0"), "pycached: bad value for --sync-interval: '0'\n");
    refused(PT_ARGS("--max-read-age", "86401"),
            "pycached: bad value for --max-read-age: '86401'\n");
    refused(PT_ARGS("--snapshot-every", "0"), "pycached: bad value for --snapshot-every: '0'\n");
    refused(PT_ARGS("--snapshot-every", "60:0"),
            "pycached: bad value for --snapshot-every: '60:0'\n");
    refused(PT_ARGS("--snapshot-every", "60:"),
            "pycached: bad value for --snapshot-every: '60:'\n");
    refused(PT_ARGS("--snapshot-every", "31536001"),
            "pycached: bad value for --snapshot-every: '31536001'\n");
    refused(PT_ARGS("--snapshot-dir", ""), "pycached: bad value for --snapshot-dir: ''\n");
    refused(PT_ARGS("--max-buffers", "512K"), "pycached: bad value for --max-buffers: '512K'\n");
    refused(PT_ARGS("--client-backlog", "63K"),
            "pycached: bad value for --client-backlog: '63K'\n");
    refused(PT_ARGS("--client-backlog", "2T"), "pycached: bad value for --client-backlog: '2T'\n");
    refused(PT_ARGS("--request-timeout", "86401"),
            "pycached: bad value for --request-timeout: '86401'\n");
    refused(PT_ARGS("--max-clients-per-uid", "65537"),
            "pycached: bad value for --max-clients-per-uid: '65537'\n");
    refused(PT_ARGS("--allow-read", "no-such-user-pctest"),
            "pycached: bad value for --allow-read: 'no-such-user-pctest'\n");
    refused(PT_ARGS("--allow-group", "no-such-group-pctest"),
            "pycached: bad value for --allow-group: 'no-such-group-pctest'\n");
    refused(PT_ARGS("--allow-ring-only", "group:no-such-group-pctest"),
            "pycached: bad value for --allow-ring-only: 'group:no-such-group-pctest'\n");
    /* A ninth --snapshot-every rule: eight at most. */
    refused(PT_ARGS("--snapshot-every", "1", "--snapshot-every", "2", "--snapshot-every", "3",
                    "--snapshot-every", "4", "--snapshot-every", "5", "--snapshot-every", "6",
                    "--snapshot-every", "7", "--snapshot-every", "8", "--snapshot-every", "9"),
            "pycached: bad value for --snapshot-every: '9'\n");
}

static void test_args_help_version(void **state)
{
    (void)state;
    pcd_config c;
    char *err, *out;
    assert_int_equal(parse(&c, &err, &out, PT_ARGS("--version")), 1);
    assert_string_equal(out, "pycached " PACKAGE_VERSION "\n");
    assert_string_equal(err, "");
    free(out);
    free(err);
    pcd_config_free(&c);
    assert_int_equal(parse(&c, &err, &out, PT_ARGS("-h")), 1);
    assert_non_null(strstr(out, "Usage: pycached [OPTION]...\n"));
    assert_non_null(strstr(out, "--max-clients-per-uid N"));
    assert_string_equal(err, "");
    free(out);
    free(err);
    pcd_config_free(&c);
    /* What comes before --help is applied; --help ends the parse. */
    assert_int_equal(parse(&c, &err, &out, PT_ARGS("--shards", "3", "--help", "--nope")), 1);
    assert_int_equal(c.shards, 3);
    assert_string_equal(err, "");
    free(out);
    free(err);
    pcd_config_free(&c);
}

/* ---- the config file ---- */

static void test_file_good(void **state)
{
    fixture *f = *state;
    char path[128];
    /* A byte order mark, comments both ways, blanks and tabs, CRLF, a
     * comment after a value, no blanks around '='; every setting the file
     * can give, by the option's long name. */
    static const char text[] = "\xef\xbb\xbf# pycached.conf\r\n"
                               "; another comment\n"
                               "\n"
                               "   \t\n"
                               "dir = /srv/store\n"
                               "\tsync=batch\r\n"
                               "shards = 2 ; the store's shards\n"
                               "max-memory   =\t256M\n"
                               "log-level = debug\n"
                               "foreground = yes\n"
                               "eviction = volatile-ttl\n"
                               "snapshot-every = 10:5\n"
                               "snapshot-dir = /srv/snaps;not a comment\n"
                               "allow-read = 4242\n"
                               "allow-write = group:4343\n"
                               "max-buffers = 1M\n"
                               "request-timeout = 9";
    conf(f, "good.conf", text, sizeof text - 1, path, sizeof path);
    pcd_config c;
    char *err;
    assert_int_equal(read_conf(&c, path, &err), 0);
    assert_string_equal(err, "");
    free(err);
    assert_string_equal(c.dir, "/srv/store");
    assert_int_equal(c.sync, PCD_SYNC_BATCH);
    assert_int_equal(c.shards, 2);
    assert_int_equal(c.max_memory, 256u << 20);
    assert_true(c.max_memory_set);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_true(c.foreground);
    assert_int_equal(c.policy, PC_POLICY_VOLATILE_TTL);
    assert_int_equal(c.n_rules, 1);
    assert_int_equal(c.rule_seconds[0], 10);
    assert_int_equal(c.rule_changes[0], 5);
    /* ';' ends a value only after a blank (as inih read it). */
    assert_string_equal(c.snapshot_dir, "/srv/snaps;not a comment");
    assert_int_equal(c.n_grant, 2);
    assert_int_equal(c.grant[0].id, 4242);
    assert_false(c.grant[0].group);
    assert_int_equal(c.grant[0].role, PC_ROLE_READ);
    assert_int_equal(c.grant[1].id, 4343);
    assert_true(c.grant[1].group);
    assert_int_equal(c.grant[1].role, PC_ROLE_WRITE);
    assert_int_equal(c.max_buffers, 1u << 20);
    assert_int_equal(c.request_timeout_s, 9);
    pcd_config_free(&c);

    /* foreground takes no, false and 0 as well. */
    static const char *const no[] = {"foreground = no\n", "foreground = FALSE\n",
                                     "foreground = 0\n"};
    for (size_t i = 0; i < PT_LEN(no); i++) {
        conf(f, "fg.conf", no[i], strlen(no[i]), path, sizeof path);
        pcd_config_defaults(&c);
        c.foreground = true;
        assert_int_equal(pcd_config_file(&c, path), 0);
        assert_false(c.foreground);
        pcd_config_free(&c);
    }
    /* An empty file is no error. */
    conf(f, "empty.conf", "", 0, path, sizeof path);
    assert_int_equal(read_conf(&c, path, &err), 0);
    assert_string_equal(err, "");
    free(err);
    pcd_config_free(&c);
}

/* Assert that the file holding text is refused with exactly the message
 * "pycached: PATH:" where, what. */
static void file_refused(const fixture *f, const char *text, size_t n, const char *where_what)
{
    char path[128], msg[1024];
    conf(f, "bad.conf", text, n, path, sizeof path);
    snprintf(msg, sizeof msg, "pycached: %s:%s", path, where_what);
    pcd_config c;
    char *err;
    int rc = read_conf(&c, path, &err);
    pcd_config_free(&c);
    CHECK(rc == -1 && !strcmp(err, msg),
          "file [%s]: returned %d, said\n    [%s]\nexpected\n    [%s]", text, rc, err, msg);
    free(err);
}
#define FILE_REFUSED(f, text, want) file_refused((f), (text), sizeof(text) - 1, (want))

static void test_file_bad(void **state)
{
    fixture *f = *state;
    FILE_REFUSED(f, "sync = none\nnope = 1\n", "2: unknown setting 'nope'\n");
    FILE_REFUSED(f, "config = /etc/other.conf\n", "1: unknown setting 'config'\n");
    FILE_REFUSED(f, "# shards\nshards = 99\n", "2: shards must be 1 to 64: got '99'\n");
    FILE_REFUSED(f, "max-memory = lots\n",
                 "1: max-memory must be 1M to 8T (per shard): got 'lots'\n");
    FILE_REFUSED(f, "sync = sometimes\n", "1: bad value for sync: 'sometimes'\n");
    FILE_REFUSED(f, "foreground = maybe\n", "1: bad value for foreground: 'maybe'\n");
    FILE_REFUSED(f, "dir =\n", "1: bad value for dir: ''\n");
    FILE_REFUSED(f, "[pycached]\nsync = none\n", "1: sections are not used ([pycached])\n");
    FILE_REFUSED(f, "sync none\n", "1: not a 'name = value' line\n");
    FILE_REFUSED(f, " = none\n", "1: not a 'name = value' line\n");
    /* A NUL byte: not a text file. */
    FILE_REFUSED(f, "sync = none\nsh\0rds = 2\n", "2: a NUL byte: not a text file\n");
}

static void test_file_bad_many(void **state)
{
    fixture *f = *state;
    char path[128], want[1024];
    static const char text[] = "sync = none\nnope = 1\nshards = 2\nspin-us = -5\n[x]\n";
    conf(f, "many.conf", text, sizeof text - 1, path, sizeof path);
    snprintf(want, sizeof want,
             "pycached: %s:2: unknown setting 'nope'\n"
             "pycached: %s:4: bad value for spin-us: '-5'\n"
             "pycached: %s:5: sections are not used ([x])\n",
             path, path, path);
    pcd_config c;
    char *err;
    assert_int_equal(read_conf(&c, path, &err), -1);
    assert_string_equal(err, want);
    /* The good lines around them were applied (the caller refuses the whole). */
    assert_int_equal(c.shards, 2);
    free(err);
    pcd_config_free(&c);
}

static void test_file_not_regular(void **state)
{
    fixture *f = *state;
    pcd_config c;
    char *err, want[512], path[128];
    /* Missing. */
    snprintf(path, sizeof path, "%s/missing.conf", f->dir);
    assert_int_equal(read_conf(&c, path, &err), -1);
    snprintf(want, sizeof want, "pycached: cannot read config file %s: No such file or directory\n",
             path);
    assert_string_equal(err, want);
    free(err);
    pcd_config_free(&c);
    /* A directory. */
    assert_int_equal(read_conf(&c, f->dir, &err), -1);
    snprintf(want, sizeof want, "pycached: config file %s is not a regular file (a directory)\n",
             f->dir);
    assert_string_equal(err, want);
    free(err);
    pcd_config_free(&c);
    /* A FIFO: refused without blocking on it. */
    snprintf(path, sizeof path, "%s/fifo", f->dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(read_conf(&c, path, &err), -1);
    snprintf(want, sizeof want, "pycached: config file %s is not a regular file (a FIFO)\n", path);
    assert_string_equal(err, want);
    free(err);
    pcd_config_free(&c);
    /* Larger than 1 MiB (comments only). */
    size_t n = (1u << 20) + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '#', n);
    conf(f, "big.conf", big, n, path, sizeof path);
    free(big);
    assert_int_equal(read_conf(&c, path, &err), -1);
    snprintf(want, sizeof want, "pycached: config file %s is larger than 1048576 bytes\n", path);
    assert_string_equal(err, want);
    free(err);
    pcd_config_free(&c);
}

/* The command line wins over the file it names, wherever -c stands. */
static void test_cmdline_wins(void **state)
{
    fixture *f = *state;
    char path[128];
    static const char text[] = "sync = batch\nspin-us = 7\nshards = 3\n";
    conf(f, "pc.conf", text, sizeof text - 1, path, sizeof path);
    pcd_config c;
    taken(&c, PT_ARGS("--sync", "none", "-c", path, "--shards", "5"));
    assert_int_equal(c.sync, PCD_SYNC_NONE);
    assert_int_equal(c.shards, 5);
    assert_int_equal(c.spin_us, 7); /* the file's, where the command line says nothing */
    assert_string_equal(c.config_file, path);
    pcd_config_free(&c);
    char opt[160];
    snprintf(opt, sizeof opt, "--config=%s", path);
    taken(&c, PT_ARGS(opt));
    assert_int_equal(c.sync, PCD_SYNC_BATCH);
    pcd_config_free(&c);
    /* A bad file named on the command line: its message, and -1. */
    char bad[128], want[512];
    conf(f, "bad.conf", "shards = 0\n", 11, bad, sizeof bad);
    snprintf(want, sizeof want, "pycached: %s:1: shards must be 1 to 64: got '0'\n", bad);
    refused(PT_ARGS("-c", bad), want);
}

/* ---- the checks that tie settings together ---- */

static int check(pcd_config *c, char **err)
{
    pt_capture ce;
    pt_capture_begin(&ce, STDERR_FILENO);
    int rc = pcd_config_check(c);
    *err = pt_capture_end(&ce);
    return rc;
}

static void test_check(void **state)
{
    (void)state;
    pcd_config c;
    char *err;
    /* --max-value follows --max-memory: an eighth, at most 64M. */
    taken(&c, PT_ARGS("--max-memory", "64M"));
    assert_int_equal(check(&c, &err), 0);
    assert_int_equal(c.max_value, 8u << 20);
    free(err);
    pcd_config_free(&c);
    taken(&c, PT_ARGS("--max-memory", "8G"));
    assert_int_equal(check(&c, &err), 0);
    assert_int_equal(c.max_value, 64u << 20);
    free(err);
    pcd_config_free(&c);
    assert_int_equal(pcd_value_default_for(1u << 20), 128u << 10);
    assert_int_equal(pcd_value_max_for(1u << 20), 256u << 10);
    assert_int_equal(pcd_value_max_for(UINT64_C(8) << 40), 0x7fffffff);
    /* A quarter of --max-memory at most. */
    taken(&c, PT_ARGS("--max-memory", "4M", "--max-value", "1M"));
    assert_int_equal(check(&c, &err), 0);
    assert_string_equal(err, "");
    free(err);
    pcd_config_free(&c);
    taken(&c, PT_ARGS("--max-memory", "4M", "--max-value", "1025K"));
    assert_int_equal(check(&c, &err), -1);
    assert_string_equal(err, "pycached: --max-value 1025K does not fit --max-memory 4M: the "
                             "largest accepted is 1M (a quarter of --max-memory)\n");
    free(err);
    pcd_config_free(&c);
    /* All shards' maps in 64T of address space. */
    taken(&c, PT_ARGS("--shards", "8", "--max-memory", "8T"));
    assert_int_equal(check(&c, &err), 0);
    free(err);
    pcd_config_free(&c);
    taken(&c, PT_ARGS("--shards", "9", "--max-memory", "8T"));
    assert_int_equal(check(&c, &err), -1);
    assert_string_equal(err, "pycached: --shards 9 with --max-memory 8T maps 72T: all shards "
                             "together must fit in 64T of address space (at most --max-memory "
                             "7818749353073 with 9 shards)\n");
    free(err);
    pcd_config_free(&c);
    /* --snapshot-every needs a target. */
    taken(&c, PT_ARGS("--snapshot-every", "60"));
    assert_int_equal(check(&c, &err), -1);
    assert_string_equal(err, "pycached: --snapshot-every needs --snapshot-dir or --snapshot-to\n");
    free(err);
    pcd_config_free(&c);
    /* The MariaDB/MySQL target's URL (issue 19): each refusal says why. */
    static const char *const bad_urls[][2] = {
        {"mysql://pc:secret@localhost/db", "a password in the URL is refused"},
        {"mysql://localhost/db", "no user"},
        {"mysql://pc@localhost", "no database"},
        {"mysql://pc@host:0/db", "a bad port"},
        {"mysql://pc@host:70000/db", "a bad port"},
        {"mysql://pc@host/db;drop", "a database name of letters"},
        {"mysql://pc@db.example.com/db?socket=/run/s.sock",
         "a socket goes with the host localhost"},
        {"mysql://pc@localhost/db?socket=relative", "a bad socket"},
        {"mysql://pc@localhost/db?ssl=1", "an unknown URL option"},
    };
    for (size_t i = 0; i < PT_LEN(bad_urls); i++) {
        taken(&c, PT_ARGS("--snapshot-to", bad_urls[i][0]));
        assert_int_equal(check(&c, &err), -1);
        CHECK(strstr(err, bad_urls[i][1]) != NULL, "%s: said %s", bad_urls[i][0], err);
        CHECK(!strstr(err, "secret"), "the password is never repeated: %s", err);
        free(err);
        pcd_config_free(&c);
    }
    /* Its settings need the target; a good one passes. */
    taken(&c, PT_ARGS("--snapshot-tls", "verify"));
    assert_int_equal(check(&c, &err), -1);
    CHECK(strstr(err, "go with --snapshot-to") != NULL, "said %s", err);
    free(err);
    pcd_config_free(&c);
    taken(&c, PT_ARGS("--snapshot-to", "mysql://pc@localhost/db?socket=/run/mysqld/x.sock",
                      "--snapshot-every", "60"));
    assert_int_equal(check(&c, &err), pcp_db_available() ? 0 : -1);
    free(err);
    pcd_config_free(&c);
}

/* ---- paths ---- */

static void test_paths(void **state)
{
    (void)state;
    pcd_config c;
    taken(&c, PT_ARGS("-d", "store", "--log-file", "/abs/log", "--snapshot-dir", "../snaps",
                      "--restore", "r.db"));
    char *err;
    pt_capture ce;
    pt_capture_begin(&ce, STDERR_FILENO);
    int rc = pcd_config_paths(&c, "/base/dir");
    err = pt_capture_end(&ce);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    free(err);
    assert_string_equal(c.dir, "/base/dir/store");
    assert_string_equal(c.log_file, "/abs/log");
    assert_string_equal(c.snapshot_dir, "/base/dir/../snaps");
    assert_string_equal(c.restore_file, "/base/dir/r.db");
    assert_null(c.config_file);
    assert_string_equal(c.cwd, "/base/dir");
    /* Again (a reload): nothing changes. */
    assert_int_equal(pcd_config_paths(&c, c.cwd), 0);
    assert_string_equal(c.dir, "/base/dir/store");
    pcd_config_free(&c);
    /* No cwd given: the current directory. */
    taken(&c, PT_ARGS("-d", "rel"));
    char here[4096], want[4200];
    assert_non_null(getcwd(here, sizeof here));
    assert_int_equal(pcd_config_paths(&c, NULL), 0);
    snprintf(want, sizeof want, "%s/rel", here);
    assert_string_equal(c.dir, want);
    assert_string_equal(c.cwd, here);
    pcd_config_free(&c);
}

int main(void)
{
    pt_init(60);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size_good),
        cmocka_unit_test(test_parse_size_bad),
        cmocka_unit_test(test_fmt_size),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_args_good),
        cmocka_unit_test(test_args_bad),
        cmocka_unit_test(test_args_help_version),
        cmocka_unit_test_setup_teardown(test_file_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_bad_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmdline_wins, setup, teardown),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
