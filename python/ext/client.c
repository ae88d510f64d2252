/*
 * client.c - pycache._pycache.Client: options, one pc_client per thread
 * (a handle, pyc.h), closing, fork detection, and the calls about the
 * store itself (store_info, stats).
 */
#include "pyc.h"

#include <string.h>

/* ---- handles ---- */

static void client_handle_close(pyc_handle *h)
{
    if (h->mode != PYC_IDLE) {
        pc_discard(h->c);
        h->mode = PYC_IDLE;
    }
    pyc_ops_clear(h);
    PyMem_Free(h->ops);
    h->ops = NULL;
    pc_close(h->c);
    h->c = NULL;
    PyMem_Free(h);
}

void pyc_handle_free(pyc_handle *h)
{
    client_handle_close(h);
}

/* Remove hs[i] from the table (it is not freed). */
static void client_unlist(pyc_client *self, size_t i)
{
    if (self->last == self->hs[i])
        self->last = NULL;
    self->hs[i] = self->hs[--self->nh];
}

void pyc_handle_detach(pyc_client *self, pyc_handle *h)
{
    for (size_t i = 0; i < self->nh; i++)
        if (self->hs[i] == h) {
            client_unlist(self, i);
            break;
        }
    h->tid = 0;
}

/* Is a thread with this thread-state id still alive in this interpreter? */
static bool client_thread_alive(uint64_t tid)
{
    PyInterpreterState *is = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *t = PyInterpreterState_ThreadHead(is); t; t = PyThreadState_Next(t))
        if (PyThreadState_GetID(t) == tid)
            return true;
    return false;
}

/* Close the handles of threads that have ended (idle ones only). */
static void client_sweep(pyc_client *self)
{
    for (size_t i = 0; i < self->nh;) {
        pyc_handle *h = self->hs[i];
        if (!h->busy && !h->rd && !client_thread_alive(h->tid)) {
            client_unlist(self, i);
            client_handle_close(h);
        } else {
            i++;
        }
    }
}

/* A new handle for thread tid: pc_connect with the client's options. */
static pyc_handle *client_connect(pyc_client *self, uint64_t tid)
{
    client_sweep(self);
    if (self->nh == self->caph) {
        size_t cap = self->caph ? 2 * self->caph : 4;
        pyc_handle **hs = PyMem_Realloc(self->hs, cap * sizeof *hs);
        if (!hs) {
            PyErr_NoMemory();
            return NULL;
        }
        self->hs = hs;
        self->caph = cap;
    }
    pyc_handle *h = PyMem_Calloc(1, sizeof *h);
    if (!h) {
        PyErr_NoMemory();
        return NULL;
    }
    pc_client *c = NULL;
    PyThreadState *ts = PyEval_SaveThread();
    int rc = pc_connect(self->dir, &self->opt, &c);
    PyEval_RestoreThread(ts);
    if (rc) {
        PyMem_Free(h);
        return pyc_raise(rc, "connect"), NULL;
    }
    if (self->closed) { /* closed by another thread while we connected */
        pc_close(c);
        PyMem_Free(h);
        return pyc_raise_named("ClosedError", "the client is closed"), NULL;
    }
    if (self->nh == self->caph) { /* another thread added one meanwhile */
        size_t cap = 2 * self->caph;
        pyc_handle **hs = PyMem_Realloc(self->hs, cap * sizeof *hs);
        if (!hs) {
            pc_close(c);
            PyMem_Free(h);
            PyErr_NoMemory();
            return NULL;
        }
        self->hs = hs;
        self->caph = cap;
    }
    h->tid = tid;
    h->c = c;
    self->hs[self->nh++] = h;
    return h;
}

pyc_handle *pyc_handle_get(pyc_client *self)
{
    if (self->closed)
        return pyc_raise_named("ClosedError", "the client is closed"), NULL;
    if (self->fork_gen != pyc_fork_gen)
        return pyc_raise_named("ForkError",
                               "this Client was made before fork(): open a new one in the "
                               "child process"),
               NULL;
    uint64_t tid = PyThreadState_GetID(PyThreadState_Get());
    pyc_handle *h = self->last;
    if (!h || h->tid != tid) {
        h = NULL;
        for (size_t i = 0; i < self->nh; i++)
            if (self->hs[i]->tid == tid) {
                h = self->hs[i];
                break;
            }
        if (!h && !(h = client_connect(self, tid)))
            return NULL;
        self->last = h;
    }
    if (h->busy)
        return pyc_raise_named("StateError",
                               "the client was used again from within one of its own calls on "
                               "this thread (a finalizer or signal handler?); use another Client "
                               "there"),
               NULL;
    h->busy++;
    return h;
}

void pyc_handle_put(pyc_client *self, pyc_handle *h)
{
    if (--h->busy)
        return;
    pyc_read_settle(h);
    if (!self->closed || h->rd)
        return;
    pyc_handle_detach(self, h);
    client_handle_close(h);
}

/* ---- the type ---- */

static void client_close_all(pyc_client *self)
{
    self->closed = true;
    for (size_t i = 0; i < self->nh;) {
        pyc_handle *h = self->hs[i];
        if (h->busy || h->rd) { /* its call or its read closes it */
            i++;
            continue;
        }
        client_unlist(self, i);
        client_handle_close(h);
    }
}

static int client_init(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dir",       "embedded", "create",   "nosync", "ring_only",
                             "nonblock",  "timeout",  "map_size", "shards", "max_readers",
                             "max_value", "decode",   NULL};
    PyObject *dir = Py_None, *timeout = Py_None;
    int embedded = 0, create = 0, nosync = 0, ring_only = 0, nonblock = 0, decode = 1;
    unsigned long long map_size = 0, max_value = 0;
    unsigned int shards = 0, max_readers = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$pppppOKIIKp", kwlist, &dir, &embedded, &create,
                                     &nosync, &ring_only, &nonblock, &timeout, &map_size, &shards,
                                     &max_readers, &max_value, &decode))
        return -1;
    if (self->nh || self->dir) {
        PyErr_SetString(PyExc_RuntimeError, "Client.__init__ called twice");
        return -1;
    }
    pc_options_init(&self->opt);
    self->opt.flags = (embedded ? PC_OPT_EMBEDDED : 0) | (create ? PC_OPT_CREATE : 0) |
                      (nosync ? PC_OPT_NOSYNC : 0) | (ring_only ? PC_OPT_RING_ONLY : 0) |
                      (nonblock ? PC_OPT_NONBLOCK : 0);
    self->opt.map_size = map_size;
    self->opt.shards = shards;
    self->opt.max_readers = max_readers;
    self->opt.max_value = max_value;
    if (timeout != Py_None) {
        int64_t ms;
        if (pyc_ms(timeout, &ms, false, "timeout") < 0)
            return -1;
        self->opt.timeout_ms = ms < 0 ? -1 : ms == 0 ? 1 : ms;
    }
    if (dir != Py_None) {
        PyObject *b = NULL;
        if (!PyUnicode_FSConverter(dir, &b))
            return -1;
        self->dir = PyMem_Malloc((size_t)PyBytes_GET_SIZE(b) + 1);
        if (!self->dir) {
            Py_DECREF(b);
            PyErr_NoMemory();
            return -1;
        }
        memcpy(self->dir, PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b) + 1);
        Py_DECREF(b);
    }
    self->decode = decode;
    self->fork_gen = pyc_fork_gen;
    /* Connect now, so that a wrong directory or a missing daemon shows here. */
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return -1;
    pyc_handle_put(self, h);
    return 0;
}

static void client_dealloc(pyc_client *self)
{
    if (self->weakrefs)
        PyObject_ClearWeakRefs((PyObject *)self);
    client_close_all(self);
    /* A Read holds its client, so no handle can remain here. */
    PyMem_Free(self->hs);
    PyMem_Free(self->dir);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *client_close(pyc_client *self, PyObject *unused)
{
    (void)unused;
    client_close_all(self);
    Py_RETURN_NONE;
}

static PyObject *client_enter(pyc_client *self, PyObject *unused)
{
    (void)unused;
    if (self->closed)
        return pyc_raise_named("ClosedError", "the client is closed");
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *client_exit(pyc_client *self, PyObject *args)
{
    (void)args;
    client_close_all(self);
    Py_RETURN_FALSE;
}

static PyObject *client_nhandles(pyc_client *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromSize_t(self->nh);
}

static PyObject *client_store_info(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    pc_store_info si;
    int rc = pc_store_info_get(h->c, &si);
    pyc_handle_put(self, h);
    if (rc)
        return pyc_raise(rc, "store_info");
    return Py_BuildValue(
        "{s:K,s:K,s:I,s:I,s:I,s:O,s:O,s:I,s:K}", "map_size", (unsigned long long)si.map_size,
        "max_value", (unsigned long long)si.max_value, "shards", si.shards, "max_readers",
        si.max_readers, "format", si.format, "embedded", si.embedded ? Py_True : Py_False,
        "ring_only", si.ring_only ? Py_True : Py_False, "ring_size", (unsigned)si.ring_size, "id",
        (unsigned long long)si.id);
}

static PyObject *client_stats(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    pc_stats s;
    int rc = pc_stats_get(h->c, &s);
    pyc_handle_put(self, h);
    if (rc)
        return pyc_raise(rc, "stats");
    PyObject *d = Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:s,s:I,s:I,s:I,s:I,s:K}", "pid",
        (unsigned long long)s.pid, "started_ms", (unsigned long long)s.started_ms, "requests",
        (unsigned long long)s.requests, "errors", (unsigned long long)s.errors, "reads_hit",
        (unsigned long long)s.reads_hit, "reads_miss", (unsigned long long)s.reads_miss, "keys",
        (unsigned long long)s.keys[0], "keys_ttl", (unsigned long long)s.keys_ttl, "expired",
        (unsigned long long)s.expired, "evicted", (unsigned long long)s.evicted, "swept",
        (unsigned long long)s.swept, "bytes_used", (unsigned long long)s.bytes_used, "max_memory",
        (unsigned long long)s.max_memory, "rounds", (unsigned long long)s.rounds, "policy",
        pc_policy_name((pc_policy)s.policy), "expire_interval_ms", s.expire_interval_ms, "shards",
        s.shards, "clients", s.clients_trusted + s.clients_ring_only, "readers_used",
        s.readers_used, "buffered", (unsigned long long)s.buffered);
    if (!d)
        return NULL;
    static const char *types[] = {"string", "numeric", "list", "map", "set", "queue"};
    PyObject *bt = PyDict_New();
    if (!bt)
        goto fail;
    for (int i = 0; i < 6; i++) {
        PyObject *n = PyLong_FromUnsignedLongLong(s.keys[i + 1]);
        if (!n || PyDict_SetItemString(bt, types[i], n) < 0) {
            Py_XDECREF(n);
            Py_DECREF(bt);
            goto fail;
        }
        Py_DECREF(n);
    }
    if (PyDict_SetItemString(d, "keys_by_type", bt) < 0) {
        Py_DECREF(bt);
        goto fail;
    }
    Py_DECREF(bt);
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *client_get_closed(pyc_client *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong(self->closed);
}

static PyObject *client_get_dir(pyc_client *self, void *unused)
{
    (void)unused;
    if (!self->dir)
        Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(self->dir);
}

static PyObject *client_get_embedded(pyc_client *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong((self->opt.flags & PC_OPT_EMBEDDED) != 0);
}

static PyObject *client_get_decode(pyc_client *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong(self->decode);
}

static PyGetSetDef client_getset[] = {
    {"closed", (getter)client_get_closed, NULL, "True once close() was called.", NULL},
    {"dir", (getter)client_get_dir, NULL, "The store directory (None: the default).", NULL},
    {"embedded", (getter)client_get_embedded, NULL,
     "True when this client opened the store itself (no daemon).", NULL},
    {"decode", (getter)client_get_decode, NULL,
     "True: byte strings come back as str; False: as bytes.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyMethodDef pyc_client_own_methods[] = {
    {"close", (PyCFunction)client_close, METH_NOARGS,
     "close()\n--\n\nClose every connection of this client (one per thread that used it).\n"
     "Calls afterwards raise ClosedError; a second close() does nothing."},
    {"__enter__", (PyCFunction)client_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)client_exit, METH_VARARGS, NULL},
    {"read", (PyCFunction)pyc_read_begin, METH_NOARGS,
     "read()\n--\n\nBegin a read: one consistent snapshot of the store, used as\n"
     "``with client.read() as r:``.  Its byte strings are memoryviews into the map,\n"
     "valid until the block ends (see pycache.Read)."},
    {"store_info", (PyCFunction)client_store_info, METH_NOARGS,
     "store_info()\n--\n\nThe store's shape, fixed when it was made: a dict."},
    {"stats", (PyCFunction)client_stats, METH_NOARGS,
     "stats()\n--\n\nThe daemon's statistics (daemon mode only; no round trip): a dict."},
    {"_handles", (PyCFunction)client_nhandles, METH_NOARGS,
     "_handles()\n--\n\nHow many per-thread connections this client holds (for tests)."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pyc_client_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pycache._pycache.Client",
    .tp_basicsize = sizeof(pyc_client),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Client(dir=None, *, embedded=False, create=False, nosync=False, ring_only=False,\n"
              "       nonblock=False, timeout=None, map_size=0, shards=0, max_readers=0,\n"
              "       max_value=0, decode=True)\n--\n\n"
              "A client of the pycache store in directory dir (see pycache.Client).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)client_init,
    .tp_dealloc = (destructor)client_dealloc,
    .tp_weaklistoffset = offsetof(pyc_client, weakrefs),
    .tp_getset = client_getset,
};
