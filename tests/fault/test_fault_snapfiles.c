/*
 * test_fault_snapfiles.c - the snapshot directory against careless operators
 * and hostile neighbours (issue 12, finding 9).  Real pycached daemons in a
 * workspace on tmpfs (pt_ws_* of tests/lib/pctest.h).
 *
 * odd_dir_names: snapshot directories named with '#', '?', "%41", a space
 *   and all of them: snapshots written there are restored by the next
 *   daemon (the same keys, values and TTLs) and retention keeps the newest.
 *   They were written and never read back (the path went unescaped into a
 *   SQLite URI), and retention then removed the good ones.
 * forged_name: a copy of the oldest snapshot planted under a name for 2099
 *   is neither restored over the newest nor kept by retention over newer
 *   ones.
 * names_lie: the files of three snapshots renamed so that their names sort
 *   the wrong way (a clock stepped back, or one that ran ahead): the newest
 *   by generation is restored, the next snapshot's generation is higher,
 *   and retention keeps the newest by generation.
 * previous_version: snapshots without a generation (written before there
 *   were generations) are still restored, newest by the time recorded in
 *   them, not by name; a new snapshot ranks above them.
 * unsafe_dirs: a snapshot directory writable by its group, by others, by
 *   all with the sticky bit (like /tmp), or owned by another uid (run as
 *   root) is refused: exit status 1, a message naming it and saying how to
 *   fix it; the daemon's own 0700 directory is accepted.
 * planted_files: a symbolic link and a file of another uid (run as root)
 *   named as snapshots, holding a forged higher generation, are never
 *   restored, never removed, and the log says they were ignored.
 */
#include <sqlite3.h>
#include <pwd.h>

#include "pctest.h"

/* meta's integer name of a snapshot file (-1 if none). */
static int64_t meta_of(const char *path, const char *name)
{
    sqlite3 *db = pt_db_open(path);
    if (!db)
        return -1;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT value FROM meta WHERE name='%s'", name);
    int64_t v = pt_db_int(db, sql, -1);
    sqlite3_close(db);
    return v;
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

/* Set "round" to n and take a snapshot; its path into path. */
static void take(pc_client *c, int n, char *path, size_t len)
{
    pc_val v = pc_int(n);
    OK(pc_set(c, K("round"), &v, 0, 0));
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    snprintf(path, len, "%s", info.path);
    assert_int_equal(round_of(path), n);
}

/* The value of "round" in a daemon's store (-1: none). */
static int64_t store_round(const pt_daemon *d)
{
    pc_client *c = pt_daemon_client(d, 0);
    if (!c)
        return -2;
    pc_read *r;
    pc_val v;
    int64_t got = -1;
    if (pc_read_begin(c, &r) == 0) {
        if (pc_get(r, K("round"), &v) == 0 && v.kind == PC_INT)
            got = v.i;
        pc_read_end(r);
    }
    pc_close(c);
    return got;
}

/* The log says it restored from path. */
static void restored_from(const pt_daemon *d, const char *path)
{
    char line[1200];
    snprintf(line, sizeof line, " keys from %s in ", path);
    CHECK(pt_file_has(d->log, "restored ", 0) && pt_file_has(d->log, line, 0),
          "the log of %s does not say it restored%s", d->dir, line);
}

/* ------------------------------------------------------------------------ */

static void odd_dir_names(void **state)
{
    pt_ws *w = *state;
    static const char *const names[] = {"hash#dir", "query?dir", "pct%41dir", "space dir",
                                        "all #?%41 &x=1 of them"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char snaps[300], an[16], bn[16], last[600];
        snprintf(snaps, sizeof snaps, "%s/%s", w->dir, names[i]);
        snprintf(an, sizeof an, "odd-a%zu", i);
        snprintf(bn, sizeof bn, "odd-b%zu", i);
        pt_daemon *a = pt_ws_daemon(w, an);
        START(a, "--snapshot-dir", snaps, "--snapshot-keep", "2");
        pc_client *c = pt_daemon_client(a, 0);
        assert_non_null(c);
        for (int k = 0; k < 40; k++) {
            char key[32], val[48];
            snprintf(key, sizeof key, "k%d", k);
            snprintf(val, sizeof val, "value %d in %s", k, names[i]);
            pc_val v = pc_str(val);
            OK(pc_set(c, K(key), &v, k % 4 ? 0 : 3600 * 1000, 0));
        }
        pc_val l[3] = {pc_int(1), pc_str("two"), pc_dbl(3.5)};
        uint64_t len;
        OK(pc_rpush(c, K("list"), l, 3, &len));
        for (int r = 0; r < 3; r++) {
            take(c, r, last, sizeof last);
            CHECK(!strncmp(last, snaps, strlen(snaps)) && last[strlen(snaps)] == '/',
                  "snapshot %s is not in %s", last, snaps);
        }
        pt_dump want;
        OK(pt_dump_store(c, &want));
        pc_close(c);
        STOP_OK(a); /* and a final snapshot */
        CHECK(pt_count_snapshots(snaps) == 2, "%zu snapshots in %s, --snapshot-keep 2",
              pt_count_snapshots(snaps), snaps);

        pt_daemon *b = pt_ws_daemon(w, bn);
        START(b, "--snapshot-dir", snaps);
        CHECK(!pt_file_has(b->log, "refusing snapshot", 0), "a snapshot in '%s' was refused",
              names[i]);
        CHECK(pt_file_has(b->log, "restored 42 keys from ", 0), "nothing restored from '%s'",
              names[i]);
        c = pt_daemon_client(b, 0);
        assert_non_null(c);
        pt_dump got;
        OK(pt_dump_store(c, &got));
        CHECK(pt_dump_compare(&want, &got, 5000) == 0, "the store restored from '%s' differs",
              names[i]);
        pt_dump_free(&want);
        pt_dump_free(&got);
        pc_close(c);
        STOP_OK(b);
        printf("    '%s': snapshot, stop, restore: the same store\n", names[i]);
    }
    w->passed = true;
}

static void forged_name(void **state)
{
    pt_ws *w = *state;
    static char p[3][600];
    pt_daemon *a = pt_ws_daemon(w, "forge-a");
    START(a, "--snapshot-dir", w->snaps, "--snapshot-keep", "3");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    for (int r = 0; r < 3; r++)
        take(c, r, p[r], sizeof p[r]);
    pc_close(c);
    pt_daemon_kill9(a);
    char planted[600];
    snprintf(planted, sizeof planted, "%s/pycache-20991231-235959-999999.db", w->snaps);
    assert_int_equal(pt_copy_file(p[0], planted), 0);

    pt_daemon *b = pt_ws_daemon(w, "forge-b");
    START(b, "--snapshot-dir", w->snaps, "--snapshot-keep", "3");
    restored_from(b, p[2]);
    CHECK(store_round(b) == 2, "restored round %" PRId64 ", expected the newest (2)",
          store_round(b));
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    char next[600];
    take(c, 3, next, sizeof next);
    pc_close(c);
    CHECK(meta_of(next, "generation") == 4,
          "the next snapshot has generation %" PRId64 ", expected 4", meta_of(next, "generation"));
    /* Retention kept the newest three: not the planted copy of the oldest. */
    CHECK(!pt_exists(planted), "retention kept %s (a copy of the oldest) over newer ones", planted);
    CHECK(!pt_exists(p[0]), "retention kept the oldest %s", p[0]);
    CHECK(pt_exists(p[1]) && pt_exists(p[2]) && pt_exists(next),
          "retention removed one of the newest three");
    assert_int_equal(pt_count_snapshots(w->snaps), 3);
    pt_daemon_kill9(b);
    w->passed = true;
}

static void names_lie(void **state)
{
    pt_ws *w = *state;
    static char p[3][600];
    pt_daemon *a = pt_ws_daemon(w, "lie-a");
    START(a, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    for (int r = 0; r < 3; r++)
        take(c, r, p[r], sizeof p[r]);
    pc_close(c);
    pt_daemon_kill9(a);
    /* The newest was written while the clock stood in 2000, the oldest
     * while it ran ahead to 2050. */
    char newest[600], oldest[600];
    snprintf(newest, sizeof newest, "%s/pycache-20000101-000000-000000.db", w->snaps);
    snprintf(oldest, sizeof oldest, "%s/pycache-20500101-000000-000000.db", w->snaps);
    assert_int_equal(rename(p[2], newest), 0);
    assert_int_equal(rename(p[0], oldest), 0);

    pt_daemon *b = pt_ws_daemon(w, "lie-b");
    START(b, "--snapshot-dir", w->snaps, "--snapshot-keep", "2");
    restored_from(b, newest);
    CHECK(store_round(b) == 2, "restored round %" PRId64 ", expected the newest (2)",
          store_round(b));
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    char next[600];
    take(c, 3, next, sizeof next);
    pc_close(c);
    CHECK(meta_of(next, "generation") == 4,
          "the next snapshot has generation %" PRId64 ", expected 4", meta_of(next, "generation"));
    CHECK(pt_exists(newest) && pt_exists(next), "retention removed one of the newest two");
    CHECK(!pt_exists(oldest) && !pt_exists(p[1]), "retention kept an older one");
    pt_daemon_kill9(b);

    /* And again, with the new one named for the past as well. */
    char past[600];
    snprintf(past, sizeof past, "%s/pycache-19991231-000000-000000.db", w->snaps);
    assert_int_equal(rename(next, past), 0);
    pt_daemon *d = pt_ws_daemon(w, "lie-c");
    START(d, "--snapshot-dir", w->snaps, "--snapshot-keep", "2");
    restored_from(d, past);
    CHECK(store_round(d) == 3, "restored round %" PRId64 ", expected the newest (3)",
          store_round(d));
    pt_daemon_kill9(d);
    w->passed = true;
}

static void previous_version(void **state)
{
    pt_ws *w = *state;
    static char p[2][600];
    pt_daemon *a = pt_ws_daemon(w, "prev-a");
    START(a, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    for (int r = 0; r < 2; r++) {
        if (r)
            pt_sleep_ms(5); /* created_ms differs */
        take(c, r, p[r], sizeof p[r]);
    }
    pc_close(c);
    pt_daemon_kill9(a);
    /* As the previous version wrote them: no generation; and names that
     * sort the wrong way. */
    char older[600], newer[600];
    snprintf(newer, sizeof newer, "%s/pycache-20000101-000000-000000.db", w->snaps);
    snprintf(older, sizeof older, "%s/pycache-20500101-000000-000000.db", w->snaps);
    for (int r = 0; r < 2; r++)
        assert_int_equal(pt_db_exec(p[r], "DELETE FROM meta WHERE name='generation'"), 0);
    assert_int_equal(rename(p[1], newer), 0);
    assert_int_equal(rename(p[0], older), 0);
    assert_int_equal(meta_of(newer, "generation"), -1);

    pt_daemon *b = pt_ws_daemon(w, "prev-b");
    START(b, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    restored_from(b, newer);
    CHECK(store_round(b) == 1, "restored round %" PRId64 ", expected the newest (1)",
          store_round(b));
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    char next[600];
    take(c, 2, next, sizeof next);
    pc_close(c);
    assert_int_equal(meta_of(next, "generation"), 1);
    pt_daemon_kill9(b);
    char past[600];
    snprintf(past, sizeof past, "%s/pycache-19991231-000000-000000.db", w->snaps);
    assert_int_equal(rename(next, past), 0);
    pt_daemon *d = pt_ws_daemon(w, "prev-c");
    START(d, "--snapshot-dir", w->snaps, "--snapshot-keep", "0");
    restored_from(d, past);
    CHECK(store_round(d) == 2, "restored round %" PRId64 ", expected the newest (2)",
          store_round(d));
    pt_daemon_kill9(d);
    w->passed = true;
}

/* pycached with this snapshot directory does not start: exit 1, a message
 * naming it that contains hint, nothing written there. */
static void expect_refused(pt_ws *w, const char *name, const char *snaps, const char *hint)
{
    pt_daemon *d = pt_ws_daemon(w, name);
    assert_non_null(d);
    const char *args[] = {"--snapshot-dir", snaps, NULL};
    int st = pt_daemon_run(d, args, 15000);
    if (!pt_exited(st, 1))
        pt_daemon_dump(d);
    EXITED(st, 1);
    CHECK(pt_file_has(d->out, snaps, 0) && pt_file_has(d->log, snaps, 0),
          "%s: the output and the log do not name %s", name, snaps);
    CHECK(pt_file_has(d->out, hint, 0) && pt_file_has(d->log, hint, 0),
          "%s: the output and the log do not say '%s'", name, hint);
    CHECK(pt_count_snapshots(snaps) == 0, "%s: a snapshot was written in %s", name, snaps);
    char *msg = pt_slurp(d->out, NULL);
    printf("    %-12s refused: %.*s", name, msg ? (int)strcspn(msg, "\n") + 1 : 1,
           msg ? msg : "\n");
    free(msg);
}

static void unsafe_dirs(void **state)
{
    pt_ws *w = *state;
    static const struct {
        const char *name;
        mode_t mode;
        const char *hint;
    } cases[] = {
        {"all-write", 0777, "chmod go-w"},
        {"group-write", 0770, "writable by its group"},
        {"other-write", 0703, "writable by every user"},
        {"sticky-all", 01777, "such as /tmp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char snaps[300];
        snprintf(snaps, sizeof snaps, "%s/%s-snaps", w->dir, cases[i].name);
        assert_int_equal(mkdir(snaps, 0700), 0);
        assert_int_equal(chmod(snaps, cases[i].mode), 0);
        expect_refused(w, cases[i].name, snaps, cases[i].hint);
    }
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() == 0 && pw) {
        char snaps[300];
        snprintf(snaps, sizeof snaps, "%s/nobodys-snaps", w->dir);
        assert_int_equal(mkdir(snaps, 0700), 0);
        assert_int_equal(chown(snaps, pw->pw_uid, (gid_t)-1), 0);
        expect_refused(w, "foreign", snaps, "chown 0 ");
    } else {
        printf("    (not root, or no user nobody: the foreign-owner case is skipped)\n");
    }
    /* The control: the daemon's own directory, 0700, and 0755. */
    char mine[300];
    snprintf(mine, sizeof mine, "%s/own-snaps", w->dir);
    assert_int_equal(mkdir(mine, 0700), 0);
    pt_daemon *d = pt_ws_daemon(w, "own");
    START(d, "--snapshot-dir", mine);
    STOP_OK(d);
    assert_int_equal(pt_count_snapshots(mine), 1);
    assert_int_equal(chmod(mine, 0755), 0);
    pt_daemon *e = pt_ws_daemon(w, "own-755");
    START(e, "--snapshot-dir", mine);
    STOP_OK(e);
    w->passed = true;
}

static void planted_files(void **state)
{
    pt_ws *w = *state;
    static char p[2][600];
    pt_daemon *a = pt_ws_daemon(w, "plant-a");
    START(a, "--snapshot-dir", w->snaps, "--snapshot-keep", "2");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    for (int r = 0; r < 2; r++)
        take(c, r, p[r], sizeof p[r]);
    pc_close(c);
    pt_daemon_kill9(a);
    /* A copy of the oldest with a forged generation and time, outside, and
     * a link to it named for 2099 inside. */
    char outside[300], link[600], foreign[600];
    snprintf(outside, sizeof outside, "%s/outside.db", w->dir);
    assert_int_equal(pt_copy_file(p[0], outside), 0);
    assert_int_equal(pt_db_exec(outside, "INSERT OR REPLACE INTO meta VALUES('generation', 1000);"
                                         "INSERT OR REPLACE INTO meta VALUES('created_ms', "
                                         "4102444800000)"),
                     0);
    size_t olen;
    char *obytes = pt_slurp(outside, &olen);
    assert_non_null(obytes);
    snprintf(link, sizeof link, "%s/pycache-20991231-235959-999999.db", w->snaps);
    assert_int_equal(symlink(outside, link), 0);
    /* Another uid's file (as root). */
    struct passwd *pw = getpwnam("nobody");
    bool as_root = geteuid() == 0 && pw;
    snprintf(foreign, sizeof foreign, "%s/pycache-20991230-000000-000000.db", w->snaps);
    if (as_root) {
        assert_int_equal(pt_copy_file(outside, foreign), 0);
        assert_int_equal(chown(foreign, pw->pw_uid, (gid_t)-1), 0);
    } else {
        printf("    (not root, or no user nobody: the foreign-owner file is skipped)\n");
    }

    pt_daemon *b = pt_ws_daemon(w, "plant-b");
    START(b, "--snapshot-dir", w->snaps, "--snapshot-keep", "2");
    restored_from(b, p[1]);
    CHECK(store_round(b) == 1, "restored round %" PRId64 ", expected the newest real one (1)",
          store_round(b));
    char line[800];
    snprintf(line, sizeof line, "ignoring %s: a symbolic link", link);
    CHECK(pt_file_has(b->log, line, 0), "the log does not say '%s'", line);
    if (as_root) {
        snprintf(line, sizeof line, "ignoring %s: owned by uid %u, not by the daemon's uid 0",
                 foreign, (unsigned)pw->pw_uid);
        CHECK(pt_file_has(b->log, line, 0), "the log does not say '%s'", line);
    }
    /* Retention, twice over: ours rotate, the planted ones stay. */
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    char next[2][600];
    take(c, 2, next[0], sizeof next[0]);
    take(c, 3, next[1], sizeof next[1]);
    pc_close(c);
    snprintf(line, sizeof line, "snapshot retention left %d file(s) alone in %s: ignoring ",
             as_root ? 2 : 1, w->snaps);
    CHECK(pt_file_has(b->log, line, 2000), "the log does not say '%s'", line);
    CHECK(!pt_exists(p[0]) && !pt_exists(p[1]), "retention kept an older snapshot of ours");
    CHECK(pt_exists(next[0]) && pt_exists(next[1]), "retention removed one of the newest two");
    struct stat sb;
    CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode), "the planted link was removed");
    CHECK(!as_root || pt_exists(foreign), "the other uid's file was removed");
    size_t nlen;
    char *nbytes = pt_slurp(outside, &nlen);
    CHECK(nbytes && nlen == olen && !memcmp(nbytes, obytes, olen),
          "the file the link points to changed");
    free(nbytes);
    free(obytes);
    STOP_OK(b);
    w->passed = true;
}

int main(void)
{
    pt_init(400);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(odd_dir_names, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(forged_name, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(names_lie, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(previous_version, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(unsafe_dirs, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(planted_files, pt_ws_setup, pt_ws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
