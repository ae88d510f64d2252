/*
 * snapshot.c - write a store into a SQLite file a person can query, and load
 * one back.  SQLite codes stay in this file: callers see PC_E* codes and a
 * sentence saying what went wrong.
 */
#include "snapshot.h"
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "../shm/exec.h"
#include "../shm/read.h"
#include "../shm/record.h"
#include "../shm/stream.h"

/* Longest path of a file in the snapshot directory, and of its URI (every
 * byte may take three). */
#define PCP_PATH_MAX 4400
#define PCP_URI_MAX (3 * PCP_PATH_MAX + 64)

static void why(pcp_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(pcp_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof res->why, fmt, ap);
    va_end(ap);
}

/* SQLite's result code, as ours. */
static int sq_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return PC_ENOMEM;
    case SQLITE_FULL:
        return PC_ENOSPC; /* the disk under the snapshot, never the store */
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        return PC_EACCES;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
        return PC_ECORRUPT;
    default:
        return PC_EIO;
    }
}

/* Valid UTF-8 (no overlongs, no surrogates): stored as TEXT, else BLOB. */
static bool utf8_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t j = 1; j < len; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static int bind_bytes(sqlite3_stmt *st, int col, const void *p, size_t n)
{
    if (utf8_ok(p, n))
        return sqlite3_bind_text64(st, col, n ? p : "", n, SQLITE_STATIC, SQLITE_UTF8);
    return sqlite3_bind_blob64(st, col, p, n, SQLITE_STATIC);
}

static int bind_val(sqlite3_stmt *st, int col, int kcol, const pc_val *v)
{
    int rc;
    switch (v->kind) {
    case PC_BYTES:
        rc = bind_bytes(st, col, v->s.ptr, v->s.len);
        break;
    case PC_INT:
        rc = sqlite3_bind_int64(st, col, v->i);
        break;
    case PC_DOUBLE:
        rc = sqlite3_bind_double(st, col, v->d);
        break;
    case PC_BOOL:
        rc = sqlite3_bind_int(st, col, v->b ? 1 : 0);
        break;
    default:
        rc = sqlite3_bind_null(st, col);
        break;
    }
    if (!rc && kcol)
        rc = sqlite3_bind_text(st, kcol, pcp_kind_name(v->kind), -1, SQLITE_STATIC);
    return rc;
}

static uint64_t now_ms(void)
{
    return pcs_now_ms();
}

/* ---- writing ---- */

static const char schema[] =
    "PRAGMA page_size=8192;"
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=OFF;"
    "PRAGMA locking_mode=EXCLUSIVE;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA cache_size=-65536;"
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE keys(key PRIMARY KEY, type TEXT NOT NULL, expire_at INTEGER, value)"
    " WITHOUT ROWID;"
    "CREATE TABLE members(key NOT NULL, pos INTEGER, field, value, kind TEXT NOT NULL);"
    /* issue 16 */
    "CREATE TABLE flights(key PRIMARY KEY, fresh_until INTEGER NOT NULL, value,"
    " kind TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE chunks(key NOT NULL, layer INTEGER NOT NULL, chunk INTEGER NOT NULL,"
    " bytes BLOB NOT NULL);"
    "CREATE TABLE blooms(key PRIMARY KEY, error_rate REAL NOT NULL, capacity INTEGER NOT NULL,"
    " expansion INTEGER NOT NULL, nonscaling INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE bloom_layers(key NOT NULL, layer INTEGER NOT NULL, capacity INTEGER NOT NULL,"
    " items INTEGER NOT NULL, bits INTEGER NOT NULL, hashes INTEGER NOT NULL,"
    " error_rate REAL NOT NULL);"
    /* issue 17: streams (IDs' halves as INTEGER: 2^63 and up read negative) */
    "CREATE TABLE streams(key PRIMARY KEY, last_ms INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
    " max_deleted_ms INTEGER NOT NULL, max_deleted_seq INTEGER NOT NULL,"
    " entries_added INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE stream_entries(key NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " field, field_kind TEXT NOT NULL, value, kind TEXT NOT NULL);"
    "CREATE TABLE stream_groups(key NOT NULL, name NOT NULL, last_ms INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL, entries_read INTEGER);"
    "CREATE TABLE stream_consumers(key NOT NULL, grp NOT NULL, name NOT NULL,"
    " seen_ms INTEGER NOT NULL, active_ms INTEGER);"
    "CREATE TABLE stream_pending(key NOT NULL, grp NOT NULL, ms INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, consumer NOT NULL, delivered_ms INTEGER NOT NULL,"
    " deliveries INTEGER NOT NULL);"
    "CREATE TABLE zsets(key NOT NULL, member, kind TEXT NOT NULL, score REAL NOT NULL);";

static const char views[] =
    "CREATE INDEX members_key ON members(key);"
    "CREATE INDEX stream_entries_key ON stream_entries(key);"
    "CREATE INDEX stream_groups_key ON stream_groups(key);"
    "CREATE INDEX stream_consumers_key ON stream_consumers(key);"
    "CREATE INDEX stream_pending_key ON stream_pending(key);"
    "CREATE INDEX zsets_key ON zsets(key);"
    "CREATE VIEW strings AS SELECT key, value, expire_at FROM keys WHERE type='string';"
    "CREATE VIEW numerics AS SELECT key, value, expire_at FROM keys WHERE type='numeric';"
    "CREATE VIEW lists AS SELECT m.key, m.pos, m.value, m.kind FROM members m"
    " JOIN keys k ON k.key=m.key WHERE k.type='list' ORDER BY m.key, m.pos;"
    "CREATE VIEW queues AS SELECT m.key, m.pos, m.value, m.kind FROM members m"
    " JOIN keys k ON k.key=m.key WHERE k.type='queue' ORDER BY m.key, m.pos;"
    "CREATE VIEW maps AS SELECT m.key, m.field, m.value, m.kind FROM members m"
    " JOIN keys k ON k.key=m.key WHERE k.type='map' ORDER BY m.key, m.field;"
    "CREATE VIEW sets AS SELECT m.key, m.value AS member, m.kind FROM members m"
    " JOIN keys k ON k.key=m.key WHERE k.type='set' ORDER BY m.key;";

typedef struct writer {
    sqlite3 *db;
    sqlite3_stmt *ins_key, *ins_mem;
    sqlite3_stmt *ins_flight, *ins_chunk, *ins_bloom, *ins_layer; /* issue 16 */
    sqlite3_stmt *ins_xs, *ins_xe, *ins_xg, *ins_xc, *ins_xp;     /* issue 17 */
    sqlite3_stmt *ins_zset;                                       /* issue 17 */
} writer;

/* Step a statement whose values are bound (rc: the binding's result); 0 or
 * the error. */
static int step_done(sqlite3_stmt *s, int rc)
{
    if (!rc && (rc = sqlite3_step(s)) == SQLITE_DONE)
        rc = 0;
    sqlite3_reset(s);
    return rc ? sq_err(rc) : 0;
}

/* ---- the rows, as pcp_walk hands them over (target.h) ---- */

static int sq_key(void *ctx, const pc_bytes *key, pc_type type, uint64_t expire_at,
                  const pc_val *value)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_key;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = sqlite3_bind_text(s, 2, pcp_type_name(type), -1, SQLITE_STATIC);
    if (!rc)
        rc = expire_at ? sqlite3_bind_int64(s, 3, (int64_t)expire_at) : sqlite3_bind_null(s, 3);
    if (!rc)
        rc = !value                    ? sqlite3_bind_null(s, 4)
             : value->kind == PC_BYTES ? bind_bytes(s, 4, value->s.ptr, value->s.len)
                                       : bind_val(s, 4, 0, value);
    return step_done(s, rc);
}

static int sq_member(void *ctx, const pc_bytes *key, int64_t pos, const pc_bytes *field,
                     const pc_val *v)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_mem;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = pos >= 0 ? sqlite3_bind_int64(s, 2, pos) : sqlite3_bind_null(s, 2);
    if (!rc)
        rc = field ? bind_bytes(s, 3, field->ptr, field->len) : sqlite3_bind_null(s, 3);
    if (!rc)
        rc = bind_val(s, 4, 5, v);
    return step_done(s, rc);
}

static int sq_flight(void *ctx, const pc_bytes *key, uint64_t fresh_until, const pc_val *v)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_flight;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = sqlite3_bind_int64(s, 2, (int64_t)fresh_until);
    if (!rc)
        rc = bind_val(s, 3, 4, v);
    return step_done(s, rc);
}

static int sq_chunk(void *ctx, const pc_bytes *key, uint32_t layer, uint32_t idx, const void *p,
                    size_t n)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_chunk;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = sqlite3_bind_int64(s, 2, layer);
    if (!rc)
        rc = sqlite3_bind_int64(s, 3, idx);
    if (!rc)
        rc = sqlite3_bind_blob64(s, 4, p, n, SQLITE_STATIC);
    return step_done(s, rc);
}

static int sq_bloom(void *ctx, const pc_bytes *key, double error, uint64_t capacity,
                    uint32_t expansion, bool nonscaling)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_bloom;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = sqlite3_bind_double(s, 2, error);
    if (!rc)
        rc = sqlite3_bind_int64(s, 3, (int64_t)capacity);
    if (!rc)
        rc = sqlite3_bind_int64(s, 4, expansion);
    if (!rc)
        rc = sqlite3_bind_int(s, 5, nonscaling);
    return step_done(s, rc);
}

static int sq_layer(void *ctx, const pc_bytes *key, unsigned i, const pcs_bf_layer *l)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_layer;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    int64_t f[5] = {i, (int64_t)l->capacity, (int64_t)l->items, (int64_t)l->bits, l->hashes};
    for (int j = 0; j < 5 && !rc; j++)
        rc = sqlite3_bind_int64(s, 2 + j, f[j]);
    if (!rc)
        rc = sqlite3_bind_double(s, 7, l->error);
    return step_done(s, rc);
}

/* ---- streams and sorted sets (issue 17) ---- */

static int bind_i64s(sqlite3_stmt *s, int col, const int64_t *v, int n, int rc)
{
    for (int i = 0; i < n && !rc; i++)
        rc = sqlite3_bind_int64(s, col + i, v[i]);
    return rc;
}

static int sq_zmember(void *ctx, const pc_bytes *key, const pc_val *m, double score)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_zset;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = bind_val(s, 2, 3, m);
    if (!rc)
        rc = sqlite3_bind_double(s, 4, score);
    return step_done(s, rc);
}

static int sq_stream(void *ctx, const pc_bytes *key, pc_xid last, pc_xid maxdel, uint64_t added)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_xs;
    int64_t f[5] = {(int64_t)last.ms, (int64_t)last.seq, (int64_t)maxdel.ms, (int64_t)maxdel.seq,
                    (int64_t)added};
    return step_done(s, bind_i64s(s, 2, f, 5, bind_bytes(s, 1, key->ptr, key->len)));
}

/* An entry: one row per field/value pair. */
static int sq_xentry(void *ctx, const pc_bytes *key, pc_xid id, const pc_val *fv, size_t npairs)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_xe;
    int64_t v[2] = {(int64_t)id.ms, (int64_t)id.seq};
    int rc = 0;
    for (size_t i = 0; i < npairs && !rc; i++) {
        int sr = bind_i64s(s, 2, v, 2, bind_bytes(s, 1, key->ptr, key->len));
        if (!sr)
            sr = bind_val(s, 4, 5, &fv[2 * i]);
        if (!sr)
            sr = bind_val(s, 6, 7, &fv[2 * i + 1]);
        rc = step_done(s, sr);
    }
    return rc;
}

static int sq_xgroup(void *ctx, const pc_bytes *key, const pc_bytes *group, pc_xid last,
                     int64_t entries_read)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_xg;
    int64_t v[2] = {(int64_t)last.ms, (int64_t)last.seq};
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = bind_bytes(s, 2, group->ptr, group->len);
    rc = bind_i64s(s, 3, v, 2, rc);
    if (!rc)
        rc = entries_read < 0 ? sqlite3_bind_null(s, 5) : sqlite3_bind_int64(s, 5, entries_read);
    return step_done(s, rc);
}

static int sq_xpending(void *ctx, const pc_bytes *key, const pc_bytes *group, pc_xid id,
                       const pc_bytes *consumer, uint64_t delivered_ms, uint64_t deliveries)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_xp;
    int64_t v[2] = {(int64_t)id.ms, (int64_t)id.seq},
            t[2] = {(int64_t)delivered_ms, (int64_t)deliveries};
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = bind_bytes(s, 2, group->ptr, group->len);
    rc = bind_i64s(s, 3, v, 2, rc);
    if (!rc)
        rc = bind_bytes(s, 5, consumer->ptr, consumer->len);
    return step_done(s, bind_i64s(s, 6, t, 2, rc));
}

static int sq_xconsumer(void *ctx, const pc_bytes *key, const pc_bytes *group,
                        const pc_bytes *consumer, uint64_t seen_ms, uint64_t active_ms)
{
    writer *wr = ctx;
    sqlite3_stmt *s = wr->ins_xc;
    int rc = bind_bytes(s, 1, key->ptr, key->len);
    if (!rc)
        rc = bind_bytes(s, 2, group->ptr, group->len);
    if (!rc)
        rc = bind_bytes(s, 3, consumer->ptr, consumer->len);
    if (!rc)
        rc = sqlite3_bind_int64(s, 4, (int64_t)seen_ms);
    if (!rc)
        rc = active_ms ? sqlite3_bind_int64(s, 5, (int64_t)active_ms) : sqlite3_bind_null(s, 5);
    return step_done(s, rc);
}

static const char *sq_errmsg(void *ctx)
{
    writer *wr = ctx;
    return sqlite3_errcode(wr->db) ? sqlite3_errmsg(wr->db) : NULL;
}

static int exec_sql(sqlite3 *db, const char *sql, pcp_result *res)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc) {
        why(res, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return sq_err(rc);
}

static int put_meta(sqlite3 *db, const char *name, int64_t v, const char *text)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES(?1, ?2)", -1, &s, NULL);
    if (rc)
        return sq_err(rc);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, v);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : sq_err(rc);
}

static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return PC_EIO;
    int rc = fsync(fd) < 0 ? (errno == ENOSPC || errno == EDQUOT ? PC_ENOSPC : PC_EIO) : 0;
    close(fd);
    return rc;
}

/*
 * path as a file: URI that SQLite decodes back to exactly path: every byte
 * but letters, digits, "-._~" and '/' is percent-encoded, so '#', '?', '%'
 * and spaces in a directory name stay part of the name.  An absolute path
 * gets an empty authority ("file:///..."), so one that starts with "//" is
 * not taken for a host.  0, or PC_EINVAL when it does not fit.
 */
static int make_uri(char *out, size_t n, const char *path, const char *query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = (size_t)snprintf(out, n, "%s", path[0] == '/' ? "file://" : "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
        if (o + 4 >= n)
            return PC_EINVAL;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    int q = snprintf(out + o, n - o, "%s%s", query ? "?" : "", query ? query : "");
    return q < 0 || (size_t)q >= n - o ? PC_EINVAL : 0;
}

#ifndef SQLITE_OPEN_NOFOLLOW
#define SQLITE_OPEN_NOFOLLOW 0 /* SQLite before 3.31: the directory checks suffice */
#endif

static int open_ro(const char *path, sqlite3 **db)
{
    /* Read-only and immutable: never writes, never wants a journal.  By a
     * URI whose path is escaped: the path is never read as a query. */
    char uri[PCP_URI_MAX];
    *db = NULL;
    if (make_uri(uri, sizeof uri, path, "mode=ro&immutable=1"))
        return PC_EINVAL;
    int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                             NULL);
    return sq_err(rc);
}

static int is_snapshot_name(const char *n)
{
    size_t len = strlen(n), pl = strlen(PCP_PREFIX), sl = strlen(PCP_SUFFIX);
    return len > pl + sl && !strncmp(n, PCP_PREFIX, pl) && !strcmp(n + len - sl, PCP_SUFFIX);
}

/*
 * A snapshot file of a directory and its rank: the generation and the time
 * its meta table records (never its name or its mtime: a name can lie and a
 * clock can step back).  Files of the previous version have no generation
 * (0): older than every file that has one, and ordered among themselves by
 * created_ms.  A file whose meta table cannot be read has no rank: older
 * than all.
 */
typedef struct snapfile {
    char *name;
    bool ranked;
    int64_t gen, created;
} snapfile;

/* Read the rank of path from its meta table.  0 or PC_ECORRUPT. */
static int read_rank(const char *path, snapfile *f)
{
    sqlite3 *db;
    int rc = open_ro(path, &db);
    sqlite3_stmt *s = NULL;
    bool have_created = false;
    if (!rc && sqlite3_prepare_v2(db,
                                  "SELECT name, value FROM meta"
                                  " WHERE name IN ('generation', 'created_ms')",
                                  -1, &s, NULL))
        rc = PC_ECORRUPT;
    while (!rc && s && sqlite3_step(s) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(s, 0);
        if (!n || sqlite3_column_type(s, 1) != SQLITE_INTEGER)
            continue;
        int64_t v = sqlite3_column_int64(s, 1);
        if (!strcmp(n, "generation") && v > 0)
            f->gen = v;
        else if (!strcmp(n, "created_ms")) {
            f->created = v;
            have_created = true;
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (!rc && !have_created && !f->gen)
        rc = PC_ECORRUPT;
    f->ranked = rc == 0;
    return rc;
}

/* Oldest first: unranked, then by generation, time written, name. */
static int cmp_files(const void *a, const void *b)
{
    const snapfile *x = a, *y = b;
    if (x->ranked != y->ranked)
        return x->ranked ? 1 : -1;
    if (x->gen != y->gen)
        return x->gen < y->gen ? -1 : 1;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void free_list(snapfile *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pcs_free(v[i].name);
    pcs_free(v);
}

/* Say that a file is left alone: through log, else into res (counted, the
 * first one described), for a thread that must not log. */
static void left_alone(pcp_log_fn log, pcp_result *res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void left_alone(pcp_log_fn log, pcp_result *res, const char *fmt, ...)
{
    char buf[sizeof((pcp_result *)0)->ignored_first];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log)
        log(LOG_WARNING, "%s", buf);
    if (res && !res->ignored++)
        snprintf(res->ignored_first, sizeof res->ignored_first, "%s", buf);
}

/*
 * The snapshot files in dir that are ours, sorted oldest first.  A name
 * that is a symbolic link, not a regular file, or a file another uid owns
 * is left alone (never restored, never removed) and said so (left_alone).
 * Caller frees.
 */
static int list_snapshots(const char *dir, pcp_log_fn log, pcp_result *res, snapfile **out,
                          size_t *n)
{
    DIR *dp = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!dp)
        return errno == ENOENT ? PC_ENOENT : PC_EACCES;
    size_t cap = 0;
    struct dirent *de;
    int rc = 0;
    uid_t me = geteuid();
    while ((de = readdir(dp))) {
        if (!is_snapshot_name(de->d_name))
            continue;
        struct stat sb;
        if (fstatat(dirfd(dp), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone since readdir */
        if (!S_ISREG(sb.st_mode) || sb.st_uid != me) {
            if (S_ISLNK(sb.st_mode))
                left_alone(log, res,
                           "ignoring %s/%s: a symbolic link (a snapshot is never read or "
                           "removed through a link)",
                           dir, de->d_name);
            else if (!S_ISREG(sb.st_mode))
                left_alone(log, res, "ignoring %s/%s: not a regular file", dir, de->d_name);
            else
                left_alone(log, res,
                           "ignoring %s/%s: owned by uid %u, not by the daemon's uid %u (never "
                           "restored, never removed; chown it to %u to have it used)",
                           dir, de->d_name, (unsigned)sb.st_uid, (unsigned)me, (unsigned)me);
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            snapfile *nv = pcs_reallocarray(*out, cap, sizeof *nv);
            if (!nv) {
                rc = PC_ENOMEM;
                break;
            }
            *out = nv;
        }
        snapfile *f = &(*out)[*n];
        memset(f, 0, sizeof *f);
        if (!(f->name = pcs_strdup(de->d_name))) {
            rc = PC_ENOMEM;
            break;
        }
        (*n)++;
        char p[PCP_PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, f->name) < (int)sizeof p)
            read_rank(p, f);
    }
    closedir(dp);
    if (rc) {
        free_list(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_files);
    return 0;
}

int pcp_last_generation(const char *dir, pcp_log_fn log, uint64_t *gen)
{
    snapfile *v;
    size_t n;
    *gen = 0;
    int rc = list_snapshots(dir, log, NULL, &v, &n);
    if (rc)
        return rc == PC_ENOENT ? 0 : rc;
    for (size_t i = 0; i < n; i++)
        if (v[i].ranked && (uint64_t)v[i].gen > *gen)
            *gen = (uint64_t)v[i].gen;
    free_list(v, n);
    return 0;
}

/* Keep the newest keep snapshots; remove the older ones (ours only).  What
 * it leaves alone is counted in res. */
static void retain(const char *dir, unsigned keep, pcp_result *res)
{
    snapfile *v;
    size_t n;
    if (!keep || list_snapshots(dir, NULL, res, &v, &n))
        return;
    for (size_t i = 0; i + keep < n; i++) {
        char p[PCP_PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, v[i].name);
        if (unlink(p) < 0)
            left_alone(NULL, res, "cannot remove the old snapshot %s: %s", p, strerror(errno));
    }
    free_list(v, n);
    fsync_path(dir, true);
}

void pcp_clean_temp(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if (!strncmp(de->d_name, ".pycache-snapshot-", 18) && l > 4 &&
            !strcmp(de->d_name + l - 4, ".tmp")) {
            char p[PCP_PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    }
    closedir(dp);
}

int pcp_snapshot(const pcs_store *st, pcs_rtxns *rt, const char *dir, unsigned keep,
                 uint64_t generation, bool end_reads, pcp_result *res)
{
    memset(res, 0, sizeof *res);
    bool all = rt->n == st->nshards;
    for (unsigned s = 0; s < rt->n && all; s++)
        all = rt->txn[s] != NULL;
    if (!all) {
        why(res, "no read transaction on each of the store's %u shard(s)", st->nshards);
        return res->rc = PC_EINVAL;
    }
    uint64_t t0 = now_ms();
    char tmp[4096], final[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(tmp, sizeof tmp, "%s/.pycache-snapshot-%d-%llu.tmp", dir, (int)getpid(),
             (unsigned long long)t0);
    /* Microseconds in the name, bumped past any file already there, so two
     * snapshots never share a name and names still sort by age. */
    long usec = ts.tv_nsec / 1000L;
    int n = snprintf(
        final, sizeof final, "%s/" PCP_PREFIX "%04d%02d%02d-%02d%02d%02d-%06ld" PCP_SUFFIX, dir,
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
    if (n >= (int)sizeof final) {
        why(res, "snapshot directory path too long");
        return res->rc = PC_EINVAL;
    }
    if (!generation || generation > INT64_MAX) {
        why(res, "bad snapshot generation %llu", (unsigned long long)generation);
        return res->rc = PC_EINVAL;
    }
    res->generation = generation;
    unlink(tmp);
    writer wr = {0};
    /* By an escaped URI, as it is read back (open_ro), and never through a
     * link. */
    char uri[PCP_URI_MAX];
    if (make_uri(uri, sizeof uri, tmp, NULL)) {
        why(res, "snapshot directory path too long");
        return res->rc = PC_EINVAL;
    }
    int rc = sq_err(sqlite3_open_v2(uri, &wr.db,
                                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                                        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                                    NULL));
    if (rc) {
        why(res, "cannot create %s: %s", tmp, wr.db ? sqlite3_errmsg(wr.db) : "out of memory");
        goto fail;
    }
    if ((rc = exec_sql(wr.db, schema, res)) || (rc = exec_sql(wr.db, "BEGIN", res)))
        goto fail;
    if ((rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO keys VALUES(?1,?2,?3,?4)", -1,
                                        &wr.ins_key, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO members VALUES(?1,?2,?3,?4,?5)", -1,
                                        &wr.ins_mem, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO flights VALUES(?1,?2,?3,?4)", -1,
                                        &wr.ins_flight, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO chunks VALUES(?1,?2,?3,?4)", -1,
                                        &wr.ins_chunk, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO blooms VALUES(?1,?2,?3,?4,?5)", -1,
                                        &wr.ins_bloom, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db,
                                        "INSERT INTO bloom_layers VALUES(?1,?2,?3,?4,?5,?6,?7)", -1,
                                        &wr.ins_layer, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO streams VALUES(?1,?2,?3,?4,?5,?6)", -1,
                                        &wr.ins_xs, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db,
                                        "INSERT INTO stream_entries VALUES(?1,?2,?3,?4,?5,?6,?7)",
                                        -1, &wr.ins_xe, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO stream_groups VALUES(?1,?2,?3,?4,?5)",
                                        -1, &wr.ins_xg, NULL))) ||
        (rc =
             sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO stream_consumers VALUES(?1,?2,?3,?4,?5)",
                                       -1, &wr.ins_xc, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db,
                                        "INSERT INTO stream_pending VALUES(?1,?2,?3,?4,?5,?6,?7)",
                                        -1, &wr.ins_xp, NULL))) ||
        (rc = sq_err(sqlite3_prepare_v2(wr.db, "INSERT INTO zsets VALUES(?1,?2,?3,?4)", -1,
                                        &wr.ins_zset, NULL)))) {
        why(res, "preparing statements: %s", sqlite3_errmsg(wr.db));
        goto fail;
    }
    pcp_sink sink = {.ctx = &wr,
                     .key = sq_key,
                     .member = sq_member,
                     .flight = sq_flight,
                     .chunk = sq_chunk,
                     .bloom = sq_bloom,
                     .layer = sq_layer,
                     .zmember = sq_zmember,
                     .stream = sq_stream,
                     .xentry = sq_xentry,
                     .xgroup = sq_xgroup,
                     .xpending = sq_xpending,
                     .xconsumer = sq_xconsumer,
                     .errmsg = sq_errmsg};
    pcp_counts cnt;
    if ((rc = pcp_walk(st, rt, end_reads, t0, &sink, &cnt, res->why, sizeof res->why)))
        goto fail;
    sqlite3_finalize(wr.ins_key);
    sqlite3_finalize(wr.ins_mem);
    sqlite3_finalize(wr.ins_flight);
    sqlite3_finalize(wr.ins_chunk);
    sqlite3_finalize(wr.ins_bloom);
    sqlite3_finalize(wr.ins_layer);
    sqlite3_finalize(wr.ins_xs);
    sqlite3_finalize(wr.ins_xe);
    sqlite3_finalize(wr.ins_xg);
    sqlite3_finalize(wr.ins_xc);
    sqlite3_finalize(wr.ins_xp);
    sqlite3_finalize(wr.ins_zset);
    wr.ins_key = wr.ins_mem = wr.ins_flight = wr.ins_chunk = wr.ins_bloom = wr.ins_layer = NULL;
    wr.ins_xs = wr.ins_xe = wr.ins_xg = wr.ins_xc = wr.ins_xp = wr.ins_zset = NULL;
    if ((rc = exec_sql(wr.db, views, res)))
        goto fail;
    uint64_t took = now_ms() - t0;
    if ((rc = put_meta(wr.db, "format", PCP_FORMAT, NULL)) ||
        (rc = put_meta(wr.db, "pycache_version", 0, PACKAGE_VERSION)) ||
        (rc = put_meta(wr.db, "created_ms", (int64_t)t0, NULL)) ||
        (rc = put_meta(wr.db, "generation", (int64_t)generation, NULL)) ||
        (rc = put_meta(wr.db, "took_ms", (int64_t)took, NULL)) ||
        (rc = put_meta(wr.db, "key_count", (int64_t)cnt.keys, NULL)) ||
        (rc = put_meta(wr.db, "member_count", (int64_t)cnt.members, NULL)) ||
        (rc = put_meta(wr.db, "flight_count", (int64_t)cnt.flights, NULL)) ||
        (rc = put_meta(wr.db, "chunk_count", (int64_t)cnt.chunks, NULL)) ||
        (rc = put_meta(wr.db, "bloom_count", (int64_t)cnt.blooms, NULL)) ||
        (rc = put_meta(wr.db, "bloom_layer_count", (int64_t)cnt.layers, NULL)) ||
        (rc = put_meta(wr.db, "stream_count", (int64_t)cnt.streams, NULL)) ||
        (rc = put_meta(wr.db, "stream_entry_count", (int64_t)cnt.xentries, NULL)) ||
        (rc = put_meta(wr.db, "stream_group_count", (int64_t)cnt.xgroups, NULL)) ||
        (rc = put_meta(wr.db, "stream_consumer_count", (int64_t)cnt.xconsumers, NULL)) ||
        (rc = put_meta(wr.db, "stream_pending_count", (int64_t)cnt.xpending, NULL)) ||
        (rc = put_meta(wr.db, "zset_member_count", (int64_t)cnt.zmembers, NULL)) ||
        (rc = put_meta(wr.db, "shards", st->nshards, NULL)) ||
        (rc = exec_sql(wr.db, "COMMIT", res)))
        goto fail;
    rc = sq_err(sqlite3_close(wr.db));
    wr.db = NULL;
    if (rc || (rc = fsync_path(tmp, false))) {
        why(res, "cannot write %s to disk: %s", tmp, pc_strerror(rc));
        goto fail;
    }
    while (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
        if (errno != EEXIST || usec >= 999999) {
            rc = errno == ENOSPC || errno == EDQUOT ? PC_ENOSPC : PC_EIO;
            why(res, "cannot rename %s into place: %s", tmp, strerror(errno));
            goto fail;
        }
        usec++;
        snprintf(final + strlen(final) - strlen(PCP_SUFFIX) - 6, 7 + strlen(PCP_SUFFIX),
                 "%06d" PCP_SUFFIX, (int)usec);
    }
    fsync_path(dir, true);
    struct stat sb;
    res->bytes = stat(final, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    res->keys = cnt.keys;
    res->members = cnt.members;
    res->when_ms = now_ms();
    res->took_ms = res->when_ms - t0;
    snprintf(res->path, sizeof res->path, "%s", final);
    retain(dir, keep, res);
    return 0;
fail:
    if (rc == PC_ENOSPC) {
        /* Say it is the disk, whatever SQLite or the call said. */
        char was[sizeof res->why];
        snprintf(was, sizeof was, "%s", res->why);
        why(res, "the filesystem of %s is full (no space left on the disk)%s%s", dir,
            *was ? ": " : "", was);
    } else if (!*res->why) {
        why(res, "%s", pc_strerror(rc));
    }
    sqlite3_finalize(wr.ins_key);
    sqlite3_finalize(wr.ins_mem);
    sqlite3_finalize(wr.ins_flight);
    sqlite3_finalize(wr.ins_chunk);
    sqlite3_finalize(wr.ins_bloom);
    sqlite3_finalize(wr.ins_layer);
    sqlite3_finalize(wr.ins_xs);
    sqlite3_finalize(wr.ins_xe);
    sqlite3_finalize(wr.ins_xg);
    sqlite3_finalize(wr.ins_xc);
    sqlite3_finalize(wr.ins_xp);
    sqlite3_finalize(wr.ins_zset);
    if (wr.db)
        sqlite3_close(wr.db);
    unlink(tmp);
    res->when_ms = now_ms();
    res->took_ms = res->when_ms - t0;
    return res->rc = rc ? rc : PC_EIO;
}

/* ---- checking and loading ---- */

static int meta_int(sqlite3 *db, const char *name, int64_t *v)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name=?1", -1, &s, NULL);
    if (rc)
        return PC_ECORRUPT;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_INTEGER)
        *v = sqlite3_column_int64(s, 0);
    else
        rc = SQLITE_CORRUPT;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : PC_ECORRUPT;
}

static int count_rows(sqlite3 *db, const char *sql, int64_t *n)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
        return PC_ECORRUPT;
    int rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : PC_ECORRUPT;
}

int pcp_check(const char *path, char *whybuf, size_t whylen)
{
    sqlite3 *db = NULL;
    int64_t fmt, keys, members, nk, nm;
    const char *w = NULL;
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        snprintf(whybuf, whylen, "cannot read it: %s", strerror(errno ? errno : EINVAL));
        return PC_ENOENT;
    }
    if (sb.st_size == 0) {
        snprintf(whybuf, whylen, "it is empty");
        return PC_ECORRUPT;
    }
    if ((rc = open_ro(path, &db))) {
        w = "SQLite cannot open it";
        goto out;
    }
    sqlite3_stmt *s;
    rc = PC_ECORRUPT;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL)) {
        w = "not a SQLite database, or not ours";
        goto out;
    }
    int sr = sqlite3_step(s);
    bool ok = sr == SQLITE_ROW && sqlite3_column_text(s, 0) &&
              !strcmp((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    if (!ok) {
        w = "PRAGMA quick_check found damage";
        goto out;
    }
    if (meta_int(db, "format", &fmt) || meta_int(db, "key_count", &keys) ||
        meta_int(db, "member_count", &members)) {
        w = "no pycache meta table: not a pycache snapshot";
        goto out;
    }
    if (fmt != PCP_FORMAT) {
        rc = PC_EINCOMPAT;
        w = "made by an incompatible pycache (snapshot format differs)";
        goto out;
    }
    if (count_rows(db, "SELECT count(*) FROM keys", &nk) ||
        count_rows(db, "SELECT count(*) FROM members", &nm) || nk != keys || nm != members) {
        w = "its row counts disagree with its meta table (truncated or edited)";
        goto out;
    }
    /* Issue 16's tables, in the snapshots that have them. */
    static const char *const extra[][2] = {
        {"flight_count", "SELECT count(*) FROM flights"},
        {"chunk_count", "SELECT count(*) FROM chunks"},
        {"bloom_count", "SELECT count(*) FROM blooms"},
        {"bloom_layer_count", "SELECT count(*) FROM bloom_layers"},
        /* issue 17's */
        {"stream_count", "SELECT count(*) FROM streams"},
        {"stream_entry_count", "SELECT count(*) FROM (SELECT DISTINCT key, ms, seq FROM"
                               " stream_entries)"},
        {"stream_group_count", "SELECT count(*) FROM stream_groups"},
        {"stream_consumer_count", "SELECT count(*) FROM stream_consumers"},
        {"stream_pending_count", "SELECT count(*) FROM stream_pending"},
        {"zset_member_count", "SELECT count(*) FROM zsets"}};
    bool differ = false;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0] && !differ; i++) {
        int64_t want, have;
        differ = !meta_int(db, extra[i][0], &want) &&
                 (count_rows(db, extra[i][1], &have) || have != want);
    }
    if (differ) {
        w = "its row counts disagree with its meta table (truncated or edited)";
        goto out;
    }
    /* Issue 17's tables: all of them or, in a snapshot made before them,
     * none (and then no stream or sorted set among its keys). */
    int64_t x17;
    if (count_rows(db,
                   "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
                   " ('streams','stream_entries','stream_groups','stream_consumers',"
                   "'stream_pending','zsets')",
                   &x17) ||
        (x17 != 0 && x17 != 6)) {
        w = "it has some of the stream and sorted-set tables but not all (edited)";
        goto out;
    }
    int64_t want17;
    if (x17 == 6 && meta_int(db, "zset_member_count", &want17)) {
        w = "its meta table has no counts for its stream and sorted-set tables (edited)";
        goto out;
    }
    rc = 0;
out:
    if (rc)
        snprintf(whybuf, whylen, "%s", w ? w : pc_strerror(rc));
    if (db)
        sqlite3_close(db);
    return rc;
}

/* A column as a pycache value of the given kind name; PC_ECORRUPT if the
 * SQLite type does not fit.  Bytes point into SQLite's memory. */
static int col_val(sqlite3_stmt *s, int col, const char *kind, pc_val *v)
{
    int t = sqlite3_column_type(s, col);
    if (!strcmp(kind, "nil") && t == SQLITE_NULL) {
        *v = pc_nil();
    } else if (!strcmp(kind, "bytes") && (t == SQLITE_TEXT || t == SQLITE_BLOB)) {
        const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, col)
                                         : sqlite3_column_blob(s, col);
        *v = pc_mem(p, (size_t)sqlite3_column_bytes(s, col));
    } else if (!strcmp(kind, "int") && t == SQLITE_INTEGER) {
        *v = pc_int(sqlite3_column_int64(s, col));
    } else if (!strcmp(kind, "double") && (t == SQLITE_FLOAT || t == SQLITE_INTEGER)) {
        *v = pc_dbl(sqlite3_column_double(s, col));
    } else if (!strcmp(kind, "bool") && t == SQLITE_INTEGER && sqlite3_column_int64(s, col) >= 0 &&
               sqlite3_column_int64(s, col) <= 1) {
        *v = pc_bool(sqlite3_column_int64(s, col) != 0);
    } else {
        return PC_ECORRUPT;
    }
    return 0;
}

/* Bytes of column col (TEXT or BLOB) copied to arena; offset and length out. */
static int col_bytes(sqlite3_stmt *s, int col, pcs_buf *arena, size_t *off, size_t *len)
{
    int t = sqlite3_column_type(s, col);
    if (t != SQLITE_TEXT && t != SQLITE_BLOB)
        return PC_ECORRUPT;
    const void *p =
        t == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, col) : sqlite3_column_blob(s, col);
    *len = (size_t)sqlite3_column_bytes(s, col);
    *off = arena->len;
    pcs_buf_put(arena, p, *len);
    return arena->err;
}

typedef struct loader {
    sqlite3 *db;
    sqlite3_stmt *mem;
    sqlite3_stmt *flight; /* NULL: a snapshot made before issue 16's types */
    sqlite3_stmt *chunk, *bloom, *layer;
    sqlite3_stmt *xs, *xe, *xg, *xc, *xp; /* NULL: a snapshot made before issue 17 */
    sqlite3_stmt *zset;                   /* likewise */
    pcp_loadset ls;                       /* one write transaction per shard */
    pcs_buf arena;
    pc_val *items;
    size_t icap;
    pcp_result *res;
} loader;

/* Load the members of key into items[] (views into the arena). */
static int load_members(loader *l, const void *key, size_t klen, pc_type type, size_t *n)
{
    sqlite3_stmt *s = l->mem;
    pcs_buf_reset(&l->arena);
    *n = 0;
    sqlite3_reset(s);
    int rc = sq_err(sqlite3_bind_blob64(s, 1, key, klen, SQLITE_STATIC));
    /* The key may have been stored as TEXT: compare either way. */
    if (!rc)
        rc = sq_err(sqlite3_bind_text64(s, 2, key, klen, SQLITE_STATIC, SQLITE_UTF8));
    if (rc)
        return rc;
    /* Offsets first (the arena moves as it grows), views after. */
    typedef struct {
        size_t foff, flen, voff, vlen;
        pc_val v;
        bool has_field;
    } pend;
    pend *pv = NULL;
    size_t cap = 0;
    int sr;
    while ((sr = sqlite3_step(s)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(s, 3);
        pc_val v;
        if (!kind || (rc = col_val(s, 2, kind, &v)))
            break;
        if (*n + 2 > cap) {
            cap = cap ? cap * 2 : 64;
            pend *np = pcs_reallocarray(pv, cap, sizeof *np);
            if (!np) {
                rc = PC_ENOMEM;
                break;
            }
            pv = np;
        }
        pend *p = &pv[(*n)++];
        memset(p, 0, sizeof *p);
        if (type == PC_T_MAP) {
            if ((rc = col_bytes(s, 1, &l->arena, &p->foff, &p->flen)))
                break;
            p->has_field = true;
        }
        p->v = v;
        if (v.kind == PC_BYTES) {
            p->voff = l->arena.len;
            p->vlen = v.s.len;
            pcs_buf_put(&l->arena, v.s.ptr, v.s.len);
            if ((rc = l->arena.err))
                break;
        }
    }
    if (!rc && sr != SQLITE_DONE)
        rc = sq_err(sr);
    size_t need = type == PC_T_MAP ? 2 * *n : *n;
    if (!rc && need > l->icap) {
        pc_val *ni = pcs_reallocarray(l->items, need, sizeof *ni);
        if (!ni)
            rc = PC_ENOMEM;
        else {
            l->items = ni;
            l->icap = need;
        }
    }
    for (size_t i = 0, j = 0; !rc && i < *n; i++) {
        pend *p = &pv[i];
        if (p->has_field)
            l->items[j++] = pc_mem(l->arena.data + p->foff, p->flen);
        pc_val v = p->v;
        if (v.kind == PC_BYTES)
            v = pc_mem(l->arena.data + p->voff, p->vlen);
        l->items[j++] = v;
    }
    pcs_free(pv);
    if (!rc)
        *n = need;
    return rc;
}

/* Bind key (as a BLOB and as TEXT: either may have been stored) to a
 * statement's ?1 and ?2, reset first. */
static int bind_key2(sqlite3_stmt *s, const void *key, size_t klen)
{
    sqlite3_reset(s);
    int rc = sq_err(sqlite3_bind_blob64(s, 1, key, klen, SQLITE_STATIC));
    return rc ? rc : sq_err(sqlite3_bind_text64(s, 2, key, klen, SQLITE_STATIC, SQLITE_UTF8));
}

/* The chunks of the key into r (pcs_load_chunk). */
static int load_chunks(loader *l, pcs_wctx *w, const void *key, size_t klen, pcs_rec *r)
{
    sqlite3_stmt *s = l->chunk;
    int rc = s ? bind_key2(s, key, klen) : PC_ECORRUPT, sr;
    while (!rc && (sr = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t layer = sqlite3_column_int64(s, 0), idx = sqlite3_column_int64(s, 1);
        if (sqlite3_column_type(s, 0) != SQLITE_INTEGER ||
            sqlite3_column_type(s, 1) != SQLITE_INTEGER ||
            sqlite3_column_type(s, 2) != SQLITE_BLOB || layer < 0 || layer > UINT32_MAX ||
            idx < 0 || idx > UINT32_MAX)
            return PC_ECORRUPT;
        rc = pcs_load_chunk(w, r, (uint32_t)layer, (uint32_t)idx, sqlite3_column_blob(s, 2),
                            (size_t)sqlite3_column_bytes(s, 2));
    }
    if (!rc && sr != SQLITE_DONE)
        rc = sq_err(sr);
    sqlite3_reset(s);
    return rc;
}

/* A Bloom filter: its settings, layers and chunks. */
static int load_bloom(loader *l, pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at)
{
    sqlite3_stmt *s = l->bloom, *ls = l->layer;
    if (!s || !ls)
        return PC_ECORRUPT;
    int rc = bind_key2(s, key, klen);
    if (rc)
        return rc;
    if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_type(s, 0) != SQLITE_FLOAT ||
        sqlite3_column_type(s, 1) != SQLITE_INTEGER ||
        sqlite3_column_type(s, 2) != SQLITE_INTEGER ||
        sqlite3_column_type(s, 3) != SQLITE_INTEGER || sqlite3_column_int64(s, 1) <= 0 ||
        sqlite3_column_int64(s, 2) <= 0 || sqlite3_column_int64(s, 2) > UINT32_MAX ||
        (sqlite3_column_int64(s, 3) != 0 && sqlite3_column_int64(s, 3) != 1))
        return PC_ECORRUPT;
    double error = sqlite3_column_double(s, 0);
    uint64_t cap = (uint64_t)sqlite3_column_int64(s, 1);
    uint32_t expansion = (uint32_t)sqlite3_column_int64(s, 2);
    uint32_t flags = sqlite3_column_int64(s, 3) ? PCS_BF_NONSCALING : 0;
    sqlite3_reset(s);
    pcs_bf_layer layers[PCS_BF_MAX_LAYERS];
    unsigned n = 0;
    if ((rc = bind_key2(ls, key, klen)))
        return rc;
    int sr;
    while ((sr = sqlite3_step(ls)) == SQLITE_ROW) {
        for (int c = 0; c < 5; c++)
            if (sqlite3_column_type(ls, c) != SQLITE_INTEGER || sqlite3_column_int64(ls, c) < 0)
                return PC_ECORRUPT;
        if (n == PCS_BF_MAX_LAYERS || sqlite3_column_int64(ls, 0) != n ||
            sqlite3_column_type(ls, 5) != SQLITE_FLOAT || sqlite3_column_int64(ls, 4) > UINT32_MAX)
            return PC_ECORRUPT;
        pcs_bf_layer *y = &layers[n++];
        y->capacity = (uint64_t)sqlite3_column_int64(ls, 1);
        y->items = (uint64_t)sqlite3_column_int64(ls, 2);
        y->bits = (uint64_t)sqlite3_column_int64(ls, 3);
        y->hashes = (uint32_t)sqlite3_column_int64(ls, 4);
        y->error = sqlite3_column_double(ls, 5);
    }
    sqlite3_reset(ls);
    if (sr != SQLITE_DONE)
        return sq_err(sr);
    pcs_rec r;
    rc = pcs_load_bloom(w, key, klen, expire_at, error, cap, expansion, flags, layers, n, &r);
    if (!rc)
        rc = load_chunks(l, w, key, klen, &r);
    return rc ? rc : pcs_load_done(w, key, klen, &r);
}

/* ---- streams (issue 17) ---- */

static int col_xid(sqlite3_stmt *s, int col, pc_xid *id)
{
    if (sqlite3_column_type(s, col) != SQLITE_INTEGER ||
        sqlite3_column_type(s, col + 1) != SQLITE_INTEGER)
        return PC_ECORRUPT;
    *id = pc_xid_make((uint64_t)sqlite3_column_int64(s, col),
                      (uint64_t)sqlite3_column_int64(s, col + 1));
    return 0;
}

/* A name (TEXT or BLOB) of column col, copied into out (PC_XNAME_MAX). */
static int col_name(sqlite3_stmt *s, int col, uint8_t *out, size_t *n)
{
    int t = sqlite3_column_type(s, col);
    if (t != SQLITE_TEXT && t != SQLITE_BLOB)
        return PC_ECORRUPT;
    const void *p =
        t == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, col) : sqlite3_column_blob(s, col);
    *n = (size_t)sqlite3_column_bytes(s, col);
    if (!pcs_xname_ok(p, *n))
        return PC_ECORRUPT;
    memcpy(out, p, *n);
    return 0;
}

/* One value of a pair into the arena: its kind in items[i], bytes at an
 * offset (pointers are made when the entry is whole: the arena moves). */
static int pair_val(loader *l, sqlite3_stmt *s, int col, size_t i)
{
    const char *kind = (const char *)sqlite3_column_text(s, col + 1);
    pc_val v;
    if (!kind || col_val(s, col, kind, &v))
        return PC_ECORRUPT;
    if (i >= l->icap) {
        size_t cap = l->icap ? 2 * l->icap : 64;
        pc_val *ni = pcs_reallocarray(l->items, cap, sizeof *ni);
        if (!ni)
            return PC_ENOMEM;
        l->items = ni;
        l->icap = cap;
    }
    if (v.kind == PC_BYTES) {
        size_t off = l->arena.len;
        pcs_buf_put(&l->arena, v.s.ptr, v.s.len);
        if (l->arena.err)
            return PC_ENOMEM;
        v.s.ptr = (const void *)(uintptr_t)off;
    }
    l->items[i] = v;
    return 0;
}

/* The pairs gathered (n values) as one entry. */
static int flush_entry(loader *l, pcs_wctx *w, pcs_rec *r, pc_xid id, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l->items[i].kind == PC_BYTES)
            l->items[i].s.ptr = l->arena.data + (uintptr_t)l->items[i].s.ptr;
    int rc = pcs_load_xentry(w, r, id, l->items, n / 2);
    pcs_buf_reset(&l->arena);
    return rc;
}

static int load_stream(loader *l, pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at)
{
    sqlite3_stmt *s = l->xs;
    if (!s || !l->xe || !l->xg || !l->xc || !l->xp)
        return PC_ECORRUPT;
    int rc = bind_key2(s, key, klen), sr;
    pc_xid last, maxdel, id, cur = {0, 0};
    if (rc || sqlite3_step(s) != SQLITE_ROW || col_xid(s, 0, &last) || col_xid(s, 2, &maxdel) ||
        sqlite3_column_type(s, 4) != SQLITE_INTEGER || sqlite3_column_int64(s, 4) < 0)
        return rc ? rc : PC_ECORRUPT;
    uint64_t added = (uint64_t)sqlite3_column_int64(s, 4);
    sqlite3_reset(s);
    pcs_rec r;
    if ((rc = pcs_load_stream(w, key, klen, expire_at, last, maxdel, added, &r)))
        return rc;
    /* entries: rows of one ID in a row, pair by pair */
    size_t n = 0;
    pcs_buf_reset(&l->arena);
    s = l->xe;
    if ((rc = bind_key2(s, key, klen)))
        return rc;
    while (!rc && (sr = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = col_xid(s, 0, &id)))
            break;
        if (n && pc_xid_cmp(id, cur) != 0)
            rc = flush_entry(l, w, &r, cur, n), n = 0;
        cur = id;
        if (!rc && !(rc = pair_val(l, s, 2, n)) && !(rc = pair_val(l, s, 4, n + 1)))
            n += 2;
    }
    if (!rc && sr != SQLITE_DONE)
        rc = sq_err(sr);
    sqlite3_reset(s);
    if (!rc && n)
        rc = flush_entry(l, w, &r, cur, n);
    uint8_t g[PC_XNAME_MAX], c[PC_XNAME_MAX];
    size_t gl, cl;
    /* groups */
    s = l->xg;
    if (!rc && !(rc = bind_key2(s, key, klen))) {
        while (!rc && (sr = sqlite3_step(s)) == SQLITE_ROW) {
            int et = sqlite3_column_type(s, 3);
            if (col_name(s, 0, g, &gl) || col_xid(s, 1, &id) ||
                (et != SQLITE_NULL && (et != SQLITE_INTEGER || sqlite3_column_int64(s, 3) < 0)))
                rc = PC_ECORRUPT;
            else
                rc = pcs_load_xgroup(w, &r, g, gl, id,
                                     et == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 3));
        }
        if (!rc && sr != SQLITE_DONE)
            rc = sq_err(sr);
        sqlite3_reset(s);
    }
    /* consumers */
    s = l->xc;
    if (!rc && !(rc = bind_key2(s, key, klen))) {
        while (!rc && (sr = sqlite3_step(s)) == SQLITE_ROW) {
            int at = sqlite3_column_type(s, 3);
            if (col_name(s, 0, g, &gl) || col_name(s, 1, c, &cl) ||
                sqlite3_column_type(s, 2) != SQLITE_INTEGER ||
                (at != SQLITE_NULL && at != SQLITE_INTEGER))
                rc = PC_ECORRUPT;
            else
                rc = pcs_load_xconsumer(w, &r, g, gl, c, cl, (uint64_t)sqlite3_column_int64(s, 2),
                                        at == SQLITE_NULL ? 0
                                                          : (uint64_t)sqlite3_column_int64(s, 3));
        }
        if (!rc && sr != SQLITE_DONE)
            rc = sq_err(sr);
        sqlite3_reset(s);
    }
    /* pending entries */
    s = l->xp;
    if (!rc && !(rc = bind_key2(s, key, klen))) {
        while (!rc && (sr = sqlite3_step(s)) == SQLITE_ROW) {
            if (col_name(s, 0, g, &gl) || col_xid(s, 1, &id) || col_name(s, 3, c, &cl) ||
                sqlite3_column_type(s, 4) != SQLITE_INTEGER ||
                sqlite3_column_type(s, 5) != SQLITE_INTEGER)
                rc = PC_ECORRUPT;
            else
                rc =
                    pcs_load_xpending(w, &r, g, gl, id, c, cl, (uint64_t)sqlite3_column_int64(s, 4),
                                      (uint64_t)sqlite3_column_int64(s, 5));
        }
        if (!rc && sr != SQLITE_DONE)
            rc = sq_err(sr);
        sqlite3_reset(s);
    }
    return rc ? rc : pcs_load_done(w, key, klen, &r);
}

/* A sorted set: its members and scores (issue 17). */
static int load_zset(loader *l, pcs_wctx *w, const void *key, size_t klen, uint64_t expire_at)
{
    sqlite3_stmt *s = l->zset;
    pcs_rec r;
    int rc = s ? bind_key2(s, key, klen) : PC_ECORRUPT, sr = SQLITE_DONE;
    if (!rc)
        rc = pcs_load_zset(w, key, klen, expire_at, &r);
    while (!rc && (sr = sqlite3_step(s)) == SQLITE_ROW) {
        pc_val m;
        const char *kind = (const char *)sqlite3_column_text(s, 1);
        int st = sqlite3_column_type(s, 2);
        if (!kind || (st != SQLITE_FLOAT && st != SQLITE_INTEGER) || (rc = col_val(s, 0, kind, &m)))
            rc = PC_ECORRUPT;
        else
            rc = pcs_load_zmember(w, &r, &m, sqlite3_column_double(s, 2));
    }
    if (!rc && sr != SQLITE_DONE)
        rc = sq_err(sr);
    if (s)
        sqlite3_reset(s);
    return rc ? rc : pcs_load_zdone(w, key, klen, &r);
}

/* Load a key of issue 16's and 17's types; value: its value column. */
static int load_extra(loader *l, pcs_wctx *w, const void *key, size_t klen, int type,
                      uint64_t expire_at, sqlite3_stmt *ks)
{
    if (type == PC_T_BITS) {
        pcs_rec r;
        if (sqlite3_column_type(ks, 3) != SQLITE_INTEGER || sqlite3_column_int64(ks, 3) <= 0)
            return PC_ECORRUPT;
        int rc = pcs_load_bits(w, key, klen, expire_at, (uint64_t)sqlite3_column_int64(ks, 3), &r);
        if (!rc)
            rc = load_chunks(l, w, key, klen, &r);
        return rc ? rc : pcs_load_done(w, key, klen, &r);
    }
    if (sqlite3_column_type(ks, 3) != SQLITE_NULL)
        return PC_ECORRUPT;
    if (type == PC_T_BLOOM)
        return load_bloom(l, w, key, klen, expire_at);
    if (type == PC_T_STREAM)
        return load_stream(l, w, key, klen, expire_at);
    if (type == PC_T_ZSET)
        return load_zset(l, w, key, klen, expire_at);
    if (type != PC_T_FLIGHT || !l->flight || !expire_at)
        return PC_ECORRUPT;
    sqlite3_stmt *s = l->flight;
    int rc = bind_key2(s, key, klen);
    if (rc)
        return rc;
    if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_type(s, 0) != SQLITE_INTEGER ||
        sqlite3_column_int64(s, 0) <= 0 || !sqlite3_column_text(s, 2))
        return PC_ECORRUPT;
    pc_val v;
    if ((rc = col_val(s, 1, (const char *)sqlite3_column_text(s, 2), &v)))
        return rc;
    uint64_t fresh = (uint64_t)sqlite3_column_int64(s, 0);
    rc = pcs_load_flight(w, key, klen, expire_at, fresh, &v);
    sqlite3_reset(s);
    return rc;
}

/* Load one row of the keys table. */
static int load_key(loader *l, sqlite3_stmt *s, uint64_t now)
{
    int kt = sqlite3_column_type(s, 0);
    if (kt != SQLITE_TEXT && kt != SQLITE_BLOB)
        return PC_ECORRUPT;
    const void *key =
        kt == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, 0) : sqlite3_column_blob(s, 0);
    size_t klen = (size_t)sqlite3_column_bytes(s, 0);
    const char *tn = (const char *)sqlite3_column_text(s, 1);
    int type = tn ? pcp_type_of(tn, (size_t)sqlite3_column_bytes(s, 1)) : 0;
    if (!type || pcs_key_ok(key, klen))
        return PC_ECORRUPT;
    uint64_t expire_at = 0;
    if (sqlite3_column_type(s, 2) == SQLITE_INTEGER) {
        int64_t e = sqlite3_column_int64(s, 2);
        if (e <= 0)
            return PC_ECORRUPT;
        expire_at = (uint64_t)e;
        if (expire_at <= now) {
            l->res->skipped++;
            return 0;
        }
    } else if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
        return PC_ECORRUPT;
    }
    /* Copy the key: member queries reuse SQLite's buffers. */
    uint8_t kb[PC_KEY_MAX];
    memcpy(kb, key, klen);
    pcs_wctx *w = pcp_load_shard(&l->ls, kb, klen);
    bool scalar = type == PC_T_STRING || type == PC_T_NUMERIC;
    int rc;
    if (type >= PC_T_FLIGHT) {
        rc = load_extra(l, w, kb, klen, type, expire_at, s);
    } else if (scalar) {
        pc_val v;
        int vt = sqlite3_column_type(s, 3);
        if (type == PC_T_STRING)
            rc = col_val(s, 3, "bytes", &v);
        else
            rc = col_val(s, 3, vt == SQLITE_INTEGER ? "int" : "double", &v);
        if (rc)
            return PC_ECORRUPT;
        rc = pcs_load_record(w, kb, klen, (pc_type)type, expire_at, &v, NULL, 0);
    } else {
        size_t n;
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            return PC_ECORRUPT; /* a collection has no scalar value */
        if ((rc = load_members(l, kb, klen, type, &n)))
            return rc;
        if (n == 0)
            return PC_ECORRUPT; /* an empty collection does not exist */
        rc = pcs_load_record(w, kb, klen, (pc_type)type, expire_at, NULL, l->items, n);
    }
    /* A row pcs_load_record refuses is a corrupt snapshot; a String or
     * Numeric too large for this store says so. */
    if ((rc = pcp_load_err(rc, scalar)))
        return rc;
    l->res->keys++;
    return 0;
}

int pcp_restore_file(pcs_store *st, const char *path, pcp_result *res)
{
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", path);
    uint64_t t0 = now_ms();
    loader l = {.res = res};
    int rc = pcp_load_open(&l.ls, st, res->why, sizeof res->why);
    if (rc)
        return res->rc = rc;
    if ((rc = pcp_check(path, res->why, sizeof res->why)))
        return res->rc = pcp_load_close(&l.ls, rc);
    sqlite3_stmt *keys = NULL;
    if (!rc && (rc = open_ro(path, &l.db)))
        why(res, "SQLite cannot open it");
    int64_t gen;
    if (!rc && !meta_int(l.db, "generation", &gen) && gen > 0)
        res->generation = (uint64_t)gen;
    if (!rc && (sqlite3_prepare_v2(l.db, "SELECT key, type, expire_at, value FROM keys", -1, &keys,
                                   NULL) ||
                sqlite3_prepare_v2(l.db,
                                   "SELECT pos, field, value, kind FROM members"
                                   " WHERE key=?1 OR key=?2 ORDER BY rowid",
                                   -1, &l.mem, NULL))) {
        rc = PC_ECORRUPT;
        why(res, "its tables are not a pycache snapshot's: %s", sqlite3_errmsg(l.db));
    }
    /* Issue 16's tables: absent from older snapshots (which hold no such
     * key: a key of those types there is corrupt). */
    if (!rc && sqlite3_prepare_v2(l.db,
                                  "SELECT fresh_until, value, kind FROM flights"
                                  " WHERE key=?1 OR key=?2",
                                  -1, &l.flight, NULL))
        l.flight = NULL;
    if (!rc && sqlite3_prepare_v2(l.db,
                                  "SELECT layer, chunk, bytes FROM chunks"
                                  " WHERE key=?1 OR key=?2 ORDER BY layer, chunk",
                                  -1, &l.chunk, NULL))
        l.chunk = NULL;
    if (!rc && sqlite3_prepare_v2(l.db,
                                  "SELECT error_rate, capacity, expansion, nonscaling FROM blooms"
                                  " WHERE key=?1 OR key=?2",
                                  -1, &l.bloom, NULL))
        l.bloom = NULL;
    if (!rc && sqlite3_prepare_v2(l.db,
                                  "SELECT layer, capacity, items, bits, hashes, error_rate"
                                  " FROM bloom_layers WHERE key=?1 OR key=?2 ORDER BY layer",
                                  -1, &l.layer, NULL))
        l.layer = NULL;
    /* Issue 17's: absent from older snapshots. */
    static const char *const xsql[5] = {
        "SELECT last_ms, last_seq, max_deleted_ms, max_deleted_seq, entries_added FROM streams"
        " WHERE key=?1 OR key=?2",
        "SELECT ms, seq, field, field_kind, value, kind FROM stream_entries"
        " WHERE key=?1 OR key=?2 ORDER BY rowid",
        "SELECT name, last_ms, last_seq, entries_read FROM stream_groups"
        " WHERE key=?1 OR key=?2 ORDER BY rowid",
        "SELECT grp, name, seen_ms, active_ms FROM stream_consumers"
        " WHERE key=?1 OR key=?2 ORDER BY rowid",
        "SELECT grp, ms, seq, consumer, delivered_ms, deliveries FROM stream_pending"
        " WHERE key=?1 OR key=?2 ORDER BY rowid"};
    sqlite3_stmt **xst[5] = {&l.xs, &l.xe, &l.xg, &l.xc, &l.xp};
    for (int i = 0; i < 5 && !rc; i++)
        if (sqlite3_prepare_v2(l.db, xsql[i], -1, xst[i], NULL))
            *xst[i] = NULL;
    if (!rc && sqlite3_prepare_v2(l.db,
                                  "SELECT member, kind, score FROM zsets"
                                  " WHERE key=?1 OR key=?2 ORDER BY rowid",
                                  -1, &l.zset, NULL))
        l.zset = NULL;
    uint64_t now = now_ms();
    int sr = SQLITE_DONE;
    while (!rc && (sr = sqlite3_step(keys)) == SQLITE_ROW)
        if ((rc = load_key(&l, keys, now)))
            why(res, "a bad row in its keys or members (%s)", pc_strerror(rc));
    if (!rc && sr != SQLITE_DONE) {
        rc = sq_err(sr);
        why(res, "reading it: %s", sqlite3_errmsg(l.db));
    }
    rc = pcp_load_close(&l.ls, rc); /* all shards or none */
    sqlite3_finalize(keys);
    sqlite3_finalize(l.mem);
    sqlite3_finalize(l.flight);
    sqlite3_finalize(l.chunk);
    sqlite3_finalize(l.bloom);
    sqlite3_finalize(l.layer);
    sqlite3_finalize(l.xs);
    sqlite3_finalize(l.xe);
    sqlite3_finalize(l.xg);
    sqlite3_finalize(l.xc);
    sqlite3_finalize(l.xp);
    sqlite3_finalize(l.zset);
    if (l.db)
        sqlite3_close(l.db);
    pcs_buf_free(&l.arena);
    pcs_free(l.items);
    if (rc) {
        res->keys = 0;
        if (!*res->why)
            why(res, "%s", pc_strerror(rc));
    }
    struct stat sb;
    res->bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    res->when_ms = now_ms();
    res->took_ms = res->when_ms - t0;
    return res->rc = rc;
}

int pcp_restore_newest(pcs_store *st, const char *dir, pcp_log_fn log, pcp_result *res)
{
    snapfile *v;
    size_t n;
    memset(res, 0, sizeof *res);
    int rc = list_snapshots(dir, log, NULL, &v, &n);
    if (rc)
        return res->rc = rc;
    /* Files without a rank first, to say why they are passed over. */
    for (size_t i = 0; i < n && !v[i].ranked; i++) {
        char p[PCP_PATH_MAX], w[512];
        snprintf(p, sizeof p, "%s/%s", dir, v[i].name);
        if (!pcp_check(p, w, sizeof w))
            snprintf(w, sizeof w, "its meta table records no generation or time");
        if (log)
            log(LOG_WARNING, "refusing snapshot %s: %s; its age is unknown, trying the others", p,
                w);
    }
    rc = PC_ENOENT;
    for (size_t i = n; i-- > 0 && v[i].ranked;) {
        char p[PCP_PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, v[i].name);
        rc = pcp_restore_file(st, p, res);
        if (!rc || rc == PC_EEXIST)
            break;
        if (log)
            log(LOG_WARNING, "refusing snapshot %s: %s; trying an older one", p, res->why);
        rc = PC_ENOENT;
    }
    free_list(v, n);
    return res->rc = rc;
}
