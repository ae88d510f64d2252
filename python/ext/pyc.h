/*
 * pyc.h - what the files of the extension module pycache._pycache share.
 *
 * The module binds libpycache-client (pycache.h) for CPython:
 *
 *   module.c  the module, the error table (pycache.errors), fork detection
 *   conv.c    Python values to pc_val and back
 *   client.c  pycache._pycache.Client: options, one pc_client per thread
 *   read.c    read operations, the Read type and its zero-copy views
 *   write.c   write operations, batches and transactions
 *
 * Threads.  A pc_client is for one thread at a time (pycache.h), so a
 * Client keeps one pc_client per Python thread that uses it (a "handle"),
 * made on first use and found by the thread state's id, which Python never
 * reuses.  Handles of threads that have ended are closed when a new thread
 * makes one, and all of them by close().  Every structure here is touched
 * only with the GIL held; the GIL is released only around library calls
 * that may wait for the daemon, and the handle in use is then marked busy
 * so that close() leaves it to its thread.
 *
 * Memory.  Byte strings in results are copied into Python objects before
 * the read ends, except in a Read, which hands out memoryviews into the map
 * (read.c says how they are kept from outliving it).
 */
#ifndef PYC_H
#define PYC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stdint.h>

#include <pycache.h>

/* ------------------------------------------------------------------------ */
/* module.c                                                                  */

/* Raise the pycache.errors class of a PC_E* code: "what: message". NULL. */
PyObject *pyc_raise(int rc, const char *what);
/* The same exception, made but not raised (for batch results).  NULL on
 * failure, with the failure raised. */
PyObject *pyc_error(int rc, const char *what);
/* Raise one of the module's own classes by name ("ClosedError", ...). */
PyObject *pyc_raise_named(const char *cls, const char *fmt, ...);
/* collections.deque */
extern PyObject *pyc_deque;
/* Bumped in the child by pthread_atfork: a Client made before the fork
 * sees another value and refuses. */
extern unsigned pyc_fork_gen;

/* ------------------------------------------------------------------------ */
/* conv.c                                                                    */

/* Temporaries that must live until a library call has returned: encoded
 * copies of keys and values.  Starts zeroed; pyc_keep_clear() drops them. */
typedef struct pyc_keep {
    PyObject *list;
} pyc_keep;

void pyc_keep_clear(pyc_keep *k);

/* A key (str, or bytes-like) as bytes.  str is UTF-8; lone surrogates from
 * undecodable bytes go back to those bytes (surrogateescape).  0 or -1. */
int pyc_key(PyObject *o, const void **p, size_t *n, pyc_keep *k);
/* Any byte string argument (a field, data to append): as pyc_key. */
int pyc_bytes(PyObject *o, const void **p, size_t *n, pyc_keep *k, const char *what);

/* How a value may be stored. */
enum { PYC_SCALAR = 0, PYC_ELEMENT = 1 };

/* A Python value as a pc_val: str/bytes-like -> PC_BYTES, int -> PC_INT,
 * float -> PC_DOUBLE; as an ELEMENT also bool -> PC_BOOL, None -> PC_NIL.
 * Nested containers raise UnsupportedValueError.  0 or -1. */
int pyc_val(PyObject *o, pc_val *v, pyc_keep *k, int as);

/* Elements of an iterable as pc_vals: *items (PyMem) holds *n of them, and a
 * tuple of the elements is kept in k.  0 or -1. */
int pyc_vals(PyObject *seq, pc_val **items, size_t *n, pyc_keep *k, const char *what);
/* A mapping as field/value pairs: 2 * len pc_vals, field first.  0 or -1. */
int pyc_pairs(PyObject *map, pc_val **items, size_t *n, pyc_keep *k);

/* How byte strings come back. */
typedef struct pyc_conv {
    int decode;       /* 1: str (UTF-8, surrogateescape); 0: bytes */
    PyObject *viewer; /* a Read: memoryviews into the map instead */
} pyc_conv;

PyObject *pyc_out(const pc_val *v, const pyc_conv *cv);
/* A byte string as pyc_out would give it. */
PyObject *pyc_out_bytes(const void *p, size_t n, const pyc_conv *cv);

/* The kind of collection a Python value is: PC_T_LIST for list/tuple,
 * PC_T_QUEUE for deque, PC_T_MAP for dict, PC_T_SET for set/frozenset,
 * PC_T_NONE for anything else. */
pc_type pyc_coll_type(PyObject *o);
/* A type name ("list", ...) as a pc_type; -1 with ValueError raised. */
int pyc_type_arg(PyObject *name, pc_type *t);

/* A timeout or TTL in seconds (int or float) as milliseconds, rounded to
 * the nearest; None -> 0 when allow_none.  0 or -1. */
int pyc_ms(PyObject *o, int64_t *ms, bool allow_none, const char *what);

/* ------------------------------------------------------------------------ */
/* client.c                                                                  */

typedef struct pyc_op pyc_op;
typedef struct pyc_read pyc_read_obj;

enum pyc_mode { PYC_IDLE, PYC_BATCH, PYC_TXN };

typedef struct pyc_handle {
    uint64_t tid; /* the thread state's id; 0 once detached */
    pc_client *c;
    int busy;     /* calls in progress on it (re-entry is refused) */
    int mode;     /* enum pyc_mode */
    pyc_op **ops; /* queued writes of a batch or transaction */
    size_t nops, capops;
    pyc_read_obj *rd; /* an explicit read open on it, or NULL */
    pc_read *orphan;  /* a read whose Read went away while the handle was busy */
} pyc_handle;

typedef struct pyc_client {
    PyObject_HEAD char *dir; /* NULL: the library's default */
    pc_options opt;
    int decode;
    unsigned fork_gen;
    bool closed;
    pyc_handle **hs;
    size_t nh, caph;
    pyc_handle *last; /* the handle found last: the common case */
    PyObject *weakrefs;
} pyc_client;

extern PyTypeObject pyc_client_type;

/* The calling thread's handle, made if needed, marked busy.  NULL with an
 * exception (closed, used after fork, re-entered, cannot connect). */
pyc_handle *pyc_handle_get(pyc_client *self);
/* The end of a call: unmark busy; close it if the client closed meanwhile. */
void pyc_handle_put(pyc_client *self, pyc_handle *h);
/* Take h out of the client: its read outlives the block (read.c). */
void pyc_handle_detach(pyc_client *self, pyc_handle *h);
/* Close a detached handle. */
void pyc_handle_free(pyc_handle *h);
/* Drop a handle's queued ops. */
void pyc_ops_clear(pyc_handle *h);

/* ------------------------------------------------------------------------ */
/* read.c                                                                    */

extern PyTypeObject pyc_read_type;
extern PyTypeObject pyc_span_type;
extern PyMethodDef pyc_client_read_methods[];

/* At the end of a call on h: end a read that could not be ended while h
 * was busy (its Read went away, or its last view did, meanwhile). */
void pyc_read_settle(pyc_handle *h);
/* client.read(): begin an explicit read on the calling thread's handle. */
PyObject *pyc_read_begin(pyc_client *self, PyObject *unused);
/* A memoryview of n bytes at p, valid until the Read (viewer) ends. */
PyObject *pyc_view(PyObject *viewer, const void *p, size_t n);
/* Client.get, the hot path (METH_O). */
PyObject *pyc_client_get(pyc_client *self, PyObject *key);

/* ------------------------------------------------------------------------ */
/* write.c                                                                   */

extern PyMethodDef pyc_client_write_methods[];

/* client.c: the methods of Client that are neither reads nor writes. */
extern PyMethodDef pyc_client_own_methods[];

#endif /* PYC_H */
