/*
 * read.c - reads: the read operations (each written once, over a pc_read),
 * the Client methods that run one in a read of their own, and the Read
 * type, whose methods run them in one snapshot and hand out byte strings
 * as memoryviews into the map.
 *
 * Views never outlive what they point to.  A view is a memoryview of a
 * small exporter object (a span) that counts the buffers it has exported.
 * When the read's block ends, every memoryview it handed out is released
 * (using one then raises ValueError).  If buffers are still exported after
 * that (a slice of a view, or a view passed to numpy: they share the
 * exporter's buffer), the read is not ended: its snapshot stays pinned, so
 * the memory stays valid and unchanged, until the last such buffer is
 * released.  The thread's connection then goes with the read (it is
 * detached from the client, which makes the thread a new one on its next
 * call) unless a batch or transaction is open on it; then reads on that
 * thread raise BufferError until the buffers are released.
 */
#include "pyc.h"

#include <string.h>

enum { RD_OPEN, RD_ENDED, RD_DONE };

struct pyc_read {
    PyObject_HEAD pyc_client *client; /* strong */
    pyc_handle *h;                    /* NULL once done */
    pc_read *r;
    int state;
    Py_ssize_t exports; /* buffers exported by its spans */
    PyObject *views;    /* weak references to the memoryviews handed out */
    bool detached;      /* h left the client: closed when the read is done */
    PyObject *weakrefs;
};

typedef struct pyc_span {
    PyObject_HEAD pyc_read_obj *rd; /* strong */
    const void *p;
    Py_ssize_t n;
} pyc_span;

/* ---- ending a read ---- */

/* pc_read_end, then give the handle back (or close a detached one). */
static void read_finish(pyc_read_obj *rd)
{
    pyc_handle *h = rd->h;
    pc_read_end(rd->r);
    rd->state = RD_DONE;
    rd->h = NULL;
    h->rd = NULL;
    if (rd->detached)
        pyc_handle_free(h);
    else if (rd->client->closed && !h->busy) {
        pyc_handle_detach(rd->client, h);
        pyc_handle_free(h);
    }
}

void pyc_read_settle(pyc_handle *h)
{
    if (h->orphan) {
        pc_read_end(h->orphan);
        h->orphan = NULL;
    }
    if (h->rd && h->rd->state == RD_ENDED && h->rd->exports == 0)
        read_finish(h->rd);
}

/* The end of a read's block: release its views; end it, or pin it while
 * buffers are still exported. */
static void read_end(pyc_read_obj *rd)
{
    if (rd->state != RD_OPEN)
        return;
    rd->state = RD_ENDED;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (rd->views) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rd->views); i++) {
            PyObject *mv = PyWeakref_GetObject(PyList_GET_ITEM(rd->views, i));
            if (!mv || mv == Py_None)
                continue;
            Py_INCREF(mv);
            PyObject *res = PyObject_CallMethod(mv, "release", NULL);
            Py_DECREF(mv);
            if (res)
                Py_DECREF(res);
            else
                PyErr_Clear(); /* BufferError: exported further; counted below */
        }
        Py_CLEAR(rd->views);
    }
    PyErr_Restore(et, ev, tb);
    if (rd->state == RD_DONE) /* releasing the last view finished it */
        return;
    pyc_handle *h = rd->h;
    if (h->busy)
        return; /* pyc_read_settle at the end of the call */
    if (rd->exports == 0)
        read_finish(rd);
    else if (h->mode == PYC_IDLE && !rd->client->closed) {
        pyc_handle_detach(rd->client, h);
        rd->detached = true;
    }
}

/* ---- views ---- */

static int span_getbuffer(pyc_span *self, Py_buffer *view, int flags)
{
    if (self->rd->state != RD_OPEN) {
        PyErr_SetString(PyExc_BufferError, "the pycache read this view belongs to has ended");
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, (void *)self->p, self->n, 1, flags) < 0)
        return -1;
    self->rd->exports++;
    return 0;
}

static void span_releasebuffer(pyc_span *self, Py_buffer *view)
{
    (void)view;
    pyc_read_obj *rd = self->rd;
    if (--rd->exports == 0 && rd->state == RD_ENDED && rd->h && !rd->h->busy)
        read_finish(rd);
}

static void span_dealloc(pyc_span *self)
{
    Py_DECREF(self->rd);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs span_as_buffer = {
    (getbufferproc)span_getbuffer,
    (releasebufferproc)span_releasebuffer,
};

PyTypeObject pyc_span_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pycache._pycache.Span",
    .tp_basicsize = sizeof(pyc_span),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes in the store's map, exported to memoryviews while their read is open.",
    .tp_dealloc = (destructor)span_dealloc,
    .tp_as_buffer = &span_as_buffer,
};

PyObject *pyc_view(PyObject *viewer, const void *p, size_t n)
{
    pyc_read_obj *rd = (pyc_read_obj *)viewer;
    if (n > PY_SSIZE_T_MAX)
        return PyErr_NoMemory();
    pyc_span *sp = PyObject_New(pyc_span, &pyc_span_type);
    if (!sp)
        return NULL;
    Py_INCREF(rd);
    sp->rd = rd;
    sp->p = p;
    sp->n = (Py_ssize_t)n;
    PyObject *mv = PyMemoryView_FromObject((PyObject *)sp);
    Py_DECREF(sp);
    if (!mv)
        return NULL;
    if (!rd->views && !(rd->views = PyList_New(0)))
        goto fail;
    PyObject *ref = PyWeakref_NewRef(mv, NULL);
    if (!ref)
        goto fail;
    int rc = PyList_Append(rd->views, ref);
    Py_DECREF(ref);
    if (rc < 0)
        goto fail;
    return mv;
fail:
    Py_DECREF(mv);
    return NULL;
}

/* ---- read operations ---- */

/* A read operation: runs in r; byte strings come back as cv says. */
typedef PyObject *(*read_op)(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw);

#define PAGE 256

/* Raise for rc unless it is PC_ENOTFOUND (then NULL without an exception
 * is never returned: callers test rc first). */
static PyObject *read_fail(int rc, const char *what)
{
    return pyc_raise(rc, what);
}

/* Parse (key) from args/kw.  0 or -1. */
static int read_key_arg(PyObject *args, PyObject *kw, const char *fmt, char **kwlist,
                        PyObject **key, const void **kp, size_t *kn, pyc_keep *keep)
{
    if (!PyArg_ParseTupleAndKeywords(args, kw, fmt, kwlist, key))
        return -1;
    return pyc_key(*key, kp, kn, keep);
}

typedef int (*len_fn)(pc_read *, const void *, size_t, uint64_t *);
typedef int (*range_fn)(pc_read *, const void *, size_t, int64_t, int64_t, pc_val *, size_t,
                        size_t *);

/* Elements start..stop (Redis LRANGE indices) of a List or Queue, as a list. */
static PyObject *read_range(pc_read *r, const void *k, size_t kn, int64_t start, int64_t stop,
                            len_fn lenf, range_fn rangef, const pyc_conv *cv, const char *what)
{
    uint64_t len = 0;
    int rc = lenf(r, k, kn, &len);
    if (rc && rc != PC_ENOTFOUND)
        return read_fail(rc, what);
    int64_t n = (int64_t)len;
    if (start < 0)
        start = start + n < 0 ? 0 : start + n;
    if (stop < 0)
        stop += n;
    if (stop >= n)
        stop = n - 1;
    Py_ssize_t count = start > stop ? 0 : (Py_ssize_t)(stop - start + 1);
    PyObject *list = PyList_New(count);
    if (!list || !count)
        return list;
    pc_val buf[PAGE];
    Py_ssize_t at = 0;
    while (at < count) {
        size_t got = 0;
        int64_t from = start + at;
        int64_t to = from + PAGE - 1 < stop ? from + PAGE - 1 : stop;
        if ((rc = rangef(r, k, kn, from, to, buf, PAGE, &got)))
            goto fail_rc;
        if (!got) { /* cannot happen in one snapshot; never loop on it */
            rc = PC_ECORRUPT;
            goto fail_rc;
        }
        for (size_t i = 0; i < got && at < count; i++) {
            PyObject *o = pyc_out(&buf[i], cv);
            if (!o)
                goto fail;
            PyList_SET_ITEM(list, at++, o);
        }
    }
    return list;
fail_rc:
    read_fail(rc, what);
fail:
    Py_DECREF(list);
    return NULL;
}

/* Every field and value of a Map, as a dict (empty when missing). */
static PyObject *read_map(pc_read *r, const void *k, size_t kn, const pyc_conv *cv)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes fields[PAGE];
    pc_val vals[PAGE];
    while (!cur.done) {
        size_t got = 0;
        int rc = pc_hscan(r, k, kn, &cur, fields, vals, PAGE, &got);
        if (rc == PC_ENOTFOUND)
            break;
        if (rc) {
            read_fail(rc, "hgetall");
            goto fail;
        }
        for (size_t i = 0; i < got; i++) {
            PyObject *f = pyc_out_bytes(fields[i].ptr, fields[i].len, cv);
            PyObject *v = f ? pyc_out(&vals[i], cv) : NULL;
            int bad = !v || PyDict_SetItem(d, f, v) < 0;
            Py_XDECREF(f);
            Py_XDECREF(v);
            if (bad)
                goto fail;
        }
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

typedef int (*scan_fn)(pc_read *, const pc_bytes *, size_t, pc_cursor *, pc_val *, size_t,
                       size_t *);

/* Members of a Set (one key, through pc_sscan) or of set algebra over
 * keys, as a set. */
static PyObject *read_members(pc_read *r, const void *k, size_t kn, const pc_bytes *keys,
                              size_t nkeys, scan_fn algebra, const pyc_conv *cv, const char *what)
{
    PyObject *set = PySet_New(NULL);
    if (!set)
        return NULL;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_val buf[PAGE];
    while (!cur.done) {
        size_t got = 0;
        int rc = algebra ? algebra(r, keys, nkeys, &cur, buf, PAGE, &got)
                         : pc_sscan(r, k, kn, &cur, buf, PAGE, &got);
        if (rc == PC_ENOTFOUND)
            break;
        if (rc) {
            read_fail(rc, what);
            goto fail;
        }
        for (size_t i = 0; i < got; i++) {
            PyObject *o = pyc_out(&buf[i], cv);
            int bad = !o || PySet_Add(set, o) < 0;
            Py_XDECREF(o);
            if (bad)
                goto fail;
        }
    }
    return set;
fail:
    Py_DECREF(set);
    return NULL;
}

/* The value of a key of any type as Python gives it (str/bytes, int,
 * float, list, dict, set, collections.deque), or None when missing. */
static PyObject *read_value(pc_read *r, const void *k, size_t kn, const pyc_conv *cv)
{
    pc_val v;
    int rc = pc_get(r, k, kn, &v);
    if (rc == 0)
        return pyc_out(&v, cv);
    if (rc == PC_ENOTFOUND)
        Py_RETURN_NONE;
    if (rc != PC_EWRONGTYPE)
        return read_fail(rc, "get");
    pc_type t;
    if ((rc = pc_type_of(r, k, kn, &t)))
        return read_fail(rc, "get");
    switch (t) {
    case PC_T_LIST:
        return read_range(r, k, kn, 0, -1, pc_llen, pc_lrange, cv, "get");
    case PC_T_QUEUE: {
        PyObject *l = read_range(r, k, kn, 0, -1, pc_qlen, pc_qrange, cv, "get");
        if (!l)
            return NULL;
        PyObject *dq = PyObject_CallOneArg(pyc_deque, l);
        Py_DECREF(l);
        return dq;
    }
    case PC_T_MAP:
        return read_map(r, k, kn, cv);
    case PC_T_SET:
        return read_members(r, k, kn, NULL, 0, NULL, cv, "get");
    default:
        Py_RETURN_NONE;
    }
}

static PyObject *rop_get(pc_read *r, const pyc_conv *cv, PyObject *key)
{
    pyc_keep keep = {0};
    const void *kp;
    size_t kn;
    if (pyc_key(key, &kp, &kn, &keep) < 0)
        return NULL;
    PyObject *res = read_value(r, kp, kn, cv);
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_get_versioned(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", NULL};
    PyObject *key;
    const void *kp;
    size_t kn;
    pyc_keep keep = {0};
    if (read_key_arg(args, kw, "O:get_versioned", kwlist, &key, &kp, &kn, &keep) < 0)
        return NULL;
    PyObject *res = NULL;
    uint64_t ver = 0;
    int rc = pc_version(r, kp, kn, &ver);
    if (rc == PC_ENOTFOUND) {
        res = Py_BuildValue("(OO)", Py_None, Py_None);
    } else if (rc) {
        read_fail(rc, "get_versioned");
    } else {
        PyObject *v = read_value(r, kp, kn, cv);
        if (v)
            res = Py_BuildValue("(NK)", v, (unsigned long long)ver);
    }
    pyc_keep_clear(&keep);
    return res;
}

/* The keys of an iterable as pc_bytes (PyMem); the keys stay in keep. */
static int read_keys_arg(PyObject *seq, pc_bytes **out, size_t *n, pyc_keep *keep)
{
    PyObject *t = PySequence_Tuple(seq);
    if (!t)
        return -1;
    size_t len = (size_t)PyTuple_GET_SIZE(t);
    pc_bytes *b = PyMem_Malloc((len ? len : 1) * sizeof *b);
    if (!b) {
        Py_DECREF(t);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (pyc_key(PyTuple_GET_ITEM(t, (Py_ssize_t)i), &b[i].ptr, &b[i].len, keep) < 0) {
            PyMem_Free(b);
            Py_DECREF(t);
            return -1;
        }
    /* keep the tuple: the keys' bytes point into its items */
    if (!keep->list && !(keep->list = PyList_New(0))) {
        PyMem_Free(b);
        Py_DECREF(t);
        return -1;
    }
    int rc = PyList_Append(keep->list, t);
    Py_DECREF(t);
    if (rc < 0) {
        PyMem_Free(b);
        return -1;
    }
    *out = b;
    *n = len;
    return 0;
}

static PyObject *rop_get_many(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"keys", NULL};
    PyObject *seq;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:get_many", kwlist, &seq))
        return NULL;
    pyc_keep keep = {0};
    pc_bytes *keys;
    size_t n;
    if (read_keys_arg(seq, &keys, &n, &keep) < 0)
        return NULL;
    PyObject *d = PyDict_New();
    PyObject *t = d ? PyList_GET_ITEM(keep.list, PyList_GET_SIZE(keep.list) - 1) : NULL;
    for (size_t i = 0; d && i < n; i++) {
        PyObject *v = read_value(r, keys[i].ptr, keys[i].len, cv);
        if (!v || (v != Py_None && PyDict_SetItem(d, PyTuple_GET_ITEM(t, (Py_ssize_t)i), v) < 0))
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    PyMem_Free(keys);
    pyc_keep_clear(&keep);
    return d;
}

static PyObject *rop_mget(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"keys", NULL};
    PyObject *seq;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:mget", kwlist, &seq))
        return NULL;
    pyc_keep keep = {0};
    pc_bytes *keys;
    size_t n;
    if (read_keys_arg(seq, &keys, &n, &keep) < 0)
        return NULL;
    PyObject *list = NULL;
    pc_val *out = PyMem_Malloc((n ? n : 1) * sizeof *out);
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    int rc = pc_mget(r, keys, n, out, NULL);
    if (rc) {
        read_fail(rc, "mget");
        goto done;
    }
    if (!(list = PyList_New((Py_ssize_t)n)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        PyObject *o = pyc_out(&out[i], cv);
        if (!o) {
            Py_CLEAR(list);
            goto done;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, o);
    }
done:
    PyMem_Free(out);
    PyMem_Free(keys);
    pyc_keep_clear(&keep);
    return list;
}

/* Ops on one key that return a number, a flag or a name. */
enum key_q {
    Q_EXISTS,
    Q_TYPE,
    Q_PTTL,
    Q_TTL,
    Q_VERSION,
    Q_STRLEN,
    Q_LLEN,
    Q_QLEN,
    Q_HLEN,
    Q_SCARD
};

static PyObject *read_key_query(pc_read *r, PyObject *args, PyObject *kw, enum key_q q,
                                const char *fmt)
{
    static char *kwlist[] = {"key", NULL};
    PyObject *key;
    const void *kp;
    size_t kn;
    pyc_keep keep = {0};
    if (read_key_arg(args, kw, fmt, kwlist, &key, &kp, &kn, &keep) < 0)
        return NULL;
    PyObject *res = NULL;
    int rc = 0;
    uint64_t u = 0;
    switch (q) {
    case Q_EXISTS: {
        int e = 0;
        if (!(rc = pc_exists(r, kp, kn, &e)))
            res = PyBool_FromLong(e);
        break;
    }
    case Q_TYPE: {
        pc_type t = PC_T_NONE;
        if (!(rc = pc_type_of(r, kp, kn, &t))) {
            if (t == PC_T_NONE)
                res = Py_NewRef(Py_None);
            else
                res = PyUnicode_FromString(pc_type_name(t));
        }
        break;
    }
    case Q_PTTL:
    case Q_TTL: {
        int64_t ms = 0;
        if (!(rc = pc_ttl(r, kp, kn, &ms))) {
            if (ms < 0)
                res = Py_NewRef(Py_None);
            else if (q == Q_PTTL)
                res = PyLong_FromLongLong(ms);
            else
                res = PyFloat_FromDouble((double)ms / 1000.0);
        }
        break;
    }
    case Q_VERSION:
        if (!(rc = pc_version(r, kp, kn, &u)))
            res = PyLong_FromUnsignedLongLong(u);
        break;
    case Q_STRLEN:
    case Q_LLEN:
    case Q_QLEN:
    case Q_HLEN:
    case Q_SCARD:
        rc = (q == Q_STRLEN ? pc_strlen
              : q == Q_LLEN ? pc_llen
              : q == Q_QLEN ? pc_qlen
              : q == Q_HLEN ? pc_hlen
                            : pc_scard)(r, kp, kn, &u);
        if (rc == PC_ENOTFOUND) /* a missing key is empty */
            rc = 0, u = 0;
        if (!rc)
            res = PyLong_FromUnsignedLongLong(u);
        break;
    }
    pyc_keep_clear(&keep);
    if (rc)
        return read_fail(rc, fmt + 2);
    return res;
}

static PyObject *rop_exists(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_EXISTS, "O:exists");
}
static PyObject *rop_type(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_TYPE, "O:type");
}
static PyObject *rop_pttl(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_PTTL, "O:pttl");
}
static PyObject *rop_ttl(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_TTL, "O:ttl");
}
static PyObject *rop_version(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_VERSION, "O:version");
}
static PyObject *rop_strlen(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_STRLEN, "O:strlen");
}
static PyObject *rop_llen(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_LLEN, "O:llen");
}
static PyObject *rop_qlen(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_QLEN, "O:qlen");
}
static PyObject *rop_hlen(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_HLEN, "O:hlen");
}
static PyObject *rop_scard(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    (void)cv;
    return read_key_query(r, a, kw, Q_SCARD, "O:scard");
}

static PyObject *rop_getrange(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "start", "end", NULL};
    PyObject *key;
    long long start, end;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OLL:getrange", kwlist, &key, &start, &end))
        return NULL;
    pyc_keep keep = {0};
    const void *kp;
    size_t kn;
    if (pyc_key(key, &kp, &kn, &keep) < 0)
        return NULL;
    pc_val v;
    int rc = pc_getrange(r, kp, kn, start, end, &v);
    pyc_keep_clear(&keep);
    if (rc == PC_ENOTFOUND)
        return pyc_out_bytes("", 0, cv);
    if (rc)
        return read_fail(rc, "getrange");
    return pyc_out(&v, cv);
}

/* lrange / qrange */
static PyObject *read_seq_range(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw,
                                bool queue)
{
    static char *kwlist[] = {"key", "start", "stop", NULL};
    PyObject *key;
    long long start = 0, stop = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, queue ? "O|LL:qrange" : "O|LL:lrange", kwlist, &key,
                                     &start, &stop))
        return NULL;
    pyc_keep keep = {0};
    const void *kp;
    size_t kn;
    if (pyc_key(key, &kp, &kn, &keep) < 0)
        return NULL;
    PyObject *res = queue ? read_range(r, kp, kn, start, stop, pc_qlen, pc_qrange, cv, "qrange")
                          : read_range(r, kp, kn, start, stop, pc_llen, pc_lrange, cv, "lrange");
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_lrange(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    return read_seq_range(r, cv, a, kw, false);
}

static PyObject *rop_qrange(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    return read_seq_range(r, cv, a, kw, true);
}

static PyObject *rop_lindex(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "index", NULL};
    PyObject *key;
    long long index;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OL:lindex", kwlist, &key, &index))
        return NULL;
    pyc_keep keep = {0};
    const void *kp;
    size_t kn;
    if (pyc_key(key, &kp, &kn, &keep) < 0)
        return NULL;
    pc_val v;
    int rc = pc_lindex(r, kp, kn, index, &v);
    pyc_keep_clear(&keep);
    if (rc == PC_ENOTFOUND || rc == PC_ERANGE)
        Py_RETURN_NONE;
    if (rc)
        return read_fail(rc, "lindex");
    return pyc_out(&v, cv);
}

static PyObject *rop_qpeek(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", NULL};
    PyObject *key;
    const void *kp;
    size_t kn;
    pyc_keep keep = {0};
    if (read_key_arg(args, kw, "O:qpeek", kwlist, &key, &kp, &kn, &keep) < 0)
        return NULL;
    pc_val v;
    int rc = pc_qpeek(r, kp, kn, &v);
    pyc_keep_clear(&keep);
    if (rc == PC_ENOTFOUND)
        Py_RETURN_NONE;
    if (rc)
        return read_fail(rc, "qpeek");
    return pyc_out(&v, cv);
}

static PyObject *rop_hget(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "field", NULL};
    PyObject *key, *field;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:hget", kwlist, &key, &field))
        return NULL;
    pyc_keep keep = {0};
    const void *kp, *fp;
    size_t kn, fn;
    PyObject *res = NULL;
    if (pyc_key(key, &kp, &kn, &keep) == 0 && pyc_bytes(field, &fp, &fn, &keep, "a field") == 0) {
        pc_val v;
        int rc = pc_hget(r, kp, kn, fp, fn, &v);
        if (rc == PC_ENOTFOUND)
            res = Py_NewRef(Py_None);
        else if (rc)
            read_fail(rc, "hget");
        else
            res = pyc_out(&v, cv);
    }
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_hexists(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    (void)cv;
    static char *kwlist[] = {"key", "field", NULL};
    PyObject *key, *field;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:hexists", kwlist, &key, &field))
        return NULL;
    pyc_keep keep = {0};
    const void *kp, *fp;
    size_t kn, fn;
    PyObject *res = NULL;
    if (pyc_key(key, &kp, &kn, &keep) == 0 && pyc_bytes(field, &fp, &fn, &keep, "a field") == 0) {
        int e = 0;
        int rc = pc_hexists(r, kp, kn, fp, fn, &e);
        res = rc ? read_fail(rc, "hexists") : PyBool_FromLong(e);
    }
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_hmget(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "fields", NULL};
    PyObject *key, *seq;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:hmget", kwlist, &key, &seq))
        return NULL;
    pyc_keep keep = {0};
    const void *kp;
    size_t kn, n = 0;
    pc_bytes *fields = NULL;
    pc_val *out = NULL;
    PyObject *list = NULL;
    if (pyc_key(key, &kp, &kn, &keep) < 0 || read_keys_arg(seq, &fields, &n, &keep) < 0)
        goto done;
    if (!(out = PyMem_Malloc((n ? n : 1) * sizeof *out))) {
        PyErr_NoMemory();
        goto done;
    }
    int rc = pc_hmget(r, kp, kn, fields, n, out);
    if (rc) {
        read_fail(rc, "hmget");
        goto done;
    }
    if (!(list = PyList_New((Py_ssize_t)n)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        PyObject *o = pyc_out(&out[i], cv);
        if (!o) {
            Py_CLEAR(list);
            goto done;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, o);
    }
done:
    PyMem_Free(out);
    PyMem_Free(fields);
    pyc_keep_clear(&keep);
    return list;
}

static PyObject *rop_hgetall(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", NULL};
    PyObject *key;
    const void *kp;
    size_t kn;
    pyc_keep keep = {0};
    if (read_key_arg(args, kw, "O:hgetall", kwlist, &key, &kp, &kn, &keep) < 0)
        return NULL;
    PyObject *res = read_map(r, kp, kn, cv);
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_sismember(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    (void)cv;
    static char *kwlist[] = {"key", "member", NULL};
    PyObject *key, *member;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:sismember", kwlist, &key, &member))
        return NULL;
    pyc_keep keep = {0};
    const void *kp;
    size_t kn;
    pc_val m;
    PyObject *res = NULL;
    if (pyc_key(key, &kp, &kn, &keep) == 0 && pyc_val(member, &m, &keep, PYC_ELEMENT) == 0) {
        int e = 0;
        int rc = pc_sismember(r, kp, kn, &m, &e);
        res = rc ? read_fail(rc, "sismember") : PyBool_FromLong(e);
    }
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_smembers(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", NULL};
    PyObject *key;
    const void *kp;
    size_t kn;
    pyc_keep keep = {0};
    if (read_key_arg(args, kw, "O:smembers", kwlist, &key, &kp, &kn, &keep) < 0)
        return NULL;
    PyObject *res = read_members(r, kp, kn, NULL, 0, NULL, cv, "smembers");
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *read_algebra(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw,
                              scan_fn fn, const char *what)
{
    if (kw && PyDict_GET_SIZE(kw)) {
        PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", what);
        return NULL;
    }
    pyc_keep keep = {0};
    pc_bytes *keys;
    size_t n;
    if (read_keys_arg(args, &keys, &n, &keep) < 0)
        return NULL;
    PyObject *res = NULL;
    if (!n)
        PyErr_Format(PyExc_TypeError, "%s() needs at least one key", what);
    else
        res = read_members(r, NULL, 0, keys, n, fn, cv, what);
    PyMem_Free(keys);
    pyc_keep_clear(&keep);
    return res;
}

static PyObject *rop_sunion(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    return read_algebra(r, cv, a, kw, pc_sunion, "sunion");
}
static PyObject *rop_sinter(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    return read_algebra(r, cv, a, kw, pc_sinter, "sinter");
}
static PyObject *rop_sdiff(pc_read *r, const pyc_conv *cv, PyObject *a, PyObject *kw)
{
    return read_algebra(r, cv, a, kw, pc_sdiff, "sdiff");
}

/* A glob argument: NULL for None. */
static int read_glob(PyObject *pattern, const char **glob, pyc_keep *keep)
{
    if (pattern == Py_None) {
        *glob = NULL;
        return 0;
    }
    const void *p;
    size_t n;
    if (pyc_bytes(pattern, &p, &n, keep, "a pattern") < 0)
        return -1;
    if (memchr(p, 0, n)) {
        PyErr_SetString(PyExc_ValueError, "a pattern cannot contain a NUL character");
        return -1;
    }
    /* NUL-terminated: str's UTF-8 and bytes both are. */
    PyObject *b = PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
    if (!b)
        return -1;
    if (!keep->list && !(keep->list = PyList_New(0))) {
        Py_DECREF(b);
        return -1;
    }
    int rc = PyList_Append(keep->list, b);
    Py_DECREF(b);
    *glob = PyBytes_AS_STRING(b);
    return rc;
}

static PyObject *rop_keys(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"pattern", NULL};
    PyObject *pattern = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:keys", kwlist, &pattern))
        return NULL;
    pyc_keep keep = {0};
    const char *glob;
    if (read_glob(pattern, &glob, &keep) < 0)
        return NULL;
    PyObject *list = PyList_New(0);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes buf[PAGE];
    while (list && !cur.done) {
        size_t got = 0;
        int rc = pc_scan(r, glob, &cur, buf, PAGE, &got);
        if (rc) {
            read_fail(rc, "keys");
            Py_CLEAR(list);
            break;
        }
        for (size_t i = 0; i < got; i++) {
            PyObject *o = pyc_out_bytes(buf[i].ptr, buf[i].len, cv);
            if (!o || PyList_Append(list, o) < 0) {
                Py_XDECREF(o);
                Py_CLEAR(list);
                break;
            }
            Py_DECREF(o);
        }
    }
    pyc_keep_clear(&keep);
    return list;
}

static PyObject *rop_expired_count(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    (void)cv;
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, ":expired_count", kwlist))
        return NULL;
    uint64_t n = 0;
    int rc = pc_expired_count(r, &n);
    if (rc)
        return read_fail(rc, "expired_count");
    return PyLong_FromUnsignedLongLong(n);
}

static PyObject *rop_expiring(pc_read *r, const pyc_conv *cv, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"pattern", NULL};
    PyObject *pattern = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:expiring", kwlist, &pattern))
        return NULL;
    pyc_keep keep = {0};
    const char *glob;
    if (read_glob(pattern, &glob, &keep) < 0)
        return NULL;
    PyObject *list = PyList_New(0);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[PAGE];
    int64_t at[PAGE];
    while (list && !cur.done) {
        size_t got = 0;
        int rc = pc_expiry_scan(r, glob, &cur, keys, at, PAGE, &got);
        if (rc) {
            read_fail(rc, "expiring");
            Py_CLEAR(list);
            break;
        }
        for (size_t i = 0; i < got; i++) {
            PyObject *k = pyc_out_bytes(keys[i].ptr, keys[i].len, cv);
            PyObject *o = k ? Py_BuildValue("(NL)", k, (long long)at[i]) : NULL;
            if (!o || PyList_Append(list, o) < 0) {
                Py_XDECREF(o);
                Py_CLEAR(list);
                break;
            }
            Py_DECREF(o);
        }
    }
    pyc_keep_clear(&keep);
    return list;
}

/* ---- running a read operation ---- */

static PyObject *read_pinned(void)
{
    PyErr_SetString(PyExc_BufferError,
                    "a view of an ended pycache read is still in use (a slice of it, or a "
                    "buffer made from it) while a batch or transaction is open on this "
                    "thread; release it first");
    return NULL;
}

/* A Client method: op in the thread's open Read if there is one, else in a
 * read of its own, begun and ended here. */
static PyObject *client_read_run(pyc_client *self, read_op op, PyObject *args, PyObject *kw)
{
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    pyc_conv cv = {self->decode, NULL};
    PyObject *res;
    if (h->rd) {
        res = h->rd->state == RD_OPEN ? op(h->rd->r, &cv, args, kw) : read_pinned();
    } else {
        pc_read *r;
        int rc = pc_read_begin(h->c, &r);
        if (rc) {
            res = pyc_raise(rc, "read");
        } else {
            res = op(r, &cv, args, kw);
            pc_read_end(r);
        }
    }
    pyc_handle_put(self, h);
    return res;
}

PyObject *pyc_client_get(pyc_client *self, PyObject *key)
{
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    pyc_conv cv = {self->decode, NULL};
    PyObject *res;
    if (h->rd) {
        res = h->rd->state == RD_OPEN ? rop_get(h->rd->r, &cv, key) : read_pinned();
    } else {
        pc_read *r;
        int rc = pc_read_begin(h->c, &r);
        if (rc) {
            res = pyc_raise(rc, "read");
        } else {
            res = rop_get(r, &cv, key);
            pc_read_end(r);
        }
    }
    pyc_handle_put(self, h);
    return res;
}

/* A Read method: checks, then op in the read's snapshot with views. */
static pyc_handle *read_enter_call(pyc_read_obj *rd)
{
    if (rd->state != RD_OPEN)
        return pyc_raise_named("StateError", "this read has ended"), NULL;
    if (rd->client->closed)
        return pyc_raise_named("ClosedError", "the client is closed"), NULL;
    if (rd->client->fork_gen != pyc_fork_gen)
        return pyc_raise_named("ForkError", "this read was begun before fork()"), NULL;
    pyc_handle *h = rd->h;
    if (PyThreadState_GetID(PyThreadState_Get()) != h->tid)
        return pyc_raise_named("StateError",
                               "a read belongs to the thread that began it; use it there"),
               NULL;
    if (h->busy)
        return pyc_raise_named("StateError", "the read was used again from within one of its "
                                             "own calls (a finalizer or signal handler?)"),
               NULL;
    h->busy++;
    return h;
}

static PyObject *read_run(pyc_read_obj *rd, read_op op, PyObject *args, PyObject *kw)
{
    pyc_handle *h = read_enter_call(rd);
    if (!h)
        return NULL;
    pyc_conv cv = {rd->client->decode, (PyObject *)rd};
    PyObject *res = op(rd->r, &cv, args, kw);
    pyc_handle_put(rd->client, h);
    return res;
}

static PyObject *read_get(pyc_read_obj *rd, PyObject *key)
{
    pyc_handle *h = read_enter_call(rd);
    if (!h)
        return NULL;
    pyc_conv cv = {rd->client->decode, (PyObject *)rd};
    PyObject *res = rop_get(rd->r, &cv, key);
    pyc_handle_put(rd->client, h);
    return res;
}

/* Every read operation: name, positional signature, what it returns. */
#define READ_OPS(X)                                                                          \
    X(get_many, "(keys)",                                                                    \
      "The values of several keys of any type, as a dict of the keys that exist.")           \
    X(get_versioned, "(key)",                                                                \
      "(value, version) of key in one snapshot, or (None, None) when missing.")              \
    X(mget, "(keys)",                                                                        \
      "The values of several String/Numeric keys, as a list (None where missing or a "       \
      "collection).")                                                                        \
    X(exists, "(key)", "Whether key exists.")                                                \
    X(type, "(key)",                                                                         \
      "The key's type: 'string', 'numeric', 'list', 'map', 'set', 'queue', or None.")        \
    X(ttl, "(key)",                                                                          \
      "Seconds the key has left (a float), None without a TTL; NotFoundError when missing.") \
    X(pttl, "(key)",                                                                         \
      "Milliseconds the key has left (an int), None without a TTL; NotFoundError when "      \
      "missing.")                                                                            \
    X(version, "(key)",                                                                      \
      "The key's version: it grows with every write (for Transaction.require_version).")     \
    X(strlen, "(key)", "Length in bytes of a String (0 when missing).")                      \
    X(getrange, "(key, start, end)",                                                         \
      "Bytes start..end inclusive of a String (negative counts from the end).")              \
    X(llen, "(key)", "Number of elements of a List (0 when missing).")                       \
    X(lindex, "(key, index)", "The List element at index, or None.")                         \
    X(lrange, "(key, start=0, stop=-1)",                                                     \
      "List elements start..stop inclusive (negative counts from the tail), as a list.")     \
    X(qlen, "(key)", "Number of elements of a Queue (0 when missing).")                      \
    X(qpeek, "(key)", "The element at the front of a Queue, or None.")                       \
    X(qrange, "(key, start=0, stop=-1)", "Queue elements from the front, as lrange.")        \
    X(hget, "(key, field)", "A Map field's value, or None.")                                 \
    X(hmget, "(key, fields)", "Several fields' values, as a list (None where missing).")     \
    X(hlen, "(key)", "Number of fields of a Map (0 when missing).")                          \
    X(hexists, "(key, field)", "Whether a Map has field.")                                   \
    X(hgetall, "(key)", "Every field of a Map, as a dict (empty when missing).")             \
    X(scard, "(key)", "Number of members of a Set (0 when missing).")                        \
    X(sismember, "(key, member)", "Whether a Set holds member.")                             \
    X(smembers, "(key)", "Every member of a Set, as a set (empty when missing).")            \
    X(sunion, "(*keys)", "Members of any of the Sets, as a set.")                            \
    X(sinter, "(*keys)", "Members of all of the Sets, as a set.")                            \
    X(sdiff, "(*keys)", "Members of the first Set that are in none of the others.")          \
    X(keys, "(pattern=None)",                                                                \
      "The live keys whose names match a glob (fnmatch rules; None: all), as a list.")       \
    X(expired_count, "()",                                                                   \
      "How many keys have expired but are still stored (reads already miss them).")          \
    X(expiring, "(pattern=None)",                                                            \
      "Keys with a TTL, shard by shard, soonest first in each: (key, expire_at_ms) pairs.")

#define READ_WRAP(name, sig, doc)                                                \
    static PyObject *client_##name(pyc_client *self, PyObject *a, PyObject *kw)  \
    {                                                                            \
        return client_read_run(self, rop_##name, a, kw);                         \
    }                                                                            \
    static PyObject *readm_##name(pyc_read_obj *self, PyObject *a, PyObject *kw) \
    {                                                                            \
        return read_run(self, rop_##name, a, kw);                                \
    }
READ_OPS(READ_WRAP)

#define CLIENT_ENTRY(name, sig, doc)                                                  \
    {#name, (PyCFunction)(void (*)(void))client_##name, METH_VARARGS | METH_KEYWORDS, \
     #name sig "\n--\n\n" doc},
#define READ_ENTRY(name, sig, doc)                                                   \
    {#name, (PyCFunction)(void (*)(void))readm_##name, METH_VARARGS | METH_KEYWORDS, \
     #name sig "\n--\n\n" doc},

#define GET_DOC                                                                              \
    "get(key, /)\n--\n\nThe value of key, of any type: str (bytes with decode=False), int, " \
    "float, list, dict, set or collections.deque; None when the key is missing."

PyMethodDef pyc_client_read_methods[] = {
    {"get", (PyCFunction)pyc_client_get, METH_O, GET_DOC},
    /* clang-format off */
    READ_OPS(CLIENT_ENTRY)
    /* clang-format on */
    {NULL, NULL, 0, NULL},
};

/* ---- the Read type ---- */

PyObject *pyc_read_begin(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    PyObject *res = NULL;
    pc_read *r;
    int rc;
    if (h->rd) {
        pyc_raise_named("StateError", "a read is already open on this thread; end it first");
    } else if ((rc = pc_read_begin(h->c, &r))) {
        pyc_raise(rc, "read");
    } else {
        pyc_read_obj *rd = PyObject_New(pyc_read_obj, &pyc_read_type);
        if (!rd) {
            pc_read_end(r);
        } else {
            Py_INCREF(self);
            rd->client = self;
            rd->h = h;
            rd->r = r;
            rd->state = RD_OPEN;
            rd->exports = 0;
            rd->views = NULL;
            rd->detached = false;
            rd->weakrefs = NULL;
            h->rd = rd;
            res = (PyObject *)rd;
        }
    }
    pyc_handle_put(self, h);
    return res;
}

static PyObject *read_enter(pyc_read_obj *rd, PyObject *unused)
{
    (void)unused;
    if (rd->state != RD_OPEN)
        return pyc_raise_named("StateError", "this read has ended");
    Py_INCREF(rd);
    return (PyObject *)rd;
}

static PyObject *read_close(pyc_read_obj *rd, PyObject *unused)
{
    (void)unused;
    read_end(rd);
    Py_RETURN_NONE;
}

static PyObject *read_exit(pyc_read_obj *rd, PyObject *args)
{
    (void)args;
    read_end(rd);
    Py_RETURN_FALSE;
}

static void read_dealloc(pyc_read_obj *rd)
{
    if (rd->weakrefs)
        PyObject_ClearWeakRefs((PyObject *)rd);
    /* No span is left (each holds its read), so no buffer is exported. */
    if (rd->state == RD_OPEN) {
        pyc_handle *h = rd->h;
        if (h->busy) { /* its thread is in a call on h: end it there */
            h->orphan = rd->r;
            h->rd = NULL;
            Py_CLEAR(rd->views);
        } else {
            read_end(rd);
        }
    } else if (rd->state == RD_ENDED && rd->h) { /* ended while its handle was busy */
        if (rd->h->busy) {
            rd->h->rd = NULL;
            rd->h->orphan = rd->r;
        } else {
            read_finish(rd);
        }
    }
    Py_XDECREF(rd->views);
    Py_DECREF(rd->client);
    PyObject_Free(rd);
}

static PyObject *read_get_open(pyc_read_obj *rd, void *unused)
{
    (void)unused;
    return PyBool_FromLong(rd->state == RD_OPEN);
}

static PyGetSetDef read_getset[] = {
    {"open", (getter)read_get_open, NULL, "True until the read's block ends.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef read_methods[] = {
    {"get", (PyCFunction)read_get, METH_O,
     "get(key, /)\n--\n\nThe value of key as of this read: a String is a memoryview into the "
     "map, valid until the read ends."},
    /* clang-format off */
    READ_OPS(READ_ENTRY)
    /* clang-format on */
    {"close", (PyCFunction)read_close, METH_NOARGS,
     "close()\n--\n\nEnd the read (as leaving its with block does)."},
    {"__enter__", (PyCFunction)read_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)read_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pyc_read_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pycache._pycache.Read",
    .tp_basicsize = sizeof(pyc_read_obj),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One consistent snapshot of the store, from Client.read().\n\n"
              "Its methods are the Client's reads; byte strings come back as read-only\n"
              "memoryviews into the map, valid until the read ends (leaving the with\n"
              "block, or close()): using one afterwards raises ValueError.",
    .tp_dealloc = (destructor)read_dealloc,
    .tp_weaklistoffset = offsetof(pyc_read_obj, weakrefs),
    .tp_methods = read_methods,
    .tp_getset = read_getset,
};
