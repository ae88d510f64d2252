/*
 * test_snapshot_files.c - the snapshot directory and its files:
 *
 *  - a newest snapshot that is empty, truncated, overwritten in its middle,
 *    a SQLite file that is not ours, ours with a row deleted, of another
 *    format, or not SQLite at all is refused (logged by name) and the older
 *    good one is restored; when none is good the daemon starts empty
 *    (tests/fault/test_fault_snapfiles.c: names that lie, planted files,
 *    unsafe directories);
 *  - --snapshot-keep N keeps exactly the newest N (default 3; 0 keeps all);
 *  - a snapshot directory that cannot be written stops the start (exit 1, a
 *    message naming it); a missing one is created; run as root, the daemon
 *    is run as nobody for the unwritable case (a staged copy of pycached,
 *    tests/lib/asuser.c: nobody may not reach the build tree; skipped, saying why,
 *    where nobody cannot run it at all);
 *  - --snapshot-every SECONDS:CHANGES writes one when both are met, not before.
 */
#include <sqlite3.h>

#include "pctest.h"

/* ------------------------------------------------------------------------ */
/* Bad newest snapshots                                                      */

typedef enum damage {
    D_EMPTY,
    D_TRUNCATED,
    D_OVERWRITTEN,
    D_FOREIGN,
    D_KEY_ROW_DELETED,
    D_MEMBER_ROW_DELETED,
    D_OTHER_FORMAT,
    D_NOT_SQLITE,
    D_BAD_TYPE,
    D_BAD_KIND,
    D_COLL_VALUE,
    D_EMPTY_COLL,
    D_LONG_KEY,
    D_NO_STREAM_TABLE,
    D_COUNT
} damage;

static const char *const damage_name[] = {
    "empty",           "truncated",          "overwritten",  "foreign",
    "key-row-deleted", "member-row-deleted", "other-format", "not-sqlite",
    "bad-type",        "bad-kind",           "coll-value",   "empty-coll",
    "long-key",        "no-stream-table",
};

/* Make path (a copy of a good snapshot) bad in the way d says. */
static void spoil(const char *path, damage d)
{
    size_t n = 0;
    char *b = pt_slurp(path, &n);
    assert_non_null(b);
    switch (d) {
    case D_EMPTY:
        assert_int_equal(pt_write_file(path, b, 0), 0);
        break;
    case D_TRUNCATED:
        assert_int_equal(truncate(path, (off_t)(n / 2)), 0);
        break;
    case D_OVERWRITTEN: {
        /* Two whole pages in the middle (the page size is 8192) become
         * random bytes. */
        size_t page = 8192, at = n / 2 / page * page;
        assert_true(at + 2 * page <= n);
        pt_fill(b + at, 2 * page, 0xbad);
        assert_int_equal(pt_write_file(path, b, n), 0);
        break;
    }
    case D_FOREIGN:
        assert_int_equal(unlink(path), 0);
        if (pt_sqlite3_cli()) {
            char out[256];
            EXITED(pt_sqlite3(path, "create table t(x); insert into t values(1);", out, sizeof out),
                   0);
        } else {
            assert_int_equal(pt_db_exec(path, "create table t(x); insert into t values(1);"), 0);
        }
        break;
    case D_KEY_ROW_DELETED:
        assert_int_equal(pt_db_exec(path, "DELETE FROM keys WHERE key IN (SELECT key FROM keys"
                                          " WHERE type='string' LIMIT 1 OFFSET 7)"),
                         0);
        break;
    case D_MEMBER_ROW_DELETED:
        assert_int_equal(pt_db_exec(path, "DELETE FROM members WHERE rowid IN (SELECT rowid FROM"
                                          " members LIMIT 1 OFFSET 5)"),
                         0);
        break;
    case D_OTHER_FORMAT:
        assert_int_equal(pt_db_exec(path, "UPDATE meta SET value=2 WHERE name='format'"), 0);
        break;
    /* The rest pass the file checks (counts agree) and fail while loading,
     * some after many keys were loaded: nothing of them may stay. */
    case D_BAD_TYPE:
        assert_int_equal(pt_db_exec(path, "UPDATE keys SET type='blob' WHERE key='state'"), 0);
        break;
    case D_BAD_KIND:
        assert_int_equal(
            pt_db_exec(path, "UPDATE members SET kind='int' WHERE key='b:list' AND kind='bytes'"),
            0);
        break;
    case D_COLL_VALUE:
        assert_int_equal(pt_db_exec(path, "UPDATE keys SET value='x' WHERE key='b:set'"), 0);
        break;
    case D_EMPTY_COLL:
        assert_int_equal(pt_db_exec(path, "DELETE FROM members WHERE key='b:set';"
                                          "UPDATE meta SET value=(SELECT count(*) FROM members)"
                                          " WHERE name='member_count'"),
                         0);
        break;
    case D_LONG_KEY:
        assert_int_equal(pt_db_exec(path, "UPDATE keys SET key=substr(hex(zeroblob(200)), 1, 300)"
                                          " WHERE key='b:str:42'"),
                         0);
        break;
    case D_NO_STREAM_TABLE: /* one of issue 17's six tables gone */
        assert_int_equal(pt_db_exec(path, "DROP TABLE stream_pending"), 0);
        break;
    case D_NOT_SQLITE:
        assert_int_equal(pt_write_file(path, "this is not a snapshot\n", 23), 0);
        break;
    default:
        fail();
    }
    free(b);
}

/* State A, then state B: the keys differ, so the restored one is known. */
static void write_state(pc_client *c, char which, int n)
{
    char k[64], v[64];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%c:str:%d", which, i);
        snprintf(v, sizeof v, "value %d of state %c", i, which);
        pc_val pv = pc_str(v);
        OK(pc_set(c, K(k), &pv, i % 3 ? 0 : 3600 * 1000, 0));
    }
    pc_val l[4] = {pc_int(which), pc_str("x"), pc_dbl(0.5), pc_nil()};
    uint64_t len;
    snprintf(k, sizeof k, "%c:list", which);
    OK(pc_rpush(c, K(k), l, 4, &len));
    pc_bytes f[2] = {pc_b("f1", 2), pc_b("f2", 2)};
    snprintf(k, sizeof k, "%c:map", which);
    OK(pc_hset(c, K(k), f, l, 2, NULL));
    snprintf(k, sizeof k, "%c:set", which);
    OK(pc_sadd(c, K(k), l, 4, NULL));
    pc_val num = pc_int(which == 'a' ? 1 : 2);
    OK(pc_set(c, K("state"), &num, 0, 0));
}

static void test_bad_newest_refused(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    START(a, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    write_state(c, 'a', 300);
    pt_dump dump_a;
    OK(pt_dump_store(c, &dump_a));
    pc_snapshot_info i1, i2;
    OK(pc_snapshot(c, &i1));
    write_state(c, 'b', 500);
    int del;
    OK(pc_del(c, K("a:str:1"), &del));
    OK(pc_snapshot(c, &i2));
    pc_close(c);
    pt_daemon_kill9(a);
    CHECK(strcmp(pt_base(i1.path), pt_base(i2.path)) < 0, "%s is not older than %s", i1.path,
          i2.path);

    for (int d = 0; d <= D_COUNT; d++) {
        /* d == D_COUNT: both files bad (the older empty, the newer truncated). */
        char name[64], dir[300], p1[1024], p2[1024];
        snprintf(name, sizeof name, "v-%s", d < D_COUNT ? damage_name[d] : "both-bad");
        snprintf(dir, sizeof dir, "%s/%s-snaps", w->dir, name);
        assert_int_equal(mkdir(dir, 0700), 0);
        snprintf(p1, sizeof p1, "%s/%s", dir, pt_base(i1.path));
        snprintf(p2, sizeof p2, "%s/%s", dir, pt_base(i2.path));
        assert_int_equal(pt_copy_file(i1.path, p1), 0);
        assert_int_equal(pt_copy_file(i2.path, p2), 0);
        spoil(p2, d < D_COUNT ? (damage)d : D_TRUNCATED);
        if (d == D_COUNT)
            spoil(p1, D_EMPTY);

        pt_daemon *v = pt_ws_daemon(w, name);
        assert_non_null(v);
        START(v, "--snapshot-dir", dir);
        char line[1200];
        snprintf(line, sizeof line, "refusing snapshot %s: ", p2);
        /* A file whose meta table cannot be read has no known age: it is
         * named before the others are tried; one that has is tried first. */
        CHECK(pt_file_has(v->log, line, 0) &&
                  (pt_file_has(v->log, "; trying an older one", 0) ||
                   pt_file_has(v->log, "; its age is unknown, trying the others", 0)),
              "%s: the log does not say '%s...; trying an older one' (or '...; its age is "
              "unknown, trying the others')",
              name, line);
        c = pt_daemon_client(v, 0);
        assert_non_null(c);
        pt_dump got;
        OK(pt_dump_store(c, &got));
        if (d < D_COUNT) {
            snprintf(line, sizeof line, "restored %zu keys from %s", dump_a.n, p1);
            CHECK(pt_file_has(v->log, line, 0), "%s: the log does not say '%s'", name, line);
            CHECK(pt_dump_compare(&dump_a, &got, 1000) == 0, "%s: the store is not state a", name);
        } else {
            snprintf(line, sizeof line, "refusing snapshot %s: ", p1);
            CHECK(pt_file_has(v->log, line, 0), "%s: the log does not say '%s'", name, line);
            CHECK(pt_file_has(v->log, "no snapshot to restore", 0),
                  "%s: the log does not say that nothing was restored", name);
            CHECK(got.n == 0, "%s: %zu keys restored from bad files", name, got.n);
        }
        pt_dump_free(&got);
        pc_close(c);
        STOP_OK(v);
        printf("    %-18s refused and %s\n", name,
               d < D_COUNT ? "the older one restored" : "the daemon started empty");
    }
    pt_dump_free(&dump_a);
    w->passed = true;
}

/* A snapshot written before issue 17 (no stream or sorted-set tables, no
 * counts of theirs in meta) still restores. */
static void test_before_issue17(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    write_state(c, 'a', 50);
    pt_dump before;
    OK(pt_dump_store(c, &before));
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    pc_close(c);
    pt_daemon_kill9(a);
    assert_int_equal(pt_db_exec(info.path, "DROP TABLE streams; DROP TABLE stream_entries;"
                                           " DROP TABLE stream_groups; DROP TABLE stream_consumers;"
                                           " DROP TABLE stream_pending; DROP TABLE zsets;"
                                           " DELETE FROM meta WHERE name LIKE 'stream%'"
                                           " OR name LIKE 'zset%'"),
                     0);
    START(b, "--snapshot-dir", w->snaps);
    char line[1200];
    snprintf(line, sizeof line, "restored %zu keys from %s", before.n, info.path);
    CHECK(pt_file_has(b->log, line, 2000), "the log does not say '%s'", line);
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pt_dump after;
    OK(pt_dump_store(c, &after));
    CHECK(pt_dump_compare(&before, &after, 1000) == 0, "the restored store differs");
    pt_dump_free(&before);
    pt_dump_free(&after);
    pc_close(c);
    STOP_OK(b);
    w->passed = true;
}

/* ------------------------------------------------------------------------ */
/* Retention                                                                 */

/* Take n snapshots, each of a different "round"; their paths into paths.
 * They start at least 2 ms apart: names carry milliseconds, and two
 * snapshots begun in one millisecond are test_back_to_back_keep_all's
 * business, not retention's. */
static void take(pc_client *c, int n, char paths[][600])
{
    for (int i = 0; i < n; i++) {
        if (i)
            pt_sleep_ms(2);
        pc_val v = pc_int(i);
        OK(pc_set(c, K("round"), &v, 0, 0));
        pc_snapshot_info info;
        OK(pc_snapshot(c, &info));
        snprintf(paths[i], 600, "%s", info.path);
        if (i)
            CHECK(strcmp(pt_base(paths[i - 1]), pt_base(paths[i])) < 0,
                  "snapshot %d (%s) does not sort after the one before (%s)", i, paths[i],
                  paths[i - 1]);
    }
}

static int64_t round_of(const char *path)
{
    sqlite3 *db = pt_db_open(path);
    if (!db)
        return -1;
    int64_t r = pt_db_int(db, "SELECT value FROM numerics WHERE key='round'", -1);
    sqlite3_close(db);
    return r;
}

static void check_kept(const char *dir, char paths[][600], int taken, int keep)
{
    pt_files f;
    pt_list(dir, pt_is_snapshot_name, &f);
    int want = keep && keep < taken ? keep : taken;
    CHECK((int)f.n == want, "%zu snapshots in %s, expected %d", f.n, dir, want);
    for (int i = 0; i < want; i++) {
        const char *expect = pt_base(paths[taken - want + i]);
        CHECK(!strcmp(f.name[i], expect), "kept %s, expected %s", f.name[i], expect);
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, f.name[i]);
        assert_int_equal(round_of(p), taken - want + i);
    }
    assert_int_equal(pt_count_temps(dir), 0);
}

static void test_retention(void **state)
{
    pt_ws *w = *state;
    static char paths[8][600];
    static const struct {
        const char *keep; /* NULL: the default */
        int n, kept;
    } cases[] = {{"2", 5, 2}, {NULL, 5, 3}, {"0", 5, 0}, {"1", 3, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[32], dir[300];
        snprintf(name, sizeof name, "keep-%s", cases[k].keep ? cases[k].keep : "default");
        snprintf(dir, sizeof dir, "%s/%s-snaps", w->dir, name);
        pt_daemon *d = pt_ws_daemon(w, name);
        assert_non_null(d);
        if (cases[k].keep)
            START(d, "--snapshot-dir", dir, "--snapshot-keep", cases[k].keep);
        else
            START(d, "--snapshot-dir", dir);
        pc_client *c = pt_daemon_client(d, 0);
        assert_non_null(c);
        take(c, cases[k].n, paths);
        check_kept(dir, paths, cases[k].n, cases[k].kept);
        pc_close(c);
        pt_daemon_kill9(d);
        check_kept(dir, paths, cases[k].n, cases[k].kept);
    }

    /* The final snapshot on SIGTERM is retained by the same rule. */
    pt_daemon *d = pt_ws_daemon(w, "keep-final");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/keep-final-snaps", w->dir);
    START(d, "--snapshot-dir", dir, "--snapshot-keep", "2");
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    take(c, 3, paths);
    pc_val v = pc_int(3);
    OK(pc_set(c, K("round"), &v, 0, 0));
    pc_close(c);
    STOP_OK(d);
    pt_files f;
    pt_list(dir, pt_is_snapshot_name, &f);
    assert_int_equal(f.n, 2);
    CHECK(!strcmp(f.name[0], pt_base(paths[2])), "kept %s, expected %s", f.name[0], paths[2]);
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, f.name[1]);
    assert_int_equal(round_of(p), 3);
    w->passed = true;
}

/*
 * Every pc_snapshot writes a file of its own: with --snapshot-keep 0 (keep
 * all), N snapshots taken back to back leave N files with N distinct names,
 * each holding its own round.  (Names carry milliseconds; a small store
 * snapshots in well under one.)
 */
static void test_back_to_back_keep_all(void **state)
{
    pt_ws *w = *state;
    enum { N = 300 };
    static char paths[N][600];
    pt_daemon *d = pt_ws_daemon(w, "rapid");
    START(d, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    int same = 0;
    for (int i = 0; i < N; i++) {
        pc_val v = pc_int(i);
        OK(pc_set(c, K("round"), &v, 0, 0));
        pc_snapshot_info info;
        OK(pc_snapshot(c, &info));
        snprintf(paths[i], sizeof paths[i], "%s", info.path);
        if (i && !strcmp(paths[i], paths[i - 1])) {
            if (!same++)
                fprintf(stderr, "snapshots %d and %d were both written to %s\n", i - 1, i,
                        paths[i]);
        }
    }
    pc_close(c);
    pt_daemon_kill9(d);
    size_t files = pt_count_snapshots(w->snaps);
    CHECK(same == 0 && files == N,
          "%d of %d snapshots reused the name of the one before (replacing it); %zu files "
          "remain with --snapshot-keep 0",
          same, N, files);
    for (int i = 0; i < N; i += 37)
        assert_int_equal(round_of(paths[i]), i);
    w->passed = true;
}

/* ------------------------------------------------------------------------ */
/* The snapshot directory                                                    */

/* pycached with this snapshot directory does not start: exit 1, and its log
 * or output names the directory. */
static void expect_refused(pt_daemon *d, const char *snapdir)
{
    const char *args[] = {"--snapshot-dir", snapdir, NULL};
    int st = pt_daemon_run(d, args, 15000);
    EXITED(st, 1);
    CHECK(pt_file_has(d->log, snapdir, 0) || pt_file_has(d->out, snapdir, 0),
          "neither the log nor the output names %s", snapdir);
    CHECK(pt_probe(d->dir) != 0, "a daemon serves %s", d->dir);
}

static void test_unwritable_dir(void **state)
{
    pt_ws *w = *state;

    /* Under a regular file: it can be neither created nor written. */
    char file[300], under[400];
    snprintf(file, sizeof file, "%s/file", w->dir);
    assert_int_equal(pt_write_file(file, "x", 1), 0);
    snprintf(under, sizeof under, "%s/snaps", file);
    pt_daemon *d1 = pt_ws_daemon(w, "under-file");
    expect_refused(d1, under);
    /* A regular file itself. */
    pt_daemon *d2 = pt_ws_daemon(w, "is-file");
    expect_refused(d2, file);

    /* A directory that does not exist yet is created (mode 0700). */
    pt_daemon *d3 = pt_ws_daemon(w, "created");
    char fresh[300];
    snprintf(fresh, sizeof fresh, "%s/new-snaps", w->dir);
    START(d3, "--snapshot-dir", fresh);
    struct stat sb;
    assert_int_equal(stat(fresh, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    STOP_OK(d3);
    w->passed = true;
}

/* A staged copy of pycached that nobody can run (made once; removed at
 * the end). */
static char stage[256], staged_pycached[320];

/* A directory the daemon's user cannot write. */
static void test_unwritable_by_user(void **state)
{
    pt_ws *w = *state;
    pt_daemon *d = pt_ws_daemon(w, "unwritable");
    char ro[300];
    if (geteuid() != 0) {
        snprintf(ro, sizeof ro, "%s/ro-snaps", w->dir);
        assert_int_equal(mkdir(ro, 0500), 0);
        expect_refused(d, ro);
        w->passed = true;
        return;
    }
    /* Root writes anywhere: run the daemon as nobody instead, in a store
     * directory nobody owns, with a snapshot directory it cannot write. */
    uid_t uid = 0;
    gid_t gid = 0;
    w->passed = true; /* a skip is no failure: no logs to show */
    if (!pt_nobody(&uid, &gid)) {
        print_message("skipped: there is no user nobody to run pycached as\n");
        skip();
    }
    if (!stage[0] && pt_mkstage(stage, sizeof stage, "files") < 0) {
        print_message("skipped: neither /dev/shm nor /tmp lets a staged pycached run\n");
        skip();
    }
    char built[4096];
    if (!staged_pycached[0])
        assert_int_equal(pt_stage(pt_prog(built, sizeof built, "pycached"), stage, "pycached",
                                  staged_pycached, sizeof staged_pycached),
                         0);
    assert_int_equal(chmod(w->dir, 0755), 0);
    const char *paths[] = {w->dir, NULL};
    char *const version[] = {staged_pycached, "--version", NULL};
    PT_NEED_USER(uid, gid, paths, version);
    w->passed = false;

    char logs[160];
    snprintf(logs, sizeof logs, "%s/nobody-logs", w->dir);
    assert_int_equal(mkdir(logs, 0700), 0);
    assert_int_equal(chown(logs, uid, gid), 0);
    assert_int_equal(mkdir(d->dir, 0700), 0);
    assert_int_equal(chown(d->dir, uid, gid), 0);
    snprintf(d->log, sizeof d->log, "%s/unwritable.log", logs);
    d->uid = uid;
    d->gid = gid;
    d->prog = staged_pycached;
    snprintf(ro, sizeof ro, "%s/root-snaps", w->dir);
    assert_int_equal(mkdir(ro, 0755), 0);
    expect_refused(d, ro);
    CHECK(pt_file_has(d->log, "writable", 0), "the log does not say the directory is not writable");

    /* The control: the same daemon with a directory it owns starts. */
    char mine[300];
    snprintf(mine, sizeof mine, "%s/nobody-snaps", w->dir);
    assert_int_equal(mkdir(mine, 0700), 0);
    assert_int_equal(chown(mine, uid, gid), 0);
    const char *args[] = {"--snapshot-dir", mine, NULL};
    CHECK(pt_daemon_start_logged(d, args, 15000) == 0, "pycached as nobody did not start");
    STOP_OK(d);
    assert_int_equal(pt_count_snapshots(mine), 1); /* the final one */
    w->passed = true;
}

/* ------------------------------------------------------------------------ */
/* --snapshot-every                                                          */

static void test_snapshot_every(void **state)
{
    pt_ws *w = *state;
    pt_daemon *d = pt_ws_daemon(w, "every");
    START(d, "--snapshot-dir", w->snaps, "--snapshot-every", "1:5");
    pc_client *c = pt_daemon_client(d, 0);
    assert_non_null(c);
    for (int i = 0; i < 4; i++) {
        pc_val v = pc_int(i);
        OK(pc_set(c, K("k"), &v, 0, 0));
    }
    /* 4 changes: not enough, however long we wait. */
    pt_sleep_ms(2500);
    CHECK(pt_count_snapshots(w->snaps) == 0, "a snapshot after only 4 changes");
    pc_val v = pc_int(4);
    OK(pc_set(c, K("k"), &v, 0, 0));
    /* The fifth: one within a couple of seconds. */
    uint64_t t0 = pt_now_ms(), until = t0 + 3000;
    while (pt_count_snapshots(w->snaps) == 0 && pt_now_ms() < until)
        pt_sleep_ms(20);
    CHECK(pt_count_snapshots(w->snaps) == 1, "no snapshot within 3 s of the fifth change");
    printf("    a snapshot %" PRIu64 " ms after the fifth change\n", pt_now_ms() - t0);
    CHECK(pt_file_has(d->log, "snapshot requested (schedule)", 2000),
          "the log does not say the schedule asked for it");
    char p[600];
    assert_true(pt_newest(w->snaps, p, sizeof p));
    sqlite3 *db = pt_db_open(p);
    assert_non_null(db);
    assert_int_equal(pt_db_int(db, "SELECT value FROM numerics WHERE key='k'", -1), 4);
    sqlite3_close(db);
    /* No change since: no more. */
    pt_sleep_ms(2200);
    CHECK(pt_count_snapshots(w->snaps) == 1, "%zu snapshots without changes",
          pt_count_snapshots(w->snaps));
    pc_close(c);
    pt_daemon_kill9(d);
    w->passed = true;
}

int main(void)
{
    pt_init(58);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_before_issue17, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_bad_newest_refused, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_retention, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_back_to_back_keep_all, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_dir, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_by_user, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_every, pt_ws_setup, pt_ws_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pt_rmtree(stage);
    return failed;
}
