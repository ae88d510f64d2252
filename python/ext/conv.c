/*
 * conv.c - Python values to pc_val and back.
 *
 * In: str is stored as its UTF-8 bytes (lone surrogates, which stand for
 * undecodable bytes, turn back into those bytes: "surrogateescape"), bytes
 * as they are, other bytes-like objects as a copy (a bytearray may change
 * while the GIL is released).  Strings and bytes point into their objects,
 * which the caller's arguments or the keep list hold until the call ends.
 *
 * Out: byte strings become str (UTF-8, surrogateescape, so any bytes come
 * back and go in again unchanged), bytes, or memoryviews (read.c).
 */
#include "pyc.h"

#include <math.h>

void pyc_keep_clear(pyc_keep *k)
{
    Py_CLEAR(k->list);
}

/* Keep o (a new reference, stolen) alive until pyc_keep_clear.  0 or -1. */
static int conv_keep(pyc_keep *k, PyObject *o)
{
    if (!o)
        return -1;
    if (!k->list && !(k->list = PyList_New(0))) {
        Py_DECREF(o);
        return -1;
    }
    int rc = PyList_Append(k->list, o);
    Py_DECREF(o);
    return rc;
}

/* Bytes of a str, bytes or bytes-like object; -2 (nothing raised) when o is
 * none of those. */
static int conv_bytes_of(PyObject *o, const void **p, size_t *n, pyc_keep *k)
{
    if (PyUnicode_Check(o)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(o, &len);
        if (!s) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
                return -1;
            PyErr_Clear();
            PyObject *b = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
            if (!b)
                return -1;
            *p = PyBytes_AS_STRING(b);
            *n = (size_t)PyBytes_GET_SIZE(b);
            return conv_keep(k, b);
        }
        *p = s;
        *n = (size_t)len;
        return 0;
    }
    if (PyBytes_Check(o)) {
        *p = PyBytes_AS_STRING(o);
        *n = (size_t)PyBytes_GET_SIZE(o);
        return 0;
    }
    if (PyObject_CheckBuffer(o)) {
        PyObject *b = PyBytes_FromObject(o);
        if (!b)
            return -1;
        *p = PyBytes_AS_STRING(b);
        *n = (size_t)PyBytes_GET_SIZE(b);
        return conv_keep(k, b);
    }
    return -2;
}

int pyc_key(PyObject *o, const void **p, size_t *n, pyc_keep *k)
{
    int rc = conv_bytes_of(o, p, n, k);
    if (rc == -2) {
        PyErr_Format(PyExc_TypeError, "a key must be str or bytes, not %.100s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return rc;
}

int pyc_bytes(PyObject *o, const void **p, size_t *n, pyc_keep *k, const char *what)
{
    int rc = conv_bytes_of(o, p, n, k);
    if (rc == -2) {
        PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s", what,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return rc;
}

static bool conv_is_container(PyObject *o)
{
    return PyDict_Check(o) || PyList_Check(o) || PyTuple_Check(o) || PyAnySet_Check(o) ||
           PyObject_IsInstance(o, pyc_deque) == 1;
}

int pyc_val(PyObject *o, pc_val *v, pyc_keep *k, int as)
{
    const void *p;
    size_t n;
    int rc = conv_bytes_of(o, &p, &n, k);
    if (rc != -2) {
        if (rc == 0)
            *v = pc_mem(p, n);
        return rc;
    }
    if (PyBool_Check(o)) {
        if (as != PYC_ELEMENT) {
            PyErr_SetString(PyExc_TypeError, "a bool cannot be stored as a String or Numeric "
                                             "(only as an element of a collection)");
            return -1;
        }
        *v = pc_bool(o == Py_True);
        return 0;
    }
    if (PyLong_Check(o)) {
        int over = 0;
        long long i = PyLong_AsLongLongAndOverflow(o, &over);
        if (over) {
            PyErr_SetString(PyExc_OverflowError, "int does not fit the store's 64-bit integers");
            return -1;
        }
        if (i == -1 && PyErr_Occurred())
            return -1;
        *v = pc_int(i);
        return 0;
    }
    if (PyFloat_Check(o)) {
        *v = pc_dbl(PyFloat_AS_DOUBLE(o));
        return 0;
    }
    if (o == Py_None && as == PYC_ELEMENT) {
        *v = pc_nil();
        return 0;
    }
    if (as == PYC_ELEMENT && conv_is_container(o)) {
        pyc_raise_named("UnsupportedValueError",
                        "cannot store a %.100s inside a collection: elements are str, bytes, "
                        "int, float, bool or None (nested values are not supported)",
                        Py_TYPE(o)->tp_name);
        return -1;
    }
    pyc_raise_named("UnsupportedValueError", "cannot store a value of type %.100s%s",
                    Py_TYPE(o)->tp_name,
                    as == PYC_ELEMENT ? "" : " as a String or Numeric (str, bytes, int or float)");
    return -1;
}

int pyc_vals(PyObject *seq, pc_val **items, size_t *n, pyc_keep *k, const char *what)
{
    /* A tuple of our own: the caller's list may change while the GIL is
     * released, and its elements with it. */
    PyObject *t = PySequence_Tuple(seq);
    if (!t) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s must be iterable, not %.100s", what,
                         Py_TYPE(seq)->tp_name);
        }
        return -1;
    }
    if (conv_keep(k, t) < 0)
        return -1;
    size_t len = (size_t)PyTuple_GET_SIZE(t);
    pc_val *v = PyMem_Malloc((len ? len : 1) * sizeof *v);
    if (!v) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (pyc_val(PyTuple_GET_ITEM(t, (Py_ssize_t)i), &v[i], k, PYC_ELEMENT) < 0) {
            PyMem_Free(v);
            return -1;
        }
    *items = v;
    *n = len;
    return 0;
}

int pyc_pairs(PyObject *map, pc_val **items, size_t *n, pyc_keep *k)
{
    PyObject *pairs = PyMapping_Items(map);
    if (!pairs)
        return -1;
    PyObject *t = PySequence_Tuple(pairs);
    Py_DECREF(pairs);
    if (!t || conv_keep(k, t) < 0)
        return -1;
    size_t len = (size_t)PyTuple_GET_SIZE(t);
    pc_val *v = PyMem_Malloc((len ? 2 * len : 1) * sizeof *v);
    if (!v) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        PyObject *kv = PyTuple_GET_ITEM(t, (Py_ssize_t)i);
        const void *p;
        size_t fl;
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) {
            PyErr_SetString(PyExc_TypeError, "a mapping's items must be pairs");
            goto fail;
        }
        if (pyc_bytes(PyTuple_GET_ITEM(kv, 0), &p, &fl, k, "a map's field") < 0 ||
            pyc_val(PyTuple_GET_ITEM(kv, 1), &v[2 * i + 1], k, PYC_ELEMENT) < 0)
            goto fail;
        v[2 * i] = pc_mem(p, fl);
    }
    *items = v;
    *n = 2 * len;
    return 0;
fail:
    PyMem_Free(v);
    return -1;
}

static char conv_empty[1];

PyObject *pyc_out_bytes(const void *p, size_t n, const pyc_conv *cv)
{
    if (!p)
        p = conv_empty;
    if (cv->viewer)
        return pyc_view(cv->viewer, p, n);
    if (n > PY_SSIZE_T_MAX) {
        PyErr_NoMemory();
        return NULL;
    }
    if (cv->decode)
        return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "surrogateescape");
    return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
}

PyObject *pyc_out(const pc_val *v, const pyc_conv *cv)
{
    switch (v->kind) {
    case PC_BYTES:
        return pyc_out_bytes(v->s.ptr, v->s.len, cv);
    case PC_INT:
        return PyLong_FromLongLong(v->i);
    case PC_DOUBLE:
        return PyFloat_FromDouble(v->d);
    case PC_BOOL:
        return PyBool_FromLong(v->b);
    case PC_NIL:
    case PC_NONE:
        Py_RETURN_NONE;
    }
    PyErr_Format(PyExc_SystemError, "pycache: unknown value kind %d", (int)v->kind);
    return NULL;
}

pc_type pyc_coll_type(PyObject *o)
{
    if (PyList_Check(o) || PyTuple_Check(o))
        return PC_T_LIST;
    if (PyDict_Check(o))
        return PC_T_MAP;
    if (PyAnySet_Check(o))
        return PC_T_SET;
    if (PyObject_IsInstance(o, pyc_deque) == 1)
        return PC_T_QUEUE;
    return PC_T_NONE;
}

int pyc_type_arg(PyObject *name, pc_type *t)
{
    static const char *names[] = {"string", "numeric", "list", "map", "set", "queue"};
    if (PyUnicode_Check(name))
        for (int i = 0; i < 6; i++)
            if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0) {
                *t = (pc_type)(PC_T_STRING + i);
                return 0;
            }
    PyErr_Format(PyExc_ValueError,
                 "type must be one of 'string', 'numeric', 'list', 'map', 'set', 'queue', not %R",
                 name);
    return -1;
}

int pyc_ms(PyObject *o, int64_t *ms, bool allow_none, const char *what)
{
    if (o == Py_None && allow_none) {
        *ms = 0;
        return 0;
    }
    if (PyBool_Check(o) || !(PyLong_Check(o) || PyFloat_Check(o))) {
        PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, not %.100s", what,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    double s = PyFloat_AsDouble(o);
    if (s == -1.0 && PyErr_Occurred())
        return -1;
    if (!isfinite(s) || s * 1000.0 > (double)PC_TTL_MAX_MS || s * 1000.0 < -(double)PC_TTL_MAX_MS) {
        PyErr_Format(PyExc_ValueError, "%s is out of range (at most 100 years)", what);
        return -1;
    }
    *ms = (int64_t)llround(s * 1000.0);
    if (*ms == 0 && s > 0)
        *ms = 1; /* a positive time never rounds to "none" */
    return 0;
}
