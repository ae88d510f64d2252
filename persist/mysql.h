/*
 * mysql.h - snapshots into a MariaDB or MySQL server (libmariadb), and
 * restoring from one: the second snapshot target beside the SQLite files of
 * snapshot.h, written from the same walk (target.h).
 *
 * A target is a URL, mysql://USER@HOST[:PORT]/DB or
 * mysql://USER@localhost/DB?socket=PATH (mariadb:// is the same); the
 * password comes from a file (never from the URL, the command line or a
 * log line).  The tables of one snapshot, in DB:
 *
 *   pycache_meta(name, value)                  schema, format, counts, ...
 *   pycache_keys(cache_key, type, expire_at, value, kind)
 *   pycache_members(cache_key, seq, pos, field, value, kind)
 *   pycache_flights(cache_key, fresh_until, value, kind)
 *   pycache_chunks(cache_key, layer, chunk, bytes)
 *   pycache_blooms(cache_key, error_rate, capacity, expansion, nonscaling)
 *   pycache_bloom_layers(cache_key, layer, capacity, items, bits, hashes,
 *                        error_rate)
 *   views pycache_strings, _numerics, _lists, _queues, _maps, _sets
 *
 * A snapshot is written into pycache_new_* from one read of the store,
 * committed, then swapped in by one RENAME TABLE (live -> pycache_old_*, new
 * -> live): a reader sees the previous snapshot or the new one, never part
 * of one; the previous one stays as pycache_old_* until the next swap.
 * Values are bytes (LONGBLOB) and numbers in decimal text, with their kind.
 */
#ifndef PCP_MYSQL_H
#define PCP_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define PCP_DB_PATH_MAX 1024

typedef struct pcp_db {
    char url[PCP_DB_PATH_MAX];    /* as given: it holds no password */
    char user[129];               /* percent-decoded */
    char host[256];               /* "localhost" when none */
    unsigned port;                /* 0: the client library's default (3306) */
    char db[65];                  /* letters, digits, '_' and '$' */
    char socket[PCP_DB_PATH_MAX]; /* ?socket=PATH, "" for none */
    /* Set by the caller after pcp_db_parse ("" for none). */
    char password_file[PCP_DB_PATH_MAX];
    char tls_ca[PCP_DB_PATH_MAX], tls_cert[PCP_DB_PATH_MAX], tls_key[PCP_DB_PATH_MAX];
    bool tls;           /* TLS required (any TLS setting given implies it) */
    bool tls_verify;    /* check the server's certificate and name */
    unsigned timeout_s; /* connect, read and write timeouts (0: 30 s) */
} pcp_db;

/* Is s a URL of this target (mysql:// or mariadb://)? */
bool pcp_db_is_url(const char *s);
/* Was this pycache built with the target (libmariadb)? */
bool pcp_db_available(void);
/* Parse url into db (the rest zeroed).  0, or PC_EINVAL with why: a
 * password in the URL, a missing user or database, a bad port or name. */
int pcp_db_parse(const char *url, pcp_db *db, char *why, size_t whylen);
/* Check that the password file can be read by us alone (not by its group
 * or others).  0, or PC_EACCES / PC_ENOENT with why. */
int pcp_db_check_password_file(const char *path, char *why, size_t whylen);
/* Once, before any thread uses the target (libmariadb's global set-up). */
void pcp_db_library_init(void);
void pcp_db_library_end(void);

/*
 * Write a snapshot of the store as rt sees it into db, as generation,
 * and swap it in.  res->path is the URL, res->bytes the SQL sent.  On any
 * failure (server down or gone, refused credentials, a full disk there)
 * the previous snapshot stays whole and res->why says what happened.
 * end_reads: as pcp_walk's (target.h).
 */
int pcp_db_snapshot(const pcs_store *st, pcs_rtxns *rt, const pcp_db *db, uint64_t generation,
                    bool end_reads, pcp_result *res);

/*
 * Load the snapshot in db into an empty store, skipping keys already
 * expired; on failure nothing is loaded.  PC_ENOENT when db holds no
 * pycache snapshot; PC_ECORRUPT for a half-written or edited one;
 * PC_EINCOMPAT for tables of another schema; PC_EEXIST when the store
 * holds keys; the server's errors as in pcp_db_snapshot.
 */
int pcp_db_restore(pcs_store *st, const pcp_db *db, pcp_result *res);

#endif
