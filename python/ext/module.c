/*
 * module.c - the module pycache._pycache: its types, the mapping of PC_E*
 * codes to the exception classes of pycache.errors, and fork detection.
 */
#include "pyc.h"

#include <pthread.h>
#include <stdarg.h>

PyObject *pyc_deque;
unsigned pyc_fork_gen;

static PyObject *errors_mod;  /* pycache.errors */
static PyObject *errors_make; /* pycache.errors._from_code(code, name, message) */

/* The child of a fork: every Client made before it refuses to work. */
static void module_atfork_child(void)
{
    pyc_fork_gen++;
}

PyObject *pyc_error(int rc, const char *what)
{
    return PyObject_CallFunction(errors_make, "iss", rc, pc_err_name(rc), what ? what : "");
}

PyObject *pyc_raise(int rc, const char *what)
{
    PyObject *exc = pyc_error(rc, what);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

PyObject *pyc_raise_named(const char *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (!msg)
        return NULL;
    PyObject *type = PyObject_GetAttrString(errors_mod, cls);
    if (type) {
        PyErr_SetObject(type, msg);
        Py_DECREF(type);
    }
    Py_DECREF(msg);
    return NULL;
}

/* pc_strerror and pc_err_name, for pycache.errors. */
static PyObject *module_strerror(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long rc = PyLong_AsLong(arg);
    if (rc == -1 && PyErr_Occurred())
        return NULL;
    return Py_BuildValue("(ss)", pc_err_name((int)rc), pc_strerror((int)rc));
}

static PyMethodDef module_methods[] = {
    {"strerror", module_strerror, METH_O,
     "strerror(code) -> (name, message): pc_err_name and pc_strerror of a PC_E* code."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "pycache._pycache",
    "The C extension of pycache: pycache._pycache.Client over libpycache-client.\n"
    "Use it through the pycache package (pycache.Client).",
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static int module_join_methods(void)
{
    PyMethodDef *parts[] = {pyc_client_own_methods, pyc_client_read_methods,
                            pyc_client_write_methods};
    size_t n = 0;
    for (size_t p = 0; p < 3; p++)
        for (PyMethodDef *m = parts[p]; m->ml_name; m++)
            n++;
    /* Lives as long as the process: a type's method table is never freed. */
    PyMethodDef *all = PyMem_RawCalloc(n + 1, sizeof *all);
    if (!all) {
        PyErr_NoMemory();
        return -1;
    }
    n = 0;
    for (size_t p = 0; p < 3; p++)
        for (PyMethodDef *m = parts[p]; m->ml_name; m++)
            all[n++] = *m;
    pyc_client_type.tp_methods = all;
    return 0;
}

static int module_add_int(PyObject *m, const char *name, long long v)
{
    PyObject *o = PyLong_FromLongLong(v);
    if (!o || PyModule_AddObject(m, name, o) < 0) {
        Py_XDECREF(o);
        return -1;
    }
    return 0;
}

/* LIBRARY_VERSION: the version of pycache.h this was built with. */
static int module_add_version(PyObject *m)
{
    PyObject *v =
        PyUnicode_FromFormat("%d.%d.%d", PC_VERSION_MAJOR, PC_VERSION_MINOR, PC_VERSION_PATCH);
    if (!v || PyModule_AddObject(m, "LIBRARY_VERSION", v) < 0) {
        Py_XDECREF(v);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__pycache(void);
PyMODINIT_FUNC PyInit__pycache(void)
{
    static bool atfork_done;
    if (!atfork_done) {
        if (pthread_atfork(NULL, NULL, module_atfork_child)) {
            PyErr_SetString(PyExc_OSError, "pthread_atfork failed");
            return NULL;
        }
        atfork_done = true;
    }
    PyObject *coll = PyImport_ImportModule("collections");
    if (!coll)
        return NULL;
    pyc_deque = PyObject_GetAttrString(coll, "deque");
    Py_DECREF(coll);
    if (!pyc_deque)
        return NULL;
    errors_mod = PyImport_ImportModule("pycache.errors");
    if (!errors_mod)
        return NULL;
    errors_make = PyObject_GetAttrString(errors_mod, "_from_code");
    if (!errors_make)
        return NULL;
    if (module_join_methods() < 0 || PyType_Ready(&pyc_client_type) < 0 ||
        PyType_Ready(&pyc_read_type) < 0 || PyType_Ready(&pyc_span_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Py_INCREF(&pyc_client_type);
    if (PyModule_AddObject(m, "Client", (PyObject *)&pyc_client_type) < 0) {
        Py_DECREF(&pyc_client_type);
        goto fail;
    }
    Py_INCREF(&pyc_read_type);
    if (PyModule_AddObject(m, "Read", (PyObject *)&pyc_read_type) < 0) {
        Py_DECREF(&pyc_read_type);
        goto fail;
    }
    if (module_add_int(m, "KEY_MAX", PC_KEY_MAX) || module_add_int(m, "TXN_MAX", PC_TXN_MAX) ||
        module_add_int(m, "TTL_MAX_MS", PC_TTL_MAX_MS) ||
        module_add_int(m, "TIMEOUT_DEFAULT_MS", PC_TIMEOUT_DEFAULT_MS) || module_add_version(m) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
