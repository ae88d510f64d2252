/*
 * mysql.c - the MariaDB/MySQL snapshot target (mysql.h).  libmariadb's codes
 * stay in this file: callers see PC_E* codes and a sentence saying what
 * went wrong.  The rows come from pcp_walk (target.c), as the SQLite
 * target's do; restoring loads through a pcp_loadset.
 */
#include "mysql.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "../shm/buf.h"
#include "../shm/read.h"
#include "../shm/stream.h"
#include "target.h"

bool pcp_db_is_url(const char *s)
{
    return s && (!strncmp(s, "mysql://", 8) || !strncmp(s, "mariadb://", 10));
}

static void whyf(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

static bool isalnum_ascii(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode p[0..n) into out (NUL-terminated); -1 when it does not
 * fit, has a bad escape or decodes to a NUL byte. */
static int pct_decode(const char *p, size_t n, char *out, size_t outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(p[i + 1]), l = hexval(p[i + 2]);
            if (h < 0 || l < 0 || (h | l) == 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (o + 1 >= outn)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

int pcp_db_parse(const char *url, pcp_db *db, char *why, size_t whylen)
{
    memset(db, 0, sizeof *db);
    if (!pcp_db_is_url(url)) {
        whyf(why, whylen, "not a mysql:// URL");
        return PC_EINVAL;
    }
    if (strlen(url) >= sizeof db->url) {
        whyf(why, whylen, "the URL is longer than %zu bytes", sizeof db->url - 1);
        return PC_EINVAL;
    }
    snprintf(db->url, sizeof db->url, "%s", url);
    const char *p = strstr(url, "://") + 3;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (!at || (slash && slash < at)) {
        whyf(why, whylen, "no user: write mysql://USER@HOST[:PORT]/DB");
        return PC_EINVAL;
    }
    if (memchr(p, ':', (size_t)(at - p))) {
        whyf(why, whylen,
             "a password in the URL is refused (it would show in ps and in logs): put it in "
             "a file named by snapshot-password-file");
        return PC_EINVAL;
    }
    if (at == p || pct_decode(p, (size_t)(at - p), db->user, sizeof db->user)) {
        whyf(why, whylen, "a bad user name: write mysql://USER@HOST[:PORT]/DB");
        return PC_EINVAL;
    }
    const char *h = at + 1, *hend = strchr(h, '/');
    if (!hend) {
        whyf(why, whylen, "no database: write mysql://USER@HOST[:PORT]/DB");
        return PC_EINVAL;
    }
    const char *colon = NULL;
    if (*h == '[') { /* [IPv6] */
        const char *rb = memchr(h, ']', (size_t)(hend - h));
        if (!rb || rb == h + 1 || (size_t)(rb - h - 1) >= sizeof db->host) {
            whyf(why, whylen, "a bad host in brackets");
            return PC_EINVAL;
        }
        memcpy(db->host, h + 1, (size_t)(rb - h - 1));
        colon = rb + 1 < hend && rb[1] == ':' ? rb + 1 : NULL;
        if (!colon && rb + 1 != hend) {
            whyf(why, whylen, "a bad host in brackets");
            return PC_EINVAL;
        }
    } else {
        colon = memchr(h, ':', (size_t)(hend - h));
        size_t hl = (size_t)((colon ? colon : hend) - h);
        if (hl == 0 || hl >= sizeof db->host) {
            whyf(why, whylen, "no host: write mysql://USER@HOST[:PORT]/DB");
            return PC_EINVAL;
        }
        memcpy(db->host, h, hl);
        for (size_t i = 0; i < hl; i++)
            if (!(isalnum_ascii(db->host[i]) || strchr(".-_", db->host[i]))) {
                whyf(why, whylen, "a bad host name '%s'", db->host);
                return PC_EINVAL;
            }
    }
    if (colon) {
        unsigned long port = 0;
        const char *q = colon + 1;
        if (q == hend)
            port = 0;
        for (; q < hend; q++) {
            if (*q < '0' || *q > '9' || port > 65535) {
                port = 0;
                break;
            }
            port = port * 10 + (unsigned long)(*q - '0');
        }
        if (port == 0 || port > 65535) {
            whyf(why, whylen, "a bad port: 1 to 65535");
            return PC_EINVAL;
        }
        db->port = (unsigned)port;
    }
    const char *d = hend + 1, *qm = strchr(d, '?');
    size_t dl = qm ? (size_t)(qm - d) : strlen(d);
    if (dl == 0 || dl >= sizeof db->db) {
        whyf(why, whylen, "no database, or a name longer than 64: write mysql://USER@HOST/DB");
        return PC_EINVAL;
    }
    for (size_t i = 0; i < dl; i++)
        if (!(isalnum_ascii(d[i]) || d[i] == '_' || d[i] == '$')) {
            whyf(why, whylen, "a database name of letters, digits, '_' and '$' only");
            return PC_EINVAL;
        }
    memcpy(db->db, d, dl);
    for (const char *o = qm; o && *o;) {
        o++; /* past '?' or '&' */
        const char *e = strchr(o, '&');
        size_t ol = e ? (size_t)(e - o) : strlen(o);
        if (ol > 7 && !strncmp(o, "socket=", 7)) {
            if (pct_decode(o + 7, ol - 7, db->socket, sizeof db->socket) || db->socket[0] != '/') {
                whyf(why, whylen, "a bad socket: give an absolute path (?socket=/run/mysqld/...)");
                return PC_EINVAL;
            }
        } else {
            whyf(why, whylen, "an unknown URL option '%.*s' (only socket=PATH)", (int)ol, o);
            return PC_EINVAL;
        }
        o = e;
    }
    if (db->socket[0] && strcmp(db->host, "localhost")) {
        whyf(why, whylen, "a socket goes with the host localhost");
        return PC_EINVAL;
    }
    return 0;
}

int pcp_db_check_password_file(const char *path, char *why, size_t whylen)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        whyf(why, whylen, "cannot read the password file %s: %s", path, strerror(errno));
        return errno == ENOENT ? PC_ENOENT : PC_EACCES;
    }
    if (!S_ISREG(sb.st_mode)) {
        whyf(why, whylen, "the password file %s is not a regular file", path);
        return PC_EACCES;
    }
    if (sb.st_mode & 077) {
        whyf(why, whylen,
             "the password file %s can be read or written by others (mode %04o): run chmod "
             "600 %s",
             path, (unsigned)(sb.st_mode & 07777), path);
        return PC_EACCES;
    }
    if (access(path, R_OK) < 0) {
        whyf(why, whylen, "cannot read the password file %s: %s", path, strerror(errno));
        return PC_EACCES;
    }
    return 0;
}

#ifndef HAVE_MARIADB

bool pcp_db_available(void)
{
    return false;
}
void pcp_db_library_init(void)
{
}
void pcp_db_library_end(void)
{
}

static int unavailable(pcp_result *res, const pcp_db *db)
{
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", db->url);
    whyf(res->why, sizeof res->why,
         "this pycached was built without the MariaDB/MySQL target (no libmariadb-dev)");
    return res->rc = PC_ENOTSUP;
}

int pcp_db_snapshot(const pcs_store *st, pcs_rtxns *rt, const pcp_db *db, uint64_t generation,
                    bool end_reads, pcp_result *res)
{
    (void)st, (void)rt, (void)generation, (void)end_reads;
    return unavailable(res, db);
}

int pcp_db_restore(pcs_store *st, const pcp_db *db, pcp_result *res)
{
    (void)st;
    return unavailable(res, db);
}

#else /* HAVE_MARIADB */

#include <mysql.h>

bool pcp_db_available(void)
{
    return true;
}

void pcp_db_library_init(void)
{
    mysql_library_init(0, NULL, NULL);
}

void pcp_db_library_end(void)
{
    mysql_library_end();
}

/* The tables of a snapshot, in the order of pcp_sink's rows, then meta.
 * Issue 17's (T_ZSETS to T_XPEND) are absent from a snapshot written
 * before them: all of them or none. */
enum {
    T_KEYS,
    T_MEMBERS,
    T_FLIGHTS,
    T_CHUNKS,
    T_BLOOMS,
    T_LAYERS,
    T_ZSETS,
    T_STREAMS,
    T_XPAIRS,
    T_XGROUPS,
    T_XCONS,
    T_XPEND,
    T_META,
    T__N
};
#define T_ISSUE17                                                                 \
    ((1u << T_ZSETS) | (1u << T_STREAMS) | (1u << T_XPAIRS) | (1u << T_XGROUPS) | \
     (1u << T_XCONS) | (1u << T_XPEND))
static const char *const tables[T__N] = {"keys",          "members",          "flights",
                                         "chunks",        "blooms",           "bloom_layers",
                                         "zset_members",  "streams",          "stream_pairs",
                                         "stream_groups", "stream_consumers", "stream_pending",
                                         "meta"};
/* The meta table's count of each table's rows. */
static const char *const counts[T_META] = {
    "key_count",         "member_count",       "flight_count",          "chunk_count",
    "bloom_count",       "bloom_layer_count",  "zset_member_count",     "stream_count",
    "stream_pair_count", "stream_group_count", "stream_consumer_count", "stream_pending_count"};
/* Their columns, as the restore checks them. */
static const char *const columns[T__N] = {"cache_key,type,expire_at,value,kind",
                                          "cache_key,seq,pos,field,value,kind",
                                          "cache_key,fresh_until,value,kind",
                                          "cache_key,layer,chunk,bytes",
                                          "cache_key,error_rate,capacity,expansion,nonscaling",
                                          "cache_key,layer,capacity,items,bits,hashes,error_rate",
                                          "cache_key,seq,member,kind,score,score_text",
                                          "cache_key,last_ms,last_seq,max_deleted_ms,"
                                          "max_deleted_seq,entries_added",
                                          "cache_key,ms,seq,pair,field,field_kind,value,kind",
                                          "cache_key,name,last_ms,last_seq,entries_read",
                                          "cache_key,grp,name,seen_ms,active_ms",
                                          "cache_key,grp,ms,seq,consumer,delivered_ms,deliveries",
                                          "name,value"};
static const char *const ddl[T__N] = {
    "(cache_key VARBINARY(250) NOT NULL PRIMARY KEY, type VARCHAR(8) NOT NULL,"
    " expire_at BIGINT NULL, value LONGBLOB NULL, kind VARCHAR(8) NULL)",
    "(cache_key VARBINARY(250) NOT NULL, seq BIGINT NOT NULL, pos BIGINT NULL,"
    " field LONGBLOB NULL, value LONGBLOB NULL, kind VARCHAR(8) NOT NULL,"
    " PRIMARY KEY (cache_key, seq))",
    "(cache_key VARBINARY(250) NOT NULL PRIMARY KEY, fresh_until BIGINT NOT NULL,"
    " value LONGBLOB NULL, kind VARCHAR(8) NOT NULL)",
    "(cache_key VARBINARY(250) NOT NULL, layer INT UNSIGNED NOT NULL,"
    " chunk INT UNSIGNED NOT NULL, bytes LONGBLOB NOT NULL, PRIMARY KEY (cache_key, layer, chunk))",
    "(cache_key VARBINARY(250) NOT NULL PRIMARY KEY, error_rate DOUBLE NOT NULL,"
    " capacity BIGINT UNSIGNED NOT NULL, expansion INT UNSIGNED NOT NULL,"
    " nonscaling TINYINT NOT NULL)",
    "(cache_key VARBINARY(250) NOT NULL, layer INT UNSIGNED NOT NULL,"
    " capacity BIGINT UNSIGNED NOT NULL, items BIGINT UNSIGNED NOT NULL,"
    " bits BIGINT UNSIGNED NOT NULL, hashes INT UNSIGNED NOT NULL, error_rate DOUBLE NOT NULL,"
    " PRIMARY KEY (cache_key, layer))",
    /* issue 17: score is for ordering (±inf as ±DBL_MAX: a DOUBLE column
     * holds no infinity); score_text is the score exactly ("%.17g", "inf",
     * "-inf", "-0") */
    "(cache_key VARBINARY(250) NOT NULL, seq BIGINT NOT NULL, member LONGBLOB NULL,"
    " kind VARCHAR(8) NOT NULL, score DOUBLE NOT NULL, score_text VARCHAR(32) NOT NULL,"
    " PRIMARY KEY (cache_key, seq), KEY by_score (cache_key, score))",
    "(cache_key VARBINARY(250) NOT NULL PRIMARY KEY, last_ms BIGINT UNSIGNED NOT NULL,"
    " last_seq BIGINT UNSIGNED NOT NULL, max_deleted_ms BIGINT UNSIGNED NOT NULL,"
    " max_deleted_seq BIGINT UNSIGNED NOT NULL, entries_added BIGINT UNSIGNED NOT NULL)",
    "(cache_key VARBINARY(250) NOT NULL, ms BIGINT UNSIGNED NOT NULL,"
    " seq BIGINT UNSIGNED NOT NULL, pair INT UNSIGNED NOT NULL, field LONGBLOB NULL,"
    " field_kind VARCHAR(8) NOT NULL, value LONGBLOB NULL, kind VARCHAR(8) NOT NULL,"
    " PRIMARY KEY (cache_key, ms, seq, pair))",
    "(cache_key VARBINARY(250) NOT NULL, name VARBINARY(200) NOT NULL,"
    " last_ms BIGINT UNSIGNED NOT NULL, last_seq BIGINT UNSIGNED NOT NULL,"
    " entries_read BIGINT NULL, PRIMARY KEY (cache_key, name))",
    "(cache_key VARBINARY(250) NOT NULL, grp VARBINARY(200) NOT NULL,"
    " name VARBINARY(200) NOT NULL, seen_ms BIGINT UNSIGNED NOT NULL,"
    " active_ms BIGINT UNSIGNED NULL, PRIMARY KEY (cache_key, grp, name))",
    "(cache_key VARBINARY(250) NOT NULL, grp VARBINARY(200) NOT NULL,"
    " ms BIGINT UNSIGNED NOT NULL, seq BIGINT UNSIGNED NOT NULL,"
    " consumer VARBINARY(200) NOT NULL, delivered_ms BIGINT UNSIGNED NOT NULL,"
    " deliveries BIGINT UNSIGNED NOT NULL, PRIMARY KEY (cache_key, grp, ms, seq))",
    "(name VARCHAR(64) NOT NULL PRIMARY KEY, value VARCHAR(255) NOT NULL)"};
static const char *const views[] = {
    "pycache_strings AS SELECT cache_key, value, expire_at FROM pycache_keys"
    " WHERE type='string'",
    "pycache_numerics AS SELECT cache_key, value, kind, CAST(value AS DOUBLE) AS number,"
    " expire_at FROM pycache_keys WHERE type='numeric'",
    "pycache_lists AS SELECT m.cache_key, m.pos, m.value, m.kind FROM pycache_members m"
    " JOIN pycache_keys k ON k.cache_key=m.cache_key WHERE k.type='list'"
    " ORDER BY m.cache_key, m.seq",
    "pycache_queues AS SELECT m.cache_key, m.pos, m.value, m.kind FROM pycache_members m"
    " JOIN pycache_keys k ON k.cache_key=m.cache_key WHERE k.type='queue'"
    " ORDER BY m.cache_key, m.seq",
    "pycache_maps AS SELECT m.cache_key, m.field, m.value, m.kind FROM pycache_members m"
    " JOIN pycache_keys k ON k.cache_key=m.cache_key WHERE k.type='map'"
    " ORDER BY m.cache_key, m.field",
    "pycache_sets AS SELECT m.cache_key, m.value AS member, m.kind FROM pycache_members m"
    " JOIN pycache_keys k ON k.cache_key=m.cache_key WHERE k.type='set'"
    " ORDER BY m.cache_key",
    /* issue 17 */
    "pycache_zsets AS SELECT cache_key, member, kind, score, score_text FROM"
    " pycache_zset_members ORDER BY cache_key, score,"
    " CASE score_text WHEN '-inf' THEN -1 WHEN 'inf' THEN 1 ELSE 0 END, member",
    "pycache_stream_entries AS SELECT cache_key, CONCAT(ms, '-', seq) AS id, ms, seq, pair,"
    " field, field_kind, value, kind FROM pycache_stream_pairs ORDER BY cache_key, ms, seq, pair"};

/* The server's error as ours. */
static int db_err(MYSQL *m)
{
    switch (mysql_errno(m)) {
    case 0:
        return 0;
    case 2002: /* CR_CONNECTION_ERROR: no server on the socket */
    case 2003: /* CR_CONN_HOST_ERROR: no server on the host */
    case 2005: /* CR_UNKNOWN_HOST */
        return PC_ECONNREFUSED;
    case 2006: /* CR_SERVER_GONE_ERROR */
    case 2013: /* CR_SERVER_LOST */
    case 2055: /* CR_SERVER_LOST_EXTENDED */
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1927: /* ER_CONNECTION_KILLED */
        return PC_ECONNRESET;
    case 1044: /* ER_DBACCESS_DENIED_ERROR */
    case 1045: /* ER_ACCESS_DENIED_ERROR */
    case 1142: /* ER_TABLEACCESS_DENIED_ERROR */
    case 1698: /* ER_ACCESS_DENIED_NO_PASSWORD_ERROR */
    case 2026: /* CR_SSL_CONNECTION_ERROR */
        return PC_EACCES;
    case 1049: /* ER_BAD_DB_ERROR */
        return PC_ENOENT;
    case 1021: /* ER_DISK_FULL */
    case 1114: /* ER_RECORD_FILE_FULL */
    case 3:    /* EE_WRITE (errno in the message) */
        return PC_ENOSPC;
    case 1205: /* ER_LOCK_WAIT_TIMEOUT */
    case 1412: /* ER_TABLE_DEF_CHANGED */
        return PC_EBUSY;
    case 1153: /* ER_NET_PACKET_TOO_LARGE */
    case 2020: /* CR_NET_PACKET_TOO_LARGE */
        return PC_ETOOBIG;
    case 2008: /* CR_OUT_OF_MEMORY */
        return PC_ENOMEM;
    default:
        return PC_EIO;
    }
}

/* Say what the server said, and return it as ours. */
static int db_fail(MYSQL *m, char *why, size_t whylen, const char *doing)
{
    int rc = db_err(m);
    whyf(why, whylen, "%s: %s (MariaDB error %u)", doing, mysql_error(m), mysql_errno(m));
    return rc ? rc : PC_EIO;
}

static int q_exec(MYSQL *m, const char *sql, size_t len, char *why, size_t whylen,
                  const char *doing)
{
    if (mysql_real_query(m, sql, (unsigned long)len))
        return db_fail(m, why, whylen, doing);
    MYSQL_RES *r = mysql_store_result(m);
    if (r)
        mysql_free_result(r);
    else if (mysql_field_count(m))
        return db_fail(m, why, whylen, doing);
    return 0;
}

static int q_str(MYSQL *m, const char *sql, char *why, size_t whylen, const char *doing)
{
    return q_exec(m, sql, strlen(sql), why, whylen, doing);
}

/* The password file's first line, into pw (NUL-terminated). */
static int read_password(const char *path, char *pw, size_t n, char *why, size_t whylen)
{
    int rc = pcp_db_check_password_file(path, why, whylen);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        whyf(why, whylen, "cannot read the password file %s: %s", path, strerror(errno));
        return PC_EACCES;
    }
    ssize_t got = read(fd, pw, n - 1);
    close(fd);
    if (got < 0) {
        whyf(why, whylen, "cannot read the password file %s: %s", path, strerror(errno));
        return PC_EIO;
    }
    pw[got] = 0;
    pw[strcspn(pw, "\r\n")] = 0;
    return 0;
}

/* A connection to db, with its timeouts and TLS settings. */
static int db_connect(const pcp_db *db, MYSQL **out, char *why, size_t whylen)
{
    *out = NULL;
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        whyf(why, whylen, "out of memory");
        return PC_ENOMEM;
    }
    unsigned t = db->timeout_s ? db->timeout_s : 30;
    my_bool yes = 1, no = 0;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &t);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &t);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &no);
    mysql_options(m, MYSQL_OPT_RECONNECT, &no);
    if (db->tls) {
        mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &yes);
        if (db->tls_ca[0])
            mysql_options(m, MYSQL_OPT_SSL_CA, db->tls_ca);
        if (db->tls_cert[0])
            mysql_options(m, MYSQL_OPT_SSL_CERT, db->tls_cert);
        if (db->tls_key[0])
            mysql_options(m, MYSQL_OPT_SSL_KEY, db->tls_key);
    }
    mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, db->tls && db->tls_verify ? &yes : &no);
    char pw[1024] = "";
    int rc =
        db->password_file[0] ? read_password(db->password_file, pw, sizeof pw, why, whylen) : 0;
    if (!rc && !mysql_real_connect(m, db->host, db->user, db->password_file[0] ? pw : NULL, db->db,
                                   db->port, db->socket[0] ? db->socket : NULL, 0))
        rc = db_fail(m, why, whylen, "cannot connect");
    explicit_bzero(pw, sizeof pw);
    if (!rc)
        rc = q_str(m,
                   "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO',"
                   " lock_wait_timeout=60, innodb_lock_wait_timeout=60, unique_checks=0",
                   why, whylen, "setting up the session");
    if (rc) {
        mysql_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* ---- writing ---- */

#define BATCH_BYTES (1u << 20) /* a multi-row INSERT is sent past this */

typedef struct dbw {
    MYSQL *m;
    pcs_buf q[T_META]; /* a pending INSERT for each table */
    pcs_buf row;
    size_t maxpkt;  /* the server's max_allowed_packet, less room */
    uint64_t seq;   /* the member's place in its collection */
    uint64_t pairs; /* rows of stream_pairs */
    uint64_t sent;
    char err[400];
} dbw;

static void put_s(pcs_buf *b, const char *s)
{
    pcs_buf_put(b, s, strlen(s));
}

static void put_f(pcs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_f(pcs_buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    pcs_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* X'..': any bytes, exactly. */
static void put_hex(pcs_buf *b, const void *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (pcs_buf_reserve(b, 2 * n + 3))
        return;
    uint8_t *o = b->data + b->len;
    const uint8_t *s = p;
    *o++ = 'X';
    *o++ = '\'';
    for (size_t i = 0; i < n; i++) {
        *o++ = (uint8_t)hex[s[i] >> 4];
        *o++ = (uint8_t)hex[s[i] & 15];
    }
    *o++ = '\'';
    b->len += 2 * n + 3;
}

/* A double that reads back bit for bit (a DOUBLE literal, or text). */
static void put_dbl(pcs_buf *b, double d, bool quoted)
{
    put_f(b, quoted ? "'%.17g'" : "%.17e", d);
}

/* A value's columns: value (bytes, or a number as decimal text), kind. */
static void put_val(pcs_buf *b, const pc_val *v)
{
    switch (v->kind) {
    case PC_BYTES:
        put_hex(b, v->s.ptr, v->s.len);
        break;
    case PC_INT:
        put_f(b, "'%" PRId64 "'", v->i);
        break;
    case PC_DOUBLE:
        put_dbl(b, v->d, true);
        break;
    case PC_BOOL:
        put_s(b, v->b ? "'1'" : "'0'");
        break;
    default:
        put_s(b, "NULL");
        break;
    }
    put_f(b, ",'%s'", pcp_kind_name(v->kind));
}

static int flush_table(dbw *w, int t)
{
    pcs_buf *q = &w->q[t];
    if (!q->len)
        return 0;
    if (q->err)
        return q->err;
    if (mysql_real_query(w->m, (const char *)q->data, (unsigned long)q->len)) {
        int rc = db_err(w->m);
        whyf(w->err, sizeof w->err, "%s (MariaDB error %u)", mysql_error(w->m), mysql_errno(w->m));
        return rc ? rc : PC_EIO;
    }
    w->sent += q->len;
    pcs_buf_reset(q);
    return 0;
}

/* The row built in w->row goes into table t's INSERT, which is sent when
 * it is large enough. */
static int add_row(dbw *w, int t)
{
    pcs_buf *q = &w->q[t], *r = &w->row;
    int rc;
    if (r->err)
        return r->err;
    if (r->len + 64 > w->maxpkt) {
        whyf(w->err, sizeof w->err,
             "a row of %zu bytes is larger than the server's max_allowed_packet (%zu): raise "
             "it on the server",
             r->len, w->maxpkt);
        return PC_ETOOBIG;
    }
    if (q->len && q->len + r->len + 1 > w->maxpkt && (rc = flush_table(w, t)))
        return rc;
    if (!q->len) {
        put_s(q, "INSERT INTO pycache_new_");
        put_s(q, tables[t]);
        put_s(q, " VALUES ");
    } else {
        pcs_buf_put_u8(q, ',');
    }
    pcs_buf_put(q, r->data, r->len);
    pcs_buf_reset(r);
    if (q->err)
        return q->err;
    return q->len >= BATCH_BYTES ? flush_table(w, t) : 0;
}

static int w_key(void *ctx, const pc_bytes *key, pc_type type, uint64_t expire_at,
                 const pc_val *value)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    w->seq = 0;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_f(r, ",'%s',", pcp_type_name(type));
    if (expire_at)
        put_f(r, "%" PRIu64 ",", expire_at);
    else
        put_s(r, "NULL,");
    if (value)
        put_val(r, value);
    else
        put_s(r, "NULL,NULL");
    pcs_buf_put_u8(r, ')');
    return add_row(w, T_KEYS);
}

static int w_member(void *ctx, const pc_bytes *key, int64_t pos, const pc_bytes *field,
                    const pc_val *v)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_f(r, ",%" PRIu64 ",", w->seq++);
    if (pos >= 0)
        put_f(r, "%" PRId64 ",", pos);
    else
        put_s(r, "NULL,");
    if (field)
        put_hex(r, field->ptr, field->len);
    else
        put_s(r, "NULL");
    pcs_buf_put_u8(r, ',');
    put_val(r, v);
    pcs_buf_put_u8(r, ')');
    return add_row(w, T_MEMBERS);
}

static int w_flight(void *ctx, const pc_bytes *key, uint64_t fresh_until, const pc_val *v)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_f(r, ",%" PRIu64 ",", fresh_until);
    put_val(r, v);
    pcs_buf_put_u8(r, ')');
    return add_row(w, T_FLIGHTS);
}

static int w_chunk(void *ctx, const pc_bytes *key, uint32_t layer, uint32_t idx, const void *p,
                   size_t n)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_f(r, ",%" PRIu32 ",%" PRIu32 ",", layer, idx);
    put_hex(r, p, n);
    pcs_buf_put_u8(r, ')');
    return add_row(w, T_CHUNKS);
}

static int w_bloom(void *ctx, const pc_bytes *key, double error, uint64_t capacity,
                   uint32_t expansion, bool nonscaling)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    pcs_buf_put_u8(r, ',');
    put_dbl(r, error, false);
    put_f(r, ",%" PRIu64 ",%" PRIu32 ",%d)", capacity, expansion, nonscaling ? 1 : 0);
    return add_row(w, T_BLOOMS);
}

static int w_layer(void *ctx, const pc_bytes *key, unsigned i, const pcs_bf_layer *l)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_f(r, ",%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",", i, l->capacity, l->items,
          l->bits, l->hashes);
    put_dbl(r, l->error, false);
    pcs_buf_put_u8(r, ')');
    return add_row(w, T_LAYERS);
}

/* ---- issue 17 ---- */

static void put_xid(pcs_buf *b, pc_xid id)
{
    put_f(b, ",%" PRIu64 ",%" PRIu64, id.ms, id.seq);
}

static int w_zmember(void *ctx, const pc_bytes *key, const pc_val *m, double score)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_f(r, ",%" PRIu64 ",", w->seq++);
    put_val(r, m);
    /* For ordering, then exactly. */
    pcs_buf_put_u8(r, ',');
    put_dbl(r, isinf(score) ? (score < 0 ? -DBL_MAX : DBL_MAX) : score, false);
    put_f(r, ",'%.17g')", score);
    return add_row(w, T_ZSETS);
}

static int w_stream(void *ctx, const pc_bytes *key, pc_xid last, pc_xid maxdel, uint64_t added)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    put_xid(r, last);
    put_xid(r, maxdel);
    put_f(r, ",%" PRIu64 ")", added);
    return add_row(w, T_STREAMS);
}

static int w_xentry(void *ctx, const pc_bytes *key, pc_xid id, const pc_val *fv, size_t npairs)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    int rc = 0;
    for (size_t i = 0; i < npairs && !rc; i++) {
        pcs_buf_put_u8(r, '(');
        put_hex(r, key->ptr, key->len);
        put_xid(r, id);
        put_f(r, ",%zu,", i);
        put_val(r, &fv[2 * i]);
        pcs_buf_put_u8(r, ',');
        put_val(r, &fv[2 * i + 1]);
        pcs_buf_put_u8(r, ')');
        rc = add_row(w, T_XPAIRS);
        w->pairs += !rc;
    }
    return rc;
}

static int w_xgroup(void *ctx, const pc_bytes *key, const pc_bytes *group, pc_xid last,
                    int64_t entries_read)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    pcs_buf_put_u8(r, ',');
    put_hex(r, group->ptr, group->len);
    put_xid(r, last);
    if (entries_read < 0)
        put_s(r, ",NULL)");
    else
        put_f(r, ",%" PRId64 ")", entries_read);
    return add_row(w, T_XGROUPS);
}

static int w_xpending(void *ctx, const pc_bytes *key, const pc_bytes *group, pc_xid id,
                      const pc_bytes *consumer, uint64_t delivered_ms, uint64_t deliveries)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    pcs_buf_put_u8(r, ',');
    put_hex(r, group->ptr, group->len);
    put_xid(r, id);
    pcs_buf_put_u8(r, ',');
    put_hex(r, consumer->ptr, consumer->len);
    put_f(r, ",%" PRIu64 ",%" PRIu64 ")", delivered_ms, deliveries);
    return add_row(w, T_XPEND);
}

static int w_xconsumer(void *ctx, const pc_bytes *key, const pc_bytes *group,
                       const pc_bytes *consumer, uint64_t seen_ms, uint64_t active_ms)
{
    dbw *w = ctx;
    pcs_buf *r = &w->row;
    pcs_buf_put_u8(r, '(');
    put_hex(r, key->ptr, key->len);
    pcs_buf_put_u8(r, ',');
    put_hex(r, group->ptr, group->len);
    pcs_buf_put_u8(r, ',');
    put_hex(r, consumer->ptr, consumer->len);
    put_f(r, ",%" PRIu64 ",", seen_ms);
    if (active_ms)
        put_f(r, "%" PRIu64 ")", active_ms);
    else
        put_s(r, "NULL)");
    return add_row(w, T_XCONS);
}

static const char *w_errmsg(void *ctx)
{
    return ((dbw *)ctx)->err;
}

/* The names of every table of a snapshot with prefix, comma-separated. */
static void table_list(char *out, size_t n, const char *prefix)
{
    size_t o = 0;
    out[0] = 0;
    for (int t = 0; t < T__N && o < n; t++)
        o += (size_t)snprintf(out + o, n - o, "%s%s%s", t ? ", " : "", prefix, tables[t]);
}

/* Which live tables exist: bit t for pycache_<tables[t]>; bit T__N + t for
 * pycache_new_<tables[t]>. */
static int tables_present(MYSQL *m, unsigned *mask, char *why, size_t whylen)
{
    *mask = 0;
    const char *sql = "SELECT table_name FROM information_schema.tables"
                      " WHERE table_schema = DATABASE() AND table_name LIKE 'pycache\\_%'";
    if (mysql_query(m, sql))
        return db_fail(m, why, whylen, "listing the tables");
    MYSQL_RES *r = mysql_store_result(m);
    if (!r)
        return db_fail(m, why, whylen, "listing the tables");
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r))) {
        for (int t = 0; t < T__N; t++) {
            char live[40], staged[40];
            snprintf(live, sizeof live, "pycache_%s", tables[t]);
            snprintf(staged, sizeof staged, "pycache_new_%s", tables[t]);
            if (row[0] && !strcmp(row[0], live))
                *mask |= 1u << t;
            if (row[0] && !strcmp(row[0], staged))
                *mask |= 1u << (T__N + t);
        }
    }
    mysql_free_result(r);
    return 0;
}

/* Swap the new tables in: live -> pycache_old_*, new -> live, in one
 * RENAME TABLE; then the views (over the live names). */
static int swap_in(MYSQL *m, char *why, size_t whylen)
{
    char sql[4096], list[1024];
    table_list(list, sizeof list, "pycache_old_");
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", list);
    int rc = q_str(m, sql, why, whylen, "dropping the backup of the snapshot before last");
    unsigned have;
    if (rc || (rc = tables_present(m, &have, why, whylen)))
        return rc;
    size_t o = (size_t)snprintf(sql, sizeof sql, "RENAME TABLE ");
    for (int t = 0; t < T__N; t++)
        if (have & (1u << t))
            o += (size_t)snprintf(sql + o, sizeof sql - o, "pycache_%s TO pycache_old_%s, ",
                                  tables[t], tables[t]);
    for (int t = 0; t < T__N; t++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, "pycache_new_%s TO pycache_%s%s", tables[t],
                              tables[t], t + 1 < T__N ? ", " : "");
    if ((rc = q_str(m, sql, why, whylen, "swapping the new snapshot in (RENAME TABLE)")))
        return rc;
    for (size_t i = 0; i < sizeof views / sizeof views[0] && !rc; i++) {
        snprintf(sql, sizeof sql, "CREATE OR REPLACE VIEW %s", views[i]);
        rc = q_str(m, sql, why, whylen, "creating the views");
    }
    return rc;
}

int pcp_db_snapshot(const pcs_store *st, pcs_rtxns *rt, const pcp_db *db, uint64_t generation,
                    bool end_reads, pcp_result *res)
{
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", db->url);
    res->generation = generation;
    uint64_t t0 = pcs_now_ms();
    dbw w = {0};
    char sql[2048], list[1024];
    int rc = db_connect(db, &w.m, res->why, sizeof res->why);
    if (rc)
        goto out;
    /* Room for the statement around a row: the server refuses a packet
     * past max_allowed_packet. */
    w.maxpkt = 1u << 20;
    if (!mysql_query(w.m, "SELECT @@max_allowed_packet")) {
        MYSQL_RES *r = mysql_store_result(w.m);
        MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
        if (row && row[0])
            w.maxpkt = (size_t)strtoull(row[0], NULL, 10) - 1024;
        if (r)
            mysql_free_result(r);
    }
    /* What a killed snapshot left, then new tables. */
    table_list(list, sizeof list, "pycache_new_");
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", list);
    if ((rc = q_str(w.m, sql, res->why, sizeof res->why, "dropping an unfinished snapshot")))
        goto out;
    for (int t = 0; t < T__N && !rc; t++) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE pycache_new_%s %s ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", tables[t],
                 ddl[t]);
        rc = q_str(w.m, sql, res->why, sizeof res->why, "creating the tables");
    }
    if (rc || (rc = q_str(w.m, "START TRANSACTION", res->why, sizeof res->why, "beginning")))
        goto out;
    pcp_sink sink = {.ctx = &w,
                     .key = w_key,
                     .member = w_member,
                     .flight = w_flight,
                     .chunk = w_chunk,
                     .bloom = w_bloom,
                     .layer = w_layer,
                     .zmember = w_zmember,
                     .stream = w_stream,
                     .xentry = w_xentry,
                     .xgroup = w_xgroup,
                     .xpending = w_xpending,
                     .xconsumer = w_xconsumer,
                     .errmsg = w_errmsg};
    pcp_counts cnt;
    if ((rc = pcp_walk(st, rt, end_reads, t0, &sink, &cnt, res->why, sizeof res->why)))
        goto out;
    for (int t = 0; t < T_META && !rc; t++)
        rc = flush_table(&w, t);
    if (rc) {
        whyf(res->why, sizeof res->why, "writing the rows: %s", w.err);
        goto out;
    }
    uint64_t took = pcs_now_ms() - t0;
    const struct {
        const char *name;
        uint64_t v;
    } meta[] = {{"format", PCP_FORMAT},
                {"created_ms", t0},
                {"generation", generation},
                {"took_ms", took},
                {"key_count", cnt.keys},
                {"member_count", cnt.members},
                {"flight_count", cnt.flights},
                {"chunk_count", cnt.chunks},
                {"bloom_count", cnt.blooms},
                {"bloom_layer_count", cnt.layers},
                {"zset_member_count", cnt.zmembers},
                {"stream_count", cnt.streams},
                {"stream_entry_count", cnt.xentries},
                {"stream_pair_count", w.pairs},
                {"stream_group_count", cnt.xgroups},
                {"stream_consumer_count", cnt.xconsumers},
                {"stream_pending_count", cnt.xpending},
                {"shards", st->nshards}};
    pcs_buf *q = &w.q[0];
    put_s(q, "INSERT INTO pycache_new_meta VALUES "
             "('schema','pycache'),('pycache_version','" PACKAGE_VERSION "')");
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        put_f(q, ",('%s','%" PRIu64 "')", meta[i].name, meta[i].v);
    if ((rc = q->err) ||
        (rc = q_exec(w.m, (const char *)q->data, q->len, res->why, sizeof res->why,
                     "writing the meta table")) ||
        (rc = q_str(w.m, "COMMIT", res->why, sizeof res->why, "committing the new tables")) ||
        (rc = swap_in(w.m, res->why, sizeof res->why)))
        goto out;
    w.sent += q->len;
    res->keys = cnt.keys;
    res->members = cnt.members;
    res->bytes = w.sent;
out:
    if (rc && !*res->why)
        whyf(res->why, sizeof res->why, "%s", pc_strerror(rc));
    if (rc == PC_ENOSPC) {
        char was[sizeof res->why];
        snprintf(was, sizeof was, "%s", res->why);
        whyf(res->why, sizeof res->why,
             "no room on the database server (its disk or its table space is full): %s", was);
    }
    /* A failed snapshot's tables go now when the server still answers (the
     * next snapshot drops them otherwise); the live ones were not touched. */
    if (rc && w.m && !mysql_ping(w.m)) {
        char ignored[64];
        mysql_query(w.m, "ROLLBACK");
        table_list(list, sizeof list, "pycache_new_");
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", list);
        q_str(w.m, sql, ignored, sizeof ignored, "");
    }
    for (int t = 0; t < T_META; t++)
        pcs_buf_free(&w.q[t]);
    pcs_buf_free(&w.row);
    if (w.m)
        mysql_close(w.m);
    res->when_ms = pcs_now_ms();
    res->took_ms = res->when_ms - t0;
    return res->rc = rc;
}

/* ---- restoring ---- */

typedef struct dbr {
    MYSQL *m;
    pcp_loadset ls;
    pcp_result *res;
    uint64_t now;
    uint64_t seen[T_META]; /* rows taken, by table (keys: loaded or expired) */
    uint64_t want[T_META]; /* rows meta says there are */
    bool before17;         /* a snapshot without issue 17's tables */
    pcs_buf arena;         /* a collection's bytes */
    struct pend {
        size_t foff, flen, voff, vlen;
        pc_val v;
        bool field;
    } * pend;
    size_t npend, pcap;
    pc_val *items;
    size_t icap;
} dbr;

/* A decimal integer column, whole. */
static int cell_i64(const char *p, unsigned long n, int64_t *v)
{
    char b[32];
    if (!p || n == 0 || n >= sizeof b)
        return PC_ECORRUPT;
    memcpy(b, p, n);
    b[n] = 0;
    char *end;
    errno = 0;
    long long x = strtoll(b, &end, 10);
    if (errno || *end)
        return PC_ECORRUPT;
    *v = x;
    return 0;
}

static int cell_dbl(const char *p, unsigned long n, double *v)
{
    char b[64];
    if (!p || n == 0 || n >= sizeof b)
        return PC_ECORRUPT;
    memcpy(b, p, n);
    b[n] = 0;
    char *end;
    *v = strtod(b, &end);
    return *end ? PC_ECORRUPT : 0;
}

/* A value as its kind says (bytes point into the row). */
static int cell_val(const char *p, unsigned long n, const char *kind, unsigned long kn, pc_val *v)
{
    int64_t i;
    switch (kind ? pcp_kind_of(kind, kn) : 0) {
    case PC_NIL:
        *v = pc_nil();
        return p ? PC_ECORRUPT : 0;
    case PC_BYTES:
        *v = pc_mem(p ? p : "", n);
        return p ? 0 : PC_ECORRUPT;
    case PC_INT:
        *v = pc_int(0);
        return cell_i64(p, n, &v->i);
    case PC_DOUBLE:
        *v = pc_dbl(0);
        return cell_dbl(p, n, &v->d);
    case PC_BOOL:
        if (cell_i64(p, n, &i) || (i != 0 && i != 1))
            return PC_ECORRUPT;
        *v = pc_bool(i != 0);
        return 0;
    default:
        return PC_ECORRUPT;
    }
}

/* Expiry: 0 for none; PC_ECORRUPT for a bad one. */
static int cell_expiry(const char *p, unsigned long n, uint64_t *e)
{
    int64_t v;
    *e = 0;
    if (!p)
        return 0;
    if (cell_i64(p, n, &v) || v <= 0)
        return PC_ECORRUPT;
    *e = (uint64_t)v;
    return 0;
}

static int run_use(dbr *r, const char *sql, MYSQL_RES **out)
{
    *out = NULL;
    if (mysql_query(r->m, sql) || !(*out = mysql_use_result(r->m)))
        return db_fail(r->m, r->res->why, sizeof r->res->why, "reading the snapshot");
    return 0;
}

/* The end of a streamed result: a server error in the middle shows here. */
static int end_use(dbr *r, MYSQL_RES *q, int rc)
{
    if (!rc && mysql_errno(r->m))
        rc = db_fail(r->m, r->res->why, sizeof r->res->why, "reading the snapshot");
    mysql_free_result(q);
    return rc;
}

/* Strings and Numerics: key, type, expire_at, value, kind. */
static int load_scalars(dbr *r)
{
    MYSQL_RES *q;
    int rc = run_use(r,
                     "SELECT cache_key, type, expire_at, value, kind FROM pycache_keys"
                     " WHERE type IN ('string', 'numeric')",
                     &q);
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        uint64_t exp;
        pc_val v;
        int type = row[1] ? pcp_type_of(row[1], len[1]) : 0;
        if (!row[0] || pcs_key_ok(row[0], len[0]) || cell_expiry(row[2], len[2], &exp) ||
            cell_val(row[3], len[3], row[4], len[4], &v) || v.kind == PC_NIL ||
            (type == PC_T_STRING) != (v.kind == PC_BYTES)) {
            rc = PC_ECORRUPT;
            break;
        }
        r->seen[T_KEYS]++;
        if (exp && exp <= r->now) {
            r->res->skipped++;
            continue;
        }
        rc = pcp_load_err(pcs_load_record(pcp_load_shard(&r->ls, row[0], len[0]), row[0], len[0],
                                          (pc_type)type, exp, &v, NULL, 0),
                          true);
        r->res->keys += !rc;
    }
    return end_use(r, q, rc);
}

/* Load the collection gathered in r->pend. */
static int coll_done(dbr *r, const uint8_t *key, size_t klen, int type, uint64_t exp)
{
    size_t need = type == PC_T_MAP ? 2 * r->npend : r->npend;
    if (need > r->icap) {
        pc_val *ni = pcs_reallocarray(r->items, need, sizeof *ni);
        if (!ni)
            return PC_ENOMEM;
        r->items = ni;
        r->icap = need;
    }
    size_t j = 0;
    for (size_t i = 0; i < r->npend; i++) {
        struct pend *p = &r->pend[i];
        if (p->field)
            r->items[j++] = pc_mem(r->arena.data + p->foff, p->flen);
        else if (type == PC_T_MAP)
            return PC_ECORRUPT;
        r->items[j++] = p->v.kind == PC_BYTES ? pc_mem(r->arena.data + p->voff, p->vlen) : p->v;
    }
    r->npend = 0;
    pcs_buf_reset(&r->arena);
    r->seen[T_KEYS]++;
    if (exp && exp <= r->now) {
        r->res->skipped++;
        return 0;
    }
    int rc = pcp_load_err(pcs_load_record(pcp_load_shard(&r->ls, key, klen), key, klen,
                                          (pc_type)type, exp, NULL, r->items, j),
                          false);
    r->res->keys += !rc;
    return rc;
}

/* Lists, Maps, Sets, Queues: their members in order, key by key. */
static int load_colls(dbr *r)
{
    MYSQL_RES *q;
    int rc = run_use(r,
                     "SELECT pycache_keys.cache_key, type, expire_at, field,"
                     " pycache_members.value, pycache_members.kind, pycache_keys.value"
                     " FROM pycache_keys JOIN pycache_members"
                     " ON pycache_members.cache_key = pycache_keys.cache_key"
                     " WHERE type IN ('list', 'map', 'set', 'queue')"
                     " ORDER BY pycache_members.cache_key, seq",
                     &q);
    uint8_t key[PC_KEY_MAX];
    size_t klen = 0;
    int type = 0;
    uint64_t exp = 0;
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        if (!row[0] || pcs_key_ok(row[0], len[0]) || row[6]) {
            rc = PC_ECORRUPT;
            break;
        }
        if (klen && (len[0] != klen || memcmp(row[0], key, klen))) {
            if ((rc = coll_done(r, key, klen, type, exp)))
                break;
            klen = 0;
        }
        if (!klen) {
            memcpy(key, row[0], len[0]);
            klen = len[0];
            type = pcp_type_of(row[1], len[1]);
            if (cell_expiry(row[2], len[2], &exp)) {
                rc = PC_ECORRUPT;
                break;
            }
        }
        pc_val v;
        if (cell_val(row[4], len[4], row[5], len[5], &v) || (type == PC_T_MAP) != !!row[3]) {
            rc = PC_ECORRUPT;
            break;
        }
        if (r->npend == r->pcap) {
            size_t nc = r->pcap ? 2 * r->pcap : 64;
            struct pend *np = pcs_reallocarray(r->pend, nc, sizeof *np);
            if (!np) {
                rc = PC_ENOMEM;
                break;
            }
            r->pend = np;
            r->pcap = nc;
        }
        struct pend *p = &r->pend[r->npend++];
        memset(p, 0, sizeof *p);
        p->v = v;
        if (row[3]) {
            p->field = true;
            p->foff = r->arena.len;
            p->flen = len[3];
            pcs_buf_put(&r->arena, row[3], len[3]);
        }
        if (v.kind == PC_BYTES) {
            p->voff = r->arena.len;
            p->vlen = v.s.len;
            pcs_buf_put(&r->arena, v.s.ptr, v.s.len);
        }
        if ((rc = r->arena.err))
            break;
        r->seen[T_MEMBERS]++;
    }
    if (!rc && klen)
        rc = coll_done(r, key, klen, type, exp);
    return end_use(r, q, rc);
}

/* Flights: key, expire_at (its stale end), fresh_until, value, kind. */
static int load_flights(dbr *r)
{
    MYSQL_RES *q;
    int rc = run_use(r,
                     "SELECT pycache_keys.cache_key, expire_at, fresh_until,"
                     " pycache_flights.value, pycache_flights.kind, pycache_keys.value"
                     " FROM pycache_keys JOIN pycache_flights"
                     " ON pycache_flights.cache_key = pycache_keys.cache_key"
                     " WHERE type = 'flight'",
                     &q);
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        uint64_t exp;
        int64_t fresh;
        pc_val v;
        if (!row[0] || pcs_key_ok(row[0], len[0]) || cell_expiry(row[1], len[1], &exp) || !exp ||
            cell_i64(row[2], len[2], &fresh) || fresh <= 0 ||
            cell_val(row[3], len[3], row[4], len[4], &v) || row[5]) {
            rc = PC_ECORRUPT;
            break;
        }
        r->seen[T_KEYS]++;
        r->seen[T_FLIGHTS]++;
        if (exp <= r->now) {
            r->res->skipped++;
            continue;
        }
        rc = pcp_load_err(pcs_load_flight(pcp_load_shard(&r->ls, row[0], len[0]), row[0], len[0],
                                          exp, (uint64_t)fresh, &v),
                          false);
        r->res->keys += !rc;
    }
    return end_use(r, q, rc);
}

/* One chunk row (layer, chunk, bytes) into r; skip: count it only. */
static int load_chunk(dbr *r, pcs_wctx *w, pcs_rec *rec, char **c, unsigned long *len, bool skip)
{
    int64_t layer, idx;
    if (cell_i64(c[0], len[0], &layer) || cell_i64(c[1], len[1], &idx) || !c[2] || layer < 0 ||
        layer > UINT32_MAX || idx < 0 || idx > UINT32_MAX)
        return PC_ECORRUPT;
    r->seen[T_CHUNKS]++;
    return skip ? 0
                : pcp_load_err(pcs_load_chunk(w, rec, (uint32_t)layer, (uint32_t)idx, c[2], len[2]),
                               false);
}

/* Bit arrays: key, expire_at, length in bytes, then its chunks (none for
 * an all-zero array). */
static int load_bits(dbr *r)
{
    MYSQL_RES *q;
    int rc = run_use(r,
                     "SELECT pycache_keys.cache_key, expire_at, value, kind, layer, chunk, bytes"
                     " FROM pycache_keys LEFT JOIN pycache_chunks"
                     " ON pycache_chunks.cache_key = pycache_keys.cache_key"
                     " WHERE type = 'bits' ORDER BY pycache_keys.cache_key, layer, chunk",
                     &q);
    uint8_t key[PC_KEY_MAX];
    size_t klen = 0;
    bool skip = false;
    pcs_rec rec;
    pcs_wctx *w = NULL;
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        if (!row[0] || pcs_key_ok(row[0], len[0])) {
            rc = PC_ECORRUPT;
            break;
        }
        if (klen && (len[0] != klen || memcmp(row[0], key, klen))) {
            if (!skip && (rc = pcp_load_err(pcs_load_done(w, key, klen, &rec), false)))
                break;
            r->res->keys += !skip;
            klen = 0;
        }
        if (!klen) {
            uint64_t exp;
            pc_val n;
            if (cell_expiry(row[1], len[1], &exp) || cell_val(row[2], len[2], row[3], len[3], &n) ||
                n.kind != PC_INT || n.i <= 0) {
                rc = PC_ECORRUPT;
                break;
            }
            memcpy(key, row[0], len[0]);
            klen = len[0];
            r->seen[T_KEYS]++;
            skip = exp && exp <= r->now;
            r->res->skipped += skip;
            w = pcp_load_shard(&r->ls, key, klen);
            if (!skip &&
                (rc = pcp_load_err(pcs_load_bits(w, key, klen, exp, (uint64_t)n.i, &rec), false)))
                break;
        }
        if (row[4] && (rc = load_chunk(r, w, &rec, row + 4, len + 4, skip)))
            break;
    }
    if (!rc && klen && !skip && !(rc = pcp_load_err(pcs_load_done(w, key, klen, &rec), false)))
        r->res->keys++;
    return end_use(r, q, rc);
}

/* A statement of one Bloom filter's rows: sql with the key as X'..'. */
static int bloom_query(dbr *r, const char *head, const char *tail, const void *key, size_t klen,
                       MYSQL_RES **q)
{
    pcs_buf b = PCS_BUF_INIT;
    put_s(&b, head);
    put_hex(&b, key, klen);
    put_s(&b, tail);
    int rc = b.err;
    if (!rc && (mysql_real_query(r->m, (const char *)b.data, (unsigned long)b.len) ||
                !(*q = mysql_store_result(r->m))))
        rc = db_fail(r->m, r->res->why, sizeof r->res->why, "reading the snapshot");
    pcs_buf_free(&b);
    return rc;
}

/* One Bloom filter (its settings in row), its layers and chunks. */
static int load_one_bloom(dbr *r, char **row, unsigned long *len)
{
    uint64_t exp;
    int64_t cap, expansion, ns;
    double error;
    if (!row[0] || pcs_key_ok(row[0], len[0]) || cell_expiry(row[1], len[1], &exp) || row[2] ||
        cell_dbl(row[3], len[3], &error) || cell_i64(row[4], len[4], &cap) || cap <= 0 ||
        cell_i64(row[5], len[5], &expansion) || expansion <= 0 || expansion > UINT32_MAX ||
        cell_i64(row[6], len[6], &ns) || (ns != 0 && ns != 1))
        return PC_ECORRUPT;
    uint8_t key[PC_KEY_MAX];
    size_t klen = len[0];
    memcpy(key, row[0], klen);
    r->seen[T_KEYS]++;
    r->seen[T_BLOOMS]++;
    bool skip = exp && exp <= r->now;
    r->res->skipped += skip;
    MYSQL_RES *q;
    int rc = bloom_query(r,
                         "SELECT layer, capacity, items, bits, hashes, error_rate"
                         " FROM pycache_bloom_layers WHERE cache_key = ",
                         " ORDER BY layer", key, klen, &q);
    if (rc)
        return rc;
    pcs_bf_layer layers[PCS_BF_MAX_LAYERS];
    unsigned n = 0;
    MYSQL_ROW lr;
    while (!rc && (lr = mysql_fetch_row(q))) {
        unsigned long *ll = mysql_fetch_lengths(q);
        int64_t f[5];
        for (int c = 0; c < 5 && !rc; c++)
            rc = cell_i64(lr[c], ll[c], &f[c]) || f[c] < 0 ? PC_ECORRUPT : 0;
        if (rc || n == PCS_BF_MAX_LAYERS || f[0] != n || f[4] > UINT32_MAX ||
            cell_dbl(lr[5], ll[5], &layers[n].error)) {
            rc = PC_ECORRUPT;
            break;
        }
        layers[n].capacity = (uint64_t)f[1];
        layers[n].items = (uint64_t)f[2];
        layers[n].bits = (uint64_t)f[3];
        layers[n].hashes = (uint32_t)f[4];
        n++;
        r->seen[T_LAYERS]++;
    }
    mysql_free_result(q);
    pcs_wctx *w = pcp_load_shard(&r->ls, key, klen);
    pcs_rec rec;
    if (!rc && !skip)
        rc = pcp_load_err(pcs_load_bloom(w, key, klen, exp, error, (uint64_t)cap,
                                         (uint32_t)expansion, ns ? PCS_BF_NONSCALING : 0, layers, n,
                                         &rec),
                          false);
    if (rc ||
        (rc = bloom_query(r, "SELECT layer, chunk, bytes FROM pycache_chunks WHERE cache_key = ",
                          " ORDER BY layer, chunk", key, klen, &q)))
        return rc;
    while (!rc && (lr = mysql_fetch_row(q)))
        rc = load_chunk(r, w, &rec, lr, mysql_fetch_lengths(q), skip);
    mysql_free_result(q);
    if (!rc && !skip && !(rc = pcp_load_err(pcs_load_done(w, key, klen, &rec), false)))
        r->res->keys++;
    return rc;
}

/* Each row of sql through one(): the rows are stored first, as one() runs
 * queries of its own (a key's chunks, members or entries). */
static int load_each_stored(dbr *r, const char *sql,
                            int (*one)(dbr *r, char **row, unsigned long *len))
{
    MYSQL_RES *q;
    if (mysql_query(r->m, sql) || !(q = mysql_store_result(r->m)))
        return db_fail(r->m, r->res->why, sizeof r->res->why, "reading the snapshot");
    int rc = 0;
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q)))
        rc = one(r, row, mysql_fetch_lengths(q));
    mysql_free_result(q);
    return rc;
}

static int load_blooms(dbr *r)
{
    return load_each_stored(
        r,
        "SELECT pycache_keys.cache_key, expire_at, pycache_keys.value,"
        " error_rate, capacity, expansion, nonscaling FROM pycache_keys"
        " JOIN pycache_blooms ON pycache_blooms.cache_key = pycache_keys.cache_key"
        " WHERE type = 'bloom'",
        load_one_bloom);
}

/* ---- issue 17 ---- */

/* An unsigned decimal column, whole. */
static int cell_u64(const char *p, unsigned long n, uint64_t *v)
{
    char b[32];
    if (!p || n == 0 || n >= sizeof b || *p < '0' || *p > '9')
        return PC_ECORRUPT;
    memcpy(b, p, n);
    b[n] = 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(b, &end, 10);
    if (errno || *end)
        return PC_ECORRUPT;
    *v = x;
    return 0;
}

static int cell_xid(char **c, unsigned long *len, pc_xid *id)
{
    uint64_t ms, seq;
    if (cell_u64(c[0], len[0], &ms) || cell_u64(c[1], len[1], &seq))
        return PC_ECORRUPT;
    *id = pc_xid_make(ms, seq);
    return 0;
}

/* Sorted sets: key, expire_at, value (none), then each member, kind and
 * exact score, in the order written. */
static int load_zsets(dbr *r)
{
    MYSQL_RES *q;
    int rc = run_use(r,
                     "SELECT pycache_keys.cache_key, expire_at, pycache_keys.value, member,"
                     " pycache_zset_members.kind, score_text FROM pycache_keys"
                     " JOIN pycache_zset_members"
                     " ON pycache_zset_members.cache_key = pycache_keys.cache_key"
                     " WHERE type = 'zset' ORDER BY pycache_zset_members.cache_key, seq",
                     &q);
    uint8_t key[PC_KEY_MAX];
    size_t klen = 0;
    bool skip = false;
    pcs_rec rec;
    pcs_wctx *w = NULL;
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        if (!row[0] || pcs_key_ok(row[0], len[0]) || row[2]) {
            rc = PC_ECORRUPT;
            break;
        }
        if (klen && (len[0] != klen || memcmp(row[0], key, klen))) {
            if (!skip && (rc = pcp_load_err(pcs_load_zdone(w, key, klen, &rec), false)))
                break;
            r->res->keys += !skip;
            klen = 0;
        }
        if (!klen) {
            uint64_t exp;
            if (cell_expiry(row[1], len[1], &exp)) {
                rc = PC_ECORRUPT;
                break;
            }
            memcpy(key, row[0], len[0]);
            klen = len[0];
            r->seen[T_KEYS]++;
            skip = exp && exp <= r->now;
            r->res->skipped += skip;
            w = pcp_load_shard(&r->ls, key, klen);
            if (!skip && (rc = pcp_load_err(pcs_load_zset(w, key, klen, exp, &rec), false)))
                break;
        }
        pc_val m;
        double score;
        if (cell_val(row[3], len[3], row[4], len[4], &m) || cell_dbl(row[5], len[5], &score)) {
            rc = PC_ECORRUPT;
            break;
        }
        r->seen[T_ZSETS]++;
        if (!skip)
            rc = pcp_load_err(pcs_load_zmember(w, &rec, &m, score), false);
    }
    if (!rc && klen && !skip && !(rc = pcp_load_err(pcs_load_zdone(w, key, klen, &rec), false)))
        r->res->keys++;
    return end_use(r, q, rc);
}

/* A name column (a group's, a consumer's). */
static int cell_name(const char *p, unsigned long n)
{
    return pcs_xname_ok(p, n) ? 0 : PC_ECORRUPT;
}

/* The entries of one Stream, in ID order, pair by pair (rows of q). */
static int load_xentries(dbr *r, pcs_wctx *w, pcs_rec *rec, MYSQL_RES *q, bool skip)
{
    pc_xid cur = {0, 0}, id;
    size_t n = 0;
    int rc = 0;
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        int64_t pair;
        if (cell_xid(row, len, &id) || cell_i64(row[2], len[2], &pair) || pair < 0)
            return PC_ECORRUPT;
        if (n && pc_xid_cmp(id, cur) != 0) {
            if (!skip && (rc = pcp_load_err(pcs_load_xentry(w, rec, cur, r->items, n / 2), false)))
                break;
            n = 0;
        }
        if ((size_t)pair != n / 2)
            return PC_ECORRUPT; /* pairs 0, 1, ... of each entry */
        cur = id;
        if (n + 2 > r->icap) {
            size_t cap = r->icap ? 2 * r->icap : 64;
            pc_val *ni = pcs_reallocarray(r->items, cap, sizeof *ni);
            if (!ni)
                return PC_ENOMEM;
            r->items = ni;
            r->icap = cap;
        }
        /* Views into the stored result: whole until it is freed. */
        if (cell_val(row[3], len[3], row[4], len[4], &r->items[n]) ||
            cell_val(row[5], len[5], row[6], len[6], &r->items[n + 1]))
            return PC_ECORRUPT;
        n += 2;
        r->seen[T_XPAIRS]++;
    }
    if (!rc && n && !skip)
        rc = pcp_load_err(pcs_load_xentry(w, rec, cur, r->items, n / 2), false);
    return rc;
}

/* One Stream (its figures in row): entries, groups, consumers, pending
 * entries. */
static int load_one_stream(dbr *r, char **row, unsigned long *len)
{
    uint64_t exp, added;
    pc_xid last, maxdel;
    if (!row[0] || pcs_key_ok(row[0], len[0]) || cell_expiry(row[1], len[1], &exp) || row[2] ||
        cell_xid(row + 3, len + 3, &last) || cell_xid(row + 5, len + 5, &maxdel) ||
        cell_u64(row[7], len[7], &added))
        return PC_ECORRUPT;
    uint8_t key[PC_KEY_MAX];
    size_t klen = len[0];
    memcpy(key, row[0], klen);
    r->seen[T_KEYS]++;
    r->seen[T_STREAMS]++;
    bool skip = exp && exp <= r->now;
    r->res->skipped += skip;
    pcs_wctx *w = pcp_load_shard(&r->ls, key, klen);
    pcs_rec rec;
    int rc = 0;
    if (!skip)
        rc = pcp_load_err(pcs_load_stream(w, key, klen, exp, last, maxdel, added, &rec), false);
    MYSQL_RES *q;
    if (rc || (rc = bloom_query(r,
                                "SELECT ms, seq, pair, field, field_kind, value, kind"
                                " FROM pycache_stream_pairs WHERE cache_key = ",
                                " ORDER BY ms, seq, pair", key, klen, &q)))
        return rc;
    rc = load_xentries(r, w, &rec, q, skip);
    mysql_free_result(q);
    if (rc || (rc = bloom_query(r,
                                "SELECT name, last_ms, last_seq, entries_read"
                                " FROM pycache_stream_groups WHERE cache_key = ",
                                " ORDER BY name", key, klen, &q)))
        return rc;
    MYSQL_ROW g;
    while (!rc && (g = mysql_fetch_row(q))) {
        unsigned long *gl = mysql_fetch_lengths(q);
        pc_xid id;
        int64_t read = -1;
        if (cell_name(g[0], gl[0]) || cell_xid(g + 1, gl + 1, &id) ||
            (g[3] && (cell_i64(g[3], gl[3], &read) || read < 0)))
            rc = PC_ECORRUPT;
        else if (r->seen[T_XGROUPS]++, !skip)
            rc = pcp_load_err(pcs_load_xgroup(w, &rec, g[0], gl[0], id, read), false);
    }
    mysql_free_result(q);
    if (rc || (rc = bloom_query(r,
                                "SELECT grp, name, seen_ms, active_ms"
                                " FROM pycache_stream_consumers WHERE cache_key = ",
                                " ORDER BY grp, name", key, klen, &q)))
        return rc;
    while (!rc && (g = mysql_fetch_row(q))) {
        unsigned long *gl = mysql_fetch_lengths(q);
        uint64_t seen, active = 0;
        if (cell_name(g[0], gl[0]) || cell_name(g[1], gl[1]) || cell_u64(g[2], gl[2], &seen) ||
            (g[3] && cell_u64(g[3], gl[3], &active)))
            rc = PC_ECORRUPT;
        else if (r->seen[T_XCONS]++, !skip)
            rc = pcp_load_err(pcs_load_xconsumer(w, &rec, g[0], gl[0], g[1], gl[1], seen, active),
                              false);
    }
    mysql_free_result(q);
    if (rc || (rc = bloom_query(r,
                                "SELECT grp, ms, seq, consumer, delivered_ms, deliveries"
                                " FROM pycache_stream_pending WHERE cache_key = ",
                                " ORDER BY grp, ms, seq", key, klen, &q)))
        return rc;
    while (!rc && (g = mysql_fetch_row(q))) {
        unsigned long *gl = mysql_fetch_lengths(q);
        pc_xid id;
        uint64_t time, count;
        if (cell_name(g[0], gl[0]) || cell_xid(g + 1, gl + 1, &id) || cell_name(g[3], gl[3]) ||
            cell_u64(g[4], gl[4], &time) || cell_u64(g[5], gl[5], &count))
            rc = PC_ECORRUPT;
        else if (r->seen[T_XPEND]++, !skip)
            rc = pcp_load_err(pcs_load_xpending(w, &rec, g[0], gl[0], id, g[3], gl[3], time, count),
                              false);
    }
    mysql_free_result(q);
    if (!rc && !skip && !(rc = pcp_load_err(pcs_load_done(w, key, klen, &rec), false)))
        r->res->keys++;
    return rc;
}

static int load_streams(dbr *r)
{
    return load_each_stored(r,
                            "SELECT pycache_keys.cache_key, expire_at, pycache_keys.value, last_ms,"
                            " last_seq, max_deleted_ms, max_deleted_seq, entries_added"
                            " FROM pycache_keys JOIN pycache_streams"
                            " ON pycache_streams.cache_key = pycache_keys.cache_key"
                            " WHERE type = 'stream'",
                            load_one_stream);
}

/*
 * Is what db holds a whole snapshot of ours?  Its tables and their
 * columns, then (in the transaction the loading reads in, one statement:
 * every table is locked against a swap from here on) meta's format and
 * counts against the tables' rows.
 */
static int check_schema(dbr *r)
{
    char *why = r->res->why;
    size_t wl = sizeof r->res->why;
    unsigned have;
    int rc = tables_present(r->m, &have, why, wl);
    if (rc)
        return rc;
    unsigned all = (1u << T__N) - 1;
    if (!(have & all)) {
        whyf(why, wl, "no pycache snapshot in this database (no pycache_meta table)%s",
             have ? "; only the tables of a snapshot that never finished (pycache_new_*)" : "");
        return PC_ENOENT;
    }
    /* A snapshot written before issue 17 has none of its tables (and no
     * key of its types); one that has some has them all. */
    r->before17 = !(have & T_ISSUE17);
    for (int t = 0; t < T__N; t++)
        if (!(have & (1u << t)) && !(r->before17 && (T_ISSUE17 & (1u << t)))) {
            whyf(why, wl,
                 "refusing a half-written or foreign schema: the table pycache_%s is missing",
                 tables[t]);
            return PC_ECORRUPT;
        }
    if (mysql_query(r->m, "SELECT table_name, GROUP_CONCAT(column_name ORDER BY ordinal_position)"
                          " FROM information_schema.columns WHERE table_schema = DATABASE()"
                          " AND table_name LIKE 'pycache\\_%' GROUP BY table_name"))
        return db_fail(r->m, why, wl, "reading the schema");
    MYSQL_RES *q = mysql_store_result(r->m);
    if (!q)
        return db_fail(r->m, why, wl, "reading the schema");
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(q)))
        for (int t = 0; t < T__N; t++) {
            char name[40];
            snprintf(name, sizeof name, "pycache_%s", tables[t]);
            if (row[0] && !strcmp(row[0], name) && (!row[1] || strcmp(row[1], columns[t]))) {
                whyf(why, wl,
                     "refusing a foreign schema: %s has the columns (%s), a pycache "
                     "snapshot's are (%s)",
                     name, row[1] ? row[1] : "", columns[t]);
                rc = PC_EINCOMPAT;
            }
        }
    mysql_free_result(q);
    if (rc || (rc = q_str(r->m, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", why, wl,
                          "beginning to read")))
        return rc;
    /* meta's rows, each with the tables' row counts (and the number of
     * stream entries) beside it. */
    int nt = r->before17 ? T_ZSETS : T_META;
    pcs_buf b = PCS_BUF_INIT;
    put_s(&b, "SELECT name, value");
    for (int t = 0; t < nt; t++)
        put_f(&b, ", (SELECT count(*) FROM pycache_%.20s)", tables[t]);
    if (!r->before17)
        put_s(&b, ", (SELECT count(*) FROM (SELECT DISTINCT cache_key, ms, seq FROM"
                  " pycache_stream_pairs) e)");
    put_s(&b, " FROM pycache_meta");
    pcs_buf_put_u8(&b, 0);
    int qe = b.err ? 1 : mysql_query(r->m, (const char *)b.data);
    pcs_buf_free(&b);
    if (qe || !(q = mysql_store_result(r->m)))
        return db_fail(r->m, why, wl, "reading the meta table");
    bool ours = false, format = false;
    unsigned known = 0;
    int64_t rows[T_META] = {0}, entries = 0, want_entries = -1;
    while ((row = mysql_fetch_row(q))) {
        unsigned long *len = mysql_fetch_lengths(q);
        if (!row[0] || !row[1])
            continue;
        if (!r->before17)
            cell_i64(row[2 + nt], len[2 + nt], &entries);
        if (!strcmp(row[0], "stream_entry_count"))
            cell_i64(row[1], len[1], &want_entries);
        for (int t = 0; t < nt; t++) {
            cell_i64(row[2 + t], len[2 + t], &rows[t]);
            int64_t v;
            if (!strcmp(row[0], counts[t]) && !cell_i64(row[1], len[1], &v) && v >= 0) {
                r->want[t] = (uint64_t)v;
                known |= 1u << t;
            }
        }
        int64_t v;
        if (!strcmp(row[0], "schema"))
            ours = !strcmp(row[1], "pycache");
        else if (!strcmp(row[0], "format"))
            format = !cell_i64(row[1], len[1], &v) && v == PCP_FORMAT;
        else if (!strcmp(row[0], "generation") && !cell_i64(row[1], len[1], &v) && v > 0)
            r->res->generation = (uint64_t)v;
    }
    mysql_free_result(q);
    if (!ours) {
        whyf(why, wl, "refusing a foreign schema: pycache_meta does not say schema = pycache");
        return PC_EINCOMPAT;
    }
    if (!format) {
        whyf(why, wl, "made by an incompatible pycache (snapshot format differs)");
        return PC_EINCOMPAT;
    }
    for (int t = 0; t < nt; t++)
        if (!(known & (1u << t)) || (uint64_t)rows[t] != r->want[t]) {
            whyf(why, wl,
                 "refusing a half-written or edited snapshot: pycache_%s has %" PRId64
                 " rows, its meta table says %" PRIu64,
                 tables[t], rows[t], r->want[t]);
            return PC_ECORRUPT;
        }
    if (!r->before17 && entries != want_entries) {
        whyf(why, wl,
             "refusing a half-written or edited snapshot: pycache_stream_pairs holds %" PRId64
             " entries, its meta table says %" PRId64,
             entries, want_entries);
        return PC_ECORRUPT;
    }
    return 0;
}

int pcp_db_restore(pcs_store *st, const pcp_db *db, pcp_result *res)
{
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", db->url);
    uint64_t t0 = pcs_now_ms();
    dbr r = {.res = res};
    int rc = pcp_load_open(&r.ls, st, res->why, sizeof res->why);
    if (rc)
        return res->rc = rc;
    if (!(rc = db_connect(db, &r.m, res->why, sizeof res->why)) && !(rc = check_schema(&r))) {
        r.now = pcs_now_ms();
        if ((rc = load_scalars(&r)) || (rc = load_colls(&r)) || (rc = load_flights(&r)) ||
            (rc = load_bits(&r)) || (rc = load_blooms(&r)) ||
            (!r.before17 && ((rc = load_zsets(&r)) || (rc = load_streams(&r))))) {
            if (!*res->why || rc == PC_ECORRUPT)
                whyf(res->why, sizeof res->why, "a bad row in its tables (%s)", pc_strerror(rc));
        }
    }
    for (int t = 0; !rc && t < T_META; t++)
        if (r.seen[t] != r.want[t]) {
            whyf(res->why, sizeof res->why,
                 "refusing a half-written or edited snapshot: %" PRIu64 " rows of pycache_%s "
                 "belong to a key of a known type, its meta table counts %" PRIu64,
                 r.seen[t], tables[t], r.want[t]);
            rc = PC_ECORRUPT;
        }
    if (r.m) {
        mysql_query(r.m, "COMMIT");
        mysql_close(r.m);
    }
    rc = pcp_load_close(&r.ls, rc);
    pcs_buf_free(&r.arena);
    pcs_free(r.pend);
    pcs_free(r.items);
    if (rc) {
        res->keys = 0;
        if (!*res->why)
            whyf(res->why, sizeof res->why, "%s", pc_strerror(rc));
    }
    res->when_ms = pcs_now_ms();
    res->took_ms = res->when_ms - t0;
    return res->rc = rc;
}

#endif /* HAVE_MARIADB */
