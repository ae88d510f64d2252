/*
 * snapfile.c - snapshot directories and snapshot files, through the SQLite
 * C API and the sqlite3 command-line tool (pctest.h).
 */
#include <dirent.h>
#include <sqlite3.h>

#include "pctest.h"

/* Snapshot directories                                                      */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

bool pt_is_snapshot_name(const char *n)
{
    size_t l = strlen(n);
    return l > 11 && !strncmp(n, "pycache-", 8) && !strcmp(n + l - 3, ".db");
}

bool pt_is_temp_name(const char *n)
{
    size_t l = strlen(n);
    return !strncmp(n, ".pycache-snapshot-", 18) && l > 22 && !strcmp(n + l - 4, ".tmp");
}

/* The snapshot files (pred = pt_is_snapshot_name) or temporary files
 * (pt_is_temp_name) in dir, sorted by name (oldest first). */
void pt_list(const char *dir, bool (*pred)(const char *), pt_files *out)
{
    out->n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp)))
        if (pred(de->d_name) && out->n < PT_MAX_FILES && strlen(de->d_name) < 128)
            snprintf(out->name[out->n++], 128, "%s", de->d_name);
    closedir(dp);
    qsort(out->name, out->n, sizeof out->name[0], cmp_name);
}

size_t pt_count_snapshots(const char *dir)
{
    pt_files f;
    pt_list(dir, pt_is_snapshot_name, &f);
    return f.n;
}

size_t pt_count_temps(const char *dir)
{
    pt_files f;
    pt_list(dir, pt_is_temp_name, &f);
    return f.n;
}

/* The newest snapshot in dir into path; false when there is none. */
bool pt_newest(const char *dir, char *path, size_t n)
{
    pt_files f;
    pt_list(dir, pt_is_snapshot_name, &f);
    if (!f.n)
        return false;
    snprintf(path, n, "%s/%s", dir, f.name[f.n - 1]);
    return true;
}

/* Snapshot files through the SQLite C API                                  */

sqlite3 *pt_db_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite3_open_v2(%s): %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    return db;
}

/* The first column of the first row of sql, as an integer; fallback when no
 * row or an error. */
int64_t pt_db_int(sqlite3 *db, const char *sql, int64_t fallback)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        return fallback;
    }
    int64_t v = fallback;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* PRAGMA quick_check says ok, the meta table has format 1, and its counts
 * agree with the tables: what a complete snapshot of ours passes. */
bool pt_snapshot_complete(const char *path, char *why, size_t whyn)
{
    sqlite3 *db = pt_db_open(path);
    if (!db) {
        snprintf(why, whyn, "cannot open");
        return false;
    }
    bool ok = false;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK) {
        ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) &&
             !strcmp((const char *)sqlite3_column_text(s, 0), "ok");
        sqlite3_finalize(s);
    }
    if (!ok) {
        snprintf(why, whyn, "PRAGMA quick_check is not ok");
    } else if (pt_db_int(db, "SELECT value FROM meta WHERE name='format'", -1) != 1) {
        snprintf(why, whyn, "no meta format 1");
        ok = false;
    } else if (pt_db_int(db, "SELECT value FROM meta WHERE name='key_count'", -1) !=
                   pt_db_int(db, "SELECT count(*) FROM keys", -2) ||
               pt_db_int(db, "SELECT value FROM meta WHERE name='member_count'", -1) !=
                   pt_db_int(db, "SELECT count(*) FROM members", -2)) {
        snprintf(why, whyn, "meta counts disagree with the tables");
        ok = false;
    }
    sqlite3_close(db);
    return ok;
}

/* Run SQL that changes a file (to damage a copy).  0 or -1. */
int pt_db_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    char *msg = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite %s: %s: %s\n", path, sql,
                msg  ? msg
                : db ? sqlite3_errmsg(db)
                     : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Running commands                                                          */

/* The sqlite3 command-line tool, or NULL when it is not installed. */
const char *pt_sqlite3_cli(void)
{
    static const char *const where[] = {"/usr/bin/sqlite3", "/usr/local/bin/sqlite3",
                                        "/bin/sqlite3"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

/* sqlite3 FILE SQL (the CLI, as a person would run it), its output into out.
 * Wait status, or -1. */
int pt_sqlite3(const char *file, const char *sql, char *out, size_t outn)
{
    char *argv[] = {(char *)pt_sqlite3_cli(), "-batch", (char *)file, (char *)sql, NULL};
    pt_output o;
    if (!argv[0] || pt_run(argv, 10000, &o) < 0)
        return -1;
    if (o.elen)
        fputs(o.err, stderr); /* as the tool would have shown it */
    if (out && outn)
        snprintf(out, outn, "%s", o.out);
    pt_output_free(&o);
    return o.status;
}

void pt_db_close(sqlite3 *db)
{
    sqlite3_close(db);
}
