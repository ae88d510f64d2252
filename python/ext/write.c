/*
 * write.c - writes, batches and transactions.
 *
 * Every write is one library call on the thread's handle.  Outside a batch
 * or transaction it runs with the GIL released (it waits for the daemon's
 * acknowledgement, or runs an LMDB commit in embedded mode) and its result
 * is converted at once.  Inside one it is only queued: the library checks
 * its arguments and copies them, and the out-parameters it will fill live
 * in an op record kept by the handle until exec_batch() or commit().
 */
#include "pyc.h"

#include <string.h>
#include <time.h>

/* How an op's out-parameters become its Python result. */
enum op_kind {
    RK_NONE, /* None */
    RK_BOOL, /* the int flag, as a bool */
    RK_INT,  /* the int flag, as an int */
    RK_U64,
    RK_I64,
    RK_DBL,
    RK_SET,  /* True; False when NX/XX did not hold */
    RK_POP1, /* one popped element or None */
    RK_POPN, /* a list of popped elements */
    RK_OLD,  /* getset's old value or None */
    RK_COND  /* a transaction's condition: no result */
};

struct pyc_op {
    int kind;
    const char *what; /* the operation's name, for its error */
    int flag;
    int64_t i;
    uint64_t u;
    double d;
    pc_val one;
    pc_val *vals;
    size_t max, n;
};

static void op_free(pyc_op *op)
{
    PyMem_Free(op->vals);
    PyMem_Free(op);
}

void pyc_ops_clear(pyc_handle *h)
{
    for (size_t i = 0; i < h->nops; i++)
        op_free(h->ops[i]);
    h->nops = 0;
}

/* The Python result of an op that returned rc (NULL with an exception). */
static PyObject *op_result(const pyc_op *op, int rc, const pyc_conv *cv, const char *what)
{
    if (rc) {
        if (op->kind == RK_SET && (rc == PC_EEXIST || rc == PC_ENOTFOUND))
            Py_RETURN_FALSE;
        if (op->kind == RK_POP1 && rc == PC_ENOTFOUND)
            Py_RETURN_NONE;
        if (op->kind == RK_POPN && rc == PC_ENOTFOUND)
            return PyList_New(0);
        return pyc_raise(rc, what);
    }
    switch (op->kind) {
    case RK_BOOL:
        return PyBool_FromLong(op->flag);
    case RK_INT:
        return PyLong_FromLong(op->flag);
    case RK_U64:
        return PyLong_FromUnsignedLongLong(op->u);
    case RK_I64:
        return PyLong_FromLongLong(op->i);
    case RK_DBL:
        return PyFloat_FromDouble(op->d);
    case RK_SET:
        Py_RETURN_TRUE;
    case RK_POP1:
        if (!op->n)
            Py_RETURN_NONE;
        return pyc_out(&op->vals[0], cv);
    case RK_POPN: {
        PyObject *l = PyList_New((Py_ssize_t)op->n);
        for (size_t i = 0; l && i < op->n; i++) {
            PyObject *o = pyc_out(&op->vals[i], cv);
            if (!o) {
                Py_CLEAR(l);
                break;
            }
            PyList_SET_ITEM(l, (Py_ssize_t)i, o);
        }
        return l;
    }
    case RK_OLD:
        return pyc_out(&op->one, cv);
    default:
        Py_RETURN_NONE;
    }
}

/* ---- one write ---- */

typedef struct wctx {
    pyc_client *self;
    pyc_handle *h;
    pyc_op *op;
    pyc_op stack;
    bool queued;
    pyc_keep keep;
    const char *what;
} wctx;

/* Begin a write: the handle, and an op record for kind (max: elements it
 * may pop).  0, or -1 with an exception. */
static int w_begin(wctx *w, pyc_client *self, const char *what, int kind, size_t max)
{
    memset(w, 0, sizeof *w);
    w->self = self;
    w->what = what;
    if (!(w->h = pyc_handle_get(self)))
        return -1;
    w->queued = w->h->mode != PYC_IDLE;
    w->op = w->queued ? PyMem_Calloc(1, sizeof *w->op) : &w->stack;
    if (!w->op)
        goto nomem;
    w->op->kind = kind;
    w->op->what = what;
    if (max) {
        if (max > SIZE_MAX / sizeof(pc_val) || !(w->op->vals = PyMem_Malloc(max * sizeof(pc_val))))
            goto nomem;
        w->op->max = max;
    }
    return 0;
nomem:
    if (w->queued && w->op)
        op_free(w->op);
    pyc_handle_put(self, w->h);
    PyErr_NoMemory();
    return -1;
}

/* Give up before the call (bad arguments): NULL. */
static PyObject *w_abort(wctx *w)
{
    if (w->queued)
        op_free(w->op);
    else
        PyMem_Free(w->op->vals);
    pyc_keep_clear(&w->keep);
    pyc_handle_put(w->self, w->h);
    return NULL;
}

/* Run a library call on the handle: without the GIL unless only queued. */
#define W_CALL(w, rc, call)                           \
    do {                                              \
        if ((w)->queued) {                            \
            (rc) = (call);                            \
        } else {                                      \
            PyThreadState *ts_ = PyEval_SaveThread(); \
            (rc) = (call);                            \
            PyEval_RestoreThread(ts_);                \
        }                                             \
    } while (0)

/* Room for one more op in h's list.  0 or -1. */
static int w_grow(pyc_handle *h)
{
    size_t cap = h->capops ? 2 * h->capops : 16;
    pyc_op **ops = PyMem_Realloc(h->ops, cap * sizeof *ops);
    if (!ops)
        return -1;
    h->ops = ops;
    h->capops = cap;
    return 0;
}

/* What pc_last_error() says was wrong with c's last failed call (its words
 * between "call: message: " and " (PC_NAME)") into buf, or what when it
 * says nothing more. */
static const char *last_why(pc_client *c, int rc, const char *what, char *buf, size_t size)
{
    const char *e = pc_last_error(c), *m = pc_strerror(rc);
    const char *p = strstr(e, m), *end = strrchr(e, '(');
    if (!p || !end)
        return what;
    p += strlen(m);
    if (strncmp(p, ": ", 2) != 0 || end < p + 3)
        return what;
    p += 2;
    snprintf(buf, size, "%.*s", (int)(end - 1 - p), p);
    return buf;
}

/* The end of a write that returned rc: its result, or None when queued. */
static PyObject *w_end(wctx *w, int rc)
{
    PyObject *res = NULL;
    pyc_keep_clear(&w->keep);
    if (w->queued) {
        pyc_handle *h = w->h;
        if (rc) {
            op_free(w->op);
            /* A key in another shard than the transaction's: the
             * library's words name both keys and the tag to use. */
            char why[1024];
            pyc_raise(rc, rc == PC_ECROSSSHARD ? last_why(h->c, rc, w->what, why, sizeof why)
                                               : w->what);
        } else if (h->nops == h->capops && w_grow(h) < 0) {
            /* cannot keep its out-parameters: drop the whole batch */
            op_free(w->op);
            pc_discard(h->c);
            h->mode = PYC_IDLE;
            pyc_ops_clear(h);
            PyErr_NoMemory();
        } else {
            h->ops[h->nops++] = w->op;
            res = Py_NewRef(Py_None);
        }
    } else {
        pyc_conv cv = {w->self->decode, NULL};
        res = op_result(w->op, rc, &cv, w->what);
        PyMem_Free(w->op->vals);
    }
    pyc_handle_put(w->self, w->h);
    return res;
}

/* Parse a key argument into w->keep.  0 or -1. */
static int w_key(wctx *w, PyObject *key, const void **kp, size_t *kn)
{
    return pyc_key(key, kp, kn, &w->keep);
}

/* A TTL argument in seconds: None -> 0 (none); otherwise at least 1 ms. */
static int w_ttl(PyObject *o, int64_t *ms, bool allow_none)
{
    if (pyc_ms(o, ms, allow_none, "ttl") < 0)
        return -1;
    if (o != Py_None && *ms <= 0) {
        PyErr_SetString(PyExc_ValueError, "ttl must be positive");
        return -1;
    }
    return 0;
}

/* ---- strings, numerics, keys ---- */

static PyObject *w_set(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "value", "ttl", "nx", "xx", "keepttl", "type", NULL};
    PyObject *key, *value, *ttl = Py_None, *type = Py_None;
    int nx = 0, xx = 0, keepttl = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$pppO:set", kwlist, &key, &value, &ttl, &nx,
                                     &xx, &keepttl, &type))
        return NULL;
    int64_t ms;
    pc_type t;
    if (w_ttl(ttl, &ms, true) < 0)
        return NULL;
    if (type == Py_None) {
        t = pyc_coll_type(value);
    } else {
        if (pyc_type_arg(type, &t) < 0)
            return NULL;
        if (t == PC_T_STRING || t == PC_T_NUMERIC) {
            bool num = PyLong_Check(value) || PyFloat_Check(value);
            if (PyBool_Check(value) || num != (t == PC_T_NUMERIC)) {
                PyErr_Format(PyExc_TypeError, "a %s cannot be stored as a %s",
                             Py_TYPE(value)->tp_name, pc_type_name(t));
                return NULL;
            }
            t = PC_T_NONE;
        }
    }
    unsigned flags = (nx ? PC_NX : 0) | (xx ? PC_XX : 0) | (keepttl ? PC_KEEPTTL : 0);
    wctx w;
    if (w_begin(&w, self, "set", RK_SET, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    if (t == PC_T_NONE) {
        pc_val v;
        if (pyc_val(value, &v, &w.keep, PYC_SCALAR) < 0)
            return w_abort(&w);
        W_CALL(&w, rc, pc_set(w.h->c, kp, kn, &v, ms, flags));
    } else {
        pc_val *items = NULL;
        size_t n = 0;
        int prc = t == PC_T_MAP ? pyc_pairs(value, &items, &n, &w.keep)
                                : pyc_vals(value, &items, &n, &w.keep, "a collection");
        if (prc < 0)
            return w_abort(&w);
        W_CALL(&w, rc, pc_set_coll(w.h->c, kp, kn, t, items, n, ms, flags));
        PyMem_Free(items);
    }
    return w_end(&w, rc);
}

static PyObject *w_mset(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"mapping", NULL};
    PyObject *map;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:mset", kwlist, &map))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "mset", RK_NONE, 0) < 0)
        return NULL;
    pc_val *items = NULL;
    size_t n = 0;
    if (pyc_pairs(map, &items, &n, &w.keep) < 0)
        return w_abort(&w);
    /* pyc_pairs made elements; keys and String/Numeric values are wanted */
    size_t np = n / 2;
    pc_bytes *keys = PyMem_Malloc((np ? np : 1) * sizeof *keys);
    pc_val *vals = PyMem_Malloc((np ? np : 1) * sizeof *vals);
    int rc = 0;
    if (!keys || !vals) {
        PyErr_NoMemory();
        rc = -1;
    }
    for (size_t i = 0; !rc && i < np; i++) {
        keys[i] = items[2 * i].s;
        vals[i] = items[2 * i + 1];
        if (vals[i].kind != PC_BYTES && vals[i].kind != PC_INT && vals[i].kind != PC_DOUBLE) {
            PyErr_SetString(PyExc_TypeError, "mset stores Strings and Numerics only");
            rc = -1;
        }
    }
    PyMem_Free(items);
    if (rc) {
        PyMem_Free(keys);
        PyMem_Free(vals);
        return w_abort(&w);
    }
    W_CALL(&w, rc, pc_mset(w.h->c, keys, vals, np));
    PyMem_Free(keys);
    PyMem_Free(vals);
    return w_end(&w, rc);
}

/* Writes of the form f(c, key, klen, <out>) */
static PyObject *w_key_only(pyc_client *self, PyObject *args, PyObject *kw, const char *fmt,
                            int kind, int which)
{
    static char *kwlist[] = {"key", NULL};
    PyObject *key;
    if (!PyArg_ParseTupleAndKeywords(args, kw, fmt, kwlist, &key))
        return NULL;
    wctx w;
    if (w_begin(&w, self, fmt + 2, kind, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    if (which == 0)
        W_CALL(&w, rc, pc_del(w.h->c, kp, kn, &w.op->flag));
    else
        W_CALL(&w, rc, pc_persist(w.h->c, kp, kn, &w.op->flag));
    return w_end(&w, rc);
}

static PyObject *w_delete(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_key_only(self, a, kw, "O:delete", RK_INT, 0);
}

static PyObject *w_persist(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_key_only(self, a, kw, "O:persist", RK_BOOL, 1);
}

static PyObject *w_expire(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "ttl", NULL};
    PyObject *key, *ttl;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:expire", kwlist, &key, &ttl))
        return NULL;
    int64_t ms;
    if (w_ttl(ttl, &ms, false) < 0)
        return NULL;
    wctx w;
    if (w_begin(&w, self, "expire", RK_BOOL, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_expire(w.h->c, kp, kn, ms, &w.op->flag));
    return w_end(&w, rc);
}

static PyObject *w_getset(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "value", NULL};
    PyObject *key, *value;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:getset", kwlist, &key, &value))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "getset", RK_OLD, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    pc_val v;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_val(value, &v, &w.keep, PYC_SCALAR) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_getset(w.h->c, kp, kn, &v, &w.op->one));
    return w_end(&w, rc);
}

static PyObject *w_append(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "data", NULL};
    PyObject *key, *data;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:append", kwlist, &key, &data))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "append", RK_U64, 0) < 0)
        return NULL;
    const void *kp, *dp;
    size_t kn, dn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_bytes(data, &dp, &dn, &w.keep, "data") < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_append(w.h->c, kp, kn, dp, dn, &w.op->u));
    return w_end(&w, rc);
}

static PyObject *w_setrange(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "offset", "data", NULL};
    PyObject *key, *data;
    unsigned long long offset;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OKO:setrange", kwlist, &key, &offset, &data))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "setrange", RK_U64, 0) < 0)
        return NULL;
    const void *kp, *dp;
    size_t kn, dn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_bytes(data, &dp, &dn, &w.keep, "data") < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_setrange(w.h->c, kp, kn, offset, dp, dn, &w.op->u));
    return w_end(&w, rc);
}

static PyObject *w_incr(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "by", NULL};
    PyObject *key;
    long long by = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|L:incr", kwlist, &key, &by))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "incr", RK_I64, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_incrby(w.h->c, kp, kn, by, &w.op->i));
    return w_end(&w, rc);
}

static PyObject *w_incrbyfloat(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "by", NULL};
    PyObject *key;
    double by;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Od:incrbyfloat", kwlist, &key, &by))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "incrbyfloat", RK_DBL, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_incrbyfloat(w.h->c, kp, kn, by, &w.op->d));
    return w_end(&w, rc);
}

/* ---- lists, queues, sets: pushes, adds, removes, pops ---- */

typedef int (*push_fn)(pc_client *, const void *, size_t, const pc_val *, size_t, uint64_t *);

/* f(key, *values) -> count */
static PyObject *w_varvals(pyc_client *self, PyObject *args, PyObject *kw, push_fn fn,
                           const char *what)
{
    if (kw && PyDict_GET_SIZE(kw)) {
        PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", what);
        return NULL;
    }
    if (PyTuple_GET_SIZE(args) < 2) {
        PyErr_Format(PyExc_TypeError, "%s() needs a key and at least one value", what);
        return NULL;
    }
    wctx w;
    if (w_begin(&w, self, what, RK_U64, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn, n;
    pc_val *vals;
    int rc;
    PyObject *rest = PyTuple_GetSlice(args, 1, PyTuple_GET_SIZE(args));
    if (!rest || w_key(&w, PyTuple_GET_ITEM(args, 0), &kp, &kn) < 0 ||
        pyc_vals(rest, &vals, &n, &w.keep, "values") < 0) {
        Py_XDECREF(rest);
        return w_abort(&w);
    }
    Py_DECREF(rest);
    W_CALL(&w, rc, fn(w.h->c, kp, kn, vals, n, &w.op->u));
    PyMem_Free(vals);
    return w_end(&w, rc);
}

static PyObject *w_lpush(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_varvals(self, a, kw, pc_lpush, "lpush");
}
static PyObject *w_rpush(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_varvals(self, a, kw, pc_rpush, "rpush");
}
static PyObject *w_qpush(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_varvals(self, a, kw, pc_qpush, "qpush");
}
static PyObject *w_sadd(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_varvals(self, a, kw, pc_sadd, "sadd");
}
static PyObject *w_srem(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_varvals(self, a, kw, pc_srem, "srem");
}

typedef int (*pop_fn)(pc_client *, const void *, size_t, size_t, pc_val *, size_t *);

/* f(key, count=None): one element or None; with count, a list. */
static PyObject *w_pop(pyc_client *self, PyObject *args, PyObject *kw, pop_fn fn, const char *fmt)
{
    static char *kwlist[] = {"key", "count", NULL};
    PyObject *key, *count = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, fmt, kwlist, &key, &count))
        return NULL;
    size_t max = 1;
    if (count != Py_None) {
        Py_ssize_t c = PyLong_AsSsize_t(count);
        if (c == -1 && PyErr_Occurred())
            return NULL;
        if (c < 1) {
            PyErr_SetString(PyExc_ValueError, "count must be at least 1");
            return NULL;
        }
        max = (size_t)c;
    }
    wctx w;
    if (w_begin(&w, self, fmt + 4, count == Py_None ? RK_POP1 : RK_POPN, max) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, fn(w.h->c, kp, kn, max, w.op->vals, &w.op->n));
    return w_end(&w, rc);
}

static PyObject *w_lpop(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_pop(self, a, kw, pc_lpop, "O|O:lpop");
}
static PyObject *w_rpop(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_pop(self, a, kw, pc_rpop, "O|O:rpop");
}
static PyObject *w_qpop(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_pop(self, a, kw, pc_qpop, "O|O:qpop");
}
static PyObject *w_spop(pyc_client *self, PyObject *a, PyObject *kw)
{
    return w_pop(self, a, kw, pc_spop, "O|O:spop");
}

static uint64_t w_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The longest one library wait lasts before signals are looked at. */
#define QPOP_SLICE_MS 100

static PyObject *w_qpop_wait(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "timeout", "count", NULL};
    PyObject *key, *timeout, *count = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:qpop_wait", kwlist, &key, &timeout, &count))
        return NULL;
    int64_t ms;
    if (pyc_ms(timeout, &ms, false, "timeout") < 0)
        return NULL;
    if (ms <= 0) { /* no wait: a plain pop */
        PyObject *a = PyTuple_Pack(2, key, count);
        PyObject *res = a ? w_qpop(self, a, NULL) : NULL;
        Py_XDECREF(a);
        return res;
    }
    size_t max = 1;
    if (count != Py_None) {
        Py_ssize_t c = PyLong_AsSsize_t(count);
        if (c == -1 && PyErr_Occurred())
            return NULL;
        if (c < 1) {
            PyErr_SetString(PyExc_ValueError, "count must be at least 1");
            return NULL;
        }
        max = (size_t)c;
    }
    wctx w;
    if (w_begin(&w, self, "qpop_wait", count == Py_None ? RK_POP1 : RK_POPN, max) < 0)
        return NULL;
    if (w.queued) {
        w_abort(&w);
        return pyc_raise(PC_ESTATE, "qpop_wait (not in a batch or transaction)");
    }
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    uint64_t until = w_now_ms() + (uint64_t)ms;
    for (;;) {
        uint64_t now = w_now_ms();
        int64_t left = now >= until ? 1 : (int64_t)(until - now);
        W_CALL(&w, rc,
               pc_qpop_wait(w.h->c, kp, kn, max, left < QPOP_SLICE_MS ? left : QPOP_SLICE_MS,
                            w.op->vals, &w.op->n));
        if (rc != PC_ETIMEDOUT || w_now_ms() >= until)
            break;
        if (PyErr_CheckSignals() < 0)
            return w_abort(&w);
    }
    if (rc == PC_ETIMEDOUT) { /* nothing came */
        w.op->n = 0;
        rc = 0;
    }
    return w_end(&w, rc);
}

static PyObject *w_lset(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "index", "value", NULL};
    PyObject *key, *value;
    long long index;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OLO:lset", kwlist, &key, &index, &value))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "lset", RK_NONE, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    pc_val v;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_val(value, &v, &w.keep, PYC_ELEMENT) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_lset(w.h->c, kp, kn, index, &v));
    return w_end(&w, rc);
}

static PyObject *w_ltrim(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "start", "stop", NULL};
    PyObject *key;
    long long start, stop;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OLL:ltrim", kwlist, &key, &start, &stop))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "ltrim", RK_NONE, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_ltrim(w.h->c, kp, kn, start, stop));
    return w_end(&w, rc);
}

static PyObject *w_lrem(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "value", "count", NULL};
    PyObject *key, *value;
    long long count = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|L:lrem", kwlist, &key, &value, &count))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "lrem", RK_U64, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    pc_val v;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_val(value, &v, &w.keep, PYC_ELEMENT) < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_lrem(w.h->c, kp, kn, count, &v, &w.op->u));
    return w_end(&w, rc);
}

/* ---- maps ---- */

static PyObject *w_hset(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "field", "value", NULL};
    PyObject *key, *field, *value = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:hset", kwlist, &key, &field, &value))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "hset", RK_U64, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn, n;
    pc_val *pairs = NULL;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    if (value) { /* hset(key, field, value) */
        PyObject *d = Py_BuildValue("{OO}", field, value);
        rc = d ? pyc_pairs(d, &pairs, &n, &w.keep) : -1;
        Py_XDECREF(d);
    } else if (PyDict_Check(field)) { /* hset(key, mapping) */
        rc = pyc_pairs(field, &pairs, &n, &w.keep);
    } else {
        PyErr_SetString(PyExc_TypeError, "hset(key, field, value) or hset(key, mapping)");
        rc = -1;
    }
    if (rc < 0)
        return w_abort(&w);
    size_t np = n / 2;
    pc_bytes *fields = PyMem_Malloc((np ? np : 1) * sizeof *fields);
    pc_val *vals = PyMem_Malloc((np ? np : 1) * sizeof *vals);
    if (!fields || !vals) {
        PyMem_Free(fields);
        PyMem_Free(vals);
        PyMem_Free(pairs);
        PyErr_NoMemory();
        return w_abort(&w);
    }
    for (size_t i = 0; i < np; i++) {
        fields[i] = pairs[2 * i].s;
        vals[i] = pairs[2 * i + 1];
    }
    PyMem_Free(pairs);
    W_CALL(&w, rc, pc_hset(w.h->c, kp, kn, fields, vals, np, &w.op->u));
    PyMem_Free(fields);
    PyMem_Free(vals);
    return w_end(&w, rc);
}

static PyObject *w_hdel(pyc_client *self, PyObject *args, PyObject *kw)
{
    if ((kw && PyDict_GET_SIZE(kw)) || PyTuple_GET_SIZE(args) < 2) {
        PyErr_SetString(PyExc_TypeError, "hdel(key, *fields) needs a key and a field");
        return NULL;
    }
    wctx w;
    if (w_begin(&w, self, "hdel", RK_U64, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn, n = (size_t)PyTuple_GET_SIZE(args) - 1;
    int rc;
    pc_bytes *fields = PyMem_Malloc(n * sizeof *fields);
    if (!fields) {
        PyErr_NoMemory();
        return w_abort(&w);
    }
    if (w_key(&w, PyTuple_GET_ITEM(args, 0), &kp, &kn) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (pyc_bytes(PyTuple_GET_ITEM(args, (Py_ssize_t)i + 1), &fields[i].ptr, &fields[i].len,
                      &w.keep, "a field") < 0)
            goto fail;
    W_CALL(&w, rc, pc_hdel(w.h->c, kp, kn, fields, n, &w.op->u));
    PyMem_Free(fields);
    return w_end(&w, rc);
fail:
    PyMem_Free(fields);
    return w_abort(&w);
}

static PyObject *w_hincrby(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "field", "by", NULL};
    PyObject *key, *field;
    long long by = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|L:hincrby", kwlist, &key, &field, &by))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "hincrby", RK_I64, 0) < 0)
        return NULL;
    const void *kp, *fp;
    size_t kn, fn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_bytes(field, &fp, &fn, &w.keep, "a field") < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_hincrby(w.h->c, kp, kn, fp, fn, by, &w.op->i));
    return w_end(&w, rc);
}

static PyObject *w_hincrbyfloat(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "field", "by", NULL};
    PyObject *key, *field;
    double by;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOd:hincrbyfloat", kwlist, &key, &field, &by))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "hincrbyfloat", RK_DBL, 0) < 0)
        return NULL;
    const void *kp, *fp;
    size_t kn, fn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0 || pyc_bytes(field, &fp, &fn, &w.keep, "a field") < 0)
        return w_abort(&w);
    W_CALL(&w, rc, pc_hincrbyfloat(w.h->c, kp, kn, fp, fn, by, &w.op->d));
    return w_end(&w, rc);
}

/* ---- the whole store ---- */

static PyObject *w_flush(pyc_client *self, PyObject *unused)
{
    (void)unused;
    wctx w;
    if (w_begin(&w, self, "flush", RK_NONE, 0) < 0)
        return NULL;
    int rc;
    W_CALL(&w, rc, pc_flush(w.h->c));
    return w_end(&w, rc);
}

static PyObject *w_purge_expired(pyc_client *self, PyObject *unused)
{
    (void)unused;
    wctx w;
    if (w_begin(&w, self, "purge_expired", RK_U64, 0) < 0)
        return NULL;
    int rc;
    W_CALL(&w, rc, pc_purge_expired(w.h->c, &w.op->u));
    return w_end(&w, rc);
}

static PyObject *w_set_expire_interval(pyc_client *self, PyObject *arg)
{
    int64_t ms;
    if (pyc_ms(arg, &ms, false, "interval") < 0)
        return NULL;
    if (ms < 0 || ms > 3600000) {
        PyErr_SetString(PyExc_ValueError, "interval must be 0 (stop) to 3600 seconds");
        return NULL;
    }
    wctx w;
    if (w_begin(&w, self, "set_expire_interval", RK_NONE, 0) < 0)
        return NULL;
    int rc;
    W_CALL(&w, rc, pc_set_expire_interval(w.h->c, (uint32_t)ms));
    return w_end(&w, rc);
}

static PyObject *w_snapshot(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    pc_snapshot_info si;
    PyThreadState *ts = PyEval_SaveThread();
    int rc = pc_snapshot(h->c, &si);
    PyEval_RestoreThread(ts);
    pyc_handle_put(self, h);
    if (rc)
        return pyc_raise(rc, "snapshot");
    return Py_BuildValue("{s:K,s:K,s:K,s:s}", "keys", (unsigned long long)si.keys, "bytes",
                         (unsigned long long)si.bytes, "took_ms", (unsigned long long)si.took_ms,
                         "path", si.path);
}

/* ---- batches and transactions ---- */

static PyObject *w_begin_mode(pyc_client *self, int mode)
{
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    int rc = mode == PYC_BATCH ? pc_batch_begin(h->c) : pc_txn_begin(h->c);
    if (!rc)
        h->mode = mode;
    pyc_handle_put(self, h);
    if (rc)
        return pyc_raise(rc, mode == PYC_BATCH ? "begin_batch" : "begin_transaction");
    Py_RETURN_NONE;
}

static PyObject *w_begin_batch(pyc_client *self, PyObject *unused)
{
    (void)unused;
    return w_begin_mode(self, PYC_BATCH);
}

static PyObject *w_begin_txn(pyc_client *self, PyObject *unused)
{
    (void)unused;
    return w_begin_mode(self, PYC_TXN);
}

/* The results of a batch or committed transaction, one per op that is not
 * a condition; a failed op's result is its exception (not raised). */
static PyObject *w_results(pyc_client *self, pyc_handle *h, const int *rcs)
{
    pyc_conv cv = {self->decode, NULL};
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < h->nops; i++) {
        pyc_op *op = h->ops[i];
        if (op->kind == RK_COND)
            continue;
        PyObject *o = op_result(op, rcs ? rcs[i] : 0, &cv, op->what);
        if (!o && rcs && rcs[i] && PyErr_Occurred() &&
            PyErr_GivenExceptionMatches(PyErr_Occurred(), PyExc_Exception)) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyErr_NormalizeException(&t, &v, &tb);
            Py_XDECREF(t);
            Py_XDECREF(tb);
            o = v;
        }
        if (!o || PyList_Append(list, o) < 0)
            Py_CLEAR(list);
        Py_XDECREF(o);
    }
    return list;
}

static PyObject *w_exec_batch(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    if (h->mode != PYC_BATCH) {
        pyc_handle_put(self, h);
        return pyc_raise(PC_ESTATE, "exec_batch (no batch is open)");
    }
    int *rcs = PyMem_Calloc(h->nops ? h->nops : 1, sizeof *rcs);
    if (!rcs) {
        pyc_handle_put(self, h);
        return PyErr_NoMemory();
    }
    for (size_t i = 0; i < h->nops; i++)
        rcs[i] = 1; /* no code is positive: marks a result the library did not give */
    PyThreadState *ts = PyEval_SaveThread();
    int rc = pc_batch_exec(h->c, rcs, h->nops);
    PyEval_RestoreThread(ts);
    for (size_t i = 0; i < h->nops; i++)
        if (rcs[i] > 0) /* refused before it ran (PC_EFORK, ...): each write failed so */
            rcs[i] = rc ? rc : PC_EPROTO;
    h->mode = PYC_IDLE;
    PyObject *res = w_results(self, h, rcs);
    PyMem_Free(rcs);
    pyc_ops_clear(h);
    pyc_handle_put(self, h);
    return res;
}

static PyObject *w_commit(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    if (h->mode != PYC_TXN) {
        pyc_handle_put(self, h);
        return pyc_raise(PC_ESTATE, "commit (no transaction is open)");
    }
    long failed = -1;
    PyThreadState *ts = PyEval_SaveThread();
    int rc = pc_txn_commit(h->c, &failed);
    PyEval_RestoreThread(ts);
    h->mode = PYC_IDLE;
    PyObject *res = NULL;
    if (rc) {
        char why[1024];
        PyObject *exc = pyc_error(
            rc, rc == PC_ECROSSSHARD ? last_why(h->c, rc, "commit", why, sizeof why) : "commit");
        PyObject *idx = exc ? PyLong_FromLong(failed) : NULL;
        if (idx && PyObject_SetAttrString(exc, "index", idx) == 0)
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_XDECREF(idx);
        Py_XDECREF(exc);
    } else {
        res = w_results(self, h, NULL);
    }
    pyc_ops_clear(h);
    pyc_handle_put(self, h);
    return res;
}

static PyObject *w_discard(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    pc_discard(h->c);
    h->mode = PYC_IDLE;
    pyc_ops_clear(h);
    pyc_handle_put(self, h);
    Py_RETURN_NONE;
}

static PyObject *w_pending(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    size_t n = pc_pending(h->c);
    pyc_handle_put(self, h);
    return PyLong_FromSize_t(n);
}

static PyObject *w_mode(pyc_client *self, PyObject *unused)
{
    (void)unused;
    pyc_handle *h = pyc_handle_get(self);
    if (!h)
        return NULL;
    int mode = h->mode;
    pyc_handle_put(self, h);
    return PyUnicode_FromString(mode == PYC_BATCH ? "batch"
                                : mode == PYC_TXN ? "transaction"
                                                  : "idle");
}

static PyObject *w_require_absent(pyc_client *self, PyObject *key)
{
    wctx w;
    if (w_begin(&w, self, "require_absent", RK_COND, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    if (!w.queued) {
        w_abort(&w);
        return pyc_raise(PC_ESTATE, "require_absent (only in a transaction)");
    }
    rc = pc_txn_require_absent(w.h->c, kp, kn);
    return w_end(&w, rc);
}

static PyObject *w_require_version(pyc_client *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"key", "version", NULL};
    PyObject *key;
    unsigned long long version;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OK:require_version", kwlist, &key, &version))
        return NULL;
    wctx w;
    if (w_begin(&w, self, "require_version", RK_COND, 0) < 0)
        return NULL;
    const void *kp;
    size_t kn;
    int rc;
    if (w_key(&w, key, &kp, &kn) < 0)
        return w_abort(&w);
    if (!w.queued) {
        w_abort(&w);
        return pyc_raise(PC_ESTATE, "require_version (only in a transaction)");
    }
    rc = pc_txn_require_version(w.h->c, kp, kn, version);
    return w_end(&w, rc);
}

PyMethodDef pyc_client_write_methods[] = {
    {"set", (PyCFunction)(void (*)(void))w_set, METH_VARARGS | METH_KEYWORDS,
     "set(key, value, ttl=None, *, nx=False, xx=False, keepttl=False, type=None)\n--\n\nStore "
     "value at key, replacing what it held: str/bytes as a String, int/float as a\nNumeric, "
     "list/tuple as a List, collections.deque as a Queue, dict as a Map, set as a\nSet (type= "
     "names one for any iterable).  ttl in seconds; nx: only if absent; xx: only\nif present (then "
     "False when the condition fails).  An empty collection deletes key."},
    {"mset", (PyCFunction)(void (*)(void))w_mset, METH_VARARGS | METH_KEYWORDS,
     "mset(mapping)\n--\n\nStore several Strings/Numerics (no TTL)."},
    {"delete", (PyCFunction)(void (*)(void))w_delete, METH_VARARGS | METH_KEYWORDS,
     "delete(key)\n--\n\nDelete a key of any type: 1 if it existed, else 0."},
    {"expire", (PyCFunction)(void (*)(void))w_expire, METH_VARARGS | METH_KEYWORDS,
     "expire(key, ttl)\n--\n\nGive key a TTL in seconds: True, or False when it is missing."},
    {"persist", (PyCFunction)(void (*)(void))w_persist, METH_VARARGS | METH_KEYWORDS,
     "persist(key)\n--\n\nRemove key's TTL: True if it had one."},
    {"getset", (PyCFunction)(void (*)(void))w_getset, METH_VARARGS | METH_KEYWORDS,
     "getset(key, value)\n--\n\nStore a String/Numeric and return what key held (or None)."},
    {"append", (PyCFunction)(void (*)(void))w_append, METH_VARARGS | METH_KEYWORDS,
     "append(key, data)\n--\n\nAppend to a String; its new length."},
    {"setrange", (PyCFunction)(void (*)(void))w_setrange, METH_VARARGS | METH_KEYWORDS,
     "setrange(key, offset, data)\n--\n\nOverwrite a String from offset; its new length."},
    {"incr", (PyCFunction)(void (*)(void))w_incr, METH_VARARGS | METH_KEYWORDS,
     "incr(key, by=1)\n--\n\nAdd to an integer Numeric (missing: 0)."},
    {"incrbyfloat", (PyCFunction)(void (*)(void))w_incrbyfloat, METH_VARARGS | METH_KEYWORDS,
     "incrbyfloat(key, by)\n--\n\nAdd to a Numeric as a float (missing: 0)."},
    {"lpush", (PyCFunction)(void (*)(void))w_lpush, METH_VARARGS | METH_KEYWORDS,
     "lpush(key, *values)\n--\n\nPush at the head of a List (each in turn); its length."},
    {"rpush", (PyCFunction)(void (*)(void))w_rpush, METH_VARARGS | METH_KEYWORDS,
     "rpush(key, *values)\n--\n\nPush at the tail of a List; its length."},
    {"lpop", (PyCFunction)(void (*)(void))w_lpop, METH_VARARGS | METH_KEYWORDS,
     "lpop(key, count=None)\n--\n\nPop from a List's head: one element or None; with\ncount, a "
     "list of up to count."},
    {"rpop", (PyCFunction)(void (*)(void))w_rpop, METH_VARARGS | METH_KEYWORDS,
     "rpop(key, count=None)\n--\n\nPop from a List's tail, as lpop."},
    {"lset", (PyCFunction)(void (*)(void))w_lset, METH_VARARGS | METH_KEYWORDS,
     "lset(key, index, value)\n--\n\nReplace the List element at index."},
    {"ltrim", (PyCFunction)(void (*)(void))w_ltrim, METH_VARARGS | METH_KEYWORDS,
     "ltrim(key, start, stop)\n--\n\nKeep only elements start..stop."},
    {"lrem", (PyCFunction)(void (*)(void))w_lrem, METH_VARARGS | METH_KEYWORDS,
     "lrem(key, value, count=0)\n--\n\nRemove elements equal to value (count > 0: the first\ncount "
     "from the head; < 0: from the tail; 0: all); how many went."},
    {"qpush", (PyCFunction)(void (*)(void))w_qpush, METH_VARARGS | METH_KEYWORDS,
     "qpush(key, *values)\n--\n\nPush at the back of a Queue; its length."},
    {"qpop", (PyCFunction)(void (*)(void))w_qpop, METH_VARARGS | METH_KEYWORDS,
     "qpop(key, count=None)\n--\n\nPop from a Queue's front, as lpop."},
    {"qpop_wait", (PyCFunction)(void (*)(void))w_qpop_wait, METH_VARARGS | METH_KEYWORDS,
     "qpop_wait(key, timeout, count=None)\n--\n\nPop from a Queue's front, waiting up to\ntimeout "
     "seconds for an element (the GIL is released meanwhile); None (or []) when\nnothing came."},
    {"hset", (PyCFunction)(void (*)(void))w_hset, METH_VARARGS | METH_KEYWORDS,
     "hset(key, field, value) or hset(key, mapping)\n--\n\nSet Map fields; how many are new."},
    {"hdel", (PyCFunction)(void (*)(void))w_hdel, METH_VARARGS | METH_KEYWORDS,
     "hdel(key, *fields)\n--\n\nDelete Map fields; how many existed."},
    {"hincrby", (PyCFunction)(void (*)(void))w_hincrby, METH_VARARGS | METH_KEYWORDS,
     "hincrby(key, field, by=1)\n--\n\nAdd to an integer field."},
    {"hincrbyfloat", (PyCFunction)(void (*)(void))w_hincrbyfloat, METH_VARARGS | METH_KEYWORDS,
     "hincrbyfloat(key, field, by)\n--\n\nAdd to a numeric field as a float."},
    {"sadd", (PyCFunction)(void (*)(void))w_sadd, METH_VARARGS | METH_KEYWORDS,
     "sadd(key, *members)\n--\n\nAdd Set members; how many are new."},
    {"srem", (PyCFunction)(void (*)(void))w_srem, METH_VARARGS | METH_KEYWORDS,
     "srem(key, *members)\n--\n\nRemove Set members; how many were there."},
    {"spop", (PyCFunction)(void (*)(void))w_spop, METH_VARARGS | METH_KEYWORDS,
     "spop(key, count=None)\n--\n\nRemove random Set members, as lpop."},
    {"flush", (PyCFunction)(void (*)(void))w_flush, METH_NOARGS,
     "flush()\n--\n\nEmpty the store: every key goes."},
    {"purge_expired", (PyCFunction)(void (*)(void))w_purge_expired, METH_NOARGS,
     "purge_expired()\n--\n\nRemove every expired key now; how many went."},
    {"set_expire_interval", (PyCFunction)(void (*)(void))w_set_expire_interval, METH_O,
     "set_expire_interval(seconds, /)\n--\n\nDaemon mode: how often its TTL worker runs (0 stops "
     "it)."},
    {"snapshot", (PyCFunction)(void (*)(void))w_snapshot, METH_NOARGS,
     "snapshot()\n--\n\nDaemon mode: write a SQLite snapshot now and wait for it; a dict."},
    {"begin_batch", (PyCFunction)(void (*)(void))w_begin_batch, METH_NOARGS,
     "begin_batch()\n--\n\nQueue this thread's writes until exec_batch() (see Client.batch)."},
    {"exec_batch", (PyCFunction)(void (*)(void))w_exec_batch, METH_NOARGS,
     "exec_batch()\n--\n\nRun the queued writes; their results, a failed one's as its\nexception "
     "(not raised)."},
    {"begin_transaction", (PyCFunction)(void (*)(void))w_begin_txn, METH_NOARGS,
     "begin_transaction()\n--\n\nQueue this thread's writes until commit(): all or nothing."},
    {"commit", (PyCFunction)(void (*)(void))w_commit, METH_NOARGS,
     "commit()\n--\n\nApply the transaction; its results.  On failure nothing applied and\nthe "
     "error is raised (its index says which write or condition failed)."},
    {"discard", (PyCFunction)(void (*)(void))w_discard, METH_NOARGS,
     "discard()\n--\n\nDrop a queued batch or transaction."},
    {"pending", (PyCFunction)(void (*)(void))w_pending, METH_NOARGS,
     "pending()\n--\n\nWrites queued in this thread's batch or transaction."},
    {"mode", (PyCFunction)(void (*)(void))w_mode, METH_NOARGS,
     "mode()\n--\n\n'idle', 'batch' or 'transaction' (this thread)."},
    {"require_absent", (PyCFunction)(void (*)(void))w_require_absent, METH_O,
     "require_absent(key, /)\n--\n\nTransaction condition: commit only if key is absent then."},
    {"require_version", (PyCFunction)(void (*)(void))w_require_version,
     METH_VARARGS | METH_KEYWORDS,
     "require_version(key, version)\n--\n\nTransaction condition: commit only if key's\nversion is "
     "still version."},
    {NULL, NULL, 0, NULL},
};
