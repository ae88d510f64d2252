/*
 * bare.h - bare LMDB reads of a store's data file: the floor pcbench
 * measures pycache's zero-copy reads against (pcbench's lmdb:DIR target,
 * docs/benchmarks.md).
 *
 * Nothing of pycache sits on this path: the file is opened as LMDB alone
 * opens it (read-only, MDB_NOTLS, MDB_NOSUBDIR, and MDB_NORDAHEAD as
 * pycache's readers), its "keys" database is read as LMDB stores it (a
 * value is the record, header included), and each read is
 * mdb_txn_renew / mdb_get / mdb_txn_reset on a transaction kept for reuse.
 * What pcbench compares must stay exactly that.
 *
 * A pcs_bare is one environment; the caller keeps one per process (LMDB
 * forbids opening a file twice in one process) and must not open it where
 * this process has the store open.  A pcs_bare_rd is one reader's
 * transaction: it belongs to one thread at a time.  Both are freed by
 * their own calls, the readers before their environment.
 */
#ifndef PCS_BARE_H
#define PCS_BARE_H

#include <stddef.h>

typedef struct pcs_bare pcs_bare;
typedef struct pcs_bare_rd pcs_bare_rd;

/*
 * Open the LMDB file path (a shard's data-NN.mdb) read-only, with its
 * "keys" database.  0, or -1 with what went wrong (LMDB's words) in
 * err[errlen].
 */
int pcs_bare_open(const char *path, pcs_bare **out, char *err, size_t errlen);
/* Close it (NULL: nothing); every reader of it is freed first. */
void pcs_bare_close(pcs_bare *b);

/* A reader: a read transaction made now and reset, renewed by each read.
 * 0, or -1 with what went wrong in err[errlen]. */
int pcs_bare_rd_new(pcs_bare *b, pcs_bare_rd **out, char *err, size_t errlen);
/* Free a reader (NULL: nothing). */
void pcs_bare_rd_free(pcs_bare_rd *r);

/*
 * One read: renew, get key, touch the value's last byte (adding it to
 * *sink, as a reader would look at what it read), reset.  *vlen gets the
 * value's length (0 when missing).  0, PC_ENOTFOUND, or another PC_E* code
 * with what went wrong in pcs_bare_why(r).
 */
int pcs_bare_get(pcs_bare_rd *r, const void *key, size_t klen, size_t *vlen, unsigned *sink);

/* Walk every value once (adding each one's first byte to *sink), so that
 * the process has mapped the pages its reads will touch.  0 or a PC_E* code. */
int pcs_bare_touch_all(pcs_bare_rd *r, unsigned *sink);

/* What the last failed pcs_bare_get of r said ("" if none). */
const char *pcs_bare_why(const pcs_bare_rd *r);

/* The LMDB version these were built with ("LMDB 0.9.31: (July 10, 2023)"). */
const char *pcs_bare_version(void);

#endif
