/*
 * Entry points of the Python guest. The host talks to the interpreter only through these
 * exports; everything above "bytes in, bytes out" lives in the _sandbox module, where it is
 * easier to read and to change.
 */
#define PY_SSIZE_T_CLEAN
/* The interrupt slots point into interpreter internals that only core code may see. */
#define Py_BUILD_CORE
#include <Python.h>
#include "internal/pycore_interp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SF_EXPORT(name) __attribute__((export_name(#name)))

/*
 * Read by the host: to stop runaway code it stores timeout_exc_ptr at async_exc_addr, then 1
 * at eval_breaker_addr, and the eval loop raises TimeoutError at its next check.
 */
struct interrupt_slots {
    uint32_t eval_breaker_addr;
    uint32_t async_exc_addr;
    uint32_t timeout_exc_ptr;
};

enum init_state { NOT_STARTED, READY, FAILED };

static enum init_state init_state = NOT_STARTED;
static struct interrupt_slots slots;
static PyObject *dispatch_fn;
static PyObject *failure_fn;
static PyObject *last_result;

static void write_stderr(const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(2, text, len);
        if (n <= 0) {
            return;
        }
        text += n;
        len -= (size_t)n;
    }
}

static void flush_stream(const char *name)
{
    PyObject *stream = PySys_GetObject(name);
    if (stream == NULL || stream == Py_None) {
        return;
    }
    PyObject *res = PyObject_CallMethod(stream, "flush", NULL);
    if (res == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(res);
}

static void flush_std_streams(void)
{
    flush_stream("stdout");
    flush_stream("stderr");
}

/* PyErr_Print would end the process on SystemExit; displaying the error never does. */
static void report_python_error(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    PyErr_Display(type, value, tb);
    PyErr_Clear();
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    flush_std_streams();
}

static int start_interpreter(void)
{
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    /* The guest sees no host paths: no site-packages, no user site, no environment. */
    config.site_import = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    config.buffered_stdio = 0;
    config.module_search_paths_set = 1;

    wchar_t *argv[] = {L""};
    PyStatus status = PyConfig_SetArgv(&config, 1, argv);
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(&config, &config.home, L"/usr/local");
    }
    if (!PyStatus_Exception(status)) {
        status = PyWideStringList_Append(&config.module_search_paths,
                                         L"/usr/local/lib/python311.zip");
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(&config, &config.stdio_encoding, L"utf-8");
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(&config, &config.stdio_errors, L"backslashreplace");
    }
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);

    if (PyStatus_Exception(status)) {
        write_stderr("python guest: interpreter start failed: ");
        if (status.func != NULL) {
            write_stderr(status.func);
            write_stderr(": ");
        }
        write_stderr(status.err_msg != NULL ? status.err_msg : "unknown error");
        write_stderr("\n");
        return -1;
    }
    return 0;
}

static void compute_interrupt_slots(void)
{
    PyThreadState *tstate = PyThreadState_Get();
    PyObject *timeout = PyExc_TimeoutError;
    /* Each delivered timeout costs the type one reference; this many can never run out. */
    Py_SET_REFCNT(timeout, Py_REFCNT(timeout) + ((Py_ssize_t)1 << 28));
    slots.eval_breaker_addr = (uint32_t)(uintptr_t)&tstate->interp->ceval.eval_breaker;
    slots.async_exc_addr = (uint32_t)(uintptr_t)&tstate->async_exc;
    slots.timeout_exc_ptr = (uint32_t)(uintptr_t)timeout;
}

static int load_runtime_module(void)
{
    PyObject *module = PyImport_ImportModule("_sandbox");
    if (module == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(module, "initialize", NULL);
    if (res != NULL) {
        dispatch_fn = PyObject_GetAttrString(module, "dispatch");
    }
    if (dispatch_fn != NULL) {
        failure_fn = PyObject_GetAttrString(module, "failure");
    }
    Py_XDECREF(res);
    Py_DECREF(module);
    return failure_fn != NULL ? 0 : -1;
}

SF_EXPORT(sf_alloc)
void *sf_alloc(int32_t size)
{
    return malloc(size > 0 ? (size_t)size : 1);
}

SF_EXPORT(sf_free)
void sf_free(void *ptr)
{
    free(ptr);
}

SF_EXPORT(sf_init)
int32_t sf_init(void)
{
    if (init_state != NOT_STARTED) {
        return init_state == READY ? 0 : 1;
    }
    init_state = FAILED;
    if (start_interpreter() != 0) {
        return 1;
    }
    compute_interrupt_slots();
    if (load_runtime_module() != 0) {
        report_python_error();
        return 1;
    }
    flush_std_streams();
    init_state = READY;
    return 0;
}

/*
 * Asks _sandbox to turn an exception that escaped dispatch into a response. It does so for
 * conditions caused from outside, such as a timeout landing between user code and the reply;
 * anything else is a fault in _sandbox itself and is left pending for the caller to report.
 */
static PyObject *response_for_escaped_error(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    PyObject *res = PyObject_CallOneArg(failure_fn, value != NULL ? value : Py_None);
    if (res != NULL && !PyBytes_Check(res)) {
        Py_CLEAR(res);
    }
    if (res == NULL) {
        PyErr_Clear();
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return res;
}

SF_EXPORT(sf_call)
int32_t sf_call(int32_t op, const char *in_ptr, int32_t in_len)
{
    Py_CLEAR(last_result);
    if (init_state != READY) {
        write_stderr("python guest: sf_call before a successful sf_init\n");
        return 2;
    }

    PyObject *data = PyBytes_FromStringAndSize(in_ptr, in_len > 0 ? in_len : 0);
    PyObject *res = NULL;
    if (data != NULL) {
        res = PyObject_CallFunction(dispatch_fn, "iO", (int)op, data);
        Py_DECREF(data);
    }
    if (res != NULL && !PyBytes_Check(res)) {
        Py_CLEAR(res);
        PyErr_SetString(PyExc_TypeError, "_sandbox.dispatch must return bytes");
    }
    if (res == NULL) {
        res = response_for_escaped_error();
    }

    int32_t rc = 0;
    if (res == NULL) {
        report_python_error();
        rc = 1;
    }
    last_result = res;
    flush_std_streams();
    return rc;
}

SF_EXPORT(sf_result_ptr)
int32_t sf_result_ptr(void)
{
    return last_result != NULL ? (int32_t)(uintptr_t)PyBytes_AS_STRING(last_result) : 0;
}

SF_EXPORT(sf_result_len)
int32_t sf_result_len(void)
{
    return last_result != NULL ? (int32_t)PyBytes_GET_SIZE(last_result) : 0;
}

SF_EXPORT(sf_interrupt_slots)
int32_t sf_interrupt_slots(void)
{
    return (int32_t)(uintptr_t)&slots;
}
