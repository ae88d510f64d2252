/*
 * bare.c - bare LMDB reads, the floor pcbench measures against (bare.h).
 */
#include <lmdb.h>
#include <stdio.h>

#include "alloc.h"
#include "bare.h"
#include "store.h"

struct pcs_bare {
    MDB_env *env;
    MDB_dbi dbi; /* "keys" */
};

struct pcs_bare_rd {
    MDB_txn *txn;
    MDB_dbi dbi;
    char why[128];
};

int pcs_bare_open(const char *path, pcs_bare **out, char *err, size_t errlen)
{
    pcs_bare *b = pcs_calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    MDB_txn *txn;
    int rc = mdb_env_create(&b->env);
    if (rc) {
        snprintf(err, errlen, "mdb_env_create: %s", mdb_strerror(rc));
        pcs_free(b);
        return -1;
    }
    mdb_env_set_maxdbs(b->env, 8);
    rc = mdb_env_open(b->env, path, MDB_RDONLY | MDB_NOTLS | MDB_NOSUBDIR | MDB_NORDAHEAD, 0600);
    if (!rc)
        rc = mdb_txn_begin(b->env, NULL, MDB_RDONLY, &txn);
    if (!rc) {
        rc = mdb_dbi_open(txn, "keys", 0, &b->dbi);
        if (rc) /* committing keeps the handle for the environment's life */
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
        mdb_env_close(b->env);
        pcs_free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void pcs_bare_close(pcs_bare *b)
{
    if (!b)
        return;
    mdb_env_close(b->env);
    pcs_free(b);
}

int pcs_bare_rd_new(pcs_bare *b, pcs_bare_rd **out, char *err, size_t errlen)
{
    pcs_bare_rd *r = pcs_calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = mdb_txn_begin(b->env, NULL, MDB_RDONLY, &r->txn);
    if (rc) {
        snprintf(err, errlen, "mdb_txn_begin: %s", mdb_strerror(rc));
        pcs_free(r);
        return -1;
    }
    mdb_txn_reset(r->txn);
    r->dbi = b->dbi;
    *out = r;
    return 0;
}

void pcs_bare_rd_free(pcs_bare_rd *r)
{
    if (!r)
        return;
    mdb_txn_abort(r->txn);
    pcs_free(r);
}

int pcs_bare_get(pcs_bare_rd *r, const void *key, size_t klen, size_t *vlen, unsigned *sink)
{
    MDB_val k = {klen, (void *)key}, d;
    int rc = mdb_txn_renew(r->txn);
    if (rc) {
        snprintf(r->why, sizeof r->why, "mdb_txn_renew: %s", mdb_strerror(rc));
        *vlen = 0;
        return pcs_mdb_err(rc);
    }
    rc = mdb_get(r->txn, r->dbi, &k, &d);
    *vlen = rc ? 0 : d.mv_size;
    if (!rc && d.mv_size) /* touch the value, as a reader would */
        *sink += ((const unsigned char *)d.mv_data)[d.mv_size - 1];
    mdb_txn_reset(r->txn);
    if (rc && rc != MDB_NOTFOUND)
        snprintf(r->why, sizeof r->why, "mdb_get: %s", mdb_strerror(rc));
    return pcs_mdb_err(rc);
}

int pcs_bare_touch_all(pcs_bare_rd *r, unsigned *sink)
{
    MDB_cursor *cur;
    MDB_val k, d;
    int rc = mdb_txn_renew(r->txn);
    if (rc)
        return pcs_mdb_err(rc);
    rc = mdb_cursor_open(r->txn, r->dbi, &cur);
    if (!rc) {
        for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); !rc;
             rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT))
            if (d.mv_size)
                *sink += ((const unsigned char *)d.mv_data)[0];
        mdb_cursor_close(cur);
    }
    mdb_txn_reset(r->txn);
    return rc == MDB_NOTFOUND ? 0 : pcs_mdb_err(rc);
}

const char *pcs_bare_why(const pcs_bare_rd *r)
{
    return r->why;
}

const char *pcs_bare_version(void)
{
    return MDB_VERSION_STRING;
}
